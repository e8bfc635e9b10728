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
	int assert_failed;          /* an `out`/`expect state` assertion failed (see verdict) */
	char signature[160];	    /* "target/STATE/evclass/rule/kind", for a crash with a
				     * known site "target/crash/SITE/WHAT" (sfh_result_sign) */
	uint64_t sig_hash;          /* FNV-1a of signature */
	char err[256];              /* harness error text when sfh_run returns -1 */
	struct sfh_crash crash;	    /* kind CRASH: its assertion and frames, as far as known */
};

struct sfh_runner;
struct sfh_runner *sfh_runner_new(char *err, size_t errlen);
void sfh_runner_free(struct sfh_runner *r);

/* Can a target with these ops run s? 1 yes; 0 with "not supported by target X: what" in
 * why (a scenario naming a listener or connections on a target without SFH_CAP_LISTENER,
 * a second connection without SFH_CAP_CONNS). sfh_run refuses such a scenario (-1 with
 * that reason); a corpus replay skips it. */
int sfh_run_supported(const struct sfh_target_ops *ops, const struct sfh_scenario *s, char *why,
		      size_t cap);

/* Run s on t. Returns 0 when the run completed (conformant or not: see res->verdict),
 * -1 when the target or harness failed (res->err says why). */
int sfh_run(struct sfh_runner *r, struct sfh_target *t, const struct sfh_scenario *s,
	    const struct sfh_run_opts *o, struct sfh_result *res);

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
