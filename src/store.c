/*
 * The store, on a transactional Berkeley DB environment.
 *
 * Five B-tree databases (README, "Data layout", says why each exists):
 *   meta.db          "next-environment-id" -> u32
 *   environments.db  environment name -> id, current system version, updated-at
 *   current.db       env id . service name -> version, since system version
 *   history.db       env id . service name . NUL . system version -> version
 *   changes.db       env id . system version -> the change and its metadata
 * Integers are stored big-endian so that byte order is numeric order, and
 * every value starts with a format byte so records can evolve.
 *
 * A deploy touches a fixed number of records whatever the number of
 * services or versions; the snapshot of version N is, for each service,
 * its last history record at or below N, found with a few cursor steps.
 */
#include <db.h>
#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "store.h"

#define RECORD_FORMAT		1	/* the first byte of every value */
#define DEADLOCK_RETRIES	16	/* attempts after the first */
#define ENV_ID_SIZE		4
#define VERSION_SIZE		8
#define HISTORY_KEY_MAX		(ENV_ID_SIZE + SERVICE_NAME_MAX + 1 + VERSION_SIZE)
#define ENVIRONMENT_VALUE_SIZE	(1 + 4 + 8 + 8)
#define CURRENT_VALUE_SIZE	(1 + 8 + 8)
#define HISTORY_VALUE_SIZE	(1 + 1 + 8)
#define CHANGE_VALUE_MAX	(1 + 8 + 8 + 1 + 8 + 2 + SERVICE_NAME_MAX + \
				 3 * (2 + METADATA_MAX))
#define HISTORY_DEPLOYED	1	/* history kind: the service runs this version */

/* Bits of a change record's flags byte. */
#define CHANGE_HAS_PREVIOUS	0x01
#define CHANGE_HAS_DEPLOYED_BY	0x02
#define CHANGE_HAS_REASON	0x04
#define CHANGE_HAS_RELEASE_HASH	0x08

struct store {
	DB_ENV	*env;
	DB	*meta;
	DB	*environments;
	DB	*current;
	DB	*history;
	DB	*changes;
	bool	 durable;	/* nothing is answered before it is on disk */
	atomic_bool panicked;	/* set by any thread, read by all */
};

/* An environments.db record. */
struct environment_record {
	uint32_t	id;
	uint64_t	current;	/* 0 before the first change */
	uint64_t	updated_ms;	/* commit time of the current version */
};

static void
put_u32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
}

static uint32_t
get_u32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

static void
put_u64(unsigned char *p, uint64_t v)
{
	put_u32(p, (uint32_t)(v >> 32));
	put_u32(p + 4, (uint32_t)v);
}

static uint64_t
get_u64(const unsigned char *p)
{
	return (uint64_t)get_u32(p) << 32 | get_u32(p + 4);
}

/* A DBT over caller memory: size bytes of data, room for cap. */
static DBT
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
static enum status
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
	case ENOSPC:
	case EDQUOT:
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

enum status
store_open(const struct store_options *options, struct store **out)
{
	struct store *store;
	DB_ENV *env = NULL;
	bool recover = options->role == STORE_RECOVER;
	u_int32_t flags = DB_INIT_TXN | DB_INIT_LOCK | DB_INIT_LOG |
	    DB_INIT_MPOOL | DB_THREAD;
	int rc;
	enum status status;

	*out = NULL;
	if ((store = calloc(1, sizeof(*store))) == NULL) {
		log_error("store: out of memory");
		return STATUS_SYSTEM;
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
	if (!options->durable &&
	    (rc = env->set_flags(env, DB_TXN_WRITE_NOSYNC, 1)) != 0)
		goto fail;
	if (recover)
		flags |= DB_CREATE | DB_RECOVER;
	if ((rc = env->open(env, options->home, flags, 0600)) != 0)
		goto fail;
	if ((rc = open_database(env, "meta.db", recover, &store->meta)) != 0 ||
	    (rc = open_database(env, "environments.db", recover,
	    &store->environments)) != 0 ||
	    (rc = open_database(env, "current.db", recover, &store->current)) != 0 ||
	    (rc = open_database(env, "history.db", recover, &store->history)) != 0 ||
	    (rc = open_database(env, "changes.db", recover, &store->changes)) != 0)
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
	dbs[1] = &store->history;
	dbs[2] = &store->current;
	dbs[3] = &store->environments;
	dbs[4] = &store->meta;
	/* a panicked environment is not flushed: recovery rebuilds it */
	for (size_t i = 0; i < 5; i++)
		if (*dbs[i] != NULL)
			(*dbs[i])->close(*dbs[i], store->panicked ? DB_NOSYNC : 0);
	if (store->env != NULL)
		store->env->close(store->env, 0);
	free(store);
}

/* Reads an environment's record; DB_NOTFOUND when it never had a deploy. */
static int
get_environment(struct store *store, DB_TXN *txn, const char *name,
    u_int32_t flags, struct environment_record *record)
{
	unsigned char value[ENVIRONMENT_VALUE_SIZE];
	DBT key = dbt((void *)name, strlen(name), strlen(name));
	DBT data = dbt(value, 0, sizeof(value));
	int rc;

	if ((rc = store->environments->get(store->environments, txn, &key,
	    &data, flags)) != 0)
		return rc;
	if (data.size != sizeof(value) || value[0] != RECORD_FORMAT)
		return DB_VERIFY_BAD;
	record->id = get_u32(value + 1);
	record->current = get_u64(value + 5);
	record->updated_ms = get_u64(value + 13);
	return 0;
}

static int
put_environment(struct store *store, DB_TXN *txn, const char *name,
    const struct environment_record *record)
{
	unsigned char value[ENVIRONMENT_VALUE_SIZE];
	DBT key = dbt((void *)name, strlen(name), strlen(name));
	DBT data = dbt(value, sizeof(value), sizeof(value));

	value[0] = RECORD_FORMAT;
	put_u32(value + 1, record->id);
	put_u64(value + 5, record->current);
	put_u64(value + 13, record->updated_ms);
	return store->environments->put(store->environments, txn, &key, &data, 0);
}

/* Takes the next environment id from meta.db. */
static int
allocate_environment_id(struct store *store, DB_TXN *txn, uint32_t *id)
{
	static const char name[] = "next-environment-id";
	unsigned char value[1 + 4];
	DBT key = dbt((void *)name, sizeof(name) - 1, sizeof(name) - 1);
	DBT data = dbt(value, 0, sizeof(value));
	uint32_t next = 1;
	int rc;

	rc = store->meta->get(store->meta, txn, &key, &data, DB_RMW);
	if (rc == 0 && (data.size != sizeof(value) || value[0] != RECORD_FORMAT))
		return DB_VERIFY_BAD;
	if (rc == 0)
		next = get_u32(value + 1);
	else if (rc != DB_NOTFOUND)
		return rc;
	if (next == UINT32_MAX)
		return ENOSPC;
	*id = next;
	value[0] = RECORD_FORMAT;
	put_u32(value + 1, next + 1);
	data = dbt(value, sizeof(value), sizeof(value));
	return store->meta->put(store->meta, txn, &key, &data, 0);
}

/* Builds env id . name (the current.db key); returns its length. */
static size_t
service_key(unsigned char *buf, uint32_t env_id, const char *name,
    size_t name_len)
{
	put_u32(buf, env_id);
	memcpy(buf + ENV_ID_SIZE, name, name_len);
	return ENV_ID_SIZE + name_len;
}

/* Builds env id . name . NUL . system version (the history.db key). */
static size_t
history_key(unsigned char *buf, uint32_t env_id, const char *name,
    size_t name_len, uint64_t system_version)
{
	size_t n = service_key(buf, env_id, name, name_len);

	buf[n++] = '\0';
	put_u64(buf + n, system_version);
	return n + VERSION_SIZE;
}

/* Appends a 16-bit length and the bytes of an optional text. */
static size_t
put_text(unsigned char *p, const char *text, size_t len)
{
	p[0] = (unsigned char)(len >> 8);
	p[1] = (unsigned char)len;
	memcpy(p + 2, text, len);
	return 2 + len;
}

/* Writes the changes.db record of a new system version. */
static int
put_change(struct store *store, DB_TXN *txn, uint32_t env_id,
    uint64_t system_version, uint64_t created_ms, const struct deploy *deploy,
    bool has_previous, uint64_t previous)
{
	unsigned char key_buf[ENV_ID_SIZE + VERSION_SIZE];
	unsigned char value[CHANGE_VALUE_MAX];
	unsigned char flags = 0;
	size_t n = 0;
	DBT key, data;

	put_u32(key_buf, env_id);
	put_u64(key_buf + ENV_ID_SIZE, system_version);
	flags |= has_previous ? CHANGE_HAS_PREVIOUS : 0;
	flags |= deploy->deployed_by.present ? CHANGE_HAS_DEPLOYED_BY : 0;
	flags |= deploy->reason.present ? CHANGE_HAS_REASON : 0;
	flags |= deploy->release_hash.present ? CHANGE_HAS_RELEASE_HASH : 0;
	value[n++] = RECORD_FORMAT;
	put_u64(value + n, created_ms);
	n += 8;
	put_u64(value + n, deploy->version);
	n += 8;
	value[n++] = flags;
	put_u64(value + n, has_previous ? previous : 0);
	n += 8;
	n += put_text(value + n, deploy->name, deploy->name_len);
	n += put_text(value + n, deploy->deployed_by.text, deploy->deployed_by.len);
	n += put_text(value + n, deploy->reason.text, deploy->reason.len);
	n += put_text(value + n, deploy->release_hash.text,
	    deploy->release_hash.len);
	key = dbt(key_buf, sizeof(key_buf), sizeof(key_buf));
	data = dbt(value, n, sizeof(value));
	return store->changes->put(store->changes, txn, &key, &data,
	    DB_NOOVERWRITE);
}

/*
 * Commits txn without waiting for the disk: its locks are released at once,
 * so the next deploy of the environment need not wait for this one's flush.
 * Nothing it wrote may be answered before flush_committed() returns.
 */
static int
commit_early(struct store *store, DB_TXN *txn)
{
	return txn->commit(txn, store->durable ? DB_TXN_NOSYNC : 0);
}

/*
 * Puts every commit made so far, by any process, on disk (when the store
 * is durable). One flush serves all the commits waiting for it, so
 * concurrent deploys share their fsyncs (group commit). Called before any
 * answer that reveals committed data: a deploy's number, or a read, which
 * may see a commit that another request has not flushed yet.
 */
static int
flush_committed(struct store *store)
{
	return store->durable ? store->env->log_flush(store->env, NULL) : 0;
}

/* One attempt at a deploy, in one transaction; returns a Berkeley DB code. */
static int
deploy_once(struct store *store, const struct deploy *deploy,
    struct deploy_result *result)
{
	DB_ENV *env = store->env;
	DB_TXN *txn = NULL;
	struct environment_record record;
	unsigned char key_buf[HISTORY_KEY_MAX], value[CURRENT_VALUE_SIZE];
	unsigned char history_value[HISTORY_VALUE_SIZE];
	DBT key, data;
	bool has_previous = false;
	uint64_t previous = 0, next;
	int rc;

	if ((rc = env->txn_begin(env, NULL, &txn, 0)) != 0)
		return rc;
	/* the write lock on the environment's record orders its deploys */
	rc = get_environment(store, txn, deploy->environment, DB_RMW, &record);
	if (rc == DB_NOTFOUND) {
		memset(&record, 0, sizeof(record));
		rc = allocate_environment_id(store, txn, &record.id);
	}
	if (rc != 0)
		goto fail;

	key = dbt(key_buf, service_key(key_buf, record.id, deploy->name,
	    deploy->name_len), sizeof(key_buf));
	data = dbt(value, 0, sizeof(value));
	rc = store->current->get(store->current, txn, &key, &data, 0);
	if (rc == 0) {
		if (data.size != sizeof(value) || value[0] != RECORD_FORMAT) {
			rc = DB_VERIFY_BAD;
			goto fail;
		}
		has_previous = true;
		previous = get_u64(value + 1);
	} else if (rc != DB_NOTFOUND)
		goto fail;

	if (has_previous && previous == deploy->version) {
		result->system_version = record.current;
		result->changed = false;
		/* read only, but the version read may not be on disk yet */
		return commit_early(store, txn);
	}
	if (record.current >= SYSTEM_VERSION_MAX) {
		rc = ENOSPC;
		goto fail;
	}
	next = record.current + 1;

	value[0] = RECORD_FORMAT;
	put_u64(value + 1, deploy->version);
	put_u64(value + 9, next);
	data = dbt(value, sizeof(value), sizeof(value));
	if ((rc = store->current->put(store->current, txn, &key, &data, 0)) != 0)
		goto fail;

	key = dbt(key_buf, history_key(key_buf, record.id, deploy->name,
	    deploy->name_len, next), sizeof(key_buf));
	history_value[0] = RECORD_FORMAT;
	history_value[1] = HISTORY_DEPLOYED;
	put_u64(history_value + 2, deploy->version);
	data = dbt(history_value, sizeof(history_value), sizeof(history_value));
	if ((rc = store->history->put(store->history, txn, &key, &data,
	    DB_NOOVERWRITE)) != 0)
		goto fail;

	/* createdAt never goes backwards, even when the clock does */
	record.updated_ms = now_ms() > record.updated_ms ? now_ms() :
	    record.updated_ms;
	record.current = next;
	if ((rc = put_change(store, txn, record.id, next, record.updated_ms,
	    deploy, has_previous, previous)) != 0 ||
	    (rc = put_environment(store, txn, deploy->environment, &record)) != 0)
		goto fail;

	rc = commit_early(store, txn);
	txn = NULL;
	if (rc == 0) {
		result->system_version = next;
		result->changed = true;
	}
	return rc;
fail:
	if (txn != NULL)
		txn->abort(txn);
	return rc;
}

enum status
store_deploy(struct store *store, const struct deploy *deploy,
    struct deploy_result *result)
{
	int rc;

	for (int attempt = 0;; attempt++) {
		rc = deploy_once(store, deploy, result);
		if (!is_deadlock(rc) || attempt == DEADLOCK_RETRIES)
			break;
	}
	if (rc == 0)
		rc = flush_committed(store);
	return translate(store, rc, "deploy");
}

enum status
store_current(struct store *store, const char *environment,
    struct environment_state *state)
{
	struct environment_record record;
	int rc;

	for (int attempt = 0;; attempt++) {
		rc = get_environment(store, NULL, environment,
		    DB_READ_COMMITTED, &record);
		if (!is_deadlock(rc) || attempt == DEADLOCK_RETRIES)
			break;
	}
	if (rc == 0)
		rc = flush_committed(store);
	if (rc == 0) {
		state->system_version = record.current;
		state->updated_ms = record.updated_ms;
	}
	return translate(store, rc, "read environment");
}

/*
 * The version of one service at system_version, when it is not its current
 * one: its last history record at or below system_version, found with one
 * search and one step back. *found is false when the service did not
 * exist yet at system_version.
 */
static int
version_at(DBC *history, uint32_t env_id, const char *name, size_t name_len,
    uint64_t system_version, bool *found, uint64_t *version)
{
	unsigned char seek[HISTORY_KEY_MAX], key_buf[HISTORY_KEY_MAX];
	unsigned char value[HISTORY_VALUE_SIZE];
	size_t seek_len = history_key(seek, env_id, name, name_len,
	    system_version + 1);
	DBT key, data;
	int rc;

	*found = false;
	memcpy(key_buf, seek, seek_len);
	key = dbt(key_buf, seek_len, sizeof(key_buf));
	data = dbt(value, 0, sizeof(value));
	/* the service has a record above system_version: land on the first */
	rc = history->get(history, &key, &data, DB_SET_RANGE);
	if (rc == 0)
		rc = history->get(history, &key, &data, DB_PREV);
	if (rc == DB_NOTFOUND)
		return 0;
	if (rc != 0)
		return rc;
	if (key.size != seek_len ||
	    memcmp(key_buf, seek, seek_len - VERSION_SIZE) != 0)
		return 0;	/* the record before is another service's */
	if (data.size != sizeof(value) || value[0] != RECORD_FORMAT)
		return DB_VERIFY_BAD;
	*found = value[1] == HISTORY_DEPLOYED;
	*version = get_u64(value + 2);
	return 0;
}

/*
 * Appends to list the snapshot at system_version of environment env_id.
 * current.db gives every service of the environment in name order, with
 * its current version and the system version that set it: when that is
 * at or below system_version, the current version is the answer, with no
 * history read; otherwise history.db has it. Returns a Berkeley DB code.
 */
static int
scan_snapshot(DBC *current, DBC *history, uint32_t env_id,
    uint64_t system_version, struct service_list *list)
{
	unsigned char key_buf[ENV_ID_SIZE + SERVICE_NAME_MAX];
	unsigned char value[CURRENT_VALUE_SIZE];
	const char *name = (const char *)key_buf + ENV_ID_SIZE;
	size_t name_len;
	uint64_t version;
	bool found;
	DBT key, data;
	int rc;

	put_u32(key_buf, env_id);
	key = dbt(key_buf, ENV_ID_SIZE, sizeof(key_buf));
	data = dbt(value, 0, sizeof(value));
	for (rc = current->get(current, &key, &data, DB_SET_RANGE); rc == 0;
	    rc = current->get(current, &key, &data, DB_NEXT)) {
		if (key.size < ENV_ID_SIZE || get_u32(key_buf) != env_id)
			break;		/* past the environment's services */
		if (data.size != sizeof(value) || value[0] != RECORD_FORMAT)
			return DB_VERIFY_BAD;
		name_len = key.size - ENV_ID_SIZE;
		found = true;
		version = get_u64(value + 1);
		if (get_u64(value + 9) > system_version &&
		    (rc = version_at(history, env_id, name, name_len,
		    system_version, &found, &version)) != 0)
			return rc;
		if (found && !service_list_append(list, name, name_len, version))
			return ENOMEM;
	}
	return rc == DB_NOTFOUND ? 0 : rc;
}

/* One attempt at reading a snapshot; returns a Berkeley DB code. */
static int
services_once(struct store *store, const char *environment,
    uint64_t system_version, struct service_list *list)
{
	DB_ENV *env = store->env;
	DB_TXN *txn = NULL;
	DBC *current = NULL, *history = NULL;
	struct environment_record record;
	int rc, rc_close;

	service_list_clear(list);
	if ((rc = env->txn_begin(env, NULL, &txn, DB_READ_COMMITTED)) != 0)
		return rc;
	if ((rc = get_environment(store, txn, environment, 0, &record)) != 0)
		goto done;
	if (system_version == 0)
		system_version = record.current;
	if (system_version > record.current) {
		rc = DB_NOTFOUND;
		goto done;
	}
	/*
	 * History at or below the current version never changes, and a
	 * service that changed since is looked up there: reads need not hold
	 * their locks.
	 */
	if ((rc = store->current->cursor(store->current, txn, &current,
	    DB_READ_COMMITTED)) != 0 ||
	    (rc = store->history->cursor(store->history, txn, &history,
	    DB_READ_COMMITTED)) != 0)
		goto done;
	rc = scan_snapshot(current, history, record.id, system_version, list);
done:
	if (history != NULL && (rc_close = history->close(history)) != 0 &&
	    rc == 0)
		rc = rc_close;
	if (current != NULL && (rc_close = current->close(current)) != 0 &&
	    rc == 0)
		rc = rc_close;
	if (rc == 0 || rc == DB_NOTFOUND) {
		rc_close = commit_early(store, txn);
		return rc != 0 ? rc : rc_close;
	}
	txn->abort(txn);
	return rc;
}

enum status
store_services(struct store *store, const char *environment,
    uint64_t system_version, struct service_list *list)
{
	int rc;

	for (int attempt = 0;; attempt++) {
		rc = services_once(store, environment, system_version, list);
		if (!is_deadlock(rc) || attempt == DEADLOCK_RETRIES)
			break;
	}
	if (rc == 0)
		rc = flush_committed(store);
	if (rc != 0)
		service_list_clear(list);
	return translate(store, rc, "read services");
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
