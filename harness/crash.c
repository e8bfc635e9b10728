/* Crash identity: assertion text and faulting frames (see crash.h). */
#include <dlfcn.h>
#include <errno.h>
#include <execinfo.h>
#include <link.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ucontext.h>

#include "crash.h"

/* The only mutable state: a print hook and a signal handler take no context. */
static struct sfh_crash *sink;

void sfh_crash_clear(struct sfh_crash *c)
{
	c->line = 0;
	c->file[0] = c->message[0] = c->text[0] = 0;
	c->signo = 0;
	c->npc = 0;
	c->site[0] = c->what[0] = c->frames[0] = 0;
}

struct sfh_crash *sfh_crash_sink(struct sfh_crash *c)
{
	struct sfh_crash *old = sink;
	sink = c;
	return old;
}

static void copy_str(char *dst, size_t cap, const char *src, size_t n)
{
	if (n >= cap)
		n = cap - 1;
	memcpy(dst, src, n);
	dst[n] = 0;
}

/* `Assertion "MSG" failed at line N in FILE`: the format of lwIP's LWIP_PLATFORM_ASSERT
 * (arch.h). The message may itself hold quotes: the last `" failed at line ` ends it. */
void sfh_crash_note_output(const char *text)
{
	static const char head[] = "Assertion \"", mid[] = "\" failed at line ";
	struct sfh_crash *c = sink;
	if (!c || c->line || strncmp(text, head, sizeof head - 1) != 0)
		return;
	const char *msg = text + sizeof head - 1, *end = NULL;
	for (const char *p = strstr(msg, mid); p; p = strstr(p + 1, mid))
		end = p;
	if (!end)
		return;
	char *after;
	unsigned long line = strtoul(end + sizeof mid - 1, &after, 10);
	if (line == 0 || strncmp(after, " in ", 4) != 0)
		return;
	const char *file = after + 4;
	size_t flen = strcspn(file, "\r\n");
	/* the basename: the path is the build tree's ("./src/core/tcp_out.c") */
	for (size_t i = flen; i > 0; i--)
		if (file[i - 1] == '/') {
			flen -= i;
			file += i;
			break;
		}
	copy_str(c->text, sizeof c->text, text, strcspn(text, "\r\n"));
	copy_str(c->message, sizeof c->message, msg, (size_t)(end - msg));
	copy_str(c->file, sizeof c->file, file, flen);
	c->line = (uint32_t)line;
}

/* ---- signals, in an isolated child ---- */

static const int crash_signals[] = {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT};

static uintptr_t context_pc(void *uc)
{
#if defined(__x86_64__)
	return (uintptr_t)((ucontext_t *)uc)->uc_mcontext.gregs[REG_RIP];
#elif defined(__aarch64__)
	return (uintptr_t)((ucontext_t *)uc)->uc_mcontext.pc;
#else
	(void)uc;
	return 0;
#endif
}

void sfh_crash_record(int sig, void *uc)
{
	struct sfh_crash *c = sink;
	if (!c || c->signo)
		return;
	void *buf[SFH_CRASH_FRAMES + 4];
	int n = backtrace(buf, SFH_CRASH_FRAMES + 4), from = -1;
	uintptr_t pc = context_pc(uc);
	for (int i = 0; i < n && from < 0; i++)
		if ((uintptr_t)buf[i] == pc)
			from = i;
	uint32_t k = 0;
	if (from < 0 && pc) /* the unwinder did not pass the trampoline */
		c->pc[k++] = pc;
	for (int i = from < 0 ? n : from; i < n && k < SFH_CRASH_FRAMES; i++)
		c->pc[k++] = (uintptr_t)buf[i];
	c->npc = k;
	c->signo = sig;
}

uintptr_t sfh_crash_context_pc(void *uc)
{
	return context_pc(uc);
}

/* Records the frames, then dies by the signal with its default action. */
static void on_signal(int sig, siginfo_t *si, void *uc)
{
	(void)si;
	sfh_crash_record(sig, uc);
	signal(sig, SIG_DFL);
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, sig);
	sigprocmask(SIG_UNBLOCK, &set, NULL);
	raise(sig);
}

void sfh_crash_warm(void)
{
	static int warm_done;
	void *warm[2];
	if (!warm_done)
		backtrace(warm, 2);
	warm_done = 1;
}

int sfh_crash_handlers_install(void)
{
	static char altstack[64 * 1024]; /* a stack overflow still gets its frames */
	void *warm[2];
	backtrace(warm, 2);
	stack_t ss = {.ss_sp = altstack, .ss_size = sizeof altstack};
	int rc = sigaltstack(&ss, NULL);
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = on_signal;
	sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < sizeof crash_signals / sizeof crash_signals[0]; i++)
		rc |= sigaction(crash_signals[i], &sa, NULL);
	return rc == 0 ? 0 : -1;
}

/* ---- symbolizing ---- */

static const char *base_name(const char *path)
{
	const char *s = path ? strrchr(path, '/') : NULL;
	return s ? s + 1 : path ? path : "?";
}

/* "liblwip.so.0(tcp_write+0x2a4)" when an exported symbol covers pc, else
 * "libslirp.so.0+0x4c5a" (the offset in the module: independent of where it was
 * loaded). A return address is looked up one octet back: a call may be a function's
 * last instruction. Returns 1 if pc is in the C library. */
static int symbolize(uintptr_t pc, int is_return, char *buf, size_t cap)
{
	Dl_info info;
	const ElfW(Sym) *sym = NULL;
	uintptr_t at = is_return && pc ? pc - 1 : pc;
	if (!dladdr1((void *)at, &info, (void **)&sym, RTLD_DL_SYMENT) || !info.dli_fname) {
		snprintf(buf, cap, "0x%lx", (unsigned long)pc);
		return 0;
	}
	const char *mod = base_name(info.dli_fname);
	if (!*mod)
		mod = program_invocation_short_name; /* the executable, as dladdr names it */
	uintptr_t s = (uintptr_t)info.dli_saddr;
	if (info.dli_sname && sym && at >= s && at < s + sym->st_size)
		snprintf(buf, cap, "%s(%s+0x%lx)", mod, info.dli_sname, (unsigned long)(pc - s));
	else
		snprintf(buf, cap, "%s+0x%lx", mod,
			 (unsigned long)(pc - (uintptr_t)info.dli_fbase));
	return strncmp(mod, "libc.so", 7) == 0;
}

const char *sfh_crash_signame(int signo)
{
	switch (signo) {
	case SIGSEGV:
		return "SIGSEGV";
	case SIGBUS:
		return "SIGBUS";
	case SIGILL:
		return "SIGILL";
	case SIGFPE:
		return "SIGFPE";
	case SIGABRT:
		return "SIGABRT";
	}
	return NULL;
}

void sfh_crash_finish(struct sfh_crash *c)
{
	char frame[160];
	size_t len = 0;
	int sited = 0;
	c->site[0] = c->what[0] = c->frames[0] = 0;
	for (uint32_t i = 0; i < c->npc && i < SFH_CRASH_FRAMES; i++) {
		int in_libc = symbolize(c->pc[i], i > 0, frame, sizeof frame);
		int n = snprintf(c->frames + len, sizeof c->frames - len, "#%u %s\n", i, frame);
		if (n > 0 && (size_t)n < sizeof c->frames - len)
			len += (size_t)n;
		/* A fault inside the C library (memcpy, free's checks) is named by its caller. */
		if (!sited && !in_libc) {
			snprintf(c->site, sizeof c->site, "%s", frame);
			sited = 1;
		}
	}
	if (c->line) {
		snprintf(c->site, sizeof c->site, "%s:%u", c->file, c->line);
		snprintf(c->what, sizeof c->what, "%s", c->message);
	} else if (sited && c->signo) {
		const char *name = sfh_crash_signame(c->signo);
		if (name)
			snprintf(c->what, sizeof c->what, "%s", name);
		else
			snprintf(c->what, sizeof c->what, "signal %d", c->signo);
	} else {
		c->site[0] = 0;
	}
}

int sfh_crash_has_site(const struct sfh_crash *c)
{
	return c->site[0] != 0;
}
