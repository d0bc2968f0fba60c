/*
 * Durability: group commit (a commit's locks released at once, its flush
 * shared with the commits around it), the disk reserve a change needs,
 * and the disk blocks reserved for the shared regions.
 */
#define _GNU_SOURCE		/* fallocate() */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "store.h"
#include "store_private.h"

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
void
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

/*
 * Commits txn without waiting for the disk: its locks are released at once,
 * so the next deploy of the environment need not wait for this one's flush.
 * Nothing it wrote may be answered before flush_committed() returns.
 * Replicated, STATUS_NOT_REPLICATED when it is committed here but a
 * quorum of the group did not acknowledge it in time.
 */
enum status
commit_early(struct store *store, DB_TXN *txn)
{
	enum status status;

	if (store->replication != NULL)
		replication_take_perm_failed();	/* an earlier commit's */
	status = translate(store, txn->commit(txn, store->durable ?
	    DB_TXN_NOSYNC : 0), "commit");
	/* the master's commit waits for a quorum of the group, or fails it */
	if (status == STATUS_OK && store->replication != NULL &&
	    replication_take_perm_failed())
		status = STATUS_NOT_REPLICATED;
	return status;
}

/*
 * Puts every commit made so far, by any process, on disk (when the store
 * is durable). One flush serves all the commits waiting for it, so
 * concurrent deploys share their fsyncs (group commit). Called before any
 * answer that reveals committed data: a deploy's number, or a read, which
 * may see a commit that another request has not flushed yet.
 */
enum status
flush_committed(struct store *store)
{
	if (!store->durable)
		return STATUS_OK;
	return translate(store, store->env->log_flush(store->env, NULL),
	    "flush the log");
}

/* Milliseconds on the monotonic clock, never 0. */
uint64_t
monotonic_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000 + 1;
}

/*
 * Sets *free_bytes to what an unprivileged writer may still use on the
 * store's filesystem; false when fstatvfs() failed.
 */
bool
free_disk_bytes(struct store *store, uint64_t *free_bytes)
{
	struct statvfs fs;

	if (fstatvfs(store->home_fd, &fs) == -1)
		return false;
	*free_bytes = (uint64_t)fs.f_bavail * fs.f_frsize;
	return true;
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
	uint64_t free_bytes, now;
	bool below;

	if (store->reserve_bytes == 0)
		return true;
	now = monotonic_ms();
	if (max_age_ms > 0 && now - store->room_checked_ms < max_age_ms)
		return !store->below_reserve;
	if (!free_disk_bytes(store, &free_bytes))
		return true;
	store->room_checked_ms = now;
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
 * Returns once the commit this thread just made is on disk. The threads of
 * a process take turns: one (the leader) flushes the log for all the
 * commits made so far, and the others wait for it rather than flush again
 * for commits that others keep adding to the log. When others wait too,
 * the leader first waits commit_delay_us for more commits to join the same
 * flush: fewer, larger flushes under load, for that much more latency;
 * a deploy alone never waits.
 */
enum status
wait_durable(struct store *store)
{
	struct timespec delay = { 0, (long)store->commit_delay_us * 1000 };
	uint64_t mine, target;
	enum status status = STATUS_OK;

	if (!store->durable)
		return STATUS_OK;
	pthread_mutex_lock(&store->flush_lock);
	mine = ++store->commits;
	store->waiting++;
	while (status == STATUS_OK && store->commits_flushed < mine) {
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
		status = translate(store, store->env->log_flush(store->env,
		    NULL), "flush the log");
		pthread_mutex_lock(&store->flush_lock);
		if (status == STATUS_OK && target > store->commits_flushed)
			store->commits_flushed = target;
		store->flushing = false;
		pthread_cond_broadcast(&store->flushed);
	}
	store->waiting--;
	pthread_mutex_unlock(&store->flush_lock);
	return status;
}
