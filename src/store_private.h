/*
 * What the files of the store share, and no other file sees: the handle,
 * the sizes of its records, and the functions one file of the store
 * calls in another, grouped by the file that defines them. Only
 * src/store*.c include it (and tests/unit/test_records.c, which tests
 * the layouts); the rest of releasemgr sees store.h.
 */
#ifndef RELEASEMGR_STORE_PRIVATE_H
#define RELEASEMGR_STORE_PRIVATE_H

#include <db.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "model.h"
#include "status.h"

/*
 * The sizes of keys and values (store_records.c and store_report_records.c
 * lay them out).
 */
#define ENV_ID_SIZE		4
#define VERSION_SIZE		8
#define SERVICE_KEY_MAX		(ENV_ID_SIZE + SERVICE_NAME_MAX)
#define VERSIONED_KEY_SIZE	(ENV_ID_SIZE + VERSION_SIZE)
#define NEXT_ID_VALUE_SIZE	(1 + 4)
#define ENVIRONMENT_VALUE_SIZE	(1 + 4 + 8 + 8 + 4 + 8 + 8 + 8 * OUTCOME_COUNT)
#define CURRENT_VALUE_SIZE	(1 + 8 + 8)	/* without keys */
#define KEYS_SIZE		(1 + 8 + 8)	/* flags, sequence, deployedAt */
#define CURRENT_VALUE_MAX	(CURRENT_VALUE_SIZE + KEYS_SIZE)
#define CHANGE_VALUE_MAX	(1 + 8 + 8 + 1 + 8 + 2 + SERVICE_NAME_MAX + \
				 3 * (2 + METADATA_MAX))
#define PERIOD_VALUE_SIZE	(1 + 8 + 1 + 8 + 8)
#define KEYS_VALUE_SIZE		(1 + KEYS_SIZE)
#define EVENT_KEY_MAX		(ENV_ID_SIZE + EVENT_ID_MAX)
#define EVENT_VALUE_MAX		(1 + 8 + 8 + 1 + 8 + 2 + SERVICE_NAME_MAX)
#define EVENT_MARK_VALUE_SIZE	(1 + 8)
#define AUDIT_VALUE_MAX		(1 + 8 + 1 + 1 + 8 + 3 * 8 + \
				 2 + SERVICE_NAME_MAX + 2 + EVENT_ID_MAX + \
				 3 * (2 + METADATA_MAX))
/* A report handed to the master: its environment, then it as audited. */
#define FORWARD_VALUE_MAX	(2 + ENVIRONMENT_MAX + AUDIT_VALUE_MAX)
/* A change that removed its service, as a snapshot's merge reads it. */
#define REMOVED_VERSION		UINT64_MAX
#define NEXT_ID_KEY		"next-environment-id"	/* meta.db's one key */
#define DEADLOCK_RETRIES	16	/* attempts after the first */
#define POLL_NS		(2 * 1000 * 1000)	/* between looks at what a site awaits */
#define WALK_BATCH		1024	/* records a walk visits in one transaction */
#define WALK_KEY_MAX		SERVICE_KEY_MAX	/* the longest key of a database walked */
#define WALK_VALUE_MAX		CHANGE_VALUE_MAX	/* the longest value of one */
#define KEYFRAME_INTERVAL	32	/* fewest system versions between keyframes */
#define KEYFRAME_SERVICES_PER_VERSION	4	/* keyframe entries each version pays for, at most */
#define EVENT_RETENTION_MS	(UINT64_C(7) * 86400 * 1000)	/* the default */
#define AUDIT_RETENTION_MS	(UINT64_C(30) * 86400 * 1000)	/* the default */
#define BULK_CHANGE_BYTES	96	/* a changes.db record, roughly, in a bulk buffer */

struct store {
	DB_ENV	*env;
	char	*home;	/* the environment's directory (malloc'd) */
	DB	*meta;
	DB	*environments;
	DB	*current;
	DB	*changes;
	DB	*keyframes;
	DB	*periods;
	DB	*keys;
	DB	*events;
	DB	*audit;
	uint64_t event_retention_ms;	/* an eventId is recognised this long */
	uint64_t audit_retention_ms;	/* an audit entry is kept this long */
	struct keyframe_cache *keyframe_cache;	/* of this process (store_cache.c) */
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
	unsigned	lock_timeout_ms;
	/* replication (store_replication.c); NULL: a store of one site */
	struct replication_options *replication;	/* malloc'd copy */
	bool		listener;	/* this process runs the replication manager */
	atomic_bool	databases_open;	/* of the replication process: it answers the other sites */
	atomic_bool	synced;		/* a replica caught up with its master */
	atomic_bool	handles_dead;	/* an election undid commits: reopen everything */
	uint64_t	awaiting_since_ms;	/* when replication started (monotonic) */
	db_timeout_t	forward_timeout_us;	/* a request to the master waits this long */
	/*
	 * to the master, whichever site it is, opened at the first request
	 * and kept: a new connection costs a handshake, and its first
	 * request a wait for the delayed acknowledgement of it
	 */
	pthread_mutex_t	channel_lock;
	DB_CHANNEL	*master_channel;
	unsigned	channel_users;	/* threads sending on it now */
	bool		channel_broken;	/* closed by its last user, then made again */
	atomic_uint	membership_changes;	/* sites added or removed, as the replication process saw */
	/* replicated: the reports this process records a batch at a time */
	struct batch_queue *batch;
	/* the thread that turns Nagle's algorithm off on repmgr's sockets */
	pthread_t	nodelay_thread;
	bool		nodelay_running;
	pthread_mutex_t	nodelay_lock;
	pthread_cond_t	nodelay_stop;
	bool		nodelay_stopping;
};

/* A database of the store: its file, and where its handle is. */
struct database {
	const char	*file;
	size_t		 handle;	/* of its DB * in struct store */
	uint32_t	 flags;		/* DB->set_flags() before it is opened */
};

#define DATABASE_COUNT	9
/*
 * The databases every store has had, first in the table: the later ones
 * are made, empty or built from these, when a store without them opens.
 */
#define FIRST_DATABASES	5

/* An environments.db record. */
struct environment_record {
	uint32_t	id;
	uint64_t	current;	/* 0 before the first change */
	uint64_t	updated_ms;	/* commit time of the current version */
	uint32_t	services;	/* in current.db */
	uint64_t	keyframe;	/* system version of the last keyframe; 0: none */
	uint64_t	next_audit_id;	/* the id of its next audit entry; from 1 */
	/* the reports answered 200, by outcome, counted in their transactions */
	uint64_t	reports[OUTCOME_COUNT];
};

/* A periods.db value: one change of a service. */
struct period_record {
	uint64_t	system_version;	/* that the change made */
	bool		removed;
	uint64_t	version;	/* that it set; 0 for a removal */
	uint64_t	created_ms;
};

/*
 * The highest keys among a service's reports that were not stale: in its
 * current.db value while it runs, in keys.db otherwise.
 */
struct service_keys {
	bool		has_sequence;
	uint64_t	sequence;
	bool		has_deployed_at;
	uint64_t	deployed_at_ms;
};

/* An events.db value: the first report of an eventId; name points into the value. */
struct event_record {
	uint64_t	 received_ms;
	uint64_t	 system_version;	/* what it was answered */
	bool		 removal;
	uint64_t	 version;
	const char	*name;
	size_t		 name_len;
};

/*
 * A current.db value: a service's version, the system version that set
 * it, and its keys.
 */
struct current_record {
	uint64_t		version;
	uint64_t		since;
	struct service_keys	keys;
};

/* The entries of a keyframe, read in order (record_keyframe_open). */
struct keyframe_reader {
	const unsigned char	*next;
	const unsigned char	*end;
	uint32_t		 left;	/* entries not read yet */
	unsigned char		 format;	/* of the value */
	const char		*last;		/* the last name read */
	size_t			 last_len;
	size_t			 shared;	/* bytes it shares with the name before it */
	char			 name[SERVICE_NAME_MAX];	/* format 2 rebuilds names here */
};

/*
 * A forward scan of a cursor from a key on, with bulk retrieval: each call
 * into Berkeley DB returns as many records as fit in the buffer, so a long
 * scan pays for its locks and page lookups once a buffer, not once a record.
 */
struct range_scan {
	DBC		*cursor;
	unsigned char	 key_buf[SERVICE_KEY_MAX];	/* the longer of the keys */
	DBT		 key;
	DBT		 bulk;		/* the buffer the records come back in */
	void		*next;		/* position in bulk; NULL: fetch more */
	bool		 started;
};

/*
 * The keyframe that serves a version: its version (0: none, the snapshot
 * starts empty), the next keyframe's (0: none known), and a copy of its
 * value (malloc'd, size bytes; whoever found it frees it).
 */
struct keyframe_found {
	uint64_t	 at;
	uint64_t	 next;
	void		*value;
	size_t		 size;
};

/* What a read does inside its transaction. */
typedef enum status read_fn(struct store *, DB_TXN *, void *);

/*
 * What a walk of a database (walk_all()) does with each record (key,
 * value), in the walk's transaction, with its cursor on the record
 * (through which it may delete it); *counted says whether it counts.
 * A failure ends the walk, that batch undone.
 */
typedef enum status visit_fn(struct store *, DB_TXN *, DBC *, const DBT *,
    const DBT *, void *, bool *);

/* store.c */
extern const struct database databases[DATABASE_COUNT];	/* every one, in opening order */
DBT		 dbt(void *, size_t, size_t);
uint64_t	 now_ms(void);
void		 log_db_message(const DB_ENV *, const char *, const char *);
void		 log_db_info(const DB_ENV *, const char *);
enum status	 translate(struct store *, int, const char *);
enum status	 get_value(struct store *, DB *, DB_TXN *, const void *, size_t,
		    void *, size_t, size_t *, u_int32_t);
enum status	 put_value(struct store *, DB *, DB_TXN *, const void *, size_t,
		    const void *, size_t, u_int32_t);
enum status	 del_value(struct store *, DB *, DB_TXN *, const void *,
		    size_t);
enum status	 close_cursor(struct store *, DBC *, enum status);
enum status	 walk_all(struct store *, DB *, u_int32_t, visit_fn *, void *,
		    uint64_t *);
enum status	 malformed(const char *);
enum status	 get_environment(struct store *, DB_TXN *, const char *,
		    u_int32_t, struct environment_record *);
enum status	 run_read(struct store *, read_fn *, void *, const char *);
enum status	 busy_if_deadlock(enum status, const char *);
bool		 store_has_file(const struct store *, const char *);
enum status	 open_databases(struct store *, bool);
void		 close_databases(struct store *);

/* store_deploy.c */
enum status	 deploy_here(struct store *, const struct deploy *,
		    struct deploy_result *);
enum status	 deploy_retrying(struct store *, DB_TXN *, const struct deploy *,
		    const struct change_position *, int, struct deploy_result *);

/* store_batch.c */
struct batch_queue	*batch_queue_new(void);
void		 batch_queue_free(struct batch_queue *);
enum status	 deploy_batched(struct store *, const struct deploy *,
		    struct deploy_result *);

/* store_replication.c */
enum status	 replication_configure(struct store *,
		    const struct replication_options *);
enum status	 replication_start(struct store *, bool);
bool		 replication_is_master(struct store *);
enum status	 replication_progress(struct store *, bool *, uint64_t *);
enum status	 replication_await_quorum(struct store *);
bool		 replication_take_perm_failed(void);
void		 replication_close(struct store *);

/* store_channel.c */
void		 channel_dispatch(DB_ENV *, DB_CHANNEL *, DBT *, u_int32_t,
		    u_int32_t);
enum status	 forward_report(struct store *, const struct deploy *,
		    struct deploy_result *);
void		 channel_close(struct store *);

/* store_records.c */
void		 record_next_id_encode(uint32_t,
		    unsigned char [NEXT_ID_VALUE_SIZE]);
bool		 record_next_id_decode(const void *, size_t, uint32_t *);
void		 record_environment_encode(const struct environment_record *,
		    unsigned char [ENVIRONMENT_VALUE_SIZE]);
bool		 record_environment_decode(const void *, size_t,
		    struct environment_record *);
size_t		 record_service_key(unsigned char [SERVICE_KEY_MAX], uint32_t,
		    const char *, size_t);
bool		 record_service_key_decode(const void *, size_t, uint32_t *,
		    const char **, size_t *);
size_t		 record_current_encode(const struct current_record *,
		    unsigned char [CURRENT_VALUE_MAX]);
bool		 record_current_decode(const void *, size_t,
		    struct current_record *);
void		 record_versioned_key(unsigned char [VERSIONED_KEY_SIZE],
		    uint32_t, uint64_t);
bool		 record_versioned_key_decode(const void *, size_t, uint32_t *,
		    uint64_t *);
size_t		 record_change_encode(const struct deploy *,
		    const struct change_position *,
		    unsigned char [CHANGE_VALUE_MAX]);
bool		 record_change_decode(const void *, size_t, uint64_t,
		    struct change_record *);
bool		 record_change_service(const void *, size_t, const char **,
		    size_t *, uint64_t *);
bool		 record_keyframe_size(const struct service_list *, size_t *);
void		 record_keyframe_encode(const struct service_list *,
		    unsigned char *);
bool		 record_keyframe_open(struct keyframe_reader *, const void *,
		    size_t);
bool		 record_keyframe_next(struct keyframe_reader *, const char **,
		    size_t *, uint64_t *);

/* store_report_records.c */
void		 record_period_encode(const struct period_record *,
		    unsigned char [PERIOD_VALUE_SIZE]);
bool		 record_period_decode(const void *, size_t,
		    struct period_record *);
void		 record_keys_encode(const struct service_keys *,
		    unsigned char [KEYS_VALUE_SIZE]);
bool		 record_keys_decode(const void *, size_t, struct service_keys *);
void		 record_keys_put(unsigned char [KEYS_SIZE],
		    const struct service_keys *);
bool		 record_keys_get(const unsigned char [KEYS_SIZE],
		    struct service_keys *);
bool		 service_keys_any(const struct service_keys *);
size_t		 record_event_key(unsigned char [EVENT_KEY_MAX], uint32_t,
		    const char *, size_t);
size_t		 record_event_encode(const struct event_record *,
		    unsigned char [EVENT_VALUE_MAX]);
bool		 record_event_decode(const void *, size_t, struct event_record *);
void		 record_event_mark_encode(uint64_t,
		    unsigned char [EVENT_MARK_VALUE_SIZE]);
bool		 record_event_mark_decode(const void *, size_t, uint64_t *);
size_t		 record_audit_encode(const struct audit_entry *,
		    unsigned char [AUDIT_VALUE_MAX]);
bool		 record_audit_decode(const void *, size_t, uint64_t,
		    struct audit_entry *);
void		 audit_entry_of(struct audit_entry *, const struct deploy *);
size_t		 record_forward_encode(const struct deploy *,
		    unsigned char [FORWARD_VALUE_MAX]);
bool		 record_forward_decode(const void *, size_t, struct deploy *);

/* store_reports.c */
enum status	 find_event(struct store *, DB_TXN *, uint32_t,
		    const struct deploy *, uint64_t, bool *, uint64_t *);
bool		 judge_keys(struct service_keys *, const struct deploy *,
		    bool, uint64_t, bool *);
enum status	 get_idle_keys(struct store *, DB_TXN *, const unsigned char *,
		    size_t, struct service_keys *, bool *);
enum status	 put_idle_keys(struct store *, DB_TXN *, const unsigned char *,
		    size_t, const struct service_keys *);
enum status	 fold_running_keys(struct store *);
enum status	 record_report(struct store *, DB_TXN *,
		    struct environment_record *, const struct deploy *,
		    enum deploy_outcome, uint64_t, bool, uint64_t);

/* store_periods.c */
enum status	 put_period(struct store *, DB_TXN *, uint32_t,
		    const struct deploy *, uint64_t, uint64_t);
enum status	 build_periods(struct store *);

/* store_snapshot.c */
bool		 range_open(struct range_scan *, DBC *, const void *, size_t,
		    size_t);
enum status	 range_next(struct store *, struct range_scan *,
		    const unsigned char **, size_t *, const unsigned char **,
		    size_t *);
void		 range_close(struct range_scan *);
enum status	 cursor_before(struct store *, DBC *, DBT *, DBT *,
		    const char *);
enum status	 scan_current(struct store *, DBC *, uint32_t, uint32_t,
		    uint64_t, struct service_list *, bool *);
uint64_t	 keyframe_interval(const struct store *,
		    const struct environment_record *);
enum status	 put_keyframe(struct store *, DB_TXN *, uint32_t, uint32_t,
		    uint64_t);
enum status	 scan_keyframe(struct store *, DB_TXN *,
		    const struct environment_record *, uint64_t,
		    struct service_list *);

/* store_cache.c */
struct keyframe_cache	*keyframe_cache_new(void);
void		 keyframe_cache_free(struct keyframe_cache *);
/*
 * Copies into *found the cached keyframe that serves a system version of
 * environment env_id (last: the environment's last keyframe); when the
 * changes after it are cached too, sets *with_changes and puts those up
 * to that version in changes (emptied first). False when none is cached.
 */
bool		 keyframe_cache_get(struct keyframe_cache *, uint32_t, uint64_t,
		    uint64_t, struct keyframe_found *, struct service_list *,
		    bool *);
/* Keeps a copy of environment env_id's keyframe as found. */
void		 keyframe_cache_put(struct keyframe_cache *, uint32_t,
		    const struct keyframe_found *);
/*
 * Keeps, beside environment env_id's cached keyframe at version at, the
 * changes of every version after it up to the next keyframe's (next),
 * in version order: all of them, or nothing is kept.
 */
void		 keyframe_cache_put_changes(struct keyframe_cache *, uint32_t,
		    uint64_t, uint64_t, const struct service_list *);

/* store_durability.c */
uint64_t	 monotonic_ms(void);
bool		 free_disk_bytes(struct store *, uint64_t *);
void		 reserve_regions(const char *);
enum status	 commit_early(struct store *, DB_TXN *);
enum status	 flush_committed(struct store *);
enum status	 wait_durable(struct store *);

#endif
