/* bench_fuzz_core: the fuzz core's cost per input, without libFuzzer around it.
 * Runs every input of a corpus directory through sff_core_one (decode, fit, run beside
 * the model, coverage, findings) in a loop and prints the steady-state rate. (The same
 * inputs without synfin's machinery, through libFuzzer: fuzz_naive's replay mode, run by
 * bench_fuzz.sh.) Inputs that crash the stack are skipped (each is tried once in a
 * child process first).
 *
 * Usage: bench_fuzz_core TARGET CORPUS_DIR [SECONDS]   (default 5 s per loop)
 * SYNFIN_BENCH_RECOVER=1 runs the core with in-process recovery on (as `synfin fuzz`
 * does on lwip), to measure what the guard and lwIP's heap tracking cost per input.
 * SYNFIN_BENCH_PER_INPUT=1 first prints each input's own cost (20 runs each), its
 * events and its total wait, to find the inputs that dominate.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fuzz_priv.h"

#define MAX_INPUTS 20000

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int survives(const uint8_t *d, size_t n)
{
	fflush(NULL);
	pid_t p = fork();
	if (p == 0) {
		sff_core_one(d, n);
		_exit(0);
	}
	int st = 0;
	waitpid(p, &st, 0);
	return WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

int main(int argc, char **argv)
{
	static uint8_t *in[MAX_INPUTS];
	static size_t len[MAX_INPUTS];
	static char *name[MAX_INPUTS];
	size_t n = 0, skipped = 0;
	char err[512], out[] = "/tmp/bench-fuzz-core.XXXXXX";
	if (argc < 3) {
		fprintf(stderr, "usage: bench_fuzz_core TARGET CORPUS_DIR [SECONDS]\n");
		return 2;
	}
	double secs = argc > 3 ? atof(argv[3]) : 5;
	if (!mkdtemp(out))
		return 2;
	const char *rec = getenv("SYNFIN_BENCH_RECOVER");
	struct sff_core_opts o = {.target_spec = argv[1],
				  .out_dir = out,
				  .recover = rec && strcmp(rec, "1") == 0};
	if (sff_core_init(&o, err, sizeof err) != 0) {
		fprintf(stderr, "bench_fuzz_core: %s\n", err);
		return 2;
	}
	DIR *d = opendir(argv[2]);
	struct dirent *e;
	if (!d) {
		perror(argv[2]);
		return 2;
	}
	sff_core_one((const uint8_t *)"", 0); /* open the target before forking */
	while ((e = readdir(d)) != NULL && n < MAX_INPUTS) {
		char path[4200];
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof path, "%s/%s", argv[2], e->d_name);
		in[n] = sff_read_file(path, &len[n], 1u << 16);
		if (!in[n])
			continue;
		if (!survives(in[n], len[n])) {
			free(in[n]);
			skipped++;
			continue;
		}
		name[n] = strdup(e->d_name);
		n++;
	}
	closedir(d);
	if (n == 0) {
		fprintf(stderr, "bench_fuzz_core: no usable inputs in %s\n", argv[2]);
		return 2;
	}
	/* Warm up: every signature recorded once, so the loop measures steady state. */
	for (size_t i = 0; i < n; i++)
		sff_core_one(in[i], len[i]);
	if (getenv("SYNFIN_BENCH_PER_INPUT")) {
		for (size_t i = 0; i < n; i++) {
			double a = now_s();
			for (int k = 0; k < 20; k++)
				sff_core_one(in[i], len[i]);
			struct sfh_scenario s;
			sfh_scn_decode(in[i], len[i], &s);
			uint64_t w = 0;
			for (uint32_t k = 0; k < s.nev; k++)
				if (s.ev[k].type == SFH_EV_WAIT)
					w += s.ev[k].u.wait_ms;
			printf("per-input %.2f us %u events %llu wait-ms %s\n",
			       (now_s() - a) * 1e6 / 20, s.nev, (unsigned long long)w,
			       name[i] ? name[i] : "?");
		}
	}
	uint64_t execs = 0, events = 0;
	double t0 = now_s(), t;
	do {
		for (size_t i = 0; i < n; i++) {
			sff_core_one(in[i], len[i]);
			struct sfh_scenario s;
			sfh_scn_decode(in[i], len[i], &s);
			events += s.nev;
		}
		execs += n;
		t = now_s() - t0;
	} while (t < secs);
	printf("%s: %zu inputs (%zu crashing skipped), %.1f events/input\n", argv[1], n, skipped,
	       (double)events / (double)execs);
	printf("  fuzz core, steady state: %.0f inputs/s (%.2f us/input)\n", (double)execs / t,
	       t * 1e6 / (double)execs);
	sff_core_fini();
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf %s", out);
	if (system(cmd) != 0)
		return 1;
	return 0;
}
