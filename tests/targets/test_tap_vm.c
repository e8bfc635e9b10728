/* Another kernel in a VM through tap:cmd=: QEMU (TCG) boots Debian's linux-image-amd64
 * (6.1 LTS) with a tiny initramfs whose /init is the static synfin-agent, attaches to the
 * target's TAP by name, and three seeds run against it: the passive handshake and a
 * close sequence conform, and the ACK of unsent data shows the difference from newer
 * kernels found with it (6.1 drops the segment without the ACK RFC 9293 §3.10.7.4
 * requires; docs/tap.md). Every seed runs against the guest, not the host: the agent
 * reports the guest's kernel release.
 *
 * Budget: one boot (5-10 s of TCG on this machine from the uncompressed vmlinux, 12-20 s
 * from the bzImage) plus three cases; the boot is
 * bounded by boot= (90 s) and the test fails beyond it. The kernel is fetched once with
 * tools/vm/fetch-kernel.sh (apt-get download + dpkg -x, nothing installed) into
 * $SYNFIN_VM_DIR or <build>/vm, and the initramfs is rebuilt from the build's agent.
 * Skipped (77) without root, /dev/net/tun, qemu-system-x86_64 or a reachable Debian
 * archive. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "report.h"
#include "runner.h"
#include "target.h"

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int have_program(const char *name)
{
	char cmd[256];
	snprintf(cmd, sizeof cmd, "command -v %s >/dev/null 2>&1", name);
	return system(cmd) == 0;
}

/* Run one seed on t: 0 and *res, or -1. */
static int run_seed(struct sfh_runner *r, struct sfh_target *t, const char *path, uint32_t k,
		    struct sfh_result *res)
{
	char err[512];
	struct sfh_scenario s;
	struct sfh_run_opts o = {.case_no = k};
	if (sfh_scn_load(path, &s, err, sizeof err) != 0) {
		fprintf(stderr, "%s\n", err);
		return -1;
	}
	if (sfh_run(r, t, &s, &o, res) != 0) {
		fprintf(stderr, "%s: %s\n", path, res->err);
		return -1;
	}
	printf("%s: %s\n", path, res->verdict.kind == SFO_DIV_OK ? "conformant" : res->signature);
	return 0;
}

int main(void)
{
	char err[512], exe[PATH_MAX], dir[PATH_MAX], cmd[3 * PATH_MAX], spec[4 * PATH_MAX];
	const struct sfh_target_ops *ops = sfh_target_find("tap");
	if (!ops || ops->probe(err, sizeof err) != 0) {
		fprintf(stderr, "skipped: %s\n", ops ? err : "tap target not built");
		return 77;
	}
	if (!have_program("qemu-system-x86_64") || !have_program("cpio")) {
		fprintf(stderr, "skipped: needs qemu-system-x86 and cpio (tools/setup.sh)\n");
		return 77;
	}
	ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
	if (n <= 0)
		return 1;
	exe[n] = 0;
	*strrchr(exe, '/') = 0; /* <build>/tests */
	const char *vmdir = getenv("SYNFIN_VM_DIR");
	if (vmdir && *vmdir)
		snprintf(dir, sizeof dir, "%s", vmdir);
	else
		snprintf(dir, sizeof dir, "%.*s/../vm", PATH_MAX - 10, exe);
	mkdir(dir, 0755);
	snprintf(cmd, sizeof cmd, "tools/vm/fetch-kernel.sh '%s/kernel' > '%s/version'", dir, dir);
	if (system(cmd) != 0) {
		fprintf(stderr, "skipped: cannot fetch Debian's kernel (%s)\n", cmd);
		return 77;
	}
	char version[64] = "";
	snprintf(cmd, sizeof cmd, "%s/version", dir);
	FILE *f = fopen(cmd, "r");
	if (!f || !fgets(version, sizeof version, f)) {
		CHECK(0);
		return check_done();
	}
	fclose(f);
	version[strcspn(version, "\n")] = 0;
	CHECK(strncmp(version, "6.1.", 4) == 0);
	snprintf(cmd, sizeof cmd,
		 "tools/vm/mkinitramfs.sh '%s/kernel' '%s/../agent/synfin-agent' '%s/initrd.gz'",
		 dir, exe, dir);
	CHECK_EQ(system(cmd), 0);

	/* the uncompressed kernel boots twice as fast under TCG; the bzImage otherwise */
	char kernel[PATH_MAX + 80];
	snprintf(kernel, sizeof kernel, "%.*s/kernel/boot/vmlinux-%s", PATH_MAX - 30, dir, version);
	if (access(kernel, R_OK) != 0)
		snprintf(kernel, sizeof kernel, "%.*s/kernel/boot/vmlinuz-%s", PATH_MAX - 30, dir,
			 version);
	snprintf(spec, sizeof spec,
		 "tap:settle=20,boot=90000,cmd=tools/vm/run-vm.sh '%s' '%s/initrd.gz' "
		 "'%s/console.log'",
		 kernel, dir, dir);
	double t0 = now_s();
	struct sfh_target *t = NULL;
	if (sfh_target_open(spec, &t, err, sizeof err) != 0) {
		fprintf(stderr, "tap VM: %s (console: %s/console.log)\n", err, dir);
		CHECK(0);
		return check_done();
	}
	double boot = now_s() - t0;
	printf("booted Linux %s under TCG in %.1f s; the agent reports: %s\n", version, boot,
	       t->ops->version());
	/* "Linux 6.1.0-NN-amd64 (synfin agent)": the guest, not this machine's kernel */
	CHECK(strstr(t->ops->version(), version) != NULL);

	struct sfh_runner *r = sfh_runner_new(err, sizeof err);
	struct sfh_result res;
	CHECK(r != NULL);
	t0 = now_s();
	if (r && run_seed(r, t, "corpus/seeds/01-passive-open.scn", 0, &res) == 0)
		CHECK_EQ(res.verdict.kind, SFO_DIV_OK);
	else
		CHECK(0);
	if (r && run_seed(r, t, "corpus/seeds/05-active-close-four-way.scn", 1, &res) == 0)
		CHECK_EQ(res.verdict.kind, SFO_DIV_OK);
	else
		CHECK(0);
	/* 6.1 drops an ACK of unsent data silently (newer kernels answer with an ACK). */
	if (r && run_seed(r, t, "corpus/seeds/23-ack-of-unsent-data.scn", 2, &res) == 0) {
		CHECK_EQ(res.verdict.kind, SFO_DIV_MISSING);
		CHECK(strstr(res.signature, "ack.future") != NULL);
	} else {
		CHECK(0);
	}
	printf("3 cases in %.2f s after the boot\n", now_s() - t0);
	sfh_runner_free(r);
	t0 = now_s();
	sfh_target_close(t);
	printf("power-off and teardown %.1f s\n", now_s() - t0);
	return check_done();
}
