/*
 * The render suite: the renderers of json.h that the json suite leaves
 * out (status, history, version, diff, environments, export header and
 * change, events, a service's periods). Each output is parsed back with json-c, strictly and whole,
 * and compared member by member with values written here: names with
 * quotes, backslashes, control characters and non-ASCII UTF-8, instants
 * as RFC 3339 UTC with milliseconds, null where something is absent.
 */
#include <json-c/json.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "tests.h"

#define NAME_QUOTES	"say \"hi\""
#define NAME_BACKSLASH	"C:\\svc\\x"
#define NAME_CONTROL	"tab\there\x01\x1f\nend\x7f"
#define NAME_UTF8	"caf\xc3\xa9 \xf0\x9f\x98\x80 \xe2\x82\xac"
#define MAX_53		UINT64_C(9007199254740991)

/*
 * The output of a renderer (len bytes) parsed back: checks that it is
 * there, NUL-terminated at len and one JSON value; frees it. NULL when a
 * check failed.
 */
static struct json_object *
parse_output(const char *label, char *out, size_t len)
{
	struct json_object *root = NULL;

	if (!CHECK(out != NULL, "%s: NULL", label))
		return NULL;
	if (CHECK(strlen(out) == len, "%s: len %zu for %zu bytes", label, len,
	    strlen(out)))
		root = json_parse_exact(out, len);
	CHECK(root != NULL, "%s: not one JSON value: %s", label, out);
	free(out);
	return root;
}

/* True (and checked) when value is an array of count items. */
static bool
expect_array(const char *label, struct json_object *value, size_t count)
{
	return CHECK(json_object_is_type(value, json_type_array) &&
	    json_object_array_length(value) == count, "%s: not an array of "
	    "%zu: %s", label, count, json_object_to_json_string(value));
}

/* Checks that a renderer's output (len bytes) is exactly an empty array. */
static void
expect_empty_array(const char *label, char *out, size_t len)
{
	struct json_object *root = parse_output(label, out, len);

	if (root != NULL)
		expect_array(label, root, 0);
	json_object_put(root);
}

/* A digest as the renderers take it: they copy it as given. */
#define DIGEST_SOME	"sha256:e51089b9df757f14ad794ccb59fc8bda" \
			"5bdf1d26ea036164ceb6a9dd893e6354"

/*
 * json_render_status: updatedAt null at system version 0, else RFC 3339;
 * the digest as given.
 */
static void
test_status(void)
{
	static const struct {
		const char	*environment;
		uint64_t	 system_version;
		uint64_t	 updated_ms;
		const char	*updated_at;	/* NULL: null */
	} cases[] = {
		{ "default", 0, 0, NULL },
		{ "default", 0, 1795342503042, NULL },
		{ "default", 42, 1795342503042, "2026-11-22T10:15:03.042Z" },
		{ "prod-eu_1.x", 1, 1795342503005, "2026-11-22T10:15:03.005Z" },
		{ "leap", 7, 951782400005, "2000-02-29T00:00:00.005Z" },
		{ "epoch", 1, 0, "1970-01-01T00:00:00.000Z" },
		{ "whole-minute", 3, 1795342560000, "2026-11-22T10:16:00.000Z" },
		{ "last", MAX_53, 253402300799999, "9999-12-31T23:59:59.999Z" },
	};
	char label[96];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct environment_state state = {
			.system_version = cases[i].system_version,
			.updated_ms = cases[i].updated_ms,
		};
		struct json_member want[4] = {
			JSTR("environment", cases[i].environment),
			JUINT("systemVersion", cases[i].system_version),
			JNULL("updatedAt"),
			JSTR("digest", DIGEST_SOME),
		};
		struct json_object *root;
		size_t len = 0;
		char *out;

		if (cases[i].updated_at != NULL)
			want[2] = (struct json_member)JSTR("updatedAt",
			    cases[i].updated_at);
		snprintf(label, sizeof(label), "status %s %llu",
		    cases[i].environment,
		    (unsigned long long)cases[i].system_version);
		out = json_render_status(cases[i].environment, &state,
		    DIGEST_SOME, &len);
		root = parse_output(label, out, len);
		if (root != NULL)
			json_expect_members(label, root, want, 4, 0);
		json_object_put(root);
	}
}

/* A change as a test gives it; NULL metadata is absent. */
static const struct record_input {
	uint64_t	 system_version;
	uint64_t	 created_ms;
	const char	*name;
	bool		 removed;
	uint64_t	 version;
	bool		 has_previous;
	uint64_t	 previous;
	const char	*deployed_by, *reason, *release_hash;
} inputs[] = {
	{ .system_version = 3, .created_ms = 1795342560000,
	    .name = NAME_QUOTES, .version = 2, .has_previous = true,
	    .previous = 1, .deployed_by = "ci-bot", .reason = "roll \"back\"\n",
	    .release_hash = "0f3a" },
	{ .system_version = 2, .created_ms = 1795342503005,
	    .name = NAME_UTF8, .version = 1 },
	{ .system_version = 1, .created_ms = 951782400005,
	    .name = NAME_CONTROL, .version = MAX_53, .has_previous = true,
	    .previous = 0, .reason = "" },
	{ .system_version = MAX_53, .created_ms = 253402300799999,
	    .name = NAME_BACKSLASH, .version = 0,
	    .deployed_by = "J\xc3\xbcrgen \\ \x01",
	    .release_hash = "\xe2\x82\xac" },
	/* a removal: its version is null */
	{ .system_version = 5, .created_ms = 1795342620000,
	    .name = NAME_UTF8, .removed = true, .has_previous = true,
	    .previous = 4, .reason = "retired" },
};

#define RECORDS	(sizeof(inputs) / sizeof(inputs[0]))

/* What each input renders as: where it stands, and its change's members. */
static const struct expected_record {
	uint64_t		 system_version;
	const char		*created_at;
	struct json_member	 change[6];
	size_t			 count;
} expected[RECORDS] = {
	{ 3, "2026-11-22T10:16:00.000Z", {
	    JSTR("name", "say \"hi\""), JUINT("previousVersion", 1),
	    JUINT("version", 2), JSTR("deployedBy", "ci-bot"),
	    JSTR("reason", "roll \"back\"\n"), JSTR("releaseHash", "0f3a") },
	    6 },
	{ 2, "2026-11-22T10:15:03.005Z", {
	    JSTR("name", "caf\xc3\xa9 \xf0\x9f\x98\x80 \xe2\x82\xac"),
	    JNULL("previousVersion"), JUINT("version", 1) }, 3 },
	{ 1, "2000-02-29T00:00:00.005Z", {
	    JSTR("name", "tab\there\x01\x1f\nend\x7f"),
	    JUINT("previousVersion", 0),
	    JUINT("version", UINT64_C(9007199254740991)),
	    JSTR("reason", "") }, 4 },
	{ UINT64_C(9007199254740991), "9999-12-31T23:59:59.999Z", {
	    JSTR("name", "C:\\svc\\x"), JNULL("previousVersion"),
	    JUINT("version", 0), JSTR("deployedBy", "J\xc3\xbcrgen \\ \x01"),
	    JSTR("releaseHash", "\xe2\x82\xac") }, 5 },
	{ 5, "2026-11-22T10:17:00.000Z", {
	    JSTR("name", "caf\xc3\xa9 \xf0\x9f\x98\x80 \xe2\x82\xac"),
	    JUINT("previousVersion", 4), JNULL("version"),
	    JSTR("reason", "retired") }, 4 },
};

/* Fills a metadata text from a C string; NULL leaves it absent. */
static void
set_metadata(struct metadata_text *m, const char *text)
{
	memset(m, 0, sizeof(*m));
	if (text == NULL)
		return;
	m->present = true;
	m->len = strlen(text);
	memcpy(m->text, text, m->len + 1);
}

/* The change record of inputs[i]. */
static struct change_record
make_record(size_t i)
{
	const struct record_input *in = &inputs[i];
	struct change_record r;

	memset(&r, 0, sizeof(r));
	r.system_version = in->system_version;
	r.created_ms = in->created_ms;
	r.name_len = strlen(in->name);
	memcpy(r.name, in->name, r.name_len + 1);
	r.removed = in->removed;
	r.version = in->version;
	r.has_previous = in->has_previous;
	r.previous = in->previous;
	set_metadata(&r.deployed_by, in->deployed_by);
	set_metadata(&r.reason, in->reason);
	set_metadata(&r.release_hash, in->release_hash);
	return r;
}

/*
 * Checks a version object against expected[i]: systemVersion, createdAt,
 * its change and extra other members (checked by the caller).
 */
static void
expect_version(const char *label, struct json_object *object, size_t i,
    size_t extra)
{
	const struct expected_record *e = &expected[i];
	struct json_member where[2] = {
		JUINT("systemVersion", e->system_version),
		JSTR("createdAt", e->created_at),
	};
	struct json_object *change;

	json_expect_members(label, object, where, 2, 1 + extra);
	if (CHECK(json_object_object_get_ex(object, "change", &change),
	    "%s: no change", label))
		json_expect_members(label, change, e->change, e->count, 0);
}

/* json_render_history: one version object per record, in their order. */
static void
test_history(void)
{
	struct change_record records[RECORDS];
	struct json_object *root;
	char label[64];
	size_t len = 0;
	char *out;

	for (size_t i = 0; i < RECORDS; i++)
		records[i] = make_record(i);
	out = json_render_history(records, RECORDS, &len);
	root = parse_output("history", out, len);
	if (root != NULL && expect_array("history", root, RECORDS))
		for (size_t i = 0; i < RECORDS; i++) {
			snprintf(label, sizeof(label), "history item %zu", i);
			expect_version(label, json_object_array_get_idx(root,
			    i), i, 0);
		}
	json_object_put(root);

	/* the reverse order stays reversed */
	for (size_t i = 0; i < RECORDS; i++)
		records[i] = make_record(RECORDS - 1 - i);
	out = json_render_history(records, RECORDS, &len);
	root = parse_output("history reversed", out, len);
	if (root != NULL && expect_array("history reversed", root, RECORDS))
		for (size_t i = 0; i < RECORDS; i++) {
			snprintf(label, sizeof(label), "history reversed item "
			    "%zu", i);
			expect_version(label, json_object_array_get_idx(root,
			    i), RECORDS - 1 - i, 0);
		}
	json_object_put(root);

	out = json_render_history(records, 0, &len);
	expect_empty_array("empty history", out, len);
}

/*
 * json_render_version: the version object with its digest as given and
 * its services, in order.
 */
static void
test_version(void)
{
	static const struct test_service services[] = {
		{ NAME_BACKSLASH, 4 }, { NAME_QUOTES, 2 }, { NAME_UTF8, 1 },
		{ NAME_CONTROL, MAX_53 },
	};
	static const struct json_member want[][2] = {
		{ JSTR("name", "C:\\svc\\x"), JUINT("version", 4) },
		{ JSTR("name", "say \"hi\""), JUINT("version", 2) },
		{ JSTR("name", "caf\xc3\xa9 \xf0\x9f\x98\x80 \xe2\x82\xac"),
		    JUINT("version", 1) },
		{ JSTR("name", "tab\there\x01\x1f\nend\x7f"),
		    JUINT("version", UINT64_C(9007199254740991)) },
	};
	size_t count = sizeof(services) / sizeof(services[0]);
	struct change_record record = make_record(0);
	struct service_list list;
	struct json_object *root, *array;
	char label[64];
	size_t len = 0;
	char *out;

	service_list_init(&list);
	for (size_t n = 0; n <= count; n += count) {
		if (!CHECK(test_list_fill(&list, services, n), "append"))
			break;
		snprintf(label, sizeof(label), "version with %zu services", n);
		out = json_render_version(&record, &list, DIGEST_SOME, &len);
		root = parse_output(label, out, len);
		if (root != NULL) {
			expect_version(label, root, 0, 2);
			CHECK(json_has_string(root, "digest", DIGEST_SOME),
			    "%s: digest: %s", label,
			    json_object_to_json_string(root));
			if (CHECK(json_object_object_get_ex(root, "services",
			    &array), "%s: no services", label) &&
			    expect_array(label, array, n))
				for (size_t i = 0; i < n; i++)
					json_expect_members(label,
					    json_object_array_get_idx(array, i),
					    want[i], 2, 0);
		}
		json_object_put(root);
	}

	/* a removal's change, and the services without it */
	record = make_record(RECORDS - 1);
	if (CHECK(test_list_fill(&list, services, 0), "empty")) {
		out = json_render_version(&record, &list, DIGEST_SOME, &len);
		root = parse_output("version of a removal", out, len);
		if (root != NULL)
			expect_version("version of a removal", root,
			    RECORDS - 1, 2);
		json_object_put(root);
	}
	service_list_free(&list);
}

/* json_render_diff: name, from and to, null on the side it is absent from. */
static void
test_diff(void)
{
	static const struct test_service from_services[] = {
		{ "a", 1 }, { NAME_BACKSLASH, 2 }, { "c", 3 },
	};
	static const struct test_service to_services[] = {
		{ NAME_BACKSLASH, 5 }, { "c", 3 }, { NAME_UTF8, 1 },
	};
	static const struct service_difference diff[] = {
		{ .has_from = true, .index_from = 0 },
		{ .has_from = true, .index_from = 1, .has_to = true,
		    .index_to = 0 },
		{ .has_to = true, .index_to = 2 },
	};
	static const struct json_member want[][3] = {
		{ JSTR("name", "a"), JUINT("from", 1), JNULL("to") },
		{ JSTR("name", "C:\\svc\\x"), JUINT("from", 2), JUINT("to", 5) },
		{ JSTR("name", "caf\xc3\xa9 \xf0\x9f\x98\x80 \xe2\x82\xac"),
		    JNULL("from"), JUINT("to", 1) },
	};
	size_t count = sizeof(diff) / sizeof(diff[0]);
	struct service_list from, to;
	struct json_object *root;
	size_t len = 0;
	char *out;

	service_list_init(&from);
	service_list_init(&to);
	if (CHECK(test_list_fill(&from, from_services, 3) &&
	    test_list_fill(&to, to_services, 3), "append")) {
		out = json_render_diff(&from, &to, diff, count, &len);
		root = parse_output("diff", out, len);
		if (root != NULL && expect_array("diff", root, count))
			for (size_t i = 0; i < count; i++)
				json_expect_members("diff",
				    json_object_array_get_idx(root, i),
				    want[i], 3, 0);
		json_object_put(root);
		out = json_render_diff(&from, &to, diff, 0, &len);
		expect_empty_array("empty diff", out, len);
	}
	service_list_free(&from);
	service_list_free(&to);
}

/* json_render_environments: name, systemVersion and updatedAt, in order. */
static void
test_environments(void)
{
	static const struct environment_summary list[] = {
		{ .name = "default", .state = { 3, 1795342503042 } },
		{ .name = "prod-eu_1.x", .state = { MAX_53, 253402300799999 } },
		{ .name = "A", .state = { 1, 951782400005 } },
	};
	static const struct json_member want[][3] = {
		{ JSTR("name", "default"), JUINT("systemVersion", 3),
		    JSTR("updatedAt", "2026-11-22T10:15:03.042Z") },
		{ JSTR("name", "prod-eu_1.x"),
		    JUINT("systemVersion", UINT64_C(9007199254740991)),
		    JSTR("updatedAt", "9999-12-31T23:59:59.999Z") },
		{ JSTR("name", "A"), JUINT("systemVersion", 1),
		    JSTR("updatedAt", "2000-02-29T00:00:00.005Z") },
	};
	size_t count = sizeof(list) / sizeof(list[0]);
	struct json_object *root;
	size_t len = 0;
	char *out;

	out = json_render_environments(list, count, &len);
	root = parse_output("environments", out, len);
	if (root != NULL && expect_array("environments", root, count))
		for (size_t i = 0; i < count; i++)
			json_expect_members("environments",
			    json_object_array_get_idx(root, i), want[i], 3, 0);
	json_object_put(root);
	out = json_render_environments(list, 0, &len);
	expect_empty_array("no environments", out, len);
}

/* json_render_export_header: the format, its version and the counts. */
static void
test_export_header(void)
{
	static const struct export_header cases[] = {
		{ .environments = 0, .system_versions = 0 },
		{ .environments = 2, .system_versions = 5 },
		{ .environments = 1, .system_versions = MAX_53 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct json_member want[4] = {
			JSTR("format", "releasemgr-export"),
			JUINT("formatVersion", 1),
			JUINT("environments", cases[i].environments),
			JUINT("systemVersions", cases[i].system_versions),
		};
		struct json_object *root;
		size_t len = 0;
		char *out;

		out = json_render_export_header(&cases[i], &len);
		root = parse_output("export header", out, len);
		if (root != NULL)
			json_expect_members("export header", root, want, 4, 0);
		json_object_put(root);
	}
}

/*
 * json_render_export_change: one flat line of environment, systemVersion,
 * createdAt and the change's members.
 */
static void
test_export_change(void)
{
	static const char *const environments[RECORDS] = {
		"default", "prod-eu_1.x", "A", "z.9", "retired",
	};
	char label[64];

	for (size_t i = 0; i < RECORDS; i++) {
		const struct expected_record *e = &expected[i];
		struct change_record record = make_record(i);
		struct json_member where[3] = {
			JSTR("environment", environments[i]),
			JUINT("systemVersion", e->system_version),
			JSTR("createdAt", e->created_at),
		};
		struct json_object *root;
		size_t len = 0;
		char *out;

		snprintf(label, sizeof(label), "export change %zu", i);
		out = json_render_export_change(environments[i], &record, &len);
		/* one line: no raw line end inside */
		CHECK(out == NULL || memchr(out, '\n', len) == NULL,
		    "%s: a raw line end", label);
		root = parse_output(label, out, len);
		if (root != NULL) {
			json_expect_members(label, root, where, 3, e->count);
			json_expect_members(label, root, e->change, e->count, 3);
		}
		json_object_put(root);
	}
}

/* Fills a report key; NULL event_id leaves it absent. */
static void
set_key(struct report_key *key, const char *event_id, bool has_sequence,
    uint64_t sequence, bool has_deployed_at, uint64_t deployed_at_ms)
{
	memset(key, 0, sizeof(*key));
	if (event_id != NULL) {
		key->has_event_id = true;
		key->event_id_len = strlen(event_id);
		memcpy(key->event_id, event_id, key->event_id_len + 1);
	}
	key->has_sequence = has_sequence;
	key->sequence = sequence;
	key->has_deployed_at = has_deployed_at;
	key->deployed_at_ms = deployed_at_ms;
}

/*
 * json_render_events: every member of an entry, those not sent absent,
 * version null for a removal, each outcome by its name.
 */
static void
test_events(void)
{
	struct audit_entry entries[3];
	static const struct json_member want0[] = {
		JUINT("id", 812), JSTR("receivedAt", "2026-11-22T10:15:03.042Z"),
		JSTR("outcome", "stale"), JSTR("name", "say \"hi\""),
		JUINT("version", 2), JUINT("systemVersion", 41),
		JSTR("eventId", "evt \xc3\xa9 \"1\""), JUINT("sequence", MAX_53),
		JSTR("deployedAt", "2026-11-22T10:15:00.000Z"),
		JSTR("deployedBy", "ci-bot"), JSTR("reason", ""),
		JSTR("releaseHash", "0f3a"),
	};
	static const struct json_member want1[] = {
		JUINT("id", 2), JSTR("receivedAt", "1970-01-01T00:00:00.000Z"),
		JSTR("outcome", "removed"), JSTR("name", NAME_UTF8),
		JNULL("version"), JUINT("systemVersion", 7),
		JUINT("sequence", 0),
	};
	static const struct json_member want2[] = {
		JUINT("id", 1), JSTR("receivedAt", "9999-12-31T23:59:59.999Z"),
		JSTR("outcome", "applied"), JSTR("name", NAME_CONTROL),
		JUINT("version", 0), JUINT("systemVersion", 1),
	};
	static const struct {
		const struct json_member	*want;
		size_t				 count;
	} expect[] = {
		{ want0, sizeof(want0) / sizeof(want0[0]) },
		{ want1, sizeof(want1) / sizeof(want1[0]) },
		{ want2, sizeof(want2) / sizeof(want2[0]) },
	};
	static const enum deploy_outcome outcomes[] = { OUTCOME_APPLIED,
	    OUTCOME_UNCHANGED, OUTCOME_DUPLICATE, OUTCOME_STALE,
	    OUTCOME_REMOVED };
	static const char *const outcome_names[] = { "applied", "unchanged",
	    "duplicate", "stale", "removed" };
	struct json_object *root;
	char label[64];
	size_t len = 0;
	char *out;

	memset(entries, 0, sizeof(entries));
	entries[0].id = 812;
	entries[0].received_ms = UINT64_C(1795342503042);
	entries[0].outcome = OUTCOME_STALE;
	entries[0].system_version = 41;
	entries[0].name_len = strlen(NAME_QUOTES);
	memcpy(entries[0].name, NAME_QUOTES, entries[0].name_len + 1);
	entries[0].version = 2;
	set_key(&entries[0].key, "evt \xc3\xa9 \"1\"", true, MAX_53, true,
	    UINT64_C(1795342500000));
	set_metadata(&entries[0].deployed_by, "ci-bot");
	set_metadata(&entries[0].reason, "");
	set_metadata(&entries[0].release_hash, "0f3a");
	entries[1].id = 2;
	entries[1].outcome = OUTCOME_REMOVED;
	entries[1].system_version = 7;
	entries[1].name_len = strlen(NAME_UTF8);
	memcpy(entries[1].name, NAME_UTF8, entries[1].name_len + 1);
	entries[1].removal = true;
	set_key(&entries[1].key, NULL, true, 0, false, 0);
	entries[2].id = 1;
	entries[2].received_ms = UINT64_C(253402300799999);
	entries[2].outcome = OUTCOME_APPLIED;
	entries[2].system_version = 1;
	entries[2].name_len = strlen(NAME_CONTROL);
	memcpy(entries[2].name, NAME_CONTROL, entries[2].name_len + 1);

	out = json_render_events(entries, 3, &len);
	root = parse_output("events", out, len);
	if (root != NULL && expect_array("events", root, 3))
		for (size_t i = 0; i < 3; i++) {
			snprintf(label, sizeof(label), "event %zu", i);
			json_expect_members(label,
			    json_object_array_get_idx(root, i), expect[i].want,
			    expect[i].count, 0);
		}
	json_object_put(root);

	for (size_t i = 0; i < sizeof(outcomes) / sizeof(outcomes[0]); i++) {
		struct json_object *item;

		entries[2].outcome = outcomes[i];
		out = json_render_events(&entries[2], 1, &len);
		snprintf(label, sizeof(label), "outcome %s", outcome_names[i]);
		root = parse_output(label, out, len);
		if (root != NULL && expect_array(label, root, 1)) {
			item = json_object_array_get_idx(root, 0);
			CHECK(json_has_string(item, "outcome", outcome_names[i]),
			    "%s: %s", label, json_object_to_json_string(item));
		}
		json_object_put(root);
	}
	out = json_render_events(entries, 0, &len);
	expect_empty_array("no events", out, len);
}

/* json_render_periods: the current period's end is null, a past one's not. */
static void
test_periods(void)
{
	static const struct service_period periods[] = {
		{ .version = 3, .from_system_version = 40,
		    .from_ms = UINT64_C(1795342560000) },
		{ .version = MAX_53, .from_system_version = 12,
		    .from_ms = UINT64_C(951782400005), .has_to = true,
		    .to_system_version = 40, .to_ms = UINT64_C(1795342560000) },
		{ .version = 0, .from_system_version = 1, .from_ms = 0,
		    .has_to = true, .to_system_version = MAX_53,
		    .to_ms = UINT64_C(253402300799999) },
	};
	static const struct json_member want[][5] = {
		{ JUINT("version", 3), JUINT("fromSystemVersion", 40),
		    JNULL("toSystemVersion"),
		    JSTR("from", "2026-11-22T10:16:00.000Z"), JNULL("to") },
		{ JUINT("version", MAX_53), JUINT("fromSystemVersion", 12),
		    JUINT("toSystemVersion", 40),
		    JSTR("from", "2000-02-29T00:00:00.005Z"),
		    JSTR("to", "2026-11-22T10:16:00.000Z") },
		{ JUINT("version", 0), JUINT("fromSystemVersion", 1),
		    JUINT("toSystemVersion", MAX_53),
		    JSTR("from", "1970-01-01T00:00:00.000Z"),
		    JSTR("to", "9999-12-31T23:59:59.999Z") },
	};
	size_t count = sizeof(periods) / sizeof(periods[0]);
	struct json_object *root;
	char label[64];
	size_t len = 0;
	char *out;

	out = json_render_periods(periods, count, &len);
	root = parse_output("periods", out, len);
	if (root != NULL && expect_array("periods", root, count))
		for (size_t i = 0; i < count; i++) {
			snprintf(label, sizeof(label), "period %zu", i);
			json_expect_members(label,
			    json_object_array_get_idx(root, i), want[i], 5, 0);
		}
	json_object_put(root);
	out = json_render_periods(periods, 0, &len);
	expect_empty_array("no periods", out, len);
}

/*
 * json_render_cluster: a replica names its master; a site that knows
 * none, and a store of one site, answer null where there is nothing.
 */
static void
test_cluster(void)
{
	static const struct {
		struct cluster_view	 view;
		const char		*want;
	} cases[] = {
		{ { true, "10.0.0.2:7000", SITE_ROLE_REPLICA, true,
		    "10.0.0.1:7000", 2, { { "10.0.0.1:7000", true },
		    { "10.0.0.3:7000", false } } },
		  "{\"site\":\"10.0.0.2:7000\",\"role\":\"replica\","
		  "\"master\":\"10.0.0.1:7000\",\"peers\":[{\"site\":"
		  "\"10.0.0.1:7000\",\"connected\":true},{\"site\":"
		  "\"10.0.0.3:7000\",\"connected\":false}]}" },
		{ { true, "h:1", SITE_ROLE_UNKNOWN, false, "", 0, { { "", 0 } } },
		  "{\"site\":\"h:1\",\"role\":\"unknown\",\"master\":null,"
		  "\"peers\":[]}" },
		{ { false, "", SITE_ROLE_MASTER, false, "", 0, { { "", 0 } } },
		  "{\"site\":null,\"role\":\"master\",\"master\":null,"
		  "\"peers\":[]}" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t len = 0;
		char *out = json_render_cluster(&cases[i].view, &len);

		CHECK(out != NULL && len == strlen(cases[i].want) &&
		    strcmp(out, cases[i].want) == 0, "case %zu: %s", i,
		    out ? out : "(null)");
		free(out);
	}
}

static const CU_TestInfo render_tests[] = {
	{ "json_render_status", test_status },
	{ "json_render_history", test_history },
	{ "json_render_version", test_version },
	{ "json_render_diff", test_diff },
	{ "json_render_environments", test_environments },
	{ "json_render_export_header", test_export_header },
	{ "json_render_export_change", test_export_change },
	{ "json_render_events", test_events },
	{ "json_render_periods", test_periods },
	{ "json_render_cluster", test_cluster },
	CU_TEST_INFO_NULL,
};

int
add_render_suite(void)
{
	return add_suite_with_tests("render", NULL, NULL, render_tests);
}
