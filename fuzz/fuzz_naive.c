/* The benchmark's baselines: naive libFuzzer harnesses over the same target adapters,
 * with no model, no oracle, no coverage feed and no custom mutator (libFuzzer's byte
 * mutation only). Their rates are what synfin's rate is measured against
 * (bench/bench_fuzz.sh). SYNFIN_NAIVE_TARGET picks the target (default lwip),
 * SYNFIN_NAIVE_MODE the harness:
 *
 *   replay (default)  the input is read as synfin reads it: a binary scenario, decoded
 *                     and fitted exactly as the fuzz core does, then played raw. Every
 *                     event goes to the stack: each `in` segment with its numbers taken
 *                     from what the stack last put on the wire (its ISN, SND.NXT, the ACK
 *                     and window it last sent), each call, each wait; what the stack
 *                     emits is parsed for those numbers and dropped. So on the same
 *                     corpus it does the stack's share of synfin's work and none of the
 *                     rest; unlike synfin it plays every event even after the stack has
 *                     diverged.
 *   listen            every input becomes NSEGS raw segments (12 bytes each: flags,
 *                     absolute seq and ack, window, payload length; read cyclically)
 *                     injected into a listener. Without a handshake almost all of them
 *                     end at the listener, so this measures little of a stack's TCP.
 *
 * SYNFIN_NAIVE_COUNT=FILE keeps the number of inputs run in FILE (8 bytes, host order),
 * current after every input, so a run that a stack's crash ends still says how much it
 * did (libFuzzer prints its final statistics only on a normal exit).
 *
 * An entry point: it may print and exit. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fuzz_priv.h"

#define SEG_BYTES   12
#define NSEGS	    6
#define DRAIN_MAX   64
#define MAX_WAIT_MS 250 /* real-time targets, as `synfin fuzz` (--max-wait) */

static struct sfh_target *g_target;
static struct sfh_wire *g_wire;
static uint32_t g_case, g_caps;
static int g_listen, g_recover;
static struct sfh_pkt g_in, g_out[DRAIN_MAX];
static struct sfh_scenario g_scn;
static volatile uint64_t *g_count; /* SYNFIN_NAIVE_COUNT, or NULL */

/* The shared execution counter (see the top), or NULL. */
static volatile uint64_t *map_count(const char *path)
{
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0 || ftruncate(fd, sizeof(uint64_t)) != 0) {
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	void *m = mmap(NULL, sizeof(uint64_t), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	return m == MAP_FAILED ? NULL : m;
}

/* What the wire says about the connection: the anchors of the scenario form. */
struct view {
	struct sfh_endpoints ep;
	uint32_t pisn;
	uint32_t tisn, tnxt, tuna; /* the stack's ISN, SND.NXT, SND.UNA as we acked it */
	uint32_t pnxt, wnd;	   /* the stack's RCV.NXT and window, from its last ACK */
	int syn_seen, ack_seen;
};

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char err[512];
	const char *spec = getenv("SYNFIN_NAIVE_TARGET");
	const char *mode = getenv("SYNFIN_NAIVE_MODE");
	g_listen = mode && strcmp(mode, "listen") == 0;
	if (mode && *mode && !g_listen && strcmp(mode, "replay") != 0) {
		fprintf(stderr, "fuzz_naive: SYNFIN_NAIVE_MODE is replay or listen, not '%s'\n",
			mode);
		exit(1);
	}
	if (sfh_target_open(spec && *spec ? spec : "lwip", &g_target, err, sizeof err) != 0 ||
	    !(g_wire = sfh_wire_new(err, sizeof err))) {
		fprintf(stderr, "fuzz_naive: %s\n", err);
		exit(1);
	}
	g_caps = g_target->ops->caps;
	const char *count = getenv("SYNFIN_NAIVE_COUNT");
	if (count && *count && !(g_count = map_count(count))) {
		fprintf(stderr, "fuzz_naive: cannot map %s\n", count);
		exit(1);
	}
	/* On lwip, recover from its assertions in-process as `synfin fuzz` does, so both
	 * sides run lwIP the same way (its heap through the same tracked allocator) and an
	 * assertion costs neither a process restart. */
	g_recover = sff_recover_enable(g_target, err, sizeof err) == 0;
	return 0;
}

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static int seq_gt(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) > 0;
}

/* Everything the stack emitted since the last drain: note its numbers, drop it. */
static void drain(struct view *v)
{
	int got;
	do {
		got = sfh_target_drain(g_target, g_out, DRAIN_MAX);
		for (int i = 0; i < got; i++) {
			struct sfh_endpoints ep;
			struct sfo_seg s;
			if (sfh_wire_parse(g_out[i].data, g_out[i].len, &ep, &s, NULL) != 0 ||
			    ep.peer_port != v->ep.peer_port)
				continue;
			if (v->ep.target_port == 0 && (s.flags & SFO_SYN))
				v->ep.target_port = ep.target_port;
			if (s.flags & SFO_SYN) {
				v->syn_seen = 1;
				v->tisn = v->tuna = s.seq;
				v->tnxt = s.seq;
			}
			uint32_t end =
			    s.seq + s.len + !!(s.flags & SFO_SYN) + !!(s.flags & SFO_FIN);
			if (v->syn_seen && seq_gt(end, v->tnxt))
				v->tnxt = end;
			if (s.flags & SFO_ACK) {
				v->ack_seen = 1;
				v->pnxt = s.ack;
				v->wnd = s.wnd;
			}
		}
	} while (got == DRAIN_MAX);
	if (got < 0)
		abort(); /* a harness error, not a finding: the baseline must not hide one */
}

static uint32_t anchor(const struct view *v, enum sfh_anchor a)
{
	switch (a) {
	case SFH_A_ABS:
		return 0;
	case SFH_A_PISN:
		return v->pisn;
	case SFH_A_TISN:
		return v->tisn;
	case SFH_A_PNXT:
		return v->ack_seen ? v->pnxt : v->pisn;
	case SFH_A_TNXT:
		return v->tnxt;
	case SFH_A_TUNA:
		return v->tuna;
	case SFH_A_WEND:
		return (v->ack_seen ? v->pnxt : v->pisn) + v->wnd;
	}
	return 0;
}


static void inject(struct view *v, const struct sfo_seg *seg)
{
	int len = sfh_wire_build(g_wire, &v->ep, seg, g_in.data, sizeof g_in.data);
	if (len < 0 || sfh_target_inject(g_target, g_in.data, (size_t)len) != 0)
		abort();
}

static void play_in(struct view *v, const struct sfh_in *in)
{
	uint32_t value[SFH_NANCHORS];
	struct sfo_seg seg;
	for (int a = 0; a < SFH_NANCHORS; a++)
		value[a] = anchor(v, (enum sfh_anchor)a);
	sfh_in_to_seg(in, value, NULL, &seg); /* the naive harness tracks no timestamps */
	if ((seg.flags & SFO_ACK) && seq_gt(seg.ack, v->tuna) && !seq_gt(seg.ack, v->tnxt))
		v->tuna = seg.ack;
	inject(v, &seg);
}

static void replay(void *ctx)
{
	(void)ctx;
	struct view v;
	memset(&v, 0, sizeof v);
	v.pisn = 0x9e3779b9u * (g_case + 1); /* as the runner numbers a case */
	if (sfh_target_reset(g_target, g_scn.role, g_case++, &v.ep) != 0 ||
	    sfh_target_call(g_target,
			    g_scn.role == SFH_ROLE_PASSIVE ? SFO_CALL_LISTEN : SFO_CALL_CONNECT,
			    0) < 0)
		abort();
	drain(&v);
	for (uint32_t i = 0; i < g_scn.nev; i++) {
		const struct sfh_event *e = &g_scn.ev[i];
		switch (e->type) {
		case SFH_EV_IN:
			play_in(&v, &e->u.in);
			break;
		case SFH_EV_CALL:
			if (sfh_target_call(g_target, e->u.call.call, e->u.call.arg) <
			    SFH_CALL_REFUSED)
				abort();
			break;
		case SFH_EV_WAIT:
			if (sfh_target_advance(g_target, e->u.wait_ms) != 0)
				abort();
			break;
		case SFH_EV_OUT:
		case SFH_EV_EXPECT_STATE:
			break; /* stripped by sff_scn_fit */
		}
		drain(&v);
	}
}

static void listener(const uint8_t *data, size_t size)
{
	struct view v;
	memset(&v, 0, sizeof v);
	if (sfh_target_reset(g_target, SFH_ROLE_PASSIVE, g_case++, &v.ep) != 0 ||
	    sfh_target_call(g_target, SFO_CALL_LISTEN, 0) < 0)
		abort();
	for (size_t n = 0; n < NSEGS; n++) {
		uint8_t p[SEG_BYTES];
		for (size_t k = 0; k < SEG_BYTES; k++)
			p[k] = size ? data[(n * SEG_BYTES + k) % size] : 0;
		struct sfo_seg seg;
		memset(&seg, 0, sizeof seg);
		seg.flags = p[0];
		seg.seq = le32(p + 1);
		seg.ack = le32(p + 5);
		seg.wnd = (uint16_t)(p[9] | p[10] << 8);
		seg.len = p[11];
		inject(&v, &seg);
		drain(&v);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (g_count)
		++*g_count; /* counted before it runs: a crashing input counts as executed */
	if (g_listen) {
		listener(data, size);
		return 0;
	}
	sfh_scn_decode(data, size, &g_scn);
	sff_scn_fit(&g_scn, g_caps, MAX_WAIT_MS);
	sfh_scn_fit_target(&g_scn, g_target);
	if (!g_recover) {
		replay(NULL);
		return 0;
	}
	int rc = sff_call_recover(g_target, replay, NULL);
	if (rc < 0)
		abort();
	return rc == SFF_RECOVERED ? -1 : 0; /* as synfin: a crashing input never joins */
}
