/* What the packetdrill tests share: the synfin command, packetdrill, and running an
 * exported script in a private network namespace. */
#ifndef SYNFIN_TESTS_PD_H
#define SYNFIN_TESTS_PD_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sh.h"

/* 0 when the synfin command, packetdrill, root and a TUN device are all here; otherwise
 * prints why and returns 77 (skipped). */
static int pd_can_run(const char **bin, const char **pd)
{
	*bin = getenv("SYNFIN_BIN");
	*pd = getenv("SYNFIN_PACKETDRILL");
	if (!*bin) {
		printf("skipped: SYNFIN_BIN not set (run through ctest)\n");
		return 77;
	}
	if (!*pd || access(*pd, X_OK) != 0) {
		printf("skipped: packetdrill not built (its source beside the project, bison and "
		       "flex are needed; see tests/CMakeLists.txt)\n");
		return 77;
	}
	if (geteuid() != 0 || access("/dev/net/tun", R_OK | W_OK) != 0) {
		printf("skipped: packetdrill and the linux target need root and /dev/net/tun\n");
		return 77;
	}
	return 0;
}

/* Export scn on the linux target to pkt. Returns synfin's exit code; *line is the line
 * the script checks the divergence at (0 if the run conformed). */
static int pd_export(const char *bin, const char *scn, const char *pkt, unsigned *line)
{
	char out[4096];
	int rc = sh(out, sizeof out, "'%s' export --packetdrill '%s' -o '%s'", bin, scn, pkt);
	const char *p = strstr(out, "checks it at line ");
	*line = p ? (unsigned)strtoul(p + 18, NULL, 10) : 0;
	if (rc != 0)
		fprintf(stderr, "export %s: %s", scn, out);
	return rc;
}

/* Run pkt with packetdrill in a new network namespace. Returns its exit code; *line is
 * the script line of its first error (0 if none). */
static int pd_run(const char *pd, const char *pkt, unsigned *line, char *out, size_t cap)
{
	int rc =
	    sh(out, cap, "timeout 120 unshare -n sh -c 'ip link set lo up && exec \"%s\" \"%s\"'",
	       pd, pkt);
	*line = 0;
	const char *base = strrchr(pkt, '/');
	base = base ? base + 1 : pkt;
	const char *p = strstr(out, base);
	if (p && p[strlen(base)] == ':')
		*line = (unsigned)strtoul(p + strlen(base) + 1, NULL, 10);
	return rc;
}

#endif
