/* synfin agent: performs synfin's user calls with real sockets, beside a sockets-API
 * stack (a kernel in a VM, another network namespace, another machine). synfin sends the
 * stack's frames itself (tap: target); the agent only carries out the calls and reports
 * the connection's state, over the control channel (docs/exec-protocol.md).
 *
 * The socket semantics mirror the linux target's (harness/targets/linux/target_linux.c,
 * its top comment and docs/targets.md) call for call, so that the same kernel gives the
 * same verdicts through either path and a difference between two kernels is the kernels'.
 */
#ifndef SYNFIN_AGENT_H
#define SYNFIN_AGENT_H

#include <stddef.h>
#include <stdint.h>

#include "oracle.h"
#include "scenario.h"
#include "target_linux_priv.h"
#include "wire.h"

/* A call the sockets API refused (the same value as SFH_CALL_REFUSED in target.h). */
#define SFA_REFUSED SFH_LINUX_REFUSED

/* The one connection of a case, as the sockets API holds it. */
struct sfa_sock {
	struct sfh_linux_ns diag; /* only diagfd and seq are used: sock_diag of our netns */
	struct sfh_endpoints ep;
	struct sfh_linux_app app; /* the sockets and the calls on them (target_linux_sock.c) */
	uint32_t cases;
	char err[256];
};

/* 0, or -1 with the reason in s->err. */
int sfa_sock_init(struct sfa_sock *s);
void sfa_sock_fini(struct sfa_sock *s);
/* End the previous case and set up the role's socket on ep (target side local). */
int sfa_sock_reset(struct sfa_sock *s, enum sfh_role role, const struct sfh_endpoints *ep);
/* Passive role: accept if the connection is established (after every injected frame). */
void sfa_sock_poll(struct sfa_sock *s);
/* >= 0 the call's effect (octets for send/receive), SFA_REFUSED, or -1 (s->err). */
int sfa_sock_call(struct sfa_sock *s, enum sfo_call call, uint32_t arg);
/* 0 with *st, or -1 (s->err). */
int sfa_sock_state(struct sfa_sock *s, enum sfo_state *st);

/* The machine set-up the agent does itself when it is a VM's /init or asked to by
 * --setup: interface address, static neighbour entry for the peer, sysctls. */
struct sfa_setup {
	char ifname[16];
	uint32_t addr; /* host order */
	int prefix;
	uint32_t peer; /* host order; 0: no neighbour entry */
	uint8_t peermac[6];
	int have_peermac;
};
int sfa_setup_net(const struct sfa_setup *cfg, char *err, size_t errlen);
/* As PID 1 of a tiny initramfs: mount /proc, /sys, /dev; load the modules listed in
 * /modules.list; read synfin.* from the kernel command line into cfg and *ctl. */
int sfa_init_system(struct sfa_setup *cfg, char *ctl, size_t ctllen, char *err, size_t errlen);
/* Parse "eth0,198.18.0.1/30,198.18.0.2,02:73:79:6e:66:02" (last two optional). */
int sfa_setup_parse(struct sfa_setup *cfg, const char *text);

/* The command: `synfin agent ARGS` and the static synfin-agent binary. */
int sfa_main(int argc, char **argv);

#endif
