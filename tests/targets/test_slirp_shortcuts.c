/* The slirp target's shortcuts change nothing slirp emits or reports. Two of them:
 * - the active role's connecting socket keeps one port for the life of the target, so a
 *   case's connect() takes over the TIME-WAIT the last case's connection left on loopback
 *   (target_slirp_sock.c, Ports), where it used to take a fresh port every case;
 * - slirp_new gets a copy of one random generator instead of seeding a new one from
 *   /dev/urandom (target_slirp.c, g_rand_new), as slirp draws from it only for features
 *   the target leaves off.
 * Proof by experiment, as tests/fuzz/test_fuzz_lwip_time.c does for lwIP's time jumps:
 * thousands of mutated scenarios (the seeds under the small structured mutator below; in
 * the default mode half of them from the active-role seeds) run in one process with the
 * shortcuts and in another without; the traces (every segment both ways, relative to the
 * ISNs, every state, every verdict) must be identical. Ports are not in the traces: the
 * ones the kernel picks differ from process to process anyway. In both modes of the
 * passive role (socket mode is also where the guestfwd mode's ABORTs are replayed).
 *
 * The mutator is the test's own: the fuzz library (sff_mutate) is linked into the fuzz
 * tests only. It edits decoded scenarios (events dropped, doubled, swapped, inserted;
 * flags, lengths, calls, waits around slirp's timers) and normalises them through the
 * binary form, whose decoding is total. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "runner.h"
#include "target_slirp_priv.h"

#define NSEEDS	    64
#define NRUNS	    3000
#define MAX_WAIT_MS 300000u /* the longest wait a campaign plays on a virtual-time target */
#include "fuzz/seeds.h"

static uint64_t rnd(uint64_t *x)
{
	*x ^= *x << 13, *x ^= *x >> 7, *x ^= *x << 17; /* xorshift64 */
	return *x;
}

static void mutate_once(struct sfh_scenario *s, uint64_t *x)
{
	static const uint32_t waits[] = {1, 2, 200, 499, 500, 1000, 3000, 60000, 120000, 240000};
	static const uint32_t lens[] = {0, 1, 100, 1400};
	uint32_t n = s->nev, i = n ? (uint32_t)(rnd(x) % n) : 0;
	struct sfh_event *e = n ? &s->ev[i] : NULL;
	switch (rnd(x) % 8) {
	case 0: /* drop an event */
		if (n) {
			memmove(&s->ev[i], &s->ev[i + 1], (n - i - 1) * sizeof *e);
			s->nev--;
		}
		return;
	case 1: /* double one */
		if (n && n < SFH_MAX_EVENTS) {
			memmove(&s->ev[i + 1], &s->ev[i], (n - i) * sizeof *e);
			s->nev++;
		}
		return;
	case 2: /* swap two neighbours */
		if (i + 1 < n) {
			struct sfh_event t = s->ev[i];
			s->ev[i] = s->ev[i + 1], s->ev[i + 1] = t;
		}
		return;
	case 3: /* a flag more or less */
		if (e && e->type == SFH_EV_IN)
			e->u.in.flags ^= (uint8_t)(1u << rnd(x) % 6);
		return;
	case 4: /* another payload length */
		if (e && e->type == SFH_EV_IN)
			e->u.in.len = lens[rnd(x) % 4];
		return;
	case 5: /* another call */
		if (e && e->type == SFH_EV_CALL)
			e->u.call.call = (enum sfo_call)(rnd(x) % SFO_NCALLS);
		return;
	case 6: /* another wait */
		if (e && e->type == SFH_EV_WAIT)
			e->u.wait_ms = waits[rnd(x) % 10];
		return;
	default: /* a call or a wait inserted */
		if (n < SFH_MAX_EVENTS) {
			memmove(&s->ev[i + 1], &s->ev[i], (n - i) * sizeof *e);
			s->nev++;
			if (rnd(x) % 2)
				s->ev[i] = (struct sfh_event){
				    .type = SFH_EV_CALL,
				    .u.call = {(enum sfo_call)(rnd(x) % SFO_NCALLS), 0}};
			else
				s->ev[i] = (struct sfh_event){.type = SFH_EV_WAIT,
							      .u.wait_ms = waits[rnd(x) % 10]};
		}
		return;
	}
}

/* Run i's scenario: a seed mutated one to four times, every other one an active-role
 * seed if more_active; without the hand-written assertions (the model judges). */
static void scenario(uint32_t i, int more_active, const size_t *active, size_t nactive,
		     struct sfh_scenario *s)
{
	uint8_t buf[SFH_MAX_ENCODED];
	uint64_t x = 0x9e3779b97f4a7c15ull * (i + 1);
	size_t k = more_active && i % 2 && nactive ? active[(i / 2) % nactive] : i % nseeds;
	sfh_scn_decode(seeds[k], seed_len[k], s);
	for (unsigned m = 0; m < 1 + i % 4; m++)
		mutate_once(s, &x);
	uint32_t kept = 0;
	for (uint32_t e = 0; e < s->nev; e++)
		if (s->ev[e].type != SFH_EV_OUT && s->ev[e].type != SFH_EV_EXPECT_STATE)
			s->ev[kept++] = s->ev[e];
	s->nev = kept;
	size_t n = sfh_scn_encode(s, buf, sizeof buf);
	sfh_scn_decode(buf, n < sizeof buf ? n : sizeof buf, s);
	for (uint32_t e = 0; e < s->nev; e++)
		if (s->ev[e].type == SFH_EV_WAIT && s->ev[e].u.wait_ms > MAX_WAIT_MS)
			s->ev[e].u.wait_ms = MAX_WAIT_MS;
}

static void to_file(void *ctx, const char *line)
{
	fprintf(ctx, "%s\n", line);
}

/* A pair played over and over after the mutated runs, with the shortcuts only: the first
 * closes second (slirp's host socket sends its FIN first, after the guest's), with enough
 * octets from the application that the TIME-WAIT it leaves on slirp's side would refuse
 * the next SYN from the same port within the millisecond; the second is an active open,
 * right after, and must open. So the port must not be taken again then, nor, later, while
 * that TIME-WAIT lasts (target_slirp_sock.c, app_port_next and app_port_fresh). Without
 * the shortcuts (a fresh port from bind() every case) one pair in a few hundred fails
 * that way: bind() does not see such a port as taken. */
static const char *const pair[2] = {
    "role active\n"
    "in S. seq=pisn ack=tisn+1 win=65535 mss=1460\n"
    "call send 60000\n"
    "in F. win=65535\n"
    "call close\n"
    "in . win=65535\n",
    "role active\n"
    "in S. seq=pisn ack=tisn+1 win=65535 mss=1460\n"
    "in . win=65535\n",
};
#define NPAIRS 200

/* One process's worth: every run's trace into log. The last line counts the active cases
 * whose port the next case took again after the connection had ended (the TIME-WAIT
 * takeovers), which only the run with the shortcuts has. */
static int play_all(const char *spec, int more_active, int shortcuts, const char *log_path)
{
	char err[512];
	struct sfh_target *t = NULL;
	struct sfh_runner *r = sfh_runner_new(err, sizeof err);
	FILE *log = fopen(log_path, "w");
	size_t active[NSEEDS], nactive = 0;
	if (!r || !log || sfh_target_open(spec, &t, err, sizeof err) != 0)
		return 1;
	struct sfh_slirp *sl = (struct sfh_slirp *)t;
	sl->no_shortcuts = (uint8_t)!shortcuts;
	for (size_t k = 0; k < nseeds; k++) {
		struct sfh_scenario s;
		sfh_scn_decode(seeds[k], seed_len[k], &s);
		if (s.role == SFH_ROLE_ACTIVE)
			active[nactive++] = k;
	}
	const struct sfo_profile *prof = sfo_profile_find("slirp");
	struct sfh_scenario pair_scn[2];
	for (int k = 0; k < 2; k++)
		if (sfh_scn_parse(pair[k], strlen(pair[k]), "pair", &pair_scn[k], err,
				  sizeof err) != 0)
			return 1;
	int pairs_failed = 0;
	for (uint32_t i = 0; i < NRUNS + (shortcuts ? 2 * NPAIRS : 0); i++) {
		struct sfh_scenario s;
		if (i < NRUNS)
			scenario(i, more_active, active, nactive, &s);
		else
			s = pair_scn[i % 2];
		if (i == NRUNS)
			fprintf(log, "pairs\n"); /* from here on, not compared: see pair[] */
		fprintf(log, "run %u\n", i);
		struct sfh_run_opts o = {
		    .profile = prof, .trace = to_file, .trace_ctx = log, .case_no = i};
		struct sfh_result res;
		int rc = sfh_run(r, t, &s, &o, &res);
		fprintf(log, "run %u: rc %d sig %s steps %u\n", i, rc,
			res.verdict.kind == SFO_DIV_OK ? "ok" : res.signature, res.steps);
		if (i >= NRUNS && i % 2 && (rc != 0 || res.verdict.kind != SFO_DIV_OK)) {
			fprintf(stderr, "pair run %u: %s\n", i, rc ? res.err : res.signature);
			pairs_failed++;
		}
	}
	fprintf(stderr, "%s, shortcuts %s: %u active cases' ports taken again after the end\n",
		spec, shortcuts ? "on" : "off", sl->tw_takeovers);
	int bad =
	    (shortcuts && sl->tw_takeovers < NRUNS / (more_active ? 20 : 200)) || pairs_failed;
	sfh_target_close(t);
	sfh_runner_free(r);
	return fclose(log) != 0 || bad;
}

static int run_child(const char *spec, int more_active, int shortcuts, const char *log)
{
	fflush(NULL);
	pid_t p = fork();
	if (p == 0)
		_exit(play_all(spec, more_active, shortcuts, log));
	int st = 0;
	waitpid(p, &st, 0);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	long n = -1;
	if (f && fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0)
		buf = malloc((size_t)n + 1);
	if (buf && fread(buf, 1, (size_t)n, f) == (size_t)n) {
		buf[n] = 0;
		*len = (size_t)n;
	} else {
		free(buf);
		buf = NULL;
	}
	if (f)
		fclose(f);
	return buf;
}

/* The first line where two logs differ, for the failure message. */
static void first_difference(const char *a, const char *b)
{
	size_t i = 0, line = 0;
	while (a[i] && a[i] == b[i])
		if (a[i++] == '\n')
			line = i;
	fprintf(stderr, "first difference:\n  with:    %.200s\n  without: %.200s\n", a + line,
		b + line);
}

static void same_traces(const char *spec, int more_active)
{
	char dir[] = "/tmp/synfin-slirp-shortcuts.XXXXXX", a_log[80], b_log[80];
	CHECK(mkdtemp(dir) != NULL);
	snprintf(a_log, sizeof a_log, "%s/with.log", dir);
	snprintf(b_log, sizeof b_log, "%s/without.log", dir);
	CHECK_EQ(run_child(spec, more_active, 1, a_log), 0);
	CHECK_EQ(run_child(spec, more_active, 0, b_log), 0);
	size_t la = 0, lb = 0;
	char *a = slurp(a_log, &la), *b = slurp(b_log, &lb);
	CHECK(a && b);
	if (a && b) {
		char *pairs = strstr(a, "\npairs\n");
		CHECK(pairs != NULL);
		if (pairs)
			la = (size_t)(pairs - a) + 1;
		int same = la == lb && memcmp(a, b, la) == 0;
		CHECK(same);
		if (!same)
			first_difference(a, b);
		/* both roles and both ends of the lifecycle were played */
		CHECK(strstr(a, "TIME-WAIT") != NULL);
		CHECK(strstr(a, "-- active") != NULL);
		CHECK(strstr(a, "-- passive") != NULL);
		if (same)
			fprintf(stderr, "%s: %d runs, %zu trace octets identical\n", spec, NRUNS,
				la);
	}
	free(a), free(b);
	unlink(a_log), unlink(b_log);
	rmdir(dir);
}

int main(void)
{
	load_seeds();
	same_traces("slirp", 1);
	/* socket mode changes only the passive role: the seeds' own share of active cases
	 * (each of which, without the shortcuts, leaves a TIME-WAIT on loopback) will do */
	same_traces("slirp:passive=sock", 0);
	return check_done();
}
