/* Safe file access for files synfin does not trust: findings, corpora and out dirs that
 * other users and jobs produce (docs/security-model.md). Also strict number parsing for
 * options and escaping of untrusted text for the terminal.
 *
 * Reading: only regular files are opened (a FIFO or device is refused without blocking),
 * and a symbolic link is followed only under the rules of sfh_io_open_read's flags.
 * Creating: a file in a directory is created with O_CREAT|O_EXCL|O_NOFOLLOW under a
 * temporary name through an fd of that directory, written, checked and renamed into
 * place: a link planted at either name is never followed, and a reader never sees half a
 * file. Library code: nothing here prints; errors come back as text in err. */
#ifndef SYNFIN_HARNESS_SAFEIO_H
#define SYNFIN_HARNESS_SAFEIO_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

/* sfh_io_open_read flags */
enum {
	/* Refuse a symlink as the last component (files found by scanning a directory). */
	SFH_IO_NOFOLLOW = 1,
	/* Follow a symlink only if the link is ours (euid) or root's, or its owner also owns
	 * the file it points to (the kernel's protected_symlinks rule): a link another user
	 * planted does not make us read a file that user could not. For named files. */
	SFH_IO_OWNED_LINKS = 2,
};

/* Open path read-only (O_CLOEXEC): a regular file only, opened with O_NONBLOCK so a FIFO
 * cannot hang the open, then checked with fstat and set back to blocking. Returns the
 * fd, or -1 with errno set and err ("PATH: reason"). */
int sfh_io_open_read(const char *path, unsigned flags, char *err, size_t errlen);

/* The same, with the fstat in *st, and the fd left non-blocking: a regular file's reads do
 * not wait anyway; a caller that meets EAGAIN all the same (a FUSE file system may pass
 * the flag on) calls sfh_io_blocking and reads again. Two system calls fewer per file,
 * for the corpus loops that read thousands. */
struct stat;
int sfh_io_open_read_st(const char *path, unsigned flags, struct stat *st, char *err,
			size_t errlen);
/* Clear O_NONBLOCK on fd: 0, or -1 with errno. */
int sfh_io_blocking(int fd);

/* The whole of a regular file (NUL-terminated, malloc'd) of at most max bytes, opened as
 * sfh_io_open_read does. *len gets its length, *mode (if not NULL) its permission bits.
 * NULL with err on any failure. */
uint8_t *sfh_io_read_all(const char *path, unsigned flags, size_t max, size_t *len, mode_t *mode,
			 char *err, size_t errlen);

/* Create path for writing: O_CREAT|O_EXCL|O_NOFOLLOW with mode, so an existing file or a
 * link planted at that name is never opened. For names inside a directory this process
 * has just created (private until renamed). Returns the stream, or NULL with err. */
FILE *sfh_io_create(const char *path, mode_t mode, char *err, size_t errlen);

/* A file being written to a temporary name beside its final one (see the top). */
struct sfh_io_atomic {
	int dirfd;
	FILE *f;
	char name[256]; /* final name inside the directory */
	char tmp[300];	/* temporary name inside the directory: NAME.tmpPID */
	char path[4096];
};

/* Start writing path (final name) with mode (e.g. 0644, or 0600 for data copied from a
 * private file): its directory is opened (O_DIRECTORY), NAME.tmpPID created in it
 * O_EXCL|O_NOFOLLOW (a stale one of ours is removed first). Returns a->f, or NULL with
 * err. */
FILE *sfh_io_atomic_open(struct sfh_io_atomic *a, const char *path, mode_t mode, char *err,
			 size_t errlen);

/* Finish: fflush, ferror, fclose, renameat to the final name. 0, or -1 with err naming
 * the file and the reason (ENOSPC...); the temporary file is removed either way. */
int sfh_io_atomic_commit(struct sfh_io_atomic *a, char *err, size_t errlen);

/* Give up: close and remove the temporary file. Safe to call twice, or after commit. */
void sfh_io_atomic_abort(struct sfh_io_atomic *a);

/* Write len bytes to path at once through the above. 0, or -1 with err. */
int sfh_io_write_file(const char *path, const void *data, size_t len, mode_t mode, char *err,
		      size_t errlen);

/* Create (O_EXCL|O_NOFOLLOW) and write a file inside an already private directory dir.
 * 0, or -1 with err. */
int sfh_io_write_new(const char *dir, const char *name, const void *data, size_t len, mode_t mode,
		     char *err, size_t errlen);

/* Close f, reporting any earlier write error too (ferror, fflush, fclose). 0, or -1 with
 * errno set. f == NULL is 0. */
int sfh_io_fclose(FILE *f);

/* Strict unsigned decimal: digits only (no sign, no spaces, no suffix), within
 * [min, max]. 0, or -1 with err saying what was expected: "NAME 'TEXT': ...". */
int sfh_io_parse_u64(const char *text, const char *name, uint64_t min, uint64_t max, uint64_t *out,
		     char *err, size_t errlen);

/* A value given where a path is expected that looks like an option ('-x', '--'): 1, so the
 * caller can refuse it ("--out -- -runs=10" must not create a directory named "--"). */
int sfh_io_looks_like_option(const char *value);

/* src made safe for a terminal into dst (always NUL-terminated, cut at cap): control
 * characters (C0, DEL, C1 and bytes that are not valid UTF-8) become \xNN, so an ANSI or
 * OSC sequence in an untrusted file is shown, not obeyed. Returns dst. */
char *sfh_io_term_escape(char *dst, size_t cap, const char *src);

/* fputs(src) with sfh_io_term_escape's escaping, any length. */
void sfh_io_term_puts(FILE *f, const char *src);

#endif
