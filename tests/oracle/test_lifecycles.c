/* Whole lifecycles (RFC 9293 3.5, 3.6, 3.10), driven from CLOSED with the model as a
 * concrete stack, every step judged by the model as the oracle (which learns the stack's
 * ISS from its SYN). A lifecycle passes when the stack goes where the RFC says, emits
 * what the RFC says, and the oracle agrees at every step. */
#include "model_test.h"

static int has(const struct world *w, uint8_t flags)
{
	for (size_t i = 0; i < w->nout; i++)
		if ((w->out[i].flags & flags) == flags)
			return 1;
	return 0;
}

#define BOTH(w, s)                                                                                 \
	do {                                                                                       \
		CHECK_EQ((w)->st.state, (s));                                                      \
		CHECK_EQ((w)->ot.state, (s));                                                      \
	} while (0)

/* 3.5 Figure 6: passive open, data both ways, the target closes first (3.6 case 1) */
static void passive_open_data_active_close(void)
{
	struct world w;
	w_init(&w, "rfc9293");
	w_call(&w, SFO_CALL_LISTEN, 0);
	BOTH(&w, SFO_LISTEN);
	w_in(&w, SFO_SYN, w.pisn, 0, 0);
	BOTH(&w, SFO_SYN_RECEIVED);
	CHECK(has(&w, SFO_SYN | SFO_ACK));
	CHECK_EQ(w.ot.iss, TISS);
	w_in(&w, SFO_ACK, w.pnxt, TISS + 1, 0);
	BOTH(&w, SFO_ESTABLISHED);
	w_call(&w, SFO_CALL_ACCEPT, 0);
	w_in(&w, SFO_ACK | SFO_PSH, w.pnxt, TISS + 1, 300); /* crosses 2^32 */
	CHECK_EQ(w.out[0].ack, PISN + 301);
	w_call(&w, SFO_CALL_RECEIVE, 0);
	w_call(&w, SFO_CALL_SEND, 200);
	CHECK_EQ(w.nout, 1);
	CHECK_EQ(w.out[0].len, 200);
	w_in(&w, SFO_ACK, w.pnxt, TISS + 201, 0);
	CHECK_EQ(w.ot.snd_una, TISS + 201);
	w_call(&w, SFO_CALL_CLOSE, 0);
	BOTH(&w, SFO_FIN_WAIT_1);
	CHECK(has(&w, SFO_FIN | SFO_ACK));
	w_in(&w, SFO_ACK, w.pnxt, TISS + 202, 0);
	BOTH(&w, SFO_FIN_WAIT_2);
	w_in(&w, SFO_FIN | SFO_ACK, w.pnxt, TISS + 202, 0);
	BOTH(&w, SFO_TIME_WAIT);
	w_wait(&w, 240000);
	BOTH(&w, SFO_CLOSED);
	CHECK_EQ(w.diverged, 0);
}

/* 3.5 Figure 6 from the other side, and 3.6 case 2: the peer closes first */
static void active_open_passive_close(void)
{
	struct world w;
	w_init(&w, "rfc9293");
	w_call(&w, SFO_CALL_CONNECT, 0);
	BOTH(&w, SFO_SYN_SENT);
	CHECK_EQ(w.nout, 1);
	CHECK_EQ(w.out[0].seq, TISS);
	w_in(&w, SFO_SYN | SFO_ACK, w.pisn, TISS + 1, 0);
	BOTH(&w, SFO_ESTABLISHED);
	CHECK(has(&w, SFO_ACK));
	w_in(&w, SFO_FIN | SFO_ACK, w.pnxt, TISS + 1, 0);
	BOTH(&w, SFO_CLOSE_WAIT);
	w_call(&w, SFO_CALL_SEND, 50);
	CHECK_EQ(w.out[0].len, 50);
	w_call(&w, SFO_CALL_CLOSE, 0);
	BOTH(&w, SFO_LAST_ACK);
	CHECK(has(&w, SFO_FIN));
	w_in(&w, SFO_ACK, w.pnxt, TISS + 52, 0);
	BOTH(&w, SFO_CLOSED);
	/* no TCB any more: a late segment is refused */
	w_in(&w, SFO_ACK, w.pnxt, TISS + 52, 0);
	CHECK(has(&w, SFO_RST));
	CHECK_EQ(w.diverged, 0);
}

/* 3.5 Figure 7, MUST-10: simultaneous open */
static void simultaneous_open(void)
{
	struct world w;
	w_init(&w, "rfc9293");
	w_call(&w, SFO_CALL_CONNECT, 0);
	w_in(&w, SFO_SYN, w.pisn, 0, 0);
	BOTH(&w, SFO_SYN_RECEIVED);
	CHECK(has(&w, SFO_SYN | SFO_ACK));
	CHECK_EQ(w.out[0].seq, TISS);
	CHECK_EQ(w.out[0].ack, PISN + 1);
	/* the peer's SYN,ACK: its SYN again, and the ACK of ours */
	w_in(&w, SFO_SYN | SFO_ACK, w.pisn, TISS + 1, 0);
	BOTH(&w, SFO_ESTABLISHED);
	CHECK_EQ(w.diverged, 0);
	/* the same with a plain ACK finishing it */
	w_init(&w, "rfc9293");
	w_call(&w, SFO_CALL_CONNECT, 0);
	w_in(&w, SFO_SYN, w.pisn, 0, 0);
	w_in(&w, SFO_ACK, w.pnxt, TISS + 1, 0);
	BOTH(&w, SFO_ESTABLISHED);
	CHECK_EQ(w.diverged, 0);
}

/* 3.8.1: the handshake's last ACK is lost: the SYN,ACK comes again, then a late ACK */
static void lost_final_ack_synack_retransmitted(void)
{
	struct world w;
	w_init(&w, "rfc9293");
	w_call(&w, SFO_CALL_LISTEN, 0);
	w_in(&w, SFO_SYN, w.pisn, 0, 0);
	w_wait(&w, 150);
	CHECK_EQ(w.nout, 0);
	w_wait(&w, 4000);
	BOTH(&w, SFO_SYN_RECEIVED);
	CHECK_EQ(w.nout, 1);
	CHECK(has(&w, SFO_SYN | SFO_ACK));
	CHECK_EQ(w.out[0].seq, TISS);
	w_in(&w, SFO_ACK, w.pnxt, TISS + 1, 0);
	BOTH(&w, SFO_ESTABLISHED);
	CHECK_EQ(w.diverged, 0);
}

/* 3.6 Figure 12: four-way close, the target first (TIME-WAIT on the target) */
static void four_way_close_target_first(void)
{
	struct world w;
	w_init(&w, "rfc9293");
	w_goto(&w, SFO_ESTABLISHED);
	w_call(&w, SFO_CALL_CLOSE, 0);
	w_in(&w, SFO_ACK, w.pnxt, tnxt(&w), 0);
	BOTH(&w, SFO_FIN_WAIT_2);
	w_in(&w, SFO_FIN | SFO_ACK, w.pnxt, tnxt(&w), 0);
	BOTH(&w, SFO_TIME_WAIT);
	CHECK(has(&w, SFO_ACK));
	CHECK_EQ(w.out[0].ack, w.pnxt);
	w_wait(&w, 239999);
	BOTH(&w, SFO_TIME_WAIT);
	w_wait(&w, 1);
	BOTH(&w, SFO_CLOSED);
	CHECK_EQ(w.diverged, 0);
}

/* 3.6 Figure 12: four-way close, the peer first (the target ends in CLOSED, no TIME-WAIT) */
static void four_way_close_peer_first(void)
{
	struct world w;
	w_init(&w, "rfc9293");
	w_goto(&w, SFO_ESTABLISHED);
	w_in(&w, SFO_FIN | SFO_ACK, w.pnxt, tnxt(&w), 0);
	BOTH(&w, SFO_CLOSE_WAIT);
	w_call(&w, SFO_CALL_CLOSE, 0);
	BOTH(&w, SFO_LAST_ACK);
	w_in(&w, SFO_ACK, w.pnxt, tnxt(&w), 0);
	BOTH(&w, SFO_CLOSED);
	/* a passive connection once accepted ends in CLOSED: a new SYN is refused */
	w_in(&w, SFO_SYN, w.pisn + 1000, 0, 0);
	CHECK(has(&w, SFO_RST | SFO_ACK));
	BOTH(&w, SFO_CLOSED);
	CHECK_EQ(w.diverged, 0);
}

/* 3.6: three-way close: the peer's FIN comes with its ACK of ours */
static void three_way_close(void)
{
	struct world w;
	w_init(&w, "rfc9293");
	w_goto(&w, SFO_ESTABLISHED);
	w_call(&w, SFO_CALL_CLOSE, 0);
	w_in(&w, SFO_FIN | SFO_ACK, w.pnxt, tnxt(&w), 0);
	BOTH(&w, SFO_TIME_WAIT);
	CHECK(has(&w, SFO_ACK));
	CHECK_EQ(w.diverged, 0);
	/* and from the other side: the target's FIN carries the ACK of the peer's */
	w_init(&w, "rfc9293");
	w_goto(&w, SFO_ESTABLISHED);
	struct sfo_event ev;
	memset(&ev, 0, sizeof ev);
	ev.kind = SFO_EV_SEGMENT;
	ev.u.seg = mkseg(SFO_FIN | SFO_ACK, w.pnxt, tnxt(&w), 0);
	/* an oracle-only step: the target delays the ACK of the FIN ... */
	struct sfo_expect e;
	probe_ev(&w, &ev, &e);
	CHECK_EQ(JUDGE0(&w, &e, SFO_CLOSE_WAIT), SFO_DIV_OK);
	sfo_commit(&w.ot, &e.out[0], NULL, 0);
	/* ... and sends it with its own FIN when the user closes */
	memset(&ev, 0, sizeof ev);
	ev.kind = SFO_EV_CALL;
	ev.u.call.call = SFO_CALL_CLOSE;
	probe_ev(&w, &ev, &e);
	CHECK_EQ(JUDGE(&w, &e, SFO_LAST_ACK, mkseg(SFO_FIN | SFO_ACK, TISS + 1, w.pnxt + 1, 0)),
		 SFO_DIV_OK);
}

/* 3.6 Figure 13: simultaneous close through CLOSING */
static void simultaneous_close_via_closing(void)
{
	struct world w;
	w_init(&w, "rfc9293");
	w_goto(&w, SFO_ESTABLISHED);
	w_call(&w, SFO_CALL_CLOSE, 0);
	w_in(&w, SFO_FIN | SFO_ACK, w.pnxt, TISS + 1, 0); /* the peer's FIN, ours not ACKed */
	BOTH(&w, SFO_CLOSING);
	CHECK(has(&w, SFO_ACK));
	w_in(&w, SFO_ACK, w.pnxt, TISS + 2, 0);
	BOTH(&w, SFO_TIME_WAIT);
	w_wait(&w, 240000);
	BOTH(&w, SFO_CLOSED);
	CHECK_EQ(w.diverged, 0);
}

/* 3.10.7.4, MUST-13: TIME-WAIT with a resent FIN: ACKed again, timer restarted */
static void timewait_retransmitted_fin_then_expiry(void)
{
	struct world w;
	w_init(&w, "rfc9293");
	w_goto(&w, SFO_TIME_WAIT);
	w_wait(&w, 200000);
	BOTH(&w, SFO_TIME_WAIT);
	w_in(&w, SFO_FIN | SFO_ACK, w.pnxt - 1, tnxt(&w), 0);
	BOTH(&w, SFO_TIME_WAIT);
	CHECK_EQ(w.nout, 1);
	CHECK_EQ(w.out[0].ack, w.pnxt);
	w_wait(&w, 100000); /* 300 s after entry, 100 s after the restart */
	BOTH(&w, SFO_TIME_WAIT);
	w_wait(&w, 140000);
	BOTH(&w, SFO_CLOSED);
	CHECK_EQ(w.diverged, 0);
}

/* 3.10.7: a RST at RCV.NXT in every state */
static void rst_in_every_state(void)
{
	static const struct {
		enum sfo_state from, to;
		uint8_t flags;
	} rows[] = {
	    {SFO_CLOSED, SFO_CLOSED, SFO_RST},
	    {SFO_LISTEN, SFO_LISTEN, SFO_RST},
	    {SFO_SYN_SENT, SFO_CLOSED, SFO_RST | SFO_ACK},
	    {SFO_SYN_RECEIVED, SFO_LISTEN, SFO_RST},
	    {SFO_ESTABLISHED, SFO_CLOSED, SFO_RST},
	    {SFO_FIN_WAIT_1, SFO_CLOSED, SFO_RST},
	    {SFO_FIN_WAIT_2, SFO_CLOSED, SFO_RST},
	    {SFO_CLOSE_WAIT, SFO_CLOSED, SFO_RST},
	    {SFO_CLOSING, SFO_CLOSED, SFO_RST},
	    {SFO_LAST_ACK, SFO_CLOSED, SFO_RST},
	    {SFO_TIME_WAIT, SFO_CLOSED, SFO_RST},
	};
	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		struct world w;
		at(&w, rows[i].from, "rfc9293");
		w_in(&w, rows[i].flags, rnxt(&w), tnxt(&w), 0);
		BOTH(&w, rows[i].to);
		CHECK_EQ(w.nout, 0);
		CHECK_EQ(w.diverged, 0);
	}
}

/* 3.5 Figure 8, MUST-11: reset in SYN-RECEIVED returns to LISTEN, a new handshake works */
static void passive_reset_back_to_listen_then_handshake(void)
{
	struct world w;
	w_init(&w, "rfc9293");
	w_goto(&w, SFO_SYN_RECEIVED);
	w_in(&w, SFO_RST, w.pnxt, 0, 0);
	BOTH(&w, SFO_LISTEN);
	w.pisn += 5000;
	w.pnxt = w.pisn;
	w.scfg.stack_iss = TISS + 12345; /* a new incarnation, a new ISS */
	w_in(&w, SFO_SYN, w.pisn, 0, 0);
	BOTH(&w, SFO_SYN_RECEIVED);
	CHECK_EQ(w.ot.iss, TISS + 12345);
	w_in(&w, SFO_ACK, w.pnxt, TISS + 12346, 0);
	BOTH(&w, SFO_ESTABLISHED);
	CHECK_EQ(w.diverged, 0);
}

/* 3.6.1: half-close: the target shuts down its side, then keeps receiving */
static void half_close_data_after_shutdown(void)
{
	struct world w;
	w_init(&w, "rfc9293");
	w_goto(&w, SFO_ESTABLISHED);
	w_call(&w, SFO_CALL_SHUTDOWN, 0);
	BOTH(&w, SFO_FIN_WAIT_1);
	w_in(&w, SFO_ACK, w.pnxt, tnxt(&w), 0);
	BOTH(&w, SFO_FIN_WAIT_2);
	w_in(&w, SFO_ACK | SFO_PSH, w.pnxt, tnxt(&w), 500);
	BOTH(&w, SFO_FIN_WAIT_2);
	CHECK_EQ(w.out[0].ack, w.pnxt);
	w_call(&w, SFO_CALL_RECEIVE, 0);
	CHECK_EQ(w.ot.rcv_queued, 0);
	w_in(&w, SFO_FIN | SFO_ACK, w.pnxt, tnxt(&w), 0);
	BOTH(&w, SFO_TIME_WAIT);
	CHECK_EQ(w.diverged, 0);
}

/* 3.8.6.3: a target that delays every ACK is still conformant within the bound */
static void delayed_acks_within_bound(void)
{
	struct world w;
	struct sfo_expect e;
	w_init(&w, "rfc9293");
	w_goto(&w, SFO_ESTABLISHED);
	for (int i = 0; i < 3; i++) {
		struct sfo_event ev;
		memset(&ev, 0, sizeof ev);
		ev.kind = SFO_EV_SEGMENT;
		ev.u.seg = mkseg(SFO_ACK, w.ot.rcv_nxt, tnxt(&w), 100);
		probe_ev(&w, &ev, &e);
		CHECK_EQ(JUDGE0(&w, &e, SFO_ESTABLISHED), SFO_DIV_OK);
		sfo_commit(&w.ot, &e.out[w.which], NULL, 0);
	}
	/* one ACK for all three, in the middle of a wait */
	struct sfo_event wv;
	memset(&wv, 0, sizeof wv);
	wv.kind = SFO_EV_WAIT;
	wv.u.wait_ms = 200;
	probe_ev(&w, &wv, &e);
	CHECK_EQ(JUDGE(&w, &e, SFO_ESTABLISHED, mkseg(SFO_ACK, tnxt(&w), w.ot.rcv_nxt, 0)),
		 SFO_DIV_OK);
	CHECK_EQ(JUDGE(&w, &e, SFO_ESTABLISHED, mkseg(SFO_ACK, tnxt(&w), rnxt(&w) + 200, 0)),
		 SFO_DIV_OK); /* a partial ACK is fine too */
}

int main(void)
{
	passive_open_data_active_close();
	active_open_passive_close();
	simultaneous_open();
	lost_final_ack_synack_retransmitted();
	four_way_close_target_first();
	four_way_close_peer_first();
	three_way_close();
	simultaneous_close_via_closing();
	timewait_retransmitted_fin_then_expiry();
	rst_in_every_state();
	passive_reset_back_to_listen_then_handshake();
	half_close_data_after_shutdown();
	delayed_acks_within_bound();
	return check_done();
}
