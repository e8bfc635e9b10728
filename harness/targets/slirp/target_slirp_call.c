/* The slirp target's user calls: one set of decisions for every mode (what a sockets
 * application could do at this point, and what its API refuses), then the mode's way of
 * doing it: guestfwd calls here, host-socket calls in target_slirp_sock.c. Sharing the
 * decisions is what lets a guestfwd case be replayed in socket mode with the same
 * results (sfh_sl_migrate).
 *
 * Refusals (SFH_CALL_REFUSED) follow the errors a sockets application would get: SEND,
 * SHUTDOWN with no connection (ENOTCONN) or after shutdown (EPIPE); anything on a socket
 * the application closed (EBADF); LISTEN or CONNECT while a listener or connection exists
 * (EISCONN, EINVAL); ACCEPT with nothing to take (EAGAIN).
 */
#include <stdio.h>

#include "target_slirp_priv.h"

static int is_gfwd(const struct sfh_slirp *s)
{
	return s->role == SFH_ROLE_PASSIVE && s->cur == SFH_SL_GFWD_MODE;
}

/* ---- guestfwd ---- */

static int gfwd_send(struct sfh_slirp *s, uint32_t n)
{
	struct in_addr ga = {htonl(SFH_SL_GFWD)};
	uint32_t done = 0;
	while (done < n) {
		size_t room = slirp_socket_can_recv(s->slirp, ga, SFH_SL_GFWD_PORT);
		uint32_t k = n - done;
		if (k > room)
			k = (uint32_t)room;
		if (k > sizeof s->pattern)
			k = sizeof s->pattern;
		if (k == 0)
			break;
		slirp_socket_recv(s->slirp, ga, SFH_SL_GFWD_PORT, s->pattern, (int)k);
		s->conn_valid = 0;
		done += k;
	}
	return done > INT32_MAX ? INT32_MAX : (int)done;
}

static int gfwd_receive(struct sfh_slirp *s, uint32_t arg)
{
	uint64_t n = arg && arg < s->rx_pending ? arg : s->rx_pending;
	if (n > INT32_MAX)
		n = INT32_MAX;
	s->rx_pending -= n;
	return (int)n;
}

/* slirp closes its side only when reading from the application fails. For a guestfwd
 * that read is soreadbuf(), called by slirp_socket_recv(); offered more octets than its
 * buffer holds, it gives up before touching them: sofcantrcvmore() + tcp_sockclosed(),
 * the exact path an EOF from a host socket takes (FIN, ESTABLISHED -> FIN-WAIT-1,
 * CLOSE-WAIT -> LAST-ACK). The g_critical it logs is swallowed (target_slirp.c). */
static void gfwd_shutdown(struct sfh_slirp *s)
{
	enum sfo_state st;
	if (s->wr_closed)
		return;
	s->wr_closed = 1;
	/* Before ESTABLISHED slirp reads nothing from its application (a host socket is not
	 * polled, and a guestfwd's slirp_socket_can_recv says 0): the close waits for the
	 * handshake, as in socket mode (sfh_sl_gfwd_flush runs it then). */
	if (sfh_sl_find_conn(s, &st) == 1 && st == SFO_SYN_RECEIVED) {
		s->shut_pending = 1;
		return;
	}
	sfh_sl_gfwd_flush(s);
}

void sfh_sl_gfwd_flush(struct sfh_slirp *s)
{
	struct in_addr ga = {htonl(SFH_SL_GFWD)};
	s->shut_pending = 0;
	slirp_socket_recv(s->slirp, ga, SFH_SL_GFWD_PORT, s->pattern, INT32_MAX);
	s->conn_valid = 0;
}

/* The listener closes: the guestfwd goes. No socket points at it: the caller found no
 * connection. */
static void gfwd_close_listener(struct sfh_slirp *s)
{
	struct in_addr ga = {htonl(SFH_SL_GFWD)};
	if (!s->gfwd_removed)
		slirp_remove_guestfwd(s->slirp, ga, SFH_SL_GFWD_PORT);
	s->gfwd_removed = 1;
	s->accepted = 1;
}

static int gfwd_listen(struct sfh_slirp *s)
{
	struct in_addr ga = {htonl(SFH_SL_GFWD)};
	if (slirp_add_guestfwd(s->slirp, sfh_sl_gfwd_write, s, &ga, SFH_SL_GFWD_PORT) != 0)
		return sfh_sl_err(s, "slirp_add_guestfwd failed on a second LISTEN");
	s->gfwd_gone = s->gfwd_removed = 0;
	return 0;
}

/* ---- the decisions ---- */

/* The application takes the case's connection (passive role, implicit accept). */
static void take(struct sfh_slirp *s)
{
	if (s->accepted)
		return;
	if (is_gfwd(s))
		s->accepted = s->had_conn = 1;
	else
		sfh_sl_sock_accept(s);
}

static void close_listener(struct sfh_slirp *s)
{
	if (is_gfwd(s))
		gfwd_close_listener(s);
	else
		sfh_sl_sock_close_listener(s);
}

/* LISTEN or CONNECT once the case's connection and listener are gone. The other role's
 * side of slirp is not set up (a passive case has no forwarder to connect through, an
 * active one no guestfwd or listener the runner knows the address of): an application
 * there could not make the call either, so it is refused, not a harness error. */
static int reopen(struct sfh_slirp *s, enum sfo_call c)
{
	int r;
	if ((c == SFO_CALL_LISTEN) != (s->role == SFH_ROLE_PASSIVE))
		return SFH_CALL_REFUSED;
	if (c == SFO_CALL_CONNECT)
		r = sfh_sl_sock_connect(s);
	else
		r = is_gfwd(s) ? gfwd_listen(s) : sfh_sl_sock_listen(s);
	if (r == 0 && c == SFO_CALL_LISTEN) {
		s->accepted = s->had_conn = s->app_closed = 0;
		s->wr_closed = s->rd_closed = s->shut_pending = 0;
		s->rx_pending = 0;
	}
	return r;
}

static int do_close(struct sfh_slirp *s, int app, int lst)
{
	if (app) {
		if (is_gfwd(s))
			gfwd_shutdown(s);
		else
			sfh_sl_sock_shutdown(s);
	} else if (lst) {
		close_listener(s);
		return 0;
	} else if (!s->had_conn || s->app_closed) {
		return SFH_CALL_REFUSED;
	}
	s->app_closed = s->rd_closed = 1; /* what arrives from now on is thrown away */
	s->rx_pending = 0;
	return 0;
}

static int do_abort(struct sfh_slirp *s, int app, int lst)
{
	if (app) {
		/* the guestfwd API cannot reset a connection: the case moves to socket mode. If
		 * it cannot (the replay did not reproduce the case), the guestfwd run is back
		 * as it was and the call is refused: the harness, not the application, lacks
		 * the means to make it. */
		if (is_gfwd(s)) {
			int m = sfh_sl_migrate(s);
			if (m != 0)
				return m;
		}
		sfh_sl_sock_abort(s);
	} else if (lst) {
		close_listener(s);
		return 0;
	} else if (!s->had_conn || s->app_closed) {
		return SFH_CALL_REFUSED;
	}
	s->app_closed = s->rd_closed = 1;
	s->rx_pending = 0;
	return 0;
}

int sfh_sl_user_call(struct sfh_slirp *s, enum sfo_call c, uint32_t arg)
{
	enum sfo_state st;
	int conn = sfh_sl_find_conn(s, &st);
	if (conn < 0)
		return -1;
	int lst = sfh_sl_listener_open(s);
	int app = conn && !s->app_closed && (s->role == SFH_ROLE_PASSIVE || s->connected);
	if (app && s->role == SFH_ROLE_PASSIVE && c != SFO_CALL_LISTEN && c != SFO_CALL_CONNECT)
		take(s);
	switch (c) {
	case SFO_CALL_LISTEN:
		if (lst && !conn && !s->listened) {
			s->listened = 1; /* the passive OPEN: the listener is ready since reset */
			return 0;
		}
		/* fall through */
	case SFO_CALL_CONNECT:
		return conn || lst ? SFH_CALL_REFUSED : reopen(s, c);
	case SFO_CALL_ACCEPT:
		return app && s->role == SFH_ROLE_PASSIVE ? 0 : SFH_CALL_REFUSED;
	case SFO_CALL_SEND:
		if (!app || s->wr_closed)
			return SFH_CALL_REFUSED;
		return is_gfwd(s) ? gfwd_send(s, arg) : sfh_sl_sock_send(s, arg);
	case SFO_CALL_RECEIVE:
		if (!s->had_conn || s->app_closed)
			return SFH_CALL_REFUSED;
		return is_gfwd(s) ? gfwd_receive(s, arg) : sfh_sl_sock_receive(s, arg);
	case SFO_CALL_SHUTDOWN:
		if (!app)
			return SFH_CALL_REFUSED;
		if (is_gfwd(s))
			gfwd_shutdown(s);
		else
			sfh_sl_sock_shutdown(s);
		return 0;
	case SFO_CALL_CLOSE:
		return do_close(s, app, lst);
	case SFO_CALL_ABORT:
		return do_abort(s, app, lst);
	}
	return sfh_sl_err(s, "unknown call %d", (int)c);
}
