/* synfin scenarios: the text formatter (sfh_scn_format), the inverse of the parser. */
#include "scenario.h"
#include "scenario_priv.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- text output ---- */

/* An snprintf-like sink: copies what fits, counts everything. */
struct sbuf {
	char *buf;
	size_t cap, n;
};

static void sb_put(struct sbuf *b, const char *s, size_t len)
{
	if (b->n < b->cap) {
		size_t room = b->cap - b->n;
		memcpy(b->buf + b->n, s, len < room ? len : room);
	}
	b->n += len;
}

__attribute__((format(printf, 2, 3))) static void sb_printf(struct sbuf *b, const char *fmt, ...)
{
	char tmp[64]; /* every caller prints a short field */
	va_list ap;
	int k;

	va_start(ap, fmt);
	k = vsnprintf(tmp, sizeof tmp, fmt, ap);
	va_end(ap);
	if (k > 0)
		sb_put(b, tmp, (size_t)k < sizeof tmp ? (size_t)k : sizeof tmp - 1);
}

/* NUL-terminate at the end of the text, or at the last byte if it was truncated. */
static size_t sb_end(struct sbuf *b)
{
	if (b->cap)
		b->buf[b->n < b->cap ? b->n : b->cap - 1] = '\0';
	return b->n;
}

size_t sfh_num_format(const struct sfh_num *n, char *buf, size_t cap)
{
	int k;

	if (n->anchor == SFH_A_ABS)
		k = snprintf(buf, cap, "%lu", (unsigned long)(uint32_t)n->off);
	else if (n->off == 0)
		k = snprintf(buf, cap, "%s", sfh_anchor_name(n->anchor));
	else
		k = snprintf(buf, cap, "%s%+lld", sfh_anchor_name(n->anchor), (long long)n->off);
	return k < 0 ? 0 : (size_t)k;
}

/* A timestamp value: literal, or anchor with its offset read as signed 32 bits
 * ("ttsv-1", not "ttsv+4294967295"; both parse to the same value). */
static void sb_ts(struct sbuf *b, const char *pre, uint8_t a, uint32_t off)
{
	int32_t d = (int32_t)off;
	if (a == SFH_TS_ABS || a >= SFH_NTS_ANCHORS)
		sb_printf(b, "%s%lu", pre, (unsigned long)off);
	else if (d == 0)
		sb_printf(b, "%s%s", pre, sfh_ts_anchor_names[a]);
	else
		sb_printf(b, "%s%s%+lld", pre, sfh_ts_anchor_names[a], (long long)d);
}

static void sb_num(struct sbuf *b, const char *key, const struct sfh_num *n)
{
	char tmp[40];

	sfh_num_format(n, tmp, sizeof tmp);
	sb_printf(b, " %s=%s", key, tmp);
}

static void format_in(struct sbuf *b, const struct sfh_in *in)
{
	char f[9];

	sfh_flags_str(in->flags, f);
	sb_printf(b, "in %s", f);
	if (in->has_seq)
		sb_num(b, "seq", &in->seq);
	if (in->has_ack)
		sb_num(b, "ack", &in->ack);
	if (in->wnd != SFH_DEFAULT_WND)
		sb_printf(b, " win=%u", in->wnd);
	if (in->len)
		sb_printf(b, " len=%lu", (unsigned long)in->len);
	if (in->up)
		sb_printf(b, " up=%u", in->up);
	if (in->opts & SFO_OPT_MSS)
		sb_printf(b, " mss=%u", in->mss);
	if (in->opts & SFO_OPT_WSCALE)
		sb_printf(b, " ws=%u", in->wscale);
	if (in->opts & SFO_OPT_SACKOK)
		sb_printf(b, " sackok");
	if (in->opts & SFO_OPT_TS) {
		sb_ts(b, " ts=", in->tsval_a, in->tsval);
		sb_ts(b, ",", in->tsecr_a, in->tsecr);
	}
}

/* One ts= pattern: "*", a value, or "LOW..HIGH" with the anchor on both ends. */
static void sb_tspat(struct sbuf *b, const char *pre, uint8_t a, uint32_t v, uint32_t span)
{
	if (span == U32_MAX) {
		sb_printf(b, "%s*", pre);
		return;
	}
	sb_ts(b, pre, a, v);
	if (span)
		sb_ts(b, "..", a, v + span);
}

/* A duration: "Ns" when whole seconds, else "Nms". */
static void sb_ms(struct sbuf *b, const char *pre, uint32_t ms)
{
	if (ms && ms % 1000 == 0)
		sb_printf(b, "%s%lus", pre, (unsigned long)(ms / 1000));
	else
		sb_printf(b, "%s%lums", pre, (unsigned long)ms);
}

static void format_out_opts(struct sbuf *b, const struct sfh_out *o)
{
	if (o->has_wnd)
		sb_printf(b, " win=%u", o->wnd);
	if (o->opt_want & SFO_OPT_MSS)
		sb_printf(b, " mss=%u", o->mss);
	if (o->opt_none & SFO_OPT_MSS)
		sb_printf(b, " nomss");
	if (o->opt_want & SFO_OPT_WSCALE)
		sb_printf(b, " ws=%u", o->wscale);
	if (o->opt_none & SFO_OPT_WSCALE)
		sb_printf(b, " nows");
	if (o->opt_want & SFO_OPT_SACKOK)
		sb_printf(b, " sackok");
	if (o->opt_none & SFO_OPT_SACKOK)
		sb_printf(b, " nosackok");
	if (o->opt_want & SFO_OPT_TS) {
		sb_tspat(b, " ts=", o->tsval_a, o->tsval, o->tsval_span);
		sb_tspat(b, ",", o->tsecr_a, o->tsecr, o->tsecr_span);
	}
	if (o->opt_none & SFO_OPT_TS)
		sb_printf(b, " nots");
	for (unsigned i = 0; i < o->norder && i < SFH_MAX_ORDER; i++)
		sb_printf(b, "%s%s", i ? "," : " order=", sfh_optkind_name(o->order[i]));
	if (o->has_at) {
		sb_ms(b, " @+", o->at_ms);
		if (o->tol_ms)
			sb_ms(b, " +-", o->tol_ms);
	}
}

static void format_out(struct sbuf *b, const struct sfh_out *o)
{
	char f[9];

	if (o->none) {
		sb_printf(b, "out none");
		return;
	}
	sfh_flags_str(o->flags, f);
	sb_printf(b, "out %s", f);
	if (o->has_seq)
		sb_num(b, "seq", &o->seq);
	if (o->has_ack)
		sb_num(b, "ack", &o->ack);
	if (o->has_len)
		sb_printf(b, " len=%lu", (unsigned long)o->len);
	format_out_opts(b, o);
}

static void format_event(struct sbuf *b, const struct sfh_event *e)
{
	switch (e->type) {
	case SFH_EV_IN:
		format_in(b, &e->u.in);
		break;
	case SFH_EV_CALL:
		sb_printf(b, "call %s", sfo_call_name(e->u.call.call));
		if (e->u.call.call == SFO_CALL_SEND ||
		    (e->u.call.call == SFO_CALL_RECEIVE && e->u.call.arg))
			sb_printf(b, " %lu", (unsigned long)e->u.call.arg);
		if (e->sel != SFH_SEL_NONE) /* the selector before the result, which ends it */
			sb_printf(b, " %s", sfh_sel_name(e->sel));
		if (e->u.call.has_res && e->u.call.res_err == SFO_ERR_OK)
			sb_printf(b, " => %lu", (unsigned long)e->u.call.res_n);
		else if (e->u.call.has_res)
			sb_printf(b, " => %s", sfo_err_name((enum sfo_err)e->u.call.res_err));
		break;
	case SFH_EV_WAIT:
		if (e->u.wait_ms && e->u.wait_ms % 1000 == 0)
			sb_printf(b, "wait %lus", (unsigned long)(e->u.wait_ms / 1000));
		else
			sb_printf(b, "wait %lu", (unsigned long)e->u.wait_ms);
		break;
	case SFH_EV_OUT:
		format_out(b, &e->u.out);
		break;
	case SFH_EV_EXPECT_STATE:
		sb_printf(b, "expect state %s", sfo_state_name(e->u.state));
		break;
	}
	if (e->sel != SFH_SEL_NONE && e->type != SFH_EV_CALL)
		sb_printf(b, " %s", sfh_sel_name(e->sel));
	sb_put(b, "\n", 1);
}

size_t sfh_scn_format(const struct sfh_scenario *s, char *buf, size_t cap)
{
	struct sbuf b = {buf, cap, 0};
	uint32_t nev = s->nev < SFH_MAX_EVENTS ? s->nev : SFH_MAX_EVENTS;

	sb_printf(&b, "role %s\n", s->role == SFH_ROLE_ACTIVE ? "active" : "passive");
	if (s->has_isn)
		sb_printf(&b, "isn pisn=0x%08lx tisn=0x%08lx\n", (unsigned long)s->pisn,
			  (unsigned long)s->tisn);
	if (s->timers) {
		sb_printf(&b, "timers");
		for (unsigned k = 0; k < SFH_NTIMERS; k++)
			if (s->timers & (1u << k)) {
				sb_printf(&b, " %s=", sfh_timer_names[k]);
				sb_ms(&b, "", s->timer_ms[k]);
			}
		sb_put(&b, "\n", 1);
	}
	if (s->ipv6)
		sb_printf(&b, "family ipv6\n");
	for (uint32_t i = 0; i < nev; i++)
		format_event(&b, &s->ev[i]);
	return sb_end(&b);
}
