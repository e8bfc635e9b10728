/* The tap target: a stack reached through a TAP device inside a private network namespace
 * that synfin creates (frames on the device, Ethernet), with the user calls carried out
 * by a process beside the stack over a separate control channel that speaks the synfin
 * control protocol (docs/exec-protocol.md; everything but INJECT and EMIT).
 *
 * Two ways in (tap_ns.c has the namespace, the device and the child process):
 *   tap:                 the namespace's own kernel is the stack: synfin holds the TAP fd,
 *                        and `synfin agent` (the static synfin-agent) runs inside the
 *                        namespace, addresses the interface and makes the calls.
 *   tap:cmd=COMMAND      the stack attaches to the TAP by name itself (QEMU with
 *                        -netdev tap,ifname=$SYNFIN_TAP_IF; a userspace stack's tapif);
 *                        COMMAND runs inside the namespace with the control channel as
 *                        descriptor 3 and SYNFIN_* in its environment (docs/tap.md).
 * The link is 198.18.0.0/30: the stack is .1 (MAC 02:73:79:6e:66:01), synfin is .2
 * (02:73:79:6e:66:02). synfin answers ARP for its address and learns the stack's MAC from
 * what it sends. Frames of other port pairs (an earlier case's RST) are dropped.
 *
 * Per case: RESET, then OPEN with the case's port pair (target 20000+k, peer 40000+k, as
 * the linux target rotates them). After every injected frame a SYNC lets the agent
 * accept an established connection, as a server blocked in accept() would. STATE after
 * every step where the stack announced the STATE capability.
 *
 * Time is real (the agent announces no VTIME): advance(ms) waits min(ms, maxwait) for real
 * while collecting frames, and what it cut is added to skipped_ms, so the model is told
 * only the time that really passed. The control protocol does not show the stack's
 * timers, so only a wait with no connection at all (STATE says CLOSED or LISTEN) passes at
 * once (skipidle=0: never); unlike the linux target, a TIME-WAIT is never expired early
 * and a retransmission series is cut at maxwait.
 *
 * drain(): the first drain of a step waits settle ms for a first frame and then for
 * settle ms of quiet (0 for the host kernel, whose answers are queued before write()
 * returns; a VM answers later), and, as the linux target does, up to delack ms when the
 * step injected data or a FIN and nothing came (a delayed ACK), and while the last packet
 * carries data, until 5 ms pass with nothing new (a burst still leaving), at most 60 ms.
 *
 * Failures of the other side never hang or crash synfin: every reply is awaited with a
 * deadline (timeout=, boot= for the first), and a closed channel, a dead child (with its
 * exit status or signal), a timeout or a garbage frame (with its byte offset in the
 * channel) becomes an error naming the request; the child is then killed.
 */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "proto_io.h"
#include "tap_priv.h"
#include "target.h"

#define TAP_TIMEOUT_MS	   2000	  /* a reply's deadline (timeout=) */
#define TAP_BOOT_MS	   10000  /* the first reply's, with the agent (boot=) */
#define TAP_BOOT_CMD_MS	   300000 /* ... with a command (a VM boots under TCG) */
#define TAP_MAXWAIT_MS	   2000	  /* real time one advance() may take (maxwait=) */
#define TAP_DELACK_MS	   60	  /* drain's wait for a delayed ACK (delack=) */
#define TAP_BURST_MS	   5	  /* quiet time that ends a data burst in drain */
#define TAP_BURST_MAX_MS   60	  /* drain's wait for the rest of a burst, at most */
#define TAP_QUEUE	   512
#define TAP_PORT_SPAN	   20000
#define TAP_TPORT	   20000
#define TAP_PPORT	   40000
#define TAP_FRAME_MAX	   (14 + SFH_PKT_MAX)
#define TAP_SETUP_FMT	   "%s,198.18.0.1/30,198.18.0.2,02:73:79:6e:66:02"
#define TAP_SETTLE_MAX_MUL 8 /* a burst may go on for settle * this */

struct tap_target {
	struct sfh_target base;
	struct sfh_tap_ns ns;
	struct sfx_conn c;
	int have_conn;
	int dead; /* the control channel failed: every call fails with err */
	uint32_t timeout_ms, boot_ms, maxwait_ms, settle_ms, delack_ms;
	int skipidle;
	int neigh;     /* the agent adds a static neighbour entry for synfin's address */
	uint32_t caps; /* the HELLO reply's */
	uint8_t tmac[6];
	uint32_t cases;
	struct sfh_endpoints ep;
	int fresh; /* a step began since the last drain */
	int owed;  /* the last injected segment may get a delayed ACK */
	int sync;  /* a SYNC is due (after an injected frame) */
	struct sfh_pkt *q;
	int qhead, qlen;
	uint8_t frame[TAP_FRAME_MAX];
	char log[160]; /* the other side's last LOG line */
};

static char tap_stack_version[128] = "announced by the stack's side at start";

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static int tap_probe(char *err, size_t errlen)
{
	if (access("/dev/net/tun", R_OK | W_OK) != 0) {
		snprintf(err, errlen, "tap target: /dev/net/tun: %s (load the tun module)",
			 strerror(errno));
		return -1;
	}
	if (geteuid() != 0) {
		snprintf(err, errlen,
			 "tap target: needs root (CAP_SYS_ADMIN for a private network namespace, "
			 "CAP_NET_ADMIN for the TAP device)");
		return -1;
	}
	return 0;
}

static const char *tap_version(void)
{
	return tap_stack_version;
}

/* ---------- the control channel ---------- */

static void describe_exit(int st, char *buf, size_t cap)
{
	if (st == -1)
		snprintf(buf, cap, "already reaped");
	else if (WIFEXITED(st))
		snprintf(buf, cap, "exited with status %d", WEXITSTATUS(st));
	else if (WIFSIGNALED(st))
		snprintf(buf, cap, "killed by signal %d", WTERMSIG(st));
	else
		snprintf(buf, cap, "status 0x%x", st);
}

/* The channel broke while req was outstanding: say how, end the child, fail from now on. */
static int channel_failed(struct tap_target *tt, uint8_t req, const char *how)
{
	const char *name = sfx_type_name(req);
	char ex[64] = "";
	int st;
	/* A child that closed the channel is usually exiting: give it a moment to say how. */
	sfh_tap_ns_stop(&tt->ns, 300, &st);
	describe_exit(st, ex, sizeof ex);
	snprintf(tt->base.err, sizeof tt->base.err,
		 "tap target: control channel, awaiting the reply to %s: %s; the stack's side "
		 "%s%s%s",
		 name ? name : "?", how, ex, tt->log[0] ? "; its last log: " : "", tt->log);
	tt->dead = 1;
	return -1;
}

static void queue_pkt(struct tap_target *tt, const uint8_t *ip, size_t len);

/* Send q and wait for its REPLY (LOG and EMIT may come first). 0 OK (*rep), 1 REFUSED
 * (*rep), -1 error (t->err). */
static int request(struct tap_target *tt, const struct sfx_msg *q, uint32_t timeout_ms,
		   struct sfx_msg *rep)
{
	char how[200];
	if (tt->dead)
		return -1;
	if (sfx_conn_send(&tt->c, q) != 0) {
		snprintf(how, sizeof how, "cannot send %s: %s", sfx_type_name(q->type),
			 strerror(errno));
		return channel_failed(tt, q->type, how);
	}
	uint64_t deadline = now_ms() + timeout_ms;
	for (;;) {
		struct sfx_err e;
		uint64_t now = now_ms();
		int left = now >= deadline ? 0 : (int)(deadline - now);
		int k = sfx_conn_recv(&tt->c, rep, left, &e);
		if (k == SFX_IO_TIMEOUT) {
			snprintf(how, sizeof how, "no reply within %u ms", timeout_ms);
			return channel_failed(tt, q->type, how);
		}
		if (k == SFX_IO_EOF)
			return channel_failed(tt, q->type, "the channel was closed");
		if (k != SFX_IO_MSG) {
			snprintf(how, sizeof how, "%s at offset %zu: %s",
				 k == SFX_IO_GARBAGE ? "garbage" : "error", e.offset, e.what);
			return channel_failed(tt, q->type, how);
		}
		if (rep->type == SFX_LOG) {
			size_t n =
			    rep->u.text.len < sizeof tt->log ? rep->u.text.len : sizeof tt->log - 1;
			memcpy(tt->log, rep->u.text.p, n);
			tt->log[n] = 0;
			continue;
		}
		if (rep->type == SFX_EMIT) {
			queue_pkt(tt, rep->u.pkt.p, rep->u.pkt.len);
			continue;
		}
		if (rep->type != SFX_REPLY || rep->u.reply.req != q->type ||
		    (rep->u.reply.status == SFX_REFUSED && q->type != SFX_CALL)) {
			snprintf(how, sizeof how,
				 "garbage at offset %llu: %s %s where a REPLY to %s "
				 "was due",
				 (unsigned long long)tt->c.rx_base,
				 sfx_type_name(rep->type) ? sfx_type_name(rep->type) : "?",
				 rep->type == SFX_REPLY
				     ? (rep->u.reply.status == SFX_REFUSED ? "REFUSED"
									   : "to another request")
				     : "message",
				 sfx_type_name(q->type));
			return channel_failed(tt, q->type, how);
		}
		if (rep->u.reply.status == SFX_ERROR) {
			int n = (int)rep->u.reply.text.len;
			snprintf(how, sizeof how, "ERROR (code %d): %.*s", (int)rep->u.reply.code,
				 n > 150 ? 150 : n, (const char *)rep->u.reply.text.p);
			return channel_failed(tt, q->type, how);
		}
		return rep->u.reply.status == SFX_REFUSED;
	}
}

static int simple(struct tap_target *tt, uint8_t type, struct sfx_msg *rep)
{
	struct sfx_msg q = {.type = type};
	return request(tt, &q, tt->timeout_ms, rep);
}

/* ---------- frames ---------- */

static void queue_pkt(struct tap_target *tt, const uint8_t *ip, size_t len)
{
	struct sfh_endpoints ep;
	struct sfo_seg seg;
	if (len > SFH_PKT_MAX || sfh_wire_parse(ip, len, &ep, &seg, NULL) != 0)
		return;
	if (ep.target_port != tt->ep.target_port || ep.peer_port != tt->ep.peer_port ||
	    ep.peer_ip != tt->ep.peer_ip)
		return; /* another case's, or not for us */
	if (tt->qlen == TAP_QUEUE)
		return;
	struct sfh_pkt *p = &tt->q[(tt->qhead + tt->qlen++) % TAP_QUEUE];
	p->len = (uint16_t)len;
	memcpy(p->data, ip, len);
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* An ARP request for our address: answer it (the stack then needs no static entry). */
static void on_arp(struct tap_target *tt, const uint8_t *f, size_t n)
{
	if (n < 42 || f[14] != 0 || f[15] != 1 || f[16] != 8 || f[17] != 0 || f[18] != 6 ||
	    f[19] != 4)
		return;
	uint32_t spa = get32(f + 28), tpa = get32(f + 38);
	if (spa == SFH_TAP_TARGET_IP)
		memcpy(tt->tmac, f + 22, 6);
	if (f[20] != 0 || f[21] != 1 || tpa != SFH_TAP_PEER_IP)
		return;
	uint8_t r[42];
	memcpy(r, f + 22, 6);
	memcpy(r + 6, sfh_tap_peer_mac, 6);
	r[12] = 0x08, r[13] = 0x06;
	memcpy(r + 14, f + 14, 6); /* htype, ptype, hlen, plen */
	r[20] = 0, r[21] = 2;	   /* reply */
	memcpy(r + 22, sfh_tap_peer_mac, 6);
	memcpy(r + 28, f + 38, 4);
	memcpy(r + 32, f + 22, 10); /* their MAC and address */
	(void)sfh_tap_write(&tt->ns, r, sizeof r);
}

/* Read every frame waiting on the wire. Returns how many IPv4 packets were queued, or -1. */
static int pump(struct tap_target *tt)
{
	int before = tt->qlen, guard = 0;
	for (;;) {
		ssize_t n = sfh_tap_read(&tt->ns, tt->frame, sizeof tt->frame);
		if (n < 0) {
			snprintf(tt->base.err, sizeof tt->base.err, "tap target: read: %s",
				 strerror(errno));
			return -1;
		}
		if (n == 0 || ++guard > 4 * TAP_QUEUE)
			break;
		if (n < 14)
			continue;
		uint16_t type = (uint16_t)(tt->frame[12] << 8 | tt->frame[13]);
		if (type == 0x0806) {
			on_arp(tt, tt->frame, (size_t)n);
		} else if (type == 0x0800 && n > 34) {
			if (get32(tt->frame + 14 + 12) == SFH_TAP_TARGET_IP)
				memcpy(tt->tmac, tt->frame + 6, 6);
			queue_pkt(tt, tt->frame + 14, (size_t)n - 14);
		}
	}
	return tt->qlen - before;
}

/* Wait up to ms for frames, returning at the first. Returns how many packets were queued. */
static int collect(struct tap_target *tt, uint32_t ms)
{
	uint64_t end = now_ms() + ms;
	for (;;) {
		int got = pump(tt);
		if (got != 0)
			return got;
		uint64_t now = now_ms();
		if (now >= end)
			return 0;
		struct pollfd p = {.fd = tt->ns.wirefd, .events = POLLIN};
		int k = poll(&p, 1, (int)(end - now));
		if (k < 0 && errno != EINTR) {
			snprintf(tt->base.err, sizeof tt->base.err, "tap target: poll: %s",
				 strerror(errno));
			return -1;
		}
	}
}

/* ---------- the vtable ---------- */

static int parse_ms(const char *v, uint32_t *out)
{
	char *end;
	errno = 0;
	unsigned long x = strtoul(v, &end, 10);
	if (errno || end == v || (*end && *end != ',') || x > 3600000ul)
		return -1;
	*out = (uint32_t)x;
	return 0;
}

/* The synfin-agent to start: agent=PATH, $SYNFIN_AGENT, beside this program, the build
 * tree's. */
static int find_agent(const char *opt, char *out, size_t cap, char *err, size_t errlen)
{
	char exe[PATH_MAX], tried[600] = "";
	const char *env = getenv("SYNFIN_AGENT");
	char cand[4][PATH_MAX];
	int n = 0;
	if (opt)
		snprintf(cand[n++], PATH_MAX, "%s", opt);
	else {
		if (env && *env)
			snprintf(cand[n++], PATH_MAX, "%s", env);
		ssize_t k = readlink("/proc/self/exe", exe, sizeof exe - 1);
		if (k > 0) {
			exe[k] = 0;
			char *slash = strrchr(exe, '/');
			if (slash) {
				*slash = 0;
				snprintf(cand[n++], PATH_MAX, "%.*s/synfin-agent", PATH_MAX - 20,
					 exe);
				snprintf(cand[n++], PATH_MAX, "%.*s/../agent/synfin-agent",
					 PATH_MAX - 30, exe);
			}
		}
#ifdef SYNFIN_AGENT_PATH
		snprintf(cand[n++], PATH_MAX, "%s", SYNFIN_AGENT_PATH);
#endif
	}
	for (int i = 0; i < n; i++) {
		if (access(cand[i], X_OK) == 0) {
			snprintf(out, cap, "%s", cand[i]);
			return 0;
		}
		size_t l = strlen(tried);
		snprintf(tried + l, sizeof tried - l, "%s%s", l ? ", " : "", cand[i]);
	}
	snprintf(err, errlen,
		 "tap target: no synfin-agent program (tried %s); build it (cmake target "
		 "synfin-agent) or name it: tap:agent=PATH",
		 tried);
	return -1;
}

static void tap_close(struct sfh_target *t);
extern const struct sfh_target_ops sfh_target_tap_ops;

static int tap_open(const char *args, struct sfh_target **out, char *err, size_t errlen)
{
	struct tap_target *tt = calloc(1, sizeof *tt);
	char agent_opt[PATH_MAX] = "", agent[PATH_MAX], setup[96];
	const char *cmd = NULL;
	int have_agent = 0, have_boot = 0;
	if (!tt || !(tt->q = calloc(TAP_QUEUE, sizeof *tt->q))) {
		free(tt);
		snprintf(err, errlen, "tap target: out of memory");
		return -1;
	}
	tt->timeout_ms = TAP_TIMEOUT_MS;
	tt->maxwait_ms = TAP_MAXWAIT_MS;
	tt->delack_ms = TAP_DELACK_MS;
	tt->skipidle = 1;
	tt->neigh = 1;
	tt->ns.nsfd = tt->ns.wirefd = tt->ns.ctlfd = -1;
	memcpy(tt->tmac, sfh_tap_target_mac, 6);
	/* Options: timeout=, boot=, maxwait=, settle=, delack=, agent=PATH, and cmd=, which
	 * takes the rest of the text (commas and all). */
	for (const char *p = args; p && *p;) {
		const char *eq = strchr(p, '=');
		size_t klen = eq ? (size_t)(eq - p) : strcspn(p, ",");
		const char *v = eq ? eq + 1 : "";
		int bad = !eq;
		if (!bad && klen == 3 && strncmp(p, "cmd", 3) == 0) {
			cmd = v;
			bad = !*v;
			if (!bad)
				break;
		} else if (!bad && klen == 5 && strncmp(p, "agent", 5) == 0) {
			size_t l = strcspn(v, ",");
			bad = l == 0 || l >= sizeof agent_opt;
			if (!bad) {
				memcpy(agent_opt, v, l);
				agent_opt[l] = 0;
				have_agent = 1;
			}
		} else if (!bad && klen == 7 && strncmp(p, "timeout", 7) == 0) {
			bad = parse_ms(v, &tt->timeout_ms) != 0 || tt->timeout_ms == 0;
		} else if (!bad && klen == 4 && strncmp(p, "boot", 4) == 0) {
			bad = parse_ms(v, &tt->boot_ms) != 0 || tt->boot_ms == 0;
			have_boot = 1;
		} else if (!bad && klen == 7 && strncmp(p, "maxwait", 7) == 0) {
			bad = parse_ms(v, &tt->maxwait_ms) != 0;
		} else if (!bad && klen == 6 && strncmp(p, "settle", 6) == 0) {
			bad = parse_ms(v, &tt->settle_ms) != 0;
		} else if (!bad && klen == 6 && strncmp(p, "delack", 6) == 0) {
			bad = parse_ms(v, &tt->delack_ms) != 0;
		} else if (!bad && klen == 5 && strncmp(p, "neigh", 5) == 0) {
			uint32_t x;
			bad = parse_ms(v, &x) != 0 || x > 1;
			tt->neigh = (int)x;
		} else if (!bad && klen == 8 && strncmp(p, "skipidle", 8) == 0) {
			uint32_t x;
			bad = parse_ms(v, &x) != 0 || x > 1;
			tt->skipidle = (int)x;
		} else {
			bad = 1;
		}
		if (bad) {
			snprintf(err, errlen,
				 "tap target: bad option '%.*s' (timeout=MS, boot=MS, maxwait=MS, "
				 "settle=MS, delack=MS, skipidle=0|1, neigh=0|1, agent=PATH, "
				 "cmd=COMMAND last)",
				 (int)strcspn(p, ","), p);
			goto fail;
		}
		p = strchr(p, ',');
		p = p ? p + 1 : NULL;
	}
	if (cmd && have_agent) {
		snprintf(err, errlen, "tap target: agent= and cmd= exclude each other");
		goto fail;
	}
	if (!have_boot)
		tt->boot_ms = cmd ? TAP_BOOT_CMD_MS : TAP_BOOT_MS;
	if (!cmd &&
	    find_agent(have_agent ? agent_opt : NULL, agent, sizeof agent, err, errlen) != 0)
		goto fail;
	if (sfh_tap_ns_open(&tt->ns, cmd ? SFH_TAP_ATTACH : SFH_TAP_KERNEL, err, errlen) != 0)
		goto fail;
	snprintf(setup, sizeof setup, TAP_SETUP_FMT, SFH_TAP_IFNAME);
	if (!tt->neigh) /* no static entry: the kernel resolves synfin's MAC by ARP */
		*strrchr(setup, ',') = 0;
	char *argv[] = {agent, "--ctl", "fd:3", "--setup", setup, NULL};
	if (sfh_tap_ns_spawn(&tt->ns, argv, cmd, err, errlen) != 0)
		goto fail;
	if (sfx_conn_init(&tt->c, tt->ns.ctlfd) != 0) {
		snprintf(err, errlen, "tap target: out of memory");
		goto fail;
	}
	tt->have_conn = 1;
	struct sfx_msg q = {.type = SFX_HELLO}, rep;
	q.u.hello.vmin = q.u.hello.vmax = SFX_VERSION;
	if (request(tt, &q, tt->boot_ms, &rep) != 0) {
		snprintf(err, errlen, "%s", tt->base.err);
		goto fail;
	}
	tt->caps = rep.u.reply.caps;
	if (rep.u.reply.version != SFX_VERSION ||
	    !(tt->caps & (SFX_CAP_PASSIVE | SFX_CAP_ACTIVE))) {
		snprintf(err, errlen,
			 "tap target: HELLO reply: version %u, caps 0x%x: want "
			 "version %d and a role",
			 rep.u.reply.version, tt->caps, SFX_VERSION);
		goto fail;
	}
	int sl = (int)(rep.u.reply.stack.len < 100 ? rep.u.reply.stack.len : 100);
	snprintf(tap_stack_version, sizeof tap_stack_version, "%.*s", sl,
		 (const char *)rep.u.reply.stack.p);
	tt->base.ops = &sfh_target_tap_ops;
	tt->base.no_ipv6 = "its agent speaks the exec protocol, which carries IPv4 addresses "
			   "only (docs/exec-protocol.md)";
	*out = &tt->base;
	return 0;
fail:
	tap_close(&tt->base);
	return -1;
}

static int tap_reset(struct sfh_target *t, enum sfh_role role, uint32_t case_no,
		     struct sfh_endpoints *ep)
{
	struct tap_target *tt = (struct tap_target *)t;
	struct sfx_msg rep;
	t->skipped_ms = 0;
	uint32_t k = tt->cases++ % TAP_PORT_SPAN;
	(void)case_no; /* ports rotate over the target's life, as the linux target's */
	if (!(tt->caps & (role == SFH_ROLE_PASSIVE ? SFX_CAP_PASSIVE : SFX_CAP_ACTIVE))) {
		snprintf(t->err, sizeof t->err,
			 "tap target: the stack's side cannot play the %s "
			 "role",
			 role == SFH_ROLE_PASSIVE ? "passive" : "active");
		return -1;
	}
	if (simple(tt, SFX_RESET, &rep) != 0)
		return -1;
	struct sfx_msg q = {.type = SFX_OPEN};
	q.u.open.case_no = tt->cases - 1;
	q.u.open.role = role == SFH_ROLE_ACTIVE;
	q.u.open.ep = (struct sfx_endpoints){SFH_TAP_PEER_IP, SFH_TAP_TARGET_IP,
					     (uint16_t)(TAP_PPORT + k), (uint16_t)(TAP_TPORT + k)};
	if (request(tt, &q, tt->timeout_ms, &rep) != 0)
		return -1;
	tt->ep = (struct sfh_endpoints){.peer_ip = rep.u.reply.ep.peer_ip,
					.target_ip = rep.u.reply.ep.target_ip,
					.peer_port = rep.u.reply.ep.peer_port,
					.target_port = rep.u.reply.ep.target_port};
	if (tt->ep.peer_ip != SFH_TAP_PEER_IP || tt->ep.target_ip != SFH_TAP_TARGET_IP) {
		snprintf(t->err, sizeof t->err,
			 "tap target: OPEN reply names addresses other than the link's "
			 "198.18.0.1 (stack) and 198.18.0.2 (synfin)");
		return -1;
	}
	/* What the previous case left on the wire goes with it. */
	if (pump(tt) < 0)
		return -1;
	tt->qhead = tt->qlen = 0;
	tt->fresh = tt->owed = tt->sync = 0;
	*ep = tt->ep;
	return 0;
}

static int tap_inject(struct sfh_target *t, const uint8_t *ip, size_t len)
{
	struct tap_target *tt = (struct tap_target *)t;
	if (tt->dead)
		return -1;
	if (len > SFH_PKT_MAX) {
		snprintf(t->err, sizeof t->err, "tap target: packet of %zu octets", len);
		return -1;
	}
	uint8_t f[TAP_FRAME_MAX];
	memcpy(f, tt->tmac, 6);
	memcpy(f + 6, sfh_tap_peer_mac, 6);
	f[12] = 0x08, f[13] = 0x00;
	memcpy(f + 14, ip, len);
	if (sfh_tap_write(&tt->ns, f, len + 14) != 0) {
		snprintf(t->err, sizeof t->err, "tap target: write: %s", strerror(errno));
		return -1;
	}
	struct sfh_endpoints ep;
	struct sfo_seg seg;
	tt->owed = sfh_wire_parse(ip, len, &ep, &seg, NULL) == 0 && (seg.flags & SFO_ACK) &&
		   !(seg.flags & (SFO_SYN | SFO_RST)) && (seg.len || (seg.flags & SFO_FIN));
	tt->fresh = 1;
	tt->sync = 1;
	return 0;
}

static int tap_call(struct sfh_target *t, enum sfo_call call, uint32_t arg)
{
	struct tap_target *tt = (struct tap_target *)t;
	struct sfx_msg q = {.type = SFX_CALL}, rep;
	q.u.call.call = (uint8_t)call;
	q.u.call.arg = arg;
	tt->fresh = 1;
	tt->owed = 0;
	int rc = request(tt, &q, tt->timeout_ms, &rep);
	if (rc < 0)
		return -1;
	if (rc == 1)
		return SFH_CALL_REFUSED;
	return rep.u.reply.value > INT_MAX ? INT_MAX : (int)rep.u.reply.value;
}

static int tap_state(struct sfh_target *t, enum sfo_state *st);

static int tap_advance(struct sfh_target *t, uint32_t ms)
{
	struct tap_target *tt = (struct tap_target *)t;
	if (tt->dead)
		return -1;
	uint32_t cap = ms < tt->maxwait_ms ? ms : tt->maxwait_ms;
	/* No connection (CLOSED, or only a listener): no timer can run, so the wait passes
	 * at once and exactly. Anything else is waited for real. */
	if (tt->skipidle && cap > 0 && (tt->caps & SFX_CAP_STATE)) {
		enum sfo_state st;
		if (pump(tt) < 0 || tap_state(t, &st) != 0)
			return -1;
		if (tt->qlen == 0 && (st == SFO_CLOSED || st == SFO_LISTEN))
			cap = 0;
	}
	uint64_t t0 = now_ms(), waited = 0;
	while (waited < cap) {
		if (collect(tt, (uint32_t)(cap - waited)) < 0)
			return -1;
		waited = now_ms() - t0;
	}
	if (cap > 0 && ms > waited)
		t->skipped_ms += ms - waited;
	tt->fresh = 1;
	tt->owed = 0;
	return 0;
}

static int last_has_data(const struct tap_target *tt)
{
	struct sfh_endpoints ep;
	struct sfo_seg seg;
	if (tt->qlen == 0)
		return 0;
	const struct sfh_pkt *p = &tt->q[(tt->qhead + tt->qlen - 1) % TAP_QUEUE];
	return sfh_wire_parse(p->data, p->len, &ep, &seg, NULL) == 0 && seg.len > 0;
}

static int tap_drain(struct sfh_target *t, struct sfh_pkt *out, int max)
{
	struct tap_target *tt = (struct tap_target *)t;
	struct sfx_msg rep;
	if (tt->dead)
		return -1;
	if (pump(tt) < 0)
		return -1;
	if (tt->fresh) {
		tt->fresh = 0;
		if (tt->settle_ms) {
			uint64_t t0 = now_ms();
			int got = collect(tt, tt->settle_ms);
			while (got > 0 &&
			       now_ms() - t0 < (uint64_t)tt->settle_ms * TAP_SETTLE_MAX_MUL)
				got = collect(tt, tt->settle_ms);
			if (got < 0)
				return -1;
		}
		if (tt->owed && tt->qlen == 0 && tt->delack_ms && collect(tt, tt->delack_ms) < 0)
			return -1;
		/* A burst of data (a window opened, a large send) may still be leaving: read
		 * on while the last packet carries data, until TAP_BURST_MS pass quietly. */
		uint64_t b0 = now_ms();
		while (last_has_data(tt) && now_ms() - b0 < TAP_BURST_MAX_MS) {
			int got = collect(tt, TAP_BURST_MS);
			if (got < 0)
				return -1;
			if (got == 0)
				break;
		}
		tt->owed = 0;
		if (tt->sync) {
			tt->sync = 0;
			if (simple(tt, SFX_SYNC, &rep) != 0 || pump(tt) < 0)
				return -1;
		}
	}
	int n = 0;
	while (n < max && tt->qlen > 0) {
		out[n++] = tt->q[tt->qhead];
		tt->qhead = (tt->qhead + 1) % TAP_QUEUE;
		tt->qlen--;
	}
	return n;
}

static int tap_state(struct sfh_target *t, enum sfo_state *st)
{
	struct tap_target *tt = (struct tap_target *)t;
	struct sfx_msg rep;
	if (!(tt->caps & SFX_CAP_STATE)) {
		*st = SFO_STATE_UNKNOWN;
		return 0;
	}
	if (tt->sync) {
		tt->sync = 0;
		if (simple(tt, SFX_SYNC, &rep) != 0)
			return -1;
	}
	if (simple(tt, SFX_STATE, &rep) != 0)
		return -1;
	uint32_t v = rep.u.reply.value;
	if (v != SFX_STATE_UNKNOWN && v >= SFX_NSTATES) {
		snprintf(t->err, sizeof t->err, "tap target: STATE value %u (0..10 or 255)", v);
		tt->dead = 1;
		return -1;
	}
	*st = v == SFX_STATE_UNKNOWN ? SFO_STATE_UNKNOWN : (enum sfo_state)v;
	return 0;
}

static void tap_close(struct sfh_target *t)
{
	struct tap_target *tt = (struct tap_target *)t;
	if (!tt)
		return;
	if (tt->have_conn && !tt->dead) {
		struct sfx_msg q = {.type = SFX_BYE}, rep;
		if (request(tt, &q, 1000, &rep) == 0)
			sfh_tap_ns_stop(&tt->ns, tt->ns.mode == SFH_TAP_ATTACH ? 5000 : 1000, NULL);
	}
	if (tt->have_conn)
		sfx_conn_dispose(&tt->c);
	sfh_tap_ns_close(&tt->ns);
	free(tt->q);
	free(tt);
}

const struct sfh_target_ops sfh_target_tap_ops = {
    .name = "tap",
    .summary = "a stack behind a TAP device in a private network namespace, calls through "
	       "the control protocol (default: this kernel with synfin-agent; cmd=: a VM)",
    .caps = SFH_CAP_STATE | SFH_CAP_PASSIVE | SFH_CAP_ACTIVE,
    .profile = "linux",
    .probe = tap_probe,
    .version = tap_version,
    .open = tap_open,
    .reset = tap_reset,
    .inject = tap_inject,
    .call = tap_call,
    .advance = tap_advance,
    .drain = tap_drain,
    .state = tap_state,
    .close = tap_close,
};
