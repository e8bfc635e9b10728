/* Minimal test support: checks stay on under NDEBUG, a failure names the file, line and
 * both values, and the test binary exits non-zero at the end if any check failed.
 * Usage: CHECK(cond); CHECK_EQ(a, b); CHECK_STR(a, b); return check_done(); */
#ifndef SYNFIN_TESTS_CHECK_H
#define SYNFIN_TESTS_CHECK_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int check_failures;
static int check_count;

#define CHECK(cond)                                                                        \
	do {                                                                               \
		check_count++;                                                             \
		if (!(cond)) {                                                             \
			check_failures++;                                                  \
			fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__,  \
				#cond);                                                    \
		}                                                                          \
	} while (0)

#define CHECK_EQ(a, b)                                                                     \
	do {                                                                               \
		long long check_a_ = (long long)(a), check_b_ = (long long)(b);            \
		check_count++;                                                             \
		if (check_a_ != check_b_) {                                                \
			check_failures++;                                                  \
			fprintf(stderr, "%s:%d: %s == %s: %lld vs %lld\n", __FILE__,       \
				__LINE__, #a, #b, check_a_, check_b_);                     \
		}                                                                          \
	} while (0)

#define CHECK_STR(a, b)                                                                    \
	do {                                                                               \
		const char *check_a_ = (a), *check_b_ = (b);                               \
		check_count++;                                                             \
		if (!check_a_ || !check_b_ || strcmp(check_a_, check_b_) != 0) {          \
			check_failures++;                                                  \
			fprintf(stderr, "%s:%d: %s == %s: \"%s\" vs \"%s\"\n", __FILE__,   \
				__LINE__, #a, #b, check_a_ ? check_a_ : "(null)",          \
				check_b_ ? check_b_ : "(null)");                           \
		}                                                                          \
	} while (0)

/* Call last in main(): prints a summary line and returns the exit code. */
static inline int check_done(void)
{
	printf("%d checks, %d failed\n", check_count, check_failures);
	return check_failures ? 1 : 0;
}

#endif
