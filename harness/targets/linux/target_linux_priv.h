/* The linux target's private seam: the namespace, its TUN device and the sock_diag
 * queries (target_linux_ns.c), used by the vtable in target_linux.c. See the block
 * comment at the top of target_linux.c for the design. */
#ifndef SYNFIN_TARGET_LINUX_PRIV_H
#define SYNFIN_TARGET_LINUX_PRIV_H

#include <stddef.h>
#include <stdint.h>

#include "oracle.h"
#include "scenario.h"
#include "wire.h"

/* Addresses inside the private namespace: 198.18.0.0/15 is reserved for benchmarking
 * (RFC 2544), never routed; the /30 holds exactly the kernel (.1) and the peer (.2). */
#define SFH_LINUX_TARGET_IP 0xc6120001u /* 198.18.0.1, the kernel under test */
#define SFH_LINUX_PEER_IP   0xc6120002u /* 198.18.0.2, synfin */
#define SFH_LINUX_PREFIX    30
#define SFH_LINUX_IFNAME    "synfin0"
/* IPv6 cases: fd53:796e:6669:6e00::1 (the kernel) and ::2 (synfin), a unique local
 * address (RFC 4193, fc00::/7) only ever configured inside the private namespace; the
 * device holds the /64. */
#define SFH_LINUX_IP6_PREFIX 64
static const uint8_t sfh_linux_target_ip6[16] = {0xfd, 0x53, 0x79, 0x6e, 0x66, 0x69, 0x6e, 0x00,
						 0,    0,    0,	   0,	 0,    0,    0,	   1};

/* Kernel TCP states (include/net/tcp_states.h); the uapi headers lack the last two. */
enum {
	SFH_LK_ESTABLISHED = 1,
	SFH_LK_SYN_SENT = 2,
	SFH_LK_SYN_RECV = 3,
	SFH_LK_FIN_WAIT1 = 4,
	SFH_LK_FIN_WAIT2 = 5,
	SFH_LK_TIME_WAIT = 6,
	SFH_LK_CLOSE = 7,
	SFH_LK_CLOSE_WAIT = 8,
	SFH_LK_LAST_ACK = 9,
	SFH_LK_LISTEN = 10,
	SFH_LK_CLOSING = 11,
	SFH_LK_NEW_SYN_RECV = 12,
	SFH_LK_BOUND_INACTIVE = 13
};

/* idiag_timer values (net/ipv4/inet_diag.c). */
enum { SFH_LT_NONE = 0, SFH_LT_RETRANS = 1, SFH_LT_KEEPALIVE = 2, SFH_LT_TW = 3, SFH_LT_PROBE = 4 };

/* Unbound TCP sockets created in the namespace ahead of need: creating a socket there
 * costs two setns() calls (~7 us), so they are made in batches. */
#define SFH_LINUX_POOL 32

/* The private namespace and what lives in it. Every descriptor is O_CLOEXEC; together they
 * are the namespace's only references, so closing them (or dying) destroys it. */
struct sfh_linux_ns {
	int nsfd;   /* /proc/thread-self/ns/net of the namespace: for setns() */
	int tunfd;  /* the TUN device (IFF_TUN | IFF_NO_PI: bare IPv4 packets), non-blocking */
	int diagfd; /* NETLINK_SOCK_DIAG socket bound to the namespace */
	int pool[SFH_LINUX_POOL];
	int npool;
	uint32_t seq; /* netlink sequence numbers */
	int quickack; /* set before open: the device's route carries the quickack metric */
	int ipv6;     /* the device has its IPv6 address: IPv6 cases can run */
	/* without it, why not */
	char no_ipv6[160];
};

/* One socket as sock_diag reports it. */
struct sfh_linux_sk {
	int state;	       /* SFH_LK_* */
	int timer;	       /* SFH_LT_* */
	uint32_t expires_ms;   /* until that timer fires */
	uint16_t sport, dport; /* dport 0: a listener */
	uint32_t cookie[2];
};

/* Create the namespace, its device, its route and sysctls (ns->quickack as the caller
 * set it is kept). 0, or -1 with the reason in err; on failure nothing is left behind. */
int sfh_linux_ns_open(struct sfh_linux_ns *ns, char *err, size_t errlen);
/* Close everything; the kernel then destroys the device and the namespace. Idempotent. */
void sfh_linux_ns_close(struct sfh_linux_ns *ns);
/* A fresh non-blocking, close-on-exec TCP socket in the namespace (caller owns it), or -1
 * with errno set. Restores the calling thread's own namespace before returning. */
int sfh_linux_ns_socket(struct sfh_linux_ns *ns);
/* The same for an IPv6 case: an AF_INET6 socket (IPV6_V6ONLY), made on demand. */
int sfh_linux_ns_socket6(struct sfh_linux_ns *ns);
/* A socket of the case's family (in the namespace when it has one) bound to the case's
 * target address and port (SO_REUSEADDR with reuse), or -1 with errno set. */
int sfh_linux_bound_socket(struct sfh_linux_ns *ns, const struct sfh_endpoints *ep, int reuse);

/* Look up the socket of the exact tuple ep (target side local). 1 found, 0 none, -1 error.
 * The kernel falls back to a listener on the port: sk->dport == 0 then. */
int sfh_linux_diag_get(struct sfh_linux_ns *ns, const struct sfh_endpoints *ep,
		       struct sfh_linux_sk *sk);
/* Destroy (SOCK_DESTROY) the socket of tuple ep whose cookie is given. 0 destroyed or
 * already gone, -1 error. */
int sfh_linux_diag_destroy(struct sfh_linux_ns *ns, const struct sfh_endpoints *ep,
			   const uint32_t cookie[2]);
/* Destroy every TCP socket of the namespace except listeners (orphans, TIME-WAIT, request
 * sockets). Returns how many, or -1. Cheap: the namespace has its own small hash table. */
int sfh_linux_diag_purge(struct sfh_linux_ns *ns);

/* Probe helpers (no side effects that outlive the call). 0 ok, -1 with why in err. */
int sfh_linux_check_env(char *err, size_t errlen);

/* ---- the application's side of a case (target_linux_sock.c) ----
 *
 * The sockets RFC 9293's user calls act on, and how each call maps onto them: shared by
 * the linux target and synfin agent (agent/), so that one kernel gives the same verdicts
 * through either path. A call the sockets API refuses returns SFH_LINUX_REFUSED (the
 * value of SFH_CALL_REFUSED in target.h). */
#define SFH_LINUX_REFUSED (-2)
#define SFH_LINUX_SENDBUF 65536

struct sfh_linux_app {
	struct sfh_linux_ns *ns;	/* sock_diag; new sockets from its pool when it has a
					 * namespace (nsfd >= 0), else in the caller's own */
	const struct sfh_endpoints *ep; /* the case's addresses (target side local) */
	enum sfh_role role;
	int lfd, cfd;  /* listener, connection; -1 when none */
	int accepted;  /* passive: the connection was taken from the listener */
	int connected; /* active: connect() was called on cfd */
	int pristine;  /* nothing injected or called since reset(): state is known */
	int dirty;     /* the case may have left a socket that an abort did not end */
	uint8_t *sendbuf; /* SFH_LINUX_SENDBUF octets */
	uint64_t sent;	  /* octets the case has sent: the data pattern's position */
	const char *who;  /* "linux target", "agent": how errors begin */
	char *err;	  /* where errors are explained */
	size_t errlen;
	uint32_t rto_min_us; /* a `timers rto_min=` setting for the case's sockets, 0: none */
	int call_err; /* what the last sfh_linux_app_call returned to the application: an
		       * enum sfo_err (errno by sfh_linux_errno_result), SFO_ERR_OK on success */
};

/* TCP_RTO_MIN_US: the socket's RTO floor, in microseconds (recent kernels; the target
 * probes for it); older C headers lack the name. */
#ifndef TCP_RTO_MIN_US
#define TCP_RTO_MIN_US 45
#endif
/* Apply a->rto_min_us to fd (nothing when 0). 0, or -1 with errno. */
int sfh_linux_app_timers(const struct sfh_linux_app *a, int fd);

/* TCP_INFO's state of fd (SFH_LK_*), or -1. */
int sfh_linux_fd_state(int fd);
/* SO_LINGER {1, 0} and close: the connection ends with a reset. */
void sfh_linux_abort_fd(int fd);
/* Passive role: take the connection if the listener has one, and close the listener.
 * The connection's fd, or -1. */
int sfh_linux_app_conn(struct sfh_linux_app *a);
/* The case's connection as sock_diag sees it: 1 with *sk, 0 none, -1 error (a->err). */
int sfh_linux_app_diag(struct sfh_linux_app *a, struct sfh_linux_sk *sk);
/* The call's effect (octets for send and receive), SFH_LINUX_REFUSED, or -1 (a->err). */
int sfh_linux_app_call(struct sfh_linux_app *a, enum sfo_call call, uint32_t arg);
/* An errno of the sockets API as an enum sfo_err (SFO_ERR_ERROR if it has no name there). */
int sfh_linux_errno_result(int e);
/* The connection's state: 0 with *st, or -1 (a->err). */
int sfh_linux_app_state(struct sfh_linux_app *a, enum sfo_state *st);

#endif
