/* synfin scenarios: the text parser (sfh_scn_parse); the grammar is in scenario.h. */
#include "scenario.h"
#include "scenario_priv.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- text parser ---- */

/* The line being parsed. Lines are slices of the input, so NULs and long lines are
 * ordinary bytes and nothing is copied. */
struct pctx {
	const char *fname;
	char *err;
	size_t errlen;
	const char *line;
	size_t len; /* up to the comment or the end of the line */
	size_t pos;
	uint32_t lineno;
	uint8_t *sel;	/* the event's selector, while a line that may carry one is parsed */
	size_t sel_col; /* ... and where it was written */
};

struct tok {
	const char *p;
	size_t n;
	size_t col; /* 1-based column of p */
};

__attribute__((format(printf, 3, 4))) static int fail(struct pctx *c, size_t col, const char *fmt,
						      ...)
{
	va_list ap;
	int k;

	if (!c->err || !c->errlen)
		return -1;
	k = snprintf(c->err, c->errlen, "%s:%lu:%zu: ", c->fname, (unsigned long)c->lineno, col);
	if (k < 0 || (size_t)k >= c->errlen)
		return -1;
	va_start(ap, fmt);
	vsnprintf(c->err + k, c->errlen - (size_t)k, fmt, ap);
	va_end(ap);
	return -1;
}

/* A token made printable for an error message: escaped and cut to a readable length. */
struct quoted {
	char s[56];
};

static struct quoted quote(const char *p, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	struct quoted q;
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)p[i];
		if (o >= 40) {
			memcpy(q.s + o, "...", 3);
			o += 3;
			break;
		}
		if (ch >= 0x20 && ch < 0x7f && ch != '\'' && ch != '\\') {
			q.s[o++] = (char)ch;
			continue;
		}
		q.s[o++] = '\\';
		q.s[o++] = 'x';
		q.s[o++] = hex[ch >> 4];
		q.s[o++] = hex[ch & 15];
	}
	q.s[o] = '\0';
	return q;
}

#define Q(t) (quote((t)->p, (t)->n).s)

static int is_blank(char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\v' || ch == '\f';
}

static int next_tok(struct pctx *c, struct tok *t)
{
	while (c->pos < c->len && is_blank(c->line[c->pos]))
		c->pos++;
	t->p = c->line + c->pos;
	t->col = c->pos + 1;
	while (c->pos < c->len && !is_blank(c->line[c->pos]))
		c->pos++;
	t->n = (size_t)(c->line + c->pos - t->p);
	return t->n != 0;
}

static int tok_is(const struct tok *t, const char *s)
{
	return t->n == strlen(s) && memcmp(t->p, s, t->n) == 0;
}

/* The column just past a token: where a missing argument was expected. */
static size_t after(const struct tok *t)
{
	return t->col + t->n;
}

static struct tok sub(const struct tok *t, size_t from, size_t to)
{
	struct tok s = {t->p + from, to - from, t->col + from};
	return s;
}

static int get_uint(struct pctx *c, const struct tok *v, const char *what, uint64_t max,
		    uint64_t *out);

/* A selector token (conn=N or listener) where the line may carry one: 1 taken, 0 not a
 * selector, -1 error. */
static int take_sel(struct pctx *c, const struct tok *t)
{
	uint64_t x = SFH_SEL_LISTENER;

	if (!c->sel)
		return 0;
	if (!tok_is(t, "listener")) {
		if (t->n < 5 || memcmp(t->p, "conn=", 5) != 0)
			return 0;
		struct tok v = sub(t, 5, t->n);
		if (v.n == 0)
			return fail(c, after(t),
				    "missing connection number after 'conn=' (1 to %d)",
				    SFH_MAX_CONNS);
		if (get_uint(c, &v, "conn=", SFH_MAX_CONNS, &x) < 0)
			return -1;
		if (x == 0)
			return fail(c, v.col, "connections are numbered from 1 (conn=1 to conn=%d)",
				    SFH_MAX_CONNS);
	}
	if (*c->sel != SFH_SEL_NONE)
		return fail(c, t->col, "a second selector '%s' (one conn=N or listener per line)",
			    Q(t));
	*c->sel = (uint8_t)x;
	c->sel_col = t->col;
	return 1;
}

static int end_of_line(struct pctx *c)
{
	struct tok t;

	while (next_tok(c, &t)) {
		int k = take_sel(c, &t);
		if (k < 0)
			return -1;
		if (k == 0)
			return fail(c, t.col, "unexpected '%s' at end of line", Q(&t));
	}
	return 0;
}

enum { NUM_OK, NUM_BAD, NUM_RANGE };

static int digit_val(char ch, unsigned base)
{
	int d = 99;

	if (ch >= '0' && ch <= '9')
		d = ch - '0';
	else if (ch >= 'a' && ch <= 'f')
		d = ch - 'a' + 10;
	else if (ch >= 'A' && ch <= 'F')
		d = ch - 'A' + 10;
	return d < (int)base ? d : -1;
}

/* Decimal or 0x hex covering all of t. Stops accumulating once past max, so no input
 * length can overflow. */
static int scan_uint(const struct tok *t, uint64_t max, uint64_t *v)
{
	const char *p = t->p;
	size_t n = t->n;
	unsigned base = 10;
	uint64_t x = 0;
	int big = 0;

	if (n > 2 && p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
		base = 16;
		p += 2;
		n -= 2;
	}
	if (n == 0)
		return NUM_BAD;
	for (size_t i = 0; i < n; i++) {
		int d = digit_val(p[i], base);
		if (d < 0)
			return NUM_BAD;
		if (!big && (x = x * base + (unsigned)d) > max)
			big = 1;
	}
	if (big)
		return NUM_RANGE;
	*v = x;
	return NUM_OK;
}

/* An unsigned value for `what` (e.g. "win="), at most max. */
static int get_uint(struct pctx *c, const struct tok *v, const char *what, uint64_t max,
		    uint64_t *out)
{
	if (v->n == 0)
		return fail(c, v->col, "missing value for %s", what);
	switch (scan_uint(v, max, out)) {
	case NUM_OK:
		return 0;
	case NUM_RANGE:
		return fail(c, v->col, "number out of range for %s: '%s' (at most %llu)", what,
			    Q(v), (unsigned long long)max);
	default:
		return fail(c, v->col, "invalid number '%s' for %s", Q(v), what);
	}
}

static int get_u16(struct pctx *c, const struct tok *v, const char *what, uint16_t *out)
{
	uint64_t x;

	if (get_uint(c, v, what, 65535, &x) < 0)
		return -1;
	*out = (uint16_t)x;
	return 0;
}

static int is_lower(char ch)
{
	return ch >= 'a' && ch <= 'z';
}

/* The anchor v starts with: its leading lower-case letters (*k of them) as one of
 * names[1..n-1] (names[0] is the absolute value's), or n if they name none. */
static int anchor_prefix(const struct tok *v, const char *const *names, int n, size_t *k)
{
	int a;

	*k = 0;
	while (*k < v->n && is_lower(v->p[*k]))
		(*k)++;
	for (a = 1; a < n; a++)
		if (*k && strlen(names[a]) == *k && memcmp(v->p, names[a], *k) == 0)
			break;
	return a;
}

/* NUM: ANCHOR[+N|-N] or an absolute unsigned 32-bit value. */
static int get_num(struct pctx *c, const struct tok *v, const char *what, struct sfh_num *out)
{
	uint64_t x;
	size_t k = 0;
	int a;

	if (v->n && digit_val(v->p[0], 10) >= 0) {
		out->anchor = SFH_A_ABS;
		if (get_uint(c, v, what, U32_MAX, &x) < 0)
			return -1;
		out->off = (int64_t)x;
		return 0;
	}
	if (v->n == 0)
		return fail(c, v->col, "missing value for %s", what);
	a = anchor_prefix(v, sfh_anchor_names, SFH_NANCHORS, &k);
	if (a == SFH_NANCHORS)
		return fail(c, v->col,
			    "invalid number '%s' for %s (expected pisn tisn pnxt tnxt tuna wend "
			    "with an optional +N or -N, or an unsigned 32-bit number)",
			    Q(v), what);
	out->anchor = (uint8_t)a;
	out->off = 0;
	if (k == v->n)
		return 0;
	if (v->p[k] != '+' && v->p[k] != '-')
		return fail(c, v->col + k, "expected '+' or '-' after '%s' in '%s'",
			    sfh_anchor_names[a], Q(v));
	{
		struct tok o = sub(v, k + 1, v->n);
		if (o.n == 0)
			return fail(c, o.col, "missing offset after '%c'", v->p[k]);
		if (get_uint(c, &o, "the offset", U32_MAX, &x) < 0)
			return -1;
		out->off = v->p[k] == '-' ? -(int64_t)x : (int64_t)x;
	}
	return 0;
}

/* FLAGS: letters in any order, each once; "-" (or "none" where allowed) for no flags. */
static int get_flags(struct pctx *c, const struct tok *t, int none_ok, uint8_t *out)
{
	uint8_t f = 0;

	if (tok_is(t, "-") || (none_ok && tok_is(t, "none"))) {
		*out = 0;
		return 0;
	}
	if (memchr(t->p, '=', t->n))
		return fail(c, t->col, "missing flags before '%s' (use '-' for no flags)", Q(t));
	for (size_t i = 0; i < t->n; i++) {
		const char *l = memchr(sfh_flag_letters, t->p[i], sizeof sfh_flag_letters);
		if (!l)
			return fail(c, t->col + i,
				    "unknown flag '%s' (expected S F R P U E W or .)",
				    quote(t->p + i, 1).s);
		if (f & (1u << (l - sfh_flag_letters)))
			return fail(c, t->col + i, "duplicate flag '%c'", *l);
		f |= (uint8_t)(1u << (l - sfh_flag_letters));
	}
	*out = f;
	return 0;
}

/* Segment options of `in` and `out` lines. */
enum seg_opt { SO_SEQ, SO_ACK, SO_WIN, SO_LEN, SO_UP, SO_MSS, SO_WS, SO_SACKOK, SO_TS, SO_N };

static const char *const seg_opt_names[SO_N] = {"seq", "ack", "win",	"len", "up",
						"mss", "ws",  "sackok", "ts"};

#define IN_OPT_LIST "seq= ack= win= len= up= mss= ws= sackok ts="

/* One key[=value] token: which option (SO_N if unknown), and the value part. */
static enum seg_opt split_opt(const struct tok *t, struct tok *val, int *has_eq)
{
	const char *eq = memchr(t->p, '=', t->n);
	size_t klen = eq ? (size_t)(eq - t->p) : t->n;
	unsigned i;

	*has_eq = eq != NULL;
	*val = sub(t, eq ? klen + 1 : t->n, t->n);
	for (i = 0; i < SO_N; i++)
		if (strlen(seg_opt_names[i]) == klen && memcmp(t->p, seg_opt_names[i], klen) == 0)
			break;
	return (enum seg_opt)i;
}

/* TSNUM: ptsv or ttsv with an optional +N or -N (mod 2^32), or a literal 32-bit value. */
static int get_tsnum(struct pctx *c, const struct tok *v, const char *what, uint8_t *anchor,
		     uint32_t *out)
{
	uint64_t x;
	size_t k = 0;
	int a;

	if (v->n && digit_val(v->p[0], 10) >= 0) {
		*anchor = SFH_TS_ABS;
		if (get_uint(c, v, what, U32_MAX, &x) < 0)
			return -1;
		*out = (uint32_t)x;
		return 0;
	}
	if (v->n == 0)
		return fail(c, v->col, "missing value for %s", what);
	a = anchor_prefix(v, sfh_ts_anchor_names, SFH_NTS_ANCHORS, &k);
	if (a == SFH_NTS_ANCHORS)
		return fail(c, v->col,
			    "invalid number '%s' for %s (expected ptsv or ttsv with an optional "
			    "+N or -N, or an unsigned 32-bit number)",
			    Q(v), what);
	*anchor = (uint8_t)a;
	*out = 0;
	if (k == v->n)
		return 0;
	if (v->p[k] != '+' && v->p[k] != '-')
		return fail(c, v->col + k, "expected '+' or '-' after '%s' in '%s'",
			    sfh_ts_anchor_names[a], Q(v));
	struct tok o = sub(v, k + 1, v->n);
	if (o.n == 0)
		return fail(c, o.col, "missing offset after '%c'", v->p[k]);
	if (get_uint(c, &o, "the offset", U32_MAX, &x) < 0)
		return -1;
	*out = v->p[k] == '-' ? (uint32_t)(0 - (uint32_t)x) : (uint32_t)x;
	return 0;
}

static int get_ts(struct pctx *c, const struct tok *v, struct sfh_in *in)
{
	const char *comma = memchr(v->p, ',', v->n);
	struct tok a, b;

	if (!comma)
		return fail(c, v->col, "ts= needs two numbers, VAL,ECR: '%s'", Q(v));
	a = sub(v, 0, (size_t)(comma - v->p));
	b = sub(v, a.n + 1, v->n);
	if (get_tsnum(c, &a, "ts= (VAL)", &in->tsval_a, &in->tsval) < 0 ||
	    get_tsnum(c, &b, "ts= (ECR)", &in->tsecr_a, &in->tsecr) < 0)
		return -1;
	in->opts |= SFO_OPT_TS;
	return 0;
}

/* Apply one valued option to an `in` segment (the caller checked the key). */
static int set_in_opt(struct pctx *c, enum seg_opt id, const struct tok *v, struct sfh_in *in)
{
	uint64_t x = 0;

	switch (id) {
	case SO_SEQ:
		in->has_seq = 1;
		return get_num(c, v, "seq=", &in->seq);
	case SO_ACK:
		in->has_ack = 1;
		return get_num(c, v, "ack=", &in->ack);
	case SO_WIN:
		return get_u16(c, v, "win=", &in->wnd);
	case SO_UP:
		return get_u16(c, v, "up=", &in->up);
	case SO_MSS:
		in->opts |= SFO_OPT_MSS;
		return get_u16(c, v, "mss=", &in->mss);
	case SO_LEN:
		if (get_uint(c, v, "len=", SFH_MAX_PAYLOAD, &x) < 0)
			return -1;
		in->len = (uint32_t)x;
		return 0;
	case SO_WS:
		if (get_uint(c, v, "ws=", 14, &x) < 0)
			return -1;
		in->wscale = (uint8_t)x;
		in->opts |= SFO_OPT_WSCALE;
		return 0;
	case SO_TS:
		return get_ts(c, v, in);
	case SO_SACKOK:
	case SO_N:
		break;
	}
	return fail(c, v->col, "internal: option without a value"); /* not reached */
}

static int set_out_opt(struct pctx *c, enum seg_opt id, const struct tok *v, struct sfh_out *o)
{
	uint64_t x;

	if (id == SO_SEQ) {
		o->has_seq = 1;
		return get_num(c, v, "seq=", &o->seq);
	}
	if (id == SO_ACK) {
		o->has_ack = 1;
		return get_num(c, v, "ack=", &o->ack);
	}
	if (get_uint(c, v, "len=", 65535, &x) < 0)
		return -1;
	o->has_len = 1;
	o->len = (uint32_t)x;
	return 0;
}

/* The options after the flags of an `in` line. */
static int parse_in_opts(struct pctx *c, struct sfh_in *in)
{
	unsigned seen = 0;
	struct tok t, v;
	int has_eq;

	while (next_tok(c, &t)) {
		int k = take_sel(c, &t);
		if (k < 0)
			return -1;
		if (k)
			continue;
		enum seg_opt id = split_opt(&t, &v, &has_eq);
		if (id == SO_N)
			return fail(c, t.col, "unknown option '%s' for 'in' (expected %s)", Q(&t),
				    IN_OPT_LIST);
		if (seen & (1u << id))
			return fail(c, t.col, "duplicate option '%s'", seg_opt_names[id]);
		seen |= 1u << id;
		if (id == SO_SACKOK) {
			if (has_eq)
				return fail(c, t.col, "option 'sackok' takes no value");
			in->opts |= SFO_OPT_SACKOK;
			continue;
		}
		if (!has_eq)
			return fail(c, after(&t), "option '%s' needs a value (%s=...)",
				    seg_opt_names[id], seg_opt_names[id]);
		if (set_in_opt(c, id, &v, in) < 0)
			return -1;
	}
	return 0;
}

static int parse_in(struct pctx *c, const struct tok *kw, struct sfh_in *in)
{
	struct tok t;

	in->seq.anchor = SFH_A_PNXT;
	in->ack.anchor = SFH_A_TNXT;
	in->wnd = SFH_DEFAULT_WND;
	if (!next_tok(c, &t))
		return fail(c, after(kw), "missing flags after 'in' (use '-' for no flags)");
	if (get_flags(c, &t, 1, &in->flags) < 0)
		return -1;
	return parse_in_opts(c, in);
}

/* A duration: N (ms), Nms or Ns, at most 2^32-1 ms. */
static int get_ms(struct pctx *c, const struct tok *t, const char *what, uint32_t *ms)
{
	struct tok d = *t;
	uint64_t x, unit = 1;
	int rc;

	if (d.n > 2 && memcmp(d.p + d.n - 2, "ms", 2) == 0)
		d.n -= 2;
	else if (d.n > 1 && d.p[d.n - 1] == 's') {
		d.n -= 1;
		unit = 1000;
	}
	if (t->n == 0)
		return fail(c, t->col, "missing duration for %s (N, Nms or Ns)", what);
	rc = scan_uint(&d, U32_MAX, &x);
	if (rc == NUM_BAD)
		return fail(c, t->col, "invalid duration '%s' for %s (expected N, Nms or Ns)", Q(t),
			    what);
	if (rc == NUM_RANGE || x * unit > U32_MAX)
		return fail(c, t->col, "duration out of range for %s: '%s' (at most %lu ms)", what,
			    Q(t), (unsigned long)U32_MAX);
	*ms = (uint32_t)(x * unit);
	return 0;
}

/* TSPAT: '*' (any value), TSNUM, or TSNUM..TSNUM with the same anchor on both ends. */
static int get_tspat(struct pctx *c, const struct tok *v, const char *what, uint8_t *anchor,
		     uint32_t *lo, uint32_t *span)
{
	const char *dots = NULL;
	uint8_t ha;
	uint32_t hi;

	if (tok_is(v, "*")) {
		*anchor = SFH_TS_ABS;
		*lo = 0;
		*span = U32_MAX;
		return 0;
	}
	for (size_t i = 0; i + 1 < v->n && !dots; i++)
		if (v->p[i] == '.' && v->p[i + 1] == '.')
			dots = v->p + i;
	if (!dots) {
		*span = 0;
		return get_tsnum(c, v, what, anchor, lo);
	}
	struct tok a = sub(v, 0, (size_t)(dots - v->p)), b = sub(v, a.n + 2, v->n);
	if (get_tsnum(c, &a, what, anchor, lo) < 0 || get_tsnum(c, &b, what, &ha, &hi) < 0)
		return -1;
	if (ha != *anchor)
		return fail(c, b.col, "both ends of the range '%s' for %s need the same anchor",
			    Q(v), what);
	*span = hi - *lo;
	return 0;
}

static int get_out_ts(struct pctx *c, const struct tok *v, struct sfh_out *o)
{
	const char *comma = memchr(v->p, ',', v->n);
	struct tok a, b;

	if (!comma)
		return fail(c, v->col, "ts= needs two values, VAL,ECR: '%s'", Q(v));
	a = sub(v, 0, (size_t)(comma - v->p));
	b = sub(v, a.n + 1, v->n);
	if (get_tspat(c, &a, "ts= (VAL)", &o->tsval_a, &o->tsval, &o->tsval_span) < 0 ||
	    get_tspat(c, &b, "ts= (ECR)", &o->tsecr_a, &o->tsecr, &o->tsecr_span) < 0)
		return -1;
	o->opt_want |= SFO_OPT_TS;
	return 0;
}

/* order=KIND,KIND,...: option kinds in wire order. */
static int get_order(struct pctx *c, const struct tok *v, struct sfh_out *o)
{
	size_t at = 0;

	if (v->n == 0)
		return fail(c, v->col, "missing value for order= (e.g. order=mss,sackok,ts,ws)");
	while (at <= v->n) {
		const char *comma = memchr(v->p + at, ',', v->n - at);
		size_t end = comma ? (size_t)(comma - v->p) : v->n;
		struct tok k = sub(v, at, end);
		unsigned i;
		for (i = 0; i < SFH_NOPTKINDS && !tok_is(&k, sfh_optkind_names[i]); i++)
			;
		if (i == SFH_NOPTKINDS)
			return fail(c, k.col,
				    "unknown option kind '%s' in order= (expected mss ws sackok ts "
				    "sack other)",
				    Q(&k));
		if (o->norder >= SFH_MAX_ORDER)
			return fail(c, k.col, "order= lists at most %d kinds", SFH_MAX_ORDER);
		o->order[o->norder++] = (uint8_t)i;
		at = end + 1;
	}
	return 0;
}

/* @+D [+-D]: the emission time after the previous line's, with a tolerance. */
static int get_at(struct pctx *c, const struct tok *t, struct sfh_out *o)
{
	struct tok d, tol;
	size_t save;

	if (o->has_at)
		return fail(c, t->col, "duplicate timing '%s'", Q(t));
	if (t->n < 2 || t->p[1] != '+')
		return fail(c, t->col, "timing needs '@+' and a duration, e.g. @+1000ms: '%s'",
			    Q(t));
	d = sub(t, 2, t->n);
	if (get_ms(c, &d, "@+", &o->at_ms) < 0)
		return -1;
	o->has_at = 1;
	save = c->pos;
	if (!next_tok(c, &tol))
		return 0;
	if (tol.n >= 2 && tol.p[0] == '+' && tol.p[1] == '-')
		d = sub(&tol, 2, tol.n);
	else if (tol.n >= 2 && (unsigned char)tol.p[0] == 0xc2 && (unsigned char)tol.p[1] == 0xb1)
		d = sub(&tol, 2, tol.n); /* U+00B1 PLUS-MINUS SIGN in UTF-8 */
	else {
		c->pos = save;
		return 0;
	}
	return get_ms(c, &d, "the tolerance", &o->tol_ms);
}

/* Option keys of `out` lines beyond seq= ack= len=. */
static const char *const out_only_names[] = {"nomss", "nows", "nosackok", "nots", "order"};
#define OUT_OPT_LIST_ALL                                                                           \
	"seq= ack= len= win= mss= ws= sackok ts= nomss nows nosackok nots order= @+D"

static int parse_out_opts(struct pctx *c, struct sfh_out *o)
{
	static const uint8_t none_bit[4] = {SFO_OPT_MSS, SFO_OPT_WSCALE, SFO_OPT_SACKOK,
					    SFO_OPT_TS};
	unsigned seen = 0, oseen = 0;
	struct tok t, v;
	int has_eq;

	while (next_tok(c, &t)) {
		int ks = take_sel(c, &t);
		if (ks < 0)
			return -1;
		if (ks)
			continue;
		if (t.p[0] == '@') {
			if (get_at(c, &t, o) < 0)
				return -1;
			continue;
		}
		enum seg_opt id = split_opt(&t, &v, &has_eq);
		if (id == SO_UP)
			id = SO_N;
		if (id == SO_N) {
			size_t klen = has_eq ? (size_t)(v.p - 1 - t.p) : t.n;
			unsigned k;
			for (k = 0; k < 5; k++)
				if (strlen(out_only_names[k]) == klen &&
				    memcmp(t.p, out_only_names[k], klen) == 0)
					break;
			if (k == 5)
				return fail(c, t.col, "unknown option '%s' for 'out' (expected %s)",
					    Q(&t), OUT_OPT_LIST_ALL);
			if (oseen & (1u << k))
				return fail(c, t.col, "duplicate option '%s'", out_only_names[k]);
			oseen |= 1u << k;
			if (k == 4) {
				if (!has_eq)
					return fail(c, after(&t),
						    "option 'order' needs a value "
						    "(order=mss,sackok,...)");
				if (get_order(c, &v, o) < 0)
					return -1;
				continue;
			}
			if (has_eq)
				return fail(c, t.col, "option '%s' takes no value",
					    out_only_names[k]);
			if (o->opt_want & none_bit[k])
				return fail(c, t.col,
					    "'%s' contradicts an earlier assertion of that "
					    "option",
					    out_only_names[k]);
			o->opt_none |= none_bit[k];
			continue;
		}
		if (seen & (1u << id))
			return fail(c, t.col, "duplicate option '%s'", seg_opt_names[id]);
		seen |= 1u << id;
		if (id == SO_SACKOK) {
			if (has_eq)
				return fail(c, t.col, "option 'sackok' takes no value");
			if (o->opt_none & SFO_OPT_SACKOK)
				return fail(c, t.col, "'sackok' contradicts 'nosackok'");
			o->opt_want |= SFO_OPT_SACKOK;
			continue;
		}
		if (!has_eq)
			return fail(c, after(&t), "option '%s' needs a value (%s=...)",
				    seg_opt_names[id], seg_opt_names[id]);
		uint8_t bit = id == SO_MSS  ? SFO_OPT_MSS
			      : id == SO_WS ? SFO_OPT_WSCALE
			      : id == SO_TS ? SFO_OPT_TS
					    : 0;
		if (o->opt_none & bit)
			return fail(c, t.col, "'%s=' contradicts 'no%s'", seg_opt_names[id],
				    seg_opt_names[id]);
		uint64_t x;
		switch (id) {
		case SO_WIN:
			o->has_wnd = 1;
			if (get_u16(c, &v, "win=", &o->wnd) < 0)
				return -1;
			break;
		case SO_MSS:
			o->opt_want |= SFO_OPT_MSS;
			if (get_u16(c, &v, "mss=", &o->mss) < 0)
				return -1;
			break;
		case SO_WS:
			if (get_uint(c, &v, "ws=", 14, &x) < 0)
				return -1;
			o->wscale = (uint8_t)x;
			o->opt_want |= SFO_OPT_WSCALE;
			break;
		case SO_TS:
			if (get_out_ts(c, &v, o) < 0)
				return -1;
			break;
		case SO_SEQ:
		case SO_ACK:
		case SO_LEN:
			if (set_out_opt(c, id, &v, o) < 0)
				return -1;
			break;
		case SO_UP:
		case SO_SACKOK:
		case SO_N:
			break; /* handled above */
		}
	}
	return 0;
}

static int parse_out(struct pctx *c, const struct tok *kw, struct sfh_out *o)
{
	struct tok t;

	if (!next_tok(c, &t))
		return fail(c, after(kw), "missing flags after 'out' (or 'out none')");
	if (tok_is(&t, "none")) {
		o->none = 1;
		return end_of_line(c);
	}
	if (get_flags(c, &t, 0, &o->flags) < 0)
		return -1;
	return parse_out_opts(c, o);
}

#define SFH_X(id, name) " " name
static const char call_list[] = SFO_CALLS(SFH_X);
#undef SFH_X

/* `=> N` or `=> ERRNAME` after a call: what it returned. t is the token "=>" (or one that
 * starts with it, "=>3"). */
static int parse_result(struct pctx *c, const struct tok *t, struct sfh_event *ev)
{
	struct tok v = sub(t, 2, t->n);
	uint64_t x;
	int e;

	if (v.n == 0 && !next_tok(c, &v))
		return fail(c, after(t),
			    "missing result after '=>' (a count, or an error name such "
			    "as EAGAIN or ECONNRESET)");
	ev->u.call.has_res = 1;
	if (digit_val(v.p[0], 10) >= 0) {
		if (get_uint(c, &v, "the result", U32_MAX, &x) < 0)
			return -1;
		if (x && !call_has_arg(ev->u.call.call))
			return fail(c, v.col, "call %s returns no count: '=> 0' or an error name",
				    sfo_call_name(ev->u.call.call));
		if ((ev->u.call.call == SFO_CALL_SEND || ev->u.call.arg) && x > ev->u.call.arg)
			return fail(c, v.col, "%s %lu cannot return %lu octets",
				    sfo_call_name(ev->u.call.call), (unsigned long)ev->u.call.arg,
				    (unsigned long)x);
		ev->u.call.res_err = SFO_ERR_OK;
		ev->u.call.res_n = (uint32_t)x;
		return end_of_line(c);
	}
	e = sfo_err_parse(v.p, v.n);
	if (e < 0)
		return fail(c, v.col,
			    "unknown result '%s' (a count, or one of EAGAIN EWOULDBLOCK "
			    "ECONNREFUSED ECONNRESET EPIPE ENOTCONN EISCONN EALREADY EINPROGRESS "
			    "ETIMEDOUT ECONNABORTED EINVAL ENOBUFS EBADF EDESTADDRREQ EADDRINUSE "
			    "EOPNOTSUPP)",
			    Q(&v));
	ev->u.call.res_err = (uint8_t)e;
	ev->u.call.res_n = 0;
	return end_of_line(c);
}

static int is_arrow(const struct tok *t)
{
	return t->n >= 2 && t->p[0] == '=' && t->p[1] == '>';
}

/* What may follow a call and its count: a selector, then `=> RESULT` (which ends the
 * line, a selector allowed after it too). */
static int call_tail(struct pctx *c, struct sfh_event *ev, const char *what)
{
	struct tok n;

	while (next_tok(c, &n)) {
		if (is_arrow(&n))
			return parse_result(c, &n, ev);
		int k = take_sel(c, &n);
		if (k < 0)
			return -1;
		if (k == 0)
			return fail(c, n.col, "unexpected '%s' after the %s (expected '=> RESULT')",
				    Q(&n), what);
	}
	return 0;
}

static int parse_call(struct pctx *c, const struct tok *kw, struct sfh_event *ev)
{
	struct tok t, n;
	uint64_t x;
	int call;

	if (!next_tok(c, &t))
		return fail(c, after(kw), "missing call name (expected%s)", call_list);
	call = sfo_call_parse(t.p, t.n);
	if (call < 0 || call >= SFO_NCALLS)
		return fail(c, t.col, "unknown call '%s' (expected%s)", Q(&t), call_list);
	ev->u.call.call = (enum sfo_call)call;
	if (!next_tok(c, &n) || is_arrow(&n)) {
		if (call == SFO_CALL_SEND)
			return fail(c, after(&t), "missing count after 'send' (call send N)");
		return n.n ? parse_result(c, &n, ev) : 0;
	}
	int k = take_sel(c, &n);
	if (k < 0)
		return -1;
	if (k) {
		if (call == SFO_CALL_SEND)
			return fail(c, n.col, "missing count after 'send' (call send N)");
		return call_tail(c, ev, "selector");
	}
	if (!call_has_arg((enum sfo_call)call))
		return fail(c, n.col, "call %s takes no count", sfo_call_name((enum sfo_call)call));
	if (get_uint(c, &n, "the count", U32_MAX, &x) < 0)
		return -1;
	ev->u.call.arg = (uint32_t)x;
	return call_tail(c, ev, "count");
}

/* wait N | Nms | Ns */
static int parse_wait(struct pctx *c, const struct tok *kw, struct sfh_event *ev)
{
	struct tok t, d;
	uint64_t x, unit = 1;
	int rc;

	if (!next_tok(c, &t))
		return fail(c, after(kw), "missing duration after 'wait' (N, Nms or Ns)");
	d = t;
	if (d.n > 2 && memcmp(d.p + d.n - 2, "ms", 2) == 0)
		d.n -= 2;
	else if (d.n > 1 && d.p[d.n - 1] == 's') {
		d.n -= 1;
		unit = 1000;
	}
	rc = scan_uint(&d, U32_MAX, &x);
	if (rc == NUM_BAD)
		return fail(c, t.col, "invalid duration '%s' (expected N, Nms or Ns)", Q(&t));
	if (rc == NUM_RANGE || x * unit > U32_MAX)
		return fail(c, t.col, "duration out of range: '%s' (at most %lu ms)", Q(&t),
			    (unsigned long)U32_MAX);
	ev->u.wait_ms = (uint32_t)(x * unit);
	return end_of_line(c);
}

static int parse_expect(struct pctx *c, const struct tok *kw, struct sfh_event *ev)
{
	struct tok what, t;
	int st;

	if (!next_tok(c, &what))
		return fail(c, after(kw), "missing 'state' after 'expect' (expect state NAME)");
	if (!tok_is(&what, "state"))
		return fail(c, what.col, "unknown expectation '%s' (expected 'expect state NAME')",
			    Q(&what));
	if (!next_tok(c, &t))
		return fail(c, after(&what), "missing state name (e.g. ESTABLISHED)");
	st = sfo_state_parse(t.p, t.n);
	if (st < 0 || st >= SFO_NSTATES)
		return fail(c, t.col,
			    "unknown state '%s' (expected an RFC 9293 name such as "
			    "SYN-RECEIVED)",
			    Q(&t));
	ev->u.state = (enum sfo_state)st;
	return end_of_line(c);
}

struct role_seen {
	int have;
	uint32_t line;
	int fam_have;	   /* a `family` line was seen ... */
	uint32_t fam_line; /* ... on this line */
};

static int parse_role(struct pctx *c, const struct tok *kw, struct sfh_scenario *s,
		      struct role_seen *rs)
{
	struct tok t;

	if (rs->have)
		return fail(c, kw->col, "role given twice (first on line %lu)",
			    (unsigned long)rs->line);
	if (!next_tok(c, &t))
		return fail(c, after(kw), "missing role after 'role' (passive or active)");
	if (tok_is(&t, "passive"))
		s->role = SFH_ROLE_PASSIVE;
	else if (tok_is(&t, "active"))
		s->role = SFH_ROLE_ACTIVE;
	else
		return fail(c, t.col, "unknown role '%s' (expected passive or active)", Q(&t));
	rs->have = 1;
	rs->line = c->lineno;
	return end_of_line(c);
}

/* isn pisn=N tisn=N: both, in either order, each once. */
static int parse_isn(struct pctx *c, const struct tok *kw, struct sfh_scenario *s,
		     const struct role_seen *rs)
{
	struct tok t;
	int seen = 0;

	if (!rs->have)
		return fail(c, kw->col, "expected 'role passive' or 'role active' before 'isn'");
	if (s->has_isn || s->nev)
		return fail(c, kw->col, "'isn' given twice or after an event (once, first)");
	while (next_tok(c, &t)) {
		const char *eq = memchr(t.p, '=', t.n);
		size_t klen = eq ? (size_t)(eq - t.p) : t.n;
		int which = klen == 4 && memcmp(t.p, "pisn", 4) == 0   ? 1
			    : klen == 4 && memcmp(t.p, "tisn", 4) == 0 ? 2
								       : 0;
		struct tok v = sub(&t, eq ? klen + 1 : t.n, t.n);
		uint64_t x;
		if (!which || !eq)
			return fail(c, t.col, "unknown '%s' after 'isn' (expected pisn=N tisn=N)",
				    Q(&t));
		if (seen & which)
			return fail(c, t.col, "'%s' given twice", which == 1 ? "pisn" : "tisn");
		if (get_uint(c, &v, which == 1 ? "pisn=" : "tisn=", U32_MAX, &x) < 0)
			return -1;
		if (which == 1)
			s->pisn = (uint32_t)x;
		else
			s->tisn = (uint32_t)x;
		seen |= which;
	}
	if (seen != 3)
		return fail(c, after(kw), "'isn' needs both pisn=N and tisn=N");
	s->has_isn = 1;
	return 0;
}

/* timers NAME=D ...: per-case timer settings, each at most once; once, before events. */
static int parse_timers(struct pctx *c, const struct tok *kw, struct sfh_scenario *s,
			const struct role_seen *rs)
{
	struct tok t;

	if (!rs->have)
		return fail(c, kw->col, "expected 'role passive' or 'role active' before 'timers'");
	if (s->timers || s->nev)
		return fail(c, kw->col, "'timers' given twice or after an event (once, first)");
	while (next_tok(c, &t)) {
		const char *eq = memchr(t.p, '=', t.n);
		size_t klen = eq ? (size_t)(eq - t.p) : t.n;
		unsigned k;
		for (k = 0; k < SFH_NTIMERS; k++)
			if (strlen(sfh_timer_names[k]) == klen &&
			    memcmp(t.p, sfh_timer_names[k], klen) == 0)
				break;
		if (k == SFH_NTIMERS || !eq)
			return fail(c, t.col,
				    "unknown '%s' after 'timers' (expected rto_init=D rto_min=D "
				    "delack=D msl=D)",
				    Q(&t));
		if (s->timers & (1u << k))
			return fail(c, t.col, "'%s' given twice", sfh_timer_names[k]);
		struct tok v = sub(&t, klen + 1, t.n);
		if (get_ms(c, &v, sfh_timer_names[k], &s->timer_ms[k]) < 0)
			return -1;
		if (s->timer_ms[k] == 0)
			return fail(c, v.col, "%s must be at least 1ms", sfh_timer_names[k]);
		s->timers |= (uint8_t)(1u << k);
	}
	if (!s->timers)
		return fail(c, after(kw), "'timers' needs at least one setting, e.g. rto_init=1s");
	return 0;
}

/* family ipv4 | ipv6: once, before the first event. */
static int parse_family(struct pctx *c, const struct tok *kw, struct sfh_scenario *s,
			struct role_seen *rs)
{
	struct tok t;

	if (!rs->have)
		return fail(c, kw->col, "expected 'role passive' or 'role active' before 'family'");
	if (rs->fam_have)
		return fail(c, kw->col, "family given twice (first on line %lu)",
			    (unsigned long)rs->fam_line);
	if (s->nev)
		return fail(c, kw->col, "'family' after an event (it comes before the first)");
	if (!next_tok(c, &t))
		return fail(c, after(kw), "missing family after 'family' (ipv4 or ipv6)");
	if (tok_is(&t, "ipv4"))
		s->ipv6 = 0;
	else if (tok_is(&t, "ipv6"))
		s->ipv6 = 1;
	else
		return fail(c, t.col, "unknown family '%s' (expected ipv4 or ipv6)", Q(&t));
	rs->fam_have = 1;
	rs->fam_line = c->lineno;
	return end_of_line(c);
}

/* A selector the event cannot carry (sfh_sel_fold): say why. */
static int check_sel(struct pctx *c, enum sfh_role role, const struct sfh_event *ev)
{
	if (ev->sel == SFH_SEL_NONE || sfh_sel_fold(role, ev) == ev->sel)
		return 0;
	if (ev->type == SFH_EV_CALL && ev->u.call.call == SFO_CALL_LISTEN)
		return fail(c, c->sel_col,
			    role == SFH_ROLE_PASSIVE
				? "call listen opens the listener: write 'call listen' or 'call "
				  "listen listener'"
				: "call listen takes no selector in the active role");
	if (role == SFH_ROLE_ACTIVE && ev->sel == SFH_SEL_LISTENER)
		return fail(c, c->sel_col,
			    "'listener' needs role passive (the active role has no "
			    "listener)");
	if (ev->type == SFH_EV_CALL)
		return fail(c, c->sel_col, "call %s acts on a connection: name it with conn=N",
			    sfo_call_name(ev->u.call.call));
	return fail(c, c->sel_col, "'%s' lines travel on a connection: name it with conn=N",
		    ev->type == SFH_EV_IN ? "in" : "out");
}

static int parse_line(struct pctx *c, struct sfh_scenario *s, struct role_seen *rs)
{
	static const char *const kws[] = {"in", "call", "wait", "out", "expect"};
	static const enum sfh_ev_type types[] = {SFH_EV_IN, SFH_EV_CALL, SFH_EV_WAIT, SFH_EV_OUT,
						 SFH_EV_EXPECT_STATE};
	struct sfh_event *ev;
	struct tok kw;
	size_t k;
	int rc = -1;

	if (!next_tok(c, &kw))
		return 0;
	if (tok_is(&kw, "role"))
		return parse_role(c, &kw, s, rs);
	if (tok_is(&kw, "isn"))
		return parse_isn(c, &kw, s, rs);
	if (tok_is(&kw, "timers"))
		return parse_timers(c, &kw, s, rs);
	if (tok_is(&kw, "family"))
		return parse_family(c, &kw, s, rs);
	for (k = 0; k < sizeof kws / sizeof kws[0] && !tok_is(&kw, kws[k]); k++)
		;
	if (k == sizeof kws / sizeof kws[0])
		return fail(c, kw.col,
			    "unknown keyword '%s' (expected role in out call wait expect)", Q(&kw));
	if (!rs->have)
		return fail(c, kw.col, "expected 'role passive' or 'role active' before '%s'",
			    kws[k]);
	if (s->nev >= SFH_MAX_EVENTS)
		return fail(c, kw.col, "too many events (at most %d)", SFH_MAX_EVENTS);
	ev = &s->ev[s->nev];
	memset(ev, 0, sizeof *ev);
	ev->type = types[k];
	ev->line = c->lineno;
	c->sel = ev->type == SFH_EV_WAIT ? NULL : &ev->sel;
	switch (ev->type) {
	case SFH_EV_IN:
		rc = parse_in(c, &kw, &ev->u.in);
		break;
	case SFH_EV_CALL:
		rc = parse_call(c, &kw, ev);
		break;
	case SFH_EV_WAIT:
		rc = parse_wait(c, &kw, ev);
		break;
	case SFH_EV_OUT:
		rc = parse_out(c, &kw, &ev->u.out);
		break;
	case SFH_EV_EXPECT_STATE:
		rc = parse_expect(c, &kw, ev);
		break;
	}
	c->sel = NULL;
	if (rc < 0 || check_sel(c, s->role, ev) < 0)
		return -1;
	s->nev++;
	return 0;
}

int sfh_scn_parse(const char *text, size_t len, const char *fname, struct sfh_scenario *out,
		  char *err, size_t errlen)
{
	struct sfh_scenario s; /* parsed here, so *out stays untouched on failure */
	struct pctx c = {fname ? fname : "<scenario>", err, errlen, NULL, 0, 0, 0, NULL, 0};
	struct role_seen rs = {0};
	size_t at = 0;

	memset(&s, 0, sizeof s);
	if (!text)
		len = 0;
	while (at < len) {
		const char *nl = memchr(text + at, '\n', len - at);
		size_t end = nl ? (size_t)(nl - text) : len;
		const char *hash = memchr(text + at, '#', end - at);

		c.line = text + at;
		c.len = (hash ? (size_t)(hash - text) : end) - at;
		c.pos = 0;
		if (c.lineno < UINT32_MAX)
			c.lineno++;
		if (parse_line(&c, &s, &rs) < 0)
			return -1;
		if (!nl)
			break;
		at = end + 1;
	}
	if (!rs.have) {
		c.lineno = 1;
		return fail(&c, 1, "missing 'role passive' or 'role active'");
	}
	*out = s;
	return 0;
}
