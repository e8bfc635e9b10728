/* The scenario binary form: the layout on known bytes, round trips of the sample and of
 * random valid scenarios, numbers near anchors and 2^31 staying short, and totality:
 * every byte string (random, mutated, truncated) decodes to a valid scenario that
 * formats, parses and re-encodes back to itself. Run from the source tree (ctest does). */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "scenario.h"

#define DATA_DIR "tests/harness/data"
#define TWO31	 (INT64_C(1) << 31)
#define TWO32	 (INT64_C(1) << 32)

/* ---- helpers ---- */

static uint64_t rng_next(uint64_t *st) /* splitmix64: deterministic, seedable */
{
	uint64_t z = (*st += UINT64_C(0x9e3779b97f4a7c15));
	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

static int num_valid(const struct sfh_num *n)
{
	if (n->anchor >= SFH_NANCHORS)
		return 0;
	if (n->anchor == SFH_A_ABS)
		return n->off >= 0 && n->off < TWO32;
	return n->off > -TWO32 && n->off < TWO32;
}

static int num_zero(const struct sfh_num *n)
{
	return n->anchor == 0 && n->off == 0;
}

/* Valid (every field in range) and canonical (fields without meaning are zero or the
 * default), as sfh_scn_decode promises. */
static int in_valid(const struct sfh_in *in)
{
	return in->opts <= 15 && in->has_seq <= 1 && in->has_ack <= 1 && num_valid(&in->seq) &&
	       num_valid(&in->ack) && in->len <= SFH_MAX_PAYLOAD && in->wscale <= 14 &&
	       (in->has_seq || (in->seq.anchor == SFH_A_PNXT && in->seq.off == 0)) &&
	       (in->has_ack || (in->ack.anchor == SFH_A_TNXT && in->ack.off == 0)) &&
	       ((in->opts & SFO_OPT_MSS) || in->mss == 0) &&
	       ((in->opts & SFO_OPT_WSCALE) || in->wscale == 0) &&
	       ((in->opts & SFO_OPT_TS) || (in->tsval == 0 && in->tsecr == 0)) &&
	       in->tsval_a < SFH_NTS_ANCHORS && in->tsecr_a < SFH_NTS_ANCHORS &&
	       ((in->opts & SFO_OPT_TS) || (in->tsval_a == 0 && in->tsecr_a == 0));
}

/* What the text form can say: option values only with their option, never present and
 * absent at once, "any" ts values in their canonical form. */
static int out_opts_valid(const struct sfh_out *o)
{
	if (o->opt_want > 15 || o->opt_none > 15 || (o->opt_want & o->opt_none) || o->has_wnd > 1 ||
	    o->has_at > 1 || o->norder > SFH_MAX_ORDER || o->wscale > 14)
		return 0;
	if (!(o->opt_want & SFO_OPT_MSS) && o->mss)
		return 0;
	if (!(o->opt_want & SFO_OPT_WSCALE) && o->wscale)
		return 0;
	if (!(o->opt_want & SFO_OPT_TS) &&
	    (o->tsval || o->tsecr || o->tsval_a || o->tsecr_a || o->tsval_span || o->tsecr_span))
		return 0;
	if (o->tsval_a >= SFH_NTS_ANCHORS || o->tsecr_a >= SFH_NTS_ANCHORS)
		return 0;
	if ((o->tsval_span == 0xffffffffu && (o->tsval || o->tsval_a)) ||
	    (o->tsecr_span == 0xffffffffu && (o->tsecr || o->tsecr_a)))
		return 0;
	for (unsigned i = 0; i < o->norder; i++)
		if (o->order[i] >= SFH_NOPTKINDS)
			return 0;
	return (o->has_wnd || o->wnd == 0) && (o->has_at || (o->at_ms == 0 && o->tol_ms == 0));
}

static int out_valid(const struct sfh_out *o)
{
	if (o->none > 1 || o->has_seq > 1 || o->has_ack > 1 || o->has_len > 1)
		return 0;
	if (o->none)
		return o->flags == 0 && !o->has_seq && !o->has_ack && !o->has_len &&
		       num_zero(&o->seq) && num_zero(&o->ack) && o->len == 0;
	return num_valid(&o->seq) && num_valid(&o->ack) && o->len <= 65535 &&
	       (o->has_seq || num_zero(&o->seq)) && (o->has_ack || num_zero(&o->ack)) &&
	       (o->has_len || o->len == 0) && out_opts_valid(o);
}

static int ev_valid(const struct sfh_event *e)
{
	switch (e->type) {
	case SFH_EV_IN:
		return in_valid(&e->u.in);
	case SFH_EV_CALL:
		return (unsigned)e->u.call.call < SFO_NCALLS &&
		       (e->u.call.call == SFO_CALL_SEND || e->u.call.call == SFO_CALL_RECEIVE ||
			e->u.call.arg == 0);
	case SFH_EV_WAIT:
		return 1;
	case SFH_EV_OUT:
		return out_valid(&e->u.out);
	case SFH_EV_EXPECT_STATE:
		return (unsigned)e->u.state < SFO_NSTATES;
	}
	return 0;
}

static int scn_valid(const struct sfh_scenario *s)
{
	if ((s->role != SFH_ROLE_PASSIVE && s->role != SFH_ROLE_ACTIVE) || s->nev > SFH_MAX_EVENTS)
		return 0;
	if (s->timers >= 1u << SFH_NTIMERS)
		return 0;
	for (unsigned k = 0; k < SFH_NTIMERS; k++)
		if ((s->timers & (1u << k)) ? s->timer_ms[k] == 0 : s->timer_ms[k] != 0)
			return 0;
	for (uint32_t i = 0; i < s->nev; i++)
		if (!ev_valid(&s->ev[i]) || s->ev[i].line != 0 ||
		    s->ev[i].sel != sfh_sel_fold(s->role, &s->ev[i]))
			return 0;
	return 1;
}

/* Offsets a mutator should reach: anchors' neighbours, window edges, the antipode. */
static const int64_t edge_offsets[] = {
    0,	       1,	   -1,	      2,	  -2,	     14,	 -14,	     15,
    -15,       63,	   -64,	      127,	  -128,	     1000,	 -1000,	     65535,
    -65535,    65536,	   TWO31,     -TWO31,	  TWO31 - 1, -TWO31 + 1, TWO31 + 1,  -TWO31 - 1,
    TWO32 - 1, -TWO32 + 1, TWO32 - 2, -TWO32 + 2, 1 << 30,   -(1 << 30), 0x12345678, -0x12345678,
};
#define NEDGES (sizeof edge_offsets / sizeof edge_offsets[0])

static struct sfh_num rand_num(uint64_t *r)
{
	struct sfh_num n;
	uint64_t k = rng_next(r) % 4;

	n.anchor = (uint8_t)(rng_next(r) % SFH_NANCHORS);
	if (k < 2)
		n.off = edge_offsets[rng_next(r) % NEDGES];
	else if (k == 2)
		n.off = (int64_t)(rng_next(r) % 601) - 300;
	else
		n.off = (int64_t)(rng_next(r) % (uint64_t)(2 * TWO32 - 1)) - (TWO32 - 1);
	if (n.anchor == SFH_A_ABS && n.off < 0)
		n.off += TWO32;
	return n;
}

static void rand_in(uint64_t *r, struct sfh_in *in)
{
	static const uint16_t wins[] = {0, 1, 1000, 65534, 65535};

	in->flags = (uint8_t)rng_next(r);
	in->opts = (uint8_t)(rng_next(r) % 16);
	in->has_seq = rng_next(r) % 2;
	in->has_ack = rng_next(r) % 2;
	in->seq = in->has_seq ? rand_num(r) : (struct sfh_num){SFH_A_PNXT, 0};
	in->ack = in->has_ack ? rand_num(r) : (struct sfh_num){SFH_A_TNXT, 0};
	in->len = rng_next(r) % 2 ? (uint32_t)(rng_next(r) % (SFH_MAX_PAYLOAD + 1)) : 0;
	in->wnd = rng_next(r) % 2 ? wins[rng_next(r) % 5] : (uint16_t)rng_next(r);
	in->up = rng_next(r) % 2 ? (uint16_t)rng_next(r) : 0;
	if (in->opts & SFO_OPT_MSS)
		in->mss = (uint16_t)rng_next(r);
	if (in->opts & SFO_OPT_WSCALE)
		in->wscale = (uint8_t)(rng_next(r) % 15);
	if (in->opts & SFO_OPT_TS) {
		in->tsval = (uint32_t)rng_next(r);
		in->tsecr = rng_next(r) % 2 ? (uint32_t)rng_next(r) : 0;
		in->tsval_a = (uint8_t)(rng_next(r) % SFH_NTS_ANCHORS);
		in->tsecr_a = (uint8_t)(rng_next(r) % SFH_NTS_ANCHORS);
	}
}

static void rand_out(uint64_t *r, struct sfh_out *o)
{
	if (rng_next(r) % 4 == 0) {
		o->none = 1;
		return;
	}
	o->flags = (uint8_t)rng_next(r);
	o->has_seq = rng_next(r) % 2;
	o->has_ack = rng_next(r) % 2;
	o->has_len = rng_next(r) % 2;
	if (o->has_seq)
		o->seq = rand_num(r);
	if (o->has_ack)
		o->ack = rand_num(r);
	if (o->has_len)
		o->len = rng_next(r) % 2 ? (uint32_t)(rng_next(r) % 65536) : 0;
	if (rng_next(r) % 2)
		return; /* half without option, window or timing assertions */
	o->has_wnd = rng_next(r) % 2;
	o->wnd = o->has_wnd ? (uint16_t)rng_next(r) : 0;
	o->opt_want = (uint8_t)(rng_next(r) % 16);
	o->opt_none = (uint8_t)(rng_next(r) % 16 & ~o->opt_want);
	if (o->opt_want & SFO_OPT_MSS)
		o->mss = (uint16_t)rng_next(r);
	if (o->opt_want & SFO_OPT_WSCALE)
		o->wscale = (uint8_t)(rng_next(r) % 15);
	if (o->opt_want & SFO_OPT_TS) {
		static const uint32_t spans[] = {0, 0, 1, 1000, 0x7fffffffu, 0xffffffffu};
		o->tsval_span = spans[rng_next(r) % 6];
		o->tsecr_span = spans[rng_next(r) % 6];
		if (o->tsval_span != 0xffffffffu) {
			o->tsval = (uint32_t)rng_next(r);
			o->tsval_a = (uint8_t)(rng_next(r) % SFH_NTS_ANCHORS);
		}
		if (o->tsecr_span != 0xffffffffu) {
			o->tsecr = rng_next(r) % 2 ? (uint32_t)rng_next(r) : 0;
			o->tsecr_a = (uint8_t)(rng_next(r) % SFH_NTS_ANCHORS);
		}
	}
	o->norder = (uint8_t)(rng_next(r) % (SFH_MAX_ORDER + 1));
	for (unsigned i = 0; i < o->norder; i++)
		o->order[i] = (uint8_t)(rng_next(r) % SFH_NOPTKINDS);
	o->has_at = rng_next(r) % 2;
	if (o->has_at) {
		o->at_ms = rng_next(r) % 2 ? (uint32_t)(rng_next(r) % 5000) : (uint32_t)rng_next(r);
		o->tol_ms = rng_next(r) % 2 ? (uint32_t)(rng_next(r) % 100) : 0;
	}
}

/* A random valid, canonical scenario, as the decoder would produce it. */
static void rand_scenario(uint64_t *r, struct sfh_scenario *s)
{
	static const uint32_t waits[] = {0, 1, 200, 999, 1000, 240000, 4294967295u, 4294967000u};

	memset(s, 0, sizeof *s);
	s->role = rng_next(r) % 2 ? SFH_ROLE_ACTIVE : SFH_ROLE_PASSIVE;
	if (rng_next(r) % 4 == 0) {
		s->timers = (uint8_t)(rng_next(r) % 16);
		for (unsigned k = 0; k < SFH_NTIMERS; k++)
			if (s->timers & (1u << k))
				s->timer_ms[k] = rng_next(r) % 2
						     ? 1 + (uint32_t)(rng_next(r) % 60000)
						     : 1 + (uint32_t)(rng_next(r) % 0xffffffffu);
	}
	s->nev = (uint32_t)(rng_next(r) % (SFH_MAX_EVENTS + 1));
	for (uint32_t i = 0; i < s->nev; i++) {
		struct sfh_event *e = &s->ev[i];
		e->type = (enum sfh_ev_type)(rng_next(r) % 5);
		switch (e->type) {
		case SFH_EV_IN:
			rand_in(r, &e->u.in);
			break;
		case SFH_EV_CALL:
			e->u.call.call = (enum sfo_call)(rng_next(r) % SFO_NCALLS);
			if (e->u.call.call == SFO_CALL_SEND || e->u.call.call == SFO_CALL_RECEIVE)
				e->u.call.arg = rng_next(r) % 2 ? (uint32_t)(rng_next(r) % 3000)
								: (uint32_t)rng_next(r);
			break;
		case SFH_EV_WAIT:
			e->u.wait_ms =
			    rng_next(r) % 2 ? waits[rng_next(r) % 8] : (uint32_t)rng_next(r);
			break;
		case SFH_EV_OUT:
			rand_out(r, &e->u.out);
			break;
		case SFH_EV_EXPECT_STATE:
			e->u.state = (enum sfo_state)(rng_next(r) % SFO_NSTATES);
			break;
		}
		/* a selector on one event in three, made valid for the event and role */
		if (rng_next(r) % 3 == 0) {
			e->sel = (uint8_t)(rng_next(r) % (SFH_SEL_LISTENER + 1));
			e->sel = sfh_sel_fold(s->role, e);
		}
	}
}

/* The properties every decoded scenario has: valid, text round trip, binary round trip
 * with a fixed-point encoding. Returns 0 if all hold (and counts a failure otherwise). */
static int check_decoded(const struct sfh_scenario *s, const char *what)
{
	static char text[16384];
	static uint8_t bin[SFH_MAX_ENCODED + 16], bin2[SFH_MAX_ENCODED + 16];
	struct sfh_scenario back, back2;
	char err[256] = "";
	size_t tn, bn, bn2;
	int ok = 1;

	ok &= scn_valid(s);
	tn = sfh_scn_format(s, text, sizeof text);
	ok &= tn < sizeof text && sfh_scn_parse(text, tn, what, &back, err, sizeof err) == 0 &&
	      sfh_scn_equal(s, &back);
	bn = sfh_scn_encode(s, bin, sizeof bin);
	ok &= bn <= SFH_MAX_ENCODED;
	sfh_scn_decode(bin, bn, &back2);
	ok &= sfh_scn_equal(s, &back2);
	bn2 = sfh_scn_encode(&back2, bin2, sizeof bin2);
	ok &= bn2 == bn && memcmp(bin, bin2, bn) == 0;
	if (!ok) {
		fprintf(stderr, "%s: decoded scenario fails a property (%s)\n%s", what, err, text);
		CHECK(0);
	}
	return ok ? 0 : -1;
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The sample scenarios shared with test_scenario: tests/harness/data/scn_ok_*.scn. */
static size_t load_samples(struct sfh_scenario *out, size_t max)
{
	DIR *d = opendir(DATA_DIR);
	struct dirent *de;
	static char names[64][128];
	char *ptr[64];
	size_t n = 0, good = 0;

	if (!d)
		return 0;
	while ((de = readdir(d)) && n < 64) {
		size_t l = strlen(de->d_name);
		if (strncmp(de->d_name, "scn_ok_", 7) == 0 && l > 4 && l < 100 &&
		    strcmp(de->d_name + l - 4, ".scn") == 0) {
			snprintf(names[n], sizeof names[0], "%s/%s", DATA_DIR, de->d_name);
			ptr[n] = names[n];
			n++;
		}
	}
	closedir(d);
	qsort(ptr, n, sizeof ptr[0], name_cmp);
	for (size_t i = 0; i < n && good < max; i++) {
		char err[256] = "";
		if (sfh_scn_load(ptr[i], &out[good], err, sizeof err) == 0)
			good++;
		CHECK_STR(err, "");
	}
	return good;
}

static struct sfh_scenario samples[64];
static size_t nsamples;

/* ---- layout ---- */

static void decode_bytes(const uint8_t *b, size_t n, struct sfh_scenario *s)
{
	sfh_scn_decode(b, n, s);
	CHECK(scn_valid(s));
}

static void test_decode_empty_input_is_passive_without_events(void)
{
	static const uint8_t one[] = {0xff};
	struct sfh_scenario s;

	memset(&s, 0xa5, sizeof s);
	decode_bytes(NULL, 0, &s);
	CHECK_EQ(s.role, SFH_ROLE_PASSIVE);
	CHECK_EQ(s.nev, 0);
	decode_bytes(one, 0, &s);
	CHECK_EQ(s.nev, 0);
	decode_bytes(one, 1, &s);
	CHECK_EQ(s.role, SFH_ROLE_ACTIVE);
	CHECK_EQ(s.nev, 0);
	/* ROLE bits 4-7: all four timer settings, their missing values read 0: 1 ms */
	CHECK_EQ(s.timers, 15);
	CHECK_EQ(s.timer_ms[SFH_TM_MSL], 1);
	CHECK_EQ(sfh_scn_encode(&s, NULL, 0), 5);
}

/* Known bytes, one per layout rule, read back as text. */
static void test_decode_layout_examples(void)
{
	static const struct {
		uint8_t b[16];
		size_t n;
		const char *text;
	} cases[] = {
	    {{0x01, 0x00, 0x12, 0x03, 0x09, 0x04}, 6, "role active\nin S. seq=pisn-1 ack=tnxt\n"},
	    {{0x00, 0x00}, 2, "role passive\nin -\n"}, /* F and P missing: read as 0 */
	    /* ROLE bit 1: IPv6; H 5 is `in` too */
	    {{0x02, 0x05, 0x02, 0x00}, 4, "role passive\nfamily ipv6\nin S\n"},
	    {{0x00, 0x01, 0x19, 0x64, 0xff},
	     5,
	     "role passive\ncall listen\ncall send 100\ncall abort conn=1 => 0\n"}, /* X bit 3: a
										       result */
	    {{0x00, 0x61, 0x05, 0x17, 0x27},
	     5, /* calls 12 & 7 with a result (error 1 + 11), 4; the last arg missing */
	     "role passive\ncall receive 5 => ENOBUFS\ncall receive\n"},
	    {{0x00, 0x59, 0x64, 0x00, 0x03, 0x61, 0x00, 0x05, 0x59, 0x0a, 0x00, 0x0b},
	     12, /* success with a count (folded to 11 % (10 + 1)), and an error */
	     "role passive\ncall send 100 => 3\ncall receive => ECONNRESET\ncall send 10 => 0\n"},
	    {{0x00, 0x0a, 0xf0, 0x01, 0x02, 0xe7, 0x07}, 7, "role passive\nwait 240s\nwait 999\n"},
	    {{0x00, 0x02, 0xff, 0xff, 0xff, 0xff, 0xff}, 7, "role passive\nwait 4294967295\n"},
	    {{0x00, 0x0b, 0x03, 0x10, 0x07, 0x61, 0xf4, 0x00, 0x05},
	     9,
	     "role passive\nout none\nout . seq=pisn+6 ack=tnxt+2147483648 len=5\n"},
	    {{0x00, 0x24, 0x5c, 0x4c},
	     4,
	     "role passive\nexpect state ESTABLISHED\nexpect state CLOSED\n"
	     "expect state LAST-ACK\n"},
	    /* selectors: expect X bit 4 (byte 4: the listener, a missing byte: conn=1), out
	     * X bit 1, call X bit 4 (listen: the bit alone), in P bit 6 after every field */
	    {{0x00, 0xa4, 0x04, 0xfc},
	     4,
	     "role passive\nexpect state ESTABLISHED listener\nexpect state ESTABLISHED conn=1\n"},
	    {{0x00, 0x1b, 0x01, 0x13, 0x10, 0x00, 0x02},
	     7,
	     "role passive\nout none conn=2\nout . conn=3\n"},
	    {{0x00, 0x81, 0x99, 0x64, 0x02, 0x99, 0x64, 0x05},
	     8,
	     "role passive\ncall listen listener\ncall send 100 conn=3\ncall send 100 conn=1\n"},
	    {{0x01, 0x99, 0x64, 0x04, 0xb1, 0x04},
	     6, /* the active role has no listener: byte 4 folds to conn=1 */
	     "role active\ncall send 100 conn=1\ncall close conn=1\n"},
	    {{0x00, 0x00, 0x02, 0x44, 0x05, 0x01}, 6, "role passive\nin S len=5 conn=2\n"},
	    {{0x00, 0x00, 0x00, 0x03, 0xfc, 0x00, 0xec, 0x03},
	     8,
	     "role passive\nin - seq=tnxt-2147483648 ack=tnxt-2\n"},
	    {{0x00, 0x00, 0x00, 0x03, 0x08, 0x07},
	     6, /* ABS -1 is 2^32-1; code 7 is ABS */
	     "role passive\nin - seq=4294967295 ack=0\n"},
	    {{0x00, 0x00, 0x00, 0x04, 0xff, 0x0f}, 6, "role passive\nin - len=646\n"},
	    {{0x00, 0x00, 0x00, 0x3c, 0x0f, 0x00, 0x00, 0x10, 0x01, 0x00, 0xb4, 0x05, 0x0f, 0x01,
	      0x02},
	     15,
	     "role passive\nin - win=4096 up=1 mss=1460 ws=0 sackok ts=1,2\n"},
	    {{0x00, 0x00, 0x00, 0x01, 0xeb, 0xfe, 0xff, 0xff, 0xff, 0x7f},
	     10,
	     "role passive\nin - seq=pnxt+4294967295\n"}, /* 2^35-2 folds by % 2^32 */
	};
	char buf[512];

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct sfh_scenario s;
		decode_bytes(cases[i].b, cases[i].n, &s);
		sfh_scn_format(&s, buf, sizeof buf);
		CHECK_STR(buf, cases[i].text);
	}
}

/* The byte cost of one seq number in an `in` event (role, H, F, P come first). */
static size_t num_cost(int anchor, int64_t off)
{
	struct sfh_scenario s;
	uint8_t buf[64];
	struct sfh_scenario back;
	size_t n;

	memset(&s, 0, sizeof s);
	s.nev = 1;
	s.ev[0].type = SFH_EV_IN;
	s.ev[0].u.in.has_seq = 1;
	s.ev[0].u.in.seq.anchor = (uint8_t)anchor;
	s.ev[0].u.in.seq.off = off;
	s.ev[0].u.in.ack.anchor = SFH_A_TNXT;
	s.ev[0].u.in.wnd = SFH_DEFAULT_WND;
	n = sfh_scn_encode(&s, buf, sizeof buf);
	sfh_scn_decode(buf, n, &back);
	CHECK(sfh_scn_equal(&s, &back));
	return n - 4;
}

static void test_encode_numbers_near_anchors_are_short(void)
{
	for (int a = SFH_A_PISN; a < SFH_NANCHORS; a++) {
		CHECK_EQ(num_cost(a, 0), 1);
		CHECK_EQ(num_cost(a, 1), 1);
		CHECK_EQ(num_cost(a, -1), 1);
		CHECK_EQ(num_cost(a, 14), 1);
		CHECK_EQ(num_cost(a, -14), 1);
		CHECK_EQ(num_cost(a, 15), 2);
		CHECK_EQ(num_cost(a, -64), 2);
		CHECK_EQ(num_cost(a, 1000), 3);
		CHECK_EQ(num_cost(a, TWO31), 2);
		CHECK_EQ(num_cost(a, -TWO31), 2);
		CHECK_EQ(num_cost(a, TWO31 - 1), 2);
		CHECK_EQ(num_cost(a, TWO31 + 1), 2);
		CHECK_EQ(num_cost(a, -TWO31 + 1), 2);
		CHECK_EQ(num_cost(a, TWO32 - 1), 6);
		CHECK_EQ(num_cost(a, -TWO32 + 1), 6);
	}
	CHECK_EQ(num_cost(SFH_A_ABS, 0), 1);
	CHECK_EQ(num_cost(SFH_A_ABS, 14), 1);
	CHECK_EQ(num_cost(SFH_A_ABS, TWO32 - 1), 1); /* as -1 */
	CHECK_EQ(num_cost(SFH_A_ABS, TWO32 - 14), 1);
	CHECK_EQ(num_cost(SFH_A_ABS, TWO31), 2);
	CHECK_EQ(num_cost(SFH_A_ABS, TWO31 - 1), 2);
}

/* ---- round trips ---- */

static void check_binary_round_trip(const struct sfh_scenario *s, const char *what)
{
	static uint8_t buf[SFH_MAX_ENCODED + 64], small[SFH_MAX_ENCODED + 64];
	struct sfh_scenario back;
	size_t n = sfh_scn_encode(s, buf, sizeof buf);

	CHECK(n <= SFH_MAX_ENCODED);
	sfh_scn_decode(buf, n, &back);
	if (!sfh_scn_equal(s, &back)) {
		fprintf(stderr, "%s: decode(encode(s)) differs\n", what);
		CHECK(0);
	}
	CHECK_EQ(check_decoded(&back, what), 0);
	/* encode writes at most cap bytes and still returns the full length */
	for (size_t cap = 0; cap <= n; cap += 1 + cap / 3) {
		memset(small, 0xcc, sizeof small);
		CHECK_EQ(sfh_scn_encode(s, small, cap), n);
		CHECK(memcmp(small, buf, cap) == 0);
		CHECK_EQ(small[cap], 0xcc);
	}
}

static void test_round_trip_samples(void)
{
	CHECK(nsamples >= 12);
	for (size_t i = 0; i < nsamples; i++)
		check_binary_round_trip(&samples[i], "sample");
}

static void test_round_trip_every_anchor_and_edge_offset(void)
{
	struct sfh_scenario s;
	size_t k = 0;

	for (int a = 0; a < SFH_NANCHORS; a++) {
		for (size_t i = 0; i < NEDGES; i++) {
			int b = (a + 1) % SFH_NANCHORS; /* ack's anchor */
			int64_t off = edge_offsets[i], off_b = edge_offsets[NEDGES - 1 - i];
			if (a == SFH_A_ABS && off < 0)
				off += TWO32;
			if (b == SFH_A_ABS && off_b < 0)
				off_b += TWO32;
			memset(&s, 0, sizeof s);
			s.nev = 2;
			s.ev[0].type = SFH_EV_IN;
			s.ev[0].u.in.has_seq = s.ev[0].u.in.has_ack = 1;
			s.ev[0].u.in.seq = (struct sfh_num){(uint8_t)a, off};
			s.ev[0].u.in.ack = (struct sfh_num){(uint8_t)b, off_b};
			s.ev[0].u.in.wnd = SFH_DEFAULT_WND;
			s.ev[1].type = SFH_EV_OUT;
			s.ev[1].u.out.has_seq = 1;
			s.ev[1].u.out.seq = s.ev[0].u.in.seq;
			check_binary_round_trip(&s, "edge offset");
			k++;
		}
	}
	CHECK_EQ(k, SFH_NANCHORS * NEDGES);
}

static void test_round_trip_random_valid_scenarios(void)
{
	uint64_t rng = 7;
	struct sfh_scenario s;

	for (int i = 0; i < 20000; i++) {
		rand_scenario(&rng, &s);
		CHECK(scn_valid(&s));
		check_binary_round_trip(&s, "random valid");
	}
}

/* An invalid struct still encodes: fields fold as the decoder folds them. */
static void test_encode_folds_invalid_fields(void)
{
	struct sfh_scenario s, back;
	uint8_t buf[SFH_MAX_ENCODED];
	size_t n;

	memset(&s, 0, sizeof s);
	s.role = (enum sfh_role)7;
	s.nev = SFH_MAX_EVENTS + 10;
	for (int i = 0; i < SFH_MAX_EVENTS; i++) {
		s.ev[i].type = SFH_EV_IN;
		s.ev[i].u.in.has_seq = 3;
		s.ev[i].u.in.seq = (struct sfh_num){(uint8_t)(9 + i), (INT64_C(1) << 40) - i};
		s.ev[i].u.in.len = 100000;
		s.ev[i].u.in.opts = 0xff;
		s.ev[i].u.in.wscale = 200;
	}
	s.ev[1].type = SFH_EV_CALL;
	s.ev[1].u.call.call = (enum sfo_call)100;
	s.ev[2].type = SFH_EV_EXPECT_STATE;
	s.ev[2].u.state = SFO_STATE_UNKNOWN;
	n = sfh_scn_encode(&s, buf, sizeof buf);
	CHECK(n <= SFH_MAX_ENCODED);
	sfh_scn_decode(buf, n, &back);
	CHECK(scn_valid(&back));
	CHECK_EQ(back.nev, SFH_MAX_EVENTS);
	CHECK_EQ(check_decoded(&back, "folded"), 0);
}

/* ---- totality ---- */

static size_t random_bytes(uint64_t *r, uint8_t *buf, size_t cap)
{
	size_t n = (size_t)(rng_next(r) % 8 == 0 ? rng_next(r) % cap : rng_next(r) % 200);
	uint64_t style = rng_next(r) % 4;

	for (size_t i = 0; i < n; i++) {
		uint64_t v = rng_next(r);
		/* uniform bytes, small bytes (short varints, low type codes), or 0x00/0xff runs */
		buf[i] = style == 0   ? (uint8_t)v
			 : style == 1 ? (uint8_t)(v % 16)
			 : style == 2 ? (uint8_t)(v % 3 == 0   ? 0xff
						  : v % 3 == 1 ? 0
							       : v >> 8)
				      : (uint8_t)(v % 2 ? 0x80 | (v >> 8) : v >> 8);
	}
	return n;
}

/* A sample's encoding with a few byte-level mutations, as libFuzzer would apply. */
static size_t mutated_sample(uint64_t *r, uint8_t *buf, size_t cap)
{
	size_t n = sfh_scn_encode(&samples[rng_next(r) % nsamples], buf, cap);

	for (int m = (int)(rng_next(r) % 4) + 1; m > 0 && n > 0 && n < cap; m--) {
		size_t at = (size_t)(rng_next(r) % n);
		switch (rng_next(r) % 4) {
		case 0:
			buf[at] ^= (uint8_t)(1u << (rng_next(r) % 8));
			break;
		case 1:
			buf[at] = (uint8_t)rng_next(r);
			break;
		case 2:
			memmove(buf + at + 1, buf + at, n - at);
			buf[at] = (uint8_t)rng_next(r);
			n++;
			break;
		default:
			memmove(buf + at, buf + at + 1, n - at - 1);
			n--;
		}
	}
	return n;
}

static void test_decode_is_total_on_random_bytes(void)
{
	static uint8_t buf[4096];
	uint64_t rng = 2024;
	size_t failures = 0, maxed = 0;

	for (int i = 0; i < 200000; i++) {
		size_t n = (i % 4 == 3 && nsamples) ? mutated_sample(&rng, buf, sizeof buf)
						    : random_bytes(&rng, buf, sizeof buf);
		struct sfh_scenario s;
		sfh_scn_decode(buf, n, &s);
		maxed += s.nev == SFH_MAX_EVENTS;
		if (check_decoded(&s, "random bytes") != 0 && ++failures >= 5)
			break;
	}
	CHECK_EQ(failures, 0);
	CHECK(maxed > 0); /* long inputs stop at SFH_MAX_EVENTS */
}

/* Every prefix of a valid encoding decodes to a valid scenario whose complete events are
 * the original's; a partial last event still decodes (missing bytes read as 0). */
static void check_prefixes(const struct sfh_scenario *s)
{
	static uint8_t buf[SFH_MAX_ENCODED];
	size_t start[SFH_MAX_EVENTS + 1];
	struct sfh_scenario part = *s;
	size_t n = sfh_scn_encode(s, buf, sizeof buf);

	for (uint32_t i = 0; i <= s->nev; i++) {
		part.nev = i;
		start[i] = sfh_scn_encode(&part, NULL, 0);
	}
	CHECK_EQ(start[s->nev], n);
	for (size_t k = 0; k <= n; k++) {
		struct sfh_scenario d;
		uint32_t whole = 0, begun = 0;
		sfh_scn_decode(buf, k, &d);
		CHECK(scn_valid(&d));
		while (whole < s->nev && start[whole + 1] <= k)
			whole++;
		while (begun < s->nev && start[begun] < k)
			begun++;
		CHECK_EQ(d.nev, begun);
		CHECK_EQ(d.role, k ? s->role : SFH_ROLE_PASSIVE);
		part.nev = whole;
		d.nev = whole;
		d.role = s->role; /* k == 0: no role byte, checked above */
		CHECK_EQ(d.timers, k ? s->timers : 0);
		if (k < start[0]) /* inside the timer values: the missing bytes read 0 */
			memcpy(d.timer_ms, s->timer_ms, sizeof d.timer_ms), d.timers = s->timers;
		CHECK(sfh_scn_equal(&part, &d));
	}
}

/* A scenario without selectors encodes as it always did: a selector costs one byte on the
 * event that carries it and nothing elsewhere. */
static void test_selectors_cost_one_byte(void)
{
	struct sfh_scenario s, back;
	uint8_t a[64], b[64];
	char err[256] = "";
	static const char plain[] = "role passive\nin S\ncall close\nout .\nexpect state CLOSED\n";
	static const char sel[] = "role passive\nin S conn=2\ncall close listener\nout . "
				  "conn=2\nexpect state CLOSED listener\n";
	CHECK_EQ(sfh_scn_parse(plain, strlen(plain), "p", &s, err, sizeof err), 0);
	size_t n = sfh_scn_encode(&s, a, sizeof a);
	static const uint8_t want[] = {0x00, 0x00, 0x02, 0x00, 0x31, 0x03, 0x10, 0x00, 0x04};
	CHECK_EQ(n, sizeof want);
	CHECK(memcmp(a, want, sizeof want) == 0);
	CHECK_EQ(sfh_scn_parse(sel, strlen(sel), "s", &s, err, sizeof err), 0);
	size_t m = sfh_scn_encode(&s, b, sizeof b);
	CHECK_EQ(m, n + 4);
	sfh_scn_decode(b, m, &back);
	CHECK(sfh_scn_equal(&s, &back));
	CHECK_EQ(back.ev[1].sel, SFH_SEL_LISTENER);
	CHECK_EQ(back.ev[2].sel, 2);
	CHECK(sfh_scn_multi(&back));
	CHECK(!sfh_scn_multi(&(struct sfh_scenario){.nev = 0}));
}

static void test_decode_truncated_encodings(void)
{
	uint64_t rng = 99;
	struct sfh_scenario s;

	for (size_t i = 0; i < nsamples; i++)
		check_prefixes(&samples[i]);
	for (int i = 0; i < 300; i++) {
		rand_scenario(&rng, &s);
		check_prefixes(&s);
	}
}

int main(void)
{
	test_selectors_cost_one_byte();
	nsamples = load_samples(samples, 64);
	test_decode_empty_input_is_passive_without_events();
	test_decode_layout_examples();
	test_encode_numbers_near_anchors_are_short();
	test_round_trip_samples();
	test_round_trip_every_anchor_and_edge_offset();
	test_round_trip_random_valid_scenarios();
	test_encode_folds_invalid_fields();
	test_decode_is_total_on_random_bytes();
	test_decode_truncated_encodings();
	return check_done();
}
