/* The slirp target: libslirp 4.7.0 in-process, synfin playing the guest.
 *
 * One fresh slirp instance per case (slirp_new ... slirp_cleanup): isolation holds by
 * construction, and every case starts from the same ISS (slirp's tcp_iss starts at 1)
 * and the same virtual clock, so a finding replays exactly. Reusing one instance with
 * fresh ports runs the raw loop 2.7x faster but needs every leftover connection killed
 * (slirp never closes a guestfwd connection in CLOSE-WAIT by itself) and leaves the ISS
 * and the timer phase to depend on earlier cases; the fresh instance keeps the target
 * above 55,000 cases/s (bench/bench_slirp.c).
 *
 * Roles (user calls: target_slirp_call.c):
 * - passive, guestfwd mode (the default): slirp_add_guestfwd terminates the guest's
 *   connection inside slirp with no host socket. SEND is slirp_socket_recv, RECEIVE
 *   counts what the write callback got, SHUTDOWN/CLOSE make slirp close its side (see
 *   gfwd_shutdown), ABORT replays the case in socket mode first (target_slirp_sock.c),
 *   because the guestfwd API has no way to reset a connection.
 * - passive, socket mode ("slirp:passive=sock"): slirp connects to our listener on
 *   127.0.0.1; calls act on the accepted socket. Same verdicts, ~10x slower.
 * - active: slirp_add_hostfwd on 127.0.0.1; CONNECT connects a host socket to it and
 *   slirp opens a connection to the guest; calls act on that host socket.
 * A case keeps its role: LISTEN in the active role or CONNECT in the passive role, once
 * the case's connection is gone, is an error (the other side of slirp is not set up).
 *
 * Time: slirp's TCP timers are its fast (2 ms, delayed ACK) and slow (499 ms, everything
 * else: PR_SLOWHZ = 2) timeouts, run from slirp_pollfds_poll against clock_get_ns. The
 * clock is virtual; advance() steps it by the timeout slirp_pollfds_fill asks for, as an
 * event loop would sleep, and polls after every step, so timers fire without waiting.
 * slirp_pollfds_poll also runs after every inject and call, as in a real event loop.
 *
 * Callbacks give slirp an opaque pointer, so no global state is needed except for
 * version()'s buffer and the process-wide malloc tuning (sl_open).
 */
#include <dlfcn.h>
#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <stdarg.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <linux/tcp.h>

#include "target_slirp_priv.h"

/* The virtual clock at the start of every case. slirp runs its slow timeout (all TCP
 * timers but the delayed ACK, and the ISS increment) once curtime - last_slowtimo >= 499
 * ms, last_slowtimo starting at 0: from 1 ms, the first tick comes at 499 ms whatever the
 * case does, so the ISS is 1 in every mode (socket mode polls between the SYN and the
 * choice of ISS). Not 0: slirp takes time_fasttimo == 0 for "no delayed ACK due". */
#define SFH_SL_T0_NS   1000000LL
#define SFH_SL_WAIT_MS 10 /* bound on a real wait for loopback activity */

extern const struct sfh_target_ops sfh_target_slirp_ops;

static const uint8_t guest_mac[6] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};
/* slirp's own MAC is 52:55 followed by its IPv4 address. */
static const uint8_t slirp_mac[6] = {0x52, 0x55, 0x0a, 0x00, 0x02, 0x02};

int sfh_sl_err(struct sfh_slirp *s, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(s->base.err, sizeof s->base.err, fmt, ap);
	va_end(ap);
	return -1;
}

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* ---- glib's log: slirp reports through g_log (domain "Slirp"); library code must not
 * print, so a handler swallows it. glib's headers are not installed, hence dlsym. ---- */

typedef void (*sl_glog_fn)(const char *domain, int level, const char *msg, void *user);
typedef unsigned (*sl_glog_set_fn)(const char *domain, int levels, sl_glog_fn fn, void *user);
typedef void (*sl_glog_remove_fn)(const char *domain, unsigned id);

static void sl_glog(const char *domain, int level, const char *msg, void *user)
{
	(void)domain, (void)level, (void)msg, (void)user;
}

static void sl_glog_install(struct sfh_slirp *s)
{
	sl_glog_set_fn set = (sl_glog_set_fn)dlsym(RTLD_DEFAULT, "g_log_set_handler");
	if (set)
		s->glib_handler = set("Slirp", ~0, sl_glog, s); /* every level and flag */
}

static void sl_glog_remove(struct sfh_slirp *s)
{
	sl_glog_remove_fn rm = (sl_glog_remove_fn)dlsym(RTLD_DEFAULT, "g_log_remove_handler");
	if (rm && s->glib_handler)
		rm("Slirp", s->glib_handler);
	s->glib_handler = 0;
}

/* ---- slirp's callbacks ---- */

/* Hash of what the case emitted (sequence, ack, flags, window, options, length), so that a
 * replay in socket mode can prove it reproduced the guestfwd run. Ports and addresses are
 * left out: they are what the replay translates. */
static void sl_hash_seg(struct sfh_slirp *s, const uint8_t *tcp, size_t tcplen)
{
	uint64_t h = s->out_hash ? s->out_hash : 1469598103934665603ull;
	size_t hl = (size_t)(tcp[12] >> 4) * 4;
	for (size_t i = 4; i < hl && i < tcplen; i++) {
		if (i == 16 || i == 17) /* checksum */
			continue;
		h = (h ^ tcp[i]) * 1099511628211ull;
	}
	h = (h ^ (uint64_t)tcplen) * 1099511628211ull;
	s->out_hash = h;
	s->out_n++;
}

/* Keep the case's IPv4 TCP packets (to the guest's port); answer nothing else. */
static ssize_t sl_send_packet(const void *buf, size_t len, void *opaque)
{
	struct sfh_slirp *s = opaque;
	const uint8_t *f = buf;
	if (len < 14 + 40 || f[12] != 0x08 || f[13] != 0x00)
		return (ssize_t)len;
	const uint8_t *ip = f + 14;
	size_t iplen = len - 14, ihl = (size_t)(ip[0] & 15) * 4;
	if ((ip[0] >> 4) != 4 || ip[9] != 6 || ihl < 20 || iplen < ihl + 20)
		return (ssize_t)len;
	if (rd16(ip + 2) < iplen)
		iplen = rd16(ip + 2); /* Ethernet padding */
	if (rd32(ip + 16) != SFH_SL_GUEST || rd16(ip + ihl + 2) != s->ep.peer_port)
		return (ssize_t)len;
	sl_hash_seg(s, ip + ihl, iplen - ihl);
	if (s->replaying)
		return (ssize_t)len; /* already drained once, from the guestfwd run */
	if (iplen > SFH_PKT_MAX || s->ncap >= SFH_SL_MAX_CAP) {
		s->overflow = 1;
		return (ssize_t)len;
	}
	if (s->ncap == s->capmax) {
		size_t n = s->capmax ? s->capmax * 2 : 32;
		struct sfh_pkt *p = realloc(s->cap, n * sizeof *p);
		if (!p) {
			s->overflow = 1;
			return (ssize_t)len;
		}
		s->cap = p, s->capmax = n;
	}
	struct sfh_pkt *p = &s->cap[s->ncap++];
	p->len = (uint16_t)iplen;
	memcpy(p->data, ip, iplen);
	if (s->nat)
		sfh_sl_nat_out(s, p->data, p->len);
	return (ssize_t)len;
}

static void sl_guest_error(const char *msg, void *opaque)
{
	(void)msg, (void)opaque; /* a complaint about our packets: behaviour, not an error */
}

static int64_t sl_clock_get_ns(void *opaque)
{
	return ((struct sfh_slirp *)opaque)->now_ns;
}

static void *sl_timer_new(SlirpTimerCb cb, void *cb_opaque, void *opaque)
{
	struct sfh_slirp *s = opaque;
	for (int i = 0; i < SFH_SL_MAX_TIMERS; i++) {
		struct sfh_sl_timer *t = &s->timers[i];
		if (!t->used) {
			*t = (struct sfh_sl_timer){.cb = cb, .cb_opaque = cb_opaque, .used = 1};
			return t;
		}
	}
	return NULL;
}

static void sl_timer_free(void *timer, void *opaque)
{
	(void)opaque;
	if (timer)
		((struct sfh_sl_timer *)timer)->used = 0;
}

static void sl_timer_mod(void *timer, int64_t expire_ms, void *opaque)
{
	(void)opaque;
	struct sfh_sl_timer *t = timer;
	if (t) {
		t->expire_ms = expire_ms;
		t->armed = 1;
	}
}

/* Every host socket slirp makes closes with a RST (SO_LINGER 0), as ours do: a socket that
 * slirp closes after an orderly close would otherwise leave a TIME-WAIT on loopback for
 * 60 s, and the thousands a campaign leaves on the ports we keep make every bind() and
 * connect() walk them (the kernel's port-conflict checks were most of a campaign's time,
 * 1,900 execs/s against 7,000 at the start). What slirp does on the guest's side does not
 * depend on how its host socket ends. */
static void sl_register_poll_fd(int fd, void *opaque)
{
	struct sfh_slirp *s = opaque;
	struct linger lg = {.l_onoff = 1, .l_linger = 0};
	setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
	/* the instance's sockets, for an abandoned instance (target_slirp_recover.c) */
	if (fd >= 0 && s->nsock < SFH_SL_MAX_SOCKS)
		s->sock_fd[s->nsock++] = fd;
}

/* slirp's tcp_close unregisters the socket's fd; a guestfwd socket has fd -1, so this is
 * where we learn that the accepted guestfwd connection is gone. */
static void sl_unregister_poll_fd(int fd, void *opaque)
{
	struct sfh_slirp *s = opaque;
	if (fd == -1 && s->accepted && s->cur == SFH_SL_GFWD_MODE)
		s->gfwd_gone = 1;
	for (int i = 0; fd >= 0 && i < s->nsock; i++)
		if (s->sock_fd[i] == fd) {
			s->sock_fd[i] = s->sock_fd[--s->nsock];
			break;
		}
}

static void sl_notify(void *opaque)
{
	(void)opaque;
}

ssize_t sfh_sl_gfwd_write(const void *buf, size_t len, void *opaque)
{
	struct sfh_slirp *s = opaque;
	(void)buf;
	if (!s->rd_closed)
		s->rx_pending += len;
	return (ssize_t)len;
}

/* ---- the instance and its loop ---- */

static void sl_drop_instance(struct sfh_slirp *s)
{
	sfh_sl_sock_close_all(s);
	if (s->slirp)
		slirp_cleanup(s->slirp);
	s->slirp = NULL;
	s->nsock = 0; /* slirp_cleanup closed them all */
	sfh_sl_big_bufs_drop(0);
	memset(s->timers, 0, sizeof s->timers);
}

/* Tell slirp the guest's MAC: slirp learns it only from ARP. */
static void sl_send_arp(struct sfh_slirp *s)
{
	uint8_t f[42] = {0};
	memset(f, 0xff, 6);
	memcpy(f + 6, guest_mac, 6);
	f[12] = 0x08, f[13] = 0x06;		       /* ARP */
	f[15] = 1, f[16] = 0x08, f[18] = 6, f[19] = 4; /* Ethernet, IPv4 */
	f[21] = 1;				       /* request */
	memcpy(f + 22, guest_mac, 6);
	uint32_t sip = htonl(SFH_SL_GUEST), tip = htonl(SFH_SL_HOST);
	memcpy(f + 28, &sip, 4);
	memcpy(f + 38, &tip, 4);
	slirp_input(s->slirp, f, sizeof f);
}

int sfh_sl_new_instance(struct sfh_slirp *s, int restricted)
{
	SlirpConfig cfg;
	sl_drop_instance(s);
	memset(&cfg, 0, sizeof cfg);
	cfg.version = 4;
	/* restricted: the guest reaches nothing but the guestfwd; an unknown port gets RST */
	cfg.restricted = restricted;
	cfg.in_enabled = true;
	cfg.vnetwork.s_addr = htonl(SFH_SL_NET);
	cfg.vnetmask.s_addr = htonl(SFH_SL_MASK);
	cfg.vhost.s_addr = htonl(SFH_SL_HOST);
	cfg.vdhcp_start.s_addr = htonl(SFH_SL_GUEST);
	cfg.vnameserver.s_addr = htonl(SFH_SL_DNS);
	/* No outbound_addr: slirp would bind() its connecting sockets to it, port 0 included,
	 * and every TIME-WAIT they leave would then hold a port of the ephemeral range for a
	 * minute (a few hundred cases/s exhaust it); an unbound connect() reuses ports per
	 * 4-tuple. Network safety holds without it: outbound connections exist only in the
	 * passive socket mode, and sl_inject passes only TCP to 10.0.2.2, which slirp maps to
	 * 127.0.0.1; DNS and DHCP are off. */
	cfg.disable_dns = true;
	cfg.disable_dhcp = true;
	s->now_ns = SFH_SL_T0_NS;
	s->conn_valid = 0;
	s->slirp = sfh_sl_slirp_new(&cfg, &s->cb, s, s->shortcuts);
	if (!s->slirp)
		return sfh_sl_err(s, "slirp_new failed");
	sl_send_arp(s);
	return 0;
}

static int sl_add_poll(int fd, int events, void *opaque)
{
	struct sfh_slirp *s = opaque;
	if (s->npfd >= SFH_SL_MAX_PFD)
		return -1;
	short ev = 0;
	if (events & SLIRP_POLL_IN)
		ev |= POLLIN;
	if (events & SLIRP_POLL_OUT)
		ev |= POLLOUT;
	if (events & SLIRP_POLL_PRI)
		ev |= POLLPRI;
	s->pfd[s->npfd] = (struct pollfd){.fd = fd, .events = ev};
	return s->npfd++;
}

static int sl_get_revents(int idx, void *opaque)
{
	struct sfh_slirp *s = opaque;
	if (idx < 0 || idx >= s->npfd)
		return 0;
	short r = s->pfd[idx].revents;
	return ((r & POLLIN) ? SLIRP_POLL_IN : 0) | ((r & POLLOUT) ? SLIRP_POLL_OUT : 0) |
	       ((r & POLLPRI) ? SLIRP_POLL_PRI : 0) | ((r & POLLERR) ? SLIRP_POLL_ERR : 0) |
	       ((r & POLLHUP) ? SLIRP_POLL_HUP : 0);
}

static void sl_fire_timers(struct sfh_slirp *s)
{
	int64_t now_ms = s->now_ns / 1000000;
	for (int i = 0; i < SFH_SL_MAX_TIMERS; i++) {
		struct sfh_sl_timer *t = &s->timers[i];
		if (t->used && t->armed && t->expire_ms <= now_ms) {
			t->armed = 0;
			t->cb(t->cb_opaque);
		}
	}
}

/* Application side of a closed-for-reading socket: what arrives is thrown away. 1 if
 * something was. With the shortcuts one recv() takes all there is and TCP drops it
 * without copying it out (MSG_TRUNC): the socket ends empty either way, and slirp, which
 * runs only between our calls, sees the same socket. (Guest data with URG set can make
 * slirp write ~128 KiB to its host socket at every turn of its loop: in 4 KiB recv()
 * calls that was most of a campaign's time.) And once the socket has read its end (EOF,
 * slirp's FIN; or an error, a reset), TCP delivers nothing more to it: no more recv(). */
static int sl_discard(struct sfh_slirp *s)
{
	char buf[4096];
	size_t n = s->shortcuts ? SFH_SL_RECV_ALL : sizeof buf;
	int fl = MSG_DONTWAIT | (s->shortcuts ? MSG_TRUNC : 0), got = 0;
	ssize_t r = -1;
	if (s->app_fd < 0 || (s->app_eof && s->shortcuts))
		return 0;
	while ((r = recv(s->app_fd, s->shortcuts ? NULL : buf, n, fl)) > 0)
		got = 1;
	if (r == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR))
		s->app_eof = 1;
	return got;
}

/* The fds and events slirp asks to watch are those of the last turn (sl_pump). */
static int sl_same_watch(const struct sfh_slirp *s)
{
	if (s->npfd != s->quiet_n)
		return 0;
	for (int k = 0; k < s->npfd; k++)
		if (s->pfd[k].fd != s->quiet_pfd[k].fd ||
		    s->pfd[k].events != s->quiet_pfd[k].events)
			return 0;
	return 1;
}

/* TCP states (tcpi_state) in which a socket has sent its FIN, and has taken the peer's. */
static int sent_fin(uint8_t st)
{
	return st == 4 || st == 5 || st == 6 || st == 9 || st == 11; /* FIN-WAIT-1/2, TIME-WAIT,
								      * LAST-ACK, CLOSING */
}

static int took_fin(uint8_t st)
{
	return st == 6 || st == 7 || st == 8 || st == 9 || st == 11; /* TIME-WAIT, CLOSE,
								      * CLOSE-WAIT, LAST-ACK,
								      * CLOSING */
}

/* Something is on its way through loopback between our application socket and slirp's end
 * of its connection (one of the fds slirp watches), either way: octets sent and not yet
 * received, or a FIN sent and not yet taken. Loopback delivers within the sending syscall
 * as a rule; under load the kernel can leave the delivery to ksoftirqd for a while, and
 * what slirp or the application then saw would depend on the machine's load. Both ends'
 * kernels are asked (TCP_INFO): our own unacknowledged count cannot tell "in flight" from
 * "received, ACK delayed". A connection that was reset (CLOSE) carries nothing more. */
static int sl_wire_busy(const struct sfh_slirp *s)
{
	struct tcp_info me, peer;
	struct sockaddr_in a, b;
	socklen_t l = sizeof me, al = sizeof a;
	if (s->app_fd < 0 || getsockopt(s->app_fd, IPPROTO_TCP, TCP_INFO, &me, &l) != 0 ||
	    me.tcpi_state == 7 || getsockname(s->app_fd, (struct sockaddr *)&a, &al) != 0)
		return 0;
	for (int k = 0; k < s->npfd; k++) {
		socklen_t bl = sizeof b, pl = sizeof peer;
		if (getpeername(s->pfd[k].fd, (struct sockaddr *)&b, &bl) != 0 ||
		    b.sin_port != a.sin_port ||
		    getsockopt(s->pfd[k].fd, IPPROTO_TCP, TCP_INFO, &peer, &pl) != 0)
			continue;
		if (peer.tcpi_state == 7)
			return 0;
		return me.tcpi_bytes_sent - me.tcpi_bytes_retrans > peer.tcpi_bytes_received ||
		       peer.tcpi_bytes_sent - peer.tcpi_bytes_retrans > me.tcpi_bytes_received ||
		       (sent_fin(me.tcpi_state) && !took_fin(peer.tcpi_state)) ||
		       (sent_fin(peer.tcpi_state) && !took_fin(me.tcpi_state));
	}
	return 0;
}

/* Wait until nothing is in flight on loopback (sl_wire_busy), SFH_SL_SETTLE_MS at most (a
 * bound that a delivery, once due, does not reach). s->pfd must be slirp's current set. */
void sfh_sl_wire_settle(struct sfh_slirp *s)
{
	for (int w = 0; w < SFH_SL_SETTLE_MS && sl_wire_busy(s); w++)
		poll(NULL, 0, 1);
}

/* Run slirp's loop at the current virtual time until the host sockets are quiet. A real
 * wait only when activity is due on loopback: until it arrives when we wrote or shut down
 * our end, what we sent has not reached slirp's socket, and slirp reads some socket
 * (expect_activity, sl_wire_busy); bounded by a budget when a socket slirp watches for
 * writing is not writable yet while our listener is open (slirp's connect to it in
 * flight). Not otherwise: a socket slirp cannot write to because
 * the application does not read stays so, and waiting for it cost 10 ms a step (most of a
 * campaign's time once such inputs were in the corpus). Loopback delivers within the
 * sending syscall as a rule: the wait covers a softirq deferred under load, and a case
 * gets SFH_SL_WAIT_BUDGET_MS of such waits in all (a socket slirp wants to write to but
 * cannot would otherwise cost a wait at every tick of a long advance).
 *
 * tick: a step of virtual time (sfh_sl_run_until), not an event. With the shortcuts, two
 * system calls a tick made for nothing are left out:
 * - the drain of a closed-for-reading application socket (sl_discard), after a turn that
 *   cannot have written to it. Only slirp writes to it, and libslirp 4.7.0 writes to a
 *   host socket in two places: tcp_input (sbappend, from slirp_input: an event) and
 *   sowrite, from slirp_pollfds_poll, for a socket it watches for writing (wants_out).
 *   Its timers only send to the guest, or close or shut down the socket (EOF, reset).
 * - the poll() of a tick whose last turn polled the same fds for the same events, found
 *   none ready, drained nothing and waited for nothing: no system call touched a socket
 *   since (slirp makes them only for ready fds, and a timer that closes a socket changes
 *   the set), so the poll would find nothing again. A long wait with a host socket was
 *   one poll() per 500 ms tick: 2,400 of them for a 20-minute advance. */
static void sl_pump(struct sfh_slirp *s, int expect_activity, int tick)
{
	s->conn_valid = 0;
	if (!tick) {
		s->app_unread = 1;
		s->quiet = 0;
	}
	for (int i = 0; i < 64; i++) {
		uint32_t to = UINT32_MAX;
		int n = 0, wants_out = 0, wants_in = 0, waited = 0, got = 0;
		s->npfd = 0;
		slirp_pollfds_fill(s->slirp, &to, sl_add_poll, s);
		for (int k = 0; k < s->npfd; k++) {
			wants_out |= s->pfd[k].events & POLLOUT;
			wants_in |= s->pfd[k].events & POLLIN;
		}
		if (s->npfd > 0 && !(tick && s->quiet && sl_same_watch(s))) {
			n = poll(s->pfd, (nfds_t)s->npfd, 0);
			/* what we sent or shut down is on its way to slirp's socket */
			for (int w = 0; n == 0 && i == 0 && expect_activity && wants_in &&
					w < SFH_SL_SETTLE_MS && sl_wire_busy(s);
			     w++) {
				n = poll(s->pfd, (nfds_t)s->npfd, 1);
				waited = 1;
			}
			if (n == 0 && i == 0 && s->wait_budget_ms > 0 && wants_out &&
			    s->listen_fd >= 0) {
				s->wait_budget_ms -= SFH_SL_WAIT_MS;
				n = poll(s->pfd, (nfds_t)s->npfd, SFH_SL_WAIT_MS);
				waited = 1;
			}
		}
		slirp_pollfds_poll(s->slirp, n < 0, sl_get_revents, s);
		sl_fire_timers(s);
		if (wants_out)
			s->app_unread = 1;
		if (s->rd_closed && (s->app_unread || !s->shortcuts)) {
			got = sl_discard(s);
			s->app_unread = 0;
		}
		s->quiet = s->shortcuts && n == 0 && !got && !waited && s->npfd > 0 &&
			   !(wants_out && s->listen_fd >= 0);
		if (s->quiet) {
			memcpy(s->quiet_pfd, s->pfd, (size_t)s->npfd * sizeof s->pfd[0]);
			s->quiet_n = s->npfd;
		}
		if (n <= 0)
			break;
	}
}

void sfh_sl_pump(struct sfh_slirp *s, int expect_activity)
{
	sl_pump(s, expect_activity, 0);
}

uint32_t sfh_sl_fill(struct sfh_slirp *s)
{
	uint32_t to = UINT32_MAX;
	s->npfd = 0;
	slirp_pollfds_fill(s->slirp, &to, sl_add_poll, s);
	return to;
}

static int sl_timers_armed(const struct sfh_slirp *s)
{
	for (int i = 0; i < SFH_SL_MAX_TIMERS; i++)
		if (s->timers[i].used && s->timers[i].armed)
			return 1;
	return 0;
}

/* The timeout slirp's loop would sleep for now, in ms (its own, or a timer's). */
static uint32_t sl_timeout(struct sfh_slirp *s)
{
	uint32_t to = sfh_sl_fill(s);
	int64_t now_ms = s->now_ns / 1000000;
	for (int i = 0; i < SFH_SL_MAX_TIMERS; i++) {
		const struct sfh_sl_timer *t = &s->timers[i];
		if (t->used && t->armed && t->expire_ms - now_ms < (int64_t)to)
			to = t->expire_ms > now_ms ? (uint32_t)(t->expire_ms - now_ms) : 0;
	}
	return to ? to : 1;
}

/* After every event: a passive connection that got past SYN-RECEIVED has been accepted,
 * so the listener closes and the case has one TCB, as RFC 9293 has it (a RST then ends
 * in CLOSED, not LISTEN). The guestfwd "listener" is removed only once slirp closed the
 * accepted connection: removing it while a socket still points at it would leave that
 * socket with a dangling pointer. */
void sfh_sl_settle(struct sfh_slirp *s)
{
	enum sfo_state st;
	if (s->role != SFH_ROLE_PASSIVE)
		return;
	if (!s->accepted && sfh_sl_find_conn(s, &st) == 1 && st != SFO_SYN_RECEIVED &&
	    st != SFO_LISTEN) {
		if (s->cur == SFH_SL_GFWD_MODE)
			s->accepted = s->had_conn = 1;
		else
			sfh_sl_sock_accept(s);
	}
	/* a close the application made in SYN-RECEIVED reaches slirp once established */
	if (s->shut_pending && sfh_sl_find_conn(s, &st) == 1 && st != SFO_SYN_RECEIVED) {
		sfh_sl_gfwd_flush(s);
		sfh_sl_pump(s, 0);
	}
	if (s->cur == SFH_SL_GFWD_MODE && s->gfwd_gone && !s->gfwd_removed &&
	    sfh_sl_find_conn(s, &st) == 0) {
		struct in_addr ga = {htonl(SFH_SL_GFWD)};
		slirp_remove_guestfwd(s->slirp, ga, SFH_SL_GFWD_PORT);
		s->gfwd_removed = 1;
	}
}

/* Let virtual time pass up to end_ns, stepping as slirp's loop would sleep. Two shortcuts
 * keep a long wait cheap: with nothing to time (no connection, no socket, no timer) slirp
 * does not see the rest of the wait at all; and a wait is played tick by tick for
 * SFH_SL_HORIZON_MS at
 * most. Every slirp timer but two has run out by then (the longest, FIN-WAIT-2, needs
 * 1350 ticks = 674 s; retransmissions end by ~550 s; SYN states by 75 s): what is left
 * is zero-window probing (one probe a minute, forever) and the keep-alive timer's idle
 * re-arm (probes are off). The rest of the wait is one jump of the clock.
 *
 * Why an idle wait leaves slirp's clock alone: slirp ticks its slow timeout only while it
 * has a TCP socket, once 499 ms passed since the last tick. Had the clock jumped, the
 * first socket after the wait (a SYN) would find a tick overdue and take it in the same
 * poll: after choosing the ISS in guestfwd mode, before it in socket mode (the SYN-ACK
 * waits for the host connect), so an ABORT's replay would not reproduce the case. Frozen,
 * the phase of the ticks is the same in every mode, as if the wait had not happened, which
 * slirp cannot tell apart: it has nothing that a wait would change. */
#define SFH_SL_HORIZON_MS 1200000

void sfh_sl_run_until(struct sfh_slirp *s, int64_t end_ns)
{
	int64_t horizon = s->now_ns + (int64_t)SFH_SL_HORIZON_MS * 1000000;
	sfh_sl_pump(s, 0);
	while (s->now_ns < end_ns) {
		uint32_t to = sl_timeout(s);
		int idle =
		    to >= 1000 && s->npfd == 0 && !sl_timers_armed(s); /* slirp: nothing due */
		int64_t next = s->now_ns + (int64_t)to * 1000000;
		if (idle)
			break;
		if (next >= horizon)
			next = end_ns;
		s->now_ns = next < end_ns ? next : end_ns;
		sl_pump(s, 0, 1);
	}
	sfh_sl_settle(s);
}

/* Wrap one IPv4 packet in Ethernet and hand it to slirp. */
void sfh_sl_input_ip(struct sfh_slirp *s, const uint8_t *ip, size_t len)
{
	uint8_t f[14 + SFH_PKT_MAX];
	memcpy(f, slirp_mac, 6);
	memcpy(f + 6, guest_mac, 6);
	f[12] = 0x08, f[13] = 0x00;
	memcpy(f + 14, ip, len);
	if (s->nat)
		sfh_sl_nat_in(s, f + 14, len);
	slirp_input(s->slirp, f, (int)(14 + len));
	sfh_sl_pump(s, 0);
	sfh_sl_settle(s);
}

/* ---- the case's record, for the replay in socket mode ---- */

static int sl_record(struct sfh_slirp *s, enum sfh_sl_op op, uint32_t call, uint32_t arg,
		     const uint8_t *pkt, size_t len, int result)
{
	if (s->replaying || s->role != SFH_ROLE_PASSIVE || s->cur != SFH_SL_GFWD_MODE)
		return 0;
	if (s->nrecs == s->maxrecs) {
		size_t n = s->maxrecs ? s->maxrecs * 2 : 16;
		struct sfh_sl_rec *r = realloc(s->recs, n * sizeof *r);
		if (!r)
			return sfh_sl_err(s, "out of memory");
		s->recs = r, s->maxrecs = n;
	}
	if (s->loglen + len > s->logmax) {
		size_t n = s->logmax ? s->logmax : 4096;
		while (n < s->loglen + len)
			n *= 2;
		uint8_t *l = realloc(s->log, n);
		if (!l)
			return sfh_sl_err(s, "out of memory");
		s->log = l, s->logmax = n;
	}
	struct sfh_sl_rec *r = &s->recs[s->nrecs++];
	*r = (struct sfh_sl_rec){.op = (uint8_t)op,
				 .call = (uint8_t)call,
				 .arg = arg,
				 .off = (uint32_t)s->loglen,
				 .len = (uint16_t)len,
				 .result = result};
	if (len)
		memcpy(s->log + s->loglen, pkt, len);
	s->loglen += len;
	return 0;
}

/* ---- state ---- */

static int sl_parse_state(const char *name, size_t n, enum sfo_state *st)
{
	static const struct {
		const char *bsd;
		enum sfo_state st;
	} map[] = {
	    {"CLOSED", SFO_CLOSED},	    {"NONE", SFO_CLOSED},
	    {"LISTEN", SFO_LISTEN},	    {"SYN_SENT", SFO_SYN_SENT},
	    {"SYN_RCVD", SFO_SYN_RECEIVED}, {"ESTABLISHED", SFO_ESTABLISHED},
	    {"CLOSE_WAIT", SFO_CLOSE_WAIT}, {"FIN_WAIT_1", SFO_FIN_WAIT_1},
	    {"CLOSING", SFO_CLOSING},	    {"LAST_ACK", SFO_LAST_ACK},
	    {"FIN_WAIT_2", SFO_FIN_WAIT_2}, {"TIME_WAIT", SFO_TIME_WAIT},
	};
	for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
		if (strlen(map[i].bsd) == n && memcmp(map[i].bsd, name, n) == 0) {
			*st = map[i].st;
			return 0;
		}
	return -1;
}

/* Find the case's connection in slirp_connection_info(): lines "  TCP[STATE]  fd  src
 * sport  dst dport ...". Forwarder lines (HOST_FORWARD) are skipped. */
static int sl_find_conn(struct sfh_slirp *s, enum sfo_state *st)
{
	char *info = slirp_connection_info(s->slirp);
	int found = 0;
	if (!info)
		return sfh_sl_err(s, "slirp_connection_info failed");
	for (char *line = strstr(info, "TCP["); line && !found; line = strstr(line + 1, "TCP[")) {
		char *end = strchr(line, ']');
		char src[32], dst[32];
		int fd, sport, dport;
		if (!end)
			break;
		if (end - line == 16 && memcmp(line + 4, "HOST_FORWARD", 12) == 0)
			continue; /* the forwarder's listening socket */
		if (sscanf(end + 1, "%d %31s %d %31s %d", &fd, src, &sport, dst, &dport) != 5)
			continue;
		/* a hostfwd connection prints its host side (our forwarder's address) as the
		 * source and the guest as the destination */
		if (s->role == SFH_ROLE_ACTIVE
			? sport != s->hostfwd_port || dport != s->ep.peer_port
			: sport != s->ep.peer_port || dport != s->sl_port)
			continue;
		if (sl_parse_state(line + 4, (size_t)(end - line - 4), st) != 0) {
			sfh_sl_err(s, "unknown slirp state '%.*s'", (int)(end - line - 4),
				   line + 4);
			found = -1;
			break;
		}
		found = 1;
	}
	free(info); /* g_string_free(..., FALSE) data: g_free is free with glib's allocator */
	return found;
}

/* Cached until slirp runs again (sfh_sl_pump, or a direct call into slirp): settle and
 * state() look after every step, and slirp_connection_info is not cheap. */
int sfh_sl_find_conn(struct sfh_slirp *s, enum sfo_state *st)
{
	if (!s->conn_valid) {
		s->conn_found = sl_find_conn(s, &s->conn_st);
		s->conn_valid = s->conn_found >= 0;
	}
	*st = s->conn_st;
	return s->conn_found;
}

int sfh_sl_listener_open(const struct sfh_slirp *s)
{
	if (s->role != SFH_ROLE_PASSIVE || s->accepted)
		return 0;
	return s->cur == SFH_SL_GFWD_MODE ? !s->gfwd_removed : s->listen_fd >= 0;
}

static int sl_state(struct sfh_target *t, enum sfo_state *st)
{
	struct sfh_slirp *s = (struct sfh_slirp *)t;
	int r = sfh_sl_find_conn(s, st);
	if (r < 0)
		return -1;
	if (r == 0)
		*st = sfh_sl_listener_open(s) ? SFO_LISTEN : SFO_CLOSED;
	return 0;
}

/* ---- the vtable ---- */

static int sl_inject(struct sfh_target *t, const uint8_t *ip, size_t len)
{
	struct sfh_slirp *s = (struct sfh_slirp *)t;
	if (len < 40 || len > SFH_PKT_MAX || (ip[0] >> 4) != 4 || ip[9] != 6)
		return sfh_sl_err(s, "not an IPv4 TCP packet (%zu octets)", len);
	/* Network safety: only this case's target address reaches slirp. */
	if (rd32(ip + 16) != s->ep.target_ip)
		return sfh_sl_err(s, "refusing a packet to %08x: the case's target is %08x",
				  rd32(ip + 16), s->ep.target_ip);
	if (sl_record(s, SFH_SL_OP_INJECT, 0, 0, ip, len, 0) != 0)
		return -1;
	sfh_sl_input_ip(s, ip, len);
	return 0;
}

static int sl_call(struct sfh_target *t, enum sfo_call c, uint32_t arg)
{
	struct sfh_slirp *s = (struct sfh_slirp *)t;
	int r = sfh_sl_user_call(s, c, arg);
	sfh_sl_pump(s, 0);
	sfh_sl_settle(s);
	if (r != -1 && sl_record(s, SFH_SL_OP_CALL, (uint32_t)c, arg, NULL, 0, r) != 0)
		return -1;
	return r;
}

static int sl_advance(struct sfh_target *t, uint32_t ms)
{
	struct sfh_slirp *s = (struct sfh_slirp *)t;
	if (sl_record(s, SFH_SL_OP_ADVANCE, 0, ms, NULL, 0, 0) != 0)
		return -1;
	sfh_sl_run_until(s, s->now_ns + (int64_t)ms * 1000000);
	return 0;
}

static int sl_drain(struct sfh_target *t, struct sfh_pkt *out, int max)
{
	struct sfh_slirp *s = (struct sfh_slirp *)t;
	if (s->role == SFH_ROLE_ACTIVE || s->cur == SFH_SL_SOCK_MODE)
		sfh_sl_pump(s, 0);
	if (s->overflow)
		return sfh_sl_err(s, "more than %d packets (or one too large) in one step",
				  SFH_SL_MAX_CAP);
	size_t n = s->ncap < (size_t)max ? s->ncap : (size_t)max;
	if (n == 0)
		return 0;
	memcpy(out, s->cap, n * sizeof *out);
	memmove(s->cap, s->cap + n, (s->ncap - n) * sizeof *out);
	s->ncap -= n;
	return (int)n;
}

void sfh_sl_case_clear(struct sfh_slirp *s)
{
	s->accepted = s->wr_closed = s->rd_closed = s->had_conn = s->app_closed = 0;
	s->listened = s->shut_pending = 0;
	s->gfwd_gone = s->gfwd_removed = 0;
	s->rx_pending = 0;
	s->wait_budget_ms = SFH_SL_WAIT_BUDGET_MS;
}

int sfh_sl_gfwd_setup(struct sfh_slirp *s)
{
	struct in_addr ga = {htonl(SFH_SL_GFWD)};
	if (sfh_sl_new_instance(s, 1) != 0)
		return -1;
	if (slirp_add_guestfwd(s->slirp, sfh_sl_gfwd_write, s, &ga, SFH_SL_GFWD_PORT) != 0)
		return sfh_sl_err(s, "slirp_add_guestfwd failed");
	s->ep.target_ip = SFH_SL_GFWD;
	s->ep.target_port = s->sl_port = SFH_SL_GFWD_PORT;
	return 0;
}

static int sl_reset(struct sfh_target *t, enum sfh_role role, uint32_t case_no,
		    struct sfh_endpoints *ep)
{
	struct sfh_slirp *s = (struct sfh_slirp *)t;
	int r;
	s->role = role;
	s->case_no = case_no;
	s->cur = s->pmode;
	s->connected = s->replaying = s->nat = s->migrate_failed = 0;
	sfh_sl_case_clear(s);
	s->ncap = 0;
	s->overflow = 0;
	s->nrecs = s->loglen = 0;
	s->out_hash = 0;
	s->out_n = 0;
	s->ep.peer_ip = SFH_SL_GUEST;
	s->ep.peer_port = (uint16_t)(40000 + case_no % 20000);
	sfh_sl_private_net(); /* this thread's sockets, slirp's included (target_slirp_env.c) */
	if (role == SFH_ROLE_ACTIVE) {
		r = sfh_sl_new_instance(s, 1);
		if (r == 0)
			r = sfh_sl_sock_active_setup(s);
	} else if (s->cur == SFH_SL_SOCK_MODE) {
		r = sfh_sl_new_instance(s, 0);
		if (r == 0)
			r = sfh_sl_sock_passive_setup(s);
	} else {
		r = sfh_sl_gfwd_setup(s);
	}
	if (r != 0)
		return -1;
	sfh_sl_pump(s, 0);
	*ep = s->ep;
	return 0;
}

static int sl_probe(char *err, size_t errlen)
{
	(void)err, (void)errlen;
	return 0; /* linked against libslirp: it runs wherever we were built */
}

/* version() hands out static storage and slirp's version is known only at run time:
 * one buffer, written once (pthread_once), is the smallest way to square the two. */
static char sl_version_buf[48];

static void sl_version_init(void)
{
	snprintf(sl_version_buf, sizeof sl_version_buf, "libslirp %s", slirp_version_string());
}

static const char *sl_version(void)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	pthread_once(&once, sl_version_init);
	return sl_version_buf;
}

/* Options, separated by commas: passive=gfwd | passive=sock, shortcuts=on | off. */
static int sl_parse_args(struct sfh_slirp *s, const char *args, char *err, size_t errlen)
{
	s->pmode = SFH_SL_GFWD_MODE;
	s->shortcuts = 1;
	while (*args) {
		size_t n = strcspn(args, ",");
		if (n == 12 && memcmp(args, "passive=gfwd", n) == 0)
			s->pmode = SFH_SL_GFWD_MODE;
		else if (n == 12 && memcmp(args, "passive=sock", n) == 0)
			s->pmode = SFH_SL_SOCK_MODE;
		else if (n == 12 && memcmp(args, "shortcuts=on", n) == 0)
			s->shortcuts = 1;
		else if (n == 13 && memcmp(args, "shortcuts=off", n) == 0)
			s->shortcuts = 0;
		else {
			snprintf(err, errlen,
				 "slirp: unknown option '%.*s' (passive=gfwd | passive=sock, "
				 "shortcuts=on | shortcuts=off)",
				 (int)n, args);
			return -1;
		}
		args += n + (args[n] == ',');
	}
	return 0;
}

static int sl_open(const char *args, struct sfh_target **out, char *err, size_t errlen)
{
	/* glibc gives the heap back to the OS on every free of slirp's 64-128 KiB socket
	 * buffers (and maps the 128 KiB ones afresh each time): the rate falls from ~70,000
	 * to ~6,000 cases/s. Keep them on the heap. Process-wide and idempotent: calling it
	 * on every open is the same as once. */
	/* libslirp writes to its host sockets with plain send(): when the host peer has gone
	 * (an ABORT resets it), the write raises SIGPIPE, and the process that embeds slirp
	 * is expected to ignore it, as QEMU and slirp4netns do; slirp then sees EPIPE and
	 * handles it. Left at its default, the signal killed a campaign's worker. */
	signal(SIGPIPE, SIG_IGN);
	mallopt(M_MMAP_THRESHOLD, 4 << 20);
	mallopt(M_TRIM_THRESHOLD, 64 << 20);
	mallopt(M_TOP_PAD, 16 << 20);
	struct sfh_slirp *s = calloc(1, sizeof *s);
	*out = NULL;
	if (!s) {
		snprintf(err, errlen, "slirp: out of memory");
		return -1;
	}
	if (sl_parse_args(s, args, err, errlen) != 0) {
		free(s);
		return -1;
	}
	sfh_sl_round_bufs(s->shortcuts);
	s->base.ops = &sfh_target_slirp_ops;
	/* IPv6 would need in6_enabled, neighbour discovery on the guest side, hostxfwd for
	 * the active role and another way to terminate the passive one */
	s->base.no_ipv6 = "the passive role rests on slirp_add_guestfwd, which takes IPv4 "
			  "guest addresses only, and the guest side has no IPv6";
	s->listen_fd = s->app_fd = -1;
	for (size_t i = 0; i < sizeof s->pattern; i++)
		s->pattern[i] = (uint8_t)('a' + i % 26);
	s->cb = (SlirpCb){
	    .send_packet = sl_send_packet,
	    .guest_error = sl_guest_error,
	    .clock_get_ns = sl_clock_get_ns,
	    .timer_new = sl_timer_new,
	    .timer_free = sl_timer_free,
	    .timer_mod = sl_timer_mod,
	    .register_poll_fd = sl_register_poll_fd,
	    .unregister_poll_fd = sl_unregister_poll_fd,
	    .notify = sl_notify,
	};
	sl_glog_install(s);
	/* already here, and not only at reset: children forked to run cases in isolation
	 * inherit the namespace instead of each making one */
	sfh_sl_private_net();
	*out = &s->base;
	return 0;
}

static void sl_close(struct sfh_target *t)
{
	struct sfh_slirp *s = (struct sfh_slirp *)t;
	sl_drop_instance(s);
	sl_glog_remove(s);
	free(s->cap);
	free(s->recs);
	free(s->log);
	free(s);
}

const struct sfh_target_ops sfh_target_slirp_ops = {
    .name = "slirp",
    .summary = "libslirp in-process, synfin as the guest (passive: guestfwd; "
	       "active: hostfwd on 127.0.0.1)",
    .caps = SFH_CAP_STATE | SFH_CAP_VTIME | SFH_CAP_PASSIVE | SFH_CAP_ACTIVE | SFH_CAP_INPROC,
    .profile = "slirp",
    .probe = sl_probe,
    .version = sl_version,
    .open = sl_open,
    .reset = sl_reset,
    .inject = sl_inject,
    .call = sl_call,
    .advance = sl_advance,
    .drain = sl_drain,
    .state = sl_state,
    .close = sl_close,
};
