/*
 * The keyframe cache: copies of keyframes this process read, each with
 * where it serves, and once the next keyframe is known, the changes
 * between the two. Neither ever changes once written, so a copy stays
 * right for as long as the store is open; an old version read again, or
 * one near it, then costs no search of keyframes.db or changes.db.
 * Bounded in entries and bytes; the oldest entry makes room (round
 * robin). Shared by the process's threads under one read-write lock:
 * reads copy out side by side, and only keeping something new excludes
 * them.
 */
#define _GNU_SOURCE		/* pthread_rwlockattr_setkind_np() */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "store_private.h"

#define CACHE_SLOTS		64		/* keyframes kept at most */
#define CACHE_BYTES		(256 * 1024)	/* bytes kept at most */
#define CACHE_ENTRY_MAX		(16 * 1024)	/* larger keyframes or changes are not kept */

/* One keyframe: environment env_id's snapshot at version at. */
struct cache_slot {
	uint32_t		 env_id;	/* 0: an empty slot (ids start at 1) */
	uint64_t		 at;
	uint64_t		 next;	/* the next keyframe's version; 0: none then */
	void			*value;	/* the keyframe's record, as stored */
	size_t			 size;
	bool			 has_changes;	/* changes holds at + 1 .. next - 1 */
	struct service_list	 changes;
};

struct keyframe_cache {
	pthread_rwlock_t	lock;
	struct cache_slot	slots[CACHE_SLOTS];
	size_t			bytes;	/* of the values and changes kept */
	size_t			hand;	/* the slot to empty next */
};

/* The bytes a list of changes takes in the cache. */
static size_t
changes_bytes(const struct service_list *changes)
{
	return changes->count * sizeof(*changes->items) + changes->names_len;
}

struct keyframe_cache *
keyframe_cache_new(void)
{
	struct keyframe_cache *cache = calloc(1, sizeof(*cache));
	pthread_rwlockattr_t attr;
	int rc;

	if (cache == NULL)
		return NULL;
	/* a thread keeping a keyframe must not wait on an endless stream of reads */
	if (pthread_rwlockattr_init(&attr) != 0) {
		free(cache);
		return NULL;
	}
	pthread_rwlockattr_setkind_np(&attr,
	    PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
	rc = pthread_rwlock_init(&cache->lock, &attr);
	pthread_rwlockattr_destroy(&attr);
	if (rc != 0) {
		free(cache);
		return NULL;
	}
	for (size_t i = 0; i < CACHE_SLOTS; i++)
		service_list_init(&cache->slots[i].changes);
	return cache;
}

void
keyframe_cache_free(struct keyframe_cache *cache)
{
	if (cache == NULL)
		return;
	for (size_t i = 0; i < CACHE_SLOTS; i++) {
		free(cache->slots[i].value);
		service_list_free(&cache->slots[i].changes);
	}
	pthread_rwlock_destroy(&cache->lock);
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

/* The slot of env_id's keyframe at version at, or NULL. */
static struct cache_slot *
find_slot(struct keyframe_cache *cache, uint32_t env_id, uint64_t at)
{
	for (size_t i = 0; i < CACHE_SLOTS; i++)
		if (cache->slots[i].env_id == env_id && cache->slots[i].at == at)
			return &cache->slots[i];
	return NULL;
}

/* Appends the first count entries of from to to; false when memory ran out. */
static bool
copy_changes(struct service_list *to, const struct service_list *from,
    size_t count)
{
	for (size_t i = 0; i < count; i++)
		if (!service_list_append(to, service_list_name(from, i),
		    from->items[i].name_len, from->items[i].version))
			return false;
	return true;
}

bool
keyframe_cache_get(struct keyframe_cache *cache, uint32_t env_id,
    uint64_t system_version, uint64_t last, struct keyframe_found *found,
    struct service_list *changes, bool *with_changes)
{
	const struct cache_slot *slot = NULL;
	bool ok = false;

	*with_changes = false;
	pthread_rwlock_rdlock(&cache->lock);
	for (size_t i = 0; slot == NULL && i < CACHE_SLOTS; i++)
		if (slot_serves(&cache->slots[i], env_id, system_version, last))
			slot = &cache->slots[i];
	if (slot == NULL || (found->value = malloc(slot->size)) == NULL)
		goto done;
	memcpy(found->value, slot->value, slot->size);
	found->size = slot->size;
	found->at = slot->at;
	found->next = slot->next;
	ok = true;
	/* versions are gapless: change i is version at + 1 + i */
	if (slot->has_changes) {
		service_list_clear(changes);
		*with_changes = copy_changes(changes, &slot->changes,
		    (size_t)(system_version - slot->at));
		if (!*with_changes)
			service_list_clear(changes);
	}
done:
	pthread_rwlock_unlock(&cache->lock);
	return ok;
}

/* Empties the slot under the hand, and moves the hand on. */
static void
evict(struct keyframe_cache *cache)
{
	struct cache_slot *slot = &cache->slots[cache->hand];

	cache->bytes -= slot->size + changes_bytes(&slot->changes);
	free(slot->value);
	service_list_free(&slot->changes);
	memset(slot, 0, sizeof(*slot));
	service_list_init(&slot->changes);
	cache->hand = (cache->hand + 1) % CACHE_SLOTS;
}

/* Evicts until need more bytes fit; returns the slot emptied last. */
static struct cache_slot *
make_room(struct keyframe_cache *cache, size_t need)
{
	do
		evict(cache);
	while (cache->bytes + need > CACHE_BYTES);
	return &cache->slots[(cache->hand + CACHE_SLOTS - 1) % CACHE_SLOTS];
}

void
keyframe_cache_put(struct keyframe_cache *cache, uint32_t env_id,
    const struct keyframe_found *found)
{
	struct cache_slot *slot;
	void *copy;

	if (found->at == 0 || found->size == 0 ||
	    found->size > CACHE_ENTRY_MAX || (copy = malloc(found->size)) == NULL)
		return;
	memcpy(copy, found->value, found->size);
	pthread_rwlock_wrlock(&cache->lock);
	/* another thread may have kept it meanwhile, or an older view of it */
	if ((slot = find_slot(cache, env_id, found->at)) != NULL) {
		if (found->next != 0)
			slot->next = found->next;
		pthread_rwlock_unlock(&cache->lock);
		free(copy);
		return;
	}
	slot = make_room(cache, found->size);
	slot->env_id = env_id;
	slot->at = found->at;
	slot->next = found->next;
	slot->value = copy;
	slot->size = found->size;
	cache->bytes += found->size;
	pthread_rwlock_unlock(&cache->lock);
}

void
keyframe_cache_put_changes(struct keyframe_cache *cache, uint32_t env_id,
    uint64_t at, uint64_t next, const struct service_list *changes)
{
	struct cache_slot *slot;
	struct service_list copy;
	size_t bytes = changes_bytes(changes);

	if (bytes > CACHE_ENTRY_MAX || changes->count != next - at - 1)
		return;
	service_list_init(&copy);
	if (!copy_changes(&copy, changes, changes->count)) {
		service_list_free(&copy);
		return;
	}
	pthread_rwlock_wrlock(&cache->lock);
	slot = find_slot(cache, env_id, at);
	if (slot != NULL && !slot->has_changes && slot->next == next &&
	    cache->bytes + bytes <= CACHE_BYTES) {
		slot->changes = copy;
		slot->has_changes = true;
		cache->bytes += bytes;
		service_list_init(&copy);
	}
	pthread_rwlock_unlock(&cache->lock);
	service_list_free(&copy);
}
