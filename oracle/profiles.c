/* synfin oracle: the built-in profiles (rfc9293, rfc5961) and the list of per-stack ones,
 * which live in profile_NAME.c and belong to the target maintainers. */
#include <string.h>

#include "model_priv.h"
#include "profiles_priv.h"

static const struct sfo_accept accept_none[] = {
    {NULL, -1, NULL},
};

/* RFC 9293 as written: MUSTs are errors, SHOULDs warnings, RFC 5961 allowed but not
 * required. Timer figures: 2MSL of 4 minutes; the RTO bounds cover stacks whose first
 * RTO is 1 s to 3 s (RFC 6298 section 2 and its 3 s fallback). */
static const struct sfo_profile profile_rfc9293 = {
    .name = "rfc9293",
    .summary = "RFC 9293 as written; RFC 5961 challenge ACKs allowed, not required",
    .flags = SFO_PF_RFC5961_OK,
    .msl2_ms = 240000,
    .rto_min_ms = 200,
    .rto_must_ms = 4000,
    .delack_max_ms = 500,
    .fin2_timeout_ms = 0,
    .user_timeout_ms = 100000,
    .accept = accept_none,
};

/* RFC 9293 with the RFC 5961 mitigations required: challenge ACKs for in-window RSTs and
 * for SYNs, and the MAX.SND.WND check on ACK values. */
static const struct sfo_profile profile_rfc5961 = {
    .name = "rfc5961",
    .summary = "RFC 9293 with RFC 5961 challenge ACKs and ACK validation required",
    .flags = SFO_PF_RFC5961,
    .msl2_ms = 240000,
    .rto_min_ms = 200,
    .rto_must_ms = 4000,
    .delack_max_ms = 500,
    .fin2_timeout_ms = 0,
    .user_timeout_ms = 100000,
    .accept = accept_none,
};

static const struct sfo_profile *const profiles[] = {
    &profile_rfc9293, &profile_rfc5961, &sfo_profile_linux, &sfo_profile_lwip, &sfo_profile_slirp,
};

size_t sfo_profile_count(void)
{
	return sizeof profiles / sizeof profiles[0];
}

const struct sfo_profile *sfo_profile_at(size_t i)
{
	return i < sfo_profile_count() ? profiles[i] : NULL;
}

const struct sfo_profile *sfo_profile_default(void)
{
	return &profile_rfc9293;
}

const struct sfo_profile *sfo_profile_find(const char *name)
{
	if (!name)
		return NULL;
	for (size_t i = 0; i < sfo_profile_count(); i++)
		if (strcmp(profiles[i]->name, name) == 0)
			return profiles[i];
	return NULL;
}

const struct sfo_accept *sfo_profile_accepts(const struct sfo_profile *p, sfo_rule_t rule, int kind)
{
	const struct sfo_rule_info *ri = sfo_rule(rule);
	if (!p || !p->accept || !ri)
		return NULL;
	for (const struct sfo_accept *a = p->accept; a->rule_id; a++)
		if (strcmp(a->rule_id, ri->id) == 0 && (a->kind == -1 || a->kind == kind))
			return a;
	return NULL;
}
