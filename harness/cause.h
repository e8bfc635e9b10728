/* Root causes of divergences: the structured differences behind a verdict's detail
 * text, and the key that groups findings by how the target departs rather than by the
 * path that led there (docs/report-schema.md, fuzz/triage.c).
 *
 * A signature names the state before and the event class, so one behaviour of a stack
 * shows under as many signatures as there are paths into it. The cause key keeps what
 * the behaviour is: the kind of divergence, what set the step off (a segment, an RST, a
 * SYN, a timer, a user call), and the shape of the difference (which field, and whether
 * the target's value is above or below the model's; which response is missing, extra or
 * unexpected; whether the connection was dropped, kept, stayed or moved) with every
 * number that depends on the path left out. Pure functions: no I/O. */
#ifndef SYNFIN_CAUSE_H
#define SYNFIN_CAUSE_H

#include <stddef.h>

/* One difference: "ack", "1001", "1"; "response", ". seq 2 ack 2 len 0", "none". */
struct sfh_diff {
	char field[24];
	char expected[112];
	char observed[112];
};

/* Split a verdict's detail text ("ack: expected 1, observed 0; missing: R seq 5 len 0")
 * into at most max differences; returns how many. Text that is no difference (a crash
 * message) becomes one item with field "stack" and the text as observed. */
size_t sfh_diff_parse(const char *detail, struct sfh_diff *d, size_t max);

/* What the cause key is computed from: the names a report carries (report.json or a
 * verdict). crash_site may be NULL or empty (no site known: the message is used). */
struct sfh_cause_in {
	const char *target;	  /* spec, e.g. "lwip" or "model:fault=no-time-wait" */
	const char *kind;	  /* sfo_div_kind_name */
	const char *state_before; /* sfo_state_name */
	const char *event_class;  /* sfo_evclass_name */
	const char *detail;
	const char *crash_site;
	const char *rule; /* the rule id: the shape when the detail gives none (may be NULL) */
	/* The rule of the step an acknowledgment difference may stem from (sfh_result's
	 * since_rule); NULL or empty if none. */
	const char *since_rule;
	int since_silent; /* sfh_result's since_silent */
	int noop; /* the step's segment changes nothing in the model (sfh_result's noop) */
	/* Where the target's send window may have parted from the model's (sfh_result's
	 * wnd_how): "untaken", "shrink", or NULL/empty. */
	const char *wnd_how;
	/* The rule of the step whose ACK of new data the model did not take (sfh_result's
	 * una_rule); NULL or empty if none. */
	const char *una_rule;
};

/* key: "TARGET/KIND/TRIGGER/SHAPE", e.g. "lwip/wrong-field/segment/ack+",
 * "lwip/missing-response/rst/missing:.", "lwip/crash/-/tcp_out.c:859". A segment's
 * response in a state with processing of its own names the state ("missing:.@time-wait");
 * an acknowledgment that differs names the earlier step it may stem from
 * ("ack+,since:ack.off"). Returns 0, or -1 if the key did not fit. */
int sfh_cause_key(const struct sfh_cause_in *in, char *key, size_t cap);

/* The report name of an sfh_result wnd_how (SFH_WND_*): NULL for none. */
const char *sfh_wnd_how_name(int how);

#endif
