/* Every finding a campaign writes replays, in a fresh process, to its own signature.
 *
 * A short campaign with a fixed seed (`synfin fuzz -- -runs=N -seed=1`) on lwip and on a
 * seeded fault of the model; then each finding's scenario.scn is run alone by a new
 * `synfin run --json` process, and the signature it prints must be the one in the
 * finding's report.json, for at least 99 % of the findings (the aim is all of them; the
 * test prints each that misses). Every report carries its measured "repro_rate", and a
 * finding written at all was seen at least once in its fresh re-runs. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "fuzz_priv.h"
#include "sh.h"

static const char *bin;

/* The string value of "key" in a JSON text (the first occurrence), into out. */
static int json_str(const char *json, const char *key, char *out, size_t cap)
{
	char pat[64];
	snprintf(pat, sizeof pat, "\"%s\"", key);
	const char *p = strstr(json, pat);
	if (!p)
		return -1;
	p += strlen(pat);
	while (*p == ' ' || *p == ':')
		p++;
	if (*p != '"')
		return -1;
	p++;
	size_t n = 0;
	while (*p && *p != '"' && n + 1 < cap)
		out[n++] = *p++;
	out[n] = 0;
	return 0;
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return NULL;
	char *buf = calloc(1, 1 << 20);
	size_t n = buf ? fread(buf, 1, (1 << 20) - 1, f) : 0;
	(void)n;
	fclose(f);
	return buf;
}

static void campaign(const char *target, unsigned runs, unsigned min_findings)
{
	char dir[] = "/tmp/synfin-repro.XXXXXX", out[8192], path[4400], json[4400];
	CHECK(mkdtemp(dir) != NULL);
	int rc = sh(out, sizeof out, "'%s' fuzz --target '%s' --out '%s' -- -runs=%u -seed=1", bin,
		    target, dir, runs);
	CHECK(rc == 0 || rc == 1);
	DIR *d = opendir(dir);
	CHECK(d != NULL);
	unsigned n = 0, same = 0;
	for (struct dirent *e; d && (e = readdir(d));) {
		if (e->d_name[0] == '.')
			continue;
		char want[200], got[200] = "conformant", rate[32];
		snprintf(path, sizeof path, "%s/%s/report.json", dir, e->d_name);
		char *rep = slurp(path);
		if (!rep)
			continue; /* a crash file, not a finding directory */
		CHECK_EQ(json_str(rep, "signature", want, sizeof want), 0);
		CHECK_EQ(json_str(rep, "repro_rate", rate, sizeof rate), 0);
		CHECK(rate[0] && rate[0] != '0'); /* "0/10" is never written */
		free(rep);
		snprintf(json, sizeof json, "%s/%s.run.json", dir, e->d_name);
		sh(out, sizeof out, "'%s' run '%s/%s/scenario.scn' --target '%s' -q --json '%s'",
		   bin, dir, e->d_name, target, json);
		char *res = slurp(json);
		if (res && strstr(res, "\"signature\""))
			json_str(res, "signature", got, sizeof got);
		free(res);
		unlink(json);
		n++;
		if (strcmp(want, got) == 0)
			same++;
		else
			fprintf(stderr, "%s: %s/%s: found as %s, replays as %s\n", target, dir,
				e->d_name, want, got);
	}
	if (d)
		closedir(d);
	printf("%s: %u findings, %u replay to their signature in a fresh process\n", target, n,
	       same);
	CHECK(n >= min_findings);
	CHECK(same * 100 >= n * 99);
	if (check_failures == 0)
		sh(out, sizeof out, "rm -rf '%s'", dir);
}

/* sff_finding_write itself: a finding whose text shows its signature is written with
 * "repro_rate": "2/2"; one whose text never shows the signature it claims (here: a
 * result naming another signature) is measured over 10 runs and not written. */
static void finding_write_measures(void)
{
	static const char *const fault = "model:fault=rst-out-of-window";
	char err[512], dir[] = "/tmp/synfin-repro-w.XXXXXX", path[4400], hash[17], out[256];
	struct sff_runctx ctx = {.next_case = 5};
	struct sfh_scenario s;
	struct sfh_result res;
	CHECK(mkdtemp(dir) != NULL);
	CHECK_EQ(sfh_target_open(fault, &ctx.target, err, sizeof err), 0);
	ctx.runner = sfh_runner_new(err, sizeof err);
	CHECK_EQ(sfh_scn_load("corpus/seeds/21-rst-out-of-window.scn", &s, err, sizeof err), 0);
	sff_scn_strip(&s);
	if (!ctx.target || !ctx.runner)
		return;
	CHECK_EQ(sff_run_once(&ctx, &s, &res), 0);
	CHECK(res.verdict.kind != SFO_DIV_OK);
	struct sff_finding_info fi = {.out_dir = dir, .target_spec = fault, .orig_events = s.nev};
	CHECK_EQ(sff_finding_write(&fi, &ctx, &s, &res, err, sizeof err), SFF_FINDING_NEW);
	sff_sig_dirname(res.sig_hash, hash);
	snprintf(path, sizeof path, "%s/%s/report.json", dir, hash);
	char *rep = slurp(path);
	CHECK(rep && json_str(rep, "repro_rate", out, sizeof out) == 0);
	CHECK_STR(out, "2/2");
	free(rep);

	struct sfh_result fake = res;
	fake.sig_hash ^= 1; /* a signature this scenario never shows */
	snprintf(fake.signature, sizeof fake.signature, "model/LISTEN/syn/none/none");
	uint32_t before = ctx.next_case;
	CHECK_EQ(sff_finding_write(&fi, &ctx, &s, &fake, err, sizeof err), SFF_FINDING_UNREPRO);
	CHECK(ctx.next_case - before >= 9); /* case b, then 8 more: 10 runs in all */
	CHECK(!sff_finding_exists(dir, fake.sig_hash));
	sfh_runner_free(ctx.runner);
	sfh_target_close(ctx.target);
	sff_runctx_dispose(&ctx);
	sh(out, sizeof out, "rm -rf '%s'", dir);
}

int main(void)
{
	finding_write_measures();
	bin = getenv("SYNFIN_BIN");
	if (!bin || access(bin, X_OK) != 0) {
		printf("SYNFIN_BIN not set: the campaigns are skipped\n");
		return check_failures ? check_done() : 77;
	}
	campaign("lwip", 12000, 40);
	campaign("model:fault=rst-out-of-window", 4000, 3);
	campaign("model:fault=no-time-wait", 4000, 3);
	return check_done();
}
