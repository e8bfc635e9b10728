/* Model gaps found by triaging a 60 s lwip campaign: the user timeout and zero-window
 * probes (3.8.6.1 MUST-37, 3.8.3, 3.10.8), data released by an ACK carrying the older
 * RCV.NXT (3.10.7.4 order of checks), and segments cut at the default MSS (3.7.1) graded
 * by the recommended sender SWS rules (3.8.6.2.1). The oracle is driven alone. */
#include "model_test.h"

static struct sfo_seg tseg(uint8_t flags, uint32_t seq, uint32_t ack, uint32_t len)
{
	struct sfo_seg s = mkseg(flags, seq, ack, len);
	s.wnd = 65535;
	return s;
}

/* Passive open; the peer's establishing ACK offers window `wnd`. */
static void established(struct world *w, uint16_t wnd)
{
	w_init(w, "rfc9293");
	struct sfo_event ev = sfo_ev_call(SFO_CALL_LISTEN, 0);
	CHECK_EQ(ostep(w, &ev, NULL, 0, SFO_LISTEN), SFO_DIV_OK);
	struct sfo_seg synack = tseg(SFO_SYN | SFO_ACK, TISS, PISN + 1, 0);
	synack.opts = SFO_OPT_MSS;
	synack.mss = 1460;
	ev = sfo_ev_segment(mkseg(SFO_SYN, PISN, 0, 0));
	CHECK_EQ(ostep(w, &ev, &synack, 1, SFO_SYN_RECEIVED), SFO_DIV_OK);
	struct sfo_seg ack = mkseg(SFO_ACK, PISN + 1, TISS + 1, 0);
	ack.wnd = wnd;
	ev = sfo_ev_segment(ack);
	CHECK_EQ(ostep(w, &ev, NULL, 0, SFO_ESTABLISHED), SFO_DIV_OK);
}

/* Zero window, one probe octet out: unanswered for the user timeout (100 s), the stack
 * may give up (zwp.timeout); answered by a zero-window ACK, it must stay open. */
static void zero_window_probes_answered_keep_open(void)
{
	struct world w;
	uint32_t a = PISN + 1, s = TISS + 1;
	for (int answered = 0; answered < 2; answered++) {
		established(&w, 0);
		struct sfo_event ev = sfo_ev_call(SFO_CALL_SEND, 2);
		CHECK_EQ(ostep(&w, &ev, NULL, 0, SFO_ESTABLISHED), SFO_DIV_OK);
		ev = sfo_ev_wait(3000);
		CHECK_EQ(ostep(&w, &ev, SEGS(tseg(SFO_ACK, s, a, 1)), 1, SFO_ESTABLISHED),
			 SFO_DIV_OK);
		for (int i = 0; i < 4; i++) {
			if (answered) {
				struct sfo_seg z = mkseg(SFO_ACK, a, s, 0);
				z.wnd = 0;
				ev = sfo_ev_segment(z);
				CHECK_EQ(ostep(&w, &ev, NULL, 0, SFO_ESTABLISHED), SFO_DIV_OK);
			}
			ev = sfo_ev_wait(30000);
			CHECK_EQ(ostep(&w, &ev, SEGS(tseg(SFO_ACK, s, a, 1)), 1,
				       SFO_ESTABLISHED),
				 SFO_DIV_OK);
		}
		ev = sfo_ev_wait(1000);
		enum sfo_div_kind k = ostep(&w, &ev, NULL, 0, SFO_CLOSED);
		if (answered) {
			CHECK_EQ(k, SFO_DIV_STATE);
		} else {
			CHECK_EQ(k, SFO_DIV_OK);
			CHECK_STR(vrule(&w), "zwp.timeout");
		}
	}
}

/* Window open, data queued and never sent: undelivered all the same (3.9.1.1). */
static void unsent_data_counts_for_user_timeout(void)
{
	struct world w;
	established(&w, 0);
	struct sfo_event ev = sfo_ev_call(SFO_CALL_SEND, 1);
	CHECK_EQ(ostep(&w, &ev, NULL, 0, SFO_ESTABLISHED), SFO_DIV_OK);
	/* the window opens; the stack sends nothing (a SHOULD broken, not our question) */
	ev = sfo_ev_segment(mkseg(SFO_ACK, PISN + 1, TISS + 1, 0));
	CHECK_EQ(ostep(&w, &ev, NULL, 0, SFO_ESTABLISHED), SFO_DIV_OK);
	ev = sfo_ev_wait(99000);
	CHECK(ostep(&w, &ev, NULL, 0, SFO_CLOSED) != SFO_DIV_OK);
	established(&w, 0);
	ev = sfo_ev_call(SFO_CALL_SEND, 1);
	CHECK_EQ(ostep(&w, &ev, NULL, 0, SFO_ESTABLISHED), SFO_DIV_OK);
	ev = sfo_ev_segment(mkseg(SFO_ACK, PISN + 1, TISS + 1, 0));
	CHECK_EQ(ostep(&w, &ev, NULL, 0, SFO_ESTABLISHED), SFO_DIV_OK);
	ev = sfo_ev_wait(100000);
	CHECK(ostep(&w, &ev, NULL, 0, SFO_CLOSED) == SFO_DIV_OK ||
	      strcmp(vrule(&w), "timeout.user") != 0);
}

/* The peer's FIN,ACK opens the window: data and our FIN may leave carrying the RCV.NXT
 * before the peer's FIN, as long as the newer ACK follows; alone they are not enough. */
static void data_released_by_ack_may_carry_older_ack(void)
{
	struct world w;
	uint32_t a = PISN + 1, s = TISS + 1;
	established(&w, 0);
	struct sfo_event ev = sfo_ev_call(SFO_CALL_SEND, 100);
	CHECK_EQ(ostep(&w, &ev, NULL, 0, SFO_ESTABLISHED), SFO_DIV_OK);
	ev = sfo_ev_call(SFO_CALL_CLOSE, 0);
	CHECK_EQ(ostep(&w, &ev, NULL, 0, SFO_FIN_WAIT_1), SFO_DIV_OK);
	struct world w2 = w;
	ev = sfo_ev_segment(mkseg(SFO_FIN | SFO_ACK, a, s, 0));
	CHECK_EQ(ostep(&w, &ev,
		       SEGS(tseg(SFO_ACK | SFO_FIN, s, a, 100), tseg(SFO_ACK, s + 101, a + 1, 0)),
		       2, SFO_CLOSING),
		 SFO_DIV_OK);
	/* the older ACK alone leaves the peer's FIN unacknowledged past the bound */
	CHECK_EQ(ostep(&w2, &ev, SEGS(tseg(SFO_ACK | SFO_FIN, s, a, 100)), 1, SFO_CLOSING),
		 SFO_DIV_OK);
	ev = sfo_ev_wait(1000);
	CHECK_EQ(ostep(&w2, &ev, NULL, 0, SFO_CLOSING), SFO_DIV_MISSING);
	CHECK_STR(vrule(&w2), "ack.delayed");
	/* never older than what was already acknowledged */
	established(&w, 0);
	ev = sfo_ev_call(SFO_CALL_SEND, 100);
	CHECK_EQ(ostep(&w, &ev, NULL, 0, SFO_ESTABLISHED), SFO_DIV_OK);
	ev = sfo_ev_segment(mkseg(SFO_FIN | SFO_ACK, a, s, 0));
	CHECK(ostep(&w, &ev, SEGS(tseg(SFO_ACK, s, a - 1, 100)), 1, SFO_CLOSE_WAIT) !=
	      SFO_DIV_OK);
}

/* Active open, data queued in SYN-SENT, SYN,ACK with MSS 1460: 536-octet segments are
 * the default-MSS cut (3.7.1); too many small segments otherwise are a SHOULD. */
static void default_mss_cut_before_synack(void)
{
	struct world w;
	w_init(&w, "rfc9293");
	struct sfo_event ev = sfo_ev_call(SFO_CALL_CONNECT, 0);
	struct sfo_seg syn = tseg(SFO_SYN, TISS, 0, 0);
	syn.opts = SFO_OPT_MSS;
	syn.mss = 1460;
	CHECK_EQ(ostep(&w, &ev, &syn, 1, SFO_SYN_SENT), SFO_DIV_OK);
	ev = sfo_ev_call(SFO_CALL_SEND, 5360);
	CHECK_EQ(ostep(&w, &ev, NULL, 0, SFO_SYN_SENT), SFO_DIV_OK);
	struct sfo_seg out[10];
	for (int i = 0; i < 10; i++)
		out[i] = tseg(SFO_ACK, TISS + 1 + 536u * (uint32_t)i, PISN + 1, 536);
	ev = sfo_ev_segment(mkseg(SFO_SYN | SFO_ACK, PISN, TISS + 1, 0));
	CHECK_EQ(ostep(&w, &ev, out, 10, SFO_ESTABLISHED), SFO_DIV_OK);
	/* the same data queued once the MSS is known: graded by 3.8.6.2.1, a SHOULD */
	established(&w, 65535);
	ev = sfo_ev_call(SFO_CALL_SEND, 2144);
	struct sfo_seg small[20];
	for (int i = 0; i < 20; i++)
		small[i] = tseg(SFO_ACK, TISS + 1 + 100u * (uint32_t)i, PISN + 1, 100);
	CHECK_EQ(ostep(&w, &ev, small, 20, SFO_ESTABLISHED), SFO_DIV_UNEXPECTED);
	CHECK_STR(vrule(&w), "send.data.small");
	CHECK_EQ(w.v.sev, SFO_SEV_SHOULD);
}

int main(void)
{
	zero_window_probes_answered_keep_open();
	unsent_data_counts_for_user_timeout();
	data_released_by_ack_may_carry_older_ack();
	default_mss_cut_before_synack();
	return check_done();
}
