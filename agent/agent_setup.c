/* The agent's own machine set-up: the interface, a static neighbour entry for synfin's
 * side, the TCP sysctls, and, as a VM's /init, the minimum of a system (mounts, modules,
 * the kernel command line). No busybox and no netlink library: a few ioctls suffice.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>

#include "agent.h"

static int parse_mac(const char *t, uint8_t mac[6])
{
	unsigned v[6];
	if (sscanf(t, "%x:%x:%x:%x:%x:%x", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5]) != 6)
		return -1;
	for (int i = 0; i < 6; i++) {
		if (v[i] > 255)
			return -1;
		mac[i] = (uint8_t)v[i];
	}
	return 0;
}

int sfa_setup_parse(struct sfa_setup *cfg, const char *text)
{
	char buf[160], *f[4] = {0}, *save = NULL;
	int n = 0;
	memset(cfg, 0, sizeof *cfg);
	if (strlen(text) >= sizeof buf)
		return -1;
	strcpy(buf, text);
	for (char *t = strtok_r(buf, ",", &save); t && n < 4; t = strtok_r(NULL, ",", &save))
		f[n++] = t;
	if (n < 2 || strlen(f[0]) >= sizeof cfg->ifname)
		return -1;
	strcpy(cfg->ifname, f[0]);
	char *slash = strchr(f[1], '/');
	struct in_addr a;
	cfg->prefix = 24;
	if (slash) {
		*slash = 0;
		cfg->prefix = atoi(slash + 1);
	}
	if (inet_pton(AF_INET, f[1], &a) != 1 || cfg->prefix < 1 || cfg->prefix > 32)
		return -1;
	cfg->addr = ntohl(a.s_addr);
	if (n >= 3) {
		if (inet_pton(AF_INET, f[2], &a) != 1)
			return -1;
		cfg->peer = ntohl(a.s_addr);
	}
	if (n >= 4) {
		if (parse_mac(f[3], cfg->peermac) != 0)
			return -1;
		cfg->have_peermac = 1;
	}
	return 0;
}

static int write_file(const char *path, const char *value)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ssize_t w = write(fd, value, strlen(value));
	close(fd);
	return w == (ssize_t)strlen(value) ? 0 : -1;
}

/* The same sysctls as the linux target's namespace (target_linux_ns.c, set_sysctls, with
 * the reasons): the two kernels are then judged under the same settings. */
static void set_sysctls(void)
{
	static const char *const tab[][2] = {
	    {"/proc/sys/net/ipv6/conf/default/disable_ipv6", "1"},
	    {"/proc/sys/net/ipv6/conf/all/disable_ipv6", "1"},
	    {"/proc/sys/net/ipv4/tcp_invalid_ratelimit", "0"},
	    {"/proc/sys/net/ipv4/tcp_challenge_ack_limit", "2147483647"},
	    {"/proc/sys/net/ipv4/tcp_no_metrics_save", "1"},
	    {"/proc/sys/net/ipv4/tcp_syncookies", "0"},
	    {"/proc/sys/net/ipv4/tcp_comp_sack_nr", "0"},
	    {"/proc/sys/net/ipv4/icmp_ratelimit", "0"},
	};
	for (size_t i = 0; i < sizeof tab / sizeof tab[0]; i++)
		(void)write_file(tab[i][0], tab[i][1]); /* optional: an older kernel lacks some */
}

static int if_ioctl(int s, const char *name, unsigned long req, uint32_t addr)
{
	struct ifreq r;
	memset(&r, 0, sizeof r);
	snprintf(r.ifr_name, sizeof r.ifr_name, "%s", name);
	if (req == SIOCSIFFLAGS) {
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

/* A permanent neighbour entry for synfin's side: no ARP exchange ever precedes a
 * segment, so the kernel's answer leaves at once, as through the linux target's TUN. */
static int set_neigh(int s, const struct sfa_setup *cfg)
{
	struct arpreq r;
	memset(&r, 0, sizeof r);
	struct sockaddr_in *pa = (struct sockaddr_in *)&r.arp_pa;
	pa->sin_family = AF_INET;
	pa->sin_addr.s_addr = htonl(cfg->peer);
	r.arp_ha.sa_family = ARPHRD_ETHER;
	memcpy(r.arp_ha.sa_data, cfg->peermac, 6);
	r.arp_flags = ATF_PERM | ATF_COM;
	snprintf(r.arp_dev, sizeof r.arp_dev, "%s", cfg->ifname);
	return ioctl(s, SIOCSARP, &r);
}

int sfa_setup_net(const struct sfa_setup *cfg, char *err, size_t errlen)
{
	set_sysctls();
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0) {
		snprintf(err, errlen, "agent: socket: %s", strerror(errno));
		return -1;
	}
	uint32_t mask = cfg->prefix == 32 ? ~0u : ~0u << (32 - cfg->prefix);
	const char *what = NULL;
	/* The device may still be probing (a module just loaded): retry for up to 20 s. */
	for (int i = 0; i < 200; i++) {
		what = NULL;
		if (if_ioctl(s, cfg->ifname, SIOCSIFADDR, cfg->addr) != 0)
			what = "address";
		if (!what || errno != ENODEV)
			break;
		usleep(100000);
	}
	if (!what && if_ioctl(s, cfg->ifname, SIOCSIFNETMASK, mask) != 0)
		what = "netmask";
	if (!what && if_ioctl(s, "lo", SIOCSIFFLAGS, 0) != 0)
		what = "lo up";
	if (!what && if_ioctl(s, cfg->ifname, SIOCSIFFLAGS, 0) != 0)
		what = "link up";
	if (!what && cfg->peer && cfg->have_peermac && set_neigh(s, cfg) != 0)
		what = "neighbour entry";
	if (what)
		snprintf(err, errlen, "agent: %s %s: %s", cfg->ifname, what, strerror(errno));
	close(s);
	return what ? -1 : 0;
}

/* Load /lib/modules/NAME.ko for each NAME in /modules.list, in order (the list is
 * dependency-ordered by agent/vm/mkinitramfs.sh: there is no modprobe). */
static void load_modules(void)
{
	FILE *f = fopen("/modules.list", "re");
	char line[128], path[192];
	if (!f)
		return;
	while (fgets(line, sizeof line, f)) {
		line[strcspn(line, "\r\n")] = 0;
		if (!line[0])
			continue;
		snprintf(path, sizeof path, "/lib/modules/%s.ko", line);
		int fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		if (syscall(SYS_finit_module, fd, "", 0) != 0 && errno != EEXIST)
			fprintf(stderr, "agent: module %s: %s\n", line, strerror(errno));
		close(fd);
	}
	fclose(f);
}

/* The value of KEY= on the kernel command line into out; 0 found, -1 not. */
static int cmdline_get(const char *key, char *out, size_t outlen)
{
	char buf[2048];
	int fd = open("/proc/cmdline", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ssize_t n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = 0;
	size_t klen = strlen(key);
	for (char *p = buf; (p = strstr(p, key)) != NULL; p += klen) {
		if ((p == buf || p[-1] == ' ') && p[klen] == '=') {
			size_t vlen = strcspn(p + klen + 1, " \n");
			if (vlen >= outlen)
				return -1;
			memcpy(out, p + klen + 1, vlen);
			out[vlen] = 0;
			return 0;
		}
	}
	return -1;
}

int sfa_init_system(struct sfa_setup *cfg, char *ctl, size_t ctllen, char *err, size_t errlen)
{
	mkdir("/proc", 0555);
	mkdir("/sys", 0555);
	mkdir("/dev", 0755);
	(void)mount("proc", "/proc", "proc", 0, NULL);
	(void)mount("sysfs", "/sys", "sysfs", 0, NULL);
	(void)mount("devtmpfs", "/dev", "devtmpfs", 0, NULL);
	load_modules();
	char text[160];
	if (cmdline_get("synfin.setup", text, sizeof text) != 0)
		snprintf(text, sizeof text, "eth0,198.18.0.1/30,198.18.0.2,02:73:79:6e:66:02");
	if (sfa_setup_parse(cfg, text) != 0) {
		snprintf(err, errlen, "agent: bad synfin.setup=%s", text);
		return -1;
	}
	if (cmdline_get("synfin.ctl", ctl, ctllen) != 0)
		snprintf(ctl, ctllen, "virtio:synfin.ctl");
	return 0;
}
