/* Profile files: a stack's timers, flags and accepted differences written as text
 * (harness/profile_file.h). The parser reads every directive into the profile, refuses bad
 * input with file:line:col, and a file given to --profile judges a run: an accepted
 * difference no longer fails it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "profile_file.h"
#include "sh.h"

static const char good[] = "# a stack's profile\n"
			   "profile mystack\n"
			   "summary \"RFC 9293 with \\\"my\\\" timers\"\n"
			   "base lwip\n"
			   "2msl 60s   # MSL 30 s\n"
			   "rto-min 200ms\n"
			   "rto-must 3s\n"
			   "delack-max 40ms\n"
			   "fin2-timeout 0\n"
			   "\n"
			   "flag rcv-wup\n"
			   "no-flag rfc1337\n"
			   "accept fin.finwait2 state \"no TIME-WAIT: ports are scarce here\"\n"
			   "accept rtx.early.syn * \"any kind\"\n";

static void expect_error(const char *text, const char *want)
{
	char err[512] = "";
	const struct sfo_profile *p =
	    sfh_profile_parse(text, strlen(text), "t.profile", err, sizeof err);
	CHECK(p == NULL);
	if (!strstr(err, want))
		fprintf(stderr, "error '%s' lacks '%s'\n", err, want);
	CHECK(strstr(err, want) != NULL);
}

int main(void)
{
	char err[512];
	const struct sfo_profile *p =
	    sfh_profile_parse(good, strlen(good), "t.profile", err, sizeof err);
	CHECK(p != NULL);
	if (!p) {
		fprintf(stderr, "%s\n", err);
		return check_done();
	}
	CHECK_STR(p->name, "mystack");
	CHECK_STR(p->summary, "RFC 9293 with \"my\" timers");
	CHECK_EQ(p->msl2_ms, 60000);
	CHECK_EQ(p->rto_min_ms, 200);
	CHECK_EQ(p->rto_must_ms, 3000);
	CHECK_EQ(p->delack_max_ms, 40);
	CHECK_EQ(p->fin2_timeout_ms, 0);
	CHECK_EQ(p->user_timeout_ms, sfo_profile_find("lwip")->user_timeout_ms); /* from base */
	CHECK(p->flags & SFO_PF_RCV_WUP);
	CHECK(p->flags & SFO_PF_RFC5961_OK); /* lwip's, kept */
	CHECK(!(p->flags & SFO_PF_RFC1337)); /* lwip's, cleared */
	int r = sfo_rule_find("fin.finwait2");
	CHECK(r >= 0);
	const struct sfo_accept *a = sfo_profile_accepts(p, (sfo_rule_t)r, SFO_DIV_STATE);
	CHECK(a != NULL && strstr(a->reason, "ports are scarce") != NULL);
	CHECK(sfo_profile_accepts(p, (sfo_rule_t)r, SFO_DIV_MISSING) == NULL);
	int e = sfo_rule_find("rtx.early.syn");
	CHECK(e >= 0 &&
	      sfo_profile_accepts(p, (sfo_rule_t)e, SFO_DIV_FIELD) != NULL); /* any kind */
	sfh_profile_free(p);

	/* errors name the file, line and column */
	expect_error("summary \"x\"\n",
		     "t.profile:1:1: the first directive must be 'profile NAME'");
	expect_error("profile a\n2msl 60\n", "t.profile:2:8: a duration needs its unit");
	expect_error("profile a\nrto-min fast\n", "t.profile:2:9: 'fast' is not a duration");
	expect_error("profile a\nflag  nosuch\n", "t.profile:2:7: unknown flag 'nosuch'");
	expect_error("profile a\naccept no.such.rule state \"r\"\n",
		     "t.profile:2:8: unknown rule 'no.such.rule'");
	expect_error(
	    "profile a\naccept stack crash \"r\"\n",
	    "t.profile:2:8: 'stack' is not an RFC rule: a crash or hang is never accepted");
	expect_error("profile a\naccept fin.finwait2 odd \"r\"\n", "t.profile:2:21: unknown kind");
	expect_error("profile a\naccept fin.finwait2 state reason\n",
		     "t.profile:2:27: the reason is a non-empty quoted string");
	expect_error("profile a\naccept fin.finwait2 state\n", "t.profile:2:21: 'accept' takes 3");
	expect_error("profile a\nsummary \"open\n", "t.profile:2:9: string without its closing");
	expect_error("profile rfc9293\n", "t.profile:1:9: 'rfc9293' is a built-in");
	expect_error("profile a\nbase nosuch\n", "t.profile:2:6: no built-in profile 'nosuch'");
	expect_error("profile a\nwindow 5\n", "t.profile:2:1: unknown directive 'window'");
	expect_error("profile a\nrto-min 5s\nrto-must 1s\n", "rto-must (1000 ms) is below");
	expect_error("# nothing\n", "no 'profile NAME' line");

	/* on the command line: the seeded fault diverges under rfc9293, and a profile file
	 * accepting exactly that difference lets the run pass */
	const char *bin = getenv("SYNFIN_BIN");
	if (bin) {
		char out[8192], path[] = "/tmp/synfin-profile-XXXXXX";
		int fd = mkstemp(path);
		CHECK(fd >= 0);
		const char text[] = "profile notw\naccept fin.finwait2 state \"no TIME-WAIT\"\n";
		CHECK_EQ(write(fd, text, sizeof text - 1), (long)(sizeof text - 1));
		close(fd);
		const char *scn = "corpus/seeds/05-active-close-four-way.scn";
		CHECK_EQ(
		    sh(out, sizeof out, "%s run %s --target model:fault=no-time-wait -q", bin, scn),
		    1);
		CHECK_EQ(sh(out, sizeof out,
			    "%s run %s --target model:fault=no-time-wait -q --profile %s", bin, scn,
			    path),
			 0);
		CHECK(strstr(out, "accepted state in FIN-WAIT-2") != NULL);
		/* a bad file is exit 2 with its position */
		FILE *f = fopen(path, "w");
		CHECK(f != NULL);
		fputs("profile x\nflag bogus\n", f);
		fclose(f);
		CHECK_EQ(
		    sh(out, sizeof out, "%s run %s --target model -q --profile %s", bin, scn, path),
		    2);
		CHECK(strstr(out, ":2:6: unknown flag 'bogus'") != NULL);
		unlink(path);
	}
	return check_done();
}
