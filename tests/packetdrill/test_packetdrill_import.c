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
	CHECK(strstr(out, "out S. seq=tisn+0 ack=pisn+1 len=0 @+0ms +-4ms\n") != NULL);
	CHECK(strstr(out, "in F. seq=pisn+1 ack=tisn+1 win=65535\n") != NULL);
	CHECK(strstr(out, "expect state CLOSE-WAIT\n") != NULL);
	CHECK(strstr(out,
		     "call close\nout F. seq=tisn+1 ack=pisn+2 len=0 @+0ms +-4ms\nexpect state "
		     "LAST-ACK") != NULL);
	CHECK(strstr(out, "1 of 1 scripts imported, 1 without loss") != NULL);

	/* an active open: connect is the role, options carry over */
	CHECK_EQ(import(bin, FX "active-open.pkt"), 0);
	CHECK(strstr(out, "role active\nout S seq=tisn+0 len=0 @+0ms +-4ms\nwait 10\n") != NULL);
	CHECK(strstr(out, "in S. seq=pisn+0 ack=tisn+1 win=65535 mss=1460 ws=7\n") != NULL);

	/* timing: a retransmission expected after the RTO becomes a wait and an `out` whose
	 * time is the range's middle after the wait began, within half the range and
	 * packetdrill's 4 ms tolerance */
	CHECK_EQ(import(bin, FX "lost-final-ack.pkt"), 0);
	CHECK(strstr(out, "wait 1300\nout S. seq=tisn+0 ack=pisn+1 len=0 @+1150ms +-154ms\n") !=
	      NULL);
	CHECK(strstr(out, "not checked") == NULL);
	CHECK(strstr(out, "1 without loss") != NULL);

	/* outbound options, their order and the window; the TSecr echoes our TSval; the
	 * script's --tolerance_usecs is the tolerance */
	CHECK_EQ(import(bin, FX "outbound-options.pkt"), 0);
	CHECK(strstr(out, "out S. seq=tisn+0 ack=pisn+1 len=0 win=65160 mss=1460 sackok ts=*,ptsv "
			  "ws=10 order=mss,sackok,ts,ws @+0ms +-10ms\nwait 1100\n") != NULL);
	CHECK(strstr(out, "ws=10 order=mss,sackok,ts,ws @+1050ms +-60ms\n") != NULL);
	CHECK(strstr(out, "in . seq=pisn+1 ack=tisn+1 win=502 ts=701,ttsv+0\n") != NULL);
	CHECK(strstr(out, "1 of 1 scripts imported, 1 without loss") != NULL);

	/* call results: counts and errno names become `=>` */
	CHECK_EQ(import(bin, FX "data-both-ways.pkt"), 0);
	CHECK(strstr(out, "call send 100 => 100\nout P. seq=tisn+1 ack=pisn+1 len=100 @+0ms +-4ms\n") !=
	      NULL);
	CHECK(strstr(out, "in P. seq=pisn+1 ack=tisn+101 win=65535 len=200\n") != NULL);
	CHECK(strstr(out, "call receive 200 => 200\n") != NULL);
	CHECK(strstr(out, "1 without loss") != NULL);
	CHECK_EQ(import(bin, FX "call-results.pkt"), 0);
	CHECK(strstr(out, "call accept\ncall receive 100 => EAGAIN\n") != NULL);
	CHECK(strstr(out, "call receive 100 => 10\n") != NULL);
	CHECK(strstr(out, "call receive 100 => 0\ncall shutdown\n") != NULL);
	CHECK(strstr(out, "call send 10 => EPIPE\n") != NULL);
	CHECK(strstr(out, "1 without loss") != NULL);
	CHECK_EQ(import(bin, FX "connect-refused.pkt"), 0);
	CHECK(
	    strstr(out, "in R. seq=pisn+0 ack=tisn+1 win=0\ncall receive 100 => ECONNREFUSED\n") !=
	    NULL);
	/* a result the language has no name for stays a note */
	CHECK_EQ(sh(out, sizeof out,
		    "printf '0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\\n"
		    "+0 listen(3, 1) = 0\\n+0 < S 0:0(0) win 1\\n+0 < . 1:1(0) ack 1 win 1\\n"
		    "+0 accept(3, ..., ...) = 4\\n+0 read(4, ..., 5) = -1 EINTR (x)\\n' "
		    "> /tmp/synfin-eintr.pkt"),
		 0);
	CHECK_EQ(import(bin, "/tmp/synfin-eintr.pkt"), 0);
	CHECK(strstr(out, "call receive 5\n") != NULL);
	CHECK(strstr(out, "synfin-eintr.pkt:6: not checked: read's result -1 EINTR") != NULL);
	unlink("/tmp/synfin-eintr.pkt");

	/* SO_LINGER {1, 0} + close is ABORT */
	CHECK_EQ(import(bin, FX "abort-linger.pkt"), 0);
	CHECK(strstr(out, "call abort\nout R. len=0 @+0ms +-4ms\n") != NULL);

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

	/* IPv6: --ip_version=ipv6 (or an AF_INET6 socket) is `family ipv6`, no loss; IPv4
	 * on the wire under AF_INET6 sockets stays IPv4 */
	CHECK_EQ(import(bin, FX "ipv6-rst-established.pkt"), 0);
	CHECK(strstr(out, "role passive\nfamily ipv6\nin S seq=pisn+0 win=65535 mss=1440\n") !=
	      NULL);
	CHECK(strstr(out, "1 of 1 scripts imported, 1 without loss") != NULL);
	CHECK_EQ(sh(out, sizeof out,
		    "printf '0 socket(AF_INET6, SOCK_STREAM, IPPROTO_TCP) = 3\\n"
		    "+0 listen(3, 1) = 0\\n+0 < S 0:0(0) win 1\\n' > /tmp/synfin-v6.pkt && "
		    "'%s' import /tmp/synfin-v6.pkt",
		    bin),
		 0);
	CHECK(strstr(out, "role passive\nfamily ipv6\n") != NULL);
	CHECK_EQ(sh(out, sizeof out,
		    "printf -- '--ip_version=ipv4-mapped-ipv6\\n"
		    "0 socket(AF_INET6, SOCK_STREAM, IPPROTO_TCP) = 3\\n"
		    "+0 listen(3, 1) = 0\\n+0 < S 0:0(0) win 1\\n' > /tmp/synfin-v6.pkt && "
		    "'%s' import /tmp/synfin-v6.pkt",
		    bin),
		 0);
	CHECK(strstr(out, "role passive\nin S") != NULL);
	CHECK(strstr(out, "family") == NULL);
	unlink("/tmp/synfin-v6.pkt");

	/* the listener closed before accept: the listener, not the connection */
	CHECK_EQ(import(bin, FX "close-listener-synrcvd.pkt"), 0);
	CHECK(strstr(out, "wait 100\ncall close listener\nin . seq=pisn+1 ack=tisn+1 win=65535\n"
			  "out R len=0 @+0ms +-4ms\n") != NULL);
	/* a second connection on the same 4-tuple after TIME-WAIT: named, its SYN above the
	 * old space, its numbers from its own ISN after */
	CHECK_EQ(import(bin, FX "timewait-reuse.pkt"), 0);
	CHECK(strstr(out, "expect state TIME-WAIT\nwait 1000\n"
			  "in S seq=pisn+100000 conn=1 win=65535 mss=1460\n"
			  "out S. seq=tisn+0 ack=pisn+1 len=0 @+0ms +-4ms\n"
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
	CHECK(strstr(out, "15 of 15 scripts imported, 13 without loss") != NULL);
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

	/* export of a call-result divergence (no packetdrill needed to write it): the read
	 * that returned the end of the stream too early is written as RFC 9293 wants it */
	CHECK_EQ(sh(out, sizeof out,
		    "printf 'role passive\\nin S seq=pisn win=65535 mss=1460\\nin . win=65535\\n"
		    "call receive\\n' > /tmp/synfin-eof.scn && '%s' export --packetdrill --target "
		    "model:fault=recv-eof-early /tmp/synfin-eof.scn 2>&1",
		    bin),
		 0);
	CHECK(strstr(out, "read(4, ..., 1000) = -1 EAGAIN (Resource temporarily unavailable)\n"
			  "// synfin: wrong-field divergence: rule result.receive") != NULL);
	unlink("/tmp/synfin-eof.scn");

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
