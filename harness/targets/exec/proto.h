/* synfin control protocol, version 1 (docs/exec-protocol.md): encode and decode frames.
 *
 * Pure: no I/O, no allocation, no globals, depends on the C library only, so that synfin,
 * a shim, `synfin agent` and the libFuzzer entry link it alike. Decoded strings and
 * packets point into the caller's buffer (they live as long as it does). Every field is
 * bounds-checked; a bad frame is described by the offset of the offending octet.
 */
#ifndef SYNFIN_EXEC_PROTO_H
#define SYNFIN_EXEC_PROTO_H

#include <stddef.h>
#include <stdint.h>

#define SFX_VERSION   1
#define SFX_HDR	      4	    /* the length field */
#define SFX_MAX_L     65536 /* largest value of the length field */
#define SFX_MAX_FRAME (SFX_HDR + SFX_MAX_L)
#define SFX_MAX_PKT   65535

enum sfx_type {
	SFX_HELLO = 0x01,
	SFX_RESET = 0x02,
	SFX_OPEN = 0x03,
	SFX_CALL = 0x04,
	SFX_ADVANCE = 0x05,
	SFX_STATE = 0x06,
	SFX_INJECT = 0x07,
	SFX_SYNC = 0x08,
	SFX_BYE = 0x09,
	SFX_REPLY = 0x80,
	SFX_EMIT = 0x81,
	SFX_LOG = 0x82
};

enum sfx_status { SFX_OK = 0, SFX_REFUSED = 1, SFX_ERROR = 2 };

/* caps bits of the HELLO reply */
enum {
	SFX_CAP_STATE = 0x01,
	SFX_CAP_VTIME = 0x02,
	SFX_CAP_PASSIVE = 0x04,
	SFX_CAP_ACTIVE = 0x08,
	SFX_CAP_ISS = 0x10,
	SFX_CAP_RESULT = 0x20 /* a CALL reply's `code` is the call's result (enum sfo_err) */
};

/* CALL numbers (the order of oracle.h's SFO_CALLS; the exec target checks it). */
enum sfx_call {
	SFX_CALL_LISTEN,
	SFX_CALL_CONNECT,
	SFX_CALL_ACCEPT,
	SFX_CALL_SEND,
	SFX_CALL_RECEIVE,
	SFX_CALL_SHUTDOWN,
	SFX_CALL_CLOSE,
	SFX_CALL_ABORT,
	SFX_NCALLS
};

#define SFX_NSTATES	  11 /* STATE values 0..10: CLOSED .. TIME-WAIT, oracle.h's order */
#define SFX_STATE_UNKNOWN 255

/* A string or packet inside a frame (not NUL-terminated). */
struct sfx_bytes {
	const uint8_t *p;
	size_t len;
};

struct sfx_endpoints {
	uint32_t peer_ip, target_ip;
	uint16_t peer_port, target_port;
};

/* One message; which members are meaningful depends on type. */
struct sfx_msg {
	uint8_t type; /* enum sfx_type */
	union {
		struct {
			uint16_t vmin, vmax;
		} hello;
		struct {
			uint32_t case_no;
			uint8_t role;  /* 0 passive, 1 active */
			uint8_t flags; /* bit 0: iss given */
			uint32_t iss;
			struct sfx_endpoints ep; /* proposal; 0 = the shim chooses */
			struct sfx_bytes options;
		} open;
		struct {
			uint8_t call; /* enum sfx_call */
			uint32_t arg;
		} call;
		struct {
			uint32_t ms;
		} advance;
		struct sfx_bytes pkt;  /* INJECT, EMIT */
		struct sfx_bytes text; /* LOG */
		struct {
			uint8_t req;	/* the request type answered */
			uint8_t status; /* enum sfx_status */
			uint32_t value;
			int32_t code;
			struct sfx_bytes text; /* REFUSED, ERROR: why */
			/* OK to HELLO */
			uint16_t version;
			uint32_t caps;
			struct sfx_bytes stack, profile;
			/* OK to OPEN */
			struct sfx_endpoints ep;
		} reply;
	} u;
};

/* Why a frame is garbage: offset of the offending octet from the start of the frame, and
 * a sentence naming the field and the value. */
struct sfx_err {
	size_t offset;
	char what[128];
};

/* Decode the frame at the start of buf[0..len). Returns 1 and fills *m and *used (the
 * frame's size) when a whole valid frame is there; 0 when more octets are needed (*used
 * says how many in all, at least SFX_HDR, once the length is known); -1 when it is
 * garbage (*e says where and why). Strings and packets in *m point into buf. */
int sfx_decode(const uint8_t *buf, size_t len, struct sfx_msg *m, size_t *used, struct sfx_err *e);

/* Encode m into buf[0..cap). Returns the frame's size, or 0 if m is invalid (a value out
 * of range, a string or packet too long) or the frame does not fit cap. Never writes
 * outside buf. SFX_MAX_FRAME octets always suffice. */
size_t sfx_encode(const struct sfx_msg *m, uint8_t *buf, size_t cap);

/* Name of a message type ("REPLY"), or NULL if unknown. */
const char *sfx_type_name(uint8_t type);
/* Name of a call ("send"), or NULL if out of range. */
const char *sfx_call_name(uint8_t call);

/* Shorthands that fill a message (for shims and synfin). */
void sfx_msg_reply(struct sfx_msg *m, uint8_t req, uint8_t status, uint32_t value, int32_t code,
		   const char *text);

#endif
