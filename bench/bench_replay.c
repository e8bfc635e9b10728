/* Benchmark: scenarios per second replaying a corpus (default: the seeds) through the
 * runner (model and oracle in lockstep) on one target, beside a raw exchange loop through
 * the same target in the same run (handshake and RST, no model, no oracle, no anchors),
 * and the ratio. Also prints RSS before and after, to show that cases do not leak. On
 * lwip the runs are guarded by the in-process recovery (fuzz/recover.c), so a corpus may
 * hold scenarios that crash lwIP: what `synfin replay` would run in-process without
 * loading files, printing or confirming crashes in a child (its upper bound).
 *
 *   bench_replay TARGET [SECONDS [DIR...]]   e.g. bench_replay lwip 5 corpus/seeds corpus/regress
 *
 * Run by hand; figures go in notes, never into tests. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fuzz_priv.h"
#include "report.h"
#include "runner.h"

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static long rss_kib(void)
{
	char line[256];
	long kib = -1;
	FILE *f = fopen("/proc/self/status", "r");
	while (f && fgets(line, sizeof line, f))
		if (strncmp(line, "VmRSS:", 6) == 0)
			kib = strtol(line + 6, NULL, 10);
	if (f)
		fclose(f);
	return kib;
}

static int drain_first(struct sfh_target *t, struct sfh_pkt *pkts, struct sfo_seg *seg)
{
	struct sfh_endpoints ep;
	int n = sfh_target_drain(t, pkts, 16), found = 0;
	for (int i = 0; i < n; i++)
		if (!found && sfh_wire_parse(pkts[i].data, pkts[i].len, &ep, seg, NULL) == 0)
			found = 1;
	while (n == 16)
		n = sfh_target_drain(t, pkts, 16);
	return found ? 0 : -1;
}

/* One raw passive exchange: SYN in, SYN-ACK out, ACK in, RST in. */
static int raw_case(struct sfh_target *t, struct sfh_wire *w, struct sfh_pkt *pkts, uint32_t i)
{
	struct sfh_endpoints ep;
	struct sfo_seg syn = {.seq = 1000 + i, .flags = SFO_SYN, .wnd = 65535}, synack;
	uint8_t buf[SFH_PKT_MAX];
	if (sfh_target_reset(t, SFH_ROLE_PASSIVE, i, &ep) != 0 ||
	    sfh_target_call(t, SFO_CALL_LISTEN, 0) < 0)
		return -1;
	int n = sfh_wire_build(w, &ep, &syn, buf, sizeof buf);
	if (sfh_target_inject(t, buf, (size_t)n) != 0 || drain_first(t, pkts, &synack) != 0)
		return -1;
	struct sfo_seg ack = {
	    .seq = syn.seq + 1, .ack = synack.seq + 1, .flags = SFO_ACK, .wnd = 65535};
	n = sfh_wire_build(w, &ep, &ack, buf, sizeof buf);
	if (sfh_target_inject(t, buf, (size_t)n) != 0)
		return -1;
	struct sfo_seg rst = {.seq = syn.seq + 1, .flags = SFO_RST};
	n = sfh_wire_build(w, &ep, &rst, buf, sizeof buf);
	if (sfh_target_inject(t, buf, (size_t)n) != 0)
		return -1;
	sfh_target_drain(t, pkts, 16);
	return 0;
}

int main(int argc, char **argv)
{
	char err[512];
	const char *spec = argc > 1 ? argv[1] : "model";
	double secs = argc > 2 ? atof(argv[2]) : 3.0;
	struct sfh_filelist seeds = {0};
	char *dir = "corpus/seeds";
	char **dirs = argc > 3 ? argv + 3 : &dir;
	int ndirs = argc > 3 ? argc - 3 : 1;
	struct sfh_target *t;
	if (sfh_collect_scenarios(ndirs, dirs, &seeds, err, sizeof err) != 0 || seeds.n == 0) {
		fprintf(stderr, "bench_replay: run from the source tree: %s\n", err);
		return 2;
	}
	if (sfh_target_open(spec, &t, err, sizeof err) != 0) {
		fprintf(stderr, "bench_replay: %s\n", err);
		return 2;
	}
	/* the scenarios the target can run (as `synfin replay` skips the others) */
	struct sfh_scenario *scn = calloc(seeds.n, sizeof *scn);
	size_t nscn = 0;
	for (size_t i = 0; i < seeds.n; i++) {
		if (!scn || sfh_scn_load(seeds.paths[i], &scn[nscn], err, sizeof err) != 0) {
			fprintf(stderr, "bench_replay: %s\n", err);
			return 2;
		}
		nscn += sfh_run_supported(t, &scn[nscn], err, sizeof err) == 0;
	}
	struct sfh_runner *r = sfh_runner_new(err, sizeof err);
	struct sfh_wire *w = sfh_wire_new(err, sizeof err);
	struct sfh_pkt *pkts = calloc(16, sizeof *pkts);
	if (!r || !w || !pkts)
		return 2;
	int recover = sff_recover_enable(t, err, sizeof err) == 0;

	long rss0 = rss_kib();
	uint64_t raw = 0, cases = 0, diverged = 0;
	uint32_t case_no = 0;
	for (int round = 0; round < 3; round++) { /* interleave: noise hits both alike */
		double t0 = now_s();
		while (now_s() - t0 < secs / 6) {
			for (int k = 0; k < 64; k++)
				if (raw_case(t, w, pkts, case_no++) != 0) {
					fprintf(stderr, "bench_replay: raw exchange failed: %s\n",
						t->err);
					return 2;
				}
			raw += 64;
		}
		double raw_s = now_s() - t0;
		t0 = now_s();
		uint64_t c0 = cases;
		while (now_s() - t0 < secs / 6) {
			for (size_t i = 0; i < nscn; i++) {
				struct sfh_result res;
				struct sfh_run_opts o = {.case_no = case_no++};
				int rc = recover ? sff_run_recover(r, t, &scn[i], &o, &res)
						 : sfh_run(r, t, &scn[i], &o, &res);
				if (rc < 0) {
					fprintf(stderr, "bench_replay: %s\n", res.err);
					return 2;
				}
				diverged += res.verdict.kind != SFO_DIV_OK;
				cases++;
			}
		}
		double run_s = now_s() - t0;
		printf("round %d: raw %.0f exchanges/s, synfin %.0f scenarios/s, ratio %.2f\n",
		       round, (double)raw / (raw_s * (round + 1)), (double)(cases - c0) / run_s,
		       ((double)(cases - c0) / run_s) / ((double)raw / (raw_s * (round + 1))));
	}
	long rss1 = rss_kib();
	printf("target %s: %llu raw exchanges, %llu scenarios (%zu files, %zu run, %llu "
	       "divergent%s)\n",
	       spec, (unsigned long long)raw, (unsigned long long)cases, seeds.n, nscn,
	       (unsigned long long)diverged, recover ? ", in-process recovery" : "");
	printf("RSS before %ld KiB, after %ld KiB\n", rss0, rss1);
	sfh_runner_free(r);
	sfh_wire_free(w);
	sfh_target_close(t);
	free(pkts);
	free(scn);
	sfh_filelist_free(&seeds);
	return 0;
}
