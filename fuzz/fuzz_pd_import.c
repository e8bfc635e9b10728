/* libFuzzer entry for synfin's own input: the packetdrill importer (harness/packetdrill/).
 * Any byte string is a script: the importer must answer with a scenario that parses, or
 * an error, never crash; an imported scenario's text must parse to the same scenario. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "packetdrill.h"
#include "scenario.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct sfh_scenario s, back;
	static struct sfh_pd_import_notes notes;
	struct sfh_pd_defs defs = {.n = 1};
	char err[512], *scn = NULL;
	strcpy(defs.name[0], "WINDOW");
	strcpy(defs.value[0], "65535");
	if (sfh_pd_import((const char *)data, size, "fuzz.pkt", &defs, &scn, &s, &notes, err,
			  sizeof err) != 0)
		return 0;
	if (sfh_scn_parse(scn, strlen(scn), "fuzz.scn", &back, err, sizeof err) != 0 ||
	    !sfh_scn_equal(&s, &back))
		abort();
	free(scn);
	return 0;
}
