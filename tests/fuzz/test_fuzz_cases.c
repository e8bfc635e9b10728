/* `synfin run` and `replay` give the same verdicts whether an in-process stack's cases run
 * in the command's own process (fuzz/cases.c: recovery, a child only to confirm a crash
 * or hang) or each in a child of its own (--fork, sfh_run_isolated).
 *
 * 1. Scenario for scenario, every *.scn of corpus/seeds and corpus/regress, on lwip,
 *    slirp and the model: sff_cases_run as the command calls it, as the N-th case of one
 *    process, against sfh_run_isolated at case 0; the signature, kind, rule, detail,
 *    states, event, line and steps must match, and on lwip and slirp (with recovery built) no
 *    case but a crashing one may have forked, and only once per crash site: a second
 *    pass over the crashing cases, and the corpus's two scenarios stopping at one
 *    assertion, are judged in-process from the confirmed site; with confirm_each (what
 *    `run` sets to print frames) every crash is confirmed again, frames and all.
 * 2. Through the command: `replay -v` and `replay -v --fork` print byte-identical output
 *    (every trace line and verdict) with the same exit code, on each target, and so do
 *    `run -q` and `run -q --fork`. */
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

/* The crashing cases again, in the same process and in one that confirms each: the
 * first judges all of them in-process from the confirmed sites, the second forks for
 * each and gets the child's frames; the verdicts are the same either way. */
static void second_pass(struct sff_cases *cases, const struct sfh_filelist *fl, const size_t *idx,
			size_t n, const struct sfo_profile *prof)
{
	char err[512];
	struct sff_cases each;
	CHECK_EQ(sff_cases_open(&each, cases->runner, cases->target, 0), 0);
	each.confirm_each = 1;
	unsigned confirmed = cases->confirmed, trusted = cases->trusted;
	for (size_t k = 0; k < n; k++) {
		struct sfh_scenario s;
		struct sfh_result again, alone;
		if (sfh_scn_load(fl->paths[idx[k]], &s, err, sizeof err) != 0) {
			CHECK(0);
			continue;
		}
		struct sfh_run_opts o = {.profile = prof, .case_no = (uint32_t)(k + 1000)};
		CHECK_EQ(sff_cases_run(cases, &s, &o, &again), 0);
		CHECK_EQ(sff_cases_run(&each, &s, &o, &alone), 0);
		CHECK(same_verdict(&again, &alone));
		CHECK_EQ(again.crash.signo, alone.crash.signo);
		CHECK(again.crash.frames[0] == 0); /* judged in-process: no child, no frames */
		CHECK(alone.crash.frames[0] != 0);
	}
	CHECK_EQ(cases->confirmed, confirmed);
	CHECK_EQ(cases->trusted, trusted + n);
	CHECK_EQ(each.confirmed, n);
	CHECK_EQ(each.trusted, 0);
	sff_cases_close(&each);
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
	size_t differ = 0, crashes = 0, nsig = 0;
	static size_t crashed[64];
	static char sigs[64][160];
	for (size_t i = 0; r && i < fl.n; i++) {
		struct sfh_scenario s;
		struct sfh_result in, alone;
		if (sfh_scn_load(fl.paths[i], &s, err, sizeof err) != 0) {
			CHECK(0);
			continue;
		}
		if (sfh_run_supported(t, &s, err, sizeof err) != 0)
			continue; /* a `timers` line, IPv6 or several TCBs the target cannot run */
		struct sfh_run_opts o = {.profile = profile_of(t), .case_no = (uint32_t)(i + 7)};
		struct sfh_run_opts o0 = {.profile = profile_of(t), .case_no = 0};
		CHECK_EQ(sff_cases_run(&cases, &s, &o, &in), 0);
		CHECK_EQ(sfh_run_isolated(r, t, &s, &o0, 60, &alone), 0);
		if (alone.verdict.kind == SFO_DIV_CRASH || alone.verdict.kind == SFO_DIV_HANG) {
			size_t k = 0;
			while (k < nsig && strcmp(sigs[k], alone.signature) != 0)
				k++;
			if (k == nsig && nsig < 64)
				snprintf(sigs[nsig++], sizeof sigs[0], "%s", alone.signature);
			if (crashes < 64)
				crashed[crashes] = i;
			crashes++;
		}
		if (!same_verdict(&in, &alone)) {
			differ++;
			fprintf(stderr, "%s: %s: in-process %s (%s), alone %s (%s)\n", target,
				fl.paths[i], in.signature, in.verdict.detail, alone.signature,
				alone.verdict.detail);
		}
	}
	CHECK_EQ(differ, 0);
	if (inproc && (t->ops->caps & SFH_CAP_INPROC)) {
		/* a child for each crash site, none for the rest */
		CHECK_EQ(cases.confirmed, nsig);
		CHECK_EQ(cases.confirmed + cases.trusted, crashes);
		second_pass(&cases, &fl, crashed, crashes < 64 ? crashes : 64, profile_of(t));
	}
	if (strcmp(target, "lwip") == 0) {
		/* the corpus pins lwIP's assertions: the confirm path ran */
		CHECK(crashes > 0);
		CHECK(nsig < crashes); /* two scenarios stop at one assertion: one is trusted */
	}
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

/* The corpus's regressions twice over, so that the second time every crash is judged
 * in-process from its confirmed site (lwip); --fork runs each case in a child. */
static void compare_command(const char *bin, const char *target)
{
	static const char *const cmds[] = {
	    "%s replay -v %s corpus/seeds corpus/regress corpus/regress --target %s",
	    "%s run -q %s corpus/regress/*.scn corpus/regress/*.scn --target %s"};
	for (int k = 0; k < 2; k++) {
		int rc1 = sh(out1, sizeof out1, cmds[k], bin, "", target);
		int rc2 = sh(out2, sizeof out2, cmds[k], bin, "--fork", target);
		CHECK_EQ(rc1, rc2);
		CHECK(strlen(out1) > 1000 && strlen(out1) < sizeof out1 - 1);
		CHECK(strstr(out1, k == 0 ? " passed, " : ": conformant") != NULL);
		if (strcmp(out1, out2) != 0) {
			CHECK(0);
			fprintf(stderr, "%s: %s and its --fork print different output\n", target,
				k == 0 ? "replay" : "run");
		}
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
