/* harness/safeio: files synfin does not trust. Reading opens regular files only (a FIFO
 * is refused at once, not waited on) and follows a link only under the caller's rule;
 * creating never follows a link or reuses a file planted at the temporary or the final
 * name; a failed write is an error with its reason; numbers are whole and in range;
 * terminal text has its control characters escaped. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "safeio.h"

static char tmp[64];

static void path_of(char *buf, size_t cap, const char *name)
{
	snprintf(buf, cap, "%s/%s", tmp, name);
}

static void put(const char *name, const char *text, mode_t mode)
{
	char p[200];
	path_of(p, sizeof p, name);
	int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, mode);
	CHECK(fd >= 0);
	if (fd >= 0) {
		CHECK_EQ(write(fd, text, strlen(text)), (long long)strlen(text));
		close(fd);
	}
}

static char *slurp(const char *name)
{
	static char buf[4096];
	char p[200];
	path_of(p, sizeof p, name);
	FILE *f = fopen(p, "r");
	buf[0] = 0;
	if (f) {
		buf[fread(buf, 1, sizeof buf - 1, f)] = 0;
		fclose(f);
	}
	return buf;
}

static void read_fifo_refused_without_blocking(void)
{
	char p[200], err[256];
	size_t len;
	path_of(p, sizeof p, "fifo");
	CHECK_EQ(mkfifo(p, 0600), 0);
	alarm(5); /* a blocking open would end the test here */
	CHECK(sfh_io_read_all(p, 0, 1024, &len, NULL, err, sizeof err) == NULL);
	alarm(0);
	CHECK(strstr(err, "a FIFO, not a regular file") != NULL);
	CHECK_EQ(sfh_io_open_read("/dev/zero", 0, err, sizeof err), -1);
	CHECK(strstr(err, "a character device") != NULL);
}

static void read_nofollow_refuses_link(void)
{
	char p[200], target[200], err[256];
	size_t len;
	mode_t mode = 0;
	put("secret", "SECRET-BYTES\n", 0600);
	path_of(target, sizeof target, "secret");
	path_of(p, sizeof p, "link");
	CHECK_EQ(symlink(target, p), 0);
	CHECK(sfh_io_read_all(p, SFH_IO_NOFOLLOW, 1024, &len, NULL, err, sizeof err) == NULL);
	CHECK(strstr(err, "symbolic link") != NULL);
	CHECK(strstr(err, "SECRET") == NULL);
	/* our own link (the test's user) is followed under SFH_IO_OWNED_LINKS */
	uint8_t *d = sfh_io_read_all(p, SFH_IO_OWNED_LINKS, 1024, &len, &mode, err, sizeof err);
	CHECK(d != NULL);
	CHECK_EQ(mode, 0600);
	free(d);
}

static void read_foreign_link_refused_when_root(void)
{
	char p[200], target[200], err[256];
	size_t len;
	if (geteuid() != 0) {
		printf("skipped: links of another user need root (lchown)\n");
		return;
	}
	path_of(target, sizeof target, "secret");
	path_of(p, sizeof p, "foreign-link");
	CHECK_EQ(symlink(target, p), 0);
	CHECK_EQ(lchown(p, 65534, 65534), 0); /* nobody's link to root's file */
	CHECK(sfh_io_read_all(p, SFH_IO_OWNED_LINKS, 1024, &len, NULL, err, sizeof err) == NULL);
	CHECK(strstr(err, "does not own") != NULL);
	CHECK(strstr(err, "SECRET") == NULL);
}

static void create_never_follows_planted_links(void)
{
	char p[200], victim[200], tmpname[220], err[256];
	put("victim", "precious\n", 0600);
	path_of(victim, sizeof victim, "victim");
	/* a link at the temporary name, as someone who can guess our pid would plant it */
	path_of(p, sizeof p, "out.txt");
	snprintf(tmpname, sizeof tmpname, "%s.tmp%d", p, (int)getpid());
	CHECK_EQ(symlink(victim, tmpname), 0);
	CHECK_EQ(sfh_io_write_file(p, "new\n", 4, 0644, err, sizeof err), 0);
	CHECK_STR(slurp("victim"), "precious\n");
	CHECK_STR(slurp("out.txt"), "new\n");
	CHECK(access(tmpname, F_OK) != 0 && errno == ENOENT);
	/* a link at the final name is replaced, not written through */
	path_of(p, sizeof p, "final-link");
	CHECK_EQ(symlink(victim, p), 0);
	CHECK_EQ(sfh_io_write_file(p, "x\n", 2, 0644, err, sizeof err), 0);
	CHECK_STR(slurp("victim"), "precious\n");
	struct stat st;
	CHECK(lstat(p, &st) == 0 && S_ISREG(st.st_mode));
	/* sfh_io_create refuses an existing name outright */
	CHECK(sfh_io_create(victim, 0644, err, sizeof err) == NULL);
	CHECK(strstr(err, "File exists") != NULL);
	path_of(p, sizeof p, "link2");
	CHECK_EQ(symlink(victim, p), 0);
	CHECK(sfh_io_create(p, 0644, err, sizeof err) == NULL);
	CHECK_STR(slurp("victim"), "precious\n");
}

static void failed_write_reported_and_nothing_left(void)
{
	char p[200], err[256];
	struct sfh_io_atomic a;
	if (access("/dev/full", W_OK) != 0) {
		printf("skipped: no /dev/full\n");
		return;
	}
	/* the stream of a temporary file pointed at /dev/full: every flush fails */
	path_of(p, sizeof p, "full.txt");
	FILE *f = sfh_io_atomic_open(&a, p, 0644, err, sizeof err);
	CHECK(f != NULL);
	if (!f)
		return;
	int full = open("/dev/full", O_WRONLY);
	CHECK(dup2(full, fileno(f)) >= 0);
	close(full);
	for (int i = 0; i < 1000; i++)
		fputs("some text that will not fit\n", f);
	CHECK_EQ(sfh_io_atomic_commit(&a, err, sizeof err), -1);
	CHECK(strstr(err, "No space left on device") != NULL);
	char tmpname[220];
	snprintf(tmpname, sizeof tmpname, "%s.tmp%d", p, (int)getpid());
	CHECK(access(tmpname, F_OK) != 0);
	CHECK(access(p, F_OK) != 0);
	sfh_io_atomic_abort(&a); /* twice is harmless */
}

static void numbers_strict(void)
{
	char err[256];
	uint64_t v = 7;
	CHECK_EQ(sfh_io_parse_u64("42", "--n", 0, 100, &v, err, sizeof err), 0);
	CHECK_EQ(v, 42);
	static const char *const bad[] = {"",	"abc", "-1",   "+1",  " 1",
					  "1 ", "1k",  "0x10", "101", "99999999999999999999999"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		v = 7;
		CHECK_EQ(sfh_io_parse_u64(bad[i], "--n", 0, 100, &v, err, sizeof err), -1);
		CHECK_EQ(v, 7);
		CHECK(strncmp(err, "--n '", 5) == 0);
		CHECK(strstr(err, "0 to 100") != NULL);
	}
	CHECK_EQ(sfh_io_parse_u64("abc", "--n", 1, 9, &v, err, sizeof err), -1);
	CHECK_STR(err, "--n 'abc': not a whole number (column 1: 'a'); expected 1 to 9");
	CHECK(sfh_io_looks_like_option("--"));
	CHECK(sfh_io_looks_like_option("-runs=10"));
	CHECK(!sfh_io_looks_like_option("-"));
	CHECK(!sfh_io_looks_like_option("out"));
}

static void terminal_escapes_controls(void)
{
	char buf[256];
	CHECK_STR(sfh_io_term_escape(buf, sizeof buf, "a\x1b]0;pwn\x07z"), "a\\x1b]0;pwn\\x07z");
	CHECK_STR(sfh_io_term_escape(buf, sizeof buf, "\x1b[2J\r\x7f"), "\\x1b[2J\\x0d\\x7f");
	CHECK_STR(sfh_io_term_escape(buf, sizeof buf,
				     "\xc2\x9b"
				     "1m"),
		  "\\xc2\\x9b1m"); /* C1 CSI */
	CHECK_STR(sfh_io_term_escape(buf, sizeof buf, "caf\xc3\xa9 ok"), "caf\xc3\xa9 ok");
	CHECK_STR(sfh_io_term_escape(buf, sizeof buf, "\xff"), "\\xff");
	CHECK_STR(sfh_io_term_escape(buf, 6, "\x1b\x1b"), "\\x1b"); /* cut whole, terminated */
}

int main(void)
{
	snprintf(tmp, sizeof tmp, "/tmp/synfin-safeio-XXXXXX");
	if (!mkdtemp(tmp))
		return 1;
	read_fifo_refused_without_blocking();
	read_nofollow_refuses_link();
	read_foreign_link_refused_when_root();
	create_never_follows_planted_links();
	failed_write_reported_and_nothing_left();
	numbers_strict();
	terminal_escapes_controls();
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf %s", tmp);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", tmp);
	return check_done();
}
