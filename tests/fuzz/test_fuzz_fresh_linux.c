/* On the linux target a verdict depends on the scenario alone, never on what the process
 * ran before it: each scenario of corpus/seeds, and a few whose peer numbers are written
 * from the target's sequence space and the other way round (`seq=tnxt-...`,
 * `ack=pisn+...`: what the kernel makes of them depends on where its ISN falls) or whose
 * TSvals mix the kernel's clock with absolute ones (`ts=ttsv+16` then `ts=100`), runs
 * alone at case 0 in a fresh process (its own namespace, so another timestamp clock),
 * then in one process as the N-th of a batch at several case numbers (other ports, so
 * other kernel ISNs: Linux derives its ISN from the 4-tuple and a clock), and the traces
 * must be identical. Two things in a linux trace follow the real clock and are masked:
 * the kernel's TSvals (the runner counts them from a fixed start, but they move on with
 * real milliseconds) and the real time a cut wait took ("the stack's timers saw N ms").
 * Skipped (77) when not root or without /dev/net/tun, like tests/targets/test_linux.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "report.h"
#include "runner.h"
#include "scenario.h"
#include "target.h"
#include "tracebuf.h"

#define MAXS 256

/* Peer numbers written in the target's space and target numbers in the peer's: at the
 * half of the sequence space, too, where the kernel's real ISN decides old from new. */
static const char *const cross[] = {
    "role active\n"
    "isn pisn=0x3e7efb6f tisn=0x11e192e2\n"
    "in S seq=pisn len=935 mss=1460 ws=7\n"
    "in S seq=pisn+100 mss=1460\n"
    "in S seq=pisn mss=1460\n"
    "in .\n"
    "in R seq=pnxt+2147483647\n"
    "in . ack=pisn+1\n"
    "in P. seq=pnxt-100 len=100\n"
    "wait 250\n"
    "in F. seq=tnxt-2147483647 len=1\n",
    "role passive\n"
    "isn pisn=0x10000000 tisn=0x50000000\n"
    "in S\n"
    "in . ack=pisn+1\n",
    "role active\n"
    "isn pisn=0x8b17bfc3 tisn=0x4d51a855\n"
    "in S ws=0 ts=ttsv+16,0\n"
    "in . seq=pisn\n"
    "in F. ts=100,ttsv-2147483648\n",
    "role passive\n"
    "isn pisn=0x20000000 tisn=0x9000a000\n"
    "in S\n"
    "in .\n"
    "in P. seq=tnxt+5 len=10\n"
    "in . ack=pisn+0x7fff0000\n"
    "call close\n",
};

static struct sfh_scenario scn[MAXS];
static const char *name[MAXS];
static char *fresh[MAXS];
static size_t nscn;

/* The real clock's marks in a trace line, each replaced by one '#': the numbers after
 * "TS " (TSval:TSecr) and the N of "(the stack's timers saw N ms)". */
static void mask_after(char *s, const char *key, const char *chars)
{
	for (char *p = strstr(s, key); p; p = strstr(p, key)) {
		p += strlen(key);
		size_t n = strspn(p, chars);
		if (n == 0)
			continue;
		*p = '#';
		memmove(p + 1, p + n, strlen(p + n) + 1);
	}
}

static void mask(char *s)
{
	mask_after(s, "TS ", "0123456789:");
	mask_after(s, "timers saw ", "0123456789");
}

static void to_masked(void *ctx, const char *line)
{
	char copy[1024];
	snprintf(copy, sizeof copy, "%s", line);
	mask(copy);
	to_buf(ctx, copy);
}

static char *trace_of(struct sfh_runner *r, struct sfh_target *t, size_t i, uint32_t case_no)
{
	struct buf b = {0};
	struct sfh_result res;
	const struct sfo_profile *p = sfo_profile_find("linux");
	struct sfh_run_opts o = {
	    .profile = p, .trace = to_masked, .trace_ctx = &b, .case_no = case_no};
	if (sfh_run(r, t, &scn[i], &o, &res) != 0) {
		free(b.p);
		return strdup("(harness error)\n");
	}
	return b.p ? b.p : strdup("");
}

/* Scenario i alone, the first case of a process that never ran anything else. */
static char *fresh_trace(size_t i)
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
		if (!r || sfh_target_open("linux", &t, err, sizeof err) != 0)
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
	while ((got = read(fd[0], chunk, sizeof chunk)) > 0) {
		if (b.n + (size_t)got + 1 > b.cap) {
			b.cap = (b.n + (size_t)got + 1) * 2;
			b.p = realloc(b.p, b.cap);
			if (!b.p)
				abort();
		}
		memcpy(b.p + b.n, chunk, (size_t)got);
		b.n += (size_t)got;
		b.p[b.n] = 0;
	}
	close(fd[0]);
	int st = 0;
	waitpid(pid, &st, 0);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	return b.p ? b.p : strdup("");
}

static void load(void)
{
	char *dirs[1] = {"corpus/seeds"};
	struct sfh_filelist fl = {0};
	char err[512];
	CHECK_EQ(sfh_collect_scenarios(1, dirs, &fl, err, sizeof err), 0);
	for (size_t i = 0; i < fl.n && nscn < MAXS; i++)
		if (sfh_scn_load(fl.paths[i], &scn[nscn], err, sizeof err) == 0)
			name[nscn++] = strdup(fl.paths[i]);
	sfh_filelist_free(&fl);
	CHECK(nscn >= 20);
	for (size_t k = 0; k < sizeof cross / sizeof cross[0] && nscn < MAXS; k++) {
		CHECK_EQ(sfh_scn_parse(cross[k], strlen(cross[k]), "cross.scn", &scn[nscn], err,
				       sizeof err),
			 0);
		name[nscn++] = "(a cross-space scenario)";
	}
}

static int differs(size_t i, uint32_t case_no, const char *tr, size_t *bad)
{
	if (strcmp(tr, fresh[i]) == 0)
		return 0;
	if ((*bad)++ < 3)
		fprintf(stderr,
			"%s (scenario %zu) as case %u of a batch differs from alone:\n"
			"--- alone\n%s--- in the batch\n%s",
			name[i], i, case_no, fresh[i], tr);
	return 1;
}

int main(void)
{
	if (geteuid() != 0) {
		printf("skipped: the linux target needs root (a private network namespace)\n");
		return 77;
	}
	if (access("/dev/net/tun", R_OK | W_OK) != 0) {
		printf("skipped: no /dev/net/tun (modprobe tun)\n");
		return 77;
	}
	load();
	for (size_t i = 0; i < nscn; i++)
		fresh[i] = fresh_trace(i);
	char err[512];
	struct sfh_target *t = NULL;
	struct sfh_runner *r = sfh_runner_new(err, sizeof err);
	CHECK(r != NULL);
	CHECK_EQ(sfh_target_open("linux", &t, err, sizeof err), 0);
	size_t bad = 0, runs = 0;
	uint32_t case_no = 1;
	/* everything twice, in opposite orders */
	for (int pass = 0; pass < 2 && r && t; pass++)
		for (size_t k = 0; k < nscn; k++, case_no++) {
			size_t i = pass ? nscn - 1 - k : k;
			char *tr = trace_of(r, t, i, case_no);
			differs(i, case_no, tr, &bad);
			free(tr);
			runs++;
		}
	/* the cross-space ones at more places (ports, so kernel ISNs) */
	for (int rep = 0; rep < 12 && r && t; rep++)
		for (size_t i = nscn - sizeof cross / sizeof cross[0]; i < nscn; i++, case_no++) {
			char *tr = trace_of(r, t, i, case_no);
			differs(i, case_no, tr, &bad);
			free(tr);
			runs++;
		}
	CHECK_EQ(bad, 0);
	printf("linux: %zu scenarios, %zu runs in one process, %zu traces differ from a fresh "
	       "process's\n",
	       nscn, runs, bad);
	sfh_runner_free(r);
	sfh_target_close(t);
	for (size_t i = 0; i < nscn; i++)
		free(fresh[i]);
	return check_done();
}
