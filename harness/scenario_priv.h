/* What the scenario text and binary forms share (scenario.c, scenario_bin.c). */
#ifndef SYNFIN_SCENARIO_PRIV_H
#define SYNFIN_SCENARIO_PRIV_H

#include "scenario.h"

#include <stdint.h>

#define U32_MAX 0xffffffffu
#define TWO31	(INT64_C(1) << 31)
#define TWO32	(INT64_C(1) << 32)

/* Only SEND and RECEIVE take an argument (octets). */
static inline int call_has_arg(enum sfo_call c)
{
	return c == SFO_CALL_SEND || c == SFO_CALL_RECEIVE;
}

#endif
