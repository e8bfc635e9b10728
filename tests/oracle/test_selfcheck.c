/* Self-consistency: random event sequences (fixed seed) from CLOSED, with segments near
 * the interesting numbers (RCV.NXT, the window edge, 2^31 away), every call and waits up
 * to hours. The model as a stack must never diverge from the model as the oracle, which
 * knows only what the stack emitted. A disagreement is either a model bug or a place where
 * the oracle is stricter than a legitimate stack (a false divergence on real targets). */
#include <stdlib.h>

#include "model_test.h"

static uint64_t rng_state = 88172645463325252ull;

static uint32_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (uint32_t)rng_state;
}

#define PICK(arr) ((arr)[rnd() % (sizeof(arr) / sizeof((arr)[0]))])

static void random_segment(struct world *w)
{
	static const uint8_t flags[] = {
	    SFO_SYN, SFO_SYN | SFO_ACK, SFO_ACK, SFO_ACK, SFO_ACK | SFO_PSH, SFO_FIN | SFO_ACK,
	    SFO_RST, SFO_RST | SFO_ACK, SFO_FIN, 0,	  SFO_ACK | SFO_URG};
	static const uint32_t seq_off[] = {
	    0, 0, 0, 1, (uint32_t)-1, 100, (uint32_t)-100, 65535, 70000, 0x80000000u, 50};
	static const uint32_t ack_off[] = {0,	 0,	     0, (uint32_t)-1, 1, (uint32_t)-100,
					   1000, 0x80000000u};
	static const uint32_t lens[] = {0, 0, 0, 1, 100, 1460, 3000};
	uint32_t base =
	    rnd() % 3 == 0 ? w->pisn : (w->st.state >= SFO_SYN_RECEIVED ? w->st.rcv_nxt : w->pnxt);
	w_in(w, PICK(flags), base + PICK(seq_off), w->st.snd_nxt + PICK(ack_off), PICK(lens));
}

static void random_step(struct world *w)
{
	static const uint32_t args[] = {0, 1, 100, 5000};
	static const uint32_t waits[] = {1,    100,   250,    600,    3000,
					 5000, 60000, 240000, 300000, 8000000};
	uint32_t r = rnd() % 10;
	if (r < 6) {
		random_segment(w);
	} else if (r < 8) {
		enum sfo_call c = (enum sfo_call)(rnd() % SFO_NCALLS);
		w_call(w, c == SFO_CALL_LISTEN || c == SFO_CALL_CONNECT ? SFO_CALL_SEND : c,
		       PICK(args));
	} else {
		w_wait(w, PICK(waits));
	}
}

/* The stack never diverges from the oracle, under both built-in profiles. */
static void random_lifecycles_stack_agrees_with_oracle(long runs)
{
	uint16_t seen = 0;
	int bad = 0;
	for (long i = 0; i < runs; i++) {
		struct world w;
		w_init(&w, (i & 1) ? "rfc5961" : "rfc9293");
		w_call(&w, (rnd() & 1) ? SFO_CALL_LISTEN : SFO_CALL_CONNECT, 0);
		for (int k = 0; k < 24 && !w.diverged; k++) {
			random_step(&w);
			seen |= BIT(w.st.state);
		}
		if (w.diverged && bad++ < 5)
			fprintf(stderr, "  run %ld diverged\n", i);
	}
	CHECK_EQ(bad, 0);
	CHECK_EQ(seen, (1u << SFO_NSTATES) - 1); /* every state was reached */
}

int main(int argc, char **argv)
{
	random_lifecycles_stack_agrees_with_oracle(argc > 1 ? atol(argv[1]) : 20000);
	return check_done();
}
