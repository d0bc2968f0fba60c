/*
 * Reports as they really arrive: the eventIds already answered, the keys
 * that order a service's reports (kept with its current version while it
 * runs, in keys.db otherwise), the audit log of every report, and
 * their expiry. Called by a deploy's transaction (store_deploy.c) and by the
 * maintainer (store_expire()); README's "Deploy reports" gives the rules.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "store.h"
#include "store_private.h"

/* Audit entries an expiry reads in one transaction: deploys wait little. */
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
 * Reads the events.db record of key (key_len bytes) into *event, whose
 * name points into value; STATUS_NOT_FOUND when there is none.
 */
static enum status
get_event(struct store *store, DB_TXN *txn, const unsigned char *key,
    size_t key_len, unsigned char value[EVENT_VALUE_MAX],
    struct event_record *event)
{
	size_t size;
	enum status status = get_value(store, store->events, txn, key,
	    key_len, value, EVENT_VALUE_MAX, &size, DB_RMW);

	if (status == STATUS_OK && !record_event_decode(value, size, event))
		return malformed("events.db");
	return status;
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
	enum status status;

	*duplicate = false;
	status = get_event(store, txn, key, record_event_key(key, env_id,
	    deploy->key.event_id, deploy->key.event_id_len), value, &event);
	if (status == STATUS_NOT_FOUND)
		return STATUS_OK;
	if (status != STATUS_OK)
		return status;
	/* an expired one the maintainer has not removed yet is forgotten */
	if (now > event.received_ms &&
	    now - event.received_ms >= store->event_retention_ms)
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

/* Raises each key of keys to the one of higher when higher; true when one moved. */
static bool
raise_keys(struct service_keys *keys, const struct service_keys *higher)
{
	bool moved = false;

	if (higher->has_sequence && (!keys->has_sequence ||
	    higher->sequence > keys->sequence)) {
		keys->has_sequence = true;
		keys->sequence = higher->sequence;
		moved = true;
	}
	if (higher->has_deployed_at && (!keys->has_deployed_at ||
	    higher->deployed_at_ms > keys->deployed_at_ms)) {
		keys->has_deployed_at = true;
		keys->deployed_at_ms = higher->deployed_at_ms;
		moved = true;
	}
	return moved;
}

/*
 * Judges deploy against keys, its service's recorded keys, when the
 * service runs (at version) or not: true when it is stale, its key
 * lower, or equal while it says something other than the service's
 * state. Otherwise raises keys to the keys it carries, and sets *moved
 * when that changed them.
 */
bool
judge_keys(struct service_keys *keys, const struct deploy *deploy,
    bool running, uint64_t version, bool *moved)
{
	const struct report_key *report = &deploy->key;
	struct service_keys carried;
	bool same, compared = false;
	int c = 0;

	*moved = false;
	if (report->has_sequence && keys->has_sequence) {
		c = compare_u64(report->sequence, keys->sequence);
		compared = true;
	} else if (report->has_deployed_at && keys->has_deployed_at) {
		c = compare_u64(report->deployed_at_ms, keys->deployed_at_ms);
		compared = true;
	}
	same = deploy->removal ? !running : running &&
	    version == deploy->version;
	if (compared && (c < 0 || (c == 0 && !same)))
		return true;
	carried.has_sequence = report->has_sequence;
	carried.sequence = report->sequence;
	carried.has_deployed_at = report->has_deployed_at;
	carried.deployed_at_ms = report->deployed_at_ms;
	*moved = raise_keys(keys, &carried);
	return false;
}

/*
 * Reads the keys kept in keys.db of a service that does not run (its
 * current.db key, key_len bytes) into *keys, all absent when it has
 * none; *kept says whether it had a record.
 */
enum status
get_idle_keys(struct store *store, DB_TXN *txn, const unsigned char *key,
    size_t key_len, struct service_keys *keys, bool *kept)
{
	unsigned char value[KEYS_VALUE_SIZE];
	size_t size;
	enum status status;

	memset(keys, 0, sizeof(*keys));
	*kept = false;
	status = get_value(store, store->keys, txn, key, key_len, value,
	    sizeof(value), &size, DB_RMW);
	if (status == STATUS_NOT_FOUND)
		return STATUS_OK;
	if (status != STATUS_OK)
		return status;
	if (!record_keys_decode(value, size, keys))
		return malformed("keys.db");
	*kept = true;
	return STATUS_OK;
}

/* Keeps keys in keys.db for a service that does not run (its current.db key). */
enum status
put_idle_keys(struct store *store, DB_TXN *txn, const unsigned char *key,
    size_t key_len, const struct service_keys *keys)
{
	unsigned char value[KEYS_VALUE_SIZE];

	record_keys_encode(keys, value);
	return put_value(store, store->keys, txn, key, key_len, value,
	    sizeof(value), 0);
}

/*
 * Moves a keys.db record (key, value) into the current.db record of its
 * service when that runs (visit_fn); otherwise it stays.
 */
static enum status
fold_keys(struct store *store, DB_TXN *txn, DBC *cursor, const DBT *key,
    const DBT *value, void *arg, bool *counted)
{
	unsigned char current_value[CURRENT_VALUE_MAX];
	struct current_record current;
	struct service_keys keys;
	size_t size;
	enum status status;

	(void)arg;
	if (!record_keys_decode(value->data, value->size, &keys))
		return malformed("keys.db");
	status = get_value(store, store->current, txn, key->data, key->size,
	    current_value, sizeof(current_value), &size, DB_RMW);
	if (status == STATUS_NOT_FOUND)
		return STATUS_OK;	/* it does not run: they stay */
	if (status != STATUS_OK)
		return status;
	if (!record_current_decode(current_value, size, &current))
		return malformed("current.db");
	(void)raise_keys(&current.keys, &keys);
	if ((status = put_value(store, store->current, txn, key->data,
	    key->size, current_value, record_current_encode(&current,
	    current_value), 0)) != STATUS_OK ||
	    (status = translate(store, cursor->del(cursor, 0),
	    "fold keys.db")) != STATUS_OK)
		return status;
	*counted = true;
	return STATUS_OK;
}

enum status
fold_running_keys(struct store *store)
{
	uint64_t folded = 0;
	enum status status = walk_all(store, store->keys, DB_RMW, fold_keys,
	    NULL, &folded);

	if (status == STATUS_OK && folded > 0)
		log_info("store: moved the keys of %" PRIu64 " running services "
		    "from keys.db into current.db", folded);
	return busy_if_deadlock(status, "fold keys.db");
}

/*
 * Records the report deploy, answered system_version with outcome at now,
 * in environment record: its eventId (unless it is a duplicate, whose
 * first report stays) and its audit entry, whose id it takes from record.
 * With only_new, the eventId is written only if it is not there:
 * STATUS_EXISTS when it is. The audit entry, which holds the eventId and
 * the same time, is what expires the eventId later (store_expire()).
 */
enum status
record_report(struct store *store, DB_TXN *txn,
    struct environment_record *record, const struct deploy *deploy,
    enum deploy_outcome outcome, uint64_t system_version, bool only_new,
    uint64_t now)
{
	unsigned char key[EVENT_KEY_MAX], value[AUDIT_VALUE_MAX];
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
		    value, record_event_encode(&event, value),
		    only_new ? DB_NOOVERWRITE : 0)) != STATUS_OK)
			return status;
	}
	if ((entry = malloc(sizeof(*entry))) == NULL)
		return translate(store, ENOMEM, "record a report");
	audit_entry_of(entry, deploy);
	entry->id = record->next_audit_id++;
	entry->received_ms = now;
	entry->outcome = outcome;
	entry->system_version = system_version;
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
	/* the last entry below start, then back from it */
	record_versioned_key(key_buf, record.id, start);
	key = dbt(key_buf, sizeof(key_buf), sizeof(key_buf));
	data = dbt(value, 0, sizeof(value));
	status = cursor_before(store, cursor, &key, &data, "read audit.db");
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
 * Removes, in txn, what goes with an expired audit entry of environment
 * env_id; *removed counts the records removed.
 */
typedef enum status expiry_fn(struct store *, DB_TXN *, uint32_t,
    const struct audit_entry *, uint64_t *);

/*
 * A walk of an environment's audit log in id order, batch after batch,
 * over the entries that have expired: ids follow the clock, so the first
 * entry received at or after cutoff ends it.
 */
struct expiry_walk {
	expiry_fn	*expire;	/* NULL: nothing goes with an entry */
	/*
	 * The entries stay, and the id of the first one not looked at yet
	 * is written as the environment's mark; otherwise the walk removes
	 * them.
	 */
	bool		 keeps;
	uint32_t	 env_id;
	uint64_t	 cutoff;
	uint64_t	 from;	/* the id the next batch starts at */
	uint64_t	 end;	/* the walk stops before this id */
};

/*
 * An expired audit entry's eventId (expiry_fn) goes with it, unless it
 * was reported again since.
 */
static enum status
expire_event(struct store *store, DB_TXN *txn, uint32_t env_id,
    const struct audit_entry *entry, uint64_t *removed)
{
	unsigned char key[EVENT_KEY_MAX], value[EVENT_VALUE_MAX];
	struct event_record event;
	size_t key_len;
	enum status status;

	/* a duplicate wrote no eventId: the first report's stays */
	if (!entry->key.has_event_id || entry->outcome == OUTCOME_DUPLICATE)
		return STATUS_OK;
	key_len = record_event_key(key, env_id, entry->key.event_id,
	    entry->key.event_id_len);
	status = get_event(store, txn, key, key_len, value, &event);
	if (status == STATUS_NOT_FOUND)
		return STATUS_OK;
	if (status != STATUS_OK)
		return status;
	/* a report of the eventId after this one expired has its own time */
	if (event.received_ms != entry->received_ms)
		return STATUS_OK;
	if ((status = del_value(store, store->events, txn, key,
	    key_len)) == STATUS_OK)
		(*removed)++;
	return status;
}

/*
 * Writes environment env_id's mark: the expiry of its eventIds has read
 * every audit entry below next_id.
 */
static enum status
put_event_mark(struct store *store, DB_TXN *txn, uint32_t env_id,
    uint64_t next_id)
{
	unsigned char key[EVENT_KEY_MAX], value[EVENT_MARK_VALUE_SIZE];
	size_t key_len = record_event_key(key, env_id, "", 0);

	record_event_mark_encode(next_id, value);
	return put_value(store, store->events, txn, key, key_len, value,
	    sizeof(value), 0);
}

/*
 * Walks, in one transaction, at most EXPIRE_BATCH expired entries of
 * walk from walk->from on, and moves walk->from past them; *removed
 * counts the records removed, *done says the walk is over.
 */
static enum status
expire_batch(struct store *store, struct expiry_walk *walk,
    uint64_t *removed, bool *done)
{
	unsigned char key_buf[VERSIONED_KEY_SIZE], value[AUDIT_VALUE_MAX];
	struct audit_entry entry;
	uint64_t id, next = walk->from, n = 0;
	uint32_t key_env_id;
	size_t walked = 0;
	/* a walk that keeps the entries reads them without holding them */
	u_int32_t rmw = walk->keeps ? 0 : DB_RMW;
	DB_TXN *txn = NULL;
	DBC *cursor = NULL;
	DBT key, data;
	enum status status;

	*done = false;
	if ((status = translate(store, store->env->txn_begin(store->env, NULL,
	    &txn, 0), "begin a transaction")) != STATUS_OK)
		return status;
	if ((status = translate(store, store->audit->cursor(store->audit, txn,
	    &cursor, walk->keeps ? DB_READ_COMMITTED : 0), "open a cursor")) !=
	    STATUS_OK)
		goto done;
	record_versioned_key(key_buf, walk->env_id, walk->from);
	key = dbt(key_buf, sizeof(key_buf), sizeof(key_buf));
	data = dbt(value, 0, sizeof(value));
	for (status = translate(store, cursor->get(cursor, &key, &data,
	    DB_SET_RANGE | rmw), "expire"); status == STATUS_OK &&
	    walked < EXPIRE_BATCH; status = translate(store, cursor->get(cursor,
	    &key, &data, DB_NEXT | rmw), "expire")) {
		if (!record_versioned_key_decode(key_buf, key.size, &key_env_id,
		    &id) || key_env_id != walk->env_id || id >= walk->end)
			break;	/* another environment's, or the end */
		if (!record_audit_decode(value, data.size, id, &entry)) {
			status = malformed("audit.db");
			break;
		}
		/* ids follow the clock: the rest are younger */
		if (entry.received_ms >= walk->cutoff)
			break;
		if (walk->expire != NULL && (status = walk->expire(store, txn,
		    walk->env_id, &entry, &n)) != STATUS_OK)
			break;
		if (!walk->keeps) {
			if ((status = translate(store, cursor->del(cursor, 0),
			    "expire")) != STATUS_OK)
				break;
			n++;
		}
		next = id + 1;
		walked++;
	}
	/* past the last entry, or at the first one the walk does not take */
	if (status == STATUS_NOT_FOUND || (status == STATUS_OK &&
	    walked < EXPIRE_BATCH)) {
		*done = true;
		status = STATUS_OK;
	}
done:
	status = close_cursor(store, cursor, status);
	if (status == STATUS_OK && walk->keeps && walked > 0)
		status = put_event_mark(store, txn, walk->env_id, next);
	if (status == STATUS_OK)
		status = commit_early(store, txn);
	else
		txn->abort(txn);
	if (status == STATUS_OK) {
		walk->from = next;
		*removed += n;
	}
	return status;
}

/*
 * Walks every expired entry of walk, batch after batch; *removed counts
 * the records removed.
 */
static enum status
expire_all(struct store *store, struct expiry_walk *walk, uint64_t *removed)
{
	enum status status;
	bool done = false;

	for (int deadlocks = 0; !done;) {
		status = expire_batch(store, walk, removed, &done);
		/* a deploy won the lock: try the batch again, a few times */
		if (status == STATUS_DEADLOCK && ++deadlocks < 16)
			continue;
		if (status != STATUS_OK)
			return busy_if_deadlock(status, "expire");
	}
	return STATUS_OK;
}

/* Where the expiry of an environment starts. */
struct expiry_start {
	const char	*environment;
	uint32_t	 id;
	uint64_t	 mark;	/* of its eventIds' expiry; 0: none yet */
};

/* Reads an environment's id and its mark (read_fn). */
static enum status
read_expiry_start(struct store *store, DB_TXN *txn, void *arg)
{
	struct expiry_start *r = arg;
	struct environment_record record;
	unsigned char key[EVENT_KEY_MAX], value[EVENT_MARK_VALUE_SIZE];
	size_t key_len, size;
	enum status status;

	if ((status = get_environment(store, txn, r->environment, 0,
	    &record)) != STATUS_OK)
		return status;
	r->id = record.id;
	r->mark = 0;
	key_len = record_event_key(key, record.id, "", 0);
	status = get_value(store, store->events, txn, key, key_len, value,
	    sizeof(value), &size, 0);
	if (status == STATUS_NOT_FOUND)
		return STATUS_OK;	/* from the first audit entry */
	if (status != STATUS_OK)
		return status;
	return record_event_mark_decode(value, size, &r->mark) ? STATUS_OK :
	    malformed("events.db");
}

enum status
store_expire(struct store *store, uint64_t *removed)
{
	struct environment_summary *list = NULL;
	struct expiry_start r;
	struct expiry_walk events, audit;
	uint64_t now = now_ms(), count = 0;
	size_t n = 0;
	enum status status = STATUS_OK;

	/* a replica's copies expire as the master's removals reach it */
	if (store->replication != NULL && !replication_is_master(store))
		goto done;
	if ((status = store_environments(store, &list, &n)) != STATUS_OK)
		goto done;
	for (size_t i = 0; i < n && status == STATUS_OK; i++) {
		r.environment = list[i].name;
		if ((status = run_read(store, read_expiry_start, &r,
		    "expire")) != STATUS_OK)
			break;
		events = (struct expiry_walk){ expire_event, true, r.id,
		    now - store->event_retention_ms, r.mark, UINT64_MAX };
		if (now > store->event_retention_ms)
			status = expire_all(store, &events, &count);
		/* the eventIds' walk reads the entries from its mark on */
		audit = (struct expiry_walk){ NULL, false, r.id,
		    now - store->audit_retention_ms, 0, events.from };
		if (status == STATUS_OK && now > store->audit_retention_ms)
			status = expire_all(store, &audit, &count);
	}
	if (status == STATUS_OK && count > 0)
		status = flush_committed(store);
done:
	free(list);
	if (removed != NULL)
		*removed = count;
	return status;
}
