/* libFuzzer entry for synfin's own input: the binary scenario form (harness/
 * scenario_bin.c), which libFuzzer crash files and corpora from other jobs carry.
 * Decoding is total: any bytes give a valid scenario. Properties: decode(encode(s)) == s
 * (the round trip), the encoding fits SFH_MAX_ENCODED, and the scenario's text form
 * parses back to the same scenario (a finding is written and verified as text).
 * tools/fuzz_inputs.sh runs it in CI under ASan+UBSan. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scenario.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fail(const char *what, const uint8_t *data, size_t size)
{
	fprintf(stderr, "fuzz_scn_bin: %s (input of %zu bytes)\n", what, size);
	for (size_t i = 0; i < size && i < 256; i++)
		fprintf(stderr, "%02x%s", data[i], i % 32 == 31 ? "\n" : "");
	fputc('\n', stderr);
	abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sfh_scenario s, t;
	uint8_t buf[SFH_MAX_ENCODED];
	char err[512];
	sfh_scn_decode(data, size, &s);
	size_t n = sfh_scn_encode(&s, buf, sizeof buf);
	if (n > sizeof buf)
		fail("the encoding does not fit SFH_MAX_ENCODED", data, size);
	sfh_scn_decode(buf, n, &t);
	if (!sfh_scn_equal(&s, &t))
		fail("decode(encode(s)) != s", data, size);
	size_t need = sfh_scn_format(&s, NULL, 0) + 1;
	char *text = malloc(need);
	if (!text)
		abort();
	sfh_scn_format(&s, text, need);
	if (sfh_scn_parse(text, strlen(text), "decoded", &t, err, sizeof err) != 0) {
		fprintf(stderr, "%s\n%s\n", text, err);
		fail("the text form of a decoded scenario does not parse", data, size);
	}
	if (!sfh_scn_equal(&s, &t)) {
		fprintf(stderr, "%s\n", text);
		fail("the text form of a decoded scenario parses to another one", data, size);
	}
	free(text);
	return 0;
}
