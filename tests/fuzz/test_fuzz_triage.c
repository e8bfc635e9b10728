/* Triage (fuzz/triage.c) and finding directories (fuzz/finding.c): two campaigns' outputs
 * holding the same signature group into one line with count 2, a libFuzzer crash file
 * is re-run and joins its group, a different signature is its own group, and writing a
 * signature twice into one directory gives one directory (the dedup key). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "sh.h"
#include "fuzz_priv.h"

static const char *const fault = "model:fault=rst-out-of-window";

static void load(const char *path, struct sfh_scenario *s)
{
	char err[256];
	CHECK_EQ(sfh_scn_load(path, s, err, sizeof err), 0);
	sff_scn_strip(s);
}

static void triage_groups_same_signature(void)
{
	char err[512], tmp[] = "/tmp/synfin-triage.XXXXXX", a[128], b[128], buf[8192];
	struct sff_runctx ctx = {.next_case = 5};
	struct sfh_scenario rst, fin;
	struct sfh_result r1, r2;
	if (!mkdtemp(tmp))
		return;
	snprintf(a, sizeof a, "%s/a", tmp);
	snprintf(b, sizeof b, "%s/b", tmp);
	CHECK_EQ(sff_mkdirs(a), 0);
	CHECK_EQ(sff_mkdirs(b), 0);
	CHECK_EQ(sfh_target_open(fault, &ctx.target, err, sizeof err), 0);
	ctx.runner = sfh_runner_new(err, sizeof err);
	if (!ctx.target || !ctx.runner)
		return;
	load("corpus/seeds/21-rst-out-of-window.scn", &rst);
	load("corpus/seeds/01-passive-open.scn", &fin);
	/* A second signature: an out-of-window RST in FIN-WAIT-2. */
	load("corpus/seeds/16-rst-fin-wait-2.scn", &fin);
	struct sfh_event r = {.type = SFH_EV_IN};
	r.u.in.flags = SFO_RST;
	r.u.in.has_seq = 1;
	r.u.in.seq = (struct sfh_num){SFH_A_PNXT, 1LL << 31};
	fin.nev--; /* drop the seed's own in-window RST */
	fin.ev[fin.nev++] = r;

	CHECK_EQ(sff_run_once(&ctx, &rst, &r1), 0);
	CHECK_EQ(sff_run_once(&ctx, &fin, &r2), 0);
	CHECK(r1.verdict.kind != SFO_DIV_OK);
	CHECK(r2.verdict.kind != SFO_DIV_OK);
	CHECK(r1.sig_hash != r2.sig_hash);
	printf("signatures: %s, %s\n", r1.signature, r2.signature);

	struct sff_finding_info fa = {.out_dir = a, .target_spec = fault, .orig_events = rst.nev};
	struct sff_finding_info fb = {.out_dir = b, .target_spec = fault, .orig_events = rst.nev};
	CHECK_EQ(sff_finding_write(&fa, &ctx, &rst, &r1, err, sizeof err), SFF_FINDING_NEW);
	CHECK_EQ(sff_finding_write(&fb, &ctx, &rst, &r1, err, sizeof err), SFF_FINDING_NEW);
	CHECK_EQ(sff_finding_write(&fb, &ctx, &fin, &r2, err, sizeof err), SFF_FINDING_NEW);
	/* The directory name is the dedup key: the same signature again is a duplicate. */
	CHECK_EQ(sff_finding_write(&fa, &ctx, &rst, &r1, err, sizeof err), SFF_FINDING_DUP);
	CHECK(sff_finding_exists(a, r1.sig_hash));
	CHECK(!sff_finding_exists(a, r2.sig_hash));

	/* A libFuzzer crash file with the first signature's scenario, in a. */
	uint8_t bytes[SFH_MAX_ENCODED];
	size_t n = sfh_scn_encode(&rst, bytes, sizeof bytes);
	char crash[200];
	snprintf(crash, sizeof crash, "%s/crash-da39a3ee5e6b4b0d3255bfef95601890afd80709", a);
	CHECK_EQ(sff_write_file(crash, bytes, n), 0);

	struct sff_triage tr = {0};
	char *dirs[2] = {a, b};
	ctx.isolate = 0;
	CHECK_EQ(sff_triage_scan(&tr, 2, dirs, &ctx, fault, 0, err, sizeof err), 0);
	sff_triage_sort(&tr);
	CHECK_EQ(tr.n, 2);
	if (tr.n == 2) {
		CHECK_STR(tr.g[0].signature, r1.signature);
		CHECK_EQ(tr.g[0].count, 3); /* a/<hash>, b/<hash>, a/crash-... */
		CHECK_EQ(tr.g[0].crash_files, 1);
		CHECK(strstr(tr.g[0].example, "crash-") == NULL); /* a finding is the example */
		CHECK_STR(tr.g[0].rule, "seq.unacceptable.rst");
		CHECK_STR(tr.g[0].kind, "state");
		CHECK_STR(tr.g[1].signature, r2.signature);
		CHECK_EQ(tr.g[1].count, 1);
	}
	sff_triage_free(&tr);

	/* Without a target, the crash file cannot be re-run: it is counted as unknown. */
	CHECK_EQ(sff_triage_scan(&tr, 2, dirs, NULL, NULL, 0, err, sizeof err), 0);
	CHECK_EQ(tr.unknown, 1);
	sff_triage_free(&tr);

	/* The command prints the same groups (the target comes from --target): by root
	 * cause, and with --signatures by signature. */
	const char *bin = getenv("SYNFIN_BIN");
	if (bin) {
		CHECK_EQ(sh(buf, sizeof buf, "%s triage %s %s --target %s --signatures --no-known",
			    bin, a, b, fault),
			 1);
		CHECK(strstr(buf, r1.signature) != NULL);
		CHECK(strstr(buf, "SIGNATURE") != NULL);
		printf("%s", buf);
		CHECK_EQ(
		    sh(buf, sizeof buf, "%s triage %s %s --target %s --no-known", bin, a, b, fault),
		    1);
		CHECK(strstr(buf, "root-cause groups") != NULL);
		CHECK(strstr(buf, "model:fault=rst-out-of-window/state/rst/state:dropped") != NULL);
		printf("%s", buf);
	}
	sff_runctx_dispose(&ctx);
	sfh_runner_free(ctx.runner);
	sfh_target_close(ctx.target);
	sh(buf, sizeof buf, "rm -rf %s", tmp);
}

int main(void)
{
	triage_groups_same_signature();
	return check_done();
}
