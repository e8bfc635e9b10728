/* The runner: what a target can run (sfh_run_supported), fitting a scenario to it, and
 * the profile a case is judged by with its `timers` line. */
#include <stdio.h>
#include <string.h>

#include "runner_priv.h"

static uint8_t timers_honoured(const struct sfh_target *t)
{
	return (t->ops->caps & SFH_CAP_TIMERS) ? t->timers_can : 0;
}

static int has_timing(const struct sfh_scenario *s)
{
	for (uint32_t i = 0; i < s->nev && i < SFH_MAX_EVENTS; i++)
		if (s->ev[i].type == SFH_EV_OUT && !s->ev[i].u.out.none && s->ev[i].u.out.has_at)
			return 1;
	return 0;
}

void sfh_scn_fit_target(struct sfh_scenario *s, const struct sfh_target *t)
{
	s->timers &= timers_honoured(t);
	if (!(t->ops->caps & SFH_CAP_VTIME))
		s->timers = 0; /* a real stack may refuse a value (linux: rto_min above 200 ms) */
	for (unsigned k = 0; k < SFH_NTIMERS; k++)
		if (!(s->timers & (1u << k)))
			s->timer_ms[k] = 0;
	if (!(t->ops->caps & SFH_CAP_EMIT_TIME))
		for (uint32_t i = 0; i < s->nev && i < SFH_MAX_EVENTS; i++)
			if (s->ev[i].type == SFH_EV_OUT)
				s->ev[i].u.out.has_at = 0;
}

int sfh_run_supported(const struct sfh_target *t, const struct sfh_scenario *s, char *err,
		      size_t errlen)
{
	uint8_t missing = s->timers & (uint8_t)~timers_honoured(t);
	if (missing) {
		size_t k = (size_t)snprintf(err, errlen, "not supported by target %s: timers",
					    t->ops->name);
		for (unsigned i = 0; i < SFH_NTIMERS && k < errlen; i++)
			if (missing & (1u << i))
				k += (size_t)snprintf(err + k, errlen - k,
						      " %s=", sfh_timer_name((enum sfh_timer)i));
		if (k < errlen)
			snprintf(err + k, errlen - k,
				 " (it cannot set them; docs/scenario-language.md, Timing)");
		return -1;
	}
	/* An IPv6 case on a target that cannot play one is refused, never judged. */
	if (s->ipv6 && !(t->ops->caps & SFH_CAP_IPV6)) {
		snprintf(err, errlen, "not supported by target %s: IPv6 (`family ipv6`)%s%s",
			 t->ops->name, t->no_ipv6 ? ": " : "", t->no_ipv6 ? t->no_ipv6 : "");
		return -1;
	}
	/* Several TCBs on a target that keeps one (or a listener and one connection). */
	int conns = 1;
	for (uint32_t i = 0; i < s->nev && i < SFH_MAX_EVENTS; i++)
		if (s->ev[i].sel > conns && s->ev[i].sel <= SFH_MAX_CONNS)
			conns = s->ev[i].sel;
	if ((sfh_scn_multi(s) && !(t->ops->caps & SFH_CAP_LISTENER)) ||
	    (conns > 1 && !(t->ops->caps & SFH_CAP_CONNS))) {
		snprintf(err, errlen,
			 "not supported by target %s: %s (docs/scenario-language.md, \"Listeners "
			 "and several connections\")",
			 t->ops->name,
			 (t->ops->caps & SFH_CAP_LISTENER)
			     ? "a second connection in one case (conn=2 and up)"
			     : "a listener apart from its connections (conn=N, listener)");
		return -1;
	}
	if (has_timing(s) && !(t->ops->caps & SFH_CAP_EMIT_TIME)) {
		snprintf(err, errlen,
			 "not supported by target %s: timing on out (@+D): the target does not "
			 "report when it emitted a segment",
			 t->ops->name);
		return -1;
	}
	return 0;
}

/* The profile a case is judged by: base with the `timers` line the target applied (it
 * may have rounded a value to its own granularity, sfh_target.timer_ms). A setting only
 * ever widens what the model allows where a stack's timing is loose: the earliest
 * retransmission (rto_min_ms) only moves down. */
void sfh_run_judged_profile(struct run *x, const struct sfo_profile *base)
{
	const struct sfh_target *t = x->t;
	struct sfo_profile *p = &x->prof;
	*p = *base;
	if (t->timers_set & (1u << SFH_TM_RTO_INIT)) {
		/* RFC 6298 2.1 and 5.7: the first retransmission comes one RTO after the send;
		 * a timer may run late (jiffies, timer wheels, coarse slow timers) by up to half
		 * of it */
		uint32_t v = t->timer_ms[SFH_TM_RTO_INIT];
		p->rto_must_ms = v + v / 2;
		if (v < p->rto_min_ms)
			p->rto_min_ms = v;
	}
	if ((t->timers_set & (1u << SFH_TM_RTO_MIN)) && t->timer_ms[SFH_TM_RTO_MIN] < p->rto_min_ms)
		p->rto_min_ms = t->timer_ms[SFH_TM_RTO_MIN]; /* RFC 6298 2.4 */
	if (t->timers_set & (1u << SFH_TM_DELACK))
		p->delack_max_ms = t->timer_ms[SFH_TM_DELACK]; /* RFC 9293 3.8.6.3 */
	if (t->timers_set & (1u << SFH_TM_MSL)) {
		/* RFC 9293 3.3.2: TIME-WAIT lasts 2 x MSL */
		uint64_t m2 = 2 * (uint64_t)t->timer_ms[SFH_TM_MSL];
		p->msl2_ms = m2 > UINT32_MAX ? UINT32_MAX : (uint32_t)m2;
	}
}
