/* The target registry: the one place that knows every target. Adding a target is one
 * line here plus its own file (and its CMake option). */
#include <stdio.h>
#include <string.h>

#include "target.h"

extern const struct sfh_target_ops sfh_target_model_ops;
extern const struct sfh_target_ops sfh_target_exec_ops;
#ifdef SYNFIN_HAVE_LWIP
extern const struct sfh_target_ops sfh_target_lwip_ops;
#endif
#ifdef SYNFIN_HAVE_SLIRP
extern const struct sfh_target_ops sfh_target_slirp_ops;
#endif
#ifdef SYNFIN_HAVE_LINUX
extern const struct sfh_target_ops sfh_target_linux_ops;
#endif
#ifdef SYNFIN_HAVE_TAP
extern const struct sfh_target_ops sfh_target_tap_ops;
#endif

static const struct sfh_target_ops *const registry[] = {
	&sfh_target_model_ops,
	&sfh_target_exec_ops,
#ifdef SYNFIN_HAVE_LWIP
	&sfh_target_lwip_ops,
#endif
#ifdef SYNFIN_HAVE_SLIRP
	&sfh_target_slirp_ops,
#endif
#ifdef SYNFIN_HAVE_LINUX
	&sfh_target_linux_ops,
#endif
#ifdef SYNFIN_HAVE_TAP
	&sfh_target_tap_ops,
#endif
};

size_t sfh_target_count(void)
{
	return sizeof registry / sizeof registry[0];
}

const struct sfh_target_ops *sfh_target_at(size_t i)
{
	return i < sfh_target_count() ? registry[i] : NULL;
}

const struct sfh_target_ops *sfh_target_find(const char *spec)
{
	size_t n = strcspn(spec, ":");
	for (size_t i = 0; i < sfh_target_count(); i++) {
		const char *name = registry[i]->name;
		if (strlen(name) == n && memcmp(name, spec, n) == 0)
			return registry[i];
	}
	return NULL;
}

int sfh_target_open(const char *spec, struct sfh_target **out, char *err, size_t errlen)
{
	const struct sfh_target_ops *ops = sfh_target_find(spec);
	*out = NULL;
	if (!ops) {
		snprintf(err, errlen, "unknown target '%s' (see 'synfin targets')", spec);
		return -1;
	}
	if (ops->probe(err, errlen) != 0)
		return -1;
	const char *colon = strchr(spec, ':');
	return ops->open(colon ? colon + 1 : "", out, err, errlen);
}
