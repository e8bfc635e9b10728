/* Profiles a user writes without rebuilding synfin: a small text file with a stack's
 * timers, flags and accepted differences (docs/testing-your-own-stack.md, section
 * "Profiles"). Wherever a profile is named (--profile, a shim's HELLO), a name holding a
 * '/' or ending in ".profile" is such a file; any other name is a built-in profile.
 *
 *   # comments run to the end of the line
 *   profile mystack                          the name reports show (required, first)
 *   summary "RFC 9293 with mystack's timers" one line for humans
 *   base rfc9293                             start from a built-in profile (default rfc9293)
 *   2msl 60s                                 TIME-WAIT duration required
 *   rto-min 200ms                            earliest a retransmission may come
 *   rto-must 3s                              a wait this long must see one
 *   delack-max 200ms                         an owed ACK is out after this long
 *   fin2-timeout 60s                         FIN-WAIT-2 may close after this (0: never)
 *   user-timeout 100s                        retransmitting this long may abort
 *   flag rfc5961-ok                          an SFO_PF_* flag (see the guide); "no-flag X" clears
 *   accept RULE-ID KIND "reason"             a difference accepted (KIND: a verdict kind or *)
 *
 * Durations are integers with a unit, ms or s. Errors name "file:line:col: reason".
 */
#ifndef SYNFIN_PROFILE_FILE_H
#define SYNFIN_PROFILE_FILE_H

#include <stddef.h>

#include "oracle.h"

/* Parse text (len octets) into a new profile, allocated (strings included) and never
 * freed: profiles live as long as the process, as built-in ones do. NULL on error, with
 * "fname:line:col: reason" in err. */
const struct sfo_profile *sfh_profile_parse(const char *text, size_t len, const char *fname,
					    char *err, size_t errlen);

/* Free a profile sfh_profile_parse returned (NULL-safe); never one sfh_profile_find gave. */
void sfh_profile_free(const struct sfo_profile *p);

/* 1 if name designates a profile file rather than a built-in profile. */
int sfh_profile_is_file(const char *name);

/* A profile by name: a built-in one, or a profile file loaded once and kept. NULL if
 * unknown or malformed: sfh_profile_error(name) then says why. */
const struct sfo_profile *sfh_profile_find(const char *name);
const char *sfh_profile_error(const char *name);

#endif
