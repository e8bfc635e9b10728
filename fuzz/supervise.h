/* Supervision of a campaign's worker processes: a worker never outlives the `synfin
 * fuzz` command that started it. No printing here.
 *
 * Two mechanisms, because libFuzzer starts processes of its own (-jobs, -fork) through the
 * shell, whose parent is not the command:
 *   - the worker the command forks sets PR_SET_PDEATHSIG (SIGKILL) and then checks that
 *     its parent is still the command (it may have died between fork and prctl);
 *   - the command holds the only write end of a pipe whose read end every worker inherits
 *     (its number in SYNFIN_SUPERVISOR_FD); a thread in each worker blocks reading it and
 *     ends the process when it reads end-of-file: the command is gone, however it died. */
#ifndef SYNFIN_FUZZ_SUPERVISE_H
#define SYNFIN_FUZZ_SUPERVISE_H

#include <sys/types.h>

#define SFF_SUP_ENV "SYNFIN_SUPERVISOR_FD"

/* In the forked worker: SIGKILL when the parent dies, and -1 if it is not `parent` any
 * more (already re-parented). 0 otherwise. */
int sff_sup_bind_parent(pid_t parent);

/* In the forked worker, before it execs or runs libFuzzer: keep the pipe's read end
 * rfd open across exec, close the write end wfd, and name rfd in SFF_SUP_ENV. 0 or -1. */
int sff_sup_hand_down(int rfd, int wfd);

/* In every worker: when SFF_SUP_ENV names a descriptor, a detached thread ends the
 * process (_exit(exit_code)) as soon as the supervisor is gone. 0 (also when the variable
 * is not set), or -1. */
int sff_sup_watch(int exit_code);

/* Remove OUT/.tmp-* finding directories left by writers that no longer run (a worker
 * killed while it wrote a finding); never follows a link. Returns how many. */
int sff_sup_remove_stale(const char *out);

#endif
