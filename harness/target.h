/* synfin targets: one interface in front of every TCP stack under test.
 *
 * A target is a struct whose first member is `struct sfh_target`; its ops table is const
 * and static. Callers use the sfh_target_* wrappers below, never ops directly. Adding a
 * target is one new folder under harness/targets/ plus one line in harness/targets/registry.c.
 *
 * Errors: functions return 0 on success and -1 when the *harness* or the stack broke
 * (not when the stack merely refused a call: that is behaviour, judged by the oracle);
 * on -1 they leave a reason in t->err.
 */
#ifndef SYNFIN_TARGET_H
#define SYNFIN_TARGET_H

#include <stddef.h>
#include <stdint.h>

#include "crash.h"
#include "oracle.h"
#include "scenario.h"
#include "wire.h"

enum {
	SFH_CAP_STATE = 1u << 0,   /* state() reports the connection's state */
	SFH_CAP_VTIME = 1u << 1,   /* advance() is virtual: waits cost no real time */
	SFH_CAP_PASSIVE = 1u << 2, /* can play the passive role */
	SFH_CAP_ACTIVE = 1u << 3,  /* can play the active role */
	SFH_CAP_INPROC = 1u << 4,  /* runs inside this process (a crash takes us down) */
	SFH_CAP_CALLRES = 1u << 8, /* call() reports what the call returned (call_err) */
	SFH_CAP_IPV6 = 1u << 11,   /* plays IPv6 cases (`family ipv6`, sfh_target.ipv6) */
	/* drain() stamps each packet with its emission time (sfh_pkt.at_us) and the target
	 * keeps sfh_target.clock_us current: `out ... @+D` can be judged */
	SFH_CAP_EMIT_TIME = 1u << 12,
	/* the target honours per-case timer settings: which ones in sfh_target.timers_can */
	SFH_CAP_TIMERS = 1u << 13,
	/* keeps the listener apart from its connections (sfh_target.multi): `call accept`,
	 * the listener's own close, a new SYN on a 4-tuple in TIME-WAIT */
	SFH_CAP_LISTENER = 1u << 9,
	SFH_CAP_CONNS = 1u << 10 /* several connections in one case (conn=2 and up) */
};

struct sfh_target;

/* call(): the stack's API refused the call; the connection is unchanged. */
#define SFH_CALL_REFUSED (-2)

struct sfh_target_ops {
	const char *name;    /* "lwip" */
	const char *summary; /* one line for `synfin targets` */
	uint32_t caps;	     /* SFH_CAP_* */
	const char *profile; /* name of its per-stack profile, or NULL */

	/* Can it run here? 0 yes; -1 and why (and how to fix it) in err. No side effects. */
	int (*probe)(char *err, size_t errlen);
	/* Version of the stack ("lwIP 2.1.3"); static storage. */
	const char *(*version)(void);
	/* Create one instance. args: the text after "name:" in --target (may be ""). */
	int (*open)(const char *args, struct sfh_target **out, char *err, size_t errlen);
	/* Begin a case: drop every connection of earlier cases, then set up the role's
	 * socket (listen, or prepare to connect; the OPEN itself is a call()). Fills *ep with
	 * the addresses and ports of this case; target_port may be 0 in the active role if
	 * unknown until the target's SYN is seen. With t->ipv6 (only on a target with
	 * SFH_CAP_IPV6) the case runs over IPv6: ep->ipv6 set and the IPv6 addresses
	 * filled. */
	int (*reset)(struct sfh_target *t, enum sfh_role role, uint32_t case_no,
		     struct sfh_endpoints *ep);
	/* Deliver one IP packet from the peer (IPv4, or IPv6 in an IPv6 case); the stack
	 * processes it before returning where it can. */
	int (*inject)(struct sfh_target *t, const uint8_t *ip, size_t len);
	/* Perform a user call on the case's connection. Returns the call's effect, >= 0:
	 * for SEND the octets the stack accepted into its send queue, for RECEIVE the octets
	 * read, 0 otherwise; the runner feeds that number to the model, so the model queues
	 * only what really reached the stack. A call the stack's API refuses (an error
	 * return, e.g. shutdown() on a socket still in SYN-SENT) returns SFH_CALL_REFUSED:
	 * the runner then judges the step as one that changed nothing. -1 only when the
	 * harness broke. In the passive
	 * role the connection is accepted implicitly when a call needs it, and once accepted
	 * the listener is closed, so a case has one TCB, as in RFC 9293. */
	int (*call)(struct sfh_target *t, enum sfo_call call, uint32_t arg);
	/* Let ms milliseconds pass (virtually where SFH_CAP_VTIME). */
	int (*advance)(struct sfh_target *t, uint32_t ms);
	/* Move up to max emitted IP packets of this case into out; returns how many
	 * (0 when quiet), or -1. Waits at most a short bound for a reply in flight. */
	int (*drain)(struct sfh_target *t, struct sfh_pkt *out, int max);
	/* The case's connection state: CLOSED if none, LISTEN if only the listener. */
	int (*state)(struct sfh_target *t, enum sfo_state *st);
	/* Destroy the instance and everything it created; NULL-safe in the wrapper. */
	void (*close)(struct sfh_target *t);
};

struct sfh_target {
	const struct sfh_target_ops *ops;
	char err[256];
	/* Wait time advance() cut short while a timer of the stack was running (a target
	 * without SFH_CAP_VTIME may cap real waits, e.g. linux:maxwait=). reset() zeroes
	 * it. While non-zero, what the stack emits and its state may lack that timer's
	 * effects (fewer retransmissions, no give-up): timer-dependent verdicts are suspect. */
	uint64_t skipped_ms;
	/* The profile the case is judged by, set by the runner before reset() (NULL: none).
	 * A stack ignores it; the model target behaves as that profile specifies. */
	const struct sfo_profile *judged_by;
	/* The ISN the runner asks for the next reset()'s connection (the scenario's tisn),
	 * valid when iss_set; a target that can choose its ISN (model, lwip) uses it, so that
	 * a run does not depend on the case number. Unset, it derives one from case_no. */
	uint32_t iss_want;
	int iss_set;
	/* A stack out of process (exec:) that died or stopped answering mid-case: the op
	 * returned -1 and died is SFO_DIV_CRASH or SFO_DIV_HANG (else SFO_DIV_OK), with
	 * died_what and what death knows of the crash; the runner turns it into the case's
	 * verdict, as an isolated run does for an in-process stack. reset() clears it. */
	enum sfo_div_kind died;
	char died_what[128];
	struct sfh_crash death;
	/* With SFH_CAP_EMIT_TIME: when the latest inject(), call() or advance() began, on the
	 * case's clock: microseconds since reset() as the stack's timers see them (virtual
	 * time, or real time plus what advance() skipped). sfh_pkt.at_us is on that clock. */
	uint64_t clock_us;
	/* Per-case timer settings (the scenario's `timers` line), set by the runner before
	 * reset(): bit per enum sfh_timer in timers_set, values in ms. timers_can: the bits
	 * this target honours (with SFH_CAP_TIMERS); the runner refuses a case asking more. */
	uint8_t timers_set, timers_can;
	uint32_t timer_ms[SFH_NTIMERS];
	/* SFH_CAP_CALLRES: what the last call() returned to the application, an enum sfo_err
	 * (the runner sets SFO_ERR_OK before each call). SFO_ERR_OK: the call succeeded, its
	 * octets are call()'s return value (RECEIVE: 0 is the end of the stream; a receive
	 * that found nothing to read is SFO_ERR_EAGAIN with 0 octets, not refused). A call
	 * the API refused (SFH_CALL_REFUSED) names its error here (SFO_ERR_ERROR if the
	 * stack cannot say which); a refusal left at SFO_ERR_OK is an API that said ok and
	 * left the connection untouched. */
	int call_err;
	/* The family of the next reset()'s case, set by the runner (the scenario's `family`):
	 * 1 IPv6, 0 IPv4. Set only on a target with SFH_CAP_IPV6; the runner refuses an IPv6
	 * scenario on any other before reset(). */
	int ipv6;
	/* Why a target without SFH_CAP_IPV6 has none (static text, or NULL): open() may set
	 * it, and the runner's refusal quotes it. */
	const char *no_ipv6;
	/* Several TCBs (SFH_CAP_LISTENER), set by the runner before reset() and kept for the
	 * case: multi 0 is the one-TCB case of call()'s comment. With multi 1 the listener
	 * stays open until a call on it closes it, a call needs no longer accept-and-close,
	 * and the connections of the case are told apart by the peer's port: conn_port[k]
	 * is connection k+1's (the runner fills it after reset(), conn_port[0] being
	 * ep.peer_port), and in the active role each connect() goes to its own peer port.
	 * Before each call() and state() the runner names the TCB it addresses: sel_listener
	 * 1 for the listener, else the connection whose peer port is sel_port. state() of a
	 * connection that does not exist (never opened, or gone) is CLOSED; of the listener,
	 * LISTEN or CLOSED. */
	int multi;
	int sel_listener;
	uint16_t sel_port;
	uint16_t conn_port[SFH_MAX_CONNS];
};

/* Registry (harness/targets/registry.c). */
size_t sfh_target_count(void);
const struct sfh_target_ops *sfh_target_at(size_t i);
/* Find by the part of spec before ':' ("model:fault=no-time-wait" finds "model"). */
const struct sfh_target_ops *sfh_target_find(const char *spec);
/* Open from a spec "name[:args]". 0, or -1 with the reason in err. */
int sfh_target_open(const char *spec, struct sfh_target **out, char *err, size_t errlen);

static inline int sfh_target_reset(struct sfh_target *t, enum sfh_role role, uint32_t case_no,
				   struct sfh_endpoints *ep)
{
	return t->ops->reset(t, role, case_no, ep);
}
static inline int sfh_target_inject(struct sfh_target *t, const uint8_t *ip, size_t len)
{
	return t->ops->inject(t, ip, len);
}
static inline int sfh_target_call(struct sfh_target *t, enum sfo_call c, uint32_t arg)
{
	return t->ops->call(t, c, arg);
}
static inline int sfh_target_advance(struct sfh_target *t, uint32_t ms)
{
	return t->ops->advance(t, ms);
}
static inline int sfh_target_drain(struct sfh_target *t, struct sfh_pkt *out, int max)
{
	return t->ops->drain(t, out, max);
}
static inline int sfh_target_state(struct sfh_target *t, enum sfo_state *st)
{
	if (!(t->ops->caps & SFH_CAP_STATE)) {
		*st = SFO_STATE_UNKNOWN;
		return 0;
	}
	return t->ops->state(t, st);
}
static inline void sfh_target_close(struct sfh_target *t)
{
	if (t)
		t->ops->close(t);
}

#endif
