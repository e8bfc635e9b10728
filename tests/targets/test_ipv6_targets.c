/* IPv6 cases on the real stacks: the IPv6 seeds conform on every target that has
 * SFH_CAP_IPV6 here, what each emits is IPv6 with a TCP checksum that verifies, and a
 * stack that keeps IPv4's 536-octet default MSS over IPv6 (lwIP) is not judged for
 * sending segments smaller than the 1220 RFC 9293 3.7.1 allows. A target without the
 * capability (slirp) must refuse with a reason. The linux target needs root and /dev/net/tun
 * (its cases are skipped, not failed, without them). */
#include <pcap/pcap.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "runner.h"
#include "scenario.h"
#include "target.h"

static struct sfh_runner *runner;

static const char *const seeds[] = {"corpus/seeds/75-ipv6-handshake-close.scn",
				    "corpus/seeds/76-ipv6-rst-syn-sent.scn",
				    "corpus/seeds/77-ipv6-rst-established.scn"};

/* Run one scenario file (or text) on t with a pcap; the pcap's frames are checked to be
 * IPv6 and to verify. Returns the number of frames, -1 on a harness error. */
static int run_checked(struct sfh_target *t, const char *path, const char *text,
		       struct sfh_result *res)
{
	struct sfh_scenario s;
	char err[256], pcap_path[] = "/tmp/synfin-test-ipv6t-XXXXXX";
	int rc = text ? sfh_scn_parse(text, strlen(text), "inline.scn", &s, err, sizeof err)
		      : sfh_scn_load(path, &s, err, sizeof err);
	CHECK_EQ(rc, 0);
	if (rc != 0) {
		fprintf(stderr, "%s\n", err);
		return -1;
	}
	int fd = mkstemp(pcap_path);
	CHECK(fd >= 0);
	if (fd < 0)
		return -1;
	close(fd);
	struct sfh_pcap *p = sfh_pcap_open(pcap_path, err, sizeof err);
	struct sfh_run_opts o = {.pcap = p};
	rc = sfh_run(runner, t, &s, &o, res);
	CHECK_EQ(sfh_pcap_close(p), 0);
	if (rc != 0) {
		fprintf(stderr, "%s: %s: %s\n", t->ops->name, path ? path : "inline", res->err);
		unlink(pcap_path);
		return -1;
	}
	char perr[PCAP_ERRBUF_SIZE];
	pcap_t *in = pcap_open_offline(pcap_path, perr);
	int frames = 0;
	CHECK(in != NULL);
	while (in) {
		struct pcap_pkthdr *h;
		const u_char *data;
		if (pcap_next_ex(in, &h, &data) != 1)
			break;
		struct sfh_endpoints e;
		struct sfo_seg seg;
		int ok = 0;
		CHECK_EQ(data[0] >> 4, 6);
		CHECK_EQ(sfh_wire_parse(data, h->caplen, &e, &seg, &ok), 0);
		CHECK_EQ(e.ipv6, 1);
		CHECK_EQ(ok, 1);
		frames++;
	}
	if (in)
		pcap_close(in);
	unlink(pcap_path);
	return frames;
}

static void seeds_conform(struct sfh_target *t)
{
	for (size_t i = 0; i < sizeof seeds / sizeof seeds[0]; i++) {
		struct sfh_result res;
		int frames = run_checked(t, seeds[i], NULL, &res);
		CHECK(frames >= 2);
		if (frames >= 0 && res.verdict.kind != SFO_DIV_OK && !res.verdict.accepted)
			fprintf(stderr, "%s: %s: %s %s\n", t->ops->name, seeds[i], res.signature,
				res.verdict.detail);
		CHECK(frames < 0 || res.verdict.kind == SFO_DIV_OK || res.verdict.accepted);
	}
}

/* 20000 octets after a SYN without an MSS option: lwIP sends them in 536-octet
 * segments over IPv6 too; the model's limit is 1220 per segment, and smaller segments
 * are no divergence. */
static void small_segments_without_mss_option(struct sfh_target *t)
{
	static const char text[] = "role passive\nfamily ipv6\nin S seq=pisn win=65535\n"
				   "out S. ack=pisn+1\nin . win=65535\ncall send 20000\n"
				   "in . ack=tnxt\nin . ack=tnxt\nin . ack=tnxt\nin . ack=tnxt\n";
	struct sfh_result res;
	int frames = run_checked(t, NULL, text, &res);
	CHECK(frames >= 8);
	if (frames >= 0 && res.verdict.kind != SFO_DIV_OK)
		fprintf(stderr, "%s: %s %s\n", t->ops->name, res.signature, res.verdict.detail);
	CHECK_EQ(res.verdict.kind, SFO_DIV_OK);
}

/* Open spec; 0 if it is not built here or cannot run (said on stdout). */
static struct sfh_target *open_target(const char *spec)
{
	struct sfh_target *t = NULL;
	char err[512];
	const struct sfh_target_ops *ops = sfh_target_find(spec);
	if (!ops) {
		printf("%s: not built here\n", spec);
		return NULL;
	}
	if (ops->probe(err, sizeof err) != 0) {
		printf("%s: cannot run here: %s\n", spec, err);
		return NULL;
	}
	if (sfh_target_open(spec, &t, err, sizeof err) != 0) {
		fprintf(stderr, "%s: open: %s\n", spec, err);
		CHECK(0);
		return NULL;
	}
	return t;
}

/* A target without IPv6: refused before any step, with the reason, never a verdict. */
static void refused_with_reason(struct sfh_target *t, const char *why)
{
	struct sfh_scenario s;
	struct sfh_result res;
	char err[256], want[128];
	CHECK(!(t->ops->caps & SFH_CAP_IPV6));
	CHECK(t->no_ipv6 != NULL);
	CHECK_EQ(sfh_scn_load(seeds[0], &s, err, sizeof err), 0);
	struct sfh_run_opts o = {0};
	CHECK_EQ(sfh_run(runner, t, &s, &o, &res), -1);
	snprintf(want, sizeof want,
		 "not supported by target %s: IPv6 (`family ipv6`): ", t->ops->name);
	CHECK(strncmp(res.err, want, strlen(want)) == 0);
	CHECK(strstr(res.err, why) != NULL);
	CHECK_EQ(res.steps, 0);
}

int main(void)
{
	char err[256];
	runner = sfh_runner_new(err, sizeof err);
	CHECK(runner != NULL);
	if (!runner)
		return check_done();
	struct sfh_target *t = open_target("lwip");
	if (t) {
		CHECK(t->ops->caps & SFH_CAP_IPV6);
		seeds_conform(t);
		small_segments_without_mss_option(t);
		sfh_target_close(t);
	}
	t = open_target("slirp");
	if (t) {
		refused_with_reason(t, "slirp_add_guestfwd");
		sfh_target_close(t);
	}
	/* the running kernel: needs root and /dev/net/tun (said and skipped without) */
	t = geteuid() == 0 && access("/dev/net/tun", R_OK | W_OK) == 0 ? open_target("linux")
								       : NULL;
	if (t) {
		CHECK(t->ops->caps & SFH_CAP_IPV6);
		seeds_conform(t);
		/* IPv4 and IPv6 cases alternate on one instance (a campaign flips the family) */
		struct sfh_result res;
		CHECK(run_checked(t, seeds[0], NULL, &res) >= 2);
		CHECK_EQ(res.verdict.kind, SFO_DIV_OK);
		struct sfh_scenario s4;
		char err4[256];
		CHECK_EQ(sfh_scn_load("corpus/seeds/01-passive-open.scn", &s4, err4, sizeof err4),
			 0);
		struct sfh_run_opts o = {0};
		CHECK_EQ(sfh_run(runner, t, &s4, &o, &res), 0);
		CHECK_EQ(res.verdict.kind, SFO_DIV_OK);
		CHECK(run_checked(t, seeds[2], NULL, &res) >= 2);
		CHECK_EQ(res.verdict.kind, SFO_DIV_OK);
		sfh_target_close(t);
	} else {
		printf("linux: skipped (needs root and /dev/net/tun)\n");
	}
	sfh_runner_free(runner);
	return check_done();
}
