/* The slirp target's entry points outside the target interface: in-process recovery from
 * a crash inside libslirp (fuzz/recover.c drives it; target_slirp_recover.c).
 *
 * libslirp has no assertions to divert: it crashes by faulting (the reassembly crash of
 * corpus/regress/slirp-reass-last-fragment-crash.scn is a SIGSEGV in tcp_reass). Every
 * case runs on an instance of its own (slirp_new ... slirp_cleanup), so after a fault
 * whose instruction lies in libslirp's own code the instance is abandoned, not repaired:
 * its host sockets are closed and its socket buffers freed, the rest of its memory is
 * left (the instance's lists may be garbage, and slirp_cleanup would walk them), and the
 * next case makes a new one. A fault anywhere else (the C library's heap, glib, synfin)
 * is not caught: what it leaves cannot be bounded. */
#ifndef SYNFIN_TARGET_SLIRP_H
#define SYNFIN_TARGET_SLIRP_H

#include <stddef.h>
#include <stdint.h>

#include "target.h"

/* Instances one process abandons at most: each leaves what it held but its sockets and
 * socket buffers, about 11 KiB (tests/fuzz/test_fuzz_recover_slirp.c measures it). After
 * that a crash takes the process down as it would without recovery. */
#define SFH_SLIRP_RECOVER_MAX 10000

/* 1 if t is a slirp target. */
int sfh_slirp_target_is(const struct sfh_target *t);

/* Prepare recovery: find libslirp's code in memory. 0, or -1 with a reason in err. */
int sfh_slirp_target_recoverable(struct sfh_target *t, char *err, size_t errlen);

/* 1 if pc lies in libslirp's code (found by sfh_slirp_target_recoverable) and the
 * process may still abandon an instance. Async-signal-safe: reads two words per range. */
int sfh_slirp_fault_recoverable(uintptr_t pc);

/* After a fault caught in libslirp: abandon the case's instance (its sockets closed, its
 * timers forgotten) so that the next reset makes a fresh one. 0, or -1 if t is not a
 * slirp target. */
int sfh_slirp_target_recover(struct sfh_target *t);

/* Instances abandoned so far in this process. */
uint32_t sfh_slirp_recovered(void);

#endif
