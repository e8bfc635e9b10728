/* The rule table (oracle/rules.def), the names, and the profiles: every rule is complete
 * and its id unique and well formed, every profile is found by name, and every accepted
 * difference a profile lists names a rule that exists. */
#include <ctype.h>

#include "model_test.h"

/* "word.word[.word...]": lowercase letters and digits, dot-separated, two parts at least */
static int id_well_formed(const char *id)
{
	int parts = 1, run = 0;
	for (const char *p = id; *p; p++) {
		if (*p == '.') {
			if (!run)
				return 0;
			parts++;
			run = 0;
		} else if (islower((unsigned char)*p) || isdigit((unsigned char)*p)) {
			run++;
		} else {
			return 0;
		}
	}
	return run && parts >= 2;
}

/* "" or MUST-n, SHLD-n, MAY-n (the forms of RFC 9293 Appendix B) */
static int req_well_formed(const char *req)
{
	const char *p;
	if (!*req)
		return 1;
	if (!strncmp(req, "MUST-", 5))
		p = req + 5;
	else if (!strncmp(req, "SHLD-", 5))
		p = req + 5;
	else if (!strncmp(req, "MAY-", 4))
		p = req + 4;
	else
		return 0;
	if (!isdigit((unsigned char)*p) || *p == '0')
		return 0;
	while (isdigit((unsigned char)*p))
		p++;
	return *p == '\0';
}

/* "3.10.7.4": an RFC 9293 section number */
static int section_well_formed(const char *s)
{
	if (s[0] != '3' || s[1] != '.')
		return 0;
	for (const char *p = s; *p; p++)
		if (!isdigit((unsigned char)*p) && !(*p == '.' && isdigit((unsigned char)p[1])))
			return 0;
	return 1;
}

static void rules_complete_unique_well_formed(void)
{
	size_t n = sfo_rule_count();
	CHECK(n > 50);
	for (size_t i = 0; i < n; i++) {
		const struct sfo_rule_info *r = sfo_rule((sfo_rule_t)i);
		CHECK(r != NULL);
		if (!r)
			continue;
		CHECK(r->id && id_well_formed(r->id));
		CHECK(r->section && section_well_formed(r->section));
		CHECK(r->req && req_well_formed(r->req));
		CHECK(r->title && strlen(r->title) > 10 && strlen(r->title) < 100);
		CHECK(r->sev == SFO_SEV_MUST || r->sev == SFO_SEV_SHOULD || r->sev == SFO_SEV_MAY ||
		      r->sev == SFO_SEV_PROFILE);
		CHECK_EQ(sfo_rule_find(r->id), (int)i);
		for (size_t j = 0; j < i; j++)
			CHECK(strcmp(sfo_rule((sfo_rule_t)j)->id, r->id) != 0);
		if (!id_well_formed(r->id) || !req_well_formed(r->req))
			fprintf(stderr, "  rule %zu: %s [%s]\n", i, r->id, r->req);
	}
	CHECK(sfo_rule((sfo_rule_t)n) == NULL);
	CHECK_EQ(sfo_rule_find("no.such.rule"), -1);
	CHECK_EQ(sfo_rule_find(NULL), -1);
}

/* The ids other files rely on stay put (finding signatures, profiles, corpus). */
static void rules_known_ids_present(void)
{
	static const char *const ids[] = {
	    "listen.syn",	   "synrcvd.rst.passive",  "synrcvd.rst.active",
	    "timewait.fin.reack",  "seq.unacceptable.ack", "rst.inwin.challenge",
	    "rst.exact",	   "syn.challenge",	   "timewait.hold",
	    "timewait.expire",	   "ack.delayed",	   "rtx.required",
	    "synsent.syn.simopen", "synrcvd.syn.dup",	   "data.after.close.rst",
	};
	for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++)
		CHECK(sfo_rule_find(ids[i]) >= 0);
	CHECK_STR(sfo_rule((sfo_rule_t)sfo_rule_find("synrcvd.rst.passive"))->req, "MUST-11");
	CHECK_STR(sfo_rule((sfo_rule_t)sfo_rule_find("synsent.syn.simopen"))->req, "MUST-10");
	CHECK_STR(sfo_rule((sfo_rule_t)sfo_rule_find("timewait.hold"))->req, "MUST-13");
	CHECK_STR(sfo_rule((sfo_rule_t)sfo_rule_find("ack.delayed"))->req, "MUST-40");
	CHECK_STR(sfo_rule((sfo_rule_t)sfo_rule_find("timewait.syn.reopen"))->req, "MAY-2");
	CHECK_STR(sfo_rule((sfo_rule_t)sfo_rule_find("call.close.unread.rst"))->req, "SHLD-3");
}

static void profiles_found_by_name(void)
{
	static const char *const names[] = {"rfc9293", "rfc5961", "linux", "lwip", "slirp"};
	CHECK_EQ(sfo_profile_count(), sizeof names / sizeof names[0]);
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
		const struct sfo_profile *p = sfo_profile_find(names[i]);
		CHECK(p != NULL);
		if (!p)
			continue;
		CHECK_STR(p->name, names[i]);
		CHECK(p->summary && *p->summary);
		CHECK(p->msl2_ms > 0 && p->rto_min_ms > 0 && p->delack_max_ms > 0);
		CHECK(p->rto_must_ms >= p->rto_min_ms);
		CHECK(p->user_timeout_ms >= p->rto_must_ms);
		CHECK(p->accept != NULL);
	}
	for (size_t i = 0; i < sfo_profile_count(); i++)
		CHECK(sfo_profile_find(sfo_profile_at(i)->name) == sfo_profile_at(i));
	CHECK(sfo_profile_at(sfo_profile_count()) == NULL);
	CHECK(sfo_profile_find("bsd") == NULL);
	CHECK(sfo_profile_find(NULL) == NULL);
	CHECK(sfo_profile_default() == sfo_profile_find("rfc9293"));
}

static void profiles_rfc_figures_and_flags(void)
{
	const struct sfo_profile *d = sfo_profile_find("rfc9293"), *s = sfo_profile_find("rfc5961");
	CHECK_EQ(d->msl2_ms, 240000);
	CHECK_EQ(d->rto_min_ms, 200);
	CHECK_EQ(d->rto_must_ms, 4000);
	CHECK_EQ(d->delack_max_ms, 500);
	CHECK_EQ(d->fin2_timeout_ms, 0);
	CHECK_EQ(d->user_timeout_ms, 100000);
	CHECK(d->flags & SFO_PF_RFC5961_OK);
	CHECK(!(d->flags & SFO_PF_RFC5961));
	CHECK(s->flags & SFO_PF_RFC5961);
}

/* Every accepted difference names a real rule and a real kind. */
static void profiles_accept_known_rules(void)
{
	for (size_t i = 0; i < sfo_profile_count(); i++) {
		const struct sfo_profile *p = sfo_profile_at(i);
		for (const struct sfo_accept *a = p->accept; a && a->rule_id; a++) {
			int r = sfo_rule_find(a->rule_id);
			if (r < 0)
				fprintf(stderr, "  profile %s accepts unknown rule %s\n", p->name,
					a->rule_id);
			CHECK(r >= 0);
			CHECK(a->kind == -1 || (a->kind > SFO_DIV_OK && a->kind < SFO_NDIV_KINDS));
			CHECK(a->reason && *a->reason);
			if (r >= 0)
				CHECK(sfo_profile_accepts(p, (sfo_rule_t)r,
							  a->kind < 0 ? SFO_DIV_STATE : a->kind) !=
				      NULL);
		}
	}
}

static void profile_accepts_matches_rule_and_kind(void)
{
	static const struct sfo_accept acc[] = {
	    {"timewait.hold", SFO_DIV_STATE, "shorter MSL"},
	    {"ack.future", -1, "silent"},
	    {NULL, -1, NULL},
	};
	struct sfo_profile p = *sfo_profile_default();
	p.accept = acc;
	sfo_rule_t hold = (sfo_rule_t)sfo_rule_find("timewait.hold");
	sfo_rule_t fut = (sfo_rule_t)sfo_rule_find("ack.future");
	CHECK(sfo_profile_accepts(&p, hold, SFO_DIV_STATE) == &acc[0]);
	CHECK(sfo_profile_accepts(&p, hold, SFO_DIV_MISSING) == NULL);
	CHECK(sfo_profile_accepts(&p, fut, SFO_DIV_MISSING) == &acc[1]);
	CHECK(sfo_profile_accepts(sfo_profile_default(), fut, SFO_DIV_MISSING) == NULL);
	CHECK(sfo_profile_accepts(NULL, fut, SFO_DIV_MISSING) == NULL);
	/* and the judge reports it */
	struct world w;
	struct sfo_expect e;
	at(&w, SFO_TIME_WAIT, "rfc9293");
	w.ocfg.profile = &p;
	struct sfo_event ev;
	memset(&ev, 0, sizeof ev);
	ev.kind = SFO_EV_WAIT;
	ev.u.wait_ms = 60000;
	probe_ev(&w, &ev, &e);
	CHECK_EQ(JUDGE0(&w, &e, SFO_CLOSED), SFO_DIV_STATE);
	CHECK(w.v.accepted == &acc[0]);
	CHECK_EQ(w.v.before, SFO_TIME_WAIT);
	CHECK_EQ(w.v.expected, SFO_TIME_WAIT);
	CHECK_EQ(w.v.observed, SFO_CLOSED);
	CHECK_EQ(w.v.evclass, SFO_EC_WAIT_RTO);
}

static void names_round_trip(void)
{
	for (int s = 0; s < SFO_NSTATES; s++) {
		const char *n = sfo_state_name((enum sfo_state)s);
		CHECK_EQ(sfo_state_parse(n, strlen(n)), s);
	}
	CHECK_STR(sfo_state_name(SFO_SYN_RECEIVED), "SYN-RECEIVED");
	CHECK_STR(sfo_state_name(SFO_STATE_UNKNOWN), "?");
	CHECK_EQ(sfo_state_parse("syn_received", 12), SFO_SYN_RECEIVED);
	CHECK_EQ(sfo_state_parse("TIME_WAIT", 9), SFO_TIME_WAIT);
	CHECK_EQ(sfo_state_parse("time-wai", 8), -1);
	CHECK_EQ(sfo_state_parse("CLOSEDX", 7), -1);
	for (int c = 0; c < SFO_NCALLS; c++) {
		const char *n = sfo_call_name((enum sfo_call)c);
		CHECK_EQ(sfo_call_parse(n, strlen(n)), c);
	}
	CHECK_EQ(sfo_call_parse("Shutdown", 8), SFO_CALL_SHUTDOWN);
	CHECK_EQ(sfo_call_parse("bind", 4), -1);
	for (int i = 0; i < SFO_NEVCLASSES; i++)
		for (int j = 0; j < i; j++)
			CHECK(strcmp(sfo_evclass_name((enum sfo_evclass)i),
				     sfo_evclass_name((enum sfo_evclass)j)) != 0);
	CHECK_STR(sfo_evclass_name(SFO_EC_RST_INWIN), "rst-inwin");
	CHECK_STR(sfo_div_kind_name(SFO_DIV_FIELD), "wrong-field");
	CHECK_STR(sfo_severity_name(SFO_SEV_SHOULD), "SHOULD");
	struct sfo_seg s = mkseg(SFO_SYN | SFO_ACK, 0, 0, 0);
	CHECK_EQ(sfo_resp_class(&s), SFO_RESP_SYNACK);
	s = mkseg(SFO_FIN | SFO_ACK, 0, 0, 3);
	CHECK_EQ(sfo_resp_class(&s), SFO_RESP_FIN);
	s = mkseg(SFO_ACK, 0, 0, 3);
	CHECK_EQ(sfo_resp_class(&s), SFO_RESP_DATA);
	CHECK_EQ(sfo_resp_class(NULL), SFO_RESP_NONE);
	CHECK_STR(sfo_resp_name(SFO_RESP_RST), "rst");
}

int main(void)
{
	rules_complete_unique_well_formed();
	rules_known_ids_present();
	profiles_found_by_name();
	profiles_rfc_figures_and_flags();
	profiles_accept_known_rules();
	profile_accepts_matches_rule_and_kind();
	names_round_trip();
	return check_done();
}
