/* The regression corpus replays with its expected verdicts on every target built here,
 * as does the seed corpus (conformant everywhere but where a `#! expect` line names a
 * stack's real deviation): the same conformance suite, one body, every backend. Needs SYNFIN_BIN (set by ctest). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "sh.h"

int main(void)
{
	static char out[1 << 18];
	const char *bin = getenv("SYNFIN_BIN");
	static const char *const targets[] = {"model", "lwip", "slirp", "linux"};
	if (!bin) {
		printf("SYNFIN_BIN not set: run through ctest\n");
		return 77;
	}
	for (size_t i = 0; i < sizeof targets / sizeof targets[0]; i++) {
		const char *t = targets[i];
		sh(out, sizeof out, "%s targets", bin);
		char want[64];
		snprintf(want, sizeof want, "\n%-8s available", t);
		if (strncmp(out, want + 1, strlen(want + 1)) != 0 && !strstr(out, want)) {
			printf("%s: not available here, skipped\n", t);
			continue;
		}
		int rc = sh(out, sizeof out, "%s replay corpus/seeds corpus/regress --target %s", bin, t);
		if (rc != 0)
			fprintf(stderr, "replay on %s (exit %d):\n%s\n", t, rc, out);
		CHECK_EQ(rc, 0);
		CHECK(strstr(out, " 0 failed") != NULL);
		printf("%s: regression corpus and seeds as expected\n", t);
	}
	return check_done();
}
