/* Export a scenario as a packetdrill script (packetdrill.h; docs/packetdrill.md).
 *
 * The scenario is played on a target with the runner's step feed and a capture: the feed
 * gives each step's event, what the stack emitted and the model's reference outcome; the
 * capture gives the emitted segments' option bytes as sent, which packetdrill compares
 * exactly. The script uses packetdrill's own numbering: the peer's sequence numbers from
 * 0 at synfin's ISN, the stack's relative to its ISN, absolute times in seconds.
 */
#include <errno.h>
#include <pcap/pcap.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "packetdrill.h"
#include "runner.h"
#include "target.h"
#include "wire.h"

#define PD_MAX_STEPS  (SFH_MAX_EVENTS + 2)
#define PD_MAX_SEGS   16
#define PD_MAX_FRAMES (PD_MAX_STEPS * (PD_MAX_SEGS + 1))
#define PD_SLACK_MS   250 /* how late an answer to a step may come (delayed ACKs) */
#define PD_PROBE_MS   500 /* the closing probe, this long after the last step */

struct pd_step {
	int event;
	uint32_t line;
	struct sfo_event ev;
	int refused;
	uint32_t wait_ms;
	struct sfo_tcb before;
	struct sfo_outcome ref; /* the reference outcome */
	uint16_t state_ok;	/* states judged equivalent after a conformant step */
	enum sfo_state next;	/* the model's state after it (the fitting outcome's) */
	struct sfo_tcb after;	/* the model's TCB after a conformant step, as committed */
	struct sfo_seg segs[PD_MAX_SEGS];
	size_t nsegs;
	enum sfo_state observed;
	struct sfo_verdict v;
	uint32_t frame0; /* index of the step's first captured frame */
	int res_err;	 /* a call's result (sfh_step.res_err: -1 unknown) */
	uint32_t res_n, res_allow;
};

struct pd_rec {
	struct pd_step st[PD_MAX_STEPS];
	size_t n;
	uint32_t frames;
	uint32_t pisn;
};

static void on_step(void *ctx, const struct sfh_step *s)
{
	struct pd_rec *r = ctx;
	if (r->n >= PD_MAX_STEPS)
		return;
	struct pd_step *p = &r->st[r->n++];
	memset(p, 0, sizeof *p);
	p->event = s->event;
	p->line = s->line;
	p->ev = *s->ev;
	p->refused = s->refused;
	p->wait_ms = s->wait_ms;
	p->res_err = s->res_err;
	p->res_n = s->res_n;
	p->res_allow = s->res_allow;
	p->before = *s->before;
	/* The outcome to write for a divergent step: RFC 9293 may allow several; the one that
	 * keeps the state the stack is in says best what it should have sent. */
	p->ref = s->expect->out[0];
	for (int i = 0; s->which < 0 && i < s->expect->nout; i++)
		if (s->observed != SFO_STATE_UNKNOWN &&
		    s->expect->out[i].next.state == s->observed) {
			p->ref = s->expect->out[i];
			break;
		}
	const struct sfo_outcome *fit = &s->expect->out[s->which >= 0 ? s->which : 0];
	p->state_ok = fit->state_ok;
	p->next = fit->next.state;
	p->nsegs = s->nsegs < PD_MAX_SEGS ? s->nsegs : PD_MAX_SEGS;
	memcpy(p->segs, s->segs, p->nsegs * sizeof p->segs[0]);
	p->observed = s->observed;
	p->v = *s->v;
	p->after = *s->before;
	if (s->which >= 0)
		sfo_commit(&p->after, fit, s->segs, s->nsegs);
	r->pisn = s->pisn;
	p->frame0 = r->frames;
	r->frames += (s->ev->kind == SFO_EV_SEGMENT && !s->refused ? 1u : 0u) + (uint32_t)s->nsegs;
}

/* ---- captured frames: the TCP option bytes of each ---- */

struct pd_frame {
	uint8_t opt[40];
	uint8_t optlen;
};

static int read_frames(const char *path, struct pd_frame *f, uint32_t max, uint32_t *n, char *err,
		       size_t errlen)
{
	char perr[PCAP_ERRBUF_SIZE];
	pcap_t *pc = pcap_open_offline(path, perr);
	if (!pc) {
		snprintf(err, errlen, "cannot read back the capture: %s", perr);
		return -1;
	}
	struct pcap_pkthdr *h;
	const u_char *d;
	*n = 0;
	while (*n < max && pcap_next_ex(pc, &h, &d) == 1) {
		struct pd_frame *fr = &f[(*n)++];
		fr->optlen = 0;
		size_t ihl = sfh_wire_tcp_at(d, h->caplen); /* IPv4 or IPv6 */
		if (!ihl)
			continue;
		size_t doff = (size_t)(d[ihl + 12] >> 4) * 4;
		if (doff < 20 || h->caplen < ihl + doff)
			continue;
		fr->optlen = (uint8_t)(doff - 20);
		memcpy(fr->opt, d + ihl + 20, fr->optlen);
	}
	pcap_close(pc);
	return 0;
}

/* ---- the script text ---- */

struct pd_out {
	FILE *f;
	unsigned line; /* lines written so far */
};

static void emit(struct pd_out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void emit(struct pd_out *o, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vfprintf(o->f, fmt, ap);
	va_end(ap);
	for (const char *p = fmt; *p; p++)
		o->line += *p == '\n';
}

static void flags_word(uint8_t fl, char *w)
{
	size_t k = 0;
	static const char letters[] = "FSRPUEW";
	static const uint8_t bits[] = {SFO_FIN, SFO_SYN, SFO_RST, SFO_PSH,
				       SFO_URG, SFO_ECE, SFO_CWR};
	for (size_t i = 0; i < sizeof bits; i++)
		if (fl & bits[i])
			w[k++] = letters[i];
	if (fl & SFO_ACK)
		w[k++] = '.';
	if (k == 0)
		w[k++] = '-';
	w[k] = 0;
}

/* TCP options as packetdrill writes them, from the bytes on the wire. seq_base: what
 * SACK blocks are relative to. Returns 0, or -1 for an option packetdrill cannot write. */
static int opts_text(const uint8_t *o, size_t n, uint32_t seq_base, char *buf, size_t cap)
{
	size_t k = 0;
	buf[0] = 0;
#define PD_ADD(...)                                                                                \
	do {                                                                                       \
		int m_ = snprintf(buf + k, cap - k, "%s", k ? "," : "");                           \
		k += (size_t)m_;                                                                   \
		m_ = snprintf(buf + k, cap - k, __VA_ARGS__);                                      \
		if (m_ < 0 || (size_t)m_ >= cap - k)                                               \
			return -1;                                                                 \
		k += (size_t)m_;                                                                   \
	} while (0)
	for (size_t i = 0; i < n;) {
		uint8_t kind = o[i];
		if (kind == 0) {
			PD_ADD("eol");
			break; /* the rest is padding */
		}
		if (kind == 1) {
			PD_ADD("nop");
			i++;
			continue;
		}
		if (i + 1 >= n || o[i + 1] < 2 || i + o[i + 1] > n)
			return -1;
		uint8_t len = o[i + 1];
		const uint8_t *v = o + i + 2;
		if (kind == 2 && len == 4)
			PD_ADD("mss %u", (unsigned)(v[0] << 8 | v[1]));
		else if (kind == 3 && len == 3)
			PD_ADD("wscale %u", v[0]);
		else if (kind == 4 && len == 2)
			PD_ADD("sackOK");
		else if (kind == 8 && len == 10)
			PD_ADD("TS val %u ecr %u",
			       (unsigned)((uint32_t)v[0] << 24 | (uint32_t)v[1] << 16 |
					  (uint32_t)v[2] << 8 | v[3]),
			       (unsigned)((uint32_t)v[4] << 24 | (uint32_t)v[5] << 16 |
					  (uint32_t)v[6] << 8 | v[7]));
		else if (kind == 5 && (len - 2) % 8 == 0) {
			PD_ADD("sack");
			for (size_t b = 0; b + 8 <= (size_t)(len - 2); b += 8) {
				uint32_t l = (uint32_t)v[b] << 24 | (uint32_t)v[b + 1] << 16 |
					     (uint32_t)v[b + 2] << 8 | v[b + 3];
				uint32_t r = (uint32_t)v[b + 4] << 24 | (uint32_t)v[b + 5] << 16 |
					     (uint32_t)v[b + 6] << 8 | v[b + 7];
				int m = snprintf(buf + k, cap - k, " %u:%u", l - seq_base,
						 r - seq_base);
				if (m < 0 || (size_t)m >= cap - k)
					return -1;
				k += (size_t)m;
			}
		} else
			return -1;
		i += len;
	}
#undef PD_ADD
	return 0;
}

static const char *tcpi_name(enum sfo_state s)
{
	static const char *const names[SFO_NSTATES] = {[SFO_CLOSED] = "TCP_CLOSE",
						       [SFO_LISTEN] = "TCP_LISTEN",
						       [SFO_SYN_SENT] = "TCP_SYN_SENT",
						       [SFO_SYN_RECEIVED] = "TCP_SYN_RECV",
						       [SFO_ESTABLISHED] = "TCP_ESTABLISHED",
						       [SFO_FIN_WAIT_1] = "TCP_FIN_WAIT1",
						       [SFO_FIN_WAIT_2] = "TCP_FIN_WAIT2",
						       [SFO_CLOSE_WAIT] = "TCP_CLOSE_WAIT",
						       [SFO_CLOSING] = "TCP_CLOSING",
						       [SFO_LAST_ACK] = "TCP_LAST_ACK",
						       [SFO_TIME_WAIT] = "TCP_TIME_WAIT"};
	return (unsigned)s < SFO_NSTATES && names[s] ? names[s] : "TCP_CLOSE";
}

/* The descriptors of the script: the listener, the connection. */
struct pd_fds {
	int lfd, cfd; /* -1 when none */
	int accepted; /* the passive role's connection was taken from the listener */
	int next_fd;
};

struct pd_ctx {
	struct pd_out o;
	const struct pd_rec *r;
	const struct pd_frame *fr;
	uint32_t nfr;
	uint32_t iss; /* the stack's ISN, once seen */
	int iss_known;
	struct pd_fds fd;
	enum sfh_role role;
	int waited; /* a wait since the last event written at an absolute time */
	char tbuf[32];
	uint32_t rto_min_ms; /* a `timers rto_min=` setting (0: none), set on the socket */
	int ipv6; /* the scenario's `family ipv6`: --ip_version=ipv6 */
};

static double secs(uint64_t ms)
{
	return (double)ms / 1000.0;
}

/* The time of a call or a state check: "+0" (at once, after what came before), or the
 * absolute time when a wait came since the last absolute event. packetdrill checks when
 * those start, so chaining them to the previous event keeps a late delayed ACK from
 * failing the script; a packet we send is at its absolute time (not checked). */
static const char *when(struct pd_ctx *c, uint64_t t)
{
	if (!c->waited)
		return "+0";
	c->waited = 0;
	snprintf(c->tbuf, sizeof c->tbuf, "%.3f", secs(t));
	return c->tbuf;
}

/* An emitted segment (observed, with its captured options; or expected, options free). */
static void emit_out(struct pd_ctx *c, const struct sfo_seg *s, const struct pd_frame *f,
		     uint64_t t0, uint64_t t1, const char *note)
{
	char w[12], opt[200] = "...";
	flags_word(s->flags, w);
	if ((s->flags & SFO_SYN) && !c->iss_known) {
		c->iss = s->seq;
		c->iss_known = 1;
	}
	uint32_t base = c->iss_known ? c->iss : s->seq;
	uint32_t seq = s->seq - base;
	if (f && opts_text(f->opt, f->optlen, c->r->pisn, opt, sizeof opt) != 0)
		snprintf(opt, sizeof opt, "...");
	emit(&c->o, "%.3f~%.3f > %s %u:%u(%u)", secs(t0), secs(t1), w, seq, seq + s->len, s->len);
	if (s->flags & SFO_ACK)
		emit(&c->o, " ack %u", s->ack - c->r->pisn);
	if (s->flags & SFO_URG)
		emit(&c->o, " urg %u", s->up);
	if (f && f->optlen == 0)
		emit(&c->o, "%s%s\n", note ? "  // " : "", note ? note : "");
	else
		emit(&c->o, " <%s>%s%s\n", opt, note ? "  // " : "", note ? note : "");
}

static void emit_in(struct pd_ctx *c, const struct sfo_seg *s, const struct pd_frame *f, uint64_t t)
{
	char w[12], opt[200];
	flags_word(s->flags, w);
	c->waited = 0;
	uint32_t seq = s->seq - c->r->pisn;
	emit(&c->o, "%.3f < %s %u:%u(%u)", secs(t), w, seq, seq + s->len, s->len);
	if (s->flags & SFO_ACK)
		emit(&c->o, " ack %u", c->iss_known ? s->ack - c->iss : s->ack);
	emit(&c->o, " win %u", s->wnd);
	if (s->flags & SFO_URG)
		emit(&c->o, " urg %u", s->up);
	if (f && f->optlen &&
	    opts_text(f->opt, f->optlen, c->iss_known ? c->iss : 0, opt, sizeof opt) == 0)
		emit(&c->o, " <%s>", opt);
	emit(&c->o, "\n");
}

/* The connection's descriptor for a call, accepting it first in the passive role as the
 * linux target does (and closing the listener then: a case has one TCB). -1 if none. */
static int conn_fd(struct pd_ctx *c, const struct pd_step *p, uint64_t t)
{
	if (c->fd.cfd >= 0)
		return c->fd.cfd;
	if (c->role != SFH_ROLE_PASSIVE || c->fd.lfd < 0 || c->fd.accepted)
		return -1;
	enum sfo_state st = p->before.state;
	if (st != SFO_ESTABLISHED && st != SFO_CLOSE_WAIT)
		return -1;
	c->fd.cfd = c->fd.next_fd++;
	c->fd.accepted = 1;
	emit(&c->o, "%s accept(%d, ..., ...) = %d\n", when(c, t), c->fd.lfd, c->fd.cfd);
	emit(&c->o, "+0 fcntl(%d, F_SETFL, O_RDWR|O_NONBLOCK) = 0\n", c->fd.cfd);
	emit(&c->o, "+0 setsockopt(%d, SOL_SOCKET, SO_SNDBUF, [1048576], 4) = 0\n", c->fd.cfd);
	emit(&c->o, "+0 close(%d) = 0\n", c->fd.lfd);
	c->fd.lfd = -1;
	return c->fd.cfd;
}

/* The call's result the script expects: what the stack returned where RFC 9293 allows it,
 * else the one the model prefers (so the script fails on the stack that diverged): for a
 * RECEIVE with nothing read a wait (EAGAIN), then the end of the stream; success; then
 * the errors in a fixed order. -1 when the target could not say. */
static int wanted_result(const struct pd_step *p)
{
	static const uint8_t order[] = {SFO_ERR_EPIPE,	   SFO_ERR_ECONNRESET, SFO_ERR_ECONNREFUSED,
					SFO_ERR_ETIMEDOUT, SFO_ERR_ENOTCONN,   SFO_ERR_EISCONN,
					SFO_ERR_EALREADY,  SFO_ERR_EINVAL,     SFO_ERR_ENOBUFS};
	enum sfo_call call = p->ev.u.call.call;
	struct sfo_callres r = {.allow = p->res_allow};
	if (p->res_err < 0)
		return -1;
	if (sfo_callres_fits(&r, call, (enum sfo_err)p->res_err, p->res_n) &&
	    p->res_err != SFO_ERR_ERROR)
		return p->res_err;
	if (call == SFO_CALL_RECEIVE && p->res_n == 0) {
		if (r.allow & (1u << SFO_ERR_EAGAIN))
			return SFO_ERR_EAGAIN;
		if (r.allow & (1u << SFO_ERR_EOF))
			return SFO_ERR_OK;
	} else if (r.allow & (1u << SFO_ERR_OK)) {
		return SFO_ERR_OK;
	}
	for (size_t i = 0; i < sizeof order; i++)
		if (r.allow & (1u << order[i]))
			return order[i];
	return -1;
}

/* "= -1 EAGAIN (...)": packetdrill wants a note after an errno name. */
static const char *err_note(int e)
{
	switch (e) {
	case SFO_ERR_EAGAIN:
		return "Resource temporarily unavailable";
	case SFO_ERR_ECONNREFUSED:
		return "Connection refused";
	case SFO_ERR_ECONNRESET:
		return "Connection reset by peer";
	case SFO_ERR_EPIPE:
		return "Broken pipe";
	case SFO_ERR_ENOTCONN:
		return "Transport endpoint is not connected";
	case SFO_ERR_ETIMEDOUT:
		return "Connection timed out";
	default:
		return "error";
	}
}

/* A call with a result the script checks: "= N" or "= -1 NAME (note)". */
static void emit_result_call(struct pd_ctx *c, uint64_t t, const char *what, int res, uint32_t n)
{
	if (res == SFO_ERR_OK)
		emit(&c->o, "%s %s = %u\n", when(c, t), what, n);
	else
		emit(&c->o, "%s %s = -1 %s (%s)\n", when(c, t), what,
		     sfo_err_name((enum sfo_err)res), err_note(res));
}

/* A user call. Returns 0, or -1 when packetdrill cannot express it (err says why). */
static int emit_call(struct pd_ctx *c, const struct pd_step *p, uint64_t t, char *err,
		     size_t errlen)
{
	enum sfo_call call = p->ev.u.call.call;
	uint32_t got = p->ev.u.call.arg;
	if (p->event < 0)
		return 0; /* the role's OPEN: written with the set-up */
	int fd, want = wanted_result(p);
	char what[64];
	if (p->refused) {
		/* an error of the sockets API on the held connection: the call, with it */
		if (want > SFO_ERR_OK && c->fd.cfd >= 0 &&
		    (call == SFO_CALL_SEND || call == SFO_CALL_RECEIVE)) {
			snprintf(what, sizeof what, "%s(%d, ..., 1000)",
				 call == SFO_CALL_SEND ? "write" : "read", c->fd.cfd);
			emit_result_call(c, t, what, want, 0);
			return 0;
		}
		emit(&c->o,
		     "// line %u: call %s: refused by the stack's API, nothing reached TCP\n",
		     p->line, sfo_call_name(call));
		return 0;
	}
	switch (call) {
	case SFO_CALL_LISTEN:
	case SFO_CALL_CONNECT:
		snprintf(err, errlen,
			 "line %u: a second OPEN (call %s) has no packetdrill form here", p->line,
			 sfo_call_name(call));
		return -1;
	case SFO_CALL_ACCEPT:
		(void)conn_fd(c, p, t);
		return 0;
	case SFO_CALL_SEND:
		if ((fd = conn_fd(c, p, t)) < 0)
			break;
		if (want > SFO_ERR_OK) {
			snprintf(what, sizeof what, "write(%d, ..., 1000)", fd);
			emit_result_call(c, t, what, want, 0);
			return 0;
		}
		emit(&c->o, "%s write(%d, ..., %u) = %u\n", when(c, t), fd, got, got);
		return 0;
	case SFO_CALL_RECEIVE:
		if ((fd = conn_fd(c, p, t)) < 0)
			break;
		if (got == 0 && want >= 0) {
			/* nothing read: a wait (EAGAIN), the end of the stream, or an error */
			snprintf(what, sizeof what, "read(%d, ..., 1000)", fd);
			emit_result_call(c, t, what, want, 0);
			return 0;
		}
		if (got == 0) {
			emit(&c->o, "// line %u: call receive: nothing to read\n", p->line);
			return 0;
		}
		emit(&c->o, "%s read(%d, ..., %u) = %u\n", when(c, t), fd, got, got);
		return 0;
	case SFO_CALL_SHUTDOWN:
		if ((fd = conn_fd(c, p, t)) < 0)
			break;
		emit(&c->o, "%s shutdown(%d, SHUT_WR) = 0\n", when(c, t), fd);
		return 0;
	case SFO_CALL_CLOSE:
	case SFO_CALL_ABORT:
		fd = conn_fd(c, p, t);
		if (fd < 0 && c->fd.lfd >= 0 && !c->fd.accepted)
			fd = c->fd.lfd;
		if (fd < 0)
			break;
		if (call == SFO_CALL_ABORT)
			emit(&c->o,
			     "%s setsockopt(%d, SOL_SOCKET, SO_LINGER, {onoff=1, linger=0}, 8) = "
			     "0\n",
			     when(c, t), fd);
		emit(&c->o, "%s close(%d) = 0\n", call == SFO_CALL_ABORT ? "+0" : when(c, t), fd);
		if (fd == c->fd.lfd)
			c->fd.lfd = -1;
		else
			c->fd.cfd = -1;
		return 0;
	}
	snprintf(err, errlen,
		 "line %u: call %s reached the stack, but no descriptor here holds "
		 "its connection",
		 p->line, sfo_call_name(call));
	return -1;
}

/* A state the socket API can report: on a descriptor holding the connection, and not
 * TIME-WAIT (a closed socket hands it to a timewait socket, which no call reaches). */
static int emit_state(struct pd_ctx *c, uint64_t t, enum sfo_state want, uint16_t ok,
		      const char *why)
{
	if (c->fd.cfd < 0 || want == SFO_TIME_WAIT)
		return 0;
	emit(&c->o, "%s %%{ assert tcpi_state in (%s", when(c, t), tcpi_name(want));
	for (int s = 0; s < SFO_NSTATES; s++)
		if ((ok & (1u << s)) && s != (int)want && s != SFO_TIME_WAIT)
			emit(&c->o, ", %s", tcpi_name((enum sfo_state)s));
	emit(&c->o, ",), '%s: expected %s, got %%d' %% tcpi_state }%%\n", why,
	     sfo_state_name(want));
	return 1;
}

/* The reference outcome's segments: what RFC 9293 wants emitted; pf[i] the pattern's
 * SFO_PAT_* flags (pf may be NULL). */
static size_t expected_segs_pf(const struct sfo_outcome *o, struct sfo_seg *out, uint8_t *pf,
			       size_t max)
{
	size_t n = 0;
	for (size_t i = 0; i < o->npat && n < max; i++) {
		const struct sfo_pattern *p = &o->pat[i];
		if (!(p->pf & SFO_PAT_EMIT) || p->max == 0)
			continue;
		struct sfo_seg s = {0};
		s.flags = p->flags_set;
		s.len = p->len_lo;
		/* an ACK alone carries SND.NXT (3.10.7.4), the top of its range; anything
		 * else starts where its range starts */
		s.seq = s.len == 0 && !(s.flags & (SFO_SYN | SFO_FIN | SFO_RST)) ? p->seq_hi
										 : p->seq_lo;
		s.ack = p->ack_lo;
		if (s.len)
			s.flags |= SFO_PSH;
		if (pf)
			pf[n] = p->pf;
		out[n++] = s;
	}
	return n;
}

/* Options for an expected segment: those the stack put on its segment of the same kind,
 * less what the RFC forbids there (a Window Scale option answering a SYN without one). */
static int expected_opts(const struct pd_ctx *c, const struct pd_step *p, uint32_t fi,
			 const struct sfo_seg *want, uint8_t pf, struct pd_frame *f)
{
	for (size_t j = 0; j < p->nsegs; j++) {
		if (((p->segs[j].flags ^ want->flags) & ~SFO_PSH) != 0 || fi + j >= c->nfr)
			continue;
		*f = c->fr[fi + j];
		if (!(pf & SFO_PAT_NO_WS))
			return 1;
		for (size_t i = 0; i < f->optlen;) {
			size_t len = f->opt[i] <= 1 ? 1 : f->opt[i + 1];
			if (len < 1 || i + len > f->optlen)
				break;
			if (f->opt[i] == 3) {
				size_t from = i > 0 && f->opt[i - 1] == 1 ? i - 1 : i;
				memmove(f->opt + from, f->opt + i + len, f->optlen - i - len);
				f->optlen = (uint8_t)(f->optlen - (i + len - from));
				break;
			}
			i += len;
		}
		return 1;
	}
	return 0;
}

static size_t expected_segs(const struct sfo_outcome *o, struct sfo_seg *out, size_t max)
{
	return expected_segs_pf(o, out, NULL, max);
}

static void describe(const struct pd_step *p, char *buf, size_t cap)
{
	const struct sfo_rule_info *ri = sfo_rule(p->v.rule);
	snprintf(buf, cap, "%s %s: rule %s (RFC 9293 %s%s%s): %s", sfo_div_kind_name(p->v.kind),
		 "divergence", ri ? ri->id : "?", ri ? ri->section : "",
		 ri && ri->req[0] ? " " : "", ri ? ri->req : "", p->v.detail);
}

/* A closing probe: an old duplicate ACK, which every synchronized state answers with an
 * ACK, a closed port with RST (3.10.7.1), and so on: the model says what. Sent after the
 * last step, so an answer of the stack's that came earlier (unexpected) shows up as a
 * packet at the wrong time. 0 with nothing written if the model expects no answer. */
static void emit_probe(struct pd_ctx *c, const struct sfo_tcb *t, const struct sfo_profile *prof,
		       uint64_t now, struct sfh_pd_export_info *info)
{
	struct sfo_cfg cfg = {.profile = prof};
	struct sfo_event ev = {.kind = SFO_EV_SEGMENT};
	struct sfo_expect e;
	struct sfo_seg exp[PD_MAX_SEGS];
	int sync = t->state >= SFO_SYN_RECEIVED;
	ev.u.seg.flags = SFO_ACK;
	ev.u.seg.seq = sync ? t->rcv_nxt - 1 : c->r->pisn + 1;
	ev.u.seg.ack = t->snd_una; /* acceptable whatever the stack has sent since */
	ev.u.seg.wnd = 65535;
	if (t->state == SFO_SYN_RECEIVED)
		return; /* an ACK there either completes the handshake or is refused */
	if (t->state == SFO_SYN_SENT) /* an ACK of no more than our ISS: a reset (3.10.7.3) */
		ev.u.seg.ack = t->iss;
	sfo_step(t, &cfg, &ev, &e);
	if (e.nout != 1)
		return; /* RFC 9293 leaves the answer open: nothing one script can check */
	size_t n = expected_segs(&e.out[0], exp, PD_MAX_SEGS);
	if (n == 0)
		return;
	/* only an answer the model knows exactly: a range (data in flight) has no
	 * packetdrill form */
	for (size_t i = 0; i < e.out[0].npat; i++) {
		const struct sfo_pattern *q = &e.out[0].pat[i];
		if ((q->pf & SFO_PAT_EMIT) &&
		    ((!(q->pf & SFO_PAT_SEQ_ANY) && q->seq_lo != q->seq_hi) ||
		     (!(q->pf & SFO_PAT_ACK_ANY) && (q->flags_set & SFO_ACK) &&
		      q->ack_lo != q->ack_hi)))
			return;
	}
	/* With something of the stack's unacknowledged (a retransmission to come) or an ACK
	 * it may still owe, the probe goes at once: its answer must come before any segment
	 * a timer sends. Otherwise it waits, so that a segment that comes before it, which
	 * RFC 9293 did not want, shows as one at the wrong time. */
	int busy = t->snd_una != t->snd_nxt || (t->fl & SFO_TF_ACK_OWED) ||
		   t->state == SFO_SYN_SENT || t->state == SFO_SYN_RECEIVED;
	uint64_t tp = now + (busy ? 0 : PD_PROBE_MS);
	emit(&c->o, "\n// A probe (an old duplicate ACK): RFC 9293 wants the answer below, and\n"
		    "// nothing before it.\n");
	emit_in(c, &ev.u.seg, NULL, tp);
	for (size_t i = 0; i < n; i++) {
		if (i == 0)
			info->probe_line = c->o.line + 1;
		if (i == 0 && info->div_pkt_line == 0 && c->r->n &&
		    c->r->st[c->r->n - 1].v.kind != SFO_DIV_OK)
			info->div_pkt_line = info->probe_line;
		emit_out(c, &exp[i], NULL, tp, tp + PD_SLACK_MS, NULL);
	}
}

/* The set-up: the role's socket, its OPEN, and the namespace's sysctls as the linux
 * target sets them. */
static void emit_setup(struct pd_ctx *c)
{
	emit(&c->o, "--tolerance_usecs=%d\n", 100000);
	if (c->ipv6) /* packetdrill's socket(..., ...) then opens AF_INET6 */
		emit(&c->o, "--ip_version=ipv6\n");
	/* a TSecr that echoes no TSval of the stack's (a PAWS test) keeps its distance
	 * from the stack's clock */
	emit(&c->o, "--tcp_ts_ecr_scaled\n");
	emit(&c->o, "`sysctl -q -w net.ipv4.tcp_invalid_ratelimit=0 net.ipv4.tcp_no_metrics_save=1 "
		    "net.ipv4.tcp_syncookies=0 net.ipv4.tcp_comp_sack_nr=0`\n\n");
	emit(&c->o, "0.000 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n");
	emit(&c->o, "0.000 setsockopt(3, SOL_SOCKET, SO_REUSEADDR, [1], 4) = 0\n");
	if (c->rto_min_ms) /* TCP_RTO_MIN_US, by number: packetdrill has no name for it */
		emit(&c->o, "0.000 setsockopt(3, IPPROTO_TCP, 45, [%lu], 4) = 0\n",
		     (unsigned long)c->rto_min_ms * 1000);
	emit(&c->o, "0.000 fcntl(3, F_SETFL, O_RDWR|O_NONBLOCK) = 0\n");
	c->fd.next_fd = 4;
	if (c->role == SFH_ROLE_PASSIVE) {
		emit(&c->o, "0.000 bind(3, ..., ...) = 0\n");
		emit(&c->o, "0.000 listen(3, 8) = 0\n");
		c->fd.lfd = 3;
		c->fd.cfd = -1;
	} else {
		/* a send buffer that takes every write at once, as the linux target's loop
		 * of writes does */
		emit(&c->o, "0.000 setsockopt(3, SOL_SOCKET, SO_SNDBUF, [1048576], 4) = 0\n");
		emit(&c->o,
		     "0.000 connect(3, ..., ...) = -1 EINPROGRESS (Operation now in progress)\n");
		c->fd.lfd = -1;
		c->fd.cfd = 3;
	}
}

static int write_script(struct pd_ctx *c, const struct sfh_scenario *s, const char *name,
			const char *target, const struct sfh_result *res,
			const struct sfo_profile *prof, struct sfh_pd_export_info *info, char *err,
			size_t errlen)
{
	const struct pd_rec *r = c->r;
	uint64_t now = 0;
	uint32_t fi = 0;
	int diverged = res->verdict.kind != SFO_DIV_OK && !res->assert_failed;
	char buf[400];

	emit(&c->o, "// %s, exported by synfin from a run on target %s.\n", name, target);
	if (diverged)
		emit(&c->o,
		     "// The stack diverged from RFC 9293 (%s); the divergent step below\n"
		     "// is written as the RFC wants it, so this script fails on that stack.\n",
		     res->signature);
	else
		emit(&c->o, "// The stack conformed; this script passes on it.\n");
	emit(&c->o, "// Run it as root in a private network namespace:\n"
		    "//   unshare -n sh -c 'ip link set lo up; packetdrill FILE.pkt'\n");
	emit_setup(c);

	for (size_t k = 0; k < r->n; k++) {
		const struct pd_step *p = &r->st[k];
		int is_div = diverged && k + 1 == r->n && p->v.kind != SFO_DIV_OK;
		uint64_t t0 = now, t1 = now + PD_SLACK_MS;
		fi = p->frame0;
		if (p->line)
			emit(&c->o, "\n// line %u\n", p->line);
		switch (p->ev.kind) {
		case SFO_EV_SEGMENT:
			emit_in(c, &p->ev.u.seg, fi < c->nfr ? &c->fr[fi] : NULL, now);
			fi++;
			break;
		case SFO_EV_CALL:
			if (emit_call(c, p, now, err, errlen) != 0)
				return -1;
			break;
		case SFO_EV_WAIT:
			t1 = now + p->wait_ms + p->wait_ms / 8 + PD_SLACK_MS;
			now += p->wait_ms;
			c->waited = 1;
			emit(&c->o, "// wait %u ms\n", p->wait_ms);
			break;
		}
		if (!is_div) {
			for (size_t i = 0; i < p->nsegs;) {
				/* back-to-back data segments as one: a stack with segmentation
				 * offload hands packetdrill one large packet, and packetdrill
				 * joins smaller ones to match a large one, not the reverse */
				struct sfo_seg m = p->segs[i];
				const struct pd_frame *f = fi < c->nfr ? &c->fr[fi] : NULL;
				size_t j = i + 1;
				while (j < p->nsegs && m.len && p->segs[j].len &&
				       !((m.flags | p->segs[j].flags) &
					 (SFO_SYN | SFO_FIN | SFO_RST)) &&
				       ((m.flags ^ p->segs[j].flags) & ~SFO_PSH) == 0 &&
				       p->segs[j].ack == m.ack && p->segs[j].seq == m.seq + m.len &&
				       m.len + p->segs[j].len <= 60000) {
					m.len += p->segs[j].len;
					m.flags |= p->segs[j].flags & SFO_PSH;
					j++;
				}
				emit_out(c, &m, f, t0, t1, NULL);
				fi += (uint32_t)(j - i);
				i = j;
			}
			/* the scenario's own `expect state` lines after this step */
			for (int e = p->event + 1; e >= 0 && (uint32_t)e < s->nev; e++) {
				const struct sfh_event *se = &s->ev[e];
				if (se->type == SFH_EV_EXPECT_STATE)
					emit_state(c, now, se->u.state, p->state_ok,
						   "expect state");
				else if (se->type != SFH_EV_OUT)
					break;
			}
			continue;
		}
		/* the divergent step, as RFC 9293 wants it */
		struct sfo_seg exp[PD_MAX_SEGS];
		uint8_t pf[PD_MAX_SEGS];
		size_t n = expected_segs_pf(&p->ref, exp, pf, PD_MAX_SEGS);
		describe(p, buf, sizeof buf);
		emit(&c->o, "// synfin: %s\n", buf);
		for (size_t i = 0; i < p->nsegs; i++) {
			char seg[200];
			sfh_seg_format(&p->segs[i], c->iss_known ? c->iss : 0, r->pisn, seg,
				       sizeof seg);
			emit(&c->o, "//   the stack sent: %s\n", seg);
		}
		if (p->nsegs == 0)
			emit(&c->o, "//   the stack sent nothing\n");
		if (n == 0)
			emit(&c->o, "//   RFC 9293 wants nothing sent here\n");
		if (n)
			info->div_pkt_line = c->o.line + 1;
		for (size_t i = 0; i < n; i++) {
			struct pd_frame f;
			int have = expected_opts(c, p, fi, &exp[i], pf[i], &f);
			emit_out(c, &exp[i], have ? &f : NULL, t0, t1, "RFC 9293 wants this");
		}
		if (p->ref.next.state != p->observed || n == 0) {
			unsigned at = c->o.line + 1;
			if (emit_state(c, now, p->ref.next.state, 1u << p->ref.next.state,
				       "RFC 9293 state") &&
			    n == 0) {
				info->state_line = at;
				/* nothing wanted sent and another state: this check fails first,
				 * before the closing probe */
				if (p->ref.next.state != p->observed && !info->div_pkt_line)
					info->div_pkt_line = at;
			}
		}
	}
	/* the model's TCB after the last step: as committed, or for a divergence as the
	 * reference outcome with its segments sent */
	if (r->n) {
		const struct pd_step *p = &r->st[r->n - 1];
		struct sfo_tcb t = p->after;
		if (diverged) {
			struct sfo_seg exp[PD_MAX_SEGS];
			size_t n = expected_segs(&p->ref, exp, PD_MAX_SEGS);
			t = p->before;
			sfo_commit(&t, &p->ref, exp, n);
		}
		emit_probe(c, &t, prof, now, info);
	}
	if (diverged && info->div_pkt_line == 0)
		info->div_pkt_line = info->state_line;
	return 0;
}

int sfh_pd_export(const struct sfh_scenario *s, const char *scn_name, const char *target,
		  const struct sfo_profile *p, FILE *out, struct sfh_pd_export_info *info,
		  char *err, size_t errlen)
{
	struct sfh_target *t = NULL;
	struct sfh_runner *run = NULL;
	struct pd_rec *rec = calloc(1, sizeof *rec);
	struct pd_frame *fr = calloc(PD_MAX_FRAMES, sizeof *fr);
	char cap[] = "/tmp/synfin-export-XXXXXX";
	int capfd = -1, rc = -1;
	memset(info, 0, sizeof *info);
	if (s->timers & ~(1u << SFH_TM_RTO_MIN)) {
		/* the script runs on Linux, which sets no other timer per socket */
		snprintf(err, errlen,
			 "not supported: a timers line other than rto_min (a packetdrill script "
			 "cannot set %s on Linux)",
			 sfh_timer_name((s->timers & (1u << SFH_TM_RTO_INIT)) ? SFH_TM_RTO_INIT
					: (s->timers & (1u << SFH_TM_DELACK)) ? SFH_TM_DELACK
									      : SFH_TM_MSL));
		goto out;
	}
	if (!rec || !fr) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	/* A scenario that names its TCBs keeps the listener apart and may hold several
	 * connections at once; the script this writes has one socket per role and one
	 * remote port. */
	if (sfh_scn_multi(s)) {
		snprintf(err, errlen,
			 "not supported: a scenario that names its connections or the listener "
			 "(conn=N, listener) has no packetdrill form here (one connection per "
			 "script)");
		goto out;
	}
	/* The script runs in real time: the linux target must not cut waits short (its
	 * default caps one at 2 s), or the stack's timers would do more in the script than
	 * in the recording. */
	if (sfh_target_open(strcmp(target, "linux") == 0 ? "linux:maxwait=130000" : target, &t, err,
			    errlen) != 0)
		goto out;
	if (!(run = sfh_runner_new(err, errlen)))
		goto out;
	if ((capfd = mkstemp(cap)) < 0) {
		snprintf(err, errlen, "cannot create a capture file in /tmp: %s", strerror(errno));
		goto out;
	}
	struct sfh_pcap *pc = sfh_pcap_open(cap, err, errlen);
	if (!pc)
		goto out;
	if (!p && t->ops->profile)
		p = sfo_profile_find(t->ops->profile);
	struct sfh_run_opts o = {.profile = p, .pcap = pc, .step = on_step, .step_ctx = rec};
	struct sfh_result res;
	int rr = sfh_run(run, t, s, &o, &res);
	if (sfh_pcap_close(pc) != 0 && rr == 0) {
		snprintf(err, errlen, "cannot write the capture %s", cap);
		goto out;
	}
	if (rr != 0) {
		snprintf(err, errlen, "%s", res.err);
		goto out;
	}
	if (res.verdict.kind == SFO_DIV_CRASH || res.verdict.kind == SFO_DIV_HANG) {
		snprintf(err, errlen,
			 "the run ended in a %s, which a packetdrill script cannot show",
			 sfo_div_kind_name(res.verdict.kind));
		goto out;
	}
	if (res.assert_failed) {
		snprintf(err, errlen,
			 "line %u: the run fails a hand-written assertion (%s); export "
			 "writes the model's verdicts, drop the assertion first",
			 res.div_line, res.verdict.detail);
		goto out;
	}
	/* a call whose segments conformed but whose result RFC 9293 does not allow: that
	 * step is the divergent one (the runner judged its result after the step feed) */
	if (res.verdict.kind != SFO_DIV_OK && rec->n && rec->st[rec->n - 1].v.kind == SFO_DIV_OK &&
	    rec->st[rec->n - 1].ev.kind == SFO_EV_CALL && rec->st[rec->n - 1].res_err >= 0) {
		struct pd_step *last = &rec->st[rec->n - 1];
		struct sfo_callres r = {.allow = last->res_allow};
		if (!sfo_callres_fits(&r, last->ev.u.call.call, (enum sfo_err)last->res_err,
				      last->res_n))
			last->v = res.verdict;
	}
	if (res.verdict.kind != SFO_DIV_OK &&
	    (rec->n == 0 || rec->st[rec->n - 1].v.kind == SFO_DIV_OK)) {
		snprintf(err, errlen, "line %u: the divergence (%s) is not one of a judged step",
			 res.div_line, res.verdict.detail);
		goto out;
	}
	uint32_t nfr = 0;
	if (read_frames(cap, fr, PD_MAX_FRAMES, &nfr, err, errlen) != 0)
		goto out;
	struct pd_ctx c = {
	    .o = {.f = out}, .r = rec, .fr = fr, .nfr = nfr, .role = s->role, .ipv6 = s->ipv6};
	if (s->timers & (1u << SFH_TM_RTO_MIN))
		c.rto_min_ms = s->timer_ms[SFH_TM_RTO_MIN];
	const struct sfo_profile *prof = p ? p : sfo_profile_default();
	if (write_script(&c, s, scn_name, target, &res, prof, info, err, errlen) != 0)
		goto out;
	info->diverged = res.verdict.kind != SFO_DIV_OK;
	snprintf(info->signature, sizeof info->signature, "%s",
		 info->diverged ? res.signature : "");
	snprintf(info->detail, sizeof info->detail, "%s", res.verdict.detail);
	if (fflush(out) != 0 || ferror(out)) {
		snprintf(err, errlen, "write error: %s", strerror(errno));
		goto out;
	}
	rc = 0;
out:
	if (capfd >= 0) {
		close(capfd);
		unlink(cap);
	}
	sfh_runner_free(run);
	sfh_target_close(t);
	free(fr);
	free(rec);
	return rc;
}
