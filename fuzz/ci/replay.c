/* Replaying a regression corpus case by case, with what the reports need of each: its
 * suite (the corpus directory), time, trace and a failure message naming the rule, the
 * kind and the detail. The same runs `synfin replay` always made: in-process stacks in a
 * child process, so a crash is a verdict. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "profile_file.h"
#include "ci.h"
#include "fuzz.h"

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Trace lines go straight to a file descriptor: an isolated run writes them from its
 * child process, which may die mid-case and would lose anything buffered. */
static void trace_fd(void *ctx, const char *line)
{
	int fd = *(int *)ctx;
	size_t n = strlen(line);
	if (write(fd, line, n) != (ssize_t)n || write(fd, "\n", 1) != 1)
		return; /* a lost trace line loses no verdict */
}

static char *read_back(int fd)
{
	off_t end = lseek(fd, 0, SEEK_END);
	char *buf = malloc(end > 0 ? (size_t)end + 1 : 1);
	if (!buf)
		return NULL;
	ssize_t got = end > 0 && lseek(fd, 0, SEEK_SET) == 0 ? read(fd, buf, (size_t)end) : 0;
	buf[got > 0 ? got : 0] = 0;
	if (ftruncate(fd, 0) != 0 || lseek(fd, 0, SEEK_SET) != 0)
		buf[0] = 0;
	return buf;
}

/* The directory a scenario reports under: the argument it was found under (a corpus
 * directory), or for a file given alone its directory. */
static char *suite_of(const char *path, int nargs, char **args)
{
	for (int i = 0; i < nargs; i++) {
		size_t n = strlen(args[i]);
		while (n > 1 && args[i][n - 1] == '/')
			n--;
		if (strncmp(path, args[i], n) == 0 && path[n] == '/') {
			/* subdirectories of a corpus are suites of their own */
			const char *slash = strrchr(path, '/');
			return strndup(path, (size_t)(slash - path));
		}
	}
	const char *slash = strrchr(path, '/');
	return slash ? strndup(path, (size_t)(slash - path)) : strdup(".");
}

static void expectation_text(const struct sfh_expectation *x, char *buf, size_t cap)
{
	if (!x->divergence)
		snprintf(buf, cap, "ok");
	else
		snprintf(buf, cap, "divergence %s %s%s%s", x->rule, x->kind,
			 x->site[0] ? " at " : "", x->site);
}

/* "expected E, got SIGNATURE: rule R (RFC 9293 S REQ, SEV), kind K: DETAIL" */
static void failure_message(struct sfc_case *c)
{
	char want[256];
	const struct sfo_verdict *v = &c->res.verdict;
	expectation_text(&c->x, want, sizeof want);
	if (v->kind == SFO_DIV_OK || v->accepted) {
		snprintf(c->message, sizeof c->message, "expected %s, got %s (%u steps)", want,
			 v->kind == SFO_DIV_OK ? "conformant" : "a difference the profile accepts",
			 c->res.steps);
		return;
	}
	const struct sfo_rule_info *ri = sfo_rule_any(v->rule);
	snprintf(c->message, sizeof c->message,
		 "expected %s, got %s: rule %s (RFC 9293 %s%s%s, %s), kind %s, in %s on %s at "
		 "line %u: %s%s%s",
		 want, c->res.signature, ri ? ri->id : "?", ri ? ri->section : "?",
		 ri && ri->req[0] ? " " : "", ri ? ri->req : "", sfo_severity_name(v->sev),
		 sfo_div_kind_name(v->kind), sfo_state_name(v->before),
		 sfo_evclass_name(v->evclass), c->res.div_line, v->detail,
		 c->res.crash.site[0] ? "; site " : "", c->res.crash.site);
}

static const struct sfo_profile *pick_profile(const struct sfc_replay_opts *o,
					      const struct sfh_target *t)
{
	if (o->profile)
		return o->profile;
	if (t->ops->profile && sfh_profile_find(t->ops->profile))
		return sfh_profile_find(t->ops->profile);
	return sfo_profile_default();
}

static int one_case(struct sfc_case *c, struct sff_cases *cases,
		    const struct sfo_profile *prof, const struct sfc_replay_opts *o, int *fd,
		    uint32_t case_no)
{
	char err[512];
	struct sfh_scenario s;
	struct sfh_run_opts ro = {.profile = prof,
				  .case_no = case_no,
				  .trace = *fd >= 0 ? trace_fd : NULL,
				  .trace_ctx = fd,
				  .cover = o->life ? sfc_life_step : NULL,
				  .cover_ctx = o->life};
	double t0 = now_s();
	int rc;
	char *text = NULL;
	size_t len = 0;
	memset(&c->x, 0, sizeof c->x);
	/* the file read once for both the scenario and its expected verdict */
	if (sfh_file_read(c->path, &text, &len, err, sizeof err) != 0 ||
	    sfh_scn_parse(text, len, c->path, &s, err, sizeof err) != 0 ||
	    sfh_expectation_parse(c->path, text, len, o->target, &c->x, err, sizeof err) != 0) {
		c->status = SFC_ERROR;
		snprintf(c->message, sizeof c->message, "%s", err);
		rc = 0;
	} else {
		/* in-process where the stack recovers, a child only to confirm a crash */
		rc = sff_cases_run(cases, &s, &ro, &c->res);
		if (rc != 0 && c->res.unsupported) {
			c->status = SFC_SKIP;
			snprintf(c->message, sizeof c->message, "%s", c->res.err);
		} else if (rc != 0) {
			c->status = SFC_ERROR;
			snprintf(c->message, sizeof c->message, "harness error: %s", c->res.err);
		} else if (sfh_expectation_met(&c->x, &c->res)) {
			c->status = SFC_PASS;
		} else {
			c->status = SFC_FAIL;
			failure_message(c);
		}
		if (rc == 0 && o->life)
			sfc_life_verdict(o->life, &c->res);
	}
	free(text);
	c->secs = now_s() - t0;
	c->trace = *fd >= 0 ? read_back(*fd) : strdup("");
	return c->trace ? 0 : -1;
}

int sfc_replay_run(struct sfc_replay *rp, int nargs, char **args, const struct sfc_replay_opts *o,
		   char *err, size_t errlen)
{
	struct sfh_filelist fl = {0};
	struct sfh_target *t = NULL;
	struct sfh_runner *r = NULL;
	FILE *tmp = NULL;
	struct sff_cases cases = {0};
	int fd = -1, rc = -1;
	double t0 = now_s();
	memset(rp, 0, sizeof *rp);
	if (nargs == 0) {
		snprintf(err, errlen, "no corpus given");
		return -1;
	}
	if (sfh_collect_scenarios(nargs, args, &fl, err, errlen) != 0)
		goto exit;
	if (fl.n == 0) {
		/* an empty corpus passes nothing: a CI job must not go green on it */
		snprintf(err, errlen, "no scenario (*.scn) in %s%s: an empty corpus is an error",
			 args[0], nargs > 1 ? " ..." : "");
		goto exit;
	}
	if (sfh_target_open(o->target, &t, err, errlen) != 0 || !(r = sfh_runner_new(err, errlen)))
		goto exit;
	if (o->keep_trace) {
		if (!(tmp = tmpfile())) {
			snprintf(err, errlen, "tmpfile: %s", strerror(errno));
			goto exit;
		}
		fd = fileno(tmp);
	}
	/* Without keep_cases one record serves every case in turn: thousands of records of
	 * a few KiB each cost a page fault or two per case, a tenth of a replay's time. */
	if (!(rp->c = calloc(o->keep_cases ? fl.n : 1, sizeof *rp->c))) {
		snprintf(err, errlen, "out of memory");
		goto exit;
	}
	const struct sfo_profile *prof = pick_profile(o, t);
	sff_cases_open(&cases, r, t, o->fork_each);
	for (size_t i = 0; i < fl.n; i++) {
		struct sfc_case *c = &rp->c[o->keep_cases ? i : 0];
		if (!o->keep_cases && rp->kept) {
			free(c->path);
			free(c->suite);
			free(c->trace);
			memset(c, 0, sizeof *c);
		}
		rp->kept = o->keep_cases ? i + 1 : 1;
		rp->n++;
		c->path = strdup(fl.paths[i]);
		c->suite = suite_of(fl.paths[i], nargs, args);
		if (!c->path || !c->suite || one_case(c, &cases, prof, o, &fd, (uint32_t)i) != 0) {
			snprintf(err, errlen, "out of memory");
			goto exit;
		}
		rp->passed += c->status == SFC_PASS;
		rp->failed += c->status == SFC_FAIL;
		rp->errors += c->status == SFC_ERROR;
		rp->skipped += c->status == SFC_SKIP;
		if (o->each)
			o->each(o->ctx, c);
	}
	rc = 0;
exit:
	rp->secs = now_s() - t0;
	sff_cases_close(&cases);
	if (tmp)
		fclose(tmp);
	sfh_filelist_free(&fl);
	sfh_runner_free(r);
	sfh_target_close(t);
	return rc;
}

void sfc_replay_free(struct sfc_replay *rp)
{
	for (size_t i = 0; i < rp->kept; i++) {
		free(rp->c[i].path);
		free(rp->c[i].suite);
		free(rp->c[i].trace);
	}
	free(rp->c);
	memset(rp, 0, sizeof *rp);
}
