/* Run a shell command for a test: its stdout and stderr (2>&1 is appended) go into buf,
 * NUL-terminated and cut at cap; the rest is read and dropped so the command never
 * blocks on a full pipe. Returns the exit code, or -1 if it did not exit normally. */
#ifndef SYNFIN_TESTS_SH_H
#define SYNFIN_TESTS_SH_H

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>

static int sh(char *buf, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int sh(char *buf, size_t cap, const char *fmt, ...)
{
	char cmd[4096];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(cmd, sizeof cmd, fmt, ap);
	va_end(ap);
	strncat(cmd, " 2>&1", sizeof cmd - strlen(cmd) - 1);
	FILE *p = popen(cmd, "r");
	size_t n = 0;
	if (!p)
		return -1;
	while (n + 1 < cap && fgets(buf + n, (int)(cap - n), p))
		n += strlen(buf + n);
	buf[n] = 0;
	char sink[256];
	while (fgets(sink, sizeof sink, p))
		;
	int st = pclose(p);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

#endif
