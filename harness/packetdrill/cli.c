/* `synfin import` and `synfin export --packetdrill`: the commands over import.c and
 * export.c. An entry point: this file prints. Exit: 0 done, 2 bad input or environment
 * (and for import, a script with a construct it cannot carry over). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "packetdrill.h"
#include "scenario.h"
#include "target.h"

#define EXIT_BAD 2

static const char usage_export[] =
    "usage: synfin export --packetdrill [--target T] [--profile P] [-o FILE] FINDING|FILE.scn\n"
    "\n"
    "Plays the scenario (a finding directory's scenario.scn, or a scenario file) on target\n"
    "T (default linux) and writes it as a packetdrill script for the Linux kernel: the\n"
    "steps before a divergence as the stack answered them, the divergent step as RFC 9293\n"
    "wants it, and a closing probe. The script fails on a stack with the divergence and\n"
    "passes on one without it. Run it as root in a private network namespace:\n"
    "  unshare -n sh -c 'ip link set lo up; packetdrill FILE.pkt'\n"
    "\n"
    "  -t, --target T    the target to record from (linux needs root; model writes the\n"
    "                    RFC's reference answers throughout)\n"
    "  -p, --profile P   judge by profile P (default: the target's own)\n"
    "  -o, --out FILE    write the script to FILE (default: standard output)\n"
    "\n"
    "Exit: 0 written, 2 bad input, a scenario packetdrill cannot express, or environment.\n";

static const char usage_import[] =
    "usage: synfin import [-D NAME[=VALUE]]... [-o DIR] FILE.pkt...\n"
    "\n"
    "Reads packetdrill scripts (the subset lifecycle tests use: socket, bind, listen,\n"
    "accept, connect, write, read, shutdown, close, SO_LINGER, non-blocking fcntl, TCP\n"
    "packets with flags, numbers, window and options, relative and absolute times,\n"
    "tcpi_state assertions, #ifdef/#ifndef/#else/#endif) and writes each as a scenario:\n"
    "DIR/NAME.scn, or the one scenario to standard output without -o. A check a scenario\n"
    "cannot state is reported as 'FILE:LINE: not checked: ...'; a construct it cannot\n"
    "play is an error, 'FILE:LINE: not supported: ...'.\n"
    "\n"
    "  -D NAME[=VALUE]   define NAME for #ifdef, and replace the word NAME by VALUE\n"
    "  -o, --out DIR     the directory for the scenarios (created if missing)\n"
    "  -q, --quiet       no notes, only errors and the summary\n"
    "\n"
    "Exit: 0 every script imported, 2 one or more could not be.\n";

static int read_file(const char *path, char **buf, size_t *len, char *err, size_t errlen)
{
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	struct stat st;
	*buf = NULL;
	if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size > (1 << 20)) {
		snprintf(err, errlen, "%s: %s", path,
			 fd < 0			? strerror(errno)
			 : !S_ISREG(st.st_mode) ? "not a regular file"
						: "larger than 1 MiB");
		if (fd >= 0)
			close(fd);
		return -1;
	}
	*buf = malloc((size_t)st.st_size + 1);
	ssize_t n = *buf ? read(fd, *buf, (size_t)st.st_size) : -1;
	close(fd);
	if (n < 0) {
		snprintf(err, errlen, "%s: %s", path, *buf ? strerror(errno) : "out of memory");
		free(*buf);
		*buf = NULL;
		return -1;
	}
	(*buf)[n] = 0;
	*len = (size_t)n;
	return 0;
}

/* Write text to path through a temporary file and rename: never half-written. */
static int write_atomic(const char *path, const char *text, size_t n, char *err, size_t errlen)
{
	char tmp[4096];
	snprintf(tmp, sizeof tmp, "%s.tmp%ld", path, (long)getpid());
	int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0) {
		snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
		return -1;
	}
	size_t done = 0;
	while (done < n) {
		ssize_t w = write(fd, text + done, n - done);
		if (w <= 0) {
			snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
			close(fd);
			unlink(tmp);
			return -1;
		}
		done += (size_t)w;
	}
	if (close(fd) != 0 || rename(tmp, path) != 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		unlink(tmp);
		return -1;
	}
	return 0;
}

static const char *opt_value(int argc, char **argv, int *i, const char *lng, const char *shrt)
{
	const char *a = argv[*i];
	size_t n = strlen(lng);
	if (strncmp(a, lng, n) == 0 && a[n] == '=')
		return a + n + 1;
	if ((strcmp(a, lng) == 0 || (shrt && strcmp(a, shrt) == 0))) {
		if (*i + 1 >= argc || argv[*i + 1][0] == '-')
			return "";
		return argv[++*i];
	}
	return NULL;
}

static int cmd_export(int argc, char **argv)
{
	const char *target = "linux", *profile = NULL, *outp = NULL, *in = NULL;
	int pd = 0;
	for (int i = 1; i < argc; i++) {
		const char *v = NULL;
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			fputs(usage_export, stdout);
			return 0;
		}
		if (strcmp(argv[i], "--packetdrill") == 0)
			pd = 1;
		else if ((v = opt_value(argc, argv, &i, "--target", "-t")))
			target = v;
		else if ((v = opt_value(argc, argv, &i, "--profile", "-p")))
			profile = v;
		else if ((v = opt_value(argc, argv, &i, "--out", "-o")))
			outp = v;
		else if (argv[i][0] == '-' || in) {
			fprintf(stderr, "synfin export: unexpected argument '%s'\n%s", argv[i],
				usage_export);
			return EXIT_BAD;
		} else
			in = argv[i];
		if (v && !*v) {
			fprintf(stderr, "synfin export: %s needs a value\n", argv[i]);
			return EXIT_BAD;
		}
	}
	if (!pd || !in || !*target) {
		fprintf(stderr, "synfin export: %s\n%s",
			!pd ? "say the format: --packetdrill" : "no finding or scenario given",
			usage_export);
		return EXIT_BAD;
	}
	const struct sfo_profile *prof = NULL;
	if (profile && !(prof = sfo_profile_find(profile))) {
		fprintf(stderr, "synfin export: unknown profile '%s'\n", profile);
		return EXIT_BAD;
	}
	char path[4096], err[512];
	struct stat st;
	if (lstat(in, &st) == 0 && S_ISDIR(st.st_mode))
		snprintf(path, sizeof path, "%s/scenario.scn", in);
	else
		snprintf(path, sizeof path, "%s", in);
	struct sfh_scenario *s = calloc(1, sizeof *s);
	if (!s || sfh_scn_load(path, s, err, sizeof err) != 0) {
		fprintf(stderr, "synfin export: %s\n", s ? err : "out of memory");
		free(s);
		return EXIT_BAD;
	}
	char *text = NULL;
	size_t tlen = 0;
	FILE *mem = open_memstream(&text, &tlen);
	struct sfh_pd_export_info info;
	int rc = EXIT_BAD;
	if (!mem) {
		fprintf(stderr, "synfin export: out of memory\n");
		free(s);
		return EXIT_BAD;
	}
	int ok = sfh_pd_export(s, path, target, prof, mem, &info, err, sizeof err) == 0;
	if (fclose(mem) != 0 && ok) {
		snprintf(err, sizeof err, "out of memory");
		ok = 0;
	}
	if (!ok) {
		fprintf(stderr, "synfin export: %s: %s\n", path, err);
		goto out;
	}
	if (outp) {
		if (write_atomic(outp, text, tlen, err, sizeof err) != 0) {
			fprintf(stderr, "synfin export: %s\n", err);
			goto out;
		}
	} else if (fwrite(text, 1, tlen, stdout) != tlen || fflush(stdout) != 0) {
		fprintf(stderr, "synfin export: standard output: %s\n", strerror(errno));
		goto out;
	}
	if (info.diverged)
		fprintf(stderr,
			"synfin export: %s: %s diverged (%s); the script checks it at line %u\n",
			path, target, info.signature, info.div_pkt_line);
	else
		fprintf(stderr, "synfin export: %s: %s conformed; the script passes on it\n", path,
			target);
	rc = 0;
out:
	free(text);
	free(s);
	return rc;
}

static int cmd_import(int argc, char **argv)
{
	struct sfh_pd_defs defs = {0};
	const char *outdir = NULL;
	int quiet = 0, nfiles = 0;
	char **files = calloc((size_t)argc, sizeof *files);
	if (!files)
		return EXIT_BAD;
	for (int i = 1; i < argc; i++) {
		const char *v = NULL;
		const char *a = argv[i];
		if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			fputs(usage_import, stdout);
			free(files);
			return 0;
		}
		if (strcmp(a, "-q") == 0 || strcmp(a, "--quiet") == 0) {
			quiet = 1;
			continue;
		}
		if (strncmp(a, "-D", 2) == 0) {
			v = a[2] ? a + 2 : i + 1 < argc ? argv[++i] : "";
			const char *eq = strchr(v, '=');
			size_t nl = eq ? (size_t)(eq - v) : strlen(v);
			if (nl == 0 || nl >= sizeof defs.name[0] ||
			    (eq && strlen(eq + 1) >= sizeof defs.value[0]) ||
			    defs.n >= SFH_PD_MAX_DEFS) {
				fprintf(stderr, "synfin import: bad definition '-D %s'\n", v);
				free(files);
				return EXIT_BAD;
			}
			memcpy(defs.name[defs.n], v, nl);
			defs.name[defs.n][nl] = 0;
			snprintf(defs.value[defs.n], sizeof defs.value[0], "%s", eq ? eq + 1 : "");
			defs.n++;
			continue;
		}
		if ((v = opt_value(argc, argv, &i, "--out", "-o"))) {
			if (!*v) {
				fprintf(stderr, "synfin import: --out needs a directory\n");
				free(files);
				return EXIT_BAD;
			}
			outdir = v;
			continue;
		}
		if (a[0] == '-') {
			fprintf(stderr, "synfin import: unknown option '%s'\n%s", a, usage_import);
			free(files);
			return EXIT_BAD;
		}
		files[nfiles++] = argv[i];
	}
	if (nfiles == 0 || (nfiles > 1 && !outdir)) {
		fprintf(stderr, "synfin import: %s\n%s",
			nfiles ? "several scripts need --out DIR" : "no script given",
			usage_import);
		free(files);
		return EXIT_BAD;
	}
	if (outdir && mkdir(outdir, 0755) != 0 && errno != EEXIST) {
		fprintf(stderr, "synfin import: %s: %s\n", outdir, strerror(errno));
		free(files);
		return EXIT_BAD;
	}
	int done = 0, lossless = 0;
	struct sfh_pd_import_notes *notes = calloc(1, sizeof *notes);
	struct sfh_scenario *s = calloc(1, sizeof *s);
	for (int i = 0; notes && s && i < nfiles; i++) {
		char err[512], *buf, *scn;
		size_t len;
		if (read_file(files[i], &buf, &len, err, sizeof err) != 0) {
			fprintf(stderr, "synfin import: %s\n", err);
			continue;
		}
		int rc = sfh_pd_import(buf, len, files[i], &defs, &scn, s, notes, err, sizeof err);
		free(buf);
		if (rc != 0) {
			fprintf(stderr, "%s\n", err);
			continue;
		}
		for (size_t k = 0; !quiet && k < notes->n; k++)
			fprintf(stderr, "%s\n", notes->note[k]);
		if (!quiet && notes->dropped)
			fprintf(stderr, "%s: %zu more notes\n", files[i], notes->dropped);
		if (outdir) {
			const char *base = strrchr(files[i], '/');
			base = base ? base + 1 : files[i];
			char path[4096];
			size_t bl = strlen(base);
			if (bl > 4 && strcmp(base + bl - 4, ".pkt") == 0)
				bl -= 4;
			snprintf(path, sizeof path, "%s/%.*s.scn", outdir, (int)bl, base);
			if (write_atomic(path, scn, strlen(scn), err, sizeof err) != 0) {
				fprintf(stderr, "synfin import: %s\n", err);
				free(scn);
				continue;
			}
		} else if (fputs(scn, stdout) == EOF || fflush(stdout) != 0) {
			fprintf(stderr, "synfin import: standard output: %s\n", strerror(errno));
			free(scn);
			continue;
		}
		free(scn);
		done++;
		lossless += notes->n == 0;
	}
	fprintf(stderr, "synfin import: %d of %d scripts imported, %d without loss\n", done, nfiles,
		lossless);
	free(notes);
	free(s);
	free(files);
	return done == nfiles ? 0 : EXIT_BAD;
}

int sfh_cli_packetdrill(const char *cmd, int argc, char **argv)
{
	if (strcmp(cmd, "export") == 0)
		return cmd_export(argc, argv);
	return cmd_import(argc, argv);
}
