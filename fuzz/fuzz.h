/* synfin fuzz: libFuzzer campaigns over scenarios, minimization and triage.
 * The `synfin` command hands its fuzz, minimize and triage sub-commands here. */
#ifndef SYNFIN_FUZZ_H
#define SYNFIN_FUZZ_H

/* Run sub-command cmd ("fuzz", "minimize", "triage") with its own argv (argv[0] is cmd).
 * Returns the process exit code: 0 nothing found / success, 1 findings, 2 bad input. */
int sfh_cli_fuzz(const char *cmd, int argc, char **argv);

#endif
