/* ISN predictability (RFC 9293 3.4.1, MUST-8 and SHLD-1): see isn.h.
 *
 * What can be proven from outside is only the absence of a property, so the tests look
 * for the two patterns a bad generator leaves and a good one almost never does:
 *
 * - No clock (MUST-8, "A TCP implementation MUST use the above type of 'clock' for
 *   clock-driven selection of initial sequence numbers"): on a 4-tuple, the ISN after a
 *   wait of SFH_ISN_LONG_MS is the same as before it, or it moved by exactly as much as
 *   between two connections opened back to back. A clock, however slow or imprecise
 *   ("neither assumed to be realtime nor precise"), moves with time, not per connection.
 * - No secret per-tuple F (SHLD-1, "SHOULD generate its initial sequence numbers with the
 *   expression ISN = M + F(localip, localport, remoteip, remoteport, secretkey)"): the
 *   first ISN on a fresh 4-tuple lies within SFH_ISN_NEAR of the last ISN on the previous
 *   one, opened just before. Under F the two differ by a uniform 32-bit offset. A fixed
 *   start (every fresh instance numbers from the same value) and one global counter both
 *   show this way. MUST-9 (F not computable from outside) is not told apart from an
 *   absent F: both read as SHLD-1.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "isn.h"
#include "report.h"
#include "runner.h"
#include "safeio.h"

static uint32_t dist32(uint32_t a, uint32_t b)
{
	uint32_t d = a - b;
	return d > 0x80000000u ? (uint32_t)0 - d : d;
}

/* MUST-8 on every tuple: constant across the long wait, or time-blind steps. */
static int judge_clock(const struct sfh_isn_obs *o, size_t ntup, char *buf, size_t cap)
{
	unsigned constant = 0, blind = 0;
	uint32_t step = 0;
	for (size_t j = 0; j < ntup; j++) {
		const struct sfh_isn_obs *c = o + j * SFH_ISN_PER_TUPLE;
		uint32_t ds = c[1].isn - c[0].isn, dl = c[2].isn - c[1].isn;
		if (dl == 0)
			constant++;
		else if (dl == ds) {
			blind++;
			step = ds;
		}
	}
	if (constant + blind != ntup)
		return 0;
	if (blind == 0)
		snprintf(buf, cap,
			 "no clock: the ISN stays %" PRIu32 " across a %" PRIu32
			 " ms wait on all %zu 4-tuples",
			 o[2].isn, o[2].wait_ms, ntup);
	else
		snprintf(buf, cap,
			 "no clock: ISNs step by %" PRIu32 " back to back and after %" PRIu32
			 " ms alike (%zu 4-tuples)",
			 step, o[2].wait_ms, ntup);
	return 1;
}

/* SHLD-1 on every change of 4-tuple (at least two). */
static int judge_tuples(const struct sfh_isn_obs *o, size_t ntup, char *buf, size_t cap)
{
	size_t near = 0;
	uint32_t far = 0, worst = 0;
	for (size_t j = 1; j < ntup; j++) {
		uint32_t d = dist32(o[j * SFH_ISN_PER_TUPLE].isn, o[j * SFH_ISN_PER_TUPLE - 1].isn);
		if (d < SFH_ISN_NEAR) {
			near++;
			worst = d > worst ? d : worst;
		} else if (far == 0 || d < far)
			far = d;
	}
	if (ntup >= 3 && near == ntup - 1) {
		snprintf(buf, cap,
			 "no per-tuple secret: each new 4-tuple's first ISN lies within %" PRIu32
			 " of the previous tuple's last (%zu changes)",
			 worst, ntup - 1);
		return 1;
	}
	snprintf(buf, cap, "%zu of %zu 4-tuple changes jump by %" PRIu32 " or more",
		 ntup - 1 - near, ntup - 1, far);
	return 0;
}

int sfh_isn_analyze(const struct sfh_isn_obs *o, size_t n, struct sfh_isn_verdict *v)
{
	memset(v, 0, sizeof *v);
	size_t ntup = n / SFH_ISN_PER_TUPLE;
	if (ntup < 2)
		return -1;
	char a[160] = "", b[160] = "";
	v->no_clock = judge_clock(o, ntup, a, sizeof a);
	v->predictable = judge_tuples(o, ntup, b, sizeof b);
	if (v->no_clock || v->predictable)
		snprintf(v->detail, sizeof v->detail, "%s%s%s", v->no_clock ? a : "",
			 v->no_clock && v->predictable ? "; " : "", v->predictable ? b : "");
	else
		snprintf(v->detail, sizeof v->detail, "ISNs move with time; %s", b);
	v->ok = !v->no_clock && !v->predictable;
	v->rule = (sfo_rule_t)sfo_rule_find(v->no_clock ? "isn.clock" : "isn.predictable");
	v->sev = v->no_clock ? SFO_SEV_MUST : SFO_SEV_SHOULD;
	return 0;
}

/* ---- the probe ---- */

struct probe {
	struct sfh_target *t;
	struct sfh_wire *w;
	struct sfh_endpoints ep;
	char *err;
	size_t errlen;
};

static int send_seg(struct probe *p, uint8_t flags, uint32_t seq)
{
	struct sfo_seg s = {.flags = flags, .seq = seq, .wnd = 65535};
	uint8_t buf[SFH_PKT_MAX];
	if (flags & SFO_SYN) {
		s.opts = SFO_OPT_MSS;
		s.mss = 1460;
	}
	int len = sfh_wire_build(p->w, &p->ep, &s, buf, sizeof buf);
	if (len < 0) {
		snprintf(p->err, p->errlen, "cannot build a segment");
		return -1;
	}
	if (sfh_target_inject(p->t, buf, (size_t)len) != 0) {
		snprintf(p->err, p->errlen, "%s", p->t->err);
		return -1;
	}
	return 0;
}

/* The ISN of the SYN-ACK that answers our SYN numbered pisn; drains a few times, since a
 * real stack's reply may still be in flight. */
static int synack_isn(struct probe *p, uint32_t pisn, uint32_t *isn)
{
	struct sfh_pkt pk[16];
	for (int tries = 0; tries < 8; tries++) {
		int n = sfh_target_drain(p->t, pk, 16);
		if (n < 0) {
			snprintf(p->err, p->errlen, "%s", p->t->err);
			return -1;
		}
		for (int i = 0; i < n; i++) {
			struct sfh_endpoints ep;
			struct sfo_seg s;
			if (sfh_wire_parse(pk[i].data, pk[i].len, &ep, &s, NULL) == 0 &&
			    (s.flags & (SFO_SYN | SFO_ACK | SFO_RST)) == (SFO_SYN | SFO_ACK) &&
			    s.ack == pisn + 1) {
				*isn = s.seq;
				return 0;
			}
		}
	}
	snprintf(p->err, p->errlen, "no SYN-ACK to a SYN on ports %u -> %u", p->ep.peer_port,
		 p->ep.target_port);
	return -1;
}

static int let_time_pass(struct probe *p, uint32_t ms)
{
	if (ms == 0)
		return 0;
	if (!(p->t->ops->caps & SFH_CAP_VTIME)) {
		/* a real stack's clock runs whether or not the target has a timer to wait for */
		struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
		while (nanosleep(&ts, &ts) != 0)
			;
		return 0;
	}
	if (sfh_target_advance(p->t, ms) != 0) {
		snprintf(p->err, p->errlen, "%s", p->t->err);
		return -1;
	}
	return 0;
}

/* One 4-tuple: SFH_ISN_PER_TUPLE connections, each ended by a RST in SYN-RECEIVED so
 * the listener is all that is left (3.10.7.4: a passive open returns to LISTEN). */
static int probe_tuple(struct probe *p, unsigned j, uint64_t *now, struct sfh_isn_obs *o)
{
	static const uint32_t wait_ms[SFH_ISN_PER_TUPLE] = {0, 0, SFH_ISN_LONG_MS};
	struct sfh_pkt junk[16];
	for (unsigned k = 0; k < SFH_ISN_PER_TUPLE; k++) {
		uint32_t pisn = 0x10000000u * (k + 1) + 0x1000u * j;
		if (let_time_pass(p, wait_ms[k]) != 0)
			return -1;
		*now += wait_ms[k];
		if (send_seg(p, SFO_SYN, pisn) != 0 || synack_isn(p, pisn, &o[k].isn) != 0)
			return -1;
		o[k].tuple = (uint16_t)j;
		o[k].peer_port = p->ep.peer_port;
		o[k].target_port = p->ep.target_port;
		o[k].wait_ms = wait_ms[k];
		o[k].t_ms = *now;
		if (send_seg(p, SFO_RST, pisn + 1) != 0 || sfh_target_drain(p->t, junk, 16) < 0) {
			snprintf(p->err, p->errlen, "%s", p->t->err);
			return -1;
		}
	}
	return 0;
}

int sfh_isn_probe(struct sfh_target *t, unsigned ntuples, uint32_t case_base, struct sfh_isn_obs *o,
		  size_t *n, char *err, size_t errlen)
{
	struct probe p = {.t = t, .err = err, .errlen = errlen};
	uint64_t now = 0;
	int rc = -1;
	*n = 0;
	if (ntuples < 2 || ntuples * SFH_ISN_PER_TUPLE > SFH_ISN_MAX_OBS) {
		snprintf(err, errlen, "between 2 and %d 4-tuples",
			 SFH_ISN_MAX_OBS / SFH_ISN_PER_TUPLE);
		return -1;
	}
	if (!(t->ops->caps & SFH_CAP_PASSIVE)) {
		snprintf(err, errlen, "%s cannot listen: the probe answers SYNs", t->ops->name);
		return -1;
	}
	p.w = sfh_wire_new(err, errlen);
	if (!p.w)
		return -1;
	t->iss_set = 0; /* the stack's own ISNs, not the ones scenarios pin (target.h) */
	for (unsigned j = 0; j < ntuples; j++) {
		/* the passive OPEN is a call, as the runner makes it (target.h) */
		if (sfh_target_reset(t, SFH_ROLE_PASSIVE, case_base + j, &p.ep) != 0 ||
		    sfh_target_call(t, SFO_CALL_LISTEN, 0) < 0) {
			snprintf(err, errlen, "%s", t->err);
			goto exit;
		}
		if (probe_tuple(&p, j, &now, o + *n) != 0)
			goto exit;
		*n += SFH_ISN_PER_TUPLE;
	}
	rc = 0;
exit:
	sfh_wire_free(p.w);
	return rc;
}

/* ---- evidence and reports ---- */

void sfh_isn_print(FILE *f, const struct sfh_isn_obs *o, size_t n)
{
	fprintf(f, "  %3s %5s %11s %7s %10s %12s %12s\n", "#", "tuple", "ports", "wait", "ISN",
		"d(tuple)", "d(previous)");
	for (size_t i = 0; i < n; i++) {
		char dt[16] = "-", dp[16] = "-", ports[16];
		if (i > 0 && o[i - 1].tuple == o[i].tuple)
			snprintf(dt, sizeof dt, "%+" PRId32, (int32_t)(o[i].isn - o[i - 1].isn));
		if (i > 0)
			snprintf(dp, sizeof dp, "%+" PRId32, (int32_t)(o[i].isn - o[i - 1].isn));
		snprintf(ports, sizeof ports, "%u>%u", o[i].peer_port, o[i].target_port);
		fprintf(f, "  %3zu %5u %11s %5" PRIu32 "ms %10" PRIu32 " %12s %12s\n", i,
			o[i].tuple, ports, o[i].wait_ms, o[i].isn, dt, dp);
	}
}

void sfh_isn_json(FILE *f, const char *target_spec, const char *version,
		  const struct sfh_isn_obs *o, size_t n, const struct sfh_isn_verdict *v,
		  const char *signature, uint64_t sig_hash)
{
	const struct sfo_rule_info *ri = sfo_rule(v->rule);
	char hash[17];
	snprintf(hash, sizeof hash, "%016" PRIx64, sig_hash);
	fputs("{\n  \"signature\": ", f);
	sfh_json_str(f, signature);
	fputs(",\n  \"sig_hash\": ", f);
	sfh_json_str(f, hash);
	fputs(",\n  \"target\": ", f);
	sfh_json_str(f, target_spec);
	fputs(",\n  \"target_version\": ", f);
	sfh_json_str(f, version);
	fputs(",\n  \"kind\": ", f);
	sfh_json_str(f, v->ok ? "ok" : sfo_div_kind_name(SFO_DIV_FIELD));
	fputs(",\n  \"rule\": ", f);
	sfh_json_str(f, ri ? ri->id : "?");
	fputs(",\n  \"section\": ", f);
	sfh_json_str(f, ri ? ri->section : "");
	fputs(",\n  \"requirement\": ", f);
	sfh_json_str(f, ri ? ri->req : "");
	fputs(",\n  \"rule_title\": ", f);
	sfh_json_str(f, ri ? ri->title : "");
	fputs(",\n  \"severity\": ", f);
	sfh_json_str(f, sfo_severity_name(v->sev));
	fputs(",\n  \"state_before\": \"LISTEN\",\n  \"event_class\": \"syn\"", f);
	fputs(",\n  \"detail\": ", f);
	sfh_json_str(f, v->detail);
	fprintf(f, ",\n  \"no_clock\": %s,\n  \"predictable\": %s,\n  \"flaky\": false",
		v->no_clock ? "true" : "false", v->predictable ? "true" : "false");
	fputs(",\n  \"isns\": [", f);
	for (size_t i = 0; i < n; i++)
		fprintf(f,
			"%s\n    {\"tuple\": %u, \"peer_port\": %u, \"target_port\": %u, "
			"\"wait_ms\": %" PRIu32 ", \"t_ms\": %" PRIu64 ", \"isn\": %" PRIu32 "}",
			i ? "," : "", o[i].tuple, o[i].peer_port, o[i].target_port, o[i].wait_ms,
			o[i].t_ms, o[i].isn);
	fputs("\n  ],\n  \"origin\": \"synfin isn\"\n}\n", f);
}

void sfh_isn_to_verdict(const struct sfh_isn_verdict *iv, struct sfo_verdict *v)
{
	memset(v, 0, sizeof *v);
	v->kind = iv->ok ? SFO_DIV_OK : SFO_DIV_FIELD;
	v->sev = iv->sev;
	v->rule = iv->rule;
	v->before = SFO_LISTEN;
	v->expected = v->observed = SFO_SYN_RECEIVED;
	v->evclass = SFO_EC_SYN;
	snprintf(v->detail, sizeof v->detail, "%s", iv->detail);
}

static int write_file(const char *path, const char *spec, const char *version,
		      const struct sfh_isn_obs *o, size_t n, const struct sfh_isn_verdict *iv,
		      const char *sig, uint64_t hash, int json)
{
	/* Through a temporary name created O_EXCL|O_NOFOLLOW and renamed: the directory
	 * may be one an earlier run left, and a link planted in it is never written through
	 * (safeio.h). */
	char err[512];
	struct sfh_io_atomic a;
	FILE *f = sfh_io_atomic_open(&a, path, 0644, err, sizeof err);
	if (!f)
		return -1;
	if (json)
		sfh_isn_json(f, spec, version, o, n, iv, sig, hash);
	else {
		fprintf(f, "%s\ntarget %s (%s), synfin isn\n%s\n\n", sig, spec, version,
			iv->detail);
		sfh_isn_print(f, o, n);
	}
	return sfh_io_atomic_commit(&a, err, sizeof err);
}

int sfh_isn_write_finding(const char *dir, const char *spec, const char *version,
			  const struct sfh_isn_obs *o, size_t n, const struct sfh_isn_verdict *iv)
{
	char sig[160], path[4200];
	struct sfo_verdict v;
	sfh_isn_to_verdict(iv, &v);
	uint64_t hash = sfh_signature(spec, &v, sig, sizeof sig);
	if (mkdir(dir, 0777) != 0 && errno != EEXIST)
		return -1;
	snprintf(path, sizeof path, "%s/%016" PRIx64, dir, hash);
	struct stat st;
	if (mkdir(path, 0755) != 0 && errno != EEXIST)
		return -1;
	if (lstat(path, &st) != 0 || !S_ISDIR(st.st_mode)) {
		errno = ENOTDIR; /* a link or a file planted under the finding's name */
		return -1;
	}
	snprintf(path, sizeof path, "%s/%016" PRIx64 "/report.txt", dir, hash);
	if (write_file(path, spec, version, o, n, iv, sig, hash, 0) != 0)
		return -1;
	/* report.json last: triage takes a directory with one for a finding */
	snprintf(path, sizeof path, "%s/%016" PRIx64 "/report.json", dir, hash);
	return write_file(path, spec, version, o, n, iv, sig, hash, 1);
}

const char *sfh_isn_target_spec(const char *spec)
{
	return strcmp(spec, "lwip") == 0 ? "lwip:iss=own" : spec;
}
