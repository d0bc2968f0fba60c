/*
 * The digest cache: the digests this process computed, each keyed by
 * environment and system version. A version's services never change once
 * it exists, so neither does its digest, and a kept one stays right for
 * as long as the process lives; /status, polled by every status page,
 * then reads no list. Direct-mapped and bounded: a key has one slot,
 * and a new key there replaces the old one. Shared by the process's
 * threads under one mutex, held only to copy a slot: shorter than a
 * read-write lock's bookkeeping would be.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "digest_cache.h"

#define DIGEST_SLOTS	256	/* digests kept at most: about 37 KiB */

/* One digest; an empty slot has an empty environment (no name is empty). */
struct digest_slot {
	char		environment[ENVIRONMENT_MAX + 1];
	uint64_t	system_version;
	char		text[DIGEST_TEXT_SIZE];
};

struct digest_cache {
	pthread_mutex_t		lock;
	struct digest_slot	slots[DIGEST_SLOTS];
};

struct digest_cache *
digest_cache_new(void)
{
	struct digest_cache *cache = calloc(1, sizeof(*cache));

	if (cache != NULL && pthread_mutex_init(&cache->lock, NULL) != 0) {
		free(cache);
		cache = NULL;
	}
	return cache;
}

void
digest_cache_free(struct digest_cache *cache)
{
	if (cache == NULL)
		return;
	pthread_mutex_destroy(&cache->lock);
	free(cache);
}

/* The one slot of a key: FNV-1a over the environment, then the version. */
static struct digest_slot *
slot_of(struct digest_cache *cache, const char *environment,
    uint64_t system_version)
{
	uint64_t h = UINT64_C(14695981039346656037);

	for (const char *p = environment; *p != '\0'; p++)
		h = (h ^ (unsigned char)*p) * UINT64_C(1099511628211);
	h = (h ^ system_version) * UINT64_C(1099511628211);
	return &cache->slots[(h ^ (h >> 32)) % DIGEST_SLOTS];
}

bool
digest_cache_get(struct digest_cache *cache, const char *environment,
    uint64_t system_version, char text[DIGEST_TEXT_SIZE])
{
	const struct digest_slot *slot;
	bool found;

	if (cache == NULL)
		return false;
	slot = slot_of(cache, environment, system_version);
	pthread_mutex_lock(&cache->lock);
	found = slot->system_version == system_version &&
	    strcmp(slot->environment, environment) == 0;
	if (found)
		memcpy(text, slot->text, DIGEST_TEXT_SIZE);
	pthread_mutex_unlock(&cache->lock);
	return found;
}

void
digest_cache_put(struct digest_cache *cache, const char *environment,
    uint64_t system_version, const char text[DIGEST_TEXT_SIZE])
{
	struct digest_slot *slot;
	size_t len;

	if (cache == NULL || (len = strlen(environment)) == 0 ||
	    len > ENVIRONMENT_MAX)
		return;
	slot = slot_of(cache, environment, system_version);
	pthread_mutex_lock(&cache->lock);
	memcpy(slot->environment, environment, len + 1);
	slot->system_version = system_version;
	memcpy(slot->text, text, DIGEST_TEXT_SIZE);
	pthread_mutex_unlock(&cache->lock);
}
