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

#include "runner_priv.h"

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

static void free_segs(struct segbuf *b)
{
	free(b->segs);
	free(b->frame);
	free(b->at);
	free(b->ttsv);
	free(b->norder);
	free(b->order);
}

/* Room for at least n segments of one step; 0, or -1 out of memory (nothing lost). */
static int grow_segs(struct segbuf *b, size_t n)
{
	if (n <= b->cap)
		return 0;
	size_t cap = b->cap ? b->cap : SFH_DRAIN_MAX;
	while (cap < n)
		cap *= 2;
	struct segbuf g = {.cap = cap};
	g.segs = malloc(cap * sizeof *g.segs);
	g.frame = malloc(cap * sizeof *g.frame);
	g.at = malloc(cap * sizeof *g.at);
	g.ttsv = malloc(cap * sizeof *g.ttsv);
	g.norder = malloc(cap * sizeof *g.norder);
	g.order = malloc(cap * sizeof *g.order);
	if (!g.segs || !g.frame || !g.at || !g.ttsv || !g.norder || !g.order) {
		free_segs(&g);
		return -1;
	}
	if (b->cap) {
		memcpy(g.segs, b->segs, b->cap * sizeof *g.segs);
		memcpy(g.frame, b->frame, b->cap * sizeof *g.frame);
		memcpy(g.at, b->at, b->cap * sizeof *g.at);
		memcpy(g.ttsv, b->ttsv, b->cap * sizeof *g.ttsv);
		memcpy(g.norder, b->norder, b->cap * sizeof *g.norder);
		memcpy(g.order, b->order, b->cap * sizeof *g.order);
	}
	free_segs(b);
	*b = g;
	return 0;
}

/* Room for n segments on TCB k, its views of the buffer kept current. */
static int grow_conn(struct run *x, int k, size_t n)
{
	struct conn *c = &x->cn[k];
	if (grow_segs(c->sb, n) != 0)
		return -1;
	c->segs = c->sb->segs;
	c->frame = c->sb->frame;
	return 0;
}

/* Connection k's shift, from its first SYN's sequence number: the first is numbered from
 * the scenario's `tisn`. A later connection's ISN is the target's own: a virtual-time
 * target picks it the same way every run (no shift), a real one from a clock, so that
 * one is numbered from tisn + k * PORT_K, as its pisn is from the scenario's. */
static uint32_t tshift_of(const struct run *x, int k, uint32_t syn_seq)
{
	if (k == 0)
		return syn_seq - x->t->iss_want;
	if (x->t->ops->caps & SFH_CAP_VTIME)
		return 0;
	return syn_seq - (x->t->iss_want + (uint32_t)k * PORT_K);
}

void sfh_runner_free(struct sfh_runner *r)
{
	if (!r)
		return;
	sfh_wire_free(r->wire);
	for (int k = 0; k < NTCB; k++)
		free_segs(&r->sb[k]);
	free(r);
}

struct sfh_runner *sfh_runner_new(char *err, size_t errlen)
{
	struct sfh_runner *r = calloc(1, sizeof *r);
	if (!r) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	r->wire = sfh_wire_new(err, errlen);
	int fail = !r->wire;
	for (int k = 0; k < NTCB && !fail; k++)
		fail = grow_segs(&r->sb[k], SFH_DRAIN_MAX) != 0;
	if (fail) {
		if (r->wire)
			snprintf(err, errlen, "out of memory");
		sfh_runner_free(r);
		return NULL;
	}
	return r;
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

void sfh_run_trace(struct run *x, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void sfh_run_trace(struct run *x, const char *fmt, ...)
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

uint32_t sfh_run_resolve(const struct run *x, const struct sfh_num *n)
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
	x->line_us = x->t->clock_us; /* when the step began: `out ... @+D` counts from it */
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
			if (ep.ipv6 != x->ep.ipv6)
				continue;
			int k = conn_of(x, &ep, &seg);
			if (k < 0)
				continue;
			struct conn *c = &x->cn[k];
			if ((seg.flags & SFO_SYN) && !c->tshift_set) {
				c->tshift = tshift_of(x, k, seg.seq);
				c->tshift_set = 1;
			}
			/* A reset with SEQ=0 answers a segment without ACK from no connection
			 * (RFC 9293 3.10.7.1): 0 is no number of the target's space. */
			if (!(seg.flags & SFO_RST) || seg.seq != 0)
				seg.seq -= c->tshift;
			x->now_us++;
			x->npkts++;
			sfh_pcap_write(x->o->pcap, r->pkts[i].data, r->pkts[i].len, x->now_us);
			if (!csum_ok && !c->bad_csum)
				c->bad_csum = (int)c->nsegs + 1;
			if (c->nsegs == SFH_STEP_SEGS_MAX) {
				snprintf(x->res->err, sizeof x->res->err,
					 "%s emitted more than %d segments in one step",
					 x->t->ops->name, SFH_STEP_SEGS_MAX);
				return -1;
			}
			if (grow_conn(x, k, c->nsegs + 1) != 0) {
				snprintf(x->res->err, sizeof x->res->err, "out of memory");
				return -1;
			}
			c->sb->at[c->nsegs] = r->pkts[i].at_us;
			c->sb->ttsv[c->nsegs] = x->ts[SFH_TS_TTSV];
			c->sb->norder[c->nsegs] = sfh_run_opt_kinds(r->pkts[i].data, r->pkts[i].len,
								    c->sb->order[c->nsegs]);
			if ((seg.opts & SFO_OPT_TS) && !x->tsshift_set) {
				x->tsshift_set = 1;
				if (!(x->t->ops->caps & SFH_CAP_VTIME))
					x->tsshift = seg.tsval - SFH_TS_FRAME;
			}
			if (seg.opts & SFO_OPT_TS) { /* the `ttsv` anchor: its latest TSval */
				seg.tsval -= x->tsshift;
				x->ts[SFH_TS_TTSV] = seg.tsval;
			}
			c->frame[c->nsegs] = x->npkts;
			c->segs[c->nsegs++] = seg;
		}
		if (got < SFH_DRAIN_MAX)
			break;
	}
	if (!x->multi) /* the active role's port as learned, for the segments we build */
		x->ep.target_port = x->cn[0].target_port;
	return 0;
}

void sfh_run_record_divergence(struct run *x, int ev_index, uint32_t line)
{
	struct sfh_result *res = x->res;
	res->div_event = ev_index;
	res->div_line = line;
	const struct sfo_verdict *v = &res->verdict;
	res->div_packet =
	    v->seg > 0 && (size_t)v->seg <= C(x)->nsegs ? C(x)->frame[v->seg - 1] : x->step_in_pkt;
	res->since_event = x->since_event;
	res->since_line = x->since_line;
	res->since_rule = x->since_rule;
	res->since_silent = x->since_silent;
	res->wnd_event = C(x)->wnd_how ? C(x)->wnd_event : 0;
	res->wnd_line = C(x)->wnd_line;
	res->wnd_rule = C(x)->wnd_rule;
	res->wnd_how = C(x)->wnd_how;
	res->una_event = C(x)->una_event;
	res->una_line = C(x)->una_line;
	res->una_rule = C(x)->una_rule;
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
		sfh_run_trace(x, "         => %-13s ok  [%s %s%s%s]%s%s", sfo_state_name(after),
			      rid, ri ? ri->section : "", ri && ri->req[0] ? " " : "",
			      ri ? ri->req : "", x->multi ? "  " : "",
			      x->multi ? sfh_sel_name((uint8_t)(x->k + 1)) : "");
		return;
	}
	sfh_run_trace(x, "         => %-13s %s %s: rule %s (RFC 9293 %s%s%s, %s): %s",
		      sfo_state_name(v->observed), v->accepted ? "ACCEPTED" : "DIVERGENCE",
		      sfo_div_kind_name(v->kind), rid, ri ? ri->section : "",
		      ri && ri->req[0] ? " " : "", ri ? ri->req : "", sfo_severity_name(v->sev),
		      v->detail);
	if (ri)
		sfh_run_trace(x, "            %s", ri->title);
	if (v->accepted)
		sfh_run_trace(x, "            accepted by profile %s: %s", x->cfg.profile->name,
			      v->accepted->reason);
}

/* MUST-2: a segment with a wrong checksum is broken whatever its fields say. */
static int check_checksums(struct run *x, int ev_index, uint32_t line, const struct sfo_rebase *rb)
{
	struct sfo_verdict *v = &x->res->verdict;
	char seg[120];
	if (!C(x)->bad_csum)
		return 1;
	sfh_seg_format(&C(x)->segs[C(x)->bad_csum - 1], rb->target_isn, rb->peer_isn, seg,
		       sizeof seg);
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
	sfh_run_record_divergence(x, ev_index, line);
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
		confirmed |=
		    (C(x)->segs[i].flags & SFO_ACK) && C(x)->segs[i].ack == C(x)->tcb.rcv_nxt;
	if (confirmed)
		x->since_event = 0;
	/* A segment without text or FIN (a duplicate SYN in SYN-RECEIVED), dropped and
	 * answered at RCV.NXT: no octet or FIN a stack could have taken while the model did
	 * not */
	const struct sfo_seg *in = x->ev.kind == SFO_EV_SEGMENT ? &x->ev.u.seg : NULL;
	int no_text = in && !in->len && !(in->flags & SFO_FIN);
	if (confirmed && (!dropped || no_text))
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

/* A segment step's window against the model's outcome for it (before -> after): where
 * the target's send window may have parted from the model's. Untaken: the segment
 * carries an ACK and another window or ACK number than the model's window source, and
 * the model did not take it (dropped, or not newer than SND.WL1/SND.WL2, RFC 9293
 * 3.10.7.4 fifth): a stack that takes it holds another window, and that segment's
 * SEG.SEQ/SEG.ACK as its WL1/WL2, which makes it ignore later updates not newer than
 * them. Shrink: the model took a window that moves the right edge left (a stack may
 * keep the larger one, and its older WL1/WL2). A window both take (the model takes it,
 * newer than what the stack holds as WL1/WL2) ends either. */
static void note_wnd(struct run *x, int ev_index, uint32_t line, sfo_rule_t rule,
		     const struct sfo_tcb *before, const struct sfo_tcb *after)
{
	const struct sfo_seg *s = &x->ev.u.seg;
	if (!x->step_in_pkt || x->ev.kind != SFO_EV_SEGMENT || !(s->flags & SFO_ACK) ||
	    (s->flags & SFO_RST) || !(before->fl & SFO_TF_ISS_KNOWN))
		return;
	unsigned scale =
	    !(s->flags & SFO_SYN) && (after->fl & SFO_TF_WSCALE) ? after->snd_wscale : 0;
	uint32_t wnd = (uint32_t)s->wnd << scale;
	int took = after->snd_wl1 == s->seq && after->snd_wl2 == s->ack && after->snd_wnd == wnd;
	if (!took && (s->ack != after->snd_wl2 || wnd != after->snd_wnd)) {
		C(x)->wnd_how = SFH_WND_UNTAKEN;
		C(x)->wnd_wl1 = s->seq;
		C(x)->wnd_wl2 = s->ack;
		C(x)->wnd_win = wnd;
	} else if (took &&
		   sfo_seq_lt(after->snd_una + after->snd_wnd, before->snd_una + before->snd_wnd)) {
		if (C(x)->wnd_how == SFH_WND_UNTAKEN && !sfo_seq_lt(C(x)->wnd_wl1, s->seq) &&
		    !(C(x)->wnd_wl1 == s->seq && sfo_seq_lt(C(x)->wnd_wl2, s->ack)))
			return; /* not newer than the WL1/WL2 the stack may hold: ignored too */
		if (C(x)->wnd_how != SFH_WND_SHRINK) { /* the stack's WL1/WL2: the last taken */
			C(x)->wnd_wl1 = before->snd_wl1;
			C(x)->wnd_wl2 = before->snd_wl2;
		}
		C(x)->wnd_how = SFH_WND_SHRINK;
	} else {
		if (took && C(x)->wnd_how &&
		    (sfo_seq_lt(C(x)->wnd_wl1, s->seq) ||
		     (C(x)->wnd_wl1 == s->seq && sfo_seq_lt(C(x)->wnd_wl2, s->ack))))
			C(x)->wnd_how = SFH_WND_NONE;
		return;
	}
	C(x)->wnd_event = ev_index + 1;
	C(x)->wnd_line = line;
	C(x)->wnd_rule = rule;
}

/* A segment step's ACK field against the model's outcome for it: an ACK of new data
 * the model leaves untaken (it drops the segment) may be taken by a stack that processes
 * the ACK field before it tests acceptability; the model taking SND.UNA that far ends it. */
static void note_una(struct run *x, int ev_index, uint32_t line, sfo_rule_t rule,
		     const struct sfo_tcb *after)
{
	const struct sfo_seg *s = &x->ev.u.seg;
	if (C(x)->una_event && !sfo_seq_lt(after->snd_una, C(x)->una_ack))
		C(x)->una_event = 0;
	if (!x->step_in_pkt || x->ev.kind != SFO_EV_SEGMENT || !(s->flags & SFO_ACK) ||
	    (s->flags & SFO_RST) || !(after->fl & SFO_TF_ISS_KNOWN))
		return;
	if (sfo_seq_lt(after->snd_una, s->ack) && !sfo_seq_gt(s->ack, after->snd_nxt)) {
		C(x)->una_event = ev_index + 1;
		C(x)->una_line = line;
		C(x)->una_rule = rule;
		C(x)->una_ack = s->ack;
	}
}

/* Whether a segment the target sent on this step carries data beyond the send window the
 * model holds after it (t): sent on another window. One octet against a zero window when
 * time passes is a probe (its timing another matter), not that. */
static int sent_beyond_window(const struct run *x, const struct sfo_tcb *t)
{
	for (size_t i = 0; i < C(x)->nsegs; i++) {
		const struct sfo_seg *g = &C(x)->segs[i];
		if (!g->len || (t->snd_wnd == 0 && g->len == 1 && x->ev.kind == SFO_EV_WAIT))
			continue;
		if (sfo_seq_gt(g->seq + g->len, t->snd_una + t->snd_wnd))
			return 1;
	}
	return 0;
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
int sfh_run_observe(struct run *x, int k)
{
	address(x, k);
	if (sfh_target_state(x->t, &x->cn[k].observed) != 0)
		return target_failed(x, "state") == 0 ? 1 : -1;
	return 0;
}

/* A connection of a scenario with selectors that is not (or no longer) a connection: the
 * listener, not it, answers the next SYN on its 4-tuple. LISTEN is what RFC 9293 says a
 * passive TCB returns to; here the listener is apart and stays, so the connection is
 * gone (CLOSED), and nothing of how it was opened or whether accepted carries over. What
 * its end left for the application's later calls does, as with one TCB (3.10.7.4: the
 * "reset" responses, octets left unread, a handle given back), and its address family. */
static void conn_normalize(struct run *x, int k)
{
	struct sfo_tcb *t = &x->cn[k].tcb;
	if (x->multi && k != LSN && (t->fl & SFO_TF_ACCEPTED))
		x->cn[k].held_err = 0; /* the application took this one */
	if (!x->multi || k == LSN || (t->state != SFO_LISTEN && t->state != SFO_CLOSED))
		return;
	int closed = t->state == SFO_CLOSED;
	if (closed && t->closed_err)
		x->cn[k].held_err = t->closed_err;
	uint8_t err = closed ? t->closed_err : 0;
	uint32_t queued = closed ? t->rcv_queued : 0;
	uint32_t rd = t->fl & SFO_TF_RD_CLOSED;
	uint64_t now = t->now_ms;
	sfo_tcb_init(t);
	sfo_tcb_family(t, x->s->ipv6);
	t->now_ms = now;
	t->closed_err = err;
	t->rcv_queued = queued;
	t->fl |= rd;
}

/* Judge TCB x->k's part of the step (its expectation in r->expect[x->k], the segments
 * drained into it, its state observed); commit or record a divergence. Returns 1 to go
 * on, 0 to stop (divergence), -1 on a harness error. */
static int judge_tcb(struct run *x, int ev_index, uint32_t line)
{
	struct sfh_runner *r = x->r;
	struct sfo_verdict v;
	struct sfo_rebase rb = {C(x)->pisn, (C(x)->tcb.fl & SFO_TF_ISS_KNOWN) ? C(x)->tcb.iss : 0,
				1};
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
			sfh_run_trace(x, "     <   %s  (%s)", buf,
				      sfh_sel_name((uint8_t)(x->k + 1)));
		else
			sfh_run_trace(x, "     <   %s", buf);
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
	sfo_judge(&C(x)->tcb, &x->cfg, &r->expect[x->k], C(x)->segs, C(x)->nsegs, C(x)->observed,
		  &rb, &v, &which);
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
		struct sfh_step st = {.event = ev_index,
				      .line = line,
				      .ev = &x->ev,
				      .refused = x->refused,
				      .wait_ms = x->wait_ms,
				      .before = &C(x)->tcb,
				      .expect = &r->expect[x->k],
				      .segs = C(x)->segs,
				      .nsegs = C(x)->nsegs,
				      .observed = C(x)->observed,
				      .v = &v,
				      .which = which,
				      .pisn = C(x)->pisn,
				      .res_err = x->res_err,
				      .res_n = x->res_n,
				      .res_allow = x->res_allow};
		x->o->step(x->o->step_ctx, &st);
	}
	if (v.kind != SFO_DIV_OK) {
		const struct sfo_tcb *n = &r->expect[x->k].out[0].next;
		x->res->noop = x->step_in_pkt && r->expect[x->k].nout &&
			       n->state == C(x)->tcb.state && n->rcv_nxt == C(x)->tcb.rcv_nxt &&
			       n->snd_una == C(x)->tcb.snd_una && n->snd_wnd == C(x)->tcb.snd_wnd;
		/* A state difference on a step whose own ACK carries exactly the RCV.NXT the
		 * model has after it: the two agree on what was taken in, so no earlier step
		 * that took sequence space is where they parted (a held out-of-order FIN, then
		 * the wrong state when the gap fills, is the state's fault). */
		for (size_t i = 0;
		     v.kind == SFO_DIV_STATE && r->expect[x->k].nout && i < C(x)->nsegs; i++)
			if ((C(x)->segs[i].flags & SFO_ACK) &&
			    C(x)->segs[i].ack == r->expect[x->k].out[0].next.rcv_nxt) {
				x->since_event = 0;
				x->since_silent = 0;
			}
		const struct sfo_expect *ex = &r->expect[x->k];
		if (ex->nout)
			note_wnd(x, ev_index, line, v.rule, &C(x)->tcb, &ex->out[0].next);
		/* kept for data sent beyond the model's window, and for a segment the model
		 * wanted that did not come after a smaller window it did not take */
		const struct sfo_tcb *nt = ex->nout ? &ex->out[0].next : &C(x)->tcb;
		if (!sent_beyond_window(x, nt) &&
		    !(v.kind == SFO_DIV_MISSING && C(x)->wnd_how == SFH_WND_UNTAKEN &&
		      C(x)->wnd_win < nt->snd_wnd))
			C(x)->wnd_how = SFH_WND_NONE;
		note_una(x, ev_index, line, v.rule, nt);
		x->res->verdict = v;
		trace_verdict(x, &v, C(x)->observed);
		sfh_run_record_divergence(x, ev_index, line);
		return 0;
	}
	uint32_t rcv_nxt = C(x)->tcb.rcv_nxt;
	struct sfo_tcb tcb0 = C(x)->tcb;
	sfo_commit(&C(x)->tcb, &r->expect[x->k].out[which], C(x)->segs, C(x)->nsegs);
	note_wnd(x, ev_index, line, v.rule, &tcb0, &C(x)->tcb);
	note_una(x, ev_index, line, v.rule, &C(x)->tcb);
	C(x)->state_ok = r->expect[x->k].out[which].state_ok;
	note_since(x, ev_index, line, v.rule, x->step_space && C(x)->tcb.rcv_nxt == rcv_nxt);
	x->res->verdict = v;
	trace_verdict(x, &v,
		      C(x)->observed != SFO_STATE_UNKNOWN ? C(x)->observed : C(x)->tcb.state);
	conn_normalize(x, x->k);
	return 1;
}

/* Judge the step of one TCB, x->k: drain what the target emitted, read its state. */
static int judge(struct run *x, int ev_index, uint32_t line)
{
	int d = drain(x);
	if (d != 0)
		return d < 0 ? -1 : 0;
	if ((d = sfh_run_observe(x, x->k)) != 0)
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
	sfh_run_record_divergence(x, ev_index, line);
	return 0;
}

/* A call's result, as the scenario writes it ("3", "EAGAIN", "0 (end of stream)"). */
static void fmt_result(enum sfo_call call, int err, uint32_t n, char *buf, size_t cap)
{
	if (err == SFO_ERR_OK && call == SFO_CALL_RECEIVE && n == 0)
		snprintf(buf, cap, "0 (end of stream)");
	else if (err == SFO_ERR_OK)
		snprintf(buf, cap, "%lu", (unsigned long)n);
	else
		snprintf(buf, cap, "%s", sfo_err_name((enum sfo_err)err));
}

/* What the call returned, after a step that conformed: one of the results the model
 * allows in the state before the call (cr), and what the scenario's `=>` asserts. */
static int check_result(struct run *x, int ev_index, const struct sfh_event *e, enum sfo_call call,
			const struct sfo_callres *cr, int got)
{
	struct sfo_verdict *v = &x->res->verdict;
	int err = x->t->call_err;
	uint32_t n = got > 0 ? (uint32_t)got : 0;
	uint32_t line = e ? e->line : 0;
	char obs[48], want[200];
	if (!(x->t->ops->caps & SFH_CAP_CALLRES))
		return 1;
	if ((unsigned)err >= SFO_NERRS)
		err = SFO_ERR_ERROR;
	if (!sfo_callres_fits(cr, call, (enum sfo_err)err, n)) {
		const struct sfo_rule_info *ri = sfo_rule(cr->rule);
		memset(v, 0, sizeof *v);
		v->kind = SFO_DIV_FIELD;
		v->rule = cr->rule;
		v->sev = ri ? ri->sev : SFO_SEV_MUST;
		v->before = x->here.before;
		v->expected = C(x)->tcb.state;
		v->observed = C(x)->observed;
		v->evclass = x->r->expect[x->k].evclass;
		v->accepted = sfo_profile_accepts(x->cfg.profile, v->rule, v->kind);
		if (!x->o->brief) { /* text only where someone reads it (sfh_run_opts.brief) */
			fmt_result(call, err, n, obs, sizeof obs);
			sfo_callres_format(cr, call, want, sizeof want);
			snprintf(v->detail, sizeof v->detail,
				 "result of %s: expected %s, observed %s", sfo_call_name(call),
				 want, obs);
		}
		trace_verdict(x, v, C(x)->observed);
		sfh_run_record_divergence(x, ev_index, line);
		return 0;
	}
	if (!e || !e->u.call.has_res)
		return 1;
	if (err == e->u.call.res_err && (err != SFO_ERR_OK || n == e->u.call.res_n))
		return 1;
	fmt_result(call, err, n, obs, sizeof obs);
	fmt_result(call, e->u.call.res_err, e->u.call.res_n, want, sizeof want);
	v->kind = SFO_DIV_FIELD;
	v->seg = 0;
	v->accepted = NULL;
	snprintf(v->detail, sizeof v->detail, "call result on line %u: expected %s, observed %s",
		 line, want, obs);
	x->res->assert_failed = 1;
	sfh_run_trace(x, "         => ASSERTION FAILED: %s", v->detail);
	sfh_run_record_divergence(x, ev_index, line);
	return 0;
}

/* The step feed's view of a call's result. */
static void note_result(struct run *x, const struct sfo_callres *cr, int got)
{
	x->res_err = (x->t->ops->caps & SFH_CAP_CALLRES) ? x->t->call_err : -1;
	x->res_n = got > 0 ? (uint32_t)got : 0;
	x->res_allow = cr->allow;
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
		x->res_err = -1; /* the call, if any, was another TCB's */
		int d = sfh_run_observe(x, k);
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
	orphans =
	    orphans && k == LSN && lsn_before == SFO_LISTEN && x->cn[LSN].tcb.state == SFO_CLOSED;
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
	const struct sfh_event *se = ev_index >= 0 ? &x->s->ev[ev_index] : NULL;
	struct sfo_callres cr;
	int k = call_tcb(x, call, sel);
	x->k = k;
	if (k != LSN)
		x->cur = k;
	struct sfo_cfg cfg = cfg_for(x, k);
	ev.u.call.call = call;
	ev.u.call.arg = arg;
	/* the class before the step names it should the stack die in it */
	x->r->expect[x->k].evclass = sfo_classify(&C(x)->tcb, &ev);
	struct sfo_tcb rt = C(x)->tcb;
	/* the connection the application still holds: gone, its TCB put aside (CLOSED), or a
	 * new one the listener spawned that nobody accepted */
	if (!rt.closed_err &&
	    (rt.state == SFO_CLOSED || (rt.state == SFO_SYN_RECEIVED && (rt.fl & SFO_TF_PASSIVE) &&
					!(rt.fl & SFO_TF_ACCEPTED))))
		rt.closed_err = C(x)->held_err;
	sfo_call_results(&rt, call, &cr);
	/* an active OPEN from a local port another TCB of the case holds (the listener's, in
	 * the passive role every connection's): RFC 9293 3.10.1's "connection already
	 * exists" for that local socket, as sockets name it */
	for (int j = 0; x->multi && call == SFO_CALL_CONNECT && j < NTCB; j++)
		if (j != k && x->cn[j].tcb.state != SFO_CLOSED &&
		    (j == LSN || x->cn[j].target_port == x->cn[k].target_port))
			cr.allow |= 1u << SFO_ERR_EADDRINUSE;
	progress(x, ev_index, line);
	x->t->call_err = SFO_ERR_OK;
	address(x, k);
	int got = sfh_target_call(x->t, call, arg);
	if (got == SFH_CALL_REFUSED) {
		/* The API said no: nothing reached TCP, so the model sees no event and the
		 * step is judged as time standing still. */
		struct sfo_event idle = {.kind = SFO_EV_WAIT};
		sfh_run_trace(
		    x, "%4u call %s%s%s (refused by the stack%s%s)", line, sfo_call_name(call),
		    x->multi ? " " : "", x->multi ? sfh_sel_name((uint8_t)(k + 1)) : "",
		    x->t->ops->caps & SFH_CAP_CALLRES ? ": " : "",
		    x->t->ops->caps & SFH_CAP_CALLRES ? sfo_err_name((enum sfo_err)x->t->call_err)
						      : "");
		sfo_step(&C(x)->tcb, &cfg, &idle, &x->r->expect[x->k]);
		x->ev = ev;
		x->refused = 1;
		note_result(x, &cr, 0);
		int go = judge_step(x, k, ev_index, line, 0);
		x->k = k; /* the result is the called TCB's */
		return go == 1 ? check_result(x, ev_index, se, call, &cr, 0) : go;
	}
	if (got < 0) {
		char what[32];
		snprintf(what, sizeof what, "call %s", sfo_call_name(call));
		return target_failed(x, what);
	}
	ev.u.call.call = call;
	ev.u.call.arg = (call == SFO_CALL_SEND || call == SFO_CALL_RECEIVE) ? (uint32_t)got : arg;
	if (call == SFO_CALL_SEND || call == SFO_CALL_RECEIVE)
		sfh_run_trace(x, "%4u call %s %u%s%s (the stack took %d%s%s)", line,
			      sfo_call_name(call), arg, x->multi ? " " : "",
			      x->multi ? sfh_sel_name((uint8_t)(k + 1)) : "", got,
			      x->t->call_err ? ", " : "",
			      x->t->call_err ? sfo_err_name((enum sfo_err)x->t->call_err) : "");
	else if (x->t->call_err)
		sfh_run_trace(x, "%4u call %s%s%s (%s)", line, sfo_call_name(call),
			      x->multi ? " " : "", x->multi ? sfh_sel_name((uint8_t)(k + 1)) : "",
			      sfo_err_name((enum sfo_err)x->t->call_err));
	else
		sfh_run_trace(x, "%4u call %s%s%s", line, sfo_call_name(call), x->multi ? " " : "",
			      x->multi ? sfh_sel_name((uint8_t)(k + 1)) : "");
	sfo_step(&C(x)->tcb, &cfg, &ev, &x->r->expect[x->k]);
	x->ev = ev;
	x->refused = 0;
	note_result(x, &cr, got);
	progress(x, ev_index, line);
	if (call == SFO_CALL_RECEIVE && check_delivery(x, ev_index, line, got) == 0)
		return 0;
	if ((call == SFO_CALL_LISTEN || call == SFO_CALL_CONNECT) &&
	    C(x)->tcb.state == SFO_CLOSED) {
		/* a new connection: what an earlier one carried does not count for it (an
		 * OPEN while one exists opens nothing and resets nothing) */
		C(x)->peer_sent = 0;
		C(x)->delivered = 0;
	}
	int go = judge_step(x, k, ev_index, line, 1);
	x->k = k; /* the result is the called TCB's */
	return go == 1 ? check_result(x, ev_index, se, call, &cr, got) : go;
}

static int step_in(struct run *x, int ev_index, const struct sfh_in *in, uint8_t sel, uint32_t line)
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
	in_to_seg(x, in, &ev.u.seg);
	if (ev.u.seg.opts & SFO_OPT_TS) /* the `ptsv` anchor: our latest TSval */
		x->ts[SFH_TS_PTSV] = ev.u.seg.tsval;
	note_peer_data(x, &ev.u.seg);
	/* Our ACK field is in the target's space: on the wire it counts from its real ISN. */
	struct sfo_seg wseg = ev.u.seg;
	wseg.ack += c->tshift;
	if (wseg.tsecr != 0) /* our TSecr echoes its clock; 0 echoes nothing */
		wseg.tsecr += x->tsshift;
	int n = sfh_wire_build(r->wire, &ep, &wseg, r->inpkt.data, sizeof r->inpkt.data);
	if (n < 0) {
		snprintf(x->res->err, sizeof x->res->err, "cannot build segment (line %u)", line);
		return -1;
	}
	r->inpkt.len = (uint16_t)n;
	if (x->o->trace) {
		fmt_seg(x, &ev.u.seg, 0, buf, sizeof buf);
		if (x->multi)
			sfh_run_trace(x, "%4u >   %s  (%s)", line, buf,
				      sfh_sel_name((uint8_t)(k + 1)));
		else
			sfh_run_trace(x, "%4u >   %s", line, buf);
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
	x->res_err = -1;
	progress(x, ev_index, line);
	if (sfh_target_inject(x->t, r->inpkt.data, r->inpkt.len) != 0)
		return target_failed(x, "inject");
	int d = judge_step(x, k, ev_index, line, 0);
	/* a new incarnation on this 4-tuple (spawned, or TIME-WAIT reopened): `pisn` is
	 * the SYN that opened it, and what the connection before carried does not count for
	 * it. A segment the listener answers without making a connection (a RST to a FIN)
	 * leaves the counts alone: the application's socket of the connection before may
	 * still hold octets the peer sent it. */
	if (d == 1 && x->multi && (ev.u.seg.flags & (SFO_SYN | SFO_ACK)) == SFO_SYN &&
	    c->tcb.state == SFO_SYN_RECEIVED && (spawn || before == SFO_TIME_WAIT)) {
		c->peer_sent = 0;
		c->delivered = 0;
		if (!spawn) /* reopened from TIME-WAIT: a connection of the listener's that
			     * nobody has accepted yet, whatever became of the one before */
			c->tcb.fl = (c->tcb.fl & ~(uint32_t)SFO_TF_ACCEPTED) | SFO_TF_PASSIVE;
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
		sfh_run_trace(x, "%4u wait %u ms (the stack's timers saw %u ms)", line, ms,
			      ev.u.wait_ms);
	} else {
		sfh_run_trace(x, "%4u wait %u ms", line, ms);
	}
	x->refused = 0;
	x->res_err = -1;
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
			go = sfh_run_check_assertion(x, (int)i, e);
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
	const struct sfo_profile *base = o->profile ? o->profile : sfo_profile_default();
	if (sfh_run_supported(t, s, res->err, sizeof res->err) != 0) {
		res->unsupported = 1;
		return -1;
	}
	t->timers_set = s->timers;
	memcpy(t->timer_ms, s->timer_ms, sizeof t->timer_ms);
	x.cfg.profile = base;
	if (s->timers) { /* the target reads the profile at reset(), the figures after */
		sfh_run_judged_profile(&x, base);
		x.cfg.profile = &x.prof;
	}
	if (o->brief)
		x.cfg.flags |= SFO_CFG_BRIEF;
	/* The ISNs are the scenario's (or fixed defaults), never the case number's: the
	 * same scenario runs the same wherever it falls in a batch. A campaign spreads them
	 * over the whole space by giving each input its own (fuzz/core.c). */
	x.pisn = s->has_isn ? s->pisn : SFH_DEFAULT_PISN;
	t->iss_want = s->has_isn ? s->tisn : SFH_DEFAULT_TISN;
	t->iss_set = 1;
	if (t->ops->caps & SFH_CAP_IPV6)
		t->ipv6 = s->ipv6;
	x.multi = sfh_scn_multi(s);
	for (int k = 0; k < NTCB; k++) {
		sfo_tcb_init(&x.cn[k].tcb);
		sfo_tcb_family(&x.cn[k].tcb, s->ipv6);
		x.cn[k].pisn = x.pisn + (uint32_t)k * PORT_K;
		x.cn[k].sb = &r->sb[k];
		x.cn[k].segs = r->sb[k].segs;
		x.cn[k].frame = r->sb[k].frame;
	}
	t->multi = x.multi;
	t->sel_listener = 0;
	t->judged_by = x.cfg.profile;
	x.here.event = -1;
	x.here.before = SFO_CLOSED;
	x.here.evclass = SFO_EC_CALL_LISTEN;
	t->clock_us = 0;
	if (sfh_target_reset(t, s->role, o->case_no, &x.ep) != 0)
		return target_failed(&x, "reset") < 0 ? -1 : 0;
	if (!!x.ep.ipv6 != !!s->ipv6) {
		snprintf(res->err, sizeof res->err, "%s: reset gave an %s case for an %s scenario",
			 t->ops->name, x.ep.ipv6 ? "IPv6" : "IPv4", s->ipv6 ? "IPv6" : "IPv4");
		return -1;
	}
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
	sfh_run_trace(&x, "     -- %s%s, target %s, profile %s",
		      s->role == SFH_ROLE_PASSIVE ? "passive" : "active", s->ipv6 ? ", IPv6" : "",
		      t->ops->name, x.cfg.profile->name);
	if (s->timers)
		sfh_run_judged_profile(&x, base); /* with the values the target applied */
	/* A target that cannot say what its calls returned: the case runs, its `=>` lines
	 * go unchecked, and the result says so (never a divergence). */
	for (uint32_t i = 0; !(t->ops->caps & SFH_CAP_CALLRES) && i < s->nev; i++)
		if (s->ev[i].type == SFH_EV_CALL && s->ev[i].u.call.has_res) {
			res->results_unchecked = 1;
			sfh_run_trace(
			    &x,
			    "     -- not supported by target %s: call results (`=>` on line %u "
			    "and after are not checked)",
			    t->ops->name, s->ev[i].line);
			break;
		}
	return run_events(&x);
}
