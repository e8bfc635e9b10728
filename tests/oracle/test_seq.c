/* Sequence arithmetic (RFC 9293 3.4): comparisons and window tests across the 2^32 wrap,
 * and the model's Table 6 acceptability built on them. */
#include "model_test.h"

/* 3.4: comparisons are modulo 2^32, so 2^32-1 comes just before 0. */
static void seq_compare_across_wrap(void)
{
	CHECK(sfo_seq_lt(0xffffffffu, 0));
	CHECK(sfo_seq_gt(0, 0xffffffffu));
	CHECK(sfo_seq_le(0xfffffff0u, 0x10));
	CHECK(sfo_seq_ge(0x10, 0xfffffff0u));
	CHECK(sfo_seq_le(7, 7) && sfo_seq_ge(7, 7) && !sfo_seq_lt(7, 7) && !sfo_seq_gt(7, 7));
	CHECK_EQ(sfo_seq_diff(0, 0xffffffffu), 1);
	CHECK_EQ(sfo_seq_diff(0xffffffffu, 0), -1);
}

/* 3.4: at exactly 2^31 apart the order is by convention: a - b = INT32_MIN is "before". */
static void seq_offset_of_exactly_2_31(void)
{
	uint32_t a = 5, b = a + 0x80000000u;
	CHECK(sfo_seq_lt(b, a));
	CHECK(sfo_seq_lt(a, b));
	CHECK_EQ(sfo_seq_diff(b, a), INT32_MIN);
	CHECK(sfo_seq_gt(a + 0x7fffffffu, a));
	CHECK(sfo_seq_lt(a + 0x80000001u, a));
}

/* sfo_seq_in: lo <= x < lo+len by distance from lo, exact at any wrap. */
static void seq_in_window_straddling_zero(void)
{
	uint32_t lo = 0xffffff00u;
	CHECK(sfo_seq_in(lo, lo, 0x200));
	CHECK(sfo_seq_in(0xffffffffu, lo, 0x200));
	CHECK(sfo_seq_in(0, lo, 0x200));
	CHECK(sfo_seq_in(0xff, lo, 0x200));
	CHECK(!sfo_seq_in(0x100, lo, 0x200)); /* the right edge is outside */
	CHECK(!sfo_seq_in(lo - 1, lo, 0x200));
	CHECK(!sfo_seq_in(lo, lo, 0)); /* an empty window holds nothing */
}

static void seq_in_window_of_2_31_and_more(void)
{
	uint32_t lo = 0xc0000000u;
	CHECK(sfo_seq_in(lo + 0x7fffffffu, lo, 0x80000000u));
	CHECK(!sfo_seq_in(lo + 0x80000000u, lo, 0x80000000u));
	CHECK(sfo_seq_in(lo + 0x80000000u, lo, 0x80000001u));
	/* a window of 2^32-1 holds everything but the number just before lo */
	CHECK(!sfo_seq_in(lo - 1, lo, 0xffffffffu));
	CHECK(sfo_seq_in(lo - 2, lo, 0xffffffffu));
	CHECK(!sfo_seq_in(lo - 2, lo, 0xfffffffeu));
}

/* sfo_seq_between: lo <= x <= hi going forward from lo, inclusive at both ends. */
static void seq_between_edges(void)
{
	CHECK(sfo_seq_between(0xfffffffeu, 0xfffffffeu, 2));
	CHECK(sfo_seq_between(0, 0xfffffffeu, 2));
	CHECK(sfo_seq_between(2, 0xfffffffeu, 2));
	CHECK(!sfo_seq_between(3, 0xfffffffeu, 2));
	CHECK(!sfo_seq_between(0xfffffffdu, 0xfffffffeu, 2));
	CHECK(sfo_seq_between(9, 9, 9));
	CHECK(!sfo_seq_between(10, 9, 9));
	/* hi just before lo: the range runs round the circle and leaves out only hi+1 */
	CHECK(!sfo_seq_between(9, 10, 8));
	CHECK(sfo_seq_between(5, 10, 8));
	CHECK(sfo_seq_between(11, 10, 8));
	CHECK(sfo_seq_between(0xffffffffu, 0, 0xffffffffu));
}

static void seg_space_counts_syn_and_fin(void)
{
	struct sfo_seg s = mkseg(SFO_SYN | SFO_FIN, 0, 0, 10);
	CHECK_EQ(sfo_seg_space(&s), 12);
	s = mkseg(SFO_ACK, 0, 0, 0);
	CHECK_EQ(sfo_seg_space(&s), 0);
}

/* Table 6 through the model: an ESTABLISHED TCB whose RCV.NXT sits just below 2^32
 * takes data straddling 0 and refuses what ends before RCV.NXT. */
static void table6_across_wrap_in_model(void)
{
	struct world w;
	struct sfo_expect e;
	at(&w, SFO_ESTABLISHED, "rfc9293");
	CHECK_EQ(rnxt(&w), PISN + 1);
	/* 300 octets from 0xffffff01 run over 0 */
	probe(&w, mkseg(SFO_ACK, rnxt(&w), tnxt(&w), 300), &e);
	CHECK_EQ(e.evclass, SFO_EC_DATA_IN);
	CHECK_EQ(e.out[0].next.rcv_nxt, PISN + 1 + 300);
	CHECK(sfo_seq_lt(PISN, e.out[0].next.rcv_nxt));
	/* data wholly before RCV.NXT: unacceptable, ACK of RCV.NXT */
	probe(&w, mkseg(SFO_ACK, rnxt(&w) - 100, tnxt(&w), 50), &e);
	CHECK_EQ(e.evclass, SFO_EC_DATA_OUT);
	CHECK(fired(&e, "seq.unacceptable.ack"));
	/* the last octet just inside the window: acceptable (second half of the test) */
	probe(&w, mkseg(SFO_ACK, rnxt(&w) - 10, tnxt(&w), 11), &e);
	CHECK(fired(&e, "data.accept"));
	CHECK_EQ(e.out[0].next.rcv_nxt, rnxt(&w) + 1);
	/* zero-length at the right edge: outside */
	probe(&w, mkseg(SFO_ACK, rnxt(&w) + w.ot.rcv_wnd, tnxt(&w), 0), &e);
	CHECK(fired(&e, "seq.unacceptable.ack"));
	probe(&w, mkseg(SFO_ACK, rnxt(&w) + w.ot.rcv_wnd - 1, tnxt(&w), 0), &e);
	CHECK(!fired(&e, "seq.unacceptable.ack"));
	/* a RST 2^31 away is never in the window */
	probe(&w, mkseg(SFO_RST, rnxt(&w) + 0x80000000u, 0, 0), &e);
	CHECK_EQ(e.evclass, SFO_EC_RST_OUTWIN);
	CHECK(fired(&e, "seq.unacceptable.rst"));
}

/* The target's own ISN near 2^32: acknowledging its SYN,ACK crosses 0. */
static void iss_near_top_handshake_wraps(void)
{
	struct world w;
	w_init(&w, "rfc9293");
	w.scfg.stack_iss = 0xffffffffu;
	w_call(&w, SFO_CALL_LISTEN, 0);
	w_in(&w, SFO_SYN, w.pisn, 0, 0);
	CHECK_EQ(w.nout, 1);
	CHECK_EQ(w.out[0].seq, 0xffffffffu);
	CHECK_EQ(w.ot.iss, 0xffffffffu); /* the oracle learned it */
	CHECK_EQ(w.ot.snd_nxt, 0);
	w_in(&w, SFO_ACK, w.pnxt, 0, 0);
	CHECK_EQ(w.st.state, SFO_ESTABLISHED);
	CHECK_EQ(w.ot.state, SFO_ESTABLISHED);
	CHECK_EQ(w.diverged, 0);
}

int main(void)
{
	seq_compare_across_wrap();
	seq_offset_of_exactly_2_31();
	seq_in_window_straddling_zero();
	seq_in_window_of_2_31_and_more();
	seq_between_edges();
	seg_space_counts_syn_and_fin();
	table6_across_wrap_in_model();
	iss_near_top_handshake_wraps();
	return check_done();
}
