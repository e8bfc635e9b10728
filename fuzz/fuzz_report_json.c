/* libFuzzer entry for synfin's own input: report.json as `synfin triage` reads it from
 * finding directories others wrote (fuzz/triage.c). Any bytes: no crash, leak or
 * undefined behaviour under ASan+UBSan, and nothing of the file reaches the terminal
 * table, the Markdown or the JSON output as a control character (an ANSI or OSC
 * sequence planted in a report would be obeyed by the terminal). tools/fuzz_inputs.sh
 * runs it in CI. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_priv.h"
#include "fuzz_priv.h"

static void check_output(const char *what, char *buf, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)buf[i];
		if ((c < 0x20 && c != '\n') || c == 0x7f) {
			fprintf(stderr,
				"fuzz_report_json: control character 0x%02x in the %s:\n%s\n", c,
				what, buf);
			abort();
		}
	}
}

static void render(const char *what, const struct sff_triage *tr, int kind)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	if (!f)
		abort();
	if (kind == 0)
		sff_cli_print_table(f, tr);
	else if (kind == 1)
		sff_cli_print_causes(f, tr, 0, 0, "");
	else if (kind == 2)
		sff_triage_markdown(f, tr);
	else
		sff_triage_json(f, tr);
	fclose(f);
	check_output(what, buf, len);
	free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sff_triage tr = {0};
	char *json = malloc(size + 1);
	if (!json)
		abort();
	memcpy(json, data, size);
	json[size] = 0;
	/* twice: the second lands in the group of the first when the signature is the same */
	if (sff_triage_add_report(&tr, json, "0123456789abcdef") >= 0 &&
	    sff_triage_add_report(&tr, json, "fedcba9876543210") >= 0) {
		sff_triage_sort(&tr);
		render("table", &tr, 0);
		render("cause table", &tr, 1);
		render("Markdown", &tr, 2);
		render("JSON", &tr, 3);
	}
	sff_triage_free(&tr);
	free(json);
	return 0;
}
