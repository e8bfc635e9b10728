/* What the command files of fuzz/ share (cli.c: fuzz and minimize; cli_triage.c:
 * triage and the root-cause table). Entry points: these functions print. */
#ifndef SYNFIN_FUZZ_CLI_PRIV_H
#define SYNFIN_FUZZ_CLI_PRIV_H

#include <stdio.h>

#include "fuzz_priv.h"

#define EXIT_FOUND 1
#define EXIT_BAD   2
#define MAX_ARGS   256

struct label_opts {
	const char *baseline; /* a baseline file, or NULL */
	const char *regress;  /* the regression corpus, or NULL for the default */
	int no_known;	      /* do not re-run the corpus to label known causes */
};

/* The value of option lng/shrt at argv[*i] ("--x=V", "--x V", "-x V"), advancing *i;
 * NULL if argv[*i] is not that option. */
const char *sff_cli_opt_value(int argc, char **argv, int *i, const char *lng, const char *shrt);
int sff_cli_is_opt(const char *a, const char *lng, const char *shrt);
/* A whole number option (--lng N or --lng=N) within [min, max] into *out: 0, or -1
 * after saying what is wrong ("--max-runs 'abc': ..."). */
int sff_cli_opt_num(int argc, char **argv, int *i, const char *lng, uint64_t min, uint64_t max,
		    uint64_t *out);

/* Silence stdout (children's lwIP assertion lines); returns the saved fd for unmute. */
int sff_cli_mute_stdout(void);
void sff_cli_unmute(int saved);

/* Label tr's groups: pins re-run on ctx's target (NULL: none), the baseline, then the
 * root-cause groups. 0, or -1 with err. */
int sff_cli_label(struct sff_triage *tr, struct sff_runctx *ctx, const char *target,
		  const struct label_opts *lo, char *err, size_t errlen);
unsigned sff_cli_new_causes(const struct sff_triage *tr);
void sff_cli_print_table(FILE *f, const struct sff_triage *tr);
void sff_cli_print_causes(FILE *f, const struct sff_triage *tr, int only_new, size_t top,
			  const char *more);
int sff_cli_write_summary(const char *out, const struct sff_triage *tr);

/* corpus/SUB here, else $SYNFIN_SRC/corpus/SUB, else the installed share/synfin/SUB
 * (beside the binary's bin/, then the prefix it was built for); NULL if none. */
const char *sff_cli_data_dir(const char *sub, char *buf, size_t cap);

/* `synfin replay`, `synfin ci`, `synfin lifecycle` (ci/cli_ci.c); -1: not one of them */
int sfc_cli(const char *cmd, int argc, char **argv);
/* Draw the lifecycle the inputs under dirs cover on target to out (.svg or .dot), as
 * `synfin lifecycle` does; prints where. 0, or -1 (said why on stderr). */
int sfc_cli_lifecycle_of(const char *target, const char *profile, int ndirs, char **dirs,
			 const char *out);

/* `synfin minimize` (cli_minimize.c) */
int sff_cli_minimize(int argc, char **argv);

/* `synfin triage` */
int sff_cli_triage(int argc, char **argv);
/* `synfin diff` (cli_diff.c) */
int sff_cli_diff(int argc, char **argv);

#endif
