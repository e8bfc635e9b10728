/* ISN predictability: the initial sequence numbers a target chooses across many
 * connections, and whether they are predictable (RFC 9293 3.4.1, MUST-8 and SHLD-1;
 * RFC 6528, which RFC 9293 incorporates).
 *
 * The model judges one connection at a time and cannot see this: an ISN is only wrong
 * against the ISNs of other connections. sfh_isn_probe() opens connections on one target
 * instance (SYN in, SYN-ACK out, RST in, so only the listener is left), several on each
 * 4-tuple and on several 4-tuples; sfh_isn_analyze() is pure and judges the numbers. */
#ifndef SYNFIN_ISN_H
#define SYNFIN_ISN_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "oracle.h"
#include "target.h"

/* Connections per 4-tuple in a probe: a first one, one straight after it, one after a
 * long wait. The pairs (back to back, long wait) are what the clock test compares. */
#define SFH_ISN_PER_TUPLE 3
#define SFH_ISN_MAX_OBS	  96
#define SFH_ISN_LONG_MS	  2000u

/* One connection's ISN, as the target put it in its SYN-ACK. */
struct sfh_isn_obs {
	uint32_t isn;
	uint16_t tuple; /* which 4-tuple (0, 1, ...) in probe order */
	uint16_t peer_port, target_port;
	uint32_t wait_ms; /* time let pass on this tuple since its previous connection */
	uint64_t t_ms;	  /* since the probe began (virtual time where the target has it) */
};

/* What the ISNs show. rule is ISN_CLOCK when MUST-8 is broken (it wins), else
 * ISN_PREDICTABLE when SHLD-1 is, else ok = 1. Both findings are kept. */
struct sfh_isn_verdict {
	int ok;
	int no_clock;	 /* MUST-8: constant, or fixed steps whatever the time between */
	int predictable; /* SHLD-1: a new 4-tuple continues the previous tuple's numbers */
	sfo_rule_t rule;
	enum sfo_severity sev;
	char detail[240];
};

/* How far apart (mod 2^32) two ISNs of different 4-tuples may be and still count as one
 * sequence: with a secret per-tuple F, a uniform 32-bit offset lands this close with
 * probability 2^-7 per tuple change, and the verdict needs every change (>= 2) to. */
#define SFH_ISN_NEAR (1u << 24)

/* Judge n observations in probe order (tuple by tuple, SFH_ISN_PER_TUPLE each, the last
 * after a wait of SFH_ISN_LONG_MS or more). Returns 0, or -1 if they are too few to judge
 * (fewer than two complete tuples). Pure. */
int sfh_isn_analyze(const struct sfh_isn_obs *o, size_t n, struct sfh_isn_verdict *v);

/* Probe t: ntuples 4-tuples (>= 2), SFH_ISN_PER_TUPLE passive connections each, cases
 * numbered from case_base. Fills o[0..*n). On a target without virtual time the long
 * wait is slept for real. Returns 0, or -1 with the reason in err (the target broke, or
 * it answered a SYN without a SYN-ACK). */
int sfh_isn_probe(struct sfh_target *t, unsigned ntuples, uint32_t case_base, struct sfh_isn_obs *o,
		  size_t *n, char *err, size_t errlen);

/* The evidence: one line per connection (ISN, its difference to the one before on the
 * same tuple and to the previous connection at all), written to f. */
void sfh_isn_print(FILE *f, const struct sfh_isn_obs *o, size_t n);

/* The verdict as a finding's report.json (the keys `synfin triage` reads), to f. */
void sfh_isn_json(FILE *f, const char *target_spec, const char *version,
		  const struct sfh_isn_obs *o, size_t n, const struct sfh_isn_verdict *v,
		  const char *signature, uint64_t sig_hash);

/* The verdict as a finding records a divergence: in LISTEN, on a SYN, the rule iv names,
 * kind wrong-field (the ISN is a field of the SYN-ACK). */
void sfh_isn_to_verdict(const struct sfh_isn_verdict *iv, struct sfo_verdict *v);

/* A finding directory for `synfin triage`: DIR/HASH/report.json and report.txt, HASH
 * that of the signature "SPEC/LISTEN/syn/RULE/wrong-field". Creates DIR if missing.
 * Returns 0, or -1 with errno set. */
int sfh_isn_write_finding(const char *dir, const char *spec, const char *version,
			  const struct sfh_isn_obs *o, size_t n, const struct sfh_isn_verdict *iv);

/* The target spec whose ISNs are the stack's own: "lwip" numbers ISNs itself for
 * reproducible cases (target_lwip_sys.c), "lwip:iss=own" hands them back to lwIP.
 * Returns spec itself for every other target. */
const char *sfh_isn_target_spec(const char *spec);

#endif
