/*
 * The data directory: DIR/db holds the store, DIR/run the socket and pid
 * file, and DIR/releasemgr.lock says which process owns DIR. The pool
 * holds that lock while it runs, and releasemgr-admin while it changes or
 * recovers the store, so neither works on a store the other is changing.
 */
#ifndef RELEASEMGR_DATADIR_H
#define RELEASEMGR_DATADIR_H

#include <sys/types.h>

#include "config.h"
#include "status.h"
#include "store.h"

#define DATADIR_HOME_SIZE	(CONFIG_PATH_MAX + 8)	/* room for DIR/db */

/*
 * Creates DIR, DIR/db and DIR/run where missing and takes DIR's lock,
 * waiting up to wait_seconds for another holder to let go. On STATUS_OK
 * *lock_fd holds the lock until it is closed; STATUS_BUSY when another
 * process keeps it; otherwise the reason is logged.
 */
enum status	datadir_lock(const char *dir, unsigned wait_seconds,
		    int *lock_fd);

/* Writes the store's directory, DIR/db, into home. */
void		datadir_home(const struct config *config,
		    char home[DATADIR_HOME_SIZE]);

/*
 * Fills options to open the store of config's data directory for role,
 * with config's settings; home (DATADIR_HOME_SIZE bytes) gets DIR/db,
 * which options points to.
 */
void		datadir_store_options(const struct config *config,
		    enum store_role role, char home[DATADIR_HOME_SIZE],
		    struct store_options *options);

/*
 * Gives the store's files to uid:gid: DIR/db and everything in it, DIR/run
 * with the pool's socket and pid file, and the lock file, so that a pool
 * running as that user can use them whoever made them (a restore or
 * import run as root, say). Symbolic links are not followed.
 */
enum status	datadir_hand_over(const char *dir, uid_t uid, gid_t gid);

#endif
