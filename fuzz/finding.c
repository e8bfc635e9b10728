/* Findings: one directory per divergence signature, ready to act on.
 *
 *   OUT/<sig-hash>/scenario.scn   the minimised scenario, text form, with its #! expect
 *                                 line (drops straight into corpus/regress)
 *   OUT/<sig-hash>/exchange.pcap  every packet of the re-run at case 0
 *   OUT/<sig-hash>/report.txt     the trace of that run with the verdict
 *   OUT/<sig-hash>/report.json    signature, rule, severity, expected vs observed,
 *                                 target version, flaky flag
 *   OUT/<sig-hash>/input.bin      the raw input that found it (libFuzzer's bytes)
 *
 * The directory name is the deduplication key across every worker process of a campaign:
 * it is assembled under a private temporary name and renamed into place; rename() of a
 * directory onto an existing one fails, so exactly one worker wins.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cause.h"
#include "fuzz_priv.h"
#include "safeio.h"

/* ---- file helpers ---- */

int sff_mkdirs(const char *path)
{
	char buf[4096];
	size_t n = strlen(path);
	if (n == 0 || n >= sizeof buf) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(buf, path, n + 1);
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = 0;
		if (mkdir(buf, 0777) != 0 && errno != EEXIST)
			return -1;
		*p = '/';
	}
	if (mkdir(buf, 0777) != 0 && errno != EEXIST)
		return -1;
	return 0;
}

uint8_t *sff_read_file(const char *path, size_t *len, size_t max)
{
	char err[64];
	/* A named file: regular only (a FIFO cannot hang us), and a link another user
	 * planted is not followed to a file that user does not own (safeio.h). */
	return sfh_io_read_all(path, SFH_IO_OWNED_LINKS, max, len, NULL, err, sizeof err);
}

int sff_write_file(const char *path, const void *data, size_t len)
{
	char err[64];
	return sfh_io_write_file(path, data, len, 0644, err, sizeof err);
}

void sff_sig_dirname(uint64_t sig_hash, char buf[17])
{
	snprintf(buf, 17, "%016llx", (unsigned long long)sig_hash);
}

int sff_finding_exists(const char *out_dir, uint64_t sig_hash)
{
	char name[17], path[4096];
	struct stat st;
	sff_sig_dirname(sig_hash, name);
	snprintf(path, sizeof path, "%s/%s", out_dir, name);
	return stat(path, &st) == 0;
}

/* ---- the re-runs ---- */

/* The trace goes straight to a file descriptor: isolated runs write it from a child
 * that may die, so nothing may sit in a stdio buffer. */
static void trace_fd(void *ctx, const char *line)
{
	dprintf(*(int *)ctx, "%s\n", line);
}

/* Run s at case number case_no with an optional trace fd and pcap. In-process, as the
 * campaign runs (isolated in a child when ctx->isolate: crashes), unless `fresh` asks
 * for what `synfin run --fork` does: a child process for a stack that lives in ours. An
 * in-process run is as good as a fresh process's, because every case starts from the
 * state a fresh process starts from (tests/fuzz/test_fuzz_fresh.c proves it); a child
 * costs a fork of the whole libFuzzer worker, so it measures only what did not
 * reproduce. */
static int rerun(struct sff_runctx *ctx, const struct sfh_scenario *s, uint32_t case_no, int *fd,
		 struct sfh_pcap *pcap, int fresh, struct sfh_result *res)
{
	struct sfh_run_opts o = {.profile = ctx->profile,
				 .case_no = case_no,
				 .pcap = pcap,
				 .trace = fd ? trace_fd : NULL,
				 .trace_ctx = fd};
	if (ctx->isolate || (fresh && (ctx->target->ops->caps & SFH_CAP_INPROC)))
		return sff_run_isolated_sig(ctx, s, &o, res);
	return sff_run_inproc(ctx, s, &o, res);
}

/* ---- report writers ---- */

static const char *rule_id(const struct sfo_verdict *v)
{
	const struct sfo_rule_info *ri = sfo_rule_any(v->rule);
	return ri ? ri->id : "?";
}

static void json_kv(FILE *f, const char *k, const char *v, int comma)
{
	fprintf(f, "%s\n  ", comma ? "," : "");
	sfh_json_str(f, k);
	fputs(": ", f);
	sfh_json_str(f, v);
}

struct verify {
	struct sfh_result a, b; /* case 0 (traced), and another case number */
	char *trace;		/* the trace of run a (malloc), or NULL */
	int rc_a, rc_b;
	uint32_t case_b;
	int flaky;
	unsigned repro, runs; /* re-runs of the written text that showed the signature */
};

static int write_json(const char *path, const struct sff_finding_info *fi,
		      const struct sff_runctx *ctx, const struct sfh_scenario *s,
		      const struct sfh_result *first, const struct verify *vr)
{
	char hash[17], buf[64], err[64];
	FILE *f = sfh_io_create(path, 0644, err, sizeof err);
	if (!f)
		return -1;
	sff_sig_dirname(first->sig_hash, hash);
	/* The fields every report shares (docs/report-schema.md), then a finding's own. */
	struct sfh_report_info info = {.target = fi->target_spec,
				       .target_version = ctx->target->ops->version(),
				       .profile = ctx->profile ? ctx->profile->name
							       : sfo_profile_default()->name,
				       .sep = "\n  "};
	fputs("{", f);
	sfh_report_json_fields(f, &info, first);
	json_kv(f, "sig_hash", hash, 1);
	fprintf(f, ",\n  \"events\": %u,\n  \"events_before_minimizing\": %u", s->nev,
		fi->orig_events);
	fprintf(f, ",\n  \"flaky\": %s", vr->flaky ? "true" : "false");
	fprintf(f, ",\n  \"repro_rate\": \"%u/%u\"", vr->repro, vr->runs);
	fprintf(f, ",\n  \"reruns\": [{\"case\": 0, \"signature\": ");
	sfh_json_str(f, vr->rc_a == 0 ? vr->a.signature : "(harness error)");
	fprintf(f, "}, {\"case\": %u, \"signature\": ", vr->case_b);
	sfh_json_str(f, vr->rc_b == 0 ? vr->b.signature : "(harness error)");
	fputs("}]", f);
	json_kv(f, "origin", fi->origin ? fi->origin : "synfin fuzz", 1);
	time_t now = time(NULL);
	struct tm tm;
	gmtime_r(&now, &tm);
	strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
	json_kv(f, "found_at", buf, 1);
	json_kv(f, "scenario", "scenario.scn", 1);
	json_kv(f, "pcap", "exchange.pcap", 1);
	fputs("\n}\n", f);
	return sfh_io_fclose(f);
}

static int write_scn(const char *path, const struct sff_finding_info *fi,
		     const struct sfh_scenario *s, const struct sfh_result *first, int flaky)
{
	size_t need = sfh_scn_format(s, NULL, 0) + 1;
	char *text = malloc(need), err[64];
	FILE *f = sfh_io_create(path, 0644, err, sizeof err);
	int rc = -1;
	if (!text || !f)
		goto exit;
	sfh_scn_format(s, text, need);
	char detail[sizeof first->verdict.detail + 64];
	sfh_verdict_detail(&first->verdict, detail, sizeof detail);
	/* SCN_HEADER_LINES lines before the scenario: see text_form() */
	fprintf(f, "# synfin finding: %s%s\n", first->signature, flaky ? " (flaky)" : "");
	fprintf(f, "# %s\n", detail);
	fprintf(f, "# replay: synfin run scenario.scn --target %s\n", fi->target_spec);
	fprintf(f, "#! expect %s divergence %s %s%s%s\n", fi->target_spec, rule_id(&first->verdict),
		sfo_div_kind_name(first->verdict.kind), first->crash.site[0] ? " " : "",
		first->crash.site);
	fputs(text, f);
	rc = 0;
exit:
	free(text);
	if (f && sfh_io_fclose(f) != 0)
		rc = -1;
	return rc;
}

/* The crash's site, the assertion as the stack printed it, and the faulting frames. */
static void write_crash_txt(FILE *f, const struct sfh_crash *c)
{
	fprintf(f, "site:      %s%s%s\n", c->site[0] ? c->site : "unknown (named by its step)",
		c->what[0] ? " " : "", c->what);
	if (c->line)
		fprintf(f, "assertion: %s\n", c->text);
	if (c->frames[0]) {
		fprintf(f, "backtrace:");
		for (const char *p = c->frames; *p;) {
			size_t n = strcspn(p, "\n");
			fprintf(f, "%s%.*s\n", p == c->frames ? " " : "           ", (int)n, p);
			p += n + (p[n] == '\n');
		}
	}
}

static int write_txt(const char *path, const struct sff_finding_info *fi,
		     const struct sff_runctx *ctx, const struct sfh_scenario *s,
		     const struct sfh_result *first, const struct verify *vr)
{
	const struct sfo_verdict *v = &first->verdict;
	const struct sfo_rule_info *ri = sfo_rule(v->rule);
	size_t need = sfh_scn_format(s, NULL, 0) + 1;
	const char *trace = vr->trace;
	char *text = malloc(need), err[64];
	FILE *f = sfh_io_create(path, 0644, err, sizeof err);
	int rc = -1;
	if (!text || !f)
		goto exit;
	sfh_scn_format(s, text, need);
	fprintf(f, "synfin finding %s\n\n", first->signature);
	fprintf(f, "verdict:   %s %s in %s on %s\n", sfo_severity_name(v->sev),
		sfo_div_kind_name(v->kind), sfo_state_name(v->before),
		sfo_evclass_name(v->evclass));
	if (ri)
		fprintf(f, "rule:      %s (RFC 9293 %s%s%s): %s\n", ri->id, ri->section,
			ri->req[0] ? ", " : "", ri->req, ri->title);
	else
		fprintf(f, "rule:      %s (no RFC rule: the stack itself failed)\n", rule_id(v));
	fprintf(f, "expected:  state %s\n", sfo_state_name(v->expected));
	fprintf(f, "observed:  state %s\n", sfo_state_name(v->observed));
	char detail[sizeof v->detail + 64];
	sfh_verdict_detail(v, detail, sizeof detail);
	fprintf(f, "detail:    %s\n", detail);
	if (!first->div_packet)
		fprintf(f, "packet:    none (the step carried no segment)\n");
	else
		fprintf(f, "packet:    %u of exchange.pcap (%s)\n", first->div_packet,
			v->seg > 0 ? "the segment the stack sent that departs"
				   : "the incoming segment of the step");
	char key[256];
	sfh_report_cause(fi->target_spec, first, key, sizeof key);
	fprintf(f, "group:     %s\n", key);
	if (first->since_event && sfo_rule(first->since_rule))
		fprintf(f,
			"since:     line %u (%s): the earliest step since the stack last "
			"acknowledged RCV.NXT that took sequence space in\n",
			first->since_line, sfo_rule(first->since_rule)->id);
	if (first->wnd_event && sfh_wnd_how_name(first->wnd_how))
		fprintf(
		    f, "window:    line %u (%s): %s\n", first->wnd_line,
		    sfo_rule(first->wnd_rule) ? sfo_rule(first->wnd_rule)->id : "?",
		    first->wnd_how == SFH_WND_SHRINK
			? "the model took a smaller window there; the step sent beyond it"
			: "a window the model did not take; the step sent by (or held back by) it");
	if (first->una_event && sfo_rule(first->una_rule))
		fprintf(
		    f,
		    "una:       line %u (%s): an ACK of new data on a segment the model dropped\n",
		    first->una_line, sfo_rule(first->una_rule)->id);
	if (v->kind == SFO_DIV_CRASH)
		write_crash_txt(f, &first->crash);
	fprintf(f, "target:    %s (%s), profile %s\n", fi->target_spec, ctx->target->ops->version(),
		ctx->profile ? ctx->profile->name : sfo_profile_default()->name);
	fprintf(f, "flaky:     %s (case 0: %s; case %u: %s)\n", vr->flaky ? "YES" : "no",
		vr->rc_a == 0 ? vr->a.signature : "harness error", vr->case_b,
		vr->rc_b == 0 ? vr->b.signature : "harness error");
	fprintf(f, "replays:   %u of %u fresh runs of scenario.scn show the signature\n", vr->repro,
		vr->runs);
	fprintf(f, "found by:  %s\n", fi->origin ? fi->origin : "synfin fuzz");
	fprintf(f, "replay:    synfin run scenario.scn --target %s\n", fi->target_spec);
	fprintf(f, "\ntrace of the re-run at case 0 (also exchange.pcap):\n%s",
		trace ? trace : "(no trace)\n");
	fprintf(f, "\nscenario (%u events, %u before minimizing):\n%s", s->nev, fi->orig_events,
		text);
	rc = 0;
exit:
	free(text);
	if (f && sfh_io_fclose(f) != 0)
		rc = -1;
	return rc;
}

/* Lines of scenario.scn before the scenario text (write_scn). */
#define SCN_HEADER_LINES 4

static void remove_tmpdir(const char *dir)
{
	static const char *const names[] = {"scenario.scn", "exchange.pcap", "report.txt",
					    "report.json", "input.bin"};
	char path[4200];
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
		snprintf(path, sizeof path, "%s/%s", dir, names[i]);
		unlink(path);
	}
	rmdir(dir);
}

/* Everything written to fd so far, NUL-terminated (malloc), or NULL. */
static char *read_all(int fd)
{
	off_t end = lseek(fd, 0, SEEK_END);
	if (end < 0 || end > (off_t)(1u << 24) || lseek(fd, 0, SEEK_SET) != 0)
		return NULL;
	char *buf = malloc((size_t)end + 1);
	size_t got = 0;
	while (buf && got < (size_t)end) {
		ssize_t n = read(fd, buf + got, (size_t)end - got);
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	if (buf)
		buf[got] = '\0';
	return buf;
}

/* Fresh runs of a finding's scenario.scn before it is written, when the first two do not
 * both show its signature. */
#define SFF_REPRO_RUNS 10

static unsigned shows(int rc, const struct sfh_result *r, uint64_t want)
{
	return rc == 0 && r->sig_hash == want;
}

static int verify(struct sff_runctx *ctx, const struct sfh_scenario *s,
		  const struct sfh_result *first, const char *tmp, struct verify *vr, char *err,
		  size_t errlen)
{
	char path[4200], perr[256];
	/* The trace goes to memory a forked child writes too (an isolated re-run), not to
	 * a file: file creation is the slow part of recording a finding. */
	int fd = memfd_create("synfin-trace", MFD_CLOEXEC);
	if (fd < 0) {
		snprintf(err, errlen, "memfd_create: %s", strerror(errno));
		return -1;
	}
	snprintf(path, sizeof path, "%s/exchange.pcap", tmp);
	struct sfh_pcap *pcap = sfh_pcap_open(path, perr, sizeof perr);
	if (!pcap) {
		snprintf(err, errlen, "%s", perr);
		close(fd);
		return -1;
	}
	vr->rc_a = rerun(ctx, s, 0, &fd, pcap, 0, &vr->a);
	vr->trace = read_all(fd);
	close(fd);
	if (sfh_pcap_close(pcap) != 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	/* Another case number: other ports, a fresh reset. */
	vr->case_b = 0x2545u + (ctx->next_case++ & 0xffff);
	vr->rc_b = rerun(ctx, s, vr->case_b, NULL, NULL, 0, &vr->b);
	vr->runs = 2;
	vr->repro =
	    shows(vr->rc_a, &vr->a, first->sig_hash) + shows(vr->rc_b, &vr->b, first->sig_hash);
	/* Not shown every time: measure how often, over SFF_REPRO_RUNS runs in all, the
	 * rest in fresh processes, as `synfin run --fork` would. */
	while (vr->repro < vr->runs && vr->runs < SFF_REPRO_RUNS) {
		struct sfh_result r;
		int rc = rerun(ctx, s, 0x2545u + (ctx->next_case++ & 0xffff), NULL, NULL, 1, &r);
		vr->runs++;
		vr->repro += shows(rc, &r, first->sig_hash);
	}
	vr->flaky = vr->repro < vr->runs;
	return 0;
}

/* s as scenario.scn will hold it: printed and parsed back. 0, or -1 with err. */
static int text_form(const struct sfh_scenario *s, struct sfh_scenario *v, char *err, size_t errlen)
{
	size_t need = sfh_scn_format(s, NULL, 0) + 1;
	char *text = malloc(need + SCN_HEADER_LINES), perr[256];
	if (!text) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	/* the header's lines as blank ones, so the events' line numbers are the file's */
	memset(text, '\n', SCN_HEADER_LINES);
	sfh_scn_format(s, text + SCN_HEADER_LINES, need);
	int rc = sfh_scn_parse(text, SCN_HEADER_LINES + need - 1, "scenario.scn", v, perr,
			       sizeof perr);
	if (rc != 0)
		snprintf(err, errlen, "the finding's text does not parse: %s", perr);
	free(text);
	return rc;
}

int sff_finding_write(const struct sff_finding_info *fi, struct sff_runctx *ctx,
		      const struct sfh_scenario *s_in, const struct sfh_result *first, char *err,
		      size_t errlen)
{
	char name[17], tmp[4096], final[4096], path[4200];
	struct verify vr;
	struct sfh_scenario v;
	const struct sfh_scenario *s = &v;
	int rc = SFF_FINDING_ERR;

	sff_sig_dirname(first->sig_hash, name);
	snprintf(final, sizeof final, "%s/%s", fi->out_dir, name);
	if (sff_finding_exists(fi->out_dir, first->sig_hash))
		return SFF_FINDING_DUP;
	/* Private to this process and call: pid, and a case number nobody else uses. */
	snprintf(tmp, sizeof tmp, "%s/.tmp-%s-%d-%u", fi->out_dir, name, (int)getpid(),
		 ctx->next_case++);
	if (mkdir(tmp, 0755) != 0) {
		snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
		return SFF_FINDING_ERR;
	}
	memset(&vr, 0, sizeof vr);
	/* Verify what is written, not what was run: the text, parsed back (its event lines
	 * point into scenario.scn, so the trace in report.txt does too). */
	if (text_form(s_in, &v, err, errlen) != 0)
		goto exit;
	if (verify(ctx, s, first, tmp, &vr, err, errlen) != 0)
		goto exit;
	if (vr.repro == 0) {
		rc = SFF_FINDING_UNREPRO; /* never replays: nothing to hand over */
		goto exit;
	}
	/* Report the verified run when it shows the signature: its detail speaks of the
	 * minimised scenario, which `first` (the run that found it) may not. */
	if (vr.rc_a == 0 && vr.a.sig_hash == first->sig_hash)
		first = &vr.a;
	snprintf(path, sizeof path, "%s/scenario.scn", tmp);
	if (write_scn(path, fi, s, first, vr.flaky) != 0)
		goto io_error;
	snprintf(path, sizeof path, "%s/report.txt", tmp);
	if (write_txt(path, fi, ctx, s, first, &vr) != 0)
		goto io_error;
	snprintf(path, sizeof path, "%s/report.json", tmp);
	if (write_json(path, fi, ctx, s, first, &vr) != 0)
		goto io_error;
	if (fi->input) {
		snprintf(path, sizeof path, "%s/input.bin", tmp);
		/* the directory is private until renamed: no temporary name needed; the copy
		 * is no more readable than the file it came from */
		char ierr[64];
		mode_t mode = fi->input_mode ? fi->input_mode & 0644 : 0644;
		FILE *f = sfh_io_create(path, mode, ierr, sizeof ierr);
		int bad = !f || fwrite(fi->input, 1, fi->input_len, f) != fi->input_len;
		if (f && sfh_io_fclose(f) != 0)
			bad = 1;
		if (bad)
			goto io_error;
	}
	if (rename(tmp, final) == 0) {
		rc = SFF_FINDING_NEW;
		goto exit;
	}
	if (errno == EEXIST || errno == ENOTEMPTY) {
		rc = SFF_FINDING_DUP; /* another worker was first */
		goto exit;
	}
	snprintf(err, errlen, "rename %s: %s", final, strerror(errno));
	goto exit;
io_error:
	snprintf(err, errlen, "%s: %s", path, strerror(errno));
exit:;
	int e = errno; /* the reason, for the caller: kept across the cleanup */
	free(vr.trace);
	if (rc != SFF_FINDING_NEW)
		remove_tmpdir(tmp);
	errno = e;
	return rc;
}
