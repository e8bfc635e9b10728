/* synfin scenarios: names, equality, selectors and reading a scenario file. The text
 * grammar is in scenario.h; its parser is scenario_parse.c, its formatter scenario_format.c,
 * the binary form (what libFuzzer mutates) scenario_bin.c.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* the GNU strerror_r, which returns the message and is reentrant */
#endif
#include "scenario.h"
#include "safeio.h"
#include "scenario_priv.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define SFH_LOAD_MAX (1u << 20) /* sfh_scn_load refuses larger files */

_Static_assert(SFH_NANCHORS <= 8, "anchor code has 3 bits");
_Static_assert(SFO_NCALLS <= 32 && SFO_NSTATES <= 32, "call and state fit in H >> 3");
_Static_assert(SFH_MAX_PAYLOAD < 16384, "len fits a 2-byte varint (SFH_MAX_ENCODED)");
_Static_assert(SFH_NTS_ANCHORS <= 4, "a timestamp anchor code has 2 bits");

/* ---- names ---- */

const char *const sfh_anchor_names[SFH_NANCHORS] = {
#define SFH_X(id, name) name,
    SFH_ANCHORS(SFH_X)
#undef SFH_X
};

const char *sfh_anchor_name(enum sfh_anchor a)
{
	return (unsigned)a < SFH_NANCHORS ? sfh_anchor_names[a] : "?";
}

const char *const sfh_ts_anchor_names[SFH_NTS_ANCHORS] = {
#define SFH_X(id, name) name,
    SFH_TS_ANCHORS(SFH_X)
#undef SFH_X
};

const char *sfh_ts_anchor_name(enum sfh_ts_anchor a)
{
	return (unsigned)a < SFH_NTS_ANCHORS ? sfh_ts_anchor_names[a] : "?";
}

const char *const sfh_optkind_names[SFH_NOPTKINDS] = {
#define SFH_X(id, name, kind) name,
    SFH_OPTKINDS(SFH_X)
#undef SFH_X
};
static const uint8_t optkind_wire[SFH_NOPTKINDS] = {
#define SFH_X(id, name, kind) kind,
    SFH_OPTKINDS(SFH_X)
#undef SFH_X
};

const char *sfh_optkind_name(enum sfh_optkind k)
{
	return (unsigned)k < SFH_NOPTKINDS ? sfh_optkind_names[k] : "?";
}

enum sfh_optkind sfh_optkind_of(uint8_t wire_kind)
{
	for (unsigned i = 0; i < SFH_OK_OTHER; i++)
		if (optkind_wire[i] == wire_kind)
			return (enum sfh_optkind)i;
	return SFH_OK_OTHER;
}

const char *const sfh_timer_names[SFH_NTIMERS] = {
#define SFH_X(id, name) name,
    SFH_TIMERS(SFH_X)
#undef SFH_X
};

const char *sfh_timer_name(enum sfh_timer k)
{
	return (unsigned)k < SFH_NTIMERS ? sfh_timer_names[k] : "?";
}

static uint32_t resolve_ts(uint8_t a, uint32_t off, const uint32_t ts[SFH_NTS_ANCHORS])
{
	return (ts && a != SFH_TS_ABS && a < SFH_NTS_ANCHORS ? ts[a] : 0) + off;
}

static uint32_t resolve_num(const struct sfh_num *n, const uint32_t value[SFH_NANCHORS])
{
	uint32_t base = n->anchor == SFH_A_ABS || n->anchor >= SFH_NANCHORS ? 0 : value[n->anchor];
	return base + (uint32_t)n->off;
}

void sfh_in_to_seg(const struct sfh_in *in, const uint32_t value[SFH_NANCHORS],
		   const uint32_t ts[SFH_NTS_ANCHORS], struct sfo_seg *seg)
{
	memset(seg, 0, sizeof *seg);
	seg->flags = in->flags;
	seg->seq = in->has_seq ? resolve_num(&in->seq, value) : value[SFH_A_PNXT];
	if (in->has_ack)
		seg->ack = resolve_num(&in->ack, value);
	else
		seg->ack = (in->flags & SFO_ACK) ? value[SFH_A_TNXT] : 0;
	seg->len = in->len;
	seg->wnd = in->wnd;
	seg->up = in->up;
	seg->opts = in->opts;
	seg->mss = in->mss;
	seg->wscale = in->wscale;
	seg->tsval = resolve_ts(in->tsval_a, in->tsval, ts);
	seg->tsecr = resolve_ts(in->tsecr_a, in->tsecr, ts);
}

/* Flag letters by bit: FIN SYN RST PSH ACK URG ECE CWR, the order tcpdump prints. */
const char sfh_flag_letters[8] = {'F', 'S', 'R', 'P', '.', 'U', 'E', 'W'};

void sfh_flags_str(uint8_t f, char out[9])
{
	size_t n = 0;
	for (unsigned i = 0; i < 8; i++)
		if (f & (1u << i))
			out[n++] = sfh_flag_letters[i];
	if (n == 0)
		out[n++] = '-';
	out[n] = '\0';
}

/* ---- scenario equality ---- */

static int num_eq(const struct sfh_num *a, const struct sfh_num *b)
{
	return a->anchor == b->anchor && a->off == b->off;
}

/* seq/ack compare only when present, option fields only with their option. */
static int in_eq(const struct sfh_in *a, const struct sfh_in *b)
{
	if (a->flags != b->flags || a->opts != b->opts || a->len != b->len || a->wnd != b->wnd ||
	    a->up != b->up || !a->has_seq != !b->has_seq || !a->has_ack != !b->has_ack)
		return 0;
	if (a->has_seq && !num_eq(&a->seq, &b->seq))
		return 0;
	if (a->has_ack && !num_eq(&a->ack, &b->ack))
		return 0;
	if ((a->opts & SFO_OPT_MSS) && a->mss != b->mss)
		return 0;
	if ((a->opts & SFO_OPT_WSCALE) && a->wscale != b->wscale)
		return 0;
	if ((a->opts & SFO_OPT_TS) && (a->tsval != b->tsval || a->tsecr != b->tsecr ||
				       a->tsval_a != b->tsval_a || a->tsecr_a != b->tsecr_a))
		return 0;
	return 1;
}

/* A ts= pattern: any value (span 2^32-1) whatever its anchor, else all three fields. */
static int tspat_eq(uint8_t aa, uint32_t av, uint32_t as, uint8_t ba, uint32_t bv, uint32_t bs)
{
	if (as == U32_MAX || bs == U32_MAX)
		return as == bs;
	return aa == ba && av == bv && as == bs;
}

/* Option, window and timing assertions of an `out` line (values only where asserted). */
static int out_opts_eq(const struct sfh_out *a, const struct sfh_out *b)
{
	if (a->opt_want != b->opt_want || a->opt_none != b->opt_none ||
	    !a->has_wnd != !b->has_wnd || a->norder != b->norder || !a->has_at != !b->has_at)
		return 0;
	if (a->has_wnd && a->wnd != b->wnd)
		return 0;
	if ((a->opt_want & SFO_OPT_MSS) && a->mss != b->mss)
		return 0;
	if ((a->opt_want & SFO_OPT_WSCALE) && a->wscale != b->wscale)
		return 0;
	if ((a->opt_want & SFO_OPT_TS) &&
	    (!tspat_eq(a->tsval_a, a->tsval, a->tsval_span, b->tsval_a, b->tsval, b->tsval_span) ||
	     !tspat_eq(a->tsecr_a, a->tsecr, a->tsecr_span, b->tsecr_a, b->tsecr, b->tsecr_span)))
		return 0;
	for (unsigned i = 0; i < a->norder && i < SFH_MAX_ORDER; i++)
		if (a->order[i] != b->order[i])
			return 0;
	return !a->has_at || (a->at_ms == b->at_ms && a->tol_ms == b->tol_ms);
}

static int out_eq(const struct sfh_out *a, const struct sfh_out *b)
{
	if (!a->none != !b->none)
		return 0;
	if (a->none)
		return 1;
	if (a->flags != b->flags || !a->has_seq != !b->has_seq || !a->has_ack != !b->has_ack ||
	    !a->has_len != !b->has_len)
		return 0;
	if (a->has_seq && !num_eq(&a->seq, &b->seq))
		return 0;
	if (a->has_ack && !num_eq(&a->ack, &b->ack))
		return 0;
	if (a->has_len && a->len != b->len)
		return 0;
	return out_opts_eq(a, b);
}

static int ev_eq(const struct sfh_event *a, const struct sfh_event *b)
{
	if (a->type != b->type || a->sel != b->sel)
		return 0;
	switch (a->type) {
	case SFH_EV_IN:
		return in_eq(&a->u.in, &b->u.in);
	case SFH_EV_CALL:
		return a->u.call.call == b->u.call.call &&
		       (!call_has_arg(a->u.call.call) || a->u.call.arg == b->u.call.arg) &&
		       a->u.call.has_res == b->u.call.has_res &&
		       (!a->u.call.has_res || (a->u.call.res_err == b->u.call.res_err &&
					       a->u.call.res_n == b->u.call.res_n));
	case SFH_EV_WAIT:
		return a->u.wait_ms == b->u.wait_ms;
	case SFH_EV_OUT:
		return out_eq(&a->u.out, &b->u.out);
	case SFH_EV_EXPECT_STATE:
		return a->u.state == b->u.state;
	}
	return 0; /* a type outside the enum: never equal */
}

int sfh_scn_equal(const struct sfh_scenario *a, const struct sfh_scenario *b)
{
	if (a->role != b->role || a->nev != b->nev || a->nev > SFH_MAX_EVENTS ||
	    !a->has_isn != !b->has_isn)
		return 0;
	if (a->has_isn && (a->pisn != b->pisn || a->tisn != b->tisn))
		return 0;
	if (a->timers != b->timers)
		return 0;
	for (unsigned k = 0; k < SFH_NTIMERS; k++)
		if ((a->timers & (1u << k)) && a->timer_ms[k] != b->timer_ms[k])
			return 0;
	if (!a->ipv6 != !b->ipv6)
		return 0;
	for (uint32_t i = 0; i < a->nev; i++)
		if (!ev_eq(&a->ev[i], &b->ev[i]))
			return 0;
	return 1;
}

/* ---- selectors ---- */

int sfh_scn_multi(const struct sfh_scenario *s)
{
	for (uint32_t i = 0; i < s->nev && i < SFH_MAX_EVENTS; i++)
		if (s->ev[i].sel != SFH_SEL_NONE)
			return 1;
	return 0;
}

/* What may carry which selector (scenario.h): a connection only, or the listener too. */
enum sel_kind { SEL_NONE, SEL_CONN, SEL_LISTENER, SEL_ANY };

static enum sel_kind sel_kind(enum sfh_role role, const struct sfh_event *e)
{
	int passive = role == SFH_ROLE_PASSIVE;
	switch (e->type) {
	case SFH_EV_IN:
	case SFH_EV_OUT:
		return SEL_CONN;
	case SFH_EV_WAIT:
		return SEL_NONE;
	case SFH_EV_EXPECT_STATE:
		return passive ? SEL_ANY : SEL_CONN;
	case SFH_EV_CALL:
		switch (e->u.call.call) {
		case SFO_CALL_LISTEN:
			return passive ? SEL_LISTENER : SEL_NONE;
		case SFO_CALL_CONNECT:
		case SFO_CALL_ACCEPT:
		case SFO_CALL_SEND:
		case SFO_CALL_RECEIVE:
			return SEL_CONN;
		case SFO_CALL_SHUTDOWN:
		case SFO_CALL_CLOSE:
		case SFO_CALL_ABORT:
			return passive ? SEL_ANY : SEL_CONN;
		}
	}
	return SEL_NONE;
}

uint8_t sfh_sel_fold(enum sfh_role role, const struct sfh_event *e)
{
	unsigned sel = e->sel;
	if (sel == SFH_SEL_NONE)
		return SFH_SEL_NONE;
	switch (sel_kind(role, e)) {
	case SEL_NONE:
		return SFH_SEL_NONE;
	case SEL_LISTENER:
		return SFH_SEL_LISTENER;
	case SEL_CONN:
		return (uint8_t)(1 + (sel - 1) % SFH_MAX_CONNS);
	case SEL_ANY:
		return (uint8_t)(1 + (sel - 1) % (SFH_MAX_CONNS + 1));
	}
	return SFH_SEL_NONE;
}

const char *sfh_sel_name(uint8_t sel)
{
	static const char *const names[SFH_MAX_CONNS + 2] = {"",       "conn=1", "conn=2",
							     "conn=3", "conn=4", "listener"};
	_Static_assert(SFH_MAX_CONNS == 4, "names above");
	return sel <= SFH_SEL_LISTENER ? names[sel] : "?";
}

int sfh_file_read(const char *path, char **text, size_t *len, char *err, size_t errlen)
{
	char eb[128];
	struct stat st;
	size_t cap, n = 0;
	*text = NULL;
	*len = 0;
	if (!path) {
		set_err(err, errlen, "(null): no file name");
		return -1;
	}
	/* A regular file only (a FIFO would hang the read), and not through a link another
	 * user planted to a file it does not own: its first bytes would reach the error
	 * message (safeio.h). */
	int fd = sfh_io_open_read_st(path, SFH_IO_OWNED_LINKS, &st, err, errlen);
	if (fd < 0) {
		return -1;
	}
	/* The size is a hint (a file may grow while read); one byte more than the limit
	 * tells "too large" from "exactly the limit". */
	cap = st.st_size < SFH_LOAD_MAX ? (size_t)st.st_size + 2 : SFH_LOAD_MAX + 2;
	char *buf = malloc(cap);
	if (!buf) {
		set_err(err, errlen, "%s: out of memory", path);
		close(fd);
		return -1;
	}
	for (;;) {
		if (n == cap - 1) {
			if (cap > SFH_LOAD_MAX + 1)
				break;
			size_t ncap = cap * 2 > SFH_LOAD_MAX + 2 ? SFH_LOAD_MAX + 2 : cap * 2;
			char *nb = realloc(buf, ncap);
			if (!nb) {
				set_err(err, errlen, "%s: out of memory", path);
				goto fail;
			}
			buf = nb;
			cap = ncap;
		}
		size_t want = cap - 1 - n;
		ssize_t got = read(fd, buf + n, want);
		if (got < 0 && (errno == EINTR || (errno == EAGAIN && sfh_io_blocking(fd) == 0)))
			continue;
		if (got < 0) {
			set_err(err, errlen, "%s: %s", path, strerror_r(errno, eb, sizeof eb));
			goto fail;
		}
		if (got == 0)
			break;
		n += (size_t)got;
		/* a regular file reads short only at its end: no read for the end-of-file */
		if ((size_t)got < want)
			break;
	}
	if (n > SFH_LOAD_MAX) {
		set_err(err, errlen, "%s: file too large (more than %u bytes)", path, SFH_LOAD_MAX);
		goto fail;
	}
	close(fd);
	buf[n] = 0;
	*text = buf;
	*len = n;
	return 0;
fail:
	free(buf);
	close(fd);
	return -1;
}

int sfh_scn_load(const char *path, struct sfh_scenario *out, char *err, size_t errlen)
{
	char *buf;
	size_t n;
	if (sfh_file_read(path, &buf, &n, err, errlen) != 0)
		return -1;
	int rc = sfh_scn_parse(buf, n, path, out, err, errlen);
	free(buf);
	return rc;
}
