/* `synfin diff`: two targets, the same scenarios, the model as referee. A target against
 * itself differs nowhere; against a seeded fault it differs exactly where the fault
 * shows, and the referee sides with the RFC; lwIP in process and out of process (exec:)
 * differ nowhere; a fuzzed difference is written as a scenario that replays; bad
 * arguments are exit 2. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "sh.h"

static char out[1 << 16];

int main(void)
{
	const char *bin = getenv("SYNFIN_BIN");
	const char *shim = getenv("SYNFIN_SHIM_LWIP");
	if (!bin) {
		fprintf(stderr, "SYNFIN_BIN not set: skipped\n");
		return 77;
	}
	/* the same stack twice: no difference */
	CHECK_EQ(sh(out, sizeof out, "%s diff --target model --target model corpus/seeds -q", bin),
		 0);
	CHECK(strstr(out, "0 differ") != NULL);

	/* a seeded fault (no TIME-WAIT): the scenarios that reach TIME-WAIT differ, and
	 * the RFC supports A, the model, every time */
	char dir[] = "/tmp/synfin-diff-XXXXXX";
	CHECK(mkdtemp(dir) != NULL);
	CHECK_EQ(sh(out, sizeof out,
		    "%s diff --target model --target model:fault=no-time-wait corpus/seeds "
		    "--json %s/d.json",
		    bin, dir),
		 1);
	CHECK(strstr(out, "corpus/seeds/05-active-close-four-way.scn: differ at line 13; RFC "
			  "9293 supports A") != NULL);
	CHECK(strstr(out, "breaks the RFC: state at line 13: rule fin.finwait2") != NULL);
	CHECK(strstr(out, "only B in 0") != NULL && strstr(out, "both in 0") != NULL);
	CHECK(strstr(out, "01-passive-open") == NULL); /* no TIME-WAIT there: alike */
	CHECK_EQ(sh(out, sizeof out, "grep -c '\"supported\":\"A\"' %s/d.json", dir), 0);
	CHECK(atoi(out) >= 5);

	/* lwIP in process and behind the shim: alike on every seed and regression */
	if (shim) {
		CHECK_EQ(sh(out, sizeof out,
			    "%s diff --target lwip --target exec:%s corpus/seeds corpus/regress -q",
			    bin, shim),
			 0);
		CHECK(strstr(out, "0 differ") != NULL);
	}

	/* fuzzed: differences are saved as scenario files that parse and replay (the model,
	 * side A, conforms on them) */
	int rc = sh(out, sizeof out,
		    "%s diff --target model --target model:fault=no-time-wait --fuzz 200 --seed 7 "
		    "--out %s -q",
		    bin, dir);
	CHECK_EQ(rc, 1);
	CHECK(strstr(out, "200 scenarios") != NULL);
	CHECK(access(strcat(strcpy(out + 60000, dir), "/diff-0001.scn"), R_OK) == 0);
	CHECK_EQ(sh(out, sizeof out, "%s run %s/diff-0001.scn --target model -q", bin, dir), 0);

	/* bad arguments */
	CHECK_EQ(sh(out, sizeof out, "%s diff --target model corpus/seeds", bin), 2);
	CHECK(strstr(out, "two targets") != NULL);
	CHECK_EQ(sh(out, sizeof out, "%s diff --target model --target nosuch corpus/seeds", bin),
		 2);
	CHECK_EQ(sh(out, sizeof out, "%s diff --target model --target model", bin), 2);
	CHECK_EQ(sh(out, sizeof out, "%s diff --target model --target model --fuzz 0", bin), 2);

	CHECK_EQ(sh(out, sizeof out, "rm -rf %s", dir), 0);
	return check_done();
}
