/* exec: a shim that crashes, asserts, hangs or speaks garbage never hangs or crashes synfin:
 * a crash is a CRASH verdict naming the signal (and the site, when the stack printed an
 * assertion), silence is a HANG verdict within the timeout, garbage is an error naming
 * the offset of the offending octet in the shim's output, and the next case starts a
 * fresh shim. This binary is also the misbehaving shim: run with `--shim MODE`, it answers
 * the protocol like a tiny passive stack until MODE's moment comes. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "proto_io.h"
#include "runner.h"

/* ---- the shim side ---- */

static struct sfx_conn conn;
static uint64_t written; /* octets written so far: where garbage will sit */

static void send_msg(const struct sfx_msg *m)
{
	uint8_t buf[SFX_MAX_FRAME];
	size_t n = sfx_encode(m, buf, sizeof buf);
	if (n == 0 || write(1, buf, n) != (ssize_t)n)
		_exit(3);
	written += n;
}

static void ok(uint8_t req, uint32_t value)
{
	struct sfx_msg m;
	sfx_msg_reply(&m, req, SFX_OK, value, 0, NULL);
	send_msg(&m);
}

static int shim(const char *mode)
{
	if (sfx_conn_init(&conn, 0) != 0)
		return 3;
	for (;;) {
		struct sfx_msg m, r;
		struct sfx_err e;
		if (sfx_conn_recv(&conn, &m, -1, &e) != SFX_IO_MSG)
			return 0;
		switch (m.type) {
		case SFX_HELLO:
			if (strcmp(mode, "exit-at-hello") == 0)
				return 0;
			sfx_msg_reply(&r, SFX_HELLO, SFX_OK, 0, 0, NULL);
			r.u.reply.version = 1;
			r.u.reply.caps = SFX_CAP_STATE | SFX_CAP_VTIME | SFX_CAP_PASSIVE;
			r.u.reply.stack.p = (const uint8_t *)"fault shim 1";
			r.u.reply.stack.len = 12;
			send_msg(&r);
			break;
		case SFX_OPEN:
			sfx_msg_reply(&r, SFX_OPEN, SFX_OK, 0, 0, NULL);
			r.u.reply.ep.peer_ip = 0xc0000202;
			r.u.reply.ep.target_ip = 0xc0000201;
			r.u.reply.ep.peer_port = 40000;
			r.u.reply.ep.target_port = 10000;
			send_msg(&r);
			break;
		case SFX_INJECT:
			if (strcmp(mode, "segv-at-inject") == 0) {
				signal(SIGSEGV, SIG_DFL); /* a sanitizer's handler would exit */
				raise(SIGSEGV);
			}
			if (strcmp(mode, "panic-at-inject") == 0) {
				fprintf(stderr, "panic: runtime error: index out of range [3] "
						"with length 3\n\ngoroutine 1 [running]:\n");
				return 2;
			}
			if (strcmp(mode, "assert-at-inject") == 0) {
				fprintf(stderr, "Assertion \"seg != NULL\" failed at line 77 in "
						"./src/core/tcp_in.c\n");
				abort();
			}
			if (strcmp(mode, "hang-at-inject") == 0)
				pause();
			if (strcmp(mode, "garbage-at-inject") == 0) {
				/* a REPLY whose status is 7: the octet at written + 6 */
				fprintf(stderr, "garbage at %llu\n",
					(unsigned long long)written + 6);
				const uint8_t bad[] = {0, 0, 0, 11, SFX_REPLY, SFX_INJECT, 7, 0,
						       0, 0, 0, 0,  0,	       0,	   0};
				if (write(1, bad, sizeof bad) != (ssize_t)sizeof bad)
					return 3;
				pause();
			}
			if (strcmp(mode, "exit-at-inject") == 0)
				return 0;
			if (strcmp(mode, "huge-emit-at-inject") == 0) {
				static uint8_t big[2000];
				struct sfx_msg em = {.type = SFX_EMIT};
				em.u.pkt.p = big;
				em.u.pkt.len = sizeof big;
				send_msg(&em);
			}
			ok(SFX_INJECT, 0);
			break;
		case SFX_STATE:
			ok(SFX_STATE, 1);
			break;
		case SFX_BYE:
			ok(SFX_BYE, 0);
			return 0;
		default:
			ok(m.type, 0);
			break;
		}
	}
}

/* ---- the synfin side ---- */

static char self[4096];

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* A passive open and a SYN: the SYN is event 0, the INJECT the shims misbehave in. */
static const char scn_text[] = "role passive\nin S seq=pisn win=65535 mss=1460\n";

/* Run the scenario twice on exec:SELF --shim MODE (the second proves a new shim starts).
 * Returns sfh_run's result of the first run; res holds its result. */
static int run_mode(const char *mode, const char *extra, struct sfh_result *res, double *secs)
{
	char spec[4300], err[512];
	struct sfh_target *t = NULL;
	struct sfh_scenario s;
	struct sfh_runner *r = sfh_runner_new(err, sizeof err);
	CHECK_EQ(sfh_scn_parse(scn_text, strlen(scn_text), "fault.scn", &s, err, sizeof err), 0);
	snprintf(spec, sizeof spec, "exec:%s --shim %s%s", self, mode, extra);
	if (sfh_target_open(spec, &t, err, sizeof err) != 0) {
		fprintf(stderr, "%s: %s\n", mode, err);
		CHECK(0);
		sfh_runner_free(r);
		return -2;
	}
	struct sfh_run_opts o = {0};
	double t0 = now_s();
	int rc = sfh_run(r, t, &s, &o, res);
	*secs = now_s() - t0;
	struct sfh_result again;
	int rc2 = sfh_run(r, t, &s, &o, &again);
	CHECK_EQ(rc2, rc);
	CHECK_EQ(again.verdict.kind, res->verdict.kind);
	sfh_target_close(t);
	sfh_runner_free(r);
	/* every shim was reaped: no child is left */
	CHECK_EQ(waitpid(-1, NULL, WNOHANG), -1);
	return rc;
}

int main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "--shim") == 0)
		return shim(argv[2]);
	ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
	CHECK(n > 0);
	self[n > 0 ? n : 0] = '\0';
	struct sfh_result res;
	double secs;

	/* a shim that plays by the protocol's rules (if not TCP's) */
	CHECK_EQ(run_mode("polite", "", &res, &secs), 0);
	/* it never answers the SYN and stays in LISTEN: judged, not broken */
	CHECK(res.verdict.kind == SFO_DIV_STATE || res.verdict.kind == SFO_DIV_MISSING);

	/* killed by a signal: a crash of the stack in the step that sent the SYN */
	CHECK_EQ(run_mode("segv-at-inject", "", &res, &secs), 0);
	CHECK_EQ(res.verdict.kind, SFO_DIV_CRASH);
	CHECK_EQ(res.div_event, 0);
	CHECK_EQ(res.verdict.before, SFO_LISTEN);
	CHECK(strstr(res.verdict.detail, "signal 11") != NULL);
	CHECK(strstr(res.verdict.detail, "INJECT") != NULL);
	CHECK(strncmp(res.signature, "exec/LISTEN/", 12) == 0);

	/* an assertion on stderr, then abort: the crash is named by its site */
	CHECK_EQ(run_mode("assert-at-inject", "", &res, &secs), 0);
	CHECK_EQ(res.verdict.kind, SFO_DIV_CRASH);
	CHECK_STR(res.crash.site, "tcp_in.c:77");
	CHECK_STR(res.signature, "exec/crash/tcp_in.c:77/seg != NULL");

	/* a runtime's crash report (Go's panic, a sanitizer's) and a non-zero exit: a crash */
	CHECK_EQ(run_mode("panic-at-inject", "", &res, &secs), 0);
	CHECK_EQ(res.verdict.kind, SFO_DIV_CRASH);
	CHECK(strstr(res.verdict.detail, "exit status 2 after \"panic: runtime error") != NULL);

	/* silence: a hang verdict once the timeout passes, not a hung synfin */
	CHECK_EQ(run_mode("hang-at-inject", ",timeout=300", &res, &secs), 0);
	CHECK_EQ(res.verdict.kind, SFO_DIV_HANG);
	CHECK(secs >= 0.25 && secs < 5);
	CHECK(strstr(res.verdict.detail, "300 ms") != NULL);

	/* garbage: an error naming the offset of the bad status octet */
	CHECK_EQ(run_mode("garbage-at-inject", "", &res, &secs), -1);
	CHECK(strstr(res.err, "REPLY status 7") != NULL);
	/* replies to HELLO (37 octets), RESET (15), OPEN (27), CALL listen (15) and STATE (15):
	 * the bad frame starts at 109, its status octet at 115 */
	CHECK(strstr(res.err, "offset 115 of its output") != NULL);
	if (!strstr(res.err, "offset 115 of"))
		fprintf(stderr, "garbage error: %s\n", res.err);

	/* a clean exit mid-case, with nothing on stderr: an error naming the request */
	CHECK_EQ(run_mode("exit-at-inject", "", &res, &secs), -1);
	CHECK(strstr(res.err, "exited during INJECT") != NULL);

	/* a packet longer than synfin's buffer: an error naming its length */
	CHECK_EQ(run_mode("huge-emit-at-inject", "", &res, &secs), -1);
	CHECK(strstr(res.err, "2000-octet packet") != NULL);

	/* a shim that exits before greeting cannot be opened: an error, at once */
	char spec[4300], err[512];
	struct sfh_target *t = NULL;
	snprintf(spec, sizeof spec, "exec:%s --shim exit-at-hello", self);
	CHECK_EQ(sfh_target_open(spec, &t, err, sizeof err), -1);
	CHECK(strstr(err, "HELLO") != NULL);
	CHECK_EQ(sfh_target_open("exec:", &t, err, sizeof err), -1);
	CHECK(strstr(err, "no command") != NULL);
	CHECK_EQ(sfh_target_open("exec:/bin/true,timeout=5", &t, err, sizeof err), -1);
	CHECK(strstr(err, "timeout=5") != NULL);
	return check_done();
}
