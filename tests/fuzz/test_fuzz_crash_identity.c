/* Crash identity: a crash is named by its site, not by the step it happened in.
 *
 * 1. Four lwIP assertions of the regression corpus, run isolated (a child killed by
 *    SIGABRT): each gets its assertion's file:line and message as site, in the signature
 *    and in the report (run --json); two different assertions never share a signature,
 *    and the same assertion reached from two scenarios (two states) shares one.
 * 2. The same through in-process recovery (fuzz workers): the same signatures.
 * 3. A signal: libslirp 4.7.0's SIGSEGV gets a symbolized faulting frame in its module.
 * 4. A crash finding's own `#! expect` line replays (synfin replay), the old form without
 *    a site too, and a wrong site fails.
 * 5. The printed assertion line is parsed (file, line, message with quotes).
 * 6. `synfin explain` knows every rule id a report can name: the rule table, the
 *    pseudo-rules, the rule of crash and hang verdicts, every rule the harness names by
 *    string, and the verdict kinds. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "fuzz_priv.h"
#include "report.h"
#include "sh.h"

struct want {
	const char *path, *site, *what;
};

static const struct want lwip_crashes[] = {
    {"corpus/regress/lwip-mss-option-in-ack-then-send-aborts.scn", "tcp_out.c:486",
     "mss_local is too small"},
    {"corpus/regress/lwip-fin-at-rcvnxt-plus-2p31-aborts.scn", "tcp_in.c:1430", "insane offset!"},
    {"corpus/regress/lwip-zero-window-probe-acked-persist-aborts.scn", "tcp.c:1238",
     "tcp_slowtimr: persist ticking with empty send buffer"},
    {"corpus/regress/lwip-send-in-syn-sent-small-window-aborts.scn", "tcp_out.c:486",
     "mss_local is too small"},
};
#define NLWIP (sizeof lwip_crashes / sizeof lwip_crashes[0])

static char sigs[NLWIP][160];

static const struct sfo_profile *prof(const char *name)
{
	const struct sfo_profile *p = sfo_profile_find(name);
	return p ? p : sfo_profile_default();
}

static struct sfh_scenario load(const char *path)
{
	struct sfh_scenario s;
	char err[512];
	memset(&s, 0, sizeof s);
	CHECK_EQ(sfh_scn_load(path, &s, err, sizeof err), 0);
	return s;
}

/* The run --json record of res, in memory (malloc). */
static char *json_of(const struct sfh_result *res)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	if (!f)
		return NULL;
	sfh_report_json(f, "x.scn", "lwip", "v", "lwip", res);
	fclose(f);
	return buf;
}

static void check_lwip_site(const struct want *w, const struct sfh_result *res)
{
	char sig[200];
	snprintf(sig, sizeof sig, "lwip/crash/%s/%s", w->site, w->what);
	CHECK_EQ(res->verdict.kind, SFO_DIV_CRASH);
	CHECK_STR(res->crash.site, w->site);
	CHECK_STR(res->crash.what, w->what);
	CHECK_STR(res->signature, sig);
	CHECK(strstr(res->verdict.detail, w->what) != NULL);
	CHECK(strstr(res->crash.text, "Assertion \"") == res->crash.text);
}

static void lwip_isolated(struct sfh_runner *r, struct sfh_target *t)
{
	for (size_t k = 0; k < NLWIP; k++) {
		struct sfh_scenario s = load(lwip_crashes[k].path);
		struct sfh_run_opts o = {.profile = prof("lwip"), .case_no = 3};
		struct sfh_result res;
		CHECK_EQ(sfh_run_isolated(r, t, &s, &o, 20, &res), 0);
		check_lwip_site(&lwip_crashes[k], &res);
		snprintf(sigs[k], sizeof sigs[k], "%s", res.signature);
		/* the frames of the SIGABRT: lwIP's function below abort() */
		CHECK_EQ(res.crash.signo, 6);
		CHECK(strstr(res.crash.frames, "liblwip.so.0") != NULL);
		char *j = json_of(&res);
		char text[300];
		snprintf(text, sizeof text, "\"text\":\"Assertion \\\"%s\\\" failed at line",
			 lwip_crashes[k].what);
		CHECK(j && strstr(j, "\"rule\": \"stack\"") != NULL);
		CHECK(j && strstr(j, text) != NULL);
		CHECK(j && strstr(j, "\"backtrace\":[\"#0 ") != NULL);
		free(j);
		printf("isolated: %s -> %s\n", lwip_crashes[k].path, res.signature);
	}
	/* two assertions, two signatures; one assertion from two steps, one signature */
	CHECK(strcmp(sigs[0], sigs[1]) != 0);
	CHECK(strcmp(sigs[1], sigs[2]) != 0);
	CHECK_STR(sigs[0], sigs[3]);
}

static void lwip_inprocess(struct sfh_runner *r, struct sfh_target *t)
{
	char err[256];
	if (sff_recover_enable(t, err, sizeof err) != 0) {
		printf("in-process recovery not built here: %s\n", err);
		return;
	}
	for (int round = 0; round < 3; round++)
		for (size_t k = 0; k < NLWIP; k++) {
			struct sfh_scenario s = load(lwip_crashes[k].path);
			struct sfh_run_opts o = {.profile = prof("lwip"),
						 .case_no = 100u + (uint32_t)(round * 8 + k)};
			struct sfh_result res;
			CHECK_EQ(sff_run_recover(r, t, &s, &o, &res), SFF_RECOVERED);
			check_lwip_site(&lwip_crashes[k], &res);
			CHECK_STR(res.signature, sigs[k]);
		}
}

static void slirp_signal(struct sfh_runner *r)
{
	char err[256];
	struct sfh_target *t = NULL;
	if (sfh_target_open("slirp", &t, err, sizeof err) != 0) {
		printf("slirp not here: %s\n", err);
		return;
	}
	struct sfh_scenario s = load("corpus/regress/slirp-reass-last-fragment-crash.scn");
	struct sfh_run_opts o = {.profile = prof("slirp")};
	struct sfh_result res;
	CHECK_EQ(sfh_run_isolated(r, t, &s, &o, 20, &res), 0);
	CHECK_EQ(res.verdict.kind, SFO_DIV_CRASH);
	CHECK_EQ(res.crash.signo, 11);
	CHECK_STR(res.crash.what, "SIGSEGV");
	CHECK(strncmp(res.crash.site, "libslirp.so.0", 13) == 0);
	CHECK(strncmp(res.crash.frames, "#0 libslirp.so.0", 16) == 0);
	CHECK(strncmp(res.signature, "slirp/crash/libslirp.so.0", 25) == 0);
	CHECK(strstr(res.signature, "/SIGSEGV") != NULL);
	printf("signal: %s\n%s", res.signature, res.crash.frames);
	sfh_target_close(t);
}

/* The parse of a printed assertion line: quotes inside the message, a path, no sink. */
static void note_parse(void)
{
	struct sfh_crash c;
	sfh_crash_clear(&c);
	sfh_crash_sink(NULL);
	sfh_crash_note_output("Assertion \"x\" failed at line 1 in a.c\n"); /* no sink: dropped */
	struct sfh_crash *old = sfh_crash_sink(&c);
	CHECK(old == NULL);
	sfh_crash_note_output("tcp_receive: hello\n");
	CHECK_EQ(c.line, 0);
	sfh_crash_note_output("Assertion \"a \"q\" b\" failed at line 12 in ./src/core/x/y.c\n");
	CHECK_EQ(c.line, 12);
	CHECK_STR(c.file, "y.c");
	CHECK_STR(c.message, "a \"q\" b");
	CHECK_STR(c.text, "Assertion \"a \"q\" b\" failed at line 12 in ./src/core/x/y.c");
	sfh_crash_note_output("Assertion \"later\" failed at line 9 in z.c\n"); /* first wins */
	CHECK_EQ(c.line, 12);
	sfh_crash_finish(&c);
	CHECK_STR(c.site, "y.c:12");
	CHECK_STR(c.what, "a \"q\" b");
	sfh_crash_clear(&c);
	sfh_crash_note_output("Assertion \"m\" failed at line x in z.c\n"); /* no number */
	CHECK_EQ(c.line, 0);
	sfh_crash_finish(&c);
	CHECK_STR(c.site, ""); /* nothing known: the crash is named by its step */
	sfh_crash_sink(NULL);
}

/* ---- expectation lines ---- */

static int met(struct sfh_runner *r, struct sfh_target *t, const char *path, const char *line,
	       const char *scn_from)
{
	char err[512];
	FILE *f = fopen(path, "w"), *in = fopen(scn_from, "r");
	char buf[512];
	if (!f || !in)
		return -1;
	fprintf(f, "%s\n", line);
	while (fgets(buf, sizeof buf, in))
		if (strncmp(buf, "#!", 2) != 0)
			fputs(buf, f);
	fclose(in);
	fclose(f);
	struct sfh_expectation x;
	if (sfh_expectation_read(path, "lwip", &x, err, sizeof err) != 0)
		return -1;
	struct sfh_scenario s = load(path);
	struct sfh_run_opts o = {.profile = prof("lwip")};
	struct sfh_result res;
	if (sfh_run_isolated(r, t, &s, &o, 20, &res) != 0)
		return -1;
	return sfh_expectation_met(&x, &res);
}

static void expectations(struct sfh_runner *r, struct sfh_target *t, const char *tmp)
{
	char path[600], err[256];
	const char *mss = lwip_crashes[0].path;
	snprintf(path, sizeof path, "%s/x.scn", tmp);
	CHECK_EQ(met(r, t, path, "#! expect lwip divergence stack crash", mss), 1);
	CHECK_EQ(met(r, t, path, "#! expect lwip divergence * crash", mss), 1);
	CHECK_EQ(met(r, t, path, "#! expect lwip divergence stack crash tcp_out.c:486", mss), 1);
	CHECK_EQ(met(r, t, path, "#! expect lwip divergence stack crash \"tcp_out.c:486\"", mss),
		 1);
	CHECK_EQ(met(r, t, path, "#! expect lwip divergence stack crash tcp_out.c", mss), 1);
	CHECK_EQ(met(r, t, path, "#! expect lwip divergence stack crash tcp_out.c:48", mss), 0);
	CHECK_EQ(met(r, t, path, "#! expect lwip divergence stack crash tcp_in.c:1430", mss), 0);
	CHECK_EQ(met(r, t, path, "#! expect lwip divergence listen.syn crash tcp_out.c:486", mss),
		 0);
	/* a site on a kind other than crash is malformed */
	FILE *f = fopen(path, "w");
	if (f) {
		fputs("#! expect lwip divergence listen.syn state tcp_out.c:486\nrole passive\n",
		      f);
		fclose(f);
	}
	struct sfh_expectation x;
	CHECK_EQ(sfh_expectation_read(path, "lwip", &x, err, sizeof err), -1);
	unlink(path);
}

/* A finding written for a crash replays to its own expectation (synfin replay). */
static void finding_replays(struct sfh_runner *r, struct sfh_target *t, const char *tmp)
{
	char out[600], buf[8192], err[512];
	const char *bin = getenv("SYNFIN_BIN");
	snprintf(out, sizeof out, "%s/findings", tmp);
	CHECK_EQ(sff_mkdirs(out), 0);
	struct sff_runctx ctx = {.runner = r,
				 .target = t,
				 .profile = prof("lwip"),
				 .isolate = 1,
				 .timeout_s = 20,
				 .next_case = 77};
	for (size_t k = 0; k < 3; k++) {
		struct sfh_scenario s = load(lwip_crashes[k].path);
		struct sfh_result first;
		struct sfh_run_opts o = {.profile = prof("lwip")};
		CHECK_EQ(sff_run_isolated_sig(&ctx, &s, &o, &first), 0);
		struct sff_finding_info fi = {
		    .out_dir = out, .target_spec = "lwip", .origin = "test", .orig_events = s.nev};
		CHECK_EQ(sff_finding_write(&fi, &ctx, &s, &first, err, sizeof err),
			 SFF_FINDING_NEW);
		char dir[17], path[800], *text;
		size_t len;
		sff_sig_dirname(first.sig_hash, dir);
		snprintf(path, sizeof path, "%s/%s/scenario.scn", out, dir);
		text = (char *)sff_read_file(path, &len, 1u << 20);
		char line[200];
		snprintf(line, sizeof line, "#! expect lwip divergence stack crash %s\n",
			 lwip_crashes[k].site);
		CHECK(text && strstr(text, line) != NULL);
		free(text);
		snprintf(path, sizeof path, "%s/%s/report.txt", out, dir);
		text = (char *)sff_read_file(path, &len, 1u << 20);
		CHECK(text && strstr(text, "assertion: Assertion \"") != NULL);
		CHECK(text && strstr(text, "backtrace: #0 ") != NULL);
		free(text);
		snprintf(path, sizeof path, "%s/%s/report.json", out, dir);
		text = (char *)sff_read_file(path, &len, 1u << 20);
		CHECK(text && strstr(text, "\"rule\": \"stack\"") != NULL);
		CHECK(text && strstr(text, lwip_crashes[k].what) != NULL);
		CHECK(text && strstr(text, "\"backtrace\":[") != NULL);
		free(text);
	}
	sff_runctx_dispose(&ctx);
	if (!bin) {
		printf("SYNFIN_BIN not set: replay through the command skipped\n");
		return;
	}
	int rc = sh(buf, sizeof buf, "%s replay %s --target lwip", bin, out);
	CHECK_EQ(rc, 0);
	CHECK(strstr(buf, "3 passed, 0 failed") != NULL);
	if (rc != 0)
		fputs(buf, stderr);
	sh(buf, sizeof buf, "rm -rf %s", out);
}

/* ---- explain ---- */

static void explain_knows(const char *bin, const char *id)
{
	char buf[4096];
	int rc = sh(buf, sizeof buf, "%s explain '%s'", bin, id);
	CHECK_EQ(rc, 0);
	if (rc != 0)
		fprintf(stderr, "synfin explain %s: %s", id, buf);
	CHECK(strstr(buf, id) != NULL);
}

/* Every string the harness and fuzz sources name a rule by (sfo_rule_find("...")). */
static void rules_named_in_sources(const char *bin, const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	if (!d) {
		CHECK(d != NULL);
		return;
	}
	while ((e = readdir(d)) != NULL) {
		size_t n = strlen(e->d_name), len;
		char path[600];
		if (n < 3 || strcmp(e->d_name + n - 2, ".c") != 0)
			continue;
		snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
		char *text = (char *)sff_read_file(path, &len, 1u << 22);
		for (char *p = text; p && (p = strstr(p, "sfo_rule_find(\"")) != NULL;) {
			p += strlen("sfo_rule_find(\"");
			char id[64];
			size_t k = strcspn(p, "\"");
			snprintf(id, sizeof id, "%.*s", (int)k, p);
			CHECK(sfo_rule_find_any(id) >= 0);
			explain_knows(bin, id);
		}
		free(text);
	}
	closedir(d);
}

static void explain_every_rule(void)
{
	const char *bin = getenv("SYNFIN_BIN");
	if (!bin) {
		printf("SYNFIN_BIN not set: explain skipped\n");
		return;
	}
	size_t n = sfo_rule_count() + sfo_pseudo_rule_count();
	for (size_t i = 0; i < n; i++) {
		const struct sfo_rule_info *ri = sfo_rule_any((sfo_rule_t)i);
		CHECK(ri != NULL);
		if (ri)
			explain_knows(bin, ri->id);
	}
	CHECK(sfo_rule_any((sfo_rule_t)n) == NULL);
	/* the rule crash and hang verdicts carry */
	struct sfh_progress p = {.event = -1};
	struct sfh_result res;
	for (int kind = SFO_DIV_CRASH; kind <= SFO_DIV_HANG; kind++) {
		sfh_crash_result("lwip", &p, (enum sfo_div_kind)kind, "x", NULL, &res);
		const struct sfo_rule_info *ri = sfo_rule_any(res.verdict.rule);
		CHECK(ri != NULL);
		if (ri)
			explain_knows(bin, ri->id);
		char *j = json_of(&res);
		CHECK(j && strstr(j, "\"rule\": \"?\"") == NULL);
		free(j);
	}
	for (int k = 0; k < SFO_NDIV_KINDS; k++)
		explain_knows(bin, sfo_div_kind_name((enum sfo_div_kind)k));
	const char *src = getenv("SYNFIN_SRC");
	char dir[600];
	const char *areas[] = {"harness", "fuzz", "oracle"};
	for (size_t i = 0; i < 3; i++) {
		snprintf(dir, sizeof dir, "%s/%s", src ? src : ".", areas[i]);
		rules_named_in_sources(bin, dir);
	}
	char buf[512];
	CHECK(sh(buf, sizeof buf, "%s explain no.such.rule", bin) != 0);
}

int main(void)
{
	char err[512], tmp[] = "/tmp/synfin-crashid-XXXXXX";
	struct sfh_target *t = NULL;
	setvbuf(stdout, NULL, _IOLBF, 0);
	note_parse();
	explain_every_rule();
	struct sfh_runner *r = sfh_runner_new(err, sizeof err);
	CHECK(r != NULL);
	if (!r || sfh_target_open("lwip", &t, err, sizeof err) != 0) {
		printf("lwip not here: %s\n", err);
		sfh_runner_free(r);
		return check_done();
	}
	CHECK(mkdtemp(tmp) != NULL);
	lwip_isolated(r, t);
	expectations(r, t, tmp);
	finding_replays(r, t, tmp);
	slirp_signal(r);
	lwip_inprocess(r, t);
	sfh_target_close(t);
	sfh_runner_free(r);
	rmdir(tmp);
	return check_done();
}
