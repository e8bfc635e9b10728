/* synfin scenarios: the test case, in a readable text form and a compact binary form.
 *
 * A scenario gives the target a role (passive: it listens; active: it connects to us)
 * and an ordered list of events. Sequence and acknowledgment numbers are written
 * relative to anchors (see enum sfh_anchor), so mutated numbers stay meaningful.
 *
 * Text form (one event per line, '#' starts a comment):
 *
 *   role passive                      # or: role active
 *   in S seq=pisn win=64240 mss=1460 ws=7 sackok ts=100,0
 *   out S. ack=pisn+1                 # optional assertion on the last step's output
 *   in . ack=tnxt                     # seq defaults to pnxt, ack to tnxt
 *   expect state ESTABLISHED          # optional assertion on the target's state
 *   call send 100
 *   in F. len=10
 *   wait 500
 *   call close
 *
 * Flags are tcpdump letters: S F R P U E W, and '.' for ACK ("S." = SYN+ACK), in any
 * order, each at most once; '-' (or, for `in` only, the word `none`) is a segment with
 * no flags at all ("out none" means: nothing emitted).
 *
 * Grammar (keywords and anchors are lower case, states as in RFC 9293, any case):
 *
 *   role    passive | active                  required, the first non-comment line
 *   isn     pisn=N tisn=N                      optional, once, before the first event
 *   family  ipv4 | ipv6                        optional, once, before the first event
 *   in      FLAGS [seq=NUM] [ack=NUM] [win=N] [len=N] [up=N] [mss=N] [ws=N] [sackok]
 *                 [ts=TSNUM,TSNUM]             options in any order, each at most once
 *   out     none | FLAGS [seq=NUM] [ack=NUM] [len=N]
 *           out also: [win=N] [mss=N|nomss] [ws=N|nows] [sackok|nosackok]
 *                 [ts=TSPAT,TSPAT|nots] [order=KIND,...] [@+Nms [+-Nms]]
 *   TSPAT   TSNUM[..TSNUM] | *                 a value, a range (same anchor), any
 *   KIND    mss ws sackok ts sack other        order= lists kinds in wire order
 *   timers  [rto_init=D] [rto_min=D] [delack=D] [msl=D]   optional, once, before events
 *   call    listen | connect | accept | send N | receive [N] | shutdown | close | abort
 *   call    ... [=> N | => ERRNAME]             what it returned: octets (0: ok, or for
 *                                              receive end of stream), or an errno name
 *   wait    N | Nms | Ns                       milliseconds unless `s`
 *   expect  state NAME                         e.g. SYN-RECEIVED
 *   SEL     conn=N | listener                  after any in/out/call/expect line (not wait):
 *                                              connection N (1..SFH_MAX_CONNS) or the listener
 *                                              (on a call, before its `=> RESULT`)
 *   NUM     ANCHOR[+N|-N] | N                  ANCHOR: pisn tisn pnxt tnxt tuna wend
 *   TSNUM   TSANCHOR[+N|-N] | N                TSANCHOR: ptsv ttsv (enum sfh_ts_anchor)
 *   N       decimal or 0x hex; 32 bits, and win/up/mss <= 65535, ws <= 14,
 *           in len <= SFH_MAX_PAYLOAD, out len <= 65535
 *
 * Defaults: seq=pnxt ack=tnxt win=SFH_DEFAULT_WND len=0 up=0, no options; receive 0
 * (all queued). Errors read "file:line:col: reason", col 1-based in bytes.
 *
 * ISNs: `isn` fixes synfin's ISN (pisn) and the one the target is asked to use (tisn:
 * the model and lwIP take it; other stacks choose their own). Without it both are the
 * defaults below. A run is a function of the scenario alone: the case number a runner
 * hands out picks ports, never ISNs, so a scenario gives the same trace wherever it runs
 * in a batch (tests/fuzz/test_fuzz_fresh.c).
 *
 * The binary form is what libFuzzer mutates; decoding it is total: every byte string
 * decodes to a valid scenario of at most SFH_MAX_EVENTS events. Its layout is described
 * at the top of scenario_bin.c.
 */
#ifndef SYNFIN_SCENARIO_H
#define SYNFIN_SCENARIO_H

#include <stddef.h>
#include <stdint.h>

#include "oracle.h"

#define SFH_MAX_EVENTS 64
#define SFH_MAX_PAYLOAD 1400 /* largest payload an `in` segment may carry */
#define SFH_DEFAULT_WND 65535 /* an `in` segment's window when the text gives no win= */
#define SFH_MAX_ENCODED	 (1 + 21 + SFH_MAX_EVENTS * 73) /* sfh_scn_encode never needs more */
#define SFH_DEFAULT_PISN 0x9e3779b9u /* synfin's ISN when the scenario has no `isn` line */
#define SFH_DEFAULT_TISN 0x5eed0000u /* the ISN asked of the target then */

enum sfh_role { SFH_ROLE_PASSIVE, SFH_ROLE_ACTIVE };

/* Selectors (sfh_event.sel): which TCB of the case an event addresses. A scenario that
 * names none has one TCB, as it always had (the listener becomes the connection); one
 * that names any keeps the listener apart from its connections, each connection on its
 * own 4-tuple (docs/scenario-language.md, "Listeners and several connections"). */
#define SFH_MAX_CONNS	 4		     /* conn=1 .. conn=SFH_MAX_CONNS */
#define SFH_SEL_NONE	 0		     /* no selector: the default */
#define SFH_SEL_LISTENER (SFH_MAX_CONNS + 1) /* `listener` */

/* Anchors for sequence and acknowledgment numbers. */
#define SFH_ANCHORS(X)                                                                     \
	X(ABS, "")      /* an absolute 32-bit value (offset holds it) */                   \
	X(PISN, "pisn") /* the peer's (synfin's) ISN */                                    \
	X(TISN, "tisn") /* the target's ISN, learned from its SYN or SYN-ACK (0 before) */ \
	X(PNXT, "pnxt") /* the peer's next sequence number: the target's RCV.NXT */        \
	X(TNXT, "tnxt") /* the target's SND.NXT: what the peer acknowledges */             \
	X(TUNA, "tuna") /* the target's SND.UNA */                                         \
	X(WEND, "wend") /* the right edge of the target's window: RCV.NXT + RCV.WND */

enum sfh_anchor {
#define SFH_X(id, name) SFH_A_##id,
	SFH_ANCHORS(SFH_X)
#undef SFH_X
};
/* The count stays outside the enum so that switches need no sentinel case. */
#define SFH_X(id, name) +1
enum { SFH_NANCHORS = 0 SFH_ANCHORS(SFH_X) };
#undef SFH_X

/* Anchors for the two values of a Timestamps option (RFC 7323 §3): a handshake that
 * negotiates timestamps echoes the target's TSval in its TSecr (`ts=ptsv+1,ttsv`), which
 * no literal can do since the target picks its clock. Offsets are taken mod 2^32. */
#define SFH_TS_ANCHORS(X)                                                                  \
	X(ABS, "")      /* the value itself */                                             \
	X(PTSV, "ptsv") /* TSval of our last segment with a timestamp (0 before) */        \
	X(TTSV, "ttsv") /* TSval of the target's last segment with one (0 before) */

enum sfh_ts_anchor {
#define SFH_X(id, name) SFH_TS_##id,
	SFH_TS_ANCHORS(SFH_X)
#undef SFH_X
};
#define SFH_X(id, name) +1
enum { SFH_NTS_ANCHORS = 0 SFH_TS_ANCHORS(SFH_X) };
#undef SFH_X

/* Option kinds an `out` line's order= names (wire kinds: 2 3 4 8 5; OTHER: any other
 * kind than NOP and EOL). */
#define SFH_OPTKINDS(X)                                                                            \
	X(MSS, "mss", 2)                                                                           \
	X(WS, "ws", 3)                                                                             \
	X(SACKOK, "sackok", 4)                                                                     \
	X(TS, "ts", 8)                                                                             \
	X(SACK, "sack", 5)                                                                         \
	X(OTHER, "other", 255)

enum sfh_optkind {
#define SFH_X(id, name, kind) SFH_OK_##id,
	SFH_OPTKINDS(SFH_X)
#undef SFH_X
};
#define SFH_X(id, name, kind) +1
enum { SFH_NOPTKINDS = 0 SFH_OPTKINDS(SFH_X) };
#undef SFH_X
#define SFH_MAX_ORDER 8 /* entries of an order= list */
const char *sfh_optkind_name(enum sfh_optkind k);
/* The option kind of a wire kind octet (never NOP or EOL). */
enum sfh_optkind sfh_optkind_of(uint8_t wire_kind);

/* Per-case timer settings (`timers` line), in the order of the binary form's ROLE bits
 * 4-7. A target honours what it can (sfh_target.timers_can); the model judges with them. */
#define SFH_TIMERS(X)                                                                              \
	X(RTO_INIT, "rto_init") /* the initial RTO (RFC 6298 2.1: 1 s) */                          \
	X(RTO_MIN, "rto_min")	/* the RTO's lower bound (RFC 6298 2.4) */                         \
	X(DELACK, "delack")	/* the delayed-ACK timeout (RFC 9293 3.8.6.3, MUST-40) */          \
	X(MSL, "msl")		/* the Maximum Segment Lifetime (RFC 9293 3.4.2) */

enum sfh_timer {
#define SFH_X(id, name) SFH_TM_##id,
	SFH_TIMERS(SFH_X)
#undef SFH_X
};
#define SFH_X(id, name) +1
enum { SFH_NTIMERS = 0 SFH_TIMERS(SFH_X) };
#undef SFH_X
const char *sfh_timer_name(enum sfh_timer k);

/* anchor + signed offset; for SFH_A_ABS the offset is the value itself. */
struct sfh_num {
	uint8_t anchor;
	int64_t off; /* within [-2^32+1, 2^32-1]; arithmetic is mod 2^32 */
};

/* An `in` segment before anchors are resolved. */
struct sfh_in {
	struct sfh_num seq, ack;
	uint32_t len;          /* payload octets, <= SFH_MAX_PAYLOAD */
	uint32_t tsval, tsecr; /* with SFO_OPT_TS: values, or offsets (mod 2^32) from ... */
	uint8_t tsval_a, tsecr_a; /* ... enum sfh_ts_anchor (0: literal; 0 without TS) */
	uint16_t wnd;
	uint16_t up;
	uint16_t mss;          /* with SFO_OPT_MSS */
	uint8_t flags;         /* SFO_* flags */
	uint8_t opts;          /* SFO_OPT_* */
	uint8_t wscale;        /* with SFO_OPT_WSCALE */
	uint8_t has_seq, has_ack; /* 0: defaults (seq=pnxt, ack=tnxt) */
};

/* An `out` assertion: the Nth segment the previous step emitted fits this. */
struct sfh_out {
	struct sfh_num seq, ack;
	uint32_t len;
	uint8_t flags; /* exact flag set, PSH ignored */
	uint8_t has_seq, has_ack, has_len;
	uint8_t none;  /* `out none`: the previous step emitted nothing */
	/* Options and window (docs/scenario-language.md, "Option and window assertions"). */
	uint8_t opt_want;	  /* SFO_OPT_* that must be present, with the values below */
	uint8_t opt_none;	  /* SFO_OPT_* that must be absent (nomss nows nosackok nots) */
	uint8_t has_wnd;	  /* win= */
	uint8_t wscale;		  /* with SFO_OPT_WSCALE in opt_want, <= 14 */
	uint16_t wnd;		  /* the raw window field */
	uint16_t mss;		  /* with SFO_OPT_MSS in opt_want */
	uint8_t tsval_a, tsecr_a; /* enum sfh_ts_anchor of the two ts= values */
	uint32_t tsval, tsecr;	  /* low ends: literal or offset from the anchor, mod 2^32 */
	uint32_t tsval_span, tsecr_span; /* value in [low, low+span] mod 2^32; 2^32-1: any */
	uint8_t norder; /* order=: the options' kinds in wire order (NOP, EOL skipped) */
	uint8_t order[SFH_MAX_ORDER]; /* enum sfh_optkind */
	/* Timing (docs/scenario-language.md, "Timing"): emitted at_ms +- tol_ms after the
	 * time of the previous line (an `out`: its segment's emission; else the step's start) */
	uint8_t has_at;
	uint32_t at_ms, tol_ms;
};

enum sfh_ev_type { SFH_EV_IN, SFH_EV_CALL, SFH_EV_WAIT, SFH_EV_OUT, SFH_EV_EXPECT_STATE };

struct sfh_event {
	enum sfh_ev_type type;
	uint32_t line; /* source line in the text form (0 if decoded from binary) */
	union {
		struct sfh_in in;
		struct {
			enum sfo_call call;
			uint32_t arg;
			uint8_t has_res; /* a `=> RESULT` assertion on what the call returned */
			uint8_t res_err; /* ... enum sfo_err: an error, or SFO_ERR_OK ... */
			uint32_t res_n;	 /* ... with this count (octets; 0 for other calls) */
		} call;
		uint32_t wait_ms;
		struct sfh_out out;
		enum sfo_state state;
	} u;
	uint8_t sel; /* SFH_SEL_NONE, 1..SFH_MAX_CONNS (conn=N) or SFH_SEL_LISTENER */
};

struct sfh_scenario {
	enum sfh_role role;
	uint8_t has_isn; /* an `isn` line: pisn and tisn below; else the defaults */
	uint32_t pisn, tisn;
	uint32_t nev;
	struct sfh_event ev[SFH_MAX_EVENTS];
	uint8_t timers;			/* `timers` line: bit per enum sfh_timer given */
	uint32_t timer_ms[SFH_NTIMERS]; /* ... its value in ms (0 when not given) */
	uint8_t ipv6; /* `family ipv6`: the case runs over IPv6 (0: IPv4, the default) */
};

/* Parse the text form. `fname` is used in error messages only. Returns 0, or -1 with
 * "fname:line:col: reason" in err. *out is fully written only on success. */
int sfh_scn_parse(const char *text, size_t len, const char *fname, struct sfh_scenario *out,
		  char *err, size_t errlen);

/* Read and parse a file; errors as sfh_scn_parse (including I/O errors, "fname: reason"). */
int sfh_scn_load(const char *path, struct sfh_scenario *out, char *err, size_t errlen);
/* A whole file (at most 1 MiB) into a new NUL-terminated buffer (*text, free() it) of *len
 * octets. 0, or -1 with "path: reason" in err. */
int sfh_file_read(const char *path, char **text, size_t *len, char *err, size_t errlen);

/* Write the text form into buf (NUL-terminated, truncated to cap). Returns the length
 * the full text needs, excluding the NUL, like snprintf. Parsing it gives back *s. */
size_t sfh_scn_format(const struct sfh_scenario *s, char *buf, size_t cap);

/* Binary form. encode returns the bytes needed (writes at most cap); decode is total:
 * any input yields a valid scenario, and decode(encode(s)) == s for every valid s
 * without an `isn` line: the binary form carries no ISNs (decode leaves has_isn 0; the
 * fuzz core derives them from the input's bytes, fuzz/core.c). */
size_t sfh_scn_encode(const struct sfh_scenario *s, uint8_t *buf, size_t cap);
void sfh_scn_decode(const uint8_t *data, size_t len, struct sfh_scenario *out);

/* Format one number as in the text form ("pisn+1", "tnxt-2147483648", "12345"). */
size_t sfh_num_format(const struct sfh_num *n, char *buf, size_t cap);
const char *sfh_anchor_name(enum sfh_anchor a);

/* The segment an `in` event stands for, its numbers resolved against the anchors' current
 * values (value[SFH_A_ABS] is ignored): seq defaults to pnxt, ack to tnxt with ACK set.
 * ts holds the timestamp anchors' values (ts[SFH_TS_ABS] ignored); NULL reads as zeros. */
void sfh_in_to_seg(const struct sfh_in *in, const uint32_t value[SFH_NANCHORS],
		   const uint32_t ts[SFH_NTS_ANCHORS], struct sfo_seg *seg);
const char *sfh_ts_anchor_name(enum sfh_ts_anchor a);

/* 1 if some event names a connection or the listener: the case then keeps the listener
 * apart from its connections (several TCBs). */
int sfh_scn_multi(const struct sfh_scenario *s);
/* The selector e may carry in a scenario of role `role`: e->sel when valid, else the
 * nearest valid one (what the binary decoder produces). Valid: none anywhere but on
 * waits; conn=N on in, out, and calls other than listen; listener (passive role only) on
 * listen, shutdown, close, abort and expect. */
uint8_t sfh_sel_fold(enum sfh_role role, const struct sfh_event *e);
/* "conn=2", "listener", "" for none. */
const char *sfh_sel_name(uint8_t sel);

/* 1 if the two scenarios are equal event by event (ignoring source lines). */
int sfh_scn_equal(const struct sfh_scenario *a, const struct sfh_scenario *b);

#endif
