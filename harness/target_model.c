/* The `model` target: the reference model run as a concrete stack.
 *
 * Without a fault it must always agree with the oracle (a self-check of the whole
 * pipeline: wire, runner, judge). With `model:fault=NAME` one realistic bug is seeded
 * into its behaviour, so every layer above can prove end to end that it finds a known
 * bug. Faults live here, not in oracle/: the oracle stays the unmodified specification.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "target.h"
#include "target_model.h"

extern const struct sfh_target_ops sfh_target_model_ops;

#define MODEL_QMAX 32
#define MODEL_SNDBUF 65536u

struct model_target {
	struct sfh_target base;
	struct sfh_wire *wire;
	const struct sfh_fault *fault; /* NULL: the faithful model */
	struct sfo_cfg cfg;
	struct sfo_tcb tcb;
	struct sfo_expect expect;
	struct sfh_endpoints ep;    /* as the runner sees them: peer -> target */
	struct sfh_endpoints back;  /* swapped, to build what the target emits */
	struct sfh_pkt q[MODEL_QMAX];
	int nq;
};

/* ---- seeded faults: each rewrites the reference outcome of one kind of step ---- */

static int synced(enum sfo_state s)
{
	return s != SFO_CLOSED && s != SFO_LISTEN && s != SFO_SYN_SENT;
}

static void drop_emits(struct sfo_outcome *o)
{
	for (int i = 0; i < o->npat; i++)
		o->pat[i].pf &= (uint8_t)~SFO_PAT_EMIT;
}

static int is_seg(const struct sfo_event *ev, uint8_t need, uint8_t none)
{
	return ev->kind == SFO_EV_SEGMENT && (ev->u.seg.flags & need) == need &&
	       !(ev->u.seg.flags & none);
}

static void f_no_time_wait(const struct sfo_tcb *t, const struct sfo_event *ev,
			   enum sfo_evclass c, struct sfo_outcome *o)
{
	if (o->next.state == SFO_TIME_WAIT)
		o->next.state = SFO_CLOSED;
}

static void f_tw_ignore_fin(const struct sfo_tcb *t, const struct sfo_event *ev,
			    enum sfo_evclass c, struct sfo_outcome *o)
{
	if (t->state == SFO_TIME_WAIT && is_seg(ev, SFO_FIN, SFO_RST))
		drop_emits(o);
}

static void f_rst_out_of_window(const struct sfo_tcb *t, const struct sfo_event *ev,
				enum sfo_evclass c, struct sfo_outcome *o)
{
	if (synced(t->state) && c == SFO_EC_RST_OUTWIN) {
		drop_emits(o);
		o->next.state = SFO_CLOSED;
	}
}

static void f_synrcvd_rst_closed(const struct sfo_tcb *t, const struct sfo_event *ev,
				 enum sfo_evclass c, struct sfo_outcome *o)
{
	if (t->state == SFO_SYN_RECEIVED && (t->fl & SFO_TF_PASSIVE) &&
	    o->next.state == SFO_LISTEN && is_seg(ev, SFO_RST, 0))
		o->next.state = SFO_CLOSED;
}

static void f_synack_bad_ack(const struct sfo_tcb *t, const struct sfo_event *ev,
			     enum sfo_evclass c, struct sfo_outcome *o)
{
	for (int i = 0; i < o->npat; i++) {
		struct sfo_pattern *p = &o->pat[i];
		if ((p->pf & SFO_PAT_EMIT) && (p->flags_set & (SFO_SYN | SFO_ACK)) ==
						      (SFO_SYN | SFO_ACK)) {
			p->ack_lo -= 1; /* acknowledges the peer's ISN itself, not ISN+1 */
			p->ack_hi = p->ack_lo;
		}
	}
}

static void f_two_way_handshake(const struct sfo_tcb *t, const struct sfo_event *ev,
				enum sfo_evclass c, struct sfo_outcome *o)
{
	if (t->state == SFO_LISTEN && o->next.state == SFO_SYN_RECEIVED)
		o->next.state = SFO_ESTABLISHED;
}

static void f_finwait2_ignore_fin(const struct sfo_tcb *t, const struct sfo_event *ev,
				  enum sfo_evclass c, struct sfo_outcome *o)
{
	if (t->state == SFO_FIN_WAIT_2 && is_seg(ev, SFO_FIN, SFO_RST)) {
		drop_emits(o);
		o->next = *t;
	}
}

static void f_closewait_no_fin(const struct sfo_tcb *t, const struct sfo_event *ev,
			       enum sfo_evclass c, struct sfo_outcome *o)
{
	if (t->state == SFO_CLOSE_WAIT && ev->kind == SFO_EV_CALL &&
	    (ev->u.call.call == SFO_CALL_CLOSE || ev->u.call.call == SFO_CALL_SHUTDOWN))
		for (int i = 0; i < o->npat; i++)
			if (o->pat[i].flags_set & SFO_FIN)
				o->pat[i].pf &= (uint8_t)~SFO_PAT_EMIT;
}

static void f_no_simultaneous_open(const struct sfo_tcb *t, const struct sfo_event *ev,
				   enum sfo_evclass c, struct sfo_outcome *o)
{
	if (t->state == SFO_SYN_SENT && c == SFO_EC_SYN) {
		drop_emits(o); /* the SYN is dropped as if nothing had arrived */
		o->next = *t;
	}
}

static void f_ack_future_accepted(const struct sfo_tcb *t, const struct sfo_event *ev,
				  enum sfo_evclass c, struct sfo_outcome *o)
{
	if (synced(t->state) && c == SFO_EC_ACK_FUTURE)
		drop_emits(o); /* no ACK in reply: the bogus ACK is taken silently */
}

static void f_lastack_ignore_ack(const struct sfo_tcb *t, const struct sfo_event *ev,
				 enum sfo_evclass c, struct sfo_outcome *o)
{
	if (t->state == SFO_LAST_ACK && o->next.state == SFO_CLOSED && c == SFO_EC_ACK_OK)
		o->next.state = SFO_LAST_ACK;
}

static void f_rst_answers_rst(const struct sfo_tcb *t, const struct sfo_event *ev,
			      enum sfo_evclass c, struct sfo_outcome *o)
{
	/* Answers an out-of-window RST with an ACK: any reply to a RST is forbidden. */
	if (synced(t->state) && c == SFO_EC_RST_OUTWIN && o->npat < SFO_MAX_PAT) {
		struct sfo_pattern *p = &o->pat[o->npat++];
		memset(p, 0, sizeof *p);
		p->flags_set = SFO_ACK;
		p->seq_lo = p->seq_hi = t->snd_nxt;
		p->ack_lo = p->ack_hi = t->rcv_nxt;
		p->min = p->max = 1;
		p->pf = SFO_PAT_EMIT;
	}
}

static void f_none(const struct sfo_tcb *t, const struct sfo_event *ev, enum sfo_evclass c,
		   struct sfo_outcome *o)
{
}

static const struct sfh_fault faults[] = {
	{"no-time-wait", "an active close skips TIME-WAIT and goes straight to CLOSED",
	 f_no_time_wait, 0},
	{"tw-ignore-fin", "a retransmitted FIN in TIME-WAIT is not acknowledged again",
	 f_tw_ignore_fin, 0},
	{"rst-out-of-window", "a RST outside the receive window resets the connection",
	 f_rst_out_of_window, 0},
	{"synrcvd-rst-closed", "a RST in SYN-RECEIVED of a passive open ends in CLOSED, not LISTEN",
	 f_synrcvd_rst_closed, 0},
	{"synack-bad-ack", "the SYN-ACK acknowledges the peer's ISN instead of ISN+1",
	 f_synack_bad_ack, 0},
	{"two-way-handshake", "a SYN alone establishes the connection (final ACK not required)",
	 f_two_way_handshake, 0},
	{"finwait2-ignore-fin", "a FIN in FIN-WAIT-2 is ignored: no ACK, no TIME-WAIT",
	 f_finwait2_ignore_fin, 0},
	{"closewait-no-fin", "close in CLOSE-WAIT moves to LAST-ACK without sending a FIN",
	 f_closewait_no_fin, 0},
	{"no-simultaneous-open", "a SYN in SYN-SENT is dropped (no simultaneous open, MUST-10)",
	 f_no_simultaneous_open, 0},
	{"ack-future-accepted", "an ACK of unsent data is taken silently instead of answered",
	 f_ack_future_accepted, 0},
	{"lastack-ignore-ack", "the ACK of our FIN in LAST-ACK does not close the connection",
	 f_lastack_ignore_ack, 0},
	{"rst-answers-rst", "an out-of-window RST is answered with an ACK", f_rst_answers_rst, 0},
	{"fin-bad-checksum", "a FIN goes out with a wrong TCP checksum", f_none, SFO_FIN},
};

size_t sfh_fault_count(void)
{
	return sizeof faults / sizeof faults[0];
}

const struct sfh_fault *sfh_fault_at(size_t i)
{
	return i < sfh_fault_count() ? &faults[i] : NULL;
}

const struct sfh_fault *sfh_fault_find(const char *name)
{
	for (size_t i = 0; i < sfh_fault_count(); i++)
		if (strcmp(faults[i].name, name) == 0)
			return &faults[i];
	return NULL;
}

/* ---- the target ---- */

static int model_probe(char *err, size_t errlen)
{
	return 0;
}

static const char *model_version(void)
{
	return "synfin reference model (RFC 9293)";
}

static int model_open(const char *args, struct sfh_target **out, char *err, size_t errlen)
{
	const struct sfh_fault *fault = NULL;
	if (args && *args) {
		if (strncmp(args, "fault=", 6) != 0) {
			snprintf(err, errlen, "model: unknown option '%s' (expected fault=NAME)",
				 args);
			return -1;
		}
		fault = sfh_fault_find(args + 6);
		if (!fault) {
			snprintf(err, errlen,
				 "model: unknown fault '%s' (see 'synfin targets' for the list)",
				 args + 6);
			return -1;
		}
	}
	struct model_target *m = calloc(1, sizeof *m);
	if (!m) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	m->wire = sfh_wire_new(err, errlen);
	if (!m->wire) {
		free(m);
		return -1;
	}
	m->base.ops = &sfh_target_model_ops;
	m->fault = fault;
	*out = &m->base;
	return 0;
}

static int model_reset(struct sfh_target *t, enum sfh_role role, uint32_t case_no,
		       struct sfh_endpoints *ep)
{
	struct model_target *m = (struct model_target *)t;
	m->ep.target_ip = 0xc0000201; /* 192.0.2.1: documentation range, never on a wire */
	m->ep.peer_ip = 0xc0000202;
	m->ep.target_port = (uint16_t)(10000 + case_no % 20000);
	m->ep.peer_port = (uint16_t)(40000 + case_no % 20000);
	m->back.peer_ip = m->ep.target_ip;
	m->back.target_ip = m->ep.peer_ip;
	m->back.peer_port = m->ep.target_port;
	m->back.target_port = m->ep.peer_port;
	m->cfg.profile = sfo_profile_default();
	m->cfg.flags = SFO_CFG_STACK;
	m->cfg.stack_iss = t->iss_set ? t->iss_want : 0x5eed0000u ^ (case_no * 0x01000193u);
	m->cfg.rcv_wnd = 65535;
	m->cfg.mss = 1460;
	sfo_tcb_init(&m->tcb);
	m->nq = 0;
	*ep = m->ep;
	return 0;
}

/* Take the reference outcome (with the fault applied), emit its EMIT patterns as
 * segments, and commit it. */
static int model_apply(struct model_target *m, const struct sfo_event *ev)
{
	struct sfo_seg out[SFO_MAX_PAT];
	size_t n = 0;
	sfo_step(&m->tcb, &m->cfg, ev, &m->expect);
	struct sfo_outcome *o = &m->expect.out[0];
	if (m->fault)
		m->fault->apply(&m->tcb, ev, m->expect.evclass, o);
	for (int i = 0; i < o->npat; i++) {
		const struct sfo_pattern *p = &o->pat[i];
		if (!(p->pf & SFO_PAT_EMIT))
			continue;
		struct sfo_seg *s = &out[n++];
		memset(s, 0, sizeof *s);
		s->flags = p->flags_set;
		s->seq = p->seq_lo;
		s->ack = (p->flags_set & SFO_ACK) ? p->ack_lo : 0;
		s->len = p->len_lo;
		s->wnd = m->cfg.rcv_wnd;
		if (s->flags & SFO_SYN) {
			s->opts = SFO_OPT_MSS;
			s->mss = m->cfg.mss;
		}
		if (m->nq >= MODEL_QMAX) {
			snprintf(m->base.err, sizeof m->base.err, "output queue full");
			return -1;
		}
		int len = sfh_wire_build(m->wire, &m->back, s, m->q[m->nq].data,
					 sizeof m->q[m->nq].data);
		if (len < 0) {
			snprintf(m->base.err, sizeof m->base.err, "cannot build a segment");
			return -1;
		}
		if (m->fault && (s->flags & m->fault->bad_csum_flags))
			m->q[m->nq].data[36] ^= 0x5a; /* the TCP checksum's first octet */
		m->q[m->nq++].len = (uint16_t)len;
	}
	sfo_commit(&m->tcb, o, out, n);
	return 0;
}

static int model_inject(struct sfh_target *t, const uint8_t *ip, size_t len)
{
	struct model_target *m = (struct model_target *)t;
	struct sfo_event ev = {.kind = SFO_EV_SEGMENT};
	struct sfh_endpoints ep;
	int csum_ok = 0;
	if (sfh_wire_parse(ip, len, &ep, &ev.u.seg, &csum_ok) != 0 || !csum_ok)
		return 0; /* not a valid TCP segment: a real stack drops it silently */
	/* parse() names the sender "target": here the sender is the peer */
	if (ep.target_port != m->ep.peer_port || ep.peer_port != m->ep.target_port)
		return 0;
	return model_apply(m, &ev);
}

/* What the stack accepts for SEND: RFC 9293 §3.10.2 queues data in every state up to
 * CLOSE-WAIT and refuses it once the user has closed. */
static uint32_t model_send_room(const struct sfo_tcb *t, uint32_t arg)
{
	switch (t->state) {
	case SFO_SYN_SENT:
	case SFO_SYN_RECEIVED:
	case SFO_ESTABLISHED:
	case SFO_CLOSE_WAIT:
		/* a send buffer of MODEL_SNDBUF, as a socket stack has one */
		return (t->fl & SFO_TF_CLOSE_CALLED) ? 0 : arg < MODEL_SNDBUF ? arg : MODEL_SNDBUF;
	case SFO_CLOSED:
	case SFO_LISTEN:
	case SFO_FIN_WAIT_1:
	case SFO_FIN_WAIT_2:
	case SFO_CLOSING:
	case SFO_LAST_ACK:
	case SFO_TIME_WAIT:
		return 0;
	}
	return 0;
}

static int model_call(struct sfh_target *t, enum sfo_call call, uint32_t arg)
{
	struct model_target *m = (struct model_target *)t;
	struct sfo_event ev = {.kind = SFO_EV_CALL};
	uint32_t took = 0;
	if (call == SFO_CALL_SEND)
		took = model_send_room(&m->tcb, arg);
	else if (call == SFO_CALL_RECEIVE)
		took = (arg == 0 || arg > m->tcb.rcv_queued) ? m->tcb.rcv_queued : arg;
	ev.u.call.call = call;
	ev.u.call.arg = (call == SFO_CALL_SEND || call == SFO_CALL_RECEIVE) ? took : arg;
	if (model_apply(m, &ev) != 0)
		return -1;
	return (int)took;
}

static int model_advance(struct sfh_target *t, uint32_t ms)
{
	struct model_target *m = (struct model_target *)t;
	struct sfo_event ev = {.kind = SFO_EV_WAIT};
	ev.u.wait_ms = ms;
	return model_apply(m, &ev);
}

static int model_drain(struct sfh_target *t, struct sfh_pkt *out, int max)
{
	struct model_target *m = (struct model_target *)t;
	int n = m->nq < max ? m->nq : max;
	memcpy(out, m->q, (size_t)n * sizeof *out);
	memmove(m->q, m->q + n, (size_t)(m->nq - n) * sizeof *out);
	m->nq -= n;
	return n;
}

static int model_state(struct sfh_target *t, enum sfo_state *st)
{
	*st = ((struct model_target *)t)->tcb.state;
	return 0;
}

static void model_close(struct sfh_target *t)
{
	struct model_target *m = (struct model_target *)t;
	sfh_wire_free(m->wire);
	free(m);
}

const struct sfh_target_ops sfh_target_model_ops = {
	.name = "model",
	.summary = "the reference model as a stack (self-check); model:fault=NAME seeds a bug",
	.caps = SFH_CAP_STATE | SFH_CAP_VTIME | SFH_CAP_PASSIVE | SFH_CAP_ACTIVE,
	.profile = NULL,
	.probe = model_probe,
	.version = model_version,
	.open = model_open,
	.reset = model_reset,
	.inject = model_inject,
	.call = model_call,
	.advance = model_advance,
	.drain = model_drain,
	.state = model_state,
	.close = model_close,
};
