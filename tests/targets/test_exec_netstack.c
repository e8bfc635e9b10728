/* The gVisor-derived Go netstack through exec: (shims/netstack/, built from Debian's
 * golang-go and golang-inet-netstack-dev): a stack not written in C, on real time. The
 * shim names its own profile file (netstack.profile beside it), the lifecycle walk's
 * handshakes and closes conform, and the pinned findings of corpus/netstack replay to
 * their expected verdicts (RFC 1337's TIME-WAIT choice accepted by the profile, not by
 * the strict rfc9293 profile). Skipped when the shim is not built. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "sh.h"

static char out[1 << 16];

int main(void)
{
	const char *bin = getenv("SYNFIN_BIN"), *shim = getenv("SYNFIN_SHIM_NETSTACK");
	if (!bin || !shim) {
		fprintf(stderr, "the netstack shim is not built (golang-go, "
				"golang-inet-netstack-dev): skipped\n");
		return 77;
	}
	/* the pins: four findings and one accepted choice */
	int rc = sh(out, sizeof out, "%s replay corpus/netstack --target exec:%s", bin, shim);
	CHECK_EQ(rc, 0);
	CHECK(strstr(out, "5 passed, 0 failed") != NULL);
	if (rc != 0)
		fprintf(stderr, "%s", out);
	CHECK_EQ(sh(out, sizeof out, "%s replay corpus/netstack --target exec:%s --profile rfc9293",
		    bin, shim),
		 1);
	CHECK(strstr(out, "timewait.rst") != NULL);

	/* its own profile, named by the shim */
	CHECK_EQ(sh(out, sizeof out, "%s run corpus/seeds/01-passive-open.scn --target exec:%s",
		    bin, shim),
		 0);
	CHECK(strstr(out, "profile netstack") != NULL);

	/* the walk: opens, closes, resets conform (waits capped at 2 s of real time) */
	const char *walk[] = {"01-passive-open",	  "02-active-open",
			      "05-active-close-four-way", "06-passive-close-four-way",
			      "14-rst-established",	  "24-data-both-ways"};
	for (size_t i = 0; i < sizeof walk / sizeof walk[0]; i++) {
		rc = sh(out, sizeof out, "%s run corpus/seeds/%s.scn --target exec:%s -q", bin,
			walk[i], shim);
		if (rc != 0)
			fprintf(stderr, "%s", out);
		CHECK_EQ(rc, 0);
	}
	return check_done();
}
