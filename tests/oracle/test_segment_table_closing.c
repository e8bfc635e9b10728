/* The segment-arrival table, part 3: CLOSING, LAST-ACK, TIME-WAIT (RFC 9293 3.10.7.4),
 * cell by cell, and the checks only some profiles make: RFC 5961 ACK validation and the
 * MAY-2 reopening of TIME-WAIT. */
#include "model_test.h"

#define CELL(state, profile)                                                                       \
	struct world w;                                                                            \
	struct sfo_expect e;                                                                       \
	at(&w, (state), (profile))

/* ---- CLOSING (both FINs sent, ours not ACKed) ---- */

/* 3.10.7.4 fourth */
static void closing_syn_challenge_or_reset(void)
{
	sync_syn(SFO_CLOSING, SFO_SYN);
}

/* 3.10.7.4 fourth */
static void closing_synack_challenge_or_reset(void)
{
	sync_syn(SFO_CLOSING, SFO_SYN | SFO_ACK);
}

/* 3.10.7.4 fifth: the ACK of our FIN: TIME-WAIT, 2MSL starts */
static void closing_ack_of_fin_goes_to_timewait(void)
{
	CELL(SFO_CLOSING, "rfc9293");
	probe(&w, mkseg(SFO_ACK, rnxt(&w), tnxt(&w), 0), &e);
	CHECK_EQ(next_states(&e), BIT(SFO_TIME_WAIT));
	CHECK_EQ(e.out[0].next.timer_ms, w.ot.now_ms);
	CHECK_EQ(JUDGE0(&w, &e, SFO_TIME_WAIT), SFO_DIV_OK);
	CHECK_EQ(JUDGE0(&w, &e, SFO_CLOSED), SFO_DIV_STATE);
	CHECK_STR(vrule(&w), "closing.ack.fin");
}

/* 3.10.7.4 fifth: otherwise the segment is ignored */
static void closing_ack_old_stays(void)
{
	CELL(SFO_CLOSING, "rfc9293");
	probe(&w, mkseg(SFO_ACK, rnxt(&w), tuna(&w) - 1, 0), &e);
	CHECK_EQ(next_states(&e), BIT(SFO_CLOSING));
	CHECK_EQ(JUDGE0(&w, &e, SFO_CLOSING), SFO_DIV_OK);
}

/* 3.10.7.4 fifth */
static void closing_ack_future_acked(void)
{
	sync_ack_future(SFO_CLOSING, 1);
}

/* 3.10.7.4 second: CLOSING deletes the TCB on a valid RST */
static void closing_rst_exact_closes(void)
{
	sync_rst_exact(SFO_CLOSING, SFO_RST, 0);
}

/* 3.10.7.4 second */
static void closing_rst_inwin_reset_or_challenge(void)
{
	sync_rst_inwin(SFO_CLOSING, 0);
}

/* 3.10.7.4 first */
static void closing_rst_outwin_dropped(void)
{
	sync_rst_outwin(SFO_CLOSING);
}

/* 3.10.7.4 second */
static void closing_rstack_closes(void)
{
	sync_rst_exact(SFO_CLOSING, SFO_RST | SFO_ACK, 0);
}

/* 3.10.7.4 fifth */
static void closing_fin_noack_dropped(void)
{
	sync_no_ack(SFO_CLOSING, SFO_FIN);
}

/* 3.10.7.4 eighth: a further FIN leaves CLOSING as it is */
static void closing_finack_stays(void)
{
	CELL(SFO_CLOSING, "rfc9293");
	probe(&w, mkseg(SFO_FIN | SFO_ACK, rnxt(&w), tuna(&w), 0), &e);
	CHECK_EQ(next_states(&e), BIT(SFO_CLOSING));
	CHECK_EQ(JUDGE0(&w, &e, SFO_CLOSING), SFO_DIV_OK);
	CHECK_EQ(JUDGE(&w, &e, SFO_CLOSING, tack(&w)), SFO_DIV_OK);
}

/* 3.10.7.4 seventh: text after the peer's FIN is ignored */
static void closing_data_in_ignored(void)
{
	CELL(SFO_CLOSING, "rfc9293");
	probe(&w, mkseg(SFO_ACK, rnxt(&w), tuna(&w), 100), &e);
	CHECK_EQ(next_states(&e), BIT(SFO_CLOSING));
	CHECK_EQ(e.out[0].next.rcv_nxt, rnxt(&w));
	CHECK_EQ(JUDGE0(&w, &e, SFO_CLOSING), SFO_DIV_OK);
}

/* 3.10.7.4 first */
static void closing_data_out_acked(void)
{
	sync_data_out(SFO_CLOSING);
}

/* 3.10.7.4 fifth */
static void closing_noflags_dropped(void)
{
	sync_no_ack(SFO_CLOSING, 0);
}

/* ---- LAST-ACK (the peer's FIN taken, ours sent) ---- */

/* 3.10.7.4 fourth */
static void lastack_syn_challenge_or_reset(void)
{
	sync_syn(SFO_LAST_ACK, SFO_SYN);
}

/* 3.10.7.4 fourth */
static void lastack_synack_challenge_or_reset(void)
{
	sync_syn(SFO_LAST_ACK, SFO_SYN | SFO_ACK);
}

/* 3.10.7.4 fifth: the ACK of our FIN deletes the TCB */
static void lastack_ack_of_fin_closes(void)
{
	CELL(SFO_LAST_ACK, "rfc9293");
	probe(&w, mkseg(SFO_ACK, rnxt(&w), tnxt(&w), 0), &e);
	CHECK_EQ(next_states(&e), BIT(SFO_CLOSED));
	CHECK_EQ(JUDGE0(&w, &e, SFO_CLOSED), SFO_DIV_OK);
	CHECK_EQ(JUDGE0(&w, &e, SFO_LAST_ACK), SFO_DIV_STATE);
	CHECK_STR(vrule(&w), "lastack.ack.fin");
	CHECK_EQ(JUDGE(&w, &e, SFO_CLOSED, tack(&w)), SFO_DIV_UNEXPECTED);
}

/* 3.10.7.4 fifth */
static void lastack_ack_old_stays(void)
{
	CELL(SFO_LAST_ACK, "rfc9293");
	probe(&w, mkseg(SFO_ACK, rnxt(&w), tuna(&w) - 1, 0), &e);
	CHECK_EQ(next_states(&e), BIT(SFO_LAST_ACK));
	CHECK_EQ(JUDGE0(&w, &e, SFO_LAST_ACK), SFO_DIV_OK);
}

/* 3.10.7.4 fifth */
static void lastack_ack_future_acked(void)
{
	sync_ack_future(SFO_LAST_ACK, 1);
}

/* 3.10.7.4 second */
static void lastack_rst_exact_closes(void)
{
	sync_rst_exact(SFO_LAST_ACK, SFO_RST, 0);
}

/* 3.10.7.4 second */
static void lastack_rst_inwin_reset_or_challenge(void)
{
	sync_rst_inwin(SFO_LAST_ACK, 0);
}

/* 3.10.7.4 first */
static void lastack_rst_outwin_dropped(void)
{
	sync_rst_outwin(SFO_LAST_ACK);
}

/* 3.10.7.4 second: RST,ACK at RCV.NXT whose ACK would also close: the RST decides */
static void lastack_rstack_closes(void)
{
	sync_rst_exact(SFO_LAST_ACK, SFO_RST | SFO_ACK, 0);
}

/* 3.10.7.4 fifth */
static void lastack_fin_noack_dropped(void)
{
	sync_no_ack(SFO_LAST_ACK, SFO_FIN);
}

/* 3.10.7.4 eighth: a further FIN leaves LAST-ACK as it is */
static void lastack_finack_stays(void)
{
	CELL(SFO_LAST_ACK, "rfc9293");
	probe(&w, mkseg(SFO_FIN | SFO_ACK, rnxt(&w), tuna(&w), 0), &e);
	CHECK_EQ(next_states(&e), BIT(SFO_LAST_ACK));
	CHECK_EQ(JUDGE0(&w, &e, SFO_LAST_ACK), SFO_DIV_OK);
}

/* 3.10.7.4 seventh */
static void lastack_data_in_ignored(void)
{
	CELL(SFO_LAST_ACK, "rfc9293");
	probe(&w, mkseg(SFO_ACK, rnxt(&w), tuna(&w), 100), &e);
	CHECK_EQ(next_states(&e), BIT(SFO_LAST_ACK));
	CHECK_EQ(JUDGE0(&w, &e, SFO_LAST_ACK), SFO_DIV_OK);
}

/* 3.10.7.4 first */
static void lastack_data_out_acked(void)
{
	sync_data_out(SFO_LAST_ACK);
}

/* 3.10.7.4 fifth */
static void lastack_noflags_dropped(void)
{
	sync_no_ack(SFO_LAST_ACK, 0);
}

/* ---- TIME-WAIT ---- */

/* 3.10.7.4 fourth: SYN in TIME-WAIT (no reopen in these profiles) */
static void timewait_syn_challenge_or_reset(void)
{
	sync_syn(SFO_TIME_WAIT, SFO_SYN);
}

/* 3.10.7.4 fourth */
static void timewait_synack_challenge_or_reset(void)
{
	sync_syn(SFO_TIME_WAIT, SFO_SYN | SFO_ACK);
}

/* 3.10.7.4 fifth: anything but the FIN may be ACKed; the state holds */
static void timewait_ack_may_be_acked(void)
{
	CELL(SFO_TIME_WAIT, "rfc9293");
	probe(&w, mkseg(SFO_ACK, rnxt(&w), tnxt(&w), 0), &e);
	CHECK_EQ(next_states(&e), BIT(SFO_TIME_WAIT));
	CHECK_EQ(JUDGE0(&w, &e, SFO_TIME_WAIT), SFO_DIV_OK);
	CHECK_EQ(JUDGE(&w, &e, SFO_TIME_WAIT, tack(&w)), SFO_DIV_OK);
	CHECK_EQ(JUDGE0(&w, &e, SFO_CLOSED), SFO_DIV_STATE);
	/* the timer may restart (stacks do), but need not: the must-hold base stays */
	CHECK_EQ(e.out[0].next.timer_ms, w.ot.timer_ms);
	CHECK_EQ(e.out[0].next.timer2_ms, w.ot.now_ms);
}

/* 3.10.7.4 fifth */
static void timewait_ack_old_may_be_acked(void)
{
	CELL(SFO_TIME_WAIT, "rfc9293");
	probe(&w, mkseg(SFO_ACK, rnxt(&w), tuna(&w) - 1, 0), &e);
	CHECK_EQ(next_states(&e), BIT(SFO_TIME_WAIT));
	CHECK_EQ(JUDGE0(&w, &e, SFO_TIME_WAIT), SFO_DIV_OK);
}

/* 3.10.7.4 fifth: TIME-WAIT stacks commonly stay silent on a future ACK */
static void timewait_ack_future_may_be_acked(void)
{
	sync_ack_future(SFO_TIME_WAIT, 0);
}

/* 3.10.7.4 second: RST deletes the TCB; RFC 9293 does not adopt RFC 1337, so staying in
 * TIME-WAIT is a divergence of timewait.rst (its own rule: an accept cannot hide others) */
static void timewait_rst_exact_closes(void)
{
	struct world w;
	struct sfo_expect e;
	sync_rst_exact(SFO_TIME_WAIT, SFO_RST, 0);
	at(&w, SFO_TIME_WAIT, "rfc9293");
	probe(&w, mkseg(SFO_RST, rnxt(&w), 0, 0), &e);
	CHECK_EQ(JUDGE0(&w, &e, SFO_TIME_WAIT), SFO_DIV_STATE);
	CHECK_STR(vrule(&w), "timewait.rst");
	CHECK_EQ(w.v.sev, SFO_SEV_MUST);
	CHECK(!fired(&e, "timewait.rst.rfc1337"));
}

/* RFC 1337 as a profile choice (SFO_PF_RFC1337, set by lwip): the RST may be ignored */
static void timewait_rst_ignored_when_profile_says_rfc1337(void)
{
	struct world w;
	struct sfo_expect e;
	at(&w, SFO_TIME_WAIT, "lwip");
	CHECK(w.ocfg.profile->flags & SFO_PF_RFC1337);
	probe(&w, mkseg(SFO_RST, rnxt(&w), 0, 0), &e);
	CHECK_EQ(next_states(&e), BIT(SFO_CLOSED) | BIT(SFO_TIME_WAIT));
	CHECK_EQ(JUDGE0(&w, &e, SFO_TIME_WAIT), SFO_DIV_OK);
	CHECK_STR(vrule(&w), "timewait.rst.rfc1337");
	CHECK_EQ(JUDGE0(&w, &e, SFO_CLOSED), SFO_DIV_OK);
	/* in the window but not at RCV.NXT: reset, challenge or ignore */
	probe(&w, mkseg(SFO_RST, rnxt(&w) + 100, 0, 0), &e);
	CHECK_EQ(JUDGE0(&w, &e, SFO_TIME_WAIT), SFO_DIV_OK);
	/* other states are not covered by the flag */
	at(&w, SFO_LAST_ACK, "lwip");
	probe(&w, mkseg(SFO_RST, rnxt(&w), 0, 0), &e);
	CHECK_EQ(JUDGE0(&w, &e, SFO_LAST_ACK), SFO_DIV_STATE);
	CHECK_STR(vrule(&w), "rst.close");
}

/* 3.10.7.4 second */
static void timewait_rst_inwin_reset_or_challenge(void)
{
	sync_rst_inwin(SFO_TIME_WAIT, 0);
}

/* 3.10.7.4 first */
static void timewait_rst_outwin_dropped(void)
{
	sync_rst_outwin(SFO_TIME_WAIT);
}

/* 3.10.7.4 second */
static void timewait_rstack_closes(void)
{
	sync_rst_exact(SFO_TIME_WAIT, SFO_RST | SFO_ACK, 0);
}

/* 3.10.7.4 fifth */
static void timewait_fin_noack_dropped(void)
{
	sync_no_ack(SFO_TIME_WAIT, SFO_FIN);
}

/* 3.10.7.4 fifth/eighth: the peer resends its FIN: ACK it at once, restart 2MSL */
static void timewait_fin_reacked_restarts_2msl(void)
{
	struct world w;
	struct sfo_expect e;
	at(&w, SFO_TIME_WAIT, "rfc9293");
	w_wait(&w, 1000);
	CHECK_EQ(w.ot.state, SFO_TIME_WAIT);
	probe(&w, mkseg(SFO_FIN | SFO_ACK, rnxt(&w) - 1, tnxt(&w), 0), &e);
	CHECK_EQ(e.evclass, SFO_EC_FINACK);
	CHECK_EQ(next_states(&e), BIT(SFO_TIME_WAIT));
	CHECK_EQ(e.out[0].next.timer_ms, w.ot.now_ms);
	CHECK_EQ(JUDGE(&w, &e, SFO_TIME_WAIT, tack(&w)), SFO_DIV_OK);
	CHECK_EQ(JUDGE0(&w, &e, SFO_TIME_WAIT), SFO_DIV_MISSING);
	CHECK_STR(vrule(&w), "timewait.fin.reack");
	CHECK_EQ(JUDGE(&w, &e, SFO_TIME_WAIT, mkseg(SFO_ACK, tnxt(&w), rnxt(&w) - 1, 0)),
		 SFO_DIV_FIELD);
}

/* 3.10.7.4 eighth: a FIN at RCV.NXT in TIME-WAIT: the state holds, and "send an
 * acknowledgment for the FIN": silence is a missing response */
static void timewait_finack_new_stays(void)
{
	CELL(SFO_TIME_WAIT, "rfc9293");
	probe(&w, mkseg(SFO_FIN | SFO_ACK, rnxt(&w), tnxt(&w), 0), &e);
	CHECK_EQ(next_states(&e), BIT(SFO_TIME_WAIT));
	CHECK_EQ(e.out[0].next.timer_ms, w.ot.now_ms);
	CHECK_EQ(JUDGE0(&w, &e, SFO_TIME_WAIT), SFO_DIV_MISSING);
	CHECK_STR(vrule(&w), "timewait.fin.ack");
	CHECK_EQ(w.v.sev, SFO_SEV_MUST);
	CHECK_EQ(JUDGE(&w, &e, SFO_TIME_WAIT, tack(&w)), SFO_DIV_OK);
	/* a stack that advanced RCV.NXT over the FIN acknowledges it one further */
	CHECK_EQ(JUDGE(&w, &e, SFO_TIME_WAIT, mkseg(SFO_ACK, tnxt(&w), rnxt(&w) + 1, 0)),
		 SFO_DIV_OK);
	CHECK_EQ(JUDGE(&w, &e, SFO_TIME_WAIT, mkseg(SFO_ACK, tnxt(&w), rnxt(&w) + 2, 0)),
		 SFO_DIV_FIELD);
}

/* 3.10.7.4 seventh */
static void timewait_data_in_ignored(void)
{
	CELL(SFO_TIME_WAIT, "rfc9293");
	probe(&w, mkseg(SFO_ACK, rnxt(&w), tnxt(&w), 100), &e);
	CHECK_EQ(next_states(&e), BIT(SFO_TIME_WAIT));
	CHECK_EQ(JUDGE0(&w, &e, SFO_TIME_WAIT), SFO_DIV_OK);
	CHECK_EQ(JUDGE(&w, &e, SFO_TIME_WAIT, tack(&w)), SFO_DIV_OK);
}

/* 3.10.7.4 first: late data below RCV.NXT: ACK */
static void timewait_data_out_acked(void)
{
	sync_data_out(SFO_TIME_WAIT);
}

/* 3.10.7.4 fifth */
static void timewait_noflags_dropped(void)
{
	sync_no_ack(SFO_TIME_WAIT, 0);
}

/* ---- profile-dependent checks ---- */

/* 3.6.1 MAY-2: with a profile that allows it, a SYN above RCV.NXT may reopen TIME-WAIT
 * with an ISS above the old sequence space; the plain checks stay allowed too */
static void timewait_syn_reopens_when_profile_allows(void)
{
	static const struct sfo_accept none[] = {{NULL, -1, NULL}};
	struct sfo_profile reopen = *sfo_profile_find("rfc9293");
	reopen.name = "reopen";
	reopen.flags |= SFO_PF_TW_SYN_REOPEN;
	reopen.accept = none;
	struct world w;
	struct sfo_expect e;
	at(&w, SFO_TIME_WAIT, "rfc9293");
	w.ocfg.profile = &reopen;
	uint32_t old = tnxt(&w);
	probe(&w, mkseg(SFO_SYN, rnxt(&w) + 100000, 0, 0), &e);
	CHECK_EQ(e.out[0].next.state, SFO_SYN_RECEIVED);
	CHECK(next_states(&e) & BIT(SFO_TIME_WAIT));
	CHECK_EQ(JUDGE(&w, &e, SFO_SYN_RECEIVED,
		       mkseg(SFO_SYN | SFO_ACK, old + 70000, rnxt(&w) + 100001, 0)),
		 SFO_DIV_OK);
	CHECK_STR(sfo_rule(e.out[w.which].state_rule)->req, "MAY-2");
	/* an ISS below the old space breaks condition (1) */
	CHECK_EQ(JUDGE(&w, &e, SFO_SYN_RECEIVED,
		       mkseg(SFO_SYN | SFO_ACK, old - 5, rnxt(&w) + 100001, 0)),
		 SFO_DIV_FIELD);
	CHECK_EQ(judge(&w, &e, SFO_TIME_WAIT, (struct sfo_seg[]){tack(&w)}, 1), SFO_DIV_OK);
	/* without the flag there is no reopening */
	w.ocfg.profile = sfo_profile_find("rfc9293");
	probe(&w, mkseg(SFO_SYN, rnxt(&w) + 100000, 0, 0), &e);
	CHECK(!(next_states(&e) & BIT(SFO_SYN_RECEIVED)));
}

/* 3.10.7.4 fifth, RFC 5961 section 5 (MAY-12): an ACK below SND.UNA-MAX.SND.WND is
 * dropped and ACKed under rfc5961; the default profile also lets it through */
static void established_ack_too_old_5961(void)
{
	struct world w;
	struct sfo_expect e;
	at(&w, SFO_ESTABLISHED, "rfc9293");
	uint32_t far = tuna(&w) - w.ot.max_snd_wnd - 10;
	probe(&w, mkseg(SFO_ACK, rnxt(&w), far, 100), &e);
	CHECK(fired(&e, "ack.5961.old"));
	CHECK(fired(&e, "data.accept"));
	CHECK_EQ(JUDGE(&w, &e, SFO_ESTABLISHED, mkseg(SFO_ACK, tnxt(&w), rnxt(&w) + 100, 0)),
		 SFO_DIV_OK);
	CHECK_EQ(judge(&w, &e, SFO_ESTABLISHED, (struct sfo_seg[]){tack(&w)}, 1), SFO_DIV_OK);
	at(&w, SFO_ESTABLISHED, "rfc5961");
	probe(&w, mkseg(SFO_ACK, rnxt(&w), far, 100), &e);
	CHECK_EQ(e.nout, 1);
	CHECK_EQ(e.out[0].next.rcv_nxt, rnxt(&w));
	CHECK_EQ(judge(&w, &e, SFO_ESTABLISHED, (struct sfo_seg[]){tack(&w)}, 1), SFO_DIV_OK);
	CHECK_EQ(JUDGE0(&w, &e, SFO_ESTABLISHED), SFO_DIV_MISSING);
	CHECK_STR(vrule(&w), "ack.5961.old");
}

/* 3.10.7.4 first: with a zero receive window, text at RCV.NXT is refused with an ACK;
 * its ACK field may still be processed */
static void established_zero_window_ack_still_counts(void)
{
	struct world w;
	struct sfo_expect e;
	at(&w, SFO_FIN_WAIT_1, "rfc9293");
	w.ot.rcv_wnd = 0; /* the application left the buffer full */
	w.ot.rcv_queued = w.ot.rcv_buf;
	probe(&w, mkseg(SFO_ACK, rnxt(&w), tnxt(&w), 10), &e);
	CHECK_EQ(next_states(&e), BIT(SFO_FIN_WAIT_1) | BIT(SFO_FIN_WAIT_2));
	CHECK_EQ(judge(&w, &e, SFO_FIN_WAIT_1, (struct sfo_seg[]){tack(&w)}, 1), SFO_DIV_OK);
	CHECK_EQ(judge(&w, &e, SFO_FIN_WAIT_2, (struct sfo_seg[]){tack(&w)}, 1), SFO_DIV_OK);
	CHECK_EQ(JUDGE0(&w, &e, SFO_FIN_WAIT_2), SFO_DIV_MISSING);
}

/* 3.8.6.2.2: the application read, the window update is held back: text beyond the
 * announced edge is refused with an ACK, or taken since the buffer has room */
static void established_beyond_announced_edge_refused_or_taken(void)
{
	struct world w;
	struct sfo_expect e;
	at(&w, SFO_ESTABLISHED, "rfc9293");
	w_in(&w, SFO_ACK, w.pnxt, tnxt(&w), 100);
	w_call(&w, SFO_CALL_RECEIVE, 0); /* 100 octets free: no update yet */
	CHECK_EQ(w.nout, 0);
	uint32_t edge = rnxt(&w) + w.ot.rcv_wnd;
	probe(&w, mkseg(SFO_ACK, edge, tnxt(&w), 50), &e);
	CHECK_EQ(e.evclass, SFO_EC_DATA_OUT);
	CHECK_EQ(judge(&w, &e, SFO_ESTABLISHED, (struct sfo_seg[]){tack(&w)}, 1), SFO_DIV_OK);
	CHECK_EQ(w.which, 0);
	/* taken: held out of order, it may be ACKed with a duplicate ACK as well */
	CHECK(fired(&e, "data.beyond.window"));
	probe(&w, mkseg(SFO_ACK, edge + 200, tnxt(&w), 50), &e);
	CHECK(!fired(&e, "data.beyond.window"));
	CHECK_EQ(w.diverged, 0);
}

/* 3.10.7.4 first, SHLD-31: data beyond RCV.NXT is held; when the gap fills RCV.NXT jumps
 * over it (or, if it was dropped, stops at the fill) */
static void established_out_of_order_held_then_filled(void)
{
	struct world w;
	struct sfo_expect e;
	at(&w, SFO_ESTABLISHED, "rfc9293");
	uint32_t r = rnxt(&w);
	w_in(&w, SFO_ACK, r + 100, tnxt(&w), 50);
	CHECK_EQ(w.diverged, 0);
	CHECK(w.ot.fl & SFO_TF_OOO);
	CHECK_EQ(w.ot.rcv_nxt, r);
	probe(&w, mkseg(SFO_ACK, r, tnxt(&w), 100), &e);
	CHECK_EQ(e.out[0].next.rcv_nxt, r + 150);
	CHECK_EQ(e.out[1].next.rcv_nxt, r + 100);
	CHECK_EQ(JUDGE(&w, &e, SFO_ESTABLISHED, mkseg(SFO_ACK, tnxt(&w), r + 150, 0)), SFO_DIV_OK);
	CHECK_EQ(w.which, 0);
	CHECK_EQ(JUDGE(&w, &e, SFO_ESTABLISHED, mkseg(SFO_ACK, tnxt(&w), r + 151, 0)),
		 SFO_DIV_FIELD);
	/* a FIN held out of order takes effect when the gap fills */
	w_in(&w, SFO_FIN | SFO_ACK, r + 150, tnxt(&w), 0);
	probe(&w, mkseg(SFO_ACK, r, tnxt(&w), 100), &e);
	CHECK_EQ(e.out[0].next.state, SFO_CLOSE_WAIT);
	CHECK_EQ(e.out[0].next.rcv_nxt, r + 151);
}

int main(void)
{
	closing_syn_challenge_or_reset();
	closing_synack_challenge_or_reset();
	closing_ack_of_fin_goes_to_timewait();
	closing_ack_old_stays();
	closing_ack_future_acked();
	closing_rst_exact_closes();
	closing_rst_inwin_reset_or_challenge();
	closing_rst_outwin_dropped();
	closing_rstack_closes();
	closing_fin_noack_dropped();
	closing_finack_stays();
	closing_data_in_ignored();
	closing_data_out_acked();
	closing_noflags_dropped();

	lastack_syn_challenge_or_reset();
	lastack_synack_challenge_or_reset();
	lastack_ack_of_fin_closes();
	lastack_ack_old_stays();
	lastack_ack_future_acked();
	lastack_rst_exact_closes();
	lastack_rst_inwin_reset_or_challenge();
	lastack_rst_outwin_dropped();
	lastack_rstack_closes();
	lastack_fin_noack_dropped();
	lastack_finack_stays();
	lastack_data_in_ignored();
	lastack_data_out_acked();
	lastack_noflags_dropped();

	timewait_syn_challenge_or_reset();
	timewait_synack_challenge_or_reset();
	timewait_ack_may_be_acked();
	timewait_ack_old_may_be_acked();
	timewait_ack_future_may_be_acked();
	timewait_rst_exact_closes();
	timewait_rst_ignored_when_profile_says_rfc1337();
	timewait_rst_inwin_reset_or_challenge();
	timewait_rst_outwin_dropped();
	timewait_rstack_closes();
	timewait_fin_noack_dropped();
	timewait_fin_reacked_restarts_2msl();
	timewait_finack_new_stays();
	timewait_data_in_ignored();
	timewait_data_out_acked();
	timewait_noflags_dropped();

	timewait_syn_reopens_when_profile_allows();
	established_ack_too_old_5961();
	established_zero_window_ack_still_counts();
	established_beyond_announced_edge_refused_or_taken();
	established_out_of_order_held_then_filled();
	return check_done();
}
