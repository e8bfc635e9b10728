/* `synfin agent` (and the static synfin-agent): the control protocol's server side
 * (docs/exec-protocol.md) on top of agent_sock.c. Usage in agent_usage below.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/reboot.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "agent.h"
#include "proto_io.h"

static const char agent_usage[] =
    "usage: synfin agent [--ctl CHANNEL] [--setup IF,ADDR/PREFIX[,PEER[,PEERMAC]]]\n"
    "  Performs synfin's user calls with real sockets for the tap: target, over the\n"
    "  control protocol (docs/exec-protocol.md).\n"
    "  CHANNEL: fd:N (an inherited descriptor), unix:PATH (connect), virtio:NAME (the\n"
    "           virtio-serial port of that name), or a device path. Default: fd:0.\n"
    "  --setup: address IF, bring it and lo up, add a permanent neighbour entry for PEER,\n"
    "           set the TCP sysctls synfin's linux target uses.\n"
    "  As PID 1 (a VM's /init) it mounts /proc, /sys, /dev, loads /modules.list and reads\n"
    "  synfin.setup= and synfin.ctl= from the kernel command line; it powers off at the end.\n";

/* The virtio-serial port named name (/sys/class/virtio-ports/vportXpY/name), opened. The
 * port appears once virtio_console has probed: wait up to 30 s. */
static int open_virtio(const char *name)
{
	for (int tries = 0; tries < 300; tries++) {
		DIR *d = opendir("/sys/class/virtio-ports");
		struct dirent *e;
		while (d && (e = readdir(d)) != NULL) {
			char path[300], got[64] = {0};
			if (e->d_name[0] == '.')
				continue;
			snprintf(path, sizeof path, "/sys/class/virtio-ports/%s/name", e->d_name);
			int fd = open(path, O_RDONLY | O_CLOEXEC);
			if (fd < 0)
				continue;
			ssize_t n = read(fd, got, sizeof got - 1);
			close(fd);
			if (n > 0 && got[n - 1] == '\n')
				got[n - 1] = 0;
			if (strcmp(got, name) != 0)
				continue;
			snprintf(path, sizeof path, "/dev/%s", e->d_name);
			fd = open(path, O_RDWR | O_CLOEXEC);
			if (fd >= 0) {
				closedir(d);
				return fd;
			}
		}
		if (d)
			closedir(d);
		usleep(100000);
	}
	errno = ENOENT;
	return -1;
}

static int open_ctl(const char *spec)
{
	if (strncmp(spec, "fd:", 3) == 0) {
		char *end;
		long n = strtol(spec + 3, &end, 10);
		if (end == spec + 3 || *end || n < 0 || n > 1 << 20 || fcntl((int)n, F_GETFD) < 0) {
			errno = EBADF;
			return -1;
		}
		return (int)n;
	}
	if (strncmp(spec, "virtio:", 7) == 0)
		return open_virtio(spec + 7);
	if (strncmp(spec, "unix:", 5) == 0) {
		struct sockaddr_un a = {.sun_family = AF_UNIX};
		if (strlen(spec + 5) >= sizeof a.sun_path) {
			errno = ENAMETOOLONG;
			return -1;
		}
		strcpy(a.sun_path, spec + 5);
		int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
			close(fd);
			return -1;
		}
		return fd;
	}
	return open(spec, O_RDWR | O_CLOEXEC);
}

struct agent {
	struct sfx_conn c;
	struct sfa_sock s;
	uint32_t addr; /* our address, for an OPEN that leaves it to us */
	char stack[96];
};

static int reply(struct agent *a, uint8_t req, uint8_t status, uint32_t value, int32_t code,
		 const char *text)
{
	struct sfx_msg m;
	sfx_msg_reply(&m, req, status, value, code, text);
	return sfx_conn_send(&a->c, &m);
}

static int on_hello(struct agent *a, const struct sfx_msg *q)
{
	if (q->u.hello.vmin > SFX_VERSION || q->u.hello.vmax < SFX_VERSION)
		return reply(a, SFX_HELLO, SFX_ERROR, 0, 0, "agent speaks version 1 only");
	struct sfx_msg m;
	sfx_msg_reply(&m, SFX_HELLO, SFX_OK, 0, 0, NULL);
	m.u.reply.version = SFX_VERSION;
	/* No VTIME: the kernel's clock is real; no ISS: the kernel picks its ISN. */
	m.u.reply.caps = SFX_CAP_STATE | SFX_CAP_PASSIVE | SFX_CAP_ACTIVE;
	m.u.reply.stack = (struct sfx_bytes){(const uint8_t *)a->stack, strlen(a->stack)};
	m.u.reply.profile = (struct sfx_bytes){(const uint8_t *)"linux", 5};
	return sfx_conn_send(&a->c, &m);
}

static int on_open(struct agent *a, const struct sfx_msg *q)
{
	struct sfh_endpoints ep = {
	    .peer_ip = q->u.open.ep.peer_ip,
	    .target_ip = q->u.open.ep.target_ip ? q->u.open.ep.target_ip : a->addr,
	    .peer_port = q->u.open.ep.peer_port,
	    .target_port = q->u.open.ep.target_port,
	};
	/* Ports left to us: a fresh pair per case, as the linux target rotates them. */
	if (!ep.target_port)
		ep.target_port = (uint16_t)(20000 + q->u.open.case_no % 20000);
	if (!ep.peer_port)
		ep.peer_port = (uint16_t)(40000 + q->u.open.case_no % 20000);
	if (q->u.open.role > 1 || !ep.peer_ip || !ep.target_ip)
		return reply(a, SFX_OPEN, SFX_ERROR, 0, 0, "agent: bad role or no addresses");
	if (sfa_sock_reset(&a->s, q->u.open.role ? SFH_ROLE_ACTIVE : SFH_ROLE_PASSIVE, &ep) != 0)
		return reply(a, SFX_OPEN, SFX_ERROR, 0, errno, a->s.err);
	struct sfx_msg m;
	sfx_msg_reply(&m, SFX_OPEN, SFX_OK, 0, 0, NULL);
	m.u.reply.ep =
	    (struct sfx_endpoints){ep.peer_ip, ep.target_ip, ep.peer_port, ep.target_port};
	return sfx_conn_send(&a->c, &m);
}

static int on_call(struct agent *a, const struct sfx_msg *q)
{
	errno = 0;
	int r = sfa_sock_call(&a->s, (enum sfo_call)q->u.call.call, q->u.call.arg);
	if (r == SFA_REFUSED)
		return reply(a, SFX_CALL, SFX_REFUSED, 0, errno, strerror(errno));
	if (r < 0)
		return reply(a, SFX_CALL, SFX_ERROR, 0, errno, a->s.err);
	return reply(a, SFX_CALL, SFX_OK, (uint32_t)r, 0, NULL);
}

/* One request; 1 to go on, 0 after BYE, -1 when the channel broke. */
static int serve_one(struct agent *a, const struct sfx_msg *q)
{
	enum sfo_state st;
	int rc;
	switch (q->type) {
	case SFX_HELLO:
		rc = on_hello(a, q);
		break;
	case SFX_RESET:
		/* The case's sockets go at the next OPEN (sfa_sock_reset); aborting them sends
		 * RSTs onto the link, which the tap: target discards with the case. */
		rc = reply(a, SFX_RESET, SFX_OK, 0, 0, NULL);
		break;
	case SFX_OPEN:
		rc = on_open(a, q);
		break;
	case SFX_CALL:
		rc = on_call(a, q);
		break;
	case SFX_STATE:
		sfa_sock_poll(&a->s);
		if (sfa_sock_state(&a->s, &st) != 0)
			rc = reply(a, SFX_STATE, SFX_ERROR, 0, errno, a->s.err);
		else
			rc = reply(a, SFX_STATE, SFX_OK, (uint32_t)st, 0, NULL);
		break;
	case SFX_SYNC:
		/* After each injected frame: accept an established connection at once, as a
		 * server blocked in accept() would (the linux target does it in inject()). A
		 * frame arrived, so the connection may exist beyond the listener now. */
		a->s.app.pristine = 0;
		sfa_sock_poll(&a->s);
		rc = reply(a, SFX_SYNC, SFX_OK, 0, 0, NULL);
		break;
	case SFX_BYE:
		rc = reply(a, SFX_BYE, SFX_OK, 0, 0, NULL);
		return rc == 0 ? 0 : -1;
	default:
		/* ADVANCE (we announce no VTIME) and INJECT (frames use the TAP) */
		rc = reply(a, q->type, SFX_ERROR, 0, 0,
			   "agent: no virtual time and no packet path (frames travel on the TAP)");
		break;
	}
	return rc == 0 ? 1 : -1;
}

static int serve(struct agent *a)
{
	for (;;) {
		struct sfx_msg q;
		struct sfx_err e;
		int k = sfx_conn_recv(&a->c, &q, -1, &e);
		if (k == SFX_IO_EOF)
			return 0;
		if (k != SFX_IO_MSG) {
			fprintf(stderr, "agent: control channel: offset %zu: %s\n", e.offset,
				e.what);
			return -1;
		}
		int r = serve_one(a, &q);
		if (r <= 0)
			return r;
	}
}

/* The first interface of this namespace other than lo and ifname, or NULL. */
static const char *other_interface(const char *ifname, char *buf, size_t cap)
{
	struct if_nameindex *all = if_nameindex(), *p;
	const char *found = NULL;
	for (p = all; p && p->if_index; p++)
		if (strcmp(p->if_name, "lo") != 0 && strcmp(p->if_name, ifname) != 0) {
			snprintf(buf, cap, "%s", p->if_name);
			found = buf;
			break;
		}
	if (all)
		if_freenameindex(all);
	return found;
}

/* 0 served and ended by BYE or end of stream, 1 the channel broke, 2 bad environment. */
static int run(const char *ctl, const struct sfa_setup *cfg)
{
	static struct agent a;
	char err[256];
	struct utsname u;
	/* --setup rewrites addresses and sysctls (IPv6 off): never on a network in use, only
	 * in a namespace or VM made for the test, whose only interfaces are lo and ifname. */
	char other[IF_NAMESIZE + 1];
	if (cfg && other_interface(cfg->ifname, other, sizeof other)) {
		fprintf(stderr,
			"agent: --setup changes addresses and sysctls (IPv6 off) of the whole "
			"network namespace, and this one holds %s besides %s: run it in a "
			"namespace or VM made for the test (synfin's tap: target does)\n",
			other, cfg->ifname);
		return 2;
	}
	if (cfg && sfa_setup_net(cfg, err, sizeof err) != 0) {
		fprintf(stderr, "%s\n", err);
		return 2;
	}
	snprintf(a.stack, sizeof a.stack, "Linux %s (synfin agent)",
		 uname(&u) == 0 ? u.release : "?");
	a.addr = cfg ? cfg->addr : 0;
	int fd = open_ctl(ctl);
	if (fd < 0) {
		fprintf(stderr, "agent: control channel %s: %s\n", ctl, strerror(errno));
		return 2;
	}
	if (sfx_conn_init(&a.c, fd) != 0 || sfa_sock_init(&a.s) != 0) {
		fprintf(stderr, "agent: %s\n", a.s.err[0] ? a.s.err : "out of memory");
		return 2;
	}
	int rc = serve(&a);
	sfa_sock_fini(&a.s);
	sfx_conn_dispose(&a.c);
	close(fd);
	return rc == 0 ? 0 : 1;
}

int sfa_main(int argc, char **argv)
{
	static struct sfa_setup cfg;
	char ctl[128] = "fd:0", err[256];
	int have_cfg = 0;
	if (getpid() == 1) {
		if (sfa_init_system(&cfg, ctl, sizeof ctl, err, sizeof err) != 0) {
			fprintf(stderr, "%s\n", err);
		} else {
			fprintf(stderr, "synfin agent: serving on %s\n", ctl);
			int rc = run(ctl, &cfg);
			fprintf(stderr, "synfin agent: done (%d)\n", rc);
		}
		sync();
		reboot(RB_POWER_OFF);
		return 1;
	}
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--ctl") == 0 && i + 1 < argc) {
			snprintf(ctl, sizeof ctl, "%s", argv[++i]);
		} else if (strcmp(argv[i], "--setup") == 0 && i + 1 < argc) {
			if (sfa_setup_parse(&cfg, argv[++i]) != 0) {
				fprintf(stderr, "agent: bad --setup %s\n%s", argv[i], agent_usage);
				return 2;
			}
			have_cfg = 1;
		} else {
			if (strcmp(argv[i], "--help") != 0)
				fprintf(stderr, "agent: unknown or incomplete option '%s'\n",
					argv[i]);
			fputs(agent_usage, strcmp(argv[i], "--help") == 0 ? stdout : stderr);
			return strcmp(argv[i], "--help") == 0 ? 0 : 2;
		}
	}
	return run(ctl, have_cfg ? &cfg : NULL);
}
