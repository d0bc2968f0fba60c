/*
 * A report's transaction: store_deploy() and store_import(). It reads the
 * environment and the service, applies the rules of reports (duplicate,
 * stale, then a change or nothing), makes the next system version with
 * its change, period and keyframe, records the report (store_reports.c),
 * and tries again after a deadlock or when its eventId was there.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "store.h"
#include "store_private.h"

/* Writes an environment's record. */
static enum status
put_environment(struct store *store, DB_TXN *txn, const char *name,
    const struct environment_record *record)
{
	unsigned char value[ENVIRONMENT_VALUE_SIZE];

	record_environment_encode(record, value);
	return put_value(store, store->environments, txn, name, strlen(name),
	    value, sizeof(value), 0);
}

/* Takes the next environment id from meta.db. */
static enum status
allocate_environment_id(struct store *store, DB_TXN *txn, uint32_t *id)
{
	unsigned char value[NEXT_ID_VALUE_SIZE];
	size_t size;
	uint32_t next = 1;
	enum status status;

	status = get_value(store, store->meta, txn, NEXT_ID_KEY,
	    strlen(NEXT_ID_KEY), value, sizeof(value), &size, DB_RMW);
	if (status == STATUS_OK && !record_next_id_decode(value, size, &next))
		return malformed("meta.db");
	if (status != STATUS_OK && status != STATUS_NOT_FOUND)
		return status;
	if (next == UINT32_MAX)
		return translate(store, EOVERFLOW, "allocate an environment id");
	*id = next;
	record_next_id_encode(next + 1, value);
	return put_value(store, store->meta, txn, NEXT_ID_KEY,
	    strlen(NEXT_ID_KEY), value, sizeof(value), 0);
}

/* Writes the changes.db record of a new system version. */
static enum status
put_change(struct store *store, DB_TXN *txn, uint32_t env_id,
    const struct deploy *deploy, const struct change_position *position)
{
	unsigned char key[VERSIONED_KEY_SIZE], value[CHANGE_VALUE_MAX];

	record_versioned_key(key, env_id, position->system_version);
	return put_value(store, store->changes, txn, key, sizeof(key), value,
	    record_change_encode(deploy, position, value), DB_NOOVERWRITE);
}

/* True when replay, an imported change, does not follow where it lands. */
static bool
replay_mismatch(const struct change_position *replay,
    const struct environment_record *record, const struct deploy *deploy,
    const struct change_position *position)
{
	return record->current + 1 != replay->system_version ||
	    position->has_previous != replay->has_previous ||
	    (position->has_previous &&
	    position->previous != replay->previous) ||
	    (position->has_previous && !deploy->removal &&
	    position->previous == deploy->version) ||
	    (deploy->removal && !position->has_previous) ||
	    replay->created_ms < record->updated_ms;
}

/* What the store holds of a report's service when the report arrives. */
struct service_state {
	struct current_record	current;	/* its keys, whether it runs or not */
	bool			running;	/* in current.db */
	bool			idle_keys;	/* its keys in keys.db */
};

/*
 * Reads what the store holds of the service of key (key_len bytes): its
 * current.db record, or the keys it kept in keys.db when it does not run.
 */
static enum status
read_service(struct store *store, DB_TXN *txn, const unsigned char *key,
    size_t key_len, struct service_state *state)
{
	unsigned char value[CURRENT_VALUE_MAX];
	size_t size;
	enum status status;

	memset(state, 0, sizeof(*state));
	status = get_value(store, store->current, txn, key, key_len, value,
	    sizeof(value), &size, DB_RMW);
	if (status == STATUS_NOT_FOUND)
		return get_idle_keys(store, txn, key, key_len,
		    &state->current.keys, &state->idle_keys);
	if (status != STATUS_OK)
		return status;
	if (!record_current_decode(value, size, &state->current))
		return malformed("current.db");
	state->running = true;
	return STATUS_OK;
}

/* Writes the current.db record of the service of key (key_len bytes). */
static enum status
put_current(struct store *store, DB_TXN *txn, const unsigned char *key,
    size_t key_len, const struct current_record *current)
{
	unsigned char value[CURRENT_VALUE_MAX];

	return put_value(store, store->current, txn, key, key_len, value,
	    record_current_encode(current, value), 0);
}

/*
 * Makes the next system version of the environment of record: the change
 * of deploy (a new version, or a removal) to the service in state at
 * position, with its current.db entry (key) set, or deleted and its keys
 * kept in keys.db; its period indexed, and a keyframe when one is due.
 * replay, when not NULL, gives its time.
 */
static enum status
make_change(struct store *store, DB_TXN *txn,
    struct environment_record *record, const struct deploy *deploy,
    const unsigned char *key, size_t key_len, struct service_state *state,
    struct change_position *position, const struct change_position *replay,
    uint64_t now)
{
	enum status status;

	if (record->current >= SYSTEM_VERSION_MAX)
		return translate(store, EOVERFLOW, "deploy");
	position->system_version = record->current + 1;
	if (deploy->removal) {
		status = del_value(store, store->current, txn, key, key_len);
		if (status == STATUS_OK && service_keys_any(&state->current.keys))
			status = put_idle_keys(store, txn, key, key_len,
			    &state->current.keys);
		record->services--;
	} else {
		state->current.version = deploy->version;
		state->current.since = position->system_version;
		status = put_current(store, txn, key, key_len, &state->current);
		/* its keys now live in its current.db record */
		if (status == STATUS_OK && state->idle_keys)
			status = del_value(store, store->keys, txn, key,
			    key_len);
		if (!state->running)
			record->services++;
	}
	if (status != STATUS_OK)
		return status;
	/* createdAt never goes backwards, even when the clock does */
	if (replay != NULL)
		record->updated_ms = replay->created_ms;
	else if (now > record->updated_ms)
		record->updated_ms = now;
	record->current = position->system_version;
	position->created_ms = record->updated_ms;
	if ((status = put_change(store, txn, record->id, deploy,
	    position)) != STATUS_OK ||
	    (status = put_period(store, txn, record->id, deploy,
	    position->system_version, position->created_ms)) != STATUS_OK)
		return status;
	if (record->current - record->keyframe >=
	    keyframe_interval(store, record)) {
		if ((status = put_keyframe(store, txn, record->id,
		    record->services, record->current)) != STATUS_OK)
			return status;
		record->keyframe = record->current;
	}
	return STATUS_OK;
}

/*
 * One attempt at a report, in one transaction, by the rules of
 * store_deploy(). Its eventId is looked up first only when seen;
 * otherwise it is written only if new, and STATUS_EXISTS, with nothing
 * written, asks for an attempt that looks it up: it was there, or the
 * report, a removal of nothing, writes none to find out. With replay
 * (an imported change) the report must make exactly that system
 * version, from that previous version, at that time; STATUS_INVALID,
 * with nothing written, when it would not; no audit entry is kept of it.
 * STATUS_NO_SPACE, with nothing written, when the disk is below the
 * reserve.
 */
static enum status
deploy_once(struct store *store, DB_TXN *parent, const struct deploy *deploy,
    const struct change_position *replay, bool seen,
    struct deploy_result *result)
{
	DB_ENV *env = store->env;
	DB_TXN *txn = NULL;
	struct environment_record record;
	struct service_state state;
	struct change_position position;
	unsigned char key[SERVICE_KEY_MAX];
	enum deploy_outcome outcome;
	uint64_t now = now_ms(), answer = 0;
	size_t key_len;
	bool known = true, duplicate = false, stale = false, moved = false;
	enum status status, answered = STATUS_OK;

	if ((status = translate(store, env->txn_begin(env, parent, &txn, 0),
	    "begin a transaction")) != STATUS_OK)
		return status;
	/* every report writes: refuse it whole rather than fill the disk */
	if (!store_has_room(store, 0)) {
		status = STATUS_NO_SPACE;	/* logged as the disk crossed the reserve */
		goto fail;
	}
	/* the write lock on the environment's record orders its reports */
	status = get_environment(store, txn, deploy->environment, DB_RMW,
	    &record);
	if (status == STATUS_NOT_FOUND) {
		memset(&record, 0, sizeof(record));
		record.next_audit_id = 1;
		known = false;
		status = allocate_environment_id(store, txn, &record.id);
	}
	if (status != STATUS_OK)
		goto fail;
	/* most eventIds are new: the write finds those that are not */
	if (seen && known && replay == NULL && deploy->key.has_event_id &&
	    (status = find_event(store, txn, record.id, deploy, now,
	    &duplicate, &answer)) != STATUS_OK)
		goto fail;

	memset(&position, 0, sizeof(position));
	key_len = record_service_key(key, record.id, deploy->name,
	    deploy->name_len);
	if (!duplicate) {
		if ((status = read_service(store, txn, key, key_len,
		    &state)) != STATUS_OK)
			goto fail;
		position.has_previous = state.running;
		position.previous = state.current.version;
		if (replay == NULL)
			stale = judge_keys(&state.current.keys, deploy,
			    state.running, state.current.version, &moved);
	}
	if (replay != NULL &&
	    replay_mismatch(replay, &record, deploy, &position)) {
		status = STATUS_INVALID;
		goto fail;
	}

	if (duplicate)
		outcome = OUTCOME_DUPLICATE;
	else if (stale) {
		outcome = OUTCOME_STALE;
		answer = record.current;
	} else if (deploy->removal && !state.running) {
		/* nothing to remove, unless its eventId says it was done */
		if (deploy->key.has_event_id && !seen) {
			status = STATUS_EXISTS;
			goto fail;
		}
		/* only a key it carried is kept */
		answered = STATUS_NOT_FOUND;
		status = answered;
		if (!deploy->key.has_sequence && !deploy->key.has_deployed_at)
			goto fail;
		if (moved && (status = put_idle_keys(store, txn, key, key_len,
		    &state.current.keys)) != STATUS_OK)
			goto fail;
		goto commit;
	} else if (!deploy->removal && state.running &&
	    state.current.version == deploy->version) {
		outcome = OUTCOME_UNCHANGED;
		answer = record.current;
		/* a recorded key moves forward, also here */
		if (moved && (status = put_current(store, txn, key, key_len,
		    &state.current)) != STATUS_OK)
			goto fail;
	} else {
		outcome = deploy->removal ? OUTCOME_REMOVED : OUTCOME_APPLIED;
		if ((status = make_change(store, txn, &record, deploy, key,
		    key_len, &state, &position, replay, now)) != STATUS_OK)
			goto fail;
		answer = record.current;
	}
	if (replay == NULL && (status = record_report(store, txn, &record,
	    deploy, outcome, answer, !seen, now)) != STATUS_OK)
		goto fail;
	/* counted here, so that the counts are exactly what was answered */
	if (replay == NULL)
		record.reports[outcome]++;
	result->system_version = answer;
	result->changed = outcome == OUTCOME_APPLIED ||
	    outcome == OUTCOME_REMOVED;
	result->outcome = outcome;
commit:
	if ((status = put_environment(store, txn, deploy->environment,
	    &record)) != STATUS_OK)
		goto fail;
	/* a batch's report is committed into the batch's transaction */
	status = parent != NULL ? translate(store, txn->commit(txn, 0),
	    "commit") : commit_early(store, txn);
	return status == STATUS_OK ? answered : status;
fail:
	if (txn != NULL)
		txn->abort(txn);
	return status;
}

/*
 * deploy_once(), again after a deadlock, at most retries more times, and
 * once more, looking it up first, when its eventId was there. With a
 * parent, each attempt is a transaction of the parent's (a batch's).
 */
enum status
deploy_retrying(struct store *store, DB_TXN *parent,
    const struct deploy *deploy, const struct change_position *replay,
    int retries, struct deploy_result *result)
{
	enum status status;
	bool seen = false;

	for (int attempt = 0;; attempt++) {
		status = deploy_once(store, parent, deploy, replay, seen,
		    result);
		if (status == STATUS_EXISTS && !seen) {
			seen = true;
			continue;
		}
		if (status == STATUS_EXISTS) {
			log_error("store: deploy: a record written as new was "
			    "there already");
			return STATUS_SYSTEM;
		}
		if (status != STATUS_DEADLOCK || attempt >= retries)
			return status;
	}
}

/*
 * Records a report in this site's store, as store_deploy() promises;
 * STATUS_NOT_MASTER, nothing written, when the site is a replica.
 */
enum status
deploy_here(struct store *store, const struct deploy *deploy,
    struct deploy_result *result)
{
	enum status status, flushed;

	/* a site of a group shares each commit's round trip to the replicas */
	if (store->batch != NULL)
		return deploy_batched(store, deploy, result);
	status = deploy_retrying(store, NULL, deploy, NULL, DEADLOCK_RETRIES,
	    result);

	/*
	 * Every report answered wrote its audit entry, and a removal of
	 * nothing may have written its key: on disk before the answer.
	 */
	if (status == STATUS_OK || status == STATUS_NOT_FOUND) {
		if ((flushed = wait_durable(store)) != STATUS_OK)
			status = flushed;
	}
	return busy_if_deadlock(status, "deploy");
}

enum status
store_deploy(struct store *store, const struct deploy *deploy,
    struct deploy_result *result)
{
	enum status status;

	/* a replica hands the report to the master, which records it */
	if (store->replication != NULL &&
	    (status = replication_await_quorum(store)) != STATUS_OK)
		return status == STATUS_NOT_MASTER ?
		    forward_report(store, deploy, result) : status;
	status = deploy_here(store, deploy, result);
	if (status == STATUS_NOT_MASTER)
		status = forward_report(store, deploy, result);
	return status;
}

enum status
store_import(struct store *store, const struct deploy *deploy,
    const struct change_position *position)
{
	struct deploy_result result;
	enum status status = deploy_retrying(store, NULL, deploy, position,
	    DEADLOCK_RETRIES, &result);

	if (status == STATUS_OK)
		status = wait_durable(store);
	return busy_if_deadlock(status, "import");
}
