/* Brief judging (sfh_run_opts.brief, SFO_CFG_BRIEF) is what `synfin fuzz` runs every
 * input with: no detail text, no signature text. It must change nothing else: over the
 * seeds and thousands of mutated scenarios, on the model (with and without seeded
 * faults) and on lwip, a brief run and a full run of the same case give the same return
 * code, verdict (kind, rule, severity, states, event class, accepted or not), diverging
 * event, steps and signature hash, and the full run's signature text hashes to it. A
 * brief verdict's detail is empty unless the runner's own checks wrote it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "fuzz_priv.h"

#define NSEEDS 64
#define NRUNS  4000

#include "seeds.h"

static const char *const targets[] = {"model", "model:fault=rst-out-of-window",
				      "model:fault=closewait-no-fin", "lwip"};

static void same(const struct sfh_result *a, const struct sfh_result *b, int ra, int rb)
{
	CHECK_EQ(ra, rb);
	CHECK_EQ(a->verdict.kind, b->verdict.kind);
	CHECK_EQ(a->verdict.rule, b->verdict.rule);
	CHECK_EQ(a->verdict.sev, b->verdict.sev);
	CHECK_EQ(a->verdict.before, b->verdict.before);
	CHECK_EQ(a->verdict.expected, b->verdict.expected);
	CHECK_EQ(a->verdict.observed, b->verdict.observed);
	CHECK_EQ(a->verdict.evclass, b->verdict.evclass);
	CHECK(a->verdict.accepted == b->verdict.accepted);
	CHECK_EQ(a->div_event, b->div_event);
	CHECK_EQ(a->steps, b->steps);
	CHECK(a->sig_hash == b->sig_hash);
}

static void brief_runs_judge_the_same(const char *spec, uint32_t *diverged)
{
	char err[512];
	struct sfh_target *t = NULL;
	struct sfh_runner *r = sfh_runner_new(err, sizeof err);
	CHECK(r != NULL);
	if (sfh_target_open(spec, &t, err, sizeof err) != 0) {
		printf("%s: not available here (%s)\n", spec, err);
		sfh_runner_free(r);
		return;
	}
	/* lwIP aborts on a few mutated inputs (its known assertions): recover as the
	 * campaign does; where recovery is not built (sanitizers) play only the seeds. */
	int recover = strcmp(spec, "lwip") != 0 || sff_recover_enable(t, err, sizeof err) == 0;
	const struct sfo_profile *prof = sfo_profile_find(t->ops->profile);
	uint32_t runs = recover ? NRUNS : (uint32_t)nseeds;
	for (uint32_t i = 0; i < runs; i++) {
		uint8_t buf[SFH_MAX_ENCODED];
		size_t k = i % nseeds, n = seed_len[k];
		memcpy(buf, seeds[k], n);
		for (unsigned m = 0; i >= nseeds && m < 1 + i % 3; m++)
			n = sff_mutate(buf, n, sizeof buf, i * 2654435761u + m, NULL);
		struct sfh_scenario s;
		sfh_scn_decode(buf, n, &s);
		sff_scn_fit(&s, t->ops->caps, 250);
		struct sfh_run_opts full = {.profile = prof, .case_no = i};
		struct sfh_run_opts brief = full;
		brief.brief = 1;
		struct sfh_result a, b;
		int ra = sff_run_recover(r, t, &s, &full, &a);
		int rb = sff_run_recover(r, t, &s, &brief, &b);
		same(&a, &b, ra, rb);
		if (ra == 0 && a.verdict.kind != SFO_DIV_OK) {
			char text[160];
			(*diverged)++;
			CHECK(a.verdict.detail[0] != '\0');
			CHECK(sfh_signature(t->ops->name, &b.verdict, text, sizeof text) ==
			      a.sig_hash);
			CHECK_EQ(strcmp(text, a.signature), 0);
			/* the oracle's detail is left out; the runner's own checks
			 * (checksum, delivery) still say what they found */
			CHECK(b.verdict.detail[0] == '\0' ||
			      strcmp(b.verdict.detail, a.verdict.detail) == 0);
		}
	}
	sfh_target_close(t);
	sfh_runner_free(r);
}

int main(void)
{
	load_seeds();
	for (size_t i = 0; i < sizeof targets / sizeof targets[0]; i++) {
		uint32_t diverged = 0;
		brief_runs_judge_the_same(targets[i], &diverged);
		printf("%s: brief and full runs agree (%u divergent)\n", targets[i], diverged);
		if (strncmp(targets[i], "model:", 6) == 0 || strcmp(targets[i], "lwip") == 0)
			CHECK(diverged > 0); /* the comparison covered divergences */
	}
	return check_done();
}
