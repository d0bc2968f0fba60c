/*
 * The admin suite: what releasemgr-admin is made of. Export and import
 * (transfer.c) between two stores, the semantic audit (audit.c), and the
 * store's import, backup, restore and verification. Each test works in
 * temporary directories of its own. The audit's tests damage a store
 * behind its back with the store's own record helpers (store_private.h,
 * as test_records.c does): keyframes, the current map, periods.db.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "audit.h"
#include "json.h"
#include "store.h"
#include "store_private.h"
#include "tests.h"
#include "transfer.h"

#define STORES	3

/* The stores of the running test, in their own directories. */
static struct {
	char		 dir[STORES][64];
	struct store	*store[STORES];
} fx;

/* Opens store i in its directory (recovering, as releasemgr-admin does). */
static bool
open_store(int i)
{
	struct store_options options = test_store_options(fx.dir[i], STORE_RECOVER);

	return CHECK(store_open(&options, &fx.store[i]) == STATUS_OK,
	    "store_open(%s)", fx.dir[i]);
}

/* Opens store i anew, in an empty directory of its own. */
static bool
open_fresh_store(int i)
{
	store_close(fx.store[i]);
	fx.store[i] = NULL;
	temp_dir_remove(fx.dir[i]);
	return temp_dir_create(fx.dir[i], sizeof(fx.dir[i])) && open_store(i);
}

static void
admin_setup(void)
{
	memset(&fx, 0, sizeof(fx));
	for (int i = 0; i < STORES; i++)
		temp_dir_create(fx.dir[i], sizeof(fx.dir[i]));
}

static void
admin_teardown(void)
{
	for (int i = 0; i < STORES; i++) {
		store_close(fx.store[i]);
		if (fx.dir[i][0] != '\0')
			temp_dir_remove(fx.dir[i]);
	}
}

/*
 * A report of name into environment: at version, or with removal (and
 * version 0) its removal; with a reason when given.
 */
static enum status
report(struct store *store, const char *environment, const char *name,
    bool removal, uint64_t version, const char *reason)
{
	struct deploy d;
	struct deploy_result result;

	memset(&d, 0, sizeof(d));
	snprintf(d.environment, sizeof(d.environment), "%s", environment);
	d.name_len = (size_t)snprintf(d.name, sizeof(d.name), "%s", name);
	d.removal = removal;
	d.version = version;
	if (reason != NULL) {
		d.reason.present = true;
		d.reason.len = (size_t)snprintf(d.reason.text,
		    sizeof(d.reason.text), "%s", reason);
	}
	return store_deploy(store, &d, &result);
}

/* A deploy of name at version into environment, with a reason when given. */
static enum status
deploy(struct store *store, const char *environment, const char *name,
    uint64_t version, const char *reason)
{
	return report(store, environment, name, false, version, reason);
}

/* Fills store with two environments, metadata, and keyframes crossed. */
static void
seed(struct store *store)
{
	for (unsigned n = 1; n <= 30; n++)
		CHECK(deploy(store, "prod", n % 7 == 0 ? "a\"<b>\\" : "svc",
		    n, n % 2 ? "why \xc3\xa9" : NULL) == STATUS_OK, "deploy %u", n);
	CHECK(deploy(store, "dev", "only", 1, NULL) == STATUS_OK, "deploy dev");
}

/*
 * Fills environment "e" of store with removals and re-deploys: a removed
 * service deployed again, at a version it had and at a new one, and
 * services that end removed.
 */
static void
seed_removals(struct store *store)
{
	static const struct {
		const char	*name;
		bool		 removal;
		uint64_t	 version;
	} steps[] = {
		{ "a", false, 1 }, { "b", false, 1 }, { "a", false, 2 },
		{ "a", true, 0 }, { "b", false, 2 }, { "a", false, 2 },
		{ "b", true, 0 }, { "a", false, 4 }, { "c", false, 1 },
		{ "c", true, 0 }, { "b", false, 1 }, { "a", true, 0 },
		{ "a", false, 5 },
	};

	for (size_t i = 0; i < sizeof(steps) / sizeof(*steps); i++)
		CHECK(report(store, "e", steps[i].name, steps[i].removal,
		    steps[i].version, NULL) == STATUS_OK, "step %zu", i);
}

/* The export of store as a malloc'd string (the caller frees it). */
static char *
export_text(struct store *store, uint64_t *lines)
{
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);

	CHECK(out != NULL, "open_memstream");
	if (out == NULL)
		return NULL;
	CHECK(transfer_export(store, out, lines) == STATUS_OK, "export");
	fclose(out);
	return text;
}

/* Imports text into store; the status and the lines imported. */
static enum status
import_text(struct store *store, const char *text, uint64_t *lines)
{
	FILE *in = fmemopen((void *)text, strlen(text), "r");
	enum status status;

	if (!CHECK(in != NULL, "fmemopen"))
		return STATUS_SYSTEM;
	status = transfer_import(store, in, false, lines);
	fclose(in);
	return status;
}

/* Audits store; the faults found (UINT64_MAX when it could not be read). */
static uint64_t
audit_faults(struct store *store)
{
	struct audit_totals totals;
	FILE *report = fopen("/dev/null", "w");
	enum status status = audit_store(store, report, &totals);

	fclose(report);
	return status == STATUS_OK ? totals.faults : UINT64_MAX;
}

static void
test_export_import_round_trip(void)
{
	uint64_t lines = 0, imported = 0, again_lines = 0;
	char *text = NULL, *again = NULL;

	if (!open_store(0) || !open_store(1))
		return;
	seed(fx.store[0]);
	text = export_text(fx.store[0], &lines);
	CHECK(lines == 31, "31 versions exported, not %llu",
	    (unsigned long long)lines);
	CHECK(text != NULL && strstr(text, "\"reason\":\"why \xc3\xa9\"") != NULL,
	    "metadata exported");
	if (text != NULL)
		CHECK(import_text(fx.store[1], text, &imported) == STATUS_OK &&
		    imported == 31, "import of the export");
	again = export_text(fx.store[1], &again_lines);
	CHECK(text != NULL && again != NULL && strcmp(text, again) == 0,
	    "the imported store exports the same text");
	CHECK(audit_faults(fx.store[0]) == 0, "no faults in the original");
	CHECK(audit_faults(fx.store[1]) == 0, "no faults in the copy");
	free(text);
	free(again);
}

/* Imports into environment e: name at version, at its position. */
static enum status
import_change(uint64_t system_version, const char *name, bool has_previous,
    uint64_t previous, uint64_t version, uint64_t created_ms)
{
	struct deploy d;
	struct change_position position = { system_version, created_ms,
	    has_previous, previous };

	memset(&d, 0, sizeof(d));
	memcpy(d.environment, "e", 2);
	d.name_len = (size_t)snprintf(d.name, sizeof(d.name), "%s", name);
	d.version = version;
	return store_import(fx.store[0], &d, &position);
}

static void
test_import_refuses_what_does_not_follow(void)
{
	/* after versions 1 (a 1, at 1000 ms) and 2 (a 1 -> 2, at 2000 ms) */
	static const struct {
		const char	*label;
		uint64_t	 system_version;
		const char	*name;
		bool		 has_previous;
		uint64_t	 previous, version, created_ms;
		enum status	 expected;
	} cases[] = {
		{ "version 1", 1, "a", false, 0, 1, 1000, STATUS_OK },
		{ "version 2", 2, "a", true, 1, 2, 2000, STATUS_OK },
		{ "a gap", 4, "a", true, 2, 3, 3000, STATUS_INVALID },
		{ "a number already taken", 2, "a", true, 2, 3, 3000,
		  STATUS_INVALID },
		{ "new, but the service exists", 3, "a", false, 0, 3, 3000,
		  STATUS_INVALID },
		{ "the wrong previous version", 3, "a", true, 1, 3, 3000,
		  STATUS_INVALID },
		{ "a change that changes nothing", 3, "a", true, 2, 2, 3000,
		  STATUS_INVALID },
		{ "a previous version of an absent service", 3, "b", true, 2, 1,
		  3000, STATUS_INVALID },
		{ "a time before the current one", 3, "b", false, 0, 1, 1999,
		  STATUS_INVALID },
	};
	struct environment_state state;

	if (!open_store(0))
		return;
	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++)
		CHECK(import_change(cases[i].system_version, cases[i].name,
		    cases[i].has_previous, cases[i].previous, cases[i].version,
		    cases[i].created_ms) == cases[i].expected, "%s",
		    cases[i].label);
	CHECK(store_current(fx.store[0], "e", &state) == STATUS_OK &&
	    state.system_version == 2 && state.updated_ms == 2000,
	    "nothing refused was written");
	CHECK(import_change(3, "b", false, 0, 1, 2000) == STATUS_OK,
	    "the next one, at the same millisecond");
	CHECK(audit_faults(fx.store[0]) == 0, "no faults");
}

static void
test_import_errors(void)
{
	static const struct {
		const char	*label;
		const char	*text;
		uint64_t	 imported;	/* lines in before it stopped */
	} cases[] = {
		{ "empty", "", 0 },
		{ "no header", "{\"environment\":\"e\"}\n", 0 },
		{ "a later format",
		  "{\"format\":\"releasemgr-export\",\"formatVersion\":2,"
		  "\"environments\":0,\"systemVersions\":0}\n", 0 },
		{ "fewer lines than announced",
		  "{\"format\":\"releasemgr-export\",\"formatVersion\":1,"
		  "\"environments\":1,\"systemVersions\":2}\n"
		  "{\"environment\":\"e\",\"systemVersion\":1,\"createdAt\":"
		  "\"2026-01-01T00:00:00.000Z\",\"name\":\"a\","
		  "\"previousVersion\":null,\"version\":1}\n", 1 },
		{ "previousVersion missing",
		  "{\"format\":\"releasemgr-export\",\"formatVersion\":1,"
		  "\"environments\":1,\"systemVersions\":1}\n"
		  "{\"environment\":\"e\",\"systemVersion\":1,\"createdAt\":"
		  "\"2026-01-01T00:00:00.000Z\",\"name\":\"a\",\"version\":1}\n",
		  0 },
		{ "a key given twice",
		  "{\"format\":\"releasemgr-export\",\"formatVersion\":1,"
		  "\"environments\":1,\"systemVersions\":1}\n"
		  "{\"environment\":\"e\",\"systemVersion\":1,\"systemVersion\":1,"
		  "\"createdAt\":\"2026-01-01T00:00:00.000Z\",\"name\":\"a\","
		  "\"previousVersion\":null,\"version\":1}\n", 0 },
		{ "a bad time",
		  "{\"format\":\"releasemgr-export\",\"formatVersion\":1,"
		  "\"environments\":1,\"systemVersions\":1}\n"
		  "{\"environment\":\"e\",\"systemVersion\":1,\"createdAt\":"
		  "\"2026-02-30T00:00:00.000Z\",\"name\":\"a\","
		  "\"previousVersion\":null,\"version\":1}\n", 0 },
		{ "no environment",
		  "{\"format\":\"releasemgr-export\",\"formatVersion\":1,"
		  "\"environments\":1,\"systemVersions\":1}\n"
		  "{\"systemVersion\":1,\"createdAt\":\"2026-01-01T00:00:00.000Z\","
		  "\"name\":\"a\",\"previousVersion\":null,\"version\":1}\n", 0 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		uint64_t imported = 99;

		if (!open_fresh_store(0))
			return;
		CHECK(import_text(fx.store[0], cases[i].text, &imported) ==
		    STATUS_INVALID && imported == cases[i].imported,
		    "%s: refused after %llu lines", cases[i].label,
		    (unsigned long long)imported);
	}
}

static void
test_backup_restore_verify(void)
{
	struct store_options options = test_store_options(fx.dir[1], STORE_RECOVER);
	char *text = NULL, *again = NULL;
	uint64_t lines;
	bool exists;

	if (!open_store(0))
		return;
	seed(fx.store[0]);
	CHECK(store_verify_files(fx.store[0]) == STATUS_OK, "verify the original");
	/* the backup directory exists and is empty, as the tool requires */
	CHECK(store_backup(fx.store[0], fx.dir[2]) == STATUS_OK, "backup");
	CHECK(store_find(fx.dir[2], &exists) == STATUS_OK && exists,
	    "the backup holds a store");
	CHECK(store_restore(&options, fx.dir[2]) == STATUS_OK, "restore");
	CHECK(store_restore(&options, fx.dir[2]) == STATUS_INVALID,
	    "no restore over a store");
	if (open_store(1)) {
		CHECK(store_verify_files(fx.store[1]) == STATUS_OK,
		    "verify the restored store");
		CHECK(audit_faults(fx.store[1]) == 0, "no faults");
		text = export_text(fx.store[0], &lines);
		again = export_text(fx.store[1], &lines);
		CHECK(text != NULL && again != NULL && strcmp(text, again) == 0,
		    "the restored store exports what the original does");
	}
	free(text);
	free(again);
}

static void
test_restore_refuses_what_is_no_backup(void)
{
	struct store_options options = test_store_options(fx.dir[1], STORE_RECOVER);
	bool exists = true;

	CHECK(store_restore(&options, fx.dir[0]) == STATUS_INVALID,
	    "an empty directory is not a backup");
	CHECK(store_find(fx.dir[1], &exists) == STATUS_OK && !exists,
	    "nothing was written");
	CHECK(store_restore(&options, "/nonexistent/backup") ==
	    STATUS_NOT_FOUND, "a missing directory");
}

/*
 * Writes a keyframe of one service, name at version, as the keyframe of
 * environment at system_version, behind the store's back.
 */
static bool
put_keyframe_of(struct store *store, const char *environment,
    uint64_t system_version, const char *name, uint64_t version)
{
	struct environment_record record;
	struct service_list list;
	unsigned char key[VERSIONED_KEY_SIZE], *value = NULL;
	size_t size = 0;
	bool ok;

	service_list_init(&list);
	ok = get_environment(store, NULL, environment, 0, &record) ==
	    STATUS_OK && service_list_append(&list, name, strlen(name),
	    version) && record_keyframe_size(&list, &size) &&
	    (value = malloc(size)) != NULL;
	if (ok) {
		record_keyframe_encode(&list, value);
		record_versioned_key(key, record.id, system_version);
		ok = put_value(store, store->keyframes, NULL, key, sizeof(key),
		    value, size, 0) == STATUS_OK;
	}
	free(value);
	service_list_free(&list);
	return ok;
}

/* A keyframe below the current version that says something else. */
static bool
damage_keyframe(struct store *store)
{
	return put_keyframe_of(store, "prod", 3, "svc", 999);
}

/* A keyframe where no version is yet. */
static bool
add_keyframe_beyond(struct store *store)
{
	return put_keyframe_of(store, "prod", 40, "svc", 40);
}

/* A current.db entry with a version no change made. */
static bool
damage_current(struct store *store)
{
	struct environment_record record;
	struct current_record current;
	unsigned char key[SERVICE_KEY_MAX], value[CURRENT_VALUE_MAX];
	size_t key_len;

	if (get_environment(store, NULL, "prod", 0, &record) != STATUS_OK)
		return false;
	key_len = record_service_key(key, record.id, "svc", 3);
	memset(&current, 0, sizeof(current));
	current.version = 999;
	current.since = record.current;
	return put_value(store, store->current, NULL, key, key_len, value,
	    record_current_encode(&current, value), 0) == STATUS_OK;
}

/*
 * The periods.db record of the change that made system_version of
 * environment: its key (its service's, *key_len bytes) and its value.
 */
static bool
period_of(struct store *store, const char *environment,
    uint64_t system_version, unsigned char key[SERVICE_KEY_MAX],
    size_t *key_len, struct period_record *period)
{
	struct environment_record record;
	struct change_record change;

	memset(&change, 0, sizeof(change));
	if (get_environment(store, NULL, environment, 0, &record) !=
	    STATUS_OK || store_change(store, environment, system_version,
	    &change) != STATUS_OK)
		return false;
	*key_len = record_service_key(key, record.id, change.name,
	    change.name_len);
	period->system_version = system_version;
	period->removed = change.removed;
	period->version = change.version;
	period->created_ms = change.created_ms;
	return true;
}

/*
 * Deletes the periods.db record of system_version of environment behind
 * the store's back; *period is what it held.
 */
static bool
delete_period_of(struct store *store, const char *environment,
    uint64_t system_version, struct period_record *period)
{
	unsigned char key_buf[SERVICE_KEY_MAX], value[PERIOD_VALUE_SIZE];
	DB_TXN *txn = NULL;
	DBC *cursor = NULL;
	DBT key, data;
	size_t key_len;
	int rc;

	if (!period_of(store, environment, system_version, key_buf, &key_len,
	    period))
		return false;
	record_period_encode(period, value);
	memset(&key, 0, sizeof(key));
	memset(&data, 0, sizeof(data));
	key.data = key_buf;
	key.size = (u_int32_t)key_len;
	data.data = value;
	data.size = sizeof(value);
	if ((rc = store->env->txn_begin(store->env, NULL, &txn, 0)) != 0)
		return false;
	if ((rc = store->periods->cursor(store->periods, txn, &cursor,
	    0)) == 0 && (rc = cursor->get(cursor, &key, &data,
	    DB_GET_BOTH)) == 0)
		rc = cursor->del(cursor, 0);
	if (cursor != NULL)
		cursor->close(cursor);
	if (rc == 0)
		return txn->commit(txn, 0) == 0;
	txn->abort(txn);
	return false;
}

/*
 * Writes the periods.db record of system_version of environment again,
 * behind the store's back: a removal (removed) or version, at the time
 * of its change plus shift_ms.
 */
static bool
put_period_of(struct store *store, const char *environment,
    uint64_t system_version, bool removed, uint64_t version,
    uint64_t shift_ms)
{
	unsigned char key[SERVICE_KEY_MAX], value[PERIOD_VALUE_SIZE];
	struct period_record period;
	size_t key_len;

	if (!delete_period_of(store, environment, system_version, &period) ||
	    !period_of(store, environment, system_version, key, &key_len,
	    &period))
		return false;
	period.removed = removed;
	period.version = version;
	period.created_ms += shift_ms;
	record_period_encode(&period, value);
	return put_value(store, store->periods, NULL, key, key_len, value,
	    sizeof(value), DB_NODUPDATA) == STATUS_OK;
}

/* A period of svc (seed) with another version. */
static bool
damage_period_version(struct store *store)
{
	return put_period_of(store, "prod", 5, false, 999, 0);
}

/* A period of svc (seed) that starts a millisecond late. */
static bool
damage_period_time(struct store *store)
{
	return put_period_of(store, "prod", 5, false, 5, 1);
}

/* A period of svc (seed) missing. */
static bool
delete_period(struct store *store)
{
	struct period_record period;

	return delete_period_of(store, "prod", 5, &period);
}

/* The one change of a service (seed's dev) missing: the store knows it not. */
static bool
forget_service(struct store *store)
{
	struct period_record period;

	return delete_period_of(store, "dev", 1, &period);
}

/* The first removal of a (seed_removals) missing: a period runs on. */
static bool
delete_removal(struct store *store)
{
	struct period_record period;

	return delete_period_of(store, "e", 4, &period);
}

/* The removal of c (seed_removals) recorded as a version: a period more. */
static bool
removal_as_version(struct store *store)
{
	return put_period_of(store, "e", 10, false, 7, 0);
}

/*
 * What the store derived from the changes, damaged behind its back, is
 * a fault of the audit: a keyframe, a keyframe beyond the current
 * version, an entry of the current map, a service's periods. Each case
 * has a store of its own.
 */
static void
test_audit_finds_damage(void)
{
	static const struct {
		const char	*label;
		void		(*seed)(struct store *);
		bool		(*damage)(struct store *);
	} cases[] = {
		{ "a damaged keyframe", seed, damage_keyframe },
		{ "a keyframe beyond the current version", seed,
		  add_keyframe_beyond },
		{ "a damaged current.db entry", seed, damage_current },
		{ "a period with another version", seed,
		  damage_period_version },
		{ "a period with another time", seed, damage_period_time },
		{ "a period missing", seed, delete_period },
		{ "a service periods.db does not know", seed, forget_service },
		{ "a removal periods.db does not record", seed_removals,
		  delete_removal },
		{ "a removal periods.db records as a version", seed_removals,
		  removal_as_version },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		if (!open_fresh_store(0))
			return;
		cases[i].seed(fx.store[0]);
		CHECK(audit_faults(fx.store[0]) == 0, "%s: none before",
		    cases[i].label);
		if (!CHECK(cases[i].damage(fx.store[0]), "%s: damage",
		    cases[i].label))
			continue;
		/*
		 * verify runs in a process of its own: none of what this one
		 * read (its keyframe cache) survives into it
		 */
		store_close(fx.store[0]);
		fx.store[0] = NULL;
		if (open_store(0))
			CHECK(audit_faults(fx.store[0]) == 1, "%s: one fault",
			    cases[i].label);
	}
}

/*
 * Removals and re-deploys are no fault: a removal ends a service's period
 * and starts none, a service deployed again starts a new one. The store
 * answers a's five periods, newest first.
 */
static void
test_audit_knows_removals(void)
{
	static const struct service_period want[] = {
		{ 5, 13, 0, false, 0, 0 },
		{ 4, 8, 0, true, 12, 0 },
		{ 2, 6, 0, true, 8, 0 },
		{ 2, 3, 0, true, 4, 0 },
		{ 1, 1, 0, true, 3, 0 },
	};
	struct service_period *periods = NULL;
	size_t count = 0;

	if (!open_store(0))
		return;
	seed_removals(fx.store[0]);
	CHECK(audit_faults(fx.store[0]) == 0, "no faults");
	CHECK(store_service_history(fx.store[0], "e", "a", 1, &periods,
	    &count) == STATUS_OK && count == sizeof(want) / sizeof(*want),
	    "a has %zu periods", count);
	for (size_t i = 0; i < count && i < sizeof(want) / sizeof(*want); i++)
		CHECK(periods[i].version == want[i].version &&
		    periods[i].from_system_version ==
		    want[i].from_system_version &&
		    periods[i].has_to == want[i].has_to &&
		    periods[i].to_system_version == want[i].to_system_version,
		    "period %zu", i);
	free(periods);
}

static const CU_TestInfo admin_tests[] = {
	{ "export, import, export again", test_export_import_round_trip },
	{ "import refuses what does not follow",
	  test_import_refuses_what_does_not_follow },
	{ "import errors", test_import_errors },
	{ "backup, restore, verify", test_backup_restore_verify },
	{ "audit finds damage", test_audit_finds_damage },
	{ "audit knows removals and re-deploys", test_audit_knows_removals },
	{ "restore refuses what is no backup",
	  test_restore_refuses_what_is_no_backup },
	CU_TEST_INFO_NULL,
};

int
add_admin_suite(void)
{
	return add_suite_with_tests("admin", admin_setup, admin_teardown,
	    admin_tests);
}
