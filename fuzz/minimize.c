/* Minimisation: the smallest scenario that still shows the same signature.
 *
 * The predicate is "runs to completion and its divergence has signature hash `want`".
 * First the events after the diverging one go; then runs of events are deleted, halving
 * the run length (a simple ddmin); then each remaining event's fields are simplified
 * toward the defaults a human would write (seq/ack omitted, offsets toward 0, no
 * payload, no options, shorter waits, smaller sends). Both passes repeat until nothing
 * changes or the run budget is spent.
 */
#include <string.h>
#include <time.h>

#include "fuzz_priv.h"

#define DEFAULT_BUDGET 3000

int sff_run_once(struct sff_runctx *ctx, const struct sfh_scenario *s, struct sfh_result *res)
{
	struct sfh_run_opts o = {.profile = ctx->profile, .case_no = ctx->next_case++};
	const struct sfh_scenario *run = s;
	struct sfh_scenario clamped;
	if (ctx->max_wait_ms) {
		clamped = *s;
		for (uint32_t i = 0; i < clamped.nev; i++)
			if (clamped.ev[i].type == SFH_EV_WAIT &&
			    clamped.ev[i].u.wait_ms > ctx->max_wait_ms)
				clamped.ev[i].u.wait_ms = ctx->max_wait_ms;
		run = &clamped;
	}
	if (ctx->isolate)
		return sff_run_isolated_sig(ctx, run, &o, res);
	return sff_run_inproc(ctx, run, &o, res);
}

struct minctx {
	struct sff_runctx *ctx;
	uint64_t want;
	int runs, budget;
	int div_event;	 /* of the last accepted candidate */
	double deadline; /* CLOCK_MONOTONIC seconds; 0: none */
};

static double mono_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int shows(struct minctx *m, const struct sfh_scenario *s)
{
	struct sfh_result res;
	if (m->runs >= m->budget)
		return 0;
	/* Real-time targets cost up to a second a run: a time bound keeps a campaign going. */
	if (m->deadline > 0 && (m->runs & 7) == 0 && mono_s() > m->deadline) {
		m->budget = m->runs;
		return 0;
	}
	m->runs++;
	if (sff_run_once(m->ctx, s, &res) != 0)
		return 0;
	if (res.verdict.kind == SFO_DIV_OK || res.verdict.accepted || res.sig_hash != m->want)
		return 0;
	m->div_event = res.div_event;
	return 1;
}

/* Events after the diverging one cannot matter (the run stops there). */
static int cut_tail(struct minctx *m, struct sfh_scenario *s)
{
	if (m->div_event < 0 || (uint32_t)m->div_event + 1 >= s->nev)
		return 0;
	struct sfh_scenario c = *s;
	c.nev = (uint32_t)m->div_event + 1;
	if (!shows(m, &c))
		return 0;
	*s = c;
	return 1;
}

static int delete_runs(struct minctx *m, struct sfh_scenario *s)
{
	int changed = 0;
	for (uint32_t chunk = s->nev / 2 ? s->nev / 2 : 1; chunk >= 1; chunk /= 2) {
		for (uint32_t pos = 0; pos < s->nev && m->runs < m->budget;) {
			struct sfh_scenario c = *s;
			uint32_t n = chunk < c.nev - pos ? chunk : c.nev - pos;
			memmove(&c.ev[pos], &c.ev[pos + n], (c.nev - pos - n) * sizeof c.ev[0]);
			c.nev -= n;
			if (shows(m, &c)) {
				*s = c;
				changed = 1;
				cut_tail(m, s);
			} else {
				pos += n;
			}
		}
		if (chunk == 1)
			break;
	}
	return changed;
}

/* Simplification k of one event; 1 if it changed e (0: not applicable). */
static int simplify(struct sfh_event *e, int k)
{
	switch (e->type) {
	case SFH_EV_IN: {
		struct sfh_in *in = &e->u.in;
		switch (k) {
		case 0:
			return in->has_seq ? (in->has_seq = 0, 1) : 0;
		case 1:
			return in->has_ack ? (in->has_ack = 0, 1) : 0;
		case 2:
			return in->has_seq && in->seq.anchor != SFH_A_ABS && in->seq.off
				   ? (in->seq.off = 0, 1)
				   : 0;
		case 3:
			return in->has_seq && in->seq.anchor != SFH_A_ABS && in->seq.off
				   ? (in->seq.off /= 2, 1)
				   : 0;
		case 4:
			return in->has_ack && in->ack.anchor != SFH_A_ABS && in->ack.off
				   ? (in->ack.off = 0, 1)
				   : 0;
		case 5:
			return in->has_ack && in->ack.anchor != SFH_A_ABS && in->ack.off
				   ? (in->ack.off /= 2, 1)
				   : 0;
		case 6:
			return in->len ? (in->len = 0, 1) : 0;
		case 7:
			return in->len > 1 ? (in->len /= 2, 1) : 0;
		case 8:
			return in->opts ? (in->opts = 0, 1) : 0;
		case 9:
		case 10:
		case 11:
		case 12: {
			uint8_t bit = (uint8_t)(1u << (k - 9));
			return (in->opts & bit) ? (in->opts &= (uint8_t)~bit, 1) : 0;
		}
		case 13:
			return in->wnd != SFH_DEFAULT_WND ? (in->wnd = SFH_DEFAULT_WND, 1) : 0;
		case 14:
			return in->up ? (in->up = 0, 1) : 0;
		case 15: {
			uint8_t minor = SFO_PSH | SFO_URG | SFO_ECE | SFO_CWR;
			return (in->flags & minor) ? (in->flags &= (uint8_t)~minor, 1) : 0;
		}
		default:
			return 0;
		}
	}
	case SFH_EV_WAIT:
		if (k == 0)
			return e->u.wait_ms > 1 ? (e->u.wait_ms /= 2, 1) : 0;
		if (k == 1)
			return e->u.wait_ms % 100 ? (e->u.wait_ms -= e->u.wait_ms % 100, 1) : 0;
		return 0;
	case SFH_EV_CALL:
		if (e->u.call.call != SFO_CALL_SEND && e->u.call.call != SFO_CALL_RECEIVE)
			return 0;
		if (k == 0)
			return e->u.call.arg > 1 ? (e->u.call.arg /= 2, 1) : 0;
		if (k == 1 && e->u.call.call == SFO_CALL_RECEIVE)
			return e->u.call.arg ? (e->u.call.arg = 0, 1) : 0;
		return 0;
	case SFH_EV_OUT:
	case SFH_EV_EXPECT_STATE:
		return 0;
	}
	return 0;
}

#define NSIMPLIFY 16

static int simplify_fields(struct minctx *m, struct sfh_scenario *s)
{
	int changed = 0;
	for (uint32_t i = 0; i < s->nev && m->runs < m->budget; i++) {
		for (int k = 0; k < NSIMPLIFY && m->runs < m->budget; k++) {
			/* Repeat an edit while it keeps the signature (halving walks to 0). */
			for (int rep = 0; rep < 40; rep++) {
				struct sfh_scenario c = *s;
				if (!simplify(&c.ev[i], k) || !shows(m, &c))
					break;
				*s = c;
				changed = 1;
			}
		}
	}
	return changed;
}

int sff_minimize(struct sff_runctx *ctx, struct sfh_scenario *s, uint64_t want, int max_runs)
{
	struct minctx m = {
	    .ctx = ctx, .want = want, .budget = max_runs > 0 ? max_runs : DEFAULT_BUDGET};
	if (ctx->min_seconds)
		m.deadline = mono_s() + ctx->min_seconds;
	if (!shows(&m, s))
		return -1;
	cut_tail(&m, s);
	for (int round = 0; round < 8 && m.runs < m.budget; round++) {
		int changed = delete_runs(&m, s);
		changed |= simplify_fields(&m, s);
		if (!changed)
			break;
	}
	return m.runs;
}
