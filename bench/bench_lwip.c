/* bench_lwip: cases per second of one handshake + FIN close exchange through the lwip
 * target (reset, inject, call, drain, state, as the runner drives it, with segments built
 * by sfh_wire_build), beside a raw loop doing the same exchange directly on lwIP with
 * hand-built packets and no synfin layer; their ratio; and the process's RSS before and
 * after a million cases through the target (the reset must not leak).
 *
 * Usage: bench_lwip [cases]   (default 1000000)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lwip/ip4.h"
#include "lwip/netif.h"
#include "lwip/pbuf.h"
#include "lwip/priv/tcp_priv.h"
#include "lwip/tcp.h"
#include "target.h"
#include "target_lwip.h"
#include "wire.h"

#define PISN 1000u

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static long rss_kib(void)
{
	long pages = 0, resident = 0;
	FILE *f = fopen("/proc/self/statm", "r");
	if (!f)
		return -1;
	if (fscanf(f, "%ld %ld", &pages, &resident) != 2)
		resident = -1;
	fclose(f);
	return resident < 0 ? -1 : resident * (sysconf(_SC_PAGESIZE) / 1024);
}

/* ---- the raw loop: lwIP alone ---- */

struct raw {
	struct netif nif;
	uint32_t tisn; /* seq of the last SYN-ACK seen */
	uint32_t nout;
	uint16_t lport, rport;
};

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static err_t raw_out(struct netif *n, struct pbuf *p, const ip4_addr_t *d)
{
	struct raw *r = n->state;
	uint8_t h[40];
	(void)d;
	r->nout++;
	if (pbuf_copy_partial(p, h, sizeof h, 0) == sizeof h && (h[33] & 0x12) == 0x12)
		r->tisn = get32(h + 24);
	return ERR_OK;
}

static err_t raw_netif_init(struct netif *n)
{
	n->output = raw_out;
	n->mtu = 1500;
	return ERR_OK;
}

static uint16_t csum_fold(uint32_t s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

static uint32_t csum_add(uint32_t s, const uint8_t *b, size_t n)
{
	for (size_t i = 0; i + 1 < n; i += 2)
		s += (uint32_t)(b[i] << 8 | b[i + 1]);
	return s;
}

/* An IPv4/TCP packet from 192.0.2.2 to 192.0.2.1, checksums and all, by hand. */
static size_t raw_packet(uint8_t *b, uint16_t sport, uint16_t dport, uint32_t seq, uint32_t ack,
			 uint8_t flags)
{
	size_t tcplen = (flags & 0x02) ? 24 : 20, len = 20 + tcplen;
	memset(b, 0, len);
	b[0] = 0x45, b[2] = (uint8_t)(len >> 8), b[3] = (uint8_t)len, b[6] = 0x40, b[8] = 64;
	b[9] = 6;
	b[12] = 192, b[13] = 0, b[14] = 2, b[15] = 2, b[16] = 192, b[17] = 0, b[18] = 2, b[19] = 1;
	uint16_t ic = csum_fold(csum_add(0, b, 20));
	b[10] = (uint8_t)(ic >> 8), b[11] = (uint8_t)ic;
	uint8_t *t = b + 20;
	t[0] = (uint8_t)(sport >> 8), t[1] = (uint8_t)sport, t[2] = (uint8_t)(dport >> 8);
	t[3] = (uint8_t)dport;
	for (int i = 0; i < 4; i++) {
		t[4 + i] = (uint8_t)(seq >> (24 - 8 * i));
		t[8 + i] = (uint8_t)(ack >> (24 - 8 * i));
	}
	t[12] = (uint8_t)((tcplen / 4) << 4), t[13] = flags, t[14] = 0xff, t[15] = 0xff;
	if (flags & 0x02)
		t[20] = 2, t[21] = 4, t[22] = 0x05, t[23] = 0xb4; /* MSS 1460 */
	uint32_t s = csum_add(0, b + 12, 8) + 6 + (uint32_t)tcplen;
	uint16_t tc = csum_fold(csum_add(s, t, tcplen));
	t[16] = (uint8_t)(tc >> 8), t[17] = (uint8_t)tc;
	return len;
}

static void raw_inject(struct raw *r, const uint8_t *b, size_t len)
{
	struct pbuf *p = pbuf_alloc(PBUF_RAW, (u16_t)len, PBUF_RAM);
	if (!p)
		abort();
	memcpy(p->payload, b, len);
	ip4_input(p, &r->nif);
}

static struct tcp_pcb *raw_find(const struct raw *r, int *st)
{
	for (struct tcp_pcb *p = tcp_active_pcbs; p; p = p->next)
		if (p->local_port == r->lport && p->remote_port == r->rport) {
			*st = p->state;
			return p;
		}
	for (struct tcp_pcb *p = tcp_tw_pcbs; p; p = p->next)
		if (p->local_port == r->lport && p->remote_port == r->rport) {
			*st = p->state;
			return p;
		}
	*st = CLOSED;
	return NULL;
}

static err_t raw_recv(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t err)
{
	(void)arg, (void)pcb, (void)err;
	if (p)
		pbuf_free(p);
	return ERR_OK;
}

static err_t raw_accept(void *arg, struct tcp_pcb *pcb, err_t err)
{
	struct tcp_pcb **listener = arg;
	(void)err;
	tcp_recv(pcb, raw_recv);
	tcp_close(*listener); /* one TCB per case, like the target */
	*listener = NULL;
	return ERR_OK;
}

/* Returns the number of cases that ended in TIME-WAIT as they should. */
static uint32_t raw_loop(uint32_t cases)
{
	struct raw r;
	memset(&r, 0, sizeof r);
	ip4_addr_t ip, mask, gw;
	IP4_ADDR(&ip, 192, 0, 2, 1);
	IP4_ADDR(&mask, 255, 255, 255, 0);
	IP4_ADDR(&gw, 0, 0, 0, 0);
	netif_add(&r.nif, &ip, &mask, &gw, &r, raw_netif_init, ip4_input);
	netif_set_link_up(&r.nif);
	netif_set_up(&r.nif);
	uint8_t b[64];
	uint32_t ok = 0;
	for (uint32_t i = 0; i < cases; i++) {
		while (tcp_active_pcbs)
			tcp_abandon(tcp_active_pcbs, 0);
		while (tcp_tw_pcbs)
			tcp_abandon(tcp_tw_pcbs, 0);
		r.lport = (uint16_t)(10000 + i % 20000), r.rport = (uint16_t)(40000 + i % 20000);
		struct tcp_pcb *l = tcp_new_ip_type(IPADDR_TYPE_V4);
		tcp_bind(l, IP4_ADDR_ANY, r.lport);
		l = tcp_listen(l);
		tcp_arg(l, &l);
		tcp_accept(l, raw_accept);
		int st;
		raw_inject(&r, b, raw_packet(b, r.rport, r.lport, PISN, 0, 0x02));
		raw_find(&r, &st);
		raw_inject(&r, b, raw_packet(b, r.rport, r.lport, PISN + 1, r.tisn + 1, 0x10));
		struct tcp_pcb *c = raw_find(&r, &st);
		if (!c)
			continue;
		tcp_close(c);
		raw_find(&r, &st);
		raw_inject(&r, b, raw_packet(b, r.rport, r.lport, PISN + 1, r.tisn + 2, 0x10));
		raw_find(&r, &st);
		raw_inject(&r, b, raw_packet(b, r.rport, r.lport, PISN + 1, r.tisn + 2, 0x11));
		raw_find(&r, &st);
		ok += st == TIME_WAIT;
	}
	while (tcp_tw_pcbs)
		tcp_abandon(tcp_tw_pcbs, 0);
	netif_remove(&r.nif);
	return ok;
}

/* ---- the same exchange through the target ---- */

struct tgt {
	struct sfh_target *t;
	struct sfh_wire *w;
	struct sfh_endpoints ep;
	uint32_t tisn;
	int hand_built; /* 1: packets from raw_packet(), to price sfh_wire_build apart */
};

static int drain_learn(struct tgt *g)
{
	struct sfh_pkt pk[8];
	int n, total = 0;
	while ((n = sfh_target_drain(g->t, pk, 8)) > 0) {
		for (int i = 0; i < n; i++) {
			struct sfo_seg s;
			struct sfh_endpoints ep;
			if (sfh_wire_parse(pk[i].data, pk[i].len, &ep, &s, NULL) == 0 &&
			    (s.flags & SFO_SYN))
				g->tisn = s.seq;
		}
		total += n;
	}
	return n < 0 ? -1 : total;
}

static void tgt_in(struct tgt *g, uint8_t flags, uint32_t seq, uint32_t ack)
{
	struct sfo_seg s = {.seq = seq, .ack = ack, .wnd = 65535, .flags = flags};
	if (flags & SFO_SYN) {
		s.opts = SFO_OPT_MSS;
		s.mss = 1460;
	}
	uint8_t buf[SFH_PKT_MAX];
	int n = g->hand_built
		    ? (int)raw_packet(buf, g->ep.peer_port, g->ep.target_port, seq, ack, flags)
		    : sfh_wire_build(g->w, &g->ep, &s, buf, sizeof buf);
	if (n < 0 || sfh_target_inject(g->t, buf, (size_t)n) != 0)
		abort();
	drain_learn(g);
}

static uint32_t target_loop(struct tgt *g, uint32_t first, uint32_t cases)
{
	uint32_t ok = 0;
	enum sfo_state st;
	for (uint32_t i = first; i < first + cases; i++) {
		if (sfh_target_reset(g->t, SFH_ROLE_PASSIVE, i, &g->ep) != 0)
			abort();
		tgt_in(g, SFO_SYN, PISN, 0);
		sfh_target_state(g->t, &st);
		tgt_in(g, SFO_ACK, PISN + 1, g->tisn + 1);
		sfh_target_state(g->t, &st);
		sfh_target_call(g->t, SFO_CALL_CLOSE, 0);
		drain_learn(g);
		sfh_target_state(g->t, &st);
		tgt_in(g, SFO_ACK, PISN + 1, g->tisn + 2);
		sfh_target_state(g->t, &st);
		tgt_in(g, SFO_FIN | SFO_ACK, PISN + 1, g->tisn + 2);
		sfh_target_state(g->t, &st);
		ok += st == SFO_TIME_WAIT;
	}
	return ok;
}

int main(int argc, char **argv)
{
	uint32_t cases = argc > 1 ? (uint32_t)strtoul(argv[1], NULL, 10) : 1000000u;
	char err[256];
	static const int raw_owner = 0;

	if (sfh_lwip_claim(&raw_owner) != 0) {
		fprintf(stderr, "bench_lwip: lwIP is busy\n");
		return 1;
	}
	double t0 = now_s();
	uint32_t raw_ok = raw_loop(cases);
	double raw_s = now_s() - t0;
	sfh_lwip_release(&raw_owner);

	struct tgt g;
	memset(&g, 0, sizeof g);
	g.w = sfh_wire_new(err, sizeof err);
	if (!g.w || sfh_target_open("lwip", &g.t, err, sizeof err) != 0) {
		fprintf(stderr, "bench_lwip: %s\n", err);
		return 1;
	}
	target_loop(&g, 0, 10000); /* warm up: the queue and libnet reach their size */
	long rss0 = rss_kib();
	t0 = now_s();
	uint32_t tgt_ok = target_loop(&g, 10000, cases);
	double tgt_s = now_s() - t0;
	long rss1 = rss_kib();
	g.hand_built = 1;
	uint32_t short_run = cases < 200000 ? cases : 200000;
	t0 = now_s();
	uint32_t hand_ok = target_loop(&g, 0, short_run);
	double hand_s = now_s() - t0;
	sfh_target_close(g.t);
	sfh_wire_free(g.w);

	double raw_rate = cases / raw_s, tgt_rate = cases / tgt_s;
	printf("lwip bench: %u cases of handshake + FIN close (4 segments in, 3 out, state read "
	       "after each step)\n",
	       cases);
	printf("  raw lwIP loop:  %10.0f cases/s  (%u/%u ended in TIME-WAIT)\n", raw_rate, raw_ok,
	       cases);
	printf("  lwip target:    %10.0f cases/s  (%u/%u ended in TIME-WAIT)\n", tgt_rate, tgt_ok,
	       cases);
	printf("  ratio target/raw: %.2f\n", tgt_rate / raw_rate);
	printf("  lwip target, hand-built packets instead of sfh_wire_build: %.0f cases/s "
	       "(%u/%u; ratio %.2f)\n",
	       short_run / hand_s, hand_ok, short_run, short_run / hand_s / raw_rate);
	printf("  RSS: %ld KiB before, %ld KiB after %u cases through the target\n", rss0, rss1,
	       cases);
	return raw_ok == cases && tgt_ok == cases && hand_ok == short_run ? 0 : 1;
}
