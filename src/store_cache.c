/*
 * The keyframe cache: copies of keyframes this process read, with where
 * each one serves. A keyframe never changes once written, so a copy stays
 * right for as long as the store is open; an old version read again, or
 * one near it, then costs no search of keyframes.db. Bounded in entries
 * and bytes; the oldest entry makes room (round robin). Shared by the
 * process's threads under one mutex, held only to copy a value in or out.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "store_private.h"

#define CACHE_SLOTS		64		/* keyframes kept at most */
#define CACHE_BYTES		(256 * 1024)	/* bytes of keyframes kept at most */
#define CACHE_ENTRY_MAX		(16 * 1024)	/* a larger keyframe is not kept */

/* One keyframe: environment env_id's snapshot at version at. */
struct cache_slot {
	uint32_t	 env_id;	/* 0: an empty slot (ids start at 1) */
	uint64_t	 at;
	uint64_t	 next;		/* the next keyframe's version; 0: none then */
	void		*value;		/* the keyframe's record, as stored */
	size_t		 size;
};

struct keyframe_cache {
	pthread_mutex_t		lock;
	struct cache_slot	slots[CACHE_SLOTS];
	size_t			bytes;	/* of the values kept */
	size_t			hand;	/* the slot to empty next */
};

struct keyframe_cache *
keyframe_cache_new(void)
{
	struct keyframe_cache *cache = calloc(1, sizeof(*cache));

	if (cache != NULL && pthread_mutex_init(&cache->lock, NULL) != 0) {
		free(cache);
		cache = NULL;
	}
	return cache;
}

void
keyframe_cache_free(struct keyframe_cache *cache)
{
	if (cache == NULL)
		return;
	for (size_t i = 0; i < CACHE_SLOTS; i++)
		free(cache->slots[i].value);
	pthread_mutex_destroy(&cache->lock);
	free(cache);
}

/*
 * True when slot holds the keyframe that serves system_version: at or
 * below it, with no keyframe between. The next keyframe is known, or
 * there was none when the slot was filled: then it still serves while it
 * is the environment's last keyframe (last).
 */
static bool
slot_serves(const struct cache_slot *slot, uint32_t env_id,
    uint64_t system_version, uint64_t last)
{
	return slot->env_id == env_id && slot->at <= system_version &&
	    (slot->next != 0 ? system_version < slot->next : slot->at == last);
}

bool
keyframe_cache_get(struct keyframe_cache *cache, uint32_t env_id,
    uint64_t system_version, uint64_t last, uint64_t *at, void **value,
    size_t *size)
{
	bool found = false;

	pthread_mutex_lock(&cache->lock);
	for (size_t i = 0; !found && i < CACHE_SLOTS; i++) {
		const struct cache_slot *slot = &cache->slots[i];

		if (!slot_serves(slot, env_id, system_version, last))
			continue;
		if ((*value = malloc(slot->size)) == NULL)
			break;
		memcpy(*value, slot->value, slot->size);
		*size = slot->size;
		*at = slot->at;
		found = true;
	}
	pthread_mutex_unlock(&cache->lock);
	return found;
}

/* Empties the slot under the hand, and moves the hand on. */
static void
evict(struct keyframe_cache *cache)
{
	struct cache_slot *slot = &cache->slots[cache->hand];

	cache->bytes -= slot->size;
	free(slot->value);
	memset(slot, 0, sizeof(*slot));
	cache->hand = (cache->hand + 1) % CACHE_SLOTS;
}

void
keyframe_cache_put(struct keyframe_cache *cache, uint32_t env_id,
    uint64_t at, uint64_t next, const void *value, size_t size)
{
	struct cache_slot *slot;
	void *copy;

	if (size == 0 || size > CACHE_ENTRY_MAX || (copy = malloc(size)) == NULL)
		return;
	memcpy(copy, value, size);
	pthread_mutex_lock(&cache->lock);
	/* another thread may have kept it meanwhile, or an older view of it */
	for (size_t i = 0; i < CACHE_SLOTS; i++) {
		slot = &cache->slots[i];
		if (slot->env_id == env_id && slot->at == at) {
			if (next != 0)
				slot->next = next;
			pthread_mutex_unlock(&cache->lock);
			free(copy);
			return;
		}
	}
	do
		evict(cache);
	while (cache->bytes + size > CACHE_BYTES);
	slot = &cache->slots[(cache->hand + CACHE_SLOTS - 1) % CACHE_SLOTS];
	slot->env_id = env_id;
	slot->at = at;
	slot->next = next;
	slot->value = copy;
	slot->size = size;
	cache->bytes += size;
	pthread_mutex_unlock(&cache->lock);
}
