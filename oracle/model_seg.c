/* synfin oracle: SEGMENT ARRIVES (RFC 9293 3.10.7) in every state: CLOSED, LISTEN,
 * SYN-SENT, and the ordered checks for the others (sequence, RST, SYN, ACK, text, FIN).
 * Each check works on one outcome; where the RFC allows more than one behaviour it forks
 * another outcome, so the first outcome stays the reference behaviour. */
#include "model_priv.h"

static const struct sfo_seg *seg_of(const struct sfo_ctx *c)
{
	return &c->ev->u.seg;
}

/* Handshake start shared by LISTEN and a CLOSED TCB whose listener still exists. */
static void listen_syn(struct sfo_ctx *c, struct sfo_outcome *o, sfo_rule_t r)
{
	struct sfo_tcb *n = &o->next;
	sfo_tcb_to_listen(n);
	sfo_new_iss(c, n, c->stack ? c->cfg->stack_iss : 0);
	sfo_peer_syn(c, n, seg_of(c));
	sfo_set_state(o, SFO_SYN_RECEIVED, r);
	sfo_pat_synack(c, o, r, 1);
}

static void seg_closed(struct sfo_ctx *c)
{
	const struct sfo_seg *s = seg_of(c);
	struct sfo_outcome *o = sfo_out_new(c);
	/* 3.10.7.1: a RST for no connection is dropped without reply */
	if (s->flags & SFO_RST) {
		sfo_set_state(o, SFO_CLOSED, SFO_R_CLOSED_RST);
		return;
	}
	/* 3.10.7.1: anything else is refused by a RST the sender will find acceptable */
	sfo_rule_t r = (s->flags & SFO_ACK) ? SFO_R_CLOSED_SEG_ACK : SFO_R_CLOSED_SEG_NOACK;
	sfo_refuse(o, s, r);
	sfo_set_state(o, SFO_CLOSED, r);
	/* 3.10.7.2 via the harness: a passive TCB never accepted left its listener open */
	if ((s->flags & (SFO_SYN | SFO_ACK)) == SFO_SYN && (c->t->fl & SFO_TF_PASSIVE) &&
	    !(c->t->fl & SFO_TF_ACCEPTED))
		listen_syn(c, sfo_out_new(c), SFO_R_CLOSED_SYN_LISTENER);
}

static void seg_listen(struct sfo_ctx *c)
{
	const struct sfo_seg *s = seg_of(c);
	struct sfo_outcome *o = sfo_out_new(c);
	/* 3.10.7.2 first: a RST cannot concern this incarnation: ignore it */
	if (s->flags & SFO_RST) {
		sfo_set_state(o, SFO_LISTEN, SFO_R_LISTEN_RST);
		return;
	}
	/* 3.10.7.2 second: an ACK acknowledges nothing we sent: RST with SEQ=SEG.ACK */
	if (s->flags & SFO_ACK) {
		sfo_refuse(o, s, SFO_R_LISTEN_ACK);
		sfo_set_state(o, SFO_LISTEN, SFO_R_LISTEN_ACK);
		return;
	}
	/* 3.10.7.2 third: a SYN starts the handshake: SYN,ACK, SYN-RECEIVED */
	if (s->flags & SFO_SYN) {
		listen_syn(c, o, SFO_R_LISTEN_SYN);
		/* a SYN with FIN is nonsense many stacks drop outright */
		if (s->flags & SFO_FIN)
			sfo_set_state(sfo_out_new(c), SFO_LISTEN, SFO_R_LISTEN_SYN_FIN_DROP);
		return;
	}
	/* 3.10.7.2 fourth: nothing else can be valid here: drop */
	sfo_set_state(o, SFO_LISTEN, SFO_R_LISTEN_OTHER);
}

static void take_fin(struct sfo_ctx *c, struct sfo_outcome *o);
static void take_text(struct sfo_ctx *c, struct sfo_outcome *o, const struct sfo_seg *s,
		      uint32_t len, int fin);
static void check_text_fin(struct sfo_ctx *c, struct sfo_outcome *o, const struct sfo_seg *s);

/* SYN-SENT and a SYN,ACK that acknowledges our SYN. */
static void synsent_synack(struct sfo_ctx *c)
{
	const struct sfo_seg *s = seg_of(c);
	struct sfo_outcome *o = sfo_out_new(c);
	struct sfo_tcb *n = &o->next;
	if (!(n->fl & SFO_TF_ISS_KNOWN)) {
		sfo_learn_iss(n, s->ack - 1); /* our SYN went unseen: trust the peer */
		n->snd_nxt = sfo_seq_max(n->snd_nxt, s->ack);
	}
	sfo_peer_syn(c, n, s);
	n->snd_una = s->ack;
	sfo_ack_sample(n, s->ack);
	n->rtx_count = 0;
	n->deliver_since_ms = n->now_ms;
	/* 3.10.7.3 fourth: our SYN is ACKed: ESTABLISHED, and the SYN gets an ACK */
	sfo_set_state(o, SFO_ESTABLISHED, SFO_R_SYNSENT_SYNACK);
	sfo_owe_ack(c, o);
	if (!s->len && !(s->flags & SFO_FIN))
		return;
	/* text or FIN on the SYN,ACK: stacks without Fast Open may leave it unacknowledged */
	sfo_fire(sfo_out_fork(c, o), SFO_R_SYNSENT_SYNACK_TEXT_DROP);
	/* 3.10.7.3: otherwise processing goes on at the sixth step */
	take_text(c, o, s, s->len, !!(s->flags & SFO_FIN));
}

/* 3.10.7.3 fourth, simultaneous open: "If there are other controls or text in the
 * segment, queue them for processing after the ESTABLISHED state has been reached". The
 * SYN,ACK acknowledges the SYN only. The oracle learns RCV.WND from that SYN,ACK, so
 * what lies past the window is trimmed when the queue is processed. */
static void simopen_queue(struct sfo_outcome *o, const struct sfo_seg *s)
{
	struct sfo_tcb *n = &o->next;
	if (!s->len && !(s->flags & SFO_FIN))
		return;
	n->syn_q_len = s->len;
	n->fl |= SFO_TF_SYN_Q;
	if (s->flags & SFO_FIN)
		n->fl |= SFO_TF_SYN_Q_FIN;
	sfo_fire(o, SFO_R_SYNSENT_SYN_TEXT_QUEUE);
}

/* ESTABLISHED reached from a simultaneous open: the text and FIN queued from the SYN are
 * processed now (seventh and eighth checks), before the text of the segment that got us
 * here; a stack that discarded them (left unacknowledged: the peer sends them again)
 * is tolerated in a fork, which goes on with this segment's own text. */
static void simopen_unqueue(struct sfo_ctx *c, struct sfo_outcome *o, const struct sfo_seg *s)
{
	struct sfo_tcb *n = &o->next;
	if (!(n->fl & SFO_TF_SYN_Q))
		return;
	int fin = !!(n->fl & SFO_TF_SYN_Q_FIN);
	uint32_t len = n->syn_q_len;
	if (len + (uint32_t)fin > n->rcv_wnd) { /* 3.10.7.4 first: trimmed to the window */
		len = len < n->rcv_wnd ? len : n->rcv_wnd;
		fin = 0;
	}
	n->fl &= ~(uint32_t)(SFO_TF_SYN_Q | SFO_TF_SYN_Q_FIN);
	n->syn_q_len = 0;
	if (!c->stack && len && !fin && !s->len && !(s->flags & SFO_FIN) &&
	    n->rcv_nxt == n->irs + 1) {
		/* text alone, and none on this segment: both readings in one TCB, the text
		 * pending at RCV.NXT (SFO_TF_SYN_QP): whatever the target sends may
		 * acknowledge it (syn_q_acks), which takes it (learn_ack); the next segment
		 * is judged under both readings (syn_q_both), a call or a wait under the
		 * pending one, then the taken one (sfo_step). Two outcomes would have to be
		 * told apart in this step, and an ACK of the queued text may be delayed. */
		n->syn_q_len = len;
		n->fl |= SFO_TF_SYN_QP;
		struct sfo_pattern *p = sfo_pat_ack(c, o, SFO_R_SYNSENT_SYN_TEXT_QUEUE, 0);
		p->ack_hi = n->rcv_nxt + len;
		p->pf &= (uint8_t)~SFO_PAT_EMIT;
		sfo_fire(o, SFO_R_SYNSENT_SYN_TEXT_QUEUE);
		return;
	}
	struct sfo_outcome *d = sfo_out_fork(c, o);
	sfo_fire(d, SFO_R_SYNSENT_SYN_TEXT_DROP);
	check_text_fin(c, d, s);
	sfo_fire(o, SFO_R_SYNSENT_SYN_TEXT_QUEUE);
	if (n->rcv_nxt == n->irs + 1)
		take_text(c, o, s, len, fin);
}

static void seg_synsent(struct sfo_ctx *c)
{
	const struct sfo_tcb *t = c->t;
	const struct sfo_seg *s = seg_of(c);
	int ack = !!(s->flags & SFO_ACK);
	struct sfo_outcome *o;
	/* 3.10.7.3 first: an ACK must acknowledge our SYN and nothing beyond */
	if (ack && (t->fl & SFO_TF_ISS_KNOWN) &&
	    !(sfo_seq_gt(s->ack, t->iss) && sfo_seq_le(s->ack, t->snd_nxt))) {
		o = sfo_out_new(c);
		if (s->flags & SFO_RST) {
			sfo_set_state(o, SFO_SYN_SENT, SFO_R_SYNSENT_ACK_BAD_RST);
			return;
		}
		sfo_refuse(o, s, SFO_R_SYNSENT_ACK_BAD);
		sfo_set_state(o, SFO_SYN_SENT, SFO_R_SYNSENT_ACK_BAD);
		return;
	}
	/* 3.10.7.3 second: a RST counts only with an acceptable ACK: connection refused */
	if (s->flags & SFO_RST) {
		o = sfo_out_new(c);
		if (!ack) {
			sfo_set_state(o, SFO_SYN_SENT, SFO_R_SYNSENT_RST_NOACK);
			return;
		}
		sfo_tcb_to_closed(&o->next);
		sfo_set_state(o, SFO_CLOSED, SFO_R_SYNSENT_RST);
		return;
	}
	if (s->flags & SFO_SYN) {
		if (ack) {
			synsent_synack(c);
			return;
		}
		/* 3.10.7.3 fourth, 3.5 MUST-10: a bare SYN is a simultaneous open */
		o = sfo_out_new(c);
		sfo_peer_syn(c, &o->next, s);
		sfo_set_state(o, SFO_SYN_RECEIVED, SFO_R_SYNSENT_SYN_SIMOPEN);
		sfo_pat_synack(c, o, SFO_R_SYNSENT_SYN_SIMOPEN, 1);
		simopen_queue(o, s);
		return;
	}
	/* 3.10.7.3 fifth: neither SYN nor RST: drop */
	sfo_set_state(sfo_out_new(c), SFO_SYN_SENT, SFO_R_SYNSENT_OTHER);
}

/* ---- the ordered checks of 3.10.7.4 ---- */

static void challenge(struct sfo_ctx *c, struct sfo_outcome *o, sfo_rule_t r)
{
	sfo_pat_ack(c, o, r, 1);
	sfo_set_state(o, o->next.state, r);
}

/* A valid RST: what it does depends on the state (second check). */
static void rst_reset(struct sfo_ctx *c, struct sfo_outcome *o, sfo_rule_t why)
{
	struct sfo_tcb *n = &o->next;
	int exact = why == SFO_R_RST_EXACT;
	sfo_fire(o, why);
	switch (c->t->state) {
	case SFO_SYN_RECEIVED:
		/* 3.10.7.4 second, MUST-11: passive OPEN goes back to LISTEN, active is refused */
		if ((n->fl & SFO_TF_PASSIVE) && !(n->fl & SFO_TF_TW_REOPEN)) {
			sfo_tcb_to_listen(n);
			sfo_set_state(o, SFO_LISTEN, SFO_R_SYNRCVD_RST_PASSIVE);
		} else {
			sfo_tcb_to_closed(n);
			sfo_set_state(o, SFO_CLOSED, SFO_R_SYNRCVD_RST_ACTIVE);
		}
		return;
	case SFO_ESTABLISHED:
	case SFO_FIN_WAIT_1:
	case SFO_FIN_WAIT_2:
	case SFO_CLOSE_WAIT:
		/* 3.10.7.4 second: the connection is reset: CLOSED */
		sfo_tcb_to_closed(n);
		sfo_set_state(o, SFO_CLOSED, exact ? SFO_R_RST_ABORT : why);
		return;
	case SFO_CLOSING:
	case SFO_LAST_ACK:
		/* 3.10.7.4 second: the TCB is deleted: CLOSED */
		sfo_tcb_to_closed(n);
		sfo_set_state(o, SFO_CLOSED, exact ? SFO_R_RST_CLOSE : why);
		return;
	case SFO_TIME_WAIT:
		/* 3.10.7.4 second: TIME-WAIT too enters CLOSED; RFC 9293 does not adopt RFC
		 * 1337, so ignoring the RST is a profile's choice (SFO_PF_RFC1337) */
		sfo_tcb_to_closed(n);
		sfo_set_state(o, SFO_CLOSED, SFO_R_TIMEWAIT_RST);
		if (c->p->flags & SFO_PF_RFC1337)
			sfo_set_state(sfo_out_new(c), SFO_TIME_WAIT, SFO_R_TIMEWAIT_RST_RFC1337);
		return;
	case SFO_CLOSED:
	case SFO_LISTEN:
	case SFO_SYN_SENT:
		return;
	}
}

static void check_rst(struct sfo_ctx *c, struct sfo_outcome *o, const struct sfo_seg *s)
{
	uint32_t pf = c->p->flags;
	/* 3.10.7.4 second (RFC 5961 case 2): a RST exactly at RCV.NXT resets */
	if (s->seq == c->t->rcv_nxt) {
		rst_reset(c, o, SFO_R_RST_EXACT);
		return;
	}
	/* 3.10.7.4 second (RFC 5961 case 3): elsewhere in the window: challenge ACK */
	if (pf & SFO_PF_RFC5961) {
		challenge(c, o, SFO_R_RST_INWIN_CHALLENGE);
		return;
	}
	/* 3.10.7.4 second, base processing: any RST in the window resets */
	rst_reset(c, o, SFO_R_RST_INWIN_RESET);
	if (pf & SFO_PF_RFC5961_OK)
		challenge(c, sfo_out_new(c), SFO_R_RST_INWIN_CHALLENGE);
}

static void check_syn(struct sfo_ctx *c, struct sfo_outcome *o, const struct sfo_seg *s)
{
	const struct sfo_tcb *t = c->t;
	uint32_t pf = c->p->flags;
	/* 3.10.7.4 fourth, MUST-11: SYN-RECEIVED of a passive OPEN returns to LISTEN; a RST
	 * back (the RFC 793 answer to an in-window SYN) is tolerated */
	if (t->state == SFO_SYN_RECEIVED && (t->fl & SFO_TF_PASSIVE) &&
	    !(t->fl & SFO_TF_TW_REOPEN)) {
		sfo_tcb_to_listen(&o->next);
		sfo_set_state(o, SFO_LISTEN, SFO_R_SYNRCVD_SYN_PASSIVE);
		struct sfo_pattern *p =
		    sfo_pat(o, SFO_R_SYNRCVD_SYN_PASSIVE, SFO_RST, SFO_SYN | SFO_FIN, 0, 1);
		p->pf = SFO_PAT_SEQ_ANY | SFO_PAT_ACK_ANY;
		return;
	}
	/* 3.10.7.4 fourth (RFC 5961 section 4): challenge ACK whatever the sequence number */
	if (pf & (SFO_PF_RFC5961 | SFO_PF_RFC5961_OK)) {
		challenge(c, o, SFO_R_SYN_CHALLENGE);
		o = NULL;
	}
	if (pf & SFO_PF_RFC5961)
		return;
	/* 3.10.7.4 fourth, RFC 793 behaviour: an in-window SYN is an error: RST, CLOSED */
	if (!o)
		o = sfo_out_new(c);
	struct sfo_pattern *p = sfo_pat(o, SFO_R_SYN_INWIN_RESET, SFO_RST, SFO_SYN | SFO_FIN, 1, 1);
	p->seq_lo = p->seq_hi = (s->flags & SFO_ACK) ? s->ack : t->snd_nxt;
	p->pf = SFO_PAT_EMIT | SFO_PAT_SEQ_ANY | SFO_PAT_ACK_ANY;
	sfo_tcb_to_closed(&o->next);
	sfo_set_state(o, SFO_CLOSED, SFO_R_SYN_INWIN_RESET);
}

/* SYN-RECEIVED: the ACK that completes the handshake (fifth check). */
static int ack_synrcvd(struct sfo_ctx *c, struct sfo_outcome *o, const struct sfo_seg *s)
{
	const struct sfo_tcb *t = c->t;
	struct sfo_tcb *n = &o->next;
	/* 3.10.7.4 fifth: only SND.UNA < SEG.ACK =< SND.NXT will do; else RST SEQ=SEG.ACK */
	if ((t->fl & SFO_TF_ISS_KNOWN) &&
	    !(sfo_seq_gt(s->ack, t->snd_una) && sfo_seq_le(s->ack, t->snd_nxt))) {
		sfo_refuse(o, s, SFO_R_SYNRCVD_ACK_BAD);
		sfo_set_state(o, SFO_SYN_RECEIVED, SFO_R_SYNRCVD_ACK_BAD);
		return 0;
	}
	if (!(t->fl & SFO_TF_ISS_KNOWN)) {
		sfo_learn_iss(n, s->ack - 1); /* our SYN,ACK went unseen: trust the peer */
		n->snd_nxt = sfo_seq_max(n->snd_nxt, s->ack);
	}
	n->snd_una = s->ack;
	n->snd_wnd = (uint32_t)s->wnd << ((n->fl & SFO_TF_WSCALE) ? n->snd_wscale : 0);
	if (!n->snd_wnd)
		n->wnd_zero_ms = n->now_ms;
	n->snd_wl1 = s->seq;
	n->snd_wl2 = s->ack;
	if (n->snd_wnd > n->max_snd_wnd)
		n->max_snd_wnd = n->snd_wnd;
	sfo_ack_sample(n, s->ack);
	n->rtx_count = 0;
	n->timer_ms = n->unacked_since_ms = n->deliver_since_ms = n->now_ms;
	n->timer_slack_ms = 0;
	n->fl &= ~SFO_TF_TW_REOPEN;
	/* 3.10.4: a CLOSE that waited for ESTABLISHED now sends its FIN */
	if (n->fl & SFO_TF_CLOSE_CALLED)
		sfo_set_state(o, SFO_FIN_WAIT_1, SFO_R_SYNRCVD_ACK_CLOSE);
	else
		sfo_set_state(o, SFO_ESTABLISHED, SFO_R_SYNRCVD_ACK);
	simopen_unqueue(c, o, s);
	return 1;
}

/* Fifth check, common part: SND.UNA and the send window. */
static void ack_advance(struct sfo_outcome *o, const struct sfo_seg *s)
{
	struct sfo_tcb *n = &o->next;
	uint32_t una0 = n->snd_una;
	if (sfo_seq_gt(s->ack, n->snd_una)) {
		/* 3.10.7.4 fifth: a new ACK advances SND.UNA and restarts the timer */
		n->snd_una = s->ack;
		sfo_ack_sample(n, s->ack);
		n->rtx_count = 0;
		n->timer_ms = n->unacked_since_ms = n->deliver_since_ms = n->now_ms;
		n->timer_slack_ms = 0;
		if ((n->fl & SFO_TF_FIN_SENT) && sfo_seq_gt(n->snd_una, n->snd_fin))
			n->fl |= SFO_TF_FIN_ACKED;
		sfo_set_state(o, n->state, SFO_R_ACK_NEW);
	} else {
		/* 3.10.7.4 fifth: a duplicate ACK is ignored */
		sfo_set_state(o, n->state, SFO_R_ACK_DUP);
	}
	/* 3.10.7.4 fifth: the window follows the freshest segment (SND.WL1, SND.WL2) */
	if (sfo_seq_le(una0, s->ack) &&
	    (sfo_seq_lt(n->snd_wl1, s->seq) ||
	     (n->snd_wl1 == s->seq && sfo_seq_le(n->snd_wl2, s->ack)))) {
		uint32_t was = n->snd_wnd;
		n->snd_wnd = (uint32_t)s->wnd << ((n->fl & SFO_TF_WSCALE) ? n->snd_wscale : 0);
		if (!n->snd_wnd && was)
			n->wnd_zero_ms = n->now_ms;
		n->snd_wl1 = s->seq;
		n->snd_wl2 = s->ack;
		if (n->snd_wnd > n->max_snd_wnd)
			n->max_snd_wnd = n->snd_wnd;
	}
	/* 3.8.6.1 MUST-37: an acceptable ACK against a zero window answers the probes; as
	 * long as they are answered the connection must stay open, so the user timeout
	 * starts over */
	if (!n->snd_wnd)
		n->deliver_since_ms = n->now_ms;
}

/* Fifth check, per state, once SND.UNA moved. Returns 0 when processing stops. */
static int ack_per_state(struct sfo_ctx *c, struct sfo_outcome *o, const struct sfo_seg *s)
{
	struct sfo_tcb *n = &o->next;
	int fin_acked = !!(n->fl & SFO_TF_FIN_ACKED);
	switch (n->state) {
	case SFO_FIN_WAIT_1:
		/* 3.10.7.4 fifth: our FIN is ACKed: FIN-WAIT-2 */
		if (fin_acked) {
			sfo_set_state(o, SFO_FIN_WAIT_2, SFO_R_FINWAIT1_ACK_FIN);
			n->timer_ms = n->now_ms;
		}
		return 1;
	case SFO_CLOSING:
		/* 3.10.7.4 fifth: our FIN is ACKed: TIME-WAIT */
		if (fin_acked) {
			sfo_set_state(o, SFO_TIME_WAIT, SFO_R_CLOSING_ACK_FIN);
			n->timer_ms = n->timer2_ms = n->now_ms;
		}
		return 1;
	case SFO_LAST_ACK:
		/* 3.10.7.4 fifth: our FIN is ACKed: delete the TCB */
		if (fin_acked) {
			sfo_tcb_to_closed(n);
			sfo_set_state(o, SFO_CLOSED, SFO_R_LASTACK_ACK_FIN);
			return 0;
		}
		return 1;
	case SFO_TIME_WAIT:
		/* 3.10.7.4 fifth: only the peer's FIN should come; anything else may be ACKed */
		if (!(s->flags & SFO_FIN) || s->seq + s->len != n->rcv_nxt) {
			struct sfo_pattern *p = sfo_pat_ack(c, o, SFO_R_TIMEWAIT_ACK, 0);
			p->pf &= (uint8_t)~SFO_PAT_EMIT;
			sfo_set_state(o, SFO_TIME_WAIT, SFO_R_TIMEWAIT_ACK);
		}
		return 1;
	case SFO_ESTABLISHED:
	case SFO_FIN_WAIT_2:
	case SFO_CLOSE_WAIT:
	case SFO_CLOSED:
	case SFO_LISTEN:
	case SFO_SYN_SENT:
	case SFO_SYN_RECEIVED:
		break;
	}
	return 1;
}

static void check_text_fin(struct sfo_ctx *c, struct sfo_outcome *o, const struct sfo_seg *s);

static int check_ack(struct sfo_ctx *c, struct sfo_outcome *o, const struct sfo_seg *s)
{
	const struct sfo_tcb *t = c->t;
	uint32_t pf = c->p->flags;
	if (t->state == SFO_SYN_RECEIVED)
		return ack_synrcvd(c, o, s);
	/* 3.10.7.4 fifth: an ACK of something never sent: ACK back and drop (TIME-WAIT
	 * stacks commonly stay silent) */
	if (sfo_seq_gt(s->ack, t->snd_nxt)) {
		/* near 2^31 away a SEG.ACK can be both "=< SND.UNA" and "> SND.NXT" in
		 * modular arithmetic (exactly 2^31 is undefined, RFC 1982 3.2); the fifth
		 * check tests the duplicate first ("it can be ignored"), so a stack may as
		 * well take it as an old ACK and go on with the segment */
		if (sfo_seq_le(s->ack, t->snd_una) && !(pf & SFO_PF_RFC5961)) {
			struct sfo_outcome *d = sfo_out_fork(c, o);
			ack_advance(d, s);
			sfo_fire(d, SFO_R_ACK_DUP);
			if (ack_per_state(c, d, s))
				check_text_fin(c, d, s);
		}
		sfo_pat_ack(c, o, SFO_R_ACK_FUTURE, t->state != SFO_TIME_WAIT);
		sfo_set_state(o, t->state, SFO_R_ACK_FUTURE);
		return 0;
	}
	/* 3.10.7.4 fifth, RFC 5961 section 5 (MAY-12): ACK below SND.UNA-MAX.SND.WND */
	if ((pf & (SFO_PF_RFC5961 | SFO_PF_RFC5961_OK)) &&
	    sfo_seq_lt(s->ack, t->snd_una - t->max_snd_wnd)) {
		struct sfo_outcome *d = (pf & SFO_PF_RFC5961) ? o : sfo_out_new(c);
		challenge(c, d, SFO_R_ACK_5961_OLD);
		if (pf & SFO_PF_RFC5961)
			return 0;
	}
	/* profile: SEG.ACK at or below ISS acknowledges octets never sent, the mirror image of
	 * an ACK beyond SND.NXT: challenge ACK, drop (linux: tcp_ack(), "do not accept ACK
	 * for bytes we never sent") */
	if ((pf & SFO_PF_ACK_BELOW_ISS) && (t->fl & SFO_TF_ISS_KNOWN) &&
	    sfo_seq_lt(s->ack, t->snd_una) && sfo_seq_lt(s->ack, t->iss + 1))
		challenge(c, sfo_out_new(c), SFO_R_ACK_BELOW_ISS);
	ack_advance(o, s);
	return ack_per_state(c, o, s);
}

/* Seventh check, in-order text in ESTABLISHED or FIN-WAIT: take it, owe an ACK. */
static void accept_text(struct sfo_ctx *c, struct sfo_outcome *o, uint32_t len)
{
	struct sfo_tcb *n = &o->next;
	n->rcv_nxt += len;
	n->rcv_queued += len;
	n->rcv_wnd = n->rcv_wnd > len ? n->rcv_wnd - len : 0;
	if (c->stack)
		n->rcv_wnd = c->cfg->rcv_wnd > n->rcv_queued ? c->cfg->rcv_wnd - n->rcv_queued : 0;
	sfo_owe_ack(c, o);
	sfo_set_state(o, n->state, SFO_R_DATA_ACCEPT);
}

/* SHLD-3: new data after close(): a RST shows it was lost. */
static void rst_after_close(struct sfo_ctx *c, struct sfo_outcome *from, const struct sfo_seg *s,
			    sfo_rule_t r)
{
	struct sfo_outcome *o = sfo_out_fork(c, from);
	struct sfo_tcb *n = &o->next;
	struct sfo_pattern *p = sfo_pat(o, r, SFO_RST, SFO_SYN | SFO_FIN, 1, 1);
	p->seq_lo = sfo_seq_min(s->ack, n->snd_una);
	p->seq_hi = n->snd_nxt;
	p->pf = SFO_PAT_EMIT | SFO_PAT_ACK_ANY;
	if (c->stack)
		p->seq_lo = n->snd_nxt;
	if (!(n->fl & SFO_TF_ISS_KNOWN))
		p->pf |= SFO_PAT_SEQ_ANY;
	sfo_tcb_to_closed(n);
	sfo_set_state(o, SFO_CLOSED, r);
}

/* In-order text reached held out-of-order data (SHLD-31). Returns the FIN flag to use. */
static int ooo_fill(struct sfo_ctx *c, struct sfo_outcome *o, int fin)
{
	struct sfo_tcb *n = &o->next;
	if (!(n->fl & SFO_TF_OOO) || sfo_seq_lt(n->rcv_nxt, n->ooo_lo))
		return fin;
	if ((n->fl & SFO_TF_OOO_GAP) && sfo_seq_ge(n->rcv_nxt, n->ooo_hi))
		n->fl &= ~(uint32_t)SFO_TF_OOO_GAP; /* the text reached past every hole */
	if (n->fl & SFO_TF_OOO_GAP) {
		/* holes: the target's next ACK tells how far it got (sfo_observe) */
		n->ooo_lo = sfo_seq_max(n->ooo_lo, n->rcv_nxt);
		sfo_fire(o, SFO_R_SEQ_OOO_FILL);
		return fin;
	}
	/* the held segments may have been dropped instead */
	struct sfo_outcome *d = sfo_out_fork(c, o);
	d->next.fl &= ~(uint32_t)SFO_TF_OOO_ALL;
	sfo_set_state(d, d->next.state, SFO_R_SEQ_OOO_FILL_DROPPED);
	if (fin)
		take_fin(c, d);
	/* a held FIN that held data contradicts (the peer sent text past its own FIN):
	 * 3.10.7.4 processes segments "in sequence" but does not say which of two
	 * overlapping copies of a sequence number wins. If the FIN's segment is taken
	 * first, the connection closes there and the text past it is old (first check);
	 * if the text is taken first, the FIN lies below RCV.NXT and is dropped with it. */
	if (fin) {
		/* the filling segment's own FIN at RCV.NXT, with text held past it: taken in
		 * sequence, the FIN closes here (the reference); the held copy may win */
		struct sfo_outcome *h = sfo_out_fork(c, o);
		struct sfo_tcb *hn = &h->next;
		uint32_t all = sfo_seq_fwd(hn->rcv_nxt, hn->ooo_hi);
		int hfin = !!(hn->fl & SFO_TF_OOO_FIN);
		hn->rcv_nxt += all;
		hn->rcv_queued += all;
		hn->rcv_wnd = hn->rcv_wnd > all ? hn->rcv_wnd - all : 0;
		hn->fl &= ~(uint32_t)SFO_TF_OOO_ALL;
		sfo_set_state(h, hn->state, SFO_R_SEQ_OOO_FILL);
		if (hfin)
			take_fin(c, h);
		n->fl &= ~(uint32_t)SFO_TF_OOO_ALL;
		sfo_set_state(o, n->state, SFO_R_SEQ_OOO_FILL);
		return fin;
	}
	if ((n->fl & SFO_TF_OOO_FINX) && sfo_seq_ge(n->ooo_fin, n->rcv_nxt)) {
		struct sfo_outcome *f = sfo_out_fork(c, o);
		struct sfo_tcb *fn = &f->next;
		uint32_t upto = sfo_seq_fwd(fn->rcv_nxt, fn->ooo_fin);
		fn->rcv_nxt += upto;
		fn->rcv_queued += upto;
		fn->rcv_wnd = fn->rcv_wnd > upto ? fn->rcv_wnd - upto : 0;
		fn->fl &= ~(uint32_t)SFO_TF_OOO_ALL;
		sfo_set_state(f, fn->state, SFO_R_SEQ_OOO_FILL);
		take_fin(c, f);
	}
	/* 3.10.7.4 first (SHLD-31): the held data is delivered: RCV.NXT jumps over it */
	uint32_t jump = sfo_seq_fwd(n->rcv_nxt, n->ooo_hi);
	n->rcv_nxt += jump;
	n->rcv_queued += jump;
	n->rcv_wnd = n->rcv_wnd > jump ? n->rcv_wnd - jump : 0;
	fin = !!(n->fl & SFO_TF_OOO_FIN);
	n->fl &= ~(uint32_t)SFO_TF_OOO_ALL;
	sfo_set_state(o, n->state, SFO_R_SEQ_OOO_FILL);
	return fin;
}

/* Seventh and eighth checks on in-order text of len octets and maybe a FIN at its end. */
static void take_text(struct sfo_ctx *c, struct sfo_outcome *o, const struct sfo_seg *s,
		      uint32_t len, int fin)
{
	struct sfo_tcb *n = &o->next;
	struct sfo_pattern *p;
	switch (n->state) {
	case SFO_ESTABLISHED:
	case SFO_FIN_WAIT_1:
	case SFO_FIN_WAIT_2:
		if (!len)
			break;
		if (n->fl & SFO_TF_RD_CLOSED)
			rst_after_close(c, o, s, SFO_R_DATA_AFTER_CLOSE_RST);
		/* 3.10.7.4 seventh: take the text, advance RCV.NXT, owe an ACK */
		accept_text(c, o, len);
		fin = ooo_fill(c, o, fin);
		break;
	case SFO_CLOSE_WAIT:
	case SFO_CLOSING:
	case SFO_LAST_ACK:
	case SFO_TIME_WAIT:
		if (!len)
			break;
		/* 3.10.7.4 seventh: text after the peer's FIN is ignored */
		p = sfo_pat_ack(c, o, SFO_R_DATA_AFTER_FIN, 0);
		p->pf &= (uint8_t)~SFO_PAT_EMIT;
		sfo_set_state(o, n->state, SFO_R_DATA_AFTER_FIN);
		break;
	case SFO_CLOSED:
	case SFO_LISTEN:
	case SFO_SYN_SENT:
	case SFO_SYN_RECEIVED:
		return;
	}
	if (fin)
		take_fin(c, o);
}

/* Eighth check: the peer's FIN at RCV.NXT. */
static void take_fin(struct sfo_ctx *c, struct sfo_outcome *o)
{
	struct sfo_tcb *n = &o->next;
	if ((n->fl & SFO_TF_FIN_RCVD) && n->state == SFO_TIME_WAIT) {
		/* 3.10.7.4 eighth: "send an acknowledgment for the FIN"; TIME-WAIT: remain,
		 * restart the 2MSL timeout. A stack that advanced RCV.NXT over this FIN
		 * acknowledges one more (the model keeps RCV.NXT where it was) */
		struct sfo_pattern *p = sfo_pat_ack(c, o, SFO_R_TIMEWAIT_FIN_ACK, 1);
		if (!c->stack)
			p->ack_hi = n->rcv_nxt + 1;
		n->timer_ms = n->timer2_ms = n->now_ms;
		sfo_set_state(o, SFO_TIME_WAIT, SFO_R_TIMEWAIT_FIN_ACK);
		return;
	}
	if (n->fl & SFO_TF_FIN_RCVD) {
		/* 3.10.7.4 eighth: a FIN past the one we took is bogus: the state holds, an ACK
		 * may go out (TIME-WAIT's own re-ACK of a resent FIN is timewait_first()). The
		 * step's common text ("advance RCV.NXT over the FIN, and send an acknowledgment
		 * for the FIN") precedes its per-state list, so a stack may also take this FIN
		 * as it took the first: RCV.NXT one further, and its ACK. */
		struct sfo_outcome *d = c->stack ? NULL : sfo_out_fork(c, o);
		struct sfo_pattern *p = sfo_pat_ack(c, o, SFO_R_FIN_AGAIN, 0);
		p->pf &= (uint8_t)~SFO_PAT_EMIT;
		sfo_set_state(o, n->state, SFO_R_FIN_AGAIN);
		if (d) {
			d->next.rcv_nxt += 1;
			d->next.rcv_wnd = d->next.rcv_wnd ? d->next.rcv_wnd - 1 : 0;
			sfo_pat_ack(c, d, SFO_R_FIN_AGAIN, 1);
			sfo_set_state(d, d->next.state, SFO_R_FIN_AGAIN);
		}
		return;
	}
	n->rcv_nxt += 1;
	n->rcv_wnd = n->rcv_wnd ? n->rcv_wnd - 1 : 0;
	n->fl |= SFO_TF_FIN_RCVD;
	n->fl &= ~(uint32_t)SFO_TF_OOO_ALL;
	sfo_owe_ack(c, o);
	switch (n->state) {
	case SFO_SYN_RECEIVED:
	case SFO_ESTABLISHED:
		/* 3.10.7.4 eighth: ESTABLISHED goes to CLOSE-WAIT */
		sfo_set_state(o, SFO_CLOSE_WAIT, SFO_R_FIN_ESTABLISHED);
		return;
	case SFO_FIN_WAIT_1:
		/* 3.10.7.4 eighth: TIME-WAIT if our FIN is ACKed, else CLOSING */
		if (n->fl & SFO_TF_FIN_ACKED) {
			sfo_set_state(o, SFO_TIME_WAIT, SFO_R_FIN_FINWAIT1_ACKED);
			n->timer_ms = n->timer2_ms = n->now_ms;
		} else {
			sfo_set_state(o, SFO_CLOSING, SFO_R_FIN_FINWAIT1);
		}
		return;
	case SFO_FIN_WAIT_2:
		/* 3.10.7.4 eighth: FIN-WAIT-2 goes to TIME-WAIT and starts the 2MSL timer (from
		 * FIN-WAIT-1 when this very segment ACKed our FIN) */
		sfo_set_state(o, SFO_TIME_WAIT,
			      c->t->state == SFO_FIN_WAIT_1 ? SFO_R_FIN_FINWAIT1_ACKED
							    : SFO_R_FIN_FINWAIT2);
		n->timer_ms = n->timer2_ms = n->now_ms;
		return;
	case SFO_CLOSE_WAIT:
	case SFO_CLOSING:
	case SFO_LAST_ACK:
	case SFO_TIME_WAIT:
	case SFO_CLOSED:
	case SFO_LISTEN:
	case SFO_SYN_SENT:
		return;
	}
}

static void hold_finx(struct sfo_tcb *n, uint32_t fin_at)
{
	if (!(n->fl & SFO_TF_OOO_FINX) || sfo_seq_lt(fin_at, n->ooo_fin))
		n->ooo_fin = fin_at;
	n->fl |= SFO_TF_OOO_FINX;
}

/* First check (SHLD-31): in-window text beyond RCV.NXT is held for later and may be ACKed
 * at once (MAY-13); the model remembers the span so a later fill can jump over it. */
static void hold_ooo(struct sfo_ctx *c, struct sfo_outcome *o, const struct sfo_seg *s,
		     uint32_t seq, uint32_t len, int fin)
{
	struct sfo_tcb *n = &o->next;
	if (n->state != SFO_ESTABLISHED && n->state != SFO_FIN_WAIT_1 && n->state != SFO_FIN_WAIT_2)
		return;
	/* 3.6.1 MAY-1, SHLD-3: after close() what lies beyond the gap can never reach the
	 * application (nor can the gap): a RST may show that data was lost */
	if (n->fl & SFO_TF_RD_CLOSED)
		rst_after_close(c, o, s, SFO_R_DATA_AFTER_CLOSE_OOO_RST);
	uint32_t wend = n->rcv_nxt + n->rcv_wnd;
	if (sfo_seq_gt(seq + len + (uint32_t)fin, wend)) {
		len = sfo_seq_fwd(seq, wend);
		fin = 0;
	}
	uint32_t end = seq + len, hi0 = n->ooo_hi;
	int held = !!(n->fl & SFO_TF_OOO);
	if (!held) {
		n->ooo_lo = seq;
		n->ooo_hi = end;
		n->fl |= SFO_TF_OOO;
	} else {
		if (sfo_seq_gt(seq, n->ooo_hi) || sfo_seq_lt(end, n->ooo_lo))
			n->fl |= SFO_TF_OOO_GAP;
		n->ooo_lo = sfo_seq_min(n->ooo_lo, seq);
		n->ooo_hi = sfo_seq_max(n->ooo_hi, end);
	}
	/* text held past a held FIN, or a FIN inside held text: the stream contradicts
	 * itself; remember the earliest such FIN (ooo_fill lets either copy win) */
	if (held && (n->fl & SFO_TF_OOO_FIN) && sfo_seq_gt(end, hi0)) {
		n->fl &= ~(uint32_t)SFO_TF_OOO_FIN;
		hold_finx(n, hi0);
	}
	if (fin && end == n->ooo_hi)
		n->fl |= SFO_TF_OOO_FIN;
	else if (fin)
		hold_finx(n, end);
	sfo_pat_ack(c, o, SFO_R_SEQ_OOO_HOLD, 0);
	sfo_set_state(o, n->state, SFO_R_SEQ_OOO_HOLD);
}

/* Seventh and eighth checks: trim to the window, then take text and FIN. */
static void check_text_fin(struct sfo_ctx *c, struct sfo_outcome *o, const struct sfo_seg *s)
{
	struct sfo_tcb *n = &o->next;
	uint32_t seq = s->seq, len = s->len;
	int fin = !!(s->flags & SFO_FIN);
	/* 3.10.7.4 first: only the part at or after RCV.NXT is new */
	uint32_t old = sfo_seq_fwd(seq, n->rcv_nxt);
	if (old) {
		if (old > len) {
			len = 0;
			fin = 0;
		} else {
			len -= old;
		}
		seq = n->rcv_nxt;
	}
	if (!len && !fin)
		return;
	if (sfo_seq_gt(seq, n->rcv_nxt)) {
		hold_ooo(c, o, s, seq, len, fin);
		return;
	}
	/* 3.10.7.4 first: what lies past the window is trimmed off (FIN included) */
	uint32_t tlen = len;
	int tfin = fin;
	if (len + (uint32_t)fin > n->rcv_wnd) {
		tlen = len < n->rcv_wnd ? len : n->rcv_wnd;
		tfin = 0;
	}
	struct sfo_outcome *full = NULL;
	if ((tlen != len || tfin != fin) &&
	    (n->state == SFO_ESTABLISHED || n->state == SFO_FIN_WAIT_1 ||
	     n->state == SFO_FIN_WAIT_2))
		full = sfo_out_fork(c, o);
	take_text(c, o, s, tlen, tfin);
	if (full) {
		sfo_fire(full, SFO_R_DATA_BEYOND_WINDOW);
		take_text(c, full, s, len, fin);
	}
}

/* Checks two to eight on a segment already found acceptable. */
static void checks(struct sfo_ctx *c, struct sfo_outcome *o, const struct sfo_seg *s)
{
	if (s->flags & SFO_RST) {
		check_rst(c, o, s);
		return;
	}
	if (s->flags & SFO_SYN) {
		check_syn(c, o, s);
		return;
	}
	/* 3.10.7.4 fifth: without ACK the segment is dropped */
	if (!(s->flags & SFO_ACK)) {
		sfo_set_state(o, o->next.state, SFO_R_ACK_OFF);
		return;
	}
	if (check_ack(c, o, s))
		check_text_fin(c, o, s);
}

static int has_required_ack(const struct sfo_outcome *o)
{
	for (unsigned i = 0; i < o->npat; i++)
		if (o->pat[i].min && (o->pat[i].flags_set & SFO_ACK) &&
		    !(o->pat[i].flags_set & (SFO_RST | SFO_SYN)))
			return 1;
	return 0;
}

/* First check failed: ACK back (unless RST) and drop. */
static void seq_unacceptable(struct sfo_ctx *c, const struct sfo_seg *s)
{
	const struct sfo_tcb *t = c->t;
	struct sfo_outcome *o = sfo_out_new(c);
	/* 3.10.7.4 first: an unacceptable RST is dropped silently */
	if (s->flags & SFO_RST) {
		sfo_set_state(o, t->state, SFO_R_SEQ_UNACCEPTABLE_RST);
		return;
	}
	/* SYN-RECEIVED: the peer resent its SYN; stacks resend the SYN,ACK */
	if (t->state == SFO_SYN_RECEIVED && (s->flags & SFO_SYN) && s->seq == t->irs) {
		sfo_pat_synack(c, o, SFO_R_SYNRCVD_SYN_DUP, 1);
		sfo_set_state(o, SFO_SYN_RECEIVED, SFO_R_SYNRCVD_SYN_DUP);
		o = sfo_out_new(c);
	}
	/* 3.10.7.4 first: ACK what we expect, drop the segment */
	challenge(c, o, SFO_R_SEQ_UNACCEPTABLE_ACK);
	/* 3.10.7.4 first: with a zero window, ACKs and RSTs at RCV.NXT still count */
	if (t->rcv_wnd == 0 && s->seq == t->rcv_nxt && !(s->flags & SFO_SYN)) {
		struct sfo_seg z = *s;
		z.len = 0;
		z.flags &= (uint8_t)~SFO_FIN;
		o = sfo_out_new(c);
		sfo_fire(o, SFO_R_SEQ_ZEROWND_CTL);
		checks(c, o, &z);
		if (sfo_synchronized(o->next.state) && !has_required_ack(o))
			sfo_pat_ack(c, o, SFO_R_SEQ_ZEROWND_CTL, 1);
	}
}

/* 3.8.6.2.2: a receiver may have room beyond the edge it announced (the application
 * read data, the update is held back); text there may be taken rather than refused.
 * The acceptability test of 3.10.7.4 (Table 6) uses RCV.WND, the window the receiver
 * holds now, not the one it last announced: an empty segment inside that wider window is
 * acceptable too, so it need not be answered (seq.wnd.unannounced). RSTs keep the
 * announced window (their own rules, 3.10.7.4 second) and SYNs are never text. */
static void beyond_announced(struct sfo_ctx *c, const struct sfo_seg *s)
{
	const struct sfo_tcb *t = c->t;
	uint32_t room = t->rcv_buf > t->rcv_queued ? t->rcv_buf - t->rcv_queued : 0;
	int text = s->len || (s->flags & SFO_FIN);
	if ((s->flags & (SFO_RST | SFO_SYN)) || room <= t->rcv_wnd || !sfo_synchronized(t->state))
		return;
	struct sfo_tcb wide = *t;
	wide.rcv_wnd = room;
	if (!sfo_seg_acceptable(&wide, s))
		return;
	struct sfo_outcome *o = sfo_out_new(c);
	o->next.rcv_wnd = room;
	sfo_fire(o, text ? SFO_R_DATA_BEYOND_WINDOW : SFO_R_SEQ_WND_UNANNOUNCED);
	checks(c, o, s);
}

/* 3.6.1 MAY-2: reopen from TIME-WAIT with an ISS above the old SND.NXT. */
static void tw_reopen(struct sfo_ctx *c, const struct sfo_seg *s, sfo_rule_t r)
{
	const struct sfo_tcb *t = c->t;
	struct sfo_outcome *o = sfo_out_new(c);
	struct sfo_tcb *n = &o->next;
	uint32_t old = t->snd_nxt;
	sfo_tcb_to_closed(n);
	n->fl |= SFO_TF_TW_REOPEN;
	sfo_new_iss(c, n, old + 65537u);
	sfo_peer_syn(c, n, s);
	sfo_set_state(o, SFO_SYN_RECEIVED, r);
	struct sfo_pattern *p = sfo_pat_synack(c, o, r, 1);
	if (!c->stack) {
		p->pf &= (uint8_t)~SFO_PAT_SEQ_ANY;
		p->seq_lo = old + 1;
		p->seq_hi = old + 0x7fffffffu;
	}
	/* 3.10.7.2: the listener that takes the new SYN may drop one that carries FIN as
	 * bogus; the old incarnation is gone all the same */
	if (s->flags & SFO_FIN) {
		struct sfo_outcome *d = sfo_out_new(c);
		sfo_tcb_to_closed(&d->next);
		sfo_set_state(d, SFO_CLOSED, SFO_R_LISTEN_SYN_FIN_DROP);
	}
}

/* TIME-WAIT cases that come before the ordered checks. Returns 1 when handled. */
static int timewait_first(struct sfo_ctx *c, const struct sfo_seg *s)
{
	const struct sfo_tcb *t = c->t;
	/* 3.10.7.4 fifth/eighth: the peer resent its FIN: ACK again, restart 2MSL */
	if ((s->flags & (SFO_FIN | SFO_ACK | SFO_RST | SFO_SYN)) == (SFO_FIN | SFO_ACK) &&
	    s->seq + s->len + 1 == t->rcv_nxt) {
		struct sfo_outcome *o = sfo_out_new(c);
		sfo_pat_ack(c, o, SFO_R_TIMEWAIT_FIN_REACK, 1);
		o->next.timer_ms = o->next.timer2_ms = o->next.now_ms;
		sfo_set_state(o, SFO_TIME_WAIT, SFO_R_TIMEWAIT_FIN_REACK);
		return 1;
	}
	/* 3.6.1 MAY-2: a new SYN above RCV.NXT may reopen, with an ISS above the old one */
	if ((c->p->flags & SFO_PF_TW_SYN_REOPEN) &&
	    (s->flags & (SFO_SYN | SFO_ACK | SFO_RST)) == SFO_SYN && sfo_seq_gt(s->seq, t->rcv_nxt))
		tw_reopen(c, s, SFO_R_TIMEWAIT_SYN_REOPEN);
	return 0;
}

/* 3.6.1 MAY-2 where the profile does not ask for it but a listener is open on the port
 * (SFO_CFG_LISTENER): allowed besides the ordered checks, never preferred. The SYN must
 * lie above RCV.NXT, or (RFC 6191 section 2) carry a timestamp where the old incarnation
 * used them: the model keeps no TS.Recent, so any timestamp is given the benefit. */
static void tw_reopen_listener(struct sfo_ctx *c, const struct sfo_seg *s)
{
	const struct sfo_tcb *t = c->t;
	if (t->state != SFO_TIME_WAIT || !c->cfg || !(c->cfg->flags & SFO_CFG_LISTENER) ||
	    (s->flags & (SFO_SYN | SFO_ACK | SFO_RST)) != SFO_SYN)
		return;
	int newer = sfo_seq_gt(s->seq, t->rcv_nxt);
	if ((c->p->flags & SFO_PF_TW_SYN_REOPEN) && newer)
		return; /* timewait_first made it the reference */
	if (newer || ((t->fl & SFO_TF_TS) && (s->opts & SFO_OPT_TS)))
		tw_reopen(c, s, SFO_R_TIMEWAIT_SYN_REOPEN_LISTENER);
}

/* Simultaneous open, SYN-RECEIVED: the peer's SYN,ACK repeats its SYN and ACKs ours. */
static int simopen_synack(struct sfo_ctx *c, const struct sfo_seg *s)
{
	const struct sfo_tcb *t = c->t;
	if (t->state != SFO_SYN_RECEIVED || (t->fl & SFO_TF_PASSIVE) ||
	    (s->flags & (SFO_SYN | SFO_ACK | SFO_RST)) != (SFO_SYN | SFO_ACK) || s->seq != t->irs)
		return 0;
	/* 3.5 Figure 7, MUST-10: the SYN is old news, the ACK completes the handshake */
	struct sfo_seg z = *s;
	z.seq = s->seq + 1;
	z.flags &= (uint8_t)~SFO_SYN;
	unsigned first = c->e->nout;
	struct sfo_outcome *o = sfo_out_new(c);
	sfo_fire(o, SFO_R_SYNSENT_SYN_SIMOPEN);
	checks(c, o, &z);
	/* every reading checks() forked (text queued from the SYN taken or not) */
	for (unsigned i = first; i < c->e->nout; i++) {
		struct sfo_pattern *p = sfo_pat_ack(c, &c->e->out[i], SFO_R_SYNSENT_SYN_SIMOPEN, 0);
		p->pf &= (uint8_t)~SFO_PAT_EMIT;
	}
	/* 3.10.7.4 first, read literally: the SYN lies before RCV.NXT: ACK and drop */
	challenge(c, sfo_out_new(c), SFO_R_SEQ_UNACCEPTABLE_ACK);
	return 1;
}

static void rcv_wup(struct sfo_ctx *c, const struct sfo_seg *s);

/* First and second checks for a RST. Its acceptability is that of SEG.SEQ (3.10.7.4
 * second, RFC 5961 case 1: "the sequence number is outside the current receive window,
 * silently drop"), and a RST at RCV.NXT counts even in a zero window ("special
 * allowance should be made to accept ... RSTs"). Table 6 read with SEG.LEN (a RST that
 * also carries SYN or text) can find the segment acceptable when SEG.SEQ is not: that
 * reading's base processing resets, and a stack that takes RFC 5961's window to be
 * Table 6's may answer with a challenge ACK; the silent drop stays the reference. */
static void seg_rst(struct sfo_ctx *c, const struct sfo_seg *s)
{
	const struct sfo_tcb *t = c->t;
	uint32_t pf = c->p->flags;
	int by_len = sfo_seg_acceptable(t, s);
	if (sfo_rst_seq_ok(t, s)) {
		checks(c, sfo_out_new(c), s);
		if (!by_len) /* zero window, RST with text: Table 6 read strictly drops it */
			sfo_set_state(sfo_out_new(c), t->state, SFO_R_SEQ_UNACCEPTABLE_RST);
		return;
	}
	/* Appendix A.2 under SFO_PF_RCV_WUP: an old RST reaching RCV.WUP is taken */
	rcv_wup(c, s);
	/* 3.10.7.4 first / second (RFC 5961 case 1): outside the window: drop silently */
	sfo_set_state(sfo_out_new(c), t->state, SFO_R_SEQ_UNACCEPTABLE_RST);
	if (!by_len)
		return;
	if (!(pf & SFO_PF_RFC5961))
		rst_reset(c, sfo_out_new(c), SFO_R_RST_INWIN_RESET);
	if (pf & (SFO_PF_RFC5961 | SFO_PF_RFC5961_OK))
		challenge(c, sfo_out_new(c), SFO_R_RST_INWIN_CHALLENGE);
}

/* 3.10.7.4 first: a segment may be tailored to the window "by trimming off any portions
 * that lie outside the window (including SYN and FIN)": a SYN before RCV.NXT is one, and
 * the rest of the segment goes on through the checks. In SYN-RECEIVED the trimmed SYN
 * at IRS is the peer's SYN again, which may be answered by the SYN,ACK (synrcvd.syn.dup). */
static void syn_trimmed(struct sfo_ctx *c, const struct sfo_seg *s)
{
	const struct sfo_tcb *t = c->t;
	if (!(s->flags & SFO_SYN) || (s->flags & SFO_RST) || !sfo_seq_lt(s->seq, t->rcv_nxt))
		return;
	/* RFC 5961 section 4, which the rfc5961 profile requires: a SYN in a synchronized
	 * state draws a challenge ACK "irrespective of the sequence number" */
	if ((c->p->flags & SFO_PF_RFC5961) && sfo_synchronized(t->state))
		return;
	struct sfo_seg z = *s;
	z.seq = s->seq + 1;
	z.flags &= (uint8_t)~SFO_SYN;
	struct sfo_outcome *o = sfo_out_new(c);
	sfo_fire(o, SFO_R_SYN_TRIMMED);
	if (t->state == SFO_SYN_RECEIVED && s->seq == t->irs) {
		struct sfo_pattern *p = sfo_pat_synack(c, o, SFO_R_SYNRCVD_SYN_DUP, 0);
		p->pf &= (uint8_t)~SFO_PAT_EMIT;
	}
	checks(c, o, &z);
}

/* 3.5.2 group 2: in SYN-RECEIVED a segment whose ACK is unacceptable (outside
 * (SND.UNA, SND.NXT], SND.UNA = ISS included, 3.10.7.4 fifth) draws <SEQ=SEG.ACK><CTL=RST>
 * and the connection "remains in the same state"; the group does not wait for the
 * sequence check, so the reset may come whatever SEG.SEQ is. */
static void synrcvd_ack_bad_first(struct sfo_ctx *c, const struct sfo_seg *s)
{
	const struct sfo_tcb *t = c->t;
	if (t->state != SFO_SYN_RECEIVED || (s->flags & (SFO_ACK | SFO_RST)) != SFO_ACK ||
	    !(t->fl & SFO_TF_ISS_KNOWN) ||
	    (sfo_seq_gt(s->ack, t->snd_una) && sfo_seq_le(s->ack, t->snd_nxt)))
		return;
	for (unsigned i = 0; i < c->e->nout; i++)
		if (c->e->out[i].state_rule == SFO_R_SYNRCVD_ACK_BAD)
			return;
	struct sfo_outcome *o = sfo_out_new(c);
	sfo_refuse(o, s, SFO_R_SYNRCVD_ACK_BAD_FIRST);
	sfo_set_state(o, SFO_SYN_RECEIVED, SFO_R_SYNRCVD_ACK_BAD_FIRST);
}

/* Appendix A.2, profile SFO_PF_RCV_WUP (Linux, FreeBSD): the sequence check takes a
 * segment that ends at or after RCV.WUP, the RCV.NXT the target last announced, so an
 * old segment's ACK (a retransmitted FIN now acknowledging ours) is processed. Its text
 * and FIN are old (first check: only new parts are processed); an ACK may go back.
 * A RST or SYN so taken is not at RCV.NXT: a stack with RFC 5961 answers it with the
 * challenge ACK and drops it (3.10.7.4 second check 3), fourth check). The test also
 * holds in SYN-RECEIVED of an active OPEN (simultaneous open: Linux's full socket runs
 * tcp_sequence()); a passive OPEN's SYN-RECEIVED judges by the window alone (Linux's
 * request socket, tcp_in_window()). Called before the first check's own outcome,
 * which stays allowed after it. */
static void rcv_wup(struct sfo_ctx *c, const struct sfo_seg *s)
{
	const struct sfo_tcb *t = c->t;
	uint32_t end = s->seq + sfo_seg_space(s);
	int simopen = t->state == SFO_SYN_RECEIVED && !(t->fl & SFO_TF_PASSIVE);
	if (!(c->p->flags & SFO_PF_RCV_WUP) || !(t->fl & SFO_TF_WUP_KNOWN) ||
	    !(sfo_synchronized(t->state) || simopen) || t->state == SFO_TIME_WAIT ||
	    !sfo_seq_lt(s->seq, t->rcv_nxt) || !sfo_seq_le(t->rcv_wup, t->rcv_nxt) ||
	    !sfo_seq_ge(end, t->rcv_wup))
		return;
	if (s->flags & (SFO_RST | SFO_SYN)) {
		if (!(c->p->flags & (SFO_PF_RFC5961 | SFO_PF_RFC5961_OK)))
			return;
		struct sfo_outcome *o = sfo_out_new(c);
		sfo_fire(o, SFO_R_SEQ_RCV_WUP);
		challenge(c, o,
			  (s->flags & SFO_RST) ? SFO_R_RST_INWIN_CHALLENGE : SFO_R_SYN_CHALLENGE);
		return;
	}
	if (!(s->flags & SFO_ACK))
		return;
	struct sfo_seg z = *s;
	z.len = 0;
	z.flags &= (uint8_t)~SFO_FIN;
	struct sfo_outcome *o = sfo_out_new(c);
	sfo_fire(o, SFO_R_SEQ_RCV_WUP);
	checks(c, o, &z);
	if (sfo_synchronized(o->next.state)) {
		struct sfo_pattern *p = sfo_pat_ack(c, o, SFO_R_SEQ_RCV_WUP, 0);
		p->pf &= (uint8_t)~SFO_PAT_EMIT;
	}
}

static void seg_other(struct sfo_ctx *c)
{
	const struct sfo_tcb *t = c->t;
	const struct sfo_seg *s = seg_of(c);
	if (t->state == SFO_TIME_WAIT && timewait_first(c, s))
		return;
	if (simopen_synack(c, s)) {
		synrcvd_ack_bad_first(c, s);
		return;
	}
	if (s->flags & SFO_RST) {
		seg_rst(c, s);
	} else if (!sfo_seg_acceptable(t, s)) {
		/* under SFO_PF_RCV_WUP the mitigation is what the profile's stack does: its
		 * outcome comes first, so an ACK that fits both commits it */
		rcv_wup(c, s);
		seq_unacceptable(c, s);
		beyond_announced(c, s);
	} else {
		checks(c, sfo_out_new(c), s);
		syn_trimmed(c, s);
	}
	synrcvd_ack_bad_first(c, s);
	/* TIME-WAIT: stacks restart 2MSL on most segments; the RFC only on a FIN */
	if (t->state == SFO_TIME_WAIT && !(s->flags & SFO_RST))
		for (unsigned i = 0; i < c->e->nout; i++)
			if (c->e->out[i].next.state == SFO_TIME_WAIT)
				c->e->out[i].next.timer2_ms = t->now_ms;
	tw_reopen_listener(c, s);
}

/* Text from a simultaneous-open SYN still pending (simopen_unqueue): judge the segment
 * under the reading where the target took that text (RCV.NXT past it, its ACK owed),
 * then under the one where it discarded it (3.10.7.3 fourth: "queue them for processing
 * after the ESTABLISHED state has been reached"; discarding is tolerated). A segment with
 * no text, FIN or SYN (a bare ACK, a RST) may draw no reply and so show nothing (a RST
 * outside the window is dropped silently): it is judged first under the pending TCB
 * itself, which keeps the question open until what the target sends shows RCV.NXT
 * (learn_ack), as sfo_step does for calls and waits. Its outcomes are the discarding
 * reading's with the question left open. */
static void syn_q_both(struct sfo_ctx *c)
{
	const struct sfo_tcb *t0 = c->t;
	const struct sfo_seg *s = seg_of(c);
	struct sfo_tcb tk, td = *t0;
	sfo_syn_q_taken(t0, &tk);
	td.fl &= ~SFO_TF_QP_ALL;
	td.syn_q_len = 0;
	if (!s->len && !(s->flags & (SFO_FIN | SFO_SYN)))
		seg_other(c);
	unsigned k = c->e->nout;
	c->t = &tk;
	seg_other(c);
	for (; k < c->e->nout; k++)
		sfo_fire(&c->e->out[k], sfo_qp_taken_rule(t0));
	c->t = &td;
	seg_other(c);
	for (; k < c->e->nout; k++)
		sfo_fire(&c->e->out[k], sfo_qp_drop_rule(t0));
	c->t = t0;
}

void sfo_seg_arrives(struct sfo_ctx *c)
{
	unsigned first = c->e->nout;
	if (!c->stack && (c->t->fl & SFO_TF_SYN_QP) && sfo_synchronized(c->t->state)) {
		syn_q_both(c);
		sfo_ts_missing_drop(c, first);
		return;
	}
	switch (c->t->state) {
	case SFO_CLOSED:
		seg_closed(c);
		return;
	case SFO_LISTEN:
		seg_listen(c);
		return;
	case SFO_SYN_SENT:
		seg_synsent(c);
		return;
	case SFO_SYN_RECEIVED:
	case SFO_ESTABLISHED:
	case SFO_FIN_WAIT_1:
	case SFO_FIN_WAIT_2:
	case SFO_CLOSE_WAIT:
	case SFO_CLOSING:
	case SFO_LAST_ACK:
	case SFO_TIME_WAIT:
		seg_other(c);
		sfo_ts_missing_drop(c, first);
		return;
	}
	seg_closed(c); /* a state out of range: no TCB */
}
