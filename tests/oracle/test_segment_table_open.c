/* The segment-arrival table, part 2: ESTABLISHED, FIN-WAIT-1, FIN-WAIT-2, CLOSE-WAIT
 * (RFC 9293 3.10.7.4), cell by cell, under both profiles where they differ. FIN-WAIT
 * states are reached by close(), so SHLD-3 (RST on data after close) applies there. */
#include "model_test.h"

#define CELL(state, profile)                                                                       \
	struct world w;                                                                            \
	struct sfo_expect e;                                                                       \
	at(&w, (state), (profile))

/* ---- ESTABLISHED ---- */

/* 3.10.7.4 fourth: SYN: challenge ACK, or RST and CLOSED (not under rfc5961) */
static void established_syn_challenge_or_reset(void)
{
	sync_syn(SFO_ESTABLISHED, SFO_SYN);
}

/* 3.10.7.4 fourth: a SYN,ACK is a SYN as far as the fourth check goes */
static void established_synack_challenge_or_reset(void)
{
	sync_syn(SFO_ESTABLISHED, SFO_SYN | SFO_ACK);
}

/* 3.10.7.4 fifth: an acceptable ACK with nothing new: no reply */
static void established_ack_quiet(void)
{
	CELL(SFO_ESTABLISHED, "rfc9293");
	probe(&w, mkseg(SFO_ACK, rnxt(&w), tnxt(&w), 0), &e);
	CHECK_EQ(e.evclass, SFO_EC_ACK_OK);
	CHECK_EQ(next_states(&e), BIT(SFO_ESTABLISHED));
	CHECK_EQ(JUDGE0(&w, &e, SFO_ESTABLISHED), SFO_DIV_OK);
	CHECK_EQ(JUDGE(&w, &e, SFO_ESTABLISHED, tack(&w)), SFO_DIV_UNEXPECTED);
}

/* 3.10.7.4 fifth: a duplicate ACK is ignored */
static void established_ack_old_ignored(void)
{
	CELL(SFO_ESTABLISHED, "rfc9293");
	probe(&w, mkseg(SFO_ACK, rnxt(&w), tuna(&w) - 1, 0), &e);
	CHECK_EQ(e.evclass, SFO_EC_ACK_OLD);
	CHECK_EQ(next_states(&e), BIT(SFO_ESTABLISHED));
	CHECK_EQ(JUDGE0(&w, &e, SFO_ESTABLISHED), SFO_DIV_OK);
	CHECK(fired(&e, "ack.dup"));
}

/* 3.10.7.4 fifth: an ACK of unsent data: ACK back, drop */
static void established_ack_future_acked(void)
{
	sync_ack_future(SFO_ESTABLISHED, 1);
}

/* 3.10.7.4 second: RST at RCV.NXT: CLOSED */
static void established_rst_exact_closes(void)
{
	sync_rst_exact(SFO_ESTABLISHED, SFO_RST, 0);
}

/* 3.10.7.4 second: RST in the window: reset or challenge; rfc5961: challenge only */
static void established_rst_inwin_reset_or_challenge(void)
{
	sync_rst_inwin(SFO_ESTABLISHED, 0);
}

/* 3.10.7.4 first: RST outside the window: silently dropped */
static void established_rst_outwin_dropped(void)
{
	sync_rst_outwin(SFO_ESTABLISHED);
}

/* 3.10.7.4 second: RST,ACK at RCV.NXT: CLOSED */
static void established_rstack_closes(void)
{
	sync_rst_exact(SFO_ESTABLISHED, SFO_RST | SFO_ACK, 0);
}

/* 3.10.7.4 fifth: FIN without ACK is dropped */
static void established_fin_noack_dropped(void)
{
	sync_no_ack(SFO_ESTABLISHED, SFO_FIN);
}

/* 3.10.7.4 eighth: FIN: CLOSE-WAIT, ACK of the FIN owed (may be delayed) */
static void established_finack_goes_to_closewait(void)
{
	CELL(SFO_ESTABLISHED, "rfc9293");
	probe(&w, mkseg(SFO_FIN | SFO_ACK, rnxt(&w), tuna(&w), 0), &e);
	CHECK_EQ(e.evclass, SFO_EC_FINACK);
	CHECK_EQ(next_states(&e), BIT(SFO_CLOSE_WAIT));
	CHECK_EQ(JUDGE(&w, &e, SFO_CLOSE_WAIT, mkseg(SFO_ACK, tnxt(&w), rnxt(&w) + 1, 0)),
		 SFO_DIV_OK);
	CHECK_EQ(JUDGE0(&w, &e, SFO_CLOSE_WAIT), SFO_DIV_OK);
	CHECK(e.out[0].next.fl & SFO_TF_ACK_OWED);
	CHECK_EQ(JUDGE(&w, &e, SFO_CLOSE_WAIT, mkseg(SFO_ACK, tnxt(&w), rnxt(&w), 0)),
		 SFO_DIV_FIELD);
	CHECK_STR(w.v.detail, "ack: expected 2, observed 1");
	CHECK_EQ(JUDGE0(&w, &e, SFO_ESTABLISHED), SFO_DIV_STATE);
	CHECK_STR(vrule(&w), "fin.established");
}

/* 3.10.7.4 seventh: in-order text is taken, its ACK owed */
static void established_data_in_taken(void)
{
	CELL(SFO_ESTABLISHED, "rfc9293");
	probe(&w, mkseg(SFO_ACK, rnxt(&w), tuna(&w), 100), &e);
	CHECK_EQ(e.evclass, SFO_EC_DATA_IN);
	CHECK_EQ(next_states(&e), BIT(SFO_ESTABLISHED));
	CHECK_EQ(e.out[0].next.rcv_nxt, rnxt(&w) + 100);
	CHECK_EQ(JUDGE(&w, &e, SFO_ESTABLISHED, mkseg(SFO_ACK, tnxt(&w), rnxt(&w) + 100, 0)),
		 SFO_DIV_OK);
	CHECK_EQ(JUDGE0(&w, &e, SFO_ESTABLISHED), SFO_DIV_OK);
	CHECK_EQ(JUDGE(&w, &e, SFO_ESTABLISHED, mkseg(SFO_ACK, tnxt(&w), rnxt(&w) + 101, 0)),
		 SFO_DIV_FIELD);
	CHECK_EQ(JUDGE(&w, &e, SFO_CLOSED, mkseg(SFO_RST, tnxt(&w), 0, 0)), SFO_DIV_STATE);
}

/* 3.10.7.4 first */
static void established_data_out_acked(void)
{
	sync_data_out(SFO_ESTABLISHED);
}

/* 3.10.7.4 fifth */
static void established_noflags_dropped(void)
{
	sync_no_ack(SFO_ESTABLISHED, 0);
}

/* ---- FIN-WAIT-1 (our FIN sent, not yet ACKed) ---- */

/* 3.10.7.4 fourth */
static void finwait1_syn_challenge_or_reset(void)
{
	sync_syn(SFO_FIN_WAIT_1, SFO_SYN);
}

/* 3.10.7.4 fourth */
static void finwait1_synack_challenge_or_reset(void)
{
	sync_syn(SFO_FIN_WAIT_1, SFO_SYN | SFO_ACK);
}

/* 3.10.7.4 fifth: the ACK of our FIN: FIN-WAIT-2 */
static void finwait1_ack_of_fin_goes_to_finwait2(void)
{
	CELL(SFO_FIN_WAIT_1, "rfc9293");
	probe(&w, mkseg(SFO_ACK, rnxt(&w), tnxt(&w), 0), &e);
	CHECK_EQ(next_states(&e), BIT(SFO_FIN_WAIT_2));
	CHECK_EQ(JUDGE0(&w, &e, SFO_FIN_WAIT_2), SFO_DIV_OK);
	CHECK_EQ(JUDGE0(&w, &e, SFO_FIN_WAIT_1), SFO_DIV_STATE);
	CHECK_STR(vrule(&w), "finwait1.ack.fin");
}

/* 3.10.7.4 fifth: a duplicate ACK changes nothing */
static void finwait1_ack_old_stays(void)
{
	CELL(SFO_FIN_WAIT_1, "rfc9293");
	probe(&w, mkseg(SFO_ACK, rnxt(&w), tuna(&w) - 1, 0), &e);
	CHECK_EQ(next_states(&e), BIT(SFO_FIN_WAIT_1));
	CHECK_EQ(JUDGE0(&w, &e, SFO_FIN_WAIT_1), SFO_DIV_OK);
	CHECK_EQ(JUDGE0(&w, &e, SFO_FIN_WAIT_2), SFO_DIV_STATE);
}

/* 3.10.7.4 fifth */
static void finwait1_ack_future_acked(void)
{
	sync_ack_future(SFO_FIN_WAIT_1, 1);
}

/* 3.10.7.4 second */
static void finwait1_rst_exact_closes(void)
{
	sync_rst_exact(SFO_FIN_WAIT_1, SFO_RST, 0);
}

/* 3.10.7.4 second */
static void finwait1_rst_inwin_reset_or_challenge(void)
{
	sync_rst_inwin(SFO_FIN_WAIT_1, 0);
}

/* 3.10.7.4 first */
static void finwait1_rst_outwin_dropped(void)
{
	sync_rst_outwin(SFO_FIN_WAIT_1);
}

/* 3.10.7.4 second */
static void finwait1_rstack_closes(void)
{
	sync_rst_exact(SFO_FIN_WAIT_1, SFO_RST | SFO_ACK, 0);
}

/* 3.10.7.4 fifth */
static void finwait1_fin_noack_dropped(void)
{
	sync_no_ack(SFO_FIN_WAIT_1, SFO_FIN);
}

/* 3.10.7.4 eighth: a FIN while ours is unacknowledged: CLOSING (simultaneous close) */
static void finwait1_finack_goes_to_closing(void)
{
	CELL(SFO_FIN_WAIT_1, "rfc9293");
	probe(&w, mkseg(SFO_FIN | SFO_ACK, rnxt(&w), tuna(&w), 0), &e);
	CHECK_EQ(next_states(&e), BIT(SFO_CLOSING));
	CHECK_EQ(JUDGE(&w, &e, SFO_CLOSING, mkseg(SFO_ACK, tnxt(&w), rnxt(&w) + 1, 0)), SFO_DIV_OK);
	CHECK_EQ(JUDGE0(&w, &e, SFO_TIME_WAIT), SFO_DIV_STATE);
	CHECK_STR(vrule(&w), "fin.finwait1");
}

/* 3.10.7.4 fifth and eighth: FIN,ACK that also ACKs our FIN: TIME-WAIT (three-way close) */
static void finwait1_finack_acking_fin_goes_to_timewait(void)
{
	CELL(SFO_FIN_WAIT_1, "rfc9293");
	probe(&w, mkseg(SFO_FIN | SFO_ACK, rnxt(&w), tnxt(&w), 0), &e);
	CHECK_EQ(next_states(&e), BIT(SFO_TIME_WAIT));
	CHECK_EQ(e.out[0].next.timer_ms, w.ot.now_ms);
	CHECK_EQ(JUDGE0(&w, &e, SFO_CLOSED), SFO_DIV_STATE);
	CHECK_STR(vrule(&w), "fin.finwait1.acked");
}

/* 3.10.7.4 seventh, 3.6.1 SHLD-3: after close() new text is taken, or answered by RST */
static void finwait1_data_in_taken_or_reset(void)
{
	CELL(SFO_FIN_WAIT_1, "rfc9293");
	probe(&w, mkseg(SFO_ACK, rnxt(&w), tuna(&w), 100), &e);
	CHECK_EQ(next_states(&e), BIT(SFO_FIN_WAIT_1) | BIT(SFO_CLOSED));
	CHECK_EQ(JUDGE(&w, &e, SFO_FIN_WAIT_1, mkseg(SFO_ACK, tnxt(&w), rnxt(&w) + 100, 0)),
		 SFO_DIV_OK);
	CHECK_EQ(JUDGE(&w, &e, SFO_CLOSED, mkseg(SFO_RST | SFO_ACK, tnxt(&w), rnxt(&w), 0)),
		 SFO_DIV_OK);
	CHECK_STR(sfo_rule(e.out[w.which].state_rule)->id, "data.after.close.rst");
	CHECK_EQ(JUDGE0(&w, &e, SFO_CLOSED), SFO_DIV_MISSING);
}

/* 3.10.7.4 first */
static void finwait1_data_out_acked(void)
{
	sync_data_out(SFO_FIN_WAIT_1);
}

/* 3.10.7.4 fifth */
static void finwait1_noflags_dropped(void)
{
	sync_no_ack(SFO_FIN_WAIT_1, 0);
}

/* ---- FIN-WAIT-2 (our FIN ACKed) ---- */

/* 3.10.7.4 fourth */
static void finwait2_syn_challenge_or_reset(void)
{
	sync_syn(SFO_FIN_WAIT_2, SFO_SYN);
}

/* 3.10.7.4 fourth */
static void finwait2_synack_challenge_or_reset(void)
{
	sync_syn(SFO_FIN_WAIT_2, SFO_SYN | SFO_ACK);
}

/* 3.10.7.4 fifth */
static void finwait2_ack_quiet(void)
{
	CELL(SFO_FIN_WAIT_2, "rfc9293");
	probe(&w, mkseg(SFO_ACK, rnxt(&w), tnxt(&w), 0), &e);
	CHECK_EQ(next_states(&e), BIT(SFO_FIN_WAIT_2));
	CHECK_EQ(JUDGE0(&w, &e, SFO_FIN_WAIT_2), SFO_DIV_OK);
}

/* 3.10.7.4 fifth */
static void finwait2_ack_old_ignored(void)
{
	CELL(SFO_FIN_WAIT_2, "rfc9293");
	probe(&w, mkseg(SFO_ACK, rnxt(&w), tuna(&w) - 1, 0), &e);
	CHECK_EQ(next_states(&e), BIT(SFO_FIN_WAIT_2));
	CHECK_EQ(JUDGE0(&w, &e, SFO_FIN_WAIT_2), SFO_DIV_OK);
}

/* 3.10.7.4 fifth */
static void finwait2_ack_future_acked(void)
{
	sync_ack_future(SFO_FIN_WAIT_2, 1);
}

/* 3.10.7.4 second */
static void finwait2_rst_exact_closes(void)
{
	sync_rst_exact(SFO_FIN_WAIT_2, SFO_RST, 0);
}

/* 3.10.7.4 second */
static void finwait2_rst_inwin_reset_or_challenge(void)
{
	sync_rst_inwin(SFO_FIN_WAIT_2, 0);
}

/* 3.10.7.4 first */
static void finwait2_rst_outwin_dropped(void)
{
	sync_rst_outwin(SFO_FIN_WAIT_2);
}

/* 3.10.7.4 second */
static void finwait2_rstack_closes(void)
{
	sync_rst_exact(SFO_FIN_WAIT_2, SFO_RST | SFO_ACK, 0);
}

/* 3.10.7.4 fifth */
static void finwait2_fin_noack_dropped(void)
{
	sync_no_ack(SFO_FIN_WAIT_2, SFO_FIN);
}

/* 3.10.7.4 eighth: FIN: TIME-WAIT, 2MSL timer started, ACK owed */
static void finwait2_finack_goes_to_timewait(void)
{
	CELL(SFO_FIN_WAIT_2, "rfc9293");
	probe(&w, mkseg(SFO_FIN | SFO_ACK, rnxt(&w), tnxt(&w), 0), &e);
	CHECK_EQ(next_states(&e), BIT(SFO_TIME_WAIT));
	CHECK_EQ(e.out[0].next.timer_ms, w.ot.now_ms);
	CHECK_EQ(JUDGE(&w, &e, SFO_TIME_WAIT, mkseg(SFO_ACK, tnxt(&w), rnxt(&w) + 1, 0)),
		 SFO_DIV_OK);
	CHECK_EQ(JUDGE0(&w, &e, SFO_FIN_WAIT_2), SFO_DIV_STATE);
	CHECK_STR(vrule(&w), "fin.finwait2");
	CHECK_EQ(JUDGE0(&w, &e, SFO_CLOSED), SFO_DIV_STATE);
}

/* 3.10.7.4 seventh, SHLD-3: text after close(): taken, or RST */
static void finwait2_data_in_taken_or_reset(void)
{
	CELL(SFO_FIN_WAIT_2, "rfc9293");
	probe(&w, mkseg(SFO_ACK, rnxt(&w), tnxt(&w), 100), &e);
	CHECK_EQ(next_states(&e), BIT(SFO_FIN_WAIT_2) | BIT(SFO_CLOSED));
	CHECK_EQ(JUDGE(&w, &e, SFO_CLOSED, mkseg(SFO_RST, tnxt(&w), 0, 0)), SFO_DIV_OK);
	CHECK_EQ(JUDGE0(&w, &e, SFO_FIN_WAIT_2), SFO_DIV_OK);
}

/* 3.10.7.4 first */
static void finwait2_data_out_acked(void)
{
	sync_data_out(SFO_FIN_WAIT_2);
}

/* 3.10.7.4 fifth */
static void finwait2_noflags_dropped(void)
{
	sync_no_ack(SFO_FIN_WAIT_2, 0);
}

/* 3.6.1: after shutdown() only (half-close), text in FIN-WAIT-2 is simply taken */
static void finwait2_half_closed_data_taken(void)
{
	struct world w;
	struct sfo_expect e;
	w_init(&w, "rfc9293");
	w_goto(&w, SFO_ESTABLISHED);
	w_call(&w, SFO_CALL_SHUTDOWN, 0);
	w_in(&w, SFO_ACK, w.pnxt, tnxt(&w), 0);
	CHECK_EQ(w.ot.state, SFO_FIN_WAIT_2);
	probe(&w, mkseg(SFO_ACK, rnxt(&w), tnxt(&w), 100), &e);
	CHECK_EQ(next_states(&e), BIT(SFO_FIN_WAIT_2));
	CHECK_EQ(JUDGE(&w, &e, SFO_CLOSED, mkseg(SFO_RST, tnxt(&w), 0, 0)), SFO_DIV_STATE);
	CHECK_EQ(w.diverged, 0);
}

/* ---- CLOSE-WAIT (the peer's FIN taken) ---- */

/* 3.10.7.4 fourth */
static void closewait_syn_challenge_or_reset(void)
{
	sync_syn(SFO_CLOSE_WAIT, SFO_SYN);
}

/* 3.10.7.4 fourth */
static void closewait_synack_challenge_or_reset(void)
{
	sync_syn(SFO_CLOSE_WAIT, SFO_SYN | SFO_ACK);
}

/* 3.10.7.4 fifth */
static void closewait_ack_quiet(void)
{
	CELL(SFO_CLOSE_WAIT, "rfc9293");
	probe(&w, mkseg(SFO_ACK, rnxt(&w), tnxt(&w), 0), &e);
	CHECK_EQ(next_states(&e), BIT(SFO_CLOSE_WAIT));
	CHECK_EQ(JUDGE0(&w, &e, SFO_CLOSE_WAIT), SFO_DIV_OK);
}

/* 3.10.7.4 fifth */
static void closewait_ack_old_ignored(void)
{
	CELL(SFO_CLOSE_WAIT, "rfc9293");
	probe(&w, mkseg(SFO_ACK, rnxt(&w), tuna(&w) - 1, 0), &e);
	CHECK_EQ(next_states(&e), BIT(SFO_CLOSE_WAIT));
	CHECK_EQ(JUDGE0(&w, &e, SFO_CLOSE_WAIT), SFO_DIV_OK);
}

/* 3.10.7.4 fifth */
static void closewait_ack_future_acked(void)
{
	sync_ack_future(SFO_CLOSE_WAIT, 1);
}

/* 3.10.7.4 second */
static void closewait_rst_exact_closes(void)
{
	sync_rst_exact(SFO_CLOSE_WAIT, SFO_RST, 0);
}

/* 3.10.7.4 second */
static void closewait_rst_inwin_reset_or_challenge(void)
{
	sync_rst_inwin(SFO_CLOSE_WAIT, 0);
}

/* 3.10.7.4 first */
static void closewait_rst_outwin_dropped(void)
{
	sync_rst_outwin(SFO_CLOSE_WAIT);
}

/* 3.10.7.4 second */
static void closewait_rstack_closes(void)
{
	sync_rst_exact(SFO_CLOSE_WAIT, SFO_RST | SFO_ACK, 0);
}

/* 3.10.7.4 fifth */
static void closewait_fin_noack_dropped(void)
{
	sync_no_ack(SFO_CLOSE_WAIT, SFO_FIN);
}

/* 3.10.7.4 eighth: a further FIN: CLOSE-WAIT holds, RCV.NXT does not move again */
static void closewait_finack_stays(void)
{
	CELL(SFO_CLOSE_WAIT, "rfc9293");
	probe(&w, mkseg(SFO_FIN | SFO_ACK, rnxt(&w), tnxt(&w), 0), &e);
	CHECK_EQ(next_states(&e), BIT(SFO_CLOSE_WAIT));
	CHECK_EQ(e.out[0].next.rcv_nxt, rnxt(&w));
	CHECK_EQ(JUDGE0(&w, &e, SFO_CLOSE_WAIT), SFO_DIV_OK);
	CHECK_EQ(JUDGE(&w, &e, SFO_CLOSE_WAIT, tack(&w)), SFO_DIV_OK);
	/* the FIN resent below RCV.NXT is unacceptable: ACK at once */
	probe(&w, mkseg(SFO_FIN | SFO_ACK, rnxt(&w) - 1, tnxt(&w), 0), &e);
	CHECK_EQ(JUDGE0(&w, &e, SFO_CLOSE_WAIT), SFO_DIV_MISSING);
	CHECK_EQ(JUDGE(&w, &e, SFO_CLOSE_WAIT, tack(&w)), SFO_DIV_OK);
}

/* 3.10.7.4 seventh: text after the FIN is ignored */
static void closewait_data_in_ignored(void)
{
	CELL(SFO_CLOSE_WAIT, "rfc9293");
	probe(&w, mkseg(SFO_ACK, rnxt(&w), tnxt(&w), 100), &e);
	CHECK_EQ(next_states(&e), BIT(SFO_CLOSE_WAIT));
	CHECK_EQ(e.out[0].next.rcv_nxt, rnxt(&w));
	CHECK_EQ(JUDGE0(&w, &e, SFO_CLOSE_WAIT), SFO_DIV_OK);
	CHECK_EQ(JUDGE(&w, &e, SFO_CLOSE_WAIT, mkseg(SFO_ACK, tnxt(&w), rnxt(&w) + 100, 0)),
		 SFO_DIV_FIELD);
}

/* 3.10.7.4 first */
static void closewait_data_out_acked(void)
{
	sync_data_out(SFO_CLOSE_WAIT);
}

/* 3.10.7.4 fifth */
static void closewait_noflags_dropped(void)
{
	sync_no_ack(SFO_CLOSE_WAIT, 0);
}

int main(void)
{
	established_syn_challenge_or_reset();
	established_synack_challenge_or_reset();
	established_ack_quiet();
	established_ack_old_ignored();
	established_ack_future_acked();
	established_rst_exact_closes();
	established_rst_inwin_reset_or_challenge();
	established_rst_outwin_dropped();
	established_rstack_closes();
	established_fin_noack_dropped();
	established_finack_goes_to_closewait();
	established_data_in_taken();
	established_data_out_acked();
	established_noflags_dropped();

	finwait1_syn_challenge_or_reset();
	finwait1_synack_challenge_or_reset();
	finwait1_ack_of_fin_goes_to_finwait2();
	finwait1_ack_old_stays();
	finwait1_ack_future_acked();
	finwait1_rst_exact_closes();
	finwait1_rst_inwin_reset_or_challenge();
	finwait1_rst_outwin_dropped();
	finwait1_rstack_closes();
	finwait1_fin_noack_dropped();
	finwait1_finack_goes_to_closing();
	finwait1_finack_acking_fin_goes_to_timewait();
	finwait1_data_in_taken_or_reset();
	finwait1_data_out_acked();
	finwait1_noflags_dropped();

	finwait2_syn_challenge_or_reset();
	finwait2_synack_challenge_or_reset();
	finwait2_ack_quiet();
	finwait2_ack_old_ignored();
	finwait2_ack_future_acked();
	finwait2_rst_exact_closes();
	finwait2_rst_inwin_reset_or_challenge();
	finwait2_rst_outwin_dropped();
	finwait2_rstack_closes();
	finwait2_fin_noack_dropped();
	finwait2_finack_goes_to_timewait();
	finwait2_data_in_taken_or_reset();
	finwait2_data_out_acked();
	finwait2_noflags_dropped();
	finwait2_half_closed_data_taken();

	closewait_syn_challenge_or_reset();
	closewait_synack_challenge_or_reset();
	closewait_ack_quiet();
	closewait_ack_old_ignored();
	closewait_ack_future_acked();
	closewait_rst_exact_closes();
	closewait_rst_inwin_reset_or_challenge();
	closewait_rst_outwin_dropped();
	closewait_rstack_closes();
	closewait_fin_noack_dropped();
	closewait_finack_stays();
	closewait_data_in_ignored();
	closewait_data_out_acked();
	closewait_noflags_dropped();
	return check_done();
}
