/* The slirp target through its vtable, with packets from sfh_wire_build: the passive
 * handshake, data both ways, the guest's FIN, the active role's SYN, a retransmitted
 * SYN-ACK under virtual time, ABORT (guestfwd -> socket mode), and that reset leaves no
 * connection behind. */
#include <string.h>

#include "check.h"
#include "target.h"
#include "wire.h"

struct tc {
	struct sfh_target *t;
	struct sfh_wire *w;
	struct sfh_endpoints ep;
	uint32_t pisn, pnxt, tisn, tnxt;
	struct sfo_seg out[64];
	int nout;
};

static int in(struct tc *c, uint8_t flags, uint32_t seq, uint32_t ack, uint32_t len)
{
	struct sfo_seg s = {.seq = seq, .ack = ack, .len = len, .flags = flags, .wnd = 64240};
	uint8_t buf[SFH_PKT_MAX];
	if (flags & SFO_SYN) {
		s.opts = SFO_OPT_MSS;
		s.mss = 1460;
	}
	int n = sfh_wire_build(c->w, &c->ep, &s, buf, sizeof buf);
	CHECK(n > 0);
	return n > 0 ? sfh_target_inject(c->t, buf, (size_t)n) : -1;
}

/* Drain and parse what the target emitted for this case. */
static int drain(struct tc *c)
{
	struct sfh_pkt pk[64];
	int n = sfh_target_drain(c->t, pk, 64);
	CHECK(n >= 0);
	c->nout = 0;
	for (int i = 0; i < n; i++) {
		struct sfh_endpoints ep;
		struct sfo_seg s;
		CHECK_EQ(sfh_wire_parse(pk[i].data, pk[i].len, &ep, &s, NULL), 0);
		CHECK_EQ(ep.peer_port, c->ep.peer_port);
		if (c->ep.target_port == 0 && (s.flags & SFO_SYN))
			c->ep.target_port = ep.target_port; /* active role: learnt from the SYN */
		CHECK_EQ(ep.target_port, c->ep.target_port);
		c->out[c->nout++] = s;
	}
	return c->nout;
}

static enum sfo_state state(struct tc *c)
{
	enum sfo_state st = SFO_STATE_UNKNOWN;
	CHECK_EQ(sfh_target_state(c->t, &st), 0);
	return st;
}

static void reset(struct tc *c, enum sfh_role role, uint32_t case_no)
{
	CHECK_EQ(sfh_target_reset(c->t, role, case_no, &c->ep), 0);
	c->pisn = 0x9e3779b9u * (case_no + 1);
	c->pnxt = c->pisn + 1;
	CHECK_EQ(
	    sfh_target_call(c->t, role == SFH_ROLE_PASSIVE ? SFO_CALL_LISTEN : SFO_CALL_CONNECT, 0),
	    0);
}

/* SYN in -> SYN-ACK acking ISN+1; ACK in -> ESTABLISHED. */
static void handshake(struct tc *c)
{
	CHECK_EQ(state(c), SFO_LISTEN);
	CHECK_EQ(in(c, SFO_SYN, c->pisn, 0, 0), 0);
	CHECK_EQ(drain(c), 1);
	CHECK_EQ(c->out[0].flags, SFO_SYN | SFO_ACK);
	CHECK_EQ(c->out[0].ack, c->pisn + 1);
	c->tisn = c->out[0].seq;
	c->tnxt = c->tisn + 1;
	CHECK_EQ(state(c), SFO_SYN_RECEIVED);
	CHECK_EQ(in(c, SFO_ACK, c->pnxt, c->tnxt, 0), 0);
	CHECK_EQ(drain(c), 0);
	CHECK_EQ(state(c), SFO_ESTABLISHED);
}

static void passive_lifecycle(struct tc *c)
{
	reset(c, SFH_ROLE_PASSIVE, 1);
	handshake(c);
	/* data in: acknowledged, and the application reads it */
	CHECK_EQ(in(c, SFO_ACK | SFO_PSH, c->pnxt, c->tnxt, 100), 0);
	c->pnxt += 100;
	CHECK_EQ(drain(c), 1);
	CHECK_EQ(c->out[0].ack, c->pnxt);
	CHECK_EQ(sfh_target_call(c->t, SFO_CALL_RECEIVE, 0), 100);
	CHECK_EQ(sfh_target_call(c->t, SFO_CALL_RECEIVE, 0), 0);
	/* data out */
	CHECK_EQ(sfh_target_call(c->t, SFO_CALL_SEND, 50), 50);
	CHECK_EQ(drain(c), 1);
	CHECK_EQ(c->out[0].seq, c->tnxt);
	CHECK_EQ(c->out[0].len, 50);
	c->tnxt += 50;
	CHECK_EQ(in(c, SFO_ACK, c->pnxt, c->tnxt, 0), 0);
	CHECK_EQ(drain(c), 0);
	/* the guest's FIN -> CLOSE-WAIT; our CLOSE -> FIN, LAST-ACK; its ACK -> CLOSED */
	CHECK_EQ(in(c, SFO_FIN | SFO_ACK, c->pnxt, c->tnxt, 0), 0);
	c->pnxt++;
	CHECK_EQ(drain(c), 1);
	CHECK_EQ(c->out[0].flags, SFO_ACK);
	CHECK_EQ(c->out[0].ack, c->pnxt);
	CHECK_EQ(state(c), SFO_CLOSE_WAIT);
	CHECK_EQ(sfh_target_call(c->t, SFO_CALL_CLOSE, 0), 0);
	CHECK_EQ(drain(c), 1);
	CHECK_EQ(c->out[0].flags, SFO_FIN | SFO_ACK);
	CHECK_EQ(c->out[0].seq, c->tnxt);
	CHECK_EQ(state(c), SFO_LAST_ACK);
	CHECK_EQ(in(c, SFO_ACK, c->pnxt, c->tnxt + 1, 0), 0);
	CHECK_EQ(drain(c), 0);
	CHECK_EQ(state(c), SFO_CLOSED); /* accepted: the listener is gone with it */
	/* and so a new SYN meets a closed port */
	CHECK_EQ(in(c, SFO_SYN, c->pisn + 1000, 0, 0), 0);
	CHECK_EQ(drain(c), 1);
	CHECK_EQ(c->out[0].flags, SFO_RST | SFO_ACK);
	CHECK_EQ(state(c), SFO_CLOSED);
}

/* No ACK for the SYN-ACK: slirp's retransmit timer (12 slow ticks of 499 ms, the first
 * one at the SYN) fires in virtual time. */
static void synack_retransmit(struct tc *c)
{
	reset(c, SFH_ROLE_PASSIVE, 2);
	CHECK_EQ(in(c, SFO_SYN, c->pisn, 0, 0), 0);
	CHECK_EQ(drain(c), 1);
	c->tisn = c->out[0].seq;
	CHECK_EQ(sfh_target_advance(c->t, 5000), 0);
	CHECK_EQ(drain(c), 0);
	CHECK_EQ(sfh_target_advance(c->t, 1000), 0);
	CHECK_EQ(drain(c), 1);
	CHECK_EQ(c->out[0].flags, SFO_SYN | SFO_ACK);
	CHECK_EQ(c->out[0].seq, c->tisn);
	CHECK_EQ(c->out[0].ack, c->pisn + 1);
	CHECK_EQ(state(c), SFO_SYN_RECEIVED);
}

/* Close first: FIN-WAIT-1, FIN-WAIT-2, TIME-WAIT, and TIME-WAIT ends after 2 x 5 s. */
static void time_wait(struct tc *c)
{
	reset(c, SFH_ROLE_PASSIVE, 3);
	handshake(c);
	CHECK_EQ(sfh_target_call(c->t, SFO_CALL_SHUTDOWN, 0), 0);
	CHECK_EQ(drain(c), 1);
	CHECK_EQ(c->out[0].flags, SFO_FIN | SFO_ACK);
	CHECK_EQ(state(c), SFO_FIN_WAIT_1);
	CHECK_EQ(in(c, SFO_ACK, c->pnxt, c->tnxt + 1, 0), 0);
	CHECK_EQ(state(c), SFO_FIN_WAIT_2);
	CHECK_EQ(in(c, SFO_FIN | SFO_ACK, c->pnxt, c->tnxt + 1, 0), 0);
	CHECK_EQ(drain(c), 1);
	CHECK_EQ(c->out[0].ack, c->pnxt + 1);
	CHECK_EQ(state(c), SFO_TIME_WAIT);
	CHECK_EQ(sfh_target_advance(c->t, 9000), 0);
	CHECK_EQ(state(c), SFO_TIME_WAIT);
	CHECK_EQ(sfh_target_advance(c->t, 1500), 0);
	CHECK_EQ(state(c), SFO_CLOSED);
}

/* ABORT has no guestfwd API: the case moves to socket mode and slirp sends its RST. */
static void passive_abort(struct tc *c, uint32_t case_no)
{
	reset(c, SFH_ROLE_PASSIVE, case_no);
	handshake(c);
	CHECK_EQ(in(c, SFO_ACK | SFO_PSH, c->pnxt, c->tnxt, 10), 0);
	c->pnxt += 10;
	CHECK_EQ(drain(c), 1);
	CHECK_EQ(sfh_target_advance(c->t, 700), 0);
	CHECK_EQ(sfh_target_call(c->t, SFO_CALL_SEND, 5), 5);
	CHECK_EQ(drain(c), 1);
	c->tnxt += 5;
	int r = sfh_target_call(c->t, SFO_CALL_ABORT, 0);
	CHECK_EQ(r, 0);
	if (r != 0)
		fprintf(stderr, "abort: %s\n", c->t->err);
	CHECK_EQ(drain(c), 1);
	CHECK_EQ(c->out[0].flags & SFO_RST, SFO_RST);
	CHECK_EQ(c->out[0].seq, c->tnxt);
	CHECK_EQ(state(c), SFO_CLOSED);
}

/* The active role: CONNECT makes slirp send a SYN from the announced port. */
static void active_lifecycle(struct tc *c)
{
	reset(c, SFH_ROLE_ACTIVE, 5);
	CHECK_EQ(drain(c), 1);
	CHECK(c->ep.target_port != 0);
	CHECK_EQ(c->out[0].flags, SFO_SYN);
	c->tisn = c->out[0].seq;
	c->tnxt = c->tisn + 1;
	CHECK_EQ(state(c), SFO_SYN_SENT);
	CHECK_EQ(in(c, SFO_SYN | SFO_ACK, c->pisn, c->tnxt, 0), 0);
	CHECK_EQ(drain(c), 1);
	CHECK_EQ(c->out[0].flags, SFO_ACK);
	CHECK_EQ(c->out[0].ack, c->pnxt);
	CHECK_EQ(state(c), SFO_ESTABLISHED);
	CHECK_EQ(sfh_target_call(c->t, SFO_CALL_SEND, 20), 20);
	CHECK_EQ(drain(c), 1);
	CHECK_EQ(c->out[0].len, 20);
	c->tnxt += 20;
	/* data that also acknowledges new data misses slirp's header prediction: its ACK
	 * is delayed to the next fast timeout, 2 ms later */
	CHECK_EQ(in(c, SFO_ACK | SFO_PSH, c->pnxt, c->tnxt, 30), 0);
	c->pnxt += 30;
	CHECK_EQ(drain(c), 0);
	CHECK_EQ(sfh_target_advance(c->t, 1), 0);
	CHECK_EQ(drain(c), 0);
	CHECK_EQ(sfh_target_advance(c->t, 1), 0);
	CHECK_EQ(drain(c), 1);
	CHECK_EQ(c->out[0].ack, c->pnxt);
	CHECK_EQ(sfh_target_call(c->t, SFO_CALL_RECEIVE, 0), 30);
	CHECK_EQ(sfh_target_call(c->t, SFO_CALL_ABORT, 0), 0);
	CHECK_EQ(drain(c), 1);
	CHECK_EQ(c->out[0].flags & SFO_RST, SFO_RST);
	CHECK_EQ(state(c), SFO_CLOSED);
}

/* A case left ESTABLISHED leaves nothing behind: after reset the same ports are a fresh
 * listener, and a stray ACK of the old connection is answered with RST. */
static void reset_isolation(struct tc *c)
{
	reset(c, SFH_ROLE_PASSIVE, 6);
	handshake(c);
	reset(c, SFH_ROLE_PASSIVE, 6);
	CHECK_EQ(state(c), SFO_LISTEN);
	CHECK_EQ(in(c, SFO_ACK, c->pnxt, c->tnxt, 0), 0);
	CHECK_EQ(drain(c), 1);
	CHECK_EQ(c->out[0].flags, SFO_RST);
	CHECK_EQ(c->out[0].seq, c->tnxt);
	handshake(c); /* and the same ISS again: every case starts alike */
	CHECK_EQ(c->tisn, 1);
}

/* Calls a sockets application could not make are refused (SFH_CALL_REFUSED); closing
 * a listener with no connection closes it, and a second LISTEN opens it again. */
static void calls_and_listener(struct tc *c)
{
	reset(c, SFH_ROLE_PASSIVE, 7);
	CHECK_EQ(sfh_target_call(c->t, SFO_CALL_LISTEN, 0), SFH_CALL_REFUSED);
	CHECK_EQ(sfh_target_call(c->t, SFO_CALL_SEND, 10), SFH_CALL_REFUSED);
	CHECK_EQ(sfh_target_call(c->t, SFO_CALL_RECEIVE, 0), SFH_CALL_REFUSED);
	CHECK_EQ(sfh_target_call(c->t, SFO_CALL_ACCEPT, 0), SFH_CALL_REFUSED);
	CHECK_EQ(sfh_target_call(c->t, SFO_CALL_SHUTDOWN, 0), SFH_CALL_REFUSED);
	CHECK_EQ(state(c), SFO_LISTEN);
	CHECK_EQ(sfh_target_call(c->t, SFO_CALL_CLOSE, 0), 0);
	CHECK_EQ(state(c), SFO_CLOSED);
	CHECK_EQ(in(c, SFO_SYN, c->pisn, 0, 0), 0); /* nobody listens: RST,ACK */
	CHECK_EQ(drain(c), 1);
	CHECK_EQ(c->out[0].flags, SFO_RST | SFO_ACK);
	CHECK_EQ(c->out[0].ack, c->pisn + 1);
	CHECK_EQ(sfh_target_call(c->t, SFO_CALL_LISTEN, 0), 0);
	CHECK_EQ(state(c), SFO_LISTEN);
	handshake(c);
	CHECK_EQ(sfh_target_call(c->t, SFO_CALL_SHUTDOWN, 0), 0);
	CHECK_EQ(drain(c), 1);
	CHECK_EQ(sfh_target_call(c->t, SFO_CALL_SEND, 10), SFH_CALL_REFUSED); /* EPIPE */
	CHECK_EQ(sfh_target_call(c->t, SFO_CALL_CLOSE, 0), 0);
	CHECK_EQ(sfh_target_call(c->t, SFO_CALL_RECEIVE, 0), SFH_CALL_REFUSED); /* EBADF */
	CHECK_EQ(sfh_target_call(c->t, SFO_CALL_ABORT, 0), SFH_CALL_REFUSED);
	CHECK_EQ(state(c), SFO_FIN_WAIT_1);
}

/* CLOSE in SYN-RECEIVED reaches slirp only once the handshake completes (slirp reads
 * nothing from its application before): the FIN follows the ACK. */
static void close_in_syn_received(struct tc *c)
{
	reset(c, SFH_ROLE_PASSIVE, 8);
	CHECK_EQ(in(c, SFO_SYN, c->pisn, 0, 0), 0);
	CHECK_EQ(drain(c), 1);
	c->tisn = c->out[0].seq;
	CHECK_EQ(sfh_target_call(c->t, SFO_CALL_CLOSE, 0), 0);
	CHECK_EQ(drain(c), 0);
	CHECK_EQ(state(c), SFO_SYN_RECEIVED);
	CHECK_EQ(in(c, SFO_ACK, c->pisn + 1, c->tisn + 1, 0), 0);
	CHECK_EQ(drain(c), 1);
	CHECK_EQ(c->out[0].flags, SFO_FIN | SFO_ACK);
	CHECK_EQ(state(c), SFO_FIN_WAIT_1);
}

static void run_all(const char *spec)
{
	char err[256] = "";
	struct tc c = {0};
	CHECK_EQ(sfh_target_open(spec, &c.t, err, sizeof err), 0);
	c.w = sfh_wire_new(err, sizeof err);
	CHECK(c.t && c.w);
	if (!c.t || !c.w) {
		fprintf(stderr, "%s: %s\n", spec, err);
		return;
	}
	CHECK(strncmp(c.t->ops->version(), "libslirp ", 9) == 0);
	passive_lifecycle(&c);
	synack_retransmit(&c);
	time_wait(&c);
	passive_abort(&c, 4);
	active_lifecycle(&c);
	reset_isolation(&c);
	calls_and_listener(&c);
	close_in_syn_received(&c);
	sfh_wire_free(c.w);
	sfh_target_close(c.t);
}

int main(void)
{
	if (!sfh_target_find("slirp")) {
		printf("skipped: the slirp target is not built (SYNFIN_TARGET_SLIRP=OFF)\n");
		return 77;
	}
	run_all("slirp");
	run_all("slirp:passive=sock");
	return check_done();
}
