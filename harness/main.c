/* synfin: the command line. Exit codes: 0 conformant, 1 divergence, 2 bad input or
 * environment. Only this file prints to the terminal or exits. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz.h"
#include "isn.h"
#include "packetdrill.h"
#include "profile_file.h"
#include "report.h"
#include "runner.h"
#include "safeio.h"
#include "scenario.h"
#include "target.h"
#include "target_model.h"

int sfa_main(int argc, char **argv); /* agent/agent.h: `synfin agent` */

#define EXIT_DIVERGENCE 1
#define EXIT_BAD 2

static const char usage_main[] =
	"usage: synfin COMMAND [options]\n"
	"\n"
	"synfin finds where a TCP stack's connection lifecycle departs from RFC 9293.\n"
	"\n"
	"commands:\n"
	"  run FILE... --target T     play scenarios on a target beside the reference model\n"
	"  replay DIR... --target T   replay a regression corpus against its expected verdicts\n"
	"  fuzz --target T [DIR...]   fuzz a target with libFuzzer (flags after --)\n"
	"  minimize FILE --target T   shrink a scenario while keeping its divergence\n"
	"  triage DIR...              group findings by root cause; --new: only new ones\n"
	"  diff --target A --target B FILE...|--fuzz N   where two stacks differ, refereed\n"
	"  ci --target T              replay, fuzz for a budget, triage; JUnit, SARIF, summary\n"
	"  lifecycle --target T DIR.. draw the RFC 9293 state diagram as the inputs covered it\n"
	"  explain [RULE]             the rule table, or one rule\n"
	"  isn --target T             judge the target's initial sequence numbers (3.4.1)\n"
	"  targets                    the targets built in, and whether they can run here\n"
	"  import FILE.pkt...         packetdrill scripts to scenarios\n"
	"  export --packetdrill F     a finding or scenario to a packetdrill script\n"
	"  agent [--ctl C]            serve the control protocol with this OS's sockets\n"
	"\n"
	"'synfin COMMAND --help' describes each; 'synfin --version' prints the version.\n"
	"Exit: 0 conformant, 1 divergence, 2 error (fuzz, triage and ci: 0 nothing new, 1 new\n"
	"findings, 2 error). 'man synfin' describes every command, option and file format.\n";

static const char usage_run[] =
	"usage: synfin run FILE... --target T [--profile P] [--pcap F] [--json F] [-q] [--fork]\n"
	"\n"
	"Plays each scenario on target T and on the reference model in lockstep and prints a\n"
	"trace: one line per segment or call, and beside each step the verdict and the\n"
	"RFC 9293 rule. Stops a scenario at its first divergence.\n"
	"\n"
	"  -t, --target T    model, model:fault=NAME, lwip, slirp, linux, exec:CMD ('synfin\n"
	"                    targets'; exec: runs a stack behind a shim, docs/exec-protocol.md)\n"
	"  -p, --profile P   rfc9293 (strict), rfc5961, a stack's profile, or a profile file\n"
	"                    (docs/testing-your-own-stack.md); default: the\n"
	"                    target's own profile, whose accepted differences do not fail\n"
	"      --pcap F      write every packet of every run to F (opens in Wireshark)\n"
	"      --json F      write one JSON record per scenario to F\n"
	"  -q, --quiet       no trace, one summary line per scenario\n"
	"      --fork        run every case of an in-process stack (lwip, slirp) in a child\n"
	"                    process of its own; by default lwip's run in this process and a\n"
	"                    child confirms only a crash or hang (the verdicts are the same)\n"
	"\n"
	"Exit: 0 all conformant, 1 a divergence, 2 bad input or environment.\n";

static const char usage_explain[] =
	"usage: synfin explain [RULE-ID|REQUIREMENT]\n"
	"\n"
	"Without an argument, lists every rule of the reference model: id, RFC 9293 section,\n"
	"requirement id, severity, title, then the pseudo-rule `stack` (a crash or hang). With\n"
	"one, shows that rule (or every rule citing a requirement such as MUST-13, or the\n"
	"meaning of a verdict kind such as crash or hang).\n";

static const char usage_isn[] =
	"usage: synfin isn --target T [--connections N] [--out DIR] [-q]\n"
	"\n"
	"Opens N connections to a listener of target T (default 12, at least 9): three on each\n"
	"of N/3 4-tuples, the second straight after the first, the third after a 2 s wait;\n"
	"each ends with a RST in SYN-RECEIVED. Prints every ISN and flags a predictable\n"
	"generator (RFC 9293 3.4.1): isn.clock (MUST-8) when the ISN is constant or steps by\n"
	"the same amount whether or not time passed; isn.predictable (SHLD-1, RFC 6528) when\n"
	"each new 4-tuple's first ISN lies next to the previous tuple's (no secret F).\n"
	"'lwip' is probed as lwip:iss=own: lwIP's own generator, not synfin's override.\n"
	"\n"
	"  -t, --target T        the target (linux needs root; it makes its own namespace)\n"
	"  -n, --connections N   how many connections (9..96, in threes)\n"
	"      --out DIR         on a finding, write DIR/HASH/report.json and report.txt\n"
	"                        (what 'synfin triage DIR' groups)\n"
	"  -q, --quiet           only the verdict line\n"
	"\n"
	"Exit: 0 not predictable, 1 predictable, 2 bad input or environment.\n";

static const char usage_targets[] = "usage: synfin targets\n"
				    "\n"
				    "Lists the targets built into this synfin, their versions and\n"
				    "capabilities, and why a target cannot run here if it cannot.\n";

static void print_trace(void *ctx, const char *line)
{
	fprintf((FILE *)ctx, "%s\n", line);
}

/* ---- run ---- */

struct run_args {
	const char *target, *profile, *pcap, *json;
	int quiet, fork_each;
	int nfiles;
	char **files;
};

/* getopt takes the next word as an option's value even when it is "--" or "-x": refused
 * (write --pcap=-x for a file named "-x"). */
static int value_ok(char **argv)
{
	if (optarg && optarg == argv[optind - 1] && sfh_io_looks_like_option(optarg)) {
		fprintf(stderr, "synfin: %s needs a value, not the option '%s'\n", argv[optind - 2],
			optarg);
		return 0;
	}
	return 1;
}

static int parse_run_args(int argc, char **argv, struct run_args *a, const char *usage)
{
	static const struct option longopts[] = {
		{"target", required_argument, NULL, 't'}, {"profile", required_argument, NULL, 'p'},
		{"pcap", required_argument, NULL, 'P'},   {"json", required_argument, NULL, 'J'},
		{"quiet", no_argument, NULL, 'q'},        {"fork", no_argument, NULL, 'F'},
		{"help", no_argument, NULL, 'h'},         {NULL, 0, NULL, 0}};
	int c;
	memset(a, 0, sizeof *a);
	optind = 1;
	while ((c = getopt_long(argc, argv, "t:p:qh", longopts, NULL)) != -1) {
		if (!value_ok(argv))
			return -1;
		switch (c) {
		case 't':
			a->target = optarg;
			break;
		case 'p':
			a->profile = optarg;
			break;
		case 'P':
			a->pcap = optarg;
			break;
		case 'J':
			a->json = optarg;
			break;
		case 'q':
			a->quiet = 1;
			break;
		case 'F':
			a->fork_each = 1;
			break;
		case 'h':
			fputs(usage, stdout);
			exit(0);
		default:
			fputs(usage, stderr);
			return -1;
		}
	}
	a->files = argv + optind;
	a->nfiles = argc - optind;
	if (!a->target) {
		fprintf(stderr, "synfin: --target is required\n%s", usage);
		return -1;
	}
	return 0;
}

/* The profile to judge by: --profile, else the target's own, else the default. */
static const struct sfo_profile *pick_profile(const char *name, const struct sfh_target *t)
{
	/* a name, or a profile file (profile_file.h); a target's own is named by its ops
	 * (an exec: shim's by its HELLO) */
	const char *n = name ? name : t->ops->profile;
	if (n) {
		const struct sfo_profile *p = sfh_profile_find(n);
		if (!p)
			fprintf(stderr, "synfin: %s\n", sfh_profile_error(n));
		return p;
	}
	return sfo_profile_default();
}

/* A crash's site and frames, indented under its summary line (not with -q). */
static void print_crash(const struct sfh_crash *c)
{
	if (c->site[0])
		printf("    site: %s %s\n", c->site, c->what);
	for (const char *p = c->frames; *p;) {
		size_t n = strcspn(p, "\n");
		printf("    %.*s\n", (int)n, p);
		p += n + (p[n] == '\n');
	}
}

static void print_summary(const char *file, const struct sfh_result *res, int quiet)
{
	const struct sfo_verdict *v = &res->verdict;
	if (v->kind == SFO_DIV_OK) {
		printf("%s: conformant (%u steps)%s\n", file, res->steps,
		       res->results_unchecked ? "; call results not checked (not supported by "
						"the target)"
					      : "");
		return;
	}
	const struct sfo_rule_info *ri = sfo_rule(v->rule);
	if (!ri) { /* crash or hang: the stack failed, no RFC rule applies */
		printf("%s:%u: %s %s in %s on %s: %s\n", file, res->div_line,
		       v->kind == SFO_DIV_CRASH ? "CRASH" : "HANG", sfo_div_kind_name(v->kind),
		       sfo_state_name(v->before), sfo_evclass_name(v->evclass), v->detail);
		if (v->kind == SFO_DIV_CRASH && !quiet)
			print_crash(&res->crash);
		return;
	}
	printf("%s:%u: %s %s in %s on %s: rule %s (RFC 9293 %s%s%s, %s): %s\n", file,
	       res->div_line, v->accepted ? "accepted" : "DIVERGENCE", sfo_div_kind_name(v->kind),
	       sfo_state_name(v->before), sfo_evclass_name(v->evclass), ri->id, ri->section,
	       ri->req[0] ? " " : "", ri->req, sfo_severity_name(v->sev), v->detail);
}

static int load_all(int n, char **files, struct sfh_scenario *scn)
{
	char err[512];
	int bad = 0;
	for (int i = 0; i < n; i++) {
		if (sfh_scn_load(files[i], &scn[i], err, sizeof err) != 0) {
			sfh_io_term_puts(stderr, err); /* it may quote the file: escaped */
			fputc('\n', stderr);
			bad = 1;
		}
	}
	return bad ? -1 : 0;
}

struct outputs {
	struct sfh_pcap *pcap;
	FILE *json;
	struct sfh_io_atomic pcap_file, json_file;
};

/* An output path must name a file (or nothing yet): refused before anything runs. */
static int output_path_ok(const char *opt, const char *path)
{
	struct stat st;
	if (lstat(path, &st) == 0 && !S_ISREG(st.st_mode) && !S_ISLNK(st.st_mode)) {
		fprintf(stderr, "synfin: %s %s: %s\n", opt, path,
			S_ISDIR(st.st_mode) ? "is a directory" : "not a regular file");
		return -1;
	}
	return 0;
}

/* Outputs are written to temporary names (created O_EXCL|O_NOFOLLOW) and renamed at the
 * end: never half-written, never written through a planted link. */
static int open_outputs(const struct run_args *a, struct outputs *out)
{
	char err[512];
	memset(out, 0, sizeof *out);
	out->pcap_file.dirfd = out->json_file.dirfd = -1;
	if ((a->pcap && output_path_ok("--pcap", a->pcap) != 0) ||
	    (a->json && output_path_ok("--json", a->json) != 0))
		return -1;
	if (a->pcap) {
		FILE *f = sfh_io_atomic_open(&out->pcap_file, a->pcap, 0644, err, sizeof err);
		out->pcap = f ? sfh_pcap_fopen(f, a->pcap, err, sizeof err) : NULL;
		out->pcap_file.f = NULL; /* the pcap writer owns (and closes) the stream */
		if (!out->pcap) {
			sfh_io_atomic_abort(&out->pcap_file);
			fprintf(stderr, "synfin: %s\n", err);
			return -1;
		}
	}
	if (a->json) {
		out->json = sfh_io_atomic_open(&out->json_file, a->json, 0644, err, sizeof err);
		if (!out->json) {
			fprintf(stderr, "synfin: %s\n", err);
			if (out->pcap)
				sfh_pcap_close(out->pcap);
			out->pcap = NULL;
			sfh_io_atomic_abort(&out->pcap_file);
			return -1;
		}
		fputs("[\n", out->json);
	}
	return 0;
}

/* Close (and with keep, rename into place) the outputs; every write is checked here. */
static int close_outputs(const struct run_args *a, struct outputs *out, int keep)
{
	char err[512];
	int bad = 0;
	if (out->pcap) {
		if (sfh_pcap_close(out->pcap) != 0) {
			fprintf(stderr, "synfin: %s: %s\n", a->pcap, strerror(errno));
			bad = 1;
		}
		out->pcap = NULL;
		if (keep && !bad && sfh_io_atomic_commit(&out->pcap_file, err, sizeof err) != 0) {
			fprintf(stderr, "synfin: %s\n", err);
			bad = 1;
		}
		sfh_io_atomic_abort(&out->pcap_file);
	}
	if (out->json) {
		fputs("\n]\n", out->json);
		out->json = NULL;
		if (!keep || bad) {
			sfh_io_atomic_abort(&out->json_file);
		} else if (sfh_io_atomic_commit(&out->json_file, err, sizeof err) != 0) {
			fprintf(stderr, "synfin: %s\n", err);
			bad = 1;
		}
	}
	return bad ? -1 : 0;
}

static int cmd_run(int argc, char **argv)
{
	struct run_args a;
	struct outputs out;
	char err[512];
	struct sfh_target *t = NULL;
	struct sfh_runner *r = NULL;
	struct sff_cases cases = {0};
	int rc = EXIT_BAD, diverged = 0, broken = 0;

	if (parse_run_args(argc, argv, &a, usage_run) != 0)
		return EXIT_BAD;
	if (a.nfiles == 0) {
		fprintf(stderr, "synfin run: no scenario files given\n%s", usage_run);
		return EXIT_BAD;
	}
	struct sfh_scenario *scn = calloc((size_t)a.nfiles, sizeof *scn);
	if (!scn || load_all(a.nfiles, a.files, scn) != 0)
		goto exit;
	if (sfh_target_open(a.target, &t, err, sizeof err) != 0) {
		fprintf(stderr, "synfin: %s\n", err);
		goto exit;
	}
	const struct sfo_profile *prof = pick_profile(a.profile, t);
	r = sfh_runner_new(err, sizeof err);
	if (!prof || !r || open_outputs(&a, &out) != 0)
		goto exit;
	sff_cases_open(&cases, r, t, a.fork_each);
	cases.confirm_each = !a.quiet || out.json; /* they show each crash's frames */
	for (int i = 0; i < a.nfiles; i++) {
		struct sfh_result res;
		struct sfh_run_opts o = {.profile = prof, .pcap = out.pcap,
					 .trace = a.quiet ? NULL : print_trace, .trace_ctx = stdout,
					 .case_no = (uint32_t)i};
		if (!a.quiet)
			printf("== %s\n", a.files[i]);
		if (sff_cases_run(&cases, &scn[i], &o, &res) != 0) {
			fflush(stdout); /* in its place among the lines before, as with --fork */
			fprintf(stderr, "synfin: %s: %s\n", a.files[i], res.err);
			broken = 1;
			continue;
		}
		print_summary(a.files[i], &res, a.quiet);
		if (res.verdict.kind != SFO_DIV_OK && !res.verdict.accepted)
			diverged = 1;
		if (out.json) {
			if (i)
				fputs(",\n", out.json);
			sfh_report_json(out.json, a.files[i], a.target, t->ops->version(),
					prof->name, &res);
		}
	}
	if (close_outputs(&a, &out, !broken) != 0)
		broken = 1;
	rc = broken ? EXIT_BAD : diverged ? EXIT_DIVERGENCE : 0;
exit:
	sff_cases_close(&cases);
	sfh_runner_free(r);
	sfh_target_close(t);
	free(scn);
	return rc;
}

/* ---- isn ---- */

static int parse_isn_args(int argc, char **argv, const char **target, unsigned *conns,
			  const char **out, int *quiet)
{
	static const struct option longopts[] = {
	    {"target", required_argument, NULL, 't'}, {"connections", required_argument, NULL, 'n'},
	    {"out", required_argument, NULL, 'o'},    {"quiet", no_argument, NULL, 'q'},
	    {"help", no_argument, NULL, 'h'},	      {NULL, 0, NULL, 0}};
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "t:n:qh", longopts, NULL)) != -1) {
		char err[300];
		uint64_t num;
		if (!value_ok(argv))
			return -1;
		switch (c) {
		case 't':
			*target = optarg;
			break;
		case 'n':
			if (sfh_io_parse_u64(optarg, "--connections", 3 * SFH_ISN_PER_TUPLE,
					     SFH_ISN_MAX_OBS, &num, err, sizeof err) != 0) {
				fprintf(stderr, "synfin isn: %s\n", err);
				return -1;
			}
			*conns = (unsigned)num;
			break;
		case 'o':
			*out = optarg;
			break;
		case 'q':
			*quiet = 1;
			break;
		case 'h':
			fputs(usage_isn, stdout);
			exit(0);
		default:
			fputs(usage_isn, stderr);
			return -1;
		}
	}
	if (!*target || optind < argc || *conns < 3 * SFH_ISN_PER_TUPLE ||
	    *conns > SFH_ISN_MAX_OBS) {
		fprintf(stderr, "synfin isn: %s\n%s",
			!*target	? "--target is required"
			: optind < argc ? "unexpected argument"
					: "--connections takes 9 to 96",
			usage_isn);
		return -1;
	}
	return 0;
}

static int cmd_isn(int argc, char **argv)
{
	const char *target = NULL, *out = NULL;
	unsigned conns = 12;
	int quiet = 0, rc = EXIT_BAD;
	char err[512];
	struct sfh_target *t = NULL;
	struct sfh_isn_obs obs[SFH_ISN_MAX_OBS];
	struct sfh_isn_verdict iv;
	size_t n;

	if (parse_isn_args(argc, argv, &target, &conns, &out, &quiet) != 0)
		return EXIT_BAD;
	const char *spec = sfh_isn_target_spec(target);
	if (strcmp(spec, target) != 0 && !quiet)
		printf("note: probing %s: synfin's lwip target numbers ISNs itself for "
		       "reproducible cases; this hands them back to lwIP's tcp_next_iss\n",
		       spec);
	if (sfh_target_open(spec, &t, err, sizeof err) != 0) {
		fprintf(stderr, "synfin: %s\n", err);
		return EXIT_BAD;
	}
	if (sfh_isn_probe(t, conns / SFH_ISN_PER_TUPLE, 0x4000, obs, &n, err, sizeof err) != 0 ||
	    sfh_isn_analyze(obs, n, &iv) != 0) {
		fprintf(stderr, "synfin isn: %s: %s\n", spec, err);
		goto exit;
	}
	const struct sfo_rule_info *ri = sfo_rule(iv.rule);
	if (!quiet)
		sfh_isn_print(stdout, obs, n);
	if (iv.ok)
		printf("isn: %s: not predictable (%zu connections): %s\n", spec, n, iv.detail);
	else
		printf("isn: %s: DIVERGENCE wrong-field: rule %s (RFC 9293 %s %s, %s)%s: %s\n",
		       spec, ri->id, ri->section, ri->req, sfo_severity_name(iv.sev),
		       iv.no_clock && iv.predictable ? " and isn.predictable (SHLD-1, SHOULD)" : "",
		       iv.detail);
	rc = iv.ok ? 0 : EXIT_DIVERGENCE;
	if (!iv.ok && out &&
	    sfh_isn_write_finding(out, spec, t->ops->version(), obs, n, &iv) != 0) {
		fprintf(stderr, "synfin isn: cannot write the finding under %s: %s\n", out,
			strerror(errno));
		rc = EXIT_BAD;
	}
exit:
	sfh_target_close(t);
	return rc;
}

/* ---- explain, targets ---- */

static void print_rule(const struct sfo_rule_info *ri, int verbose)
{
	printf("%-34s %-10s %-8s %-7s %s\n", ri->id, ri->section, ri->req[0] ? ri->req : "-",
	       sfo_severity_name(ri->sev), ri->title);
	(void)verbose;
}

/* What each verdict kind means, for `explain KIND` (a report names its kind beside its
 * rule: `stack crash`, `stack hang`). */
static const char *kind_title(enum sfo_div_kind k)
{
	switch (k) {
	case SFO_DIV_OK:
		return "the step conformed";
	case SFO_DIV_STATE:
		return "the target ended the step in another state than the rule allows";
	case SFO_DIV_MISSING:
		return "a response the rule requires was not sent";
	case SFO_DIV_UNEXPECTED:
		return "a response the rule does not allow was sent";
	case SFO_DIV_FIELD:
		return "a response was sent with a field the rule does not allow";
	case SFO_DIV_CRASH:
		return "the stack died (assertion or signal): rule stack, signature names the site";
	case SFO_DIV_HANG:
		return "the case gave no verdict in time: rule stack, named by its step";
	}
	return "?";
}

static int cmd_explain(int argc, char **argv)
{
	if (argc > 1 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		fputs(usage_explain, stdout);
		return 0;
	}
	if (argc > 2) {
		fputs(usage_explain, stderr);
		return EXIT_BAD;
	}
	int found = 0;
	printf("%-34s %-10s %-8s %-7s %s\n", "RULE", "SECTION", "REQ", "LEVEL", "TITLE");
	/* the model's rules, then the pseudo-rules numbered after them (stack) */
	for (size_t i = 0; i < sfo_rule_count() + sfo_pseudo_rule_count(); i++) {
		const struct sfo_rule_info *ri = sfo_rule_any((sfo_rule_t)i);
		if (argc == 2 && strcmp(argv[1], ri->id) != 0 && strcasecmp(argv[1], ri->req) != 0)
			continue;
		print_rule(ri, argc == 2);
		found++;
	}
	for (int k = 0; k < SFO_NDIV_KINDS; k++) {
		const char *name = sfo_div_kind_name((enum sfo_div_kind)k);
		if (argc == 2 && strcmp(argv[1], name) == 0) {
			printf("%-34s %-10s %-8s %-7s %s\n", name, "kind", "-", "-",
			       kind_title((enum sfo_div_kind)k));
			found++;
		}
	}
	if (argc == 2 && !found) {
		fprintf(stderr, "synfin explain: no rule '%s' (run 'synfin explain' for all)\n",
			argv[1]);
		return EXIT_BAD;
	}
	return 0;
}

static int cmd_targets(int argc, char **argv)
{
	char why[512];
	if (argc > 1) {
		fputs(usage_targets, strcmp(argv[1], "--help") == 0 ? stdout : stderr);
		return strcmp(argv[1], "--help") == 0 ? 0 : EXIT_BAD;
	}
	for (size_t i = 0; i < sfh_target_count(); i++) {
		const struct sfh_target_ops *ops = sfh_target_at(i);
		int ok = ops->probe(why, sizeof why) == 0;
		printf("%-8s %-11s %s\n", ops->name, ok ? "available" : "unavailable", ops->summary);
		printf("         version: %s; profile: %s; caps:%s%s%s%s%s%s%s\n", ops->version(),
		       ops->profile ? ops->profile : sfo_profile_default()->name,
		       ops->caps & SFH_CAP_STATE ? " state" : "",
		       ops->caps & SFH_CAP_VTIME ? " virtual-time" : " real-time",
		       ops->caps & SFH_CAP_PASSIVE ? " passive" : "",
		       ops->caps & SFH_CAP_ACTIVE ? " active" : "",
		       ops->caps & SFH_CAP_INPROC ? " in-process" : "",
		       ops->caps & SFH_CAP_LISTENER ? " listener" : "",
		       ops->caps & SFH_CAP_CONNS ? " connections" : "");
		if (!ok)
			printf("         why not: %s\n", why);
	}
	printf("\nseeded faults (model:fault=NAME):\n");
	for (size_t i = 0; i < sfh_fault_count(); i++)
		printf("  %-22s %s\n", sfh_fault_at(i)->name, sfh_fault_at(i)->title);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		fputs(usage_main, argc < 2 ? stderr : stdout);
		return argc < 2 ? EXIT_BAD : 0;
	}
	const char *cmd = argv[1];
	if (strcmp(cmd, "--version") == 0 || strcmp(cmd, "version") == 0) {
		printf("synfin %s (report schema %d)\n", sfh_version(), SFH_REPORT_SCHEMA);
		return 0;
	}
	if (strcmp(cmd, "run") == 0)
		return cmd_run(argc - 1, argv + 1);
	if (strcmp(cmd, "explain") == 0)
		return cmd_explain(argc - 1, argv + 1);
	if (strcmp(cmd, "targets") == 0)
		return cmd_targets(argc - 1, argv + 1);
	if (strcmp(cmd, "isn") == 0)
		return cmd_isn(argc - 1, argv + 1);
	if (strcmp(cmd, "agent") == 0)
		return sfa_main(argc - 1, argv + 1); /* agent/agent_main.c */
	if (strcmp(cmd, "fuzz") == 0 || strcmp(cmd, "minimize") == 0 || strcmp(cmd, "triage") == 0 ||
	    strcmp(cmd, "diff") == 0 || strcmp(cmd, "replay") == 0 || strcmp(cmd, "ci") == 0 ||
	    strcmp(cmd, "lifecycle") == 0)
		return sfh_cli_fuzz(cmd, argc - 1, argv + 1);
	if (strcmp(cmd, "import") == 0 || strcmp(cmd, "export") == 0)
		return sfh_cli_packetdrill(cmd, argc - 1, argv + 1);
	fprintf(stderr, "synfin: unknown command '%s'\n%s", cmd, usage_main);
	return EXIT_BAD;
}
