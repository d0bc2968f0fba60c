/*
 * The store, on a transactional Berkeley DB environment: its public API
 * (store.h). Opening and closing the environment and its databases, the
 * reads and writes of single records, the transaction of each read with
 * its retry after a deadlock, maintenance (checkpoint, lock expiry), and
 * translate(), the one place Berkeley DB's codes become a status. A
 * report's transaction is in store_deploy.c, the reads themselves in
 * store_reads.c, the records laid out in store_records.c, snapshots built
 * in store_snapshot.c, commits made durable in store_durability.c, files
 * copied in store_files.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "store.h"
#include "store_private.h"

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
uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/*
 * Translates a Berkeley DB or errno code, as a library call returned it,
 * into a status; what is not an ordinary outcome is logged, prefixed with
 * what. The one place DB_* codes are interpreted.
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
		return STATUS_DEADLOCK;	/* logged if the retries run out */
	case DB_KEYEXIST:
		return STATUS_EXISTS;	/* logged if looking again does not help */
	case DB_LOCK_NOTGRANTED:
		log_warn("store: %s: %s", what, db_strerror(rc));
		return STATUS_BUSY;
	case DB_VERIFY_BAD:
		return STATUS_INVALID;	/* store_verify_files() logs which file */
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
	case EACCES:
		/* a write on a replica: it became one under the writer */
		if (store->replication != NULL)
			return STATUS_NOT_MASTER;
		log_error("store: %s: %s", what, db_strerror(rc));
		return STATUS_SYSTEM;
	case DB_REP_UNAVAIL:
		return STATUS_NO_MASTER;
	case DB_REP_LOCKOUT:
		/* a replica catching up holds off everything else a moment */
		log_warn("store: %s: %s", what, db_strerror(rc));
		return STATUS_BUSY;
	case DB_REP_HANDLE_DEAD:
		/*
		 * An election undid commits that this process may have seen:
		 * its handles are dead, and what it keeps may be wrong. The
		 * pool starts every process again.
		 */
		if (!store->handles_dead)
			log_warn("store: %s: %s; restarting", what,
			    db_strerror(rc));
		store->handles_dead = true;
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

/* Berkeley DB's own messages go to the log (an environment's errcall). */
void
log_db_message(const DB_ENV *env, const char *prefix, const char *message)
{
	(void)env;
	(void)prefix;
	log_error("berkeley db: %s", message);
}

/* Berkeley DB's informational messages too (an environment's msgcall). */
void
log_db_info(const DB_ENV *env, const char *message)
{
	(void)env;
	log_info("berkeley db: %s", message);
}

/* The store's databases: each file, where its handle is and its flags, in opening order. */
const struct database databases[DATABASE_COUNT] = {
	{ "meta.db", offsetof(struct store, meta), 0 },
	{ "environments.db", offsetof(struct store, environments), 0 },
	{ "current.db", offsetof(struct store, current), 0 },
	{ "changes.db", offsetof(struct store, changes), 0 },
	{ "keyframes.db", offsetof(struct store, keyframes), 0 },
	{ "keys.db", offsetof(struct store, keys), 0 },
	{ "events.db", offsetof(struct store, events), 0 },
	{ "audit.db", offsetof(struct store, audit), 0 },
	{ "periods.db", offsetof(struct store, periods), DB_DUPSORT },
};

/*
 * The databases of earlier versions that this one no longer keeps: the
 * recovering process removes them from a store that holds them.
 */
static const char *const dropped_databases[] = {
	/* the eventIds by the time received: the audit log orders them now */
	"event-times.db",
};

#define DROPPED_COUNT	\
	(sizeof(dropped_databases) / sizeof(dropped_databases[0]))

/* The handle of database d in store. */
static DB **
database_handle(struct store *store, const struct database *d)
{
	return (DB **)(void *)((char *)store + d->handle);
}

/*
 * Opens one B-tree database of the store's environment into its handle
 * (NULL on failure); create makes it when missing.
 */
static enum status
open_database(struct store *store, const struct database *d, bool create)
{
	DB **out = database_handle(store, d);
	DB *db = NULL;
	int rc;

	*out = NULL;
	if ((rc = db_create(&db, store->env, 0)) != 0)
		return translate(store, rc, "open");
	if ((rc = db->set_flags(db, d->flags)) == 0)
		rc = db->open(db, NULL, d->file, NULL, DB_BTREE,
		    DB_AUTO_COMMIT | DB_THREAD | (create ? DB_CREATE : 0),
		    0600);
	if (rc != 0) {
		db->close(db, 0);
		return translate(store, rc, "open");
	}
	*out = db;
	return STATUS_OK;
}

/* True when home holds a file called name. */
static bool
store_file_exists(const char *home, const char *name)
{
	char path[4096];
	int n = snprintf(path, sizeof(path), "%s/%s", home, name);

	return n > 0 && (size_t)n < sizeof(path) && access(path, F_OK) == 0;
}

/* True when the store's directory holds a file called name. */
bool
store_has_file(const struct store *store, const char *name)
{
	return store_file_exists(store->home, name);
}

/* Removes the database file of the store, in a transaction; logs why. */
static enum status
remove_database(struct store *store, const char *file, const char *why)
{
	enum status status = translate(store, store->env->dbremove(store->env,
	    NULL, file, NULL, DB_AUTO_COMMIT), file);

	if (status == STATUS_OK)
		log_info("store: removed %s, %s", file, why);
	return status;
}

/*
 * Removes the dropped databases that home holds, each in a transaction
 * of its own; logs each one removed.
 */
static enum status
drop_databases(struct store *store, const char *home)
{
	enum status status;

	for (size_t i = 0; i < DROPPED_COUNT; i++)
		if (store_file_exists(home, dropped_databases[i]) &&
		    (status = remove_database(store, dropped_databases[i],
		    "which this version no longer keeps")) != STATUS_OK)
			return status;
	return STATUS_OK;
}

/*
 * Removes periods.db when home holds one of the layout before each
 * service's changes were its key's sorted duplicates, so that it is
 * built again.
 */
static enum status
drop_outdated_periods(struct store *store, const char *home)
{
	DB *db = NULL;
	u_int32_t flags = 0;
	int rc;

	if (!store_file_exists(home, "periods.db"))
		return STATUS_OK;
	if ((rc = db_create(&db, store->env, 0)) == 0 &&
	    (rc = db->open(db, NULL, "periods.db", NULL, DB_UNKNOWN,
	    DB_RDONLY | DB_THREAD, 0)) == 0)
		rc = db->get_flags(db, &flags);
	if (db != NULL)
		db->close(db, 0);
	if (rc != 0)
		return translate(store, rc, "periods.db");
	if (flags & DB_DUPSORT)
		return STATUS_OK;
	return remove_database(store, "periods.db",
	    "of an older layout, to build it again from changes.db");
}

/*
 * Opens every database of the store. With migrate (the recovering
 * process, or the master of a group) makes those that are missing and
 * brings a store of an earlier layout up to this one.
 */
enum status
open_databases(struct store *store, bool migrate)
{
	enum status status;
	bool build;

	/* a store made before periods.db gains it, built from its changes */
	if (migrate && (status = drop_outdated_periods(store,
	    store->home)) != STATUS_OK)
		return status;
	build = migrate && !store_has_file(store, "periods.db");
	for (size_t i = 0; i < DATABASE_COUNT; i++)
		if ((status = open_database(store, &databases[i],
		    migrate)) != STATUS_OK)
			return status;
	if (build && (status = build_periods(store)) != STATUS_OK)
		return status;
	/* a store written before current.db held keys has them in keys.db */
	if (migrate && (status = fold_running_keys(store)) != STATUS_OK)
		return status;
	if (migrate)
		return drop_databases(store, store->home);
	return STATUS_OK;
}

enum status
store_open(const struct store_options *options, struct store **out)
{
	struct store *store;
	DB_ENV *env = NULL;
	bool recover = options->role == STORE_RECOVER ||
	    options->role == STORE_RECOVER_FATAL;
	const struct replication_options *replication = options->replication;
	u_int32_t flags = DB_INIT_TXN | DB_INIT_LOCK | DB_INIT_LOG |
	    DB_INIT_MPOOL | DB_THREAD | (replication != NULL ? DB_INIT_REP : 0);
	int rc = 0;	/* a library call's code, translated at fail */
	enum status status = STATUS_SYSTEM;

	*out = NULL;
	if ((store = calloc(1, sizeof(*store))) == NULL) {
		log_error("store: out of memory");
		return STATUS_SYSTEM;
	}
	store->home_fd = -1;
	pthread_mutex_init(&store->flush_lock, NULL);
	pthread_cond_init(&store->flushed, NULL);
	pthread_mutex_init(&store->channel_lock, NULL);
	pthread_mutex_init(&store->nodelay_lock, NULL);
	pthread_cond_init(&store->nodelay_stop, NULL);
	store->reserve_bytes = options->reserve_bytes;
	store->lock_timeout_ms = options->lock_timeout_ms;
	if ((store->keyframe_cache = keyframe_cache_new()) == NULL ||
	    (store->home = strdup(options->home)) == NULL) {
		rc = ENOMEM;
		goto fail;
	}
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
	store->event_retention_ms = options->event_retention_ms != 0 ?
	    options->event_retention_ms : EVENT_RETENTION_MS;
	store->audit_retention_ms = options->audit_retention_ms != 0 ?
	    options->audit_retention_ms : AUDIT_RETENTION_MS;
	if (!options->durable &&
	    (rc = env->set_flags(env, DB_TXN_WRITE_NOSYNC, 1)) != 0)
		goto fail;
	if (replication != NULL && (status = replication_configure(store,
	    replication)) != STATUS_OK)
		goto fail;
	if (replication != NULL && (store->batch = batch_queue_new()) == NULL) {
		rc = ENOMEM;
		goto fail;
	}
	if (recover && store_has_file(store, "history.db")) {
		log_error("store: %s holds history.db, from a layout before "
		    "keyframes, which this version does not read; start on an "
		    "empty data directory", options->home);
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
	if (replication == NULL)
		status = open_databases(store, recover);
	/*
	 * A site's databases are the group's: only a master writes them (a
	 * replica's own writes would fork its log from the master's), and
	 * the replication process opens its own when the site knows its role.
	 */
	else if (options->role == STORE_JOIN &&
	    (status = replication_start(store, false)) == STATUS_OK)
		status = open_databases(store, false);
	else if (options->role == STORE_REPLICATION)
		status = replication_start(store, true);
	else
		status = STATUS_OK;
	if (status != STATUS_OK)
		goto fail;
	*out = store;
	return STATUS_OK;
fail:
	if (rc != 0)
		status = translate(store, rc, "open");
	status = busy_if_deadlock(status, "open");
	log_error("store: cannot open the environment in %s", options->home);
	store_close(store);
	return status == STATUS_OK ? STATUS_SYSTEM : status;
}

/* Closes every database handle of the store that is open. */
void
close_databases(struct store *store)
{
	DB **db;

	/* a panicked environment is not flushed: recovery rebuilds it */
	for (size_t i = DATABASE_COUNT; i-- > 0;) {
		db = database_handle(store, &databases[i]);
		if (*db != NULL)
			(*db)->close(*db, store->panicked ? DB_NOSYNC : 0);
		*db = NULL;
	}
}

void
store_close(struct store *store)
{
	if (store == NULL)
		return;
	close_databases(store);
	replication_close(store);
	if (store->env != NULL)
		store->env->close(store->env, 0);
	if (store->home_fd != -1)
		close(store->home_fd);
	keyframe_cache_free(store->keyframe_cache);
	batch_queue_free(store->batch);
	free(store->replication);
	free(store->home);
	pthread_cond_destroy(&store->flushed);
	pthread_mutex_destroy(&store->flush_lock);
	pthread_mutex_destroy(&store->channel_lock);
	pthread_cond_destroy(&store->nodelay_stop);
	pthread_mutex_destroy(&store->nodelay_lock);
	free(store);
}

/* The file name of db, for logs. */
static const char *
database_name(DB *db)
{
	const char *file = NULL, *name = NULL;

	if (db->get_dbname(db, &file, &name) != 0 || file == NULL)
		return "a database";
	return file;
}

/*
 * Reads the value of key in db into value, which has room for cap bytes;
 * *size is its length. STATUS_NOT_FOUND when key is absent.
 */
enum status
get_value(struct store *store, DB *db, DB_TXN *txn, const void *key,
    size_t key_len, void *value, size_t cap, size_t *size, u_int32_t flags)
{
	DBT k = dbt((void *)key, key_len, key_len);
	DBT d = dbt(value, 0, cap);
	int rc = db->get(db, txn, &k, &d, flags);

	*size = d.size;
	return rc == 0 ? STATUS_OK : translate(store, rc, database_name(db));
}

/* Writes size bytes of value under key in db. */
enum status
put_value(struct store *store, DB *db, DB_TXN *txn, const void *key,
    size_t key_len, const void *value, size_t size, u_int32_t flags)
{
	DBT k = dbt((void *)key, key_len, key_len);
	DBT d = dbt((void *)value, size, size);
	int rc = db->put(db, txn, &k, &d, flags);

	return rc == 0 ? STATUS_OK : translate(store, rc, database_name(db));
}

/*
 * Ends a transaction that walked cursor (NULL is accepted): closes it,
 * then commits txn when status is STATUS_OK and aborts it otherwise;
 * returns the first failure, under what.
 */
static enum status
end_batch(struct store *store, DB_TXN *txn, DBC *cursor, enum status status,
    const char *what)
{
	status = close_cursor(store, cursor, status);
	if (status == STATUS_OK)
		return translate(store, txn->commit(txn, 0), what);
	txn->abort(txn);
	return status;
}

/*
 * Visits, in one transaction, at most WALK_BATCH records of db from the
 * key from (*from_len bytes) on, and moves from just past the last one
 * visited; *counted adds those visit counted, *done says none is left.
 */
static enum status
walk_batch(struct store *store, DB *db, u_int32_t rmw, visit_fn *visit,
    void *arg, unsigned char from[WALK_KEY_MAX + 1], size_t *from_len,
    uint64_t *counted, bool *done)
{
	unsigned char key_buf[WALK_KEY_MAX + 1], value[WALK_VALUE_MAX];
	DB_TXN *txn = NULL;
	DBC *cursor = NULL;
	DBT key, data;
	uint64_t n = 0;
	size_t walked = 0;
	bool count;
	enum status status;

	*done = false;
	if ((status = translate(store, store->env->txn_begin(store->env, NULL,
	    &txn, 0), "begin a transaction")) != STATUS_OK)
		return status;
	if ((status = translate(store, db->cursor(db, txn, &cursor, 0),
	    "open a cursor")) != STATUS_OK)
		goto done;
	memcpy(key_buf, from, *from_len);
	key = dbt(key_buf, *from_len, WALK_KEY_MAX);
	data = dbt(value, 0, sizeof(value));
	for (status = translate(store, cursor->get(cursor, &key, &data,
	    DB_SET_RANGE | rmw), database_name(db)); status == STATUS_OK &&
	    walked < WALK_BATCH; status = translate(store, cursor->get(cursor,
	    &key, &data, DB_NEXT | rmw), database_name(db))) {
		/* the next batch starts just past this key */
		memcpy(from, key_buf, key.size);
		from[key.size] = 0;
		*from_len = key.size + 1;
		count = false;
		if ((status = visit(store, txn, cursor, &key, &data, arg,
		    &count)) != STATUS_OK)
			break;
		n += count;
		walked++;
	}
	if (status == STATUS_NOT_FOUND) {
		*done = true;	/* past the last record */
		status = STATUS_OK;
	}
done:
	if ((status = end_batch(store, txn, cursor, status,
	    database_name(db))) == STATUS_OK)
		*counted += n;
	return status;
}

enum status
walk_all(struct store *store, DB *db, u_int32_t rmw, visit_fn *visit,
    void *arg, uint64_t *counted)
{
	unsigned char from[WALK_KEY_MAX + 1];
	size_t from_len = 0;
	bool done = false;
	enum status status = STATUS_OK;

	*counted = 0;
	while (!done && (status = walk_batch(store, db, rmw, visit, arg, from,
	    &from_len, counted, &done)) == STATUS_OK)
		continue;
	return status;
}

/*
 * Closes cursor (NULL is accepted) and returns status, or the close's own
 * failure when status was STATUS_OK: the first error is the one kept.
 */
enum status
close_cursor(struct store *store, DBC *cursor, enum status status)
{
	int rc;

	if (cursor == NULL)
		return status;
	rc = cursor->close(cursor);
	return status == STATUS_OK ? translate(store, rc, "close a cursor") :
	    status;
}

/* A record of database that does not decode: logged, a system error. */
enum status
malformed(const char *database)
{
	log_error("store: %s holds a malformed record", database);
	return STATUS_SYSTEM;
}

/* Reads an environment's record; STATUS_NOT_FOUND when it never had a deploy. */
enum status
get_environment(struct store *store, DB_TXN *txn, const char *name,
    u_int32_t flags, struct environment_record *record)
{
	unsigned char value[ENVIRONMENT_VALUE_SIZE];
	size_t size;
	enum status status;

	if ((status = get_value(store, store->environments, txn, name,
	    strlen(name), value, sizeof(value), &size, flags)) != STATUS_OK)
		return status;
	return record_environment_decode(value, size, record) ? STATUS_OK :
	    malformed("environments.db");
}

/* Deletes key from db; STATUS_NOT_FOUND when it is absent. */
enum status
del_value(struct store *store, DB *db, DB_TXN *txn, const void *key,
    size_t key_len)
{
	DBT k = dbt((void *)key, key_len, key_len);
	int rc = db->del(db, txn, &k, 0);

	return rc == 0 ? STATUS_OK : translate(store, rc, database_name(db));
}

/*
 * What a store_* function answers for status: a deadlock the store no
 * longer retries (or cannot: no transaction of its own) is busy, logged
 * under what as a lock conflict is. No store_* function answers
 * STATUS_DEADLOCK.
 */
enum status
busy_if_deadlock(enum status status, const char *what)
{
	if (status != STATUS_DEADLOCK)
		return status;
	log_warn("store: %s: %s", what, db_strerror(DB_LOCK_DEADLOCK));
	return STATUS_BUSY;
}

/*
 * Runs read in a read-committed transaction, again after a deadlock (a
 * bounded number of times), then makes sure that what it saw is on disk:
 * it may have seen a commit whose own flush is still running. what names
 * the read in the log.
 */
enum status
run_read(struct store *store, read_fn *read, void *arg, const char *what)
{
	DB_TXN *txn;
	enum status status, ended;

	for (int attempt = 0;; attempt++) {
		if ((status = translate(store, store->env->txn_begin(store->env,
		    NULL, &txn, DB_READ_COMMITTED), "begin a transaction")) !=
		    STATUS_OK)
			break;
		status = read(store, txn, arg);
		if (status == STATUS_OK || status == STATUS_NOT_FOUND) {
			if ((ended = commit_early(store, txn)) != STATUS_OK &&
			    status == STATUS_OK)
				status = ended;
		} else
			txn->abort(txn);
		if (status != STATUS_DEADLOCK || attempt == DEADLOCK_RETRIES)
			break;
	}
	if (status == STATUS_OK)
		status = flush_committed(store);
	return busy_if_deadlock(status, what);
}

enum status
store_checkpoint(struct store *store)
{
	int rc;

	if ((rc = store->env->txn_checkpoint(store->env, 0, 0, 0)) == 0)
		rc = store->env->log_archive(store->env, NULL, DB_ARCH_REMOVE);
	return busy_if_deadlock(translate(store, rc, "checkpoint"), "checkpoint");
}

enum status
store_expire_locks(struct store *store)
{
	return busy_if_deadlock(translate(store, store->env->lock_detect(
	    store->env, 0, DB_LOCK_EXPIRE, NULL), "expire locks"),
	    "expire locks");
}

bool
store_needs_recovery(const struct store *store)
{
	return store->panicked || store->handles_dead;
}
