/* End to end through the synfin command (SYNFIN_BIN, set by ctest): for every seeded fault
 * of the model target, a short bounded campaign from the seed corpus (fixed -seed and
 * -runs) records a finding whose signature has the rule and kind that fault breaks; the
 * faithful model yields no finding. Each finding directory is checked to be complete
 * (scenario.scn that parses back, exchange.pcap that tshark reads, report.txt, report.json)
 * and the findings replay with `synfin run`.
 *
 * The expectations were worked out by running the campaigns (see the comment per fault):
 * a fault usually shows up under several signatures, and the table names the one that
 * states the fault most directly. */
#include <dirent.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "sh.h"
#include "target_model.h"

static const char *bin;
static char tmp[64];
static char out[1 << 16];

struct expect {
	const char *fault, *rule, *kind;
};

static const struct expect table[] = {
    /* The FIN that should lead FIN-WAIT-2 into TIME-WAIT lands in CLOSED instead:
     * model/FIN-WAIT-2/fin-ack/fin.finwait2/state (also via FIN-WAIT-1 and CLOSING). */
    {"no-time-wait", "fin.finwait2", "state"},
    /* A retransmitted FIN in TIME-WAIT is not acknowledged again (MUST-13):
     * model/TIME-WAIT/fin-ack/timewait.fin.reack/missing-response. */
    {"tw-ignore-fin", "timewait.fin.reack", "missing-response"},
    /* An out-of-window RST is taken: the connection goes to CLOSED instead of the
     * segment being dropped: model/ESTABLISHED/rst-outwin/seq.unacceptable.rst/state
     * (and the same in every synchronized state). */
    {"rst-out-of-window", "seq.unacceptable.rst", "state"},
    /* RST in SYN-RECEIVED of a passive open returns to CLOSED, not LISTEN:
     * model/SYN-RECEIVED/rst-exact/synrcvd.rst.passive/state. */
    {"synrcvd-rst-closed", "synrcvd.rst.passive", "state"},
    /* The SYN-ACK acknowledges ISN instead of ISN+1: a wrong field in the reply to the
     * SYN: model/LISTEN/syn/listen.syn/wrong-field. */
    {"synack-bad-ack", "listen.syn", "wrong-field"},
    /* The SYN alone moves LISTEN to ESTABLISHED: model/LISTEN/syn/listen.syn/state. */
    {"two-way-handshake", "listen.syn", "state"},
    /* The FIN in FIN-WAIT-2 is ignored: no ACK, no TIME-WAIT:
     * model/FIN-WAIT-2/fin-ack/fin.finwait2/state. */
    {"finwait2-ignore-fin", "fin.finwait2", "state"},
    /* close() in CLOSE-WAIT sends no FIN:
     * model/CLOSE-WAIT/call-close/send.fin/missing-response. */
    {"closewait-no-fin", "send.fin", "missing-response"},
    /* A SYN in SYN-SENT is dropped (no simultaneous open, MUST-10):
     * model/SYN-SENT/syn/synsent.syn.simopen/state. */
    {"no-simultaneous-open", "synsent.syn.simopen", "state"},
    /* An ACK of unsent data gets no ACK in reply:
     * model/ESTABLISHED/ack-future/ack.future/missing-response. */
    {"ack-future-accepted", "ack.future", "missing-response"},
    /* The ACK of our FIN in LAST-ACK does not close:
     * model/LAST-ACK/ack/lastack.ack.fin/state. */
    {"lastack-ignore-ack", "lastack.ack.fin", "state"},
    /* An out-of-window RST is answered with an ACK (a RST must never be answered):
     * model/ESTABLISHED/rst-outwin/seq.unacceptable.rst/unexpected-response. */
    {"rst-answers-rst", "seq.unacceptable.rst", "unexpected-response"},
    /* The FIN's TCP checksum is corrupted on the wire (MUST-2):
     * model/ESTABLISHED/call-close/seg.checksum/wrong-field. */
    {"fin-bad-checksum", "seg.checksum", "wrong-field"},
    /* A receive with nothing queued returns 0, the end of a stream whose FIN has not come:
     * model/ESTABLISHED/call-receive/result.receive/wrong-field. */
    {"recv-eof-early", "result.receive", "wrong-field"},
    /* Closing the listener resets an accepted connection too (seed 73):
     * model/ESTABLISHED/wait-short/wait.idle/state, the connection's step of the call. */
    {"listener-close-resets-all", "wait.idle", "state"},
};

#define CAMPAIGN_FLAGS "-seed=1 -runs=3000"

static char *slurp(const char *path)
{
	static char buf[1 << 16];
	FILE *f = fopen(path, "r");
	if (!f)
		return NULL;
	size_t n = fread(buf, 1, sizeof buf - 1, f);
	buf[n] = 0;
	fclose(f);
	return buf;
}

static int exists(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0;
}

/* A finding directory is complete and replays. */
static void check_finding_dir(const char *dir, const char *target)
{
	char path[512];
	static const char *const files[] = {"scenario.scn", "exchange.pcap", "report.txt",
					    "report.json"};
	for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
		snprintf(path, sizeof path, "%s/%s", dir, files[i]);
		CHECK(exists(path));
	}
	/* The minimized scenario replays with the verdict it was found with. */
	CHECK_EQ(sh(out, sizeof out, "%s replay %s/scenario.scn --target '%s'", bin, dir, target),
		 0);
	snprintf(path, sizeof path, "%s/exchange.pcap", dir);
	if (sh(out, sizeof out, "command -v tshark") == 0) {
		CHECK_EQ(sh(out, sizeof out,
			    "tshark -r %s -T fields -e tcp.flags.str 2>/dev/null | wc -l", path),
			 0);
		CHECK(atoi(out) > 0);
	}
}

/* The first finding directory in out_dir whose report has rule and kind, or 0. */
static int find_finding(const char *out_dir, const char *rule, const char *kind, char *dir,
			size_t cap)
{
	char want_rule[128], want_kind[128], path[512];
	DIR *d = opendir(out_dir);
	struct dirent *e;
	int found = 0;
	if (!d)
		return 0;
	snprintf(want_rule, sizeof want_rule, "\"rule\": \"%s\"", rule);
	snprintf(want_kind, sizeof want_kind, "\"kind\": \"%s\"", kind);
	while (!found && (e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof path, "%s/%s/report.json", out_dir, e->d_name);
		const char *json = slurp(path);
		if (json && strstr(json, want_rule) && strstr(json, want_kind)) {
			snprintf(dir, cap, "%s/%s", out_dir, e->d_name);
			found = 1;
		}
	}
	closedir(d);
	return found;
}

static int count_findings(const char *out_dir)
{
	DIR *d = opendir(out_dir);
	struct dirent *e;
	int n = 0;
	if (!d)
		return -1;
	while ((e = readdir(d)) != NULL) {
		/* finding directories only: OUT also holds logs/ and summary.{md,json} */
		char path[1024];
		struct stat st;
		snprintf(path, sizeof path, "%s/%s/report.json", out_dir, e->d_name);
		n += e->d_name[0] != '.' && stat(path, &st) == 0;
	}
	closedir(d);
	return n;
}

static void model_fault_campaign_finds_its_signature(const struct expect *x)
{
	char outdir[256], dir[512];
	int rc = sh(out, sizeof out,
		    "%s fuzz --target model:fault=%s --out %s/%s/out --seeds corpus/seeds "
		    "--progress 0 %s/%s/corpus -- " CAMPAIGN_FLAGS,
		    bin, x->fault, tmp, x->fault, tmp, x->fault);
	CHECK_EQ(rc, 1); /* findings recorded */
	snprintf(outdir, sizeof outdir, "%s/%s/out", tmp, x->fault);
	int found = find_finding(outdir, x->rule, x->kind, dir, sizeof dir);
	if (!found)
		fprintf(stderr, "fault %s: no finding with rule %s, kind %s\n%s\n", x->fault,
			x->rule, x->kind, out);
	CHECK(found);
	if (found) {
		char target[128];
		snprintf(target, sizeof target, "model:fault=%s", x->fault);
		check_finding_dir(dir, target);
		printf("%-22s %s\n", x->fault, dir);
	}
}

static void faithful_model_campaign_finds_nothing(void)
{
	char dir[256];
	int rc =
	    sh(out, sizeof out,
	       "%s fuzz --target model --out %s/faithful/out --seeds corpus/seeds --progress 0 "
	       "%s/faithful/corpus -- " CAMPAIGN_FLAGS,
	       bin, tmp, tmp);
	CHECK_EQ(rc, 0);
	CHECK(strstr(out, "no findings") != NULL);
	snprintf(dir, sizeof dir, "%s/faithful/out", tmp);
	CHECK_EQ(count_findings(dir), 0);
	if (rc != 0)
		fprintf(stderr, "%s\n", out);
}

static void table_covers_every_fault(void)
{
	size_t n = sizeof table / sizeof table[0];
	CHECK_EQ(n, sfh_fault_count());
	for (size_t i = 0; i < sfh_fault_count(); i++) {
		int listed = 0;
		for (size_t k = 0; k < n; k++)
			listed |= strcmp(table[k].fault, sfh_fault_at(i)->name) == 0;
		if (!listed)
			fprintf(stderr, "fault %s has no expectation\n", sfh_fault_at(i)->name);
		CHECK(listed);
	}
}

int main(void)
{
	bin = getenv("SYNFIN_BIN");
	if (!bin) {
		fprintf(stderr, "SYNFIN_BIN is not set (run through ctest)\n");
		return 77;
	}
	snprintf(tmp, sizeof tmp, "/tmp/synfin-fuzz-faults.XXXXXX");
	if (!mkdtemp(tmp))
		return 1;
	table_covers_every_fault();
	for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
		model_fault_campaign_finds_its_signature(&table[i]);
	faithful_model_campaign_finds_nothing();
	int rc = check_done();
	if (rc == 0)
		sh(out, sizeof out, "rm -rf %s", tmp);
	else
		fprintf(stderr, "campaign outputs kept in %s\n", tmp);
	return rc;
}
