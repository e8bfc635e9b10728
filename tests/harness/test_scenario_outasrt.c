/* Option, window and timing assertions on `out`, and the `timers` line: every field parses
 * to what it says, the canonical text is a fixed point of the formatter, text and binary
 * forms round-trip, and the binary layout of the new bits is as documented. */
#include "check.h"
#include "scenario.h"

static int parse(const char *text, struct sfh_scenario *s)
{
	char err[256] = "";
	int rc = sfh_scn_parse(text, strlen(text), "t.scn", s, err, sizeof err);
	if (rc != 0)
		fprintf(stderr, "parse: %s\n", err);
	return rc;
}

static void check_round_trips(const struct sfh_scenario *s)
{
	static char buf[8192], buf2[8192];
	static uint8_t bin[SFH_MAX_ENCODED];
	struct sfh_scenario back, dec;
	char err[256] = "";
	size_t n = sfh_scn_format(s, buf, sizeof buf);
	CHECK(n < sizeof buf);
	CHECK_EQ(sfh_scn_parse(buf, n, "fmt", &back, err, sizeof err), 0);
	CHECK(sfh_scn_equal(s, &back));
	CHECK_EQ(sfh_scn_format(&back, buf2, sizeof buf2), n);
	CHECK_STR(buf2, buf);
	size_t bn = sfh_scn_encode(s, bin, sizeof bin);
	CHECK(bn <= SFH_MAX_ENCODED);
	sfh_scn_decode(bin, bn, &dec);
	if (!s->has_isn)
		CHECK(sfh_scn_equal(s, &dec));
}

static void test_every_field(void)
{
	struct sfh_scenario s;
	const struct sfh_out *o;
	CHECK_EQ(parse("role passive\n"
		       "timers rto_init=1s rto_min=200ms delack=40 msl=30s\n"
		       "in S seq=pisn ts=100,0\n"
		       "out S. ack=pisn+1 win=65535 mss=1460 ws=7 sackok ts=ttsv+1..ttsv+5000,ptsv "
		       "order=mss,sackok,ts,ws @+0ms\n"
		       "wait 3s\n"
		       "out S. nomss nows nosackok nots @+1s +-50ms\n"
		       "out S. ts=*,* @+2000ms \xc2\xb1"
		       "100ms\n",
		       &s),
		 0);
	CHECK_EQ(s.timers, 15);
	CHECK_EQ(s.timer_ms[SFH_TM_RTO_INIT], 1000);
	CHECK_EQ(s.timer_ms[SFH_TM_RTO_MIN], 200);
	CHECK_EQ(s.timer_ms[SFH_TM_DELACK], 40);
	CHECK_EQ(s.timer_ms[SFH_TM_MSL], 30000);
	CHECK_EQ(s.nev, 5);
	o = &s.ev[1].u.out;
	CHECK_EQ(o->has_wnd, 1);
	CHECK_EQ(o->wnd, 65535);
	CHECK_EQ(o->opt_want, SFO_OPT_MSS | SFO_OPT_WSCALE | SFO_OPT_SACKOK | SFO_OPT_TS);
	CHECK_EQ(o->opt_none, 0);
	CHECK_EQ(o->mss, 1460);
	CHECK_EQ(o->wscale, 7);
	CHECK_EQ(o->tsval_a, SFH_TS_TTSV);
	CHECK_EQ(o->tsval, 1);
	CHECK_EQ(o->tsval_span, 4999);
	CHECK_EQ(o->tsecr_a, SFH_TS_PTSV);
	CHECK_EQ(o->tsecr, 0);
	CHECK_EQ(o->tsecr_span, 0);
	CHECK_EQ(o->norder, 4);
	CHECK_EQ(o->order[0], SFH_OK_MSS);
	CHECK_EQ(o->order[1], SFH_OK_SACKOK);
	CHECK_EQ(o->order[2], SFH_OK_TS);
	CHECK_EQ(o->order[3], SFH_OK_WS);
	CHECK_EQ(o->has_at, 1);
	CHECK_EQ(o->at_ms, 0);
	CHECK_EQ(o->tol_ms, 0);
	o = &s.ev[3].u.out;
	CHECK_EQ(o->opt_want, 0);
	CHECK_EQ(o->opt_none, 15);
	CHECK_EQ(o->at_ms, 1000);
	CHECK_EQ(o->tol_ms, 50);
	o = &s.ev[4].u.out;
	CHECK_EQ(o->opt_want, SFO_OPT_TS);
	CHECK_EQ(o->tsval_span, 0xffffffffu);
	CHECK_EQ(o->tsecr_span, 0xffffffffu);
	CHECK_EQ(o->at_ms, 2000);
	CHECK_EQ(o->tol_ms, 100); /* the UTF-8 plus-minus sign reads as +- */
	check_round_trips(&s);
}

/* The formatter's canonical text: whole seconds as Ns, "any" as '*', ASCII +-. */
static void test_canonical_text(void)
{
	static const char text[] =
	    "role active\n"
	    "timers rto_init=3s delack=40ms\n"
	    "out S win=64240 mss=1460 ws=7 sackok ts=ttsv-1..ttsv+9,* order=mss,sackok,ts,ws\n"
	    "out S. nots @+1s +-50ms\n"
	    "out . ts=5..4,0 @+250ms\n";
	static const char want[] =
	    "role active\n"
	    "timers rto_init=3s delack=40ms\n"
	    "out S win=64240 mss=1460 ws=7 sackok ts=ttsv-1..ttsv+9,* order=mss,sackok,ts,ws\n"
	    "out S. nots @+1s +-50ms\n"
	    "out . ts=*,0 @+250ms\n";
	struct sfh_scenario s;
	char buf[1024];
	CHECK_EQ(parse(text, &s), 0);
	sfh_scn_format(&s, buf, sizeof buf);
	CHECK_STR(buf, want);
	check_round_trips(&s);
}

/* A range of 2^32 values (5..4) is "any value", whatever its anchor: equal to '*'. */
static void test_any_value_equality(void)
{
	struct sfh_scenario a, b;
	CHECK_EQ(parse("role passive\nout . ts=ttsv+5..ttsv+4,0\n", &a), 0);
	CHECK_EQ(parse("role passive\nout . ts=*,0\n", &b), 0);
	CHECK(sfh_scn_equal(&a, &b));
	CHECK_EQ(parse("role passive\nout . ts=ttsv+5..ttsv+6,0\n", &b), 0);
	CHECK(!sfh_scn_equal(&a, &b));
}

/* Every assertion changes equality: a scenario differing in one field is not equal. */
static void test_each_field_compared(void)
{
	static const char *const lines[] = {
	    "out S.",
	    "out S. win=1",
	    "out S. win=2",
	    "out S. mss=1",
	    "out S. mss=2",
	    "out S. nomss",
	    "out S. ws=1",
	    "out S. nows",
	    "out S. sackok",
	    "out S. nosackok",
	    "out S. ts=1,2",
	    "out S. ts=1,3",
	    "out S. ts=ptsv+1,2",
	    "out S. ts=1..2,2",
	    "out S. nots",
	    "out S. order=mss",
	    "out S. order=ws",
	    "out S. order=mss,ws",
	    "out S. @+1ms",
	    "out S. @+2ms",
	    "out S. @+1ms +-1ms",
	};
	enum { N = sizeof lines / sizeof lines[0] };
	static struct sfh_scenario s[N];
	char text[128];
	for (int i = 0; i < N; i++) {
		snprintf(text, sizeof text, "role passive\n%s\n", lines[i]);
		CHECK_EQ(parse(text, &s[i]), 0);
		check_round_trips(&s[i]);
	}
	for (int i = 0; i < N; i++)
		for (int j = 0; j < N; j++)
			CHECK_EQ(sfh_scn_equal(&s[i], &s[j]), i == j);
	struct sfh_scenario t1, t2;
	CHECK_EQ(parse("role passive\ntimers msl=1s\n", &t1), 0);
	CHECK_EQ(parse("role passive\ntimers msl=2s\n", &t2), 0);
	CHECK(!sfh_scn_equal(&t1, &t2));
	CHECK_EQ(parse("role passive\ntimers rto_min=1s\n", &t2), 0);
	CHECK(!sfh_scn_equal(&t1, &t2));
}

/* The binary layout of the new bits, byte by byte. */
static void test_binary_layout(void)
{
	struct sfh_scenario s;
	uint8_t buf[64];
	/* ROLE 0x51: active, rto_init and delack; VARs 999 and 39 (ms - 1) */
	static const uint8_t timers[] = {0x51, 0xe7, 0x07, 0x27};
	sfh_scn_decode(timers, sizeof timers, &s);
	CHECK_EQ(s.role, SFH_ROLE_ACTIVE);
	CHECK_EQ(s.timers, (1u << SFH_TM_RTO_INIT) | (1u << SFH_TM_DELACK));
	CHECK_EQ(s.timer_ms[SFH_TM_RTO_INIT], 1000);
	CHECK_EQ(s.timer_ms[SFH_TM_DELACK], 40);
	CHECK_EQ(s.nev, 0);
	CHECK_EQ(sfh_scn_encode(&s, buf, sizeof buf), sizeof timers);
	CHECK(memcmp(buf, timers, sizeof timers) == 0);

	/* out S. win=512 mss=1460 nots @+1000ms +-50ms:
	 * H=3, F=0x12, P=0x08|0x10|0x80, win 512 LE, O=0x01|0x80, mss 1460 LE, at, tol */
	static const uint8_t out[] = {0x00, 0x03, 0x12, 0x98, 0x00, 0x02,
				      0x81, 0xb4, 0x05, 0xe8, 0x07, 0x32};
	sfh_scn_decode(out, sizeof out, &s);
	CHECK_EQ(s.nev, 1);
	CHECK_EQ(s.ev[0].type, SFH_EV_OUT);
	char text[256];
	sfh_scn_format(&s, text, sizeof text);
	CHECK_STR(text, "role passive\nout S. win=512 mss=1460 nots @+1s +-50ms\n");
	CHECK_EQ(sfh_scn_encode(&s, buf, sizeof buf), sizeof out);
	CHECK(memcmp(buf, out, sizeof out) == 0);

	/* present and absent at once: the absent bit is dropped (the text cannot say it) */
	static const uint8_t both[] = {0x00, 0x03, 0x10, 0x10, 0x11, 0x00, 0x00};
	sfh_scn_decode(both, sizeof both, &s);
	CHECK_EQ(s.ev[0].u.out.opt_want, SFO_OPT_MSS);
	CHECK_EQ(s.ev[0].u.out.opt_none, 0);

	/* order=: 1 + N mod 8 kinds, each mod SFH_NOPTKINDS; spans only with TS */
	static const uint8_t order[] = {0x00, 0x03, 0x10, 0x60, 0x05, 0x07, 0x01, 0x07, 0x01};
	sfh_scn_decode(order, sizeof order, &s);
	CHECK_EQ(s.ev[0].u.out.norder, 2);
	CHECK_EQ(s.ev[0].u.out.order[0], 7 % SFH_NOPTKINDS);
	CHECK_EQ(s.ev[0].u.out.order[1], 1);
	CHECK_EQ(s.ev[0].u.out.tsval_span, 0);
	sfh_scn_format(&s, text, sizeof text);
	CHECK_STR(text, "role passive\nout . order=ws,ws\n");
}

int main(void)
{
	test_every_field();
	test_canonical_text();
	test_any_value_equality();
	test_each_field_compared();
	test_binary_layout();
	return check_done();
}
