/* Test support for the oracle: a "world" runs the model twice in lockstep, once as a
 * concrete stack (SFO_CFG_STACK, emitting its EMIT patterns as segments) and once as the
 * oracle (learning the stack's ISS from what it emits) that judges every step. So every
 * TCB a test builds by driving events from CLOSED has also passed the oracle.
 *
 * Numbers sit near 2^32 so that every exchange crosses the sequence-number wrap. */
#ifndef SYNFIN_TESTS_MODEL_TEST_H
#define SYNFIN_TESTS_MODEL_TEST_H

#include <stdio.h>
#include <string.h>

#include "check.h"
#include "oracle.h"

#define PISN   0xffffff00u /* the peer's ISN: its data crosses 2^32 after 256 octets */
#define TISS   0xfffffff0u /* the stack's ISN: its data crosses 2^32 after 16 octets */
#define BIT(s) ((uint16_t)(1u << (s)))

struct world {
	struct sfo_cfg scfg, ocfg;
	struct sfo_tcb st, ot; /* the stack's TCB, the oracle's TCB */
	struct sfo_expect se, oe;
	struct sfo_seg out[32]; /* what the stack emitted in the last step */
	size_t nout;
	uint32_t pisn, pnxt; /* the peer's ISN and next sequence number */
	uint32_t tiss;	     /* the stack's ISN (TISS unless w_init_isn chose another) */
	int diverged;	     /* oracle verdicts other than OK while driving */
	struct sfo_verdict v;
	int which;
};

/* A fresh world whose stack picks ISN tiss and whose peer starts at pisn. */
static inline void w_init_isn(struct world *w, const char *profile, uint32_t tiss, uint32_t pisn)
{
	memset(w, 0, sizeof *w);
	w->ocfg.profile = sfo_profile_find(profile);
	w->scfg = w->ocfg;
	w->scfg.flags = SFO_CFG_STACK;
	w->scfg.stack_iss = tiss;
	w->scfg.rcv_wnd = 65535;
	w->scfg.mss = 1460;
	sfo_tcb_init(&w->st);
	sfo_tcb_init(&w->ot);
	w->tiss = tiss;
	w->pisn = w->pnxt = pisn;
}

static inline void w_init(struct world *w, const char *profile)
{
	w_init_isn(w, profile, TISS, PISN);
}

/* The EMIT patterns of an outcome as concrete segments (what a model target sends). */
static inline size_t emit(const struct sfo_outcome *o, const struct sfo_cfg *cfg,
			  struct sfo_seg *out, size_t cap)
{
	size_t n = 0;
	for (unsigned i = 0; i < o->npat && n < cap; i++) {
		const struct sfo_pattern *p = &o->pat[i];
		if (!(p->pf & SFO_PAT_EMIT))
			continue;
		struct sfo_seg *s = &out[n++];
		memset(s, 0, sizeof *s);
		s->flags = p->flags_set;
		s->seq = p->seq_lo;
		s->ack = (p->flags_set & SFO_ACK) ? p->ack_lo : 0;
		s->len = p->len_lo;
		s->wnd = o->next.rcv_wnd > 65535 ? 65535 : (uint16_t)o->next.rcv_wnd;
		if (s->flags & SFO_SYN) {
			s->wnd = cfg->rcv_wnd;
			s->opts = SFO_OPT_MSS;
			s->mss = cfg->mss;
		}
	}
	return n;
}

/* One event on both models; returns the oracle's verdict on the stack's emission. */
static inline enum sfo_div_kind w_ev(struct world *w, const struct sfo_event *ev)
{
	struct sfo_tcb before = w->ot;
	struct sfo_rebase rb = {w->pisn, w->tiss, 1};
	sfo_step(&w->st, &w->scfg, ev, &w->se);
	w->nout = emit(&w->se.out[0], &w->scfg, w->out, 32);
	sfo_commit(&w->st, &w->se.out[0], w->out, w->nout);
	sfo_step(&w->ot, &w->ocfg, ev, &w->oe);
	sfo_judge(&before, &w->ocfg, &w->oe, w->out, w->nout, w->st.state, &rb, &w->v, &w->which);
	if (w->v.kind != SFO_DIV_OK) {
		w->diverged++;
		fprintf(stderr, "  oracle vs stack: %s %s: %s\n", sfo_div_kind_name(w->v.kind),
			sfo_rule(w->v.rule)->id, w->v.detail);
	}
	sfo_commit(&w->ot, &w->oe.out[w->which >= 0 ? w->which : 0], w->out, w->nout);
	return w->v.kind;
}

static inline struct sfo_seg mkseg(uint8_t flags, uint32_t seq, uint32_t ack, uint32_t len)
{
	struct sfo_seg s;
	memset(&s, 0, sizeof s);
	s.flags = flags;
	s.seq = seq;
	s.ack = ack;
	s.len = len;
	s.wnd = 65535;
	if (flags & SFO_SYN) {
		s.opts = SFO_OPT_MSS;
		s.mss = 1460;
	}
	return s;
}

/* One event on the oracle alone (w->ot), judged against seg[0..n), what a stack emitted,
 * with numbers relative to PISN and TISS; commits the matching outcome when ok. */
static inline enum sfo_div_kind ostep(struct world *w, const struct sfo_event *ev,
				      const struct sfo_seg *seg, size_t n, enum sfo_state observed)
{
	struct sfo_rebase rb = {w->pisn, TISS, 1};
	struct sfo_tcb before = w->ot;
	sfo_step(&w->ot, &w->ocfg, ev, &w->oe);
	sfo_judge(&before, &w->ocfg, &w->oe, seg, n, observed, &rb, &w->v, &w->which);
	if (w->v.kind == SFO_DIV_OK)
		sfo_commit(&w->ot, &w->oe.out[w->which], seg, n);
	return w->v.kind;
}

/* The peer sends a segment; pnxt follows it when it is in order. */
static inline enum sfo_div_kind w_in(struct world *w, uint8_t flags, uint32_t seq, uint32_t ack,
				     uint32_t len)
{
	struct sfo_event ev;
	memset(&ev, 0, sizeof ev);
	ev.kind = SFO_EV_SEGMENT;
	ev.u.seg = mkseg(flags, seq, ack, len);
	if (seq == w->pnxt)
		w->pnxt = seq + sfo_seg_space(&ev.u.seg);
	return w_ev(w, &ev);
}

static inline enum sfo_div_kind w_call(struct world *w, enum sfo_call c, uint32_t arg)
{
	struct sfo_event ev;
	memset(&ev, 0, sizeof ev);
	ev.kind = SFO_EV_CALL;
	ev.u.call.call = c;
	ev.u.call.arg = arg;
	return w_ev(w, &ev);
}

static inline enum sfo_div_kind w_wait(struct world *w, uint32_t ms)
{
	struct sfo_event ev;
	memset(&ev, 0, sizeof ev);
	ev.kind = SFO_EV_WAIT;
	ev.u.wait_ms = ms;
	return w_ev(w, &ev);
}

/* The target's numbers as the stack knows them. */
static inline uint32_t tuna(const struct world *w)
{
	return w->st.snd_una;
}
static inline uint32_t tnxt(const struct world *w)
{
	return w->st.snd_nxt;
}
static inline uint32_t rnxt(const struct world *w)
{
	return w->st.rcv_nxt;
}

/* Drive a fresh world from CLOSED into state s, the usual way (passive open, close()). */
static inline void w_goto(struct world *w, enum sfo_state s)
{
	switch (s) {
	case SFO_CLOSED:
		return;
	case SFO_LISTEN:
		w_call(w, SFO_CALL_LISTEN, 0);
		return;
	case SFO_SYN_SENT:
		w_call(w, SFO_CALL_CONNECT, 0);
		return;
	case SFO_SYN_RECEIVED:
		w_goto(w, SFO_LISTEN);
		w_in(w, SFO_SYN, w->pisn, 0, 0);
		return;
	case SFO_ESTABLISHED:
		w_goto(w, SFO_SYN_RECEIVED);
		w_in(w, SFO_ACK, w->pnxt, tnxt(w), 0);
		w_call(w, SFO_CALL_ACCEPT, 0);
		return;
	case SFO_FIN_WAIT_1:
		w_goto(w, SFO_ESTABLISHED);
		w_call(w, SFO_CALL_CLOSE, 0);
		return;
	case SFO_FIN_WAIT_2:
		w_goto(w, SFO_FIN_WAIT_1);
		w_in(w, SFO_ACK, w->pnxt, tnxt(w), 0);
		return;
	case SFO_CLOSE_WAIT:
		w_goto(w, SFO_ESTABLISHED);
		w_in(w, SFO_FIN | SFO_ACK, w->pnxt, tnxt(w), 0);
		return;
	case SFO_CLOSING:
		w_goto(w, SFO_FIN_WAIT_1);
		w_in(w, SFO_FIN | SFO_ACK, w->pnxt, tuna(w), 0);
		return;
	case SFO_LAST_ACK:
		w_goto(w, SFO_CLOSE_WAIT);
		w_call(w, SFO_CALL_CLOSE, 0);
		return;
	case SFO_TIME_WAIT:
		w_goto(w, SFO_FIN_WAIT_2);
		w_in(w, SFO_FIN | SFO_ACK, w->pnxt, tnxt(w), 0);
		return;
	}
}

/* A world in state s under a profile, checked: it got there and the oracle agreed. */
static inline void at(struct world *w, enum sfo_state s, const char *profile)
{
	w_init(w, profile);
	w_goto(w, s);
	CHECK_EQ(w->st.state, s);
	CHECK_EQ(w->ot.state, s);
	CHECK_EQ(w->diverged, 0);
}

/* Ask the oracle (not committing) what a peer segment may do. */
static inline void probe(struct world *w, struct sfo_seg s, struct sfo_expect *e)
{
	struct sfo_event ev;
	memset(&ev, 0, sizeof ev);
	ev.kind = SFO_EV_SEGMENT;
	ev.u.seg = s;
	sfo_step(&w->ot, &w->ocfg, &ev, e);
}

static inline void probe_ev(struct world *w, const struct sfo_event *ev, struct sfo_expect *e)
{
	sfo_step(&w->ot, &w->ocfg, ev, e);
}

/* The set of next states over all outcomes. */
static inline uint16_t next_states(const struct sfo_expect *e)
{
	uint16_t m = 0;
	for (unsigned i = 0; i < e->nout; i++)
		m |= BIT(e->out[i].next.state);
	return m;
}

/* Judge what a target emitted and its state; the verdict stays in w->v. */
static inline enum sfo_div_kind judge(struct world *w, const struct sfo_expect *e,
				      enum sfo_state observed, const struct sfo_seg *segs, size_t n)
{
	struct sfo_rebase rb = {w->pisn, w->tiss, 1};
	sfo_judge(&w->ot, &w->ocfg, e, segs, n, observed, &rb, &w->v, &w->which);
	return w->v.kind;
}

/* JUDGE(w, e, state, seg...) and JUDGE0(w, e, state) for no segment at all. */
#define SEGS(...)	     ((const struct sfo_seg[]){__VA_ARGS__})
#define NSEGS(...)	     (sizeof(SEGS(__VA_ARGS__)) / sizeof(struct sfo_seg))
#define JUDGE(w, e, st, ...) judge((w), (e), (st), SEGS(__VA_ARGS__), NSEGS(__VA_ARGS__))
#define JUDGE0(w, e, st)     judge((w), (e), (st), NULL, 0)

/* The rule a verdict names, as its stable id. */
static inline const char *vrule(const struct world *w)
{
	return sfo_rule(w->v.rule)->id;
}

/* Whether some outcome fired rule id. */
static inline int fired(const struct sfo_expect *e, const char *id)
{
	int r = sfo_rule_find(id);
	for (unsigned i = 0; i < e->nout; i++)
		for (unsigned j = 0; j < e->out[i].nrules; j++)
			if (e->out[i].rules[j] == r)
				return 1;
	return 0;
}

/* ---- cells every synchronized state shares (3.10.7.4) ---- */

/* The pure ACK the target sends from its current numbers. */
static inline struct sfo_seg tack(const struct world *w)
{
	return mkseg(SFO_ACK, tnxt(w), rnxt(w), 0);
}

/* First check: unacceptable text draws an immediate ACK of RCV.NXT; the state holds. */
static inline void sync_data_out(enum sfo_state s)
{
	struct world w;
	struct sfo_expect e;
	at(&w, s, "rfc9293");
	probe(&w, mkseg(SFO_ACK, rnxt(&w) + 100000, tuna(&w), 100), &e);
	CHECK_EQ(e.evclass, SFO_EC_DATA_OUT);
	CHECK_EQ(next_states(&e), BIT(s));
	CHECK_EQ(judge(&w, &e, s, (struct sfo_seg[]){tack(&w)}, 1), SFO_DIV_OK);
	CHECK_EQ(JUDGE0(&w, &e, s), SFO_DIV_MISSING);
	CHECK_STR(vrule(&w), "seq.unacceptable.ack");
	CHECK_EQ(JUDGE(&w, &e, s, mkseg(SFO_ACK, tnxt(&w), rnxt(&w) + 1, 0)), SFO_DIV_FIELD);
}

/* First check: a RST outside the window is dropped and never answered. */
static inline void sync_rst_outwin(enum sfo_state s)
{
	struct world w;
	struct sfo_expect e;
	at(&w, s, "rfc9293");
	probe(&w, mkseg(SFO_RST, rnxt(&w) + 100000, 0, 0), &e);
	CHECK_EQ(e.evclass, SFO_EC_RST_OUTWIN);
	CHECK_EQ(next_states(&e), BIT(s));
	CHECK_EQ(JUDGE0(&w, &e, s), SFO_DIV_OK);
	CHECK_EQ(judge(&w, &e, s, (struct sfo_seg[]){tack(&w)}, 1), SFO_DIV_UNEXPECTED);
	CHECK_EQ(JUDGE0(&w, &e, SFO_CLOSED), SFO_DIV_STATE);
	CHECK_STR(vrule(&w), "seq.unacceptable.rst");
}

/* Second check: a RST at RCV.NXT resets: CLOSED, nothing sent (also_ok: other states
 * an outcome may keep, e.g. TIME-WAIT under RFC 1337). */
static inline void sync_rst_exact(enum sfo_state s, uint8_t flags, uint16_t also_ok)
{
	struct world w;
	struct sfo_expect e;
	at(&w, s, "rfc9293");
	probe(&w, mkseg(flags, rnxt(&w), tnxt(&w), 0), &e);
	CHECK_EQ(next_states(&e), BIT(SFO_CLOSED) | also_ok);
	CHECK_EQ(JUDGE0(&w, &e, SFO_CLOSED), SFO_DIV_OK);
	CHECK_EQ(judge(&w, &e, SFO_CLOSED, (struct sfo_seg[]){tack(&w)}, 1), SFO_DIV_UNEXPECTED);
	if (!(also_ok & BIT(s))) {
		CHECK_EQ(JUDGE0(&w, &e, s), SFO_DIV_STATE);
		CHECK_EQ(w.v.sev, SFO_SEV_MUST);
	}
}

/* Second check inside the window: reset (base) or challenge ACK (RFC 5961); the rfc5961
 * profile allows the challenge only. */
static inline void sync_rst_inwin(enum sfo_state s, uint16_t also_ok)
{
	struct world w;
	struct sfo_expect e;
	at(&w, s, "rfc9293");
	probe(&w, mkseg(SFO_RST, rnxt(&w) + 100, 0, 0), &e);
	CHECK_EQ(e.evclass, SFO_EC_RST_INWIN);
	CHECK_EQ(next_states(&e), BIT(SFO_CLOSED) | BIT(s) | also_ok);
	CHECK_EQ(JUDGE0(&w, &e, SFO_CLOSED), SFO_DIV_OK);
	CHECK_EQ(judge(&w, &e, s, (struct sfo_seg[]){tack(&w)}, 1), SFO_DIV_OK);
	CHECK(fired(&e, "rst.inwin.challenge"));
	at(&w, s, "rfc5961");
	probe(&w, mkseg(SFO_RST, rnxt(&w) + 100, 0, 0), &e);
	CHECK_EQ(next_states(&e), BIT(s));
	CHECK_EQ(judge(&w, &e, s, (struct sfo_seg[]){tack(&w)}, 1), SFO_DIV_OK);
	CHECK_EQ(JUDGE0(&w, &e, SFO_CLOSED), SFO_DIV_STATE);
	CHECK_STR(vrule(&w), "rst.inwin.challenge");
	CHECK_EQ(JUDGE0(&w, &e, s), SFO_DIV_MISSING);
}

/* Fourth check: a SYN draws a challenge ACK (RFC 5961), or, RFC 793 style, a RST and
 * CLOSED; the rfc5961 profile requires the challenge. */
static inline void sync_syn(enum sfo_state s, uint8_t flags)
{
	struct world w;
	struct sfo_expect e;
	at(&w, s, "rfc9293");
	probe(&w, mkseg(flags, rnxt(&w), tnxt(&w), 0), &e);
	CHECK_EQ(next_states(&e), BIT(s) | BIT(SFO_CLOSED));
	CHECK_EQ(judge(&w, &e, s, (struct sfo_seg[]){tack(&w)}, 1), SFO_DIV_OK);
	CHECK_EQ(w.which, 0);
	CHECK_EQ(JUDGE(&w, &e, SFO_CLOSED, mkseg(SFO_RST, tnxt(&w), 0, 0)), SFO_DIV_OK);
	CHECK_EQ(JUDGE0(&w, &e, s), SFO_DIV_MISSING);
	CHECK_STR(vrule(&w), "syn.challenge");
	at(&w, s, "rfc5961");
	probe(&w, mkseg(flags, rnxt(&w), tnxt(&w), 0), &e);
	CHECK_EQ(next_states(&e), BIT(s));
	CHECK_EQ(judge(&w, &e, s, (struct sfo_seg[]){tack(&w)}, 1), SFO_DIV_OK);
	CHECK_EQ(JUDGE(&w, &e, SFO_CLOSED, mkseg(SFO_RST, tnxt(&w), 0, 0)), SFO_DIV_STATE);
}

/* Fifth check: an ACK of something never sent: ACK back and drop (optional: TIME-WAIT). */
static inline void sync_ack_future(enum sfo_state s, int required)
{
	struct world w;
	struct sfo_expect e;
	at(&w, s, "rfc9293");
	probe(&w, mkseg(SFO_ACK, rnxt(&w), tnxt(&w) + 1000, 0), &e);
	CHECK_EQ(e.evclass, SFO_EC_ACK_FUTURE);
	CHECK_EQ(next_states(&e), BIT(s));
	CHECK_EQ(judge(&w, &e, s, (struct sfo_seg[]){tack(&w)}, 1), SFO_DIV_OK);
	CHECK_EQ(JUDGE0(&w, &e, s), required ? SFO_DIV_MISSING : SFO_DIV_OK);
	CHECK_EQ(e.out[0].next.snd_una, w.ot.snd_una);
}

/* Fifth check: a segment without ACK (no SYN, no RST) is dropped silently. */
static inline void sync_no_ack(enum sfo_state s, uint8_t flags)
{
	struct world w;
	struct sfo_expect e;
	at(&w, s, "rfc9293");
	probe(&w, mkseg(flags, rnxt(&w), 0, 0), &e);
	CHECK_EQ(next_states(&e), BIT(s));
	CHECK_EQ(JUDGE0(&w, &e, s), SFO_DIV_OK);
	CHECK_EQ(e.out[0].next.rcv_nxt, w.ot.rcv_nxt);
	CHECK(fired(&e, "ack.off"));
}

#endif
