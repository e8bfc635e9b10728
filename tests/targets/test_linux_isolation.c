/* The linux target stays inside its namespace and leaves nothing behind.
 *
 * 1. While thousands of cases run (handshakes, data, FIN and RST teardowns, retransmitted
 *    SYN-ACKs), libpcap captures on "any" in the host namespace: no packet to or from the
 *    namespace's addresses may appear there. A UDP datagram to 127.0.0.1 proves the capture
 *    is live, and the capture must drop nothing.
 * 2. A child process opens the target and runs cases; it is killed (SIGKILL, then another
 *    with SIGTERM) mid-run. Afterwards its TUN device is gone (checked from inside its
 *    namespace, through a descriptor this test took before the kill), no process holds the
 *    namespace (a scan of every /proc/PID/task/TID/ns/net and /proc/PID/fd entry), and
 *    /run/netns and the host's interfaces are as before.
 * Skipped (77) only when not root or without /dev/net/tun. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <pcap/pcap.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "target.h"
#include "wire.h"

#define PISN   1000u
#define NS_NET 0xc6120000u /* 198.18.0.0/30: the namespace's addresses */

/* ---- a small driver of cases through the vtable ---- */

struct drv {
	struct sfh_target *t;
	struct sfh_wire *w;
	struct sfh_endpoints ep;
	uint32_t tisn;
	int bad;
};

static void drv_drain(struct drv *d)
{
	struct sfh_pkt pk[8];
	int n;
	while ((n = sfh_target_drain(d->t, pk, 8)) > 0)
		for (int i = 0; i < n; i++) {
			struct sfh_endpoints ep;
			struct sfo_seg s;
			if (sfh_wire_parse(pk[i].data, pk[i].len, &ep, &s, NULL) == 0 &&
			    (s.flags & SFO_SYN))
				d->tisn = s.seq;
		}
	d->bad |= n < 0;
}

static void drv_in(struct drv *d, uint8_t flags, uint32_t seq, uint32_t ack, uint32_t len)
{
	struct sfo_seg s = {.seq = seq, .ack = ack, .len = len, .wnd = 65535, .flags = flags};
	uint8_t buf[SFH_PKT_MAX];
	int n = sfh_wire_build(d->w, &d->ep, &s, buf, sizeof buf);
	d->bad |= n < 0 || sfh_target_inject(d->t, buf, (size_t)n) != 0;
	drv_drain(d);
}

static void drv_call(struct drv *d, enum sfo_call c, uint32_t arg)
{
	d->bad |= sfh_target_call(d->t, c, arg) == -1;
	drv_drain(d);
}

/* One case of kind k % 4: graceful close, abort, peer RST, active open with data. */
static void drv_case(struct drv *d, uint32_t k)
{
	enum sfh_role role = k % 4 == 3 ? SFH_ROLE_ACTIVE : SFH_ROLE_PASSIVE;
	d->bad |= sfh_target_reset(d->t, role, k, &d->ep) != 0;
	if (role == SFH_ROLE_ACTIVE) {
		drv_call(d, SFO_CALL_CONNECT, 0);
		drv_in(d, SFO_SYN | SFO_ACK, PISN, d->tisn + 1, 0);
		drv_call(d, SFO_CALL_SEND, 300);
		drv_in(d, SFO_ACK | SFO_FIN, PISN + 1, d->tisn + 301, 0);
		drv_call(d, SFO_CALL_CLOSE, 0);
		return;
	}
	drv_in(d, SFO_SYN, PISN, 0, 0);
	drv_in(d, SFO_ACK, PISN + 1, d->tisn + 1, 0);
	drv_in(d, SFO_ACK | SFO_PSH, PISN + 1, d->tisn + 1, 100);
	if (k % 4 == 0) {
		drv_call(d, SFO_CALL_CLOSE, 0);
		drv_in(d, SFO_ACK | SFO_FIN, PISN + 101, d->tisn + 2, 0);
	} else if (k % 4 == 1) {
		drv_call(d, SFO_CALL_SEND, 2000);
		drv_call(d, SFO_CALL_ABORT, 0);
	} else {
		drv_in(d, SFO_RST, PISN + 101, 0, 0);
	}
}

static int drv_open(struct drv *d, char *err, size_t errlen)
{
	memset(d, 0, sizeof *d);
	if (sfh_target_open("linux", &d->t, err, errlen) != 0)
		return -1;
	d->w = sfh_wire_new(err, errlen);
	return d->w ? 0 : -1;
}

static void drv_close(struct drv *d)
{
	sfh_wire_free(d->w);
	sfh_target_close(d->t);
}

/* ---- 1. nothing on the host's interfaces ---- */

struct cap {
	int link;
	long seen, leaked, probe, control;
};

static void on_packet(u_char *user, const struct pcap_pkthdr *h, const u_char *p)
{
	struct cap *c = (struct cap *)user;
	size_t off;
	uint16_t proto;
	if (c->link == DLT_LINUX_SLL && h->caplen >= 16) {
		off = 16;
		proto = (uint16_t)(p[14] << 8 | p[15]);
	} else if (c->link == DLT_LINUX_SLL2 && h->caplen >= 20) {
		off = 20;
		proto = (uint16_t)(p[0] << 8 | p[1]);
	} else if (c->link == DLT_EN10MB && h->caplen >= 14) {
		off = 14;
		proto = (uint16_t)(p[12] << 8 | p[13]);
	} else {
		return;
	}
	c->seen++;
	if (proto != 0x0800 || h->caplen < off + 20)
		return;
	const u_char *ip = p + off;
	uint32_t src = (uint32_t)ip[12] << 24 | (uint32_t)ip[13] << 16 | ip[14] << 8 | ip[15];
	uint32_t dst = (uint32_t)ip[16] << 24 | (uint32_t)ip[17] << 16 | ip[18] << 8 | ip[19];
	int probe = ip[9] == IPPROTO_UDP && dst == 0x7f000001u && h->caplen >= off + 24 &&
		    (ip[22] << 8 | ip[23]) == 9;
	if (probe && (src & ~3u) == NS_NET)
		c->control++; /* the detector's positive control, sent on loopback */
	else if ((src & ~3u) == NS_NET || (dst & ~3u) == NS_NET)
		c->leaked++;
	else if (probe)
		c->probe++;
}

/* The detector's positive control: a UDP datagram with the namespace's peer address as
 * source, sent to 127.0.0.1 through a raw socket on the host's loopback. */
static void send_control(void)
{
	uint8_t b[34] = {0x45, 0,  0, 34, 0,   0,   0,	 0,   64,   IPPROTO_UDP, 0, 0,
			 198,  18, 0, 2,  127, 0,   0,	 1,   0x9c, 0x40,	 0, 9,
			 0,    14, 0, 0,  's', 'y', 'n', 'f', 'i',  'n'};
	int s = socket(AF_INET, SOCK_RAW, IPPROTO_RAW);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(0x7f000001u)};
	if (s >= 0) {
		(void)sendto(s, b, sizeof b, 0, (struct sockaddr *)&a, sizeof a);
		close(s);
	}
}

/* A datagram to 127.0.0.1:9 (discard): what a live capture must see. */
static void send_probe(void)
{
	int s = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in a = {
	    .sin_family = AF_INET, .sin_port = htons(9), .sin_addr.s_addr = htonl(0x7f000001u)};
	if (s >= 0) {
		(void)sendto(s, "synfin", 6, 0, (struct sockaddr *)&a, sizeof a);
		close(s);
	}
}

static void host_capture_sees_nothing(void)
{
	char errbuf[PCAP_ERRBUF_SIZE] = "";
	pcap_t *p = pcap_create("any", errbuf);
	CHECK(p != NULL);
	if (!p)
		return;
	pcap_set_snaplen(p, 128);
	pcap_set_immediate_mode(p, 1);
	pcap_set_buffer_size(p, 16 << 20);
	int rc = pcap_activate(p);
	CHECK(rc >= 0);
	if (rc < 0) {
		fprintf(stderr, "pcap: %s\n", pcap_geterr(p));
		pcap_close(p);
		return;
	}
	/* Keep in the kernel's buffer only what can matter: anything carrying the
	 * namespace's addresses, and the UDP probes to loopback. Other tests running at the
	 * same time make heavy loopback traffic, which would otherwise overflow the buffer. */
	struct bpf_program prog;
	CHECK_EQ(pcap_compile(p, &prog, "net 198.18.0.0/30 or (udp and dst host 127.0.0.1)", 1,
			      PCAP_NETMASK_UNKNOWN),
		 0);
	CHECK_EQ(pcap_setfilter(p, &prog), 0);
	pcap_freecode(&prog);
	pcap_setnonblock(p, 1, errbuf);
	struct cap c = {.link = pcap_datalink(p)};
	struct drv d;
	char err[256];
	CHECK_EQ(drv_open(&d, err, sizeof err), 0);
	send_probe();
	send_control();
	for (uint32_t k = 0; k < 4000 && d.t; k++) {
		drv_case(&d, k);
		if (k % 200 == 0)
			pcap_dispatch(p, -1, on_packet, (u_char *)&c);
	}
	/* Real time with retransmissions pending: SYN-ACKs and an unacknowledged FIN. */
	if (d.t) {
		d.bad |= sfh_target_reset(d.t, SFH_ROLE_PASSIVE, 9999, &d.ep) != 0;
		drv_in(&d, SFO_SYN, PISN, 0, 0);
		d.bad |= sfh_target_advance(d.t, 1500) != 0;
		drv_drain(&d);
	}
	CHECK(!d.bad);
	drv_close(&d);
	send_probe();
	struct timespec ts = {0, 100 * 1000 * 1000};
	nanosleep(&ts, NULL);
	pcap_dispatch(p, -1, on_packet, (u_char *)&c);
	struct pcap_stat st = {0};
	CHECK_EQ(pcap_stats(p, &st), 0);
	printf("host capture: %ld packets seen, %ld probes, %ld controls, %ld from the "
	       "namespace, %u dropped\n",
	       c.seen, c.probe, c.control, c.leaked, st.ps_drop);
	CHECK(c.probe >= 2);
	CHECK(c.control >= 1);
	CHECK_EQ(c.leaked, 0);
	CHECK_EQ(st.ps_drop, 0);
	pcap_close(p);
}

/* ---- 2. killed mid-run, nothing is left ---- */

/* Host interfaces as one sorted-by-index string. */
static void host_links(char *buf, size_t cap)
{
	struct if_nameindex *ifs = if_nameindex();
	size_t n = 0;
	buf[0] = 0;
	for (struct if_nameindex *i = ifs; i && i->if_index; i++)
		n += (size_t)snprintf(buf + n, n < cap ? cap - n : 0, "%u:%s ", i->if_index,
				      i->if_name);
	if_freenameindex(ifs);
}

static void list_dir(const char *path, char *buf, size_t cap)
{
	DIR *d = opendir(path);
	size_t n = 0;
	buf[0] = 0;
	for (struct dirent *e; d && (e = readdir(d)) != NULL;)
		if (e->d_name[0] != '.')
			n += (size_t)snprintf(buf + n, n < cap ? cap - n : 0, "%s ", e->d_name);
	if (d)
		closedir(d);
}

/* The child's namespace descriptor: the fd whose link reads "net:[...]". */
static int find_ns_fd(pid_t pid, char *link, size_t cap)
{
	char dir[64];
	snprintf(dir, sizeof dir, "/proc/%d/fd", (int)pid);
	DIR *d = opendir(dir);
	int found = -1;
	for (struct dirent *e; d && found < 0 && (e = readdir(d)) != NULL;) {
		char path[320];
		snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
		ssize_t n = readlink(path, link, cap - 1);
		if (n > 0) {
			link[n] = 0;
			if (strncmp(link, "net:[", 5) == 0)
				found = open(path, O_RDONLY | O_CLOEXEC);
		}
	}
	if (d)
		closedir(d);
	return found;
}

static int links_in(const char *dir, const char *leaf, const char *link)
{
	DIR *d = opendir(dir);
	int refs = 0;
	for (struct dirent *e; d && (e = readdir(d)) != NULL;) {
		char path[600], l[128];
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof path, "%s/%s%s", dir, e->d_name, leaf);
		ssize_t n = readlink(path, l, sizeof l - 1);
		if (n > 0) {
			l[n] = 0;
			refs += strcmp(l, link) == 0;
		}
	}
	if (d)
		closedir(d);
	return refs;
}

/* How many threads or descriptors of other processes refer to namespace `link`. */
static int ns_referenced(const char *link)
{
	DIR *proc = opendir("/proc");
	int refs = 0;
	for (struct dirent *p; proc && (p = readdir(proc)) != NULL;) {
		if (p->d_name[0] < '0' || p->d_name[0] > '9' || atoi(p->d_name) == getpid())
			continue;
		char dir[300];
		snprintf(dir, sizeof dir, "/proc/%s/task", p->d_name);
		refs += links_in(dir, "/ns/net", link);
		snprintf(dir, sizeof dir, "/proc/%s/fd", p->d_name);
		refs += links_in(dir, "", link);
	}
	if (proc)
		closedir(proc);
	return refs;
}

struct in_ns {
	int fd;
	char links[512];
	int rc;
};

static void *list_in_ns(void *arg)
{
	struct in_ns *j = arg;
	j->rc = setns(j->fd, CLONE_NEWNET);
	if (j->rc == 0)
		host_links(j->links, sizeof j->links);
	return NULL; /* the thread, and its namespace membership, ends here */
}

static void child_run(int wfd)
{
	struct drv d;
	char err[256];
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (drv_open(&d, err, sizeof err) != 0)
		_exit(2);
	time_t end = time(NULL) + 60;
	for (uint32_t k = 0; time(NULL) < end; k++) {
		drv_case(&d, k);
		if (k % 100 == 99 && write(wfd, "x", 1) != 1)
			_exit(3);
	}
	_exit(0);
}

static void killed_leaves_nothing(int sig)
{
	char links_before[1024], links_after[1024], run_before[1024], run_after[1024];
	host_links(links_before, sizeof links_before);
	list_dir("/run/netns", run_before, sizeof run_before);
	int pfd[2];
	CHECK_EQ(pipe(pfd), 0);
	pid_t pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		close(pfd[0]);
		child_run(pfd[1]);
	}
	close(pfd[1]);
	char b;
	int progress = 0;
	while (progress < 5 && read(pfd[0], &b, 1) == 1)
		progress++; /* 500 cases in: mid-run */
	CHECK_EQ(progress, 5);
	char link[128] = "";
	int nsfd = find_ns_fd(pid, link, sizeof link);
	CHECK(nsfd >= 0);
	kill(pid, sig);
	int status = 0;
	CHECK_EQ(waitpid(pid, &status, 0), pid);
	CHECK(WIFSIGNALED(status) && WTERMSIG(status) == sig);
	close(pfd[0]);
	if (nsfd >= 0) {
		/* Inside the namespace, kept alive only by our descriptor: lo and nothing else. */
		struct in_ns j = {.fd = nsfd, .rc = -1};
		pthread_t th;
		CHECK_EQ(pthread_create(&th, NULL, list_in_ns, &j), 0);
		pthread_join(th, NULL);
		CHECK_EQ(j.rc, 0);
		printf("after kill(%d): namespace %s holds: %s\n", sig, link, j.links);
		CHECK(strstr(j.links, "synfin") == NULL);
		CHECK(strstr(j.links, "lo") != NULL);
		close(nsfd);
	}
	CHECK_EQ(ns_referenced(link), 0);
	host_links(links_after, sizeof links_after);
	list_dir("/run/netns", run_after, sizeof run_after);
	CHECK_STR(links_after, links_before);
	CHECK_STR(run_after, run_before);
}

int main(void)
{
	if (geteuid() != 0) {
		printf("skipped: the linux target needs root (a private network namespace)\n");
		return 77;
	}
	if (access("/dev/net/tun", R_OK | W_OK) != 0) {
		printf("skipped: no /dev/net/tun (modprobe tun)\n");
		return 77;
	}
	host_capture_sees_nothing();
	killed_leaves_nothing(SIGKILL);
	killed_leaves_nothing(SIGTERM);
	return check_done();
}
