/* The judge (oracle/judge.c) on what real stacks do: a RST judged by SEG.SEQ, a required
 * ACK riding on data, a detail on every divergence, early retransmissions under their own
 * rule. Each case is a model bug once seen on lwIP or slirp (corpus/regress/model-*.scn). */
#include <stdlib.h>

#include "model_test.h"

#define CELL(state, profile)                                                               \
	struct world w;                                                                    \
	struct sfo_expect e;                                                               \
	at(&w, (state), (profile))

/* ---- a RST is acceptable by SEG.SEQ (3.10.7.4 second, RFC 5961 case 1) ---- */

/* lwIP: `in SR. seq=pnxt-1 len=1` in CLOSE-WAIT was reported under rst.inwin.reset: its
 * SEG.SEQ is outside the window, so a silent drop passes. Table 6 with SEG.LEN finds the
 * segment acceptable, so reset and challenge stay allowed unless RFC 5961 is required. */
static void closewait_rst_syn_seq_below_window_dropped(void)
{
	CELL(SFO_CLOSE_WAIT, "rfc9293");
	struct sfo_seg s = mkseg(SFO_SYN | SFO_RST | SFO_ACK, rnxt(&w) - 1, tnxt(&w), 1);
	probe(&w, s, &e);
	CHECK_EQ(e.evclass, SFO_EC_RSTACK);
	CHECK_EQ(JUDGE0(&w, &e, SFO_CLOSE_WAIT), SFO_DIV_OK);
	CHECK_STR(vrule(&w), "seq.unacceptable.rst");
	CHECK_EQ(w.which, 0);
	CHECK_EQ(JUDGE0(&w, &e, SFO_CLOSED), SFO_DIV_OK);
	CHECK_EQ(JUDGE(&w, &e, SFO_CLOSE_WAIT, tack(&w)), SFO_DIV_OK);
	at(&w, SFO_CLOSE_WAIT, "rfc5961");
	s = mkseg(SFO_SYN | SFO_RST | SFO_ACK, rnxt(&w) - 1, tnxt(&w), 1);
	probe(&w, s, &e);
	CHECK_EQ(JUDGE0(&w, &e, SFO_CLOSE_WAIT), SFO_DIV_OK);
	CHECK_EQ(JUDGE0(&w, &e, SFO_CLOSED), SFO_DIV_STATE);
}

/* A bare RST below the window overlaps nothing: only the drop is right. */
static void established_rst_below_window_only_dropped(void)
{
	CELL(SFO_ESTABLISHED, "rfc9293");
	probe(&w, mkseg(SFO_RST, rnxt(&w) - 1, 0, 0), &e);
	CHECK_EQ(e.evclass, SFO_EC_RST_OUTWIN);
	CHECK_EQ(next_states(&e), BIT(SFO_ESTABLISHED));
	CHECK_EQ(JUDGE0(&w, &e, SFO_CLOSED), SFO_DIV_STATE);
	CHECK_STR(vrule(&w), "seq.unacceptable.rst");
}

/* A RST at RCV.NXT with text: in-window by SEG.SEQ, so it resets. */
static void established_rst_with_text_at_rcvnxt_resets(void)
{
	CELL(SFO_ESTABLISHED, "rfc9293");
	probe(&w, mkseg(SFO_RST, rnxt(&w), 0, 10), &e);
	CHECK_EQ(e.evclass, SFO_EC_RST_EXACT);
	CHECK_EQ(JUDGE0(&w, &e, SFO_CLOSED), SFO_DIV_OK);
	CHECK_EQ(JUDGE0(&w, &e, SFO_ESTABLISHED), SFO_DIV_STATE);
}

/* ---- a required ACK rides on data (3.10.7.4 seventh: "piggybacked") ---- */

/* lwIP: `call send 806` (MSS 536: 270 octets held by Nagle), then an unacceptable
 * segment: the ACK it owes leaves as the held data segment, ack = RCV.NXT. */
static void established_unacceptable_ack_rides_on_data(void)
{
	CELL(SFO_ESTABLISHED, "rfc9293");
	w_call(&w, SFO_CALL_SEND, 806);
	CHECK_EQ(w.diverged, 0);
	uint32_t una = tuna(&w);
	probe(&w, mkseg(SFO_ACK, rnxt(&w) + 65536, una, 0), &e);
	CHECK_EQ(e.evclass, SFO_EC_ACK_OK);
	/* a retransmission of the front of the queue, acking RCV.NXT */
	CHECK_EQ(JUDGE(&w, &e, SFO_ESTABLISHED, mkseg(SFO_ACK | SFO_PSH, una, rnxt(&w), 270)),
		 SFO_DIV_OK);
	CHECK_STR(vrule(&w), "seq.unacceptable.ack");
	/* the data acknowledges the wrong number: the ACK is still owed */
	CHECK_EQ(JUDGE(&w, &e, SFO_ESTABLISHED, mkseg(SFO_ACK, una, rnxt(&w) - 1, 270)),
		 SFO_DIV_FIELD);
	CHECK(w.v.detail[0] != '\0');
	/* nothing at all */
	CHECK_EQ(JUDGE0(&w, &e, SFO_ESTABLISHED), SFO_DIV_MISSING);
	CHECK_STR(vrule(&w), "seq.unacceptable.ack");
	CHECK_EQ(w.v.sev, SFO_SEV_SHOULD);
}

/* The owed (delayed) ACK, once due, may ride on a FIN just as well. */
static void closewait_owed_ack_rides_on_fin(void)
{
	CELL(SFO_ESTABLISHED, "rfc9293");
	w_in(&w, SFO_ACK, w.pnxt, tnxt(&w), 100);
	struct sfo_event ev;
	memset(&ev, 0, sizeof ev);
	ev.kind = SFO_EV_CALL;
	ev.u.call.call = SFO_CALL_SHUTDOWN;
	probe_ev(&w, &ev, &e);
	CHECK_EQ(JUDGE(&w, &e, SFO_FIN_WAIT_1, mkseg(SFO_FIN | SFO_ACK, tnxt(&w), rnxt(&w), 0)),
		 SFO_DIV_OK);
}

/* ---- every divergence says what differs ---- */

/* The active case of the report: `in S.`, then data out of order with an ACK of nothing
 * sent, answered by two identical ACKs: one more than allowed, named as such. */
static void established_two_acks_for_one_are_unexpected_with_detail(void)
{
	CELL(SFO_ESTABLISHED, "rfc9293");
	probe(&w, mkseg(SFO_ACK, rnxt(&w) + 1, tnxt(&w) + 5000, 72), &e);
	CHECK_EQ(JUDGE(&w, &e, SFO_ESTABLISHED, tack(&w)), SFO_DIV_OK);
	CHECK_EQ(JUDGE(&w, &e, SFO_ESTABLISHED, tack(&w), tack(&w)), SFO_DIV_UNEXPECTED);
	CHECK_STR(vrule(&w), "ack.future");
	CHECK(strstr(w.v.detail, "unexpected: . seq") == w.v.detail);
	CHECK(strstr(w.v.detail, "one more than the 1 allowed") != NULL);
}

static void field_detail_names_field_and_both_values(void)
{
	CELL(SFO_ESTABLISHED, "rfc9293");
	probe(&w, mkseg(SFO_ACK, rnxt(&w) + 100000, tuna(&w), 100), &e);
	CHECK_EQ(JUDGE(&w, &e, SFO_ESTABLISHED, mkseg(SFO_ACK, tnxt(&w), rnxt(&w) + 5, 0)),
		 SFO_DIV_FIELD);
	char want[64];
	snprintf(want, sizeof want, "ack: expected %d, observed %d", (int)(rnxt(&w) - PISN),
		 (int)(rnxt(&w) + 5 - PISN));
	CHECK_STR(w.v.detail, want);
}

static uint64_t rng = 0x2545f4914f6cdd1dull;

static uint32_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)rng;
}

/* One wrong emission: a segment dropped, doubled, bent or added, or a wrong state. */
static size_t perturb(const struct world *w, struct sfo_seg *s, size_t n, enum sfo_state *st)
{
	static const uint8_t flags[] = {SFO_ACK, SFO_RST, SFO_SYN | SFO_ACK, SFO_FIN | SFO_ACK,
					SFO_RST | SFO_ACK};
	switch (rnd() % 6) {
	case 0:
		return n ? n - 1 : n;
	case 1:
		if (n) {
			s[n] = s[n - 1];
			return n + 1;
		}
		break;
	case 2:
		if (n) {
			s[rnd() % n].ack += 1 + rnd() % 3;
			return n;
		}
		break;
	case 3:
		if (n) {
			s[rnd() % n].seq -= 1 + rnd() % 3;
			return n;
		}
		break;
	case 4:
		*st = (enum sfo_state)(rnd() % SFO_NSTATES);
		return n;
	}
	s[n] = mkseg(flags[rnd() % 5], w->st.snd_nxt, w->st.rcv_nxt, rnd() % 2 ? 0 : 10);
	return n + 1;
}

/* Random lifecycles; at every step a perturbed emission is judged. Every divergence of
 * every kind the judge gives must carry a detail. */
static void every_divergence_kind_has_a_detail(void)
{
	int seen[SFO_NDIV_KINDS] = {0};
	static const enum sfo_call calls[] = {SFO_CALL_SEND, SFO_CALL_CLOSE, SFO_CALL_SHUTDOWN,
					      SFO_CALL_RECEIVE, SFO_CALL_ABORT};
	for (int run = 0; run < 300; run++) {
		struct world w;
		w_init(&w, run % 3 == 0 ? "rfc5961" : run % 3 == 1 ? "lwip" : "rfc9293");
		w_goto(&w, (enum sfo_state)(1 + rnd() % (SFO_NSTATES - 1)));
		for (int step = 0; step < 12; step++) {
			struct sfo_event ev;
			struct sfo_expect e;
			memset(&ev, 0, sizeof ev);
			switch (rnd() % 3) {
			case 0:
				ev.kind = SFO_EV_SEGMENT;
				ev.u.seg = mkseg((uint8_t)(rnd() & 0x17), w.st.rcv_nxt + rnd() % 3 - 1,
						 w.st.snd_nxt + rnd() % 3 - 1, rnd() % 2 ? 0 : 50);
				break;
			case 1:
				ev.kind = SFO_EV_CALL;
				ev.u.call.call = calls[rnd() % 5];
				ev.u.call.arg = 100;
				break;
			default:
				ev.kind = SFO_EV_WAIT;
				ev.u.wait_ms = rnd() % 2 ? 100 : 5000;
			}
			/* the stack's own emission, perturbed, judged by the oracle */
			struct sfo_expect se;
			struct sfo_seg segs[40];
			sfo_step(&w.st, &w.scfg, &ev, &se);
			size_t n = emit(&se.out[0], &w.scfg, segs, 32);
			enum sfo_state st = se.out[0].next.state;
			n = perturb(&w, segs, n, &st);
			sfo_step(&w.ot, &w.ocfg, &ev, &e);
			if (judge(&w, &e, st, segs, n) != SFO_DIV_OK) {
				seen[w.v.kind]++;
				if (!w.v.detail[0])
					fprintf(stderr, "  empty detail: %s %s\n",
						sfo_div_kind_name(w.v.kind), vrule(&w));
				CHECK(w.v.detail[0] != '\0');
			}
			w_ev(&w, &ev); /* go on as the unperturbed stack */
		}
	}
	CHECK(seen[SFO_DIV_STATE] > 0);
	CHECK(seen[SFO_DIV_MISSING] > 0);
	CHECK(seen[SFO_DIV_UNEXPECTED] > 0);
	CHECK(seen[SFO_DIV_FIELD] > 0);
}

/* ---- retransmissions before the RTO: rtx.early.* (3.8.1, RFC 6298) ---- */

/* lwIP answers an unacceptable ACK in SYN-SENT with the RST and, at once, its SYN again
 * ("resend SYN immediately to establish connection faster"). */
static void synsent_ack_bad_rst_then_syn_at_once_is_rtx_early_syn(void)
{
	CELL(SFO_SYN_SENT, "rfc9293");
	uint32_t iss = w.ot.iss;
	probe(&w, mkseg(SFO_ACK, PISN, iss + 1000, 0), &e);
	struct sfo_seg rst = mkseg(SFO_RST, iss + 1000, 0, 0);
	struct sfo_seg syn = mkseg(SFO_SYN, iss, 0, 0);
	CHECK_EQ(JUDGE(&w, &e, SFO_SYN_SENT, rst), SFO_DIV_OK);
	CHECK_EQ(JUDGE(&w, &e, SFO_SYN_SENT, rst, syn), SFO_DIV_UNEXPECTED);
	CHECK_STR(vrule(&w), "rtx.early.syn");
	CHECK_EQ(w.v.sev, SFO_SEV_SHOULD);
	CHECK(strstr(w.v.detail, "retransmission before the RTO") != NULL);
	CHECK(w.v.accepted == NULL);
	/* without the RST the step is wrong for another reason, reported as such */
	CHECK_EQ(JUDGE(&w, &e, SFO_SYN_SENT, syn), SFO_DIV_MISSING);
	CHECK_STR(vrule(&w), "synsent.ack.bad");
	/* the lwip profile accepts it, narrowly */
	w.ocfg.profile = sfo_profile_find("lwip");
	CHECK_EQ(JUDGE(&w, &e, SFO_SYN_SENT, rst, syn), SFO_DIV_UNEXPECTED);
	CHECK(w.v.accepted != NULL);
	CHECK(sfo_profile_accepts(w.ocfg.profile, (sfo_rule_t)sfo_rule_find("rtx.early.fin"),
				  SFO_DIV_UNEXPECTED) == NULL);
}

/* slirp (BSD): the ACK of the peer's FIN in FIN-WAIT-1 is a FIN,ACK at our FIN's place:
 * the unacknowledged FIN again, before its RTO. */
static void finwait1_fin_acked_by_our_fin_again_is_rtx_early_fin(void)
{
	CELL(SFO_FIN_WAIT_1, "rfc9293");
	uint32_t fin = tuna(&w) + 0; /* nothing was sent but the FIN */
	CHECK_EQ(tnxt(&w), fin + 1);
	probe(&w, mkseg(SFO_FIN | SFO_ACK, rnxt(&w), fin, 0), &e);
	CHECK_EQ(JUDGE(&w, &e, SFO_CLOSING, mkseg(SFO_ACK, fin + 1, rnxt(&w) + 1, 0)), SFO_DIV_OK);
	CHECK_EQ(JUDGE(&w, &e, SFO_CLOSING, mkseg(SFO_FIN | SFO_ACK, fin, rnxt(&w) + 1, 0)),
		 SFO_DIV_UNEXPECTED);
	CHECK_STR(vrule(&w), "rtx.early.fin");
	/* its ACK field must still be right */
	CHECK_EQ(JUDGE(&w, &e, SFO_CLOSING, mkseg(SFO_FIN | SFO_ACK, fin, rnxt(&w) + 7, 0)),
		 SFO_DIV_UNEXPECTED);
	CHECK(strcmp(vrule(&w), "rtx.early.fin") != 0);
	/* in the wrong state it is not only early */
	CHECK_EQ(JUDGE(&w, &e, SFO_FIN_WAIT_1, mkseg(SFO_FIN | SFO_ACK, fin, rnxt(&w) + 1, 0)),
		 SFO_DIV_STATE);
}

/* RFC 5681 3.2 via MUST-19: a duplicate ACK may prompt the unacknowledged FIN again
 * (rtx.fast); a FIN,ACK from the peer is no duplicate ACK */
static void lastack_fin_resent_on_duplicate_ack_is_rtx_fast(void)
{
	CELL(SFO_LAST_ACK, "rfc9293");
	uint32_t fin = tnxt(&w) - 1;
	probe(&w, mkseg(SFO_ACK, rnxt(&w), fin, 0), &e);
	CHECK_EQ(JUDGE(&w, &e, SFO_LAST_ACK, mkseg(SFO_FIN | SFO_ACK, fin, rnxt(&w), 0)),
		 SFO_DIV_OK);
	CHECK_EQ(JUDGE(&w, &e, SFO_LAST_ACK, mkseg(SFO_FIN | SFO_ACK, fin, rnxt(&w), 0),
		       mkseg(SFO_FIN | SFO_ACK, fin, rnxt(&w), 0)),
		 SFO_DIV_UNEXPECTED);
	CHECK_STR(vrule(&w), "rtx.early.fin");
}

/* Data resent on a user call, long before any timer: rtx.early.data. */
static void established_data_resent_on_call_is_rtx_early_data(void)
{
	CELL(SFO_ESTABLISHED, "rfc9293");
	w_call(&w, SFO_CALL_SEND, 100);
	uint32_t una = tuna(&w);
	struct sfo_event ev;
	memset(&ev, 0, sizeof ev);
	ev.kind = SFO_EV_CALL;
	ev.u.call.call = SFO_CALL_RECEIVE;
	probe_ev(&w, &ev, &e);
	CHECK_EQ(JUDGE(&w, &e, SFO_ESTABLISHED, mkseg(SFO_ACK, una, rnxt(&w), 100)),
		 SFO_DIV_UNEXPECTED);
	CHECK_STR(vrule(&w), "rtx.early.data");
	/* after an RTO's worth of waiting it is simply allowed */
	ev.kind = SFO_EV_WAIT;
	ev.u.wait_ms = 5000;
	probe_ev(&w, &ev, &e);
	CHECK_EQ(JUDGE(&w, &e, SFO_ESTABLISHED, mkseg(SFO_ACK, una, rnxt(&w), 100)), SFO_DIV_OK);
}

/* ---- the rule table cites what Appendix B says ---- */

static void rules_cite_appendix_b(void)
{
	CHECK_STR(sfo_rule((sfo_rule_t)sfo_rule_find("rtx.required"))->req, "MUST-18");
	CHECK_STR(sfo_rule((sfo_rule_t)sfo_rule_find("rst.abort"))->req, "");
	CHECK_EQ(sfo_rule((sfo_rule_t)sfo_rule_find("seq.unacceptable.ack"))->sev,
		 SFO_SEV_SHOULD);
	CHECK_EQ(sfo_rule((sfo_rule_t)sfo_rule_find("listen.rst"))->sev, SFO_SEV_SHOULD);
	CHECK_EQ(sfo_rule((sfo_rule_t)sfo_rule_find("timewait.rst"))->sev, SFO_SEV_MUST);
	CHECK_EQ(sfo_rule((sfo_rule_t)sfo_rule_find("timewait.rst.rfc1337"))->sev,
		 SFO_SEV_PROFILE);
	CHECK_EQ(sfo_rule((sfo_rule_t)sfo_rule_find("rtx.early.syn"))->sev, SFO_SEV_SHOULD);
}

int main(void)
{
	closewait_rst_syn_seq_below_window_dropped();
	established_rst_below_window_only_dropped();
	established_rst_with_text_at_rcvnxt_resets();
	established_unacceptable_ack_rides_on_data();
	closewait_owed_ack_rides_on_fin();
	established_two_acks_for_one_are_unexpected_with_detail();
	field_detail_names_field_and_both_values();
	every_divergence_kind_has_a_detail();
	synsent_ack_bad_rst_then_syn_at_once_is_rtx_early_syn();
	finwait1_fin_acked_by_our_fin_again_is_rtx_early_fin();
	lastack_fin_resent_on_duplicate_ack_is_rtx_fast();
	established_data_resent_on_call_is_rtx_early_data();
	rules_cite_appendix_b();
	return check_done();
}
