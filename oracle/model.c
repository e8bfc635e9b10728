/* synfin oracle: the step driver, what the target may send on its own after each event
 * (data, FIN, owed ACKs), and learning from what it really sent (sfo_commit/sfo_observe).
 * SEGMENT ARRIVES lives in model_seg.c, user calls and timeouts in model_call.c. */
#include <string.h>

#include "model_priv.h"

/* 3.7.1 MUST-15: the send MSS when the peer gave none, 536 over IPv4 (the 576-octet
 * datagram every IPv4 host accepts less 40 of headers) and 1220 over IPv6 (the 1280-octet
 * minimum link MTU of RFC 8200 less 60). */
#define MSS_DEFAULT_IPV4 536
#define MSS_DEFAULT_IPV6 1220

void sfo_tcb_init(struct sfo_tcb *t)
{
	memset(t, 0, sizeof *t);
	t->state = SFO_CLOSED;
	t->mss_default = MSS_DEFAULT_IPV4;
	t->mss = MSS_DEFAULT_IPV4;
}

void sfo_tcb_family(struct sfo_tcb *t, int ipv6)
{
	t->mss_default = ipv6 ? MSS_DEFAULT_IPV6 : MSS_DEFAULT_IPV4;
	t->mss = t->mss_default;
}

uint16_t sfo_default_mss(const struct sfo_tcb *t)
{
	return t->mss_default ? t->mss_default : MSS_DEFAULT_IPV4;
}

int sfo_synchronized(enum sfo_state s)
{
	switch (s) {
	case SFO_ESTABLISHED:
	case SFO_FIN_WAIT_1:
	case SFO_FIN_WAIT_2:
	case SFO_CLOSE_WAIT:
	case SFO_CLOSING:
	case SFO_LAST_ACK:
	case SFO_TIME_WAIT:
		return 1;
	case SFO_CLOSED:
	case SFO_LISTEN:
	case SFO_SYN_SENT:
	case SFO_SYN_RECEIVED:
		break;
	}
	return 0;
}

/* Delete the TCB: only the clock and how the case was opened survive. */
void sfo_tcb_to_closed(struct sfo_tcb *n)
{
	uint64_t now = n->now_ms;
	uint32_t keep = n->fl & (SFO_TF_PASSIVE | SFO_TF_ACCEPTED);
	uint16_t mss_default = n->mss_default;
	memset(n, 0, sizeof *n);
	n->now_ms = now;
	n->fl = keep;
	n->mss_default = mss_default;
	n->mss = sfo_default_mss(n);
	n->state = SFO_CLOSED;
}

/* A fresh listening TCB (passive OPEN, or SYN-RECEIVED returning to LISTEN). */
void sfo_tcb_to_listen(struct sfo_tcb *n)
{
	uint64_t now = n->now_ms;
	uint16_t mss_default = n->mss_default;
	memset(n, 0, sizeof *n);
	n->now_ms = now;
	n->fl = SFO_TF_PASSIVE;
	n->mss_default = mss_default;
	n->mss = sfo_default_mss(n);
	n->state = SFO_LISTEN;
}

/* Choose the ISS: the configured one in stack mode; in oracle mode a placeholder of 0
 * that sfo_observe() rebases once the target's SYN shows the real one. */
void sfo_new_iss(const struct sfo_ctx *c, struct sfo_tcb *n, uint32_t iss)
{
	n->iss = c->stack ? iss : 0;
	n->snd_una = n->snd_nxt = n->iss;
	n->snd_queued = n->iss + 1;
	n->snd_fin = 0;
	n->snd_wl2 = n->iss;
	n->fl &= ~(SFO_TF_ISS_KNOWN | SFO_TF_FIN_SENT | SFO_TF_FIN_ACKED | SFO_TF_CLOSE_CALLED);
	if (c->stack) {
		n->fl |= SFO_TF_ISS_KNOWN;
		n->rcv_wnd = n->rcv_buf = c->cfg->rcv_wnd;
	}
	n->timer_ms = n->unacked_since_ms = n->deliver_since_ms = n->now_ms;
	n->timer_slack_ms = 0;
	n->rtx_count = 0;
}

/* Take what the peer's SYN tells: IRS, its window, MSS, window scale and timestamps. */
void sfo_peer_syn(const struct sfo_ctx *c, struct sfo_tcb *n, const struct sfo_seg *s)
{
	n->irs = s->seq;
	n->rcv_nxt = s->seq + 1;
	n->fl |= SFO_TF_IRS_KNOWN;
	n->snd_wnd = s->wnd; /* a SYN's window is never scaled */
	if (!n->snd_wnd)
		n->wnd_zero_ms = n->now_ms;
	n->max_snd_wnd = s->wnd;
	n->snd_wl1 = s->seq;
	/* 3.10.7.3: SND.WL2 <- SEG.ACK, but a SYN without ACK carries no acknowledgment:
	 * its ACK field is whatever the peer left there. Take SND.UNA (the ISS), so the first
	 * ACK of our SYN updates the window whatever that field held (and whatever our ISS). */
	n->snd_wl2 = (s->flags & SFO_ACK) ? s->ack : n->snd_una;
	n->mss = (s->opts & SFO_OPT_MSS) && s->mss ? s->mss : sfo_default_mss(n);
	if (c->stack && c->cfg->mss && c->cfg->mss < n->mss)
		n->mss = c->cfg->mss;
	if (s->opts & SFO_OPT_WSCALE) {
		n->fl |= SFO_TF_WS_PEER;
		n->snd_wscale = s->wscale > 14 ? 14 : s->wscale;
		if (n->fl & SFO_TF_WS_SELF)
			n->fl |= SFO_TF_WSCALE;
	}
	/* RFC 7323 3.2: Timestamps are in use once both SYNs carried the option */
	if (s->opts & SFO_OPT_TS) {
		n->fl |= SFO_TF_TS_PEER;
		if (n->fl & SFO_TF_TS_SELF)
			n->fl |= SFO_TF_TS;
	}
	if (c->stack)
		n->rcv_wnd = n->rcv_buf = c->cfg->rcv_wnd;
}

/* An ACK advanced SND.UNA to `ack`: take what it says about timing. The time since the
 * oldest unacknowledged octet was first sent bounds the RTT from above; Karn's algorithm
 * (RFC 6298 3) uses it only if nothing was retransmitted, and only such a sample ends
 * the backoff (RFC 6298 5.7). Once SND.UNA reaches SND.NXT nothing is in flight and the
 * congestion window no longer holds anything back. */
void sfo_ack_sample(struct sfo_tcb *n, uint32_t ack)
{
	if (n->rtx_count == 0) {
		uint64_t rtt = n->now_ms - n->unacked_since_ms;
		if (rtt > n->rtt_max_ms)
			n->rtt_max_ms = rtt > 0xffffffffu ? 0xffffffffu : (uint32_t)rtt;
		n->rto_backoff = 0;
	}
	if (ack == n->snd_nxt)
		n->fl &= ~SFO_TF_CWND_LOSS;
}

/* Something arrived that deserves an ACK, which may be delayed (SHLD-18, MUST-40) or ride
 * on data: record it; sfo_finish() adds the pattern. `lo` is the least ACK value that
 * would still acknowledge something new. */
void sfo_owe_ack(const struct sfo_ctx *c, struct sfo_outcome *o)
{
	struct sfo_tcb *n = &o->next;
	if (n->fl & SFO_TF_ACK_OWED)
		return;
	n->fl |= SFO_TF_ACK_OWED;
	n->ack_owed_ms = n->now_ms;
	n->ack_owed_lo = sfo_seq_min(c->t->rcv_nxt + 1, n->rcv_nxt);
	if (!(c->t->fl & SFO_TF_IRS_KNOWN))
		n->ack_owed_lo = n->rcv_nxt;
}

/* <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK> from the outcome's next TCB. A stack that pulled
 * SND.NXT back after a timeout (BSD) may use anything down to SND.UNA. */
struct sfo_pattern *sfo_pat_ack(const struct sfo_ctx *c, struct sfo_outcome *o, sfo_rule_t r,
				uint8_t min)
{
	const struct sfo_tcb *n = &o->next;
	struct sfo_pattern *p = sfo_pat(o, r, SFO_ACK, SFO_SYN | SFO_FIN | SFO_RST, min, 1);
	p->seq_hi = n->snd_nxt;
	p->seq_lo = c->stack || !sfo_synchronized(n->state) ? n->snd_nxt : n->snd_una;
	p->ack_lo = p->ack_hi = n->rcv_nxt;
	p->pf = SFO_PAT_EMIT;
	if (!(n->fl & SFO_TF_ISS_KNOWN))
		p->pf |= SFO_PAT_SEQ_ANY;
	return p;
}

/* A RST at SND.NXT (the user's ABORT or close()); ACK and its field left free. A stack
 * that pulled SND.NXT back after a timeout may use anything down to SND.UNA. */
struct sfo_pattern *sfo_pat_rst(const struct sfo_ctx *c, struct sfo_outcome *o, sfo_rule_t r)
{
	struct sfo_pattern *p = sfo_pat(o, r, SFO_RST, SFO_SYN | SFO_FIN, 1, 1);
	p->seq_lo = p->seq_hi = o->next.snd_nxt;
	if (!c->stack && sfo_synchronized(o->next.state))
		p->seq_lo = o->next.snd_una;
	p->pf = SFO_PAT_EMIT | SFO_PAT_ACK_ANY;
	if (!(o->next.fl & SFO_TF_ISS_KNOWN))
		p->pf |= SFO_PAT_SEQ_ANY;
	return p;
}

/* The reset that refuses segment s (3.5.2): SEQ=SEG.ACK if it had an ACK, else
 * <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>. */
void sfo_refuse(struct sfo_outcome *o, const struct sfo_seg *s, sfo_rule_t r)
{
	struct sfo_pattern *p;
	if (s->flags & SFO_ACK) {
		p = sfo_pat(o, r, SFO_RST, SFO_SYN | SFO_FIN, 1, 1);
		p->seq_lo = p->seq_hi = s->ack;
		p->pf = SFO_PAT_EMIT | SFO_PAT_ACK_ANY;
		return;
	}
	p = sfo_pat(o, r, SFO_RST | SFO_ACK, SFO_SYN | SFO_FIN, 1, 1);
	p->ack_lo = p->ack_hi = s->seq + sfo_seg_space(s);
	p->pf = SFO_PAT_EMIT;
}

/* <SEQ=ISS><ACK=RCV.NXT><CTL=SYN,ACK> */
struct sfo_pattern *sfo_pat_synack(const struct sfo_ctx *c, struct sfo_outcome *o, sfo_rule_t r,
				   uint8_t min)
{
	const struct sfo_tcb *n = &o->next;
	struct sfo_pattern *p = sfo_pat(o, r, SFO_SYN | SFO_ACK, SFO_FIN | SFO_RST, min, 1);
	p->seq_lo = p->seq_hi = n->iss;
	p->ack_lo = p->ack_hi = n->rcv_nxt;
	p->pf = SFO_PAT_EMIT;
	if (!(n->fl & SFO_TF_ISS_KNOWN))
		p->pf |= SFO_PAT_SEQ_ANY;
	/* RFC 7323 2.2: Window Scale in a SYN,ACK only if the SYN carried it */
	if (!(n->fl & SFO_TF_WS_PEER))
		p->pf |= SFO_PAT_NO_WS;
	(void)c;
	return p;
}

/* End of the queued data (the FIN, once CLOSE was called, sits right there). */
static uint32_t data_end(const struct sfo_tcb *n)
{
	return (n->fl & SFO_TF_CLOSE_CALLED) ? n->snd_fin : n->snd_queued;
}

static int has_emit_ack(const struct sfo_outcome *o)
{
	for (unsigned i = 0; i < o->npat; i++)
		if ((o->pat[i].pf & SFO_PAT_EMIT) && (o->pat[i].flags_set & SFO_ACK))
			return 1;
	return 0;
}

/* The first octet of data or FIN that may be resent: SND.UNA, or the octet after the
 * SYN while the SYN (or SYN,ACK) itself is unacknowledged: its sequence number carries
 * no data. */
static uint32_t una_data(const struct sfo_tcb *n)
{
	return n->snd_una == n->iss && n->snd_nxt != n->iss ? n->iss + 1 : n->snd_una;
}

/* Octets of payload every data segment but the last of a burst carries at least: counting
 * segments against this bounds how many a step may hold. Eff.snd.MSS (3.7.1) is
 * min(SendMSS+20, MMS_S) less the headers: the peer's MSS, or the target's own (its SYN
 * shows MMS_S through its MSS option, MMS_R - 20 on the same link), less up to 40 octets
 * of TCP options. Sender SWS avoidance (3.8.6.2.1, MUST-38, rule (3)) also lets a segment
 * of Fs * Max(SND.WND) go, Fs = 1/2. Once the target has retransmitted, PMTU black-hole
 * detection (3.7.2 recommends RFC 2923 and RFC 4821) may have lowered MMS_S as far as the
 * IPv4 minimum MTU of 68 octets allows: 8 octets of payload behind 60 of headers (over
 * IPv6 the 1280-octet minimum MTU bounds it higher; the lower floor serves both, so a
 * stack that shrinks further is never a false divergence). Data queued before the peer's
 * SYN showed its MSS may have been cut at the default send MSS (3.7.1 MUST-15: assume it
 * when no MSS option was received) and go out in those segments unchanged: until SND.NXT
 * passes that data the floor counts from that default. Over IPv6 the default is 1220, the
 * most a segment may then carry; a stack that keeps IPv4's 536 there (lwIP 2.1.3 starts
 * every pcb at 536 whatever the family) sends smaller segments, which exceed nothing, so
 * for the floor the default is 536 over both. */
#define MIN_MTU_PAYLOAD 8

static uint32_t seg_floor(const struct sfo_tcb *n)
{
	uint32_t mss = n->mss ? n->mss : sfo_default_mss(n);
	if (n->mss_self && n->mss_self < mss)
		mss = n->mss_self;
	if (mss == sfo_default_mss(n) && mss > MSS_DEFAULT_IPV4) /* IPv6, no MSS option */
		mss = MSS_DEFAULT_IPV4;
	if ((n->fl & SFO_TF_CUT_EARLY) && sfo_seq_lt(n->snd_nxt, n->early_end) &&
	    mss > MSS_DEFAULT_IPV4)
		mss = MSS_DEFAULT_IPV4;
	uint32_t floor = mss > 40 ? mss - 40 : 1;
	uint32_t half = n->max_snd_wnd / 2 + (n->max_snd_wnd & 1);
	if (half && half < floor)
		floor = half;
	if ((n->fl & SFO_TF_MMS_SHRINK) && floor > MIN_MTU_PAYLOAD)
		floor = MIN_MTU_PAYLOAD;
	return floor;
}

/* How many times one piece of sequence space may go out during this step: once, or in a
 * wait as often as the profile's minimum RTO fits into it (3.8.1: what was first sent
 * during the wait may be retransmitted before it ends). */
uint8_t sfo_wait_copies(const struct sfo_ctx *c)
{
	if (c->ev->kind != SFO_EV_WAIT)
		return 1;
	uint32_t times = c->ev->u.wait_ms / (c->p->rto_min_ms ? c->p->rto_min_ms : 1) + 1;
	return (uint8_t)(times > 255 ? 255 : times);
}

/* A resend may restart at the segment holding SND.UNA: 3.10.7.4 removes from the
 * retransmission queue only segments "entirely acknowledged", so a partly acknowledged
 * one goes out again whole, from up to an MSS below SND.UNA (never below the first data
 * octet); the receiver trims the duplicate octets. */
static uint32_t resend_lo(const struct sfo_tcb *n, uint32_t una)
{
	uint32_t mss = n->mss ? n->mss : sfo_default_mss(n);
	uint32_t first = n->iss + 1;
	if (una == first || (uint32_t)(una - first) < mss)
		return sfo_seq_lt(first, una) ? first : una;
	return una - (mss - 1);
}

/* The same for a segment that carries the FIN: when every data octet is acknowledged and
 * only the FIN is not, the segment the FIN rides on is still not "entirely acknowledged"
 * (3.10.7.4) and may go out whole, up to a full MSS of data before the FIN (lwIP adds
 * the FIN to the last queued segment, which an ACK of its data does not free). */
static uint32_t fin_resend_lo(const struct sfo_tcb *n, uint32_t una)
{
	uint32_t mss = n->mss ? n->mss : sfo_default_mss(n);
	uint32_t first = n->iss + 1;
	if (una != n->snd_fin)
		return resend_lo(n, una);
	if (!sfo_seq_gt(una, first))
		return una;
	return (uint32_t)(una - first) < mss ? first : una - mss;
}

/* The ACK field of data or a FIN sent while a segment is processed. RFC 9293 3.10.7.4
 * takes the ACK (fifth check) before the text (seventh) and the FIN (eighth): data or a
 * FIN that the ACK releases (a window that opens, recovery after a timeout) may leave
 * before the segment's text or FIN is taken, carrying the RCV.NXT of that moment. An
 * acknowledgment is cumulative (3.4), so one that is not the newest acknowledges less,
 * never something false; the newest is still owed (sfo_owe_ack: ack_owed_lo lies above
 * the older value, so such a segment does not stand for the owed ACK). Oracle mode only:
 * the model as a stack acknowledges everything at once. */
static uint32_t tx_ack_lo(const struct sfo_ctx *c, const struct sfo_tcb *n)
{
	const struct sfo_tcb *t = c->t;
	if (!c->stack && c->ev->kind == SFO_EV_SEGMENT && (t->fl & SFO_TF_IRS_KNOWN) &&
	    sfo_synchronized(t->state) && sfo_seq_lt(t->rcv_nxt, n->rcv_nxt))
		return t->rcv_nxt;
	return n->rcv_nxt;
}

/* New data the target may send now: inside the peer's window, within what was queued,
 * at most an MSS per segment; after a segment arrives, in-flight data may also be resent
 * (fast retransmit). Returns the end of the data stack mode emits (snd_nxt if none). */
static uint32_t tx_data(struct sfo_ctx *c, struct sfo_outcome *o)
{
	const struct sfo_tcb *n = &o->next;
	uint32_t dend = data_end(n);
	uint32_t sent = sfo_seq_min(n->snd_nxt, dend);
	uint32_t lim = sfo_seq_min(dend, sfo_seq_max(n->snd_una + n->snd_wnd, sent));
	uint32_t una = una_data(n);
	int resend = !c->stack && c->ev->kind == SFO_EV_SEGMENT && sfo_seq_lt(una, sent);
	uint32_t lo = resend ? resend_lo(n, una) : n->snd_nxt;
	uint32_t mss = n->mss ? n->mss : sfo_default_mss(n);
	if (!sfo_seq_gt(lim, lo) || (sfo_seq_ge(n->snd_nxt, dend) && !resend))
		return n->snd_nxt;
	uint32_t room = lim - lo, nseg = room / (c->stack ? mss : seg_floor(n)) + 2;
	if (!c->stack)
		nseg *= sfo_wait_copies(c);
	int due = c->data_due && sfo_seq_gt(lim, n->snd_nxt);
	struct sfo_pattern *p =
	    sfo_pat(o, due ? SFO_R_SEND_DATA_OVERRIDE : SFO_R_SEND_DATA, SFO_ACK,
		    SFO_SYN | SFO_RST | SFO_FIN, due, (uint8_t)(nseg > 255 ? 255 : nseg));
	p->seq_lo = lo;
	p->seq_hi = lim - 1;
	p->ack_lo = tx_ack_lo(c, n);
	p->ack_hi = n->rcv_nxt;
	p->len_lo = 1;
	p->len_hi = room < mss ? room : mss;
	p->pf = SFO_PAT_WITHIN;
	if (!c->stack || !sfo_seq_gt(lim, n->snd_nxt))
		return n->snd_nxt;
	/* stack mode: one segment of min(queued, window, MSS) from SND.NXT */
	uint32_t len = lim - n->snd_nxt;
	if (len > mss)
		len = mss;
	p->len_lo = len;
	p->pf |= SFO_PAT_EMIT;
	return n->snd_nxt + len;
}

/* A FIN sent and not yet acknowledged may go again when a segment arrives, without
 * waiting for a wait step: after a duplicate ACK (3.8.1 MUST-19: RFC 5681 3.2 fast
 * retransmit; RFC 5827 lowers the threshold when little is outstanding), or once the
 * retransmission timer may have expired (3.8.1) while the window or the congestion window
 * held the resend back. The FIN still sits where CLOSE put it, alone or behind data. */
static void tx_fin_again(struct sfo_ctx *c, struct sfo_outcome *o)
{
	const struct sfo_tcb *n = &o->next, *t = c->t;
	if (c->stack || c->ev->kind != SFO_EV_SEGMENT || !(n->fl & SFO_TF_ISS_KNOWN) ||
	    (n->fl & SFO_TF_FIN_ACKED) || !sfo_seq_lt(n->snd_fin, n->snd_nxt) ||
	    sfo_seq_lt(n->snd_fin, n->snd_una))
		return;
	const struct sfo_seg *s = &c->ev->u.seg;
	int dup = (s->flags & (SFO_ACK | SFO_SYN | SFO_FIN | SFO_RST)) == SFO_ACK && !s->len &&
		  s->ack == t->snd_una;
	int expired = t->now_ms - t->timer_ms + t->timer_slack_ms >= c->p->rto_min_ms;
	if (!dup && !expired)
		return;
	uint32_t una = una_data(n);
	struct sfo_pattern *p = sfo_pat(o, expired ? SFO_R_RTX_ALLOWED : SFO_R_RTX_FAST,
					SFO_FIN | SFO_ACK, SFO_SYN | SFO_RST, 0, 1);
	p->seq_lo = fin_resend_lo(n, una);
	p->seq_hi = n->snd_fin;
	p->ack_lo = tx_ack_lo(c, n);
	p->ack_hi = n->rcv_nxt;
	p->len_hi = n->snd_fin - p->seq_lo;
	p->pf = SFO_PAT_WITHIN;
}

/* Our FIN, after CLOSE: required once every queued octet is out and the peer's window
 * has room for it; optional while data is still unsent, and while a retransmission has
 * left the congestion window at what is in flight (RFC 5681 3.1: after a timeout the
 * loss window is one segment; the FIN waits for the ACK, which then makes it due). A FIN
 * first sent during a wait may be retransmitted before the wait ends (3.8.1). */
static void tx_fin(struct sfo_ctx *c, struct sfo_outcome *o, uint32_t stack_end)
{
	const struct sfo_tcb *n = &o->next;
	uint32_t dend = data_end(n);
	if (!(n->fl & SFO_TF_CLOSE_CALLED))
		return;
	if (n->fl & SFO_TF_FIN_SENT) {
		tx_fin_again(c, o);
		return;
	}
	int all_sent = n->snd_nxt == dend;
	int room = sfo_seq_lt(dend, n->snd_una + n->snd_wnd);
	int cwnd_full = (n->fl & SFO_TF_CWND_LOSS) && n->snd_una != n->snd_nxt;
	struct sfo_pattern *p =
	    sfo_pat(o, SFO_R_SEND_FIN, SFO_FIN | SFO_ACK, SFO_SYN | SFO_RST,
		    all_sent && room && !cwnd_full, c->stack ? 1 : sfo_wait_copies(c));
	uint32_t una = una_data(n);
	int resend = !c->stack && sfo_seq_lt(una, sfo_seq_min(n->snd_nxt, dend));
	p->seq_lo = resend ? resend_lo(n, una) : n->snd_nxt;
	if (!c->stack && una == n->snd_fin && n->snd_nxt == n->snd_fin)
		p->seq_lo = fin_resend_lo(n, una);
	p->seq_hi = n->snd_fin;
	p->ack_lo = tx_ack_lo(c, n);
	p->ack_hi = n->rcv_nxt;
	p->len_lo = 0;
	p->len_hi = n->snd_fin - p->seq_lo;
	p->pf = SFO_PAT_WITHIN;
	if (!(n->fl & SFO_TF_ISS_KNOWN))
		p->pf |= SFO_PAT_SEQ_ANY;
	if (c->stack && stack_end == dend && room) {
		p->seq_lo = n->snd_fin;
		p->pf |= SFO_PAT_EMIT;
	}
}

/* The owed ACK: optional until the delayed-ACK bound passes in a wait, then required. */
static void tx_owed_ack(struct sfo_ctx *c, struct sfo_outcome *o, int emitted)
{
	struct sfo_tcb *n = &o->next;
	if (!(n->fl & SFO_TF_ACK_OWED))
		return;
	int due = c->ev->kind == SFO_EV_WAIT &&
		  n->now_ms - n->ack_owed_ms >= (uint64_t)c->p->delack_max_ms;
	emitted = emitted || has_emit_ack(o);
	struct sfo_pattern *p = sfo_pat_ack(c, o, SFO_R_ACK_DELAYED, due);
	if (!c->stack)
		p->ack_lo = n->ack_owed_lo;
	/* the ACK may follow data or a FIN sent in the same step (tx_ack_lo: those may carry
	 * the older RCV.NXT), at the SND.NXT they left behind */
	for (unsigned i = 0; !c->stack && i + 1 < o->npat; i++)
		if ((o->pat[i].pf & SFO_PAT_WITHIN) &&
		    sfo_seq_gt(o->pat[i].seq_hi + 1, p->seq_hi))
			p->seq_hi = o->pat[i].seq_hi + 1;
	if ((n->fl & SFO_TF_OOO_GAP) && sfo_seq_gt(n->ooo_hi, n->rcv_nxt))
		p->ack_hi = n->ooo_hi;
	if (emitted)
		p->pf &= (uint8_t)~SFO_PAT_EMIT;
	if (due)
		n->fl &= ~SFO_TF_ACK_OWED;
}

/* A user call that deletes a synchronized TCB (ABORT, close() with unread data) may
 * first let out the ACK it owed (3.8.6.3: the ACK was due anyway), from the numbers it
 * had before; optional, as the TCB may as well go with it. */
static void flush_owed_ack(const struct sfo_ctx *c, struct sfo_outcome *o)
{
	const struct sfo_tcb *t = c->t;
	if (c->stack || c->ev->kind != SFO_EV_CALL || !(t->fl & SFO_TF_ACK_OWED) ||
	    !sfo_synchronized(t->state) || !(t->fl & SFO_TF_ISS_KNOWN))
		return;
	struct sfo_pattern *p =
	    sfo_pat(o, SFO_R_ACK_DELAYED, SFO_ACK, SFO_SYN | SFO_FIN | SFO_RST, 0, 1);
	p->seq_lo = t->snd_una;
	p->seq_hi = t->snd_nxt;
	p->ack_lo = t->ack_owed_lo;
	p->ack_hi = t->rcv_nxt;
}

/* Text from a simultaneous-open SYN that the target may have taken (3.10.7.3 fourth;
 * model_seg.c simopen_unqueue) is pending at RCV.NXT: whatever it sends may acknowledge
 * it, and learn_ack then moves RCV.NXT over it. */
static void syn_q_acks(const struct sfo_ctx *c, struct sfo_outcome *o)
{
	const struct sfo_tcb *n = &o->next;
	uint32_t hi = n->rcv_nxt + n->syn_q_len;
	if (c->stack || !(n->fl & SFO_TF_SYN_QP))
		return;
	for (unsigned i = 0; i < o->npat; i++) {
		struct sfo_pattern *p = &o->pat[i];
		if ((p->flags_set & SFO_ACK) && !(p->flags_set & SFO_RST) &&
		    !(p->pf & SFO_PAT_ACK_ANY) && sfo_seq_lt(p->ack_hi, hi))
			p->ack_hi = hi;
	}
}

/* Complete one outcome: what may be sent on the side, and the observable states. */
static void finish(struct sfo_ctx *c, struct sfo_outcome *o)
{
	struct sfo_tcb *n = &o->next;
	n->step_ms = c->t->now_ms;
	/* text queued from a simultaneous-open SYN is processed by the ACK that reaches
	 * ESTABLISHED (model_seg.c simopen_unqueue); a CLOSE that left SYN-RECEIVED first
	 * took the connection elsewhere: the model lets that text go (the peer resends it) */
	if (sfo_synchronized(n->state) && (n->fl & SFO_TF_SYN_Q)) {
		n->fl &= ~(uint32_t)(SFO_TF_SYN_Q | SFO_TF_SYN_Q_FIN);
		n->syn_q_len = 0;
	}
	if (sfo_synchronized(n->state)) {
		uint32_t end = n->snd_nxt;
		int emitted = 0;
		if (n->fl & (SFO_TF_ISS_KNOWN)) {
			switch (n->state) {
			case SFO_ESTABLISHED:
			case SFO_CLOSE_WAIT:
			case SFO_FIN_WAIT_1:
			case SFO_CLOSING:
			case SFO_LAST_ACK:
				end = tx_data(c, o);
				tx_fin(c, o, end);
				emitted = c->stack && has_emit_ack(o);
				break;
			case SFO_FIN_WAIT_2:
			case SFO_TIME_WAIT:
			case SFO_CLOSED:
			case SFO_LISTEN:
			case SFO_SYN_SENT:
			case SFO_SYN_RECEIVED:
				break;
			}
		}
		tx_owed_ack(c, o, emitted);
		syn_q_acks(c, o);
	} else {
		n->fl &= ~SFO_TF_ACK_OWED;
		flush_owed_ack(c, o);
	}
	o->state_ok = SFO_BIT(n->state);
	/* A passive TCB never accepted leaves the harness's listener open behind it. */
	if (n->state == SFO_CLOSED && (n->fl & SFO_TF_PASSIVE) && !(n->fl & SFO_TF_ACCEPTED))
		o->state_ok |= SFO_BIT(SFO_LISTEN);
	/* A SYN that reopened TIME-WAIT and proves an old duplicate goes back there. */
	if (n->state == SFO_CLOSED && (c->t->fl & SFO_TF_TW_REOPEN))
		o->state_ok |= SFO_BIT(SFO_TIME_WAIT);
}

/* The reading of a TCB whose simultaneous-open text is pending (SFO_TF_SYN_QP) in which
 * the target took that text (3.10.7.3 fourth, then 3.10.7.4 seventh): RCV.NXT past it,
 * queued for the user, and its ACK owed from now on (3.8.6.3, MUST-40: it may be
 * delayed, by up to 0.5 s). */
void sfo_syn_q_taken(const struct sfo_tcb *t, struct sfo_tcb *tk)
{
	uint32_t q = t->syn_q_len;
	*tk = *t;
	tk->fl &= ~SFO_TF_QP_ALL;
	tk->syn_q_len = 0;
	tk->rcv_nxt += q;
	tk->rcv_queued += q;
	tk->rcv_wnd = tk->rcv_wnd > q ? tk->rcv_wnd - q : 0;
	if (!(tk->fl & SFO_TF_ACK_OWED)) {
		tk->fl |= SFO_TF_ACK_OWED;
		tk->ack_owed_ms = tk->now_ms;
		tk->ack_owed_lo = t->rcv_nxt + 1;
	}
}

/* A connection whose listener closed (SFO_TF_ORPHAN) completing its handshake: nobody
 * can take it, so the stack may abort it then (3.10.5: <SEQ=SND.NXT><CTL=RST>, CLOSED)
 * instead of what the outcomes from k on say. */
static void orphan_establish(struct sfo_ctx *c, unsigned k)
{
	const struct sfo_tcb *t = c->t;
	int est = 0;
	if (!(t->fl & SFO_TF_ORPHAN) || t->state != SFO_SYN_RECEIVED ||
	    c->ev->kind != SFO_EV_SEGMENT)
		return;
	for (unsigned i = k; i < c->e->nout; i++)
		est |= sfo_synchronized(c->e->out[i].next.state);
	if (!est)
		return;
	struct sfo_outcome *o = sfo_out_new(c);
	sfo_pat_rst(c, o, SFO_R_ORPHAN_ESTABLISH_ABORT);
	sfo_tcb_to_closed(&o->next);
	o->next.fl &= ~SFO_TF_ORPHAN;
	sfo_set_state(o, SFO_CLOSED, SFO_R_ORPHAN_ESTABLISH_ABORT);
}

/* The outcomes of the event under TCB c->t, appended to c->e and completed. */
static void step_from(struct sfo_ctx *c)
{
	unsigned k = c->e->nout;
	c->data_due = 0;
	switch (c->ev->kind) {
	case SFO_EV_SEGMENT:
		sfo_seg_arrives(c);
		break;
	case SFO_EV_CALL:
		sfo_user_call(c);
		break;
	case SFO_EV_WAIT:
		sfo_wait(c);
		break;
	}
	if (c->e->nout == k)
		sfo_fire(sfo_out_new(c), SFO_R_WAIT_IDLE);
	orphan_establish(c, k);
	for (unsigned i = k; i < c->e->nout; i++)
		finish(c, &c->e->out[i]);
}

void sfo_step_orphan(const struct sfo_tcb *t, const struct sfo_cfg *cfg, struct sfo_expect *e)
{
	struct sfo_ctx c;
	struct sfo_event abort = sfo_ev_call(SFO_CALL_ABORT, 0), idle = sfo_ev_wait(0);
	c.t = t;
	c.cfg = cfg;
	c.p = cfg && cfg->profile ? cfg->profile : sfo_profile_default();
	c.e = e;
	c.stack = cfg && (cfg->flags & SFO_CFG_STACK);
	e->nout = 0;
	e->evclass = SFO_EC_CALL_ABORT;
	/* 3.10.5: aborted as by ABORT (RST from SYN-RECEIVED, ESTABLISHED, CLOSE-WAIT) */
	c.ev = &abort;
	step_from(&c);
	for (unsigned i = 0; i < e->nout; i++)
		sfo_fire(&e->out[i], SFO_R_LISTENER_ORPHAN_ABORT);
	/* 3.10.4: the listener's TCB alone is deleted; the connection lives on, with nobody
	 * to take it */
	unsigned k = e->nout;
	c.ev = &idle;
	step_from(&c);
	for (unsigned i = k; i < e->nout; i++) {
		e->out[i].next.fl |= SFO_TF_ORPHAN;
		sfo_fire(&e->out[i], SFO_R_LISTENER_ORPHAN_KEEP);
	}
	/* or it goes with the listener, without a word */
	struct sfo_outcome *o = sfo_out_new(&c);
	sfo_tcb_to_closed(&o->next);
	sfo_set_state(o, SFO_CLOSED, SFO_R_LISTENER_ORPHAN_DROP);
	finish(&c, o);
}

void sfo_step(const struct sfo_tcb *t, const struct sfo_cfg *cfg, const struct sfo_event *ev,
	      struct sfo_expect *e)
{
	struct sfo_ctx c;
	c.t = t;
	c.cfg = cfg;
	c.p = cfg && cfg->profile ? cfg->profile : sfo_profile_default();
	c.ev = ev;
	c.e = e;
	c.stack = cfg && (cfg->flags & SFO_CFG_STACK);
	e->nout = 0;
	e->evclass = sfo_classify(t, ev);
	step_from(&c);
	/* Simultaneous-open text still pending (model_seg.c simopen_unqueue) and a call or
	 * a wait: the target may have taken that text, and what it does now may show it
	 * (a delayed ACK of the text when the wait runs out, 3.8.6.3; a FIN or data that
	 * acknowledge it; the RST of a CLOSE with the text unread). The pending reading
	 * comes first, so a step that shows nothing keeps the question open; then the
	 * taken one. (A segment is judged under both readings by model_seg.c syn_q_both.) */
	if (!c.stack && ev->kind != SFO_EV_SEGMENT && (t->fl & SFO_TF_SYN_QP) &&
	    sfo_synchronized(t->state)) {
		struct sfo_tcb tk;
		unsigned k = e->nout;
		sfo_syn_q_taken(t, &tk);
		c.t = &tk;
		step_from(&c);
		for (; k < e->nout; k++)
			sfo_fire(&e->out[k], sfo_qp_taken_rule(t));
		c.t = t;
	}
	/* a connection that ends in this step leaves its reason for the user's next calls
	 * (sfo_call_results); one that was CLOSED already keeps what it had */
	for (unsigned k = 0; k < e->nout && t->state != SFO_CLOSED; k++)
		if (e->out[k].next.state == SFO_CLOSED)
			e->out[k].next.closed_err = sfo_closed_err(t, ev, e->out[k].state_rule);
}

/* ---- learning from what the target emitted ---- */

/* The target's SYN shows its ISS: move every send variable from the placeholder. */
void sfo_learn_iss(struct sfo_tcb *t, uint32_t iss)
{
	uint32_t d = iss - t->iss;
	t->iss = iss;
	t->snd_una += d;
	t->snd_nxt += d;
	t->snd_queued += d;
	t->snd_wl2 += d;
	t->early_end += d;
	if (t->fl & SFO_TF_CLOSE_CALLED)
		t->snd_fin += d;
	t->fl |= SFO_TF_ISS_KNOWN;
}

static void learn_space(struct sfo_tcb *t, const struct sfo_seg *s)
{
	uint32_t space = sfo_seg_space(s);
	/* keep-alive garbage below SND.UNA is no transmission; a segment that starts below
	 * SND.UNA but reaches past it is a partly acknowledged one resent whole (3.8.1
	 * lets the sender repacketize or not), and what it carries past SND.UNA, a FIN
	 * included, counts */
	if (!space || !sfo_seq_gt(s->seq + space, t->snd_una))
		return;
	/* the segment left somewhere in [step_ms, now_ms]: the timer it (re)started runs
	 * from then, so the latest start decides when a retransmission is due and the
	 * earliest whether one is early; the RTT bound takes the earliest first send */
	uint64_t slack = t->now_ms - t->step_ms;
	if (sfo_seq_lt(s->seq, t->snd_nxt)) {
		if (t->rtx_count < 255)
			t->rtx_count++;
		if (t->rtx_count > t->rto_backoff)
			t->rto_backoff = t->rtx_count;
		t->timer_ms = t->now_ms;
		t->timer_slack_ms = slack > 0xffffffffu ? 0xffffffffu : (uint32_t)slack;
		/* RFC 5681 3.1 (loss window), 3.2 (fast retransmit): the congestion window
		 * shrinks, possibly to the one segment in flight; 3.7.2: PMTU black-hole
		 * detection may shrink the segments */
		t->fl |= SFO_TF_CWND_LOSS | SFO_TF_MMS_SHRINK;
	} else if (t->snd_una == t->snd_nxt) {
		t->timer_ms = t->now_ms;
		t->unacked_since_ms = t->step_ms;
		t->timer_slack_ms = slack > 0xffffffffu ? 0xffffffffu : (uint32_t)slack;
		t->rtx_count = 0;
	}
	if (sfo_seq_gt(s->seq + space, t->snd_nxt))
		t->snd_nxt = s->seq + space;
	if (s->flags & SFO_FIN) {
		t->fl |= SFO_TF_FIN_SENT;
		if (!(t->fl & SFO_TF_CLOSE_CALLED))
			t->snd_fin = s->seq + s->len; /* a FIN nobody asked for: follow it */
	}
}

static void learn_ack(struct sfo_tcb *t, const struct sfo_seg *s)
{
	if ((t->fl & SFO_TF_SYN_QP) && sfo_synchronized(t->state) &&
	    sfo_seq_gt(s->ack, t->rcv_nxt) && sfo_seq_le(s->ack, t->rcv_nxt + t->syn_q_len)) {
		/* it took the text of the simultaneous-open SYN (3.10.7.3 fourth) */
		t->rcv_queued += t->syn_q_len;
		t->rcv_wnd = t->rcv_wnd > t->syn_q_len ? t->rcv_wnd - t->syn_q_len : 0;
		t->rcv_nxt += t->syn_q_len;
		t->syn_q_len = 0;
		t->fl &= ~SFO_TF_QP_ALL;
	}
	if ((t->fl & SFO_TF_OOO) && sfo_seq_gt(s->ack, t->rcv_nxt) &&
	    sfo_seq_le(s->ack, t->ooo_hi)) {
		/* it held out-of-order data we could not place exactly (SHLD-31) */
		t->rcv_queued += s->ack - t->rcv_nxt;
		t->rcv_nxt = s->ack;
		if (t->rcv_nxt == t->ooo_hi)
			t->fl &= ~(uint32_t)SFO_TF_OOO_ALL;
		else
			t->ooo_lo = sfo_seq_max(t->ooo_lo, t->rcv_nxt);
	}
	if ((t->fl & SFO_TF_ACK_OWED) && sfo_seq_ge(s->ack, t->rcv_nxt))
		t->fl &= ~SFO_TF_ACK_OWED;
	unsigned scale = (s->flags & SFO_SYN) || !(t->fl & SFO_TF_WSCALE) ? 0 : t->rcv_wscale;
	uint32_t wnd = (uint32_t)s->wnd << scale;
	t->rcv_wnd = sfo_seq_fwd(t->rcv_nxt, s->ack + wnd);
	if (wnd > t->rcv_buf)
		t->rcv_buf = wnd;
}

void sfo_observe(struct sfo_tcb *t, const struct sfo_seg *s)
{
	if (t->state == SFO_CLOSED || t->state == SFO_LISTEN || (s->flags & SFO_RST))
		return;
	if (s->flags & SFO_SYN) {
		if (!(t->fl & SFO_TF_ISS_KNOWN))
			sfo_learn_iss(t, s->seq);
		if ((s->opts & SFO_OPT_MSS) && s->mss)
			t->mss_self = s->mss;
		if (s->opts & SFO_OPT_WSCALE) {
			t->fl |= SFO_TF_WS_SELF;
			t->rcv_wscale = s->wscale > 14 ? 14 : s->wscale;
			if (t->fl & SFO_TF_WS_PEER)
				t->fl |= SFO_TF_WSCALE;
		}
		if (s->opts & SFO_OPT_TS) {
			t->fl |= SFO_TF_TS_SELF;
			if (t->fl & SFO_TF_TS_PEER)
				t->fl |= SFO_TF_TS;
		}
	}
	if (!(t->fl & SFO_TF_ISS_KNOWN))
		return;
	learn_space(t, s);
	if (s->flags & SFO_ACK)
		learn_ack(t, s);
	/* the left edge this segment announced (RCV.WUP, for SFO_PF_RCV_WUP) */
	if ((s->flags & SFO_ACK) && (t->fl & SFO_TF_IRS_KNOWN) && sfo_seq_le(s->ack, t->rcv_nxt)) {
		t->rcv_wup = s->ack;
		t->fl |= SFO_TF_WUP_KNOWN;
	}
}

void sfo_commit(struct sfo_tcb *t, const struct sfo_outcome *o, const struct sfo_seg *emitted,
		size_t n)
{
	if (o)
		*t = o->next;
	for (size_t i = 0; emitted && i < n; i++)
		sfo_observe(t, &emitted[i]);
}

/* ---- event classes ---- */

/* Table 6 against the TCB before the event (length counts SYN and FIN). */
int sfo_seg_acceptable(const struct sfo_tcb *t, const struct sfo_seg *s)
{
	uint32_t len = sfo_seg_space(s);
	if (len == 0)
		return t->rcv_wnd ? sfo_seq_in(s->seq, t->rcv_nxt, t->rcv_wnd)
				  : s->seq == t->rcv_nxt;
	if (!t->rcv_wnd)
		return 0;
	return sfo_seq_in(s->seq, t->rcv_nxt, t->rcv_wnd) ||
	       sfo_seq_in(s->seq + len - 1, t->rcv_nxt, t->rcv_wnd);
}

/* A RST is acceptable by its SEG.SEQ alone (3.10.7.4 second, RFC 5961 section 3). */
int sfo_rst_seq_ok(const struct sfo_tcb *t, const struct sfo_seg *s)
{
	return t->rcv_wnd ? sfo_seq_in(s->seq, t->rcv_nxt, t->rcv_wnd) : s->seq == t->rcv_nxt;
}

static enum sfo_evclass classify_seg(const struct sfo_tcb *t, const struct sfo_seg *s)
{
	uint8_t f = s->flags;
	if (f & SFO_RST) {
		if (f & SFO_ACK)
			return SFO_EC_RSTACK;
		if (s->seq == t->rcv_nxt)
			return SFO_EC_RST_EXACT;
		return sfo_rst_seq_ok(t, s) ? SFO_EC_RST_INWIN : SFO_EC_RST_OUTWIN;
	}
	if (f & SFO_SYN)
		return (f & SFO_ACK) ? SFO_EC_SYNACK : SFO_EC_SYN;
	if (f & SFO_FIN)
		return (f & SFO_ACK) ? SFO_EC_FINACK : SFO_EC_FIN;
	if (s->len)
		return sfo_seg_acceptable(t, s) ? SFO_EC_DATA_IN : SFO_EC_DATA_OUT;
	if (f & SFO_ACK) {
		if (sfo_seq_lt(s->ack, t->snd_una))
			return SFO_EC_ACK_OLD;
		if (sfo_seq_gt(s->ack, t->snd_nxt))
			return SFO_EC_ACK_FUTURE;
		return SFO_EC_ACK_OK;
	}
	if (!(f & ~(SFO_PSH | SFO_ECE | SFO_CWR)))
		return SFO_EC_NOFLAGS;
	return SFO_EC_OTHER_SEG;
}

/* Waits are judged against the default profile's figures so the class depends on the TCB
 * and the event only. */
static enum sfo_evclass classify_wait(const struct sfo_tcb *t, uint32_t w)
{
	const struct sfo_profile *p = sfo_profile_default();
	uint64_t tw = t->state == SFO_TIME_WAIT ? t->now_ms - t->timer_ms : 0;
	if (tw + w >= p->msl2_ms)
		return SFO_EC_WAIT_2MSL;
	if (w >= p->rto_min_ms)
		return SFO_EC_WAIT_RTO;
	return SFO_EC_WAIT_SHORT;
}

_Static_assert(SFO_EC_CALL_ABORT - SFO_EC_CALL_LISTEN == SFO_CALL_ABORT - SFO_CALL_LISTEN,
	       "call classes follow SFO_CALLS");

enum sfo_evclass sfo_classify(const struct sfo_tcb *t, const struct sfo_event *ev)
{
	switch (ev->kind) {
	case SFO_EV_SEGMENT:
		return classify_seg(t, &ev->u.seg);
	case SFO_EV_CALL:
		if ((unsigned)ev->u.call.call < SFO_NCALLS)
			return (enum sfo_evclass)(SFO_EC_CALL_LISTEN + ev->u.call.call);
		return SFO_EC_OTHER_SEG;
	case SFO_EV_WAIT:
		return classify_wait(t, ev->u.wait_ms);
	}
	return SFO_EC_OTHER_SEG;
}
