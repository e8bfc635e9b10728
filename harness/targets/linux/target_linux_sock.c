/* The application's side of a case through the sockets API (target_linux_priv.h): the
 * listener and the connection RFC 9293's user calls act on, the call mapping and the state
 * the kernel reports. The linux target and synfin agent (agent/) both use it, so that one
 * kernel gives the same verdicts through either path. */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "target_linux_priv.h"

int sfh_linux_errno_result(int e)
{
	switch (e) {
	case EAGAIN:
#if EWOULDBLOCK != EAGAIN
	case EWOULDBLOCK:
#endif
		return SFO_ERR_EAGAIN;
	case ECONNREFUSED:
		return SFO_ERR_ECONNREFUSED;
	case ECONNRESET:
		return SFO_ERR_ECONNRESET;
	case EPIPE:
		return SFO_ERR_EPIPE;
	case ENOTCONN:
		return SFO_ERR_ENOTCONN;
	case EISCONN:
		return SFO_ERR_EISCONN;
	case EALREADY:
		return SFO_ERR_EALREADY;
	case EINPROGRESS:
		return SFO_ERR_EINPROGRESS;
	case ETIMEDOUT:
		return SFO_ERR_ETIMEDOUT;
	case ECONNABORTED:
		return SFO_ERR_ECONNABORTED;
	case EINVAL:
		return SFO_ERR_EINVAL;
	case ENOBUFS:
	case ENOMEM:
		return SFO_ERR_ENOBUFS;
	case EBADF:
		return SFO_ERR_EBADF;
	case EDESTADDRREQ:
		return SFO_ERR_EDESTADDRREQ;
	case EADDRINUSE:
		return SFO_ERR_EADDRINUSE;
	case EOPNOTSUPP:
		return SFO_ERR_EOPNOTSUPP;
	default:
		return SFO_ERR_ERROR;
	}
}

/* A call with no descriptor for the connection: the application holds only the listener
 * (a passive connection not accepted yet), or its socket is gone (closed by it, or by
 * this target when the kernel handed the connection to a timewait socket or reset it):
 * no connection it can name, ENOTCONN. */
static int no_fd(struct sfh_linux_app *a)
{
	a->call_err = SFO_ERR_ENOTCONN;
	return SFH_LINUX_REFUSED;
}

/* A call the kernel refused with errno e. */
static int refused(struct sfh_linux_app *a, int e)
{
	a->call_err = sfh_linux_errno_result(e);
	return SFH_LINUX_REFUSED;
}

int sfh_linux_fd_state(int fd)
{
	struct tcp_info ti;
	socklen_t l = sizeof ti;
	return getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &l) == 0 ? ti.tcpi_state : -1;
}

void sfh_linux_abort_fd(int fd)
{
	struct linger lg = {1, 0};
	(void)setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
	close(fd);
}

/* Passive role: take the connection from the listener if it has one, then close the
 * listener so the case has one TCB, as in RFC 9293. inject() calls it after every segment,
 * so the connection is accepted the moment it is established (as a server blocked in
 * accept() would, and as the lwip target does): a RST or a timeout then ends in CLOSED,
 * and a new SYN finds no listener. Returns the connection's fd or -1. */
int sfh_linux_app_conn(struct sfh_linux_app *a)
{
	if (a->cfd < 0 && a->lfd >= 0) {
		int fd = accept4(a->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd >= 0) {
			close(a->lfd);
			a->lfd = -1;
			a->cfd = fd;
			a->accepted = 1;
		}
	}
	return a->cfd;
}

static enum sfo_state map_state(int k)
{
	switch (k) {
	case SFH_LK_ESTABLISHED:
		return SFO_ESTABLISHED;
	case SFH_LK_SYN_SENT:
		return SFO_SYN_SENT;
	case SFH_LK_SYN_RECV:
	case SFH_LK_NEW_SYN_RECV:
		return SFO_SYN_RECEIVED;
	case SFH_LK_FIN_WAIT1:
		return SFO_FIN_WAIT_1;
	case SFH_LK_FIN_WAIT2:
		return SFO_FIN_WAIT_2;
	case SFH_LK_TIME_WAIT:
		return SFO_TIME_WAIT;
	case SFH_LK_CLOSE_WAIT:
		return SFO_CLOSE_WAIT;
	case SFH_LK_LAST_ACK:
		return SFO_LAST_ACK;
	case SFH_LK_LISTEN:
		return SFO_LISTEN;
	case SFH_LK_CLOSING:
		return SFO_CLOSING;
	default:
		return SFO_CLOSED; /* CLOSE, BOUND_INACTIVE */
	}
}

/* The case's connection as sock_diag sees it: 1 with *sk, 0 none (the listener fallback
 * counts as none), -1 error. */
int sfh_linux_app_diag(struct sfh_linux_app *a, struct sfh_linux_sk *sk)
{
	int rc = sfh_linux_diag_get(a->ns, a->ep, sk);
	if (rc < 0)
		snprintf(a->err, a->errlen, "%s: sock_diag: %s", a->who, strerror(errno));
	return rc == 1 && sk->dport == 0 ? 0 : rc;
}

int sfh_linux_app_state(struct sfh_linux_app *a, enum sfo_state *st)
{
	if (a->pristine) {
		*st = a->lfd >= 0 ? SFO_LISTEN : SFO_CLOSED;
		return 0;
	}
	if (a->cfd >= 0) {
		int k = sfh_linux_fd_state(a->cfd);
		if (k < 0) {
			snprintf(a->err, a->errlen, "%s: TCP_INFO: %s", a->who, strerror(errno));
			return -1;
		}
		if (k != SFH_LK_CLOSE) {
			*st = map_state(k);
			return 0;
		}
	}
	struct sfh_linux_sk sk;
	int rc = sfh_linux_app_diag(a, &sk);
	if (rc < 0)
		return -1;
	if (rc == 1) {
		/* A request socket whose listener we closed is dead: see target_linux.c's top
		 * comment. */
		int zombie = sk.state == SFH_LK_SYN_RECV && a->role == SFH_ROLE_PASSIVE &&
			     a->lfd < 0 && !a->accepted;
		*st = zombie ? SFO_CLOSED : map_state(sk.state);
		return 0;
	}
	*st = a->lfd >= 0 ? SFO_LISTEN : SFO_CLOSED;
	return 0;
}

/* SEND: the octets the kernel took. With no connection to send on (one still in the
 * listener's SYN-RECEIVED) or an error before any octet was taken (EAGAIN in SYN-SENT,
 * EPIPE after a reset or a shutdown), the API refused the call: SFH_LINUX_REFUSED. */
static int do_send(struct sfh_linux_app *a, uint32_t n)
{
	int fd = sfh_linux_app_conn(a);
	uint32_t done = 0;
	if (fd < 0)
		return no_fd(a);
	/* a send of nothing still meets the kernel's checks (EPIPE after shutdown) */
	if (n == 0 && send(fd, a->sendbuf, 0, MSG_DONTWAIT | MSG_NOSIGNAL) < 0)
		return refused(a, errno);
	while (done < n) {
		size_t chunk = n - done < SFH_LINUX_SENDBUF ? n - done : SFH_LINUX_SENDBUF;
		/* octet k of the case's data is 'a' + k mod 26 (docs/exec-protocol.md) */
		for (size_t i = 0; i < chunk; i++)
			a->sendbuf[i] = (uint8_t)('a' + (a->sent + i) % 26);
		ssize_t w = send(fd, a->sendbuf, chunk, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && done == 0)
			return refused(a, errno);
		if (w <= 0)
			break;
		done += (uint32_t)w;
		a->sent += (uint64_t)w;
	}
	return (int)(done > INT32_MAX ? INT32_MAX : done);
}

/* RECEIVE: the octets read (0 when none is queued, or at the end of the stream); with no
 * connection, or an error (ECONNRESET, ENOTCONN), the API refused the call. */
static int do_receive(struct sfh_linux_app *a, uint32_t n)
{
	int fd = sfh_linux_app_conn(a);
	uint32_t done = 0;
	uint8_t buf[16384];
	if (fd < 0)
		return no_fd(a);
	while (n == 0 || done < n) {
		size_t want = n == 0 || n - done > sizeof buf ? sizeof buf : n - done;
		ssize_t r = recv(fd, buf, want, MSG_DONTWAIT);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && errno != EAGAIN && done == 0)
			return refused(a, errno);
		if (r < 0 && done == 0)
			a->call_err = SFO_ERR_EAGAIN; /* nothing to read yet, not refused */
		if (r <= 0)
			break;
		done += (uint32_t)r;
		if ((size_t)r < want)
			break; /* one recv() takes everything queued that fits */
	}
	return (int)(done > INT32_MAX ? INT32_MAX : done);
}

int sfh_linux_app_timers(const struct sfh_linux_app *a, int fd)
{
	int us = (int)(a->rto_min_us > INT32_MAX ? INT32_MAX : a->rto_min_us);
	if (a->rto_min_us == 0)
		return 0;
	return setsockopt(fd, IPPROTO_TCP, TCP_RTO_MIN_US, &us, sizeof us);
}

/* A new socket on the case's port, for an OPEN after the case's first socket is gone.
 * SO_REUSEADDR: the old one may linger (TIME-WAIT, an orphan); the kernel then decides. */
static int reopen_socket(struct sfh_linux_app *a)
{
	int fd = sfh_linux_bound_socket(a->ns, a->ep, 1);
	if (fd >= 0 && sfh_linux_app_timers(a, fd) != 0) {
		close(fd);
		fd = -1;
	}
	a->dirty = 1; /* two sockets on the port: reset() destroys by tuple */
	return fd;
}

/* Is a connection of the case's tuple alive (an orphan after close(), TIME-WAIT)? */
static int tuple_alive(struct sfh_linux_app *a, struct sfh_linux_sk *sk)
{
	return sfh_linux_app_diag(a, sk) == 1;
}

/* Is the application without a handle on the case's connection? RFC 9293 §3.9.1 lets an
 * implementation offer a subset of the user calls; through sockets, a connection the
 * application cannot name cannot be closed, shut or aborted by it:
 *  - one still in the listener's SYN-RECEIVED (not accepted yet: the listener is all
 *    the application holds, and closing it is not CLOSE of that connection, it drops the
 *    request socket silently);
 *  - one the application has closed (an orphan in FIN-WAIT, CLOSING, LAST-ACK or
 *    TIME-WAIT: its descriptor is gone, EBADF).
 * Such a call is refused (SFH_LINUX_REFUSED): the stack is not touched and the runner
 * judges the step as one that changed nothing, never as a broken CLOSE or ABORT.
 * 1 unreachable, 0 reachable or no connection at all, -1 error. */
static int conn_unreachable(struct sfh_linux_app *a)
{
	struct sfh_linux_sk sk;
	if (sfh_linux_app_conn(a) >= 0)
		return 0;
	/* no descriptor, yet a connection of the tuple: a request socket (only the listener
	 * is held) or a socket the application closed */
	return sfh_linux_app_diag(a, &sk);
}

/* Has the held socket handed its connection to a timewait socket? On entering TIME-WAIT
 * Linux moves the connection to a timewait minisock (tcp_time_wait(), then tcp_done()):
 * the application's socket reads CLOSE and no longer owns the connection, which lives on
 * in TIME-WAIT where no call on that socket can reach it. RFC 9293 §3.9.1 lets an
 * implementation offer a subset of the calls: ABORT of it is refused, never reported as
 * done. 1 handed over, 0 not, -1 error. */
static int handed_to_timewait(struct sfh_linux_app *a)
{
	struct sfh_linux_sk sk;
	if (a->cfd < 0 || sfh_linux_fd_state(a->cfd) != SFH_LK_CLOSE)
		return 0;
	int rc = sfh_linux_app_diag(a, &sk);
	if (rc <= 0)
		return rc;
	return sk.state == SFH_LK_TIME_WAIT;
}

/* CLOSE: on the connection if there is one (accepted first), else on the listener (CLOSE
 * in LISTEN). A socket in CLOSE (never connected, reset, or handed over to TIME-WAIT) has
 * no connection to close: RFC 9293 answers "error", and the call has no effect. */
static int do_close(struct sfh_linux_app *a)
{
	int u = conn_unreachable(a);
	if (u != 0)
		return u < 0 ? -1 : no_fd(a);
	if (a->cfd >= 0) {
		if (sfh_linux_fd_state(a->cfd) == SFH_LK_CLOSE)
			return 0;
		close(a->cfd);
		a->dirty = 1;
		a->cfd = -1;
	} else if (a->lfd >= 0) {
		close(a->lfd);
		a->lfd = -1;
	}
	return 0;
}

/* ABORT: SO_LINGER {1,0} + close on a held connection; on a listener with no connection
 * yet, close it (ABORT in LISTEN: §3.10.5 deletes the TCB, sends nothing). A connection
 * the application holds no handle on is refused (conn_unreachable), and so is one its
 * socket handed to a timewait socket (handed_to_timewait): SOCK_DESTROY would reach
 * either, but that is an administrator's tool, not the application's ABORT. */
static int do_abort(struct sfh_linux_app *a)
{
	int u = conn_unreachable(a);
	if (u == 0) {
		int h = handed_to_timewait(a);
		if (h != 0) /* close(2) would say ok, and leave TIME-WAIT be */
			return h < 0 ? -1 : SFH_LINUX_REFUSED;
	}
	if (u != 0)
		return u < 0 ? -1 : no_fd(a);
	if (a->cfd >= 0) {
		if (sfh_linux_fd_state(a->cfd) != SFH_LK_CLOSE) {
			sfh_linux_abort_fd(a->cfd);
			a->cfd = -1;
		}
	} else if (a->lfd >= 0) {
		close(a->lfd);
		a->lfd = -1;
	}
	return 0;
}

/* The case's socket if it is fresh (never connected, never accepted), else -1. A used
 * socket back in CLOSE (reset, timed out, handed over to TIME-WAIT) cannot be opened
 * again: it is closed, and an OPEN after it takes a new socket on the same port. */
static int fresh_socket(struct sfh_linux_app *a)
{
	if (a->cfd < 0)
		return -1;
	if (a->role == SFH_ROLE_ACTIVE && !a->connected)
		return a->cfd;
	if (sfh_linux_fd_state(a->cfd) == SFH_LK_CLOSE) {
		close(a->cfd);
		a->cfd = -1;
		a->dirty = 1;
	}
	return -1;
}

/* LISTEN: the passive role listens from reset() on; an active-role socket that has not
 * connected becomes a listener; with no socket and no connection left (after CLOSE,
 * ABORT or a reset), a new listener opens on the case's port; otherwise the connection
 * exists and the call has no effect. */
static int do_listen(struct sfh_linux_app *a)
{
	struct sfh_linux_sk sk;
	if (a->lfd >= 0)
		return 0;
	/* a used socket whose connection lives on (TIME-WAIT): a new socket cannot take the
	 * port, and the application keeps the one it holds (an ABORT on it says ok) */
	if (a->cfd >= 0 && (a->role != SFH_ROLE_ACTIVE || a->connected) &&
	    sfh_linux_fd_state(a->cfd) == SFH_LK_CLOSE && tuple_alive(a, &sk))
		return refused(a, EADDRINUSE);
	int fd = fresh_socket(a);
	if (fd < 0 && a->cfd >= 0)
		return refused(a, EINVAL); /* listen() on a connected socket */
	if (fd < 0 && tuple_alive(a, &sk))
		return refused(a, EADDRINUSE); /* a new socket cannot take the port */
	if (fd < 0 && (fd = reopen_socket(a)) < 0)
		return refused(a, errno);
	if (listen(fd, 8) != 0) {
		int e = errno;
		if (fd != a->cfd)
			close(fd);
		return refused(a, e);
	}
	a->lfd = fd;
	a->cfd = -1;
	a->role = SFH_ROLE_PASSIVE;
	a->accepted = 0;
	return 0;
}

/* CONNECT: on the case's fresh socket; with none left (after CLOSE, ABORT or a reset),
 * on a new one bound to the case's port. EINPROGRESS is the normal answer; on a listener
 * or a live connection the kernel refuses it (SFH_LINUX_REFUSED). */
static int do_connect(struct sfh_linux_app *a)
{
	struct sockaddr_in peer = {.sin_family = AF_INET,
				   .sin_port = htons(a->ep->peer_port),
				   .sin_addr.s_addr = htonl(a->ep->peer_ip)};
	struct sockaddr_in6 peer6 = {.sin6_family = AF_INET6, .sin6_port = htons(a->ep->peer_port)};
	memcpy(&peer6.sin6_addr, a->ep->peer_ip6, 16);
	int fd = a->lfd >= 0 ? a->lfd : fresh_socket(a);
	if (fd < 0)
		fd = a->cfd;
	if (fd < 0 && (fd = reopen_socket(a)) >= 0) {
		a->cfd = fd;
		a->role = SFH_ROLE_ACTIVE;
	}
	if (fd < 0)
		return refused(a, errno);
	int rc = a->ep->ipv6 ? connect(fd, (struct sockaddr *)&peer6, sizeof peer6)
			     : connect(fd, (struct sockaddr *)&peer, sizeof peer);
	if (rc != 0 && errno != EINPROGRESS)
		return refused(a, errno); /* EISCONN, EALREADY, on a listener EISCONN */
	if (rc != 0)
		a->call_err = SFO_ERR_EINPROGRESS;
	if (fd == a->cfd)
		a->connected = 1;
	return 0;
}

int sfh_linux_app_call(struct sfh_linux_app *a, enum sfo_call call, uint32_t arg)
{
	a->call_err = SFO_ERR_OK;
	if (call != SFO_CALL_LISTEN)
		a->pristine = 0;
	switch (call) {
	case SFO_CALL_LISTEN:
		return do_listen(a);
	case SFO_CALL_CONNECT:
		return do_connect(a);
	case SFO_CALL_ACCEPT:
		if (sfh_linux_app_conn(a) < 0)
			a->call_err = SFO_ERR_EAGAIN; /* accept4() has nothing to hand over */
		return 0;
	case SFO_CALL_SEND:
		return do_send(a, arg);
	case SFO_CALL_RECEIVE:
		return do_receive(a, arg);
	case SFO_CALL_SHUTDOWN:
		/* No connection to shut (one still in the listener's SYN-RECEIVED, or one the
		 * application closed), or ENOTCONN: refused. In SYN-SENT Linux aborts the
		 * connect (CLOSED), as RFC 9293 does. */
		if (sfh_linux_app_conn(a) < 0)
			return no_fd(a);
		if (shutdown(a->cfd, SHUT_WR) != 0)
			return refused(a, errno);
		return 0;
	case SFO_CALL_CLOSE:
		return do_close(a);
	case SFO_CALL_ABORT:
		return do_abort(a);
	}
	snprintf(a->err, a->errlen, "%s: unknown call %d", a->who, (int)call);
	return -1;
}
