/* The slirp profile: RFC 9293 plus the choices libslirp 4.7.0 makes that synfin accepts,
 * each with its reason. Timer figures are slirp's own: read from libslirp's BSD-derived
 * tcp_timer.h / tcp_timer.c / slirp.c and measured through the slirp target on virtual
 * time (tests/targets/test_slirp.c checks the main ones).
 *
 * slirp runs every TCP timer but the delayed ACK from its slow timeout (PR_SLOWHZ = 2, one
 * tick every TIMEOUT_SLOW = 499 ms of clock_get_ns, in slirp_pollfds_poll); timers count
 * whole ticks, so a figure of N ticks means (N-1) x 499 ms to N x 499 ms.
 * - 2MSL: TCPTV_MSL is 5 * PR_SLOWHZ = 10 ticks, 5 s ("max seg lifetime (hah!)"), and
 *   TIME-WAIT is 2 x TCPTV_MSL = 20 ticks: 9.48-9.98 s (10 s measured on a 10 ms grid). RFC 9293
 * §3.4.2 makes MSL an engineering choice, MUST-13 asks for 2 x MSL: this profile requires slirp's 2
 * x 5 s (the rfc9293 profile reports it).
 * - RTO: t_rxtcur starts at 12 ticks (srtt 0, rttvar 3 s << 2: 6 s). The first SYN-ACK or
 *   SYN retransmission comes at 6 s, then every 12 s (TCPTV_REXMTMAX 24 ticks caps every
 *   backed-off interval). RTT samples move it within [TCPTV_MIN 2 ticks, 24 ticks]: 1.5 s
 *   after a handshake answered at once (data retransmitted at 1.5, 4.5, 10.5, 22.5 s...),
 *   up to 12 s after slow answers. Earliest possible: 1 tick (499 ms) when the timer is
 *   armed at a tick; latest first one: 24 ticks (11.976 s).
 * - Delayed ACK: TF_DELACK is served by the fast timeout, TIMEOUT_FAST = 2 ms after
 *   slirp_pollfds_fill saw it. Most in-order data is acknowledged at once (header
 *   prediction sets TF_ACKNOW: "it is better to not delay acks at all"); data that misses
 *   the prediction (it acknowledges new data, or the window moved) waits those 2 ms.
 * - FIN-WAIT-2: once slirp can read no more from its application (after our SHUTDOWN or
 *   CLOSE alike: a host socket's EOF), the 2MSL timer is armed with TCP_MAXIDLE = 1200
 *   ticks, re-armed for TCPTV_KEEPINTVL = 150 ticks while the peer was heard within
 *   TCP_MAXIDLE: the connection goes silently 1350 ticks (673.6 s; 675 s measured on a
 *   1 s grid) after the last segment received.
 * - SYN-RECEIVED and SYN-SENT: TCPTV_KEEP_INIT = 150 ticks (74.85 s after the SYN): the
 *   passive side sends RST and the guestfwd listener is back in LISTEN; the active side
 *   closes silently. SYN-ACK / SYN retransmissions at 6, 18, 30, 42, 54, 66 s before.
 *   RFC 9293 §3.8.3 asks for at least 3 minutes of SYN retransmission (MUST-20 for
 *   SYN-SENT): reported, not accepted.
 * - User timeout: TCP_MAXRXTSHIFT 12, but slirp does not drop at the 13th timeout: it
 *   halves t_maxseg and retries 6 more at 12 s until t_maxseg < 32, then drops with RST:
 *   550.5 s for 100 octets at MSS 1460 (measured), ~123 s at least with any MSS. Above
 *   RFC 9293's R2 of 100 s, so the RFC figure stands.
 * - Keep-alives: off (slirp_do_keepalive is false): no probes, idle connections stay.
 */
#include "profiles_priv.h"

static const struct sfo_accept accept_slirp[] = {
    /* 4.4BSD-Lite's tcp_input trims a duplicate SYN in SYN-RECEIVED to nothing and, the
     * segment having no ACK bit, drops it without answering; the SYN-ACK goes again when
     * its retransmission timer fires. RFC 9293 §3.10.7.4 says an unacceptable segment
     * "should" be acknowledged (lowercase, no requirement id): a MAY-level choice. */
    {"synrcvd.syn.dup", SFO_DIV_MISSING,
     "slirp (4.4BSD-Lite) drops a duplicate SYN in SYN-RECEIVED silently; the SYN-ACK is "
     "retransmitted by its timer (RFC 9293 3.10.7.4: an ACK 'should' answer it)"},
    /* 4.4BSD's tcp_output sets FIN on every segment while its FIN is unacknowledged
     * (TF_SENTFIN with snd_nxt pulled back over the FIN), so each ACK slirp sends in
     * FIN-WAIT-1, CLOSING and LAST-ACK carries the FIN again. It acknowledges correctly
     * and repeats no data: a SHOULD-level departure from the RTO (RFC 6298), by design. */
    {"rtx.early.fin", SFO_DIV_UNEXPECTED,
     "slirp (4.4BSD tcp_output) repeats its unacknowledged FIN on every ACK it sends; "
     "the ACK is right and no data is resent (RFC 6298's RTO is a SHOULD)"},
    {NULL, -1, NULL},
};

const struct sfo_profile sfo_profile_slirp = {
    .name = "slirp",
    .summary = "RFC 9293 with libslirp 4.7.0's timers (2MSL 10 s, RTO 6 s, delayed ACK 2 ms)",
    .flags = SFO_PF_RFC5961_OK,
    .msl2_ms = 9481,	  /* 19 ticks + 1 ms: the shortest TIME-WAIT slirp can give */
    .rto_min_ms = 499,	  /* one tick: a 2-tick timer armed at a tick */
    .rto_must_ms = 12000, /* TCPTV_REXMTMAX: no interval is longer, whatever the RTT */
    .delack_max_ms = 2,	  /* TIMEOUT_FAST */
    .fin2_timeout_ms = 673000,
    .user_timeout_ms = 100000,
    .accept = accept_slirp,
};
