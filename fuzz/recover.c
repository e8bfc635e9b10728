/* In-process recovery from an in-process stack's crash: lwIP's compiled-in assertions,
 * and libslirp's faults.
 *
 * A campaign on lwIP hits one of its reachable assertions about every thousand inputs, and
 * one on slirp reaches libslirp's reassembly crash within seconds; letting each one kill
 * the worker makes the campaign restart-bound (process start, corpus reload), and a plain
 * campaign ends at the first. Instead control comes back here and the run is given the
 * verdict an isolated run gives the crash (kind crash, rule `stack`), so the signatures
 * are the same:
 * - lwIP: its abort() calls a hook (harness/targets/lwip/target_lwip_sys.c) that longjmps
 *   back here, and lwIP is restored to its snapshot. The crash is named after the
 *   assertion lwIP printed (captured on its way to stdout, crash.h), else after the step
 *   in progress (sfh_progress).
 * - slirp: a handler of SIGSEGV, SIGBUS, SIGILL and SIGFPE, installed once, records the
 *   signal and its frames as an isolated child's handler does (crash.c), and longjmps back
 *   here when a guarded run is in progress and the faulting instruction lies in libslirp's
 *   code; the case's instance is abandoned (harness/targets/slirp/target_slirp.h). Any
 *   other fault goes to the handler that was there before (libFuzzer's).
 *
 * Only those are diverted: any other abort (the C library's heap checks, a sanitizer)
 * still takes the process down as before. Under ASan the feature is off
 * (SFF_RECOVER_BUILD 0): longjmp over instrumented frames is not something to rely on,
 * and ASan's malloc is not the C library's (lwIP's heap tracking patches that).
 */
#include <errno.h>
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

#if !defined(SFF_ASAN) && defined(SYNFIN_HAVE_LWIP)
#define SFF_RECOVER_LWIP 1
#include "target_lwip.h"
#else
#define SFF_RECOVER_LWIP 0
#endif
#if !defined(SFF_ASAN) && defined(SYNFIN_HAVE_SLIRP)
#define SFF_RECOVER_SLIRP 1
#include "target_slirp.h"
#else
#define SFF_RECOVER_SLIRP 0
#endif
#define SFF_RECOVER_BUILD (SFF_RECOVER_LWIP || SFF_RECOVER_SLIRP)

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

enum kind { NONE, LWIP, SLIRP };

static enum kind kind_of(const struct sfh_target *t)
{
#if SFF_RECOVER_LWIP
	if (sfh_lwip_target_is(t))
		return LWIP;
#endif
#if SFF_RECOVER_SLIRP
	if (sfh_slirp_target_is(t))
		return SLIRP;
#endif
	(void)t;
	return NONE;
}

int sff_recover_can(const char *spec)
{
	const struct sfh_target_ops *ops = sfh_target_find(spec);
	const char *name = ops ? ops->name : "";
	(void)name;
#if SFF_RECOVER_LWIP
	if (strcmp(name, "lwip") == 0)
		return 1;
#endif
#if SFF_RECOVER_SLIRP
	if (strcmp(name, "slirp") == 0)
		return 1;
#endif
	return 0;
}

#if SFF_RECOVER_BUILD
struct guard {
	jmp_buf jb;
};

/* ---- slirp: faults in libslirp's code ---- */

static struct guard *volatile fault_guard; /* a guarded slirp run is in progress */
static volatile sig_atomic_t fault_signo;  /* what the last recovered fault was */

#if SFF_RECOVER_SLIRP
static const int fault_signals[] = {SIGSEGV, SIGBUS, SIGILL, SIGFPE};
#define NFAULT ((int)(sizeof fault_signals / sizeof fault_signals[0]))
static struct sigaction fault_prev[NFAULT];

static void on_fault(int sig, siginfo_t *si, void *uc)
{
	struct guard *g = fault_guard;
	if (g && si && si->si_code > 0 && sfh_slirp_fault_recoverable(sfh_crash_context_pc(uc))) {
		fault_guard = NULL;
		fault_signo = sig;
		sfh_crash_record(sig, uc); /* into the run's sink, as an isolated child does */
		longjmp(g->jb, 1);
	}
	/* not ours: the handler from before takes it. A fault comes again when this returns;
	 * a signal sent by someone is raised again (blocked until then). */
	for (int i = 0; i < NFAULT; i++)
		if (fault_signals[i] == sig)
			sigaction(sig, &fault_prev[i], NULL);
	if (!si || si->si_code <= 0)
		raise(sig);
}

static int fault_handlers(char *err, size_t errlen)
{
	static int installed;
	if (installed)
		return 0;
	sfh_crash_warm(); /* backtrace() must not load the unwinder inside the handler */
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = on_fault;
	sa.sa_flags = SA_SIGINFO;
	sigemptyset(&sa.sa_mask);
	for (int i = 0; i < NFAULT; i++)
		if (sigaction(fault_signals[i], &sa, &fault_prev[i]) != 0) {
			snprintf(err, errlen, "in-process recovery: sigaction: %s",
				 strerror(errno));
			return -1;
		}
	installed = 1;
	return 0;
}
#endif
#endif

int sff_recover_enable(struct sfh_target *t, char *err, size_t errlen)
{
	enum kind k = kind_of(t);
#if SFF_RECOVER_LWIP
	if (k == LWIP)
		return sfh_lwip_target_recoverable(t, err, errlen);
#endif
#if SFF_RECOVER_SLIRP
	if (k == SLIRP)
		return sfh_slirp_target_recoverable(t, err, errlen) == 0
			   ? fault_handlers(err, errlen)
			   : -1;
#endif
	(void)k;
	snprintf(err, errlen, "in-process recovery: %s",
		 SFF_RECOVER_BUILD ? "only the lwip and slirp targets crash in-process"
				   : "not in this build (sanitizers, or neither lwip nor slirp)");
	return -1;
}

#if SFF_RECOVER_BUILD
/* The verdict of a case whose stack died in the step `p` names, by signal signo, with the
 * assertion it printed or the frames of its fault in `c`: the verdict an isolated run
 * gives a child killed by that signal (report.c), so the signatures are the same (both
 * are the crash's site when it is known). */
static void crash_verdict(const struct sfh_target *t, const struct sfh_progress *p, int signo,
			  struct sfh_crash *c, struct sfh_result *res)
{
	char what[96];
	snprintf(what, sizeof what, "the stack crashed: killed by signal %d (%s)", signo,
		 strsignal(signo));
	sfh_crash_finish(c);
	sfh_crash_result(t->ops->name, p, SFO_DIV_CRASH, what, c, res);
}

#if SFF_RECOVER_LWIP
static _Noreturn void on_abort(void *ctx)
{
	longjmp(((struct guard *)ctx)->jb, 1);
}
#endif

/* fn(ctx) in a frame of its own that holds the jmp_buf: SFF_RECOVERED if the stack
 * crashed inside it, else 0. Nothing this frame reads after the longjmp was changed since
 * setjmp, so no local needs volatile. */
static int guarded_fn(enum kind k, void (*fn)(void *), void *ctx)
{
	struct guard g;
	if (setjmp(g.jb) != 0) {
		if (k == SLIRP) { /* left the handler by longjmp: its signal is still blocked */
			sigset_t set;
			sigemptyset(&set);
			sigaddset(&set, fault_signo);
			sigprocmask(SIG_UNBLOCK, &set, NULL);
		}
		return SFF_RECOVERED;
	}
#if SFF_RECOVER_LWIP
	if (k == LWIP)
		sfh_lwip_set_abort_hook(on_abort, &g);
#endif
	if (k == SLIRP)
		fault_guard = &g;
	fn(ctx);
#if SFF_RECOVER_LWIP
	if (k == LWIP)
		sfh_lwip_set_abort_hook(NULL, NULL);
#endif
	fault_guard = NULL;
	return 0;
}

/* Bring t back after a crash: lwIP from its snapshot, slirp by abandoning its instance. */
static int restore(enum kind k, struct sfh_target *t)
{
#if SFF_RECOVER_LWIP
	if (k == LWIP)
		return sfh_lwip_target_recover(t);
#endif
#if SFF_RECOVER_SLIRP
	if (k == SLIRP)
		return sfh_slirp_target_recover(t);
#endif
	(void)k, (void)t;
	return -1;
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

/* A run whose assertion text (printed by the stack before it aborts) or fault lands in
 * *c. */
static int guarded(enum kind k, struct sfh_runner *r, struct sfh_target *t,
		   const struct sfh_scenario *s, const struct sfh_run_opts *o,
		   struct sfh_result *res, struct sfh_crash *c)
{
	struct run_args a = {r, t, s, o, res, 0};
	c->line = 0; /* all sfh_crash_note_output() looks at: cheap enough per run */
	c->signo = 0;
	c->npc = 0;
	struct sfh_crash *old = sfh_crash_sink(c);
	int rc = guarded_fn(k, run_fn, &a) == SFF_RECOVERED ? SFF_RECOVERED : a.rc;
	sfh_crash_sink(old);
	return rc;
}
#endif

int sff_run_recover(struct sfh_runner *r, struct sfh_target *t, const struct sfh_scenario *s,
		    const struct sfh_run_opts *o, struct sfh_result *res)
{
#if SFF_RECOVER_BUILD
	enum kind k = kind_of(t);
	if (k == NONE)
		return sfh_run(r, t, s, o, res);
	struct sfh_progress local;
	struct sfh_run_opts oo = *o;
	if (!oo.progress)
		oo.progress = &local;
	/* as sfh_run_isolated starts it: the OPEN of a passive role */
	oo.progress->event = -1;
	oo.progress->line = 0;
	oo.progress->before = SFO_CLOSED;
	oo.progress->evclass = SFO_EC_CALL_LISTEN;
	static struct sfh_crash crash; /* one run at a time per process (each stack is one) */
	int rc = guarded(k, r, t, s, &oo, res, &crash);
	if (rc != SFF_RECOVERED)
		return rc;
	if (restore(k, t) != 0) {
		snprintf(res->err, sizeof res->err, "in-process recovery: no snapshot to restore");
		return -1;
	}
	int signo = SIGABRT;
	if (k == LWIP) {
		crash.signo = 0; /* no signal and no frames in-process: the assertion's text only */
		crash.npc = 0;
	} else {
		signo = crash.signo ? crash.signo : (int)fault_signo;
	}
	crash_verdict(t, oo.progress, signo, &crash, res);
	return SFF_RECOVERED;
#else
	return sfh_run(r, t, s, o, res);
#endif
}

int sff_call_recover(struct sfh_target *t, void (*fn)(void *), void *ctx)
{
#if SFF_RECOVER_BUILD
	enum kind k = kind_of(t);
	if (k == NONE) {
		fn(ctx);
		return 0;
	}
	if (guarded_fn(k, fn, ctx) != SFF_RECOVERED)
		return 0;
	return restore(k, t) == 0 ? SFF_RECOVERED : -1;
#else
	(void)t;
	fn(ctx);
	return 0;
#endif
}

void sff_recover_interrupt(void *uc)
{
#if SFF_RECOVER_LWIP
	sfh_lwip_abort_now();
#endif
#if SFF_RECOVER_SLIRP
	/* only while libslirp's own code runs: elsewhere (the C library, a lock held) the
	 * case is left alone until a later tick finds it there */
	struct guard *g = fault_guard;
	if (g && uc && sfh_slirp_fault_recoverable(sfh_crash_context_pc(uc))) {
		fault_guard = NULL;
		fault_signo = SIGALRM;
		longjmp(g->jb, 1);
	}
#else
	(void)uc;
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
