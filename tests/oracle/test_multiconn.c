/* The model with a listener apart from its connections (scenarios that name their TCBs):
 * what closing the listener may do to a connection nobody accepted (3.10.4, 3.10.5), that
 * connection's handshake completing with no one to take it, and a new SYN on a 4-tuple
 * in TIME-WAIT with the listener open (3.6.1 MAY-2, RFC 6191), each allowed beside what
 * the RFC's ordered checks say and never preferred to it. */
#include "model_test.h"

static int out_fired(const struct sfo_outcome *o, const char *id)
{
	for (unsigned i = 0; i < o->nrules; i++)
		if (strcmp(sfo_rule(o->rules[i])->id, id) == 0)
			return 1;
	return 0;
}

/* 3.10.4 / 3.10.5: a SYN-RECEIVED connection orphaned by the listener's close may be
 * reset, kept, or dropped quietly; nothing else. */
static void orphan_synrcvd_three_fates(void)
{
	struct world w;
	struct sfo_expect e;
	at(&w, SFO_SYN_RECEIVED, "rfc9293");
	sfo_step_orphan(&w.ot, &w.ocfg, &e);
	CHECK_EQ(e.nout, 3);
	CHECK_EQ(e.out[0].next.state, SFO_CLOSED); /* the reference: aborted */
	CHECK(out_fired(&e.out[0], "listener.orphan.abort"));
	CHECK(out_fired(&e.out[1], "listener.orphan.keep"));
	CHECK(e.out[1].next.fl & SFO_TF_ORPHAN);
	CHECK_EQ(e.out[1].next.state, SFO_SYN_RECEIVED);
	CHECK(out_fired(&e.out[2], "listener.orphan.drop"));
	/* a RST at SND.NXT, a silent drop, or nothing at all and still SYN-RECEIVED */
	CHECK_EQ(JUDGE(&w, &e, SFO_CLOSED, mkseg(SFO_RST, tnxt(&w), 0, 0)), SFO_DIV_OK);
	CHECK_EQ(JUDGE0(&w, &e, SFO_CLOSED), SFO_DIV_OK);
	CHECK_EQ(JUDGE0(&w, &e, SFO_SYN_RECEIVED), SFO_DIV_OK);
	CHECK_EQ(e.out[w.which].next.state, SFO_SYN_RECEIVED);
	/* but not a FIN, nor a RST elsewhere, nor ESTABLISHED */
	CHECK(JUDGE(&w, &e, SFO_CLOSED, mkseg(SFO_FIN | SFO_ACK, tnxt(&w), rnxt(&w), 0)) !=
	      SFO_DIV_OK);
	CHECK(JUDGE(&w, &e, SFO_CLOSED, mkseg(SFO_RST, tnxt(&w) + 7, 0, 0)) != SFO_DIV_OK);
	CHECK_EQ(JUDGE0(&w, &e, SFO_ESTABLISHED), SFO_DIV_STATE);
	/* the stack's view: it resets */
	sfo_step_orphan(&w.st, &w.scfg, &e);
	CHECK_EQ(e.out[0].npat, 1);
	CHECK(e.out[0].pat[0].flags_set & SFO_RST);
	CHECK(e.out[0].pat[0].pf & SFO_PAT_EMIT);
}

/* An established connection nobody accepted: the reset comes from SND.NXT (3.10.5). */
static void orphan_established_reset_at_sndnxt(void)
{
	struct world w;
	struct sfo_expect e;
	w_init(&w, "rfc9293");
	w_goto(&w, SFO_SYN_RECEIVED);
	w_in(&w, SFO_ACK, w.pnxt, tnxt(&w), 0);
	CHECK_EQ(w.ot.state, SFO_ESTABLISHED);
	sfo_step_orphan(&w.ot, &w.ocfg, &e);
	CHECK_EQ(JUDGE(&w, &e, SFO_CLOSED, mkseg(SFO_RST | SFO_ACK, tnxt(&w), rnxt(&w), 0)),
		 SFO_DIV_OK);
	CHECK_EQ(JUDGE0(&w, &e, SFO_ESTABLISHED), SFO_DIV_OK);
	CHECK(JUDGE(&w, &e, SFO_CLOSED, mkseg(SFO_RST, tnxt(&w) - 1, 0, 0)) != SFO_DIV_OK);
}

/* A kept orphan completing its handshake may be reset then (lwIP: no listener to hand it
 * to); without the mark that RST is a divergence. */
static void orphan_reset_when_established(void)
{
	struct world w;
	struct sfo_expect e;
	at(&w, SFO_SYN_RECEIVED, "rfc9293");
	struct sfo_seg ack = mkseg(SFO_ACK, w.pnxt, tnxt(&w), 0);
	struct sfo_seg rst = mkseg(SFO_RST | SFO_ACK, tnxt(&w), rnxt(&w), 0);
	probe(&w, ack, &e);
	CHECK(JUDGE(&w, &e, SFO_CLOSED, rst) != SFO_DIV_OK);
	CHECK(JUDGE(&w, &e, SFO_ESTABLISHED, rst) != SFO_DIV_OK);
	w.ot.fl |= SFO_TF_ORPHAN;
	probe(&w, ack, &e);
	CHECK_EQ(e.out[0].next.state, SFO_ESTABLISHED); /* the reference is unchanged */
	CHECK_EQ(JUDGE(&w, &e, SFO_CLOSED, rst), SFO_DIV_OK);
	CHECK_STR(sfo_rule(e.out[w.which].state_rule)->id, "orphan.establish.abort");
	CHECK_EQ(JUDGE0(&w, &e, SFO_ESTABLISHED), SFO_DIV_OK);
	/* a segment that does not complete the handshake gives no reason to reset */
	probe(&w, mkseg(SFO_ACK, w.pnxt, tnxt(&w) + 100, 0), &e);
	CHECK(!(next_states(&e) & BIT(SFO_ESTABLISHED)));
	for (unsigned i = 0; i < e.nout; i++)
		CHECK(!out_fired(&e.out[i], "orphan.establish.abort"));
}

/* 3.6.1 MAY-2 with the listener open: the rfc9293 profile's reference stays the ordered
 * checks, and a reopening SYN-ACK with an ISS above the old space is allowed too. */
static void timewait_syn_reopen_with_listener(void)
{
	struct world w;
	struct sfo_expect e;
	at(&w, SFO_TIME_WAIT, "rfc9293");
	uint32_t old = tnxt(&w);
	struct sfo_seg syn = mkseg(SFO_SYN, rnxt(&w) + 100000, 0, 0);
	probe(&w, syn, &e);
	CHECK(!(next_states(&e) & BIT(SFO_SYN_RECEIVED)));
	uint8_t ref_state = e.out[0].next.state;
	w.ocfg.flags |= SFO_CFG_LISTENER;
	probe(&w, syn, &e);
	CHECK_EQ(e.out[0].next.state, ref_state);
	CHECK(next_states(&e) & BIT(SFO_SYN_RECEIVED));
	struct sfo_seg synack = mkseg(SFO_SYN | SFO_ACK, old + 70000, syn.seq + 1, 0);
	CHECK_EQ(judge(&w, &e, SFO_SYN_RECEIVED, &synack, 1), SFO_DIV_OK);
	CHECK_STR(sfo_rule(e.out[w.which].state_rule)->id, "timewait.syn.reopen.listener");
	CHECK_STR(sfo_rule(e.out[w.which].state_rule)->req, "MAY-2");
	/* (1): the new ISS above the old sequence space */
	synack.seq = old - 5;
	CHECK(judge(&w, &e, SFO_SYN_RECEIVED, &synack, 1) != SFO_DIV_OK);
	/* a SYN at or below RCV.NXT without timestamps reopens nothing */
	probe(&w, mkseg(SFO_SYN, rnxt(&w) - 10, 0, 0), &e);
	CHECK(!(next_states(&e) & BIT(SFO_SYN_RECEIVED)));
	/* RFC 6191: with timestamps on the old incarnation, a SYN carrying one may */
	struct sfo_seg tsyn = mkseg(SFO_SYN, rnxt(&w) - 10, 0, 0);
	tsyn.opts |= SFO_OPT_TS;
	tsyn.tsval = 1000;
	w.ot.fl |= SFO_TF_TS;
	probe(&w, tsyn, &e);
	CHECK(next_states(&e) & BIT(SFO_SYN_RECEIVED));
	/* a SYN that also carries FIN: the listener may drop it, the old incarnation gone
	 * (Linux: TCP_TW_SYN, then the listener discards SYN+FIN) */
	struct sfo_seg synfin = mkseg(SFO_SYN | SFO_FIN, rnxt(&w) + 100000, 0, 0);
	probe(&w, synfin, &e);
	CHECK_EQ(JUDGE0(&w, &e, SFO_CLOSED), SFO_DIV_OK);
	CHECK_STR(sfo_rule(e.out[w.which].state_rule)->id, "listen.syn.fin.drop");
	w.ocfg.flags &= ~(uint32_t)SFO_CFG_LISTENER;
	probe(&w, synfin, &e);
	CHECK(JUDGE0(&w, &e, SFO_CLOSED) != SFO_DIV_OK);
	w.ocfg.flags |= SFO_CFG_LISTENER;
	/* a SYN,ACK is no new connection */
	probe(&w, mkseg(SFO_SYN | SFO_ACK, rnxt(&w) + 100000, tnxt(&w), 0), &e);
	CHECK(!(next_states(&e) & BIT(SFO_SYN_RECEIVED)));
}

/* A profile that prefers reopening (linux) keeps it first, with the listener or not. */
static void timewait_reopen_profile_stays_reference(void)
{
	struct world w;
	struct sfo_expect e;
	at(&w, SFO_TIME_WAIT, "linux");
	w.ocfg.flags |= SFO_CFG_LISTENER;
	probe(&w, mkseg(SFO_SYN, rnxt(&w) + 100000, 0, 0), &e);
	CHECK_EQ(e.out[0].next.state, SFO_SYN_RECEIVED);
	CHECK_STR(sfo_rule(e.out[0].state_rule)->id, "timewait.syn.reopen");
	unsigned n = 0;
	for (unsigned i = 0; i < e.nout; i++)
		n += e.out[i].next.state == SFO_SYN_RECEIVED;
	CHECK_EQ(n, 1);
}

int main(void)
{
	orphan_synrcvd_three_fates();
	orphan_established_reset_at_sndnxt();
	orphan_reset_when_established();
	timewait_syn_reopen_with_listener();
	timewait_reopen_profile_stays_reference();
	return check_done();
}
