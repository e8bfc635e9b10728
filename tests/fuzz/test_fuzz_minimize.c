/* Minimisation (fuzz/minimize.c), in-process and through `synfin minimize`: a faulted
 * seed padded with irrelevant events shrinks and keeps its signature; the result is a
 * valid text scenario that shows the same signature when run again. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "sh.h"
#include "fuzz_priv.h"

static const char *const fault = "model:fault=no-time-wait";
static const char *const want = "model/FIN-WAIT-2/fin-ack/fin.finwait2/state";

/* The four-way close seed, assertions dropped, with noise around it: a wait, a receive,
 * a duplicate ACK with options and odd numbers, and events after the divergence. */
static void padded_seed(struct sfh_scenario *s)
{
	char err[256];
	CHECK_EQ(sfh_scn_load("corpus/seeds/05-active-close-four-way.scn", s, err, sizeof err), 0);
	sff_scn_strip(s);
	struct sfh_event wait = {.type = SFH_EV_WAIT, .u.wait_ms = 150};
	struct sfh_event recv = {.type = SFH_EV_CALL,
				 .u.call = {.call = SFO_CALL_RECEIVE, .arg = 100}};
	struct sfh_event ack = {.type = SFH_EV_IN};
	ack.u.in.flags = SFO_ACK | SFO_PSH;
	ack.u.in.wnd = 4096;
	ack.u.in.opts = SFO_OPT_TS;
	ack.u.in.tsval = 77;
	ack.u.in.has_ack = 1;
	ack.u.in.ack = (struct sfh_num){SFH_A_TUNA, 0};
	struct sfh_event evs[SFH_MAX_EVENTS];
	uint32_t n = 0;
	for (uint32_t i = 0; i < s->nev; i++) {
		evs[n++] = s->ev[i];
		if (i == 1) {
			evs[n++] = wait;
			evs[n++] = recv;
			evs[n++] = ack;
		}
	}
	evs[n++] = wait; /* after the divergence: must go */
	evs[n++] = recv;
	memcpy(s->ev, evs, n * sizeof evs[0]);
	s->nev = n;
}

static void minimize_noise_keeps_signature(void)
{
	char err[256];
	struct sff_runctx ctx = {.next_case = 1};
	struct sfh_scenario s;
	struct sfh_result res;
	CHECK_EQ(sfh_target_open(fault, &ctx.target, err, sizeof err), 0);
	ctx.runner = sfh_runner_new(err, sizeof err);
	CHECK(ctx.runner != NULL);
	if (!ctx.target || !ctx.runner)
		return;
	padded_seed(&s);
	uint32_t before = s.nev;
	CHECK_EQ(sff_run_once(&ctx, &s, &res), 0);
	CHECK_STR(res.signature, want);
	int runs = sff_minimize(&ctx, &s, res.sig_hash, 0);
	CHECK(runs > 0);
	CHECK(s.nev < before);
	/* Handshake (SYN, ACK), close, ACK of the FIN, FIN: nothing else is needed. */
	CHECK(s.nev <= 5);
	struct sfh_result again;
	CHECK_EQ(sff_run_once(&ctx, &s, &again), 0);
	CHECK_STR(again.signature, want);
	/* The text form parses back to the same scenario. */
	char text[4096];
	struct sfh_scenario back;
	sfh_scn_format(&s, text, sizeof text);
	CHECK_EQ(sfh_scn_parse(text, strlen(text), "min", &back, err, sizeof err), 0);
	CHECK(sfh_scn_equal(&s, &back));
	/* Simplified fields: the noise ACK's options and odd window are gone or the ACK is. */
	for (uint32_t i = 0; i < s.nev; i++)
		if (s.ev[i].type == SFH_EV_IN)
			CHECK_EQ(s.ev[i].u.in.opts & SFO_OPT_TS, 0);
	printf("minimized %u -> %u events in %d runs:\n%s", before, s.nev, runs, text);

	/* A scenario without the divergence is refused. */
	struct sfh_scenario ok;
	CHECK_EQ(sfh_scn_load("corpus/seeds/01-passive-open.scn", &ok, err, sizeof err), 0);
	CHECK_EQ(sff_minimize(&ctx, &ok, res.sig_hash, 0), -1);
	sff_runctx_dispose(&ctx);
	sfh_runner_free(ctx.runner);
	sfh_target_close(ctx.target);
}

static void minimize_command_writes_text_with_expectation(void)
{
	const char *bin = getenv("SYNFIN_BIN");
	char tmp[] = "/tmp/synfin-min.XXXXXX", path[256], outp[256], buf[8192];
	if (!bin || !mkdtemp(tmp))
		return;
	struct sfh_scenario s;
	padded_seed(&s);
	size_t need = sfh_scn_format(&s, NULL, 0) + 1;
	char *text = malloc(need);
	CHECK(text != NULL);
	if (!text)
		return;
	sfh_scn_format(&s, text, need);
	snprintf(path, sizeof path, "%s/in.scn", tmp);
	snprintf(outp, sizeof outp, "%s/min.scn", tmp);
	CHECK_EQ(sff_write_file(path, text, strlen(text)), 0);
	free(text);
	CHECK_EQ(sh(buf, sizeof buf, "%s minimize %s --target %s -o %s", bin, path, fault, outp),
		 0);
	CHECK(strstr(buf, want) != NULL);
	/* The output replays with its own expectation line. */
	CHECK_EQ(sh(buf, sizeof buf, "%s replay %s --target %s", bin, outp, fault), 0);
	CHECK_EQ(sh(buf, sizeof buf, "grep -c '^#! expect %s divergence fin.finwait2 state' %s",
		    fault, outp),
		 0);
	/* Binary input (a libFuzzer crash file) works too. */
	uint8_t bytes[SFH_MAX_ENCODED];
	size_t n = sfh_scn_encode(&s, bytes, sizeof bytes);
	snprintf(path, sizeof path, "%s/crash-0001", tmp);
	CHECK_EQ(sff_write_file(path, bytes, n), 0);
	CHECK_EQ(sh(buf, sizeof buf, "%s minimize %s --target %s", bin, path, fault), 0);
	CHECK(strstr(buf, "(binary)") != NULL);
	/* Nothing to keep on the faithful model: exit 1. */
	CHECK_EQ(sh(buf, sizeof buf, "%s minimize %s --target model", bin, outp), 1);
	sh(buf, sizeof buf, "rm -rf %s", tmp);
}

int main(void)
{
	minimize_noise_keeps_signature();
	minimize_command_writes_text_with_expectation();
	return check_done();
}
