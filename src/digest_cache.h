/*
 * Each process's cache of the digests it computed, keyed by environment
 * and system version.
 */
#ifndef RELEASEMGR_DIGEST_CACHE_H
#define RELEASEMGR_DIGEST_CACHE_H

#include <stdbool.h>
#include <stdint.h>

#include "digest.h"

struct digest_cache;

/*
 * A new empty cache, which the caller releases with digest_cache_free();
 * NULL when memory ran out. It is shared by the threads of its process.
 */
struct digest_cache	*digest_cache_new(void);
/* Releases the cache; NULL is accepted. */
void			 digest_cache_free(struct digest_cache *cache);

/*
 * True, with the digest copied into text, when the cache holds that of
 * system_version of environment; false (text untouched) otherwise, and
 * always for a NULL cache.
 */
bool	digest_cache_get(struct digest_cache *cache, const char *environment,
	    uint64_t system_version, char text[DIGEST_TEXT_SIZE]);

/*
 * Keeps text as the digest of system_version of environment, in place of
 * whatever the cache held where it goes; a NULL cache keeps nothing.
 */
void	digest_cache_put(struct digest_cache *cache, const char *environment,
	    uint64_t system_version, const char text[DIGEST_TEXT_SIZE]);

#endif
