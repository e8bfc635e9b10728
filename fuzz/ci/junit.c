/* JUnit XML as CI systems read it. Jenkins validates against the Surefire schema
 * (junit-10.xsd), GitLab and GitHub report actions read the same shape and take the
 * counts from each <testsuite>'s attributes, so every suite carries tests, failures,
 * errors, skipped and time, and the document root, <testsuites>, their sums. */
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ci.h"

/* Text or attribute content: markup escaped, characters XML 1.0 forbids (control bytes
 * other than tab and newline) dropped, newlines kept as character references inside an
 * attribute so that a parser does not normalise them away. */
static void xml_text(FILE *f, const char *s, int attr)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		switch (*p) {
		case '&':
			fputs("&amp;", f);
			break;
		case '<':
			fputs("&lt;", f);
			break;
		case '>':
			fputs("&gt;", f);
			break;
		case '"':
			fputs(attr ? "&quot;" : "\"", f);
			break;
		case '\n':
			fputs(attr ? "&#10;" : "\n", f);
			break;
		case '\t':
			fputs(attr ? "&#9;" : "\t", f);
			break;
		default:
			if (*p >= 0x20)
				fputc(*p, f);
		}
	}
}

static void attr(FILE *f, const char *name, const char *value)
{
	fprintf(f, " %s=\"", name);
	xml_text(f, value, 1);
	fputc('"', f);
}

struct tally {
	size_t tests, failures, errors, skipped;
	double secs;
};

static void tally_suite(const struct sfc_replay *rp, const char *suite, struct tally *t)
{
	memset(t, 0, sizeof *t);
	for (size_t i = 0; i < rp->n; i++) {
		if (strcmp(rp->c[i].suite, suite) != 0)
			continue;
		t->tests++;
		t->failures += rp->c[i].status == SFC_FAIL;
		t->errors += rp->c[i].status == SFC_ERROR;
		t->skipped += rp->c[i].status == SFC_SKIP;
		t->secs += rp->c[i].secs;
	}
}

static void suite_open(FILE *f, const char *name, const struct tally *t, const char *stamp,
		       const char *host)
{
	fputs("  <testsuite", f);
	attr(f, "name", name);
	fprintf(f, " tests=\"%zu\" failures=\"%zu\" errors=\"%zu\" skipped=\"%zu\" time=\"%.3f\"",
		t->tests, t->failures, t->errors, t->skipped, t->secs);
	attr(f, "timestamp", stamp);
	attr(f, "hostname", host);
	fputs(">\n", f);
}

static void write_case(FILE *f, const char *target, const struct sfc_case *c)
{
	const char *base = strrchr(c->path, '/');
	char classname[300];
	snprintf(classname, sizeof classname, "synfin.%s", target);
	fputs("    <testcase", f);
	attr(f, "name", base ? base + 1 : c->path);
	attr(f, "classname", classname);
	fprintf(f, " time=\"%.3f\">\n", c->secs);
	if (c->status == SFC_SKIP) {
		fputs("      <skipped", f);
		attr(f, "message", c->message);
		fputs("/>\n", f);
	} else if (c->status != SFC_PASS) {
		const char *el = c->status == SFC_FAIL ? "failure" : "error";
		const struct sfo_verdict *v = &c->res.verdict;
		fprintf(f, "      <%s", el);
		attr(f, "message", c->message);
		attr(f, "type",
		     c->status == SFC_ERROR  ? "error"
		     : v->kind == SFO_DIV_OK ? "conformant"
					     : sfo_div_kind_name(v->kind));
		fputc('>', f);
		xml_text(f, c->message, 0);
		fprintf(f, "\n%s: %s</%s>\n", c->path, c->res.signature[0] ? c->res.signature : "-",
			el);
	}
	if (c->trace && c->trace[0]) {
		fputs("      <system-out>", f);
		xml_text(f, c->trace, 0);
		fputs("</system-out>\n", f);
	}
	fputs("    </testcase>\n", f);
}

static void write_extra(FILE *f, const struct sfc_extra_suite *x, const char *stamp,
			const char *host)
{
	struct tally t = {.tests = x->n, .secs = x->secs};
	for (size_t i = 0; i < x->n; i++)
		t.failures += x->c[i].message != NULL;
	suite_open(f, x->name, &t, stamp, host);
	for (size_t i = 0; i < x->n; i++) {
		const struct sfc_group_case *g = &x->c[i];
		fputs("    <testcase", f);
		attr(f, "name", g->name);
		attr(f, "classname", x->name);
		fputs(" time=\"0.000\">\n", f);
		if (g->message) {
			fputs("      <failure", f);
			attr(f, "message", g->message);
			attr(f, "type", "new-root-cause-group");
			fputs(">", f);
			xml_text(f, g->detail ? g->detail : g->message, 0);
			fputs("</failure>\n", f);
		} else if (g->detail) {
			fputs("      <system-out>", f);
			xml_text(f, g->detail, 0);
			fputs("</system-out>\n", f);
		}
		fputs("    </testcase>\n", f);
	}
	fputs("  </testsuite>\n", f);
}

int sfc_junit_write(FILE *f, const char *target, const struct sfc_replay *rp,
		    const struct sfc_extra_suite *extra)
{
	char stamp[32] = "", host[256] = "localhost";
	time_t now = time(NULL);
	struct tm tm;
	if (gmtime_r(&now, &tm))
		strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &tm);
	if (gethostname(host, sizeof host - 1) != 0)
		snprintf(host, sizeof host, "localhost");
	host[sizeof host - 1] = 0;
	size_t tests = rp->n, failures = rp->failed, errors = rp->errors;
	double secs = rp->secs;
	if (extra) {
		tests += extra->n;
		secs += extra->secs;
		for (size_t i = 0; i < extra->n; i++)
			failures += extra->c[i].message != NULL;
	}
	fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites", f);
	char name[300];
	snprintf(name, sizeof name, "synfin %s", target);
	attr(f, "name", name);
	fprintf(f, " tests=\"%zu\" failures=\"%zu\" errors=\"%zu\" time=\"%.3f\">\n", tests,
		failures, errors, secs);
	/* one suite per corpus directory, in the order the directories came */
	for (size_t i = 0; i < rp->n; i++) {
		int first = 1;
		for (size_t k = 0; k < i && first; k++)
			first = strcmp(rp->c[k].suite, rp->c[i].suite) != 0;
		if (!first)
			continue;
		struct tally t;
		tally_suite(rp, rp->c[i].suite, &t);
		suite_open(f, rp->c[i].suite, &t, stamp, host);
		for (size_t k = i; k < rp->n; k++)
			if (strcmp(rp->c[k].suite, rp->c[i].suite) == 0)
				write_case(f, target, &rp->c[k]);
		fputs("  </testsuite>\n", f);
	}
	if (extra)
		write_extra(f, extra, stamp, host);
	fputs("</testsuites>\n", f);
	return ferror(f) ? -1 : 0;
}
