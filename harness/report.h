/* Reports of runs: JSON records, expected verdicts of regression scenarios, and running
 * one case isolated in a child process so a crashing in-process stack becomes a verdict.
 * Functions here write only to the streams and paths they are given. */
#ifndef SYNFIN_REPORT_H
#define SYNFIN_REPORT_H

#include <stdio.h>

#include "runner.h"

/* Write s as a JSON string literal (quotes included). */
void sfh_json_str(FILE *f, const char *s);


/* The report schema (docs/report-schema.md): `synfin run --json`, a finding's
 * report.json and `synfin triage --json` share its field names and meanings. */
#define SFH_REPORT_SCHEMA 1

/* synfin's own version (CMake's project version). */
const char *sfh_version(void);

/* The verdict's detail text; never empty for a divergence: a verdict judged without
 * text (brief) gets one from its kind, rule and states. */
void sfh_verdict_detail(const struct sfo_verdict *v, char *buf, size_t cap);

/* The root-cause group key of a result on target (cause.h). */
void sfh_report_cause(const char *target, const struct sfh_result *res, char *key, size_t cap);

struct sfh_report_info {
	const char *file; /* the scenario file, or NULL */
	const char *target, *target_version, *profile;
	const char *sep; /* before each key: NULL or "" (one line), "\n  " (indented) */
};
/* The fields every report shares, comma-separated without the braces, so that a caller
 * can add its own: schema, synfin_version, [file], target, target_version, profile,
 * verdict, and for a divergence signature, group, kind, rule, section, requirement,
 * rule_title, severity, state_before, event_class, expected, observed, differences,
 * detail, event, line, packet [, accepted_because]. */
void sfh_report_json_fields(FILE *f, const struct sfh_report_info *info,
			    const struct sfh_result *res);

/* One JSON object (one line) describing the run of `file` on `target`: the shared
 * fields and "steps". */
void sfh_report_json(FILE *f, const char *file, const char *target, const char *version,
		     const char *profile, const struct sfh_result *res);

/* The crash object of a report: site, assertion, signal and frames (no leading comma). */
void sfh_crash_json(FILE *f, const struct sfh_crash *c);

/* Expected verdict of a regression scenario for one target, from its `#! expect` lines:
 *   #! expect TARGET ok
 *   #! expect TARGET divergence RULE-ID KIND [SITE]
 * TARGET is a target spec ("lwip", "model:fault=no-time-wait") or "*". The most specific
 * line wins (exact spec, then the name before ':', then '*'); none means ok. SITE (kind
 * crash only, quotes optional) names where the stack died: "tcp_out.c:859", or a prefix
 * of the site ending before ':', '+' or '(' ("tcp_out.c", "libslirp.so.0"). */
struct sfh_expectation {
	int divergence; /* 0: ok expected */
	char rule[64];
	char kind[32];
	char site[96]; /* "" if any site will do */
	int line;      /* the directive's line, 0 if defaulted */
};
/* Returns 0, or -1 with "file:line:col: reason" in err for a malformed directive. */
int sfh_expectation_read(const char *path, const char *target_spec, struct sfh_expectation *x,
			 char *err, size_t errlen);
/* The same from the file's text already in memory (path names it in errors). */
int sfh_expectation_parse(const char *path, const char *text, size_t len,
			  const char *target_spec, struct sfh_expectation *x, char *err,
			  size_t errlen);
/* 1 if res meets x. */
int sfh_expectation_met(const struct sfh_expectation *x, const struct sfh_result *res);

/* Run one case in a child process (fork): the child writes its trace lines through the
 * runner's trace callback (already set in o) and its result back through a pipe. If the
 * child dies from a signal, *res becomes a CRASH verdict naming the signal, the assertion
 * the stack printed and the faulting frames (res->crash); if it runs longer than
 * timeout_s, it is killed and *res becomes a HANG verdict. Returns as sfh_run. */
int sfh_run_isolated(struct sfh_runner *r, struct sfh_target *t, const struct sfh_scenario *s,
		     const struct sfh_run_opts *o, unsigned timeout_s, struct sfh_result *res);

/* The verdict of a case that died in the step p names (kind CRASH or HANG, rule `stack`),
 * with what c knows of the crash (may be NULL) and `what` as its detail; signed. */
void sfh_crash_result(const char *target, const struct sfh_progress *p, enum sfo_div_kind kind,
		      const char *what, const struct sfh_crash *c, struct sfh_result *res);

/* Sign res: its signature text and hash. A crash whose site is known is named by it,
 * "lwip/crash/tcp_out.c:859/split <= mss", not by the step it happened in; any other
 * verdict as sfh_signature names it. */
void sfh_result_sign(const char *target, struct sfh_result *res);

/* Scenario files named on a command line: files as given, directories searched
 * recursively for *.scn, sorted so runs are repeatable. */
struct sfh_filelist {
	char **paths;
	size_t n, cap;
};
int sfh_collect_scenarios(int n, char **args, struct sfh_filelist *fl, char *err, size_t errlen);
void sfh_filelist_free(struct sfh_filelist *fl);

#endif
