/*
 * The data directory's layout and its lock.
 */
#include <dirent.h>
#include <stdbool.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "datadir.h"
#include "log.h"

#define PATH_SIZE	4096

/* Creates dir with mode unless it exists; false (logged) on failure. */
static bool
make_dir(const char *dir, mode_t mode)
{
	if (mkdir(dir, mode) == 0 || errno == EEXIST)
		return true;
	log_error("cannot create %s: %s", dir, strerror(errno));
	return false;
}

void
datadir_home(const struct config *config, char home[DATADIR_HOME_SIZE])
{
	/* data_dir is at most CONFIG_PATH_MAX - 1 bytes: DIR/db fits */
	snprintf(home, DATADIR_HOME_SIZE, "%s/db", config->data_dir);
}

void
datadir_store_options(const struct config *config, enum store_role role,
    char home[DATADIR_HOME_SIZE], struct store_options *options)
{
	datadir_home(config, home);
	memset(options, 0, sizeof(*options));
	options->home = home;
	options->role = role;
	options->cache_mb = config->cache_mb;
	options->lock_timeout_ms = config->lock_timeout_ms;
	options->durable = config->durable_commits;
	options->commit_delay_us = config->commit_delay_us;
	options->reserve_bytes = (uint64_t)config->reserve_mb * 1024 * 1024;
	options->event_retention_ms = config->event_retention_ms;
	options->audit_retention_ms = config->audit_retention_ms;
}

enum status
datadir_lock(const char *dir, unsigned wait_seconds, int *lock_fd)
{
	char path[PATH_SIZE];
	unsigned waited;
	int fd;

	*lock_fd = -1;
	if (snprintf(path, sizeof(path), "%s/releasemgr.lock", dir) >=
	    (int)sizeof(path)) {
		log_error("the data directory's path is too long: %s", dir);
		return STATUS_INVALID;
	}
	/* run/ is entered by nginx's workers to reach the socket */
	if (!make_dir(dir, 0711))
		return STATUS_SYSTEM;
	snprintf(path, sizeof(path), "%s/db", dir);
	if (!make_dir(path, 0700))
		return STATUS_SYSTEM;
	snprintf(path, sizeof(path), "%s/run", dir);
	if (!make_dir(path, 0711))
		return STATUS_SYSTEM;
	snprintf(path, sizeof(path), "%s/releasemgr.lock", dir);
	if ((fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) == -1) {
		log_error("cannot open %s: %s", path, strerror(errno));
		return STATUS_SYSTEM;
	}
	for (waited = 0; flock(fd, LOCK_EX | LOCK_NB) == -1; waited++) {
		if (errno != EWOULDBLOCK) {
			log_error("cannot lock %s: %s", path, strerror(errno));
			close(fd);
			return STATUS_SYSTEM;
		}
		if (waited >= wait_seconds * 10) {
			close(fd);
			return STATUS_BUSY;
		}
		usleep(100 * 1000);
	}
	*lock_fd = fd;
	return STATUS_OK;
}

/* Gives path to uid:gid unless it is missing; false (logged) on failure. */
static bool
hand_over(const char *path, uid_t uid, gid_t gid)
{
	if (fchownat(AT_FDCWD, path, uid, gid, AT_SYMLINK_NOFOLLOW) == 0 ||
	    errno == ENOENT)
		return true;
	log_error("cannot give %s to uid %ld: %s", path, (long)uid,
	    strerror(errno));
	return false;
}

enum status
datadir_hand_over(const char *dir, uid_t uid, gid_t gid)
{
	static const char *const own[] = {
		"db", "run", "run/releasemgr.sock", "run/releasemgr.pid",
		"releasemgr.lock"
	};
	char path[PATH_SIZE];
	struct dirent *entry;
	DIR *db;
	bool ok = true;

	for (size_t i = 0; ok && i < sizeof(own) / sizeof(*own); i++) {
		if (snprintf(path, sizeof(path), "%s/%s", dir, own[i]) >=
		    (int)sizeof(path))
			return STATUS_INVALID;
		ok = hand_over(path, uid, gid);
	}
	snprintf(path, sizeof(path), "%s/db", dir);
	if (!ok || (db = opendir(path)) == NULL) {
		if (ok)
			log_error("cannot read %s: %s", path, strerror(errno));
		return STATUS_SYSTEM;
	}
	while (ok && (entry = readdir(db)) != NULL) {
		if (strcmp(entry->d_name, ".") == 0 ||
		    strcmp(entry->d_name, "..") == 0)
			continue;
		if (snprintf(path, sizeof(path), "%s/db/%s", dir,
		    entry->d_name) >= (int)sizeof(path))
			ok = false;
		else
			ok = hand_over(path, uid, gid);
	}
	closedir(db);
	return ok ? STATUS_OK : STATUS_SYSTEM;
}
