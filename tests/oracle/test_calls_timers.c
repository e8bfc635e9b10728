/* User calls in every state (RFC 9293 3.10.1-3.10.5, in socket terms) and the timeouts:
 * retransmission windows (3.8.1), the delayed-ACK bound (3.8.6.3, MUST-40), TIME-WAIT
 * 2MSL expiry and restart (3.6.1 MUST-13), FIN-WAIT-2 and user timeouts per profile. */
#include "model_test.h"

/* The oracle alone takes an event while the target emits segs (a target that behaves
 * differently from the model's stack mode, e.g. one that delays its ACKs). */
static enum sfo_div_kind o_ev(struct world *w, struct sfo_event ev, enum sfo_state obs,
			      const struct sfo_seg *segs, size_t n)
{
	struct sfo_expect e;
	sfo_step(&w->ot, &w->ocfg, &ev, &e);
	enum sfo_div_kind k = judge(w, &e, obs, segs, n);
	sfo_commit(&w->ot, &e.out[w->which >= 0 ? w->which : 0], segs, n);
	return k;
}

/* ---- the user-call table ---- */

enum want { NONE, SYN, FIN, RST, DATA };

struct call_row {
	enum sfo_state from;
	enum sfo_call call;
	uint16_t to;	 /* states the outcomes may reach */
	enum want sends; /* what the reference outcome must send */
};

#define S(x) BIT(SFO_##x)
static const struct call_row call_rows[] = {
    /* 3.10.1 OPEN: passive in CLOSED, "connection already exists" elsewhere */
    {SFO_CLOSED, SFO_CALL_LISTEN, S(LISTEN), NONE},
    {SFO_LISTEN, SFO_CALL_LISTEN, S(LISTEN), NONE},
    {SFO_ESTABLISHED, SFO_CALL_LISTEN, S(ESTABLISHED), NONE},
    {SFO_TIME_WAIT, SFO_CALL_LISTEN, S(TIME_WAIT), NONE},
    {SFO_CLOSED, SFO_CALL_CONNECT, S(SYN_SENT), SYN},
    {SFO_LISTEN, SFO_CALL_CONNECT, S(LISTEN) | S(SYN_SENT), NONE},
    {SFO_SYN_SENT, SFO_CALL_CONNECT, S(SYN_SENT), NONE},
    {SFO_SYN_RECEIVED, SFO_CALL_CONNECT, S(SYN_RECEIVED), NONE},
    {SFO_CLOSE_WAIT, SFO_CALL_CONNECT, S(CLOSE_WAIT), NONE},
    /* accept: no TCP effect anywhere */
    {SFO_LISTEN, SFO_CALL_ACCEPT, S(LISTEN), NONE},
    {SFO_ESTABLISHED, SFO_CALL_ACCEPT, S(ESTABLISHED), NONE},
    {SFO_CLOSE_WAIT, SFO_CALL_ACCEPT, S(CLOSE_WAIT), NONE},
    /* 3.10.2 SEND: queued before ESTABLISHED, sent in ESTABLISHED and CLOSE-WAIT */
    {SFO_CLOSED, SFO_CALL_SEND, S(CLOSED), NONE},
    {SFO_LISTEN, SFO_CALL_SEND, S(LISTEN), NONE},
    {SFO_SYN_SENT, SFO_CALL_SEND, S(SYN_SENT), NONE},
    {SFO_SYN_RECEIVED, SFO_CALL_SEND, S(SYN_RECEIVED), NONE},
    {SFO_ESTABLISHED, SFO_CALL_SEND, S(ESTABLISHED), DATA},
    {SFO_CLOSE_WAIT, SFO_CALL_SEND, S(CLOSE_WAIT), DATA},
    {SFO_FIN_WAIT_1, SFO_CALL_SEND, S(FIN_WAIT_1), NONE},
    {SFO_FIN_WAIT_2, SFO_CALL_SEND, S(FIN_WAIT_2), NONE},
    {SFO_CLOSING, SFO_CALL_SEND, S(CLOSING), NONE},
    {SFO_LAST_ACK, SFO_CALL_SEND, S(LAST_ACK), NONE},
    {SFO_TIME_WAIT, SFO_CALL_SEND, S(TIME_WAIT), NONE},
    /* 3.10.3 RECEIVE: never a state change */
    {SFO_CLOSED, SFO_CALL_RECEIVE, S(CLOSED), NONE},
    {SFO_ESTABLISHED, SFO_CALL_RECEIVE, S(ESTABLISHED), NONE},
    {SFO_CLOSE_WAIT, SFO_CALL_RECEIVE, S(CLOSE_WAIT), NONE},
    {SFO_TIME_WAIT, SFO_CALL_RECEIVE, S(TIME_WAIT), NONE},
    /* 3.10.4 CLOSE of the send side (shutdown) */
    {SFO_CLOSED, SFO_CALL_SHUTDOWN, S(CLOSED), NONE},
    {SFO_LISTEN, SFO_CALL_SHUTDOWN, S(CLOSED) | S(LISTEN), NONE},
    {SFO_SYN_SENT, SFO_CALL_SHUTDOWN, S(CLOSED), NONE},
    {SFO_SYN_RECEIVED, SFO_CALL_SHUTDOWN, S(FIN_WAIT_1), FIN},
    {SFO_ESTABLISHED, SFO_CALL_SHUTDOWN, S(FIN_WAIT_1), FIN},
    {SFO_FIN_WAIT_1, SFO_CALL_SHUTDOWN, S(FIN_WAIT_1), NONE},
    {SFO_FIN_WAIT_2, SFO_CALL_SHUTDOWN, S(FIN_WAIT_2), NONE},
    {SFO_CLOSE_WAIT, SFO_CALL_SHUTDOWN, S(LAST_ACK), FIN},
    {SFO_CLOSING, SFO_CALL_SHUTDOWN, S(CLOSING), NONE},
    {SFO_LAST_ACK, SFO_CALL_SHUTDOWN, S(LAST_ACK), NONE},
    {SFO_TIME_WAIT, SFO_CALL_SHUTDOWN, S(TIME_WAIT), NONE},
    /* 3.10.4 CLOSE (close(): nothing unread in these worlds) */
    {SFO_CLOSED, SFO_CALL_CLOSE, S(CLOSED), NONE},
    {SFO_LISTEN, SFO_CALL_CLOSE, S(CLOSED), NONE},
    {SFO_SYN_SENT, SFO_CALL_CLOSE, S(CLOSED), NONE},
    {SFO_SYN_RECEIVED, SFO_CALL_CLOSE, S(FIN_WAIT_1), FIN},
    {SFO_ESTABLISHED, SFO_CALL_CLOSE, S(FIN_WAIT_1), FIN},
    {SFO_FIN_WAIT_1, SFO_CALL_CLOSE, S(FIN_WAIT_1), NONE},
    {SFO_FIN_WAIT_2, SFO_CALL_CLOSE, S(FIN_WAIT_2), NONE},
    {SFO_CLOSE_WAIT, SFO_CALL_CLOSE, S(LAST_ACK), FIN},
    {SFO_CLOSING, SFO_CALL_CLOSE, S(CLOSING), NONE},
    {SFO_LAST_ACK, SFO_CALL_CLOSE, S(LAST_ACK), NONE},
    {SFO_TIME_WAIT, SFO_CALL_CLOSE, S(TIME_WAIT), NONE},
    /* 3.10.5 ABORT: RST where the peer may be synchronized, silence elsewhere */
    {SFO_CLOSED, SFO_CALL_ABORT, S(CLOSED), NONE},
    {SFO_LISTEN, SFO_CALL_ABORT, S(CLOSED), NONE},
    {SFO_SYN_SENT, SFO_CALL_ABORT, S(CLOSED), NONE},
    {SFO_SYN_RECEIVED, SFO_CALL_ABORT, S(CLOSED), RST},
    {SFO_ESTABLISHED, SFO_CALL_ABORT, S(CLOSED), RST},
    {SFO_FIN_WAIT_1, SFO_CALL_ABORT, S(CLOSED), RST},
    {SFO_FIN_WAIT_2, SFO_CALL_ABORT, S(CLOSED), RST},
    {SFO_CLOSE_WAIT, SFO_CALL_ABORT, S(CLOSED), RST},
    {SFO_CLOSING, SFO_CALL_ABORT, S(CLOSED), NONE},
    {SFO_LAST_ACK, SFO_CALL_ABORT, S(CLOSED), NONE},
    {SFO_TIME_WAIT, SFO_CALL_ABORT, S(CLOSED), NONE},
};

/* What the reference target sends for a row, as a concrete segment. */
static size_t row_segs(const struct world *w, enum want want, uint32_t arg, struct sfo_seg *s)
{
	switch (want) {
	case NONE:
		return 0;
	case SYN:
		s[0] = mkseg(SFO_SYN, TISS, 0, 0);
		return 1;
	case FIN:
		s[0] = mkseg(SFO_FIN | SFO_ACK, tnxt(w), rnxt(w), 0);
		return 1;
	case RST:
		s[0] = mkseg(SFO_RST | SFO_ACK, tnxt(w), rnxt(w), 0);
		return 1;
	case DATA:
		s[0] = mkseg(SFO_ACK | SFO_PSH, tnxt(w), rnxt(w), arg);
		return 1;
	}
	return 0;
}

/* 3.10.1-3.10.5: every call in every state: next states, what must be sent, and that
 * sending nothing (when something is due) or a stray RST is a divergence */
static void calls_table_each_call_in_each_state(void)
{
	for (size_t i = 0; i < sizeof call_rows / sizeof call_rows[0]; i++) {
		const struct call_row *row = &call_rows[i];
		struct world w;
		struct sfo_expect e;
		struct sfo_seg segs[2];
		at(&w, row->from, "rfc9293");
		struct sfo_event ev = sfo_ev_call(row->call, 100);
		probe_ev(&w, &ev, &e);
		CHECK_EQ(e.evclass, SFO_EC_CALL_LISTEN + row->call);
		if (next_states(&e) != row->to)
			fprintf(stderr, "  row %zu: %s in %s\n", i, sfo_call_name(row->call),
				sfo_state_name(row->from));
		CHECK_EQ(next_states(&e), row->to);
		enum sfo_state to = e.out[0].next.state;
		size_t n = row_segs(&w, row->sends, 100, segs);
		CHECK_EQ(judge(&w, &e, to, segs, n), SFO_DIV_OK);
		if (row->sends == SYN || row->sends == FIN || row->sends == RST)
			CHECK_EQ(JUDGE0(&w, &e, to), SFO_DIV_MISSING);
		if (row->sends != RST && row->sends != SYN)
			CHECK(JUDGE(&w, &e, to, mkseg(SFO_RST, tnxt(&w), 0, 0)) != SFO_DIV_OK);
	}
}

/* 3.10.2: data beyond what was queued, or outside the peer's window, is a divergence */
static void send_data_bounded_by_queue(void)
{
	struct world w;
	struct sfo_expect e;
	at(&w, SFO_ESTABLISHED, "rfc9293");
	struct sfo_event ev = sfo_ev_call(SFO_CALL_SEND, 100);
	probe_ev(&w, &ev, &e);
	CHECK_EQ(JUDGE0(&w, &e, SFO_ESTABLISHED), SFO_DIV_OK); /* may hold it (Nagle) */
	CHECK_EQ(JUDGE(&w, &e, SFO_ESTABLISHED, mkseg(SFO_ACK, tnxt(&w), rnxt(&w), 60),
		       mkseg(SFO_ACK, tnxt(&w) + 60, rnxt(&w), 40)),
		 SFO_DIV_OK);
	CHECK_EQ(JUDGE(&w, &e, SFO_ESTABLISHED, mkseg(SFO_ACK, tnxt(&w), rnxt(&w), 101)),
		 SFO_DIV_FIELD);
	CHECK_EQ(JUDGE(&w, &e, SFO_ESTABLISHED, mkseg(SFO_ACK, tnxt(&w) + 60, rnxt(&w), 41)),
		 SFO_DIV_FIELD);
	CHECK_STR(w.v.detail, "end: expected 1..101, observed 102");
}

/* 3.10.4: CLOSE after SEND: the FIN goes right after the data, data and FIN may share
 * a segment, and the FIN may not jump ahead of the data */
static void close_after_send_fin_follows_data(void)
{
	struct world w;
	struct sfo_expect e;
	at(&w, SFO_ESTABLISHED, "rfc9293");
	uint32_t s0 = tnxt(&w);
	struct sfo_event ev = sfo_ev_call(SFO_CALL_SEND, 100);
	CHECK_EQ(o_ev(&w, ev, SFO_ESTABLISHED, NULL, 0), SFO_DIV_OK); /* held */
	ev = sfo_ev_call(SFO_CALL_CLOSE, 0);
	probe_ev(&w, &ev, &e);
	CHECK_EQ(next_states(&e), BIT(SFO_FIN_WAIT_1));
	CHECK_EQ(JUDGE0(&w, &e, SFO_FIN_WAIT_1), SFO_DIV_OK); /* data still unsent */
	CHECK_EQ(JUDGE(&w, &e, SFO_FIN_WAIT_1, mkseg(SFO_FIN | SFO_ACK, s0, rnxt(&w), 100)),
		 SFO_DIV_OK);
	CHECK_EQ(JUDGE(&w, &e, SFO_FIN_WAIT_1, mkseg(SFO_ACK, s0, rnxt(&w), 100),
		       mkseg(SFO_FIN | SFO_ACK, s0 + 100, rnxt(&w), 0)),
		 SFO_DIV_OK);
	CHECK_EQ(JUDGE(&w, &e, SFO_FIN_WAIT_1, mkseg(SFO_FIN | SFO_ACK, s0, rnxt(&w), 0)),
		 SFO_DIV_FIELD);
	CHECK_STR(w.v.detail, "fin at: expected 101, observed 1");
	/* once the data is out, the FIN is due */
	ev = sfo_ev_call(SFO_CALL_CLOSE, 0);
	CHECK_EQ(o_ev(&w, ev, SFO_FIN_WAIT_1, SEGS(mkseg(SFO_ACK, s0, rnxt(&w), 100)), 1),
		 SFO_DIV_OK);
	ev = sfo_ev_call(SFO_CALL_RECEIVE, 0);
	probe_ev(&w, &ev, &e);
	CHECK_EQ(JUDGE0(&w, &e, SFO_FIN_WAIT_1), SFO_DIV_MISSING);
	CHECK_STR(vrule(&w), "send.fin");
}

/* 3.6.1 MAY-1, SHLD-3: close() with unread data may send RST instead of FIN */
static void close_with_unread_data_fin_or_rst(void)
{
	struct world w;
	struct sfo_expect e;
	at(&w, SFO_ESTABLISHED, "rfc9293");
	w_in(&w, SFO_ACK, w.pnxt, tnxt(&w), 10);
	CHECK_EQ(w.ot.rcv_queued, 10);
	struct sfo_event ev = sfo_ev_call(SFO_CALL_CLOSE, 0);
	probe_ev(&w, &ev, &e);
	CHECK_EQ(next_states(&e), BIT(SFO_FIN_WAIT_1) | BIT(SFO_CLOSED));
	CHECK_EQ(JUDGE(&w, &e, SFO_CLOSED, mkseg(SFO_RST | SFO_ACK, tnxt(&w), rnxt(&w), 0)),
		 SFO_DIV_OK);
	CHECK_STR(sfo_rule(e.out[w.which].state_rule)->req, "SHLD-3");
	CHECK_EQ(JUDGE(&w, &e, SFO_FIN_WAIT_1, mkseg(SFO_FIN | SFO_ACK, tnxt(&w), rnxt(&w), 0)),
		 SFO_DIV_OK);
	/* shutdown() is not close(): no RST */
	ev = sfo_ev_call(SFO_CALL_SHUTDOWN, 0);
	probe_ev(&w, &ev, &e);
	CHECK_EQ(next_states(&e), BIT(SFO_FIN_WAIT_1));
}

/* 3.10.4: CLOSE in SYN-RECEIVED with data queued waits for ESTABLISHED */
static void close_in_synrcvd_with_queued_data_waits(void)
{
	struct world w;
	w_init(&w, "rfc9293");
	w_goto(&w, SFO_SYN_RECEIVED);
	w_call(&w, SFO_CALL_SEND, 20);
	w_call(&w, SFO_CALL_CLOSE, 0);
	CHECK_EQ(w.ot.state, SFO_SYN_RECEIVED);
	CHECK_EQ(w.nout, 0);
	w_in(&w, SFO_ACK, w.pnxt, TISS + 1, 0);
	CHECK_EQ(w.ot.state, SFO_FIN_WAIT_1);
	CHECK_EQ(w.nout, 2); /* the data, then the FIN */
	CHECK_EQ(w.out[0].len, 20);
	CHECK(w.out[1].flags & SFO_FIN);
	CHECK_EQ(w.out[1].seq, TISS + 21);
	CHECK_EQ(w.diverged, 0);
}

/* 3.10.3: RECEIVE frees space; a window update may follow (stack mode sends one once the
 * edge moves by an MSS) */
static void receive_may_send_window_update(void)
{
	struct world w;
	struct sfo_expect e;
	at(&w, SFO_ESTABLISHED, "rfc9293");
	w_in(&w, SFO_ACK, w.pnxt, tnxt(&w), 1400);
	w_in(&w, SFO_ACK, w.pnxt, tnxt(&w), 1400);
	struct sfo_event ev = sfo_ev_call(SFO_CALL_RECEIVE, 0);
	probe_ev(&w, &ev, &e);
	CHECK_EQ(e.out[0].next.rcv_queued, 0);
	CHECK_EQ(JUDGE0(&w, &e, SFO_ESTABLISHED), SFO_DIV_OK);
	CHECK_EQ(judge(&w, &e, SFO_ESTABLISHED, (struct sfo_seg[]){tack(&w)}, 1), SFO_DIV_OK);
	w_call(&w, SFO_CALL_RECEIVE, 0);
	CHECK_EQ(w.nout, 1);
	CHECK_EQ(w.diverged, 0);
}

/* ---- timeouts ---- */

/* 3.8.1: the SYN may be resent after rto_min, must be after rto_must, and the bound
 * doubles with each retransmission (MUST-19 backoff) */
static void synsent_syn_retransmit_windows(void)
{
	struct world w;
	struct sfo_expect e;
	struct sfo_seg syn = mkseg(SFO_SYN, TISS, 0, 0);
	at(&w, SFO_SYN_SENT, "rfc9293");
	struct sfo_event ev = sfo_ev_wait(100);
	probe_ev(&w, &ev, &e);
	CHECK_EQ(e.evclass, SFO_EC_WAIT_SHORT);
	CHECK_EQ(JUDGE0(&w, &e, SFO_SYN_SENT), SFO_DIV_OK);
	CHECK_EQ(judge(&w, &e, SFO_SYN_SENT, &syn, 1), SFO_DIV_UNEXPECTED);
	ev = sfo_ev_wait(1000);
	probe_ev(&w, &ev, &e);
	CHECK_EQ(e.evclass, SFO_EC_WAIT_RTO);
	CHECK_EQ(JUDGE0(&w, &e, SFO_SYN_SENT), SFO_DIV_OK);
	CHECK_EQ(judge(&w, &e, SFO_SYN_SENT, &syn, 1), SFO_DIV_OK);
	ev = sfo_ev_wait(4000);
	probe_ev(&w, &ev, &e);
	CHECK_EQ(JUDGE0(&w, &e, SFO_SYN_SENT), SFO_DIV_MISSING);
	CHECK_STR(vrule(&w), "rtx.required");
	CHECK_EQ(w.v.sev, SFO_SEV_SHOULD);
	CHECK_EQ(judge(&w, &e, SFO_SYN_SENT, (struct sfo_seg[]){syn, syn}, 2), SFO_DIV_OK);
	CHECK_EQ(JUDGE(&w, &e, SFO_SYN_SENT, mkseg(SFO_SYN, TISS + 1, 0, 0)), SFO_DIV_FIELD);
	/* after one retransmission the next is required only after twice the bound */
	CHECK_EQ(o_ev(&w, sfo_ev_wait(4000), SFO_SYN_SENT, &syn, 1), SFO_DIV_OK);
	CHECK_EQ(w.ot.rtx_count, 1);
	CHECK_EQ(o_ev(&w, sfo_ev_wait(4000), SFO_SYN_SENT, NULL, 0), SFO_DIV_OK);
	CHECK_EQ(o_ev(&w, sfo_ev_wait(4000), SFO_SYN_SENT, NULL, 0), SFO_DIV_MISSING);
}

/* 3.8.1: unacknowledged data is resent from SND.UNA; a FIN too */
static void established_data_retransmit_required(void)
{
	struct world w;
	struct sfo_expect e;
	at(&w, SFO_ESTABLISHED, "rfc9293");
	uint32_t s0 = tnxt(&w);
	w_call(&w, SFO_CALL_SEND, 3000);
	CHECK_EQ(w.nout, 1);
	CHECK_EQ(w.out[0].len, 1460); /* one MSS-sized segment in stack mode */
	struct sfo_event ev = sfo_ev_wait(4000);
	probe_ev(&w, &ev, &e);
	CHECK_EQ(JUDGE0(&w, &e, SFO_ESTABLISHED), SFO_DIV_MISSING);
	CHECK_EQ(JUDGE(&w, &e, SFO_ESTABLISHED, mkseg(SFO_ACK, s0, rnxt(&w), 1460)), SFO_DIV_OK);
	CHECK_EQ(JUDGE(&w, &e, SFO_ESTABLISHED, mkseg(SFO_ACK, s0, rnxt(&w), 1460),
		       mkseg(SFO_ACK, s0 + 1460, rnxt(&w), 1460),
		       mkseg(SFO_ACK, s0 + 2920, rnxt(&w), 80)),
		 SFO_DIV_OK);
	/* a resend from the middle is allowed, but the one from SND.UNA is still missing */
	CHECK_EQ(JUDGE(&w, &e, SFO_ESTABLISHED, mkseg(SFO_ACK, s0 + 10, rnxt(&w), 100)),
		 SFO_DIV_MISSING);
	CHECK_STR(vrule(&w), "rtx.required");
	/* new data beyond what was sent may wait for the ACK (congestion window) */
	CHECK_EQ(JUDGE(&w, &e, SFO_ESTABLISHED, mkseg(SFO_ACK, s0 + 1460, rnxt(&w), 100)),
		 SFO_DIV_MISSING);
	/* the stack model resends exactly once, from SND.UNA */
	w_wait(&w, 4000);
	CHECK_EQ(w.nout >= 1, 1);
	CHECK_EQ(w.out[0].seq, s0);
	CHECK_EQ(w.diverged, 0);
}

/* 3.8.1: LAST-ACK keeps resending its FIN */
static void lastack_fin_retransmit_required(void)
{
	struct world w;
	struct sfo_expect e;
	at(&w, SFO_LAST_ACK, "rfc9293");
	struct sfo_event ev = sfo_ev_wait(5000);
	probe_ev(&w, &ev, &e);
	CHECK_EQ(JUDGE0(&w, &e, SFO_LAST_ACK), SFO_DIV_MISSING);
	CHECK_EQ(JUDGE(&w, &e, SFO_LAST_ACK, mkseg(SFO_FIN | SFO_ACK, tuna(&w), rnxt(&w), 0)),
		 SFO_DIV_OK);
	w_wait(&w, 5000);
	CHECK_EQ(w.nout, 1);
	CHECK_EQ(w.diverged, 0);
}

/* 3.8.6.3 SHLD-18, MUST-40: an owed ACK may wait, but not past delack_max_ms */
static void delayed_ack_deadline(void)
{
	struct world w;
	struct sfo_seg ack;
	at(&w, SFO_ESTABLISHED, "rfc9293");
	struct sfo_event ev;
	memset(&ev, 0, sizeof ev);
	ev.kind = SFO_EV_SEGMENT;
	ev.u.seg = mkseg(SFO_ACK, rnxt(&w), tnxt(&w), 100);
	CHECK_EQ(o_ev(&w, ev, SFO_ESTABLISHED, NULL, 0), SFO_DIV_OK); /* the ACK waits */
	CHECK(w.ot.fl & SFO_TF_ACK_OWED);
	ack = mkseg(SFO_ACK, tnxt(&w), w.ot.rcv_nxt, 0);
	CHECK_EQ(o_ev(&w, sfo_ev_wait(300), SFO_ESTABLISHED, NULL, 0), SFO_DIV_OK);
	CHECK(w.ot.fl & SFO_TF_ACK_OWED);
	/* 300 + 300 > 500: now it must be out */
	struct sfo_expect e;
	struct sfo_event wv = sfo_ev_wait(300);
	probe_ev(&w, &wv, &e);
	CHECK_EQ(judge(&w, &e, SFO_ESTABLISHED, &ack, 1), SFO_DIV_OK);
	CHECK_EQ(JUDGE0(&w, &e, SFO_ESTABLISHED), SFO_DIV_MISSING);
	CHECK_STR(vrule(&w), "ack.delayed");
	CHECK_STR(sfo_rule(w.v.rule)->req, "MUST-40");
	/* an owed ACK rides on data just as well */
	struct sfo_event sv = sfo_ev_call(SFO_CALL_SEND, 10);
	probe_ev(&w, &sv, &e);
	CHECK_EQ(JUDGE(&w, &e, SFO_ESTABLISHED, mkseg(SFO_ACK, tnxt(&w), w.ot.rcv_nxt, 10)),
		 SFO_DIV_OK);
	CHECK_EQ(o_ev(&w, sv, SFO_ESTABLISHED, SEGS(mkseg(SFO_ACK, tnxt(&w), w.ot.rcv_nxt, 10)), 1),
		 SFO_DIV_OK);
	CHECK(!(w.ot.fl & SFO_TF_ACK_OWED));
}

/* 3.6.1 MUST-13: TIME-WAIT holds for 2MSL, then ends; a resent FIN restarts the timer */
static void timewait_2msl_expiry_and_restart(void)
{
	struct world w;
	struct sfo_expect e;
	at(&w, SFO_TIME_WAIT, "rfc9293");
	struct sfo_event ev = sfo_ev_wait(239999);
	probe_ev(&w, &ev, &e);
	CHECK_EQ(next_states(&e), BIT(SFO_TIME_WAIT));
	CHECK_EQ(JUDGE0(&w, &e, SFO_CLOSED), SFO_DIV_STATE);
	CHECK_STR(vrule(&w), "timewait.hold");
	CHECK_STR(sfo_rule(w.v.rule)->req, "MUST-13");
	ev = sfo_ev_wait(240000);
	probe_ev(&w, &ev, &e);
	CHECK_EQ(e.evclass, SFO_EC_WAIT_2MSL);
	CHECK_EQ(e.out[0].next.state, SFO_CLOSED);
	CHECK_EQ(JUDGE0(&w, &e, SFO_CLOSED), SFO_DIV_OK);
	CHECK_EQ(JUDGE0(&w, &e, SFO_TIME_WAIT), SFO_DIV_OK); /* timer granularity */
	ev = sfo_ev_wait(250000);
	probe_ev(&w, &ev, &e);
	CHECK_EQ(JUDGE0(&w, &e, SFO_TIME_WAIT), SFO_DIV_STATE);
	CHECK_STR(vrule(&w), "timewait.expire");
	/* restart: 100 s in, the FIN comes again; 2MSL counts from there */
	w_wait(&w, 100000);
	w_in(&w, SFO_FIN | SFO_ACK, rnxt(&w) - 1, tnxt(&w), 0);
	CHECK_EQ(w.nout, 1);
	ev = sfo_ev_wait(239000);
	probe_ev(&w, &ev, &e);
	CHECK_EQ(next_states(&e), BIT(SFO_TIME_WAIT));
	w_wait(&w, 240000);
	CHECK_EQ(w.st.state, SFO_CLOSED);
	CHECK_EQ(w.ot.state, SFO_CLOSED);
	CHECK_EQ(w.diverged, 0);
}

/* 3.6 (no RFC timer): an orphaned FIN-WAIT-2 never times out under rfc9293; a profile
 * with fin2_timeout_ms lets it close (optionally with a RST) */
static void finwait2_timeout_per_profile(void)
{
	static const struct sfo_accept none[] = {{NULL, -1, NULL}};
	struct sfo_profile fin2 = *sfo_profile_find("rfc9293");
	struct world w;
	struct sfo_expect e;
	fin2.name = "fin2";
	fin2.fin2_timeout_ms = 60000;
	fin2.accept = none;
	at(&w, SFO_FIN_WAIT_2, "rfc9293");
	struct sfo_event ev = sfo_ev_wait(3600000);
	probe_ev(&w, &ev, &e);
	CHECK_EQ(next_states(&e), BIT(SFO_FIN_WAIT_2));
	CHECK_EQ(JUDGE0(&w, &e, SFO_CLOSED), SFO_DIV_STATE);
	w.ocfg.profile = &fin2;
	ev = sfo_ev_wait(59000);
	probe_ev(&w, &ev, &e);
	CHECK_EQ(next_states(&e), BIT(SFO_FIN_WAIT_2));
	ev = sfo_ev_wait(60000);
	probe_ev(&w, &ev, &e);
	CHECK_EQ(next_states(&e), BIT(SFO_FIN_WAIT_2) | BIT(SFO_CLOSED));
	CHECK_EQ(JUDGE0(&w, &e, SFO_CLOSED), SFO_DIV_OK);
	CHECK_EQ(JUDGE(&w, &e, SFO_CLOSED, mkseg(SFO_RST | SFO_ACK, tnxt(&w), rnxt(&w), 0)),
		 SFO_DIV_OK);
	CHECK_STR(sfo_rule(e.out[w.which].state_rule)->id, "finwait2.timeout");
	/* only once orphaned: after shutdown() alone the state holds */
	w_init(&w, "rfc9293");
	w_goto(&w, SFO_ESTABLISHED);
	w_call(&w, SFO_CALL_SHUTDOWN, 0);
	w_in(&w, SFO_ACK, w.pnxt, tnxt(&w), 0);
	w.ocfg.profile = &fin2;
	probe_ev(&w, &ev, &e);
	CHECK_EQ(next_states(&e), BIT(SFO_FIN_WAIT_2));
}

/* 3.10.8: retransmitting past the user timeout may abort; SYN-RECEIVED of a passive OPEN
 * goes back to LISTEN */
static void user_timeout_may_abort(void)
{
	struct world w;
	struct sfo_expect e;
	at(&w, SFO_ESTABLISHED, "rfc9293");
	w_call(&w, SFO_CALL_SEND, 100);
	for (int i = 0; i < 6; i++)
		w_wait(&w, 15000);
	CHECK_EQ(w.diverged, 0);
	struct sfo_event ev = sfo_ev_wait(15000);
	probe_ev(&w, &ev, &e);
	CHECK_EQ(next_states(&e), BIT(SFO_ESTABLISHED) | BIT(SFO_CLOSED));
	CHECK_EQ(JUDGE0(&w, &e, SFO_CLOSED), SFO_DIV_OK);
	CHECK_STR(sfo_rule(e.out[w.which].state_rule)->id, "timeout.user");
	at(&w, SFO_SYN_RECEIVED, "rfc9293");
	ev = sfo_ev_wait(100000);
	probe_ev(&w, &ev, &e);
	CHECK_EQ(next_states(&e), BIT(SFO_SYN_RECEIVED) | BIT(SFO_LISTEN));
	CHECK_EQ(JUDGE0(&w, &e, SFO_LISTEN), SFO_DIV_OK);
	CHECK_EQ(JUDGE0(&w, &e, SFO_CLOSED), SFO_DIV_STATE);
}

/* 3.8.6.1 MUST-36: against a zero window the sender may probe with one octet */
static void zero_window_probe_allowed(void)
{
	struct world w;
	struct sfo_expect e;
	at(&w, SFO_ESTABLISHED, "rfc9293");
	w_in(&w, SFO_ACK, w.pnxt, tnxt(&w), 0); /* same numbers: no window update */
	w.ot.snd_wnd = 0;
	struct sfo_event ev = sfo_ev_call(SFO_CALL_SEND, 100);
	probe_ev(&w, &ev, &e);
	CHECK_EQ(JUDGE(&w, &e, SFO_ESTABLISHED, mkseg(SFO_ACK, tnxt(&w), rnxt(&w), 1)),
		 SFO_DIV_UNEXPECTED); /* nothing may go into a zero window on SEND */
	CHECK_EQ(o_ev(&w, ev, SFO_ESTABLISHED, NULL, 0), SFO_DIV_OK);
	ev = sfo_ev_wait(1000);
	probe_ev(&w, &ev, &e);
	CHECK_EQ(JUDGE0(&w, &e, SFO_ESTABLISHED), SFO_DIV_OK);
	CHECK_EQ(JUDGE(&w, &e, SFO_ESTABLISHED, mkseg(SFO_ACK, tnxt(&w), rnxt(&w), 1)), SFO_DIV_OK);
	CHECK_EQ(JUDGE(&w, &e, SFO_ESTABLISHED, mkseg(SFO_ACK, tnxt(&w) - 1, rnxt(&w), 0)),
		 SFO_DIV_OK);
	CHECK_EQ(JUDGE(&w, &e, SFO_ESTABLISHED, mkseg(SFO_ACK, tnxt(&w), rnxt(&w), 2)),
		 SFO_DIV_FIELD);
}

/* 3.8.6.2.1: sendable data held past the override timeout is a (SHOULD) divergence */
static void held_data_must_go_by_override_timeout(void)
{
	struct world w;
	struct sfo_expect e;
	at(&w, SFO_ESTABLISHED, "rfc9293");
	struct sfo_event ev = sfo_ev_call(SFO_CALL_SEND, 100);
	CHECK_EQ(o_ev(&w, ev, SFO_ESTABLISHED, NULL, 0), SFO_DIV_OK);
	ev = sfo_ev_wait(300);
	probe_ev(&w, &ev, &e);
	CHECK_EQ(JUDGE0(&w, &e, SFO_ESTABLISHED), SFO_DIV_OK);
	ev = sfo_ev_wait(5000);
	probe_ev(&w, &ev, &e);
	CHECK_EQ(JUDGE0(&w, &e, SFO_ESTABLISHED), SFO_DIV_MISSING);
	CHECK_STR(vrule(&w), "send.data.override");
	CHECK_EQ(w.v.sev, SFO_SEV_SHOULD);
}

/* 3.8.4 MAY-5, MUST-28: keep-alives only after two idle hours */
static void keepalive_only_after_two_hours(void)
{
	struct world w;
	struct sfo_expect e;
	struct sfo_seg ka;
	at(&w, SFO_ESTABLISHED, "rfc9293");
	ka = mkseg(SFO_ACK, tnxt(&w) - 1, rnxt(&w), 0);
	struct sfo_event ev = sfo_ev_wait(3600000);
	probe_ev(&w, &ev, &e);
	CHECK_EQ(judge(&w, &e, SFO_ESTABLISHED, &ka, 1), SFO_DIV_UNEXPECTED);
	ev = sfo_ev_wait(7200000);
	probe_ev(&w, &ev, &e);
	CHECK_EQ(judge(&w, &e, SFO_ESTABLISHED, &ka, 1), SFO_DIV_OK);
}

/* 3.10.8: time passing in CLOSED or LISTEN does nothing */
static void wait_in_closed_and_listen_is_quiet(void)
{
	struct world w;
	struct sfo_expect e;
	at(&w, SFO_LISTEN, "rfc9293");
	struct sfo_event ev = sfo_ev_wait(1000000);
	probe_ev(&w, &ev, &e);
	CHECK_EQ(next_states(&e), BIT(SFO_LISTEN));
	CHECK_EQ(JUDGE0(&w, &e, SFO_LISTEN), SFO_DIV_OK);
	CHECK_EQ(JUDGE(&w, &e, SFO_LISTEN, mkseg(SFO_RST, 0, 0, 0)), SFO_DIV_UNEXPECTED);
	CHECK_STR(vrule(&w), "wait.idle");
}

/* 3.8.1: data first sent during a wait may be retransmitted before the wait ends, as often
 * as the minimum RTO fits, and no more often */
static void wait_data_sent_and_resent_within_one_wait(void)
{
	struct world w;
	struct sfo_expect e;
	at(&w, SFO_ESTABLISHED, "rfc9293");
	w.ot.snd_wnd = 2; /* the peer's window admits two octets */
	CHECK_EQ(o_ev(&w, sfo_ev_call(SFO_CALL_SEND, 100), SFO_ESTABLISHED, NULL, 0), SFO_DIV_OK);
	struct sfo_seg d = mkseg(SFO_ACK, tnxt(&w), rnxt(&w), 2);
	struct sfo_event ev = sfo_ev_wait(450); /* rto_min 200: at most three copies */
	probe_ev(&w, &ev, &e);
	CHECK_EQ(JUDGE(&w, &e, SFO_ESTABLISHED, d, d, d), SFO_DIV_OK);
	CHECK_EQ(JUDGE(&w, &e, SFO_ESTABLISHED, d, d, d, d, d, d, d), SFO_DIV_UNEXPECTED);
	ev = sfo_ev_wait(150); /* shorter than the minimum RTO: one copy */
	probe_ev(&w, &ev, &e);
	CHECK_EQ(JUDGE(&w, &e, SFO_ESTABLISHED, d), SFO_DIV_OK);
	CHECK_EQ(JUDGE(&w, &e, SFO_ESTABLISHED, d, d, d), SFO_DIV_UNEXPECTED);
}

/* 3.8.1: a segment sent during a wait restarted the timer somewhere inside it: a resend
 * is early only if it comes before the minimum RTO from the wait's start */
static void rtx_timer_restarted_inside_wait(void)
{
	struct world w;
	struct sfo_expect e;
	at(&w, SFO_ESTABLISHED, "rfc9293");
	w.ot.snd_wnd = 0;
	CHECK_EQ(o_ev(&w, sfo_ev_call(SFO_CALL_SEND, 1), SFO_ESTABLISHED, NULL, 0), SFO_DIV_OK);
	struct sfo_seg probe1 = mkseg(SFO_ACK, tnxt(&w), rnxt(&w), 1);
	CHECK_EQ(o_ev(&w, sfo_ev_wait(4000), SFO_ESTABLISHED, &probe1, 1), SFO_DIV_OK);
	struct sfo_event ev = sfo_ev_wait(100);
	probe_ev(&w, &ev, &e);
	CHECK_EQ(judge(&w, &e, SFO_ESTABLISHED, &probe1, 1), SFO_DIV_OK);
	/* a probe sent on a call step (no time passing) starts the timer exactly */
	at(&w, SFO_ESTABLISHED, "rfc9293");
	CHECK_EQ(o_ev(&w, sfo_ev_call(SFO_CALL_SEND, 1), SFO_ESTABLISHED,
		      SEGS(mkseg(SFO_ACK, tnxt(&w), rnxt(&w), 1)), 1),
		 SFO_DIV_OK);
	probe1 = mkseg(SFO_ACK, tuna(&w), rnxt(&w), 1);
	probe_ev(&w, &ev, &e);
	CHECK_EQ(judge(&w, &e, SFO_ESTABLISHED, &probe1, 1), SFO_DIV_UNEXPECTED);
	CHECK_STR(vrule(&w), "rtx.early.data");
}

/* 3.8.6.1 SHLD-29: the first probe once the window has been zero for an RTO, counted
 * across waits */
static void zero_window_probe_across_waits(void)
{
	struct world w;
	struct sfo_expect e;
	at(&w, SFO_ESTABLISHED, "lwip"); /* rto_min 1000 */
	w.ot.snd_wnd = 0;
	w.ot.wnd_zero_ms = w.ot.now_ms;
	CHECK_EQ(o_ev(&w, sfo_ev_call(SFO_CALL_SEND, 1), SFO_ESTABLISHED, NULL, 0), SFO_DIV_OK);
	struct sfo_seg pr = mkseg(SFO_ACK, tnxt(&w), rnxt(&w), 1);
	struct sfo_event ev = sfo_ev_wait(500);
	probe_ev(&w, &ev, &e);
	CHECK_EQ(judge(&w, &e, SFO_ESTABLISHED, &pr, 1), SFO_DIV_UNEXPECTED);
	CHECK_EQ(o_ev(&w, ev, SFO_ESTABLISHED, NULL, 0), SFO_DIV_OK);
	probe_ev(&w, &ev, &e);
	CHECK_EQ(judge(&w, &e, SFO_ESTABLISHED, &pr, 1), SFO_DIV_OK);
}

int main(void)
{
	calls_table_each_call_in_each_state();
	send_data_bounded_by_queue();
	close_after_send_fin_follows_data();
	close_with_unread_data_fin_or_rst();
	close_in_synrcvd_with_queued_data_waits();
	receive_may_send_window_update();
	synsent_syn_retransmit_windows();
	established_data_retransmit_required();
	lastack_fin_retransmit_required();
	delayed_ack_deadline();
	timewait_2msl_expiry_and_restart();
	finwait2_timeout_per_profile();
	user_timeout_may_abort();
	zero_window_probe_allowed();
	held_data_must_go_by_override_timeout();
	keepalive_only_after_two_hours();
	wait_in_closed_and_listen_is_quiet();
	wait_data_sent_and_resent_within_one_wait();
	rtx_timer_restarted_inside_wait();
	zero_window_probe_across_waits();
	return check_done();
}
