/* synfin control protocol codec (proto.h; the format is docs/exec-protocol.md).
 *
 * Decoding walks the body with a cursor that refuses to read past the frame's end; every
 * failure records the offset of the first octet it could not accept, so that synfin can
 * tell a shim's author exactly where its output went wrong. */
#include <stdio.h>
#include <string.h>

#include "proto.h"

/* ---- a bounds-checked reader over one frame ---- */

struct rd {
	const uint8_t *b; /* the frame, from its length field */
	size_t pos, end;  /* next octet; end of the frame */
	struct sfx_err *e;
	int bad;
};

static int fail(struct rd *r, size_t at, const char *fmt, unsigned long a, unsigned long b)
{
	if (!r->bad) {
		r->bad = 1;
		r->e->offset = at;
		snprintf(r->e->what, sizeof r->e->what, fmt, a, b);
	}
	return -1;
}

static int need(struct rd *r, size_t n, const char *field)
{
	if (r->bad)
		return -1;
	if (r->end - r->pos < n) {
		/* The field starts inside the frame: name it. It starts at the frame's end:
		 * the length field is what is wrong (too small for the type). */
		r->bad = 1;
		r->e->offset = r->pos < r->end ? r->pos : 0;
		snprintf(r->e->what, sizeof r->e->what,
			 "frame ends inside %s (%zu octets left at frame octet %zu, %zu needed)",
			 field, r->end - r->pos, r->pos, n);
		return -1;
	}
	return 0;
}

static uint8_t u8(struct rd *r, const char *field)
{
	if (need(r, 1, field))
		return 0;
	return r->b[r->pos++];
}

static uint16_t u16(struct rd *r, const char *field)
{
	if (need(r, 2, field))
		return 0;
	uint16_t v = (uint16_t)(r->b[r->pos] << 8 | r->b[r->pos + 1]);
	r->pos += 2;
	return v;
}

static uint32_t u32(struct rd *r, const char *field)
{
	if (need(r, 4, field))
		return 0;
	const uint8_t *p = r->b + r->pos;
	r->pos += 4;
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static struct sfx_bytes str(struct rd *r, const char *field)
{
	struct sfx_bytes s = {NULL, 0};
	size_t at = r->pos;
	uint16_t n = u16(r, field);
	if (r->bad)
		return s;
	if (r->end - r->pos < n) { /* the offending value is the string's length */
		fail(r, at, "string length %lu runs past the frame's end (%lu octets left)", n,
		     r->end - r->pos);
		return s;
	}
	s.p = r->b + r->pos;
	s.len = n;
	r->pos += n;
	return s;
}

/* The rest of the frame as a packet (INJECT, EMIT): 1..65535 octets. */
static struct sfx_bytes rest(struct rd *r, size_t min)
{
	struct sfx_bytes s = {r->b + r->pos, r->end - r->pos};
	if (s.len < min) /* the frame's length leaves no room for it */
		fail(r, 0, "empty packet (%lu octets, at least %lu)", (unsigned long)s.len,
		     (unsigned long)min);
	else if (s.len > SFX_MAX_PKT)
		fail(r, r->pos, "packet of %lu octets (at most %lu)", (unsigned long)s.len,
		     (unsigned long)SFX_MAX_PKT);
	r->pos = r->end;
	return s;
}

static void endpoints(struct rd *r, struct sfx_endpoints *ep)
{
	ep->peer_ip = u32(r, "peer_ip");
	ep->target_ip = u32(r, "target_ip");
	ep->peer_port = u16(r, "peer_port");
	ep->target_port = u16(r, "target_port");
}

static void decode_reply(struct rd *r, struct sfx_msg *m)
{
	size_t at = r->pos;
	uint8_t req = u8(r, "REPLY request");
	if (!r->bad && (req < SFX_HELLO || req > SFX_BYE))
		fail(r, at, "REPLY to request type 0x%02lx (0x01..0x09)", req, 0);
	at = r->pos;
	uint8_t st = u8(r, "REPLY status");
	if (!r->bad && st > SFX_ERROR)
		fail(r, at, "REPLY status %lu (0..2)", st, 0);
	if (!r->bad && st == SFX_REFUSED && req != SFX_CALL)
		fail(r, at, "REPLY status REFUSED to request 0x%02lx (only CALL may be refused)",
		     req, 0);
	m->u.reply.req = req;
	m->u.reply.status = st;
	m->u.reply.value = u32(r, "REPLY value");
	m->u.reply.code = (int32_t)u32(r, "REPLY code");
	if (r->bad)
		return;
	if (st != SFX_OK) {
		m->u.reply.text = str(r, "REPLY text");
		return;
	}
	if (req == SFX_HELLO) {
		m->u.reply.version = u16(r, "HELLO version");
		m->u.reply.caps = u32(r, "HELLO caps");
		m->u.reply.stack = str(r, "HELLO stack");
		m->u.reply.profile = str(r, "HELLO profile");
	} else if (req == SFX_OPEN) {
		endpoints(r, &m->u.reply.ep);
	} else if (req == SFX_STATE && m->u.reply.value >= SFX_NSTATES &&
		   m->u.reply.value != SFX_STATE_UNKNOWN) {
		fail(r, r->pos - 8, "STATE value %lu (0..10 or 255)", m->u.reply.value, 0);
	}
}

static void decode_body(struct rd *r, struct sfx_msg *m)
{
	size_t at;
	switch (m->type) {
	case SFX_HELLO:
		m->u.hello.vmin = u16(r, "HELLO version_min");
		m->u.hello.vmax = u16(r, "HELLO version_max");
		break;
	case SFX_RESET:
	case SFX_STATE:
	case SFX_SYNC:
	case SFX_BYE:
		break;
	case SFX_OPEN:
		m->u.open.case_no = u32(r, "OPEN case_no");
		at = r->pos;
		m->u.open.role = u8(r, "OPEN role");
		if (!r->bad && m->u.open.role > 1)
			fail(r, at, "OPEN role %lu (0 passive, 1 active)", m->u.open.role, 0);
		at = r->pos;
		m->u.open.flags = u8(r, "OPEN flags");
		if (!r->bad && m->u.open.flags > 1)
			fail(r, at, "OPEN flags 0x%02lx (only bit 0 is defined)", m->u.open.flags,
			     0);
		m->u.open.iss = u32(r, "OPEN iss");
		endpoints(r, &m->u.open.ep);
		m->u.open.options = str(r, "OPEN options");
		break;
	case SFX_CALL:
		at = r->pos;
		m->u.call.call = u8(r, "CALL call");
		if (!r->bad && m->u.call.call >= SFX_NCALLS)
			fail(r, at, "CALL call %lu (0..7)", m->u.call.call, 0);
		m->u.call.arg = u32(r, "CALL arg");
		break;
	case SFX_ADVANCE:
		m->u.advance.ms = u32(r, "ADVANCE ms");
		break;
	case SFX_INJECT:
	case SFX_EMIT:
		m->u.pkt = rest(r, 1);
		break;
	case SFX_LOG:
		m->u.text.p = r->b + r->pos;
		m->u.text.len = r->end - r->pos;
		r->pos = r->end;
		break;
	case SFX_REPLY:
		decode_reply(r, m);
		break;
	default:
		fail(r, SFX_HDR, "unknown message type 0x%02lx", m->type, 0);
		break;
	}
}

int sfx_decode(const uint8_t *buf, size_t len, struct sfx_msg *m, size_t *used, struct sfx_err *e)
{
	*used = SFX_HDR;
	if (len < SFX_HDR)
		return 0;
	uint32_t l =
	    (uint32_t)buf[0] << 24 | (uint32_t)buf[1] << 16 | (uint32_t)buf[2] << 8 | buf[3];
	if (l == 0 || l > SFX_MAX_L) {
		e->offset = 0;
		snprintf(e->what, sizeof e->what, "frame length %lu (1..%lu)", (unsigned long)l,
			 (unsigned long)SFX_MAX_L);
		return -1;
	}
	*used = SFX_HDR + (size_t)l;
	if (len < *used)
		return 0;
	memset(m, 0, sizeof *m);
	struct rd r = {buf, SFX_HDR + 1, *used, e, 0};
	m->type = buf[SFX_HDR];
	decode_body(&r, m);
	if (!r.bad && r.pos != r.end)
		fail(&r, r.pos, "%lu octets after the last field of the message (type 0x%02lx)",
		     r.end - r.pos, m->type);
	return r.bad ? -1 : 1;
}

/* ---- encoding ---- */

struct wr {
	uint8_t *b;
	size_t pos, cap;
	int bad;
};

static void put(struct wr *w, const void *p, size_t n)
{
	if (w->bad || w->cap - w->pos < n) {
		w->bad = 1;
		return;
	}
	if (n)
		memcpy(w->b + w->pos, p, n);
	w->pos += n;
}

static void put8(struct wr *w, uint8_t v)
{
	put(w, &v, 1);
}

static void put16(struct wr *w, uint16_t v)
{
	uint8_t b[2] = {(uint8_t)(v >> 8), (uint8_t)v};
	put(w, b, 2);
}

static void put32(struct wr *w, uint32_t v)
{
	uint8_t b[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v};
	put(w, b, 4);
}

static void putstr(struct wr *w, struct sfx_bytes s)
{
	if (s.len > 0xffff || (s.len && !s.p)) {
		w->bad = 1;
		return;
	}
	put16(w, (uint16_t)s.len);
	put(w, s.p, s.len);
}

static void putpkt(struct wr *w, struct sfx_bytes s)
{
	if (s.len == 0 || s.len > SFX_MAX_PKT || !s.p)
		w->bad = 1;
	put(w, s.p, s.len);
}

static void putep(struct wr *w, const struct sfx_endpoints *ep)
{
	put32(w, ep->peer_ip);
	put32(w, ep->target_ip);
	put16(w, ep->peer_port);
	put16(w, ep->target_port);
}

static void encode_reply(struct wr *w, const struct sfx_msg *m)
{
	uint8_t req = m->u.reply.req, st = m->u.reply.status;
	if (req < SFX_HELLO || req > SFX_BYE || st > SFX_ERROR ||
	    (st == SFX_REFUSED && req != SFX_CALL) ||
	    (st == SFX_OK && req == SFX_STATE && m->u.reply.value >= SFX_NSTATES &&
	     m->u.reply.value != SFX_STATE_UNKNOWN)) {
		w->bad = 1;
		return;
	}
	put8(w, req);
	put8(w, st);
	put32(w, m->u.reply.value);
	put32(w, (uint32_t)m->u.reply.code);
	if (st != SFX_OK) {
		putstr(w, m->u.reply.text);
	} else if (req == SFX_HELLO) {
		put16(w, m->u.reply.version);
		put32(w, m->u.reply.caps);
		putstr(w, m->u.reply.stack);
		putstr(w, m->u.reply.profile);
	} else if (req == SFX_OPEN) {
		putep(w, &m->u.reply.ep);
	}
}

static void encode_body(struct wr *w, const struct sfx_msg *m)
{
	switch (m->type) {
	case SFX_HELLO:
		put16(w, m->u.hello.vmin);
		put16(w, m->u.hello.vmax);
		break;
	case SFX_RESET:
	case SFX_STATE:
	case SFX_SYNC:
	case SFX_BYE:
		break;
	case SFX_OPEN:
		if (m->u.open.role > 1 || m->u.open.flags > 1)
			w->bad = 1;
		put32(w, m->u.open.case_no);
		put8(w, m->u.open.role);
		put8(w, m->u.open.flags);
		put32(w, m->u.open.iss);
		putep(w, &m->u.open.ep);
		putstr(w, m->u.open.options);
		break;
	case SFX_CALL:
		if (m->u.call.call >= SFX_NCALLS)
			w->bad = 1;
		put8(w, m->u.call.call);
		put32(w, m->u.call.arg);
		break;
	case SFX_ADVANCE:
		put32(w, m->u.advance.ms);
		break;
	case SFX_INJECT:
	case SFX_EMIT:
		putpkt(w, m->u.pkt);
		break;
	case SFX_LOG:
		if (m->u.text.len > SFX_MAX_L - 1 || (m->u.text.len && !m->u.text.p))
			w->bad = 1;
		else
			put(w, m->u.text.p, m->u.text.len);
		break;
	case SFX_REPLY:
		encode_reply(w, m);
		break;
	default:
		w->bad = 1;
		break;
	}
}

size_t sfx_encode(const struct sfx_msg *m, uint8_t *buf, size_t cap)
{
	struct wr w = {buf, 0, cap, 0};
	put32(&w, 0); /* the length, patched below */
	put8(&w, m->type);
	encode_body(&w, m);
	size_t l = w.pos - SFX_HDR;
	if (w.bad || l > SFX_MAX_L)
		return 0;
	buf[0] = (uint8_t)(l >> 24);
	buf[1] = (uint8_t)(l >> 16);
	buf[2] = (uint8_t)(l >> 8);
	buf[3] = (uint8_t)l;
	return w.pos;
}

const char *sfx_type_name(uint8_t type)
{
	switch (type) {
	case SFX_HELLO:
		return "HELLO";
	case SFX_RESET:
		return "RESET";
	case SFX_OPEN:
		return "OPEN";
	case SFX_CALL:
		return "CALL";
	case SFX_ADVANCE:
		return "ADVANCE";
	case SFX_STATE:
		return "STATE";
	case SFX_INJECT:
		return "INJECT";
	case SFX_SYNC:
		return "SYNC";
	case SFX_BYE:
		return "BYE";
	case SFX_REPLY:
		return "REPLY";
	case SFX_EMIT:
		return "EMIT";
	case SFX_LOG:
		return "LOG";
	}
	return NULL;
}

const char *sfx_call_name(uint8_t call)
{
	static const char *const names[SFX_NCALLS] = {"listen",	 "connect",  "accept", "send",
						      "receive", "shutdown", "close",  "abort"};
	return call < SFX_NCALLS ? names[call] : NULL;
}

void sfx_msg_reply(struct sfx_msg *m, uint8_t req, uint8_t status, uint32_t value, int32_t code,
		   const char *text)
{
	memset(m, 0, sizeof *m);
	m->type = SFX_REPLY;
	m->u.reply.req = req;
	m->u.reply.status = status;
	m->u.reply.value = value;
	m->u.reply.code = code;
	if (text) {
		m->u.reply.text.p = (const uint8_t *)text;
		m->u.reply.text.len = strlen(text);
	}
}
