/* The agent's sockets: one case's connection through the BSD sockets API.
 *
 * The calls and the state are the linux target's own (harness/targets/linux/
 * target_linux_sock.c, compiled into the agent), so that a kernel reached through tap: +
 * agent is judged as the host kernel is through linux:. What differs is the case's set-up:
 * the agent lives inside the stack's machine, so its sockets are plain socket() in its own
 * namespace, and sock_diag (target_linux_ns.c) queries that namespace. This agent is
 * Linux-only.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <linux/netlink.h>

#include "agent.h"

static int fail(struct sfa_sock *s, const char *what)
{
	snprintf(s->err, sizeof s->err, "agent: %s: %s", what, strerror(errno));
	return -1;
}

int sfa_sock_init(struct sfa_sock *s)
{
	memset(s, 0, sizeof *s);
	s->diag.nsfd = s->diag.tunfd = -1;
	s->app = (struct sfh_linux_app){.ns = &s->diag,
					.ep = &s->ep,
					.lfd = -1,
					.cfd = -1,
					.who = "agent",
					.err = s->err,
					.errlen = sizeof s->err};
	s->app.sendbuf = calloc(1, SFH_LINUX_SENDBUF);
	if (!s->app.sendbuf)
		return fail(s, "calloc");
	s->diag.diagfd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
	if (s->diag.diagfd < 0)
		return fail(s, "NETLINK_SOCK_DIAG (load inet_diag and tcp_diag)");
	int one = 1;
	(void)setsockopt(s->diag.diagfd, SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof one);
	return 0;
}

void sfa_sock_fini(struct sfa_sock *s)
{
	if (s->app.cfd >= 0)
		sfh_linux_abort_fd(s->app.cfd);
	if (s->app.lfd >= 0)
		close(s->app.lfd);
	s->app.cfd = s->app.lfd = -1;
	sfh_linux_ns_close(&s->diag);
	free(s->app.sendbuf);
	s->app.sendbuf = NULL;
}

/* End the previous case (as the linux target's drop_case): abort the held socket, close
 * the listener, destroy by tuple what may be left; a full purge every 4,096 cases. */
static int drop_case(struct sfa_sock *s)
{
	struct sfh_linux_app *a = &s->app;
	if (a->cfd >= 0) {
		int k = sfh_linux_fd_state(a->cfd);
		if (k == SFH_LK_CLOSE || k < 0)
			a->dirty = 1;
		sfh_linux_abort_fd(a->cfd);
	}
	if (a->lfd >= 0)
		close(a->lfd);
	a->cfd = a->lfd = -1;
	int rc = 0;
	if (s->cases % 4096 == 0)
		rc = sfh_linux_diag_purge(&s->diag) < 0 ? -1 : 0;
	else if (a->dirty || (a->role == SFH_ROLE_PASSIVE && !a->accepted))
		rc = sfh_linux_diag_destroy(&s->diag, &s->ep, NULL);
	return rc != 0 ? fail(s, "purge") : 0;
}

int sfa_sock_reset(struct sfa_sock *s, enum sfh_role role, const struct sfh_endpoints *ep)
{
	struct sfh_linux_app *a = &s->app;
	if (drop_case(s) != 0)
		return -1;
	s->cases++;
	s->ep = *ep;
	a->role = role;
	a->accepted = a->connected = a->dirty = 0;
	a->sent = 0;
	a->pristine = 1;
	/* SO_REUSEADDR: unlike the linux target, synfin chooses the ports and may come back
	 * to one sooner than 20,000 cases; drop_case() destroyed what was left on it. */
	int one = 1, fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	struct sockaddr_in sa = {.sin_family = AF_INET,
				 .sin_port = htons(ep->target_port),
				 .sin_addr.s_addr = htonl(ep->target_ip)};
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
	    bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0 ||
	    (role == SFH_ROLE_PASSIVE && listen(fd, 8) != 0)) {
		snprintf(s->err, sizeof s->err, "agent: case socket on port %u: %s",
			 ep->target_port, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	if (role == SFH_ROLE_PASSIVE)
		a->lfd = fd;
	else
		a->cfd = fd;
	return 0;
}

void sfa_sock_poll(struct sfa_sock *s)
{
	(void)sfh_linux_app_conn(&s->app);
}

int sfa_sock_call(struct sfa_sock *s, enum sfo_call call, uint32_t arg)
{
	return sfh_linux_app_call(&s->app, call, arg);
}

int sfa_sock_state(struct sfa_sock *s, enum sfo_state *st)
{
	return sfh_linux_app_state(&s->app, st);
}
