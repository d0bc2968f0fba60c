/*
 * The store, on a transactional Berkeley DB environment: its public API
 * (store.h). Opening and closing the environment, the transactions of a
 * deploy or an import and of each read, with their retry after a
 * deadlock, maintenance (checkpoint, lock expiry), and translate(), the
 * one place Berkeley DB's codes become a status. The reads themselves are
 * in store_reads.c, the records laid out in store_records.c, snapshots
 * built in store_snapshot.c, commits made durable in store_durability.c,
 * files copied in store_files.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "store.h"
#include "store_private.h"

#define DEADLOCK_RETRIES	16	/* attempts after the first */

/*
 * A private code, beside errno's and Berkeley DB's: a change was refused
 * before it wrote anything, the disk being below the reserve.
 */
#define BELOW_RESERVE		(-1)

/* A DBT over caller memory: size bytes of data, room for cap. */
DBT
dbt(void *data, size_t size, size_t cap)
{
	DBT d;

	memset(&d, 0, sizeof(d));
	d.data = data;
	d.size = (u_int32_t)size;
	d.ulen = (u_int32_t)cap;
	d.flags = DB_DBT_USERMEM;
	return d;
}

/* Milliseconds since the epoch. */
static uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* True for the codes after which the whole transaction may be tried again. */
static bool
is_deadlock(int rc)
{
	return rc == DB_LOCK_DEADLOCK;
}

/*
 * Translates a Berkeley DB or errno code into a status, logging what is
 * not an ordinary outcome. The one place DB_* codes are interpreted.
 */
enum status
translate(struct store *store, int rc, const char *what)
{
	switch (rc) {
	case 0:
		return STATUS_OK;
	case DB_NOTFOUND:
	case DB_KEYEMPTY:
		return STATUS_NOT_FOUND;
	case DB_LOCK_DEADLOCK:
	case DB_LOCK_NOTGRANTED:
		log_warn("store: %s: %s", what, db_strerror(rc));
		return STATUS_BUSY;
	case BELOW_RESERVE:
		return STATUS_NO_SPACE;	/* logged as the disk crossed the reserve */
	case ENOSPC:
	case EDQUOT:
		/*
		 * A write failed: Berkeley DB aborts the transaction, or,
		 * when only the log flush failed, keeps the commit in its
		 * log buffer for the next flush. Either way nothing is
		 * answered, and the next flush after space is freed goes on.
		 */
		log_warn("store: %s: %s", what, db_strerror(rc));
		return STATUS_NO_SPACE;
	case DB_RUNRECOVERY:
		/*
		 * Make every process of the pool see it too, so that none
		 * waits on what a dead one left behind.
		 */
		if (!store->panicked)
			store->env->set_flags(store->env, DB_PANIC_ENVIRONMENT, 1);
		store->panicked = true;
		log_error("store: %s: %s", what, db_strerror(rc));
		return STATUS_UNAVAILABLE;
	case EOVERFLOW:
	case EIO:
	case ENOMEM:
		log_error("store: %s: %s", what, db_strerror(rc));
		return STATUS_UNAVAILABLE;
	default:
		log_error("store: %s: %s", what, db_strerror(rc));
		return STATUS_SYSTEM;
	}
}

/* Berkeley DB's own messages go to the log. */
static void
log_db_message(const DB_ENV *env, const char *prefix, const char *message)
{
	(void)env;
	(void)prefix;
	log_error("berkeley db: %s", message);
}

/* Berkeley DB's informational messages too. */
static void
log_db_info(const DB_ENV *env, const char *message)
{
	(void)env;
	log_info("berkeley db: %s", message);
}

/* Opens one B-tree database of the environment. */
static int
open_database(DB_ENV *env, const char *file, bool create, DB **out)
{
	DB *db = NULL;
	int rc;

	*out = NULL;
	if ((rc = db_create(&db, env, 0)) != 0)
		return rc;
	rc = db->open(db, NULL, file, NULL, DB_BTREE,
	    DB_AUTO_COMMIT | DB_THREAD | (create ? DB_CREATE : 0), 0600);
	if (rc != 0) {
		db->close(db, 0);
		return rc;
	}
	*out = db;
	return 0;
}

/* True when home holds the history.db of the layout before keyframes. */
static bool
store_has_old_layout(const char *home)
{
	char path[4096];
	int n = snprintf(path, sizeof(path), "%s/history.db", home);

	return n > 0 && (size_t)n < sizeof(path) && access(path, F_OK) == 0;
}

enum status
store_open(const struct store_options *options, struct store **out)
{
	struct store *store;
	DB_ENV *env = NULL;
	bool recover = options->role != STORE_JOIN;
	u_int32_t flags = DB_INIT_TXN | DB_INIT_LOCK | DB_INIT_LOG |
	    DB_INIT_MPOOL | DB_THREAD;
	int rc;
	enum status status;

	*out = NULL;
	if ((store = calloc(1, sizeof(*store))) == NULL) {
		log_error("store: out of memory");
		return STATUS_SYSTEM;
	}
	store->home_fd = -1;
	pthread_mutex_init(&store->flush_lock, NULL);
	pthread_cond_init(&store->flushed, NULL);
	store->reserve_bytes = options->reserve_bytes;
	if ((store->home_fd = open(options->home, O_RDONLY | O_DIRECTORY |
	    O_CLOEXEC)) == -1) {
		rc = errno;
		goto fail;
	}
	if ((rc = db_env_create(&env, 0)) != 0)
		goto fail;
	store->env = env;
	env->app_private = store;
	env->set_errcall(env, log_db_message);
	env->set_msgcall(env, log_db_info);
	if ((rc = env->set_cachesize(env, options->cache_mb / 1024,
	    (options->cache_mb % 1024) * 1024 * 1024, 1)) != 0 ||
	    (rc = env->set_lk_detect(env, DB_LOCK_DEFAULT)) != 0 ||
	    (rc = env->set_timeout(env, options->lock_timeout_ms * 1000,
	    DB_SET_LOCK_TIMEOUT)) != 0 ||
	    (rc = env->set_flags(env, DB_TIME_NOTGRANTED, 1)) != 0)
		goto fail;
	store->durable = options->durable;
	store->commit_delay_us = options->commit_delay_us;
	store->keyframe_interval = options->keyframe_interval != 0 ?
	    options->keyframe_interval : KEYFRAME_INTERVAL;
	if (!options->durable &&
	    (rc = env->set_flags(env, DB_TXN_WRITE_NOSYNC, 1)) != 0)
		goto fail;
	if (recover && store_has_old_layout(options->home)) {
		log_error("store: %s holds history.db, from a layout before "
		    "keyframes, which this version does not read; start on an "
		    "empty data directory", options->home);
		rc = EINVAL;
		goto fail;
	}
	if (options->role == STORE_RECOVER)
		flags |= DB_CREATE | DB_RECOVER;
	else if (options->role == STORE_RECOVER_FATAL)
		flags |= DB_CREATE | DB_RECOVER_FATAL;
	if ((rc = env->open(env, options->home, flags, 0600)) != 0)
		goto fail;
	/* the recoverer has just made the regions; workers only join them */
	if (recover)
		reserve_regions(options->home);
	if ((rc = open_database(env, "meta.db", recover, &store->meta)) != 0 ||
	    (rc = open_database(env, "environments.db", recover,
	    &store->environments)) != 0 ||
	    (rc = open_database(env, "current.db", recover, &store->current)) != 0 ||
	    (rc = open_database(env, "changes.db", recover, &store->changes)) != 0 ||
	    (rc = open_database(env, "keyframes.db", recover,
	    &store->keyframes)) != 0)
		goto fail;
	*out = store;
	return STATUS_OK;
fail:
	status = translate(store, rc, "open");
	log_error("store: cannot open the environment in %s", options->home);
	store_close(store);
	return status == STATUS_OK ? STATUS_SYSTEM : status;
}

void
store_close(struct store *store)
{
	DB **dbs[5];

	if (store == NULL)
		return;
	dbs[0] = &store->changes;
	dbs[1] = &store->keyframes;
	dbs[2] = &store->current;
	dbs[3] = &store->environments;
	dbs[4] = &store->meta;
	/* a panicked environment is not flushed: recovery rebuilds it */
	for (size_t i = 0; i < 5; i++)
		if (*dbs[i] != NULL)
			(*dbs[i])->close(*dbs[i], store->panicked ? DB_NOSYNC : 0);
	if (store->env != NULL)
		store->env->close(store->env, 0);
	if (store->home_fd != -1)
		close(store->home_fd);
	pthread_cond_destroy(&store->flushed);
	pthread_mutex_destroy(&store->flush_lock);
	free(store);
}

/*
 * Reads the value of key in db into value, which has room for cap bytes;
 * *size is its length. Returns a Berkeley DB code: DB_NOTFOUND when key
 * is absent.
 */
int
get_value(DB *db, DB_TXN *txn, const void *key, size_t key_len, void *value,
    size_t cap, size_t *size, u_int32_t flags)
{
	DBT k = dbt((void *)key, key_len, key_len);
	DBT d = dbt(value, 0, cap);
	int rc = db->get(db, txn, &k, &d, flags);

	*size = d.size;
	return rc;
}

/* Writes size bytes of value under key in db; returns a Berkeley DB code. */
int
put_value(DB *db, DB_TXN *txn, const void *key, size_t key_len,
    const void *value, size_t size, u_int32_t flags)
{
	DBT k = dbt((void *)key, key_len, key_len);
	DBT d = dbt((void *)value, size, size);

	return db->put(db, txn, &k, &d, flags);
}

/* Reads an environment's record; DB_NOTFOUND when it never had a deploy. */
int
get_environment(struct store *store, DB_TXN *txn, const char *name,
    u_int32_t flags, struct environment_record *record)
{
	unsigned char value[ENVIRONMENT_VALUE_SIZE];
	size_t size;
	int rc;

	if ((rc = get_value(store->environments, txn, name, strlen(name),
	    value, sizeof(value), &size, flags)) != 0)
		return rc;
	return record_environment_decode(value, size, record) ? 0 :
	    DB_VERIFY_BAD;
}

/* Writes an environment's record. */
static int
put_environment(struct store *store, DB_TXN *txn, const char *name,
    const struct environment_record *record)
{
	unsigned char value[ENVIRONMENT_VALUE_SIZE];

	record_environment_encode(record, value);
	return put_value(store->environments, txn, name, strlen(name), value,
	    sizeof(value), 0);
}

/* Takes the next environment id from meta.db. */
static int
allocate_environment_id(struct store *store, DB_TXN *txn, uint32_t *id)
{
	unsigned char value[NEXT_ID_VALUE_SIZE];
	size_t size;
	uint32_t next = 1;
	int rc;

	rc = get_value(store->meta, txn, NEXT_ID_KEY, strlen(NEXT_ID_KEY), value,
	    sizeof(value), &size, DB_RMW);
	if (rc == 0 && !record_next_id_decode(value, size, &next))
		return DB_VERIFY_BAD;
	if (rc != 0 && rc != DB_NOTFOUND)
		return rc;
	if (next == UINT32_MAX)
		return EOVERFLOW;
	*id = next;
	record_next_id_encode(next + 1, value);
	return put_value(store->meta, txn, NEXT_ID_KEY, strlen(NEXT_ID_KEY),
	    value, sizeof(value), 0);
}

/* Writes the changes.db record of a new system version. */
static int
put_change(struct store *store, DB_TXN *txn, uint32_t env_id,
    const struct deploy *deploy, const struct change_position *position)
{
	unsigned char key[VERSIONED_KEY_SIZE], value[CHANGE_VALUE_MAX];

	record_versioned_key(key, env_id, position->system_version);
	return put_value(store->changes, txn, key, sizeof(key), value,
	    record_change_encode(deploy, position, value), DB_NOOVERWRITE);
}

/*
 * One attempt at a deploy, in one transaction; returns a Berkeley DB code.
 * With replay (an imported change) the deploy must make exactly that
 * system version, from that previous version, at that time; EINVAL, with
 * nothing written, when it would not.
 */
static int
deploy_once(struct store *store, const struct deploy *deploy,
    const struct change_position *replay, struct deploy_result *result)
{
	DB_ENV *env = store->env;
	DB_TXN *txn = NULL;
	struct environment_record record;
	struct current_record current;
	struct change_position position;
	unsigned char key[SERVICE_KEY_MAX];
	unsigned char value[CURRENT_VALUE_SIZE];
	size_t key_len, size;
	bool checked_room = false;
	uint64_t now;
	int rc;

	if ((rc = env->txn_begin(env, NULL, &txn, 0)) != 0)
		return rc;
	/* the write lock on the environment's record orders its deploys */
	rc = get_environment(store, txn, deploy->environment, DB_RMW, &record);
	if (rc == DB_NOTFOUND) {
		/* a new environment is a change: refuse it before any write */
		memset(&record, 0, sizeof(record));
		rc = store_has_room(store, 0) ? allocate_environment_id(store, txn,
		    &record.id) : BELOW_RESERVE;
		checked_room = true;
	}
	if (rc != 0)
		goto fail;

	memset(&position, 0, sizeof(position));
	key_len = record_service_key(key, record.id, deploy->name,
	    deploy->name_len);
	rc = get_value(store->current, txn, key, key_len, value, sizeof(value),
	    &size, 0);
	if (rc == 0) {
		if (!record_current_decode(value, size, &current)) {
			rc = DB_VERIFY_BAD;
			goto fail;
		}
		position.has_previous = true;
		position.previous = current.version;
	} else if (rc != DB_NOTFOUND)
		goto fail;

	if (replay != NULL && (record.current + 1 != replay->system_version ||
	    position.has_previous != replay->has_previous ||
	    (position.has_previous && position.previous != replay->previous) ||
	    (position.has_previous && position.previous == deploy->version) ||
	    replay->created_ms < record.updated_ms)) {
		rc = EINVAL;
		goto fail;
	}
	if (position.has_previous && position.previous == deploy->version) {
		result->system_version = record.current;
		result->changed = false;
		/* read only, but the version read may not be on disk yet */
		return commit_early(store, txn);
	}
	if (record.current >= SYSTEM_VERSION_MAX) {
		rc = EOVERFLOW;
		goto fail;
	}
	/* a change writes: refuse it whole rather than fill the disk */
	if (!checked_room && !store_has_room(store, 0)) {
		rc = BELOW_RESERVE;
		goto fail;
	}
	position.system_version = record.current + 1;

	current.version = deploy->version;
	current.since = position.system_version;
	record_current_encode(&current, value);
	if ((rc = put_value(store->current, txn, key, key_len, value,
	    sizeof(value), 0)) != 0)
		goto fail;

	if (!position.has_previous)
		record.services++;

	/* createdAt never goes backwards, even when the clock does */
	if (replay != NULL)
		record.updated_ms = replay->created_ms;
	else if ((now = now_ms()) > record.updated_ms)
		record.updated_ms = now;
	record.current = position.system_version;
	position.created_ms = record.updated_ms;
	if ((rc = put_change(store, txn, record.id, deploy, &position)) != 0)
		goto fail;
	if (record.current - record.keyframe >=
	    keyframe_interval(store, &record)) {
		if ((rc = put_keyframe(store, txn, record.id, record.services,
		    record.current)) != 0)
			goto fail;
		record.keyframe = record.current;
	}
	if ((rc = put_environment(store, txn, deploy->environment, &record)) != 0)
		goto fail;

	rc = commit_early(store, txn);
	txn = NULL;
	if (rc == 0) {
		result->system_version = record.current;
		result->changed = true;
	}
	return rc;
fail:
	if (txn != NULL)
		txn->abort(txn);
	return rc;
}

/* deploy_once(), again after a deadlock, a bounded number of times. */
static int
deploy_retrying(struct store *store, const struct deploy *deploy,
    const struct change_position *replay, struct deploy_result *result)
{
	int rc;

	for (int attempt = 0;; attempt++) {
		rc = deploy_once(store, deploy, replay, result);
		if (!is_deadlock(rc) || attempt == DEADLOCK_RETRIES)
			return rc;
	}
}

enum status
store_deploy(struct store *store, const struct deploy *deploy,
    struct deploy_result *result)
{
	int rc = deploy_retrying(store, deploy, NULL, result);

	/* an unchanged deploy answers a version another one may be flushing */
	if (rc == 0)
		rc = result->changed ? wait_durable(store) :
		    flush_committed(store);
	return translate(store, rc, "deploy");
}

/*
 * Runs read in a read-committed transaction, again after a deadlock (a
 * bounded number of times), then makes sure that what it saw is on disk:
 * it may have seen a commit whose own flush is still running.
 */
int
run_read(struct store *store, read_fn *read, void *arg)
{
	DB_TXN *txn;
	int rc, rc_end;

	for (int attempt = 0;; attempt++) {
		if ((rc = store->env->txn_begin(store->env, NULL, &txn,
		    DB_READ_COMMITTED)) != 0)
			return rc;
		rc = read(store, txn, arg);
		if (rc == 0 || rc == DB_NOTFOUND) {
			if ((rc_end = commit_early(store, txn)) != 0 && rc == 0)
				rc = rc_end;
		} else
			txn->abort(txn);
		if (!is_deadlock(rc) || attempt == DEADLOCK_RETRIES)
			break;
	}
	return rc == 0 ? flush_committed(store) : rc;
}

enum status
store_checkpoint(struct store *store)
{
	int rc;

	if ((rc = store->env->txn_checkpoint(store->env, 0, 0, 0)) == 0)
		rc = store->env->log_archive(store->env, NULL, DB_ARCH_REMOVE);
	return translate(store, rc, "checkpoint");
}

enum status
store_expire_locks(struct store *store)
{
	return translate(store, store->env->lock_detect(store->env, 0,
	    DB_LOCK_EXPIRE, NULL), "expire locks");
}

bool
store_needs_recovery(const struct store *store)
{
	return store->panicked;
}

enum status
store_import(struct store *store, const struct deploy *deploy,
    const struct change_position *position)
{
	struct deploy_result result;
	int rc = deploy_retrying(store, deploy, position, &result);

	if (rc == EINVAL)
		return STATUS_INVALID;
	if (rc == 0)
		rc = wait_durable(store);
	return translate(store, rc, "import");
}
