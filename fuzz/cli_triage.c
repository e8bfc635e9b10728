/* `synfin triage`, and the root-cause table a campaign prints at its end: labelling
 * known groups from the regression corpus and the baseline, the console table and the
 * summary files. An entry point: this file may print. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli_priv.h"
#include "fuzz_priv.h"
#include "profile_file.h"
#include "safeio.h"

static const char usage_triage[] =
    "usage: synfin triage DIR... [--target T] [--new] [--baseline FILE] [--json] [options]\n"
    "\n"
    "Groups the findings in each DIR (OUT/<sig-hash>/ directories) and libFuzzer's crash\n"
    "files (crash-*, timeout-*, ...) into root-cause groups: findings whose divergence has\n"
    "the same kind, trigger (a segment, an RST, a timer, call-X) and shape of difference\n"
    "(which field, above or below the model's value; which response is missing, extra or\n"
    "unexpected; connection dropped, kept, stayed or moved, in a handshake state or not;\n"
    "a crash's site), whatever state and event led there (docs/report-schema.md). One\n"
    "line per group, most severe first, then largest: the smallest example's difference\n"
    "and directory. Crash files are re-run in a child process on T (default: the target\n"
    "the campaign in DIR used).\n"
    "\n"
    "A signature is known when a scenario of the regression corpus pins it: its\n"
    "'#! expect T divergence RULE KIND' line names the signature's rule and kind, and\n"
    "re-run it shows the same group; the pin's file is named. A baseline file lists\n"
    "accepted findings: one entry per line, a group key (as printed), a signature or a\n"
    "16-digit signature hash; '#' starts a comment. A group is new while one of its\n"
    "signatures is neither known nor accepted.\n"
    "\n"
    "  --new            only the groups that are neither known nor in the baseline\n"
    "  --baseline FILE  accepted groups (see above)\n"
    "  --regress DIR    the regression corpus (default corpus/regress, or under\n"
    "                   $SYNFIN_SRC); --no-known: do not label known groups\n"
    "  --json           the whole triage as JSON (docs/report-schema.md)\n"
    "  --top N          at most N rows\n"
    "  --signatures     one line per signature instead (the old table)\n"
    "  --record         also turn each crash file into a finding directory\n"
    "\n"
    "Exit: 0 nothing new (no findings, or all known or baselined), 1 new findings,\n"
    "2 bad input or environment.\n";

void sff_cli_print_table(FILE *f, const struct sff_triage *tr)
{
	size_t w = strlen("SIGNATURE");
	for (size_t i = 0; i < tr->n; i++)
		if (strlen(tr->g[i].signature) > w)
			w = strlen(tr->g[i].signature);
	fprintf(f, "%-*s  %5s  %-32s %-8s %s\n", (int)w, "SIGNATURE", "COUNT", "RULE", "SEVERITY",
		"EXAMPLE");
	for (size_t i = 0; i < tr->n; i++) {
		const struct sff_group *g = &tr->g[i];
		fprintf(f, "%-*s  %5u  %-32s %-8s %s%s\n", (int)w, g->signature, g->count, g->rule,
			g->severity, g->example, g->flaky ? "  (flaky)" : "");
	}
}

/* ---- root causes: labelling and the table ---- */

/* The regression corpus: given, else corpus/regress here, under $SYNFIN_SRC or
 * installed. */
static const char *sff_cli_regress_dir(const char *given, char *buf, size_t cap)
{
	return given ? given : sff_cli_data_dir("regress", buf, cap);
}

/* The stacks re-run by triage print their own complaints (lwIP's "Assertion ... failed"
 * lines) on standard output from the child processes: not for the console. Returns the
 * saved descriptor for sff_cli_unmute(), or -1. */
int sff_cli_mute_stdout(void)
{
	fflush(stdout);
	int saved = dup(STDOUT_FILENO), null = open("/dev/null", O_WRONLY);
	if (saved >= 0 && null >= 0)
		dup2(null, STDOUT_FILENO);
	if (null >= 0)
		close(null);
	return saved;
}

void sff_cli_unmute(int saved)
{
	if (saved < 0)
		return;
	fflush(stdout);
	dup2(saved, STDOUT_FILENO);
	close(saved);
}

/* Pins from the regression corpus, the baseline, then the root-cause groups. */
int sff_cli_label(struct sff_triage *tr, struct sff_runctx *ctx, const char *target,
		  const struct label_opts *lo, char *err, size_t errlen)
{
	char buf[4200];
	/* nothing to label: the corpus is not re-run */
	const char *reg = lo->no_known || !ctx || !tr->n
			      ? NULL
			      : sff_cli_regress_dir(lo->regress, buf, sizeof buf);
	int saved = reg ? sff_cli_mute_stdout() : -1;
	int pins = reg ? sff_triage_pins(tr, ctx, target, reg, err, errlen) : 0;
	sff_cli_unmute(saved);
	if (pins < 0)
		return -1;
	if (lo->baseline && sff_triage_baseline(tr, lo->baseline, err, errlen) != 0)
		return -1;
	if (sff_triage_causes(tr) != 0) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	return 0;
}

unsigned sff_cli_new_causes(const struct sff_triage *tr)
{
	unsigned n = 0;
	for (size_t i = 0; i < tr->nc; i++)
		n += (unsigned)sff_cause_is_new(&tr->c[i]);
	return n;
}

/* One line per root-cause group: severity, findings, signatures, status, the group key,
 * the smallest example's difference and its directory. At most `top` rows (0: all). */
void sff_cli_print_causes(FILE *f, const struct sff_triage *tr, int only_new, size_t top,
			  const char *more)
{
	unsigned findings = 0, nnew = sff_cli_new_causes(tr);
	size_t shown = 0, hidden = 0;
	for (size_t i = 0; i < tr->n; i++)
		findings += tr->g[i].count;
	fprintf(f, "%u findings, %zu signatures, %zu root-cause groups (%u new):\n", findings,
		tr->n, tr->nc, nnew);
	fprintf(f, "%3s %-6s %5s %4s %-9s %s\n", "#", "SEV", "FINDS", "SIGS", "STATUS",
		"GROUP: DIFFERENCE (smallest example)  EXAMPLE");
	for (size_t i = 0; i < tr->nc; i++) {
		const struct sff_cause *c = &tr->c[i];
		const struct sff_group *g = c->example;
		if (only_new && !sff_cause_is_new(c))
			continue;
		if (top && shown == top) {
			hidden++;
			continue;
		}
		shown++;
		char pin[200] = "";
		if (c->known[0])
			snprintf(pin, sizeof pin, "  pin %s (%u/%u sigs)", c->known, c->known_sigs,
				 c->sigs);
		fprintf(f, "%3zu %-6s %5u %4u %-9s %s: %.*s  %s%s%s%s\n", i + 1, c->severity,
			c->findings, c->sigs,
			c->is_new      ? "NEW"
			: c->baselined ? "baselined"
				       : "known",
			c->key, 90, g->detail[0] ? g->detail : "(no detail)", g->example,
			g->repro[0] ? "  repro " : "", g->repro, pin);
	}
	if (hidden)
		fprintf(f, "... %zu more group(s)%s\n", hidden, more ? more : "");
}

/* OUT/summary.md and OUT/summary.json: the same table, whole. */
int sff_cli_write_summary(const char *out, const struct sff_triage *tr)
{
	char path[4200], err[512];
	struct sfh_io_atomic a;
	FILE *f;
	snprintf(path, sizeof path, "%s/summary.md", out);
	if (!(f = sfh_io_atomic_open(&a, path, 0644, err, sizeof err)))
		return -1;
	sff_triage_markdown(f, tr);
	if (sfh_io_atomic_commit(&a, err, sizeof err) != 0)
		return -1;
	snprintf(path, sizeof path, "%s/summary.json", out);
	if (!(f = sfh_io_atomic_open(&a, path, 0644, err, sizeof err)))
		return -1;
	sff_triage_json(f, tr);
	return sfh_io_atomic_commit(&a, err, sizeof err);
}

struct triage_args {
	const char *target;
	char *dirs[MAX_ARGS];
	int ndirs, record, only_new, json, by_sig, top;
	struct label_opts lo;
};

/* 0, 1 after --help (exit 0), or -1 (exit 2). */
static int parse_triage_args(int argc, char **argv, struct triage_args *a)
{
	memset(a, 0, sizeof *a);
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
			fputs(usage_triage, stdout);
			return 1;
		} else if (sff_cli_is_opt(argv[i], "--target", "-t")) {
			if (!(a->target = sff_cli_opt_value(argc, argv, &i, "--target", "-t")))
				return -1;
		} else if (sff_cli_is_opt(argv[i], "--baseline", NULL)) {
			if (!(a->lo.baseline =
				  sff_cli_opt_value(argc, argv, &i, "--baseline", NULL)))
				return -1;
		} else if (sff_cli_is_opt(argv[i], "--regress", NULL)) {
			if (!(a->lo.regress = sff_cli_opt_value(argc, argv, &i, "--regress", NULL)))
				return -1;
		} else if (sff_cli_is_opt(argv[i], "--top", NULL)) {
			uint64_t num;
			if (sff_cli_opt_num(argc, argv, &i, "--top", 0, 1000000, &num) != 0)
				return -1;
			a->top = (int)num;
		} else if (strcmp(argv[i], "--no-known") == 0) {
			a->lo.no_known = 1;
		} else if (strcmp(argv[i], "--new") == 0) {
			a->only_new = 1;
		} else if (strcmp(argv[i], "--json") == 0) {
			a->json = 1;
		} else if (strcmp(argv[i], "--signatures") == 0) {
			a->by_sig = 1;
		} else if (strcmp(argv[i], "--record") == 0) {
			a->record = 1;
		} else if (argv[i][0] == '-' || a->ndirs >= MAX_ARGS) {
			fprintf(stderr, "synfin triage: unexpected '%s'\n%s", argv[i],
				usage_triage);
			return -1;
		} else {
			a->dirs[a->ndirs++] = argv[i];
		}
	}
	if (a->ndirs == 0) {
		fprintf(stderr, "synfin triage: no directory given\n%s", usage_triage);
		return -1;
	}
	return 0;
}

/* DIR/.target names the target that re-runs the crash files, so it must come from us:
 * a regular file (not a link) owned by our user in a directory of our user that no one
 * else can write. Otherwise it is ignored (with a word why) and --target decides. */
static int campaign_target(const char *dir, char *spec, size_t cap)
{
	char path[4200], err[64];
	struct stat dst, fst;
	size_t len;
	snprintf(path, sizeof path, "%s/.target", dir);
	if (lstat(path, &fst) != 0)
		return -1;
	if (stat(dir, &dst) != 0 || dst.st_uid != geteuid() || (dst.st_mode & 022) ||
	    !S_ISREG(fst.st_mode) || fst.st_uid != geteuid() || (fst.st_mode & 022)) {
		fprintf(stderr,
			"synfin triage: %s: not trusted (not ours, a link, or others may write "
			"it or its directory); pass --target to re-run crash files\n",
			path);
		return -1;
	}
	char *t =
	    (char *)sfh_io_read_all(path, SFH_IO_NOFOLLOW, cap - 1, &len, NULL, err, sizeof err);
	if (!t)
		return -1;
	snprintf(spec, cap, "%s", t);
	spec[strcspn(spec, "\n")] = 0;
	free(t);
	return spec[0] ? 0 : -1;
}

int sff_cli_triage(int argc, char **argv)
{
	char err[512] = "", spec[256];
	int rc = EXIT_BAD;
	struct triage_args ta;
	struct sff_triage tr = {0};
	struct sff_runctx ctx = {.isolate = 1, .timeout_s = 10, .next_case = 0x70000000u};
	int parsed = parse_triage_args(argc, argv, &ta);
	if (parsed != 0)
		return parsed > 0 ? 0 : EXIT_BAD;
	const char *target = ta.target;
	char **dirs = ta.dirs;
	int ndirs = ta.ndirs;
	if (!target && campaign_target(dirs[0], spec, sizeof spec) == 0)
		target = spec; /* the campaign's own, if it left one we can trust */
	if (target) {
		if (sfh_target_open(target, &ctx.target, err, sizeof err) != 0 ||
		    !(ctx.runner = sfh_runner_new(err, sizeof err))) {
			fprintf(stderr, "synfin triage: %s\n", err);
			goto exit;
		}
		if (ctx.target->ops->profile)
			ctx.profile = sfh_profile_find(ctx.target->ops->profile);
		if (!(ctx.target->ops->caps & SFH_CAP_VTIME))
			ctx.max_wait_ms = 250;
	}
	int saved = sff_cli_mute_stdout();
	int scanned = sff_triage_scan(&tr, ndirs, dirs, target ? &ctx : NULL, target, ta.record,
				      err, sizeof err);
	sff_cli_unmute(saved);
	if (scanned != 0 || (sff_triage_sort(&tr), sff_cli_label(&tr, target ? &ctx : NULL, target,
								 &ta.lo, err, sizeof err)) != 0) {
		fprintf(stderr, "synfin triage: %s\n", err);
		goto exit;
	}
	if (ta.json)
		sff_triage_json(stdout, &tr);
	else if (tr.n == 0)
		printf("no findings\n");
	else if (ta.by_sig)
		sff_cli_print_table(stdout, &tr);
	else
		sff_cli_print_causes(stdout, &tr, ta.only_new, (size_t)(ta.top > 0 ? ta.top : 0),
				     ": --top 0 shows all");
	if (tr.unknown && !ta.json)
		printf("%u crash file(s) not re-run: give --target\n", tr.unknown);
	rc = sff_cli_new_causes(&tr) ? EXIT_FOUND : 0;
exit:
	sff_triage_free(&tr);
	sff_runctx_dispose(&ctx);
	sfh_runner_free(ctx.runner);
	sfh_target_close(ctx.target);
	return rc;
}
