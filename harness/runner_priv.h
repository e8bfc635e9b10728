/* What the runner's files share (runner.c, runner_assert.c, runner_case.c): the state of
 * one run in progress and the helpers that read and record it. Not an interface. */
#ifndef SYNFIN_RUNNER_PRIV_H
#define SYNFIN_RUNNER_PRIV_H

#include <stdint.h>

#include "report.h"
#include "runner.h"

#define SFH_DRAIN_MAX 64
/* The most segments one step may emit before the runner calls the case broken: far above
 * what one bounded send can produce even at a tiny MSS, low enough that a stack flooding
 * its peer cannot exhaust memory. */
#define SFH_STEP_SEGS_MAX 65536
/* `out ... @+D`: on a target whose clock is real, what the runner's own work between two
 * ops may add to a measured time, on top of the line's tolerance. */
#define SFH_RT_SLACK_US 2000

#define LSN    SFH_MAX_CONNS	   /* cn[LSN]: the listener, in a scenario with selectors */
#define NTCB   (SFH_MAX_CONNS + 1) /* connections, then the listener */
#define PORT_K 0x10000000u	   /* connection k's default pisn: the scenario's + k * this */

/* The segments one TCB emitted in a step, with what `out` assertions read of each. Grown
 * as needed, up to SFH_STEP_SEGS_MAX. */
struct segbuf {
	size_t cap;
	struct sfo_seg *segs;
	uint32_t *frame; /* its pcap frame number */
	uint64_t *at;	 /* emission time (SFH_CAP_EMIT_TIME) */
	uint32_t *ttsv;	 /* the ttsv anchor before it */
	uint8_t *norder; /* its option kinds in wire order, NOP/EOL left out */
	uint8_t (*order)[SFH_MAX_ORDER + 1];
};

struct sfh_runner {
	struct sfh_wire *wire;
	struct sfh_pkt pkts[SFH_DRAIN_MAX]; /* one batch of sfh_target_drain */
	/* Per TCB, every segment the last step emitted on it, judged together: a step may
	 * emit far more than one batch (a large send to a small MSS), and judging a cut list
	 * would leave the model's SND.NXT behind the stack's. */
	struct segbuf sb[NTCB];
	struct sfh_pkt inpkt;
	struct sfo_expect expect[NTCB];
};

/* One TCB of the case and what the current step did to it. */
struct conn {
	struct sfo_tcb tcb;
	uint32_t pisn;			 /* the `pisn` anchor on this connection */
	uint16_t peer_port, target_port; /* its 4-tuple (target_port 0: not learned yet) */
	int tport_guess;      /* target_port is a guess until the target's SYN shows it */
	struct segbuf *sb;    /* what the target emitted on it in the step (the runner's) */
	struct sfo_seg *segs; /* sb->segs */
	uint32_t *frame;      /* sb->frame: their pcap frame numbers */
	size_t nsegs;
	size_t out_idx; /* next emitted segment an `out` assertion looks at */
	int bad_csum;	/* index+1 of the first emitted segment whose checksum fails, or 0 */
	enum sfo_state observed;
	uint16_t state_ok;  /* states equivalent to the model's after its last step */
	uint64_t peer_sent; /* payload octets the peer sent, as an upper bound (highest end) */
	uint64_t delivered; /* octets the application received */
	/* What the last connection on this 4-tuple that ended abnormally left for the
	 * application (closed_err): a passive one the listener spawns after it is not the
	 * application's until accepted, so its calls still reach the ended one */
	uint8_t held_err;
	/* Its sequence numbers as the scenario numbers them: what its first SYN carried minus
	 * the ISN the scenario gives it (tshift_of; 0 when the target took that ISN). Each
	 * connection has its own ISN, so its own shift, kept across its incarnations. */
	uint32_t tshift;
	int tshift_set;
	int wnd_event; /* sfh_result.wnd_*: kept current as its steps conform */
	uint32_t wnd_line;
	sfo_rule_t wnd_rule;
	int wnd_how;
	uint32_t wnd_wl1, wnd_wl2; /* the WL1/WL2 the target may hold when wnd_how is set */
	uint32_t wnd_win;	   /* ... and the window, when untaken */
	int una_event;		   /* sfh_result.una_*: kept current as its steps conform */
	uint32_t una_line, una_ack;
	sfo_rule_t una_rule;
};

/* Where a real-time target's timestamp clock starts as the runner numbers it. */
#define SFH_TS_FRAME 0x10000000u

/* Everything about one run in progress. */
struct run {
	struct sfh_runner *r;
	struct sfh_target *t;
	const struct sfh_scenario *s;
	const struct sfh_run_opts *o;
	struct sfh_result *res;
	struct sfo_cfg cfg;
	struct conn cn[NTCB]; /* cn[0] alone without selectors */
	int multi;	      /* the scenario names its TCBs (sfh_scn_multi) */
	int k;		      /* the TCB being judged: an index into cn */
	int cur;	      /* the connection `out` and `expect` address by default */
	struct sfh_endpoints ep;
	uint32_t pisn;
	/* A real-time target's timestamp clock: its TSvals counted from SFH_TS_FRAME (its
	 * first TSval minus that; 0 for a virtual-time target). One for the case: the `ttsv`
	 * anchor is the latest segment's of any connection, and a stack keys its TS offset by
	 * the address pair (Linux), which all connections of a case share. */
	uint32_t tsshift;
	int tsshift_set;
	uint32_t ts[SFH_NTS_ANCHORS]; /* timestamp anchors: ptsv (ours), ttsv (the target's) */
	uint64_t now_us;	      /* virtual capture clock for pcap timestamps */
	uint32_t npkts;		      /* packets so far, both ways: frame numbers in the pcap */
	struct sfo_event ev;	      /* the step's event as the model saw it (for o->step) */
	int refused;		      /* ... a refused call */
	int res_err;		      /* ... a call's result (-1: none known) */
	uint32_t res_n, res_allow;
	uint32_t wait_ms;	  /* ... a wait's asked-for time */
	struct sfh_progress here; /* the step in progress, should the target die in it */
	uint32_t step_in_pkt;	  /* frame of this step's incoming segment, 0 for a call or wait */
	uint32_t step_emit0;	  /* frames before this step's first emitted segment */
	uint32_t step_space;	  /* sequence space of this step's incoming segment */
	int since_event;	  /* sfh_result.since_*: kept current as steps conform */
	uint32_t since_line;
	sfo_rule_t since_rule;
	int since_silent;
	struct sfo_profile prof; /* the profile judged by, with the `timers` line applied */
	uint64_t line_us;	 /* time of the previous line (`out ... @+D` counts from it) */
};

#define C(x)		 (&(x)->cn[(x)->k])
#define SFO_BIT_STATE(s) ((uint16_t)(1u << (s)))

/* runner.c */
void sfh_run_trace(struct run *x, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int sfh_run_observe(struct run *x, int k);
uint32_t sfh_run_resolve(const struct run *x, const struct sfh_num *n);
void sfh_run_record_divergence(struct run *x, int ev_index, uint32_t line);
/* runner_assert.c: an `out` or `expect state` line against the last step; 0 met, else
 * as run_events reads it */
int sfh_run_check_assertion(struct run *x, int ev_index, const struct sfh_event *e);
/* runner_assert.c: the option kinds of an emitted packet in wire order (`order=`) */
uint8_t sfh_run_opt_kinds(const uint8_t *ip, size_t len, uint8_t out[SFH_MAX_ORDER + 1]);
/* runner_case.c: the profile a case is judged by, its `timers` line applied */
void sfh_run_judged_profile(struct run *x, const struct sfo_profile *base);

#endif
