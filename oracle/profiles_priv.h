/* Per-stack profiles, one file each (oracle/profile_NAME.c), owned by whoever maintains
 * that target; oracle/profiles.c lists them beside the built-in rfc9293 and rfc5961. */
#ifndef SYNFIN_PROFILES_PRIV_H
#define SYNFIN_PROFILES_PRIV_H

#include "oracle.h"

extern const struct sfo_profile sfo_profile_linux;
extern const struct sfo_profile sfo_profile_lwip;
extern const struct sfo_profile sfo_profile_slirp;

#endif
