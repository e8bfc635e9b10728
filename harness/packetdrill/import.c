/* Import packetdrill scripts as scenarios (packetdrill.h; docs/packetdrill.md).
 *
 * One pass over the script's events in order. Time: an event later than the one before
 * becomes a `wait`; an outbound packet becomes an `out` assertion on the step before it.
 * Numbers: the peer's sequence numbers count from its first SYN's (pisn), the stack's from
 * its ISN (tisn), as packetdrill writes them. Calls map onto the scenario's calls on the
 * one connection a case has. A check the scenario language cannot state is a note (a
 * loss); a construct it cannot play is an error.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "packetdrill.h"

#define PI_MAX_LINE 1024

struct sbuf {
	char *p;
	size_t n, cap;
	int oom;
};

static void sb_add(struct sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_add(struct sbuf *b, const char *fmt, ...)
{
	va_list ap;
	for (;;) {
		va_start(ap, fmt);
		int m = vsnprintf(b->p ? b->p + b->n : NULL, b->p ? b->cap - b->n : 0, fmt, ap);
		va_end(ap);
		if (m < 0) {
			b->oom = 1;
			return;
		}
		if (b->p && b->n + (size_t)m < b->cap) {
			b->n += (size_t)m;
			return;
		}
		size_t cap = (b->cap ? b->cap * 2 : 4096) + (size_t)m;
		char *q = realloc(b->p, cap);
		if (!q) {
			b->oom = 1;
			return;
		}
		b->p = q;
		b->cap = cap;
	}
}

struct imp {
	const char *fname;
	unsigned line; /* of the current event */
	char *err;
	size_t errlen;
	struct sfh_pd_import_notes *notes;
	const struct sfh_pd_defs *defs;
	struct sbuf out;
	int role;      /* -1 unknown, else enum sfh_role */
	double t_prev; /* script time of the previous event, seconds */
	double t_step; /* time the last step (in, call, wait) happened at */
	int have_step;
	int sock_fd, lfd, cfd; /* descriptors: the socket, the listener, the connection */
	int linger0;	       /* SO_LINGER {1, 0} on the connection's descriptor */
	int closed;	       /* the connection was closed */
	int reuse;	       /* a new SYN came on the 4-tuple after that: a new connection
				* (conn=1, numbers from its own ISN) for the next accept */
	int remote_isn_known;
	uint32_t remote_isn;
	int out_ts_known;
	uint32_t out_ts; /* TS val of the stack's last outbound packet, as scripted */
	unsigned nev;
	/* outbound timing: the script time of the scenario's previous line as an `out ... @+D`
	 * counts from it (an `in` or call: when it happened; a wait: when it began; an `out`:
	 * its packet), and packetdrill's tolerance (--tolerance_usecs, 4 ms by default) */
	double t_line;
	long tol_us;
	int in_ts_known;
	uint32_t in_ts; /* TS val of our last inbound packet: what the stack echoes */
	int ipv6;   /* --ip_version=ipv6, or an AF_INET6 socket: `family ipv6` */
	int mapped; /* --ip_version=ipv4-mapped-ipv6: AF_INET6 sockets, IPv4 on the wire */
};

static int fail(struct imp *m, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(struct imp *m, const char *fmt, ...)
{
	char why[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(why, sizeof why, fmt, ap);
	va_end(ap);
	snprintf(m->err, m->errlen, "%s:%u: %s", m->fname, m->line, why);
	return -1;
}

static void note(struct imp *m, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void note(struct imp *m, const char *fmt, ...)
{
	if (!m->notes)
		return;
	if (m->notes->n >= SFH_PD_MAX_NOTES) {
		m->notes->dropped++;
		return;
	}
	char why[160];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(why, sizeof why, fmt, ap);
	va_end(ap);
	snprintf(m->notes->note[m->notes->n++], sizeof m->notes->note[0], "%s:%u: not checked: %s",
		 m->fname, m->line, why);
}

/* ---- a tiny cursor over one event's text ---- */

struct cur {
	const char *p;
};

static void ws(struct cur *c)
{
	while (*c->p == ' ' || *c->p == '\t')
		c->p++;
}

static int eat(struct cur *c, const char *s)
{
	ws(c);
	size_t n = strlen(s);
	if (strncmp(c->p, s, n) != 0)
		return 0;
	c->p += n;
	return 1;
}

static int word(struct cur *c, char *w, size_t cap)
{
	ws(c);
	size_t k = 0;
	while ((isalnum((unsigned char)*c->p) || *c->p == '_' || *c->p == '.') && k + 1 < cap)
		w[k++] = *c->p++;
	w[k] = 0;
	return k > 0;
}

static int number(struct cur *c, double *v)
{
	ws(c);
	char *end;
	*v = strtod(c->p, &end);
	if (end == c->p)
		return 0;
	c->p = end;
	return 1;
}

static int uint32v(struct cur *c, uint32_t *v)
{
	ws(c);
	if (!isdigit((unsigned char)*c->p))
		return 0;
	char *end;
	unsigned long long x = strtoull(c->p, &end, 0);
	if (x > 0xffffffffull)
		return 0;
	c->p = end;
	*v = (uint32_t)x;
	return 1;
}

/* ---- time ---- */

/* Parse the event time at c; sets *t (seconds, absolute in the script), *range_end. */
static int event_time(struct imp *m, struct cur *c, double *t, double *end, int *any)
{
	double a, b;
	*any = 0;
	ws(c);
	if (*c->p == '*') {
		c->p++;
		*t = *end = m->t_prev;
		*any = 1;
		return 0;
	}
	int rel = eat(c, "+");
	if (!number(c, &a))
		return fail(m, "expected an event time");
	*t = rel ? m->t_prev + a : a;
	*end = *t;
	ws(c);
	if (*c->p == '~') {
		c->p++;
		int rel2 = eat(c, "+");
		if (!number(c, &b))
			return fail(m, "expected the end of a time range");
		*end = rel2 ? m->t_prev + b : b;
	}
	return 0;
}

static void wait_until(struct imp *m, double t)
{
	if (t > m->t_step + 1e-9) {
		double ms = (t - m->t_step) * 1000.0 + 0.5;
		sb_add(&m->out, "wait %lu\n", (unsigned long)ms);
		m->nev++;
		m->t_line = m->t_step;
		m->t_step = t;
		m->have_step = 1;
	}
}

/* ---- packets ---- */

static int flags_ok(const char *w)
{
	for (const char *p = w; *p; p++)
		if (!strchr("SFRPUEW.", *p))
			return 0;
	return 1;
}

/* The options of an outbound packet as `out` assertions: each value, and their order
 * (packetdrill compares the list kind by kind; NOP padding is not compared here). TS val
 * is the stack's clock, which packetdrill checks only with --tcp_ts_tick_usecs: any value;
 * TS ecr echoes our last TS val (ptsv) or is the number written. */
static int out_options(struct imp *m, char *opts)
{
	char order[96] = "", *save = NULL;
	int ok_order = 1;
	for (char *o = strtok_r(opts, ",", &save); o; o = strtok_r(NULL, ",", &save)) {
		struct cur oc = {o};
		char w[32];
		uint32_t a, b;
		const char *kind = NULL;
		if (!word(&oc, w, sizeof w))
			return fail(m, "not supported: TCP option '%s'", o);
		if (strcmp(w, "nop") == 0 || strcmp(w, "eol") == 0)
			continue;
		if (strcmp(w, "mss") == 0 && uint32v(&oc, &a) && a <= 65535) {
			sb_add(&m->out, " mss=%u", a);
			kind = "mss";
		} else if (strcmp(w, "wscale") == 0 && uint32v(&oc, &a) && a <= 14) {
			sb_add(&m->out, " ws=%u", a);
			kind = "ws";
		} else if (strcmp(w, "sackOK") == 0) {
			sb_add(&m->out, " sackok");
			kind = "sackok";
		} else if (strcmp(w, "TS") == 0 && eat(&oc, "val") && uint32v(&oc, &a) &&
			   eat(&oc, "ecr") && uint32v(&oc, &b)) {
			if (m->in_ts_known && b == m->in_ts)
				sb_add(&m->out, " ts=*,ptsv");
			else
				sb_add(&m->out, " ts=*,%u", b);
			m->out_ts = a;
			m->out_ts_known = 1;
			kind = "ts";
		} else {
			note(m, "the TCP option '%s' of an outbound packet", o);
			ok_order = 0;
			continue;
		}
		size_t n = strlen(order);
		snprintf(order + n, sizeof order - n, "%s%s", n ? "," : "", kind);
	}
	if (ok_order && order[0]) /* the list is all there is: no other option */
		sb_add(&m->out, " order=%s", order);
	return 0;
}

static int packet(struct imp *m, struct cur *c, int inbound, double t, double tend, int any)
{
	char fl[16] = "";
	uint32_t s0, s1, len, ack = 0, win = 0, urg = 0;
	int has_ack = 0, has_win = 0, has_urg = 0;
	ws(c);
	if (*c->p == '-') {
		c->p++;
		strcpy(fl, "-");
	} else if (*c->p == '.') {
		c->p++;
		strcpy(fl, ".");
	} else {
		size_t k = 0;
		while (*c->p && strchr("SFRPUEW.", *c->p) && k + 1 < sizeof fl)
			fl[k++] = *c->p++;
		fl[k] = 0;
	}
	if (!fl[0] || !(fl[0] == '-' || flags_ok(fl)))
		return fail(m, "not supported: packet flags (expected letters of SFRPUEW.)");
	if (!uint32v(c, &s0) || !eat(c, ":") || !uint32v(c, &s1) || !eat(c, "(") ||
	    !uint32v(c, &len) || !eat(c, ")"))
		return fail(m, "expected START:END(LEN) after the flags");
	if (s1 - s0 != len)
		return fail(m, "sequence range %u:%u does not span %u octets", s0, s1, len);
	for (;;) {
		char w[32];
		struct cur save = *c;
		if (!word(c, w, sizeof w)) {
			*c = save;
			break;
		}
		if (strcmp(w, "ack") == 0 && uint32v(c, &ack))
			has_ack = 1;
		else if (strcmp(w, "win") == 0 && uint32v(c, &win))
			has_win = 1;
		else if (strcmp(w, "urg") == 0 && uint32v(c, &urg))
			has_urg = 1;
		else
			return fail(m, "not supported: '%s' in a packet", w);
	}
	char opts[256] = "";
	int any_opts = 0;
	ws(c);
	if (*c->p == '<') {
		const char *e = strchr(c->p, '>');
		if (!e || (size_t)(e - c->p) >= sizeof opts)
			return fail(m, "unterminated TCP option list");
		memcpy(opts, c->p + 1, (size_t)(e - c->p - 1));
		opts[e - c->p - 1] = 0;
		c->p = e + 1;
		any_opts = strcmp(opts, "...") == 0;
	}
	ws(c);
	if (*c->p && !(c->p[0] == '/' && c->p[1] == '/'))
		return fail(m, "not supported: '%s' after a packet", c->p);

	if (inbound) {
		if (len > SFH_MAX_PAYLOAD)
			return fail(m, "not supported: %u octets of payload (at most %d)", len,
				    SFH_MAX_PAYLOAD);
		if (m->role < 0)
			return fail(m, "a packet before the socket listens or connects");
		if (!m->remote_isn_known) {
			m->remote_isn = s0;
			m->remote_isn_known = 1;
		}
		/* the application closed its connection and the listener still listens: a
		 * new SYN on the same 4-tuple opens a second connection (TIME-WAIT reuse);
		 * the scenario names it (conn=1), and its numbers count from the new ISN,
		 * as the scenario's pisn does from then on */
		int again = m->closed && m->lfd >= 0 && m->role == 0 && strcmp(fl, "S") == 0;
		wait_until(m, t);
		int has_a = strchr(fl, '.') != NULL;
		sb_add(&m->out, "in %s seq=pisn%+lld", fl,
		       (long long)(int32_t)(s0 - m->remote_isn));
		if (again) {
			sb_add(&m->out, " conn=1");
			m->remote_isn = s0;
			m->reuse = 1;
		}
		if (has_ack && has_a)
			sb_add(&m->out, " ack=tisn%+lld", (long long)(int32_t)ack);
		else if (has_ack)
			note(m, "the ack field of a segment without ACK");
		if (has_win) {
			if (win > 65535)
				return fail(m, "window %u does not fit 16 bits", win);
			sb_add(&m->out, " win=%u", win);
		}
		if (len)
			sb_add(&m->out, " len=%u", len);
		if (has_urg) {
			if (urg > 65535)
				return fail(m, "urgent pointer %u does not fit 16 bits", urg);
			sb_add(&m->out, " up=%u", urg);
		}
		/* options: ours are laid out by synfin; values carry over, NOPs need not */
		char *save = NULL;
		for (char *o = strtok_r(opts, ",", &save); o && !any_opts;
		     o = strtok_r(NULL, ",", &save)) {
			struct cur oc = {o};
			char w[32];
			uint32_t a, b;
			if (!word(&oc, w, sizeof w))
				return fail(m, "not supported: TCP option '%s'", o);
			if (strcmp(w, "nop") == 0 || strcmp(w, "eol") == 0)
				continue;
			if (strcmp(w, "mss") == 0 && uint32v(&oc, &a) && a <= 65535)
				sb_add(&m->out, " mss=%u", a);
			else if (strcmp(w, "wscale") == 0 && uint32v(&oc, &a) && a <= 14)
				sb_add(&m->out, " ws=%u", a);
			else if (strcmp(w, "sackOK") == 0)
				sb_add(&m->out, " sackok");
			else if (strcmp(w, "TS") == 0 && eat(&oc, "val") && uint32v(&oc, &a) &&
				 eat(&oc, "ecr") && uint32v(&oc, &b)) {
				if (b != 0 && m->out_ts_known)
					sb_add(&m->out, " ts=%u,ttsv%+lld", a,
					       (long long)(int32_t)(b - m->out_ts));
				else
					sb_add(&m->out, " ts=%u,%u", a, b);
				m->in_ts = a;
				m->in_ts_known = 1;
			} else
				return fail(m, "not supported: TCP option '%s'", o);
		}
		sb_add(&m->out, "\n");
		m->nev++;
		m->t_prev = t;
		m->t_line = t;
		m->have_step = 1;
		return 0;
	}
	/* outbound: an assertion on what the step before emitted */
	if (m->role < 0)
		return fail(m, "an outbound packet before the socket listens or connects");
	if (!m->have_step && m->role == 0)
		return fail(m, "an outbound packet before anything could cause it");
	if (any)
		note(m, "an outbound packet at any time ('*'): checked after the last step");
	wait_until(m, tend);
	/* when: packetdrill's window [t - tol, tend + tol] as a middle and a tolerance */
	char at[64] = "";
	double mid = (t + tend) / 2;
	if (!any) {
		double d = (mid - m->t_line) * 1000.0,
		       tol = (tend - t) / 2 * 1000.0 + m->tol_us / 1000.0;
		if (d < 0)
			d = 0;
		snprintf(at, sizeof at, " @+%lums +-%lums", (unsigned long)(d + 0.5),
			 (unsigned long)(tol + 0.999));
		m->t_line = mid;
	}
	if (strchr(fl, 'R')) {
		/* a reset ends the connection, and the anchors go with it: the scenario can
		 * check that it came, not its numbers */
		sb_add(&m->out, "out %s len=%u%s\n", fl, len, at);
		m->nev++;
		note(m, "the sequence and acknowledgment numbers of an outbound reset");
		m->t_prev = t;
		return 0;
	}
	sb_add(&m->out, "out %s seq=tisn%+lld", fl, (long long)(int32_t)s0);
	if (has_ack)
		sb_add(&m->out, " ack=pisn%+lld",
		       (long long)(int32_t)(ack - (m->remote_isn_known ? m->remote_isn : 0)));
	sb_add(&m->out, " len=%u", len);
	if (has_win) {
		if (win > 65535)
			return fail(m, "window %u does not fit 16 bits", win);
		sb_add(&m->out, " win=%u", win);
	}
	if (has_urg)
		note(m, "the urgent pointer of an outbound packet");
	if (opts[0] && !any_opts && out_options(m, opts) != 0)
		return -1;
	sb_add(&m->out, "%s\n", at);
	m->nev++;
	m->t_prev = t;
	return 0;
}

/* ---- system calls ---- */

/* Split "name(a, b, {c, d}, [e]) = R [ERRNO (text)]" into name, args, result. */
struct call {
	char name[32];
	char arg[8][128];
	int nargs;
	long result;
	char err[32];
};

static int parse_call(struct imp *m, struct cur *c, struct call *k)
{
	memset(k, 0, sizeof *k);
	if (!word(c, k->name, sizeof k->name) || !eat(c, "("))
		return fail(m, "expected a system call");
	int depth = 0;
	size_t n = 0;
	for (;;) {
		char ch = *c->p;
		if (!ch)
			return fail(m, "unterminated argument list of %s", k->name);
		c->p++;
		if (depth == 0 && (ch == ',' || ch == ')')) {
			if (k->nargs < 8) {
				char *a = k->arg[k->nargs];
				a[n < sizeof k->arg[0] ? n : sizeof k->arg[0] - 1] = 0;
				/* trim */
				char *s = a;
				while (*s == ' ')
					s++;
				memmove(a, s, strlen(s) + 1);
				for (size_t L = strlen(a); L && a[L - 1] == ' '; L--)
					a[L - 1] = 0;
				if (a[0] || ch == ',' || k->nargs)
					k->nargs++;
			}
			n = 0;
			if (ch == ')')
				break;
			continue;
		}
		if (ch == '(' || ch == '{' || ch == '[')
			depth++;
		if (ch == ')' || ch == '}' || ch == ']')
			depth--;
		if (k->nargs < 8 && n + 1 < sizeof k->arg[0])
			k->arg[k->nargs][n] = ch;
		n++;
	}
	if (!eat(c, "="))
		return fail(m, "expected '= RESULT' after %s(...)", k->name);
	ws(c);
	char *end;
	k->result = strtol(c->p, &end, 0);
	if (end == c->p)
		return fail(m, "not supported: the result of %s is not a number", k->name);
	c->p = end;
	char w[32];
	if (word(c, w, sizeof w))
		snprintf(k->err, sizeof k->err, "%s", w);
	return 0;
}

static int fd_of(struct imp *m, const struct call *k, int *fd)
{
	char *end;
	long v = strtol(k->arg[0], &end, 10);
	if (k->nargs < 1 || *end || v < 0)
		return fail(m, "not supported: %s on '%s' (a descriptor number)", k->name,
			    k->nargs ? k->arg[0] : "");
	*fd = (int)v;
	return 0;
}

/* A call with its result as the scenario asserts it: "send 100 => 100", "receive 10 =>
 * EAGAIN". A result the language has no name for, or a count beyond the call's, is a
 * note and the call goes without `=>`. */
static void with_result(struct imp *m, const struct call *k, const char *call, char *what,
			size_t cap, unsigned long limit)
{
	size_t n = strlen(what);
	int e = k->err[0] ? sfo_err_parse(k->err, strlen(k->err)) : -1;
	if (k->result >= 0 && (unsigned long)k->result <= limit)
		snprintf(what + n, cap - n, " => %ld", k->result);
	else if (k->result < 0 && e > 0)
		snprintf(what + n, cap - n, " => %s", sfo_err_name((enum sfo_err)e));
	else
		note(m, "%s's result %ld%s%s", call, k->result, k->err[0] ? " " : "", k->err);
}

static void step_call(struct imp *m, double t, const char *what)
{
	wait_until(m, t);
	sb_add(&m->out, "call %s\n", what);
	m->nev++;
	m->t_line = t;
	m->have_step = 1;
}

static int syscall_event(struct imp *m, struct cur *c, double t)
{
	struct call k;
	int fd;
	if (parse_call(m, c, &k) != 0)
		return -1;
	const char *n = k.name;
	int failed = k.result < 0;
	if (strcmp(n, "socket") == 0) {
		if (m->sock_fd >= 0)
			return fail(m, "not supported: a second socket (one connection per case)");
		if (k.nargs < 2 || !strstr(k.arg[1], "SOCK_STREAM"))
			return fail(m, "not supported: a socket that is not SOCK_STREAM");
		if (k.nargs >= 1 && strstr(k.arg[0], "AF_INET6") && !m->mapped)
			m->ipv6 = 1;
		m->sock_fd = (int)k.result;
		return 0;
	}
	if (fd_of(m, &k, &fd) != 0)
		return -1;
	if (strcmp(n, "setsockopt") == 0) {
		const char *opt = k.nargs > 2 ? k.arg[2] : "";
		if (strcmp(opt, "SO_REUSEADDR") == 0 || strcmp(opt, "SO_REUSEPORT") == 0)
			return 0;
		if (strcmp(opt, "SO_LINGER") == 0) {
			m->linger0 = k.nargs > 3 && strstr(k.arg[3], "onoff=1") &&
				     strstr(k.arg[3], "linger=0");
			if (!m->linger0)
				return fail(
				    m, "not supported: SO_LINGER other than {onoff=1, linger=0}");
			return 0;
		}
		if (strcmp(opt, "TCP_NODELAY") == 0 || strcmp(opt, "SO_RCVBUF") == 0 ||
		    strcmp(opt, "SO_SNDBUF") == 0 || strcmp(opt, "TCP_QUICKACK") == 0) {
			note(m, "setsockopt %s is not carried over", opt);
			return 0;
		}
		return fail(m, "not supported: setsockopt %s", opt);
	}
	if (strcmp(n, "fcntl") == 0 || strcmp(n, "bind") == 0 || strcmp(n, "getsockopt") == 0) {
		if (strcmp(n, "getsockopt") == 0)
			note(m, "getsockopt is not carried over");
		return 0;
	}
	if (strcmp(n, "listen") == 0) {
		if (m->role >= 0)
			return fail(m, "not supported: listen after the socket was opened");
		m->role = 0; /* SFH_ROLE_PASSIVE */
		m->lfd = fd;
		sb_add(&m->out, "role passive\n%s", m->ipv6 ? "family ipv6\n" : "");
		m->t_step = t;
		return 0;
	}
	if (strcmp(n, "connect") == 0) {
		if (m->role >= 0)
			return fail(m, "not supported: connect after the socket was opened");
		m->role = 1; /* SFH_ROLE_ACTIVE */
		m->cfd = fd;
		sb_add(&m->out, "role active\n%s", m->ipv6 ? "family ipv6\n" : "");
		m->t_step = t;
		m->have_step = 1;
		if (failed && strcmp(k.err, "EINPROGRESS") != 0)
			note(m, "connect's result %s", k.err);
		return 0;
	}
	if (m->role < 0)
		return fail(m, "not supported: %s before listen or connect", n);
	if (strcmp(n, "accept") == 0) {
		if (failed) {
			char what[64] = "accept";
			with_result(m, &k, n, what, sizeof what, 0);
			step_call(m, t, what);
			return 0;
		}
		if (m->cfd >= 0 && !(m->closed && m->reuse))
			return fail(m, "not supported: a second connection (one per case, or a new "
				       "one on the same 4-tuple once the first is closed)");
		m->cfd = (int)k.result;
		m->closed = m->reuse = 0;
		m->linger0 = 0;
		step_call(m, t, "accept");
		return 0;
	}
	int on_conn = fd == m->cfd && fd >= 0;
	if (strcmp(n, "close") == 0) {
		if (fd == m->lfd && m->role == 0) {
			m->lfd = -1;
			if (m->cfd >= 0)
				return 0; /* the connection was accepted: the case has its TCB */
			/* a SYN came and nobody accepted its connection: the listener closes, not
			 * the connection (which the application cannot name) */
			step_call(m, t, m->remote_isn_known ? "close listener" : "close");
			return 0;
		}
		if (!on_conn)
			return fail(m, "not supported: close of descriptor %d", fd);
		char what[64];
		snprintf(what, sizeof what, "%s", m->linger0 ? "abort" : "close");
		if (failed)
			with_result(m, &k, n, what, sizeof what, 0);
		step_call(m, t, what);
		m->closed = 1;
		return 0;
	}
	if (!on_conn) {
		if (m->role == 0 && fd == m->lfd)
			return fail(m, "not supported: %s on the listener", n);
		return fail(m, "not supported: %s on descriptor %d", n, fd);
	}
	if (strcmp(n, "write") == 0 || strcmp(n, "send") == 0) {
		char *end;
		unsigned long sz = strtoul(k.arg[2], &end, 0);
		if (k.nargs < 3 || *end)
			return fail(m, "not supported: %s without a literal size", n);
		char what[64];
		snprintf(what, sizeof what, "send %lu", sz);
		with_result(m, &k, n, what, sizeof what, sz);
		step_call(m, t, what);
		return 0;
	}
	if (strcmp(n, "read") == 0 || strcmp(n, "recv") == 0) {
		char *end;
		unsigned long sz = strtoul(k.arg[2], &end, 0);
		if (k.nargs < 3 || *end)
			return fail(m, "not supported: %s without a literal size", n);
		char what[64];
		snprintf(what, sizeof what, "receive %lu", sz);
		with_result(m, &k, n, what, sizeof what, sz);
		step_call(m, t, what);
		return 0;
	}
	if (strcmp(n, "shutdown") == 0) {
		const char *how = k.nargs > 1 ? k.arg[1] : "";
		if (strcmp(how, "SHUT_RD") == 0)
			return fail(m, "not supported: shutdown SHUT_RD");
		if (strcmp(how, "SHUT_RDWR") == 0)
			note(m, "shutdown SHUT_RDWR's read side");
		char what[64] = "shutdown";
		if (failed)
			with_result(m, &k, n, what, sizeof what, 0);
		step_call(m, t, what);
		return 0;
	}
	return fail(m, "not supported: system call %s", n);
}

/* `%{ assert tcpi_state == TCP_X }%`: the one piece of packetdrill's Python with a
 * scenario form. */
static int code_event(struct imp *m, const char *code)
{
	static const struct {
		const char *tcp, *state;
	} map[] = {{"TCP_ESTABLISHED", "ESTABLISHED"},
		   {"TCP_SYN_SENT", "SYN-SENT"},
		   {"TCP_SYN_RECV", "SYN-RECEIVED"},
		   {"TCP_FIN_WAIT1", "FIN-WAIT-1"},
		   {"TCP_FIN_WAIT2", "FIN-WAIT-2"},
		   {"TCP_TIME_WAIT", "TIME-WAIT"},
		   {"TCP_CLOSE_WAIT", "CLOSE-WAIT"},
		   {"TCP_LAST_ACK", "LAST-ACK"},
		   {"TCP_LISTEN", "LISTEN"},
		   {"TCP_CLOSING", "CLOSING"},
		   {"TCP_CLOSE", "CLOSED"}};
	const char *a = strstr(code, "tcpi_state");
	const char *eq = a ? strstr(a, "==") : NULL;
	if (!a || !eq || !strstr(code, "assert")) {
		note(m, "Python code");
		return 0;
	}
	struct cur c = {eq + 2};
	char w[32];
	if (!word(&c, w, sizeof w)) {
		note(m, "Python code");
		return 0;
	}
	for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
		if (strcmp(w, map[i].tcp) == 0) {
			if (m->role < 0)
				return fail(m, "a state check before listen or connect");
			sb_add(&m->out, "expect state %s\n", map[i].state);
			m->nev++;
			return 0;
		}
	note(m, "Python code (state %s)", w);
	return 0;
}

/* ---- preprocessing: comments, #ifdef, definitions ---- */

static const char *def_value(const struct sfh_pd_defs *d, const char *name)
{
	for (size_t i = 0; d && i < d->n; i++)
		if (strcmp(d->name[i], name) == 0)
			return d->value[i];
	return NULL;
}

/* Replace defined words in line (in place, bounded). */
static void substitute(const struct sfh_pd_defs *d, char *line, size_t cap)
{
	char out[PI_MAX_LINE];
	size_t k = 0;
	for (const char *p = line; *p && k + 1 < sizeof out;) {
		if (isalpha((unsigned char)*p) || *p == '_') {
			char w[64];
			size_t n = 0;
			while ((isalnum((unsigned char)*p) || *p == '_') && n + 1 < sizeof w)
				w[n++] = *p++;
			w[n] = 0;
			const char *v = def_value(d, w);
			const char *s = v && v[0] ? v : w;
			for (; *s && k + 1 < sizeof out; s++)
				out[k++] = *s;
		} else {
			out[k++] = *p++;
		}
	}
	out[k] = 0;
	snprintf(line, cap, "%s", out);
}

int sfh_pd_import(const char *text, size_t len, const char *fname, const struct sfh_pd_defs *defs,
		  char **scn, struct sfh_scenario *out, struct sfh_pd_import_notes *notes,
		  char *err, size_t errlen)
{
	struct imp m = {.fname = fname,
			.err = err,
			.errlen = errlen,
			.notes = notes,
			.defs = defs,
			.role = -1,
			.sock_fd = -1,
			.lfd = -1,
			.cfd = -1,
			.tol_us = 4000}; /* packetdrill's default --tolerance_usecs */
	int skip[16] = {0}, depth = 0, in_comment = 0, rc = -1;
	char line[PI_MAX_LINE];
	char code[PI_MAX_LINE] = "";
	int in_code = 0;
	unsigned code_line = 0;
	double code_t = 0;
	if (notes)
		memset(notes, 0, sizeof *notes);
	*scn = NULL;
	sb_add(&m.out, "# imported by synfin from the packetdrill script %s\n", fname);
	size_t pos = 0;
	unsigned lineno = 0;
	while (pos < len) {
		size_t e = pos;
		while (e < len && text[e] != '\n')
			e++;
		lineno++;
		m.line = lineno;
		if (e - pos >= sizeof line) {
			fail(&m, "line longer than %d bytes", PI_MAX_LINE - 1);
			goto out;
		}
		memcpy(line, text + pos, e - pos);
		line[e - pos] = 0;
		if (strlen(line) != e - pos) {
			fail(&m, "a NUL byte (not a text file?)");
			goto out;
		}
		pos = e + 1;
		if (e > 0 && line[0] && line[strlen(line) - 1] == '\r')
			line[strlen(line) - 1] = 0;
		for (char *p = line; *p; p++)
			if ((unsigned char)*p < 0x20 && *p != '\t') {
				fail(&m, "control character 0x%02x (not a text file?)",
				     (unsigned char)*p);
				goto out;
			}
		/* block comments */
		if (in_comment) {
			char *ce = strstr(line, "*/");
			if (!ce)
				continue;
			memmove(line, ce + 2, strlen(ce + 2) + 1);
			in_comment = 0;
		}
		char *cs;
		while ((cs = strstr(line, "/*")) != NULL) {
			char *ce = strstr(cs + 2, "*/");
			if (!ce) {
				*cs = 0;
				in_comment = 1;
				break;
			}
			memmove(cs, ce + 2, strlen(ce + 2) + 1);
		}
		char *sl = strstr(line, "//");
		if (sl && !in_code)
			*sl = 0;
		struct cur c = {line};
		ws(&c);
		if (in_code) {
			char *ce = strstr(line, "}%");
			if (ce)
				*ce = 0;
			size_t used = strlen(code); /* a long block is cut, never overrun */
			if (used + 2 < sizeof code) {
				strncat(code, line, sizeof code - used - 2);
				strcat(code, " ");
			}
			if (ce) {
				in_code = 0;
				unsigned save = m.line;
				m.line = code_line;
				m.t_prev = code_t;
				if (!skip[depth] && code_event(&m, code) != 0)
					goto out;
				m.line = save;
			}
			continue;
		}
		if (!*c.p)
			continue;
		/* #ifdef / #ifndef / #else / #endif */
		if (*c.p == '#') {
			char w[32], name[64];
			c.p++;
			if (!word(&c, w, sizeof w)) {
				fail(&m, "not supported: '#' line");
				goto out;
			}
			if (strcmp(w, "ifdef") == 0 || strcmp(w, "ifndef") == 0) {
				if (!word(&c, name, sizeof name) || depth + 1 >= 16) {
					fail(&m, "#%s needs a name (nesting at most 15)", w);
					goto out;
				}
				int def = def_value(defs, name) != NULL;
				depth++;
				skip[depth] = skip[depth - 1] || (w[2] == 'd' ? !def : def);
			} else if (strcmp(w, "else") == 0) {
				if (depth == 0) {
					fail(&m, "#else without #ifdef");
					goto out;
				}
				skip[depth] = skip[depth - 1] || !skip[depth];
			} else if (strcmp(w, "endif") == 0) {
				if (depth == 0) {
					fail(&m, "#endif without #ifdef");
					goto out;
				}
				depth--;
			} else {
				fail(&m, "not supported: #%s", w);
				goto out;
			}
			continue;
		}
		if (skip[depth])
			continue;
		substitute(defs, line, sizeof line);
		c.p = line;
		ws(&c);
		if (c.p[0] == '-' && c.p[1] == '-') {
			/* the IP version: IPv4 (the default), IPv6 (`family ipv6`), or
			 * IPv4 on the wire under AF_INET6 sockets */
			if (strstr(c.p, "ip_version") && strstr(c.p, "ipv4-mapped-ipv6")) {
				m.mapped = 1;
				m.ipv6 = 0;
			} else if (strstr(c.p, "ip_version") && strstr(c.p, "ipv6")) {
				m.ipv6 = 1;
			} else if (strstr(c.p, "ip_version") && strstr(c.p, "ipv4")) {
				m.ipv6 = 0;
			}
			if (m.role >= 0 && strstr(c.p, "ip_version")) {
				fail(&m, "not supported: --ip_version after the socket was opened");
				goto out;
			}
			if (strstr(c.p, "ip_version") && !strstr(c.p, "mapped"))
				continue; /* carried over as `family` */
			if (strncmp(c.p, "--tolerance_usecs=", 18) == 0)
				m.tol_us = strtol(c.p + 18, NULL, 10);
			else
				note(&m, "option '%s'", c.p);
			continue;
		}
		if (*c.p == '`') {
			note(&m, "shell command");
			continue;
		}
		double t, tend;
		int any;
		if (event_time(&m, &c, &t, &tend, &any) != 0)
			goto out;
		ws(&c);
		if (c.p[0] == '%' && c.p[1] == '{') {
			char *ce = strstr(c.p, "}%");
			snprintf(code, sizeof code, "%s", c.p + 2);
			if (ce) {
				code[ce - c.p - 2] = 0;
				m.t_prev = t;
				if (code_event(&m, code) != 0)
					goto out;
			} else {
				in_code = 1;
				code_line = m.line;
				code_t = t;
				strcat(code, " ");
			}
			continue;
		}
		if (*c.p == '<' || *c.p == '>') {
			int inbound = *c.p == '<';
			c.p++;
			ws(&c);
			if (strncmp(c.p, "udp", 3) == 0 || strncmp(c.p, "icmp", 4) == 0 ||
			    strncmp(c.p, "UDP", 3) == 0 || strncmp(c.p, "ICMP", 4) == 0) {
				fail(&m, "not supported: a packet that is not TCP");
				goto out;
			}
			if (packet(&m, &c, inbound, t, tend, any) != 0)
				goto out;
			continue;
		}
		if (c.p[0] == '.' && c.p[1] == '.' && c.p[2] == '.') {
			fail(&m, "not supported: a blocking system call ('...' end time)");
			goto out;
		}
		if (syscall_event(&m, &c, t) != 0)
			goto out;
		m.t_prev = t;
		if (m.nev > SFH_MAX_EVENTS) {
			fail(&m, "not supported: more than %d scenario events", SFH_MAX_EVENTS);
			goto out;
		}
	}
	m.line = lineno;
	if (in_code || in_comment) {
		fail(&m, "unterminated %s at the end of the file", in_code ? "%{ code" : "comment");
		goto out;
	}
	if (depth) {
		fail(&m, "#ifdef without #endif");
		goto out;
	}
	if (m.role < 0) {
		fail(&m, "the script never listens or connects");
		goto out;
	}
	if (m.out.oom) {
		snprintf(err, errlen, "%s: out of memory", fname);
		goto out;
	}
	char perr[256];
	if (sfh_scn_parse(m.out.p, m.out.n, fname, out, perr, sizeof perr) != 0) {
		snprintf(err, errlen, "%s: the scenario it maps to is not valid: %s", fname, perr);
		goto out;
	}
	*scn = m.out.p;
	m.out.p = NULL;
	rc = 0;
out:
	free(m.out.p);
	return rc;
}
