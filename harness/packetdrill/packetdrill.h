/* synfin and packetdrill: scenarios to and from packetdrill scripts.
 *
 * Export (sfh_pd_export) plays a scenario on a target with the runner's step feed, then
 * writes the exchange as a packetdrill script for the Linux kernel: every step before the
 * divergence as the stack really answered it, the divergent step as RFC 9293 wants it
 * (the reference outcome of the model), and a closing probe whose answer the model
 * predicts, so that a response the RFC does not want makes the script fail too. Run
 * against a stack with the divergence, the script fails at the divergent step; against
 * one without it, it passes. docs/packetdrill.md describes the mapping.
 *
 * Import (sfh_pd_import) reads the subset of packetdrill used by lifecycle tests into a
 * scenario; what it cannot carry over is either an error ("file:line: not supported: ...")
 * or, for a check the scenario language cannot state, a note counted as a loss.
 */
#ifndef SYNFIN_PACKETDRILL_H
#define SYNFIN_PACKETDRILL_H

#include <stddef.h>
#include <stdio.h>

#include "oracle.h"
#include "scenario.h"

/* What an export found (for the command's summary and tests). */
struct sfh_pd_export_info {
	int diverged;	       /* the run diverged: the script should fail on this target */
	unsigned div_pkt_line; /* line of the script where the divergent step's check is */
	unsigned probe_line;   /* line of the closing probe's expected answer (0: none) */
	unsigned state_line;   /* line of the divergent step's state check (0: none) */
	char signature[160];   /* the run's signature, or "" when conformant */
	char detail[240];      /* the verdict's detail */
};

/* Play s on target spec `target` (judged by profile p, NULL: the target's) and write the
 * script to out. 0, or -1 with a reason in err (nothing useful written). */
int sfh_pd_export(const struct sfh_scenario *s, const char *scn_name, const char *target,
		  const struct sfo_profile *p, FILE *out, struct sfh_pd_export_info *info,
		  char *err, size_t errlen);

#define SFH_PD_MAX_DEFS	 32
#define SFH_PD_MAX_NOTES 64

/* -D NAME[=VALUE] definitions: for #ifdef/#ifndef/#else/#endif and word substitution. */
struct sfh_pd_defs {
	size_t n;
	char name[SFH_PD_MAX_DEFS][64];
	char value[SFH_PD_MAX_DEFS][64];
};

/* Checks the scenario cannot state, one per note ("file:line: not checked: ..."). */
struct sfh_pd_import_notes {
	size_t n, dropped; /* dropped: notes beyond SFH_PD_MAX_NOTES */
	char note[SFH_PD_MAX_NOTES][200];
};

/* Import the packetdrill script text[0..len) as scenario text: *scn (malloc'd, the
 * caller frees) parses to *out. 0, or -1 with "fname:line: not supported: ..." (or
 * another reason) in err and nothing allocated. */
int sfh_pd_import(const char *text, size_t len, const char *fname, const struct sfh_pd_defs *defs,
		  char **scn, struct sfh_scenario *out, struct sfh_pd_import_notes *notes,
		  char *err, size_t errlen);

/* `synfin import` and `synfin export` (cli.c here). */
int sfh_cli_packetdrill(const char *cmd, int argc, char **argv);

#endif
