/*
 * The store's files: hot backup and restore, finding a store in a
 * directory, Berkeley DB's verification of the database files. Only
 * releasemgr-admin links this file; the pool never calls it.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "store.h"
#include "store_private.h"

/*
 * The cache of the environment each file is verified in: Berkeley DB
 * keeps its notes on the file's pages in temporary databases there, and
 * writes them out when it is full.
 */
#define VERIFY_CACHE_BYTES	(4 * 1024 * 1024)

/*
 * Berkeley DB's verification of the database file of home, in a private
 * environment of its own: its cache holds only what the verification
 * reads and keeps, and, used by this thread alone, it takes no mutexes.
 * Answers Berkeley DB's code.
 */
static int
verify_file(const char *home, const char *file)
{
	DB_ENV *env = NULL;
	DB *db = NULL;
	int rc;

	if ((rc = db_env_create(&env, 0)) != 0)
		return rc;
	env->set_errcall(env, log_db_message);
	env->set_msgcall(env, log_db_info);
	if ((rc = env->set_cachesize(env, 0, VERIFY_CACHE_BYTES, 1)) == 0 &&
	    (rc = env->open(env, home, DB_CREATE | DB_INIT_MPOOL | DB_PRIVATE,
	    0600)) == 0 && (rc = db_create(&db, env, 0)) == 0)
		rc = db->verify(db, file, NULL, NULL, 0);
	/* the DB handle is gone after verify, whatever it said */
	env->close(env, 0);
	return rc;
}

enum status
store_verify_files(struct store *store)
{
	const char *home = NULL;
	enum status status = STATUS_OK;
	int rc;

	/* verification reads the files, so every page must be in them */
	if ((rc = store->env->txn_checkpoint(store->env, 0, 0, DB_FORCE)) != 0)
		return busy_if_deadlock(translate(store, rc, "checkpoint"),
		    "checkpoint");
	if ((rc = store->env->get_home(store->env, &home)) != 0)
		return translate(store, rc, "verify");
	for (size_t i = 0; i < DATABASE_COUNT; i++) {
		if ((rc = verify_file(home, databases[i].file)) != 0) {
			log_error("store: %s fails verification: %s",
			    databases[i].file, db_strerror(rc));
			if (status == STATUS_OK)
				status = translate(store, rc, "verify");
		}
	}
	return busy_if_deadlock(status, "verify");
}

enum status
store_backup(struct store *store, const char *target)
{
	int rc;

	/* a fresh checkpoint keeps the logs the backup must carry short */
	if ((rc = store->env->txn_checkpoint(store->env, 0, 0, 0)) == 0)
		rc = store->env->backup(store->env, target, DB_CREATE);
	return busy_if_deadlock(translate(store, rc, "backup"), "backup");
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
	/* a backup made before the later databases is a store's backup too */
	for (size_t i = 0; i < FIRST_DATABASES; i++) {
		snprintf(from, sizeof(from), "%s/%s", source, databases[i].file);
		if (stat(from, &st) == -1 || !S_ISREG(st.st_mode)) {
			log_error("store: %s is not a backup of a store: it has "
			    "no %s", source, databases[i].file);
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
