/* The runner: one scenario, one target, the model in lockstep, a verdict per step.
 *
 * A scenario without selectors has one TCB (cn[0]), which the passive OPEN makes a
 * listener and the first SYN the connection, as RFC 9293 tells it. One that names its
 * TCBs (sfh_scn_multi) keeps the listener in cn[LSN] and each connection N in cn[N-1]
 * on its own 4-tuple (peer port conn_port[N-1]); a segment for a connection that does
 * not exist meets a copy of the listener, the LISTEN TCB that spawns it (3.10.7.2). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"
#include "runner.h"

#define SFH_DRAIN_MAX 64

#define LSN    SFH_MAX_CONNS	   /* cn[LSN]: the listener, in a scenario with selectors */
#define NTCB   (SFH_MAX_CONNS + 1) /* connections, then the listener */
#define PORT_K 0x10000000u	   /* connection k's default pisn: the scenario's + k * this */

struct sfh_runner {
	struct sfh_wire *wire;
	struct sfh_pkt pkts[SFH_DRAIN_MAX];
	struct sfh_pkt inpkt;
	struct sfo_expect expect[NTCB];
};

/* One TCB of the case and what the current step did to it. */
struct conn {
	struct sfo_tcb tcb;
	uint32_t pisn;		   /* the `pisn` anchor on this connection */
	uint16_t peer_port, target_port; /* its 4-tuple (target_port 0: not learned yet) */
	int tport_guess; /* target_port is a guess until the target's SYN shows it */
	struct sfo_seg segs[SFH_DRAIN_MAX]; /* what the target emitted on it in the step */
	uint32_t frame[SFH_DRAIN_MAX];	    /* ... their pcap frame numbers */
	size_t nsegs;
	size_t out_idx; /* next emitted segment an `out` assertion looks at */
	int bad_csum;	/* index+1 of the first emitted segment whose checksum fails, or 0 */
	enum sfo_state observed;
	uint16_t state_ok;   /* states equivalent to the model's after its last step */
	uint64_t peer_sent;  /* payload octets the peer sent, as an upper bound (highest end) */
	uint64_t delivered;  /* octets the application received */
};

/* Everything about one run in progress. */
struct run {
	struct sfh_runner *r;
	struct sfh_target *t;
	const struct sfh_scenario *s;
	const struct sfh_run_opts *o;
	struct sfh_result *res;
	struct sfo_cfg cfg;
	struct conn cn[NTCB]; /* cn[0] alone without selectors */
	int multi;	      /* the scenario names its TCBs (sfh_scn_multi) */
	int k;		      /* the TCB being judged: an index into cn */
	int cur;	      /* the connection `out` and `expect` address by default */
	struct sfh_endpoints ep;
	uint32_t pisn;
	uint32_t ts[SFH_NTS_ANCHORS]; /* timestamp anchors: ptsv (ours), ttsv (the target's) */
	uint64_t now_us;	      /* virtual capture clock for pcap timestamps */
	uint32_t npkts;		      /* packets so far, both ways: frame numbers in the pcap */
	struct sfo_event ev; /* the step's event as the model saw it (for o->step) */
	int refused;         /* ... a refused call */
	uint32_t wait_ms;    /* ... a wait's asked-for time */
	struct sfh_progress here; /* the step in progress, should the target die in it */
	uint32_t step_in_pkt; /* frame of this step's incoming segment, 0 for a call or wait */
	uint32_t step_emit0;  /* frames before this step's first emitted segment */
	uint32_t step_space;  /* sequence space of this step's incoming segment */
	int since_event;      /* sfh_result.since_*: kept current as steps conform */
	uint32_t since_line;
	sfo_rule_t since_rule;
	int since_silent;
};

#define C(x) (&(x)->cn[(x)->k])
#define SFO_BIT_STATE(s) ((uint16_t)(1u << (s)))

/* A target op failed: an out-of-process stack that died or hung in it gives the case its
 * verdict (0: stop); anything else is a harness error (-1) named by what. */
static int target_failed(struct run *x, const char *what)
{
	struct sfh_target *t = x->t;
	if (t->died == SFO_DIV_CRASH || t->died == SFO_DIV_HANG) {
		sfh_crash_result(t->ops->name, &x->here, t->died, t->died_what, &t->death, x->res);
		return 0;
	}
	snprintf(x->res->err, sizeof x->res->err, "%s: %s: %s", t->ops->name, what, t->err);
	return -1;
}

struct sfh_runner *sfh_runner_new(char *err, size_t errlen)
{
	struct sfh_runner *r = calloc(1, sizeof *r);
	if (!r) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	r->wire = sfh_wire_new(err, errlen);
	if (!r->wire) {
		free(r);
		return NULL;
	}
	return r;
}

void sfh_runner_free(struct sfh_runner *r)
{
	if (!r)
		return;
	sfh_wire_free(r->wire);
	free(r);
}

/* FNV-1a over the signature's parts joined by '/', without writing the text. */
static uint64_t signature_hash(const char *const part[5])
{
	uint64_t h = SFH_FNV1A_INIT;
	for (int i = 0; i < 5; i++)
		h = sfh_fnv1a(i ? sfh_fnv1a(h, "/", 1) : h, part[i], strlen(part[i]));
	return h;
}

static void signature_parts(const char *target, const struct sfo_verdict *v, const char *part[5])
{
	const struct sfo_rule_info *ri = sfo_rule(v->rule);
	part[0] = target;
	part[1] = sfo_state_name(v->before);
	part[2] = sfo_evclass_name(v->evclass);
	part[3] = ri ? ri->id : "stack";
	part[4] = sfo_div_kind_name(v->kind);
}

uint64_t sfh_signature(const char *target, const struct sfo_verdict *v, char *buf, size_t cap)
{
	const char *part[5];
	signature_parts(target, v, part);
	snprintf(buf, cap, "%s/%s/%s/%s/%s", part[0], part[1], part[2], part[3], part[4]);
	return signature_hash(part);
}

static void trace(struct run *x, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void trace(struct run *x, const char *fmt, ...)
{
	char line[512];
	va_list ap;
	if (!x->o->trace)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	x->o->trace(x->o->trace_ctx, line);
}

/* The value of an anchor now, from the model's view of the target's TCB. */
static uint32_t anchor_value(const struct run *x, enum sfh_anchor a)
{
	const struct sfo_tcb *t = &C(x)->tcb;
	int iss = !!(t->fl & SFO_TF_ISS_KNOWN), irs = !!(t->fl & SFO_TF_IRS_KNOWN);
	switch (a) {
	case SFH_A_ABS:
		return 0;
	case SFH_A_PISN:
		return C(x)->pisn;
	case SFH_A_TISN:
		return iss ? t->iss : 0;
	case SFH_A_PNXT:
		return irs ? t->rcv_nxt : C(x)->pisn;
	case SFH_A_TNXT:
		return iss ? t->snd_nxt : 0;
	case SFH_A_TUNA:
		return iss ? t->snd_una : 0;
	case SFH_A_WEND:
		return (irs ? t->rcv_nxt : C(x)->pisn) + t->rcv_wnd;
	}
	return 0;
}

static uint32_t resolve(const struct run *x, const struct sfh_num *n)
{
	return anchor_value(x, (enum sfh_anchor)n->anchor) + (uint32_t)n->off;
}

static void in_to_seg(const struct run *x, const struct sfh_in *in, struct sfo_seg *seg)
{
	uint32_t value[SFH_NANCHORS];
	for (int a = 0; a < SFH_NANCHORS; a++)
		value[a] = anchor_value(x, (enum sfh_anchor)a);
	sfh_in_to_seg(in, value, x->ts, seg);
}

/* Bases for printing: a peer segment's seq counts from pisn, its ack from the target's
 * ISN; the other way round for what the target emits. */
static void fmt_seg(const struct run *x, const struct sfo_seg *s, int from_target, char *buf,
		    size_t cap)
{
	uint32_t tisn = (C(x)->tcb.fl & SFO_TF_ISS_KNOWN) ? C(x)->tcb.iss : 0;
	if (from_target)
		sfh_seg_format(s, tisn, C(x)->pisn, buf, cap);
	else
		sfh_seg_format(s, C(x)->pisn, tisn, buf, cap);
}

/* The TCB a segment the target emitted belongs to (cn index), or -1 if none of the case:
 * by its peer port, and its target port once known (the active role learns it from the
 * target's SYN). */
static int conn_of(struct run *x, const struct sfh_endpoints *ep, const struct sfo_seg *seg)
{
	int n = x->multi ? SFH_MAX_CONNS : 1;
	for (int k = 0; k < n; k++) {
		struct conn *c = &x->cn[k];
		if (ep->peer_port != c->peer_port)
			continue;
		if ((c->target_port == 0 || c->tport_guess) && (seg->flags & SFO_SYN)) {
			c->target_port = ep->target_port; /* active role: learn the port */
			c->tport_guess = 0;
		}
		if (ep->target_port == c->target_port)
			return k;
	}
	return -1;
}

/* Collect what the target emitted for this case: parsed into each TCB's segs, written to
 * pcap. 0, 1 when the target died (the case's verdict is made), -1 on an error. */
static int drain(struct run *x)
{
	struct sfh_runner *r = x->r;
	x->step_emit0 = x->npkts;
	for (int k = 0; k < NTCB; k++) {
		x->cn[k].nsegs = 0;
		x->cn[k].out_idx = 0;
		x->cn[k].bad_csum = 0;
	}
	for (;;) {
		int got = sfh_target_drain(x->t, r->pkts, SFH_DRAIN_MAX);
		if (got < 0) /* 1: the target died, the verdict is made */
			return target_failed(x, "drain") == 0 ? 1 : -1;
		if (got == 0)
			break;
		for (int i = 0; i < got; i++) {
			struct sfh_endpoints ep;
			struct sfo_seg seg;
			int csum_ok = 1;
			if (sfh_wire_parse(r->pkts[i].data, r->pkts[i].len, &ep, &seg, &csum_ok) !=
			    0)
				continue;
			int k = conn_of(x, &ep, &seg);
			if (k < 0)
				continue;
			struct conn *c = &x->cn[k];
			x->now_us++;
			x->npkts++;
			sfh_pcap_write(x->o->pcap, r->pkts[i].data, r->pkts[i].len, x->now_us);
			if (!csum_ok && !c->bad_csum)
				c->bad_csum = (int)c->nsegs + 1;
			if (seg.opts & SFO_OPT_TS) /* the `ttsv` anchor: its latest TSval */
				x->ts[SFH_TS_TTSV] = seg.tsval;
			if (c->nsegs < SFH_DRAIN_MAX) {
				c->frame[c->nsegs] = x->npkts;
				c->segs[c->nsegs++] = seg;
			}
		}
		if (got < SFH_DRAIN_MAX)
			break;
	}
	if (!x->multi) /* the active role's port as learned, for the segments we build */
		x->ep.target_port = x->cn[0].target_port;
	return 0;
}

static void record_divergence(struct run *x, int ev_index, uint32_t line)
{
	struct sfh_result *res = x->res;
	res->div_event = ev_index;
	res->div_line = line;
	const struct sfo_verdict *v = &res->verdict;
	res->div_packet = v->seg > 0 && (size_t)v->seg <= C(x)->nsegs ? C(x)->frame[v->seg - 1]
								     : x->step_in_pkt;
	res->since_event = x->since_event;
	res->since_line = x->since_line;
	res->since_rule = x->since_rule;
	res->since_silent = x->since_silent;
	if (x->o->brief) {
		const char *part[5];
		signature_parts(x->t->ops->name, &res->verdict, part);
		res->sig_hash = signature_hash(part);
		return;
	}
	res->sig_hash =
	    sfh_signature(x->t->ops->name, &res->verdict, res->signature, sizeof res->signature);
}

static void trace_verdict(struct run *x, const struct sfo_verdict *v, enum sfo_state after)
{
	if (!x->o->trace) /* a campaign's runs: no rule lookup for a line nobody reads */
		return;
	const struct sfo_rule_info *ri = sfo_rule(v->rule);
	const char *rid = ri ? ri->id : "?";
	if (v->kind == SFO_DIV_OK) {
		trace(x, "         => %-13s ok  [%s %s%s%s]%s%s", sfo_state_name(after), rid,
		      ri ? ri->section : "", ri && ri->req[0] ? " " : "", ri ? ri->req : "",
		      x->multi ? "  " : "", x->multi ? sfh_sel_name((uint8_t)(x->k + 1)) : "");
		return;
	}
	trace(x, "         => %-13s %s %s: rule %s (RFC 9293 %s%s%s, %s): %s",
	      sfo_state_name(v->observed), v->accepted ? "ACCEPTED" : "DIVERGENCE",
	      sfo_div_kind_name(v->kind), rid, ri ? ri->section : "", ri && ri->req[0] ? " " : "",
	      ri ? ri->req : "", sfo_severity_name(v->sev), v->detail);
	if (ri)
		trace(x, "            %s", ri->title);
	if (v->accepted)
		trace(x, "            accepted by profile %s: %s", x->cfg.profile->name,
		      v->accepted->reason);
}

/* MUST-2: a segment with a wrong checksum is broken whatever its fields say. */
static int check_checksums(struct run *x, int ev_index, uint32_t line, const struct sfo_rebase *rb)
{
	struct sfo_verdict *v = &x->res->verdict;
	char seg[120];
	if (!C(x)->bad_csum)
		return 1;
	sfh_seg_format(&C(x)->segs[C(x)->bad_csum - 1], rb->target_isn, rb->peer_isn, seg, sizeof seg);
	memset(v, 0, sizeof *v);
	v->kind = SFO_DIV_FIELD;
	v->rule = (sfo_rule_t)sfo_rule_find("seg.checksum");
	v->sev = SFO_SEV_MUST;
	v->before = C(x)->tcb.state;
	v->expected = C(x)->tcb.state;
	v->observed = C(x)->observed;
	v->evclass = x->r->expect[x->k].evclass;
	v->accepted = sfo_profile_accepts(x->cfg.profile, v->rule, v->kind);
	snprintf(v->detail, sizeof v->detail, "checksum: segment %d (%s) fails verification",
		 C(x)->bad_csum, seg);
	v->seg = C(x)->bad_csum;
	trace_verdict(x, v, C(x)->observed);
	record_divergence(x, ev_index, line);
	return 0;
}

/* Record where we are before the target sees the event. */
static void progress(struct run *x, int ev_index, uint32_t line)
{
	struct sfh_progress *p = &x->here;
	p->event = ev_index;
	p->line = line;
	p->before = C(x)->tcb.state;
	p->evclass = x->r->expect[x->k].evclass;
	if (x->o->progress)
		*x->o->progress = *p;
}

/* After a step that conformed: an acknowledgment of exactly the model's RCV.NXT shows
 * that the target agrees on what it took in; a step that took sequence space in without
 * one may be where the two parted (a segment taken that the model drops, or dropped that
 * the model takes), shown only later by an acknowledgment number. So may a step whose
 * space the model dropped even when acknowledged: a stack may answer first and take the
 * text after (lwIP with an ACK of unsent data). The earliest such step is kept until an
 * acknowledgment in a later step confirms RCV.NXT again. */
static void note_since(struct run *x, int ev_index, uint32_t line, sfo_rule_t rule, int dropped)
{
	int confirmed = 0;
	for (size_t i = 0; i < C(x)->nsegs; i++)
		confirmed |= (C(x)->segs[i].flags & SFO_ACK) && C(x)->segs[i].ack == C(x)->tcb.rcv_nxt;
	if (confirmed)
		x->since_event = 0;
	if (confirmed && !dropped)
		return;
	/* the earliest such step; a dropped one is the likelier source, so it takes the
	 * place of one the model took */
	if (x->step_space && (!x->since_event || (dropped && !x->since_silent))) {
		x->since_event = ev_index + 1;
		x->since_line = line;
		x->since_rule = rule;
		x->since_silent = dropped;
	}
}

/* Point the target's next call() and state() at TCB k (a scenario with selectors). */
static void address(struct run *x, int k)
{
	if (!x->multi)
		return;
	x->t->sel_listener = k == LSN;
	x->t->sel_port = k == LSN ? 0 : x->cn[k].peer_port;
}

/* The target's state of TCB k, into cn[k].observed. 0, or as target_failed. */
static int observe(struct run *x, int k)
{
	address(x, k);
	if (sfh_target_state(x->t, &x->cn[k].observed) != 0)
		return target_failed(x, "state") == 0 ? 1 : -1;
	return 0;
}

/* A connection of a scenario with selectors that is not (or no longer) a connection: the
 * listener, not it, answers the next SYN on its 4-tuple. LISTEN is what RFC 9293 says a
 * passive TCB returns to; here the listener is apart and stays, so the connection is
 * gone (CLOSED), and nothing of it (how it was opened, whether accepted) carries over. */
static void conn_normalize(struct run *x, int k)
{
	struct sfo_tcb *t = &x->cn[k].tcb;
	if (!x->multi || k == LSN || (t->state != SFO_LISTEN && t->state != SFO_CLOSED))
		return;
	uint64_t now = t->now_ms;
	sfo_tcb_init(t);
	t->now_ms = now;
}

/* Judge TCB x->k's part of the step (its expectation in r->expect[x->k], the segments
 * drained into it, its state observed); commit or record a divergence. Returns 1 to go
 * on, 0 to stop (divergence), -1 on a harness error. */
static int judge_tcb(struct run *x, int ev_index, uint32_t line)
{
	struct sfh_runner *r = x->r;
	struct sfo_verdict v;
	struct sfo_rebase rb = {C(x)->pisn, (C(x)->tcb.fl & SFO_TF_ISS_KNOWN) ? C(x)->tcb.iss : 0, 1};
	int which = -1;
	char buf[200];

	/* The ISS becomes known from this very step's SYN: print relative to it. */
	if (!(C(x)->tcb.fl & SFO_TF_ISS_KNOWN))
		for (size_t i = 0; i < C(x)->nsegs; i++)
			if (C(x)->segs[i].flags & SFO_SYN)
				rb.target_isn = C(x)->segs[i].seq;
	for (size_t i = 0; x->o->trace && i < C(x)->nsegs; i++) {
		sfh_seg_format(&C(x)->segs[i], rb.target_isn, C(x)->pisn, buf, sizeof buf);
		if (x->multi)
			trace(x, "     <   %s  (%s)", buf, sfh_sel_name((uint8_t)(x->k + 1)));
		else
			trace(x, "     <   %s", buf);
	}
	if (check_checksums(x, ev_index, line, &rb) == 0)
		return 0;
	/* a connection that is gone shows CLOSED for its 4-tuple where the model, as in the
	 * RFC, has it back in LISTEN: the listener, apart, is what listens */
	if (x->multi && x->k != LSN)
		for (unsigned i = 0; i < r->expect[x->k].nout; i++)
			if (r->expect[x->k].out[i].state_ok &
			    (SFO_BIT_STATE(SFO_LISTEN) | SFO_BIT_STATE(SFO_CLOSED)))
				r->expect[x->k].out[i].state_ok |=
				    SFO_BIT_STATE(SFO_LISTEN) | SFO_BIT_STATE(SFO_CLOSED);
	sfo_judge(&C(x)->tcb, &x->cfg, &r->expect[x->k], C(x)->segs, C(x)->nsegs, C(x)->observed, &rb, &v, &which);
	x->res->steps++;
	if (x->o->cover) {
		struct sfh_cover c = {
		    .before = C(x)->tcb.state, .evclass = r->expect[x->k].evclass, .kind = v.kind};
		const struct sfo_outcome *oc = &r->expect[x->k].out[which >= 0 ? which : 0];
		c.after = C(x)->observed != SFO_STATE_UNKNOWN ? C(x)->observed : oc->next.state;
		for (size_t i = 0; i < C(x)->nsegs; i++)
			c.resp_mask |= 1u << sfo_resp_class(&C(x)->segs[i]);
		c.rules = oc->rules;
		c.nrules = oc->nrules;
		x->o->cover(x->o->cover_ctx, &c);
	}
	if (x->o->step) {
		struct sfh_step st = {.event = ev_index, .line = line, .ev = &x->ev,
				      .refused = x->refused, .wait_ms = x->wait_ms,
				      .before = &C(x)->tcb, .expect = &r->expect[x->k], .segs = C(x)->segs,
				      .nsegs = C(x)->nsegs, .observed = C(x)->observed, .v = &v,
				      .which = which, .pisn = C(x)->pisn};
		x->o->step(x->o->step_ctx, &st);
	}
	if (v.kind != SFO_DIV_OK) {
		const struct sfo_tcb *n = &r->expect[x->k].out[0].next;
		x->res->noop = x->step_in_pkt && r->expect[x->k].nout && n->state == C(x)->tcb.state &&
			       n->rcv_nxt == C(x)->tcb.rcv_nxt && n->snd_una == C(x)->tcb.snd_una &&
			       n->snd_wnd == C(x)->tcb.snd_wnd;
		/* A state difference on a step whose own ACK carries exactly the RCV.NXT the
		 * model has after it: the two agree on what was taken in, so no earlier step
		 * that took sequence space is where they parted (a held out-of-order FIN, then
		 * the wrong state when the gap fills, is the state's fault). */
		for (size_t i = 0; v.kind == SFO_DIV_STATE && r->expect[x->k].nout && i < C(x)->nsegs; i++)
			if ((C(x)->segs[i].flags & SFO_ACK) &&
			    C(x)->segs[i].ack == r->expect[x->k].out[0].next.rcv_nxt) {
				x->since_event = 0;
				x->since_silent = 0;
			}
		x->res->verdict = v;
		trace_verdict(x, &v, C(x)->observed);
		record_divergence(x, ev_index, line);
		return 0;
	}
	uint32_t rcv_nxt = C(x)->tcb.rcv_nxt;
	sfo_commit(&C(x)->tcb, &r->expect[x->k].out[which], C(x)->segs, C(x)->nsegs);
	C(x)->state_ok = r->expect[x->k].out[which].state_ok;
	note_since(x, ev_index, line, v.rule, x->step_space && C(x)->tcb.rcv_nxt == rcv_nxt);
	x->res->verdict = v;
	trace_verdict(x, &v, C(x)->observed != SFO_STATE_UNKNOWN ? C(x)->observed : C(x)->tcb.state);
	conn_normalize(x, x->k);
	return 1;
}

/* Judge the step of one TCB, x->k: drain what the target emitted, read its state. */
static int judge(struct run *x, int ev_index, uint32_t line)
{
	int d = drain(x);
	if (d != 0)
		return d < 0 ? -1 : 0;
	if ((d = observe(x, x->k)) != 0)
		return d < 0 ? -1 : 0;
	return judge_tcb(x, ev_index, line);
}

/* The highest payload octet the peer has sent, counted from its ISN: no stack can deliver
 * more than that to its application, whatever it did with the segments. */
static void note_peer_data(struct run *x, const struct sfo_seg *seg)
{
	if (!seg->len)
		return;
	uint32_t first = C(x)->pisn + 1;
	uint64_t end = (uint64_t)(uint32_t)(seg->seq + !!(seg->flags & SFO_SYN) - first) + seg->len;
	/* a start before ISN+1 (mod 2^32) reads as ~4e9: then every octet may count */
	if (end > C(x)->peer_sent)
		C(x)->peer_sent = end;
}

/* RECEIVE returned got octets: more than the peer ever sent is stale or invented data. */
static int check_delivery(struct run *x, int ev_index, uint32_t line, int got)
{
	struct sfo_verdict *v = &x->res->verdict;
	const int rule = sfo_rule_find("receive.data");
	C(x)->delivered += (uint64_t)got;
	if (C(x)->delivered <= C(x)->peer_sent)
		return 1;
	memset(v, 0, sizeof *v);
	v->kind = SFO_DIV_FIELD;
	v->rule = (sfo_rule_t)(rule >= 0 ? rule : 0);
	v->sev = SFO_SEV_MUST;
	v->before = v->expected = C(x)->tcb.state;
	v->observed = C(x)->observed;
	v->evclass = SFO_EC_CALL_RECEIVE;
	v->accepted = sfo_profile_accepts(x->cfg.profile, v->rule, v->kind);
	snprintf(v->detail, sizeof v->detail,
		 "receive: the application got %llu octets in all, the peer sent %llu",
		 (unsigned long long)C(x)->delivered, (unsigned long long)C(x)->peer_sent);
	trace_verdict(x, v, C(x)->observed);
	record_divergence(x, ev_index, line);
	return 0;
}

/* The model's configuration for TCB k: a connection of a scenario with selectors whose
 * listener is open may see a new SYN reopen it from TIME-WAIT (SFO_CFG_LISTENER). */
static struct sfo_cfg cfg_for(const struct run *x, int k)
{
	struct sfo_cfg c = x->cfg;
	if (x->multi && k != LSN && x->cn[LSN].tcb.state == SFO_LISTEN &&
	    x->cn[k].target_port == x->ep.target_port)
		c.flags |= SFO_CFG_LISTENER;
	return c;
}

/* After the addressed TCB's part of a step, in a scenario with selectors: the others.
 * Those the step orphaned (the listener closed under connections nobody accepted) are
 * judged by sfo_step_orphan; any other that emitted something, or that lives while time
 * passes (ev a wait), by ev, else by a step where nothing happened (a wait of 0). */
static int judge_others(struct run *x, int ev_index, uint32_t line, int done,
			const struct sfo_event *wait, int orphans)
{
	struct sfo_event idle = {.kind = SFO_EV_WAIT};
	for (int k = 0; x->multi && k < NTCB; k++) {
		struct conn *c = &x->cn[k];
		int orphan = orphans && k != LSN && c->tcb.state != SFO_CLOSED &&
			     (c->tcb.fl & SFO_TF_PASSIVE) && !(c->tcb.fl & SFO_TF_ACCEPTED);
		if (k == done || (!orphan && !c->nsegs && (!wait || c->tcb.state == SFO_CLOSED))) {
			if (wait && k != done) /* a CLOSED TCB's clock moves too */
				c->tcb.now_ms += wait->u.wait_ms;
			continue;
		}
		struct sfo_cfg cfg = cfg_for(x, k);
		x->k = k;
		if (orphan) {
			sfo_step_orphan(&c->tcb, &cfg, &x->r->expect[k]);
			x->ev = sfo_ev_call(SFO_CALL_ABORT, 0);
		} else {
			sfo_step(&c->tcb, &cfg, wait ? wait : &idle, &x->r->expect[k]);
			x->ev = wait ? *wait : idle;
		}
		x->refused = 0;
		int d = observe(x, k);
		if (d != 0)
			return d < 0 ? -1 : 0;
		if ((d = judge_tcb(x, ev_index, line)) != 1)
			return d;
	}
	return 1;
}

/* Judge a step that addressed TCB k: drain, then k's part, then the others'. */
static int judge_step(struct run *x, int k, int ev_index, uint32_t line, int orphans)
{
	if (!x->multi)
		return judge(x, ev_index, line);
	enum sfo_state lsn_before = x->cn[LSN].tcb.state;
	x->k = k;
	int d = judge(x, ev_index, line);
	if (d != 1)
		return d;
	orphans = orphans && k == LSN && lsn_before == SFO_LISTEN &&
		  x->cn[LSN].tcb.state == SFO_CLOSED;
	return judge_others(x, ev_index, line, k, NULL, orphans);
}

/* Which TCB a call addresses: without selectors the one; with them, `listen` (in either
 * role: a socket that listens is the listener) and the listener selector the listener,
 * else connection N (1 by default). */
static int call_tcb(const struct run *x, enum sfo_call call, uint8_t sel)
{
	if (!x->multi)
		return 0;
	if (sel == SFH_SEL_LISTENER || call == SFO_CALL_LISTEN)
		return LSN;
	return sel ? sel - 1 : 0;
}

static int step_call(struct run *x, int ev_index, enum sfo_call call, uint32_t arg, uint8_t sel,
		     uint32_t line)
{
	struct sfo_event ev = {.kind = SFO_EV_CALL};
	int k = call_tcb(x, call, sel);
	x->k = k;
	if (k != LSN)
		x->cur = k;
	struct sfo_cfg cfg = cfg_for(x, k);
	ev.u.call.call = call;
	ev.u.call.arg = arg;
	/* the class before the step names it should the stack die in it */
	x->r->expect[x->k].evclass = sfo_classify(&C(x)->tcb, &ev);
	progress(x, ev_index, line);
	address(x, k);
	int got = sfh_target_call(x->t, call, arg);
	if (got == SFH_CALL_REFUSED) {
		/* The API said no: nothing reached TCP, so the model sees no event and the
		 * step is judged as time standing still. */
		struct sfo_event idle = {.kind = SFO_EV_WAIT};
		trace(x, "%4u call %s%s%s (refused by the stack)", line, sfo_call_name(call),
		      x->multi ? " " : "", x->multi ? sfh_sel_name((uint8_t)(k + 1)) : "");
		sfo_step(&C(x)->tcb, &cfg, &idle, &x->r->expect[x->k]);
		x->ev = ev;
		x->refused = 1;
		return judge_step(x, k, ev_index, line, 0);
	}
	if (got < 0) {
		char what[32];
		snprintf(what, sizeof what, "call %s", sfo_call_name(call));
		return target_failed(x, what);
	}
	ev.u.call.call = call;
	ev.u.call.arg = (call == SFO_CALL_SEND || call == SFO_CALL_RECEIVE) ? (uint32_t)got : arg;
	if (call == SFO_CALL_SEND || call == SFO_CALL_RECEIVE)
		trace(x, "%4u call %s %u%s%s (the stack took %d)", line, sfo_call_name(call), arg,
		      x->multi ? " " : "", x->multi ? sfh_sel_name((uint8_t)(k + 1)) : "", got);
	else
		trace(x, "%4u call %s%s%s", line, sfo_call_name(call), x->multi ? " " : "",
		      x->multi ? sfh_sel_name((uint8_t)(k + 1)) : "");
	sfo_step(&C(x)->tcb, &cfg, &ev, &x->r->expect[x->k]);
	x->ev = ev;
	x->refused = 0;
	progress(x, ev_index, line);
	if (call == SFO_CALL_RECEIVE && check_delivery(x, ev_index, line, got) == 0)
		return 0;
	if ((call == SFO_CALL_LISTEN || call == SFO_CALL_CONNECT) && C(x)->tcb.state == SFO_CLOSED) {
		/* a new connection: what an earlier one carried does not count for it (an
		 * OPEN while one exists opens nothing and resets nothing) */
		C(x)->peer_sent = 0;
		C(x)->delivered = 0;
	}
	return judge_step(x, k, ev_index, line, 1);
}

static int step_in(struct run *x, int ev_index, const struct sfh_in *in, uint8_t sel,
		   uint32_t line)
{
	struct sfh_runner *r = x->r;
	struct sfo_event ev = {.kind = SFO_EV_SEGMENT};
	struct sfh_endpoints ep = x->ep;
	char buf[200];
	int k = sel ? sel - 1 : 0;
	x->k = x->cur = k;
	struct conn *c = C(x);
	enum sfo_state before = c->tcb.state;
	if (x->multi) {
		ep.peer_port = c->peer_port;
		ep.target_port = c->target_port;
	}
	/* No connection on this 4-tuple: the listener's LISTEN TCB meets the segment
	 * (3.10.7.2), and what it becomes is the new connection's. */
	int spawn = x->multi && before == SFO_CLOSED && x->cn[LSN].tcb.state == SFO_LISTEN &&
		    c->target_port == x->ep.target_port; /* the listener's port */
	if (spawn) {
		c->peer_sent = 0;
		c->delivered = 0;
	}
	in_to_seg(x, in, &ev.u.seg);
	if (ev.u.seg.opts & SFO_OPT_TS) /* the `ptsv` anchor: our latest TSval */
		x->ts[SFH_TS_PTSV] = ev.u.seg.tsval;
	note_peer_data(x, &ev.u.seg);
	int n = sfh_wire_build(r->wire, &ep, &ev.u.seg, r->inpkt.data, sizeof r->inpkt.data);
	if (n < 0) {
		snprintf(x->res->err, sizeof x->res->err, "cannot build segment (line %u)", line);
		return -1;
	}
	r->inpkt.len = (uint16_t)n;
	if (x->o->trace) {
		fmt_seg(x, &ev.u.seg, 0, buf, sizeof buf);
		if (x->multi)
			trace(x, "%4u >   %s  (%s)", line, buf, sfh_sel_name((uint8_t)(k + 1)));
		else
			trace(x, "%4u >   %s", line, buf);
	}
	x->now_us++;
	x->npkts++;
	x->step_in_pkt = x->npkts;
	x->step_space = ev.u.seg.len + !!(ev.u.seg.flags & SFO_SYN) + !!(ev.u.seg.flags & SFO_FIN);
	sfh_pcap_write(x->o->pcap, r->inpkt.data, r->inpkt.len, x->now_us);
	if (spawn)
		c->tcb = x->cn[LSN].tcb;
	struct sfo_cfg cfg = cfg_for(x, k);
	sfo_step(&C(x)->tcb, &cfg, &ev, &r->expect[x->k]);
	x->ev = ev;
	x->refused = 0;
	progress(x, ev_index, line);
	if (sfh_target_inject(x->t, r->inpkt.data, r->inpkt.len) != 0)
		return target_failed(x, "inject");
	int d = judge_step(x, k, ev_index, line, 0);
	/* a new incarnation on this 4-tuple (spawned, or TIME-WAIT reopened): `pisn` is
	 * the SYN that opened it */
	if (d == 1 && x->multi && (ev.u.seg.flags & (SFO_SYN | SFO_ACK)) == SFO_SYN &&
	    c->tcb.state == SFO_SYN_RECEIVED && (spawn || before == SFO_TIME_WAIT)) {
		if (!spawn) {
			/* reopened from TIME-WAIT: a connection of the listener's that nobody has
			 * accepted yet, whatever became of the one before */
			c->peer_sent = 0;
			c->delivered = 0;
			c->tcb.fl = (c->tcb.fl & ~(uint32_t)SFO_TF_ACCEPTED) | SFO_TF_PASSIVE;
		}
		c->pisn = ev.u.seg.seq;
		note_peer_data(x, &ev.u.seg);
	}
	return d;
}

/* A wait. A real-time target may cut a long wait short while one of its timers runs
 * (it adds the cut to t->skipped_ms); the model is then told the time that really
 * passed for the stack, so it does not demand what those timers would have done. */
static int step_wait(struct run *x, int ev_index, uint32_t ms, uint32_t line)
{
	struct sfo_event ev = {.kind = SFO_EV_WAIT};
	uint64_t skipped0 = x->t->skipped_ms;
	x->now_us += (uint64_t)ms * 1000;
	ev.u.wait_ms = ms;
	x->k = x->cur;
	x->r->expect[x->k].evclass = sfo_classify(&C(x)->tcb, &ev);
	progress(x, ev_index, line);
	if (sfh_target_advance(x->t, ms) != 0)
		return target_failed(x, "advance");
	uint64_t cut = x->t->skipped_ms - skipped0;
	if (cut) {
		ev.u.wait_ms = cut < ms ? ms - (uint32_t)cut : 0;
		trace(x, "%4u wait %u ms (the stack's timers saw %u ms)", line, ms, ev.u.wait_ms);
	} else {
		trace(x, "%4u wait %u ms", line, ms);
	}
	x->refused = 0;
	x->wait_ms = ms;
	if (!x->multi) {
		sfo_step(&C(x)->tcb, &x->cfg, &ev, &x->r->expect[x->k]);
		x->ev = ev;
		return judge(x, ev_index, line);
	}
	/* every TCB's clock moves, the listener's too */
	int d = drain(x);
	if (d != 0)
		return d < 0 ? -1 : 0;
	return judge_others(x, ev_index, line, -1, &ev, 0);
}

static int field_fits(const struct run *x, int has, const struct sfh_num *want, uint32_t got)
{
	return !has || resolve(x, want) == got;
}

/* `out` and `expect state` lines: hand-written assertions on the previous step. */
static int check_assertion(struct run *x, int ev_index, const struct sfh_event *e)
{
	struct sfo_verdict *v = &x->res->verdict;
	/* with selectors: the TCB named, else the connection the last step addressed, its
	 * state as the target reports it now */
	x->k = e->sel == SFH_SEL_LISTENER ? LSN : e->sel ? e->sel - 1 : x->cur;
	if (x->multi && e->type == SFH_EV_EXPECT_STATE) {
		int d = observe(x, x->k);
		if (d != 0)
			return d < 0 ? -1 : 0;
	}
	if (e->type == SFH_EV_EXPECT_STATE) {
		enum sfo_state st = C(x)->observed != SFO_STATE_UNKNOWN ? C(x)->observed : C(x)->tcb.state;
		/* Met when observed as written, or when the model is in the asserted state and
		 * has judged the observed one equivalent (e.g. a listener still open). */
		if (st == e->u.state || (C(x)->tcb.state == e->u.state && (C(x)->state_ok & (1u << st))))
			return 1;
		v->kind = SFO_DIV_STATE;
		v->seg = 0;
		v->expected = e->u.state;
		v->observed = st;
		snprintf(v->detail, sizeof v->detail, "expect state: expected %s, observed %s",
			 sfo_state_name(e->u.state), sfo_state_name(st));
	} else {
		const struct sfh_out *o = &e->u.out;
		const struct sfo_seg *s = C(x)->out_idx < C(x)->nsegs ? &C(x)->segs[C(x)->out_idx++] : NULL;
		if (o->none && C(x)->nsegs == 0)
			return 1;
		if (!o->none && s && (s->flags & ~SFO_PSH) == (o->flags & ~SFO_PSH) &&
		    field_fits(x, o->has_seq, &o->seq, s->seq) &&
		    field_fits(x, o->has_ack, &o->ack, s->ack) && (!o->has_len || o->len == s->len))
			return 1;
		v->kind = s || o->none ? SFO_DIV_UNEXPECTED : SFO_DIV_MISSING;
		v->seg = s ? (int)C(x)->out_idx : 0;
		snprintf(v->detail, sizeof v->detail, "out assertion on line %u not met", e->line);
	}
	x->res->assert_failed = 1;
	v->accepted = NULL;
	trace(x, "         => ASSERTION FAILED: %s", v->detail);
	record_divergence(x, ev_index, e->line);
	return 0;
}

static int run_events(struct run *x)
{
	const struct sfh_scenario *s = x->s;
	int go = step_call(x, -1, s->role == SFH_ROLE_PASSIVE ? SFO_CALL_LISTEN : SFO_CALL_CONNECT,
			   0, SFH_SEL_NONE, 0);
	for (uint32_t i = 0; go == 1 && i < s->nev; i++) {
		const struct sfh_event *e = &s->ev[i];
		if (e->type == SFH_EV_IN || e->type == SFH_EV_CALL || e->type == SFH_EV_WAIT)
			x->step_in_pkt = x->step_space = 0; /* a new step */
		switch (e->type) {
		case SFH_EV_IN:
			go = step_in(x, (int)i, &e->u.in, e->sel, e->line);
			break;
		case SFH_EV_CALL:
			go = step_call(x, (int)i, e->u.call.call, e->u.call.arg, e->sel, e->line);
			break;
		case SFH_EV_WAIT:
			go = step_wait(x, (int)i, e->u.wait_ms, e->line);
			break;
		case SFH_EV_OUT:
		case SFH_EV_EXPECT_STATE:
			go = check_assertion(x, (int)i, e);
			break;
		}
	}
	return go < 0 ? -1 : 0;
}

int sfh_run_supported(const struct sfh_target_ops *ops, const struct sfh_scenario *s, char *why,
		      size_t cap)
{
	int conns = 1;
	for (uint32_t i = 0; i < s->nev && i < SFH_MAX_EVENTS; i++)
		if (s->ev[i].sel > conns && s->ev[i].sel <= SFH_MAX_CONNS)
			conns = s->ev[i].sel;
	if ((!sfh_scn_multi(s) || (ops->caps & SFH_CAP_LISTENER)) &&
	    (conns == 1 || (ops->caps & SFH_CAP_CONNS)))
		return 1;
	snprintf(why, cap,
		 "not supported by target %s: %s (docs/scenario-language.md, \"Listeners and "
		 "several connections\")",
		 ops->name,
		 (ops->caps & SFH_CAP_LISTENER)
		     ? "a second connection in one case (conn=2 and up)"
		     : "a listener apart from its connections (conn=N, listener)");
	return 0;
}

int sfh_run(struct sfh_runner *r, struct sfh_target *t, const struct sfh_scenario *s,
	    const struct sfh_run_opts *o, struct sfh_result *res)
{
	struct run x = {.r = r, .t = t, .s = s, .o = o, .res = res};
	memset(res, 0, sizeof *res);
	res->div_event = -1;
	res->verdict.kind = SFO_DIV_OK;
	x.cfg.profile = o->profile ? o->profile : sfo_profile_default();
	if (o->brief)
		x.cfg.flags |= SFO_CFG_BRIEF;
	/* The ISNs are the scenario's (or fixed defaults), never the case number's: the
	 * same scenario runs the same wherever it falls in a batch. A campaign spreads them
	 * over the whole space by giving each input its own (fuzz/core.c). */
	x.pisn = s->has_isn ? s->pisn : SFH_DEFAULT_PISN;
	t->iss_want = s->has_isn ? s->tisn : SFH_DEFAULT_TISN;
	t->iss_set = 1;
	x.multi = sfh_scn_multi(s);
	if (!sfh_run_supported(t->ops, s, res->err, sizeof res->err))
		return -1;
	for (int k = 0; k < NTCB; k++) {
		sfo_tcb_init(&x.cn[k].tcb);
		x.cn[k].pisn = x.pisn + (uint32_t)k * PORT_K;
	}
	t->multi = x.multi;
	t->sel_listener = 0;
	t->judged_by = x.cfg.profile;
	x.here.event = -1;
	x.here.before = SFO_CLOSED;
	x.here.evclass = SFO_EC_CALL_LISTEN;
	if (sfh_target_reset(t, s->role, o->case_no, &x.ep) != 0)
		return target_failed(&x, "reset") < 0 ? -1 : 0;
	/* connection k+1 on peer port ep.peer_port + k: cases never share a port pair (their
	 * target ports differ), nor do the connections of a case */
	for (int k = 0; k < SFH_MAX_CONNS; k++) {
		x.cn[k].peer_port = (uint16_t)(x.ep.peer_port + k);
		x.cn[k].target_port = x.ep.target_port;
		/* the active role's later connections: a port until the target's SYN shows the
		 * one it binds (a segment sent before meets no connection there either) */
		x.cn[k].tport_guess = k > 0 && s->role == SFH_ROLE_ACTIVE;
		if (x.cn[k].tport_guess)
			x.cn[k].target_port = (uint16_t)(x.ep.target_port + k);
		t->conn_port[k] = x.cn[k].peer_port;
	}
	t->sel_port = x.cn[0].peer_port;
	trace(&x, "     -- %s, target %s, profile %s",
	      s->role == SFH_ROLE_PASSIVE ? "passive" : "active", t->ops->name,
	      x.cfg.profile->name);
	return run_events(&x);
}
