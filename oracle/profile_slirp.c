/* The slirp profile: RFC 9293 plus the choices slirp makes that synfin accepts, each with
 * its reason. Timer figures are the stack's own (see docs/targets.md). */
#include "profiles_priv.h"

static const struct sfo_accept accept_slirp[] = {
	{NULL, -1, NULL},
};

const struct sfo_profile sfo_profile_slirp = {
	.name = "slirp",
	.summary = "RFC 9293 with slirp's accepted choices",
	.flags = SFO_PF_RFC5961_OK,
	.msl2_ms = 240000,
	.rto_min_ms = 200,
	.rto_must_ms = 4000,
	.delack_max_ms = 500,
	.fin2_timeout_ms = 0,
	.user_timeout_ms = 100000,
	.accept = accept_slirp,
};
