/* libFuzzer entry for the control protocol's decoder (harness/targets/exec/proto.h): any
 * octets a shim could write are decoded frame by frame as synfin does, and every frame the
 * decoder accepts must encode back to the very same octets (the codec is a bijection on
 * valid frames), so a field the decoder reads out of bounds or misreads shows as a
 * sanitizer report or a mismatch. No stack, no harness: runs at millions of inputs/s.
 *
 * An entry point: it may abort. */
#include <stdlib.h>
#include <string.h>

#include "proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint8_t again[SFX_MAX_FRAME];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t off = 0;
	while (off < size) {
		struct sfx_msg m;
		struct sfx_err e;
		size_t used;
		int k = sfx_decode(data + off, size - off, &m, &used, &e);
		if (k < 0) {
			/* garbage: the offset must lie inside what was given */
			if (e.offset >= size - off || !e.what[0])
				abort();
			break;
		}
		if (k == 0) {
			if (used <= size - off || used > SFX_MAX_FRAME)
				abort();
			break;
		}
		if (used > size - off || sfx_type_name(m.type) == NULL)
			abort();
		size_t n = sfx_encode(&m, again, sizeof again);
		if (n != used || memcmp(again, data + off, n) != 0)
			abort();
		off += used;
	}
	return 0;
}
