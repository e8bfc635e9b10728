/* The tap target's private seam: the namespace, its TAP device, the frame path and the
 * process beside the stack (tap_ns.c), used by the vtable in target_tap.c. */
#ifndef SYNFIN_TARGET_TAP_PRIV_H
#define SYNFIN_TARGET_TAP_PRIV_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Addresses on the TAP link: 198.18.0.0/15 is reserved for benchmarking (RFC 2544), never
 * routed; the /30 holds exactly the stack under test (.1) and synfin (.2). The MACs are
 * locally administered (02:...) and spell "synf". */
#define SFH_TAP_TARGET_IP 0xc6120001u /* 198.18.0.1 */
#define SFH_TAP_PEER_IP	  0xc6120002u /* 198.18.0.2 */
#define SFH_TAP_PREFIX	  30
#define SFH_TAP_IFNAME	  "synfin-tap0"
#define SFH_TAP_CTL_FD	  3 /* the control channel's descriptor in the child */
static const uint8_t sfh_tap_target_mac[6] = {0x02, 0x73, 0x79, 0x6e, 0x66, 0x01};
static const uint8_t sfh_tap_peer_mac[6] = {0x02, 0x73, 0x79, 0x6e, 0x66, 0x02};

/* Who holds the TAP device's file descriptor (the "wire" end). */
enum sfh_tap_mode {
	/* synfin holds it; the namespace's own kernel is the stack, and its interface is
	 * the device; `synfin agent` runs in the namespace and makes the calls. */
	SFH_TAP_KERNEL,
	/* the stack attaches to the device by name (QEMU -netdev tap, a tapif driver);
	 * synfin sends and receives on the device's interface side (AF_PACKET). */
	SFH_TAP_ATTACH
};

struct sfh_tap_ns {
	enum sfh_tap_mode mode;
	int nsfd;   /* the namespace: for setns() in the child */
	int wirefd; /* TAP fd (KERNEL) or AF_PACKET socket (ATTACH); non-blocking */
	int ctlfd;  /* synfin's end of the control channel (a socketpair) */
	pid_t pid;  /* the child (agent or command), 0 when none */
};

/* Create the namespace and the device for mode. 0, or -1 with why in err; nothing is left
 * behind on failure. */
int sfh_tap_ns_open(struct sfh_tap_ns *ns, enum sfh_tap_mode mode, char *err, size_t errlen);
/* Start argv (execv; or, if shell is set, `/bin/sh -c shell`) inside the namespace with
 * the control channel as descriptor 3, env SYNFIN_* describing the link, its stdout sent
 * to stderr, and SIGKILL when synfin dies (a command with everything it started: it runs
 * as PID 1 of its own PID namespace). 0, or -1 with why in err. */
int sfh_tap_ns_spawn(struct sfh_tap_ns *ns, char *const argv[], const char *shell, char *err,
		     size_t errlen);
/* The child's end: SIGKILL after grace_ms unless it exited by itself; reaped. Writes its
 * wait status to *status if not NULL (-1 if there was no child). */
void sfh_tap_ns_stop(struct sfh_tap_ns *ns, int grace_ms, int *status);
/* Has the child exited? 1 and its status in *status (reaped), 0 running. */
int sfh_tap_ns_exited(struct sfh_tap_ns *ns, int *status);
/* Close everything; the kernel then destroys the device and the namespace. Idempotent. */
void sfh_tap_ns_close(struct sfh_tap_ns *ns);

/* One Ethernet frame from the wire into buf, non-blocking: its length, 0 if none, -1. */
ssize_t sfh_tap_read(struct sfh_tap_ns *ns, uint8_t *buf, size_t cap);
/* One Ethernet frame onto the wire. 0, or -1. */
int sfh_tap_write(struct sfh_tap_ns *ns, const uint8_t *frame, size_t len);

#endif
