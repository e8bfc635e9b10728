/* Transition coverage: what synfin observes, fed to libFuzzer as extra counters.
 *
 * The distribution's stacks carry no compiler instrumentation, so libFuzzer learns what
 * is new from synfin's own observations, once per judged step:
 *   - the exact (state before, event class, state after) transition;
 *   - the hashed (state before, event class, state after, responses, verdict kind)
 *     tuple: the same transition answered with a RST instead of an ACK is new;
 *   - every model rule that fired (the rule ids name the branches of the specification).
 * Each counter only says "seen" (1). Every distinct (counter, hit-count bucket) is a
 * libFuzzer feature, and measured on lwip (20 s campaigns, two seeds each), hit counts
 * and a (previous, current) transition-pair region grew the corpus four-fold, halved
 * the executions and found fewer distinct divergence signatures (~215-350 against ~380
 * for presence-only transitions + tuples + rules): more features mostly meant more
 * corpus churn and entropic bookkeeping, not more behaviour.
 *
 * The same observations, as "seen at least once" bitmaps, go to the campaign statistics
 * shared by every worker process, for the progress line.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz_priv.h"

#define NST	 (SFO_NSTATES + 1) /* states plus "unknown" */
#define N_TRIPLE (NST * SFO_NEVCLASSES * NST)
#define N_TUPLE	 4096
#define N_RULE	 256

/* The counters libFuzzer reads: it clears and scans every octet of them around every
 * input, so they are sized to what lights, not to what can be numbered. Of the N_TRIPLE
 * transitions a campaign lights a few hundred (330-340 on lwIP): they are hashed into
 * C_NTRIPLE counters; a transition that shares one with another still lights its own
 * tuple, which names the transition too. The statistics keep exact bitmaps. */
#ifndef SFF_C_NTRIPLE
#define SFF_C_NTRIPLE 1024
#endif
#ifndef SFF_C_NTUPLE
#define SFF_C_NTUPLE N_TUPLE
#endif

/* libFuzzer reads (and clears before every input) this section. The layout is fixed:
 * [triples | tuples | rules]. */
__attribute__((section("__libfuzzer_extra_counters"), used,
	       aligned(64))) static uint8_t sff_counters[SFF_C_NTRIPLE + SFF_C_NTUPLE + N_RULE];

#define C_TRIPLE (sff_counters)
#define C_TUPLE	 (sff_counters + SFF_C_NTRIPLE)
#define C_RULE	 (sff_counters + SFF_C_NTRIPLE + SFF_C_NTUPLE)

#define STATS_MAGIC 0x73796e66696e5354ull /* "synfinST" */

struct sff_stats {
	uint64_t magic;
	uint64_t size;
	_Atomic uint64_t execs, findings, errors, dups;
	_Atomic uint64_t states;
	_Atomic uint64_t triples[(N_TRIPLE + 63) / 64];
	_Atomic uint64_t tuples[N_TUPLE / 64];
	_Atomic uint64_t rules[N_RULE / 64];
	/* A write that failed (a full disk): the first reason, written once under the flag. */
	_Atomic int failing, failed;
	char fail_reason[512];
};

struct sff_stats *sff_stats_open(const char *path, int create, char *err, size_t errlen)
{
	size_t size = sizeof(struct sff_stats);
	void *mem;
	if (!path) {
		mem = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	} else {
		int fd = open(path, O_RDWR | O_CLOEXEC | (create ? O_CREAT : 0), 0600);
		if (fd < 0) {
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
			return NULL;
		}
		if (create && ftruncate(fd, (off_t)size) != 0) {
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
			close(fd);
			return NULL;
		}
		struct stat sb;
		if (fstat(fd, &sb) != 0 || (size_t)sb.st_size < size) {
			snprintf(err, errlen, "%s: not a synfin statistics file", path);
			close(fd);
			return NULL;
		}
		mem = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		close(fd);
	}
	if (mem == MAP_FAILED) {
		snprintf(err, errlen, "mmap: %s", strerror(errno));
		return NULL;
	}
	struct sff_stats *st = mem;
	if (create || !path) {
		st->magic = STATS_MAGIC;
		st->size = size;
	} else if (st->magic != STATS_MAGIC || st->size != size) {
		snprintf(err, errlen, "%s: not a synfin statistics file", path);
		munmap(mem, size);
		return NULL;
	}
	return st;
}

void sff_stats_close(struct sff_stats *st)
{
	if (st)
		munmap(st, sizeof *st);
}

static uint32_t popcount_words(const _Atomic uint64_t *w, size_t n)
{
	uint32_t c = 0;
	for (size_t i = 0; i < n; i++)
		c += (uint32_t)__builtin_popcountll(
		    atomic_load_explicit(&w[i], memory_order_relaxed));
	return c;
}

void sff_stats_read(const struct sff_stats *st, struct sff_stats_view *v)
{
	memset(v, 0, sizeof *v);
	if (!st)
		return;
	v->execs = atomic_load(&st->execs);
	v->findings = atomic_load(&st->findings);
	v->errors = atomic_load(&st->errors);
	v->dups = atomic_load(&st->dups);
	v->states = (uint32_t)__builtin_popcountll(atomic_load(&st->states));
	v->transitions = popcount_words(st->triples, sizeof st->triples / sizeof st->triples[0]);
	v->tuples = popcount_words(st->tuples, sizeof st->tuples / sizeof st->tuples[0]);
	v->rules = popcount_words(st->rules, sizeof st->rules / sizeof st->rules[0]);
}

void sff_stats_add(struct sff_stats *st, uint64_t execs, uint64_t findings, uint64_t errors,
		   uint64_t dups)
{
	if (!st)
		return;
	if (execs)
		atomic_fetch_add_explicit(&st->execs, execs, memory_order_relaxed);
	if (findings)
		atomic_fetch_add(&st->findings, findings);
	if (errors)
		atomic_fetch_add(&st->errors, errors);
	if (dups)
		atomic_fetch_add(&st->dups, dups);
}

void sff_stats_fail(struct sff_stats *st, const char *reason)
{
	int expect = 0;
	if (!st || !atomic_compare_exchange_strong(&st->failing, &expect, 1))
		return; /* the first reason is the one reported */
	snprintf(st->fail_reason, sizeof st->fail_reason, "%s", reason);
	atomic_store(&st->failed, 1);
}

int sff_stats_failed(const struct sff_stats *st, char *reason, size_t cap)
{
	if (!st || !atomic_load(&st->failed))
		return 0;
	snprintf(reason, cap, "%s", st->fail_reason);
	return 1;
}

/* ---- per-process coverage ---- */

struct sff_cover {
	struct sff_stats *st;
	/* Local "already published" bitmaps: the shared ones are touched once per bit. */
	uint8_t seen_triple[N_TRIPLE];
	uint8_t seen_tuple[N_TUPLE];
	uint8_t seen_rule[N_RULE];
	uint32_t seen_states;
};

struct sff_cover *sff_cover_new(struct sff_stats *st)
{
	struct sff_cover *c = calloc(1, sizeof *c);
	if (c)
		c->st = st;
	return c;
}

void sff_cover_free(struct sff_cover *c)
{
	free(c);
}

static inline uint32_t mix(uint32_t h, uint32_t v)
{
	h ^= v + 0x9e3779b9u + (h << 6) + (h >> 2);
	return h;
}

static void publish(_Atomic uint64_t *words, uint8_t *seen, uint32_t i)
{
	if (seen[i])
		return;
	seen[i] = 1;
	atomic_fetch_or_explicit(&words[i / 64], 1ull << (i % 64), memory_order_relaxed);
}

void sff_cover_step(void *ctx, const struct sfh_cover *cv)
{
	struct sff_cover *c = ctx;
	uint32_t before = (uint32_t)cv->before < NST ? (uint32_t)cv->before : NST - 1;
	uint32_t after = (uint32_t)cv->after < NST ? (uint32_t)cv->after : NST - 1;
	uint32_t ec = (uint32_t)cv->evclass < SFO_NEVCLASSES ? (uint32_t)cv->evclass : 0;
	uint32_t triple = (before * SFO_NEVCLASSES + ec) * NST + after;
	uint32_t tuple = mix(mix(triple, cv->resp_mask), (uint32_t)cv->kind) % N_TUPLE;

	C_TRIPLE[((triple * 0x9e3779b1u) >> 16) % SFF_C_NTRIPLE] = 1;
	C_TUPLE[tuple % SFF_C_NTUPLE] = 1;
	for (uint32_t i = 0; i < cv->nrules; i++)
		C_RULE[cv->rules[i] % N_RULE] = 1;

	if (!c->st)
		return;
	if (after < SFO_NSTATES && !(c->seen_states & (1u << after))) {
		c->seen_states |= 1u << after;
		atomic_fetch_or(&c->st->states, 1ull << after);
	}
	publish(c->st->triples, c->seen_triple, triple);
	publish(c->st->tuples, c->seen_tuple, tuple);
	for (uint32_t i = 0; i < cv->nrules; i++)
		publish(c->st->rules, c->seen_rule, cv->rules[i] % N_RULE);
}
