/*
 * Who the pool runs as and who may reach its socket: the accounts of the
 * configured user and socket group, the socket made for nginx alone, and
 * the step from root to the user for good.
 */
#ifndef RELEASEMGR_ACCOUNTS_H
#define RELEASEMGR_ACCOUNTS_H

#include <stdbool.h>
#include <sys/types.h>

#include "config.h"
#include "status.h"

/*
 * Who the pool's files belong to: when started as root with a user
 * configured, that user's; the socket's group is socket_group's when
 * started as root, or as a member of that group (a systemd service's
 * SupplementaryGroups=). (uid_t)-1 and (gid_t)-1 leave a file's owner as
 * the process that creates it.
 */
struct accounts {
	bool	 switch_user;	/* the pool becomes uid and gid */
	uid_t	 uid;
	gid_t	 gid;
	gid_t	 socket_gid;
};

/*
 * Looks up the configured user and socket group; as root, fails when one
 * is missing.
 */
enum status	find_accounts(const struct config *config,
		    struct accounts *accounts);

/*
 * Creates the unix socket at path, replacing a stale one, readable and
 * writable by its owner and group only (the pool's user and nginx's
 * group): bound, not yet listening, so that nginx is refused until the
 * pool serves. Returns it, or -1.
 */
int		bind_unix(const char *path, const struct accounts *accounts);

/*
 * When started as root with a user configured, becomes that user for
 * good, before the store is opened: no process of the pool runs as root.
 * The deploy token was read before, as root, and the store handed over.
 */
enum status	become_user(const struct config *config,
		    const struct accounts *accounts);

#endif
