/*
 * The store suite: every test runs on a fresh Berkeley DB environment in
 * its own temporary directory (made by the setup, removed by the
 * teardown), opened as the supervisor opens it (STORE_RECOVER).
 */
#define _GNU_SOURCE		/* fallocate() */
#include <db.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store.h"
#include "tests.h"

/* The environment of the running test. */
static struct {
	char		 dir[64];
	struct store	*store;
} fx;

static void
store_setup(void)
{
	fx.store = test_store_create(fx.dir, sizeof(fx.dir));
}

static void
store_teardown(void)
{
	test_store_destroy(fx.store, fx.dir);
	fx.store = NULL;
}

/*
 * Reports len bytes of name into environment: deployed at version, or
 * with removal, removed.
 */
static enum status
report_to(struct store *store, const char *environment, const char *name,
    size_t len, bool removal, uint64_t version, struct deploy_result *result)
{
	struct deploy d;

	memset(&d, 0, sizeof(d));
	snprintf(d.environment, sizeof(d.environment), "%s", environment);
	memcpy(d.name, name, len);
	d.name_len = len;
	d.removal = removal;
	d.version = version;
	memset(result, 0xA5, sizeof(*result));
	return store_deploy(store, &d, result);
}

/* Deploys len bytes of name at version into environment. */
static enum status
deploy_to(struct store *store, const char *environment, const char *name,
    size_t len, uint64_t version, struct deploy_result *result)
{
	return report_to(store, environment, name, len, false, version,
	    result);
}

/* Deploys and checks the system version answered and whether it changed. */
static void
expect_deploy(struct store *store, const char *environment, const char *name,
    uint64_t version, uint64_t system_version, bool changed)
{
	struct deploy_result r;
	enum status status;

	status = deploy_to(store, environment, name, strlen(name), version, &r);
	CHECK(status == STATUS_OK && r.system_version == system_version &&
	    r.changed == changed, "deploy %s/%s %llu: got %s, system version "
	    "%llu, changed %d; expected system version %llu, changed %d",
	    environment, name, (unsigned long long)version, status_name(status),
	    (unsigned long long)r.system_version, (int)r.changed,
	    (unsigned long long)system_version, (int)changed);
}

/* One expected service of a snapshot. */
struct pair {
	const char	*name;
	size_t		 len;		/* 0: strlen(name) */
	uint64_t	 version;
};

/* Describes a list as "name=version, ..." into buf. */
static const char *
describe(const struct service_list *list, char *buf, size_t cap)
{
	size_t n = 0;
	char shown[128];

	buf[0] = '\0';
	for (size_t i = 0; i < list->count && n + 1 < cap; i++) {
		int w = snprintf(buf + n, cap - n, "%s%s=%llu", i ? ", " : "",
		    printable(service_list_name(list, i),
		    list->items[i].name_len > 40 ? 40 : list->items[i].name_len,
		    shown, sizeof(shown)),
		    (unsigned long long)list->items[i].version);

		if (w < 0)
			break;
		n += (size_t)w;
	}
	return buf;
}

/* True when list holds exactly the count pairs, in order. */
static bool
list_equals(const struct service_list *list, const struct pair *pairs,
    size_t count)
{
	if (list->count != count)
		return false;
	for (size_t i = 0; i < count; i++) {
		size_t len = pairs[i].len != 0 ? pairs[i].len :
		    strlen(pairs[i].name);

		if (list->items[i].name_len != len ||
		    memcmp(service_list_name(list, i), pairs[i].name, len) != 0 ||
		    list->items[i].version != pairs[i].version)
			return false;
	}
	return true;
}

/* Reads a snapshot and compares it with the expected pairs. */
static void
expect_snapshot(struct store *store, const char *environment,
    uint64_t system_version, const struct pair *pairs, size_t count)
{
	struct service_list list;
	enum status status;
	char got[2048];

	service_list_init(&list);
	status = store_services(store, environment, system_version, &list);
	if (CHECK(status == STATUS_OK, "snapshot %s/%llu: %s", environment,
	    (unsigned long long)system_version, status_name(status)))
		CHECK(list_equals(&list, pairs, count), "snapshot %s/%llu: got "
		    "[%s] (%zu services), expected %zu services", environment,
		    (unsigned long long)system_version,
		    describe(&list, got, sizeof(got)), list.count, count);
	service_list_free(&list);
}

/* Expects STATUS_NOT_FOUND and an emptied list. */
static void
expect_no_snapshot(struct store *store, const char *environment,
    uint64_t system_version)
{
	struct service_list list;
	enum status status;

	service_list_init(&list);
	/* a stale entry that the store must clear */
	CHECK(service_list_append(&list, "stale", 5, 99), "append");
	status = store_services(store, environment, system_version, &list);
	CHECK(status == STATUS_NOT_FOUND && list.count == 0,
	    "snapshot %s/%llu: got %s with %zu services, expected not found",
	    environment, (unsigned long long)system_version,
	    status_name(status), list.count);
	service_list_free(&list);
}

static void
expect_current(struct store *store, const char *environment, uint64_t want)
{
	struct environment_state got = { UINT64_C(0xDEAD), 0 };
	enum status status = store_current(store, environment, &got);

	CHECK(status == STATUS_OK && got.system_version == want &&
	    got.updated_ms > UINT64_C(1700000000000), "current %s: %s %llu "
	    "at %llu ms, expected %llu at a time after 2023",
	    environment, status_name(status),
	    (unsigned long long)got.system_version,
	    (unsigned long long)got.updated_ms, (unsigned long long)want);
}

#define PAIRS(...)	(const struct pair[]){ __VA_ARGS__ }, \
	sizeof((const struct pair[]){ __VA_ARGS__ }) / sizeof(struct pair)

/* The example of the product brief. */
static void
test_seed_example(void)
{
	REQUIRE_STORE(fx.store);
	expect_deploy(fx.store, "default", "Service A", 1, 1, true);
	expect_deploy(fx.store, "default", "Service B", 1, 2, true);
	expect_deploy(fx.store, "default", "Service A", 2, 3, true);
	expect_deploy(fx.store, "default", "Service B", 1, 3, false);

	expect_snapshot(fx.store, "default", 1, PAIRS({ "Service A", 0, 1 }));
	expect_snapshot(fx.store, "default", 2,
	    PAIRS({ "Service A", 0, 1 }, { "Service B", 0, 1 }));
	expect_snapshot(fx.store, "default", 3,
	    PAIRS({ "Service A", 0, 2 }, { "Service B", 0, 1 }));
	/* 0 is the current version */
	expect_snapshot(fx.store, "default", 0,
	    PAIRS({ "Service A", 0, 2 }, { "Service B", 0, 1 }));
	expect_current(fx.store, "default", 3);
	expect_no_snapshot(fx.store, "default", 4);
}

static void
test_unknown_environment(void)
{
	struct environment_state sv = { 77, 0 };

	REQUIRE_STORE(fx.store);
	expect_no_snapshot(fx.store, "default", 0);
	expect_no_snapshot(fx.store, "default", 1);
	CHECK(store_current(fx.store, "default", &sv) == STATUS_NOT_FOUND &&
	    sv.system_version == 77, "current of a new store");

	expect_deploy(fx.store, "prod", "svc", 1, 1, true);
	expect_no_snapshot(fx.store, "default", 0);
	expect_no_snapshot(fx.store, "staging", 1);
	/* prefixes and extensions of a known environment are other environments */
	expect_no_snapshot(fx.store, "pro", 0);
	expect_no_snapshot(fx.store, "prod2", 0);
	expect_no_snapshot(fx.store, "Prod", 1);
	CHECK(store_current(fx.store, "prod-eu", &sv) == STATUS_NOT_FOUND,
	    "current of an unknown environment");
}

static void
test_version_above_current(void)
{
	REQUIRE_STORE(fx.store);
	expect_deploy(fx.store, "default", "svc", 1, 1, true);
	expect_deploy(fx.store, "default", "svc", 2, 2, true);
	expect_no_snapshot(fx.store, "default", 3);
	expect_no_snapshot(fx.store, "default", 1000);
	expect_no_snapshot(fx.store, "default", UINT64_C(9007199254740991));
	expect_snapshot(fx.store, "default", 2, PAIRS({ "svc", 0, 2 }));
}

/*
 * A store of one site: GET /cluster's view is a master with no address
 * and no peers, and a version above the current one is simply not found
 * (no master to ask).
 */
static void
test_one_site(void)
{
	struct cluster_view view;

	REQUIRE_STORE(fx.store);
	memset(&view, 0xA5, sizeof(view));
	CHECK(store_cluster(fx.store, &view) == STATUS_OK && !view.replicated &&
	    view.role == SITE_ROLE_MASTER && !view.has_master &&
	    view.peer_count == 0, "the view of one site");
	expect_deploy(fx.store, "default", "svc", 1, 1, true);
	CHECK(store_catch_up(fx.store, "default", 2) == STATUS_NOT_FOUND,
	    "catching up with nothing");
	CHECK(store_catch_up(fx.store, "nowhere", 0) == STATUS_NOT_FOUND,
	    "catching up with no environment");
	CHECK(store_membership_changes(fx.store) == 0, "no group to change");
}

static void
test_environments_are_separate(void)
{
	REQUIRE_STORE(fx.store);
	expect_deploy(fx.store, "a", "svc", 1, 1, true);
	expect_deploy(fx.store, "b", "svc", 1, 1, true);
	expect_deploy(fx.store, "a", "svc", 2, 2, true);
	expect_deploy(fx.store, "b", "other", 5, 2, true);
	expect_deploy(fx.store, "a-2", "svc", 9, 1, true);
	expect_deploy(fx.store, "b", "svc", 1, 2, false);
	expect_deploy(fx.store, "a", "other", 1, 3, true);
	expect_deploy(fx.store, "b", "svc", 3, 3, true);
	expect_deploy(fx.store, "a", "svc", 2, 3, false);

	expect_current(fx.store, "a", 3);
	expect_current(fx.store, "b", 3);
	expect_current(fx.store, "a-2", 1);
	expect_snapshot(fx.store, "a", 1, PAIRS({ "svc", 0, 1 }));
	expect_snapshot(fx.store, "a", 2, PAIRS({ "svc", 0, 2 }));
	expect_snapshot(fx.store, "a", 3,
	    PAIRS({ "other", 0, 1 }, { "svc", 0, 2 }));
	expect_snapshot(fx.store, "b", 1, PAIRS({ "svc", 0, 1 }));
	expect_snapshot(fx.store, "b", 2,
	    PAIRS({ "other", 0, 5 }, { "svc", 0, 1 }));
	expect_snapshot(fx.store, "b", 3,
	    PAIRS({ "other", 0, 5 }, { "svc", 0, 3 }));
	expect_snapshot(fx.store, "a-2", 1, PAIRS({ "svc", 0, 9 }));
	expect_no_snapshot(fx.store, "a-2", 2);
}

static void
test_unchanged_redeploy(void)
{
	REQUIRE_STORE(fx.store);
	expect_deploy(fx.store, "default", "x", 5, 1, true);
	expect_deploy(fx.store, "default", "x", 5, 1, false);
	expect_deploy(fx.store, "default", "x", 5, 1, false);
	expect_deploy(fx.store, "default", "y", 0, 2, true);
	expect_deploy(fx.store, "default", "x", 5, 2, false);
	expect_deploy(fx.store, "default", "y", 0, 2, false);
	expect_current(fx.store, "default", 2);
	expect_no_snapshot(fx.store, "default", 3);
	expect_snapshot(fx.store, "default", 1, PAIRS({ "x", 0, 5 }));
	expect_snapshot(fx.store, "default", 2,
	    PAIRS({ "x", 0, 5 }, { "y", 0, 0 }));
}

static void
test_rollback_is_a_change(void)
{
	REQUIRE_STORE(fx.store);
	expect_deploy(fx.store, "default", "x", 2, 1, true);
	expect_deploy(fx.store, "default", "x", 1, 2, true);
	expect_deploy(fx.store, "default", "x", 2, 3, true);
	expect_deploy(fx.store, "default", "x", 0, 4, true);
	expect_deploy(fx.store, "default", "x", UINT64_C(9007199254740991), 5,
	    true);
	expect_deploy(fx.store, "default", "x", 0, 6, true);
	expect_snapshot(fx.store, "default", 1, PAIRS({ "x", 0, 2 }));
	expect_snapshot(fx.store, "default", 2, PAIRS({ "x", 0, 1 }));
	expect_snapshot(fx.store, "default", 3, PAIRS({ "x", 0, 2 }));
	expect_snapshot(fx.store, "default", 4, PAIRS({ "x", 0, 0 }));
	expect_snapshot(fx.store, "default", 5,
	    PAIRS({ "x", 0, UINT64_C(9007199254740991) }));
	expect_snapshot(fx.store, "default", 6, PAIRS({ "x", 0, 0 }));
}

/* Names that are prefixes of each other sort bytewise and stay apart. */
static void
test_prefix_names(void)
{
	REQUIRE_STORE(fx.store);
	expect_deploy(fx.store, "default", "AB", 1, 1, true);
	expect_deploy(fx.store, "default", "A\xc3\xa9", 2, 2, true);
	expect_deploy(fx.store, "default", "A", 3, 3, true);
	expect_deploy(fx.store, "default", "A B", 4, 4, true);
	expect_deploy(fx.store, "default", "A ", 5, 5, true);
	expect_deploy(fx.store, "default", "A", 30, 6, true);
	expect_deploy(fx.store, "default", "AB", 1, 6, false);
	expect_deploy(fx.store, "default", "ABC", 7, 7, true);
	expect_deploy(fx.store, "default", "a", 8, 8, true);

	expect_snapshot(fx.store, "default", 1, PAIRS({ "AB", 0, 1 }));
	expect_snapshot(fx.store, "default", 3, PAIRS({ "A", 0, 3 },
	    { "AB", 0, 1 }, { "A\xc3\xa9", 0, 2 }));
	expect_snapshot(fx.store, "default", 5, PAIRS({ "A", 0, 3 },
	    { "A ", 0, 5 }, { "A B", 0, 4 }, { "AB", 0, 1 },
	    { "A\xc3\xa9", 0, 2 }));
	expect_snapshot(fx.store, "default", 8, PAIRS({ "A", 0, 30 },
	    { "A ", 0, 5 }, { "A B", 0, 4 }, { "AB", 0, 1 },
	    { "ABC", 0, 7 }, { "A\xc3\xa9", 0, 2 }, { "a", 0, 8 }));
}

/* Names of the longest size, differing only in their last byte. */
static void
test_longest_names(void)
{
	char a[SERVICE_NAME_MAX], b[SERVICE_NAME_MAX], e[SERVICE_NAME_MAX];
	struct deploy_result r;
	enum status status;

	REQUIRE_STORE(fx.store);
	memset(a, 'n', sizeof(a));
	memcpy(b, a, sizeof(b));
	b[sizeof(b) - 1] = 'o';
	for (size_t i = 0; i < sizeof(e); i += 2)
		memcpy(e + i, "\xc3\xa9", 2);
	status = deploy_to(fx.store, "default", b, sizeof(b), 2, &r);
	CHECK(status == STATUS_OK && r.system_version == 1, "deploy b: %s",
	    status_name(status));
	status = deploy_to(fx.store, "default", a, sizeof(a), 1, &r);
	CHECK(status == STATUS_OK && r.system_version == 2, "deploy a: %s",
	    status_name(status));
	status = deploy_to(fx.store, "default", e, sizeof(e), 3, &r);
	CHECK(status == STATUS_OK && r.system_version == 3, "deploy e: %s",
	    status_name(status));
	status = deploy_to(fx.store, "default", a, sizeof(a), 1, &r);
	CHECK(status == STATUS_OK && r.system_version == 3 && !r.changed,
	    "redeploy a: %s", status_name(status));

	expect_snapshot(fx.store, "default", 1, PAIRS({ b, sizeof(b), 2 }));
	expect_snapshot(fx.store, "default", 3, PAIRS({ a, sizeof(a), 1 },
	    { b, sizeof(b), 2 }, { e, sizeof(e), 3 }));
}

/*
 * The model test: a pseudo-random sequence of deploys and removals over
 * MODEL_SERVICES services in MODEL_ENVS environments, replayed on an
 * in-memory model;
 * every answer and every snapshot of every version must match it.
 */
#define MODEL_ENVS	3
#define MODEL_SERVICES	40
#define MODEL_DEPLOYS	500

static const char *const model_envs[MODEL_ENVS] = { "default", "prod", "prod-eu" };

static const char *const model_names[MODEL_SERVICES] = {
	"api", "api-gateway", "api gateway", "api_gateway", "Api", "API",
	"auth", "auth-v2", "auth\xc3\xa9", "billing", "billing worker",
	"cache", "cdn", "cron", "db", "db-replica", "db replica", "dns",
	"edge", "email", "feed", "gateway", "i", "id", "ids", "index",
	"jobs", "kafka", "ledger", "mail", "metrics", "\xc3\xa9tat",
	"queue", "search", "search!", "search/index", "svc", "z",
	"\xe2\x82\xac-pay", "\xf0\x9f\x98\x80 emoji",
};

/* A deterministic generator (Knuth's MMIX LCG), so that a failure repeats. */
static uint64_t
next_random(uint64_t *state)
{
	*state = *state * UINT64_C(6364136223846793005) +
	    UINT64_C(1442695040888963407);
	return *state >> 33;
}

static int
compare_model_names(const void *x, const void *y)
{
	const char *a = model_names[*(const size_t *)x];
	const char *b = model_names[*(const size_t *)y];
	size_t la = strlen(a), lb = strlen(b);
	int c = memcmp(a, b, la < lb ? la : lb);

	return c != 0 ? c : la < lb ? -1 : la > lb;
}

/* The model: versions[env][system version][service], -1 when absent. */
static int64_t model[MODEL_ENVS][MODEL_DEPLOYS + 1][MODEL_SERVICES];

/*
 * Checks every snapshot of every environment, and the current one, against
 * the model after current[e] versions of each.
 */
static void
check_model(const size_t order[MODEL_SERVICES],
    const uint64_t current[MODEL_ENVS])
{
	struct service_list list;
	char got[4096];

	service_list_init(&list);
	for (size_t e = 0; e < MODEL_ENVS; e++) {
		unsigned wrong = 0;

		expect_current(fx.store, model_envs[e], current[e]);
		for (uint64_t v = 0; v <= current[e]; v++) {
			/* 0 asks for the current version */
			uint64_t sv = v == 0 ? current[e] : v;
			struct pair pairs[MODEL_SERVICES];
			size_t count = 0;
			enum status status;

			if (current[e] == 0)
				break;
			for (size_t k = 0; k < MODEL_SERVICES; k++) {
				int64_t version = model[e][sv][order[k]];

				if (version < 0)
					continue;
				pairs[count].name = model_names[order[k]];
				pairs[count].len = 0;
				pairs[count].version = (uint64_t)version;
				count++;
			}
			status = store_services(fx.store, model_envs[e], v, &list);
			if (!CHECK(status == STATUS_OK &&
			    list_equals(&list, pairs, count), "snapshot %s/%llu: "
			    "%s [%s] (%zu services), model %zu services",
			    model_envs[e], (unsigned long long)v,
			    status_name(status), describe(&list, got, sizeof(got)),
			    list.count, count) && ++wrong >= 5)
				break;
		}
		expect_no_snapshot(fx.store, model_envs[e], current[e] + 1);
	}
	service_list_free(&list);
}

static void
test_model_replay(void)
{
	uint64_t state = UINT64_C(20261122), current[MODEL_ENVS] = { 0 };
	size_t order[MODEL_SERVICES];
	unsigned wrong_answers = 0, changes = 0, unchanged = 0, removals = 0;

	REQUIRE_STORE(fx.store);
	for (size_t i = 0; i < MODEL_SERVICES; i++)
		order[i] = i;
	qsort(order, MODEL_SERVICES, sizeof(order[0]), compare_model_names);
	memset(model, 0xFF, sizeof(model));	/* every entry -1 */

	for (unsigned step = 0; step < MODEL_DEPLOYS; step++) {
		size_t e = next_random(&state) % MODEL_ENVS;
		size_t s = next_random(&state) % MODEL_SERVICES;
		uint64_t r = next_random(&state) % 50;
		uint64_t version = r == 0 ? UINT64_C(9007199254740991) : r % 5;
		/* one report in ten removes the service */
		bool removal = r >= 45;
		int64_t *now = model[e][current[e]];
		int64_t after = removal ? -1 : (int64_t)version;
		bool changed = now[s] != after;
		struct deploy_result result;
		enum status status, want;

		if (changed) {
			current[e]++;
			memcpy(model[e][current[e]], now, sizeof(model[e][0]));
			model[e][current[e]][s] = after;
			changes++;
			removals += removal;
		} else
			unchanged++;
		/* the removal of an absent service is not found */
		want = removal && !changed ? STATUS_NOT_FOUND : STATUS_OK;
		status = report_to(fx.store, model_envs[e], model_names[s],
		    strlen(model_names[s]), removal, removal ? 0 : version,
		    &result);
		if (status != STATUS_OK)
			memset(&result, 0, sizeof(result));	/* not filled in */
		if (!CHECK(status == want && (want != STATUS_OK ||
		    (result.system_version == current[e] &&
		    result.changed == changed)), "step %u: %s %s/%s %llu: %s, "
		    "system version %llu changed %d; model: %llu changed %d",
		    step, removal ? "remove" : "deploy", model_envs[e],
		    model_names[s], (unsigned long long)version,
		    status_name(status),
		    (unsigned long long)result.system_version,
		    (int)result.changed, (unsigned long long)current[e],
		    (int)changed) && ++wrong_answers >= 5)
			return;
		/*
		 * reads between deploys: keyframes cached, then passed by
		 * the ones written after them
		 */
		if (step % 50 == 49)
			check_model(order, current);
	}
	/* the sequence exercises every outcome */
	CHECK(changes > 100 && unchanged > 20 && removals > 20,
	    "%u changes (%u removals), %u unchanged", changes, removals,
	    unchanged);

	check_model(order, current);
}

/* True when two changes say the same, field by field. */
static bool
same_change(const struct change_record *a, const struct change_record *b)
{
	return a->system_version == b->system_version &&
	    a->created_ms == b->created_ms && a->name_len == b->name_len &&
	    memcmp(a->name, b->name, a->name_len) == 0 &&
	    a->version == b->version && a->has_previous == b->has_previous &&
	    (!a->has_previous || a->previous == b->previous);
}

/*
 * Ten versions of "default" over three services, and keyframes at 3, 6
 * and 9 (every 3 versions in the tests, as long as there are at most 3
 * services), then one version of another environment, "later".
 */
static void
seed_ten_versions(void)
{
	static const char *const names[] = { "api", "db", "web" };

	for (uint64_t v = 1; v <= 10; v++)
		expect_deploy(fx.store, "default", names[v % 3], v, v, true);
	expect_deploy(fx.store, "later", "svc", 1, 1, true);
}

/*
 * store_changes() walks the history in batches of every size, across
 * keyframes (one every 3 versions here), answering what store_change()
 * does version by version; it stops at the current version, before the
 * next environment's changes, and never reads past it.
 */
static void
test_changes_in_batches(void)
{
	static const size_t limits[] = { 1, 2, 3, 4, 9, 10, 11, 64 };
	struct change_record *batch = NULL, one;
	size_t count = 99;
	enum status status;

	REQUIRE_STORE(fx.store);
	seed_ten_versions();
	if (!CHECK((batch = calloc(64, sizeof(*batch))) != NULL, "calloc"))
		return;
	for (size_t i = 0; i < sizeof(limits) / sizeof(*limits); i++) {
		uint64_t after = 0;

		do {
			size_t expected = 10 - after < limits[i] ?
			    (size_t)(10 - after) : limits[i];

			status = store_changes(fx.store, "default", after,
			    limits[i], batch, &count);
			if (!CHECK(status == STATUS_OK && count == expected,
			    "limit %zu after %llu: %s, %zu changes, expected "
			    "%zu", limits[i], (unsigned long long)after,
			    status_name(status), count, expected))
				break;
			for (size_t k = 0; k < count; k++)
				CHECK(store_change(fx.store, "default",
				    after + 1 + k, &one) == STATUS_OK &&
				    same_change(&batch[k], &one), "limit %zu: "
				    "version %llu", limits[i],
				    (unsigned long long)(after + 1 + k));
			after += count;
		} while (count > 0);
		CHECK(after == 10, "limit %zu: %llu versions walked", limits[i],
		    (unsigned long long)after);
	}
	status = store_changes(fx.store, "default", 5, 1, batch, &count);
	CHECK(status == STATUS_OK && count == 1 &&
	    batch[0].system_version == 6 && batch[0].version == 6 &&
	    batch[0].name_len == 3 && memcmp(batch[0].name, "api", 3) == 0 &&
	    batch[0].has_previous && batch[0].previous == 3,
	    "one change in the middle");
	status = store_changes(fx.store, "default", 10, 5, batch, &count);
	CHECK(status == STATUS_OK && count == 0, "after the current version");
	status = store_changes(fx.store, "default", 99, 5, batch, &count);
	CHECK(status == STATUS_OK && count == 0, "far past the current version");
	status = store_changes(fx.store, "later", 0, 64, batch, &count);
	CHECK(status == STATUS_OK && count == 1 &&
	    batch[0].system_version == 1 && !batch[0].has_previous,
	    "the last environment's one change");
	count = 99;
	status = store_changes(fx.store, "nowhere", 0, 5, batch, &count);
	CHECK(status == STATUS_NOT_FOUND && count == 0,
	    "an unknown environment: %s", status_name(status));
	free(batch);
}

/* store_keyframe_versions() lists an environment's keyframes, only its own. */
static void
test_keyframe_versions(void)
{
	uint64_t *versions = NULL;
	size_t count = 99;
	enum status status;

	REQUIRE_STORE(fx.store);
	seed_ten_versions();
	status = store_keyframe_versions(fx.store, "default", &versions, &count);
	CHECK(status == STATUS_OK && count == 3 && versions != NULL &&
	    versions[0] == 3 && versions[1] == 6 && versions[2] == 9,
	    "default: %s, %zu keyframes", status_name(status), count);
	free(versions);
	versions = NULL;
	status = store_keyframe_versions(fx.store, "later", &versions, &count);
	CHECK(status == STATUS_OK && count == 0 && versions == NULL,
	    "later: %s, %zu keyframes", status_name(status), count);
	status = store_keyframe_versions(fx.store, "nowhere", &versions, &count);
	CHECK(status == STATUS_NOT_FOUND && count == 0 && versions == NULL,
	    "nowhere: %s", status_name(status));
}

/* Closing and opening again (with recovery) keeps every version. */
static void
test_reopen_keeps_everything(void)
{
	struct store_options options = test_store_options(fx.dir, STORE_RECOVER);
	enum status status;

	REQUIRE_STORE(fx.store);
	expect_deploy(fx.store, "default", "Service A", 1, 1, true);
	expect_deploy(fx.store, "default", "Service B", 1, 2, true);
	expect_deploy(fx.store, "prod", "Service A", 7, 1, true);
	expect_deploy(fx.store, "default", "Service A", 2, 3, true);
	store_close(fx.store);
	fx.store = NULL;

	status = store_open(&options, &fx.store);
	if (!CHECK(status == STATUS_OK && fx.store != NULL, "reopen: %s",
	    status_name(status)))
		return;
	expect_current(fx.store, "default", 3);
	expect_current(fx.store, "prod", 1);
	expect_snapshot(fx.store, "default", 1, PAIRS({ "Service A", 0, 1 }));
	expect_snapshot(fx.store, "default", 2,
	    PAIRS({ "Service A", 0, 1 }, { "Service B", 0, 1 }));
	expect_snapshot(fx.store, "default", 3,
	    PAIRS({ "Service A", 0, 2 }, { "Service B", 0, 1 }));
	expect_snapshot(fx.store, "prod", 1, PAIRS({ "Service A", 0, 7 }));
	/* and it goes on from where it was */
	expect_deploy(fx.store, "default", "Service B", 1, 3, false);
	expect_deploy(fx.store, "default", "Service C", 1, 4, true);
	expect_deploy(fx.store, "prod", "Service A", 8, 2, true);
	expect_deploy(fx.store, "staging", "Service A", 1, 1, true);

	/* twice, with a checkpoint in between */
	CHECK(store_checkpoint(fx.store) == STATUS_OK, "checkpoint");
	store_close(fx.store);
	fx.store = NULL;
	status = store_open(&options, &fx.store);
	if (!CHECK(status == STATUS_OK && fx.store != NULL, "reopen: %s",
	    status_name(status)))
		return;
	expect_snapshot(fx.store, "default", 4, PAIRS({ "Service A", 0, 2 },
	    { "Service B", 0, 1 }, { "Service C", 0, 1 }));
	expect_snapshot(fx.store, "prod", 2, PAIRS({ "Service A", 0, 8 }));
	expect_snapshot(fx.store, "staging", 1, PAIRS({ "Service A", 0, 1 }));
}

/* A worker's handle (STORE_JOIN) shares the environment with the first. */
static void
test_join_shares_data(void)
{
	struct store_options options = test_store_options(fx.dir, STORE_JOIN);
	struct store *worker = NULL;
	enum status status;

	REQUIRE_STORE(fx.store);
	expect_deploy(fx.store, "default", "svc", 1, 1, true);
	status = store_open(&options, &worker);
	if (!CHECK(status == STATUS_OK && worker != NULL, "join: %s",
	    status_name(status)))
		return;
	expect_current(worker, "default", 1);
	expect_snapshot(worker, "default", 1, PAIRS({ "svc", 0, 1 }));
	/* each sees what the other writes */
	expect_deploy(worker, "default", "svc", 2, 2, true);
	expect_deploy(fx.store, "default", "svc", 2, 2, false);
	expect_deploy(fx.store, "default", "other", 1, 3, true);
	expect_snapshot(worker, "default", 3,
	    PAIRS({ "other", 0, 1 }, { "svc", 0, 2 }));
	expect_snapshot(fx.store, "default", 2, PAIRS({ "svc", 0, 2 }));
	CHECK(!store_needs_recovery(worker), "the worker needs no recovery");
	store_close(worker);
	expect_snapshot(fx.store, "default", 3,
	    PAIRS({ "other", 0, 1 }, { "svc", 0, 2 }));
}

static void
test_open_failures(void)
{
	static char sentinel;
	char other[128];
	struct store_options options;
	struct store *store;
	enum status status;

	REQUIRE_STORE(fx.store);
	/* a home that does not exist */
	snprintf(other, sizeof(other), "%s/missing", fx.dir);
	options = test_store_options(other, STORE_RECOVER);
	store = (struct store *)(void *)&sentinel;
	status = store_open(&options, &store);
	CHECK(status != STATUS_OK && store == NULL,
	    "open a missing home: %s", status_name(status));
	if (status == STATUS_OK)
		store_close(store);
	/* joining a directory where no environment was created */
	if (temp_dir_create(other, sizeof(other))) {
		options = test_store_options(other, STORE_JOIN);
		store = (struct store *)(void *)&sentinel;
		status = store_open(&options, &store);
		CHECK(status != STATUS_OK && store == NULL,
		    "join an empty directory: %s", status_name(status));
		if (status == STATUS_OK)
			store_close(store);
		temp_dir_remove(other);
	}
	store_close(NULL);	/* accepted */
}

/*
 * The cache asked for is the cache the environment gets, up to the largest
 * cache_mb the configuration accepts (4096). The store's API does not show
 * it, so it is read back through a Berkeley DB handle joined to the
 * environment: the one place the tests look behind store.h.
 */
static void
test_cache_size(void)
{
	static const unsigned sizes_mb[] = { 4, 4095, 4096 };

	for (size_t i = 0; i < sizeof(sizes_mb) / sizeof(sizes_mb[0]); i++) {
		char dir[64];
		struct store_options options;
		struct store *store = NULL;
		DB_ENV *env = NULL;
		u_int32_t gbytes = 0, bytes = 0;
		int ncache = 0, rc;
		uint64_t got;
		enum status status;

		if (!temp_dir_create(dir, sizeof(dir)))
			return;
		options = test_store_options(dir, STORE_RECOVER);
		options.cache_mb = sizes_mb[i];
		status = store_open(&options, &store);
		if (CHECK(status == STATUS_OK, "open with cache_mb %u: %s",
		    sizes_mb[i], status_name(status))) {
			if ((rc = db_env_create(&env, 0)) == 0 &&
			    (rc = env->open(env, dir, DB_JOINENV, 0)) == 0)
				rc = env->get_cachesize(env, &gbytes, &bytes,
				    &ncache);
			got = (uint64_t)gbytes << 30 | bytes;
			CHECK(rc == 0 && got >= (uint64_t)sizes_mb[i] << 20,
			    "cache_mb %u: the environment has a cache of %llu "
			    "bytes (%s)", sizes_mb[i], (unsigned long long)got,
			    db_strerror(rc));
			if (env != NULL)
				env->close(env, 0);
		}
		store_close(store);
		temp_dir_remove(dir);
	}
}

static void
test_maintenance(void)
{
	REQUIRE_STORE(fx.store);
	CHECK(store_checkpoint(fx.store) == STATUS_OK, "checkpoint, empty");
	CHECK(store_expire_locks(fx.store) == STATUS_OK, "expire locks, empty");
	expect_deploy(fx.store, "default", "svc", 1, 1, true);
	expect_deploy(fx.store, "default", "svc", 2, 2, true);
	CHECK(store_checkpoint(fx.store) == STATUS_OK, "checkpoint");
	CHECK(store_checkpoint(fx.store) == STATUS_OK, "checkpoint again");
	CHECK(store_expire_locks(fx.store) == STATUS_OK, "expire locks");
	CHECK(!store_needs_recovery(fx.store), "needs recovery");
	/* and the data is untouched */
	expect_snapshot(fx.store, "default", 1, PAIRS({ "svc", 0, 1 }));
	expect_snapshot(fx.store, "default", 2, PAIRS({ "svc", 0, 2 }));
}

/* How many log.* files the environment in dir holds. */
static unsigned
count_log_files(const char *dir)
{
	struct dirent *entry;
	unsigned n = 0;
	DIR *d = opendir(dir);

	if (d == NULL)
		return 0;
	while ((entry = readdir(d)) != NULL)
		if (strncmp(entry->d_name, "log.", 4) == 0)
			n++;
	closedir(d);
	return n;
}

/*
 * Checkpoints remove the log files no longer needed: with 256 KiB log
 * files (set through the environment's DB_CONFIG), a few thousand deploys
 * fill several, and a checkpoint leaves only the newest behind.
 */
static void
test_checkpoint_removes_logs(void)
{
	static const char db_config[] = "set_lg_max 262144\n";
	struct store_options options;
	struct deploy_result result;
	struct store *store = NULL;
	char dir[64], path[128], name[32];
	unsigned before, after;
	enum status status = STATUS_OK;

	if (!temp_dir_create(dir, sizeof(dir)))
		return;
	snprintf(path, sizeof(path), "%s/DB_CONFIG", dir);
	if (!CHECK(write_file(path, LIT(db_config), 0600), "write %s", path))
		goto done;
	options = test_store_options(dir, STORE_RECOVER);
	options.durable = false;	/* the test is about files, not flushes */
	if (!CHECK(store_open(&options, &store) == STATUS_OK, "open %s", dir))
		goto done;
	for (unsigned i = 0; i < 4000 && status == STATUS_OK; i++) {
		int len = snprintf(name, sizeof(name), "service-%u", i % 100);

		status = deploy_to(store, "default", name, (size_t)len, i, &result);
	}
	CHECK(status == STATUS_OK, "deploys: %s", status_name(status));
	before = count_log_files(dir);
	CHECK(before >= 3, "4000 deploys fill %u log files of 256 KiB", before);
	CHECK(store_checkpoint(store) == STATUS_OK, "first checkpoint");
	CHECK(store_checkpoint(store) == STATUS_OK, "second checkpoint");
	after = count_log_files(dir);
	CHECK(after >= 1 && after <= 2, "log files: %u before, %u after "
	    "checkpoints", before, after);
	expect_snapshot(store, "default", 1, PAIRS({ "service-0", 0, 0 }));
done:
	store_close(store);
	temp_dir_remove(dir);
}

/*
 * Below the reserve a change is refused whole, before it writes, whether
 * to a known environment or a new one; a deploy that changes nothing is
 * still answered, and reads go on. With room again, changes go on from
 * where they were.
 */
static void
test_reserve(void)
{
	struct store_options options = test_store_options(fx.dir, STORE_RECOVER);
	struct environment_state state;
	struct deploy_result r;
	enum status status;

	REQUIRE_STORE(fx.store);
	CHECK(store_has_room(fx.store, 0), "no reserve, room");
	expect_deploy(fx.store, "default", "svc", 1, 1, true);
	store_close(fx.store);
	fx.store = NULL;

	options.reserve_bytes = UINT64_MAX;	/* more than any disk has */
	status = store_open(&options, &fx.store);
	if (!CHECK(status == STATUS_OK && fx.store != NULL, "reopen: %s",
	    status_name(status)))
		return;
	CHECK(!store_has_room(fx.store, 0), "a reserve above the free space");
	status = deploy_to(fx.store, "default", LIT("svc"), 2, &r);
	CHECK(status == STATUS_NO_SPACE, "new version: %s", status_name(status));
	status = deploy_to(fx.store, "default", LIT("new"), 1, &r);
	CHECK(status == STATUS_NO_SPACE, "new service: %s", status_name(status));
	status = deploy_to(fx.store, "other", LIT("svc"), 1, &r);
	CHECK(status == STATUS_NO_SPACE, "new environment: %s",
	    status_name(status));
	/* the same version changes nothing, but its audit entry is a write */
	status = deploy_to(fx.store, "default", LIT("svc"), 1, &r);
	CHECK(status == STATUS_NO_SPACE, "same version: %s",
	    status_name(status));
	expect_current(fx.store, "default", 1);
	expect_snapshot(fx.store, "default", 1, PAIRS({ "svc", 0, 1 }));
	expect_no_snapshot(fx.store, "default", 2);
	status = store_current(fx.store, "other", &state);
	CHECK(status == STATUS_NOT_FOUND, "the refused environment: %s",
	    status_name(status));
	store_close(fx.store);
	fx.store = NULL;

	options.reserve_bytes = 1;
	status = store_open(&options, &fx.store);
	if (!CHECK(status == STATUS_OK && fx.store != NULL, "reopen: %s",
	    status_name(status)))
		return;
	CHECK(store_has_room(fx.store, 0), "a reserve below the free space");
	expect_deploy(fx.store, "default", "svc", 2, 2, true);
	expect_deploy(fx.store, "other", "svc", 1, 1, true);
}

/*
 * The recovering opener reserves the disk blocks of the regions at their
 * largest, the buffer pool's included, so that a full disk cannot leave
 * a hole in a mapped file (a SIGBUS when touched): the region files hold
 * at least the cache's size in blocks, though they start much smaller.
 * Not checked where the filesystem has no fallocate().
 */
static void
test_regions_reserved(void)
{
	char path[sizeof(fx.dir) + 1 + 256];
	struct dirent *entry;
	struct stat st;
	uint64_t allocated = 0, size = 0;
	DIR *d;
	int fd;
	bool supported;

	REQUIRE_STORE(fx.store);
	snprintf(path, sizeof(path), "%s/probe", fx.dir);
	if (!CHECK((fd = open(path, O_RDWR | O_CREAT, 0600)) != -1, "open %s",
	    path))
		return;
	supported = fallocate(fd, FALLOC_FL_KEEP_SIZE, 0, 4096) == 0 ||
	    (errno != EOPNOTSUPP && errno != ENOSYS);
	close(fd);
	unlink(path);
	if (!supported)
		return;
	if (!CHECK((d = opendir(fx.dir)) != NULL, "opendir %s", fx.dir))
		return;
	while ((entry = readdir(d)) != NULL) {
		if (strncmp(entry->d_name, "__db.", 5) != 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", fx.dir, entry->d_name);
		if (CHECK(stat(path, &st) == 0, "stat %s", path)) {
			allocated += (uint64_t)st.st_blocks * 512;
			size += (uint64_t)st.st_size;
		}
	}
	closedir(d);
	CHECK(allocated >= UINT64_C(4) << 20 && allocated > size,
	    "the region files hold %llu bytes of blocks for %llu bytes of "
	    "data; a 4 MiB cache needs them reserved",
	    (unsigned long long)allocated, (unsigned long long)size);
}

#define GROUP_THREADS	8
#define GROUP_DEPLOYS	40	/* per thread */

/* One thread of test_group_commit: deploys its own services, records the answers. */
struct group_thread {
	pthread_t	thread;
	int		index;
	uint64_t	answers[GROUP_DEPLOYS];
	enum status	failed;		/* the first failure, or STATUS_OK */
};

static void *
group_deployer(void *arg)
{
	struct group_thread *t = arg;
	struct deploy_result r;
	char name[32];
	int n;

	t->failed = STATUS_OK;
	for (int i = 0; i < GROUP_DEPLOYS; i++) {
		enum status status;

		n = snprintf(name, sizeof(name), "t%d-s%d", t->index, i);
		status = deploy_to(fx.store, "group", name, (size_t)n, 1, &r);
		if (status != STATUS_OK || !r.changed) {
			t->failed = status != STATUS_OK ? status : STATUS_INVALID;
			break;
		}
		t->answers[i] = r.system_version;
	}
	return NULL;
}

/*
 * Threads deploying at once share log flushes (with a commit delay, so the
 * leader waits for company): every deploy still gets its own number, the
 * numbers are exactly 1..N, and each thread sees its own rise.
 */
static void
test_group_commit(void)
{
	static struct group_thread threads[GROUP_THREADS];
	bool seen[GROUP_THREADS * GROUP_DEPLOYS + 1] = { false };
	struct environment_state state;
	size_t distinct = 0;

	REQUIRE_STORE(fx.store);
	for (int i = 0; i < GROUP_THREADS; i++) {
		threads[i].index = i;
		CHECK(pthread_create(&threads[i].thread, NULL, group_deployer,
		    &threads[i]) == 0, "thread %d", i);
	}
	for (int i = 0; i < GROUP_THREADS; i++) {
		pthread_join(threads[i].thread, NULL);
		CHECK(threads[i].failed == STATUS_OK, "thread %d: %s", i,
		    status_name(threads[i].failed));
		for (int k = 0; k < GROUP_DEPLOYS; k++) {
			uint64_t v = threads[i].answers[k];

			if (CHECK(v >= 1 && v <= GROUP_THREADS * GROUP_DEPLOYS &&
			    !seen[v], "thread %d deploy %d: version %llu twice "
			    "or out of range", i, k, (unsigned long long)v))
				seen[v] = true, distinct++;
			CHECK(k == 0 || v > threads[i].answers[k - 1],
			    "thread %d: versions do not rise", i);
		}
	}
	CHECK(distinct == GROUP_THREADS * GROUP_DEPLOYS, "%zu distinct", distinct);
	CHECK(store_current(fx.store, "group", &state) == STATUS_OK &&
	    state.system_version == GROUP_THREADS * GROUP_DEPLOYS,
	    "current %llu", (unsigned long long)state.system_version);
}

#define SHARED_VERSIONS	400	/* more stretches than the keyframe cache keeps */
#define SHARED_SERVICES	20
#define SHARED_THREADS	8
#define SHARED_READS	200	/* per thread */

/* One thread of test_shared_reads: the first snapshot it found wrong. */
struct reader_thread {
	pthread_t	thread;
	uint64_t	seed;
	uint64_t	wrong;	/* the system version read wrong; 0: none */
	enum status	failed;
};

/*
 * The snapshot of version v of "shared", where version v set service
 * "s<v % SHARED_SERVICES>" to v: each service's last such version at or
 * below v, in name order ("s0", "s1", "s10", ... "s9").
 */
static bool
shared_snapshot_right(const struct service_list *list, uint64_t v)
{
	char name[16];
	size_t count = 0;

	for (size_t i = 0; i < list->count; i++) {
		uint64_t version = list->items[i].version;
		int n = snprintf(name, sizeof(name), "s%llu",
		    (unsigned long long)(version % SHARED_SERVICES));

		if (version > v || version + SHARED_SERVICES <= v ||
		    list->items[i].name_len != (size_t)n ||
		    memcmp(service_list_name(list, i), name, (size_t)n) != 0 ||
		    (i > 0 && service_name_compare(service_list_name(list, i - 1),
		    list->items[i - 1].name_len, name, (size_t)n) >= 0))
			return false;
		count++;
	}
	return count == (v < SHARED_SERVICES ? v : SHARED_SERVICES);
}

static void *
shared_reader(void *arg)
{
	struct reader_thread *t = arg;
	struct service_list list;

	service_list_init(&list);
	t->failed = STATUS_OK;
	for (int i = 0; i < SHARED_READS && t->wrong == 0; i++) {
		uint64_t v = 1 + next_random(&t->seed) % SHARED_VERSIONS;

		if ((t->failed = store_services(fx.store, "shared", v,
		    &list)) != STATUS_OK)
			break;
		if (!shared_snapshot_right(&list, v))
			t->wrong = v;
	}
	service_list_free(&list);
	return NULL;
}

/*
 * Threads reading old versions at once, through the process's keyframe
 * cache, which they fill, share and evict from (more stretches than it
 * keeps): every snapshot is the one the deploys made.
 */
static void
test_shared_reads(void)
{
	static struct reader_thread threads[SHARED_THREADS];
	char name[16];

	REQUIRE_STORE(fx.store);
	for (uint64_t v = 1; v <= SHARED_VERSIONS; v++) {
		snprintf(name, sizeof(name), "s%llu",
		    (unsigned long long)(v % SHARED_SERVICES));
		expect_deploy(fx.store, "shared", name, v, v, true);
	}
	for (int i = 0; i < SHARED_THREADS; i++) {
		threads[i].seed = (uint64_t)i + 1;
		CHECK(pthread_create(&threads[i].thread, NULL, shared_reader,
		    &threads[i]) == 0, "thread %d", i);
	}
	for (int i = 0; i < SHARED_THREADS; i++) {
		pthread_join(threads[i].thread, NULL);
		CHECK(threads[i].failed == STATUS_OK && threads[i].wrong == 0,
		    "reader %d: %s, version %llu read wrong", i,
		    status_name(threads[i].failed),
		    (unsigned long long)threads[i].wrong);
	}
}

static const CU_TestInfo store_tests[] = {
	{ "seed example", test_seed_example },
	{ "reads at once share the keyframe cache", test_shared_reads },
	{ "unknown environment", test_unknown_environment },
	{ "version above current", test_version_above_current },
	{ "a store of one site", test_one_site },
	{ "environments are separate", test_environments_are_separate },
	{ "unchanged redeploy", test_unchanged_redeploy },
	{ "rollback is a change", test_rollback_is_a_change },
	{ "prefix names", test_prefix_names },
	{ "longest names", test_longest_names },
	{ "model replay", test_model_replay },
	{ "changes in batches", test_changes_in_batches },
	{ "keyframe versions", test_keyframe_versions },
	{ "group commit", test_group_commit },
	{ "reopen keeps everything", test_reopen_keeps_everything },
	{ "join shares data", test_join_shares_data },
	{ "open failures", test_open_failures },
	{ "cache size", test_cache_size },
	{ "maintenance", test_maintenance },
	{ "reserve", test_reserve },
	{ "regions reserved", test_regions_reserved },
	{ "checkpoint removes logs", test_checkpoint_removes_logs },
	CU_TEST_INFO_NULL,
};

int
add_store_suite(void)
{
	return add_suite_with_tests("store", store_setup, store_teardown,
	    store_tests);
}
