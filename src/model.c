/*
 * The service list: entries in one array, names packed in one arena, so a
 * snapshot of any size costs two allocations that grow geometrically;
 * and the one way to grow an array, which the store and the audit share.
 */
#include <stdlib.h>
#include <string.h>

#include "model.h"

void
service_list_init(struct service_list *list)
{
	memset(list, 0, sizeof(*list));
}

void
service_list_clear(struct service_list *list)
{
	list->count = 0;
	list->names_len = 0;
}

void
service_list_free(struct service_list *list)
{
	free(list->items);
	free(list->names);
	service_list_init(list);
}

/* Grows *buf to hold at least need elements of size bytes; false on failure. */
static bool
grow(void **buf, size_t *capacity, size_t need, size_t size, size_t first)
{
	size_t capacity_new = *capacity != 0 ? *capacity : first;
	void *bigger;

	if (need <= *capacity)
		return true;
	while (capacity_new < need) {
		if (capacity_new > SIZE_MAX / 2 / size)
			return false;
		capacity_new *= 2;
	}
	if ((bigger = realloc(*buf, capacity_new * size)) == NULL)
		return false;
	*buf = bigger;
	*capacity = capacity_new;
	return true;
}

bool
grow_array(void *array, size_t count, size_t *capacity, size_t size,
    size_t initial)
{
	size_t want = *capacity != 0 ? 2 * *capacity : initial;
	void *items, *bigger;

	if (count < *capacity)
		return true;
	/* the pointer is of the caller's type: copied, not read as void * */
	memcpy(&items, array, sizeof(items));
	if ((bigger = realloc(items, want * size)) == NULL)
		return false;
	memcpy(array, &bigger, sizeof(bigger));
	*capacity = want;
	return true;
}

bool
service_list_append(struct service_list *list, const char *name,
    size_t name_len, uint64_t version)
{
	struct service_entry *entry;

	if (!grow((void **)&list->items, &list->capacity, list->count + 1,
	    sizeof(*list->items), 16) ||
	    !grow((void **)&list->names, &list->names_capacity,
	    list->names_len + name_len, 1, 512))
		return false;
	if (name_len > 0)
		memcpy(list->names + list->names_len, name, name_len);
	entry = &list->items[list->count++];
	entry->name_offset = list->names_len;
	entry->name_len = name_len;
	entry->version = version;
	list->names_len += name_len;
	return true;
}

const char *
service_list_name(const struct service_list *list, size_t i)
{
	return list->names + list->items[i].name_offset;
}

bool
service_list_diff(const struct service_list *from,
    const struct service_list *to, struct service_difference **out,
    size_t *count)
{
	struct service_difference *diff;
	size_t i = 0, k = 0, n = 0;
	int c;

	*out = NULL;
	*count = 0;
	/* at most one difference per service of either list */
	if ((diff = calloc(from->count + to->count + 1, sizeof(*diff))) == NULL)
		return false;
	while (i < from->count || k < to->count) {
		c = i == from->count ? 1 : k == to->count ? -1 :
		    service_name_compare(service_list_name(from, i),
		    from->items[i].name_len, service_list_name(to, k),
		    to->items[k].name_len);
		if (c == 0 && from->items[i].version == to->items[k].version) {
			i++;
			k++;
			continue;
		}
		diff[n].has_from = c <= 0;
		diff[n].index_from = c <= 0 ? i++ : 0;
		diff[n].has_to = c >= 0;
		diff[n].index_to = c >= 0 ? k++ : 0;
		n++;
	}
	*out = diff;
	*count = n;
	return true;
}

const char *
deploy_outcome_name(enum deploy_outcome outcome)
{
	switch (outcome) {
	case OUTCOME_APPLIED: return "applied";
	case OUTCOME_UNCHANGED: return "unchanged";
	case OUTCOME_DUPLICATE: return "duplicate";
	case OUTCOME_STALE: return "stale";
	case OUTCOME_REMOVED: return "removed";
	}
	return "unknown";
}
