/* Crash identity: where an in-process stack died, so that a crash's signature names its
 * site instead of the step it happened in.
 *
 * Two sources:
 * - an assertion the stack prints before it aborts (lwIP: `Assertion "split <= mss"
 *   failed at line 859 in ./src/core/tcp_out.c`): a target's hook hands the printed line
 *   to sfh_crash_note_output(), which parses it into the current sink;
 * - a signal: in an isolated child, handlers record the signal and the raw return
 *   addresses of the faulting thread into the sink (shared memory); the parent, which
 *   has the same address layout (fork), symbolizes them with dladdr.
 *
 * The sink is process-wide (a stack's print hook and a signal handler take no context):
 * one owner at a time sets it around a run. This module depends on the C library only,
 * so that a target's library can call it.
 */
#ifndef SYNFIN_CRASH_H
#define SYNFIN_CRASH_H

#include <stddef.h>
#include <stdint.h>

#define SFH_CRASH_FRAMES 16

struct sfh_crash {
	/* an assertion the stack printed (line 0: none) */
	uint32_t line;
	char file[64];	   /* basename of the file it names: "tcp_out.c" */
	char message[128]; /* its text: "split <= mss" */
	char text[224];	   /* the line as printed, without the newline */
	/* a signal that ended the case (0: none known) */
	int signo;
	uint32_t npc;			/* raw frames recorded, the faulting one first */
	uintptr_t pc[SFH_CRASH_FRAMES]; /* only meaningful in this process and its forks */
	/* filled by sfh_crash_finish() from the above */
	char site[96];	   /* "tcp_out.c:859", "libslirp.so.0+0x4c5a"; "" if unknown */
	char what[128];	   /* "split <= mss", "SIGSEGV" */
	char frames[1024]; /* symbolized frames, one a line: "#0 libslirp.so.0+0x4c5a" */
};

/* Forget everything recorded in c (cheap: for a loop that clears it per run). */
void sfh_crash_clear(struct sfh_crash *c);

/* Where notes go from now on (NULL: nowhere); returns the previous sink. */
struct sfh_crash *sfh_crash_sink(struct sfh_crash *c);

/* A line a stack printed: if it is an assertion's (`Assertion "MSG" failed at line N in
 * FILE`) and the sink holds none yet, it is recorded there. Safe to call with no sink. */
void sfh_crash_note_output(const char *text);

/* In a child about to run a case: handlers for SIGSEGV, SIGBUS, SIGILL, SIGFPE and SIGABRT
 * record the signal and the frames into the current sink, then die by the signal as
 * before (the parent still sees WTERMSIG). 0, or -1 if a handler could not be set. */
int sfh_crash_handlers_install(void);
/* From a handler of the crash signal sig (uc: its ucontext): record the signal and the
 * frames from the faulting one on (the handler's own frame and the signal trampoline
 * left out) into the current sink, unless it holds a signal already. backtrace() must
 * have run once before (sfh_crash_warm), so that the unwinder is not loaded in here. */
void sfh_crash_record(int sig, void *uc);
/* The faulting instruction's address in a handler's ucontext (0 where not known). */
uintptr_t sfh_crash_context_pc(void *uc);
/* Load the unwinder backtrace() needs now (once per process), so that children forked
 * afterwards inherit it instead of each loading it again when they install handlers. */
void sfh_crash_warm(void);

/* Complete c after the case ended (in the process that forked it, or itself): symbolize
 * the frames and derive site and what: the assertion when one was printed, else the
 * first frame outside the C library for a signal. */
void sfh_crash_finish(struct sfh_crash *c);

/* 1 if c identifies a site (the signature is the site, not the step). */
int sfh_crash_has_site(const struct sfh_crash *c);

/* Name of a crash signal ("SIGSEGV"), or NULL for another number. */
const char *sfh_crash_signame(int signo);

#endif
