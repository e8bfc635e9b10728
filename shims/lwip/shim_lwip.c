/* synfin-shim-lwip: lwIP 2.1.3 (Debian's liblwip) out of process, behind the synfin control
 * protocol (docs/exec-protocol.md), for `synfin run --target exec:PATH/synfin-shim-lwip`.
 *
 * The stack is driven by the very code of the in-process `lwip` target (its raw-API
 * application, virtual clock and ISNs, harness/targets/lwip/), so the two must give the
 * same verdicts scenario for scenario: what differs is only the wire in between, which
 * is what this program exists to prove (tests/targets/test_exec_lwip.c). As a template
 * for another stack, the loop below is the whole protocol: one request in, the stack
 * acts, every packet it sent goes out as EMIT, then the REPLY.
 *
 * Standard input and output are synfin's stream. lwIP prints its assertion text with
 * printf before it aborts: standard output is pointed at standard error first, so that
 * text reaches synfin there (it names the crash's site) and never corrupts the stream.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "proto_io.h"
#include "target.h"

extern const struct sfh_target_ops sfh_target_lwip_ops;

static struct sfx_conn conn;
static struct sfh_pkt pkts[64];

static int reply(uint8_t req, uint8_t status, uint32_t value, int32_t code, const char *text)
{
	struct sfx_msg m;
	sfx_msg_reply(&m, req, status, value, code, text);
	return sfx_conn_send(&conn, &m);
}

/* Everything lwIP has sent since the last request, as EMITs. */
static int emit_all(struct sfh_target *t)
{
	for (;;) {
		int n = sfh_target_drain(t, pkts, 64);
		if (n < 0)
			return -1;
		if (n == 0)
			return 0;
		for (int i = 0; i < n; i++) {
			struct sfx_msg m = {.type = SFX_EMIT};
			m.u.pkt.p = pkts[i].data;
			m.u.pkt.len = pkts[i].len;
			if (sfx_conn_send(&conn, &m) != 0)
				return -1;
		}
	}
}

static int hello(struct sfh_target *t, const struct sfx_msg *m)
{
	if (m->u.hello.vmin > SFX_VERSION || m->u.hello.vmax < SFX_VERSION)
		return reply(SFX_HELLO, SFX_ERROR, 0, 0, "this shim speaks version 1 only");
	struct sfx_msg r;
	const char *stack = t->ops->version(), *profile = "lwip";
	sfx_msg_reply(&r, SFX_HELLO, SFX_OK, 0, 0, NULL);
	r.u.reply.version = SFX_VERSION;
	r.u.reply.caps =
	    SFX_CAP_STATE | SFX_CAP_VTIME | SFX_CAP_PASSIVE | SFX_CAP_ACTIVE | SFX_CAP_ISS;
	r.u.reply.stack.p = (const uint8_t *)stack;
	r.u.reply.stack.len = strlen(stack);
	r.u.reply.profile.p = (const uint8_t *)profile;
	r.u.reply.profile.len = strlen(profile);
	return sfx_conn_send(&conn, &r);
}

static int open_case(struct sfh_target *t, const struct sfx_msg *m)
{
	struct sfh_endpoints ep;
	t->iss_set = m->u.open.flags & 1;
	t->iss_want = m->u.open.iss;
	if (sfh_target_reset(t, m->u.open.role ? SFH_ROLE_ACTIVE : SFH_ROLE_PASSIVE,
			     m->u.open.case_no, &ep) != 0)
		return reply(SFX_OPEN, SFX_ERROR, 0, 0, t->err);
	if (emit_all(t) != 0)
		return -1;
	struct sfx_msg r;
	sfx_msg_reply(&r, SFX_OPEN, SFX_OK, 0, 0, NULL);
	r.u.reply.ep.peer_ip = ep.peer_ip;
	r.u.reply.ep.target_ip = ep.target_ip;
	r.u.reply.ep.peer_port = ep.peer_port;
	r.u.reply.ep.target_port = ep.target_port;
	return sfx_conn_send(&conn, &r);
}

/* One request: 0 to go on, 1 after BYE, -1 when the stream broke. */
static int serve(struct sfh_target *t, const struct sfx_msg *m)
{
	enum sfo_state st;
	int k;
	switch (m->type) {
	case SFX_HELLO:
		return hello(t, m);
	case SFX_RESET:
		/* every case's reset is done by OPEN (the lwip target's reset()) */
		return reply(SFX_RESET, SFX_OK, 0, 0, NULL);
	case SFX_OPEN:
		return open_case(t, m);
	case SFX_CALL:
		k = sfh_target_call(t, (enum sfo_call)m->u.call.call, m->u.call.arg);
		if (k == -1)
			return reply(SFX_CALL, SFX_ERROR, 0, 0, t->err);
		if (emit_all(t) != 0)
			return -1;
		if (k == SFH_CALL_REFUSED)
			return reply(SFX_CALL, SFX_REFUSED, 0, 0, "refused by lwIP's raw API");
		return reply(SFX_CALL, SFX_OK, (uint32_t)k, 0, NULL);
	case SFX_ADVANCE: {
		uint64_t before = t->skipped_ms;
		if (sfh_target_advance(t, m->u.advance.ms) != 0)
			return reply(SFX_ADVANCE, SFX_ERROR, 0, 0, t->err);
		if (emit_all(t) != 0)
			return -1;
		return reply(SFX_ADVANCE, SFX_OK, (uint32_t)(t->skipped_ms - before), 0, NULL);
	}
	case SFX_STATE:
		if (sfh_target_state(t, &st) != 0)
			return reply(SFX_STATE, SFX_ERROR, 0, 0, t->err);
		return reply(SFX_STATE, SFX_OK, st < SFX_NSTATES ? (uint32_t)st : SFX_STATE_UNKNOWN,
			     0, NULL);
	case SFX_INJECT:
		if (sfh_target_inject(t, m->u.pkt.p, m->u.pkt.len) != 0)
			return reply(SFX_INJECT, SFX_ERROR, 0, 0, t->err);
		if (emit_all(t) != 0)
			return -1;
		return reply(SFX_INJECT, SFX_OK, 0, 0, NULL);
	case SFX_SYNC:
		if (emit_all(t) != 0)
			return -1;
		return reply(SFX_SYNC, SFX_OK, 0, 0, NULL);
	case SFX_BYE:
		return reply(SFX_BYE, SFX_OK, 0, 0, NULL) == 0 ? 1 : -1;
	default: /* a type only a shim sends: synfin never does */
		fprintf(stderr, "synfin-shim-lwip: unexpected message type 0x%02x\n", m->type);
		return -1;
	}
}

int main(void)
{
	char err[256];
	struct sfh_target *t = NULL;
	/* the stream is stdin (and stdout, the same socket); lwIP's printf goes to stderr */
	int fd = dup(0);
	if (fd < 0 || dup2(2, 1) < 0 || sfx_conn_init(&conn, fd) != 0) {
		fprintf(stderr, "synfin-shim-lwip: cannot set up the stream\n");
		return 2;
	}
	if (sfh_target_lwip_ops.open("", &t, err, sizeof err) != 0) {
		fprintf(stderr, "synfin-shim-lwip: %s\n", err);
		return 2;
	}
	for (;;) {
		struct sfx_msg m;
		struct sfx_err e;
		int k = sfx_conn_recv(&conn, &m, -1, &e);
		if (k == SFX_IO_EOF)
			break;
		if (k != SFX_IO_MSG) {
			fprintf(stderr, "synfin-shim-lwip: offset %zu: %s\n", e.offset, e.what);
			sfh_target_close(t);
			return 2;
		}
		k = serve(t, &m);
		if (k != 0) {
			sfh_target_close(t);
			return k > 0 ? 0 : 2;
		}
	}
	sfh_target_close(t);
	sfx_conn_dispose(&conn);
	return 0;
}
