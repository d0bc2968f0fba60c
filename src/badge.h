/*
 * The SVG badge of an environment's system version.
 */
#ifndef RELEASEMGR_BADGE_H
#define RELEASEMGR_BADGE_H

#include <stddef.h>
#include <stdint.h>

#include "model.h"

/*
 * The badge "system version | N" ("none" for 0) of environment, as a
 * malloc'd SVG document of *len bytes that the caller frees; every text
 * in it is escaped for XML. NULL when memory ran out.
 */
char	*badge_render(const char *environment, uint64_t system_version,
	    size_t *len);

#endif
