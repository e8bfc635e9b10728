/* libFuzzer entry for the model target, built the OSS-Fuzz way
 *   $CC $CFLAGS -c fuzz_model.c && $CXX $CXXFLAGS fuzz_model.o <synfin libs> $LIB_FUZZING_ENGINE
 * over the shared core (core.c). An entry point, so it may print and exit. The
 * environment may override: SYNFIN_FUZZ_TARGET (another spec, e.g. model:fault=NAME),
 * SYNFIN_FUZZ_OUT (findings, default synfin-out/findings), SYNFIN_FUZZ_TRAP=1 (a new
 * finding aborts, for engines that only report crashes). */
#include <stdio.h>
#include <stdlib.h>

#include "fuzz_priv.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	if (sff_entry_init("model") != 0) {
		fprintf(stderr, "fuzz_model: cannot initialise the fuzz core\n");
		exit(1);
	}
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (sff_core_one(data, size) == SFF_CORE_FATAL) {
		fprintf(stderr, "fuzz_model: %s\n", sff_core_error());
		exit(1);
	}
	return 0;
}
