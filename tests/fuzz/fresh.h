/* The traces of scenarios run in a fresh process: a child that never ran a case before,
 * the reference the recovery tests compare a long-lived process's traces with. */
#ifndef SYNFIN_TESTS_FRESH_H
#define SYNFIN_TESTS_FRESH_H

#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "runner.h"
#include "tracebuf.h"

/* scn[0..n) on target spec, one after the other in a child, scenario i at case number
 * case0 + i and judged by prof: its trace (every segment, state and verdict) in out[i],
 * malloc'd; NULL where it could not be had. 0 if the child ran them all, else -1. */
static inline int fresh_traces(const char *spec, const struct sfh_scenario *scn, size_t n,
			       uint32_t case0, const struct sfo_profile *prof, char **out)
{
	char path[] = "/tmp/synfin-fresh.XXXXXX";
	int fd = mkstemp(path), st = 0;
	for (size_t i = 0; i < n; i++)
		out[i] = NULL;
	if (fd < 0)
		return -1;
	fflush(NULL);
	pid_t pid = fork();
	if (pid == 0) {
		char err[512];
		struct sfh_target *t = NULL;
		struct sfh_runner *r = sfh_runner_new(err, sizeof err);
		FILE *f = fdopen(fd, "w");
		if (!r || !f || sfh_target_open(spec, &t, err, sizeof err) != 0)
			_exit(1);
		for (size_t i = 0; i < n; i++) {
			struct buf b = {0};
			struct sfh_result res;
			struct sfh_run_opts o = {.profile = prof,
						 .trace = to_buf,
						 .trace_ctx = &b,
						 .case_no = case0 + (uint32_t)i};
			if (sfh_run(r, t, &scn[i], &o, &res) != 0)
				_exit(2);
			fprintf(f, "%zu\n%s", b.n, b.p ? b.p : "");
			free(b.p);
		}
		_exit(fclose(f) == 0 ? 0 : 3);
	}
	waitpid(pid, &st, 0);
	FILE *f = fopen(path, "r");
	for (size_t i = 0; f && i < n; i++) {
		size_t len = 0;
		if (fscanf(f, "%zu", &len) != 1 || fgetc(f) != '\n')
			break; /* not "%zu\n": that would eat the trace's leading spaces */
		out[i] = calloc(1, len + 1);
		if (!out[i] || fread(out[i], 1, len, f) != len)
			break;
	}
	if (f)
		fclose(f);
	unlink(path);
	close(fd);
	return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -1;
}

#endif
