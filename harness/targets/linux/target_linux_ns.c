/* The linux target's private network namespace: creation in a short-lived thread, the TUN
 * device, the sysctls, sockets made inside it, and sock_diag queries against it.
 *
 * Why a thread: namespaces are per thread, and a socket (or a TUN fd) stays in the
 * namespace it was created in whatever thread uses it later. So a helper thread unshares,
 * builds everything, opens the descriptors and exits; from then on those descriptors are
 * the namespace's only references. No name is ever given to it (no `ip netns add`, no
 * bind mount), so when the descriptors close, by close() or by the death of the process
 * for any reason including SIGKILL, the kernel unregisters the TUN device and frees the
 * namespace. No signal handler is needed, and library code installs none.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/if_tun.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sock_diag.h>
#include <net/if.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "target_linux_priv.h"

/* Buckets of the namespace's own TCP hash table (net.ipv4.tcp_child_ehash_entries): a
 * namespace without one shares the host's (262,144 buckets here), which would make every
 * sock_diag dump walk the whole host table. */
#define SFH_LINUX_EHASH "1024"

/* ---------- set-up, in a thread of its own ---------- */

/* Write one sysctl of the calling thread's namespace. A missing file is fine when the
 * setting is optional (an older kernel, IPv6 compiled out). */
static int write_sysctl(const char *name, const char *value, int required, char *err, size_t errlen)
{
	char path[128];
	snprintf(path, sizeof path, "/proc/sys/net/%s", name);
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT && !required)
			return 0;
		snprintf(err, errlen, "linux target: cannot open %s: %s", path, strerror(errno));
		return -1;
	}
	size_t n = strlen(value);
	ssize_t w = write(fd, value, n);
	int e = errno;
	close(fd);
	if (w != (ssize_t)n) {
		snprintf(err, errlen, "linux target: cannot write %s=%s: %s", path, value,
			 strerror(w < 0 ? e : EIO));
		return -1;
	}
	return 0;
}

/* The sysctls of the namespace, and why each. Timestamps, SACK and window scaling keep
 * the kernel's defaults (all on), so the target is the kernel as deployed. */
static int set_sysctls(char *err, size_t errlen)
{
	static const struct {
		const char *name, *value;
		int required;
	} tab[] = {
	    /* IPv6 on the device for IPv6 cases, and nothing of it on the wire unasked: no
	     * link-local address (addr_gen_mode 1), no duplicate address detection (the
	     * address is usable at once, never tentative), no router solicitations. Set on
	     * `default` before the device exists, so it inherits them. */
	    {"ipv6/conf/default/disable_ipv6", "0", 0},
	    {"ipv6/conf/default/addr_gen_mode", "1", 0},
	    {"ipv6/conf/default/accept_dad", "0", 0},
	    {"ipv6/conf/default/dad_transmits", "0", 0},
	    {"ipv6/conf/default/router_solicitations", "0", 0},
	    {"ipv6/conf/default/accept_ra", "0", 0},
	    /* Answer every out-of-window segment (default: 1 per 500 ms), or the answer a
	     * step gets would depend on the previous case's timing. */
	    {"ipv4/tcp_invalid_ratelimit", "0", 1},
	    /* No RFC 5961 challenge-ACK budget (already unlimited since Linux 6.0). */
	    {"ipv4/tcp_challenge_ack_limit", "2147483647", 0},
	    /* No cached RTT/ssthresh from an earlier case shaping the next one. */
	    {"ipv4/tcp_no_metrics_save", "1", 1},
	    /* SYN cookies only ever stand in for a full SYN queue; a case never fills it,
	     * and a cookie SYN-ACK would hide the SYN-RECEIVED state. */
	    {"ipv4/tcp_syncookies", "0", 0},
	    /* Answer duplicate segments at once instead of compressing SACKs on an hrtimer
	     * (up to ~1 ms later): replies then come inside write(), deterministically. */
	    {"ipv4/tcp_comp_sack_nr", "0", 0},
	    {"ipv4/icmp_ratelimit", "0", 0},
	};
	for (size_t i = 0; i < sizeof tab / sizeof tab[0]; i++)
		if (write_sysctl(tab[i].name, tab[i].value, tab[i].required, err, errlen) != 0)
			return -1;
	return 0;
}

static int set_if(int s, const char *name, unsigned long req, uint32_t addr, int up)
{
	struct ifreq r;
	memset(&r, 0, sizeof r);
	snprintf(r.ifr_name, sizeof r.ifr_name, "%s", name);
	if (up) {
		if (ioctl(s, SIOCGIFFLAGS, &r) != 0)
			return -1;
		r.ifr_flags |= IFF_UP;
		return ioctl(s, SIOCSIFFLAGS, &r);
	}
	struct sockaddr_in *sin = (struct sockaddr_in *)&r.ifr_addr;
	sin->sin_family = AF_INET;
	sin->sin_addr.s_addr = htonl(addr);
	return ioctl(s, req, &r);
}

/* The device's IPv6 address (its /64 route comes with it). A kernel without IPv6 leaves
 * the namespace IPv4-only: ns->ipv6 stays 0 and ns->no_ipv6 says why. */
static void add_ipv6(struct sfh_linux_ns *ns)
{
	struct { /* struct in6_ifreq (linux/ipv6.h, which clashes with netinet/in.h) */
		struct in6_addr addr;
		uint32_t prefixlen;
		int ifindex;
	} r;
	int s = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	memset(&r, 0, sizeof r);
	memcpy(&r.addr, sfh_linux_target_ip6, 16);
	r.prefixlen = SFH_LINUX_IP6_PREFIX;
	r.ifindex = (int)if_nametoindex(SFH_LINUX_IFNAME);
	if (s >= 0 && r.ifindex > 0 && ioctl(s, SIOCSIFADDR, &r) == 0)
		ns->ipv6 = 1;
	else
		snprintf(ns->no_ipv6, sizeof ns->no_ipv6,
			 "the namespace has no IPv6 (%s %s: %s; is IPv6 disabled in this kernel?)",
			 s < 0 ? "socket(AF_INET6)" : "address on", SFH_LINUX_IFNAME,
			 strerror(errno));
	if (s >= 0)
		close(s);
	/* Even without DAD the kernel clears the address's tentative flag from a work
	 * queue, a moment later; until then bind() to it fails (EADDRNOTAVAIL). Wait for
	 * it: a bind that works (at most 2 s). */
	struct sockaddr_in6 sa = {.sin6_family = AF_INET6};
	memcpy(&sa.sin6_addr, sfh_linux_target_ip6, 16);
	for (int i = 0; ns->ipv6 && i < 2000; i++) {
		int t = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
		int ok = t >= 0 && bind(t, (struct sockaddr *)&sa, sizeof sa) == 0;
		if (t >= 0)
			close(t);
		if (ok)
			return;
		usleep(1000);
	}
	if (ns->ipv6)
		snprintf(ns->no_ipv6, sizeof ns->no_ipv6,
			 "the IPv6 address on %s stayed unusable (tentative) for 2 s",
			 SFH_LINUX_IFNAME);
	ns->ipv6 = 0;
}

/* The TUN device: bare IP packets (IFF_NO_PI), which is exactly the wire format, so no
 * Ethernet framing, no ARP and no neighbour entry are involved. */
static int make_device(struct sfh_linux_ns *ns, char *err, size_t errlen)
{
	ns->tunfd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (ns->tunfd < 0) {
		snprintf(err, errlen, "linux target: cannot open /dev/net/tun: %s",
			 strerror(errno));
		return -1;
	}
	struct ifreq r;
	memset(&r, 0, sizeof r);
	r.ifr_flags = IFF_TUN | IFF_NO_PI;
	snprintf(r.ifr_name, sizeof r.ifr_name, "%s", SFH_LINUX_IFNAME);
	if (ioctl(ns->tunfd, TUNSETIFF, &r) != 0) {
		snprintf(err, errlen, "linux target: TUNSETIFF: %s", strerror(errno));
		return -1;
	}
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0) {
		snprintf(err, errlen, "linux target: socket: %s", strerror(errno));
		return -1;
	}
	uint32_t mask = ~0u << (32 - SFH_LINUX_PREFIX);
	int rc = 0;
	const char *what = "";
	if (set_if(s, SFH_LINUX_IFNAME, SIOCSIFADDR, SFH_LINUX_TARGET_IP, 0) != 0)
		rc = -1, what = "address";
	else if (set_if(s, SFH_LINUX_IFNAME, SIOCSIFNETMASK, mask, 0) != 0)
		rc = -1, what = "netmask";
	else if (set_if(s, "lo", 0, 0, 1) != 0)
		rc = -1, what = "lo up";
	else if (set_if(s, SFH_LINUX_IFNAME, 0, 0, 1) != 0)
		rc = -1, what = "link up";
	if (rc != 0)
		snprintf(err, errlen, "linux target: %s %s: %s", SFH_LINUX_IFNAME, what,
			 strerror(errno));
	close(s);
	if (rc == 0)
		add_ipv6(ns);
	return rc;
}

/* Replace the device's route (the /30 the address made) with the same route carrying the
 * quickack metric (RTAX_QUICKACK, `ip route ... quickack 1`): every ACK the kernel owes
 * goes out at once instead of after the delayed-ACK timer, which sock_diag cannot show,
 * so a step's ACK is never waited for (RFC 9293 §3.8.6.3 lets a TCP delay an ACK, never
 * requires it). Runs inside the namespace. 0, or -1 with the reason in err. */
static int route_quickack(int v6, char *err, size_t errlen)
{
	struct {
		struct nlmsghdr nh;
		struct rtmsg rt;
		char attrs[128];
	} req;
	memset(&req, 0, sizeof req);
	req.nh.nlmsg_type = RTM_NEWROUTE;
	req.nh.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_REPLACE;
	req.nh.nlmsg_seq = 1;
	req.rt = (struct rtmsg){.rtm_family = v6 ? AF_INET6 : AF_INET,
				.rtm_dst_len = v6 ? SFH_LINUX_IP6_PREFIX : SFH_LINUX_PREFIX,
				.rtm_table = RT_TABLE_MAIN,
				.rtm_protocol = RTPROT_KERNEL,
				.rtm_scope = v6 ? RT_SCOPE_UNIVERSE : RT_SCOPE_LINK,
				.rtm_type = RTN_UNICAST};
	size_t len = NLMSG_LENGTH(sizeof req.rt);
	uint32_t dst = htonl(SFH_LINUX_TARGET_IP & (~0u << (32 - SFH_LINUX_PREFIX)));
	uint32_t src = htonl(SFH_LINUX_TARGET_IP), oif = if_nametoindex(SFH_LINUX_IFNAME);
	/* IPv6: the prefix route the address made, at its metric (256), so that this
	 * replaces it instead of adding a second one */
	uint8_t dst6[16] = {0};
	uint32_t prio6 = 256;
	memcpy(dst6, sfh_linux_target_ip6, SFH_LINUX_IP6_PREFIX / 8);
	const struct {
		unsigned short type;
		const void *v;
		unsigned short n;
	} flat4[] = {{RTA_DST, &dst, 4}, {RTA_PREFSRC, &src, 4}, {RTA_OIF, &oif, 4}},
	  flat6[] = {{RTA_DST, dst6, 16}, {RTA_PRIORITY, &prio6, 4}, {RTA_OIF, &oif, 4}};
	for (size_t i = 0; i < 3; i++) {
		struct rtattr *a = (struct rtattr *)((char *)&req + NLMSG_ALIGN(len));
		a->rta_type = v6 ? flat6[i].type : flat4[i].type;
		a->rta_len = (unsigned short)RTA_LENGTH(v6 ? flat6[i].n : flat4[i].n);
		memcpy(RTA_DATA(a), v6 ? flat6[i].v : flat4[i].v, v6 ? flat6[i].n : flat4[i].n);
		len = NLMSG_ALIGN(len) + RTA_ALIGN(a->rta_len);
	}
	struct rtattr *m = (struct rtattr *)((char *)&req + NLMSG_ALIGN(len));
	struct rtattr *q = (struct rtattr *)RTA_DATA(m);
	uint32_t one = 1;
	q->rta_type = RTAX_QUICKACK;
	q->rta_len = RTA_LENGTH(4);
	memcpy(RTA_DATA(q), &one, 4);
	m->rta_type = RTA_METRICS;
	m->rta_len = RTA_LENGTH(RTA_ALIGN(q->rta_len));
	req.nh.nlmsg_len = (uint32_t)(NLMSG_ALIGN(len) + RTA_ALIGN(m->rta_len));

	int s = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	int rc = -1;
	char buf[512];
	if (s >= 0 && oif != 0 && send(s, &req, req.nh.nlmsg_len, 0) == (ssize_t)req.nh.nlmsg_len) {
		ssize_t n = recv(s, buf, sizeof buf, 0);
		struct nlmsghdr *h = (struct nlmsghdr *)buf;
		if (n >= (ssize_t)NLMSG_LENGTH(sizeof(struct nlmsgerr)) &&
		    h->nlmsg_type == NLMSG_ERROR) {
			int e = ((struct nlmsgerr *)NLMSG_DATA(h))->error;
			if (e == 0)
				rc = 0;
			else
				errno = -e;
		}
	}
	if (rc != 0)
		snprintf(err, errlen, "linux target: %s route with quickack on %s: %s",
			 v6 ? "IPv6" : "IPv4", SFH_LINUX_IFNAME, strerror(errno));
	if (s >= 0)
		close(s);
	return rc;
}

struct setup_job {
	struct sfh_linux_ns *ns;
	char *err;
	size_t errlen;
	int rc;
};

static int setup_in_thread(struct sfh_linux_ns *ns, char *err, size_t errlen)
{
	/* A first namespace only to set tcp_child_ehash_entries, which sizes the hash table
	 * of namespaces created *from* it; the thread then moves on and the first one is
	 * freed at once (nothing refers to it). */
	if (unshare(CLONE_NEWNET) != 0) {
		snprintf(err, errlen,
			 "linux target: unshare(CLONE_NEWNET): %s (needs CAP_SYS_ADMIN: run as "
			 "root)",
			 strerror(errno));
		return -1;
	}
	if (write_sysctl("ipv4/tcp_child_ehash_entries", SFH_LINUX_EHASH, 0, err, errlen) != 0)
		return -1;
	if (unshare(CLONE_NEWNET) != 0) {
		snprintf(err, errlen, "linux target: unshare(CLONE_NEWNET): %s", strerror(errno));
		return -1;
	}
	ns->nsfd = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (ns->nsfd < 0) {
		snprintf(err, errlen, "linux target: /proc/thread-self/ns/net: %s",
			 strerror(errno));
		return -1;
	}
	if (set_sysctls(err, errlen) != 0 || make_device(ns, err, errlen) != 0 ||
	    (ns->quickack && route_quickack(0, err, errlen) != 0) ||
	    (ns->quickack && ns->ipv6 && route_quickack(1, err, errlen) != 0))
		return -1;
	ns->diagfd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
	if (ns->diagfd < 0) {
		snprintf(err, errlen, "linux target: NETLINK_SOCK_DIAG: %s", strerror(errno));
		return -1;
	}
	/* Acknowledgements without a copy of the request: smaller answers. */
	int one = 1;
	(void)setsockopt(ns->diagfd, SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof one);
	while (ns->npool < SFH_LINUX_POOL) {
		int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (fd < 0) {
			snprintf(err, errlen, "linux target: socket: %s", strerror(errno));
			return -1;
		}
		ns->pool[ns->npool++] = fd;
	}
	return 0;
}

static void *setup_thread(void *arg)
{
	struct setup_job *job = arg;
	job->rc = setup_in_thread(job->ns, job->err, job->errlen);
	return NULL;
}

int sfh_linux_ns_open(struct sfh_linux_ns *ns, char *err, size_t errlen)
{
	int quickack = ns->quickack;
	memset(ns, 0, sizeof *ns);
	ns->quickack = quickack;
	ns->nsfd = ns->tunfd = ns->diagfd = -1;
	struct setup_job job = {ns, err, errlen, -1};
	pthread_t th;
	int e = pthread_create(&th, NULL, setup_thread, &job);
	if (e != 0) {
		snprintf(err, errlen, "linux target: pthread_create: %s", strerror(e));
		return -1;
	}
	pthread_join(th, NULL);
	if (job.rc != 0) {
		sfh_linux_ns_close(ns);
		return -1;
	}
	return 0;
}

void sfh_linux_ns_close(struct sfh_linux_ns *ns)
{
	while (ns->npool > 0)
		close(ns->pool[--ns->npool]);
	int *fds[] = {&ns->diagfd, &ns->tunfd, &ns->nsfd};
	for (size_t i = 0; i < sizeof fds / sizeof fds[0]; i++) {
		if (*fds[i] >= 0)
			close(*fds[i]);
		*fds[i] = -1;
	}
}

/* Refill the pool: enter the namespace, create sockets, come back to the thread's own
 * namespace. If coming back failed the thread would stay inside the private namespace,
 * which is safe (no route leaves it) but wrong: report it. */
static int pool_refill(struct sfh_linux_ns *ns)
{
	int self = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (self < 0)
		return -1;
	if (setns(ns->nsfd, CLONE_NEWNET) != 0) {
		int e = errno;
		close(self);
		errno = e;
		return -1;
	}
	int e = 0;
	while (ns->npool < SFH_LINUX_POOL) {
		int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (fd < 0) {
			e = errno;
			break;
		}
		ns->pool[ns->npool++] = fd;
	}
	int back = setns(self, CLONE_NEWNET);
	if (back != 0)
		e = errno;
	close(self);
	errno = e;
	return back == 0 && ns->npool > 0 ? 0 : -1;
}

int sfh_linux_ns_socket(struct sfh_linux_ns *ns)
{
	if (ns->npool == 0 && pool_refill(ns) != 0)
		return -1;
	return ns->pool[--ns->npool];
}

/* IPv6 sockets are not pooled: two setns() calls each, a few microseconds. */
int sfh_linux_ns_socket6(struct sfh_linux_ns *ns)
{
	int self = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (self < 0)
		return -1;
	if (setns(ns->nsfd, CLONE_NEWNET) != 0) {
		int e = errno;
		close(self);
		errno = e;
		return -1;
	}
	int fd = socket(AF_INET6, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), e = errno;
	int one = 1;
	if (fd >= 0 && setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one) != 0) {
		e = errno;
		close(fd);
		fd = -1;
	}
	if (setns(self, CLONE_NEWNET) != 0) {
		e = errno;
		if (fd >= 0)
			close(fd);
		fd = -1;
	}
	close(self);
	errno = e;
	return fd;
}

int sfh_linux_bound_socket(struct sfh_linux_ns *ns, const struct sfh_endpoints *ep, int reuse)
{
	int fd, one = 1, v6 = ep->ipv6;
	if (ns && ns->nsfd >= 0)
		fd = v6 ? sfh_linux_ns_socket6(ns) : sfh_linux_ns_socket(ns);
	else
		fd = socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	struct sockaddr_in sa = {.sin_family = AF_INET,
				 .sin_port = htons(ep->target_port),
				 .sin_addr.s_addr = htonl(ep->target_ip)};
	struct sockaddr_in6 sa6 = {.sin6_family = AF_INET6, .sin6_port = htons(ep->target_port)};
	memcpy(&sa6.sin6_addr, ep->target_ip6, 16);
	if ((reuse && setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0) ||
	    (v6 ? bind(fd, (struct sockaddr *)&sa6, sizeof sa6)
		: bind(fd, (struct sockaddr *)&sa, sizeof sa)) != 0) {
		int e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

/* ---------- sock_diag ---------- */

struct diag_req {
	struct nlmsghdr nlh;
	struct inet_diag_req_v2 r;
};

/* States a dump asks for: every connection state, without LISTEN and without
 * BOUND_INACTIVE (listing bound-only sockets walks the host-wide bind hash). */
enum {
	STATES_ALL = 0x3ffe,
	STATES_CONN = STATES_ALL & ~(1 << SFH_LK_LISTEN | 1 << SFH_LK_BOUND_INACTIVE)
};

static int diag_send(struct sfh_linux_ns *ns, uint16_t type, uint16_t flags, uint32_t states,
		     const struct sfh_endpoints *ep, const uint32_t cookie[2], int v6)
{
	struct diag_req q;
	memset(&q, 0, sizeof q);
	q.nlh.nlmsg_len = sizeof q;
	q.nlh.nlmsg_type = type;
	q.nlh.nlmsg_flags = NLM_F_REQUEST | flags;
	q.nlh.nlmsg_seq = ++ns->seq;
	q.r.sdiag_family = v6 ? AF_INET6 : AF_INET;
	q.r.sdiag_protocol = IPPROTO_TCP;
	q.r.idiag_states = states;
	if (ep) {
		q.r.id.idiag_sport = htons(ep->target_port);
		q.r.id.idiag_dport = htons(ep->peer_port);
		q.r.id.idiag_src[0] = htonl(ep->target_ip);
		q.r.id.idiag_dst[0] = htonl(ep->peer_ip);
		if (v6) { /* the addresses in network order, as the kernel keeps them */
			memcpy(q.r.id.idiag_src, ep->target_ip6, 16);
			memcpy(q.r.id.idiag_dst, ep->peer_ip6, 16);
		}
	}
	q.r.id.idiag_cookie[0] = cookie ? cookie[0] : INET_DIAG_NOCOOKIE;
	q.r.id.idiag_cookie[1] = cookie ? cookie[1] : INET_DIAG_NOCOOKIE;
	struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};
	ssize_t n = sendto(ns->diagfd, &q, sizeof q, 0, (struct sockaddr *)&kernel, sizeof kernel);
	return n == (ssize_t)sizeof q ? 0 : -1;
}

static void diag_decode(const struct inet_diag_msg *m, struct sfh_linux_sk *sk)
{
	sk->state = m->idiag_state;
	sk->timer = m->idiag_timer;
	sk->expires_ms = m->idiag_expires;
	sk->sport = ntohs(m->id.idiag_sport);
	sk->dport = ntohs(m->id.idiag_dport);
	sk->cookie[0] = m->id.idiag_cookie[0];
	sk->cookie[1] = m->id.idiag_cookie[1];
}

/* The netlink message at *off in buf[0..len), advancing *off; NULL at the end. */
static struct nlmsghdr *nl_next(char *buf, size_t len, size_t *off)
{
	if (*off + sizeof(struct nlmsghdr) > len)
		return NULL;
	struct nlmsghdr *h = (struct nlmsghdr *)(buf + *off);
	if (h->nlmsg_len < sizeof *h || *off + h->nlmsg_len > len)
		return NULL;
	*off += NLMSG_ALIGN(h->nlmsg_len);
	return h;
}

/* Read the answer to request ns->seq: one message (or a NLMSG_ERROR). Returns 1 with *sk
 * filled, 0 for ENOENT (or an ack of 0 when sk is NULL), -1 on other errors. */
static int diag_answer(struct sfh_linux_ns *ns, struct sfh_linux_sk *sk)
{
	_Alignas(struct nlmsghdr) char buf[2048];
	for (;;) {
		ssize_t got = recv(ns->diagfd, buf, sizeof buf, 0);
		if (got < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		size_t off = 0;
		for (struct nlmsghdr *h; (h = nl_next(buf, (size_t)got, &off)) != NULL;) {
			if (h->nlmsg_seq != ns->seq)
				continue; /* a stale answer */
			if (h->nlmsg_type == NLMSG_ERROR) {
				const struct nlmsgerr *e = NLMSG_DATA(h);
				if (e->error == 0 || e->error == -ENOENT)
					return 0;
				errno = -e->error;
				return -1;
			}
			if (h->nlmsg_type == SOCK_DIAG_BY_FAMILY && sk) {
				diag_decode(NLMSG_DATA(h), sk);
				return 1;
			}
		}
	}
}

int sfh_linux_diag_get(struct sfh_linux_ns *ns, const struct sfh_endpoints *ep,
		       struct sfh_linux_sk *sk)
{
	if (diag_send(ns, SOCK_DIAG_BY_FAMILY, 0, STATES_ALL, ep, NULL, ep->ipv6) != 0)
		return -1;
	return diag_answer(ns, sk);
}

int sfh_linux_diag_destroy(struct sfh_linux_ns *ns, const struct sfh_endpoints *ep,
			   const uint32_t cookie[2])
{
	if (diag_send(ns, SOCK_DESTROY, NLM_F_ACK, STATES_ALL, ep, cookie, ep->ipv6) != 0)
		return -1;
	int rc = diag_answer(ns, NULL);
	/* ESTALE: the cookie names a socket that is already gone. */
	return rc < 0 && errno == ESTALE ? 0 : rc;
}

#define PURGE_BATCH 64

/* One dump of every non-listening TCP socket of a family; the tuples go to eps/cks. */
static int purge_dump(struct sfh_linux_ns *ns, struct sfh_endpoints *eps, uint32_t (*cks)[2],
		      int v6)
{
	if (diag_send(ns, SOCK_DIAG_BY_FAMILY, NLM_F_DUMP, STATES_CONN, NULL, NULL, v6) != 0)
		return -1;
	int count = 0;
	_Alignas(struct nlmsghdr) char buf[8192];
	for (;;) {
		ssize_t got = recv(ns->diagfd, buf, sizeof buf, 0);
		if (got < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		size_t off = 0;
		for (struct nlmsghdr *h; (h = nl_next(buf, (size_t)got, &off)) != NULL;) {
			if (h->nlmsg_seq != ns->seq)
				continue;
			if (h->nlmsg_type == NLMSG_DONE)
				return count;
			if (h->nlmsg_type == NLMSG_ERROR) {
				errno = -((const struct nlmsgerr *)NLMSG_DATA(h))->error;
				return -1;
			}
			const struct inet_diag_msg *m = NLMSG_DATA(h);
			if (count == PURGE_BATCH)
				continue; /* the next round takes the rest */
			eps[count] = (struct sfh_endpoints){
			    .target_ip = ntohl(m->id.idiag_src[0]),
			    .peer_ip = ntohl(m->id.idiag_dst[0]),
			    .target_port = ntohs(m->id.idiag_sport),
			    .peer_port = ntohs(m->id.idiag_dport),
			    .ipv6 = (uint8_t)v6,
			};
			if (v6) {
				eps[count].target_ip = eps[count].peer_ip = 0;
				memcpy(eps[count].target_ip6, m->id.idiag_src, 16);
				memcpy(eps[count].peer_ip6, m->id.idiag_dst, 16);
			}
			cks[count][0] = m->id.idiag_cookie[0];
			cks[count][1] = m->id.idiag_cookie[1];
			count++;
		}
	}
}

int sfh_linux_diag_purge(struct sfh_linux_ns *ns)
{
	struct sfh_endpoints eps[PURGE_BATCH];
	uint32_t cks[PURGE_BATCH][2];
	int total = 0;
	for (int v6 = 0; v6 <= ns->ipv6; v6++) {
		int round = 0, n = PURGE_BATCH;
		for (; round < 64 && n == PURGE_BATCH; round++) {
			n = purge_dump(ns, eps, cks, v6);
			if (n < 0)
				return -1;
			for (int i = 0; i < n; i++)
				if (sfh_linux_diag_destroy(ns, &eps[i], cks[i]) != 0)
					return -1;
			total += n;
		}
		if (n == PURGE_BATCH) {
			errno = EAGAIN;
			return -1;
		}
	}
	return total;
}

/* ---------- probe ---------- */

static void *try_unshare(void *arg)
{
	int *e = arg;
	*e = unshare(CLONE_NEWNET) == 0 ? 0 : errno;
	return NULL; /* the thread's namespace dies with it */
}

int sfh_linux_check_env(char *err, size_t errlen)
{
	struct __user_cap_header_struct hdr = {_LINUX_CAPABILITY_VERSION_3, 0};
	struct __user_cap_data_struct data[2];
	memset(data, 0, sizeof data);
	if (syscall(SYS_capget, &hdr, data) != 0)
		memset(data, 0, sizeof data);
	uint32_t need = (1u << CAP_SYS_ADMIN) | (1u << CAP_NET_ADMIN);
	if ((data[0].effective & need) != need) {
		snprintf(err, errlen,
			 "linux target needs root (CAP_SYS_ADMIN and CAP_NET_ADMIN) to create a "
			 "private network namespace and a TUN device: run synfin as root");
		return -1;
	}
	int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		snprintf(err, errlen,
			 "linux target needs /dev/net/tun (%s): load the driver with 'modprobe "
			 "tun'; in a container, pass the device (--device /dev/net/tun)",
			 strerror(errno));
		return -1;
	}
	close(fd);
	int e = 0;
	pthread_t th;
	if (pthread_create(&th, NULL, try_unshare, &e) != 0) {
		snprintf(err, errlen, "linux target: cannot start a thread");
		return -1;
	}
	pthread_join(th, NULL);
	if (e != 0) {
		snprintf(err, errlen,
			 "linux target cannot create a network namespace: unshare(CLONE_NEWNET): "
			 "%s (a container needs CAP_SYS_ADMIN and no seccomp filter on unshare; "
			 "check /proc/sys/user/max_net_namespaces)",
			 strerror(e));
		return -1;
	}
	return 0;
}
