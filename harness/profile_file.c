/* Profile files (profile_file.h): parse, load once, find by name. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "profile_file.h"

#define MAX_TOK	   8
#define MAX_ACCEPT 64
#define MAX_FILES  16

static const struct {
	const char *name;
	uint32_t bit;
} flag_names[] = {
    {"rfc5961", SFO_PF_RFC5961},
    {"rfc5961-ok", SFO_PF_RFC5961_OK},
    {"tw-syn-reopen", SFO_PF_TW_SYN_REOPEN},
    {"rfc1337", SFO_PF_RFC1337},
    {"ack-below-iss", SFO_PF_ACK_BELOW_ISS},
    {"rcv-wup", SFO_PF_RCV_WUP},
};

struct tok {
	char *s; /* NUL-terminated copy (quotes and escapes removed) */
	int col; /* 1-based column of its first octet */
	int quoted;
};

struct pf {
	const char *fname;
	int line;
	char *err;
	size_t errlen;
};

static int pf_err(struct pf *p, int col, const char *fmt, ...)
{
	va_list ap;
	size_t n = (size_t)snprintf(p->err, p->errlen, "%s:%d:%d: ", p->fname, p->line, col);
	va_start(ap, fmt);
	if (n < p->errlen)
		vsnprintf(p->err + n, p->errlen - n, fmt, ap);
	va_end(ap);
	return -1;
}

/* Split one line (NUL-terminated, modified in place into buf) into tokens. */
static int tokenize(struct pf *p, const char *line, char *buf, struct tok *t, int *nt)
{
	const char *s = line;
	char *o = buf;
	*nt = 0;
	for (;;) {
		while (*s == ' ' || *s == '\t' || *s == '\r')
			s++;
		if (!*s || *s == '#')
			return 0;
		if (*nt == MAX_TOK)
			return pf_err(p, (int)(s - line) + 1, "too many words on one line");
		struct tok *k = &t[(*nt)++];
		k->col = (int)(s - line) + 1;
		k->s = o;
		k->quoted = *s == '"';
		if (k->quoted) {
			s++;
			while (*s != '"') {
				if (!*s)
					return pf_err(p, k->col, "string without its closing '\"'");
				if (*s == '\\' && (s[1] == '"' || s[1] == '\\'))
					s++;
				if ((unsigned char)*s < 0x20 && *s != '\t')
					return pf_err(p, (int)(s - line) + 1,
						      "control character in a string");
				*o++ = *s++;
			}
			s++;
		} else {
			while (*s && *s != ' ' && *s != '\t' && *s != '\r' && *s != '#')
				*o++ = *s++;
		}
		*o++ = '\0';
	}
}

/* "250ms", "2s", "0" -> milliseconds. */
static int duration(struct pf *p, const struct tok *k, uint32_t *ms)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(k->s, &end, 10);
	if (end == k->s || k->s[0] == '-' || errno)
		return pf_err(p, k->col, "'%s' is not a duration (e.g. 200ms, 60s)", k->s);
	unsigned long long mul = strcmp(end, "ms") == 0 ? 1 : strcmp(end, "s") == 0 ? 1000 : 0;
	if (!mul && !(*end == '\0' && v == 0))
		return pf_err(p, (int)(k->col + (end - k->s)),
			      "a duration needs its unit, ms or s ('%s')", k->s);
	if (v * (mul ? mul : 1) > 0xffffffffull / 2)
		return pf_err(p, k->col, "duration '%s' is too long", k->s);
	*ms = (uint32_t)(v * (mul ? mul : 1));
	return 0;
}

static int kind_parse(const char *s)
{
	if (strcmp(s, "*") == 0)
		return -1;
	for (int k = 0; k < SFO_NDIV_KINDS; k++)
		if (strcmp(s, sfo_div_kind_name((enum sfo_div_kind)k)) == 0)
			return k;
	return -2;
}

static char *dup_str(const char *s)
{
	size_t n = strlen(s) + 1;
	char *d = malloc(n);
	if (d)
		memcpy(d, s, n);
	return d;
}

static int set_base(struct pf *p, struct sfo_profile *pr, const struct tok *k)
{
	const struct sfo_profile *b = sfo_profile_find(k->s);
	if (!b)
		return pf_err(p, k->col, "no built-in profile '%s' to start from", k->s);
	pr->flags = b->flags;
	pr->msl2_ms = b->msl2_ms;
	pr->rto_min_ms = b->rto_min_ms;
	pr->rto_must_ms = b->rto_must_ms;
	pr->delack_max_ms = b->delack_max_ms;
	pr->fin2_timeout_ms = b->fin2_timeout_ms;
	pr->user_timeout_ms = b->user_timeout_ms;
	return 0;
}

/* One directive. nacc: accepted differences so far (base's are not inherited). */
static int directive(struct pf *p, struct sfo_profile *pr, struct sfo_accept *acc, size_t *nacc,
		     struct tok *t, int nt, int *named)
{
	static const struct {
		const char *key;
		size_t off;
	} timers[] = {
	    {"2msl", offsetof(struct sfo_profile, msl2_ms)},
	    {"rto-min", offsetof(struct sfo_profile, rto_min_ms)},
	    {"rto-must", offsetof(struct sfo_profile, rto_must_ms)},
	    {"delack-max", offsetof(struct sfo_profile, delack_max_ms)},
	    {"fin2-timeout", offsetof(struct sfo_profile, fin2_timeout_ms)},
	    {"user-timeout", offsetof(struct sfo_profile, user_timeout_ms)},
	};
	const char *key = t[0].s;
	if (!*named && strcmp(key, "profile") != 0)
		return pf_err(p, t[0].col, "the first directive must be 'profile NAME'");
	int want = strcmp(key, "accept") == 0 ? 4 : 2;
	if (nt != want)
		return pf_err(p, nt < want ? t[nt - 1].col : t[want].col,
			      "'%s' takes %d value%s, found %d", key, want - 1,
			      want == 2 ? "" : "s", nt - 1);
	if (strcmp(key, "profile") == 0) {
		if (*named)
			return pf_err(p, t[0].col, "a second 'profile' line");
		if (sfo_profile_find(t[1].s))
			return pf_err(p, t[1].col, "'%s' is a built-in profile's name", t[1].s);
		*named = 1;
		return (pr->name = dup_str(t[1].s)) ? 0 : pf_err(p, 1, "out of memory");
	}
	if (strcmp(key, "summary") == 0) {
		free((char *)pr->summary); /* a later summary line wins */
		return (pr->summary = dup_str(t[1].s)) ? 0 : pf_err(p, 1, "out of memory");
	}
	if (strcmp(key, "base") == 0)
		return set_base(p, pr, &t[1]);
	for (size_t i = 0; i < sizeof timers / sizeof timers[0]; i++)
		if (strcmp(key, timers[i].key) == 0)
			return duration(p, &t[1], (uint32_t *)((char *)pr + timers[i].off));
	if (strcmp(key, "flag") == 0 || strcmp(key, "no-flag") == 0) {
		for (size_t i = 0; i < sizeof flag_names / sizeof flag_names[0]; i++)
			if (strcmp(t[1].s, flag_names[i].name) == 0) {
				if (key[0] == 'n')
					pr->flags &= ~flag_names[i].bit;
				else
					pr->flags |= flag_names[i].bit;
				return 0;
			}
		return pf_err(p, t[1].col,
			      "unknown flag '%s' (rfc5961, rfc5961-ok, tw-syn-reopen, rfc1337, "
			      "ack-below-iss, rcv-wup)",
			      t[1].s);
	}
	if (strcmp(key, "accept") == 0) {
		if (sfo_rule_find(t[1].s) < 0)
			return pf_err(
			    p, t[1].col,
			    sfo_rule_find_any(t[1].s) >= 0
				? "'%s' is not an RFC rule: a crash or hang is never accepted"
				: "unknown rule '%s' (see 'synfin explain')",
			    t[1].s);
		int kind = kind_parse(t[2].s);
		if (kind == -2)
			return pf_err(p, t[2].col,
				      "unknown kind '%s' (state, missing-response, "
				      "unexpected-response, wrong-field, crash, hang, or *)",
				      t[2].s);
		if (!t[3].quoted || !t[3].s[0])
			return pf_err(p, t[3].col, "the reason is a non-empty quoted string");
		if (*nacc == MAX_ACCEPT)
			return pf_err(p, t[0].col, "more than %d accepted differences", MAX_ACCEPT);
		struct sfo_accept *a = &acc[(*nacc)++];
		a->rule_id = dup_str(t[1].s);
		a->kind = kind;
		a->reason = dup_str(t[3].s);
		return a->rule_id && a->reason ? 0 : pf_err(p, 1, "out of memory");
	}
	return pf_err(p, t[0].col, "unknown directive '%s'", key);
}

const struct sfo_profile *sfh_profile_parse(const char *text, size_t len, const char *fname,
					    char *err, size_t errlen)
{
	struct pf p = {.fname = fname, .err = err, .errlen = errlen};
	struct sfo_profile *pr = calloc(1, sizeof *pr);
	struct sfo_accept *acc = calloc(MAX_ACCEPT + 1, sizeof *acc);
	char *line = malloc(len + 1), *buf = malloc(len + 1);
	size_t nacc = 0;
	int named = 0, bad = 0;
	if (!pr || !acc || !line || !buf) {
		snprintf(err, errlen, "%s: out of memory", fname);
		bad = 1;
	}
	set_base(&p, pr, &(struct tok){.s = "rfc9293"});
	for (size_t pos = 0; !bad && pos < len;) {
		size_t n = 0;
		while (pos + n < len && text[pos + n] != '\n')
			n++;
		p.line++;
		memcpy(line, text + pos, n);
		line[n] = '\0';
		pos += n + 1;
		if (strlen(line) != n) {
			bad = pf_err(&p, (int)strlen(line) + 1, "a NUL octet") != 0;
			break;
		}
		struct tok t[MAX_TOK];
		int nt;
		if (tokenize(&p, line, buf, t, &nt) != 0 ||
		    (nt && directive(&p, pr, acc, &nacc, t, nt, &named) != 0))
			bad = 1;
	}
	if (!bad && !named) {
		p.line = 1;
		bad = pf_err(&p, 1, "no 'profile NAME' line") != 0;
	}
	if (!bad && pr->rto_must_ms < pr->rto_min_ms) {
		snprintf(err, errlen, "%s: rto-must (%u ms) is below rto-min (%u ms)", fname,
			 pr->rto_must_ms, pr->rto_min_ms);
		bad = 1;
	}
	free(line);
	free(buf);
	if (bad) {
		if (pr)
			pr->accept = acc;
		else
			free(acc);
		sfh_profile_free(pr);
		return NULL;
	}
	if (!pr->summary)
		pr->summary = pr->name;
	pr->accept = acc; /* zeroed past nacc: the NULL rule_id ends it */
	return pr;
}

void sfh_profile_free(const struct sfo_profile *p)
{
	if (!p)
		return;
	struct sfo_profile *q = (struct sfo_profile *)p;
	for (struct sfo_accept *a = (struct sfo_accept *)q->accept; a && a->rule_id; a++) {
		free((char *)a->rule_id);
		free((char *)a->reason);
	}
	if (q->summary != q->name)
		free((char *)q->summary);
	free((char *)q->name);
	free((struct sfo_accept *)q->accept);
	free(q);
}

int sfh_profile_is_file(const char *name)
{
	size_t n = strlen(name);
	return strchr(name, '/') != NULL || (n > 8 && strcmp(name + n - 8, ".profile") == 0);
}

/* Profile files loaded so far (process-wide: a profile lives as long as the process). */
static struct {
	char *path;
	const struct sfo_profile *p;
} loaded[MAX_FILES];
static char last_err[512];

static const struct sfo_profile *load(const char *path)
{
	for (size_t i = 0; i < MAX_FILES && loaded[i].path; i++)
		if (strcmp(loaded[i].path, path) == 0)
			return loaded[i].p;
	FILE *f = fopen(path, "r");
	if (!f) {
		snprintf(last_err, sizeof last_err, "%s: %s", path, strerror(errno));
		return NULL;
	}
	char *text = malloc(1 << 20);
	size_t n = text ? fread(text, 1, 1 << 20, f) : 0;
	int too_big = text && n == 1 << 20;
	fclose(f);
	if (!text || too_big) {
		snprintf(last_err, sizeof last_err, "%s: %s", path,
			 text ? "larger than 1 MiB" : "out of memory");
		free(text);
		return NULL;
	}
	const struct sfo_profile *p = sfh_profile_parse(text, n, path, last_err, sizeof last_err);
	free(text);
	for (size_t i = 0; p && i < MAX_FILES; i++)
		if (!loaded[i].path) {
			loaded[i].path = dup_str(path);
			loaded[i].p = p;
			break;
		}
	return p;
}

const struct sfo_profile *sfh_profile_find(const char *name)
{
	if (!name)
		return NULL;
	return sfh_profile_is_file(name) ? load(name) : sfo_profile_find(name);
}

const char *sfh_profile_error(const char *name)
{
	if (name && sfh_profile_is_file(name))
		return last_err;
	size_t n = (size_t)snprintf(last_err, sizeof last_err,
				    "unknown profile '%s'; profiles:", name ? name : "");
	for (size_t i = 0; i < sfo_profile_count() && n < sizeof last_err; i++)
		n += (size_t)snprintf(last_err + n, sizeof last_err - n, " %s",
				      sfo_profile_at(i)->name);
	if (n < sizeof last_err)
		snprintf(last_err + n, sizeof last_err - n, ", or a profile file (a path)");
	return last_err;
}
