/*
 * The supervisor. It never keeps the store open: it recovers the Berkeley
 * DB environment, alone, before any child exists, then forks the workers
 * (which serve requests) and one maintainer (which checkpoints and expires
 * lock waits); each child joins the environment after the fork.
 *
 * A child that dies may have left locks, a transaction or a library mutex
 * behind, which could block its siblings forever. Berkeley DB's failchk
 * is meant to release them, but with this glibc it can hang destroying a
 * mutex another process waits on, so the supervisor does what always
 * works: it stops every child, runs recovery, and starts them all again.
 * Recovery of a checkpointed environment takes milliseconds, and nothing
 * acknowledged is lost, since an answer is only sent after its commit.
 *
 * A site of a replication group (replication_site set) adds an order:
 * the maintainer is the replication process, the one that runs Berkeley
 * DB's replication manager, so it must be the first child to join after
 * recovery, and it never forks. The supervisor starts it alone, and the
 * workers once it signals (SIGUSR1) that the site's databases are open.
 * Any death restarts every child with recovery, which also restarts
 * replication. A new site that finds no group through its peers creates
 * one only when its address is the lowest of those it knows, so that
 * sites started together agree on the one that does.
 *
 * Signal handlers only set flags; the supervisor sleeps in sigsuspend().
 */
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "accounts.h"
#include "datadir.h"
#include "digest_cache.h"
#include "edge.h"
#include "log.h"
#include "pool.h"
#include "router.h"
#include "store.h"

#define LISTEN_BACKLOG		128
#define STOP_GRACE_SECONDS	10	/* in-flight requests get this long */
#define RECOVERY_GRACE_SECONDS	1	/* before recovery, siblings get this long */
#define LOCK_WAIT_SECONDS	15	/* for a previous instance to let go */
#define MALLOC_ARENAS		2	/* per child: keeps a worker's memory small */
#define AWAIT_POLL_NS		(50 * 1000 * 1000)	/* the replication process's look at its role */
#define MESSAGE_THREADS_MIN	4	/* the replication process's, besides one per serving thread */

enum child_role {
	ROLE_WORKER,
	ROLE_MAINTAINER,
	ROLE_RETIRING	/* a worker replaced, finishing what it answers; never respawned */
};

struct child {
	enum child_role	role;
	pid_t		pid;		/* 0: the slot is empty */
	time_t		started;
	time_t		respawn_at;	/* when an empty slot may be filled again */
	bool		ever_started;	/* a start is then a restart */
};

struct pool {
	const struct config	*config;
	const struct auth	*auth;
	int			 listen_fd;
	int			 lock_fd;
	pid_t			 supervisor;
	/* the workers, the maintainer, then a slot per worker for one retiring */
	struct child		*children;
	size_t			 child_count;
	char			 pid_path[CONFIG_PATH_MAX + 32];
	/* replicated: what the store is opened with, and whether workers may start */
	struct replication_options replication;
	bool			 workers_may_start;
	struct metrics		*metrics;	/* NULL: the metrics are off */
};

static volatile sig_atomic_t got_stop;
static volatile sig_atomic_t got_child;
static volatile sig_atomic_t child_stop;
static volatile sig_atomic_t got_ready;
static volatile sig_atomic_t got_group_change;

static void
on_group_change(int signo)
{
	(void)signo;
	got_group_change = 1;
}

static void
on_ready(int signo)
{
	(void)signo;
	got_ready = 1;
}

static void
on_stop(int signo)
{
	(void)signo;
	got_stop = 1;
}

static void
on_child(int signo)
{
	(void)signo;
	got_child = 1;
}

static void
on_tick(int signo)
{
	(void)signo;	/* only wakes sigsuspend() */
}

static void
on_child_stop(int signo)
{
	(void)signo;
	child_stop = 1;
}

/* Installs handler for signo, without SA_RESTART so that waits are interrupted. */
static void
set_handler(int signo, void (*handler)(int))
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = handler;
	sigemptyset(&sa.sa_mask);
	sigaction(signo, &sa, NULL);
}

/* Opens the store for role; the caller closes it. */
static enum status
open_store(const struct pool *pool, enum store_role role, struct store **store)
{
	struct store_options options;
	char home[DATADIR_HOME_SIZE];

	datadir_store_options(pool->config, role, home, &options);
	if (pool->config->replicated)
		options.replication = &pool->replication;
	return store_open(&options, store);
}

/* Runs recovery, with no child attached; the supervisor keeps no handle. */
static enum status
recover(struct pool *pool)
{
	struct store *store = NULL;
	enum status status = open_store(pool, STORE_RECOVER, &store);

	store_close(store);
	return status;
}

/*
 * Checkpoints every checkpoint_seconds, and every second expires overdue
 * lock waits and the eventIds and audit entries past their retention
 * (and, on a site of a group, tells the supervisor when a site joined or
 * left it), until told to stop; then checkpoints once more.
 */
static int
maintain(const struct pool *pool, struct store *store)
{
	struct timespec second = { 1, 0 };
	unsigned ticks = 0, checkpoint_seconds = pool->config->checkpoint_seconds;
	unsigned changes = store_membership_changes(store), now_changes;

	while (!child_stop) {
		nanosleep(&second, NULL);	/* a signal cuts it short */
		/* the workers must meet the sites that joined */
		if ((now_changes = store_membership_changes(store)) != changes) {
			changes = now_changes;
			kill(pool->supervisor, SIGUSR2);
		}
		store_expire_locks(store);
		store_expire(store, NULL);
		if (++ticks % checkpoint_seconds == 0)
			store_checkpoint(store);
		if (store_needs_recovery(store))
			return WORKER_EXIT_RECOVER;
	}
	return store_checkpoint(store) == STATUS_OK ? WORKER_EXIT_OK :
	    WORKER_EXIT_RECOVER;
}

/*
 * Of the replication process: waits until the site's databases are open,
 * then tells the supervisor that the workers may start. Returns a
 * WORKER_EXIT_* code when it stops waiting for another reason.
 */
static int
await_databases(struct pool *pool, struct store *store)
{
	struct timespec pause = { 0, AWAIT_POLL_NS };
	enum status status;

	while ((status = store_await_databases(store)) == STATUS_BUSY) {
		if (child_stop)
			return WORKER_EXIT_OK;
		if (store_needs_recovery(store))
			return WORKER_EXIT_RECOVER;
		nanosleep(&pause, NULL);
	}
	if (status != STATUS_OK) {
		log_error("pool: the replication process cannot open the "
		    "databases: %s", status_name(status));
		return WORKER_EXIT_RECOVER;
	}
	kill(pool->supervisor, SIGUSR1);
	return -1;
}

/*
 * The life of the child of slot i, after the fork; never returns. A
 * worker counts its requests in the metrics' slot i.
 */
static void __attribute__((noreturn))
child_main(struct pool *pool, enum child_role role, size_t i)
{
	struct store *store = NULL;
	struct app app;
	sigset_t none;
	int code;

	set_handler(SIGTERM, on_child_stop);
	signal(SIGINT, SIG_IGN);	/* a terminal's ^C is the supervisor's to handle */
	signal(SIGHUP, SIG_IGN);
	signal(SIGPIPE, SIG_IGN);
	signal(SIGCHLD, SIG_DFL);
	signal(SIGALRM, SIG_DFL);
	signal(SIGUSR1, SIG_IGN);
	signal(SIGUSR2, SIG_IGN);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	prctl(PR_SET_PDEATHSIG, SIGTERM);
	/* each serving thread would get a malloc arena of its own */
	mallopt(M_ARENA_MAX, MALLOC_ARENAS);
	/* the name ps and top show: rm-worker or rm-maintainer */
	prctl(PR_SET_NAME, role == ROLE_WORKER ? "rm-worker" : "rm-maintainer");
	if (getppid() != pool->supervisor)
		_exit(WORKER_EXIT_OK);

	if (role == ROLE_MAINTAINER && pool->config->replicated) {
		close(pool->listen_fd);
		switch (open_store(pool, STORE_REPLICATION, &store)) {
		case STATUS_OK:
			break;
		case STATUS_NO_MASTER:
			_exit(WORKER_EXIT_NO_GROUP);
		default:
			_exit(WORKER_EXIT_FAILED);
		}
		if ((code = await_databases(pool, store)) < 0)
			code = maintain(pool, store);
		store_close(store);
		_exit(code);
	}
	if (open_store(pool, STORE_JOIN, &store) != STATUS_OK)
		_exit(WORKER_EXIT_FAILED);
	if (role == ROLE_MAINTAINER) {
		close(pool->listen_fd);
		code = maintain(pool, store);
	} else if ((app.digests = digest_cache_new()) == NULL) {
		log_error("pool: no memory for the digest cache");
		code = WORKER_EXIT_FAILED;
	} else {
		app.store = store;
		app.auth = pool->auth;
		app.metrics = pool->metrics;
		app.requests = pool->metrics != NULL ?
		    metrics_slot(pool->metrics, i) : NULL;
		code = edge_serve(pool->listen_fd, &app, pool->config->threads,
		    &child_stop);
		digest_cache_free(app.digests);
	}
	store_close(store);
	_exit(code);
}

/* Forks the child of slot i. */
static void
spawn(struct pool *pool, size_t i)
{
	struct child *c = &pool->children[i];
	pid_t pid = fork();

	if (pid == -1) {
		log_error("pool: fork: %s", strerror(errno));
		c->respawn_at = time(NULL) + 1;
		return;
	}
	if (pid == 0)
		child_main(pool, c->role, i);
	if (c->role == ROLE_WORKER && c->ever_started && pool->metrics != NULL)
		metrics_worker_restarted(pool->metrics);
	c->ever_started = true;
	c->pid = pid;
	c->started = time(NULL);
	log_info("pool: %s %ld started",
	    c->role == ROLE_WORKER ? "worker" : "maintainer", (long)pid);
}

/*
 * Fills every empty slot whose back-off has passed; on a site of a group,
 * the workers' only once the replication process is ready.
 */
static void
spawn_missing(struct pool *pool)
{
	time_t now = time(NULL);

	for (size_t i = pool->child_count; i-- > 0;) {
		const struct child *c = &pool->children[i];

		/* a site's replication process first (after the workers' slots) */
		if (c->pid == 0 && c->respawn_at <= now &&
		    (c->role == ROLE_MAINTAINER || (c->role == ROLE_WORKER &&
		    pool->workers_may_start)))
			spawn(pool, i);
	}
}

/* Whether slot i is one that stop_children() is asked to stop. */
static bool
chosen(const struct pool *pool, size_t i, enum child_role role, ssize_t only)
{
	return pool->children[i].role == role && pool->children[i].pid != 0 &&
	    (only < 0 || (size_t)only == i);
}

/*
 * Stops the children of role (only the one of slot only, when not -1):
 * SIGTERM, then SIGKILL for any still there after grace seconds. Returns
 * once all are reaped: true when one had to be killed.
 */
static bool
stop_children(struct pool *pool, enum child_role role, ssize_t only,
    int grace)
{
	struct timespec pause = { 0, 10 * 1000 * 1000 };
	time_t deadline = time(NULL) + grace;
	bool killed = false;
	size_t alive;

	for (size_t i = 0; i < pool->child_count; i++)
		if (chosen(pool, i, role, only))
			kill(pool->children[i].pid, SIGTERM);
	do {
		alive = 0;
		for (size_t i = 0; i < pool->child_count; i++) {
			struct child *c = &pool->children[i];

			if (!chosen(pool, i, role, only))
				continue;
			if (waitpid(c->pid, NULL, WNOHANG) == c->pid)
				c->pid = 0;
			else if (time(NULL) >= deadline) {
				log_warn("pool: %ld did not stop; killing it",
				    (long)c->pid);
				kill(c->pid, SIGKILL);
				waitpid(c->pid, NULL, 0);
				c->pid = 0;
				killed = true;
			} else
				alive++;
		}
		if (alive > 0)
			nanosleep(&pause, NULL);
	} while (alive > 0);
	return killed;
}

/* Stops every child, recovers the store and lets the children start again. */
static enum status
restart_with_recovery(struct pool *pool)
{
	log_warn("pool: recovering the store; every child restarts");
	stop_children(pool, ROLE_WORKER, -1, RECOVERY_GRACE_SECONDS);
	stop_children(pool, ROLE_RETIRING, -1, RECOVERY_GRACE_SECONDS);
	stop_children(pool, ROLE_MAINTAINER, -1, RECOVERY_GRACE_SECONDS);
	pool->workers_may_start = !pool->config->replicated;
	got_ready = 0;
	if (recover(pool) != STATUS_OK)
		return STATUS_UNAVAILABLE;
	for (size_t i = 0; i < pool->child_count; i++)
		pool->children[i].respawn_at = 0;
	log_info("pool: recovery done");
	return STATUS_OK;
}

/*
 * Replaces every worker by a new one: a site joined or left the group,
 * and a worker connects only to the sites it knew when it started. Each
 * new one starts before the one it replaces is told to stop (it may take
 * seconds to close while replication holds the store still); that one
 * retires, finishing what it answers. False, nothing done, while workers
 * replaced before are still retiring: the caller tries again later.
 */
static bool
replace_workers(struct pool *pool)
{
	size_t retiring = 0;

	for (size_t i = 0; i < pool->child_count; i++)
		if (pool->children[i].role == ROLE_RETIRING &&
		    pool->children[i].pid != 0)
			return false;
	log_info("pool: the group changed; every worker is replaced");
	for (size_t i = 0; i < pool->child_count; i++) {
		struct child *c = &pool->children[i], *old;

		if (c->role != ROLE_WORKER || c->pid == 0)
			continue;
		while (pool->children[retiring].role != ROLE_RETIRING)
			retiring++;
		old = &pool->children[retiring++];
		old->pid = c->pid;
		old->started = time(NULL);	/* when it began to retire */
		c->pid = 0;
		spawn(pool, i);
		kill(old->pid, SIGTERM);
	}
	return true;
}

/* Kills the retiring workers that outlived the grace of a stop. */
static void
end_retirements(struct pool *pool)
{
	time_t now = time(NULL);

	for (size_t i = 0; i < pool->child_count; i++) {
		struct child *c = &pool->children[i];

		if (c->role == ROLE_RETIRING && c->pid != 0 &&
		    now - c->started >= STOP_GRACE_SECONDS) {
			log_warn("pool: %ld did not stop; killing it",
			    (long)c->pid);
			kill(c->pid, SIGKILL);	/* reaped as killed: recovery */
		}
	}
}

/*
 * The replication process found no group to join through the peers: the
 * site whose address is the lowest of those it knows creates one at
 * once; the others try again a second later (*retry_at).
 */
static void
no_group(struct pool *pool, time_t *retry_at)
{
	const struct config *config = pool->config;
	char lowest[SITE_TEXT_SIZE];

	for (size_t i = 0; i < config->peer_count; i++)
		if (site_compare(&config->peers[i], &config->site) < 0) {
			site_format(&config->peers[i], lowest);
			log_info("pool: no peer is in a group yet; trying again "
			    "(%s creates it)", lowest);
			*retry_at = time(NULL) + 1;
			return;
		}
	if (!pool->replication.create_group)
		log_info("pool: no peer is in a group, and this site's address "
		    "is the lowest: it creates the group");
	pool->replication.create_group = true;
}

/*
 * Reaps dead children. One that stopped cleanly is replaced (after a
 * second when it died young); one that was killed or asks for recovery
 * may have left the store in use, so the pool restarts with recovery.
 * Returns STATUS_UNAVAILABLE when recovery failed.
 */
static enum status
reap(struct pool *pool)
{
	bool recovery = false;
	time_t now = time(NULL), retry_at = 0;
	pid_t pid;
	int wstatus;
	enum status status;

	while ((pid = waitpid(-1, &wstatus, WNOHANG)) > 0) {
		for (size_t i = 0; i < pool->child_count; i++) {
			struct child *c = &pool->children[i];

			if (c->pid != pid)
				continue;
			c->pid = 0;
			c->respawn_at = now - c->started < 1 ? now + 1 : now;
			/* the replication process is gone: replication restarts */
			if (c->role == ROLE_MAINTAINER && pool->config->replicated)
				recovery = true;
		}
		if (WIFSIGNALED(wstatus)) {
			log_warn("pool: %ld was killed by signal %d", (long)pid,
			    WTERMSIG(wstatus));
			recovery = true;
		} else {
			log_warn("pool: %ld exited with status %d", (long)pid,
			    WEXITSTATUS(wstatus));
			if (WEXITSTATUS(wstatus) == WORKER_EXIT_RECOVER)
				recovery = true;
			if (WEXITSTATUS(wstatus) == WORKER_EXIT_NO_GROUP)
				no_group(pool, &retry_at);
		}

	}
	if (!recovery)
		return STATUS_OK;
	status = restart_with_recovery(pool);
	for (size_t i = 0; i < pool->child_count; i++)
		if (pool->children[i].role == ROLE_MAINTAINER)
			pool->children[i].respawn_at = retry_at;
	return status;
}

/* Writes the supervisor's pid, once it is ready to serve. */
static void
write_pid_file(struct pool *pool)
{
	FILE *file;

	snprintf(pool->pid_path, sizeof(pool->pid_path), "%s/run/releasemgr.pid",
	    pool->config->data_dir);
	if ((file = fopen(pool->pid_path, "we")) == NULL) {
		log_warn("pool: cannot write %s: %s", pool->pid_path,
		    strerror(errno));
		pool->pid_path[0] = '\0';
		return;
	}
	fprintf(file, "%ld\n", (long)pool->supervisor);
	fclose(file);
}

int
pool_run(const struct config *config, const struct auth *auth)
{
	struct pool pool;
	struct accounts accounts;
	struct itimerval tick = { { 1, 0 }, { 1, 0 } };
	sigset_t blocked, waiting;
	int code = 1;

	memset(&pool, 0, sizeof(pool));
	pool.config = config;
	pool.auth = auth;
	pool.listen_fd = -1;
	pool.lock_fd = -1;
	pool.supervisor = getpid();
	pool.workers_may_start = !config->replicated;
	pool.replication.site = config->site;
	memcpy(pool.replication.peers, config->peers, sizeof(config->peers));
	pool.replication.peer_count = config->peer_count;
	pool.replication.priority = config->replication_priority;
	pool.replication.ack_timeout_ms = config->replication_ack_timeout_ms;
	pool.replication.heartbeat_ms = config->replication_heartbeat_ms;
	pool.replication.message_threads = config->workers * config->threads +
	    MESSAGE_THREADS_MIN;
	umask(077);

	sigemptyset(&blocked);
	sigaddset(&blocked, SIGCHLD);
	sigaddset(&blocked, SIGTERM);
	sigaddset(&blocked, SIGINT);
	sigaddset(&blocked, SIGALRM);
	sigaddset(&blocked, SIGUSR1);
	sigaddset(&blocked, SIGUSR2);
	sigprocmask(SIG_BLOCK, &blocked, &waiting);
	sigdelset(&waiting, SIGCHLD);
	sigdelset(&waiting, SIGTERM);
	sigdelset(&waiting, SIGINT);
	sigdelset(&waiting, SIGALRM);
	sigdelset(&waiting, SIGUSR1);
	sigdelset(&waiting, SIGUSR2);
	set_handler(SIGCHLD, on_child);
	set_handler(SIGUSR1, on_ready);
	set_handler(SIGUSR2, on_group_change);
	set_handler(SIGTERM, on_stop);
	set_handler(SIGINT, on_stop);
	set_handler(SIGALRM, on_tick);
	signal(SIGPIPE, SIG_IGN);
	signal(SIGHUP, SIG_IGN);

	pool.child_count = 2 * config->workers + 1;
	if ((pool.children = calloc(pool.child_count,
	    sizeof(*pool.children))) == NULL)
		goto done;
	pool.children[config->workers].role = ROLE_MAINTAINER;
	/* the workers' slots come first: their index is their metrics slot */
	if (config->metrics && (pool.metrics = metrics_create(config->workers,
	    router_route_path, router_route_count())) == NULL)
		goto done;
	for (size_t i = config->workers + 1; i < pool.child_count; i++)
		pool.children[i].role = ROLE_RETIRING;
	switch (datadir_lock(config->data_dir, LOCK_WAIT_SECONDS, &pool.lock_fd)) {
	case STATUS_OK:
		break;
	case STATUS_BUSY:
		log_error("pool: %s is in use by another releasemgr process "
		    "(a running pool, or releasemgr-admin)", config->data_dir);
		goto done;
	default:
		goto done;
	}
	if (find_accounts(config, &accounts) != STATUS_OK ||
	    (accounts.switch_user && datadir_hand_over(config->data_dir,
	    accounts.uid, accounts.gid) != STATUS_OK))
		goto done;
	if ((pool.listen_fd = bind_unix(config->socket_path, &accounts)) == -1 ||
	    become_user(config, &accounts) != STATUS_OK ||
	    recover(&pool) != STATUS_OK)
		goto done;
	if (listen(pool.listen_fd, LISTEN_BACKLOG) == -1) {
		log_error("pool: cannot listen on %s: %s", config->socket_path,
		    strerror(errno));
		goto done;
	}
	spawn_missing(&pool);
	write_pid_file(&pool);
	log_info("pool: serving on %s with %u workers", config->socket_path,
	    config->workers);

	/* a tick every second, so that a slot in back-off is filled in time */
	setitimer(ITIMER_REAL, &tick, NULL);
	while (!got_stop) {
		sigsuspend(&waiting);
		if (got_child) {
			got_child = 0;
			if (reap(&pool) != STATUS_OK) {
				log_error("pool: recovery failed; stopping");
				goto done;
			}
		}
		if (got_ready) {
			got_ready = 0;
			pool.workers_may_start = true;
		}
		/* kept pending while the last replacement is retiring */
		if (got_group_change && pool.workers_may_start &&
		    replace_workers(&pool))
			got_group_change = 0;
		end_retirements(&pool);
		spawn_missing(&pool);
	}
	log_info("pool: stopping; in-flight requests finish first");
	code = 0;
done:
	if (pool.listen_fd != -1)
		shutdown(pool.listen_fd, SHUT_RDWR);	/* wakes workers in accept */
	if (pool.children != NULL) {
		stop_children(&pool, ROLE_WORKER, -1, STOP_GRACE_SECONDS);
		stop_children(&pool, ROLE_RETIRING, -1, STOP_GRACE_SECONDS);
		/* the maintainer checkpoints once more as it stops */
		stop_children(&pool, ROLE_MAINTAINER, -1, STOP_GRACE_SECONDS);
	}
	if (pool.listen_fd != -1) {
		close(pool.listen_fd);
		unlink(config->socket_path);
	}
	if (pool.pid_path[0] != '\0')
		unlink(pool.pid_path);
	if (pool.lock_fd != -1)
		close(pool.lock_fd);
	free(pool.children);
	metrics_destroy(pool.metrics);
	log_info("pool: stopped");
	return code;
}
