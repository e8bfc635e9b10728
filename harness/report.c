/* Reports: JSON records, expected verdicts of regression scenarios, isolated runs. */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cause.h"
#include "report.h"
#include "safeio.h"

void sfh_json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(f, "\\%c", *p);
		else if (*p < 0x20)
			fprintf(f, "\\u%04x", *p);
		else
			fputc(*p, f);
	}
	fputc('"', f);
}

const char *sfh_version(void)
{
#ifdef SYNFIN_VERSION
	return SYNFIN_VERSION;
#else
	return "unknown";
#endif
}

void sfh_verdict_detail(const struct sfo_verdict *v, char *buf, size_t cap)
{
	const struct sfo_rule_info *ri = sfo_rule(v->rule);
	if (v->detail[0] || v->kind == SFO_DIV_OK)
		snprintf(buf, cap, "%s", v->detail);
	else if (v->kind == SFO_DIV_STATE)
		snprintf(buf, cap, "state: expected %s, observed %s", sfo_state_name(v->expected),
			 sfo_state_name(v->observed));
	else /* a verdict judged without text (sfh_run_opts.brief) */
		snprintf(buf, cap,
			 "%s against rule %s (no detail text: the run was judged briefly)",
			 sfo_div_kind_name(v->kind), ri ? ri->id : "stack");
}

void sfh_report_cause(const char *target, const struct sfh_result *res, char *key, size_t cap)
{
	const struct sfo_verdict *v = &res->verdict;
	char detail[sizeof v->detail + 64];
	sfh_verdict_detail(v, detail, sizeof detail);
	struct sfh_cause_in in = {.target = target,
				  .kind = sfo_div_kind_name(v->kind),
				  .state_before = sfo_state_name(v->before),
				  .event_class = sfo_evclass_name(v->evclass),
				  .detail = detail,
				  .crash_site = res->crash.site,
				  .rule = sfo_rule_any(v->rule) ? sfo_rule_any(v->rule)->id : NULL,
				  .since_rule = res->since_event && sfo_rule(res->since_rule)
						    ? sfo_rule(res->since_rule)->id
						    : NULL,
				  .since_silent = res->since_silent,
				  .noop = res->noop,
				  .wnd_how = sfh_wnd_how_name(res->wnd_event ? res->wnd_how : 0),
				  .una_rule = res->una_event && sfo_rule(res->una_rule)
						  ? sfo_rule(res->una_rule)->id
						  : NULL};
	if (sfh_cause_key(&in, key, cap) != 0 && cap)
		key[cap - 1] = '\0';
}

static void kv(FILE *f, const char *sep, int *first, const char *k)
{
	fprintf(f, "%s%s", *first ? "" : ",", sep);
	sfh_json_str(f, k);
	fputs(": ", f);
	*first = 0;
}

static void kv_str(FILE *f, const char *sep, int *first, const char *k, const char *v)
{
	kv(f, sep, first, k);
	sfh_json_str(f, v);
}

/* The differences as a list of {field, expected, observed}. */
static void json_diffs(FILE *f, const char *detail)
{
	struct sfh_diff d[8];
	size_t n = sfh_diff_parse(detail, d, 8);
	fputc('[', f);
	for (size_t i = 0; i < n; i++) {
		fputs(i ? ", {\"field\": " : "{\"field\": ", f);
		sfh_json_str(f, d[i].field);
		fputs(", \"expected\": ", f);
		sfh_json_str(f, d[i].expected);
		fputs(", \"observed\": ", f);
		sfh_json_str(f, d[i].observed);
		fputc('}', f);
	}
	fputc(']', f);
}

void sfh_report_json_fields(FILE *f, const struct sfh_report_info *info,
			    const struct sfh_result *res)
{
	const struct sfo_verdict *v = &res->verdict;
	const struct sfo_rule_info *ri = sfo_rule_any(v->rule);
	const char *sep = info->sep ? info->sep : "";
	char detail[sizeof v->detail + 64], key[256];
	int first = 1;
	kv(f, sep, &first, "schema");
	fprintf(f, "%d", SFH_REPORT_SCHEMA);
	kv_str(f, sep, &first, "synfin_version", sfh_version());
	if (info->file)
		kv_str(f, sep, &first, "file", info->file);
	kv_str(f, sep, &first, "target", info->target);
	kv_str(f, sep, &first, "target_version", info->target_version);
	kv_str(f, sep, &first, "profile", info->profile);
	kv_str(f, sep, &first, "verdict",
	       v->kind == SFO_DIV_OK ? "ok"
	       : v->accepted	     ? "accepted"
				     : "divergence");
	if (v->kind == SFO_DIV_OK)
		return;
	sfh_verdict_detail(v, detail, sizeof detail);
	sfh_report_cause(info->target, res, key, sizeof key);
	kv_str(f, sep, &first, "signature", res->signature);
	kv_str(f, sep, &first, "group", key);
	kv_str(f, sep, &first, "kind", sfo_div_kind_name(v->kind));
	kv_str(f, sep, &first, "rule", ri ? ri->id : "stack"); /* as signatures name it */
	kv_str(f, sep, &first, "section", ri ? ri->section : "");
	kv_str(f, sep, &first, "requirement", ri ? ri->req : "");
	kv_str(f, sep, &first, "rule_title", ri ? ri->title : "");
	kv_str(f, sep, &first, "severity", sfo_severity_name(v->sev));
	kv_str(f, sep, &first, "state_before", sfo_state_name(v->before));
	kv_str(f, sep, &first, "event_class", sfo_evclass_name(v->evclass));
	kv(f, sep, &first, "expected");
	fputs("{\"state\": ", f);
	sfh_json_str(f, sfo_state_name(v->expected));
	fputc('}', f);
	kv(f, sep, &first, "observed");
	fputs("{\"state\": ", f);
	sfh_json_str(f, sfo_state_name(v->observed));
	fputc('}', f);
	kv(f, sep, &first, "differences");
	json_diffs(f, detail);
	kv_str(f, sep, &first, "detail", detail);
	kv(f, sep, &first, "event");
	fprintf(f, "%d", res->div_event + 1);
	kv(f, sep, &first, "line");
	fprintf(f, "%u", res->div_line);
	kv(f, sep, &first, "packet");
	fprintf(f, "%u", res->div_packet);
	if (res->noop) {
		kv(f, sep, &first, "noop");
		fputs("true", f);
	}
	if (res->since_event && sfo_rule(res->since_rule)) {
		kv(f, sep, &first, "since");
		fprintf(f, "{\"event\": %d, \"line\": %u, \"silent\": %s, \"rule\": ",
			res->since_event, res->since_line, res->since_silent ? "true" : "false");
		sfh_json_str(f, sfo_rule(res->since_rule)->id);
		fputc('}', f);
	}
	if (res->wnd_event && sfh_wnd_how_name(res->wnd_how)) {
		kv(f, sep, &first, "window");
		fprintf(f, "{\"event\": %d, \"line\": %u, \"how\": ", res->wnd_event,
			res->wnd_line);
		sfh_json_str(f, sfh_wnd_how_name(res->wnd_how));
		fputs(", \"rule\": ", f);
		sfh_json_str(f, sfo_rule(res->wnd_rule) ? sfo_rule(res->wnd_rule)->id : "?");
		fputc('}', f);
	}
	if (res->una_event && sfo_rule(res->una_rule)) {
		kv(f, sep, &first, "una");
		fprintf(f, "{\"event\": %d, \"line\": %u, \"rule\": ", res->una_event,
			res->una_line);
		sfh_json_str(f, sfo_rule(res->una_rule)->id);
		fputc('}', f);
	}
	if (v->accepted)
		kv_str(f, sep, &first, "accepted_because", v->accepted->reason);
	if (v->kind == SFO_DIV_CRASH) {
		kv(f, sep, &first, "crash");
		sfh_crash_json(f, &res->crash);
	}
}

void sfh_report_json(FILE *f, const char *file, const char *target, const char *version,
		     const char *profile, const struct sfh_result *res)
{
	struct sfh_report_info info = {
	    .file = file, .target = target, .target_version = version, .profile = profile};
	fputc('{', f);
	sfh_report_json_fields(f, &info, res);
	fprintf(f, ",\"steps\": %u}", res->steps);
}

void sfh_crash_json(FILE *f, const struct sfh_crash *c)
{
	const char *sig = sfh_crash_signame(c->signo);
	fputs("{\"site\":", f);
	sfh_json_str(f, c->site);
	fputs(",\"what\":", f);
	sfh_json_str(f, c->what);
	fputs(",\"assertion\":", f);
	if (c->line) {
		fputs("{\"file\":", f);
		sfh_json_str(f, c->file);
		fprintf(f, ",\"line\":%u,\"message\":", c->line);
		sfh_json_str(f, c->message);
		fputs(",\"text\":", f);
		sfh_json_str(f, c->text);
		fputs("}", f);
	} else {
		fputs("null", f);
	}
	fprintf(f, ",\"signal\":%d,\"signal_name\":", c->signo);
	sfh_json_str(f, sig ? sig : "");
	fputs(",\"backtrace\":[", f);
	const char *p = c->frames;
	for (int first = 1; *p; first = 0) {
		size_t n = strcspn(p, "\n");
		char frame[200];
		snprintf(frame, sizeof frame, "%.*s", (int)n, p);
		if (!first)
			fputc(',', f);
		sfh_json_str(f, frame);
		p += n + (p[n] == '\n');
	}
	fputs("]}", f);
}

/* ---- expected verdicts ---- */

static int word(const char **p, char *out, size_t cap)
{
	size_t n = 0;
	while (**p == ' ' || **p == '\t')
		(*p)++;
	while (**p && !isspace((unsigned char)**p)) {
		if (n + 1 < cap)
			out[n++] = **p;
		(*p)++;
	}
	out[n] = 0;
	return n > 0;
}

/* An optional word, quotes stripped ("tcp_out.c:859" or tcp_out.c:859); a trailing
 * comment (#) is none. */
static int site_word(const char **p, char *out, size_t cap)
{
	if (!word(p, out, cap) || out[0] == '#') {
		out[0] = 0;
		return 0;
	}
	size_t n = strlen(out);
	if (n >= 2 && out[0] == '"' && out[n - 1] == '"') {
		memmove(out, out + 1, n - 2);
		out[n - 2] = 0;
	}
	return out[0] != 0;
}

/* How well a directive's target matches the spec: 3 exact, 2 by name, 1 '*', 0 not. */
static int target_match(const char *want, const char *spec)
{
	size_t n = strcspn(spec, ":");
	if (strcmp(want, spec) == 0)
		return 3;
	if (strlen(want) == n && strncmp(want, spec, n) == 0)
		return 2;
	return strcmp(want, "*") == 0;
}

/* The next line of text[*off..len) into line (cut at cap - 1 octets, as fgets cuts it);
 * 0 at the end. */
static int next_line(const char *text, size_t len, size_t *off, char *line, size_t cap)
{
	if (*off >= len)
		return 0;
	size_t n = 0;
	while (*off < len && n + 1 < cap) {
		char ch = text[(*off)++];
		line[n++] = ch;
		if (ch == '\n')
			break;
	}
	line[n] = 0;
	return 1;
}

int sfh_expectation_parse(const char *path, const char *text, size_t len, const char *target_spec,
			  struct sfh_expectation *x, char *err, size_t errlen)
{
	char line[512], tgt[128], verdict[32];
	int lineno = 0, best = 0;
	size_t off = 0;
	memset(x, 0, sizeof *x);
	while (next_line(text, len, &off, line, sizeof line)) {
		lineno++;
		const char *p = line;
		if (strncmp(p, "#! expect", 9) != 0)
			continue;
		p += 9;
		if (!word(&p, tgt, sizeof tgt) || !word(&p, verdict, sizeof verdict)) {
			snprintf(err, errlen, "%s:%d:%d: expected '#! expect TARGET ok|divergence'",
				 path, lineno, (int)(p - line) + 1);
			return -1;
		}
		struct sfh_expectation e = {.line = lineno};
		if (strcmp(verdict, "divergence") == 0) {
			e.divergence = 1;
			if (!word(&p, e.rule, sizeof e.rule) || !word(&p, e.kind, sizeof e.kind)) {
				snprintf(err, errlen, "%s:%d:%d: a divergence needs RULE-ID KIND",
					 path, lineno, (int)(p - line) + 1);
				return -1;
			}
			if (site_word(&p, e.site, sizeof e.site) &&
			    strcmp(e.kind, sfo_div_kind_name(SFO_DIV_CRASH)) != 0) {
				snprintf(err, errlen, "%s:%d:%d: a SITE is for kind crash only",
					 path, lineno, (int)(p - line) + 1);
				return -1;
			}
		} else if (strcmp(verdict, "ok") != 0) {
			snprintf(err, errlen, "%s:%d:%d: unknown verdict '%s' (ok or divergence)",
				 path, lineno, (int)(strstr(line, verdict) - line) + 1, verdict);
			return -1;
		}
		int m = target_match(tgt, target_spec);
		if (m > best) {
			best = m;
			*x = e;
		}
	}
	return 0;
}

int sfh_expectation_read(const char *path, const char *target_spec, struct sfh_expectation *x,
			 char *err, size_t errlen)
{
	char *text;
	size_t len;
	memset(x, 0, sizeof *x);
	if (sfh_file_read(path, &text, &len, err, errlen) != 0)
		return -1;
	int rc = sfh_expectation_parse(path, text, len, target_spec, x, err, errlen);
	free(text);
	return rc;
}

int sfh_expectation_met(const struct sfh_expectation *x, const struct sfh_result *res)
{
	const struct sfo_verdict *v = &res->verdict;
	if (!x->divergence)
		return v->kind == SFO_DIV_OK || v->accepted != NULL;
	if (v->kind == SFO_DIV_OK)
		return 0;
	const struct sfo_rule_info *ri = sfo_rule_any(v->rule);
	if (x->site[0]) {
		/* the site or a prefix of it ending at a separator: tcp_out.c for tcp_out.c:859 */
		size_t n = strlen(x->site);
		const char *site = res->crash.site;
		if (v->kind != SFO_DIV_CRASH || strncmp(site, x->site, n) != 0 ||
		    (site[n] && !strchr(":+(", site[n])))
			return 0;
	}
	return strcmp(x->kind, sfo_div_kind_name(v->kind)) == 0 &&
	       (strcmp(x->rule, "*") == 0 || (ri && strcmp(x->rule, ri->id) == 0));
}

/* ---- isolated runs ---- */

static int read_full(int fd, void *buf, size_t len, int timeout_ms)
{
	size_t got = 0;
	while (got < len) {
		struct pollfd pfd = {.fd = fd, .events = POLLIN};
		int pr = poll(&pfd, 1, timeout_ms);
		if (pr == 0)
			return -2; /* timed out */
		if (pr < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		ssize_t n = read(fd, (char *)buf + got, len - got);
		if (n == 0)
			return -1; /* child gone before writing it all */
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		got += (size_t)n;
	}
	return 0;
}

/* What a child leaves behind for its parent, in shared memory, should it die. */
struct child_shared {
	struct sfh_progress progress;
	struct sfh_crash crash;
};

static void child_main(int wfd, struct sfh_runner *r, struct sfh_target *t,
		       const struct sfh_scenario *s, const struct sfh_run_opts *o,
		       struct sfh_crash *crash)
{
	struct sfh_result res;
	sfh_crash_clear(crash);
	sfh_crash_sink(crash);
	sfh_crash_handlers_install(); /* without them the crash is named by its step */
	int rc = sfh_run(r, t, s, o, &res);
	fflush(NULL);
	ssize_t w1 = write(wfd, &rc, sizeof rc);
	ssize_t w2 = write(wfd, &res, sizeof res);
	_exit(w1 == sizeof rc && w2 == sizeof res ? 0 : 3);
}

void sfh_crash_result(const char *target, const struct sfh_progress *p, enum sfo_div_kind kind,
		      const char *what, const struct sfh_crash *c, struct sfh_result *res)
{
	memset(res, 0, sizeof *res);
	res->div_event = p->event;
	res->div_line = p->line;
	res->verdict.kind = kind;
	res->verdict.sev = SFO_SEV_MUST;
	res->verdict.rule = sfo_rule_stack(); /* no RFC rule: the stack failed */
	res->verdict.before = p->before;
	res->verdict.evclass = p->evclass;
	res->verdict.expected = res->verdict.observed = SFO_STATE_UNKNOWN;
	if (c && kind == SFO_DIV_CRASH)
		res->crash = *c;
	const struct sfh_crash *k = &res->crash;
	if (k->line)
		snprintf(res->verdict.detail, sizeof res->verdict.detail,
			 "assertion \"%s\" failed at %s:%u; %s", k->message, k->file, k->line,
			 what);
	else if (k->site[0])
		snprintf(res->verdict.detail, sizeof res->verdict.detail, "%s, in %s", what,
			 k->site);
	else
		snprintf(res->verdict.detail, sizeof res->verdict.detail, "%s", what);
	sfh_result_sign(target, res);
}

void sfh_result_sign(const char *target, struct sfh_result *res)
{
	const struct sfh_crash *c = &res->crash;
	if (res->verdict.kind != SFO_DIV_CRASH || !sfh_crash_has_site(c)) {
		res->sig_hash =
		    sfh_signature(target, &res->verdict, res->signature, sizeof res->signature);
		return;
	}
	/* The site is the identity: the same assertion reached from any state is one crash.
	 * FNV-1a of the text, as sfh_signature hashes its own. */
	snprintf(res->signature, sizeof res->signature, "%s/%s/%s/%s", target,
		 sfo_div_kind_name(SFO_DIV_CRASH), c->site, c->what);
	res->sig_hash = sfh_fnv1a(SFH_FNV1A_INIT, res->signature, strlen(res->signature));
}

int sfh_run_isolated(struct sfh_runner *r, struct sfh_target *t, const struct sfh_scenario *s,
		     const struct sfh_run_opts *o, unsigned timeout_s, struct sfh_result *res)
{
	int fds[2], status = 0, rc = -1;
	char what[96];
	/* shared with the child, so the step in progress and how it died survive its death */
	struct child_shared *sh =
	    mmap(NULL, sizeof *sh, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	struct sfh_run_opts co = *o;
	if (sh == MAP_FAILED) {
		snprintf(res->err, sizeof res->err, "mmap: %s", strerror(errno));
		return -1;
	}
	struct sfh_progress *prog = &sh->progress;
	sfh_crash_clear(&sh->crash);
	prog->event = -1;
	prog->line = 0;
	prog->before = SFO_CLOSED;
	prog->evclass = SFO_EC_CALL_LISTEN;
	co.progress = prog;
	if (pipe(fds) != 0) {
		snprintf(res->err, sizeof res->err, "pipe: %s", strerror(errno));
		munmap(sh, sizeof *sh);
		return -1;
	}
	sfh_crash_warm();
	fflush(NULL); /* nothing buffered may be written twice */
	pid_t pid = fork();
	if (pid < 0) {
		snprintf(res->err, sizeof res->err, "fork: %s", strerror(errno));
		close(fds[0]);
		close(fds[1]);
		munmap(sh, sizeof *sh);
		return -1;
	}
	if (pid == 0) {
		close(fds[0]);
		child_main(fds[1], r, t, s, &co, &sh->crash);
	}
	close(fds[1]);
	int got = read_full(fds[0], &rc, sizeof rc, (int)timeout_s * 1000);
	if (got == 0)
		got = read_full(fds[0], res, sizeof *res, (int)timeout_s * 1000);
	close(fds[0]);
	if (got == -2)
		kill(pid, SIGKILL);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	struct sfh_progress where = *prog;
	struct sfh_crash crash = sh->crash;
	munmap(sh, sizeof *sh);
	if (got == 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return rc;
	/* the frames are symbolized here: the child's address layout is ours (fork) */
	sfh_crash_finish(&crash);
	if (got == -2) {
		snprintf(what, sizeof what, "no verdict within %u s: the case hangs", timeout_s);
		sfh_crash_result(t->ops->name, &where, SFO_DIV_HANG, what, NULL, res);
	} else if (WIFSIGNALED(status)) {
		snprintf(what, sizeof what, "the stack crashed: killed by signal %d (%s)",
			 WTERMSIG(status), strsignal(WTERMSIG(status)));
		sfh_crash_result(t->ops->name, &where, SFO_DIV_CRASH, what, &crash, res);
	} else {
		snprintf(what, sizeof what, "the case exited with status %d",
			 WIFEXITED(status) ? WEXITSTATUS(status) : -1);
		sfh_crash_result(t->ops->name, &where, SFO_DIV_CRASH, what, &crash, res);
	}
	return 0;
}

/* ---- scenario file lists ---- */

static int fl_add(struct sfh_filelist *fl, const char *path)
{
	if (fl->n == fl->cap) {
		size_t cap = fl->cap ? fl->cap * 2 : 64;
		char **p = realloc(fl->paths, cap * sizeof *p);
		if (!p)
			return -1;
		fl->paths = p;
		fl->cap = cap;
	}
	fl->paths[fl->n] = strdup(path);
	if (!fl->paths[fl->n])
		return -1;
	fl->n++;
	return 0;
}

static int walk(const char *dir, struct sfh_filelist *fl, char *err, size_t errlen, int depth)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	if (!d) {
		snprintf(err, errlen, "%s: %s", dir, strerror(errno));
		return -1;
	}
	while ((e = readdir(d)) != NULL) {
		char path[4096];
		struct stat st;
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
		/* The entry's type as the directory gives it, else lstat: a link is never
		 * followed, out of the tree or round a loop. */
		int isdir = e->d_type == DT_DIR, isreg = e->d_type == DT_REG;
		if (e->d_type == DT_UNKNOWN) {
			if (lstat(path, &st) != 0)
				continue;
			isdir = S_ISDIR(st.st_mode);
			isreg = S_ISREG(st.st_mode);
		}
		size_t len = strlen(e->d_name);
		int rc = 0;
		if (isdir && depth < 8)
			rc = walk(path, fl, err, errlen, depth + 1);
		else if (isreg && len > 4 && strcmp(e->d_name + len - 4, ".scn") == 0)
			rc = fl_add(fl, path);
		if (rc != 0) {
			if (rc == -1 && !err[0])
				snprintf(err, errlen, "out of memory");
			closedir(d);
			return -1;
		}
	}
	closedir(d);
	return 0;
}

static int cmp_path(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int sfh_collect_scenarios(int n, char **args, struct sfh_filelist *fl, char *err, size_t errlen)
{
	err[0] = 0;
	for (int i = 0; i < n; i++) {
		struct stat st;
		size_t first = fl->n;
		if (stat(args[i], &st) != 0) {
			snprintf(err, errlen, "%s: %s", args[i], strerror(errno));
			return -1;
		}
		if (S_ISDIR(st.st_mode)) {
			if (walk(args[i], fl, err, errlen, 0) != 0)
				return -1;
			if (fl->n > first) /* an empty directory: no list to sort */
				qsort(fl->paths + first, fl->n - first, sizeof *fl->paths,
				      cmp_path);
		} else if (fl_add(fl, args[i]) != 0) {
			snprintf(err, errlen, "out of memory");
			return -1;
		}
	}
	return 0;
}

void sfh_filelist_free(struct sfh_filelist *fl)
{
	for (size_t i = 0; i < fl->n; i++)
		free(fl->paths[i]);
	free(fl->paths);
	memset(fl, 0, sizeof *fl);
}
