/* The model target's seeded faults, for `synfin targets` and the end-to-end tests. */
#ifndef SYNFIN_TARGET_MODEL_H
#define SYNFIN_TARGET_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "oracle.h"

/* One seeded bug: apply() rewrites the reference outcome o of the step (t before,
 * event ev of class c) into what the buggy stack does. */
struct sfh_fault {
	const char *name;
	const char *title;
	void (*apply)(const struct sfo_tcb *t, const struct sfo_event *ev, enum sfo_evclass c,
		      struct sfo_outcome *o);
	uint8_t bad_csum_flags; /* emitted segments carrying any of these flags get a wrong
				 * TCP checksum (a wire-level fault; apply may be a no-op) */
};

size_t sfh_fault_count(void);
const struct sfh_fault *sfh_fault_at(size_t i);
const struct sfh_fault *sfh_fault_find(const char *name); /* NULL if unknown */

struct sfh_target;
/* model:pick=random: how many random picks the oracle's own judge refused since open()
 * (each fell back to the reference outcome). 0 for any other target. */
uint64_t sfh_model_rejected(const struct sfh_target *t);

#endif
