/* The fuzz core: the body of LLVMFuzzerTestOneInput shared by every entry (the synfin
 * command through LLVMFuzzerRunDriver, and the per-target fuzz_*.c binaries), plus the
 * libFuzzer hooks for structure-aware mutation.
 *
 * libFuzzer's callbacks carry no context, so the core is one object per process behind
 * a single pointer; everything it drives (target, runner, coverage) is reentrant.
 *
 * One input: decode (total), drop hand-written assertions, fit the scenario to the
 * target (its roles; waits clamped on real-time targets), run it beside the model with
 * the coverage feed on. A divergence the profile does not accept is recorded once per
 * signature per process (minimised, verified, written as OUT/<hash>/), and the input
 * returns 0 like any other: divergences never stop a campaign.
 *
 * On lwIP (which aborts on a few inputs) the run is guarded (recover.c): an abort comes
 * back here as a crash verdict named like an isolated run's, is recorded the way
 * libFuzzer's crash files are (minimised and verified by isolated re-runs, once per
 * signature), and the input is rejected (a crashing input never joins the corpus).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_priv.h"
#include "profile_file.h"

#define SEEN_CAP    4096 /* signatures remembered per process (then the directory decides) */
#define FLUSH_EVERY 64

struct sff_core {
	char *target_spec, *out_dir, *profile_name;
	int no_minimize, trap, recover_want;
	int recover; /* the target's runs are guarded (recover.c) */
	uint32_t max_wait_ms;
	struct sfh_target *target;
	struct sfh_runner *runner;
	const struct sfo_profile *profile;
	struct sff_stats *stats;
	struct sff_cover *cover;
	struct sff_runctx rc; /* minimisation and verification runs */
	uint32_t caps;
	uint64_t execs, pending;
	uint64_t seen[SEEN_CAP];
	size_t nseen;
	struct sfh_scenario scn;
	struct sfh_result res;
	char err[512];
};

static struct sff_core *g_core;

static char *dup_or_null(const char *s, int *bad)
{
	char *d = s ? strdup(s) : NULL;
	if (s && !d)
		*bad = 1;
	return d;
}

void sff_core_fini(void)
{
	struct sff_core *c = g_core;
	if (!c)
		return;
	sff_stats_add(c->stats, c->pending, 0, 0, 0);
	c->pending = 0;
	sfh_runner_free(c->runner);
	sfh_target_close(c->target);
	sff_cover_free(c->cover);
	sff_stats_close(c->stats);
	free(c->target_spec);
	free(c->out_dir);
	free(c->profile_name);
	free(c);
	g_core = NULL;
}

/* libFuzzer ends a worker with exit() (-runs, -max_total_time): count the executions
 * not yet added to the shared statistics, or a short run reports too few. */
static void flush_at_exit(void)
{
	if (g_core && g_core->pending) {
		sff_stats_add(g_core->stats, g_core->pending, 0, 0, 0);
		g_core->pending = 0;
	}
}

int sff_core_init(const struct sff_core_opts *o, char *err, size_t errlen)
{
	static int registered;
	int bad = 0;
	if (!registered)
		registered = atexit(flush_at_exit) == 0;
	sff_core_fini();
	struct sff_core *c = calloc(1, sizeof *c);
	if (!c) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	c->target_spec = dup_or_null(o->target_spec, &bad);
	c->out_dir = dup_or_null(o->out_dir, &bad);
	c->profile_name = dup_or_null(o->profile, &bad);
	c->no_minimize = o->no_minimize;
	c->trap = o->trap;
	c->recover_want = o->recover;
	c->max_wait_ms = o->max_wait_ms ? o->max_wait_ms : 250;
	c->stats = sff_stats_open(o->stats_path, 0, err, errlen);
	c->cover = c->stats ? sff_cover_new(c->stats) : NULL;
	g_core = c;
	if (!c->stats) /* err says why */
		goto fail;
	if (bad || !c->target_spec || !c->cover) {
		snprintf(err, errlen, "%s", c->target_spec ? "out of memory" : "no target");
		goto fail;
	}
	return 0;
fail:
	sff_core_fini();
	return -1;
}

const char *sff_core_error(void)
{
	return g_core ? g_core->err : "the fuzz core is not initialised";
}

/* Open the target and everything that runs it (on the first input). */
static int core_open(struct sff_core *c)
{
	if (sfh_target_open(c->target_spec, &c->target, c->err, sizeof c->err) != 0)
		return -1;
	c->caps = c->target->ops->caps;
	if (c->profile_name) {
		c->profile = sfh_profile_find(c->profile_name);
		if (!c->profile) {
			snprintf(c->err, sizeof c->err, "unknown profile '%s'", c->profile_name);
			return -1;
		}
	} else if (c->target->ops->profile && sfh_profile_find(c->target->ops->profile)) {
		c->profile = sfh_profile_find(c->target->ops->profile);
	} else {
		c->profile = sfo_profile_default();
	}
	c->runner = sfh_runner_new(c->err, sizeof c->err);
	if (!c->runner)
		return -1;
	c->rc.runner = c->runner;
	c->rc.target = c->target;
	c->rc.profile = c->profile;
	c->rc.next_case = 0x40000000u;
	c->rc.min_seconds = 10; /* a finding may hold the campaign up this long, no longer */
	c->rc.max_wait_ms = (c->caps & SFH_CAP_VTIME) ? SFF_MAX_VWAIT_MS : c->max_wait_ms;
	char why[256];
	/* A target that cannot recover is fuzzed as before: an abort ends the worker. */
	c->recover = c->recover_want && sff_recover_enable(c->target, why, sizeof why) == 0;
	c->rc.recover = c->recover; /* minimisation and verification runs too */
	return 0;
}

/* 1 if the signature was already handled by this process; remembers it otherwise. */
static int seen_before(struct sff_core *c, uint64_t h)
{
	for (size_t i = 0; i < c->nseen; i++)
		if (c->seen[i] == h)
			return 1;
	if (c->nseen < SEEN_CAP)
		c->seen[c->nseen++] = h;
	return 0;
}

/* Record c->res once per signature (the dedup key, for a crash the in-process one). A
 * divergence is minimised and verified in-process. A crash recovered in-process goes the
 * way a libFuzzer crash file goes at the end of a campaign (triage.c): the input is
 * re-run isolated, which decides the signature (one that does not come back is not
 * recorded, as a crash file's is not), then minimised in-process (recovered) and
 * verified by isolated runs, so the trace and pcap come from a child that dies as the
 * worker would have. */
/* A finding that could not be written for want of space or rights: every further one
 * would fail the same way, so the campaign stops (the command says why). */
static int write_failed(int e)
{
	return e == ENOSPC || e == EDQUOT || e == EROFS || e == EIO || e == EFBIG || e == EACCES ||
	       e == EPERM || e == EMFILE || e == ENFILE;
}

static void record(struct sff_core *c, const uint8_t *data, size_t size, int crash)
{
	uint64_t h = c->res.sig_hash;
	const struct sfh_result *first = &c->res;
	struct sfh_result iso;
	int rc = SFF_FINDING_DUP;
	if (seen_before(c, h))
		return;
	if (!c->out_dir && c->trap) {
		/* nowhere to record it: report it to the engine as it is */
		if (!c->res.signature[0])
			sfh_result_sign(c->target->ops->name, &c->res);
		sff_trap(c->target_spec, &c->res);
	}
	if (!c->out_dir || sff_finding_exists(c->out_dir, h)) {
		sff_stats_add(c->stats, 0, 0, 0, 1);
		return;
	}
	struct sfh_scenario m = c->scn;
	if (!crash) {
		/* The loop judges briefly (no detail, no signature text): run the input
		 * again in full for the report. Deterministic, so the same verdict; should
		 * it differ, the verification below marks the finding flaky. */
		struct sfh_run_opts o = {.profile = c->profile, .case_no = c->rc.next_case++};
		struct sfh_result full;
		if (sff_run_inproc(&c->rc, &m, &o, &full) == 0 && full.sig_hash == h)
			c->res = full;
		else
			sfh_signature(c->target->ops->name, &c->res.verdict, c->res.signature,
				      sizeof c->res.signature);
	}
	if (crash) {
		c->rc.isolate = 1;
		if (sff_run_artifact(&c->rc, data, size, &m, &iso) != 0 ||
		    iso.verdict.kind == SFO_DIV_OK || iso.verdict.accepted)
			goto exit; /* not reproduced: nothing to record */
		first = &iso;
		h = iso.sig_hash;
		if (sff_finding_exists(c->out_dir, h))
			goto count;
	}
	struct sff_finding_info fi = {.out_dir = c->out_dir,
				      .target_spec = c->target_spec,
				      .origin = crash ? "synfin fuzz (abort recovered in-process)"
						      : "synfin fuzz",
				      .input = data,
				      .input_len = size,
				      .orig_events = m.nev};
	/* A crash is minimised in-process when the target recovers from its aborts (a
	 * recovered abort has the isolated run's signature, test_fuzz_recover): a fork of
	 * the worker per candidate cost more than the rest of a short campaign. The run
	 * that decided it, and the verification, stay isolated. */
	if (crash && c->recover)
		c->rc.isolate = 0;
	if (!c->no_minimize)
		sff_minimize(&c->rc, &m, h, crash ? 300 : 0);
	c->rc.isolate = crash;
	errno = 0;
	rc = sff_finding_write(&fi, &c->rc, &m, first, c->err, sizeof c->err);
	if (rc == SFF_FINDING_ERR && write_failed(errno))
		sff_stats_fail(c->stats, c->err); /* the command stops the campaign */
count:
	if (rc == SFF_FINDING_NEW)
		sff_stats_add(c->stats, 0, 1, 0, 0);
	else if (rc == SFF_FINDING_DUP)
		sff_stats_add(c->stats, 0, 0, 0, 1);
	else
		sff_stats_add(c->stats, 0, 0, 1, 0);
exit:
	if (crash)
		c->rc.isolate = 0;
	if (c->trap && rc == SFF_FINDING_NEW)
		sff_trap(c->target_spec, first); /* the engine's crash, one per signature */
}

/* The ISNs of an input: a hash of its bytes. The runner takes ISNs from the scenario,
 * never from the case number, so an input runs the same however many ran before it
 * (libFuzzer's determinism, and a finding that replays); the hash still spreads them
 * over the whole space, so wraparound is exercised as a matter of course. A finding
 * writes them as its `isn` line. */
void sff_scn_from_input(const uint8_t *data, size_t size, struct sfh_scenario *s)
{
	uint64_t h = sfh_fnv1a(SFH_FNV1A_INIT, data, size);
	sfh_scn_decode(data, size, s);
	s->has_isn = 1;
	s->pisn = (uint32_t)h;
	s->tisn = (uint32_t)(h >> 32);
}

int sff_core_one(const uint8_t *data, size_t size)
{
	struct sff_core *c = g_core;
	if (!c)
		return 0;
	if (!c->target && core_open(c) != 0)
		return SFF_CORE_FATAL;
	sff_scn_from_input(data, size, &c->scn);
	sff_scn_fit(&c->scn, c->caps, c->max_wait_ms);
	sfh_scn_fit_target(&c->scn, c->target);
	struct sfh_run_opts o = {.profile = c->profile,
				 .cover = sff_cover_step,
				 .cover_ctx = c->cover,
				 .case_no = (uint32_t)c->execs,
				 .brief = 1};
	c->execs++;
	if (++c->pending >= FLUSH_EVERY) {
		sff_stats_add(c->stats, c->pending, 0, 0, 0);
		c->pending = 0;
	}
	int rc = c->recover ? sff_run_recover(c->runner, c->target, &c->scn, &o, &c->res)
			    : sfh_run(c->runner, c->target, &c->scn, &o, &c->res);
	if (rc == SFF_RECOVERED) {
		record(c, data, size, 1);
		return SFF_CORE_REJECT;
	}
	if (rc != 0) {
		sff_stats_add(c->stats, 0, 0, 1, 0);
		return 0;
	}
	if (c->res.verdict.kind != SFO_DIV_OK && !c->res.verdict.accepted)
		record(c, data, size, 0);
	return 0;
}

int sff_entry_init(const char *target)
{
	char err[512];
	const char *env_target = getenv("SYNFIN_FUZZ_TARGET");
	const char *out = getenv("SYNFIN_FUZZ_OUT");
	const char *trap = getenv("SYNFIN_FUZZ_TRAP");
#ifdef SYNFIN_TRAP_DEFAULT
	/* built for an engine (OSS-Fuzz, ClusterFuzzLite): every new signature is a crash of
	 * its own, and findings are written only where SYNFIN_FUZZ_OUT says */
	int trap_on = !trap || strcmp(trap, "0") != 0;
	const char *out_default = NULL;
#else
	int trap_on = trap && strcmp(trap, "1") == 0;
	const char *out_default = "synfin-out/findings";
#endif
	struct sff_core_opts o = {.target_spec = env_target && *env_target ? env_target : target,
				  .out_dir = out && *out ? out : out_default,
				  .trap = trap_on};
	if (o.out_dir && sff_mkdirs(o.out_dir) != 0)
		o.out_dir = NULL;
	return sff_core_init(&o, err, sizeof err);
}

/* ---- libFuzzer hooks: structure-aware mutation ---- */

size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max_size, unsigned int seed)
{
	return sff_mutate(data, size, max_size, seed, LLVMFuzzerMutate ? LLVMFuzzerMutate : NULL);
}

size_t LLVMFuzzerCustomCrossOver(const uint8_t *d1, size_t s1, const uint8_t *d2, size_t s2,
				 uint8_t *out, size_t max_out, unsigned int seed)
{
	return sff_crossover(d1, s1, d2, s2, out, max_out, seed);
}
