/* The runner: `out` and `expect state` lines, checked against what the last step emitted
 * and the state it left. */
#include <stdio.h>
#include <string.h>

#include "runner_priv.h"

/* The kinds of an IPv4 or IPv6 TCP packet's options in wire order, NOP and EOL left out, as enum
 * sfh_optkind; at most SFH_MAX_ORDER + 1 (one more than an order= list holds, so that a
 * longer list never matches). The packet parsed already (sfh_wire_parse). */
uint8_t sfh_run_opt_kinds(const uint8_t *ip, size_t len, uint8_t out[SFH_MAX_ORDER + 1])
{
	size_t ihl = sfh_wire_tcp_at(ip, len), n = 0; /* IPv4 or IPv6 */
	if (ihl == 0 || len < ihl + 20)
		return 0;
	const uint8_t *tcp = ip + ihl;
	size_t off = (size_t)(tcp[12] >> 4) * 4;
	if (off < 20 || ihl + off > len)
		return 0;
	for (size_t i = 20; i < off && n < SFH_MAX_ORDER + 1;) {
		uint8_t kind = tcp[i];
		if (kind == 0)
			break;
		if (kind == 1) {
			i++;
			continue;
		}
		out[n++] = (uint8_t)sfh_optkind_of(kind);
		if (i + 1 >= off || tcp[i + 1] < 2)
			break;
		i += tcp[i + 1];
	}
	return (uint8_t)n;
}

static int field_fits(const struct run *x, int has, const struct sfh_num *want, uint32_t got)
{
	return !has || sfh_run_resolve(x, want) == got;
}

/* A ts= pattern against a value: low end resolved (ttsv as it was before this segment),
 * then the value within [low, low + span] mod 2^32. */
static int ts_fits(const struct run *x, size_t idx, uint8_t a, uint32_t lo, uint32_t span,
		   uint32_t got, uint32_t *want)
{
	uint32_t base = a == SFH_TS_PTSV   ? x->ts[SFH_TS_PTSV]
			: a == SFH_TS_TTSV ? C(x)->sb->ttsv[idx]
					   : 0;
	*want = base + lo;
	return (uint32_t)(got - *want) <= span;
}

static void ts_want_str(uint32_t want, uint32_t span, char *buf, size_t cap)
{
	if (span == 0)
		snprintf(buf, cap, "%lu", (unsigned long)want);
	else
		snprintf(buf, cap, "%lu..%lu", (unsigned long)want, (unsigned long)(want + span));
}

/* The option, window and timing assertions of o on emitted segment idx: 1 if met, else 0
 * with the first difference in why. */
static int out_opts_fit(const struct run *x, const struct sfh_out *o, size_t idx, char *why,
			size_t cap)
{
	static const char *const oname[4] = {"mss", "ws", "sackok", "ts"};
	const struct sfo_seg *s = &C(x)->segs[idx];
	char w[48];
	uint32_t want;

	if (o->has_wnd && s->wnd != o->wnd) {
		snprintf(why, cap, "win: expected %u, observed %u", o->wnd, s->wnd);
		return 0;
	}
	for (unsigned b = 0; b < 4; b++) {
		if ((o->opt_want & (1u << b)) && !(s->opts & (1u << b))) {
			snprintf(why, cap, "%s: expected, observed none", oname[b]);
			return 0;
		}
		if ((o->opt_none & (1u << b)) && (s->opts & (1u << b))) {
			snprintf(why, cap, "%s: expected none, observed one", oname[b]);
			return 0;
		}
	}
	if ((o->opt_want & SFO_OPT_MSS) && s->mss != o->mss) {
		snprintf(why, cap, "mss: expected %u, observed %u", o->mss, s->mss);
		return 0;
	}
	if ((o->opt_want & SFO_OPT_WSCALE) && s->wscale != o->wscale) {
		snprintf(why, cap, "ws: expected %u, observed %u", o->wscale, s->wscale);
		return 0;
	}
	if (o->opt_want & SFO_OPT_TS) {
		if (!ts_fits(x, idx, o->tsval_a, o->tsval, o->tsval_span, s->tsval, &want)) {
			ts_want_str(want, o->tsval_span, w, sizeof w);
			snprintf(why, cap, "ts val: expected %s, observed %lu", w,
				 (unsigned long)s->tsval);
			return 0;
		}
		if (!ts_fits(x, idx, o->tsecr_a, o->tsecr, o->tsecr_span, s->tsecr, &want)) {
			ts_want_str(want, o->tsecr_span, w, sizeof w);
			snprintf(why, cap, "ts ecr: expected %s, observed %lu", w,
				 (unsigned long)s->tsecr);
			return 0;
		}
	}
	if (o->norder) {
		const uint8_t *got = C(x)->sb->order[idx];
		uint8_t ng = C(x)->sb->norder[idx];
		int same = ng == o->norder;
		for (unsigned i = 0; same && i < ng; i++)
			same = got[i] == o->order[i];
		if (!same) {
			size_t k = (size_t)snprintf(why, cap, "order: observed ");
			for (unsigned i = 0; i < ng && k < cap; i++)
				k += (size_t)snprintf(why + k, cap - k, "%s%s", i ? "," : "",
						      sfh_optkind_name(got[i]));
			if (ng == 0 && k < cap)
				snprintf(why + k, cap - k, "no options");
			return 0;
		}
	}
	if (o->has_at) {
		int64_t d = (int64_t)(C(x)->sb->at[idx] - x->line_us);
		int64_t slack = (x->t->ops->caps & SFH_CAP_VTIME) ? 0 : SFH_RT_SLACK_US;
		int64_t off = d - (int64_t)o->at_ms * 1000;
		if (off < 0)
			off = -off;
		if (off > (int64_t)o->tol_ms * 1000 + slack) {
			snprintf(why, cap, "time: expected +%lums +-%lums, observed +%lld.%03lldms",
				 (unsigned long)o->at_ms, (unsigned long)o->tol_ms,
				 (long long)(d / 1000), (long long)((d < 0 ? -d : d) % 1000));
			return 0;
		}
	}
	return 1;
}

/* `out` and `expect state` lines: hand-written assertions on the previous step. */
int sfh_run_check_assertion(struct run *x, int ev_index, const struct sfh_event *e)
{
	struct sfo_verdict *v = &x->res->verdict;
	char why[160] = "";
	/* with selectors: the TCB named, else the connection the last step addressed, its
	 * state as the target reports it now */
	x->k = e->sel == SFH_SEL_LISTENER ? LSN : e->sel ? e->sel - 1 : x->cur;
	if (x->multi && e->type == SFH_EV_EXPECT_STATE) {
		int d = sfh_run_observe(x, x->k);
		if (d != 0)
			return d < 0 ? -1 : 0;
	}
	if (e->type == SFH_EV_EXPECT_STATE) {
		enum sfo_state st =
		    C(x)->observed != SFO_STATE_UNKNOWN ? C(x)->observed : C(x)->tcb.state;
		/* Met when observed as written, or when the model is in the asserted state and
		 * has judged the observed one equivalent (e.g. a listener still open). */
		if (st == e->u.state ||
		    (C(x)->tcb.state == e->u.state && (C(x)->state_ok & (1u << st))))
			return 1;
		v->kind = SFO_DIV_STATE;
		v->seg = 0;
		v->expected = e->u.state;
		v->observed = st;
		snprintf(v->detail, sizeof v->detail, "expect state: expected %s, observed %s",
			 sfo_state_name(e->u.state), sfo_state_name(st));
	} else {
		const struct sfh_out *o = &e->u.out;
		size_t idx = C(x)->out_idx;
		const struct sfo_seg *s =
		    C(x)->out_idx < C(x)->nsegs ? &C(x)->segs[C(x)->out_idx++] : NULL;
		if (o->none && C(x)->nsegs == 0)
			return 1;
		if (!o->none && s && (s->flags & ~SFO_PSH) == (o->flags & ~SFO_PSH) &&
		    field_fits(x, o->has_seq, &o->seq, s->seq) &&
		    field_fits(x, o->has_ack, &o->ack, s->ack) &&
		    (!o->has_len || o->len == s->len)) {
			if (out_opts_fit(x, o, idx, why, sizeof why)) {
				x->line_us = C(x)->sb->at[idx];
				return 1;
			}
			v->kind = SFO_DIV_FIELD;
		} else {
			v->kind = s || o->none ? SFO_DIV_UNEXPECTED : SFO_DIV_MISSING;
		}
		v->seg = s ? (int)C(x)->out_idx : 0;
		snprintf(v->detail, sizeof v->detail, "out assertion on line %u not met%s%s",
			 e->line, why[0] ? ": " : "", why);
	}
	x->res->assert_failed = 1;
	v->accepted = NULL;
	sfh_run_trace(x, "         => ASSERTION FAILED: %s", v->detail);
	sfh_run_record_divergence(x, ev_index, e->line);
	return 0;
}
