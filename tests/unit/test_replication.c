/*
 * The replication suite: a store that is a group of one site, in this
 * process, as the pool's replication process opens it. Its reports are
 * recorded a batch to a transaction: threads deploying at once must each
 * get their own answer, a report refused in a batch must be undone alone,
 * and the history must come out as if they had been one at a time.
 */
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "store.h"
#include "tests.h"

#define THREADS		8
#define DEPLOYS		40	/* per thread */

static struct {
	char		 dir[64];
	struct store	*store;
} fx;

/* A TCP port of 127.0.0.1 that nothing listens on now. */
static unsigned
free_port(void)
{
	struct sockaddr_in address;
	socklen_t len = sizeof(address);
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	unsigned port = 0;

	memset(&address, 0, sizeof(address));
	address.sin_family = AF_INET;
	address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd != -1 && bind(fd, (struct sockaddr *)&address, len) == 0 &&
	    getsockname(fd, (struct sockaddr *)&address, &len) == 0)
		port = ntohs(address.sin_port);
	if (fd != -1)
		close(fd);
	return port;
}

/* Opens fx.store as the replication process of a new group of one. */
static void
replication_setup(void)
{
	static struct replication_options replication;
	struct timespec pause = { 0, 20 * 1000 * 1000 };
	struct store_options options;
	struct store *recovered = NULL;
	enum status status = STATUS_SYSTEM;

	fx.store = NULL;
	if (!temp_dir_create(fx.dir, sizeof(fx.dir)))
		return;
	memset(&replication, 0, sizeof(replication));
	snprintf(replication.site.host, sizeof(replication.site.host),
	    "127.0.0.1");
	replication.site.port = free_port();
	replication.priority = 100;
	replication.ack_timeout_ms = 1000;
	replication.heartbeat_ms = 500;
	replication.message_threads = 4;
	replication.create_group = true;
	options = test_store_options(fx.dir, STORE_RECOVER);
	options.replication = &replication;
	/* the pool's supervisor recovers alone, then the replication process joins */
	if (store_open(&options, &recovered) == STATUS_OK) {
		store_close(recovered);
		options.role = STORE_REPLICATION;
		status = store_open(&options, &fx.store);
	}
	for (int i = 0; status == STATUS_OK && i < 250; i++) {
		if ((status = store_await_databases(fx.store)) != STATUS_BUSY)
			break;
		nanosleep(&pause, NULL);
	}
	CHECK(status == STATUS_OK, "a group of one opened: %s",
	    status_name(status));
	if (status != STATUS_OK) {
		store_close(fx.store);
		fx.store = NULL;
	}
}

static void
replication_teardown(void)
{
	test_store_destroy(fx.store, fx.dir);
	fx.store = NULL;
}

/* What one deploying thread does and gets. */
struct deployer {
	pthread_t	thread;
	unsigned	number;
	unsigned	applied;	/* answered 200, applied */
	unsigned	conflicts;	/* answered 409, as they must be */
	unsigned	wrong;		/* any other answer */
	uint64_t	versions[DEPLOYS];	/* system versions answered */
};

/*
 * Deploys DEPLOYS versions of its own service; every fifth report reuses
 * the eventId of the one before with another version, which must be
 * refused (STATUS_CONFLICT) without undoing the reports around it.
 */
static void *
deploy_loop(void *arg)
{
	struct deployer *d = arg;

	for (unsigned i = 0; i < DEPLOYS; i++) {
		struct deploy deploy;
		struct deploy_result result;
		enum status status;
		bool reuse = i % 5 == 4;

		memset(&deploy, 0, sizeof(deploy));
		memcpy(deploy.environment, "default", 8);
		deploy.name_len = (size_t)snprintf(deploy.name,
		    sizeof(deploy.name), "svc-%u", d->number);
		deploy.version = i + 1;
		deploy.key.has_event_id = true;
		deploy.key.event_id_len = (size_t)snprintf(deploy.key.event_id,
		    sizeof(deploy.key.event_id), "e-%u-%u", d->number,
		    reuse ? i - 1 : i);
		status = store_deploy(fx.store, &deploy, &result);
		if (reuse && status == STATUS_CONFLICT)
			d->conflicts++;
		else if (!reuse && status == STATUS_OK &&
		    result.outcome == OUTCOME_APPLIED)
			d->versions[d->applied++] = result.system_version;
		else
			d->wrong++;
	}
	return NULL;
}

static void
test_batches(void)
{
	static struct deployer deployers[THREADS];
	struct environment_state state;
	bool seen[THREADS * DEPLOYS + 1];
	unsigned applied = 0, gaps = 0;

	REQUIRE_STORE(fx.store);
	memset(seen, 0, sizeof(seen));
	for (unsigned t = 0; t < THREADS; t++) {
		memset(&deployers[t], 0, sizeof(deployers[t]));
		deployers[t].number = t;
		pthread_create(&deployers[t].thread, NULL, deploy_loop,
		    &deployers[t]);
	}
	for (unsigned t = 0; t < THREADS; t++) {
		pthread_join(deployers[t].thread, NULL);
		CHECK(deployers[t].wrong == 0 && deployers[t].conflicts ==
		    DEPLOYS / 5, "thread %u: %u wrong answers, %u conflicts",
		    t, deployers[t].wrong, deployers[t].conflicts);
		applied += deployers[t].applied;
		for (unsigned i = 0; i < deployers[t].applied; i++) {
			uint64_t v = deployers[t].versions[i];

			if (v == 0 || v > THREADS * DEPLOYS || seen[v])
				gaps++;
			else
				seen[v] = true;
			/* a thread's own deploys follow one another */
			if (i > 0 && v <= deployers[t].versions[i - 1])
				gaps++;
		}
	}
	CHECK(gaps == 0, "%u system versions answered twice, out of range or "
	    "out of order", gaps);
	CHECK(store_current(fx.store, "default", &state) == STATUS_OK &&
	    state.system_version == applied, "the current version %llu, for "
	    "%u applied", (unsigned long long)state.system_version, applied);
	for (uint64_t v = 1; v <= applied; v++)
		if (!seen[v])
			gaps++;
	CHECK(gaps == 0, "%u system versions were answered to nobody", gaps);
}

/* GET /cluster of a group of one: its master, with no peers. */
static void
test_group_of_one(void)
{
	struct cluster_view view;

	REQUIRE_STORE(fx.store);
	CHECK(store_cluster(fx.store, &view) == STATUS_OK && view.replicated &&
	    view.role == SITE_ROLE_MASTER && view.has_master &&
	    strcmp(view.site, view.master) == 0 && view.peer_count == 0,
	    "the view: role %d, site %s, master %s, %zu peers", view.role,
	    view.site, view.master, view.peer_count);
	CHECK(store_catch_up(fx.store, "default", 5) == STATUS_NOT_FOUND,
	    "the master catches up with nothing");
}

static const CU_TestInfo replication_tests[] = {
	{ "a group of one", test_group_of_one },
	{ "threads deploying at once share batches", test_batches },
	CU_TEST_INFO_NULL,
};

int
add_replication_suite(void)
{
	return add_suite_with_tests("replication", replication_setup,
	    replication_teardown, replication_tests);
}
