/*
 * The store: every system version of every environment, in a transactional
 * Berkeley DB environment. The only module that includes db.h; its callers
 * see enum status and the domain types of model.h, never a DB_* value.
 */
#ifndef RELEASEMGR_STORE_H
#define RELEASEMGR_STORE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "model.h"
#include "site.h"
#include "status.h"

struct store;

/* How a process joins the store. */
enum store_role {
	STORE_RECOVER,	/* alone, before any worker: create if needed and run recovery */
	STORE_JOIN,	/* a worker, after the fork: join the recovered environment */
	STORE_RECOVER_FATAL,	/* alone, on restored files: replay every log file */
	/*
	 * of a replicated store, the first to join after recovery: it runs
	 * the replication manager (listens, elects, answers the other
	 * sites) and must never fork; its databases open later, by
	 * store_await_databases()
	 */
	STORE_REPLICATION
};

/*
 * A store that is a site of a replication group (Berkeley DB's
 * replication manager): one master takes the writes, every site reads
 * its own copy.
 */
struct replication_options {
	struct site_address	site;	/* where this site listens */
	struct site_address	peers[SITE_PEERS_MAX];	/* sites to join through */
	size_t			peer_count;
	unsigned		priority;	/* in elections; 0: never the master */
	unsigned		ack_timeout_ms;	/* a commit's wait for a quorum */
	unsigned		heartbeat_ms;	/* the master's; 4 missed start an election */
	unsigned		message_threads;	/* the replication process's */
	/*
	 * a store that is in no group yet starts one, alone, as its master
	 * (DB_GROUP_CREATOR); otherwise it joins the group of a peer
	 */
	bool			create_group;
};

struct store_options {
	const char	*home;		/* the environment directory; must exist */
	enum store_role	 role;
	unsigned	 cache_mb;	/* shared buffer pool, in MiB */
	unsigned	 lock_timeout_ms;	/* a lock wait longer than this fails busy */
	bool		 durable;	/* flush the log at commit (false only in benchmarks) */
	unsigned	 keyframe_interval;	/* 0: the default; tests use small ones */
	unsigned	 commit_delay_us;	/* at most 999999; 0: flush at once */
	uint64_t	 reserve_bytes;	/* a change needs this much free disk; 0: no check */
	uint64_t	 event_retention_ms;	/* an eventId is recognised this long; 0: the default */
	uint64_t	 audit_retention_ms;	/* an audit entry is kept this long; 0: the default */
	/* NULL: a store of one site; otherwise copied by store_open() */
	const struct replication_options *replication;
};

/*
 * Opens the store. On success *out is a handle the caller releases with
 * store_close(); on failure *out is NULL and the reason is logged. The
 * recovering opener also reserves the disk blocks of the shared regions
 * (the files Berkeley DB maps and grows as its cache fills), so that a
 * full disk later fails a write with an error instead of a SIGBUS.
 */
enum status	store_open(const struct store_options *options,
		    struct store **out);
/* Closes the handle; NULL is accepted. */
void		store_close(struct store *store);

/*
 * Records one report (a deploy, or with deploy->removal a removal) in one
 * transaction, by the rules of README's "Deploy reports": an eventId
 * seen within the event retention answers what its first report
 * answered (OUTCOME_DUPLICATE); a report older by its key than what its
 * service recorded changes nothing (OUTCOME_STALE); otherwise a new or
 * changed version, or a removal, makes the environment's next system
 * version (OUTCOME_APPLIED, OUTCOME_REMOVED), and the same version
 * changes nothing (OUTCOME_UNCHANGED). Every report so answered is an
 * entry of the audit log. On STATUS_OK, result holds the system version
 * answered and the outcome; it is on disk when the store is durable.
 * STATUS_CONFLICT, nothing written, when the eventId was seen with
 * another name, version or removal. STATUS_NOT_FOUND for the removal of
 * a service the environment does not run: only its key is recorded (so
 * that older reports of the service are stale), and no audit entry.
 * STATUS_NO_SPACE when a write finds less than reserve_bytes free on the
 * store's filesystem (nothing is written), or the disk filled while it
 * was written (it may then be recorded, but was not answered).
 */
enum status	store_deploy(struct store *store, const struct deploy *deploy,
		    struct deploy_result *result);

/*
 * The current system version of an environment and its commit time:
 * STATUS_NOT_FOUND when it has never seen a deploy.
 */
enum status	store_current(struct store *store, const char *environment,
		    struct environment_state *state);

/*
 * Fills list (emptied first) with the services of system_version of
 * environment, sorted by name. STATUS_NOT_FOUND when the environment is
 * unknown or the version is above its current one.
 */
enum status	store_services(struct store *store, const char *environment,
		    uint64_t system_version, struct service_list *list);

/*
 * The changes of environment, newest first: at most limit of them, all
 * below system version before (0: from the newest). out has room for
 * limit records; *count says how many were filled, *more whether older
 * ones remain. STATUS_NOT_FOUND when the environment is unknown.
 */
enum status	store_history(struct store *store, const char *environment,
		    uint64_t before, size_t limit, struct change_record *out,
		    size_t *count, bool *more);

/*
 * The change that made system_version of environment: STATUS_NOT_FOUND
 * when either does not exist.
 */
enum status	store_change(struct store *store, const char *environment,
		    uint64_t system_version, struct change_record *out);

/*
 * The changes of environment in ascending order, a batch at a time: those
 * of system versions after + 1 to after + limit, never past the current
 * one, read in one pass in one transaction, so that a long walk through
 * the history holds no lock between batches. out has room for limit
 * records; *count says how many were filled (fewer than limit only when
 * the current version was reached; 0 when after is at or past it).
 * STATUS_NOT_FOUND when the environment is unknown; STATUS_SYSTEM, logged,
 * when the store is broken: a version at or below the current one is
 * missing (a gap), or, once a batch reaches the current version, a
 * change is stored beyond it.
 */
enum status	store_changes(struct store *store, const char *environment,
		    uint64_t after, size_t limit, struct change_record *out,
		    size_t *count);

/* What store_walk_changes() calls with each change. */
typedef enum status change_fn(const struct change_record *change, void *arg);

/*
 * Calls fn with each change of environment from system version 1 through
 * through (or the current version, when lower), in ascending order, read
 * with store_changes() a batch at a time, each batch in a transaction of
 * its own: fn runs outside any. Stops at the first status other than
 * STATUS_OK, from the store or from fn, and answers it.
 */
enum status	store_walk_changes(struct store *store,
		    const char *environment, uint64_t through, change_fn *fn,
		    void *arg);

/*
 * The audit log of environment, newest first: at most limit entries, all
 * with an id below before (0: from the newest). out has room for limit
 * entries; *count says how many were filled, *more whether older ones
 * remain. STATUS_NOT_FOUND when the environment is unknown.
 */
enum status	store_events(struct store *store, const char *environment,
		    uint64_t before, size_t limit, struct audit_entry *out,
		    size_t *count, bool *more);

/*
 * Every period during which the service called name ran in environment,
 * newest first: *out (malloc'd, the caller frees it) gets *count of
 * them. Reads only that service's changes. STATUS_NOT_FOUND when the
 * environment is unknown or the service was never deployed in it.
 */
enum status	store_service_history(struct store *store,
		    const char *environment, const char *name, size_t name_len,
		    struct service_period **out, size_t *count);

/*
 * Removes the eventIds older than the event retention and the audit
 * entries older than the audit retention, walking each environment's
 * audit log in short transactions of a bounded number of entries each,
 * so that deploys are never held up long: the eventIds' walk goes on
 * from where the last one stopped, and no audit entry it has not read
 * yet is removed. *removed (may be NULL) counts the records removed.
 */
enum status	store_expire(struct store *store, uint64_t *removed);

/*
 * The system versions of environment's keyframes, in ascending order: *out
 * (malloc'd, the caller frees it; NULL when there are none) gets *count
 * of them. STATUS_NOT_FOUND when the environment is unknown.
 */
enum status	store_keyframe_versions(struct store *store,
		    const char *environment, uint64_t **out, size_t *count);

/*
 * The system version of environment in force at at_ms: the last one
 * created at or before it. *found is false before the first one.
 * STATUS_NOT_FOUND when the environment is unknown.
 */
enum status	store_version_at(struct store *store, const char *environment,
		    uint64_t at_ms, struct change_record *out, bool *found);

/*
 * Every environment in name order: *out (malloc'd, the caller frees it)
 * gets *count summaries.
 */
enum status	store_environments(struct store *store,
		    struct environment_summary **out, size_t *count);

/*
 * Maintenance. store_checkpoint() writes a checkpoint and removes the log
 * files no longer needed; store_expire_locks() fails the lock waits that
 * outlived their timeout.
 */
enum status	store_checkpoint(struct store *store);
enum status	store_expire_locks(struct store *store);

/*
 * Records a deploy read back from an export, at its position: it must make
 * exactly the environment's next system version, from the version the
 * service has now, at a time no earlier than the current one.
 * STATUS_INVALID, with nothing written, when it does not follow.
 */
enum status	store_import(struct store *store, const struct deploy *deploy,
		    const struct change_position *position);

/*
 * Berkeley DB's own verification of every database file (structure,
 * order): STATUS_INVALID when one fails it, with the reason logged. Run
 * with no other process in the environment.
 */
enum status	store_verify_files(struct store *store);

/*
 * A hot backup of the open store into the directory target (created if
 * missing): its database files and the log files that make them
 * consistent. Deploys may go on meanwhile.
 */
enum status	store_backup(struct store *store, const char *target);

/*
 * Sets *exists when home holds any file of a store (databases, logs,
 * regions); a missing home holds none.
 */
enum status	store_find(const char *home, bool *exists);

/*
 * Restores the backup in directory source into options->home, which must
 * hold no store (STATUS_INVALID otherwise, or when source is not a
 * backup), then runs catastrophic recovery on it. Nothing may use home
 * meanwhile.
 */
enum status	store_restore(const struct store_options *options,
		    const char *source);

/*
 * True while the store's filesystem has at least reserve_bytes free
 * (always when there is no reserve), as seen at most max_age_ms ago by
 * this process (0: now). Logs when that changes.
 */
bool		store_has_room(struct store *store, unsigned max_age_ms);

/*
 * Of the replication process (STORE_REPLICATION): opens the databases
 * once this site can: as the master (making those that are missing), or
 * as a replica that has caught up with its master, or that has its
 * copies and found no master to catch up with for a few seconds.
 * STATUS_BUSY while it cannot yet; call again.
 */
enum status	store_await_databases(struct store *store);

/*
 * How many times the replication process saw a site join or leave the
 * group: the pool starts its workers again when it changes, since a
 * process that started replication keeps the connections it made then.
 */
unsigned	store_membership_changes(struct store *store);

/*
 * Fills view with the replication group as this site sees it now; a
 * store of one site is a master with no peers.
 */
enum status	store_cluster(struct store *store, struct cluster_view *view);

/*
 * Removes the site at address from the replication group (the master
 * records it, whichever site asks). STATUS_NOT_FOUND when the group has
 * no such site, or the store is of one site; STATUS_INVALID when it is
 * this site, or the master (stop it first: another is elected);
 * STATUS_NO_MASTER or STATUS_NOT_REPLICATED when the master could not
 * record it with a quorum's acknowledgement.
 */
enum status	store_remove_site(struct store *store,
		    const struct site_address *address);

/*
 * For a read that found no system_version of environment (0: no
 * environment) on this site: STATUS_OK once this replica holds it, after
 * waiting at most the acknowledgement timeout for it to arrive;
 * STATUS_NOT_FOUND when the master does not have it either (or this site
 * is the master, or the only one); STATUS_NOT_REPLICATED when it did not
 * arrive in time; STATUS_NO_MASTER when no master answered.
 */
enum status	store_catch_up(struct store *store, const char *environment,
		    uint64_t system_version);

/*
 * Berkeley DB's own counters of the environment (all its processes, since
 * the environment was last recovered: a restart of the pool may start
 * them again from zero), and what this site knows of its disk and of
 * replication.
 */
struct store_statistics {
	uint64_t	commits;	/* transactions committed (children too) */
	uint64_t	aborts;		/* transactions aborted */
	uint64_t	deadlocks;
	uint64_t	lock_waits;	/* lock requests that had to wait */
	uint64_t	log_bytes;	/* written to the log */
	uint64_t	log_flushes;	/* of the log to disk */
	uint64_t	cache_hits;	/* pages found in the buffer pool */
	uint64_t	cache_misses;	/* pages read from disk */
	int64_t		checkpoint_time;	/* of the last checkpoint (s); 0: none */
	bool		has_free_bytes;	/* false when the filesystem did not say */
	uint64_t	free_bytes;	/* available on the store's filesystem */
	bool		replicated;	/* a site of a group; then: */
	bool		master;		/* this site is the master */
	/*
	 * of a replica: the log it knows it lacks, from its next record to
	 * the first it holds waiting behind a gap; 0 when it lacks none it
	 * knows of, and on the master
	 */
	uint64_t	behind_bytes;
};

/* Fills stats with what store_statistics promises. */
enum status	store_statistics(struct store *store,
		    struct store_statistics *stats);

/* True once the environment has panicked: this process must close it and exit. */
bool		store_needs_recovery(const struct store *store);

#endif
