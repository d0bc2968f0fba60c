/*
 * The periods of each service: periods.db indexes every change by its
 * service, so that a service's history costs its own changes, not its
 * environment's. Written with each change (store.c), read by
 * store_service_history(), and built from changes.db when a store made
 * before it is opened.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "store.h"
#include "store_private.h"

/* Changes indexed in one transaction when periods.db is built. */
#define BUILD_BATCH	1024

/*
 * Indexes the change of deploy (a new version or a removal), which made
 * system_version of environment env_id at created_ms.
 */
enum status
put_period(struct store *store, DB_TXN *txn, uint32_t env_id,
    const struct deploy *deploy, uint64_t system_version, uint64_t created_ms)
{
	unsigned char key[PERIOD_KEY_MAX], value[PERIOD_VALUE_SIZE];
	size_t key_len = record_period_key(key, env_id, deploy->name,
	    deploy->name_len, system_version);

	record_period_encode(deploy->removal, deploy->version, created_ms,
	    value);
	return put_value(store, store->periods, txn, key, key_len, value,
	    sizeof(value), 0);
}

/* The arguments and result of a read of a service's periods. */
struct periods_read {
	const char		*environment;
	const char		*name;
	size_t			 name_len;
	struct service_period	*list;
	size_t			 count;
	size_t			 capacity;
};

/* Appends a period to r->list; false when out of memory. */
static bool
append_period(struct periods_read *r, const struct service_period *period)
{
	if (!grow_array(&r->list, r->count, &r->capacity,
	    sizeof(*r->list), 8))
		return false;
	r->list[r->count++] = *period;
	return true;
}

/*
 * Reads a service's changes newest first (read_fn) into its periods: a
 * version runs from its change to the next change of the service, a
 * removal ends one and starts none.
 */
static enum status
read_periods(struct store *store, DB_TXN *txn, void *arg)
{
	struct periods_read *r = arg;
	struct environment_record record;
	struct service_period period;
	unsigned char prefix[PERIOD_KEY_MAX], key_buf[PERIOD_KEY_MAX];
	unsigned char value[PERIOD_VALUE_SIZE];
	size_t prefix_len;
	uint64_t system_version, version, created_ms;
	bool removed, any = false;
	DBC *cursor = NULL;
	DBT key, data;
	enum status status;

	r->count = 0;
	if ((status = get_environment(store, txn, r->environment, 0,
	    &record)) != STATUS_OK)
		return status;
	if ((status = translate(store, store->periods->cursor(store->periods,
	    txn, &cursor, DB_READ_COMMITTED), "open a cursor")) != STATUS_OK)
		return status;
	/* past the service's last key, then back through its keys */
	prefix_len = record_period_key(prefix, record.id, r->name, r->name_len,
	    0) - VERSION_SIZE;
	memcpy(key_buf, prefix, prefix_len);
	memset(key_buf + prefix_len, 0xff, VERSION_SIZE);
	key = dbt(key_buf, prefix_len + VERSION_SIZE, sizeof(key_buf));
	data = dbt(value, 0, sizeof(value));
	status = cursor_before(store, cursor, &key, &data, "read periods.db");
	memset(&period, 0, sizeof(period));
	for (; status == STATUS_OK; status = translate(store, cursor->get(
	    cursor, &key, &data, DB_PREV), "read periods.db")) {
		if (!record_period_key_version(key_buf, key.size, prefix,
		    prefix_len, &system_version))
			break;	/* another service's */
		if (!record_period_decode(value, data.size, &removed, &version,
		    &created_ms)) {
			status = malformed("periods.db");
			break;
		}
		any = true;
		if (!removed) {
			period.version = version;
			period.from_system_version = system_version;
			period.from_ms = created_ms;
			if (!append_period(r, &period)) {
				status = translate(store, ENOMEM,
				    "read periods");
				break;
			}
		}
		/* what ends the period before it */
		period.has_to = true;
		period.to_system_version = system_version;
		period.to_ms = created_ms;
	}
	if (status == STATUS_NOT_FOUND)
		status = STATUS_OK;	/* the first record of all */
	if (status == STATUS_OK && !any)
		status = STATUS_NOT_FOUND;	/* never deployed there */
	return close_cursor(store, cursor, status);
}

enum status
store_service_history(struct store *store, const char *environment,
    const char *name, size_t name_len, struct service_period **out,
    size_t *count)
{
	struct periods_read r = { environment, name, name_len, NULL, 0, 0 };
	enum status status = run_read(store, read_periods, &r,
	    "read a service's history");

	if (status != STATUS_OK) {
		free(r.list);
		r.list = NULL;
		r.count = 0;
	}
	*out = r.list;
	*count = r.count;
	return status;
}

/*
 * Indexes, in one transaction, at most BUILD_BATCH changes of changes.db
 * from the key at *from on (env id . system version), and moves *from
 * past them; *indexed counts them, *done says none is left.
 */
static enum status
build_batch(struct store *store, unsigned char from[VERSIONED_KEY_SIZE],
    uint64_t *indexed, bool *done)
{
	unsigned char key_buf[VERSIONED_KEY_SIZE], value[CHANGE_VALUE_MAX];
	struct change_record change;
	struct deploy deploy;
	uint64_t system_version;
	uint32_t env_id;
	size_t n = 0;
	DB_TXN *txn = NULL;
	DBC *cursor = NULL;
	DBT key, data;
	enum status status;

	*done = false;
	if ((status = translate(store, store->env->txn_begin(store->env, NULL,
	    &txn, 0), "begin a transaction")) != STATUS_OK)
		return status;
	if ((status = translate(store, store->changes->cursor(store->changes,
	    txn, &cursor, 0), "open a cursor")) != STATUS_OK)
		goto done;
	memcpy(key_buf, from, VERSIONED_KEY_SIZE);
	key = dbt(key_buf, VERSIONED_KEY_SIZE, sizeof(key_buf));
	data = dbt(value, 0, sizeof(value));
	memset(&deploy, 0, sizeof(deploy));
	for (status = translate(store, cursor->get(cursor, &key, &data,
	    DB_SET_RANGE), "read changes.db"); status == STATUS_OK &&
	    n < BUILD_BATCH; status = translate(store, cursor->get(cursor,
	    &key, &data, DB_NEXT), "read changes.db")) {
		if (!record_versioned_key_decode(key_buf, key.size, &env_id,
		    &system_version) || !record_change_decode(value, data.size,
		    system_version, &change)) {
			status = malformed("changes.db");
			break;
		}
		memcpy(deploy.name, change.name, change.name_len);
		deploy.name_len = change.name_len;
		deploy.removal = change.removed;
		deploy.version = change.version;
		if ((status = put_period(store, txn, env_id, &deploy,
		    system_version, change.created_ms)) != STATUS_OK)
			break;
		record_versioned_key(from, env_id, system_version + 1);
		n++;
	}
	if (status == STATUS_NOT_FOUND) {
		*done = true;	/* past the last change */
		status = STATUS_OK;
	}
done:
	status = close_cursor(store, cursor, status);
	if (status == STATUS_OK &&
	    (status = translate(store, txn->commit(txn, 0),
	    "build periods.db")) == STATUS_OK)
		*indexed += n;
	else if (status != STATUS_OK)
		txn->abort(txn);
	return status;
}

/*
 * Indexes every change of changes.db into periods.db, which was just
 * created: a store made before it gains it once, when it is opened.
 */
enum status
build_periods(struct store *store)
{
	unsigned char from[VERSIONED_KEY_SIZE];
	uint64_t indexed = 0;
	bool done = false;
	enum status status = STATUS_OK;

	record_versioned_key(from, 0, 0);
	while (!done && (status = build_batch(store, from, &indexed,
	    &done)) == STATUS_OK)
		continue;
	if (status == STATUS_OK && indexed > 0)
		log_info("store: indexed %" PRIu64 " changes into periods.db",
		    indexed);
	return busy_if_deadlock(status, "build periods.db");
}
