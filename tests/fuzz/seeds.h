/* The seed corpus in binary form, for fuzz tests: define NSEEDS (the most to load)
 * before including; load_seeds() fills seeds[], seed_len[] and nseeds from
 * corpus/seeds and checks that at least ten loaded. */
#ifndef SYNFIN_TESTS_FUZZ_SEEDS_H
#define SYNFIN_TESTS_FUZZ_SEEDS_H

#include "check.h"
#include "report.h"
#include "scenario.h"

static uint8_t seeds[NSEEDS][SFH_MAX_ENCODED];
static size_t seed_len[NSEEDS];
static size_t nseeds;

static void load_seeds(void)
{
	struct sfh_filelist fl = {0};
	char err[512], *dir[1] = {"corpus/seeds"};
	CHECK_EQ(sfh_collect_scenarios(1, dir, &fl, err, sizeof err), 0);
	for (size_t i = 0; i < fl.n && nseeds < NSEEDS; i++) {
		struct sfh_scenario s;
		if (sfh_scn_load(fl.paths[i], &s, err, sizeof err) != 0)
			continue;
		seed_len[nseeds] = sfh_scn_encode(&s, seeds[nseeds], sizeof seeds[0]);
		nseeds++;
	}
	sfh_filelist_free(&fl);
	CHECK(nseeds >= 10);
}

#endif
