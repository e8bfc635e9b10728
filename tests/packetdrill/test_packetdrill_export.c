/* synfin export --packetdrill on the pinned Linux behaviours of corpus/regress: every
 * scenario with an `#! expect linux` line is exported from a run on the linux target and
 * run with packetdrill against the same kernel. A pinned divergence must make the script
 * fail exactly at the line export names (the divergent step, written as RFC 9293 wants
 * it, or the closing probe that catches an unwanted answer); a pinned conformant run
 * must pass. A divergence export cannot check (it says "line 0": a state in SYN-RECEIVED,
 * where no descriptor holds the connection yet and no packet shows it) is counted, and
 * only a few may be. Needs root, /dev/net/tun and packetdrill (skipped otherwise). */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "pd.h"

/* The linux expectation of a regress file: 1 divergence, 0 ok, -1 none. */
static int linux_expectation(const char *path)
{
	FILE *f = fopen(path, "r");
	char line[512];
	int x = -1;
	while (f && fgets(line, sizeof line, f))
		if (strncmp(line, "#! expect linux ", 16) == 0) {
			x = strncmp(line + 16, "divergence", 10) == 0;
			break;
		}
	if (f)
		fclose(f);
	return x;
}

int main(void)
{
	const char *bin, *pd;
	int skip = pd_can_run(&bin, &pd);
	if (skip)
		return skip;
	DIR *d = opendir("corpus/regress");
	CHECK(d != NULL);
	if (!d)
		return check_done();
	char dir[] = "/tmp/synfin-pdexport-XXXXXX";
	CHECK(mkdtemp(dir) != NULL);
	struct dirent *e;
	int ndiv = 0, nok = 0, nunchecked = 0;
	static char out[65536];
	while ((e = readdir(d)) != NULL) {
		size_t n = strlen(e->d_name);
		if (n < 5 || strcmp(e->d_name + n - 4, ".scn") != 0)
			continue;
		char scn[512], pkt[512];
		snprintf(scn, sizeof scn, "corpus/regress/%s", e->d_name);
		int want = linux_expectation(scn);
		if (want < 0)
			continue;
		snprintf(pkt, sizeof pkt, "%s/%.*s.pkt", dir, (int)(n - 4), e->d_name);
		unsigned div_line, fail_line;
		CHECK_EQ(pd_export(bin, scn, pkt, &div_line), 0);
		if (want && div_line == 0 && strstr(e->d_name, "synrcvd")) {
			nunchecked++; /* nothing the script can assert at that step */
			continue;
		}
		int rc = pd_run(pd, pkt, &fail_line, out, sizeof out);
		if (want) {
			ndiv++;
			CHECK(div_line > 0);
			CHECK(rc != 0);
			CHECK_EQ(fail_line, div_line);
		} else {
			nok++;
			CHECK_EQ(div_line, 0);
			CHECK_EQ(rc, 0);
		}
		if (check_failures)
			fprintf(stderr, "%s (%s): packetdrill said:\n%s\n", scn,
				want ? "divergence" : "ok", out);
		if (check_failures)
			break;
	}
	closedir(d);
	printf("%d pinned divergences failed at their line, %d conformant runs passed, %d "
	       "divergences export cannot check\n",
	       ndiv, nok, nunchecked);
	CHECK(nunchecked <= 4);
	CHECK(ndiv >= 10);
	CHECK(nok >= 5);
	CHECK_EQ(sh(out, sizeof out, "rm -rf '%s'", dir), 0);
	return check_done();
}
