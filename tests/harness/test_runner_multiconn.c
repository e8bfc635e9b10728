/* The runner with a listener apart from its connections (scenarios with selectors), on
 * the model and lwip targets: per-connection anchors, segments, states and assertions;
 * closing the listener; a second connection; TIME-WAIT reuse; a target without the
 * capability refusing clearly; and scenarios without selectors untouched (one TCB). */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "runner.h"

static struct sfh_runner *runner;

/* Every step the runner judged: the rules of the outcome that fit, the segment fed in. */
struct steps {
	int n;
	char rules[64][8][40];
	int nrules[64];
	struct sfo_seg seg[64];
	int is_seg[64];
};

static void on_step(void *ctx, const struct sfh_step *st)
{
	struct steps *s = ctx;
	if (s->n >= 64)
		return;
	const struct sfo_outcome *o = st->which >= 0 ? &st->expect->out[st->which] : NULL;
	s->nrules[s->n] = 0;
	for (unsigned i = 0; o && i < o->nrules && i < 8; i++)
		snprintf(s->rules[s->n][s->nrules[s->n]++], 40, "%s", sfo_rule(o->rules[i])->id);
	s->is_seg[s->n] = st->ev->kind == SFO_EV_SEGMENT;
	if (s->is_seg[s->n])
		s->seg[s->n] = st->ev->u.seg;
	s->n++;
}

static int fired(const struct steps *s, const char *id)
{
	for (int i = 0; i < s->n; i++)
		for (int j = 0; j < s->nrules[i]; j++)
			if (strcmp(s->rules[i][j], id) == 0)
				return 1;
	return 0;
}

static int run_on(struct sfh_target *t, const char *text, uint32_t case_no, struct sfh_result *res,
		  struct steps *st)
{
	struct sfh_scenario s;
	char err[256];
	struct sfh_run_opts o = {.case_no = case_no, .step = st ? on_step : NULL, .step_ctx = st};
	if (st)
		memset(st, 0, sizeof *st);
	if (sfh_scn_parse(text, strlen(text), "inline.scn", &s, err, sizeof err) != 0) {
		fprintf(stderr, "parse: %s\n", err);
		return -2;
	}
	return sfh_run(runner, t, &s, &o, res);
}

static int run_text(const char *spec, const char *text, struct sfh_result *res, struct steps *st)
{
	struct sfh_target *t;
	char err[256];
	if (sfh_target_open(spec, &t, err, sizeof err) != 0) {
		fprintf(stderr, "open %s: %s\n", spec, err);
		return -2;
	}
	int rc = run_on(t, text, 3, res, st);
	sfh_target_close(t);
	return rc;
}

static const char two_conns[] = "role passive\n"
				"in S seq=pisn conn=1\n"
				"out S. ack=pisn+1 conn=1\n"
				"in S seq=pisn conn=2\n"
				"out S. ack=pisn+1 conn=2\n"
				"expect state SYN-RECEIVED conn=1\n"
				"expect state SYN-RECEIVED conn=2\n"
				"expect state LISTEN listener\n"
				"in . conn=2\n"
				"expect state ESTABLISHED conn=2\n"
				"expect state SYN-RECEIVED conn=1\n";

/* Each connection has its own 4-tuple and its own anchors: the second SYN starts from its
 * own pisn, and each SYN,ACK acknowledges its own; the listener stays in LISTEN. */
static void two_connections_are_apart(const char *spec)
{
	struct sfh_result res;
	struct steps st;
	CHECK_EQ(run_text(spec, two_conns, &res, &st), 0);
	CHECK_EQ(res.verdict.kind, SFO_DIV_OK);
	CHECK_EQ(res.assert_failed, 0);
	CHECK(st.n >= 4 && st.is_seg[1] && st.is_seg[2]);
	CHECK_EQ(st.seg[1].seq, SFH_DEFAULT_PISN);
	CHECK_EQ(st.seg[2].seq, SFH_DEFAULT_PISN + 0x10000000u);
	/* the wrong connection's numbers, or the wrong connection, fail */
	static const char *const bad[] = {
	    "role passive\nin S seq=pisn conn=1\nin S seq=pisn conn=2\nout S. ack=pisn+1 conn=1\n",
	    "role passive\nin S conn=1\nin S conn=2\nexpect state ESTABLISHED conn=2\n",
	    "role passive\nin S conn=1\nexpect state SYN-RECEIVED conn=2\n",
	    "role passive\nin S conn=1\nexpect state CLOSED listener\n",
	    "role passive\nin S conn=1\nout S. ack=pisn+1 conn=2\n",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		CHECK_EQ(run_text(spec, bad[i], &res, NULL), 0);
		if (!res.assert_failed)
			fprintf(stderr, "%s: not caught: %s", spec, bad[i]);
		CHECK_EQ(res.assert_failed, 1);
	}
}

/* The listener closed under a connection nobody accepted: the model allows the stack's
 * choice, and what follows is judged by it (the model target resets at once; lwIP keeps
 * the embryo and resets it when the handshake completes). */
static void closing_the_listener_orphans(const char *spec, const char *rule)
{
	struct sfh_result res;
	struct steps st;
	static const char text[] = "role passive\n"
				   "in S conn=1\n"
				   "call close listener\n"
				   "expect state CLOSED listener\n"
				   "in . seq=pisn+1 ack=tisn+1 conn=1\n"
				   "expect state CLOSED conn=1\n"
				   "in S conn=2\n"
				   "out R. ack=pisn+1 conn=2\n";
	CHECK_EQ(run_text(spec, text, &res, &st), 0);
	if (res.verdict.kind != SFO_DIV_OK)
		fprintf(stderr, "%s: %s: %s\n", spec, res.signature, res.verdict.detail);
	CHECK_EQ(res.verdict.kind, SFO_DIV_OK);
	CHECK(fired(&st, "call.close.listen"));
	CHECK(fired(&st, rule));
}

/* A SYN above RCV.NXT on a 4-tuple in TIME-WAIT: reopened where the profile says the
 * stack does (linux), else what the ordered checks say; both judged conformant. */
static void timewait_reuse(void)
{
	static const char text[] = "role passive\n"
				   "in S conn=1\n"
				   "in . conn=1\n"
				   "call close conn=1\n"
				   "in . conn=1\n"
				   "in F. conn=1\n"
				   "expect state TIME-WAIT conn=1\n"
				   "in S seq=pnxt+100000 conn=1\n"
				   "out S. ack=pisn+1 conn=1\n"
				   "in . seq=pisn+1 ack=tisn+1 conn=1\n"
				   "expect state ESTABLISHED conn=1\n";
	struct sfh_target *t;
	struct sfh_result res;
	struct steps st;
	struct sfh_scenario s;
	char err[256];
	CHECK_EQ(sfh_target_open("model", &t, err, sizeof err), 0);
	CHECK_EQ(sfh_scn_parse(text, strlen(text), "tw.scn", &s, err, sizeof err), 0);
	struct sfh_run_opts o = {
	    .profile = sfo_profile_find("linux"), .step = on_step, .step_ctx = &st};
	memset(&st, 0, sizeof st);
	CHECK_EQ(sfh_run(runner, t, &s, &o, &res), 0);
	if (res.verdict.kind != SFO_DIV_OK)
		fprintf(stderr, "tw reuse: %s: %s\n", res.signature, res.verdict.detail);
	CHECK_EQ(res.verdict.kind, SFO_DIV_OK);
	CHECK(fired(&st, "timewait.syn.reopen"));
	/* the new incarnation's pisn is its SYN's: pisn+1 above is the new one */
	/* the default profile: no reopening, and the out assertion fails */
	CHECK_EQ(run_on(t, text, 4, &res, &st), 0);
	CHECK_EQ(res.assert_failed, 1);
	CHECK(!fired(&st, "timewait.syn.reopen"));
	sfh_target_close(t);
}

/* A target that cannot keep a listener apart refuses, with the reason, and does not run. */
static void unsupported_target_refuses(void)
{
	struct sfh_target *t;
	struct sfh_result res;
	struct sfh_scenario s;
	char err[256], why[256] = "";
	CHECK_EQ(sfh_target_open("model", &t, err, sizeof err), 0);
	struct sfh_target_ops narrow = *t->ops;
	narrow.name = "narrow";
	narrow.caps &= ~(uint32_t)(SFH_CAP_LISTENER | SFH_CAP_CONNS);
	const struct sfh_target_ops *real = t->ops;
	t->ops = &narrow;
	CHECK_EQ(run_on(t, two_conns, 0, &res, NULL), -1);
	CHECK(strstr(res.err, "not supported by target narrow") != NULL);
	CHECK_EQ(sfh_scn_parse(two_conns, strlen(two_conns), "x", &s, err, sizeof err), 0);
	CHECK_EQ(sfh_run_supported(t, &s, why, sizeof why), -1);
	CHECK(strstr(why, "listener apart") != NULL);
	narrow.caps |= SFH_CAP_LISTENER; /* one connection only */
	CHECK_EQ(sfh_run_supported(t, &s, why, sizeof why), -1);
	CHECK(strstr(why, "a second connection") != NULL);
	CHECK_EQ(run_on(t, "role passive\nin S conn=1\ncall close listener\n", 0, &res, NULL), 0);
	CHECK_EQ(res.verdict.kind, SFO_DIV_OK);
	/* without selectors: one TCB, the target told so */
	CHECK_EQ(run_on(t, "role passive\nin S\n", 0, &res, NULL), 0);
	CHECK_EQ(t->multi, 0);
	CHECK_EQ(run_on(t, "role passive\nin S conn=1\n", 0, &res, NULL), 0);
	CHECK_EQ(t->multi, 1);
	t->ops = real;
	sfh_target_close(t);
}

/* One TCB, as before: closing in LISTEN closes the listener (no selector), and the
 * listener-closing call of a scenario with selectors is no CLOSE of the connection. */
static void without_selectors_one_tcb(void)
{
	struct sfh_result res;
	struct steps st;
	CHECK_EQ(run_text("model", "role passive\nin S\ncall close\nexpect state FIN-WAIT-1\n",
			  &res, &st),
		 0);
	CHECK_EQ(res.verdict.kind, SFO_DIV_OK);
	CHECK_EQ(run_text("model",
			  "role passive\nin S conn=1\ncall close listener\n"
			  "expect state FIN-WAIT-1 conn=1\n",
			  &res, &st),
		 0);
	CHECK_EQ(res.assert_failed, 1);
}

/* The seeds of several connections, on both targets and with the model's every choice. */
static void seeds_pass(const char *spec)
{
	static const char *const seeds[] = {
	    "corpus/seeds/70-multiconn-timewait-reuse.scn",
	    "corpus/seeds/71-multiconn-close-listener-synrcvd.scn",
	    "corpus/seeds/72-multiconn-two-connections.scn",
	    "corpus/seeds/73-multiconn-close-listener-accepted-lives.scn",
	};
	struct sfh_target *t;
	char err[256];
	CHECK_EQ(sfh_target_open(spec, &t, err, sizeof err), 0);
	for (size_t i = 0; i < sizeof seeds / sizeof seeds[0]; i++)
		for (uint32_t c = 0; c < 8; c++) {
			struct sfh_scenario s;
			struct sfh_result res;
			struct sfh_run_opts o = {.case_no = c};
			CHECK_EQ(sfh_scn_load(seeds[i], &s, err, sizeof err), 0);
			CHECK_EQ(sfh_run(runner, t, &s, &o, &res), 0);
			if (res.verdict.kind != SFO_DIV_OK)
				fprintf(stderr, "%s %s case %u: %s: %s\n", spec, seeds[i], c,
					res.signature, res.verdict.detail);
			CHECK_EQ(res.verdict.kind, SFO_DIV_OK);
		}
	sfh_target_close(t);
}

/* The features main grew beside selectors, on a second connection: option and timing
 * assertions on its `out`, call results on each, and a reset connection's calls told
 * ECONNRESET after the runner has put its TCB aside (the end it left stays), over both
 * address families. A wrong result asserted on conn=2 is still caught. */
static void features_per_connection(const char *spec)
{
	static const char body[] = "in S seq=pisn win=65535 mss=1460 conn=1\n"
				   "out S. ack=pisn+1 nows conn=1\n"
				   "in S seq=pisn win=65535 mss=1460 conn=2\n"
				   "out S. ack=pisn+1 @+0 +-50ms conn=2\n"
				   "in . win=65535 conn=2\n"
				   "in . win=65535 conn=1\n"
				   "call accept conn=1 => 0\n"
				   "call accept conn=2 => 0\n"
				   "call receive conn=2 => EAGAIN\n"
				   "in P. len=100 win=65535 conn=1\n"
				   "call receive 40 conn=1 => 40\n"
				   "in R win=65535 conn=2\n"
				   "call receive conn=2 => ECONNRESET\n"
				   "expect state CLOSED conn=2\n"
				   "call receive conn=1 => 60\n";
	char text[1024];
	struct sfh_result res;
	for (int v6 = 0; v6 < 2; v6++) {
		snprintf(text, sizeof text, "role passive\n%s%s", v6 ? "family ipv6\n" : "", body);
		CHECK_EQ(run_text(spec, text, &res, NULL), 0);
		CHECK_EQ(res.verdict.kind, SFO_DIV_OK);
		CHECK_EQ(res.assert_failed, 0);
		if (res.assert_failed)
			fprintf(stderr, "line %u: %s\n", res.div_line, res.verdict.detail);
	}
	snprintf(text, sizeof text, "role passive\n%s", body);
	char *p = strstr(text, "conn=2 => ECONNRESET");
	CHECK(p != NULL);
	if (p)
		memcpy(p, "conn=2 => EAGAIN    ", 20);
	CHECK_EQ(run_text(spec, text, &res, NULL), 0);
	CHECK_EQ(res.assert_failed, 1);
	CHECK_EQ(res.div_line, 14u);
}

/* A connection lwIP handed to the application is reset, and a new SYN on its 4-tuple
 * spawns an embryo nobody accepted: the application's calls still reach the reset one,
 * which reports ECONNRESET (lwIP), or the embryo's EAGAIN (the model target). */
static void reset_then_embryo(void)
{
	static const char text[] = "role passive\nin S conn=1\nin . conn=1\nin R conn=1\n"
				   "in S conn=1\ncall receive conn=1%s\n";
	char buf[256];
	struct sfh_result res;
	snprintf(buf, sizeof buf, text, " => ECONNRESET");
	CHECK_EQ(run_text("lwip", buf, &res, NULL), 0);
	CHECK_EQ(res.verdict.kind, SFO_DIV_OK);
	snprintf(buf, sizeof buf, text, "");
	CHECK_EQ(run_text("model", buf, &res, NULL), 0);
	CHECK_EQ(res.verdict.kind, SFO_DIV_OK);
}

int main(void)
{
	char err[256];
	runner = sfh_runner_new(err, sizeof err);
	if (!runner)
		return 1;
	two_connections_are_apart("model");
	two_connections_are_apart("lwip");
	closing_the_listener_orphans("model", "listener.orphan.abort");
	closing_the_listener_orphans("lwip", "orphan.establish.abort");
	timewait_reuse();
	unsupported_target_refuses();
	without_selectors_one_tcb();
	features_per_connection("model");
	features_per_connection("lwip");
	reset_then_embryo();
	seeds_pass("model");
	seeds_pass("model:pick=random");
	seeds_pass("lwip");
	sfh_runner_free(runner);
	return check_done();
}
