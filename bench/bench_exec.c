/* Benchmark: cases per second of lwIP out of process (exec: and shims/lwip/) beside the
 * in-process lwip target in the same sitting, on the seed corpus (no crashes there):
 * in-process direct (what a fuzz campaign with recovery does), in-process isolated (a
 * fork per case: what `synfin run` and `replay` do for an in-process stack), and exec:
 * (one shim for every case, a request/reply per op). Then the parity figure on seeds and
 * regressions: scenarios whose verdict is the same both ways.
 *
 *   bench_exec PATH/synfin-shim-lwip [SECONDS]
 *
 * Run by hand; figures go in notes, never into tests. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "report.h"
#include "runner.h"

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static struct sfh_scenario scn[256];
static size_t nscn;

static int load(const char *dir)
{
	struct sfh_filelist fl = {0};
	char err[512], *d[1] = {(char *)dir};
	if (sfh_collect_scenarios(1, d, &fl, err, sizeof err) != 0)
		return -1;
	for (size_t i = 0; i < fl.n && nscn < 256; i++)
		if (sfh_scn_load(fl.paths[i], &scn[nscn], err, sizeof err) == 0)
			nscn++;
	sfh_filelist_free(&fl);
	return 0;
}

/* Cases per second over secs of whole passes of the corpus. */
static double rate(struct sfh_runner *r, struct sfh_target *t, int isolated, double secs)
{
	const struct sfo_profile *prof = sfo_profile_find("lwip");
	struct sfh_result res;
	uint32_t n = 0;
	double t0 = now_s(), t1;
	do {
		for (size_t i = 0; i < nscn; i++, n++) {
			struct sfh_run_opts o = {.profile = prof, .case_no = n, .brief = 1};
			int rc = isolated ? sfh_run_isolated(r, t, &scn[i], &o, 60, &res)
					  : sfh_run(r, t, &scn[i], &o, &res);
			if (rc != 0) {
				fprintf(stderr, "bench_exec: %s\n", res.err);
				return -1;
			}
		}
		t1 = now_s();
	} while (t1 - t0 < secs);
	return n / (t1 - t0);
}

int main(int argc, char **argv)
{
	char err[512], spec[4200];
	if (argc < 2) {
		fprintf(stderr, "usage: bench_exec PATH/synfin-shim-lwip [SECONDS]\n");
		return 2;
	}
	double secs = argc > 2 ? atof(argv[2]) : 3;
	snprintf(spec, sizeof spec, "exec:%s", argv[1]);
	struct sfh_runner *r = sfh_runner_new(err, sizeof err);
	struct sfh_target *in = NULL, *ex = NULL;
	if (!r || load("corpus/seeds") != 0 || sfh_target_open("lwip", &in, err, sizeof err) != 0 ||
	    sfh_target_open(spec, &ex, err, sizeof err) != 0) {
		fprintf(stderr, "bench_exec: %s (run from the source tree)\n", err);
		return 2;
	}
	size_t nseeds = nscn;
	double direct = rate(r, in, 0, secs);
	double iso = rate(r, in, 1, secs);
	double exec = rate(r, ex, 0, secs);
	printf("seeds (%zu scenarios), %.0f s each:\n", nseeds, secs);
	printf("  lwip in-process, direct:   %9.0f cases/s\n", direct);
	printf("  lwip in-process, isolated: %9.0f cases/s\n", iso);
	printf("  exec:synfin-shim-lwip:     %9.0f cases/s  (%.2fx direct, %.2fx isolated)\n", exec,
	       exec / direct, exec / iso);

	/* parity on seeds + regressions (isolated: the regressions hold crashes) */
	load("corpus/regress");
	size_t same = 0;
	const struct sfo_profile *prof = sfo_profile_find("lwip");
	for (size_t i = 0; i < nscn; i++) {
		struct sfh_result a, b;
		struct sfh_run_opts o = {.profile = prof, .case_no = (uint32_t)i};
		int ra = sfh_run_isolated(r, in, &scn[i], &o, 60, &a);
		int rb = sfh_run(r, ex, &scn[i], &o, &b);
		const char *sa = strchr(a.signature, '/'), *sb = strchr(b.signature, '/');
		same += ra == 0 && rb == 0 && a.verdict.kind == b.verdict.kind &&
			(a.verdict.kind == SFO_DIV_OK || (sa && sb && strcmp(sa, sb) == 0));
	}
	printf("parity: %zu of %zu scenarios (seeds + regress) give the same verdict\n", same,
	       nscn);
	sfh_target_close(ex);
	sfh_target_close(in);
	sfh_runner_free(r);
	return 0;
}
