/*
 * Reports as they really arrive: the eventIds already answered, the keys
 * that order a service's reports, the audit log of every report, and
 * their expiry. Called by a deploy's transaction (store.c) and by the
 * maintainer (store_expire()); README's "Deploy reports" gives the rules.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "store.h"
#include "store_private.h"

/* Records an expiry removes in one transaction, so that deploys wait little. */
#define EXPIRE_BATCH	256

/* True when an event record names the same report as deploy. */
static bool
same_report(const struct event_record *event, const struct deploy *deploy)
{
	return event->removal == deploy->removal &&
	    (deploy->removal || event->version == deploy->version) &&
	    service_name_compare(event->name, event->name_len, deploy->name,
	    deploy->name_len) == 0;
}

/*
 * Looks up the eventId of deploy (which must carry one) in environment
 * env_id: *duplicate and *answered say whether it was answered within the
 * event retention, and with which system version. STATUS_CONFLICT when
 * it was, for another report.
 */
enum status
find_event(struct store *store, DB_TXN *txn, uint32_t env_id,
    const struct deploy *deploy, uint64_t now, bool *duplicate,
    uint64_t *answered)
{
	unsigned char key[EVENT_KEY_MAX], value[EVENT_VALUE_MAX];
	struct event_record event;
	size_t key_len, size;
	enum status status;

	*duplicate = false;
	key_len = record_event_key(key, env_id, deploy->key.event_id,
	    deploy->key.event_id_len);
	status = get_value(store, store->events, txn, key, key_len, value,
	    sizeof(value), &size, DB_RMW);
	if (status == STATUS_NOT_FOUND)
		return STATUS_OK;
	if (status != STATUS_OK)
		return status;
	if (!record_event_decode(value, size, &event))
		return malformed("events.db");
	/* an expired one the maintainer has not removed yet is forgotten */
	if (now - event.received_ms >= store->event_retention_ms &&
	    now > event.received_ms)
		return STATUS_OK;
	if (!same_report(&event, deploy))
		return STATUS_CONFLICT;
	*duplicate = true;
	*answered = event.system_version;
	return STATUS_OK;
}

/* Orders a and b: negative, zero or positive. */
static int
compare_u64(uint64_t a, uint64_t b)
{
	return a < b ? -1 : a > b;
}

/*
 * Judges deploy against the keys its service recorded in env_id: *stale
 * when its key is lower, or equal while it says something other than the
 * service's state (current: the service runs, at version). Otherwise, when
 * it carries a key, records the higher of each.
 */
enum status
judge_keys(struct store *store, DB_TXN *txn, uint32_t env_id,
    const struct deploy *deploy, bool current, uint64_t version, bool *stale)
{
	const struct report_key *report = &deploy->key;
	unsigned char key[SERVICE_KEY_MAX], value[KEYS_VALUE_SIZE];
	struct service_keys keys;
	size_t key_len, size;
	bool same;
	int c = 0;
	bool compared = false;
	enum status status;

	*stale = false;
	if (!report->has_sequence && !report->has_deployed_at)
		return STATUS_OK;	/* never stale, and nothing to record */
	key_len = record_service_key(key, env_id, deploy->name,
	    deploy->name_len);
	memset(&keys, 0, sizeof(keys));
	status = get_value(store, store->keys, txn, key, key_len, value,
	    sizeof(value), &size, DB_RMW);
	if (status == STATUS_OK && !record_keys_decode(value, size, &keys))
		return malformed("keys.db");
	if (status != STATUS_OK && status != STATUS_NOT_FOUND)
		return status;
	if (report->has_sequence && keys.has_sequence) {
		c = compare_u64(report->sequence, keys.sequence);
		compared = true;
	} else if (report->has_deployed_at && keys.has_deployed_at) {
		c = compare_u64(report->deployed_at_ms, keys.deployed_at_ms);
		compared = true;
	}
	same = deploy->removal ? !current : current &&
	    version == deploy->version;
	if (compared && (c < 0 || (c == 0 && !same))) {
		*stale = true;
		return STATUS_OK;
	}
	if (report->has_sequence && (!keys.has_sequence ||
	    report->sequence > keys.sequence)) {
		keys.has_sequence = true;
		keys.sequence = report->sequence;
	}
	if (report->has_deployed_at && (!keys.has_deployed_at ||
	    report->deployed_at_ms > keys.deployed_at_ms)) {
		keys.has_deployed_at = true;
		keys.deployed_at_ms = report->deployed_at_ms;
	}
	record_keys_encode(&keys, value);
	return put_value(store, store->keys, txn, key, key_len, value,
	    sizeof(value), 0);
}

/*
 * Records the report deploy, answered system_version with outcome at now,
 * in environment record: its eventId (unless it is a duplicate, whose
 * first report stays) and its audit entry, whose id it takes from record.
 */
enum status
record_report(struct store *store, DB_TXN *txn,
    struct environment_record *record, const struct deploy *deploy,
    enum deploy_outcome outcome, uint64_t system_version, uint64_t now)
{
	unsigned char key[EVENT_TIME_KEY_MAX], value[AUDIT_VALUE_MAX];
	unsigned char audit_key[VERSIONED_KEY_SIZE];
	struct audit_entry *entry;
	struct event_record event;
	size_t key_len;
	enum status status;

	if (deploy->key.has_event_id && outcome != OUTCOME_DUPLICATE) {
		event.received_ms = now;
		event.system_version = system_version;
		event.removal = deploy->removal;
		event.version = deploy->version;
		event.name = deploy->name;
		event.name_len = deploy->name_len;
		key_len = record_event_key(key, record->id,
		    deploy->key.event_id, deploy->key.event_id_len);
		if ((status = put_value(store, store->events, txn, key, key_len,
		    value, record_event_encode(&event, value), 0)) != STATUS_OK)
			return status;
		key_len = record_event_time_key(key, record->id, now,
		    deploy->key.event_id, deploy->key.event_id_len);
		value[0] = 1;	/* the format byte: nothing else */
		if ((status = put_value(store, store->event_times, txn, key,
		    key_len, value, 1, 0)) != STATUS_OK)
			return status;
	}
	if ((entry = malloc(sizeof(*entry))) == NULL)
		return translate(store, ENOMEM, "record a report");
	entry->id = record->next_audit_id++;
	entry->received_ms = now;
	entry->outcome = outcome;
	entry->system_version = system_version;
	memcpy(entry->name, deploy->name, deploy->name_len);
	entry->name_len = deploy->name_len;
	entry->removal = deploy->removal;
	entry->version = deploy->removal ? 0 : deploy->version;
	entry->key = deploy->key;
	entry->deployed_by = deploy->deployed_by;
	entry->reason = deploy->reason;
	entry->release_hash = deploy->release_hash;
	record_versioned_key(audit_key, record->id, entry->id);
	status = put_value(store, store->audit, txn, audit_key,
	    sizeof(audit_key), value, record_audit_encode(entry, value),
	    DB_NOOVERWRITE);
	free(entry);
	return status;
}

/* The arguments and result of a read of the audit log. */
struct events_read {
	const char		*environment;
	uint64_t		 before;	/* 0: from the newest */
	size_t			 limit;
	struct audit_entry	*out;
	size_t			 count;
	bool			 more;
};

/* Reads the audit log newest first (read_fn): ids below before, descending. */
static enum status
read_events(struct store *store, DB_TXN *txn, void *arg)
{
	struct events_read *r = arg;
	struct environment_record record;
	unsigned char key_buf[VERSIONED_KEY_SIZE], value[AUDIT_VALUE_MAX];
	uint64_t start, id;
	uint32_t key_env_id;
	DBC *cursor = NULL;
	DBT key, data;
	enum status status;

	r->count = 0;
	r->more = false;
	if ((status = get_environment(store, txn, r->environment, 0,
	    &record)) != STATUS_OK)
		return status;
	start = r->before != 0 && r->before < record.next_audit_id ?
	    r->before : record.next_audit_id;
	if ((status = translate(store, store->audit->cursor(store->audit, txn,
	    &cursor, DB_READ_COMMITTED), "open a cursor")) != STATUS_OK)
		return status;
	/* the first entry at or above start, then back from it */
	record_versioned_key(key_buf, record.id, start);
	key = dbt(key_buf, sizeof(key_buf), sizeof(key_buf));
	data = dbt(value, 0, sizeof(value));
	status = translate(store, cursor->get(cursor, &key, &data,
	    DB_SET_RANGE), "read audit.db");
	status = translate(store, cursor->get(cursor, &key, &data,
	    status == STATUS_OK ? DB_PREV : DB_LAST), "read audit.db");
	for (; status == STATUS_OK; status = translate(store, cursor->get(
	    cursor, &key, &data, DB_PREV), "read audit.db")) {
		if (!record_versioned_key_decode(key_buf, key.size, &key_env_id,
		    &id) || key_env_id != record.id || id >= start)
			break;	/* another environment's */
		if (r->count == r->limit) {
			r->more = true;
			break;
		}
		if (!record_audit_decode(value, data.size, id,
		    &r->out[r->count])) {
			status = malformed("audit.db");
			break;
		}
		r->count++;
	}
	if (status == STATUS_NOT_FOUND)
		status = STATUS_OK;	/* the first record of all */
	return close_cursor(store, cursor, status);
}

enum status
store_events(struct store *store, const char *environment, uint64_t before,
    size_t limit, struct audit_entry *out, size_t *count, bool *more)
{
	struct events_read r = { environment, before, limit, out, 0, false };
	enum status status = run_read(store, read_events, &r, "read events");

	*count = status == STATUS_OK ? r.count : 0;
	*more = status == STATUS_OK && r.more;
	return status;
}

/*
 * Removes, in one transaction, at most EXPIRE_BATCH eventIds of
 * environment env_id received before cutoff: each with its events.db
 * record, unless that record is of a later report of the same eventId.
 * *removed counts them; *done says none is left.
 */
static enum status
expire_events(struct store *store, uint32_t env_id, uint64_t cutoff,
    uint64_t *removed, bool *done)
{
	unsigned char key_buf[EVENT_TIME_KEY_MAX], event_key[EVENT_KEY_MAX];
	unsigned char value[EVENT_VALUE_MAX];
	struct event_record event;
	const char *event_id;
	size_t event_id_len, event_key_len, size, n = 0;
	uint64_t received;
	uint32_t key_env_id;
	DB_TXN *txn = NULL;
	DBC *cursor = NULL;
	DBT key, data;
	enum status status;

	*done = false;
	if ((status = translate(store, store->env->txn_begin(store->env, NULL,
	    &txn, 0), "begin a transaction")) != STATUS_OK)
		return status;
	if ((status = translate(store, store->event_times->cursor(
	    store->event_times, txn, &cursor, 0), "open a cursor")) != STATUS_OK)
		goto done;
	key = dbt(key_buf, record_event_time_key(key_buf, env_id, 0, "", 0),
	    sizeof(key_buf));
	memset(&data, 0, sizeof(data));
	data.flags = DB_DBT_USERMEM | DB_DBT_PARTIAL;	/* the key is enough */
	for (status = translate(store, cursor->get(cursor, &key, &data,
	    DB_SET_RANGE | DB_RMW), "read event-times.db");
	    status == STATUS_OK && n < EXPIRE_BATCH;
	    status = translate(store, cursor->get(cursor, &key, &data,
	    DB_NEXT | DB_RMW), "read event-times.db")) {
		if (!record_event_time_key_decode(key_buf, key.size,
		    &key_env_id, &received, &event_id, &event_id_len)) {
			status = malformed("event-times.db");
			break;
		}
		if (key_env_id != env_id || received >= cutoff)
			break;
		event_key_len = record_event_key(event_key, env_id, event_id,
		    event_id_len);
		status = get_value(store, store->events, txn, event_key,
		    event_key_len, value, sizeof(value), &size, DB_RMW);
		if (status == STATUS_OK) {
			if (!record_event_decode(value, size, &event)) {
				status = malformed("events.db");
				break;
			}
			if (event.received_ms == received &&
			    (status = translate(store, store->events->del(
			    store->events, txn, &(DBT){ .data = event_key,
			    .size = (u_int32_t)event_key_len }, 0),
			    "expire events.db")) != STATUS_OK)
				break;
		} else if (status != STATUS_NOT_FOUND)
			break;
		if ((status = translate(store, cursor->del(cursor, 0),
		    "expire event-times.db")) != STATUS_OK)
			break;
		n++;
	}
	if (status == STATUS_NOT_FOUND || (status == STATUS_OK &&
	    n < EXPIRE_BATCH))
		*done = true;
	if (status == STATUS_NOT_FOUND)
		status = STATUS_OK;
done:
	status = close_cursor(store, cursor, status);
	if (status == STATUS_OK)
		status = commit_early(store, txn);
	else
		txn->abort(txn);
	if (status == STATUS_OK)
		*removed += n;
	return status;
}

/*
 * Removes, in one transaction, at most EXPIRE_BATCH audit entries of
 * environment env_id received before cutoff, oldest first; *done says
 * none is left.
 */
static enum status
expire_audit(struct store *store, uint32_t env_id, uint64_t cutoff,
    uint64_t *removed, bool *done)
{
	unsigned char key_buf[VERSIONED_KEY_SIZE], value[AUDIT_VALUE_MAX];
	struct audit_entry *entry;
	uint64_t id;
	uint32_t key_env_id;
	size_t n = 0;
	DB_TXN *txn = NULL;
	DBC *cursor = NULL;
	DBT key, data;
	enum status status;

	*done = false;
	if ((entry = malloc(sizeof(*entry))) == NULL)
		return translate(store, ENOMEM, "expire audit.db");
	if ((status = translate(store, store->env->txn_begin(store->env, NULL,
	    &txn, 0), "begin a transaction")) != STATUS_OK)
		goto done;
	if ((status = translate(store, store->audit->cursor(store->audit, txn,
	    &cursor, 0), "open a cursor")) != STATUS_OK)
		goto done;
	record_versioned_key(key_buf, env_id, 0);
	key = dbt(key_buf, sizeof(key_buf), sizeof(key_buf));
	data = dbt(value, 0, sizeof(value));
	for (status = translate(store, cursor->get(cursor, &key, &data,
	    DB_SET_RANGE | DB_RMW), "read audit.db");
	    status == STATUS_OK && n < EXPIRE_BATCH;
	    status = translate(store, cursor->get(cursor, &key, &data,
	    DB_NEXT | DB_RMW), "read audit.db")) {
		if (!record_versioned_key_decode(key_buf, key.size, &key_env_id,
		    &id) || key_env_id != env_id)
			break;
		if (!record_audit_decode(value, data.size, id, entry)) {
			status = malformed("audit.db");
			break;
		}
		/* ids follow the clock, so the first one kept ends the walk */
		if (entry->received_ms >= cutoff)
			break;
		if ((status = translate(store, cursor->del(cursor, 0),
		    "expire audit.db")) != STATUS_OK)
			break;
		n++;
	}
	if (status == STATUS_NOT_FOUND || (status == STATUS_OK &&
	    n < EXPIRE_BATCH))
		*done = true;
	if (status == STATUS_NOT_FOUND)
		status = STATUS_OK;
done:
	status = close_cursor(store, cursor, status);
	if (txn != NULL && status == STATUS_OK)
		status = commit_early(store, txn);
	else if (txn != NULL)
		txn->abort(txn);
	if (status == STATUS_OK)
		*removed += n;
	free(entry);
	return status;
}

/* What expires in one environment, batch after batch. */
typedef enum status expire_fn(struct store *, uint32_t, uint64_t, uint64_t *,
    bool *);

/* Runs expire over env_id until nothing is left before cutoff. */
static enum status
expire_all(struct store *store, expire_fn *expire, uint32_t env_id,
    uint64_t cutoff, uint64_t *removed)
{
	enum status status;
	bool done = false;

	for (int deadlocks = 0; !done;) {
		status = expire(store, env_id, cutoff, removed, &done);
		/* a deploy won the lock: try the batch again, a few times */
		if (status == STATUS_DEADLOCK && ++deadlocks < 16)
			continue;
		if (status != STATUS_OK)
			return busy_if_deadlock(status, "expire");
	}
	return STATUS_OK;
}

/* The arguments and result of a read of an environment's id. */
struct id_read {
	const char	*environment;
	uint32_t	 id;
};

/* Reads an environment's id (read_fn). */
static enum status
read_environment_id(struct store *store, DB_TXN *txn, void *arg)
{
	struct id_read *r = arg;
	struct environment_record record;
	enum status status = get_environment(store, txn, r->environment, 0,
	    &record);

	r->id = record.id;
	return status;
}

enum status
store_expire(struct store *store, uint64_t *removed)
{
	struct environment_summary *list = NULL;
	struct id_read r;
	uint64_t now = now_ms(), count = 0;
	size_t n = 0;
	enum status status;

	if ((status = store_environments(store, &list, &n)) != STATUS_OK)
		goto done;
	for (size_t i = 0; i < n && status == STATUS_OK; i++) {
		r.environment = list[i].name;
		if ((status = run_read(store, read_environment_id, &r,
		    "expire")) != STATUS_OK)
			break;
		if (now > store->event_retention_ms)
			status = expire_all(store, expire_events, r.id,
			    now - store->event_retention_ms, &count);
		if (status == STATUS_OK && now > store->audit_retention_ms)
			status = expire_all(store, expire_audit, r.id,
			    now - store->audit_retention_ms, &count);
	}
	if (status == STATUS_OK && count > 0)
		status = flush_committed(store);
done:
	free(list);
	if (removed != NULL)
		*removed = count;
	return status;
}
