/* What the scenario text and binary forms share (scenario.c, scenario_bin.c). */
#ifndef SYNFIN_SCENARIO_PRIV_H
#define SYNFIN_SCENARIO_PRIV_H

#include "scenario.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>

#define U32_MAX 0xffffffffu
#define TWO31	(INT64_C(1) << 31)
#define TWO32	(INT64_C(1) << 32)

/* Only SEND and RECEIVE take an argument (octets). */
static inline int call_has_arg(enum sfo_call c)
{
	return c == SFO_CALL_SEND || c == SFO_CALL_RECEIVE;
}

/* An error message into err (NULL or 0 bytes: dropped), printf-style. */
__attribute__((format(printf, 3, 4))) static inline void set_err(char *err, size_t errlen,
								 const char *fmt, ...)
{
	va_list ap;

	if (!err || !errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* Names shared by the text parser and formatter (scenario.c). */
extern const char *const sfh_anchor_names[SFH_NANCHORS];
extern const char *const sfh_ts_anchor_names[SFH_NTS_ANCHORS];
extern const char *const sfh_optkind_names[SFH_NOPTKINDS];
extern const char *const sfh_timer_names[SFH_NTIMERS];
extern const char sfh_flag_letters[8];
void sfh_flags_str(uint8_t f, char out[9]); /* tcpdump letters, '-' for none */

#endif
