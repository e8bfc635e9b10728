/* bench_slirp: cases/s of one handshake + close on the slirp target, beside raw loops that
 * do the same directly on libslirp in the same run, and the process's RSS before/after.
 *
 *   bench_slirp [cases]        (default 1,000,000)
 *
 * A case: SYN in, SYN-ACK out; ACK in; FIN in, ACK out; CLOSE, FIN out; last ACK in;
 * state read after every step. Rows:
 *   target      through the vtable (fresh slirp instance per case, as the target does)
 *   runner      through sfh_run with the model judging every step
 *   raw-fresh   libslirp directly, fresh instance per case (the target's policy)
 *   raw-reuse   libslirp directly, one instance, a new guest port per case (upper bound)
 *   sock        the target with "slirp:passive=sock" (host sockets on 127.0.0.1)
 *   active      the target in the active role (hostfwd: always host sockets)
 */
#include <arpa/inet.h>
#include <dlfcn.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libslirp.h>

#include "runner.h"
#include "scenario.h"
#include "target.h"
#include "wire.h"

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static long rss_kb(void)
{
	long pages = 0, res = 0;
	FILE *f = fopen("/proc/self/statm", "r");
	if (f) {
		if (fscanf(f, "%ld %ld", &pages, &res) != 2)
			res = 0;
		fclose(f);
	}
	return res * 4;
}

/* ---- through the target ---- */

struct tb {
	struct sfh_target *t;
	struct sfh_wire *w;
	struct sfh_endpoints ep;
	struct sfh_pkt pk[16];
	uint32_t tisn;
};

static int tb_in(struct tb *b, uint8_t flags, uint32_t seq, uint32_t ack)
{
	struct sfo_seg s = {.seq = seq, .ack = ack, .flags = flags, .wnd = 64240};
	uint8_t buf[128];
	enum sfo_state st;
	int n = sfh_wire_build(b->w, &b->ep, &s, buf, sizeof buf);
	if (n < 0 || sfh_target_inject(b->t, buf, (size_t)n) != 0)
		return -1;
	n = sfh_target_drain(b->t, b->pk, 16);
	if (n > 0 && (b->pk[0].data[33] & SFO_SYN)) /* the target's SYN: learn its ISN */
		b->tisn = (uint32_t)b->pk[0].data[24] << 24 | (uint32_t)b->pk[0].data[25] << 16 |
			  (uint32_t)b->pk[0].data[26] << 8 | b->pk[0].data[27];
	return n < 0 ? -1 : sfh_target_state(b->t, &st);
}

static int target_case(struct tb *b, uint32_t i)
{
	enum sfo_state st;
	uint32_t p = 0x9e3779b9u * (i + 1);
	if (sfh_target_reset(b->t, SFH_ROLE_PASSIVE, i, &b->ep) != 0 ||
	    sfh_target_call(b->t, SFO_CALL_LISTEN, 0) != 0 || tb_in(b, SFO_SYN, p, 0) != 0 ||
	    tb_in(b, SFO_ACK, p + 1, b->tisn + 1) != 0 ||
	    tb_in(b, SFO_FIN | SFO_ACK, p + 1, b->tisn + 1) != 0 ||
	    sfh_target_call(b->t, SFO_CALL_CLOSE, 0) != 0 ||
	    sfh_target_drain(b->t, b->pk, 16) != 1 || sfh_target_state(b->t, &st) != 0 ||
	    tb_in(b, SFO_ACK, p + 2, b->tisn + 2) != 0 || sfh_target_state(b->t, &st) != 0)
		return -1;
	return st == SFO_CLOSED ? 0 : -1;
}

/* The active role: CONNECT, SYN out; SYN-ACK in, ACK out; FIN in; CLOSE, FIN out; ACK. */
static int active_case(struct tb *b, uint32_t i)
{
	enum sfo_state st;
	uint32_t p = 0x9e3779b9u * (i + 1);
	if (sfh_target_reset(b->t, SFH_ROLE_ACTIVE, i, &b->ep) != 0 ||
	    sfh_target_call(b->t, SFO_CALL_CONNECT, 0) != 0 ||
	    sfh_target_drain(b->t, b->pk, 16) != 1)
		return -1;
	b->tisn = (uint32_t)b->pk[0].data[24] << 24 | (uint32_t)b->pk[0].data[25] << 16 |
		  (uint32_t)b->pk[0].data[26] << 8 | b->pk[0].data[27];
	/* the target's port is known from its SYN only (as the runner learns it) */
	b->ep.target_port = (uint16_t)(b->pk[0].data[20] << 8 | b->pk[0].data[21]);
	if (tb_in(b, SFO_SYN | SFO_ACK, p, b->tisn + 1) != 0 ||
	    tb_in(b, SFO_FIN | SFO_ACK, p + 1, b->tisn + 1) != 0 ||
	    sfh_target_call(b->t, SFO_CALL_CLOSE, 0) != 0 ||
	    sfh_target_drain(b->t, b->pk, 16) != 1 || tb_in(b, SFO_ACK, p + 2, b->tisn + 2) != 0 ||
	    sfh_target_state(b->t, &st) != 0)
		return -1;
	return st == SFO_CLOSED ? 0 : -1;
}

static double bench_target(uint32_t n, const char *spec, enum sfh_role role)
{
	char err[256];
	struct tb b = {0};
	double t0, dt = -1;
	if (sfh_target_open(spec, &b.t, err, sizeof err) != 0 ||
	    !(b.w = sfh_wire_new(err, sizeof err))) {
		fprintf(stderr, "bench_slirp: %s\n", err);
		goto exit;
	}
	t0 = now_s();
	for (uint32_t i = 0; i < n; i++)
		if ((role == SFH_ROLE_PASSIVE ? target_case(&b, i) : active_case(&b, i)) != 0) {
			fprintf(stderr, "bench_slirp: %s case %u failed: %s\n", spec, i, b.t->err);
			goto exit;
		}
	dt = now_s() - t0;
exit:
	sfh_wire_free(b.w);
	sfh_target_close(b.t);
	return dt;
}

/* ---- through the runner ---- */

static const char scn_text[] = "role passive\n"
			       "in S seq=pisn win=64240 mss=1460\n"
			       "in . ack=tnxt\n"
			       "in F. ack=tnxt\n"
			       "call close\n"
			       "in . ack=tnxt\n";

static double bench_runner(uint32_t n, uint32_t *diverged)
{
	char err[256];
	struct sfh_scenario scn;
	struct sfh_target *t = NULL;
	struct sfh_runner *r = NULL;
	struct sfh_result res;
	double t0, dt = -1;
	*diverged = 0;
	if (sfh_scn_parse(scn_text, sizeof scn_text - 1, "bench", &scn, err, sizeof err) != 0 ||
	    sfh_target_open("slirp", &t, err, sizeof err) != 0 ||
	    !(r = sfh_runner_new(err, sizeof err))) {
		fprintf(stderr, "bench_slirp: %s\n", err);
		goto exit;
	}
	t0 = now_s();
	for (uint32_t i = 0; i < n; i++) {
		struct sfh_run_opts o = {.profile = sfo_profile_find("slirp"), .case_no = i};
		if (sfh_run(r, t, &scn, &o, &res) != 0) {
			fprintf(stderr, "bench_slirp: runner case %u: %s\n", i, res.err);
			goto exit;
		}
		*diverged += res.verdict.kind != SFO_DIV_OK;
	}
	dt = now_s() - t0;
exit:
	sfh_runner_free(r);
	sfh_target_close(t);
	return dt;
}

/* ---- raw libslirp ---- */

struct raw {
	Slirp *slirp;
	int64_t now_ns;
	uint32_t tisn;
	int nout;
	uint8_t frame[128];
};

static ssize_t raw_send(const void *buf, size_t len, void *opaque)
{
	struct raw *r = opaque;
	const uint8_t *f = buf;
	if (len >= 54 && f[12] == 8 && f[13] == 0 && f[23] == 6) {
		r->nout++;
		if (f[47] & 0x02) /* SYN */
			r->tisn = (uint32_t)f[38] << 24 | (uint32_t)f[39] << 16 |
				  (uint32_t)f[40] << 8 | f[41];
	}
	return (ssize_t)len;
}

static int64_t raw_clock(void *opaque)
{
	return ((struct raw *)opaque)->now_ns;
}

static void raw_nop_fd(int fd, void *opaque)
{
	(void)fd, (void)opaque;
}

static void raw_nop(void *opaque)
{
	(void)opaque;
}

static ssize_t raw_write(const void *buf, size_t len, void *opaque)
{
	(void)buf, (void)opaque;
	return (ssize_t)len;
}

/* The raw loops silence slirp's g_log as the target does (its close path logs a
 * g_critical per case; printing it would dominate the loop). */
static void raw_glog(const char *domain, int level, const char *msg, void *user)
{
	(void)domain, (void)level, (void)msg, (void)user;
}

static void raw_quiet(void)
{
	typedef unsigned (*set_fn)(const char *, int,
				   void (*)(const char *, int, const char *, void *), void *);
	set_fn set = (set_fn)dlsym(RTLD_DEFAULT, "g_log_set_handler");
	if (set)
		set("Slirp", ~0, raw_glog, NULL);
}

static const SlirpCb raw_cb = {.send_packet = raw_send,
			       .clock_get_ns = raw_clock,
			       .register_poll_fd = raw_nop_fd,
			       .unregister_poll_fd = raw_nop_fd,
			       .notify = raw_nop};

static uint16_t csum(const uint8_t *p, size_t n, uint32_t s)
{
	for (size_t i = 0; i + 1 < n; i += 2)
		s += (uint32_t)(p[i] << 8 | p[i + 1]);
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

/* An Ethernet frame with a 20-octet TCP header from 10.0.2.15:sport to 10.0.2.100:5000. */
static void raw_in(struct raw *r, uint16_t sport, uint8_t flags, uint32_t seq, uint32_t ack)
{
	uint8_t *f = r->frame, *ip = f + 14, *th = f + 34;
	memset(f, 0, 54);
	memcpy(f, "\x52\x55\x0a\x00\x02\x02\x52\x54\x00\x12\x34\x56\x08\x00", 14);
	memcpy(ip,
	       "\x45\x00\x00\x28\x00\x00\x40\x00\x40\x06\x00\x00\x0a\x00\x02\x0f"
	       "\x0a\x00\x02\x64",
	       20);
	uint16_t c = csum(ip, 20, 0);
	ip[10] = (uint8_t)(c >> 8), ip[11] = (uint8_t)c;
	uint32_t v[2] = {htonl(seq), htonl(ack)};
	th[0] = (uint8_t)(sport >> 8), th[1] = (uint8_t)sport, th[2] = 0x13, th[3] = 0x88;
	memcpy(th + 4, v, 8);
	th[12] = 0x50, th[13] = flags, th[14] = 0xfa, th[15] = 0xf0;
	uint32_t ph = 0x0a00 + 0x020f + 0x0a00 + 0x0264 + 6 + 20;
	c = csum(th, 20, ph);
	th[16] = (uint8_t)(c >> 8), th[17] = (uint8_t)c;
	slirp_input(r->slirp, f, 54);
}

static Slirp *raw_new(struct raw *r)
{
	SlirpConfig cfg = {.version = 4,
			   .restricted = 1,
			   .in_enabled = true,
			   .disable_dns = true,
			   .disable_dhcp = true};
	struct in_addr ga = {htonl(0x0a000264)};
	static const uint8_t arp[42] = {
	    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x52, 0x54, 0x00, 0x12, 0x34, 0x56, 0x08, 0x06,
	    0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x01, 0x52, 0x54, 0x00, 0x12, 0x34, 0x56,
	    0x0a, 0x00, 0x02, 0x0f, 0,	  0,	0,    0,    0,	  0,	0x0a, 0x00, 0x02, 0x02};
	cfg.vnetwork.s_addr = htonl(0x0a000200);
	cfg.vnetmask.s_addr = htonl(0xffffff00);
	cfg.vhost.s_addr = htonl(0x0a000202);
	cfg.vdhcp_start.s_addr = htonl(0x0a00020f);
	cfg.vnameserver.s_addr = htonl(0x0a000203);
	r->now_ns = 1000000;
	r->slirp = slirp_new(&cfg, &raw_cb, r);
	if (r->slirp) {
		slirp_input(r->slirp, arp, sizeof arp);
		slirp_add_guestfwd(r->slirp, raw_write, r, &ga, 5000);
	}
	return r->slirp;
}

static int raw_case(struct raw *r, uint16_t sport, uint32_t p)
{
	struct in_addr ga = {htonl(0x0a000264)};
	uint8_t big[1] = {0};
	r->nout = 0;
	raw_in(r, sport, 0x02, p, 0);
	raw_in(r, sport, 0x10, p + 1, r->tisn + 1);
	raw_in(r, sport, 0x11, p + 1, r->tisn + 1);
	slirp_socket_recv(r->slirp, ga, 5000, big, 0x7fffffff); /* close, as the target */
	raw_in(r, sport, 0x10, p + 2, r->tisn + 2);
	return r->nout == 3 ? 0 : -1;
}

static double bench_raw(uint32_t n, int fresh)
{
	struct raw r = {0};
	double t0 = now_s();
	if (!fresh && !raw_new(&r))
		return -1;
	for (uint32_t i = 0; i < n; i++) {
		if (fresh && !raw_new(&r))
			return -1;
		if (raw_case(&r, (uint16_t)(1024 + i % 60000), 0x9e3779b9u * (i + 1)) != 0) {
			fprintf(stderr, "bench_slirp: raw case %u failed\n", i);
			return -1;
		}
		if (fresh)
			slirp_cleanup(r.slirp);
	}
	if (!fresh)
		slirp_cleanup(r.slirp);
	return now_s() - t0;
}

static void row(const char *name, uint32_t n, double dt, double ref, long rss0, long rss1)
{
	if (dt <= 0) {
		printf("%-10s failed\n", name);
		return;
	}
	printf("%-10s %9u cases %7.2f s %9.0f cases/s", name, n, dt, n / dt);
	if (ref > 0)
		printf("  %5.1f%% of raw-fresh", 100.0 * ref / dt);
	printf("  RSS %ld -> %ld kB\n", rss0, rss1);
}

int main(int argc, char **argv)
{
	uint32_t n = argc > 1 ? (uint32_t)strtoul(argv[1], NULL, 10) : 1000000;
	uint32_t nr = n / 10 ? n / 10 : 1, diverged = 0;
	/* the same heap policy as the target (harness/targets/slirp/target_slirp.c, sl_open) */
	mallopt(M_MMAP_THRESHOLD, 4 << 20);
	mallopt(M_TRIM_THRESHOLD, 64 << 20);
	mallopt(M_TOP_PAD, 16 << 20);
	raw_quiet();
	long r0 = rss_kb();
	double raw = bench_raw(n, 1);
	long r1 = rss_kb();
	double reuse = bench_raw(n, 0);
	long r2 = rss_kb();
	double tgt = bench_target(n, "slirp", SFH_ROLE_PASSIVE);
	long r3 = rss_kb();
	double run = bench_runner(nr, &diverged);
	long r4 = rss_kb();
	uint32_t ns = n / 50 ? n / 50 : 1;
	double sock = bench_target(ns, "slirp:passive=sock", SFH_ROLE_PASSIVE);
	double act = bench_target(ns, "slirp", SFH_ROLE_ACTIVE);
	long r5 = rss_kb();
	printf("slirp handshake+close (libslirp %s)\n", slirp_version_string());
	row("raw-fresh", n, raw, 0, r0, r1);
	row("raw-reuse", n, reuse, 0, r1, r2);
	row("target", n, tgt, raw, r2, r3);
	row("runner", nr, run, raw > 0 ? raw * nr / n : 0, r3, r4);
	row("sock", ns, sock, raw > 0 ? raw * ns / n : 0, r4, r5);
	row("active", ns, act, raw > 0 ? raw * ns / n : 0, r4, r5);
	if (diverged)
		printf("runner: %u of %u cases diverged (the model is judging them)\n", diverged,
		       nr);
	return tgt > 0 && raw > 0 ? 0 : 1;
}
