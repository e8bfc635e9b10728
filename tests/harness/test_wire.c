/* The wire: libnet-built segments parse back field for field with a valid checksum,
 * foreign or broken packets are refused, lines print as documented, and pcap files
 * written by synfin read back with libpcap. */
#include <pcap/pcap.h>
#include <stdio.h>
#include <unistd.h>

#include "check.h"
#include "wire.h"

static const struct sfh_endpoints ep = {
	.peer_ip = 0xc6120002, .target_ip = 0xc6120001, .peer_port = 40000, .target_port = 8080};

static void build_parse_roundtrip_keeps_every_field(struct sfh_wire *w)
{
	struct sfo_seg s = {.seq = 0xfffffff0u, .ack = 7, .len = 100, .wnd = 65535, .up = 0,
			    .flags = SFO_SYN | SFO_ACK, .opts = SFO_OPT_MSS | SFO_OPT_WSCALE |
			    SFO_OPT_SACKOK | SFO_OPT_TS, .mss = 1460, .wscale = 7,
			    .tsval = 123456, .tsecr = 654321};
	uint8_t buf[SFH_PKT_MAX];
	int n = sfh_wire_build(w, &ep, &s, buf, sizeof buf);
	CHECK(n > 0);
	struct sfo_seg r;
	struct sfh_endpoints rep;
	int ok = 0;
	CHECK_EQ(sfh_wire_parse(buf, (size_t)n, &rep, &r, &ok), 0);
	CHECK(ok);
	/* parse reports addresses as emitted by a target: source = target side */
	CHECK_EQ(rep.target_ip, ep.peer_ip);
	CHECK_EQ(rep.target_port, ep.peer_port);
	CHECK_EQ(r.seq, s.seq);
	CHECK_EQ(r.ack, s.ack);
	CHECK_EQ(r.len, s.len);
	CHECK_EQ(r.wnd, s.wnd);
	CHECK_EQ(r.flags, s.flags);
	CHECK_EQ(r.opts, s.opts);
	CHECK_EQ(r.mss, 1460);
	CHECK_EQ(r.wscale, 7);
	CHECK_EQ(r.tsval, 123456);
	CHECK_EQ(r.tsecr, 654321);

	buf[n - 1] ^= 0xff; /* corrupt the payload: checksum must fail */
	CHECK_EQ(sfh_wire_parse(buf, (size_t)n, &rep, &r, &ok), 0);
	CHECK(!ok);
	CHECK_EQ(sfh_wire_parse(buf, 19, &rep, &r, &ok), -1);
	buf[9] = 17; /* UDP */
	CHECK_EQ(sfh_wire_parse(buf, (size_t)n, &rep, &r, &ok), -1);
}

static void build_refuses_oversized_payload(struct sfh_wire *w)
{
	struct sfo_seg s = {.flags = SFO_ACK, .len = 1590};
	uint8_t buf[SFH_PKT_MAX];
	CHECK_EQ(sfh_wire_build(w, &ep, &s, buf, sizeof buf), -1);
	s.len = 10;
	CHECK_EQ(sfh_wire_build(w, &ep, &s, buf, 20), -1);
}

static void format_prints_relative_numbers(void)
{
	struct sfo_seg s = {.seq = 1001, .ack = 5001, .wnd = 512, .len = 10,
			    .flags = SFO_FIN | SFO_ACK | SFO_PSH};
	char line[128];
	sfh_seg_format(&s, 1000, 5000, line, sizeof line);
	CHECK_STR(line, "FP. seq 1 ack 1 win 512 len 10");
	struct sfo_seg n = {.seq = 5};
	sfh_seg_format(&n, 0, 0, line, sizeof line);
	CHECK_STR(line, "-   seq 5 win 0");
	char tiny[4];
	CHECK(sfh_seg_format(&s, 1000, 5000, tiny, sizeof tiny) > sizeof tiny);
	CHECK_EQ(tiny[3], 0);
}

static void pcap_written_reads_back(struct sfh_wire *w)
{
	char path[] = "/tmp/synfin-test-wire-XXXXXX";
	int fd = mkstemp(path);
	CHECK(fd >= 0);
	close(fd);
	char err[256];
	struct sfh_pcap *p = sfh_pcap_open(path, err, sizeof err);
	CHECK(p != NULL);
	uint8_t buf[SFH_PKT_MAX];
	for (uint32_t i = 0; i < 3; i++) {
		struct sfo_seg s = {.seq = i, .flags = SFO_ACK, .len = i * 10, .wnd = 100};
		int n = sfh_wire_build(w, &ep, &s, buf, sizeof buf);
		sfh_pcap_write(p, buf, (size_t)n, 1000000u * i + 5);
	}
	CHECK_EQ(sfh_pcap_close(p), 0);

	char perr[PCAP_ERRBUF_SIZE];
	pcap_t *in = pcap_open_offline(path, perr);
	CHECK(in != NULL);
	if (in) {
		CHECK_EQ(pcap_datalink(in), DLT_RAW);
		struct pcap_pkthdr *h;
		const u_char *data;
		int count = 0;
		while (pcap_next_ex(in, &h, &data) == 1) {
			struct sfo_seg r;
			struct sfh_endpoints rep;
			CHECK_EQ(sfh_wire_parse(data, h->caplen, &rep, &r, NULL), 0);
			CHECK_EQ(r.seq, (uint32_t)count);
			CHECK_EQ(r.len, (uint32_t)count * 10);
			CHECK_EQ(h->ts.tv_sec, count);
			count++;
		}
		CHECK_EQ(count, 3);
		pcap_close(in);
	}
	unlink(path);
	CHECK(sfh_pcap_open("/nonexistent-dir/x.pcap", err, sizeof err) == NULL);
	CHECK(strstr(err, "/nonexistent-dir/x.pcap") != NULL);
}

/* The builder patches the template libnet built for a shape while lengths stay the same:
 * a long random run through one builder must give, octet for octet, what a fresh builder
 * (libnet from nothing) gives for each segment alone (but the IP id, which counts, and the
 * IP checksum over it), whatever the ports and addresses. */
static void reused_blocks_build_what_fresh_ones_do(struct sfh_wire *w)
{
	uint32_t x = 12345;
	char err[256];
	int same = 1;
	for (int i = 0; i < 20000 && same; i++) {
		x = x * 1103515245u + 12345u;
		struct sfo_seg s = {.seq = x, .ack = x * 7, .wnd = (uint16_t)(x >> 8),
				    .flags = (uint8_t)(x >> 3), .len = (x >> 20) % 4 ? 0 : (x >> 12) % 60,
				    .opts = (uint8_t)((x >> 24) % 3 ? 0 : (x >> 26) & 15),
				    .mss = (uint16_t)x, .wscale = (uint8_t)(x % 15),
				    .tsval = x ^ 5, .tsecr = x ^ 9, .up = (uint16_t)(x >> 16)};
		uint8_t a[SFH_PKT_MAX], b[SFH_PKT_MAX];
		struct sfh_endpoints e = ep; /* the case's ports and addresses vary too */
		e.peer_port = (uint16_t)(ep.peer_port + x % 3);
		e.target_port = (uint16_t)(ep.target_port + (x >> 5) % 2);
		e.peer_ip = ep.peer_ip + (x >> 9) % 2;
		struct sfh_wire *fresh = sfh_wire_new(err, sizeof err);
		int na = sfh_wire_build(w, &e, &s, a, sizeof a);
		int nb = fresh ? sfh_wire_build(fresh, &e, &s, b, sizeof b) : -1;
		sfh_wire_free(fresh);
		same = na > 0 && na == nb && memcmp(a + 12, b + 12, (size_t)na - 12) == 0 &&
		       memcmp(a, b, 4) == 0 && memcmp(a + 6, b + 6, 4) == 0;
		struct sfo_seg r;
		struct sfh_endpoints rep;
		int ok = 0;
		uint32_t ipsum = 0; /* the IP header checksum: all ones over the header */
		for (int k = 0; na >= 20 && k < 20; k += 2)
			ipsum += (uint32_t)(a[k] << 8 | a[k + 1]);
		while (ipsum >> 16)
			ipsum = (ipsum & 0xffff) + (ipsum >> 16);
		same = same && ipsum == 0xffff;
		same = same && sfh_wire_parse(a, (size_t)na, &rep, &r, &ok) == 0 && ok &&
		       r.seq == s.seq && r.len == s.len && r.opts == s.opts;
		if (!same)
			fprintf(stderr, "segment %d differs (flags %#x len %u opts %#x)\n", i, s.flags,
				s.len, s.opts);
	}
	CHECK(same);
}

int main(void)
{
	char err[256];
	struct sfh_wire *w = sfh_wire_new(err, sizeof err);
	CHECK(w != NULL);
	if (!w)
		return check_done();
	build_parse_roundtrip_keeps_every_field(w);
	build_refuses_oversized_payload(w);
	format_prints_relative_numbers();
	pcap_written_reads_back(w);
	reused_blocks_build_what_fresh_ones_do(w);
	sfh_wire_free(w);
	sfh_wire_free(NULL);
	return check_done();
}
