/* synfin fuzz: libFuzzer campaigns over scenarios, minimization and triage.
 * The `synfin` command hands its fuzz, minimize and triage sub-commands here. */
#ifndef SYNFIN_FUZZ_H
#define SYNFIN_FUZZ_H

#include <signal.h>

#include "runner.h"

/* Run sub-command cmd ("fuzz", "minimize", "triage") with its own argv (argv[0] is cmd).
 * Returns the process exit code: 0 nothing found / success, 1 findings, 2 bad input. */
int sfh_cli_fuzz(const char *cmd, int argc, char **argv);

/* ---- cases of `synfin run` and `replay` (cases.c) ----
 * On a target in our process with in-process recovery (lwIP), cases run in this process
 * and only one whose stack aborted or hung is re-run in a child, whose verdict is the
 * case's; on other in-process targets (or with fork_each) every case runs in a child
 * (sfh_run_isolated); on a target outside our process, here. The verdicts are the same
 * either way. */
struct sff_cases {
	struct sfh_runner *runner;
	struct sfh_target *target;
	int fork;	    /* every case in a child */
	int guarded;	    /* in-process with recovery and a watchdog (SIGALRM) */
	unsigned confirmed; /* cases re-run in a child to confirm a crash or hang */
	/* 1: confirm every crash in a child, for its frames (`run` prints them); 0: an
	 * assertion whose site a child already confirmed is judged in-process */
	int confirm_each;
	unsigned trusted; /* crashes judged in-process at a site already confirmed */
	unsigned nsites;
	struct sff_cases_site {
		char signature[160]; /* a confirmed crash's: target, site and assertion */
		int signo;	     /* the signal that ended its child */
	} sites[32];
	struct sigaction old_alrm;
};
/* Decide how cases of t run (after opening t, before its first case). 0. */
int sff_cases_open(struct sff_cases *c, struct sfh_runner *r, struct sfh_target *t, int fork_each);
/* Run s: sfh_run's contract (0 with res filled, or -1 with res->err). */
int sff_cases_run(struct sff_cases *c, const struct sfh_scenario *s, const struct sfh_run_opts *o,
		  struct sfh_result *res);
/* Put back what sff_cases_open changed (the SIGALRM action, the timer). */
void sff_cases_close(struct sff_cases *c);

#endif
