/* The control protocol codec (harness/targets/exec/proto.h): every message type survives an
 * encode/decode round trip; the documented example frame is what the encoder writes; a
 * frame cut anywhere asks for more; each kind of garbage is refused at the offset of the
 * offending octet; the framed connection reports stream offsets and end of file. */
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "check.h"
#include "proto.h"
#include "proto_io.h"

static uint8_t buf[SFX_MAX_FRAME];

static struct sfx_bytes bytes(const char *s)
{
	struct sfx_bytes b = {(const uint8_t *)s, strlen(s)};
	return b;
}

static int same_bytes(struct sfx_bytes a, const char *s)
{
	return a.len == strlen(s) && (a.len == 0 || memcmp(a.p, s, a.len) == 0);
}

/* Encode m, then decode it from every prefix: 0 (more) until whole, then 1 with the
 * frame's size. Returns the decoded message in *out. */
static size_t round_trip(const struct sfx_msg *m, struct sfx_msg *out)
{
	size_t n = sfx_encode(m, buf, sizeof buf);
	CHECK(n >= SFX_HDR + 1);
	struct sfx_err e;
	size_t used;
	for (size_t cut = 0; cut < n; cut++)
		CHECK_EQ(sfx_decode(buf, cut, out, &used, &e), 0);
	CHECK_EQ(sfx_decode(buf, n, out, &used, &e), 1);
	CHECK_EQ(used, n);
	CHECK_EQ(out->type, m->type);
	return n;
}

static void requests_round_trip(void)
{
	struct sfx_msg m = {0}, d;
	m.type = SFX_HELLO;
	m.u.hello.vmin = 1;
	m.u.hello.vmax = 3;
	CHECK_EQ(round_trip(&m, &d), 9);
	CHECK_EQ(d.u.hello.vmin, 1);
	CHECK_EQ(d.u.hello.vmax, 3);

	memset(&m, 0, sizeof m);
	m.type = SFX_OPEN;
	m.u.open.case_no = 77;
	m.u.open.role = 1;
	m.u.open.flags = 1;
	m.u.open.iss = 0xdeadbeef;
	m.u.open.ep.peer_ip = 0xc0000202;
	m.u.open.ep.target_port = 10000;
	m.u.open.options = bytes("mss=536");
	CHECK_EQ(round_trip(&m, &d), 5 + 24 + 7);
	CHECK_EQ(d.u.open.case_no, 77);
	CHECK_EQ(d.u.open.role, 1);
	CHECK_EQ(d.u.open.iss, 0xdeadbeef);
	CHECK_EQ(d.u.open.ep.peer_ip, 0xc0000202);
	CHECK_EQ(d.u.open.ep.target_port, 10000);
	CHECK(same_bytes(d.u.open.options, "mss=536"));

	memset(&m, 0, sizeof m);
	m.type = SFX_CALL;
	m.u.call.call = SFX_CALL_SEND;
	m.u.call.arg = 100;
	CHECK_EQ(round_trip(&m, &d), 10);
	/* the example in docs/exec-protocol.md */
	static const uint8_t doc[] = {0, 0, 0, 6, 4, 3, 0, 0, 0, 0x64};
	CHECK(memcmp(buf, doc, sizeof doc) == 0);
	CHECK_EQ(d.u.call.arg, 100);

	uint8_t pkt[40] = {0x45};
	memset(&m, 0, sizeof m);
	m.type = SFX_INJECT;
	m.u.pkt.p = pkt;
	m.u.pkt.len = sizeof pkt;
	CHECK_EQ(round_trip(&m, &d), 45);
	CHECK_EQ(d.u.pkt.len, 40);
	CHECK(memcmp(d.u.pkt.p, pkt, 40) == 0);

	static const uint8_t empty[] = {SFX_RESET, SFX_STATE, SFX_SYNC, SFX_BYE};
	for (size_t i = 0; i < sizeof empty; i++) {
		memset(&m, 0, sizeof m);
		m.type = empty[i];
		CHECK_EQ(round_trip(&m, &d), 5);
	}
}

static void replies_round_trip(void)
{
	struct sfx_msg m, d;
	sfx_msg_reply(&m, SFX_HELLO, SFX_OK, 0, 0, NULL);
	m.u.reply.version = 1;
	m.u.reply.caps = SFX_CAP_STATE | SFX_CAP_VTIME;
	m.u.reply.stack = bytes("lwIP 2.1.3");
	m.u.reply.profile = bytes("lwip");
	round_trip(&m, &d);
	CHECK_EQ(d.u.reply.req, SFX_HELLO);
	CHECK_EQ(d.u.reply.caps, 3);
	CHECK(same_bytes(d.u.reply.stack, "lwIP 2.1.3"));
	CHECK(same_bytes(d.u.reply.profile, "lwip"));

	sfx_msg_reply(&m, SFX_OPEN, SFX_OK, 0, 0, NULL);
	m.u.reply.ep.peer_ip = 1;
	m.u.reply.ep.target_ip = 2;
	m.u.reply.ep.peer_port = 3;
	m.u.reply.ep.target_port = 4;
	CHECK_EQ(round_trip(&m, &d), 5 + 10 + 12);
	CHECK_EQ(d.u.reply.ep.target_ip, 2);
	CHECK_EQ(d.u.reply.ep.target_port, 4);

	sfx_msg_reply(&m, SFX_CALL, SFX_REFUSED, 0, -11, "ERR_CONN");
	round_trip(&m, &d);
	CHECK_EQ(d.u.reply.status, SFX_REFUSED);
	CHECK_EQ(d.u.reply.code, -11);
	CHECK(same_bytes(d.u.reply.text, "ERR_CONN"));

	sfx_msg_reply(&m, SFX_STATE, SFX_OK, SFX_STATE_UNKNOWN, 0, NULL);
	round_trip(&m, &d);
	CHECK_EQ(d.u.reply.value, 255);
	/* the encoder refuses what the decoder would call garbage */
	sfx_msg_reply(&m, SFX_STATE, SFX_OK, 11, 0, NULL);
	CHECK_EQ(sfx_encode(&m, buf, sizeof buf), 0);
	sfx_msg_reply(&m, SFX_OPEN, SFX_REFUSED, 0, 0, NULL);
	CHECK_EQ(sfx_encode(&m, buf, sizeof buf), 0);
	/* and never writes past cap */
	sfx_msg_reply(&m, SFX_CALL, SFX_OK, 5, 0, NULL);
	CHECK_EQ(sfx_encode(&m, buf, 14), 0);
	CHECK_EQ(sfx_encode(&m, buf, 15), 15);
}

/* Decode raw octets expecting garbage at offset off. */
static void garbage(const uint8_t *b, size_t n, size_t off, const char *what)
{
	struct sfx_msg m;
	struct sfx_err e;
	size_t used;
	CHECK_EQ(sfx_decode(b, n, &m, &used, &e), -1);
	CHECK_EQ(e.offset, off);
	if (!strstr(e.what, what))
		fprintf(stderr, "garbage message '%s' lacks '%s'\n", e.what, what);
	CHECK(strstr(e.what, what) != NULL);
}

static void garbage_named_by_offset(void)
{
	const uint8_t zero_len[] = {0, 0, 0, 0};
	garbage(zero_len, 4, 0, "frame length 0");
	const uint8_t huge[] = {0, 1, 0, 1};
	garbage(huge, 4, 0, "frame length 65537");
	const uint8_t unknown[] = {0, 0, 0, 1, 0x42};
	garbage(unknown, 5, 4, "unknown message type 0x42");
	const uint8_t bad_call[] = {0, 0, 0, 6, SFX_CALL, 8, 0, 0, 0, 0};
	garbage(bad_call, 10, 5, "CALL call 8");
	const uint8_t short_call[] = {0, 0, 0, 3, SFX_CALL, 1, 0};
	garbage(short_call, 7, 6, "frame ends inside CALL arg");
	const uint8_t long_reset[] = {0, 0, 0, 2, SFX_RESET, 0};
	garbage(long_reset, 6, 5, "1 octets after the last field");
	const uint8_t bad_status[] = {0, 0, 0, 11, SFX_REPLY, SFX_CALL, 7, 0, 0, 0, 0, 0, 0, 0, 0};
	garbage(bad_status, 15, 6, "REPLY status 7");
	const uint8_t bad_state[] = {0, 0, 0, 11, SFX_REPLY, SFX_STATE, 0, 0, 0, 0, 12, 0, 0, 0, 0};
	garbage(bad_state, 15, 7, "STATE value 12");
	/* a string longer than the frame */
	const uint8_t bad_str[] = {0, 0, 0, 13, SFX_REPLY, SFX_CALL, 1, 0, 0,
				   0, 0, 0, 0,	0,	   0,	     0, 9};
	garbage(bad_str, 17, 15, "string length 9 runs past");
	const uint8_t empty_emit[] = {0, 0, 0, 1, SFX_EMIT};
	garbage(empty_emit, 5, 0, "empty packet");
	const uint8_t short_open[] = {0, 0, 0, 1, SFX_OPEN};
	garbage(short_open, 5, 0, "frame ends inside OPEN");
}

/* Over a socketpair: two messages, then garbage at stream offset 15 + 5, then EOF. */
static void conn_stream_offsets(void)
{
	int sv[2];
	CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
	struct sfx_conn a, b;
	CHECK(sfx_conn_init(&a, sv[0]) == 0);
	CHECK(sfx_conn_init(&b, sv[1]) == 0);
	struct sfx_msg m, d;
	struct sfx_err e;
	sfx_msg_reply(&m, SFX_CALL, SFX_OK, 5, 0, NULL);
	CHECK(sfx_conn_send(&a, &m) == 0);
	CHECK_EQ(sfx_conn_recv(&b, &d, 1000, &e), SFX_IO_MSG);
	CHECK_EQ(d.u.reply.value, 5);
	CHECK_EQ(sfx_conn_recv(&b, &d, 10, &e), SFX_IO_TIMEOUT);
	const uint8_t bad[] = {0, 0, 0, 6, SFX_CALL, 9, 0, 0, 0, 0};
	CHECK(write(sv[0], bad, sizeof bad) == (ssize_t)sizeof bad);
	CHECK_EQ(sfx_conn_recv(&b, &d, 1000, &e), SFX_IO_GARBAGE);
	CHECK_EQ(e.offset, 15 + 5);
	sfx_conn_dispose(&b);
	CHECK(sfx_conn_init(&b, sv[1]) == 0);
	const uint8_t half[] = {0, 0, 0, 6, SFX_CALL};
	CHECK(write(sv[0], half, sizeof half) == (ssize_t)sizeof half);
	close(sv[0]);
	CHECK_EQ(sfx_conn_recv(&b, &d, 1000, &e), SFX_IO_ERR);
	CHECK(strstr(e.what, "end of stream inside a frame") != NULL);
	sfx_conn_dispose(&a);
	sfx_conn_dispose(&b);
	close(sv[1]);
}

int main(void)
{
	requests_round_trip();
	replies_round_trip();
	garbage_named_by_offset();
	conn_stream_offsets();
	return check_done();
}
