/* The runner end to end on the model target: the seed corpus is conformant, every seeded
 * fault is found by replaying the seeds with the expected signature, assertions in
 * scenarios are checked, anchors resolve, pcaps are written, and a crash inside an
 * isolated case becomes a crash verdict. */
#include <pcap/pcap.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include "check.h"
#include "report.h"
#include "runner.h"
#include "target_model.h"

static struct sfh_runner *runner;

static int run_text(const char *spec, const char *text, struct sfh_result *res,
		    const struct sfh_run_opts *opts)
{
	struct sfh_scenario s;
	struct sfh_target *t;
	char err[256];
	struct sfh_run_opts o = {0};
	if (opts)
		o = *opts;
	if (sfh_scn_parse(text, strlen(text), "inline.scn", &s, err, sizeof err) != 0) {
		fprintf(stderr, "parse: %s\n", err);
		return -2;
	}
	if (sfh_target_open(spec, &t, err, sizeof err) != 0) {
		fprintf(stderr, "open: %s\n", err);
		return -2;
	}
	int rc = sfh_run(runner, t, &s, &o, res);
	sfh_target_close(t);
	return rc;
}

static void seeds_conform_on_model(const struct sfh_filelist *seeds)
{
	struct sfh_target *t;
	char err[256];
	CHECK_EQ(sfh_target_open("model", &t, err, sizeof err), 0);
	for (size_t i = 0; i < seeds->n; i++) {
		struct sfh_scenario s;
		struct sfh_result res;
		struct sfh_run_opts o = {.case_no = (uint32_t)i};
		CHECK_EQ(sfh_scn_load(seeds->paths[i], &s, err, sizeof err), 0);
		CHECK_EQ(sfh_run(runner, t, &s, &o, &res), 0);
		if (res.verdict.kind != SFO_DIV_OK)
			fprintf(stderr, "%s: %s: %s\n", seeds->paths[i], res.signature,
				res.verdict.detail);
		CHECK_EQ(res.verdict.kind, SFO_DIV_OK);
		CHECK_EQ(res.assert_failed, 0);
		CHECK(res.steps >= 2);
	}
	sfh_target_close(t);
}

/* For each fault: the rule and kind its first divergence must carry on some seed. */
static const struct {
	const char *fault, *rule, *kind;
} fault_expect[] = {
    /* fault                   rule                     kind (first divergence) */
    {"no-time-wait", "fin.finwait2", "state"}, /* FIN ends in CLOSED */
    {"tw-ignore-fin", "timewait.fin.reack", "missing-response"},
    {"rst-out-of-window", "seq.unacceptable.rst", "state"},
    {"synrcvd-rst-closed", "synrcvd.rst.passive", "state"},
    {"synack-bad-ack", "listen.syn", "wrong-field"},
    {"two-way-handshake", "listen.syn", "state"},
    {"finwait2-ignore-fin", "fin.finwait2", "state"},
    {"closewait-no-fin", "send.fin", "missing-response"},
    {"no-simultaneous-open", "synsent.syn.simopen", "state"},
    {"ack-future-accepted", "ack.future", "missing-response"},
    {"lastack-ignore-ack", "lastack.ack.fin", "state"},
    {"rst-answers-rst", "seq.unacceptable.rst", "unexpected-response"},
    {"fin-bad-checksum", "seg.checksum", "wrong-field"},
    {"recv-eof-early", "result.receive", "wrong-field"},
    /* the accepted connection's RST where only the listener should go */
    {"listener-close-resets-all", "wait.idle", "state"},
};

static void each_fault_found_by_seed_replay(const struct sfh_filelist *seeds)
{
	CHECK_EQ(sizeof fault_expect / sizeof fault_expect[0], sfh_fault_count());
	for (size_t f = 0; f < sfh_fault_count(); f++) {
		const struct sfh_fault *fault = sfh_fault_at(f);
		char spec[96], err[256];
		struct sfh_target *t;
		int found = 0, any = 0;
		snprintf(spec, sizeof spec, "model:fault=%s", fault->name);
		CHECK_EQ(sfh_target_open(spec, &t, err, sizeof err), 0);
		for (size_t i = 0; i < seeds->n; i++) {
			struct sfh_scenario s;
			struct sfh_result res;
			struct sfh_run_opts o = {.case_no = (uint32_t)i};
			CHECK_EQ(sfh_scn_load(seeds->paths[i], &s, err, sizeof err), 0);
			CHECK_EQ(sfh_run(runner, t, &s, &o, &res), 0);
			if (res.verdict.kind == SFO_DIV_OK || res.assert_failed)
				continue;
			any = 1;
			const struct sfo_rule_info *ri = sfo_rule(res.verdict.rule);
			for (size_t k = 0; k < sizeof fault_expect / sizeof fault_expect[0]; k++)
				if (strcmp(fault_expect[k].fault, fault->name) == 0 && ri &&
				    strcmp(fault_expect[k].rule, ri->id) == 0 &&
				    strcmp(fault_expect[k].kind,
					   sfo_div_kind_name(res.verdict.kind)) == 0)
					found = 1;
			if (getenv("SYNFIN_SHOW"))
				printf("%s %s %s\n", fault->name, seeds->paths[i], res.signature);
		}
		if (!found)
			fprintf(stderr, "fault %s: expected signature not found\n", fault->name);
		CHECK(any);
		CHECK(found);
		sfh_target_close(t);
	}
}

static void assertions_are_checked(void)
{
	struct sfh_result res;
	/* the SYN-ACK acknowledges pisn+1, so asserting pisn+2 must fail */
	CHECK_EQ(run_text("model", "role passive\nin S seq=pisn\nout S. ack=pisn+2\n", &res, NULL),
		 0);
	CHECK_EQ(res.assert_failed, 1);
	CHECK_EQ(res.div_line, 3);
	CHECK_EQ(run_text("model", "role passive\nin S seq=pisn\nexpect state LISTEN\n", &res,
			  NULL),
		 0);
	CHECK_EQ(res.assert_failed, 1);
	CHECK_EQ(res.verdict.kind, SFO_DIV_STATE);
	CHECK_EQ(run_text("model", "role passive\nin S seq=pisn\nout none\n", &res, NULL), 0);
	CHECK_EQ(res.assert_failed, 1);
	CHECK_EQ(run_text("model", "role passive\nin R seq=pisn\nout none\nexpect state LISTEN\n",
			  &res, NULL),
		 0);
	CHECK_EQ(res.assert_failed, 0);
	CHECK_EQ(res.verdict.kind, SFO_DIV_OK);
}

/* The same results on a stack: lwIP waits (EAGAIN) with nothing delivered, reads the
 * end of the stream after the FIN, reports a reset once (ECONNRESET, then ENOTCONN) and a
 * refused OPEN as ECONNREFUSED; a wrong `=>` fails. */
static void call_results_on_lwip(void)
{
	struct sfh_result res;
	static const struct {
		const char *text;
		int assert_failed;
	} cases[] = {
	    {"role passive\nin S seq=pisn\nin .\ncall receive => EAGAIN\nin P. len=5\n"
	     "call receive 3 => 3\ncall receive => 2\nin F.\ncall receive => 0\n"
	     "call send 4 => 4\ncall close => 0\n",
	     0},
	    {"role passive\nin S seq=pisn\nin .\ncall receive => 0\n", 1},
	    {"role passive\nin S seq=pisn\nin .\nin R\ncall receive => ECONNRESET\n"
	     "call send 1 => ENOTCONN\n",
	     0},
	    {"role passive\nin S seq=pisn\nin .\nin R\ncall send 1 => EPIPE\n", 1},
	    {"role active\nout S\ncall connect => EALREADY\nin R. seq=0 ack=tisn+1\n"
	     "call send 1 => ECONNREFUSED\n",
	     0},
	    {"role passive\ncall accept => EAGAIN\nin S seq=pisn\nin .\ncall accept => 0\n"
	     "call shutdown => 0\ncall send 1 => ENOTCONN\n",
	     0},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		CHECK_EQ(run_text("lwip", cases[i].text, &res, NULL), 0);
		if (res.assert_failed != cases[i].assert_failed ||
		    (!cases[i].assert_failed && res.verdict.kind != SFO_DIV_OK))
			fprintf(stderr, "lwip case %zu: %s: %s\n", i, res.signature,
				res.verdict.detail);
		CHECK_EQ(res.assert_failed, cases[i].assert_failed);
		if (!cases[i].assert_failed)
			CHECK_EQ(res.verdict.kind, SFO_DIV_OK);
	}
}

/* A target that cannot report results: the case runs, its `=>` lines unchecked, and the
 * result says so. */
static void call_results_unchecked_without_cap(void)
{
	struct sfh_result res;
	struct sfh_target *t;
	char err[256];
	if (sfh_target_open("slirp", &t, err, sizeof err) != 0) {
		printf("slirp not available here: unchecked results not tested (%s)\n", err);
		return;
	}
	sfh_target_close(t);
	CHECK(!(sfh_target_find("slirp")->caps & SFH_CAP_CALLRES));
	CHECK_EQ(run_text("slirp", "role passive\nin S seq=pisn\nin .\ncall receive => EISCONN\n",
			  &res, NULL),
		 0);
	CHECK_EQ(res.results_unchecked, 1);
	CHECK_EQ(res.assert_failed, 0);
	CHECK_EQ(res.verdict.kind, SFO_DIV_OK);
	CHECK_EQ(run_text("model", "role passive\nin S seq=pisn\nin .\ncall receive => EAGAIN\n",
			  &res, NULL),
		 0);
	CHECK_EQ(res.results_unchecked, 0);
}

/* Call results: the model judges what a call returned (a model stack seeded with an early
 * end of stream diverges on rule result.receive), and a `=>` line asserts it exactly. */
static void call_results_are_judged(void)
{
	struct sfh_result res;
	const char *est = "role passive\nin S seq=pisn\nin .\n";
	char text[256];
	snprintf(text, sizeof text, "%scall receive => 0\n", est);
	CHECK_EQ(run_text("model", text, &res, NULL), 0);
	CHECK_EQ(res.assert_failed, 1);
	CHECK_EQ(res.div_line, 4);
	CHECK(strstr(res.verdict.detail, "expected 0 (end of stream), observed EAGAIN") != NULL);
	snprintf(text, sizeof text, "%scall receive => EWOULDBLOCK\ncall send 7 => 7\n", est);
	CHECK_EQ(run_text("model", text, &res, NULL), 0);
	CHECK_EQ(res.verdict.kind, SFO_DIV_OK);
	snprintf(text, sizeof text, "%scall send 7 => 6\n", est);
	CHECK_EQ(run_text("model", text, &res, NULL), 0);
	CHECK_EQ(res.assert_failed, 1);
	snprintf(text, sizeof text, "%scall receive\n", est);
	CHECK_EQ(run_text("model:fault=recv-eof-early", text, &res, NULL), 0);
	CHECK_EQ(res.assert_failed, 0);
	CHECK_EQ(res.verdict.kind, SFO_DIV_FIELD);
	CHECK_STR(sfo_rule(res.verdict.rule)->id, "result.receive");
	CHECK_EQ(res.div_line, 4);
	CHECK(strstr(res.signature, "/ESTABLISHED/call-receive/result.receive/wrong-field") !=
	      NULL);
	/* after a RST, "connection reset"; asserting the refusal instead fails */
	CHECK_EQ(run_text("model",
			  "role passive\nin S seq=pisn\nin .\nin R\n"
			  "call receive => ECONNREFUSED\n",
			  &res, NULL),
		 0);
	CHECK_EQ(res.assert_failed, 1);
	CHECK(strstr(res.verdict.detail, "observed ECONNRESET") != NULL);
}

/* The timestamp anchors resolve in the runner: ptsv is the TSval of our last segment with
 * a timestamp (checked on the model, which sends none of its own), ttsv the TSval of the
 * target's last one (checked on linux, which negotiates timestamps, where it can run):
 * the pcap shows the echo. */
static void pcap_ts(const char *path, uint32_t tsval[8], uint32_t tsecr[8], uint8_t fl[8],
		    int *n)
{
	char perr[PCAP_ERRBUF_SIZE];
	pcap_t *in = pcap_open_offline(path, perr);
	struct pcap_pkthdr *h;
	const u_char *data;
	*n = 0;
	CHECK(in != NULL);
	while (in && *n < 8 && pcap_next_ex(in, &h, &data) == 1) {
		struct sfh_endpoints ep;
		struct sfo_seg seg;
		int ok;
		if (sfh_wire_parse(data, h->caplen, &ep, &seg, &ok) != 0)
			continue;
		tsval[*n] = (seg.opts & SFO_OPT_TS) ? seg.tsval : 0xdeadbeefu;
		tsecr[*n] = seg.tsecr;
		fl[(*n)++] = seg.flags;
	}
	if (in)
		pcap_close(in);
}

static void ts_anchors_resolve(void)
{
	char path[] = "/tmp/synfin-test-ts-XXXXXX", err[256];
	uint32_t tsval[8], tsecr[8];
	uint8_t fl[8];
	int n, fd = mkstemp(path);
	struct sfh_result res;
	close(fd);
	struct sfh_run_opts o = {.pcap = sfh_pcap_open(path, err, sizeof err)};
	CHECK(o.pcap != NULL);
	CHECK_EQ(run_text("model", "role passive\nin S seq=pisn ts=100,0\nin . ts=ptsv+5,ttsv\n",
			  &res, &o),
		 0);
	CHECK_EQ(sfh_pcap_close(o.pcap), 0);
	pcap_ts(path, tsval, tsecr, fl, &n);
	CHECK_EQ(n, 3); /* SYN, SYN-ACK, ACK */
	if (n == 3) {
		CHECK_EQ(tsval[2], 105);
		CHECK_EQ(tsecr[2], 0); /* the model sent no timestamp: ttsv is 0 */
	}
	if (sfh_target_find("linux")->probe(err, sizeof err) == 0) {
		o.pcap = sfh_pcap_open(path, err, sizeof err);
		CHECK(o.pcap != NULL);
		CHECK_EQ(run_text("linux",
				  "role active\nin S. seq=pisn ack=tisn+1 mss=1460 ts=100,ttsv\n"
				  "in . ts=ptsv+1,ttsv\n",
				  &res, &o),
			 0);
		CHECK_EQ(res.verdict.kind, SFO_DIV_OK);
		CHECK_EQ(sfh_pcap_close(o.pcap), 0);
		pcap_ts(path, tsval, tsecr, fl, &n);
		CHECK(n >= 3);
		if (n >= 3) {
			CHECK_EQ(fl[0], SFO_SYN);
			CHECK_EQ(tsecr[1], tsval[0]); /* our SYN-ACK echoes the target's SYN */
			CHECK_EQ(tsval[1], 100);
			CHECK_EQ(tsval[n - 1], 101);
		}
	}
	unlink(path);
}

static void collect_lines(void *ctx, const char *line)
{
	size_t *n = ctx;
	(*n)++;
	(void)line;
}

static void pcap_holds_every_packet(void)
{
	char path[] = "/tmp/synfin-test-runner-XXXXXX";
	int fd = mkstemp(path);
	close(fd);
	char err[256];
	size_t lines = 0;
	struct sfh_run_opts o = {.pcap = sfh_pcap_open(path, err, sizeof err),
				 .trace = collect_lines, .trace_ctx = &lines};
	struct sfh_result res;
	CHECK(o.pcap != NULL);
	CHECK_EQ(run_text("model",
			  "role passive\nin S seq=pisn win=100\nin . win=100\ncall close\n"
			  "in F. win=100\n",
			  &res, &o),
		 0);
	CHECK_EQ(res.verdict.kind, SFO_DIV_OK);
	CHECK_EQ(sfh_pcap_close(o.pcap), 0);
	CHECK(lines >= 8);
	char perr[PCAP_ERRBUF_SIZE];
	pcap_t *in = pcap_open_offline(path, perr);
	CHECK(in != NULL);
	int count = 0;
	struct pcap_pkthdr *h;
	const u_char *data;
	while (in && pcap_next_ex(in, &h, &data) == 1)
		count++;
	/* SYN, SYN-ACK, ACK, FIN (ours), FIN+ACK (theirs), final ACK */
	CHECK_EQ(count, 6);
	if (in)
		pcap_close(in);
	unlink(path);
}

static void crash_in_child(void *ctx, const char *line)
{
	if (strstr(line, "call close"))
		abort(); /* stands for a stack's assertion firing mid-case */
}

static void isolated_crash_becomes_verdict(void)
{
	struct sfh_scenario s;
	struct sfh_target *t;
	struct sfh_result res;
	char err[256];
	const char *text = "role passive\nin S seq=pisn\nin .\ncall close\n";
	CHECK_EQ(sfh_scn_parse(text, strlen(text), "x.scn", &s, err, sizeof err), 0);
	CHECK_EQ(sfh_target_open("model", &t, err, sizeof err), 0);
	struct sfh_run_opts o = {.trace = crash_in_child};
	CHECK_EQ(sfh_run_isolated(runner, t, &s, &o, 30, &res), 0);
	CHECK_EQ(res.verdict.kind, SFO_DIV_CRASH);
	CHECK(strstr(res.verdict.detail, "signal 6") != NULL);
	CHECK(strstr(res.signature, "crash") != NULL);
	/* and a case that does not crash comes back with its real verdict */
	o.trace = NULL;
	CHECK_EQ(sfh_run_isolated(runner, t, &s, &o, 30, &res), 0);
	CHECK_EQ(res.verdict.kind, SFO_DIV_OK);
	CHECK(res.steps >= 4);
	sfh_target_close(t);
}

static void unknown_targets_and_faults_are_refused(void)
{
	struct sfh_target *t;
	char err[256];
	CHECK_EQ(sfh_target_open("nosuch", &t, err, sizeof err), -1);
	CHECK(strstr(err, "unknown target") != NULL);
	CHECK_EQ(sfh_target_open("model:fault=nosuch", &t, err, sizeof err), -1);
	CHECK(strstr(err, "unknown fault") != NULL);
}

int main(void)
{
	char err[256];
	struct sfh_filelist seeds = {0};
	char *dir = "corpus/seeds";
	runner = sfh_runner_new(err, sizeof err);
	CHECK(runner != NULL);
	CHECK_EQ(sfh_collect_scenarios(1, &dir, &seeds, err, sizeof err), 0);
	CHECK(seeds.n >= 20);
	seeds_conform_on_model(&seeds);
	each_fault_found_by_seed_replay(&seeds);
	assertions_are_checked();
	call_results_are_judged();
	call_results_on_lwip();
	call_results_unchecked_without_cap();
	pcap_holds_every_packet();
	ts_anchors_resolve();
	isolated_crash_becomes_verdict();
	unknown_targets_and_faults_are_refused();
	sfh_filelist_free(&seeds);
	sfh_runner_free(runner);
	return check_done();
}
