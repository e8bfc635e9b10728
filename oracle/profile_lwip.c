/* The lwip profile: RFC 9293 plus the choices lwIP 2.1.3 makes that synfin accepts, each
 * with its reason. Timer figures are lwIP's own: read from lwIP 2.1.3's tcp_priv.h and
 * tcp.c with Debian's lwipopts.h (which changes none of them), and measured through the
 * lwip target on virtual time (tests/targets/test_lwip.c checks the main ones).
 *
 * lwIP runs tcp_fasttmr every 250 ms and tcp_slowtmr every 500 ms (TCP_TMR_INTERVAL);
 * every TCP timer counts whole ticks, so each figure has up to one tick of jitter.
 * - 2MSL: TCP_MSL is 60 s, so TIME-WAIT lasts 2 x 60 s = 120 s (gone at 120.25 s in our
 *   grid), counted from the last segment received. RFC 9293 §3.4.2 calls MSL = 2 min "an
 *   engineering choice": a shorter MSL is lwIP's choice, and this profile requires 120 s.
 * - RTO: initial 3 s (rto = 3000 / TCP_SLOW_INTERVAL ticks), so the first SYN-ACK, SYN or
 *   data retransmission comes 2.5-3 s after the original; RTT samples can bring it down
 *   to 3 ticks (1-1.5 s, the floor of (sa >> 3) + sv) and large samples raise it.
 *   Backoff shifts by tcp_backoff[] = 1,2,3,4,5,6,7,7...; SYN-SENT never backs off.
 * - Delayed ACK: at the next tcp_fasttmr, at most 250 ms; a second full segment is
 *   acknowledged at once.
 * - FIN-WAIT-2: TCP_FIN_WAIT_TIMEOUT 20 s, only after close() (not after shutdown), and
 *   counted from the last segment received *before* close(): a connection idle for 20 s
 *   before close() leaves FIN-WAIT-2 at the next slow tick. Silent (no RST).
 * - SYN-RECEIVED: TCP_SYN_RCVD_TIMEOUT 20 s (gone at 20.25 s, back to LISTEN, silent);
 *   SYN-ACK retransmissions at 2.75 s and 8.75 s before that.
 * - SYN-SENT: TCP_SYNMAXRTX 6 retransmissions every 3 s, then the pcb is dropped at
 *   18.25 s, silently (RFC 9293 MUST-20 asks for at least 3 minutes: not accepted here).
 * - LAST-ACK: dropped 2 x TCP_MSL = 120 s after the last segment received, silently.
 * - User timeout: TCP_MAXRTX 12 retransmissions, then dropped silently: ~1150 s at the
 *   smallest RTO, 1917.75 s measured after a handshake answered at once, ~2300 s from the
 *   initial RTO. All above RFC 9293's 100 s (R2), so the RFC figure stands.
 *
 * Flags beyond RFC 9293:
 * - SFO_PF_RFC1337: tcp_timewait_input() returns on any RST ("RFC 1337: in TIME_WAIT,
 *   ignore RST and ACK FINs + any 'acceptable' segments"), deliberately, against TIME-WAIT
 *   assassination. RFC 9293 §3.10.7.4 says a RST in TIME-WAIT enters CLOSED, so the
 *   rfc9293 profile reports it (timewait.rst state); this profile lets TIME-WAIT stay.
 */
#include "profiles_priv.h"

static const struct sfo_accept accept_lwip[] = {
	/* tcp_process(), SYN_SENT: "received ACK but not SYN-ACK: send RST and resend SYN
	 * immediately to establish connection faster" (rto = 0 and tcp_rexmit_rto). RFC 6298
	 * would wait for the RTO (at least 1 s, a SHOULD): a deliberate, bounded deviation
	 * (SYN-SENT only, once per unacceptable ACK). */
	{"rtx.early.syn", SFO_DIV_UNEXPECTED,
	 "lwIP resends its SYN at once after the RST for an unacceptable ACK in SYN-SENT "
	 "('resend SYN immediately to establish connection faster'), before the RTO"},
	/* tcp_abort() is documented as "Aborts the connection by sending a RST" and
	 * tcp_abandon() sends it in every state but CLOSED and TIME-WAIT: in SYN-SENT,
	 * CLOSING and LAST-ACK too, where RFC 9293 §3.10.5 deletes the TCB quietly. The RST
	 * (SEQ=SND.NXT) tells the peer sooner; lwIP never sends it in TIME-WAIT or LISTEN. */
	{"call.abort.quiet", SFO_DIV_UNEXPECTED,
	 "lwIP's tcp_abort() always resets (tcp_abandon sends RST in SYN-SENT, CLOSING and "
	 "LAST-ACK too); RFC 9293 3.10.5 deletes the TCB there without a RST"},
	{NULL, -1, NULL},
};

const struct sfo_profile sfo_profile_lwip = {
	.name = "lwip",
	.summary = "RFC 9293 with lwIP 2.1.3's timers (2MSL 120 s, delayed ACK 250 ms)",
	.flags = SFO_PF_RFC5961_OK | SFO_PF_RFC1337,
	.msl2_ms = 120000,
	.rto_min_ms = 1000,
	.rto_must_ms = 3000,
	.delack_max_ms = 250,
	.fin2_timeout_ms = 20000,
	.user_timeout_ms = 100000,
	.accept = accept_lwip,
};
