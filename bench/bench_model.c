/* bench_model: how many model steps a second one core runs, over a whole lifecycle
 * (passive open, data both ways, close, TIME-WAIT expiry), beside a raw loop that copies
 * a TCB the same number of times. Three figures: the model as a stack (step + commit),
 * the model as the oracle judging that stack (step + judge + commit), and the raw loop.
 * Not a test: it prints figures. Usage: bench_model [seconds per figure, default 1] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "oracle.h"

#define PISN 0xffffff00u

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static struct sfo_event seg(uint8_t flags, uint32_t seq, uint32_t ack, uint32_t len)
{
	struct sfo_event ev;
	memset(&ev, 0, sizeof ev);
	ev.kind = SFO_EV_SEGMENT;
	ev.u.seg.flags = flags;
	ev.u.seg.seq = seq;
	ev.u.seg.ack = ack;
	ev.u.seg.len = len;
	ev.u.seg.wnd = 65535;
	if (flags & SFO_SYN) {
		ev.u.seg.opts = SFO_OPT_MSS;
		ev.u.seg.mss = 1460;
	}
	return ev;
}

/* One lifecycle as the peer and the user see it (ISS 1000 in stack mode). */
#define ISS 1000u
static size_t lifecycle(struct sfo_event *ev)
{
	size_t n = 0;
	ev[n++] = sfo_ev_call(SFO_CALL_LISTEN, 0);
	ev[n++] = seg(SFO_SYN, PISN, 0, 0);
	ev[n++] = seg(SFO_ACK, PISN + 1, ISS + 1, 0);
	ev[n++] = sfo_ev_call(SFO_CALL_ACCEPT, 0);
	ev[n++] = seg(SFO_ACK | SFO_PSH, PISN + 1, ISS + 1, 500);
	ev[n++] = sfo_ev_call(SFO_CALL_RECEIVE, 0);
	ev[n++] = sfo_ev_call(SFO_CALL_SEND, 1000);
	ev[n++] = seg(SFO_ACK, PISN + 501, ISS + 1001, 0);
	ev[n++] = sfo_ev_wait(100);
	ev[n++] = sfo_ev_call(SFO_CALL_CLOSE, 0);
	ev[n++] = seg(SFO_ACK, PISN + 501, ISS + 1002, 0);
	ev[n++] = seg(SFO_FIN | SFO_ACK, PISN + 501, ISS + 1002, 0);
	ev[n++] = sfo_ev_wait(240000);
	return n;
}

/* The EMIT patterns of an outcome as segments. */
static size_t emit(const struct sfo_outcome *o, struct sfo_seg *out)
{
	size_t n = 0;
	for (unsigned i = 0; i < o->npat; i++) {
		const struct sfo_pattern *p = &o->pat[i];
		if (!(p->pf & SFO_PAT_EMIT))
			continue;
		struct sfo_seg *s = &out[n++];
		memset(s, 0, sizeof *s);
		s->flags = p->flags_set;
		s->seq = p->seq_lo;
		s->ack = p->ack_lo;
		s->len = p->len_lo;
		s->wnd = 65535;
	}
	return n;
}

static volatile unsigned long long sink; /* keeps the loops' results alive */

struct figure {
	double rate;
	unsigned long long steps;
	unsigned long long check; /* defeats dead-code elimination */
};

/* The model as a stack: step and commit, lifecycle after lifecycle. */
static struct figure run_stack(const struct sfo_event *evs, size_t nev, double secs)
{
	struct sfo_cfg cfg = {sfo_profile_default(), SFO_CFG_STACK, ISS, 65535, 1460};
	struct sfo_expect e;
	struct sfo_seg out[SFO_MAX_PAT];
	struct figure f = {0, 0, 0};
	double t0 = now_s(), dt;
	do {
		for (int rep = 0; rep < 1000; rep++) {
			struct sfo_tcb tcb;
			sfo_tcb_init(&tcb);
			for (size_t i = 0; i < nev; i++) {
				sfo_step(&tcb, &cfg, &evs[i], &e);
				size_t n = emit(&e.out[0], out);
				sfo_commit(&tcb, &e.out[0], out, n);
			}
			f.check += tcb.state;
			f.steps += nev;
		}
		dt = now_s() - t0;
	} while (dt < secs);
	f.rate = (double)f.steps / dt;
	return f;
}

/* The model as the oracle: it judges what the stack sent, then commits. */
static struct figure run_oracle(const struct sfo_event *evs, size_t nev, double secs)
{
	struct sfo_cfg scfg = {sfo_profile_default(), SFO_CFG_STACK, ISS, 65535, 1460};
	struct sfo_cfg ocfg = {sfo_profile_default(), 0, 0, 0, 0};
	struct sfo_expect se, oe;
	struct sfo_seg out[SFO_MAX_PAT];
	struct sfo_verdict v;
	struct sfo_rebase rb = {PISN, ISS, 1};
	struct figure f = {0, 0, 0};
	double t0 = now_s(), t;
	do {
		for (int rep = 0; rep < 1000; rep++) {
			struct sfo_tcb st, ot;
			sfo_tcb_init(&st);
			sfo_tcb_init(&ot);
			for (size_t i = 0; i < nev; i++) {
				int which;
				sfo_step(&st, &scfg, &evs[i], &se);
				size_t n = emit(&se.out[0], out);
				sfo_commit(&st, &se.out[0], out, n);
				sfo_step(&ot, &ocfg, &evs[i], &oe);
				sfo_judge(&ot, &ocfg, &oe, out, n, st.state, &rb, &v, &which);
				f.check += (unsigned)v.kind;
				sfo_commit(&ot, &oe.out[which >= 0 ? which : 0], out, n);
			}
			f.steps += nev;
		}
		t = now_s() - t0;
	} while (t < secs);
	f.rate = (double)f.steps / t;
	return f;
}

/* The raw loop: copy a TCB as many times. */
static struct figure run_raw(unsigned long long count)
{
	struct sfo_tcb a, b;
	struct figure f = {0, count, 0};
	sfo_tcb_init(&a);
	double t0 = now_s();
	for (unsigned long long i = 0; i < count; i++) {
		a.now_ms = i;
		memcpy(&b, &a, sizeof b);
		__asm__ volatile("" : : "r"(&b) : "memory");
		f.check += b.now_ms;
	}
	f.rate = (double)count / (now_s() - t0);
	return f;
}

int main(int argc, char **argv)
{
	double secs = argc > 1 ? atof(argv[1]) : 1.0;
	struct sfo_event evs[32];
	size_t nev = lifecycle(evs);
	if (secs <= 0)
		secs = 1.0;
	struct figure stack = run_stack(evs, nev, secs);
	struct figure oracle = run_oracle(evs, nev, secs);
	struct figure raw = run_raw(stack.steps);
	printf("lifecycle: %zu events (open, data both ways, close, 2MSL)\n", nev);
	printf("model as stack  (step+commit):       %12.0f steps/s  (%llu steps)\n", stack.rate,
	       stack.steps);
	printf("model as oracle (stack+step+judge):  %12.0f steps/s  (%llu steps)\n", oracle.rate,
	       oracle.steps);
	printf("raw TCB memcpy (%zu bytes):           %12.0f copies/s\n", sizeof(struct sfo_tcb),
	       raw.rate);
	printf("ratio raw / stack step: %.1fx   goal >= 5000000 steps/s: %s\n",
	       raw.rate / stack.rate, stack.rate >= 5e6 ? "met" : "NOT met");
	sink = stack.check + oracle.check + raw.check;
	return 0;
}
