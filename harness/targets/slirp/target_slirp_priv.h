/* The slirp target's internals, shared by target_slirp.c (the instance, the guest side,
 * virtual time, state) and target_slirp_sock.c (the paths that go through host sockets on
 * 127.0.0.1: the active role, and the passive role's socket mode).
 *
 * libslirp 4.7.0 (Debian libslirp-dev), in-process; synfin plays the guest. The virtual
 * network is slirp's default 10.0.2.0/24: slirp itself is 10.0.2.2, the guest (synfin) is
 * 10.0.2.15, the in-process server of the passive role (a guestfwd) is 10.0.2.100:5000.
 * Frames never leave the process; host sockets are bound to 127.0.0.1 (see
 * target_slirp_sock.c for why nothing can reach another address).
 */
#ifndef SYNFIN_TARGET_SLIRP_PRIV_H
#define SYNFIN_TARGET_SLIRP_PRIV_H

#include <netinet/in.h>
#include <poll.h>
#include <stddef.h>
#include <stdint.h>

#include <libslirp.h>

#include "target.h"

#define SFH_SL_NET	      0x0a000200u /* 10.0.2.0/24: slirp's default virtual network */
#define SFH_SL_MASK	      0xffffff00u
#define SFH_SL_HOST	      0x0a000202u /* slirp's own address (the gateway) */
#define SFH_SL_DNS	      0x0a000203u /* slirp's DNS address (DNS is disabled) */
#define SFH_SL_GUEST	      0x0a00020fu /* synfin, the guest */
#define SFH_SL_GFWD	      0x0a000264u /* 10.0.2.100: the guestfwd server of the passive role */
#define SFH_SL_GFWD_PORT      5000
#define SFH_SL_MAX_PFD	      32
#define SFH_SL_MAX_TIMERS     8
#define SFH_SL_MAX_SOCKS      32
#define SFH_SL_MAX_CAP	      4096 /* emitted packets kept between two drains */
#define SFH_SL_WAIT_BUDGET_MS 50   /* real waiting for loopback allowed to one case */
#define SFH_SL_SETTLE_MS      1000 /* longest wait for a delivery due on loopback */
/* A recv() length that takes all a socket holds. Only with MSG_TRUNC and a NULL buffer:
 * TCP then copies nothing, but the kernel still checks that the range lies in user space,
 * which a stack buffer plus 1 GiB does not always do (EFAULT, in one process in ten). */
#define SFH_SL_RECV_ALL (1u << 30)

/* How the passive role is served (open args "passive=gfwd" or "passive=sock"). */
enum sfh_sl_pmode {
	SFH_SL_GFWD_MODE, /* slirp_add_guestfwd: in-process, no host socket */
	SFH_SL_SOCK_MODE  /* slirp connects out to our listener on 127.0.0.1 */
};

/* A timer slirp asked for (timer_new); fired by the virtual clock. */
struct sfh_sl_timer {
	SlirpTimerCb cb;
	void *cb_opaque;
	int64_t expire_ms;
	uint8_t used, armed;
};

/* One event of the case, kept so that a passive case can be replayed in socket mode when
 * it needs a call the guestfwd API lacks (ABORT). */
enum sfh_sl_op { SFH_SL_OP_INJECT, SFH_SL_OP_CALL, SFH_SL_OP_ADVANCE };
struct sfh_sl_rec {
	uint8_t op;
	uint8_t call;
	uint32_t arg; /* call argument, or ms for ADVANCE */
	uint32_t off; /* INJECT: offset of the packet in sfh_slirp.log */
	uint16_t len;
	int32_t result; /* CALL: what it returned */
};

struct sfh_slirp {
	struct sfh_target base;
	enum sfh_sl_pmode pmode; /* from the open args */
	/* from the open args ("shortcuts=off": 0): the cheaper ways of doing what a case
	 * does (target_slirp_env.c; recv with MSG_TRUNC; drains and polls that cannot find
	 * anything left out, see sl_pump) are used. Off only to show that they change nothing
	 * (tests/targets/ test_slirp_shortcuts.c) and to measure what they save
	 * (bench/bench_slirp.c). */
	uint8_t shortcuts;
	enum sfh_sl_pmode cur; /* the mode of the running case (passive role) */
	Slirp *slirp;
	SlirpCb cb;
	int64_t now_ns; /* the virtual clock slirp reads */
	enum sfh_role role;
	struct sfh_endpoints ep; /* as the runner sees the case */
	uint16_t sl_port;	 /* the target port on slirp's side (differs from
				  * ep.target_port only once a case migrated) */
	uint32_t case_no;

	/* the case's connection, as the application sees it */
	uint8_t accepted;     /* the application took the connection (passive role) */
	uint8_t wr_closed;    /* SHUTDOWN or CLOSE done */
	uint8_t rd_closed;    /* CLOSE done: data that arrives is thrown away */
	uint8_t connected;    /* CONNECT done (active role) */
	uint8_t listened;     /* the case's first LISTEN was made (passive role) */
	uint8_t shut_pending; /* guestfwd: SHUTDOWN/CLOSE made in SYN-RECEIVED, not yet run */
	uint8_t had_conn;     /* the application has (or had) a connection's socket */
	uint8_t app_closed;   /* ...and closed it (CLOSE or ABORT): further calls fail */
	uint8_t gfwd_gone;    /* the accepted guestfwd connection was closed by slirp */
	uint8_t gfwd_removed;
	uint64_t rx_pending; /* octets the guest sent that the application has not read */
	uint8_t conn_valid;  /* conn_found/conn_st describe slirp as it is now */
	int conn_found;
	enum sfo_state conn_st;

	/* what slirp emitted for this case since the last drain */
	struct sfh_pkt *cap;
	size_t ncap, capmax;
	int overflow;

	struct sfh_sl_timer timers[SFH_SL_MAX_TIMERS];
	struct pollfd pfd[SFH_SL_MAX_PFD];
	int npfd;
	int wait_budget_ms; /* real waiting left to this case (sfh_sl_pump) */

	/* host sockets (target_slirp_sock.c) */
	int listen_fd; /* passive socket mode: our listener on 127.0.0.1 */
	uint16_t listen_port;
	int app_fd;	    /* the application's end of the connection */
	uint8_t app_eof;    /* app_fd read its end (EOF or an error): nothing more comes */
	uint8_t app_unread; /* slirp may have written to app_fd since it was drained */
	uint8_t quiet;	    /* the last turn of slirp's loop polled quiet_pfd: nothing */
	int quiet_n;
	struct pollfd quiet_pfd[SFH_SL_MAX_PFD];
	uint16_t app_port;     /* active role: its local port, the target port the guest sees */
	uint16_t hostfwd_port; /* active role: slirp's forwarder on 127.0.0.1 */

	/* the case so far, for the replay in socket mode (passive guestfwd cases only) */
	struct sfh_sl_rec *recs;
	size_t nrecs, maxrecs;
	uint8_t *log;
	size_t loglen, logmax;
	uint8_t replaying;
	uint8_t migrate_failed; /* an ABORT could not move the case to socket mode */
	uint8_t nat;		/* the case migrated: translate addresses both ways */
	uint64_t out_hash;	/* of everything the case emitted (sl_hash_seg) */
	uint64_t out_n;
	uint32_t glib_handler;
	/* the host sockets slirp registered and has not unregistered: what an instance
	 * abandoned after a crash leaves open (target_slirp_recover.c) */
	int sock_fd[SFH_SL_MAX_SOCKS];
	int nsock;
	uint8_t pattern[65536]; /* payload of SEND calls, same pattern as the wire's */
};

/* target_slirp_env.c */
/* slirp_new; copy_rand: its random generator is a copy of one made once per process,
 * not seeded afresh from /dev/urandom */
Slirp *sfh_sl_slirp_new(const SlirpConfig *cfg, const SlirpCb *cb, void *opaque, int copy_rand);
/* g_realloc rounds slirp's large buffers up (1) or not (0), for the whole process: the
 * shortcuts setting of the last target opened */
void sfh_sl_round_bufs(int on);
/* Forget every large block (64 KiB or more: the socket buffers) that g_realloc handed
 * out and g_free has not taken back; free_them: free them too, only for an instance
 * abandoned after a crash, whose memory nothing will touch again
 * (target_slirp_recover.c). Without free_them, after slirp_cleanup: nothing of the
 * instance is left, and the table starts the next case empty. */
void sfh_sl_big_bufs_drop(int free_them);
/* Move the calling thread into the process's private network namespace (made on first
 * use); 1 if it is there, 0 if it stays on the host's (no privilege). */
int sfh_sl_private_net(void);

/* target_slirp.c */
int sfh_sl_new_instance(struct sfh_slirp *s, int restricted);
int sfh_sl_gfwd_setup(struct sfh_slirp *s);  /* a fresh instance with the guestfwd */
void sfh_sl_case_clear(struct sfh_slirp *s); /* the application's view: no connection */
void sfh_sl_pump(struct sfh_slirp *s, int expect_activity);
void sfh_sl_wire_settle(struct sfh_slirp *s); /* nothing in flight on loopback */
void sfh_sl_run_until(struct sfh_slirp *s, int64_t end_ns);
uint32_t sfh_sl_fill(struct sfh_slirp *s); /* pollfds_fill into s->pfd; its timeout */
void sfh_sl_input_ip(struct sfh_slirp *s, const uint8_t *ip, size_t len);
int sfh_sl_find_conn(struct sfh_slirp *s, enum sfo_state *st); /* 1 found, 0 not, -1 err */
void sfh_sl_settle(struct sfh_slirp *s); /* after every event: implicit accept, listener */
int sfh_sl_listener_open(const struct sfh_slirp *s);
ssize_t sfh_sl_gfwd_write(const void *buf, size_t len, void *opaque);

/* target_slirp_call.c */
int sfh_sl_user_call(struct sfh_slirp *s, enum sfo_call c, uint32_t arg);
void sfh_sl_gfwd_flush(struct sfh_slirp *s); /* run a pending close (guestfwd) */
int sfh_sl_err(struct sfh_slirp *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* target_slirp_sock.c */
int sfh_sl_sock_passive_setup(struct sfh_slirp *s);
int sfh_sl_sock_active_setup(struct sfh_slirp *s);
int sfh_sl_sock_accept(struct sfh_slirp *s);
int sfh_sl_sock_send(struct sfh_slirp *s, uint32_t n);
int sfh_sl_sock_receive(struct sfh_slirp *s, uint32_t arg);
void sfh_sl_sock_shutdown(struct sfh_slirp *s);
void sfh_sl_sock_abort(struct sfh_slirp *s);
void sfh_sl_sock_close_listener(struct sfh_slirp *s);
int sfh_sl_sock_listen(struct sfh_slirp *s);  /* 0, SFH_CALL_REFUSED, or -1 */
int sfh_sl_sock_connect(struct sfh_slirp *s); /* 0, SFH_CALL_REFUSED, or -1 */
void sfh_sl_sock_close_all(struct sfh_slirp *s);
int sfh_sl_migrate(struct sfh_slirp *s); /* 0, SFH_CALL_REFUSED, or -1 */
void sfh_sl_nat_in(const struct sfh_slirp *s, uint8_t *ip, size_t len);
void sfh_sl_nat_out(const struct sfh_slirp *s, uint8_t *ip, size_t len);

#endif
