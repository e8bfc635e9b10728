/* exec: with lwIP out of process (shims/lwip/) gives the in-process lwip target's verdict on
 * every scenario of the conformance suite (corpus/seeds and corpus/regress), crashes
 * included: same kind, rule, state, event class, step and site. What differs between the
 * two is only the control protocol, so this proves it carries every op a target has. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "report.h"
#include "runner.h"

/* The signature without its target name: "lwip/ESTABLISHED/..." -> "ESTABLISHED/...". */
static const char *unnamed(const char *sig)
{
	const char *slash = strchr(sig, '/');
	return slash ? slash + 1 : sig;
}

int main(void)
{
	const char *shim = getenv("SYNFIN_SHIM_LWIP");
	char err[512], spec[4200];
	if (!shim) {
		fprintf(stderr,
			"SYNFIN_SHIM_LWIP not set (the lwIP shim was not built): skipped\n");
		return 77;
	}
	snprintf(spec, sizeof spec, "exec:%s", shim);
	struct sfh_target *in = NULL, *ex = NULL;
	struct sfh_runner *r = sfh_runner_new(err, sizeof err);
	CHECK(r != NULL);
	CHECK_EQ(sfh_target_open("lwip", &in, err, sizeof err), 0);
	if (sfh_target_open(spec, &ex, err, sizeof err) != 0)
		fprintf(stderr, "%s\n", err);
	CHECK(ex != NULL);
	if (!r || !in || !ex)
		return check_done();
	CHECK(!(ex->ops->caps & SFH_CAP_INPROC));
	CHECK(ex->ops->caps & SFH_CAP_VTIME);
	CHECK_STR(ex->ops->profile, "lwip");
	const struct sfo_profile *prof = sfo_profile_find("lwip");

	struct sfh_filelist fl = {0};
	char *dirs[2] = {"corpus/seeds", "corpus/regress"};
	CHECK_EQ(sfh_collect_scenarios(2, dirs, &fl, err, sizeof err), 0);
	size_t same = 0, crashes = 0, divergent = 0, skipped = 0;
	for (size_t i = 0; i < fl.n; i++) {
		struct sfh_scenario s;
		struct sfh_result a, b;
		if (sfh_scn_load(fl.paths[i], &s, err, sizeof err) != 0) {
			fprintf(stderr, "%s\n", err);
			CHECK(0);
			continue;
		}
		if (sfh_run_supported(ex, &s, err, sizeof err) != 0) {
			skipped++; /* the exec protocol: no timer settings, emission times, IPv6 or
				    * several TCBs */
			continue;
		}
		struct sfh_run_opts o = {.profile = prof, .case_no = (uint32_t)i};
		int ra = sfh_run_isolated(r, in, &s, &o, 60, &a);
		int rb = sfh_run(r, ex, &s, &o, &b);
		if (rb != 0)
			fprintf(stderr, "%s: exec: %s\n", fl.paths[i], b.err);
		int eq = ra == 0 && rb == 0 && a.verdict.kind == b.verdict.kind &&
			 a.verdict.rule == b.verdict.rule && a.verdict.before == b.verdict.before &&
			 a.verdict.evclass == b.verdict.evclass && a.div_event == b.div_event &&
			 a.steps == b.steps && !a.verdict.accepted == !b.verdict.accepted &&
			 strcmp(unnamed(a.signature), unnamed(b.signature)) == 0;
		if (!eq)
			fprintf(stderr, "%s: lwip %s (%u steps), exec %s (%u steps)\n", fl.paths[i],
				a.verdict.kind ? a.signature : "ok", a.steps,
				b.verdict.kind ? b.signature : "ok", b.steps);
		same += (size_t)eq;
		crashes += a.verdict.kind == SFO_DIV_CRASH;
		divergent += a.verdict.kind != SFO_DIV_OK;
	}
	printf("parity: %zu of %zu scenarios give the same verdict (%zu divergent, %zu crashes "
	       "among them)\n",
	       same, fl.n, divergent, crashes);
	CHECK(fl.n >= 100);
	CHECK(skipped * 10 < fl.n); /* most of the corpus goes through the exec protocol */
	CHECK_EQ(same + skipped, fl.n);
	CHECK(crashes >= 4); /* the suite holds lwIP's assertion crashes: they must match too */
	sfh_filelist_free(&fl);
	sfh_target_close(ex);
	sfh_target_close(in);
	sfh_runner_free(r);
	return check_done();
}
