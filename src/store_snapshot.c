/*
 * Snapshots: the services of a system version.
 *
 * A deploy writes three records, and once every max(KEYFRAME_INTERVAL,
 * services / KEYFRAME_SERVICES_PER_VERSION) system versions a keyframe:
 * the snapshot of that version, so each version costs a bounded share of
 * one. The snapshot of version N is
 * the current map when nothing changed since N; otherwise the keyframe at
 * or below N with the changes after it, read in one sequential pass.
 *
 * Here: the bulk range scans, the scan of the current map, writing and
 * finding keyframes, reading the changes after one, and their merge.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "store_private.h"

#define BULK_BUFFER_MIN		(8 * 1024)	/* bytes of records read per call */
#define BULK_BUFFER_MAX		(64 * 1024)	/* in a scan (at least a page) */
#define BULK_CURRENT_BYTES	48	/* a current.db record, roughly, in a buffer */

/*
 * Starts a scan at the first key at or after start, with a buffer for
 * about expected bytes of records (Berkeley DB fills a buffer whole, so a
 * short scan gets a small one); false when out of memory.
 */
bool
range_open(struct range_scan *scan, DBC *cursor, const void *start,
    size_t start_len, size_t expected)
{
	/* a multiple of 1 KiB, and at least a page */
	size_t size = expected < BULK_BUFFER_MIN ? BULK_BUFFER_MIN :
	    expected > BULK_BUFFER_MAX ? BULK_BUFFER_MAX :
	    (expected + 1023) / 1024 * 1024;
	void *buffer = malloc(size);

	memset(scan, 0, sizeof(*scan));
	if (buffer == NULL)
		return false;
	scan->cursor = cursor;
	memcpy(scan->key_buf, start, start_len);
	scan->key = dbt(scan->key_buf, start_len, sizeof(scan->key_buf));
	scan->bulk = dbt(buffer, 0, size);
	return true;
}

/*
 * The next record: pointers into the scan's buffer, valid until the next
 * call. STATUS_NOT_FOUND past the last record.
 */
enum status
range_next(struct store *store, struct range_scan *scan,
    const unsigned char **key, size_t *key_len, const unsigned char **data,
    size_t *data_len)
{
	void *k, *d;
	u_int32_t k_len, d_len;
	enum status status;

	for (;;) {
		if (scan->next != NULL) {
			DB_MULTIPLE_KEY_NEXT(scan->next, &scan->bulk, k, k_len,
			    d, d_len);
			if (scan->next != NULL) {
				*key = k;
				*key_len = k_len;
				*data = d;
				*data_len = d_len;
				return STATUS_OK;
			}
		}
		status = translate(store, scan->cursor->get(scan->cursor,
		    &scan->key, &scan->bulk, (scan->started ? DB_NEXT :
		    DB_SET_RANGE) | DB_MULTIPLE_KEY), "scan a database");
		scan->started = true;
		if (status != STATUS_OK)
			return status;
		DB_MULTIPLE_INIT(scan->next, &scan->bulk);
	}
}

/* Frees the scan's buffer; the cursor stays the caller's. */
void
range_close(struct range_scan *scan)
{
	free(scan->bulk.data);
	scan->bulk.data = NULL;
}

/*
 * Appends to list every service of environment env_id in current.db, in
 * name order, with its current version. *complete is false (and the list
 * partial) when a service's version was set after at_most: the current
 * map is then not the snapshot of at_most.
 */
enum status
scan_current(struct store *store, DBC *current, uint32_t env_id,
    uint32_t services, uint64_t at_most, struct service_list *list,
    bool *complete)
{
	struct range_scan scan;
	struct current_record record;
	unsigned char start[SERVICE_KEY_MAX];
	const unsigned char *key, *value;
	const char *name;
	size_t start_len, key_len, value_len, name_len;
	uint32_t key_env_id;
	enum status status;

	*complete = true;
	start_len = record_service_key(start, env_id, "", 0);
	if (!range_open(&scan, current, start, start_len,
	    (size_t)services * BULK_CURRENT_BYTES))
		return translate(store, ENOMEM, "scan current.db");
	while ((status = range_next(store, &scan, &key, &key_len, &value,
	    &value_len)) == STATUS_OK) {
		if (!record_service_key_decode(key, key_len, &key_env_id, &name,
		    &name_len) || key_env_id != env_id)
			break;		/* past the environment's services */
		if (!record_current_decode(value, value_len, &record)) {
			status = malformed("current.db");
			break;
		}
		if (record.since > at_most) {
			*complete = false;
			break;
		}
		if (!service_list_append(list, name, name_len, record.version)) {
			status = translate(store, ENOMEM, "scan current.db");
			break;
		}
	}
	range_close(&scan);
	return status == STATUS_NOT_FOUND ? STATUS_OK : status;
}

/*
 * System versions between two keyframes: at least KEYFRAME_INTERVAL (or
 * the store's own setting), and at least the number of services over
 * KEYFRAME_SERVICES_PER_VERSION, so that each version pays for at most
 * about that many services' entries, however many services there are.
 */
uint64_t
keyframe_interval(const struct store *store,
    const struct environment_record *record)
{
	uint64_t by_services = record->services / KEYFRAME_SERVICES_PER_VERSION;

	return by_services > store->keyframe_interval ? by_services :
	    store->keyframe_interval;
}

/*
 * Writes the keyframe of system_version: the environment's whole current
 * map, as this transaction sees it.
 */
enum status
put_keyframe(struct store *store, DB_TXN *txn, uint32_t env_id,
    uint32_t services, uint64_t system_version)
{
	unsigned char key[VERSIONED_KEY_SIZE], *value = NULL;
	struct service_list list;
	DBC *current = NULL;
	size_t size;
	bool complete;
	enum status status;

	service_list_init(&list);
	if ((status = translate(store, store->current->cursor(store->current,
	    txn, &current, 0), "open a cursor")) != STATUS_OK)
		goto done;
	if ((status = scan_current(store, current, env_id, services,
	    UINT64_MAX, &list, &complete)) != STATUS_OK)
		goto done;
	if (!record_keyframe_size(&list, &size) ||
	    (value = malloc(size)) == NULL) {
		status = translate(store, ENOMEM, "write a keyframe");
		goto done;
	}
	record_keyframe_encode(&list, value);
	record_versioned_key(key, env_id, system_version);
	status = put_value(store, store->keyframes, txn, key, sizeof(key), value,
	    size, DB_NOOVERWRITE);
done:
	status = close_cursor(store, current, status);
	free(value);
	service_list_free(&list);
	return status;
}

/*
 * Positions cursor on the last record whose key is below key (which
 * holds the bound), reading it into key and data: the record before the
 * first one at or above the bound, or the database's last record when
 * there is none above. STATUS_NOT_FOUND when no record is below.
 */
enum status
cursor_before(struct store *store, DBC *cursor, DBT *key, DBT *data,
    const char *what)
{
	enum status status = translate(store, cursor->get(cursor, key, data,
	    DB_SET_RANGE), what);

	if (status == STATUS_OK)
		return translate(store, cursor->get(cursor, key, data, DB_PREV),
		    what);
	if (status == STATUS_NOT_FOUND)
		return translate(store, cursor->get(cursor, key, data, DB_LAST),
		    what);
	return status;
}

/* A change read back from changes.db, for merging into a keyframe. */
struct change_ref {
	const char	*name;
	size_t		 name_len;
	uint64_t	 version;
};

/*
 * Sorts refs[0..count) by name, keeping the order of equal names (a stable
 * bottom-up merge sort through spare, which has room for count refs).
 * Returns the sorted array: refs or spare.
 */
static struct change_ref *
sort_change_refs(struct change_ref *refs, struct change_ref *spare,
    size_t count)
{
	struct change_ref *from = refs, *to = spare, *swap;

	for (size_t width = 1; width < count; width *= 2) {
		for (size_t lo = 0; lo < count; lo += 2 * width) {
			size_t mid = lo + width < count ? lo + width : count;
			size_t hi = lo + 2 * width < count ? lo + 2 * width : count;
			size_t i = lo, j = mid, k = lo;

			while (i < mid && j < hi)
				to[k++] = service_name_compare(from[j].name,
				    from[j].name_len, from[i].name,
				    from[i].name_len) < 0 ? from[j++] : from[i++];
			while (i < mid)
				to[k++] = from[i++];
			while (j < hi)
				to[k++] = from[j++];
		}
		swap = from;
		from = to;
		to = swap;
	}
	return from;
}

/*
 * Finds the keyframe that serves system_version of the environment of
 * record: the last one at or below it, into *found. When the process's
 * cache has the changes after it too, changes holds those up to
 * system_version and *with_changes is set. A keyframe found in
 * keyframes.db is kept in the cache, with the version of the next one
 * (found by the same search), for the reads after it.
 */
static enum status
find_keyframe(struct store *store, DB_TXN *txn,
    const struct environment_record *record, uint64_t system_version,
    struct keyframe_found *found, struct service_list *changes,
    bool *with_changes)
{
	unsigned char key_buf[VERSIONED_KEY_SIZE];
	uint32_t key_env_id;
	DBC *keyframes = NULL;
	DBT key, skip, frame;
	enum status status;

	memset(found, 0, sizeof(*found));
	if (keyframe_cache_get(store->keyframe_cache, record->id,
	    system_version, record->keyframe, found, changes, with_changes))
		return STATUS_OK;
	if ((status = translate(store, store->keyframes->cursor(
	    store->keyframes, txn, &keyframes, DB_READ_COMMITTED),
	    "open a cursor")) != STATUS_OK)
		return status;
	record_versioned_key(key_buf, record->id, system_version + 1);
	key = dbt(key_buf, sizeof(key_buf), sizeof(key_buf));
	/* position on the first key above, without reading its value */
	memset(&skip, 0, sizeof(skip));
	skip.flags = DB_DBT_USERMEM | DB_DBT_PARTIAL;
	status = translate(store, keyframes->get(keyframes, &key, &skip,
	    DB_SET_RANGE), "read keyframes.db");
	if (status == STATUS_OK && (!record_versioned_key_decode(key_buf,
	    key.size, &key_env_id, &found->next) || key_env_id != record->id))
		found->next = 0;	/* another environment's: none above */
	memset(&frame, 0, sizeof(frame));
	frame.flags = DB_DBT_MALLOC;
	if (status == STATUS_OK)
		status = translate(store, keyframes->get(keyframes, &key, &frame,
		    DB_PREV), "read keyframes.db");
	else if (status == STATUS_NOT_FOUND)
		status = translate(store, keyframes->get(keyframes, &key, &frame,
		    DB_LAST), "read keyframes.db");
	if (status == STATUS_NOT_FOUND) {
		status = STATUS_OK;	/* no keyframe at all */
		goto done;
	}
	if (status != STATUS_OK)
		goto done;
	if (!record_versioned_key_decode(key_buf, key.size, &key_env_id,
	    &found->at) || key_env_id != record->id) {
		free(frame.data);	/* another environment's */
		found->at = 0;
		goto done;
	}
	found->value = frame.data;
	found->size = frame.size;
	keyframe_cache_put(store->keyframe_cache, record->id, found);
done:
	return close_cursor(store, keyframes, status);
}

/*
 * Appends to changed the name and version of every change of environment
 * env_id after system version from, up to and including to, in order.
 */
static enum status
read_changes(struct store *store, DBC *changes, uint32_t env_id, uint64_t from,
    uint64_t to, struct service_list *changed)
{
	struct range_scan scan;
	unsigned char start[VERSIONED_KEY_SIZE];
	const unsigned char *key, *value;
	const char *name;
	size_t key_len, value_len, name_len;
	uint64_t key_version, version;
	uint32_t key_env_id;
	enum status status;

	record_versioned_key(start, env_id, from + 1);
	if (!range_open(&scan, changes, start, sizeof(start),
	    (to - from) * BULK_CHANGE_BYTES))
		return translate(store, ENOMEM, "scan changes.db");
	while ((status = range_next(store, &scan, &key, &key_len, &value,
	    &value_len)) == STATUS_OK) {
		if (!record_versioned_key_decode(key, key_len, &key_env_id,
		    &key_version) || key_env_id != env_id || key_version > to)
			break;
		if (!record_change_service(value, value_len, &name, &name_len,
		    &version)) {
			status = malformed("changes.db");
			break;
		}
		if (!service_list_append(changed, name, name_len, version)) {
			status = translate(store, ENOMEM, "scan changes.db");
			break;
		}
	}
	range_close(&scan);
	return status == STATUS_NOT_FOUND ? STATUS_OK : status;
}

/*
 * Orders a keyframe's name (len bytes) against ref: negative, zero or
 * positive as service_name_compare(). When known, the name before it in
 * the keyframe sorted below ref and shared *lcp bytes with it, and this
 * name shares `shared` bytes with that one: the order then often follows
 * without reading a byte, and comparing starts at *lcp otherwise. Leaves
 * in *lcp the bytes name shares with ref.
 */
static int
order_entry(const char *name, size_t len, size_t shared,
    const struct change_ref *ref, bool known, size_t *lcp)
{
	size_t n = known ? *lcp : 0;
	size_t limit = len < ref->name_len ? len : ref->name_len;

	if (known && shared > *lcp)
		return -1;	/* it agrees with the name before past its difference */
	if (known && shared < *lcp) {
		*lcp = shared;	/* it rises above the name before, which matched ref */
		return 1;
	}
	while (n < limit && name[n] == ref->name[n])
		n++;
	*lcp = n;
	if (n < limit)
		return (unsigned char)name[n] < (unsigned char)ref->name[n] ?
		    -1 : 1;
	return len < ref->name_len ? -1 : len > ref->name_len;
}

/*
 * Appends to list the merge of a keyframe (sorted entries) with refs, the
 * latest of each changed name, sorted: the snapshot, in name order,
 * without the names whose latest change removed them.
 */
static enum status
merge_keyframe(struct store *store, const struct keyframe_found *frame,
    const struct change_ref *refs, size_t count, struct service_list *list)
{
	struct keyframe_reader entries;
	size_t r = 0, name_len = 0, lcp = 0;
	const char *name = NULL;
	uint64_t version = 0;
	bool have = false, known = false;
	int c;

	/* no keyframe at all: the snapshot starts empty */
	memset(&entries, 0, sizeof(entries));
	if (frame->size != 0 &&
	    !record_keyframe_open(&entries, frame->value, frame->size))
		return malformed("keyframes.db");
	for (;;) {
		if (!have && entries.left > 0) {
			if (!record_keyframe_next(&entries, &name, &name_len,
			    &version))
				return malformed("keyframes.db");
			have = true;
		}
		if (!have && r == count)
			break;
		c = !have ? 1 : r == count ? -1 : order_entry(name, name_len,
		    entries.shared, &refs[r], known, &lcp);
		/* a removal replaces the keyframe's entry with nothing */
		if (c < 0 ? !service_list_append(list, name, name_len, version) :
		    refs[r].version != REMOVED_VERSION &&
		    !service_list_append(list, refs[r].name, refs[r].name_len,
		    refs[r].version))
			return translate(store, ENOMEM, "merge a keyframe");
		if (c <= 0)
			have = false;	/* the keyframe's entry is used or replaced */
		if (c >= 0)
			r++;
		/* what is known of the next entry against refs[r] */
		known = c < 0;
	}
	return STATUS_OK;
}

/*
 * Appends to list the snapshot at system_version of the environment of
 * record, from the keyframe that serves it and the changes since.
 */
enum status
scan_keyframe(struct store *store, DB_TXN *txn,
    const struct environment_record *record, uint64_t system_version,
    struct service_list *list)
{
	struct service_list changed;
	/* room for the refs and as many spare, for the common short runs */
	struct change_ref small[2 * KEYFRAME_INTERVAL];
	struct change_ref *refs = small, *sorted;
	struct keyframe_found found;
	size_t kept = 0, count;
	uint64_t to;
	DBC *changes = NULL;
	bool cached = false;
	enum status status;

	service_list_init(&changed);
	if ((status = find_keyframe(store, txn, record, system_version, &found,
	    &changed, &cached)) != STATUS_OK)
		goto done;
	/* a version that is a keyframe's own needs no change */
	if (!cached && system_version > found.at) {
		/*
		 * Between two keyframes, every change is read, for the cache:
		 * the same pages hold most of them, and none of them changes.
		 */
		to = found.next != 0 ? found.next - 1 : system_version;
		if ((status = translate(store, store->changes->cursor(
		    store->changes, txn, &changes, DB_READ_COMMITTED),
		    "open a cursor")) != STATUS_OK ||
		    (status = read_changes(store, changes, record->id, found.at,
		    to, &changed)) != STATUS_OK)
			goto done;
		if (found.next != 0 && found.at != 0)
			keyframe_cache_put_changes(store->keyframe_cache,
			    record->id, found.at, found.next, &changed);
	}
	/* versions are gapless: change i is version at + 1 + i */
	count = changed.count < system_version - found.at ? changed.count :
	    (size_t)(system_version - found.at);
	/* the refs, then as many spare for sorting */
	if (count > KEYFRAME_INTERVAL &&
	    (refs = calloc(2 * count, sizeof(*refs))) == NULL) {
		status = translate(store, ENOMEM, "merge a keyframe");
		goto done;
	}
	for (size_t i = 0; i < count; i++) {
		refs[i].name = service_list_name(&changed, i);
		refs[i].name_len = changed.items[i].name_len;
		refs[i].version = changed.items[i].version;
	}
	sorted = sort_change_refs(refs, refs + count, count);
	/* keep the latest change of each name: the last of its run */
	for (size_t i = 0; i < count; i++) {
		if (kept > 0 && service_name_compare(sorted[kept - 1].name,
		    sorted[kept - 1].name_len, sorted[i].name,
		    sorted[i].name_len) == 0)
			kept--;
		sorted[kept++] = sorted[i];
	}
	status = merge_keyframe(store, &found, sorted, kept, list);
done:
	status = close_cursor(store, changes, status);
	free(found.value);
	if (refs != small)
		free(refs);
	service_list_free(&changed);
	return status;
}
