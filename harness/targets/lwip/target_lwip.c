/* The `lwip` target: lwIP 2.1.3 (Debian's liblwip.so) driven in-process through its raw
 * TCP API, single-threaded, on virtual time.
 *
 * Wiring: one netif without ETHARP (192.0.2.1/24, the peer is 192.0.2.2; and for IPv6
 * cases 2001:db8::1, the peer 2001:db8::2 in the same /64: documentation addresses that
 * never leave this process; Debian's liblwip is built with LWIP_IPV6). Injected packets
 * go straight into ip_input(), which hands each IP version to its input; everything lwIP
 * emits arrives at the netif's output functions and is copied into this case's queue.
 * lwIP's clock, timers and ISNs are target_lwip_sys.c's.
 *
 * Connections are never remembered by pointer: lwIP frees pcbs on its own (RST, timers,
 * tcp_close with unread data), so every operation finds the case's pcb again in
 * tcp_active_pcbs / tcp_tw_pcbs by its port pair, and the listener in tcp_listen_pcbs.
 *
 * The user side is a raw-API application: SEND is tcp_write (copied) + tcp_output, up to
 * tcp_sndbuf; data handed to the recv callback is counted and freed at once, but the
 * window opens only when RECEIVE calls tcp_recved, as with a socket whose reader is slow.
 *
 * lwIP's asserts are compiled into Debian's library and call abort(). Those synfin's own
 * calls could reach are avoided here: tcp_abort/tcp_recved are never called on a
 * listener, tcp_abandon never on a LISTEN pcb. These are reachable and are lwIP findings
 * (the runner isolates the crash; scenarios in corpus/regress/lwip-*.scn):
 * - tcp_in.c:1430 "insane offset!": a segment occupying one sequence number (a bare FIN,
 *   or one octet) at exactly RCV.NXT + 2^31. TCP_SEQ_BETWEEN(rcv_nxt, seqno + 1,
 *   seqno + tcplen - 1) holds at that distance, so tcp_receive trims its left edge by 2^31.
 * - tcp_out.c:486 "mss_local is too small" and tcp_out.c:504 "inconsistent oversize vs.
 *   space": tcp_write after the effective MSS shrank below a queued unsent segment: an
 *   MSS option in *any* segment sets pcb->mss (tcp_parseopt), and a SYN-ACK's window
 *   resets snd_wnd_max (mss_local = min(mss, snd_wnd_max / 2)), so data queued in
 *   SYN-SENT or SYN-RECEIVED, or waiting unsent, plus such a segment, then SEND, aborts.
 * Found by a random segment/call/wait loop over this target (millions of cases).
 * - tcp_out.c:859 "split <= mss" (tcp_split_unsent_seg, from a retransmission timer in
 *   LAST-ACK and other states): found by `synfin fuzz` with in-process recovery; whether
 *   it fires depends on the ISNs (a scenario's `isn` line), about half of them.
 * `synfin fuzz` recovers from these in-process (see target_lwip.h, fuzz/recover.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lwip/init.h"
#include "lwip/ip.h"
#include "lwip/ip4.h"
#include "lwip/netif.h"
#include "lwip/pbuf.h"
#include "lwip/priv/tcp_priv.h"
#include "lwip/tcp.h"

#include "target.h"
#include "target_lwip.h"

#define LWIP_TARGET_IP 0xc0000201u /* 192.0.2.1 */
#define LWIP_PEER_IP   0xc0000202u /* 192.0.2.2 */
#define LWIP_NETMASK   0xffffff00u
/* 2001:db8::1 and ::2 (RFC 3849), the last octet apart */
static const uint8_t lwip_ip6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
#define LWIP_QMAX      4096  /* packets one step may emit before we call it broken */
#define LWIP_PATTERN   65536 /* a send is copied from this many pattern octets */

extern const struct sfh_target_ops sfh_target_lwip_ops;
static void lwip_close(struct sfh_target *base);

struct lwip_target {
	struct sfh_target base;
	struct netif netif;
	enum sfh_role role;
	struct sfh_endpoints ep;
	int iss_fixed; /* args "iss=N": every case's first ISN is N */
	int iss_own;   /* args "iss=own": lwIP's own generator (for `synfin isn`) */
	uint32_t iss;
	/* per case: the application's side of each connection (one without selectors) */
	struct lwip_conn {
		struct lwip_target *owner; /* its callbacks' argument leads back to the target */
		int have_conn;		   /* the application holds it (connected/accepted) */
		int app_closed;	      /* ... and has given it back with tcp_close (no handle) */
		uint32_t rcv_pending; /* octets lwIP delivered that RECEIVE has not taken */
		uint64_t sent_total;  /* octets accepted by SEND: the pattern stays continuous */
		int active;	      /* the pcb held came from connect(), not the listener */
		/* call results (docs/targets.md): what lwIP told the application about this
		 * connection, in errno names as lwIP's sockets layer maps err_t */
		int fin_seen; /* the recv callback saw the peer's FIN (p == NULL): EOF */
		int conn_err; /* enum sfo_err its death left (on_err), reported once
			       * by the next call, as lwIP's netconn pending_err is */
		enum tcp_state conn_state; /* its state after the last operation */
	} mc[SFH_MAX_CONNS];
	int cur; /* the connection the operation at hand is about (0 without selectors) */
	/* output queue of this case: q[qhead..qlen) */
	struct sfh_pkt *q;
	int qhead, qlen, qcap;
	int qoverflow;
	uint8_t *pattern;	 /* LWIP_PATTERN + 26 octets of 'a'..'z' */
	int snapshot;		 /* sfh_lwip_target_recoverable took a snapshot */
	struct netif netif_snap; /* the netif at that moment */
};

#define LC(t) (&(t)->mc[(t)->cur])

/* Every connection's application side back to nothing, for a new case. */
static void conns_reset(struct lwip_target *t)
{
	memset(t->mc, 0, sizeof t->mc);
	for (int k = 0; k < SFH_MAX_CONNS; k++) {
		t->mc[k].owner = t;
		t->mc[k].conn_state = CLOSED;
	}
	t->cur = 0;
}

/* ---- finding the case's pcbs ---- */

/* Connection k's port pair: the peer's port the runner gave it, and ours (the listener's
 * in the passive role; in the active role each connection binds its own). */
static uint16_t conn_lport(const struct lwip_target *t, int k)
{
	return (uint16_t)(t->ep.target_port + (t->role == SFH_ROLE_ACTIVE ? k : 0));
}

static uint16_t conn_rport(const struct lwip_target *t, int k)
{
	return t->base.multi ? t->base.conn_port[k] : t->ep.peer_port;
}

/* The connection (index into mc) pcb p is, or -1. */
static int conn_index(const struct lwip_target *t, const struct tcp_pcb *p)
{
	int n = t->base.multi ? SFH_MAX_CONNS : 1;
#if LWIP_IPV6
	if (t->ep.ipv6) {
		if (!IP_IS_V6_VAL(p->remote_ip) ||
		    memcmp(ip_2_ip6(&p->remote_ip)->addr, t->ep.peer_ip6, 16) != 0)
			return -1;
	} else
#endif
	    if (!IP_IS_V4_VAL(p->remote_ip) ||
		ip4_addr_get_u32(ip_2_ip4(&p->remote_ip)) != lwip_htonl(t->ep.peer_ip))
		return -1;
	for (int k = 0; k < n; k++)
		if (p->local_port == conn_lport(t, k) && p->remote_port == conn_rport(t, k))
			return k;
	return -1;
}

/* p is the connection at hand (t->cur). */
static int is_case_pcb(const struct lwip_target *t, const struct tcp_pcb *p)
{
	return conn_index(t, p) == t->cur;
}

/* The case's connection, active or in TIME-WAIT (*tw says which), or NULL. */
static struct tcp_pcb *find_conn(const struct lwip_target *t, int *tw)
{
	*tw = 0;
	for (struct tcp_pcb *p = tcp_active_pcbs; p; p = p->next)
		if (is_case_pcb(t, p))
			return p;
	for (struct tcp_pcb *p = tcp_tw_pcbs; p; p = p->next)
		if (is_case_pcb(t, p)) {
			*tw = 1;
			return p;
		}
	return NULL;
}

static struct tcp_pcb *find_listener(const struct lwip_target *t)
{
	for (struct tcp_pcb_listen *l = tcp_listen_pcbs.listen_pcbs; l; l = l->next)
		if (l->local_port == t->ep.target_port)
			return (struct tcp_pcb *)l;
	return NULL;
}

static enum sfo_state map_state(enum tcp_state s)
{
	switch (s) {
	case CLOSED:
		return SFO_CLOSED;
	case LISTEN:
		return SFO_LISTEN;
	case SYN_SENT:
		return SFO_SYN_SENT;
	case SYN_RCVD:
		return SFO_SYN_RECEIVED;
	case ESTABLISHED:
		return SFO_ESTABLISHED;
	case FIN_WAIT_1:
		return SFO_FIN_WAIT_1;
	case FIN_WAIT_2:
		return SFO_FIN_WAIT_2;
	case CLOSE_WAIT:
		return SFO_CLOSE_WAIT;
	case CLOSING:
		return SFO_CLOSING;
	case LAST_ACK:
		return SFO_LAST_ACK;
	case TIME_WAIT:
		return SFO_TIME_WAIT;
	}
	return SFO_STATE_UNKNOWN;
}

/* ---- lwIP callbacks (callback_arg is the target) ---- */

/* Data is counted and freed at once (no pbuf is held), but the window only opens when
 * the user RECEIVEs. p == NULL is the peer's FIN: nothing to do, lwIP moved the state. */
static err_t on_recv(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t err)
{
	struct lwip_conn *lc = arg;
	struct lwip_target *t = lc->owner;
	(void)err;
	int k = conn_index(t, pcb);
	if (k >= 0)
		t->cur = k;
	if (p) {
		lc->rcv_pending += p->tot_len;
		pbuf_free(p);
	} else {
		lc->fin_seen = 1;
	}
	return ERR_OK;
}

/* lwIP has freed (or is freeing) the pcb: we hold no pointer, but the application hears
 * why: ERR_RST (ECONNRESET; in SYN-SENT a refused OPEN, ECONNREFUSED as RFC 9293 3.10.7.3
 * and BSD sockets see it, where lwIP's own sockets layer says ECONNRESET), ERR_ABRT (a
 * timer gave up, ECONNABORTED; the application's own tcp_abort clears it). Once the
 * application gave the connection back (tcp_close), nobody hears it. */
static void on_err(void *arg, err_t err)
{
	struct lwip_conn *lc = arg; /* the connection's (adopt) */
	if (lc->app_closed)
		return; /* given back with tcp_close: no application is left to tell */
	if (err == ERR_RST)
		lc->conn_err =
		    lc->conn_state == SYN_SENT ? SFO_ERR_ECONNREFUSED : SFO_ERR_ECONNRESET;
	else if (err == ERR_ABRT)
		lc->conn_err = SFO_ERR_ECONNABORTED;
}

/* A new connection of the case: its application side starts with nothing to read (what
 * an earlier connection delivered and nobody read went with that connection). */
static void adopt(struct lwip_target *t, struct tcp_pcb *pcb)
{
	LC(t)->rcv_pending = 0;
	LC(t)->fin_seen = 0;
	LC(t)->conn_err = 0;
	LC(t)->conn_state = pcb->state;
	tcp_arg(pcb, LC(t)); /* the callbacks' argument: the connection's side */
	tcp_recv(pcb, on_recv);
	tcp_err(pcb, on_err);
}

/* Called when the handshake completes (lwIP never hands out a SYN-RCVD pcb). */
static err_t on_accept(void *arg, struct tcp_pcb *pcb, err_t err)
{
	struct lwip_target *t = arg;
	if (err != ERR_OK || !pcb)
		return ERR_VAL;
	int k = conn_index(t, pcb);
	if (k < 0)
		return ERR_VAL; /* not this case's peer: lwIP aborts it */
	t->cur = k;
	adopt(t, pcb);
	LC(t)->active = 0;
	LC(t)->app_closed = 0; /* a new incarnation on the 4-tuple (TIME-WAIT reused) */
	LC(t)->have_conn = 1;
	return ERR_OK;
}

/* Once the connection is accepted, close the listener, so the case has one TCB. Not
 * before: lwIP resets a SYN-RECEIVED connection whose listener is gone when the final
 * ACK arrives, and a RST in SYN-RECEIVED returns a passive open to LISTEN. Runs after
 * every operation (accept callbacks happen inside ip4_input). */
static void settle(struct lwip_target *t)
{
	int tw;
	if (!t->base.multi) {
		struct tcp_pcb *l = LC(t)->have_conn ? find_listener(t) : NULL;
		if (l)
			tcp_close(l);
		struct tcp_pcb *c = find_conn(t, &tw);
		LC(t)->conn_state = c ? c->state : CLOSED;
		return;
	}
	/* the listener is the scenario's to close; each connection's state, for on_err */
	int cur = t->cur;
	for (t->cur = 0; t->cur < SFH_MAX_CONNS; t->cur++) {
		struct tcp_pcb *c = find_conn(t, &tw);
		LC(t)->conn_state = c ? c->state : CLOSED;
	}
	t->cur = cur;
}

static void close_listener(struct lwip_target *t)
{
	struct tcp_pcb *l = find_listener(t);
	if (l)
		tcp_close(l); /* ERR_OK always for a LISTEN pcb */
}

/* ---- the netif ---- */

static struct sfh_pkt *q_push(struct lwip_target *t)
{
	if (t->qhead == t->qlen)
		t->qhead = t->qlen = 0;
	if (t->qlen == t->qcap) {
		if (t->qcap >= LWIP_QMAX)
			return NULL;
		int cap = t->qcap ? t->qcap * 2 : 16;
		struct sfh_pkt *q = realloc(t->q, (size_t)cap * sizeof *q);
		if (!q)
			return NULL;
		t->q = q;
		t->qcap = cap;
	}
	return &t->q[t->qlen++];
}

/* Every IPv4 packet lwIP sends. Always ERR_OK: a full queue must not change lwIP's
 * behaviour; it is reported by drain() instead. */
static err_t netif_out(struct netif *nif, struct pbuf *p, const ip4_addr_t *dst)
{
	struct lwip_target *t = nif->state;
	(void)dst;
	struct sfh_pkt *slot = p->tot_len <= SFH_PKT_MAX ? q_push(t) : NULL;
	if (!slot) {
		t->qoverflow = 1;
		return ERR_OK;
	}
	slot->len = pbuf_copy_partial(p, slot->data, p->tot_len, 0);
	slot->at_us = sfh_lwip_case_ms() * 1000; /* virtual time: exact */
	return ERR_OK;
}

/* Every IPv6 packet: the same capture (no neighbour discovery on a netif without
 * ETHARP: lwIP hands packets for any destination straight to this function). */
static err_t netif_out6(struct netif *nif, struct pbuf *p, const ip6_addr_t *dst)
{
	(void)dst;
	return netif_out(nif, p, NULL);
}

static err_t netif_setup(struct netif *nif)
{
	nif->name[0] = 's';
	nif->name[1] = 'f';
	nif->output = netif_out;
	nif->output_ip6 = netif_out6;
	nif->mtu = 1500;
	nif->flags = 0; /* no ETHARP, no IGMP, no MLD: bare IPv4 both ways, no chatter */
	return ERR_OK;
}

/* ---- ops ---- */

static int lwip_probe(char *err, size_t errlen)
{
	(void)err, (void)errlen;
	return 0;
}

static const char *lwip_version(void)
{
	return "lwIP " LWIP_VERSION_STRING;
}

static int parse_args(struct lwip_target *t, const char *args, char *err, size_t errlen)
{
	if (!args || !*args)
		return 0;
	if (strcmp(args, "iss=own") == 0) {
		t->iss_own = 1;
		return 0;
	}
	if (strncmp(args, "iss=", 4) == 0) {
		char *end;
		unsigned long long v = strtoull(args + 4, &end, 0);
		if (end != args + 4 && !*end && v <= 0xffffffffull) {
			t->iss_fixed = 1;
			t->iss = (uint32_t)v;
			return 0;
		}
	}
	snprintf(err, errlen,
		 "lwip: unknown argument '%s' (known: iss=N, a fixed ISN; iss=own, lwIP's own)",
		 args);
	return -1;
}

static int lwip_open(const char *args, struct sfh_target **out, char *err, size_t errlen)
{
	*out = NULL;
	struct lwip_target *t = calloc(1, sizeof *t);
	if (!t) {
		snprintf(err, errlen, "lwip: out of memory");
		return -1;
	}
	t->base.ops = &sfh_target_lwip_ops;
	if (parse_args(t, args, err, errlen) != 0) {
		free(t);
		return -1;
	}
	if (sfh_lwip_claim(t) != 0) {
		snprintf(err, errlen,
			 "lwip: another lwip instance is open in this process (lwIP keeps its "
			 "state in globals: close the first one, or run a second process)");
		free(t);
		return -1;
	}
	t->pattern = malloc(LWIP_PATTERN + 26);
	if (!t->pattern) {
		snprintf(err, errlen, "lwip: out of memory");
		sfh_lwip_release(t);
		free(t);
		return -1;
	}
	for (size_t i = 0; i < LWIP_PATTERN + 26; i++)
		t->pattern[i] = (uint8_t)('a' + i % 26);
	ip4_addr_t ip, mask, gw;
	ip4_addr_set_u32(&ip, lwip_htonl(LWIP_TARGET_IP));
	ip4_addr_set_u32(&mask, lwip_htonl(LWIP_NETMASK));
	ip4_addr_set_u32(&gw, 0);
	if (!netif_add(&t->netif, &ip, &mask, &gw, t, netif_setup, ip4_input)) {
		snprintf(err, errlen, "lwip: netif_add failed");
		free(t->pattern);
		sfh_lwip_release(t);
		free(t);
		return -1;
	}
#if LWIP_IPV6
	/* The IPv6 address, valid at once (no duplicate address detection to wait for), and
	 * no router solicitations: nothing but TCP on the wire. */
	ip6_addr_t a6;
	memcpy(a6.addr, lwip_ip6, 16);
	ip6_addr_clear_zone(&a6);
	netif_ip6_addr_set(&t->netif, 0, &a6);
	netif_ip6_addr_set_state(&t->netif, 0, IP6_ADDR_PREFERRED);
#if LWIP_IPV6_SEND_ROUTER_SOLICIT
	t->netif.rs_count = 0;
#endif
#endif
	/* The default route too: a reply to any source address is captured, never lost. */
	netif_set_default(&t->netif);
	netif_set_link_up(&t->netif);
	netif_set_up(&t->netif);
	/* Every case starts from lwIP as it is now (target_lwip_sys.c says why). */
	if (sfh_lwip_fresh_take(err, errlen) != 0) {
		lwip_close(&t->base);
		return -1;
	}
	*out = &t->base;
	return 0;
}

/* Drop every pcb lwIP holds, of this case or any earlier one, without sending anything
 * (tcp_abandon(pcb, 0)). A pcb owing a delayed ACK emits it while being removed: the
 * caller clears the queue afterwards. */
static void drop_all_pcbs(void)
{
	while (tcp_active_pcbs)
		tcp_abandon(tcp_active_pcbs, 0);
	while (tcp_tw_pcbs)
		tcp_abandon(tcp_tw_pcbs, 0);
	while (tcp_listen_pcbs.listen_pcbs)
		tcp_close((struct tcp_pcb *)tcp_listen_pcbs.listen_pcbs);
	while (tcp_bound_pcbs)
		tcp_close(tcp_bound_pcbs);
}

/* A listener on the case's port; refused (0 returned, nothing created) if lwIP says no. */
static void open_listener(struct lwip_target *t)
{
	struct tcp_pcb *p = tcp_new_ip_type(t->ep.ipv6 ? IPADDR_TYPE_V6 : IPADDR_TYPE_V4);
	if (!p)
		return;
	tcp_arg(p, t);
	if (tcp_bind(p, t->ep.ipv6 ? IP_ANY_TYPE : IP4_ADDR_ANY, t->ep.target_port) != ERR_OK) {
		tcp_close(p);
		return;
	}
	err_t e;
	struct tcp_pcb *l = tcp_listen_with_backlog_and_err(p, TCP_DEFAULT_LISTEN_BACKLOG, &e);
	if (!l) {
		tcp_close(p); /* on failure the original pcb is still ours */
		return;
	}
	tcp_accept(l, on_accept);
}

static int lwip_reset(struct sfh_target *base, enum sfh_role role, uint32_t case_no,
		      struct sfh_endpoints *ep)
{
	struct lwip_target *t = (struct lwip_target *)base;
	drop_all_pcbs();
	t->qhead = t->qlen = 0;
	t->qoverflow = 0;
	conns_reset(t);
	t->role = role;
	memset(&t->ep, 0, sizeof t->ep);
	t->ep.target_ip = LWIP_TARGET_IP;
	t->ep.peer_ip = LWIP_PEER_IP;
	if (base->ipv6) {
		t->ep.ipv6 = 1;
		t->ep.target_ip = t->ep.peer_ip = 0;
		memcpy(t->ep.target_ip6, lwip_ip6, 16);
		memcpy(t->ep.peer_ip6, lwip_ip6, 16);
		t->ep.peer_ip6[15] = 2;
	}
	t->ep.target_port = (uint16_t)(10000 + case_no % 20000);
	t->ep.peer_port = (uint16_t)(40000 + case_no % 20000);
	sfh_lwip_iss_own(t->iss_own);
	sfh_lwip_case_start(t->iss_fixed    ? t->iss
			    : base->iss_set ? base->iss_want
					    : 0x5eed0000u ^ (case_no * 0x01000193u));
	if (role == SFH_ROLE_PASSIVE) {
		open_listener(t);
		if (!find_listener(t)) {
			snprintf(base->err, sizeof base->err, "lwip: cannot listen on port %u",
				 t->ep.target_port);
			return -1;
		}
	}
	*ep = t->ep;
	return 0;
}

static int lwip_inject(struct sfh_target *base, const uint8_t *ip, size_t len)
{
	struct lwip_target *t = (struct lwip_target *)base;
	if (len == 0 || len > 0xffff) {
		snprintf(base->err, sizeof base->err, "lwip: cannot inject a %zu-octet packet",
			 len);
		return -1;
	}
	base->clock_us = sfh_lwip_case_ms() * 1000;
	struct pbuf *p = pbuf_alloc(PBUF_RAW, (u16_t)len, PBUF_RAM);
	if (!p) {
		snprintf(base->err, sizeof base->err, "lwip: out of memory");
		return -1;
	}
	memcpy(p->payload, ip, len); /* PBUF_RAM: one contiguous buffer */
	ip_input(p, &t->netif);	     /* takes p, whatever it decides */
	settle(t);
	return 0;
}

/* SEND: copy up to n octets into lwIP's send queue, as much as tcp_sndbuf and its queue
 * length allow; halve a write lwIP refuses for queue length until it fits. */
static uint32_t do_send(struct lwip_target *t, struct tcp_pcb *c, uint32_t n, err_t *why)
{
	uint32_t done = 0;
	*why = ERR_OK;
	/* tcp_write_checks' first test, which even a write of nothing meets */
	if (c->state != ESTABLISHED && c->state != CLOSE_WAIT && c->state != SYN_SENT &&
	    c->state != SYN_RCVD) {
		*why = ERR_CONN;
		return 0;
	}
	while (done < n) {
		uint32_t len = n - done;
		if (len > tcp_sndbuf(c))
			len = tcp_sndbuf(c);
		if (len > 0xffff)
			len = 0xffff;
		if (len == 0) {
			*why = ERR_MEM; /* no send buffer left */
			break;
		}
		const uint8_t *src = t->pattern + (LC(t)->sent_total + done) % 26;
		err_t e;
		while ((e = tcp_write(c, src, (u16_t)len, TCP_WRITE_FLAG_COPY)) == ERR_MEM &&
		       len > 1)
			len /= 2;
		if (e != ERR_OK) {
			*why = e;
			break;
		}
		done += len;
	}
	if (done) {
		LC(t)->sent_total += done;
		tcp_output(c);
	}
	return done;
}

/* RECEIVE: hand the user up to n (0: all) of the octets already delivered, and open the
 * window by as much. A connection that is gone (reset) has flushed them. */
static uint32_t do_receive(struct lwip_target *t, struct tcp_pcb *c, int tw, uint32_t n)
{
	if (!c) {
		LC(t)->rcv_pending = 0;
		return 0;
	}
	if (n == 0 || n > LC(t)->rcv_pending)
		n = LC(t)->rcv_pending;
	LC(t)->rcv_pending -= n;
	for (uint32_t left = n; left && !tw;) {
		u16_t chunk = (u16_t)(left > 0xffff ? 0xffff : left);
		tcp_recved(c, chunk);
		left -= chunk;
	}
	return n;
}

/* OPEN, active: a pcb bound to the connection's port, connecting to the peer. ERR_OK, or
 * why not (tcp_bind: the port is in use). */
static err_t do_connect(struct lwip_target *t)
{
	struct tcp_pcb *p = tcp_new_ip_type(t->ep.ipv6 ? IPADDR_TYPE_V6 : IPADDR_TYPE_V4);
	if (!p)
		return ERR_MEM;
	adopt(t, p);
	LC(t)->have_conn = 1;
	ip_addr_t peer;
	ip_addr_set_ip4_u32_val(peer, lwip_htonl(t->ep.peer_ip));
#if LWIP_IPV6
	if (t->ep.ipv6) {
		ip_addr_t v6 = IPADDR6_INIT(0, 0, 0, 0);
		memcpy(ip_2_ip6(&v6)->addr, t->ep.peer_ip6, 16);
		ip6_addr_clear_zone(ip_2_ip6(&v6));
		peer = v6;
	}
#endif
	if (tcp_bind(p, t->ep.ipv6 ? IP_ANY_TYPE : IP4_ADDR_ANY, conn_lport(t, t->cur)) != ERR_OK ||
	    tcp_connect(p, &peer, conn_rport(t, t->cur), NULL) != ERR_OK) {
		tcp_abort(p); /* still CLOSED: freed silently, no segment */
		LC(t)->conn_err = 0;
		return ERR_USE;
	}
	LC(t)->active = 1;
	return ERR_OK;
}

/* The error the connection's death left, once (then `otherwise`). */
static int take_err(struct lwip_target *t, int otherwise)
{
	int e = LC(t)->conn_err ? LC(t)->conn_err : otherwise;
	LC(t)->conn_err = 0;
	return e;
}

/* The connection the runner's selector names (sfh_target.sel_port), or -1. */
static int selected(const struct lwip_target *t)
{
	for (int k = 0; k < SFH_MAX_CONNS; k++)
		if (t->base.conn_port[k] == t->base.sel_port)
			return k;
	return -1;
}

/* A call on the listener of a case with selectors: it opens, or it closes (tcp_close
 * for abort too: the raw API has no abort of a LISTEN pcb), and the connections it
 * spawned live on in lwIP: one still in SYN-RECEIVED is reset when its handshake
 * completes (no listener to hand it to). shutdown of a listener lwIP refuses. */
static int listener_call(struct lwip_target *t, enum sfo_call call)
{
	switch (call) {
	case SFO_CALL_LISTEN: /* tcp_bind refuses while a connection holds the port */
		if (!find_listener(t))
			open_listener(t);
		return find_listener(t) ? 0 : SFH_CALL_REFUSED;
	case SFO_CALL_CLOSE:
	case SFO_CALL_ABORT:
		close_listener(t);
		return 0;
	case SFO_CALL_SHUTDOWN:
		t->base.call_err = SFO_ERR_ENOTCONN;
		return SFH_CALL_REFUSED;
	case SFO_CALL_CONNECT:
	case SFO_CALL_ACCEPT:
	case SFO_CALL_SEND:
	case SFO_CALL_RECEIVE:
		break;
	}
	snprintf(t->base.err, sizeof t->base.err, "lwip: call %s on the listener",
		 sfo_call_name(call));
	return -1;
}

static int lwip_call(struct sfh_target *base, enum sfo_call call, uint32_t arg)
{
	struct lwip_target *t = (struct lwip_target *)base;
	if ((unsigned)call >= SFO_NCALLS) {
		snprintf(base->err, sizeof base->err, "lwip: unknown call %d", (int)call);
		return -1;
	}
	if (base->multi && base->sel_listener)
		return listener_call(t, call);
	if (base->multi && (t->cur = selected(t)) < 0) {
		snprintf(base->err, sizeof base->err, "lwip: no connection has peer port %u",
			 base->sel_port);
		return -1;
	}
	int tw;
	struct tcp_pcb *c = find_conn(t, &tw);
	int ret = 0;
	base->clock_us = sfh_lwip_case_ms() * 1000;
	if (base->multi) {
		/* an active OPEN from the listener's port: tcp_bind refuses it */
		if (call == SFO_CALL_CONNECT && find_listener(t) &&
		    conn_lport(t, t->cur) == t->ep.target_port) {
			base->call_err = SFO_ERR_EADDRINUSE; /* the listener's port */
			return SFH_CALL_REFUSED;
		}
		/* a connection in SYN-RECEIVED that is the listener's, not one the application
		 * connected and still holds (a SYN after the one before ended): the
		 * application holds none yet */
		if (c && c->state == SYN_RCVD &&
		    (c->listener || LC(t)->app_closed || !LC(t)->active)) {
			LC(t)->have_conn = LC(t)->app_closed = 0;
			LC(t)->fin_seen = 0; /* no end of stream on a connection it does not hold */
		}
	}
	/* lwIP hands a passive connection to the application only once it is established
	 * (the accept callback): before that the application holds just the listener, as a
	 * socket server blocked in accept() would. After tcp_close the pcb is lwIP's, and
	 * the raw API forbids touching it. A connection the application has no handle on
	 * cannot be shut, closed or aborted by it (RFC 9293 §3.9.1 allows a subset of the
	 * calls): those calls are refused, the listener is left alone (closing it would not
	 * be CLOSE of that connection: lwIP resets the orphaned embryo when its handshake
	 * completes). docs/targets.md has the table. */
	int unreachable = (c && !LC(t)->have_conn) || LC(t)->app_closed;
	int *res = &base->call_err;
	err_t why;
	if (c && !LC(t)->have_conn)
		c = NULL;
	if (unreachable &&
	    (call == SFO_CALL_SHUTDOWN || call == SFO_CALL_CLOSE || call == SFO_CALL_ABORT)) {
		*res = LC(t)->app_closed ? SFO_ERR_EBADF : SFO_ERR_ENOTCONN;
		return SFH_CALL_REFUSED;
	}
	switch (call) {
	case SFO_CALL_LISTEN: /* refused by tcp_bind if an embryonic pcb holds the port */
		if (!c && !find_listener(t)) {
			/* a new passive OPEN: the application holds only the listener again (an
			 * earlier connection, gone, must not make settle() close it at once) */
			LC(t)->have_conn = LC(t)->app_closed = 0;
			LC(t)->conn_err = LC(t)->fin_seen = 0;
			open_listener(t);
			if (!find_listener(t))
				*res = SFO_ERR_EADDRINUSE;
		} else if (c) {
			*res = SFO_ERR_EISCONN;
		}
		break;
	case SFO_CALL_CONNECT:
		if (!c && (base->multi || !find_listener(t))) {
			LC(t)->app_closed = 0;
			LC(t)->conn_err = LC(t)->fin_seen = 0;
			if (do_connect(t) != ERR_OK) {
				*res = SFO_ERR_EADDRINUSE; /* tcp_bind: the port is in use */
				if (base->multi)
					ret = SFH_CALL_REFUSED;
			}
		} else {
			*res = c && c->state == SYN_SENT ? SFO_ERR_EALREADY : SFO_ERR_EISCONN;
		}
		break;
	case SFO_CALL_ACCEPT:
		if (!LC(t)->have_conn)
			*res = SFO_ERR_EAGAIN; /* no connection established yet */
		break;
	case SFO_CALL_SEND:
		if (c && !tw) {
			ret = (int)do_send(t, c, arg > 0x7fffffff ? 0x7fffffff : arg, &why);
			if (ret == 0 && why != ERR_OK)
				*res = why == ERR_CONN ? SFO_ERR_ENOTCONN : SFO_ERR_ENOBUFS;
		} else {
			*res = take_err(t, SFO_ERR_ENOTCONN);
		}
		break;
	case SFO_CALL_RECEIVE:
		ret = (int)do_receive(t, c, tw, arg);
		if (ret == 0 && c && !tw && !LC(t)->fin_seen)
			*res = SFO_ERR_EAGAIN;
		else if (ret == 0 && !c && !LC(t)->fin_seen)
			*res = take_err(t, SFO_ERR_ENOTCONN);
		break;
	case SFO_CALL_SHUTDOWN: /* lwIP refuses it (ERR_CONN) in SYN-SENT: no effect */
		if (!c || tw || tcp_shutdown(c, 0, 1) != ERR_OK) {
			*res = c ? SFO_ERR_ENOTCONN : take_err(t, SFO_ERR_ENOTCONN);
			ret = SFH_CALL_REFUSED;
		}
		break;
	case SFO_CALL_CLOSE:
		if (c && !tw)
			tcp_close(c); /* TIME-WAIT: "error: connection closing", nothing to do */
		if (c)
			LC(t)->app_closed = 1;
		if (!base->multi)
			close_listener(t); /* with no connection: CLOSE in LISTEN */
		break;
	case SFO_CALL_ABORT:
		if (c)
			tcp_abort(c);
		if (c && base->multi)
			LC(t)->app_closed = 1; /* its handle is gone with it */
		if (!base->multi)
			close_listener(t);
		LC(t)->conn_err = 0; /* the application's own doing: nothing to tell it */
		break;
	}
	settle(t);
	return ret;
}

static int lwip_advance(struct sfh_target *base, uint32_t ms)
{
	struct lwip_target *t = (struct lwip_target *)base;
	base->clock_us = sfh_lwip_case_ms() * 1000; /* the step begins */
	sfh_lwip_advance(ms);
	settle(t);
	return 0;
}

static int lwip_drain(struct sfh_target *base, struct sfh_pkt *out, int max)
{
	struct lwip_target *t = (struct lwip_target *)base;
	if (t->qoverflow) {
		snprintf(base->err, sizeof base->err,
			 "lwip: more than %d packets emitted in one step (output queue full)",
			 LWIP_QMAX);
		return -1;
	}
	int n = 0;
	while (n < max && t->qhead < t->qlen) {
		const struct sfh_pkt *p = &t->q[t->qhead++];
		out[n].len = p->len;
		out[n].at_us = p->at_us;
		memcpy(out[n].data, p->data, p->len);
		n++;
	}
	return n;
}

static int lwip_state(struct sfh_target *base, enum sfo_state *st)
{
	struct lwip_target *t = (struct lwip_target *)base;
	int tw;
	if (base->multi && base->sel_listener) {
		*st = find_listener(t) ? SFO_LISTEN : SFO_CLOSED;
		return 0;
	}
	if (base->multi && (t->cur = selected(t)) < 0) {
		*st = SFO_CLOSED;
		return 0;
	}
	struct tcp_pcb *c = find_conn(t, &tw);
	if (c)
		*st = map_state(c->state);
	else
		*st = !base->multi && find_listener(t) ? SFO_LISTEN : SFO_CLOSED;
	return 0;
}

/* ---- recovery (target_lwip.h) ---- */

int sfh_lwip_target_is(const struct sfh_target *t)
{
	return t && t->ops == &sfh_target_lwip_ops;
}

int sfh_lwip_target_recoverable(struct sfh_target *base, char *err, size_t errlen)
{
	struct lwip_target *t = (struct lwip_target *)base;
	if (!sfh_lwip_target_is(base)) {
		snprintf(err, errlen, "not an lwip target");
		return -1;
	}
	drop_all_pcbs();
	t->qhead = t->qlen = 0;
	if (sfh_lwip_snapshot_take(err, errlen) != 0)
		return -1;
	t->netif_snap = t->netif;
	t->snapshot = 1;
	return 0;
}

int sfh_lwip_target_recover(struct sfh_target *base)
{
	struct lwip_target *t = (struct lwip_target *)base;
	if (!sfh_lwip_target_is(base) || !t->snapshot || sfh_lwip_snapshot_restore() != 0)
		return -1;
	t->netif = t->netif_snap;
	t->qhead = t->qlen = 0;
	t->qoverflow = 0;
	conns_reset(t);
	return 0;
}

static void lwip_close(struct sfh_target *base)
{
	struct lwip_target *t = (struct lwip_target *)base;
	sfh_lwip_fresh_drop();
	if (t->snapshot)
		sfh_lwip_snapshot_drop();
	drop_all_pcbs();
	netif_remove(&t->netif); /* also clears it as the default netif */
	sfh_lwip_release(t);
	free(t->q);
	free(t->pattern);
	free(t);
}

const struct sfh_target_ops sfh_target_lwip_ops = {
    .name = "lwip",
    .summary = "lwIP 2.1.3 (liblwip.so) in-process, raw API, virtual time",
    /* No SFH_CAP_TIMERS: lwIP's initial RTO also seeds its RTT variance, and with it every
     * later RTO, its give-up time and SYN-SENT's; one figure in the model cannot follow
     * that, so a `timers` line is refused rather than judged wrongly. */
    .caps = SFH_CAP_STATE | SFH_CAP_VTIME | SFH_CAP_PASSIVE | SFH_CAP_ACTIVE | SFH_CAP_INPROC |
	    SFH_CAP_EMIT_TIME | SFH_CAP_CALLRES | (LWIP_IPV6 ? SFH_CAP_IPV6 : 0) |
	    SFH_CAP_LISTENER | SFH_CAP_CONNS,
    .profile = "lwip",
    .probe = lwip_probe,
    .version = lwip_version,
    .open = lwip_open,
    .reset = lwip_reset,
    .inject = lwip_inject,
    .call = lwip_call,
    .advance = lwip_advance,
    .drain = lwip_drain,
    .state = lwip_state,
    .close = lwip_close,
};
