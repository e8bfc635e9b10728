/* synfin oracle internals: the rule enum and the helpers the model files share to build
 * outcomes. Not part of the public contract (oracle.h). */
#ifndef SYNFIN_MODEL_PRIV_H
#define SYNFIN_MODEL_PRIV_H

#include "oracle.h"

enum sfo_rule {
#define X(id, str, sec, req, sev, title) SFO_R_##id,
#include "rules.def"
#undef X
	SFO_NRULES
};

#define SFO_BIT(s) ((uint16_t)(1u << (s)))

/* Sequence helpers beyond the comparisons in oracle.h. */
static inline uint32_t sfo_seq_max(uint32_t a, uint32_t b)
{
	return sfo_seq_ge(a, b) ? a : b;
}
static inline uint32_t sfo_seq_min(uint32_t a, uint32_t b)
{
	return sfo_seq_le(a, b) ? a : b;
}
/* Distance from a forward to b, 0 when b is not ahead of a. */
static inline uint32_t sfo_seq_fwd(uint32_t a, uint32_t b)
{
	return sfo_seq_gt(b, a) ? b - a : 0;
}

/* One step in the making: read-only inputs and the expectation being filled. */
struct sfo_ctx {
	const struct sfo_tcb *t;
	const struct sfo_cfg *cfg;
	const struct sfo_profile *p;
	const struct sfo_event *ev;
	struct sfo_expect *e;
	int stack;    /* SFO_CFG_STACK: patterns must be concrete */
	int data_due; /* a wait passed the send override timeout: sendable data must go */
	struct sfo_outcome spare; /* absorbs outcomes beyond SFO_MAX_OUT (never reported) */
};

/* Text pending at RCV.NXT, taken or not (SFO_TF_SYN_QP), and where it came from: the
 * rules that name the two readings. */
#define SFO_TF_QP_ALL ((uint32_t)(SFO_TF_SYN_QP | SFO_TF_QP_TS))
static inline sfo_rule_t sfo_qp_taken_rule(const struct sfo_tcb *t)
{
	return (t->fl & SFO_TF_QP_TS) ? SFO_R_DATA_ACCEPT : SFO_R_SYNSENT_SYN_TEXT_QUEUE;
}
static inline sfo_rule_t sfo_qp_drop_rule(const struct sfo_tcb *t)
{
	return (t->fl & SFO_TF_QP_TS) ? SFO_R_TS_MISSING_DROP : SFO_R_SYNSENT_SYN_TEXT_DROP;
}

/* A fresh outcome whose next TCB is the TCB before the event. */
static inline struct sfo_outcome *sfo_out_new(struct sfo_ctx *c)
{
	struct sfo_outcome *o = c->e->nout < SFO_MAX_OUT ? &c->e->out[c->e->nout++] : &c->spare;
	o->next = *c->t;
	o->npat = 0;
	o->nrules = 0;
	o->state_ok = 0;
	o->state_rule = SFO_R_WAIT_IDLE;
	return o;
}

/* A copy of outcome `from` (next TCB, patterns and rules so far). */
static inline struct sfo_outcome *sfo_out_fork(struct sfo_ctx *c, const struct sfo_outcome *from)
{
	struct sfo_outcome *o = c->e->nout < SFO_MAX_OUT ? &c->e->out[c->e->nout++] : &c->spare;
	if (o == from)
		return o;
	o->next = from->next;
	o->npat = from->npat;
	o->nrules = from->nrules;
	o->state_ok = 0;
	o->state_rule = from->state_rule;
	for (unsigned i = 0; i < from->npat; i++)
		o->pat[i] = from->pat[i];
	for (unsigned i = 0; i < from->nrules; i++)
		o->rules[i] = from->rules[i];
	return o;
}

static inline void sfo_fire(struct sfo_outcome *o, sfo_rule_t r)
{
	if (o->nrules < SFO_MAX_RULES)
		o->rules[o->nrules++] = r;
	else
		o->rules[SFO_MAX_RULES - 1] = r;
}

/* The one place that decides an outcome's next state, and which rule decided it. */
static inline void sfo_set_state(struct sfo_outcome *o, enum sfo_state s, sfo_rule_t r)
{
	o->next.state = s;
	o->state_rule = r;
	sfo_fire(o, r);
}

/* A new pattern: flags, occurrences and rule; numbers zero, to be filled by the caller. */
static inline struct sfo_pattern *sfo_pat(struct sfo_outcome *o, sfo_rule_t r, uint8_t set,
					  uint8_t clear, uint8_t min, uint8_t max)
{
	struct sfo_pattern *p = &o->pat[o->npat < SFO_MAX_PAT ? o->npat++ : SFO_MAX_PAT - 1];
	p->seq_lo = p->seq_hi = 0;
	p->ack_lo = p->ack_hi = 0;
	p->len_lo = p->len_hi = 0;
	p->flags_set = set;
	p->flags_clear = clear;
	p->min = min;
	p->max = max;
	p->pf = 0;
	p->rule = r;
	return p;
}

/* model.c */
void sfo_tcb_to_closed(struct sfo_tcb *n);
void sfo_tcb_to_listen(struct sfo_tcb *n);
void sfo_owe_ack(const struct sfo_ctx *c, struct sfo_outcome *o);
struct sfo_pattern *sfo_pat_ack(const struct sfo_ctx *c, struct sfo_outcome *o, sfo_rule_t r,
				uint8_t min);
struct sfo_pattern *sfo_pat_rst(const struct sfo_ctx *c, struct sfo_outcome *o, sfo_rule_t r);
struct sfo_pattern *sfo_pat_synack(const struct sfo_ctx *c, struct sfo_outcome *o, sfo_rule_t r,
				   uint8_t min);
void sfo_refuse(struct sfo_outcome *o, const struct sfo_seg *s, sfo_rule_t r);
void sfo_new_iss(const struct sfo_ctx *c, struct sfo_tcb *n, uint32_t iss);
void sfo_peer_syn(const struct sfo_ctx *c, struct sfo_tcb *n, const struct sfo_seg *s);
int sfo_synchronized(enum sfo_state s);
int sfo_seg_acceptable(const struct sfo_tcb *t, const struct sfo_seg *s);
int sfo_rst_seq_ok(const struct sfo_tcb *t, const struct sfo_seg *s);
void sfo_learn_iss(struct sfo_tcb *t, uint32_t iss);
void sfo_ack_sample(struct sfo_tcb *n, uint32_t ack);
uint8_t sfo_wait_copies(const struct sfo_ctx *c);
void sfo_syn_q_taken(const struct sfo_tcb *t, struct sfo_tcb *tk);

/* model_seg.c: SEGMENT ARRIVES for every state. */
void sfo_seg_arrives(struct sfo_ctx *c);
/* model_ts.c: after SEGMENT ARRIVES in a synchronized state, the RFC 7323 3.2 drop of a
 * segment without Timestamps as one more outcome (from out[first] on). */
void sfo_ts_missing_drop(struct sfo_ctx *c, unsigned first);

/* model_call.c: user calls and timeouts. */
void sfo_user_call(struct sfo_ctx *c);
void sfo_wait(struct sfo_ctx *c);
/* What an end of the connection in this step leaves for the user to hear (an enum
 * sfo_err for sfo_tcb.closed_err; 0 none). */
uint8_t sfo_closed_err(const struct sfo_tcb *before, const struct sfo_event *ev,
		       sfo_rule_t state_rule);

#endif
