/* Root-cause keys and structured differences (cause.h). The detail text is written by
 * the judge (oracle/judge.c) in a fixed form, items separated by "; ":
 *   FIELD: expected A, observed B       A may be a range LO..HI
 *   state: expected S1, observed S2
 *   missing: SEG
 *   unexpected: SEG
 *   unexpected: SEG (one more than the N allowed: SEG)
 *   unexpected: SEG (a retransmission before the RTO)
 * where SEG starts with its flags (". seq 2 ack 2 len 0"). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cause.h"

static void copy(char *dst, size_t cap, const char *src, size_t n)
{
	if (n >= cap)
		n = cap - 1;
	memcpy(dst, src, n);
	dst[n] = '\0';
}

/* One item of the detail text, [p, end). */
static void parse_item(const char *p, const char *end, struct sfh_diff *d)
{
	size_t n = (size_t)(end - p);
	const char *colon = memchr(p, ':', n);
	memset(d, 0, sizeof *d);
	if (colon && (size_t)(colon - p) == 7 && strncmp(p, "missing", 7) == 0) {
		snprintf(d->field, sizeof d->field, "response");
		copy(d->expected, sizeof d->expected, colon + 2, (size_t)(end - colon - 2));
		snprintf(d->observed, sizeof d->observed, "none");
		return;
	}
	if (colon && (size_t)(colon - p) == 10 && strncmp(p, "unexpected", 10) == 0) {
		const char *seg = colon + 2, *paren = memchr(seg, '(', (size_t)(end - seg));
		const char *segend = paren && paren > seg ? paren - 1 : end;
		snprintf(d->field, sizeof d->field, "response");
		copy(d->observed, sizeof d->observed, seg, (size_t)(segend - seg));
		if (paren && strncmp(paren, "(one more than the ", 19) == 0) {
			/* "(one more than the N allowed: SEG)": at most N such segments */
			const char *v = paren + 19;
			const char *allowed = strstr(v, " allowed: ");
			if (allowed && allowed < end) {
				char tmp[112];
				copy(tmp, sizeof tmp, allowed + 10,
				     (size_t)(end - allowed - 10) - (end[-1] == ')'));
				snprintf(d->expected, sizeof d->expected, "at most %.*s: %s",
					 (int)(allowed - v), v, tmp);
				return;
			}
		}
		if (paren && strncmp(paren, "(a retransmission before", 24) == 0) {
			snprintf(d->expected, sizeof d->expected, "not before the RTO");
			return;
		}
		snprintf(d->expected, sizeof d->expected, "none");
		return;
	}
	if (colon && (size_t)(colon - p) == 8 && strncmp(p, "checksum", 8) == 0) {
		/* "checksum: segment N (SEG) fails verification" (harness/runner.c) */
		const char *seg = memchr(colon, '(', (size_t)(end - colon));
		const char *close = seg ? memchr(seg, ')', (size_t)(end - seg)) : NULL;
		snprintf(d->field, sizeof d->field, "checksum");
		snprintf(d->expected, sizeof d->expected, "valid");
		if (seg && close)
			copy(d->observed, sizeof d->observed, seg + 1, (size_t)(close - seg - 1));
		return;
	}
	const char *ex = colon ? strstr(colon, ": expected ") : NULL;
	const char *ob = ex ? strstr(ex, ", observed ") : NULL;
	if (colon && ex == colon && ob && ob < end) {
		copy(d->field, sizeof d->field, p, (size_t)(colon - p));
		copy(d->expected, sizeof d->expected, ex + 11, (size_t)(ob - ex - 11));
		copy(d->observed, sizeof d->observed, ob + 11, (size_t)(end - ob - 11));
		return;
	}
	snprintf(d->field, sizeof d->field, "stack");
	copy(d->observed, sizeof d->observed, p, n);
}

size_t sfh_diff_parse(const char *detail, struct sfh_diff *d, size_t max)
{
	size_t k = 0;
	const char *p = detail ? detail : "";
	while (*p && k < max) {
		const char *end = strstr(p, "; ");
		if (!end)
			end = p + strlen(p);
		if (end > p)
			parse_item(p, end, &d[k++]);
		p = *end ? end + 2 : end;
	}
	return k;
}

/* ---- the key ---- */

/* What set the step off. The event class names the path (which segment in which state);
 * only its broad class is kept, because a missing answer to a segment and a missing
 * retransmission after a timer are different faults. A SYN is a segment like any other
 * here: one seeded fault (model:fault=tw-ignore-fin, no ACK in TIME-WAIT) shows under
 * SYN, FIN and ACK alike. An RST is not: answering or obeying an RST is code of its own
 * in every stack. Close and shutdown both send the FIN. */
static const char *trigger(const char *ec)
{
	if (!ec || !*ec)
		return "-";
	if (strncmp(ec, "rst", 3) == 0)
		return "rst";
	if (strncmp(ec, "wait", 4) == 0)
		return "timer";
	if (strcmp(ec, "call-shutdown") == 0)
		return "call-close";
	if (strncmp(ec, "call-", 5) == 0)
		return ec; /* each call is its own code path in a stack */
	return "segment";
}

/* FIN-WAIT-1 and FIN-WAIT-2 may be reported as FIN-WAIT-N by a target that cannot tell
 * them apart: compared by family. */
static int same_state(const char *a, const char *b)
{
	if (strncmp(a, "FIN-WAIT", 8) == 0 && strncmp(b, "FIN-WAIT", 8) == 0)
		return 1;
	return strcmp(a, b) == 0;
}

/* The state difference, without the states themselves (they name the path). */
static const char *state_shape(const struct sfh_diff *d, const char *before)
{
	if (strcmp(d->observed, "CLOSED") == 0 || strcmp(d->observed, "LISTEN") == 0)
		return "state:dropped"; /* the target gave the connection up */
	if (strcmp(d->expected, "CLOSED") == 0)
		return "state:kept"; /* it should have, and did not */
	if (before && same_state(d->observed, before))
		return "state:stayed"; /* the step should have moved it, and did not */
	return "state:moved";	       /* it moved where the model stays, or elsewhere */
}

/* The flags of a segment description (". seq 2 ..." -> "."), and "+data" when it must
 * carry data (its len, or the low end of its range, is above 0): an ACK that is missing
 * or extra is another fault than a data segment that is (delayed ACKs against
 * retransmissions, duplicate ACKs against small segments). */
static void flags_of(const char *seg, char *out, size_t cap)
{
	size_t n = strcspn(seg, " ");
	const char *len = strstr(seg, " len ");
	copy(out, cap, seg, n ? n : strlen(seg));
	if (len && strtol(len + 5, NULL, 10) > 0) {
		size_t k = strlen(out);
		snprintf(out + k, cap - k, "+data");
	}
}

/* A number, or the low end of "LO..HI"; 0 if it is not one. */
static int number(const char *s, long long *lo, long long *hi)
{
	char *end;
	*lo = strtoll(s, &end, 10);
	if (end == s)
		return 0;
	*hi = *lo;
	if (strncmp(end, "..", 2) == 0) {
		const char *h = end + 2;
		*hi = strtoll(h, &end, 10);
		if (end == h)
			return 0;
	}
	return *end == '\0';
}

/* The handshake states: RFC 9293 processes a segment there by rules of their own
 * (3.10.7.1-3.10.7.3, against 3.10.7.4 for the synchronized states), so a state error
 * in them is another fault: lwIP's SYN-RECEIVED timeout against its FIN-WAIT-2
 * timeout, its missing simultaneous open against a FIN it does not take. */
static int handshake(const char *state)
{
	return state && (strcmp(state, "CLOSED") == 0 || strcmp(state, "LISTEN") == 0 ||
			 strcmp(state, "SYN-SENT") == 0 || strcmp(state, "SYN-RECEIVED") == 0);
}

static void item_shape(const struct sfh_diff *d, const char *before, int rst, char *out, size_t cap)
{
	char fl[24];
	long long lo, hi, ob, dummy;
	if (strcmp(d->field, "state") == 0) {
		/* Not for an RST: which RSTs to obey is one check in a stack, whatever the
		 * state (model:fault=rst-out-of-window shows in SYN-RECEIVED and after). */
		snprintf(out, cap, "%s%s", state_shape(d, before),
			 !rst && handshake(before) ? "@handshake" : "");
	} else if (strcmp(d->field, "response") == 0) {
		if (strcmp(d->observed, "none") == 0) {
			flags_of(d->expected, fl, sizeof fl);
			snprintf(out, cap, "missing:%s", fl);
		} else {
			flags_of(d->observed, fl, sizeof fl);
			snprintf(out, cap, "%s:%s",
				 strncmp(d->expected, "at most", 7) == 0 ? "extra"
				 : strcmp(d->expected, "none") == 0	 ? "unexpected"
									 : "early",
				 fl);
		}
	} else if (strcmp(d->field, "checksum") == 0) {
		flags_of(d->observed, fl, sizeof fl);
		snprintf(out, cap, "checksum:%s", fl);
	} else if (strcmp(d->field, "stack") == 0) {
		snprintf(out, cap, "?");
	} else {
		/* above or below the model's value: how far depends on the path */
		char f[24];
		size_t n = 0;
		for (const char *p = d->field; *p && n + 1 < sizeof f; p++)
			f[n++] = *p == ' ' ? '_' : *p;
		f[n] = '\0';
		if (number(d->expected, &lo, &hi) && number(d->observed, &ob, &dummy))
			snprintf(out, cap, "%s%c", f, ob < lo ? '-' : ob > hi ? '+' : '=');
		else
			snprintf(out, cap, "%s~", f);
	}
}

/* The first item of a shape ("unexpected:P.+data,noop" -> yes) carries data. */
static int first_has_data(const char *shape)
{
	const char *d = strstr(shape, "+data");
	return d && (size_t)(d - shape) < strcspn(shape, ",");
}

/* A crash's site, else its message with the numbers left out ("killed by signal N"). */
static void crash_shape(const struct sfh_cause_in *in, char *out, size_t cap)
{
	const char *s = in->crash_site && in->crash_site[0] ? in->crash_site : in->detail;
	size_t n = 0;
	for (const char *p = s ? s : ""; *p && n + 1 < cap; p++) {
		if (*p >= '0' && *p <= '9' && !(in->crash_site && in->crash_site[0])) {
			while (p[1] >= '0' && p[1] <= '9')
				p++;
			out[n++] = 'N';
		} else {
			out[n++] = *p == '/' ? '|' : *p;
		}
	}
	out[n] = '\0';
}

/* Where a segment's answer goes wrong, beyond its shape (the segment trigger only: an
 * RST, a timer or a call has code of its own whatever the state).
 *
 * A state whose segment processing is a code path of its own: RFC 9293 gives LISTEN,
 * SYN-SENT and SYN-RECEIVED rules of their own (3.10.7.2-3.10.7.4), and stacks handle
 * TIME-WAIT apart (lwIP's tcp_timewait_input, Linux's timewait sockets), so a response
 * that goes wrong there is not the fault that shows in the synchronized states (lwIP
 * leaves an unacceptable segment unanswered in SYN-RECEIVED and in TIME-WAIT for two
 * different reasons, and for a third in ESTABLISHED while Nagle holds data). A state
 * difference keeps its own "@handshake" mark (item_shape).
 *
 * An acknowledgment number that differs, or an acknowledgment missing where the target
 * may have answered with another number, often stems from an earlier step that took in
 * sequence space silently (data without the ACK bit taken, held out-of-order data
 * dropped): the rule of that step tells such faults apart, where the rule of the step
 * that shows them only says which acknowledgment revealed it. */
/* "@state-name" appended to shape. */
static void at_state(char *shape, size_t cap, const char *state)
{
	size_t k = strlen(shape);
	if (k + 1 + strlen(state) >= cap)
		return;
	shape[k++] = '@';
	for (const char *p = state; *p; p++)
		shape[k++] = (char)(*p >= 'A' && *p <= 'Z' ? *p - 'A' + 'a' : *p);
	shape[k] = '\0';
}

static const char *segment_context(const struct sfh_cause_in *in, const char *kind, char *shape,
				   size_t cap)
{
	static const char *const own[] = {"CLOSED", "LISTEN", "SYN-SENT", "SYN-RECEIVED",
					  "TIME-WAIT"};
	size_t k;
	int acks = strncmp(shape, "ack+", 4) == 0 || strncmp(shape, "ack-", 4) == 0 ||
		   strcmp(shape, "missing:.") == 0 || strncmp(shape, "missing:.,", 10) == 0;
	if (acks && in->since_rule && in->since_rule[0]) {
		/* Whether the acknowledgment that shows it is judged a wrong number or a
		 * missing ACK (one the model would have wanted with another number) depends
		 * on the path: the step it stems from is the fault. */
		kind = "rcv-nxt";
		snprintf(shape, cap, "since:%s", in->since_rule);
	}
	if (strncmp(shape, "state:", 6) == 0)
		return kind;
	/* A segment the model drops (or that repeats what was taken) should change nothing:
	 * a stack that acts on it anyway (takes its window, answers it twice, sends data on
	 * it) shows another fault than one that acts wrongly on a segment it must take. */
	if (in->noop && strncmp(kind, "rcv-nxt", 7) != 0) {
		k = strlen(shape);
		snprintf(shape + k, cap - k, ",noop");
	}
	for (size_t i = 0; in->state_before && i < sizeof own / sizeof own[0]; i++)
		if (strcmp(in->state_before, own[i]) == 0)
			at_state(shape, cap, own[i]);
	return kind;
}

const char *sfh_wnd_how_name(int how)
{
	return how == 1 ? "untaken" : how == 2 ? "shrink" : NULL;
}

int sfh_cause_key(const struct sfh_cause_in *in, char *key, size_t cap)
{
	struct sfh_diff d[8];
	char shape[160] = "", item[64];
	const char *kind = in->kind ? in->kind : "?";
	if (strcmp(kind, "crash") == 0 || strcmp(kind, "hang") == 0) {
		crash_shape(in, shape, sizeof shape);
		int w = snprintf(key, cap, "%s/%s/-/%s", in->target, kind, shape);
		return w < 0 || (size_t)w >= cap ? -1 : 0;
	}
	size_t n = sfh_diff_parse(in->detail, d, 8);
	int has_seq_len = 0, has_ack = 0;
	for (size_t i = 0; i < n; i++) {
		has_seq_len |= strcmp(d[i].field, "seq") == 0 || strcmp(d[i].field, "len") == 0;
		has_ack |= strcmp(d[i].field, "ack") == 0;
	}
	/* The first difference is the fault; later field differences mostly follow from it
	 * (a wrong seq makes a wrong end). A response that is missing or unexpected on top
	 * of it is a behaviour of its own, and kept. */
	int first = 1;
	for (size_t i = 0; i < n; i++) {
		if (strcmp(d[i].field, "end") == 0 && has_seq_len)
			continue; /* end = seq + len: says nothing new */
		if (!first && strcmp(d[i].field, "response") != 0)
			continue;
		item_shape(&d[i], in->state_before, strcmp(trigger(in->event_class), "rst") == 0,
			   item, sizeof item);
		size_t k = strlen(shape);
		snprintf(shape + k, sizeof shape - k, "%s%s", first ? "" : ",", item);
		first = 0;
	}
	const char *trig0 = trigger(in->event_class);
	const char *before0 = in->state_before ? in->state_before : "";
	char raw[sizeof shape]; /* the differences alone, before the segment's context */
	memcpy(raw, shape, sizeof raw);
	/* Data sent in SYN-SENT, before the connection is established (RFC 9293 3.10.2
	 * queues it): one fault whether a timer, a segment or the SEND itself sets it off. */
	if (strcmp(before0, "SYN-SENT") == 0 && strncmp(raw, "unexpected:", 11) == 0 &&
	    first_has_data(raw)) {
		int w = snprintf(key, cap, "%s/%s/-/unexpected:data@syn-sent", in->target, kind);
		return w < 0 || (size_t)w >= cap ? -1 : 0;
	}
	if (!shape[0]) /* no detail to go by: a verdict of its own kind (isn.clock) */
		snprintf(shape, sizeof shape, "rule:%s", in->rule && in->rule[0] ? in->rule : "?");
	else if (strcmp(trig0, "segment") == 0)
		kind = segment_context(in, kind, shape, sizeof shape);
	int synced = in->state_before && in->state_before[0] && !handshake(in->state_before) &&
		     strcmp(in->state_before, "TIME-WAIT") != 0;
	/* After a segment whose ACK of new data the model did not take (it dropped the
	 * segment): a retransmission that does not come, a FIN sent as if that data were
	 * acknowledged, a move that an ACK of our FIN makes (FIN-WAIT-1 to FIN-WAIT-2,
	 * CLOSING to TIME-WAIT, LAST-ACK to CLOSED) are one fault: the target took the ACK
	 * field of a segment it should drop, whatever set the difference off. */
	if (in->una_rule && in->una_rule[0] && synced && n) {
		int acked_move = strcmp(d[0].field, "state") == 0 &&
				 ((strcmp(d[0].expected, "FIN-WAIT-1") == 0 &&
				   strcmp(d[0].observed, "FIN-WAIT-2") == 0) ||
				  (strcmp(d[0].expected, "CLOSING") == 0 &&
				   strcmp(d[0].observed, "TIME-WAIT") == 0) ||
				  (strcmp(d[0].expected, "LAST-ACK") == 0 &&
				   strcmp(d[0].observed, "CLOSED") == 0));
		int no_rtx = strcmp(trig0, "timer") == 0 && strncmp(raw, "missing:", 8) == 0 &&
			     first_has_data(raw);
		int fin = strstr(raw, "unexpected:F") != NULL;
		if (acked_move || no_rtx || fin) {
			int w = snprintf(key, cap, "%s/snd-una/-/untaken", in->target);
			return w < 0 || (size_t)w >= cap ? -1 : 0;
		}
	}
	/* A segment the model drops, in a synchronized state, that the target acts on: it
	 * moves to another state or acknowledges it (it took it): keyed as the later signs
	 * of a segment taken silently are, by the rule that drops it. A state it reaches on
	 * it is its own doing (before an earlier step's: the stack took this segment),
	 * unless the model holds it out of order (the target took the gap before it
	 * earlier); an ACK it sends for it may answer what an earlier step took. */
	int drop_taken = in->noop && strcmp(trig0, "segment") == 0 && synced && in->rule &&
			 in->rule[0] &&
			 (strncmp(shape, "state:", 6) == 0 || strcmp(shape, "unexpected:.") == 0 ||
			  strncmp(shape, "unexpected:.,", 13) == 0);
	int silent = in->since_silent && in->since_rule && in->since_rule[0];
	if (drop_taken && (!silent || (strncmp(shape, "state:", 6) == 0 &&
				       strncmp(in->rule, "seq.ooo.", 8) != 0))) {
		int w = snprintf(key, cap, "%s/rcv-nxt/segment/since:%s", in->target, in->rule);
		return w < 0 || (size_t)w >= cap ? -1 : 0;
	}
	/* After a segment whose sequence space the model drops (the target may have taken
	 * it), any later sign of another RCV.NXT points there,
	 * whatever sets it off: an ACK number, an ACK sent or missing, a state a FIN or RST
	 * did or did not reach (lwIP takes text without the ACK bit, and then answers a
	 * timer, an RST, a close from the wrong RCV.NXT). */
	if (in->since_silent && in->since_rule && in->since_rule[0] &&
	    (has_ack || strncmp(shape, "ack+", 4) == 0 || strncmp(shape, "ack-", 4) == 0 ||
	     strncmp(shape, "state:", 6) == 0 || strcmp(shape, "missing:.") == 0 ||
	     strncmp(shape, "missing:.,", 10) == 0 || strcmp(shape, "unexpected:.") == 0 ||
	     strncmp(shape, "unexpected:.,", 13) == 0)) {
		int w =
		    snprintf(key, cap, "%s/rcv-nxt/segment/since:%s", in->target, in->since_rule);
		return w < 0 || (size_t)w >= cap ? -1 : 0;
	}
	/* One data segment more than the count from the smallest recommended segment size
	 * allows (RFC 9293 3.8.6.2.1): the sender's segment sizing, whatever set it off. */
	if (strncmp(shape, "extra:", 6) == 0 && first_has_data(shape) && in->rule &&
	    strcmp(in->rule, "send.data.small") == 0) { /* whatever the flags (a push too) */
		int w = snprintf(key, cap, "%s/%s/-/extra:.+data", in->target, kind);
		return w < 0 || (size_t)w >= cap ? -1 : 0;
	}
	/* Data beyond the window, or where none was due, is sent on the window the target
	 * holds: after a segment whose window (or SND.WL2) the model did not take, or one that
	 * shrank the window, the fault is how the target updates its window, whatever step
	 * then sets the sending off (a segment, a timer, a SEND). Taking the window of a
	 * segment it should not and keeping the larger window are two faults. */
	int sends_more = strncmp(raw, "len+", 4) == 0 || strncmp(raw, "seq+", 4) == 0 ||
			 strncmp(raw, "end+", 4) == 0 ||
			 (strncmp(raw, "unexpected:", 11) == 0 && first_has_data(raw));
	const char *wnd = in->wnd_how && in->wnd_how[0] ? in->wnd_how : NULL;
	/* (a segment the model drops that the target sends data on: its window was taken,
	 * whether or not a report says so; lwIP processes the ACK field and window before
	 * it tests acceptability) */
	if (!wnd && in->noop && strcmp(trig0, "segment") == 0 && synced)
		wnd = "untaken";
	/* (a FIN or data the model wanted that did not come, after a smaller window the
	 * model did not take: the runner reports the window step only then, so this goes by
	 * the report alone) */
	int sends_less = in->wnd_how && strcmp(in->wnd_how, "untaken") == 0 &&
			 strncmp(raw, "missing:", 8) == 0 &&
			 (strncmp(raw, "missing:F", 9) == 0 || first_has_data(raw));
	if (wnd && synced && ((sends_more && strcmp(trig0, "rst") != 0) || sends_less)) {
		int w = snprintf(key, cap, "%s/send-window/-/%s", in->target, wnd);
		return w < 0 || (size_t)w >= cap ? -1 : 0;
	}
	/* Octets below what the model has sent or had acknowledged sent again, in a
	 * synchronized state (not an RST): the target sends a segment from its start
	 * (a retransmission not trimmed to SND.UNA, a zero-window probe's octet sent again
	 * with the segment it came from), whatever sets the sending off. */
	if (strncmp(raw, "seq-", 4) == 0 && synced && strcmp(trig0, "rst") != 0 &&
	    !(in->rule && strstr(in->rule, "rst"))) {
		int w = snprintf(key, cap, "%s/%s/-/seq-", in->target, kind);
		return w < 0 || (size_t)w >= cap ? -1 : 0;
	}
	/* An acknowledgment number that differs on a timer's or a call's segment, or the
	 * delayed ACK the model owes that does not come (the target sends nothing, or data
	 * with another number), after a step that took sequence space the target has not
	 * acknowledged: that step, as for a segment's answer (segment_context). */
	if (in->since_rule && in->since_rule[0] &&
	    (strncmp(trig0, "call-", 5) == 0 || strcmp(trig0, "timer") == 0) &&
	    (strncmp(raw, "ack+", 4) == 0 || strncmp(raw, "ack-", 4) == 0 ||
	     (in->rule && strcmp(in->rule, "ack.delayed") == 0))) {
		int w =
		    snprintf(key, cap, "%s/rcv-nxt/segment/since:%s", in->target, in->since_rule);
		return w < 0 || (size_t)w >= cap ? -1 : 0;
	}
	/* A state difference on a segment in a handshake state: the rule the model applied
	 * names the check (RFC 9293 3.10.7.2-3.10.7.4 give each its own: a SYN in
	 * SYN-RECEIVED, a simultaneous open, an unacceptable ACK), whether the target then
	 * stayed or moved elsewhere. */
	if (strstr(shape, "@handshake") && strncmp(shape, "state:", 6) == 0 &&
	    strcmp(trig0, "segment") == 0 && in->rule && in->rule[0] && !strchr(shape, ',')) {
		int w = snprintf(key, cap, "%s/%s/segment/state@%s", in->target, kind, in->rule);
		return w < 0 || (size_t)w >= cap ? -1 : 0;
	}
	/* A segment with a broken checksum is broken whatever made the stack send it. */
	const char *trig = strncmp(shape, "checksum:", 9) == 0 ? "-" : trig0;
	/* The RST that ABORT or a CLOSE with unread data sends: one sequence number choice. */
	if (strcmp(trig, "call-abort") == 0 ||
	    (strcmp(trig, "call-close") == 0 && in->rule && strstr(in->rule, ".rst")))
		trig = "call-rst";
	/* Data a timer should have sent and did not: a retransmission (the RTO) and a first
	 * transmission held back (the override timer, a probe) are separate timers. */
	if (strcmp(trig, "timer") == 0 && strncmp(shape, "missing:", 8) == 0 &&
	    strstr(shape, "+data") && in->rule && in->rule[0]) {
		size_t k = strlen(shape);
		snprintf(shape + k, sizeof shape - k, ",%s", in->rule);
	}
	/* A retransmission before the RTO: one timer, whatever the segment's flags. */
	if (in->rule && strcmp(in->rule, "rtx.early.data") == 0 && strncmp(shape, "early:", 6) == 0)
		snprintf(shape, sizeof shape, "early:data");
	/* The RST that answers a segment in CLOSED: its sequence number comes from the
	 * segment's ACK field or not, above or below by what that field held. */
	if (strcmp(before0, "CLOSED") == 0 &&
	    (strncmp(shape, "seq+", 4) == 0 || strncmp(shape, "seq-", 4) == 0))
		shape[3] = '~';
	const char *before = in->state_before ? in->state_before : "";
	if (strcmp(trig, "timer") == 0 && strncmp(shape, "state:dropped", 13) == 0 && before[0]) {
		/* Each state's timer is code of its own: a FIN-WAIT-2 timeout, the length of
		 * TIME-WAIT, giving up on a SYN. (A timeout that should close and does not is
		 * one user timeout, whatever the state.) */
		char *h = strstr(shape, "@handshake");
		if (h)
			memmove(h, h + 10, strlen(h + 10) + 1);
		at_state(shape, sizeof shape, before);
	} else if (strcmp(trig, "rst") == 0 &&
		   (strcmp(before, "SYN-SENT") == 0 || strcmp(before, "LISTEN") == 0 ||
		    strcmp(before, "CLOSED") == 0)) {
		/* An RST before the connection is synchronized has rules of its own (RFC 9293
		 * 3.10.7.1-3.10.7.3): checking its ACK in SYN-SENT is not checking its
		 * sequence number in the synchronized states. */
		at_state(shape, sizeof shape, before);
	}
	int w = snprintf(key, cap, "%s/%s/%s/%s", in->target, kind, trig, shape);
	return w < 0 || (size_t)w >= cap ? -1 : 0;
}
