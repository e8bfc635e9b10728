/* synfin import: the lifecycle subset of packetdrill into scenarios, through the command.
 * The fixtures in tests/packetdrill/fixtures/ are the project's own scripts. Imported
 * scenarios must parse, say what the script says (roles, numbers relative to the ISNs,
 * times as waits, variants by -D), report the checks they cannot carry as notes, and
 * refuse what a scenario cannot play with FILE:LINE: not supported. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "sh.h"

#define FX "tests/packetdrill/fixtures/"

static char out[16384];

static int import(const char *bin, const char *args)
{
	return sh(out, sizeof out, "'%s' import %s", bin, args);
}

int main(void)
{
	const char *bin = getenv("SYNFIN_BIN");
	if (!bin) {
		printf("skipped: SYNFIN_BIN not set (run through ctest)\n");
		return 77;
	}
	/* a passive open and close, state checks included */
	CHECK_EQ(import(bin, FX "passive-close.pkt"), 0);
	CHECK(strstr(out, "role passive\n") != NULL);
	CHECK(strstr(out, "in S seq=pisn+0 win=65535 mss=1460\n") != NULL);
	CHECK(strstr(out, "out S. seq=tisn+0 ack=pisn+1 len=0\n") != NULL);
	CHECK(strstr(out, "in F. seq=pisn+1 ack=tisn+1 win=65535\n") != NULL);
	CHECK(strstr(out, "expect state CLOSE-WAIT\n") != NULL);
	CHECK(
	    strstr(out, "call close\nout F. seq=tisn+1 ack=pisn+2 len=0\nexpect state LAST-ACK") !=
	    NULL);
	CHECK(strstr(out, "1 of 1 scripts imported, 1 without loss") != NULL);

	/* an active open: connect is the role, options carry over */
	CHECK_EQ(import(bin, FX "active-open.pkt"), 0);
	CHECK(strstr(out, "role active\nout S seq=tisn+0 len=0\nwait 10\n") != NULL);
	CHECK(strstr(out, "in S. seq=pisn+0 ack=tisn+1 win=65535 mss=1460 ws=7\n") != NULL);

	/* timing: a retransmission expected after the RTO becomes a wait and an `out` */
	CHECK_EQ(import(bin, FX "lost-final-ack.pkt"), 0);
	CHECK(strstr(out, "wait 1300\nout S. seq=tisn+0 ack=pisn+1 len=0\n") != NULL);
	CHECK(strstr(out, "lost-final-ack.pkt:9: not checked: the time range") != NULL);
	CHECK(strstr(out, "0 without loss") != NULL);

	/* results the scenario cannot assert are notes, not silence */
	CHECK_EQ(import(bin, FX "data-both-ways.pkt"), 0);
	CHECK(strstr(out, "call send 100\nout P. seq=tisn+1 ack=pisn+1 len=100\n") != NULL);
	CHECK(strstr(out, "in P. seq=pisn+1 ack=tisn+101 win=65535 len=200\n") != NULL);
	CHECK(strstr(out, "data-both-ways.pkt:15: not checked: read's result 200") != NULL);

	/* SO_LINGER {1, 0} + close is ABORT */
	CHECK_EQ(import(bin, FX "abort-linger.pkt"), 0);
	CHECK(strstr(out, "call abort\nout R. len=0\n") != NULL);

	/* variants: #ifdef with -D, and word substitution */
	CHECK_EQ(import(bin, "-D WINDOW=1000 " FX "variants.pkt"), 0);
	CHECK(strstr(out, "in . seq=pisn+1 ack=tisn+1 win=1000\n") != NULL);
	CHECK(strstr(out, "wait 500") == NULL);
	CHECK_EQ(import(bin, "-D WINDOW=1000 -DLATE_ACK " FX "variants.pkt"), 0);
	CHECK(strstr(out, "wait 500\nin . seq=pisn+1 ack=tisn+1 win=1000\n") != NULL);
	/* without WINDOW defined the word stays, and the packet is refused where it is */
	CHECK_EQ(import(bin, FX "variants.pkt"), 2);
	CHECK(strstr(out, "variants.pkt:7: ") != NULL);

	/* what a scenario cannot play: file:line and the construct */
	CHECK_EQ(import(bin, FX "unsupported-udp.pkt"), 2);
	CHECK(
	    strstr(out, "unsupported-udp.pkt:3: not supported: a socket that is not SOCK_STREAM") !=
	    NULL);
	CHECK_EQ(import(bin, FX "unsupported-two-connections.pkt"), 2);
	CHECK(
	    strstr(out, "unsupported-two-connections.pkt:11: not supported: a second connection") !=
	    NULL);

	/* the listener closed before accept: the listener, not the connection */
	CHECK_EQ(import(bin, FX "close-listener-synrcvd.pkt"), 0);
	CHECK(strstr(out, "wait 100\ncall close listener\nin . seq=pisn+1 ack=tisn+1 win=65535\n"
			  "out R len=0\n") != NULL);
	/* a second connection on the same 4-tuple after TIME-WAIT: named, its SYN above the
	 * old space, its numbers from its own ISN after */
	CHECK_EQ(import(bin, FX "timewait-reuse.pkt"), 0);
	CHECK(strstr(out, "expect state TIME-WAIT\nwait 1000\n"
			  "in S seq=pisn+100000 conn=1 win=65535 mss=1460\n"
			  "out S. seq=tisn+0 ack=pisn+1 len=0\n"
			  "in . seq=pisn+1 ack=tisn+1 win=65535\ncall accept\n"
			  "expect state ESTABLISHED\n") != NULL);
	CHECK(strstr(out, "1 of 1 scripts imported, 1 without loss") != NULL);

	/* a directory of scripts: every scenario written, each parses */
	char dir[] = "/tmp/synfin-import-XXXXXX";
	CHECK(mkdtemp(dir) != NULL);
	CHECK_EQ(sh(out, sizeof out,
		    "'%s' import -q -D WINDOW=65535 -o '%s' " FX "[a-t]*.pkt " FX "variants.pkt",
		    bin, dir),
		 0);
	CHECK(strstr(out, "11 of 11 scripts imported, 7 without loss") != NULL);
	CHECK_EQ(sh(out, sizeof out,
		    "'%s' run -q --target model '%s'/passive-close.scn "
		    "'%s'/timewait-retransmitted-fin.scn '%s'/rst-established.scn "
		    "'%s'/close-listener-synrcvd.scn",
		    bin, dir, dir, dir, dir),
		 0);
	/* the reuse as the script has it (Linux reopens) is one the linux profile prefers */
	CHECK_EQ(sh(out, sizeof out,
		    "'%s' run -q --target model --profile linux '%s'/timewait-reuse.scn", bin, dir),
		 0);
	CHECK_EQ(sh(out, sizeof out, "rm -rf '%s'", dir), 0);

	/* bad input: a clear error, exit 2 */
	CHECK_EQ(sh(out, sizeof out,
		    "printf '0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\\n"
		    "+0 listen(3, 1) = 0\\n+0 < Z 0:0(0) win 1\\n' > /tmp/synfin-bad.pkt"),
		 0);
	CHECK_EQ(import(bin, "/tmp/synfin-bad.pkt"), 2);
	CHECK(strstr(out, "/tmp/synfin-bad.pkt:3: not supported: packet flags") != NULL);
	CHECK_EQ(import(bin, "/nonexistent.pkt"), 2);
	CHECK(strstr(out, "/nonexistent.pkt: No such file") != NULL);
	unlink("/tmp/synfin-bad.pkt");
	return check_done();
}
