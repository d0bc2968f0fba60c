/*
 * Replication: the store's environment as one site of a group run by
 * Berkeley DB's replication manager (repmgr). The master takes every
 * write and commits it once a quorum of the group has it; every site
 * reads its own copy.
 *
 * A site is several processes on one environment. The first to start
 * repmgr after recovery (the pool's maintainer, STORE_REPLICATION) is
 * the replication process: it listens, votes, applies what the master
 * sends and answers the other sites' requests on a message channel.
 * The workers start repmgr after it, as subordinates, which only send
 * the log records of their own commits. Berkeley DB 5.3 has no write
 * forwarding, so a worker of a replica hands a report to the master over
 * a message channel (DB_EID_MASTER, store_channel.c), where the
 * replication process records it.
 */
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "store.h"
#include "store_private.h"

#define MISSED_HEARTBEATS	4	/* a master this long silent is gone */
#define RETRY_MS		1000	/* between connection attempts, and elections */
#define SYNC_WAIT_MS		5000	/* a replica with its files serves without a master after it */
#define NODELAY_MS		250	/* between looks for new sockets */

/*
 * Set by Berkeley DB in the thread whose commit a quorum did not
 * acknowledge (DB_EVENT_REP_PERM_FAILED, the one event every process
 * gets); read and cleared by that thread as its commit returns.
 */
static _Thread_local bool perm_failed;

/* Writes the address of the site eid into text ("" when unknown). */
static void
site_of_eid(struct store *store, int eid, char text[SITE_TEXT_SIZE])
{
	struct site_address address;
	DB_SITE *site = NULL;
	const char *host;
	u_int port;

	text[0] = '\0';
	if (store->env->repmgr_site_by_eid(store->env, eid, &site) != 0)
		return;
	if (site->get_address(site, &host, &port) == 0 &&
	    strlen(host) <= SITE_HOST_MAX) {
		memcpy(address.host, host, strlen(host) + 1);
		address.port = port;
		site_format(&address, text);
	}
	site->close(site);
}

/* The events that only say something of the group, and what they say. */
static const struct {
	u_int32_t	 event;
	void		(*log)(const char *, ...);
	const char	*message;
} told[] = {
	{ DB_EVENT_REP_MASTER, log_info, "this site is the master" },
	{ DB_EVENT_REP_CLIENT, log_info, "this site is a replica" },
	{ DB_EVENT_REP_DUPMASTER, log_warn,
	    "another site is the master too; this one steps down for an "
	    "election" },
	{ DB_EVENT_REP_ELECTION_FAILED, log_warn,
	    "an election found no master; trying again" },
	{ DB_EVENT_REP_MASTER_FAILURE, log_warn,
	    "the master is gone; electing another" },
	{ DB_EVENT_REP_JOIN_FAILURE, log_error,
	    "this site could not join the group" },
	{ DB_EVENT_REP_LOCAL_SITE_REMOVED, log_warn,
	    "this site was removed from the group" },
};

/*
 * What repmgr tells this process. Most events reach only the replication
 * process, and are logged; a failed acknowledgement reaches the
 * committing thread of any process.
 */
static void
on_event(DB_ENV *env, u_int32_t event, void *info)
{
	struct store *store = env->app_private;
	char site[SITE_TEXT_SIZE];

	switch (event) {
	case DB_EVENT_REP_PERM_FAILED:
		perm_failed = true;
		return;
	case DB_EVENT_REP_NEWMASTER:
		site_of_eid(store, *(int *)info, site);
		log_info("replication: the master is %s",
		    site[0] != '\0' ? site : "this site");
		return;
	case DB_EVENT_REP_STARTUPDONE:
		store->synced = true;
		log_info("replication: this replica has caught up with the "
		    "master");
		return;
	case DB_EVENT_REP_SITE_ADDED:
	case DB_EVENT_REP_SITE_REMOVED:
		site_of_eid(store, *(int *)info, site);
		log_info("replication: %s %s the group", site,
		    event == DB_EVENT_REP_SITE_ADDED ? "joined" : "left");
		store->membership_changes++;
		return;
	case DB_EVENT_PANIC:
		log_error("replication: Berkeley DB panicked");
		store->panicked = true;
		return;
	default:
		break;
	}
	for (size_t i = 0; i < sizeof(told) / sizeof(told[0]); i++)
		if (told[i].event == event)
			told[i].log("replication: %s", told[i].message);
}

/*
 * Names a site to repmgr: this one (local), which creates a new group
 * when creator is set, or a peer to join through.
 */
static enum status
name_site(struct store *store, const struct site_address *address,
    bool local, bool creator)
{
	DB_SITE *site = NULL;
	int rc;

	if ((rc = store->env->repmgr_site(store->env, address->host,
	    address->port, &site, 0)) == 0) {
		rc = site->set_config(site, local ? DB_LOCAL_SITE :
		    DB_BOOTSTRAP_HELPER, 1);
		if (rc == 0 && creator)
			rc = site->set_config(site, DB_GROUP_CREATOR, 1);
		site->close(site);
	}
	return translate(store, rc, "name a site of the group");
}

enum status
replication_configure(struct store *store,
    const struct replication_options *options)
{
	DB_ENV *env = store->env;
	db_timeout_t heartbeat = (db_timeout_t)options->heartbeat_ms * 1000;
	enum status status;
	int rc;

	if ((store->replication = malloc(sizeof(*store->replication))) == NULL)
		return translate(store, ENOMEM, "configure replication");
	*store->replication = *options;
	store->forward_timeout_us = (db_timeout_t)(options->ack_timeout_ms +
	    store->lock_timeout_ms + RETRY_MS) * 1000;
	if ((rc = env->set_event_notify(env, on_event)) != 0 ||
	    (rc = env->repmgr_msg_dispatch(env, channel_dispatch, 0)) != 0 ||
	    (rc = env->rep_set_priority(env, options->priority)) != 0 ||
	    (rc = env->repmgr_set_ack_policy(env,
	    DB_REPMGR_ACKS_QUORUM)) != 0 ||
	    (rc = env->rep_set_timeout(env, DB_REP_ACK_TIMEOUT,
	    (db_timeout_t)options->ack_timeout_ms * 1000)) != 0 ||
	    (rc = env->rep_set_timeout(env, DB_REP_HEARTBEAT_SEND,
	    heartbeat)) != 0 ||
	    (rc = env->rep_set_timeout(env, DB_REP_HEARTBEAT_MONITOR,
	    heartbeat * MISSED_HEARTBEATS)) != 0 ||
	    (rc = env->rep_set_timeout(env, DB_REP_CONNECTION_RETRY,
	    RETRY_MS * 1000)) != 0 ||
	    (rc = env->rep_set_timeout(env, DB_REP_ELECTION_RETRY,
	    RETRY_MS * 1000)) != 0 ||
	    /*
	     * The master would pause 30 s before each checkpoint record
	     * for the replicas' caches; a replica's own checkpoint is its
	     * own business, and this pool checkpoints every few seconds.
	     */
	    (rc = env->rep_set_timeout(env, DB_REP_CHECKPOINT_DELAY, 0)) != 0 ||
	    /*
	     * A transaction's log records leave in one message at its
	     * commit, not one each: repmgr's sockets keep Nagle's algorithm,
	     * which holds every small write after the first for the peer's
	     * delayed acknowledgement (40 ms).
	     */
	    (rc = env->rep_set_config(env, DB_REP_CONF_BULK, 1)) != 0)
		return translate(store, rc, "configure replication");
	if ((status = name_site(store, &options->site, true,
	    options->create_group)) != STATUS_OK)
		return status;
	for (size_t i = 0; i < options->peer_count; i++)
		if ((status = name_site(store, &options->peers[i], false,
		    false)) != STATUS_OK)
			return status;
	return STATUS_OK;
}

/*
 * Turns Nagle's algorithm off on every TCP socket of this process: they
 * are all repmgr's (nginx reaches the pool over a unix socket). repmgr
 * writes each message, a commit's log records or an acknowledgement, as
 * soon as it has it, and leaves its sockets as the kernel makes them, so
 * a message sent while the previous one is unacknowledged waits for
 * the peer's delayed acknowledgement: 40 ms, under any concurrency.
 */
static void
nodelay_sockets(void)
{
	DIR *dir = opendir("/proc/self/fd");
	struct dirent *entry;
	struct sockaddr_storage address;
	socklen_t len;
	int fd, one = 1, type;

	if (dir == NULL)
		return;
	while ((entry = readdir(dir)) != NULL) {
		if (entry->d_name[0] < '0' || entry->d_name[0] > '9' ||
		    (fd = atoi(entry->d_name)) <= STDERR_FILENO)
			continue;	/* ".", "..", and the standard three */
		len = sizeof(address);
		if (getsockname(fd, (struct sockaddr *)&address, &len) != 0 ||
		    (address.ss_family != AF_INET &&
		    address.ss_family != AF_INET6))
			continue;
		len = sizeof(type);
		if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) == 0 &&
		    type == SOCK_STREAM)
			setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one,
			    sizeof(one));
	}
	closedir(dir);
}

/*
 * The thread that looks for repmgr's new sockets (connections come and
 * go with the sites) every NODELAY_MS, until replication_close().
 */
static void *
nodelay_loop(void *arg)
{
	struct store *store = arg;
	struct timespec until;

	pthread_mutex_lock(&store->nodelay_lock);
	while (!store->nodelay_stopping) {
		pthread_mutex_unlock(&store->nodelay_lock);
		nodelay_sockets();
		pthread_mutex_lock(&store->nodelay_lock);
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_nsec += NODELAY_MS * 1000000L;
		if (until.tv_nsec >= 1000000000L) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000L;
		}
		if (!store->nodelay_stopping)
			pthread_cond_timedwait(&store->nodelay_stop,
			    &store->nodelay_lock, &until);
	}
	pthread_mutex_unlock(&store->nodelay_lock);
	return NULL;
}

enum status
replication_start(struct store *store, bool listener)
{
	unsigned threads = listener ? store->replication->message_threads : 0;
	int rc = store->env->repmgr_start(store->env, (int)threads,
	    DB_REP_ELECTION);

	if (rc == DB_REP_UNAVAIL) {
		log_warn("replication: no site of replication_peers answered "
		    "for a group to join");
		return STATUS_NO_MASTER;
	}
	if (rc != 0 && rc != DB_REP_IGNORE)
		return translate(store, rc, "start replication");
	/* only the first process to start repmgr listens */
	if ((rc == 0) != listener) {
		log_error("replication: the %s process %s", listener ?
		    "replication" : "worker", listener ? "found another "
		    "running the replication manager" : "started the "
		    "replication manager before the replication process");
		return STATUS_SYSTEM;
	}
	store->listener = listener;
	store->awaiting_since_ms = monotonic_ms();
	if ((rc = pthread_create(&store->nodelay_thread, NULL, nodelay_loop,
	    store)) != 0)
		log_warn("replication: no thread to turn Nagle's algorithm off "
		    "(%s): deploys may wait 40 ms each", strerror(rc));
	store->nodelay_running = rc == 0;
	return STATUS_OK;
}

bool
replication_take_perm_failed(void)
{
	bool failed = perm_failed;

	perm_failed = false;
	return failed;
}

/* What repmgr's statistics say of this site. */
struct role {
	bool		master;
	int		master_eid;	/* DB_EID_INVALID when none is known */
	DB_LSN		next;		/* of a replica: the next record it expects */
	DB_LSN		waiting;	/* the first it holds behind a gap; 0/0: none */
};

/* Reads this site's role from repmgr's statistics. */
static enum status
read_role(struct store *store, struct role *role)
{
	DB_REP_STAT *stat = NULL;
	enum status status = translate(store, store->env->rep_stat(store->env,
	    &stat, 0), "read the replication state");

	memset(role, 0, sizeof(*role));
	role->master_eid = DB_EID_INVALID;
	if (status != STATUS_OK)
		return status;
	role->master = stat->st_status == DB_REP_MASTER;
	role->master_eid = (int)stat->st_master;
	role->next = stat->st_next_lsn;
	role->waiting = stat->st_waiting_lsn;
	free(stat);
	return STATUS_OK;
}

/*
 * Sets *master, and *behind_bytes to the log this replica knows it lacks
 * (store_statistics() says which); both from repmgr's statistics.
 */
enum status
replication_progress(struct store *store, bool *master,
    uint64_t *behind_bytes)
{
	struct role role;
	u_int32_t file_size = 0;
	enum status status = read_role(store, &role);

	*master = role.master;
	*behind_bytes = 0;
	if (status != STATUS_OK || role.master || role.waiting.file == 0 ||
	    log_compare(&role.waiting, &role.next) <= 0)
		return status;
	/* log files before the waiting one are full: lg_max bytes each */
	if ((status = translate(store, store->env->get_lg_max(store->env,
	    &file_size), "read the log file size")) != STATUS_OK)
		return status;
	*behind_bytes = (uint64_t)(role.waiting.file - role.next.file) *
	    file_size + role.waiting.offset - role.next.offset;
	return STATUS_OK;
}

bool
replication_is_master(struct store *store)
{
	struct role role;

	return read_role(store, &role) == STATUS_OK && role.master;
}

/*
 * True when this process is connected to a quorum of the other sites it
 * knows (the peers it was given, and those it learned of): only then
 * does a commit of its own wait for their acknowledgements. A process
 * counts as members only the sites that were members when it started
 * replication (a subordinate never learns that a peer it was given
 * became one), and repmgr lets a commit stand unacknowledged when it was
 * sent to every member it counts: a worker that started before the
 * others joined would answer deploys that no other site has. A site
 * alone with peers that have not joined yet is no quorum either.
 */
static bool
quorum_connected(struct store *store)
{
	DB_REPMGR_SITE *list = NULL;
	size_t connected = 0;
	u_int others = 0;

	if (store->env->repmgr_site_list(store->env, &others, &list) != 0)
		return false;
	for (u_int i = 0; i < others; i++)
		connected += list[i].status == DB_REPMGR_CONNECTED;
	free(list);
	return site_majority(connected, others);
}

enum status
replication_await_quorum(struct store *store)
{
	struct timespec poll = { 0, POLL_NS };
	uint64_t deadline = monotonic_ms() +
	    store->replication->ack_timeout_ms;
	struct role role;
	enum status status;

	for (;;) {
		if ((status = read_role(store, &role)) != STATUS_OK)
			return status;
		if (!role.master)
			return STATUS_NOT_MASTER;
		if (quorum_connected(store))
			return STATUS_OK;
		if (monotonic_ms() >= deadline) {
			log_warn("replication: this process reaches fewer than "
			    "a quorum of the group; the deploy is refused");
			return STATUS_NOT_REPLICATED;
		}
		nanosleep(&poll, NULL);
	}
}

enum status
store_await_databases(struct store *store)
{
	struct role role;
	bool master, files = true;
	enum status status;

	if (store->databases_open)
		return STATUS_OK;
	if ((status = read_role(store, &role)) != STATUS_OK)
		return status;
	master = role.master;
	for (size_t i = 0; !master && i < DATABASE_COUNT; i++)
		files = files && store_has_file(store, databases[i].file);
	/*
	 * The master makes what is missing (the first one, every database);
	 * a replica opens its copies once it has caught up with the master,
	 * or, with none to catch up with, after a while.
	 */
	if (!master && !(files && (store->synced || monotonic_ms() -
	    store->awaiting_since_ms >= SYNC_WAIT_MS)))
		return STATUS_BUSY;
	/*
	 * Making them may meet repmgr's own transactions (a site joining
	 * the group writes its membership): undone, and tried again.
	 */
	if ((status = open_databases(store, master)) != STATUS_OK) {
		close_databases(store);
		return status == STATUS_DEADLOCK ? STATUS_BUSY : status;
	}
	store->databases_open = true;
	log_info("replication: the databases are open, as %s",
	    master ? "the master" : "a replica");
	return STATUS_OK;
}

enum status
store_cluster(struct store *store, struct cluster_view *view)
{
	DB_REPMGR_SITE *sites = NULL;
	u_int count = 0;
	struct role role;
	enum status status;

	memset(view, 0, sizeof(*view));
	view->role = SITE_ROLE_MASTER;
	if (store->replication == NULL)
		return STATUS_OK;
	view->replicated = true;
	site_format(&store->replication->site, view->site);
	if ((status = read_role(store, &role)) != STATUS_OK)
		return status;
	view->role = role.master ? SITE_ROLE_MASTER :
	    role.master_eid == DB_EID_INVALID ? SITE_ROLE_UNKNOWN :
	    SITE_ROLE_REPLICA;
	if (role.master) {
		view->has_master = true;
		memcpy(view->master, view->site, sizeof(view->master));
	}
	if ((status = translate(store, store->env->repmgr_site_list(store->env,
	    &count, &sites), "list the sites")) != STATUS_OK)
		return status;
	for (u_int i = 0; i < count && view->peer_count < CLUSTER_PEERS_MAX;
	    i++) {
		struct cluster_peer *peer = &view->peers[view->peer_count++];
		struct site_address address;

		if (strlen(sites[i].host) > SITE_HOST_MAX) {
			view->peer_count--;
			continue;
		}
		memcpy(address.host, sites[i].host, strlen(sites[i].host) + 1);
		address.port = sites[i].port;
		site_format(&address, peer->site);
		peer->connected = sites[i].status == DB_REPMGR_CONNECTED;
		if (sites[i].eid == role.master_eid) {
			view->has_master = true;
			memcpy(view->master, peer->site, sizeof(view->master));
		}
	}
	free(sites);
	return STATUS_OK;
}

void
replication_close(struct store *store)
{
	if (store->nodelay_running) {
		pthread_mutex_lock(&store->nodelay_lock);
		store->nodelay_stopping = true;
		pthread_cond_signal(&store->nodelay_stop);
		pthread_mutex_unlock(&store->nodelay_lock);
		pthread_join(store->nodelay_thread, NULL);
		store->nodelay_running = false;
	}
	channel_close(store);
}

unsigned
store_membership_changes(struct store *store)
{
	return store->membership_changes;
}

enum status
store_remove_site(struct store *store, const struct site_address *address)
{
	DB_REPMGR_SITE *sites = NULL;
	DB_SITE *site = NULL;
	struct role role;
	u_int count = 0;
	int eid = DB_EID_INVALID, rc;
	enum status status;

	if (store->replication == NULL)
		return STATUS_NOT_FOUND;
	if (site_compare(address, &store->replication->site) == 0)
		return STATUS_INVALID;
	if ((status = read_role(store, &role)) != STATUS_OK ||
	    (status = translate(store, store->env->repmgr_site_list(store->env,
	    &count, &sites), "list the sites")) != STATUS_OK)
		return status;
	for (u_int i = 0; i < count; i++)
		if (sites[i].port == address->port &&
		    strcmp(sites[i].host, address->host) == 0)
			eid = sites[i].eid;
	free(sites);
	if (eid == DB_EID_INVALID)
		return STATUS_NOT_FOUND;
	if (eid == role.master_eid)
		return STATUS_INVALID;
	if ((rc = store->env->repmgr_site(store->env, address->host,
	    address->port, &site, 0)) != 0)
		return translate(store, rc, "remove a site");
	/* the handle is gone after remove(), whatever it answers */
	if ((rc = site->remove(site)) == DB_REP_UNAVAIL)
		return STATUS_NOT_REPLICATED;
	if (rc != 0)
		return translate(store, rc, "remove a site");
	log_info("replication: %s:%u is removed from the group", address->host,
	    address->port);
	return STATUS_OK;
}
