/* Segments on the wire: build with libnet (LIBNET_NONE: packets only in memory), parse
 * what targets emit, print one line per segment, write pcap files. */
#include <arpa/inet.h>
#include <libnet.h>
#include <pcap/pcap.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "wire.h"

/* One packet shape (option and payload lengths): libnet builds its first packet, which
 * is kept as a template; every later packet of the shape is the template with its fields
 * and checksums written in place (libnet's per-packet block lookups and its coalescing
 * copy cost more than the TCP exchange they feed). tests/harness/test_wire.c checks that
 * the result is octet for octet what libnet builds from nothing. */
struct shape {
	libnet_t *ln;
	int ipv6; /* the family: an IPv6 template has a 40-octet header, no IPv4 one */
	size_t optlen;
	uint32_t plen;
	uint32_t len;  /* of the template; 0: none yet */
	uint64_t used; /* when last used (sfh_wire.clock) */
	uint8_t tmpl[SFH_PKT_MAX];
};

/* Scenarios alternate between a few shapes (a SYN with options, bare ACKs, data of one
 * or two sizes): one libnet context per recent shape keeps each of them in place. */
#define NSHAPES 8

struct sfh_wire {
	struct shape shape[NSHAPES];
	uint64_t clock;
	uint16_t ip_id;
	/* Payload octets are a fixed pattern so captures are readable and cases repeat. */
	uint8_t payload[SFH_PKT_MAX];
};

struct sfh_wire *sfh_wire_new(char *err, size_t errlen)
{
	struct sfh_wire *w = calloc(1, sizeof *w);
	if (!w) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	for (int i = 0; i < NSHAPES; i++) {
		char ebuf[LIBNET_ERRBUF_SIZE] = "";
		w->shape[i].ln = libnet_init(LIBNET_NONE, NULL, ebuf);
		if (!w->shape[i].ln) {
			snprintf(err, errlen, "libnet_init: %s", ebuf);
			sfh_wire_free(w);
			return NULL;
		}
	}
	for (size_t i = 0; i < sizeof w->payload; i++)
		w->payload[i] = (uint8_t)('a' + i % 26);
	return w;
}

void sfh_wire_free(struct sfh_wire *w)
{
	if (!w)
		return;
	for (int i = 0; i < NSHAPES; i++)
		if (w->shape[i].ln)
			libnet_destroy(w->shape[i].ln);
	free(w);
}

/* The shape's slot, or the least recently used one, emptied. */
static struct shape *shape_for(struct sfh_wire *w, int ipv6, size_t optlen, uint32_t plen)
{
	struct shape *lru = &w->shape[0];
	for (int i = 0; i < NSHAPES; i++) {
		struct shape *sh = &w->shape[i];
		if (sh->len && sh->ipv6 == ipv6 && sh->optlen == optlen && sh->plen == plen)
			return sh;
		if (sh->used < lru->used)
			lru = sh;
	}
	lru->len = 0;
	lru->ipv6 = ipv6;
	lru->optlen = optlen;
	lru->plen = plen;
	return lru;
}

/* TCP options in wire form; returns their length, padded to 4 with NOPs/EOL zeros. */
static size_t build_options(const struct sfo_seg *s, uint8_t *o)
{
	size_t n = 0;
	if (s->opts & SFO_OPT_MSS) {
		o[n++] = 2, o[n++] = 4, o[n++] = (uint8_t)(s->mss >> 8), o[n++] = (uint8_t)s->mss;
	}
	if (s->opts & SFO_OPT_SACKOK) {
		o[n++] = 1, o[n++] = 1, o[n++] = 4, o[n++] = 2;
	}
	if (s->opts & SFO_OPT_TS) {
		o[n++] = 1, o[n++] = 1, o[n++] = 8, o[n++] = 10;
		for (int i = 3; i >= 0; i--)
			o[n++] = (uint8_t)(s->tsval >> (8 * i));
		for (int i = 3; i >= 0; i--)
			o[n++] = (uint8_t)(s->tsecr >> (8 * i));
	}
	if (s->opts & SFO_OPT_WSCALE) {
		o[n++] = 1, o[n++] = 3, o[n++] = 3, o[n++] = s->wscale;
	}
	return n; /* every option above is padded to a multiple of 4 already */
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)(v >> 16));
	put16(p + 2, (uint16_t)v);
}

static uint64_t csum_add(uint64_t acc, const uint8_t *p, size_t n);

#define IPV6_H 40 /* the fixed IPv6 header (RFC 8200 §3) */

/* The start of the TCP checksum: the pseudo-header's sum, over the addresses in the IP
 * header at ip. IPv4 (RFC 9293 §3.1): source, destination, zero, protocol, TCP length;
 * IPv6 (RFC 8200 §8.1): source, destination, upper-layer length (32 bits), three zeros
 * and the next header. The sum of the length and protocol parts is the same in both. */
static uint64_t pseudo_sum(const uint8_t *ip, int ipv6, size_t tcplen)
{
	const uint8_t tail[4] = {0, IPPROTO_TCP, (uint8_t)(tcplen >> 8), (uint8_t)tcplen};
	const uint8_t len_hi[4] = {(uint8_t)(tcplen >> 24), (uint8_t)(tcplen >> 16), 0, 0};
	if (ipv6)
		return csum_add(csum_add(csum_add(0, ip + 8, 32), len_hi, 4), tail, 4);
	return csum_add(csum_add(0, ip + 12, 8), tail, 4);
}

static uint16_t csum_fold(uint64_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* libnet's first packet of a shape: IPv4 (no options) or IPv6 (no extension headers),
 * and TCP with opts, payload. libnet fills the TCP checksum over the pseudo-header of
 * the IP header it finds below the TCP one. */
static int build_libnet(struct sfh_wire *w, struct shape *sh, const struct sfh_endpoints *ep,
			const struct sfo_seg *seg, const uint8_t *opts, uint8_t *buf, size_t cap)
{
	uint8_t *pkt = NULL;
	uint32_t pkt_len = 0, plen = sh->plen;
	size_t optlen = sh->optlen;
	int ret = -1;
	libnet_clear_packet(sh->ln);
	if (optlen && libnet_build_tcp_options(opts, (uint32_t)optlen, sh->ln, 0) == -1)
		return -1;
	if (libnet_build_tcp(ep->peer_port, ep->target_port, seg->seq, seg->ack, seg->flags,
			     seg->wnd, 0, seg->up, (uint16_t)(LIBNET_TCP_H + optlen + plen),
			     plen ? w->payload : NULL, plen, sh->ln, 0) == -1)
		return -1;
	if (sh->ipv6) {
		struct libnet_in6_addr src, dst;
		memcpy(&src, ep->peer_ip6, 16);
		memcpy(&dst, ep->target_ip6, 16);
		if (libnet_build_ipv6(0, 0, (uint16_t)(LIBNET_TCP_H + optlen + plen), IPPROTO_TCP,
				      64, src, dst, NULL, 0, sh->ln, 0) == -1)
			return -1;
	} else if (libnet_build_ipv4((uint16_t)(LIBNET_IPV4_H + LIBNET_TCP_H + optlen + plen), 0,
				     w->ip_id++, 0x4000 /* DF */, 64, IPPROTO_TCP, 0,
				     htonl(ep->peer_ip), htonl(ep->target_ip), NULL, 0, sh->ln,
				     0) == -1) {
		return -1;
	}
	/* coalesce: the whole packet with checksums; cull_packet refuses LIBNET_NONE */
	if (libnet_pblock_coalesce(sh->ln, &pkt, &pkt_len) == -1)
		return -1;
	if (pkt_len <= cap && pkt_len <= sizeof sh->tmpl) {
		memcpy(buf, pkt, pkt_len);
		memcpy(sh->tmpl, pkt, pkt_len);
		sh->len = pkt_len;
		ret = (int)pkt_len;
	}
	libnet_adv_free_packet(sh->ln, pkt);
	return ret;
}

int sfh_wire_build(struct sfh_wire *w, const struct sfh_endpoints *ep, const struct sfo_seg *seg,
		   uint8_t *buf, size_t cap)
{
	uint8_t opts[40];
	size_t optlen = build_options(seg, opts);
	uint32_t plen = seg->len;
	int ipv6 = !!ep->ipv6;
	size_t iph = ipv6 ? IPV6_H : LIBNET_IPV4_H;

	if (plen + iph + LIBNET_TCP_H + optlen > cap || plen > sizeof w->payload)
		return -1;
	struct shape *sh = shape_for(w, ipv6, optlen, plen);
	sh->used = ++w->clock;
	if (!sh->len)
		return build_libnet(w, sh, ep, seg, opts, buf, cap);
	/* the template with this segment's fields; then the checksums anew */
	uint8_t *ip = buf, *tcp = buf + iph;
	size_t tcplen = sh->len - iph;
	memcpy(buf, sh->tmpl, sh->len);
	if (ipv6) { /* no header checksum; lengths and hop limit are the template's */
		memcpy(ip + 8, ep->peer_ip6, 16);
		memcpy(ip + 24, ep->target_ip6, 16);
	} else {
		put16(ip + 4, w->ip_id++);
		put16(ip + 10, 0);
		put32(ip + 12, ep->peer_ip);
		put32(ip + 16, ep->target_ip);
		put16(ip + 10, htons(csum_fold(csum_add(0, ip, LIBNET_IPV4_H))));
	}
	put16(tcp, ep->peer_port);
	put16(tcp + 2, ep->target_port);
	put32(tcp + 4, seg->seq);
	put32(tcp + 8, seg->ack);
	tcp[13] = seg->flags;
	put16(tcp + 14, seg->wnd);
	put16(tcp + 16, 0);
	put16(tcp + 18, seg->up);
	memcpy(tcp + LIBNET_TCP_H, opts, optlen);
	uint64_t sum = pseudo_sum(ip, ipv6, tcplen);
	put16(tcp + 16, htons(csum_fold(csum_add(sum, tcp, tcplen))));
	return (int)sh->len;
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* Options we understand are recorded; others are skipped (MUST-6); a malformed list
 * ends the walk without failing the parse: the segment itself is still observed. */
static void parse_options(const uint8_t *o, size_t n, struct sfo_seg *s)
{
	size_t i = 0;
	while (i < n) {
		uint8_t kind = o[i];
		if (kind == 0)
			break;
		if (kind == 1) {
			i++;
			continue;
		}
		if (i + 1 >= n || o[i + 1] < 2 || i + o[i + 1] > n)
			break;
		uint8_t len = o[i + 1];
		if (kind == 2 && len == 4) {
			s->opts |= SFO_OPT_MSS;
			s->mss = get16(o + i + 2);
		} else if (kind == 3 && len == 3) {
			s->opts |= SFO_OPT_WSCALE;
			s->wscale = o[i + 2];
		} else if (kind == 4 && len == 2) {
			s->opts |= SFO_OPT_SACKOK;
		} else if (kind == 8 && len == 10) {
			s->opts |= SFO_OPT_TS;
			s->tsval = get32(o + i + 2);
			s->tsecr = get32(o + i + 6);
		}
		i += len;
	}
}

/* Add n octets to a ones'-complement accumulator, 32 bits at a time in host order (the
 * sum does not depend on byte order, RFC 1071 section 2(B), as long as every part is
 * added the same way; an odd last octet is the high half of a network-order pair). */
static uint64_t csum_add(uint64_t acc, const uint8_t *p, size_t n)
{
	uint32_t w;
	uint16_t h;
	for (; n >= 4; p += 4, n -= 4) {
		memcpy(&w, p, 4);
		acc += w;
	}
	if (n >= 2) {
		memcpy(&h, p, 2);
		acc += h;
		p += 2;
		n -= 2;
	}
	if (n) {
		const uint8_t last[2] = {p[0], 0};
		memcpy(&h, last, 2);
		acc += h;
	}
	return acc;
}

/* Ones'-complement sum over the pseudo-header and the TCP segment: all ones when the
 * checksum field is right. */
static int tcp_csum_ok(const uint8_t *ip, int ipv6, const uint8_t *tcp, size_t tcplen)
{
	uint64_t sum = csum_add(pseudo_sum(ip, ipv6, tcplen), tcp, tcplen);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return sum == 0xffff;
}

/* The TCP header of an IPv6 packet: its offset from ip past the extension headers a
 * sender may put before it (hop-by-hop 0, routing 43, destination options 60; each
 * (len+1)*8 octets, RFC 8200 §4), or 0 if there is none (a fragment 44, no next
 * header 59, another protocol, or a header running past end). */
static size_t ipv6_tcp_at(const uint8_t *ip, size_t end)
{
	uint8_t nh = ip[6];
	size_t at = IPV6_H;
	for (int hops = 0; hops < 8; hops++) {
		if (nh == IPPROTO_TCP)
			return at;
		if ((nh != 0 && nh != 43 && nh != 60) || at + 8 > end)
			return 0;
		nh = ip[at];
		at += ((size_t)ip[at + 1] + 1) * 8;
	}
	return 0;
}

size_t sfh_wire_tcp_at(const uint8_t *ip, size_t len)
{
	size_t at, end;
	if (len >= IPV6_H && (ip[0] >> 4) == 6) {
		end = IPV6_H + get16(ip + 4);
		at = end <= len ? ipv6_tcp_at(ip, end) : 0;
	} else if (len >= 20 && (ip[0] >> 4) == 4 && ip[9] == IPPROTO_TCP) {
		at = (size_t)(ip[0] & 0x0f) * 4;
		end = get16(ip + 2) < len ? get16(ip + 2) : len;
		at = at >= 20 ? at : 0;
	} else {
		return 0;
	}
	return at && at + 20 <= end ? at : 0;
}

int sfh_wire_parse(const uint8_t *ip, size_t len, struct sfh_endpoints *ep, struct sfo_seg *seg,
		   int *csum_ok)
{
	size_t ihl, tot;
	int ipv6 = len >= IPV6_H && (ip[0] >> 4) == 6;
	if (ipv6) {
		tot = IPV6_H + get16(ip + 4); /* a jumbogram (0) is never a whole segment here */
		if (tot > len || !(ihl = ipv6_tcp_at(ip, tot)) || tot < ihl + 20)
			return -1;
	} else {
		if (len < 20 || (ip[0] >> 4) != 4 || ip[9] != IPPROTO_TCP)
			return -1;
		ihl = (size_t)(ip[0] & 0x0f) * 4;
		tot = get16(ip + 2);
		if (ihl < 20 || tot < ihl + 20 || tot > len)
			return -1;
		if (get16(ip + 6) & 0x3fff) /* a fragment: not a whole segment */
			return -1;
	}
	const uint8_t *t = ip + ihl;
	size_t tcplen = tot - ihl;
	size_t doff = (size_t)(t[12] >> 4) * 4;
	if (doff < 20 || doff > tcplen)
		return -1;
	memset(seg, 0, sizeof *seg);
	memset(ep, 0, sizeof *ep);
	ep->ipv6 = (uint8_t)ipv6;
	if (ipv6) {
		memcpy(ep->target_ip6, ip + 8, 16);
		memcpy(ep->peer_ip6, ip + 24, 16);
	} else {
		ep->target_ip = get32(ip + 12);
		ep->peer_ip = get32(ip + 16);
	}
	ep->target_port = get16(t);
	ep->peer_port = get16(t + 2);
	seg->seq = get32(t + 4);
	seg->ack = get32(t + 8);
	seg->flags = t[13];
	seg->wnd = get16(t + 14);
	seg->up = get16(t + 18);
	seg->len = (uint32_t)(tcplen - doff);
	parse_options(t + 20, doff - 20, seg);
	if (csum_ok)
		*csum_ok = tcp_csum_ok(ip, ipv6, t, tcplen);
	return 0;
}

size_t sfh_seg_format(const struct sfo_seg *s, uint32_t seq_base, uint32_t ack_base, char *buf,
		      size_t cap)
{
	static const char letters[] = "FSRPU"; /* tcpdump's order below */
	static const uint8_t bits[] = {SFO_FIN, SFO_SYN, SFO_RST, SFO_PSH, SFO_URG};
	char fl[12];
	size_t k = 0;
	for (size_t i = 0; i < sizeof bits; i++)
		if (s->flags & bits[i])
			fl[k++] = letters[i];
	if (s->flags & SFO_ECE)
		fl[k++] = 'E';
	if (s->flags & SFO_CWR)
		fl[k++] = 'W';
	if (s->flags & SFO_ACK)
		fl[k++] = '.';
	if (k == 0)
		fl[k++] = '-';
	fl[k] = 0;

	char opt[96] = "";
	size_t o = 0;
	if (s->opts & SFO_OPT_MSS)
		o += (size_t)snprintf(opt + o, sizeof opt - o, "%smss %u", o ? "," : "", s->mss);
	if (s->opts & SFO_OPT_SACKOK && o < sizeof opt)
		o += (size_t)snprintf(opt + o, sizeof opt - o, "%ssackOK", o ? "," : "");
	if (s->opts & SFO_OPT_TS && o < sizeof opt)
		o += (size_t)snprintf(opt + o, sizeof opt - o, "%sTS %u:%u", o ? "," : "",
				      s->tsval, s->tsecr);
	if (s->opts & SFO_OPT_WSCALE && o < sizeof opt)
		o += (size_t)snprintf(opt + o, sizeof opt - o, "%sws %u", o ? "," : "", s->wscale);

	int n = snprintf(buf, cap, "%-3s seq %u", fl, s->seq - seq_base);
	size_t total = n > 0 ? (size_t)n : 0;
#define SFH_APPEND(...)                                                                    \
	do {                                                                               \
		int m_ = snprintf(total < cap ? buf + total : NULL,                        \
				  total < cap ? cap - total : 0, __VA_ARGS__);             \
		total += m_ > 0 ? (size_t)m_ : 0;                                          \
	} while (0)
	if (s->flags & SFO_ACK)
		SFH_APPEND(" ack %u", s->ack - ack_base);
	SFH_APPEND(" win %u", s->wnd);
	if (s->len)
		SFH_APPEND(" len %u", s->len);
	if (s->flags & SFO_URG)
		SFH_APPEND(" urg %u", s->up);
	if (o)
		SFH_APPEND(" <%s>", opt);
#undef SFH_APPEND
	return total;
}

struct sfh_pcap {
	pcap_t *dead;
	pcap_dumper_t *dump;
	int err; /* errno of the first failed write: the stream keeps only its flag */
};

struct sfh_pcap *sfh_pcap_fopen(FILE *f, const char *name, char *err, size_t errlen)
{
	struct sfh_pcap *p = calloc(1, sizeof *p);
	if (!p || !(p->dead = pcap_open_dead(DLT_RAW, 65535))) {
		snprintf(err, errlen, "%s: %s", name,
			 p ? "pcap_open_dead failed" : "out of memory");
		free(p);
		fclose(f);
		return NULL;
	}
	p->dump = pcap_dump_fopen(p->dead, f);
	if (!p->dump) {
		snprintf(err, errlen, "%s: %s", name, pcap_geterr(p->dead));
		pcap_close(p->dead);
		free(p);
		fclose(f);
		return NULL;
	}
	return p;
}

struct sfh_pcap *sfh_pcap_open(const char *path, char *err, size_t errlen)
{
	/* Never through a symbolic link planted at path. */
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);
	FILE *f = fd < 0 ? NULL : fdopen(fd, "wb");
	if (!f) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	return sfh_pcap_fopen(f, path, err, errlen);
}

void sfh_pcap_write(struct sfh_pcap *p, const uint8_t *ip, size_t len, uint64_t ts_us)
{
	struct pcap_pkthdr h;
	if (!p)
		return;
	h.ts.tv_sec = (time_t)(ts_us / 1000000);
	h.ts.tv_usec = (suseconds_t)(ts_us % 1000000);
	h.caplen = h.len = (bpf_u_int32)len;
	errno = 0;
	pcap_dump((u_char *)p->dump, &h, ip);
	if (!p->err && ferror(pcap_dump_file(p->dump)))
		p->err = errno ? errno : EIO;
}

int sfh_pcap_close(struct sfh_pcap *p)
{
	int ret = 0;
	if (!p)
		return 0;
	/* pcap_dump() does not report a failed write; the stream remembers it. */
	FILE *f = pcap_dump_file(p->dump);
	int e = 0;
	errno = 0;
	if (pcap_dump_flush(p->dump) != 0 || ferror(f)) {
		e = p->err ? p->err : errno ? errno : EIO;
		ret = -1;
	}
	pcap_dump_close(p->dump);
	pcap_close(p->dead);
	free(p);
	errno = e;
	return ret;
}
