/* The fuzz, minimize and triage commands. An entry point: this file may print and exit.
 *
 * `synfin fuzz` embeds libFuzzer through LLVMFuzzerRunDriver. libFuzzer's -jobs, -fork
 * and -merge start more processes by running its own argv[0] with flags through the
 * shell, so the argv handed to libFuzzer is built to re-enter this command:
 *
 *   '/abs/synfin' fuzz <libFuzzer flags> <corpus dirs> -ignore_remaining_args=1
 *                      --worker --target=T --out=OUT --stats=FILE ...
 *
 * argv[0] carries the sub-command (the shell splits it), libFuzzer inserts the flags it
 * adds before -ignore_remaining_args=1, and everything after it is ours. A --worker runs
 * libFuzzer directly; the top-level command forks one worker and supervises it: progress
 * lines from the statistics every worker shares, and at the end libFuzzer's crash files
 * become findings too.
 */
#include <errno.h>
#include <dirent.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fuzz.h"
#include "fuzz_priv.h"

#define EXIT_FOUND 1
#define EXIT_BAD   2
#define MAX_ARGS   256

static const char usage_fuzz[] =
    "usage: synfin fuzz --target T [options] [CORPUS_DIR...] [-- LIBFUZZER_FLAGS...]\n"
    "\n"
    "Fuzzes target T with libFuzzer: scenarios are mutated structure-aware, run beside the\n"
    "reference model, and every new divergence signature or crash becomes a finding\n"
    "directory OUT/<sig-hash>/ (scenario.scn minimized, exchange.pcap, report.txt,\n"
    "report.json). Coverage is what synfin observes: states, transitions, responses and\n"
    "the model's rules.\n"
    "\n"
    "  -t, --target T     model, model:fault=NAME, lwip, slirp, linux ('synfin targets')\n"
    "  -o, --out DIR      findings (default synfin-out/findings); crash files too\n"
    "  -p, --profile P    judge by profile P (default: the target's own)\n"
    "      --seeds DIR    text seeds encoded into the corpus (default corpus/seeds)\n"
    "      --max-wait MS  longest wait on a real-time target (default 250)\n"
    "      --progress S   a progress line every S seconds (default 5, 0: none)\n"
    "      --no-minimize  record findings as found\n"
    "      --no-recover   let an in-process stack's abort end the worker (by default an\n"
    "                     lwIP assertion is caught, recorded as a crash finding, lwIP is\n"
    "                     restored and the worker carries on; off in sanitizer builds)\n"
    "      --export DIR   write T's binary seeds to DIR and its dictionary to DIR.dict\n"
    "\n"
    "CORPUS_DIR: libFuzzer's corpus directories (the first one grows); default\n"
    "synfin-out/corpus-T, seeded from --seeds. libFuzzer flags go after '--' (or anywhere\n"
    "as -name=value): -runs=N -max_total_time=S -seed=N -jobs=N -workers=N -fork=N\n"
    "-dict=F -timeout=S ... synfin sets -max_len, -artifact_prefix=OUT/ and a dictionary\n"
    "unless given, and -ignore_crashes=1 with -fork so a crash does not end the campaign.\n"
    "\n"
    "Exit: 0 nothing found, 1 findings recorded (or a crash), 2 bad input or environment.\n";

static const char usage_minimize[] =
    "usage: synfin minimize FILE --target T [-o OUT] [--profile P] [--max-runs N]\n"
    "\n"
    "Shrinks the scenario in FILE (text, or a binary input such as a libFuzzer crash file)\n"
    "while its divergence keeps the same signature: deletes events, then simplifies fields\n"
    "(offsets toward 0, no payload, no options, shorter waits). Writes the text form to\n"
    "OUT (default: standard output) with an '#! expect' line for the regression corpus.\n"
    "\n"
    "Exit: 0 minimized, 1 the scenario shows no divergence, 2 bad input or environment.\n";

static const char usage_triage[] =
    "usage: synfin triage DIR... [--target T] [--record]\n"
    "\n"
    "Groups the findings in each DIR (OUT/<sig-hash>/ directories) and libFuzzer's crash\n"
    "files (crash-*, timeout-*, oom-*, leak-*, slow-unit-*) by signature, and prints one\n"
    "line per signature: count, rule, severity and an example. Crash files are decoded\n"
    "and re-run in a child process on T (default: the target the campaign in DIR used).\n"
    "  --record   also turn each crash file into a finding directory\n"
    "\n"
    "Exit: 0 nothing found, 1 findings, 2 bad input or environment.\n";

/* ---- small helpers ---- */

static volatile sig_atomic_t g_interrupted;

static void on_signal(int sig)
{
	g_interrupted = sig;
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* "--name VALUE" or "--name=VALUE" (also a short alias): the value, or NULL. */
static const char *opt_value(int argc, char **argv, int *i, const char *lng, const char *shrt)
{
	const char *a = argv[*i];
	size_t n = strlen(lng);
	if (strncmp(a, lng, n) == 0 && a[n] == '=')
		return a + n + 1;
	if (strcmp(a, lng) == 0 || (shrt && strcmp(a, shrt) == 0)) {
		if (*i + 1 >= argc) {
			fprintf(stderr, "synfin: %s needs a value\n", a);
			return NULL;
		}
		return argv[++*i];
	}
	return NULL;
}

static int is_opt(const char *a, const char *lng, const char *shrt)
{
	size_t n = strlen(lng);
	return strcmp(a, lng) == 0 || (shrt && strcmp(a, shrt) == 0) ||
	       (strncmp(a, lng, n) == 0 && a[n] == '=');
}

/* A libFuzzer flag: -name=value, or -name alone (e.g. -help=1 is the usual form). */
static int is_lf_flag(const char *a)
{
	if (a[0] != '-' || a[1] == '-' || !a[1])
		return 0;
	for (const char *p = a + 1; *p && *p != '='; p++)
		if (!(*p == '_' || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9')))
			return 0;
	return strchr(a, '=') != NULL;
}

static int has_lf_flag(char **lf, int n, const char *name)
{
	size_t len = strlen(name);
	for (int i = 0; i < n; i++)
		if (lf[i][0] == '-' && strncmp(lf[i] + 1, name, len) == 0 && lf[i][1 + len] == '=')
			return 1;
	return 0;
}

/* The command that re-enters `synfin fuzz`, for libFuzzer to run through the shell. */
static int self_command(char *buf, size_t cap)
{
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
	size_t k = 0;
	if (n <= 0)
		return -1;
	exe[n] = 0;
	if (k < cap)
		buf[k++] = '\'';
	for (const char *p = exe; *p; p++) {
		const char *piece = *p == '\'' ? "'\\''" : NULL;
		if (piece) {
			for (; *piece && k < cap; piece++)
				buf[k++] = *piece;
		} else if (k < cap) {
			buf[k++] = *p;
		}
	}
	int w = snprintf(buf + k, cap > k ? cap - k : 0, "' fuzz");
	return w < 0 || (size_t)w >= cap - k ? -1 : 0;
}

/* ---- options of `synfin fuzz` ---- */

struct fuzz_args {
	const char *target, *out, *profile, *seeds, *export_dir, *stats;
	uint32_t max_wait;
	int progress, no_minimize, no_recover, worker;
	char *dirs[MAX_ARGS];
	int ndirs;
	char *lf[MAX_ARGS]; /* libFuzzer flags */
	int nlf;
};

static int parse_fuzz_args(int argc, char **argv, struct fuzz_args *a)
{
	const char *v;
	memset(a, 0, sizeof *a);
	a->out = "synfin-out/findings";
	a->progress = 5;
	for (int i = 1; i < argc; i++) {
		char *arg = argv[i];
		int after_ignore =
		    a->nlf && strcmp(a->lf[a->nlf - 1], "-ignore_remaining_args=1") == 0;
		if (strcmp(arg, "--") == 0) {
			for (i++; i < argc; i++) {
				if (a->nlf >= MAX_ARGS)
					goto too_many;
				a->lf[a->nlf++] = argv[i];
			}
			break;
		}
		if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0) {
			fputs(usage_fuzz, stdout);
			exit(0);
		}
		if (is_opt(arg, "--target", "-t")) {
			if (!(a->target = opt_value(argc, argv, &i, "--target", "-t")))
				return -1;
		} else if (is_opt(arg, "--out", "-o")) {
			if (!(a->out = opt_value(argc, argv, &i, "--out", "-o")))
				return -1;
		} else if (is_opt(arg, "--profile", "-p")) {
			if (!(a->profile = opt_value(argc, argv, &i, "--profile", "-p")))
				return -1;
		} else if (is_opt(arg, "--seeds", NULL)) {
			if (!(a->seeds = opt_value(argc, argv, &i, "--seeds", NULL)))
				return -1;
		} else if (is_opt(arg, "--export", NULL)) {
			if (!(a->export_dir = opt_value(argc, argv, &i, "--export", NULL)))
				return -1;
		} else if (is_opt(arg, "--stats", NULL)) {
			if (!(a->stats = opt_value(argc, argv, &i, "--stats", NULL)))
				return -1;
		} else if (is_opt(arg, "--max-wait", NULL)) {
			if (!(v = opt_value(argc, argv, &i, "--max-wait", NULL)))
				return -1;
			a->max_wait = (uint32_t)strtoul(v, NULL, 0);
		} else if (is_opt(arg, "--progress", NULL)) {
			if (!(v = opt_value(argc, argv, &i, "--progress", NULL)))
				return -1;
			a->progress = atoi(v);
		} else if (strcmp(arg, "--no-minimize") == 0) {
			a->no_minimize = 1;
		} else if (strcmp(arg, "--no-recover") == 0) {
			a->no_recover = 1;
		} else if (strcmp(arg, "--worker") == 0) {
			a->worker = 1;
		} else if (is_lf_flag(arg) && !after_ignore) {
			if (a->nlf >= MAX_ARGS)
				goto too_many;
			a->lf[a->nlf++] = arg;
		} else if (arg[0] == '-') {
			fprintf(stderr, "synfin fuzz: unknown option '%s'\n%s", arg, usage_fuzz);
			return -1;
		} else {
			if (a->ndirs >= MAX_ARGS)
				goto too_many;
			a->dirs[a->ndirs++] = arg;
		}
	}
	if (!a->target) {
		fprintf(stderr, "synfin fuzz: --target is required\n%s", usage_fuzz);
		return -1;
	}
	return 0;
too_many:
	fprintf(stderr, "synfin fuzz: too many arguments\n");
	return -1;
}

/* ---- seeds and dictionary ---- */

/* The text seeds: --seeds, else corpus/seeds here, else under $SYNFIN_SRC. */
static const char *seeds_dir(const char *given, char *buf, size_t cap)
{
	struct stat st;
	const char *src = getenv("SYNFIN_SRC");
	if (given)
		return given;
	if (stat("corpus/seeds", &st) == 0 && S_ISDIR(st.st_mode))
		return "corpus/seeds";
	if (src) {
		snprintf(buf, cap, "%s/corpus/seeds", src);
		if (stat(buf, &st) == 0 && S_ISDIR(st.st_mode))
			return buf;
	}
	return NULL;
}

/* Encode every seed T can play into dir as seed-NAME (kept if already there). Returns
 * the number of seeds, or -1. */
static int write_seeds(const char *seeds, const char *dir, uint32_t caps)
{
	struct sfh_filelist fl = {0};
	char err[512], *args[1] = {(char *)seeds};
	int n = 0;
	if (sfh_collect_scenarios(1, args, &fl, err, sizeof err) != 0) {
		fprintf(stderr, "synfin fuzz: %s\n", err);
		return -1;
	}
	for (size_t i = 0; i < fl.n; i++) {
		struct sfh_scenario s;
		uint8_t buf[SFH_MAX_ENCODED];
		char path[4200];
		struct stat st;
		if (sfh_scn_load(fl.paths[i], &s, err, sizeof err) != 0) {
			fprintf(stderr, "synfin fuzz: skipping seed: %s\n", err);
			continue;
		}
		if (!(caps & (s.role == SFH_ROLE_ACTIVE ? SFH_CAP_ACTIVE : SFH_CAP_PASSIVE)))
			continue;
		sff_scn_strip(&s);
		size_t len = sfh_scn_encode(&s, buf, sizeof buf);
		const char *base = strrchr(fl.paths[i], '/');
		base = base ? base + 1 : fl.paths[i];
		snprintf(path, sizeof path, "%s/seed-%.*s", dir, (int)(strlen(base) - 4), base);
		n++;
		if (stat(path, &st) == 0)
			continue;
		if (len > sizeof buf || sff_write_file(path, buf, len) != 0) {
			fprintf(stderr, "synfin fuzz: %s: %s\n", path, strerror(errno));
			sfh_filelist_free(&fl);
			return -1;
		}
	}
	sfh_filelist_free(&fl);
	return n;
}

/* Whole encoded events as dictionary entries: libFuzzer's byte mutator (used now and
 * then beside the structure-aware one) can then insert a meaningful event in one go. */
static int write_dict(const char *path)
{
	static const struct {
		const char *name, *text;
	} ev[] = {
	    {"syn", "in S seq=pisn mss=1460"},
	    {"syn_ws", "in S seq=pisn mss=1460 ws=7 sackok"},
	    {"synack", "in S. seq=pisn ack=tisn+1 mss=1460"},
	    {"ack", "in ."},
	    {"data", "in P. len=100"},
	    {"fin", "in F."},
	    {"fin_bare", "in F"},
	    {"fin_rtx", "in F. seq=pnxt-1"},
	    {"rst", "in R"},
	    {"rst_ack", "in R."},
	    {"rst_inwin", "in R seq=pnxt+1"},
	    {"rst_outwin", "in R seq=pnxt+2147483648"},
	    {"rst_wend", "in R seq=wend"},
	    {"ack_future", "in . ack=tnxt+1000"},
	    {"ack_old", "in . ack=tuna-1"},
	    {"data_wend", "in P. seq=wend-1 len=2"},
	    {"syn_inwin", "in S seq=pnxt"},
	    {"send", "call send 100"},
	    {"receive", "call receive"},
	    {"close", "call close"},
	    {"shutdown", "call shutdown"},
	    {"abort", "call abort"},
	    {"wait_200ms", "wait 200"},
	    {"wait_500ms", "wait 500"},
	    {"wait_rto", "wait 1s"},
	    {"wait_5s", "wait 5s"},
	    {"wait_60s", "wait 60s"},
	    {"wait_2msl", "wait 240s"},
	};
	FILE *f = fopen(path, "w");
	if (!f)
		return -1;
	fputs("# synfin: whole events of the binary scenario form (see harness/scenario.c)\n", f);
	for (size_t i = 0; i < sizeof ev / sizeof ev[0]; i++) {
		char text[128], err[256];
		struct sfh_scenario s;
		uint8_t buf[64];
		snprintf(text, sizeof text, "role passive\n%s\n", ev[i].text);
		if (sfh_scn_parse(text, strlen(text), "dict", &s, err, sizeof err) != 0)
			continue;
		size_t n = sfh_scn_encode(&s, buf, sizeof buf);
		if (n < 2 || n > sizeof buf)
			continue;
		fprintf(f, "%s=\"", ev[i].name);
		for (size_t k = 1; k < n; k++) /* without the role byte */
			fprintf(f, "\\x%02x", buf[k]);
		fputs("\"\n", f);
	}
	return fclose(f) == 0 ? 0 : -1;
}

/* ---- the campaign ---- */

static int cli_one(const uint8_t *data, size_t size)
{
	int rc = sff_core_one(data, size);
	if (rc == SFF_CORE_FATAL) {
		fprintf(stderr, "synfin fuzz: %s\n", sff_core_error());
		exit(EXIT_BAD);
	}
	return rc == SFF_CORE_REJECT ? -1 : 0; /* -1: libFuzzer keeps it out of the corpus */
}

/* Become a libFuzzer worker: never returns (libFuzzer exits). */
static int run_worker(struct fuzz_args *a, int argc, char **argv)
{
	char err[512], self[PATH_MAX + 16];
	static char *lf_argv[2 * MAX_ARGS + 16];
	int n = 0;
	struct sff_core_opts o = {.target_spec = a->target,
				  .out_dir = a->out,
				  .profile = a->profile,
				  .stats_path = a->stats,
				  .max_wait_ms = a->max_wait,
				  .no_minimize = a->no_minimize,
				  .recover = !a->no_recover};
	if (self_command(self, sizeof self) != 0) {
		fprintf(stderr, "synfin fuzz: cannot find my own executable\n");
		return EXIT_BAD;
	}
	if (sff_core_init(&o, err, sizeof err) != 0) {
		fprintf(stderr, "synfin fuzz: %s\n", err);
		return EXIT_BAD;
	}
	lf_argv[n++] = self;
	for (int i = 1; i < argc && n < 2 * MAX_ARGS + 14; i++)
		lf_argv[n++] = argv[i];
	lf_argv[n] = NULL;
	char **pargv = lf_argv;
#ifdef SYNFIN_HAVE_LIBFUZZER
	int rc = LLVMFuzzerRunDriver(&n, &pargv, cli_one);
#else
	(void)pargv;
	(void)cli_one;
	fprintf(stderr, "synfin fuzz: this synfin was built without libFuzzer "
			"(clang and libclang-rt-14-dev, SYNFIN_FUZZ=ON)\n");
	int rc = EXIT_BAD;
#endif
	sff_core_fini();
	return rc;
}

static void print_progress(const struct sff_stats *st, double t0, const char *prefix)
{
	struct sff_stats_view v;
	double el = now_s() - t0;
	sff_stats_read(st, &v);
	fprintf(stderr,
		"%s %3d:%02d | %llu execs (%.0f/s) | states %u/%d | transitions %u | tuples %u "
		"| rules %u/%zu | findings %llu (dup %llu) | errors %llu\n",
		prefix, (int)el / 60, (int)el % 60, (unsigned long long)v.execs,
		el > 0 ? (double)v.execs / el : 0.0, v.states, SFO_NSTATES, v.transitions, v.tuples,
		v.rules, sfo_rule_count(), (unsigned long long)v.findings,
		(unsigned long long)v.dups, (unsigned long long)v.errors);
}

static void print_table(FILE *f, const struct sff_triage *tr)
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

/* Signatures name the state and event class too, so one root cause in a stack often
 * shows under many of them; this second table groups by rule and kind, the first place
 * a maintainer looks. Sorted by the number of signatures; one example each. */
static void print_causes(FILE *f, const struct sff_triage *tr)
{
	size_t n = 0;
	struct cause {
		const struct sff_group *first;
		unsigned sigs, findings;
	} *c = calloc(tr->n, sizeof *c);
	if (!c)
		return;
	for (size_t i = 0; i < tr->n; i++) {
		const struct sff_group *g = &tr->g[i];
		size_t k = 0;
		while (k < n && !(strcmp(c[k].first->rule, g->rule) == 0 &&
				  strcmp(c[k].first->kind, g->kind) == 0))
			k++;
		if (k == n)
			c[n++].first = g;
		c[k].sigs++;
		c[k].findings += g->count;
	}
	for (size_t i = 1; i < n; i++) /* insertion sort: n is small */
		for (size_t j = i; j > 0 && c[j].sigs > c[j - 1].sigs; j--) {
			struct cause t = c[j];
			c[j] = c[j - 1];
			c[j - 1] = t;
		}
	fprintf(f, "\nby rule and kind (%zu):\n%-32s %-20s %-8s %5s  %s\n", n, "RULE", "KIND",
		"SEVERITY", "SIGS", "EXAMPLE");
	for (size_t i = 0; i < n; i++)
		fprintf(f, "%-32s %-20s %-8s %5u  %s\n", c[i].first->rule, c[i].first->kind,
			c[i].first->severity, c[i].sigs, c[i].first->example);
	free(c);
}

/* After the campaign: libFuzzer's crash files in OUT become findings; the table. */
static int sweep_artifacts(const struct fuzz_args *a, int *groups)
{
	char err[512];
	struct sff_triage tr = {0};
	struct sff_runctx ctx = {.isolate = 1, .timeout_s = 10, .next_case = 0x60000000u};
	char *dirs[1] = {(char *)a->out};
	int rc = -1;
	*groups = 0;
	if (sfh_target_open(a->target, &ctx.target, err, sizeof err) != 0 ||
	    !(ctx.runner = sfh_runner_new(err, sizeof err)))
		goto exit;
	ctx.profile = a->profile ? sfo_profile_find(a->profile) : NULL;
	if (!ctx.profile && ctx.target->ops->profile)
		ctx.profile = sfo_profile_find(ctx.target->ops->profile);
	if (!(ctx.target->ops->caps & SFH_CAP_VTIME))
		ctx.max_wait_ms = a->max_wait ? a->max_wait : 250;
	if (sff_triage_scan(&tr, 1, dirs, &ctx, a->target, 1, err, sizeof err) != 0)
		goto exit;
	*groups = (int)tr.n;
	if (tr.n) {
		sff_triage_sort(&tr);
		print_table(stderr, &tr);
	}
	rc = 0;
exit:
	if (rc != 0)
		fprintf(stderr, "synfin fuzz: %s\n", err);
	sff_triage_free(&tr);
	sff_runctx_dispose(&ctx);
	sfh_runner_free(ctx.runner);
	sfh_target_close(ctx.target);
	return rc;
}

static int count_artifacts(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;
	if (!d)
		return 0;
	while ((e = readdir(d)) != NULL)
		n += strncmp(e->d_name, "crash-", 6) == 0 ||
		     strncmp(e->d_name, "timeout-", 8) == 0 || strncmp(e->d_name, "oom-", 4) == 0 ||
		     strncmp(e->d_name, "leak-", 5) == 0;
	closedir(d);
	return n;
}

/* The corpus directory's default name: synfin-out/corpus-TARGET, spec made file-safe. */
static void default_corpus(const char *target, char *buf, size_t cap)
{
	int k = snprintf(buf, cap, "synfin-out/corpus-");
	for (const char *p = target; *p && (size_t)k + 1 < cap; p++)
		buf[k++] = (*p == ':' || *p == '=' || *p == '/' || *p == ',') ? '-' : *p;
	buf[k < (int)cap ? k : (int)cap - 1] = 0;
}

static int prepare(struct fuzz_args *a, struct sfh_target **t, char *corpus, size_t cap)
{
	char err[512], buf[4200];
	if (sfh_target_open(a->target, t, err, sizeof err) != 0) {
		fprintf(stderr, "synfin fuzz: %s\n", err);
		return -1;
	}
	if (a->profile && !sfo_profile_find(a->profile)) {
		fprintf(stderr, "synfin fuzz: unknown profile '%s'\n", a->profile);
		return -1;
	}
	if (a->ndirs == 0) {
		default_corpus(a->target, corpus, cap);
		a->dirs[a->ndirs++] = corpus;
	}
	if (sff_mkdirs(a->out) != 0 || sff_mkdirs(a->dirs[0]) != 0) {
		fprintf(stderr, "synfin fuzz: cannot create %s or %s: %s\n", a->out, a->dirs[0],
			strerror(errno));
		return -1;
	}
	/* Which target a campaign in OUT ran, for `synfin triage OUT`. */
	snprintf(buf, sizeof buf, "%s/.target", a->out);
	if (sff_write_file(buf, a->target, strlen(a->target)) != 0) {
		fprintf(stderr, "synfin fuzz: %s: %s\n", buf, strerror(errno));
		return -1;
	}
	return 0;
}

static int supervise(pid_t child, const struct fuzz_args *a, struct sff_stats *st, double t0)
{
	int status = 0;
	double last = t0;
	struct sigaction sa = {.sa_handler = on_signal};
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	for (;;) {
		pid_t w = waitpid(child, &status, WNOHANG);
		if (w == child)
			break;
		if (w < 0 && errno != EINTR)
			return -1;
		if (g_interrupted == SIGTERM) {
			kill(child, SIGTERM); /* SIGINT reaches the child from the terminal */
			g_interrupted = 0;
		}
		/* Woken by SIGCHLD (blocked since the fork) the moment the worker ends: a
		 * short campaign is not charged up to a polling period for its end. */
		struct timespec ts = {0, 100 * 1000 * 1000};
		sigset_t chld;
		sigemptyset(&chld);
		sigaddset(&chld, SIGCHLD);
		sigtimedwait(&chld, NULL, &ts);
		if (a->progress > 0 && now_s() - last >= a->progress) {
			last = now_s();
			print_progress(st, t0, "synfin fuzz:");
		}
	}
	return status;
}

static int cmd_fuzz(int argc, char **argv)
{
	struct fuzz_args a;
	struct sfh_target *t = NULL;
	struct sff_stats *st = NULL;
	char corpus[4096], seeds_buf[4200], stats_path[4200], dict[4200], self[PATH_MAX + 16];
	char err[512], *lf_argv[2 * MAX_ARGS + 32];
	char opt_target[4200], opt_out[4200], opt_stats[4300], opt_prof[300], opt_wait[64];
	char opt_maxlen[64], opt_art[4200], opt_dict[4300];
	int rc = EXIT_BAD, n = 0;

	if (parse_fuzz_args(argc, argv, &a) != 0)
		return EXIT_BAD;
	if (a.worker)
		return run_worker(&a, argc, argv);
	const char *seeds = seeds_dir(a.seeds, seeds_buf, sizeof seeds_buf);
	if (a.export_dir) {
		/* The per-target seed corpus and dictionary (corpus/fuzz/T, OSS-Fuzz style):
		 * nothing else is created. */
		const struct sfh_target_ops *ops = sfh_target_find(a.target);
		int k = -1;
		snprintf(dict, sizeof dict, "%s.dict", a.export_dir);
		if (!ops)
			fprintf(stderr, "synfin fuzz: unknown target '%s'\n", a.target);
		else if (!seeds)
			fprintf(stderr, "synfin fuzz: no text seeds to export: give --seeds DIR "
					"(default: corpus/seeds here, or under $SYNFIN_SRC)\n");
		else if (sff_mkdirs(a.export_dir) != 0 ||
			 (k = write_seeds(seeds, a.export_dir, ops->caps)) < 0 ||
			 write_dict(dict) != 0)
			fprintf(stderr, "synfin fuzz: cannot export to %s\n", a.export_dir);
		else
			printf("%d seeds written to %s, dictionary %s\n", k, a.export_dir, dict);
		return k < 0 ? EXIT_BAD : 0;
	}
#ifndef SYNFIN_HAVE_LIBFUZZER
	fprintf(stderr, "synfin fuzz: this synfin was built without libFuzzer "
			"(needs clang and libclang-rt-14-dev, SYNFIN_FUZZ=ON)\n");
	return EXIT_BAD;
#endif
	if (prepare(&a, &t, corpus, sizeof corpus) != 0)
		goto exit;
	uint32_t caps = t->ops->caps;
	const char *version = t->ops->version();
	sfh_target_close(t);
	t = NULL;
	int nseeds = seeds ? write_seeds(seeds, a.dirs[0], caps) : 0;
	if (nseeds < 0)
		goto exit;

	snprintf(stats_path, sizeof stats_path, "%s/.stats-%d", a.out, (int)getpid());
	st = sff_stats_open(stats_path, 1, err, sizeof err);
	snprintf(dict, sizeof dict, "%s/.synfin.dict", a.out);
	if (!st || write_dict(dict) != 0 || self_command(self, sizeof self) != 0) {
		fprintf(stderr, "synfin fuzz: %s\n", st ? "cannot prepare the campaign" : err);
		goto exit;
	}

	/* libFuzzer's argv: [self, flags, defaults, corpus dirs, ignore, our options]. */
	lf_argv[n++] = self;
	for (int i = 0; i < a.nlf; i++)
		lf_argv[n++] = a.lf[i];
	snprintf(opt_maxlen, sizeof opt_maxlen, "-max_len=%d", SFH_MAX_ENCODED);
	snprintf(opt_art, sizeof opt_art, "-artifact_prefix=%s/", a.out);
	snprintf(opt_dict, sizeof opt_dict, "-dict=%s", dict);
	if (!has_lf_flag(a.lf, a.nlf, "max_len"))
		lf_argv[n++] = opt_maxlen;
	if (!has_lf_flag(a.lf, a.nlf, "artifact_prefix"))
		lf_argv[n++] = opt_art;
	if (!has_lf_flag(a.lf, a.nlf, "dict"))
		lf_argv[n++] = opt_dict;
	if (has_lf_flag(a.lf, a.nlf, "fork") && !has_lf_flag(a.lf, a.nlf, "ignore_crashes"))
		lf_argv[n++] = "-ignore_crashes=1";
	for (int i = 0; i < a.ndirs; i++)
		lf_argv[n++] = a.dirs[i];
	lf_argv[n++] = "-ignore_remaining_args=1";
	lf_argv[n++] = "--worker";
	snprintf(opt_target, sizeof opt_target, "--target=%s", a.target);
	snprintf(opt_out, sizeof opt_out, "--out=%s", a.out);
	snprintf(opt_stats, sizeof opt_stats, "--stats=%s", stats_path);
	snprintf(opt_wait, sizeof opt_wait, "--max-wait=%u", a.max_wait);
	lf_argv[n++] = opt_target;
	lf_argv[n++] = opt_out;
	lf_argv[n++] = opt_stats;
	lf_argv[n++] = opt_wait;
	if (a.profile) {
		snprintf(opt_prof, sizeof opt_prof, "--profile=%s", a.profile);
		lf_argv[n++] = opt_prof;
	}
	if (a.no_minimize)
		lf_argv[n++] = "--no-minimize";
	if (a.no_recover)
		lf_argv[n++] = "--no-recover";
	lf_argv[n] = NULL;

	fprintf(stderr, "synfin fuzz: target %s (%s); corpus %s (%d seeds); findings in %s\n",
		a.target, version, a.dirs[0], nseeds, a.out);
	if (!(caps & SFH_CAP_VTIME) && !has_lf_flag(a.lf, a.nlf, "jobs") &&
	    !has_lf_flag(a.lf, a.nlf, "fork"))
		/* A real-time stack's cases sleep while its timers run: one process idles. */
		fprintf(stderr, "synfin fuzz: %s runs in real time and a case mostly waits for "
				"its timers; more processes than CPUs pay off, e.g. "
				"-- -jobs=24 -workers=24\n",
			a.target);
	/* lwip's aborts are recovered in the worker (recover.c); other in-process stacks
	 * take the worker down, and libFuzzer ends a plain run at its first crash. */
	if ((caps & SFH_CAP_INPROC) && (a.no_recover || strncmp(a.target, "lwip", 4) != 0) &&
	    !has_lf_flag(a.lf, a.nlf, "fork"))
		fprintf(stderr, "synfin fuzz: a crash of %s ends a libFuzzer process; -- -fork=N "
				"keeps the campaign going (each crash becomes a finding)\n",
			a.target);
	a.stats = stats_path;
	int before = count_artifacts(a.out);
	double t0 = now_s();
	fflush(NULL);
	sigset_t chld, oldmask;
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	sigprocmask(SIG_BLOCK, &chld, &oldmask); /* supervise() waits for it */
	pid_t child = fork();
	if (child < 0) {
		fprintf(stderr, "synfin fuzz: fork: %s\n", strerror(errno));
		sigprocmask(SIG_SETMASK, &oldmask, NULL);
		goto exit;
	}
	if (child == 0) {
		sigprocmask(SIG_SETMASK, &oldmask, NULL);
		/* lf_argv minus argv[0], as run_worker expects. */
		_exit(run_worker(&a, n, lf_argv));
	}
	int status = supervise(child, &a, st, t0);
	sigprocmask(SIG_SETMASK, &oldmask, NULL);
	print_progress(st, t0, "synfin fuzz: done");
	int groups = 0, crashed = count_artifacts(a.out) > before;
	if (crashed)
		fprintf(stderr, "synfin fuzz: turning libFuzzer's crash files into findings\n");
	sweep_artifacts(&a, &groups);
	struct sff_stats_view v;
	sff_stats_read(st, &v);
	if (v.findings || crashed) {
		fprintf(stderr,
			"synfin fuzz: %llu new finding(s)%s; %d signature(s) in %s "
			"('synfin triage %s')\n",
			(unsigned long long)v.findings, crashed ? " and crash files" : "", groups,
			a.out, a.out);
		rc = EXIT_FOUND;
	} else if (status < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		fprintf(stderr, "synfin fuzz: libFuzzer ended with status %d\n",
			WIFEXITED(status) ? WEXITSTATUS(status) : -1);
		rc = EXIT_BAD;
	} else {
		fprintf(stderr, "synfin fuzz: no findings\n");
		rc = 0;
	}
exit:
	if (st) {
		sff_stats_close(st);
		unlink(stats_path);
	}
	sfh_target_close(t);
	return rc;
}

/* ---- minimize ---- */

/* A scenario from FILE: the text form, or else the binary form (a libFuzzer input). */
static int load_any(const char *path, struct sfh_scenario *s, int *binary)
{
	char err[512];
	size_t len;
	*binary = 0;
	if (sfh_scn_load(path, s, err, sizeof err) == 0)
		return 0;
	uint8_t *data = sff_read_file(path, &len, 1u << 20);
	if (!data) {
		fprintf(stderr, "synfin minimize: %s: %s\n", path, strerror(errno));
		return -1;
	}
	int text = 1;
	for (size_t i = 0; i < len; i++)
		if (data[i] == 0 ||
		    (data[i] < 0x20 && data[i] != '\n' && data[i] != '\t' && data[i] != '\r'))
			text = 0;
	if (text && len) {
		fprintf(stderr, "synfin minimize: %s\n", err);
		free(data);
		return -1;
	}
	sff_scn_from_input(data, len, s); /* with the ISNs the fuzz core gave it */
	sff_scn_strip(s);
	free(data);
	*binary = 1;
	return 0;
}

static int cmd_minimize(int argc, char **argv)
{
	const char *target = NULL, *out = NULL, *profile = NULL, *file = NULL, *v;
	int max_runs = 0, binary, rc = EXIT_BAD;
	char err[512];
	struct sfh_scenario s;
	struct sfh_result res;
	struct sff_runctx ctx = {.timeout_s = 10};
	FILE *f = NULL;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
			fputs(usage_minimize, stdout);
			return 0;
		} else if (is_opt(argv[i], "--target", "-t")) {
			if (!(target = opt_value(argc, argv, &i, "--target", "-t")))
				return EXIT_BAD;
		} else if (is_opt(argv[i], "--out", "-o")) {
			if (!(out = opt_value(argc, argv, &i, "--out", "-o")))
				return EXIT_BAD;
		} else if (is_opt(argv[i], "--profile", "-p")) {
			if (!(profile = opt_value(argc, argv, &i, "--profile", "-p")))
				return EXIT_BAD;
		} else if (is_opt(argv[i], "--max-runs", NULL)) {
			if (!(v = opt_value(argc, argv, &i, "--max-runs", NULL)))
				return EXIT_BAD;
			max_runs = atoi(v);
		} else if (argv[i][0] == '-' || file) {
			fprintf(stderr, "synfin minimize: unexpected '%s'\n%s", argv[i],
				usage_minimize);
			return EXIT_BAD;
		} else {
			file = argv[i];
		}
	}
	if (!file || !target) {
		fprintf(stderr, "synfin minimize: %s\n%s",
			file ? "--target is required" : "no FILE", usage_minimize);
		return EXIT_BAD;
	}
	if (load_any(file, &s, &binary) != 0)
		return EXIT_BAD;
	if (sfh_target_open(target, &ctx.target, err, sizeof err) != 0 ||
	    !(ctx.runner = sfh_runner_new(err, sizeof err))) {
		fprintf(stderr, "synfin minimize: %s\n", err);
		goto exit;
	}
	ctx.profile = profile ? sfo_profile_find(profile) : NULL;
	if (profile && !ctx.profile) {
		fprintf(stderr, "synfin minimize: unknown profile '%s'\n", profile);
		goto exit;
	}
	if (!ctx.profile && ctx.target->ops->profile)
		ctx.profile = sfo_profile_find(ctx.target->ops->profile);
	/* The first run decides: a stack that crashes is minimised in child processes. */
	ctx.isolate = (ctx.target->ops->caps & SFH_CAP_INPROC) != 0;
	if (sff_run_once(&ctx, &s, &res) != 0) {
		fprintf(stderr, "synfin minimize: %s\n", res.err);
		goto exit;
	}
	if (res.verdict.kind == SFO_DIV_OK || res.verdict.accepted) {
		fprintf(stderr, "synfin minimize: %s shows no divergence on %s: nothing to keep\n",
			file, target);
		rc = EXIT_FOUND;
		goto exit;
	}
	ctx.isolate =
	    ctx.isolate && (res.verdict.kind == SFO_DIV_CRASH || res.verdict.kind == SFO_DIV_HANG);
	uint32_t before = s.nev;
	int runs = sff_minimize(&ctx, &s, res.sig_hash, max_runs);
	if (runs < 0) {
		fprintf(stderr, "synfin minimize: %s: the divergence does not reproduce (flaky)\n",
			file);
		rc = EXIT_FOUND;
		goto exit;
	}
	size_t need = sfh_scn_format(&s, NULL, 0) + 1;
	char *text = malloc(need);
	if (!text)
		goto exit;
	sfh_scn_format(&s, text, need);
	f = out ? fopen(out, "w") : stdout;
	if (!f) {
		fprintf(stderr, "synfin minimize: %s: %s\n", out, strerror(errno));
		free(text);
		goto exit;
	}
	const struct sfo_rule_info *ri = sfo_rule(res.verdict.rule);
	fprintf(f, "# minimized by synfin from %s%s: %s\n", file, binary ? " (binary)" : "",
		res.signature);
	fprintf(f, "#! expect %s divergence %s %s\n", target, ri ? ri->id : "stack",
		sfo_div_kind_name(res.verdict.kind));
	fputs(text, f);
	free(text);
	if (out && fclose(f) != 0) {
		fprintf(stderr, "synfin minimize: %s: %s\n", out, strerror(errno));
		goto exit;
	}
	fprintf(stderr, "synfin minimize: %s: %u -> %u events in %d runs\n", res.signature, before,
		s.nev, runs);
	rc = 0;
exit:
	sff_runctx_dispose(&ctx);
	sfh_runner_free(ctx.runner);
	sfh_target_close(ctx.target);
	return rc;
}

/* ---- triage ---- */

static int cmd_triage(int argc, char **argv)
{
	const char *target = NULL;
	char *dirs[MAX_ARGS], err[512] = "", spec[256];
	int ndirs = 0, record = 0, rc = EXIT_BAD;
	struct sff_triage tr = {0};
	struct sff_runctx ctx = {.isolate = 1, .timeout_s = 10, .next_case = 0x70000000u};
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
			fputs(usage_triage, stdout);
			return 0;
		} else if (is_opt(argv[i], "--target", "-t")) {
			if (!(target = opt_value(argc, argv, &i, "--target", "-t")))
				return EXIT_BAD;
		} else if (strcmp(argv[i], "--record") == 0) {
			record = 1;
		} else if (argv[i][0] == '-' || ndirs >= MAX_ARGS) {
			fprintf(stderr, "synfin triage: unexpected '%s'\n%s", argv[i],
				usage_triage);
			return EXIT_BAD;
		} else {
			dirs[ndirs++] = argv[i];
		}
	}
	if (ndirs == 0) {
		fprintf(stderr, "synfin triage: no directory given\n%s", usage_triage);
		return EXIT_BAD;
	}
	if (!target) { /* the campaign's own, if it left one */
		char path[4200];
		size_t len;
		snprintf(path, sizeof path, "%s/.target", dirs[0]);
		char *t = (char *)sff_read_file(path, &len, sizeof spec - 1);
		if (t) {
			snprintf(spec, sizeof spec, "%s", t);
			spec[strcspn(spec, "\n")] = 0;
			target = spec;
			free(t);
		}
	}
	if (target) {
		if (sfh_target_open(target, &ctx.target, err, sizeof err) != 0 ||
		    !(ctx.runner = sfh_runner_new(err, sizeof err))) {
			fprintf(stderr, "synfin triage: %s\n", err);
			goto exit;
		}
		if (ctx.target->ops->profile)
			ctx.profile = sfo_profile_find(ctx.target->ops->profile);
		if (!(ctx.target->ops->caps & SFH_CAP_VTIME))
			ctx.max_wait_ms = 250;
	}
	if (sff_triage_scan(&tr, ndirs, dirs, target ? &ctx : NULL, target, record, err,
			    sizeof err) != 0) {
		fprintf(stderr, "synfin triage: %s\n", err);
		goto exit;
	}
	sff_triage_sort(&tr);
	if (tr.n == 0) {
		printf("no findings\n");
		rc = 0;
		goto exit;
	}
	print_table(stdout, &tr);
	print_causes(stdout, &tr);
	if (tr.unknown)
		printf("%u crash file(s) not re-run: give --target\n", tr.unknown);
	rc = EXIT_FOUND;
exit:
	sff_triage_free(&tr);
	sff_runctx_dispose(&ctx);
	sfh_runner_free(ctx.runner);
	sfh_target_close(ctx.target);
	return rc;
}

int sfh_cli_fuzz(const char *cmd, int argc, char **argv)
{
	if (strcmp(cmd, "fuzz") == 0)
		return cmd_fuzz(argc, argv);
	if (strcmp(cmd, "minimize") == 0)
		return cmd_minimize(argc, argv);
	if (strcmp(cmd, "triage") == 0)
		return cmd_triage(argc, argv);
	fprintf(stderr, "synfin: unknown command '%s'\n", cmd);
	return EXIT_BAD;
}
