/* The linux target with a listener apart from its connections (scenarios with
 * selectors): two connections on two peer ports at once, the listener closed under a
 * request socket (Linux drops it; the final ACK then draws a RST as for CLOSED), an
 * accepted connection outliving its listener, TIME-WAIT reused by a new SYN (Linux
 * reopens, MAY-2), a TIME-WAIT of one connection expiring in virtual time while another
 * lives, and the seeds. Skipped (77) only when not root or without /dev/net/tun. */
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "runner.h"

static struct sfh_runner *runner;
static struct sfh_target *lx;

struct rules {
	char id[64][40];
	int n;
};

static void on_step(void *ctx, const struct sfh_step *st)
{
	struct rules *r = ctx;
	const struct sfo_outcome *o = st->which >= 0 ? &st->expect->out[st->which] : NULL;
	for (unsigned i = 0; o && i < o->nrules && r->n < 64; i++)
		snprintf(r->id[r->n++], 40, "%s", sfo_rule(o->rules[i])->id);
}

static int fired(const struct rules *r, const char *id)
{
	for (int i = 0; i < r->n; i++)
		if (strcmp(r->id[i], id) == 0)
			return 1;
	return 0;
}

/* Run text on linux; it must conform. The rules that fired go to *r. */
static void conforms(const char *what, const char *text, struct rules *r)
{
	struct sfh_scenario s;
	struct sfh_result res;
	char err[256];
	memset(r, 0, sizeof *r);
	struct sfh_run_opts o = {
	    .profile = sfo_profile_find("linux"), .step = on_step, .step_ctx = r};
	CHECK_EQ(sfh_scn_parse(text, strlen(text), what, &s, err, sizeof err), 0);
	CHECK_EQ(sfh_run(runner, lx, &s, &o, &res), 0);
	if (res.verdict.kind != SFO_DIV_OK || res.assert_failed)
		fprintf(stderr, "%s: %s: %s %s\n", what, res.signature, res.verdict.detail,
			res.err);
	CHECK_EQ(res.verdict.kind, SFO_DIV_OK);
	CHECK_EQ(res.assert_failed, 0);
	CHECK_EQ(lx->multi, 1);
}

static void two_connections(void)
{
	struct rules r;
	conforms("two",
		 "role passive\n"
		 "in S seq=pisn mss=1460 conn=1\n"
		 "out S. ack=pisn+1 conn=1\n"
		 "in S seq=pisn mss=1460 conn=2\n"
		 "out S. ack=pisn+1 conn=2\n"
		 "expect state SYN-RECEIVED conn=1\n"
		 "in . conn=2\n"
		 "expect state ESTABLISHED conn=2\n"
		 "expect state SYN-RECEIVED conn=1\n"
		 "expect state LISTEN listener\n"
		 "call send 10 conn=2\n"
		 "out P. len=10 conn=2\n"
		 "out none conn=1\n"
		 "in . conn=1\n"
		 "call close conn=1\n"
		 "out F. conn=1\n"
		 "expect state FIN-WAIT-1 conn=1\n"
		 "expect state ESTABLISHED conn=2\n",
		 &r);
}

/* Linux drops a request socket whose listener closes; its final ACK meets CLOSED. */
static void listener_closed_under_request_socket(void)
{
	struct rules r;
	conforms("orphan",
		 "role passive\n"
		 "in S seq=pisn mss=1460 conn=1\n"
		 "call close listener\n"
		 "expect state CLOSED listener\n"
		 "expect state CLOSED conn=1\n"
		 "in . seq=pisn+1 ack=tisn+1 conn=1\n"
		 "out R seq=tisn+1 conn=1\n",
		 &r);
	CHECK(fired(&r, "listener.orphan.drop"));
	CHECK(fired(&r, "closed.seg.ack"));
}

/* Established connections nobody accepted are reset with their listener (Linux:
 * inet_csk_listen_stop; 3.10.5 ABORT's RST). (An accepted one lives on: seed 73.) */
static void listener_closed_under_established(void)
{
	struct rules r;
	conforms("established",
		 "role passive\n"
		 "in S seq=pisn mss=1460 conn=1\n"
		 "in . conn=1\n"
		 "in S seq=pisn mss=1460 conn=2\n"
		 "in . conn=2\n"
		 "call close listener\n"
		 "out R. conn=1\n"
		 "out R. conn=2\n"
		 "expect state CLOSED conn=1\n"
		 "expect state CLOSED conn=2\n",
		 &r);
	CHECK(fired(&r, "listener.orphan.abort"));
}

/* TIME-WAIT on a 4-tuple, a new SYN above RCV.NXT: Linux reopens (MAY-2) with an ISN
 * above the old space; the new incarnation has its own pisn. */
static void timewait_reuse(void)
{
	struct rules r;
	conforms("tw",
		 "role passive\n"
		 "in S seq=pisn mss=1460 conn=1\n"
		 "in . conn=1\n"
		 "call close conn=1\n"
		 "in . conn=1\n"
		 "in F. conn=1\n"
		 "expect state TIME-WAIT conn=1\n"
		 "in S seq=pnxt+100000 mss=1460 conn=1\n"
		 "out S. ack=pisn+1 conn=1\n"
		 "in . seq=pisn+1 ack=tisn+1 conn=1\n"
		 "expect state ESTABLISHED conn=1\n",
		 &r);
	CHECK(fired(&r, "timewait.syn.reopen"));
}

/* One connection's TIME-WAIT ends in virtual time while another connection lives. */
static void timewait_expires_beside_another(void)
{
	struct rules r;
	conforms("tw2",
		 "role passive\n"
		 "in S seq=pisn mss=1460 conn=1\n"
		 "in . conn=1\n"
		 "in S seq=pisn mss=1460 conn=2\n"
		 "in . conn=2\n"
		 "call close conn=1\n"
		 "in . conn=1\n"
		 "in F. conn=1\n"
		 "expect state TIME-WAIT conn=1\n"
		 "wait 61s\n"
		 "expect state CLOSED conn=1\n"
		 "expect state ESTABLISHED conn=2\n",
		 &r);
}

static void seeds(void)
{
	static const char *const seed[] = {
	    "corpus/seeds/70-multiconn-timewait-reuse.scn",
	    "corpus/seeds/71-multiconn-close-listener-synrcvd.scn",
	    "corpus/seeds/72-multiconn-two-connections.scn",
	    "corpus/seeds/73-multiconn-close-listener-accepted-lives.scn",
	};
	for (size_t i = 0; i < sizeof seed / sizeof seed[0]; i++) {
		struct sfh_scenario s;
		struct sfh_result res;
		char err[256];
		struct sfh_run_opts o = {.profile = sfo_profile_find("linux"),
					 .case_no = (uint32_t)i};
		CHECK_EQ(sfh_scn_load(seed[i], &s, err, sizeof err), 0);
		CHECK_EQ(sfh_run(runner, lx, &s, &o, &res), 0);
		if (res.verdict.kind != SFO_DIV_OK)
			fprintf(stderr, "%s: %s: %s\n", seed[i], res.signature, res.verdict.detail);
		CHECK_EQ(res.verdict.kind, SFO_DIV_OK);
	}
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
	char err[256];
	runner = sfh_runner_new(err, sizeof err);
	if (!runner || sfh_target_open("linux", &lx, err, sizeof err) != 0) {
		fprintf(stderr, "open: %s\n", err);
		return 1;
	}
	CHECK(lx->ops->caps & SFH_CAP_LISTENER);
	CHECK(lx->ops->caps & SFH_CAP_CONNS);
	two_connections();
	listener_closed_under_request_socket();
	listener_closed_under_established();
	timewait_reuse();
	timewait_expires_beside_another();
	seeds();
	sfh_target_close(lx);
	sfh_runner_free(runner);
	return check_done();
}
