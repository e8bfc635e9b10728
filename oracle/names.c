/* synfin oracle: names of states, calls, event classes, responses, verdict kinds, and the
 * rule table generated from rules.def. */
#include <string.h>

#include "model_priv.h"

static const char *const state_names[] = {
#define SFO_X(id, name) name,
    SFO_STATES(SFO_X)
#undef SFO_X
};
static const char *const state_ids[] = {
#define SFO_X(id, name) #id,
    SFO_STATES(SFO_X)
#undef SFO_X
};

const char *sfo_state_name(enum sfo_state s)
{
	return (unsigned)s < SFO_NSTATES ? state_names[s] : "?";
}

/* Case-insensitive compare of a (len bytes) with z, where '-' and '_' are the same. */
static int name_eq(const char *a, size_t len, const char *z)
{
	size_t i = 0;
	for (; i < len && z[i]; i++) {
		char x = a[i], y = z[i];
		if (x >= 'a' && x <= 'z')
			x = (char)(x - 'a' + 'A');
		if (y >= 'a' && y <= 'z')
			y = (char)(y - 'a' + 'A');
		if (x == '-')
			x = '_';
		if (y == '-')
			y = '_';
		if (x != y)
			return 0;
	}
	return i == len && z[i] == '\0';
}

int sfo_state_parse(const char *name, size_t len)
{
	if (!name)
		return -1;
	for (int s = 0; s < SFO_NSTATES; s++)
		if (name_eq(name, len, state_names[s]) || name_eq(name, len, state_ids[s]))
			return s;
	return -1;
}

static const char *const call_names[] = {
#define SFO_X(id, name) name,
    SFO_CALLS(SFO_X)
#undef SFO_X
};

const char *sfo_call_name(enum sfo_call c)
{
	return (unsigned)c < SFO_NCALLS ? call_names[c] : "?";
}

int sfo_call_parse(const char *name, size_t len)
{
	if (!name)
		return -1;
	for (int c = 0; c < SFO_NCALLS; c++)
		if (name_eq(name, len, call_names[c]))
			return c;
	return -1;
}

static const char *const evclass_names[] = {
#define SFO_X(id, name) name,
    SFO_EVCLASSES(SFO_X)
#undef SFO_X
};

const char *sfo_evclass_name(enum sfo_evclass c)
{
	return (unsigned)c < SFO_NEVCLASSES ? evclass_names[c] : "?";
}

enum sfo_resp sfo_resp_class(const struct sfo_seg *s)
{
	if (!s)
		return SFO_RESP_NONE;
	if (s->flags & SFO_RST)
		return SFO_RESP_RST;
	if (s->flags & SFO_SYN)
		return (s->flags & SFO_ACK) ? SFO_RESP_SYNACK : SFO_RESP_SYN;
	if (s->flags & SFO_FIN)
		return SFO_RESP_FIN;
	if (s->len)
		return SFO_RESP_DATA;
	if (s->flags & SFO_ACK)
		return SFO_RESP_ACK;
	return SFO_RESP_OTHER;
}

const char *sfo_resp_name(enum sfo_resp r)
{
	switch (r) {
	case SFO_RESP_NONE:
		return "none";
	case SFO_RESP_SYN:
		return "syn";
	case SFO_RESP_SYNACK:
		return "syn-ack";
	case SFO_RESP_ACK:
		return "ack";
	case SFO_RESP_DATA:
		return "data";
	case SFO_RESP_FIN:
		return "fin";
	case SFO_RESP_RST:
		return "rst";
	case SFO_RESP_OTHER:
		return "other";
		break;
	}
	return "?";
}

const char *sfo_severity_name(enum sfo_severity s)
{
	switch (s) {
	case SFO_SEV_MUST:
		return "MUST";
	case SFO_SEV_SHOULD:
		return "SHOULD";
	case SFO_SEV_MAY:
		return "MAY";
	case SFO_SEV_PROFILE:
		return "PROFILE";
	}
	return "?";
}

static const char *const div_names[] = {
#define SFO_X(id, name) name,
    SFO_DIV_KINDS(SFO_X)
#undef SFO_X
};

const char *sfo_div_kind_name(enum sfo_div_kind k)
{
	return (unsigned)k < SFO_NDIV_KINDS ? div_names[k] : "?";
}

/* ---- the rule table ---- */

static const struct sfo_rule_info rule_table[SFO_NRULES] = {
#define X(id, str, sec, req, sev, title) {str, sec, req, sev, title},
#include "rules.def"
#undef X
};

size_t sfo_rule_count(void)
{
	return SFO_NRULES;
}

const struct sfo_rule_info *sfo_rule(sfo_rule_t r)
{
	return r < SFO_NRULES ? &rule_table[r] : NULL;
}

int sfo_rule_find(const char *id)
{
	if (!id)
		return -1;
	for (int r = 0; r < SFO_NRULES; r++)
		if (strcmp(rule_table[r].id, id) == 0)
			return r;
	return -1;
}

/* ---- pseudo-rules ---- */

/* Not rows of rules.def: no model branch gives them, so no RFC section applies (the
 * section names where the verdict comes from instead). Appended after the table: the
 * first is numbered SFO_NRULES, the value crash and hang verdicts have always carried. */
static const struct sfo_rule_info pseudo_table[] = {
    {"stack", "-", "", SFO_SEV_MUST,
     "the stack itself failed: it crashed (assertion, signal) or hung; no RFC rule applies"},
};
#define NPSEUDO (sizeof pseudo_table / sizeof pseudo_table[0])

size_t sfo_pseudo_rule_count(void)
{
	return NPSEUDO;
}

const struct sfo_rule_info *sfo_pseudo_rule(size_t i)
{
	return i < NPSEUDO ? &pseudo_table[i] : NULL;
}

sfo_rule_t sfo_rule_stack(void)
{
	return (sfo_rule_t)SFO_NRULES;
}

const struct sfo_rule_info *sfo_rule_any(sfo_rule_t r)
{
	return r < SFO_NRULES ? &rule_table[r] : sfo_pseudo_rule((size_t)r - SFO_NRULES);
}

int sfo_rule_find_any(const char *id)
{
	int r = sfo_rule_find(id);
	for (size_t i = 0; r < 0 && id && i < NPSEUDO; i++)
		if (strcmp(pseudo_table[i].id, id) == 0)
			r = SFO_NRULES + (int)i;
	return r;
}

/* ---- call results ---- */

static const char *const err_names[] = {
#define SFO_X(id, name) name,
    SFO_ERRS(SFO_X)
#undef SFO_X
};

const char *sfo_err_name(enum sfo_err e)
{
	return (unsigned)e < SFO_NERRS ? err_names[e] : "?";
}

int sfo_err_parse(const char *name, size_t len)
{
	if (!name)
		return -1;
	if (name_eq(name, len, "EWOULDBLOCK"))
		return SFO_ERR_EAGAIN;
	for (int e = 0; e < SFO_NERRS; e++)
		if (e != SFO_ERR_OK && e != SFO_ERR_ERROR && e != SFO_ERR_EOF &&
		    name_eq(name, len, err_names[e]))
			return e;
	return -1;
}
