/* The slirp target's shortcuts ("shortcuts=on", the default) change nothing slirp emits
 * or reports: every scenario of corpus/seeds and corpus/regress is played in one process
 * with them and in another without ("slirp:shortcuts=off"), in both modes of the passive
 * role (socket mode is also where a guestfwd case's ABORT is replayed), and the traces
 * (every segment both ways relative to the ISNs, every state, every verdict, every harness
 * error) must be identical. The shortcuts: slirp_new's random generator copied instead of
 * seeded from /dev/urandom, slirp's large buffers grown in place, recv() with MSG_TRUNC in
 * one call, no drain of a closed socket slirp cannot have written to, no poll() of a tick
 * that cannot find anything new (harness/targets/slirp/).
 *
 * Deterministic: host sockets (the active role, socket mode) go through loopback, and on
 * the host's loopback other processes' sockets share the ports and the TIME-WAITs. As
 * root the target runs in a network namespace of its own (each child process makes its
 * own), which the test checks (the thread's namespace changes, and no TIME-WAIT is left
 * in it after hundreds of orderly closes); without root the test is skipped, as the
 * comparison would depend on whatever else uses loopback. Ports are not in the traces.
 *
 * Scenarios that crash libslirp (one is pinned in corpus/regress) end their process: the
 * parent notes the crash in the log and starts a new process at the next scenario, for
 * both runs alike. */
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "report.h"
#include "runner.h"

#define NSEEDS	    64
#define NMUT	    2000    /* mutated scenarios, after the corpus files */
#define MAX_WAIT_MS 300000u /* the longest wait a campaign plays on a virtual-time target */
#include "fuzz/seeds.h"

static struct sfh_filelist files;
static size_t nactive, active[NSEEDS];

static uint64_t rnd(uint64_t *x)
{
	*x ^= *x << 13, *x ^= *x >> 7, *x ^= *x << 17; /* xorshift64 */
	return *x;
}

/* The test's own small structured mutator (the fuzz library's is linked into the fuzz
 * tests only): events dropped, doubled, swapped, inserted; flags, lengths (URG and large
 * payloads included), calls, waits around slirp's timers. */
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
		if (e && e->type == SFH_EV_CALL) {
			e->u.call.call = (enum sfo_call)(rnd(x) % SFO_NCALLS);
			e->u.call.arg = rnd(x) % 2 ? 0 : (uint32_t)(rnd(x) % 70000);
		}
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
				    .u.call = {.call = (enum sfo_call)(rnd(x) % SFO_NCALLS)}};
			else
				s->ev[i] = (struct sfh_event){.type = SFH_EV_WAIT,
							      .u.wait_ms = waits[rnd(x) % 10]};
		}
		return;
	}
}

/* Mutated scenario k: a seed (every other one from the active role) mutated one to four
 * times, without its hand-written assertions (the model judges), normalised through the
 * binary form. */
static void mutated(size_t k, struct sfh_scenario *s)
{
	uint8_t buf[SFH_MAX_ENCODED];
	uint64_t x = 0x9e3779b97f4a7c15ull * (k + 1);
	size_t from = k % 2 && nactive ? active[(k / 2) % nactive] : k % nseeds;
	sfh_scn_decode(seeds[from], seed_len[from], s);
	for (unsigned m = 0; m < 1 + k % 4; m++)
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

#define NSCN (files.n + NMUT)

/* Scenario i's name in the logs. */
static void scn_name(size_t i, char *buf, size_t cap)
{
	if (i < files.n) {
		const char *name = strrchr(files.paths[i], '/');
		snprintf(buf, cap, "%s", name ? name + 1 : files.paths[i]);
	} else {
		snprintf(buf, cap, "mutated-%zu", i - files.n);
	}
}

static void to_file(void *ctx, const char *line)
{
	fprintf(ctx, "%s\n", line);
}

static ino_t net_ns(void)
{
	struct stat st;
	return stat("/proc/thread-self/ns/net", &st) == 0 ? st.st_ino : 0;
}

/* TIME-WAIT sockets (state 06) in the calling thread's namespace; -1 if unreadable. */
static int time_waits(void)
{
	char line[512];
	int n = 0;
	FILE *f = fopen("/proc/thread-self/net/tcp", "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof line, f)) {
		unsigned st = 0;
		if (sscanf(line, " %*d: %*x:%*x %*x:%*x %x", &st) == 1 && st == 6)
			n++;
	}
	fclose(f);
	return n;
}

/* How a child ends; any other status is a crash (a signal, or the sanitizers' exit 1). */
#define DONE   40
#define FAILED 41 /* set-up */
#define NOT_PRIV                                                                                   \
	42 /* the target did not move into a namespace of its own, or left                         \
	    * TIME-WAITs there */

/* One process's worth: scenarios from `first` on, each announced before it runs (so that
 * the parent knows where a crash happened). */
static int play_from(const char *spec, size_t first, const char *log_path)
{
	char err[512];
	struct sfh_target *t = NULL;
	struct sfh_runner *r = sfh_runner_new(err, sizeof err);
	FILE *log = fopen(log_path, "a");
	ino_t host_ns = net_ns();
	if (!r || !log || sfh_target_open(spec, &t, err, sizeof err) != 0)
		return FAILED;
	const struct sfo_profile *prof = sfo_profile_find("slirp");
	for (size_t i = first; i < NSCN; i++) {
		struct sfh_scenario s;
		char name[256];
		scn_name(i, name, sizeof name);
		fprintf(log, "== %s\n", name);
		fflush(log);
		if (i >= files.n)
			mutated(i - files.n, &s);
		else if (sfh_scn_load(files.paths[i], &s, err, sizeof err) != 0) {
			fprintf(log, "load: %s\n", err);
			continue;
		}
		struct sfh_run_opts o = {
		    .profile = prof, .trace = to_file, .trace_ctx = log, .case_no = (uint32_t)i};
		struct sfh_result res;
		int rc = sfh_run(r, t, &s, &o, &res);
		fprintf(log, "rc %d: %s\n", rc,
			rc < 0 ? res.err
			       : (res.verdict.kind == SFO_DIV_OK ? "conformant" : res.signature));
		fflush(log);
	}
	int tw = time_waits();
	int bad = net_ns() == host_ns || tw != 0;
	if (bad)
		fprintf(stderr, "%s: namespace %s, %d TIME-WAIT socket(s) in it\n", spec,
			net_ns() == host_ns ? "the host's" : "private", tw);
	sfh_target_close(t);
	sfh_runner_free(r);
	return fclose(log) != 0 ? FAILED : bad ? NOT_PRIV : DONE;
}

/* The index of the last scenario the log announces ("== name"), or NSCN. */
static size_t last_started(const char *log_path)
{
	char line[4096], last[4096] = "", name[256];
	FILE *f = fopen(log_path, "r");
	if (!f)
		return NSCN;
	while (fgets(line, sizeof line, f))
		if (strncmp(line, "== ", 3) == 0)
			snprintf(last, sizeof last, "%s", line + 3);
	fclose(f);
	last[strcspn(last, "\n")] = 0;
	for (size_t i = 0; i < NSCN; i++) {
		scn_name(i, name, sizeof name);
		if (strcmp(name, last) == 0)
			return i;
	}
	return NSCN;
}

/* Play every scenario with spec, a new process after each crash. 0, or the first child's
 * failure code. */
static int play_all(const char *spec, const char *log_path)
{
	size_t first = 0;
	unlink(log_path);
	for (int crashes = 0; crashes < 64; crashes++) {
		fflush(NULL);
		pid_t p = fork();
		if (p == 0)
			_exit(play_from(spec, first, log_path));
		int st = 0;
		waitpid(p, &st, 0);
		if (WIFEXITED(st) && WEXITSTATUS(st) >= DONE && WEXITSTATUS(st) <= NOT_PRIV)
			return WEXITSTATUS(st) == DONE ? 0 : WEXITSTATUS(st);
		size_t at = last_started(log_path);
		FILE *log = fopen(log_path, "a");
		if (!log || at >= NSCN)
			return 1;
		fprintf(log, "crash\n"); /* not which signal: sanitizers turn it into exit 1 */
		fclose(log);
		first = at + 1;
	}
	return 1;
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	long n = -1;
	if (f && fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0)
		buf = malloc((size_t)n + 1);
	if (buf && fread(buf, 1, (size_t)n, f) == (size_t)n)
		buf[n] = 0;
	else {
		free(buf);
		buf = NULL;
	}
	if (f)
		fclose(f);
	return buf;
}

/* The first line where two logs differ, with the scenario it belongs to. */
static void first_difference(const char *a, const char *b)
{
	size_t i = 0, line = 0, scn = 0;
	while (a[i] && a[i] == b[i]) {
		if (a[i++] == '\n') {
			line = i;
			if (strncmp(a + i, "== ", 3) == 0)
				scn = i;
		}
	}
	fprintf(stderr, "first difference, in %.*s\n  with:    %.200s\n  without: %.200s\n",
		(int)strcspn(a + scn, "\n"), a + scn, a + line, b + line);
}

static void same_traces(const char *mode)
{
	char dir[] = "/tmp/synfin-slirp-shortcuts.XXXXXX", on_log[80], off_log[80];
	char on_spec[64], off_spec[64];
	CHECK(mkdtemp(dir) != NULL);
	snprintf(on_log, sizeof on_log, "%s/on.log", dir);
	snprintf(off_log, sizeof off_log, "%s/off.log", dir);
	snprintf(on_spec, sizeof on_spec, "slirp:%s%sshortcuts=on", mode, *mode ? "," : "");
	snprintf(off_spec, sizeof off_spec, "slirp:%s%sshortcuts=off", mode, *mode ? "," : "");
	CHECK_EQ(play_all(on_spec, on_log), 0);
	CHECK_EQ(play_all(off_spec, off_log), 0);
	char *a = slurp(on_log), *b = slurp(off_log);
	CHECK(a && b);
	if (a && b) {
		int same = strcmp(a, b) == 0;
		CHECK(same);
		if (!same)
			first_difference(a, b);
		/* both roles, a long way into the lifecycle, and the crash were played */
		CHECK(strstr(a, "-- active") != NULL);
		CHECK(strstr(a, "-- passive") != NULL);
		CHECK(strstr(a, "TIME-WAIT") != NULL);
		CHECK(strstr(a, "\ncrash\n") != NULL);
		if (same)
			fprintf(stderr, "slirp:%s: %zu scenarios, %zu trace octets identical\n",
				*mode ? mode : "passive=gfwd", NSCN, strlen(a));
	}
	free(a), free(b);
	unlink(on_log), unlink(off_log);
	rmdir(dir);
}

/* Whether this process may make a network namespace (probed in a child). */
static int can_unshare_net(void)
{
	pid_t p = fork();
	if (p == 0)
		_exit(unshare(CLONE_NEWNET) == 0 ? 0 : 1);
	int st = 0;
	waitpid(p, &st, 0);
	return WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

int main(void)
{
	char err[512], *dirs[2] = {"corpus/seeds", "corpus/regress"};
	if (!sfh_target_find("slirp")) {
		printf("skipped: the slirp target is not built (SYNFIN_TARGET_SLIRP=OFF)\n");
		return 77;
	}
	if (geteuid() != 0 || !can_unshare_net()) {
		printf("skipped: needs root, for a network namespace of its own (the comparison "
		       "would otherwise depend on what else uses loopback)\n");
		return 77;
	}
	CHECK_EQ(sfh_collect_scenarios(2, dirs, &files, err, sizeof err), 0);
	CHECK(files.n >= 100);
	load_seeds();
	for (size_t k = 0; k < nseeds; k++) {
		struct sfh_scenario s;
		sfh_scn_decode(seeds[k], seed_len[k], &s);
		if (s.role == SFH_ROLE_ACTIVE)
			active[nactive++] = k;
	}
	same_traces("");
	same_traces("passive=sock");
	sfh_filelist_free(&files);
	return check_done();
}
