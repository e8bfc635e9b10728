/* IPv6 cases: the `family` line (parse, errors, text and binary round trip), IPv6
 * segments on the wire (built, parsed back, checksums over the IPv6 pseudo-header checked
 * by an independent sum, extension headers stepped over), pcap files that carry them, the
 * runner on the model target (seeds conform, the default send MSS is 1220), a target
 * without IPv6 refused with a reason and never judged, and the mutator's family flip. */
#include <pcap/pcap.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "fuzz_priv.h"
#include "runner.h"
#include "scenario.h"
#include "target.h"
#include "wire.h"

static struct sfh_endpoints ep6(void)
{
	struct sfh_endpoints e = {.ipv6 = 1, .peer_port = 40000, .target_port = 8080};
	static const uint8_t peer[16] = {0xfd, 0x53, 0x79, 0x6e, 0, 0, 0, 0,
					 0,    0,    0,	   0,	 0, 0, 0, 2};
	memcpy(e.peer_ip6, peer, 16);
	memcpy(e.target_ip6, peer, 16);
	e.target_ip6[15] = 1;
	return e;
}

/* ---- scenarios ---- */

static int parse(const char *text, struct sfh_scenario *s, char *err, size_t errlen)
{
	return sfh_scn_parse(text, strlen(text), "f.scn", s, err, errlen);
}

static void family_line_parses_and_round_trips(void)
{
	struct sfh_scenario s, back;
	char err[256], text[4096];
	const char *src = "role active\nisn pisn=1 tisn=2\nfamily ipv6\nout S\nin R. ack=tnxt\n";
	CHECK_EQ(parse(src, &s, err, sizeof err), 0);
	CHECK_EQ(s.ipv6, 1);
	CHECK_EQ(s.nev, 2);
	size_t n = sfh_scn_format(&s, text, sizeof text);
	CHECK(n < sizeof text);
	CHECK(strstr(text, "family ipv6\n") != NULL);
	CHECK_EQ(parse(text, &back, err, sizeof err), 0);
	CHECK(sfh_scn_equal(&s, &back));
	/* the family is part of equality */
	back.ipv6 = 0;
	CHECK(!sfh_scn_equal(&s, &back));
	/* `family ipv4` is the default and is not written back */
	CHECK_EQ(parse("role passive\nfamily ipv4\nin S\n", &s, err, sizeof err), 0);
	CHECK_EQ(s.ipv6, 0);
	sfh_scn_format(&s, text, sizeof text);
	CHECK(strstr(text, "family") == NULL);
	/* before `isn` is fine too */
	CHECK_EQ(parse("role passive\nfamily ipv6\nisn pisn=1 tisn=2\n", &s, err, sizeof err), 0);
	CHECK_EQ(s.ipv6, 1);
}

static void family_errors_name_line_and_column(void)
{
	struct sfh_scenario s;
	char err[256];
	CHECK_EQ(parse("role passive\nfamily ipv5\n", &s, err, sizeof err), -1);
	CHECK_STR(err, "f.scn:2:8: unknown family 'ipv5' (expected ipv4 or ipv6)");
	CHECK_EQ(parse("role passive\nfamily\n", &s, err, sizeof err), -1);
	CHECK(strstr(err, "f.scn:2:7: missing family") == err);
	CHECK_EQ(parse("family ipv6\nrole passive\n", &s, err, sizeof err), -1);
	CHECK(strstr(err, "f.scn:1:1: expected 'role passive' or 'role active' before") == err);
	CHECK_EQ(parse("role passive\nfamily ipv6\nfamily ipv6\n", &s, err, sizeof err), -1);
	CHECK_STR(err, "f.scn:3:1: family given twice (first on line 2)");
	CHECK_EQ(parse("role passive\nin S\nfamily ipv6\n", &s, err, sizeof err), -1);
	CHECK(strstr(err, "f.scn:3:1: 'family' after an event") == err);
	CHECK_EQ(parse("role passive\nfamily ipv6 x\n", &s, err, sizeof err), -1);
	CHECK(strstr(err, "f.scn:2:13:") == err);
}

static void binary_form_carries_the_family_in_role_bit_1(void)
{
	struct sfh_scenario s, back;
	char err[256];
	uint8_t buf[SFH_MAX_ENCODED];
	CHECK_EQ(parse("role active\nfamily ipv6\nout S\nin S. ack=tnxt\n", &s, err, sizeof err),
		 0);
	size_t n = sfh_scn_encode(&s, buf, sizeof buf);
	CHECK(n >= 1);
	CHECK_EQ(buf[0], 0x03); /* bit 0 active, bit 1 IPv6, nothing else */
	sfh_scn_decode(buf, n, &back);
	CHECK(sfh_scn_equal(&s, &back));
	s.role = SFH_ROLE_PASSIVE;
	n = sfh_scn_encode(&s, buf, sizeof buf);
	CHECK_EQ(buf[0], 0x02);
	/* decoding is total: every ROLE byte gives role and family from bits 0 and 1 */
	for (unsigned b = 0; b < 256; b++) {
		uint8_t one = (uint8_t)b;
		sfh_scn_decode(&one, 1, &back);
		CHECK_EQ(back.ipv6, (b >> 1) & 1);
		CHECK_EQ(back.role, (b & 1) ? SFH_ROLE_ACTIVE : SFH_ROLE_PASSIVE);
		n = sfh_scn_encode(&back, buf, sizeof buf);
		struct sfh_scenario again;
		sfh_scn_decode(buf, n, &again);
		CHECK(sfh_scn_equal(&back, &again));
	}
	/* an empty input is IPv4 */
	sfh_scn_decode(NULL, 0, &back);
	CHECK_EQ(back.ipv6, 0);
}

/* ---- wire ---- */

/* The TCP checksum over the IPv6 pseudo-header, summed here in 16-bit words from the
 * packet's octets, independently of wire.c. */
static uint16_t ref_csum6(const uint8_t *ip, size_t tcplen, const uint8_t *tcp)
{
	uint32_t sum = 0;
	for (int i = 8; i < 40; i += 2)
		sum += (uint32_t)(ip[i] << 8 | ip[i + 1]);
	sum += (uint32_t)(tcplen >> 16) + (uint32_t)(tcplen & 0xffff) + 6;
	for (size_t i = 0; i < tcplen; i += 2) {
		if (i == 16)
			continue; /* the checksum field itself counts as zero */
		sum += (uint32_t)(tcp[i] << 8 | (i + 1 < tcplen ? tcp[i + 1] : 0));
	}
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static void ipv6_segments_build_and_parse_back(void)
{
	char err[256];
	struct sfh_wire *w = sfh_wire_new(err, sizeof err);
	CHECK(w != NULL);
	if (!w)
		return;
	struct sfh_endpoints e = ep6();
	uint8_t buf[SFH_PKT_MAX];
	/* twice per shape: libnet builds the first, the template the second */
	for (int round = 0; round < 2; round++) {
		for (uint32_t len = 0; len <= 1000; len += 333) {
			struct sfo_seg s = {.seq = 0xfffffff0u + len,
					    .ack = 7 + round,
					    .len = len,
					    .wnd = 4321,
					    .flags = SFO_SYN | SFO_ACK,
					    .opts = SFO_OPT_MSS | SFO_OPT_WSCALE | SFO_OPT_TS,
					    .mss = 1220,
					    .wscale = 7,
					    .tsval = 5,
					    .tsecr = 9};
			e.peer_port = (uint16_t)(40000 + round);
			int n = sfh_wire_build(w, &e, &s, buf, sizeof buf);
			CHECK_EQ(n, 40 + 20 + 4 + 4 + 12 + (int)len);
			if (n < 60)
				continue;
			CHECK_EQ(buf[0] >> 4, 6);
			CHECK_EQ(buf[4] << 8 | buf[5], n - 40); /* payload length */
			CHECK_EQ(buf[6], 6);			/* next header: TCP */
			CHECK_EQ(buf[7], 64);			/* hop limit */
			CHECK(memcmp(buf + 8, e.peer_ip6, 16) == 0);
			CHECK(memcmp(buf + 24, e.target_ip6, 16) == 0);
			uint16_t field = (uint16_t)(buf[40 + 16] << 8 | buf[40 + 17]);
			CHECK_EQ(field, ref_csum6(buf, (size_t)n - 40, buf + 40));
			struct sfh_endpoints got;
			struct sfo_seg r;
			int ok = 0;
			CHECK_EQ(sfh_wire_parse(buf, (size_t)n, &got, &r, &ok), 0);
			CHECK_EQ(ok, 1);
			CHECK_EQ(got.ipv6, 1);
			/* as emitted by the target: the sender is "target" */
			CHECK(memcmp(got.target_ip6, e.peer_ip6, 16) == 0);
			CHECK(memcmp(got.peer_ip6, e.target_ip6, 16) == 0);
			CHECK_EQ(got.target_port, e.peer_port);
			CHECK_EQ(got.peer_port, e.target_port);
			CHECK_EQ(r.seq, s.seq);
			CHECK_EQ(r.ack, s.ack);
			CHECK_EQ(r.len, len);
			CHECK_EQ(r.wnd, 4321);
			CHECK_EQ(r.flags, SFO_SYN | SFO_ACK);
			CHECK_EQ(r.mss, 1220);
			CHECK_EQ(r.wscale, 7);
			CHECK_EQ(r.tsval, 5);
			CHECK_EQ(r.tsecr, 9);
			/* one flipped octet in the payload or a pseudo-header address: bad sum */
			buf[n - 1] ^= 0x40;
			CHECK_EQ(sfh_wire_parse(buf, (size_t)n, &got, &r, &ok), 0);
			CHECK_EQ(ok, 0);
			buf[n - 1] ^= 0x40;
			buf[20] ^= 1; /* the source address */
			CHECK_EQ(sfh_wire_parse(buf, (size_t)n, &got, &r, &ok), 0);
			CHECK_EQ(ok, 0);
			buf[20] ^= 1;
			/* truncated: not a segment */
			CHECK_EQ(sfh_wire_parse(buf, (size_t)n - 1, &got, &r, &ok), -1);
		}
	}
	/* IPv4 still builds as before from a zeroed family */
	struct sfh_endpoints e4 = {
	    .peer_ip = 0xc6120002, .target_ip = 0xc6120001, .peer_port = 1, .target_port = 2};
	struct sfo_seg s4 = {.seq = 1, .flags = SFO_SYN, .wnd = 1};
	int n = sfh_wire_build(w, &e4, &s4, buf, sizeof buf);
	CHECK_EQ(n, 40);
	CHECK_EQ(buf[0], 0x45);
	struct sfh_endpoints got;
	struct sfo_seg r;
	int ok = 0;
	CHECK_EQ(sfh_wire_parse(buf, (size_t)n, &got, &r, &ok), 0);
	CHECK_EQ(got.ipv6, 0);
	CHECK_EQ(got.target_ip, 0xc6120002);
	CHECK_EQ(ok, 1);
	sfh_wire_free(w);
}

/* A stack may put extension headers before TCP: hop-by-hop and destination options are
 * stepped over (the checksum does not cover them); a fragment header is not a segment. */
static void ipv6_extension_headers(void)
{
	char err[256];
	struct sfh_wire *w = sfh_wire_new(err, sizeof err);
	if (!w)
		return;
	struct sfh_endpoints e = ep6();
	uint8_t buf[SFH_PKT_MAX], ext[SFH_PKT_MAX];
	struct sfo_seg s = {.seq = 77, .flags = SFO_ACK, .ack = 9, .len = 5, .wnd = 10};
	int n = sfh_wire_build(w, &e, &s, buf, sizeof buf);
	CHECK(n > 40);
	if (n <= 40) {
		sfh_wire_free(w);
		return;
	}
	/* header, hop-by-hop (8, PadN), destination options (16, PadN), TCP */
	memcpy(ext, buf, 40);
	ext[6] = 0;
	uint8_t hbh[8] = {60, 0, 1, 4, 0, 0, 0, 0};
	uint8_t dst[16] = {6, 1, 1, 12};
	memcpy(ext + 40, hbh, 8);
	memcpy(ext + 48, dst, 16);
	memcpy(ext + 64, buf + 40, (size_t)n - 40);
	size_t m = (size_t)n + 24;
	ext[4] = (uint8_t)((m - 40) >> 8);
	ext[5] = (uint8_t)(m - 40);
	struct sfh_endpoints got;
	struct sfo_seg r;
	int ok = 0;
	CHECK_EQ(sfh_wire_parse(ext, m, &got, &r, &ok), 0);
	CHECK_EQ(ok, 1);
	CHECK_EQ(r.seq, 77);
	CHECK_EQ(r.len, 5);
	/* where TCP starts, for readers of raw fields: past both extension headers */
	CHECK_EQ(sfh_wire_tcp_at(ext, m), 64);
	CHECK_EQ(sfh_wire_tcp_at(buf, (size_t)n), 40);
	CHECK_EQ(sfh_wire_tcp_at(ext, 60), 0); /* cut short */
	/* a fragment header instead: not a whole segment */
	ext[6] = 44;
	CHECK_EQ(sfh_wire_parse(ext, m, &got, &r, &ok), -1);
	/* an extension header running past the packet */
	ext[6] = 0;
	ext[41] = 200;
	CHECK_EQ(sfh_wire_parse(ext, m, &got, &r, &ok), -1);
	/* ICMPv6 (a neighbour solicitation a kernel may send): not TCP */
	buf[6] = 58;
	CHECK_EQ(sfh_wire_parse(buf, (size_t)n, &got, &r, &ok), -1);
	CHECK_EQ(sfh_wire_tcp_at(buf, (size_t)n), 0);
	/* IPv4: after its header, options included */
	struct sfh_endpoints e4 = {.peer_ip = 1, .target_ip = 2, .peer_port = 3, .target_port = 4};
	int n4 = sfh_wire_build(w, &e4, &s, buf, sizeof buf);
	CHECK_EQ(sfh_wire_tcp_at(buf, (size_t)n4), 20);
	CHECK_EQ(sfh_wire_tcp_at(buf, 39), 0);
	sfh_wire_free(w);
}

/* ---- runner, pcap ---- */

static struct sfh_runner *runner;

static int run_on(const char *spec, const char *path, const char *pcap_path, struct sfh_result *res)
{
	struct sfh_scenario s;
	struct sfh_target *t;
	char err[256];
	if (sfh_scn_load(path, &s, err, sizeof err) != 0) {
		fprintf(stderr, "%s\n", err);
		return -2;
	}
	if (sfh_target_open(spec, &t, err, sizeof err) != 0) {
		fprintf(stderr, "%s\n", err);
		return -2;
	}
	struct sfh_pcap *p = pcap_path ? sfh_pcap_open(pcap_path, err, sizeof err) : NULL;
	struct sfh_run_opts o = {.pcap = p};
	int rc = sfh_run(runner, t, &s, &o, res);
	CHECK_EQ(sfh_pcap_close(p), 0);
	sfh_target_close(t);
	return rc;
}

/* The IPv6 seeds conform on the model, and the pcap holds the IPv6 frames both ways. */
static void ipv6_seeds_conform_on_model_and_pcap_reads_back(void)
{
	static const char *const seeds[] = {"corpus/seeds/75-ipv6-handshake-close.scn",
					    "corpus/seeds/76-ipv6-rst-syn-sent.scn",
					    "corpus/seeds/77-ipv6-rst-established.scn"};
	char path[] = "/tmp/synfin-test-ipv6-XXXXXX";
	int fd = mkstemp(path);
	CHECK(fd >= 0);
	if (fd >= 0)
		close(fd);
	for (size_t i = 0; i < sizeof seeds / sizeof seeds[0]; i++) {
		struct sfh_result res;
		CHECK_EQ(run_on("model", seeds[i], path, &res), 0);
		if (res.verdict.kind != SFO_DIV_OK)
			fprintf(stderr, "%s: %s %s\n", seeds[i], res.signature, res.verdict.detail);
		CHECK_EQ(res.verdict.kind, SFO_DIV_OK);
		CHECK(res.steps >= 2);
	}
	/* the last run's pcap: 77 is a handshake, then a RST */
	char perr[PCAP_ERRBUF_SIZE];
	pcap_t *in = pcap_open_offline(path, perr);
	CHECK(in != NULL);
	if (in) {
		CHECK_EQ(pcap_datalink(in), DLT_RAW);
		struct pcap_pkthdr *h;
		const u_char *data;
		int count = 0, from_peer = 0, from_target = 0;
		while (pcap_next_ex(in, &h, &data) == 1) {
			struct sfh_endpoints e;
			struct sfo_seg r;
			int ok = 0;
			CHECK_EQ(data[0] >> 4, 6);
			CHECK_EQ(sfh_wire_parse(data, h->caplen, &e, &r, &ok), 0);
			CHECK_EQ(e.ipv6, 1);
			CHECK_EQ(ok, 1);
			from_peer += e.target_ip6[15] == 2; /* 2001:db8::2 sent it */
			from_target += e.target_ip6[15] == 1;
			if (count == 0)
				CHECK_EQ(r.flags, SFO_SYN);
			if (count == 1)
				CHECK_EQ(r.flags, SFO_SYN | SFO_ACK);
			count++;
		}
		CHECK_EQ(count, 4); /* SYN, SYN-ACK, ACK, RST */
		CHECK_EQ(from_peer, 3);
		CHECK_EQ(from_target, 1);
		pcap_close(in);
	}
	unlink(path);
}

/* RFC 9293 3.7.1 MUST-15: without an MSS option the send MSS is 536 over IPv4 and 1220
 * over IPv6. The model as a stack (one segment a step) cuts 2000 octets accordingly, and
 * the oracle judging it takes those sizes. */
static void default_send_mss_is_1220_over_ipv6(void)
{
	static const char *const fam[2] = {"", "family ipv6\n"};
	for (int v6 = 0; v6 < 2; v6++) {
		char text[512];
		struct sfh_scenario s;
		struct sfh_target *t;
		struct sfh_result res;
		char err[256];
		snprintf(text, sizeof text,
			 "role passive\n%sin S seq=pisn win=65535\nout S. ack=pisn+1\n"
			 "in . win=65535\ncall send 2000\nout . len=%d\nin . win=65535\n"
			 "out . len=%d\n",
			 fam[v6], v6 ? 1220 : 536, v6 ? 780 : 536);
		CHECK_EQ(sfh_scn_parse(text, strlen(text), "mss.scn", &s, err, sizeof err), 0);
		CHECK_EQ(sfh_target_open("model", &t, err, sizeof err), 0);
		struct sfh_run_opts o = {0};
		CHECK_EQ(sfh_run(runner, t, &s, &o, &res), 0);
		CHECK_EQ(res.verdict.kind, SFO_DIV_OK);
		CHECK_EQ(res.assert_failed, 0);
		sfh_target_close(t);
	}
}

/* A target without SFH_CAP_IPV6: the runner refuses the case with a reason before any
 * step, never a verdict. The model's ops without the bit stand in for such a target. */
static void target_without_ipv6_is_refused(void)
{
	struct sfh_target *t;
	char err[256];
	CHECK_EQ(sfh_target_open("model", &t, err, sizeof err), 0);
	struct sfh_target_ops ops = *t->ops;
	ops.caps &= ~(uint32_t)SFH_CAP_IPV6;
	t->ops = &ops;
	t->no_ipv6 = "a reason of its own";
	struct sfh_scenario s;
	struct sfh_result res;
	CHECK_EQ(sfh_scn_load("corpus/seeds/75-ipv6-handshake-close.scn", &s, err, sizeof err), 0);
	struct sfh_run_opts o = {0};
	CHECK_EQ(sfh_run(runner, t, &s, &o, &res), -1);
	CHECK_STR(res.err,
		  "not supported by target model: IPv6 (`family ipv6`): a reason of its own");
	CHECK_EQ(res.steps, 0);
	/* the fuzz core fits such a scenario to IPv4 instead */
	sff_scn_fit(&s, ops.caps, 1000);
	CHECK_EQ(s.ipv6, 0);
	CHECK_EQ(sfh_run(runner, t, &s, &o, &res), 0);
	CHECK_EQ(res.verdict.kind, SFO_DIV_OK);
	/* with the bit, the family stays */
	s.ipv6 = 1;
	sff_scn_fit(&s, ops.caps | SFH_CAP_IPV6, 1000);
	CHECK_EQ(s.ipv6, 1);
	t->ops = sfh_target_find("model");
	sfh_target_close(t);
}

static void mutator_flips_the_family(void)
{
	size_t op = 0, nops = sff_mut_op_count();
	while (op < nops && strcmp(sff_mut_op_name(op), "family") != 0)
		op++;
	CHECK(op < nops);
	if (op == nops)
		return;
	struct sfh_scenario s;
	char err[256];
	CHECK_EQ(parse("role passive\nin S\n", &s, err, sizeof err), 0);
	CHECK_EQ(sff_mut_apply(op, &s, 1), 0);
	CHECK_EQ(s.ipv6, 1);
	CHECK_EQ(sff_mut_apply(op, &s, 2), 0);
	CHECK_EQ(s.ipv6, 0);
}

int main(void)
{
	char err[256];
	family_line_parses_and_round_trips();
	family_errors_name_line_and_column();
	binary_form_carries_the_family_in_role_bit_1();
	ipv6_segments_build_and_parse_back();
	ipv6_extension_headers();
	runner = sfh_runner_new(err, sizeof err);
	CHECK(runner != NULL);
	if (runner) {
		ipv6_seeds_conform_on_model_and_pcap_reads_back();
		default_send_mss_is_1220_over_ipv6();
		target_without_ipv6_is_refused();
	}
	sfh_runner_free(runner);
	mutator_flips_the_family();
	return check_done();
}
