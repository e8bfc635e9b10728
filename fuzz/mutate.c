/* Structure-aware mutation of scenarios, honggfuzz style: an enum-indexed table of small
 * operators, each of which edits a decoded scenario and keeps it valid. The mutator
 * decodes libFuzzer's bytes (decoding is total), applies a few operators, and encodes;
 * now and then it hands the bytes to libFuzzer's own byte mutator instead, which keeps
 * the dictionary and libFuzzer's CMP-guided tricks in play.
 *
 * Numbers are moved to the edges where TCP implementations disagree: anchors plus
 * 0 and +-1, the receive window's right edge (wend), +-2^31 (the sequence space's
 * half-way point, where "before" and "after" swap), and acknowledgments beyond tnxt.
 * Waits are chosen around the timers: delayed ACK (200 ms, 500 ms), RTO (1 s, 3-5 s),
 * FIN-WAIT-2 (60 s) and 2MSL (240 s).
 */
#include <string.h>

#include "fuzz_priv.h"

#define TWO31 (INT64_C(1) << 31)
#define LONG  24
#define TWO32 (INT64_C(1) << 32)

/* ---- a small deterministic RNG (splitmix64) ---- */

struct rng {
	uint64_t s;
};

static uint64_t rnd(struct rng *r)
{
	uint64_t z = (r->s += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* Uniform in [0, n); n > 0. */
static uint32_t below(struct rng *r, uint32_t n)
{
	return (uint32_t)(((rnd(r) >> 32) * n) >> 32);
}

#define PICK(r, arr) ((arr)[below((r), (uint32_t)(sizeof(arr) / sizeof((arr)[0])))])

/* ---- tables of interesting values ---- */

/* `timers` values around the figures stacks use: lwIP's 500 ms tick, Linux's 200 ms RTO
 * floor and 40 ms delayed ACK, RFC 6298's 1 s initial RTO and its 3 s fallback. */
static const uint32_t timer_values[] = {1, 40, 100, 200, 250, 500, 1000, 1500, 3000, 30000};

static const int64_t seq_offsets[] = {0,     0,	     0,		-1,	      1,	-2,
				      2,     100,    -100,	1000,	      -65535,	65535,
				      TWO31, -TWO31, TWO31 - 1, -(TWO31 - 1), TWO31 + 1};
static const int64_t ack_offsets[] = {0,    0,	   0,	  1,	 -1,	 2,	    -2,
				      1000, -1000, 65536, TWO31, -TWO31, TWO31 - 1, -(TWO31 - 1)};
static const uint32_t waits_ms[] = {1,	   10,	  100,	  199,	  200,	  201,	  250,
				    499,   500,	  501,	  999,	  1000,	  1001,	  2000,
				    3000,  3500,  4000,	  5000,	  6000,	  30000,  59999,
				    60000, 60001, 120000, 239999, 240000, 240001, 250000};
static const uint16_t windows[] = {0,	 1,    2,     100,   535,   536,   1460, 2920,
				   4096, 8192, 16384, 32767, 32768, 65534, 65535};
static const uint16_t mss_values[] = {0, 1, 64, 88, 536, 1220, 1460, 8960, 65535};
static const uint8_t wscale_values[] = {0, 1, 2, 7, 8, 14};
static const uint32_t ts_values[] = {0, 1, 100, 0x7fffffffu, 0x80000000u, 0xfffffffeu, 0xffffffffu};
/* offsets from a timestamp anchor: a step, standing still, going back, half the space */
static const int64_t ts_offsets[] = {0, 1, -1, 1000, 0x7fffffff, -0x7fffffff, TWO31};
static const uint32_t lens[] = {0, 1, 2, 10, 100, 535, 536, 1000, 1399, SFH_MAX_PAYLOAD};
static const uint32_t send_sizes[] = {0, 1, 10, 100, 536, 1460, 2920, 3000, SFF_MAX_SEND};
static const uint8_t flag_sets[] = {SFO_SYN,
				    SFO_SYN | SFO_ACK,
				    SFO_ACK,
				    SFO_ACK | SFO_PSH,
				    SFO_FIN | SFO_ACK,
				    SFO_FIN,
				    SFO_RST,
				    SFO_RST | SFO_ACK,
				    0,
				    SFO_SYN | SFO_FIN,
				    SFO_SYN | SFO_RST,
				    SFO_FIN | SFO_RST | SFO_ACK,
				    SFO_FIN | SFO_PSH | SFO_ACK,
				    SFO_SYN | SFO_FIN | SFO_ACK,
				    SFO_URG | SFO_ACK,
				    SFO_ECE | SFO_CWR | SFO_SYN};
static const uint8_t single_flags[] = {SFO_FIN, SFO_SYN, SFO_RST, SFO_PSH, SFO_ACK, SFO_FIN,
				       SFO_SYN, SFO_RST, SFO_ACK, SFO_URG, SFO_ECE, SFO_CWR};

/* ---- helpers over the scenario ---- */

static int is_assertion(const struct sfh_event *e)
{
	return e->type == SFH_EV_OUT || e->type == SFH_EV_EXPECT_STATE;
}

void sff_scn_strip(struct sfh_scenario *s)
{
	uint32_t n = 0;
	for (uint32_t i = 0; i < s->nev; i++) {
		if (is_assertion(&s->ev[i]))
			continue;
		s->ev[n] = s->ev[i];
		if (s->ev[n].type == SFH_EV_CALL) /* a `=>` result is an assertion too */
			s->ev[n].u.call.has_res = 0;
		n++;
	}
	s->nev = n;
}

/* Fit a decoded scenario to the target: a role it can play, and no wait longer than
 * the target can afford. On real-time targets that is max_wait_ms (a campaign cannot
 * sleep for 2MSL on every input). On virtual-time targets it is SFF_MAX_VWAIT_MS, past
 * every timer of every profile (2MSL 240 s, user timeout 100 s, FIN-WAIT-2 60 s): a
 * byte-level mutation can ask for 49 days, and a stack with a timer running steps
 * through every tick of it (lwIP: 4 ticks a second). */
void sff_scn_fit(struct sfh_scenario *s, uint32_t caps, uint32_t max_wait_ms)
{
	uint32_t max = (caps & SFH_CAP_VTIME) ? SFF_MAX_VWAIT_MS : max_wait_ms;
	sff_scn_strip(s);
	/* a `timers` line the target cannot honour (sfh_scn_fit_target drops the settings a
	 * timer-setting target does not take) */
	if (!(caps & SFH_CAP_TIMERS) || !(caps & SFH_CAP_VTIME))
		s->timers = 0;
	if (s->role == SFH_ROLE_ACTIVE && !(caps & SFH_CAP_ACTIVE))
		s->role = SFH_ROLE_PASSIVE;
	else if (s->role == SFH_ROLE_PASSIVE && !(caps & SFH_CAP_PASSIVE))
		s->role = SFH_ROLE_ACTIVE;
	if (!(caps & SFH_CAP_IPV6)) /* the family bit flips freely: never a refused case */
		s->ipv6 = 0;
	for (uint32_t i = 0; i < s->nev; i++) {
		struct sfh_event *e = &s->ev[i];
		if (e->type == SFH_EV_WAIT && e->u.wait_ms > max)
			e->u.wait_ms = max;
		if (e->type == SFH_EV_CALL && e->u.call.call == SFO_CALL_SEND &&
		    e->u.call.arg > SFF_MAX_SEND) {
			e->u.call.arg = SFF_MAX_SEND;
			if (e->u.call.res_n > SFF_MAX_SEND) /* a count stays within the call */
				e->u.call.res_n = SFF_MAX_SEND;
		}
		/* no TCB the target cannot keep apart */
		if (!(caps & SFH_CAP_LISTENER))
			e->sel = SFH_SEL_NONE;
		else if (!(caps & SFH_CAP_CONNS) && e->sel >= 2 && e->sel <= SFH_MAX_CONNS)
			e->sel = 1;
		e->sel = sfh_sel_fold(s->role, e);
	}
}

/* Index of a random event of type t, or -1. */
static int pick_of_type(const struct sfh_scenario *s, struct rng *r, enum sfh_ev_type t)
{
	uint32_t n = 0;
	for (uint32_t i = 0; i < s->nev; i++)
		n += s->ev[i].type == t;
	if (n == 0)
		return -1;
	uint32_t k = below(r, n);
	for (uint32_t i = 0; i < s->nev; i++)
		if (s->ev[i].type == t && k-- == 0)
			return (int)i;
	return -1;
}

static int insert_at(struct sfh_scenario *s, uint32_t pos, const struct sfh_event *e)
{
	if (s->nev >= SFH_MAX_EVENTS || pos > s->nev)
		return -1;
	memmove(&s->ev[pos + 1], &s->ev[pos], (s->nev - pos) * sizeof s->ev[0]);
	s->ev[pos] = *e;
	s->ev[pos].line = 0;
	s->nev++;
	return 0;
}

static void delete_range(struct sfh_scenario *s, uint32_t pos, uint32_t n)
{
	if (pos >= s->nev)
		return;
	if (n > s->nev - pos)
		n = s->nev - pos;
	memmove(&s->ev[pos], &s->ev[pos + n], (s->nev - pos - n) * sizeof s->ev[0]);
	s->nev -= n;
}

static struct sfh_num num(enum sfh_anchor a, int64_t off)
{
	struct sfh_num n = {.anchor = (uint8_t)a, .off = off};
	return n;
}

/* A fresh segment from a template: the kinds of segments a lifecycle is made of. */
static void make_segment(struct sfh_event *e, struct rng *r)
{
	struct sfh_in *in = &e->u.in;
	memset(e, 0, sizeof *e);
	e->type = SFH_EV_IN;
	in->wnd = SFH_DEFAULT_WND;
	switch (below(r, 9)) {
	case 0: /* SYN: a new connection attempt at our ISN */
		in->flags = SFO_SYN;
		in->has_seq = 1;
		in->seq = num(SFH_A_PISN, below(r, 4) ? 0 : PICK(r, seq_offsets));
		in->opts = SFO_OPT_MSS | (uint8_t)(below(r, 2) ? SFO_OPT_WSCALE : 0);
		in->mss = 1460;
		in->wscale = 7;
		break;
	case 1: /* SYN-ACK to the target's SYN */
		in->flags = SFO_SYN | SFO_ACK;
		in->has_seq = in->has_ack = 1;
		in->seq = num(SFH_A_PISN, 0);
		in->ack = num(SFH_A_TISN, below(r, 4) ? 1 : PICK(r, ack_offsets));
		in->opts = SFO_OPT_MSS;
		in->mss = 1460;
		break;
	case 2: /* a plain ACK */
		in->flags = SFO_ACK;
		break;
	case 3: /* data */
		in->flags = SFO_ACK | SFO_PSH;
		in->len = PICK(r, lens);
		if (!in->len)
			in->len = 1;
		break;
	case 4:
		in->flags = SFO_FIN | SFO_ACK;
		break;
	case 5:
		in->flags = SFO_RST;
		break;
	case 6:
		in->flags = SFO_RST | SFO_ACK;
		break;
	case 7:
		in->flags = PICK(r, flag_sets);
		break;
	default: /* a retransmission: one behind */
		in->flags = SFO_ACK | (uint8_t)(below(r, 2) ? SFO_FIN : 0);
		in->has_seq = 1;
		in->seq = num(SFH_A_PNXT, -1);
		break;
	}
}

static void make_call(struct sfh_event *e, struct rng *r)
{
	static const uint8_t calls[] = {SFO_CALL_SEND,	SFO_CALL_SEND,	SFO_CALL_RECEIVE,
					SFO_CALL_CLOSE, SFO_CALL_CLOSE, SFO_CALL_SHUTDOWN,
					SFO_CALL_ABORT, SFO_CALL_ACCEPT};
	static const uint8_t opens[] = {SFO_CALL_LISTEN, SFO_CALL_CONNECT};
	memset(e, 0, sizeof *e);
	e->type = SFH_EV_CALL;
	/* A second OPEN mid-case is rare in life, and some targets cannot do it at all. */
	e->u.call.call = (enum sfo_call)(below(r, 20) ? PICK(r, calls) : PICK(r, opens));
	if (e->u.call.call == SFO_CALL_SEND)
		e->u.call.arg = PICK(r, send_sizes);
	else if (e->u.call.call == SFO_CALL_RECEIVE)
		e->u.call.arg = below(r, 2) ? 0 : PICK(r, lens);
}

static void make_wait(struct sfh_event *e, struct rng *r)
{
	memset(e, 0, sizeof *e);
	e->type = SFH_EV_WAIT;
	e->u.wait_ms = PICK(r, waits_ms);
}

/* A random `in` event, or -1. */
static int pick_in(const struct sfh_scenario *s, struct rng *r)
{
	return pick_of_type(s, r, SFH_EV_IN);
}

/* ---- the operators ---- */

typedef int (*op_fn)(struct sfh_scenario *s, struct rng *r);

static int op_insert_segment(struct sfh_scenario *s, struct rng *r)
{
	struct sfh_event e;
	make_segment(&e, r);
	return insert_at(s, below(r, s->nev + 1), &e);
}

static int op_insert_call(struct sfh_scenario *s, struct rng *r)
{
	struct sfh_event e;
	make_call(&e, r);
	return insert_at(s, below(r, s->nev + 1), &e);
}

static int op_insert_wait(struct sfh_scenario *s, struct rng *r)
{
	struct sfh_event e;
	make_wait(&e, r);
	return insert_at(s, below(r, s->nev + 1), &e);
}

static int op_delete(struct sfh_scenario *s, struct rng *r)
{
	if (s->nev == 0)
		return -1;
	uint32_t pos = below(r, s->nev);
	delete_range(s, pos, below(r, 4) ? 1 : 1 + below(r, 4));
	return 0;
}

static int op_duplicate(struct sfh_scenario *s, struct rng *r)
{
	if (s->nev == 0)
		return -1;
	uint32_t pos = below(r, s->nev);
	struct sfh_event e = s->ev[pos];
	return insert_at(s, pos + 1 + (below(r, 4) ? 0 : below(r, s->nev - pos)), &e);
}

static int op_swap(struct sfh_scenario *s, struct rng *r)
{
	if (s->nev < 2)
		return -1;
	uint32_t a = below(r, s->nev);
	uint32_t b = below(r, 2) && a + 1 < s->nev ? a + 1 : below(r, s->nev);
	if (a == b)
		return -1;
	struct sfh_event t = s->ev[a];
	s->ev[a] = s->ev[b];
	s->ev[b] = t;
	return 0;
}

/* Repeat the tail: lifecycle bugs often need a step done twice (a retransmitted FIN). */
static int op_repeat_run(struct sfh_scenario *s, struct rng *r)
{
	if (s->nev == 0)
		return -1;
	uint32_t len = 1 + below(r, s->nev < 4 ? s->nev : 4);
	uint32_t from = below(r, s->nev - len + 1);
	struct sfh_event run[4];
	memcpy(run, &s->ev[from], len * sizeof run[0]);
	uint32_t at = from + len;
	for (uint32_t i = 0; i < len; i++)
		if (insert_at(s, at + i, &run[i]) != 0)
			return i ? 0 : -1;
	return 0;
}

static int op_truncate(struct sfh_scenario *s, struct rng *r)
{
	if (s->nev < 2)
		return -1;
	s->nev = 1 + below(r, s->nev - 1);
	return 0;
}

static int op_flip_flag(struct sfh_scenario *s, struct rng *r)
{
	int i = pick_in(s, r);
	if (i < 0)
		return -1;
	s->ev[i].u.in.flags ^= PICK(r, single_flags);
	return 0;
}

static int op_set_flags(struct sfh_scenario *s, struct rng *r)
{
	int i = pick_in(s, r);
	if (i < 0)
		return -1;
	s->ev[i].u.in.flags = PICK(r, flag_sets);
	return 0;
}

static int op_seq_edge(struct sfh_scenario *s, struct rng *r)
{
	static const uint8_t anchors[] = {SFH_A_PNXT, SFH_A_PNXT, SFH_A_PNXT, SFH_A_WEND,
					  SFH_A_WEND, SFH_A_PISN, SFH_A_TNXT};
	int i = pick_in(s, r);
	if (i < 0)
		return -1;
	struct sfh_in *in = &s->ev[i].u.in;
	in->has_seq = 1;
	in->seq = num((enum sfh_anchor)PICK(r, anchors), PICK(r, seq_offsets));
	/* At the window's right edge, a segment that ends exactly there, or one past. */
	if (in->seq.anchor == SFH_A_WEND && in->len && below(r, 2))
		in->seq.off = -(int64_t)in->len + (int64_t)below(r, 2);
	return 0;
}

static int op_ack_edge(struct sfh_scenario *s, struct rng *r)
{
	static const uint8_t anchors[] = {SFH_A_TNXT, SFH_A_TNXT, SFH_A_TNXT,
					  SFH_A_TUNA, SFH_A_TISN, SFH_A_PISN};
	int i = pick_in(s, r);
	if (i < 0)
		return -1;
	struct sfh_in *in = &s->ev[i].u.in;
	in->has_ack = 1;
	in->ack = num((enum sfh_anchor)PICK(r, anchors), PICK(r, ack_offsets));
	if (below(r, 3) == 0)
		in->flags |= SFO_ACK;
	return 0;
}

/* Nudge an existing number by a small step: walks offsets across an edge. */
static int op_nudge_num(struct sfh_scenario *s, struct rng *r)
{
	int i = pick_in(s, r);
	if (i < 0)
		return -1;
	struct sfh_in *in = &s->ev[i].u.in;
	int seq = below(r, 2);
	struct sfh_num *n = seq ? &in->seq : &in->ack;
	uint8_t *has = seq ? &in->has_seq : &in->has_ack;
	if (!*has) {
		*has = 1;
		*n = num(seq ? SFH_A_PNXT : SFH_A_TNXT, 0);
	}
	int64_t d = (int64_t)below(r, 3) - 1;
	if (d == 0)
		d = below(r, 2) ? 1 << below(r, 17) : -(1 << below(r, 17));
	int64_t off = n->off + d;
	if (n->anchor == SFH_A_ABS)
		off = (int64_t)((uint64_t)off & 0xffffffffu);
	else if (off >= TWO32 || off <= -TWO32)
		off %= TWO32;
	n->off = off;
	return 0;
}

static int op_default_num(struct sfh_scenario *s, struct rng *r)
{
	int i = pick_in(s, r);
	if (i < 0)
		return -1;
	struct sfh_in *in = &s->ev[i].u.in;
	if (!in->has_seq && !in->has_ack)
		return -1;
	if (in->has_seq && (!in->has_ack || below(r, 2)))
		in->has_seq = 0;
	else
		in->has_ack = 0;
	return 0;
}

static int op_window(struct sfh_scenario *s, struct rng *r)
{
	int i = pick_in(s, r);
	if (i < 0)
		return -1;
	s->ev[i].u.in.wnd = below(r, 4) ? PICK(r, windows) : (uint16_t)rnd(r);
	return 0;
}

static int op_options(struct sfh_scenario *s, struct rng *r)
{
	int i = pick_in(s, r);
	if (i < 0)
		return -1;
	struct sfh_in *in = &s->ev[i].u.in;
	switch (below(r, 5)) {
	case 0:
		in->opts ^= (uint8_t)(1u << below(r, 4));
		break;
	case 1:
		in->opts |= SFO_OPT_MSS;
		in->mss = PICK(r, mss_values);
		break;
	case 2:
		in->opts |= SFO_OPT_WSCALE;
		in->wscale = PICK(r, wscale_values);
		break;
	case 3:
		/* Mostly an honest clock (ours moving on, the target's TSval echoed: what
		 * PAWS and RFC 7323 checks need to pass), sometimes the edges. */
		in->opts |= SFO_OPT_TS;
		in->tsval_a = below(r, 2) ? SFH_TS_PTSV : SFH_TS_ABS;
		in->tsval = in->tsval_a ? (uint32_t)(below(r, 4) ? 1 : PICK(r, ts_offsets))
					: PICK(r, ts_values);
		in->tsecr_a = below(r, 3) ? SFH_TS_TTSV : SFH_TS_ABS;
		in->tsecr = in->tsecr_a	  ? (uint32_t)(below(r, 4) ? 0 : PICK(r, ts_offsets))
			    : below(r, 2) ? 0
					  : PICK(r, ts_values);
		break;
	default:
		in->opts = 0;
		break;
	}
	return 0;
}

static int op_len(struct sfh_scenario *s, struct rng *r)
{
	int i = pick_in(s, r);
	if (i < 0)
		return -1;
	s->ev[i].u.in.len = below(r, 4) ? PICK(r, lens) : below(r, SFH_MAX_PAYLOAD + 1);
	return 0;
}

static int op_urgent(struct sfh_scenario *s, struct rng *r)
{
	static const uint16_t ups[] = {0, 1, 2, 100, 65535};
	int i = pick_in(s, r);
	if (i < 0)
		return -1;
	struct sfh_in *in = &s->ev[i].u.in;
	in->flags ^= SFO_URG;
	in->up = below(r, 2) ? (uint16_t)in->len : PICK(r, ups);
	return 0;
}

static int op_wait_len(struct sfh_scenario *s, struct rng *r)
{
	int i = pick_of_type(s, r, SFH_EV_WAIT);
	if (i < 0)
		return op_insert_wait(s, r);
	uint32_t *w = &s->ev[i].u.wait_ms;
	*w = below(r, 4) ? PICK(r, waits_ms) : (below(r, 2) ? *w / 2 : *w * 2 + 1);
	if (*w > SFF_MAX_VWAIT_MS)
		*w = SFF_MAX_VWAIT_MS;
	return 0;
}

static int op_call_change(struct sfh_scenario *s, struct rng *r)
{
	int i = pick_of_type(s, r, SFH_EV_CALL);
	if (i < 0)
		return op_insert_call(s, r);
	make_call(&s->ev[i], r);
	return 0;
}

/* Set, change or drop one per-case timer setting (sff_scn_fit drops them all where the
 * target cannot honour any). */
static int op_timers(struct sfh_scenario *s, struct rng *r)
{
	unsigned k = below(r, SFH_NTIMERS);
	if ((s->timers & (1u << k)) && below(r, 3) == 0) {
		s->timers &= (uint8_t) ~(1u << k);
		s->timer_ms[k] = 0;
		return 0;
	}
	s->timers |= (uint8_t)(1u << k);
	s->timer_ms[k] = PICK(r, timer_values);
	return 0;
}

/* A call's `=>` result: dropped, or set to an error users meet in TCP's lifecycle or to
 * a count the call can return (all of it, part, none). Campaigns strip assertions
 * (sff_scn_fit); this serves corpora and hand-written cases mutated for tests. */
static int op_call_result(struct sfh_scenario *s, struct rng *r)
{
	static const uint8_t errs[] = {SFO_ERR_EAGAIN,	  SFO_ERR_ECONNRESET, SFO_ERR_ECONNREFUSED,
				       SFO_ERR_EPIPE,	  SFO_ERR_ENOTCONN,   SFO_ERR_EISCONN,
				       SFO_ERR_ETIMEDOUT, SFO_ERR_EINPROGRESS};
	int i = pick_of_type(s, r, SFH_EV_CALL);
	if (i < 0)
		return op_insert_call(s, r);
	struct sfh_event *e = &s->ev[i];
	int counted = e->u.call.call == SFO_CALL_SEND || e->u.call.call == SFO_CALL_RECEIVE;
	if (e->u.call.has_res && below(r, 3) == 0) {
		e->u.call.has_res = 0;
		e->u.call.res_err = 0;
		e->u.call.res_n = 0;
		return 0;
	}
	e->u.call.has_res = 1;
	e->u.call.res_n = 0;
	if (below(r, 2)) {
		e->u.call.res_err = PICK(r, errs);
		return 0;
	}
	e->u.call.res_err = SFO_ERR_OK;
	if (counted) {
		uint32_t a = e->u.call.arg;
		e->u.call.res_n = below(r, 3) == 0 ? 0 : below(r, 2) ? a : a / 2;
	}
	return 0;
}

/* Selectors valid for the scenario's role and each event (the active role has no
 * listener). */
static void fold_sels(struct sfh_scenario *s)
{
	for (uint32_t i = 0; i < s->nev; i++)
		s->ev[i].sel = sfh_sel_fold(s->role, &s->ev[i]);
}

static int op_role(struct sfh_scenario *s, struct rng *r)
{
	s->role = s->role == SFH_ROLE_PASSIVE ? SFH_ROLE_ACTIVE : SFH_ROLE_PASSIVE;
	fold_sels(s);
	return 0;
}

/* The same case over the other IP version (sff_scn_fit takes IPv6 back on a target
 * without it). */
static int op_family(struct sfh_scenario *s, struct rng *r)
{
	(void)r;
	s->ipv6 = !s->ipv6;
	return 0;
}

/* Address another TCB: a segment or call on a second connection (another 4-tuple), the
 * listener's own close, or back to the default. Mostly conn=1 and conn=2 and the
 * listener, where the interesting cases are (TIME-WAIT reuse, an orphaned connection). */
static int op_selector(struct sfh_scenario *s, struct rng *r)
{
	static const uint8_t sels[] = {SFH_SEL_NONE, 1, 2, 2, SFH_SEL_LISTENER, SFH_SEL_LISTENER, 3,
				       SFH_MAX_CONNS};
	uint32_t n = 0;
	for (uint32_t i = 0; i < s->nev; i++)
		n += s->ev[i].type != SFH_EV_WAIT;
	if (n == 0)
		return -1;
	uint32_t k = below(r, n);
	for (uint32_t i = 0; i < s->nev; i++) {
		struct sfh_event *e = &s->ev[i];
		if (e->type == SFH_EV_WAIT || k-- != 0)
			continue;
		if (e->type == SFH_EV_CALL && below(r, 3) == 0) {
			/* the listener's own close while a connection lives */
			e->u.call.call = below(r, 2) ? SFO_CALL_CLOSE : SFO_CALL_ABORT;
			e->sel = SFH_SEL_LISTENER;
		} else {
			e->sel = PICK(r, sels);
		}
		e->sel = sfh_sel_fold(s->role, e);
		return 0;
	}
	return -1;
}

/* The operator table, enum-indexed: weights say how often each is drawn. */
#define SFF_MUT_OPS(X)                                                                             \
	X(INSERT_SEGMENT, "insert-segment", op_insert_segment, 6)                                  \
	X(INSERT_CALL, "insert-call", op_insert_call, 4)                                           \
	X(INSERT_WAIT, "insert-wait", op_insert_wait, 3)                                           \
	X(DELETE, "delete", op_delete, 8)                                                          \
	X(DUPLICATE, "duplicate", op_duplicate, 3)                                                 \
	X(SWAP, "swap", op_swap, 3)                                                                \
	X(REPEAT_RUN, "repeat-run", op_repeat_run, 2)                                              \
	X(TRUNCATE, "truncate", op_truncate, 2)                                                    \
	X(FLIP_FLAG, "flip-flag", op_flip_flag, 5)                                                 \
	X(SET_FLAGS, "set-flags", op_set_flags, 4)                                                 \
	X(SEQ_EDGE, "seq-edge", op_seq_edge, 6)                                                    \
	X(ACK_EDGE, "ack-edge", op_ack_edge, 5)                                                    \
	X(NUDGE_NUM, "nudge-num", op_nudge_num, 3)                                                 \
	X(DEFAULT_NUM, "default-num", op_default_num, 2)                                           \
	X(WINDOW, "window", op_window, 3)                                                          \
	X(OPTIONS, "options", op_options, 3)                                                       \
	X(LEN, "len", op_len, 3)                                                                   \
	X(URGENT, "urgent", op_urgent, 1)                                                          \
	X(WAIT_LEN, "wait-len", op_wait_len, 4)                                                    \
	X(CALL_CHANGE, "call-change", op_call_change, 3)                                           \
	X(ROLE, "role", op_role, 1)                                                                \
	X(TIMERS, "timers", op_timers, 1)                                                          \
	X(CALL_RESULT, "call-result", op_call_result, 1)                                           \
	X(FAMILY, "family", op_family, 1)                                                          \
	X(SELECTOR, "selector", op_selector, 2)

enum sff_mut_op {
#define SFF_X(id, name, fn, w) SFF_MUT_##id,
	SFF_MUT_OPS(SFF_X)
#undef SFF_X
};
#define SFF_X(id, name, fn, w) +1
enum { SFF_NMUT_OPS = 0 SFF_MUT_OPS(SFF_X) };
#undef SFF_X

static const struct {
	const char *name;
	op_fn fn;
	uint8_t weight;
} ops[SFF_NMUT_OPS] = {
#define SFF_X(id, name, fn, w) [SFF_MUT_##id] = {name, fn, w},
    SFF_MUT_OPS(SFF_X)
#undef SFF_X
};

size_t sff_mut_op_count(void)
{
	return SFF_NMUT_OPS;
}

const char *sff_mut_op_name(size_t i)
{
	return i < SFF_NMUT_OPS ? ops[i].name : NULL;
}

int sff_mut_apply(size_t i, struct sfh_scenario *s, uint64_t seed)
{
	struct rng r = {seed};
	if (i >= SFF_NMUT_OPS)
		return -1;
	return ops[i].fn(s, &r);
}

static size_t pick_op(struct rng *r)
{
	uint32_t total = 0;
	for (size_t i = 0; i < SFF_NMUT_OPS; i++)
		total += ops[i].weight;
	uint32_t k = below(r, total);
	for (size_t i = 0; i < SFF_NMUT_OPS; i++) {
		if (k < ops[i].weight)
			return i;
		k -= ops[i].weight;
	}
	return 0;
}

/* ---- encoding within max_size ---- */

/* Encode s into out[0..max): events are dropped from the end until it fits. */
static size_t encode_fit(struct sfh_scenario *s, uint8_t *out, size_t max)
{
	uint8_t buf[SFH_MAX_ENCODED];
	if (max == 0)
		return 0;
	for (;;) {
		size_t n = sfh_scn_encode(s, buf, sizeof buf);
		if (n <= max && n <= sizeof buf) {
			memcpy(out, buf, n);
			return n;
		}
		if (s->nev == 0) { /* the role byte alone: always fits */
			out[0] = buf[0];
			return 1;
		}
		s->nev--;
	}
}

/* The built-in byte mutator, used when libFuzzer's is not linked (tests, tools). */
static size_t builtin_bytes(uint8_t *data, size_t size, size_t max, struct rng *r)
{
	if (size == 0 || below(r, 4) == 0) {
		if (size < max)
			data[size++] = (uint8_t)rnd(r);
		return size;
	}
	uint32_t i = below(r, (uint32_t)size);
	switch (below(r, 3)) {
	case 0:
		data[i] ^= (uint8_t)(1u << below(r, 8));
		break;
	case 1:
		data[i] = (uint8_t)rnd(r);
		break;
	default:
		memmove(&data[i], &data[i + 1], size - i - 1);
		size--;
		break;
	}
	return size;
}

size_t sff_mutate(uint8_t *data, size_t size, size_t max_size, unsigned int seed,
		  sff_bytes_fn bytes)
{
	struct rng r = {(uint64_t)seed * 0x2545f4914f6cdd1dull + 1};
	struct sfh_scenario s;
	if (max_size == 0)
		return 0;
	if (size > max_size)
		size = max_size;
	/* One time in ten: byte-level mutation (dictionary, CMP feedback). */
	if (size > 1 && below(&r, 10) == 0)
		return bytes ? bytes(data, size, max_size)
			     : builtin_bytes(data, size, max_size, &r);
	sfh_scn_decode(data, size, &s);
	sff_scn_strip(&s);
	/* Long scenarios cost linearly and rarely matter past the first divergence: above
	 * LONG events, every other mutation starts by deleting. */
	if (s.nev > LONG && below(&r, 2))
		op_delete(&s, &r);
	uint32_t n = 1 + (below(&r, 3) == 0) + (below(&r, 6) == 0);
	for (uint32_t k = 0, tries = 0; k < n && tries < 16; tries++)
		if (ops[pick_op(&r)].fn(&s, &r) == 0)
			k++;
	return encode_fit(&s, data, max_size);
}

size_t sff_crossover(const uint8_t *d1, size_t s1, const uint8_t *d2, size_t s2, uint8_t *out,
		     size_t max_out, unsigned int seed)
{
	struct rng r = {(uint64_t)seed * 0x9e3779b97f4a7c15ull + 7};
	struct sfh_scenario a, b, c;
	sfh_scn_decode(d1, s1, &a);
	sfh_scn_decode(d2, s2, &b);
	sff_scn_strip(&a);
	sff_scn_strip(&b);
	c = a;
	if (below(&r, 2) || b.nev == 0) {
		/* Splice: a's first i events, then b's events from j on. */
		uint32_t i = below(&r, a.nev + 1), j = below(&r, b.nev + 1);
		c.nev = i;
		for (uint32_t k = j; k < b.nev && c.nev < SFH_MAX_EVENTS; k++)
			c.ev[c.nev++] = b.ev[k];
	} else {
		/* Insert a run of b's events into a. */
		uint32_t from = below(&r, b.nev), len = 1 + below(&r, b.nev - from);
		uint32_t at = below(&r, a.nev + 1);
		for (uint32_t k = 0; k < len; k++)
			if (insert_at(&c, at + k, &b.ev[from + k]) != 0)
				break;
	}
	if (below(&r, 4) == 0)
		ops[pick_op(&r)].fn(&c, &r);
	return encode_fit(&c, out, max_out);
}
