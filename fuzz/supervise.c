/* Supervision of a campaign's worker processes (supervise.h). */
#include "supervise.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

int sff_sup_bind_parent(pid_t parent)
{
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0)
		return -1;
	/* The parent may have died before prctl: then we already belong to another. */
	return getppid() == parent ? 0 : -1;
}

int sff_sup_hand_down(int rfd, int wfd)
{
	char num[16];
	close(wfd);
	int fl = fcntl(rfd, F_GETFD);
	if (fl < 0 || fcntl(rfd, F_SETFD, fl & ~FD_CLOEXEC) != 0)
		return -1;
	snprintf(num, sizeof num, "%d", rfd);
	return setenv(SFF_SUP_ENV, num, 1);
}

static int g_exit_code;

static void *watch(void *arg)
{
	int fd = (int)(intptr_t)arg;
	char c;
	for (;;) {
		ssize_t n = read(fd, &c, 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break; /* end-of-file: no writer left, the supervisor is gone */
	}
	_exit(g_exit_code);
	return NULL;
}

int sff_sup_watch(int exit_code)
{
	const char *v = getenv(SFF_SUP_ENV);
	char *end;
	if (!v || !*v)
		return 0;
	long fd = strtol(v, &end, 10);
	if (*end || fd < 3 || fd > 65535 || fcntl((int)fd, F_GETFD) < 0)
		return -1;
	/* Left open across exec: libFuzzer's -jobs and -fork processes watch it too. */
	g_exit_code = exit_code;
	pthread_t th;
	pthread_attr_t at;
	if (pthread_attr_init(&at) != 0)
		return -1;
	pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&at, 64 * 1024);
	int rc = pthread_create(&th, &at, watch, (void *)(intptr_t)fd);
	pthread_attr_destroy(&at);
	return rc == 0 ? 0 : -1;
}

/* Remove the files of one finding's temporary directory, then the directory. */
static int remove_dir_at(int dfd, const char *name)
{
	int fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -1;
	DIR *d = fdopendir(fd);
	if (!d) {
		close(fd);
		return -1;
	}
	struct dirent *e;
	while ((e = readdir(d)) != NULL)
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
			unlinkat(fd, e->d_name, 0);
	closedir(d);
	return unlinkat(dfd, name, AT_REMOVEDIR);
}

int sff_sup_remove_stale(const char *out)
{
	int dfd = open(out, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int n = 0;
	if (dfd < 0)
		return 0;
	int dup_fd = dup(dfd);
	DIR *d = dup_fd >= 0 ? fdopendir(dup_fd) : NULL;
	if (!d) {
		if (dup_fd >= 0)
			close(dup_fd);
		close(dfd);
		return 0;
	}
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		/* .tmp-<sig-hash>-<pid>-<n> (finding.c) */
		int pid = 0;
		if (strncmp(e->d_name, ".tmp-", 5) != 0 || strlen(e->d_name) < 5 + 17 ||
		    sscanf(e->d_name + 5 + 17, "%d-", &pid) != 1 || pid <= 0)
			continue;
		if (kill(pid, 0) == 0 || errno == EPERM)
			continue; /* its writer still runs */
		n += remove_dir_at(dfd, e->d_name) == 0;
	}
	closedir(d);
	close(dfd);
	return n;
}
