/* A campaign's workers never outlive `synfin fuzz`, and a signal to the command alone
 * stops the campaign at once:
 *   - kill -9 of the command (with -jobs=2: libFuzzer's own processes too): within half a
 *     second no process of the campaign is left, and no .stats-PID file in OUT;
 *   - SIGINT, SIGTERM or SIGHUP to the command alone: it ends within a second, by that
 *     signal, every finding written is whole, no temporary directory and no process left;
 *   - the worker killed by a signal: the command says so and exits 2, with no "done" line;
 *   - kill -9 of a campaign on the linux target (root only): its network namespace goes.
 * Each campaign runs on a seeded fault of the model (findings within a second), in an out
 * dir of its own whose name tells its processes apart in /proc. Needs SYNFIN_BIN. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "sh.h"

static const char *bin;
static char tmp[64];

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Processes whose command line mentions key (the campaign's out dir). */
static int count_procs(const char *key)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	int n = 0;
	if (!d)
		return -1;
	while ((e = readdir(d)) != NULL) {
		char path[300], buf[8192];
		if (e->d_name[0] < '0' || e->d_name[0] > '9')
			continue;
		snprintf(path, sizeof path, "/proc/%s/cmdline", e->d_name);
		int fd = open(path, O_RDONLY);
		if (fd < 0)
			continue;
		ssize_t len = read(fd, buf, sizeof buf - 1);
		close(fd);
		if (len <= 0)
			continue; /* a zombie has an empty command line: it holds nothing */
		for (ssize_t i = 0; i < len; i++)
			if (!buf[i])
				buf[i] = ' ';
		buf[len] = 0;
		n += strstr(buf, key) != NULL;
	}
	closedir(d);
	return n;
}

/* A child of pid, or -1. */
static pid_t child_of(pid_t pid)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	pid_t found = -1;
	while (d && (e = readdir(d)) != NULL && found < 0) {
		char path[300], buf[512];
		if (e->d_name[0] < '0' || e->d_name[0] > '9')
			continue;
		snprintf(path, sizeof path, "/proc/%s/stat", e->d_name);
		FILE *f = fopen(path, "r");
		if (!f)
			continue;
		if (fgets(buf, sizeof buf, f)) {
			const char *p = strrchr(buf, ')');
			int ppid;
			if (p && sscanf(p + 2, "%*c %d", &ppid) == 1 && ppid == pid)
				found = atoi(e->d_name);
		}
		fclose(f);
	}
	if (d)
		closedir(d);
	return found;
}

/* Start a campaign in OUT=dir; its stderr goes to dir.log. */
static pid_t start(const char *dir, const char *jobs)
{
	char out[300], corpus[300], log[300];
	snprintf(out, sizeof out, "%s/out", dir);
	snprintf(corpus, sizeof corpus, "%s/corpus", dir);
	snprintf(log, sizeof log, "%s.log", dir);
	pid_t pid = fork();
	if (pid == 0) {
		int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		setpgid(0, 0); /* a signal in the test reaches the command only */
		if (jobs)
			execl(bin, bin, "fuzz", "--target", "model:fault=tw-ignore-fin", "--out",
			      out, corpus, "--progress", "0", "--", "-seed=1", jobs, "-workers=2",
			      (char *)NULL);
		else
			execl(bin, bin, "fuzz", "--target", "model:fault=tw-ignore-fin", "--out",
			      out, corpus, "--progress", "0", "--", "-seed=1", (char *)NULL);
		_exit(127);
	}
	return pid;
}

/* Wait up to limit seconds for pid; its status, or -1 if it is still running. */
static int wait_for(pid_t pid, double limit, double *took)
{
	double t0 = now_s();
	int status;
	for (;;) {
		pid_t w = waitpid(pid, &status, WNOHANG);
		if (w == pid) {
			*took = now_s() - t0;
			return status;
		}
		if (now_s() - t0 > limit)
			return -1;
		usleep(10 * 1000);
	}
}

/* Wait until OUT holds a finding (at most 20 s). */
static int wait_finding(const char *dir)
{
	char out[300];
	snprintf(out, sizeof out, "%s/out", dir);
	for (int i = 0; i < 400; i++) {
		DIR *d = opendir(out);
		struct dirent *e;
		int n = 0;
		while (d && (e = readdir(d)) != NULL)
			n += strlen(e->d_name) == 16;
		if (d)
			closedir(d);
		if (n)
			return 1;
		usleep(50 * 1000);
	}
	return 0;
}

/* Every finding in OUT whole, and no statistics file; no temporary one either unless
 * allow_tmp (a writer killed with SIGKILL cannot clean up: the next campaign in OUT
 * does). Returns findings. */
static int check_out(const char *dir, int allow_tmp)
{
	char out[300];
	snprintf(out, sizeof out, "%s/out", dir);
	DIR *d = opendir(out);
	struct dirent *e;
	int n = 0;
	CHECK(d != NULL);
	while (d && (e = readdir(d)) != NULL) {
		CHECK(strncmp(e->d_name, ".stats-", 7) != 0);
		if (!allow_tmp &&
		    (strncmp(e->d_name, ".tmp-", 5) == 0 || strstr(e->d_name, ".tmp"))) {
			fprintf(stderr, "left behind: %s/%s\n", out, e->d_name);
			CHECK(0);
		}
		if (strlen(e->d_name) != 16)
			continue;
		static const char *const files[] = {"scenario.scn", "report.txt", "report.json",
						    "exchange.pcap"};
		for (size_t i = 0; i < 4; i++) {
			char path[600];
			struct stat st;
			snprintf(path, sizeof path, "%s/%s/%s", out, e->d_name, files[i]);
			CHECK(stat(path, &st) == 0 && st.st_size > 0);
		}
		n++;
	}
	if (d)
		closedir(d);
	return n;
}

static void kill9_leaves_no_worker(void)
{
	char dir[128];
	double took;
	snprintf(dir, sizeof dir, "%s/kill9", tmp);
	pid_t pid = start(dir, "-jobs=2");
	CHECK(wait_finding(dir));
	CHECK(count_procs(dir) >= 3); /* the command, the worker, its jobs */
	kill(pid, SIGKILL);
	CHECK(wait_for(pid, 5, &took) >= 0);
	int left = -1;
	for (int i = 0; i < 50 && left != 0; i++) {
		usleep(10 * 1000);
		left = count_procs(dir);
	}
	CHECK_EQ(left, 0);
	check_out(dir, 1);
	/* the next campaign in OUT removes what the killed writers left */
	char out[300], corpus[300], text[4096];
	snprintf(out, sizeof out, "%s/out", dir);
	snprintf(corpus, sizeof corpus, "%s/corpus", dir);
	/* exit 1: the findings of the killed campaign are new groups */
	int rc = sh(text, sizeof text, "%s fuzz --target model --out %s %s --progress 0 -- -runs=1",
		    bin, out, corpus);
	CHECK(rc == 0 || rc == 1);
	check_out(dir, 0);
}

static void signal_stops_campaign(int sig)
{
	char dir[128];
	double took = 99;
	snprintf(dir, sizeof dir, "%s/sig%d", tmp, sig);
	pid_t pid = start(dir, NULL);
	CHECK(wait_finding(dir));
	usleep(200 * 1000);
	kill(pid, sig);
	int status = wait_for(pid, 3, &took);
	CHECK(status >= 0);
	if (status < 0)
		kill(pid, SIGKILL);
	printf("signal %d: the command ended in %.2f s\n", sig, took);
	CHECK(took < 1.0);
	CHECK(status >= 0 && WIFSIGNALED(status) && WTERMSIG(status) == sig);
	usleep(50 * 1000);
	CHECK_EQ(count_procs(dir), 0);
	CHECK(check_out(dir, 0) >= 1);
}

/* The "net:[INODE]" of a network namespace pid holds a descriptor of (not its own), or
 * "" if none. */
static void ns_fd_of(pid_t pid, char *out, size_t cap)
{
	char dir[64], own[64] = "";
	snprintf(dir, sizeof dir, "/proc/%d/ns/net", (int)pid);
	if (readlink(dir, own, sizeof own - 1) < 0)
		own[0] = 0;
	snprintf(dir, sizeof dir, "/proc/%d/fd", (int)pid);
	out[0] = 0;
	DIR *d = opendir(dir);
	struct dirent *e;
	while (d && (e = readdir(d)) != NULL && !out[0]) {
		char p[300], l[64];
		snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
		ssize_t n = readlink(p, l, sizeof l - 1);
		if (n <= 0)
			continue;
		l[n] = 0;
		if (strncmp(l, "net:[", 5) == 0 && strcmp(l, own) != 0)
			snprintf(out, cap, "%s", l);
	}
	if (d)
		closedir(d);
}

/* Does any process hold ns (as a descriptor or as its own namespace)? */
static int ns_held(const char *ns)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	int held = 0;
	while (d && (e = readdir(d)) != NULL && !held) {
		char p[300], l[64], fds[64];
		if (e->d_name[0] < '0' || e->d_name[0] > '9')
			continue;
		snprintf(p, sizeof p, "/proc/%s/ns/net", e->d_name);
		ssize_t n = readlink(p, l, sizeof l - 1);
		if (n > 0 && (l[n] = 0, strcmp(l, ns) == 0))
			held = 1;
		ns_fd_of(atoi(e->d_name), fds, sizeof fds);
		if (strcmp(fds, ns) == 0)
			held = 1;
	}
	if (d)
		closedir(d);
	return held;
}

/* kill -9 of a campaign on the linux target: the worker dies and its network namespace
 * goes with it (root only; skipped where the target cannot run). */
static void kill9_linux_namespace_goes(void)
{
	char dir[128], out[300], corpus[300], log[300], ns[64] = "";
	double took;
	if (geteuid() != 0 || access("/dev/net/tun", R_OK | W_OK) != 0) {
		printf("skipped: the linux target needs root and /dev/net/tun\n");
		return;
	}
	snprintf(dir, sizeof dir, "%s/linux", tmp);
	snprintf(out, sizeof out, "%s/out", dir);
	snprintf(corpus, sizeof corpus, "%s/corpus", dir);
	snprintf(log, sizeof log, "%s.log", dir);
	pid_t pid = fork();
	if (pid == 0) {
		int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		setpgid(0, 0);
		execl(bin, bin, "fuzz", "--target", "linux", "--out", out, corpus, "--progress",
		      "0", "--", "-seed=1", (char *)NULL);
		_exit(127);
	}
	pid_t w = -1;
	for (int i = 0; i < 400 && !ns[0]; i++) {
		usleep(50 * 1000);
		if (w <= 0)
			w = child_of(pid);
		if (w > 0)
			ns_fd_of(w, ns, sizeof ns);
		if (waitpid(pid, NULL, WNOHANG) == pid)
			break; /* the target cannot run here (a container): nothing to check */
	}
	if (!ns[0]) {
		printf("skipped: no network namespace seen (see %s)\n", log);
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		return;
	}
	CHECK(ns_held(ns));
	kill(pid, SIGKILL);
	CHECK(wait_for(pid, 5, &took) >= 0);
	int left = -1, held = 1;
	for (int i = 0; i < 100 && (left != 0 || held); i++) {
		usleep(10 * 1000);
		left = count_procs(dir);
		held = ns_held(ns);
	}
	CHECK_EQ(left, 0);
	CHECK_EQ(held, 0);
	printf("linux: namespace %s %s after kill -9 of the command\n", ns,
	       held ? "still held" : "gone");
}

static void killed_worker_is_reported(void)
{
	char dir[128], log[160], text[8192] = "";
	double took;
	snprintf(dir, sizeof dir, "%s/wkill", tmp);
	snprintf(log, sizeof log, "%s.log", dir);
	pid_t pid = start(dir, NULL);
	CHECK(wait_finding(dir));
	pid_t w = child_of(pid);
	CHECK(w > 0);
	if (w > 0)
		kill(w, SIGKILL);
	int status = wait_for(pid, 5, &took);
	CHECK(status >= 0 && WIFEXITED(status) && WEXITSTATUS(status) == 2);
	FILE *f = fopen(log, "r");
	if (f) {
		text[fread(text, 1, sizeof text - 1, f)] = 0;
		fclose(f);
	}
	CHECK(strstr(text, "killed by signal 9") != NULL);
	CHECK(strstr(text, "synfin fuzz: done") == NULL);
	CHECK_EQ(count_procs(dir), 0);
}

int main(void)
{
	bin = getenv("SYNFIN_BIN");
	if (!bin) {
		fprintf(stderr, "SYNFIN_BIN not set (run through ctest)\n");
		return 77;
	}
	snprintf(tmp, sizeof tmp, "/tmp/synfin-supervise-XXXXXX");
	if (!mkdtemp(tmp))
		return 1;
	kill9_leaves_no_worker();
	signal_stops_campaign(SIGINT);
	signal_stops_campaign(SIGTERM);
	signal_stops_campaign(SIGHUP);
	killed_worker_is_reported();
	kill9_linux_namespace_goes();
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf %s", tmp);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", tmp);
	return check_done();
}
