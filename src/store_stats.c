/*
 * The store's statistics for GET /metrics: Berkeley DB's own counters of
 * transactions, locks, the log and the buffer pool, the disk's free
 * space, and this site's place in a replication group.
 */
#include <stdlib.h>
#include <string.h>

#include "store.h"
#include "store_private.h"

/* Copies what the transaction, lock, log and buffer pool regions count. */
static enum status
read_regions(struct store *store, struct store_statistics *stats)
{
	DB_ENV *env = store->env;
	DB_TXN_STAT *txn = NULL;
	DB_LOCK_STAT *lock = NULL;
	DB_LOG_STAT *log = NULL;
	DB_MPOOL_STAT *pool = NULL;
	enum status status;

	if ((status = translate(store, env->txn_stat(env, &txn, 0),
	    "read the transaction statistics")) != STATUS_OK ||
	    (status = translate(store, env->lock_stat(env, &lock, 0),
	    "read the lock statistics")) != STATUS_OK ||
	    (status = translate(store, env->log_stat(env, &log, 0),
	    "read the log statistics")) != STATUS_OK ||
	    (status = translate(store, env->memp_stat(env, &pool, NULL, 0),
	    "read the buffer pool statistics")) != STATUS_OK)
		goto done;
	stats->commits = txn->st_ncommits;
	stats->aborts = txn->st_naborts;
	stats->checkpoint_time = (int64_t)txn->st_time_ckp;
	stats->deadlocks = lock->st_ndeadlocks;
	stats->lock_waits = lock->st_lock_wait;
	stats->log_bytes = (uint64_t)log->st_w_mbytes * 1024 * 1024 +
	    log->st_w_bytes;
	stats->log_flushes = log->st_scount;
	stats->cache_hits = pool->st_cache_hit;
	stats->cache_misses = pool->st_cache_miss;
done:
	free(txn);
	free(lock);
	free(log);
	free(pool);
	return status;
}

enum status
store_statistics(struct store *store, struct store_statistics *stats)
{
	enum status status;

	memset(stats, 0, sizeof(*stats));
	if ((status = read_regions(store, stats)) != STATUS_OK)
		return status;
	stats->has_free_bytes = free_disk_bytes(store, &stats->free_bytes);
	stats->replicated = store->replication != NULL;
	if (!stats->replicated)
		return STATUS_OK;
	return replication_progress(store, &stats->master,
	    &stats->behind_bytes);
}
