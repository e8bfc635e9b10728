/* `synfin minimize`: shrink a scenario (text, or a binary input such as a libFuzzer crash
 * file) while its divergence keeps its signature (minimize.c does the shrinking). An entry
 * point: this file prints. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_priv.h"
#include "fuzz.h"
#include "fuzz_priv.h"
#include "profile_file.h"
#include "safeio.h"

static const char usage_minimize[] =
    "usage: synfin minimize FILE --target T [-o OUT] [--profile P] [--max-runs N]\n"
    "\n"
    "Shrinks the scenario in FILE (text, or a binary input such as a libFuzzer crash file)\n"
    "while its divergence keeps the same signature: deletes events, then simplifies fields\n"
    "(offsets toward 0, no payload, no options, shorter waits). Writes the text form to\n"
    "OUT (default: standard output) with an '#! expect' line for the regression corpus.\n"
    "\n"
    "Exit: 0 minimized, 1 the scenario shows no divergence, 2 bad input or environment.\n";

/* ---- minimize ---- */

/* A scenario from FILE: the text form, or else the binary form (a libFuzzer input). */
/* A file meant as text: nearly every byte printable or white space. A text scenario with
 * one bad byte stays text (its parse error is the answer), where a binary input is bytes
 * of every value. */
static int looks_like_text(const uint8_t *data, size_t len)
{
	size_t other = 0;
	for (size_t i = 0; i < len; i++)
		other +=
		    data[i] == 0 ||
		    (data[i] < 0x20 && data[i] != '\n' && data[i] != '\t' && data[i] != '\r') ||
		    data[i] == 0x7f;
	return other * 10 < len; /* under a tenth */
}

static int load_any(const char *path, struct sfh_scenario *s, int *binary)
{
	char err[512], rerr[512];
	size_t len;
	*binary = 0;
	if (sfh_scn_load(path, s, err, sizeof err) == 0)
		return 0;
	uint8_t *data =
	    sfh_io_read_all(path, SFH_IO_OWNED_LINKS, 1u << 20, &len, NULL, rerr, sizeof rerr);
	if (!data) {
		fputs("synfin minimize: ", stderr);
		sfh_io_term_puts(stderr, err);
		fputc('\n', stderr);
		return -1;
	}
	const char *why = len == 0 ? "empty file: no scenario" : NULL;
	if (!why && looks_like_text(data, len)) {
		fputs("synfin minimize: ", stderr);
		sfh_io_term_puts(stderr, err); /* the text form's own error, file:line:col */
		fputc('\n', stderr);
		free(data);
		return -1;
	}
	if (!why) {
		sff_scn_from_input(data, len, s); /* with the ISNs the fuzz core gave it */
		sff_scn_strip(s);
		if (s->nev == 0)
			why = "decodes (binary form) to no events: no scenario";
	}
	free(data);
	if (why) {
		fputs("synfin minimize: ", stderr);
		sfh_io_term_puts(stderr, path);
		fprintf(stderr, ": %s\n", why);
		return -1;
	}
	*binary = 1;
	return 0;
}

int sff_cli_minimize(int argc, char **argv)
{
	const char *target = NULL, *out = NULL, *profile = NULL, *file = NULL;
	uint64_t num;
	int max_runs = 0, binary, rc = EXIT_BAD;
	char err[512];
	struct sfh_scenario s;
	struct sfh_result res;
	struct sff_runctx ctx = {.timeout_s = 10};
	struct sfh_io_atomic outf = {.dirfd = -1};
	FILE *f = NULL;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
			fputs(usage_minimize, stdout);
			return 0;
		} else if (sff_cli_is_opt(argv[i], "--target", "-t")) {
			if (!(target = sff_cli_opt_value(argc, argv, &i, "--target", "-t")))
				return EXIT_BAD;
		} else if (sff_cli_is_opt(argv[i], "--out", "-o")) {
			if (!(out = sff_cli_opt_value(argc, argv, &i, "--out", "-o")))
				return EXIT_BAD;
		} else if (sff_cli_is_opt(argv[i], "--profile", "-p")) {
			if (!(profile = sff_cli_opt_value(argc, argv, &i, "--profile", "-p")))
				return EXIT_BAD;
		} else if (sff_cli_is_opt(argv[i], "--max-runs", NULL)) {
			if (sff_cli_opt_num(argc, argv, &i, "--max-runs", 1, 10000000, &num) != 0)
				return EXIT_BAD;
			max_runs = (int)num;
		} else if (argv[i][0] == '-' || file) {
			fprintf(stderr, "synfin minimize: unexpected '%s'\n%s", argv[i],
				usage_minimize);
			return EXIT_BAD;
		} else {
			file = argv[i];
		}
	}
	if (!file || !target) {
		fprintf(stderr, "synfin minimize: %s\n%s",
			file ? "--target is required" : "no FILE", usage_minimize);
		return EXIT_BAD;
	}
	if (load_any(file, &s, &binary) != 0)
		return EXIT_BAD;
	if (sfh_target_open(target, &ctx.target, err, sizeof err) != 0 ||
	    !(ctx.runner = sfh_runner_new(err, sizeof err))) {
		fprintf(stderr, "synfin minimize: %s\n", err);
		goto exit;
	}
	ctx.profile = profile ? sfh_profile_find(profile) : NULL;
	if (profile && !ctx.profile) {
		fprintf(stderr, "synfin minimize: unknown profile '%s'\n", profile);
		goto exit;
	}
	if (!ctx.profile && ctx.target->ops->profile)
		ctx.profile = sfh_profile_find(ctx.target->ops->profile);
	/* The first run decides: a stack that crashes is minimised in child processes. */
	ctx.isolate = (ctx.target->ops->caps & SFH_CAP_INPROC) != 0;
	if (sff_run_once(&ctx, &s, &res) != 0) {
		fprintf(stderr, "synfin minimize: %s\n", res.err);
		goto exit;
	}
	if (res.verdict.kind == SFO_DIV_OK || res.verdict.accepted) {
		fprintf(stderr, "synfin minimize: %s shows no divergence on %s: nothing to keep\n",
			file, target);
		rc = EXIT_FOUND;
		goto exit;
	}
	ctx.isolate =
	    ctx.isolate && (res.verdict.kind == SFO_DIV_CRASH || res.verdict.kind == SFO_DIV_HANG);
	uint32_t before = s.nev;
	int runs = sff_minimize(&ctx, &s, res.sig_hash, max_runs);
	if (runs < 0) {
		fprintf(stderr, "synfin minimize: %s: the divergence does not reproduce (flaky)\n",
			file);
		rc = EXIT_FOUND;
		goto exit;
	}
	size_t need = sfh_scn_format(&s, NULL, 0) + 1;
	char *text = malloc(need);
	if (!text)
		goto exit;
	sfh_scn_format(&s, text, need);
	f = out ? sfh_io_atomic_open(&outf, out, 0644, err, sizeof err) : stdout;
	if (!f) {
		fprintf(stderr, "synfin minimize: %s\n", err);
		free(text);
		goto exit;
	}
	const struct sfo_rule_info *ri = sfo_rule_any(res.verdict.rule);
	fprintf(f, "# minimized by synfin from %s%s: %s\n", file, binary ? " (binary)" : "",
		res.signature);
	fprintf(f, "#! expect %s divergence %s %s%s%s\n", target, ri ? ri->id : "?",
		sfo_div_kind_name(res.verdict.kind), res.crash.site[0] ? " " : "", res.crash.site);
	fputs(text, f);
	free(text);
	if (out ? sfh_io_atomic_commit(&outf, err, sizeof err) != 0
		: fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "synfin minimize: %s\n", out ? err : strerror(errno));
		goto exit;
	}
	fprintf(stderr, "synfin minimize: %s: %u -> %u events in %d runs\n", res.signature, before,
		s.nev, runs);
	rc = 0;
exit:
	sfh_io_atomic_abort(&outf);
	sff_runctx_dispose(&ctx);
	sfh_runner_free(ctx.runner);
	sfh_target_close(ctx.target);
	return rc;
}

