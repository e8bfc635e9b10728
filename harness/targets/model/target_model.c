/* The `model` target: the reference model run as a concrete stack.
 *
 * Without a fault it must always agree with the oracle (a self-check of the whole
 * pipeline: wire, runner, judge), under whichever profile the runner judges it by: the
 * stack behaves as that profile specifies (sfh_target.judged_by). It emits the reference
 * (first) outcome of each step; `model:pick=random` instead picks among every outcome the
 * oracle accepts, and emits each optional response or not, from a generator seeded by
 * the case number, so the self-check covers every branch the oracle allows, not only the
 * preferred one (see model_pick). A fault applies to the reference outcome, whatever
 * the pick (model:fault=NAME,pick=random parses, and behaves as the fault alone).
 *
 * With `model:fault=NAME` one realistic bug is seeded into its behaviour, so every layer
 * above can prove end to end that it finds a known bug. Faults live here, not in oracle/: the oracle stays the unmodified specification.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "target.h"
#include "target_model.h"

extern const struct sfh_target_ops sfh_target_model_ops;

#define MODEL_QMAX 32
#define MODEL_LSN    SFH_MAX_CONNS /* tcbs[MODEL_LSN]: the listener */
#define MODEL_SNDBUF 65536u

/* How the model stack numbers its connections (args "isn=NAME"). The default follows
 * RFC 9293 3.4.1 (MUST-8, SHLD-1); the others are predictable generators for the ISN
 * check's tests (harness/isn.c), kept apart from the seeded faults because no scenario
 * can show them: only many connections can. */
enum model_isn {
	MODEL_ISN_RFC,	    /* M + F(4-tuple, key): a 4-microsecond clock and a keyed mix */
	MODEL_ISN_CONSTANT, /* the same ISN for every connection */
	MODEL_ISN_STEP,	    /* a counter: +64000 per connection, whatever the time */
	MODEL_ISN_CLOCK	    /* the clock M alone, one for every 4-tuple (RFC 793's) */
};

struct model_target {
	struct sfh_target base;
	struct sfh_wire *wire;
	const struct sfh_fault *fault; /* NULL: the faithful model */
	int pick_random;               /* pick=random: any acceptable outcome */
	uint64_t rng;                  /* its generator, seeded per case */
	uint64_t rejected;             /* picks the oracle's own judge refused (model_pick) */
	struct sfo_cfg cfg;
	struct sfo_tcb tcb; /* the case's one TCB (sfh_target.multi 0) */
	struct sfo_expect expect;
	/* sfh_target.multi: connection k+1 in tcbs[k], the listener in tcbs[MODEL_LSN] */
	struct sfo_tcb tcbs[SFH_MAX_CONNS + 1];
	struct sfo_tcb *tp;	    /* the TCB the next step acts on */
	struct sfh_endpoints *bp;   /* ... and the addresses it emits from */
	struct sfh_endpoints cback; /* the addressed connection's, with selectors */
	enum sfh_role role;
	struct sfh_endpoints ep;    /* as the runner sees them: peer -> target */
	struct sfh_endpoints back;  /* swapped, to build what the target emits */
	struct sfh_pkt q[MODEL_QMAX];
	int nq;
	enum model_isn isn_gen;
	int iss_pin;	      /* the case's first connection takes iss_pin_val */
	uint32_t iss_pin_val;
	uint64_t case_ms, open_ms;  /* virtual time since reset() and since open() */
	uint32_t case_conns, conns; /* ISNs handed out since reset() and since open() */
	/* per TCB (tcbs[k] at k, tcb last): the end in its closed_err was reported by a call */
	int err_told[SFH_MAX_CONNS + 2];
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

/* A result fault (model_result reads it by name): no outcome changes. */
static void f_recv_eof_early(const struct sfo_tcb *t, const struct sfo_event *ev,
			     enum sfo_evclass c, struct sfo_outcome *o)
{
}

static const struct sfh_fault faults[] = {
    {"no-time-wait", "an active close skips TIME-WAIT and goes straight to CLOSED", f_no_time_wait,
     0},
    {"tw-ignore-fin", "a retransmitted FIN in TIME-WAIT is not acknowledged again", f_tw_ignore_fin,
     0},
    {"rst-out-of-window", "a RST outside the receive window resets the connection",
     f_rst_out_of_window, 0},
    {"synrcvd-rst-closed", "a RST in SYN-RECEIVED of a passive open ends in CLOSED, not LISTEN",
     f_synrcvd_rst_closed, 0},
    {"synack-bad-ack", "the SYN-ACK acknowledges the peer's ISN instead of ISN+1", f_synack_bad_ack,
     0},
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
    {"recv-eof-early", "a receive with nothing queued returns 0 (end of stream) before the FIN",
     f_recv_eof_early, 0},
    /* acts in model_call: closing the listener is no step of a connection */
    {"listener-close-resets-all",
     "closing the listener also resets the connections the application accepted", f_none, 0},
};

/* The fault named, in effect. */
static int fault_is(const struct model_target *m, const char *name)
{
	return m->fault && strcmp(m->fault->name, name) == 0;
}

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

/* One option of "fault=NAME,pick=first|random". 0, or -1 with the reason in err. */
static int model_option(const char *opt, size_t n, const struct sfh_fault **fault, int *pick,
			int *gen, char *err, size_t errlen)
{
	char name[64];
	if (n >= 4 && strncmp(opt, "isn=", 4) == 0) {
		static const char *const gens[] = {"rfc", "constant", "step", "clock"};
		for (*gen = 0; *gen < 4; ++*gen)
			if (strlen(gens[*gen]) == n - 4 && strncmp(opt + 4, gens[*gen], n - 4) == 0)
				return 0;
		snprintf(err, errlen, "model: unknown isn '%.*s' (rfc, constant, step, clock)",
			 (int)(n - 4), opt + 4);
		return -1;
	}
	if (n >= 6 && strncmp(opt, "fault=", 6) == 0) {
		snprintf(name, sizeof name, "%.*s", (int)(n - 6), opt + 6);
		*fault = sfh_fault_find(name);
		if (!*fault) {
			snprintf(err, errlen,
				 "model: unknown fault '%s' (see 'synfin targets' for the list)",
				 name);
			return -1;
		}
		return 0;
	}
	if (n == 11 && strncmp(opt, "pick=random", n) == 0) {
		*pick = 1;
		return 0;
	}
	if (n == 10 && strncmp(opt, "pick=first", n) == 0) {
		*pick = 0;
		return 0;
	}
	snprintf(err, errlen,
		 "model: unknown option '%.*s' (expected fault=NAME, pick=first|random or "
		 "isn=GEN)",
		 (int)n, opt);
	return -1;
}

static int model_open(const char *args, struct sfh_target **out, char *err, size_t errlen)
{
	const struct sfh_fault *fault = NULL;
	int pick = 0;
	int gen = MODEL_ISN_RFC;
	for (const char *p = args; p && *p;) {
		const char *end = strchr(p, ',');
		size_t n = end ? (size_t)(end - p) : strlen(p);
		if (model_option(p, n, &fault, &pick, &gen, err, errlen) != 0)
			return -1;
		p = end ? end + 1 : p + n;
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
	m->base.timers_can = (1u << SFH_NTIMERS) - 1; /* it runs on the judged profile's figures */
	m->fault = fault;
	m->isn_gen = (enum model_isn)gen;
	m->pick_random = pick;
	*out = &m->base;
	return 0;
}

static int model_reset(struct sfh_target *t, enum sfh_role role, uint32_t case_no,
		       struct sfh_endpoints *ep)
{
	struct model_target *m = (struct model_target *)t;
	memset(&m->ep, 0, sizeof m->ep);
	m->ep.target_ip = 0xc0000201; /* 192.0.2.1: documentation range, never on a wire */
	m->ep.peer_ip = 0xc0000202;
	if (t->ipv6) { /* 2001:db8::1 and ::2, the IPv6 documentation prefix (RFC 3849) */
		static const uint8_t doc[16] = {0x20, 0x01, 0x0d, 0xb8};
		m->ep.ipv6 = 1;
		m->ep.target_ip = m->ep.peer_ip = 0;
		memcpy(m->ep.target_ip6, doc, 16);
		memcpy(m->ep.peer_ip6, doc, 16);
		m->ep.target_ip6[15] = 1;
		m->ep.peer_ip6[15] = 2;
	}
	m->ep.target_port = (uint16_t)(10000 + case_no % 20000);
	m->ep.peer_port = (uint16_t)(40000 + case_no % 20000);
	m->back = m->ep;
	m->back.peer_ip = m->ep.target_ip;
	m->back.target_ip = m->ep.peer_ip;
	memcpy(m->back.peer_ip6, m->ep.target_ip6, 16);
	memcpy(m->back.target_ip6, m->ep.peer_ip6, 16);
	m->back.peer_port = m->ep.target_port;
	m->back.target_port = m->ep.peer_port;
	/* The model as a stack behaves as the profile it is judged by specifies (a stack
	 * that must send challenge ACKs under rfc5961 sends them), else it would diverge
	 * from its own oracle. */
	m->cfg.profile = t->judged_by ? t->judged_by : sfo_profile_default();
	m->cfg.flags = SFO_CFG_STACK;
	m->case_ms = 0;
	m->case_conns = 0;
	t->clock_us = 0;
	/* The ISN the runner asks for (the scenario's tisn): a run then does not depend on
	 * the case number. Unset (the ISN probe), the generator below numbers connections. */
	m->iss_pin = t->iss_set;
	m->iss_pin_val = t->iss_want;
	m->cfg.rcv_wnd = 65535;
	m->cfg.mss = m->ep.ipv6 ? 1440 : 1460; /* a 1500-octet MTU less the headers */
	sfo_tcb_init(&m->tcb);
	memset(m->err_told, 0, sizeof m->err_told);
	sfo_tcb_family(&m->tcb, m->ep.ipv6);
	for (int k = 0; k <= MODEL_LSN; k++) {
		sfo_tcb_init(&m->tcbs[k]);
		sfo_tcb_family(&m->tcbs[k], m->ep.ipv6);
	}
	m->tp = &m->tcb;
	m->bp = &m->back;
	m->role = role;
	m->nq = 0;
	m->rng = 0x243f6a8885a308d3ull ^ ((uint64_t)case_no << 17);
	*ep = m->ep;
	return 0;
}

/* splitmix64's finalizer: a keyed mix stands in for the PRF, enough for a reference
 * model whose runs must repeat (the key is no secret; a real stack's must be). */
static uint64_t mix64(uint64_t x)
{
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

/* The ISS of a new connection. RFC 9293 3.4.1: M is a clock ticking every 4
 * microseconds (here virtual time since the case began, plus one per connection, so the
 * clock moves between two connections opened at the same virtual instant; a case is a
 * fresh instance, and the clock "need not persist across reboots"), F a keyed function
 * of the 4-tuple. */
static uint32_t model_next_iss(struct model_target *m)
{
	const struct sfh_endpoints *e = &m->ep;
	uint64_t tuple = ((uint64_t)e->target_ip << 32 | e->peer_ip) ^
			 ((uint64_t)e->target_port << 16 | e->peer_port) * 0x9e3779b97f4a7c15ull;
	uint32_t iss = 0x5eed0000u;
	for (int i = 0; e->ipv6 && i < 16; i++) /* IPv6: every address octet counts */
		tuple = mix64(tuple ^ ((uint64_t)e->target_ip6[i] << 8 | e->peer_ip6[i]));
	if (m->iss_pin && m->case_conns == 0) {
		m->case_conns++;
		m->conns++;
		return m->iss_pin_val;
	}
	switch (m->isn_gen) {
	case MODEL_ISN_RFC:
		iss = (uint32_t)(m->case_ms * 250u) + m->case_conns +
		      (uint32_t)mix64(tuple ^ 0x73796e66696e4b31ull);
		break;
	case MODEL_ISN_CONSTANT:
		break;
	case MODEL_ISN_STEP:
		iss += 64000u * m->conns;
		break;
	case MODEL_ISN_CLOCK:
		iss = (uint32_t)(m->open_ms * 250u) + m->conns;
		break;
	}
	m->case_conns++;
	m->conns++;
	return iss;
}

/* splitmix64: the pick=random generator (deterministic per case, so a run replays). */
static uint32_t model_rand(struct model_target *m, uint32_t n)
{
	uint64_t z = (m->rng += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	z ^= z >> 31;
	return (uint32_t)(((z >> 32) * n) >> 32);
}

/* Turn pattern p into the segment the stack emits: the low end of every range. */
static void concretise(const struct model_target *m, const struct sfo_pattern *p, struct sfo_seg *s)
{
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
}

/* Does this step emit pattern p? The reference behaviour emits exactly the EMIT ones;
 * with `optional`, also, now and then, a control segment the outcome allows without
 * requiring (min 0: an optional ACK or RST), once. Optional data, SYN and FIN are left
 * out: where they sit depends on what else goes out in the step (a FIN after the data
 * before it), which the low end of a pattern's ranges does not say. */
static int model_emits(struct model_target *m, const struct sfo_pattern *p, int optional)
{
	if (p->pf & SFO_PAT_EMIT)
		return 1;
	if (!optional || p->min != 0 || p->max < 1 || p->len_lo != 0 ||
	    (p->flags_set & (SFO_SYN | SFO_FIN)) || (p->pf & SFO_PAT_WITHIN))
		return 0;
	return model_rand(m, 4) == 0;
}

/* The segments outcome o sends, into out; returns how many. */
static size_t model_segments(struct model_target *m, const struct sfo_outcome *o, int optional,
			     struct sfo_seg out[SFO_MAX_PAT])
{
	size_t n = 0;
	for (int i = 0; i < o->npat; i++)
		if (model_emits(m, &o->pat[i], optional))
			concretise(m, &o->pat[i], &out[n++]);
	return n;
}

/* pick=random: an outcome at random and its segments, as the oracle judges them. The
 * outcome committed is the one the judge takes for those segments (the first that fits,
 * as the runner commits it), so the stack's TCB and the oracle's stay the same. If the
 * judge accepts none (an outcome the oracle offers but its own judge rejects: an
 * inconsistency of the oracle, counted in `rejected`), the reference outcome is used. */
static const struct sfo_outcome *model_pick(struct model_target *m, struct sfo_seg out[SFO_MAX_PAT],
					    size_t *n)
{
	const struct sfo_expect *e = &m->expect;
	struct sfo_cfg jcfg = m->cfg;
	struct sfo_verdict v;
	int which = -1;
	const struct sfo_outcome *o = &e->out[e->nout > 1 ? model_rand(m, e->nout) : 0];
	*n = model_segments(m, o, 1, out);
	jcfg.flags |= SFO_CFG_BRIEF;
	sfo_judge(m->tp, &jcfg, e, out, *n, o->next.state, NULL, &v, &which);
	if (v.kind == SFO_DIV_OK && which >= 0)
		return &e->out[which];
	m->rejected++;
	*n = model_segments(m, &e->out[0], 0, out);
	return &e->out[0];
}

/* Take one acceptable outcome (the reference one, or any with pick=random), apply the
 * fault, emit its segments, and commit it. */
static int model_apply(struct model_target *m, const struct sfo_event *ev, int orphan)
{
	struct sfo_seg out[SFO_MAX_PAT];
	size_t n = 0;
	if (orphan)
		sfo_step_orphan(m->tp, &m->cfg, &m->expect);
	else
		sfo_step(m->tp, &m->cfg, ev, &m->expect);
	struct sfo_outcome *o = &m->expect.out[0];
	if (m->fault) {
		m->fault->apply(m->tp, ev, m->expect.evclass, o);
		n = model_segments(m, o, 0, out);
	} else if (m->pick_random) {
		o = (struct sfo_outcome *)model_pick(m, out, &n);
	} else {
		n = model_segments(m, o, 0, out);
	}
	for (size_t i = 0; i < n; i++) {
		if (m->nq >= MODEL_QMAX) {
			snprintf(m->base.err, sizeof m->base.err, "output queue full");
			return -1;
		}
		int len = sfh_wire_build(m->wire, m->bp, &out[i], m->q[m->nq].data,
					 sizeof m->q[m->nq].data);
		if (len < 0) {
			snprintf(m->base.err, sizeof m->base.err, "cannot build a segment");
			return -1;
		}
		if (m->fault && (out[i].flags & m->fault->bad_csum_flags))
			m->q[m->nq].data[36] ^= 0x5a; /* the TCP checksum's first octet */
		m->q[m->nq].at_us = m->case_ms * 1000; /* emitted at the end of the event */
		m->q[m->nq++].len = (uint16_t)len;
	}
	sfo_commit(m->tp, o, out, n);
	return 0;
}

uint64_t sfh_model_rejected(const struct sfh_target *t)
{
	return t && t->ops == &sfh_target_model_ops ? ((const struct model_target *)t)->rejected
						    : 0;
}

/* ---- several TCBs (sfh_target.multi) ---- */

/* Connection k's port on the stack's side: the listener's in the passive role; in the
 * active role each connect() binds its own. */
static uint16_t conn_tport(const struct model_target *m, int k)
{
	return (uint16_t)(m->ep.target_port + (m->role == SFH_ROLE_ACTIVE ? k : 0));
}

/* Act on connection k (or the listener, MODEL_LSN) from now on. */
static void model_address(struct model_target *m, int k)
{
	m->tp = &m->tcbs[k];
	m->cback = m->back;
	if (k < MODEL_LSN) {
		m->cback.peer_port = conn_tport(m, k);
		m->cback.target_port = m->base.conn_port[k];
	}
	m->bp = &m->cback;
	m->cfg.flags &= ~(uint32_t)SFO_CFG_LISTENER;
	if (k < MODEL_LSN && m->tcbs[MODEL_LSN].state == SFO_LISTEN &&
	    conn_tport(m, k) == m->ep.target_port)
		m->cfg.flags |= SFO_CFG_LISTENER;
}

/* The connection the runner's selector names (sel_port), or the listener; -1 none. */
static int model_selected(const struct model_target *m)
{
	if (m->base.sel_listener)
		return MODEL_LSN;
	for (int k = 0; k < SFH_MAX_CONNS; k++)
		if (m->base.conn_port[k] == m->base.sel_port)
			return k;
	return -1;
}

/* A connection gone (CLOSED, or back in LISTEN as RFC 9293 has it): the listener, which
 * is apart, answers its 4-tuple from now on. */
static void model_settle(struct model_target *m, int k)
{
	struct sfo_tcb *t = &m->tcbs[k];
	if (k < MODEL_LSN && (t->state == SFO_LISTEN || t->state == SFO_CLOSED)) {
		/* what its end left for later calls stays, as the runner keeps it */
		int closed = t->state == SFO_CLOSED;
		uint8_t err = closed ? t->closed_err : 0;
		uint32_t queued = closed ? t->rcv_queued : 0;
		uint32_t rd = t->fl & SFO_TF_RD_CLOSED;
		uint64_t now = t->now_ms;
		sfo_tcb_init(t);
		sfo_tcb_family(t, m->ep.ipv6);
		t->now_ms = now;
		t->closed_err = err;
		t->rcv_queued = queued;
		t->fl |= rd;
	}
}

static int model_inject_multi(struct model_target *m, struct sfo_event *ev,
			      const struct sfh_endpoints *ep)
{
	int k = 0;
	if (ep->ipv6 != m->ep.ipv6)
		return 0;
	while (k < SFH_MAX_CONNS &&
	       (ep->target_port != m->base.conn_port[k] || ep->peer_port != conn_tport(m, k)))
		k++;
	if (k == SFH_MAX_CONNS)
		return 0; /* no connection of the case: not ours to answer */
	struct sfo_tcb *t = &m->tcbs[k];
	/* no connection on the 4-tuple: the listener's LISTEN TCB spawns one */
	if (t->state == SFO_CLOSED && m->tcbs[MODEL_LSN].state == SFO_LISTEN &&
	    conn_tport(m, k) == m->ep.target_port)
		*t = m->tcbs[MODEL_LSN];
	if ((t->state == SFO_LISTEN || t->state == SFO_CLOSED || t->state == SFO_TIME_WAIT) &&
	    (ev->u.seg.flags & (SFO_SYN | SFO_ACK | SFO_RST)) == SFO_SYN)
		m->cfg.stack_iss = model_next_iss(m);
	model_address(m, k);
	enum sfo_state before = t->state;
	int rc = model_apply(m, ev, 0);
	/* reopened from TIME-WAIT: the listener's, not accepted yet (as the runner has it) */
	if (before == SFO_TIME_WAIT && t->state == SFO_SYN_RECEIVED)
		t->fl = (t->fl & ~(uint32_t)SFO_TF_ACCEPTED) | SFO_TF_PASSIVE;
	model_settle(m, k);
	return rc;
}

static int model_inject(struct sfh_target *t, const uint8_t *ip, size_t len)
{
	struct model_target *m = (struct model_target *)t;
	struct sfo_event ev = {.kind = SFO_EV_SEGMENT};
	t->clock_us = m->case_ms * 1000;
	struct sfh_endpoints ep;
	int csum_ok = 0;
	if (sfh_wire_parse(ip, len, &ep, &ev.u.seg, &csum_ok) != 0 || !csum_ok)
		return 0; /* not a valid TCP segment: a real stack drops it silently */
	if (t->multi)
		return model_inject_multi(m, &ev, &ep);
	/* parse() names the sender "target": here the sender is the peer */
	if (ep.target_port != m->ep.peer_port || ep.peer_port != m->ep.target_port ||
	    ep.ipv6 != m->ep.ipv6)
		return 0;
	/* where a SYN may open a new connection (a listener, MAY-2's TIME-WAIT reopen), it
	 * gets a new ISN */
	if ((m->tcb.state == SFO_LISTEN || m->tcb.state == SFO_CLOSED ||
	     m->tcb.state == SFO_TIME_WAIT) &&
	    (ev.u.seg.flags & (SFO_SYN | SFO_ACK | SFO_RST)) == SFO_SYN)
		m->cfg.stack_iss = model_next_iss(m);
	return model_apply(m, &ev, 0);
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

/* The result the model stack returns: of those the model allows in the state before
 * the call (sfo_call_results), the one RFC 9293 3.10 names, in sockets terms: success
 * where it is allowed (RECEIVE: with octets to read; else end of stream, else a wait);
 * an end the connection met (a reset, a refusal, a timeout), reported once; then the
 * first of a fixed order (EPIPE first for SEND, as sockets answer it). */
/* The err_told flag of the TCB the next step acts on. */
static int *told_of(struct model_target *m)
{
	return &m->err_told[m->tp == &m->tcb ? SFH_MAX_CONNS + 1 : m->tp - m->tcbs];
}

static int model_result(struct model_target *m, enum sfo_call call, uint32_t took)
{
	static const uint8_t order[] = {
	    SFO_ERR_EOF,	SFO_ERR_EAGAIN,	  SFO_ERR_ENOTCONN,	SFO_ERR_EPIPE,
	    SFO_ERR_EISCONN,	SFO_ERR_EALREADY, SFO_ERR_EDESTADDRREQ, SFO_ERR_EINVAL,
	    SFO_ERR_EOPNOTSUPP, SFO_ERR_EBADF,	  SFO_ERR_EADDRINUSE,	SFO_ERR_ENOBUFS};
	struct sfo_callres cr;
	sfo_call_results(m->tp, call, &cr);
	int eof_fault = m->fault && strcmp(m->fault->name, "recv-eof-early") == 0;
	if (call == SFO_CALL_RECEIVE && took == 0 && eof_fault && m->tp->state == SFO_ESTABLISHED)
		return SFO_ERR_OK; /* the seeded bug: an early end of stream */
	if ((cr.allow & (1u << SFO_ERR_OK)) && (call != SFO_CALL_RECEIVE || took))
		return SFO_ERR_OK;
	if (m->tp->state == SFO_CLOSED && m->tp->closed_err && !*told_of(m) &&
	    (cr.allow & (1u << m->tp->closed_err))) {
		*told_of(m) = 1;
		return m->tp->closed_err;
	}
	if (call == SFO_CALL_SEND && (cr.allow & (1u << SFO_ERR_EPIPE)))
		return SFO_ERR_EPIPE;
	for (size_t i = 0; i < sizeof order; i++)
		if (cr.allow & (1u << order[i]))
			return order[i] == SFO_ERR_EOF ? SFO_ERR_OK : order[i];
	return SFO_ERR_ERROR;
}

static int model_call(struct sfh_target *t, enum sfo_call call, uint32_t arg)
{
	struct model_target *m = (struct model_target *)t;
	struct sfo_event ev = {.kind = SFO_EV_CALL};
	t->clock_us = m->case_ms * 1000;
	uint32_t took = 0;
	int k = t->multi ? model_selected(m) : 0;
	if (k < 0) {
		snprintf(t->err, sizeof t->err, "no connection of the case has peer port %u",
			 t->sel_port);
		return -1;
	}
	enum sfo_state lsn = m->tcbs[MODEL_LSN].state;
	if (t->multi)
		model_address(m, k);
	if (call == SFO_CALL_SEND)
		took = model_send_room(m->tp, arg);
	else if (call == SFO_CALL_RECEIVE)
		took = (arg == 0 || arg > m->tp->rcv_queued) ? m->tp->rcv_queued : arg;
	if (call == SFO_CALL_CONNECT)
		m->cfg.stack_iss = model_next_iss(m);
	ev.u.call.call = call;
	ev.u.call.arg = (call == SFO_CALL_SEND || call == SFO_CALL_RECEIVE) ? took : arg;
	t->call_err = model_result(m, call, took);
	if (t->call_err != SFO_ERR_OK)
		took = 0; /* an error takes nothing */
	if (model_apply(m, &ev, 0) != 0)
		return -1;
	if (m->tp->state != SFO_CLOSED)
		*told_of(m) = 0;
	if (!t->multi)
		return (int)took;
	model_settle(m, k);
	/* the listener closed: the connections nobody accepted go their way (the
	 * reference: aborted, 3.10.5) */
	for (int j = 0; k == MODEL_LSN && lsn == SFO_LISTEN &&
			m->tcbs[MODEL_LSN].state == SFO_CLOSED && j < SFH_MAX_CONNS;
	     j++) {
		const struct sfo_tcb *c = &m->tcbs[j];
		if (c->state == SFO_CLOSED || !(c->fl & SFO_TF_PASSIVE) ||
		    ((c->fl & SFO_TF_ACCEPTED) && !fault_is(m, "listener-close-resets-all")))
			continue;
		model_address(m, j);
		if (model_apply(m, &ev, 1) != 0)
			return -1;
		model_settle(m, j);
	}
	return (int)took;
}

static int model_advance(struct sfh_target *t, uint32_t ms)
{
	struct model_target *m = (struct model_target *)t;
	struct sfo_event ev = {.kind = SFO_EV_WAIT};
	ev.u.wait_ms = ms;
	t->clock_us = m->case_ms * 1000; /* the step begins */
	m->case_ms += ms;
	m->open_ms += ms;
	if (!t->multi)
		return model_apply(m, &ev, 0);
	for (int k = 0; k <= MODEL_LSN; k++) {
		model_address(m, k);
		if (model_apply(m, &ev, 0) != 0)
			return -1;
		model_settle(m, k);
	}
	return 0;
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
	struct model_target *m = (struct model_target *)t;
	int k = t->multi ? model_selected(m) : 0;
	*st = !t->multi ? m->tcb.state : k >= 0 ? m->tcbs[k].state : SFO_CLOSED;
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
    .summary = "the reference model as a stack (self-check); model:fault=NAME seeds a bug, "
	       "model:pick=random takes any allowed outcome",
    .caps = SFH_CAP_STATE | SFH_CAP_VTIME | SFH_CAP_PASSIVE | SFH_CAP_ACTIVE | SFH_CAP_EMIT_TIME |
	    SFH_CAP_TIMERS | SFH_CAP_CALLRES | SFH_CAP_IPV6 | SFH_CAP_LISTENER | SFH_CAP_CONNS,
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
