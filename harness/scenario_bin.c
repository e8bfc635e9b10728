/* synfin scenarios: the binary encoder and its total decoder.
 *
 * Binary layout (what libFuzzer mutates). Byte-level mutations should mostly land on
 * meaningful cases, so small numbers are short, every field is folded into range rather
 * than rejected, and a missing byte at the end of the input reads as 0 (a truncated event
 * still decodes). Decoding stops when the input ends or SFH_MAX_EVENTS are decoded.
 *
 *   scenario  ROLE [TIMERS] EVENT* ROLE bit 0: 1 = active; bit 1: 1 = IPv6; bits 4-7:
 *                                  which of the four enum sfh_timer settings follow
 *                                  (TIMERS: one VAR each, in enum order, ms = 1 + VAR
 *                                  mod (2^32-1)); other bits ignored; empty input:
 *                                  passive, IPv4, no events
 *   EVENT     H ...                H & 7 picks the type: 0 5 6 in, 1 7 call, 2 wait,
 *                                  3 out, 4 expect; X = H >> 3 is a small type-specific field
 *   in        H F P [O] [seq NUM] [ack NUM] [len VAR] [win U16] [up U16] [mss U16]
 *                 [ws U8] [tsval VAR tsecr VAR]
 *                 [SEL]
 *             F: SFO_* flags. P: bit 0 seq, 1 ack, 2 len, 3 win, 4 up, 5 O follows,
 *             6 SEL follows (bit 7 ignored).
 *             O: SFO_OPT_* (low 4 bits) saying which option fields follow; with
 *             SFO_OPT_TS, bits 4-5 tsval's and bits 6-7 tsecr's enum sfh_ts_anchor
 *             (mod SFH_NTS_ANCHORS), else ignored.
 *             Absent: seq=pnxt ack=tnxt len=0 win=SFH_DEFAULT_WND up=0.
 *             len mod (SFH_MAX_PAYLOAD+1), ws mod 15, ts mod 2^32.
 *   call      H [arg VAR] [R [n VAR]] [SEL]  call = X & 7 (SFO_NCALLS is 8); arg only
 *                                  for send and receive; X & 8: a `=>` result follows:
 *                                  R bit 0 set, the error 1 + (R >> 1) mod 16 (EAGAIN ..
 *                                  EOPNOTSUPP, enum sfo_err); clear, success with n (send
 *                                  and receive only, else 0), folded to n mod (arg + 1)
 *                                  where arg bounds it; X bit 4: SEL follows (after R);
 *                                  for listen no SEL byte: the bit alone is `listener`
 *   wait      H VAR                ms = VAR * (X & 1 ? 1000 : 1), mod 2^32
 *   out       H [SEL]              if X & 1: `out none`
 *             H F P [seq NUM] [ack NUM] [len VAR]    P: bit 0 seq, 1 ack, 2 len (mod 2^16)
 *                 [win U16] [O [mss U16] [ws U8] [TA tsval VAR tsecr VAR]]
 *                 [tsval_span VAR tsecr_span VAR] [N K*] [at VAR tol VAR] [SEL]
 *             P bit 3 win; bit 4 O follows: low nibble SFO_OPT_* asserted present (the
 *             values follow), high nibble SFO_OPT_* asserted absent (ignored where
 *             present); TA: tsval's anchor in bits 0-1, tsecr's in 2-3 (mod
 *             SFH_NTS_ANCHORS); bit 5: the ts spans follow (only with TS; else 0);
 *             bit 6: order= with 1 + N mod SFH_MAX_ORDER kinds K mod SFH_NOPTKINDS;
 *             bit 7: timing @+at +-tol, both mod 2^32. X bit 1: SEL follows, last.
 *   expect    H [SEL]              state = (X & 15) mod SFO_NSTATES; X bit 4: SEL follows
 *   SEL       B                    selector 1 + B mod 5 (conn=1..4, listener), then
 *                                  folded to what the event may carry (sfh_sel_fold)
 *   NUM       A [VAR]              anchor = (A & 7) mod SFH_NANCHORS, M = A >> 3:
 *                                  M 0..28: offset zigzag(M), i.e. 0 -1 1 -2 2 .. -14 14
 *                                  M 29: zigzag(VAR); 30: 2^31 + zigzag(VAR);
 *                                  31: -2^31 + zigzag(VAR)
 *             then folded: an anchor's offset by C's % 2^32 (keeps |off| < 2^32), an
 *             absolute value mod 2^32 into [0, 2^32). Absolute values near 2^32 are
 *             written as small negative offsets.
 *   VAR       LEB128, at most 5 bytes (the 5th byte's top bit is ignored)
 *   U16       little-endian
 *
 * The encoder writes the shortest form (H's unused bits zero) and folds out-of-range
 * fields of an invalid scenario exactly as the decoder would, so decode(encode(s)) is
 * always valid and equals s when s is valid.
 */
#include "scenario.h"
#include "scenario_priv.h"

#include <string.h>

/* ---- binary form ---- */

enum { CODE_IN = 0, CODE_CALL = 1, CODE_WAIT = 2, CODE_OUT = 3, CODE_EXPECT = 4 };

/* H & 7 to event type: 8 codes over 5 types, weighted toward segments and calls, the
 * events that move a connection. */
static const enum sfh_ev_type code_type[8] = {SFH_EV_IN,  SFH_EV_CALL,	       SFH_EV_WAIT,
					      SFH_EV_OUT, SFH_EV_EXPECT_STATE, SFH_EV_IN,
					      SFH_EV_IN,  SFH_EV_CALL};

/* in P bits */
enum { P_SEQ = 1, P_ACK = 2, P_LEN = 4, P_WIN = 8, P_UP = 16, P_OPTS = 32, P_SEL = 64 };
/* the selector flag of call (X bit 4), out (X bit 1) and expect (X bit 4) */
enum { X_CALL_SEL = 16, X_OUT_SEL = 2, X_EXPECT_SEL = 16 };

_Static_assert(SFO_NCALLS == 8, "call = X & 7; X bits 3-4 carry more");

static unsigned sel_byte(uint8_t sel)
{
	return (unsigned)sel - 1u;
}

static uint8_t sel_of_byte(unsigned b)
{
	return (uint8_t)(1 + b % (SFH_MAX_CONNS + 1));
}

static uint64_t zz_enc(int64_t v)
{
	return v >= 0 ? (uint64_t)v << 1 : ((uint64_t)(-(v + 1)) << 1) | 1;
}

static int64_t zz_dec(uint64_t u) /* u < 2^35 */
{
	return (u & 1) ? -(int64_t)(u >> 1) - 1 : (int64_t)(u >> 1);
}

/* Fold an offset into the valid range (see the layout comment); valid values stay. */
static int64_t fold_off(unsigned anchor, int64_t off)
{
	off %= TWO32;
	if (anchor == SFH_A_ABS && off < 0)
		off += TWO32;
	return off;
}

struct wbuf {
	uint8_t *buf;
	size_t cap, n;
};

static void put8(struct wbuf *w, unsigned v)
{
	if (w->n < w->cap)
		w->buf[w->n] = (uint8_t)v;
	w->n++;
}

static void put16(struct wbuf *w, unsigned v)
{
	put8(w, v & 0xff);
	put8(w, (v >> 8) & 0xff);
}

static size_t varint_len(uint64_t v)
{
	size_t n = 1;
	while (v >>= 7)
		n++;
	return n;
}

static void put_var(struct wbuf *w, uint64_t v) /* v < 2^35 */
{
	do {
		unsigned b = v & 0x7f;
		v >>= 7;
		put8(w, b | (v ? 0x80 : 0));
	} while (v);
}

/* The shortest of: inline offset, zigzag, 2^31 + zigzag, -2^31 + zigzag; for an
 * absolute value also its negative twin (v - 2^32), which folds back to v. */
static void put_num(struct wbuf *w, const struct sfh_num *n)
{
	unsigned anchor = n->anchor % SFH_NANCHORS;
	int64_t off = fold_off(anchor, n->off);
	int64_t cand[2] = {off, off - TWO32};
	int ncand = anchor == SFH_A_ABS && off > 0 ? 2 : 1;
	unsigned best_m = 29;
	uint64_t best_u = zz_enc(off);
	size_t best = 1 + varint_len(best_u);

	for (int i = 0; i < ncand; i++) {
		const int64_t base[3] = {0, TWO31, -TWO31};
		for (unsigned m = 29; m <= 31; m++) {
			uint64_t u = zz_enc(cand[i] - base[m - 29]);
			size_t cost = m == 29 && u <= 28 ? 1 : 1 + varint_len(u);
			if (cost < best) {
				best = cost;
				best_m = m == 29 && u <= 28 ? (unsigned)u : m;
				best_u = u;
			}
		}
	}
	put8(w, anchor | best_m << 3);
	if (best_m >= 29)
		put_var(w, best_u);
}

static void enc_in(struct wbuf *w, const struct sfh_in *in, uint8_t sel)
{
	unsigned opts = in->opts & 15, len = in->len % (SFH_MAX_PAYLOAD + 1);
	unsigned p = (in->has_seq ? P_SEQ : 0) | (in->has_ack ? P_ACK : 0) | (len ? P_LEN : 0) |
		     (in->wnd != SFH_DEFAULT_WND ? P_WIN : 0) | (in->up ? P_UP : 0) |
		     (opts ? P_OPTS : 0) | (sel ? P_SEL : 0);

	put8(w, CODE_IN);
	put8(w, in->flags);
	put8(w, p);
	if (opts & SFO_OPT_TS)
		put8(w, opts | (in->tsval_a % SFH_NTS_ANCHORS) << 4 |
			    (in->tsecr_a % SFH_NTS_ANCHORS) << 6);
	else if (opts)
		put8(w, opts);
	if (in->has_seq)
		put_num(w, &in->seq);
	if (in->has_ack)
		put_num(w, &in->ack);
	if (len)
		put_var(w, len);
	if (p & P_WIN)
		put16(w, in->wnd);
	if (in->up)
		put16(w, in->up);
	if (opts & SFO_OPT_MSS)
		put16(w, in->mss);
	if (opts & SFO_OPT_WSCALE)
		put8(w, in->wscale % 15);
	if (opts & SFO_OPT_TS) {
		put_var(w, in->tsval);
		put_var(w, in->tsecr);
	}
	if (sel)
		put8(w, sel_byte(sel));
}

static void enc_out(struct wbuf *w, const struct sfh_out *o, uint8_t sel)
{
	unsigned xs = sel ? X_OUT_SEL << 3 : 0;
	if (o->none) {
		put8(w, CODE_OUT | 1 << 3 | xs);
		if (sel)
			put8(w, sel_byte(sel));
		return;
	}
	unsigned want = o->opt_want & 15, none = o->opt_none & 15 & ~want;
	unsigned norder = o->norder > SFH_MAX_ORDER ? SFH_MAX_ORDER : o->norder;
	/* a ts= value that matches anything is written as the canonical '*' */
	unsigned tva = o->tsval_span == U32_MAX ? 0 : o->tsval_a;
	unsigned tea = o->tsecr_span == U32_MAX ? 0 : o->tsecr_a;
	uint32_t tv = o->tsval_span == U32_MAX ? 0 : o->tsval;
	uint32_t te = o->tsecr_span == U32_MAX ? 0 : o->tsecr;
	int spans = (want & SFO_OPT_TS) && (o->tsval_span || o->tsecr_span);
	put8(w, CODE_OUT | xs);
	put8(w, o->flags);
	put8(w, (o->has_seq ? 1 : 0) | (o->has_ack ? 2 : 0) | (o->has_len ? 4 : 0) |
		    (o->has_wnd ? 8 : 0) | ((want | none) ? 16 : 0) | (spans ? 32 : 0) |
		    (norder ? 64 : 0) | (o->has_at ? 128 : 0));
	if (o->has_seq)
		put_num(w, &o->seq);
	if (o->has_ack)
		put_num(w, &o->ack);
	if (o->has_len)
		put_var(w, o->len & 0xffff);
	if (o->has_wnd)
		put16(w, o->wnd);
	if (want | none) {
		put8(w, want | none << 4);
		if (want & SFO_OPT_MSS)
			put16(w, o->mss);
		if (want & SFO_OPT_WSCALE)
			put8(w, o->wscale % 15);
		if (want & SFO_OPT_TS) {
			put8(w, (tva % SFH_NTS_ANCHORS) | (tea % SFH_NTS_ANCHORS) << 2);
			put_var(w, tv);
			put_var(w, te);
		}
	}
	if (spans) {
		put_var(w, o->tsval_span);
		put_var(w, o->tsecr_span);
	}
	if (norder) {
		put_var(w, norder - 1u);
		for (unsigned i = 0; i < norder; i++)
			put8(w, o->order[i] % SFH_NOPTKINDS);
	}
	if (o->has_at) {
		put_var(w, o->at_ms);
		put_var(w, o->tol_ms);
	}
	if (sel)
		put8(w, sel_byte(sel));
}

/* Named errors a scenario can write: EAGAIN (1) .. EOPNOTSUPP, not ERROR nor EOF. */
#define NRES_ERRS (SFO_ERR_ERROR - 1)
_Static_assert(SFO_ERR_EAGAIN == 1, "the first named error follows ok");
_Static_assert(SFO_NCALLS == 8, "a call is X & 7 (X bit 3: a result)");

/* A success count folded into what the call can return (see the layout comment). */
static uint32_t fold_res_n(enum sfo_call call, uint32_t arg, uint64_t n)
{
	if (!call_has_arg(call))
		return 0;
	if (call == SFO_CALL_SEND || arg)
		return (uint32_t)(n % ((uint64_t)arg + 1));
	return (uint32_t)n;
}

static void enc_result(struct wbuf *w, enum sfo_call call, uint32_t arg, unsigned err, uint32_t n)
{
	if (err != SFO_ERR_OK) {
		put8(w, 1u | ((err - 1) % NRES_ERRS) << 1);
		return;
	}
	put8(w, 0);
	if (call_has_arg(call))
		put_var(w, fold_res_n(call, arg, n));
}

static void enc_event(struct wbuf *w, const struct sfh_event *e, enum sfh_role role)
{
	struct sfh_event f = *e;
	unsigned call;
	uint8_t sel;

	if (f.type == SFH_EV_CALL)
		f.u.call.call = (enum sfo_call)((unsigned)f.u.call.call % SFO_NCALLS);
	sel = sfh_sel_fold(role, &f);
	switch (e->type) {
	case SFH_EV_IN:
		enc_in(w, &e->u.in, sel);
		break;
	case SFH_EV_CALL:
		call = (unsigned)f.u.call.call;
		put8(w, CODE_CALL | (call | (e->u.call.has_res ? 8u : 0) | (sel ? X_CALL_SEL : 0))
					<< 3);
		if (call_has_arg((enum sfo_call)call))
			put_var(w, e->u.call.arg);
		if (e->u.call.has_res)
			enc_result(w, (enum sfo_call)call, e->u.call.arg, e->u.call.res_err,
				   e->u.call.res_n);
		if (sel && call != SFO_CALL_LISTEN)
			put8(w, sel_byte(sel));
		break;
	case SFH_EV_WAIT:
		if (e->u.wait_ms && e->u.wait_ms % 1000 == 0) {
			put8(w, CODE_WAIT | 1 << 3);
			put_var(w, e->u.wait_ms / 1000);
		} else {
			put8(w, CODE_WAIT);
			put_var(w, e->u.wait_ms);
		}
		break;
	case SFH_EV_OUT:
		enc_out(w, &e->u.out, sel);
		break;
	case SFH_EV_EXPECT_STATE:
		put8(w, CODE_EXPECT |
			    (((unsigned)e->u.state % SFO_NSTATES) | (sel ? X_EXPECT_SEL : 0)) << 3);
		if (sel)
			put8(w, sel_byte(sel));
		break;
	}
}

size_t sfh_scn_encode(const struct sfh_scenario *s, uint8_t *buf, size_t cap)
{
	struct wbuf w = {buf, cap, 0};
	uint32_t nev = s->nev < SFH_MAX_EVENTS ? s->nev : SFH_MAX_EVENTS;

	unsigned timers = s->timers & ((1u << SFH_NTIMERS) - 1);
	put8(&w, (s->role == SFH_ROLE_ACTIVE ? 1 : 0) | (s->ipv6 ? 2 : 0) | timers << 4);
	for (unsigned k = 0; k < SFH_NTIMERS; k++)
		if (timers & (1u << k))
			put_var(&w, s->timer_ms[k] ? s->timer_ms[k] - 1u : 0);
	for (uint32_t i = 0; i < nev; i++)
		enc_event(&w, &s->ev[i], s->role);
	return w.n;
}

/* A reader that yields 0 past the end, which is what makes decoding total. */
struct rbuf {
	const uint8_t *p;
	size_t n, i;
};

static unsigned get8(struct rbuf *r)
{
	return r->i < r->n ? r->p[r->i++] : 0;
}

static unsigned get16(struct rbuf *r)
{
	unsigned lo = get8(r);
	return lo | get8(r) << 8;
}

static uint64_t get_var(struct rbuf *r)
{
	uint64_t v = 0;

	for (unsigned k = 0; k < 5; k++) {
		unsigned b = get8(r);
		v |= (uint64_t)(b & 0x7f) << (7 * k);
		if (!(b & 0x80))
			break;
	}
	return v;
}

static struct sfh_num get_num_bin(struct rbuf *r)
{
	unsigned a = get8(r), m = a >> 3;
	struct sfh_num n;
	int64_t off;

	n.anchor = (uint8_t)((a & 7) % SFH_NANCHORS);
	if (m <= 28)
		off = zz_dec(m);
	else
		off = zz_dec(get_var(r)) + (m == 30 ? TWO31 : m == 31 ? -TWO31 : 0);
	n.off = fold_off(n.anchor, off);
	return n;
}

static void dec_in(struct rbuf *r, struct sfh_in *in, uint8_t *sel)
{
	unsigned p, o, opts;

	in->flags = (uint8_t)get8(r);
	p = get8(r);
	o = (p & P_OPTS) ? get8(r) : 0;
	opts = o & 15;
	in->opts = (uint8_t)opts;
	in->has_seq = (p & P_SEQ) != 0;
	in->has_ack = (p & P_ACK) != 0;
	in->seq = in->has_seq ? get_num_bin(r) : (struct sfh_num){SFH_A_PNXT, 0};
	in->ack = in->has_ack ? get_num_bin(r) : (struct sfh_num){SFH_A_TNXT, 0};
	in->len = (p & P_LEN) ? (uint32_t)(get_var(r) % (SFH_MAX_PAYLOAD + 1)) : 0;
	in->wnd = (p & P_WIN) ? (uint16_t)get16(r) : SFH_DEFAULT_WND;
	in->up = (p & P_UP) ? (uint16_t)get16(r) : 0;
	in->mss = (opts & SFO_OPT_MSS) ? (uint16_t)get16(r) : 0;
	in->wscale = (opts & SFO_OPT_WSCALE) ? (uint8_t)(get8(r) % 15) : 0;
	in->tsval_a = in->tsecr_a = 0;
	if (opts & SFO_OPT_TS) {
		in->tsval = (uint32_t)get_var(r);
		in->tsecr = (uint32_t)get_var(r);
		in->tsval_a = (uint8_t)(((o >> 4) & 3) % SFH_NTS_ANCHORS);
		in->tsecr_a = (uint8_t)(((o >> 6) & 3) % SFH_NTS_ANCHORS);
	}
	if (p & P_SEL)
		*sel = sel_of_byte(get8(r));
}

static void dec_out(struct rbuf *r, unsigned x, struct sfh_out *o, uint8_t *sel)
{
	unsigned p;

	if (x & 1) {
		o->none = 1;
		if (x & X_OUT_SEL)
			*sel = sel_of_byte(get8(r));
		return;
	}
	o->flags = (uint8_t)get8(r);
	p = get8(r);
	o->has_seq = (p & 1) != 0;
	o->has_ack = (p & 2) != 0;
	o->has_len = (p & 4) != 0;
	if (o->has_seq)
		o->seq = get_num_bin(r);
	if (o->has_ack)
		o->ack = get_num_bin(r);
	if (o->has_len)
		o->len = (uint32_t)(get_var(r) & 0xffff);
	o->has_wnd = (p & 8) != 0;
	if (o->has_wnd)
		o->wnd = (uint16_t)get16(r);
	if (p & 16) {
		unsigned b = get8(r);
		o->opt_want = (uint8_t)(b & 15);
		o->opt_none = (uint8_t)((b >> 4) & ~b & 15);
		if (o->opt_want & SFO_OPT_MSS)
			o->mss = (uint16_t)get16(r);
		if (o->opt_want & SFO_OPT_WSCALE)
			o->wscale = (uint8_t)(get8(r) % 15);
		if (o->opt_want & SFO_OPT_TS) {
			unsigned ta = get8(r);
			o->tsval_a = (uint8_t)((ta & 3) % SFH_NTS_ANCHORS);
			o->tsecr_a = (uint8_t)(((ta >> 2) & 3) % SFH_NTS_ANCHORS);
			o->tsval = (uint32_t)get_var(r);
			o->tsecr = (uint32_t)get_var(r);
		}
	}
	if (p & 32) {
		uint32_t vs = (uint32_t)get_var(r), es = (uint32_t)get_var(r);
		if (o->opt_want & SFO_OPT_TS) {
			o->tsval_span = vs;
			o->tsecr_span = es;
		}
	}
	if (o->opt_want & SFO_OPT_TS) { /* the canonical form of "any value" */
		if (o->tsval_span == U32_MAX)
			o->tsval_a = 0, o->tsval = 0;
		if (o->tsecr_span == U32_MAX)
			o->tsecr_a = 0, o->tsecr = 0;
	}
	if (p & 64) {
		o->norder = (uint8_t)(1 + get_var(r) % SFH_MAX_ORDER);
		for (unsigned i = 0; i < o->norder; i++)
			o->order[i] = (uint8_t)(get8(r) % SFH_NOPTKINDS);
	}
	o->has_at = (p & 128) != 0;
	if (o->has_at) {
		o->at_ms = (uint32_t)get_var(r);
		o->tol_ms = (uint32_t)get_var(r);
	}
	if (x & X_OUT_SEL)
		*sel = sel_of_byte(get8(r));
}

static void dec_event(struct rbuf *r, struct sfh_event *e, enum sfh_role role)
{
	unsigned h = get8(r), x = h >> 3;

	e->type = code_type[h & 7];
	switch (e->type) {
	case SFH_EV_IN:
		dec_in(r, &e->u.in, &e->sel);
		break;
	case SFH_EV_CALL:
		e->u.call.call = (enum sfo_call)(x & 7);
		if (call_has_arg(e->u.call.call))
			e->u.call.arg = (uint32_t)get_var(r);
		if (x & 8) {
			unsigned rb = get8(r);
			e->u.call.has_res = 1;
			if (rb & 1) {
				e->u.call.res_err = (uint8_t)(1 + (rb >> 1) % NRES_ERRS);
			} else {
				e->u.call.res_err = SFO_ERR_OK;
				if (call_has_arg(e->u.call.call))
					e->u.call.res_n =
					    fold_res_n(e->u.call.call, e->u.call.arg, get_var(r));
			}
		}
		if ((x & X_CALL_SEL) && e->u.call.call == SFO_CALL_LISTEN)
			e->sel = SFH_SEL_LISTENER;
		else if (x & X_CALL_SEL)
			e->sel = sel_of_byte(get8(r));
		break;
	case SFH_EV_WAIT:
		e->u.wait_ms = (uint32_t)(get_var(r) * ((x & 1) ? 1000 : 1));
		break;
	case SFH_EV_OUT:
		dec_out(r, x, &e->u.out, &e->sel);
		break;
	case SFH_EV_EXPECT_STATE:
		e->u.state = (enum sfo_state)((x & 15) % SFO_NSTATES);
		if (x & X_EXPECT_SEL)
			e->sel = sel_of_byte(get8(r));
		break;
	}
	e->sel = sfh_sel_fold(role, e);
}

void sfh_scn_decode(const uint8_t *data, size_t len, struct sfh_scenario *out)
{
	struct rbuf r = {data, data ? len : 0, 0};

	memset(out, 0, sizeof *out);
	unsigned role = get8(&r);
	out->role = (role & 1) ? SFH_ROLE_ACTIVE : SFH_ROLE_PASSIVE;
	out->ipv6 = (role >> 1) & 1;
	out->timers = (uint8_t)((role >> 4) & ((1u << SFH_NTIMERS) - 1));
	for (unsigned k = 0; k < SFH_NTIMERS; k++)
		if (out->timers & (1u << k))
			out->timer_ms[k] = (uint32_t)(1 + get_var(&r) % U32_MAX);
	while (r.i < r.n && out->nev < SFH_MAX_EVENTS)
		dec_event(&r, &out->ev[out->nev++], out->role);
}
