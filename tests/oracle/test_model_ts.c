/* RFC 7323 3.2 on a connection that negotiated Timestamps: a non-RST segment without the
 * option may be dropped silently (ts.missing.drop, SHOULD), as well as processed as usual
 * (the reference outcome); a RST without the option is still processed; and without
 * negotiated Timestamps the drop stays a divergence. The oracle alone is driven here:
 * the model as a stack sends no options beyond MSS, so it never negotiates them. */
#include "model_test.h"

/* A segment the target emits, or the peer sends, with a Timestamps option. */
static struct sfo_seg ts(struct sfo_seg s, uint32_t val, uint32_t ecr)
{
	s.opts |= SFO_OPT_TS;
	s.tsval = val;
	s.tsecr = ecr;
	return s;
}

/* Passive open up to SYN-RECEIVED as the oracle sees it; the peer's SYN carries TSopt if
 * peer_ts, the target's SYN,ACK if self_ts. */
static void oracle_synrcvd(struct world *w, int peer_ts, int self_ts)
{
	w_init(w, "rfc9293");
	struct sfo_event ev = sfo_ev_call(SFO_CALL_LISTEN, 0);
	CHECK_EQ(ostep(w, &ev, NULL, 0, SFO_LISTEN), SFO_DIV_OK);
	struct sfo_seg syn = mkseg(SFO_SYN, PISN, 0, 0);
	if (peer_ts)
		syn = ts(syn, 100, 0);
	struct sfo_seg synack = mkseg(SFO_SYN | SFO_ACK, TISS, PISN + 1, 0);
	if (self_ts)
		synack = ts(synack, 7000, 100);
	ev = sfo_ev_segment(syn);
	CHECK_EQ(ostep(w, &ev, &synack, 1, SFO_SYN_RECEIVED), SFO_DIV_OK);
	CHECK_EQ(!!(w->ot.fl & SFO_TF_TS), peer_ts && self_ts);
}

/* Whether outcome i fired rule id. */
static int out_fired(const struct sfo_expect *e, int i, const char *id)
{
	int r = sfo_rule_find(id);
	if (i < 0 || i >= e->nout || r < 0)
		return 0;
	for (unsigned j = 0; j < e->out[i].nrules; j++)
		if (e->out[i].rules[j] == r)
			return 1;
	return 0;
}

/* The outcome that drops the segment under RFC 7323 3.2, or -1. */
static int drop_outcome(const struct sfo_expect *e)
{
	for (int i = 0; i < e->nout; i++)
		if (out_fired(e, i, "ts.missing.drop"))
			return i;
	return -1;
}

/* SYN-RECEIVED, the ACK that completes the handshake lacks TSopt: ESTABLISHED (the
 * reference) or dropped, the TCB staying in SYN-RECEIVED; the drop sends nothing. */
static void synrcvd_ack_without_ts_may_be_dropped(void)
{
	struct world w;
	struct sfo_expect e;
	oracle_synrcvd(&w, 1, 1);
	probe(&w, mkseg(SFO_ACK, PISN + 1, TISS + 1, 0), &e);
	CHECK_EQ(e.out[0].next.state, SFO_ESTABLISHED);
	CHECK_EQ(next_states(&e), BIT(SFO_ESTABLISHED) | BIT(SFO_SYN_RECEIVED));
	CHECK_EQ(JUDGE0(&w, &e, SFO_ESTABLISHED), SFO_DIV_OK);
	CHECK_EQ(w.which, 0);
	CHECK_EQ(JUDGE0(&w, &e, SFO_SYN_RECEIVED), SFO_DIV_OK);
	CHECK(out_fired(&e, w.which, "ts.missing.drop"));
	CHECK_EQ(sfo_rule(w.v.rule)->sev, SFO_SEV_SHOULD);
	/* silently: an ACK back is no part of the drop */
	CHECK(JUDGE(&w, &e, SFO_SYN_RECEIVED, mkseg(SFO_ACK, TISS + 1, PISN + 1, 0)) != SFO_DIV_OK);
	/* the same ACK with TSopt: it must establish */
	probe(&w, ts(mkseg(SFO_ACK, PISN + 1, TISS + 1, 0), 101, 7000), &e);
	CHECK_EQ(drop_outcome(&e), -1);
	CHECK_EQ(JUDGE0(&w, &e, SFO_SYN_RECEIVED), SFO_DIV_STATE);
	CHECK_STR(vrule(&w), "synrcvd.ack");
}

/* Without negotiated Timestamps (either SYN lacked the option) nothing excuses the drop. */
static void synrcvd_ack_drop_needs_negotiated_ts(void)
{
	static const int peer_self[3][2] = {{1, 0}, {0, 1}, {0, 0}};
	for (int k = 0; k < 3; k++) {
		struct world w;
		struct sfo_expect e;
		oracle_synrcvd(&w, peer_self[k][0], peer_self[k][1]);
		probe(&w, mkseg(SFO_ACK, PISN + 1, TISS + 1, 0), &e);
		CHECK_EQ(drop_outcome(&e), -1);
		CHECK_EQ(next_states(&e), BIT(SFO_ESTABLISHED));
		CHECK_EQ(JUDGE0(&w, &e, SFO_SYN_RECEIVED), SFO_DIV_STATE);
		CHECK_STR(vrule(&w), "synrcvd.ack");
		CHECK_EQ(JUDGE0(&w, &e, SFO_ESTABLISHED), SFO_DIV_OK);
	}
}

/* Negotiated, then ESTABLISHED by an ACK that carries the option. */
static void oracle_established_ts(struct world *w)
{
	oracle_synrcvd(w, 1, 1);
	struct sfo_event ev = sfo_ev_segment(ts(mkseg(SFO_ACK, PISN + 1, TISS + 1, 0), 101, 7000));
	CHECK_EQ(ostep(w, &ev, NULL, 0, SFO_ESTABLISHED), SFO_DIV_OK);
	CHECK(w->ot.fl & SFO_TF_TS);
}

/* ESTABLISHED, text without TSopt: taken and acknowledged (the reference of the model as
 * a stack), or dropped. A silent step fits both (the ACK may be delayed), so the oracle
 * keeps the text pending: a later ACK of it, or the peer's resend, tells which. */
static void established_data_without_ts_may_be_dropped(void)
{
	struct world w;
	struct sfo_expect e;
	oracle_established_ts(&w);
	struct world w0 = w;
	uint32_t rn = w.ot.rcv_nxt;
	struct sfo_seg data = mkseg(SFO_ACK | SFO_PSH, rn, TISS + 1, 10);
	struct sfo_event ev = sfo_ev_segment(data);
	struct sfo_seg ack = mkseg(SFO_ACK, TISS + 1, rn + 10, 0);
	/* the model as a stack takes it */
	sfo_step(&w.ot, &w.scfg, &ev, &e);
	CHECK_EQ(e.out[0].next.rcv_nxt, rn + 10);
	CHECK(!out_fired(&e, 0, "ts.missing.drop"));
	/* the plain drop is an outcome of its own */
	probe(&w, data, &e);
	CHECK(e.nout > 1);
	CHECK(out_fired(&e, e.nout - 1, "ts.missing.drop"));
	CHECK_EQ(e.out[e.nout - 1].next.rcv_nxt, rn);
	CHECK(!(e.out[e.nout - 1].next.fl & SFO_TF_SYN_QP));
	/* taken and ACKed at once */
	CHECK_EQ(ostep(&w, &ev, &ack, 1, SFO_ESTABLISHED), SFO_DIV_OK);
	CHECK_EQ(w.ot.rcv_nxt, rn + 10);
	CHECK(!(w.ot.fl & SFO_TF_SYN_QP));
	/* taken, the ACK delayed into the next wait */
	w = w0;
	CHECK_EQ(ostep(&w, &ev, NULL, 0, SFO_ESTABLISHED), SFO_DIV_OK);
	struct sfo_event wait = sfo_ev_wait(1000);
	CHECK_EQ(ostep(&w, &wait, &ack, 1, SFO_ESTABLISHED), SFO_DIV_OK);
	CHECK_EQ(w.ot.rcv_nxt, rn + 10);
	/* dropped: nothing in the wait either, then the peer sends it again with TSopt */
	w = w0;
	CHECK_EQ(ostep(&w, &ev, NULL, 0, SFO_ESTABLISHED), SFO_DIV_OK);
	CHECK_EQ(ostep(&w, &wait, NULL, 0, SFO_ESTABLISHED), SFO_DIV_OK);
	struct sfo_event again = sfo_ev_segment(ts(data, 102, 7000));
	CHECK_EQ(ostep(&w, &again, &ack, 1, SFO_ESTABLISHED), SFO_DIV_OK);
	CHECK_EQ(w.ot.rcv_nxt, rn + 10);
	CHECK(!(w.ot.fl & SFO_TF_SYN_QP));
	/* an ACK that fits neither reading (the old RCV.NXT: no drop is silent so) */
	w = w0;
	CHECK_EQ(ostep(&w, &ev, NULL, 0, SFO_ESTABLISHED), SFO_DIV_OK);
	struct sfo_seg old = mkseg(SFO_ACK, TISS + 1, rn, 0);
	CHECK(ostep(&w, &wait, &old, 1, SFO_ESTABLISHED) != SFO_DIV_OK);
	/* the same text with TSopt: no pending reading, and the ACK must come in the wait */
	w = w0;
	struct sfo_event with = sfo_ev_segment(ts(data, 102, 7000));
	CHECK_EQ(ostep(&w, &with, NULL, 0, SFO_ESTABLISHED), SFO_DIV_OK);
	CHECK_EQ(w.ot.rcv_nxt, rn + 10);
	CHECK_EQ(ostep(&w, &wait, NULL, 0, SFO_ESTABLISHED), SFO_DIV_MISSING);
}

/* ESTABLISHED, a FIN without TSopt: CLOSE-WAIT (the reference) or dropped, where the
 * state shows which; the same FIN with the option must move to CLOSE-WAIT. */
static void established_fin_without_ts_may_be_dropped(void)
{
	struct world w;
	struct sfo_expect e;
	oracle_established_ts(&w);
	uint32_t rn = w.ot.rcv_nxt;
	struct sfo_seg fin = mkseg(SFO_FIN | SFO_ACK, rn, TISS + 1, 0);
	probe(&w, fin, &e);
	CHECK_EQ(e.out[0].next.state, SFO_CLOSE_WAIT);
	CHECK_EQ(JUDGE(&w, &e, SFO_CLOSE_WAIT, mkseg(SFO_ACK, TISS + 1, rn + 1, 0)), SFO_DIV_OK);
	CHECK_EQ(w.which, 0);
	CHECK_EQ(JUDGE0(&w, &e, SFO_ESTABLISHED), SFO_DIV_OK);
	CHECK(out_fired(&e, w.which, "ts.missing.drop"));
	probe(&w, ts(fin, 102, 7000), &e);
	CHECK_EQ(JUDGE0(&w, &e, SFO_ESTABLISHED), SFO_DIV_STATE);
	CHECK_STR(vrule(&w), "fin.established");
}

/* A RST lacks TSopt too ("SHOULD be sent in an <RST> segment"): it is processed as
 * usual, never dropped for that. */
static void rst_without_ts_still_processed(void)
{
	struct world w;
	struct sfo_expect e;
	oracle_established_ts(&w);
	probe(&w, mkseg(SFO_RST, w.ot.rcv_nxt, 0, 0), &e);
	CHECK_EQ(drop_outcome(&e), -1);
	CHECK_EQ(next_states(&e), BIT(SFO_CLOSED));
	CHECK_EQ(JUDGE0(&w, &e, SFO_ESTABLISHED), SFO_DIV_STATE);
	CHECK_EQ(JUDGE0(&w, &e, SFO_CLOSED), SFO_DIV_OK);
	oracle_synrcvd(&w, 1, 1);
	probe(&w, mkseg(SFO_RST, PISN + 1, 0, 0), &e);
	CHECK_EQ(drop_outcome(&e), -1);
	CHECK_EQ(JUDGE0(&w, &e, SFO_SYN_RECEIVED), SFO_DIV_STATE);
	CHECK_EQ(JUDGE0(&w, &e, SFO_LISTEN), SFO_DIV_OK);
}

/* Active open: the target's SYN and the peer's SYN,ACK both carry TSopt; later text
 * without it may be dropped. */
static void active_open_negotiates_ts(void)
{
	struct world w;
	struct sfo_expect e;
	w_init(&w, "rfc9293");
	struct sfo_event ev = sfo_ev_call(SFO_CALL_CONNECT, 0);
	struct sfo_seg syn = ts(mkseg(SFO_SYN, TISS, 0, 0), 7000, 0);
	CHECK_EQ(ostep(&w, &ev, &syn, 1, SFO_SYN_SENT), SFO_DIV_OK);
	CHECK(!(w.ot.fl & SFO_TF_TS));
	ev = sfo_ev_segment(ts(mkseg(SFO_SYN | SFO_ACK, PISN, TISS + 1, 0), 100, 7000));
	struct sfo_seg ack = ts(mkseg(SFO_ACK, TISS + 1, PISN + 1, 0), 7001, 100);
	CHECK_EQ(ostep(&w, &ev, &ack, 1, SFO_ESTABLISHED), SFO_DIV_OK);
	CHECK(w.ot.fl & SFO_TF_TS);
	probe(&w, mkseg(SFO_FIN | SFO_ACK, PISN + 1, TISS + 1, 0), &e);
	CHECK_EQ(JUDGE0(&w, &e, SFO_ESTABLISHED), SFO_DIV_OK);
	CHECK(out_fired(&e, w.which, "ts.missing.drop"));
}

/* The model as a stack keeps the normal processing as its reference outcome. */
static void stack_mode_reference_unchanged(void)
{
	struct world w;
	struct sfo_expect e;
	oracle_synrcvd(&w, 1, 1);
	struct sfo_event ev = sfo_ev_segment(mkseg(SFO_ACK, PISN + 1, TISS + 1, 0));
	sfo_step(&w.ot, &w.scfg, &ev, &e);
	CHECK_EQ(e.out[0].next.state, SFO_ESTABLISHED);
	CHECK(!out_fired(&e, 0, "ts.missing.drop"));
}

static void rule_row(void)
{
	int r = sfo_rule_find("ts.missing.drop");
	CHECK(r >= 0);
	if (r < 0)
		return;
	CHECK_EQ(sfo_rule((sfo_rule_t)r)->sev, SFO_SEV_SHOULD);
	CHECK_STR(sfo_rule((sfo_rule_t)r)->section, "3.2.1");
}

int main(void)
{
	rule_row();
	synrcvd_ack_without_ts_may_be_dropped();
	synrcvd_ack_drop_needs_negotiated_ts();
	established_data_without_ts_may_be_dropped();
	established_fin_without_ts_may_be_dropped();
	rst_without_ts_still_processed();
	active_open_negotiates_ts();
	stack_mode_reference_unchanged();
	return check_done();
}
