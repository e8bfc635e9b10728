/* The `exec:CMD` target: a TCP stack in another process, behind a shim that speaks the
 * synfin control protocol (docs/exec-protocol.md) on its standard input and output.
 *
 * synfin starts `/bin/sh -c 'exec CMD'` with one end of an AF_UNIX stream socketpair as
 * the shim's stdin and stdout and a pipe as its stderr, sends HELLO, and from then on
 * every target op is one request and its REPLY; IPv4 packets the stack sends arrive as
 * EMIT frames and wait in a queue until drain() takes them. The shim's capabilities
 * (HELLO) narrow this instance's ops: a shim without STATE reports no state, one without
 * VTIME is left to run on real time (advance() waits and collects what it EMITs).
 *
 * Nothing the shim does can hang or crash synfin: every wait is bounded (timeout=MS,
 * plus an ADVANCE's own ms), every frame is decoded by the bounds-checked codec, and
 * writes never raise SIGPIPE. A shim that dies is a crash of the stack (its exit signal,
 * and the assertion it printed on stderr, name it; base.died tells the runner), one that
 * stops answering is a hang (it is killed), and one that writes garbage is an error
 * naming the offset of the offending octet in everything it wrote. The next case
 * starts a new shim.
 *
 * Spec: exec:CMD[,timeout=MS][,maxwait=MS][,opt=TEXT] (options are taken from the end, so CMD
 * may hold
 * commas of its own); opt=TEXT goes to the shim in every OPEN. The shim starts in the
 * current directory, or in $SYNFIN_EXEC_DIR when set (the fuzz command sets it before
 * its workers move into OUT/logs).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "proto_io.h"
#include "target.h"

#define EXEC_TIMEOUT_MS 2000 /* default bound on one request */
#define EXEC_MAXWAIT_MS 2000 /* real time one advance() may take without VTIME */
#define EXEC_QMAX	4096 /* EMITs one step may queue before we call the shim broken */
#define EXEC_ERRTAIL	4096 /* the last octets of the shim's stderr kept for reports */

extern const struct sfh_target_ops sfh_target_exec_ops;

struct exec_target {
	struct sfh_target base;
	struct sfh_target_ops ops; /* sfh_target_exec_ops narrowed by the shim's HELLO */
	char *cmd, *opt;
	int timeout_ms;
	uint32_t maxwait_ms; /* without VTIME: the longest real wait (maxwait=) */
	/* the running shim (pid 0: none) */
	pid_t pid;
	int fd, errfd;
	struct sfx_conn conn;
	int conn_ok;
	uint32_t caps; /* SFX_CAP_* from HELLO */
	char stack[128], profile[256];
	char errtail[EXEC_ERRTAIL + 1];
	size_t errlen;
	int synced; /* non-VTIME: a SYNC was answered since the last op */
	/* EMITs not yet drained: q[qhead..qlen) */
	struct sfh_pkt *q;
	int qhead, qlen;
};

/* The version is the stack's, which only the shim knows: that of the shim greeted last
 * (ops->version takes no instance; one exec target per process is the common case). */
static char greeted[160] = "any stack behind a shim (control protocol 1)";

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- the shim's standard error ---- */

/* Keep what the shim wrote on stderr (the last EXEC_ERRTAIL octets). */
static void read_stderr(struct exec_target *x)
{
	char buf[1024];
	for (;;) {
		ssize_t n = x->errfd >= 0 ? read(x->errfd, buf, sizeof buf) : -1;
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;
		size_t k = (size_t)n;
		if (x->errlen + k > EXEC_ERRTAIL) {
			size_t drop = x->errlen + k - EXEC_ERRTAIL;
			if (drop > x->errlen)
				drop = x->errlen;
			memmove(x->errtail, x->errtail + drop, x->errlen - drop);
			x->errlen -= drop;
		}
		if (k > EXEC_ERRTAIL)
			k = EXEC_ERRTAIL;
		memcpy(x->errtail + x->errlen, buf + (size_t)n - k, k);
		x->errlen += k;
		x->errtail[x->errlen] = '\0';
	}
}

/* The last line of the shim's stderr, for an error message ("" if none). */
static const char *last_line(struct exec_target *x, char *buf, size_t cap)
{
	size_t end = x->errlen;
	while (end && (x->errtail[end - 1] == '\n' || x->errtail[end - 1] == '\r'))
		end--;
	size_t start = end;
	while (start && x->errtail[start - 1] != '\n')
		start--;
	snprintf(buf, cap, "%.*s", (int)(end - start), x->errtail + start);
	for (char *p = buf; *p; p++)
		if ((unsigned char)*p < 0x20)
			*p = '?';
	return buf;
}

/* ---- the shim's life ---- */

/* Reap the shim: wait up to wait_ms for it to exit, then kill it. Returns its status. */
static int reap(struct exec_target *x, int wait_ms)
{
	int status = 0;
	if (x->pid <= 0)
		return 0;
	int64_t deadline = now_ms() + wait_ms;
	for (;;) {
		pid_t k = waitpid(x->pid, &status, WNOHANG);
		if (k == x->pid || (k < 0 && errno != EINTR))
			break;
		if (k == 0 && now_ms() >= deadline) {
			kill(x->pid, SIGKILL);
			while (waitpid(x->pid, &status, 0) < 0 && errno == EINTR)
				;
			break;
		}
		if (k == 0) {
			read_stderr(x); /* a shim blocked on a full stderr pipe must get out */
			struct timespec ts = {0, 2 * 1000 * 1000};
			nanosleep(&ts, NULL);
		}
	}
	x->pid = 0;
	return status;
}

static void stop_shim(struct exec_target *x, int wait_ms)
{
	if (x->fd >= 0)
		shutdown(x->fd, SHUT_RDWR); /* a shim reading its stdin sees end of file */
	if (x->pid > 0)
		reap(x, wait_ms);
	read_stderr(x);
	if (x->conn_ok)
		sfx_conn_dispose(&x->conn);
	x->conn_ok = 0;
	if (x->fd >= 0)
		close(x->fd);
	if (x->errfd >= 0)
		close(x->errfd);
	x->fd = x->errfd = -1;
}

static int start_shim(struct exec_target *x)
{
	int sv[2], ep[2];
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
		snprintf(x->base.err, sizeof x->base.err, "exec: socketpair: %s", strerror(errno));
		return -1;
	}
	if (pipe2(ep, O_CLOEXEC) != 0) {
		snprintf(x->base.err, sizeof x->base.err, "exec: pipe: %s", strerror(errno));
		close(sv[0]);
		close(sv[1]);
		return -1;
	}
	size_t n = strlen(x->cmd) + 8;
	char *line = malloc(n);
	if (!line) {
		snprintf(x->base.err, sizeof x->base.err, "exec: out of memory");
		close(sv[0]), close(sv[1]), close(ep[0]), close(ep[1]);
		return -1;
	}
	snprintf(line, n, "exec %s", x->cmd);
	pid_t parent = getpid();
	fflush(NULL);
	pid_t pid = fork();
	if (pid == 0) {
		/* the shim never outlives synfin */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(127);
		dup2(sv[1], 0);
		dup2(sv[1], 1);
		dup2(ep[1], 2);
		/* a process that moved (a fuzz worker runs in OUT/logs) starts shims where
		 * the user started synfin, so relative paths in CMD mean what they meant */
		const char *dir = getenv("SYNFIN_EXEC_DIR");
		if (dir && chdir(dir) != 0) {
			fprintf(stderr, "exec: cannot enter %s (SYNFIN_EXEC_DIR)\n", dir);
			_exit(126);
		}
		signal(SIGPIPE, SIG_DFL);
		execl("/bin/sh", "sh", "-c", line, (char *)NULL);
		_exit(127);
	}
	int fork_errno = errno;
	free(line);
	close(sv[1]);
	close(ep[1]);
	if (pid < 0) {
		snprintf(x->base.err, sizeof x->base.err, "exec: fork: %s", strerror(fork_errno));
		close(sv[0]);
		close(ep[0]);
		return -1;
	}
	fcntl(ep[0], F_SETFL, O_NONBLOCK);
	x->pid = pid;
	x->fd = sv[0];
	x->errfd = ep[0];
	x->errlen = 0;
	x->errtail[0] = '\0';
	if (sfx_conn_init(&x->conn, x->fd) != 0) {
		snprintf(x->base.err, sizeof x->base.err, "exec: out of memory");
		stop_shim(x, 0);
		return -1;
	}
	x->conn_ok = 1;
	return 0;
}

/* ---- requests ---- */

static const char *req_name(uint8_t type)
{
	const char *n = sfx_type_name(type);
	return n ? n : "?";
}

/* The line of a runtime's crash report in the shim's stderr (a sanitizer's, Go's panic or
 * fatal error), which ends a process with an exit status rather than a signal; or NULL. */
static const char *runtime_report(const char *text)
{
	static const char *const marks[] = {"ERROR: AddressSanitizer", "ERROR: LeakSanitizer",
					    "runtime error: ", "panic: ", "fatal error: "};
	for (const char *p = text; *p;) {
		for (size_t i = 0; i < sizeof marks / sizeof marks[0]; i++)
			if (strncmp(p, marks[i], strlen(marks[i])) == 0 ||
			    (i == 2 && strstr(p, marks[i]) &&
			     strstr(p, marks[i]) < strchr(p, '\n')))
				return p;
		p += strcspn(p, "\n");
		p += *p == '\n';
	}
	return NULL;
}

/* The shim is gone (end of stream, a failed write): a crash when a signal, a printed
 * assertion or a runtime's crash report says so, else an error naming the request.
 * Always -1. */
static int shim_died(struct exec_target *x, uint8_t req, const char *how)
{
	char tail[200];
	int status = reap(x, 1000);
	read_stderr(x);
	struct sfh_crash *c = &x->base.death;
	sfh_crash_clear(c);
	struct sfh_crash *prev = sfh_crash_sink(c);
	for (char *p = x->errtail; *p;) { /* an assertion the stack printed names the site */
		size_t k = strcspn(p, "\n");
		char line[256];
		snprintf(line, sizeof line, "%.*s", (int)(k < 255 ? k : 255), p);
		sfh_crash_note_output(line);
		p += k + (p[k] == '\n');
	}
	sfh_crash_sink(prev);
	if (WIFSIGNALED(status))
		c->signo = WTERMSIG(status);
	sfh_crash_finish(c);
	const char *report =
	    WIFEXITED(status) && WEXITSTATUS(status) ? runtime_report(x->errtail) : NULL;
	if (WIFSIGNALED(status) || c->line || report) {
		x->base.died = SFO_DIV_CRASH;
		if (report && !c->line && !WIFSIGNALED(status))
			snprintf(x->base.died_what, sizeof x->base.died_what,
				 "the shim died during %s: exit status %d after \"%.*s\"",
				 req_name(req), WEXITSTATUS(status),
				 (int)(strcspn(report, "\n") < 60 ? strcspn(report, "\n") : 60),
				 report);
		else if (WIFSIGNALED(status))
			snprintf(x->base.died_what, sizeof x->base.died_what,
				 "the shim died during %s: killed by signal %d (%s)", req_name(req),
				 WTERMSIG(status), strsignal(WTERMSIG(status)));
		else
			snprintf(x->base.died_what, sizeof x->base.died_what,
				 "the shim died during %s: exit status %d", req_name(req),
				 WIFEXITED(status) ? WEXITSTATUS(status) : -1);
	}
	snprintf(x->base.err, sizeof x->base.err, "exec: the shim %s during %s (%s%d)%s%s", how,
		 req_name(req), WIFSIGNALED(status) ? "signal " : "exit status ",
		 WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status),
		 x->errlen ? "; its stderr ends: " : "", last_line(x, tail, sizeof tail));
	stop_shim(x, 0);
	return -1;
}

/* An EMIT: queue the packet (one longer than synfin's buffer is an error). */
static int queue_emit(struct exec_target *x, const struct sfx_msg *m)
{
	if (m->u.pkt.len > SFH_PKT_MAX) {
		snprintf(x->base.err, sizeof x->base.err,
			 "exec: the shim emitted a %zu-octet packet at stream offset %llu "
			 "(synfin takes at most %d)",
			 m->u.pkt.len, (unsigned long long)x->conn.rx_base, SFH_PKT_MAX);
		return -1;
	}
	if (x->qhead == x->qlen)
		x->qhead = x->qlen = 0;
	if (x->qlen == EXEC_QMAX) {
		snprintf(x->base.err, sizeof x->base.err,
			 "exec: the shim emitted more than %d packets in one step", EXEC_QMAX);
		return -1;
	}
	struct sfh_pkt *p = &x->q[x->qlen++];
	p->len = (uint16_t)m->u.pkt.len;
	memcpy(p->data, m->u.pkt.p, m->u.pkt.len);
	return 0;
}

/* Read one message, EMIT and LOG included, until deadline (ms since now_ms's epoch; -1:
 * return at once if nothing is whole). Returns SFX_IO_* as sfx_conn_recv. The shim's
 * stderr is read meanwhile, so that it never blocks on it. */
static int recv_until(struct exec_target *x, struct sfx_msg *m, int64_t deadline, struct sfx_err *e)
{
	for (;;) {
		int k = sfx_conn_recv(&x->conn, m, 0, e);
		if (k != SFX_IO_TIMEOUT)
			return k;
		int64_t left = deadline < 0 ? 0 : deadline - now_ms();
		if (left <= 0)
			return SFX_IO_TIMEOUT;
		struct pollfd p[2] = {{.fd = x->fd, .events = POLLIN},
				      {.fd = x->errfd, .events = POLLIN}};
		int r = poll(p, x->errfd >= 0 ? 2 : 1, left > 1000 ? 1000 : (int)left);
		if (r < 0 && errno != EINTR)
			return SFX_IO_ERR;
		if (r > 0 && (p[1].revents & (POLLIN | POLLHUP)))
			read_stderr(x);
		if (r > 0 && (p[1].revents & POLLHUP) && !(p[0].revents & (POLLIN | POLLHUP))) {
			close(x->errfd); /* stderr closed but the stream not: keep reading it */
			x->errfd = -1;
		}
	}
}

/* What the shim wrote is garbage: an error naming the offset; the shim is killed. */
static int garbage(struct exec_target *x, uint8_t req, const struct sfx_err *e)
{
	snprintf(x->base.err, sizeof x->base.err,
		 "exec: the shim spoke garbage while answering %s: offset %zu of its output: %s",
		 req_name(req), e->offset, e->what);
	kill(x->pid, SIGKILL);
	stop_shim(x, 1000);
	return -1;
}

/* Handle a message that is not the REPLY awaited. 0, or -1 (error set). */
static int side_message(struct exec_target *x, uint8_t req, const struct sfx_msg *m)
{
	if (m->type == SFX_EMIT)
		return queue_emit(x, m);
	if (m->type == SFX_LOG)
		return 0; /* free text for traces; synfin keeps none */
	struct sfx_err e = {.offset = (size_t)x->conn.rx_base + SFX_HDR};
	snprintf(e.what, sizeof e.what, "message type 0x%02x (%s) is not one a shim sends", m->type,
		 req_name(m->type));
	return garbage(x, req, &e);
}

/* Send m and wait for its REPLY (into *rep), queueing EMITs on the way. extra_ms lengthens
 * the bound (an ADVANCE). 0 with the reply (whatever its status but ERROR), or -1 with the
 * error set (and base.died when the stack died or hung). */
static int request(struct exec_target *x, const struct sfx_msg *m, struct sfx_msg *rep,
		   uint32_t extra_ms)
{
	struct sfx_err e;
	if (x->pid <= 0) {
		snprintf(x->base.err, sizeof x->base.err, "exec: no shim running");
		return -1;
	}
	if (sfx_conn_send(&x->conn, m) != 0)
		return shim_died(x, m->type, "stopped reading");
	int64_t deadline = now_ms() + x->timeout_ms + extra_ms;
	for (;;) {
		int k = recv_until(x, rep, deadline, &e);
		if (k == SFX_IO_GARBAGE)
			return garbage(x, m->type, &e);
		if (k == SFX_IO_TIMEOUT) {
			long ms = (long)x->timeout_ms + (long)extra_ms;
			snprintf(x->base.err, sizeof x->base.err,
				 "exec: the shim did not answer %s within %ld ms",
				 req_name(m->type), ms);
			x->base.died = SFO_DIV_HANG;
			snprintf(x->base.died_what, sizeof x->base.died_what,
				 "the shim did not answer %s within %ld ms: the case hangs",
				 req_name(m->type), ms);
			kill(x->pid, SIGKILL);
			stop_shim(x, 1000);
			return -1;
		}
		if (k != SFX_IO_MSG)
			return shim_died(x, m->type,
					 k == SFX_IO_EOF ? "exited" : "broke its stream");
		if (rep->type != SFX_REPLY) {
			if (side_message(x, m->type, rep) != 0)
				return -1;
			continue;
		}
		if (rep->u.reply.req != m->type) {
			e.offset = (size_t)x->conn.rx_base + SFX_HDR + 1;
			snprintf(e.what, sizeof e.what, "REPLY to %s while %s is outstanding",
				 req_name(rep->u.reply.req), req_name(m->type));
			return garbage(x, m->type, &e);
		}
		if (rep->u.reply.status == SFX_REFUSED && m->type != SFX_CALL) {
			e.offset = (size_t)x->conn.rx_base + SFX_HDR + 2;
			snprintf(e.what, sizeof e.what, "REFUSED is valid only for CALL, not %s",
				 req_name(m->type));
			return garbage(x, m->type, &e);
		}
		if (rep->u.reply.status == SFX_ERROR) {
			snprintf(x->base.err, sizeof x->base.err,
				 "exec: the shim could not do %s: %.*s (code %d)",
				 req_name(m->type),
				 (int)(rep->u.reply.text.len < 160 ? rep->u.reply.text.len : 160),
				 (const char *)rep->u.reply.text.p, (int)rep->u.reply.code);
			return -1;
		}
		return 0;
	}
}

static int simple(struct exec_target *x, uint8_t type, struct sfx_msg *rep)
{
	struct sfx_msg m = {.type = type};
	return request(x, &m, rep, 0);
}

/* Start the shim and greet it; fills caps, stack, profile and this instance's ops. */
static int hello(struct exec_target *x)
{
	struct sfx_msg m = {.type = SFX_HELLO}, rep;
	m.u.hello.vmin = m.u.hello.vmax = SFX_VERSION;
	if (start_shim(x) != 0)
		return -1;
	if (request(x, &m, &rep, 0) != 0) {
		/* a shim that dies or hangs before its first case is broken, not a finding */
		x->base.died = SFO_DIV_OK;
		return -1;
	}
	const struct sfx_bytes *st = &rep.u.reply.stack, *pr = &rep.u.reply.profile;
	if (rep.u.reply.version != SFX_VERSION ||
	    !(rep.u.reply.caps & (SFX_CAP_PASSIVE | SFX_CAP_ACTIVE))) {
		snprintf(x->base.err, sizeof x->base.err,
			 "exec: the shim answered HELLO with version %u and caps 0x%x (want "
			 "version %d and a role)",
			 rep.u.reply.version, (unsigned)rep.u.reply.caps, SFX_VERSION);
		stop_shim(x, 0);
		return -1;
	}
	x->caps = rep.u.reply.caps;
	snprintf(x->stack, sizeof x->stack, "%.*s", (int)(st->len < 127 ? st->len : 127),
		 (const char *)st->p);
	snprintf(x->profile, sizeof x->profile, "%.*s", (int)(pr->len < 255 ? pr->len : 255),
		 (const char *)pr->p);
	uint32_t caps = 0;
	caps |= (x->caps & SFX_CAP_STATE) ? SFH_CAP_STATE : 0;
	caps |= (x->caps & SFX_CAP_VTIME) ? SFH_CAP_VTIME : 0;
	caps |= (x->caps & SFX_CAP_PASSIVE) ? SFH_CAP_PASSIVE : 0;
	caps |= (x->caps & SFX_CAP_ACTIVE) ? SFH_CAP_ACTIVE : 0;
	caps |= (x->caps & SFX_CAP_RESULT) ? SFH_CAP_CALLRES : 0;
	x->ops.caps = caps;
	x->ops.profile = x->profile[0] ? x->profile : NULL;
	snprintf(greeted, sizeof greeted, "%s (exec, protocol %d)",
		 x->stack[0] ? x->stack : "unnamed stack", SFX_VERSION);
	return 0;
}

/* ---- the target ops ---- */

static int exec_probe(char *err, size_t errlen)
{
	if (access("/bin/sh", X_OK) != 0) {
		snprintf(err, errlen, "exec: /bin/sh is needed to start the shim");
		return -1;
	}
	return 0;
}

static const char *exec_version(void)
{
	return greeted;
}

static void exec_close(struct sfh_target *base);

/* Take ",timeout=MS" and ",opt=TEXT" off the end of the spec. */
static int parse_args(struct exec_target *x, const char *args, char *err, size_t errlen)
{
	char *s = strdup(args);
	if (!s) {
		snprintf(err, errlen, "exec: out of memory");
		return -1;
	}
	x->timeout_ms = EXEC_TIMEOUT_MS;
	x->maxwait_ms = EXEC_MAXWAIT_MS;
	for (;;) {
		char *comma = strrchr(s, ',');
		if (!comma)
			break;
		if (strncmp(comma + 1, "timeout=", 8) == 0) {
			char *end;
			long v = strtol(comma + 9, &end, 10);
			if (*end || v < 10 || v > 600000) {
				snprintf(err, errlen, "exec: timeout=%s: want 10..600000 ms",
					 comma + 9);
				free(s);
				return -1;
			}
			x->timeout_ms = (int)v;
		} else if (strncmp(comma + 1, "maxwait=", 8) == 0) {
			char *end;
			long v = strtol(comma + 9, &end, 10);
			if (*end || v < 0 || v > 3600000) {
				snprintf(err, errlen, "exec: maxwait=%s: want 0..3600000 ms",
					 comma + 9);
				free(s);
				return -1;
			}
			x->maxwait_ms = (uint32_t)v;
		} else if (strncmp(comma + 1, "opt=", 4) == 0) {
			if (!x->opt && !(x->opt = strdup(comma + 5))) {
				free(s);
				snprintf(err, errlen, "exec: out of memory");
				return -1;
			}
		} else {
			break;
		}
		*comma = '\0';
	}
	size_t lead = strspn(s, " \t");
	if (!s[lead]) {
		snprintf(err, errlen,
			 "exec: no command: use --target exec:CMD (e.g. exec:build/shims/lwip/"
			 "synfin-shim-lwip)");
		free(s);
		return -1;
	}
	x->cmd = s;
	return 0;
}

static int exec_open(const char *args, struct sfh_target **out, char *err, size_t errlen)
{
	struct exec_target *x = calloc(1, sizeof *x);
	*out = NULL;
	if (!x || !(x->q = calloc(EXEC_QMAX, sizeof *x->q))) {
		free(x);
		snprintf(err, errlen, "exec: out of memory");
		return -1;
	}
	x->ops = sfh_target_exec_ops;
	x->base.ops = &x->ops;
	x->base.no_ipv6 = "the exec protocol carries IPv4 addresses only (OPEN, "
			  "docs/exec-protocol.md)";
	x->fd = x->errfd = -1;
	if (parse_args(x, args, err, errlen) != 0) {
		exec_close(&x->base);
		return -1;
	}
	if (hello(x) != 0) {
		snprintf(err, errlen, "%s", x->base.err);
		exec_close(&x->base);
		return -1;
	}
	*out = &x->base;
	return 0;
}

static int exec_reset(struct sfh_target *base, enum sfh_role role, uint32_t case_no,
		      struct sfh_endpoints *ep)
{
	struct exec_target *x = (struct exec_target *)base;
	struct sfx_msg m = {.type = SFX_OPEN}, rep;
	base->died = SFO_DIV_OK;
	base->skipped_ms = 0;
	x->qhead = x->qlen = 0;
	x->synced = 0;
	if (x->pid <= 0 && hello(x) != 0) /* the last case's shim died: a new one */
		return -1;
	if (!(x->caps & (role == SFH_ROLE_PASSIVE ? SFX_CAP_PASSIVE : SFX_CAP_ACTIVE))) {
		snprintf(base->err, sizeof base->err, "exec: %s cannot play the %s role",
			 x->stack[0] ? x->stack : "the shim",
			 role == SFH_ROLE_PASSIVE ? "passive" : "active");
		return -1;
	}
	if (simple(x, SFX_RESET, &rep) != 0)
		return -1;
	x->qhead = x->qlen = 0; /* a reset's output is not the case's */
	m.u.open.case_no = case_no;
	m.u.open.role = role == SFH_ROLE_ACTIVE;
	if ((x->caps & SFX_CAP_ISS) && base->iss_set) {
		m.u.open.flags = 1;
		m.u.open.iss = base->iss_want;
	}
	if (x->opt) {
		m.u.open.options.p = (const uint8_t *)x->opt;
		m.u.open.options.len = strlen(x->opt);
	}
	if (request(x, &m, &rep, 0) != 0)
		return -1;
	const struct sfx_endpoints *e = &rep.u.reply.ep;
	if (!e->peer_ip || !e->target_ip || !e->peer_port ||
	    (!e->target_port && role == SFH_ROLE_PASSIVE)) {
		snprintf(base->err, sizeof base->err,
			 "exec: the shim's OPEN reply leaves an address or port 0");
		return -1;
	}
	ep->peer_ip = e->peer_ip;
	ep->target_ip = e->target_ip;
	ep->peer_port = e->peer_port;
	ep->target_port = e->target_port;
	return 0;
}

static int exec_inject(struct sfh_target *base, const uint8_t *ip, size_t len)
{
	struct exec_target *x = (struct exec_target *)base;
	struct sfx_msg m = {.type = SFX_INJECT}, rep;
	m.u.pkt.p = ip;
	m.u.pkt.len = len;
	x->synced = 0;
	return request(x, &m, &rep, 0);
}

static int exec_call(struct sfh_target *base, enum sfo_call call, uint32_t arg)
{
	struct exec_target *x = (struct exec_target *)base;
	struct sfx_msg m = {.type = SFX_CALL}, rep;
	m.u.call.call = (uint8_t)call;
	m.u.call.arg = arg;
	x->synced = 0;
	if (request(x, &m, &rep, 0) != 0)
		return -1;
	/* cap RESULT: `code` names what the call returned (docs/exec-protocol.md); an
	 * error number synfin does not know reads as an error it cannot name */
	if (x->caps & SFX_CAP_RESULT)
		base->call_err = rep.u.reply.code >= 0 && rep.u.reply.code < SFO_NERRS &&
					 rep.u.reply.code != SFO_ERR_EOF
				     ? (int)rep.u.reply.code
				     : SFO_ERR_ERROR;
	if (rep.u.reply.status == SFX_REFUSED)
		return SFH_CALL_REFUSED;
	uint32_t v = rep.u.reply.value;
	int bad = call == SFO_CALL_SEND ? v > arg : call == SFO_CALL_RECEIVE ? arg && v > arg : v;
	if (bad) {
		snprintf(base->err, sizeof base->err, "exec: the shim says %s %u took %u octets",
			 sfo_call_name(call), arg, rep.u.reply.value);
		return -1;
	}
	return rep.u.reply.value > 0x7fffffffu ? 0x7fffffff : (int)rep.u.reply.value;
}

static int exec_advance(struct sfh_target *base, uint32_t ms)
{
	struct exec_target *x = (struct exec_target *)base;
	x->synced = 0;
	if (x->caps & SFX_CAP_VTIME) {
		struct sfx_msg m = {.type = SFX_ADVANCE}, rep;
		m.u.advance.ms = ms;
		if (request(x, &m, &rep, ms) != 0)
			return -1;
		base->skipped_ms += rep.u.reply.value < ms ? rep.u.reply.value : ms;
		return 0;
	}
	/* real time: let it pass, taking what the shim EMITs meanwhile; a wait beyond
	 * maxwait is cut, and the model is told (skipped_ms) that the stack saw less */
	uint32_t real = ms < x->maxwait_ms ? ms : x->maxwait_ms;
	base->skipped_ms += ms - real;
	int64_t deadline = now_ms() + real;
	for (;;) {
		struct sfx_msg m;
		struct sfx_err e;
		int k = recv_until(x, &m, deadline, &e);
		if (k == SFX_IO_TIMEOUT)
			return 0;
		if (k == SFX_IO_GARBAGE)
			return garbage(x, SFX_ADVANCE, &e);
		if (k != SFX_IO_MSG)
			return shim_died(x, SFX_ADVANCE, "exited");
		if (m.type == SFX_REPLY) {
			e.offset = (size_t)x->conn.rx_base + SFX_HDR;
			snprintf(e.what, sizeof e.what, "a REPLY with no request outstanding");
			return garbage(x, SFX_ADVANCE, &e);
		}
		if (side_message(x, SFX_ADVANCE, &m) != 0)
			return -1;
	}
}

static int exec_drain(struct sfh_target *base, struct sfh_pkt *out, int max)
{
	struct exec_target *x = (struct exec_target *)base;
	if (!(x->caps & SFX_CAP_VTIME) && !x->synced && x->qhead == x->qlen) {
		struct sfx_msg rep;
		if (simple(x, SFX_SYNC, &rep) != 0)
			return -1;
		x->synced = 1;
	}
	int n = 0;
	while (n < max && x->qhead < x->qlen)
		out[n++] = x->q[x->qhead++];
	return n;
}

static int exec_state(struct sfh_target *base, enum sfo_state *st)
{
	struct exec_target *x = (struct exec_target *)base;
	struct sfx_msg rep;
	if (simple(x, SFX_STATE, &rep) != 0)
		return -1;
	*st =
	    rep.u.reply.value < SFO_NSTATES ? (enum sfo_state)rep.u.reply.value : SFO_STATE_UNKNOWN;
	return 0;
}

static void exec_close(struct sfh_target *base)
{
	struct exec_target *x = (struct exec_target *)base;
	if (x->pid > 0) {
		struct sfx_msg rep;
		int saved = x->timeout_ms;
		x->timeout_ms = 500;
		if (simple(x, SFX_BYE, &rep) == 0)
			stop_shim(x, 500);
		x->timeout_ms = saved;
	}
	stop_shim(x, 0);
	free(x->q);
	free(x->cmd);
	free(x->opt);
	free(x);
}

const struct sfh_target_ops sfh_target_exec_ops = {
    .name = "exec",
    .summary = "exec:CMD - any stack behind a shim speaking docs/exec-protocol.md",
    .caps = SFH_CAP_STATE | SFH_CAP_VTIME | SFH_CAP_PASSIVE | SFH_CAP_ACTIVE,
    .profile = NULL,
    .probe = exec_probe,
    .version = exec_version,
    .open = exec_open,
    .reset = exec_reset,
    .inject = exec_inject,
    .call = exec_call,
    .advance = exec_advance,
    .drain = exec_drain,
    .state = exec_state,
    .close = exec_close,
};
