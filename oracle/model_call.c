/* synfin oracle: user calls (RFC 9293 3.10.1-3.10.5, in socket terms) and the timeouts
 * (3.10.8, 3.8.1, 3.8.6.3): what a wait of the harness lets the target do. */
#include <stdio.h>

#include "model_priv.h"

#define TW_GRACE_MS  1000u    /* timer granularity: TIME-WAIT may end this late */
#define RTO_CAP_MS   120000u  /* the largest backed-off RTO we wait for */
#define KEEPALIVE_MS 7200000u /* MUST-28: keep-alives no sooner than two hours */

static void call_listen(struct sfo_ctx *c)
{
	struct sfo_outcome *o = sfo_out_new(c);
	/* 3.10.1: passive OPEN creates a TCB in LISTEN */
	if (c->t->state == SFO_CLOSED) {
		sfo_tcb_to_listen(&o->next);
		sfo_set_state(o, SFO_LISTEN, SFO_R_CALL_LISTEN);
		return;
	}
	/* 3.10.1: "connection already exists" */
	sfo_set_state(o, c->t->state, SFO_R_CALL_OPEN_ERROR);
}

/* Active OPEN: pick an ISS, send <SEQ=ISS><CTL=SYN>, SYN-SENT. */
static void active_open(struct sfo_ctx *c, struct sfo_outcome *o, sfo_rule_t r)
{
	struct sfo_tcb *n = &o->next;
	sfo_tcb_to_closed(n);
	n->fl &= ~(SFO_TF_PASSIVE | SFO_TF_ACCEPTED);
	sfo_new_iss(c, n, c->stack ? c->cfg->stack_iss : 0);
	sfo_set_state(o, SFO_SYN_SENT, r);
	struct sfo_pattern *p = sfo_pat(o, r, SFO_SYN, SFO_ACK | SFO_FIN | SFO_RST, 1, 1);
	p->seq_lo = p->seq_hi = n->iss;
	p->pf = SFO_PAT_EMIT | SFO_PAT_ACK_ANY;
	if (!(n->fl & SFO_TF_ISS_KNOWN))
		p->pf |= SFO_PAT_SEQ_ANY;
}

static void call_connect(struct sfo_ctx *c)
{
	switch (c->t->state) {
	case SFO_CLOSED:
		/* 3.10.1: active OPEN */
		active_open(c, sfo_out_new(c), SFO_R_CALL_CONNECT);
		return;
	case SFO_LISTEN:
		/* 3.10.1: sockets refuse connect() on a listener; the RFC turns it active */
		sfo_set_state(sfo_out_new(c), SFO_LISTEN, SFO_R_CALL_CONNECT_LISTEN);
		active_open(c, sfo_out_new(c), SFO_R_CALL_CONNECT_LISTEN);
		return;
	case SFO_SYN_SENT:
	case SFO_SYN_RECEIVED:
	case SFO_ESTABLISHED:
	case SFO_FIN_WAIT_1:
	case SFO_FIN_WAIT_2:
	case SFO_CLOSE_WAIT:
	case SFO_CLOSING:
	case SFO_LAST_ACK:
	case SFO_TIME_WAIT:
		/* 3.10.1: "connection already exists" */
		sfo_set_state(sfo_out_new(c), c->t->state, SFO_R_CALL_OPEN_ERROR);
		return;
	}
}

/* The user submits `space` more sequence numbers (data, or 1 for the FIN). When nothing
 * was waiting for delivery before, the user timeout starts counting now (3.9.1.1: "If
 * data is not successfully delivered to the destination within the timeout period, the
 * TCP endpoint will abort the connection"). */
static void submit(struct sfo_tcb *n, uint32_t space)
{
	if (space && n->snd_una == n->snd_queued)
		n->deliver_since_ms = n->now_ms;
	n->snd_queued += space;
}

static void call_send(struct sfo_ctx *c, uint32_t arg)
{
	struct sfo_outcome *o = sfo_out_new(c);
	struct sfo_tcb *n = &o->next;
	int open = !(n->fl & SFO_TF_CLOSE_CALLED);
	switch (n->state) {
	case SFO_SYN_SENT:
	case SFO_SYN_RECEIVED:
		/* 3.10.2: queued until ESTABLISHED */
		if (open) {
			submit(n, arg);
			/* 3.7.1 MUST-15: before the peer's SYN the send MSS is the default */
			if (arg && !(n->fl & SFO_TF_IRS_KNOWN)) {
				n->fl |= SFO_TF_CUT_EARLY;
				n->early_end = n->snd_queued;
			}
			sfo_set_state(o, n->state, SFO_R_CALL_SEND_QUEUE);
			return;
		}
		break;
	case SFO_ESTABLISHED:
	case SFO_CLOSE_WAIT:
		/* 3.10.2: queued and sent as the window allows (sfo_finish adds it) */
		if (open) {
			submit(n, arg);
			sfo_set_state(o, n->state, SFO_R_CALL_SEND);
			return;
		}
		break;
	case SFO_CLOSED:
	case SFO_LISTEN:
	case SFO_FIN_WAIT_1:
	case SFO_FIN_WAIT_2:
	case SFO_CLOSING:
	case SFO_LAST_ACK:
	case SFO_TIME_WAIT:
		break;
	}
	/* 3.10.2: "connection does not exist" / "connection closing" */
	sfo_set_state(o, n->state, SFO_R_CALL_SEND_ERROR);
}

static void call_receive(struct sfo_ctx *c, uint32_t arg)
{
	struct sfo_outcome *o = sfo_out_new(c);
	struct sfo_tcb *n = &o->next;
	uint32_t take = arg && arg < n->rcv_queued ? arg : n->rcv_queued;
	/* 3.10.3: the user takes queued text; the freed space may be advertised */
	sfo_set_state(o, n->state, SFO_R_CALL_RECEIVE);
	if (!take)
		return;
	n->rcv_queued -= take;
	if (!sfo_synchronized(n->state) || (n->fl & SFO_TF_FIN_RCVD))
		return;
	uint32_t buf = c->stack ? c->cfg->rcv_wnd : 0;
	uint32_t wnd = buf > n->rcv_queued ? buf - n->rcv_queued : 0;
	uint32_t mss = n->mss ? n->mss : sfo_default_mss(n);
	struct sfo_pattern *p = sfo_pat_ack(c, o, SFO_R_CALL_RECEIVE, 0);
	/* stack mode: 3.8.6.2.2, the right edge moves (and is announced) only once it can
	 * move by min(buffer/2, MSS) */
	if (!c->stack || wnd < n->rcv_wnd || wnd - n->rcv_wnd < (buf / 2 < mss ? buf / 2 : mss))
		p->pf &= (uint8_t)~SFO_PAT_EMIT;
	else
		n->rcv_wnd = wnd;
}

/* RST instead of FIN when close() leaves unread data behind (MAY-1, SHLD-3). */
static void close_unread_rst(struct sfo_ctx *c)
{
	struct sfo_outcome *o = sfo_out_new(c);
	sfo_pat_rst(c, o, SFO_R_CALL_CLOSE_UNREAD_RST);
	sfo_tcb_to_closed(&o->next);
	o->next.fl |= SFO_TF_ACCEPTED;
	sfo_set_state(o, SFO_CLOSED, SFO_R_CALL_CLOSE_UNREAD_RST);
}

/* CLOSE of the send side: the FIN is queued behind the data (3.10.4). */
static void queue_fin(struct sfo_tcb *n)
{
	if (n->fl & SFO_TF_CLOSE_CALLED)
		return;
	n->fl |= SFO_TF_CLOSE_CALLED;
	n->snd_fin = n->snd_queued;
	submit(n, 1);
}

static void call_close(struct sfo_ctx *c, int rd)
{
	struct sfo_outcome *o = sfo_out_new(c);
	struct sfo_tcb *n = &o->next;
	enum sfo_state st = n->state;
	if (rd)
		n->fl |= SFO_TF_RD_CLOSED;
	switch (st) {
	case SFO_CLOSED:
		/* 3.10.4: "connection does not exist" */
		sfo_set_state(o, st, SFO_R_CALL_CLOSE_ERROR);
		return;
	case SFO_LISTEN:
		/* 3.10.4: closing a listener deletes it; shutdown(SHUT_WR) may leave it be */
		sfo_tcb_to_closed(n);
		n->fl &= ~SFO_TF_PASSIVE;
		sfo_set_state(o, SFO_CLOSED, SFO_R_CALL_CLOSE_LISTEN);
		if (!rd)
			sfo_set_state(sfo_out_new(c), SFO_LISTEN, SFO_R_CALL_SHUTDOWN_LISTEN);
		return;
	case SFO_SYN_SENT:
		/* 3.10.4: the TCB is deleted, nothing is sent */
		sfo_tcb_to_closed(n);
		sfo_set_state(o, SFO_CLOSED, SFO_R_CALL_CLOSE_SYNSENT);
		return;
	case SFO_SYN_RECEIVED:
		/* 3.10.4: FIN now and FIN-WAIT-1 if nothing is queued, else after ESTABLISHED */
		queue_fin(n);
		sfo_set_state(o, n->snd_fin == n->iss + 1 ? SFO_FIN_WAIT_1 : SFO_SYN_RECEIVED,
			      SFO_R_CALL_CLOSE_SYNRCVD);
		break;
	case SFO_ESTABLISHED:
		/* 3.10.4: FIN-WAIT-1, the FIN follows the queued data */
		queue_fin(n);
		sfo_set_state(o, SFO_FIN_WAIT_1, SFO_R_CALL_CLOSE_ESTABLISHED);
		break;
	case SFO_CLOSE_WAIT:
		/* 3.10.4: LAST-ACK, the FIN follows the queued data */
		queue_fin(n);
		sfo_set_state(o, SFO_LAST_ACK, SFO_R_CALL_CLOSE_CLOSEWAIT);
		break;
	case SFO_FIN_WAIT_2:
		if (rd && !(c->t->fl & SFO_TF_RD_CLOSED))
			n->timer_ms = n->now_ms; /* orphaned from now on */
						 /* fall through */
	case SFO_FIN_WAIT_1:
	case SFO_CLOSING:
	case SFO_LAST_ACK:
	case SFO_TIME_WAIT:
		/* 3.10.4: already closing: no second FIN */
		sfo_set_state(o, st, SFO_R_CALL_CLOSE_AGAIN);
		break;
	}
	/* 3.6.1 SHLD-3: "If such a host issues a CLOSE call while received data is still
	 * pending in the TCP connection, ... its TCP implementation SHOULD send a RST to
	 * show that data was lost": close() with unread data may reset instead. The
	 * sentence names no state: after shutdown(SHUT_WR) the read side stays open in
	 * CLOSING and LAST-ACK, and close() there with data unread may reset too.
	 * TIME-WAIT is left out: nothing remains to be lost there. */
	if (rd && n->rcv_queued && st != SFO_TIME_WAIT)
		close_unread_rst(c);
}

static void call_abort(struct sfo_ctx *c)
{
	struct sfo_outcome *o = sfo_out_new(c);
	struct sfo_tcb *n = &o->next;
	switch (n->state) {
	case SFO_CLOSED:
		/* 3.10.5: "connection does not exist" */
		sfo_set_state(o, n->state, SFO_R_CALL_ABORT_ERROR);
		return;
	case SFO_SYN_RECEIVED:
	case SFO_ESTABLISHED:
	case SFO_FIN_WAIT_1:
	case SFO_FIN_WAIT_2:
	case SFO_CLOSE_WAIT:
		/* 3.10.5: <SEQ=SND.NXT><CTL=RST>, queues flushed, CLOSED */
		sfo_pat_rst(c, o, SFO_R_CALL_ABORT_RST);
		sfo_tcb_to_closed(n);
		sfo_set_state(o, SFO_CLOSED, SFO_R_CALL_ABORT_RST);
		return;
	case SFO_LISTEN:
		n->fl &= ~SFO_TF_PASSIVE;
		/* fall through */
	case SFO_SYN_SENT:
	case SFO_CLOSING:
	case SFO_LAST_ACK:
	case SFO_TIME_WAIT:
		/* 3.10.5: delete the TCB without a word */
		sfo_tcb_to_closed(n);
		sfo_set_state(o, SFO_CLOSED, SFO_R_CALL_ABORT_QUIET);
		break;
	}
	/* 3.10.4 CLOSE-WAIT: "Queue this request until all preceding SENDs have been
	 * segmentized; then send a FIN segment, enter LAST-ACK state." In LAST-ACK with our
	 * FIN not sent yet the connection is, in the RFC's terms, still in CLOSE-WAIT, where
	 * 3.10.5 says "Send a reset segment: <SEQ=SND.NXT><CTL=RST>". The quiet delete above
	 * stays allowed (the model's LAST-ACK). */
	if (c->t->state == SFO_LAST_ACK && !(c->t->fl & SFO_TF_FIN_SENT)) {
		o = sfo_out_new(c);
		sfo_pat_rst(c, o, SFO_R_CALL_ABORT_RST);
		sfo_tcb_to_closed(&o->next);
		sfo_set_state(o, SFO_CLOSED, SFO_R_CALL_ABORT_RST);
	}
}

void sfo_user_call(struct sfo_ctx *c)
{
	enum sfo_call call = c->ev->u.call.call;
	uint32_t arg = c->ev->u.call.arg;
	struct sfo_outcome *o;
	switch (call) {
	case SFO_CALL_LISTEN:
		call_listen(c);
		break;
	case SFO_CALL_CONNECT:
		call_connect(c);
		break;
	case SFO_CALL_ACCEPT:
		/* accept() hands over the connection: no TCP effect */
		o = sfo_out_new(c);
		sfo_set_state(o, o->next.state, SFO_R_CALL_ACCEPT);
		break;
	case SFO_CALL_SEND:
		call_send(c, arg);
		break;
	case SFO_CALL_RECEIVE:
		call_receive(c, arg);
		break;
	case SFO_CALL_SHUTDOWN:
		call_close(c, 0);
		break;
	case SFO_CALL_CLOSE:
		call_close(c, 1);
		break;
	case SFO_CALL_ABORT:
		call_abort(c);
		break;
	}
	/* The harness accepts a passive connection when a call needs it, then closes the
	 * listener: from then on the case has this one TCB. */
	if (call != SFO_CALL_LISTEN && call != SFO_CALL_CONNECT && sfo_synchronized(c->t->state))
		for (unsigned i = 0; i < c->e->nout; i++)
			c->e->out[i].next.fl |= SFO_TF_ACCEPTED;
}

/* ---- timeouts ---- */

/* 3.8.1: retransmissions of whatever is unacknowledged. A first one from SND.UNA is
 * required once the backed-off RTO bound has passed; more are allowed. */
static void wait_rtx(struct sfo_ctx *c, struct sfo_outcome *o)
{
	struct sfo_tcb *n = &o->next;
	uint64_t elapsed = n->now_ms - n->timer_ms;
	/* the timer may have restarted up to timer_slack_ms before timer_ms (inside a wait):
	 * a retransmission is allowed from the earliest start, required from the latest */
	uint64_t elapsed_lo = elapsed + n->timer_slack_ms;
	uint32_t dend = (n->fl & SFO_TF_CLOSE_CALLED) ? n->snd_fin : n->snd_queued;
	int syn = n->snd_una == n->iss && sfo_seq_gt(n->snd_nxt, n->iss);
	uint32_t una = syn ? n->iss + 1 : n->snd_una;
	uint32_t sent = sfo_seq_min(n->snd_nxt, dend);
	int data = sfo_seq_lt(una, sent);
	int fin = (n->fl & SFO_TF_FIN_SENT) && !(n->fl & SFO_TF_FIN_ACKED);
	if ((!syn && !data && !fin) || elapsed_lo < c->p->rto_min_ms)
		return;
	/* RFC 6298 2: RTO = SRTT + 4 RTTVAR, at most 5 times the largest RTT sample; 5.5 and
	 * 5.7: doubled per timeout, and kept doubled until a Karn-valid sample */
	unsigned shift = n->rtx_count > n->rto_backoff ? n->rtx_count : n->rto_backoff;
	if (shift > 6)
		shift = 6;
	uint64_t bound = ((uint64_t)c->p->rto_must_ms + 5 * (uint64_t)n->rtt_max_ms) << shift;
	/* a zero send window turns retransmission into probing (3.8.6.1): allowed, not due */
	int must = elapsed >= (bound < RTO_CAP_MS ? bound : RTO_CAP_MS) && (syn || n->snd_wnd != 0);
	uint32_t mss = n->mss ? n->mss : sfo_default_mss(n);
	uint8_t times = sfo_wait_copies(c);
	sfo_rule_t r = must ? SFO_R_RTX_REQUIRED : SFO_R_RTX_ALLOWED;
	struct sfo_pattern *p;
	sfo_fire(o, r);
	if (syn) {
		int synack = (n->fl & SFO_TF_IRS_KNOWN) != 0;
		p = sfo_pat(o, r, synack ? SFO_SYN | SFO_ACK : SFO_SYN,
			    synack ? SFO_FIN | SFO_RST : SFO_ACK | SFO_FIN | SFO_RST, must, times);
		p->seq_lo = p->seq_hi = n->iss;
		p->ack_lo = p->ack_hi = n->rcv_nxt;
		p->pf = (must ? SFO_PAT_EMIT : 0) | (synack ? 0 : SFO_PAT_ACK_ANY) |
			((n->fl & SFO_TF_ISS_KNOWN) ? 0 : SFO_PAT_SEQ_ANY) |
			(synack && !(n->fl & SFO_TF_WS_PEER) ? SFO_PAT_NO_WS : 0);
		if (!data && !fin)
			return;
		must = 0;
	}
	uint32_t last = fin ? n->snd_fin : sent - 1;
	if (data) {
		/* the front of the retransmission queue */
		uint32_t out = sent - una;
		p = sfo_pat(o, r, SFO_ACK, SFO_SYN | SFO_RST | (fin ? 0 : SFO_FIN), must, times);
		p->seq_lo = p->seq_hi = una;
		p->ack_lo = p->ack_hi = n->rcv_nxt;
		p->len_lo = 1;
		p->len_hi = out;
		if (must) {
			if (c->stack)
				p->len_lo = out < mss ? out : mss;
			p->pf = SFO_PAT_EMIT;
		}
		must = 0;
	}
	/* anything else outstanding, FIN included, may follow (go-back-N) */
	p = sfo_pat(o, SFO_R_RTX_ALLOWED, SFO_ACK, SFO_SYN | SFO_RST, must, times);
	p->seq_lo = must ? n->snd_fin : una;
	p->seq_hi = last;
	p->ack_lo = p->ack_hi = n->rcv_nxt;
	p->len_hi = last - p->seq_lo;
	p->pf = SFO_PAT_WITHIN | (must ? SFO_PAT_EMIT : 0);
	if (!fin)
		p->flags_clear |= SFO_FIN;
}

/* 3.8.6.1, 3.8.4: probes against a zero window, keep-alives on long idle waits. */
static void wait_probes(struct sfo_ctx *c, struct sfo_outcome *o, uint32_t w)
{
	struct sfo_tcb *n = &o->next;
	uint32_t dend = (n->fl & SFO_TF_CLOSE_CALLED) ? n->snd_fin + 1 : n->snd_queued;
	uint8_t times = sfo_wait_copies(c);
	struct sfo_pattern *p = NULL;
	/* SHLD-29: the first probe once the window has been zero for an RTO, however the
	 * harness cut that time into waits */
	if (n->snd_wnd == 0 && sfo_seq_lt(n->snd_nxt, dend) &&
	    n->now_ms - n->wnd_zero_ms >= c->p->rto_min_ms)
		p = sfo_pat(o, SFO_R_ZWP_PROBE, SFO_ACK, SFO_SYN | SFO_RST | SFO_FIN, 0, times);
	else if (w >= KEEPALIVE_MS && n->snd_una == n->snd_nxt &&
		 (n->state == SFO_ESTABLISHED || n->state == SFO_CLOSE_WAIT))
		p = sfo_pat(o, SFO_R_KEEPALIVE, SFO_ACK, SFO_SYN | SFO_RST | SFO_FIN, 0, times);
	if (!p)
		return;
	p->seq_lo = n->snd_una - 1;
	p->seq_hi = n->snd_nxt;
	p->ack_lo = p->ack_hi = n->rcv_nxt;
	p->len_hi = 1;
	p->pf = SFO_PAT_WITHIN;
}

/* The connection may die of a timer: what it may send on the way is all optional. */
static void wait_give_up(struct sfo_ctx *c, const struct sfo_outcome *from, sfo_rule_t r)
{
	struct sfo_outcome *o = sfo_out_fork(c, from);
	struct sfo_tcb *n = &o->next;
	for (unsigned i = 0; i < o->npat; i++) {
		o->pat[i].min = 0;
		o->pat[i].pf &= (uint8_t)~SFO_PAT_EMIT;
	}
	struct sfo_pattern *p = sfo_pat(o, r, SFO_RST, SFO_SYN | SFO_FIN, 0, 1);
	p->seq_lo = n->snd_una;
	p->seq_hi = n->snd_nxt;
	p->pf = SFO_PAT_ACK_ANY | ((n->fl & SFO_TF_ISS_KNOWN) ? 0 : SFO_PAT_SEQ_ANY);
	if (r == SFO_R_SYNRCVD_TIMEOUT) {
		sfo_tcb_to_listen(n);
		sfo_set_state(o, SFO_LISTEN, r);
	} else {
		sfo_tcb_to_closed(n);
		sfo_set_state(o, SFO_CLOSED, r);
	}
}

static void wait_timewait(struct sfo_ctx *c, struct sfo_outcome *o)
{
	struct sfo_tcb *n = &o->next;
	uint64_t since = n->now_ms - n->timer_ms, since2 = n->now_ms - n->timer2_ms;
	if (since < c->p->msl2_ms) {
		/* 3.6.1 MUST-13: TIME-WAIT lasts 2MSL */
		sfo_set_state(o, SFO_TIME_WAIT, SFO_R_TIMEWAIT_HOLD);
		return;
	}
	/* 3.10.8: the TIME-WAIT timeout deletes the TCB */
	sfo_tcb_to_closed(n);
	sfo_set_state(o, SFO_CLOSED, SFO_R_TIMEWAIT_EXPIRE);
	/* a restart the stack may have made, or its timer granularity, keeps it longer */
	if (since2 < (uint64_t)c->p->msl2_ms + TW_GRACE_MS) {
		o = sfo_out_new(c);
		o->next.now_ms = c->t->now_ms + c->ev->u.wait_ms;
		sfo_set_state(o, SFO_TIME_WAIT, SFO_R_TIMEWAIT_HOLD);
	}
}

void sfo_wait(struct sfo_ctx *c)
{
	uint32_t w = c->ev->u.wait_ms;
	struct sfo_outcome *o = sfo_out_new(c);
	struct sfo_tcb *n = &o->next;
	n->now_ms += w;
	sfo_set_state(o, n->state, SFO_R_WAIT_IDLE);
	switch (n->state) {
	case SFO_CLOSED:
	case SFO_LISTEN:
		return;
	case SFO_TIME_WAIT:
		wait_timewait(c, o);
		return;
	case SFO_SYN_SENT:
	case SFO_SYN_RECEIVED:
	case SFO_ESTABLISHED:
	case SFO_FIN_WAIT_1:
	case SFO_FIN_WAIT_2:
	case SFO_CLOSE_WAIT:
	case SFO_CLOSING:
	case SFO_LAST_ACK:
		break;
	}
	/* 3.8.6.2.1: queued data the window allows must go by the override timeout, unless
	 * data is in flight (after a timeout the congestion window is one segment) */
	c->data_due = w >= c->p->rto_must_ms && n->snd_una == n->snd_nxt;
	wait_rtx(c, o);
	wait_probes(c, o, w);
	/* 3.10.8 USER TIMEOUT, with 3.9.1.1: what the user submitted and the peer has not
	 * acknowledged, sent or not (data a window or a stack holds back is undelivered
	 * too), may end the connection once it has waited for the user timeout: 3.8.3 R2
	 * for what was sent, 3.9.1.1 for any of it. The clock restarts whenever the peer
	 * acknowledges something new, and against a zero window whenever it answers a probe
	 * (3.8.6.1 MUST-37: the connection must then stay open). */
	int undelivered = n->snd_una != n->snd_queued;
	if (undelivered && n->now_ms - n->deliver_since_ms >= c->p->user_timeout_ms) {
		sfo_rule_t r = SFO_R_TIMEOUT_USER;
		if (n->state == SFO_SYN_RECEIVED && (n->fl & SFO_TF_PASSIVE))
			r = SFO_R_SYNRCVD_TIMEOUT;
		else if (sfo_synchronized(n->state) && n->snd_wnd == 0)
			r = SFO_R_ZWP_TIMEOUT; /* 3.8.6.1: the probes went unanswered */
		wait_give_up(c, o, r);
	}
	/* an orphaned FIN-WAIT-2 may time out if the profile says so */
	if (n->state == SFO_FIN_WAIT_2 && (n->fl & SFO_TF_RD_CLOSED) && c->p->fin2_timeout_ms &&
	    n->now_ms - n->timer_ms >= c->p->fin2_timeout_ms)
		wait_give_up(c, o, SFO_R_FINWAIT2_TIMEOUT);
}

/* ---- call results ---- */

/* RFC 9293 3.10 names its errors in words; these are the errno names that stand for them
 * (docs/scenario-language.md, "Call results", has the table). */
#define B(e)	       (1u << SFO_ERR_##e)
#define R_NOCONN       (B(ENOTCONN) | B(EPIPE) | B(EBADF))		      /* does not exist */
#define R_EXISTS       (B(EISCONN) | B(EALREADY) | B(EINVAL) | B(EADDRINUSE)) /* already exists */
#define R_NORES	       (B(ENOBUFS) | B(EAGAIN)) /* insufficient resources */
#define R_CLOSING_SEND (B(EPIPE) | B(ENOTCONN)) /* connection closing, on SEND */
#define R_CLOSING_RECV (B(EOF) | B(ENOTCONN))	/* ... on RECEIVE: sockets read end of stream */

/* The user's side of an abnormal end, reported by a later call (closed_err). */
static uint32_t closed_results(const struct sfo_tcb *t)
{
	switch (t->closed_err) {
	case SFO_ERR_ECONNRESET:
		/* 3.10.7.4 second check: "any outstanding RECEIVEs and SEND should receive
		 * "reset" responses"; "Users should also receive an unsolicited general
		 * "connection reset" signal". Sockets answer a send after it with EPIPE. */
		return B(ECONNRESET) | B(EPIPE);
	case SFO_ERR_ECONNREFUSED:
		/* 3.10.7.3: in SYN-SENT "signal to the user "error: connection reset""; 3.10.7.4
		 * in SYN-RECEIVED of an active OPEN "the connection was refused; signal the
		 * user "connection refused"": the RFC uses both words for the refusal */
		return B(ECONNREFUSED) | B(ECONNRESET);
	case SFO_ERR_ETIMEDOUT:
		/* 3.10.8 USER TIMEOUT: "signal the user "error: connection aborted due to user
		 * timeout"" */
		return B(ETIMEDOUT) | B(ECONNABORTED);
	default:
		return 0;
	}
}

/* What an end of the connection leaves for the user: the ending event and the state
 * before it (sfo_step sets sfo_tcb.closed_err from it). */
uint8_t sfo_closed_err(const struct sfo_tcb *before, const struct sfo_event *ev,
		       sfo_rule_t state_rule)
{
	if (state_rule == SFO_R_TIMEOUT_USER || state_rule == SFO_R_ZWP_TIMEOUT)
		return SFO_ERR_ETIMEDOUT; /* 3.10.8 */
	/* 3.10.4 SYN-SENT: "Delete the TCB and return "error: closing" responses to any
	 * queued SENDs, or RECEIVEs": a half-close (the socket stays) cancels the OPEN, whose
	 * delayed response sockets give as ECONNRESET */
	if (ev->kind == SFO_EV_CALL && ev->u.call.call == SFO_CALL_SHUTDOWN &&
	    before->state == SFO_SYN_SENT)
		return SFO_ERR_ECONNRESET;
	if (ev->kind != SFO_EV_SEGMENT)
		return 0; /* the user's own CLOSE or ABORT, TIME-WAIT's end: nothing to report */
	if (state_rule == SFO_R_SYN_INWIN_RESET)
		return SFO_ERR_ECONNRESET; /* 3.10.7.4 fourth: "reset" responses */
	if (!(ev->u.seg.flags & SFO_RST))
		return 0;
	switch (before->state) {
	case SFO_SYN_SENT:
	case SFO_SYN_RECEIVED:
		return SFO_ERR_ECONNREFUSED; /* 3.10.7.3, 3.10.7.4: an active OPEN refused */
	case SFO_ESTABLISHED:
	case SFO_FIN_WAIT_1:
	case SFO_FIN_WAIT_2:
	case SFO_CLOSE_WAIT:
	case SFO_CLOSING:
	case SFO_LAST_ACK:
		return SFO_ERR_ECONNRESET; /* 3.10.7.4 second check */
	case SFO_CLOSED:
	case SFO_LISTEN:
	case SFO_TIME_WAIT:
		return 0;
	}
	return 0;
}

static void res_open(const struct sfo_tcb *t, enum sfo_call call, struct sfo_callres *r)
{
	switch (t->state) {
	case SFO_CLOSED:
		/* 3.10.1 CLOSED: "If passive, enter the LISTEN state and return"; active: "enter
		 * SYN-SENT state, and return" (a non-blocking connect() says EINPROGRESS); "If
		 * there is no room to create a new connection, return "error: insufficient
		 * resources"" */
		r->allow = B(OK) | B(ENOBUFS) | (call == SFO_CALL_CONNECT ? B(EINPROGRESS) : 0);
		r->rule = SFO_R_RESULT_OPEN;
		return;
	case SFO_LISTEN:
		/* 3.10.1 LISTEN: an active OPEN "change[s] the connection from passive to active"
		 * (ok); sockets refuse connect() on a listener. A passive OPEN there is not named
		 * by 3.10.1; listen() again only sets the backlog (ok). */
		r->allow = B(OK) | R_EXISTS |
			   (call == SFO_CALL_CONNECT ? B(EINPROGRESS) | B(EOPNOTSUPP) : 0);
		r->rule = SFO_R_RESULT_OPEN_LISTEN;
		return;
	case SFO_SYN_SENT:
	case SFO_SYN_RECEIVED:
	case SFO_ESTABLISHED:
	case SFO_FIN_WAIT_1:
	case SFO_FIN_WAIT_2:
	case SFO_CLOSE_WAIT:
	case SFO_CLOSING:
	case SFO_LAST_ACK:
	case SFO_TIME_WAIT:
		/* 3.10.1 other states: "Return "error: connection already exists"". A connect()
		 * after a non-blocking one reports that one's completion once (ok): the delayed
		 * response of the first OPEN (3.10 "possibly a delayed response via an event") */
		r->allow = R_EXISTS;
		if (call == SFO_CALL_CONNECT && !(t->fl & SFO_TF_PASSIVE) &&
		    sfo_synchronized(t->state))
			r->allow |= B(OK);
		r->rule = SFO_R_RESULT_OPEN_EXISTS;
		return;
	}
}

static void res_send(const struct sfo_tcb *t, struct sfo_callres *r)
{
	switch (t->state) {
	case SFO_CLOSED:
		/* 3.10.2 CLOSED: "return "error: connection does not exist"" */
		r->allow = R_NOCONN;
		r->rule = SFO_R_RESULT_NOCONN;
		return;
	case SFO_LISTEN:
		/* 3.10.2 LISTEN: "If the remote socket was not specified, then return "error:
		 * remote socket unspecified""; sockets: send() on a listener is ENOTCONN/EPIPE */
		r->allow = B(EDESTADDRREQ) | B(ENOTCONN) | B(EPIPE);
		r->rule = SFO_R_RESULT_SEND_LISTEN;
		return;
	case SFO_SYN_SENT:
	case SFO_SYN_RECEIVED:
	case SFO_ESTABLISHED:
	case SFO_CLOSE_WAIT:
		if (!(t->fl & SFO_TF_CLOSE_CALLED)) {
			/* 3.10.2: "Queue the data for transmission after entering ESTABLISHED
			 * state. If no space to queue, respond with "error: insufficient
			 * resources"" (SYN-SENT, SYN-RECEIVED); "If there is insufficient space to
			 * remember this buffer, simply return "error: insufficient resources""
			 * (ESTABLISHED, CLOSE-WAIT) */
			r->allow = B(OK) | R_NORES;
			r->rule = SFO_R_RESULT_SEND_QUEUE;
			return;
		}
		break; /* CLOSE was called: closing */
	case SFO_FIN_WAIT_1:
	case SFO_FIN_WAIT_2:
	case SFO_CLOSING:
	case SFO_LAST_ACK:
	case SFO_TIME_WAIT:
		break;
	}
	/* 3.10.2 FIN-WAIT-1 to TIME-WAIT: "Return "error: connection closing" and do not
	 * service request" */
	r->allow = R_CLOSING_SEND;
	r->rule = SFO_R_RESULT_SEND_CLOSING;
}

static void res_receive(const struct sfo_tcb *t, struct sfo_callres *r)
{
	switch (t->state) {
	case SFO_CLOSED:
		/* 3.10.3 CLOSED: "return "error: connection does not exist""; sockets read end
		 * of stream there, and text the connection left unread (its queues "should be
		 * flushed", 3.10.7.4: should, not must) */
		r->allow = R_NOCONN | B(EOF) | B(OK);
		r->rule = SFO_R_RESULT_NOCONN;
		return;
	case SFO_LISTEN:
	case SFO_SYN_SENT:
	case SFO_SYN_RECEIVED:
		/* 3.10.3: "Queue for processing after entering ESTABLISHED state. If there is
		 * no room to queue this request, respond with "error: insufficient
		 * resources"": a non-blocking RECEIVE cannot wait (EAGAIN); recv() on a
		 * listener is ENOTCONN */
		r->allow = B(EAGAIN) | B(ENOBUFS) | (t->state == SFO_LISTEN ? B(ENOTCONN) : 0);
		r->rule = SFO_R_RESULT_RECEIVE_WAIT;
		return;
	case SFO_ESTABLISHED:
	case SFO_FIN_WAIT_1:
	case SFO_FIN_WAIT_2:
		/* 3.10.3: "If insufficient incoming segments are queued to satisfy the
		 * request, queue the request" (EAGAIN, non-blocking), else "Reassemble queued
		 * incoming segments into receive buffer and return to user": text, or a wait,
		 * never the end of a stream whose FIN has not come */
		r->allow = B(OK) | B(EAGAIN) | B(ENOBUFS);
		r->rule = SFO_R_RESULT_RECEIVE;
		return;
	case SFO_CLOSE_WAIT:
	case SFO_CLOSING:
	case SFO_LAST_ACK:
	case SFO_TIME_WAIT:
		/* 3.10.3 CLOSE-WAIT: "RECEIVEs must be satisfied by data already on hand ...
		 * If no text is awaiting delivery, the RECEIVE will get an "error: connection
		 * closing" response"; CLOSING, LAST-ACK, TIME-WAIT: "Return "error: connection
		 * closing"" (sockets: end of stream, after text still on hand) */
		r->allow = B(OK) | R_CLOSING_RECV;
		r->rule = SFO_R_RESULT_RECEIVE_CLOSING;
		return;
	}
}

static void res_close(const struct sfo_tcb *t, enum sfo_call call, struct sfo_callres *r)
{
	int half = call == SFO_CALL_SHUTDOWN;
	switch (t->state) {
	case SFO_CLOSED:
		/* 3.10.4 CLOSED: "return "error: connection does not exist""; close(2) cannot
		 * say so (it releases the descriptor: ok) */
		r->allow = R_NOCONN | (half ? 0 : B(OK));
		r->rule = SFO_R_RESULT_NOCONN;
		return;
	case SFO_LISTEN:
	case SFO_SYN_SENT:
		/* 3.10.4 LISTEN: "Delete TCB, enter CLOSED state, and return"; SYN-SENT: "Delete
		 * the TCB"; shutdown(2) of a socket not connected yet may be ENOTCONN */
		r->allow = B(OK) | (half ? B(ENOTCONN) | B(EINVAL) : 0);
		r->rule = SFO_R_RESULT_CLOSE;
		return;
	case SFO_SYN_RECEIVED:
	case SFO_ESTABLISHED:
	case SFO_CLOSE_WAIT:
		/* 3.10.4: the FIN is queued or sent, the call returns */
		r->allow = B(OK);
		r->rule = SFO_R_RESULT_CLOSE;
		if (!(t->fl & SFO_TF_CLOSE_CALLED))
			return;
		/* a second CLOSE after shutdown: closing, as in FIN-WAIT */
		r->allow |= B(EPIPE) | B(ENOTCONN);
		r->rule = SFO_R_RESULT_CLOSE_CLOSING;
		return;
	case SFO_FIN_WAIT_1:
	case SFO_FIN_WAIT_2:
		/* 3.10.4: "Strictly speaking, this is an error and should receive an "error:
		 * connection closing" response. An "ok" response would be acceptable, too" */
	case SFO_CLOSING:
	case SFO_LAST_ACK:
	case SFO_TIME_WAIT:
		/* 3.10.4: "Respond with "error: connection closing""; close(2) and a repeated
		 * shutdown(2) cannot say so (ok) */
		r->allow = B(OK) | B(EPIPE) | B(ENOTCONN);
		r->rule = SFO_R_RESULT_CLOSE_CLOSING;
		return;
	}
}

void sfo_call_results(const struct sfo_tcb *t, enum sfo_call call, struct sfo_callres *r)
{
	r->allow = 0;
	r->rule = SFO_R_RESULT_NOCONN;
	switch (call) {
	case SFO_CALL_LISTEN:
	case SFO_CALL_CONNECT:
		res_open(t, call, r);
		break;
	case SFO_CALL_ACCEPT:
		/* accept() has no RFC call: it hands over a connection once there is one (the
		 * harness's passive connection); before that a non-blocking one says EAGAIN */
		r->allow = B(EAGAIN) | B(EINVAL) | B(EBADF) |
			   (t->state != SFO_LISTEN ? B(OK) | B(ENOTCONN) : 0);
		r->rule = SFO_R_RESULT_ACCEPT;
		break;
	case SFO_CALL_SEND:
		res_send(t, r);
		break;
	case SFO_CALL_RECEIVE:
		res_receive(t, r);
		break;
	case SFO_CALL_SHUTDOWN:
	case SFO_CALL_CLOSE:
		res_close(t, call, r);
		break;
	case SFO_CALL_ABORT:
		/* 3.10.5 CLOSED: "return "error: connection does not exist"" (close(2) with
		 * SO_LINGER 0 cannot say so); every other state returns (CLOSING, LAST-ACK,
		 * TIME-WAIT: "Respond with "ok"") */
		r->allow = t->state == SFO_CLOSED ? R_NOCONN | B(OK) : B(OK);
		r->rule = t->state == SFO_CLOSED ? SFO_R_RESULT_NOCONN : SFO_R_RESULT_ABORT;
		break;
	}
	/* 3.10.7.3, 3.10.7.4, 3.10.8: the end a reset, a refusal or a user timeout made is
	 * signalled to the user, here by the next calls */
	if (t->state == SFO_CLOSED)
		r->allow |= closed_results(t);
	/* 3.9.1 lets an implementation offer a subset of the calls: after close() the
	 * application holds no descriptor (EBADF), and a passive connection still in
	 * SYN-RECEIVED has not been handed to it (calls reach the listener) */
	if (t->fl & SFO_TF_RD_CLOSED)
		r->allow |=
		    B(EBADF) | B(ENOTCONN) |
		    (call == SFO_CALL_LISTEN || call == SFO_CALL_CONNECT ? B(EADDRINUSE) : 0);
	if (t->state == SFO_SYN_RECEIVED && (t->fl & SFO_TF_PASSIVE) && call != SFO_CALL_ACCEPT)
		r->allow |= B(ENOTCONN) | B(EPIPE) | B(EINVAL) | B(EAGAIN) |
			    (call == SFO_CALL_LISTEN ? B(OK) : 0); /* listen() again on it */
	/* ... and where the listener spawned it on the 4-tuple of a connection that ended
	 * abnormally, the application still holds that one (3.9.1), whose calls report the
	 * end (3.10.7.3, 3.10.7.4, 3.10.8) until it takes the new one */
	if (t->state == SFO_SYN_RECEIVED && (t->fl & SFO_TF_PASSIVE) &&
	    !(t->fl & SFO_TF_ACCEPTED) && call != SFO_CALL_ACCEPT)
		r->allow |= closed_results(t);
}

enum sfo_err sfo_result_class(enum sfo_call call, enum sfo_err err, uint32_t n)
{
	if (err == SFO_ERR_OK && call == SFO_CALL_RECEIVE && n == 0)
		return SFO_ERR_EOF;
	return err;
}

int sfo_callres_fits(const struct sfo_callres *r, enum sfo_call call, enum sfo_err err, uint32_t n)
{
	enum sfo_err k = sfo_result_class(call, err, n);
	if ((unsigned)k >= SFO_NERRS)
		return 0;
	if (k == SFO_ERR_ERROR) /* an unnamed error fits any error allowed */
		return (r->allow & ~(B(OK) | B(EOF) | B(EINPROGRESS))) != 0;
	return (r->allow >> k) & 1;
}

size_t sfo_callres_format(const struct sfo_callres *r, enum sfo_call call, char *buf, size_t cap)
{
	size_t n = 0;
	if (cap)
		buf[0] = '\0';
	for (int e = 0; e < SFO_NERRS; e++) {
		if (!((r->allow >> e) & 1))
			continue;
		const char *w = sfo_err_name((enum sfo_err)e);
		if (e == SFO_ERR_OK)
			w = call == SFO_CALL_SEND || call == SFO_CALL_RECEIVE ? "octets" : "ok";
		else if (e == SFO_ERR_EOF)
			w = "0 (end of stream)";
		int k = snprintf(buf + (n < cap ? n : cap), n < cap ? cap - n : 0, "%s%s",
				 n ? " " : "", w);
		n += k > 0 ? (size_t)k : 0;
	}
	return n;
}
