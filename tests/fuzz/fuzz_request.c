/*
 * The libFuzzer harness of everything a request brings in from the
 * network: the POST /deploy body (json_parse_deploy), the query string of
 * the read routes (query_parse), and the two scalar parsers under it
 * (parse_decimal, parse_instant).
 *
 * The first byte of an input chooses the target, by its value modulo the
 * number of targets ('0' a body, '1' a query string, '2' a scalar, so the
 * files of tests/fuzz/corpus/ stay readable); the rest is the target's
 * input. Besides crashes, leaks and undefined behaviour, each target
 * checks what its parser promises and aborts when a promise is broken, so
 * that logic errors are found too: what is accepted is bounded and valid
 * and renders back unchanged, what is refused renders as a problem that
 * names a known member or parameter.
 */
#include <json-c/json.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "json.h"
#include "json_parse.h"
#include "query.h"
#include "validate.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Reports a broken promise and aborts: libFuzzer keeps the input. */
#define REQUIRE(cond) \
	((cond) ? (void)0 : broken(#cond, __LINE__))

static void
broken(const char *condition, int line)
{
	fprintf(stderr, "fuzz_request.c:%d: broken promise: %s\n", line,
	    condition);
	abort();
}

/*
 * True when name is one of the NULL-terminated names, or, when names is
 * NULL, when name is NULL too.
 */
static int
is_one_of(const char *name, const char *const *names)
{
	if (names == NULL)
		return name == NULL;
	for (; name != NULL && *names != NULL; names++)
		if (strcmp(name, *names) == 0)
			return 1;
	return 0;
}

/*
 * Parses text, len bytes, with json-c in strict mode (plus flags), nested
 * at most depth deep, leaving nothing but JSON whitespace after the value.
 * Returns the tree (the caller puts it), or NULL.
 */
static struct json_object *
parse_strict(const char *text, size_t len, int depth, int flags)
{
	struct json_tokener *tokener = json_tokener_new_ex(depth);
	struct json_object *root;
	size_t end;

	REQUIRE(tokener != NULL);
	json_tokener_set_flags(tokener, JSON_TOKENER_STRICT | flags);
	root = json_tokener_parse_ex(tokener, text, (int)len);
	end = json_tokener_get_parse_end(tokener);
	while (end < len && memchr(" \t\n\r", text[end], 4) != NULL)
		end++;
	if (end != len) {
		json_object_put(root);
		root = NULL;
	}
	json_tokener_free(tokener);
	return root;
}

/*
 * Parses all of what a renderer wrote as strict JSON in valid UTF-8 and
 * returns the tree (the caller puts it); aborts on anything else.
 */
static struct json_object *
require_json(const char *text, size_t len)
{
	struct json_object *root = parse_strict(text, len,
	    JSON_TOKENER_DEFAULT_DEPTH, JSON_TOKENER_VALIDATE_UTF8);

	REQUIRE(root != NULL);
	return root;
}

/* The member key of object, which must exist and be of type. */
static struct json_object *
require_member(struct json_object *object, const char *key,
    enum json_type type)
{
	struct json_object *value = NULL;

	REQUIRE(json_object_object_get_ex(object, key, &value));
	REQUIRE(json_object_is_type(value, type));
	return value;
}

/* Checks that the member key of object is the string s of len bytes. */
static void
require_string_member(struct json_object *object, const char *key,
    const char *s, size_t len)
{
	struct json_object *value = require_member(object, key,
	    json_type_string);

	REQUIRE((size_t)json_object_get_string_len(value) == len);
	REQUIRE(memcmp(json_object_get_string(value), s, len) == 0);
}

/* A failure description as the parsers leave it when they fill nothing. */
static void
invalid_unfilled(struct invalid *invalid)
{
	memset(invalid, 0, sizeof(*invalid));
	invalid->kind = PROBLEM_UNAVAILABLE;	/* no parser reports this one */
	invalid->name = "unfilled";
}

/*
 * Checks that a refusal was described as kind, naming one of names (NULL:
 * naming nothing), and that it renders as a 400 problem with that detail.
 */
static void
require_described(const struct invalid *invalid, enum problem_kind kind,
    const char *const *names)
{
	const struct problem *row = problem_of(invalid->kind);
	struct json_object *problem;
	size_t len = 0;
	char *body;

	REQUIRE(invalid->detail[0] != '\0');
	REQUIRE(memchr(invalid->detail, '\0', sizeof(invalid->detail)) != NULL);
	REQUIRE(invalid->kind == kind);
	REQUIRE(is_one_of(invalid->name, names));
	REQUIRE(row->status == 400);
	body = json_render_problem(row->status, row->type, row->title,
	    invalid->detail, row->ext_key, invalid->name, &len);
	REQUIRE(body != NULL);
	problem = require_json(body, len);
	require_string_member(problem, "detail", invalid->detail,
	    strlen(invalid->detail));
	json_object_put(problem);
	free(body);
}

/* Checks an accepted metadata string. */
static void
require_metadata(const struct metadata_text *text)
{
	if (!text->present) {
		REQUIRE(text->len == 0);
		return;
	}
	REQUIRE(text->len <= METADATA_MAX && text->text[text->len] == '\0');
	REQUIRE(check_metadata(text->text, text->len) == NULL);
}

/* Checks that the member key of object is text, or absent when text is. */
static void
require_metadata_member(struct json_object *object, const char *key,
    const struct metadata_text *text)
{
	if (text->present)
		require_string_member(object, key, text->text, text->len);
	else
		REQUIRE(!json_object_object_get_ex(object, key, NULL));
}

/*
 * Checks that an accepted deploy is shown as it was sent: its name and
 * version in a service list (the hand-written renderer of GET /services)
 * and its change with the metadata in a history (json-c's renderer), both
 * read back unchanged by a strict parser.
 */
static void
require_rendered(const struct deploy *deploy)
{
	struct service_list list;
	struct change_record record;
	struct json_object *root, *item;
	char *text;
	size_t len;

	service_list_init(&list);
	REQUIRE(service_list_append(&list, deploy->name, deploy->name_len,
	    deploy->version));
	REQUIRE((text = json_render_services(&list, &len)) != NULL);
	root = require_json(text, len);
	REQUIRE(json_object_is_type(root, json_type_array));
	REQUIRE(json_object_array_length(root) == 1);
	item = json_object_array_get_idx(root, 0);
	require_string_member(item, "name", deploy->name, deploy->name_len);
	REQUIRE(json_object_get_uint64(require_member(item, "version",
	    json_type_int)) == deploy->version);
	json_object_put(root);
	free(text);
	service_list_free(&list);

	memset(&record, 0, sizeof(record));
	record.system_version = 1;
	memcpy(record.name, deploy->name, deploy->name_len + 1);
	record.name_len = deploy->name_len;
	record.version = deploy->version;
	record.deployed_by = deploy->deployed_by;
	record.reason = deploy->reason;
	record.release_hash = deploy->release_hash;
	REQUIRE((text = json_render_history(&record, 1, &len)) != NULL);
	root = require_json(text, len);
	REQUIRE(json_object_array_length(root) == 1);
	item = require_member(json_object_array_get_idx(root, 0), "change",
	    json_type_object);
	require_string_member(item, "name", deploy->name, deploy->name_len);
	require_metadata_member(item, "deployedBy", &deploy->deployed_by);
	require_metadata_member(item, "reason", &deploy->reason);
	require_metadata_member(item, "releaseHash", &deploy->release_hash);
	json_object_put(root);
	free(text);
}

/*
 * A body: when accepted, every value is bounded, validated and terminated;
 * it renders back unchanged; when refused, the problem is malformed JSON
 * (naming nothing) or a field (naming a known member) of a body that
 * json-c's strict parser reads as one object. Nothing else: the parse
 * allocates nothing (its scan lives on the stack, validate.c's checks
 * allocate nothing), so no refusal for lack of memory can happen.
 */
static void
fuzz_body(const char *body, size_t len)
{
	static const char *const members[] = { "name", "serviceName",
	    "version", "serviceVersionNumber", "environment", "deployedBy",
	    "reason", "releaseHash", "eventId", "sequence", "deployedAt",
	    NULL };
	struct deploy deploy;
	struct invalid invalid;

	invalid_unfilled(&invalid);
	if (!json_parse_deploy(body, len, &deploy, &invalid)) {
		if (invalid.kind == PROBLEM_INVALID_FIELD) {
			struct json_object *object = parse_strict(body, len,
			    JSON_DEPTH_MAX + 1, 0);

			REQUIRE(json_object_is_type(object, json_type_object));
			json_object_put(object);
			require_described(&invalid, PROBLEM_INVALID_FIELD,
			    members);
		} else
			require_described(&invalid, PROBLEM_INVALID_JSON, NULL);
		return;
	}
	REQUIRE(deploy.name_len >= 1 && deploy.name_len <= SERVICE_NAME_MAX);
	REQUIRE(strlen(deploy.name) == deploy.name_len);
	REQUIRE(utf8_valid(deploy.name, deploy.name_len));
	REQUIRE(check_service_name(deploy.name, deploy.name_len) == NULL);
	REQUIRE(deploy.version <= SERVICE_VERSION_MAX);
	REQUIRE(memchr(deploy.environment, '\0', sizeof(deploy.environment)));
	REQUIRE(check_environment(deploy.environment,
	    strlen(deploy.environment)) == NULL);
	require_metadata(&deploy.deployed_by);
	require_metadata(&deploy.reason);
	require_metadata(&deploy.release_hash);
	REQUIRE(!deploy.key.has_event_id || (deploy.key.event_id_len >= 1 &&
	    deploy.key.event_id_len <= EVENT_ID_MAX &&
	    strlen(deploy.key.event_id) == deploy.key.event_id_len &&
	    check_event_id(deploy.key.event_id, deploy.key.event_id_len) ==
	    NULL));
	REQUIRE(!deploy.key.has_sequence || deploy.key.sequence <= SEQUENCE_MAX);
	require_rendered(&deploy);
}

/* Writes ms as YYYY-MM-DDTHH:MM:SS.mmmZ into buf (at least 32 bytes). */
static size_t
format_instant(uint64_t ms, char *buf, size_t cap)
{
	time_t seconds = (time_t)(ms / 1000);
	struct tm tm;
	size_t n;

	REQUIRE(gmtime_r(&seconds, &tm) != NULL);
	n = strftime(buf, cap, "%Y-%m-%dT%H:%M:%S", &tm);
	REQUIRE(n == 19);
	return n + (size_t)snprintf(buf + n, cap - n, ".%03uZ",
	    (unsigned)(ms % 1000));
}

/*
 * An accepted instant: the UTC date and time the C library computes from
 * its milliseconds, moved by the input's offset, are the ones written in
 * the input (a leap second read as the second before it), and the instant
 * written back in UTC parses to the same milliseconds.
 */
static void
require_instant(const char *s, size_t len, uint64_t ms)
{
	char canonical[40], wall[20];
	time_t local;
	struct tm tm;
	long offset = 0;
	unsigned millis = 0;
	int digits_ended = 0;
	uint64_t again;
	size_t n;

	REQUIRE(len >= 20);
	if (s[len - 1] != 'Z' && s[len - 1] != 'z') {
		REQUIRE(len >= 25);
		offset = ((s[len - 5] - '0') * 10 + (s[len - 4] - '0')) * 3600L +
		    ((s[len - 2] - '0') * 10 + (s[len - 1] - '0')) * 60L;
		if (s[len - 6] == '-')
			offset = -offset;
	}
	local = (time_t)(ms / 1000) + offset;
	REQUIRE(gmtime_r(&local, &tm) != NULL);
	REQUIRE(strftime(wall, sizeof(wall), "%Y-%m-%d %H:%M:%S", &tm) == 19);
	REQUIRE(memcmp(wall, s, 10) == 0 && memcmp(wall + 11, s + 11, 6) == 0);
	REQUIRE(memcmp(wall + 17, s + 17, 2) == 0 ||
	    (memcmp(s + 17, "60", 2) == 0 && memcmp(wall + 17, "59", 2) == 0));
	for (size_t i = 20; s[19] == '.' && i < 23; i++) {
		millis *= 10;
		if (i < len && s[i] >= '0' && s[i] <= '9' && !digits_ended)
			millis += (unsigned)(s[i] - '0');
		else
			digits_ended = 1;
	}
	REQUIRE(ms % 1000 == millis);
	n = format_instant(ms, canonical, sizeof(canonical));
	REQUIRE(parse_instant(canonical, n, &again) && again == ms);
}

/* How many pairs of query have the key name written without escapes. */
static int
plain_key_count(const char *query, const char *name)
{
	size_t n = strlen(name);
	int count = 0;

	for (const char *p = query; p != NULL; p = strchr(p, '&')) {
		p += *p == '&';
		if (strncmp(p, name, n) == 0 &&
		    (p[n] == '=' || p[n] == '&' || p[n] == '\0'))
			count++;
	}
	return count;
}

/*
 * Checks an accepted query's values against the parameters written
 * plainly in it: each at most once, and each taken; an instant written
 * back in UTC parses to the same milliseconds.
 */
static void
require_taken(const char *query, const struct query *q)
{
	const struct {
		const char	*name;
		bool		 has;
	} given[] = {
		{ "systemVersion", query_given(q, QUERY_SYSTEM_VERSION) },
		{ "environment", query_given(q, QUERY_ENVIRONMENT) },
		{ "limit", query_given(q, QUERY_LIMIT) },
		{ "before", query_given(q, QUERY_BEFORE) },
		{ "at", query_given(q, QUERY_AT) },
		{ "from", query_given(q, QUERY_FROM) },
		{ "to", query_given(q, QUERY_TO) },
		{ "fromEnvironment", query_given(q, QUERY_FROM_ENVIRONMENT) },
		{ "toEnvironment", query_given(q, QUERY_TO_ENVIRONMENT) },
		{ "name", query_given(q, QUERY_NAME) },
		{ "eventId", query_given(q, QUERY_EVENT_ID) },
		{ "sequence", query_given(q, QUERY_SEQUENCE) },
		{ "deployedAt", query_given(q, QUERY_DEPLOYED_AT) },
		{ "site", query_given(q, QUERY_SITE) },
	};
	struct site_address site;
	char text[SITE_TEXT_SIZE];
	char canonical[40];
	uint64_t again;
	size_t n;

	for (size_t i = 0; i < sizeof(given) / sizeof(given[0]); i++) {
		int count = plain_key_count(query, given[i].name);

		REQUIRE(count <= 1);
		REQUIRE(count == 0 || given[i].has);
	}
	if (query_given(q, QUERY_AT)) {
		n = format_instant(q->at_ms, canonical, sizeof(canonical));
		REQUIRE(parse_instant(canonical, n, &again) && again == q->at_ms);
	}
	if (query_given(q, QUERY_DEPLOYED_AT)) {
		n = format_instant(q->deployed_at_ms, canonical,
		    sizeof(canonical));
		REQUIRE(parse_instant(canonical, n, &again) &&
		    again == q->deployed_at_ms);
	}
	/* a site written back reads as the same site */
	if (query_given(q, QUERY_SITE)) {
		site_format(&q->site, text);
		REQUIRE(site_parse(text, strlen(text), &site) == NULL &&
		    site_compare(&site, &q->site) == 0);
	}
}

/*
 * A text parameter, when given, is NUL-terminated within its cap bytes
 * and passes its check.
 */
static void
require_text(const struct query *q, enum query_param param, const char *text,
    size_t cap, const char *(*check)(const char *, size_t))
{
	if (!query_given(q, param))
		return;
	REQUIRE(memchr(text, '\0', cap) != NULL);
	REQUIRE(check(text, strlen(text)) == NULL);
}

/* Every parameter, as a route that read them all would accept them. */
#define ALL_PARAMETERS	((1u << QUERY_PARAM_COUNT) - 1)

/*
 * A query string (NUL-terminated, so cut at its first NUL), read with every
 * parameter accepted: when accepted, every value is in its range, defaults
 * stand for what was left out, and what is written plainly was taken once;
 * when refused, the problem names a known parameter. Then read again
 * accepting only some parameters (chosen from the input's bytes), as a
 * route that declares them does: nothing else is taken, and what the first
 * read accepted the second accepts with the same values.
 */
static void
fuzz_query(const char *data, size_t len)
{
	static const char *const parameters[] = { "systemVersion",
	    "environment", "limit", "before", "at", "from", "to",
	    "fromEnvironment", "toEnvironment", "name", "eventId", "sequence",
	    "deployedAt", "site", NULL };
	char *query = malloc(len + 1);
	struct query q, some;
	struct invalid invalid;
	unsigned accepted = 0;
	bool ok;

	REQUIRE(query != NULL);
	memcpy(query, data, len);
	query[len] = '\0';
	for (size_t i = 0; i < len; i++)
		accepted = accepted * 31 + (unsigned char)data[i];
	accepted &= ALL_PARAMETERS;
	invalid_unfilled(&invalid);
	query_init(&q);
	if (!(ok = query_parse(query, ALL_PARAMETERS, &q, &invalid)))
		require_described(&invalid, PROBLEM_INVALID_PARAMETER,
		    parameters);
	else {
		REQUIRE(memchr(q.environment, '\0', sizeof(q.environment)));
		REQUIRE(check_environment(q.environment,
		    strlen(q.environment)) == NULL);
		REQUIRE(query_given(&q, QUERY_ENVIRONMENT) ||
		    strcmp(q.environment, DEFAULT_ENVIRONMENT) == 0);
		REQUIRE(!query_given(&q, QUERY_SYSTEM_VERSION) ||
		    (q.system_version >= 1 &&
		    q.system_version <= SYSTEM_VERSION_MAX));
		REQUIRE(q.limit >= 1 && q.limit <= HISTORY_PAGE_MAX);
		REQUIRE(query_given(&q, QUERY_LIMIT) ||
		    q.limit == HISTORY_PAGE_DEFAULT);
		REQUIRE(!query_given(&q, QUERY_BEFORE) || (q.before >= 1 &&
		    q.before <= SYSTEM_VERSION_MAX));
		REQUIRE(!query_given(&q, QUERY_FROM) || (q.from >= 1 &&
		    q.from <= SYSTEM_VERSION_MAX));
		REQUIRE(!query_given(&q, QUERY_TO) || (q.to >= 1 &&
		    q.to <= SYSTEM_VERSION_MAX));
		REQUIRE(!query_given(&q, QUERY_SEQUENCE) ||
		    q.sequence <= SEQUENCE_MAX);
		require_text(&q, QUERY_FROM_ENVIRONMENT, q.from_environment,
		    sizeof(q.from_environment), check_environment);
		require_text(&q, QUERY_TO_ENVIRONMENT, q.to_environment,
		    sizeof(q.to_environment), check_environment);
		require_text(&q, QUERY_NAME, q.name, sizeof(q.name),
		    check_service_name);
		require_text(&q, QUERY_EVENT_ID, q.event_id,
		    sizeof(q.event_id), check_event_id);
		require_taken(query, &q);
	}
	invalid_unfilled(&invalid);
	query_init(&some);
	if (!query_parse(query, accepted, &some, &invalid)) {
		REQUIRE(!ok);
		require_described(&invalid, PROBLEM_INVALID_PARAMETER,
		    parameters);
	} else {
		REQUIRE((some.given & ~accepted) == 0);
		REQUIRE(!ok || some.given == (q.given & accepted));
		REQUIRE(!ok || !query_given(&some, QUERY_SYSTEM_VERSION) ||
		    some.system_version == q.system_version);
		REQUIRE(!ok || strcmp(some.environment, q.environment) == 0 ||
		    !(accepted & QUERY_PARAM(QUERY_ENVIRONMENT)));
	}
	free(query);
}

/* The value of n digits at s, or -1 when one is not a digit. */
static int
digits_value(const char *s, size_t n)
{
	int value = 0;

	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		value = value * 10 + (s[i] - '0');
	}
	return value;
}

/*
 * When s starts with a date and time (YYYY-MM-DDTHH:MM:SS) that the C
 * library's calendar says exist, from 1970 on and without a leap second,
 * that date and time followed by Z is accepted, as the instant the C
 * library computes.
 */
static void
require_real_instant_accepted(const char *s, size_t len)
{
	static const size_t at[6] = { 0, 5, 8, 11, 14, 17 };
	int field[6];
	char text[21];
	struct tm tm;
	time_t t;
	uint64_t ms;

	if (len < 19 || s[4] != '-' || s[7] != '-' || s[10] != 'T' ||
	    s[13] != ':' || s[16] != ':')
		return;
	for (size_t i = 0; i < 6; i++)
		if ((field[i] = digits_value(s + at[i], i == 0 ? 4 : 2)) < 0)
			return;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = field[0] - 1900;
	tm.tm_mon = field[1] - 1;
	tm.tm_mday = field[2];
	tm.tm_hour = field[3];
	tm.tm_min = field[4];
	tm.tm_sec = field[5];
	t = timegm(&tm);
	/* timegm moves what does not exist (February 30) to what does */
	if (field[0] < 1970 || tm.tm_year != field[0] - 1900 ||
	    tm.tm_mon != field[1] - 1 || tm.tm_mday != field[2] ||
	    tm.tm_hour != field[3] || tm.tm_min != field[4] ||
	    tm.tm_sec != field[5])
		return;
	memcpy(text, s, 19);
	memcpy(text + 19, "Z", 2);
	REQUIRE(parse_instant(text, 20, &ms));
	REQUIRE(ms == (uint64_t)t * 1000);
}

/*
 * True when s is how printf writes some uint64_t: 1 to 20 digits, no
 * leading zero, at most 18446744073709551615.
 */
static int
canonical_uint64(const char *s, size_t len)
{
	static const char max[] = "18446744073709551615";

	if (len == 0 || len > sizeof(max) - 1 || (len > 1 && s[0] == '0'))
		return 0;
	for (size_t i = 0; i < len; i++)
		if (s[i] < '0' || s[i] > '9')
			return 0;
	return len < sizeof(max) - 1 || memcmp(s, max, len) <= 0;
}

/*
 * Raw bytes (not NUL-terminated) to the scalar parsers: parse_decimal
 * accepts exactly the canonical decimal writing of a value in range, and
 * gives that value; parse_instant's answers agree with the C library's
 * calendar, both ways.
 */
static void
fuzz_scalar(const char *s, size_t len)
{
	char digits[24];
	uint64_t value, expected = 0, ms;
	int canonical = canonical_uint64(s, len);

	if (canonical) {
		memcpy(digits, s, len);
		digits[len] = '\0';
		expected = strtoull(digits, NULL, 10);
	}
	if (parse_decimal(s, len, 0, UINT64_MAX, &value))
		REQUIRE(canonical && value == expected);
	else
		REQUIRE(!canonical);
	if (parse_decimal(s, len, 1, SYSTEM_VERSION_MAX, &value))
		REQUIRE(canonical && value == expected);
	else
		REQUIRE(!canonical || expected < 1 ||
		    expected > SYSTEM_VERSION_MAX);
	if (parse_instant(s, len, &ms))
		require_instant(s, len, ms);
	require_real_instant_accepted(s, len);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static void (*const targets[])(const char *, size_t) = {
		fuzz_body, fuzz_query, fuzz_scalar
	};

	if (size > 0)
		targets[data[0] % (sizeof(targets) / sizeof(targets[0]))](
		    (const char *)data + 1, size - 1);
	return 0;
}
