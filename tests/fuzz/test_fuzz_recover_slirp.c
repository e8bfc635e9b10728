/* In-process recovery from libslirp's faults (fuzz/recover.c, target_slirp_recover.c).
 *
 * libslirp 4.7.0's reassembly crash (corpus/regress/slirp-reass-last-fragment-crash.scn,
 * a SIGSEGV in tcp_reass) is run through the guarded run many times in one process,
 * each followed by a normal scenario, and:
 * 1. every crash comes back as the verdict the isolated runner (a child killed by
 *    SIGSEGV) gives: same signature, site and expectation met;
 * 2. every normal scenario run right after a recovered crash gives a trace (every
 *    segment, state and verdict) byte-identical to the same scenario in a fresh process;
 * 3. no file descriptor is left behind by an abandoned instance, and the memory each
 *    leaves is measured and bounded;
 * 4. a fault outside libslirp's code during a guarded run is not caught: the process
 *    dies by it as before;
 * 5. through the fuzz core, the crashing input is rejected (kept out of the corpus) and
 *    recorded once as a crash finding;
 * 6. a write to a host peer that has gone does not kill the process (SIGPIPE).
 * Skipped (77) where recovery is not built (sanitizers) or slirp is not. */
#include <dirent.h>
#include <errno.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "fuzz_priv.h"
#include "fresh.h"
#include "sh.h"
#include "tracebuf.h"
#if __has_include("target_slirp.h")
#include "target_slirp.h"
#define HAVE_SLIRP 1
#else
#define HAVE_SLIRP 0
#endif

#if HAVE_SLIRP
#define MAXS	 48
#define ROUNDS	 150
#define CASE0	 2000u
#define LEAK_MAX (64 * 1024) /* octets per abandoned instance (404 KiB with its socket buffers) */

static const char crash_path[] = "corpus/regress/slirp-reass-last-fragment-crash.scn";
static struct sfh_scenario crash, normal[MAXS];
static size_t nnormal;
static char *fresh[MAXS];

static const struct sfo_profile *prof(void)
{
	return sfo_profile_find("slirp");
}

static void load_all(struct sfh_target *t)
{
	char err[512], *dirs[1] = {"corpus/seeds"};
	struct sfh_filelist fl = {0};
	CHECK_EQ(sfh_scn_load(crash_path, &crash, err, sizeof err), 0);
	CHECK_EQ(sfh_collect_scenarios(1, dirs, &fl, err, sizeof err), 0);
	for (size_t i = 0; i < fl.n && nnormal < MAXS; i++)
		if (sfh_scn_load(fl.paths[i], &normal[nnormal], err, sizeof err) == 0 &&
		    sfh_run_supported(t, &normal[nnormal], err, sizeof err) == 0)
			nnormal++;
	sfh_filelist_free(&fl);
	CHECK(nnormal >= 20);
}

/* Normal scenario i through the guarded run, as a campaign runs it: its trace. */
static char *trace_of(struct sfh_runner *r, struct sfh_target *t, size_t i)
{
	struct buf b = {0};
	struct sfh_result res;
	struct sfh_run_opts o = {
	    .profile = prof(), .trace = to_buf, .trace_ctx = &b, .case_no = CASE0 + (uint32_t)i};
	if (sff_run_recover(r, t, &normal[i], &o, &res) != 0) {
		free(b.p);
		return NULL;
	}
	return b.p ? b.p : calloc(1, 1);
}

static size_t open_fds(void)
{
	size_t n = 0;
	DIR *d = opendir("/proc/self/fd");
	for (struct dirent *e; d && (e = readdir(d));)
		n += e->d_name[0] != '.';
	if (d)
		closedir(d);
	return n;
}

static size_t heap_in_use(void)
{
	struct mallinfo2 mi = mallinfo2();
	return mi.uordblks + mi.hblkhd;
}

static void recover_many(struct sfh_runner *r, struct sfh_target *t)
{
	struct sff_runctx ctx = {.runner = r, .target = t, .profile = prof(), .timeout_s = 20};
	char want[160], err[256];
	struct sfh_result res;
	struct sfh_expectation x;
	struct sfh_run_opts o = {.profile = prof(), .case_no = 7};

	/* 1: the isolated runner's verdict (a child that dies by SIGSEGV) */
	CHECK_EQ(sff_run_isolated_sig(&ctx, &crash, &o, &res), 0);
	CHECK_EQ(res.verdict.kind, SFO_DIV_CRASH);
	CHECK_EQ(res.crash.signo, SIGSEGV);
	snprintf(want, sizeof want, "%s", res.signature);
	char site[96];
	snprintf(site, sizeof site, "%s", res.crash.site);
	printf("isolated: %s (site %s)\n", want, site);
	sff_runctx_dispose(&ctx);
	CHECK_EQ(sfh_expectation_read(crash_path, "slirp", &x, err, sizeof err), 0);

	size_t mismatches = 0, fd0 = 0, h0 = 0, crashes = 0;
	uint32_t before = sfh_slirp_recovered();
	for (int round = 0; round < ROUNDS; round++) {
		if (round == 20) {
			fd0 = open_fds();
			h0 = heap_in_use();
		}
		o.case_no = 5000u + (uint32_t)round;
		CHECK_EQ(sff_run_recover(r, t, &crash, &o, &res), SFF_RECOVERED);
		CHECK_STR(res.signature, want);
		CHECK_STR(res.crash.site, site);
		CHECK_EQ(res.crash.signo, SIGSEGV);
		CHECK(sfh_expectation_met(&x, &res));
		crashes += round >= 20;
		size_t i = (size_t)round % nnormal;
		char *tr = trace_of(r, t, i);
		if (!tr || strcmp(tr, fresh[i]) != 0) {
			if (mismatches++ == 0)
				fprintf(stderr,
					"trace of normal scenario %zu differs:\n%s\n---\n%s", i,
					tr ? tr : "", fresh[i]);
		}
		free(tr);
	}
	CHECK_EQ(mismatches, 0);
	CHECK_EQ(sfh_slirp_recovered() - before, (uint32_t)ROUNDS);
	/* 3: descriptors and memory */
	size_t fd1 = open_fds(), h1 = heap_in_use();
	double per = crashes ? (double)(h1 - h0) / (double)crashes : 0;
	printf("fds: %zu before, %zu after %zu recovered crashes; heap +%zu octets: %.0f per "
	       "abandoned instance\n",
	       fd0, fd1, crashes, h1 - h0, per);
	CHECK_EQ(fd1, fd0);
	CHECK(per <= LEAK_MAX);
}

static void fault_outside(void)
{
	*(volatile int *)(uintptr_t)8 = 1;
}

/* 4: a fault in synfin's own code, inside a guarded call, kills the process. */
static void outside_not_caught(struct sfh_target *t)
{
	fflush(NULL);
	pid_t pid = fork();
	if (pid == 0) {
		sff_call_recover(t, (void (*)(void *))fault_outside, NULL);
		_exit(0);
	}
	int st = 0;
	waitpid(pid, &st, 0);
	CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGSEGV);
}

/* 6: libslirp writes to its host sockets with plain send(); with the target open, a
 * write to a peer that has gone returns EPIPE instead of killing the process (SIGPIPE
 * ignored, as slirp's embedders do). */
static void sigpipe_ignored(void)
{
	int sv[2];
	CHECK_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	close(sv[1]);
	errno = 0;
	CHECK_EQ(send(sv[0], "x", 1, 0), -1);
	CHECK_EQ(errno, EPIPE);
	close(sv[0]);
}

/* 5: through the fuzz core, as `synfin fuzz` runs it. */
static void core_records_once(void)
{
	char err[512], tmp[] = "/tmp/synfin-recover-slirp-core.XXXXXX";
	uint8_t bytes[SFH_MAX_ENCODED];
	if (!mkdtemp(tmp))
		return;
	struct sff_core_opts co = {.target_spec = "slirp", .out_dir = tmp, .recover = 1};
	CHECK_EQ(sff_core_init(&co, err, sizeof err), 0);
	size_t n = sfh_scn_encode(&crash, bytes, sizeof bytes);
	CHECK_EQ(sff_core_one(bytes, n), SFF_CORE_REJECT); /* new: minimised, verified, written */
	for (int i = 0; i < 100; i++)
		CHECK_EQ(sff_core_one(bytes, n), SFF_CORE_REJECT); /* known */
	n = sfh_scn_encode(&normal[0], bytes, sizeof bytes);
	CHECK_EQ(sff_core_one(bytes, n), 0);
	sff_core_fini();
	static char out[16384];
	sh(out, sizeof out, "ls -d %s/*/ | wc -l; cat %s/*/report.json", tmp, tmp);
	CHECK(strncmp(out, "1\n", 2) == 0);
	CHECK(strstr(out, "\"kind\": \"crash\"") != NULL);
	CHECK(strstr(out, "libslirp.so.0") != NULL);
	CHECK(strstr(out, "\"flaky\": false") != NULL);
	CHECK(strstr(out, "recovered in-process") != NULL);
	CHECK_EQ(sh(out, sizeof out, "rm -rf '%s'", tmp), 0);
}

int main(void)
{
	char err[512];
	struct sfh_target *t = NULL;
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (sfh_target_open("slirp", &t, err, sizeof err) != 0) {
		printf("skipped: %s\n", err);
		return 77;
	}
	struct sfh_runner *r = sfh_runner_new(err, sizeof err);
	CHECK(r != NULL);
	if (!r)
		return check_done();
	if (sff_recover_enable(t, err, sizeof err) != 0) {
		printf("skipped: %s\n", err);
		sfh_target_close(t);
		sfh_runner_free(r);
		return 77;
	}
	load_all(t);
	/* 2: the traces of every normal scenario in a child that never ran slirp before */
	CHECK_EQ(fresh_traces("slirp", normal, nnormal, CASE0, prof(), fresh), 0);
	for (size_t i = 0; i < nnormal; i++)
		CHECK(fresh[i] != NULL);
	recover_many(r, t);
	outside_not_caught(t);
	sigpipe_ignored();
	sfh_target_close(t);
	sfh_runner_free(r);
	core_records_once();
	for (size_t i = 0; i < nnormal; i++)
		free(fresh[i]);
	return check_done();
}
#else
int main(void)
{
	printf("skipped: slirp not built\n");
	return 77;
}
#endif
