/* Abandoning a slirp instance that crashed (target_slirp.h says why and when). */
#include <link.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "target_slirp.h"
#include "target_slirp_priv.h"

extern const struct sfh_target_ops sfh_target_slirp_ops;

/* libslirp's executable segments: written once by sfh_slirp_target_recoverable, read by
 * a signal handler. */
#define MAX_RANGES 4
static uintptr_t code_lo[MAX_RANGES], code_hi[MAX_RANGES];
static volatile int ncode;
static volatile uint32_t abandoned;

int sfh_slirp_target_is(const struct sfh_target *t)
{
	return t && t->ops == &sfh_target_slirp_ops;
}

struct find {
	int n;
	uintptr_t lo[MAX_RANGES], hi[MAX_RANGES];
};

static int find_object(struct dl_phdr_info *info, size_t size, void *ctx)
{
	struct find *f = ctx;
	(void)size;
	const char *name = info->dlpi_name ? strrchr(info->dlpi_name, '/') : NULL;
	if (!name || strncmp(name + 1, "libslirp.so", 11) != 0)
		return 0;
	int n = 0;
	uintptr_t lo[MAX_RANGES] = {0}, hi[MAX_RANGES] = {0};
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		if (ph->p_type != PT_LOAD || !(ph->p_flags & PF_X))
			continue;
		uintptr_t a = info->dlpi_addr + ph->p_vaddr, b = a + ph->p_memsz;
		if (n < MAX_RANGES)
			lo[n] = a, hi[n++] = b;
	}
	f->n = n;
	memcpy(f->lo, lo, sizeof lo);
	memcpy(f->hi, hi, sizeof hi);
	return 1;
}

int sfh_slirp_target_recoverable(struct sfh_target *t, char *err, size_t errlen)
{
	if (!sfh_slirp_target_is(t)) {
		snprintf(err, errlen, "in-process recovery: not a slirp target");
		return -1;
	}
	if (ncode > 0)
		return 0;
	struct find f = {0}; /* the loaded object named libslirp.so.* */
	if (!dl_iterate_phdr(find_object, &f) || f.n == 0) {
		snprintf(err, errlen, "in-process recovery: libslirp's code not found in memory");
		return -1;
	}
	memcpy(code_lo, f.lo, sizeof code_lo);
	memcpy(code_hi, f.hi, sizeof code_hi);
	ncode = f.n;
	return 0;
}

int sfh_slirp_fault_recoverable(uintptr_t pc)
{
	if (abandoned >= SFH_SLIRP_RECOVER_MAX)
		return 0;
	for (int i = 0; i < ncode; i++)
		if (pc >= code_lo[i] && pc < code_hi[i])
			return 1;
	return 0;
}

int sfh_slirp_target_recover(struct sfh_target *t)
{
	if (!sfh_slirp_target_is(t))
		return -1;
	struct sfh_slirp *s = (struct sfh_slirp *)t;
	/* slirp's own sockets: only those still sockets and not the application's (a number
	 * slirp closed without unregistering could have been taken since) */
	for (int i = 0; i < s->nsock; i++) {
		struct stat st;
		int fd = s->sock_fd[i];
		if (fd != s->app_fd && fd != s->listen_fd && fstat(fd, &st) == 0 &&
		    S_ISSOCK(st.st_mode))
			close(fd);
	}
	s->nsock = 0;
	s->slirp = NULL; /* left as it is (see target_slirp.h), but for its socket buffers */
	sfh_sl_big_bufs_drop(1);
	sfh_sl_sock_close_all(s);
	memset(s->timers, 0, sizeof s->timers);
	s->npfd = 0;
	s->quiet = 0;
	s->conn_valid = 0;
	abandoned++;
	return 0;
}

uint32_t sfh_slirp_recovered(void)
{
	return abandoned;
}
