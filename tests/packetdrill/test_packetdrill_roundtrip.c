/* Round trips through packetdrill on the running kernel: the project's packetdrill
 * fixtures imported (synfin import), run on the linux target (conformant), exported again
 * (synfin export --packetdrill) and run by packetdrill (passes); and the seeds exported
 * and run by packetdrill (they pass: Linux conforms on every seed but the simultaneous
 * open, whose script must fail at its divergent line). Seeds that wait minutes are left
 * out. Needs root, /dev/net/tun and packetdrill (skipped otherwise). */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "pd.h"

static char out[65536];

/* Export scn, run it; expect a pass, or a failure at the exported line if diverges. */
static void export_and_run(const char *bin, const char *pd, const char *scn, const char *pkt,
			   int diverges)
{
	unsigned div_line, fail_line;
	CHECK_EQ(pd_export(bin, scn, pkt, &div_line), 0);
	int rc = pd_run(pd, pkt, &fail_line, out, sizeof out);
	if (diverges) {
		CHECK(div_line > 0);
		CHECK(rc != 0);
		CHECK_EQ(fail_line, div_line);
	} else {
		CHECK_EQ(div_line, 0);
		CHECK_EQ(rc, 0);
	}
	if (check_failures)
		fprintf(stderr, "%s: packetdrill said:\n%s\n", scn, out);
}

int main(void)
{
	const char *bin, *pd;
	int skip = pd_can_run(&bin, &pd);
	if (skip)
		return skip;
	char dir[] = "/tmp/synfin-pdround-XXXXXX";
	CHECK(mkdtemp(dir) != NULL);
	static const char *const fixtures[] = {"abort-linger",
					       "active-open",
					       "call-results",
					       "connect-refused",
					       "data-both-ways",
					       "lost-final-ack",
					       "outbound-options",
					       "passive-close",
					       "passive-open-active-close",
					       "rst-established",
					       "timewait-retransmitted-fin",
					       "variants",
					       "ipv6-rst-established"};
	for (size_t i = 0; i < sizeof fixtures / sizeof fixtures[0] && !check_failures; i++) {
		char scn[512], pkt[512];
		snprintf(scn, sizeof scn, "%s/%s.scn", dir, fixtures[i]);
		snprintf(pkt, sizeof pkt, "%s/%s.pkt", dir, fixtures[i]);
		CHECK_EQ(
		    sh(out, sizeof out,
		       "'%s' import -q -D WINDOW=65535 -o '%s' tests/packetdrill/fixtures/%s.pkt",
		       bin, dir, fixtures[i]),
		    0);
		CHECK_EQ(sh(out, sizeof out, "'%s' run -q --target linux '%s'", bin, scn), 0);
		if (check_failures)
			fprintf(stderr, "%s on linux:\n%s\n", scn, out);
		export_and_run(bin, pd, scn, pkt, 0);
	}
	static const char *const seeds[] = {"01-passive-open",
					    "02-active-open",
					    "03-simultaneous-open",
					    "04-lost-final-ack",
					    "05-active-close-four-way",
					    "06-passive-close-four-way",
					    "07-three-way-close",
					    "08-simultaneous-close",
					    "09-half-close-data-after-fin",
					    "10-timewait-retransmitted-fin",
					    "13-rst-syn-received",
					    "14-rst-established",
					    "17-rst-close-wait",
					    "21-rst-out-of-window",
					    "22-syn-in-established",
					    "24-data-both-ways",
					    "25-rst-time-wait",
					    "26-active-open-close",
					    "65-call-results-receive",
					    "66-call-results-reset",
					    "67-call-results-refused",
					    "75-ipv6-handshake-close",
					    "76-ipv6-rst-syn-sent",
					    "77-ipv6-rst-established",
					    "78-ipv6-simultaneous-open"};
	for (size_t i = 0; i < sizeof seeds / sizeof seeds[0] && !check_failures; i++) {
		char scn[512], pkt[512];
		snprintf(scn, sizeof scn, "corpus/seeds/%s.scn", seeds[i]);
		snprintf(pkt, sizeof pkt, "%s/%s.pkt", dir, seeds[i]);
		export_and_run(bin, pd, scn, pkt,
			       strcmp(seeds[i], "03-simultaneous-open") == 0 ||
				   strcmp(seeds[i], "78-ipv6-simultaneous-open") == 0);
	}
	CHECK_EQ(sh(out, sizeof out, "rm -rf '%s'", dir), 0);
	return check_done();
}
