/* Safe file access for untrusted files and directories (safeio.h). */
#include "safeio.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- reading ---- */

static int open_fail(const char *path, char *err, size_t errlen)
{
	int e = errno;
	snprintf(err, errlen, "%s: %s", path,
		 e == ELOOP ? "a symbolic link (not followed here)" : strerror(e));
	errno = e;
	return -1;
}

int sfh_io_open_read_st(const char *path, unsigned flags, struct stat *st, char *err, size_t errlen)
{
	struct stat lst;
	int follow = !(flags & SFH_IO_NOFOLLOW), link_owner = -1;
	/* O_NONBLOCK: opening a FIFO for reading would wait for a writer. */
	const int how = O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY;
	int fd = -1;
	if (flags & SFH_IO_OWNED_LINKS) {
		/* Most names are no links: opened as such, they need no look at the link. */
		fd = open(path, how | O_NOFOLLOW);
		if (fd < 0 && errno != ELOOP)
			return open_fail(path, err, errlen);
		if (fd < 0) {
			if (lstat(path, &lst) != 0)
				return open_fail(path, err, errlen);
			if (S_ISLNK(lst.st_mode) && lst.st_uid != geteuid() && lst.st_uid != 0)
				link_owner = (int)lst.st_uid;
			/* Not a link when looked at: make sure it is none when opened either. */
			follow = S_ISLNK(lst.st_mode);
		}
	}
	if (fd < 0)
		fd = open(path, how | (follow ? 0 : O_NOFOLLOW));
	if (fd < 0)
		return open_fail(path, err, errlen);
	if (fstat(fd, st) != 0 || !S_ISREG(st->st_mode)) {
		snprintf(err, errlen, "%s: %s, not a regular file", path,
			 S_ISDIR(st->st_mode)	 ? "a directory"
			 : S_ISFIFO(st->st_mode) ? "a FIFO"
			 : S_ISCHR(st->st_mode)	 ? "a character device"
			 : S_ISBLK(st->st_mode)	 ? "a block device"
			 : S_ISSOCK(st->st_mode) ? "a socket"
						 : "something else");
		close(fd);
		errno = EINVAL;
		return -1;
	}
	if (link_owner >= 0 && st->st_uid != (uid_t)link_owner) {
		snprintf(err, errlen,
			 "%s: a symbolic link of user %d to a file it does not own: not followed",
			 path, link_owner);
		close(fd);
		errno = EPERM;
		return -1;
	}
	return fd;
}

int sfh_io_blocking(int fd)
{
	int fl = fcntl(fd, F_GETFL);
	return fl < 0 || fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) != 0 ? -1 : 0;
}

int sfh_io_open_read(const char *path, unsigned flags, char *err, size_t errlen)
{
	struct stat st;
	int fd = sfh_io_open_read_st(path, flags, &st, err, errlen);
	if (fd >= 0 && sfh_io_blocking(fd) != 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

uint8_t *sfh_io_read_all(const char *path, unsigned flags, size_t max, size_t *len, mode_t *mode,
			 char *err, size_t errlen)
{
	int fd = sfh_io_open_read(path, flags, err, errlen);
	uint8_t *buf = NULL;
	size_t n = 0, cap = 0;
	struct stat st;
	if (fd < 0)
		return NULL;
	if (mode)
		*mode = fstat(fd, &st) == 0 ? (st.st_mode & 07777) : 0600;
	for (;;) {
		if (n + 4096 + 1 > cap) {
			size_t ncap = cap ? cap * 2 : 8192;
			uint8_t *p = realloc(buf, ncap);
			if (!p) {
				snprintf(err, errlen, "%s: out of memory", path);
				goto fail;
			}
			buf = p;
			cap = ncap;
		}
		ssize_t got = read(fd, buf + n, cap - n - 1);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
			goto fail;
		}
		if (got == 0)
			break;
		n += (size_t)got;
		if (n > max) {
			snprintf(err, errlen, "%s: file too large (more than %zu bytes)", path,
				 max);
			errno = EFBIG;
			goto fail;
		}
	}
	close(fd);
	buf[n] = 0;
	*len = n;
	return buf;
fail:
	close(fd);
	free(buf);
	return NULL;
}

/* ---- writing ---- */

FILE *sfh_io_create(const char *path, mode_t mode, char *err, size_t errlen)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
	FILE *f = fd < 0 ? NULL : fdopen(fd, "wb");
	if (!f) {
		int e = errno;
		snprintf(err, errlen, "%s: %s", path, strerror(e));
		if (fd >= 0) {
			close(fd);
			unlink(path);
		}
		errno = e;
	}
	return f;
}

int sfh_io_fclose(FILE *f)
{
	if (!f)
		return 0;
	int bad = fflush(f) != 0 || ferror(f);
	int e = errno;
	if (fclose(f) != 0)
		return -1;
	if (bad) {
		errno = e ? e : EIO;
		return -1;
	}
	return 0;
}

FILE *sfh_io_atomic_open(struct sfh_io_atomic *a, const char *path, mode_t mode, char *err,
			 size_t errlen)
{
	char dir[4096];
	memset(a, 0, sizeof *a);
	a->dirfd = -1;
	const char *slash = strrchr(path, '/');
	const char *base = slash ? slash + 1 : path;
	size_t dlen = slash ? (size_t)(slash - path) : 0;
	if (!*base || strlen(base) >= sizeof a->name || dlen >= sizeof dir ||
	    strlen(path) >= sizeof a->path) {
		snprintf(err, errlen, "%s: not a file name", path);
		errno = EINVAL;
		return NULL;
	}
	snprintf(a->path, sizeof a->path, "%s", path);
	snprintf(a->name, sizeof a->name, "%s", base);
	snprintf(a->tmp, sizeof a->tmp, "%s.tmp%d", base, (int)getpid());
	memcpy(dir, path, dlen);
	dir[dlen] = 0;
	if (slash && dlen == 0)
		snprintf(dir, sizeof dir, "/");
	a->dirfd = open(slash ? dir : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (a->dirfd < 0) {
		snprintf(err, errlen, "%s: %s", slash ? dir : ".", strerror(errno));
		return NULL;
	}
	int flags = O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC;
	int fd = openat(a->dirfd, a->tmp, flags, mode);
	if (fd < 0 && errno == EEXIST) {
		/* A stale temporary name of a process with our pid: remove the name (a link
		 * planted there is removed, not followed) and try once more. */
		unlinkat(a->dirfd, a->tmp, 0);
		fd = openat(a->dirfd, a->tmp, flags, mode);
	}
	if (fd < 0 || !(a->f = fdopen(fd, "wb"))) {
		int e = errno;
		snprintf(err, errlen, "%s: %s", path, strerror(e));
		if (fd >= 0) {
			close(fd);
			unlinkat(a->dirfd, a->tmp, 0);
		}
		close(a->dirfd);
		a->dirfd = -1;
		errno = e;
		return NULL;
	}
	return a->f;
}

int sfh_io_atomic_commit(struct sfh_io_atomic *a, char *err, size_t errlen)
{
	if (a->dirfd < 0) {
		snprintf(err, errlen, "%s: not open", a->path);
		return -1;
	}
	FILE *f = a->f;
	a->f = NULL;
	int rc = 0;
	if (sfh_io_fclose(f) != 0) {
		snprintf(err, errlen, "%s: %s", a->path, strerror(errno));
		rc = -1;
	} else if (renameat(a->dirfd, a->tmp, a->dirfd, a->name) != 0) {
		snprintf(err, errlen, "%s: rename: %s", a->path, strerror(errno));
		rc = -1;
	}
	if (rc != 0)
		unlinkat(a->dirfd, a->tmp, 0);
	close(a->dirfd);
	a->dirfd = -1;
	return rc;
}

void sfh_io_atomic_abort(struct sfh_io_atomic *a)
{
	if (a->f)
		fclose(a->f);
	a->f = NULL;
	if (a->dirfd >= 0) {
		unlinkat(a->dirfd, a->tmp, 0);
		close(a->dirfd);
	}
	a->dirfd = -1;
}

int sfh_io_write_file(const char *path, const void *data, size_t len, mode_t mode, char *err,
		      size_t errlen)
{
	struct sfh_io_atomic a;
	FILE *f = sfh_io_atomic_open(&a, path, mode, err, errlen);
	if (!f)
		return -1;
	if (len && fwrite(data, 1, len, f) != len) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		sfh_io_atomic_abort(&a);
		return -1;
	}
	return sfh_io_atomic_commit(&a, err, errlen);
}

int sfh_io_write_new(const char *dir, const char *name, const void *data, size_t len, mode_t mode,
		     char *err, size_t errlen)
{
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int fd =
	    dfd < 0 ? -1
		    : openat(dfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
	int rc = fd < 0 ? -1 : 0;
	for (size_t off = 0; rc == 0 && off < len;) {
		ssize_t n = write(fd, (const uint8_t *)data + off, len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n == 0)
				errno = EIO;
			rc = -1;
			break;
		}
		off += (size_t)n;
	}
	int e = errno;
	if (fd >= 0 && close(fd) != 0 && rc == 0) {
		rc = -1;
		e = errno;
	}
	if (rc != 0) {
		snprintf(err, errlen, "%s/%s: %s", dir, name, strerror(e));
		if (fd >= 0)
			unlinkat(dfd, name, 0);
	}
	if (dfd >= 0)
		close(dfd);
	errno = e;
	return rc;
}

/* ---- options ---- */

int sfh_io_parse_u64(const char *text, const char *name, uint64_t min, uint64_t max, uint64_t *out,
		     char *err, size_t errlen)
{
	uint64_t v = 0;
	const char *p = text;
	if (!text || !*text)
		goto bad;
	for (; *p; p++) {
		if (*p < '0' || *p > '9')
			goto bad;
		unsigned d = (unsigned)(*p - '0');
		if (v > (UINT64_MAX - d) / 10)
			goto bad;
		v = v * 10 + d;
	}
	if (v < min || v > max)
		goto bad;
	*out = v;
	return 0;
bad:;
	char shown[64];
	sfh_io_term_escape(shown, sizeof shown, text ? text : "");
	if (p && *p && text && *text)
		snprintf(err, errlen,
			 "%s '%s': not a whole number (column %d: '%c'); expected %llu to %llu",
			 name, shown, (int)(p - text) + 1, *p >= 0x20 && *p < 0x7f ? *p : '?',
			 (unsigned long long)min, (unsigned long long)max);
	else
		snprintf(err, errlen, "%s '%s': expected a whole number from %llu to %llu", name,
			 shown, (unsigned long long)min, (unsigned long long)max);
	return -1;
}

int sfh_io_looks_like_option(const char *value)
{
	return value && value[0] == '-' && value[1] != 0;
}

/* ---- terminal ---- */

/* Length of a valid UTF-8 sequence at s that is not a C1 control (U+0080..U+009F), or 0. */
static size_t utf8_ok(const unsigned char *s)
{
	size_t n = s[0] >= 0xf0 ? 4 : s[0] >= 0xe0 ? 3 : s[0] >= 0xc2 ? 2 : 0;
	if (n == 0 || s[0] > 0xf4)
		return 0;
	for (size_t i = 1; i < n; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	if (n == 2 && s[0] == 0xc2 && s[1] < 0xa0)
		return 0; /* C1 controls: 0x9b is CSI on some terminals */
	if ((n == 3 && s[0] == 0xe0 && s[1] < 0xa0) || (n == 4 && s[0] == 0xf0 && s[1] < 0x90))
		return 0; /* overlong */
	return n;
}

char *sfh_io_term_escape(char *dst, size_t cap, const char *src)
{
	size_t k = 0;
	const unsigned char *s = (const unsigned char *)src;
	if (!cap)
		return dst;
	while (*s) {
		size_t n = *s >= 0x20 && *s < 0x7f ? 1 : *s >= 0x80 ? utf8_ok(s) : 0;
		if (n) {
			if (k + n >= cap)
				break;
			memcpy(dst + k, s, n);
			k += n;
			s += n;
			continue;
		}
		if (k + 4 >= cap)
			break;
		snprintf(dst + k, 5, "\\x%02x", *s);
		k += 4;
		s++;
	}
	dst[k] = 0;
	return dst;
}

void sfh_io_term_puts(FILE *f, const char *src)
{
	char buf[1024];
	size_t len = strlen(src), at = 0;
	/* In pieces; a piece ends before a possibly split UTF-8 sequence is cut. */
	while (at < len) {
		char piece[256];
		size_t n = len - at < sizeof piece - 1 ? len - at : sizeof piece - 1;
		while (n < len - at && n > 0 && ((unsigned char)src[at + n] & 0xc0) == 0x80)
			n--;
		if (n == 0)
			n = 1;
		memcpy(piece, src + at, n);
		piece[n] = 0;
		fputs(sfh_io_term_escape(buf, sizeof buf, piece), f);
		at += n;
	}
}
