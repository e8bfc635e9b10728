/* synfin in CI: replaying a regression corpus into per-case results, and the report
 * formats CI systems read: JUnit XML (test reports), SARIF 2.1.0 (code scanning) and a
 * picture of the lifecycle a run covered (Graphviz DOT of the RFC 9293 state diagram).
 *
 * Library code: writes only to the streams and paths it is given, never prints or exits.
 * The commands on top are fuzz/cli_ci.c (`synfin replay`, `synfin ci`, `synfin
 * lifecycle`).
 */
#ifndef SYNFIN_FUZZ_CI_H
#define SYNFIN_FUZZ_CI_H

#include <stdio.h>

#include "fuzz_priv.h"
#include "report.h"
#include "runner.h"

/* ---- replay.c: a regression corpus, case by case ---- */

/* SFC_SKIP: the target cannot run the scenario (sfh_result.unsupported: a `timers`
 * setting, timing on `out`, IPv6 on a target without it): neither passed nor failed */
enum sfc_status { SFC_PASS, SFC_FAIL, SFC_ERROR, SFC_SKIP };

struct sfc_case {
	char *path;  /* the scenario file */
	char *suite; /* its corpus directory (the suite it reports under) */
	char *trace; /* the run's trace, one line per step ("" if none) */
	enum sfc_status status;
	double secs;
	struct sfh_expectation x;
	struct sfh_result res;
	char message[768]; /* failure or error: expected, got, rule, kind, detail */
};

struct sfc_replay {
	struct sfc_case *c; /* every case's record with keep_cases, else the last one's */
	size_t n;	    /* cases run */
	size_t kept;	    /* records in c */
	size_t passed, failed, errors, skipped;
	double secs;
};

struct sfc_replay_opts {
	const char *target;		   /* the target spec (also the expectations') */
	const struct sfo_profile *profile; /* NULL: the target's own, else the default */
	int keep_trace;			   /* capture each case's trace for the reports */
	int keep_cases; /* keep every case's record in c (the JUnit report reads them) */
	int fork_each;	/* every case of an in-process stack in a child (fuzz.h, sff_cases) */
	/* optional: called after each case (e.g. to print its line) */
	void (*each)(void *ctx, const struct sfc_case *c);
	void *ctx;
	/* optional: the lifecycle counts every case adds to (lifecycle.c) */
	struct sfc_life *life;
};

/* Replay every *.scn under args (files as given, directories recursively) on the
 * target. An empty corpus is an error: a CI job must not pass on nothing. Returns 0
 * (look at rp->failed and rp->errors), or -1 with err set (no scenario, target cannot
 * open, out of memory). */
int sfc_replay_run(struct sfc_replay *rp, int nargs, char **args, const struct sfc_replay_opts *o,
		   char *err, size_t errlen);
void sfc_replay_free(struct sfc_replay *rp);

/* ---- junit.c ---- */

/* JUnit XML (the Surefire/Jenkins junit-10.xsd shape GitLab and GitHub report actions
 * read): a <testsuites> with one <testsuite> per corpus directory, each with tests,
 * failures, errors, skipped, time, timestamp and hostname; one <testcase> per scenario
 * with its time, a <failure> or <error> whose message names the rule, kind and detail,
 * and the trace in <system-out>. `extra`, if set, is one more suite of campaign results
 * (the root-cause groups of a `synfin ci`). Returns 0 or -1 (write error). */
struct sfc_group_case {
	const char *name;    /* the group key */
	const char *message; /* NULL: passes (known or baselined) */
	const char *detail;  /* the body: example, signature, rule */
};
struct sfc_extra_suite {
	const char *name;
	const struct sfc_group_case *c;
	size_t n;
	double secs;
};
int sfc_junit_write(FILE *f, const char *target, const struct sfc_replay *rp,
		    const struct sfc_extra_suite *extra);

/* ---- sarif.c ---- */

/* SARIF 2.1.0: one run of tool "synfin" whose driver's rules are the rule table
 * (oracle/rules.def and the pseudo-rule stack: id, RFC section, requirement id,
 * severity as level, title and help), and one result per root-cause group of tr (rule,
 * level, message with the group key and the example's difference, the finding
 * directory and its scenario file as locations, baseline state new or unchanged).
 * `base` is the directory finding paths are relative to (uriBaseId SRCROOT); NULL
 * leaves them as they are. Returns 0 or -1. */
int sfc_sarif_write(FILE *f, const struct sff_triage *tr, const char *target, const char *base);

/* ---- lifecycle.c: the RFC 9293 state diagram, as covered ---- */

struct sfc_life;
/* Counts shared with child processes (isolated runs), so they survive a fork. */
struct sfc_life *sfc_life_new(void);
void sfc_life_free(struct sfc_life *l);
/* The runner's cover callback (ctx: struct sfc_life *). */
void sfc_life_step(void *ctx, const struct sfh_cover *c);
/* A run's verdict: a divergence marks its transition (before -> observed) with its rule. */
void sfc_life_verdict(struct sfc_life *l, const struct sfh_result *res);
/* Steps counted, and distinct transitions seen. */
unsigned long sfc_life_steps(const struct sfc_life *l);
unsigned sfc_life_transitions(const struct sfc_life *l);
/* The diagram as Graphviz DOT: every RFC 9293 state (Figure 5) and its transitions;
 * those covered drawn with a width by how often (log scale) and their count, those of
 * the figure not covered dashed grey, divergent ones red with their rules. */
int sfc_life_dot(FILE *f, const struct sfc_life *l, const char *title);

#endif
