/*
 * The reads of the store: the services of a system version, where an
 * environment stands, its history, one change, the version in force at
 * an instant, and every environment. Each is a read_fn that run_read()
 * (store.c) runs in a read-committed transaction.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "store.h"
#include "store_private.h"

/* The arguments and result of a snapshot read. */
struct services_read {
	const char		*environment;
	uint64_t		 system_version;	/* 0: the current one */
	struct service_list	*list;
};

/* Reads a snapshot (read_fn). */
static int
read_services(struct store *store, DB_TXN *txn, void *arg)
{
	struct services_read *r = arg;
	DBC *current = NULL, *keyframes = NULL, *changes = NULL;
	struct environment_record record;
	uint64_t system_version = r->system_version;
	bool complete = false;
	int rc, rc_close;

	service_list_clear(r->list);
	if ((rc = get_environment(store, txn, r->environment, 0, &record)) != 0)
		return rc;
	if (system_version == 0)
		system_version = record.current;
	if (system_version > record.current)
		return DB_NOTFOUND;
	/*
	 * The newest version is the current map, unless a deploy committed
	 * since the environment was read. Keyframes and changes at or below
	 * the current version never change: reads need not hold their locks.
	 */
	if (system_version == record.current) {
		if ((rc = store->current->cursor(store->current, txn, &current,
		    DB_READ_COMMITTED)) != 0 ||
		    (rc = scan_current(current, record.id, record.services,
		    system_version, r->list, &complete)) != 0)
			goto done;
	}
	if (!complete) {
		service_list_clear(r->list);
		if ((rc = store->keyframes->cursor(store->keyframes, txn,
		    &keyframes, DB_READ_COMMITTED)) != 0 ||
		    (rc = store->changes->cursor(store->changes, txn, &changes,
		    DB_READ_COMMITTED)) != 0)
			goto done;
		rc = scan_keyframe(keyframes, changes, record.id,
		    system_version, r->list);
	}
done:
	if (changes != NULL && (rc_close = changes->close(changes)) != 0 &&
	    rc == 0)
		rc = rc_close;
	if (keyframes != NULL && (rc_close = keyframes->close(keyframes)) != 0 &&
	    rc == 0)
		rc = rc_close;
	if (current != NULL && (rc_close = current->close(current)) != 0 &&
	    rc == 0)
		rc = rc_close;
	return rc;
}

enum status
store_services(struct store *store, const char *environment,
    uint64_t system_version, struct service_list *list)
{
	struct services_read r = { environment, system_version, list };
	int rc = run_read(store, read_services, &r);

	if (rc != 0)
		service_list_clear(list);
	return translate(store, rc, "read services");
}

/* The arguments and result of a read of an environment's record. */
struct current_read {
	const char			*environment;
	struct environment_record	 record;
};

/* Reads an environment's record (read_fn). */
static int
read_current(struct store *store, DB_TXN *txn, void *arg)
{
	struct current_read *r = arg;

	return get_environment(store, txn, r->environment, 0, &r->record);
}

enum status
store_current(struct store *store, const char *environment,
    struct environment_state *state)
{
	struct current_read r = { environment, { 0, 0, 0, 0, 0 } };
	int rc = run_read(store, read_current, &r);

	if (rc == 0) {
		state->system_version = r.record.current;
		state->updated_ms = r.record.updated_ms;
	}
	return translate(store, rc, "read environment");
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
static int
read_history(struct store *store, DB_TXN *txn, void *arg)
{
	struct history_read *r = arg;
	struct environment_record record;
	unsigned char key_buf[VERSIONED_KEY_SIZE], value[CHANGE_VALUE_MAX];
	uint64_t version, key_version;
	uint32_t key_env_id;
	DBC *cursor = NULL;
	DBT key, data;
	int rc, rc_close;

	r->count = 0;
	r->more = false;
	if ((rc = get_environment(store, txn, r->environment, 0, &record)) != 0)
		return rc;
	version = record.current;
	if (r->before != 0 && r->before - 1 < version)
		version = r->before - 1;
	if (version == 0 || r->limit == 0)
		return 0;
	if ((rc = store->changes->cursor(store->changes, txn, &cursor,
	    DB_READ_COMMITTED)) != 0)
		return rc;
	record_versioned_key(key_buf, record.id, version);
	key = dbt(key_buf, sizeof(key_buf), sizeof(key_buf));
	data = dbt(value, 0, sizeof(value));
	for (rc = cursor->get(cursor, &key, &data, DB_SET); rc == 0;
	    rc = cursor->get(cursor, &key, &data, DB_PREV)) {
		if (!record_versioned_key_decode(key_buf, key.size, &key_env_id,
		    &key_version) || key_env_id != record.id ||
		    key_version != version - r->count ||
		    !record_change_decode(value, data.size, version - r->count,
		    &r->out[r->count])) {
			rc = DB_VERIFY_BAD;	/* a gap, or a broken record */
			break;
		}
		if (++r->count == r->limit || version - r->count == 0)
			break;
	}
	r->more = rc == 0 && version - r->count > 0;
	if ((rc_close = cursor->close(cursor)) != 0 && rc == 0)
		rc = rc_close;
	return rc;
}

enum status
store_history(struct store *store, const char *environment, uint64_t before,
    size_t limit, struct change_record *out, size_t *count, bool *more)
{
	struct history_read r = { environment, before, limit, out, 0, false };
	int rc = run_read(store, read_history, &r);

	*count = rc == 0 ? r.count : 0;
	*more = rc == 0 && r.more;
	return translate(store, rc, "read history");
}

/* Reads the change of one system version with a point lookup; a Berkeley DB code. */
static int
get_change(struct store *store, DB_TXN *txn, uint32_t env_id,
    uint64_t system_version, struct change_record *out)
{
	unsigned char key[VERSIONED_KEY_SIZE], value[CHANGE_VALUE_MAX];
	size_t size;
	int rc;

	record_versioned_key(key, env_id, system_version);
	if ((rc = get_value(store->changes, txn, key, sizeof(key), value,
	    sizeof(value), &size, DB_READ_COMMITTED)) != 0)
		return rc;
	return record_change_decode(value, size, system_version, out) ? 0 :
	    DB_VERIFY_BAD;
}

/* The arguments and result of a read of one change. */
struct change_read {
	const char		*environment;
	uint64_t		 system_version;
	struct change_record	*out;
};

/* Reads the change that made a system version (read_fn). */
static int
read_change(struct store *store, DB_TXN *txn, void *arg)
{
	struct change_read *r = arg;
	struct environment_record record;
	int rc;

	if ((rc = get_environment(store, txn, r->environment, 0, &record)) != 0)
		return rc;
	if (r->system_version == 0 || r->system_version > record.current)
		return DB_NOTFOUND;
	return get_change(store, txn, record.id, r->system_version, r->out);
}

enum status
store_change(struct store *store, const char *environment,
    uint64_t system_version, struct change_record *out)
{
	struct change_read r = { environment, system_version, out };

	return translate(store, run_read(store, read_change, &r),
	    "read a change");
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
static int
read_instant(struct store *store, DB_TXN *txn, void *arg)
{
	struct instant_read *r = arg;
	struct environment_record record;
	struct change_record probe;
	uint64_t low = 1, high, middle;
	int rc;

	r->found = false;
	if ((rc = get_environment(store, txn, r->environment, 0, &record)) != 0)
		return rc;
	/* invariant: versions below low are at or before at_ms, above high after */
	high = record.current;
	while (low <= high) {
		middle = low + (high - low) / 2;
		if ((rc = get_change(store, txn, record.id, middle, &probe)) != 0)
			return rc == DB_NOTFOUND ? DB_VERIFY_BAD : rc;
		if (probe.created_ms <= r->at_ms) {
			*r->out = probe;
			r->found = true;
			low = middle + 1;
		} else
			high = middle - 1;
	}
	return 0;
}

enum status
store_version_at(struct store *store, const char *environment,
    uint64_t at_ms, struct change_record *out, bool *found)
{
	struct instant_read r = { environment, at_ms, out, false };
	int rc = run_read(store, read_instant, &r);

	*found = rc == 0 && r.found;
	return translate(store, rc, "read the version at an instant");
}

/* The arguments and result of a read of every environment. */
struct environments_read {
	struct environment_summary	*list;
	size_t				 count;
	size_t				 capacity;
};

/* Reads environments.db in name order (read_fn). */
static int
read_environments(struct store *store, DB_TXN *txn, void *arg)
{
	struct environments_read *r = arg;
	struct environment_summary *bigger;
	struct environment_record record;
	unsigned char name[ENVIRONMENT_MAX + 1], value[ENVIRONMENT_VALUE_SIZE];
	DBC *cursor = NULL;
	DBT key, data;
	int rc, rc_close;

	r->count = 0;
	if ((rc = store->environments->cursor(store->environments, txn,
	    &cursor, DB_READ_COMMITTED)) != 0)
		return rc;
	key = dbt(name, 0, sizeof(name) - 1);
	data = dbt(value, 0, sizeof(value));
	while ((rc = cursor->get(cursor, &key, &data, DB_NEXT)) == 0) {
		if (!record_environment_decode(value, data.size, &record) ||
		    key.size == 0 || key.size > ENVIRONMENT_MAX) {
			rc = DB_VERIFY_BAD;
			break;
		}
		if (r->count == r->capacity) {
			size_t capacity = r->capacity != 0 ? 2 * r->capacity : 16;

			if ((bigger = realloc(r->list,
			    capacity * sizeof(*bigger))) == NULL) {
				rc = ENOMEM;
				break;
			}
			r->list = bigger;
			r->capacity = capacity;
		}
		memcpy(r->list[r->count].name, name, key.size);
		r->list[r->count].name[key.size] = '\0';
		r->list[r->count].state.system_version = record.current;
		r->list[r->count].state.updated_ms = record.updated_ms;
		r->count++;
	}
	if (rc == DB_NOTFOUND)
		rc = 0;
	if ((rc_close = cursor->close(cursor)) != 0 && rc == 0)
		rc = rc_close;
	return rc;
}

enum status
store_environments(struct store *store, struct environment_summary **out,
    size_t *count)
{
	struct environments_read r = { NULL, 0, 0 };
	int rc = run_read(store, read_environments, &r);

	if (rc != 0) {
		free(r.list);
		r.list = NULL;
		r.count = 0;
	}
	*out = r.list;
	*count = r.count;
	return translate(store, rc, "read environments");
}
