/* lwIP's "system" side, played by synfin: one-time init, ownership, the virtual clock
 * (sys_now), deterministic ISNs (tcp_next_iss) and single-threaded locking
 * (sys_arch_protect/unprotect, sys_check_core_locking). See target_lwip.h.
 *
 * The overrides work because Debian's liblwip.so calls these through its PLT (objdump -d
 * shows `call <sys_now@plt>` at 13 sites, `call <tcp_next_iss@plt>` in tcp_connect and
 * tcp_listen_input, and sys_arch_protect, sys_arch_unprotect and sys_check_core_locking
 * at 32, 38 and 85 sites), and the linker exports these executable definitions because
 * the library references them.
 *
 * Timers: lwIP's own sys_check_timeouts() is never called. It would start tcp_tmr at the
 * moment a pcb first needs it, so the timer phase would depend on earlier cases; here
 * tcp_tmr runs on a fixed grid instead (see sfh_lwip_advance). The other cyclic timers
 * lwIP registers (IP reassembly, ARP, IGMP, ND6...) concern nothing synfin sends.
 */
#include <dlfcn.h>
#include <link.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "lwip/init.h"
#include "lwip/netif.h"
#include "lwip/priv/tcp_priv.h"
#include "lwip/sys.h"
#include "lwip/tcp.h"

#include "crash.h"
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
	int iss_own;	    /* hand ISNs back to lwIP's own generator (the ISN check) */
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
	if (glue.iss_own) {
		/* liblwip.so's own definition, the one this executable's shadows */
		u32_t (*own)(struct tcp_pcb *) =
		    (u32_t(*)(struct tcp_pcb *))dlsym(RTLD_NEXT, "tcp_next_iss");
		if (own)
			return own(pcb);
	}
	uint32_t iss = glue.iss;
	glue.iss += SFH_LWIP_ISS_STEP;
	return pcb && pcb->state == CLOSED ? iss + 1 : iss;
}

/* lwIP's critical sections (SYS_LIGHTWEIGHT_PROT) and its core-locking check. The
 * distribution's port takes a recursive pthread mutex on every pbuf and memory
 * operation and checks the calling thread on every API call; synfin drives lwIP from one
 * thread only (sfh_lwip_claim: one owner at a time, and libFuzzer's -jobs and -fork run
 * processes, not threads), so a section has nothing to exclude and the check nothing to
 * find. Defined here, they take the place of the port's, as sys_now does. */
sys_prot_t sys_arch_protect(void)
{
	return 0;
}

void sys_arch_unprotect(sys_prot_t pval)
{
	(void)pval;
}

void sys_check_core_locking(void)
{
}

/* lwIP registers its TCP timer (tcp_timer_needed: a heap node inserted into the
 * sys_timeouts list, and a static "active" flag) when the first pcb appears. Nothing
 * ever runs that list here (see above), so the registration has no effect, except that
 * it mutates a heap node no snapshot covers: register it once now, while there is no
 * pcb, so that lwIP's globals after this point are all the state there is (see
 * sfh_lwip_snapshot_take). tcp_timer_needed only tests the list head for NULL. */
static void arm_tcp_timer(void)
{
	static struct tcp_pcb dummy;
	struct tcp_pcb *saved = tcp_active_pcbs;
	tcp_active_pcbs = &dummy;
	tcp_timer_needed();
	tcp_active_pcbs = saved;
}

static void hook_print(void);

int sfh_lwip_claim(const void *owner)
{
	if (glue.owner && glue.owner != owner)
		return -1;
	if (!glue.inited) {
		lwip_init();
		arm_tcp_timer();
		hook_print();
		glue.inited = 1;
	}
	glue.owner = owner;
	return 0;
}

void sfh_lwip_release(const void *owner)
{
	if (glue.owner == owner) {
		glue.owner = NULL;
		glue.iss_own = 0;
	}
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

void sfh_lwip_iss_own(int on)
{
	glue.iss_own = on;
}

static void fresh_restore(void);

void sfh_lwip_case_start(uint32_t iss)
{
	uint64_t step = 2 * SFH_LWIP_TICK_MS;
	/* Each case starts as in a fresh process, except under lwip:iss=own: the ISN probe
	 * watches lwIP's own generator across the connections of one instance. */
	if (!glue.iss_own)
		fresh_restore();
	glue.now_ms = (glue.now_ms + step - 1) / step * step;
	fix_phase();
	glue.case_t0 = glue.now_ms;
	glue.iss = iss;
}

/* Timeouts as tcp_slowtmr counts them: a pcb goes in the first slow-timer call after
 * which tcp_ticks - pcb->tmr exceeds the limit (TIME-WAIT and LAST-ACK: 2MSL; FIN-WAIT-2
 * closed for receiving; SYN-RECEIVED). */
#define SFH_LWIP_TW_LIMIT  ((uint32_t)(2 * TCP_MSL / TCP_SLOW_INTERVAL))
#define SFH_LWIP_FW2_LIMIT ((uint32_t)(TCP_FIN_WAIT_TIMEOUT / TCP_SLOW_INTERVAL))
#define SFH_LWIP_SR_LIMIT  ((uint32_t)(TCP_SYN_RCVD_TIMEOUT / TCP_SLOW_INTERVAL))
#define SFH_LWIP_NO_LIMIT  UINT32_MAX

/* Slow-timer calls, starting with the next one, that leave a pcb alone until a timeout
 * measured as tcp_ticks - tmr > limit removes it: the removing call itself excluded. */
static uint32_t calls_before_timeout(const struct tcp_pcb *p, uint32_t limit)
{
	uint32_t n = p->tmr + limit + 1 - tcp_ticks; /* the removing call's number */
	if (n == 0 || n > limit + 1)
		return 0; /* not as expected: jump nothing */
	return n - 1;
}

static uint32_t min32(uint32_t a, uint32_t b)
{
	return a < b ? a : b;
}

/* Flags under which a timer call does something to an active pcb: a delayed or pending
 * ACK (tcp_fasttmr), a FIN to retry, a tcp_output retry after a memory error, an RTO in
 * progress. */
#define LOUD_FLAGS (TF_ACK_DELAY | TF_ACK_NOW | TF_CLOSEPEND | TF_NAGLEMEMERR | TF_RTO)

/* Slow-timer calls, starting with the next one, that provably do nothing observable to
 * an active pcb (SFH_LWIP_NO_LIMIT: any number), or 0.
 *
 * Such a pcb has nothing queued unsent, no persist timer running, no out-of-order or
 * refused data, no keepalive, no poll callback and no flag a timer acts on, and no
 * retransmission limit reached. Then tcp_fasttmr only stamps pcb->last_timer (a
 * re-entrancy marker compared within one call), and tcp_slowtmr stamps it, counts
 * pcb->polltmr round pollinterval (each time it wraps it calls tcp_output, which with
 * nothing unsent and no ACK due returns at once), counts pcb->rtime up if the
 * retransmission timer runs, and tests the state's timeout. The quiet calls end before
 * the one where rtime reaches rto (a retransmission) or the timeout removes the pcb. */
static uint32_t quiet_calls(const struct tcp_pcb *p)
{
	uint32_t n = SFH_LWIP_NO_LIMIT;
	if (p->unsent || p->refused_data || p->persist_backoff || (p->flags & LOUD_FLAGS) ||
	    (p->so_options & SOF_KEEPALIVE) ||
	    p->nrtx >= (p->state == SYN_SENT ? TCP_SYNMAXRTX : TCP_MAXRTX))
		return 0;
#if TCP_QUEUE_OOSEQ
	if (p->ooseq)
		return 0;
#endif
#if TCP_OVERSIZE
	if (p->unsent_oversize)
		return 0;
#endif
#if LWIP_CALLBACK_API
	if (p->poll)
		return 0;
#endif
	if (p->rtime >= 0)
		n = p->rto > p->rtime + 1 ? (uint32_t)(p->rto - p->rtime - 1) : 0;
	switch (p->state) {
	case SYN_SENT:
	case ESTABLISHED:
	case FIN_WAIT_1:
	case CLOSE_WAIT:
	case CLOSING:
		return n;
	case SYN_RCVD:
		return min32(n, calls_before_timeout(p, SFH_LWIP_SR_LIMIT));
	case LAST_ACK:
		return min32(n, calls_before_timeout(p, SFH_LWIP_TW_LIMIT));
	case FIN_WAIT_2:
		return (p->flags & TF_RXCLOSED) ? min32(n, calls_before_timeout(p, SFH_LWIP_FW2_LIMIT))
						: n;
	case CLOSED:
	case LISTEN:
	case TIME_WAIT:
		return 0;
	}
	return 0;
}

/* pcb->polltmr after `calls` more slow-timer calls: each increments it and resets it to
 * 0 when it reaches pollinterval. */
static u8_t polltmr_after(u8_t tmr, u8_t interval, uint64_t calls)
{
	if (calls == 0)
		return tmr;
	if (interval == 0)
		return 0;
	if (tmr >= interval) { /* the first call resets it */
		tmr = 0;
		calls--;
	}
	return (u8_t)((tmr + calls) % interval);
}

/* Ticks, starting with the next one, that may be jumped over (at most `ticks`; always
 * even): every active pcb quiet (above) and every TIME-WAIT pcb short of its 2MSL
 * (tcp_slowtmr only tests tcp_ticks - pcb->tmr for those; tcp_fasttmr does not walk
 * them). Even, so lwIP's own tcp_timer (static: it picks the slow ticks) keeps its
 * parity with the grid: of any 2m consecutive ticks exactly m run tcp_slowtmr. */
static uint64_t quiet_ticks(uint64_t ticks)
{
	uint64_t m = ticks / 2;
	for (struct tcp_pcb *p = tcp_active_pcbs; p && m; p = p->next) {
		uint32_t n = quiet_calls(p);
		if (n < m)
			m = n;
	}
	for (struct tcp_pcb *p = tcp_tw_pcbs; p && m; p = p->next) {
		uint32_t n = calls_before_timeout(p, SFH_LWIP_TW_LIMIT);
		if (n < m)
			m = n;
	}
	return 2 * m;
}

/* Jump `ticks` ticks (even) found quiet by quiet_ticks(): what their timer calls would
 * have changed, changed. */
static void jump_quiet(uint64_t ticks)
{
	uint64_t slow = ticks / 2;
	for (struct tcp_pcb *p = tcp_active_pcbs; p; p = p->next) {
		p->polltmr = polltmr_after(p->polltmr, p->pollinterval, slow);
		if (p->rtime >= 0)
			p->rtime = (s16_t)(p->rtime + (s16_t)slow); /* stays below rto */
	}
	tcp_ticks += (u32_t)slow;
	glue.now_ms += ticks * SFH_LWIP_TICK_MS;
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
		if (!glue.slow_time && (tcp_active_pcbs || tcp_tw_pcbs)) {
			uint64_t k = glue.now_ms / SFH_LWIP_TICK_MS;
			uint64_t skip = quiet_ticks(end / SFH_LWIP_TICK_MS - k);
			if (skip) {
				glue.now_ms = k * SFH_LWIP_TICK_MS;
				jump_quiet(skip);
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

/* ---- snapshot and restore, for recovery from lwIP's assertions ----
 *
 * All of lwIP's mutable state is its library's writable data (.data and .bss) plus heap
 * objects reachable from it: pcbs, segments and pbufs (Debian builds with MEM_LIBC_MALLOC
 * and MEMP_MEM_MALLOC, so each is its own malloc block), the sys_timeouts nodes (fixed
 * after arm_tcp_timer) and the netif (the target's). With no pcb alive, copying the
 * writable segment back therefore returns lwIP to exactly that moment. The heap blocks
 * of the aborted case are unreachable then: lwIP's malloc/calloc/free go through
 * wrappers that keep a list of them (below), and the restore frees them.
 *
 * The writable PT_LOAD segment of liblwip.so starts with its RELRO part (.got etc.,
 * read-only once relocated: BIND_NOW): the copy starts at the page after it. */
struct track {
	struct track *prev, *next;
	uint64_t cls;	/* free-list class (0: the C library's, not cached) */
	uint64_t magic; /* last: right before the block */
};

static struct {
	uint8_t *base; /* lwIP's writable data: [base, base + len) */
	size_t len;
	uint8_t *copy; /* the snapshot, or NULL */
	uintptr_t relro, relro_end; /* lwIP's RELRO pages (its GOT is there) */
	uint32_t tmr_calls;	    /* glue.tmr_calls at the snapshot (tcp_timer's parity) */
	void (*hook)(void *ctx);    /* sfh_lwip_set_abort_hook */
	void *hook_ctx;
	int patched; /* lwIP's abort, malloc, calloc, free slots point to ours */
	struct track live; /* lwIP's live heap blocks since the patch (a ring) */
	size_t nlive;
} snap;

struct seg_probe {
	int found;
	uintptr_t lo, hi, relro, relro_end;
};

static int seg_cb(struct dl_phdr_info *info, size_t size, void *arg)
{
	struct seg_probe *p = arg;
	uintptr_t pg = (uintptr_t)sysconf(_SC_PAGESIZE);
	(void)size;
	/* By name, not by the address of a variable: in a non-PIE executable that address
	 * may be the executable's copy (refused below). */
	const char *base = info->dlpi_name ? strrchr(info->dlpi_name, '/') : NULL;
	base = base ? base + 1 : info->dlpi_name;
	if (!base || strncmp(base, "liblwip.so", 10) != 0)
		return 0;
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		uintptr_t lo = info->dlpi_addr + ph->p_vaddr, hi = lo + ph->p_memsz;
		if (ph->p_type != PT_LOAD || !(ph->p_flags & PF_W))
			continue;
		p->found = 1;
		p->lo = lo;
		p->hi = hi;
		for (int k = 0; k < info->dlpi_phnum; k++) {
			const ElfW(Phdr) *r = &info->dlpi_phdr[k];
			if (r->p_type != PT_GNU_RELRO)
				continue;
			/* the loader protects whole pages: [start, end) rounded down */
			p->relro = (info->dlpi_addr + r->p_vaddr) / pg * pg;
			p->relro_end = (info->dlpi_addr + r->p_vaddr + r->p_memsz) / pg * pg;
		}
		return 1;
	}
	return 0;
}

/* Where liblwip's writable data and RELRO pages are (snap.base, len, relro). 0, or -1. */
static int probe_layout(void)
{
	struct seg_probe p = {0};
	dl_iterate_phdr(seg_cb, &p);
	if (!p.found)
		return -1;
	uintptr_t lo = p.lo > p.relro_end ? p.lo : p.relro_end;
	snap.base = (uint8_t *)lo;
	snap.len = p.hi - lo;
	snap.relro = p.relro;
	snap.relro_end = p.relro_end;
	return 0;
}

static int in_data(const volatile void *a)
{
	uintptr_t x = (uintptr_t)a;
	return x >= (uintptr_t)snap.base && x < (uintptr_t)snap.base + snap.len;
}

/* lwIP's assertions end in printf, fflush(NULL), abort() (LWIP_PLATFORM_ASSERT): its
 * abort slot points here. Unhooked it is abort(). */
static _Noreturn void lwip_abort(void)
{
	void (*fn)(void *) = snap.hook;
	if (fn) {
		snap.hook = NULL;
		fn(snap.hook_ctx); /* does not return */
	}
	abort();
}

/* lwIP's heap blocks, tracked so that a restore can free those of the aborted case: its
 * malloc, calloc and free slots point to these. A block carries a header; the magic
 * sits right before the block, where a block from the C library's own malloc has its
 * chunk size, so free() tells the two apart (lwIP frees none from before the patch:
 * the only ones, its timeout nodes, live for ever).
 *
 * A case allocates and frees the same few sizes over and over (pcbs, segments, pbufs of
 * one MSS), so freed blocks up to CACHE_MAX octets are kept on per-size free lists
 * (classes of CACHE_STEP octets, at most CACHE_KEEP blocks each) and handed out again,
 * which saves the C library's malloc its bookkeeping on every one. */
#define TRACK_MAGIC 0x5346484c57495041ull
#define CACHE_STEP  64u
#define CACHE_MAX   4096u
#define CACHE_NCLS  (CACHE_MAX / CACHE_STEP)
#define CACHE_KEEP  256u

static struct {
	struct track *head[CACHE_NCLS + 1]; /* by class: (size + CACHE_STEP - 1) / CACHE_STEP */
	uint32_t n[CACHE_NCLS + 1];
} cache;

static void *lwip_malloc(size_t n)
{
	struct track *h;
	size_t cls = n <= CACHE_MAX ? (n + CACHE_STEP - 1) / CACHE_STEP : 0;
	if (cls && cache.head[cls]) {
		h = cache.head[cls];
		cache.head[cls] = h->next;
		cache.n[cls]--;
	} else {
		if (n > SIZE_MAX - sizeof(struct track))
			return NULL;
		h = malloc(sizeof *h + (cls ? cls * CACHE_STEP : n));
		if (!h)
			return NULL;
	}
	h->magic = TRACK_MAGIC;
	h->cls = cls;
	h->prev = &snap.live;
	h->next = snap.live.next;
	h->next->prev = h;
	snap.live.next = h;
	snap.nlive++;
	return h + 1;
}

static void *lwip_calloc(size_t k, size_t n)
{
	if (n && k > SIZE_MAX / n)
		return NULL;
	void *p = lwip_malloc(k * n);
	if (p)
		memset(p, 0, k * n);
	return p;
}

/* A tracked block, unlinked: back to its free list, or to the C library. */
static void release(struct track *h)
{
	size_t cls = (size_t)h->cls;
	h->magic = 0;
	if (cls && cls <= CACHE_NCLS && cache.n[cls] < CACHE_KEEP) {
		h->next = cache.head[cls];
		cache.head[cls] = h;
		cache.n[cls]++;
		return;
	}
	free(h);
}

static void lwip_free(void *p)
{
	if (!p)
		return;
	struct track *h = (struct track *)p - 1;
	if (h->magic != TRACK_MAGIC) {
		free(p); /* from before the patch */
		return;
	}
	h->prev->next = h->next;
	h->next->prev = h->prev;
	snap.nlive--;
	release(h);
}

/* Find the one slot in lwIP's RELRO pages holding each real[i]: slot[i], or NULL with the
 * count found (0, or more than one) in n[i]. */
static void find_slots(int k, const uintptr_t *real, uintptr_t **slot, int *n)
{
	for (int i = 0; i < k; i++) {
		slot[i] = NULL;
		n[i] = 0;
	}
	for (uintptr_t *w = (uintptr_t *)snap.relro; w < (uintptr_t *)snap.relro_end; w++)
		for (int i = 0; i < k; i++)
			if (*w == real[i]) {
				slot[i] = w;
				n[i]++;
			}
	for (int i = 0; i < k; i++)
		if (n[i] != 1)
			slot[i] = NULL;
}

/* Write value[i] into each non-NULL slot[i]: lwIP's RELRO pages are opened for it. */
static int write_slots(int k, uintptr_t **slot, const uintptr_t *value)
{
	size_t len = snap.relro_end - snap.relro;
	if (mprotect((void *)snap.relro, len, PROT_READ | PROT_WRITE) != 0)
		return -1;
	for (int i = 0; i < k; i++)
		if (slot[i])
			*slot[i] = value[i];
	mprotect((void *)snap.relro, len, PROT_READ);
	return 0;
}

/* Point liblwip.so's GOT slots for abort, malloc, calloc and free at the functions above:
 * only lwIP's own calls go there. Each slot is the one word in lwIP's RELRO pages
 * holding that function's address; anything else found there refuses. */
static int patch_slots(char *err, size_t errlen)
{
	static const char *const names[4] = {"abort", "malloc", "calloc", "free"};
	const uintptr_t real[4] = {(uintptr_t)&abort, (uintptr_t)&malloc, (uintptr_t)&calloc,
				   (uintptr_t)&free};
	const uintptr_t mine[4] = {(uintptr_t)&lwip_abort, (uintptr_t)&lwip_malloc,
				   (uintptr_t)&lwip_calloc, (uintptr_t)&lwip_free};
	uintptr_t *slot[4];
	int n[4];
	find_slots(4, real, slot, n);
	for (int i = 0; i < 4; i++)
		if (n[i] != 1) {
			snprintf(err, errlen, "lwip: %d GOT slots for %s() in liblwip (want 1)",
				 n[i], names[i]);
			return -1;
		}
	snap.live.prev = snap.live.next = &snap.live;
	if (write_slots(4, slot, mine) != 0) {
		snprintf(err, errlen, "lwip: mprotect of its RELRO pages failed");
		return -1;
	}
	snap.patched = 1;
	return 0;
}

/* ---- the text of lwIP's assertions ----
 * LWIP_PLATFORM_ASSERT prints `Assertion "MSG" failed at line N in FILE` with printf
 * (__printf_chk in Debian's fortified build), then fflush(NULL) and abort(). lwIP's
 * printf slots point here: the line goes to synfin's crash sink (crash.h), whichever
 * way the abort then ends (an isolated child dies, a fuzz worker recovers), and on to
 * stdout as before. lwIP prints nothing else in Debian's build (no LWIP_DEBUG). */
extern int __printf_chk(int flag, const char *fmt, ...);

static int print_hooked(const char *fmt, va_list ap)
{
	char text[512];
	int n = vsnprintf(text, sizeof text, fmt, ap);
	sfh_crash_note_output(text);
	fputs(text, stdout);
	return n;
}

static int lwip_printf_chk(int flag, const char *fmt, ...)
{
	va_list ap;
	(void)flag;
	va_start(ap, fmt);
	int n = print_hooked(fmt, ap);
	va_end(ap);
	return n;
}

static int lwip_printf(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = print_hooked(fmt, ap);
	va_end(ap);
	return n;
}

/* Once per process, at lwip_init(): a slot found neither way leaves the text uncaught
 * (a crash is then named by its step, as before), nothing worse. */
static void hook_print(void)
{
	const uintptr_t real[2] = {(uintptr_t)&__printf_chk, (uintptr_t)&printf};
	const uintptr_t mine[2] = {(uintptr_t)&lwip_printf_chk, (uintptr_t)&lwip_printf};
	uintptr_t *slot[2];
	int n[2];
	if ((!snap.base && probe_layout() != 0) || !snap.relro_end)
		return;
	find_slots(2, real, slot, n);
	write_slots(2, slot, mine);
}

/* Find lwIP's writable data (once per process) and check that every variable synfin
 * touches is lwIP's own copy, not one the executable holds by copy relocation (a non-PIE
 * build): that copy would not be restored. */
static int locate_data(char *err, size_t errlen)
{
	if (!snap.base && probe_layout() != 0) {
		snprintf(err, errlen, "lwip: liblwip's writable segment not found");
		return -1;
	}
	if (!in_data(&tcp_active_pcbs) || !in_data(&tcp_tw_pcbs) || !in_data(&tcp_bound_pcbs) ||
	    !in_data(&tcp_listen_pcbs) || !in_data(&tcp_ticks) || !in_data(&netif_list) ||
	    !in_data(&netif_default)) {
		snprintf(err, errlen, "lwip: lwIP's globals are not all in its data segment");
		return -1;
	}
	return 0;
}

static int no_pcb(void)
{
	return !tcp_active_pcbs && !tcp_tw_pcbs && !tcp_bound_pcbs && !tcp_listen_pcbs.listen_pcbs;
}

int sfh_lwip_snapshot_take(char *err, size_t errlen)
{
	if (!glue.inited || !no_pcb()) {
		snprintf(err, errlen, "lwip: a snapshot needs lwIP initialised and no pcb");
		return -1;
	}
	if (locate_data(err, errlen) != 0)
		return -1;
	if (!snap.patched && patch_slots(err, errlen) != 0)
		return -1;
	if (snap.nlive) {
		/* A restore frees every tracked block: none may belong to the snapshot. */
		snprintf(err, errlen, "lwip: %zu heap blocks alive with no pcb", snap.nlive);
		return -1;
	}
	if (!snap.copy && !(snap.copy = malloc(snap.len))) {
		snprintf(err, errlen, "lwip: out of memory");
		return -1;
	}
	memcpy(snap.copy, snap.base, snap.len);
	snap.tmr_calls = glue.tmr_calls;
	return 0;
}

void sfh_lwip_snapshot_drop(void)
{
	free(snap.copy);
	snap.copy = NULL;
	snap.hook = NULL;
}

int sfh_lwip_snapshot_restore(void)
{
	if (!snap.copy)
		return -1;
	memcpy(snap.base, snap.copy, snap.len);
	glue.tmr_calls = snap.tmr_calls;
	/* Nothing refers to the aborted case's blocks any more: they were all allocated
	 * since the snapshot, and lwIP's globals are back to it. */
	while (snap.live.next != &snap.live) {
		struct track *h = snap.live.next;
		snap.live.next = h->next;
		release(h);
	}
	snap.live.prev = &snap.live;
	snap.nlive = 0;
	return 0;
}

size_t sfh_lwip_snapshot_size(void)
{
	return snap.copy ? snap.len : 0;
}

void sfh_lwip_set_abort_hook(void (*fn)(void *ctx), void *ctx)
{
	snap.hook_ctx = ctx;
	snap.hook = snap.copy ? fn : NULL;
}

void sfh_lwip_abort_now(void)
{
	void (*fn)(void *) = snap.hook;
	if (fn) {
		snap.hook = NULL;
		fn(snap.hook_ctx); /* does not return */
	}
}

/* ---- the same lwIP at every case start ----
 *
 * lwIP's globals carry state from one case to the next although no pcb survives: the
 * tick counter tcp_ticks (a pcb's RTT sample starts at rttest = tcp_ticks, and lwIP
 * reads rttest 0 as "no sample running", so in the first 500 ms of a process no RTT is
 * measured and the RTO, hence every retransmission, differs from later cases), the
 * timer counters, the IP ident. So the lwIP data segment as it was right after the
 * target was set up (no pcb) is kept, and copied back, with the clock and timer
 * phase of that moment, whenever a case starts: every case, first in a process or
 * ten-thousandth, starts from the state a fresh process starts from. The heap needs
 * nothing: no block is alive with no pcb. */
static struct {
	uint8_t *copy; /* lwIP's writable data at sfh_lwip_fresh_take, or NULL */
	uint64_t now_ms;
	uint32_t tmr_calls;
} fresh;

int sfh_lwip_fresh_take(char *err, size_t errlen)
{
	if (!glue.inited || !no_pcb()) {
		snprintf(err, errlen, "lwip: a fresh state needs lwIP initialised and no pcb");
		return -1;
	}
	if (locate_data(err, errlen) != 0)
		return -1;
	if (!fresh.copy && !(fresh.copy = malloc(snap.len))) {
		snprintf(err, errlen, "lwip: out of memory");
		return -1;
	}
	memcpy(fresh.copy, snap.base, snap.len);
	fresh.now_ms = glue.now_ms;
	fresh.tmr_calls = glue.tmr_calls;
	return 0;
}

static void fresh_restore(void)
{
	if (fresh.copy && no_pcb()) {
		memcpy(snap.base, fresh.copy, snap.len);
		glue.now_ms = fresh.now_ms;
		glue.tmr_calls = fresh.tmr_calls;
	}
}

void sfh_lwip_fresh_drop(void)
{
	free(fresh.copy);
	fresh.copy = NULL;
}
