/* The linux profile: RFC 9293 plus the choices Linux makes that synfin accepts, each with
 * its reason. Timer figures are the kernel's own (6.x, HZ=250, defaults inside the linux
 * target's namespace), measured through the target where noted:
 * - TIME-WAIT: TCP_TIMEWAIT_LEN, 60 s (RFC: 2 x MSL = 4 min; RFC 9293 §3.4.2 lets MSL be
 *   an engineering choice).
 * - Retransmission: initial RTO TCP_TIMEOUT_INIT = 1 s (RFC 6298); SYN-ACK retransmitted
 *   at 1, 3, 7, 15, 31 s, the request dropped at ~63 s (tcp_synack_retries = 5); SYN at
 *   1, 2, 3, 4, 5, 7, 11, 19, 35, 69 s (tcp_syn_linear_timeouts = 4), given up after
 *   ~2 min. Once an RTT is measured the RTO floor is TCP_RTO_MIN = 200 ms, but a tail
 *   loss probe (RFC 8985) may retransmit two jiffies (8 ms) after the last send when more
 *   than one segment is in flight, and SYN-SENT retransmits its SYN 8 ms after an
 *   unacceptable ACK: rto_min_ms is therefore 8.
 * - Delayed ACK: at most TCP_DELACK_MAX = 200 ms (RFC 9293 MUST-40: 500 ms); 40 ms
 *   (TCP_ATO_MIN) in practice, one tick after a FIN that came before any data.
 * - Orphaned FIN-WAIT-2: tcp_fin_timeout = 60 s, then silently gone.
 * - Giving up: the earliest is a passive open in SYN-RECEIVED, ~63 s; an orphan after
 *   8 retries (~100 s); an ESTABLISHED connection after tcp_retries2 = 15 (~15 min).
 * Checked against the running kernel (6.18, HZ=250) inside the target's namespace: the
 * sysctls read tcp_rto_min_us = 200000, tcp_syn_retries = 6, tcp_syn_linear_timeouts = 4,
 * tcp_synack_retries = 5, tcp_fin_timeout = 60; measured, a SYN went out again at 1.036,
 * 2.057, 3.082, 4.109, 5.127, 7.143, 11.24, 19.43, 35.57 and 69.36 s and the connect
 * gave up before 135 s; a SYN-ACK at 1.023, 3.038, 7.100, 15.29 and 31.42 s and the
 * request was gone before 70 s. Kernel timers fire up to 1/8 of their timeout late (the
 * timer wheel): rto_must_ms keeps 1 s + 50 %, and the linux target waits a tolerance for
 * a timer due at the end of a wait (docs/targets.md), so late is never a divergence.
 *
 * Flags beyond RFC 9293:
 * - SFO_PF_ACK_BELOW_ISS: tcp_ack() rejects SEG.ACK < SND.UNA - min(MAX.SND.WND, octets
 *   acknowledged so far) ("do not accept ACK for bytes we never sent", RFC 5961 5.2
 *   tightened): before anything past the SYN is acknowledged, an ACK at or below ISS
 *   draws a challenge ACK and the whole segment, text and FIN included, is dropped.
 *   RFC 9293 3.10.7.4 would ignore the duplicate ACK and take the text. Deliberate, and
 *   narrow: only ACK values that acknowledge octets never sent (rule ack.below.iss).
 * - SFO_PF_RCV_WUP: tcp_sequence() takes a segment whose end is not before rcv_wup, the
 *   RCV.NXT of the last window Linux announced ("borrowed from freebsd"), so the ACK of a
 *   retransmitted FIN is processed. RFC 9293 Appendix A.2: common systems use different
 *   mitigations of this kind and the standard has not codified one, so it is no breach
 *   of the first check (rule seq.rcv.wup). What it does not cover, e.g. a zero-length
 *   segment at the right edge, is still judged by Table 6.
 */
#include "profiles_priv.h"

static const struct sfo_accept accept_linux[] = {
    {"ack.dup", SFO_DIV_UNEXPECTED,
     "RFC 9293 3.10.7.4 says a duplicate ACK (SEG.ACK =< SND.UNA) 'can be ignored': a reply "
     "is not forbidden. Linux answers an ACK below SND.UNA - min(MAX.SND.WND, octets "
     "acknowledged so far), i.e. one acknowledging octets it never sent, with the RFC 5961 "
     "5.2 challenge ACK (tcp_ack(): 'do not accept ACK for bytes we never sent')"},
    {NULL, -1, NULL},
};

const struct sfo_profile sfo_profile_linux = {
    .name = "linux",
    .summary = "RFC 9293 with linux's accepted choices",
    .flags = SFO_PF_RFC5961_OK | SFO_PF_TW_SYN_REOPEN | SFO_PF_ACK_BELOW_ISS | SFO_PF_RCV_WUP,
    .msl2_ms = 60000,
    .rto_min_ms = 8,
    .rto_must_ms = 1500,
    .delack_max_ms = 200,
    .fin2_timeout_ms = 60000,
    .user_timeout_ms = 63000,
    .accept = accept_linux,
};
