/* The linux target through its vtable, with segments built by sfh_wire_build: the
 * passive handshake, the active connect, RST handling, the close sequences, state reads
 * through TCP_INFO and (after close()) through sock_diag, the delayed ACK after a FIN,
 * SYN-ACK retransmission in real time, TIME-WAIT expiry in virtual time, capped waits,
 * and cases that leave nothing behind. Each test reads as state_event_expectation.
 * Skipped (77) only when not root or without /dev/net/tun. */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "runner.h"
#include "target.h"
#include "wire.h"

#define PISN   1000u
#define MAXOUT 64

struct fx {
	struct sfh_target *t;
	struct sfh_wire *w;
	struct sfh_endpoints ep;
	uint32_t tisn; /* the kernel's ISN, learnt from its SYN or SYN-ACK */
	uint32_t pnxt; /* the peer's next sequence number */
	struct sfo_seg out[MAXOUT];
	int nout; /* segments emitted by the last step */
};

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Collect everything the target emitted since the last step; every packet must belong to
 * the case and carry a valid checksum. */
static void collect(struct fx *f)
{
	struct sfh_pkt pk[8];
	int n;
	f->nout = 0;
	while ((n = sfh_target_drain(f->t, pk, 8)) > 0)
		for (int i = 0; i < n; i++) {
			struct sfh_endpoints ep;
			int ok = 0;
			CHECK_EQ(sfh_wire_parse(pk[i].data, pk[i].len, &ep, &f->out[f->nout], &ok),
				 0);
			CHECK(ok);
			CHECK_EQ(ep.target_port, f->ep.target_port);
			CHECK_EQ(ep.peer_port, f->ep.peer_port);
			if (f->out[f->nout].flags & SFO_SYN)
				f->tisn = f->out[f->nout].seq;
			if (f->nout < MAXOUT - 1)
				f->nout++;
		}
	CHECK_EQ(n, 0);
}

static void in(struct fx *f, uint8_t flags, uint32_t seq, uint32_t ack, uint32_t len)
{
	struct sfo_seg s = {.seq = seq, .ack = ack, .len = len, .wnd = 65535, .flags = flags};
	if (flags & SFO_SYN) {
		s.opts = SFO_OPT_MSS;
		s.mss = 1460;
	}
	uint8_t buf[SFH_PKT_MAX];
	int n = sfh_wire_build(f->w, &f->ep, &s, buf, sizeof buf);
	CHECK(n > 0);
	if (n > 0)
		CHECK_EQ(sfh_target_inject(f->t, buf, (size_t)n), 0);
	uint32_t end = seq + sfo_seg_space(&s);
	if (!(flags & SFO_RST) && sfo_seq_gt(end, f->pnxt))
		f->pnxt = end;
	collect(f);
}

static enum sfo_state state(struct fx *f)
{
	enum sfo_state st = SFO_STATE_UNKNOWN;
	CHECK_EQ(sfh_target_state(f->t, &st), 0);
	return st;
}

static int call(struct fx *f, enum sfo_call c, uint32_t arg)
{
	int r = sfh_target_call(f->t, c, arg);
	CHECK(r >= 0);
	collect(f);
	return r;
}

static void wait_ms(struct fx *f, uint32_t ms)
{
	CHECK_EQ(sfh_target_advance(f->t, ms), 0);
	collect(f);
}

static void reset(struct fx *f, enum sfh_role role)
{
	static uint32_t case_no;
	CHECK_EQ(sfh_target_reset(f->t, role, case_no++, &f->ep), 0);
	f->tisn = 0;
	f->pnxt = PISN;
	f->nout = 0;
	collect(f);
	CHECK_EQ(f->nout, 0);
}

/* Passive role up to ESTABLISHED (not accepted yet). */
static void handshake(struct fx *f)
{
	reset(f, SFH_ROLE_PASSIVE);
	call(f, SFO_CALL_LISTEN, 0);
	in(f, SFO_SYN, PISN, 0, 0);
	in(f, SFO_ACK, PISN + 1, f->tisn + 1, 0);
}

static void listen_syn_synack(struct fx *f)
{
	reset(f, SFH_ROLE_PASSIVE);
	CHECK_EQ(state(f), SFO_LISTEN);
	call(f, SFO_CALL_LISTEN, 0);
	CHECK_EQ(f->nout, 0);
	in(f, SFO_SYN, PISN, 0, 0);
	CHECK_EQ(f->nout, 1);
	CHECK_EQ(f->out[0].flags & ~SFO_PSH, SFO_SYN | SFO_ACK);
	CHECK_EQ(f->out[0].ack, PISN + 1);
	CHECK(f->out[0].opts & SFO_OPT_MSS);
	CHECK_EQ(state(f), SFO_SYN_RECEIVED);
	in(f, SFO_ACK, PISN + 1, f->tisn + 1, 0);
	CHECK_EQ(f->nout, 0);
	CHECK_EQ(state(f), SFO_ESTABLISHED);
	call(f, SFO_CALL_ACCEPT, 0);
	CHECK_EQ(state(f), SFO_ESTABLISHED);
}

/* Data both ways, then the target closes first: FIN-WAIT-1, FIN-WAIT-2 read through
 * sock_diag after close(), TIME-WAIT, and 2MSL passing in virtual time. */
static void established_close_timewait_expires(struct fx *f)
{
	handshake(f);
	in(f, SFO_ACK | SFO_PSH, PISN + 1, f->tisn + 1, 100);
	CHECK_EQ(f->nout, 1);
	CHECK_EQ(f->out[0].ack, PISN + 101);
	CHECK_EQ(call(f, SFO_CALL_RECEIVE, 0), 100);
	CHECK_EQ(call(f, SFO_CALL_SEND, 50), 50);
	CHECK_EQ(f->nout, 1);
	CHECK_EQ(f->out[0].len, 50);
	CHECK_EQ(f->out[0].seq, f->tisn + 1);
	in(f, SFO_ACK, f->pnxt, f->tisn + 51, 0);
	call(f, SFO_CALL_CLOSE, 0);
	CHECK_EQ(f->nout, 1);
	CHECK(f->out[0].flags & SFO_FIN);
	CHECK_EQ(f->out[0].seq, f->tisn + 51);
	CHECK_EQ(state(f), SFO_FIN_WAIT_1);
	in(f, SFO_ACK, f->pnxt, f->tisn + 52, 0);
	CHECK_EQ(f->nout, 0);
	CHECK_EQ(state(f), SFO_FIN_WAIT_2);
	in(f, SFO_FIN | SFO_ACK, f->pnxt, f->tisn + 52, 0);
	CHECK_EQ(f->nout, 1);
	CHECK_EQ(f->out[0].flags & ~SFO_PSH, SFO_ACK);
	CHECK_EQ(f->out[0].ack, PISN + 102);
	CHECK_EQ(state(f), SFO_TIME_WAIT);
	/* A retransmitted FIN is acknowledged again in TIME-WAIT. */
	in(f, SFO_FIN | SFO_ACK, PISN + 101, f->tisn + 52, 0);
	CHECK_EQ(f->nout, 1);
	CHECK_EQ(f->out[0].ack, PISN + 102);
	uint64_t t0 = now_ms();
	wait_ms(f, 30000);
	CHECK_EQ(state(f), SFO_TIME_WAIT); /* Linux's TIME-WAIT is 60 s */
	wait_ms(f, 31000);
	CHECK_EQ(state(f), SFO_CLOSED);
	CHECK(now_ms() - t0 < 1000); /* virtual: a timewait socket only expires */
	CHECK_EQ(f->t->skipped_ms, 0);
}

/* The FIN of a retransmission restarts TIME-WAIT: the deadline follows it. */
static void timewait_fin_restarts_timer(struct fx *f)
{
	handshake(f);
	call(f, SFO_CALL_CLOSE, 0);
	in(f, SFO_FIN | SFO_ACK, PISN + 1, f->tisn + 2, 0);
	CHECK_EQ(state(f), SFO_TIME_WAIT);
	wait_ms(f, 40000);
	in(f, SFO_FIN | SFO_ACK, PISN + 1, f->tisn + 2, 0);
	CHECK_EQ(f->nout, 1);
	wait_ms(f, 40000); /* 80 s since entering, 40 s since the restart */
	CHECK_EQ(state(f), SFO_TIME_WAIT);
	wait_ms(f, 21000);
	CHECK_EQ(state(f), SFO_CLOSED);
}

/* Active open; the peer closes first: the kernel delays the ACK of the FIN (drain waits
 * for it), then LAST-ACK is read through sock_diag after close(). */
static void active_connect_passive_close(struct fx *f)
{
	reset(f, SFH_ROLE_ACTIVE);
	CHECK_EQ(state(f), SFO_CLOSED);
	call(f, SFO_CALL_CONNECT, 0);
	CHECK_EQ(f->nout, 1);
	CHECK_EQ(f->out[0].flags & ~SFO_PSH, SFO_SYN);
	CHECK(f->out[0].opts & SFO_OPT_MSS);
	CHECK_EQ(state(f), SFO_SYN_SENT);
	in(f, SFO_SYN | SFO_ACK, PISN, f->tisn + 1, 0);
	CHECK_EQ(f->nout, 1);
	CHECK_EQ(f->out[0].flags & ~SFO_PSH, SFO_ACK);
	CHECK_EQ(f->out[0].ack, PISN + 1);
	CHECK_EQ(state(f), SFO_ESTABLISHED);
	in(f, SFO_FIN | SFO_ACK, PISN + 1, f->tisn + 1, 0);
	CHECK_EQ(f->nout, 1);
	CHECK_EQ(f->out[0].ack, PISN + 2);
	CHECK_EQ(state(f), SFO_CLOSE_WAIT);
	call(f, SFO_CALL_CLOSE, 0);
	CHECK_EQ(f->nout, 1);
	CHECK(f->out[0].flags & SFO_FIN);
	CHECK_EQ(state(f), SFO_LAST_ACK);
	in(f, SFO_ACK, PISN + 2, f->tisn + 2, 0);
	CHECK_EQ(f->nout, 0);
	CHECK_EQ(state(f), SFO_CLOSED);
}

/* Simultaneous close through CLOSING, read after close(). */
static void finwait1_fin_closing(struct fx *f)
{
	handshake(f);
	call(f, SFO_CALL_CLOSE, 0);
	CHECK_EQ(state(f), SFO_FIN_WAIT_1);
	in(f, SFO_FIN | SFO_ACK, PISN + 1, f->tisn + 1, 0);
	CHECK_EQ(f->nout, 1);
	CHECK_EQ(f->out[0].ack, PISN + 2);
	CHECK_EQ(state(f), SFO_CLOSING);
	in(f, SFO_ACK, PISN + 2, f->tisn + 2, 0);
	CHECK_EQ(state(f), SFO_TIME_WAIT);
}

/* Half-close: shutdown sends FIN, data still flows in, TIME-WAIT while the fd is held. */
static void shutdown_then_data_in(struct fx *f)
{
	handshake(f);
	call(f, SFO_CALL_SHUTDOWN, 0);
	CHECK_EQ(f->nout, 1);
	CHECK(f->out[0].flags & SFO_FIN);
	in(f, SFO_ACK, PISN + 1, f->tisn + 2, 0);
	CHECK_EQ(state(f), SFO_FIN_WAIT_2);
	in(f, SFO_ACK | SFO_PSH, PISN + 1, f->tisn + 2, 10);
	CHECK_EQ(f->nout, 1);
	CHECK_EQ(call(f, SFO_CALL_RECEIVE, 0), 10);
	in(f, SFO_FIN | SFO_ACK, PISN + 11, f->tisn + 2, 0);
	CHECK_EQ(f->nout, 1);
	CHECK_EQ(state(f), SFO_TIME_WAIT); /* the held socket reads CLOSE: sock_diag */
}

/* The held socket handed its connection to a timewait socket (it reads CLOSE): ABORT
 * cannot reach that connection and is refused, SHUTDOWN too; TIME-WAIT stays, silent. */
static void timewait_held_abort_refused(struct fx *f)
{
	handshake(f);
	call(f, SFO_CALL_SHUTDOWN, 0);
	in(f, SFO_FIN | SFO_ACK, PISN + 1, f->tisn + 2, 0);
	CHECK_EQ(f->nout, 1);
	CHECK_EQ(state(f), SFO_TIME_WAIT);
	CHECK_EQ(sfh_target_call(f->t, SFO_CALL_ABORT, 0), SFH_CALL_REFUSED);
	CHECK_EQ(sfh_target_call(f->t, SFO_CALL_SHUTDOWN, 0), SFH_CALL_REFUSED);
	collect(f);
	CHECK_EQ(f->nout, 0);
	CHECK_EQ(state(f), SFO_TIME_WAIT);
}

static void rst_cases(struct fx *f)
{
	/* SYN-RECEIVED + RST: back to LISTEN (the listener stays). */
	reset(f, SFH_ROLE_PASSIVE);
	in(f, SFO_SYN, PISN, 0, 0);
	in(f, SFO_RST, PISN + 1, 0, 0);
	CHECK_EQ(f->nout, 0);
	CHECK_EQ(state(f), SFO_LISTEN);

	/* ESTABLISHED + RST at RCV.NXT: CLOSED, silently. The connection was accepted when
	 * it was established, and the listener closed: a new SYN meets a RST. */
	handshake(f);
	in(f, SFO_RST, PISN + 1, 0, 0);
	CHECK_EQ(f->nout, 0);
	CHECK_EQ(state(f), SFO_CLOSED);
	in(f, SFO_SYN, PISN + 5000, 0, 0);
	CHECK_EQ(f->nout, 1);
	CHECK(f->out[0].flags & SFO_RST);
	CHECK_EQ(state(f), SFO_CLOSED);

	/* RST inside the window but not at RCV.NXT: challenge ACK (RFC 5961), no change. */
	handshake(f);
	call(f, SFO_CALL_ACCEPT, 0);
	in(f, SFO_RST, PISN + 100, 0, 0);
	CHECK_EQ(f->nout, 1);
	CHECK_EQ(f->out[0].flags & ~SFO_PSH, SFO_ACK);
	CHECK_EQ(state(f), SFO_ESTABLISHED);

	/* RST out of the window: dropped. */
	in(f, SFO_RST, PISN + 1 + 0x40000000u, 0, 0);
	CHECK_EQ(f->nout, 0);
	CHECK_EQ(state(f), SFO_ESTABLISHED);

	/* abort sends RST, the connection is gone at once. */
	call(f, SFO_CALL_ABORT, 0);
	CHECK_EQ(f->nout, 1);
	CHECK(f->out[0].flags & SFO_RST);
	CHECK_EQ(state(f), SFO_CLOSED);

	/* SYN-SENT + RST|ACK acknowledging the SYN: CLOSED. */
	reset(f, SFH_ROLE_ACTIVE);
	call(f, SFO_CALL_CONNECT, 0);
	in(f, SFO_RST | SFO_ACK, 0, f->tisn + 1, 0);
	CHECK_EQ(state(f), SFO_CLOSED);

	/* A segment for a closed port: RST. */
	reset(f, SFH_ROLE_ACTIVE);
	in(f, SFO_ACK, PISN, 12345, 0);
	CHECK_EQ(f->nout, 1);
	CHECK(f->out[0].flags & SFO_RST);
	CHECK_EQ(f->out[0].seq, 12345u);
}

/* close in LISTEN ends the case's TCB. A connection still in the listener's
 * SYN-RECEIVED has no handle the application could close, shut or abort (RFC 9293
 * §3.9.1: a subset of the calls): those calls are refused and leave it alone, so the
 * final ACK still establishes it. */
static void listen_close(struct fx *f)
{
	reset(f, SFH_ROLE_PASSIVE);
	call(f, SFO_CALL_CLOSE, 0);
	CHECK_EQ(f->nout, 0);
	CHECK_EQ(state(f), SFO_CLOSED);

	reset(f, SFH_ROLE_PASSIVE);
	in(f, SFO_SYN, PISN, 0, 0);
	CHECK_EQ(sfh_target_call(f->t, SFO_CALL_CLOSE, 0), SFH_CALL_REFUSED);
	CHECK_EQ(sfh_target_call(f->t, SFO_CALL_ABORT, 0), SFH_CALL_REFUSED);
	CHECK_EQ(sfh_target_call(f->t, SFO_CALL_SHUTDOWN, 0), SFH_CALL_REFUSED);
	collect(f);
	CHECK_EQ(f->nout, 0);
	CHECK_EQ(state(f), SFO_SYN_RECEIVED);
	in(f, SFO_ACK, PISN + 1, f->tisn + 1, 0);
	CHECK_EQ(f->nout, 0);
	CHECK_EQ(state(f), SFO_ESTABLISHED);

	/* An established connection (accepted on establishment): close sends FIN. */
	handshake(f);
	call(f, SFO_CALL_CLOSE, 0);
	CHECK_EQ(f->nout, 1);
	CHECK(f->out[0].flags & SFO_FIN);
	CHECK_EQ(state(f), SFO_FIN_WAIT_1);
}

/* OPEN again after the case's socket is gone. After close() the application has no
 * handle left: ABORT (and CLOSE, SHUTDOWN) of the orphan is refused and leaves it in
 * FIN-WAIT-1 or LAST-ACK (SOCK_DESTROY is an administrator's tool, not ABORT). */
static void reopen_and_abort_after_close(struct fx *f)
{
	reset(f, SFH_ROLE_PASSIVE);
	call(f, SFO_CALL_ABORT, 0);
	CHECK_EQ(state(f), SFO_CLOSED);
	call(f, SFO_CALL_LISTEN, 0);
	CHECK_EQ(state(f), SFO_LISTEN);
	in(f, SFO_SYN, PISN, 0, 0);
	CHECK_EQ(f->nout, 1);
	CHECK_EQ(state(f), SFO_SYN_RECEIVED);

	reset(f, SFH_ROLE_ACTIVE);
	call(f, SFO_CALL_CLOSE, 0); /* CLOSE in CLOSED: an error, no effect */
	call(f, SFO_CALL_CONNECT, 0);
	CHECK_EQ(f->nout, 1);
	CHECK_EQ(state(f), SFO_SYN_SENT);
	call(f, SFO_CALL_ABORT, 0);
	CHECK_EQ(f->nout, 0);
	CHECK_EQ(state(f), SFO_CLOSED);
	call(f, SFO_CALL_CONNECT, 0);
	CHECK_EQ(f->nout, 1);
	CHECK_EQ(state(f), SFO_SYN_SENT);

	handshake(f);
	call(f, SFO_CALL_CLOSE, 0);
	CHECK_EQ(state(f), SFO_FIN_WAIT_1);
	CHECK_EQ(sfh_target_call(f->t, SFO_CALL_ABORT, 0), SFH_CALL_REFUSED);
	CHECK_EQ(sfh_target_call(f->t, SFO_CALL_CLOSE, 0), SFH_CALL_REFUSED);
	CHECK_EQ(sfh_target_call(f->t, SFO_CALL_SHUTDOWN, 0), SFH_CALL_REFUSED);
	collect(f);
	CHECK_EQ(f->nout, 0);
	CHECK_EQ(state(f), SFO_FIN_WAIT_1);

	handshake(f);
	in(f, SFO_FIN | SFO_ACK, PISN + 1, f->tisn + 1, 0);
	call(f, SFO_CALL_CLOSE, 0);
	CHECK_EQ(state(f), SFO_LAST_ACK);
	CHECK_EQ(sfh_target_call(f->t, SFO_CALL_ABORT, 0), SFH_CALL_REFUSED);
	collect(f);
	CHECK_EQ(f->nout, 0);
	CHECK_EQ(state(f), SFO_LAST_ACK);
}

/* Real time: the SYN-ACK is retransmitted after ~1 s. The wait then ends: the next
 * retransmission is due 2 s later, after the wait's end, so the rest of it passes at
 * once and is reported as cut (jump). A wait shorter than the pending timer passes at
 * once and is cut whole; with jump=0 it takes its real time and nothing is cut. */
static void synrcvd_wait_retransmits(struct fx *f)
{
	reset(f, SFH_ROLE_PASSIVE);
	in(f, SFO_SYN, PISN, 0, 0);
	uint32_t isn = f->tisn;
	uint64_t t0 = now_ms();
	wait_ms(f, 1500);
	uint64_t took = now_ms() - t0;
	CHECK(took >= 1000 && took < 1400);
	CHECK_EQ(f->nout, 1);
	CHECK_EQ(f->out[0].flags & ~SFO_PSH, SFO_SYN | SFO_ACK);
	CHECK_EQ(f->out[0].seq, isn);
	CHECK(f->t->skipped_ms > 0 && f->t->skipped_ms <= 500);
	CHECK(took + f->t->skipped_ms >= 1500);
	CHECK_EQ(state(f), SFO_SYN_RECEIVED);

	reset(f, SFH_ROLE_PASSIVE);
	in(f, SFO_SYN, PISN, 0, 0);
	t0 = now_ms();
	wait_ms(f, 600);
	CHECK(now_ms() - t0 < 100);
	CHECK_EQ(f->t->skipped_ms, 600);
	CHECK_EQ(f->nout, 0);
	CHECK_EQ(state(f), SFO_SYN_RECEIVED);
}

/* The ACK of a peer's FIN (after the handshake, pingpong mode) is delayed by the kernel
 * unless the route carries quickack: with quickack=1 (the default) it is in the drain
 * right after write(), every time, without any wait (delack=0); with quickack=0 and no
 * wait it is missing from the immediate drain (the timer can only rarely fire in
 * between, so one miss in five tries is required). */
static int fin_acked_at_once(const char *spec, int tries)
{
	struct fx f = {0};
	char err[256];
	int at_once = 0;
	CHECK_EQ(sfh_target_open(spec, &f.t, err, sizeof err), 0);
	f.w = sfh_wire_new(err, sizeof err);
	for (int i = 0; f.t && f.w && i < tries; i++) {
		handshake(&f);
		call(&f, SFO_CALL_ACCEPT, 0);
		in(&f, SFO_FIN | SFO_ACK, PISN + 1, f.tisn + 1, 0);
		at_once += f.nout == 1 && f.out[0].ack == PISN + 2;
		CHECK_EQ(state(&f), SFO_CLOSE_WAIT);
	}
	sfh_wire_free(f.w);
	sfh_target_close(f.t);
	return at_once;
}

static void quickack_route(void)
{
	CHECK_EQ(fin_acked_at_once("linux:delack=0", 5), 5);
	CHECK(fin_acked_at_once("linux:quickack=0,delack=0", 5) < 5);
	/* with the delayed-ACK wait the ACK still lands in the step that caused it */
	CHECK_EQ(fin_acked_at_once("linux:quickack=0", 3), 3);
}

static void nojump_waits_for_real(void)
{
	struct fx f = {0};
	char err[256];
	CHECK_EQ(sfh_target_open("linux:jump=0", &f.t, err, sizeof err), 0);
	f.w = sfh_wire_new(err, sizeof err);
	if (!f.t || !f.w)
		return;
	reset(&f, SFH_ROLE_PASSIVE);
	in(&f, SFO_SYN, PISN, 0, 0);
	uint64_t t0 = now_ms();
	wait_ms(&f, 300);
	CHECK(now_ms() - t0 >= 300);
	CHECK_EQ(f.t->skipped_ms, 0);
	CHECK_EQ(f.nout, 0);
	struct sfh_target *bad = NULL;
	CHECK_EQ(sfh_target_open("linux:jump=x", &bad, err, sizeof err), -1);
	CHECK(strstr(err, "jump=") != NULL);
	sfh_wire_free(f.w);
	sfh_target_close(f.t);
}

/* Timing tolerance: the SYN-ACK retransmission due exactly at the end of a 1000 ms wait
 * runs a few ms late on the kernel's timer wheel; the wait goes on while that timer is
 * due and brings it into the step, no longer than 50 ms + 1/8 of the wait. With tol=0 the
 * wait ends on time (and the late retransmission is left for a later step). */
static void late_timer_within_tolerance(struct fx *f)
{
	reset(f, SFH_ROLE_PASSIVE);
	in(f, SFO_SYN, PISN, 0, 0);
	uint64_t t0 = now_ms();
	wait_ms(f, 1000);
	uint64_t took = now_ms() - t0;
	CHECK_EQ(f->nout, 1);
	CHECK(f->nout == 1 && (f->out[0].flags & ~SFO_PSH) == (SFO_SYN | SFO_ACK));
	CHECK(took >= 1000 && took <= 1000 + 50 + 125 + 20);
	CHECK_EQ(f->t->skipped_ms, 0);

	struct fx g = {0};
	char err[256];
	CHECK_EQ(sfh_target_open("linux:tol=0", &g.t, err, sizeof err), 0);
	g.w = sfh_wire_new(err, sizeof err);
	if (!g.t || !g.w)
		return;
	reset(&g, SFH_ROLE_PASSIVE);
	in(&g, SFO_SYN, PISN, 0, 0);
	t0 = now_ms();
	wait_ms(&g, 1000);
	CHECK(now_ms() - t0 < 1000 + 20);
	struct sfh_target *bad = NULL;
	CHECK_EQ(sfh_target_open("linux:tol=x", &bad, err, sizeof err), -1);
	CHECK(strstr(err, "tol=") != NULL);
	sfh_wire_free(g.w);
	sfh_target_close(g.t);
}

static void capped_wait_reports_skip(void)
{
	struct fx f = {0};
	char err[256];
	CHECK_EQ(sfh_target_open("linux:maxwait=300", &f.t, err, sizeof err), 0);
	f.w = sfh_wire_new(err, sizeof err);
	if (!f.t || !f.w)
		return;
	reset(&f, SFH_ROLE_PASSIVE);
	in(&f, SFO_SYN, PISN, 0, 0);
	uint64_t t0 = now_ms();
	wait_ms(&f, 5000);
	CHECK(now_ms() - t0 < 1000);
	CHECK(f.t->skipped_ms >= 4600);
	reset(&f, SFH_ROLE_PASSIVE);
	CHECK_EQ(f.t->skipped_ms, 0);
	/* An idle connection's wait passes at once and exactly. */
	handshake(&f);
	t0 = now_ms();
	wait_ms(&f, 5000);
	CHECK(now_ms() - t0 < 200);
	CHECK_EQ(f.t->skipped_ms, 0);
	CHECK_EQ(state(&f), SFO_ESTABLISHED);
	sfh_wire_free(f.w);
	sfh_target_close(f.t);
}

/* Leftovers never reach the next case: an orphan in FIN-WAIT-1 retransmitting its FIN is
 * destroyed by reset(), and its port pair is not reused. */
static void reset_leaves_nothing(struct fx *f)
{
	handshake(f);
	call(f, SFO_CALL_SEND, 100);
	call(f, SFO_CALL_CLOSE, 0);
	struct sfh_endpoints old = f->ep;
	reset(f, SFH_ROLE_PASSIVE);
	CHECK(f->ep.target_port != old.target_port);
	CHECK(f->ep.peer_port != old.peer_port);
	wait_ms(f, 600);
	CHECK_EQ(f->nout, 0);
	CHECK_EQ(state(f), SFO_LISTEN);
}

static void options_and_version(void)
{
	const struct sfh_target_ops *ops = sfh_target_find("linux");
	CHECK(ops != NULL);
	if (!ops)
		return;
	CHECK(strncmp(ops->version(), "Linux ", 6) == 0);
	CHECK_EQ(ops->caps, SFH_CAP_STATE | SFH_CAP_PASSIVE | SFH_CAP_ACTIVE | SFH_CAP_EMIT_TIME |
				SFH_CAP_TIMERS | SFH_CAP_CALLRES | SFH_CAP_IPV6 | SFH_CAP_LISTENER |
				SFH_CAP_CONNS);
	struct sfh_target *t = NULL;
	char err[256] = "";
	CHECK_EQ(sfh_target_open("linux:bogus=1", &t, err, sizeof err), -1);
	CHECK(strstr(err, "unknown option") != NULL);
	CHECK_EQ(sfh_target_open("linux:maxwait=abc", &t, err, sizeof err), -1);
	CHECK(t == NULL);
}

/* Call results through the sockets API, judged by the model and asserted by `=>`:
 * EAGAIN with nothing to read, the end of the stream after the FIN, a reset reported once
 * (ECONNRESET, then EPIPE), a refusal (ECONNREFUSED), EINPROGRESS and EALREADY of connect,
 * EAGAIN of accept before a connection. A wrong assertion fails. */
static void call_results(struct sfh_target *t)
{
	static const struct {
		const char *text;
		int assert_failed;
	} cases[] = {
	    {"role passive\nin S seq=pisn win=65535 mss=1460\nin . win=65535\n"
	     "call receive => EAGAIN\nin P. len=5 win=65535\ncall receive 3 => 3\n"
	     "call receive => 2\nin F. win=65535\ncall receive => 0\ncall send 4 => 4\n"
	     "call close => 0\n",
	     0},
	    {"role passive\nin S seq=pisn win=65535 mss=1460\nin . win=65535\n"
	     "call receive => 0\n",
	     1},
	    {"role passive\nin S seq=pisn win=65535 mss=1460\nin . win=65535\nin R\n"
	     "call receive => ECONNRESET\ncall send 1 => EPIPE\n",
	     0},
	    {"role active\nout S\ncall connect => EALREADY\nin R. seq=0 ack=tisn+1\n"
	     "call receive => ECONNREFUSED\n",
	     0},
	    {"role passive\ncall accept => EAGAIN\nin S seq=pisn win=65535 mss=1460\n"
	     "in . win=65535\ncall accept => 0\ncall shutdown => 0\ncall send 1 => EPIPE\n",
	     0},
	};
	char err[256];
	struct sfh_runner *r = sfh_runner_new(err, sizeof err);
	CHECK(r != NULL);
	for (size_t i = 0; r && i < sizeof cases / sizeof cases[0]; i++) {
		struct sfh_scenario s;
		struct sfh_result res;
		struct sfh_run_opts o = {.case_no = 900 + (uint32_t)i};
		CHECK_EQ(sfh_scn_parse(cases[i].text, strlen(cases[i].text), "inline", &s, err,
				       sizeof err),
			 0);
		CHECK_EQ(sfh_run(r, t, &s, &o, &res), 0);
		if (res.assert_failed != cases[i].assert_failed ||
		    (!cases[i].assert_failed && res.verdict.kind != SFO_DIV_OK))
			fprintf(stderr, "linux call results %zu: %s: %s\n", i, res.signature,
				res.verdict.detail);
		CHECK_EQ(res.assert_failed, cases[i].assert_failed);
		if (!cases[i].assert_failed)
			CHECK_EQ(res.verdict.kind, SFO_DIV_OK);
	}
	sfh_runner_free(r);
}

int main(void)
{
	if (geteuid() != 0) {
		printf("skipped: the linux target needs root (a private network namespace)\n");
		return 77;
	}
	if (access("/dev/net/tun", R_OK | W_OK) != 0) {
		printf("skipped: no /dev/net/tun (modprobe tun)\n");
		return 77;
	}
	struct fx f = {0};
	char err[256];
	if (sfh_target_open("linux", &f.t, err, sizeof err) != 0) {
		fprintf(stderr, "open: %s\n", err);
		return 1;
	}
	f.w = sfh_wire_new(err, sizeof err);
	CHECK(f.w != NULL);
	if (!f.w)
		return check_done();
	options_and_version();
	listen_syn_synack(&f);
	established_close_timewait_expires(&f);
	timewait_fin_restarts_timer(&f);
	active_connect_passive_close(&f);
	finwait1_fin_closing(&f);
	shutdown_then_data_in(&f);
	timewait_held_abort_refused(&f);
	rst_cases(&f);
	listen_close(&f);
	reset_leaves_nothing(&f);
	reopen_and_abort_after_close(&f);
	synrcvd_wait_retransmits(&f);
	late_timer_within_tolerance(&f);
	capped_wait_reports_skip();
	nojump_waits_for_real();
	quickack_route();
	call_results(f.t);
	sfh_wire_free(f.w);
	sfh_target_close(f.t);
	return check_done();
}
