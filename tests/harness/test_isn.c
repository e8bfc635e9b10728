/* ISN predictability (harness/isn.c): the pure judgement on made-up sequences, the probe
 * on the model stack with good and predictable generators, on lwIP's and libslirp's own
 * generators and on Linux (root only), and the command with its finding and triage. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "isn.h"
#include "sh.h"
#include "target.h"
#include "wire.h"

/* A probe's worth of observations: ntup tuples of SFH_ISN_PER_TUPLE, the ISN of
 * connection k on tuple j from gen(j, k, t_ms, ctx). */
typedef uint32_t (*gen_fn)(unsigned j, unsigned k, uint64_t t_ms, void *ctx);

static size_t fill(struct sfh_isn_obs *o, unsigned ntup, gen_fn gen, void *ctx)
{
	static const uint32_t wait[SFH_ISN_PER_TUPLE] = {0, 0, SFH_ISN_LONG_MS};
	uint64_t t = 0;
	size_t n = 0;
	for (unsigned j = 0; j < ntup; j++)
		for (unsigned k = 0; k < SFH_ISN_PER_TUPLE; k++, n++) {
			t += wait[k];
			o[n] = (struct sfh_isn_obs){.isn = gen(j, k, t, ctx),
						    .tuple = (uint16_t)j,
						    .peer_port = (uint16_t)(40000 + j),
						    .target_port = 5000,
						    .wait_ms = wait[k],
						    .t_ms = t};
		}
	return n;
}

static uint32_t g_constant(unsigned j, unsigned k, uint64_t t, void *ctx)
{
	return 6510;
}

static uint32_t g_step(unsigned j, unsigned k, uint64_t t, void *ctx)
{
	/* a global counter near the wrap: the steps cross 2^32 */
	return 0xfffe0000u + 64000u * (j * SFH_ISN_PER_TUPLE + k);
}

static uint32_t g_clock(unsigned j, unsigned k, uint64_t t, void *ctx)
{
	return 1000u + (uint32_t)(t * 250u) + 17u * (j * SFH_ISN_PER_TUPLE + k);
}

static uint64_t xorshift(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* RFC 6528: M (4 us) + F(tuple, secret); F drawn per tuple from the seed in ctx. */
static uint32_t g_rfc(unsigned j, unsigned k, uint64_t t, void *ctx)
{
	uint64_t s = *(uint64_t *)ctx ^ (0x9e3779b97f4a7c15ull * (j + 1));
	for (int i = 0; i < 4; i++)
		xorshift(&s);
	return (uint32_t)s + (uint32_t)(t * 250u) + 3u * k;
}

/* A per-tuple secret but no clock: RFC 6528's F alone. */
static uint32_t g_f_only(unsigned j, unsigned k, uint64_t t, void *ctx)
{
	uint64_t s = 0x1234567887654321ull * (j + 1);
	xorshift(&s);
	return (uint32_t)s;
}

static void analyze_constant_is_no_clock_and_predictable(void)
{
	struct sfh_isn_obs o[SFH_ISN_MAX_OBS];
	struct sfh_isn_verdict v;
	size_t n = fill(o, 4, g_constant, NULL);
	CHECK_EQ(sfh_isn_analyze(o, n, &v), 0);
	CHECK(!v.ok && v.no_clock && v.predictable);
	CHECK_EQ(v.rule, sfo_rule_find("isn.clock"));
	CHECK_EQ(v.sev, SFO_SEV_MUST);
	CHECK(strstr(v.detail, "stays 6510") != NULL);
}

static void analyze_fixed_step_is_no_clock(void)
{
	struct sfh_isn_obs o[SFH_ISN_MAX_OBS];
	struct sfh_isn_verdict v;
	size_t n = fill(o, 4, g_step, NULL);
	CHECK_EQ(sfh_isn_analyze(o, n, &v), 0);
	CHECK(v.no_clock && v.predictable);
	CHECK(strstr(v.detail, "step by 64000") != NULL);
}

static void analyze_clock_without_secret_is_predictable_only(void)
{
	struct sfh_isn_obs o[SFH_ISN_MAX_OBS];
	struct sfh_isn_verdict v;
	size_t n = fill(o, 4, g_clock, NULL);
	CHECK_EQ(sfh_isn_analyze(o, n, &v), 0);
	CHECK(!v.ok && !v.no_clock && v.predictable);
	CHECK_EQ(v.rule, sfo_rule_find("isn.predictable"));
	CHECK_EQ(v.sev, SFO_SEV_SHOULD);
}

static void analyze_secret_without_clock_is_no_clock_only(void)
{
	struct sfh_isn_obs o[SFH_ISN_MAX_OBS];
	struct sfh_isn_verdict v;
	size_t n = fill(o, 4, g_f_only, NULL);
	CHECK_EQ(sfh_isn_analyze(o, n, &v), 0);
	CHECK(v.no_clock && !v.predictable);
	CHECK_EQ(v.rule, sfo_rule_find("isn.clock"));
}

/* 2,000 generators of RFC 6528's shape with different secrets: none is flagged (the
 * chance of one false SHLD-1 verdict is 2^-21 each; the seeds are fixed, so the outcome
 * is too). */
static void analyze_rfc6528_generators_pass(void)
{
	struct sfh_isn_obs o[SFH_ISN_MAX_OBS];
	struct sfh_isn_verdict v;
	int flagged = 0;
	for (uint64_t seed = 1; seed <= 2000; seed++) {
		uint64_t s = seed * 0x2545f4914f6cdd1dull;
		size_t n = fill(o, 4, g_rfc, &s);
		CHECK_EQ(sfh_isn_analyze(o, n, &v), 0);
		flagged += !v.ok;
	}
	CHECK_EQ(flagged, 0);
}

/* Linux 6.1's ISNs as `synfin isn --target linux` saw them (siphash of the 4-tuple plus
 * a 64 ns clock), and libslirp 4.7's (tcp_iss from 1, +64000 per connection, its slow
 * timer idle without sockets): the one passes, the other is flagged on both counts. */
static void analyze_recorded_linux_passes_slirp_flagged(void)
{
	static const uint32_t linux_isn[] = {473776622,	 473777554,  505308758,	 3216317278,
					     3216317569, 3247577134, 843590897,	 843591173,
					     874850803,	 1674815317, 1674815595, 1706073677};
	static const uint32_t slirp_isn[] = {1, 64001, 128001, 1, 64001, 128001,
					     1, 64001, 128001, 1, 64001, 128001};
	struct sfh_isn_obs o[SFH_ISN_MAX_OBS];
	struct sfh_isn_verdict v;
	size_t n = fill(o, 4, g_constant, NULL);
	for (size_t i = 0; i < n; i++)
		o[i].isn = linux_isn[i];
	CHECK_EQ(sfh_isn_analyze(o, n, &v), 0);
	CHECK(v.ok);
	for (size_t i = 0; i < n; i++)
		o[i].isn = slirp_isn[i];
	CHECK_EQ(sfh_isn_analyze(o, n, &v), 0);
	CHECK(v.no_clock && v.predictable);
}

/* One tuple that happens to repeat is not a generator without a clock; two tuples are
 * too few for the SHLD-1 test (one change could be chance); one tuple is no probe. */
static void analyze_needs_every_tuple_and_enough_of_them(void)
{
	struct sfh_isn_obs o[SFH_ISN_MAX_OBS];
	struct sfh_isn_verdict v;
	uint64_t s = 99;
	size_t n = fill(o, 4, g_rfc, &s);
	o[1].isn = o[0].isn + 5;
	o[2].isn = o[1].isn + 5; /* tuple 0 alone steps by 5 whatever the wait */
	CHECK_EQ(sfh_isn_analyze(o, n, &v), 0);
	CHECK(v.ok);
	n = fill(o, 2, g_clock, NULL);
	CHECK_EQ(sfh_isn_analyze(o, n, &v), 0);
	CHECK(!v.predictable);
	CHECK_EQ(sfh_isn_analyze(o, SFH_ISN_PER_TUPLE, &v), -1);
}

/* The probe on a target: 0 and the verdict, or -1 if the target is not built here. */
static int probe(const char *spec, struct sfh_isn_verdict *v)
{
	char err[256];
	struct sfh_target *t = NULL;
	struct sfh_isn_obs o[SFH_ISN_MAX_OBS];
	size_t n = 0;
	if (!sfh_target_find(spec))
		return -1;
	CHECK_EQ(sfh_target_open(spec, &t, err, sizeof err), 0);
	if (!t) {
		fprintf(stderr, "%s: %s\n", spec, err);
		return -1;
	}
	int rc = sfh_isn_probe(t, 4, 0x4000, o, &n, err, sizeof err);
	if (rc != 0)
		fprintf(stderr, "%s: %s\n", spec, err);
	CHECK_EQ(rc, 0);
	CHECK_EQ(n, 4 * SFH_ISN_PER_TUPLE);
	CHECK_EQ(sfh_isn_analyze(o, n, v), 0);
	sfh_target_close(t);
	return 0;
}

static void probe_model_generators(void)
{
	struct sfh_isn_verdict v;
	CHECK_EQ(probe("model", &v), 0);
	CHECK(v.ok);
	CHECK_EQ(probe("model:isn=constant", &v), 0);
	CHECK(v.no_clock && v.predictable);
	CHECK_EQ(probe("model:isn=step", &v), 0);
	CHECK(v.no_clock && v.predictable);
	CHECK_EQ(probe("model:isn=clock", &v), 0);
	CHECK(!v.no_clock && v.predictable);
}

/* lwIP 2.1.3's tcp_next_iss is `iss += tcp_ticks` from 6510, and tcp_ticks stands
 * still while no pcb runs the TCP timer; libslirp numbers from 1 per instance, +64000
 * per connection. Both are predictable, and both are their own generators: "lwip" is
 * probed as lwip:iss=own (sfh_isn_target_spec), not with synfin's override. */
static void probe_lwip_and_slirp_own_generators(void)
{
	struct sfh_isn_verdict v;
	CHECK_STR(sfh_isn_target_spec("lwip"), "lwip:iss=own");
	CHECK_STR(sfh_isn_target_spec("slirp"), "slirp");
	if (probe(sfh_isn_target_spec("lwip"), &v) == 0)
		CHECK(v.no_clock && v.predictable);
	if (probe("slirp", &v) == 0)
		CHECK(v.no_clock && v.predictable);
}

/* lwIP once its tick has moved: a connection held in SYN-RECEIVED for 3 s runs the TCP
 * timer (tcp_ticks 6), then the probe. The steps are no longer 0 but still the same
 * back to back and after 2 s idle: the tick counts only while a pcb needs the timer. */
static void probe_lwip_after_ticks_still_steps(void)
{
	char err[256];
	struct sfh_target *t = NULL;
	struct sfh_endpoints ep;
	struct sfh_isn_obs o[SFH_ISN_MAX_OBS];
	struct sfh_isn_verdict v;
	struct sfh_pkt junk[16];
	uint8_t buf[SFH_PKT_MAX];
	size_t n = 0;
	if (!sfh_target_find("lwip"))
		return;
	struct sfh_wire *w = sfh_wire_new(err, sizeof err);
	CHECK(w != NULL);
	CHECK_EQ(sfh_target_open("lwip:iss=own", &t, err, sizeof err), 0);
	if (!t || !w)
		goto exit;
	CHECK_EQ(sfh_target_reset(t, SFH_ROLE_PASSIVE, 0x3000, &ep), 0);
	CHECK(sfh_target_call(t, SFO_CALL_LISTEN, 0) >= 0);
	struct sfo_seg syn = {.flags = SFO_SYN, .seq = 1000, .wnd = 65535};
	int len = sfh_wire_build(w, &ep, &syn, buf, sizeof buf);
	CHECK(len > 0);
	CHECK_EQ(sfh_target_inject(t, buf, (size_t)len), 0);
	CHECK_EQ(sfh_target_advance(t, 3000), 0);
	CHECK(sfh_target_drain(t, junk, 16) >= 1);
	CHECK_EQ(sfh_isn_probe(t, 4, 0x4000, o, &n, err, sizeof err), 0);
	CHECK_EQ(sfh_isn_analyze(o, n, &v), 0);
	CHECK(v.no_clock && v.predictable);
	CHECK(o[1].isn != o[0].isn);			    /* a step of tcp_ticks, not 0 */
	CHECK_EQ(o[2].isn - o[1].isn, o[1].isn - o[0].isn); /* whatever the wait */
exit:
	sfh_target_close(t);
	sfh_wire_free(w);
}

static void probe_linux_passes(void)
{
	struct sfh_isn_verdict v;
	char why[256];
	const struct sfh_target_ops *ops = sfh_target_find("linux");
	if (!ops || geteuid() != 0 || ops->probe(why, sizeof why) != 0)
		return; /* the linux target needs root and /dev/net/tun */
	CHECK_EQ(probe("linux", &v), 0);
	CHECK(v.ok);
}

/* The command: exit codes, the finding it writes, triage and explain. */
static void command_flags_step_writes_finding_for_triage(void)
{
	const char *bin = getenv("SYNFIN_BIN");
	char out[16384], tmp[64] = "/tmp/synfin-isn.XXXXXX";
	if (!bin || !mkdtemp(tmp))
		return;
	CHECK_EQ(sh(out, sizeof out, "%s isn --target model -q", bin), 0);
	CHECK(strstr(out, "not predictable") != NULL);
	CHECK_EQ(sh(out, sizeof out, "%s isn --target model:isn=step --out %s/f", bin, tmp), 1);
	CHECK(strstr(out, "rule isn.clock (RFC 9293 3.4.1 MUST-8, MUST)") != NULL);
	CHECK(strstr(out, "+64000") != NULL);
	CHECK_EQ(sh(out, sizeof out, "%s triage %s/f --signatures", bin, tmp), 1); /* new: 1 */
	CHECK(strstr(out, "model:isn=step/LISTEN/syn/isn.clock/wrong-field") != NULL);
	CHECK_EQ(sh(out, sizeof out, "%s explain MUST-8", bin), 0);
	CHECK(strstr(out, "isn.clock") != NULL);
	CHECK_EQ(sh(out, sizeof out, "%s explain isn.predictable", bin), 0);
	CHECK(strstr(out, "SHLD-1") != NULL);
	CHECK_EQ(sh(out, sizeof out, "%s isn --target model --connections 6", bin), 2);
	/* a campaign with --isn records the verdict beside its own findings */
	if (sh(out, sizeof out, "%s fuzz --help", bin) == 0 && strstr(out, "--isn")) {
		sh(out, sizeof out,
		   "%s fuzz --target model:isn=clock --isn --out %s/c --progress 0 %s/corpus "
		   "-- -runs=20",
		   bin, tmp, tmp);
		CHECK(strstr(out, "isn: model:isn=clock: rule isn.predictable") != NULL);
		CHECK_EQ(sh(out, sizeof out, "%s triage %s/c --signatures", bin, tmp), 1);
		CHECK(strstr(out, "model:isn=clock/LISTEN/syn/isn.predictable/wrong-field") !=
		      NULL);
	}
	sh(out, sizeof out, "rm -rf %s", tmp);
}

int main(void)
{
	analyze_constant_is_no_clock_and_predictable();
	analyze_fixed_step_is_no_clock();
	analyze_clock_without_secret_is_predictable_only();
	analyze_secret_without_clock_is_no_clock_only();
	analyze_rfc6528_generators_pass();
	analyze_recorded_linux_passes_slirp_flagged();
	analyze_needs_every_tuple_and_enough_of_them();
	probe_model_generators();
	probe_lwip_and_slirp_own_generators();
	probe_lwip_after_ticks_still_steps();
	probe_linux_passes();
	command_flags_step_writes_finding_for_triage();
	return check_done();
}
