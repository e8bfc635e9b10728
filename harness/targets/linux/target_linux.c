/* The linux target: the running kernel's TCP, reached through a TUN device inside a
 * private network namespace that synfin creates itself.
 *
 * Namespace and teardown (target_linux_ns.c). A short-lived thread unshares a network
 * namespace (twice: the first one only sizes the second one's private TCP hash table, so
 * sock_diag dumps stay cheap), sets its sysctls, creates the TUN device 198.18.0.1/30
 * (IFF_TUN | IFF_NO_PI: bare IPv4, the wire format; no ARP, no neighbour entry), brings it
 * and lo up, opens a sock_diag socket and a pool of TCP sockets, and exits. Those
 * descriptors, all O_CLOEXEC, are the namespace's only references: it has no name, no bind
 * mount and no process in it. close() closes them; the death of the process, by a signal
 * or SIGKILL, closes them too, and the kernel then unregisters the TUN device at once and
 * frees the namespace (after any orphaned socket in it has given up: such a socket can
 * reach nothing, since the device and its route are gone). No signal handler is installed.
 * Sockets for later cases are created inside the namespace by setns() there and back, in
 * batches. Nothing leaves the namespace: its only device besides lo is the TUN, its only
 * route is 198.18.0.0/30 on it, and what the kernel writes to it is read by this file only.
 * Sysctls set inside (see set_sysctls): tcp_invalid_ratelimit=0, tcp_no_metrics_save=1,
 * tcp_syncookies=0, tcp_comp_sack_nr=0, icmp_ratelimit=0, challenge-ACK limit unlimited,
 * IPv6 disabled; tcp_timestamps, tcp_sack and tcp_window_scaling keep their defaults (on).
 * The device's route carries the quickack metric (drain() below says why).
 *
 * Cases. Each case gets a fresh port pair (target 20000+k, peer 40000+k, k rotating over
 * 20,000). Passive role: a listening socket; the connection is accepted (non-blocking)
 * as soon as it is established (tried after every injected segment, and when a call needs
 * it) and the listener is closed right after, so the case has one TCB as in RFC 9293.
 * Active role: a socket bound to the case's port; call(CONNECT) connects it. Calls:
 * send/recv with MSG_DONTWAIT (their results are octets), shutdown(SHUT_WR), close(),
 * abort = SO_LINGER {1,0} + close(). CLOSE of a socket in CLOSE (never connected, reset,
 * handed over to TIME-WAIT) is RFC 9293's "error" and has no effect; an OPEN (listen,
 * connect) after the case's socket is gone takes a new one on the same port. A connection
 * the application has no handle on (still in the listener's SYN-RECEIVED, or orphaned by
 * its close()) cannot be named by CLOSE, SHUTDOWN or ABORT through the sockets API: those
 * calls are refused (RFC 9293 §3.9.1 allows a subset of the calls; docs/targets.md has
 * the table), never mapped onto close(listener) or SOCK_DESTROY.
 * reset() ends the previous case: SO_LINGER {1,0} + close, close of the listener, then
 * SOCK_DESTROY by tuple of whatever the case may have left (an orphan in FIN-WAIT or
 * LAST-ACK, TIME-WAIT, a request socket); every 4,096 cases a dump of the namespace
 * destroys anything else, and ports come back only after 20,000 cases.
 *
 * State: TCP_INFO on the held socket; when there is none, or it reports CLOSE (a socket
 * that entered TIME-WAIT hands over to a timewait socket and itself reads CLOSE), an
 * exact-tuple sock_diag query. The kernel answers such a query with the listener when the
 * tuple has no socket (dport 0): that means "no connection". A request socket whose
 * listener was closed can only be dropped (by its timer or the next segment, silently or
 * with RST as for CLOSED): it reads as CLOSED.
 *
 * drain(): the kernel processes an injected packet inside write() and its answers are
 * queued on the TUN before write() returns (measured: every time, over 10^5 exchanges;
 * SACK compression, which answers on an hrtimer, is off), so drain reads non-blocking,
 * keeps the case's port pair and drops everything else, and does not wait, with one
 * exception: when the last injected segment occupied sequence space (data or FIN, with
 * ACK, no SYN/RST), a connection the application holds is synchronized, and nothing has
 * been emitted since, the kernel may be delaying its ACK (pingpong mode after a FIN: one
 * tick if no data came before, TCP_ATO_MIN = 40 ms otherwise). drain then waits up to
 * SFH_LINUX_DELAYED_MS (60 ms; option delack=MS, 0 = never wait) and returns as soon as it
 * comes, so the ACK lands in the step that caused it. That exception is off by default:
 * the device's route carries the quickack metric (option quickack=1, the default), so the
 * kernel sends every ACK at once and never arms its delayed-ACK timer (measured: over
 * 3,131 campaign inputs, none of 121 such waits saw a packet). RFC 9293 §3.8.6.3 lets a
 * TCP delay an ACK (up to 0.5 s) and never requires it; the profile still allows 200 ms.
 * quickack=0 keeps the kernel's delayed ACKs and the waits for them.
 *
 * Time is real for the kernel. advance(ms) polls the TUN for real while a kernel timer of
 * the case's connection is pending (retransmission, SYN-ACK, probe, keepalive: sock_diag's
 * idiag_timer), collecting emissions for drain(). When no timer is pending nothing can
 * happen, so the rest of the wait passes at once (exact; option skipidle=0 waits anyway).
 * When the pending timer fires only after the wait's end (sock_diag's idiag_expires; a
 * kernel timer never fires early; a margin, the edge, of 1/8 of the wait and at most two
 * jiffies: a timer due that soon after the end counts as in the wait and the tolerance
 * below waits for it; decided once per timer, since the expiry
 * sock_diag reports is rounded to jiffies and a timer due at the very end would otherwise
 * read in at one check and out at the next), nothing can happen before the end either,
 * but the timer is not moved by time that did not pass: the rest of the wait passes at
 * once and is reported in sfh_target.skipped_ms, so the model is told the time the
 * stack's timers really saw and both clocks stay together (option jump=0 waits for real
 * instead). A series of short waits then never reaches a timer longer than each of them
 * (a SYN retransmission after four waits of 250 ms): only
 * a wait that covers the timer does, as in a campaign with --max-wait above it.
 * A TIME-WAIT (or orphaned FIN-WAIT-2) timewait socket has no effect but its expiry, which
 * is silent: its deadline is tracked in the case's virtual time, and when a wait passes it
 * the socket is destroyed, exactly what its timer would do. Linux's 60 s TIME-WAIT thus
 * costs no real time. Real waiting is capped at SFH_LINUX_MAXWAIT_MS (2 s; option
 * maxwait=MS, e.g. linux:maxwait=130000 to let every retransmission series finish): the
 * time cut from a wait while a non-timewait timer was pending is added to
 * sfh_target.skipped_ms, and what the stack emits after that may lack that timer's
 * effects.
 *
 * Timing tolerance. Kernel timers fire late, never early: jiffies (HZ=250: 4 ms) and the
 * timer wheel, which files a timer due in more than 256 ms in a coarser level and may
 * run it up to 1/8 of its timeout late (kernel/time/timer.c). Measured through this
 * target: the SYN-ACK retransmissions due at 1, 3, 7 s came at 1.023, 3.038, 7.100 s, the
 * first SYN retransmission at 1.036 s. A retransmission RFC 6298 times at 1.0 s that
 * comes a few ms after a `wait 1000` is not a divergence, so when a wait ends with a
 * kernel timer still pending, the real wait goes on for a tolerance (as packetdrill's
 * tolerance_usecs does), but only while a timer that was due by the end of the wait (or
 * within the edge after it) has not run: at most SFH_LINUX_TOL_MS (50 ms; option
 * tol=MS, 0 = none) plus 1/8 of the wait. The model is told the wait as written: what the
 * RFC figures require by its end may come up to the tolerance late (a timer's early side
 * is the profile's rto_min_ms). A wait with no timer due costs nothing more.
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "target.h"
#include "target_linux_priv.h"

#define SFH_LINUX_MAXWAIT_MS  2000 /* real time one advance() may take (maxwait=) */
#define SFH_LINUX_DELAYED_MS  60   /* drain's wait for a delayed ACK (delack=) */
#define SFH_LINUX_BURST_MS    5	   /* quiet time that ends a data burst in drain (burst=) */
#define SFH_LINUX_BURST_MAX   60   /* drain's wait for the rest of a burst, at most */
#define SFH_LINUX_SETTLE_MS   250  /* > TCP_DELACK_MAX (200 ms): real wait if an ACK is owed */
#define SFH_LINUX_CHUNK_MS    50   /* how often a real wait re-checks the case's timers */
#define SFH_LINUX_TOL_MS      50   /* a late kernel timer's tolerance, plus 1/8 (tol=) */
#define SFH_LINUX_TOL_STEP_MS 2	   /* how often the tolerance re-checks a due timer */
#define SFH_LINUX_JIFFY_MS    4	   /* HZ=250: sock_diag's expiry is rounded to this */
#define SFH_LINUX_EDGE_MS     8	   /* a timer due this late after a wait counts as in it */
#define SFH_LINUX_QUEUE	      512  /* emissions one advance() may collect */
#define SFH_LINUX_PORT_SPAN   20000
#define SFH_LINUX_TPORT	      20000 /* target ports 20000..39999 */
#define SFH_LINUX_PPORT	      40000 /* peer ports 40000..59999 */
#define SFH_LINUX_PURGE_EVERY 4096 /* cases between two dumps of the whole namespace */

struct linux_target {
	struct sfh_target base;
	struct sfh_linux_ns ns;
	uint32_t maxwait_ms, delayed_ms, tol_ms, burst_ms;
	int skipidle, jump;
	uint32_t cases; /* port rotation */
	/* the case */
	struct sfh_endpoints ep;
	struct sfh_linux_app app; /* its sockets and the calls on them (target_linux_sock.c) */
	/* sfh_target.multi: connection k's own side (its tuple cep[k], its accepted or
	 * connected socket); app.lfd is the listener, apart */
	struct sfh_linux_app capp[SFH_MAX_CONNS];
	struct sfh_endpoints cep[SFH_MAX_CONNS];
	int case_multi;	  /* the case in progress was reset with sfh_target.multi */
	int owed;	  /* an injected segment may still get a delayed ACK */
	uint64_t skew_ms; /* virtual time gone by without real time passing */
	struct lt_tw {
		int tw_known; /* a timewait socket's deadline is being tracked */
		int tw_state; /* its substate (TIME-WAIT, or FIN-WAIT-2 for an orphan) */
		int tw_rearm; /* a segment since the last wait restarted its timer */
		uint64_t tw_deadline_ms, tw_skew_ms; /* its real deadline, skew_ms when armed */
	} tw[SFH_MAX_CONNS]; /* per connection (tw[0] alone without selectors) */
	/* emissions collected by advance(), handed out by drain() */
	struct sfh_pkt *q;
	int qhead, qlen;
	uint64_t case_t0_us; /* real time (CLOCK_MONOTONIC) of reset(): the case clock's 0 */
};

/* The connections of the case: one without selectors (app), else SFH_MAX_CONNS. */
static int nconns(const struct linux_target *lt)
{
	return lt->case_multi ? SFH_MAX_CONNS : 1;
}

static struct sfh_linux_app *app_of(struct linux_target *lt, int k)
{
	return lt->case_multi ? &lt->capp[k] : &lt->app;
}

/* Connection k's peer port is the runner's (sfh_target.conn_port, set after reset()). */
static void sync_ports(struct linux_target *lt)
{
	for (int k = 0; lt->case_multi && k < SFH_MAX_CONNS; k++)
		if (lt->base.conn_port[k])
			lt->cep[k].peer_port = lt->base.conn_port[k];
}

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* The case's clock (sfh_target.clock_us): real time since reset() plus the virtual time
 * advance() skipped (skew_ms), in microseconds. */
static uint64_t case_us(const struct linux_target *lt)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	uint64_t now = (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
	return now - lt->case_t0_us + lt->skew_ms * 1000;
}

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint16_t be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* ---------- probe, version, open, close ---------- */

static int lt_probe(char *err, size_t errlen)
{
	return sfh_linux_check_env(err, errlen);
}

/* A write-once cache of the kernel release: version() returns static storage. */
static char version_buf[96];
static pthread_once_t version_once = PTHREAD_ONCE_INIT;

static void version_init(void)
{
	struct utsname u;
	if (uname(&u) == 0)
		snprintf(version_buf, sizeof version_buf, "Linux %s", u.release);
	else
		snprintf(version_buf, sizeof version_buf, "Linux");
}

static const char *lt_version(void)
{
	pthread_once(&version_once, version_init);
	return version_buf;
}

/* Options: comma-separated key=value (maxwait=MS, delack=MS, skipidle=0|1, jump=0|1,
 * quickack=0|1, tol=MS, burst=MS). */
static int parse_args(struct linux_target *lt, const char *args, char *err, size_t errlen)
{
	const char *p = args;
	while (*p) {
		size_t n = strcspn(p, ",");
		const char *eq = memchr(p, '=', n);
		char *end = NULL;
		unsigned long v = eq ? strtoul(eq + 1, &end, 10) : 0;
		size_t klen = eq ? (size_t)(eq - p) : n;
		if (!eq || end == eq + 1 || end != p + n || v > 86400000ul) {
			snprintf(err, errlen, "linux target: bad option '%.*s' (want KEY=NUMBER)",
				 (int)n, p);
			return -1;
		}
		if (klen == 7 && memcmp(p, "maxwait", 7) == 0)
			lt->maxwait_ms = (uint32_t)v;
		else if (klen == 6 && memcmp(p, "delack", 6) == 0)
			lt->delayed_ms = (uint32_t)v;
		else if (klen == 8 && memcmp(p, "skipidle", 8) == 0)
			lt->skipidle = v != 0;
		else if (klen == 4 && memcmp(p, "jump", 4) == 0)
			lt->jump = v != 0;
		else if (klen == 8 && memcmp(p, "quickack", 8) == 0)
			lt->ns.quickack = v != 0;
		else if (klen == 3 && memcmp(p, "tol", 3) == 0)
			lt->tol_ms = (uint32_t)v;
		else if (klen == 5 && memcmp(p, "burst", 5) == 0)
			lt->burst_ms = (uint32_t)v;
		else {
			snprintf(err, errlen,
				 "linux target: unknown option '%.*s' (known: maxwait=MS, "
				 "delack=MS, skipidle=0|1, jump=0|1, quickack=0|1, tol=MS, "
				 "burst=MS)",
				 (int)klen, p);
			return -1;
		}
		p += n;
		if (*p == ',')
			p++;
	}
	return 0;
}

static void lt_close(struct sfh_target *t)
{
	struct linux_target *lt = (struct linux_target *)t;
	if (lt->app.cfd >= 0)
		close(lt->app.cfd);
	if (lt->app.lfd >= 0)
		close(lt->app.lfd);
	for (int k = 0; k < SFH_MAX_CONNS; k++)
		if (lt->capp[k].cfd >= 0)
			close(lt->capp[k].cfd);
	sfh_linux_ns_close(&lt->ns);
	free(lt->q);
	free(lt->app.sendbuf);
	free(lt);
}

extern const struct sfh_target_ops sfh_target_linux_ops;

static int lt_open(const char *args, struct sfh_target **out, char *err, size_t errlen)
{
	*out = NULL;
	struct linux_target *lt = calloc(1, sizeof *lt);
	if (!lt) {
		snprintf(err, errlen, "linux target: out of memory");
		return -1;
	}
	lt->base.ops = &sfh_target_linux_ops;
	lt->app = (struct sfh_linux_app){.ns = &lt->ns, .ep = &lt->ep, .lfd = -1, .cfd = -1,
					 .who = "linux target", .err = lt->base.err,
					 .errlen = sizeof lt->base.err};
	lt->ns.nsfd = lt->ns.tunfd = lt->ns.diagfd = -1;
	lt->maxwait_ms = SFH_LINUX_MAXWAIT_MS;
	lt->tol_ms = SFH_LINUX_TOL_MS;
	lt->delayed_ms = SFH_LINUX_DELAYED_MS;
	lt->burst_ms = SFH_LINUX_BURST_MS;
	lt->skipidle = 1;
	lt->jump = 1;
	lt->ns.quickack = 1;
	lt->q = calloc(SFH_LINUX_QUEUE, sizeof *lt->q);
	lt->app.sendbuf = malloc(SFH_LINUX_SENDBUF);
	if (!lt->q || !lt->app.sendbuf) {
		snprintf(err, errlen, "linux target: out of memory");
		lt_close(&lt->base);
		return -1;
	}
	if (parse_args(lt, args, err, errlen) != 0 ||
	    sfh_linux_ns_open(&lt->ns, err, errlen) != 0) {
		lt_close(&lt->base);
		return -1;
	}
	/* `timers rto_min=`: the TCP_RTO_MIN_US socket option, where the kernel has it */
	int probe = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), v = 0;
	socklen_t vl = sizeof v;
	if (probe >= 0 && getsockopt(probe, IPPROTO_TCP, TCP_RTO_MIN_US, &v, &vl) == 0)
		lt->base.timers_can = 1u << SFH_TM_RTO_MIN;
	if (probe >= 0)
		close(probe);
	*out = &lt->base;
	return 0;
}

/* ---------- the TUN: reading what the kernel emitted ---------- */

/* The TCP header of a bare IPv4 or IPv6 packet, and in *plen its payload length; NULL if
 * it is no TCP packet. Neither synfin nor the kernel puts IPv6 extension headers before
 * TCP here (anything else, e.g. ICMPv6, is not the case's). */
static const uint8_t *tcp_of(const uint8_t *p, size_t n, size_t *plen)
{
	size_t ihl, total;
	if (n >= 40 && (p[0] >> 4) == 6 && p[6] == IPPROTO_TCP) {
		ihl = 40;
		total = 40 + (size_t)be16(p + 4);
	} else if (n >= 20 && (p[0] >> 4) == 4 && p[9] == IPPROTO_TCP) {
		ihl = (size_t)(p[0] & 15) * 4;
		total = be16(p + 2);
	} else {
		return NULL;
	}
	if (ihl < 20 || n < ihl + 20 || total < ihl + 20 || total > n)
		return NULL;
	size_t doff = (size_t)(p[ihl + 12] >> 4) * 4;
	*plen = total > ihl + doff ? total - ihl - doff : 0;
	return p + ihl;
}

static int is_ours(const struct linux_target *lt, const uint8_t *p, size_t n)
{
	size_t plen;
	const uint8_t *tcp = tcp_of(p, n, &plen);
	if (!tcp)
		return 0;
	int ip_ok;
	if (lt->ep.ipv6)
		ip_ok = (p[0] >> 4) == 6 && memcmp(p + 8, lt->ep.target_ip6, 16) == 0 &&
			memcmp(p + 24, lt->ep.peer_ip6, 16) == 0;
	else
		ip_ok = (p[0] >> 4) == 4 && be32(p + 12) == lt->ep.target_ip &&
			be32(p + 16) == lt->ep.peer_ip;
	if (!ip_ok)
		return 0;
	for (int k = 0; k < nconns(lt); k++) {
		const struct sfh_endpoints *e = lt->case_multi ? &lt->cep[k] : &lt->ep;
		if (be16(tcp) == e->target_port && be16(tcp + 2) == e->peer_port)
			return 1;
	}
	return 0;
}

/* Read what is queued on the TUN without waiting; keep this case's packets (up to max,
 * into out), drop everything else. Returns how many, or -1. */
static int tun_read(struct linux_target *lt, struct sfh_pkt *out, int max)
{
	int n = 0;
	while (n < max) {
		ssize_t r = read(lt->ns.tunfd, out[n].data, sizeof out[n].data);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN)
				return n;
			snprintf(lt->base.err, sizeof lt->base.err, "linux target: read TUN: %s",
				 strerror(errno));
			return -1;
		}
		if (is_ours(lt, out[n].data, (size_t)r)) {
			out[n].len = (uint16_t)r;
			out[n].at_us = case_us(lt); /* read while polled: within a ms or two */
			n++;
		}
	}
	return n;
}

/* Wait for the TUN to become readable, at most ms. */
static void tun_wait(struct linux_target *lt, uint64_t ms)
{
	struct pollfd p = {.fd = lt->ns.tunfd, .events = POLLIN};
	(void)poll(&p, 1, (int)(ms > 60000 ? 60000 : ms));
}

/* Collect this case's emissions into the queue for ms of real time, or (first_only) until
 * some came and then burst_ms passed with nothing new (the rest of a burst a timer
 * released: drain()'s burst_rest() says why it may lag). */
static int collect(struct linux_target *lt, uint64_t ms, int first_only)
{
	uint64_t end = now_ms() + ms;
	int had = lt->qlen;
	for (;;) {
		while (lt->qhead + lt->qlen < SFH_LINUX_QUEUE) {
			int got = tun_read(lt, lt->q + lt->qhead + lt->qlen,
					   SFH_LINUX_QUEUE - lt->qhead - lt->qlen);
			if (got < 0)
				return -1;
			if (got == 0)
				break;
			lt->qlen += got;
		}
		if (lt->qhead + lt->qlen == SFH_LINUX_QUEUE) {
			snprintf(lt->base.err, sizeof lt->base.err,
				 "linux target: more than %d segments in one wait",
				 SFH_LINUX_QUEUE);
			return -1;
		}
		uint64_t now = now_ms();
		if (first_only && lt->qlen > had) {
			had = lt->qlen;
			if (now + lt->burst_ms < end)
				end = now + lt->burst_ms;
		}
		if (now >= end)
			return 0;
		tun_wait(lt, end - now);
	}
}

static void flush_tun(struct linux_target *lt)
{
	uint8_t buf[SFH_PKT_MAX];
	while (read(lt->ns.tunfd, buf, sizeof buf) >= 0 || errno == EINTR)
		;
}

/* ---------- the case's sockets ---------- */

/* End the previous case: nothing of it may reach the next one. Its only TCB is the one
 * of its port pair: aborting the held socket ends it, unless it already handed over to a
 * timewait socket (it reads CLOSE then), was closed gracefully (an orphan may live on),
 * or never left the listener (a request socket may remain); those are destroyed by
 * tuple. Every SFH_LINUX_PURGE_EVERY cases a dump of the whole namespace makes sure. */
static int drop_case(struct linux_target *lt)
{
	int aborted = 0;
	if (lt->app.cfd >= 0) {
		struct tcp_info ti;
		socklen_t l = sizeof ti;
		if (getsockopt(lt->app.cfd, IPPROTO_TCP, TCP_INFO, &ti, &l) != 0 ||
		    ti.tcpi_state == SFH_LK_CLOSE)
			lt->app.dirty = 1;
		sfh_linux_abort_fd(lt->app.cfd);
		aborted = 1;
	}
	if (lt->app.lfd >= 0) {
		close(lt->app.lfd); /* resets an unaccepted child, if any */
		aborted = 1;
	}
	lt->app.cfd = lt->app.lfd = -1;
	int rc = 0;
	/* several connections: each socket held goes, then whatever is left of each tuple */
	for (int k = 0; lt->case_multi && k < SFH_MAX_CONNS; k++) {
		if (lt->capp[k].cfd >= 0) {
			sfh_linux_abort_fd(lt->capp[k].cfd);
			lt->capp[k].cfd = -1;
			aborted = 1;
		}
		if (rc == 0 && lt->cases % SFH_LINUX_PURGE_EVERY != 0)
			rc = sfh_linux_diag_destroy(&lt->ns, &lt->cep[k], NULL);
	}
	if (lt->cases % SFH_LINUX_PURGE_EVERY == 0)
		rc = sfh_linux_diag_purge(&lt->ns) < 0 ? -1 : 0;
	else if (!lt->case_multi &&
		 (lt->app.dirty || (lt->app.role == SFH_ROLE_PASSIVE && !lt->app.accepted)))
		rc = sfh_linux_diag_destroy(&lt->ns, &lt->ep, NULL);
	if (rc != 0) {
		snprintf(lt->base.err, sizeof lt->base.err, "linux target: purge: %s",
			 strerror(errno));
		return -1;
	}
	/* Later stray packets of the case are dropped by drain's port filter anyway. */
	if (aborted)
		flush_tun(lt);
	lt->qhead = lt->qlen = 0;
	return 0;
}

static int lt_reset(struct sfh_target *t, enum sfh_role role, uint32_t case_no,
		    struct sfh_endpoints *ep)
{
	struct linux_target *lt = (struct linux_target *)t;
	if (drop_case(lt) != 0)
		return -1;
	if (t->ipv6 && !lt->ns.ipv6) {
		snprintf(t->err, sizeof t->err, "linux target: not supported here: IPv6: %s",
			 lt->ns.no_ipv6);
		return -1;
	}
	uint32_t k = lt->cases++ % SFH_LINUX_PORT_SPAN;
	lt->ep = (struct sfh_endpoints){
	    .peer_ip = SFH_LINUX_PEER_IP,
	    .target_ip = SFH_LINUX_TARGET_IP,
	    .peer_port = (uint16_t)(SFH_LINUX_PPORT + k),
	    .target_port = (uint16_t)(SFH_LINUX_TPORT + k),
	};
	if (t->ipv6) {
		lt->ep.ipv6 = 1;
		lt->ep.peer_ip = lt->ep.target_ip = 0;
		memcpy(lt->ep.target_ip6, sfh_linux_target_ip6, 16);
		memcpy(lt->ep.peer_ip6, sfh_linux_target_ip6, 16);
		lt->ep.peer_ip6[15] = 2;
	}
	lt->app.role = role;
	lt->app.accepted = lt->app.connected = lt->app.dirty = 0;
	lt->owed = 0;
	memset(lt->tw, 0, sizeof lt->tw);
	lt->app.pristine = 1;
	lt->app.sent = 0;
	lt->skew_ms = 0;
	lt->case_t0_us = 0;
	lt->case_t0_us = case_us(lt);
	t->clock_us = 0;
	t->skipped_ms = 0;
	uint32_t rto_min = t->timer_ms[SFH_TM_RTO_MIN];
	lt->app.rto_min_us = 0;
	if (t->timers_set & (1u << SFH_TM_RTO_MIN)) {
		/* TCP_RTO_MIN_US takes 5 ms to 200 ms (TCP_RTO_MIN): it can only lower the floor */
		if (rto_min < 5 || rto_min > 200) {
			snprintf(
			    t->err, sizeof t->err,
			    "not supported by target linux: timers rto_min=%lums (the kernel's "
			    "TCP_RTO_MIN_US takes 5ms to 200ms)",
			    (unsigned long)rto_min);
			return -1;
		}
		lt->app.rto_min_us = rto_min * 1000;
	}
	/* No SO_REUSEADDR: nothing of an earlier case is left on the port (see drop_case;
	 * ports come back after 20,000 cases, full purges run every 4,096). */
	int fd = sfh_linux_bound_socket(&lt->ns, &lt->ep, 0);
	if (fd < 0 || sfh_linux_app_timers(&lt->app, fd) != 0 ||
	    (role == SFH_ROLE_PASSIVE && listen(fd, 8) != 0)) {
		snprintf(t->err, sizeof t->err, "linux target: case socket on port %u: %s",
			 lt->ep.target_port, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	if (role == SFH_ROLE_PASSIVE)
		lt->app.lfd = fd;
	else
		lt->app.cfd = fd;
	lt->case_multi = t->multi;
	for (int j = 0; j < SFH_MAX_CONNS; j++) {
		/* connection j: peer port + j (sync_ports takes the runner's), and in the
		 * active role its own port too */
		lt->cep[j] = lt->ep;
		lt->cep[j].peer_port = (uint16_t)(lt->ep.peer_port + j);
		if (role == SFH_ROLE_ACTIVE)
			lt->cep[j].target_port = (uint16_t)(lt->ep.target_port + j);
		lt->capp[j] = lt->app;
		lt->capp[j].ep = &lt->cep[j];
		lt->capp[j].lfd = lt->capp[j].cfd = -1;
		lt->capp[j].pristine = 0;
	}
	if (t->multi && role == SFH_ROLE_ACTIVE) { /* connection 1 has the case's socket */
		lt->capp[0].cfd = lt->app.cfd;
		lt->app.cfd = -1;
	}
	*ep = lt->ep;
	return 0;
}

/* ---------- inject and drain ---------- */

/* Would the kernel owe an ACK for this segment that it may delay? Data or FIN, with ACK,
 * without SYN or RST (those are answered at once or not at all). */
static int may_owe_ack(const uint8_t *p, size_t n)
{
	size_t plen;
	const uint8_t *tcp = tcp_of(p, n, &plen);
	if (!tcp)
		return 0;
	uint8_t fl = tcp[13];
	return (fl & SFO_ACK) && !(fl & (SFO_SYN | SFO_RST)) && (plen || (fl & SFO_FIN));
}

static int lt_inject(struct sfh_target *t, const uint8_t *ip, size_t len)
{
	struct linux_target *lt = (struct linux_target *)t;
	t->clock_us = case_us(lt);
	for (;;) {
		ssize_t w = write(lt->ns.tunfd, ip, len);
		if (w == (ssize_t)len)
			break;
		if (w < 0 && errno == EINTR)
			continue;
		snprintf(t->err, sizeof t->err, "linux target: write TUN: %s",
			 w < 0 ? strerror(errno) : "short write");
		return -1;
	}
	lt->app.pristine = 0;
	if (!lt->case_multi && lt->app.lfd >= 0 && lt->app.cfd < 0)
		(void)sfh_linux_app_conn(&lt->app);
	/* Only a synchronized connection the application still holds delays ACKs; an
	 * orphan, a request socket or SYN-SENT answers at once or not at all. */
	lt->owed = 0;
	if (lt->app.cfd >= 0 && !lt->ns.quickack && may_owe_ack(ip, len)) {
		int k = sfh_linux_fd_state(lt->app.cfd);
		lt->owed = k == SFH_LK_ESTABLISHED || k == SFH_LK_CLOSE_WAIT ||
			   k == SFH_LK_FIN_WAIT1 || k == SFH_LK_FIN_WAIT2 || k == SFH_LK_SYN_RECV;
	}
	/* In TIME-WAIT every segment with ACK and without RST restarts the 2MSL timer
	 * (tcp_timewait_state_process); with waits passing in virtual time, the real
	 * deadline cannot show it, so note it here. */
	size_t plen;
	const uint8_t *tcp = tcp_of(ip, len, &plen);
	int k = 0;
	while (lt->case_multi && tcp && k + 1 < SFH_MAX_CONNS && be16(tcp) != lt->cep[k].peer_port)
		k++;
	if (lt->tw[k].tw_known && tcp && (tcp[13] & (SFO_ACK | SFO_RST)) == SFO_ACK)
		lt->tw[k].tw_rearm = 1;
	return 0;
}

/* Does this emitted packet carry data? */
static int carries_data(const struct sfh_pkt *k)
{
	size_t plen = 0;
	return tcp_of(k->data, k->len, &plen) && plen > 0;
}

/* The rest of a data burst. Not every segment of a burst leaves inside the write() or
 * send() that released it: what the kernel holds back (likely TCP Small Queues) goes out
 * from a tasklet, which runs when the write() leaves softirq context or, on a busy
 * machine, later in ksoftirqd. Measured on the linux 10-minute campaign's finding 805a7cd1 (an ACK
 * releasing 20 segments): 11 of 30 replays drained only the first 7 or 11 in the step,
 * the rest came within 1 ms and were judged with the next step. So while the last packet
 * read carried data, drain keeps reading until burst_ms pass with nothing new (at most
 * SFH_LINUX_BURST_MAX ms). n packets are in out; returns the new count, or -1. */
static int burst_rest(struct linux_target *lt, struct sfh_pkt *out, int n, int max)
{
	uint64_t end = now_ms() + SFH_LINUX_BURST_MAX;
	while (lt->burst_ms > 0 && n > 0 && n < max && carries_data(&out[n - 1])) {
		uint64_t now = now_ms();
		if (now >= end)
			break;
		tun_wait(lt, end - now < lt->burst_ms ? end - now : lt->burst_ms);
		int got = tun_read(lt, out + n, max - n);
		if (got <= 0)
			return got < 0 ? -1 : n;
		n += got;
	}
	return n;
}

static int lt_drain(struct sfh_target *t, struct sfh_pkt *out, int max)
{
	struct linux_target *lt = (struct linux_target *)t;
	int n = 0;
	if (lt->app.pristine)
		return 0; /* nothing was done since reset(): nothing can have been emitted */
	while (n < max && lt->qlen > 0) {
		out[n++] = lt->q[lt->qhead++];
		if (--lt->qlen == 0)
			lt->qhead = 0;
	}
	if (n < max) {
		int got = tun_read(lt, out + n, max - n);
		if (got < 0)
			return -1;
		n += got;
		n = burst_rest(lt, out, n, max);
		if (n < 0)
			return -1;
	}
	if (n == 0 && lt->owed && lt->delayed_ms > 0) {
		uint64_t end = now_ms() + lt->delayed_ms;
		for (uint64_t now = now_ms(); n == 0 && now < end; now = now_ms()) {
			tun_wait(lt, end - now);
			n = tun_read(lt, out, max);
			if (n < 0)
				return -1;
		}
	}
	lt->owed = 0;
	return n;
}

/* ---------- state and user calls: the application's side (target_linux_sock.c) ---------- */

/* Several connections: the connection sel_port names, or -1. */
static int selected(struct linux_target *lt)
{
	sync_ports(lt);
	for (int k = 0; k < SFH_MAX_CONNS; k++)
		if (lt->cep[k].peer_port == lt->base.sel_port)
			return k;
	return -1;
}

/* Several connections: take every connection the listener has ready, each to the
 * connection of its peer port (accept() hands them out in the order they established,
 * so naming one may take the others too: the application then holds them). One of no
 * connection of the case is aborted. 0, or -1 (err). */
static int accept_all(struct linux_target *lt)
{
	while (lt->app.lfd >= 0) {
		struct sockaddr_in6 sa; /* an IPv4 address's port is at the same place */
		socklen_t l = sizeof sa;
		int fd =
		    accept4(lt->app.lfd, (struct sockaddr *)&sa, &l, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0 && errno == EINTR)
			continue;
		if (fd < 0)
			return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -1;
		int k = 0;
		while (k < SFH_MAX_CONNS && lt->cep[k].peer_port != ntohs(sa.sin6_port))
			k++;
		if (k == SFH_MAX_CONNS || sfh_linux_fd_state(fd) == SFH_LK_CLOSE) {
			/* none of the case's, or an incarnation already reset in the queue */
			sfh_linux_abort_fd(fd);
			continue;
		}
		struct sfh_linux_app *a = &lt->capp[k];
		if (a->cfd >= 0) /* an earlier incarnation's socket, reset or handed over */
			close(a->cfd);
		a->cfd = fd;
		a->accepted = 1;
		a->dirty = 1;
	}
	return 0;
}

static int lt_state(struct sfh_target *t, enum sfo_state *st)
{
	struct linux_target *lt = (struct linux_target *)t;
	if (!lt->case_multi)
		return sfh_linux_app_state(&lt->app, st);
	if (t->sel_listener) {
		*st = lt->app.lfd >= 0 ? SFO_LISTEN : SFO_CLOSED;
		return 0;
	}
	int k = selected(lt);
	if (k < 0) {
		*st = SFO_CLOSED;
		return 0;
	}
	/* a request socket reads SYN-RECEIVED while its listener lives (the listener is
	 * the connection's only holder then), CLOSED once it is gone; a socket held of an
	 * earlier incarnation (reset, or handed to TIME-WAIT) makes no later one accepted */
	struct sfh_linux_app a = lt->capp[k];
	a.lfd = lt->app.lfd;
	a.accepted = a.cfd >= 0 && sfh_linux_fd_state(a.cfd) != SFH_LK_CLOSE;
	int rc = sfh_linux_app_state(&a, st);
	if (rc == 0 && *st == SFO_LISTEN)
		*st = SFO_CLOSED; /* no connection on the tuple: the listener's answer */
	return rc;
}

/* A call on the listener of a case with selectors: listen opens it again (a new socket
 * on the port), close and abort close it (Linux resets the established connections
 * nobody accepted and drops its request sockets), shutdown of a listener fails
 * (ENOTCONN: refused). */
static int listener_call(struct linux_target *lt, enum sfo_call call)
{
	struct sfh_linux_app *a = &lt->app;
	switch (call) {
	case SFO_CALL_LISTEN:
		if (a->lfd < 0) {
			struct sfh_linux_app tmp = *a;
			tmp.cfd = -1;
			tmp.role = SFH_ROLE_PASSIVE;
			int rc = sfh_linux_app_call(&tmp, SFO_CALL_LISTEN, 0);
			a->lfd = tmp.lfd;
			a->dirty |= tmp.dirty;
			return rc;
		}
		return 0;
	case SFO_CALL_CLOSE:
	case SFO_CALL_ABORT:
		if (a->lfd >= 0) {
			close(a->lfd);
			a->lfd = -1;
		}
		return 0;
	case SFO_CALL_SHUTDOWN:
		return SFH_LINUX_REFUSED;
	case SFO_CALL_CONNECT:
	case SFO_CALL_ACCEPT:
	case SFO_CALL_SEND:
	case SFO_CALL_RECEIVE:
		break;
	}
	snprintf(lt->base.err, sizeof lt->base.err, "linux target: call %s on the listener",
		 sfo_call_name(call));
	return -1;
}

static int lt_call(struct sfh_target *t, enum sfo_call call, uint32_t arg)
{
	struct linux_target *lt = (struct linux_target *)t;
	t->clock_us = case_us(lt);
	if (!lt->case_multi) {
		int rc = sfh_linux_app_call(&lt->app, call, arg);
		t->call_err = lt->app.call_err;
		return rc;
	}
	lt->app.pristine = 0;
	if (t->sel_listener) {
		int rc = listener_call(lt, call);
		/* shutdown(2) of a listening socket: ENOTCONN */
		t->call_err = rc == SFH_LINUX_REFUSED ? SFO_ERR_ENOTCONN : SFO_ERR_OK;
		return rc;
	}
	int k = selected(lt);
	if (k < 0) {
		snprintf(t->err, sizeof t->err, "linux target: no connection has peer port %u",
			 t->sel_port);
		return -1;
	}
	if (accept_all(lt) != 0) {
		snprintf(t->err, sizeof t->err, "linux target: accept: %s", strerror(errno));
		return -1;
	}
	/* The socket held is of an earlier incarnation (it reads CLOSE) and a new one is in
	 * the listener's SYN-RECEIVED: the application holds nothing of the new one. */
	struct sfh_linux_app *a = &lt->capp[k];
	struct sfh_linux_sk sk;
	if (a->cfd >= 0 && sfh_linux_fd_state(a->cfd) == SFH_LK_CLOSE &&
	    sfh_linux_diag_get(&lt->ns, a->ep, &sk) == 1 && sk.dport != 0 &&
	    (sk.state == SFH_LK_SYN_RECV || sk.state == SFH_LK_NEW_SYN_RECV)) {
		close(a->cfd);
		a->cfd = -1;
		a->accepted = 0;
	}
	int rc = sfh_linux_app_call(a, call, arg);
	t->call_err = a->call_err;
	return rc;
}

/* ---------- time ---------- */

/* Is anything of the case's connection able to happen by itself? A timewait socket only
 * expires (silently), which tw_expire() handles in virtual time. 1 idle, 0 busy (*due_ms:
 * until its pending timer fires; kernel timers never fire early), -1 err. */
static int next_timer(struct linux_target *lt, uint32_t *due_ms)
{
	int idle = 1;
	for (int k = 0; k < nconns(lt); k++) {
		struct sfh_linux_sk sk;
		int rc = sfh_linux_app_diag(app_of(lt, k), &sk);
		if (rc < 0)
			return -1;
		if (rc == 0 || sk.timer == SFH_LT_NONE || sk.timer == SFH_LT_TW)
			continue;
		if (idle || sk.expires_ms < *due_ms)
			*due_ms = sk.expires_ms;
		idle = 0;
	}
	return idle;
}

static int idle(struct linux_target *lt)
{
	uint32_t due;
	return next_timer(lt, &due);
}

/* Before a wait: note when the case's timewait socket (if any) was armed, in real time
 * and in skew. It is armed, or re-armed by a segment (inject() notes those; a FIN turns a
 * FIN-WAIT-2 timewait socket into TIME-WAIT), only between waits, when skew_ms is what it
 * is now. */
static int tw_note1(struct linux_target *lt, int k)
{
	struct sfh_linux_sk sk;
	struct lt_tw *w = &lt->tw[k];
	int rc = sfh_linux_app_diag(app_of(lt, k), &sk);
	if (rc < 0)
		return -1;
	if (rc == 0 || sk.timer != SFH_LT_TW) {
		w->tw_known = 0;
		return 0;
	}
	uint64_t dl = now_ms() + sk.expires_ms;
	int64_t moved = (int64_t)(dl - w->tw_deadline_ms);
	if (!w->tw_known || w->tw_rearm || sk.state != w->tw_state || moved > 12) {
		w->tw_known = 1;
		w->tw_state = sk.state;
		w->tw_deadline_ms = dl;
		w->tw_skew_ms = lt->skew_ms;
	}
	w->tw_rearm = 0;
	return 0;
}

static int tw_note(struct linux_target *lt)
{
	for (int k = 0; k < nconns(lt); k++)
		if (tw_note1(lt, k) != 0)
			return -1;
	return 0;
}

/* After a wait that added `skipped` ms of virtual time: destroy the timewait socket if
 * its deadline has passed in virtual time (its expiry emits nothing). */
static int tw_expire1(struct linux_target *lt, int k, uint64_t skipped)
{
	struct sfh_linux_sk sk;
	struct lt_tw *w = &lt->tw[k];
	int rc = sfh_linux_app_diag(app_of(lt, k), &sk);
	if (rc <= 0 || sk.timer != SFH_LT_TW) {
		w->tw_known = 0;
		return rc < 0 ? -1 : 0;
	}
	if (!w->tw_known) {
		/* Armed during the real part of this wait: the skipped part came after. */
		w->tw_known = 1;
		w->tw_state = sk.state;
		w->tw_deadline_ms = now_ms() + sk.expires_ms;
		w->tw_skew_ms = lt->skew_ms - skipped;
	}
	if (lt->skew_ms - w->tw_skew_ms < sk.expires_ms)
		return 0;
	w->tw_known = 0;
	if (sfh_linux_diag_destroy(&lt->ns, app_of(lt, k)->ep, sk.cookie) != 0) {
		snprintf(lt->base.err, sizeof lt->base.err, "linux target: SOCK_DESTROY: %s",
			 strerror(errno));
		return -1;
	}
	return 0;
}

/* How long after a wait of ms a timer still counts as in it (top comment, "Time"): 1/8 of
 * the wait, at most SFH_LINUX_EDGE_MS; a short wait so reaches no timer the model would
 * call early (a `wait 0` only one that is overdue). */
static uint32_t edge_of(uint32_t ms)
{
	return ms / 8 > SFH_LINUX_EDGE_MS ? SFH_LINUX_EDGE_MS : ms / 8;
}

static int tw_expire(struct linux_target *lt, uint64_t skipped)
{
	for (int k = 0; k < nconns(lt); k++)
		if (tw_expire1(lt, k, skipped) != 0)
			return -1;
	return 0;
}

/* Is a kernel timer of the case's connections (not a timewait socket's) due now, but not
 * run yet? sock_diag reports an overdue timer as expiring in 0 ms; up to the edge
 * counts as due, as advance() counted it into the wait. 1 yes, 0 no, -1 error. */
static int timer_due(struct linux_target *lt, uint32_t edge)
{
	for (int k = 0; k < nconns(lt); k++) {
		struct sfh_linux_sk sk;
		int rc = sfh_linux_app_diag(app_of(lt, k), &sk);
		if (rc < 0)
			return -1;
		if (rc == 1 && sk.timer != SFH_LT_NONE && sk.timer != SFH_LT_TW &&
		    sk.expires_ms <= edge)
			return 1;
	}
	return 0;
}

/* The timing tolerance (top comment): at the end of a written wait, while a timer that
 * was due by then has not run, go on waiting for real, up to limit ms after t0. */
static int overrun(struct linux_target *lt, uint64_t t0, uint64_t *waited, uint64_t limit,
		   uint32_t edge)
{
	while (*waited < limit) {
		int due = timer_due(lt, edge);
		if (due <= 0)
			return due;
		if (collect(lt, SFH_LINUX_TOL_STEP_MS, 0) != 0)
			return -1;
		*waited = now_ms() - t0;
	}
	return 0;
}

static int lt_advance(struct sfh_target *t, uint32_t ms)
{
	struct linux_target *lt = (struct linux_target *)t;
	t->clock_us = case_us(lt);
	if (tw_note(lt) != 0)
		return -1;
	uint64_t cap = ms < lt->maxwait_ms ? ms : lt->maxwait_ms;
	/* An ACK the kernel may still be delaying is invisible to sock_diag. */
	uint64_t min_real = lt->owed ? (cap < SFH_LINUX_SETTLE_MS ? cap : SFH_LINUX_SETTLE_MS) : 0;
	uint64_t t0 = now_ms(), waited = 0, held = 0;
	for (;;) {
		uint32_t due = SFH_LINUX_CHUNK_MS;
		if (waited >= min_real && lt->skipidle) {
			int rc = next_timer(lt, &due);
			if (rc < 0)
				return -1;
			if (rc == 1)
				break;
			/* The pending timer fires after the real wait would end, even counting the
			 * edge: nothing can happen in it (top comment, "Time"). Decided once per
			 * timer: sock_diag rounds its expiry to jiffies, so a timer due right at
			 * the end would read in one check and out at the next. */
			uint64_t at = now_ms() + due;
			int same = held && at + 2 * SFH_LINUX_JIFFY_MS >= held &&
				   at <= held + 2 * SFH_LINUX_JIFFY_MS;
			if (lt->jump && waited < cap && !same && due > cap - waited + edge_of(ms))
				break;
			held = at;
		}
		if (waited >= cap)
			break;
		/* Re-check the timers once the pending one has run (it emits, or is due
		 * plus a jiffy), and at least every chunk. */
		uint64_t step = cap - waited, until = (uint64_t)due + SFH_LINUX_JIFFY_MS;
		int settled = waited >= min_real;
		if (!settled)
			step = min_real - waited;
		else if (lt->skipidle && step > SFH_LINUX_CHUNK_MS)
			step = SFH_LINUX_CHUNK_MS;
		if (settled && lt->skipidle && step > until)
			step = until;
		if (collect(lt, step, settled && lt->skipidle) != 0)
			return -1;
		waited = now_ms() - t0;
	}
	if (waited >= min_real)
		lt->owed = 0;
	if (cap == ms && lt->tol_ms &&
	    overrun(lt, t0, &waited, cap + lt->tol_ms + ms / 8, edge_of(ms)) != 0)
		return -1;
	uint64_t skipped = ms > waited ? ms - waited : 0;
	lt->skew_ms += skipped;
	if (tw_expire(lt, skipped) != 0)
		return -1;
	if (skipped > 0) {
		int rc = idle(lt);
		if (rc < 0)
			return -1;
		if (rc == 0)
			t->skipped_ms += skipped;
	}
	return 0;
}

const struct sfh_target_ops sfh_target_linux_ops = {
    .name = "linux",
    .summary = "the running kernel's TCP via a TUN device in a private network namespace",
    .caps = SFH_CAP_STATE | SFH_CAP_PASSIVE | SFH_CAP_ACTIVE | SFH_CAP_EMIT_TIME | SFH_CAP_TIMERS |
	    SFH_CAP_CALLRES | SFH_CAP_IPV6 | SFH_CAP_LISTENER | SFH_CAP_CONNS,
    .profile = "linux",
    .probe = lt_probe,
    .version = lt_version,
    .open = lt_open,
    .reset = lt_reset,
    .inject = lt_inject,
    .call = lt_call,
    .advance = lt_advance,
    .drain = lt_drain,
    .state = lt_state,
    .close = lt_close,
};
