/*
 * The reads of the store: the services of a system version, where an
 * environment stands, its history, one change, its changes in ascending
 * order, where its keyframes are, the version in force at an instant,
 * and every environment. Each is a read_fn that run_read() (store.c)
 * runs in a read-committed transaction.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "store.h"
#include "store_private.h"

/*
 * Changes read in one transaction by store_walk_changes(): about 1 KiB
 * each in memory, and a transaction per batch.
 */
#define CHANGES_BATCH	1024

/* The arguments and result of a snapshot read. */
struct services_read {
	const char		*environment;
	uint64_t		 system_version;	/* 0: the current one */
	struct service_list	*list;
};

/* Reads a snapshot (read_fn). */
static enum status
read_services(struct store *store, DB_TXN *txn, void *arg)
{
	struct services_read *r = arg;
	DBC *current = NULL;
	struct environment_record record;
	uint64_t system_version = r->system_version;
	bool complete = false;
	enum status status;

	service_list_clear(r->list);
	if ((status = get_environment(store, txn, r->environment, 0,
	    &record)) != STATUS_OK)
		return status;
	if (system_version == 0)
		system_version = record.current;
	if (system_version > record.current)
		return STATUS_NOT_FOUND;
	/*
	 * The newest version is the current map, unless a deploy committed
	 * since the environment was read. Keyframes and changes at or below
	 * the current version never change: reads need not hold their locks.
	 */
	if (system_version == record.current) {
		if ((status = translate(store, store->current->cursor(
		    store->current, txn, &current, DB_READ_COMMITTED),
		    "open a cursor")) != STATUS_OK ||
		    (status = scan_current(store, current, record.id,
		    record.services, system_version, r->list,
		    &complete)) != STATUS_OK)
			goto done;
	}
	if (!complete) {
		service_list_clear(r->list);
		status = scan_keyframe(store, txn, &record, system_version,
		    r->list);
	}
done:
	return close_cursor(store, current, status);
}

enum status
store_services(struct store *store, const char *environment,
    uint64_t system_version, struct service_list *list)
{
	struct services_read r = { environment, system_version, list };
	enum status status = run_read(store, read_services, &r,
	    "read services");

	if (status != STATUS_OK)
		service_list_clear(list);
	return status;
}

/* The arguments and result of a read of an environment's record. */
struct current_read {
	const char			*environment;
	struct environment_record	 record;
};

/* Reads an environment's record (read_fn). */
static enum status
read_current(struct store *store, DB_TXN *txn, void *arg)
{
	struct current_read *r = arg;

	return get_environment(store, txn, r->environment, 0, &r->record);
}

enum status
store_current(struct store *store, const char *environment,
    struct environment_state *state)
{
	struct current_read r = { .environment = environment };
	enum status status = run_read(store, read_current, &r,
	    "read environment");

	if (status == STATUS_OK) {
		state->system_version = r.record.current;
		state->updated_ms = r.record.updated_ms;
	}
	return status;
}

/* The arguments and result of a history read. */
struct history_read {
	const char		*environment;
	uint64_t		 before;	/* 0: from the newest */
	size_t			 limit;
	struct change_record	*out;
	size_t			 count;
	bool			 more;
};

/*
 * Reads the changes newest first (read_fn): system versions are gapless,
 * so they are versions top, top - 1, ... down to 1.
 */
static enum status
read_history(struct store *store, DB_TXN *txn, void *arg)
{
	struct history_read *r = arg;
	struct environment_record record;
	unsigned char key_buf[VERSIONED_KEY_SIZE], value[CHANGE_VALUE_MAX];
	uint64_t version, key_version;
	uint32_t key_env_id;
	DBC *cursor = NULL;
	DBT key, data;
	enum status status;

	r->count = 0;
	r->more = false;
	if ((status = get_environment(store, txn, r->environment, 0,
	    &record)) != STATUS_OK)
		return status;
	version = record.current;
	if (r->before != 0 && r->before - 1 < version)
		version = r->before - 1;
	if (version == 0 || r->limit == 0)
		return STATUS_OK;
	if ((status = translate(store, store->changes->cursor(store->changes,
	    txn, &cursor, DB_READ_COMMITTED), "open a cursor")) != STATUS_OK)
		return status;
	record_versioned_key(key_buf, record.id, version);
	key = dbt(key_buf, sizeof(key_buf), sizeof(key_buf));
	data = dbt(value, 0, sizeof(value));
	for (status = translate(store, cursor->get(cursor, &key, &data, DB_SET),
	    "read changes.db"); status == STATUS_OK;
	    status = translate(store, cursor->get(cursor, &key, &data, DB_PREV),
	    "read changes.db")) {
		if (!record_versioned_key_decode(key_buf, key.size, &key_env_id,
		    &key_version) || key_env_id != record.id ||
		    key_version != version - r->count ||
		    !record_change_decode(value, data.size, version - r->count,
		    &r->out[r->count])) {
			/* a gap, or a broken record */
			status = malformed("changes.db");
			break;
		}
		if (++r->count == r->limit || version - r->count == 0)
			break;
	}
	r->more = status == STATUS_OK && version - r->count > 0;
	return close_cursor(store, cursor, status);
}

enum status
store_history(struct store *store, const char *environment, uint64_t before,
    size_t limit, struct change_record *out, size_t *count, bool *more)
{
	struct history_read r = { environment, before, limit, out, 0, false };
	enum status status = run_read(store, read_history, &r, "read history");

	*count = status == STATUS_OK ? r.count : 0;
	*more = status == STATUS_OK && r.more;
	return status;
}

/* Reads the change of one system version with a point lookup. */
static enum status
get_change(struct store *store, DB_TXN *txn, uint32_t env_id,
    uint64_t system_version, struct change_record *out)
{
	unsigned char key[VERSIONED_KEY_SIZE], value[CHANGE_VALUE_MAX];
	size_t size;
	enum status status;

	record_versioned_key(key, env_id, system_version);
	if ((status = get_value(store, store->changes, txn, key, sizeof(key),
	    value, sizeof(value), &size, DB_READ_COMMITTED)) != STATUS_OK)
		return status;
	return record_change_decode(value, size, system_version, out) ?
	    STATUS_OK : malformed("changes.db");
}

/* The arguments and result of a read of one change. */
struct change_read {
	const char		*environment;
	uint64_t		 system_version;
	struct change_record	*out;
};

/* Reads the change that made a system version (read_fn). */
static enum status
read_change(struct store *store, DB_TXN *txn, void *arg)
{
	struct change_read *r = arg;
	struct environment_record record;
	enum status status;

	if ((status = get_environment(store, txn, r->environment, 0,
	    &record)) != STATUS_OK)
		return status;
	if (r->system_version == 0 || r->system_version > record.current)
		return STATUS_NOT_FOUND;
	return get_change(store, txn, record.id, r->system_version, r->out);
}

enum status
store_change(struct store *store, const char *environment,
    uint64_t system_version, struct change_record *out)
{
	struct change_read r = { environment, system_version, out };

	return run_read(store, read_change, &r, "read a change");
}

/* The arguments and result of a read of changes in ascending order. */
struct changes_read {
	const char		*environment;
	uint64_t		 after;
	size_t			 limit;
	struct change_record	*out;
	size_t			 count;
};

/*
 * After the scan of an environment's changes has read its current
 * version: the next record of changes.db must be another environment's,
 * or none. A change of this one above the current version is a broken
 * store, unless a deploy committed it since the environment was read (a
 * change is visible only once its transaction, which moves the current
 * version too, has committed: read the environment again to tell).
 */
static enum status
check_nothing_beyond(struct store *store, DB_TXN *txn, struct range_scan *scan,
    const char *environment, const struct environment_record *record)
{
	struct environment_record again;
	const unsigned char *key, *value;
	size_t key_len, value_len;
	uint64_t key_version;
	uint32_t key_env_id;
	enum status status;

	status = range_next(store, scan, &key, &key_len, &value, &value_len);
	if (status == STATUS_NOT_FOUND)
		return STATUS_OK;	/* the end of changes.db */
	if (status != STATUS_OK)
		return status;
	if (!record_versioned_key_decode(key, key_len, &key_env_id,
	    &key_version))
		return malformed("changes.db");
	if (key_env_id != record->id)
		return STATUS_OK;
	if ((status = get_environment(store, txn, environment, 0, &again)) !=
	    STATUS_OK)
		return status;
	if (key_version <= again.current)
		return STATUS_OK;	/* a deploy since */
	log_error("store: changes.db holds system version %" PRIu64 " of %s, "
	    "beyond its current version %" PRIu64, key_version, environment,
	    again.current);
	return STATUS_SYSTEM;
}

/*
 * Reads the changes after r->after in ascending order (read_fn), in one
 * bulk scan of changes.db: versions are gapless, so the record that
 * follows version v must be v + 1, and one missing below the current
 * version is a broken store.
 */
static enum status
read_changes_after(struct store *store, DB_TXN *txn, void *arg)
{
	struct changes_read *r = arg;
	struct environment_record record;
	struct range_scan scan;
	unsigned char start[VERSIONED_KEY_SIZE];
	const unsigned char *key, *value;
	size_t key_len, value_len, want;
	uint64_t version = 0, key_version;
	uint32_t key_env_id;
	DBC *cursor = NULL;
	enum status status;

	r->count = 0;
	memset(&scan, 0, sizeof(scan));
	if ((status = get_environment(store, txn, r->environment, 0,
	    &record)) != STATUS_OK)
		return status;
	if (r->after >= record.current || r->limit == 0)
		return STATUS_OK;
	want = record.current - r->after < r->limit ?
	    (size_t)(record.current - r->after) : r->limit;
	if ((status = translate(store, store->changes->cursor(store->changes,
	    txn, &cursor, DB_READ_COMMITTED), "open a cursor")) != STATUS_OK)
		goto done;
	record_versioned_key(start, record.id, r->after + 1);
	if (!range_open(&scan, cursor, start, sizeof(start),
	    want * BULK_CHANGE_BYTES)) {
		status = translate(store, ENOMEM, "scan changes.db");
		goto done;
	}
	while (r->count < want) {
		version = r->after + 1 + r->count;
		if ((status = range_next(store, &scan, &key, &key_len, &value,
		    &value_len)) != STATUS_OK)
			break;
		if (!record_versioned_key_decode(key, key_len, &key_env_id,
		    &key_version) || key_env_id != record.id ||
		    key_version != version) {
			status = STATUS_NOT_FOUND;
			break;
		}
		if (!record_change_decode(value, value_len, version,
		    &r->out[r->count])) {
			status = malformed("changes.db");
			break;
		}
		r->count++;
	}
	if (status == STATUS_NOT_FOUND) {
		log_error("store: changes.db lacks system version %" PRIu64
		    " of %s, whose current version is %" PRIu64 ": a gap in "
		    "its history", version, r->environment, record.current);
		status = STATUS_SYSTEM;
	}
	if (status == STATUS_OK && r->after + want == record.current)
		status = check_nothing_beyond(store, txn, &scan, r->environment,
		    &record);
done:
	range_close(&scan);
	return close_cursor(store, cursor, status);
}

enum status
store_changes(struct store *store, const char *environment, uint64_t after,
    size_t limit, struct change_record *out, size_t *count)
{
	struct changes_read r = { environment, after, limit, out, 0 };
	enum status status = run_read(store, read_changes_after, &r,
	    "read changes");

	*count = status == STATUS_OK ? r.count : 0;
	return status;
}

enum status
store_walk_changes(struct store *store, const char *environment,
    uint64_t through, change_fn *fn, void *arg)
{
	struct change_record *batch;
	size_t count = 0;
	uint64_t after = 0;
	enum status status = STATUS_OK;

	if ((batch = calloc(CHANGES_BATCH, sizeof(*batch))) == NULL)
		return translate(store, ENOMEM, "walk changes");
	while (status == STATUS_OK && after < through) {
		status = store_changes(store, environment, after,
		    through - after < CHANGES_BATCH ? (size_t)(through - after) :
		    CHANGES_BATCH, batch, &count);
		if (status == STATUS_OK && count == 0)
			break;		/* through is past the current version */
		for (size_t i = 0; status == STATUS_OK && i < count; i++)
			status = fn(&batch[i], arg);
		after += count;
	}
	free(batch);
	return status;
}

/* The arguments and result of a read of an environment's keyframe versions. */
struct keyframes_read {
	const char	*environment;
	uint64_t	*versions;
	size_t		 count;
	size_t		 capacity;
};

/*
 * Reads the keys of an environment's keyframes in order (read_fn), never
 * their values: a keyframe can take several overflow pages.
 */
static enum status
read_keyframe_versions(struct store *store, DB_TXN *txn, void *arg)
{
	struct keyframes_read *r = arg;
	struct environment_record record;
	unsigned char key_buf[VERSIONED_KEY_SIZE];
	uint64_t *bigger, key_version;
	uint32_t key_env_id, flag = DB_SET_RANGE;
	DBC *cursor = NULL;
	DBT key, skip;
	enum status status;

	r->count = 0;
	if ((status = get_environment(store, txn, r->environment, 0,
	    &record)) != STATUS_OK)
		return status;
	if ((status = translate(store, store->keyframes->cursor(
	    store->keyframes, txn, &cursor, DB_READ_COMMITTED),
	    "open a cursor")) != STATUS_OK)
		return status;
	record_versioned_key(key_buf, record.id, 0);
	key = dbt(key_buf, sizeof(key_buf), sizeof(key_buf));
	memset(&skip, 0, sizeof(skip));
	skip.flags = DB_DBT_USERMEM | DB_DBT_PARTIAL;
	while ((status = translate(store, cursor->get(cursor, &key, &skip,
	    flag), "read keyframes.db")) == STATUS_OK) {
		flag = DB_NEXT;
		if (!record_versioned_key_decode(key_buf, key.size, &key_env_id,
		    &key_version)) {
			status = malformed("keyframes.db");
			break;
		}
		if (key_env_id != record.id)
			break;		/* past the environment's keyframes */
		if (r->count == r->capacity) {
			size_t capacity = r->capacity != 0 ? 2 * r->capacity : 64;

			if ((bigger = realloc(r->versions,
			    capacity * sizeof(*bigger))) == NULL) {
				status = translate(store, ENOMEM,
				    "read keyframes");
				break;
			}
			r->versions = bigger;
			r->capacity = capacity;
		}
		r->versions[r->count++] = key_version;
	}
	if (status == STATUS_NOT_FOUND)
		status = STATUS_OK;	/* past the last keyframe */
	return close_cursor(store, cursor, status);
}

enum status
store_keyframe_versions(struct store *store, const char *environment,
    uint64_t **out, size_t *count)
{
	struct keyframes_read r = { environment, NULL, 0, 0 };
	enum status status = run_read(store, read_keyframe_versions, &r,
	    "read keyframes");

	if (status != STATUS_OK) {
		free(r.versions);
		r.versions = NULL;
		r.count = 0;
	}
	*out = r.versions;
	*count = r.count;
	return status;
}

/* The arguments and result of a point-in-time read. */
struct instant_read {
	const char		*environment;
	uint64_t		 at_ms;
	struct change_record	*out;
	bool			 found;
};

/*
 * Finds the last system version created at or before at_ms (read_fn):
 * createdAt never goes backwards, so a binary search over the versions
 * finds it in a few lookups.
 */
static enum status
read_instant(struct store *store, DB_TXN *txn, void *arg)
{
	struct instant_read *r = arg;
	struct environment_record record;
	struct change_record probe;
	uint64_t low = 1, high, middle;
	enum status status;

	r->found = false;
	if ((status = get_environment(store, txn, r->environment, 0,
	    &record)) != STATUS_OK)
		return status;
	/* invariant: versions below low are at or before at_ms, above high after */
	high = record.current;
	while (low <= high) {
		middle = low + (high - low) / 2;
		/* versions are gapless: a missing one is a broken store */
		if ((status = get_change(store, txn, record.id, middle,
		    &probe)) != STATUS_OK)
			return status == STATUS_NOT_FOUND ?
			    malformed("changes.db") : status;
		if (probe.created_ms <= r->at_ms) {
			*r->out = probe;
			r->found = true;
			low = middle + 1;
		} else
			high = middle - 1;
	}
	return STATUS_OK;
}

enum status
store_version_at(struct store *store, const char *environment,
    uint64_t at_ms, struct change_record *out, bool *found)
{
	struct instant_read r = { environment, at_ms, out, false };
	enum status status = run_read(store, read_instant, &r,
	    "read the version at an instant");

	*found = status == STATUS_OK && r.found;
	return status;
}

/* The arguments and result of a read of every environment. */
struct environments_read {
	struct environment_summary	*list;
	size_t				 count;
	size_t				 capacity;
};

/* Reads environments.db in name order (read_fn). */
static enum status
read_environments(struct store *store, DB_TXN *txn, void *arg)
{
	struct environments_read *r = arg;
	struct environment_record record;
	unsigned char name[ENVIRONMENT_MAX + 1], value[ENVIRONMENT_VALUE_SIZE];
	DBC *cursor = NULL;
	DBT key, data;
	enum status status;

	r->count = 0;
	if ((status = translate(store, store->environments->cursor(
	    store->environments, txn, &cursor, DB_READ_COMMITTED),
	    "open a cursor")) != STATUS_OK)
		return status;
	key = dbt(name, 0, sizeof(name) - 1);
	data = dbt(value, 0, sizeof(value));
	while ((status = translate(store, cursor->get(cursor, &key, &data,
	    DB_NEXT), "read environments.db")) == STATUS_OK) {
		if (!record_environment_decode(value, data.size, &record) ||
		    key.size == 0 || key.size > ENVIRONMENT_MAX) {
			status = malformed("environments.db");
			break;
		}
		if (!grow_array(&r->list, r->count, &r->capacity,
		    sizeof(*r->list), 16)) {
			status = translate(store, ENOMEM, "read environments");
			break;
		}
		memcpy(r->list[r->count].name, name, key.size);
		r->list[r->count].name[key.size] = '\0';
		r->list[r->count].state.system_version = record.current;
		r->list[r->count].state.updated_ms = record.updated_ms;
		memcpy(r->list[r->count].reports, record.reports,
		    sizeof(record.reports));
		r->count++;
	}
	if (status == STATUS_NOT_FOUND)
		status = STATUS_OK;	/* past the last one */
	return close_cursor(store, cursor, status);
}

enum status
store_environments(struct store *store, struct environment_summary **out,
    size_t *count)
{
	struct environments_read r = { NULL, 0, 0 };
	enum status status = run_read(store, read_environments, &r,
	    "read environments");

	if (status != STATUS_OK) {
		free(r.list);
		r.list = NULL;
		r.count = 0;
	}
	*out = r.list;
	*count = r.count;
	return status;
}
