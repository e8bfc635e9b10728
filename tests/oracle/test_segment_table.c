/* The segment-arrival table, part 1: CLOSED, LISTEN, SYN-SENT, SYN-RECEIVED (RFC 9293
 * 3.10.7.1-3.10.7.4), cell by cell. Each cell drives the model from CLOSED into the state,
 * asks the oracle about one peer segment, checks the next states, and judges concrete
 * answers a target could give. Parts 2 and 3 cover the synchronized states. */
#include "model_test.h"

#define CELL(state, profile)                                                                       \
	struct world w;                                                                            \
	struct sfo_expect e;                                                                       \
	at(&w, (state), (profile))

/* ---- CLOSED (3.10.7.1) ---- */

/* 3.10.7.1: a SYN to no connection: <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK> */
static void closed_syn_refused_by_rstack(void)
{
	CELL(SFO_CLOSED, "rfc9293");
	probe(&w, mkseg(SFO_SYN, PISN, 0, 0), &e);
	CHECK_EQ(e.evclass, SFO_EC_SYN);
	CHECK_EQ(next_states(&e), BIT(SFO_CLOSED));
	CHECK_EQ(JUDGE(&w, &e, SFO_CLOSED, mkseg(SFO_RST | SFO_ACK, 0, PISN + 1, 0)), SFO_DIV_OK);
	CHECK_EQ(JUDGE0(&w, &e, SFO_CLOSED), SFO_DIV_MISSING);
	CHECK_STR(vrule(&w), "closed.seg.noack");
	CHECK_EQ(JUDGE(&w, &e, SFO_CLOSED, mkseg(SFO_RST | SFO_ACK, 0, PISN, 0)), SFO_DIV_FIELD);
	CHECK_STR(w.v.detail, "ack: expected 1, observed 0");
}

/* 3.10.7.1: ACK-bearing segments are refused by <SEQ=SEG.ACK><CTL=RST> */
static void closed_synack_refused_by_rst_at_seg_ack(void)
{
	CELL(SFO_CLOSED, "rfc9293");
	probe(&w, mkseg(SFO_SYN | SFO_ACK, PISN, 4242, 0), &e);
	CHECK_EQ(next_states(&e), BIT(SFO_CLOSED));
	CHECK_EQ(JUDGE(&w, &e, SFO_CLOSED, mkseg(SFO_RST, 4242, 0, 0)), SFO_DIV_OK);
	CHECK_EQ(JUDGE(&w, &e, SFO_CLOSED, mkseg(SFO_RST, 4243, 0, 0)), SFO_DIV_FIELD);
}

/* 3.10.7.1 */
static void closed_ack_refused_by_rst_at_seg_ack(void)
{
	CELL(SFO_CLOSED, "rfc9293");
	probe(&w, mkseg(SFO_ACK, PISN, 100, 0), &e);
	CHECK_EQ(next_states(&e), BIT(SFO_CLOSED));
	CHECK_EQ(JUDGE(&w, &e, SFO_CLOSED, mkseg(SFO_RST, 100, 0, 0)), SFO_DIV_OK);
	CHECK_EQ(JUDGE(&w, &e, SFO_CLOSED, mkseg(SFO_RST | SFO_ACK, 100, PISN, 0)), SFO_DIV_OK);
}

/* 3.10.7.1: "old" means nothing without a TCB: still RST at SEG.ACK */
static void closed_ack_old_refused_by_rst(void)
{
	CELL(SFO_CLOSED, "rfc9293");
	probe(&w, mkseg(SFO_ACK, PISN, 0xfffffff0u, 0), &e);
	CHECK_EQ(JUDGE(&w, &e, SFO_CLOSED, mkseg(SFO_RST, 0xfffffff0u, 0, 0)), SFO_DIV_OK);
}

/* 3.10.7.1 */
static void closed_ack_future_refused_by_rst(void)
{
	CELL(SFO_CLOSED, "rfc9293");
	probe(&w, mkseg(SFO_ACK, PISN, 0x80000000u, 0), &e);
	CHECK_EQ(JUDGE(&w, &e, SFO_CLOSED, mkseg(SFO_RST, 0x80000000u, 0, 0)), SFO_DIV_OK);
}

/* 3.10.7.1: a RST to no connection is dropped, never answered */
static void closed_rst_exact_dropped(void)
{
	CELL(SFO_CLOSED, "rfc9293");
	probe(&w, mkseg(SFO_RST, 0, 0, 0), &e);
	CHECK_EQ(next_states(&e), BIT(SFO_CLOSED));
	CHECK_EQ(JUDGE0(&w, &e, SFO_CLOSED), SFO_DIV_OK);
	CHECK_EQ(JUDGE(&w, &e, SFO_CLOSED, mkseg(SFO_RST, 0, 0, 0)), SFO_DIV_UNEXPECTED);
	CHECK_STR(vrule(&w), "closed.rst");
}

/* 3.10.7.1 */
static void closed_rst_inwin_dropped(void)
{
	CELL(SFO_CLOSED, "rfc9293");
	probe(&w, mkseg(SFO_RST, 100, 0, 0), &e);
	CHECK_EQ(JUDGE0(&w, &e, SFO_CLOSED), SFO_DIV_OK);
}

/* 3.10.7.1 */
static void closed_rst_outwin_dropped(void)
{
	CELL(SFO_CLOSED, "rfc9293");
	probe(&w, mkseg(SFO_RST, 0x90000000u, 0, 0), &e);
	CHECK_EQ(JUDGE0(&w, &e, SFO_CLOSED), SFO_DIV_OK);
}

/* 3.10.7.1 */
static void closed_rstack_dropped(void)
{
	CELL(SFO_CLOSED, "rfc9293");
	probe(&w, mkseg(SFO_RST | SFO_ACK, PISN, 5, 0), &e);
	CHECK_EQ(e.evclass, SFO_EC_RSTACK);
	CHECK_EQ(JUDGE0(&w, &e, SFO_CLOSED), SFO_DIV_OK);
}

/* 3.10.7.1: SEG.LEN counts the FIN */
static void closed_fin_refused_by_rstack(void)
{
	CELL(SFO_CLOSED, "rfc9293");
	probe(&w, mkseg(SFO_FIN, PISN, 0, 0), &e);
	CHECK_EQ(JUDGE(&w, &e, SFO_CLOSED, mkseg(SFO_RST | SFO_ACK, 0, PISN + 1, 0)), SFO_DIV_OK);
}

/* 3.10.7.1 */
static void closed_finack_refused_by_rst(void)
{
	CELL(SFO_CLOSED, "rfc9293");
	probe(&w, mkseg(SFO_FIN | SFO_ACK, PISN, 9, 0), &e);
	CHECK_EQ(JUDGE(&w, &e, SFO_CLOSED, mkseg(SFO_RST, 9, 0, 0)), SFO_DIV_OK);
}

/* 3.10.7.1: data is discarded and refused */
static void closed_data_in_refused_by_rst(void)
{
	CELL(SFO_CLOSED, "rfc9293");
	probe(&w, mkseg(SFO_ACK, PISN, 9, 100), &e);
	CHECK_EQ(JUDGE(&w, &e, SFO_CLOSED, mkseg(SFO_RST, 9, 0, 0)), SFO_DIV_OK);
	CHECK_EQ(JUDGE(&w, &e, SFO_CLOSED, mkseg(SFO_ACK, 9, PISN + 100, 0)), SFO_DIV_MISSING);
	CHECK_STR(w.v.detail, "missing: R seq 25 len 0; unexpected: . seq 25 ack 100 len 0");
}

/* 3.10.7.1: without ACK the RST acknowledges SEG.SEQ+SEG.LEN */
static void closed_data_out_refused_by_rstack(void)
{
	CELL(SFO_CLOSED, "rfc9293");
	probe(&w, mkseg(0, 0x12345678u, 0, 100), &e);
	CHECK_EQ(JUDGE(&w, &e, SFO_CLOSED, mkseg(SFO_RST | SFO_ACK, 0, 0x12345678u + 100, 0)),
		 SFO_DIV_OK);
}

/* 3.10.7.1 */
static void closed_noflags_refused_by_rstack(void)
{
	CELL(SFO_CLOSED, "rfc9293");
	probe(&w, mkseg(0, PISN, 0, 0), &e);
	CHECK_EQ(e.evclass, SFO_EC_NOFLAGS);
	CHECK_EQ(JUDGE(&w, &e, SFO_CLOSED, mkseg(SFO_RST | SFO_ACK, 0, PISN, 0)), SFO_DIV_OK);
}

/* ---- LISTEN (3.10.7.2) ---- */

/* 3.10.7.2 third: SYN -> SYN-RECEIVED, <SEQ=ISS><ACK=RCV.NXT><CTL=SYN,ACK>, any ISS */
static void listen_syn_answers_synack(void)
{
	CELL(SFO_LISTEN, "rfc9293");
	probe(&w, mkseg(SFO_SYN, PISN, 0, 0), &e);
	CHECK_EQ(next_states(&e), BIT(SFO_SYN_RECEIVED));
	CHECK_EQ(JUDGE(&w, &e, SFO_SYN_RECEIVED, mkseg(SFO_SYN | SFO_ACK, 12345, PISN + 1, 0)),
		 SFO_DIV_OK);
	CHECK_EQ(JUDGE(&w, &e, SFO_SYN_RECEIVED, mkseg(SFO_SYN | SFO_ACK, 12345, PISN, 0)),
		 SFO_DIV_FIELD);
	CHECK_STR(vrule(&w), "listen.syn");
	CHECK_EQ(JUDGE0(&w, &e, SFO_LISTEN), SFO_DIV_STATE);
}

/* 3.10.7.2 second: an ACK (here on a SYN,ACK) is refused by RST at SEG.ACK */
static void listen_synack_refused_by_rst(void)
{
	CELL(SFO_LISTEN, "rfc9293");
	probe(&w, mkseg(SFO_SYN | SFO_ACK, PISN, 777, 0), &e);
	CHECK_EQ(next_states(&e), BIT(SFO_LISTEN));
	CHECK_EQ(JUDGE(&w, &e, SFO_LISTEN, mkseg(SFO_RST, 777, 0, 0)), SFO_DIV_OK);
	CHECK_EQ(JUDGE(&w, &e, SFO_SYN_RECEIVED, mkseg(SFO_SYN | SFO_ACK, 1, PISN + 1, 0)),
		 SFO_DIV_STATE);
}

/* 3.10.7.2 second */
static void listen_ack_refused_by_rst(void)
{
	CELL(SFO_LISTEN, "rfc9293");
	probe(&w, mkseg(SFO_ACK, PISN, 777, 0), &e);
	CHECK_EQ(JUDGE(&w, &e, SFO_LISTEN, mkseg(SFO_RST, 777, 0, 0)), SFO_DIV_OK);
	CHECK_EQ(JUDGE0(&w, &e, SFO_LISTEN), SFO_DIV_MISSING);
	CHECK_STR(vrule(&w), "listen.ack");
}

/* 3.10.7.2 second: any acknowledgment is bad here */
static void listen_ack_old_refused_by_rst(void)
{
	CELL(SFO_LISTEN, "rfc9293");
	probe(&w, mkseg(SFO_ACK, PISN, 0, 0), &e);
	CHECK_EQ(JUDGE(&w, &e, SFO_LISTEN, mkseg(SFO_RST, 0, 0, 0)), SFO_DIV_OK);
}

/* 3.10.7.2 second */
static void listen_ack_future_refused_by_rst(void)
{
	CELL(SFO_LISTEN, "rfc9293");
	probe(&w, mkseg(SFO_ACK, PISN, 0x7fffffffu, 0), &e);
	CHECK_EQ(JUDGE(&w, &e, SFO_LISTEN, mkseg(SFO_RST, 0x7fffffffu, 0, 0)), SFO_DIV_OK);
}

/* 3.10.7.2 first: a RST is ignored */
static void listen_rst_exact_ignored(void)
{
	CELL(SFO_LISTEN, "rfc9293");
	probe(&w, mkseg(SFO_RST, 0, 0, 0), &e);
	CHECK_EQ(next_states(&e), BIT(SFO_LISTEN));
	CHECK_EQ(JUDGE0(&w, &e, SFO_LISTEN), SFO_DIV_OK);
	CHECK_EQ(JUDGE(&w, &e, SFO_LISTEN, mkseg(SFO_RST, 0, 0, 0)), SFO_DIV_UNEXPECTED);
	CHECK_EQ(JUDGE0(&w, &e, SFO_CLOSED), SFO_DIV_STATE);
}

/* 3.10.7.2 first */
static void listen_rst_inwin_ignored(void)
{
	CELL(SFO_LISTEN, "rfc9293");
	probe(&w, mkseg(SFO_RST, 100, 0, 0), &e);
	CHECK_EQ(JUDGE0(&w, &e, SFO_LISTEN), SFO_DIV_OK);
}

/* 3.10.7.2 first */
static void listen_rst_outwin_ignored(void)
{
	CELL(SFO_LISTEN, "rfc9293");
	probe(&w, mkseg(SFO_RST, 0x80000000u, 0, 0), &e);
	CHECK_EQ(JUDGE0(&w, &e, SFO_LISTEN), SFO_DIV_OK);
}

/* 3.10.7.2 first: the RST check comes before the ACK check */
static void listen_rstack_ignored(void)
{
	CELL(SFO_LISTEN, "rfc9293");
	probe(&w, mkseg(SFO_RST | SFO_ACK, PISN, 5, 0), &e);
	CHECK_EQ(JUDGE0(&w, &e, SFO_LISTEN), SFO_DIV_OK);
	CHECK_EQ(JUDGE(&w, &e, SFO_LISTEN, mkseg(SFO_RST, 5, 0, 0)), SFO_DIV_UNEXPECTED);
}

/* 3.10.7.2 fourth: neither RST, ACK nor SYN: drop */
static void listen_fin_dropped(void)
{
	CELL(SFO_LISTEN, "rfc9293");
	probe(&w, mkseg(SFO_FIN, PISN, 0, 0), &e);
	CHECK_EQ(next_states(&e), BIT(SFO_LISTEN));
	CHECK_EQ(JUDGE0(&w, &e, SFO_LISTEN), SFO_DIV_OK);
}

/* 3.10.7.2 second */
static void listen_finack_refused_by_rst(void)
{
	CELL(SFO_LISTEN, "rfc9293");
	probe(&w, mkseg(SFO_FIN | SFO_ACK, PISN, 31, 0), &e);
	CHECK_EQ(JUDGE(&w, &e, SFO_LISTEN, mkseg(SFO_RST, 31, 0, 0)), SFO_DIV_OK);
}

/* 3.10.7.2 second */
static void listen_data_in_refused_by_rst(void)
{
	CELL(SFO_LISTEN, "rfc9293");
	probe(&w, mkseg(SFO_ACK, PISN + 1, 31, 100), &e);
	CHECK_EQ(JUDGE(&w, &e, SFO_LISTEN, mkseg(SFO_RST, 31, 0, 0)), SFO_DIV_OK);
}

/* 3.10.7.2 fourth: data without ACK is dropped */
static void listen_data_out_dropped(void)
{
	CELL(SFO_LISTEN, "rfc9293");
	probe(&w, mkseg(0, 0x40000000u, 0, 100), &e);
	CHECK_EQ(JUDGE0(&w, &e, SFO_LISTEN), SFO_DIV_OK);
}

/* 3.10.7.2 fourth */
static void listen_noflags_dropped(void)
{
	CELL(SFO_LISTEN, "rfc9293");
	probe(&w, mkseg(0, PISN, 0, 0), &e);
	CHECK_EQ(JUDGE0(&w, &e, SFO_LISTEN), SFO_DIV_OK);
}

/* 3.10.7.2 third: a SYN carrying FIN may be answered or dropped */
static void listen_synfin_answered_or_dropped(void)
{
	CELL(SFO_LISTEN, "rfc9293");
	probe(&w, mkseg(SFO_SYN | SFO_FIN, PISN, 0, 0), &e);
	CHECK_EQ(next_states(&e), BIT(SFO_SYN_RECEIVED) | BIT(SFO_LISTEN));
	CHECK_EQ(JUDGE0(&w, &e, SFO_LISTEN), SFO_DIV_OK);
	CHECK_EQ(JUDGE(&w, &e, SFO_SYN_RECEIVED, mkseg(SFO_SYN | SFO_ACK, 3, PISN + 1, 0)),
		 SFO_DIV_OK);
}

/* ---- SYN-SENT (3.10.7.3) ---- */

/* 3.10.7.3 fourth, 3.5 MUST-10: simultaneous open: SYN-RECEIVED and <SEQ=ISS><ACK>SYN> */
static void synsent_syn_simultaneous_open_synack(void)
{
	CELL(SFO_SYN_SENT, "rfc9293");
	probe(&w, mkseg(SFO_SYN, PISN, 0, 0), &e);
	CHECK_EQ(next_states(&e), BIT(SFO_SYN_RECEIVED));
	CHECK_EQ(JUDGE(&w, &e, SFO_SYN_RECEIVED, mkseg(SFO_SYN | SFO_ACK, TISS, PISN + 1, 0)),
		 SFO_DIV_OK);
	CHECK_EQ(JUDGE0(&w, &e, SFO_SYN_SENT), SFO_DIV_STATE);
	CHECK_STR(vrule(&w), "synsent.syn.simopen");
	CHECK_STR(sfo_rule(w.v.rule)->req, "MUST-10");
}

/* 3.10.7.3 fourth: our SYN ACKed: ESTABLISHED, ACK (may be delayed) */
static void synsent_synack_establishes(void)
{
	CELL(SFO_SYN_SENT, "rfc9293");
	probe(&w, mkseg(SFO_SYN | SFO_ACK, PISN, TISS + 1, 0), &e);
	CHECK_EQ(next_states(&e), BIT(SFO_ESTABLISHED));
	CHECK_EQ(JUDGE(&w, &e, SFO_ESTABLISHED, mkseg(SFO_ACK, TISS + 1, PISN + 1, 0)), SFO_DIV_OK);
	CHECK_EQ(JUDGE0(&w, &e, SFO_ESTABLISHED), SFO_DIV_OK);
	CHECK(e.out[0].next.fl & SFO_TF_ACK_OWED);
	CHECK_EQ(JUDGE(&w, &e, SFO_ESTABLISHED, mkseg(SFO_ACK, TISS + 1, PISN, 0)), SFO_DIV_FIELD);
}

/* 3.10.7.3 fifth: an acceptable ACK without SYN: drop */
static void synsent_ack_dropped(void)
{
	CELL(SFO_SYN_SENT, "rfc9293");
	probe(&w, mkseg(SFO_ACK, PISN, TISS + 1, 0), &e);
	CHECK_EQ(next_states(&e), BIT(SFO_SYN_SENT));
	CHECK_EQ(JUDGE0(&w, &e, SFO_SYN_SENT), SFO_DIV_OK);
	CHECK_EQ(JUDGE(&w, &e, SFO_SYN_SENT, mkseg(SFO_RST, TISS + 1, 0, 0)), SFO_DIV_UNEXPECTED);
}

/* 3.10.7.3 first: SEG.ACK =< ISS is refused by RST at SEG.ACK */
static void synsent_ack_old_refused_by_rst(void)
{
	CELL(SFO_SYN_SENT, "rfc9293");
	probe(&w, mkseg(SFO_ACK, PISN, TISS, 0), &e);
	CHECK_EQ(next_states(&e), BIT(SFO_SYN_SENT));
	CHECK_EQ(JUDGE(&w, &e, SFO_SYN_SENT, mkseg(SFO_RST, TISS, 0, 0)), SFO_DIV_OK);
	CHECK_STR(sfo_rule(e.out[0].state_rule)->id, "synsent.ack.bad");
}

/* 3.10.7.3 first: SEG.ACK > SND.NXT is refused by RST at SEG.ACK */
static void synsent_ack_future_refused_by_rst(void)
{
	CELL(SFO_SYN_SENT, "rfc9293");
	probe(&w, mkseg(SFO_SYN | SFO_ACK, PISN, TISS + 2, 0), &e);
	CHECK_EQ(JUDGE(&w, &e, SFO_SYN_SENT, mkseg(SFO_RST, TISS + 2, 0, 0)), SFO_DIV_OK);
	CHECK_EQ(JUDGE(&w, &e, SFO_ESTABLISHED, mkseg(SFO_ACK, TISS + 1, PISN + 1, 0)),
		 SFO_DIV_STATE);
}

/* 3.10.7.3 second: a RST without ACK is dropped (RCV.NXT is not known yet) */
static void synsent_rst_exact_dropped(void)
{
	CELL(SFO_SYN_SENT, "rfc9293");
	probe(&w, mkseg(SFO_RST, 0, 0, 0), &e);
	CHECK_EQ(next_states(&e), BIT(SFO_SYN_SENT));
	CHECK_EQ(JUDGE0(&w, &e, SFO_SYN_SENT), SFO_DIV_OK);
	CHECK_EQ(JUDGE0(&w, &e, SFO_CLOSED), SFO_DIV_STATE);
}

/* 3.10.7.3 second */
static void synsent_rst_inwin_dropped(void)
{
	CELL(SFO_SYN_SENT, "rfc9293");
	probe(&w, mkseg(SFO_RST, PISN + 1, 0, 0), &e);
	CHECK_EQ(JUDGE0(&w, &e, SFO_SYN_SENT), SFO_DIV_OK);
}

/* 3.10.7.3 second */
static void synsent_rst_outwin_dropped(void)
{
	CELL(SFO_SYN_SENT, "rfc9293");
	probe(&w, mkseg(SFO_RST, 0x80000000u, 0, 0), &e);
	CHECK_EQ(JUDGE0(&w, &e, SFO_SYN_SENT), SFO_DIV_OK);
}

/* 3.10.7.3 second: RST with an ACK of our SYN: connection refused, CLOSED */
static void synsent_rstack_closes(void)
{
	CELL(SFO_SYN_SENT, "rfc9293");
	probe(&w, mkseg(SFO_RST | SFO_ACK, 0, TISS + 1, 0), &e);
	CHECK_EQ(next_states(&e), BIT(SFO_CLOSED));
	CHECK_EQ(JUDGE0(&w, &e, SFO_CLOSED), SFO_DIV_OK);
	CHECK_EQ(JUDGE0(&w, &e, SFO_SYN_SENT), SFO_DIV_STATE);
	CHECK_STR(vrule(&w), "synsent.rst");
	/* with an unacceptable ACK the RST is dropped, and never answered */
	probe(&w, mkseg(SFO_RST | SFO_ACK, 0, TISS + 9, 0), &e);
	CHECK_EQ(next_states(&e), BIT(SFO_SYN_SENT));
	CHECK_EQ(JUDGE0(&w, &e, SFO_SYN_SENT), SFO_DIV_OK);
}

/* 3.10.7.3 fifth */
static void synsent_fin_dropped(void)
{
	CELL(SFO_SYN_SENT, "rfc9293");
	probe(&w, mkseg(SFO_FIN, PISN, 0, 0), &e);
	CHECK_EQ(JUDGE0(&w, &e, SFO_SYN_SENT), SFO_DIV_OK);
}

/* 3.10.7.3 fifth */
static void synsent_finack_dropped(void)
{
	CELL(SFO_SYN_SENT, "rfc9293");
	probe(&w, mkseg(SFO_FIN | SFO_ACK, PISN, TISS + 1, 0), &e);
	CHECK_EQ(next_states(&e), BIT(SFO_SYN_SENT));
	CHECK_EQ(JUDGE0(&w, &e, SFO_SYN_SENT), SFO_DIV_OK);
}

/* 3.10.7.3 fifth */
static void synsent_data_in_dropped(void)
{
	CELL(SFO_SYN_SENT, "rfc9293");
	probe(&w, mkseg(SFO_ACK, PISN + 1, TISS + 1, 100), &e);
	CHECK_EQ(JUDGE0(&w, &e, SFO_SYN_SENT), SFO_DIV_OK);
}

/* 3.10.7.3 fifth: no window yet; data without SYN or RST is dropped */
static void synsent_data_out_dropped(void)
{
	CELL(SFO_SYN_SENT, "rfc9293");
	probe(&w, mkseg(0, 0x30000000u, 0, 100), &e);
	CHECK_EQ(JUDGE0(&w, &e, SFO_SYN_SENT), SFO_DIV_OK);
}

/* 3.10.7.3 fifth */
static void synsent_noflags_dropped(void)
{
	CELL(SFO_SYN_SENT, "rfc9293");
	probe(&w, mkseg(0, PISN, 0, 0), &e);
	CHECK_EQ(JUDGE0(&w, &e, SFO_SYN_SENT), SFO_DIV_OK);
}

/* 3.10.7.3: text on the SYN,ACK goes on at the sixth step, or may be left unacked */
static void synsent_synack_with_data_taken_or_left(void)
{
	CELL(SFO_SYN_SENT, "rfc9293");
	probe(&w, mkseg(SFO_SYN | SFO_ACK, PISN, TISS + 1, 10), &e);
	CHECK_EQ(next_states(&e), BIT(SFO_ESTABLISHED));
	CHECK(fired(&e, "data.accept") && fired(&e, "synsent.synack.text.drop"));
	CHECK_EQ(e.out[0].next.rcv_nxt, PISN + 11);
	CHECK_EQ(e.out[1].next.rcv_nxt, PISN + 1);
	CHECK_EQ(JUDGE(&w, &e, SFO_ESTABLISHED, mkseg(SFO_ACK, TISS + 1, PISN + 11, 0)),
		 SFO_DIV_OK);
	CHECK_EQ(w.which, 0);
	/* an ACK of the SYN alone fits both: the data's ACK may still come */
	CHECK_EQ(JUDGE(&w, &e, SFO_ESTABLISHED, mkseg(SFO_ACK, TISS + 1, PISN + 1, 0)), SFO_DIV_OK);
	CHECK_EQ(JUDGE(&w, &e, SFO_ESTABLISHED, mkseg(SFO_ACK, TISS + 1, PISN + 12, 0)),
		 SFO_DIV_FIELD);
}

/* ---- SYN-RECEIVED of a passive OPEN (3.10.7.4) ---- */

/* 3.10.7.4 fourth, MUST-11: an in-window SYN sends a passive TCB back to LISTEN */
static void synrcvd_syn_returns_to_listen(void)
{
	CELL(SFO_SYN_RECEIVED, "rfc9293");
	probe(&w, mkseg(SFO_SYN, rnxt(&w), 0, 0), &e);
	CHECK_EQ(next_states(&e), BIT(SFO_LISTEN));
	CHECK_EQ(JUDGE0(&w, &e, SFO_LISTEN), SFO_DIV_OK);
	CHECK_EQ(JUDGE(&w, &e, SFO_LISTEN, mkseg(SFO_RST | SFO_ACK, 0, rnxt(&w) + 1, 0)),
		 SFO_DIV_OK);
	CHECK_EQ(JUDGE0(&w, &e, SFO_SYN_RECEIVED), SFO_DIV_STATE);
	CHECK_STR(vrule(&w), "synrcvd.syn.passive");
}

/* 3.10.7.4 fourth: the SYN bit decides, ACK or not */
static void synrcvd_synack_returns_to_listen(void)
{
	CELL(SFO_SYN_RECEIVED, "rfc9293");
	probe(&w, mkseg(SFO_SYN | SFO_ACK, rnxt(&w), TISS + 1, 0), &e);
	CHECK_EQ(next_states(&e), BIT(SFO_LISTEN));
}

/* 3.10.7.4 fifth: SND.UNA < SEG.ACK =< SND.NXT: ESTABLISHED, nothing to send */
static void synrcvd_ack_establishes(void)
{
	CELL(SFO_SYN_RECEIVED, "rfc9293");
	probe(&w, mkseg(SFO_ACK, rnxt(&w), TISS + 1, 0), &e);
	CHECK_EQ(e.evclass, SFO_EC_ACK_OK);
	CHECK_EQ(next_states(&e), BIT(SFO_ESTABLISHED));
	CHECK_EQ(JUDGE0(&w, &e, SFO_ESTABLISHED), SFO_DIV_OK);
	CHECK_EQ(JUDGE(&w, &e, SFO_ESTABLISHED, mkseg(SFO_ACK, TISS + 1, rnxt(&w), 0)),
		 SFO_DIV_UNEXPECTED);
	CHECK_EQ(JUDGE0(&w, &e, SFO_SYN_RECEIVED), SFO_DIV_STATE);
}

/* 3.10.7.4 fifth: an ACK of ISS itself is unacceptable: RST at SEG.ACK, state holds */
static void synrcvd_ack_old_refused_by_rst(void)
{
	CELL(SFO_SYN_RECEIVED, "rfc9293");
	probe(&w, mkseg(SFO_ACK, rnxt(&w), TISS - 1, 0), &e);
	CHECK_EQ(e.evclass, SFO_EC_ACK_OLD);
	CHECK_EQ(next_states(&e), BIT(SFO_SYN_RECEIVED));
	CHECK_EQ(JUDGE(&w, &e, SFO_SYN_RECEIVED, mkseg(SFO_RST, TISS - 1, 0, 0)), SFO_DIV_OK);
	probe(&w, mkseg(SFO_ACK, rnxt(&w), TISS, 0), &e);
	CHECK_EQ(JUDGE(&w, &e, SFO_SYN_RECEIVED, mkseg(SFO_RST, TISS, 0, 0)), SFO_DIV_OK);
	CHECK_EQ(JUDGE0(&w, &e, SFO_SYN_RECEIVED), SFO_DIV_MISSING);
	CHECK_STR(vrule(&w), "synrcvd.ack.bad");
}

/* 3.10.7.4 fifth */
static void synrcvd_ack_future_refused_by_rst(void)
{
	CELL(SFO_SYN_RECEIVED, "rfc9293");
	probe(&w, mkseg(SFO_ACK, rnxt(&w), TISS + 50, 0), &e);
	CHECK_EQ(e.evclass, SFO_EC_ACK_FUTURE);
	CHECK_EQ(JUDGE(&w, &e, SFO_SYN_RECEIVED, mkseg(SFO_RST, TISS + 50, 0, 0)), SFO_DIV_OK);
}

/* 3.10.7.4 second, MUST-11: RST at RCV.NXT returns a passive TCB to LISTEN */
static void synrcvd_rst_exact_returns_to_listen(void)
{
	CELL(SFO_SYN_RECEIVED, "rfc9293");
	probe(&w, mkseg(SFO_RST, rnxt(&w), 0, 0), &e);
	CHECK_EQ(e.evclass, SFO_EC_RST_EXACT);
	CHECK_EQ(next_states(&e), BIT(SFO_LISTEN));
	CHECK_EQ(JUDGE0(&w, &e, SFO_LISTEN), SFO_DIV_OK);
	CHECK_EQ(JUDGE0(&w, &e, SFO_CLOSED), SFO_DIV_STATE);
	CHECK_STR(vrule(&w), "synrcvd.rst.passive");
	CHECK_STR(sfo_rule(w.v.rule)->req, "MUST-11");
	CHECK_EQ(w.v.sev, SFO_SEV_MUST);
}

/* 3.10.7.4 second: in the window but not exact: LISTEN (base) or challenge ACK
 * (RFC 5961); the rfc5961 profile allows only the challenge */
static void synrcvd_rst_inwin_listen_or_challenge(void)
{
	CELL(SFO_SYN_RECEIVED, "rfc9293");
	probe(&w, mkseg(SFO_RST, rnxt(&w) + 100, 0, 0), &e);
	CHECK_EQ(e.evclass, SFO_EC_RST_INWIN);
	CHECK_EQ(next_states(&e), BIT(SFO_LISTEN) | BIT(SFO_SYN_RECEIVED));
	CHECK_EQ(JUDGE0(&w, &e, SFO_LISTEN), SFO_DIV_OK);
	CHECK_EQ(JUDGE(&w, &e, SFO_SYN_RECEIVED, mkseg(SFO_ACK, TISS + 1, rnxt(&w), 0)),
		 SFO_DIV_OK);
	at(&w, SFO_SYN_RECEIVED, "rfc5961");
	probe(&w, mkseg(SFO_RST, rnxt(&w) + 100, 0, 0), &e);
	CHECK_EQ(next_states(&e), BIT(SFO_SYN_RECEIVED));
	CHECK_EQ(JUDGE0(&w, &e, SFO_LISTEN), SFO_DIV_STATE);
	CHECK_STR(vrule(&w), "rst.inwin.challenge");
}

/* 3.10.7.4 first: a RST outside the window is dropped silently */
static void synrcvd_rst_outwin_dropped(void)
{
	CELL(SFO_SYN_RECEIVED, "rfc9293");
	probe(&w, mkseg(SFO_RST, rnxt(&w) + 100000, 0, 0), &e);
	CHECK_EQ(next_states(&e), BIT(SFO_SYN_RECEIVED));
	CHECK_EQ(JUDGE0(&w, &e, SFO_SYN_RECEIVED), SFO_DIV_OK);
	CHECK_EQ(JUDGE(&w, &e, SFO_SYN_RECEIVED, mkseg(SFO_ACK, TISS + 1, rnxt(&w), 0)),
		 SFO_DIV_UNEXPECTED);
}

/* 3.10.7.4 second: RST,ACK at RCV.NXT: the RST check comes first */
static void synrcvd_rstack_returns_to_listen(void)
{
	CELL(SFO_SYN_RECEIVED, "rfc9293");
	probe(&w, mkseg(SFO_RST | SFO_ACK, rnxt(&w), TISS + 1, 0), &e);
	CHECK_EQ(next_states(&e), BIT(SFO_LISTEN));
}

/* 3.10.7.4 fifth: no ACK bit: drop */
static void synrcvd_fin_dropped(void)
{
	CELL(SFO_SYN_RECEIVED, "rfc9293");
	probe(&w, mkseg(SFO_FIN, rnxt(&w), 0, 0), &e);
	CHECK_EQ(next_states(&e), BIT(SFO_SYN_RECEIVED));
	CHECK_EQ(JUDGE0(&w, &e, SFO_SYN_RECEIVED), SFO_DIV_OK);
}

/* 3.10.7.4 fifth then eighth: established, then the FIN: CLOSE-WAIT, ACK may wait */
static void synrcvd_finack_goes_to_closewait(void)
{
	CELL(SFO_SYN_RECEIVED, "rfc9293");
	probe(&w, mkseg(SFO_FIN | SFO_ACK, rnxt(&w), TISS + 1, 0), &e);
	CHECK_EQ(next_states(&e), BIT(SFO_CLOSE_WAIT));
	CHECK_EQ(JUDGE(&w, &e, SFO_CLOSE_WAIT, mkseg(SFO_ACK, TISS + 1, rnxt(&w) + 1, 0)),
		 SFO_DIV_OK);
	CHECK_EQ(JUDGE0(&w, &e, SFO_CLOSE_WAIT), SFO_DIV_OK);
}

/* 3.10.7.4 fifth then seventh: the ACK establishes, the text is taken */
static void synrcvd_data_in_establishes_and_takes_text(void)
{
	CELL(SFO_SYN_RECEIVED, "rfc9293");
	probe(&w, mkseg(SFO_ACK, rnxt(&w), TISS + 1, 100), &e);
	CHECK_EQ(next_states(&e), BIT(SFO_ESTABLISHED));
	CHECK_EQ(e.out[0].next.rcv_queued, 100);
	CHECK_EQ(JUDGE(&w, &e, SFO_ESTABLISHED, mkseg(SFO_ACK, TISS + 1, rnxt(&w) + 100, 0)),
		 SFO_DIV_OK);
}

/* 3.10.7.4 first: unacceptable: <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>, drop */
static void synrcvd_data_out_acked(void)
{
	CELL(SFO_SYN_RECEIVED, "rfc9293");
	probe(&w, mkseg(SFO_ACK, rnxt(&w) + 100000, TISS + 1, 100), &e);
	CHECK_EQ(e.evclass, SFO_EC_DATA_OUT);
	CHECK_EQ(next_states(&e), BIT(SFO_SYN_RECEIVED));
	CHECK_EQ(JUDGE(&w, &e, SFO_SYN_RECEIVED, mkseg(SFO_ACK, TISS + 1, rnxt(&w), 0)),
		 SFO_DIV_OK);
	CHECK_EQ(JUDGE0(&w, &e, SFO_SYN_RECEIVED), SFO_DIV_MISSING);
	CHECK_STR(vrule(&w), "seq.unacceptable.ack");
}

/* 3.10.7.4 fifth */
static void synrcvd_noflags_dropped(void)
{
	CELL(SFO_SYN_RECEIVED, "rfc9293");
	probe(&w, mkseg(0, rnxt(&w), 0, 0), &e);
	CHECK_EQ(next_states(&e), BIT(SFO_SYN_RECEIVED));
	CHECK_EQ(JUDGE0(&w, &e, SFO_SYN_RECEIVED), SFO_DIV_OK);
}

/* 3.10.7.4 first: the peer resent its SYN: the SYN,ACK again, or the plain ACK */
static void synrcvd_syn_dup_resends_synack(void)
{
	CELL(SFO_SYN_RECEIVED, "rfc9293");
	probe(&w, mkseg(SFO_SYN, PISN, 0, 0), &e);
	CHECK_EQ(next_states(&e), BIT(SFO_SYN_RECEIVED));
	CHECK_EQ(JUDGE(&w, &e, SFO_SYN_RECEIVED, mkseg(SFO_SYN | SFO_ACK, TISS, PISN + 1, 0)),
		 SFO_DIV_OK);
	CHECK_EQ(JUDGE(&w, &e, SFO_SYN_RECEIVED, mkseg(SFO_ACK, TISS + 1, PISN + 1, 0)),
		 SFO_DIV_OK);
	CHECK_EQ(JUDGE0(&w, &e, SFO_LISTEN), SFO_DIV_STATE);
}

/* 3.10.7.4 second, MUST-11: SYN-RECEIVED of an active OPEN is refused: CLOSED */
static void synrcvd_active_rst_exact_closes(void)
{
	struct world w;
	struct sfo_expect e;
	w_init(&w, "rfc9293");
	w_call(&w, SFO_CALL_CONNECT, 0);
	w_in(&w, SFO_SYN, w.pisn, 0, 0);
	CHECK_EQ(w.ot.state, SFO_SYN_RECEIVED);
	probe(&w, mkseg(SFO_RST, rnxt(&w), 0, 0), &e);
	CHECK_EQ(next_states(&e), BIT(SFO_CLOSED));
	CHECK_EQ(JUDGE0(&w, &e, SFO_LISTEN), SFO_DIV_STATE);
	CHECK_STR(vrule(&w), "synrcvd.rst.active");
	/* an in-window SYN is handled as in the synchronized states */
	probe(&w, mkseg(SFO_SYN, rnxt(&w), 0, 0), &e);
	CHECK(fired(&e, "syn.challenge"));
	CHECK(!fired(&e, "synrcvd.syn.passive"));
}

int main(void)
{
	closed_syn_refused_by_rstack();
	closed_synack_refused_by_rst_at_seg_ack();
	closed_ack_refused_by_rst_at_seg_ack();
	closed_ack_old_refused_by_rst();
	closed_ack_future_refused_by_rst();
	closed_rst_exact_dropped();
	closed_rst_inwin_dropped();
	closed_rst_outwin_dropped();
	closed_rstack_dropped();
	closed_fin_refused_by_rstack();
	closed_finack_refused_by_rst();
	closed_data_in_refused_by_rst();
	closed_data_out_refused_by_rstack();
	closed_noflags_refused_by_rstack();

	listen_syn_answers_synack();
	listen_synack_refused_by_rst();
	listen_ack_refused_by_rst();
	listen_ack_old_refused_by_rst();
	listen_ack_future_refused_by_rst();
	listen_rst_exact_ignored();
	listen_rst_inwin_ignored();
	listen_rst_outwin_ignored();
	listen_rstack_ignored();
	listen_fin_dropped();
	listen_finack_refused_by_rst();
	listen_data_in_refused_by_rst();
	listen_data_out_dropped();
	listen_noflags_dropped();
	listen_synfin_answered_or_dropped();

	synsent_syn_simultaneous_open_synack();
	synsent_synack_establishes();
	synsent_ack_dropped();
	synsent_ack_old_refused_by_rst();
	synsent_ack_future_refused_by_rst();
	synsent_rst_exact_dropped();
	synsent_rst_inwin_dropped();
	synsent_rst_outwin_dropped();
	synsent_rstack_closes();
	synsent_fin_dropped();
	synsent_finack_dropped();
	synsent_data_in_dropped();
	synsent_data_out_dropped();
	synsent_noflags_dropped();
	synsent_synack_with_data_taken_or_left();

	synrcvd_syn_returns_to_listen();
	synrcvd_synack_returns_to_listen();
	synrcvd_ack_establishes();
	synrcvd_ack_old_refused_by_rst();
	synrcvd_ack_future_refused_by_rst();
	synrcvd_rst_exact_returns_to_listen();
	synrcvd_rst_inwin_listen_or_challenge();
	synrcvd_rst_outwin_dropped();
	synrcvd_rstack_returns_to_listen();
	synrcvd_fin_dropped();
	synrcvd_finack_goes_to_closewait();
	synrcvd_data_in_establishes_and_takes_text();
	synrcvd_data_out_acked();
	synrcvd_noflags_dropped();
	synrcvd_syn_dup_resends_synack();
	synrcvd_active_rst_exact_closes();
	return check_done();
}
