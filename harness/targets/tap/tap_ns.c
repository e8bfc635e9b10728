/* The tap target's namespace, its TAP device, the frame path, and the child process that
 * stands beside the stack.
 *
 * As for the linux target, a short-lived thread unshares a network namespace, builds
 * everything and exits; the descriptors it opened (all O_CLOEXEC) and the child started
 * inside are the namespace's only references. It has no name and no bind mount, so when
 * synfin closes them or dies (the child gets SIGKILL through PR_SET_PDEATHSIG), the kernel
 * removes the device and frees the namespace. Its only interfaces are lo and the TAP; it
 * has no route beyond the TAP's /30, and whatever crosses the TAP is read by synfin or by
 * the stack that attached to it: nothing leaves the namespace.
 *
 * KERNEL mode: synfin keeps the TAP fd; the namespace's kernel is the stack (the agent
 * addresses the interface as 198.18.0.1/30, MAC 02:73:79:6e:66:01).
 * ATTACH mode: the device is made persistent and synfin closes its fd, so that a stack can
 * attach to it by name (TUNSETIFF on the same name from inside the namespace); synfin
 * talks on the interface side through an AF_PACKET socket, as the peer (MAC
 * 02:73:79:6e:66:02). The namespace's kernel has no address on it and no IPv6, so it
 * answers nothing there itself. A persistent TAP is deleted with its namespace.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tap_priv.h"

static int write_sysctl(const char *name, const char *value)
{
	char path[128];
	snprintf(path, sizeof path, "/proc/sys/net/%s", name);
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? 0 : -1;
	ssize_t w = write(fd, value, strlen(value));
	close(fd);
	return w == (ssize_t)strlen(value) ? 0 : -1;
}

static int if_req(int s, unsigned long req, struct ifreq *r, const char *name)
{
	snprintf(r->ifr_name, sizeof r->ifr_name, "%s", name);
	return ioctl(s, req, r);
}

static int make_device(struct sfh_tap_ns *ns, char *err, size_t errlen)
{
	const char *what = NULL;
	struct ifreq r;
	int tfd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (tfd < 0 || s < 0) {
		snprintf(err, errlen, "tap target: %s: %s", tfd < 0 ? "/dev/net/tun" : "socket",
			 strerror(errno));
		goto fail;
	}
	memset(&r, 0, sizeof r);
	r.ifr_flags = IFF_TAP | IFF_NO_PI;
	if (if_req(tfd, TUNSETIFF, &r, SFH_TAP_IFNAME) != 0) {
		what = "TUNSETIFF";
		goto why;
	}
	/* The interface side's MAC: the stack's in KERNEL mode, synfin's in ATTACH mode. */
	memset(&r, 0, sizeof r);
	r.ifr_hwaddr.sa_family = ARPHRD_ETHER;
	memcpy(r.ifr_hwaddr.sa_data,
	       ns->mode == SFH_TAP_KERNEL ? sfh_tap_target_mac : sfh_tap_peer_mac, 6);
	if (if_req(s, SIOCSIFHWADDR, &r, SFH_TAP_IFNAME) != 0) {
		what = "MAC address";
		goto why;
	}
	if (ns->mode == SFH_TAP_KERNEL) {
		ns->wirefd = tfd;
		close(s);
		return 0; /* the agent addresses it and brings it up */
	}
	memset(&r, 0, sizeof r);
	if (if_req(s, SIOCGIFFLAGS, &r, SFH_TAP_IFNAME) != 0) {
		what = "flags";
		goto why;
	}
	r.ifr_flags |= IFF_UP;
	if (if_req(s, SIOCSIFFLAGS, &r, SFH_TAP_IFNAME) != 0) {
		what = "link up";
		goto why;
	}
	memset(&r, 0, sizeof r);
	if (if_req(s, SIOCGIFINDEX, &r, SFH_TAP_IFNAME) != 0) {
		what = "ifindex";
		goto why;
	}
	int ifindex = r.ifr_ifindex;
	if (ioctl(tfd, TUNSETPERSIST, 1) != 0) {
		what = "TUNSETPERSIST";
		goto why;
	}
	close(tfd); /* detached: the stack attaches by name */
	tfd = -1;
	ns->wirefd = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, htons(ETH_P_ALL));
	struct sockaddr_ll ll = {
	    .sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ALL), .sll_ifindex = ifindex};
	if (ns->wirefd < 0 || bind(ns->wirefd, (struct sockaddr *)&ll, sizeof ll) != 0) {
		what = "AF_PACKET socket";
		goto why;
	}
	close(s);
	return 0;
why:
	snprintf(err, errlen, "tap target: %s %s: %s", SFH_TAP_IFNAME, what, strerror(errno));
fail:
	if (tfd >= 0)
		close(tfd);
	if (s >= 0)
		close(s);
	return -1;
}

struct setup_job {
	struct sfh_tap_ns *ns;
	char *err;
	size_t errlen;
	int rc;
};

static void *setup_thread(void *arg)
{
	struct setup_job *j = arg;
	struct sfh_tap_ns *ns = j->ns;
	j->rc = -1;
	/* Twice, as the linux target does: the first namespace only sizes the second one's
	 * private TCP hash table, so the agent's sock_diag dumps stay cheap. */
	if (unshare(CLONE_NEWNET) != 0) {
		snprintf(j->err, j->errlen,
			 "tap target: unshare(CLONE_NEWNET): %s (needs CAP_SYS_ADMIN: run as root)",
			 strerror(errno));
		return NULL;
	}
	(void)write_sysctl("ipv4/tcp_child_ehash_entries", "1024");
	if (unshare(CLONE_NEWNET) != 0) {
		snprintf(j->err, j->errlen, "tap target: unshare(CLONE_NEWNET): %s",
			 strerror(errno));
		return NULL;
	}
	ns->nsfd = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (ns->nsfd < 0) {
		snprintf(j->err, j->errlen, "tap target: /proc/thread-self/ns/net: %s",
			 strerror(errno));
		return NULL;
	}
	/* No IPv6 on the device: no router solicitations or DAD on the wire. */
	(void)write_sysctl("ipv6/conf/default/disable_ipv6", "1");
	(void)write_sysctl("ipv6/conf/all/disable_ipv6", "1");
	if (make_device(ns, j->err, j->errlen) != 0)
		return NULL;
	j->rc = 0;
	return NULL;
}

int sfh_tap_ns_open(struct sfh_tap_ns *ns, enum sfh_tap_mode mode, char *err, size_t errlen)
{
	memset(ns, 0, sizeof *ns);
	ns->mode = mode;
	ns->nsfd = ns->wirefd = ns->ctlfd = -1;
	struct setup_job j = {ns, err, errlen, -1};
	pthread_t th;
	int e = pthread_create(&th, NULL, setup_thread, &j);
	if (e != 0) {
		snprintf(err, errlen, "tap target: pthread_create: %s", strerror(e));
		return -1;
	}
	pthread_join(th, NULL);
	if (j.rc != 0) {
		sfh_tap_ns_close(ns);
		return -1;
	}
	return 0;
}

/* "NAME=a.b.c.d", "NAME=xx:..:xx" or "NAME=n" into buf (made before fork: the child
 * only execs). */
static char *env_item(char *buf, size_t cap, const char *name, int ip, uint32_t a,
		      const uint8_t *mac)
{
	if (mac)
		snprintf(buf, cap, "%s=%02x:%02x:%02x:%02x:%02x:%02x", name, mac[0], mac[1], mac[2],
			 mac[3], mac[4], mac[5]);
	else if (ip)
		snprintf(buf, cap, "%s=%u.%u.%u.%u", name, a >> 24, (a >> 16) & 255, (a >> 8) & 255,
			 a & 255);
	else
		snprintf(buf, cap, "%s=%u", name, a);
	return buf;
}

extern char **environ;

int sfh_tap_ns_spawn(struct sfh_tap_ns *ns, char *const argv[], const char *shell, char *err,
		     size_t errlen)
{
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
		snprintf(err, errlen, "tap target: socketpair: %s", strerror(errno));
		return -1;
	}
	/* A pipe that exec closes: the child reports a failure to enter the namespace or to
	 * exec, so the error names it instead of a closed control channel. */
	int ep[2];
	if (pipe2(ep, O_CLOEXEC) != 0) {
		snprintf(err, errlen, "tap target: pipe: %s", strerror(errno));
		close(sv[0]);
		close(sv[1]);
		return -1;
	}
	/* The environment: the caller's, with SYNFIN_* describing the link. */
	static char items[7][64];
	size_t nenv = 0;
	while (environ && environ[nenv])
		nenv++;
	char **envp = calloc(nenv + 8, sizeof *envp);
	if (!envp) {
		snprintf(err, errlen, "tap target: out of memory");
		close(sv[0]), close(sv[1]), close(ep[0]), close(ep[1]);
		return -1;
	}
	size_t k = 0;
	for (size_t i = 0; i < nenv; i++)
		if (strncmp(environ[i], "SYNFIN_", 7) != 0 ||
		    strncmp(environ[i], "SYNFIN_AGENT", 12) == 0)
			envp[k++] = environ[i];
	snprintf(items[0], sizeof items[0], "SYNFIN_TAP_IF=%s", SFH_TAP_IFNAME);
	envp[k++] = items[0];
	envp[k++] = env_item(items[1], 64, "SYNFIN_TARGET_IP", 1, SFH_TAP_TARGET_IP, NULL);
	envp[k++] = env_item(items[2], 64, "SYNFIN_PEER_IP", 1, SFH_TAP_PEER_IP, NULL);
	envp[k++] = env_item(items[3], 64, "SYNFIN_PREFIX", 0, SFH_TAP_PREFIX, NULL);
	envp[k++] = env_item(items[4], 64, "SYNFIN_TARGET_MAC", 0, 0, sfh_tap_target_mac);
	envp[k++] = env_item(items[5], 64, "SYNFIN_PEER_MAC", 0, 0, sfh_tap_peer_mac);
	envp[k++] = env_item(items[6], 64, "SYNFIN_CTL_FD", 0, SFH_TAP_CTL_FD, NULL);
	envp[k] = NULL;
	pid_t parent = getpid();
	pid_t pid = fork();
	if (pid < 0) {
		snprintf(err, errlen, "tap target: fork: %s", strerror(errno));
		free(envp);
		close(sv[0]), close(sv[1]), close(ep[0]), close(ep[1]);
		return -1;
	}
	if (pid == 0) {
		const char *step = "prctl";
		if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != parent)
			goto child_fail;
		step = "setns";
		if (setns(ns->nsfd, CLONE_NEWNET) != 0)
			goto child_fail;
		step = "dup2";
		if (dup2(sv[1], SFH_TAP_CTL_FD) != SFH_TAP_CTL_FD || dup2(2, 1) != 1)
			goto child_fail;
		/* A command may start processes of its own (a shell running QEMU): it becomes
		 * PID 1 of a PID namespace, whose processes all die with it, and it dies with
		 * this child (PDEATHSIG), which dies with synfin. This child only relays its
		 * exit status. */
		if (shell) {
			step = "unshare(CLONE_NEWPID)";
			if (unshare(CLONE_NEWPID) != 0)
				goto child_fail;
			pid_t init = fork();
			step = "fork";
			if (init < 0)
				goto child_fail;
			if (init > 0) {
				int st;
				close(ep[1]);
				close(sv[1]);
				close(SFH_TAP_CTL_FD);
				while (waitpid(init, &st, 0) < 0 && errno == EINTR)
					;
				if (WIFSIGNALED(st)) {
					signal(WTERMSIG(st), SIG_DFL);
					kill(getpid(), WTERMSIG(st));
				}
				_exit(WIFEXITED(st) ? WEXITSTATUS(st) : 127);
			}
			/* (its parent is outside the namespace: getppid() reads 0 here) */
			step = "prctl";
			if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0)
				goto child_fail;
		}
		/* Default signal dispositions and mask for the stack's side. */
		sigset_t none;
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		signal(SIGPIPE, SIG_DFL);
		step = shell ? "/bin/sh" : argv[0];
		if (shell)
			execve("/bin/sh", (char *const[]){"sh", "-c", (char *)shell, NULL}, envp);
		else
			execve(argv[0], argv, envp);
	child_fail:;
		char msg[300];
		int n = snprintf(msg, sizeof msg, "%s: %s", step, strerror(errno));
		if (write(ep[1], msg, (size_t)n) < 0)
			_exit(127);
		_exit(127);
	}
	free(envp);
	close(sv[1]);
	close(ep[1]);
	char msg[300];
	ssize_t n;
	do
		n = read(ep[0], msg, sizeof msg - 1);
	while (n < 0 && errno == EINTR);
	close(ep[0]);
	if (n > 0) {
		msg[n] = 0;
		snprintf(err, errlen, "tap target: cannot start the stack's side: %s", msg);
		waitpid(pid, NULL, 0);
		close(sv[0]);
		return -1;
	}
	ns->pid = pid;
	ns->ctlfd = sv[0];
	return 0;
}

int sfh_tap_ns_exited(struct sfh_tap_ns *ns, int *status)
{
	if (ns->pid <= 0) {
		*status = -1;
		return 1;
	}
	pid_t r = waitpid(ns->pid, status, WNOHANG);
	if (r == ns->pid || (r < 0 && errno == ECHILD)) {
		ns->pid = 0;
		return 1;
	}
	return 0;
}

void sfh_tap_ns_stop(struct sfh_tap_ns *ns, int grace_ms, int *status)
{
	int st = -1;
	for (int waited = 0; ns->pid > 0; waited += 5) {
		if (sfh_tap_ns_exited(ns, &st))
			break;
		if (waited >= grace_ms) {
			kill(ns->pid, SIGKILL);
			waitpid(ns->pid, &st, 0);
			ns->pid = 0;
			break;
		}
		struct timespec ts = {0, 5 * 1000 * 1000};
		nanosleep(&ts, NULL);
	}
	if (status)
		*status = st;
}

void sfh_tap_ns_close(struct sfh_tap_ns *ns)
{
	if (ns->ctlfd >= 0)
		close(ns->ctlfd);
	sfh_tap_ns_stop(ns, 0, NULL);
	if (ns->wirefd >= 0)
		close(ns->wirefd);
	if (ns->nsfd >= 0)
		close(ns->nsfd);
	ns->ctlfd = ns->wirefd = ns->nsfd = -1;
}

ssize_t sfh_tap_read(struct sfh_tap_ns *ns, uint8_t *buf, size_t cap)
{
	for (;;) {
		ssize_t n;
		if (ns->mode == SFH_TAP_KERNEL) {
			n = read(ns->wirefd, buf, cap);
		} else {
			struct sockaddr_ll from;
			socklen_t fl = sizeof from;
			n = recvfrom(ns->wirefd, buf, cap, MSG_TRUNC, (struct sockaddr *)&from,
				     &fl);
			/* Our own frames, seen leaving the interface. */
			if (n >= 0 && from.sll_pkttype == PACKET_OUTGOING)
				continue;
			if (n > (ssize_t)cap)
				n = (ssize_t)cap; /* truncated: the parser rejects it */
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return 0;
		return n;
	}
}

int sfh_tap_write(struct sfh_tap_ns *ns, const uint8_t *frame, size_t len)
{
	int full = 0;
	for (;;) {
		ssize_t w = write(ns->wirefd, frame, len);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && errno == EAGAIN && ++full < 20) {
			struct pollfd p = {.fd = ns->wirefd, .events = POLLOUT};
			(void)poll(&p, 1, 100);
			continue;
		}
		return w == (ssize_t)len ? 0 : -1;
	}
}
