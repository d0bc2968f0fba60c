/*
 * The supervisor. It alone opens the store with recovery, before any
 * worker exists; each worker joins the environment after the fork. When a
 * worker dies, failchk releases the locks and aborts the transactions it
 * held, so its siblings never wait on a dead process; when failchk (or a
 * worker) says only recovery can help, every worker is stopped and the
 * store recovered before the pool starts again.
 *
 * Signal handlers only set flags; the supervisor sleeps in sigsuspend().
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "edge.h"
#include "log.h"
#include "pool.h"
#include "store.h"

#define LISTEN_BACKLOG		128
#define STOP_GRACE_SECONDS	10	/* in-flight requests get this long */
#define LOCK_WAIT_SECONDS	15	/* for a previous instance to let go */

struct worker {
	pid_t	pid;		/* 0: the slot is empty */
	time_t	started;
	time_t	respawn_at;	/* when an empty slot may be filled again */
};

struct pool {
	const struct config	*config;
	const struct auth	*auth;
	struct store		*store;
	int			 listen_fd;
	int			 lock_fd;
	pid_t			 supervisor;
	struct worker		*workers;
	unsigned		 ticks;
	char			 pid_path[CONFIG_PATH_MAX + 32];
};

static volatile sig_atomic_t got_stop;
static volatile sig_atomic_t got_child;
static volatile sig_atomic_t got_tick;
static volatile sig_atomic_t worker_stop;

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
	(void)signo;
	got_tick = 1;
}

static void
on_worker_stop(int signo)
{
	(void)signo;
	worker_stop = 1;
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

/* The store options every process of the pool uses, for its role. */
static struct store_options
store_options(const struct pool *pool, char *home, size_t home_len,
    enum store_role role)
{
	struct store_options options;

	snprintf(home, home_len, "%s/db", pool->config->data_dir);
	options.home = home;
	options.role = role;
	options.cache_mb = pool->config->cache_mb;
	options.lock_timeout_ms = pool->config->lock_timeout_ms;
	options.max_processes = pool->config->workers + 2;
	options.durable = pool->config->durable_commits;
	return options;
}

/* The life of a worker process, after the fork; never returns. */
static void __attribute__((noreturn))
worker_main(struct pool *pool)
{
	struct store *store = NULL;
	struct store_options options;
	struct app app;
	sigset_t none;
	char home[CONFIG_PATH_MAX + 8];
	int code;

	/* the supervisor's store handle is not ours: it is never touched here */
	set_handler(SIGTERM, on_worker_stop);
	signal(SIGINT, SIG_IGN);	/* a terminal's ^C is the supervisor's to handle */
	signal(SIGHUP, SIG_IGN);
	signal(SIGPIPE, SIG_IGN);
	signal(SIGCHLD, SIG_DFL);
	signal(SIGALRM, SIG_DFL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	prctl(PR_SET_PDEATHSIG, SIGTERM);
	if (getppid() != pool->supervisor)
		_exit(WORKER_EXIT_OK);

	options = store_options(pool, home, sizeof(home), STORE_JOIN);
	if (store_open(&options, &store) != STATUS_OK)
		_exit(WORKER_EXIT_FAILED);
	app.store = store;
	app.auth = pool->auth;
	code = edge_serve(pool->listen_fd, &app, &worker_stop);
	store_close(store);
	_exit(code);
}

/* Forks a worker into slot i. */
static void
spawn(struct pool *pool, size_t i)
{
	pid_t pid = fork();

	if (pid == -1) {
		log_error("pool: fork: %s", strerror(errno));
		pool->workers[i].respawn_at = time(NULL) + 1;
		return;
	}
	if (pid == 0)
		worker_main(pool);
	pool->workers[i].pid = pid;
	pool->workers[i].started = time(NULL);
	log_info("pool: worker %ld started", (long)pid);
}

/* Fills every empty slot whose back-off has passed. */
static void
spawn_missing(struct pool *pool)
{
	time_t now = time(NULL);

	for (size_t i = 0; i < pool->config->workers; i++)
		if (pool->workers[i].pid == 0 && pool->workers[i].respawn_at <= now)
			spawn(pool, i);
}

/*
 * Stops every worker: SIGTERM, then SIGKILL for any still there after
 * grace seconds. Returns once all are reaped.
 */
static void
stop_workers(struct pool *pool, int grace)
{
	struct timespec pause = { 0, 10 * 1000 * 1000 };
	time_t deadline = time(NULL) + grace;
	size_t alive;

	for (size_t i = 0; i < pool->config->workers; i++)
		if (pool->workers[i].pid != 0)
			kill(pool->workers[i].pid, SIGTERM);
	do {
		alive = 0;
		for (size_t i = 0; i < pool->config->workers; i++) {
			struct worker *w = &pool->workers[i];

			if (w->pid == 0)
				continue;
			if (waitpid(w->pid, NULL, WNOHANG) == w->pid)
				w->pid = 0;
			else if (time(NULL) >= deadline) {
				log_warn("pool: worker %ld did not stop; killing it",
				    (long)w->pid);
				kill(w->pid, SIGKILL);
				waitpid(w->pid, NULL, 0);
				w->pid = 0;
			} else
				alive++;
		}
		if (alive > 0)
			nanosleep(&pause, NULL);
	} while (alive > 0);
}

/* Opens the store with recovery; only ever with no worker attached. */
static enum status
recover_store(struct pool *pool)
{
	struct store_options options;
	char home[CONFIG_PATH_MAX + 8];

	options = store_options(pool, home, sizeof(home), STORE_RECOVER);
	return store_open(&options, &pool->store);
}

/* Stops the pool, recovers the store and starts the pool again. */
static enum status
restart_with_recovery(struct pool *pool)
{
	log_warn("pool: the store needs recovery; restarting every worker");
	stop_workers(pool, 1);
	store_close(pool->store);
	pool->store = NULL;
	if (recover_store(pool) != STATUS_OK)
		return STATUS_UNAVAILABLE;
	for (size_t i = 0; i < pool->config->workers; i++)
		pool->workers[i].respawn_at = 0;
	return STATUS_OK;
}

/*
 * Reaps dead workers, releases what they held in the store, and decides
 * whether the pool needs recovery. Returns STATUS_UNAVAILABLE when the
 * store could not be brought back.
 */
static enum status
reap(struct pool *pool)
{
	bool any = false, recover = false;
	time_t now = time(NULL);
	pid_t pid;
	int wstatus;

	while ((pid = waitpid(-1, &wstatus, WNOHANG)) > 0) {
		for (size_t i = 0; i < pool->config->workers; i++) {
			struct worker *w = &pool->workers[i];

			if (w->pid != pid)
				continue;
			w->pid = 0;
			/* a worker that dies young is not replaced at once */
			w->respawn_at = now - w->started < 1 ? now + 1 : now;
			any = true;
		}
		if (WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == WORKER_EXIT_RECOVER)
			recover = true;
		if (WIFSIGNALED(wstatus))
			log_warn("pool: worker %ld was killed by signal %d",
			    (long)pid, WTERMSIG(wstatus));
		else
			log_warn("pool: worker %ld exited with status %d",
			    (long)pid, WEXITSTATUS(wstatus));
	}
	if (!any)
		return STATUS_OK;
	if (!recover && store_failchk(pool->store) == STATUS_UNAVAILABLE)
		recover = true;
	if (recover)
		return restart_with_recovery(pool);
	return STATUS_OK;
}

/* Once a second: expire lock waits; every checkpoint_seconds: checkpoint. */
static void
maintain(struct pool *pool)
{
	pool->ticks++;
	store_expire_locks(pool->store);
	if (pool->ticks % pool->config->checkpoint_seconds == 0)
		store_checkpoint(pool->store);
}

/* Creates dir with mode unless it exists; false (logged) on failure. */
static bool
make_dir(const char *dir, mode_t mode)
{
	if (mkdir(dir, mode) == 0 || errno == EEXIST)
		return true;
	log_error("pool: cannot create %s: %s", dir, strerror(errno));
	return false;
}

/*
 * Creates the data directory's layout and takes its lock, waiting a little
 * for an instance that is stopping. Returns the lock's descriptor, or -1.
 */
static int
prepare_data_dir(const struct config *config)
{
	char path[CONFIG_PATH_MAX + 32];
	int fd, waited;

	/* run/ is entered by nginx's workers to reach the socket */
	snprintf(path, sizeof(path), "%s", config->data_dir);
	if (!make_dir(path, 0711))
		return -1;
	snprintf(path, sizeof(path), "%s/db", config->data_dir);
	if (!make_dir(path, 0700))
		return -1;
	snprintf(path, sizeof(path), "%s/run", config->data_dir);
	if (!make_dir(path, 0711))
		return -1;
	snprintf(path, sizeof(path), "%s/releasemgr.lock", config->data_dir);
	if ((fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) == -1) {
		log_error("pool: cannot open %s: %s", path, strerror(errno));
		return -1;
	}
	for (waited = 0; flock(fd, LOCK_EX | LOCK_NB) == -1; waited++) {
		if (errno != EWOULDBLOCK || waited == LOCK_WAIT_SECONDS * 10) {
			log_error("pool: %s is in use by another releasemgr",
			    config->data_dir);
			close(fd);
			return -1;
		}
		usleep(100 * 1000);
	}
	return fd;
}

/* Listens on the unix socket at path, replacing a stale one. */
static int
listen_unix(const char *path)
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
	    chmod(path, 0666) == -1 || listen(fd, LISTEN_BACKLOG) == -1)
		goto fail;
	return fd;
fail:
	log_error("pool: cannot listen on %s: %s", path, strerror(errno));
	if (fd != -1)
		close(fd);
	return -1;
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
	struct itimerval tick = { { 1, 0 }, { 1, 0 } };
	sigset_t blocked, waiting;
	int code = 1;

	memset(&pool, 0, sizeof(pool));
	pool.config = config;
	pool.auth = auth;
	pool.listen_fd = -1;
	pool.supervisor = getpid();
	umask(077);

	sigemptyset(&blocked);
	sigaddset(&blocked, SIGCHLD);
	sigaddset(&blocked, SIGTERM);
	sigaddset(&blocked, SIGINT);
	sigaddset(&blocked, SIGALRM);
	sigprocmask(SIG_BLOCK, &blocked, &waiting);
	sigdelset(&waiting, SIGCHLD);
	sigdelset(&waiting, SIGTERM);
	sigdelset(&waiting, SIGINT);
	sigdelset(&waiting, SIGALRM);
	set_handler(SIGCHLD, on_child);
	set_handler(SIGTERM, on_stop);
	set_handler(SIGINT, on_stop);
	set_handler(SIGALRM, on_tick);
	signal(SIGPIPE, SIG_IGN);
	signal(SIGHUP, SIG_IGN);

	if ((pool.workers = calloc(config->workers, sizeof(*pool.workers))) == NULL)
		goto done;
	if ((pool.lock_fd = prepare_data_dir(config)) == -1)
		goto done;
	if (recover_store(&pool) != STATUS_OK)
		goto done;
	if ((pool.listen_fd = listen_unix(config->socket_path)) == -1)
		goto done;
	spawn_missing(&pool);
	write_pid_file(&pool);
	setitimer(ITIMER_REAL, &tick, NULL);
	log_info("pool: serving on %s with %u workers", config->socket_path,
	    config->workers);

	while (!got_stop) {
		sigsuspend(&waiting);
		if (got_child) {
			got_child = 0;
			if (reap(&pool) != STATUS_OK) {
				log_error("pool: recovery failed; stopping");
				goto done;
			}
			spawn_missing(&pool);
		}
		if (got_tick) {
			got_tick = 0;
			maintain(&pool);
			spawn_missing(&pool);
		}
	}
	log_info("pool: stopping; in-flight requests finish first");
	code = 0;
done:
	if (pool.listen_fd != -1)
		shutdown(pool.listen_fd, SHUT_RDWR);	/* wakes workers in accept */
	if (pool.workers != NULL)
		stop_workers(&pool, STOP_GRACE_SECONDS);
	if (pool.store != NULL) {
		store_checkpoint(pool.store);
		store_close(pool.store);
	}
	if (pool.listen_fd != -1) {
		close(pool.listen_fd);
		unlink(config->socket_path);
	}
	if (pool.pid_path[0] != '\0')
		unlink(pool.pid_path);
	if (pool.lock_fd > 0)
		close(pool.lock_fd);
	free(pool.workers);
	log_info("pool: stopped");
	return code;
}
