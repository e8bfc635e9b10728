/* The latitude RFC 9293 leaves, as model outcomes: a SYN outside the window trimmed (3.10.7.4
 * first check), SYN-RECEIVED's RST for an unacceptable ACK before the sequence check
 * (3.5.2), the RCV.WUP mitigation of Appendix A.2 as a profile flag, a RST for text or a
 * FIN beyond a gap after close() (3.6.1 SHLD-3), and extra pure ACKs graded by the harm
 * they can do. Cell by cell: state, segment, what the target emits, the verdict. */
#include "model_test.h"

/* 3.10.7.4 first: a SYN at IRS lies before RCV.NXT and may be trimmed off; the octet left
 * at RCV.NXT has no ACK bit and is dropped (fifth check): silence is conformant. */
static void finwait2_syn_before_rcvnxt_trimmed_silence_ok(void)
{
	const char *profiles[] = {"rfc9293", "linux"};
	for (int i = 0; i < 2; i++) {
		struct world w;
		struct sfo_expect e;
		at(&w, SFO_FIN_WAIT_2, profiles[i]);
		probe(&w, mkseg(SFO_SYN, w.pisn, 0, 1), &e);
		CHECK(fired(&e, "syn.trimmed"));
		CHECK_EQ(JUDGE0(&w, &e, SFO_FIN_WAIT_2), SFO_DIV_OK);
		/* the challenge ACK (RFC 5961 section 4) stays the reference */
		CHECK_EQ(JUDGE(&w, &e, SFO_FIN_WAIT_2, tack(&w)), SFO_DIV_OK);
		CHECK_EQ(w.which, 0);
	}
	/* the rfc5961 profile requires the challenge "irrespective of the sequence number" */
	struct world w;
	struct sfo_expect e;
	at(&w, SFO_FIN_WAIT_2, "rfc5961");
	probe(&w, mkseg(SFO_SYN, w.pisn, 0, 1), &e);
	CHECK(!fired(&e, "syn.trimmed"));
	CHECK_EQ(JUDGE0(&w, &e, SFO_FIN_WAIT_2), SFO_DIV_MISSING);
	CHECK_STR(vrule(&w), "syn.challenge");
}

/* A SYN at RCV.NXT is inside the window: nothing to trim, the fourth check decides. */
static void established_syn_at_rcvnxt_not_trimmed(void)
{
	struct world w;
	struct sfo_expect e;
	at(&w, SFO_ESTABLISHED, "rfc9293");
	probe(&w, mkseg(SFO_SYN, rnxt(&w), 0, 0), &e);
	CHECK(!fired(&e, "syn.trimmed"));
	CHECK_EQ(JUDGE0(&w, &e, SFO_ESTABLISHED), SFO_DIV_MISSING);
	CHECK_STR(vrule(&w), "syn.challenge");
}

/* SYN|FIN at IRS in a passive SYN-RECEIVED: with the SYN trimmed it is the peer's SYN
 * again (SYN,ACK resent or not) and a FIN without ACK (dropped); returning to LISTEN
 * (fourth check, untrimmed) stays the reference. */
static void synrcvd_syn_fin_at_irs_synack_again_ok(void)
{
	struct world w;
	struct sfo_expect e;
	at(&w, SFO_SYN_RECEIVED, "rfc9293");
	probe(&w, mkseg(SFO_SYN | SFO_FIN, w.pisn, 0, 0), &e);
	CHECK_EQ(e.out[0].next.state, SFO_LISTEN);
	CHECK(fired(&e, "syn.trimmed"));
	struct sfo_seg synack = mkseg(SFO_SYN | SFO_ACK, w.tiss, w.pisn + 1, 0);
	CHECK_EQ(JUDGE(&w, &e, SFO_SYN_RECEIVED, synack), SFO_DIV_OK);
	CHECK_EQ(JUDGE0(&w, &e, SFO_SYN_RECEIVED), SFO_DIV_OK);
	CHECK_EQ(JUDGE0(&w, &e, SFO_LISTEN), SFO_DIV_OK);
	/* the SYN,ACK must still acknowledge the SYN only */
	synack.ack = w.pisn + 2;
	CHECK(JUDGE(&w, &e, SFO_SYN_RECEIVED, synack) != SFO_DIV_OK);
}

/* 3.5.2 group 2: an old segment (SEG.SEQ = IRS) whose ACK is the ISS draws
 * <SEQ=SEG.ACK><CTL=RST>, SYN-RECEIVED kept; the first check's ACK stays the reference. */
static void synrcvd_old_segment_bad_ack_rst_ok(void)
{
	struct world w;
	struct sfo_expect e;
	at(&w, SFO_SYN_RECEIVED, "rfc9293");
	probe(&w, mkseg(SFO_ACK, w.pisn, w.tiss, 0), &e);
	CHECK(fired(&e, "synrcvd.ack.bad.first"));
	CHECK_EQ(JUDGE(&w, &e, SFO_SYN_RECEIVED, mkseg(SFO_RST, w.tiss, 0, 0)), SFO_DIV_OK);
	CHECK_EQ(JUDGE(&w, &e, SFO_SYN_RECEIVED, tack(&w)), SFO_DIV_OK);
	CHECK_EQ(w.which, 0);
	/* the reset takes its number from the ACK field, and the state holds */
	CHECK(JUDGE(&w, &e, SFO_SYN_RECEIVED, mkseg(SFO_RST, w.tiss + 1, 0, 0)) != SFO_DIV_OK);
	CHECK_EQ(JUDGE(&w, &e, SFO_ESTABLISHED, mkseg(SFO_RST, w.tiss, 0, 0)), SFO_DIV_STATE);
	/* a SYN,ACK at IRS that acknowledges the ISS: the same reset may come */
	probe(&w, mkseg(SFO_SYN | SFO_ACK, w.pisn, w.tiss, 0), &e);
	CHECK(fired(&e, "synrcvd.ack.bad.first"));
	CHECK_EQ(JUDGE(&w, &e, SFO_SYN_RECEIVED, mkseg(SFO_RST, w.tiss, 0, 0)), SFO_DIV_OK);
	/* a RST is never answered by a RST */
	probe(&w, mkseg(SFO_RST | SFO_ACK, w.pisn, w.tiss, 0), &e);
	CHECK(!fired(&e, "synrcvd.ack.bad.first"));
}

/* Simultaneous open: in SYN-RECEIVED the peer's SYN,ACK acknowledges only the ISS
 * (SND.UNA): unacceptable (3.10.7.4 fifth), so RST SEQ=SEG.ACK, SYN-RECEIVED kept. */
static void simopen_synrcvd_synack_of_iss_rst_ok(void)
{
	struct world w;
	struct sfo_expect e;
	w_init(&w, "rfc9293");
	w_goto(&w, SFO_SYN_SENT);
	w_in(&w, SFO_SYN, w.pisn, 0, 0);
	CHECK_EQ(w.ot.state, SFO_SYN_RECEIVED);
	CHECK_EQ(w.diverged, 0);
	probe(&w, mkseg(SFO_SYN | SFO_ACK, w.pisn, w.tiss, 0), &e);
	CHECK(fired(&e, "synrcvd.ack.bad"));
	CHECK_EQ(JUDGE(&w, &e, SFO_SYN_RECEIVED, mkseg(SFO_RST, w.tiss, 0, 0)), SFO_DIV_OK);
	CHECK_EQ(JUDGE(&w, &e, SFO_ESTABLISHED, mkseg(SFO_RST, w.tiss, 0, 0)), SFO_DIV_STATE);
}

/* Appendix A.2 under SFO_PF_RCV_WUP (linux): the peer's FIN resent, now acknowledging
 * ours, ends at RCV.WUP: its ACK closes LAST-ACK. Without the flag: Table 6. */
static void lastack_resent_fin_acks_ours_under_rcv_wup_only(void)
{
	struct world w;
	struct sfo_expect e;
	at(&w, SFO_LAST_ACK, "linux");
	CHECK(w.ot.fl & SFO_TF_WUP_KNOWN);
	CHECK_EQ(w.ot.rcv_wup, rnxt(&w));
	probe(&w, mkseg(SFO_FIN | SFO_ACK, rnxt(&w) - 1, tnxt(&w), 0), &e);
	CHECK(fired(&e, "seq.rcv.wup"));
	CHECK_EQ(JUDGE0(&w, &e, SFO_CLOSED), SFO_DIV_OK);
	CHECK_EQ(JUDGE(&w, &e, SFO_LAST_ACK, tack(&w)), SFO_DIV_OK);
	/* a FIN that ends before RCV.WUP is old for the mitigation too */
	probe(&w, mkseg(SFO_FIN | SFO_ACK, rnxt(&w) - 2, tnxt(&w), 0), &e);
	CHECK(!fired(&e, "seq.rcv.wup"));
	CHECK_EQ(JUDGE0(&w, &e, SFO_CLOSED), SFO_DIV_STATE);
	at(&w, SFO_LAST_ACK, "rfc9293");
	probe(&w, mkseg(SFO_FIN | SFO_ACK, rnxt(&w) - 1, tnxt(&w), 0), &e);
	CHECK(!fired(&e, "seq.rcv.wup"));
	CHECK_EQ(JUDGE0(&w, &e, SFO_CLOSED), SFO_DIV_STATE);
	CHECK_STR(vrule(&w), "seq.unacceptable.ack");
}

/* 3.6.1 MAY-1, SHLD-3: after close() a FIN beyond a gap may draw a RST; after
 * shutdown() the application still reads, so it is held (SHLD-31) and the RST is not
 * conformant. */
static void finwait1_after_close_ooo_fin_rst_ok(void)
{
	struct world w;
	struct sfo_expect e;
	at(&w, SFO_FIN_WAIT_1, "rfc9293");
	probe(&w, mkseg(SFO_FIN | SFO_ACK, rnxt(&w) + 1, tnxt(&w), 0), &e);
	CHECK(fired(&e, "data.after.close.ooo.rst"));
	CHECK_EQ(JUDGE(&w, &e, SFO_CLOSED, mkseg(SFO_RST, tnxt(&w), 0, 0)), SFO_DIV_OK);
	CHECK_EQ(JUDGE0(&w, &e, SFO_FIN_WAIT_2), SFO_DIV_OK);
	CHECK_EQ(w.which, 0);
	w_init(&w, "rfc9293");
	w_goto(&w, SFO_ESTABLISHED);
	w_call(&w, SFO_CALL_SHUTDOWN, 0);
	CHECK_EQ(w.ot.state, SFO_FIN_WAIT_1);
	probe(&w, mkseg(SFO_FIN | SFO_ACK, rnxt(&w) + 1, tnxt(&w), 0), &e);
	CHECK(!fired(&e, "data.after.close.ooo.rst"));
	CHECK(JUDGE(&w, &e, SFO_CLOSED, mkseg(SFO_RST, tnxt(&w), 0, 0)) != SFO_DIV_OK);
}

/* Severity follows the harm: a pure ACK of the current numbers where none is due is
 * graded SHOULD; the same ACK with a wrong number, or a RST, keeps MUST. */
static void timewait_fin_without_ack_extra_ack_graded_should(void)
{
	struct world w;
	struct sfo_expect e;
	at(&w, SFO_TIME_WAIT, "rfc9293");
	probe(&w, mkseg(SFO_FIN, rnxt(&w), 0, 0), &e);
	CHECK_EQ(JUDGE0(&w, &e, SFO_TIME_WAIT), SFO_DIV_OK);
	CHECK_EQ(JUDGE(&w, &e, SFO_TIME_WAIT, tack(&w)), SFO_DIV_UNEXPECTED);
	CHECK_STR(vrule(&w), "ack.off");
	CHECK_EQ(w.v.sev, SFO_SEV_SHOULD);
	CHECK(strstr(w.v.detail, "graded should") != NULL);
	CHECK_EQ(JUDGE(&w, &e, SFO_TIME_WAIT, mkseg(SFO_ACK, tnxt(&w), rnxt(&w) + 5, 0)),
		 SFO_DIV_UNEXPECTED);
	CHECK_EQ(w.v.sev, SFO_SEV_MUST);
	CHECK_EQ(JUDGE(&w, &e, SFO_TIME_WAIT, mkseg(SFO_RST, tnxt(&w), 0, 0)), SFO_DIV_UNEXPECTED);
	CHECK_EQ(w.v.sev, SFO_SEV_MUST);
	/* a state change is graded by its rule whatever was sent */
	CHECK_EQ(JUDGE(&w, &e, SFO_CLOSED, tack(&w)), SFO_DIV_STATE);
	CHECK_EQ(w.v.sev, SFO_SEV_MUST);
}

/* A challenge ACK for a RST exactly at the right edge (outside Table 6's window). */
static void established_rst_at_right_edge_challenge_graded_should(void)
{
	struct world w;
	struct sfo_expect e;
	at(&w, SFO_ESTABLISHED, "rfc9293");
	probe(&w, mkseg(SFO_RST, rnxt(&w) + w.ot.rcv_wnd, 0, 0), &e);
	CHECK_EQ(e.evclass, SFO_EC_RST_OUTWIN);
	CHECK_EQ(JUDGE0(&w, &e, SFO_ESTABLISHED), SFO_DIV_OK);
	CHECK_EQ(JUDGE(&w, &e, SFO_ESTABLISHED, tack(&w)), SFO_DIV_UNEXPECTED);
	CHECK_STR(vrule(&w), "seq.unacceptable.rst");
	CHECK_EQ(w.v.sev, SFO_SEV_SHOULD);
	/* resetting on it changes the peer's connection: MUST */
	CHECK_EQ(JUDGE0(&w, &e, SFO_CLOSED), SFO_DIV_STATE);
	CHECK_EQ(w.v.sev, SFO_SEV_MUST);
}

/* 3.10.7.3 fourth: text on a simultaneous-open SYN is queued: the SYN,ACK acknowledges
 * the SYN only; once ESTABLISHED the text is taken and acknowledged. Discarding it
 * (unacknowledged, so the peer resends it) is tolerated. */
static void simopen_syn_text_queued_until_established(void)
{
	struct world w;
	struct sfo_expect e;
	w_init(&w, "rfc9293");
	w_goto(&w, SFO_SYN_SENT);
	w_in(&w, SFO_SYN, w.pisn, 0, 3);
	CHECK_EQ(w.diverged, 0);
	CHECK_EQ(w.ot.state, SFO_SYN_RECEIVED);
	CHECK(w.ot.fl & SFO_TF_SYN_Q);
	CHECK_EQ(w.ot.rcv_nxt, w.pisn + 1);
	probe(&w, mkseg(SFO_ACK, w.pisn + 4, tnxt(&w), 0), &e);
	CHECK(fired(&e, "synsent.syn.text.queue"));
	/* text alone: one outcome keeps it pending at RCV.NXT until an ACK shows it taken */
	CHECK(e.out[0].next.fl & SFO_TF_SYN_QP);
	CHECK_EQ(e.out[0].next.syn_q_len, 3);
	CHECK_EQ(e.out[0].next.rcv_nxt, w.pisn + 1);
	CHECK_EQ(JUDGE0(&w, &e, SFO_ESTABLISHED), SFO_DIV_OK);
	CHECK_EQ(JUDGE(&w, &e, SFO_ESTABLISHED, mkseg(SFO_ACK, tnxt(&w), w.pisn + 4, 0)),
		 SFO_DIV_OK);
	CHECK_EQ(JUDGE(&w, &e, SFO_ESTABLISHED, mkseg(SFO_ACK, tnxt(&w), w.pisn + 5, 0)),
		 SFO_DIV_FIELD);
	/* the model as a stack takes it (the reference), and the oracle learns so */
	w_in(&w, SFO_ACK, w.pisn + 4, tnxt(&w), 0);
	CHECK_EQ(w.diverged, 0);
	CHECK_EQ(w.st.rcv_nxt, w.pisn + 4);
	CHECK_EQ(w.ot.rcv_nxt, w.pisn + 4);
	/* a stack that dropped it acknowledges later text at the SYN's end, or beyond */
	w_init(&w, "rfc9293");
	w_goto(&w, SFO_SYN_SENT);
	w_in(&w, SFO_SYN, w.pisn, 0, 3);
	struct sfo_event ev = sfo_ev_segment(mkseg(SFO_ACK, w.pisn + 4, tnxt(&w), 0));
	CHECK_EQ(ostep(&w, &ev, NULL, 0, SFO_ESTABLISHED), SFO_DIV_OK);
	ev = sfo_ev_segment(mkseg(SFO_ACK, w.pisn + 4, tnxt(&w), 1));
	struct sfo_expect e2;
	probe(&w, ev.u.seg, &e2);
	CHECK_EQ(JUDGE(&w, &e2, SFO_ESTABLISHED, mkseg(SFO_ACK, tnxt(&w), w.pisn + 1, 0)),
		 SFO_DIV_OK);
	CHECK_EQ(JUDGE(&w, &e2, SFO_ESTABLISHED, mkseg(SFO_ACK, tnxt(&w), w.pisn + 5, 0)),
		 SFO_DIV_OK);
	/* a FIN on the SYN is processed too: CLOSE-WAIT once ESTABLISHED is reached */
	w_init(&w, "rfc9293");
	w_goto(&w, SFO_SYN_SENT);
	w_in(&w, SFO_SYN | SFO_FIN, w.pisn, 0, 2);
	probe(&w, mkseg(SFO_ACK, w.pisn + 4, tnxt(&w), 0), &e);
	CHECK_EQ(e.out[0].next.state, SFO_CLOSE_WAIT);
	CHECK_EQ(JUDGE(&w, &e, SFO_CLOSE_WAIT, mkseg(SFO_ACK, tnxt(&w), w.pisn + 4, 0)),
		 SFO_DIV_OK);
	CHECK_EQ(JUDGE0(&w, &e, SFO_ESTABLISHED), SFO_DIV_OK);
	CHECK(fired(&e, "synsent.syn.text.drop"));
}

/* Simultaneous-open text left pending (neither acknowledged nor shown discarded): a call
 * or a wait may show the target took it. The target's delayed ACK of it when a wait
 * runs past 0.5 s (3.8.6.3, MUST-40), a FIN that carries that ACK with the owed ACK
 * beside it, the RST of a close() with that text unread (3.6.1, SHLD-3): all
 * conformant, and the oracle takes the text. A step that shows nothing keeps it open. */
static void simopen_syn_text_pending_shown_by_call_or_wait(void)
{
	struct world w;
	struct sfo_event ack, ev;
	struct sfo_seg fin, pure;
	const char *profiles[] = {"rfc9293", "linux", "lwip"};
	for (int i = 0; i < 3; i++) {
		w_init(&w, profiles[i]);
		w_goto(&w, SFO_SYN_SENT);
		w_in(&w, SFO_SYN, w.pisn, 0, 3);
		ack = sfo_ev_segment(mkseg(SFO_ACK, w.pisn + 4, tnxt(&w), 0));
		CHECK_EQ(ostep(&w, &ack, NULL, 0, SFO_ESTABLISHED), SFO_DIV_OK);
		CHECK(w.ot.fl & SFO_TF_SYN_QP);
		ev = sfo_ev_wait(100);
		CHECK_EQ(ostep(&w, &ev, NULL, 0, SFO_ESTABLISHED), SFO_DIV_OK);
		CHECK(w.ot.fl & SFO_TF_SYN_QP);
		ev = sfo_ev_wait(600);
		pure = mkseg(SFO_ACK, tnxt(&w), w.pisn + 4, 0);
		CHECK_EQ(ostep(&w, &ev, &pure, 1, SFO_ESTABLISHED), SFO_DIV_OK);
		CHECK(!(w.ot.fl & SFO_TF_SYN_QP));
		CHECK_EQ(w.ot.rcv_nxt, w.pisn + 4);
		CHECK_EQ(w.ot.rcv_queued, 3);
	}
	/* close(): the FIN acknowledges the text, and the owed pure ACK goes out beside it */
	w_init(&w, "rfc9293");
	w_goto(&w, SFO_SYN_SENT);
	w_in(&w, SFO_SYN, w.pisn, 0, 3);
	ack = sfo_ev_segment(mkseg(SFO_ACK, w.pisn + 4, tnxt(&w), 0));
	CHECK_EQ(ostep(&w, &ack, NULL, 0, SFO_ESTABLISHED), SFO_DIV_OK);
	ev = sfo_ev_call(SFO_CALL_CLOSE, 0);
	fin = mkseg(SFO_FIN | SFO_ACK, tnxt(&w), w.pisn + 4, 0);
	pure = mkseg(SFO_ACK, tnxt(&w), w.pisn + 4, 0);
	CHECK_EQ(ostep(&w, &ev, SEGS(fin, pure), 2, SFO_FIN_WAIT_1), SFO_DIV_OK);
	CHECK_EQ(w.ot.rcv_nxt, w.pisn + 4);
	/* close() with the taken text unread: a RST, and CLOSED */
	for (int i = 0; i < 3; i++) {
		w_init(&w, profiles[i]);
		w_goto(&w, SFO_SYN_SENT);
		w_in(&w, SFO_SYN, w.pisn, 0, 3);
		ack = sfo_ev_segment(mkseg(SFO_ACK, w.pisn + 4, tnxt(&w), 0));
		CHECK_EQ(ostep(&w, &ack, NULL, 0, SFO_ESTABLISHED), SFO_DIV_OK);
		struct sfo_seg rst = mkseg(SFO_RST, tnxt(&w), 0, 0);
		CHECK_EQ(ostep(&w, &ev, &rst, 1, SFO_CLOSED), SFO_DIV_OK);
		CHECK(fired(&w.oe, "call.close.unread.rst"));
	}
}

/* Appendix A.2 under SFO_PF_RCV_WUP (linux): a RST or SYN that starts before RCV.NXT but
 * ends at RCV.WUP is taken by the sequence check; not being at RCV.NXT it draws the
 * RFC 5961 challenge ACK (3.10.7.4 second check 3), fourth check), state kept. The
 * silent drop (Table 6) stays allowed; without the flag the challenge is refused. */
static void established_old_rst_fin_at_rcv_wup_challenge_ok(void)
{
	struct world w;
	struct sfo_expect e;
	at(&w, SFO_ESTABLISHED, "linux");
	CHECK(w.ot.fl & SFO_TF_WUP_KNOWN);
	CHECK_EQ(w.ot.rcv_wup, rnxt(&w));
	probe(&w, mkseg(SFO_RST | SFO_FIN | SFO_ACK, rnxt(&w) - 1, tnxt(&w), 0), &e);
	CHECK(fired(&e, "seq.rcv.wup"));
	CHECK_EQ(JUDGE(&w, &e, SFO_ESTABLISHED, tack(&w)), SFO_DIV_OK);
	CHECK_EQ(JUDGE0(&w, &e, SFO_ESTABLISHED), SFO_DIV_OK);
	CHECK(JUDGE(&w, &e, SFO_CLOSED, tack(&w)) != SFO_DIV_OK);
	/* SYN,FIN the same way (fourth check) */
	probe(&w, mkseg(SFO_SYN | SFO_FIN | SFO_ACK, rnxt(&w) - 2, tnxt(&w), 0), &e);
	CHECK(fired(&e, "seq.rcv.wup"));
	CHECK_EQ(JUDGE(&w, &e, SFO_ESTABLISHED, tack(&w)), SFO_DIV_OK);
	/* a RST,FIN ending before RCV.WUP is old for the mitigation too */
	probe(&w, mkseg(SFO_RST | SFO_FIN | SFO_ACK, rnxt(&w) - 2, tnxt(&w), 0), &e);
	CHECK(!fired(&e, "seq.rcv.wup"));
	CHECK(JUDGE(&w, &e, SFO_ESTABLISHED, tack(&w)) != SFO_DIV_OK);
	at(&w, SFO_ESTABLISHED, "rfc9293");
	probe(&w, mkseg(SFO_RST | SFO_FIN | SFO_ACK, rnxt(&w) - 1, tnxt(&w), 0), &e);
	CHECK(!fired(&e, "seq.rcv.wup"));
	CHECK(JUDGE(&w, &e, SFO_ESTABLISHED, tack(&w)) != SFO_DIV_OK);
}

/* The same in SYN-RECEIVED of a simultaneous open (Linux's full socket): the old FIN's
 * ACK completes the handshake. A passive OPEN's SYN-RECEIVED keeps Table 6. */
static void synrcvd_old_fin_at_rcv_wup_simopen_only(void)
{
	struct world w;
	struct sfo_expect e;
	w_init(&w, "linux");
	w_goto(&w, SFO_SYN_SENT);
	w_in(&w, SFO_SYN, w.pisn, 0, 0);
	CHECK_EQ(w.ot.state, SFO_SYN_RECEIVED);
	probe(&w, mkseg(SFO_FIN | SFO_ACK, w.pisn, w.tiss + 1, 0), &e);
	CHECK(fired(&e, "seq.rcv.wup"));
	CHECK_EQ(JUDGE(&w, &e, SFO_ESTABLISHED, tack(&w)), SFO_DIV_OK);
	probe(&w, mkseg(SFO_RST | SFO_FIN | SFO_ACK, w.pisn, w.tiss + 1, 0), &e);
	CHECK(fired(&e, "seq.rcv.wup"));
	CHECK_EQ(JUDGE(&w, &e, SFO_SYN_RECEIVED, tack(&w)), SFO_DIV_OK);
	at(&w, SFO_SYN_RECEIVED, "linux");
	probe(&w, mkseg(SFO_FIN | SFO_ACK, w.pisn, w.tiss + 1, 0), &e);
	CHECK(!fired(&e, "seq.rcv.wup"));
	CHECK_EQ(JUDGE(&w, &e, SFO_ESTABLISHED, tack(&w)), SFO_DIV_STATE);
}

/* A bare ACK after the simultaneous-open text went pending shows nothing about that text
 * when it draws no reply (3.10.7.3 fourth lets the target queue or, tolerated, discard
 * it): the question stays open, so a target that discarded the text may later stay
 * silent past the delayed-ACK bound (linux triage groups 3, 17, 24). */
static void simopen_syn_text_pending_survives_bare_ack(void)
{
	const char *profiles[] = {"rfc9293", "linux"};
	for (int i = 0; i < 2; i++) {
		struct world w;
		w_init(&w, profiles[i]);
		w_goto(&w, SFO_SYN_SENT);
		w_in(&w, SFO_SYN, w.pisn, 0, 1);
		struct sfo_event ev = sfo_ev_segment(mkseg(SFO_ACK, w.pisn + 2, tnxt(&w), 0));
		CHECK_EQ(ostep(&w, &ev, NULL, 0, SFO_ESTABLISHED), SFO_DIV_OK);
		CHECK(w.ot.fl & SFO_TF_SYN_QP);
		/* the bare ACK, no reply: still pending */
		CHECK_EQ(ostep(&w, &ev, NULL, 0, SFO_ESTABLISHED), SFO_DIV_OK);
		CHECK(w.ot.fl & SFO_TF_SYN_QP);
		CHECK_EQ(w.ot.rcv_nxt, w.pisn + 1);
		/* no ACK of the text past 0.5 s: it was discarded, conformant */
		ev = sfo_ev_wait(600);
		CHECK_EQ(ostep(&w, &ev, NULL, 0, SFO_ESTABLISHED), SFO_DIV_OK);
		/* close(): the FIN acknowledges the SYN only */
		ev = sfo_ev_call(SFO_CALL_CLOSE, 0);
		struct sfo_seg fin = mkseg(SFO_FIN | SFO_ACK, tnxt(&w), w.pisn + 1, 0);
		CHECK_EQ(ostep(&w, &ev, &fin, 1, SFO_FIN_WAIT_1), SFO_DIV_OK);
	}
}

/* 3.6.1 SHLD-3 names no state: after shutdown(SHUT_WR), close() with received data
 * unread may reset in LAST-ACK and CLOSING too (linux triage group 12). */
static void close_unread_rst_in_lastack_and_closing(void)
{
	const char *profiles[] = {"rfc9293", "linux"};
	for (int i = 0; i < 2; i++) {
		struct world w;
		at(&w, SFO_ESTABLISHED, profiles[i]);
		w_in(&w, SFO_FIN | SFO_ACK, w.pnxt, tnxt(&w), 1);
		w_call(&w, SFO_CALL_SHUTDOWN, 0);
		CHECK_EQ(w.ot.state, SFO_LAST_ACK);
		CHECK_EQ(w.diverged, 0);
		struct sfo_event ev = sfo_ev_call(SFO_CALL_CLOSE, 0);
		struct sfo_seg rst = mkseg(SFO_RST | SFO_ACK, tnxt(&w), w.pnxt, 0);
		CHECK_EQ(ostep(&w, &ev, &rst, 1, SFO_CLOSED), SFO_DIV_OK);
		CHECK(fired(&w.oe, "call.close.unread.rst"));
		at(&w, SFO_ESTABLISHED, profiles[i]);
		w_call(&w, SFO_CALL_SHUTDOWN, 0);
		w_in(&w, SFO_FIN | SFO_ACK, w.pnxt, tuna(&w), 1);
		CHECK_EQ(w.ot.state, SFO_CLOSING);
		CHECK_EQ(w.diverged, 0);
		rst = mkseg(SFO_RST | SFO_ACK, tnxt(&w), w.pnxt, 0);
		CHECK_EQ(ostep(&w, &ev, &rst, 1, SFO_CLOSED), SFO_DIV_OK);
		CHECK(fired(&w.oe, "call.close.unread.rst"));
	}
}

/* LAST-ACK with our FIN still queued behind data is the RFC's CLOSE-WAIT with a CLOSE
 * pending (3.10.4): ABORT may send <SEQ=SND.NXT><CTL=RST> (3.10.5); once the FIN is
 * out it deletes the TCB quietly (linux triage group 23). */
static void lastack_fin_unsent_abort_rst_ok(void)
{
	struct world w;
	at(&w, SFO_ESTABLISHED, "linux");
	w_in(&w, SFO_FIN | SFO_ACK, w.pnxt, tnxt(&w), 0);
	struct sfo_seg zw = mkseg(SFO_ACK, w.pnxt, tnxt(&w), 0);
	zw.wnd = 0;
	struct sfo_event ev = sfo_ev_segment(zw);
	CHECK_EQ(ostep(&w, &ev, NULL, 0, SFO_CLOSE_WAIT), SFO_DIV_OK);
	ev = sfo_ev_call(SFO_CALL_SEND, 100);
	CHECK_EQ(ostep(&w, &ev, NULL, 0, SFO_CLOSE_WAIT), SFO_DIV_OK);
	ev = sfo_ev_call(SFO_CALL_SHUTDOWN, 0);
	CHECK_EQ(ostep(&w, &ev, NULL, 0, SFO_LAST_ACK), SFO_DIV_OK);
	CHECK(!(w.ot.fl & SFO_TF_FIN_SENT));
	ev = sfo_ev_call(SFO_CALL_ABORT, 0);
	struct sfo_seg rst = mkseg(SFO_RST | SFO_ACK, tnxt(&w), w.pnxt, 0);
	struct sfo_tcb keep = w.ot;
	CHECK_EQ(ostep(&w, &ev, &rst, 1, SFO_CLOSED), SFO_DIV_OK);
	CHECK_STR(vrule(&w), "call.abort.rst");
	w.ot = keep;
	CHECK_EQ(ostep(&w, &ev, NULL, 0, SFO_CLOSED), SFO_DIV_OK);
	/* with the FIN sent, the RST is unexpected */
	at(&w, SFO_CLOSE_WAIT, "linux");
	w_call(&w, SFO_CALL_SHUTDOWN, 0);
	CHECK_EQ(w.ot.state, SFO_LAST_ACK);
	CHECK(w.ot.fl & SFO_TF_FIN_SENT);
	rst = mkseg(SFO_RST | SFO_ACK, tnxt(&w), w.pnxt, 0);
	CHECK_EQ(ostep(&w, &ev, &rst, 1, SFO_CLOSED), SFO_DIV_UNEXPECTED);
}

/* A second FIN at RCV.NXT in CLOSE-WAIT (a new sequence number, not a resend): the eighth
 * check's common text advances RCV.NXT over a FIN and acknowledges it before its
 * per-state list says CLOSE-WAIT remains, so silence, an ACK of RCV.NXT and an ACK one
 * further are all within 3.10.7.4; anything beyond is not. */
static void closewait_second_fin_taken_or_ignored_ok(void)
{
	struct world w;
	struct sfo_expect e;
	at(&w, SFO_CLOSE_WAIT, "rfc9293");
	probe(&w, mkseg(SFO_FIN | SFO_ACK, rnxt(&w), tnxt(&w), 0), &e);
	CHECK_EQ(JUDGE0(&w, &e, SFO_CLOSE_WAIT), SFO_DIV_OK);
	CHECK_EQ(JUDGE(&w, &e, SFO_CLOSE_WAIT, tack(&w)), SFO_DIV_OK);
	CHECK_EQ(JUDGE(&w, &e, SFO_CLOSE_WAIT, mkseg(SFO_ACK, tnxt(&w), rnxt(&w) + 1, 0)),
		 SFO_DIV_OK);
	CHECK(JUDGE(&w, &e, SFO_CLOSE_WAIT, mkseg(SFO_ACK, tnxt(&w), rnxt(&w) + 2, 0)) !=
	      SFO_DIV_OK);
	CHECK(JUDGE(&w, &e, SFO_CLOSED, tack(&w)) != SFO_DIV_OK);
}

int main(void)
{
	finwait2_syn_before_rcvnxt_trimmed_silence_ok();
	established_syn_at_rcvnxt_not_trimmed();
	synrcvd_syn_fin_at_irs_synack_again_ok();
	synrcvd_old_segment_bad_ack_rst_ok();
	simopen_synrcvd_synack_of_iss_rst_ok();
	lastack_resent_fin_acks_ours_under_rcv_wup_only();
	established_old_rst_fin_at_rcv_wup_challenge_ok();
	synrcvd_old_fin_at_rcv_wup_simopen_only();
	finwait1_after_close_ooo_fin_rst_ok();
	timewait_fin_without_ack_extra_ack_graded_should();
	established_rst_at_right_edge_challenge_graded_should();
	simopen_syn_text_queued_until_established();
	simopen_syn_text_pending_shown_by_call_or_wait();
	simopen_syn_text_pending_survives_bare_ack();
	close_unread_rst_in_lastack_and_closing();
	lastack_fin_unsent_abort_rst_ok();
	closewait_second_fin_taken_or_ignored_ok();
	return check_done();
}
