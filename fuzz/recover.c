/* In-process recovery from an in-process stack's abort (lwIP's compiled-in assertions).
 *
 * A campaign on lwIP hits one of its reachable assertions about every thousand inputs;
 * letting each one kill the worker makes the campaign restart-bound (process start,
 * corpus reload). Instead, lwIP's abort() calls a hook (harness/targets/lwip/target_lwip_sys.c) that
 * longjmps back here, lwIP is restored to its snapshot, and the run is given the verdict
 * an isolated run gives a crash: kind crash, rule `stack`, named after the site of the
 * assertion lwIP printed (captured on its way to stdout, crash.h), else after the step in
 * progress (sfh_progress); so the signatures are the same.
 *
 * Only lwIP's own abort calls are diverted: any other abort (the C library's heap
 * checks, a sanitizer) still takes the process down as before. Under ASan the feature
 * is off (SFF_RECOVER_BUILD 0): longjmp over instrumented frames is not something to
 * rely on, and ASan's malloc is not the C library's (the heap tracking patches that).
 */
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "fuzz_priv.h"

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SFF_ASAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#define SFF_ASAN 1
#endif

#if defined(SYNFIN_HAVE_LWIP) && !defined(SFF_ASAN)
#define SFF_RECOVER_BUILD 1
#include "target_lwip.h"
#else
#define SFF_RECOVER_BUILD 0
#endif

static const int crash_signals[SFF_NCRASHSIG] = {SIGABRT, SIGSEGV, SIGBUS, SIGILL, SIGFPE};

void sff_crash_signals_default(struct sff_sigsave *save)
{
	struct sigaction dfl;
	memset(&dfl, 0, sizeof dfl);
	dfl.sa_handler = SIG_DFL;
	sigemptyset(&dfl.sa_mask);
	for (int i = 0; i < SFF_NCRASHSIG; i++)
		save->ok[i] = sigaction(crash_signals[i], &dfl, &save->sa[i]) == 0;
}

void sff_crash_signals_restore(const struct sff_sigsave *save)
{
	for (int i = 0; i < SFF_NCRASHSIG; i++)
		if (save->ok[i])
			sigaction(crash_signals[i], &save->sa[i], NULL);
}

int sff_recover_enable(struct sfh_target *t, char *err, size_t errlen)
{
#if SFF_RECOVER_BUILD
	if (!sfh_lwip_target_is(t)) {
		snprintf(err, errlen, "in-process recovery: only the lwip target aborts in-process");
		return -1;
	}
	return sfh_lwip_target_recoverable(t, err, errlen);
#else
	(void)t;
	snprintf(err, errlen, "in-process recovery: not in this build (sanitizers, or no lwip)");
	return -1;
#endif
}

#if SFF_RECOVER_BUILD
/* The verdict of a case whose stack died in the step `p` names, the assertion it printed
 * in `c`: the verdict an isolated run gives a child killed by SIGABRT (report.c), so the
 * signatures are the same (both are the assertion's site when it is known). */
static void crash_verdict(const struct sfh_target *t, const struct sfh_progress *p,
			  struct sfh_crash *c, struct sfh_result *res)
{
	char what[96];
	snprintf(what, sizeof what, "the stack crashed: killed by signal %d (%s)", SIGABRT,
		 strsignal(SIGABRT));
	sfh_crash_finish(c);
	sfh_crash_result(t->ops->name, p, SFO_DIV_CRASH, what, c, res);
}

struct guard {
	jmp_buf jb;
};

static _Noreturn void on_abort(void *ctx)
{
	longjmp(((struct guard *)ctx)->jb, 1);
}

/* fn(ctx) in a frame of its own that holds the jmp_buf: SFF_RECOVERED if lwIP aborted
 * inside it, else 0. Nothing this frame reads after the longjmp was changed since
 * setjmp, so no local needs volatile. */
static int guarded_fn(void (*fn)(void *), void *ctx)
{
	struct guard g;
	if (setjmp(g.jb) != 0)
		return SFF_RECOVERED;
	sfh_lwip_set_abort_hook(on_abort, &g);
	fn(ctx);
	sfh_lwip_set_abort_hook(NULL, NULL);
	return 0;
}

struct run_args {
	struct sfh_runner *r;
	struct sfh_target *t;
	const struct sfh_scenario *s;
	const struct sfh_run_opts *o;
	struct sfh_result *res;
	int rc;
};

static void run_fn(void *ctx)
{
	struct run_args *a = ctx;
	a->rc = sfh_run(a->r, a->t, a->s, a->o, a->res);
}

/* A run whose assertion text (printed by the stack before it aborts) lands in *c. */
static int guarded(struct sfh_runner *r, struct sfh_target *t, const struct sfh_scenario *s,
		   const struct sfh_run_opts *o, struct sfh_result *res, struct sfh_crash *c)
{
	struct run_args a = {r, t, s, o, res, 0};
	c->line = 0; /* all sfh_crash_note_output() looks at: cheap enough per run */
	struct sfh_crash *old = sfh_crash_sink(c);
	int rc = guarded_fn(run_fn, &a) == SFF_RECOVERED ? SFF_RECOVERED : a.rc;
	sfh_crash_sink(old);
	return rc;
}
#endif

int sff_run_recover(struct sfh_runner *r, struct sfh_target *t, const struct sfh_scenario *s,
		    const struct sfh_run_opts *o, struct sfh_result *res)
{
#if SFF_RECOVER_BUILD
	struct sfh_progress local;
	struct sfh_run_opts oo = *o;
	if (!oo.progress)
		oo.progress = &local;
	/* as sfh_run_isolated starts it: the OPEN of a passive role */
	oo.progress->event = -1;
	oo.progress->line = 0;
	oo.progress->before = SFO_CLOSED;
	oo.progress->evclass = SFO_EC_CALL_LISTEN;
	static struct sfh_crash crash; /* one run at a time per process (lwIP is one) */
	int rc = guarded(r, t, s, &oo, res, &crash);
	if (rc != SFF_RECOVERED)
		return rc;
	if (sfh_lwip_target_recover(t) != 0) {
		snprintf(res->err, sizeof res->err, "in-process recovery: no snapshot to restore");
		return -1;
	}
	crash.signo = 0; /* no signal and no frames in-process: the assertion's text only */
	crash.npc = 0;
	crash_verdict(t, oo.progress, &crash, res);
	return SFF_RECOVERED;
#else
	return sfh_run(r, t, s, o, res);
#endif
}

int sff_call_recover(struct sfh_target *t, void (*fn)(void *), void *ctx)
{
#if SFF_RECOVER_BUILD
	if (guarded_fn(fn, ctx) != SFF_RECOVERED)
		return 0;
	return sfh_lwip_target_recover(t) == 0 ? SFF_RECOVERED : -1;
#else
	(void)t;
	fn(ctx);
	return 0;
#endif
}

void sff_recover_interrupt(void)
{
#if SFF_RECOVER_BUILD
	sfh_lwip_abort_now();
#endif
}

int sff_run_inproc(struct sff_runctx *ctx, const struct sfh_scenario *s,
		   const struct sfh_run_opts *o, struct sfh_result *res)
{
	if (!ctx->recover)
		return sfh_run(ctx->runner, ctx->target, s, o, res);
	int rc = sff_run_recover(ctx->runner, ctx->target, s, o, res);
	return rc == SFF_RECOVERED ? 0 : rc;
}
