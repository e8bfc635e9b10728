/* bench_linux: scenarios per second of one handshake + data + close exchange through the
 * linux target (reset, call, inject, drain and state after every step, as the runner
 * drives it, segments built by sfh_wire_build), and through the whole runner (scenario,
 * model, oracle) when it is built; beside a raw loop doing the same exchange directly on
 * a TUN fd and sockets with hand-built packets and no synfin layer, in the same run; the
 * ratios; and how often 100 replays of an exchange give the same observations (emitted
 * segments relative to the ISNs, and states), for the fast exchange and for one where the
 * kernel delays its ACK of a FIN.
 *
 * The namespace, its TUN and its socket pool come from target_linux_ns.c in both loops:
 * set-up is outside what is timed, and a socket in the namespace costs the same either way.
 *
 * Usage: bench_linux [cases]   (default 20000; needs root)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <time.h>
#include <unistd.h>

#include "runner.h"
#include "scenario.h"
#include "target.h"
#include "target_linux_priv.h"
#include "wire.h"

#define PISN 1000u

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- the raw loop: a TUN fd, sockets, hand-built packets ---- */

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint32_t csum_add(uint32_t s, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i + 1 < n; i += 2)
		s += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (n & 1)
		s += (uint32_t)p[n - 1] << 8;
	return s;
}

static uint16_t csum_fold(uint32_t s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)(v >> 16));
	put16(p + 2, (uint16_t)v);
}

/* An IPv4/TCP packet from the peer: 20-byte headers (+ MSS on a SYN), len octets. */
static size_t raw_pkt(uint8_t *b, const struct sfh_endpoints *ep, uint8_t flags, uint32_t seq,
		      uint32_t ack, size_t len)
{
	size_t thl = (flags & 0x02) ? 24 : 20, tot = 20 + thl + len;
	memset(b, 0, tot);
	b[0] = 0x45;
	put16(b + 2, (uint16_t)tot);
	b[8] = 64;
	b[9] = IPPROTO_TCP;
	put32(b + 12, ep->peer_ip);
	put32(b + 16, ep->target_ip);
	put16(b + 10, csum_fold(csum_add(0, b, 20)));
	uint8_t *t = b + 20;
	put16(t, ep->peer_port);
	put16(t + 2, ep->target_port);
	put32(t + 4, seq);
	put32(t + 8, ack);
	t[12] = (uint8_t)((thl / 4) << 4);
	t[13] = flags;
	put16(t + 14, 65535);
	if (flags & 0x02) {
		t[20] = 2;
		t[21] = 4;
		put16(t + 22, 1460);
	}
	memset(t + thl, 'x', len);
	uint8_t ph[12];
	memcpy(ph, b + 12, 8);
	ph[8] = 0;
	ph[9] = IPPROTO_TCP;
	put16(ph + 10, (uint16_t)(thl + len));
	put16(t + 16, csum_fold(csum_add(csum_add(0, ph, 12), t, thl + len)));
	return tot;
}

/* Read the next packet; returns its TCP flags (and seq), -1 if none. */
static int raw_read(int tun, uint32_t *seq)
{
	uint8_t b[2048];
	ssize_t n = read(tun, b, sizeof b);
	if (n < 40)
		return -1;
	*seq = get32(b + 24);
	return b[33];
}

static int raw_exchange(struct sfh_linux_ns *ns, uint32_t k)
{
	struct sfh_endpoints ep = {.peer_ip = SFH_LINUX_PEER_IP,
				   .target_ip = SFH_LINUX_TARGET_IP,
				   .peer_port = (uint16_t)(40000 + k % 20000),
				   .target_port = (uint16_t)(20000 + k % 20000)};
	uint8_t b[256];
	uint32_t tisn = 0, seq = 0;
	int bad = 0;
	int l = sfh_linux_ns_socket(ns);
	struct sockaddr_in a = {.sin_family = AF_INET,
				.sin_port = htons(ep.target_port),
				.sin_addr.s_addr = htonl(ep.target_ip)};
	if (bind(l, (struct sockaddr *)&a, sizeof a) != 0 || listen(l, 8) != 0)
		return -1;
	bad |= write(ns->tunfd, b, raw_pkt(b, &ep, 0x02, PISN, 0, 0)) < 0;
	bad |= raw_read(ns->tunfd, &tisn) != 0x12;
	bad |= write(ns->tunfd, b, raw_pkt(b, &ep, 0x10, PISN + 1, tisn + 1, 0)) < 0;
	int c = accept4(l, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	close(l);
	bad |= write(ns->tunfd, b, raw_pkt(b, &ep, 0x18, PISN + 1, tisn + 1, 100)) < 0;
	bad |= raw_read(ns->tunfd, &seq) != 0x10;
	bad |= recv(c, b, sizeof b, MSG_DONTWAIT) != 100;
	close(c);
	bad |= (raw_read(ns->tunfd, &seq) & 1) == 0;
	bad |= write(ns->tunfd, b, raw_pkt(b, &ep, 0x11, PISN + 101, tisn + 2, 0)) < 0;
	bad |= raw_read(ns->tunfd, &seq) != 0x10;
	bad |= sfh_linux_diag_destroy(ns, &ep, NULL) != 0; /* the TIME-WAIT left behind */
	return bad ? -1 : 0;
}

static double raw_rate(struct sfh_linux_ns *ns, uint32_t n)
{
	double t0 = now_s();
	for (uint32_t i = 0; i < n; i++)
		if (raw_exchange(ns, i) != 0) {
			fprintf(stderr, "raw exchange %u failed\n", i);
			return 0;
		}
	return n / (now_s() - t0);
}

/* ---- through the target's vtable ---- */

struct obs {
	char text[1024]; /* every step: state, then each segment relative to the ISNs */
	size_t len;
	uint32_t tisn;
	struct sfh_endpoints ep;
	struct sfh_wire *w;
	struct sfh_target *t;
	int bad;
};

static void step_done(struct obs *o)
{
	struct sfh_pkt pk[8];
	int n;
	while ((n = sfh_target_drain(o->t, pk, 8)) > 0)
		for (int i = 0; i < n; i++) {
			struct sfh_endpoints ep;
			struct sfo_seg s;
			if (sfh_wire_parse(pk[i].data, pk[i].len, &ep, &s, NULL) != 0) {
				o->bad = 1;
				continue;
			}
			if (s.flags & SFO_SYN)
				o->tisn = s.seq;
			o->len += (size_t)snprintf(o->text + o->len, sizeof o->text - o->len,
						   " <%02x %u %u %u", s.flags, s.seq - o->tisn,
						   s.ack - PISN, s.len);
		}
	enum sfo_state st;
	if (n < 0 || sfh_target_state(o->t, &st) != 0)
		o->bad = 1;
	else
		o->len += (size_t)snprintf(o->text + o->len, sizeof o->text - o->len, " %s;",
					   sfo_state_name(st));
}

static void in(struct obs *o, uint8_t flags, uint32_t seq, uint32_t ack, uint32_t len)
{
	struct sfo_seg s = {.seq = seq, .ack = ack, .len = len, .wnd = 65535, .flags = flags};
	if (flags & SFO_SYN) {
		s.opts = SFO_OPT_MSS;
		s.mss = 1460;
	}
	uint8_t buf[SFH_PKT_MAX];
	int n = sfh_wire_build(o->w, &o->ep, &s, buf, sizeof buf);
	if (n < 0 || sfh_target_inject(o->t, buf, (size_t)n) != 0)
		o->bad = 1;
	step_done(o);
}

static void call(struct obs *o, enum sfo_call c, uint32_t arg)
{
	if (sfh_target_call(o->t, c, arg) == -1)
		o->bad = 1;
	step_done(o);
}

/* The exchange: passive open, 100 octets in, the target closes, the peer's FIN|ACK. With
 * peer_first the peer closes first instead, and the kernel delays the ACK of that FIN. */
static void target_exchange(struct obs *o, uint32_t k, int peer_first)
{
	o->len = 0;
	o->text[0] = 0;
	o->tisn = 0;
	if (sfh_target_reset(o->t, SFH_ROLE_PASSIVE, k, &o->ep) != 0) {
		o->bad = 1;
		return;
	}
	call(o, SFO_CALL_LISTEN, 0);
	in(o, SFO_SYN, PISN, 0, 0);
	in(o, SFO_ACK, PISN + 1, o->tisn + 1, 0);
	in(o, SFO_ACK | SFO_PSH, PISN + 1, o->tisn + 1, 100);
	call(o, SFO_CALL_RECEIVE, 0);
	if (peer_first) {
		in(o, SFO_FIN | SFO_ACK, PISN + 101, o->tisn + 1, 0);
		call(o, SFO_CALL_CLOSE, 0);
		in(o, SFO_ACK, PISN + 102, o->tisn + 2, 0);
		return;
	}
	call(o, SFO_CALL_CLOSE, 0);
	in(o, SFO_FIN | SFO_ACK, PISN + 101, o->tisn + 2, 0);
}

static double target_rate(struct obs *o, uint32_t n)
{
	double t0 = now_s();
	for (uint32_t i = 0; i < n && !o->bad; i++)
		target_exchange(o, i, 0);
	return o->bad ? 0 : n / (now_s() - t0);
}

/* Same exchange 100 times: how many give the first run's observations. */
static int replays_same(struct obs *o, int peer_first)
{
	char first[1024];
	int same = 0;
	target_exchange(o, 0, peer_first);
	snprintf(first, sizeof first, "%s", o->text);
	printf("  observed:%s\n", first);
	for (int i = 0; i < 100; i++) {
		target_exchange(o, (uint32_t)i + 1, peer_first);
		same += strcmp(first, o->text) == 0;
		if (strcmp(first, o->text) != 0)
			printf("  differs:%s\n", o->text);
	}
	return same;
}

/* ---- through the runner ---- */

static const char exchange_scn[] = "role passive\n"
				   "in S seq=pisn win=65535 mss=1460\n"
				   "in .\n"
				   "in P. len=100\n"
				   "call receive 0\n"
				   "call close\n"
				   "in F.\n";

static double runner_rate(struct sfh_target *t, uint32_t n)
{
	struct sfh_scenario *s = malloc(sizeof *s);
	struct sfh_result *res = malloc(sizeof *res);
	char err[256];
	struct sfh_runner *r = sfh_runner_new(err, sizeof err);
	double rate = 0;
	if (!s || !res || !r ||
	    sfh_scn_parse(exchange_scn, strlen(exchange_scn), "bench", s, err, sizeof err) != 0) {
		fprintf(stderr, "runner: %s\n", r ? err : "out of memory");
		goto exit;
	}
	struct sfh_run_opts o = {.profile = sfo_profile_find("linux")};
	double t0 = now_s();
	for (uint32_t i = 0; i < n; i++) {
		o.case_no = i;
		if (sfh_run(r, t, s, &o, res) != 0 || res->verdict.kind != SFO_DIV_OK) {
			fprintf(stderr, "runner case %u: %s %s\n", i, res->err,
				res->verdict.detail);
			goto exit;
		}
	}
	rate = n / (now_s() - t0);
exit:
	sfh_runner_free(r);
	free(res);
	free(s);
	return rate;
}

int main(int argc, char **argv)
{
	uint32_t n = argc > 1 ? (uint32_t)strtoul(argv[1], NULL, 10) : 20000;
	char err[256];
	struct sfh_linux_ns ns = {.quickack = 0}; /* the raw loop: the route as deployed */
	struct obs o = {.bad = 0};
	if (sfh_target_open("linux", &o.t, err, sizeof err) != 0 ||
	    sfh_linux_ns_open(&ns, err, sizeof err) != 0) {
		fprintf(stderr, "bench_linux: %s\n", err);
		return 1;
	}
	o.w = sfh_wire_new(err, sizeof err);
	if (!o.w)
		return 1;
	printf("bench_linux: %s, %u cases per loop, best of 2 rounds\n", o.t->ops->version(), n);
	double raw = 0, tgt = 0, run = 0;
	for (int round = 0; round < 2; round++) {
		double r1 = raw_rate(&ns, n), r2 = target_rate(&o, n), r3 = runner_rate(o.t, n);
		raw = r1 > raw ? r1 : raw;
		tgt = r2 > tgt ? r2 : tgt;
		run = r3 > run ? r3 : run;
	}
	printf("raw loop (TUN fd + sockets):  %8.0f exchanges/s\n", raw);
	printf("linux target (vtable):        %8.0f scenarios/s  %5.1f %% of raw\n", tgt,
	       100 * tgt / raw);
	printf("synfin runner + model:        %8.0f scenarios/s  %5.1f %% of raw\n", run,
	       100 * run / raw);
	printf("replays, target closes first:\n");
	int same1 = replays_same(&o, 0);
	printf("  %d of 100 the same\n", same1);
	printf("replays, peer closes first (delayed ACK of its FIN):\n");
	int same2 = replays_same(&o, 1);
	printf("  %d of 100 the same\n", same2);
	sfh_wire_free(o.w);
	sfh_target_close(o.t);
	sfh_linux_ns_close(&ns);
	return o.bad ? 1 : 0;
}
