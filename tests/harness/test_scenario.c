/* The scenario text form: parsing every event type and field, anchors and offsets,
 * defaults, the canonical formatter and its round trip, loading files, and every error
 * path with its exact "file:line:col: reason". Run from the source tree (ctest does). */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "scenario.h"

#define DATA_DIR "tests/harness/data"

static int parse(const char *text, struct sfh_scenario *s, char *err, size_t errlen)
{
	return sfh_scn_parse(text, strlen(text), "x.scn", s, err, errlen);
}

/* Parse text that must be valid; on failure the check names the error. */
static int parse_ok(const char *text, struct sfh_scenario *s)
{
	char err[256] = "";
	int rc = parse(text, s, err, sizeof err);

	CHECK_STR(err, "");
	CHECK_EQ(rc, 0);
	return rc;
}

static void check_num(const struct sfh_num *n, int anchor, int64_t off)
{
	CHECK_EQ(n->anchor, anchor);
	CHECK_EQ(n->off, off);
}

static void test_parse_passive_handshake_every_field(void)
{
	static const char text[] = "# passive open\n"
				   "role passive\n"
				   "call listen\n"
				   "in S seq=pisn win=64240 mss=1460 ws=7 sackok ts=100,0\n"
				   "out S. ack=pisn+1\n"
				   "in . ack=tnxt\n"
				   "expect state SYN-RECEIVED\n";
	struct sfh_scenario s;
	const struct sfh_in *in;
	const struct sfh_out *out;

	if (parse_ok(text, &s))
		return;
	CHECK_EQ(s.role, SFH_ROLE_PASSIVE);
	CHECK_EQ(s.nev, 5);
	CHECK_EQ(s.ev[0].type, SFH_EV_CALL);
	CHECK_EQ(s.ev[0].line, 3);
	CHECK_EQ(s.ev[0].u.call.call, SFO_CALL_LISTEN);
	CHECK_EQ(s.ev[0].u.call.arg, 0);

	CHECK_EQ(s.ev[1].type, SFH_EV_IN);
	CHECK_EQ(s.ev[1].line, 4);
	in = &s.ev[1].u.in;
	CHECK_EQ(in->flags, SFO_SYN);
	CHECK_EQ(in->has_seq, 1);
	check_num(&in->seq, SFH_A_PISN, 0);
	CHECK_EQ(in->has_ack, 0);
	check_num(&in->ack, SFH_A_TNXT, 0);
	CHECK_EQ(in->wnd, 64240);
	CHECK_EQ(in->len, 0);
	CHECK_EQ(in->up, 0);
	CHECK_EQ(in->opts, SFO_OPT_MSS | SFO_OPT_WSCALE | SFO_OPT_SACKOK | SFO_OPT_TS);
	CHECK_EQ(in->mss, 1460);
	CHECK_EQ(in->wscale, 7);
	CHECK_EQ(in->tsval, 100);
	CHECK_EQ(in->tsecr, 0);

	CHECK_EQ(s.ev[2].type, SFH_EV_OUT);
	CHECK_EQ(s.ev[2].line, 5);
	out = &s.ev[2].u.out;
	CHECK_EQ(out->none, 0);
	CHECK_EQ(out->flags, SFO_SYN | SFO_ACK);
	CHECK_EQ(out->has_seq, 0);
	CHECK_EQ(out->has_ack, 1);
	check_num(&out->ack, SFH_A_PISN, 1);
	CHECK_EQ(out->has_len, 0);

	CHECK_EQ(s.ev[3].type, SFH_EV_IN);
	in = &s.ev[3].u.in;
	CHECK_EQ(in->flags, SFO_ACK);
	CHECK_EQ(in->has_seq, 0);
	check_num(&in->seq, SFH_A_PNXT, 0);
	CHECK_EQ(in->has_ack, 1);
	check_num(&in->ack, SFH_A_TNXT, 0);
	CHECK_EQ(in->opts, 0);

	CHECK_EQ(s.ev[4].type, SFH_EV_EXPECT_STATE);
	CHECK_EQ(s.ev[4].line, 7);
	CHECK_EQ(s.ev[4].u.state, SFO_SYN_RECEIVED);
}

static void test_parse_each_event_type(void)
{
	struct sfh_scenario s;

	if (parse_ok("role active\ncall connect\nout S\nin S. seq=pisn ack=tnxt\nwait 200\n"
		     "out none\nexpect state ESTABLISHED\ncall send 10\ncall receive 5\n"
		     "call shutdown\ncall close\ncall abort\ncall accept\n",
		     &s))
		return;
	CHECK_EQ(s.role, SFH_ROLE_ACTIVE);
	CHECK_EQ(s.nev, 12);
	CHECK_EQ(s.ev[0].u.call.call, SFO_CALL_CONNECT);
	CHECK_EQ(s.ev[1].type, SFH_EV_OUT);
	CHECK_EQ(s.ev[1].u.out.flags, SFO_SYN);
	CHECK_EQ(s.ev[2].u.in.flags, SFO_SYN | SFO_ACK);
	CHECK_EQ(s.ev[3].type, SFH_EV_WAIT);
	CHECK_EQ(s.ev[3].u.wait_ms, 200);
	CHECK_EQ(s.ev[4].type, SFH_EV_OUT);
	CHECK_EQ(s.ev[4].u.out.none, 1);
	CHECK_EQ(s.ev[5].u.state, SFO_ESTABLISHED);
	CHECK_EQ(s.ev[6].u.call.call, SFO_CALL_SEND);
	CHECK_EQ(s.ev[6].u.call.arg, 10);
	CHECK_EQ(s.ev[7].u.call.call, SFO_CALL_RECEIVE);
	CHECK_EQ(s.ev[7].u.call.arg, 5);
	CHECK_EQ(s.ev[8].u.call.call, SFO_CALL_SHUTDOWN);
	CHECK_EQ(s.ev[9].u.call.call, SFO_CALL_CLOSE);
	CHECK_EQ(s.ev[10].u.call.call, SFO_CALL_ABORT);
	CHECK_EQ(s.ev[11].u.call.call, SFO_CALL_ACCEPT);
}

/* `=> RESULT` after a call: counts, error names (any case, EWOULDBLOCK for EAGAIN), "=>"
 * attached to its value; absent, nothing is asserted; the canonical text round-trips. */
static void test_parse_call_results(void)
{
	struct sfh_scenario s, back;
	char buf[512], err[256];

	if (parse_ok("role passive\ncall receive 10 => 3\ncall send 100 => 100\n"
		     "call connect => econnrefused\ncall receive =>EWOULDBLOCK\ncall close => 0\n"
		     "call receive => 0\ncall abort\n",
		     &s))
		return;
	CHECK_EQ(s.nev, 7);
	CHECK_EQ(s.ev[0].u.call.has_res, 1);
	CHECK_EQ(s.ev[0].u.call.res_err, SFO_ERR_OK);
	CHECK_EQ(s.ev[0].u.call.res_n, 3);
	CHECK_EQ(s.ev[1].u.call.res_n, 100);
	CHECK_EQ(s.ev[2].u.call.res_err, SFO_ERR_ECONNREFUSED);
	CHECK_EQ(s.ev[3].u.call.res_err, SFO_ERR_EAGAIN);
	CHECK_EQ(s.ev[3].u.call.arg, 0);
	CHECK_EQ(s.ev[4].u.call.has_res, 1);
	CHECK_EQ(s.ev[4].u.call.res_err, SFO_ERR_OK);
	CHECK_EQ(s.ev[5].u.call.res_n, 0);
	CHECK_EQ(s.ev[6].u.call.has_res, 0);
	sfh_scn_format(&s, buf, sizeof buf);
	CHECK_STR(buf, "role passive\ncall receive 10 => 3\ncall send 100 => 100\n"
		       "call connect => ECONNREFUSED\ncall receive => EAGAIN\ncall close => 0\n"
		       "call receive => 0\ncall abort\n");
	CHECK_EQ(sfh_scn_parse(buf, strlen(buf), "f", &back, err, sizeof err), 0);
	CHECK(sfh_scn_equal(&s, &back));
	back.ev[0].u.call.res_n = 2; /* equality compares the result */
	CHECK(!sfh_scn_equal(&s, &back));
	back.ev[0].u.call.res_n = 3;
	back.ev[6].u.call.has_res = 1;
	CHECK(!sfh_scn_equal(&s, &back));
}

static void test_parse_anchors_and_offsets(void)
{
	static const struct {
		const char *num;
		int anchor;
		int64_t off;
	} cases[] = {
	    {"pisn", SFH_A_PISN, 0},
	    {"tisn+1", SFH_A_TISN, 1},
	    {"pnxt-1", SFH_A_PNXT, -1},
	    {"tnxt+0", SFH_A_TNXT, 0},
	    {"tuna-0", SFH_A_TUNA, 0},
	    {"wend", SFH_A_WEND, 0},
	    {"tnxt+2147483648", SFH_A_TNXT, INT64_C(2147483648)},
	    {"tnxt-2147483648", SFH_A_TNXT, -INT64_C(2147483648)},
	    {"pnxt+2147483647", SFH_A_PNXT, INT64_C(2147483647)},
	    {"pnxt+4294967295", SFH_A_PNXT, INT64_C(4294967295)}, /* wraps to pnxt-1 */
	    {"pnxt-4294967295", SFH_A_PNXT, -INT64_C(4294967295)},
	    {"wend+0x10", SFH_A_WEND, 16},
	    {"wend-0X7fffffff", SFH_A_WEND, -INT64_C(0x7fffffff)},
	    {"0", SFH_A_ABS, 0},
	    {"4294967295", SFH_A_ABS, INT64_C(4294967295)},
	    {"0xffffffff", SFH_A_ABS, INT64_C(4294967295)},
	    {"0x80000000", SFH_A_ABS, INT64_C(2147483648)},
	    {"000123", SFH_A_ABS, 123},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char text[128];
		struct sfh_scenario s;
		snprintf(text, sizeof text, "role passive\nin . seq=%s ack=%s\nout . seq=%s\n",
			 cases[i].num, cases[i].num, cases[i].num);
		if (parse_ok(text, &s))
			continue;
		check_num(&s.ev[0].u.in.seq, cases[i].anchor, cases[i].off);
		check_num(&s.ev[0].u.in.ack, cases[i].anchor, cases[i].off);
		check_num(&s.ev[1].u.out.seq, cases[i].anchor, cases[i].off);
	}
}

/* ts=TSNUM,TSNUM: literals, ptsv/ttsv anchors with offsets mod 2^32, and the formatter
 * writing negative offsets as such; the round trip gives the same scenario back. */
static void test_parse_ts_anchors(void)
{
	static const char text[] = "role active\n"
				   "in S. ts=100,ttsv\n"
				   "in . ts=ptsv+1,ttsv-1\n"
				   "in . ts=ttsv+4294967295,ptsv-4294967295\n"
				   "in . ts=7,0\n";
	struct sfh_scenario s, back;
	char buf[1024];

	if (parse_ok(text, &s))
		return;
	const struct sfh_in *a = &s.ev[0].u.in, *b = &s.ev[1].u.in, *c = &s.ev[2].u.in,
			    *d = &s.ev[3].u.in;
	CHECK_EQ(a->opts, SFO_OPT_TS);
	CHECK_EQ(a->tsval_a, SFH_TS_ABS);
	CHECK_EQ(a->tsval, 100);
	CHECK_EQ(a->tsecr_a, SFH_TS_TTSV);
	CHECK_EQ(a->tsecr, 0);
	CHECK_EQ(b->tsval_a, SFH_TS_PTSV);
	CHECK_EQ(b->tsval, 1);
	CHECK_EQ(b->tsecr_a, SFH_TS_TTSV);
	CHECK_EQ(b->tsecr, 0xffffffffu);
	CHECK_EQ(c->tsval, 0xffffffffu); /* +2^32-1 and -1 are the same offset */
	CHECK_EQ(c->tsecr_a, SFH_TS_PTSV);
	CHECK_EQ(c->tsecr, 1);
	CHECK_EQ(d->tsval_a, SFH_TS_ABS);
	CHECK_EQ(d->tsecr_a, SFH_TS_ABS);
	CHECK_STR(sfh_ts_anchor_name(SFH_TS_PTSV), "ptsv");
	CHECK_STR(sfh_ts_anchor_name(SFH_TS_TTSV), "ttsv");

	sfh_scn_format(&s, buf, sizeof buf);
	CHECK(strstr(buf, "ts=100,ttsv\n") != NULL);
	CHECK(strstr(buf, "ts=ptsv+1,ttsv-1\n") != NULL);
	CHECK(strstr(buf, "ts=ttsv-1,ptsv+1\n") != NULL);
	CHECK(strstr(buf, "ts=7,0\n") != NULL);
	CHECK_EQ(parse(buf, &back, buf + 900, 100), 0);
	CHECK(sfh_scn_equal(&s, &back));

	/* the anchors resolve against the values handed in, and read 0 without them */
	uint32_t value[SFH_NANCHORS] = {0}, ts[SFH_NTS_ANCHORS] = {0, 1000, 0x80000000u};
	struct sfo_seg seg;
	sfh_in_to_seg(b, value, ts, &seg);
	CHECK_EQ(seg.tsval, 1001);
	CHECK_EQ(seg.tsecr, 0x7fffffffu);
	sfh_in_to_seg(a, value, NULL, &seg);
	CHECK_EQ(seg.tsval, 100);
	CHECK_EQ(seg.tsecr, 0);
}

static void test_parse_defaults(void)
{
	struct sfh_scenario s;
	const struct sfh_in *in;

	if (parse_ok("role passive\nin F\nout .\ncall receive\n", &s))
		return;
	in = &s.ev[0].u.in;
	CHECK_EQ(in->flags, SFO_FIN);
	CHECK_EQ(in->has_seq, 0);
	CHECK_EQ(in->has_ack, 0);
	check_num(&in->seq, SFH_A_PNXT, 0);
	check_num(&in->ack, SFH_A_TNXT, 0);
	CHECK_EQ(in->wnd, SFH_DEFAULT_WND);
	CHECK_EQ(in->len, 0);
	CHECK_EQ(in->up, 0);
	CHECK_EQ(in->opts, 0);
	CHECK_EQ(in->mss, 0);
	CHECK_EQ(in->wscale, 0);
	CHECK_EQ(in->tsval, 0);
	CHECK_EQ(s.ev[1].u.out.has_seq + s.ev[1].u.out.has_ack + s.ev[1].u.out.has_len, 0);
	CHECK_EQ(s.ev[1].u.out.none, 0);
	CHECK_EQ(s.ev[2].u.call.arg, 0); /* receive everything queued */
}

static void test_parse_flags_any_order_and_no_flags(void)
{
	struct sfh_scenario s;

	if (parse_ok("role passive\nin .S\nin S.\nin WEUP.RSF\nin -\nin none\nout -\nout E.\n", &s))
		return;
	CHECK_EQ(s.ev[0].u.in.flags, SFO_SYN | SFO_ACK);
	CHECK_EQ(s.ev[1].u.in.flags, SFO_SYN | SFO_ACK);
	CHECK_EQ(s.ev[2].u.in.flags, 0xff);
	CHECK_EQ(s.ev[3].u.in.flags, 0);
	CHECK_EQ(s.ev[4].u.in.flags, 0);
	CHECK_EQ(s.ev[5].u.out.flags, 0);
	CHECK_EQ(s.ev[5].u.out.none, 0); /* '-' is a segment without flags, not "nothing" */
	CHECK_EQ(s.ev[6].u.out.flags, SFO_ECE | SFO_ACK);
}

static void test_parse_limits_accepted(void)
{
	struct sfh_scenario s;
	const struct sfh_in *in;

	if (parse_ok("role passive\nin S len=1400 win=65535 up=65535 mss=65535 ws=14 "
		     "ts=4294967295,0xffffffff\nin S len=0 win=0 up=0 mss=0 ws=0 ts=0,0\n"
		     "call send 4294967295\nwait 4294967295\nwait 4294967s\nout . len=65535\n",
		     &s))
		return;
	in = &s.ev[0].u.in;
	CHECK_EQ(in->len, SFH_MAX_PAYLOAD);
	CHECK_EQ(in->wnd, 65535);
	CHECK_EQ(in->up, 65535);
	CHECK_EQ(in->mss, 65535);
	CHECK_EQ(in->wscale, 14);
	CHECK_EQ(in->tsval, 4294967295u);
	CHECK_EQ(in->tsecr, 4294967295u);
	in = &s.ev[1].u.in;
	CHECK_EQ(in->wnd, 0);
	CHECK_EQ(in->opts, SFO_OPT_MSS | SFO_OPT_WSCALE | SFO_OPT_TS);
	CHECK_EQ(s.ev[2].u.call.arg, 4294967295u);
	CHECK_EQ(s.ev[3].u.wait_ms, 4294967295u);
	CHECK_EQ(s.ev[4].u.wait_ms, 4294967000u);
	CHECK_EQ(s.ev[5].u.out.len, 65535);
	CHECK_EQ(s.ev[5].u.out.has_len, 1);
}

static void test_parse_wait_units(void)
{
	struct sfh_scenario s;

	if (parse_ok("role passive\nwait 7\nwait 7ms\nwait 7s\nwait 0x10\nwait 0s\n", &s))
		return;
	CHECK_EQ(s.ev[0].u.wait_ms, 7);
	CHECK_EQ(s.ev[1].u.wait_ms, 7);
	CHECK_EQ(s.ev[2].u.wait_ms, 7000);
	CHECK_EQ(s.ev[3].u.wait_ms, 16);
	CHECK_EQ(s.ev[4].u.wait_ms, 0);
}

static void test_parse_state_names(void)
{
	static const char *const names[] = {
	    "CLOSED",	  "LISTEN",	"SYN-SENT", "SYN-RECEIVED", "ESTABLISHED", "FIN-WAIT-1",
	    "FIN-WAIT-2", "CLOSE-WAIT", "CLOSING",  "LAST-ACK",	    "TIME-WAIT"};
	struct sfh_scenario s;
	char text[64];

	for (int i = 0; i < SFO_NSTATES; i++) {
		snprintf(text, sizeof text, "role passive\nexpect state %s\n", names[i]);
		if (parse_ok(text, &s) == 0)
			CHECK_EQ(s.ev[0].u.state, i);
	}
	/* the oracle's parser also takes identifiers in any case */
	if (parse_ok("role passive\nexpect state time_wait\n", &s) == 0)
		CHECK_EQ(s.ev[0].u.state, SFO_TIME_WAIT);
}

static void test_parse_layout_blanks_comments_crlf(void)
{
	static const char text[] = "\n\n  # leading comment\r\n\t role\tactive  # role\r\n"
				   "\r\n in S.#no space before the comment\r\n"
				   "\v\fwait 1\t \r\n#\ncall close";
	struct sfh_scenario s;

	if (parse_ok(text, &s))
		return;
	CHECK_EQ(s.role, SFH_ROLE_ACTIVE);
	CHECK_EQ(s.nev, 3);
	CHECK_EQ(s.ev[0].u.in.flags, SFO_SYN | SFO_ACK);
	CHECK_EQ(s.ev[0].line, 6);
	CHECK_EQ(s.ev[1].u.wait_ms, 1);
	CHECK_EQ(s.ev[2].u.call.call, SFO_CALL_CLOSE); /* no newline at the end */
	CHECK_EQ(s.ev[2].line, 9);
}

static void test_parse_nul_and_long_input(void)
{
	struct sfh_scenario s;
	size_t n = 300000;
	char *big = malloc(n + 64);
	char err[256];
	int rc;

	/* a NUL inside a comment is just a comment byte; the length, not the NUL, ends input */
	static const char nul_ok[] = "role passive # \0 still a comment\nwait 5\n";
	CHECK_EQ(sfh_scn_parse(nul_ok, sizeof nul_ok - 1, "x.scn", &s, err, sizeof err), 0);
	CHECK_EQ(s.nev, 1);

	CHECK(big != NULL);
	if (!big)
		return;
	/* one very long comment line, then a very long run of blanks before a token */
	memcpy(big, "role active\n#", 13);
	memset(big + 13, 'x', n);
	memcpy(big + 13 + n, "\nwait 9", 7);
	CHECK_EQ(sfh_scn_parse(big, n + 20, "x.scn", &s, err, sizeof err), 0);
	CHECK_EQ(s.ev[0].u.wait_ms, 9);

	memcpy(big, "role active\n", 12);
	memset(big + 12, ' ', n);
	memcpy(big + 12 + n, "bogus", 5);
	rc = sfh_scn_parse(big, n + 17, "x.scn", &s, err, sizeof err);
	CHECK_EQ(rc, -1);
	CHECK_STR(err, "x.scn:2:300001: unknown keyword 'bogus' (expected role in out call wait "
		       "expect)");

	/* a huge number never overflows: it is out of range */
	memcpy(big, "role active\nwait ", 17);
	memset(big + 17, '9', n);
	rc = sfh_scn_parse(big, n + 17, "x.scn", &s, err, sizeof err);
	CHECK_EQ(rc, -1);
	CHECK(strncmp(err, "x.scn:2:6: duration out of range: '9999", 39) == 0);
	free(big);
}

/* ---- errors ---- */

struct err_case {
	const char *text;
	size_t len; /* 0: strlen(text) */
	const char *err;
};

static const struct err_case err_cases[] = {
    /* role */
    {"", 0, "x.scn:1:1: missing 'role passive' or 'role active'"},
    {"# only a comment\n\n", 0, "x.scn:1:1: missing 'role passive' or 'role active'"},
    {"in S\n", 0, "x.scn:1:1: expected 'role passive' or 'role active' before 'in'"},
    {"# c\n  wait 5\nrole active\n", 0,
     "x.scn:2:3: expected 'role passive' or 'role active' before 'wait'"},
    {"role passive\nrole active\n", 0, "x.scn:2:1: role given twice (first on line 1)"},
    {"role\n", 0, "x.scn:1:5: missing role after 'role' (passive or active)"},
    {"role listen\n", 0, "x.scn:1:6: unknown role 'listen' (expected passive or active)"},
    {"role Passive\n", 0, "x.scn:1:6: unknown role 'Passive' (expected passive or active)"},
    {"role passive junk\n", 0, "x.scn:1:14: unexpected 'junk' at end of line"},
    /* keywords */
    {"role passive\nfoo\n", 0,
     "x.scn:2:1: unknown keyword 'foo' (expected role in out call wait expect)"},
    {"role passive\nIN S\n", 0,
     "x.scn:2:1: unknown keyword 'IN' (expected role in out call wait expect)"},
    {"bogus\n", 0, "x.scn:1:1: unknown keyword 'bogus' (expected role in out call wait expect)"},
    /* flags */
    {"role passive\n# c\nin S.FRQ\n", 0,
     "x.scn:3:8: unknown flag 'Q' (expected S F R P U E W or .)"},
    {"role passive\nin s\n", 0, "x.scn:2:4: unknown flag 's' (expected S F R P U E W or .)"},
    {"role passive\nin SS\n", 0, "x.scn:2:5: duplicate flag 'S'"},
    {"role passive\nin .F.\n", 0, "x.scn:2:6: duplicate flag '.'"},
    {"role passive\nin S'\n", 0, "x.scn:2:5: unknown flag '\\x27' (expected S F R P U E W or .)"},
    {"role passive\nin S\0\n", 19, "x.scn:2:5: unknown flag '\\x00' (expected S F R P U E W or .)"},
    {"role passive\nin\n", 0, "x.scn:2:3: missing flags after 'in' (use '-' for no flags)"},
    {"role passive\nin seq=pisn\n", 0,
     "x.scn:2:4: missing flags before 'seq=pisn' (use '-' for no flags)"},
    {"role passive\nout\n", 0, "x.scn:2:4: missing flags after 'out' (or 'out none')"},
    {"role passive\nout none S\n", 0, "x.scn:2:10: unexpected 'S' at end of line"},
    {"role passive\nout none-\n", 0, "x.scn:2:5: unknown flag 'n' (expected S F R P U E W or .)"},
    {"role passive\nout --\n", 0, "x.scn:2:5: unknown flag '-' (expected S F R P U E W or .)"},
    /* options */
    {"role passive\nin S foo=1\n", 0,
     "x.scn:2:6: unknown option 'foo=1' for 'in' (expected seq= ack= win= len= up= mss= "
     "ws= sackok ts=)"},
    {"role passive\nout S. up=5\n", 0,
     "x.scn:2:8: unknown option 'up=5' for 'out' (expected seq= ack= len= win= mss= ws= "
     "sackok ts= nomss nows nosackok nots order= @+D)"},
    {"role passive\nout S. nomss mss=1\n", 0, "x.scn:2:14: 'mss=' contradicts 'nomss'"},
    {"role passive\nout S. sackok nosackok\n", 0,
     "x.scn:2:15: 'nosackok' contradicts an earlier assertion of that option"},
    {"role passive\nout S. nots=1\n", 0, "x.scn:2:8: option 'nots' takes no value"},
    {"role passive\nout S. ts=1\n", 0, "x.scn:2:11: ts= needs two values, VAL,ECR: '1'"},
    {"role passive\nout S. ts=ttsv..ptsv,0\n", 0,
     "x.scn:2:17: both ends of the range 'ttsv..ptsv' for ts= (VAL) need the same anchor"},
    {"role passive\nout S. order=mss,foo\n", 0,
     "x.scn:2:18: unknown option kind 'foo' in order= (expected mss ws sackok ts sack other)"},
    {"role passive\nout S. order=mss,mss,mss,mss,mss,mss,mss,mss,mss\n", 0,
     "x.scn:2:46: order= lists at most 8 kinds"},
    {"role passive\nout S. @1000ms\n", 0,
     "x.scn:2:8: timing needs '@+' and a duration, e.g. @+1000ms: '@1000ms'"},
    {"role passive\nout S. @+1x\n", 0,
     "x.scn:2:10: invalid duration '1x' for @+ (expected N, Nms or Ns)"},
    {"role passive\nout S. @+1s +-x\n", 0,
     "x.scn:2:15: invalid duration 'x' for the tolerance (expected N, Nms or Ns)"},
    {"role passive\nout S. @+1s @+2s\n", 0, "x.scn:2:13: duplicate timing '@+2s'"},
    {"role passive\nout S. win=65536\n", 0,
     "x.scn:2:12: number out of range for win=: '65536' (at most 65535)"},
    {"role passive\nout S. ws=15\n", 0,
     "x.scn:2:11: number out of range for ws=: '15' (at most 14)"},
    {"role passive\ntimers\n", 0,
     "x.scn:2:7: 'timers' needs at least one setting, e.g. rto_init=1s"},
    {"role passive\ntimers rto_init=0\n", 0, "x.scn:2:17: rto_init must be at least 1ms"},
    {"role passive\ntimers foo=1\n", 0,
     "x.scn:2:8: unknown 'foo=1' after 'timers' (expected rto_init=D rto_min=D delack=D "
     "msl=D)"},
    {"role passive\ntimers msl=1s msl=2s\n", 0, "x.scn:2:15: 'msl' given twice"},
    {"role passive\nwait 1\ntimers msl=1s\n", 0,
     "x.scn:3:1: 'timers' given twice or after an event (once, first)"},
    {"timers msl=1s\n", 0, "x.scn:1:1: expected 'role passive' or 'role active' before 'timers'"},
    {"role passive\nin S seq=1 seq=2\n", 0, "x.scn:2:12: duplicate option 'seq'"},
    {"role passive\nin S sackok sackok\n", 0, "x.scn:2:13: duplicate option 'sackok'"},
    {"role passive\nout . len=1 len=1\n", 0, "x.scn:2:13: duplicate option 'len'"},
    {"role passive\nin S sackok=1\n", 0, "x.scn:2:6: option 'sackok' takes no value"},
    {"role passive\nin S win\n", 0, "x.scn:2:9: option 'win' needs a value (win=...)"},
    {"role passive\nin S win=\n", 0, "x.scn:2:10: missing value for win="},
    {"role passive\nin S ts=1\n", 0, "x.scn:2:9: ts= needs two numbers, VAL,ECR: '1'"},
    {"role passive\nin S ts=1,\n", 0, "x.scn:2:11: missing value for ts= (ECR)"},
    {"role passive\nin S ts=,1\n", 0, "x.scn:2:9: missing value for ts= (VAL)"},
    {"role passive\nin S ts=1,2,3\n", 0, "x.scn:2:11: invalid number '2,3' for ts= (ECR)"},
    {"role passive\nin S ts=tisn,0\n", 0,
     "x.scn:2:9: invalid number 'tisn' for ts= (VAL) (expected ptsv or ttsv with an optional "
     "+N or -N, or an unsigned 32-bit number)"},
    {"role passive\nin S ts=0,ttsv*2\n", 0,
     "x.scn:2:15: expected '+' or '-' after 'ttsv' in 'ttsv*2'"},
    {"role passive\nin S ts=ptsv+,0\n", 0, "x.scn:2:14: missing offset after '+'"},
    {"role passive\nin S ts=ptsv-4294967296,0\n", 0,
     "x.scn:2:14: number out of range for the offset: '4294967296' (at most 4294967295)"},
    /* numbers out of range */
    {"role passive\nin S win=65536\n", 0,
     "x.scn:2:10: number out of range for win=: '65536' (at most 65535)"},
    {"role passive\nin S len=1401\n", 0,
     "x.scn:2:10: number out of range for len=: '1401' (at most 1400)"},
    {"role passive\nin S up=0x10000\n", 0,
     "x.scn:2:9: number out of range for up=: '0x10000' (at most 65535)"},
    {"role passive\nin S mss=99999999999999999999999\n", 0,
     "x.scn:2:10: number out of range for mss=: '99999999999999999999999' (at most 65535)"},
    {"role passive\nin S ws=15\n", 0, "x.scn:2:9: number out of range for ws=: '15' (at most 14)"},
    {"role passive\nin S ts=4294967296,0\n", 0,
     "x.scn:2:9: number out of range for ts= (VAL): '4294967296' (at most 4294967295)"},
    {"role passive\nin S seq=4294967296\n", 0,
     "x.scn:2:10: number out of range for seq=: '4294967296' (at most 4294967295)"},
    {"role passive\nin S ack=0x100000000\n", 0,
     "x.scn:2:10: number out of range for ack=: '0x100000000' (at most 4294967295)"},
    {"role passive\nin S seq=pisn+4294967296\n", 0,
     "x.scn:2:15: number out of range for the offset: '4294967296' (at most 4294967295)"},
    {"role passive\nout . len=65536\n", 0,
     "x.scn:2:11: number out of range for len=: '65536' (at most 65535)"},
    /* invalid and unterminated numbers */
    {"role passive\nin S win=12x\n", 0, "x.scn:2:10: invalid number '12x' for win="},
    {"role passive\nin S win=-1\n", 0, "x.scn:2:10: invalid number '-1' for win="},
    {"role passive\nin S win=0x\n", 0, "x.scn:2:10: invalid number '0x' for win="},
    {"role passive\nin S seq=\n", 0, "x.scn:2:10: missing value for seq="},
    {"role passive\nin S seq=pisn+\n", 0, "x.scn:2:15: missing offset after '+'"},
    {"role passive\nin S ack=tnxt-\n", 0, "x.scn:2:15: missing offset after '-'"},
    {"role passive\nin S seq=pisn+1x\n", 0, "x.scn:2:15: invalid number '1x' for the offset"},
    {"role passive\nin S seq=pisn*2\n", 0,
     "x.scn:2:14: expected '+' or '-' after 'pisn' in 'pisn*2'"},
    {"role passive\nin S seq=pisn+-1\n", 0, "x.scn:2:15: invalid number '-1' for the offset"},
    {"role passive\nin S seq=snd.nxt\n", 0,
     "x.scn:2:10: invalid number 'snd.nxt' for seq= (expected pisn tisn pnxt tnxt tuna wend "
     "with an optional +N or -N, or an unsigned 32-bit number)"},
    {"role passive\nin S seq=-1\n", 0,
     "x.scn:2:10: invalid number '-1' for seq= (expected pisn tisn pnxt tnxt tuna wend with "
     "an optional +N or -N, or an unsigned 32-bit number)"},
    {"role passive\nin S seq=PISN\n", 0,
     "x.scn:2:10: invalid number 'PISN' for seq= (expected pisn tisn pnxt tnxt tuna wend "
     "with an optional +N or -N, or an unsigned 32-bit number)"},
    {"role passive\nin S seq=pisnx\n", 0,
     "x.scn:2:10: invalid number 'pisnx' for seq= (expected pisn tisn pnxt tnxt tuna wend "
     "with an optional +N or -N, or an unsigned 32-bit number)"},
    /* calls */
    {"role passive\ncall\n", 0,
     "x.scn:2:5: missing call name (expected listen connect accept send receive shutdown "
     "close abort)"},
    {"role passive\ncall connectx\n", 0,
     "x.scn:2:6: unknown call 'connectx' (expected listen connect accept send receive "
     "shutdown close abort)"},
    {"role passive\ncall send\n", 0, "x.scn:2:10: missing count after 'send' (call send N)"},
    {"role passive\ncall close 5\n", 0, "x.scn:2:12: call close takes no count"},
    {"role passive\ncall send x\n", 0, "x.scn:2:11: invalid number 'x' for the count"},
    {"role passive\ncall send 4294967296\n", 0,
     "x.scn:2:11: number out of range for the count: '4294967296' (at most 4294967295)"},
    {"role passive\ncall receive 5 6\n", 0,
     "x.scn:2:16: unexpected '6' after the count (expected '=> RESULT')"},
    {"role passive\ncall receive 5 =>\n", 0,
     "x.scn:2:18: missing result after '=>' (a count, or an error name such as EAGAIN or "
     "ECONNRESET)"},
    {"role passive\ncall receive 5 => 6\n", 0, "x.scn:2:19: receive 5 cannot return 6 octets"},
    {"role passive\ncall send 5 => 6\n", 0, "x.scn:2:16: send 5 cannot return 6 octets"},
    {"role passive\ncall close => 1\n", 0,
     "x.scn:2:15: call close returns no count: '=> 0' or an error name"},
    {"role passive\ncall send => 1\n", 0, "x.scn:2:10: missing count after 'send' (call send N)"},
    {"role passive\ncall receive => EOOPS\n", 0,
     "x.scn:2:17: unknown result 'EOOPS' (a count, or one of EAGAIN EWOULDBLOCK ECONNREFUSED "
     "ECONNRESET EPIPE ENOTCONN EISCONN EALREADY EINPROGRESS ETIMEDOUT ECONNABORTED EINVAL "
     "ENOBUFS EBADF EDESTADDRREQ EADDRINUSE EOPNOTSUPP)"},
    {"role passive\ncall receive => ok\n", 0,
     "x.scn:2:17: unknown result 'ok' (a count, or one of EAGAIN EWOULDBLOCK ECONNREFUSED "
     "ECONNRESET EPIPE ENOTCONN EISCONN EALREADY EINPROGRESS ETIMEDOUT ECONNABORTED EINVAL "
     "ENOBUFS EBADF EDESTADDRREQ EADDRINUSE EOPNOTSUPP)"},
    {"role passive\ncall abort => EAGAIN x\n", 0, "x.scn:2:22: unexpected 'x' at end of line"},
    /* waits */
    {"role passive\nwait\n", 0, "x.scn:2:5: missing duration after 'wait' (N, Nms or Ns)"},
    {"role passive\nwait 5m\n", 0, "x.scn:2:6: invalid duration '5m' (expected N, Nms or Ns)"},
    {"role passive\nwait -5\n", 0, "x.scn:2:6: invalid duration '-5' (expected N, Nms or Ns)"},
    {"role passive\nwait s\n", 0, "x.scn:2:6: invalid duration 's' (expected N, Nms or Ns)"},
    {"role passive\nwait 1.5s\n", 0, "x.scn:2:6: invalid duration '1.5s' (expected N, Nms or Ns)"},
    {"role passive\nwait 5 ms\n", 0, "x.scn:2:8: unexpected 'ms' at end of line"},
    {"role passive\nwait 4294967296\n", 0,
     "x.scn:2:6: duration out of range: '4294967296' (at most 4294967295 ms)"},
    {"role passive\nwait 4294968s\n", 0,
     "x.scn:2:6: duration out of range: '4294968s' (at most 4294967295 ms)"},
    /* expectations */
    {"role passive\nexpect state SYN-RCVD\n", 0,
     "x.scn:2:14: unknown state 'SYN-RCVD' (expected an RFC 9293 name such as SYN-RECEIVED)"},
    {"role passive\nexpect state\n", 0, "x.scn:2:13: missing state name (e.g. ESTABLISHED)"},
    {"role passive\nexpect\n", 0, "x.scn:2:7: missing 'state' after 'expect' (expect state NAME)"},
    {"role passive\nexpect flags S\n", 0,
     "x.scn:2:8: unknown expectation 'flags' (expected 'expect state NAME')"},
    {"role passive\nexpect state CLOSED now\n", 0, "x.scn:2:21: unexpected 'now' at end of line"},
    /* odd bytes are quoted, long tokens cut */
    {"ro\0le passive\n", 14,
     "x.scn:1:1: unknown keyword 'ro\\x00le' (expected role in out call wait expect)"},
    {"role passive\n\xc3\xa9t\xc3\xa9\n", 0,
     "x.scn:2:1: unknown keyword '\\xc3\\xa9t\\xc3\\xa9' (expected role in out call wait "
     "expect)"},
    {"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n", 0,
     "x.scn:1:1: unknown keyword 'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA...' (expected role "
     "in out call wait expect)"},
    {"role passive\r\nin S\r\nin Q\r\n", 0,
     "x.scn:3:4: unknown flag 'Q' (expected S F R P U E W or .)"},
};

static void test_parse_errors_exact_position_and_reason(void)
{
	for (size_t i = 0; i < sizeof err_cases / sizeof err_cases[0]; i++) {
		const struct err_case *c = &err_cases[i];
		size_t len = c->len ? c->len : strlen(c->text);
		struct sfh_scenario s, before;
		char err[512] = "";

		memset(&s, 0xa5, sizeof s); /* *out must stay untouched on failure */
		memcpy(&before, &s, sizeof s);
		CHECK_EQ(sfh_scn_parse(c->text, len, "x.scn", &s, err, sizeof err), -1);
		CHECK_STR(err, c->err);
		CHECK(memcmp(&s, &before, sizeof s) == 0);
	}
}

static void test_parse_error_too_many_events(void)
{
	char text[2048];
	size_t n = (size_t)snprintf(text, sizeof text, "role passive\n");
	struct sfh_scenario s;
	char err[256];

	for (int i = 0; i < SFH_MAX_EVENTS; i++)
		n += (size_t)snprintf(text + n, sizeof text - n, "wait %d\n", i);
	CHECK_EQ(sfh_scn_parse(text, n, "x.scn", &s, err, sizeof err), 0);
	CHECK_EQ(s.nev, SFH_MAX_EVENTS);
	n += (size_t)snprintf(text + n, sizeof text - n, "# fine\n  call close\n");
	CHECK_EQ(sfh_scn_parse(text, n, "x.scn", &s, err, sizeof err), -1);
	CHECK_STR(err, "x.scn:67:3: too many events (at most 64)");
}

static void test_parse_error_buffers(void)
{
	struct sfh_scenario s;
	char err[12];

	/* no buffer, a zero-length one, a short one: never written past, always terminated */
	CHECK_EQ(sfh_scn_parse("bogus", 5, "x.scn", &s, NULL, 0), -1);
	memset(err, 'z', sizeof err);
	CHECK_EQ(sfh_scn_parse("bogus", 5, "x.scn", &s, err, 0), -1);
	CHECK_EQ(err[0], 'z');
	CHECK_EQ(sfh_scn_parse("bogus", 5, "x.scn", &s, err, 4), -1);
	CHECK_STR(err, "x.s");
	CHECK_EQ(err[4], 'z');
	CHECK_EQ(sfh_scn_parse("bogus", 5, "x.scn", &s, err, sizeof err), -1);
	CHECK_STR(err, "x.scn:1:1: ");
	CHECK_EQ(sfh_scn_parse("bogus", 5, NULL, &s, err, sizeof err), -1);
	CHECK_STR(err, "<scenario>:");
	CHECK_EQ(sfh_scn_parse(NULL, 0, "x.scn", &s, err, sizeof err), -1);
}

/* ---- formatter ---- */

static void test_format_canonical_text(void)
{
	static const char text[] =
	    "role active\n"
	    "in .S   ack=tnxt+0 seq=pisn ts=1,2 sackok ws=0 mss=536 win=0x10\n"
	    "in - win=65535 len=0 up=0\n"
	    "in none seq=pnxt ack=4294967295\n"
	    "out S. ack=pisn-0\n"
	    "out none\n"
	    "out - len=0\n"
	    "call send 0\ncall receive 0\ncall receive 9\ncall close\n"
	    "wait 1000ms\nwait 1500\nwait 0s\n"
	    "expect state syn-sent\n";
	static const char want[] = "role active\n"
				   "in S. seq=pisn ack=tnxt win=16 mss=536 ws=0 sackok ts=1,2\n"
				   "in -\n"
				   "in - seq=pnxt ack=4294967295\n"
				   "out S. ack=pisn\n"
				   "out none\n"
				   "out - len=0\n"
				   "call send 0\ncall receive\ncall receive 9\ncall close\n"
				   "wait 1s\nwait 1500\nwait 0\n"
				   "expect state SYN-SENT\n";
	struct sfh_scenario s;
	char buf[1024];

	if (parse_ok(text, &s))
		return;
	CHECK_EQ(sfh_scn_format(&s, buf, sizeof buf), strlen(want));
	CHECK_STR(buf, want);
}

static void test_format_truncates_like_snprintf(void)
{
	struct sfh_scenario s;
	char full[256], small[16];
	size_t n;

	if (parse_ok("role passive\nin S seq=pisn\nwait 5\n", &s))
		return;
	n = sfh_scn_format(&s, full, sizeof full);
	CHECK_EQ(n, strlen(full));
	CHECK_EQ(sfh_scn_format(&s, NULL, 0), n);
	memset(small, 'z', sizeof small);
	CHECK_EQ(sfh_scn_format(&s, small, 10), n);
	CHECK_EQ(small[9], '\0');
	CHECK(memcmp(small, full, 9) == 0);
	CHECK_EQ(small[10], 'z');
	CHECK_EQ(sfh_scn_format(&s, small, 1), n);
	CHECK_EQ(small[0], '\0');
}

static void test_num_format_and_anchor_names(void)
{
	static const struct {
		struct sfh_num n;
		const char *want;
	} cases[] = {
	    {{SFH_A_ABS, 0}, "0"},
	    {{SFH_A_ABS, INT64_C(4294967295)}, "4294967295"},
	    {{SFH_A_PISN, 0}, "pisn"},
	    {{SFH_A_TISN, 1}, "tisn+1"},
	    {{SFH_A_PNXT, -1}, "pnxt-1"},
	    {{SFH_A_TNXT, -INT64_C(2147483648)}, "tnxt-2147483648"},
	    {{SFH_A_TUNA, INT64_C(4294967295)}, "tuna+4294967295"},
	    {{SFH_A_WEND, 65535}, "wend+65535"},
	};
	char buf[64];

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		CHECK_EQ(sfh_num_format(&cases[i].n, buf, sizeof buf), strlen(cases[i].want));
		CHECK_STR(buf, cases[i].want);
	}
	CHECK_EQ(sfh_num_format(&cases[5].n, buf, 5), 15);
	CHECK_STR(buf, "tnxt");
	CHECK_STR(sfh_anchor_name(SFH_A_ABS), "");
	CHECK_STR(sfh_anchor_name(SFH_A_PISN), "pisn");
	CHECK_STR(sfh_anchor_name(SFH_A_TISN), "tisn");
	CHECK_STR(sfh_anchor_name(SFH_A_PNXT), "pnxt");
	CHECK_STR(sfh_anchor_name(SFH_A_TNXT), "tnxt");
	CHECK_STR(sfh_anchor_name(SFH_A_TUNA), "tuna");
	CHECK_STR(sfh_anchor_name(SFH_A_WEND), "wend");
	CHECK_STR(sfh_anchor_name(SFH_NANCHORS), "?");
}

/* Text -> scenario -> text -> scenario gives the same scenario, and canonical text is a
 * fixed point of the formatter. */
static void check_text_round_trip(const struct sfh_scenario *s, const char *what)
{
	static char buf[16384], buf2[16384];
	struct sfh_scenario back;
	char err[256] = "";
	size_t n = sfh_scn_format(s, buf, sizeof buf);

	CHECK(n < sizeof buf);
	if (sfh_scn_parse(buf, n, what, &back, err, sizeof err) != 0) {
		fprintf(stderr, "%s: formatted text does not parse: %s\n%s", what, err, buf);
		CHECK(0);
		return;
	}
	CHECK(sfh_scn_equal(s, &back));
	CHECK_EQ(sfh_scn_format(&back, buf2, sizeof buf2), n);
	CHECK_STR(buf2, buf);
}

/* The sample scenarios: every tests/harness/data/scn_ok_*.scn, in name order. */
static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static size_t sample_files(char names[][128], size_t max)
{
	DIR *d = opendir(DATA_DIR);
	struct dirent *de;
	char *ptr[64];
	char tmp[64][128];
	size_t n = 0;

	if (!d)
		return 0;
	while ((de = readdir(d)) && n < max && n < 64) {
		size_t l = strlen(de->d_name);
		if (strncmp(de->d_name, "scn_ok_", 7) == 0 && l > 4 && l < 100 &&
		    strcmp(de->d_name + l - 4, ".scn") == 0)
			snprintf(tmp[n++], sizeof tmp[0], "%s/%s", DATA_DIR, de->d_name);
	}
	closedir(d);
	for (size_t i = 0; i < n; i++)
		ptr[i] = tmp[i];
	qsort(ptr, n, sizeof ptr[0], name_cmp);
	for (size_t i = 0; i < n; i++)
		memcpy(names[i], ptr[i], 128);
	return n;
}

static void test_load_and_round_trip_samples(void)
{
	static char names[64][128];
	size_t n = sample_files(names, 64);

	CHECK(n >= 12);
	for (size_t i = 0; i < n; i++) {
		struct sfh_scenario s;
		char err[256] = "";
		int rc = sfh_scn_load(names[i], &s, err, sizeof err);
		CHECK_STR(err, "");
		CHECK_EQ(rc, 0);
		if (rc == 0)
			check_text_round_trip(&s, names[i]);
	}
}

static void test_load_sample_contents(void)
{
	struct sfh_scenario s;
	char err[256] = "";

	CHECK_EQ(sfh_scn_load(DATA_DIR "/scn_ok_crlf.scn", &s, err, sizeof err), 0);
	CHECK_EQ(s.nev, 4);
	CHECK_EQ(s.ev[3].type, SFH_EV_EXPECT_STATE);
	CHECK_EQ(s.ev[3].line, 7);
	CHECK_EQ(sfh_scn_load(DATA_DIR "/scn_ok_max_events.scn", &s, err, sizeof err), 0);
	CHECK_EQ(s.nev, SFH_MAX_EVENTS);
	CHECK_EQ(s.ev[63].u.wait_ms, 64);
}

static void test_load_errors(void)
{
	struct sfh_scenario s, before;
	char err[256];

	memset(&s, 0x5a, sizeof s);
	memcpy(&before, &s, sizeof s);
	CHECK_EQ(sfh_scn_load(DATA_DIR "/scn_bad_flag.scn", &s, err, sizeof err), -1);
	CHECK_STR(err, DATA_DIR "/scn_bad_flag.scn:4:6: unknown flag 'Q' (expected S F R P U E W "
				"or .)");
	CHECK_EQ(sfh_scn_load(DATA_DIR "/scn_does_not_exist.scn", &s, err, sizeof err), -1);
	CHECK_STR(err, DATA_DIR "/scn_does_not_exist.scn: No such file or directory");
	CHECK_EQ(sfh_scn_load(DATA_DIR, &s, err, sizeof err), -1);
	CHECK_STR(err, DATA_DIR ": a directory, not a regular file");
	/* devices and FIFOs are refused before a read: /dev/zero never ends, a FIFO with
	 * no writer would block */
	CHECK_EQ(sfh_scn_load("/dev/zero", &s, err, sizeof err), -1);
	CHECK_STR(err, "/dev/zero: a character device, not a regular file");
	CHECK_EQ(sfh_scn_load("/dev/null", &s, err, sizeof err), -1);
	CHECK_STR(err, "/dev/null: a character device, not a regular file");
	CHECK(memcmp(&s, &before, sizeof s) == 0);
}

/* ---- robustness ---- */

static uint64_t rng_next(uint64_t *st) /* splitmix64: deterministic, seedable */
{
	uint64_t z = (*st += UINT64_C(0x9e3779b97f4a7c15));
	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

/* Mutated sample texts: each either parses (and then round-trips) or fails with an error
 * that starts with the file name; never a crash (run under ASan/UBSan). */
static void test_parse_mutated_text_never_crashes(void)
{
	static const char alphabet[] = "SFRPUEW.-+= \t\r\n#,0123456789xabcdefnpstuw\0\xff";
	static char names[64][128];
	static char text[8192];
	size_t nfiles = sample_files(names, 64), parsed = 0, failed = 0;
	uint64_t rng = 42;

	for (int iter = 0; iter < 20000 && nfiles; iter++) {
		FILE *f = fopen(names[iter % nfiles], "rb");
		size_t n = f ? fread(text, 1, sizeof text - 64, f) : 0;
		struct sfh_scenario s;
		char err[256] = "";
		if (f)
			fclose(f);
		for (int m = (int)(rng_next(&rng) % 4) + 1; m > 0 && n > 0; m--) {
			size_t at = (size_t)(rng_next(&rng) % n);
			char ch = alphabet[rng_next(&rng) % (sizeof alphabet - 1)];
			switch (rng_next(&rng) % 3) {
			case 0: /* replace */
				text[at] = ch;
				break;
			case 1: /* insert */
				memmove(text + at + 1, text + at, n - at);
				text[at] = ch;
				n++;
				break;
			default: /* delete */
				memmove(text + at, text + at + 1, n - at - 1);
				n--;
			}
		}
		if (sfh_scn_parse(text, n, "m.scn", &s, err, sizeof err) == 0) {
			parsed++;
			check_text_round_trip(&s, "mutated");
		} else {
			failed++;
			CHECK(strncmp(err, "m.scn:", 6) == 0);
		}
	}
	CHECK(parsed > 1000);
	CHECK(failed > 1000);
}

/* The `isn` line: both ISNs, once, before the first event; round-trips; absent means
 * has_isn 0 (the runner's defaults). */
static void test_parse_isn_line(void)
{
	struct sfh_scenario s;
	char err[256];

	CHECK_EQ(parse_ok("role passive\nin S\n", &s), 0);
	CHECK_EQ(s.has_isn, 0);
	CHECK_EQ(parse_ok("role active\nisn tisn=7 pisn=0xffffffff\ncall connect\n", &s), 0);
	CHECK_EQ(s.has_isn, 1);
	CHECK_EQ(s.pisn, 0xffffffffu);
	CHECK_EQ(s.tisn, 7);
	CHECK_EQ(s.nev, 1);
	check_text_round_trip(&s, "isn");
	struct sfh_scenario other = s;
	other.tisn = 8;
	CHECK(!sfh_scn_equal(&s, &other));
	other.has_isn = 0;
	CHECK(!sfh_scn_equal(&s, &other));
	CHECK_EQ(parse("role passive\nisn pisn=1\n", &s, err, sizeof err), -1);
	CHECK(strstr(err, "needs both") != NULL);
	CHECK_EQ(parse("role passive\nin S\nisn pisn=1 tisn=2\n", &s, err, sizeof err), -1);
	CHECK_EQ(parse("isn pisn=1 tisn=2\nrole passive\n", &s, err, sizeof err), -1);
	CHECK_EQ(parse("role passive\nisn pisn=1 pisn=2\n", &s, err, sizeof err), -1);
	CHECK_EQ(parse("role passive\nisn pisn=0x100000000 tisn=2\n", &s, err, sizeof err), -1);
	CHECK_EQ(parse("role passive\nisn seq=1 tisn=2\n", &s, err, sizeof err), -1);
}

/* Selectors: where each may stand, the canonical text, and every misuse with its column. */
static void test_parse_selectors(void)
{
	static const char text[] = "role passive\n"
				   "in S conn=2 seq=pisn win=100\n"
				   "out S. conn=2 ack=pisn+1\n"
				   "call accept conn=2\n"
				   "call send 10 conn=2\n"
				   "call receive conn=3\n"
				   "call close listener\n"
				   "call listen listener\n"
				   "out none conn=1\n"
				   "expect state LISTEN listener\n"
				   "expect state CLOSED conn=4\n"
				   "wait 1\n"
				   "in .\n";
	static const char canon[] = "role passive\n"
				    "in S seq=pisn win=100 conn=2\n"
				    "out S. ack=pisn+1 conn=2\n"
				    "call accept conn=2\n"
				    "call send 10 conn=2\n"
				    "call receive conn=3\n"
				    "call close listener\n"
				    "call listen listener\n"
				    "out none conn=1\n"
				    "expect state LISTEN listener\n"
				    "expect state CLOSED conn=4\n"
				    "wait 1\n"
				    "in .\n";
	static const uint8_t want[] = {
	    2, 2, 2, 2, 3, SFH_SEL_LISTENER, SFH_SEL_LISTENER, 1, SFH_SEL_LISTENER, 4, 0, 0};
	struct sfh_scenario s, back;
	char buf[1024], err[256] = "";

	if (parse_ok(text, &s))
		return;
	CHECK_EQ(s.nev, 12);
	for (uint32_t i = 0; i < s.nev && i < 12; i++)
		CHECK_EQ(s.ev[i].sel, want[i]);
	CHECK_EQ(s.ev[0].u.in.wnd, 100);
	CHECK_EQ(s.ev[3].u.call.arg, 10);
	CHECK(sfh_scn_multi(&s));
	sfh_scn_format(&s, buf, sizeof buf);
	CHECK_STR(buf, canon);
	CHECK_EQ(parse(buf, &back, err, sizeof err), 0);
	CHECK(sfh_scn_equal(&s, &back));
	back.ev[1].sel = 3;
	CHECK(!sfh_scn_equal(&s, &back));

	static const struct {
		const char *text, *err;
	} bad[] = {
	    {"role passive\nin S listener\n",
	     "x.scn:2:6: 'in' lines travel on a connection: name it with conn=N"},
	    {"role passive\nout . listener\n",
	     "x.scn:2:7: 'out' lines travel on a connection: name it with conn=N"},
	    {"role passive\ncall send 1 listener\n",
	     "x.scn:2:13: call send acts on a connection: name it with conn=N"},
	    {"role passive\ncall accept listener\n",
	     "x.scn:2:13: call accept acts on a connection: name it with conn=N"},
	    {"role passive\ncall listen conn=2\n",
	     "x.scn:2:13: call listen opens the listener: write 'call listen' or 'call listen "
	     "listener'"},
	    {"role active\ncall close listener\n",
	     "x.scn:2:12: 'listener' needs role passive (the active role has no listener)"},
	    {"role passive\nin S conn=0\n",
	     "x.scn:2:11: connections are numbered from 1 (conn=1 to conn=4)"},
	    {"role passive\nin S conn=5\n",
	     "x.scn:2:11: number out of range for conn=: '5' (at most 4)"},
	    {"role passive\nin S conn=\n",
	     "x.scn:2:11: missing connection number after 'conn=' (1 to 4)"},
	    {"role passive\nin S conn=1 conn=2\n",
	     "x.scn:2:13: a second selector 'conn=2' (one conn=N or listener per line)"},
	    {"role passive\ncall send conn=2\n",
	     "x.scn:2:11: missing count after 'send' (call send N)"},
	    {"role passive\nwait 5 conn=2\n", "x.scn:2:8: unexpected 'conn=2' at end of line"},
	    {"role passive\nexpect state LISTEN listener conn=1\n",
	     "x.scn:2:30: a second selector 'conn=1' (one conn=N or listener per line)"},
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		err[0] = '\0';
		CHECK_EQ(parse(bad[i].text, &s, err, sizeof err), -1);
		CHECK_STR(err, bad[i].err);
	}
}

int main(void)
{
	test_parse_selectors();
	test_parse_passive_handshake_every_field();
	test_parse_each_event_type();
	test_parse_anchors_and_offsets();
	test_parse_call_results();
	test_parse_ts_anchors();
	test_parse_defaults();
	test_parse_flags_any_order_and_no_flags();
	test_parse_limits_accepted();
	test_parse_wait_units();
	test_parse_state_names();
	test_parse_layout_blanks_comments_crlf();
	test_parse_nul_and_long_input();
	test_parse_errors_exact_position_and_reason();
	test_parse_error_too_many_events();
	test_parse_error_buffers();
	test_format_canonical_text();
	test_format_truncates_like_snprintf();
	test_num_format_and_anchor_names();
	test_load_and_round_trip_samples();
	test_load_sample_contents();
	test_load_errors();
	test_parse_mutated_text_never_crashes();
	test_parse_isn_line();
	return check_done();
}
