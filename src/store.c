/*
 * The store, on a transactional Berkeley DB environment.
 *
 * Five B-tree databases (README, "Data layout", says why each exists):
 *   meta.db          "next-environment-id" -> u32
 *   environments.db  environment name -> id, current system version,
 *                    updated-at, number of services, last keyframe
 *   current.db       env id . service name -> version, since system version
 *   changes.db       env id . system version -> the change and its metadata
 *   keyframes.db     env id . system version -> that version's whole list
 * Integers are stored big-endian so that byte order is numeric order, and
 * every value starts with a format byte so records can evolve.
 *
 * A deploy writes three records, and once every max(KEYFRAME_INTERVAL,
 * services) system versions a keyframe: the snapshot of that version, so
 * each version costs a bounded share of one. The snapshot of version N is
 * the current map when nothing changed since N; otherwise the keyframe at
 * or below N with the changes after it, read in one sequential pass.
 */
#define _GNU_SOURCE		/* fallocate() */
#include <db.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "store.h"

#define RECORD_FORMAT		1	/* the first byte of every value */
#define DEADLOCK_RETRIES	16	/* attempts after the first */
#define ENV_ID_SIZE		4
#define VERSION_SIZE		8
#define VERSIONED_KEY_SIZE	(ENV_ID_SIZE + VERSION_SIZE)
#define ENVIRONMENT_VALUE_SIZE	(1 + 4 + 8 + 8 + 4 + 8)
#define CURRENT_VALUE_SIZE	(1 + 8 + 8)
#define CHANGE_VALUE_MAX	(1 + 8 + 8 + 1 + 8 + 2 + SERVICE_NAME_MAX + \
				 3 * (2 + METADATA_MAX))
#define CHANGE_NAME_OFFSET	(1 + 8 + 8 + 1 + 8)	/* where the name's length starts */
#define KEYFRAME_HEADER_SIZE	(1 + 4)		/* format, number of entries */
#define KEYFRAME_ENTRY_MAX	(2 + SERVICE_NAME_MAX + 8)
#define KEYFRAME_INTERVAL	128	/* fewest system versions between keyframes */
#define BULK_BUFFER_MIN		(8 * 1024)	/* bytes of records read per call */
#define BULK_BUFFER_MAX		(64 * 1024)	/* in a scan (at least a page) */
#define BULK_CURRENT_BYTES	48	/* a current.db record, roughly, in a buffer */
#define BULK_CHANGE_BYTES	96	/* a changes.db record, likewise */

/*
 * A private code, beside errno's and Berkeley DB's: a change was refused
 * before it wrote anything, the disk being below the reserve.
 */
#define BELOW_RESERVE		(-1)

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
	DB	*changes;
	DB	*keyframes;
	bool	 durable;	/* nothing is answered before it is on disk */
	unsigned keyframe_interval;	/* fewest system versions between keyframes */
	atomic_bool panicked;	/* set by any thread, read by all */
	unsigned commit_delay_us;	/* the flush leader's wait for company */
	int	 home_fd;	/* the environment's directory, for fstatvfs() */
	uint64_t reserve_bytes;	/* a change needs this much free; 0: no check */
	atomic_bool below_reserve;	/* as last seen, so that changes are logged once */
	_Atomic uint64_t room_checked_ms;	/* when, on the monotonic clock; 0: never */
	/* group commit among this process's threads (see wait_durable) */
	pthread_mutex_t	flush_lock;
	pthread_cond_t	flushed;
	uint64_t	commits;	/* changing commits made so far */
	uint64_t	commits_flushed;	/* how many of them are on disk */
	bool		flushing;	/* a thread is flushing for the others */
	unsigned	waiting;	/* threads waiting for their commit's flush */
};

/* An environments.db record. */
struct environment_record {
	uint32_t	id;
	uint64_t	current;	/* 0 before the first change */
	uint64_t	updated_ms;	/* commit time of the current version */
	uint32_t	services;	/* in current.db */
	uint64_t	keyframe;	/* system version of the last keyframe; 0: none */
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

/*
 * Reserves the disk blocks of the region files this process has mapped
 * from home (__db.001 and so on, each mapped at its largest size).
 * Berkeley DB grows a region, the buffer pool's as the cache fills, by
 * writing the new end of its file and leaving a hole before it; on a full
 * disk the first store into that hole is a SIGBUS. Reserved blocks (past
 * the end of the file, so its size is unchanged) fill such holes, so a
 * full disk fails writes with ENOSPC instead. Best effort: a filesystem
 * without fallocate(), or a disk already full, is logged and tolerated.
 */
static void
reserve_regions(const char *home)
{
	char dir[PATH_MAX], line[PATH_MAX + 128];
	FILE *maps;
	size_t dir_len;

	if (realpath(home, dir) == NULL ||
	    (maps = fopen("/proc/self/maps", "re")) == NULL) {
		log_warn("store: cannot list the regions of %s: %s", home,
		    strerror(errno));
		return;
	}
	dir_len = strlen(dir);
	while (fgets(line, sizeof(line), maps) != NULL) {
		unsigned long start, end;
		char *path = strchr(line, '/');
		int fd;

		if (path == NULL || sscanf(line, "%lx-%lx", &start, &end) != 2)
			continue;
		path[strcspn(path, "\n")] = '\0';
		if (strncmp(path, dir, dir_len) != 0 ||
		    strncmp(path + dir_len, "/__db.", 6) != 0)
			continue;
		if ((fd = open(path, O_RDWR | O_CLOEXEC)) == -1 ||
		    fallocate(fd, FALLOC_FL_KEEP_SIZE, 0,
		    (off_t)(end - start)) == -1)
			log_warn("store: cannot reserve %lu bytes for %s (%s): "
			    "a full disk may stop the workers", end - start,
			    path, strerror(errno));
		if (fd != -1)
			close(fd);
	}
	fclose(maps);
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
	record->services = get_u32(value + 21);
	record->keyframe = get_u64(value + 25);
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
	put_u32(value + 21, record->services);
	put_u64(value + 25, record->keyframe);
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
		return EOVERFLOW;
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

/* Builds env id . system version (the changes.db and keyframes.db key). */
static void
versioned_key(unsigned char buf[VERSIONED_KEY_SIZE], uint32_t env_id,
    uint64_t system_version)
{
	put_u32(buf, env_id);
	put_u64(buf + ENV_ID_SIZE, system_version);
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
	unsigned char key_buf[VERSIONED_KEY_SIZE];
	unsigned char value[CHANGE_VALUE_MAX];
	unsigned char flags = 0;
	size_t n = 0;
	DBT key, data;

	versioned_key(key_buf, env_id, system_version);
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

/*
 * A forward scan of a cursor from a key on, with bulk retrieval: each call
 * into Berkeley DB returns as many records as fit in the buffer, so a long
 * scan pays for its locks and page lookups once a buffer, not once a record.
 */
struct range_scan {
	DBC		*cursor;
	unsigned char	 key_buf[ENV_ID_SIZE + SERVICE_NAME_MAX];
	DBT		 key;
	DBT		 bulk;		/* the buffer the records come back in */
	void		*next;		/* position in bulk; NULL: fetch more */
	bool		 started;
};

/*
 * Starts a scan at the first key at or after start, with a buffer for
 * about expected bytes of records (Berkeley DB fills a buffer whole, so a
 * short scan gets a small one); false when out of memory.
 */
static bool
range_open(struct range_scan *scan, DBC *cursor, const void *start,
    size_t start_len, size_t expected)
{
	/* a multiple of 1 KiB, and at least a page */
	size_t size = expected < BULK_BUFFER_MIN ? BULK_BUFFER_MIN :
	    expected > BULK_BUFFER_MAX ? BULK_BUFFER_MAX :
	    (expected + 1023) / 1024 * 1024;
	void *buffer = malloc(size);

	memset(scan, 0, sizeof(*scan));
	if (buffer == NULL)
		return false;
	scan->cursor = cursor;
	memcpy(scan->key_buf, start, start_len);
	scan->key = dbt(scan->key_buf, start_len, sizeof(scan->key_buf));
	scan->bulk = dbt(buffer, 0, size);
	return true;
}

/*
 * The next record: pointers into the scan's buffer, valid until the next
 * call. Returns 0, DB_NOTFOUND past the last record, or another code.
 */
static int
range_next(struct range_scan *scan, const unsigned char **key,
    size_t *key_len, const unsigned char **data, size_t *data_len)
{
	void *k, *d;
	u_int32_t k_len, d_len;
	int rc;

	for (;;) {
		if (scan->next != NULL) {
			DB_MULTIPLE_KEY_NEXT(scan->next, &scan->bulk, k, k_len,
			    d, d_len);
			if (scan->next != NULL) {
				*key = k;
				*key_len = k_len;
				*data = d;
				*data_len = d_len;
				return 0;
			}
		}
		rc = scan->cursor->get(scan->cursor, &scan->key, &scan->bulk,
		    (scan->started ? DB_NEXT : DB_SET_RANGE) | DB_MULTIPLE_KEY);
		scan->started = true;
		if (rc != 0)
			return rc;
		DB_MULTIPLE_INIT(scan->next, &scan->bulk);
	}
}

static void
range_close(struct range_scan *scan)
{
	free(scan->bulk.data);
	scan->bulk.data = NULL;
}

/*
 * Appends to list every service of environment env_id in current.db, in
 * name order, with its current version. *complete is false (and the list
 * partial) when a service's version was set after at_most: the current
 * map is then not the snapshot of at_most. Returns a Berkeley DB code.
 */
static int
scan_current(DBC *current, uint32_t env_id, uint32_t services,
    uint64_t at_most, struct service_list *list, bool *complete)
{
	struct range_scan scan;
	unsigned char start[ENV_ID_SIZE];
	const unsigned char *key, *value;
	size_t key_len, value_len;
	int rc;

	*complete = true;
	put_u32(start, env_id);
	if (!range_open(&scan, current, start, sizeof(start),
	    (size_t)services * BULK_CURRENT_BYTES))
		return ENOMEM;
	while ((rc = range_next(&scan, &key, &key_len, &value,
	    &value_len)) == 0) {
		if (key_len < ENV_ID_SIZE || get_u32(key) != env_id)
			break;		/* past the environment's services */
		if (value_len != CURRENT_VALUE_SIZE || value[0] != RECORD_FORMAT) {
			rc = DB_VERIFY_BAD;
			break;
		}
		if (get_u64(value + 9) > at_most) {
			*complete = false;
			break;
		}
		if (!service_list_append(list, (const char *)key + ENV_ID_SIZE,
		    key_len - ENV_ID_SIZE, get_u64(value + 1))) {
			rc = ENOMEM;
			break;
		}
	}
	range_close(&scan);
	return rc == DB_NOTFOUND ? 0 : rc;
}

/*
 * System versions between two keyframes: at least KEYFRAME_INTERVAL (or
 * the store's own setting), and at least the number of services, so that
 * each version pays for at most about one service's entry.
 */
static uint64_t
keyframe_interval(const struct store *store,
    const struct environment_record *record)
{
	return record->services > store->keyframe_interval ?
	    record->services : store->keyframe_interval;
}

/*
 * Writes the keyframe of system_version: the environment's whole current
 * map, as this transaction sees it (format, count, then for each service
 * in name order a 16-bit name length, the name, the version).
 */
static int
put_keyframe(struct store *store, DB_TXN *txn, uint32_t env_id,
    uint32_t services, uint64_t system_version)
{
	unsigned char key_buf[VERSIONED_KEY_SIZE], *value = NULL, *p;
	struct service_list list;
	DBC *current = NULL;
	size_t size = KEYFRAME_HEADER_SIZE;
	bool complete;
	DBT key, data;
	int rc, rc_close;

	service_list_init(&list);
	if ((rc = store->current->cursor(store->current, txn, &current, 0)) != 0)
		goto done;
	if ((rc = scan_current(current, env_id, services, UINT64_MAX, &list,
	    &complete)) != 0)
		goto done;
	for (size_t i = 0; i < list.count; i++)
		size += 2 + list.items[i].name_len + VERSION_SIZE;
	if (list.count > UINT32_MAX || size > UINT32_MAX ||
	    (value = malloc(size)) == NULL) {
		rc = ENOMEM;
		goto done;
	}
	value[0] = RECORD_FORMAT;
	put_u32(value + 1, (uint32_t)list.count);
	p = value + KEYFRAME_HEADER_SIZE;
	for (size_t i = 0; i < list.count; i++) {
		p += put_text(p, service_list_name(&list, i),
		    list.items[i].name_len);
		put_u64(p, list.items[i].version);
		p += VERSION_SIZE;
	}
	versioned_key(key_buf, env_id, system_version);
	key = dbt(key_buf, sizeof(key_buf), sizeof(key_buf));
	data = dbt(value, size, size);
	rc = store->keyframes->put(store->keyframes, txn, &key, &data,
	    DB_NOOVERWRITE);
done:
	if (current != NULL && (rc_close = current->close(current)) != 0 &&
	    rc == 0)
		rc = rc_close;
	free(value);
	service_list_free(&list);
	return rc;
}

/* Milliseconds on the monotonic clock, never 0. */
static uint64_t
monotonic_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000 + 1;
}

/*
 * The reserve keeps room for the log records of a change and for the
 * pages the next checkpoint writes, so that Berkeley DB does not meet a
 * full disk in the middle of a transaction or a flush. A failed
 * fstatvfs() says yes: the writes themselves will tell.
 */
bool
store_has_room(struct store *store, unsigned max_age_ms)
{
	struct statvfs fs;
	uint64_t free_bytes, now;
	bool below;

	if (store->reserve_bytes == 0)
		return true;
	now = monotonic_ms();
	if (max_age_ms > 0 && now - store->room_checked_ms < max_age_ms)
		return !store->below_reserve;
	if (fstatvfs(store->home_fd, &fs) == -1)
		return true;
	store->room_checked_ms = now;
	free_bytes = (uint64_t)fs.f_bavail * fs.f_frsize;
	below = free_bytes < store->reserve_bytes;
	if (atomic_exchange(&store->below_reserve, below) != below) {
		if (below)
			log_warn("store: %llu bytes free on the disk, below the "
			    "reserve of %llu: deploys are refused until space "
			    "is freed", (unsigned long long)free_bytes,
			    (unsigned long long)store->reserve_bytes);
		else
			log_info("store: %llu bytes free on the disk: deploys "
			    "are accepted again", (unsigned long long)free_bytes);
	}
	return !below;
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
	unsigned char key_buf[ENV_ID_SIZE + SERVICE_NAME_MAX];
	unsigned char value[CURRENT_VALUE_SIZE];
	DBT key, data;
	bool has_previous = false, checked_room = false;
	uint64_t previous = 0, next, now;
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

	if (replay != NULL && (record.current + 1 != replay->system_version ||
	    has_previous != replay->has_previous ||
	    (has_previous && previous != replay->previous) ||
	    (has_previous && previous == deploy->version) ||
	    replay->created_ms < record.updated_ms)) {
		rc = EINVAL;
		goto fail;
	}
	if (has_previous && previous == deploy->version) {
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
	next = record.current + 1;

	value[0] = RECORD_FORMAT;
	put_u64(value + 1, deploy->version);
	put_u64(value + 9, next);
	data = dbt(value, sizeof(value), sizeof(value));
	if ((rc = store->current->put(store->current, txn, &key, &data, 0)) != 0)
		goto fail;

	if (!has_previous)
		record.services++;

	/* createdAt never goes backwards, even when the clock does */
	if (replay != NULL)
		record.updated_ms = replay->created_ms;
	else if ((now = now_ms()) > record.updated_ms)
		record.updated_ms = now;
	record.current = next;
	if ((rc = put_change(store, txn, record.id, next, record.updated_ms,
	    deploy, has_previous, previous)) != 0)
		goto fail;
	if (next - record.keyframe >= keyframe_interval(store, &record)) {
		if ((rc = put_keyframe(store, txn, record.id, record.services,
		    next)) != 0)
			goto fail;
		record.keyframe = next;
	}
	if ((rc = put_environment(store, txn, deploy->environment, &record)) != 0)
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

/*
 * Returns once the commit this thread just made is on disk. The threads of
 * a process take turns: one (the leader) flushes the log for all the
 * commits made so far, and the others wait for it rather than flush again
 * for commits that others keep adding to the log. When others wait too,
 * the leader first waits commit_delay_us for more commits to join the same
 * flush: fewer, larger flushes under load, for that much more latency;
 * a deploy alone never waits.
 */
static int
wait_durable(struct store *store)
{
	struct timespec delay = { 0, (long)store->commit_delay_us * 1000 };
	uint64_t mine, target;
	int rc = 0;

	if (!store->durable)
		return 0;
	pthread_mutex_lock(&store->flush_lock);
	mine = ++store->commits;
	store->waiting++;
	while (rc == 0 && store->commits_flushed < mine) {
		if (store->flushing) {
			pthread_cond_wait(&store->flushed, &store->flush_lock);
			continue;
		}
		store->flushing = true;
		if (store->waiting > 1 && delay.tv_nsec > 0) {
			pthread_mutex_unlock(&store->flush_lock);
			nanosleep(&delay, NULL);
			pthread_mutex_lock(&store->flush_lock);
		}
		target = store->commits;
		pthread_mutex_unlock(&store->flush_lock);
		rc = store->env->log_flush(store->env, NULL);
		pthread_mutex_lock(&store->flush_lock);
		if (rc == 0 && target > store->commits_flushed)
			store->commits_flushed = target;
		store->flushing = false;
		pthread_cond_broadcast(&store->flushed);
	}
	store->waiting--;
	pthread_mutex_unlock(&store->flush_lock);
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

/* A change read back from changes.db, for merging into a keyframe. */
struct change_ref {
	const char	*name;
	size_t		 name_len;
	uint64_t	 version;
};

/*
 * Sorts refs[0..count) by name, keeping the order of equal names (a stable
 * bottom-up merge sort through spare, which has room for count refs).
 * Returns the sorted array: refs or spare.
 */
static struct change_ref *
sort_change_refs(struct change_ref *refs, struct change_ref *spare,
    size_t count)
{
	struct change_ref *from = refs, *to = spare, *swap;

	for (size_t width = 1; width < count; width *= 2) {
		for (size_t lo = 0; lo < count; lo += 2 * width) {
			size_t mid = lo + width < count ? lo + width : count;
			size_t hi = lo + 2 * width < count ? lo + 2 * width : count;
			size_t i = lo, j = mid, k = lo;

			while (i < mid && j < hi)
				to[k++] = service_name_compare(from[j].name,
				    from[j].name_len, from[i].name,
				    from[i].name_len) < 0 ? from[j++] : from[i++];
			while (i < mid)
				to[k++] = from[i++];
			while (j < hi)
				to[k++] = from[j++];
		}
		swap = from;
		from = to;
		to = swap;
	}
	return from;
}

/*
 * Finds the last keyframe of environment env_id at or below system_version:
 * *at is its version and *frame its value, malloc'd, for the caller to
 * free. When there is none, the snapshot starts empty: *at is 0 and *frame
 * empty.
 */
static int
find_keyframe(DBC *keyframes, uint32_t env_id, uint64_t system_version,
    uint64_t *at, DBT *frame)
{
	unsigned char key_buf[VERSIONED_KEY_SIZE];
	DBT key, skip;
	int rc;

	*at = 0;
	memset(frame, 0, sizeof(*frame));
	versioned_key(key_buf, env_id, system_version + 1);
	key = dbt(key_buf, sizeof(key_buf), sizeof(key_buf));
	/* position on the first key above, without reading its value */
	memset(&skip, 0, sizeof(skip));
	skip.flags = DB_DBT_USERMEM | DB_DBT_PARTIAL;
	rc = keyframes->get(keyframes, &key, &skip, DB_SET_RANGE);
	frame->flags = DB_DBT_MALLOC;
	if (rc == 0)
		rc = keyframes->get(keyframes, &key, frame, DB_PREV);
	else if (rc == DB_NOTFOUND)
		rc = keyframes->get(keyframes, &key, frame, DB_LAST);
	if (rc == DB_NOTFOUND)
		return 0;
	if (rc != 0)
		return rc;
	if (key.size != sizeof(key_buf) || get_u32(key_buf) != env_id) {
		free(frame->data);	/* another environment's */
		memset(frame, 0, sizeof(*frame));
		return 0;
	}
	*at = get_u64(key_buf + ENV_ID_SIZE);
	return 0;
}

/*
 * Appends to changed the name and version of every change of environment
 * env_id after system version from, up to and including to, in order.
 */
static int
read_changes(DBC *changes, uint32_t env_id, uint64_t from, uint64_t to,
    struct service_list *changed)
{
	struct range_scan scan;
	unsigned char start[VERSIONED_KEY_SIZE];
	const unsigned char *key, *value;
	size_t key_len, value_len, name_len;
	int rc;

	versioned_key(start, env_id, from + 1);
	if (!range_open(&scan, changes, start, sizeof(start),
	    (to - from) * BULK_CHANGE_BYTES))
		return ENOMEM;
	while ((rc = range_next(&scan, &key, &key_len, &value,
	    &value_len)) == 0) {
		if (key_len != VERSIONED_KEY_SIZE || get_u32(key) != env_id ||
		    get_u64(key + ENV_ID_SIZE) > to)
			break;
		if (value_len < CHANGE_NAME_OFFSET + 2 || value[0] != RECORD_FORMAT) {
			rc = DB_VERIFY_BAD;
			break;
		}
		name_len = (size_t)value[CHANGE_NAME_OFFSET] << 8 |
		    value[CHANGE_NAME_OFFSET + 1];
		if (name_len > SERVICE_NAME_MAX ||
		    value_len < CHANGE_NAME_OFFSET + 2 + name_len) {
			rc = DB_VERIFY_BAD;
			break;
		}
		if (!service_list_append(changed, (const char *)value +
		    CHANGE_NAME_OFFSET + 2, name_len, get_u64(value + 9))) {
			rc = ENOMEM;
			break;
		}
	}
	range_close(&scan);
	return rc == DB_NOTFOUND ? 0 : rc;
}

/*
 * Appends to list the merge of a keyframe (sorted entries) with the
 * latest of each changed name: the snapshot, in name order.
 */
static int
merge_keyframe(const DBT *frame, const struct change_ref *refs, size_t count,
    struct service_list *list)
{
	const unsigned char *p = frame->data, *end = p + frame->size;
	uint32_t entries = 0;
	size_t r = 0, name_len = 0;
	const char *name = NULL;
	uint64_t version = 0;
	bool have = false;
	int c;

	if (frame->size != 0) {
		if (frame->size < KEYFRAME_HEADER_SIZE || p[0] != RECORD_FORMAT)
			return DB_VERIFY_BAD;
		entries = get_u32(p + 1);
		p += KEYFRAME_HEADER_SIZE;
	}
	for (;;) {
		if (!have && entries > 0) {
			if (end - p < 2)
				return DB_VERIFY_BAD;
			name_len = (size_t)p[0] << 8 | p[1];
			if ((size_t)(end - p) < 2 + name_len + VERSION_SIZE)
				return DB_VERIFY_BAD;
			name = (const char *)p + 2;
			version = get_u64(p + 2 + name_len);
			p += 2 + name_len + VERSION_SIZE;
			entries--;
			have = true;
		}
		if (!have && r == count)
			break;
		c = !have ? 1 : r == count ? -1 : service_name_compare(name,
		    name_len, refs[r].name, refs[r].name_len);
		if (c < 0 ? !service_list_append(list, name, name_len, version) :
		    !service_list_append(list, refs[r].name, refs[r].name_len,
		    refs[r].version))
			return ENOMEM;
		if (c <= 0)
			have = false;	/* the keyframe's entry is used or replaced */
		if (c >= 0)
			r++;
	}
	return 0;
}

/*
 * Appends to list the snapshot at system_version of environment env_id
 * from the last keyframe at or below it and the changes since.
 */
static int
scan_keyframe(DBC *keyframes, DBC *changes, uint32_t env_id,
    uint64_t system_version, struct service_list *list)
{
	struct service_list changed;
	struct change_ref *refs = NULL, *sorted;
	size_t kept = 0;
	uint64_t at = 0;
	DBT frame;
	int rc;

	service_list_init(&changed);
	if ((rc = find_keyframe(keyframes, env_id, system_version, &at,
	    &frame)) != 0)
		goto done;
	if ((rc = read_changes(changes, env_id, at, system_version,
	    &changed)) != 0)
		goto done;
	/* the refs, then as many spare for sorting */
	if (changed.count > 0 &&
	    (refs = calloc(2 * changed.count, sizeof(*refs))) == NULL) {
		rc = ENOMEM;
		goto done;
	}
	for (size_t i = 0; i < changed.count; i++) {
		refs[i].name = service_list_name(&changed, i);
		refs[i].name_len = changed.items[i].name_len;
		refs[i].version = changed.items[i].version;
	}
	sorted = sort_change_refs(refs, refs + changed.count, changed.count);
	/* keep the latest change of each name: the last of its run */
	for (size_t i = 0; i < changed.count; i++) {
		if (kept > 0 && service_name_compare(sorted[kept - 1].name,
		    sorted[kept - 1].name_len, sorted[i].name,
		    sorted[i].name_len) == 0)
			kept--;
		sorted[kept++] = sorted[i];
	}
	rc = merge_keyframe(&frame, sorted, kept, list);
done:
	free(frame.data);
	free(refs);
	service_list_free(&changed);
	return rc;
}

/* What a read does inside its transaction; returns a Berkeley DB code. */
typedef int read_fn(struct store *, DB_TXN *, void *);

/*
 * Runs read in a read-committed transaction, again after a deadlock (a
 * bounded number of times), then makes sure that what it saw is on disk:
 * it may have seen a commit whose own flush is still running.
 */
static int
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

/* Reads the length-prefixed text at *p into text; false when it does not fit. */
static bool
take_text(const unsigned char **p, const unsigned char *end, char *text,
    size_t cap, size_t *len)
{
	if (end - *p < 2)
		return false;
	*len = (size_t)(*p)[0] << 8 | (*p)[1];
	if (*len >= cap || (size_t)(end - *p - 2) < *len)
		return false;
	memcpy(text, *p + 2, *len);
	text[*len] = '\0';
	*p += 2 + *len;
	return true;
}

/* Reads an optional metadata text: present when flag is set in flags. */
static bool
take_metadata(const unsigned char **p, const unsigned char *end,
    unsigned flags, unsigned flag, struct metadata_text *out)
{
	out->present = (flags & flag) != 0;
	return take_text(p, end, out->text, sizeof(out->text), &out->len);
}

/* Decodes a changes.db record (written by put_change); false when malformed. */
static bool
parse_change(const unsigned char *value, size_t size, uint64_t system_version,
    struct change_record *out)
{
	const unsigned char *p = value + CHANGE_NAME_OFFSET, *end = value + size;
	unsigned flags;

	if (size < CHANGE_NAME_OFFSET || value[0] != RECORD_FORMAT)
		return false;
	out->system_version = system_version;
	out->created_ms = get_u64(value + 1);
	out->version = get_u64(value + 9);
	flags = value[17];
	out->has_previous = (flags & CHANGE_HAS_PREVIOUS) != 0;
	out->previous = get_u64(value + 18);
	return take_text(&p, end, out->name, sizeof(out->name),
	    &out->name_len) &&
	    take_metadata(&p, end, flags, CHANGE_HAS_DEPLOYED_BY,
	    &out->deployed_by) &&
	    take_metadata(&p, end, flags, CHANGE_HAS_REASON, &out->reason) &&
	    take_metadata(&p, end, flags, CHANGE_HAS_RELEASE_HASH,
	    &out->release_hash) && p == end;
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
	uint64_t version;
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
	versioned_key(key_buf, record.id, version);
	key = dbt(key_buf, sizeof(key_buf), sizeof(key_buf));
	data = dbt(value, 0, sizeof(value));
	for (rc = cursor->get(cursor, &key, &data, DB_SET); rc == 0;
	    rc = cursor->get(cursor, &key, &data, DB_PREV)) {
		if (key.size != sizeof(key_buf) || get_u32(key_buf) != record.id ||
		    get_u64(key_buf + ENV_ID_SIZE) != version - r->count ||
		    !parse_change(value, data.size, version - r->count,
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
	unsigned char key_buf[VERSIONED_KEY_SIZE], value[CHANGE_VALUE_MAX];
	DBT key, data;
	int rc;

	versioned_key(key_buf, env_id, system_version);
	key = dbt(key_buf, sizeof(key_buf), sizeof(key_buf));
	data = dbt(value, 0, sizeof(value));
	if ((rc = store->changes->get(store->changes, txn, &key, &data,
	    DB_READ_COMMITTED)) != 0)
		return rc;
	return parse_change(value, data.size, system_version, out) ? 0 :
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
		if (data.size != sizeof(value) || value[0] != RECORD_FORMAT ||
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
		r->list[r->count].state.system_version = get_u64(value + 5);
		r->list[r->count].state.updated_ms = get_u64(value + 13);
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

/* The database files of a store, in the order they are verified. */
static const char *const database_files[] = {
	"meta.db", "environments.db", "current.db", "changes.db",
	"keyframes.db"
};

enum status
store_verify_files(struct store *store)
{
	enum status status = STATUS_OK;
	int rc;

	/* verification reads the files, so every page must be in them */
	if ((rc = store->env->txn_checkpoint(store->env, 0, 0, DB_FORCE)) != 0)
		return translate(store, rc, "checkpoint");
	for (size_t i = 0; i < sizeof(database_files) / sizeof(*database_files);
	    i++) {
		DB *db;

		if ((rc = db_create(&db, store->env, 0)) == 0)
			rc = db->verify(db, database_files[i], NULL, NULL, 0);
		if (rc != 0) {
			/* the handle is gone after verify, whatever it said */
			log_error("store: %s fails verification: %s",
			    database_files[i], db_strerror(rc));
			if (status == STATUS_OK)
				status = rc == DB_VERIFY_BAD ? STATUS_INVALID :
				    translate(store, rc, "verify");
		}
	}
	return status;
}

enum status
store_backup(struct store *store, const char *target)
{
	int rc;

	/* a fresh checkpoint keeps the logs the backup must carry short */
	if ((rc = store->env->txn_checkpoint(store->env, 0, 0, 0)) == 0)
		rc = store->env->backup(store->env, target, DB_CREATE);
	return translate(store, rc, "backup");
}

/* True for the names of the files a store keeps in its home. */
static bool
is_store_file(const char *name)
{
	size_t len = strlen(name);

	return strncmp(name, "log.", 4) == 0 || strncmp(name, "__db.", 5) == 0 ||
	    (len > 3 && strcmp(name + len - 3, ".db") == 0);
}

enum status
store_find(const char *home, bool *exists)
{
	DIR *dir;
	struct dirent *entry;

	*exists = false;
	if ((dir = opendir(home)) == NULL) {
		if (errno == ENOENT)
			return STATUS_OK;
		log_error("store: cannot read %s: %s", home, strerror(errno));
		return STATUS_SYSTEM;
	}
	while (!*exists && (entry = readdir(dir)) != NULL)
		*exists = is_store_file(entry->d_name);
	closedir(dir);
	return STATUS_OK;
}

/* Copies the regular file from into to (created, mode 0600) and syncs it. */
static enum status
copy_file(const char *from, const char *to)
{
	char buf[64 * 1024];
	ssize_t n = 0;
	int in, out = -1;
	enum status status = STATUS_SYSTEM;

	if ((in = open(from, O_RDONLY | O_CLOEXEC)) == -1) {
		log_error("store: cannot open %s: %s", from, strerror(errno));
		return STATUS_SYSTEM;
	}
	if ((out = open(to, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
	    0600)) == -1) {
		log_error("store: cannot create %s: %s", to, strerror(errno));
		goto done;
	}
	while ((n = read(in, buf, sizeof(buf))) > 0) {
		for (ssize_t off = 0; off < n;) {
			ssize_t w = write(out, buf + off, (size_t)(n - off));

			if (w == -1) {
				if (errno == EINTR)
					continue;
				log_error("store: cannot write %s: %s", to,
				    strerror(errno));
				goto done;
			}
			off += w;
		}
	}
	if (n == -1 || fsync(out) == -1) {
		log_error("store: cannot copy %s: %s", from, strerror(errno));
		goto done;
	}
	status = STATUS_OK;
done:
	if (out != -1 && close(out) == -1 && status == STATUS_OK) {
		log_error("store: cannot write %s: %s", to, strerror(errno));
		status = STATUS_SYSTEM;
	}
	close(in);
	return status;
}

enum status
store_restore(const struct store_options *options, const char *source)
{
	char from[4096], to[4096];
	struct store_options fatal = *options;
	struct store *store = NULL;
	struct dirent *entry;
	struct stat st;
	DIR *dir;
	bool exists;
	int dir_fd;
	enum status status;

	if ((status = store_find(options->home, &exists)) != STATUS_OK)
		return status;
	if (exists) {
		log_error("store: %s already holds a store; restore only into "
		    "an empty data directory", options->home);
		return STATUS_INVALID;
	}
	if ((dir = opendir(source)) == NULL) {
		log_error("store: cannot read the backup %s: %s", source,
		    strerror(errno));
		return STATUS_NOT_FOUND;
	}
	status = STATUS_OK;
	for (size_t i = 0; i < sizeof(database_files) / sizeof(*database_files);
	    i++) {
		snprintf(from, sizeof(from), "%s/%s", source, database_files[i]);
		if (stat(from, &st) == -1 || !S_ISREG(st.st_mode)) {
			log_error("store: %s is not a backup of a store: it has "
			    "no %s", source, database_files[i]);
			status = STATUS_INVALID;
			break;
		}
	}
	while (status == STATUS_OK && (entry = readdir(dir)) != NULL) {
		/* the backup's files, never a region file of a stray environment */
		if (!is_store_file(entry->d_name) ||
		    strncmp(entry->d_name, "__db.", 5) == 0)
			continue;
		if (snprintf(from, sizeof(from), "%s/%s", source,
		    entry->d_name) >= (int)sizeof(from) ||
		    snprintf(to, sizeof(to), "%s/%s", options->home,
		    entry->d_name) >= (int)sizeof(to)) {
			log_error("store: path too long in %s", source);
			status = STATUS_INVALID;
		} else if (lstat(from, &st) == 0 && S_ISREG(st.st_mode))
			status = copy_file(from, to);
	}
	closedir(dir);
	if (status != STATUS_OK)
		return status;
	if ((dir_fd = open(options->home, O_RDONLY | O_DIRECTORY |
	    O_CLOEXEC)) != -1) {
		fsync(dir_fd);
		close(dir_fd);
	}
	/* catastrophic recovery replays every log file the backup carries */
	fatal.role = STORE_RECOVER_FATAL;
	status = store_open(&fatal, &store);
	store_close(store);
	return status;
}
