/* `synfin run` and `replay` give the same verdicts whether an in-process stack's cases run
 * in the command's own process (fuzz/cases.c: recovery, a child only to confirm a crash
 * or hang) or each in a child of its own (--fork, sfh_run_isolated).
 *
 * 1. Scenario for scenario, every *.scn of corpus/seeds and corpus/regress, on lwip,
 *    slirp and the model: sff_cases_run as the command calls it, as the N-th case of one
 *    process, against sfh_run_isolated at case 0; the signature, kind, rule, detail,
 *    states, event, line and steps must match, and on lwip (with recovery built) no
 *    case but a crashing one may have forked.
 * 2. Through the command: `replay -v` and `replay -v --fork` print byte-identical output
 *    (every trace line and verdict) with the same exit code, on each target. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "fuzz.h"
#include "fuzz_priv.h"
#include "report.h"
#include "sh.h"

static char *dirs[] = {"corpus/seeds", "corpus/regress"};

static const struct sfo_profile *profile_of(const struct sfh_target *t)
{
	const struct sfo_profile *p = t->ops->profile ? sfo_profile_find(t->ops->profile) : NULL;
	return p ? p : sfo_profile_default();
}

static int same_verdict(const struct sfh_result *a, const struct sfh_result *b)
{
	return a->sig_hash == b->sig_hash && strcmp(a->signature, b->signature) == 0 &&
	       a->verdict.kind == b->verdict.kind && a->verdict.rule == b->verdict.rule &&
	       a->verdict.before == b->verdict.before &&
	       a->verdict.expected == b->verdict.expected &&
	       a->verdict.observed == b->verdict.observed &&
	       a->verdict.evclass == b->verdict.evclass &&
	       a->verdict.accepted == b->verdict.accepted &&
	       strcmp(a->verdict.detail, b->verdict.detail) == 0 && a->div_event == b->div_event &&
	       a->div_line == b->div_line && a->steps == b->steps &&
	       strcmp(a->crash.site, b->crash.site) == 0;
}

static void compare_paths(const char *target)
{
	char err[512];
	struct sfh_target *t = NULL;
	struct sfh_filelist fl = {0};
	if (sfh_target_open(target, &t, err, sizeof err) != 0) {
		printf("%s: not available (%s)\n", target, err);
		return;
	}
	struct sfh_runner *r = sfh_runner_new(err, sizeof err);
	CHECK(r != NULL);
	CHECK_EQ(sfh_collect_scenarios(2, dirs, &fl, err, sizeof err), 0);
	CHECK(fl.n >= 100);
	struct sff_cases cases;
	CHECK_EQ(sff_cases_open(&cases, r, t, 0), 0);
	int inproc = !cases.fork;
	if (strcmp(target, "lwip") == 0) /* only a sanitizer build has no recovery */
		CHECK(inproc || sff_recover_enable(t, err, sizeof err) != 0);
	size_t differ = 0, crashes = 0;
	for (size_t i = 0; r && i < fl.n; i++) {
		struct sfh_scenario s;
		struct sfh_result in, alone;
		if (sfh_scn_load(fl.paths[i], &s, err, sizeof err) != 0) {
			CHECK(0);
			continue;
		}
		if (!sfh_run_supported(t->ops, &s, err, sizeof err))
			continue; /* a scenario the target cannot run (its capabilities) */
		struct sfh_run_opts o = {.profile = profile_of(t), .case_no = (uint32_t)(i + 7)};
		struct sfh_run_opts o0 = {.profile = profile_of(t), .case_no = 0};
		CHECK_EQ(sff_cases_run(&cases, &s, &o, &in), 0);
		CHECK_EQ(sfh_run_isolated(r, t, &s, &o0, 60, &alone), 0);
		crashes +=
		    alone.verdict.kind == SFO_DIV_CRASH || alone.verdict.kind == SFO_DIV_HANG;
		if (!same_verdict(&in, &alone)) {
			differ++;
			fprintf(stderr, "%s: %s: in-process %s (%s), alone %s (%s)\n", target,
				fl.paths[i], in.signature, in.verdict.detail, alone.signature,
				alone.verdict.detail);
		}
	}
	CHECK_EQ(differ, 0);
	if (inproc && (t->ops->caps & SFH_CAP_INPROC))
		CHECK_EQ(cases.confirmed, crashes); /* a child for each crash, none for the rest */
	if (strcmp(target, "lwip") == 0)
		CHECK(crashes > 0); /* the corpus pins lwIP's assertions: the confirm path ran */
	printf("%s: %zu scenarios, %zu crashes, %s, %zu verdicts differ\n", target, fl.n, crashes,
	       cases.fork ? "a child per case"
	       : inproc	  ? "in-process"
			  : "outside",
	       differ);
	sff_cases_close(&cases);
	sfh_filelist_free(&fl);
	sfh_runner_free(r);
	sfh_target_close(t);
}

static char out1[1 << 20], out2[1 << 20];

static void compare_command(const char *bin, const char *target)
{
	int rc1 = sh(out1, sizeof out1, "%s replay -v corpus/seeds corpus/regress --target %s", bin,
		     target);
	int rc2 = sh(out2, sizeof out2,
		     "%s replay -v --fork corpus/seeds corpus/regress --target %s", bin, target);
	CHECK_EQ(rc1, rc2);
	CHECK(strlen(out1) > 1000 && strlen(out1) < sizeof out1 - 1);
	CHECK(strstr(out1, " passed, ") != NULL);
	if (strcmp(out1, out2) != 0) {
		CHECK(0);
		fprintf(stderr, "%s: replay and replay --fork print different output\n", target);
	}
}

int main(void)
{
	const char *bin = getenv("SYNFIN_BIN");
	compare_paths("lwip");
	compare_paths("slirp");
	compare_paths("model");
	if (!bin) {
		printf("SYNFIN_BIN not set: the command is not compared\n");
	} else {
		char out[4096];
		sh(out, sizeof out, "%s targets", bin);
		for (int i = 0; i < 3; i++) {
			static const char *const ts[] = {"lwip", "slirp", "model"};
			char want[64];
			snprintf(want, sizeof want, "\n%s ", ts[i]);
			if (strstr(out, want) || strncmp(out, want + 1, strlen(want) - 1) == 0)
				compare_command(bin, ts[i]);
		}
	}
	return check_done();
}
