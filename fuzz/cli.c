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
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli_priv.h"
#include "fuzz.h"
#include "fuzz_priv.h"
#include "profile_file.h"
#include "isn.h"
#include "safeio.h"
#include "supervise.h"

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
    "      --isn          first judge T's ISNs across connections (as 'synfin isn') and\n"
    "                     record a predictable generator as a finding in OUT\n"
    "      --no-recover   let an in-process stack's crash end the worker (by default an\n"
    "                     lwIP assertion or a fault in libslirp's code is caught,\n"
    "                     recorded as a crash finding, the stack is restored and the\n"
    "                     worker carries on; off in sanitizer builds)\n"
    "      --export DIR   write T's binary seeds to DIR and its dictionary to DIR.dict\n"
    "\n"
    "CORPUS_DIR: libFuzzer's corpus directories (the first one grows); default\n"
    "synfin-out/corpus-T, seeded from --seeds. libFuzzer flags go after '--' (or anywhere\n"
    "as -name=value): -runs=N -max_total_time=S -seed=N -jobs=N -workers=N -fork=N\n"
    "-dict=F -timeout=S ... synfin sets -max_len, -artifact_prefix=OUT/ and a dictionary\n"
    "unless given, and -ignore_crashes=1 with -fork so a crash does not end the campaign.\n"
    "\n"
    "      --baseline F   accepted root-cause groups (see 'synfin triage --help')\n"
    "      --regress DIR  regression corpus whose pins mark groups known (default\n"
    "                     corpus/regress); --no-known: skip that\n"
    "      --libfuzzer-console  libFuzzer's own output on the console, not in OUT/logs\n"
    "      --lifecycle F  at the end, draw the lifecycle the corpus and findings cover\n"
    "                     to F.svg or F.dot ('synfin lifecycle --help')\n"
    "\n"
    "At the end: the root-cause groups of every finding in OUT (the first rows; all in\n"
    "OUT/summary.md and OUT/summary.json). libFuzzer's output and job logs: OUT/logs/.\n"
    "\n"
    "Exit: 0 nothing new (no findings, or every root-cause group known from the\n"
    "regression corpus or in the baseline), 1 new findings, 2 bad input or environment.\n";

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
static const char *opt_value(int argc, char **argv, int *i, const char *lng, const char *shrt,
			     int numeric);

const char *sff_cli_opt_value(int argc, char **argv, int *i, const char *lng, const char *shrt)
{
	return opt_value(argc, argv, i, lng, shrt, 0);
}

/* numeric: a value such as "-1" is taken, for the number check to refuse with a reason. */
static const char *opt_value(int argc, char **argv, int *i, const char *lng, const char *shrt,
			     int numeric)
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
		/* "--out -- -runs=10" must not create a directory named "--": a value that
		 * looks like an option is refused (--out=-x still names a file "-x"). */
		const char *next = argv[*i + 1];
		if (sfh_io_looks_like_option(next) &&
		    !(numeric && next[1] >= '0' && next[1] <= '9')) {
			fprintf(stderr,
				"synfin: %s needs a value, not the option '%s' (write %s=%s "
				"if that is meant)\n",
				a, argv[*i + 1], lng, argv[*i + 1]);
			return NULL;
		}
		return argv[++*i];
	}
	return NULL;
}

int sff_cli_opt_num(int argc, char **argv, int *i, const char *lng, uint64_t min, uint64_t max,
		    uint64_t *out)
{
	char err[300];
	const char *v = opt_value(argc, argv, i, lng, NULL, 1);
	if (!v)
		return -1;
	if (sfh_io_parse_u64(v, lng, min, max, out, err, sizeof err) != 0) {
		fprintf(stderr, "synfin: %s\n", err);
		return -1;
	}
	return 0;
}

int sff_cli_is_opt(const char *a, const char *lng, const char *shrt)
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
	const char *baseline, *regress, *lifecycle;
	int no_known, lf_console;
	const char *logs; /* where libFuzzer's own output went: " (see FILE)" */
	uint32_t max_wait;
	int progress, no_minimize, no_recover, worker, isn;
	char *dirs[MAX_ARGS];
	int ndirs;
	char *lf[MAX_ARGS]; /* libFuzzer flags */
	int nlf;
};

/* libFuzzer reads its numbers with atoi and takes what it gets: -max_len=-5 became a
 * huge allocation and std::bad_alloc. The numeric flags a campaign uses are checked here
 * first; others pass as given. */
static const struct {
	const char *name;
	long long min, max;
} lf_numeric[] = {
    {"max_len", 1, 1 << 20},
    {"runs", -1, LLONG_MAX},
    {"max_total_time", 0, 1 << 30},
    {"timeout", 0, 1 << 30},
    {"jobs", 0, 4096},
    {"workers", 0, 4096},
    {"fork", 0, 4096},
    {"seed", 0, UINT32_MAX},
    {"rss_limit_mb", 0, 1 << 30},
    {"malloc_limit_mb", 0, 1 << 30},
    {"len_control", 0, 1 << 30},
    {"verbosity", 0, 10},
    {"reload", 0, 1 << 30},
    {"print_final_stats", 0, 1},
    {"close_fd_mask", 0, 3},
};

static int check_lf_flag(const char *flag)
{
	const char *eq = strchr(flag, '=');
	if (flag[0] != '-' || !eq)
		return 0;
	for (size_t i = 0; i < sizeof lf_numeric / sizeof lf_numeric[0]; i++) {
		size_t n = strlen(lf_numeric[i].name);
		if ((size_t)(eq - flag - 1) != n || strncmp(flag + 1, lf_numeric[i].name, n) != 0)
			continue;
		const char *v = eq + 1;
		char *end;
		errno = 0;
		long long x = strtoll(v, &end, 10);
		int digits =
		    (v[0] == '-' ? v[1] : v[0]) >= '0' && (v[0] == '-' ? v[1] : v[0]) <= '9';
		if (!digits || *end || errno || x < lf_numeric[i].min || x > lf_numeric[i].max) {
			char shown[64];
			fprintf(
			    stderr,
			    "synfin fuzz: libFuzzer flag %.*s'%s': expected a whole number from "
			    "%lld to %lld\n",
			    (int)(v - flag), flag, sfh_io_term_escape(shown, sizeof shown, v),
			    lf_numeric[i].min, lf_numeric[i].max);
			return -1;
		}
	}
	return 0;
}

static int parse_fuzz_args(int argc, char **argv, struct fuzz_args *a)
{
	uint64_t num;
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
		if (sff_cli_is_opt(arg, "--target", "-t")) {
			if (!(a->target = sff_cli_opt_value(argc, argv, &i, "--target", "-t")))
				return -1;
		} else if (sff_cli_is_opt(arg, "--out", "-o")) {
			if (!(a->out = sff_cli_opt_value(argc, argv, &i, "--out", "-o")))
				return -1;
		} else if (sff_cli_is_opt(arg, "--profile", "-p")) {
			if (!(a->profile = sff_cli_opt_value(argc, argv, &i, "--profile", "-p")))
				return -1;
		} else if (sff_cli_is_opt(arg, "--seeds", NULL)) {
			if (!(a->seeds = sff_cli_opt_value(argc, argv, &i, "--seeds", NULL)))
				return -1;
		} else if (sff_cli_is_opt(arg, "--baseline", NULL)) {
			if (!(a->baseline = sff_cli_opt_value(argc, argv, &i, "--baseline", NULL)))
				return -1;
		} else if (sff_cli_is_opt(arg, "--regress", NULL)) {
			if (!(a->regress = sff_cli_opt_value(argc, argv, &i, "--regress", NULL)))
				return -1;
		} else if (sff_cli_is_opt(arg, "--lifecycle", NULL)) {
			if (!(a->lifecycle = sff_cli_opt_value(argc, argv, &i, "--lifecycle", NULL)))
				return -1;
		} else if (strcmp(arg, "--no-known") == 0) {
			a->no_known = 1;
		} else if (strcmp(arg, "--libfuzzer-console") == 0) {
			a->lf_console = 1;
		} else if (sff_cli_is_opt(arg, "--export", NULL)) {
			if (!(a->export_dir = sff_cli_opt_value(argc, argv, &i, "--export", NULL)))
				return -1;
		} else if (sff_cli_is_opt(arg, "--stats", NULL)) {
			if (!(a->stats = sff_cli_opt_value(argc, argv, &i, "--stats", NULL)))
				return -1;
		} else if (sff_cli_is_opt(arg, "--max-wait", NULL)) {
			if (sff_cli_opt_num(argc, argv, &i, "--max-wait", 0, 600000, &num) != 0)
				return -1;
			a->max_wait = (uint32_t)num;
		} else if (sff_cli_is_opt(arg, "--progress", NULL)) {
			if (sff_cli_opt_num(argc, argv, &i, "--progress", 0, 86400, &num) != 0)
				return -1;
			a->progress = (int)num;
		} else if (strcmp(arg, "--isn") == 0) {
			a->isn = 1;
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
	for (int k = 0; k < a->nlf; k++)
		if (check_lf_flag(a->lf[k]) != 0)
			return -1;
	return 0;
too_many:
	fprintf(stderr, "synfin fuzz: too many arguments\n");
	return -1;
}

/* ---- seeds and dictionary ---- */

/* The text seeds: --seeds, else corpus/seeds here, under $SYNFIN_SRC or installed. */
static const char *seeds_dir(const char *given, char *buf, size_t cap)
{
	return given ? given : sff_cli_data_dir("seeds", buf, cap);
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
		if (!(caps & (s.role == SFH_ROLE_ACTIVE ? SFH_CAP_ACTIVE : SFH_CAP_PASSIVE)) ||
		    (s.ipv6 && !(caps & SFH_CAP_IPV6)))
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
	char aerr[512];
	struct sfh_io_atomic a;
	FILE *f = sfh_io_atomic_open(&a, path, 0644, aerr, sizeof aerr);
	if (!f)
		return -1;
	fputs("# synfin: whole events of the binary scenario form (see harness/scenario_bin.c)\n", f);
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
	return sfh_io_atomic_commit(&a, aerr, sizeof aerr);
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
	/* Every worker, libFuzzer's -jobs and -fork processes too, ends with the command. */
	if (sff_sup_watch(EXIT_BAD) != 0) {
		fprintf(stderr, "synfin fuzz: %s: not a supervisor pipe\n", SFF_SUP_ENV);
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

/* After the campaign: libFuzzer's crash files in OUT become findings; the root-cause
 * table (the first rows; all of it in OUT/summary.md and summary.json). */
#define FUZZ_TABLE_ROWS 25
static int sweep_artifacts(const struct fuzz_args *a, int *groups, int *fresh)
{
	char err[512] = "", more[4300];
	struct sff_triage tr = {0};
	struct sff_runctx ctx = {.isolate = 1, .timeout_s = 10, .next_case = 0x60000000u};
	char *dirs[1] = {(char *)a->out};
	struct label_opts lo = {
	    .baseline = a->baseline, .regress = a->regress, .no_known = a->no_known};
	int rc = -1;
	*groups = *fresh = 0;
	if (sfh_target_open(a->target, &ctx.target, err, sizeof err) != 0 ||
	    !(ctx.runner = sfh_runner_new(err, sizeof err)))
		goto exit;
	ctx.profile = a->profile ? sfh_profile_find(a->profile) : NULL;
	if (!ctx.profile && ctx.target->ops->profile)
		ctx.profile = sfh_profile_find(ctx.target->ops->profile);
	if (!(ctx.target->ops->caps & SFH_CAP_VTIME))
		ctx.max_wait_ms = a->max_wait ? a->max_wait : 250;
	int saved = sff_cli_mute_stdout();
	int scanned = sff_triage_scan(&tr, 1, dirs, &ctx, a->target, 1, err, sizeof err);
	sff_cli_unmute(saved);
	if (scanned != 0)
		goto exit;
	sff_triage_sort(&tr);
	if (sff_cli_label(&tr, &ctx, a->target, &lo, err, sizeof err) != 0)
		goto exit;
	*groups = (int)tr.nc;
	*fresh = (int)sff_cli_new_causes(&tr);
	if (sff_cli_write_summary(a->out, &tr) != 0) {
		snprintf(err, sizeof err, "%s/summary.md: %s", a->out, strerror(errno));
		goto exit;
	}
	snprintf(more, sizeof more, ": all in %s/summary.md", a->out);
	if (tr.nc)
		sff_cli_print_causes(stderr, &tr, 0, FUZZ_TABLE_ROWS, more);
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

/* OUT is where a campaign creates files, and libFuzzer (whose files we do not open
 * ourselves) writes its crash files, logs and new corpus inputs: such a directory must
 * be one of our own user that others cannot write, else a link planted there could
 * redirect those writes (or feed it a private file to copy). */
static int out_dir_ok(const char *dir)
{
	struct stat st;
	if (lstat(dir, &st) != 0 || !S_ISDIR(st.st_mode) || st.st_uid != geteuid() ||
	    (st.st_mode & 002)) {
		fprintf(stderr,
			"synfin fuzz: %s: not a directory of user %d that others cannot write (a "
			"link, another user's, or world-writable); choose another\n",
			dir, (int)geteuid());
		return -1;
	}
	return 0;
}

static int prepare(struct fuzz_args *a, struct sfh_target **t, char *corpus, size_t cap)
{
	char err[512], buf[4200];
	if (sfh_target_open(a->target, t, err, sizeof err) != 0) {
		fprintf(stderr, "synfin fuzz: %s\n", err);
		return -1;
	}
	if (a->profile && !sfh_profile_find(a->profile)) {
		fprintf(stderr, "synfin fuzz: %s\n", sfh_profile_error(a->profile));
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
	/* libFuzzer writes new inputs to the first corpus directory itself, and reads it
	 * following links: it is held to the same rule as OUT. */
	if (out_dir_ok(a->out) != 0 || out_dir_ok(a->dirs[0]) != 0)
		return -1;
	sff_sup_remove_stale(a->out); /* left by writers of a campaign killed with SIGKILL */
	/* Which target a campaign in OUT ran, for `synfin triage OUT`. */
	snprintf(buf, sizeof buf, "%s/.target", a->out);
	if (sff_write_file(buf, a->target, strlen(a->target)) != 0) {
		fprintf(stderr, "synfin fuzz: %s: %s\n", buf, strerror(errno));
		return -1;
	}
	return 0;
}

/* --isn: ISNs are judged across connections, which no single fuzz input can show; the
 * verdict goes into OUT beside the campaign's findings (RFC 9293 3.4.1). */
static int isn_check(const struct fuzz_args *a)
{
	char err[512];
	struct sfh_target *t = NULL;
	struct sfh_isn_obs o[SFH_ISN_MAX_OBS];
	struct sfh_isn_verdict v;
	size_t n;
	const char *spec = sfh_isn_target_spec(a->target);
	int rc = -1;
	if (sfh_target_open(spec, &t, err, sizeof err) != 0 ||
	    sfh_isn_probe(t, 4, 0x4000, o, &n, err, sizeof err) != 0 ||
	    sfh_isn_analyze(o, n, &v) != 0) {
		fprintf(stderr, "synfin fuzz: isn: %s: %s\n", spec, err);
		goto exit;
	}
	fprintf(stderr, "synfin fuzz: isn: %s: %s%s: %s\n", spec,
		v.ok ? "not predictable" : "rule ", v.ok ? "" : sfo_rule(v.rule)->id, v.detail);
	if (!v.ok && sfh_isn_write_finding(a->out, spec, t->ops->version(), o, n, &v) != 0) {
		fprintf(stderr, "synfin fuzz: isn: cannot write to %s: %s\n", a->out,
			strerror(errno));
		goto exit;
	}
	rc = 0;
exit:
	sfh_target_close(t);
	return rc;
}

/* How long an interrupted worker (and its -jobs/-fork processes) gets to end on
 * SIGTERM before SIGKILL: the whole stop stays within a second. */
#define STOP_GRACE_S 0.5

/* stopped_by when a worker could not write a finding (sff_stats_fail). */
#define STOP_WRITE_FAILED (-1)

/* Supervise the worker until it ends; *stopped_by: the signal (SIGINT, SIGTERM, SIGHUP)
 * that stopped the campaign, STOP_WRITE_FAILED, or 0. The worker leads its own process group,
 * holding every process libFuzzer starts: a signal to the command alone (CI runners, kill PID)
 * stops them all, and a Ctrl-C on the terminal reaches only the command, which does the same. */
static int supervise(pid_t child, const struct fuzz_args *a, struct sff_stats *st, double t0,
		     int *stopped_by)
{
	int status = 0;
	double last = t0, stop_at = 0;
	struct sigaction sa = {.sa_handler = on_signal};
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	*stopped_by = 0;
	for (;;) {
		pid_t w = waitpid(child, &status, WNOHANG);
		if (w == child)
			break;
		if (w < 0 && errno != EINTR)
			return -1;
		char why[8];
		if (!*stopped_by && (g_interrupted || sff_stats_failed(st, why, sizeof why))) {
			*stopped_by = g_interrupted ? g_interrupted : STOP_WRITE_FAILED;
			stop_at = now_s();
			kill(-child, SIGTERM);
		} else if (*stopped_by && now_s() - stop_at > STOP_GRACE_S) {
			kill(-child, SIGKILL);
		}
		/* Woken by SIGCHLD (blocked since the fork) the moment the worker ends: a
		 * short campaign is not charged up to a polling period for its end. */
		struct timespec ts = {0, 100 * 1000 * 1000};
		sigset_t chld;
		sigemptyset(&chld);
		sigaddset(&chld, SIGCHLD);
		if (*stopped_by)
			ts.tv_nsec = 20 * 1000 * 1000;
		sigtimedwait(&chld, NULL, &ts);
		if (!*stopped_by && a->progress > 0 && now_s() - last >= a->progress) {
			last = now_s();
			print_progress(st, t0, "synfin fuzz:");
		}
	}
	return status;
}

/* An absolute path for a relative one (a trailing '/' kept), in buf; else
 * path itself. The workers run in OUT/logs (see quiet_worker), so the paths they are
 * given must not depend on the directory they start in. */
static const char *absolute(const char *path, char *buf, size_t cap)
{
	char real[PATH_MAX];
	size_t n = strlen(path);
	if (path[0] == '/' || !path[0])
		return path;
	if (realpath(path, real))
		snprintf(buf, cap, "%s%s", real, n && path[n - 1] == '/' ? "/" : "");
	else if (getcwd(real, sizeof real)) /* not there yet: relative to here */
		snprintf(buf, cap, "%s/%s", real, path);
	else
		return path;
	return buf;
}

/* libFuzzer with -jobs writes each job's log to fuzz-N.log in the current directory
 * and copies it to stderr when the job ends; without -jobs it reports every new unit on
 * stderr. All of that goes to OUT/logs (libfuzzer.log, fuzz-N.log): the console keeps
 * synfin's own progress and table. In the forked worker; 0 or -1. */
static int quiet_worker(const char *logs_dir)
{
	char path[4200];
	snprintf(path, sizeof path, "%s/libfuzzer.log", logs_dir);
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0 || chdir(logs_dir) != 0) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	fflush(NULL);
	int rc = dup2(fd, STDERR_FILENO) < 0 || dup2(fd, STDOUT_FILENO) < 0;
	close(fd);
	return rc ? -1 : 0;
}

/* A campaign stopped by a signal to the command, or whose worker was killed: the
 * findings written so far stay (each was renamed into place whole); libFuzzer's crash
 * files stay for `synfin triage OUT`. Returns the exit code. */
static int campaign_cut_short(const struct fuzz_args *a, const struct sff_stats *st, double t0,
			      int stopped_by, int status)
{
	struct sff_stats_view v;
	sff_stats_read(st, &v);
	if (stopped_by == STOP_WRITE_FAILED) {
		char why[512];
		sff_stats_failed(st, why, sizeof why);
		print_progress(st, t0, "synfin fuzz: stopped");
		fprintf(stderr,
			"synfin fuzz: stopped: cannot write a finding: %s; the %llu finding(s) "
			"written this run in %s are whole\n",
			why, (unsigned long long)v.findings, a->out);
		return EXIT_BAD;
	}
	if (stopped_by) {
		print_progress(st, t0, "synfin fuzz: stopped");
		fprintf(stderr,
			"synfin fuzz: stopped by %s: %llu finding(s) this run in %s "
			"('synfin triage %s' groups them)\n",
			strsignal(stopped_by), (unsigned long long)v.findings, a->out, a->out);
		return EXIT_BAD;
	}
	fprintf(stderr,
		"synfin fuzz: the libFuzzer worker was killed by signal %d (%s)%s; "
		"%llu finding(s) this run in %s\n",
		WTERMSIG(status), strsignal(WTERMSIG(status)), a->logs ? a->logs : "",
		(unsigned long long)v.findings, a->out);
	return EXIT_BAD;
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
	int rc = EXIT_BAD, n = 0, stats_fd = -1, stopped_by = 0, sup[2] = {-1, -1};

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
	/* Absolute paths for the workers, which run in OUT/logs (quiet_worker). */
	static char abs_out[PATH_MAX + 2], abs_dirs[MAX_ARGS][PATH_MAX + 2],
	    abs_lf[MAX_ARGS][PATH_MAX + 64], logs[PATH_MAX + 16], logs_note[PATH_MAX + 64];
	a.out = absolute(a.out, abs_out, sizeof abs_out);
	static char here[PATH_MAX]; /* exec: shims start here, not in the workers' OUT/logs */
	if (getcwd(here, sizeof here))
		setenv("SYNFIN_EXEC_DIR", here, 0);
	for (int i = 0; i < a.ndirs; i++)
		a.dirs[i] = (char *)absolute(a.dirs[i], abs_dirs[i], sizeof abs_dirs[i]);
	static const char *const path_flags[] = {
	    "dict",	   "artifact_prefix", "exact_artifact_path", "merge_control_file",
	    "seed_inputs", "features_dir"};
	for (int i = 0; i < a.nlf; i++) {
		char *eq = strchr(a.lf[i], '='), val[PATH_MAX + 2];
		int is_path = 0;
		for (size_t k = 0; eq && k < sizeof path_flags / sizeof path_flags[0]; k++)
			is_path |= strlen(path_flags[k]) == (size_t)(eq - a.lf[i] - 1) &&
				   strncmp(a.lf[i] + 1, path_flags[k], strlen(path_flags[k])) == 0;
		if (!a.lf_console && is_path && absolute(eq + 1, val, sizeof val) == val) {
			snprintf(abs_lf[i], sizeof abs_lf[i], "%.*s%s", (int)(eq + 1 - a.lf[i]),
				 a.lf[i], val);
			a.lf[i] = abs_lf[i];
		}
	}
	snprintf(logs, sizeof logs, "%s/logs", a.out);
	if (!a.lf_console) {
		if (sff_mkdirs(logs) != 0) {
			fprintf(stderr, "synfin fuzz: %s: %s\n", logs, strerror(errno));
			goto exit;
		}
		if (out_dir_ok(logs) != 0)
			goto exit;
		snprintf(logs_note, sizeof logs_note, " (libFuzzer's output: %s/libfuzzer.log)",
			 logs);
		a.logs = logs_note;
	}
	uint32_t caps = t->ops->caps;
	const char *version = t->ops->version();
	sfh_target_close(t);
	t = NULL;
	if (a.isn && isn_check(&a) != 0)
		goto exit;
	int nseeds = seeds ? write_seeds(seeds, a.dirs[0], caps) : 0;
	if (nseeds < 0)
		goto exit;
	if (!seeds)
		fprintf(stderr,
			"synfin fuzz: no text seeds found (corpus/seeds here, under "
			"$SYNFIN_SRC, or installed): starting from %s alone; give --seeds "
			"DIR\n",
			a.dirs[0]);

	/* The shared statistics live in memory, not in OUT: every worker inherits the
	 * descriptor (libFuzzer's shell keeps it) and opens it as /proc/self/fd/N, so nothing
	 * is left behind however the campaign ends, and nothing in OUT can be a planted link. */
	stats_fd = memfd_create("synfin-stats", 0);
	if (stats_fd < 0) {
		fprintf(stderr, "synfin fuzz: memfd_create: %s\n", strerror(errno));
		goto exit;
	}
	snprintf(stats_path, sizeof stats_path, "/proc/self/fd/%d", stats_fd);
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
		fprintf(stderr,
			"synfin fuzz: %s runs in real time and a case mostly waits for "
			"its timers; more processes than CPUs pay off, e.g. "
			"-- -jobs=64 -workers=64\n",
			a.target);
	/* lwip's and slirp's crashes are recovered in the worker (recover.c); other
	 * in-process stacks take the worker down, and libFuzzer ends a plain run at its
	 * first crash. */
	if ((caps & SFH_CAP_INPROC) && (a.no_recover || !sff_recover_can(a.target)) &&
	    !has_lf_flag(a.lf, a.nlf, "fork"))
		fprintf(stderr,
			"synfin fuzz: a crash of %s ends a libFuzzer process; -- -fork=N "
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
	pid_t parent = getpid(), child = -1;
	if (pipe2(sup, O_CLOEXEC) != 0 || (child = fork()) < 0) {
		fprintf(stderr, "synfin fuzz: %s: %s\n", child < 0 && sup[0] >= 0 ? "fork" : "pipe",
			strerror(errno));
		sigprocmask(SIG_SETMASK, &oldmask, NULL);
		goto exit;
	}
	if (child == 0) {
		sigprocmask(SIG_SETMASK, &oldmask, NULL);
		setpgid(0, 0); /* see supervise() */
		if (sff_sup_bind_parent(parent) != 0 || sff_sup_hand_down(sup[0], sup[1]) != 0)
			_exit(EXIT_BAD); /* the command is gone already, or no supervision */
		if (!a.lf_console && quiet_worker(logs) != 0) {
			fprintf(stderr, "synfin fuzz: %s: %s\n", logs, strerror(errno));
			_exit(EXIT_BAD);
		}
		/* lf_argv minus argv[0], as run_worker expects. */
		_exit(run_worker(&a, n, lf_argv));
	}
	setpgid(child, child); /* also here: no race with the first kill(-child) */
	close(sup[0]);
	sup[0] = -1;
	int status = supervise(child, &a, st, t0, &stopped_by);
	sigprocmask(SIG_SETMASK, &oldmask, NULL);
	if (status >= 0)
		kill(-child, SIGKILL); /* anything libFuzzer started and left behind */
	sff_sup_remove_stale(a.out);
	char why[8];
	if (!stopped_by && sff_stats_failed(st, why, sizeof why))
		stopped_by = STOP_WRITE_FAILED; /* the worker ended before we saw it */
	if (stopped_by || (status >= 0 && WIFSIGNALED(status))) {
		rc = campaign_cut_short(&a, st, t0, stopped_by, status);
		goto exit;
	}
	print_progress(st, t0, "synfin fuzz: done");
	int groups = 0, fresh = 0, crashed = count_artifacts(a.out) > before;
	if (crashed)
		fprintf(stderr, "synfin fuzz: turning libFuzzer's crash files into findings\n");
	int swept = sweep_artifacts(&a, &groups, &fresh);
	struct sff_stats_view v;
	sff_stats_read(st, &v);
	if (swept != 0) {
		rc = EXIT_BAD;
	} else if (status < 0 || (!v.findings && !crashed && !groups &&
				  (!WIFEXITED(status) || WEXITSTATUS(status) != 0))) {
		fprintf(stderr, "synfin fuzz: libFuzzer ended with status %d%s\n",
			WIFEXITED(status) ? WEXITSTATUS(status) : -1, a.logs ? a.logs : "");
		rc = EXIT_BAD;
	} else if (!groups) {
		fprintf(stderr, "synfin fuzz: no findings\n");
		rc = 0;
	} else {
		/* 0 nothing new, 1 new findings: new root-cause groups, neither pinned in the
		 * regression corpus (known) nor listed in the baseline */
		fprintf(stderr,
			"synfin fuzz: %llu new finding(s) this run; %d root-cause group(s) in %s, "
			"%d new\n",
			(unsigned long long)v.findings, groups, a.out, fresh);
		rc = fresh ? EXIT_FOUND : 0;
	}
	if (a.lifecycle && rc != EXIT_BAD) {
		char *life_dirs[2] = {a.dirs[0], (char *)a.out};
		if (sfc_cli_lifecycle_of(a.target, a.profile, 2, life_dirs, a.lifecycle) != 0)
			rc = EXIT_BAD;
	}
exit:
	sff_stats_close(st);
	if (stats_fd >= 0)
		close(stats_fd);
	for (int i = 0; i < 2; i++)
		if (sup[i] >= 0)
			close(sup[i]);
	sfh_target_close(t);
	if (stopped_by > 0) {
		/* Die by the signal, as the shell and CI runners expect of an interrupted
		 * command (after everything above is cleaned up). */
		signal(stopped_by, SIG_DFL);
		raise(stopped_by);
	}
	return rc;
}

/* ---- triage ---- */

int sfh_cli_fuzz(const char *cmd, int argc, char **argv)
{
	if (strcmp(cmd, "fuzz") == 0)
		return cmd_fuzz(argc, argv);
	if (strcmp(cmd, "minimize") == 0)
		return sff_cli_minimize(argc, argv);
	if (strcmp(cmd, "triage") == 0)
		return sff_cli_triage(argc, argv);
	if (strcmp(cmd, "diff") == 0)
		return sff_cli_diff(argc, argv);
	if (strcmp(cmd, "replay") == 0 || strcmp(cmd, "ci") == 0 || strcmp(cmd, "lifecycle") == 0)
		return sfc_cli(cmd, argc, argv);
	fprintf(stderr, "synfin: unknown command '%s'\n", cmd);
	return EXIT_BAD;
}
