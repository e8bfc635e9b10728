/* The model gaps the linux target showed: segment size by the sender's own MSS, the
 * congestion window after a retransmission, the SYN's sequence number is no data, Window
 * Scale in a SYN,ACK, the RTO bound following RTT samples and backoff, and linux's ACK of
 * octets never sent. The oracle is driven alone here, with the segments a stack emitted. */
#include "model_test.h"

/* What the target emits: an ACK-bearing segment from it. */
static struct sfo_seg tseg(uint8_t flags, uint32_t seq, uint32_t ack, uint32_t len)
{
	struct sfo_seg s = mkseg(flags, seq, ack, len);
	s.wnd = 64240;
	return s;
}

/* Passive open as the oracle sees it; the peer's SYN offers MSS `mss` (and WS if ws). */
static void oracle_established(struct world *w, const char *profile, uint16_t mss, int ws)
{
	w_init(w, profile);
	struct sfo_event ev = sfo_ev_call(SFO_CALL_LISTEN, 0);
	CHECK_EQ(ostep(w, &ev, NULL, 0, SFO_LISTEN), SFO_DIV_OK);
	struct sfo_seg syn = mkseg(SFO_SYN, PISN, 0, 0);
	syn.mss = mss;
	if (ws) {
		syn.opts |= SFO_OPT_WSCALE;
		syn.wscale = 7;
	}
	struct sfo_seg synack = tseg(SFO_SYN | SFO_ACK, TISS, PISN + 1, 0);
	synack.opts = SFO_OPT_MSS;
	synack.mss = 1460;
	ev = sfo_ev_segment(syn);
	CHECK_EQ(ostep(w, &ev, &synack, 1, SFO_SYN_RECEIVED), SFO_DIV_OK);
	ev = sfo_ev_segment(mkseg(SFO_ACK, PISN + 1, TISS + 1, 0));
	CHECK_EQ(ostep(w, &ev, NULL, 0, SFO_ESTABLISHED), SFO_DIV_OK);
	ev = sfo_ev_call(SFO_CALL_ACCEPT, 0);
	CHECK_EQ(ostep(w, &ev, NULL, 0, SFO_ESTABLISHED), SFO_DIV_OK);
}

/* 3.7.1: the peer offers MSS 21684, the target's MTU allows 1460: three segments. */
static void established_send_cut_by_own_mss_ok(void)
{
	struct world w;
	oracle_established(&w, "linux", 21684, 0);
	struct sfo_event ev = sfo_ev_call(SFO_CALL_SEND, 3125);
	uint32_t a = PISN + 1, s = TISS + 1;
	CHECK_EQ(ostep(&w, &ev,
		       SEGS(tseg(SFO_ACK, s, a, 1460), tseg(SFO_ACK, s + 1460, a, 1460),
			    tseg(SFO_ACK | SFO_PSH, s + 2920, a, 205)),
		       3, SFO_ESTABLISHED),
		 SFO_DIV_OK);
	/* ... but never more than the peer's MSS in one segment */
	oracle_established(&w, "linux", 1000, 0);
	ev = sfo_ev_call(SFO_CALL_SEND, 3125);
	CHECK(ostep(&w, &ev, SEGS(tseg(SFO_ACK, s, a, 1460)), 1, SFO_ESTABLISHED) != SFO_DIV_OK);
	CHECK(w.v.detail[0] != '\0');
}

/* RFC 5681 3.1: after a timeout the window is the one segment in flight, so the FIN
 * may wait for its ACK; once everything is ACKed the FIN is due. */
static void established_close_after_rto_fin_waits_for_ack(void)
{
	struct world w;
	oracle_established(&w, "linux", 1460, 0);
	uint32_t a = PISN + 1, s = TISS + 1;
	struct sfo_event ev = sfo_ev_call(SFO_CALL_SEND, 1);
	CHECK_EQ(ostep(&w, &ev, SEGS(tseg(SFO_ACK, s, a, 1)), 1, SFO_ESTABLISHED), SFO_DIV_OK);
	ev = sfo_ev_wait(250);
	CHECK_EQ(ostep(&w, &ev, SEGS(tseg(SFO_ACK, s, a, 1)), 1, SFO_ESTABLISHED), SFO_DIV_OK);
	ev = sfo_ev_call(SFO_CALL_CLOSE, 0);
	CHECK_EQ(ostep(&w, &ev, NULL, 0, SFO_FIN_WAIT_1), SFO_DIV_OK);
	ev = sfo_ev_segment(mkseg(SFO_ACK, a, s + 1, 0));
	CHECK_EQ(ostep(&w, &ev, NULL, 0, SFO_FIN_WAIT_1), SFO_DIV_MISSING);
	CHECK_STR(vrule(&w), "send.fin");
	/* without a retransmission the FIN is due at once */
	oracle_established(&w, "linux", 1460, 0);
	ev = sfo_ev_call(SFO_CALL_SEND, 1);
	CHECK_EQ(ostep(&w, &ev, SEGS(tseg(SFO_ACK, s, a, 1)), 1, SFO_ESTABLISHED), SFO_DIV_OK);
	ev = sfo_ev_call(SFO_CALL_CLOSE, 0);
	CHECK_EQ(ostep(&w, &ev, NULL, 0, SFO_FIN_WAIT_1), SFO_DIV_MISSING);
	CHECK_STR(vrule(&w), "send.fin");
}

/* The SYN,ACK unacknowledged in FIN-WAIT-1 (simultaneous open, then close): its
 * sequence number is not data, so nothing may be "resent" there as data. */
static void finwait1_syn_unacked_iss_is_not_data(void)
{
	struct world w;
	w_init(&w, "linux");
	struct sfo_event ev = sfo_ev_call(SFO_CALL_CONNECT, 0);
	struct sfo_seg syn = tseg(SFO_SYN, TISS, 0, 0);
	syn.flags = SFO_SYN;
	CHECK_EQ(ostep(&w, &ev, &syn, 1, SFO_SYN_SENT), SFO_DIV_OK);
	struct sfo_seg psyn = mkseg(SFO_SYN, PISN, 0, 0);
	psyn.opts |= SFO_OPT_WSCALE;
	ev = sfo_ev_segment(psyn);
	CHECK_EQ(ostep(&w, &ev, SEGS(tseg(SFO_SYN | SFO_ACK, TISS, PISN + 1, 0)), 1,
		       SFO_SYN_RECEIVED),
		 SFO_DIV_OK);
	ev = sfo_ev_call(SFO_CALL_CLOSE, 0);
	CHECK_EQ(ostep(&w, &ev, SEGS(tseg(SFO_FIN | SFO_ACK, TISS + 1, PISN + 1, 0)), 1,
		       SFO_FIN_WAIT_1),
		 SFO_DIV_OK);
	ev = sfo_ev_segment(mkseg(SFO_ACK, PISN + 1, TISS - 1, 0));
	struct sfo_expect e;
	probe_ev(&w, &ev, &e);
	for (unsigned i = 0; i < e.nout; i++)
		for (unsigned j = 0; j < e.out[i].npat; j++)
			if (e.out[i].pat[j].rule == (sfo_rule_t)sfo_rule_find("send.data"))
				CHECK(e.out[i].pat[j].seq_lo != TISS);
	CHECK_EQ(JUDGE(&w, &e, SFO_FIN_WAIT_1, tseg(SFO_ACK, TISS + 2, PISN + 1, 0)), SFO_DIV_OK);
}

/* RFC 7323 2.2: Window Scale in a SYN,ACK only if the SYN carried it. */
static void listen_syn_without_ws_synack_with_ws_is_ws_synack_unsolicited(void)
{
	struct world w;
	for (int ws = 0; ws < 2; ws++) {
		w_init(&w, "linux");
		struct sfo_event ev = sfo_ev_call(SFO_CALL_LISTEN, 0);
		CHECK_EQ(ostep(&w, &ev, NULL, 0, SFO_LISTEN), SFO_DIV_OK);
		struct sfo_seg syn = mkseg(SFO_SYN, PISN, 0, 0);
		if (ws)
			syn.opts |= SFO_OPT_WSCALE;
		struct sfo_seg synack = tseg(SFO_SYN | SFO_ACK, TISS, PISN + 1, 0);
		synack.opts = SFO_OPT_MSS | SFO_OPT_WSCALE;
		synack.wscale = 10;
		ev = sfo_ev_segment(syn);
		enum sfo_div_kind k = ostep(&w, &ev, &synack, 1, SFO_SYN_RECEIVED);
		if (ws) {
			CHECK_EQ(k, SFO_DIV_OK);
			continue;
		}
		CHECK_EQ(k, SFO_DIV_FIELD);
		CHECK_STR(vrule(&w), "ws.synack.unsolicited");
		CHECK(strstr(w.v.detail, "ws") != NULL);
	}
}

/* RFC 6298: the RTO follows the RTT samples (up to 5 x the largest) and stays backed
 * off until a Karn-valid sample; a stack that never retransmits is still caught. */
static void established_rto_bound_follows_rtt_and_backoff(void)
{
	struct world w;
	oracle_established(&w, "rfc9293", 1460, 0);
	uint32_t a = PISN + 1, s = TISS + 1;
	struct sfo_event ev = sfo_ev_call(SFO_CALL_SEND, 10);
	CHECK_EQ(ostep(&w, &ev, SEGS(tseg(SFO_ACK, s, a, 10)), 1, SFO_ESTABLISHED), SFO_DIV_OK);
	ev = sfo_ev_wait(3000); /* the ACK takes 3 s: RTO up to 4 s + 15 s */
	CHECK_EQ(ostep(&w, &ev, NULL, 0, SFO_ESTABLISHED), SFO_DIV_OK);
	ev = sfo_ev_segment(mkseg(SFO_ACK, a, s + 10, 0));
	CHECK_EQ(ostep(&w, &ev, NULL, 0, SFO_ESTABLISHED), SFO_DIV_OK);
	ev = sfo_ev_call(SFO_CALL_SEND, 10);
	CHECK_EQ(ostep(&w, &ev, SEGS(tseg(SFO_ACK, s + 10, a, 10)), 1, SFO_ESTABLISHED),
		 SFO_DIV_OK);
	ev = sfo_ev_wait(10000);
	CHECK_EQ(ostep(&w, &ev, NULL, 0, SFO_ESTABLISHED), SFO_DIV_OK);
	ev = sfo_ev_wait(200000);
	CHECK_EQ(ostep(&w, &ev, NULL, 0, SFO_ESTABLISHED), SFO_DIV_MISSING);
	CHECK_STR(vrule(&w), "rtx.required");
	/* backoff survives the ACK of a retransmitted segment */
	oracle_established(&w, "rfc9293", 1460, 0);
	ev = sfo_ev_call(SFO_CALL_SEND, 10);
	CHECK_EQ(ostep(&w, &ev, SEGS(tseg(SFO_ACK, s, a, 10)), 1, SFO_ESTABLISHED), SFO_DIV_OK);
	ev = sfo_ev_wait(4000);
	CHECK_EQ(ostep(&w, &ev, SEGS(tseg(SFO_ACK, s, a, 10)), 1, SFO_ESTABLISHED), SFO_DIV_OK);
	ev = sfo_ev_wait(8000);
	CHECK_EQ(ostep(&w, &ev, SEGS(tseg(SFO_ACK, s, a, 10)), 1, SFO_ESTABLISHED), SFO_DIV_OK);
	ev = sfo_ev_segment(mkseg(SFO_ACK, a, s + 10, 0));
	CHECK_EQ(ostep(&w, &ev, NULL, 0, SFO_ESTABLISHED), SFO_DIV_OK);
	ev = sfo_ev_call(SFO_CALL_SEND, 10);
	CHECK_EQ(ostep(&w, &ev, SEGS(tseg(SFO_ACK, s + 10, a, 10)), 1, SFO_ESTABLISHED),
		 SFO_DIV_OK);
	ev = sfo_ev_wait(6000); /* 4 s << 2: not yet due */
	CHECK_EQ(ostep(&w, &ev, NULL, 0, SFO_ESTABLISHED), SFO_DIV_OK);
}

/* linux: an ACK of octets never sent draws a challenge ACK and drops the text. */
static void established_ack_below_iss_challenged_under_linux_only(void)
{
	struct world w;
	for (int lx = 0; lx < 2; lx++) {
		oracle_established(&w, lx ? "linux" : "rfc9293", 1460, 0);
		struct sfo_event ev = sfo_ev_segment(mkseg(SFO_ACK, PISN + 1, TISS, 1));
		enum sfo_div_kind k = ostep(&w, &ev, SEGS(tseg(SFO_ACK, TISS + 1, PISN + 1, 0)), 1,
					    SFO_ESTABLISHED);
		if (lx) {
			CHECK_EQ(k, SFO_DIV_OK);
			CHECK_EQ(w.ot.rcv_nxt, PISN + 1);
		} else {
			CHECK(k != SFO_DIV_OK);
		}
	}
}

/* 3.10.7.4 removes from the retransmission queue only segments "entirely acknowledged":
 * a resend prompted by an arriving ACK may send the partly acknowledged segment whole,
 * from below SND.UNA (lwIP does), but never from further below than one MSS. */
static void established_resend_partly_acked_segment_whole_ok(void)
{
	struct world w;
	oracle_established(&w, "lwip", 536, 0);
	uint32_t a = PISN + 1, s = TISS + 1;
	struct sfo_event ev = sfo_ev_call(SFO_CALL_SEND, 1000);
	CHECK_EQ(ostep(&w, &ev, SEGS(tseg(SFO_ACK, s, a, 536), tseg(SFO_ACK, s + 536, a, 464)),
		       2, SFO_ESTABLISHED),
		 SFO_DIV_OK);
	struct world w2 = w;
	ev = sfo_ev_segment(mkseg(SFO_ACK, a, s + 600, 0));
	CHECK_EQ(ostep(&w, &ev, SEGS(tseg(SFO_ACK, s + 536, a, 464)), 1, SFO_ESTABLISHED),
		 SFO_DIV_OK);
	CHECK(ostep(&w2, &ev, SEGS(tseg(SFO_ACK, s, a, 536)), 1, SFO_ESTABLISHED) != SFO_DIV_OK);
}

/* 3.10.7.4: a held FIN at a+2, then text at a+2: once a fills the gap, either the FIN's
 * copy wins (ACK a+3, CLOSE-WAIT) or the text's (ACK a+3, the FIN dropped below RCV.NXT);
 * never a FIN after the text (ACK a+4), which nobody sent. */
static void established_ooo_fin_overlapped_by_text_either_copy(void)
{
	uint32_t a = PISN + 1, s = TISS + 1;
	enum sfo_state after[3] = {SFO_CLOSE_WAIT, SFO_ESTABLISHED, SFO_CLOSE_WAIT};
	uint32_t acked[3] = {a + 3, a + 3, a + 4};
	for (int i = 0; i < 3; i++) {
		struct world w;
		oracle_established(&w, "lwip", 1460, 0);
		struct sfo_event ev = sfo_ev_segment(mkseg(SFO_FIN | SFO_ACK, a + 1, s, 1));
		CHECK_EQ(ostep(&w, &ev, SEGS(tseg(SFO_ACK, s, a, 0)), 1, SFO_ESTABLISHED),
			 SFO_DIV_OK);
		ev = sfo_ev_segment(mkseg(SFO_ACK, a + 2, s, 1));
		CHECK_EQ(ostep(&w, &ev, SEGS(tseg(SFO_ACK, s, a, 0)), 1, SFO_ESTABLISHED),
			 SFO_DIV_OK);
		ev = sfo_ev_segment(mkseg(SFO_ACK, a, s, 1));
		enum sfo_div_kind k =
		    ostep(&w, &ev, SEGS(tseg(SFO_ACK, s, acked[i], 0)), 1, after[i]);
		if (i < 2)
			CHECK_EQ(k, SFO_DIV_OK);
		else
			CHECK(k != SFO_DIV_OK);
	}
}

/* 3.10.7.4 fifth, RFC 1982: SEG.ACK = SND.UNA + 2^31 with one octet in flight is both a
 * duplicate and beyond SND.NXT: ignoring it is allowed, and so is the ACK back. */
static void established_ack_2p31_away_dup_or_future(void)
{
	uint32_t a = PISN + 1, s = TISS + 1;
	for (int i = 0; i < 2; i++) {
		struct world w;
		oracle_established(&w, "lwip", 1460, 0);
		struct sfo_event ev = sfo_ev_call(SFO_CALL_SEND, 1);
		CHECK_EQ(ostep(&w, &ev, SEGS(tseg(SFO_ACK, s, a, 1)), 1, SFO_ESTABLISHED),
			 SFO_DIV_OK);
		ev = sfo_ev_segment(mkseg(SFO_ACK, a, s + 0x80000000u, 0));
		if (i == 0)
			CHECK_EQ(ostep(&w, &ev, NULL, 0, SFO_ESTABLISHED), SFO_DIV_OK);
		else
			CHECK_EQ(ostep(&w, &ev, SEGS(tseg(SFO_ACK, s + 1, a, 0)), 1,
				       SFO_ESTABLISHED),
				 SFO_DIV_OK);
	}
}

/* 3.10.7.4 first uses RCV.WND, which may reach past the announced edge once the user has
 * read: an empty segment there is acceptable and needs no ACK; past the real window it
 * still does. */
static void established_empty_segment_inside_unannounced_window(void)
{
	uint32_t a = PISN + 1, s = TISS + 1;
	for (int i = 0; i < 2; i++) {
		struct world w;
		oracle_established(&w, "lwip", 1460, 0);
		struct sfo_event ev = sfo_ev_segment(mkseg(SFO_ACK, a, s, 10));
		struct sfo_seg ack = tseg(SFO_ACK, s, a + 10, 0);
		ack.wnd = 64230;
		CHECK_EQ(ostep(&w, &ev, &ack, 1, SFO_ESTABLISHED), SFO_DIV_OK);
		ev = sfo_ev_call(SFO_CALL_RECEIVE, 0);
		CHECK_EQ(ostep(&w, &ev, NULL, 0, SFO_ESTABLISHED), SFO_DIV_OK);
		uint32_t edge = a + 10 + 64230 + (i ? 10 : 0);
		ev = sfo_ev_segment(mkseg(SFO_ACK, edge, s, 0));
		enum sfo_div_kind k = ostep(&w, &ev, NULL, 0, SFO_ESTABLISHED);
		if (i == 0)
			CHECK_EQ(k, SFO_DIV_OK);
		else
			CHECK(k != SFO_DIV_OK);
	}
}

int main(void)
{
	established_send_cut_by_own_mss_ok();
	established_close_after_rto_fin_waits_for_ack();
	finwait1_syn_unacked_iss_is_not_data();
	listen_syn_without_ws_synack_with_ws_is_ws_synack_unsolicited();
	established_rto_bound_follows_rtt_and_backoff();
	established_ack_below_iss_challenged_under_linux_only();
	established_resend_partly_acked_segment_whole_ok();
	established_ooo_fin_overlapped_by_text_either_copy();
	established_ack_2p31_away_dup_or_future();
	established_empty_segment_inside_unannounced_window();
	return check_done();
}
