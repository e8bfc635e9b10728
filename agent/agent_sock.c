/* The agent's sockets: one case's connection through the BSD sockets API.
 *
 * This mirrors the linux target's calls (harness/targets/linux/target_linux.c) so that a
 * kernel reached through tap: + agent is judged as the host kernel is through linux:.
 * What differs: the agent lives inside the stack's machine, so it uses plain socket() in
 * its own namespace, and the connection state comes from TCP_INFO on the held socket or,
 * when the application holds none (an orphan after close(), TIME-WAIT), from an
 * exact-tuple sock_diag query (target_linux_ns.c, compiled into the agent). On a
 * non-Linux system only TCP_INFO-less answers would remain; this agent is Linux-only.
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <linux/netlink.h>

#include "agent.h"

#define SFA_SENDBUF 65536

static int fd_state(int fd)
{
	struct tcp_info ti;
	socklen_t l = sizeof ti;
	return getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &l) == 0 ? ti.tcpi_state : -1;
}

static int fail(struct sfa_sock *s, const char *what)
{
	snprintf(s->err, sizeof s->err, "agent: %s: %s", what, strerror(errno));
	return -1;
}

int sfa_sock_init(struct sfa_sock *s)
{
	memset(s, 0, sizeof *s);
	s->lfd = s->cfd = -1;
	s->diag.nsfd = s->diag.tunfd = -1;
	s->sendbuf = calloc(1, SFA_SENDBUF);
	if (!s->sendbuf)
		return fail(s, "calloc");
	s->diag.diagfd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
	if (s->diag.diagfd < 0)
		return fail(s, "NETLINK_SOCK_DIAG (load inet_diag and tcp_diag)");
	int one = 1;
	(void)setsockopt(s->diag.diagfd, SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof one);
	return 0;
}

static void abort_fd(int fd)
{
	struct linger lg = {1, 0};
	(void)setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
	close(fd);
}

void sfa_sock_fini(struct sfa_sock *s)
{
	if (s->cfd >= 0)
		abort_fd(s->cfd);
	if (s->lfd >= 0)
		close(s->lfd);
	s->cfd = s->lfd = -1;
	sfh_linux_ns_close(&s->diag);
	free(s->sendbuf);
	s->sendbuf = NULL;
}

/* End the previous case (as the linux target's drop_case): abort the held socket, close
 * the listener, destroy by tuple what may be left; a full purge every 4,096 cases. */
static int drop_case(struct sfa_sock *s)
{
	if (s->cfd >= 0) {
		if (fd_state(s->cfd) == SFH_LK_CLOSE || fd_state(s->cfd) < 0)
			s->dirty = 1;
		abort_fd(s->cfd);
	}
	if (s->lfd >= 0)
		close(s->lfd);
	s->cfd = s->lfd = -1;
	int rc = 0;
	if (s->cases % 4096 == 0)
		rc = sfh_linux_diag_purge(&s->diag) < 0 ? -1 : 0;
	else if (s->dirty || (s->role == SFH_ROLE_PASSIVE && !s->accepted))
		rc = sfh_linux_diag_destroy(&s->diag, &s->ep, NULL);
	return rc != 0 ? fail(s, "purge") : 0;
}

static int new_socket(const struct sfa_sock *s, int reuse)
{
	int one = 1, fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	struct sockaddr_in a = {.sin_family = AF_INET,
				.sin_port = htons(s->ep.target_port),
				.sin_addr.s_addr = htonl(s->ep.target_ip)};
	if (fd < 0)
		return -1;
	if ((reuse && setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0) ||
	    bind(fd, (struct sockaddr *)&a, sizeof a) != 0) {
		int e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

int sfa_sock_reset(struct sfa_sock *s, enum sfh_role role, const struct sfh_endpoints *ep)
{
	if (drop_case(s) != 0)
		return -1;
	s->cases++;
	s->ep = *ep;
	s->role = role;
	s->accepted = s->connected = s->dirty = 0;
	s->sent = 0;
	s->pristine = 1;
	/* SO_REUSEADDR: unlike the linux target, synfin chooses the ports and may come back
	 * to one sooner than 20,000 cases; drop_case() destroyed what was left on it. */
	int fd = new_socket(s, 1);
	if (fd < 0 || (role == SFH_ROLE_PASSIVE && listen(fd, 8) != 0)) {
		snprintf(s->err, sizeof s->err, "agent: case socket on port %u: %s",
			 ep->target_port, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	if (role == SFH_ROLE_PASSIVE)
		s->lfd = fd;
	else
		s->cfd = fd;
	return 0;
}

/* Passive role: take the connection as soon as it is established, then close the
 * listener so the case has one TCB (as the linux target's need_conn). */
static int need_conn(struct sfa_sock *s)
{
	if (s->cfd < 0 && s->lfd >= 0) {
		int fd = accept4(s->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd >= 0) {
			close(s->lfd);
			s->lfd = -1;
			s->cfd = fd;
			s->accepted = 1;
		}
	}
	return s->cfd;
}

void sfa_sock_poll(struct sfa_sock *s)
{
	(void)need_conn(s);
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
		return SFO_CLOSED;
	}
}

/* The case's connection by sock_diag: 1 with *sk, 0 none (the listener fallback counts
 * as none), -1 error. */
static int conn_diag(struct sfa_sock *s, struct sfh_linux_sk *sk)
{
	int rc = sfh_linux_diag_get(&s->diag, &s->ep, sk);
	if (rc < 0)
		return fail(s, "sock_diag");
	return rc == 1 && sk->dport == 0 ? 0 : rc;
}

int sfa_sock_state(struct sfa_sock *s, enum sfo_state *st)
{
	if (s->pristine) {
		*st = s->lfd >= 0 ? SFO_LISTEN : SFO_CLOSED;
		return 0;
	}
	if (s->cfd >= 0) {
		int k = fd_state(s->cfd);
		if (k < 0)
			return fail(s, "TCP_INFO");
		if (k != SFH_LK_CLOSE) {
			*st = map_state(k);
			return 0;
		}
	}
	struct sfh_linux_sk sk;
	int rc = conn_diag(s, &sk);
	if (rc < 0)
		return -1;
	if (rc == 1) {
		int zombie = sk.state == SFH_LK_SYN_RECV && s->role == SFH_ROLE_PASSIVE &&
			     s->lfd < 0 && !s->accepted;
		*st = zombie ? SFO_CLOSED : map_state(sk.state);
		return 0;
	}
	*st = s->lfd >= 0 ? SFO_LISTEN : SFO_CLOSED;
	return 0;
}

static int do_send(struct sfa_sock *s, uint32_t n)
{
	int fd = need_conn(s);
	uint32_t done = 0;
	if (fd < 0)
		return SFA_REFUSED;
	while (done < n) {
		size_t chunk = n - done < SFA_SENDBUF ? n - done : SFA_SENDBUF;
		/* docs/exec-protocol.md: octet k of the case's data is 'a' + k mod 26 */
		for (size_t i = 0; i < chunk; i++)
			s->sendbuf[i] = (uint8_t)('a' + (s->sent + i) % 26);
		ssize_t w = send(fd, s->sendbuf, chunk, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && done == 0)
			return SFA_REFUSED;
		if (w <= 0)
			break;
		done += (uint32_t)w;
		s->sent += (uint64_t)w;
	}
	return (int)(done > INT32_MAX ? INT32_MAX : done);
}

static int do_receive(struct sfa_sock *s, uint32_t n)
{
	int fd = need_conn(s);
	uint32_t done = 0;
	uint8_t buf[16384];
	if (fd < 0)
		return SFA_REFUSED;
	while (n == 0 || done < n) {
		size_t want = n == 0 || n - done > sizeof buf ? sizeof buf : n - done;
		ssize_t r = recv(fd, buf, want, MSG_DONTWAIT);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && errno != EAGAIN && done == 0)
			return SFA_REFUSED;
		if (r <= 0)
			break;
		done += (uint32_t)r;
		if ((size_t)r < want)
			break;
	}
	return (int)(done > INT32_MAX ? INT32_MAX : done);
}

static int reopen_socket(struct sfa_sock *s)
{
	s->dirty = 1;
	return new_socket(s, 1);
}

/* The application holds no handle on the connection (still in the listener's
 * SYN-RECEIVED, or closed by it): CLOSE, SHUTDOWN, ABORT cannot name it (RFC 9293
 * §3.9.1 allows a subset of the calls). 1 unreachable, 0 not, -1 error. */
static int conn_unreachable(struct sfa_sock *s)
{
	struct sfh_linux_sk sk;
	if (need_conn(s) >= 0)
		return 0;
	return conn_diag(s, &sk);
}

static int handed_to_timewait(struct sfa_sock *s)
{
	struct sfh_linux_sk sk;
	if (s->cfd < 0 || fd_state(s->cfd) != SFH_LK_CLOSE)
		return 0;
	int rc = conn_diag(s, &sk);
	if (rc <= 0)
		return rc;
	return sk.state == SFH_LK_TIME_WAIT;
}

static int do_close(struct sfa_sock *s)
{
	int u = conn_unreachable(s);
	if (u != 0)
		return u < 0 ? -1 : SFA_REFUSED;
	if (s->cfd >= 0) {
		if (fd_state(s->cfd) == SFH_LK_CLOSE)
			return 0;
		close(s->cfd);
		s->dirty = 1;
		s->cfd = -1;
	} else if (s->lfd >= 0) {
		close(s->lfd);
		s->lfd = -1;
	}
	return 0;
}

static int do_abort(struct sfa_sock *s)
{
	int u = conn_unreachable(s);
	if (u == 0)
		u = handed_to_timewait(s);
	if (u != 0)
		return u < 0 ? -1 : SFA_REFUSED;
	if (s->cfd >= 0) {
		if (fd_state(s->cfd) != SFH_LK_CLOSE) {
			abort_fd(s->cfd);
			s->cfd = -1;
		}
	} else if (s->lfd >= 0) {
		close(s->lfd);
		s->lfd = -1;
	}
	return 0;
}

static int fresh_socket(struct sfa_sock *s)
{
	if (s->cfd < 0)
		return -1;
	if (s->role == SFH_ROLE_ACTIVE && !s->connected)
		return s->cfd;
	if (fd_state(s->cfd) == SFH_LK_CLOSE) {
		close(s->cfd);
		s->cfd = -1;
		s->dirty = 1;
	}
	return -1;
}

static int do_listen(struct sfa_sock *s)
{
	struct sfh_linux_sk sk;
	if (s->lfd >= 0)
		return 0;
	int fd = fresh_socket(s);
	if (fd < 0 && (s->cfd >= 0 || conn_diag(s, &sk) == 1 || (fd = reopen_socket(s)) < 0))
		return SFA_REFUSED;
	if (listen(fd, 8) != 0) {
		if (fd != s->cfd)
			close(fd);
		return SFA_REFUSED;
	}
	s->lfd = fd;
	s->cfd = -1;
	s->role = SFH_ROLE_PASSIVE;
	s->accepted = 0;
	return 0;
}

static int do_connect(struct sfa_sock *s)
{
	struct sockaddr_in peer = {.sin_family = AF_INET,
				   .sin_port = htons(s->ep.peer_port),
				   .sin_addr.s_addr = htonl(s->ep.peer_ip)};
	int fd = s->lfd >= 0 ? s->lfd : fresh_socket(s);
	if (fd < 0)
		fd = s->cfd;
	if (fd < 0 && (fd = reopen_socket(s)) >= 0) {
		s->cfd = fd;
		s->role = SFH_ROLE_ACTIVE;
	}
	if (fd < 0)
		return SFA_REFUSED;
	int rc = connect(fd, (struct sockaddr *)&peer, sizeof peer);
	if (rc != 0 && errno != EINPROGRESS)
		return SFA_REFUSED;
	if (fd == s->cfd)
		s->connected = 1;
	return 0;
}

int sfa_sock_call(struct sfa_sock *s, enum sfo_call call, uint32_t arg)
{
	if (call != SFO_CALL_LISTEN)
		s->pristine = 0;
	switch (call) {
	case SFO_CALL_LISTEN:
		return do_listen(s);
	case SFO_CALL_CONNECT:
		return do_connect(s);
	case SFO_CALL_ACCEPT:
		(void)need_conn(s);
		return 0;
	case SFO_CALL_SEND:
		return do_send(s, arg);
	case SFO_CALL_RECEIVE:
		return do_receive(s, arg);
	case SFO_CALL_SHUTDOWN:
		if (need_conn(s) < 0 || shutdown(s->cfd, SHUT_WR) != 0)
			return SFA_REFUSED;
		return 0;
	case SFO_CALL_CLOSE:
		return do_close(s);
	case SFO_CALL_ABORT:
		return do_abort(s);
	}
	snprintf(s->err, sizeof s->err, "agent: unknown call %d", (int)call);
	return -1;
}
