/* The tap target with synfin-agent against this machine's kernel, inside the namespace
 * the target creates: every seed gives the linux target's verdict (one difference,
 * explained below), synfin answers the kernel's ARP for its address (neigh=0), nothing
 * appears outside the namespace, and every way the control
 * channel can fail (no program, early exit, garbage, a wrong reply, an ERROR, a hang, a
 * crash, a kill mid-run) ends in a clear error within its deadline, never a hang, and
 * a cmd= command's own children die with it.
 *
 * The failing agents are this program itself, re-executed with --ctl (as the target
 * starts an agent) and told by TAP_FAKE which way to fail. Skipped (77) without root or
 * /dev/net/tun. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <net/if.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "proto_io.h"
#include "report.h"
#include "runner.h"
#include "target.h"

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* ---------- the fake agents ---------- */

static void fake_reply(struct sfx_conn *c, uint8_t req, uint8_t status, int32_t code,
		       const char *text)
{
	struct sfx_msg m;
	sfx_msg_reply(&m, req, status, 0, code, text);
	if (req == SFX_HELLO && status == SFX_OK) {
		m.u.reply.version = SFX_VERSION;
		m.u.reply.caps = SFX_CAP_STATE | SFX_CAP_PASSIVE | SFX_CAP_ACTIVE;
		m.u.reply.stack = (struct sfx_bytes){(const uint8_t *)"fake", 4};
	}
	if (sfx_conn_send(c, &m) != 0)
		_exit(9);
}

/* Answer HELLO properly, then fail on the first RESET the way `mode` says. */
static int fake_agent(const char *mode)
{
	struct sfx_conn c;
	struct sfx_msg q;
	struct sfx_err e;
	if (strcmp(mode, "exit") == 0)
		return 3;
	if (strcmp(mode, "mute") == 0)
		return sleep(30), 0;
	if (strcmp(mode, "garbage") == 0) {
		/* a frame of length 1 whose type 0x7f is not defined: offset 4 */
		static const uint8_t g[] = {0, 0, 0, 1, 0x7f};
		return write(3, g, sizeof g) == sizeof g ? (sleep(10), 0) : 1;
	}
	if (sfx_conn_init(&c, 3) != 0)
		return 1;
	while (sfx_conn_recv(&c, &q, -1, &e) == SFX_IO_MSG) {
		if (q.type == SFX_HELLO) {
			fake_reply(&c, SFX_HELLO, SFX_OK, 0, NULL);
			continue;
		}
		if (strcmp(mode, "error") == 0)
			fake_reply(&c, q.type, SFX_ERROR, 5, "the stack is broken");
		else if (strcmp(mode, "wrongreq") == 0)
			fake_reply(&c, SFX_STATE, SFX_OK, 0, NULL);
		else if (strcmp(mode, "hang") == 0)
			sleep(30);
		else if (strcmp(mode, "crash") == 0)
			abort();
		else
			return 1;
	}
	return 0;
}

/* ---------- helpers ---------- */

static int contains(const char *hay, const char *needle)
{
	if (!strstr(hay, needle)) {
		fprintf(stderr, "  expected \"%s\" in: %s\n", needle, hay);
		return 0;
	}
	return 1;
}

static char self[PATH_MAX];

/* Open tap: with this program as a fake agent failing as mode: how the failure reads. */
static void fake_case(const char *mode, const char *opts, int fails_at_open, const char *want1,
		      const char *want2, uint64_t max_ms)
{
	char spec[PATH_MAX + 100], err[512] = "";
	struct sfh_target *t = NULL;
	struct sfh_endpoints ep;
	snprintf(spec, sizeof spec, "tap:agent=%s%s%s", self, opts[0] ? "," : "", opts);
	setenv("TAP_FAKE", mode, 1);
	uint64_t t0 = now_ms();
	int rc = sfh_target_open(spec, &t, err, sizeof err);
	const char *why = err;
	if (!fails_at_open) {
		CHECK_EQ(rc, 0);
		if (rc == 0) {
			CHECK_EQ(sfh_target_reset(t, SFH_ROLE_PASSIVE, 0, &ep), -1);
			why = t->err;
			/* once broken, it stays broken, at once */
			uint64_t t1 = now_ms();
			CHECK_EQ(sfh_target_reset(t, SFH_ROLE_PASSIVE, 1, &ep), -1);
			CHECK(now_ms() - t1 < 100);
		}
	} else {
		CHECK_EQ(rc, -1);
	}
	uint64_t took = now_ms() - t0;
	CHECK(contains(why, want1));
	CHECK(contains(why, want2));
	if (took > max_ms)
		fprintf(stderr, "  %s: took %llu ms (at most %llu)\n", mode,
			(unsigned long long)took, (unsigned long long)max_ms);
	CHECK(took <= max_ms);
	sfh_target_close(t);
	unsetenv("TAP_FAKE");
}

/* A child of this process running `name`, or 0. */
static pid_t find_child(const char *name)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	pid_t found = 0;
	while (d && (e = readdir(d)) != NULL && !found) {
		char path[300], buf[512];
		snprintf(path, sizeof path, "/proc/%s/stat", e->d_name);
		FILE *f = fopen(path, "r");
		if (!f)
			continue;
		if (fgets(buf, sizeof buf, f)) {
			char *rp = strrchr(buf, ')');
			int ppid = 0;
			if (rp && sscanf(rp + 2, "%*c %d", &ppid) == 1 && ppid == getpid() &&
			    strstr(buf, name))
				found = (pid_t)atoi(e->d_name);
		}
		fclose(f);
	}
	if (d)
		closedir(d);
	return found;
}

/* "linux/ESTABLISHED/ack/rule/kind" without the target's name. */
static const char *sig_tail(const struct sfh_result *r)
{
	const char *s = strchr(r->signature, '/');
	return r->verdict.kind == SFO_DIV_OK ? "ok" : s ? s : r->signature;
}

/* ---------- the tests ---------- */

static void seeds_match_linux(void)
{
	char err[512];
	struct sfh_filelist seeds = {0};
	char *dir = "corpus/seeds";
	struct sfh_target *lin = NULL, *tap = NULL;
	CHECK_EQ(sfh_collect_scenarios(1, &dir, &seeds, err, sizeof err), 0);
	CHECK(seeds.n >= 20);
	if (sfh_target_open("linux", &lin, err, sizeof err) != 0) {
		fprintf(stderr, "linux target: %s\n", err);
		CHECK(0);
		return;
	}
	if (sfh_target_open("tap", &tap, err, sizeof err) != 0) {
		fprintf(stderr, "tap target: %s\n", err);
		CHECK(0);
		sfh_target_close(lin);
		return;
	}
	CHECK(strstr(tap->ops->version(), "Linux") != NULL);
	/* The device lives in the target's namespace only. */
	CHECK_EQ(if_nametoindex("synfin-tap0"), 0);
	struct sfh_runner *r = sfh_runner_new(err, sizeof err);
	int same = 0, explained = 0, skipped = 0;
	for (size_t i = 0; r && i < seeds.n; i++) {
		struct sfh_scenario s;
		struct sfh_result rl, rt;
		struct sfh_run_opts o = {.case_no = (uint32_t)i};
		if (sfh_scn_load(seeds.paths[i], &s, err, sizeof err) != 0) {
			CHECK(0);
			continue;
		}
		if (sfh_run_supported(lin, &s, err, sizeof err) != 0 ||
		    sfh_run_supported(tap, &s, err, sizeof err) != 0) {
			skipped++; /* a `timers` line, IPv6 or several TCBs */
			continue;
		}
		CHECK_EQ(sfh_run(r, lin, &s, &o, &rl), 0);
		CHECK_EQ(sfh_run(r, tap, &s, &o, &rt), 0);
		if (strcmp(sig_tail(&rl), sig_tail(&rt)) == 0) {
			same++;
			continue;
		}
		/* TIME-WAIT's 2MSL expiry: the linux target ends a timewait socket when the
		 * case's virtual time passes its deadline (it reads the kernel's timers with
		 * sock_diag); the control protocol shows no timers, so tap: waits for real,
		 * at most maxwait (2 s) of Linux's 60 s, tells the model so, and the
		 * scenario's `expect state CLOSED` after `wait 250000` sees TIME-WAIT. */
		if (strstr(seeds.paths[i], "12-timewait-2msl-expiry") &&
		    rl.verdict.kind == SFO_DIV_OK && rt.assert_failed &&
		    rt.verdict.observed == SFO_TIME_WAIT) {
			explained++;
			continue;
		}
		fprintf(stderr, "%s: linux %s, tap %s\n", seeds.paths[i], sig_tail(&rl),
			sig_tail(&rt));
		CHECK(0);
	}
	printf("seeds: %d same verdict on linux and tap, %d explained differences\n", same,
	       explained);
	CHECK_EQ(same + explained + skipped, (int)seeds.n);
	CHECK(skipped < 10); /* seed 61 (a `timers` line), IPv6 seeds 75-78, multiconn 70-73 */
	CHECK(explained <= 1);
	sfh_runner_free(r);
	sfh_target_close(tap);
	sfh_target_close(lin);
	sfh_filelist_free(&seeds);
}

/* The agent killed in the middle of a run: the next step fails, naming the signal. */
static void agent_killed_mid_run(void)
{
	char err[512];
	struct sfh_target *t = NULL;
	struct sfh_endpoints ep;
	if (sfh_target_open("tap:timeout=500", &t, err, sizeof err) != 0) {
		fprintf(stderr, "tap: %s\n", err);
		CHECK(0);
		return;
	}
	CHECK_EQ(sfh_target_reset(t, SFH_ROLE_PASSIVE, 0, &ep), 0);
	CHECK_EQ(sfh_target_call(t, SFO_CALL_LISTEN, 0), 0);
	pid_t pid = find_child("synfin-agent");
	CHECK(pid > 0);
	if (pid > 0) {
		kill(pid, SIGKILL);
		uint64_t t0 = now_ms();
		enum sfo_state st;
		CHECK_EQ(sfh_target_state(t, &st), -1);
		CHECK(contains(t->err, "killed by signal 9"));
		CHECK(contains(t->err, "STATE"));
		CHECK(now_ms() - t0 < 1000);
	}
	sfh_target_close(t);
}

/* neigh=0: the kernel has no static entry for synfin's address and must resolve it by
 * ARP, which synfin answers: the handshakes of both roles still conform. */
static void arp_answered(void)
{
	char err[512];
	struct sfh_target *t = NULL;
	if (sfh_target_open("tap:neigh=0", &t, err, sizeof err) != 0) {
		fprintf(stderr, "tap:neigh=0: %s\n", err);
		CHECK(0);
		return;
	}
	struct sfh_runner *r = sfh_runner_new(err, sizeof err);
	const char *seeds[] = {"corpus/seeds/01-passive-open.scn",
			       "corpus/seeds/02-active-open.scn"};
	for (uint32_t i = 0; r && i < 2; i++) {
		struct sfh_scenario s;
		struct sfh_result res;
		struct sfh_run_opts o = {.case_no = i};
		CHECK_EQ(sfh_scn_load(seeds[i], &s, err, sizeof err), 0);
		CHECK_EQ(sfh_run(r, t, &s, &o, &res), 0);
		CHECK_EQ(res.verdict.kind, SFO_DIV_OK);
	}
	sfh_runner_free(r);
	sfh_target_close(t);
}

/* Is a process with exactly this command line alive? */
static int process_alive(const char *cmdline)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	int found = 0;
	while (d && (e = readdir(d)) != NULL && !found) {
		char path[300], buf[256];
		snprintf(path, sizeof path, "/proc/%s/cmdline", e->d_name);
		FILE *f = fopen(path, "r");
		if (!f)
			continue;
		size_t n = fread(buf, 1, sizeof buf - 1, f);
		fclose(f);
		for (size_t i = 0; i + 1 < n; i++)
			if (buf[i] == 0)
				buf[i] = ' ';
		buf[n] = 0;
		found = n > 0 && strcmp(buf, cmdline) == 0;
	}
	if (d)
		closedir(d);
	return found;
}

/* cmd=: the command's exit status is reported, and what it started dies with it. */
static void command_failures(void)
{
	char err[512];
	struct sfh_target *t = NULL;
	CHECK_EQ(sfh_target_open("tap:cmd=exit 4", &t, err, sizeof err), -1);
	CHECK(contains(err, "exited with status 4"));
	uint64_t t0 = now_ms();
	/* sleep is the shell's child, not synfin's */
	CHECK_EQ(sfh_target_open("tap:boot=300,cmd=sleep 31.5; true", &t, err, sizeof err), -1);
	CHECK(contains(err, "no reply within 300 ms"));
	CHECK(now_ms() - t0 < 1500);
	int alive = 1;
	for (int i = 0; i < 100 && alive; i++) {
		alive = process_alive("sleep 31.5");
		if (alive)
			usleep(10000);
	}
	CHECK(!alive);
}

static void bad_options(void)
{
	char err[512];
	struct sfh_target *t = NULL;
	CHECK_EQ(sfh_target_open("tap:bogus=1", &t, err, sizeof err), -1);
	CHECK(contains(err, "bad option 'bogus=1'"));
	CHECK_EQ(sfh_target_open("tap:timeout=x", &t, err, sizeof err), -1);
	CHECK(contains(err, "timeout=x"));
	CHECK_EQ(sfh_target_open("tap:agent=/nonexistent/synfin-agent", &t, err, sizeof err), -1);
	CHECK(contains(err, "/nonexistent/synfin-agent"));
	CHECK(t == NULL);
}

int main(int argc, char **argv)
{
	if (argc >= 3 && strcmp(argv[1], "--ctl") == 0)
		return fake_agent(getenv("TAP_FAKE") ? getenv("TAP_FAKE") : "");
	char err[256];
	const struct sfh_target_ops *ops = sfh_target_find("tap");
	if (!ops) {
		fprintf(stderr, "tap target not built\n");
		return 77;
	}
	if (ops->probe(err, sizeof err) != 0) {
		fprintf(stderr, "skipped: %s\n", err);
		return 77;
	}
	ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
	if (n <= 0)
		return 1;
	self[n] = 0;
	signal(SIGPIPE, SIG_IGN);

	bad_options();
	command_failures();
	/* open-time failures: the HELLO outstanding */
	fake_case("exit", "", 1, "HELLO", "exited with status 3", 1500);
	fake_case("garbage", "", 1, "garbage at offset 4", "HELLO", 1500);
	fake_case("mute", "boot=300", 1, "HELLO", "no reply within 300 ms", 1500);
	/* failures of the first RESET */
	fake_case("error", "", 0, "ERROR (code 5): the stack is broken", "RESET", 1500);
	fake_case("wrongreq", "", 0, "REPLY to another request where a REPLY to RESET", "garbage",
		  1500);
	fake_case("crash", "", 0, "killed by signal 6", "RESET", 1500);
	fake_case("hang", "timeout=200", 0, "no reply within 200 ms", "RESET", 1500);
	agent_killed_mid_run();
	arp_answered();
	seeds_match_linux();
	CHECK_EQ(if_nametoindex("synfin-tap0"), 0);
	return check_done();
}
