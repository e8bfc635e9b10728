/* Option, window and timing assertions on `out`, and `timers` lines, judged by the runner
 * on the model target, on lwIP, and on Linux where this process may create a network
 * namespace (root and /dev/net/tun; otherwise that part says it is skipped): met
 * assertions pass, each wrong one fails with its reason, TS anchors echo the target's
 * clock, emission times are those of the target's clock, and settings a target cannot
 * honour are refused as "not supported", never judged. */
#include <unistd.h>

#include "check.h"
#include "runner.h"

static struct sfh_runner *runner;

/* Run text on spec: the run's return code, the result in *res. */
static int run_on(const char *spec, const char *text, struct sfh_result *res)
{
	struct sfh_scenario s;
	struct sfh_target *t;
	char err[256];
	struct sfh_run_opts o = {0};
	if (sfh_scn_parse(text, strlen(text), "inline.scn", &s, err, sizeof err) != 0) {
		fprintf(stderr, "parse: %s\n", err);
		return -2;
	}
	if (sfh_target_open(spec, &t, err, sizeof err) != 0) {
		fprintf(stderr, "open %s: %s\n", spec, err);
		return -3;
	}
	int rc = sfh_run(runner, t, &s, &o, res);
	sfh_target_close(t);
	return rc;
}

static void expect_pass(const char *spec, const char *text)
{
	struct sfh_result res;
	CHECK_EQ(run_on(spec, text, &res), 0);
	if (res.verdict.kind != SFO_DIV_OK)
		fprintf(stderr, "%s: unexpected: %s\n%s", spec, res.verdict.detail, text);
	CHECK_EQ(res.verdict.kind, SFO_DIV_OK);
	CHECK_EQ(res.assert_failed, 0);
}

/* The assertion on `line` fails with a detail ending in `why` (or in `why` and more, when
 * it ends in "..."). */
static void expect_fail(const char *spec, const char *text, uint32_t line, const char *why)
{
	struct sfh_result res;
	char want[200];
	CHECK_EQ(run_on(spec, text, &res), 0);
	CHECK_EQ(res.assert_failed, 1);
	CHECK_EQ(res.div_line, line);
	snprintf(want, sizeof want, "out assertion on line %u not met%s%s", line,
		 why[0] ? ": " : "", why);
	size_t n = strlen(want);
	if (n > 3 && strcmp(want + n - 3, "...") == 0) {
		CHECK(strncmp(res.verdict.detail, want, n - 3) == 0);
		if (strncmp(res.verdict.detail, want, n - 3) != 0)
			fprintf(stderr, "detail: %s\n", res.verdict.detail);
	} else {
		CHECK_STR(res.verdict.detail, want);
	}
}

#define HANDSHAKE "role passive\nin S seq=pisn mss=1460 ts=100,0\n" /* line 2: the SYN */

/* The model answers a SYN with MSS 1460, window 65535, no other option. */
static void options_and_window_on(const char *spec)
{
	expect_pass(spec, HANDSHAKE "out S. win=65535 mss=1460 nows nosackok nots order=mss\n");
	expect_fail(spec, HANDSHAKE "out S. win=64240\n", 3, "win: expected 64240, observed 65535");
	expect_fail(spec, HANDSHAKE "out S. mss=536\n", 3, "mss: expected 536, observed 1460");
	expect_fail(spec, HANDSHAKE "out S. nomss\n", 3, "mss: expected none, observed one");
	expect_fail(spec, HANDSHAKE "out S. ws=7\n", 3, "ws: expected, observed none");
	expect_fail(spec, HANDSHAKE "out S. sackok\n", 3, "sackok: expected, observed none");
	expect_fail(spec, HANDSHAKE "out S. ts=*,ptsv\n", 3, "ts: expected, observed none");
	expect_fail(spec, HANDSHAKE "out S. order=mss,ws\n", 3, "order: observed mss");
	/* a failed option assertion names the segment, as a wrong field */
	struct sfh_result res;
	CHECK_EQ(run_on(spec, HANDSHAKE "out S. mss=1\n", &res), 0);
	CHECK_EQ(res.verdict.kind, SFO_DIV_FIELD);
	CHECK_EQ(res.verdict.seg, 1);
}

/* Virtual time: the model emits at the end of the step's event, lwIP at its timer tick;
 * both are exact. */
static void timing_on_model(void)
{
	/* with rto_init=1s the model must retransmit within a wait of 1.5 s (RFC 6298 2.1,
	 * and half an RTO for a late timer) and emits at the wait's end */
	static const char rtx[] = "role passive\n"
				  "timers rto_init=1s\n"
				  "in S seq=pisn mss=1460\n"
				  "out S. @+0ms\n"
				  "wait 1500\n"
				  "out S. @+1500ms\n";
	expect_pass("model", rtx);
	expect_fail("model",
		    "role passive\ntimers rto_init=1s\nin S seq=pisn\nwait 1500\n"
		    "out S. @+1000ms +-499ms\n",
		    5, "time: expected +1000ms +-499ms, observed +1500.000ms");
	expect_pass("model", "role passive\ntimers rto_init=1s\nin S seq=pisn\nwait 1500\n"
			     "out S. @+1000ms +-500ms\n");
	/* without the timers line the rfc9293 profile's 4 s bound holds: nothing at 1.5 s */
	expect_fail("model", "role passive\nin S seq=pisn\nwait 1500\nout S. @+1500ms\n", 4, "");
}

static void timing_on_lwip(void)
{
	/* lwIP's own initial RTO of 3 s in 500 ms ticks on a 250 ms grid: the SYN-ACK goes
	 * out again after 2.5 to 3 s, then 6 s later (backed off) */
	expect_pass("lwip", "role passive\n"
			    "in S seq=pisn mss=1460\n"
			    "out S. win=65535 mss=1460 nots @+0ms\n"
			    "wait 10s\n"
			    "out S. @+2750ms +-250ms\n"
			    "out S. @+6s +-250ms\n");
	expect_fail("lwip", "role passive\nin S seq=pisn\nwait 10s\nout S. @+1s +-250ms\n", 4,
		    "time: expected +1000ms +-250ms, observed +2...");
}

static void unsupported_is_refused(void)
{
	struct sfh_result res;
	/* lwIP's timers are compile-time figures, and its initial RTO also seeds every later
	 * one: no setting is honoured */
	CHECK_EQ(run_on("lwip", "role passive\ntimers rto_init=1s msl=1s\nin S seq=pisn\n", &res),
		 -1);
	CHECK_STR(res.err, "not supported by target lwip: timers rto_init= msl= (it cannot set "
			   "them; docs/scenario-language.md, Timing)");
	CHECK_EQ(res.unsupported, 1);
	CHECK_EQ(res.steps, 0);
}

/* Linux: timestamps, window scale and SACK-permitted as the kernel sends them, the TSval
 * anchors, a retransmission's time under rto_min, and what it refuses. */
static void on_linux(void)
{
	struct sfh_target *t;
	char err[256];
	if (sfh_target_open("linux", &t, err, sizeof err) != 0) {
		printf("linux part skipped: %s\n", err);
		return;
	}
	sfh_target_close(t);
	expect_pass("linux",
		    "role passive\n"
		    "timers rto_min=100ms\n"
		    "in S seq=pisn win=64240 mss=1460 sackok ts=100,0 ws=7\n"
		    "out S. ack=pisn+1 mss=1460 sackok ts=*,ptsv ws=10 order=mss,sackok,ts,ws "
		    "@+0ms +-20ms\n"
		    "in . ack=tnxt ts=ptsv+1,ttsv\n"
		    "call send 10\n"
		    "out P. len=10 ts=ttsv..ttsv+1000,ptsv @+0ms +-20ms\n"
		    "wait 1000\n"
		    "out P. len=10 ts=ttsv+1..ttsv+1000,ptsv @+100ms +-60ms\n");
	/* the SYN-ACK echoes our TSval exactly: an off-by-one ECR is caught */
	expect_fail("linux", "role passive\nin S seq=pisn mss=1460 ts=100,0\nout S. ts=*,ptsv+1\n",
		    3, "ts ecr: expected 101, observed 100");
	struct sfh_result res;
	CHECK_EQ(run_on("linux", "role passive\ntimers rto_min=1s\nin S seq=pisn\n", &res), -1);
	CHECK(strstr(res.err, "not supported by target linux: timers rto_min=1000ms") != NULL);
	CHECK_EQ(run_on("linux", "role passive\ntimers rto_init=1s\nin S seq=pisn\n", &res), -1);
	CHECK(strstr(res.err, "not supported by target linux: timers rto_init=") != NULL);
}

int main(void)
{
	char err[256];
	runner = sfh_runner_new(err, sizeof err);
	CHECK(runner != NULL);
	if (!runner)
		return check_done();
	options_and_window_on("model");
	options_and_window_on("lwip");
	timing_on_model();
	timing_on_lwip();
	unsupported_is_refused();
	on_linux();
	sfh_runner_free(runner);
	return check_done();
}
