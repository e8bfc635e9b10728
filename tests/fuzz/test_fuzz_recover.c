/* In-process recovery from lwIP's assertions (fuzz/recover.c, target_lwip_sys.c).
 *
 * The known aborting scenarios of the regression corpus are replayed through the guarded
 * run many times in one process, interleaved with normal scenarios, and:
 * 1. every abort comes back as a crash verdict whose signature is the one the isolated
 *    runner (a child killed by SIGABRT) gives, and which meets the scenario's expectation;
 * 2. every normal scenario run after a recovered abort gives a trace (every segment,
 *    state and verdict) byte-identical to the same scenario in a fresh process;
 * 3. the heap does not grow with recovered aborts (the aborted case's pcbs, segments and
 *    pbufs are freed with the restore), nor with normal runs;
 * 4. through the fuzz core, an aborting input is rejected (kept out of the corpus) and
 *    recorded once as a crash finding with that signature; known again, it is cheap.
 * Skipped (77) where recovery is not built (sanitizers). */
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "fuzz_priv.h"
#include "fresh.h"
#include "tracebuf.h"
#include "target_lwip.h"

#define MAXS	 64
#define ROUNDS	 300
#define CASE0	 1000u
#define LEAK_MAX 64 /* octets per recovered abort (2234 before the heap tracking) */

static struct sfh_scenario crash[8], normal[MAXS];
static char crash_path[8][256];
static size_t ncrash, nnormal;


static void load_all(void)
{
	struct sfh_filelist fl = {0};
	char err[512], *dirs[2] = {"corpus/seeds", "corpus/regress"};
	CHECK_EQ(sfh_collect_scenarios(2, dirs, &fl, err, sizeof err), 0);
	for (size_t i = 0; i < fl.n; i++) {
		const char *base = strrchr(fl.paths[i], '/') + 1;
		struct sfh_expectation x;
		struct sfh_scenario s;
		if (sfh_scn_load(fl.paths[i], &s, err, sizeof err) != 0 ||
		    sfh_expectation_read(fl.paths[i], "lwip", &x, err, sizeof err) != 0)
			continue;
		if (x.divergence && strcmp(x.kind, "crash") == 0) {
			if (strncmp(base, "lwip-", 5) == 0 && ncrash < 8) {
				snprintf(crash_path[ncrash], sizeof crash_path[0], "%s", fl.paths[i]);
				crash[ncrash++] = s;
			}
		} else if (nnormal < MAXS && !s.timers && /* lwIP takes no timer settings */
			   (strncmp(base, "lwip-", 5) == 0 || strstr(fl.paths[i], "seeds/"))) {
			normal[nnormal++] = s;
		}
	}
	sfh_filelist_free(&fl);
	CHECK(ncrash >= 3);
	CHECK(nnormal >= 20);
	printf("%zu aborting scenarios, %zu normal ones\n", ncrash, nnormal);
}

static const struct sfo_profile *prof(void)
{
	return sfo_profile_find("lwip");
}

/* The traces of every normal scenario, in a fresh process (a child that never ran lwIP
 * before), each at its own case number. */
static char *fresh_traces_of[MAXS];

static void fresh_process_traces(void)
{
	CHECK_EQ(fresh_traces("lwip", normal, nnormal, CASE0, prof(), fresh_traces_of), 0);
	for (size_t i = 0; i < nnormal; i++)
		CHECK(fresh_traces_of[i] != NULL);
}

static size_t heap_in_use(void)
{
	struct mallinfo2 mi = mallinfo2();
	return mi.uordblks + mi.hblkhd;
}

static void recover_many(struct sfh_target *t, struct sfh_runner *r)
{
	struct sff_runctx ctx = {.runner = r, .target = t, .profile = prof(), .timeout_s = 10};
	char want[8][160];
	struct sfh_result res;

	/* 1: the isolated runner's signatures (each a child that dies by SIGABRT). */
	for (size_t k = 0; k < ncrash; k++) {
		struct sfh_run_opts o = {.profile = prof(), .case_no = 7};
		CHECK_EQ(sff_run_isolated_sig(&ctx, &crash[k], &o, &res), 0);
		CHECK_EQ(res.verdict.kind, SFO_DIV_CRASH);
		snprintf(want[k], sizeof want[k], "%s", res.signature);
		printf("isolated: %s -> %s\n", crash_path[k], want[k]);
	}
	sff_runctx_dispose(&ctx);

	size_t mismatches = 0, h0 = 0, crashes = 0;
	for (int round = 0; round < ROUNDS; round++) {
		if (round == 100)
			h0 = heap_in_use(); /* after warm-up (the runner's and target's buffers) */
		for (size_t k = 0; k < ncrash; k++) {
			struct sfh_run_opts o = {.profile = prof(),
						 .case_no = 5000u + (uint32_t)(round * 8 + k)};
			struct sfh_expectation x;
			char err[256];
			CHECK_EQ(sff_run_recover(r, t, &crash[k], &o, &res), SFF_RECOVERED);
			CHECK_STR(res.signature, want[k]);
			CHECK_EQ(sfh_expectation_read(crash_path[k], "lwip", &x, err, sizeof err), 0);
			CHECK(sfh_expectation_met(&x, &res));
			crashes += round >= 100;
			/* 2: a normal scenario right after the recovered abort */
			size_t i = (size_t)(round * 3 + k) % nnormal;
			struct buf b = {0};
			struct sfh_run_opts on = {.profile = prof(), .trace = to_buf, .trace_ctx = &b,
						  .case_no = CASE0 + (uint32_t)i};
			CHECK_EQ(sff_run_recover(r, t, &normal[i], &on, &res), 0);
			if (!fresh_traces_of[i] || !b.p || strcmp(b.p, fresh_traces_of[i]) != 0) {
				if (mismatches++ == 0)
					fprintf(stderr, "trace of normal scenario %zu differs:\n%s\n---\n%s",
						i, b.p ? b.p : "", fresh_traces_of[i] ? fresh_traces_of[i] : "");
			}
			free(b.p);
		}
	}
	CHECK_EQ(mismatches, 0);
	/* 3: the leak per recovered abort */
	size_t h1 = heap_in_use();
	double per = crashes ? (double)(h1 - h0) / (double)crashes : 0;
	printf("heap: +%zu octets over %zu recovered aborts: %.0f per abort; snapshot %zu octets\n",
	       h1 - h0, crashes, per, sfh_lwip_snapshot_size());
	CHECK(per <= LEAK_MAX);
	/* normal runs alone do not grow the heap */
	size_t h2 = heap_in_use();
	for (int round = 0; round < 200; round++)
		for (size_t i = 0; i < nnormal; i++) {
			struct sfh_run_opts on = {.profile = prof(), .case_no = CASE0 + (uint32_t)i};
			CHECK_EQ(sff_run_recover(r, t, &normal[i], &on, &res), 0);
		}
	printf("heap: %+lld octets over %zu normal runs\n",
	       (long long)heap_in_use() - (long long)h2, 200 * nnormal);
	CHECK(heap_in_use() <= h2 + 4096);
}

/* 4: through the fuzz core, as `synfin fuzz` runs it. */
static void core_records_once(void)
{
	char err[512], tmp[] = "/tmp/synfin-recover-core.XXXXXX", path[600];
	uint8_t bytes[SFH_MAX_ENCODED];
	if (!mkdtemp(tmp))
		return;
	struct sff_core_opts co = {.target_spec = "lwip", .out_dir = tmp, .recover = 1};
	CHECK_EQ(sff_core_init(&co, err, sizeof err), 0);
	size_t n = sfh_scn_encode(&crash[0], bytes, sizeof bytes);
	CHECK_EQ(sff_core_one(bytes, n), SFF_CORE_REJECT); /* new: minimised, verified, written */
	struct timespec a, b;
	clock_gettime(CLOCK_MONOTONIC, &a);
	for (int i = 0; i < 1000; i++)
		CHECK_EQ(sff_core_one(bytes, n), SFF_CORE_REJECT); /* known: no fork */
	clock_gettime(CLOCK_MONOTONIC, &b);
	double us = ((double)(b.tv_sec - a.tv_sec) * 1e9 + (double)(b.tv_nsec - a.tv_nsec)) / 1e3;
	printf("a known abort through the core: %.1f us\n", us / 1000);
	n = sfh_scn_encode(&normal[0], bytes, sizeof bytes);
	CHECK_EQ(sff_core_one(bytes, n), 0);
	sff_core_fini();
	/* exactly one finding directory, a crash with the isolated runner's signature */
	char cmd[800];
	snprintf(cmd, sizeof cmd, "ls -d %s/*/ | wc -l; cat %s/*/report.json", tmp, tmp);
	FILE *p = popen(cmd, "r");
	char out[16384] = {0};
	size_t got = p ? fread(out, 1, sizeof out - 1, p) : 0;
	if (p)
		pclose(p);
	(void)got;
	CHECK(strncmp(out, "1\n", 2) == 0);
	CHECK(strstr(out, "\"kind\": \"crash\"") != NULL);
	CHECK(strstr(out, "\"rule\": \"stack\"") != NULL);
	CHECK(strstr(out, "\"flaky\": false") != NULL);
	CHECK(strstr(out, "abort recovered in-process") != NULL);
	printf("%s", out);
	snprintf(path, sizeof path, "rm -rf %s", tmp);
	CHECK_EQ(system(path), 0);
}

int main(void)
{
	char err[512];
	struct sfh_target *t = NULL;
	setvbuf(stdout, NULL, _IOLBF, 0);
	load_all();
	fresh_process_traces();
	struct sfh_runner *r = sfh_runner_new(err, sizeof err);
	CHECK_EQ(sfh_target_open("lwip", &t, err, sizeof err), 0);
	if (!r || !t)
		return check_done();
	if (sff_recover_enable(t, err, sizeof err) != 0) {
		printf("skipped: %s\n", err);
		sfh_target_close(t);
		sfh_runner_free(r);
		return 77;
	}
	recover_many(t, r);
	sfh_target_close(t);
	sfh_runner_free(r);
	core_records_once();
	for (size_t i = 0; i < nnormal; i++)
		free(fresh_traces_of[i]);
	return check_done();
}
