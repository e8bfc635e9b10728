/* The linux profile: RFC 9293 plus the choices linux makes that synfin accepts, each with
 * its reason. Timer figures are the stack's own (see docs/targets.md). */
#include "profiles_priv.h"

static const struct sfo_accept accept_linux[] = {
	{NULL, -1, NULL},
};

const struct sfo_profile sfo_profile_linux = {
	.name = "linux",
	.summary = "RFC 9293 with linux's accepted choices",
	.flags = SFO_PF_RFC5961_OK,
	.msl2_ms = 240000,
	.rto_min_ms = 200,
	.rto_must_ms = 4000,
	.delack_max_ms = 500,
	.fin2_timeout_ms = 0,
	.user_timeout_ms = 100000,
	.accept = accept_linux,
};
