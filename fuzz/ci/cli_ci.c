/* `synfin replay`, `synfin ci` and `synfin lifecycle`: the commands a CI job runs. An
 * entry point: this file may print and exit.
 *
 * `synfin ci` is a composition of the other commands in one process tree: replay the
 * regression corpus, fuzz for a time budget (`synfin fuzz` in a child process), triage
 * the findings against the regression pins and the baseline, and write what CI systems
 * read (JUnit, SARIF, the summary, the lifecycle picture) into one directory. */
#include <errno.h>
#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "profile_file.h"
#include "safeio.h"
#include "ci.h"
#include "cli_priv.h"

#ifndef SYNFIN_DATADIR
#define SYNFIN_DATADIR "/usr/local/share/synfin"
#endif

/* ---- where the corpora are ---- */

static int is_dir(const char *p)
{
	struct stat st;
	return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

const char *sff_cli_data_dir(const char *sub, char *buf, size_t cap)
{
	char exe[PATH_MAX];
	const char *src = getenv("SYNFIN_SRC");
	snprintf(buf, cap, "corpus/%s", sub);
	if (is_dir(buf))
		return buf;
	if (src) {
		snprintf(buf, cap, "%s/corpus/%s", src, sub);
		if (is_dir(buf))
			return buf;
	}
	/* an installed synfin: PREFIX/bin/synfin and PREFIX/share/synfin/SUB, wherever
	 * PREFIX is (a .deb, a relocated tree), then the prefix it was built for */
	ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
	if (n > 0) {
		exe[n] = 0;
		char *slash = strrchr(exe, '/');
		if (slash) {
			*slash = 0;
			snprintf(buf, cap, "%s/../share/synfin/%s", exe, sub);
			if (is_dir(buf))
				return buf;
		}
	}
	snprintf(buf, cap, "%s/%s", SYNFIN_DATADIR, sub);
	return is_dir(buf) ? buf : NULL;
}

/* ---- replay ---- */

static const char usage_replay[] =
    "usage: synfin replay DIR|FILE... --target T [--profile P] [--junit F] [-v] [--fork]\n"
    "\n"
    "Replays every *.scn under the given directories and compares each verdict with the\n"
    "scenario's expectation for T, from lines such as\n"
    "  #! expect lwip divergence RULE-ID KIND\n"
    "  #! expect lwip divergence stack crash tcp_out.c:486    (a crash at that site)\n"
    "  #! expect * ok\n"
    "(no line: ok expected). Prints one line per scenario, then 'N passed, N failed'.\n"
    "\n"
    "  -t, --target T   the target (as 'synfin targets' lists them)\n"
    "  -p, --profile P  judge by profile P (default: the target's own)\n"
    "      --fork       every case of an in-process stack in a child process (by default\n"
    "                   lwIP's run in this process, a crash confirmed in a child)\n"
    "      --junit F    also write JUnit XML: one <testsuite> per corpus directory with\n"
    "                   counts and times, a <failure> naming expected and observed rule,\n"
    "                   kind and detail, and the trace in <system-out>\n"
    "  -v, --verbose    print the trace of every scenario\n"
    "\n"
    "Exit: 0 every expectation met, 1 a mismatch, 2 bad input or environment, or a\n"
    "scenario that could not run, or no scenario at all (an empty corpus is an error).\n";

struct replay_print {
	int verbose;
};

static void print_case(void *ctx, const struct sfc_case *c)
{
	const struct replay_print *p = ctx;
	char line[8192];
	if (p->verbose && c->trace && c->trace[0])
		sfh_io_term_puts(stdout, c->trace);
	/* file names and texts come from the corpus: escaped for the terminal */
	if (c->status == SFC_ERROR)
		snprintf(line, sizeof line, "ERR  %s: %s", c->path, c->message);
	else if (c->status == SFC_FAIL)
		snprintf(line, sizeof line, "FAIL %s: %s", c->path, c->message);
	else if (c->status == SFC_SKIP)
		snprintf(line, sizeof line, "skip %s: %s", c->path, c->message);
	else
		snprintf(line, sizeof line, "ok   %s: %s", c->path,
			 c->res.verdict.kind == SFO_DIV_OK || c->res.verdict.accepted
			     ? "conformant"
			     : c->res.signature);
	sfh_io_term_puts(stdout, line);
	putchar('\n');
	fflush(stdout);
}

/* Write through a temporary file renamed into place: nothing half-written. */
typedef int (*writer_fn)(FILE *f, void *ctx);
static int write_atomic(const char *path, writer_fn fn, void *ctx)
{
	/* created beside path without following links, renamed into place (safeio.h) */
	struct sfh_io_atomic a = {.dirfd = -1};
	char err[512];
	FILE *f = sfh_io_atomic_open(&a, path, 0644, err, sizeof err);
	if (!f) {
		fprintf(stderr, "synfin: %s\n", err);
		return -1;
	}
	errno = 0;
	if (fn(f, ctx) != 0 || fflush(f) != 0 || ferror(f)) {
		int e = errno ? errno : EIO;
		sfh_io_atomic_abort(&a);
		fprintf(stderr, "synfin: %s: %s\n", path, strerror(e));
		return -1;
	}
	if (sfh_io_atomic_commit(&a, err, sizeof err) != 0) {
		fprintf(stderr, "synfin: %s\n", err);
		sfh_io_atomic_abort(&a);
		return -1;
	}
	return 0;
}

struct junit_ctx {
	const char *target;
	const struct sfc_replay *rp;
	const struct sfc_extra_suite *extra;
};

static int junit_writer(FILE *f, void *ctx)
{
	const struct junit_ctx *j = ctx;
	return sfc_junit_write(f, j->target, j->rp, j->extra);
}

static const struct sfo_profile *profile_arg(const char *name)
{
	const struct sfo_profile *p = name ? sfh_profile_find(name) : NULL;
	if (name && !p)
		fprintf(stderr, "synfin: %s\n", sfh_profile_error(name));
	return p;
}

static int cmd_replay(int argc, char **argv)
{
	const char *target = NULL, *profile = NULL, *junit = NULL;
	char *dirs[MAX_ARGS], err[512];
	int ndirs = 0, verbose = 0, fork_each = 0;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
			fputs(usage_replay, stdout);
			return 0;
		} else if (sff_cli_is_opt(argv[i], "--target", "-t")) {
			if (!(target = sff_cli_opt_value(argc, argv, &i, "--target", "-t")))
				return EXIT_BAD;
		} else if (sff_cli_is_opt(argv[i], "--profile", "-p")) {
			if (!(profile = sff_cli_opt_value(argc, argv, &i, "--profile", "-p")))
				return EXIT_BAD;
		} else if (sff_cli_is_opt(argv[i], "--junit", NULL)) {
			if (!(junit = sff_cli_opt_value(argc, argv, &i, "--junit", NULL)))
				return EXIT_BAD;
		} else if (strcmp(argv[i], "-v") == 0 || strcmp(argv[i], "--verbose") == 0) {
			verbose = 1;
		} else if (strcmp(argv[i], "--fork") == 0) {
			fork_each = 1;
		} else if (argv[i][0] == '-' || ndirs >= MAX_ARGS) {
			fprintf(stderr, "synfin replay: unexpected '%s'\n%s", argv[i],
				usage_replay);
			return EXIT_BAD;
		} else {
			dirs[ndirs++] = argv[i];
		}
	}
	if (!target || !ndirs) {
		fprintf(stderr, "synfin replay: %s\n%s",
			!target ? "--target is required" : "no directory given", usage_replay);
		return EXIT_BAD;
	}
	struct replay_print pr = {.verbose = verbose};
	struct sfc_replay rp;
	struct sfc_replay_opts o = {.target = target,
				    .profile = profile_arg(profile),
				    .keep_trace = junit || verbose,
				    .keep_cases = junit != NULL,
				    .fork_each = fork_each,
				    .each = print_case,
				    .ctx = &pr};
	if (profile && !o.profile)
		return EXIT_BAD;
	if (sfc_replay_run(&rp, ndirs, dirs, &o, err, sizeof err) != 0) {
		fprintf(stderr, "synfin replay: %s\n", err);
		sfc_replay_free(&rp);
		return EXIT_BAD;
	}
	/* a scenario that could not run is failed, not passed */
	printf("%zu passed, %zu failed", rp.passed, rp.failed + rp.errors);
	if (rp.skipped) /* scenarios the target cannot run (not supported: ...) */
		printf(", %zu skipped", rp.skipped);
	putchar('\n');
	int rc = rp.errors ? EXIT_BAD : rp.failed ? EXIT_FOUND : 0;
	struct junit_ctx jc = {.target = target, .rp = &rp};
	if (junit && write_atomic(junit, junit_writer, &jc) != 0)
		rc = EXIT_BAD;
	sfc_replay_free(&rp);
	return rc;
}

/* ---- lifecycle ---- */

/* A corpus file: a scenario (text) or a libFuzzer input (binary), as the campaign ran it. */
static int load_input(const char *path, const struct sfh_target *t, struct sfh_scenario *s,
		      char *err, size_t errlen)
{
	size_t len;
	size_t n = strlen(path);
	if (n > 4 && strcmp(path + n - 4, ".scn") == 0)
		return sfh_scn_load(path, s, err, errlen);
	uint8_t *data = sff_read_file(path, &len, 1u << 20);
	if (!data) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	sff_scn_from_input(data, len, s);
	sff_scn_fit(s, t->ops->caps, 250);
	sfh_scn_fit_target(s, t); /* as the campaign's core did */
	free(data);
	return 0;
}

struct pathlist {
	char **p;
	size_t n, cap;
};

static int add_path(struct pathlist *l, const char *p)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 64;
		char **np = realloc(l->p, cap * sizeof *np);
		if (!np)
			return -1;
		l->p = np;
		l->cap = cap;
	}
	return (l->p[l->n++] = strdup(p)) ? 0 : -1;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every regular file under path (dot files, summaries, reports and pcaps left out). */
static int walk(struct pathlist *l, const char *path, int depth)
{
	struct stat st;
	if (stat(path, &st) != 0)
		return -1;
	if (!S_ISDIR(st.st_mode)) {
		const char *base = strrchr(path, '/');
		base = base ? base + 1 : path;
		const char *dot = strrchr(base, '.');
		if (base[0] == '.' || (dot && strcmp(dot, ".scn") != 0))
			return 0; /* .json, .md, .txt, .pcap, .bin... are not inputs */
		return add_path(l, path);
	}
	if (depth > 4)
		return 0;
	DIR *d = opendir(path);
	struct dirent *e;
	if (!d)
		return -1;
	int rc = 0;
	while (rc == 0 && (e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.' || strcmp(e->d_name, "logs") == 0)
			continue;
		char sub[PATH_MAX];
		snprintf(sub, sizeof sub, "%s/%s", path, e->d_name);
		rc = walk(l, sub, depth + 1);
	}
	closedir(d);
	return rc;
}

/* Run every input under args on target and add it to l. Returns inputs run, or -1. */
static long life_run(struct sfc_life *l, const char *target, const struct sfo_profile *prof,
		     int nargs, char **args, char *err, size_t errlen)
{
	struct pathlist pl = {0};
	struct sff_runctx ctx = {.timeout_s = 10, .next_case = 0x50000000u};
	long ran = -1;
	for (int i = 0; i < nargs; i++)
		if (walk(&pl, args[i], 0) != 0) {
			snprintf(err, errlen, "%s: %s", args[i], strerror(errno));
			goto exit;
		}
	if (!pl.n) {
		snprintf(err, errlen, "no input under %s%s", nargs ? args[0] : "(nothing)",
			 nargs > 1 ? " ..." : "");
		goto exit;
	}
	qsort(pl.p, pl.n, sizeof *pl.p, cmp_str);
	if (sfh_target_open(target, &ctx.target, err, errlen) != 0 ||
	    !(ctx.runner = sfh_runner_new(err, errlen)))
		goto exit;
	ctx.profile = prof;
	if (!ctx.profile && ctx.target->ops->profile)
		ctx.profile = sfh_profile_find(ctx.target->ops->profile);
	/* in-process stacks: recovered in-process where they can be, else one child each */
	char rerr[256];
	if (ctx.target->ops->caps & SFH_CAP_INPROC)
		ctx.recover = sff_recover_enable(ctx.target, rerr, sizeof rerr) == 0;
	ctx.isolate = (ctx.target->ops->caps & SFH_CAP_INPROC) && !ctx.recover;
	ran = 0;
	int saved = sff_cli_mute_stdout();
	for (size_t i = 0; i < pl.n; i++) {
		struct sfh_scenario s;
		struct sfh_result res;
		if (load_input(pl.p[i], ctx.target, &s, err, errlen) != 0)
			continue; /* not an input: a corpus holds only what libFuzzer wrote */
		struct sfh_run_opts o = {.profile = ctx.profile,
					 .cover = sfc_life_step,
					 .cover_ctx = l,
					 .case_no = ctx.next_case++};
		int rc = ctx.isolate ? sff_run_isolated_sig(&ctx, &s, &o, &res)
				     : sff_run_inproc(&ctx, &s, &o, &res);
		if (rc == 0) {
			sfc_life_verdict(l, &res);
			ran++;
		}
	}
	sff_cli_unmute(saved);
	err[0] = 0;
exit:
	for (size_t i = 0; i < pl.n; i++)
		free(pl.p[i]);
	free(pl.p);
	sff_runctx_dispose(&ctx);
	sfh_runner_free(ctx.runner);
	sfh_target_close(ctx.target);
	return ran;
}

/* DOT to OUT.dot, and OUT as SVG through Graphviz's dot when OUT ends in .svg. */
static int life_write(const struct sfc_life *l, const char *out, const char *title)
{
	char dot[PATH_MAX];
	size_t n = strlen(out);
	int svg = n > 4 && strcmp(out + n - 4, ".svg") == 0;
	if (svg)
		snprintf(dot, sizeof dot, "%.*s.dot", (int)(n - 4), out);
	else
		snprintf(dot, sizeof dot, "%s", out);
	FILE *f = fopen(dot, "w");
	if (!f || sfc_life_dot(f, l, title) != 0 || fclose(f) != 0) {
		fprintf(stderr, "synfin: cannot write %s\n", dot);
		return -1;
	}
	if (!svg)
		return 0;
	pid_t pid = fork();
	if (pid == 0) {
		execlp("dot", "dot", "-Tsvg", "-o", out, dot, (char *)NULL);
		_exit(127);
	}
	int st = 0;
	if (pid < 0 || waitpid(pid, &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		fprintf(stderr,
			"synfin: Graphviz's dot could not draw %s%s (the DOT source is %s)\n", out,
			WIFEXITED(st) && WEXITSTATUS(st) == 127 ? ": install graphviz" : "", dot);
		return -1;
	}
	return 0;
}

int sfc_cli_lifecycle_of(const char *target, const char *profile, int ndirs, char **dirs,
			 const char *out)
{
	char err[512] = "", title[512];
	const struct sfo_profile *prof = profile_arg(profile);
	struct sfc_life *l = sfc_life_new();
	int rc = -1;
	if ((profile && !prof) || !l)
		goto exit;
	long ran = life_run(l, target, prof, ndirs, dirs, err, sizeof err);
	if (ran <= 0) {
		fprintf(stderr, "synfin: lifecycle: %s\n", err[0] ? err : "no input could run");
		goto exit;
	}
	snprintf(title, sizeof title, "synfin %s: %s, %ld inputs, %lu steps", sfh_version(), target,
		 ran, sfc_life_steps(l));
	if (life_write(l, out, title) != 0)
		goto exit;
	fprintf(stderr, "synfin: lifecycle %s: %ld inputs, %lu steps, %u distinct transitions\n",
		out, ran, sfc_life_steps(l), sfc_life_transitions(l));
	rc = 0;
exit:
	sfc_life_free(l);
	return rc;
}

static const char usage_lifecycle[] =
    "usage: synfin lifecycle --target T [--out F.svg|F.dot] [--title S] DIR|FILE...\n"
    "\n"
    "Draws the RFC 9293 state diagram (3.3.2, Figure 5) as a run covered it: the inputs\n"
    "under each DIR (scenarios *.scn, and a campaign's corpus of libFuzzer inputs, e.g.\n"
    "synfin-out/corpus-lwip) are played on T beside the model; each transition taken is\n"
    "drawn with a width by how often (and its count and main events), Figure 5's arcs\n"
    "never taken dashed grey, and transitions where T diverged red with their rules.\n"
    "A campaign's findings directory marks its divergences.\n"
    "\n"
    "  -t, --target T   the target\n"
    "  -o, --out F      F.svg (drawn with Graphviz's dot; F.dot is kept beside it) or\n"
    "                   F.dot (default lifecycle.svg)\n"
    "  -p, --profile P  judge by profile P (default: the target's own)\n"
    "      --title S    the picture's title\n"
    "\n"
    "Exit: 0 drawn, 2 bad input or environment (no input, Graphviz missing).\n";

static int cmd_lifecycle(int argc, char **argv)
{
	const char *target = NULL, *out = "lifecycle.svg", *title = NULL, *profile = NULL;
	char *dirs[MAX_ARGS], err[512] = "", tbuf[512];
	int ndirs = 0;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
			fputs(usage_lifecycle, stdout);
			return 0;
		} else if (sff_cli_is_opt(argv[i], "--target", "-t")) {
			if (!(target = sff_cli_opt_value(argc, argv, &i, "--target", "-t")))
				return EXIT_BAD;
		} else if (sff_cli_is_opt(argv[i], "--out", "-o")) {
			if (!(out = sff_cli_opt_value(argc, argv, &i, "--out", "-o")))
				return EXIT_BAD;
		} else if (sff_cli_is_opt(argv[i], "--profile", "-p")) {
			if (!(profile = sff_cli_opt_value(argc, argv, &i, "--profile", "-p")))
				return EXIT_BAD;
		} else if (sff_cli_is_opt(argv[i], "--title", NULL)) {
			if (!(title = sff_cli_opt_value(argc, argv, &i, "--title", NULL)))
				return EXIT_BAD;
		} else if (argv[i][0] == '-' || ndirs >= MAX_ARGS) {
			fprintf(stderr, "synfin lifecycle: unexpected '%s'\n%s", argv[i],
				usage_lifecycle);
			return EXIT_BAD;
		} else {
			dirs[ndirs++] = argv[i];
		}
	}
	if (!target || !ndirs) {
		fprintf(stderr, "synfin lifecycle: %s\n%s",
			!target ? "--target is required" : "no input given", usage_lifecycle);
		return EXIT_BAD;
	}
	const struct sfo_profile *prof = profile_arg(profile);
	if (profile && !prof)
		return EXIT_BAD;
	struct sfc_life *l = sfc_life_new();
	if (!l) {
		fprintf(stderr, "synfin lifecycle: out of memory\n");
		return EXIT_BAD;
	}
	long ran = life_run(l, target, prof, ndirs, dirs, err, sizeof err);
	int rc = EXIT_BAD;
	if (ran <= 0) {
		fprintf(stderr, "synfin lifecycle: %s\n", err[0] ? err : "no input could run");
		goto exit;
	}
	if (!title) {
		snprintf(tbuf, sizeof tbuf, "synfin %s: %s, %ld inputs, %lu steps", sfh_version(),
			 target, ran, sfc_life_steps(l));
		title = tbuf;
	}
	if (life_write(l, out, title) != 0)
		goto exit;
	printf("%s: %ld inputs, %lu steps, %u distinct transitions\n", out, ran, sfc_life_steps(l),
	       sfc_life_transitions(l));
	rc = 0;
exit:
	sfc_life_free(l);
	return rc;
}

/* ---- ci ---- */

static const char usage_ci[] =
    "usage: synfin ci --target T [--time S] [--out DIR] [--baseline F] [options]\n"
    "                 [-- LIBFUZZER_FLAGS...]\n"
    "\n"
    "What a CI job runs on every push to test a stack:\n"
    "  1. replays the regression corpus (--regress) on T against its '#! expect' lines;\n"
    "  2. fuzzes T for S seconds ('synfin fuzz', findings in DIR/findings);\n"
    "  3. groups every finding by root cause; a group is known when a regression\n"
    "     scenario pins it, accepted when the baseline lists it, new otherwise;\n"
    "  4. writes DIR/junit.xml (a suite per corpus directory and one for the campaign's\n"
    "     groups), DIR/synfin.sarif (SARIF 2.1.0, a result per group), DIR/summary.md and\n"
    "     DIR/summary.json, and DIR/lifecycle.svg (with Graphviz; else lifecycle.dot).\n"
    "\n"
    "  -t, --target T    the stack under test\n"
    "      --time S      campaign seconds (default 60; 0: replay and report only)\n"
    "  -o, --out DIR     the reports and findings (default synfin-ci)\n"
    "      --baseline F  accepted root-cause groups ('synfin triage --help')\n"
    "      --regress DIR the regression corpus (default corpus/regress here, else\n"
    "                    $SYNFIN_SRC/corpus/regress, else the installed one)\n"
    "      --seeds DIR   the campaign's text seeds (default likewise corpus/seeds)\n"
    "  -p, --profile P   judge by profile P (default: the target's own)\n"
    "      --no-lifecycle  skip the picture\n"
    "\n"
    "Exit: 0 nothing new (every pin met, every group known or in the baseline), 1 a failed\n"
    "pin or a new root-cause group, 2 error (bad input, a scenario that cannot run, an\n"
    "empty regression corpus, a campaign that could not run).\n";

struct ci_args {
	const char *target, *out, *baseline, *regress, *seeds, *profile;
	unsigned secs;
	int no_life;
	char *lf[MAX_ARGS];
	int nlf;
};

static int parse_ci(int argc, char **argv, struct ci_args *a)
{
	const char *v;
	memset(a, 0, sizeof *a);
	a->out = "synfin-ci";
	a->secs = 60;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0) {
			for (i++; i < argc && a->nlf < MAX_ARGS - 16; i++)
				a->lf[a->nlf++] = argv[i];
			break;
		} else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
			fputs(usage_ci, stdout);
			return 1;
		} else if (sff_cli_is_opt(argv[i], "--target", "-t")) {
			if (!(a->target = sff_cli_opt_value(argc, argv, &i, "--target", "-t")))
				return -1;
		} else if (sff_cli_is_opt(argv[i], "--out", "-o")) {
			if (!(a->out = sff_cli_opt_value(argc, argv, &i, "--out", "-o")))
				return -1;
		} else if (sff_cli_is_opt(argv[i], "--baseline", NULL)) {
			if (!(a->baseline = sff_cli_opt_value(argc, argv, &i, "--baseline", NULL)))
				return -1;
		} else if (sff_cli_is_opt(argv[i], "--regress", NULL)) {
			if (!(a->regress = sff_cli_opt_value(argc, argv, &i, "--regress", NULL)))
				return -1;
		} else if (sff_cli_is_opt(argv[i], "--seeds", NULL)) {
			if (!(a->seeds = sff_cli_opt_value(argc, argv, &i, "--seeds", NULL)))
				return -1;
		} else if (sff_cli_is_opt(argv[i], "--profile", "-p")) {
			if (!(a->profile = sff_cli_opt_value(argc, argv, &i, "--profile", "-p")))
				return -1;
		} else if (sff_cli_is_opt(argv[i], "--time", NULL)) {
			if (!(v = sff_cli_opt_value(argc, argv, &i, "--time", NULL)))
				return -1;
			char *end;
			long s = strtol(v, &end, 10);
			if (*end || s < 0 || s > 7 * 86400) {
				fprintf(stderr,
					"synfin ci: --time: '%s' is not a number of seconds\n", v);
				return -1;
			}
			a->secs = (unsigned)s;
		} else if (strcmp(argv[i], "--no-lifecycle") == 0) {
			a->no_life = 1;
		} else {
			fprintf(stderr, "synfin ci: unexpected '%s'\n%s", argv[i], usage_ci);
			return -1;
		}
	}
	if (!a->target) {
		fprintf(stderr, "synfin ci: --target is required\n%s", usage_ci);
		return -1;
	}
	return 0;
}

/* `synfin fuzz` for the budget, in a child process: its own libFuzzer state, workers
 * and exit. Returns its exit status (0, 1, 2), or 2 if it did not run. */
static int ci_campaign(const struct ci_args *a, const char *findings, const char *corpus,
		       const char *regress)
{
	char exe[PATH_MAX], tbuf[64];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
	if (n <= 0)
		return EXIT_BAD;
	exe[n] = 0;
	char *av[MAX_ARGS + 32];
	int k = 0;
	av[k++] = exe;
	av[k++] = "fuzz";
	av[k++] = "--target";
	av[k++] = (char *)a->target;
	av[k++] = "--out";
	av[k++] = (char *)findings;
	av[k++] = "--progress";
	av[k++] = "30";
	if (a->profile) {
		av[k++] = "--profile";
		av[k++] = (char *)a->profile;
	}
	if (a->seeds) {
		av[k++] = "--seeds";
		av[k++] = (char *)a->seeds;
	}
	if (a->baseline) {
		av[k++] = "--baseline";
		av[k++] = (char *)a->baseline;
	}
	if (regress) {
		av[k++] = "--regress";
		av[k++] = (char *)regress;
	}
	av[k++] = (char *)corpus;
	av[k++] = "--";
	snprintf(tbuf, sizeof tbuf, "-max_total_time=%u", a->secs);
	av[k++] = tbuf;
	for (int i = 0; i < a->nlf; i++)
		av[k++] = a->lf[i];
	av[k] = NULL;
	fflush(NULL);
	pid_t pid = fork();
	if (pid == 0) {
		execv(exe, av);
		_exit(EXIT_BAD);
	}
	int st;
	if (pid < 0 || waitpid(pid, &st, 0) < 0 || !WIFEXITED(st))
		return EXIT_BAD;
	return WEXITSTATUS(st);
}

struct sarif_ctx {
	const struct sff_triage *tr;
	const char *target, *base;
};

static int sarif_writer(FILE *f, void *ctx)
{
	const struct sarif_ctx *s = ctx;
	return sfc_sarif_write(f, s->tr, s->target, s->base);
}

/* The campaign's root-cause groups as a JUnit suite: a group is a test case that fails
 * while it is new. */
static int groups_suite(const struct sff_triage *tr, struct sfc_extra_suite *x,
			struct sfc_group_case **cases, char ***texts, double secs)
{
	size_t n = tr->nc;
	*cases = calloc(n ? n : 1, sizeof **cases);
	*texts = calloc(n ? 2 * n : 1, sizeof **texts);
	if (!*cases || !*texts)
		return -1;
	for (size_t i = 0; i < n; i++) {
		const struct sff_cause *c = &tr->c[i];
		const struct sff_group *g = c->example;
		char rules[256], *msg = NULL, *detail = NULL;
		sff_cause_rules(tr, c, rules, sizeof rules);
		if (asprintf(&detail,
			     "group %s\nstatus %s\nseverity %s, kind %s\nrules: %s\n"
			     "findings %u, signatures %u\nsmallest example: %s\nsignature: %s\n"
			     "difference: %s\n%s%s",
			     c->key,
			     c->is_new	    ? "new"
			     : c->baselined ? "baselined"
					    : "known",
			     c->severity, c->kind, rules, c->findings, c->sigs, g->example,
			     g->signature, g->detail[0] ? g->detail : "-",
			     c->known[0] ? "pinned by " : "", c->known) < 0)
			return -1;
		if (c->is_new &&
		    asprintf(&msg, "new root-cause group: rule %s, kind %s: %s", g->rule, c->kind,
			     g->detail[0] ? g->detail : g->signature) < 0)
			return -1;
		(*texts)[2 * i] = msg;
		(*texts)[2 * i + 1] = detail;
		(*cases)[i] =
		    (struct sfc_group_case){.name = c->key, .message = msg, .detail = detail};
	}
	x->c = *cases;
	x->n = n;
	x->secs = secs;
	return 0;
}

static int ci_triage(const struct ci_args *a, const char *findings, const char *regress,
		     struct sff_triage *tr)
{
	char err[512] = "";
	struct sff_runctx ctx = {.isolate = 1, .timeout_s = 10, .next_case = 0x68000000u};
	char *dirs[1] = {(char *)findings};
	struct label_opts lo = {.baseline = a->baseline, .regress = regress, .no_known = !regress};
	int rc = -1;
	if (sfh_target_open(a->target, &ctx.target, err, sizeof err) != 0 ||
	    !(ctx.runner = sfh_runner_new(err, sizeof err)))
		goto exit;
	ctx.profile = a->profile ? sfh_profile_find(a->profile) : NULL;
	if (!ctx.profile && ctx.target->ops->profile)
		ctx.profile = sfh_profile_find(ctx.target->ops->profile);
	if (!(ctx.target->ops->caps & SFH_CAP_VTIME))
		ctx.max_wait_ms = 250;
	if (is_dir(findings)) {
		int saved = sff_cli_mute_stdout();
		int scanned = sff_triage_scan(tr, 1, dirs, &ctx, a->target, 0, err, sizeof err);
		sff_cli_unmute(saved);
		if (scanned != 0)
			goto exit;
	}
	sff_triage_sort(tr);
	if (sff_cli_label(tr, &ctx, a->target, &lo, err, sizeof err) != 0)
		goto exit;
	rc = 0;
exit:
	if (rc != 0)
		fprintf(stderr, "synfin ci: triage: %s\n", err);
	sff_runctx_dispose(&ctx);
	sfh_runner_free(ctx.runner);
	sfh_target_close(ctx.target);
	return rc;
}

static int cmd_ci(int argc, char **argv)
{
	struct ci_args a;
	char err[512], rbuf[PATH_MAX], findings[PATH_MAX], corpus[PATH_MAX], path[PATH_MAX],
	    base[PATH_MAX];
	int parsed = parse_ci(argc, argv, &a);
	if (parsed)
		return parsed > 0 ? 0 : EXIT_BAD;
	const struct sfo_profile *prof = profile_arg(a.profile);
	if (a.profile && !prof)
		return EXIT_BAD;
	const char *regress =
	    a.regress ? a.regress : sff_cli_data_dir("regress", rbuf, sizeof rbuf);
	if (!regress) {
		fprintf(stderr, "synfin ci: no regression corpus: give --regress DIR (an empty "
				"corpus is an error, not a pass)\n");
		return EXIT_BAD;
	}
	if (a.baseline && access(a.baseline, R_OK) != 0) {
		fprintf(stderr, "synfin ci: --baseline %s: %s\n", a.baseline, strerror(errno));
		return EXIT_BAD;
	}
	if (sff_mkdirs(a.out) != 0 || !realpath(a.out, base)) {
		fprintf(stderr, "synfin ci: %s: %s\n", a.out, strerror(errno));
		return EXIT_BAD;
	}
	snprintf(findings, sizeof findings, "%s/findings", base);
	snprintf(corpus, sizeof corpus, "%s/corpus", base);
	struct sfc_life *life = a.no_life ? NULL : sfc_life_new();

	/* 1. the regression corpus */
	fprintf(stderr, "synfin ci: 1/3 replay %s on %s\n", regress, a.target);
	struct sfc_replay rp;
	struct replay_print pr = {0};
	struct sfc_replay_opts ro = {.target = a.target,
				     .profile = prof,
				     .keep_trace = 1,
				     .keep_cases = 1,
				     .each = print_case,
				     .ctx = &pr,
				     .life = life};
	char *rargs[1] = {(char *)regress};
	if (sfc_replay_run(&rp, 1, rargs, &ro, err, sizeof err) != 0) {
		fprintf(stderr, "synfin ci: replay: %s\n", err);
		sfc_replay_free(&rp);
		sfc_life_free(life);
		return EXIT_BAD;
	}
	printf("%zu passed, %zu failed", rp.passed, rp.failed + rp.errors);
	if (rp.skipped) /* scenarios the target cannot run (not supported: ...) */
		printf(", %zu skipped", rp.skipped);
	putchar('\n');

	/* 2. the campaign */
	int fz = 0;
	double t0 = 0;
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	t0 = (double)ts.tv_sec + ts.tv_nsec / 1e9;
	if (a.secs) {
		fprintf(stderr, "synfin ci: 2/3 fuzz %s for %u s\n", a.target, a.secs);
		if (sff_mkdirs(corpus) != 0 || sff_mkdirs(findings) != 0) {
			fprintf(stderr, "synfin ci: %s: %s\n", corpus, strerror(errno));
			fz = EXIT_BAD;
		} else {
			fz = ci_campaign(&a, findings, corpus, regress);
		}
		if (fz == EXIT_BAD)
			fprintf(stderr, "synfin ci: the campaign could not run (see above)\n");
	} else {
		fprintf(stderr, "synfin ci: 2/3 no campaign (--time 0)\n");
	}
	clock_gettime(CLOCK_MONOTONIC, &ts);
	double fsecs = (double)ts.tv_sec + ts.tv_nsec / 1e9 - t0;

	/* 3. triage and reports */
	fprintf(stderr, "synfin ci: 3/3 triage and reports in %s\n", base);
	struct sff_triage tr = {0};
	struct sfc_extra_suite xs = {0};
	struct sfc_group_case *gc = NULL;
	char **texts = NULL;
	char title[300];
	int bad = fz == EXIT_BAD || rp.errors;
	if (ci_triage(&a, findings, regress, &tr) != 0) {
		bad = 1;
	} else {
		snprintf(title, sizeof title, "campaign %s", a.target);
		xs.name = title;
		if (groups_suite(&tr, &xs, &gc, &texts, fsecs) != 0) {
			fprintf(stderr, "synfin ci: out of memory\n");
			bad = 1;
		}
		struct junit_ctx jc = {.target = a.target, .rp = &rp, .extra = &xs};
		struct sarif_ctx sc = {.tr = &tr, .target = a.target, .base = base};
		snprintf(path, sizeof path, "%s/junit.xml", base);
		bad |= write_atomic(path, junit_writer, &jc) != 0;
		snprintf(path, sizeof path, "%s/synfin.sarif", base);
		bad |= write_atomic(path, sarif_writer, &sc) != 0;
		if (sff_cli_write_summary(base, &tr) != 0) {
			fprintf(stderr, "synfin ci: %s/summary.md: %s\n", base, strerror(errno));
			bad = 1;
		}
		if (tr.nc)
			sff_cli_print_causes(stdout, &tr, 0, 25, ": all in summary.md");
	}
	if (life) {
		if (is_dir(corpus) || is_dir(findings)) {
			char *ld[2];
			int nl = 0;
			if (is_dir(corpus))
				ld[nl++] = corpus;
			if (is_dir(findings))
				ld[nl++] = findings;
			if (life_run(life, a.target, prof, nl, ld, err, sizeof err) < 0 && err[0])
				fprintf(stderr, "synfin ci: lifecycle: %s\n", err);
		}
		snprintf(path, sizeof path, "%s/lifecycle.svg", base);
		snprintf(title, sizeof title, "synfin %s: %s, regression corpus and %u s campaign",
			 sfh_version(), a.target, a.secs);
		if (life_write(life, path, title) != 0)
			fprintf(stderr,
				"synfin ci: no lifecycle.svg (lifecycle.dot is the source)\n");
	}
	unsigned fresh = sff_cli_new_causes(&tr);
	int rc = bad ? EXIT_BAD : (rp.failed || fresh) ? EXIT_FOUND : 0;
	printf("synfin ci: %zu/%zu pins met, %zu root-cause groups (%u new): %s\n", rp.passed, rp.n,
	       tr.nc, fresh,
	       rc == 0		  ? "nothing new"
	       : rc == EXIT_FOUND ? "NEW FINDINGS OR FAILED PINS"
				  : "ERROR");
	if (texts)
		for (size_t i = 0; i < 2 * tr.nc; i++)
			free(texts[i]);
	free(texts);
	free(gc);
	sff_triage_free(&tr);
	sfc_replay_free(&rp);
	sfc_life_free(life);
	return rc;
}

int sfc_cli(const char *cmd, int argc, char **argv)
{
	if (strcmp(cmd, "replay") == 0)
		return cmd_replay(argc, argv);
	if (strcmp(cmd, "ci") == 0)
		return cmd_ci(argc, argv);
	if (strcmp(cmd, "lifecycle") == 0)
		return cmd_lifecycle(argc, argv);
	return -1;
}
