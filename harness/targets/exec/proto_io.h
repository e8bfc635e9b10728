/* synfin control protocol over a file descriptor: whole frames in and out, with a deadline
 * on reads and the stream offset of every octet, for synfin's exec target, shims and the
 * agent alike. Depends on proto.h and the C library only; never prints, never exits,
 * never touches signal dispositions (writes use MSG_NOSIGNAL on sockets). */
#ifndef SYNFIN_EXEC_PROTO_IO_H
#define SYNFIN_EXEC_PROTO_IO_H

#include <stddef.h>
#include <stdint.h>

#include "proto.h"

/* One direction-independent endpoint of the stream. The fd is the caller's (not closed). */
struct sfx_conn {
	int fd;
	uint8_t *rx;	  /* receive buffer, SFX_MAX_FRAME octets */
	size_t rx_len;	  /* octets held in rx */
	size_t rx_used;	  /* octets of rx taken by the message returned last */
	uint64_t rx_base; /* stream offset of rx[0]: octets read before it */
	uint8_t *tx;	  /* one encoded frame */
};

/* Results of sfx_conn_recv. */
enum {
	SFX_IO_MSG = 1,	     /* *m holds a message */
	SFX_IO_EOF = 0,	     /* the other side closed the stream at a frame boundary */
	SFX_IO_ERR = -1,     /* read error, or end of file inside a frame (e->what says) */
	SFX_IO_TIMEOUT = -2, /* no whole frame before the deadline */
	SFX_IO_GARBAGE = -3  /* e->offset: the stream offset of the offending octet */
};

/* 0, or -1 if out of memory. */
int sfx_conn_init(struct sfx_conn *c, int fd);
void sfx_conn_dispose(struct sfx_conn *c); /* frees the buffers; the fd stays open */

/* Encode and write m whole. 0, or -1 (m invalid: errno EINVAL; or the write failed). */
int sfx_conn_send(struct sfx_conn *c, const struct sfx_msg *m);

/* Read the next message, waiting at most timeout_ms (< 0: no limit). Strings and packets
 * in *m stay valid until the next call. On a failure e says what happened and, for
 * garbage, where (e->offset counts from the first octet of the stream). */
int sfx_conn_recv(struct sfx_conn *c, struct sfx_msg *m, int timeout_ms, struct sfx_err *e);

#endif
