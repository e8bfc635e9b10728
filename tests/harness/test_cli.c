/* The synfin command as a user meets it: exit codes (0 conformant, 1 divergence, 2 bad
 * input), file:line:col errors with nothing half-written, JSON and pcap outputs (the pcap
 * read back by tshark when it is installed), replay against expected verdicts, explain,
 * targets and --help. Needs SYNFIN_BIN (set by ctest). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "sh.h"

static const char *bin;
static char tmp[64];

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	CHECK(f != NULL);
	if (f) {
		fputs(text, f);
		fclose(f);
	}
}

static int exists(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0;
}

static char out[1 << 16];

static void run_seeds_on_model_exits_0_with_traces(void)
{
	CHECK_EQ(sh(out, sizeof out, "%s run corpus/seeds/*.scn --target model", bin), 0);
	CHECK(strstr(out, "=> SYN-RECEIVED") != NULL);
	CHECK(strstr(out, "[listen.syn 3.10.7.2]") != NULL);
	CHECK(strstr(out, "26-active-open-close.scn: conformant") != NULL);
	CHECK(strstr(out, "DIVERGENCE") == NULL);
}

static void run_on_fault_exits_1_and_names_rule(void)
{
	CHECK_EQ(sh(out, sizeof out, "%s run corpus/seeds/05-active-close-four-way.scn "
				     "--target model:fault=no-time-wait",
		    bin),
		 1);
	CHECK(strstr(out, "DIVERGENCE state") != NULL);
	CHECK(strstr(out, "rule fin.finwait2") != NULL);
	CHECK(strstr(out, "expected TIME-WAIT, observed CLOSED") != NULL);
}

static void bad_input_exits_2_with_position_and_writes_nothing(void)
{
	char bad[128], json[128], pcap[128];
	snprintf(bad, sizeof bad, "%s/bad.scn", tmp);
	snprintf(json, sizeof json, "%s/out.json", tmp);
	snprintf(pcap, sizeof pcap, "%s/out.pcap", tmp);
	write_file(bad, "role passive\nin S seq=pisn\nin Q seq=pisn\n");
	CHECK_EQ(sh(out, sizeof out, "%s run corpus/seeds/01-passive-open.scn %s --target model "
				     "--json %s --pcap %s",
		    bin, bad, json, pcap),
		 2);
	CHECK(strstr(out, "bad.scn:3:4:") != NULL);
	CHECK(!exists(json));
	CHECK(!exists(pcap));
	CHECK_EQ(sh(out, sizeof out, "%s run /nonexistent.scn --target model", bin), 2);
	CHECK(strstr(out, "/nonexistent.scn") != NULL);
	CHECK_EQ(sh(out, sizeof out, "%s run corpus/seeds/01-passive-open.scn --target nosuch", bin),
		 2);
	CHECK(strstr(out, "unknown target 'nosuch'") != NULL);
	CHECK_EQ(sh(out, sizeof out, "%s run corpus/seeds/01-passive-open.scn", bin), 2);
	CHECK_EQ(sh(out, sizeof out, "%s frobnicate", bin), 2);
	CHECK_EQ(sh(out, sizeof out, "%s run corpus/seeds/01-passive-open.scn --target model "
				     "--profile nosuch",
		    bin),
		 2);
	CHECK(strstr(out, "rfc5961") != NULL); /* the message lists the profiles */
}

static void json_and_pcap_outputs(void)
{
	char json[128], pcap[128];
	snprintf(json, sizeof json, "%s/run.json", tmp);
	snprintf(pcap, sizeof pcap, "%s/run.pcap", tmp);
	CHECK_EQ(sh(out, sizeof out, "%s run corpus/seeds/05-active-close-four-way.scn "
				     "--target model:fault=no-time-wait -q --json %s --pcap %s",
		    bin, json, pcap),
		 1);
	FILE *f = fopen(json, "r");
	CHECK(f != NULL);
	if (f) {
		size_t n = fread(out, 1, sizeof out - 1, f);
		out[n] = 0;
		fclose(f);
		/* the report schema (docs/report-schema.md) */
		CHECK(strstr(out, "\"schema\": 1,") != NULL);
		CHECK(strstr(out, "\"synfin_version\": \"") != NULL);
		CHECK(strstr(out, "\"verdict\": \"divergence\"") != NULL);
		CHECK(strstr(out, "\"rule\": \"fin.finwait2\"") != NULL);
		CHECK(strstr(out, "\"expected\": {\"state\": \"TIME-WAIT\"}") != NULL);
		CHECK(strstr(out, "\"differences\": [{\"field\": \"state\", \"expected\": "
				  "\"TIME-WAIT\", \"observed\": \"CLOSED\"}]") != NULL);
		CHECK(strstr(out, "\"signature\": \"model/FIN-WAIT-2/fin-ack/fin.finwait2/state\"") !=
		      NULL);
		/* a state difference names the segment it came from: the peer's FIN+ACK,
		 * frame 6 (the target's ACK of it, frame 7, fits) */
		CHECK(strstr(out, "\"packet\": 6,") != NULL);
	}
	CHECK(exists(pcap));
	if (sh(out, sizeof out, "command -v tshark") == 0) {
		/* SYN, SYN-ACK, ACK, FIN, ACK, FIN+ACK, ACK: seven segments */
		CHECK_EQ(sh(out, sizeof out, "tshark -r %s -T fields -e tcp.flags.str 2>/dev/null | wc -l", pcap),
			 0);
		CHECK_EQ(atoi(out), 7);
	}
}

static void replay_compares_expected_verdicts(void)
{
	char dir[128], a[160], b[160];
	snprintf(dir, sizeof dir, "%s/regress", tmp);
	mkdir(dir, 0755);
	snprintf(a, sizeof a, "%s/tw.scn", dir);
	snprintf(b, sizeof b, "%s/open.scn", dir);
	write_file(a, "#! expect model:fault=no-time-wait divergence fin.finwait2 state\n"
		      "#! expect * ok\n"
		      "role passive\nin S seq=pisn\nin .\ncall close\nin .\nin F.\n");
	write_file(b, "role passive\nin S seq=pisn\nin .\n");
	CHECK_EQ(sh(out, sizeof out, "%s replay %s --target model", bin, dir), 0);
	CHECK(strstr(out, "2 passed, 0 failed") != NULL);
	CHECK_EQ(sh(out, sizeof out, "%s replay %s --target model:fault=no-time-wait", bin, dir), 0);
	CHECK_EQ(sh(out, sizeof out, "%s replay %s --target model:fault=finwait2-ignore-fin", bin,
		    dir),
		 1);
	CHECK(strstr(out, "FAIL") != NULL);
	CHECK(strstr(out, "1 passed, 1 failed") != NULL);
	char junit[160];
	snprintf(junit, sizeof junit, "%s/replay.xml", tmp);
	CHECK_EQ(sh(out, sizeof out, "%s replay %s --target model:fault=finwait2-ignore-fin "
				     "--junit %s",
		    bin, dir, junit),
		 1);
	CHECK_EQ(sh(out, sizeof out, "grep -c '<testcase' %s", junit), 0);
	CHECK_EQ(atoi(out), 2);
	CHECK_EQ(sh(out, sizeof out, "grep -c '<failure message=\"expected ok, got "
				     "model/FIN-WAIT-2/fin-ack/fin.finwait2/state' %s",
		    junit),
		 0);
	write_file(b, "#! expect model sometimes\nrole passive\n");
	CHECK_EQ(sh(out, sizeof out, "%s replay %s --target model", bin, dir), 2);
	CHECK(strstr(out, "open.scn:1:") != NULL);
}

static void explain_targets_help(void)
{
	CHECK_EQ(sh(out, sizeof out, "%s explain", bin), 0);
	CHECK(strstr(out, "synrcvd.rst.passive") != NULL);
	CHECK_EQ(sh(out, sizeof out, "%s explain MUST-13", bin), 0);
	CHECK(strstr(out, "MUST-13") != NULL);
	CHECK_EQ(sh(out, sizeof out, "%s explain no.such.rule", bin), 2);
	CHECK_EQ(sh(out, sizeof out, "%s targets", bin), 0);
	CHECK(strstr(out, "model    available") != NULL);
	CHECK(strstr(out, "no-time-wait") != NULL);
	CHECK_EQ(sh(out, sizeof out, "%s run --help", bin), 0);
	CHECK(strstr(out, "usage: synfin run") != NULL);
	CHECK_EQ(sh(out, sizeof out, "%s --help", bin), 0);
	CHECK(strstr(out, "commands:") != NULL);
}

int main(void)
{
	bin = getenv("SYNFIN_BIN");
	if (!bin) {
		printf("SYNFIN_BIN not set: run through ctest\n");
		return 77;
	}
	snprintf(tmp, sizeof tmp, "/tmp/synfin-test-cli-XXXXXX");
	if (!mkdtemp(tmp))
		return 1;
	run_seeds_on_model_exits_0_with_traces();
	run_on_fault_exits_1_and_names_rule();
	bad_input_exits_2_with_position_and_writes_nothing();
	json_and_pcap_outputs();
	replay_compares_expected_verdicts();
	explain_targets_help();
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf %s", tmp);
	CHECK_EQ(system(cmd), 0);
	return check_done();
}
