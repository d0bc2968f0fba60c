/*
 * The periods of each service: periods.db indexes every change by its
 * service, so that a service's history costs its own changes, not its
 * environment's. Written with each change (store_deploy.c), read by
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

/*
 * Indexes the change of deploy (a new version or a removal), which made
 * system_version of environment env_id at created_ms.
 */
enum status
put_period(struct store *store, DB_TXN *txn, uint32_t env_id,
    const struct deploy *deploy, uint64_t system_version, uint64_t created_ms)
{
	unsigned char key[SERVICE_KEY_MAX], value[PERIOD_VALUE_SIZE];
	struct period_record period = { system_version, deploy->removal,
	    deploy->version, created_ms };

	record_period_encode(&period, value);
	return put_value(store, store->periods, txn, key,
	    record_service_key(key, env_id, deploy->name, deploy->name_len),
	    value, sizeof(value), DB_NODUPDATA);
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

/* Reverses r->list: oldest first becomes newest first. */
static void
reverse_periods(struct periods_read *r)
{
	struct service_period swap;

	for (size_t i = 0, j = r->count; i + 1 < j; i++, j--) {
		swap = r->list[i];
		r->list[i] = r->list[j - 1];
		r->list[j - 1] = swap;
	}
}

/*
 * Reads a service's changes (read_fn) into its periods, newest first: a
 * version runs from its change to the next change of the service, a
 * removal ends one and starts none.
 */
static enum status
read_periods(struct store *store, DB_TXN *txn, void *arg)
{
	struct periods_read *r = arg;
	struct environment_record record;
	struct period_record change;
	struct service_period period;
	unsigned char key_buf[SERVICE_KEY_MAX], value[PERIOD_VALUE_SIZE];
	DBC *cursor = NULL;
	DBT key, data;
	u_int32_t step = DB_SET;
	enum status status;

	r->count = 0;
	if ((status = get_environment(store, txn, r->environment, 0,
	    &record)) != STATUS_OK)
		return status;
	if ((status = translate(store, store->periods->cursor(store->periods,
	    txn, &cursor, DB_READ_COMMITTED), "open a cursor")) != STATUS_OK)
		return status;
	/* the service's changes are its key's duplicates, oldest first */
	key = dbt(key_buf, record_service_key(key_buf, record.id, r->name,
	    r->name_len), sizeof(key_buf));
	data = dbt(value, 0, sizeof(value));
	memset(&period, 0, sizeof(period));
	for (; (status = translate(store, cursor->get(cursor, &key, &data,
	    step), "read periods.db")) == STATUS_OK; step = DB_NEXT_DUP) {
		if (!record_period_decode(value, data.size, &change)) {
			status = malformed("periods.db");
			break;
		}
		/* it ends the period before it, if one runs */
		if (r->count > 0 && !r->list[r->count - 1].has_to) {
			r->list[r->count - 1].has_to = true;
			r->list[r->count - 1].to_system_version =
			    change.system_version;
			r->list[r->count - 1].to_ms = change.created_ms;
		}
		if (change.removed)
			continue;
		period.version = change.version;
		period.from_system_version = change.system_version;
		period.from_ms = change.created_ms;
		if (!append_period(r, &period)) {
			status = translate(store, ENOMEM, "read periods");
			break;
		}
	}
	if (status == STATUS_NOT_FOUND)	/* past its last change, or none */
		status = step == DB_SET ? STATUS_NOT_FOUND : STATUS_OK;
	if (status == STATUS_OK)
		reverse_periods(r);
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

/* Indexes one change of changes.db (key, value) into periods.db (visit_fn). */
static enum status
index_change(struct store *store, DB_TXN *txn, DBC *cursor, const DBT *key,
    const DBT *value, void *arg, bool *counted)
{
	struct change_record change;
	struct deploy deploy;
	uint64_t system_version;
	uint32_t env_id;
	enum status status;

	(void)cursor;
	(void)arg;
	if (!record_versioned_key_decode(key->data, key->size, &env_id,
	    &system_version) || !record_change_decode(value->data, value->size,
	    system_version, &change))
		return malformed("changes.db");
	memset(&deploy, 0, sizeof(deploy));
	memcpy(deploy.name, change.name, change.name_len);
	deploy.name_len = change.name_len;
	deploy.removal = change.removed;
	deploy.version = change.version;
	if ((status = put_period(store, txn, env_id, &deploy, system_version,
	    change.created_ms)) == STATUS_OK)
		*counted = true;
	return status;
}

/*
 * Indexes every change of changes.db into periods.db, which was just
 * created: a store made before it gains it once, when it is opened.
 */
enum status
build_periods(struct store *store)
{
	uint64_t indexed = 0;
	enum status status = walk_all(store, store->changes, 0, index_change,
	    NULL, &indexed);

	if (status == STATUS_OK && indexed > 0)
		log_info("store: indexed %" PRIu64 " changes into periods.db",
		    indexed);
	return busy_if_deadlock(status, "build periods.db");
}
