/* synfin on out dirs, findings and corpora that someone else prepared, as a hostile
 * user of a shared machine would (docs/security-model.md):
 *   - links planted at the names a campaign creates in OUT are not written through;
 *   - triage --record does not copy a file a crash-* link points to, keeps a private
 *     crash file private, and does not take its target from a .target others can write;
 *   - run does not print bytes of a file a foreign link points to (root only: lchown);
 *   - a FIFO as scenario.scn or report.json is refused at once, not waited on;
 *   - a link loop in a replayed corpus does not count a scenario twice;
 *   - control characters from report.json reach the terminal escaped;
 *   - options: strict numbers, no option taken as a value, minimize's bad inputs exit 2,
 *     libFuzzer's numeric flags checked, an output path that is a directory refused.
 * Needs SYNFIN_BIN (set by ctest); the source tree is the working directory. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "scenario.h"
#include "sh.h"

static const char *bin;
static char tmp[64];
static char out[1 << 16];

#define SECRET "SECRET-7c1f-not-for-output"

static void put(const char *path, const void *data, size_t len, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
	CHECK(fd >= 0);
	if (fd >= 0) {
		CHECK_EQ(write(fd, data, len), (long long)len);
		fchmod(fd, mode);
		close(fd);
	}
}

static void puts_file(const char *path, const char *text)
{
	put(path, text, strlen(text), 0644);
}

static int contains(const char *path, const char *needle)
{
	char buf[1 << 16];
	FILE *f = fopen(path, "rb");
	if (!f)
		return 0;
	size_t n = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	buf[n] = 0;
	return memmem(buf, n, needle, strlen(needle)) != NULL;
}

/* 1 if any regular file under dir holds needle (links are not followed). */
static int tree_contains(const char *dir, const char *needle)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int found = 0;
	while (d && (e = readdir(d)) != NULL && !found) {
		char p[1024];
		struct stat st;
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
		if (lstat(p, &st) != 0)
			continue;
		if (S_ISDIR(st.st_mode))
			found = tree_contains(p, needle);
		else if (S_ISREG(st.st_mode))
			found = contains(p, needle);
	}
	if (d)
		closedir(d);
	return found;
}

static void secret_file(const char *path)
{
	puts_file(path, SECRET "\nmore private text\n");
	chmod(path, 0600);
}

/* The binary form of a seed that diverges on model:fault=tw-ignore-fin. */
static size_t diverging_input(uint8_t *buf, size_t cap)
{
	struct sfh_scenario s;
	char err[512];
	CHECK_EQ(
	    sfh_scn_load("corpus/seeds/10-timewait-retransmitted-fin.scn", &s, err, sizeof err), 0);
	s.has_isn = 0;
	return sfh_scn_encode(&s, buf, cap);
}

static void campaign_does_not_write_through_planted_links(void)
{
	char dir[128], outd[160], corpus[160], victim[160], link[300], log[200];
	snprintf(dir, sizeof dir, "%s/plant", tmp);
	snprintf(outd, sizeof outd, "%s/out", dir);
	snprintf(corpus, sizeof corpus, "%s/corpus", dir);
	snprintf(victim, sizeof victim, "%s/victim", tmp);
	snprintf(log, sizeof log, "%s/plant.log", tmp);
	mkdir(dir, 0700);
	mkdir(outd, 0755);
	put(victim, "precious\n", 9, 0600);
	pid_t pid = fork();
	if (pid == 0) {
		/* The names the command creates carry its pid: known here, before exec. */
		static const char *const names[] = {".target.tmp%d", ".synfin.dict.tmp%d",
						    ".stats-%d"};
		for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
			char name[64];
			snprintf(name, sizeof name, names[i], (int)getpid());
			snprintf(link, sizeof link, "%s/%s", outd, name);
			if (symlink(victim, link) != 0)
				_exit(126);
		}
		int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		dup2(fd, 1);
		dup2(fd, 2);
		execl(bin, bin, "fuzz", "--target", "model", "--out", outd, corpus, "--progress",
		      "0", "--", "-runs=20", "-seed=1", (char *)NULL);
		_exit(127);
	}
	int st = -1;
	waitpid(pid, &st, 0);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) <= 1);
	if (!(WIFEXITED(st) && WEXITSTATUS(st) <= 1) && sh(out, sizeof out, "cat %s", log) >= 0)
		fprintf(stderr, "%s", out);
	CHECK(contains(victim, "precious\n"));
	struct stat vs;
	CHECK(stat(victim, &vs) == 0 && vs.st_size == 9);
	snprintf(link, sizeof link, "%s/.target", outd);
	CHECK(contains(link, "model"));
}

static void triage_record_does_not_copy_through_links(void)
{
	char dir[128], p[300], secret[160];
	uint8_t in[SFH_MAX_ENCODED];
	size_t n = diverging_input(in, sizeof in);
	snprintf(dir, sizeof dir, "%s/record", tmp);
	snprintf(secret, sizeof secret, "%s/private.txt", tmp);
	mkdir(dir, 0700);
	secret_file(secret);
	snprintf(p, sizeof p, "%s/crash-0000link", dir);
	CHECK_EQ(symlink(secret, p), 0);
	snprintf(p, sizeof p, "%s/crash-1111private", dir);
	put(p, in, n, 0600); /* a private crash file stays private in its finding */
	CHECK_EQ(sh(out, sizeof out, "%s triage %s --target model:fault=tw-ignore-fin --record",
		    bin, dir),
		 1);
	CHECK(strstr(out, SECRET) == NULL);
	CHECK(!tree_contains(dir, SECRET));
	/* the regular crash file became a finding; its input.bin is 0600 like its source */
	CHECK_EQ(sh(out, sizeof out, "ls %s/*/input.bin", dir), 0);
	out[strcspn(out, "\n")] = 0;
	struct stat st;
	CHECK(stat(out, &st) == 0 && (st.st_mode & 0777) == 0600);
}

static void untrusted_target_file_ignored(void)
{
	char dir[128], p[300];
	uint8_t in[SFH_MAX_ENCODED];
	size_t n = diverging_input(in, sizeof in);
	snprintf(dir, sizeof dir, "%s/shared", tmp);
	mkdir(dir, 0700);
	chmod(dir, 0777); /* a directory anyone can write: its .target could be anyone's */
	snprintf(p, sizeof p, "%s/.target", dir);
	puts_file(p, "model:fault=tw-ignore-fin\n");
	snprintf(p, sizeof p, "%s/crash-2222", dir);
	put(p, in, n, 0644);
	CHECK_EQ(sh(out, sizeof out, "%s triage %s", bin, dir), 1);
	CHECK(strstr(out, ".target: not trusted") != NULL);
	CHECK(strstr(out, "no --target to re-run it") != NULL);
	/* the same directory, private to us: the campaign's .target is used */
	chmod(dir, 0755);
	CHECK_EQ(sh(out, sizeof out, "%s triage %s", bin, dir), 1);
	CHECK(strstr(out, "not trusted") == NULL);
	CHECK(strstr(out, "missing-response") != NULL);
	if (!strstr(out, "missing-response"))
		fprintf(stderr, "%s", out);
}

static void run_does_not_print_foreign_files(void)
{
	char p[300], secret[160];
	if (geteuid() != 0) {
		printf("skipped: a link of another user needs root (lchown)\n");
		return;
	}
	snprintf(secret, sizeof secret, "%s/root-only.txt", tmp);
	secret_file(secret);
	snprintf(p, sizeof p, "%s/planted.scn", tmp);
	CHECK_EQ(symlink(secret, p), 0);
	CHECK_EQ(lchown(p, 65534, 65534), 0);
	CHECK_EQ(sh(out, sizeof out, "%s run %s --target model", bin, p), 2);
	CHECK(strstr(out, "SECRET") == NULL);
	CHECK(strstr(out, "does not own") != NULL);
	CHECK_EQ(sh(out, sizeof out, "%s replay %s --target model", bin, p), 2);
	CHECK(strstr(out, "SECRET") == NULL);
	CHECK_EQ(sh(out, sizeof out, "%s minimize %s --target model", bin, p), 2);
	CHECK(strstr(out, "SECRET") == NULL);
}

static void fifo_refused_at_once(void)
{
	char dir[128], p[300];
	snprintf(dir, sizeof dir, "%s/fifo", tmp);
	mkdir(dir, 0700);
	snprintf(p, sizeof p, "%s/scenario.scn", dir);
	CHECK_EQ(mkfifo(p, 0600), 0);
	CHECK_EQ(sh(out, sizeof out, "timeout 20 %s run %s --target model", bin, p), 2);
	CHECK(strstr(out, "a FIFO, not a regular file") != NULL);
	CHECK_EQ(sh(out, sizeof out, "timeout 20 %s minimize %s --target model", bin, p), 2);
	snprintf(p, sizeof p, "%s/report.json", dir);
	CHECK_EQ(mkfifo(p, 0600), 0);
	CHECK_EQ(sh(out, sizeof out, "timeout 20 %s triage %s", bin, dir), 0);
	CHECK(strstr(out, "no findings") != NULL);
	CHECK_EQ(sh(out, sizeof out, "timeout 20 %s triage %s --target model --baseline %s", bin,
		    tmp, p),
		 2);
	CHECK(strstr(out, "a FIFO") != NULL);
}

static void link_loop_counted_once(void)
{
	char dir[128], p[300];
	snprintf(dir, sizeof dir, "%s/loop", tmp);
	mkdir(dir, 0700);
	snprintf(p, sizeof p, "%s/one.scn", dir);
	puts_file(p, "role passive\n#! expect model ok\n");
	snprintf(p, sizeof p, "%s/again", dir);
	CHECK_EQ(symlink(".", p), 0);
	snprintf(p, sizeof p, "%s/out", dir);
	CHECK_EQ(symlink("/etc", p), 0); /* out of the tree */
	CHECK_EQ(sh(out, sizeof out, "%s replay %s --target model", bin, dir), 0);
	CHECK(strstr(out, "1 passed, 0 failed") != NULL);
}

static void report_controls_escaped(void)
{
	char dir[128], p[300];
	snprintf(dir, sizeof dir, "%s/ansi/0123456789abcdef", tmp);
	snprintf(p, sizeof p, "%s/ansi", tmp);
	mkdir(p, 0700);
	mkdir(dir, 0700);
	snprintf(p, sizeof p, "%s/report.json", dir);
	puts_file(p, "{\"signature\": \"x.y \x1b]0;pwned\x07 \x1b[2J\", \"rule\": \"x.y\","
		     " \"severity\": \"MUST\", \"kind\": \"state\", \"target\": \"model\","
		     " \"detail\": \"\x1b[31mred\x9b\", \"events\": 3}\n");
	snprintf(p, sizeof p, "%s/ansi", tmp);
	CHECK(sh(out, sizeof out, "%s triage %s --signatures", bin, p) >= 0);
	CHECK(strchr(out, 0x1b) == NULL);
	CHECK(strchr(out, 0x07) == NULL);
	CHECK(strstr(out, "\\x1b]0;pwned") != NULL);
	CHECK(sh(out, sizeof out, "%s triage %s", bin, p) >= 0);
	CHECK(strchr(out, 0x1b) == NULL);
	CHECK(sh(out, sizeof out, "%s triage %s --json", bin, p) >= 0);
	CHECK(strchr(out, 0x1b) == NULL);
}

static void replay_names_escaped(void)
{
	char dir[128], p[300];
	snprintf(dir, sizeof dir, "%s/names", tmp);
	mkdir(dir, 0700);
	snprintf(p, sizeof p, "%s/a\x1b]0;title\x07.scn", dir);
	puts_file(p, "role passive\n#! expect model divergence \x1b[2Jrule state\n");
	snprintf(p, sizeof p, "%s/b\x1b[31m.scn", dir);
	puts_file(p, "role passive\n\x1b[31mbad\n");
	CHECK_EQ(sh(out, sizeof out, "%s replay %s --target model", bin, dir), 2);
	CHECK(strchr(out, 0x1b) == NULL);
	CHECK(strchr(out, 0x07) == NULL);
	CHECK(strstr(out, "\\x1b]0;title\\x07.scn") != NULL);
	CHECK(strstr(out, "unknown keyword '\\x1b[31mbad'") != NULL);
	snprintf(p, sizeof p, "%s/b\x1b[31m.scn", dir);
	CHECK_EQ(sh(out, sizeof out, "%s run '%s' --target model", bin, p), 2);
	CHECK(strchr(out, 0x1b) == NULL);
}

static void options_checked(void)
{
	char p[300], bad[300];
	/* each refused for the reason named, before anything runs */
	static const char *const refused[][2] = {
	    {"minimize SEED --target model --max-runs abc", "--max-runs 'abc'"},
	    {"minimize SEED --target model --max-runs -1", "--max-runs '-1'"},
	    {"minimize SEED --target model --max-runs 99999999999", "--max-runs '99999999999'"},
	    {"fuzz --target model --max-wait abc", "--max-wait 'abc'"},
	    {"fuzz --target model --max-wait -1", "--max-wait '-1'"},
	    {"fuzz --target model --progress abc", "--progress 'abc'"},
	    {"fuzz --target model --progress=5s", "--progress '5s'"},
	    {"fuzz --target model -- -max_len=-5", "-max_len='-5'"},
	    {"fuzz --target model -- -runs=abc", "-runs='abc'"},
	    {"triage --top x SEEDDIR", "--top 'x'"},
	    {"isn --target model -n 7x", "--connections '7x'"},
	    {"run --target model --pcap -- SEED", "--pcap needs a value"},
	};
	char cwd[512], seed[700], cmd[1024];
	if (!getcwd(cwd, sizeof cwd))
		cwd[0] = 0;
	snprintf(seed, sizeof seed, "%s/corpus/seeds/01-passive-open.scn", cwd);
	for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
		/* SEED and SEEDDIR: real ones, so only the option can be the reason */
		const char *t = refused[i][0], *at = strstr(t, "SEED");
		if (at)
			snprintf(cmd, sizeof cmd, "%.*s%s%s", (int)(at - t), t,
				 strncmp(at, "SEEDDIR", 7) == 0 ? cwd : seed,
				 at + (strncmp(at, "SEEDDIR", 7) == 0 ? 7 : 4));
		else
			snprintf(cmd, sizeof cmd, "%s", t);
		/* in tmp: a directory named after a misread value would appear there */
		int rc = sh(out, sizeof out, "cd %s && timeout 20 %s %s", tmp, bin, cmd);
		if (rc != 2 || !strstr(out, refused[i][1]))
			fprintf(stderr, "not refused for '%s' (%d): %s\n%s", refused[i][1], rc, cmd,
				out);
		CHECK_EQ(rc, 2);
		CHECK(strstr(out, refused[i][1]) != NULL);
		CHECK(strstr(out, "Aborted") == NULL && strstr(out, "bad_alloc") == NULL);
	}
	/* the messages name the option, the value and what was expected */
	CHECK_EQ(sh(out, sizeof out, "timeout 20 %s fuzz --target model -- -max_len=-5", bin), 2);
	CHECK(strstr(out, "-max_len='-5': expected a whole number from 1 to") != NULL);
	CHECK_EQ(sh(out, sizeof out, "timeout 20 %s fuzz --target model --max-wait abc", bin), 2);
	CHECK(strstr(out, "--max-wait 'abc': not a whole number (column 1: 'a')") != NULL);
	/* --out -- -runs=10 must not create a directory named "--" */
	CHECK_EQ(sh(out, sizeof out, "cd %s && timeout 20 %s fuzz --target model --out -- -runs=10",
		    tmp, bin),
		 2);
	snprintf(p, sizeof p, "%s/--", tmp);
	CHECK(access(p, F_OK) != 0);
	CHECK(strstr(out, "--out needs a value, not the option '--'") != NULL);
	/* minimize: empty, garbage text, a text scenario with one bad byte */
	snprintf(bad, sizeof bad, "%s/empty.scn", tmp);
	puts_file(bad, "");
	CHECK_EQ(sh(out, sizeof out, "%s minimize %s --target model", bin, bad), 2);
	CHECK(strstr(out, "empty file") != NULL);
	snprintf(bad, sizeof bad, "%s/garbage.txt", tmp);
	puts_file(bad, "this is not a scenario at all\n");
	CHECK_EQ(sh(out, sizeof out, "%s minimize %s --target model", bin, bad), 2);
	CHECK(strstr(out, "garbage.txt:1:1: unknown keyword") != NULL);
	snprintf(bad, sizeof bad, "%s/onebad.scn", tmp);
	puts_file(bad, "role passive\nin S seq=100 win=1000\x01\n");
	CHECK_EQ(sh(out, sizeof out, "%s minimize %s --target model", bin, bad), 2);
	CHECK(strstr(out, "onebad.scn:2:") != NULL);
	/* an output path that is a directory: refused before anything runs */
	CHECK_EQ(sh(out, sizeof out,
		    "%s run corpus/seeds/01-passive-open.scn --target model "
		    "--pcap %s",
		    bin, tmp),
		 2);
	CHECK(strstr(out, "is a directory") != NULL);
	CHECK(strstr(out, "conformant") == NULL);
}

int main(void)
{
	bin = getenv("SYNFIN_BIN");
	if (!bin) {
		fprintf(stderr, "SYNFIN_BIN not set (run through ctest)\n");
		return 77;
	}
	snprintf(tmp, sizeof tmp, "/tmp/synfin-hostile-XXXXXX");
	if (!mkdtemp(tmp))
		return 1;
	campaign_does_not_write_through_planted_links();
	triage_record_does_not_copy_through_links();
	untrusted_target_file_ignored();
	run_does_not_print_foreign_files();
	fifo_refused_at_once();
	link_loop_counted_once();
	report_controls_escaped();
	replay_names_escaped();
	options_checked();
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf %s", tmp);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", tmp);
	return check_done();
}
