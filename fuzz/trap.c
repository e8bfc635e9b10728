/* SYNFIN_FUZZ_TRAP: a divergence reported as a crash, one crash per signature.
 *
 * Engines that run libFuzzer binaries and only see crashes (ClusterFuzz, ClusterFuzzLite,
 * OSS-Fuzz) group them by crash type and their top stack frames (three, in ClusterFuzz).
 * An abort() straight from the fuzz core would put every divergence under the same
 * frames, one crash in all. So the abort is reached through a chain of frames named
 * after the signature, innermost first:
 *
 *   #0 abort
 *   #1 synfin_rule_<RULE>             the rule broken (one function per row of rules.def)
 *   #2 synfin_kind_<KIND>             missing-response, wrong-field, state, crash, ...
 *   #3 synfin_at_<STATE>_on_<EVENT>   the state before and the event class
 *   #4 sff_trap
 *
 * The top three frames below abort are the signature (target/STATE/event/rule/kind; the
 * target is the fuzzer binary's own), so distinct signatures make distinct crashes and
 * the same signature always the same one. Before aborting, a sanitizer-style report goes
 * to standard error whose first line carries the rule and kind. A crash of the stack
 * itself needs none of this: it dies in the stack's own frames.
 *
 * Every frame function is noinline, keeps its call (no tail call), and has a body of its
 * own (it stores its name), so neither the compiler nor a linker folding identical code
 * can merge two of them; the table look-ups between them are macros, so no frame (not
 * even an inlined one, which a symbolizer shows) comes between. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz_priv.h"

struct trap {
	const char *target;
	const struct sfh_result *res;
};

/* What the innermost frames were: kept so the stores are not optimised away, and
 * readable in a debugger. */
volatile const char *sff_trap_frames[3];

#define FRAME __attribute__((noinline, used, disable_tail_calls))

/* ---- #1: the rule ---- */
static FRAME void synfin_rule_stack(const struct trap *t)
{
	sff_trap_frames[0] = "stack";
	abort();
}
#define X(id, str, sec, req, sev, title)                                                           \
	static FRAME void synfin_rule_##id(const struct trap *t)                                   \
	{                                                                                          \
		sff_trap_frames[0] = str;                                                          \
		abort();                                                                           \
	}
#include "rules.def"
#undef X
static void (*const rule_frame[])(const struct trap *) = {
#define X(id, str, sec, req, sev, title) synfin_rule_##id,
#include "rules.def"
#undef X
};

/* A macro, not a function: an inlined function would still be a frame of its own in a
 * symbolized stack trace. */
#define RULE_STEP(t)                                                                               \
	do {                                                                                       \
		size_t r_ = (t)->res->verdict.rule;                                                \
		if (r_ < sizeof rule_frame / sizeof rule_frame[0] && r_ < sfo_rule_count())        \
			rule_frame[r_](t);                                                         \
		else                                                                               \
			synfin_rule_stack(t);                                                      \
	} while (0)

/* ---- #2: the kind ---- */
#define K(id, name)                                                                                \
	static FRAME void synfin_kind_##id(const struct trap *t)                                   \
	{                                                                                          \
		sff_trap_frames[1] = name;                                                         \
		RULE_STEP(t);                                                                      \
	}
SFO_DIV_KINDS(K)
#undef K
static void (*const kind_frame[])(const struct trap *) = {
#define K(id, name) synfin_kind_##id,
    SFO_DIV_KINDS(K)
#undef K
};

#define KIND_STEP(t)                                                                               \
	do {                                                                                       \
		unsigned k_ = (unsigned)(t)->res->verdict.kind;                                    \
		kind_frame[k_ < SFO_NDIV_KINDS ? k_ : SFO_DIV_CRASH](t);                           \
	} while (0)

/* ---- #3: the state before and the event class ---- */
/* PAIR(state, event) is defined twice below: first as a function, then as its name. */
#define AT_CLOSED(e, n)	      PAIR(CLOSED, e)
#define AT_LISTEN(e, n)	      PAIR(LISTEN, e)
#define AT_SYN_SENT(e, n)     PAIR(SYN_SENT, e)
#define AT_SYN_RECEIVED(e, n) PAIR(SYN_RECEIVED, e)
#define AT_ESTABLISHED(e, n)  PAIR(ESTABLISHED, e)
#define AT_FIN_WAIT_1(e, n)   PAIR(FIN_WAIT_1, e)
#define AT_FIN_WAIT_2(e, n)   PAIR(FIN_WAIT_2, e)
#define AT_CLOSE_WAIT(e, n)   PAIR(CLOSE_WAIT, e)
#define AT_CLOSING(e, n)      PAIR(CLOSING, e)
#define AT_LAST_ACK(e, n)     PAIR(LAST_ACK, e)
#define AT_TIME_WAIT(e, n)    PAIR(TIME_WAIT, e)
#define AT_UNKNOWN(e, n)      PAIR(UNKNOWN, e)
#define PER_STATE(s, n)	      SFO_EVCLASSES(AT_##s)

#define PAIR(s, e)                                                                                 \
	static FRAME void synfin_at_##s##_on_##e(const struct trap *t)                             \
	{                                                                                          \
		sff_trap_frames[2] = #s "/" #e;                                                    \
		KIND_STEP(t);                                                                      \
	}
SFO_STATES(PER_STATE)
PER_STATE(UNKNOWN, "?")
#undef PAIR

static FRAME void synfin_at_unknown_step(const struct trap *t)
{
	sff_trap_frames[2] = "unknown step";
	KIND_STEP(t);
}

#define PAIR(s, e) synfin_at_##s##_on_##e,
#define ROW(s, n)  {SFO_EVCLASSES(AT_##s)},
static void (*const at_frame[SFO_NSTATES + 1][SFO_NEVCLASSES])(const struct trap *) = {
    SFO_STATES(ROW) ROW(UNKNOWN, "?")};
#undef ROW
#undef PAIR

/* The report, in the shape sanitizers give theirs: an ERROR line with the crash's
 * title, then what a person needs to act on it. */
static void report(const struct trap *t)
{
	const struct sfh_result *r = t->res;
	const struct sfo_verdict *v = &r->verdict;
	const struct sfo_rule_info *ri = sfo_rule_any(v->rule);
	char detail[300];
	sfh_verdict_detail(v, detail, sizeof detail);
	fprintf(stderr,
		"==%d==ERROR: synfin: TCP lifecycle divergence: rule %s, %s in %s on %s\n"
		"    target:    %s\n"
		"    signature: %s\n"
		"    rule:      %s (RFC 9293 %s%s%s, %s): %s\n"
		"    detail:    %s%s%s\n"
		"    the input replays with: synfin run / synfin minimize --target %s\n"
		"SUMMARY: synfin: divergence %s %s %s/%s\n",
		(int)getpid(), ri ? ri->id : "?", sfo_div_kind_name(v->kind),
		sfo_state_name(v->before), sfo_evclass_name(v->evclass), t->target, r->signature,
		ri ? ri->id : "?", ri ? ri->section : "?", ri && ri->req[0] ? " " : "",
		ri ? ri->req : "", sfo_severity_name(v->sev), ri ? ri->title : "?", detail,
		r->crash.site[0] ? "; site " : "", r->crash.site, t->target, ri ? ri->id : "?",
		sfo_div_kind_name(v->kind), sfo_state_name(v->before),
		sfo_evclass_name(v->evclass));
	fflush(stderr);
}

void sff_trap(const char *target, const struct sfh_result *res)
{
	struct trap t = {.target = target, .res = res};
	unsigned s = (unsigned)res->verdict.before, e = (unsigned)res->verdict.evclass;
	report(&t);
	if (s > SFO_NSTATES || e >= SFO_NEVCLASSES)
		synfin_at_unknown_step(&t);
	else
		at_frame[s][e](&t);
	abort(); /* not reached */
}
