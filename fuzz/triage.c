/* Triage: findings and libFuzzer's crash files, grouped by signature.
 *
 * A finding directory carries its signature in report.json. A libFuzzer artifact
 * (crash-*, timeout-*, oom-*, leak-*, slow-unit-*) is only bytes: it is decoded and run
 * in a child process (sfh_run_isolated), so a crashing in-process stack yields a CRASH
 * verdict instead of taking triage down. Such a verdict knows no state or event; the
 * step the stack died in is found from the child's trace and replayed on the model, so
 * that two different crashes do not share one signature.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz_priv.h"

#define ARTIFACT_MAX (1u << 20)

static const char *const artifact_prefixes[] = {"crash-", "timeout-", "oom-", "leak-",
						"slow-unit-"};

static int is_artifact(const char *name)
{
	for (size_t i = 0; i < sizeof artifact_prefixes / sizeof artifact_prefixes[0]; i++)
		if (strncmp(name, artifact_prefixes[i], strlen(artifact_prefixes[i])) == 0)
			return 1;
	return 0;
}

void sff_runctx_dispose(struct sff_runctx *ctx)
{
	sfh_target_close(ctx->model);
	ctx->model = NULL;
}

/* ---- naming the step a crash happened in ---- */

struct chain {
	FILE *log;
	void (*next)(void *ctx, const char *line);
	void *next_ctx;
};

/* In the child: every trace line goes to the log, unbuffered, then on to the caller. */
static void chain_trace(void *ctx, const char *line)
{
	struct chain *c = ctx;
	fputs(line, c->log);
	fputc('\n', c->log);
	fflush(c->log);
	if (c->next)
		c->next(c->next_ctx, line);
}

/* How many steps the runner started, from its trace: a step's first line is a number
 * (the source line) then ">", "call " or "wait ". Returns the index of the last one
 * (0: the OPEN), or -1 if none. */
static int last_step(FILE *log)
{
	char line[600];
	int n = 0;
	rewind(log);
	while (fgets(line, sizeof line, log)) {
		char *p = line, *end;
		while (*p == ' ')
			p++;
		(void)strtol(p, &end, 10);
		if (end == p || *end != ' ')
			continue;
		n += strncmp(end, " >", 2) == 0 || strncmp(end, " call ", 6) == 0 ||
		     strncmp(end, " wait ", 6) == 0;
	}
	return n - 1;
}

struct step_probe {
	uint32_t want, n; /* judged step wanted (0: the OPEN), steps seen */
	int found;
	enum sfo_state before;
	enum sfo_evclass evclass;
};

static void probe_cover(void *ctx, const struct sfh_cover *c)
{
	struct step_probe *p = ctx;
	if (p->n++ == p->want) {
		p->found = 1;
		p->before = c->before;
		p->evclass = c->evclass;
	}
}

/* Replay the scenario up to judged step `step` on the model: the state before it and its
 * event class, as the oracle saw them in the run that crashed (every earlier step
 * conformed, or the run would have stopped there). */
static void name_step(struct sff_runctx *ctx, const struct sfh_scenario *s, int step,
		      struct sfh_result *res)
{
	char err[256];
	struct sfh_scenario pre = *s;
	struct sfh_result mres;
	struct step_probe p = {.want = (uint32_t)step};
	int k = -1; /* the event of that step; -1 for the OPEN */
	for (int seen = 0; seen < step && k + 1 < (int)s->nev; k++)
		seen += s->ev[k + 1].type != SFH_EV_OUT && s->ev[k + 1].type != SFH_EV_EXPECT_STATE;
	if (!ctx->model && sfh_target_open("model", &ctx->model, err, sizeof err) != 0)
		return;
	pre.nev = (uint32_t)(k + 1);
	struct sfh_run_opts o = {.profile = ctx->profile, .cover = probe_cover, .cover_ctx = &p};
	if (sfh_run(ctx->runner, ctx->model, &pre, &o, &mres) != 0 || !p.found)
		return;
	res->verdict.before = p.before;
	res->verdict.evclass = p.evclass;
	res->div_event = k;
	res->div_line = k >= 0 ? s->ev[k].line : 0;
	res->sig_hash = sfh_signature(ctx->target->ops->name, &res->verdict, res->signature,
				      sizeof res->signature);
}

int sff_run_isolated_sig(struct sff_runctx *ctx, const struct sfh_scenario *s,
			 const struct sfh_run_opts *o, struct sfh_result *res)
{
	struct sfh_run_opts oo = *o;
	struct chain ch = {.log = tmpfile(), .next = o->trace, .next_ctx = o->trace_ctx};
	if (ch.log) {
		oo.trace = chain_trace;
		oo.trace_ctx = &ch;
	}
	int rc = sfh_run_isolated(ctx->runner, ctx->target, s, &oo,
				  ctx->timeout_s ? ctx->timeout_s : 10, res);
	if (rc == 0 && ch.log &&
	    (res->verdict.kind == SFO_DIV_CRASH || res->verdict.kind == SFO_DIV_HANG) &&
	    res->verdict.before == SFO_STATE_UNKNOWN) {
		int step = last_step(ch.log);
		if (step >= 0)
			name_step(ctx, s, step, res);
	}
	if (ch.log)
		fclose(ch.log);
	return rc;
}

int sff_run_artifact(struct sff_runctx *ctx, const uint8_t *data, size_t len,
		     struct sfh_scenario *s, struct sfh_result *res)
{
	struct sfh_run_opts o = {.profile = ctx->profile, .case_no = ctx->next_case++};
	sff_scn_from_input(data, len, s); /* as the fuzz core ran it */
	sff_scn_strip(s);
	uint32_t caps = ctx->target->ops->caps;
	if (s->role == SFH_ROLE_ACTIVE && !(caps & SFH_CAP_ACTIVE))
		s->role = SFH_ROLE_PASSIVE;
	else if (s->role == SFH_ROLE_PASSIVE && !(caps & SFH_CAP_PASSIVE))
		s->role = SFH_ROLE_ACTIVE;
	/* Waits as the fuzz core fitted them (core.c). */
	if (!ctx->max_wait_ms && (caps & SFH_CAP_VTIME))
		ctx->max_wait_ms = SFF_MAX_VWAIT_MS;
	for (uint32_t i = 0; ctx->max_wait_ms && i < s->nev; i++)
		if (s->ev[i].type == SFH_EV_WAIT && s->ev[i].u.wait_ms > ctx->max_wait_ms)
			s->ev[i].u.wait_ms = ctx->max_wait_ms;
	return sff_run_isolated_sig(ctx, s, &o, res);
}

/* ---- groups ---- */

static struct sff_group *group_for(struct sff_triage *tr, const char *sig)
{
	for (size_t i = 0; i < tr->n; i++)
		if (strcmp(tr->g[i].signature, sig) == 0)
			return &tr->g[i];
	if (tr->n == tr->cap) {
		size_t cap = tr->cap ? tr->cap * 2 : 16;
		struct sff_group *g = realloc(tr->g, cap * sizeof *g);
		if (!g)
			return NULL;
		tr->g = g;
		tr->cap = cap;
	}
	struct sff_group *g = &tr->g[tr->n++];
	memset(g, 0, sizeof *g);
	snprintf(g->signature, sizeof g->signature, "%s", sig);
	return g;
}

static int add(struct sff_triage *tr, const char *sig, const char *rule, const char *sev,
	       const char *kind, const char *path, int crash_file, int flaky)
{
	struct sff_group *g = group_for(tr, sig);
	if (!g)
		return -1;
	if (g->count == 0 || (!crash_file && g->crash_files == g->count)) {
		/* A finding directory is the better example than a raw crash file. */
		snprintf(g->rule, sizeof g->rule, "%s", rule);
		snprintf(g->severity, sizeof g->severity, "%s", sev);
		snprintf(g->kind, sizeof g->kind, "%s", kind);
		snprintf(g->example, sizeof g->example, "%s", path);
	}
	g->count++;
	g->crash_files += (unsigned)crash_file;
	g->flaky += (unsigned)flaky;
	return 0;
}

/* The string value of "key" in our own report.json (written by finding.c). */
static int json_get(const char *json, const char *key, char *out, size_t cap)
{
	char pat[80];
	snprintf(pat, sizeof pat, "\"%s\": \"", key);
	const char *p = strstr(json, pat);
	size_t n = 0;
	if (!p || cap == 0)
		return -1;
	for (p += strlen(pat); *p && *p != '"'; p++) {
		if (*p == '\\' && p[1])
			p++;
		if (n + 1 < cap)
			out[n++] = *p;
	}
	out[n] = 0;
	return 0;
}

static int add_finding_dir(struct sff_triage *tr, const char *dir)
{
	char path[4200], sig[160], rule[64], sev[16], kind[32];
	size_t len;
	snprintf(path, sizeof path, "%s/report.json", dir);
	char *json = (char *)sff_read_file(path, &len, 1u << 20);
	if (!json)
		return 1; /* not a finding directory */
	int ok = json_get(json, "signature", sig, sizeof sig) == 0;
	if (json_get(json, "rule", rule, sizeof rule) != 0)
		snprintf(rule, sizeof rule, "?");
	if (json_get(json, "severity", sev, sizeof sev) != 0)
		snprintf(sev, sizeof sev, "?");
	if (json_get(json, "kind", kind, sizeof kind) != 0)
		snprintf(kind, sizeof kind, "?");
	int flaky = strstr(json, "\"flaky\": true") != NULL;
	free(json);
	if (!ok)
		return 1;
	return add(tr, sig, rule, sev, kind, dir, 0, flaky);
}

static int add_artifact(struct sff_triage *tr, const char *path, struct sff_runctx *ctx,
			const char *dir, const char *target_spec, int record, char *err,
			size_t errlen)
{
	size_t len;
	uint8_t *data = sff_read_file(path, &len, ARTIFACT_MAX);
	struct sfh_scenario s;
	struct sfh_result res;
	int rc = 0;
	if (!data)
		return 0; /* vanished or unreadable: nothing to group */
	if (!ctx) {
		tr->unknown++;
		rc = add(tr, "(unknown: no --target to re-run it)", "?", "?", "?", path, 1, 0);
		goto exit;
	}
	if (sff_run_artifact(ctx, data, len, &s, &res) != 0) {
		tr->unknown++;
		rc = add(tr, "(unknown: the re-run failed)", "?", "?", "?", path, 1, 0);
		goto exit;
	}
	const struct sfo_rule_info *ri = sfo_rule(res.verdict.rule);
	const char *sig = res.verdict.kind == SFO_DIV_OK ? "(no divergence on re-run)"
			  : res.verdict.accepted	 ? "(accepted by the profile on re-run)"
							 : res.signature;
	rc = add(tr, sig,
		 res.verdict.kind == SFO_DIV_OK ? "-"
		 : ri				? ri->id
						: "stack",
		 res.verdict.kind == SFO_DIV_OK ? "-" : sfo_severity_name(res.verdict.sev),
		 sfo_div_kind_name(res.verdict.kind), path, 1, 0);
	if (rc == 0 && record && res.verdict.kind != SFO_DIV_OK && !res.verdict.accepted) {
		const char *base = strrchr(path, '/');
		char origin[600];
		snprintf(origin, sizeof origin, "libFuzzer artifact %s", base ? base + 1 : path);
		struct sff_finding_info fi = {.out_dir = dir,
					      .target_spec = target_spec,
					      .origin = origin,
					      .input = data,
					      .input_len = len,
					      .orig_events = s.nev};
		int iso = ctx->isolate;
		ctx->isolate = 1;
		if (!sff_finding_exists(dir, res.sig_hash)) {
			sff_minimize(ctx, &s, res.sig_hash, 300);
			if (sff_finding_write(&fi, ctx, &s, &res, err, errlen) == SFF_FINDING_ERR)
				rc = -1;
		}
		ctx->isolate = iso;
	}
exit:
	free(data);
	return rc;
}

int sff_triage_scan(struct sff_triage *tr, int ndirs, char **dirs, struct sff_runctx *ctx,
		    const char *target_spec, int record, char *err, size_t errlen)
{
	for (int i = 0; i < ndirs; i++) {
		struct stat st;
		if (stat(dirs[i], &st) != 0) {
			snprintf(err, errlen, "%s: %s", dirs[i], strerror(errno));
			return -1;
		}
		if (!S_ISDIR(st.st_mode)) {
			snprintf(err, errlen, "%s: not a directory", dirs[i]);
			return -1;
		}
		int self = add_finding_dir(tr, dirs[i]);
		if (self < 0) {
			snprintf(err, errlen, "out of memory");
			return -1;
		}
		if (self == 0)
			continue; /* the argument is itself a finding directory */
		DIR *d = opendir(dirs[i]);
		if (!d) {
			snprintf(err, errlen, "%s: %s", dirs[i], strerror(errno));
			return -1;
		}
		struct dirent *e;
		/* Sorted, so the table and the examples are the same on every run. */
		char **names = NULL;
		size_t n = 0, cap = 0;
		while ((e = readdir(d)) != NULL) {
			if (e->d_name[0] == '.')
				continue;
			if (n == cap) {
				cap = cap ? cap * 2 : 64;
				char **p = realloc(names, cap * sizeof *p);
				if (!p)
					break;
				names = p;
			}
			if ((names[n] = strdup(e->d_name)) != NULL)
				n++;
		}
		closedir(d);
		for (size_t a = 1; a < n; a++)
			for (size_t b = a; b > 0 && strcmp(names[b - 1], names[b]) > 0; b--) {
				char *t = names[b];
				names[b] = names[b - 1];
				names[b - 1] = t;
			}
		int rc = 0;
		for (size_t k = 0; k < n && rc == 0; k++) {
			char path[4200];
			snprintf(path, sizeof path, "%s/%s", dirs[i], names[k]);
			if (stat(path, &st) != 0)
				continue;
			if (S_ISDIR(st.st_mode))
				rc = add_finding_dir(tr, path) < 0 ? -1 : 0;
			else if (S_ISREG(st.st_mode) && is_artifact(names[k]))
				rc = add_artifact(tr, path, ctx, dirs[i], target_spec, record, err,
						  errlen);
		}
		for (size_t k = 0; k < n; k++)
			free(names[k]);
		free(names);
		if (rc != 0) {
			if (!err[0])
				snprintf(err, errlen, "out of memory");
			return -1;
		}
	}
	return 0;
}

static int cmp_group(const void *a, const void *b)
{
	const struct sff_group *x = a, *y = b;
	if (x->count != y->count)
		return x->count > y->count ? -1 : 1;
	return strcmp(x->signature, y->signature);
}

void sff_triage_sort(struct sff_triage *tr)
{
	if (tr->n > 1)
		qsort(tr->g, tr->n, sizeof tr->g[0], cmp_group);
}

void sff_triage_free(struct sff_triage *tr)
{
	free(tr->g);
	memset(tr, 0, sizeof *tr);
}
