/* Call results (RFC 9293 3.10.1-3.10.5, with the delayed responses of 3.10.7 and 3.10.8):
 * the set of results sfo_call_results() allows in each state, the branch it names, and
 * the end a reset, a refusal or a user timeout leaves in closed_err. */
#include "model_test.h"

#define E(x) (1u << SFO_ERR_##x)

static struct sfo_callres res_at(const struct world *w, enum sfo_call c)
{
	struct sfo_callres r;
	sfo_call_results(&w->ot, c, &r);
	return r;
}

static int allows(const struct world *w, enum sfo_call c, enum sfo_err e, uint32_t n)
{
	struct sfo_callres r = res_at(w, c);
	return sfo_callres_fits(&r, c, e, n);
}

static const char *rule_of(const struct world *w, enum sfo_call c)
{
	struct sfo_callres r = res_at(w, c);
	const struct sfo_rule_info *ri = sfo_rule(r.rule);
	return ri ? ri->id : "?";
}

/* RECEIVE: text or a wait before the peer's FIN, never the end of the stream; after it,
 * the end of the stream and never a wait. */
static void receive_eof_only_after_fin(void)
{
	static const enum sfo_state before_fin[] = {SFO_ESTABLISHED, SFO_FIN_WAIT_1,
						    SFO_FIN_WAIT_2};
	static const enum sfo_state after_fin[] = {SFO_CLOSE_WAIT, SFO_CLOSING, SFO_LAST_ACK,
						   SFO_TIME_WAIT};
	struct world w;
	for (size_t i = 0; i < sizeof before_fin / sizeof before_fin[0]; i++) {
		at(&w, before_fin[i], "rfc9293");
		CHECK(allows(&w, SFO_CALL_RECEIVE, SFO_ERR_EAGAIN, 0));
		CHECK(allows(&w, SFO_CALL_RECEIVE, SFO_ERR_OK, 10));
		CHECK(!allows(&w, SFO_CALL_RECEIVE, SFO_ERR_OK, 0)); /* end of stream */
		CHECK(!allows(&w, SFO_CALL_RECEIVE, SFO_ERR_ECONNRESET, 0));
		CHECK_STR(rule_of(&w, SFO_CALL_RECEIVE), "result.receive");
	}
	for (size_t i = 0; i < sizeof after_fin / sizeof after_fin[0]; i++) {
		at(&w, after_fin[i], "rfc9293");
		CHECK(allows(&w, SFO_CALL_RECEIVE, SFO_ERR_OK, 0));
		CHECK(allows(&w, SFO_CALL_RECEIVE, SFO_ERR_ENOTCONN, 0));
		CHECK(!allows(&w, SFO_CALL_RECEIVE, SFO_ERR_EAGAIN, 0));
		CHECK_STR(rule_of(&w, SFO_CALL_RECEIVE), "result.receive.closing");
	}
	/* before ESTABLISHED the RECEIVE is queued: a non-blocking one says EAGAIN */
	at(&w, SFO_SYN_SENT, "rfc9293");
	CHECK(allows(&w, SFO_CALL_RECEIVE, SFO_ERR_EAGAIN, 0));
	CHECK(!allows(&w, SFO_CALL_RECEIVE, SFO_ERR_OK, 0));
	CHECK_STR(rule_of(&w, SFO_CALL_RECEIVE), "result.receive.wait");
}

/* SEND: queued until CLOSE; "connection closing" after it (EPIPE). */
static void send_ok_until_close_then_closing(void)
{
	struct world w;
	at(&w, SFO_ESTABLISHED, "rfc9293");
	CHECK(allows(&w, SFO_CALL_SEND, SFO_ERR_OK, 100));
	CHECK(allows(&w, SFO_CALL_SEND, SFO_ERR_ENOBUFS, 0));
	CHECK(!allows(&w, SFO_CALL_SEND, SFO_ERR_EPIPE, 0));
	CHECK_STR(rule_of(&w, SFO_CALL_SEND), "result.send.queue");
	at(&w, SFO_CLOSE_WAIT, "rfc9293");
	CHECK(allows(&w, SFO_CALL_SEND, SFO_ERR_OK, 1));
	static const enum sfo_state closing[] = {SFO_FIN_WAIT_1, SFO_FIN_WAIT_2, SFO_CLOSING,
						 SFO_LAST_ACK, SFO_TIME_WAIT};
	for (size_t i = 0; i < sizeof closing / sizeof closing[0]; i++) {
		at(&w, closing[i], "rfc9293");
		CHECK(allows(&w, SFO_CALL_SEND, SFO_ERR_EPIPE, 0));
		CHECK(!allows(&w, SFO_CALL_SEND, SFO_ERR_OK, 10));
		CHECK(!allows(&w, SFO_CALL_SEND, SFO_ERR_EAGAIN, 0));
		CHECK_STR(rule_of(&w, SFO_CALL_SEND), "result.send.closing");
	}
	at(&w, SFO_LISTEN, "rfc9293");
	CHECK(allows(&w, SFO_CALL_SEND, SFO_ERR_EDESTADDRREQ, 0));
	CHECK(!allows(&w, SFO_CALL_SEND, SFO_ERR_OK, 10));
}

/* OPEN: ok in CLOSED (EINPROGRESS too for connect), "connection already exists" after. */
static void open_results(void)
{
	struct world w;
	at(&w, SFO_CLOSED, "rfc9293");
	CHECK(allows(&w, SFO_CALL_CONNECT, SFO_ERR_EINPROGRESS, 0));
	CHECK(allows(&w, SFO_CALL_CONNECT, SFO_ERR_OK, 0));
	CHECK(allows(&w, SFO_CALL_LISTEN, SFO_ERR_OK, 0));
	CHECK(!allows(&w, SFO_CALL_LISTEN, SFO_ERR_EINPROGRESS, 0));
	CHECK(!allows(&w, SFO_CALL_CONNECT, SFO_ERR_ECONNREFUSED, 0)); /* nothing to report */
	at(&w, SFO_SYN_SENT, "rfc9293");
	CHECK(allows(&w, SFO_CALL_CONNECT, SFO_ERR_EALREADY, 0));
	CHECK(!allows(&w, SFO_CALL_CONNECT, SFO_ERR_OK, 0));
	CHECK_STR(rule_of(&w, SFO_CALL_CONNECT), "result.open.exists");
	/* a passive connection: no connect() of ours to complete */
	at(&w, SFO_ESTABLISHED, "rfc9293");
	CHECK(allows(&w, SFO_CALL_CONNECT, SFO_ERR_EISCONN, 0));
	CHECK(!allows(&w, SFO_CALL_CONNECT, SFO_ERR_OK, 0));
	CHECK(allows(&w, SFO_CALL_LISTEN, SFO_ERR_EINVAL, 0));
}

/* CLOSE and ABORT: ok where the RFC returns; "does not exist" in CLOSED, which close(2)
 * cannot say (ok allowed), shutdown(2) can (ENOTCONN, not ok). */
static void close_abort_results(void)
{
	struct world w;
	at(&w, SFO_ESTABLISHED, "rfc9293");
	CHECK(allows(&w, SFO_CALL_CLOSE, SFO_ERR_OK, 0));
	CHECK(!allows(&w, SFO_CALL_CLOSE, SFO_ERR_ENOTCONN, 0));
	CHECK(allows(&w, SFO_CALL_ABORT, SFO_ERR_OK, 0));
	CHECK(!allows(&w, SFO_CALL_ABORT, SFO_ERR_ECONNRESET, 0));
	at(&w, SFO_LAST_ACK, "rfc9293");
	CHECK(allows(&w, SFO_CALL_CLOSE, SFO_ERR_ENOTCONN, 0));
	CHECK_STR(rule_of(&w, SFO_CALL_CLOSE), "result.close.closing");
	at(&w, SFO_CLOSED, "rfc9293");
	CHECK(allows(&w, SFO_CALL_CLOSE, SFO_ERR_OK, 0));
	CHECK(!allows(&w, SFO_CALL_SHUTDOWN, SFO_ERR_OK, 0));
	CHECK(allows(&w, SFO_CALL_SHUTDOWN, SFO_ERR_ENOTCONN, 0));
	CHECK_STR(rule_of(&w, SFO_CALL_SHUTDOWN), "result.noconn");
}

/* A RST in ESTABLISHED leaves "connection reset" for the next calls (3.10.7.4); a RST in
 * SYN-SENT the refusal (3.10.7.3); a user timeout ETIMEDOUT (3.10.8); the user's own
 * ABORT nothing. A new OPEN forgets it. */
static void ends_leave_their_error(void)
{
	struct world w;
	at(&w, SFO_ESTABLISHED, "rfc9293");
	CHECK(!allows(&w, SFO_CALL_RECEIVE, SFO_ERR_ECONNRESET, 0));
	w_in(&w, SFO_RST, w.pnxt, 0, 0);
	CHECK_EQ(w.ot.state, SFO_CLOSED);
	CHECK_EQ(w.ot.closed_err, SFO_ERR_ECONNRESET);
	CHECK(allows(&w, SFO_CALL_RECEIVE, SFO_ERR_ECONNRESET, 0));
	CHECK(allows(&w, SFO_CALL_SEND, SFO_ERR_ECONNRESET, 0));
	CHECK(allows(&w, SFO_CALL_SEND, SFO_ERR_EPIPE, 0));
	CHECK(!allows(&w, SFO_CALL_SEND, SFO_ERR_ECONNREFUSED, 0));
	CHECK(!allows(&w, SFO_CALL_SEND, SFO_ERR_OK, 5));
	w_wait(&w, 10); /* time in CLOSED keeps it */
	CHECK_EQ(w.ot.closed_err, SFO_ERR_ECONNRESET);
	w_call(&w, SFO_CALL_LISTEN, 0);
	CHECK_EQ(w.ot.closed_err, 0);

	at(&w, SFO_SYN_SENT, "rfc9293");
	w_in(&w, SFO_RST | SFO_ACK, 0, tnxt(&w), 0);
	CHECK_EQ(w.ot.state, SFO_CLOSED);
	CHECK_EQ(w.ot.closed_err, SFO_ERR_ECONNREFUSED);
	CHECK(allows(&w, SFO_CALL_CONNECT, SFO_ERR_ECONNREFUSED, 0));
	CHECK(allows(&w, SFO_CALL_RECEIVE, SFO_ERR_ECONNREFUSED, 0));
	CHECK(!allows(&w, SFO_CALL_RECEIVE, SFO_ERR_ETIMEDOUT, 0));

	/* a half-close in SYN-SENT cancels the OPEN: "error: closing" (3.10.4) */
	at(&w, SFO_SYN_SENT, "rfc9293");
	w_call(&w, SFO_CALL_SHUTDOWN, 0);
	CHECK_EQ(w.ot.state, SFO_CLOSED);
	CHECK_EQ(w.ot.closed_err, SFO_ERR_ECONNRESET);
	at(&w, SFO_SYN_SENT, "rfc9293");
	w_call(&w, SFO_CALL_CLOSE, 0);
	CHECK_EQ(w.ot.closed_err, 0);

	at(&w, SFO_ESTABLISHED, "rfc9293");
	w_call(&w, SFO_CALL_ABORT, 0);
	CHECK_EQ(w.ot.state, SFO_CLOSED);
	CHECK_EQ(w.ot.closed_err, 0);
	CHECK(!allows(&w, SFO_CALL_RECEIVE, SFO_ERR_ECONNRESET, 0));

	/* SYN-SENT unanswered until the user timeout: the outcome that gives up (a stack
	 * may, the model's stack mode keeps trying) leaves ETIMEDOUT */
	at(&w, SFO_SYN_SENT, "rfc9293");
	struct sfo_event ev = sfo_ev_wait(600000);
	struct sfo_expect e;
	int found = 0;
	sfo_step(&w.ot, &w.ocfg, &ev, &e);
	for (unsigned k = 0; k < e.nout; k++) {
		if (e.out[k].next.state != SFO_CLOSED)
			continue;
		found = 1;
		CHECK_EQ(e.out[k].next.closed_err, SFO_ERR_ETIMEDOUT);
		sfo_commit(&w.ot, &e.out[k], NULL, 0);
	}
	CHECK(found);
	CHECK(allows(&w, SFO_CALL_SEND, SFO_ERR_ETIMEDOUT, 0));
	CHECK(allows(&w, SFO_CALL_SEND, SFO_ERR_ECONNABORTED, 0));
	CHECK(!allows(&w, SFO_CALL_SEND, SFO_ERR_ECONNRESET, 0));
}

/* An error the target cannot name fits wherever some error is allowed, never where only
 * success is; names and parsing agree. */
static void unnamed_errors_and_names(void)
{
	struct world w;
	at(&w, SFO_ESTABLISHED, "rfc9293");
	CHECK(!allows(&w, SFO_CALL_CLOSE, SFO_ERR_ERROR, 0));
	CHECK(allows(&w, SFO_CALL_SEND, SFO_ERR_ERROR, 0)); /* insufficient resources */
	for (int e = 1; e < SFO_ERR_ERROR; e++) {
		const char *n = sfo_err_name((enum sfo_err)e);
		CHECK_EQ(sfo_err_parse(n, strlen(n)), e);
	}
	CHECK_EQ(sfo_err_parse("ewouldblock", 11), SFO_ERR_EAGAIN);
	CHECK_EQ(sfo_err_parse("ok", 2), -1);
	CHECK_EQ(sfo_err_parse("EOF", 3), -1);
	CHECK_EQ(sfo_err_parse("ERROR", 5), -1);
	char buf[128];
	struct sfo_callres r = res_at(&w, SFO_CALL_RECEIVE);
	sfo_callres_format(&r, SFO_CALL_RECEIVE, buf, sizeof buf);
	CHECK_STR(buf, "octets EAGAIN ENOBUFS");
}

int main(void)
{
	receive_eof_only_after_fin();
	send_ok_until_close_then_closing();
	open_results();
	close_abort_results();
	ends_leave_their_error();
	unnamed_errors_and_names();
	return check_done();
}
