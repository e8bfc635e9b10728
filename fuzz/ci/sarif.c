/* SARIF 2.1.0 for code-scanning tools: the rule table as the driver's rules, one result
 * per root-cause group. A group that is neither known nor baselined is "new" in SARIF's
 * baselineState; the others "unchanged", so a scanning UI can show only what is new. */
#include <string.h>
#include <sys/stat.h>

#include "ci.h"

static const char *level_of(const char *severity)
{
	/* MUST: a departure from a requirement; SHOULD: a recommendation; MAY and
	 * PROFILE: behaviour worth a look, not a defect by the RFC's letter */
	if (strcmp(severity, "MUST") == 0)
		return "error";
	if (strcmp(severity, "SHOULD") == 0)
		return "warning";
	return "note";
}

static void rule_json(FILE *f, const struct sfo_rule_info *ri, int first)
{
	char text[512];
	fputs(first ? "\n" : ",\n", f);
	fputs("        {\"id\": ", f);
	sfh_json_str(f, ri->id);
	fputs(", \"name\": ", f);
	sfh_json_str(f, ri->id);
	fputs(",\n         \"shortDescription\": {\"text\": ", f);
	sfh_json_str(f, ri->title);
	fputs("},\n         \"fullDescription\": {\"text\": ", f);
	if (ri->section[0])
		snprintf(text, sizeof text, "RFC 9293 %s%s%s: %s", ri->section,
			 ri->req[0] ? " " : "", ri->req, ri->title);
	else
		snprintf(text, sizeof text, "%s", ri->title);
	sfh_json_str(f, text);
	fputs("},\n         \"help\": {\"text\": ", f);
	snprintf(text, sizeof text,
		 "%s. Run 'synfin explain %s' for the rule; re-run the finding's scenario.scn "
		 "with 'synfin run --target T' to see the exchange step by step.",
		 ri->title, ri->id);
	sfh_json_str(f, text);
	fputs("},\n         \"defaultConfiguration\": {\"level\": ", f);
	sfh_json_str(f, level_of(sfo_severity_name(ri->sev)));
	fputs("},\n         \"properties\": {\"rfc9293Section\": ", f);
	sfh_json_str(f, ri->section);
	fputs(", \"requirement\": ", f);
	sfh_json_str(f, ri->req);
	fputs(", \"severity\": ", f);
	sfh_json_str(f, sfo_severity_name(ri->sev));
	fputs("}}", f);
}

/* A path relative to base when it lies under it (the uri of a SRCROOT location). */
static const char *rel_to(const char *path, const char *base)
{
	size_t n = base ? strlen(base) : 0;
	while (n > 1 && base[n - 1] == '/')
		n--;
	if (n && strncmp(path, base, n) == 0 && path[n] == '/')
		return path + n + 1;
	return path;
}

static void location(FILE *f, const char *uri, const char *base, const char *what)
{
	fputs("{\"physicalLocation\": {\"artifactLocation\": {\"uri\": ", f);
	sfh_json_str(f, rel_to(uri, base));
	if (base && rel_to(uri, base) != uri)
		fputs(", \"uriBaseId\": \"SRCROOT\"", f);
	fputs("}}, \"message\": {\"text\": ", f);
	sfh_json_str(f, what);
	fputs("}}", f);
}

static void result_json(FILE *f, const struct sff_triage *tr, const struct sff_cause *c,
			const char *base, int first)
{
	const struct sff_group *g = c->example;
	int rule = sfo_rule_find_any(g->rule);
	char msg[1200], rules[256], path[4200];
	struct stat st;
	sff_cause_rules(tr, c, rules, sizeof rules);
	snprintf(msg, sizeof msg, "%s: %s (%u finding%s, %u signature%s; rules: %s)%s%s", c->key,
		 g->detail[0] ? g->detail : g->signature, c->findings, c->findings == 1 ? "" : "s",
		 c->sigs, c->sigs == 1 ? "" : "s", rules, c->known[0] ? "; pinned by " : "",
		 c->known);
	fputs(first ? "\n" : ",\n", f);
	fputs("        {\"ruleId\": ", f);
	sfh_json_str(f, g->rule);
	if (rule >= 0)
		fprintf(f, ", \"ruleIndex\": %d", rule); /* rules, then pseudo-rules */
	fputs(", \"level\": ", f);
	sfh_json_str(f, level_of(c->severity));
	fputs(", \"kind\": \"fail\",\n         \"message\": {\"text\": ", f);
	sfh_json_str(f, msg);
	fputs("},\n         \"baselineState\": ", f);
	sfh_json_str(f, c->is_new ? "new" : "unchanged");
	fputs(",\n         \"locations\": [", f);
	location(f, g->example, base, "the smallest finding of this group");
	fputs("]", f);
	snprintf(path, sizeof path, "%s/scenario.scn", g->example);
	if (stat(path, &st) == 0) {
		fputs(",\n         \"relatedLocations\": [", f);
		fputs("{\"id\": 0, ", f);
		/* a location object without its opening brace: reuse the writer */
		fputs("\"physicalLocation\": {\"artifactLocation\": {\"uri\": ", f);
		sfh_json_str(f, rel_to(path, base));
		if (base && rel_to(path, base) != path)
			fputs(", \"uriBaseId\": \"SRCROOT\"", f);
		fputs("}}, \"message\": {\"text\": \"the minimized scenario (synfin run replays "
		      "it)\"}}]",
		      f);
	}
	fputs(",\n         \"partialFingerprints\": {\"synfinGroup/v1\": ", f);
	sfh_json_str(f, c->key);
	fputs("},\n         \"properties\": {\"signature\": ", f);
	sfh_json_str(f, g->signature);
	fputs(", \"kind\": ", f);
	sfh_json_str(f, c->kind);
	fputs(", \"severity\": ", f);
	sfh_json_str(f, c->severity);
	fprintf(f, ", \"findings\": %u, \"signatures\": %u, \"status\": \"%s\"}}", c->findings,
		c->sigs,
		c->is_new      ? "new"
		: c->baselined ? "baselined"
			       : "known");
}

int sfc_sarif_write(FILE *f, const struct sff_triage *tr, const char *target, const char *base)
{
	fputs("{\n  \"$schema\": \"https://json.schemastore.org/sarif-2.1.0.json\",\n"
	      "  \"version\": \"2.1.0\",\n  \"runs\": [\n    {\n"
	      "      \"tool\": {\"driver\": {\"name\": \"synfin\", \"version\": ",
	      f);
	sfh_json_str(f, sfh_version());
	fputs(", \"semanticVersion\": ", f);
	sfh_json_str(f, sfh_version());
	fputs(",\n        \"informationUri\": \"https://www.rfc-editor.org/rfc/rfc9293\",\n"
	      "        \"rules\": [",
	      f);
	int first = 1;
	for (size_t i = 0; i < sfo_rule_count(); i++, first = 0)
		rule_json(f, sfo_rule((sfo_rule_t)i), first);
	for (size_t i = 0; i < sfo_pseudo_rule_count(); i++, first = 0)
		rule_json(f, sfo_pseudo_rule(i), first);
	fputs("]}},\n", f);
	if (base) {
		fputs("      \"originalUriBaseIds\": {\"SRCROOT\": {\"uri\": ", f);
		char uri[4200];
		size_t n = strlen(base);
		snprintf(uri, sizeof uri, "file://%s%s", base, n && base[n - 1] == '/' ? "" : "/");
		sfh_json_str(f, uri);
		fputs("}},\n", f);
	}
	fputs("      \"automationDetails\": {\"id\": ", f);
	char id[300];
	snprintf(id, sizeof id, "synfin/%s/", target);
	sfh_json_str(f, id);
	fputs("},\n      \"columnKind\": \"unicodeCodePoints\",\n      \"results\": [", f);
	for (size_t i = 0; i < tr->nc; i++)
		result_json(f, tr, &tr->c[i], base, i == 0);
	fputs("]\n    }\n  ]\n}\n", f);
	return ferror(f) ? -1 : 0;
}
