/* The structure-aware mutator and crossover (fuzz/mutate.c), in-process: deterministic
 * for a seed, never past MaxSize, every output decodes to a valid scenario that encodes
 * back to itself, every operator keeps a scenario valid, and assertions never survive. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "fuzz_priv.h"

#define NSEEDS 26
#define GUARD  64

#include "seeds.h"

/* Decoding is total; what we check is that the output is a *canonical* valid scenario:
 * re-encoding its decoding and decoding again gives the same scenario. */
static int valid(const uint8_t *data, size_t len)
{
	struct sfh_scenario a, b;
	uint8_t buf[SFH_MAX_ENCODED];
	sfh_scn_decode(data, len, &a);
	if (a.nev > SFH_MAX_EVENTS)
		return 0;
	size_t n = sfh_scn_encode(&a, buf, sizeof buf);
	if (n > sizeof buf)
		return 0;
	sfh_scn_decode(buf, n, &b);
	return sfh_scn_equal(&a, &b);
}

static void mutate_same_seed_same_output(void)
{
	uint8_t a[SFH_MAX_ENCODED], b[SFH_MAX_ENCODED];
	int differs = 0;
	for (size_t i = 0; i < nseeds; i++) {
		for (unsigned seed = 0; seed < 200; seed++) {
			memcpy(a, seeds[i], seed_len[i]);
			memcpy(b, seeds[i], seed_len[i]);
			size_t na = sff_mutate(a, seed_len[i], sizeof a, seed, NULL);
			size_t nb = sff_mutate(b, seed_len[i], sizeof b, seed, NULL);
			CHECK_EQ(na, nb);
			CHECK(na == nb && memcmp(a, b, na) == 0);
			differs += na != seed_len[i] || memcmp(a, seeds[i], na) != 0;
		}
	}
	/* And it does mutate: nearly every call changes something. */
	CHECK(differs > (int)(nseeds * 200) * 9 / 10);
}

static void mutate_never_exceeds_max_size_and_always_decodes(void)
{
	static const size_t maxes[] = {1, 2, 3, 5, 8, 13, 40, 100, 500, SFH_MAX_ENCODED};
	uint8_t buf[SFH_MAX_ENCODED + GUARD];
	uint64_t x = 0x1234;
	for (size_t m = 0; m < sizeof maxes / sizeof maxes[0]; m++) {
		size_t max = maxes[m];
		for (unsigned seed = 0; seed < 3000; seed++) {
			size_t n;
			/* Start from a seed (cut to max) or from random bytes. */
			if (seed % 3) {
				size_t i = seed % nseeds;
				n = seed_len[i] < max ? seed_len[i] : max;
				memcpy(buf, seeds[i], n);
			} else {
				n = 1 + seed % max;
				for (size_t k = 0; k < n; k++) {
					x = x * 6364136223846793005ull + 1442695040888963407ull;
					buf[k] = (uint8_t)(x >> 56);
				}
			}
			memset(buf + max, 0xa5, GUARD);
			size_t got = sff_mutate(buf, n, max, seed, NULL);
			CHECK(got <= max);
			CHECK(got >= 1);
			int intact = 1;
			for (size_t k = 0; k < GUARD; k++)
				intact &= buf[max + k] == 0xa5;
			CHECK(intact);
			CHECK(valid(buf, got));
		}
	}
	CHECK_EQ(sff_mutate(buf, 0, 0, 1, NULL), 0);
}

static void crossover_deterministic_bounded_and_valid(void)
{
	uint8_t a[SFH_MAX_ENCODED + GUARD], b[SFH_MAX_ENCODED];
	for (unsigned seed = 0; seed < 2000; seed++) {
		size_t i = seed % nseeds, j = (seed * 7 + 3) % nseeds;
		size_t max = 1 + seed % SFH_MAX_ENCODED;
		memset(a + max, 0x5a, GUARD);
		size_t na =
		    sff_crossover(seeds[i], seed_len[i], seeds[j], seed_len[j], a, max, seed);
		size_t nb =
		    sff_crossover(seeds[i], seed_len[i], seeds[j], seed_len[j], b, max, seed);
		CHECK(na <= max);
		CHECK(na == nb && memcmp(a, b, na) == 0);
		CHECK(a[max] == 0x5a && a[max + GUARD - 1] == 0x5a);
		CHECK(valid(a, na));
	}
}

static void every_operator_keeps_scenarios_valid(void)
{
	size_t nops = sff_mut_op_count();
	CHECK(nops >= 15);
	for (size_t op = 0; op < nops; op++) {
		int applied = 0;
		CHECK(sff_mut_op_name(op) != NULL);
		for (size_t i = 0; i < nseeds; i++) {
			for (uint64_t seed = 0; seed < 50; seed++) {
				struct sfh_scenario s, back;
				uint8_t buf[SFH_MAX_ENCODED];
				sfh_scn_decode(seeds[i], seed_len[i], &s);
				sff_scn_strip(&s);
				if (sff_mut_apply(op, &s, seed) == 0)
					applied++;
				CHECK(s.nev <= SFH_MAX_EVENTS);
				/* A valid scenario round-trips through the binary form exactly. */
				size_t n = sfh_scn_encode(&s, buf, sizeof buf);
				CHECK(n <= sizeof buf);
				sfh_scn_decode(buf, n, &back);
				if (!sfh_scn_equal(&s, &back))
					fprintf(stderr, "operator %s broke seed %zu (seed %llu)\n",
						sff_mut_op_name(op), i, (unsigned long long)seed);
				CHECK(sfh_scn_equal(&s, &back));
			}
		}
		if (!applied)
			fprintf(stderr, "operator %s never applied\n", sff_mut_op_name(op));
		CHECK(applied > 0);
	}
	CHECK(sff_mut_op_name(nops) == NULL);
}

/* The options operator writes timestamps that echo the target's clock (ttsv) and move ours
 * on (ptsv) as well as literal edge values, and they survive the binary form. */
static void options_operator_writes_ts_anchors(void)
{
	size_t op = 0;
	int echo = 0, ours = 0, literal = 0;
	while (sff_mut_op_name(op) && strcmp(sff_mut_op_name(op), "options") != 0)
		op++;
	CHECK(sff_mut_op_name(op) != NULL);
	for (uint64_t seed = 0; seed < 400; seed++) {
		struct sfh_scenario s, back;
		uint8_t buf[SFH_MAX_ENCODED];
		sfh_scn_decode(seeds[seed % nseeds], seed_len[seed % nseeds], &s);
		sff_scn_strip(&s);
		if (sff_mut_apply(op, &s, seed) != 0)
			continue;
		sfh_scn_decode(buf, sfh_scn_encode(&s, buf, sizeof buf), &back);
		for (uint32_t k = 0; k < back.nev; k++) {
			const struct sfh_in *in = &back.ev[k].u.in;
			if (back.ev[k].type != SFH_EV_IN || !(in->opts & SFO_OPT_TS))
				continue;
			echo += in->tsecr_a == SFH_TS_TTSV;
			ours += in->tsval_a == SFH_TS_PTSV;
			literal += in->tsval_a == SFH_TS_ABS;
		}
	}
	CHECK(echo > 0);
	CHECK(ours > 0);
	CHECK(literal > 0);
}

static void mutated_output_carries_no_assertions(void)
{
	uint8_t buf[SFH_MAX_ENCODED];
	int with_asserts = 0;
	for (unsigned seed = 0; seed < 2000; seed++) {
		size_t i = seed % nseeds;
		memcpy(buf, seeds[i], seed_len[i]);
		size_t n = sff_mutate(buf, seed_len[i], sizeof buf, seed, NULL);
		struct sfh_scenario s;
		sfh_scn_decode(buf, n, &s);
		int asserts = 0;
		for (uint32_t k = 0; k < s.nev; k++)
			asserts +=
			    s.ev[k].type == SFH_EV_OUT || s.ev[k].type == SFH_EV_EXPECT_STATE;
		with_asserts += asserts > 0;
	}
	/* The structured path drops them; only the byte-level fallback (1 call in 10) leaves
	 * the seeds' own assertions in place. */
	CHECK(with_asserts <= 2000 * 15 / 100);
	/* The seeds do carry assertions, and strip drops exactly those. */
	struct sfh_scenario s;
	char err[256];
	CHECK_EQ(sfh_scn_load("corpus/seeds/05-active-close-four-way.scn", &s, err, sizeof err), 0);
	uint32_t before = s.nev, asserts = 0;
	for (uint32_t k = 0; k < s.nev; k++)
		asserts += s.ev[k].type == SFH_EV_OUT || s.ev[k].type == SFH_EV_EXPECT_STATE;
	CHECK(asserts > 0);
	sff_scn_strip(&s);
	CHECK_EQ(s.nev, before - asserts);
}

int main(void)
{
	load_seeds();
	mutate_same_seed_same_output();
	mutate_never_exceeds_max_size_and_always_decodes();
	crossover_deterministic_bounded_and_valid();
	every_operator_keeps_scenarios_valid();
	options_operator_writes_ts_anchors();
	mutated_output_carries_no_assertions();
	return check_done();
}
