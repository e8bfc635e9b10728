/* Frames over a file descriptor (proto_io.h). */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "proto_io.h"

int sfx_conn_init(struct sfx_conn *c, int fd)
{
	memset(c, 0, sizeof *c);
	c->fd = fd;
	c->rx = malloc(SFX_MAX_FRAME);
	c->tx = malloc(SFX_MAX_FRAME);
	if (!c->rx || !c->tx) {
		sfx_conn_dispose(c);
		return -1;
	}
	return 0;
}

void sfx_conn_dispose(struct sfx_conn *c)
{
	free(c->rx);
	free(c->tx);
	c->rx = c->tx = NULL;
}

static ssize_t write_some(int fd, const uint8_t *p, size_t n)
{
	ssize_t k = send(fd, p, n, MSG_NOSIGNAL);
	if (k < 0 && errno == ENOTSOCK)
		k = write(fd, p, n); /* a pipe or a file: the caller owns SIGPIPE */
	return k;
}

int sfx_conn_send(struct sfx_conn *c, const struct sfx_msg *m)
{
	size_t n = sfx_encode(m, c->tx, SFX_MAX_FRAME);
	if (n == 0) {
		errno = EINVAL;
		return -1;
	}
	for (size_t off = 0; off < n;) {
		ssize_t k = write_some(c->fd, c->tx + off, n - off);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return -1;
		off += (size_t)k;
	}
	return 0;
}

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Wait until fd is readable or the deadline (-1: none) passes: 1, 0 on timeout, -1. */
static int wait_readable(int fd, int64_t deadline)
{
	for (;;) {
		int ms = -1;
		if (deadline >= 0) {
			int64_t left = deadline - now_ms();
			ms = left <= 0 ? 0 : left > 0x7fffffff ? 0x7fffffff : (int)left;
		}
		struct pollfd p = {.fd = fd, .events = POLLIN};
		int k = poll(&p, 1, ms);
		if (k < 0 && errno == EINTR)
			continue;
		return k < 0 ? -1 : k > 0;
	}
}

int sfx_conn_recv(struct sfx_conn *c, struct sfx_msg *m, int timeout_ms, struct sfx_err *e)
{
	/* Drop the message returned last. */
	if (c->rx_used) {
		memmove(c->rx, c->rx + c->rx_used, c->rx_len - c->rx_used);
		c->rx_len -= c->rx_used;
		c->rx_base += c->rx_used;
		c->rx_used = 0;
	}
	int64_t deadline = timeout_ms < 0 ? -1 : now_ms() + timeout_ms;
	for (;;) {
		size_t used;
		int k = sfx_decode(c->rx, c->rx_len, m, &used, e);
		if (k > 0) {
			c->rx_used = used;
			return SFX_IO_MSG;
		}
		if (k < 0) {
			e->offset += (size_t)c->rx_base;
			return SFX_IO_GARBAGE;
		}
		int w = wait_readable(c->fd, deadline);
		if (w <= 0) {
			e->offset = (size_t)(c->rx_base + c->rx_len);
			snprintf(e->what, sizeof e->what,
				 w == 0 ? "no whole frame within %d ms" : "poll failed (%d)",
				 w == 0 ? timeout_ms : errno);
			return w == 0 ? SFX_IO_TIMEOUT : SFX_IO_ERR;
		}
		/* rx starts at a frame, which needs at most SFX_MAX_FRAME: room remains */
		ssize_t r = read(c->fd, c->rx + c->rx_len, SFX_MAX_FRAME - c->rx_len);
		if (r < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (r <= 0) {
			e->offset = (size_t)(c->rx_base + c->rx_len);
			if (r == 0 && c->rx_len == 0) {
				snprintf(e->what, sizeof e->what, "end of stream");
				return SFX_IO_EOF;
			}
			snprintf(e->what, sizeof e->what,
				 r == 0 ? "end of stream inside a frame (%zu octets of it read)"
					: "read failed (%zu)",
				 r == 0 ? c->rx_len : (size_t)errno);
			return SFX_IO_ERR;
		}
		c->rx_len += (size_t)r;
	}
}
