/* The process-wide glue between synfin and lwIP 2.1.3 (Debian's shared library).
 *
 * lwIP keeps all of its state in globals, so there is exactly one lwIP per process: it is
 * initialised once (lwip_init() again is not a reset), one owner at a time drives it, and
 * its clock and ISNs come from here. This file's companion (target_lwip_sys.c) defines
 * sys_now() and tcp_next_iss() in the executable: lwIP calls both through the PLT, so
 * these definitions replace the library's (checked with objdump; tests prove it).
 *
 * Time is virtual: it only moves through sfh_lwip_advance(), which calls tcp_tmr() once
 * per 250 ms boundary crossed (tcp_fasttmr every tick, tcp_slowtmr every other one), so
 * a wait of 240 s costs microseconds. Users: the lwip target, and the raw loop of
 * bench/bench_lwip.c, which drives lwIP with no synfin layer in between.
 */
#ifndef SYNFIN_TARGET_LWIP_H
#define SYNFIN_TARGET_LWIP_H

#include <stdint.h>

/* Take lwIP for owner (lwip_init() on the first claim in the process). 0, or -1 if
 * another owner holds it: only one lwIP user may exist at a time. */
int sfh_lwip_claim(const void *owner);
/* Give lwIP back (a no-op unless owner holds it). Whatever owner created in lwIP must
 * be gone by then. */
void sfh_lwip_release(const void *owner);

/* Keep lwIP's globals as they are now (initialised, no pcb) as the state every case
 * starts from (sfh_lwip_case_start copies them back, with the clock of this moment),
 * so that no case depends on the ones before it. 0, or -1 with why in err. */
int sfh_lwip_fresh_take(char *err, size_t errlen);
/* Forget it (before the netif it refers to goes). */
void sfh_lwip_fresh_drop(void);

/* Start a case: call only when no TCP pcb is active or in TIME-WAIT. Puts lwIP's globals
 * back to sfh_lwip_fresh_take's state if there is one. Moves the clock
 * to the next 500 ms boundary and aligns lwIP's timer phase, so that every case sees
 * its first tcp_tmr() 250 ms after it starts and tcp_slowtmr() at 250, 750, 1250 ms...
 * whatever ran before it. The ISNs handed out next are iss, iss + 64000, ... */
void sfh_lwip_case_start(uint32_t iss);
/* On: tcp_next_iss() defers to liblwip's own generator (iss += tcp_ticks in lwIP 2.1.3)
 * instead of the deterministic one above, so `synfin isn` judges lwIP's, not synfin's. */
void sfh_lwip_iss_own(int on);
/* Let ms of virtual time pass, running every TCP timer that falls due. */
void sfh_lwip_advance(uint32_t ms);
/* Step every tick (on) instead of jumping over ticks provably without effect (the
 * default: runs of ticks with only TIME-WAIT pcbs). For the tests that prove both
 * give the same packets and states. */
void sfh_lwip_set_slow_time(int on);
/* Milliseconds of virtual time since the current case started. */
uint64_t sfh_lwip_case_ms(void);

/* ---- recovery from lwIP's assertions ----
 * Debian's lwIP asserts with printf, fflush and abort(). With recovery prepared, lwIP's
 * abort() calls a hook instead, which takes control back (longjmp); lwIP is then
 * returned to a snapshot of its globals taken when no pcb existed. Not for sanitizer
 * builds (longjmp over instrumented frames; ASan's own malloc). */

/* Snapshot lwIP's writable data now (initialised, no pcb may exist); once per process,
 * divert lwIP's calls to abort() to the hook, and its malloc/calloc/free to wrappers
 * that track its heap blocks. 0, or -1 with why in err. */
int sfh_lwip_snapshot_take(char *err, size_t errlen);
/* Put the snapshot back: lwIP believes no pcb exists, and every heap block it allocated
 * since is freed. 0, or -1 if there is no snapshot. */
int sfh_lwip_snapshot_restore(void);
/* Forget the snapshot (it refers to a netif about to go); the hook is cleared. */
void sfh_lwip_snapshot_drop(void);
/* Octets copied back by a restore (0: no snapshot). */
size_t sfh_lwip_snapshot_size(void);
/* While fn is set (and a snapshot exists), an lwIP assertion calls fn(ctx) instead of
 * abort(); fn must not return (longjmp). The hook clears itself before calling fn. */
void sfh_lwip_set_abort_hook(void (*fn)(void *ctx), void *ctx);
/* Take control back as an assertion would: call the hook if one is set (it does not
 * return), else nothing. For a watchdog's signal handler (a case that does not end). */
void sfh_lwip_abort_now(void);

struct sfh_target;
/* The lwip target's part: 1 if t is an lwip target. */
int sfh_lwip_target_is(const struct sfh_target *t);
/* Prepare t for recovery: snapshot lwIP with t's netif set up (call between cases, as
 * right after opening). 0, or -1 with why in err. */
int sfh_lwip_target_recoverable(struct sfh_target *t, char *err, size_t errlen);
/* After an assertion's hook took control back mid-case: restore lwIP and t's netif to
 * the snapshot and forget t's per-case state, so the next reset() starts clean. */
int sfh_lwip_target_recover(struct sfh_target *t);

#endif
