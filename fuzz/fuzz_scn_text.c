/* libFuzzer entry for synfin's own input: the text scenario parser (harness/scenario_parse.c).
 * Scenario files come from other people (corpora, findings, regression suites), so the
 * parser must take any bytes: an error is "fname:line:col: reason", never a crash, a
 * leak or undefined behaviour (run under ASan+UBSan). Property: what parses formats to
 * text that parses to an equal scenario, and formats to the same text again.
 * tools/fuzz_inputs.sh runs it in CI. An entry point, so it may print and abort. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scenario.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fail(const char *what, const char *a, const char *b)
{
	fprintf(stderr, "fuzz_scn_text: %s\n--- first:\n%s\n--- second:\n%s\n", what, a, b);
	abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sfh_scenario s, t;
	char err[512];
	if (sfh_scn_parse((const char *)data, size, "in.scn", &s, err, sizeof err) != 0) {
		if (strncmp(err, "in.scn", 6) != 0 || strlen(err) >= sizeof err)
			fail("an error that does not name the file", err, "");
		return 0;
	}
	size_t need = sfh_scn_format(&s, NULL, 0) + 1;
	char *a = malloc(need), *b = malloc(need);
	if (!a || !b)
		abort();
	sfh_scn_format(&s, a, need);
	if (sfh_scn_parse(a, strlen(a), "formatted", &t, err, sizeof err) != 0)
		fail("the formatted text does not parse", a, err);
	if (!sfh_scn_equal(&s, &t))
		fail("the formatted text parses to another scenario", a, "");
	if (sfh_scn_format(&t, b, need) + 1 != need || strcmp(a, b) != 0)
		fail("formatting is not stable", a, b);
	free(a);
	free(b);
	return 0;
}
