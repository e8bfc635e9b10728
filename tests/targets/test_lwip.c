/* The lwip target through its vtable, with segments built by sfh_wire_build: the
 * handshake both ways, data, every close sequence, lwIP's timers on virtual time (the
 * figures oracle/profile_lwip.c states), deterministic ISNs, resets that leave no pcb,
 * and one instance per process. Each test reads as state_event_expectation. */
#include <malloc.h>
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "lwip/priv/tcp_priv.h"
#include "target.h"
#include "target_lwip.h"
#include "wire.h"

#define PISN   1000u
#define MAXOUT 64

struct fx {
	struct sfh_target *t;
	struct sfh_wire *w;
	struct sfh_endpoints ep;
	uint32_t case_no;
	uint32_t tisn; /* the ISN lwIP used (learnt from its SYN or SYN-ACK) */
	uint32_t pnxt; /* the peer's next sequence number */
	struct sfo_seg out[MAXOUT];
	int nout; /* segments emitted by the last step */
};

static uint32_t expected_iss(uint32_t case_no)
{
	return 0x5eed0000u ^ (case_no * 0x01000193u);
}

/* Collect everything the target emitted since the last step. */
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
	CHECK_EQ(sfh_target_inject(f->t, buf, (size_t)n), 0);
	f->pnxt = seq + sfo_seg_space(&s);
	collect(f);
}

static void call(struct fx *f, enum sfo_call c, uint32_t arg, int expect_ret)
{
	CHECK_EQ(sfh_target_call(f->t, c, arg), expect_ret);
	collect(f);
}

static void wait_ms(struct fx *f, uint32_t ms)
{
	CHECK_EQ(sfh_target_advance(f->t, ms), 0);
	collect(f);
}

static enum sfo_state state(struct fx *f)
{
	enum sfo_state st = SFO_STATE_UNKNOWN;
	CHECK_EQ(sfh_target_state(f->t, &st), 0);
	return st;
}

#define CHECK_STATE(f, s) CHECK_STR(sfo_state_name(state(f)), sfo_state_name(s))
#define CHECK_OUT(f, i, fl, sq, ak, ln)                                                            \
	do {                                                                                       \
		CHECK((f)->nout > (i));                                                            \
		CHECK_EQ((f)->out[i].flags & ~SFO_PSH, (fl));                                      \
		CHECK_EQ((f)->out[i].seq, (sq));                                                   \
		CHECK_EQ((f)->out[i].ack, (ak));                                                   \
		CHECK_EQ((f)->out[i].len, (ln));                                                   \
	} while (0)

static size_t count(struct tcp_pcb *p)
{
	size_t n = 0;
	for (; p; p = p->next)
		n++;
	return n;
}

static size_t listeners(void)
{
	size_t n = 0;
	for (struct tcp_pcb_listen *l = tcp_listen_pcbs.listen_pcbs; l; l = l->next)
		n++;
	return n;
}

static void begin(struct fx *f, enum sfh_role role)
{
	f->case_no++;
	CHECK_EQ(sfh_target_reset(f->t, role, f->case_no, &f->ep), 0);
	f->pnxt = PISN;
	f->tisn = 0;
	collect(f);
	CHECK_EQ(f->nout, 0);
}

/* Passive open up to ESTABLISHED. */
static void establish_passive(struct fx *f)
{
	begin(f, SFH_ROLE_PASSIVE);
	in(f, SFO_SYN, PISN, 0, 0);
	CHECK_EQ(f->nout, 1);
	f->tisn = f->out[0].seq;
	in(f, SFO_ACK, PISN + 1, f->tisn + 1, 0);
	CHECK_STATE(f, SFO_ESTABLISHED);
}

static void passive_syn_answers_synack_then_ack_establishes(struct fx *f)
{
	begin(f, SFH_ROLE_PASSIVE);
	CHECK_STATE(f, SFO_LISTEN);
	CHECK_EQ(f->ep.target_ip, 0xc0000201u);
	CHECK_EQ(f->ep.peer_ip, 0xc0000202u);
	in(f, SFO_SYN, PISN, 0, 0);
	CHECK_EQ(f->nout, 1);
	/* tcp_next_iss is ours: the ISN is the case's, not lwIP's 6510 + tcp_ticks */
	CHECK_OUT(f, 0, SFO_SYN | SFO_ACK, expected_iss(f->case_no), PISN + 1, 0);
	CHECK(f->out[0].opts & SFO_OPT_MSS);
	CHECK_STATE(f, SFO_SYN_RECEIVED);
	CHECK_EQ(listeners(), 1);
	in(f, SFO_ACK, PISN + 1, expected_iss(f->case_no) + 1, 0);
	CHECK_EQ(f->nout, 0);
	CHECK_STATE(f, SFO_ESTABLISHED);
	/* accepted: the listener is gone, the case has one TCB */
	CHECK_EQ(listeners(), 0);
	CHECK_EQ(count(tcp_active_pcbs), 1);
}

static void active_connect_sends_syn_then_synack_establishes(struct fx *f)
{
	begin(f, SFH_ROLE_ACTIVE);
	CHECK_STATE(f, SFO_CLOSED);
	call(f, SFO_CALL_CONNECT, 0, 0);
	CHECK_EQ(f->nout, 1);
	CHECK_OUT(f, 0, SFO_SYN, expected_iss(f->case_no), 0, 0);
	CHECK(f->out[0].opts & SFO_OPT_MSS);
	CHECK_STATE(f, SFO_SYN_SENT);
	f->tisn = f->out[0].seq;
	in(f, SFO_SYN | SFO_ACK, PISN, f->tisn + 1, 0);
	CHECK_EQ(f->nout, 1);
	CHECK_OUT(f, 0, SFO_ACK, f->tisn + 1, PISN + 1, 0);
	CHECK_STATE(f, SFO_ESTABLISHED);
	/* a second CONNECT on the same case is refused, with no effect */
	call(f, SFO_CALL_CONNECT, 0, 0);
	CHECK_EQ(f->nout, 0);
	CHECK_EQ(count(tcp_active_pcbs), 1);
}

static void established_send_and_receive_move_data_and_window(struct fx *f)
{
	establish_passive(f);
	call(f, SFO_CALL_SEND, 100, 100);
	CHECK_EQ(f->nout, 1);
	CHECK_OUT(f, 0, SFO_ACK, f->tisn + 1, PISN + 1, 100);
	in(f, SFO_ACK, PISN + 1, f->tisn + 101, 0);
	CHECK_EQ(f->nout, 0);
	/* data in: the ACK is delayed to the next 250 ms tick */
	in(f, SFO_ACK | SFO_PSH, PISN + 1, f->tisn + 101, 300);
	CHECK_EQ(f->nout, 0);
	wait_ms(f, 250);
	CHECK_EQ(f->nout, 1);
	CHECK_OUT(f, 0, SFO_ACK, f->tisn + 101, PISN + 301, 0);
	/* unread data keeps the window closed by as much (no window scaling: the peer
	 * offered none) */
	CHECK_EQ(f->out[0].wnd, 65535 - 300);
	call(f, SFO_CALL_RECEIVE, 100, 100);
	call(f, SFO_CALL_RECEIVE, 0, 200);
	call(f, SFO_CALL_RECEIVE, 0, 0);
	/* a huge SEND is cut at tcp_sndbuf: TCP_SND_BUF is 65535, all of it free now */
	CHECK_EQ(sfh_target_call(f->t, SFO_CALL_SEND, 1000000), 65535);
	collect(f);
	CHECK(f->nout >= 1);
	CHECK_EQ(f->out[0].seq, f->tisn + 101);
	CHECK_STATE(f, SFO_ESTABLISHED);
}

static void established_close_then_ack_fin_reach_fin_wait_2_and_time_wait(struct fx *f)
{
	establish_passive(f);
	call(f, SFO_CALL_CLOSE, 0, 0);
	CHECK_EQ(f->nout, 1);
	CHECK_OUT(f, 0, SFO_FIN | SFO_ACK, f->tisn + 1, PISN + 1, 0);
	CHECK_STATE(f, SFO_FIN_WAIT_1);
	in(f, SFO_ACK, PISN + 1, f->tisn + 2, 0);
	CHECK_STATE(f, SFO_FIN_WAIT_2);
	in(f, SFO_FIN | SFO_ACK, PISN + 1, f->tisn + 2, 0);
	CHECK_EQ(f->nout, 1);
	CHECK_OUT(f, 0, SFO_ACK, f->tisn + 2, PISN + 2, 0);
	CHECK_STATE(f, SFO_TIME_WAIT);
	CHECK_EQ(count(tcp_tw_pcbs), 1);
	/* 2MSL = 2 x TCP_MSL (60 s): still there at 120 s, gone within the next slow tick */
	wait_ms(f, 120000);
	CHECK_STATE(f, SFO_TIME_WAIT);
	wait_ms(f, 1000);
	CHECK_STATE(f, SFO_CLOSED);
	CHECK_EQ(f->nout, 0);
	CHECK_EQ(count(tcp_tw_pcbs), 0);
}

static void established_fin_then_close_reach_close_wait_and_last_ack(struct fx *f)
{
	establish_passive(f);
	in(f, SFO_FIN | SFO_ACK, PISN + 1, f->tisn + 1, 0);
	CHECK_EQ(f->nout, 1);
	CHECK_OUT(f, 0, SFO_ACK, f->tisn + 1, PISN + 2, 0);
	CHECK_STATE(f, SFO_CLOSE_WAIT);
	call(f, SFO_CALL_CLOSE, 0, 0);
	CHECK_EQ(f->nout, 1);
	CHECK_OUT(f, 0, SFO_FIN | SFO_ACK, f->tisn + 1, PISN + 2, 0);
	CHECK_STATE(f, SFO_LAST_ACK);
	in(f, SFO_ACK, PISN + 2, f->tisn + 2, 0);
	CHECK_EQ(f->nout, 0);
	CHECK_STATE(f, SFO_CLOSED);
	CHECK_EQ(count(tcp_active_pcbs), 0);
}

static void fin_wait_1_fin_reaches_closing_then_time_wait(struct fx *f)
{
	establish_passive(f);
	call(f, SFO_CALL_SHUTDOWN, 0, 0);
	CHECK_OUT(f, 0, SFO_FIN | SFO_ACK, f->tisn + 1, PISN + 1, 0);
	CHECK_STATE(f, SFO_FIN_WAIT_1);
	in(f, SFO_FIN | SFO_ACK, PISN + 1, f->tisn + 1, 0); /* FIN that does not ack ours */
	CHECK_EQ(f->nout, 1);
	CHECK_OUT(f, 0, SFO_ACK, f->tisn + 2, PISN + 2, 0);
	CHECK_STATE(f, SFO_CLOSING);
	in(f, SFO_ACK, PISN + 2, f->tisn + 2, 0);
	CHECK_STATE(f, SFO_TIME_WAIT);
}

static void shutdown_keeps_receiving_in_fin_wait_2(struct fx *f)
{
	establish_passive(f);
	call(f, SFO_CALL_SHUTDOWN, 0, 0);
	in(f, SFO_ACK, PISN + 1, f->tisn + 2, 0);
	CHECK_STATE(f, SFO_FIN_WAIT_2);
	in(f, SFO_ACK, PISN + 1, f->tisn + 2, 10);
	call(f, SFO_CALL_RECEIVE, 0, 10);
	/* half-close: FIN-WAIT-2 after shutdown never times out in lwIP */
	wait_ms(f, 60000);
	CHECK_STATE(f, SFO_FIN_WAIT_2);
}

static void syn_received_wait_retransmits_synack(struct fx *f)
{
	begin(f, SFH_ROLE_PASSIVE);
	in(f, SFO_SYN, PISN, 0, 0);
	CHECK_EQ(f->nout, 1);
	uint32_t iss = f->out[0].seq;
	wait_ms(f, 2500);
	CHECK_EQ(f->nout, 0); /* initial RTO is 3 s on a 500 ms grid: not before 2.5 s */
	wait_ms(f, 2500);
	CHECK_EQ(f->nout, 1);
	CHECK_OUT(f, 0, SFO_SYN | SFO_ACK, iss, PISN + 1, 0);
	CHECK_STATE(f, SFO_SYN_RECEIVED);
}

static void syn_received_rst_returns_to_listen(struct fx *f)
{
	begin(f, SFH_ROLE_PASSIVE);
	in(f, SFO_SYN, PISN, 0, 0);
	in(f, SFO_RST, PISN + 1, 0, 0);
	CHECK_EQ(f->nout, 0);
	CHECK_STATE(f, SFO_LISTEN);
}

/* lwIP gives the application a passive connection only once it is established: before
 * that, SEND finds no connection, and CLOSE, SHUTDOWN and ABORT cannot name it (RFC 9293
 * §3.9.1): they are refused and leave the listener and the embryo alone. After
 * tcp_close the pcb is lwIP's: the same calls are refused then too. */
static void syn_received_calls_act_on_the_listener_only(struct fx *f)
{
	begin(f, SFH_ROLE_PASSIVE);
	in(f, SFO_SYN, PISN, 0, 0);
	f->tisn = f->out[0].seq;
	call(f, SFO_CALL_SEND, 100, 0);
	CHECK_EQ(f->nout, 0);
	call(f, SFO_CALL_CLOSE, 0, SFH_CALL_REFUSED);
	call(f, SFO_CALL_SHUTDOWN, 0, SFH_CALL_REFUSED);
	call(f, SFO_CALL_ABORT, 0, SFH_CALL_REFUSED);
	CHECK_EQ(f->nout, 0);
	CHECK_STATE(f, SFO_SYN_RECEIVED);
	in(f, SFO_ACK, PISN + 1, f->tisn + 1, 0);
	CHECK_EQ(f->nout, 0); /* the handshake completes untouched */
	CHECK_STATE(f, SFO_ESTABLISHED);
	CHECK_EQ(listeners(), 0);
	call(f, SFO_CALL_CLOSE, 0, 0);
	CHECK_EQ(f->nout, 1);
	CHECK_STATE(f, SFO_FIN_WAIT_1);
	call(f, SFO_CALL_ABORT, 0, SFH_CALL_REFUSED);
	call(f, SFO_CALL_CLOSE, 0, SFH_CALL_REFUSED);
	CHECK_EQ(f->nout, 0);
	CHECK_STATE(f, SFO_FIN_WAIT_1);
}

static void established_abort_sends_rst_and_closes(struct fx *f)
{
	establish_passive(f);
	call(f, SFO_CALL_ABORT, 0, 0);
	CHECK_EQ(f->nout, 1);
	CHECK_EQ(f->out[0].flags & SFO_RST, SFO_RST);
	CHECK_EQ(f->out[0].seq, f->tisn + 1);
	CHECK_STATE(f, SFO_CLOSED);
}

/* A connection that is gone, then a passive OPEN: the new listener stays (settle() once
 * closed it at once, because the application still seemed to hold a connection). */
static void closed_after_connect_listen_keeps_the_listener(struct fx *f)
{
	begin(f, SFH_ROLE_ACTIVE);
	call(f, SFO_CALL_CONNECT, 0, 0);
	CHECK_STATE(f, SFO_SYN_SENT);
	call(f, SFO_CALL_CLOSE, 0, 0);
	CHECK_STATE(f, SFO_CLOSED);
	call(f, SFO_CALL_LISTEN, 0, 0);
	CHECK_STATE(f, SFO_LISTEN);
	CHECK_EQ(listeners(), 1);
	in(f, SFO_SYN, PISN, 0, 0);
	CHECK_EQ(f->nout, 1);
	CHECK_STATE(f, SFO_SYN_RECEIVED);
}

static void any_state_reset_leaves_no_pcb(struct fx *f)
{
	/* leave a TIME-WAIT, a SYN-RECEIVED and an owed delayed ACK behind, then reset */
	establish_passive(f);
	call(f, SFO_CALL_CLOSE, 0, 0);
	in(f, SFO_FIN | SFO_ACK, PISN + 1, f->tisn + 2, 0);
	CHECK_STATE(f, SFO_TIME_WAIT);
	begin(f, SFH_ROLE_PASSIVE);
	in(f, SFO_SYN, PISN, 0, 0);
	CHECK_STATE(f, SFO_SYN_RECEIVED);
	begin(f, SFH_ROLE_ACTIVE); /* begin() checks nothing was emitted by the reset */
	CHECK_EQ(count(tcp_active_pcbs), 0);
	CHECK_EQ(count(tcp_tw_pcbs), 0);
	CHECK_EQ(count(tcp_bound_pcbs), 0);
	CHECK_EQ(listeners(), 0);
	establish_passive(f);
	in(f, SFO_ACK, PISN + 1, f->tisn + 1, 10); /* delayed ACK owed */
	begin(f, SFH_ROLE_PASSIVE);
	CHECK_EQ(count(tcp_active_pcbs), 0);
	CHECK_EQ(count(tcp_tw_pcbs), 0);
	CHECK_EQ(listeners(), 1); /* the new case's own listener */
}

static void iss_argument_fixes_the_isn(void)
{
	char err[256];
	struct sfh_target *t = NULL;
	CHECK_EQ(sfh_target_open("lwip:iss=0xfffffff0", &t, err, sizeof err), 0);
	struct sfh_endpoints ep;
	CHECK_EQ(sfh_target_reset(t, SFH_ROLE_ACTIVE, 7, &ep), 0);
	CHECK_EQ(sfh_target_call(t, SFO_CALL_CONNECT, 0), 0);
	struct sfh_pkt pk[4];
	CHECK_EQ(sfh_target_drain(t, pk, 4), 1);
	struct sfo_seg s;
	CHECK_EQ(sfh_wire_parse(pk[0].data, pk[0].len, &ep, &s, NULL), 0);
	CHECK_EQ(s.seq, 0xfffffff0u);
	sfh_target_close(t);
	CHECK_EQ(sfh_target_open("lwip:bogus", &t, err, sizeof err), -1);
	CHECK(strstr(err, "bogus") != NULL);
}

static void second_instance_is_refused(struct fx *f)
{
	char err[256] = "";
	struct sfh_target *t2 = NULL;
	CHECK_EQ(sfh_target_open("lwip", &t2, err, sizeof err), -1);
	CHECK(t2 == NULL);
	CHECK(strstr(err, "another lwip instance") != NULL);
	(void)f;
}

/* One handshake + FIN close per case; the loop must leave nothing behind. */
static void one_case(struct fx *f)
{
	establish_passive(f);
	call(f, SFO_CALL_CLOSE, 0, 0);
	in(f, SFO_ACK, PISN + 1, f->tisn + 2, 0);
	in(f, SFO_FIN | SFO_ACK, PISN + 1, f->tisn + 2, 0);
}

static void many_cases_leave_no_pcbs_and_no_growth(struct fx *f)
{
	for (int i = 0; i < 1000; i++)
		one_case(f);
	size_t before = mallinfo2().uordblks;
	for (int i = 0; i < 10000; i++)
		one_case(f);
	CHECK_STATE(f, SFO_TIME_WAIT);
	begin(f, SFH_ROLE_ACTIVE);
	size_t after = mallinfo2().uordblks;
	CHECK_EQ(count(tcp_active_pcbs), 0);
	CHECK_EQ(count(tcp_tw_pcbs), 0);
	CHECK_EQ(listeners(), 0);
	/* under ASan mallinfo2 reports nothing (both 0); LSan checks leaks at exit */
	CHECK(after <= before + 4096);
	printf("heap in use: %zu before, %zu after 10000 cases\n", before, after);
}

int main(void)
{
	char err[256];
	struct fx f;
	memset(&f, 0, sizeof f);
	CHECK_EQ(sfh_target_open("lwip", &f.t, err, sizeof err), 0);
	f.w = sfh_wire_new(err, sizeof err);
	CHECK(f.w != NULL);
	if (!f.t || !f.w) {
		fprintf(stderr, "setup: %s\n", err);
		return 1;
	}
	CHECK_STR(f.t->ops->version(), "lwIP 2.1.3");
	passive_syn_answers_synack_then_ack_establishes(&f);
	active_connect_sends_syn_then_synack_establishes(&f);
	established_send_and_receive_move_data_and_window(&f);
	established_close_then_ack_fin_reach_fin_wait_2_and_time_wait(&f);
	established_fin_then_close_reach_close_wait_and_last_ack(&f);
	fin_wait_1_fin_reaches_closing_then_time_wait(&f);
	shutdown_keeps_receiving_in_fin_wait_2(&f);
	syn_received_wait_retransmits_synack(&f);
	syn_received_rst_returns_to_listen(&f);
	syn_received_calls_act_on_the_listener_only(&f);
	established_abort_sends_rst_and_closes(&f);
	closed_after_connect_listen_keeps_the_listener(&f);
	any_state_reset_leaves_no_pcb(&f);
	second_instance_is_refused(&f);
	many_cases_leave_no_pcbs_and_no_growth(&f);
	sfh_target_close(f.t);
	iss_argument_fixes_the_isn();
	sfh_wire_free(f.w);
	return check_done();
}
