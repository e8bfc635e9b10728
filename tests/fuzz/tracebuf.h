/* A growing text buffer that collects a run's trace lines: the fuzz tests compare traces
 * of the same scenario run in different ways. */
#ifndef SYNFIN_TESTS_TRACEBUF_H
#define SYNFIN_TESTS_TRACEBUF_H

#include <stdlib.h>
#include <string.h>

struct buf {
	char *p;
	size_t n, cap;
};

/* A trace callback (sfh_run_opts.trace): appends line and a newline to the buf ctx. */
static inline void to_buf(void *ctx, const char *line)
{
	struct buf *b = ctx;
	size_t k = strlen(line);
	if (b->n + k + 2 > b->cap) {
		b->cap = (b->n + k + 2) * 2;
		b->p = realloc(b->p, b->cap);
		if (!b->p)
			abort();
	}
	memcpy(b->p + b->n, line, k);
	b->n += k;
	b->p[b->n++] = '\n';
	b->p[b->n] = 0;
}

#endif
