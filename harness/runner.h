/* synfin runner: plays one scenario on a target and on the reference model in lockstep,
 * judges every step, and stops at the first divergence.
 *
 * Per step: feed the event to the target (inject / call / advance) and to the model,
 * drain what the target emitted until it is quiet, read its state where it can, and let
 * the oracle judge. A divergence is a result (in sfh_result), not an error; errors are
 * for a broken target or harness (return -1, reason in res->err).
 */
#ifndef SYNFIN_RUNNER_H
#define SYNFIN_RUNNER_H

#include <stddef.h>
#include <stdint.h>

#include "crash.h"
#include "oracle.h"
#include "scenario.h"
#include "target.h"
#include "wire.h"

/* One observed transition, handed to the coverage callback after each judged step. */
struct sfh_cover {
	enum sfo_state before, after; /* model state before; target state after (or model's) */
	enum sfo_evclass evclass;
	uint32_t resp_mask;           /* bit per enum sfo_resp the target emitted */
	const sfo_rule_t *rules;      /* rules the model fired for this step */
	uint32_t nrules;
	enum sfo_div_kind kind;
};

/* Where a run is: updated before each step, so that if the stack crashes mid-step the
 * step can still be named (see sfh_run_isolated, which keeps it in shared memory). */
struct sfh_progress {
	int event;             /* scenario event index, -1 for the role's OPEN */
	uint32_t line;
	enum sfo_state before; /* the model's state before the step */
	enum sfo_evclass evclass;
};

/* One judged step, handed to the step callback (export to other tools: harness/packetdrill/).
 * Every pointer is valid only during the call. */
struct sfh_step {
	int event;                    /* scenario event index, -1 for the role's OPEN */
	uint32_t line;
	const struct sfo_event *ev;   /* what the model was fed: a segment with absolute
	                               * numbers, a call with the octets the stack took, a wait
	                               * with the time the stack's timers saw */
	int refused;                  /* a call the stack's API refused: the model saw a wait 0 */
	uint32_t wait_ms;             /* a wait: the time the scenario asked for */
	const struct sfo_tcb *before; /* the model's TCB before the step */
	const struct sfo_expect *expect; /* every acceptable outcome; out[0] the reference */
	const struct sfo_seg *segs;   /* what the target emitted in the step */
	size_t nsegs;
	enum sfo_state observed;      /* the target's state after it (UNKNOWN if it cannot say) */
	const struct sfo_verdict *v;  /* the step's verdict */
	int which;                    /* the outcome that fits (-1: divergence) */
	uint32_t pisn;                /* synfin's ISN for the run */
	/* a call: what it returned (enum sfo_err, SFO_ERR_OK with res_n octets; -1 when the
	 * target cannot say) and the results the model allowed (struct sfo_callres.allow) */
	int res_err;
	uint32_t res_n;
	uint32_t res_allow;
};

struct sfh_run_opts {
	const struct sfo_profile *profile; /* NULL: the default profile */
	struct sfh_pcap *pcap;             /* optional: every packet both ways */
	/* optional human trace, one line per call (no newline) */
	void (*trace)(void *ctx, const char *line);
	void *trace_ctx;
	/* optional coverage feed, once per judged step */
	void (*cover)(void *ctx, const struct sfh_cover *c);
	void *cover_ctx;
	uint32_t case_no; /* picks ports and ISNs; different cases never share a port pair */
	struct sfh_progress *progress; /* optional: kept current before each step */
	/* optional: every judged step, in order (after the coverage feed) */
	void (*step)(void *ctx, const struct sfh_step *st);
	void *step_ctx;
	/* 1: verdicts without detail text and results without signature text (sig_hash
	 * is still set): the same verdicts, for loops that only compare signatures */
	int brief;
};

enum { SFH_WND_NONE, SFH_WND_UNTAKEN, SFH_WND_SHRINK };

struct sfh_result {
	struct sfo_verdict verdict; /* kind OK if the whole scenario conformed */
	int div_event;              /* index of the diverging scenario event, -1 for the OPEN */
	uint32_t div_line;          /* its source line (0 if none) */
	uint32_t div_packet;	    /* 1-based pcap frame (0: none): the emitted segment that
				     * departs, else the incoming segment of the step (the
				     * one a missing response should have answered) */
	uint32_t steps;             /* steps judged */
	/* The earliest earlier step that took sequence space (text, SYN or FIN) in since the
	 * target last acknowledged exactly the model's RCV.NXT: where the two may have parted
	 * silently, the step a difference in acknowledgments stems from. since_event is 1 +
	 * its scenario event index, 0 if every such step was acknowledged. */
	int since_event;
	uint32_t since_line;
	sfo_rule_t since_rule; /* the rule the model applied to it */
	/* That step's sequence space was one the model drops: the target may well have
	 * taken it (lwIP takes text without the ACK bit, and text acknowledging unsent data
	 * after it answered), so any later sign of another RCV.NXT points there. */
	int since_silent;
	/* The divergent step was a segment that the model's reference outcome leaves without
	 * effect (state, RCV.NXT, SND.UNA, SND.WND as they were): dropped, or a duplicate. */
	int noop;
	/* The latest step (the divergent one included) after which the target's send window
	 * may differ from the model's: an ACK-bearing segment whose window the model did not
	 * take (SND.WL1/SND.WL2, or dropped: a stack that takes it anyway may also keep its
	 * newer WL1/WL2 and ignore later updates), or one whose window it took that moved the
	 * right edge left (a stack may keep the larger one). Kept only when the divergent
	 * step sends data beyond the model's window, which is then grouped by wnd_how.
	 * wnd_event is 1 + its scenario event index, 0 if none. */
	int wnd_event;
	uint32_t wnd_line;
	sfo_rule_t wnd_rule;
	int wnd_how; /* SFH_WND_* */
	/* The latest segment whose ACK of new data (in SND.UNA+1..SND.NXT) the model did not
	 * take (the segment dropped) and no later step took: a stack that takes it anyway
	 * neither retransmits that data nor waits for its ACK. 0 if none. */
	int una_event;
	uint32_t una_line;
	sfo_rule_t una_rule;
	int assert_failed;          /* an `out`/`expect state` assertion failed (see verdict) */
	char signature[160];	    /* "target/STATE/evclass/rule/kind", for a crash with a
				     * known site "target/crash/SITE/WHAT" (sfh_result_sign) */
	uint64_t sig_hash;          /* FNV-1a of signature */
	char err[256];              /* harness error text when sfh_run returns -1 */
	struct sfh_crash crash;	    /* kind CRASH: its assertion and frames, as far as known */
	/* sfh_run returned -1 because the target cannot run this scenario (a `timers`
	 * setting, timing on `out`): err says "not supported by target NAME: ...". Batch
	 * runs skip such a case with that reason instead of failing it. */
	int unsupported;
	int results_unchecked;	    /* the scenario asserts call results (`=>`) that the target
				     * cannot report (no SFH_CAP_CALLRES): left unchecked */
};

struct sfh_runner;
struct sfh_runner *sfh_runner_new(char *err, size_t errlen);
void sfh_runner_free(struct sfh_runner *r);

/* Run s on t. Returns 0 when the run completed (conformant or not: see res->verdict),
 * -1 when the target or harness failed (res->err says why). */
int sfh_run(struct sfh_runner *r, struct sfh_target *t, const struct sfh_scenario *s,
	    const struct sfh_run_opts *o, struct sfh_result *res);

/* Can t run s? 0, or -1 with "not supported by target NAME: what" in err: IPv6 on a
 * target without it, a `timers` setting the target cannot honour, timing on `out`
 * without emission times, a scenario naming a listener or connections on a target
 * without SFH_CAP_LISTENER, or a second connection without SFH_CAP_CONNS. sfh_run checks
 * it first (returns -1 with that reason, sfh_result.unsupported set). */
int sfh_run_supported(const struct sfh_target *t, const struct sfh_scenario *s, char *err,
		      size_t errlen);
/* Drop from s what t cannot do (timer settings, timing on `out`): for fuzz inputs. */
void sfh_scn_fit_target(struct sfh_scenario *s, const struct sfh_target *t);

/* FNV-1a, the hash of signatures and of fuzz inputs: h continued over n bytes at p
 * (start from SFH_FNV1A_INIT). */
#define SFH_FNV1A_INIT 1469598103934665603ull
static inline uint64_t sfh_fnv1a(uint64_t h, const void *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		h = (h ^ ((const uint8_t *)p)[i]) * 1099511628211ull;
	return h;
}

/* Signature of a divergence for deduplication: target, state before, event class,
 * rule id, kind. Written to buf; returns its FNV-1a hash. */
uint64_t sfh_signature(const char *target, const struct sfo_verdict *v, char *buf, size_t cap);

#endif
