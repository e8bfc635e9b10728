/* A verdict depends on the scenario alone, never on what the process ran before it.
 *
 * Every scenario of corpus/seeds and corpus/regress (those the target does not crash on)
 * is run alone, at case 0, in a fresh process (a child that opens the target and runs
 * nothing else: what `synfin run FILE` does), and then in one process as the N-th of a
 * batch, at case number N (other ports; ISNs as the scenario says), twice over in
 * opposite orders; every trace (each segment both ways, state and verdict) of the batch
 * must be byte-identical to the fresh one. On lwip, model, a seeded fault of the model
 * and slirp (where built).
 *
 * SYNFIN_FRESH_DIRS=dir1:dir2 replaces the corpus directories (e.g. a campaign's
 * findings), SYNFIN_FRESH_TARGETS=t1,t2 the targets. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "fuzz_priv.h"
#include "tracebuf.h"

#define MAXS 2048


static struct sfh_scenario scn[MAXS];
static char *path[MAXS];
static char *fresh[MAXS];
static size_t nscn;

/* The scenarios of dirs the target runs to completion (no expected crash). */
static void load(const char *target, int ndirs, char **dirs)
{
	struct sfh_filelist fl = {0};
	char err[512];
	nscn = 0;
	CHECK_EQ(sfh_collect_scenarios(ndirs, dirs, &fl, err, sizeof err), 0);
	for (size_t i = 0; i < fl.n && nscn < MAXS; i++) {
		struct sfh_expectation x;
		if (sfh_scn_load(fl.paths[i], &scn[nscn], err, sizeof err) != 0 ||
		    sfh_expectation_read(fl.paths[i], target, &x, err, sizeof err) != 0)
			continue;
		if (x.divergence && strcmp(x.kind, "crash") == 0)
			continue;
		path[nscn++] = strdup(fl.paths[i]);
	}
	sfh_filelist_free(&fl);
}

static const struct sfo_profile *profile_of(const struct sfh_target *t)
{
	const struct sfo_profile *p = t->ops->profile ? sfo_profile_find(t->ops->profile) : NULL;
	return p ? p : sfo_profile_default();
}

/* Run scenario i on t at case_no with its trace into a new buffer (or "(error)"). */
static char *trace_of(struct sfh_runner *r, struct sfh_target *t, size_t i, uint32_t case_no)
{
	struct buf b = {0};
	struct sfh_result res;
	struct sfh_run_opts o = {
	    .profile = profile_of(t), .trace = to_buf, .trace_ctx = &b, .case_no = case_no};
	if (sfh_run(r, t, &scn[i], &o, &res) != 0) {
		free(b.p);
		return strdup("(harness error)\n");
	}
	if (!b.p)
		return strdup("");
	return b.p;
}

/* Scenario i alone, at case 0, in a child that never ran anything else. */
static char *fresh_trace(const char *target, size_t i)
{
	int fd[2];
	CHECK_EQ(pipe(fd), 0);
	fflush(NULL);
	pid_t pid = fork();
	if (pid == 0) {
		char err[512];
		struct sfh_target *t = NULL;
		struct sfh_runner *r = sfh_runner_new(err, sizeof err);
		close(fd[0]);
		if (!r || sfh_target_open(target, &t, err, sizeof err) != 0)
			_exit(1);
		char *tr = trace_of(r, t, i, 0);
		size_t n = strlen(tr), off = 0;
		while (off < n) {
			ssize_t w = write(fd[1], tr + off, n - off);
			if (w <= 0)
				_exit(2);
			off += (size_t)w;
		}
		_exit(0);
	}
	close(fd[1]);
	struct buf b = {0};
	char chunk[4096];
	ssize_t got;
	while ((got = read(fd[0], chunk, sizeof chunk - 1)) > 0) {
		chunk[got] = 0;
		for (char *line = chunk; *line;) {
			char *nl = strchr(line, '\n');
			if (!nl) { /* a line split across reads: keep it whole */
				size_t k = strlen(line);
				if (b.n + k + 2 > b.cap) {
					b.cap = (b.n + k + 2) * 2;
					b.p = realloc(b.p, b.cap);
					if (!b.p)
						abort();
				}
				memcpy(b.p + b.n, line, k + 1);
				b.n += k;
				break;
			}
			*nl = 0;
			to_buf(&b, line);
			line = nl + 1;
		}
	}
	close(fd[0]);
	int st = 0;
	waitpid(pid, &st, 0);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	return b.p ? b.p : strdup("");
}

static void check_target(const char *target, int ndirs, char **dirs)
{
	char err[512];
	struct sfh_target *t = NULL;
	if (sfh_target_open(target, &t, err, sizeof err) != 0) {
		printf("%s: not available (%s)\n", target, err);
		return;
	}
	sfh_target_close(t);
	t = NULL;
	load(target, ndirs, dirs);
	CHECK(nscn >= 20);
	for (size_t i = 0; i < nscn; i++)
		fresh[i] = fresh_trace(target, i);
	struct sfh_runner *r = sfh_runner_new(err, sizeof err);
	CHECK(r != NULL);
	CHECK_EQ(sfh_target_open(target, &t, err, sizeof err), 0);
	size_t bad = 0;
	for (int pass = 0; pass < 2 && r && t; pass++) {
		for (size_t k = 0; k < nscn; k++) {
			size_t i = pass ? nscn - 1 - k : k;
			uint32_t case_no = (uint32_t)(1 + pass * nscn + k);
			char *tr = trace_of(r, t, i, case_no);
			if (strcmp(tr, fresh[i]) != 0) {
				if (bad++ < 3)
					fprintf(stderr,
						"%s: %s as case %u of a batch differs from alone:\n"
						"--- alone\n%s--- in the batch\n%s",
						target, path[i], case_no, fresh[i], tr);
				else
					fprintf(stderr, "%s: %s differs (case %u)\n", target,
						path[i], case_no);
			}
			free(tr);
		}
	}
	CHECK_EQ(bad, 0);
	printf("%s: %zu scenarios, %zu traces differ from a fresh process's\n", target, nscn, bad);
	sfh_runner_free(r);
	sfh_target_close(t);
	for (size_t i = 0; i < nscn; i++) {
		free(fresh[i]);
		free(path[i]);
	}
}

/* The ISNs are the scenario's: a target that can choose its ISN uses tisn (an `out`
 * assertion with absolute numbers holds), whatever the case number. */
static void check_isn_line(const char *target)
{
	static const char text[] = "role passive\n"
				   "isn pisn=0xfffffff0 tisn=0x7ffffffe\n"
				   "in S seq=0xfffffff0\n"
				   "out S. seq=0x7ffffffe ack=0xfffffff1\n"
				   "in . seq=0xfffffff1 ack=0x7fffffff\n"
				   "expect state ESTABLISHED\n";
	char err[512];
	struct sfh_scenario sc;
	struct sfh_target *t = NULL;
	struct sfh_runner *r = sfh_runner_new(err, sizeof err);
	CHECK_EQ(sfh_scn_parse(text, sizeof text - 1, "isn.scn", &sc, err, sizeof err), 0);
	CHECK_EQ(sfh_target_open(target, &t, err, sizeof err), 0);
	for (uint32_t case_no = 0; r && t && case_no < 3000; case_no += 997) {
		struct sfh_result res;
		struct sfh_run_opts o = {.profile = profile_of(t), .case_no = case_no};
		CHECK_EQ(sfh_run(r, t, &sc, &o, &res), 0);
		CHECK_EQ(res.assert_failed, 0);
		CHECK_EQ(res.verdict.kind, SFO_DIV_OK);
	}
	sfh_runner_free(r);
	sfh_target_close(t);
}

int main(void)
{
	char *dirs[16] = {"corpus/seeds", "corpus/regress"};
	int ndirs = 2;
	char *env = getenv("SYNFIN_FRESH_DIRS");
	if (env && *env) {
		ndirs = 0;
		for (char *d = strtok(strdup(env), ":"); d && ndirs < 16; d = strtok(NULL, ":"))
			dirs[ndirs++] = d;
	}
	const char *targets = getenv("SYNFIN_FRESH_TARGETS");
	char *tl = strdup(targets && *targets ? targets
					      : "model,model:fault=rst-out-of-window,lwip,slirp");
	for (char *tg = strtok(tl, ","); tg; tg = strtok(NULL, ","))
		check_target(tg, ndirs, dirs);
	free(tl);
	check_isn_line("model");
	check_isn_line("lwip");
	return check_done();
}
