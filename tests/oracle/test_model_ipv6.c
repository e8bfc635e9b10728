/* The oracle over IPv6: the lifecycle is the same; the default send MSS is not (RFC 9293
 * 3.7.1 MUST-15: 536 over IPv4, 1220 over IPv6, when the peer's SYN has no MSS option).
 * A data segment of 1220 octets after such a SYN is judged fine over IPv6 and too long
 * over IPv4; 1221 is too long over both; 536 is fine over both. The family survives the
 * TCB's return to LISTEN. */
#include "model_test.h"

/* A passive open whose SYN carries no MSS option, then SEND 2000; the stack's reply to the
 * SEND is one data segment of len octets. Returns the oracle's verdict on it. */
static enum sfo_div_kind first_segment(int ipv6, uint32_t len)
{
	struct world w;
	w_init(&w, "rfc9293");
	sfo_tcb_family(&w.ot, ipv6);
	struct sfo_event ev;
	memset(&ev, 0, sizeof ev);
	ev.kind = SFO_EV_CALL;
	ev.u.call.call = SFO_CALL_LISTEN;
	CHECK_EQ(ostep(&w, &ev, NULL, 0, SFO_LISTEN), SFO_DIV_OK);
	memset(&ev, 0, sizeof ev);
	ev.kind = SFO_EV_SEGMENT;
	ev.u.seg = mkseg(SFO_SYN, PISN, 0, 0);
	ev.u.seg.opts = 0; /* no MSS option */
	struct sfo_seg synack = mkseg(SFO_SYN | SFO_ACK, TISS, PISN + 1, 0);
	CHECK_EQ(ostep(&w, &ev, &synack, 1, SFO_SYN_RECEIVED), SFO_DIV_OK);
	CHECK_EQ(w.ot.mss, ipv6 ? 1220 : 536);
	ev.u.seg = mkseg(SFO_ACK, PISN + 1, TISS + 1, 0);
	CHECK_EQ(ostep(&w, &ev, NULL, 0, SFO_ESTABLISHED), SFO_DIV_OK);
	memset(&ev, 0, sizeof ev);
	ev.kind = SFO_EV_CALL;
	ev.u.call.call = SFO_CALL_SEND;
	ev.u.call.arg = 2000;
	struct sfo_seg data = mkseg(SFO_ACK | SFO_PSH, TISS + 1, PISN + 1, len);
	return ostep(&w, &ev, &data, 1, SFO_ESTABLISHED);
}

static void default_mss_bounds_segments(void)
{
	CHECK_EQ(first_segment(1, 1220), SFO_DIV_OK);
	CHECK(first_segment(0, 1220) != SFO_DIV_OK);
	CHECK(first_segment(1, 1221) != SFO_DIV_OK);
	CHECK(first_segment(0, 1221) != SFO_DIV_OK);
	CHECK_EQ(first_segment(0, 536), SFO_DIV_OK);
	CHECK_EQ(first_segment(1, 536), SFO_DIV_OK);
	CHECK(first_segment(0, 537) != SFO_DIV_OK);
}

/* The family is the connection's, kept when the TCB goes back to LISTEN: a RST in
 * SYN-RECEIVED of a passive open returns there (3.10.7.4), and the next SYN without an
 * MSS option again means 1220 over IPv6. */
static void family_survives_the_return_to_listen(void)
{
	struct sfo_tcb t;
	sfo_tcb_init(&t);
	CHECK_EQ(sfo_default_mss(&t), 536);
	sfo_tcb_family(&t, 1);
	CHECK_EQ(sfo_default_mss(&t), 1220);
	CHECK_EQ(t.mss, 1220);

	struct world w;
	w_init(&w, "rfc9293");
	sfo_tcb_family(&w.ot, 1);
	struct sfo_event ev;
	memset(&ev, 0, sizeof ev);
	ev.kind = SFO_EV_CALL;
	ev.u.call.call = SFO_CALL_LISTEN;
	CHECK_EQ(ostep(&w, &ev, NULL, 0, SFO_LISTEN), SFO_DIV_OK);
	memset(&ev, 0, sizeof ev);
	ev.kind = SFO_EV_SEGMENT;
	ev.u.seg = mkseg(SFO_SYN, PISN, 0, 0);
	struct sfo_seg synack = mkseg(SFO_SYN | SFO_ACK, TISS, PISN + 1, 0);
	CHECK_EQ(ostep(&w, &ev, &synack, 1, SFO_SYN_RECEIVED), SFO_DIV_OK);
	CHECK_EQ(w.ot.mss, 1460); /* the option's value */
	ev.u.seg = mkseg(SFO_RST, PISN + 1, 0, 0);
	CHECK_EQ(ostep(&w, &ev, NULL, 0, SFO_LISTEN), SFO_DIV_OK);
	CHECK_EQ(w.ot.state, SFO_LISTEN);
	CHECK_EQ(sfo_default_mss(&w.ot), 1220);
	ev.u.seg = mkseg(SFO_SYN, PISN + 5000, 0, 0);
	ev.u.seg.opts = 0;
	synack = mkseg(SFO_SYN | SFO_ACK, TISS, PISN + 5001, 0);
	CHECK_EQ(ostep(&w, &ev, &synack, 1, SFO_SYN_RECEIVED), SFO_DIV_OK);
	CHECK_EQ(w.ot.mss, 1220);
}

int main(void)
{
	default_mss_bounds_segments();
	family_survives_the_return_to_listen();
	return check_done();
}
