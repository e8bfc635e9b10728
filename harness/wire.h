/* synfin wire: TCP segments over IPv4 or IPv6 in memory (built with libnet, LIBNET_NONE),
 * parsed back from what targets emit, printed one line each, and written to pcap files
 * (libpcap). */
#ifndef SYNFIN_WIRE_H
#define SYNFIN_WIRE_H

#include <stddef.h>
#include <stdio.h>
#include <stdint.h>

#include "oracle.h"

#define SFH_PKT_MAX 1600

/* Addresses and ports of one case, host byte order. A zeroed struct is IPv4. */
struct sfh_endpoints {
	uint32_t peer_ip, target_ip;
	uint16_t peer_port, target_port;
	uint8_t ipv6; /* 1: an IPv6 case, addresses below (peer_ip, target_ip unused) */
	uint8_t peer_ip6[16], target_ip6[16]; /* with ipv6: network byte order */
};

/* One IP packet (IPv4 or IPv6) as bytes. */
struct sfh_pkt {
	uint16_t len;
	uint8_t data[SFH_PKT_MAX];
	uint64_t at_us; /* when the target emitted it, on sfh_target.clock_us (SFH_CAP_EMIT_TIME) */
};

/* A segment builder: owns one libnet context, reused for every packet. */
struct sfh_wire;
struct sfh_wire *sfh_wire_new(char *err, size_t errlen); /* NULL on failure, err says why */
void sfh_wire_free(struct sfh_wire *w);                  /* NULL is a no-op */

/* Build the IP packet carrying seg from the peer to the target: IPv4, or IPv6 when
 * ep->ipv6 (no extension headers; hop limit 64). The payload is a fixed deterministic
 * pattern of seg->len octets. Returns its length, or -1 if it does not fit cap or libnet
 * fails. */
int sfh_wire_build(struct sfh_wire *w, const struct sfh_endpoints *ep, const struct sfo_seg *seg,
		   uint8_t *buf, size_t cap);

/* Parse a TCP packet over IPv4 or IPv6 (IPv6 extension headers hop-by-hop, routing and
 * destination options are stepped over; a fragment is not a segment). Returns 0 and
 * fills *seg (and the packet's addresses in *ep, ep->ipv6 saying which family: peer_* =
 * destination, target_* = source, i.e. as emitted by the target), or -1 if it is not a
 * well-formed TCP packet. *csum_ok (if not NULL) says whether the TCP checksum verifies
 * (over the family's pseudo-header). */
int sfh_wire_parse(const uint8_t *ip, size_t len, struct sfh_endpoints *ep, struct sfo_seg *seg,
		   int *csum_ok);

/* Where the TCP header of an IPv4 or IPv6 packet starts (past IPv6 extension headers as
 * sfh_wire_parse steps over them), or 0 if it is not a TCP packet that holds one whole.
 * For code that reads raw header fields sfh_wire_parse does not return (option order). */
size_t sfh_wire_tcp_at(const uint8_t *ip, size_t len);

/* One line in tcpdump's spirit: "S. seq 0 ack 1 win 65535 len 0 <mss 1460,ws 7>".
 * seq is printed minus seq_base (the sender's ISN), ack minus ack_base (the receiver's);
 * pass 0 for absolute numbers. Returns the length needed (like snprintf). */
size_t sfh_seg_format(const struct sfo_seg *s, uint32_t seq_base, uint32_t ack_base, char *buf,
		      size_t cap);

/* pcap writer (LINKTYPE_RAW: bare IP packets, IPv4 and IPv6 told apart by their version
 * field), readable by tshark and Wireshark. */
struct sfh_pcap;
/* Creates or truncates path, never through a symbolic link; NULL with err. */
struct sfh_pcap *sfh_pcap_open(const char *path, char *err, size_t errlen);
/* The same on a stream the caller opened (e.g. sfh_io_atomic_open); takes f (closed on
 * failure too; name is for errors). */
struct sfh_pcap *sfh_pcap_fopen(FILE *f, const char *name, char *err, size_t errlen);
/* ts_us: capture time in microseconds (the runner uses virtual time). */
void sfh_pcap_write(struct sfh_pcap *p, const uint8_t *ip, size_t len, uint64_t ts_us);
int sfh_pcap_close(struct sfh_pcap *p); /* flushes; 0 ok, -1 (errno) on a write error; NULL ok */

#endif
