/* synfin oracle: the reference model of one TCP endpoint (RFC 9293 §3.10), its rule
 * table, profiles and verdict types.
 *
 * Pure: no I/O, no clock reads, no globals that change, reentrant. Every function here
 * may run millions of times a second inside libFuzzer.
 *
 * Perspective: the model is the *target's* TCB. "in" segments come from the peer
 * (synfin) to the target; "out" segments are what the target emits. All sequence numbers
 * are absolute 32-bit values of the real exchange (the runner resolves scenario anchors).
 */
#ifndef SYNFIN_ORACLE_H
#define SYNFIN_ORACLE_H

#include <stddef.h>
#include <stdint.h>

/* ---- sequence arithmetic (RFC 9293 §3.4), correct across 2^32 wraparound ---- */

static inline int32_t sfo_seq_diff(uint32_t a, uint32_t b) { return (int32_t)(a - b); }
static inline int sfo_seq_lt(uint32_t a, uint32_t b) { return sfo_seq_diff(a, b) < 0; }
static inline int sfo_seq_le(uint32_t a, uint32_t b) { return sfo_seq_diff(a, b) <= 0; }
static inline int sfo_seq_gt(uint32_t a, uint32_t b) { return sfo_seq_diff(a, b) > 0; }
static inline int sfo_seq_ge(uint32_t a, uint32_t b) { return sfo_seq_diff(a, b) >= 0; }
/* lo <= x < lo+len, as distances from lo: exact at any wrap, including len == 2^31. */
static inline int sfo_seq_in(uint32_t x, uint32_t lo, uint32_t len)
{
	return (uint32_t)(x - lo) < len;
}
/* lo <= x <= hi on the circle, hi reached from lo going forward. */
static inline int sfo_seq_between(uint32_t x, uint32_t lo, uint32_t hi)
{
	return (uint32_t)(x - lo) <= (uint32_t)(hi - lo);
}

/* ---- states: one X-macro (identifier, RFC name) ---- */

#define SFO_STATES(X)                                                                      \
	X(CLOSED, "CLOSED")                                                                \
	X(LISTEN, "LISTEN")                                                                \
	X(SYN_SENT, "SYN-SENT")                                                            \
	X(SYN_RECEIVED, "SYN-RECEIVED")                                                    \
	X(ESTABLISHED, "ESTABLISHED")                                                      \
	X(FIN_WAIT_1, "FIN-WAIT-1")                                                        \
	X(FIN_WAIT_2, "FIN-WAIT-2")                                                        \
	X(CLOSE_WAIT, "CLOSE-WAIT")                                                        \
	X(CLOSING, "CLOSING")                                                              \
	X(LAST_ACK, "LAST-ACK")                                                            \
	X(TIME_WAIT, "TIME-WAIT")

enum sfo_state {
#define SFO_X(id, name) SFO_##id,
	SFO_STATES(SFO_X)
#undef SFO_X
};
/* The count stays outside the enum so that switches need no sentinel case. */
#define SFO_X(id, name) +1
enum { SFO_NSTATES = 0 SFO_STATES(SFO_X) };
#undef SFO_X
/* The target cannot observe its state. */
#define SFO_STATE_UNKNOWN ((enum sfo_state)SFO_NSTATES)

/* RFC name of a state ("SYN-RECEIVED"); "?" for SFO_STATE_UNKNOWN. */
const char *sfo_state_name(enum sfo_state s);
/* Parse an RFC name or identifier (case-insensitive, '-' or '_'); -1 if unknown. */
int sfo_state_parse(const char *name, size_t len);

/* ---- segments ---- */

enum {
	SFO_FIN = 0x01,
	SFO_SYN = 0x02,
	SFO_RST = 0x04,
	SFO_PSH = 0x08,
	SFO_ACK = 0x10,
	SFO_URG = 0x20,
	SFO_ECE = 0x40,
	SFO_CWR = 0x80
};

/* Option presence bits in sfo_seg.opts. */
enum { SFO_OPT_MSS = 1, SFO_OPT_WSCALE = 2, SFO_OPT_SACKOK = 4, SFO_OPT_TS = 8 };

/* One concrete TCP segment in host byte order, either direction. */
struct sfo_seg {
	uint32_t seq, ack;
	uint32_t len; /* payload octets (SYN and FIN not counted) */
	uint32_t tsval, tsecr;
	uint16_t wnd; /* the raw 16-bit window field, unscaled */
	uint16_t up;  /* urgent pointer */
	uint16_t mss;
	uint8_t flags; /* SFO_FIN | SFO_SYN | ... */
	uint8_t opts;  /* SFO_OPT_* present */
	uint8_t wscale;
};

/* Sequence space a segment occupies: payload + SYN + FIN. */
static inline uint32_t sfo_seg_space(const struct sfo_seg *s)
{
	return s->len + !!(s->flags & SFO_SYN) + !!(s->flags & SFO_FIN);
}

/* ---- events ---- */

/* User calls on the target (§3.10.1-6, in socket terms). */
#define SFO_CALLS(X)                                                                       \
	X(LISTEN, "listen")     /* passive OPEN */                                         \
	X(CONNECT, "connect")   /* active OPEN */                                          \
	X(ACCEPT, "accept")     /* take the connection from the listener; no TCP effect */ \
	X(SEND, "send")         /* SEND arg octets */                                      \
	X(RECEIVE, "receive")   /* RECEIVE up to arg octets (0: all queued) */             \
	X(SHUTDOWN, "shutdown") /* CLOSE of the send side only (half-close) */             \
	X(CLOSE, "close")       /* CLOSE, and the application will read no more */         \
	X(ABORT, "abort")       /* ABORT (close with SO_LINGER 0) */

enum sfo_call {
#define SFO_X(id, name) SFO_CALL_##id,
	SFO_CALLS(SFO_X)
#undef SFO_X
};
/* The count stays outside the enum so that switches need no sentinel case. */
#define SFO_X(id, name) +1
enum { SFO_NCALLS = 0 SFO_CALLS(SFO_X) };
#undef SFO_X
const char *sfo_call_name(enum sfo_call c);
int sfo_call_parse(const char *name, size_t len); /* -1 if unknown */

enum sfo_ev_kind { SFO_EV_SEGMENT, SFO_EV_CALL, SFO_EV_WAIT };

struct sfo_event {
	enum sfo_ev_kind kind;
	union {
		struct sfo_seg seg; /* SFO_EV_SEGMENT: a segment from the peer */
		struct {
			enum sfo_call call;
			uint32_t arg;
		} call;              /* SFO_EV_CALL */
		uint32_t wait_ms;    /* SFO_EV_WAIT: time advances this much */
	} u;
};

/* Event constructors: everything not named is zero. */
static inline struct sfo_event sfo_ev_segment(struct sfo_seg seg)
{
	struct sfo_event ev = {.kind = SFO_EV_SEGMENT};
	ev.u.seg = seg;
	return ev;
}
static inline struct sfo_event sfo_ev_call(enum sfo_call call, uint32_t arg)
{
	struct sfo_event ev = {.kind = SFO_EV_CALL};
	ev.u.call.call = call;
	ev.u.call.arg = arg;
	return ev;
}
static inline struct sfo_event sfo_ev_wait(uint32_t ms)
{
	struct sfo_event ev = {.kind = SFO_EV_WAIT};
	ev.u.wait_ms = ms;
	return ev;
}

/* Event classes: the columns of the segment-arrival table, for coverage and signatures.
 * Classified against the TCB *before* the event. */
#define SFO_EVCLASSES(X)                                                                   \
	X(SYN, "syn")                                                                      \
	X(SYNACK, "syn-ack")                                                               \
	X(ACK_OK, "ack")              /* acceptable ACK, no data, no FIN */               \
	X(ACK_OLD, "ack-old")         /* ACK below SND.UNA */                             \
	X(ACK_FUTURE, "ack-future")   /* ACK beyond SND.NXT */                            \
	X(RST_EXACT, "rst-exact")     /* RST at RCV.NXT */                                \
	X(RST_INWIN, "rst-inwin")     /* RST inside the window, not at RCV.NXT */         \
	X(RST_OUTWIN, "rst-outwin")   /* RST outside the window */                        \
	X(RSTACK, "rst-ack")                                                               \
	X(FIN, "fin")                 /* FIN without ACK */                               \
	X(FINACK, "fin-ack")                                                               \
	X(DATA_IN, "data-in")         /* payload inside the window */                     \
	X(DATA_OUT, "data-out")       /* payload outside the window */                    \
	X(NOFLAGS, "no-flags")                                                             \
	X(OTHER_SEG, "other-seg")                                                          \
	X(CALL_LISTEN, "call-listen")                                                      \
	X(CALL_CONNECT, "call-connect")                                                    \
	X(CALL_ACCEPT, "call-accept")                                                      \
	X(CALL_SEND, "call-send")                                                          \
	X(CALL_RECEIVE, "call-receive")                                                    \
	X(CALL_SHUTDOWN, "call-shutdown")                                                  \
	X(CALL_CLOSE, "call-close")                                                        \
	X(CALL_ABORT, "call-abort")                                                        \
	X(WAIT_SHORT, "wait-short")   /* shorter than any RFC timer deadline */           \
	X(WAIT_RTO, "wait-rto")       /* long enough for a retransmission */              \
	X(WAIT_2MSL, "wait-2msl")     /* long enough for TIME-WAIT to end */

enum sfo_evclass {
#define SFO_X(id, name) SFO_EC_##id,
	SFO_EVCLASSES(SFO_X)
#undef SFO_X
};
/* The count stays outside the enum so that switches need no sentinel case. */
#define SFO_X(id, name) +1
enum { SFO_NEVCLASSES = 0 SFO_EVCLASSES(SFO_X) };
#undef SFO_X
const char *sfo_evclass_name(enum sfo_evclass c);

/* Response classes of an emitted segment (coverage, reports). */
enum sfo_resp {
	SFO_RESP_NONE,
	SFO_RESP_SYN,
	SFO_RESP_SYNACK,
	SFO_RESP_ACK,
	SFO_RESP_DATA,
	SFO_RESP_FIN,
	SFO_RESP_RST,
	SFO_RESP_OTHER
};
#define SFO_NRESP (SFO_RESP_OTHER + 1)
enum sfo_resp sfo_resp_class(const struct sfo_seg *s);
const char *sfo_resp_name(enum sfo_resp r);

/* ---- rules ---- */

enum sfo_severity { SFO_SEV_MUST, SFO_SEV_SHOULD, SFO_SEV_MAY, SFO_SEV_PROFILE };
const char *sfo_severity_name(enum sfo_severity s);

/* One row of the rule table: every branch of the model names one. */
struct sfo_rule_info {
	const char *id;      /* stable id, e.g. "synrcvd.rst.passive" */
	const char *section; /* "3.10.7.4" */
	const char *req;     /* "MUST-11", or "" where the RFC gives none */
	enum sfo_severity sev;
	const char *title;   /* one line in our words */
};

/* Rule ids are small integers (enum sfo_rule, defined in oracle/rules.def). */
typedef uint16_t sfo_rule_t;
size_t sfo_rule_count(void);
const struct sfo_rule_info *sfo_rule(sfo_rule_t r); /* NULL if out of range */
/* Pseudo-rules: ids a verdict or report can name that are no branch of the model. One
 * today: `stack`, the rule of a crash or hang verdict (the stack itself failed; no RFC
 * rule applies), numbered sfo_rule_count() + 0 (SFO_RULE_STACK below). */
size_t sfo_pseudo_rule_count(void);
const struct sfo_rule_info *sfo_pseudo_rule(size_t i); /* NULL if out of range */
/* The rule of verdicts where the stack failed (crash, hang): the `stack` pseudo-rule. */
sfo_rule_t sfo_rule_stack(void);
/* A rule or pseudo-rule by number (NULL if neither), and by id (-1 if neither). */
const struct sfo_rule_info *sfo_rule_any(sfo_rule_t r);
int sfo_rule_find_any(const char *id);
int sfo_rule_find(const char *id); /* -1 if unknown */

/* ---- profiles ---- */

/* A difference a profile accepts: the rule (and kind, or -1 for any kind) and why. */
struct sfo_accept {
	const char *rule_id;
	int kind; /* enum sfo_div_kind or -1 */
	const char *reason;
};

struct sfo_profile {
	const char *name;
	const char *summary;
	uint32_t flags;          /* SFO_PF_* */
	uint32_t msl2_ms;        /* TIME-WAIT duration the profile requires (RFC: 2 x 2 min) */
	uint32_t rto_min_ms;     /* earliest a retransmission may come */
	uint32_t rto_must_ms;    /* a wait this long must see at least one retransmission */
	uint32_t delack_max_ms;  /* an owed ACK must be out after this long (MUST-40: 500) */
	uint32_t fin2_timeout_ms; /* 0: FIN-WAIT-2 never times out; else orphan may close */
	uint32_t user_timeout_ms; /* retransmitting this long may abort the connection */
	const struct sfo_accept *accept; /* accepted differences, NULL-terminated by rule_id */
};

enum {
	SFO_PF_RFC5961 = 1u << 0,    /* challenge ACKs (RST, SYN, ACK checks) required */
	SFO_PF_RFC5961_OK = 1u << 1, /* challenge ACKs allowed (not required) */
	SFO_PF_TW_SYN_REOPEN = 1u << 2, /* MAY-2: a new SYN may reopen from TIME-WAIT */
	SFO_PF_RFC1337 = 1u << 3,       /* TIME-WAIT may ignore a RST (RFC 1337, not 9293) */
	SFO_PF_ACK_BELOW_ISS = 1u << 4, /* an ACK of octets never sent (SEG.ACK =< ISS) may
					 * draw a challenge ACK and drop the segment */
	SFO_PF_RCV_WUP = 1u << 5	/* Appendix A.2 mitigation: an old segment ending at
					 * or after RCV.WUP has its ACK processed */
};

/* Built-in profiles: "rfc9293" (default), "rfc5961", and per-stack ones. */
const struct sfo_profile *sfo_profile_find(const char *name); /* NULL if unknown */
const struct sfo_profile *sfo_profile_default(void);
size_t sfo_profile_count(void);
const struct sfo_profile *sfo_profile_at(size_t i);
/* The accepted-difference entry matching (rule, kind), or NULL. */
const struct sfo_accept *sfo_profile_accepts(const struct sfo_profile *p, sfo_rule_t rule,
					     int kind);

/* ---- the TCB ---- */

/* Bits of sfo_tcb.fl */
enum {
	SFO_TF_PASSIVE = 1u << 0,   /* came from a passive OPEN (MUST-11) */
	SFO_TF_ISS_KNOWN = 1u << 1, /* target's ISS learned (or chosen) */
	SFO_TF_IRS_KNOWN = 1u << 2,
	SFO_TF_FIN_SENT = 1u << 3, /* our FIN has been emitted (occupies snd_fin) */
	SFO_TF_FIN_ACKED = 1u << 4,
	SFO_TF_FIN_RCVD = 1u << 5,     /* peer's FIN processed */
	SFO_TF_CLOSE_CALLED = 1u << 6, /* user called CLOSE/SHUTDOWN (FIN queued) */
	SFO_TF_RD_CLOSED = 1u << 7,    /* user called close(): will read no more */
	SFO_TF_ACK_OWED = 1u << 8,     /* an ACK for [ack_owed_lo, RCV.NXT] may still come */
	SFO_TF_WSCALE = 1u << 9,       /* window scaling negotiated */
	SFO_TF_SACK = 1u << 10,
	SFO_TF_TS = 1u << 11,	      /* Timestamps negotiated: both SYNs carried TSopt */
	SFO_TF_ACCEPTED = 1u << 12,   /* application accepted the connection */
	SFO_TF_WS_SELF = 1u << 13,    /* the target's SYN carried a window scale option */
	SFO_TF_WS_PEER = 1u << 14,    /* the peer's SYN carried a window scale option */
	SFO_TF_OOO = 1u << 15,	      /* out-of-order data [ooo_lo, ooo_hi) may be held */
	SFO_TF_OOO_FIN = 1u << 16,    /* ... and a FIN right after it, at ooo_hi */
	SFO_TF_OOO_GAP = 1u << 17,    /* ... with holes inside [ooo_lo, ooo_hi) */
	SFO_TF_TW_REOPEN = 1u << 18,  /* reopened from TIME-WAIT by a new SYN (MAY-2) */
	SFO_TF_CWND_LOSS = 1u << 19,  /* a retransmission since SND.UNA last caught up with
				       * SND.NXT: the congestion window may be one segment
				       * (RFC 5681 3.1, 3.2), new data and FIN may wait */
	SFO_TF_MMS_SHRINK = 1u << 20, /* the target has retransmitted: PMTU black-hole
				       * detection (3.7.2, RFC 2923 2.1, RFC 4821) may have
				       * lowered its MMS_S, so its segments may be smaller */
	SFO_TF_OOO_FINX = 1u << 21,   /* ... and a held FIN at ooo_fin that held data
				       * overlaps or follows: the peer's stream contradicts
				       * itself, which copy the target kept is its choice */
	SFO_TF_CUT_EARLY = 1u << 22,  /* data was queued before the peer's SYN showed its MSS:
				       * the target may have cut it at the default send MSS
				       * (3.7.1 MUST-15: 536, 1220 over IPv6), up to early_end */
	SFO_TF_WUP_KNOWN = 1u << 23,  /* rcv_wup holds the ACK of the target's last segment */
	SFO_TF_SYN_Q = 1u << 24,      /* simultaneous open: syn_q_len octets of text came on
				       * the peer's SYN, queued until ESTABLISHED (3.10.7.3) */
	SFO_TF_SYN_Q_FIN = 1u << 25,  /* ... and a FIN after them */
	SFO_TF_SYN_QP = 1u << 26,     /* oracle, once ESTABLISHED: that text (syn_q_len) taken
				       * or discarded, not known yet */
	SFO_TF_TS_SELF = 1u << 27,    /* the target's SYN carried a Timestamps option */
	SFO_TF_TS_PEER = 1u << 28,    /* the peer's SYN carried a Timestamps option; with
				       * TS_SELF, SFO_TF_TS: negotiated (RFC 7323 3.2) */
	SFO_TF_QP_TS = 1u << 29,      /* oracle: the pending text (SYN_QP, syn_q_len) came on
				       * a segment without TSopt, which the target may have
				       * dropped (RFC 7323 3.2), not on a simultaneous-open SYN */
	SFO_TF_ORPHAN = 1u << 30,     /* its listener closed before the application accepted
				       * it: completing the handshake may abort it */
	SFO_TF_OOO_ALL = SFO_TF_OOO | SFO_TF_OOO_FIN | SFO_TF_OOO_GAP | SFO_TF_OOO_FINX
};

/* The target's TCB as the model tracks it (§3.3.1 plus what the rules need). */
struct sfo_tcb {
	enum sfo_state state;
	uint32_t fl;          /* SFO_TF_* */
	uint32_t iss, irs;
	uint32_t snd_una, snd_nxt, snd_wnd, snd_wl1, snd_wl2, max_snd_wnd;
	uint32_t snd_queued;  /* SND.UNA + everything the user has queued (data, then FIN) */
	uint32_t snd_fin;     /* sequence number of our FIN, valid once CLOSE_CALLED */
	uint32_t rcv_nxt, rcv_wnd;
	uint32_t rcv_queued;  /* octets received and not yet read by the user */
	uint32_t ack_owed_lo; /* lowest ACK value an owed ACK may carry */
	uint8_t snd_wscale, rcv_wscale;
	uint16_t mss;
	uint64_t now_ms;      /* virtual time: sum of waits seen */
	uint64_t timer_ms;    /* when the running timer started (retransmit / TIME-WAIT) */
	uint64_t step_ms;     /* when the last step began: what the target emitted in it
			       * left somewhere in [step_ms, now_ms] */
	uint32_t timer_slack_ms; /* the retransmission timer may have started this much
				  * before timer_ms (it restarted inside a wait) */
	uint64_t wnd_zero_ms; /* when the send window last closed to zero (3.8.6.1) */
	uint64_t unacked_since_ms; /* first transmission of the oldest unacked octet */
	uint64_t deliver_since_ms; /* the user timeout's clock (3.9.1.1, 3.10.8): since when
				    * what the user submitted (data, FIN; the SYN) has waited
				    * without the peer acknowledging anything new or, against
				    * a zero window, answering a probe (3.8.6.1 MUST-37) */
	uint64_t ack_owed_ms; /* when the owed ACK (SFO_TF_ACK_OWED) became due */
	uint64_t timer2_ms;   /* TIME-WAIT: latest time the 2MSL timer may have restarted */
	uint32_t ooo_lo, ooo_hi; /* out-of-order data the target may hold (SFO_TF_OOO) */
	uint32_t ooo_fin;     /* earliest held FIN that held data contradicts (OOO_FINX) */
	uint8_t rtx_count;    /* retransmissions since the timer last restarted (backoff) */
	uint8_t rto_backoff;  /* backoff kept across ACKs until a Karn-valid RTT sample
			       * (RFC 6298 5.5-5.7: the backed-off RTO stays until then) */
	uint16_t mss_self;    /* MSS option of the target's own SYN: bounds its MMS_S
			       * (3.7.1: the send MSS is also limited by the local MTU); 0 unknown */
	uint32_t rcv_buf;     /* largest receive window the target announced: its buffer */
	uint32_t rtt_max_ms;  /* largest RTT upper bound seen (first send to its ACK, Karn) */
	uint32_t early_end;   /* end of the data queued before the peer's MSS was known */
	uint32_t rcv_wup;     /* RCV.NXT the target last announced (SFO_TF_WUP_KNOWN) */
	uint32_t syn_q_len;   /* text queued from a simultaneous-open SYN (SFO_TF_SYN_Q) */
	uint8_t closed_err;   /* CLOSED: enum sfo_err the connection's end left for the user
			       * (a reset, a refusal, a user timeout; 0: none), which a later
			       * call may report (3.10.7.3, 3.10.7.4, 3.10.8); on a passive
			       * SYN-RECEIVED TCB nobody accepted (sfo_call_results): the end
			       * of the connection before it, which the application holds */
	uint16_t mss_default; /* the send MSS assumed without an MSS option (3.7.1 MUST-15):
			       * 536 over IPv4, 1220 over IPv6 (sfo_tcb_family) */
};

/* Call results (docs/scenario-language.md, "Call results"): what a user call returned,
 * as the errno names sockets users know. RFC 9293 3.10 names its errors in words ("error:
 * connection reset"); sfo_call_results() maps each to these. OK is success (with an octet
 * count for SEND and RECEIVE); EOF is no name a user writes: a RECEIVE that succeeded with
 * no octets (end of stream); ERROR is an error the target cannot name (it fits any error
 * the model allows). Never renumber: scenarios' binary form carries the numbers. */
#define SFO_ERRS(X)                                                                                \
	X(OK, "ok")                                                                                \
	X(EAGAIN, "EAGAIN")		/* nothing to do now, non-blocking (EWOULDBLOCK) */        \
	X(ECONNREFUSED, "ECONNREFUSED") /* "connection refused" */                                 \
	X(ECONNRESET, "ECONNRESET")	/* "connection reset" */                                   \
	X(EPIPE, "EPIPE")		/* sending on a connection closing or gone */              \
	X(ENOTCONN, "ENOTCONN")		/* "connection does not exist" */                          \
	X(EISCONN, "EISCONN")		/* "connection already exists" */                          \
	X(EALREADY, "EALREADY")		/* ... an OPEN already in progress */                      \
	X(EINPROGRESS, "EINPROGRESS")	/* OPEN accepted, completes later (non-blocking) */        \
	X(ETIMEDOUT, "ETIMEDOUT")	/* "connection aborted due to user timeout" */             \
	X(ECONNABORTED, "ECONNABORTED") /* ... as lwIP and BSD name an aborted one */              \
	X(EINVAL, "EINVAL")		/* a call the socket's kind does not take */               \
	X(ENOBUFS, "ENOBUFS")		/* "insufficient resources" */                             \
	X(EBADF, "EBADF")		/* the application holds no handle any more */             \
	X(EDESTADDRREQ, "EDESTADDRREQ") /* "remote socket unspecified" */                          \
	X(EADDRINUSE, "EADDRINUSE")	/* the local socket is taken by a connection */            \
	X(EOPNOTSUPP, "EOPNOTSUPP")	/* the call is not offered there */                        \
	X(ERROR, "ERROR")		/* an error the target cannot name */                      \
	X(EOF, "EOF")			/* RECEIVE: success with no octets */

enum sfo_err {
#define SFO_X(id, name) SFO_ERR_##id,
	SFO_ERRS(SFO_X)
#undef SFO_X
};
#define SFO_X(id, name) +1
enum { SFO_NERRS = 0 SFO_ERRS(SFO_X) };
#undef SFO_X
const char *sfo_err_name(enum sfo_err e); /* "?" if out of range */
/* Parse an error name (case-insensitive; EWOULDBLOCK reads as EAGAIN). -1 if unknown, and
 * for ok, ERROR and EOF, which no scenario writes by name. */
int sfo_err_parse(const char *name, size_t len);

/* The results a call may return in the state before it (sfo_call_results): a bit per
 * enum sfo_err. For RECEIVE, OK stands for a read of one octet or more and EOF for a read
 * of none without error. `rule` is the branch of 3.10 that decided it. */
struct sfo_callres {
	uint32_t allow;
	sfo_rule_t rule;
};
void sfo_call_results(const struct sfo_tcb *t, enum sfo_call call, struct sfo_callres *r);
/* The class of an observed result: err as the target reported it, n its octets on
 * success; RECEIVE with no octets and no error is SFO_ERR_EOF. */
enum sfo_err sfo_result_class(enum sfo_call call, enum sfo_err err, uint32_t n);
/* 1 if the result (err, n) of `call` is one r allows (ERROR fits any allowed error). */
int sfo_callres_fits(const struct sfo_callres *r, enum sfo_call call, enum sfo_err err, uint32_t n);
/* The allowed results as text: "EAGAIN ECONNRESET octets", into buf. */
size_t sfo_callres_format(const struct sfo_callres *r, enum sfo_call call, char *buf, size_t cap);

/* How the model is run. The oracle uses stack_iss = 0 and learns the target's ISS from
 * what the target emits; the model *target* sets SFO_CFG_STACK so the model picks
 * its own ISS (stack_iss) and behaves as a concrete stack. */
struct sfo_cfg {
	const struct sfo_profile *profile;
	uint32_t flags;   /* SFO_CFG_* */
	uint32_t stack_iss;
	uint16_t rcv_wnd; /* stack mode: window this endpoint offers */
	uint16_t mss;     /* stack mode: MSS this endpoint offers */
};
/* SFO_CFG_BRIEF: sfo_judge leaves v->detail empty (the same kind, rule and states),
 * for callers that only need the verdict, such as a fuzz loop on a stack that diverges
 * on most inputs: formatting the detail is a visible share of its time. */
enum { SFO_CFG_STACK = 1u << 0, SFO_CFG_BRIEF = 1u << 1 };
/* SFO_CFG_LISTENER: the TCB is one connection of several and a listener is open on its
 * port (a scenario that names its TCBs): a SYN in TIME-WAIT may also reopen (MAY-2). */
enum { SFO_CFG_LISTENER = 1u << 2 };

/* Initialise a TCB in CLOSED (no connection), over IPv4. */
void sfo_tcb_init(struct sfo_tcb *t);
/* The connection's IP version, right after sfo_tcb_init: ipv6 1 for IPv6, 0 for IPv4.
 * TCP's lifecycle is the same over both; what differs is the default send MSS. */
void sfo_tcb_family(struct sfo_tcb *t, int ipv6);
/* The send MSS assumed when the peer's SYN carried no MSS option (3.7.1 MUST-15). */
uint16_t sfo_default_mss(const struct sfo_tcb *t);

/* ---- expectations ---- */

/* A pattern one emitted segment must fit. Numbers are inclusive circular ranges
 * [lo, hi]; SFO_PAT_SEQ_ANY / SFO_PAT_ACK_ANY lift the check. */
struct sfo_pattern {
	uint32_t seq_lo, seq_hi;
	uint32_t ack_lo, ack_hi;
	uint32_t len_lo, len_hi;
	uint8_t flags_set;   /* must be set */
	uint8_t flags_clear; /* must be clear; others are free (e.g. PSH) */
	uint8_t min, max;    /* occurrences in this step (min 1: required; 0: optional) */
	uint8_t pf;          /* SFO_PAT_* */
	sfo_rule_t rule;     /* the rule that requires or allows it */
};
enum {
	SFO_PAT_SEQ_ANY = 1,
	SFO_PAT_ACK_ANY = 2,
	SFO_PAT_EMIT = 4, /* the reference behaviour emits it (stack mode concretises it) */
	/* The segment's sequence space (payload, then FIN) must end at or before seq_hi + 1,
	 * and a FIN it carries must sit exactly at seq_hi: data stays inside what was
	 * queued, a FIN sits where CLOSE put it. */
	SFO_PAT_WITHIN = 8,
	/* A SYN,ACK answering a SYN without Window Scale must not carry one (RFC 7323 2.2). */
	SFO_PAT_NO_WS = 16
};

#define SFO_MAX_PAT 8
#define SFO_MAX_RULES 8
#define SFO_MAX_OUT 8

/* One acceptable outcome of a step: the next TCB and the responses that go with it. */
struct sfo_outcome {
	struct sfo_tcb next;
	struct sfo_pattern pat[SFO_MAX_PAT];
	sfo_rule_t rules[SFO_MAX_RULES]; /* the rules that fired, in order */
	uint8_t npat, nrules;
	uint16_t state_ok; /* bit per state: observed states equivalent to next.state */
	sfo_rule_t state_rule; /* the rule that decided next.state */
};

/* Everything acceptable after one event; out[0] is the reference (preferred) outcome. */
struct sfo_expect {
	struct sfo_outcome out[SFO_MAX_OUT];
	uint8_t nout;
	enum sfo_evclass evclass;
};

/* Step the model: classify the event against *t and fill *e with every acceptable
 * outcome. *t is not changed: the caller commits one outcome with sfo_commit(). */
void sfo_step(const struct sfo_tcb *t, const struct sfo_cfg *cfg, const struct sfo_event *ev,
	      struct sfo_expect *e);

/* The listener of connection *t closed before the application accepted it (3.10.4): fill
 * *e with what may become of the connection (aborted as by ABORT, left to live on marked
 * SFO_TF_ORPHAN, or dropped silently); *t is not changed. */
void sfo_step_orphan(const struct sfo_tcb *t, const struct sfo_cfg *cfg, struct sfo_expect *e);

/* The event class of ev against *t (also set in sfo_expect.evclass). */
enum sfo_evclass sfo_classify(const struct sfo_tcb *t, const struct sfo_event *ev);

/* Commit outcome o to *t, then learn from the segments the target emitted in this step
 * (its ISS from a SYN, SND.NXT from data and FIN sent, RCV.WND from advertised windows). */
void sfo_commit(struct sfo_tcb *t, const struct sfo_outcome *o, const struct sfo_seg *emitted,
		size_t n);

/* Learn from one emitted segment without a step (used by sfo_commit). */
void sfo_observe(struct sfo_tcb *t, const struct sfo_seg *emitted);

/* ---- verdicts ---- */

#define SFO_DIV_KINDS(X)                                                                   \
	X(OK, "ok")                                                                        \
	X(STATE, "state")                                                                  \
	X(MISSING, "missing-response")                                                     \
	X(UNEXPECTED, "unexpected-response")                                               \
	X(FIELD, "wrong-field")                                                            \
	X(CRASH, "crash")                                                                  \
	X(HANG, "hang")

enum sfo_div_kind {
#define SFO_X(id, name) SFO_DIV_##id,
	SFO_DIV_KINDS(SFO_X)
#undef SFO_X
};
/* The count stays outside the enum so that switches need no sentinel case. */
#define SFO_X(id, name) +1
enum { SFO_NDIV_KINDS = 0 SFO_DIV_KINDS(SFO_X) };
#undef SFO_X
const char *sfo_div_kind_name(enum sfo_div_kind k);

/* The verdict of one step. */
struct sfo_verdict {
	enum sfo_div_kind kind;
	enum sfo_severity sev;
	sfo_rule_t rule;               /* the rule broken (or the last that fired, if ok) */
	enum sfo_state before, expected, observed;
	enum sfo_evclass evclass;
	const struct sfo_accept *accepted; /* non-NULL: the profile accepts this difference */
	int seg;	  /* 1 + the index of the emitted segment that departs (a wrong field, an
			   * unexpected segment), 0 when none does (a missing response, a state) */
	char detail[240]; /* field by field: "ack: expected 1001, observed 1" */
};

/* Judge one step: the target emitted seg[0..n) and reports state `observed`
 * (SFO_STATE_UNKNOWN if it cannot). Picks the first outcome of *e that fits; its index
 * goes to *which (-1 if none) and v->kind is SFO_DIV_OK. Otherwise v describes how the
 * observation departs from the closest outcome. `rebase` maps absolute numbers to the
 * numbers a human reads in `detail` (e.g. relative to the ISNs); NULL prints absolute. */
struct sfo_rebase {
	uint32_t peer_isn, target_isn; /* detail shows seq/ack relative to these */
	int relative;
};
void sfo_judge(const struct sfo_tcb *before, const struct sfo_cfg *cfg,
	       const struct sfo_expect *e, const struct sfo_seg *seg, size_t n,
	       enum sfo_state observed, const struct sfo_rebase *rebase, struct sfo_verdict *v,
	       int *which);

#endif
