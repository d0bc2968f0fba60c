/*
 * The reports suite: the rules of reports as they really arrive, on a
 * real store. Duplicates by eventId, conflicts, stale reports by
 * sequence and by deployedAt, reports without keys as before, removals
 * (and of nothing), the audit log, a service's periods, the expiry of
 * eventIds and audit entries (of an eventId reused, of the audit log
 * behind the eventIds', of an older store whose index of eventIds goes),
 * and a long stream delivered with duplicates and out of order that ends
 * where the clean stream ends.
 */
#include <db.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "digest.h"
#include "store.h"
#include "store_private.h"
#include "tests.h"

/* The environment of the running test. */
static struct {
	char		 dir[64];
	struct store	*store;
} fx;

static void
reports_setup(void)
{
	fx.store = test_store_create(fx.dir, sizeof(fx.dir));
}

static void
reports_teardown(void)
{
	test_store_destroy(fx.store, fx.dir);
	fx.store = NULL;
}

/* A report as a test writes it: what is not set is not sent. */
struct report {
	const char	*env;		/* NULL: "default" */
	const char	*name;
	bool		 removal;
	uint64_t	 version;
	const char	*event_id;	/* NULL: none */
	bool		 has_sequence;	/* SEQ(n) sets both */
	uint64_t	 sequence;
	uint64_t	 deployed_at_ms;	/* 0: none */
	const char	*deployed_by;	/* NULL: none */
};

/* A report literal, and the sequence it carries. */
#define R(...)	((struct report){ __VA_ARGS__ })
#define SEQ(n)	.has_sequence = true, .sequence = (n)

/* Fills d with report r. */
static void
deploy_of(const struct report *r, struct deploy *d)
{
	memset(d, 0, sizeof(*d));
	snprintf(d->environment, sizeof(d->environment), "%s",
	    r->env != NULL ? r->env : "default");
	d->name_len = strlen(r->name);
	memcpy(d->name, r->name, d->name_len);
	d->removal = r->removal;
	d->version = r->removal ? 0 : r->version;
	if (r->event_id != NULL) {
		d->key.has_event_id = true;
		d->key.event_id_len = strlen(r->event_id);
		memcpy(d->key.event_id, r->event_id, d->key.event_id_len);
	}
	d->key.has_sequence = r->has_sequence;
	d->key.sequence = r->sequence;
	if (r->deployed_at_ms != 0) {
		d->key.has_deployed_at = true;
		d->key.deployed_at_ms = r->deployed_at_ms;
	}
	if (r->deployed_by != NULL) {
		d->deployed_by.present = true;
		d->deployed_by.len = strlen(r->deployed_by);
		memcpy(d->deployed_by.text, r->deployed_by, d->deployed_by.len);
	}
}

/* Sends report r to store. */
static enum status
send_report(struct store *store, struct report r, struct deploy_result *out)
{
	struct deploy d;

	deploy_of(&r, &d);
	memset(out, 0xA5, sizeof(*out));
	return store_deploy(store, &d, out);
}

/*
 * Sends r and checks what it is answered: want, and on STATUS_OK the
 * outcome and system version.
 */
static void
expect(struct report r, enum status want, enum deploy_outcome outcome,
    uint64_t system_version)
{
	struct deploy_result got;
	enum status status = send_report(fx.store, r, &got);

	if (want != STATUS_OK) {
		CHECK(status == want, "%s %s %llu: %s, expected %s", r.name,
		    r.removal ? "removal" : "deploy",
		    (unsigned long long)r.version, status_name(status),
		    status_name(want));
		return;
	}
	CHECK(status == STATUS_OK && got.outcome == outcome &&
	    got.system_version == system_version &&
	    got.changed == (outcome == OUTCOME_APPLIED ||
	    outcome == OUTCOME_REMOVED), "%s %s %llu: %s, %s, system version "
	    "%llu; expected %s, %llu", r.name, r.removal ? "removal" : "deploy",
	    (unsigned long long)r.version, status_name(status),
	    status == STATUS_OK ? deploy_outcome_name(got.outcome) : "-",
	    (unsigned long long)got.system_version,
	    deploy_outcome_name(outcome), (unsigned long long)system_version);
}

/* Checks the current system version of env. */
static void
expect_current(const char *env, uint64_t system_version)
{
	struct environment_state state;
	enum status status = store_current(fx.store, env, &state);

	CHECK(status == STATUS_OK && state.system_version == system_version,
	    "current of %s: %s, %llu; expected %llu", env, status_name(status),
	    (unsigned long long)state.system_version,
	    (unsigned long long)system_version);
}

/*
 * Checks the services of version system_version of env against "name=v,
 * ..." (in name order; "" for none).
 */
static void
expect_services(const char *env, uint64_t system_version, const char *want)
{
	struct service_list list;
	char got[1024];
	size_t n = 0;
	enum status status;

	service_list_init(&list);
	status = store_services(fx.store, env, system_version, &list);
	got[0] = '\0';
	for (size_t i = 0; status == STATUS_OK && i < list.count; i++)
		n += (size_t)snprintf(got + n, sizeof(got) - n, "%s%.*s=%llu",
		    i ? "," : "", (int)list.items[i].name_len,
		    service_list_name(&list, i),
		    (unsigned long long)list.items[i].version);
	CHECK(status == STATUS_OK && strcmp(got, want) == 0,
	    "services of %s/%llu: %s [%s], expected [%s]", env,
	    (unsigned long long)system_version, status_name(status), got, want);
	service_list_free(&list);
}

/* A page of the audit log, as GET /events gives at most. */
#define HISTORY_LIMIT	500

/* True when two lists hold the same services at the same versions. */
static bool
lists_equal(const struct service_list *a, const struct service_list *b)
{
	if (a->count != b->count)
		return false;
	for (size_t i = 0; i < a->count; i++)
		if (a->items[i].version != b->items[i].version ||
		    service_name_compare(service_list_name(a, i),
		    a->items[i].name_len, service_list_name(b, i),
		    b->items[i].name_len) != 0)
			return false;
	return true;
}

/* The audit log of env, newest first: *count entries (malloc'd). */
static struct audit_entry *
all_events(const char *env, size_t *count)
{
	struct audit_entry *out = calloc(HISTORY_LIMIT, sizeof(*out));
	bool more = false;
	enum status status;

	*count = 0;
	if (out == NULL)
		return NULL;
	status = store_events(fx.store, env, 0, HISTORY_LIMIT, out, count,
	    &more);
	CHECK(status == STATUS_OK && !more, "events of %s: %s", env,
	    status_name(status));
	return out;
}

/* The same eventId again, with other reports between: the first answer, once. */
static void
test_duplicate(void)
{
	struct audit_entry *log;
	size_t count = 0;

	REQUIRE_STORE(fx.store);
	expect(R(.name = "A", .version = 1, .event_id = "e1"), STATUS_OK,
	    OUTCOME_APPLIED, 1);
	expect(R(.name = "B", .version = 1, .event_id = "e2"), STATUS_OK,
	    OUTCOME_APPLIED, 2);
	expect(R(.name = "A", .version = 2), STATUS_OK, OUTCOME_APPLIED, 3);
	expect(R(.name = "A", .version = 1, .event_id = "e1"), STATUS_OK,
	    OUTCOME_DUPLICATE, 1);
	/* what else it carries is not compared: the first report wins */
	expect(R(.name = "B", .version = 1, .event_id = "e2", SEQ(4),
	    .deployed_by = "someone else"), STATUS_OK, OUTCOME_DUPLICATE, 2);
	expect_current("default", 3);
	expect_services("default", 3, "A=2,B=1");
	/* eventIds are the environment's: another one starts afresh */
	expect(R(.env = "prod", .name = "A", .version = 7, .event_id = "e1"),
	    STATUS_OK, OUTCOME_APPLIED, 1);
	/* a removal's duplicate, once the service is gone, is no 404 */
	expect(R(.env = "prod", .name = "A", .removal = true,
	    .event_id = "r1"), STATUS_OK, OUTCOME_REMOVED, 2);
	expect(R(.env = "prod", .name = "A", .removal = true,
	    .event_id = "r1"), STATUS_OK, OUTCOME_DUPLICATE, 2);

	if ((log = all_events("default", &count)) == NULL)
		return;
	if (CHECK(count == 5, "5 audit entries, got %zu", count)) {
		CHECK(log[0].id == 5 && log[0].outcome == OUTCOME_DUPLICATE &&
		    log[0].system_version == 2 && log[0].key.has_sequence &&
		    log[0].key.sequence == 4 && log[0].deployed_by.present,
		    "the last entry: what the duplicate said and was answered");
		CHECK(log[1].id == 4 && log[1].outcome == OUTCOME_DUPLICATE &&
		    log[1].system_version == 1, "the first duplicate");
		CHECK(log[4].id == 1 && log[4].outcome == OUTCOME_APPLIED &&
		    log[4].key.has_event_id && log[4].key.event_id_len == 2 &&
		    memcmp(log[4].key.event_id, "e1", 2) == 0 &&
		    !log[4].key.has_sequence && !log[4].deployed_by.present,
		    "the first entry");
	}
	free(log);
}

/* The same eventId for another report: a conflict, and nothing written. */
static void
test_conflict(void)
{
	size_t count = 0;
	struct audit_entry *log;

	REQUIRE_STORE(fx.store);
	expect(R(.name = "A", .version = 1, .event_id = "e1"), STATUS_OK,
	    OUTCOME_APPLIED, 1);
	expect(R(.name = "A", .version = 2, .event_id = "e1"), STATUS_CONFLICT,
	    0, 0);
	expect(R(.name = "B", .version = 1, .event_id = "e1"), STATUS_CONFLICT,
	    0, 0);
	expect(R(.name = "A", .removal = true, .event_id = "e1"),
	    STATUS_CONFLICT, 0, 0);
	expect_current("default", 1);
	expect_services("default", 1, "A=1");
	if ((log = all_events("default", &count)) != NULL)
		CHECK(count == 1, "conflicts are not audit entries: %zu", count);
	free(log);
}

/* A2 redelivered after A3: stale by sequence, and by deployedAt. */
static void
test_stale(void)
{
	const uint64_t t = UINT64_C(1765000000000);

	REQUIRE_STORE(fx.store);
	expect(R(.name = "A", .version = 2, SEQ(2)), STATUS_OK,
	    OUTCOME_APPLIED, 1);
	expect(R(.name = "A", .version = 3, SEQ(3)), STATUS_OK,
	    OUTCOME_APPLIED, 2);
	expect(R(.name = "A", .version = 2, SEQ(2)), STATUS_OK,
	    OUTCOME_STALE, 2);
	expect_current("default", 2);
	expect_services("default", 2, "A=3");

	expect(R(.name = "B", .version = 2, .deployed_at_ms = t), STATUS_OK,
	    OUTCOME_APPLIED, 3);
	expect(R(.name = "B", .version = 3, .deployed_at_ms = t + 1000),
	    STATUS_OK, OUTCOME_APPLIED, 4);
	expect(R(.name = "B", .version = 2, .deployed_at_ms = t), STATUS_OK,
	    OUTCOME_STALE, 4);
	expect_services("default", 4, "A=3,B=3");

	/* the stale answer is the current version, whatever it is */
	expect(R(.name = "C", .version = 1), STATUS_OK, OUTCOME_APPLIED, 5);
	expect(R(.name = "A", .version = 1, SEQ(1)), STATUS_OK,
	    OUTCOME_STALE, 5);
}

/* An equal key with another version is stale; with the same one, unchanged. */
static void
test_equal_key(void)
{
	REQUIRE_STORE(fx.store);
	expect(R(.name = "A", .version = 3, SEQ(5)), STATUS_OK,
	    OUTCOME_APPLIED, 1);
	expect(R(.name = "A", .version = 4, SEQ(5)), STATUS_OK,
	    OUTCOME_STALE, 1);
	expect(R(.name = "A", .version = 3, SEQ(5)), STATUS_OK,
	    OUTCOME_UNCHANGED, 1);
	/* a key moves forward on an unchanged report too */
	expect(R(.name = "A", .version = 3, SEQ(9)), STATUS_OK,
	    OUTCOME_UNCHANGED, 1);
	expect(R(.name = "A", .version = 5, SEQ(7)), STATUS_OK,
	    OUTCOME_STALE, 1);
	expect(R(.name = "A", .version = 5, SEQ(10)), STATUS_OK,
	    OUTCOME_APPLIED, 2);
	expect_services("default", 2, "A=5");
}

/*
 * A sequence is compared when both have one; otherwise deployedAt, when
 * both have one; otherwise the report is never stale.
 */
static void
test_key_precedence(void)
{
	const uint64_t t = UINT64_C(1765000000000);

	REQUIRE_STORE(fx.store);
	expect(R(.name = "A", .version = 1, SEQ(5),
	    .deployed_at_ms = t + 2000), STATUS_OK, OUTCOME_APPLIED, 1);
	/* an older deployedAt, but a higher sequence: the sequence decides */
	expect(R(.name = "A", .version = 2, SEQ(6),
	    .deployed_at_ms = t + 1000), STATUS_OK, OUTCOME_APPLIED, 2);
	/* no sequence: the highest deployedAt recorded decides */
	expect(R(.name = "A", .version = 3, .deployed_at_ms = t + 1500),
	    STATUS_OK, OUTCOME_STALE, 2);
	expect(R(.name = "A", .version = 3, .deployed_at_ms = t + 2500),
	    STATUS_OK, OUTCOME_APPLIED, 3);
	/* no key at all: never stale */
	expect(R(.name = "A", .version = 1), STATUS_OK, OUTCOME_APPLIED, 4);
	/* a sequence where none was recorded is compared by deployedAt */
	expect(R(.name = "B", .version = 1, .deployed_at_ms = t), STATUS_OK,
	    OUTCOME_APPLIED, 5);
	expect(R(.name = "B", .version = 2, SEQ(100),
	    .deployed_at_ms = t - 1), STATUS_OK, OUTCOME_STALE, 5);
	expect(R(.name = "B", .version = 2, SEQ(100)), STATUS_OK,
	    OUTCOME_APPLIED, 6);
}

/* Reports without keys behave as they always did: the seed example. */
static void
test_keyless(void)
{
	REQUIRE_STORE(fx.store);
	expect(R(.name = "Service A", .version = 1), STATUS_OK,
	    OUTCOME_APPLIED, 1);
	expect(R(.name = "Service B", .version = 1), STATUS_OK,
	    OUTCOME_APPLIED, 2);
	expect(R(.name = "Service A", .version = 2), STATUS_OK,
	    OUTCOME_APPLIED, 3);
	expect(R(.name = "Service A", .version = 2), STATUS_OK,
	    OUTCOME_UNCHANGED, 3);
	expect(R(.name = "Service A", .version = 1), STATUS_OK,
	    OUTCOME_APPLIED, 4);
	expect_services("default", 3, "Service A=2,Service B=1");
	expect_services("default", 4, "Service A=1,Service B=1");
}

/*
 * A removal is the next system version without the service; removing
 * it again is not found; deploying it again is a new service.
 */
static void
test_removal(void)
{
	struct change_record change;
	enum status status;

	REQUIRE_STORE(fx.store);
	expect(R(.name = "A", .version = 4), STATUS_OK, OUTCOME_APPLIED, 1);
	expect(R(.name = "B", .version = 1), STATUS_OK, OUTCOME_APPLIED, 2);
	expect(R(.name = "A", .removal = true), STATUS_OK, OUTCOME_REMOVED, 3);
	expect_services("default", 2, "A=4,B=1");
	expect_services("default", 3, "B=1");
	status = store_change(fx.store, "default", 3, &change);
	CHECK(status == STATUS_OK && change.removed && change.has_previous &&
	    change.previous == 4 && change.version == 0 &&
	    change.name_len == 1 && change.name[0] == 'A',
	    "the removal's change: %s", status_name(status));
	expect(R(.name = "A", .removal = true), STATUS_NOT_FOUND, 0, 0);
	expect(R(.name = "Z", .removal = true), STATUS_NOT_FOUND, 0, 0);
	expect_current("default", 3);
	expect(R(.name = "A", .version = 5), STATUS_OK, OUTCOME_APPLIED, 4);
	status = store_change(fx.store, "default", 4, &change);
	CHECK(status == STATUS_OK && !change.removed && !change.has_previous &&
	    change.version == 5, "deployed again: a new service");
	/* past keyframes (every 3 versions here): removed, then back */
	expect(R(.name = "B", .removal = true), STATUS_OK, OUTCOME_REMOVED, 5);
	expect(R(.name = "C", .version = 1), STATUS_OK, OUTCOME_APPLIED, 6);
	expect(R(.name = "A", .removal = true), STATUS_OK, OUTCOME_REMOVED, 7);
	expect_services("default", 5, "A=5");
	expect_services("default", 6, "A=5,C=1");
	expect_services("default", 7, "C=1");
	expect_services("default", 0, "C=1");
	/* the removal of nothing in an environment never seen makes none */
	expect(R(.env = "ghost", .name = "A", .removal = true),
	    STATUS_NOT_FOUND, 0, 0);
	CHECK(store_current(fx.store, "ghost", &(struct environment_state){
	    0, 0 }) == STATUS_NOT_FOUND, "no environment made");
}

/* The removal of an absent service keeps its key: older reports are stale. */
static void
test_tombstone(void)
{
	size_t count = 0;
	struct audit_entry *log;

	REQUIRE_STORE(fx.store);
	expect(R(.name = "A", .version = 1), STATUS_OK, OUTCOME_APPLIED, 1);
	expect(R(.name = "X", .removal = true, SEQ(10),
	    .event_id = "rm"), STATUS_NOT_FOUND, 0, 0);
	expect(R(.name = "X", .version = 1, SEQ(9)), STATUS_OK,
	    OUTCOME_STALE, 1);
	expect(R(.name = "X", .version = 2, SEQ(11)), STATUS_OK,
	    OUTCOME_APPLIED, 2);
	/* a removal can be stale too */
	expect(R(.name = "X", .removal = true, SEQ(10)), STATUS_OK,
	    OUTCOME_STALE, 2);
	expect(R(.name = "X", .removal = true, SEQ(12)), STATUS_OK,
	    OUTCOME_REMOVED, 3);
	/* the 404 was recorded under no eventId, and is no audit entry */
	expect(R(.name = "X", .removal = true, SEQ(13),
	    .event_id = "rm"), STATUS_NOT_FOUND, 0, 0);
	if ((log = all_events("default", &count)) != NULL)
		CHECK(count == 5, "5 audit entries, got %zu", count);
	free(log);
	/* a tombstone alone makes an environment with no version */
	expect(R(.env = "fresh", .name = "Y", .removal = true, SEQ(3)),
	    STATUS_NOT_FOUND, 0, 0);
	expect(R(.env = "fresh", .name = "Y", .version = 1, SEQ(2)),
	    STATUS_OK, OUTCOME_STALE, 0);
	expect_current("fresh", 0);
}

/* Every member of an audit entry survives, and the log pages. */
static void
test_audit_log(void)
{
	struct audit_entry page[2];
	struct deploy d;
	struct deploy_result r;
	size_t count = 0;
	bool more = false;
	enum status status;

	REQUIRE_STORE(fx.store);
	deploy_of(&R(.name = "svc \xc3\xa9", .version = 9007199254740991,
	    .event_id = "\xe2\x82\xac-1", SEQ(9007199254740991),
	    .deployed_at_ms = UINT64_C(253402300799999),
	    .deployed_by = "ci"), &d);
	d.reason.present = true;
	d.reason.len = 0;
	d.release_hash.present = true;
	d.release_hash.len = 3;
	memcpy(d.release_hash.text, "abc", 3);
	CHECK(store_deploy(fx.store, &d, &r) == STATUS_OK, "the full report");
	expect(R(.name = "svc \xc3\xa9", .removal = true), STATUS_OK,
	    OUTCOME_REMOVED, 2);
	expect(R(.name = "other", .version = 0), STATUS_OK, OUTCOME_APPLIED, 3);

	status = store_events(fx.store, "default", 0, 2, page, &count, &more);
	CHECK(status == STATUS_OK && count == 2 && more && page[0].id == 3 &&
	    page[1].id == 2 && page[1].removal && page[1].version == 0 &&
	    page[1].outcome == OUTCOME_REMOVED && page[1].system_version == 2,
	    "the first page: %s, %zu, more %d", status_name(status), count,
	    (int)more);
	status = store_events(fx.store, "default", page[1].id, 2, page, &count,
	    &more);
	CHECK(status == STATUS_OK && count == 1 && !more && page[0].id == 1,
	    "the last page: %s, %zu, more %d", status_name(status), count,
	    (int)more);
	CHECK(page[0].outcome == OUTCOME_APPLIED && !page[0].removal &&
	    page[0].version == 9007199254740991 &&
	    page[0].system_version == 1 && page[0].name_len == 6 &&
	    memcmp(page[0].name, "svc \xc3\xa9", 6) == 0 &&
	    page[0].key.has_event_id && page[0].key.event_id_len == 5 &&
	    memcmp(page[0].key.event_id, "\xe2\x82\xac-1", 5) == 0 &&
	    page[0].key.has_sequence &&
	    page[0].key.sequence == 9007199254740991 &&
	    page[0].key.has_deployed_at &&
	    page[0].key.deployed_at_ms == UINT64_C(253402300799999) &&
	    page[0].deployed_by.present && page[0].deployed_by.len == 2 &&
	    page[0].reason.present && page[0].reason.len == 0 &&
	    page[0].release_hash.present && page[0].release_hash.len == 3 &&
	    page[0].received_ms > UINT64_C(1700000000000),
	    "every member of the first entry");
	status = store_events(fx.store, "default", 1, 2, page, &count, &more);
	CHECK(status == STATUS_OK && count == 0 && !more, "before the first");
	status = store_events(fx.store, "nowhere", 0, 2, page, &count, &more);
	CHECK(status == STATUS_NOT_FOUND, "an unknown environment: %s",
	    status_name(status));
}

/* One expected period: version, from, to (0: none). */
struct period_want {
	uint64_t	version;
	uint64_t	from;
	uint64_t	to;
};

/* Checks the periods of name in env, newest first. */
static void
expect_periods(const char *env, const char *name,
    const struct period_want *want, size_t count)
{
	struct service_period *got = NULL;
	struct change_record from, to;
	size_t n = 0;
	enum status status = store_service_history(fx.store, env, name,
	    strlen(name), &got, &n);

	if (!CHECK(status == STATUS_OK && n == count, "periods of %s: %s, %zu, "
	    "expected %zu", name, status_name(status), n, count)) {
		free(got);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		CHECK(got[i].version == want[i].version &&
		    got[i].from_system_version == want[i].from &&
		    got[i].has_to == (want[i].to != 0) &&
		    (!got[i].has_to || got[i].to_system_version == want[i].to),
		    "period %zu of %s: %llu from %llu to %llu", i, name,
		    (unsigned long long)got[i].version,
		    (unsigned long long)got[i].from_system_version,
		    (unsigned long long)got[i].to_system_version);
		CHECK(store_change(fx.store, env, want[i].from, &from) ==
		    STATUS_OK && got[i].from_ms == from.created_ms &&
		    (!got[i].has_to || (store_change(fx.store, env,
		    want[i].to, &to) == STATUS_OK &&
		    got[i].to_ms == to.created_ms)),
		    "period %zu of %s: the times of its versions", i, name);
	}
	free(got);
}

/* A service's periods, across a removal, newest first. */
static void
test_service_history(void)
{
	static const struct period_want a[] = { { 3, 6, 0 }, { 2, 3, 5 },
	    { 1, 1, 3 } };
	static const struct period_want b[] = { { 1, 2, 0 } };
	struct service_period *got = NULL;
	size_t n = 0;

	REQUIRE_STORE(fx.store);
	expect(R(.name = "A", .version = 1), STATUS_OK, OUTCOME_APPLIED, 1);
	expect(R(.name = "B", .version = 1), STATUS_OK, OUTCOME_APPLIED, 2);
	expect(R(.name = "A", .version = 2), STATUS_OK, OUTCOME_APPLIED, 3);
	expect(R(.name = "AB", .version = 1), STATUS_OK, OUTCOME_APPLIED, 4);
	expect(R(.name = "A", .removal = true), STATUS_OK, OUTCOME_REMOVED, 5);
	expect(R(.name = "A", .version = 3), STATUS_OK, OUTCOME_APPLIED, 6);
	expect_periods("default", "A", a, 3);
	expect_periods("default", "B", b, 1);
	CHECK(store_service_history(fx.store, "default", "C", 1, &got, &n) ==
	    STATUS_NOT_FOUND && got == NULL && n == 0, "never deployed");
	CHECK(store_service_history(fx.store, "nowhere", "A", 1, &got, &n) ==
	    STATUS_NOT_FOUND, "an unknown environment");
	/* a service removed for good still has its periods */
	expect(R(.name = "B", .removal = true), STATUS_OK, OUTCOME_REMOVED, 7);
	expect_periods("default", "B", (const struct period_want[]){
	    { 1, 2, 7 } }, 1);
}

/* The retention test's cycles, their reports, and the files it watches. */
#define CYCLES		4
#define CYCLE_REPORTS	500
#define FILES		2

/* Waits ms milliseconds. */
static void
sleep_ms(unsigned ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000 };

	nanosleep(&ts, NULL);
}

/* Bytes of the file name in the test's store. */
static long long
file_size(const char *name)
{
	char path[128];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s", fx.dir, name);
	return stat(path, &st) == 0 ? (long long)st.st_size : -1;
}

/*
 * Reopens the test's store, durable or not, with retentions of the given
 * milliseconds (0: the defaults).
 */
static bool
reopen_with(bool durable, uint64_t event_ms, uint64_t audit_ms)
{
	struct store_options options = test_store_options(fx.dir,
	    STORE_RECOVER);
	enum status status;

	store_close(fx.store);
	options.durable = durable;
	options.event_retention_ms = event_ms;
	options.audit_retention_ms = audit_ms;
	status = store_open(&options, &fx.store);
	return CHECK(status == STATUS_OK, "reopen: %s", status_name(status));
}

/*
 * Checks the reports env counted by outcome: applied, unchanged,
 * duplicate, stale, removed.
 */
static void
expect_counts(const char *env, uint64_t applied, uint64_t unchanged,
    uint64_t duplicate, uint64_t stale, uint64_t removed)
{
	const uint64_t want[OUTCOME_COUNT] = { applied, unchanged, duplicate,
	    stale, removed };
	struct environment_summary *list = NULL;
	size_t count = 0, i;
	enum status status = store_environments(fx.store, &list, &count);

	for (i = 0; status == STATUS_OK && i < count; i++)
		if (strcmp(list[i].name, env) == 0)
			break;
	CHECK(status == STATUS_OK && i < count &&
	    memcmp(list[i].reports, want, sizeof(want)) == 0,
	    "the counts of %s: %s, %llu %llu %llu %llu %llu", env,
	    status_name(status),
	    i < count ? (unsigned long long)list[i].reports[0] : 0,
	    i < count ? (unsigned long long)list[i].reports[1] : 0,
	    i < count ? (unsigned long long)list[i].reports[2] : 0,
	    i < count ? (unsigned long long)list[i].reports[3] : 0,
	    i < count ? (unsigned long long)list[i].reports[4] : 0);
	free(list);
}

/*
 * Each report answered 200 is counted by its outcome in its environment,
 * in its own transaction: a refused one (409, 404) is not, and the counts
 * are those of the store, kept across a reopen.
 */
static void
test_counts(void)
{
	REQUIRE_STORE(fx.store);
	expect(R(.name = "A", .version = 1, .event_id = "e1", SEQ(1)),
	    STATUS_OK, OUTCOME_APPLIED, 1);
	expect(R(.name = "A", .version = 1, .event_id = "e1", SEQ(1)),
	    STATUS_OK, OUTCOME_DUPLICATE, 1);
	expect(R(.name = "A", .version = 2, .event_id = "e1", SEQ(1)),
	    STATUS_CONFLICT, OUTCOME_APPLIED, 0);
	expect(R(.name = "A", .version = 1, SEQ(2)), STATUS_OK,
	    OUTCOME_UNCHANGED, 1);
	expect(R(.name = "A", .version = 0, SEQ(1)), STATUS_OK,
	    OUTCOME_STALE, 1);
	expect(R(.name = "B", .version = 5), STATUS_OK, OUTCOME_APPLIED, 2);
	expect(R(.name = "B", .removal = true), STATUS_OK, OUTCOME_REMOVED, 3);
	expect(R(.name = "B", .removal = true), STATUS_NOT_FOUND,
	    OUTCOME_REMOVED, 0);
	expect(R(.env = "other", .name = "A", .version = 1), STATUS_OK,
	    OUTCOME_APPLIED, 1);
	expect_counts("default", 2, 1, 1, 1, 1);
	expect_counts("other", 1, 0, 0, 0, 0);
	if (!reopen_with(true, 0, 0))
		return;
	expect(R(.name = "A", .version = 1), STATUS_OK, OUTCOME_UNCHANGED, 3);
	expect_counts("default", 2, 2, 1, 1, 1);
}

/* True when keys.db holds a record of service name in env. */
static bool
has_idle_keys(const char *env, const char *name)
{
	struct environment_record record;
	unsigned char key[SERVICE_KEY_MAX], value[KEYS_VALUE_SIZE];
	size_t size;

	return get_environment(fx.store, NULL, env, 0, &record) ==
	    STATUS_OK && get_value(fx.store, fx.store->keys, NULL, key,
	    record_service_key(key, record.id, name, strlen(name)), value,
	    sizeof(value), &size, 0) == STATUS_OK;
}

/*
 * A service's keys live with its current version while it runs, in
 * keys.db while it does not: they follow it across a removal and back,
 * also when it comes back by a report without keys, and a reopened
 * store finds them.
 */
static void
test_keys_follow(void)
{
	REQUIRE_STORE(fx.store);
	expect(R(.name = "A", .version = 1, SEQ(5)), STATUS_OK,
	    OUTCOME_APPLIED, 1);
	CHECK(!has_idle_keys("default", "A"), "running: no keys.db record");
	expect(R(.name = "A", .removal = true, SEQ(6)), STATUS_OK,
	    OUTCOME_REMOVED, 2);
	CHECK(has_idle_keys("default", "A"), "removed: its keys in keys.db");
	expect(R(.name = "A", .version = 2, SEQ(5)), STATUS_OK,
	    OUTCOME_STALE, 2);
	expect(R(.name = "A", .version = 3), STATUS_OK, OUTCOME_APPLIED, 3);
	CHECK(!has_idle_keys("default", "A"), "back: its keys left keys.db");
	expect(R(.name = "A", .version = 4, SEQ(6)), STATUS_OK,
	    OUTCOME_STALE, 3);
	expect(R(.name = "A", .version = 3, SEQ(6)), STATUS_OK,
	    OUTCOME_UNCHANGED, 3);
	/* an unchanged report moves the key too */
	expect(R(.name = "A", .version = 3, SEQ(8)), STATUS_OK,
	    OUTCOME_UNCHANGED, 3);
	if (!reopen_with(true, 0, 0))
		return;
	expect(R(.name = "A", .version = 4, SEQ(7)), STATUS_OK,
	    OUTCOME_STALE, 3);
	expect(R(.name = "A", .version = 4, SEQ(9)), STATUS_OK,
	    OUTCOME_APPLIED, 4);
}

/*
 * A store written when keys.db held every service's keys has those of
 * the running services moved into current.db when it is opened; those
 * of services that do not run stay.
 */
static void
test_keys_folded(void)
{
	struct environment_record record;
	struct service_keys keys = { true, 10, false, 0 };
	unsigned char key[SERVICE_KEY_MAX], value[KEYS_VALUE_SIZE];
	size_t key_len;

	REQUIRE_STORE(fx.store);
	expect(R(.name = "A", .version = 1), STATUS_OK, OUTCOME_APPLIED, 1);
	expect(R(.name = "Z", .removal = true, SEQ(4)), STATUS_NOT_FOUND, 0,
	    0);
	if (!CHECK(get_environment(fx.store, NULL, "default", 0, &record) ==
	    STATUS_OK, "the environment"))
		return;
	key_len = record_service_key(key, record.id, "A", 1);
	record_keys_encode(&keys, value);
	if (!CHECK(put_value(fx.store, fx.store->keys, NULL, key, key_len,
	    value, sizeof(value), 0) == STATUS_OK, "the older store's keys") ||
	    !reopen_with(true, 0, 0))
		return;
	CHECK(!has_idle_keys("default", "A"), "A's keys moved");
	CHECK(has_idle_keys("default", "Z"), "Z's keys stayed");
	expect(R(.name = "A", .version = 2, SEQ(9)), STATUS_OK,
	    OUTCOME_STALE, 1);
	expect(R(.name = "A", .version = 2, SEQ(11)), STATUS_OK,
	    OUTCOME_APPLIED, 2);
	expect(R(.name = "Z", .version = 1, SEQ(3)), STATUS_OK,
	    OUTCOME_STALE, 2);
}

/*
 * Expired eventIds and audit entries go, and nothing else: an eventId is
 * then a new report; ids go on from where they were; the files stop
 * growing over repeated cycles.
 */
static void
test_retention(void)
{
	static const char *const files[FILES] = { "events.db", "audit.db" };
	long long sizes[CYCLES][FILES];
	struct audit_entry *log;
	char id[32];
	uint64_t removed = 0;
	size_t count = 0;
	enum status status;

	REQUIRE_STORE(fx.store);
	if (!reopen_with(true, 400, 800))
		return;
	expect(R(.name = "A", .version = 1, .event_id = "e1"), STATUS_OK,
	    OUTCOME_APPLIED, 1);
	sleep_ms(500);
	/* expired, but not yet removed: forgotten already */
	expect(R(.name = "A", .version = 2, .event_id = "e1"), STATUS_OK,
	    OUTCOME_APPLIED, 2);
	expect(R(.name = "A", .version = 2, .event_id = "e1"), STATUS_OK,
	    OUTCOME_DUPLICATE, 2);
	/* e1's first report expired, but its record is the second's now */
	status = store_expire(fx.store, &removed);
	CHECK(status == STATUS_OK && removed == 0, "the replaced eventId: %s, "
	    "%llu", status_name(status), (unsigned long long)removed);
	sleep_ms(900);
	/* e1, and the three audit entries */
	status = store_expire(fx.store, &removed);
	CHECK(status == STATUS_OK && removed == 4, "expired: %s, %llu",
	    status_name(status), (unsigned long long)removed);
	if ((log = all_events("default", &count)) != NULL)
		CHECK(count == 0, "no audit entry left: %zu", count);
	free(log);
	expect(R(.name = "A", .version = 2, .event_id = "e1"), STATUS_OK,
	    OUTCOME_UNCHANGED, 2);
	if ((log = all_events("default", &count)) != NULL)
		CHECK(count == 1 && log[0].id == 4, "ids go on: %zu, %llu",
		    count, (unsigned long long)(count ? log[0].id : 0));
	free(log);
	expect_services("default", 1, "A=1");
	expect_services("default", 2, "A=2");

	/* cycles of reports, expired: the files do not grow */
	for (unsigned cycle = 0; cycle < CYCLES; cycle++) {
		for (unsigned i = 0; i < CYCLE_REPORTS; i++) {
			struct deploy_result r;

			snprintf(id, sizeof(id), "c%u-%u", cycle, i);
			status = send_report(fx.store, R(.name = "B",
			    .version = i % 7, .event_id = id), &r);
			if (!CHECK(status == STATUS_OK, "cycle %u report %u: %s",
			    cycle, i, status_name(status)))
				return;
		}
		sleep_ms(900);
		status = store_expire(fx.store, &removed);
		/* each report's eventId and entry; the first cycle, e1's too */
		CHECK(status == STATUS_OK && removed == 2 * CYCLE_REPORTS +
		    (cycle == 0 ? 2 : 0), "cycle %u expired %llu", cycle,
		    (unsigned long long)removed);
		CHECK(store_checkpoint(fx.store) == STATUS_OK, "checkpoint");
		for (size_t f = 0; f < FILES; f++)
			sizes[cycle][f] = file_size(files[f]);
	}
	/*
	 * freed pages serve the next cycles: once two cycles have shaped
	 * the trees, none after them outgrows the larger of the two
	 */
	for (size_t f = 0; f < FILES; f++) {
		long long settled = sizes[0][f] > sizes[1][f] ? sizes[0][f] :
		    sizes[1][f];

		for (unsigned cycle = 2; cycle < CYCLES; cycle++)
			CHECK(sizes[0][f] > 0 && sizes[cycle][f] <= settled,
			    "%s: %lld bytes after two cycles, %lld after "
			    "cycle %u", files[f], settled, sizes[cycle][f],
			    cycle + 1);
	}
	expect_services("default", 2, "A=2");
}

/* Expires what is due, and checks how many records went. */
static void
expect_expired(uint64_t want, const char *what)
{
	uint64_t removed = 0;
	enum status status = store_expire(fx.store, &removed);

	CHECK(status == STATUS_OK && removed == want, "%s: %s, %llu removed, "
	    "expected %llu", what, status_name(status),
	    (unsigned long long)removed, (unsigned long long)want);
}

/* Checks the ids of env's audit log, newest first ("" for none). */
static void
expect_audit_ids(const char *env, const char *want)
{
	struct audit_entry *log;
	char got[256];
	size_t count = 0, n = 0;

	if ((log = all_events(env, &count)) == NULL)
		return;
	got[0] = '\0';
	for (size_t i = 0; i < count && n < sizeof(got); i++)
		n += (size_t)snprintf(got + n, sizeof(got) - n, "%s%llu",
		    i ? "," : "", (unsigned long long)log[i].id);
	CHECK(strcmp(got, want) == 0, "the audit log of %s: [%s], expected "
	    "[%s]", env, got, want);
	free(log);
}

/*
 * An eventId whose first report expired, reported again (a new first
 * report), is not removed with the old report's audit entry: it is
 * still a duplicate, until its own entry expires.
 */
static void
test_reused_event_expiry(void)
{
	REQUIRE_STORE(fx.store);
	if (!reopen_with(true, 300, 5000))
		return;
	expect(R(.name = "A", .version = 1, .event_id = "e1"), STATUS_OK,
	    OUTCOME_APPLIED, 1);
	sleep_ms(400);
	/* expired: another report may take it */
	expect(R(.name = "B", .version = 1, .event_id = "e1"), STATUS_OK,
	    OUTCOME_APPLIED, 2);
	expect_expired(0, "the first report of e1");
	expect(R(.name = "B", .version = 1, .event_id = "e1"), STATUS_OK,
	    OUTCOME_DUPLICATE, 2);
	expect(R(.name = "A", .version = 1, .event_id = "e1"), STATUS_CONFLICT,
	    OUTCOME_APPLIED, 0);
	sleep_ms(400);
	/* the second report's entry takes it */
	expect_expired(1, "the second report of e1");
	expect(R(.name = "A", .version = 1, .event_id = "e1"), STATUS_OK,
	    OUTCOME_UNCHANGED, 2);
	expect_audit_ids("default", "4,3,2,1");
}

/*
 * The audit log's expiry never passes the entries the eventIds' expiry
 * has not walked yet (here with an event retention longer than the
 * audit's, which the configuration refuses): an eventId never outlives
 * its entry, and is not left behind.
 */
static void
test_audit_expiry_waits_for_events(void)
{
	REQUIRE_STORE(fx.store);
	if (!reopen_with(true, 1000, 200))
		return;
	expect(R(.name = "A", .version = 1, .event_id = "e1"), STATUS_OK,
	    OUTCOME_APPLIED, 1);
	sleep_ms(600);
	expect(R(.name = "A", .version = 2, .event_id = "e2"), STATUS_OK,
	    OUTCOME_APPLIED, 2);
	expect(R(.name = "B", .version = 1), STATUS_OK, OUTCOME_APPLIED, 3);
	sleep_ms(500);
	/* e1 and its entry; e2's entry and the next are past the mark */
	expect_expired(2, "the first entry");
	expect_audit_ids("default", "3,2");
	expect(R(.name = "A", .version = 2, .event_id = "e2"), STATUS_OK,
	    OUTCOME_DUPLICATE, 2);
	sleep_ms(1100);
	/* e2, then every entry */
	expect_expired(4, "the rest");
	expect_audit_ids("default", "");
	expect(R(.name = "A", .version = 2, .event_id = "e2"), STATUS_OK,
	    OUTCOME_UNCHANGED, 3);
	expect_audit_ids("default", "5");
}

/*
 * Makes, beside the closed store of the test, the database file of an
 * earlier version, with a record in it: through a Berkeley DB handle
 * joined to the environment, behind store.h.
 */
static bool
make_old_database(const char *file)
{
	DB_ENV *env = NULL;
	DB *db = NULL;
	DBT key, value;
	int rc;

	memset(&key, 0, sizeof(key));
	memset(&value, 0, sizeof(value));
	key.data = "e1";
	key.size = 2;
	value.data = "";
	value.size = 1;
	if ((rc = db_env_create(&env, 0)) == 0 &&
	    (rc = env->open(env, fx.dir, DB_JOINENV, 0)) == 0 &&
	    (rc = db_create(&db, env, 0)) == 0 &&
	    (rc = db->open(db, NULL, file, NULL, DB_BTREE, DB_CREATE |
	    DB_AUTO_COMMIT, 0600)) == 0)
		rc = db->put(db, NULL, &key, &value, 0);
	if (db != NULL)
		db->close(db, 0);
	if (env != NULL)
		env->close(env, 0);
	return CHECK(rc == 0 && file_size(file) > 0, "make %s: %s", file,
	    db_strerror(rc));
}

/*
 * Seeds changes in two environments, then closes the store and removes
 * its periods.db, or puts there one of the layout before each service's
 * changes were its key's duplicates (old_layout): opened again, the
 * store builds it from changes.db, and each service's periods are as
 * they were.
 */
static void
periods_built(bool old_layout)
{
	static const struct period_want a[] = { { 3, 6, 0 }, { 2, 3, 5 },
	    { 1, 1, 3 } };
	char path[128];

	REQUIRE_STORE(fx.store);
	expect(R(.name = "A", .version = 1), STATUS_OK, OUTCOME_APPLIED, 1);
	expect(R(.name = "B", .version = 1), STATUS_OK, OUTCOME_APPLIED, 2);
	expect(R(.name = "A", .version = 2), STATUS_OK, OUTCOME_APPLIED, 3);
	expect(R(.env = "prod", .name = "A", .version = 9), STATUS_OK,
	    OUTCOME_APPLIED, 1);
	expect(R(.name = "B", .version = 2), STATUS_OK, OUTCOME_APPLIED, 4);
	expect(R(.name = "A", .removal = true), STATUS_OK, OUTCOME_REMOVED, 5);
	expect(R(.name = "A", .version = 3), STATUS_OK, OUTCOME_APPLIED, 6);
	CHECK(store_checkpoint(fx.store) == STATUS_OK, "checkpoint");
	store_close(fx.store);
	fx.store = NULL;
	snprintf(path, sizeof(path), "%s/periods.db", fx.dir);
	if (!CHECK(unlink(path) == 0, "remove %s", path) ||
	    (old_layout && !make_old_database("periods.db")) ||
	    !reopen_with(true, 0, 0))
		return;
	expect_periods("default", "A", a, 3);
	expect_periods("prod", "A", (const struct period_want[]){
	    { 9, 1, 0 } }, 1);
	expect_periods("default", "B", (const struct period_want[]){
	    { 2, 4, 0 }, { 1, 2, 4 } }, 2);
}

/* A store made before periods.db gains it when opened. */
static void
test_periods_built(void)
{
	periods_built(false);
}

/* A periods.db of the older layout is built again when opened. */
static void
test_periods_of_older_layout(void)
{
	periods_built(true);
}

/*
 * A store made when eventIds had an index of their times (event-times.db)
 * loses it when opened, and its eventIds expire through the audit log,
 * from its first entry.
 */
static void
test_event_times_dropped(void)
{
	REQUIRE_STORE(fx.store);
	expect(R(.name = "A", .version = 1, .event_id = "e1"), STATUS_OK,
	    OUTCOME_APPLIED, 1);
	store_close(fx.store);
	fx.store = NULL;
	if (!make_old_database("event-times.db") ||
	    !reopen_with(true, 300, 300))
		return;
	CHECK(file_size("event-times.db") == -1, "event-times.db is still "
	    "there: %lld bytes", file_size("event-times.db"));
	expect(R(.name = "A", .version = 1, .event_id = "e1"), STATUS_OK,
	    OUTCOME_DUPLICATE, 1);
	sleep_ms(400);
	/* e1 and the two entries */
	expect_expired(3, "the eventIds of the older store");
	expect_audit_ids("default", "");
	/* and open again: nothing left to remove */
	if (reopen_with(true, 0, 0))
		expect(R(.name = "A", .version = 1, .event_id = "e1"),
		    STATUS_OK, OUTCOME_UNCHANGED, 1);
}

/* The replay test: a stream of reports over services, and how it is spoiled. */
#define STREAM_REPORTS	10000
#define STREAM_SERVICES	200
#define STREAM_JITTER	8	/* a report arrives up to this many places late */
#define STREAM_DUPLICATE_PERCENT	10
#define STREAM_DUPLICATE_LAG	32	/* a duplicate arrives this many places later, at most */

/* One report of the stream. */
struct stream_report {
	unsigned	 service;
	bool		 removal;
	uint64_t	 version;
	uint64_t	 sequence;	/* increasing for each service */
};

/* One delivery: which report, in which place. */
struct delivery {
	size_t		 report;
	uint64_t	 place;
};

/* A deterministic generator (Knuth's MMIX LCG), so that a failure repeats. */
static uint64_t
stream_random(uint64_t *state)
{
	*state = *state * UINT64_C(6364136223846793005) +
	    UINT64_C(1442695040888963407);
	return *state >> 33;
}

/* Orders deliveries by place, then by report (qsort). */
static int
compare_deliveries(const void *x, const void *y)
{
	const struct delivery *a = x, *b = y;

	if (a->place != b->place)
		return a->place < b->place ? -1 : 1;
	return a->report < b->report ? -1 : a->report > b->report;
}

/* Sends report i of stream to env, its eventId "r<i>". */
static enum status
send_stream_report(const char *env, const struct stream_report *stream,
    size_t i, struct deploy_result *result)
{
	char name[32], id[32];

	snprintf(name, sizeof(name), "service-%03u", stream[i].service);
	snprintf(id, sizeof(id), "r%zu", i);
	return send_report(fx.store, R(.env = env, .name = name,
	    .removal = stream[i].removal, .version = stream[i].version,
	    .event_id = id, SEQ(stream[i].sequence)), result);
}

/*
 * True when the versions of the periods in got (newest first) are, in
 * order, a subsequence of those in want.
 */
static bool
periods_subsequence(const struct service_period *got, size_t got_count,
    const struct service_period *want, size_t want_count)
{
	size_t w = 0;

	for (size_t g = 0; g < got_count; g++) {
		while (w < want_count && want[w].version != got[g].version)
			w++;
		if (w++ == want_count)
			return false;
	}
	return true;
}

/*
 * A stream of reports over many services, with sequences, removals and
 * re-deploys, delivered with duplicates and local reordering, ends in
 * the snapshot and digest of the clean, ordered stream: each service's periods a
 * subsequence of the clean ones, no applied version going back by its
 * key, and every duplicate answered as its first delivery was.
 */
static void
test_replay(void)
{
	struct stream_report *stream = calloc(STREAM_REPORTS, sizeof(*stream));
	struct delivery *deliveries = calloc(STREAM_REPORTS * 2,
	    sizeof(*deliveries));
	struct deploy_result *first = calloc(STREAM_REPORTS, sizeof(*first));
	enum status *first_status = calloc(STREAM_REPORTS,
	    sizeof(*first_status));
	bool present[STREAM_SERVICES] = { false }, *seen = calloc(
	    STREAM_REPORTS, sizeof(*seen));
	struct service_list clean, messy;
	char clean_digest[DIGEST_TEXT_SIZE] = "";
	char messy_digest[DIGEST_TEXT_SIZE] = "";
	struct audit_entry *log = calloc(HISTORY_LIMIT, sizeof(*log));
	uint64_t last_applied[STREAM_SERVICES] = { 0 };
	uint64_t state = UINT64_C(20261207), before = 0;
	size_t count = 0, n = 0, duplicates = 0, stale = 0, removals = 0;
	unsigned wrong = 0;
	bool more = true;
	enum status status;

	service_list_init(&clean);
	service_list_init(&messy);
	REQUIRE_STORE(fx.store);
	if (!CHECK(stream != NULL && deliveries != NULL && first != NULL &&
	    first_status != NULL && seen != NULL && log != NULL, "memory") ||
	    !reopen_with(false, 0, 0))
		goto done;

	/* the clean stream, delivered in order */
	for (size_t i = 0; i < STREAM_REPORTS; i++) {
		unsigned s = (unsigned)(stream_random(&state) % STREAM_SERVICES);
		struct deploy_result r;

		stream[i].service = s;
		stream[i].sequence = i + 1;
		stream[i].removal = present[s] &&
		    stream_random(&state) % 10 == 0;
		stream[i].version = stream[i].removal ? 0 :
		    1 + stream_random(&state) % 20;
		removals += stream[i].removal;
		present[s] = !stream[i].removal;
		status = send_stream_report("clean", stream, i, &r);
		if (!CHECK(status == STATUS_OK, "clean report %zu: %s", i,
		    status_name(status)))
			goto done;
	}

	/* delivered late by a few places, a tenth of them twice */
	for (size_t i = 0; i < STREAM_REPORTS; i++) {
		deliveries[n].report = i;
		deliveries[n++].place = i + stream_random(&state) % STREAM_JITTER;
		if (stream_random(&state) % 100 < STREAM_DUPLICATE_PERCENT) {
			deliveries[n].report = i;
			deliveries[n++].place = i + 1 +
			    stream_random(&state) % STREAM_DUPLICATE_LAG;
		}
	}
	qsort(deliveries, n, sizeof(*deliveries), compare_deliveries);
	for (size_t d = 0; d < n && wrong < 5; d++) {
		size_t i = deliveries[d].report;
		struct deploy_result r;

		status = send_stream_report("messy", stream, i, &r);
		/* the removal of a service already absent there: not found */
		if (!CHECK(status == STATUS_OK || (status == STATUS_NOT_FOUND &&
		    stream[i].removal), "delivery %zu of report %zu: %s", d, i,
		    status_name(status))) {
			wrong++;
			continue;
		}
		if (!seen[i]) {
			seen[i] = true;
			first[i] = r;
			first_status[i] = status;
			stale += status == STATUS_OK &&
			    r.outcome == OUTCOME_STALE;
			continue;
		}
		/* a duplicate: answered as the first time, if that was answered */
		duplicates++;
		if (first_status[i] == STATUS_OK && !CHECK(status == STATUS_OK &&
		    r.outcome == OUTCOME_DUPLICATE &&
		    r.system_version == first[i].system_version,
		    "report %zu again: %s %s %llu, first %llu", i,
		    status_name(status), deploy_outcome_name(r.outcome),
		    (unsigned long long)r.system_version,
		    (unsigned long long)first[i].system_version))
			wrong++;
	}
	CHECK(duplicates > STREAM_REPORTS / 20 && stale > 0 && removals > 100,
	    "the stream spoils enough: %zu duplicates, %zu stale, %zu "
	    "removals", duplicates, stale, removals);

	/* the same end, and so the same digest */
	status = store_services(fx.store, "clean", 0, &clean);
	if (status == STATUS_OK)
		status = store_services(fx.store, "messy", 0, &messy);
	CHECK(status == STATUS_OK && clean.count > STREAM_SERVICES / 2 &&
	    lists_equal(&clean, &messy), "the final snapshots: %s, %zu and "
	    "%zu services", status_name(status), clean.count, messy.count);
	CHECK(digest_services(&clean, clean_digest) &&
	    digest_services(&messy, messy_digest) &&
	    strcmp(clean_digest, messy_digest) == 0, "the final digests: %s "
	    "and %s", clean_digest, messy_digest);
	fprintf(stderr, "replay: %d reports, %zu removals; %zu deliveries, "
	    "%zu duplicates, %zu stale; final %zu and %zu services, %s\n",
	    STREAM_REPORTS, removals, n, duplicates, stale, clean.count,
	    messy.count, messy_digest);

	/* each service's periods: a subsequence of the clean ones */
	for (unsigned s = 0; s < STREAM_SERVICES && wrong < 10; s++) {
		struct service_period *want = NULL, *got = NULL;
		size_t want_count = 0, got_count = 0;
		char name[32];
		enum status want_status, got_status;

		snprintf(name, sizeof(name), "service-%03u", s);
		want_status = store_service_history(fx.store, "clean", name,
		    strlen(name), &want, &want_count);
		got_status = store_service_history(fx.store, "messy", name,
		    strlen(name), &got, &got_count);
		if (!CHECK(want_status == got_status &&
		    (got_status == STATUS_NOT_FOUND ||
		    periods_subsequence(got, got_count, want, want_count)),
		    "the periods of %s: %zu of %zu", name, got_count,
		    want_count))
			wrong++;
		free(want);
		free(got);
	}

	/* no applied version goes back by its key: the audit log, oldest last */
	while (more && wrong < 10) {
		status = store_events(fx.store, "messy", before, HISTORY_LIMIT,
		    log, &count, &more);
		if (!CHECK(status == STATUS_OK && count > 0, "the audit log: %s",
		    status_name(status)))
			break;
		for (size_t e = 0; e < count; e++) {
			unsigned s;

			if (log[e].outcome != OUTCOME_APPLIED &&
			    log[e].outcome != OUTCOME_REMOVED)
				continue;
			s = (unsigned)strtoul(log[e].name + 8, NULL, 10);
			/* newest first: each key below the one after it */
			if (!CHECK(log[e].key.has_sequence &&
			    (last_applied[s] == 0 ||
			    log[e].key.sequence < last_applied[s]),
			    "entry %llu: %s applied at sequence %llu after %llu",
			    (unsigned long long)log[e].id, log[e].name,
			    (unsigned long long)log[e].key.sequence,
			    (unsigned long long)last_applied[s]))
				wrong++;
			last_applied[s] = log[e].key.sequence;
		}
		before = log[count - 1].id;
	}
done:
	service_list_free(&clean);
	service_list_free(&messy);
	free(stream);
	free(deliveries);
	free(first);
	free(first_status);
	free(seen);
	free(log);
}

static const CU_TestInfo reports_tests[] = {
	{ "duplicate", test_duplicate },
	{ "conflict", test_conflict },
	{ "stale", test_stale },
	{ "equal key", test_equal_key },
	{ "key precedence", test_key_precedence },
	{ "keyless", test_keyless },
	{ "removal", test_removal },
	{ "tombstone", test_tombstone },
	{ "keys follow their service", test_keys_follow },
	{ "keys of an older store folded", test_keys_folded },
	{ "audit log", test_audit_log },
	{ "reports counted by outcome", test_counts },
	{ "service history", test_service_history },
	{ "retention", test_retention },
	{ "a reused eventId expires with its own report",
	    test_reused_event_expiry },
	{ "the audit log expires no entry the eventIds' expiry has not read",
	    test_audit_expiry_waits_for_events },
	{ "periods built for an older store", test_periods_built },
	{ "periods of an older layout built again",
	  test_periods_of_older_layout },
	{ "event-times.db of an older store removed",
	    test_event_times_dropped },
	{ "replay", test_replay },
	CU_TEST_INFO_NULL
};

int
add_reports_suite(void)
{
	return add_suite_with_tests("reports", reports_setup, reports_teardown,
	    reports_tests);
}
