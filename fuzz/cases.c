/* How `synfin run` and `synfin replay` play one case on their target.
 *
 * A stack in our own process can abort or loop for ever. A child process per case
 * (sfh_run_isolated) turns either into a verdict (crash, hang) instead of the end of the
 * command, but a fork per scenario costs milliseconds where the case itself costs
 * microseconds. So where the target can be recovered in-process (lwIP, fuzz/recover.c),
 * cases run here, guarded as a fuzz campaign runs them, and a child is forked only to
 * confirm: a case whose stack aborted, or that a watchdog found still running after
 * SFF_CASES_WATCHDOG_S seconds, is run again in a child exactly as the forked path runs
 * it, and that run's verdict is the case's. Every other verdict is the one a child would
 * give, because every case starts from the state a fresh process starts from
 * (tests/fuzz/test_fuzz_fresh.c); tests/fuzz/test_fuzz_cases.c compares both paths
 * scenario for scenario.
 *
 * A child per crash still costs most of the command's time on a corpus where crashes
 * repeat (each confirmation is a fork, the child's page faults and exit, and the
 * symbolization of its frames: about a millisecond, against microseconds for a case).
 * So a crash is confirmed once per site: when a child has died at the same assertion
 * (same site, same text) the in-process run named, later cases that stop there take the
 * in-process verdict, which is built to be the one such a child gives (recover.c); only
 * the child's frames are missing from it, so with confirm_each (`run` printing frames)
 * every crash is confirmed. A crash the watchdog ended, or one with no assertion text,
 * is always confirmed. Targets with no in-process recovery (slirp, sanitizer builds)
 * keep a child per case; targets outside our process (model, linux) run here as before.
 */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

#include "fuzz.h"
#include "fuzz_priv.h"
#include "report.h"

/* The time limit of the forked path (a child that gives no verdict in it is a hang). */
#define SFF_CASES_CHILD_S 60
/* An in-process case still running after this long is handed to a child to judge. */
#define SFF_CASES_WATCHDOG_S 5

static volatile sig_atomic_t ticks; /* watchdog seconds into the current case */

static void on_tick(int sig, siginfo_t *si, void *uc)
{
	(void)sig, (void)si;
	if (++ticks >= SFF_CASES_WATCHDOG_S)
		sff_recover_interrupt(uc); /* longjmps out of the case, if one runs */
}

static void watchdog(int on)
{
	struct itimerval it = {{on, 0}, {on, 0}};
	setitimer(ITIMER_REAL, &it, NULL);
}

int sff_cases_open(struct sff_cases *c, struct sfh_runner *r, struct sfh_target *t, int fork_each)
{
	char why[256];
	memset(c, 0, sizeof *c);
	c->runner = r;
	c->target = t;
	c->fork = (t->ops->caps & SFH_CAP_INPROC) != 0;
	if (!c->fork || fork_each || sff_recover_enable(t, why, sizeof why) != 0)
		return 0;
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = on_tick;
	sigemptyset(&sa.sa_mask);
	/* NODEFER: the handler leaves by longjmp, and SIGALRM must not stay blocked */
	sa.sa_flags = SA_SIGINFO | SA_RESTART | SA_NODEFER;
	if (sigaction(SIGALRM, &sa, &c->old_alrm) != 0)
		return 0;
	c->fork = 0;
	c->guarded = 1;
	watchdog(1);
	return 0;
}

/* The forked path's run of s, its output (the trace again, the assertion text the stack
 * prints) sent nowhere: the in-process attempt printed it already. */
static int confirm(struct sff_cases *c, const struct sfh_scenario *s, const struct sfh_run_opts *o,
		   struct sfh_result *res)
{
	struct sfh_run_opts co = *o;
	co.trace = NULL;
	co.pcap = NULL;
	watchdog(0);
	fflush(NULL);
	int saved = dup(STDOUT_FILENO), null = open("/dev/null", O_WRONLY);
	if (saved >= 0 && null >= 0)
		dup2(null, STDOUT_FILENO);
	int rc = sfh_run_isolated(c->runner, c->target, s, &co, SFF_CASES_CHILD_S, res);
	fflush(stdout);
	if (saved >= 0 && null >= 0)
		dup2(saved, STDOUT_FILENO);
	if (saved >= 0)
		close(saved);
	if (null >= 0)
		close(null);
	watchdog(1);
	c->confirmed++;
	return rc;
}

/* The confirmed site res stopped at, or NULL. */
static struct sff_cases_site *site_of(struct sff_cases *c, const struct sfh_result *res)
{
	for (unsigned i = 0; i < c->nsites; i++)
		if (strcmp(c->sites[i].signature, res->signature) == 0)
			return &c->sites[i];
	return NULL;
}

/* An in-process crash that a child at the same site stands for: an assertion the stack
 * printed (lwIP) or a fault with its frames (libslirp), reached before the watchdog
 * fired. */
static int sited(const struct sfh_result *res)
{
	return res->verdict.kind == SFO_DIV_CRASH && (res->crash.line != 0 || res->crash.npc) &&
	       sfh_crash_has_site(&res->crash) && ticks < SFF_CASES_WATCHDOG_S;
}

int sff_cases_run(struct sff_cases *c, const struct sfh_scenario *s, const struct sfh_run_opts *o,
		  struct sfh_result *res)
{
	if (c->fork)
		return sfh_run_isolated(c->runner, c->target, s, o, SFF_CASES_CHILD_S, res);
	if (!c->guarded)
		return sfh_run(c->runner, c->target, s, o, res);
	ticks = 0;
	int rc = sff_run_recover(c->runner, c->target, s, o, res);
	if (rc != SFF_RECOVERED)
		return rc;
	int known = sited(res);
	const struct sff_cases_site *site = known ? site_of(c, res) : NULL;
	if (site && !c->confirm_each) {
		res->crash.signo = site->signo;
		/* as the child's run would print it without confirm_each: no frames (those of
		 * an in-process fault go through other callers than a child's) */
		res->crash.npc = 0;
		res->crash.frames[0] = 0;
		c->trusted++;
		return 0;
	}
	static struct sfh_result in; /* the in-process verdict (one case at a time) */
	if (known)
		in = *res;
	rc = confirm(c, s, o, res);
	/* the child agreed with the in-process run: the site is confirmed */
	if (rc == 0 && known && !site && c->nsites < sizeof c->sites / sizeof c->sites[0] &&
	    res->verdict.kind == SFO_DIV_CRASH && res->sig_hash == in.sig_hash &&
	    strcmp(res->signature, in.signature) == 0 &&
	    strcmp(res->verdict.detail, in.verdict.detail) == 0) {
		struct sff_cases_site *n = &c->sites[c->nsites++];
		snprintf(n->signature, sizeof n->signature, "%s", res->signature);
		n->signo = res->crash.signo;
	}
	return rc;
}

void sff_cases_close(struct sff_cases *c)
{
	if (c->guarded) {
		watchdog(0);
		sigaction(SIGALRM, &c->old_alrm, NULL);
		c->guarded = 0;
	}
}
