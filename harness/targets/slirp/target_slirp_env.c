/* What the slirp target changes around libslirp to make a case cheap without changing what
 * slirp does: the random generator slirp_new makes, and the network namespace its host
 * sockets live in.
 *
 * ---- slirp_new's random generator ----
 * slirp_new() makes a GRand with glib's g_rand_new(), which opens and reads /dev/urandom
 * and seeds a Mersenne Twister from it: three system calls and a seeding per case, about
 * a third of a short guestfwd case. libslirp 4.7.0 draws from that generator in three
 * places only (objdump shows three calls of g_rand_int_range): the first IPv6 router
 * advertisement, the next one (both only with in6_enabled), and the random port of a
 * unix-socket forward. The target enables none of them, so what the generator holds
 * cannot reach anything slirp does, and an instance made here gets a copy of one generator
 * glib seeded once per process.
 *
 * The definition of g_rand_new below interposes on glib's for the whole process (libslirp
 * calls it through its PLT, and a definition in the executable comes first), so it hands
 * out copies only inside sfh_sl_slirp_new and forwards to glib's own otherwise.
 *
 * ---- the private network namespace ----
 * Host sockets (the active role, the passive socket mode, an ABORT's replay) go through
 * loopback. On the host's loopback two things make that slow and not quite repeatable:
 * every orderly close leaves a TIME-WAIT for 60 s (thousands in a campaign, which every
 * bind() of a kept port then walks, and one of which can meet a later case's SYN from the
 * same port), and other processes' sockets share the ports. When the process may (root),
 * the thread that drives the target moves into a network namespace of the process's own,
 * made once: only its loopback, only our sockets, and tcp_max_tw_buckets = 0, so a
 * connection that ends is gone at once (nothing is lost on loopback, so the TIME-WAIT has
 * nothing to protect). Sockets stay in the namespace they were made in, and slirp makes
 * its own in the calling thread, so the thread itself has to be in it: a target used from
 * another thread moves that thread too (sfh_sl_private_net, at open and at every reset;
 * at open so that children forked to run a case in isolation inherit it). No name is
 * given to the namespace: the kernel frees it with the process. Without the privilege the
 * target uses the host's loopback as before.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "target_slirp_priv.h"

/* ---- the random generator ---- */

typedef void *(*sl_grand_new_fn)(void);
typedef void *(*sl_grand_copy_fn)(void *grand);

void *g_rand_new(void);

static _Thread_local int sl_in_slirp_new;
static sl_grand_new_fn sl_grand_real;
static sl_grand_copy_fn sl_grand_copy;
static void *sl_grand_tmpl;

static void sl_grand_init(void)
{
	sl_grand_real = (sl_grand_new_fn)dlsym(RTLD_NEXT, "g_rand_new");
	sl_grand_copy = (sl_grand_copy_fn)dlsym(RTLD_DEFAULT, "g_rand_copy");
	if (sl_grand_real && sl_grand_copy)
		sl_grand_tmpl = sl_grand_real(); /* kept for the life of the process */
}

void *g_rand_new(void)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	pthread_once(&once, sl_grand_init);
	if (sl_in_slirp_new && sl_grand_tmpl)
		return sl_grand_copy(sl_grand_tmpl);
	return sl_grand_real ? sl_grand_real() : NULL;
}

Slirp *sfh_sl_slirp_new(const SlirpConfig *cfg, const SlirpCb *cb, void *opaque, int copy_rand)
{
	sl_in_slirp_new = copy_rand;
	Slirp *sl = slirp_new(cfg, cb, opaque);
	sl_in_slirp_new = 0;
	return sl;
}

/* ---- slirp's socket buffers ----
 * Every TCP socket of slirp gets two 128 KiB buffers (sbreserve: g_realloc), and once the
 * MSS is known both grow to the next multiple of it (tcp_mss: g_realloc again, by less
 * than one MSS). The second buffer sits right after the first, so glibc cannot grow
 * either in place: it copies 128 KiB of nothing (the buffers are still empty) twice per
 * connection, a tenth of a campaign's time. With the shortcuts, g_realloc rounds large
 * sizes up to the next multiple of 64 KiB, so that the growth fits in the block the first
 * call got and realloc() keeps it where it is. What a buffer holds is kept either way;
 * only where it lives differs. The definition interposes on glib's for the process, as
 * g_rand_new does; small sizes (glib's strings, slirp's packets) pass unchanged. */

#define SFH_SL_BIG_BUF (64u << 10)

static int sl_round_bufs;

/* The large blocks g_realloc handed out and g_free has not taken back: the socket
 * buffers, most of what an instance abandoned after a crash would otherwise leave
 * (sfh_sl_big_bufs_drop). A handful live at a time; the table is scanned. */
#define SFH_SL_MAX_BIG 64
static void *sl_big[SFH_SL_MAX_BIG];
static int sl_nbig;

static void sl_big_forget(void *mem)
{
	for (int i = 0; mem && i < sl_nbig; i++)
		if (sl_big[i] == mem) {
			sl_big[i] = sl_big[--sl_nbig];
			return;
		}
}

void *g_realloc(void *mem, size_t n);
void g_free(void *mem);

void *g_realloc(void *mem, size_t n)
{
	sl_big_forget(mem);
	if (n == 0) {
		free(mem);
		return NULL;
	}
	int big = n >= SFH_SL_BIG_BUF;
	if (sl_round_bufs && big && n < SIZE_MAX - SFH_SL_BIG_BUF)
		n = (n / SFH_SL_BIG_BUF + 1) * SFH_SL_BIG_BUF;
	void *p = realloc(mem, n);
	if (!p)
		abort(); /* as glib's own: an allocation failure is fatal */
	if (big && sl_nbig < SFH_SL_MAX_BIG)
		sl_big[sl_nbig++] = p;
	return p;
}

/* glib's g_free is free() (glib 2.46 on: the system allocator); this one also forgets
 * a large block. */
void g_free(void *mem)
{
	if (sl_nbig)
		sl_big_forget(mem);
	free(mem);
}

void sfh_sl_big_bufs_drop(int free_them)
{
	for (int i = 0; free_them && i < sl_nbig; i++)
		free(sl_big[i]);
	sl_nbig = 0;
}

void sfh_sl_round_bufs(int on)
{
	sl_round_bufs = on;
}

/* ---- the private network namespace ---- */

static int sl_ns_fd = -1;	     /* the namespace, for threads that join later */
static _Thread_local int sl_ns_here; /* this thread is in it */

static int lo_up(void)
{
	struct ifreq r;
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), rc = -1;
	if (fd < 0)
		return -1;
	memset(&r, 0, sizeof r);
	snprintf(r.ifr_name, sizeof r.ifr_name, "lo");
	if (ioctl(fd, SIOCGIFFLAGS, &r) == 0) {
		r.ifr_flags |= IFF_UP;
		rc = ioctl(fd, SIOCSIFFLAGS, &r);
	}
	close(fd);
	return rc;
}

static int no_time_wait(void)
{
	int fd = open("/proc/sys/net/ipv4/tcp_max_tw_buckets", O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ssize_t w = write(fd, "0", 1);
	close(fd);
	return w == 1 ? 0 : -1;
}

/* In a thread of its own: the namespace is made and set up there, and the thread ends. */
static void *sl_ns_make(void *arg)
{
	(void)arg;
	if (unshare(CLONE_NEWNET) != 0)
		return NULL;
	if (lo_up() == 0 && no_time_wait() == 0)
		sl_ns_fd = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	return NULL;
}

static void sl_ns_init(void)
{
	pthread_t th;
	if (geteuid() != 0) /* unshare would fail: no need to try */
		return;
	if (pthread_create(&th, NULL, sl_ns_make, NULL) == 0)
		pthread_join(th, NULL);
}

int sfh_sl_private_net(void)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	if (sl_ns_here)
		return 1;
	pthread_once(&once, sl_ns_init);
	if (sl_ns_fd < 0 || setns(sl_ns_fd, CLONE_NEWNET) != 0)
		return 0;
	sl_ns_here = 1;
	return 1;
}
