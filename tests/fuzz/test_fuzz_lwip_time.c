/* lwIP's virtual time jumps over ticks that provably do nothing (only TIME-WAIT pcbs,
 * target_lwip_sys.c). Proof by experiment: thousands of mutated scenarios (the fuzz
 * mutator over the seeds, waits up to the campaign's 300 s) run once stepping every
 * tick and once with the jumps, each from a fresh process; the traces (every segment
 * both ways, every state, every verdict) and the pcaps (every packet, octet for octet,
 * IP ids included) must be identical. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "fuzz_priv.h"
#include "target_lwip.h"

#define NSEEDS 64
#define NRUNS  3000

static uint8_t skip[NRUNS]; /* runs that make lwIP abort (its known assertions) */
#include "seeds.h"

static void to_file(void *ctx, const char *line)
{
	fprintf(ctx, "%s\n", line);
}

/* One process's worth: every run's trace into log, every packet into pcap. */
static int play_all(int slow, const char *log_path, const char *pcap_path)
{
	char err[512];
	struct sfh_target *t = NULL;
	struct sfh_runner *r = sfh_runner_new(err, sizeof err);
	FILE *log = fopen(log_path, "w");
	struct sfh_pcap *pc = sfh_pcap_open(pcap_path, err, sizeof err);
	if (!r || !log || !pc || sfh_target_open("lwip", &t, err, sizeof err) != 0)
		return 1;
	sfh_lwip_set_slow_time(slow);
	const struct sfo_profile *prof = sfo_profile_find("lwip");
	for (uint32_t i = 0; i < NRUNS; i++) {
		if (skip[i])
			continue;
		fprintf(log, "run %u\n", i);
		fflush(log); /* the last run started is known if lwIP aborts */
		uint8_t buf[SFH_MAX_ENCODED];
		size_t k = i % nseeds, n = seed_len[k];
		memcpy(buf, seeds[k], n);
		for (unsigned m = 0; m < 1 + i % 4; m++)
			n = sff_mutate(buf, n, sizeof buf, i * 7919u + m, NULL);
		struct sfh_scenario s;
		sfh_scn_decode(buf, n, &s);
		sff_scn_strip(&s);
		for (uint32_t e = 0; e < s.nev; e++)
			if (s.ev[e].type == SFH_EV_WAIT && s.ev[e].u.wait_ms > SFF_MAX_VWAIT_MS)
				s.ev[e].u.wait_ms = SFF_MAX_VWAIT_MS;
		struct sfh_run_opts o = {.profile = prof,
					 .pcap = pc,
					 .trace = to_file,
					 .trace_ctx = log,
					 .case_no = i};
		struct sfh_result res;
		int rc = sfh_run(r, t, &s, &o, &res);
		fprintf(log, "run %u: rc %d sig %s steps %u\n", i, rc,
			res.verdict.kind == SFO_DIV_OK ? "ok" : res.signature, res.steps);
	}
	sfh_target_close(t);
	sfh_runner_free(r);
	int bad = sfh_pcap_close(pc) != 0;
	return fclose(log) != 0 || bad;
}

static char *slurp(const char *path, size_t *len)
{
	return (char *)sff_read_file(path, len, 1u << 30);
}

static int run_child(int slow, const char *log, const char *pcap)
{
	fflush(NULL);
	pid_t p = fork();
	if (p == 0)
		_exit(play_all(slow, log, pcap));
	int st = 0;
	waitpid(p, &st, 0);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* The run a child that died was in: the last "run N" line of its log. */
static long last_run(const char *log_path)
{
	size_t len = 0;
	char *t = (char *)sff_read_file(log_path, &len, 1u << 30), *p = t, *q;
	long last = -1;
	while (p && (q = strstr(p, "run ")) != NULL) {
		if (q == t || q[-1] == '\n')
			last = strtol(q + 4, NULL, 10);
		p = q + 4;
	}
	free(t);
	return last;
}

/* Stepping every tick, find the runs lwIP aborts on and leave them out of both. */
static int find_crashers(const char *log, const char *pcap)
{
	for (int tries = 0; tries < 200; tries++) {
		int rc = run_child(1, log, pcap);
		if (rc <= 1)
			return rc;
		long i = last_run(log);
		if (i < 0 || i >= NRUNS || skip[i])
			return rc;
		skip[i] = 1;
	}
	return -1;
}

static void lwip_time_jumps_same_packets_and_states(void)
{
	char dir[] = "/tmp/synfin-lwip-time.XXXXXX", a_log[64], b_log[64], a_pc[64], b_pc[64];
	CHECK(mkdtemp(dir) != NULL);
	snprintf(a_log, sizeof a_log, "%s/slow.log", dir);
	snprintf(b_log, sizeof b_log, "%s/fast.log", dir);
	snprintf(a_pc, sizeof a_pc, "%s/slow.pcap", dir);
	snprintf(b_pc, sizeof b_pc, "%s/fast.pcap", dir);
	CHECK_EQ(find_crashers(a_log, a_pc), 0);
	CHECK_EQ(run_child(0, b_log, b_pc), 0);
	size_t la = 0, lb = 0, pa = 0, pb = 0;
	char *a = slurp(a_log, &la), *b = slurp(b_log, &lb);
	char *x = slurp(a_pc, &pa), *y = slurp(b_pc, &pb);
	CHECK(a && b && x && y);
	if (a && b && x && y) {
		CHECK_EQ(la, lb);
		CHECK(la == lb && memcmp(a, b, la) == 0);
		CHECK_EQ(pa, pb);
		CHECK(pa == pb && memcmp(x, y, pa) == 0);
		/* the jump was exercised: TIME-WAIT reached and long waits played in it */
		CHECK(strstr(a, "TIME-WAIT") != NULL);
		if (la == lb && pa == pb && !memcmp(a, b, la) && !memcmp(x, y, pa))
			fprintf(stderr, "%d runs: %zu trace octets, %zu pcap octets identical\n",
				NRUNS, la, pa);
	}
	free(a), free(b), free(x), free(y);
	unlink(a_log), unlink(b_log), unlink(a_pc), unlink(b_pc);
	rmdir(dir);
}

int main(void)
{
	load_seeds();
	lwip_time_jumps_same_packets_and_states();
	return check_done();
}
