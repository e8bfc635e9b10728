/* A full disk is an error with its reason, never silent loss, never a half-written or
 * temporary file left behind:
 *   - run --pcap / --json on a full file system: exit 2, "No space left on device", no
 *     output and no *.tmp* file;
 *   - replay --junit likewise;
 *   - a campaign whose OUT fills up: it stops, says why, exits 2; each finding it wrote
 *     is whole and no temporary directory stays.
 * The file system is a 64 KiB tmpfs filled up by the test: root only (mount), exit 77
 * otherwise. Needs SYNFIN_BIN. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "sh.h"

static const char *bin;
static char tmp[64], mnt[128];
static char out[1 << 16];

/* Fill the file system at mnt, then free `leave` bytes of it again. */
static void fill(size_t leave)
{
	char p[256], block[4096];
	snprintf(p, sizeof p, "%s/filler", mnt);
	int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	off_t n = 0;
	memset(block, 'f', sizeof block);
	CHECK(fd >= 0);
	for (;;) {
		ssize_t w = write(fd, block, sizeof block);
		if (w <= 0)
			break;
		n += w;
	}
	CHECK(n > 0);
	CHECK_EQ(ftruncate(fd, n > (off_t)leave ? n - (off_t)leave : 0), 0);
	close(fd);
}

/* Names under dir (not following links) that hold ".tmp": printed, counted. */
static int leftovers(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;
	while (d && (e = readdir(d)) != NULL) {
		char p[1024];
		struct stat st;
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
		if (strstr(e->d_name, ".tmp")) {
			fprintf(stderr, "left behind: %s\n", p);
			n++;
		}
		if (lstat(p, &st) == 0 && S_ISDIR(st.st_mode))
			n += leftovers(p);
	}
	if (d)
		closedir(d);
	return n;
}

static int exists(const char *path)
{
	struct stat st;
	return lstat(path, &st) == 0;
}

static void run_outputs_on_full_disk(void)
{
	char pcap[256], json[256];
	fill(0);
	snprintf(pcap, sizeof pcap, "%s/all.pcap", mnt);
	snprintf(json, sizeof json, "%s/all.json", mnt);
	CHECK_EQ(
	    sh(out, sizeof out, "%s run corpus/seeds/*.scn --target model -q --pcap %s", bin, pcap),
	    2);
	CHECK(strstr(out, "all.pcap: No space left on device") != NULL);
	CHECK(!exists(pcap));
	CHECK_EQ(
	    sh(out, sizeof out, "%s run corpus/seeds/*.scn --target model -q --json %s", bin, json),
	    2);
	CHECK(strstr(out, "all.json") != NULL && strstr(out, "No space left on device") != NULL);
	CHECK(!exists(json));
	CHECK_EQ(leftovers(mnt), 0);
}

static void replay_junit_on_full_disk(void)
{
	char junit[256];
	snprintf(junit, sizeof junit, "%s/junit.xml", mnt);
	CHECK_EQ(
	    sh(out, sizeof out, "%s replay corpus/regress --target model --junit %s", bin, junit),
	    2);
	CHECK(strstr(out, "junit.xml") != NULL && strstr(out, "No space left on device") != NULL);
	CHECK(!exists(junit));
	CHECK_EQ(leftovers(mnt), 0);
}

static void campaign_stops_with_reason(void)
{
	char outd[256], corpus[256], p[512];
	snprintf(outd, sizeof outd, "%s/out", mnt);
	snprintf(corpus, sizeof corpus, "%s/corpus", tmp);
	snprintf(p, sizeof p, "%s/filler", mnt);
	unlink(p);
	CHECK_EQ(mkdir(outd, 0755), 0);
	CHECK_EQ(mkdir(corpus, 0755), 0);
	/* Room for the campaign's small files and a finding or two, not for all: a finding
	 * is five files of at least a page each on tmpfs. */
	fill(24 * 1024);
	int rc = sh(out, sizeof out,
		    "timeout 120 %s fuzz --target model:fault=tw-ignore-fin --out %s %s "
		    "--progress 0 --libfuzzer-console -- -seed=1 -max_total_time=60",
		    bin, outd, corpus);
	CHECK_EQ(rc, 2);
	CHECK(strstr(out, "cannot write a finding") != NULL);
	CHECK(strstr(out, "No space left on device") != NULL);
	if (rc != 2 || !strstr(out, "No space left on device"))
		fprintf(stderr, "%s", out);
	/* what was written is whole: every finding directory has its files */
	DIR *d = opendir(outd);
	struct dirent *e;
	while (d && (e = readdir(d)) != NULL) {
		if (strlen(e->d_name) != 16)
			continue;
		static const char *const files[] = {"scenario.scn", "report.txt", "report.json",
						    "exchange.pcap", "input.bin"};
		for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
			struct stat st;
			snprintf(p, sizeof p, "%s/%s/%s", outd, e->d_name, files[i]);
			CHECK(stat(p, &st) == 0 && st.st_size > 0);
		}
	}
	if (d)
		closedir(d);
	CHECK_EQ(leftovers(mnt), 0);
}

int main(void)
{
	bin = getenv("SYNFIN_BIN");
	if (!bin) {
		fprintf(stderr, "SYNFIN_BIN not set (run through ctest)\n");
		return 77;
	}
	if (geteuid() != 0) {
		printf("skipped: a small tmpfs to fill needs root (mount)\n");
		return 77;
	}
	snprintf(tmp, sizeof tmp, "/tmp/synfin-fulldisk-XXXXXX");
	if (!mkdtemp(tmp))
		return 1;
	snprintf(mnt, sizeof mnt, "%s/mnt", tmp);
	if (mkdir(mnt, 0755) != 0 || mount("tmpfs", mnt, "tmpfs", 0, "size=64k,mode=0755") != 0) {
		printf("skipped: cannot mount a tmpfs on %s: %s\n", mnt, strerror(errno));
		rmdir(mnt);
		rmdir(tmp);
		return 77;
	}
	run_outputs_on_full_disk();
	replay_junit_on_full_disk();
	campaign_stops_with_reason();
	if (umount2(mnt, MNT_DETACH) != 0)
		fprintf(stderr, "cannot unmount %s: %s\n", mnt, strerror(errno));
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf %s", tmp);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", tmp);
	return check_done();
}
