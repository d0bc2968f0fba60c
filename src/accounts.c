/*
 * Who the pool runs as and who may reach its socket (accounts.h).
 */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "accounts.h"
#include "log.h"


/* True when this process is in group gid, as its own or a supplementary one. */
static bool
in_group(gid_t gid)
{
	gid_t *groups = NULL;
	int count;
	bool found = getegid() == gid;

	if (!found && (count = getgroups(0, NULL)) > 0 &&
	    (groups = calloc((size_t)count, sizeof(*groups))) != NULL &&
	    (count = getgroups(count, groups)) != -1)
		for (int i = 0; i < count && !found; i++)
			found = groups[i] == gid;
	free(groups);
	return found;
}

/*
 * Looks up the configured user and socket group; as root, fails when one
 * is missing.
 */
enum status
find_accounts(const struct config *config, struct accounts *accounts)
{
	struct passwd *account;
	struct group *group;

	accounts->switch_user = false;
	accounts->uid = (uid_t)-1;
	accounts->gid = (gid_t)-1;
	accounts->socket_gid = (gid_t)-1;
	if (geteuid() != 0) {
		if (config->socket_group[0] != '\0' &&
		    (group = getgrnam(config->socket_group)) != NULL &&
		    in_group(group->gr_gid))
			accounts->socket_gid = group->gr_gid;
		return STATUS_OK;
	}
	if (config->user[0] != '\0') {
		if ((account = getpwnam(config->user)) == NULL) {
			log_error("pool: the user %s does not exist; create it "
			    "(useradd --system --no-create-home --shell "
			    "/usr/sbin/nologin %s; make run does) or set user in "
			    "the configuration", config->user, config->user);
			return STATUS_INVALID;
		}
		accounts->switch_user = true;
		accounts->uid = account->pw_uid;
		accounts->gid = account->pw_gid;
	}
	if (config->socket_group[0] != '\0') {
		if ((group = getgrnam(config->socket_group)) == NULL) {
			log_error("pool: the group %s does not exist; set "
			    "socket_group to the group of nginx's workers",
			    config->socket_group);
			return STATUS_INVALID;
		}
		accounts->socket_gid = group->gr_gid;
	}
	return STATUS_OK;
}

/*
 * Creates the unix socket at path, replacing a stale one, readable and
 * writable by its owner and group only (the pool's user and nginx's
 * group): bound, not yet listening, so that nginx is refused until the
 * pool serves. Returns it, or -1.
 */
int
bind_unix(const char *path, const struct accounts *accounts)
{
	struct sockaddr_un addr;
	int fd;

	memset(&addr, 0, sizeof(addr));
	addr.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(addr.sun_path)) {
		log_error("pool: socket path too long: %s", path);
		return -1;
	}
	memcpy(addr.sun_path, path, strlen(path) + 1);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		goto fail;
	/* the data directory's lock is ours, so no live instance uses it */
	if (unlink(path) == -1 && errno != ENOENT)
		goto fail;
	if (bind(fd, (struct sockaddr *)&addr, sizeof(addr)) == -1 ||
	    chown(path, accounts->uid, accounts->socket_gid) == -1 ||
	    chmod(path, 0660) == -1)
		goto fail;
	return fd;
fail:
	log_error("pool: cannot create the socket %s: %s", path,
	    strerror(errno));
	if (fd != -1)
		close(fd);
	return -1;
}

/*
 * When started as root with a user configured, becomes that user for
 * good, before the store is opened: no process of the pool runs as root.
 * The deploy token was read before, as root, and the store handed over.
 */
enum status
become_user(const struct config *config, const struct accounts *accounts)
{
	if (!accounts->switch_user)
		return STATUS_OK;
	if (setgroups(0, NULL) == -1 || setgid(accounts->gid) == -1 ||
	    setuid(accounts->uid) == -1) {
		log_error("pool: cannot become %s: %s", config->user,
		    strerror(errno));
		return STATUS_SYSTEM;
	}
	if (setuid(0) != -1) {
		log_error("pool: could become root again after becoming %s",
		    config->user);
		return STATUS_SYSTEM;
	}
	log_info("pool: running as %s (uid %ld)", config->user,
	    (long)accounts->uid);
	return STATUS_OK;
}
