/* `synfin diff`: differential testing with a referee. The same scenarios play on two
 * targets; where the stacks behave differently, the reference model judges each side, so
 * the report says which one RFC 9293 supports (both, one, or neither).
 *
 * Behaviour is compared step by step as the coverage feed sees it: the state each stack
 * reports after the step and the classes of segments it emitted (SYN-ACK, ACK, RST, data,
 * FIN...). Windows, options and exact timing are not compared: stacks differ there by
 * design. Two runs also differ when their verdicts do (a crash, a divergence at the same
 * step with another rule or field). An entry point: this file may print.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli_priv.h"
#include "fuzz_priv.h"
#include "profile_file.h"
#include "report.h"

static const char usage_diff[] =
    "usage: synfin diff --target A --target B FILE|DIR... [options]\n"
    "       synfin diff --target A --target B --fuzz N [--seed S] [--out DIR] [options]\n"
    "\n"
    "Plays the same scenarios on targets A and B and reports every scenario where the two\n"
    "stacks behave differently: the first step where the state they report or the kinds\n"
    "of segment they emit differ (windows and options are not compared), or where their\n"
    "verdicts differ. Each side is judged by the reference model under its own profile,\n"
    "so each difference says which side RFC 9293 supports: A, B, both (the RFC allows\n"
    "either response) or neither.\n"
    "\n"
    "  -t, --target T     twice: the two targets (any 'synfin targets' spec, exec:CMD too)\n"
    "  -p, --profile P    judge both sides by P (a name or a profile file) instead of\n"
    "                     each target's own profile\n"
    "      --fuzz N       N scenarios made by mutating the seed corpus (corpus/seeds, or\n"
    "                     the FILE|DIR given) instead of the scenarios themselves\n"
    "      --seed S       the first mutation's seed (default 1): a run is repeatable\n"
    "      --out DIR      write each differing scenario to DIR/diff-NNNN.scn\n"
    "      --json F       one JSON record per differing scenario to F\n"
    "      --max-wait MS  with --fuzz and a real-time target: the longest wait (250)\n"
    "  -q, --quiet        one line per difference, no step detail\n"
    "\n"
    "Exit: 0 no difference, 1 differences, 2 bad input or environment.\n";

#define STEPS_MAX (SFH_MAX_EVENTS + 2)

/* What one side did at each judged step; in shared memory, so that a run isolated in a
 * child (an in-process stack that may crash) still leaves it behind. */
struct side_log {
	uint32_t n;
	struct {
		enum sfo_state after;
		uint32_t resp;
	} step[STEPS_MAX];
};

struct side {
	const char *spec;
	struct sfh_target *t;
	const struct sfo_profile *prof;
	struct side_log *log; /* MAP_SHARED */
	struct sfh_result res;
	int rc;
};

static void log_step(void *ctx, const struct sfh_cover *c)
{
	struct side_log *l = ctx;
	if (l->n < STEPS_MAX) {
		l->step[l->n].after = c->after;
		l->step[l->n].resp = c->resp_mask;
	}
	l->n++;
}

static int play(struct sfh_runner *r, struct side *sd, const struct sfh_scenario *s,
		uint32_t case_no)
{
	struct sfh_run_opts o = {.profile = sd->prof, .case_no = case_no, .brief = 0};
	o.cover = log_step;
	o.cover_ctx = sd->log;
	sd->log->n = 0;
	if (sd->t->ops->caps & SFH_CAP_INPROC)
		sd->rc = sfh_run_isolated(r, sd->t, s, &o, 60, &sd->res);
	else
		sd->rc = sfh_run(r, sd->t, s, &o, &sd->res);
	if (sd->log->n > STEPS_MAX)
		sd->log->n = STEPS_MAX;
	return sd->rc;
}

/* The scenario event of judged step k: the OPEN (-1), then the events that are not
 * assertions, in order (the runner judges exactly those). */
static int step_event(const struct sfh_scenario *s, uint32_t k, uint32_t *line)
{
	*line = 0;
	if (k == 0)
		return -1;
	uint32_t seen = 0;
	for (uint32_t i = 0; i < s->nev; i++) {
		if (s->ev[i].type == SFH_EV_OUT || s->ev[i].type == SFH_EV_EXPECT_STATE)
			continue;
		if (++seen == k) {
			*line = s->ev[i].line;
			return (int)i;
		}
	}
	return -1;
}

/* "ESTABLISHED, emitted ack+data" */
static void describe_step(const struct side_log *l, uint32_t k, char *buf, size_t cap)
{
	if (k >= l->n) {
		snprintf(buf, cap, "(run over)");
		return;
	}
	size_t n = (size_t)snprintf(buf, cap, "%s, emitted ", sfo_state_name(l->step[k].after));
	if (!l->step[k].resp) {
		snprintf(buf + n, cap - n, "nothing");
		return;
	}
	for (int c = 0; c < 32 && n < cap; c++)
		if (l->step[k].resp & (1u << c))
			n += (size_t)snprintf(buf + n, cap - n, "%s%s",
					      n && buf[n - 1] != ' ' ? "+" : "",
					      sfo_resp_name((enum sfo_resp)c));
}

/* Does RFC 9293 (with the side's profile's timers and flags) support what it did? The
 * profile's accepted differences do not count: they are the RFC broken knowingly. */
static int supported(const struct side *sd)
{
	return sd->res.verdict.kind == SFO_DIV_OK;
}

static void describe_verdict(const struct side *sd, char *buf, size_t cap)
{
	const struct sfo_verdict *v = &sd->res.verdict;
	char detail[300];
	if (v->kind == SFO_DIV_OK) {
		snprintf(buf, cap, "conforms (profile %s)", sd->prof->name);
		return;
	}
	sfh_verdict_detail(v, detail, sizeof detail);
	const struct sfo_rule_info *ri = sfo_rule(v->rule);
	if (!ri) {
		snprintf(buf, cap, "%s at line %u: %s", sfo_div_kind_name(v->kind),
			 sd->res.div_line, detail);
		return;
	}
	snprintf(buf, cap, "%s %s at line %u: rule %s (RFC 9293 %s%s%s, %s): %s%s%s",
		 v->accepted ? "accepted" : "breaks the RFC:", sfo_div_kind_name(v->kind),
		 sd->res.div_line, ri->id, ri->section, ri->req[0] ? " " : "", ri->req,
		 sfo_severity_name(v->sev), detail, v->accepted ? "; profile's reason: " : "",
		 v->accepted ? v->accepted->reason : "");
}

/* The first judged step where the two differ, or -1 when they behave alike. */
static int first_difference(const struct side *a, const struct side *b)
{
	uint32_t n = a->log->n < b->log->n ? a->log->n : b->log->n;
	for (uint32_t k = 0; k < n; k++)
		if (a->log->step[k].after != b->log->step[k].after ||
		    a->log->step[k].resp != b->log->step[k].resp)
			return (int)k;
	const char *sa = strchr(a->res.signature, '/'), *sb = strchr(b->res.signature, '/');
	int same_verdict = a->res.verdict.kind == b->res.verdict.kind &&
			   (a->res.verdict.kind == SFO_DIV_OK || (sa && sb && strcmp(sa, sb) == 0));
	if (a->log->n == b->log->n && same_verdict)
		return -1;
	/* alike as far as both went: they part where the shorter run stopped */
	return (int)(n ? n - 1 : 0);
}

static const char *referee(const struct side *a, const struct side *b)
{
	int sa = supported(a), sb = supported(b);
	return sa && sb ? "both" : sa ? "A" : sb ? "B" : "neither";
}

struct diff_args {
	const char *spec[2], *profile, *out, *json;
	int nspec, quiet;
	long fuzz;
	unsigned long seed;
	uint32_t max_wait;
	int nfiles;
	char *files[MAX_ARGS];
};

static int parse(int argc, char **argv, struct diff_args *a)
{
	memset(a, 0, sizeof *a);
	a->seed = 1;
	a->max_wait = 250;
	for (int i = 1; i < argc; i++) {
		const char *v;
		char *end;
		if ((v = sff_cli_opt_value(argc, argv, &i, "--target", "-t"))) {
			if (a->nspec == 2) {
				fprintf(stderr, "synfin diff: --target given more than twice\n");
				return -1;
			}
			a->spec[a->nspec++] = v;
		} else if ((v = sff_cli_opt_value(argc, argv, &i, "--profile", "-p"))) {
			a->profile = v;
		} else if ((v = sff_cli_opt_value(argc, argv, &i, "--out", NULL))) {
			a->out = v;
		} else if ((v = sff_cli_opt_value(argc, argv, &i, "--json", NULL))) {
			a->json = v;
		} else if ((v = sff_cli_opt_value(argc, argv, &i, "--fuzz", NULL))) {
			a->fuzz = strtol(v, &end, 10);
			if (*end || a->fuzz < 1 || a->fuzz > 100000000) {
				fprintf(stderr, "synfin diff: --fuzz %s: want 1..100000000\n", v);
				return -1;
			}
		} else if ((v = sff_cli_opt_value(argc, argv, &i, "--seed", NULL))) {
			a->seed = strtoul(v, &end, 10);
			if (*end) {
				fprintf(stderr, "synfin diff: --seed %s: want a number\n", v);
				return -1;
			}
		} else if ((v = sff_cli_opt_value(argc, argv, &i, "--max-wait", NULL))) {
			long ms = strtol(v, &end, 10);
			if (*end || ms < 1 || ms > 600000) {
				fprintf(stderr, "synfin diff: --max-wait %s: want 1..600000\n", v);
				return -1;
			}
			a->max_wait = (uint32_t)ms;
		} else if (sff_cli_is_opt(argv[i], "--quiet", "-q")) {
			a->quiet = 1;
		} else if (sff_cli_is_opt(argv[i], "--help", "-h")) {
			fputs(usage_diff, stdout);
			exit(0);
		} else if (argv[i][0] == '-') {
			fprintf(stderr, "synfin diff: unknown option '%s'\n%s", argv[i],
				usage_diff);
			return -1;
		} else if (a->nfiles < MAX_ARGS) {
			a->files[a->nfiles++] = argv[i];
		}
	}
	if (a->nspec != 2) {
		fprintf(stderr, "synfin diff: give two targets (--target A --target B)\n%s",
			usage_diff);
		return -1;
	}
	if (!a->fuzz && a->nfiles == 0) {
		fprintf(stderr, "synfin diff: no scenarios (FILE|DIR..., or --fuzz N)\n%s",
			usage_diff);
		return -1;
	}
	return 0;
}

struct diff_run {
	struct diff_args *a;
	struct sfh_runner *r;
	struct side side[2];
	FILE *json;
	unsigned ndiff, nrun, nerr, support[4]; /* support: both, A, B, neither */
};

static void json_side(FILE *f, const char *key, const struct side *sd, uint32_t k)
{
	char buf[400];
	fprintf(f, "\"%s\":{\"target\":", key);
	sfh_json_str(f, sd->spec);
	fprintf(f, ",\"profile\":");
	sfh_json_str(f, sd->prof->name);
	describe_step(sd->log, k, buf, sizeof buf);
	fprintf(f, ",\"step\":");
	sfh_json_str(f, buf);
	fprintf(f, ",\"supported\":%s,\"verdict\":", supported(sd) ? "true" : "false");
	sfh_json_str(f, sd->res.verdict.kind == SFO_DIV_OK ? "ok" : sd->res.signature);
	describe_verdict(sd, buf, sizeof buf);
	fprintf(f, ",\"judged\":");
	sfh_json_str(f, buf);
	fputc('}', f);
}

/* Write s to DIR/diff-NNNN.scn (whole or not at all). */
static void save_scenario(const char *dir, unsigned n, const struct sfh_scenario *s, char *path,
			  size_t cap)
{
	static char text[65536];
	char tmp[4200];
	snprintf(path, cap, "%s/diff-%04u.scn", dir, n);
	snprintf(tmp, sizeof tmp, "%s.tmp", path);
	size_t len = sfh_scn_format(s, text, sizeof text);
	FILE *f = fopen(tmp, "w");
	if (!f || len >= sizeof text || fwrite(text, 1, len, f) != len || fclose(f) != 0 ||
	    rename(tmp, path) != 0) {
		fprintf(stderr, "synfin diff: cannot write %s: %s\n", path, strerror(errno));
		unlink(tmp);
		path[0] = '\0';
	}
}

/* Play s on both sides and report a difference. Returns 0, or -1 on a harness error. */
static int one(struct diff_run *d, const char *name, const struct sfh_scenario *s)
{
	struct side *A = &d->side[0], *B = &d->side[1];
	char ba[400], bb[400], path[4200] = "";
	uint32_t case_no = d->nrun++;
	int bad = 0;
	for (int i = 0; i < 2; i++)
		if (play(d->r, &d->side[i], s, case_no) != 0) {
			fprintf(stderr, "synfin diff: %s: %s: %s\n", name, d->side[i].spec,
				d->side[i].res.err);
			bad = 1;
		}
	if (bad) {
		d->nerr++;
		return 0;
	}
	int k = first_difference(A, B);
	if (k < 0)
		return 0;
	d->ndiff++;
	const char *who = referee(A, B);
	d->support[who[0] == 'b' ? 0 : who[0] == 'A' ? 1 : who[0] == 'B' ? 2 : 3]++;
	if (d->a->out)
		save_scenario(d->a->out, d->ndiff, s, path, sizeof path);
	uint32_t line;
	int ev = step_event(s, (uint32_t)k, &line);
	char at[32] = "the OPEN";
	if (ev >= 0 && line)
		snprintf(at, sizeof at, "line %u", line);
	else if (ev >= 0) /* a mutant has no source lines */
		snprintf(at, sizeof at, "event %d", ev + 1);
	char note[160] = "";
	for (int i = 0; i < 2; i++)
		if (d->side[i].res.verdict.accepted)
			snprintf(note + strlen(note), sizeof note - strlen(note),
				 "; %c's departure is accepted by profile %s", 'A' + i,
				 d->side[i].prof->name);
	printf("%s%s%s: differ at %s; RFC 9293 supports %s%s\n", path[0] ? path : name,
	       path[0] ? " from " : "", path[0] ? name : "", at,
	       strcmp(who, "both") == 0 ? "both (it allows either)" : who, note);
	if (!d->a->quiet) {
		for (int i = 0; i < 2; i++) {
			const struct side *sd = &d->side[i];
			describe_step(sd->log, (uint32_t)k, ba, sizeof ba);
			describe_verdict(sd, bb, sizeof bb);
			printf("    %c %s: %s\n      %s\n", 'A' + i, sd->spec, ba, bb);
		}
	}
	if (d->json) {
		fprintf(d->json, "%s{\"file\":", d->ndiff > 1 ? ",\n" : "");
		sfh_json_str(d->json, path[0] ? path : name);
		fprintf(d->json, ",\"from\":");
		sfh_json_str(d->json, name);
		fprintf(d->json, ",\"event\":%d,\"line\":%u,\"supported\":", ev, ev < 0 ? 0 : line);
		sfh_json_str(d->json, who);
		fputc(',', d->json);
		json_side(d->json, "a", A, (uint32_t)k);
		fputc(',', d->json);
		json_side(d->json, "b", B, (uint32_t)k);
		fputc('}', d->json);
	}
	return 0;
}

static int run_files(struct diff_run *d)
{
	struct sfh_filelist fl = {0};
	char err[512];
	if (sfh_collect_scenarios(d->a->nfiles, d->a->files, &fl, err, sizeof err) != 0) {
		fprintf(stderr, "synfin diff: %s\n", err);
		return -1;
	}
	int rc = 0;
	for (size_t i = 0; i < fl.n && rc == 0; i++) {
		struct sfh_scenario s;
		if (sfh_scn_load(fl.paths[i], &s, err, sizeof err) != 0) {
			fprintf(stderr, "%s\n", err);
			rc = -1;
			break;
		}
		/* a scenario one side cannot run (its capabilities) compares nothing */
		if (!sfh_run_supported(d->side[0].t->ops, &s, err, sizeof err) ||
		    !sfh_run_supported(d->side[1].t->ops, &s, err, sizeof err)) {
			if (!d->a->quiet)
				printf("skip %s: %s\n", fl.paths[i], err);
			continue;
		}
		rc = one(d, fl.paths[i], &s);
	}
	sfh_filelist_free(&fl);
	return rc;
}

static int run_fuzz(struct diff_run *d)
{
	struct sfh_filelist fl = {0};
	char err[512], *dflt[1] = {"corpus/seeds"};
	int n = d->a->nfiles ? d->a->nfiles : 1;
	char **dirs = d->a->nfiles ? d->a->files : dflt;
	if (sfh_collect_scenarios(n, dirs, &fl, err, sizeof err) != 0 || fl.n == 0) {
		fprintf(stderr, "synfin diff: %s\n", fl.n ? err : "no seed scenarios");
		sfh_filelist_free(&fl);
		return -1;
	}
	uint8_t(*seed)[SFH_MAX_ENCODED] = calloc(fl.n, sizeof *seed);
	size_t *len = calloc(fl.n, sizeof *len);
	int rc = seed && len ? 0 : -1;
	for (size_t i = 0; rc == 0 && i < fl.n; i++) {
		struct sfh_scenario s;
		if (sfh_scn_load(fl.paths[i], &s, err, sizeof err) != 0) {
			fprintf(stderr, "%s\n", err);
			rc = -1;
			break;
		}
		len[i] = sfh_scn_encode(&s, seed[i], sizeof seed[i]);
	}
	uint32_t caps = d->side[0].t->ops->caps & d->side[1].t->ops->caps;
	for (long i = 0; rc == 0 && i < d->a->fuzz; i++) {
		uint8_t buf[SFH_MAX_ENCODED];
		char name[64];
		unsigned int sd = (unsigned int)(d->a->seed + (unsigned long)i);
		size_t pick = (size_t)(sfh_fnv1a(SFH_FNV1A_INIT, &sd, sizeof sd) % fl.n);
		memcpy(buf, seed[pick], len[pick]);
		size_t m = sff_mutate(buf, len[pick], sizeof buf, sd, NULL);
		struct sfh_scenario s;
		sff_scn_from_input(buf, m, &s);
		/* the caps both share: a role both play; waits a real-time side can afford */
		sff_scn_fit(&s, caps, d->a->max_wait);
		snprintf(name, sizeof name, "mutant %u of %s", sd, fl.paths[pick]);
		rc = one(d, name, &s);
	}
	free(seed);
	free(len);
	sfh_filelist_free(&fl);
	return rc;
}

int sff_cli_diff(int argc, char **argv)
{
	struct diff_args a;
	struct diff_run d = {.a = &a};
	char err[512], json_tmp[4200] = "";
	int rc = EXIT_BAD;
	if (parse(argc, argv, &a) != 0)
		return EXIT_BAD;
	if (a.out && mkdir(a.out, 0777) != 0 && errno != EEXIST) {
		fprintf(stderr, "synfin diff: %s: %s\n", a.out, strerror(errno));
		return EXIT_BAD;
	}
	d.r = sfh_runner_new(err, sizeof err);
	if (!d.r) {
		fprintf(stderr, "synfin diff: %s\n", err);
		return EXIT_BAD;
	}
	for (int i = 0; i < 2; i++) {
		struct side *sd = &d.side[i];
		sd->spec = a.spec[i];
		sd->log = mmap(NULL, sizeof *sd->log, PROT_READ | PROT_WRITE,
			       MAP_SHARED | MAP_ANONYMOUS, -1, 0);
		if (sd->log == MAP_FAILED) {
			sd->log = NULL;
			fprintf(stderr, "synfin diff: mmap: %s\n", strerror(errno));
			goto exit;
		}
		if (sfh_target_open(sd->spec, &sd->t, err, sizeof err) != 0) {
			fprintf(stderr, "synfin diff: %s\n", err);
			goto exit;
		}
		const char *pn = a.profile ? a.profile : sd->t->ops->profile;
		sd->prof = pn ? sfh_profile_find(pn) : sfo_profile_default();
		if (!sd->prof) {
			fprintf(stderr, "synfin diff: %s\n", sfh_profile_error(pn));
			goto exit;
		}
	}
	if (a.json) {
		snprintf(json_tmp, sizeof json_tmp, "%s.tmp%d", a.json, (int)getpid());
		d.json = fopen(json_tmp, "w");
		if (!d.json) {
			fprintf(stderr, "synfin diff: %s: %s\n", a.json, strerror(errno));
			goto exit;
		}
		fputs("[\n", d.json);
	}
	if ((a.fuzz ? run_fuzz(&d) : run_files(&d)) != 0)
		goto exit;
	printf("synfin diff: %u scenarios, %u differ (RFC 9293 supports both in %u, only A "
	       "in %u, only B in %u, neither in %u)%s\n",
	       d.nrun, d.ndiff, d.support[0], d.support[1], d.support[2], d.support[3],
	       d.nerr ? "; some could not run" : "");
	if (d.json) {
		fputs("\n]\n", d.json);
		int bad = fclose(d.json) != 0 || rename(json_tmp, a.json) != 0;
		d.json = NULL;
		if (bad) {
			fprintf(stderr, "synfin diff: cannot write %s\n", a.json);
			goto exit;
		}
	}
	rc = d.nerr ? EXIT_BAD : d.ndiff ? EXIT_FOUND : 0;
exit:
	if (d.json) {
		fclose(d.json);
		unlink(json_tmp);
	}
	for (int i = 0; i < 2; i++) {
		sfh_target_close(d.side[i].t);
		if (d.side[i].log)
			munmap(d.side[i].log, sizeof *d.side[i].log);
	}
	sfh_runner_free(d.r);
	return rc;
}
