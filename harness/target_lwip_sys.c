/* lwIP's "system" side, played by synfin: one-time init, ownership, the virtual clock
 * (sys_now) and deterministic ISNs (tcp_next_iss). See target_lwip.h.
 *
 * Both overrides work because Debian's liblwip.so calls sys_now (13 call sites) and
 * tcp_next_iss (tcp_connect, tcp_listen_input) through its PLT (objdump -d shows
 * `call <sys_now@plt>` and `call <tcp_next_iss@plt>`), and the linker exports these
 * executable definitions because the library references them.
 *
 * Timers: lwIP's own sys_check_timeouts() is never called. It would start tcp_tmr at the
 * moment a pcb first needs it, so the timer phase would depend on earlier cases; here
 * tcp_tmr runs on a fixed grid instead (see sfh_lwip_advance). The other cyclic timers
 * lwIP registers (IP reassembly, ARP, IGMP, ND6...) concern nothing synfin sends.
 */
#include "lwip/init.h"
#include "lwip/priv/tcp_priv.h"
#include "lwip/sys.h"
#include "lwip/tcp.h"

#include "target_lwip.h"

#define SFH_LWIP_TICK_MS  TCP_TMR_INTERVAL /* 250 ms */
#define SFH_LWIP_ISS_STEP 64000u

/* The only mutable state of this file. lwIP's callbacks into the system layer (sys_now,
 * tcp_next_iss) take no context pointer, and lwIP itself is one global instance, so its
 * clock, timer phase and ISN sequence are process-wide as well. */
static struct {
	int inited;	    /* lwip_init() done (it must run once per process) */
	const void *owner;  /* who drives lwIP now, or NULL */
	uint64_t now_ms;    /* virtual clock */
	uint64_t case_t0;   /* now_ms when the current case started */
	uint32_t tmr_calls; /* tcp_tmr() calls so far: mirrors lwIP's static tcp_timer */
	uint32_t iss;	    /* next ISN handed out */
	int slow_time;	    /* step every tick even where a jump is provably the same */
} glue;

u32_t sys_now(void)
{
	return (u32_t)glue.now_ms;
}

/* tcp_connect() numbers its SYN tcp_next_iss() - 1 (snd_lbb = iss - 1), while
 * tcp_listen_input() numbers the SYN-ACK tcp_next_iss(); a connecting pcb is still
 * CLOSED when asked. Add one there, so the ISN on the wire is the configured one. */
u32_t tcp_next_iss(struct tcp_pcb *pcb)
{
	uint32_t iss = glue.iss;
	glue.iss += SFH_LWIP_ISS_STEP;
	return pcb && pcb->state == CLOSED ? iss + 1 : iss;
}

int sfh_lwip_claim(const void *owner)
{
	if (glue.owner && glue.owner != owner)
		return -1;
	if (!glue.inited) {
		lwip_init();
		glue.inited = 1;
	}
	glue.owner = owner;
	return 0;
}

void sfh_lwip_release(const void *owner)
{
	if (glue.owner == owner)
		glue.owner = NULL;
}

static int timers_idle(void)
{
	return tcp_active_pcbs == NULL && tcp_tw_pcbs == NULL;
}

static void tick(void)
{
	tcp_tmr();
	glue.tmr_calls++;
}

/* tcp_tmr() runs tcp_slowtmr() when its call count becomes odd. Keep the invariant
 * tmr_calls == now_ms / 250 (mod 2), so the call at grid tick k runs the slow timer
 * exactly when k is odd. Only called while no pcb needs timers, where an extra call
 * merely counts. */
static void fix_phase(void)
{
	if ((glue.tmr_calls & 1u) != (uint32_t)((glue.now_ms / SFH_LWIP_TICK_MS) & 1u))
		tick();
}

void sfh_lwip_case_start(uint32_t iss)
{
	uint64_t step = 2 * SFH_LWIP_TICK_MS;
	glue.now_ms = (glue.now_ms + step - 1) / step * step;
	fix_phase();
	glue.case_t0 = glue.now_ms;
	glue.iss = iss;
}

/* 2MSL as tcp_slowtmr counts it: a TIME-WAIT pcb goes in the first slow-timer call
 * after which tcp_ticks - pcb->tmr exceeds this. */
#define SFH_LWIP_TW_LIMIT ((uint32_t)(2 * TCP_MSL / TCP_SLOW_INTERVAL))

/* Ticks, starting with the next one, that may be jumped over while only TIME-WAIT pcbs
 * exist (at most `ticks`; always even). Such a tick does nothing observable: tcp_fasttmr
 * walks only the active list, and tcp_slowtmr increments tcp_ticks and tcp_timer_ctr
 * (a re-entrancy marker compared only within one call) and removes TIME-WAIT pcbs
 * whose 2MSL is over. So the jump may cover every slow call before the first removal.
 * Even, so lwIP's own tcp_timer (static: it picks the slow ticks) keeps its parity
 * with the grid: of any 2m consecutive ticks exactly m run tcp_slowtmr. */
static uint64_t tw_quiet_ticks(uint64_t ticks)
{
	uint32_t need = SFH_LWIP_TW_LIMIT + 1; /* slow calls up to the first removal */
	for (struct tcp_pcb *p = tcp_tw_pcbs; p; p = p->next) {
		uint32_t n = p->tmr + SFH_LWIP_TW_LIMIT + 1 - tcp_ticks;
		if (n == 0 || n > SFH_LWIP_TW_LIMIT + 1)
			n = 1; /* not as expected: jump nothing */
		if (n < need)
			need = n;
	}
	uint64_t m = need - 1;
	if (2 * m > ticks)
		m = ticks / 2;
	return 2 * m;
}

void sfh_lwip_set_slow_time(int on)
{
	glue.slow_time = on;
}

void sfh_lwip_advance(uint32_t ms)
{
	uint64_t end = glue.now_ms + ms;
	for (;;) {
		uint64_t next = (glue.now_ms / SFH_LWIP_TICK_MS + 1) * SFH_LWIP_TICK_MS;
		if (next > end)
			break;
		if (!glue.slow_time && tcp_active_pcbs == NULL && tcp_tw_pcbs != NULL) {
			uint64_t k = glue.now_ms / SFH_LWIP_TICK_MS;
			uint64_t skip = tw_quiet_ticks(end / SFH_LWIP_TICK_MS - k);
			if (skip) {
				glue.now_ms = (k + skip) * SFH_LWIP_TICK_MS;
				tcp_ticks += (u32_t)(skip / 2);
				continue;
			}
		}
		if (timers_idle()) {
			/* Nothing can fire: jump to the last tick in range, keeping the phase. */
			glue.now_ms = end / SFH_LWIP_TICK_MS * SFH_LWIP_TICK_MS;
			fix_phase();
			break;
		}
		glue.now_ms = next;
		tick();
	}
	glue.now_ms = end;
}

uint64_t sfh_lwip_case_ms(void)
{
	return glue.now_ms - glue.case_t0;
}
