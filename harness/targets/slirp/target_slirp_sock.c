/* The slirp target's host-socket paths: the active role (slirp_add_hostfwd on 127.0.0.1,
 * our socket connects to it, slirp connects to the guest), the passive role in socket mode
 * (the guest connects to 10.0.2.2:P, slirp connects out to our listener on 127.0.0.1:P),
 * and the replay that moves a guestfwd case to socket mode when it needs ABORT.
 *
 * Network safety: every socket here is bound to 127.0.0.1; slirp connects out only in
 * the passive socket mode, to the address the guest named, and target_slirp.c injects
 * only TCP to 10.0.2.2, which slirp maps to 127.0.0.1.
 *
 * Ports: a case that ends after an orderly close leaves a TIME-WAIT on loopback for 60 s.
 * Fresh ephemeral ports per case would drain the ephemeral range at a few hundred cases/s,
 * so our listener and slirp's forwarder keep one port for the life of the target
 * (SO_REUSEADDR), and our connecting socket is bound by connect() itself, which reuses
 * ports per 4-tuple (and loopback TIME-WAITs, tcp_tw_reuse = 2).
 *
 * User calls on a host socket, as an application would make them:
 *   SEND     send() on our socket, no more than slirp_socket_can_recv() says slirp takes
 *            (the guestfwd path is bound by the same figure, so both modes agree)
 *   RECEIVE  recv() what slirp wrote to our socket
 *   SHUTDOWN shutdown(SHUT_WR): slirp reads EOF and sends its FIN
 *   CLOSE    the same, and from then on what arrives is read and thrown away. Not close():
 *            the host kernel would answer later data with its own RST, a behaviour of
 *            Linux rather than of slirp.
 *   ABORT    SO_LINGER 0 + close(): the kernel resets slirp's socket, slirp's read fails
 *            with ECONNRESET and it drops the connection (tcp_drop: RST to the guest).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "target_slirp_priv.h"

static void close_app(struct sfh_slirp *s, int reset)
{
	if (s->app_fd < 0)
		return;
	if (reset) {
		struct linger lg = {.l_onoff = 1, .l_linger = 0};
		setsockopt(s->app_fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
	}
	close(s->app_fd);
	s->app_fd = -1;
	s->app_eof = 0;
}

/* Between cases: our end goes with a RST, so no TIME-WAIT piles up on loopback. */
void sfh_sl_sock_close_all(struct sfh_slirp *s)
{
	close_app(s, 1);
	if (s->listen_fd >= 0)
		close(s->listen_fd);
	s->listen_fd = -1;
}

/* A non-blocking TCP socket bound to 127.0.0.1:*port (0: any; then *port is set), with
 * SO_REUSEADDR: a given port is taken again by a second LISTEN or CONNECT of the case, and
 * the case's earlier connection may linger on it. Explicitly bound, the port is ours
 * until closed: another socket's connect() cannot share it, as it can share a port that
 * connect() picked itself (which made a second CONNECT's bind fail with EADDRINUSE).
 * SO_OOBINLINE: slirp passes urgent data with MSG_OOB, and the application reads it in
 * line, as the guestfwd path counts it. -1 on failure. */
static int loopback_socket(struct sfh_slirp *s, uint16_t *port)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(*port)};
	socklen_t al = sizeof a;
	int one = 1, fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return sfh_sl_err(s, "socket: %s", strerror(errno));
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	setsockopt(fd, SOL_SOCKET, SO_OOBINLINE, &one, sizeof one);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&a, sizeof a) != 0 ||
	    getsockname(fd, (struct sockaddr *)&a, &al) != 0) {
		int e = errno;
		sfh_sl_err(s, "bind 127.0.0.1: %s", strerror(e));
		close(fd);
		errno = e;
		return -1;
	}
	*port = ntohs(a.sin_port);
	return fd;
}

int sfh_sl_sock_passive_setup(struct sfh_slirp *s)
{
	int fd = loopback_socket(s, &s->listen_port); /* the port of the last case, if any */
	if (fd < 0 && s->listen_port) {
		s->listen_port = 0; /* taken by someone else meanwhile: any port */
		fd = loopback_socket(s, &s->listen_port);
	}
	if (fd < 0)
		return -1;
	if (listen(fd, 8) != 0) {
		close(fd);
		return sfh_sl_err(s, "listen: %s", strerror(errno));
	}
	s->listen_fd = fd;
	s->sl_port = s->listen_port;
	if (!s->nat) { /* a migrated case keeps the addresses the runner knows */
		s->ep.target_ip = SFH_SL_HOST;
		s->ep.target_port = s->listen_port;
	}
	return 0;
}

/* slirp does not say which port its forwarder got; its listening socket is the one fd
 * slirp_pollfds_fill asks us to watch right after slirp_add_hostfwd. */
static int hostfwd_port(struct sfh_slirp *s)
{
	struct sockaddr_in a;
	socklen_t al = sizeof a;
	sfh_sl_fill(s);
	if (s->npfd != 1)
		return sfh_sl_err(s, "expected one forwarder socket, slirp watches %d", s->npfd);
	if (getsockname(s->pfd[0].fd, (struct sockaddr *)&a, &al) != 0)
		return sfh_sl_err(s, "getsockname: %s", strerror(errno));
	s->hostfwd_port = ntohs(a.sin_port);
	return 0;
}

int sfh_sl_sock_active_setup(struct sfh_slirp *s)
{
	struct in_addr lo = {htonl(INADDR_LOOPBACK)}, guest = {htonl(SFH_SL_GUEST)};
	int port = s->hostfwd_port; /* the port of the last case, if any (SO_REUSEADDR) */
	if (slirp_add_hostfwd(s->slirp, 0, lo, port, guest, s->ep.peer_port) != 0 &&
	    (port == 0 || slirp_add_hostfwd(s->slirp, 0, lo, 0, guest, s->ep.peer_port) != 0))
		return sfh_sl_err(s, "slirp_add_hostfwd failed: %s", strerror(errno));
	if (hostfwd_port(s) != 0)
		return -1;
	/* slirp's SYN will come from our port, translated to 10.0.2.2: bound here (see
	 * loopback_socket), so it is known now and stays ours for a second CONNECT */
	s->app_port = 0;
	s->app_fd = loopback_socket(s, &s->app_port);
	if (s->app_fd < 0)
		return -1;
	s->ep.target_ip = SFH_SL_HOST;
	s->ep.target_port = s->sl_port = s->app_port;
	return 0;
}

/* Passive role: take the connection slirp made to our listener, if slirp still has the
 * case's connection (the guestfwd path decides the same way), then close the listener. */
int sfh_sl_sock_accept(struct sfh_slirp *s)
{
	enum sfo_state st;
	if (s->accepted || s->listen_fd < 0)
		return s->accepted;
	if (sfh_sl_find_conn(s, &st) != 1)
		return 0;
	for (;;) { /* the newest is the live one: older ones died before we took them */
		int fd = accept4(s->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0)
			break;
		int one = 1; /* inherited from the listener as a rule; made sure of here */
		setsockopt(fd, SOL_SOCKET, SO_OOBINLINE, &one, sizeof one);
		close_app(s, 1);
		s->app_fd = fd;
	}
	if (s->app_fd < 0)
		return 0;
	close(s->listen_fd);
	s->listen_fd = -1;
	s->accepted = s->had_conn = 1;
	return 1;
}

int sfh_sl_sock_send(struct sfh_slirp *s, uint32_t n)
{
	struct in_addr fa = {htonl(SFH_SL_HOST)};
	uint32_t done = 0;
	while (done < n && s->app_fd >= 0) {
		size_t room = slirp_socket_can_recv(s->slirp, fa, s->sl_port);
		size_t k = n - done;
		if (k > room)
			k = room;
		if (k > sizeof s->pattern)
			k = sizeof s->pattern;
		if (k == 0)
			break;
		ssize_t w = send(s->app_fd, s->pattern, k, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (w <= 0)
			break;
		done += (uint32_t)w;
		sfh_sl_pump(s, 1); /* slirp reads it before we ask how much room is left */
	}
	return done > INT32_MAX ? INT32_MAX : (int)done;
}

int sfh_sl_sock_receive(struct sfh_slirp *s, uint32_t arg)
{
	uint64_t want = arg ? arg : UINT64_MAX, got = 0;
	char buf[8192];
	/* only the count matters: with the shortcuts TCP drops the octets (MSG_TRUNC) rather
	 * than copy them out, and one call takes what 8 KiB calls would have taken in all */
	size_t most = s->shortcuts ? SFH_SL_RECV_ALL : sizeof buf;
	int fl = MSG_DONTWAIT | (s->shortcuts ? MSG_TRUNC : 0);
	sfh_sl_pump(s, 0);
	sfh_sl_wire_settle(s); /* what slirp wrote has arrived */
	while (got < want && got < INT32_MAX && s->app_fd >= 0) {
		size_t k = want - got < most ? (size_t)(want - got) : most;
		ssize_t r = recv(s->app_fd, s->shortcuts ? NULL : buf, k, fl);
		if (r <= 0)
			break;
		got += (uint64_t)r;
	}
	return got > INT32_MAX ? INT32_MAX : (int)got;
}

void sfh_sl_sock_shutdown(struct sfh_slirp *s)
{
	if (s->wr_closed || s->app_fd < 0)
		return;
	s->wr_closed = 1;
	shutdown(s->app_fd, SHUT_WR);
	sfh_sl_pump(s, 1);
}

void sfh_sl_sock_abort(struct sfh_slirp *s)
{
	close_app(s, 1);
	sfh_sl_pump(s, 1);
}

void sfh_sl_sock_close_listener(struct sfh_slirp *s)
{
	if (s->listen_fd >= 0)
		close(s->listen_fd);
	s->listen_fd = -1;
}

/* An active OPEN again, once the case's connection is gone: slirp's forwarder and our
 * socket come back on the same ports, so the guest sees the same addresses. */
static int sock_reconnect(struct sfh_slirp *s)
{
	struct in_addr lo = {htonl(INADDR_LOOPBACK)}, guest = {htonl(SFH_SL_GUEST)};
	close_app(s, 1);
	/* Either port taken meanwhile by another socket of this host (the first connection's
	 * sockets are gone, so a foreign connect() may land on it): the addresses the runner
	 * knows cannot be had again, and the application is told EADDRINUSE. */
	if (slirp_add_hostfwd(s->slirp, 0, lo, s->hostfwd_port, guest, s->ep.peer_port) != 0)
		return SFH_CALL_REFUSED;
	s->app_fd = loopback_socket(s, &s->app_port);
	if (s->app_fd < 0 && errno == EADDRINUSE)
		return SFH_CALL_REFUSED;
	return s->app_fd < 0 ? -1 : 0;
}

/* Connect to slirp's forwarder; once slirp took the connection (and sent its SYN), the
 * forwarder goes: the case has one connection, and slirp watches only its socket. */
int sfh_sl_sock_connect(struct sfh_slirp *s)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(s->hostfwd_port)};
	struct in_addr lo = {htonl(INADDR_LOOPBACK)};
	enum sfo_state st;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (s->connected) {
		int r = sock_reconnect(s);
		if (r != 0)
			return r;
	}
	if (s->app_fd < 0)
		return sfh_sl_err(s, "CONNECT: no socket");
	s->connected = s->had_conn = 1;
	/* EINPROGRESS is the rule; a refusal shows later as no SYN, judged by the oracle */
	(void)connect(s->app_fd, (struct sockaddr *)&a, sizeof a);
	sfh_sl_pump(s, 1);
	if (sfh_sl_find_conn(s, &st) == 1)
		slirp_remove_hostfwd(s->slirp, 0, lo, s->hostfwd_port);
	return 0;
}

/* Passive role: a second LISTEN opens our listener again, on the same port. */
int sfh_sl_sock_listen(struct sfh_slirp *s)
{
	close_app(s, 1);
	uint16_t port = s->listen_port;
	int fd = loopback_socket(s, &port);
	if (fd < 0 && errno == EADDRINUSE)
		return SFH_CALL_REFUSED; /* as the application would be told */
	if (fd < 0)
		return -1;
	if (listen(fd, 8) != 0) {
		close(fd);
		return sfh_sl_err(s, "listen: %s", strerror(errno));
	}
	s->listen_fd = fd;
	return 0;
}

/* ---- address translation for a migrated case ---- */

/* RFC 1624 eqn. 3: a 16-bit word of a checksummed area changes from old to new. */
static void csum_update(uint8_t *sum, uint16_t old, uint16_t new)
{
	uint32_t hc = (uint32_t)(sum[0] << 8 | sum[1]);
	uint32_t x = (~hc & 0xffff) + (~old & 0xffff) + new;
	x = (x & 0xffff) + (x >> 16);
	x = (x & 0xffff) + (x >> 16);
	x = ~x & 0xffff;
	sum[0] = (uint8_t)(x >> 8), sum[1] = (uint8_t)x;
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8), p[1] = (uint8_t)v;
}

/* Rewrite one endpoint (source if src, else destination) from (fip, fport) to (tip, tport),
 * keeping the IPv4 and TCP checksums right. */
static void nat_rewrite(uint8_t *ip, size_t len, int src, uint32_t fip, uint16_t fport,
			uint32_t tip, uint16_t tport)
{
	size_t ihl = (size_t)(ip[0] & 15) * 4;
	if (len < ihl + 20)
		return;
	uint8_t *a = ip + (src ? 12 : 16), *tcp = ip + ihl, *p = tcp + (src ? 0 : 2);
	uint32_t cur = (uint32_t)a[0] << 24 | (uint32_t)a[1] << 16 | (uint32_t)a[2] << 8 | a[3];
	if (cur != fip || (uint16_t)(p[0] << 8 | p[1]) != fport)
		return;
	for (int half = 0; half < 2; half++) {
		uint16_t o = (uint16_t)(fip >> (16 - 16 * half)),
			 n = (uint16_t)(tip >> (16 - 16 * half));
		csum_update(ip + 10, o, n);
		csum_update(tcp + 16, o, n); /* the pseudo-header */
		put16(a + 2 * half, n);
	}
	csum_update(tcp + 16, fport, tport);
	put16(p, tport);
}

void sfh_sl_nat_in(const struct sfh_slirp *s, uint8_t *ip, size_t len)
{
	nat_rewrite(ip, len, 0, SFH_SL_GFWD, SFH_SL_GFWD_PORT, SFH_SL_HOST, s->listen_port);
}

void sfh_sl_nat_out(const struct sfh_slirp *s, uint8_t *ip, size_t len)
{
	nat_rewrite(ip, len, 1, SFH_SL_HOST, s->listen_port, SFH_SL_GFWD, SFH_SL_GFWD_PORT);
}

/* ---- migration ---- */

static int replay_one(struct sfh_slirp *s, const struct sfh_sl_rec *r, size_t i)
{
	switch ((enum sfh_sl_op)r->op) {
	case SFH_SL_OP_INJECT:
		sfh_sl_input_ip(s, s->log + r->off, r->len);
		return 0;
	case SFH_SL_OP_ADVANCE:
		sfh_sl_run_until(s, s->now_ns + (int64_t)r->arg * 1000000);
		return 0;
	case SFH_SL_OP_CALL: {
		int got = sfh_sl_user_call(s, (enum sfo_call)r->call, r->arg);
		sfh_sl_pump(s, 0);
		sfh_sl_settle(s);
		if (got != r->result)
			return sfh_sl_err(s,
					  "replay in socket mode: call %s (event %zu) returned "
					  "%d, the guestfwd run %d",
					  sfo_call_name((enum sfo_call)r->call), i, got,
					  (int)r->result);
		return 0;
	}
	}
	return sfh_sl_err(s, "replay: bad record %zu", i);
}

/* Play the case so far again on a fresh instance in mode m, without queueing what it
 * emits (the runner has it), and check that it emitted the same (want_*). */
static int replay_in(struct sfh_slirp *s, enum sfh_sl_pmode m, uint64_t want_hash, uint64_t want_n)
{
	int r = 0;
	s->cur = m;
	s->nat = m == SFH_SL_SOCK_MODE;
	s->replaying = 1;
	sfh_sl_case_clear(s);
	s->out_hash = 0;
	s->out_n = 0;
	if (m == SFH_SL_SOCK_MODE)
		r = sfh_sl_new_instance(s, 0) == 0 ? sfh_sl_sock_passive_setup(s) : -1;
	else
		r = sfh_sl_gfwd_setup(s);
	if (r == 0)
		sfh_sl_pump(s, 0);
	for (size_t i = 0; r == 0 && i < s->nrecs; i++)
		r = replay_one(s, &s->recs[i], i);
	s->replaying = 0;
	if (r == 0 && (s->out_hash != want_hash || s->out_n != want_n))
		r = sfh_sl_err(s,
			       "replay in %s mode emitted %llu segments, not the %llu of "
			       "the guestfwd run (or different ones)",
			       m == SFH_SL_SOCK_MODE ? "socket" : "guestfwd",
			       (unsigned long long)s->out_n, (unsigned long long)want_n);
	return r;
}

/* The guestfwd API cannot reset a connection. To ABORT, the case so far is played again on
 * a fresh instance in socket mode (same ISS, same virtual times, addresses translated back
 * and forth), its output checked against what the guestfwd run emitted, and the case goes
 * on there. Packets the replay emits are not queued again: the runner has them.
 *
 * Socket mode reproduces a guestfwd run as a rule, not always: host sockets add a kernel
 * buffer and loopback timing between slirp and the application. When the replay differs
 * (or a host socket cannot be had), the case is rebuilt in guestfwd mode (in-process,
 * deterministic: it reproduces the run exactly) and SFH_CALL_REFUSED tells the runner the
 * ABORT did not happen; later ABORTs of the case are refused without trying again. -1
 * only if even the guestfwd rebuild differs. */
int sfh_sl_migrate(struct sfh_slirp *s)
{
	uint64_t want_hash = s->out_hash, want_n = s->out_n;
	if (s->migrate_failed)
		return SFH_CALL_REFUSED;
	if (replay_in(s, SFH_SL_SOCK_MODE, want_hash, want_n) == 0)
		return 0;
	s->migrate_failed = 1;
	if (replay_in(s, SFH_SL_GFWD_MODE, want_hash, want_n) != 0)
		return -1;
	return SFH_CALL_REFUSED;
}
