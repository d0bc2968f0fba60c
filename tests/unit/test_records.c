/*
 * The records suite: the byte layouts of store_records.c. Every record
 * survives its encode and decode; the bytes of a few are pinned, so that
 * a change of layout cannot pass unnoticed (the files on disk keep them);
 * and each decode refuses what it did not write: a short or long value, a
 * wrong format byte, a text running past the end. Last, a malformed
 * record in a store is answered as a system error, never as data, and so
 * is a gap in an environment's history.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store.h"
#include "store_private.h"
#include "tests.h"

/*
 * Pins the environments.db value: format 3, then big-endian fields; and
 * formats 2, from stores made before the reports' counts, and 1, from
 * before the audit log, still read.
 */
static void
test_environment_layout(void)
{
	static const unsigned char expected[ENVIRONMENT_VALUE_SIZE] = {
		3,
		0x00, 0x00, 0x01, 0x02,				/* id */
		0, 0, 0, 0, 0, 0, 0x01, 0x00,			/* current */
		0x00, 0x00, 0x01, 0x8c, 0xba, 0x4b, 0x5e, 0x00,	/* updated */
		0x00, 0x00, 0x00, 0x03,				/* services */
		0, 0, 0, 0, 0, 0, 0x00, 0x81,			/* keyframe */
		0, 0, 0, 0, 0, 0, 0x02, 0x01,			/* next audit id */
		0, 0, 0, 0, 0, 0, 0x00, 0xfe,			/* applied */
		0, 0, 0, 0, 0, 0, 0x00, 0x07,			/* unchanged */
		0, 0, 0, 0, 0, 0, 0x00, 0x02,			/* duplicate */
		0, 0, 0, 0, 0, 0, 0x00, 0x01,			/* stale */
		0, 0, 0, 1, 0, 0, 0x00, 0x00			/* removed */
	};
	struct environment_record record = { 0x102, 0x100, 0x18cba4b5e00, 3,
	    0x81, 0x201, { 0xfe, 7, 2, 1, 0x100000000 } }, back;
	unsigned char value[ENVIRONMENT_VALUE_SIZE + 1];

	record_environment_encode(&record, value);
	CHECK(memcmp(value, expected, sizeof(expected)) == 0,
	    "environment bytes");
	CHECK(record_environment_decode(value, ENVIRONMENT_VALUE_SIZE, &back) &&
	    back.id == record.id && back.current == record.current &&
	    back.updated_ms == record.updated_ms &&
	    back.services == record.services &&
	    back.keyframe == record.keyframe &&
	    back.next_audit_id == record.next_audit_id &&
	    memcmp(back.reports, record.reports, sizeof(back.reports)) == 0,
	    "environment back");
	CHECK(!record_environment_decode(value, ENVIRONMENT_VALUE_SIZE - 1,
	    &back), "short environment");
	CHECK(!record_environment_decode(value, ENVIRONMENT_VALUE_SIZE + 1,
	    &back), "long environment");
	/* format 2: the same fields without the counts, which start at 0 */
	value[0] = 2;
	CHECK(record_environment_decode(value, ENVIRONMENT_VALUE_SIZE - 40,
	    &back) && back.id == record.id && back.keyframe == record.keyframe &&
	    back.next_audit_id == record.next_audit_id &&
	    back.reports[OUTCOME_APPLIED] == 0 &&
	    back.reports[OUTCOME_REMOVED] == 0, "environment of format 2");
	CHECK(!record_environment_decode(value, ENVIRONMENT_VALUE_SIZE, &back),
	    "format 2 at the size of format 3");
	/* format 1: without the audit id either, which starts at 1 */
	value[0] = 1;
	CHECK(record_environment_decode(value, ENVIRONMENT_VALUE_SIZE - 48,
	    &back) && back.id == record.id && back.keyframe == record.keyframe &&
	    back.next_audit_id == 1 && back.reports[OUTCOME_STALE] == 0,
	    "environment of format 1");
	CHECK(!record_environment_decode(value, ENVIRONMENT_VALUE_SIZE - 40,
	    &back), "format 1 at the size of format 2");
	value[0] = 4;
	CHECK(!record_environment_decode(value, ENVIRONMENT_VALUE_SIZE, &back),
	    "environment of another format");
}

/* The fixed-size values and keys: both ways, and refused at other sizes. */
static void
test_fixed_records(void)
{
	static const uint64_t versions[] = { 0, 1, 255, 256, UINT32_MAX,
	    (uint64_t)UINT32_MAX + 1, SYSTEM_VERSION_MAX, UINT64_MAX };
	const size_t count = sizeof(versions) / sizeof(*versions);
	unsigned char value[CURRENT_VALUE_MAX + 1], key[VERSIONED_KEY_SIZE];
	unsigned char previous_key[VERSIONED_KEY_SIZE];
	struct current_record current, current_back;
	uint64_t version_back;
	uint32_t id_back, next;

	memset(&current, 0, sizeof(current));	/* no keys */
	for (size_t i = 0; i < count; i++) {
		current.version = versions[i];
		current.since = versions[count - 1 - i];
		record_current_encode(&current, value);
		CHECK(record_current_decode(value, CURRENT_VALUE_SIZE,
		    &current_back) && current_back.version == current.version &&
		    current_back.since == current.since, "current %zu", i);
		CHECK(!record_current_decode(value, CURRENT_VALUE_SIZE - 1,
		    &current_back) && !record_current_decode(value,
		    CURRENT_VALUE_SIZE + 1, &current_back), "current %zu size", i);

		record_versioned_key(key, (uint32_t)i + 7, versions[i]);
		CHECK(record_versioned_key_decode(key, sizeof(key), &id_back,
		    &version_back) && id_back == i + 7 &&
		    version_back == versions[i], "versioned key %zu", i);
		CHECK(!record_versioned_key_decode(key, sizeof(key) - 1,
		    &id_back, &version_back), "versioned key %zu size", i);
		/* byte order is numeric order, within an environment too */
		record_versioned_key(key, 7, versions[i]);
		CHECK(i == 0 || memcmp(previous_key, key, sizeof(key)) < 0,
		    "versioned key %zu sorts after the one before", i);
		memcpy(previous_key, key, sizeof(key));
	}
	record_next_id_encode(0x01020304, value);
	CHECK(value[0] == 1 && value[1] == 1 && value[2] == 2 &&
	    value[3] == 3 && value[4] == 4, "next id bytes");
	CHECK(record_next_id_decode(value, NEXT_ID_VALUE_SIZE, &next) &&
	    next == 0x01020304, "next id back");
	CHECK(!record_next_id_decode(value, NEXT_ID_VALUE_SIZE + 1, &next),
	    "long next id");
}

/* The current.db key: env id . name, and the bare prefix of an environment. */
static void
test_service_key(void)
{
	unsigned char key[SERVICE_KEY_MAX];
	char name[SERVICE_NAME_MAX];
	const char *name_back;
	size_t len, name_len;
	uint32_t id;

	memset(name, 'n', sizeof(name));
	len = record_service_key(key, 9, name, sizeof(name));
	CHECK(len == SERVICE_KEY_MAX && record_service_key_decode(key, len, &id,
	    &name_back, &name_len) && id == 9 && name_len == sizeof(name) &&
	    memcmp(name_back, name, name_len) == 0, "longest service key");
	CHECK(record_service_key(key, 9, "", 0) == ENV_ID_SIZE &&
	    key[0] == 0 && key[3] == 9, "prefix");
	CHECK(!record_service_key_decode(key, ENV_ID_SIZE - 1, &id, &name_back,
	    &name_len), "short service key");
}

/* One deploy to encode as a change. */
struct change_case {
	const char	*name;
	const char	*deployed_by;	/* NULL: absent */
	const char	*reason;
	const char	*release_hash;
	bool		 has_previous;
};

static void
set_metadata(struct metadata_text *out, const char *text)
{
	memset(out, 0, sizeof(*out));
	if (text == NULL)
		return;
	out->present = true;
	out->len = strlen(text);
	memcpy(out->text, text, out->len);
}

static bool
metadata_equals(const struct metadata_text *a, const struct metadata_text *b)
{
	return a->present == b->present && a->len == b->len &&
	    memcmp(a->text, b->text, a->len) == 0;
}

/* Every change survives both decodes; every truncation is refused. */
static void
test_change_records(void)
{
	static const struct change_case cases[] = {
		{ "api", NULL, NULL, NULL, false },
		{ "api", "ci", "a fix", "abc123", true },
		{ "", "", "", "", true },
		{ "web", NULL, "only a reason", NULL, false },
	};
	unsigned char value[CHANGE_VALUE_MAX + 1];
	struct change_position position;
	struct change_record back;
	struct deploy deploy;
	const char *name;
	size_t size, name_len;
	uint64_t version;

	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		memset(&deploy, 0, sizeof(deploy));
		deploy.name_len = strlen(cases[i].name);
		memcpy(deploy.name, cases[i].name, deploy.name_len);
		deploy.version = 1000 + i;
		set_metadata(&deploy.deployed_by, cases[i].deployed_by);
		set_metadata(&deploy.reason, cases[i].reason);
		set_metadata(&deploy.release_hash, cases[i].release_hash);
		position.system_version = 40 + i;
		position.created_ms = 1700000000000 + i;
		position.has_previous = cases[i].has_previous;
		position.previous = cases[i].has_previous ? 999 : 0;

		size = record_change_encode(&deploy, &position, value);
		CHECK(record_change_decode(value, size, 40 + i, &back) &&
		    back.system_version == 40 + i &&
		    back.created_ms == position.created_ms &&
		    back.version == deploy.version &&
		    back.has_previous == position.has_previous &&
		    back.previous == position.previous &&
		    back.name_len == deploy.name_len &&
		    memcmp(back.name, deploy.name, back.name_len) == 0 &&
		    metadata_equals(&back.deployed_by, &deploy.deployed_by) &&
		    metadata_equals(&back.reason, &deploy.reason) &&
		    metadata_equals(&back.release_hash, &deploy.release_hash),
		    "change %zu back", i);
		CHECK(record_change_service(value, size, &name, &name_len,
		    &version) && version == deploy.version &&
		    name_len == deploy.name_len &&
		    memcmp(name, deploy.name, name_len) == 0,
		    "change %zu service", i);
		for (size_t cut = 0; cut < size; cut++)
			CHECK(!record_change_decode(value, cut, 40 + i, &back),
			    "change %zu cut at %zu", i, cut);
		value[size] = 0;
		CHECK(!record_change_decode(value, size + 1, 40 + i, &back),
		    "change %zu with a byte more", i);
		value[0] = 0;
		CHECK(!record_change_decode(value, size, 40 + i, &back) &&
		    !record_change_service(value, size, &name, &name_len,
		    &version), "change %zu of another format", i);
	}
}

/* A keyframe: its entries in order, and refused when cut short. */
static void
test_keyframe_records(void)
{
	static const struct {
		const char	*name;
		uint64_t	 version;
	} entries[] = { { "", 1 }, { "a", 2 }, { "ab", UINT64_MAX },
	    { "b", 0 } };
	const size_t count = sizeof(entries) / sizeof(*entries);
	struct keyframe_reader reader;
	struct service_list list;
	unsigned char *value = NULL;
	const char *name;
	size_t size, name_len, read;
	uint64_t version;

	service_list_init(&list);
	for (size_t i = 0; i < count; i++)
		CHECK(service_list_append(&list, entries[i].name,
		    strlen(entries[i].name), entries[i].version), "append %zu", i);
	if (!CHECK(record_keyframe_size(&list, &size) &&
	    (value = malloc(size)) != NULL, "keyframe size"))
		goto done;
	record_keyframe_encode(&list, value);
	CHECK(record_keyframe_open(&reader, value, size) &&
	    reader.left == count, "keyframe open");
	for (size_t i = 0; i < count; i++)
		CHECK(record_keyframe_next(&reader, &name, &name_len,
		    &version) && name_len == strlen(entries[i].name) &&
		    memcmp(name, entries[i].name, name_len) == 0 &&
		    version == entries[i].version, "keyframe entry %zu", i);
	CHECK(reader.left == 0 && !record_keyframe_next(&reader, &name,
	    &name_len, &version), "keyframe end");
	for (size_t cut = 0; cut < size; cut++) {
		read = 0;
		if (record_keyframe_open(&reader, value, cut))
			while (record_keyframe_next(&reader, &name, &name_len,
			    &version))
				read++;
		CHECK(read < count, "keyframe cut at %zu read whole", cut);
	}
	value[0] = 0;
	CHECK(!record_keyframe_open(&reader, value, size),
	    "keyframe of another format");
done:
	free(value);
	service_list_free(&list);
}

/*
 * A keyframe of format 1, as stores made before format 2 hold them (each
 * name a 16-bit length and its bytes, each version a big-endian u64), is
 * still read, with what each name shares with the one before it.
 */
static void
test_keyframe_format_1(void)
{
	static const unsigned char value[] = {
	    1, 0, 0, 0, 3,
	    0, 2, 'a', 'b', 0, 0, 0, 0, 0, 0, 0, 7,
	    0, 3, 'a', 'b', 'c', 0, 0, 0, 0, 0, 0, 1, 0,
	    0, 1, 'b', 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	static const struct {
		const char	*name;
		uint64_t	 version;
		size_t		 shared;
	} want[] = { { "ab", 7, 0 }, { "abc", 256, 2 }, { "b", UINT64_MAX, 0 } };
	struct keyframe_reader reader;
	const char *name;
	size_t name_len;
	uint64_t version;

	if (!CHECK(record_keyframe_open(&reader, value, sizeof(value)) &&
	    reader.left == 3, "open a keyframe of format 1"))
		return;
	for (size_t i = 0; i < 3; i++)
		CHECK(record_keyframe_next(&reader, &name, &name_len,
		    &version) && name_len == strlen(want[i].name) &&
		    memcmp(name, want[i].name, name_len) == 0 &&
		    version == want[i].version && reader.shared == want[i].shared,
		    "format 1 entry %zu", i);
	CHECK(!record_keyframe_next(&reader, &name, &name_len, &version),
	    "format 1 end");
}

/*
 * Entries of format 2 that do not hold together are refused: a shared
 * prefix longer than the name before, a name past SERVICE_NAME_MAX, a
 * varint past 64 bits or cut short.
 */
static void
test_keyframe_format_2_refused(void)
{
	static const struct {
		const char		*label;
		unsigned char		 bytes[24];
		size_t			 len;
		unsigned		 good;	/* entries read before the bad one */
	} cases[] = {
		{ "shares more than the name before",
		    { 2, 0, 0, 0, 2, 0, 1, 'a', 1, 2, 1, 'b', 1 }, 13, 1 },
		{ "the first entry shares anything",
		    { 2, 0, 0, 0, 1, 1, 1, 'a', 1 }, 9, 0 },
		{ "a suffix past the value", { 2, 0, 0, 0, 1, 0, 5, 'a', 1 },
		    9, 0 },
		{ "a version past 64 bits", { 2, 0, 0, 0, 1, 0, 1, 'a',
		    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02 },
		    18, 0 },
		{ "a version cut short", { 2, 0, 0, 0, 1, 0, 1, 'a', 0x80 },
		    9, 0 },
		{ "a name over 256 bytes", { 2, 0, 0, 0, 1, 0, 0x81, 0x02 },
		    8, 0 },
	};
	struct keyframe_reader reader;
	const char *name;
	size_t name_len;
	uint64_t version;

	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		unsigned read = 0;

		if (!CHECK(record_keyframe_open(&reader, cases[i].bytes,
		    cases[i].len), "%s: open", cases[i].label))
			continue;
		while (record_keyframe_next(&reader, &name, &name_len, &version))
			read++;
		CHECK(read == cases[i].good && reader.left > 0,
		    "%s: %u entries read, %u expected", cases[i].label, read,
		    cases[i].good);
	}
}

/*
 * A malformed environments.db record, put there behind the store's back,
 * is a system error for every read that meets it, and for a deploy.
 */
static void
test_malformed_record_is_refused(void)
{
	static const unsigned char broken[] = { 1, 2, 3 };
	struct store_options options;
	struct environment_state state;
	struct environment_summary *list = NULL;
	struct deploy_result result;
	struct deploy deploy;
	struct store *store = NULL;
	char dir[64];
	size_t count;
	DBT key, data;

	if (!temp_dir_create(dir, sizeof(dir)))
		return;
	options = test_store_options(dir, STORE_RECOVER);
	if (!CHECK(store_open(&options, &store) == STATUS_OK, "open"))
		goto done;
	memset(&key, 0, sizeof(key));
	memset(&data, 0, sizeof(data));
	key.data = (void *)"prod";
	key.size = 4;
	data.data = (void *)broken;
	data.size = sizeof(broken);
	if (!CHECK(store->environments->put(store->environments, NULL, &key,
	    &data, 0) == 0, "put a broken record"))
		goto done;
	CHECK(store_current(store, "prod", &state) == STATUS_SYSTEM,
	    "current of a broken record");
	CHECK(store_environments(store, &list, &count) == STATUS_SYSTEM &&
	    list == NULL && count == 0, "environments with a broken record");
	memset(&deploy, 0, sizeof(deploy));
	snprintf(deploy.environment, sizeof(deploy.environment), "prod");
	memcpy(deploy.name, "api", 3);
	deploy.name_len = 3;
	deploy.version = 1;
	CHECK(store_deploy(store, &deploy, &result) == STATUS_SYSTEM,
	    "deploy onto a broken record");
	CHECK(strcmp(status_name(STATUS_DEADLOCK), "unknown") != 0,
	    "a deadlock has a name");
done:
	free(list);
	store_close(store);
	temp_dir_remove(dir);
}

/* Deploys name at version into environment; false when it fails. */
static bool
deploy_one(struct store *store, const char *environment, const char *name,
    uint64_t version)
{
	struct deploy deploy;
	struct deploy_result result;

	memset(&deploy, 0, sizeof(deploy));
	snprintf(deploy.environment, sizeof(deploy.environment), "%s",
	    environment);
	deploy.name_len = strlen(name);
	memcpy(deploy.name, name, deploy.name_len);
	deploy.version = version;
	return store_deploy(store, &deploy, &result) == STATUS_OK;
}

/* Deletes the change of system_version of environment behind the store's back. */
static bool
delete_change(struct store *store, const char *environment,
    uint64_t system_version)
{
	struct environment_record record;
	unsigned char key_buf[VERSIONED_KEY_SIZE];
	DBT key;

	if (get_environment(store, NULL, environment, 0, &record) != STATUS_OK)
		return false;
	record_versioned_key(key_buf, record.id, system_version);
	memset(&key, 0, sizeof(key));
	key.data = key_buf;
	key.size = sizeof(key_buf);
	return store->changes->del(store->changes, NULL, &key, 0) == 0;
}

/*
 * Copies the change of system version from of environment to version to,
 * behind the store's back.
 */
static bool
copy_change(struct store *store, const char *environment, uint64_t from,
    uint64_t to)
{
	struct environment_record record;
	unsigned char key_buf[VERSIONED_KEY_SIZE], value[CHANGE_VALUE_MAX];
	size_t size;

	if (get_environment(store, NULL, environment, 0, &record) != STATUS_OK)
		return false;
	record_versioned_key(key_buf, record.id, from);
	if (get_value(store, store->changes, NULL, key_buf, sizeof(key_buf),
	    value, sizeof(value), &size, 0) != STATUS_OK)
		return false;
	record_versioned_key(key_buf, record.id, to);
	return put_value(store, store->changes, NULL, key_buf, sizeof(key_buf),
	    value, size, 0) == STATUS_OK;
}

/*
 * A change missing at or below the current version, taken away behind
 * the store's back, is a system error for store_changes() once a batch
 * reaches it: in the middle of an environment, at its last version (the
 * next environment's changes follow), and at the end of changes.db. So
 * is a change stored beyond the current version, once a batch reaches
 * the current one.
 */
static void
test_broken_history_is_refused(void)
{
	static const struct {
		const char	*label;
		const char	*environment;
		uint64_t	 after;
		size_t		 limit;
		enum status	 expected;
		size_t		 count;
	} cases[] = {
		{ "before the gap", "prod", 0, 2, STATUS_OK, 2 },
		{ "across the gap", "prod", 0, 10, STATUS_SYSTEM, 0 },
		{ "from the gap", "prod", 2, 1, STATUS_SYSTEM, 0 },
		{ "the last version missing", "prod", 3, 10, STATUS_SYSTEM, 0 },
		{ "short of a change beyond", "mid", 0, 1, STATUS_OK, 1 },
		{ "a change beyond the current version", "mid", 1, 10,
		  STATUS_SYSTEM, 0 },
		{ "the end of the file", "zeta", 0, 10, STATUS_SYSTEM, 0 },
	};
	struct change_record batch[10];
	struct store_options options;
	struct store *store = NULL;
	char dir[64];
	size_t count;

	if (!temp_dir_create(dir, sizeof(dir)))
		return;
	options = test_store_options(dir, STORE_RECOVER);
	if (!CHECK(store_open(&options, &store) == STATUS_OK, "open"))
		goto done;
	for (uint64_t v = 1; v <= 6; v++)
		CHECK(deploy_one(store, "prod", "api", v), "deploy %llu",
		    (unsigned long long)v);
	CHECK(deploy_one(store, "mid", "api", 1) &&
	    deploy_one(store, "mid", "api", 2), "deploy mid");
	CHECK(deploy_one(store, "zeta", "api", 1), "deploy zeta");
	if (!CHECK(delete_change(store, "prod", 3) &&
	    delete_change(store, "prod", 6) && delete_change(store, "zeta", 1) &&
	    copy_change(store, "mid", 2, 3), "damage changes.db"))
		goto done;
	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		enum status status = store_changes(store, cases[i].environment,
		    cases[i].after, cases[i].limit, batch, &count);

		CHECK(status == cases[i].expected && count == cases[i].count,
		    "%s: %s, %zu changes", cases[i].label, status_name(status),
		    count);
	}
done:
	store_close(store);
	temp_dir_remove(dir);
}

/*
 * The records of reports: a removal's change, a service's keys, a
 * period, an eventId, an environment's mark among its eventIds, an
 * audit entry. The bytes of the small ones pinned; each survives its
 * decode; a value cut short, or one byte too long, is refused.
 */
static void
test_report_records(void)
{
	static const unsigned char keys_bytes[KEYS_VALUE_SIZE] = {
		1, 0x03,
		0, 0, 0, 0, 0, 0, 0x01, 0x02,			/* sequence */
		0x00, 0x00, 0x01, 0x8c, 0xba, 0x4b, 0x5e, 0x00	/* deployedAt */
	};
	static const unsigned char current_keys_bytes[CURRENT_VALUE_MAX] = {
		2,						/* with keys */
		0, 0, 0, 0, 0, 0, 0, 0x07,			/* version */
		0, 0, 0, 0, 0, 0, 0, 0x29,			/* since */
		0x01,						/* a sequence */
		0, 0, 0, 0, 0, 0, 0x01, 0x02,
		0, 0, 0, 0, 0, 0, 0, 0				/* no deployedAt */
	};
	static const unsigned char period_bytes[PERIOD_VALUE_SIZE] = {
		1,
		0, 0, 0, 0, 0, 0, 0x01, 0x00,			/* system version */
		0x10,						/* removed */
		0, 0, 0, 0, 0, 0, 0, 0,				/* no version */
		0x00, 0x00, 0x01, 0x8c, 0xba, 0x4b, 0x5e, 0x00	/* time */
	};
	static const unsigned char mark_bytes[EVENT_MARK_VALUE_SIZE] = {
		1, 0, 0, 0, 0, 0, 0, 0x02, 0x01			/* next audit id */
	};
	struct service_keys keys = { true, 0x102, true, 0x18cba4b5e00 }, keys_back;
	struct current_record current;
	struct period_record period = { 0x100, true, 5, 0x18cba4b5e00 };
	struct period_record period_back, later = { 0xff01, false, 3, 1 };
	unsigned char value[AUDIT_VALUE_MAX + 1];
	unsigned char later_value[PERIOD_VALUE_SIZE];
	unsigned char key[EVENT_KEY_MAX], other_key[EVENT_KEY_MAX];
	struct change_position position = { 9, 1700000000000, true, 4 };
	struct change_record change;
	struct event_record event = { 1700000000000, 41, false, 7, "svc", 3 };
	struct event_record event_back;
	struct audit_entry entry, back;
	struct deploy deploy;
	const char *event_id;
	size_t size, event_id_len;
	uint64_t version, number;

	/* a removal's change: version 0, flagged, and REMOVED for a merge */
	memset(&deploy, 0, sizeof(deploy));
	memcpy(deploy.name, "svc", 3);
	deploy.name_len = 3;
	deploy.removal = true;
	deploy.version = 77;
	size = record_change_encode(&deploy, &position, value);
	CHECK(record_change_decode(value, size, 9, &change) && change.removed &&
	    change.version == 0 && change.has_previous && change.previous == 4,
	    "a removal's change");
	CHECK(record_change_service(value, size, &event_id, &event_id_len,
	    &version) && version == REMOVED_VERSION, "a removal for a merge");

	record_keys_encode(&keys, value);
	CHECK(memcmp(value, keys_bytes, sizeof(keys_bytes)) == 0, "keys bytes");
	CHECK(record_keys_decode(value, KEYS_VALUE_SIZE, &keys_back) &&
	    keys_back.has_sequence && keys_back.sequence == 0x102 &&
	    keys_back.has_deployed_at &&
	    keys_back.deployed_at_ms == 0x18cba4b5e00, "keys back");
	CHECK(!record_keys_decode(value, KEYS_VALUE_SIZE - 1, &keys_back) &&
	    !record_keys_decode(value, KEYS_VALUE_SIZE + 1, &keys_back),
	    "keys of another size");

	/* a running service's keys live in its current.db value */
	memset(&current, 0, sizeof(current));
	current.version = 7;
	current.since = 41;
	CHECK(record_current_encode(&current, value) == CURRENT_VALUE_SIZE &&
	    value[0] == 1, "a current version without keys keeps format 1");
	current.keys.has_sequence = true;
	current.keys.sequence = 0x102;
	size = record_current_encode(&current, value);
	CHECK(size == sizeof(current_keys_bytes) &&
	    memcmp(value, current_keys_bytes, size) == 0, "current with keys bytes");
	memset(&current, 0xff, sizeof(current));
	CHECK(record_current_decode(value, size, &current) &&
	    current.version == 7 && current.since == 41 &&
	    current.keys.has_sequence && current.keys.sequence == 0x102 &&
	    !current.keys.has_deployed_at, "current with keys back");
	CHECK(!record_current_decode(value, CURRENT_VALUE_SIZE, &current),
	    "format 2 cut to format 1's size");
	value[CURRENT_VALUE_SIZE] = 0x80;
	CHECK(!record_current_decode(value, size, &current),
	    "current with an unknown key flag");

	record_period_encode(&period, value);
	CHECK(memcmp(value, period_bytes, sizeof(period_bytes)) == 0,
	    "period bytes");
	CHECK(record_period_decode(value, PERIOD_VALUE_SIZE, &period_back) &&
	    period_back.system_version == 0x100 && period_back.removed &&
	    period_back.version == 0 && period_back.created_ms == 0x18cba4b5e00,
	    "period back");
	/* a service's changes sort by their system versions */
	record_period_encode(&later, later_value);
	CHECK(memcmp(value, later_value, sizeof(later_value)) < 0,
	    "a later change sorts after");
	CHECK(!record_period_decode(value, PERIOD_VALUE_SIZE - 1,
	    &period_back), "a period of another size");
	value[9] = 0x01;
	CHECK(!record_period_decode(value, PERIOD_VALUE_SIZE, &period_back),
	    "a period with an unknown flag");

	size = record_event_encode(&event, value);
	CHECK(record_event_decode(value, size, &event_back) &&
	    event_back.received_ms == event.received_ms &&
	    event_back.system_version == 41 && !event_back.removal &&
	    event_back.version == 7 && event_back.name_len == 3 &&
	    memcmp(event_back.name, "svc", 3) == 0, "event back");
	CHECK(!record_event_decode(value, size - 1, &event_back) &&
	    !record_event_decode(value, size + 1, &event_back), "event cut");
	/* an environment's mark: under its id alone, before its eventIds */
	CHECK(record_event_key(key, 3, "", 0) == ENV_ID_SIZE && key[3] == 3 &&
	    record_event_key(other_key, 3, "\0", 1) == ENV_ID_SIZE + 1 &&
	    memcmp(key, other_key, ENV_ID_SIZE) == 0, "the mark's key");
	record_event_mark_encode(0x201, value);
	CHECK(memcmp(value, mark_bytes, sizeof(mark_bytes)) == 0, "mark bytes");
	CHECK(record_event_mark_decode(value, EVENT_MARK_VALUE_SIZE, &number) &&
	    number == 0x201, "mark back");
	CHECK(!record_event_mark_decode(value, EVENT_MARK_VALUE_SIZE - 1,
	    &number) && !record_event_mark_decode(value,
	    EVENT_MARK_VALUE_SIZE + 1, &number), "mark of another size");
	value[0] = 2;
	CHECK(!record_event_mark_decode(value, EVENT_MARK_VALUE_SIZE, &number),
	    "mark of another format");

	/* an audit entry with everything, then one with nothing optional */
	memset(&entry, 0, sizeof(entry));
	entry.received_ms = 1700000000123;
	entry.outcome = OUTCOME_STALE;
	entry.system_version = 41;
	memcpy(entry.name, "svc", 3);
	entry.name_len = 3;
	entry.version = SERVICE_VERSION_MAX;
	entry.key.has_event_id = true;
	entry.key.event_id_len = 3;
	memcpy(entry.key.event_id, "e-1", 3);
	entry.key.has_sequence = true;
	entry.key.sequence = 17;
	entry.key.has_deployed_at = true;
	entry.key.deployed_at_ms = 1700000000000;
	set_metadata(&entry.deployed_by, "ci");
	set_metadata(&entry.reason, "");
	set_metadata(&entry.release_hash, "abc");
	size = record_audit_encode(&entry, value);
	CHECK(record_audit_decode(value, size, 812, &back) && back.id == 812 &&
	    back.received_ms == entry.received_ms &&
	    back.outcome == OUTCOME_STALE && back.system_version == 41 &&
	    !back.removal && back.version == SERVICE_VERSION_MAX &&
	    back.name_len == 3 && back.key.has_event_id &&
	    back.key.event_id_len == 3 && back.key.sequence == 17 &&
	    back.key.deployed_at_ms == 1700000000000 &&
	    metadata_equals(&back.deployed_by, &entry.deployed_by) &&
	    metadata_equals(&back.reason, &entry.reason) &&
	    metadata_equals(&back.release_hash, &entry.release_hash),
	    "a full audit entry back");
	for (size_t cut = 0; cut < size; cut++)
		CHECK(!record_audit_decode(value, cut, 812, &back),
		    "an audit entry cut to %zu bytes", cut);
	CHECK(!record_audit_decode(value, size + 1, 812, &back),
	    "an audit entry a byte too long");
	memset(&entry.key, 0, sizeof(entry.key));
	set_metadata(&entry.deployed_by, NULL);
	set_metadata(&entry.reason, NULL);
	set_metadata(&entry.release_hash, NULL);
	entry.removal = true;
	entry.version = 0;
	entry.outcome = OUTCOME_REMOVED;
	size = record_audit_encode(&entry, value);
	CHECK(size == 1 + 8 + 1 + 1 + 8 + 2 + 3 &&
	    record_audit_decode(value, size, 1, &back) && back.removal &&
	    back.version == 0 && !back.key.has_event_id &&
	    !back.key.has_sequence && !back.key.has_deployed_at &&
	    !back.deployed_by.present && !back.reason.present &&
	    !back.release_hash.present, "a bare removal's audit entry: %zu "
	    "bytes", size);
	value[9] = OUTCOME_REMOVED + 1;
	CHECK(!record_audit_decode(value, size, 1, &back),
	    "an audit entry of an unknown outcome");
}

/*
 * A report a replica hands to the master: every member comes back, a
 * cut message is refused, and so is an environment too long to be one.
 */
static void
test_forward_record(void)
{
	unsigned char value[FORWARD_VALUE_MAX];
	struct deploy deploy, back;
	size_t size;

	memset(&deploy, 0, sizeof(deploy));
	memcpy(deploy.environment, "prod", 5);
	memcpy(deploy.name, "team/api \xc3\xa9", 12);
	deploy.name_len = 11;
	deploy.version = SERVICE_VERSION_MAX;
	deploy.key.has_event_id = true;
	deploy.key.event_id_len = 2;
	memcpy(deploy.key.event_id, "e1", 2);
	deploy.key.has_deployed_at = true;
	deploy.key.deployed_at_ms = 1700000000000;
	set_metadata(&deploy.reason, "why");
	size = record_forward_encode(&deploy, value);
	CHECK(size > 0 && record_forward_decode(value, size, &back) &&
	    strcmp(back.environment, "prod") == 0 && back.name_len == 11 &&
	    memcmp(back.name, deploy.name, 11) == 0 && !back.removal &&
	    back.version == SERVICE_VERSION_MAX && back.key.has_event_id &&
	    memcmp(back.key.event_id, "e1", 2) == 0 &&
	    !back.key.has_sequence && back.key.has_deployed_at &&
	    back.key.deployed_at_ms == 1700000000000 &&
	    !back.deployed_by.present && metadata_equals(&back.reason,
	    &deploy.reason) && !back.release_hash.present,
	    "a forwarded deploy back (%zu bytes)", size);
	for (size_t cut = 0; cut < size; cut++)
		CHECK(!record_forward_decode(value, cut, &back),
		    "a forwarded report cut to %zu bytes", cut);
	deploy.removal = true;
	deploy.version = 0;
	size = record_forward_encode(&deploy, value);
	CHECK(record_forward_decode(value, size, &back) && back.removal &&
	    back.version == 0, "a forwarded removal back");
	value[0] = 0;
	value[1] = ENVIRONMENT_MAX + 1;
	CHECK(!record_forward_decode(value, size, &back),
	    "an environment longer than %d bytes", ENVIRONMENT_MAX);
}

static const CU_TestInfo records_tests[] = {
	{ "environment layout", test_environment_layout },
	{ "fixed records", test_fixed_records },
	{ "service key", test_service_key },
	{ "change records", test_change_records },
	{ "records of reports", test_report_records },
	{ "keyframe records", test_keyframe_records },
	{ "keyframe of format 1", test_keyframe_format_1 },
	{ "keyframe of format 2 refused", test_keyframe_format_2_refused },
	{ "malformed record is refused", test_malformed_record_is_refused },
	{ "broken history is refused", test_broken_history_is_refused },
	{ "a report handed to the master", test_forward_record },
	CU_TEST_INFO_NULL,
};

int
add_records_suite(void)
{
	return add_suite_with_tests("records", NULL, NULL, records_tests);
}
