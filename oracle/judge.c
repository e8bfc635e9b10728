/* synfin oracle: the verdict of one step. Emitted segments are matched against each
 * outcome's patterns; the first outcome that explains everything wins, otherwise the
 * closest one explains what went wrong, field by field, in packetdrill's tone. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "model_priv.h"

#define MAX_SEGS 64 /* segments of one step we examine; more count as unexpected */

/* What matching one outcome found. */
struct match {
	uint8_t count[SFO_MAX_PAT];
	int npat_missing; /* required patterns left short, after FIELD pairing */
	int nunmatched;	  /* segments no pattern took */
	int state_bad;
	int score;
	int first_missing;	  /* pattern index, or -1 */
	int field_seg, field_pat; /* a segment that fits a pattern's flags only */
	int unexpected_seg;	  /* first segment that fits nothing at all */
	int extra_seg, extra_pat; /* a segment that fits a pattern already at its max */
};

static int fits_flags(const struct sfo_pattern *p, const struct sfo_seg *s)
{
	return (s->flags & p->flags_set) == p->flags_set && !(s->flags & p->flags_clear);
}

/* Bit per field that does not fit: 1 seq, 2 ack, 4 len, 8 end/FIN place, 16 an option
 * the segment may not carry. */
static unsigned misfit(const struct sfo_pattern *p, const struct sfo_seg *s)
{
	unsigned bad = 0;
	if (!(p->pf & SFO_PAT_SEQ_ANY)) {
		if (!sfo_seq_between(s->seq, p->seq_lo, p->seq_hi))
			bad |= 1;
		if (p->pf & SFO_PAT_WITHIN) {
			uint32_t end = s->seq + s->len + !!(s->flags & SFO_FIN);
			uint64_t room = (uint64_t)(uint32_t)(p->seq_hi - p->seq_lo) + 1;
			if ((uint64_t)(uint32_t)(end - p->seq_lo) > room)
				bad |= 8;
			if ((s->flags & SFO_FIN) && s->seq + s->len != p->seq_hi)
				bad |= 8;
		}
	}
	if (!(p->pf & SFO_PAT_ACK_ANY) && (s->flags & SFO_ACK) &&
	    !sfo_seq_between(s->ack, p->ack_lo, p->ack_hi))
		bad |= 2;
	if (s->len < p->len_lo || s->len > p->len_hi)
		bad |= 4;
	if ((p->pf & SFO_PAT_NO_WS) && (s->flags & SFO_SYN) && (s->opts & SFO_OPT_WSCALE))
		bad |= 16;
	return bad;
}

static int fits(const struct sfo_pattern *p, const struct sfo_seg *s)
{
	return fits_flags(p, s) && !misfit(p, s);
}

/* A bare ACK the RFC asks for (<SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>). */
static int pure_ack(const struct sfo_pattern *p)
{
	return p->flags_set == SFO_ACK && (p->flags_clear & (SFO_SYN | SFO_RST)) ==
					      (SFO_SYN | SFO_RST) && p->len_hi == 0;
}

/* 3.10.7.4 seventh: "This acknowledgment should be piggybacked on a segment being
 * transmitted": any segment with ACK that acknowledges what the bare ACK would (and
 * starts where it would) carries it. */
static int carries_ack(const struct sfo_pattern *p, const struct sfo_seg *s)
{
	if (!(s->flags & SFO_ACK) || (s->flags & (SFO_SYN | SFO_RST)))
		return 0;
	if (!(p->pf & SFO_PAT_ACK_ANY) && !sfo_seq_between(s->ack, p->ack_lo, p->ack_hi))
		return 0;
	return (p->pf & SFO_PAT_SEQ_ANY) || sfo_seq_between(s->seq, p->seq_lo, p->seq_hi);
}

static void match_outcome(const struct sfo_outcome *o, const struct sfo_seg *seg, size_t n,
			  enum sfo_state observed, struct match *m)
{
	int unmatched[MAX_SEGS];
	int nu = 0;
	uint8_t took_any = 0; /* some segment was matched */
	memset(m->count, 0, sizeof m->count);
	for (size_t i = 0; i < n; i++) {
		int hit = -1;
		/* required patterns first, so an optional one cannot steal their segment */
		for (int j = 0; j < o->npat && hit < 0; j++)
			if (m->count[j] < o->pat[j].min && fits(&o->pat[j], &seg[i]))
				hit = j;
		for (int j = 0; j < o->npat && hit < 0; j++)
			if (m->count[j] < o->pat[j].max && fits(&o->pat[j], &seg[i]))
				hit = j;
		if (hit >= 0) {
			m->count[hit]++;
			took_any = 1;
		} else if (nu < MAX_SEGS) {
			unmatched[nu++] = (int)i;
		}
	}
	/* a required bare ACK may ride on data or a FIN another pattern took */
	for (int j = 0; took_any && j < o->npat; j++) {
		if (m->count[j] >= o->pat[j].min || !pure_ack(&o->pat[j]))
			continue;
		for (size_t i = 0; i < n && i < MAX_SEGS; i++) {
			int free_seg = 0;
			for (int k = 0; k < nu; k++)
				free_seg |= unmatched[k] == (int)i;
			if (!free_seg && carries_ack(&o->pat[j], &seg[i])) {
				m->count[j] = o->pat[j].min;
				break;
			}
		}
	}
	m->nunmatched = nu + (n > MAX_SEGS ? (int)(n - MAX_SEGS) : 0);
	m->first_missing = m->field_seg = m->field_pat = m->unexpected_seg = -1;
	m->extra_seg = m->extra_pat = -1;
	m->npat_missing = 0;
	uint8_t paired[SFO_MAX_PAT] = {0};
	for (int k = 0; k < nu; k++) {
		const struct sfo_seg *s = &seg[unmatched[k]];
		int pat = -1, extra = -1, bent = -1;
		/* a segment shaped like a missing one is that one with a wrong field */
		for (int j = 0; j < o->npat && pat < 0; j++)
			if (!paired[j] && m->count[j] < o->pat[j].min && fits_flags(&o->pat[j], s))
				pat = j;
		if (pat >= 0)
			paired[pat] = 1;
		/* else a segment that fits a pattern entirely came once more than it allows,
		 * which explains it better than a wrong field of another pattern whose flags
		 * it shares */
		for (int j = 0; j < o->npat && pat < 0; j++) {
			if (!fits_flags(&o->pat[j], s))
				continue;
			if (!misfit(&o->pat[j], s)) {
				if (extra < 0)
					extra = j;
			} else if (bent < 0) {
				bent = j;
			}
		}
		if (pat < 0 && extra < 0)
			pat = bent;
		if (pat >= 0 && m->field_seg < 0) {
			m->field_seg = unmatched[k];
			m->field_pat = pat;
		} else if (pat < 0 && extra >= 0 && m->extra_seg < 0) {
			m->extra_seg = unmatched[k];
			m->extra_pat = extra;
		} else if (pat < 0 && extra < 0 && m->unexpected_seg < 0) {
			m->unexpected_seg = unmatched[k];
		}
	}
	for (int j = 0; j < o->npat; j++)
		if (m->count[j] < o->pat[j].min && !paired[j]) {
			m->npat_missing++;
			if (m->first_missing < 0)
				m->first_missing = j;
		}
	m->state_bad = observed < SFO_NSTATES && !(o->state_ok & SFO_BIT(observed));
	m->score = m->nunmatched + m->npat_missing + m->state_bad;
}

/* ---- detail text ---- */

struct buf {
	char *p;
	size_t cap, len;
};

static void put(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	if (b->len >= b->cap)
		return;
	va_start(ap, fmt);
	int k = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
	va_end(ap);
	if (k > 0)
		b->len += (size_t)k < b->cap - b->len ? (size_t)k : b->cap - b->len - 1;
}

static long long rel(uint32_t v, uint32_t base)
{
	return (long long)(int32_t)(v - base);
}

static void put_flags(struct buf *b, uint8_t f)
{
	static const struct {
		uint8_t bit;
		char c;
	} tab[] = {{SFO_SYN, 'S'}, {SFO_FIN, 'F'}, {SFO_RST, 'R'}, {SFO_PSH, 'P'},
		   {SFO_URG, 'U'}, {SFO_ECE, 'E'}, {SFO_CWR, 'W'}, {SFO_ACK, '.'}};
	char s[10];
	size_t k = 0;
	for (size_t i = 0; i < sizeof tab / sizeof tab[0]; i++)
		if (f & tab[i].bit)
			s[k++] = tab[i].c;
	s[k] = '\0';
	put(b, "%s", k ? s : "none");
}

struct bases {
	uint32_t seq, ack; /* subtracted from target seq / ack numbers */
	int relative;
	int brief; /* SFO_CFG_BRIEF: no detail text */
};

static void put_num(struct buf *b, uint32_t v, uint32_t base, int relative)
{
	if (relative)
		put(b, "%lld", rel(v, base));
	else
		put(b, "%u", v);
}

static void put_range(struct buf *b, uint32_t lo, uint32_t hi, uint32_t base, int relative)
{
	put_num(b, lo, base, relative);
	if (lo != hi) {
		put(b, "..");
		put_num(b, hi, base, relative);
	}
}

static void put_seg(struct buf *b, const struct sfo_seg *s, const struct bases *x)
{
	put_flags(b, s->flags);
	put(b, " seq ");
	put_num(b, s->seq, x->seq, x->relative);
	if (s->flags & SFO_ACK) {
		put(b, " ack ");
		put_num(b, s->ack, x->ack, x->relative);
	}
	put(b, " len %u", s->len);
}

static void put_pat(struct buf *b, const struct sfo_pattern *p, const struct bases *x)
{
	put_flags(b, p->flags_set);
	if (!(p->pf & SFO_PAT_SEQ_ANY)) {
		put(b, " seq ");
		put_range(b, p->seq_lo, p->seq_hi, x->seq, x->relative);
	}
	if (!(p->pf & SFO_PAT_ACK_ANY) && (p->flags_set & SFO_ACK)) {
		put(b, " ack ");
		put_range(b, p->ack_lo, p->ack_hi, x->ack, x->relative);
	}
	put(b, " len %u", p->len_lo);
	if (p->len_hi != p->len_lo)
		put(b, "..%u", p->len_hi);
}

static void put_field(struct buf *b, const char *name, uint32_t lo, uint32_t hi, uint32_t obs,
		      uint32_t base, int relative)
{
	if (b->len)
		put(b, "; ");
	put(b, "%s: expected ", name);
	put_range(b, lo, hi, base, relative);
	put(b, ", observed ");
	put_num(b, obs, base, relative);
}

static void put_misfit(struct buf *b, const struct sfo_pattern *p, const struct sfo_seg *s,
		       const struct bases *x)
{
	unsigned bad = misfit(p, s);
	if (bad & 1)
		put_field(b, "seq", p->seq_lo, p->seq_hi, s->seq, x->seq, x->relative);
	if (bad & 2)
		put_field(b, "ack", p->ack_lo, p->ack_hi, s->ack, x->ack, x->relative);
	if (bad & 4)
		put_field(b, "len", p->len_lo, p->len_hi, s->len, 0, 0);
	if (bad & 16) {
		if (b->len)
			put(b, "; ");
		put(b, "options: expected no ws (the SYN carried none), observed ws %u", s->wscale);
	}
	if (bad & 8) {
		if (s->flags & SFO_FIN)
			put_field(b, "fin at", p->seq_hi, p->seq_hi, s->seq + s->len, x->seq,
				  x->relative);
		else
			put_field(b, "end", p->seq_lo, p->seq_hi + 1, s->seq + s->len, x->seq,
				  x->relative);
	}
}

/* ---- the verdict ---- */

static void describe(const struct sfo_outcome *o, const struct match *m, const struct sfo_seg *seg,
		     enum sfo_state observed, const struct bases *x, struct sfo_verdict *v)
{
	struct buf b = {v->detail, x->brief ? 0 : sizeof v->detail, 0};
	if (m->state_bad) {
		v->kind = SFO_DIV_STATE;
		v->rule = o->state_rule;
		put(&b, "state: expected %s, observed %s", sfo_state_name(o->next.state),
		    sfo_state_name(observed));
	} else if (m->field_seg >= 0) {
		const struct sfo_pattern *p = &o->pat[m->field_pat];
		v->kind = SFO_DIV_FIELD;
		v->rule = p->rule;
		v->seg = m->field_seg + 1;
		/* an unsolicited option alone breaks RFC 7323, not the rule that sent the SYN */
		if (misfit(p, &seg[m->field_seg]) == 16)
			v->rule = SFO_R_WS_SYNACK_UNSOLICITED;
		put_misfit(&b, p, &seg[m->field_seg], x);
	} else if (m->first_missing >= 0) {
		const struct sfo_pattern *p = &o->pat[m->first_missing];
		v->kind = SFO_DIV_MISSING;
		v->rule = p->rule;
		put(&b, "missing: ");
		put_pat(&b, p, x);
	} else if (m->unexpected_seg < 0 && m->extra_seg >= 0) {
		const struct sfo_pattern *p = &o->pat[m->extra_pat];
		v->kind = SFO_DIV_UNEXPECTED;
		v->rule = p->rule;
		v->seg = m->extra_seg + 1;
		/* a data segment that fits its pattern in every field is one more than the
		 * count from the smallest recommended segment size: 3.8.6.2.1, a SHOULD */
		if (p->rule == SFO_R_SEND_DATA || p->rule == SFO_R_SEND_DATA_OVERRIDE)
			v->rule = SFO_R_SEND_DATA_SMALL;
		put(&b, "unexpected: ");
		put_seg(&b, &seg[m->extra_seg], x);
		put(&b, " (one more than the %u allowed: ", p->max);
		put_pat(&b, p, x);
		put(&b, ")");
		return;
	} else {
		v->kind = SFO_DIV_UNEXPECTED;
		v->rule = o->state_rule;
		v->seg = (m->unexpected_seg >= 0 ? m->unexpected_seg : 0) + 1;
		put(&b, "unexpected: ");
		put_seg(&b, &seg[m->unexpected_seg >= 0 ? m->unexpected_seg : 0], x);
		return;
	}
	int extra = m->unexpected_seg >= 0 ? m->unexpected_seg : m->extra_seg;
	if (extra >= 0 && (m->score > 1 || v->kind == SFO_DIV_MISSING)) {
		put(&b, "; unexpected: ");
		put_seg(&b, &seg[extra], x);
	}
}

/* Several outcomes may explain a step, and the one committed decides how the rest of the
 * case is judged. An ACK always carries the RCV.NXT of the moment it is formed, so an
 * outcome under which every ACK emitted falls short of its RCV.NXT (text it takes but
 * does not acknowledge yet) is less likely than a later one the ACKs match exactly (the
 * text was dropped: SYN,ACK with text, held out-of-order data). Returns the index. */
static int better_fit(const struct sfo_expect *e, int first, const struct sfo_seg *seg, size_t n,
		      enum sfo_state observed)
{
	uint32_t top = 0;
	int any = 0;
	struct match m;
	for (size_t i = 0; i < n; i++)
		if ((seg[i].flags & SFO_ACK) && !(seg[i].flags & SFO_RST) &&
		    (!any || sfo_seq_gt(seg[i].ack, top))) {
			top = seg[i].ack;
			any = 1;
		}
	if (!any || !sfo_seq_lt(top, e->out[first].next.rcv_nxt))
		return first;
	for (int j = first + 1; j < e->nout; j++) {
		if (e->out[j].next.rcv_nxt != top)
			continue;
		match_outcome(&e->out[j], seg, n, observed, &m);
		if (m.score == 0)
			return j;
	}
	return first;
}

/* ---- retransmissions before the RTO ---- */

/* Which early-retransmission rule segment s would break, or -1: s repeats sequence space
 * the target already sent and the peer has not acknowledged (its SYN at ISS, its FIN at
 * the place CLOSE gave it, or data inside [SND.UNA, SND.NXT)). */
static int resent(const struct sfo_tcb *t, const struct sfo_seg *s)
{
	uint32_t space = sfo_seg_space(s);
	if (!(t->fl & SFO_TF_ISS_KNOWN) || !space || (s->flags & SFO_RST) ||
	    !sfo_seq_ge(s->seq, t->snd_una) || !sfo_seq_le(s->seq + space, t->snd_nxt))
		return -1;
	if (s->flags & SFO_SYN) {
		int synack = (t->fl & SFO_TF_IRS_KNOWN) != 0;
		if (s->seq != t->iss || !!(s->flags & SFO_ACK) != synack ||
		    (t->state != SFO_SYN_SENT && t->state != SFO_SYN_RECEIVED))
			return -1;
		return SFO_R_RTX_EARLY_SYN;
	}
	if (!(s->flags & SFO_ACK))
		return -1;
	if (s->flags & SFO_FIN) {
		if (!(t->fl & SFO_TF_FIN_SENT) || (t->fl & SFO_TF_FIN_ACKED) ||
		    s->seq + s->len != t->snd_fin)
			return -1;
		return SFO_R_RTX_EARLY_FIN;
	}
	return SFO_R_RTX_EARLY_DATA;
}

/* 3.8.1 (MUST-18, RFC 6298 section 5): a retransmission waits for the timer. When no
 * outcome explains a step, see whether one explains it once the segments that merely
 * repeat unacknowledged sequence space are set aside (their acknowledgment field still
 * within what this step may acknowledge): then the early retransmission is the only
 * departure, and it gets its own rule instead of the rule of whatever triggered it. */
static int early_rtx(const struct sfo_tcb *before, const struct sfo_expect *e,
		     const struct sfo_seg *seg, size_t n, enum sfo_state observed,
		     const struct bases *x, struct sfo_verdict *v)
{
	struct sfo_seg rest[MAX_SEGS];
	int rule[MAX_SEGS];
	size_t nr = 0;
	int first = -1;
	struct match m;
	if (!before || n > MAX_SEGS)
		return 0;
	for (size_t i = 0; i < n; i++) {
		rule[i] = resent(before, &seg[i]);
		if (rule[i] < 0)
			rest[nr++] = seg[i];
		else if (first < 0)
			first = (int)i;
	}
	if (first < 0)
		return 0;
	for (int k = 0; k < e->nout; k++) {
		const struct sfo_outcome *o = &e->out[k];
		int acks_ok = 1;
		for (size_t i = 0; i < n; i++)
			if (rule[i] >= 0 && (seg[i].flags & SFO_ACK) &&
			    !sfo_seq_between(seg[i].ack, before->rcv_nxt, o->next.rcv_nxt))
				acks_ok = 0;
		if (!acks_ok)
			continue;
		match_outcome(o, rest, nr, observed, &m);
		if (m.score)
			continue;
		struct buf b = {v->detail, x->brief ? 0 : sizeof v->detail, 0};
		v->kind = SFO_DIV_UNEXPECTED;
		v->rule = (sfo_rule_t)rule[first];
		v->seg = first + 1;
		v->expected = o->next.state;
		put(&b, "unexpected: ");
		put_seg(&b, &seg[first], x);
		put(&b, " (a retransmission before the RTO");
		if (n - nr > 1)
			put(&b, ", and %zu more", n - nr - 1);
		put(&b, ")");
		return 1;
	}
	return 0;
}

/* 3.8.1 with MUST-19 (RFC 5681 section 3.1, RFC 6298 section 5): after a retransmission
 * timeout the sender starts over from SND.UNA in slow start, so as ACKs arrive it sends
 * again data it had sent before the timeout (go-back-N), whole segments even where the
 * ACK already covers their first octets. While that recovery runs, such segments are
 * set aside; if an outcome then explains the step, it is conformant. Returns the
 * outcome's index, or -1. */
static int recovery_rtx(const struct sfo_tcb *before, const struct sfo_expect *e,
			const struct sfo_seg *seg, size_t n, enum sfo_state observed)
{
	struct sfo_seg rest[MAX_SEGS];
	size_t nr = 0;
	struct match m;
	if (!before || !(before->fl & SFO_TF_CWND_LOSS) || n > MAX_SEGS)
		return -1;
	for (size_t i = 0; i < n; i++) {
		int r = resent(before, &seg[i]);
		if (r != SFO_R_RTX_EARLY_DATA && r != SFO_R_RTX_EARLY_FIN)
			rest[nr++] = seg[i];
	}
	if (nr == n)
		return -1;
	for (int k = 0; k < e->nout; k++) {
		const struct sfo_outcome *o = &e->out[k];
		int acks_ok = 1;
		for (size_t i = 0; i < n; i++)
			if ((seg[i].flags & SFO_ACK) && !(seg[i].flags & SFO_RST) &&
			    !sfo_seq_between(seg[i].ack, before->rcv_nxt, o->next.rcv_nxt))
				acks_ok = 0;
		if (!acks_ok)
			continue;
		match_outcome(o, rest, nr, observed, &m);
		if (m.score == 0)
			return k;
	}
	return -1;
}

/* Severity follows the harm: a pure ACK carrying the current SND.NXT and an
 * ACK number in [RCV.NXT before, RCV.NXT after] restates what the peer already knows and
 * cannot move its state. When an unexpected-response departure consists of such ACKs
 * alone (some outcome fits once they are set aside), it is graded by the one sentence of
 * 3.10.7.4 on replying to a segment the receiver drops, the first check's "an
 * acknowledgment should be sent in reply (unless the RST bit is set ...)": SHOULD at
 * most. Returns 1 when that is so. */
static int extra_acks_only(const struct sfo_tcb *before, const struct sfo_expect *e,
			   const struct sfo_seg *seg, size_t n, enum sfo_state observed)
{
	struct sfo_seg rest[MAX_SEGS];
	struct match m;
	if (!before || n > MAX_SEGS || !(before->fl & SFO_TF_ISS_KNOWN))
		return 0;
	for (int k = 0; k < e->nout; k++) {
		const struct sfo_outcome *o = &e->out[k];
		size_t nr = 0;
		for (size_t i = 0; i < n; i++) {
			const struct sfo_seg *s = &seg[i];
			int pure = (s->flags & (uint8_t)~SFO_PSH) == SFO_ACK && !s->len;
			int seq_now = s->seq == before->snd_nxt || s->seq == o->next.snd_nxt;
			int ack_now = sfo_seq_between(s->ack, before->rcv_nxt, o->next.rcv_nxt);
			if (!(pure && seq_now && ack_now))
				rest[nr++] = *s;
		}
		if (nr == n)
			return 0;
		match_outcome(o, rest, nr, observed, &m);
		if (m.score == 0)
			return 1;
	}
	return 0;
}

void sfo_judge(const struct sfo_tcb *before, const struct sfo_cfg *cfg, const struct sfo_expect *e,
	       const struct sfo_seg *seg, size_t n, enum sfo_state observed,
	       const struct sfo_rebase *rebase, struct sfo_verdict *v, int *which)
{
	const struct sfo_profile *p = cfg && cfg->profile ? cfg->profile : sfo_profile_default();
	struct match m, best;
	int bi = -1;
	if (!seg)
		n = 0;
	v->before = before ? before->state : SFO_STATE_UNKNOWN;
	v->observed = observed;
	v->evclass = e->evclass;
	v->accepted = NULL;
	v->seg = 0;
	v->detail[0] = '\0';
	for (int i = 0; i < e->nout; i++) {
		match_outcome(&e->out[i], seg, n, observed, &m);
		if (m.score == 0) {
			i = better_fit(e, i, seg, n, observed);
			const struct sfo_outcome *o = &e->out[i];
			v->kind = SFO_DIV_OK;
			v->rule = o->nrules ? o->rules[o->nrules - 1] : o->state_rule;
			v->sev = sfo_rule(v->rule)->sev;
			v->expected = o->next.state;
			if (which)
				*which = i;
			return;
		}
		/* closest: fewest problems; on a tie, one whose state matches what the
		 * target reports explains more (out[0] otherwise) */
		if (bi < 0 || m.score < best.score ||
		    (m.score == best.score && best.state_bad && !m.state_bad)) {
			best = m;
			bi = i;
		}
	}
	int k = recovery_rtx(before, e, seg, n, observed);
	if (k >= 0) {
		v->kind = SFO_DIV_OK;
		v->rule = SFO_R_RTX_RECOVERY;
		v->sev = sfo_rule(v->rule)->sev;
		v->expected = e->out[k].next.state;
		if (which)
			*which = k;
		return;
	}
	if (which)
		*which = -1;
	if (bi < 0) { /* no outcome at all: nothing can be explained */
		v->kind = SFO_DIV_UNEXPECTED;
		v->rule = SFO_R_WAIT_IDLE;
		v->sev = SFO_SEV_MUST;
		v->expected = v->before;
		snprintf(v->detail, sizeof v->detail, "unexpected: the model has no outcome here");
		return;
	}
	int brief = cfg && (cfg->flags & SFO_CFG_BRIEF);
	struct bases x = {0, 0, 0, brief};
	if (rebase && rebase->relative)
		x = (struct bases){rebase->target_isn, rebase->peer_isn, 1, brief};
	const struct sfo_outcome *o = &e->out[bi];
	v->expected = o->next.state;
	if (!early_rtx(before, e, seg, n, observed, &x, v))
		describe(o, &best, seg, observed, &x, v);
	if (!v->detail[0] && !brief) /* never leave a divergence unexplained */
		snprintf(v->detail, sizeof v->detail, "%s: %d segment(s) emitted, none explained",
			 sfo_div_kind_name(v->kind), (int)n);
	v->sev = sfo_rule(v->rule) ? sfo_rule(v->rule)->sev : SFO_SEV_MUST;
	if (v->kind == SFO_DIV_UNEXPECTED && v->sev == SFO_SEV_MUST &&
	    extra_acks_only(before, e, seg, n, observed)) {
		v->sev = SFO_SEV_SHOULD;
		if (!brief) {
			size_t l = strlen(v->detail);
			snprintf(v->detail + l, sizeof v->detail - l,
				 " (a pure ACK of the current numbers: graded should)");
		}
	}
	v->accepted = sfo_profile_accepts(p, v->rule, (int)v->kind);
}
