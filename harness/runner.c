/* The runner: one scenario, one target, the model in lockstep, a verdict per step. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"
#include "runner.h"

#define SFH_DRAIN_MAX 64

struct sfh_runner {
	struct sfh_wire *wire;
	struct sfh_pkt pkts[SFH_DRAIN_MAX];
	struct sfo_seg segs[SFH_DRAIN_MAX];
	struct sfh_pkt inpkt;
	struct sfo_expect expect;
};

/* Where a real-time target's timestamp clock starts as the runner numbers it. */
#define SFH_TS_FRAME 0x10000000u

/* Everything about one run in progress. */
struct run {
	struct sfh_runner *r;
	struct sfh_target *t;
	const struct sfh_scenario *s;
	const struct sfh_run_opts *o;
	struct sfh_result *res;
	struct sfo_cfg cfg;
	struct sfo_tcb tcb;
	struct sfh_endpoints ep;
	uint32_t pisn;
	/* The target's sequence numbers as the scenario numbers them: what its first SYN
	 * carried minus the ISN the scenario gave it (0 when the target took that ISN). */
	uint32_t tshift;
	int tshift_set;
	/* A real-time target's timestamp clock, likewise: its TSvals counted from
	 * SFH_TS_FRAME (its first TSval minus that; 0 for a virtual-time target). */
	uint32_t tsshift;
	int tsshift_set;
	uint32_t ts[SFH_NTS_ANCHORS]; /* timestamp anchors: ptsv (ours), ttsv (the target's) */
	uint64_t now_us;	      /* virtual capture clock for pcap timestamps */
	uint32_t npkts;		      /* packets so far, both ways: frame numbers in the pcap */
	size_t nsegs;		      /* segments the last step emitted (for `out` assertions) */
	size_t out_idx;		      /* next emitted segment an `out` assertion looks at */
	int bad_csum; /* index+1 of the first emitted segment whose checksum fails, or 0 */
	enum sfo_state observed;
	uint16_t state_ok;   /* states equivalent to the model's after the last step */
	uint64_t peer_sent;  /* payload octets the peer sent, as an upper bound (highest end) */
	uint64_t delivered;  /* octets the application received */
	int peer_sent_known; /* the peer's ISN counts: a SYN was sent or accepted */
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
	const struct sfo_tcb *t = &x->tcb;
	int iss = !!(t->fl & SFO_TF_ISS_KNOWN), irs = !!(t->fl & SFO_TF_IRS_KNOWN);
	switch (a) {
	case SFH_A_ABS:
		return 0;
	case SFH_A_PISN:
		return x->pisn;
	case SFH_A_TISN:
		return iss ? t->iss : 0;
	case SFH_A_PNXT:
		return irs ? t->rcv_nxt : x->pisn;
	case SFH_A_TNXT:
		return iss ? t->snd_nxt : 0;
	case SFH_A_TUNA:
		return iss ? t->snd_una : 0;
	case SFH_A_WEND:
		return (irs ? t->rcv_nxt : x->pisn) + t->rcv_wnd;
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
	uint32_t tisn = (x->tcb.fl & SFO_TF_ISS_KNOWN) ? x->tcb.iss : 0;
	if (from_target)
		sfh_seg_format(s, tisn, x->pisn, buf, cap);
	else
		sfh_seg_format(s, x->pisn, tisn, buf, cap);
}

/* Collect what the target emitted for this case: parsed into r->segs, written to pcap.
 * 0, 1 when the target died (the case's verdict is made), -1 on an error. */
static int drain(struct run *x)
{
	struct sfh_runner *r = x->r;
	size_t n = 0;
	x->step_emit0 = x->npkts;
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
			if (ep.peer_port != x->ep.peer_port)
				continue;
			if (x->ep.target_port == 0 && (seg.flags & SFO_SYN))
				x->ep.target_port =
				    ep.target_port; /* active role: learn the port */
			if (ep.target_port != x->ep.target_port)
				continue;
			if ((seg.flags & SFO_SYN) && !x->tshift_set) {
				x->tshift = seg.seq - x->t->iss_want;
				x->tshift_set = 1;
			}
			/* A reset with SEQ=0 answers a segment without ACK from no connection
			 * (RFC 9293 3.10.7.1): 0 is no number of the target's space. */
			if (!(seg.flags & SFO_RST) || seg.seq != 0)
				seg.seq -= x->tshift;
			x->now_us++;
			x->npkts++;
			sfh_pcap_write(x->o->pcap, r->pkts[i].data, r->pkts[i].len, x->now_us);
			if (!csum_ok && !x->bad_csum)
				x->bad_csum = (int)n + 1;
			if ((seg.opts & SFO_OPT_TS) && !x->tsshift_set) {
				x->tsshift_set = 1;
				if (!(x->t->ops->caps & SFH_CAP_VTIME))
					x->tsshift = seg.tsval - SFH_TS_FRAME;
			}
			if (seg.opts & SFO_OPT_TS) { /* the `ttsv` anchor: its latest TSval */
				seg.tsval -= x->tsshift;
				x->ts[SFH_TS_TTSV] = seg.tsval;
			}
			if (n < SFH_DRAIN_MAX)
				r->segs[n++] = seg;
		}
		if (got < SFH_DRAIN_MAX)
			break;
	}
	x->nsegs = n;
	x->out_idx = 0;
	return 0;
}

static void record_divergence(struct run *x, int ev_index, uint32_t line)
{
	struct sfh_result *res = x->res;
	res->div_event = ev_index;
	res->div_line = line;
	const struct sfo_verdict *v = &res->verdict;
	res->div_packet = v->seg > 0 ? x->step_emit0 + (uint32_t)v->seg : x->step_in_pkt;
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
		trace(x, "         => %-13s ok  [%s %s%s%s]", sfo_state_name(after), rid,
		      ri ? ri->section : "", ri && ri->req[0] ? " " : "", ri ? ri->req : "");
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
	if (!x->bad_csum)
		return 1;
	sfh_seg_format(&x->r->segs[x->bad_csum - 1], rb->target_isn, rb->peer_isn, seg, sizeof seg);
	memset(v, 0, sizeof *v);
	v->kind = SFO_DIV_FIELD;
	v->rule = (sfo_rule_t)sfo_rule_find("seg.checksum");
	v->sev = SFO_SEV_MUST;
	v->before = x->tcb.state;
	v->expected = x->tcb.state;
	v->observed = x->observed;
	v->evclass = x->r->expect.evclass;
	v->accepted = sfo_profile_accepts(x->cfg.profile, v->rule, v->kind);
	snprintf(v->detail, sizeof v->detail, "checksum: segment %d (%s) fails verification",
		 x->bad_csum, seg);
	v->seg = x->bad_csum;
	trace_verdict(x, v, x->observed);
	record_divergence(x, ev_index, line);
	return 0;
}

/* Record where we are before the target sees the event. */
static void progress(struct run *x, int ev_index, uint32_t line)
{
	struct sfh_progress *p = &x->here;
	p->event = ev_index;
	p->line = line;
	p->before = x->tcb.state;
	p->evclass = x->r->expect.evclass;
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
	for (size_t i = 0; i < x->nsegs; i++)
		confirmed |= (x->r->segs[i].flags & SFO_ACK) && x->r->segs[i].ack == x->tcb.rcv_nxt;
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

/* Judge the step whose expectation is in r->expect; commit or record a divergence.
 * Returns 1 to go on, 0 to stop (divergence), -1 on a harness error. */
static int judge(struct run *x, int ev_index, uint32_t line)
{
	struct sfh_runner *r = x->r;
	struct sfo_verdict v;
	struct sfo_rebase rb = {x->pisn, (x->tcb.fl & SFO_TF_ISS_KNOWN) ? x->tcb.iss : 0, 1};
	int which = -1;
	char buf[200];

	int d = drain(x);
	if (d != 0)
		return d < 0 ? -1 : 0;
	/* The ISS becomes known from this very step's SYN: print relative to it. */
	if (!(x->tcb.fl & SFO_TF_ISS_KNOWN))
		for (size_t i = 0; i < x->nsegs; i++)
			if (r->segs[i].flags & SFO_SYN)
				rb.target_isn = r->segs[i].seq;
	if (sfh_target_state(x->t, &x->observed) != 0)
		return target_failed(x, "state");
	for (size_t i = 0; x->o->trace && i < x->nsegs; i++) {
		sfh_seg_format(&r->segs[i], rb.target_isn, x->pisn, buf, sizeof buf);
		trace(x, "     <   %s", buf);
	}
	if (check_checksums(x, ev_index, line, &rb) == 0)
		return 0;
	sfo_judge(&x->tcb, &x->cfg, &r->expect, r->segs, x->nsegs, x->observed, &rb, &v, &which);
	x->res->steps++;
	if (x->o->cover) {
		struct sfh_cover c = {
		    .before = x->tcb.state, .evclass = r->expect.evclass, .kind = v.kind};
		const struct sfo_outcome *oc = &r->expect.out[which >= 0 ? which : 0];
		c.after = x->observed != SFO_STATE_UNKNOWN ? x->observed : oc->next.state;
		for (size_t i = 0; i < x->nsegs; i++)
			c.resp_mask |= 1u << sfo_resp_class(&r->segs[i]);
		c.rules = oc->rules;
		c.nrules = oc->nrules;
		x->o->cover(x->o->cover_ctx, &c);
	}
	if (x->o->step) {
		struct sfh_step st = {.event = ev_index, .line = line, .ev = &x->ev,
				      .refused = x->refused, .wait_ms = x->wait_ms,
				      .before = &x->tcb, .expect = &r->expect, .segs = r->segs,
				      .nsegs = x->nsegs, .observed = x->observed, .v = &v,
				      .which = which, .pisn = x->pisn};
		x->o->step(x->o->step_ctx, &st);
	}
	if (v.kind != SFO_DIV_OK) {
		const struct sfo_tcb *n = &r->expect.out[0].next;
		x->res->noop = x->step_in_pkt && r->expect.nout && n->state == x->tcb.state &&
			       n->rcv_nxt == x->tcb.rcv_nxt && n->snd_una == x->tcb.snd_una &&
			       n->snd_wnd == x->tcb.snd_wnd;
		/* A state difference on a step whose own ACK carries exactly the RCV.NXT the
		 * model has after it: the two agree on what was taken in, so no earlier step
		 * that took sequence space is where they parted (a held out-of-order FIN, then
		 * the wrong state when the gap fills, is the state's fault). */
		for (size_t i = 0; v.kind == SFO_DIV_STATE && r->expect.nout && i < x->nsegs; i++)
			if ((r->segs[i].flags & SFO_ACK) &&
			    r->segs[i].ack == r->expect.out[0].next.rcv_nxt) {
				x->since_event = 0;
				x->since_silent = 0;
			}
		x->res->verdict = v;
		trace_verdict(x, &v, x->observed);
		record_divergence(x, ev_index, line);
		return 0;
	}
	uint32_t rcv_nxt = x->tcb.rcv_nxt;
	sfo_commit(&x->tcb, &r->expect.out[which], r->segs, x->nsegs);
	x->state_ok = r->expect.out[which].state_ok;
	note_since(x, ev_index, line, v.rule, x->step_space && x->tcb.rcv_nxt == rcv_nxt);
	x->res->verdict = v;
	trace_verdict(x, &v, x->observed != SFO_STATE_UNKNOWN ? x->observed : x->tcb.state);
	return 1;
}

/* The highest payload octet the peer has sent, counted from its ISN: no stack can deliver
 * more than that to its application, whatever it did with the segments. */
static void note_peer_data(struct run *x, const struct sfo_seg *seg)
{
	if (!seg->len)
		return;
	uint32_t first = x->pisn + 1;
	uint64_t end = (uint64_t)(uint32_t)(seg->seq + !!(seg->flags & SFO_SYN) - first) + seg->len;
	/* a start before ISN+1 (mod 2^32) reads as ~4e9: then every octet may count */
	if (end > x->peer_sent)
		x->peer_sent = end;
}

/* RECEIVE returned got octets: more than the peer ever sent is stale or invented data. */
static int check_delivery(struct run *x, int ev_index, uint32_t line, int got)
{
	struct sfo_verdict *v = &x->res->verdict;
	const int rule = sfo_rule_find("receive.data");
	x->delivered += (uint64_t)got;
	if (x->delivered <= x->peer_sent)
		return 1;
	memset(v, 0, sizeof *v);
	v->kind = SFO_DIV_FIELD;
	v->rule = (sfo_rule_t)(rule >= 0 ? rule : 0);
	v->sev = SFO_SEV_MUST;
	v->before = v->expected = x->tcb.state;
	v->observed = x->observed;
	v->evclass = SFO_EC_CALL_RECEIVE;
	v->accepted = sfo_profile_accepts(x->cfg.profile, v->rule, v->kind);
	snprintf(v->detail, sizeof v->detail,
		 "receive: the application got %llu octets in all, the peer sent %llu",
		 (unsigned long long)x->delivered, (unsigned long long)x->peer_sent);
	trace_verdict(x, v, x->observed);
	record_divergence(x, ev_index, line);
	return 0;
}

static int step_call(struct run *x, int ev_index, enum sfo_call call, uint32_t arg, uint32_t line)
{
	struct sfo_event ev = {.kind = SFO_EV_CALL};
	ev.u.call.call = call;
	ev.u.call.arg = arg;
	/* the class before the step names it should the stack die in it */
	x->r->expect.evclass = sfo_classify(&x->tcb, &ev);
	progress(x, ev_index, line);
	int got = sfh_target_call(x->t, call, arg);
	if (got == SFH_CALL_REFUSED) {
		/* The API said no: nothing reached TCP, so the model sees no event and the
		 * step is judged as time standing still. */
		struct sfo_event idle = {.kind = SFO_EV_WAIT};
		trace(x, "%4u call %s (refused by the stack)", line, sfo_call_name(call));
		sfo_step(&x->tcb, &x->cfg, &idle, &x->r->expect);
		x->ev = ev;
		x->refused = 1;
		return judge(x, ev_index, line);
	}
	if (got < 0) {
		char what[32];
		snprintf(what, sizeof what, "call %s", sfo_call_name(call));
		return target_failed(x, what);
	}
	ev.u.call.call = call;
	ev.u.call.arg = (call == SFO_CALL_SEND || call == SFO_CALL_RECEIVE) ? (uint32_t)got : arg;
	if (call == SFO_CALL_SEND || call == SFO_CALL_RECEIVE)
		trace(x, "%4u call %s %u (the stack took %d)", line, sfo_call_name(call), arg, got);
	else
		trace(x, "%4u call %s", line, sfo_call_name(call));
	sfo_step(&x->tcb, &x->cfg, &ev, &x->r->expect);
	x->ev = ev;
	x->refused = 0;
	progress(x, ev_index, line);
	if (call == SFO_CALL_RECEIVE && check_delivery(x, ev_index, line, got) == 0)
		return 0;
	if ((call == SFO_CALL_LISTEN || call == SFO_CALL_CONNECT) && x->tcb.state == SFO_CLOSED) {
		/* a new connection: what an earlier one carried does not count for it (an
		 * OPEN while one exists opens nothing and resets nothing) */
		x->peer_sent = 0;
		x->delivered = 0;
	}
	return judge(x, ev_index, line);
}

static int step_in(struct run *x, int ev_index, const struct sfh_in *in, uint32_t line)
{
	struct sfh_runner *r = x->r;
	struct sfo_event ev = {.kind = SFO_EV_SEGMENT};
	char buf[200];
	in_to_seg(x, in, &ev.u.seg);
	if (ev.u.seg.opts & SFO_OPT_TS) /* the `ptsv` anchor: our latest TSval */
		x->ts[SFH_TS_PTSV] = ev.u.seg.tsval;
	note_peer_data(x, &ev.u.seg);
	/* Our ACK field is in the target's space: on the wire it counts from its real ISN. */
	struct sfo_seg wseg = ev.u.seg;
	wseg.ack += x->tshift;
	if (wseg.tsecr != 0) /* our TSecr echoes its clock; 0 echoes nothing */
		wseg.tsecr += x->tsshift;
	int n = sfh_wire_build(r->wire, &x->ep, &wseg, r->inpkt.data, sizeof r->inpkt.data);
	if (n < 0) {
		snprintf(x->res->err, sizeof x->res->err, "cannot build segment (line %u)", line);
		return -1;
	}
	r->inpkt.len = (uint16_t)n;
	if (x->o->trace) {
		fmt_seg(x, &ev.u.seg, 0, buf, sizeof buf);
		trace(x, "%4u >   %s", line, buf);
	}
	x->now_us++;
	x->npkts++;
	x->step_in_pkt = x->npkts;
	x->step_space = ev.u.seg.len + !!(ev.u.seg.flags & SFO_SYN) + !!(ev.u.seg.flags & SFO_FIN);
	sfh_pcap_write(x->o->pcap, r->inpkt.data, r->inpkt.len, x->now_us);
	sfo_step(&x->tcb, &x->cfg, &ev, &r->expect);
	x->ev = ev;
	x->refused = 0;
	progress(x, ev_index, line);
	if (sfh_target_inject(x->t, r->inpkt.data, r->inpkt.len) != 0)
		return target_failed(x, "inject");
	return judge(x, ev_index, line);
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
	x->r->expect.evclass = sfo_classify(&x->tcb, &ev);
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
	sfo_step(&x->tcb, &x->cfg, &ev, &x->r->expect);
	x->ev = ev;
	x->refused = 0;
	x->wait_ms = ms;
	return judge(x, ev_index, line);
}

static int field_fits(const struct run *x, int has, const struct sfh_num *want, uint32_t got)
{
	return !has || resolve(x, want) == got;
}

/* `out` and `expect state` lines: hand-written assertions on the previous step. */
static int check_assertion(struct run *x, int ev_index, const struct sfh_event *e)
{
	struct sfo_verdict *v = &x->res->verdict;
	if (e->type == SFH_EV_EXPECT_STATE) {
		enum sfo_state st = x->observed != SFO_STATE_UNKNOWN ? x->observed : x->tcb.state;
		/* Met when observed as written, or when the model is in the asserted state and
		 * has judged the observed one equivalent (e.g. a listener still open). */
		if (st == e->u.state || (x->tcb.state == e->u.state && (x->state_ok & (1u << st))))
			return 1;
		v->kind = SFO_DIV_STATE;
		v->seg = 0;
		v->expected = e->u.state;
		v->observed = st;
		snprintf(v->detail, sizeof v->detail, "expect state: expected %s, observed %s",
			 sfo_state_name(e->u.state), sfo_state_name(st));
	} else {
		const struct sfh_out *o = &e->u.out;
		const struct sfo_seg *s = x->out_idx < x->nsegs ? &x->r->segs[x->out_idx++] : NULL;
		if (o->none && x->nsegs == 0)
			return 1;
		if (!o->none && s && (s->flags & ~SFO_PSH) == (o->flags & ~SFO_PSH) &&
		    field_fits(x, o->has_seq, &o->seq, s->seq) &&
		    field_fits(x, o->has_ack, &o->ack, s->ack) && (!o->has_len || o->len == s->len))
			return 1;
		v->kind = s || o->none ? SFO_DIV_UNEXPECTED : SFO_DIV_MISSING;
		v->seg = s ? (int)x->out_idx : 0;
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
			   0, 0);
	for (uint32_t i = 0; go == 1 && i < s->nev; i++) {
		const struct sfh_event *e = &s->ev[i];
		if (e->type == SFH_EV_IN || e->type == SFH_EV_CALL || e->type == SFH_EV_WAIT)
			x->step_in_pkt = x->step_space = 0; /* a new step */
		switch (e->type) {
		case SFH_EV_IN:
			go = step_in(x, (int)i, &e->u.in, e->line);
			break;
		case SFH_EV_CALL:
			go = step_call(x, (int)i, e->u.call.call, e->u.call.arg, e->line);
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
	sfo_tcb_init(&x.tcb);
	t->judged_by = x.cfg.profile;
	x.here.event = -1;
	x.here.before = SFO_CLOSED;
	x.here.evclass = SFO_EC_CALL_LISTEN;
	if (sfh_target_reset(t, s->role, o->case_no, &x.ep) != 0)
		return target_failed(&x, "reset") < 0 ? -1 : 0;
	trace(&x, "     -- %s, target %s, profile %s",
	      s->role == SFH_ROLE_PASSIVE ? "passive" : "active", t->ops->name,
	      x.cfg.profile->name);
	return run_events(&x);
}
