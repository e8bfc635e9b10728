/* synfin oracle: a segment without the Timestamps option on a connection that uses them
 * (RFC 7323 3.2), one more outcome of SEGMENT ARRIVES (model_seg.c). */
#include "model_priv.h"

/* RFC 7323 3.2 (RFC 9293 3.2.1 points there): with Timestamps in use (both SYNs carried
 * the option, SFO_TF_TS), "if a non-<RST> segment is received without a TSopt, a TCP
 * SHOULD silently drop the segment". One more outcome after the normal processing, which
 * stays the reference (out[0], what the model as a stack does): the TCB as it was, no
 * reply; what was owed or queued before may still go (finish()). Only a TCB that saw
 * both SYNs has the flag (SYN-RECEIVED and later; CLOSED and LISTEN start afresh). A
 * RST is processed as usual ("MUST NOT abort ... because any segment lacks an expected
 * TSopt" concerns the missing option, not the RST's own effect). */
static void ts_pending(struct sfo_ctx *c, unsigned first);

void sfo_ts_missing_drop(struct sfo_ctx *c, unsigned first)
{
	const struct sfo_tcb *t = c->t;
	const struct sfo_seg *s = &c->ev->u.seg;
	if (!(t->fl & SFO_TF_TS) || (s->flags & SFO_RST) || (s->opts & SFO_OPT_TS))
		return;
	ts_pending(c, first);
	sfo_set_state(sfo_out_new(c), t->state, SFO_R_TS_MISSING_DROP);
}

/* In-order text that the reference takes without anything else changing (an ACK of
 * SND.UNA with the same window, no FIN) and without a reply it must send at once: a
 * target that took it and delays its ACK (3.8.6.3) and one that dropped it under RFC
 * 7323 3.2 look the same in this step. Oracle mode turns the reference outcome into
 * both readings in one TCB, the text pending at RCV.NXT (SFO_TF_SYN_QP, as for the text
 * of a simultaneous-open SYN, marked SFO_TF_QP_TS): an ACK of it takes it (learn_ack),
 * and later events are judged under both readings (syn_q_both, sfo_step), with
 * data.accept or ts.missing.drop naming them. */
static void ts_pending(struct sfo_ctx *c, unsigned first)
{
	const struct sfo_tcb *t = c->t;
	const struct sfo_seg *s = &c->ev->u.seg;
	unsigned scale = (t->fl & SFO_TF_WSCALE) ? t->snd_wscale : 0;
	if (c->stack || first >= c->e->nout ||
	    (t->state != SFO_ESTABLISHED && t->state != SFO_FIN_WAIT_1 &&
	     t->state != SFO_FIN_WAIT_2) ||
	    (t->fl & (SFO_TF_QP_ALL | SFO_TF_SYN_Q | SFO_TF_OOO_ALL | SFO_TF_RD_CLOSED)) ||
	    (s->flags & (SFO_SYN | SFO_FIN | SFO_RST | SFO_ACK | SFO_URG)) != SFO_ACK || !s->len ||
	    s->seq != t->rcv_nxt || s->len > t->rcv_wnd || s->ack != t->snd_una || !t->snd_wnd ||
	    ((uint32_t)s->wnd << scale) != t->snd_wnd)
		return;
	struct sfo_outcome *o = &c->e->out[first];
	struct sfo_tcb *n = &o->next;
	if (n->state != t->state || n->rcv_nxt != t->rcv_nxt + s->len)
		return;
	for (unsigned i = 0; i < o->npat; i++)
		if (o->pat[i].min)
			return;
	n->rcv_nxt = t->rcv_nxt;
	n->rcv_queued = t->rcv_queued;
	n->rcv_wnd = t->rcv_wnd;
	n->snd_wl1 = t->snd_wl1;
	n->snd_wl2 = t->snd_wl2;
	n->fl = (n->fl & ~(uint32_t)SFO_TF_ACK_OWED) | (t->fl & SFO_TF_ACK_OWED);
	n->ack_owed_ms = t->ack_owed_ms;
	n->ack_owed_lo = t->ack_owed_lo;
	n->syn_q_len = s->len;
	n->fl |= SFO_TF_SYN_QP | SFO_TF_QP_TS;
	struct sfo_pattern *p = sfo_pat_ack(c, o, SFO_R_DATA_ACCEPT, 0);
	p->ack_lo = t->rcv_nxt + 1;
	p->ack_hi = t->rcv_nxt + s->len;
	p->pf &= (uint8_t)~SFO_PAT_EMIT;
	/* both readings' rules; the reference's (data.accept) stays last: a verdict names it */
	if (o->nrules) {
		sfo_rule_t last = o->rules[o->nrules - 1];
		o->rules[o->nrules - 1] = SFO_R_TS_MISSING_DROP;
		sfo_fire(o, last);
	} else {
		sfo_fire(o, SFO_R_TS_MISSING_DROP);
	}
}
