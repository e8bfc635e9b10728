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

#include "cause.h"
#include "fuzz_priv.h"
#include "safeio.h"

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
	sfh_result_sign(ctx->target->ops->name, res); /* a known crash site still wins */
}

int sff_run_isolated_sig(struct sff_runctx *ctx, const struct sfh_scenario *s,
			 const struct sfh_run_opts *o, struct sfh_result *res)
{
	/* A stack outside our process (the kernel) cannot take us down, and its target keeps
	 * per-case state (ports, sockets) that a child's run would never hand back. */
	if (!(ctx->target->ops->caps & SFH_CAP_INPROC))
		return sff_run_inproc(ctx, s, o, res);
	struct sfh_run_opts oo = *o;
	struct chain ch = {.log = tmpfile(), .next = o->trace, .next_ctx = o->trace_ctx};
	if (ch.log) {
		oo.trace = chain_trace;
		oo.trace_ctx = &ch;
	}
	struct sff_sigsave sigs;
	sff_crash_signals_default(&sigs); /* the child dies by the signal (fuzz_priv.h) */
	int rc = sfh_run_isolated(ctx->runner, ctx->target, s, &oo,
				  ctx->timeout_s ? ctx->timeout_s : 10, res);
	sff_crash_signals_restore(&sigs);
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
	if (!(caps & SFH_CAP_IPV6)) /* as sff_scn_fit */
		s->ipv6 = 0;
	/* Waits as the fuzz core fitted them (core.c). */
	if (!ctx->max_wait_ms && (caps & SFH_CAP_VTIME))
		ctx->max_wait_ms = SFF_MAX_VWAIT_MS;
	for (uint32_t i = 0; ctx->max_wait_ms && i < s->nev; i++)
		if (s->ev[i].type == SFH_EV_WAIT && s->ev[i].u.wait_ms > ctx->max_wait_ms)
			s->ev[i].u.wait_ms = ctx->max_wait_ms;
	for (uint32_t i = 0; i < s->nev; i++) /* and SENDs (sff_scn_fit) */
		if (s->ev[i].type == SFH_EV_CALL && s->ev[i].u.call.call == SFO_CALL_SEND &&
		    s->ev[i].u.call.arg > SFF_MAX_SEND)
			s->ev[i].u.call.arg = SFF_MAX_SEND;
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

/* What one finding or crash file contributes to its signature group. */
struct entry {
	const char *sig, *rule, *sev, *kind, *path;
	const char *cause, *detail, *repro, *hash;
	unsigned events;
	int crash_file, flaky;
};

static int better_example(const struct sff_group *g, const struct entry *e)
{
	if (g->count == 0)
		return 1;
	if (e->crash_file != (g->crash_files == g->count))
		return !e->crash_file; /* a finding directory is the better example */
	/* the smallest scenario; 0 events means unknown */
	return e->events && (!g->events || e->events < g->events);
}

/* Every text of an entry comes from files in a scanned directory (report.json, names):
 * control characters are escaped once here, so no output of triage (terminal, JSON,
 * Markdown) carries an ANSI or OSC sequence someone planted (safeio.h). */
static int add(struct sff_triage *tr, const struct entry *in)
{
	char sig[160], rule[64], sev[16], kind[32], path[4096], cause[256], detail[400];
	char repro[24], hash[17];
	struct entry ent = *in, *e = &ent;
#define ESC_FIELD(f, buf)                                                                          \
	do {                                                                                       \
		if (e->f)                                                                          \
			e->f = sfh_io_term_escape(buf, sizeof buf, e->f);                          \
	} while (0)
	ESC_FIELD(sig, sig);
	ESC_FIELD(rule, rule);
	ESC_FIELD(sev, sev);
	ESC_FIELD(kind, kind);
	ESC_FIELD(path, path);
	ESC_FIELD(cause, cause);
	ESC_FIELD(detail, detail);
	ESC_FIELD(repro, repro);
	ESC_FIELD(hash, hash);
#undef ESC_FIELD
	struct sff_group *g = group_for(tr, e->sig);
	if (!g)
		return -1;
	if (better_example(g, e)) {
		snprintf(g->rule, sizeof g->rule, "%s", e->rule);
		snprintf(g->severity, sizeof g->severity, "%s", e->sev);
		snprintf(g->kind, sizeof g->kind, "%s", e->kind);
		snprintf(g->example, sizeof g->example, "%s", e->path);
		snprintf(g->cause, sizeof g->cause, "%s", e->cause ? e->cause : e->sig);
		snprintf(g->detail, sizeof g->detail, "%s", e->detail ? e->detail : "");
		snprintf(g->repro, sizeof g->repro, "%s", e->repro ? e->repro : "");
		snprintf(g->hash, sizeof g->hash, "%s", e->hash ? e->hash : "");
		g->events = e->events;
	}
	g->count++;
	g->crash_files += (unsigned)e->crash_file;
	g->flaky += (unsigned)e->flaky;
	return 0;
}

/* The string value of "key" in our own report.json (written by finding.c). */
static int json_get(const char *json, const char *key, char *out, size_t cap)
{
	char pat[80];
	snprintf(pat, sizeof pat, "\"%s\"", key);
	size_t n = 0;
	if (cap == 0)
		return -1;
	/* The first "key" used as a key ("key": "value", with or without spaces: the crash
	 * object is written compact), not as a value. */
	for (const char *p = strstr(json, pat); p; p = strstr(p + 1, pat)) {
		const char *q = p + strlen(pat);
		while (*q == ' ')
			q++;
		if (*q++ != ':')
			continue;
		while (*q == ' ')
			q++;
		if (*q++ != '"')
			continue;
		for (; *q && *q != '"'; q++) {
			if (*q == '\\' && q[1])
				q++;
			if (n + 1 < cap)
				out[n++] = *q;
		}
		out[n] = 0;
		return 0;
	}
	return -1;
}

static void json_get_or(const char *json, const char *key, char *out, size_t cap, const char *dflt)
{
	if (json_get(json, key, out, cap) != 0)
		snprintf(out, cap, "%s", dflt);
}

/* The fields of a finding's report.json that triage uses. */
struct report_fields {
	char sig[160], rule[64], sev[16], kind[32], target[128], before[32], evclass[32];
	char detail[400], site[200], repro[24], hash[17], cause[256], since[64], wnd[16], una[64];
	unsigned events;
};

int sff_triage_add_report(struct sff_triage *tr, const char *json, const char *dir)
{
	struct report_fields *r;
	if (!(r = calloc(1, sizeof *r)))
		return -1;
	int ok = json_get(json, "signature", r->sig, sizeof r->sig) == 0;
	json_get_or(json, "rule", r->rule, sizeof r->rule, "?");
	json_get_or(json, "severity", r->sev, sizeof r->sev, "?");
	json_get_or(json, "kind", r->kind, sizeof r->kind, "?");
	json_get_or(json, "target", r->target, sizeof r->target, "?");
	json_get_or(json, "state_before", r->before, sizeof r->before, "");
	json_get_or(json, "event_class", r->evclass, sizeof r->evclass, "");
	json_get_or(json, "detail", r->detail, sizeof r->detail, "");
	json_get_or(json, "site", r->site, sizeof r->site, ""); /* crash.site, if any */
	json_get_or(json, "repro_rate", r->repro, sizeof r->repro, "");
	json_get_or(json, "sig_hash", r->hash, sizeof r->hash, "");
	const char *since = strstr(json, "\"since\": {"); /* its rule, not the verdict's */
	json_get_or(since ? since : "", "rule", r->since, sizeof r->since, "");
	const char *wnd = strstr(json, "\"window\": {"); /* its how */
	json_get_or(wnd ? wnd : "", "how", r->wnd, sizeof r->wnd, "");
	const char *una = strstr(json, "\"una\": {"); /* its rule */
	json_get_or(una ? una : "", "rule", r->una, sizeof r->una, "");
	const char *ev = strstr(json, "\"events\": ");
	r->events = ev ? (unsigned)strtoul(ev + 10, NULL, 10) : 0;
	int flaky = strstr(json, "\"flaky\": true") != NULL;
	int noop = strstr(json, "\"noop\": true") != NULL;
	int silent = since && strstr(since, "\"silent\": true") != NULL;
	/* Computed, not read: reports written before the key existed group the same way. */
	struct sfh_cause_in in = {.target = r->target,
				  .kind = r->kind,
				  .state_before = r->before,
				  .event_class = r->evclass,
				  .detail = r->detail,
				  .crash_site = r->site,
				  .rule = r->rule,
				  .since_rule = r->since,
				  .since_silent = silent,
				  .noop = noop,
				  .wnd_how = r->wnd,
				  .una_rule = r->una};
	if (sfh_cause_key(&in, r->cause, sizeof r->cause) != 0)
		r->cause[sizeof r->cause - 1] = '\0';
	struct entry e = {.sig = r->sig,
			  .rule = r->rule,
			  .sev = r->sev,
			  .kind = r->kind,
			  .path = dir,
			  .cause = r->cause,
			  .detail = r->detail,
			  .repro = r->repro,
			  .hash = r->hash,
			  .events = r->events,
			  .flaky = flaky};
	int rc = ok ? add(tr, &e) : 1;
	free(r);
	return rc;
}

static int add_finding_dir(struct sff_triage *tr, const char *dir)
{
	char path[4200], err[64];
	size_t len;
	snprintf(path, sizeof path, "%s/report.json", dir);
	/* Found by scanning: a link is not followed, a FIFO not opened (safeio.h). */
	char *json =
	    (char *)sfh_io_read_all(path, SFH_IO_NOFOLLOW, 1u << 20, &len, NULL, err, sizeof err);
	if (!json)
		return 1; /* not a finding directory */
	int rc = sff_triage_add_report(tr, json, dir);
	free(json);
	return rc;
}

static int add_artifact(struct sff_triage *tr, const char *path, struct sff_runctx *ctx,
			const char *dir, const char *target_spec, int record, char *err,
			size_t errlen)
{
	size_t len;
	mode_t mode = 0;
	char rerr[64];
	/* Never through a link: a crash-* link to a private file would be copied into a
	 * readable input.bin. */
	uint8_t *data =
	    sfh_io_read_all(path, SFH_IO_NOFOLLOW, ARTIFACT_MAX, &len, &mode, rerr, sizeof rerr);
	struct sfh_scenario s;
	struct sfh_result res;
	int rc = 0;
	if (!data)
		return 0; /* vanished or unreadable: nothing to group */
	if (!ctx || sff_run_artifact(ctx, data, len, &s, &res) != 0) {
		tr->unknown++;
		struct entry e = {.sig = !ctx ? "(unknown: no --target to re-run it)"
					      : "(unknown: the re-run failed)",
				  .rule = "?",
				  .sev = "?",
				  .kind = "?",
				  .path = path,
				  .crash_file = 1};
		rc = add(tr, &e);
		goto exit;
	}
	const struct sfo_rule_info *ri = sfo_rule_any(res.verdict.rule);
	const char *sig = res.verdict.kind == SFO_DIV_OK ? "(no divergence on re-run)"
			  : res.verdict.accepted	 ? "(accepted by the profile on re-run)"
							 : res.signature;
	char cause[256], detail[sizeof res.verdict.detail + 64];
	int ok = res.verdict.kind == SFO_DIV_OK;
	sfh_report_cause(target_spec ? target_spec : ctx->target->ops->name, &res, cause,
			 sizeof cause);
	sfh_verdict_detail(&res.verdict, detail, sizeof detail);
	struct entry e = {.sig = sig,
			  .rule = ok   ? "-"
				  : ri ? ri->id
				       : "stack",
			  .sev = ok ? "-" : sfo_severity_name(res.verdict.sev),
			  .kind = sfo_div_kind_name(res.verdict.kind),
			  .path = path,
			  .cause = ok || res.verdict.accepted ? sig : cause,
			  .detail = detail,
			  .events = s.nev,
			  .crash_file = 1};
	rc = add(tr, &e);
	if (rc == 0 && record && res.verdict.kind != SFO_DIV_OK && !res.verdict.accepted) {
		const char *base = strrchr(path, '/');
		char origin[600];
		snprintf(origin, sizeof origin, "libFuzzer artifact %s", base ? base + 1 : path);
		struct sff_finding_info fi = {.out_dir = dir,
					      .target_spec = target_spec,
					      .origin = origin,
					      .input = data,
					      .input_len = len,
					      .input_mode = mode,
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
			/* lstat: links are skipped, never followed out of the scanned tree */
			if (lstat(path, &st) != 0)
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

/* ---- known behaviours: the regression corpus ---- */

/* Longest total wait of a pin run on a real-time target: pins are re-run by every
 * triage, and a scenario that waits minutes for a timer would make triage wait too. */
#define PIN_MAX_REAL_WAIT_MS 10000u

static int pin_add(struct sff_triage *tr, const char *file, const char *key,
		   const struct sfh_expectation *x)
{
	struct sff_pin *p = realloc(tr->pins, (tr->npins + 1) * sizeof *p);
	if (!p)
		return -1;
	tr->pins = p;
	p += tr->npins++;
	const char *base = strrchr(file, '/');
	snprintf(p->file, sizeof p->file, "%s", base ? base + 1 : file);
	snprintf(p->key, sizeof p->key, "%s", key);
	snprintf(p->rule, sizeof p->rule, "%s", x->rule);
	snprintf(p->kind, sizeof p->kind, "%s", x->kind);
	return 0;
}

static int pin_one(struct sff_triage *tr, struct sff_runctx *ctx, const char *target_spec,
		   const char *path)
{
	char err[512], key[256];
	struct sfh_expectation x;
	struct sfh_scenario *s = malloc(sizeof *s);
	struct sfh_result res;
	int rc = 0;
	if (!s)
		return -1;
	if (sfh_expectation_read(path, target_spec, &x, err, sizeof err) != 0 || !x.divergence ||
	    sfh_scn_load(path, s, err, sizeof err) != 0)
		goto exit; /* a malformed pin is replay's to report, not triage's */
	uint32_t caps = ctx->target->ops->caps, waited = 0;
	for (uint32_t i = 0; i < s->nev; i++)
		if (s->ev[i].type == SFH_EV_WAIT)
			waited += s->ev[i].u.wait_ms;
	if (!(caps & SFH_CAP_VTIME) && waited > PIN_MAX_REAL_WAIT_MS)
		goto exit;
	struct sfh_run_opts o = {.profile = ctx->profile, .case_no = ctx->next_case++};
	if (sff_run_isolated_sig(ctx, s, &o, &res) != 0 || !sfh_expectation_met(&x, &res))
		goto exit; /* the pin does not show its behaviour here: nothing to match */
	sfh_report_cause(target_spec, &res, key, sizeof key);
	rc = pin_add(tr, path, key, &x);
exit:
	free(s);
	return rc;
}

int sff_triage_pins(struct sff_triage *tr, struct sff_runctx *ctx, const char *target_spec,
		    const char *dir, char *err, size_t errlen)
{
	struct sfh_filelist fl = {0};
	char *args[1] = {(char *)dir};
	if (sfh_collect_scenarios(1, args, &fl, err, errlen) != 0)
		return -1;
	for (size_t i = 0; i < fl.n; i++)
		if (pin_one(tr, ctx, target_spec, fl.paths[i]) != 0) {
			snprintf(err, errlen, "out of memory");
			sfh_filelist_free(&fl);
			return -1;
		}
	sfh_filelist_free(&fl);
	return (int)tr->npins;
}

/* ---- the baseline ---- */

int sff_triage_baseline(struct sff_triage *tr, const char *path, char *err, size_t errlen)
{
	char line[600];
	int fd = sfh_io_open_read(path, SFH_IO_OWNED_LINKS, err, errlen);
	FILE *f = fd < 0 ? NULL : fdopen(fd, "r");
	if (!f) {
		if (fd >= 0) {
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
			close(fd);
		}
		return -1;
	}
	while (fgets(line, sizeof line, f)) {
		char *p = line, *end;
		line[strcspn(line, "#\r\n")] = '\0';
		while (*p == ' ' || *p == '\t')
			p++;
		end = p + strlen(p);
		while (end > p && (end[-1] == ' ' || end[-1] == '\t'))
			*--end = '\0';
		if (!*p)
			continue;
		char **b = realloc(tr->baseline, (tr->nbaseline + 1) * sizeof *b);
		if (!b || !(b[tr->nbaseline] = strdup(p))) {
			if (b)
				tr->baseline = b;
			fclose(f);
			snprintf(err, errlen, "out of memory");
			return -1;
		}
		tr->baseline = b;
		tr->nbaseline++;
	}
	fclose(f);
	return 0;
}

static int in_baseline(const struct sff_triage *tr, const char *s)
{
	for (size_t i = 0; s && *s && i < tr->nbaseline; i++)
		if (strcmp(tr->baseline[i], s) == 0)
			return 1;
	return 0;
}

/* ---- root causes ---- */

static int sev_rank(const char *sev)
{
	static const char *const order[] = {"MUST", "SHOULD", "MAY"};
	for (int i = 0; i < 3; i++)
		if (strcmp(sev, order[i]) == 0)
			return i;
	return 3;
}

/* A crash or hang of the stack comes first: whatever the rule, it is the harm a
 * maintainer acts on before any field difference. */
static int is_stack_failure(const struct sff_cause *c)
{
	return strstr(c->key, "/crash/") != NULL || strstr(c->key, "/hang/") != NULL;
}

static int cmp_cause(const void *a, const void *b)
{
	const struct sff_cause *x = a, *y = b;
	int fx = is_stack_failure(x), fy = is_stack_failure(y);
	if (fx != fy)
		return fx ? -1 : 1;
	int rx = sev_rank(x->severity), ry = sev_rank(y->severity);
	if (rx != ry)
		return rx < ry ? -1 : 1;
	if (x->findings != y->findings)
		return x->findings > y->findings ? -1 : 1;
	return strcmp(x->key, y->key);
}

int sff_triage_causes(struct sff_triage *tr)
{
	free(tr->c);
	tr->nc = 0;
	tr->c = calloc(tr->n ? tr->n : 1, sizeof *tr->c);
	if (!tr->c)
		return -1;
	for (size_t i = 0; i < tr->n; i++) {
		struct sff_group *g = &tr->g[i];
		size_t k = 0;
		while (k < tr->nc && strcmp(tr->c[k].key, g->cause) != 0)
			k++;
		struct sff_cause *c = &tr->c[k];
		if (k == tr->nc) {
			tr->nc++;
			snprintf(c->key, sizeof c->key, "%s", g->cause);
			snprintf(c->severity, sizeof c->severity, "%s", g->severity);
			snprintf(c->kind, sizeof c->kind, "%s", g->kind);
			c->baselined = 1; /* until a signature not in the baseline shows up */
		}
		if (sev_rank(g->severity) < sev_rank(c->severity))
			snprintf(c->severity, sizeof c->severity, "%s", g->severity);
		if (!c->example ||
		    (g->events && (!c->example->events || g->events < c->example->events)))
			c->example = g;
		c->findings += g->count;
		c->sigs++;
		c->flaky += g->flaky;
		g->baselined = in_baseline(tr, g->signature) || in_baseline(tr, g->hash);
		g->known = NULL;
		for (size_t p = 0; p < tr->npins && !g->known; p++) {
			const struct sff_pin *pin = &tr->pins[p];
			if (strcmp(pin->key, g->cause) == 0 && strcmp(pin->kind, g->kind) == 0 &&
			    (strcmp(pin->rule, "*") == 0 || strcmp(pin->rule, g->rule) == 0))
				g->known = pin->file;
		}
		c->baselined &= g->baselined;
		c->is_new |= !g->baselined && !g->known;
		if (g->known) {
			c->known_sigs++;
			if (!c->known[0])
				snprintf(c->known, sizeof c->known, "%s", g->known);
		}
	}
	for (size_t k = 0; k < tr->nc; k++) {
		struct sff_cause *c = &tr->c[k];
		if (in_baseline(tr, c->key)) {
			c->baselined = 1;
			c->is_new = 0;
		}
	}
	if (tr->nc > 1)
		qsort(tr->c, tr->nc, sizeof *tr->c, cmp_cause);
	return 0;
}

int sff_cause_is_new(const struct sff_cause *c)
{
	return c->is_new;
}

void sff_cause_rules(const struct sff_triage *tr, const struct sff_cause *c, char *buf, size_t cap)
{
	struct rule_count {
		const char *rule;
		unsigned n;
	} r[16];
	size_t nr = 0, k = 0;
	for (size_t i = 0; i < tr->n; i++) {
		if (strcmp(tr->g[i].cause, c->key) != 0)
			continue;
		size_t j = 0;
		while (j < nr && strcmp(r[j].rule, tr->g[i].rule) != 0)
			j++;
		if (j == nr && nr < sizeof r / sizeof r[0])
			r[nr++] = (struct rule_count){tr->g[i].rule, 0};
		if (j < nr)
			r[j].n += tr->g[i].count;
	}
	buf[0] = '\0';
	for (size_t i = 0; i < nr; i++) { /* most frequent first: n is small */
		size_t best = i;
		for (size_t j = i + 1; j < nr; j++)
			if (r[j].n > r[best].n)
				best = j;
		struct rule_count t = r[i];
		r[i] = r[best];
		r[best] = t;
		int w = snprintf(buf + k, cap > k ? cap - k : 0, "%s%s %u", i ? ", " : "",
				 r[i].rule, r[i].n);
		if (w < 0 || (size_t)w >= cap - k)
			break;
		k += (size_t)w;
	}
}

/* ---- the summary: JSON and Markdown ---- */

static unsigned count_new(const struct sff_triage *tr, unsigned *findings)
{
	unsigned n = 0;
	*findings = 0;
	for (size_t i = 0; i < tr->nc; i++)
		if (sff_cause_is_new(&tr->c[i])) {
			n++;
			*findings += tr->c[i].findings;
		}
	return n;
}

void sff_triage_json(FILE *f, const struct sff_triage *tr)
{
	unsigned nf = 0, total = 0, nnew = count_new(tr, &nf);
	char rules[400];
	for (size_t i = 0; i < tr->n; i++)
		total += tr->g[i].count;
	fprintf(f, "{\"schema\": %d, \"synfin_version\": ", SFH_REPORT_SCHEMA);
	sfh_json_str(f, sfh_version());
	fprintf(f,
		",\n \"findings\": %u, \"signatures\": %zu, \"groups\": %zu, \"new_groups\": %u,"
		" \"new_findings\": %u, \"unknown_crash_files\": %u,\n \"causes\": [",
		total, tr->n, tr->nc, nnew, nf, tr->unknown);
	for (size_t i = 0; i < tr->nc; i++) {
		const struct sff_cause *c = &tr->c[i];
		const struct sff_group *g = c->example;
		fputs(i ? ",\n  {\"group\": " : "\n  {\"group\": ", f);
		sfh_json_str(f, c->key);
		fputs(", \"severity\": ", f);
		sfh_json_str(f, c->severity);
		fputs(", \"kind\": ", f);
		sfh_json_str(f, c->kind);
		fprintf(f, ", \"findings\": %u, \"signatures\": %u, \"flaky\": %u", c->findings,
			c->sigs, c->flaky);
		fputs(", \"status\": ", f);
		sfh_json_str(f, c->is_new ? "new" : c->baselined ? "baselined" : "known");
		fputs(", \"known\": ", f);
		sfh_json_str(f, c->known);
		fprintf(f, ", \"known_signatures\": %u", c->known_sigs);
		sff_cause_rules(tr, c, rules, sizeof rules);
		fputs(", \"rules\": ", f);
		sfh_json_str(f, rules);
		fputs(",\n   \"example\": {\"path\": ", f);
		sfh_json_str(f, g->example);
		fputs(", \"signature\": ", f);
		sfh_json_str(f, g->signature);
		fprintf(f, ", \"events\": %u, \"repro_rate\": ", g->events);
		sfh_json_str(f, g->repro);
		fputs(", \"detail\": ", f);
		sfh_json_str(f, g->detail);
		fputs("}}", f);
	}
	fputs("],\n \"signature_list\": [", f);
	for (size_t i = 0; i < tr->n; i++) {
		const struct sff_group *g = &tr->g[i];
		fputs(i ? ",\n  {\"signature\": " : "\n  {\"signature\": ", f);
		sfh_json_str(f, g->signature);
		fputs(", \"group\": ", f);
		sfh_json_str(f, g->cause);
		fputs(", \"rule\": ", f);
		sfh_json_str(f, g->rule);
		fprintf(f, ", \"count\": %u, \"flaky\": %u, \"example\": ", g->count, g->flaky);
		sfh_json_str(f, g->example);
		fputc('}', f);
	}
	fputs("]}\n", f);
}

/* A Markdown table cell: '|' would end it. */
static void md_cell(FILE *f, const char *s)
{
	for (; *s; s++)
		fputs(*s == '|' ? "\\|" : (char[2]){*s, 0}, f);
}

void sff_triage_markdown(FILE *f, const struct sff_triage *tr)
{
	unsigned nf = 0, total = 0, nnew = count_new(tr, &nf);
	char rules[400];
	for (size_t i = 0; i < tr->n; i++)
		total += tr->g[i].count;
	fprintf(f,
		"# synfin findings\n\n%u findings, %zu signatures, **%zu root-cause groups**, "
		"%u new (synfin %s)\n\n",
		total, tr->n, tr->nc, nnew, sfh_version());
	fputs("| # | severity | findings | sigs | status | group | detail (smallest example) | "
	      "rules | example |\n|---|---|---|---|---|---|---|---|---|\n",
	      f);
	for (size_t i = 0; i < tr->nc; i++) {
		const struct sff_cause *c = &tr->c[i];
		sff_cause_rules(tr, c, rules, sizeof rules);
		fprintf(f, "| %zu | %s | %u | %u | ", i + 1, c->severity, c->findings, c->sigs);
		fputs(c->is_new ? "**new**" : c->baselined ? "baselined" : "known", f);
		if (c->known[0]) {
			fprintf(f, " (pin %u/%u: ", c->known_sigs, c->sigs);
			md_cell(f, c->known);
			fputs(")", f);
		}
		fputs(" | `", f);
		md_cell(f, c->key);
		fputs("` | ", f);
		md_cell(f, c->example->detail);
		fputs(" | ", f);
		md_cell(f, rules);
		fputs(" | ", f);
		md_cell(f, c->example->example);
		fputs(" |\n", f);
	}
}

void sff_triage_free(struct sff_triage *tr)
{
	free(tr->g);
	free(tr->c);
	free(tr->pins);
	for (size_t i = 0; i < tr->nbaseline; i++)
		free(tr->baseline[i]);
	free(tr->baseline);
	memset(tr, 0, sizeof *tr);
}
