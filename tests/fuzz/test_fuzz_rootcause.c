/* Root causes, known vs new, the report schema and the quick start's console budget
 * (harness/cause.c, fuzz/triage.c, fuzz/cli.c, tools/quickstart.sh):
 *   - cause keys leave out the numbers and states that depend on the path, and keep
 *     which field differs and how;
 *   - a seeded model fault found along several paths (several signatures) is one group;
 *   - a finding whose behaviour a corpus/regress scenario pins is labelled known with
 *     the pin's file name; another is new; a baseline file hides accepted groups and
 *     turns the exit status to 0;
 *   - report.json carries schema 1: version, group, structured differences, a detail
 *     text and the pcap frame, and its trace names scenario.scn lines;
 *   - the quick start's campaign prints at most 60 lines, the table once, and leaves
 *     libFuzzer's job logs under the out dir. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cause.h"
#include "check.h"
#include "fuzz_priv.h"
#include "sh.h"

static char tmp[] = "/tmp/synfin-rootcause.XXXXXX";
static char out[1 << 16];
static const char *bin;

static void key_of(const char *kind, const char *before, const char *ec, const char *detail,
		   char *key, size_t cap)
{
	struct sfh_cause_in in = {.target = "lwip",
				  .kind = kind,
				  .state_before = before,
				  .event_class = ec,
				  .detail = detail};
	CHECK_EQ(sfh_cause_key(&in, key, cap), 0);
}

static void cause_keys_ignore_the_path(void)
{
	struct sfh_diff d[4];
	char a[256], b[256], c[256];
	size_t n = sfh_diff_parse("ack: expected 1001, observed 1; missing: R seq 5 len 0", d, 4);
	CHECK_EQ(n, 2);
	CHECK_STR(d[0].field, "ack");
	CHECK_STR(d[0].expected, "1001");
	CHECK_STR(d[0].observed, "1");
	CHECK_STR(d[1].field, "response");
	CHECK_STR(d[1].expected, "R seq 5 len 0");
	CHECK_STR(d[1].observed, "none");
	n = sfh_diff_parse("unexpected: . seq 1 ack 2 len 0 (one more than the 1 allowed: . seq 1 "
			   "ack 2 len 0)",
			   d, 4);
	CHECK_EQ(n, 1);
	CHECK_STR(d[0].observed, ". seq 1 ack 2 len 0");
	CHECK_STR(d[0].expected, "at most 1: . seq 1 ack 2 len 0");

	/* The same fault along two paths, with other numbers: one key. */
	key_of("wrong-field", "ESTABLISHED", "data-in", "ack: expected 2, observed 3", a, sizeof a);
	key_of("wrong-field", "FIN-WAIT-1", "fin-ack", "ack: expected 1001, observed 1500", b,
	       sizeof b);
	CHECK_STR(a, b);
	CHECK_STR(a, "lwip/wrong-field/segment/ack+");
	/* Below instead of above, another field, a timer instead of a segment: other keys. */
	key_of("wrong-field", "ESTABLISHED", "data-in", "ack: expected 3, observed 2", c, sizeof c);
	CHECK(strcmp(a, c) != 0);
	key_of("wrong-field", "ESTABLISHED", "data-in", "seq: expected 2, observed 3", c, sizeof c);
	CHECK(strcmp(a, c) != 0);
	key_of("wrong-field", "ESTABLISHED", "wait-rto", "ack: expected 2, observed 3", c,
	       sizeof c);
	CHECK(strcmp(a, c) != 0);
	/* end = seq + len adds nothing once seq differs */
	key_of("wrong-field", "CLOSING", "fin",
	       "seq: expected 1..9, observed 12; end: expected "
	       "1..9, observed 13",
	       c, sizeof c);
	CHECK_STR(c, "lwip/wrong-field/segment/seq+");
	/* States: dropped, kept, stayed, moved, whatever the states are. */
	key_of("state", "FIN-WAIT-2", "fin-ack", "state: expected TIME-WAIT, observed CLOSED", a,
	       sizeof a);
	key_of("state", "SYN-RECEIVED", "rst-outwin",
	       "state: expected SYN-RECEIVED, observed LISTEN", b, sizeof b);
	CHECK_STR(a, "lwip/state/segment/state:dropped");
	CHECK_STR(b, "lwip/state/rst/state:dropped");
	key_of("state", "ESTABLISHED", "fin", "state: expected CLOSE-WAIT, observed ESTABLISHED", a,
	       sizeof a);
	CHECK_STR(a, "lwip/state/segment/state:stayed");
	/* in a handshake state, another fault (but not for an RST, see above) */
	key_of("state", "SYN-SENT", "syn", "state: expected SYN-RECEIVED, observed SYN-SENT", b,
	       sizeof b);
	CHECK_STR(b, "lwip/state/segment/state:stayed@handshake");
	key_of("missing-response", "TIME-WAIT", "syn", "missing: . seq 2 ack 2 len 0", a, sizeof a);
	CHECK_STR(a, "lwip/missing-response/segment/missing:.@time-wait");
	/* a segment's answer in a state of its own processing names the state; in the
	 * synchronized states it does not */
	key_of("missing-response", "CLOSE-WAIT", "syn", "missing: . seq 2 ack 2 len 0", b,
	       sizeof b);
	CHECK_STR(b, "lwip/missing-response/segment/missing:.");
	key_of("missing-response", "FIN-WAIT-2", "fin", "missing: . seq 7 ack 9 len 0", c,
	       sizeof c);
	CHECK_STR(b, c);
	/* an acknowledgment that differs after a step that took sequence space silently is
	 * keyed by that step's rule, however the difference shows */
	struct sfh_cause_in s1 = {.target = "lwip",
				  .kind = "wrong-field",
				  .state_before = "FIN-WAIT-2",
				  .event_class = "other-seg",
				  .detail = "ack: expected 1, observed 2",
				  .since_rule = "ack.off"};
	CHECK_EQ(sfh_cause_key(&s1, a, sizeof a), 0);
	CHECK_STR(a, "lwip/rcv-nxt/segment/since:ack.off");
	s1.kind = "missing-response";
	s1.state_before = "ESTABLISHED";
	s1.detail = "missing: . seq 1 ack 3 len 0";
	CHECK_EQ(sfh_cause_key(&s1, b, sizeof b), 0);
	CHECK_STR(a, b);
	s1.since_rule = "ack.future";
	CHECK_EQ(sfh_cause_key(&s1, b, sizeof b), 0);
	CHECK_STR(b, "lwip/rcv-nxt/segment/since:ack.future");
	/* a state's timer that closes too early names the state; an RST before the
	 * connection is synchronized names it too */
	key_of("state", "FIN-WAIT-2", "wait-short", "state: expected FIN-WAIT-2, observed CLOSED",
	       a, sizeof a);
	key_of("state", "TIME-WAIT", "wait-short", "state: expected TIME-WAIT, observed CLOSED", b,
	       sizeof b);
	CHECK_STR(a, "lwip/state/timer/state:dropped@fin-wait-2");
	CHECK_STR(b, "lwip/state/timer/state:dropped@time-wait");
	key_of("state", "SYN-SENT", "rst-outwin", "state: expected SYN-SENT, observed CLOSED", a,
	       sizeof a);
	key_of("state", "ESTABLISHED", "rst-outwin", "state: expected ESTABLISHED, observed CLOSED",
	       b, sizeof b);
	CHECK_STR(a, "lwip/state/rst/state:dropped@syn-sent");
	CHECK_STR(b, "lwip/state/rst/state:dropped");
	/* acting on a segment the model leaves without effect is another fault than acting
	 * wrongly on one it takes (lwIP takes the window of a dropped segment; it ignores a
	 * window shrink in one it takes) */
	struct sfh_cause_in w = {.target = "lwip",
				 .kind = "wrong-field",
				 .state_before = "CLOSE-WAIT",
				 .event_class = "ack",
				 .detail = "len: expected 0, observed 536",
				 .noop = 1};
	CHECK_EQ(sfh_cause_key(&w, a, sizeof a), 0);
	CHECK_STR(a, "lwip/send-window/-/untaken");
	w.detail = "unexpected: P. seq 537 ack 2 len 488";
	w.kind = "unexpected-response";
	CHECK_EQ(sfh_cause_key(&w, b, sizeof b), 0);
	CHECK_STR(a, b); /* data where none was due, on such a segment: the same */
	/* a state change on such a segment: keyed by the rule that drops it, as the later
	 * signs of a segment taken silently are */
	w.kind = "state";
	w.detail = "state: expected ESTABLISHED, observed CLOSE-WAIT";
	w.rule = "ack.off";
	w.state_before = "ESTABLISHED";
	CHECK_EQ(sfh_cause_key(&w, b, sizeof b), 0);
	CHECK_STR(b, "lwip/rcv-nxt/segment/since:ack.off");
	w.kind = "wrong-field";
	w.detail = "len: expected 0, observed 536";
	w.state_before = "CLOSE-WAIT";
	w.noop = 0;
	CHECK_EQ(sfh_cause_key(&w, a, sizeof a), 0);
	CHECK_STR(a, "lwip/wrong-field/segment/len+");
	/* one data segment too many (the sender's segment sizing), whatever set it off */
	struct sfh_cause_in x1 = {.target = "lwip",
				  .kind = "unexpected-response",
				  .state_before = "SYN-SENT",
				  .event_class = "syn-ack",
				  .detail =
				      "unexpected: . seq 39 ack 1 len 19 (one more than the 2 "
				      "allowed: . seq 1..64 ack 1 len 1..64)",
				  .rule = "send.data.small"},
			    x2 = x1;
	x2.state_before = "ESTABLISHED";
	x2.event_class = "call-send";
	CHECK_EQ(sfh_cause_key(&x1, a, sizeof a), 0);
	CHECK_EQ(sfh_cause_key(&x2, b, sizeof b), 0);
	CHECK_STR(a, "lwip/unexpected-response/-/extra:.+data");
	CHECK_STR(a, b);
	x2.detail = "unexpected: P. seq 3 ack 2 len 1 (one more than the 2 allowed: . seq 1..4 "
		    "ack 2 len 1..4)";
	x2.noop = 1;
	CHECK_EQ(sfh_cause_key(&x2, b, sizeof b), 0);
	CHECK_STR(a, b);
	/* not for another field; for a timer's or a call's ACK number too, not for an ACK a
	 * timer leaves missing unless it is the delayed ACK the model owes (a missing
	 * retransmission's ACK is the timer's own) */
	s1.detail = "len: expected 1, observed 2";
	CHECK_EQ(sfh_cause_key(&s1, b, sizeof b), 0);
	CHECK_STR(b, "lwip/missing-response/segment/len+");
	s1.detail = "ack: expected 1, observed 2";
	s1.event_class = "wait-rto";
	CHECK_EQ(sfh_cause_key(&s1, b, sizeof b), 0);
	CHECK_STR(b, "lwip/rcv-nxt/segment/since:ack.future");
	s1.event_class = "call-close";
	s1.detail = "ack: expected 3, observed 2";
	CHECK_EQ(sfh_cause_key(&s1, a, sizeof a), 0);
	CHECK_STR(a, b);
	s1.event_class = "wait-rto";
	s1.detail = "missing: . seq 1 ack 2..3 len 0";
	CHECK_EQ(sfh_cause_key(&s1, b, sizeof b), 0);
	CHECK_STR(b, "lwip/missing-response/timer/missing:.");
	s1.rule = "ack.delayed"; /* the ACK the model owes for that step */
	CHECK_EQ(sfh_cause_key(&s1, b, sizeof b), 0);
	CHECK_STR(b, "lwip/rcv-nxt/segment/since:ack.future");
	s1.rule = NULL;
	/* Data beyond the model's window: by how the window parted (a window taken that the
	 * model did not take, a shrink not taken), whatever set the sending off; without a
	 * window step, by its trigger and shape as before. */
	struct sfh_cause_in sw = {
	    .target = "lwip",
	    .kind = "wrong-field",
	    .state_before = "ESTABLISHED",
	    .event_class = "wait-persist",
	    .detail = "len: expected 0..1, observed 2; end: expected 0..2, observed 3",
	    .rule = "zwp.probe",
	    .wnd_how = "shrink"};
	CHECK_EQ(sfh_cause_key(&sw, a, sizeof a), 0);
	CHECK_STR(a, "lwip/send-window/-/shrink");
	sw.kind = "unexpected-response";
	sw.event_class = "call-send";
	sw.detail = "unexpected: P. seq 1 ack 2 len 1";
	sw.rule = "call.send";
	CHECK_EQ(sfh_cause_key(&sw, b, sizeof b), 0);
	CHECK_STR(a, b);
	sw.wnd_how = "untaken";
	CHECK_EQ(sfh_cause_key(&sw, b, sizeof b), 0);
	CHECK_STR(b, "lwip/send-window/-/untaken");
	sw.wnd_how = NULL;
	CHECK_EQ(sfh_cause_key(&sw, b, sizeof b), 0);
	CHECK_STR(b, "lwip/unexpected-response/call-send/unexpected:P.+data");
	/* a FIN that does not come after a smaller window the model did not take */
	sw.wnd_how = "untaken";
	sw.kind = "missing-response";
	sw.event_class = "rst-inwin";
	sw.detail = "missing: F. seq 1..2 ack 1 len 0..1";
	sw.rule = "send.fin";
	CHECK_EQ(sfh_cause_key(&sw, b, sizeof b), 0);
	CHECK_STR(b, "lwip/send-window/-/untaken");
	sw.wnd_how = NULL;
	CHECK_EQ(sfh_cause_key(&sw, b, sizeof b), 0);
	CHECK_STR(b, "lwip/missing-response/rst/missing:F.");
	sw.event_class = "call-send";
	/* not for a segment below the window's edge (seq-): sent again from its start */
	sw.wnd_how = "shrink";
	sw.kind = "wrong-field";
	sw.detail = "seq: expected 2, observed 1";
	CHECK_EQ(sfh_cause_key(&sw, a, sizeof a), 0);
	CHECK_STR(a, "lwip/wrong-field/-/seq-");
	sw.event_class = "fin";
	sw.wnd_how = NULL;
	CHECK_EQ(sfh_cause_key(&sw, b, sizeof b), 0);
	CHECK_STR(a, b);
	/* data in SYN-SENT, whatever sets it off */
	sw.state_before = "SYN-SENT";
	sw.kind = "unexpected-response";
	sw.detail = "unexpected: none seq 1 len 536";
	sw.event_class = "wait-rto";
	CHECK_EQ(sfh_cause_key(&sw, a, sizeof a), 0);
	sw.detail = "unexpected: P seq 1 len 10";
	sw.event_class = "other-seg";
	sw.noop = 1;
	CHECK_EQ(sfh_cause_key(&sw, b, sizeof b), 0);
	CHECK_STR(a, "lwip/unexpected-response/-/unexpected:data@syn-sent");
	CHECK_STR(a, b);
	/* the RST of ABORT and of a CLOSE with unread data; a retransmission before the
	 * RTO whatever its flags; the RST in CLOSED above or below */
	key_of("wrong-field", "CLOSE-WAIT", "call-abort", "seq: expected 5..69, observed 93", a,
	       sizeof a);
	struct sfh_cause_in cr = {.target = "lwip",
				  .kind = "wrong-field",
				  .state_before = "ESTABLISHED",
				  .event_class = "call-close",
				  .detail = "seq: expected 7..71, observed 93",
				  .rule = "call.close.unread.rst"};
	CHECK_EQ(sfh_cause_key(&cr, b, sizeof b), 0);
	CHECK_STR(a, "lwip/wrong-field/call-rst/seq+");
	CHECK_STR(a, b);
	cr.kind = "unexpected-response";
	cr.event_class = "wait-rto";
	cr.rule = "rtx.early.data";
	cr.detail = "unexpected: P. seq 537 ack 1 len 488 (a retransmission before the RTO)";
	CHECK_EQ(sfh_cause_key(&cr, a, sizeof a), 0);
	cr.detail = "unexpected: . seq 5 ack 1 len 1 (a retransmission before the RTO)";
	CHECK_EQ(sfh_cause_key(&cr, b, sizeof b), 0);
	CHECK_STR(a, "lwip/unexpected-response/timer/early:data");
	CHECK_STR(a, b);
	key_of("wrong-field", "CLOSED", "other-seg", "seq: expected 0, observed 1", a, sizeof a);
	key_of("wrong-field", "CLOSED", "other-seg", "seq: expected 0, observed -1", b, sizeof b);
	CHECK_STR(a, "lwip/wrong-field/segment/seq~@closed");
	CHECK_STR(a, b);
	/* a state difference on a segment in a handshake state: by the rule */
	struct sfh_cause_in hs = {.target = "lwip",
				  .kind = "state",
				  .state_before = "SYN-SENT",
				  .event_class = "syn",
				  .detail = "state: expected SYN-RECEIVED, observed SYN-SENT",
				  .rule = "synsent.syn.simopen"};
	CHECK_EQ(sfh_cause_key(&hs, a, sizeof a), 0);
	hs.state_before = "SYN-RECEIVED";
	hs.detail = "state: expected LISTEN, observed SYN-RECEIVED";
	hs.rule = "synrcvd.syn.passive";
	CHECK_EQ(sfh_cause_key(&hs, b, sizeof b), 0);
	CHECK_STR(a, "lwip/state/segment/state@synsent.syn.simopen");
	CHECK(strcmp(a, b) != 0);
	hs.detail = "state: expected LISTEN, observed ESTABLISHED";
	CHECK_EQ(sfh_cause_key(&hs, a, sizeof a), 0);
	CHECK_STR(a, b); /* stayed or moved: the same check */
	/* the ACK field of a dropped segment taken: a missing retransmission, a move an ACK
	 * of our FIN makes, a FIN sent; not a move a FIN makes, nor without that step */
	struct sfh_cause_in ua = {.target = "lwip",
				  .kind = "missing-response",
				  .state_before = "CLOSE-WAIT",
				  .event_class = "wait-rto",
				  .detail = "missing: . seq 1 ack 2 len 1",
				  .rule = "rtx.required",
				  .una_rule = "seq.unacceptable.ack"};
	CHECK_EQ(sfh_cause_key(&ua, a, sizeof a), 0);
	CHECK_STR(a, "lwip/snd-una/-/untaken");
	ua.kind = "state";
	ua.state_before = "FIN-WAIT-1";
	ua.event_class = "ack";
	ua.detail = "state: expected FIN-WAIT-1, observed FIN-WAIT-2";
	ua.rule = "seq.unacceptable.ack";
	ua.noop = 1;
	CHECK_EQ(sfh_cause_key(&ua, b, sizeof b), 0);
	CHECK_STR(a, b);
	ua.detail = "state: expected FIN-WAIT-1, observed CLOSING";
	CHECK_EQ(sfh_cause_key(&ua, b, sizeof b), 0);
	CHECK_STR(b, "lwip/rcv-nxt/segment/since:seq.unacceptable.ack");
	ua.una_rule = NULL;
	ua.kind = "missing-response";
	ua.state_before = "CLOSE-WAIT";
	ua.event_class = "wait-rto";
	ua.detail = "missing: . seq 1 ack 2 len 1";
	ua.noop = 0;
	ua.rule = "rtx.required";
	CHECK_EQ(sfh_cause_key(&ua, b, sizeof b), 0);
	CHECK_STR(b, "lwip/missing-response/timer/missing:.+data,rtx.required");
	ua.rule = "send.data.override"; /* a first transmission held back: another timer */
	CHECK_EQ(sfh_cause_key(&ua, a, sizeof a), 0);
	CHECK_STR(a, "lwip/missing-response/timer/missing:.+data,send.data.override");
	/* A crash: its site when known, else its message without numbers. */
	struct sfh_cause_in in = {.target = "lwip",
				  .kind = "crash",
				  .detail = "the stack crashed: killed by signal 6 (Aborted)",
				  .crash_site = "tcp_out.c:859 \"split <= mss\""};
	CHECK_EQ(sfh_cause_key(&in, a, sizeof a), 0);
	CHECK_STR(a, "lwip/crash/-/tcp_out.c:859 \"split <= mss\"");
	in.crash_site = NULL;
	CHECK_EQ(sfh_cause_key(&in, a, sizeof a), 0);
	CHECK_STR(a, "lwip/crash/-/the stack crashed: killed by signal N (Aborted)");
}

/* A short campaign on a seeded fault of the model into tmp/NAME/out. Its seeds are the
 * lifecycle seeds 01-26 the expectations below were set against, copied once: a
 * campaign's path depends on every seed, and later seeds (other features' numbers) would
 * move it elsewhere. */
static int campaign(const char *fault)
{
	if (sh(out, sizeof out,
	       "test -d %s/seeds || { mkdir %s/seeds && cp corpus/seeds/0[1-9]-*.scn "
	       "corpus/seeds/1[0-9]-*.scn corpus/seeds/2[0-6]-*.scn %s/seeds/; }",
	       tmp, tmp, tmp) != 0)
		return -1;
	return sh(out, sizeof out,
		  "%s fuzz --target model:fault=%s --out %s/%s/out --seeds %s/seeds "
		  "--progress 0 --no-known %s/%s/corpus -- -seed=1 -runs=20000",
		  bin, fault, tmp, fault, tmp, tmp, fault);
}

static void seeded_faults_are_one_group_each(void)
{
	static const char *const faults[] = {"no-time-wait", "rst-out-of-window", "tw-ignore-fin"};
	for (size_t i = 0; i < sizeof faults / sizeof faults[0]; i++) {
		char dir[512], err[512];
		CHECK_EQ(campaign(faults[i]), 1);
		snprintf(dir, sizeof dir, "%s/%s/out", tmp, faults[i]);
		struct sff_triage tr = {0};
		char *dirs[1] = {dir};
		CHECK_EQ(sff_triage_scan(&tr, 1, dirs, NULL, NULL, 0, err, sizeof err), 0);
		CHECK_EQ(sff_triage_causes(&tr), 0);
		/* several paths (signatures) to the fault, and one group for them */
		printf("%-18s %zu signatures, %zu group(s): %s\n", faults[i], tr.n, tr.nc,
		       tr.nc ? tr.c[0].key : "-");
		CHECK(tr.n >= 3);
		CHECK_EQ(tr.nc, 1);
		if (tr.nc == 1)
			CHECK_EQ(tr.c[0].sigs, tr.n);
		/* The campaign wrote the same table whole, as Markdown and JSON. */
		snprintf(dir, sizeof dir, "%s/%s/out/summary.json", tmp, faults[i]);
		CHECK_EQ(sh(out, sizeof out, "grep -c '\"groups\": 1,' %s", dir), 0);
		snprintf(dir, sizeof dir, "%s/%s/out/summary.md", tmp, faults[i]);
		CHECK_EQ(sh(out, sizeof out, "grep -c 'model:fault=%s/' %s", faults[i], dir), 0);
		sff_triage_free(&tr);
	}
}

static void baseline_hides_accepted_groups(void)
{
	char dir[512], base[512], key[256] = "";
	snprintf(dir, sizeof dir, "%s/no-time-wait/out", tmp);
	snprintf(base, sizeof base, "%s/baseline.txt", tmp);
	/* new: exit 1, and --new shows it */
	CHECK_EQ(sh(out, sizeof out, "%s triage %s --no-known --new", bin, dir), 1);
	CHECK(strstr(out, " NEW ") != NULL);
	/* the key as printed: up to the ": " before the difference */
	char *k = strstr(out, "model:fault=no-time-wait/");
	if (k) {
		const char *end = strstr(k, ": ");
		snprintf(key, sizeof key, "%.*s", end ? (int)(end - k) : 0, k);
	}
	CHECK(key[0] != '\0');
	FILE *f = fopen(base, "w");
	CHECK(f != NULL);
	if (!f)
		return;
	fprintf(f, "# accepted in CI: the seeded fault\n\n  %s   # its group key\n", key);
	fclose(f);
	CHECK_EQ(sh(out, sizeof out, "%s triage %s --no-known --baseline %s --new", bin, dir, base),
		 0);
	CHECK(strstr(out, " NEW ") == NULL);
	CHECK(strstr(out, "(0 new)") != NULL);
	CHECK_EQ(sh(out, sizeof out, "%s triage %s --no-known --baseline %s", bin, dir, base), 0);
	CHECK(strstr(out, "baselined") != NULL);
	/* One signature of several in the baseline: the group stays new. */
	if (!(f = fopen(base, "w")))
		return;
	struct sff_triage tr = {0};
	char err[512], *dirs[1] = {dir};
	CHECK_EQ(sff_triage_scan(&tr, 1, dirs, NULL, NULL, 0, err, sizeof err), 0);
	if (tr.n)
		fprintf(f, "%s\n", tr.g[0].signature);
	fclose(f);
	sff_triage_free(&tr);
	CHECK_EQ(sh(out, sizeof out, "%s triage %s --no-known --baseline %s --new", bin, dir, base),
		 1);
	/* A baseline that cannot be read is an error. */
	CHECK_EQ(sh(out, sizeof out, "%s triage %s --baseline %s/nope", bin, dir, tmp), 2);
}

/* A finding recorded from a scenario run on target: its directory in dir. */
static int record(const char *target, const char *scn, const char *dir)
{
	char err[512];
	struct sff_runctx ctx = {.next_case = 7, .isolate = 1, .timeout_s = 10};
	struct sfh_scenario s;
	struct sfh_result res;
	int rc = -1;
	if (sfh_target_open(target, &ctx.target, err, sizeof err) != 0)
		return -2; /* not built here */
	if (!(ctx.runner = sfh_runner_new(err, sizeof err)) ||
	    sfh_scn_load(scn, &s, err, sizeof err) != 0 || sff_run_once(&ctx, &s, &res) != 0 ||
	    res.verdict.kind == SFO_DIV_OK)
		goto exit;
	struct sff_finding_info fi = {.out_dir = dir, .target_spec = target, .orig_events = s.nev};
	rc = sff_mkdirs(dir) == 0 &&
		     sff_finding_write(&fi, &ctx, &s, &res, err, sizeof err) == SFF_FINDING_NEW
		 ? 0
		 : -1;
exit:
	sff_runctx_dispose(&ctx);
	sfh_runner_free(ctx.runner);
	sfh_target_close(ctx.target);
	return rc;
}

static void known_from_the_regression_corpus(void)
{
	static const char pin[] = "lwip-fin-without-ack-taken.scn";
	char dir[512], path[600], scn[256];
	snprintf(dir, sizeof dir, "%s/known", tmp);
	snprintf(scn, sizeof scn, "corpus/regress/%s", pin);
	int rc = record("lwip", scn, dir);
	if (rc == -2) {
		printf("lwip not built: known/new on lwip skipped\n");
		return;
	}
	CHECK_EQ(rc, 0);
	/* pinned: known, with the pin's name; nothing new, exit 0 */
	CHECK_EQ(sh(out, sizeof out, "%s triage %s --target lwip", bin, dir), 0);
	CHECK(strstr(out, " known ") != NULL);
	CHECK(strstr(out, pin) != NULL);
	CHECK_EQ(sh(out, sizeof out, "%s triage %s --target lwip --json", bin, dir), 0);
	CHECK(strstr(out, "\"status\": \"known\"") != NULL);
	CHECK(strstr(out, "\"known\": \"lwip-fin-without-ack-taken.scn\"") != NULL);
	/* Without the corpus it is new. */
	CHECK_EQ(sh(out, sizeof out, "%s triage %s --target lwip --no-known", bin, dir), 1);
	CHECK(strstr(out, " NEW ") != NULL);
	/* A corpus whose pins show other behaviours: new. */
	snprintf(path, sizeof path, "%s/other-pins", tmp);
	CHECK_EQ(
	    sh(out, sizeof out,
	       "mkdir -p %s && cp corpus/regress/lwip-synsent-rst-without-ack-bit-resets.scn %s/",
	       path, path),
	    0);
	CHECK_EQ(
	    sh(out, sizeof out, "%s triage %s --target lwip --regress %s --new", bin, dir, path),
	    1);
	CHECK(strstr(out, pin) == NULL);

	/* The report's schema (docs/report-schema.md). */
	CHECK_EQ(sh(out, sizeof out, "cat %s/*/report.json", dir), 0);
	CHECK(strstr(out, "\"schema\": 1,") != NULL);
	CHECK(strstr(out, "\"synfin_version\": \"") != NULL);
	CHECK(strstr(out, "\"group\": \"lwip/") != NULL);
	CHECK(strstr(out, "\"differences\": [{\"field\": \"") != NULL);
	CHECK(strstr(out, "\"detail\": \"\"") == NULL);
	const char *p = strstr(out, "\"packet\": ");
	CHECK(p && atoi(p + 10) > 0);
	/* That frame exists in exchange.pcap. */
	if (p && sh(out + 32768, 1024, "command -v tshark") == 0) {
		int frame = atoi(p + 10);
		CHECK_EQ(sh(out, sizeof out,
			    "tshark -r %s/*/exchange.pcap -T fields -e frame.number 2>/dev/null | "
			    "grep -qx %d",
			    dir, frame),
			 0);
	}
	/* report.txt's trace names scenario.scn's lines, not 0 everywhere. */
	CHECK_EQ(
	    sh(out, sizeof out, "grep -cE '^ +[1-9][0-9]* (>|call|wait)' %s/*/report.txt", dir), 0);
	CHECK(atoi(out) > 0);
}

/* A verdict judged without text (the fuzz loop's brief mode) still gets a detail. */
static void detail_never_empty(void)
{
	struct sfo_verdict v = {
	    .kind = SFO_DIV_STATE, .expected = SFO_TIME_WAIT, .observed = SFO_CLOSED};
	char buf[300];
	sfh_verdict_detail(&v, buf, sizeof buf);
	CHECK_STR(buf, "state: expected TIME-WAIT, observed CLOSED");
	v.kind = SFO_DIV_UNEXPECTED;
	sfh_verdict_detail(&v, buf, sizeof buf);
	CHECK(buf[0] != '\0');
}

static void quick_start_keeps_to_60_lines(void)
{
	char dir[512];
	snprintf(dir, sizeof dir, "%s/qs", tmp);
	/* The quick start's own campaign, shortened; setup and build print at most one line
	 * each when there is nothing to install and the build works. */
	int rc = sh(out, sizeof out,
		    "SYNFIN_QUICK_NO_BUILD=1 SYNFIN_SECONDS=6 SYNFIN_OUT=%s tools/quickstart.sh "
		    "> %s/qs.log 2>&1; echo $?",
		    dir, tmp);
	CHECK_EQ(rc, 0);
	int status = atoi(out);
	CHECK(status == 0 || status == 1);
	CHECK_EQ(sh(out, sizeof out, "wc -l < %s/qs.log", tmp), 0);
	int lines = atoi(out);
	printf("quick start: %d console lines (+2 for setup and build)\n", lines);
	CHECK(lines > 5);
	CHECK(lines + 2 <= 60);
	/* the table once */
	CHECK_EQ(sh(out, sizeof out, "grep -c 'root-cause groups (' %s/qs.log", tmp), 0);
	CHECK_EQ(atoi(out), 1);
	/* libFuzzer's logs stay in files under the out dir */
	CHECK_EQ(sh(out, sizeof out, "grep -c -e '^INFO:' -e '^#[0-9]' -e '== Job' %s/qs.log", tmp),
		 1);
	CHECK_EQ(sh(out, sizeof out,
		    "ls %s/findings/logs/libfuzzer.log %s/findings/logs/fuzz-0.log", dir, dir),
		 0);
	CHECK_EQ(sh(out, sizeof out, "ls fuzz-*.log"), 2);
	CHECK_EQ(
	    sh(out, sizeof out, "ls %s/findings/summary.md %s/findings/summary.json", dir, dir), 0);
}

int main(void)
{
	bin = getenv("SYNFIN_BIN");
	if (!bin) {
		fprintf(stderr, "SYNFIN_BIN not set (run through ctest)\n");
		return 77;
	}
	if (!mkdtemp(tmp))
		return 1;
	cause_keys_ignore_the_path();
	detail_never_empty();
	seeded_faults_are_one_group_each();
	baseline_hides_accepted_groups();
	known_from_the_regression_corpus();
	quick_start_keeps_to_60_lines();
	int rc = check_done();
	if (rc == 0)
		sh(out, sizeof out, "rm -rf %s", tmp);
	else
		fprintf(stderr, "outputs kept in %s\n", tmp);
	return rc;
}
