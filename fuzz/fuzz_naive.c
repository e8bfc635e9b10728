/* The benchmark's baseline: a naive libFuzzer harness over the same target adapter.
 * Raw segments into the stack, no scenario, no model, no oracle, no coverage feed: every
 * input becomes NSEGS segments (12 bytes each: flags, absolute seq and ack, window,
 * payload length; the input is read cyclically, so short inputs still make NSEGS), built
 * by the same wire code and injected into a passive-open case, draining what the stack
 * emits. Its rate is what synfin's rate is measured against (bench/bench_fuzz.sh).
 * An entry point: it may print and exit. SYNFIN_NAIVE_TARGET picks the target (lwip). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_priv.h"

#define SEG_BYTES 12
#define NSEGS	  6 /* about what a synfin scenario plays before it stops */

static struct sfh_target *g_target;
static struct sfh_wire *g_wire;
static uint32_t g_case;
static struct sfh_pkt g_in, g_out[16];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char err[512];
	const char *spec = getenv("SYNFIN_NAIVE_TARGET");
	if (sfh_target_open(spec && *spec ? spec : "lwip", &g_target, err, sizeof err) != 0 ||
	    !(g_wire = sfh_wire_new(err, sizeof err))) {
		fprintf(stderr, "fuzz_naive: %s\n", err);
		exit(1);
	}
	return 0;
}

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sfh_endpoints ep;
	if (sfh_target_reset(g_target, SFH_ROLE_PASSIVE, g_case++, &ep) != 0 ||
	    sfh_target_call(g_target, SFO_CALL_LISTEN, 0) < 0)
		abort();
	for (size_t n = 0; n < NSEGS; n++) {
		uint8_t p[SEG_BYTES];
		for (size_t k = 0; k < SEG_BYTES; k++)
			p[k] = size ? data[(n * SEG_BYTES + k) % size] : 0;
		struct sfo_seg seg;
		memset(&seg, 0, sizeof seg);
		seg.flags = p[0];
		seg.seq = le32(p + 1);
		seg.ack = le32(p + 5);
		seg.wnd = (uint16_t)(p[9] | p[10] << 8);
		seg.len = p[11];
		int len = sfh_wire_build(g_wire, &ep, &seg, g_in.data, sizeof g_in.data);
		if (len < 0 || sfh_target_inject(g_target, g_in.data, (size_t)len) != 0)
			abort();
		while (sfh_target_drain(g_target, g_out, 16) == 16)
			;
	}
	return 0;
}
