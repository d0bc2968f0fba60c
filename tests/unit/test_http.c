/*
 * The http suite: response_cacheable's If-None-Match over a table of
 * field values, the problem answers (response_problem, response_invalid)
 * parsed back with json-c, http_reason, and the problem table of
 * problem.c row by row.
 */
#include <json-c/json.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"
#include "tests.h"

/* The tag every If-None-Match case is compared with, and its ETag. */
#define TAG		"7.default"
#define TAG_QUOTED	"\"7.default\""
#define CACHE		"public, max-age=5"
#define BODY		"{\"systemVersion\":7}"

static const struct match_case {
	const char	*label;
	const char	*if_none_match;	/* NULL: no If-None-Match */
	bool		 matches;	/* a 304 */
} match_cases[] = {
	{ "no If-None-Match", NULL, false },
	{ "exact tag", "\"7.default\"", true },
	{ "weak tag", "W/\"7.default\"", true },
	{ "in the middle of a list",
	    "\"1.default\", \"7.default\", \"9.default\"", true },
	{ "last of a list, weak", "\"1.default\",W/\"7.default\"", true },
	{ "star", "*", true },
	{ "star with blanks", " *\t", true },
	{ "star after a tag (not a list member)", "\"1.default\", *", false },
	{ "star followed by junk", "*junk", false },
	{ "star in a list", "*, \"7.default\"", false },
	{ "blanks and commas around", " ,\t\"7.default\" ,", true },
	{ "empty entries before", ",, ,\"x\",,\t\"7.default\"", true },
	{ "a different tag", "\"8.default\"", false },
	{ "a different environment", "\"7.prod\"", false },
	{ "a list without it", "\"1.default\", W/\"8.default\"", false },
	{ "empty", "", false },
	{ "only blanks and commas", " , ,\t", false },
	{ "no quotes", "7.default", false },
	{ "weak, no quotes", "W/7.default", false },
	{ "lower-case w/", "w/\"7.default\"", false },
	{ "unterminated quote", "\"7.default", false },
	{ "unterminated after a tag", "\"1.default\", \"7.default", false },
	{ "malformed entry before it", "7.x, \"7.default\"", false },
	{ "a prefix of the tag", "\"7.def\"", false },
	{ "the tag is a prefix of it", "\"7.default-eu\"", false },
	{ "the tag without its version", "\"default\"", false },
	{ "a longer version", "\"17.default\"", false },
	{ "single quotes", "'7.default'", false },
};

/* One If-None-Match case: a 304 keeps the validators and drops the body. */
static void
test_if_none_match(void)
{
	for (size_t i = 0; i < sizeof(match_cases) / sizeof(match_cases[0]);
	    i++) {
		const struct match_case *c = &match_cases[i];
		struct request request = { .method = HTTP_GET,
		    .path = "/status", .query = "",
		    .if_none_match = c->if_none_match };
		struct response response;

		response_init(&response);
		response_json(&response, 200, copy_exact(LIT(BODY "\0")),
		    strlen(BODY));
		response_cacheable(&response, &request, TAG, CACHE);
		CHECK(strcmp(response.etag, TAG_QUOTED) == 0 &&
		    response.cache_control != NULL &&
		    strcmp(response.cache_control, CACHE) == 0,
		    "'%s': validators '%s', '%s'", c->label, response.etag,
		    response.cache_control != NULL ? response.cache_control :
		    "(none)");
		if (c->matches)
			CHECK(response.status == 304 && response.body == NULL &&
			    response.body_len == 0, "'%s': status %d, %zu bytes "
			    "of body; expected a 304 without one", c->label,
			    response.status, response.body_len);
		else
			CHECK(response.status == 200 && response.body != NULL &&
			    response.body_len == strlen(BODY) &&
			    memcmp(response.body, BODY, strlen(BODY)) == 0,
			    "'%s': status %d, %zu bytes of body; expected the "
			    "200 unchanged", c->label, response.status,
			    response.body_len);
		response_free(&response);
	}
}

/* The longest tag an ETag holds: ETAG_MAX - 3 bytes, quotes added. */
static void
test_longest_tag(void)
{
	char tag[ETAG_MAX], quoted[ETAG_MAX + 2];
	struct request request = { .method = HTTP_GET, .path = "/status",
	    .query = "", .if_none_match = quoted };
	struct response response;

	memset(tag, 't', ETAG_MAX - 3);
	tag[ETAG_MAX - 3] = '\0';
	snprintf(quoted, sizeof(quoted), "\"%s\"", tag);
	response_init(&response);
	response_cacheable(&response, &request, tag, CACHE);
	CHECK(strlen(response.etag) == ETAG_MAX - 1 &&
	    strcmp(response.etag, quoted) == 0 && response.status == 304,
	    "a tag of %d bytes: ETag of %zu bytes, status %d", ETAG_MAX - 3,
	    strlen(response.etag), response.status);
	response_free(&response);
}

/* What each problem kind is answered with. */
static const struct problem_case {
	enum problem_kind	 kind;
	int			 status;
	const char		*type;
	const char		*title;
	const char		*ext_key;	/* the member naming the input */
	unsigned		 retry_after;
	bool			 authenticate;	/* WWW-Authenticate */
} problem_cases[] = {
	{ .kind = PROBLEM_INVALID_JSON, .status = 400,
	    .type = "/problems/invalid-json",
	    .title = "The body is not one valid JSON object" },
	{ .kind = PROBLEM_INVALID_FIELD, .status = 400,
	    .type = "/problems/invalid-field",
	    .title = "A field of the body is invalid", .ext_key = "field" },
	{ .kind = PROBLEM_INVALID_PARAMETER, .status = 400,
	    .type = "/problems/invalid-parameter",
	    .title = "A query parameter is invalid", .ext_key = "parameter" },
	{ .kind = PROBLEM_BAD_REQUEST, .status = 400,
	    .type = "/problems/bad-request", .title = "Malformed HTTP request" },
	{ .kind = PROBLEM_UNAUTHORIZED, .status = 401,
	    .type = "/problems/unauthorized",
	    .title = "A valid deploy token is required", .authenticate = true },
	{ .kind = PROBLEM_NOT_FOUND, .status = 404,
	    .type = "/problems/not-found", .title = "Not found" },
	{ .kind = PROBLEM_METHOD_NOT_ALLOWED, .status = 405,
	    .type = "/problems/method-not-allowed",
	    .title = "Method not allowed" },
	{ .kind = PROBLEM_EVENT_CONFLICT, .status = 409,
	    .type = "/problems/event-conflict",
	    .title = "The eventId belongs to another report",
	    .ext_key = "field" },
	{ .kind = PROBLEM_PAYLOAD_TOO_LARGE, .status = 413,
	    .type = "/problems/payload-too-large",
	    .title = "The body is too large" },
	{ .kind = PROBLEM_UNAVAILABLE, .status = 503,
	    .type = "/problems/unavailable",
	    .title = "The service is unavailable; try again later",
	    .retry_after = 2 },
	{ .kind = PROBLEM_STORAGE_FULL, .status = 503,
	    .type = "/problems/storage-full",
	    .title = "The store's disk is full; try again later",
	    .retry_after = 30 },
};

#define PROBLEM_KINDS	(sizeof(problem_cases) / sizeof(problem_cases[0]))

/*
 * Checks a problem answer against its case: status, headers, and a body
 * of exactly type, title, status, detail and, when name is given and the
 * kind names its input, the extension member.
 */
static void
expect_problem(const char *label, const struct response *response,
    const struct problem_case *c, const char *name, const char *detail)
{
	struct json_object *root;
	int members = 4 + (c->ext_key != NULL && name != NULL);

	CHECK(response->status == c->status, "%s: status %d, expected %d",
	    label, response->status, c->status);
	CHECK(response->content_type != NULL &&
	    strcmp(response->content_type, "application/problem+json") == 0,
	    "%s: content type %s", label, response->content_type != NULL ?
	    response->content_type : "(none)");
	CHECK(response->retry_after == c->retry_after,
	    "%s: Retry-After %u, expected %u", label, response->retry_after,
	    c->retry_after);
	if (c->authenticate)
		CHECK(response->www_authenticate != NULL &&
		    strcmp(response->www_authenticate,
		    "Bearer realm=\"releasemgr\"") == 0,
		    "%s: WWW-Authenticate %s", label,
		    response->www_authenticate != NULL ?
		    response->www_authenticate : "(none)");
	else
		CHECK(response->www_authenticate == NULL,
		    "%s: WWW-Authenticate %s", label,
		    response->www_authenticate);
	CHECK(response->allow == NULL && response->etag[0] == '\0',
	    "%s: no Allow, no ETag", label);
	root = json_parse_exact(response->body, response->body_len);
	if (!CHECK(root != NULL && json_object_is_type(root, json_type_object),
	    "%s: the body is not one JSON object", label)) {
		json_object_put(root);
		return;
	}
	CHECK(json_object_object_length(root) == members,
	    "%s: %d members, expected %d: %s", label,
	    json_object_object_length(root), members, response->body);
	CHECK(json_has_string(root, "type", c->type) &&
	    json_has_string(root, "title", c->title) &&
	    json_has_uint(root, "status", (uint64_t)c->status) &&
	    json_has_string(root, "detail", detail),
	    "%s: type, title, status, detail: %s", label, response->body);
	if (members == 5)
		CHECK(json_has_string(root, c->ext_key, name), "%s: %s: %s",
		    label, c->ext_key, response->body);
	json_object_put(root);
}

/* response_problem: every kind, with and without a name, over an earlier body. */
static void
test_response_problem(void)
{
	char label[96], detail[64];

	for (size_t i = 0; i < PROBLEM_KINDS; i++) {
		const struct problem_case *c = &problem_cases[i];
		struct response response;

		snprintf(label, sizeof(label), "%s, named", c->type);
		snprintf(detail, sizeof(detail),
		    "detail %zu: \"q\" \\ caf\xc3\xa9", i);
		response_init(&response);
		/* the problem replaces what was answered before */
		response_json(&response, 200, copy_exact(LIT("[]")), 2);
		response_problem(&response, c->kind, "version", "detail %zu: "
		    "\"q\" \\ caf\xc3\xa9", i);
		expect_problem(label, &response, c, "version", detail);
		response_free(&response);

		snprintf(label, sizeof(label), "%s, no name", c->type);
		response_problem(&response, c->kind, NULL, "detail %zu: "
		    "\"q\" \\ caf\xc3\xa9", i);
		expect_problem(label, &response, c, NULL, detail);
		response_free(&response);
	}
}

/*
 * A detail longer than its 255 bytes is cut at a whole character, never
 * inside one: a long name in it stays UTF-8.
 */
static void
test_problem_detail_cut(void)
{
	static const struct {
		size_t		 ascii;		/* 'x' bytes before the U+20AC */
		size_t		 kept;		/* bytes of the detail */
	} cases[] = {
		{ 252, 255 },	/* the character ends at the last byte */
		{ 253, 253 },	/* one byte of it would not fit */
		{ 254, 254 },	/* two would not */
		{ 100, 255 },	/* ASCII after it, cut anywhere */
	};
	char text[300];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct json_object *root, *detail;
		struct response response;

		memset(text, 'x', sizeof(text) - 1);
		text[sizeof(text) - 1] = '\0';
		memcpy(text + cases[i].ascii, "\xe2\x82\xac", 3);
		response_init(&response);
		response_problem(&response, PROBLEM_NOT_FOUND, NULL, "%s", text);
		root = json_parse_exact(response.body, response.body_len);
		CHECK(root != NULL && json_object_object_get_ex(root, "detail",
		    &detail) && (size_t)json_object_get_string_len(detail) ==
		    cases[i].kept && memcmp(json_object_get_string(detail), text,
		    cases[i].kept) == 0, "U+20AC after %zu bytes: %.*s",
		    cases[i].ascii, (int)response.body_len, response.body);
		json_object_put(root);
		response_free(&response);
	}
}

/* response_invalid: the invalid description's kind, name and detail. */
static void
test_response_invalid(void)
{
	static const struct {
		const char		*label;
		size_t			 row;	/* in problem_cases */
		const char		*name;
		const char		*detail;
	} cases[] = {
		{ "a field", 1, "version",
		    "version must be an integer from 0 to 9007199254740991" },
		{ "an alias field", 1, "serviceVersionNumber", "given twice" },
		{ "a parameter", 2, "limit",
		    "limit must be a decimal integer from 1 to 500" },
		{ "a path segment", 2, "systemVersion", "systemVersion (the "
		    "last segment of the path) must be a decimal integer" },
		{ "invalid JSON, no name", 0, NULL, "the body is not JSON" },
		{ "a field without a name", 1, NULL, "no member named" },
		{ "a name on a kind that names none", 5, "version",
		    "no such version" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct problem_case *c = &problem_cases[cases[i].row];
		struct invalid invalid;
		struct response response;

		invalid_set(&invalid, c->kind, cases[i].name, "%s",
		    cases[i].detail);
		response_init(&response);
		response_invalid(&response, &invalid);
		expect_problem(cases[i].label, &response, c, cases[i].name,
		    cases[i].detail);
		response_free(&response);
	}
}

/* The reason phrase of every status the server answers, and of others. */
static void
test_reason(void)
{
	static const struct {
		int		 status;
		const char	*reason;
	} cases[] = {
		{ 200, "OK" },
		{ 304, "Not Modified" },
		{ 400, "Bad Request" },
		{ 401, "Unauthorized" },
		{ 404, "Not Found" },
		{ 405, "Method Not Allowed" },
		{ 409, "Conflict" },
		{ 413, "Content Too Large" },
		{ 500, "Internal Server Error" },
		{ 503, "Service Unavailable" },
		/* nginx answers these itself; the pool never does */
		{ 201, "Unknown" },
		{ 429, "Unknown" },
		{ 0, "Unknown" },
		{ -200, "Unknown" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *reason = http_reason(cases[i].status);

		CHECK(reason != NULL && strcmp(reason, cases[i].reason) == 0,
		    "%d: '%s', expected '%s'", cases[i].status,
		    reason != NULL ? reason : "(null)", cases[i].reason);
	}
}

/*
 * The problem table, row by row: every kind has its row, with a type
 * under /problems/, a title, a 4xx or 5xx status with a reason phrase, a
 * Retry-After exactly for 503s; no two kinds share a type.
 */
static void
test_problem_table(void)
{
	CHECK(PROBLEM_KINDS == PROBLEM_STORAGE_FULL + 1,
	    "the suite's table has %zu kinds, the enum %d", PROBLEM_KINDS,
	    PROBLEM_STORAGE_FULL + 1);
	for (int k = 0; k <= PROBLEM_STORAGE_FULL; k++) {
		const struct problem *p = problem_of((enum problem_kind)k);

		if (!CHECK(p != NULL && p->type != NULL && p->title != NULL,
		    "kind %d: a row with a type and a title", k))
			continue;
		CHECK(strncmp(p->type, "/problems/", 10) == 0 &&
		    strlen(p->type) > 10, "kind %d: type '%s'", k, p->type);
		CHECK(p->title[0] != '\0', "kind %d: an empty title", k);
		CHECK(p->status >= 400 && p->status <= 599 &&
		    strcmp(http_reason(p->status), "Unknown") != 0,
		    "kind %d: status %d", k, p->status);
		CHECK((p->retry_after != 0) == (p->status == 503),
		    "kind %d: status %d with Retry-After %u", k, p->status,
		    p->retry_after);
		for (int other = 0; other < k; other++)
			CHECK(strcmp(problem_of((enum problem_kind)other)->type,
			    p->type) != 0, "kinds %d and %d share the type %s",
			    other, k, p->type);
	}
}

static const CU_TestInfo http_tests[] = {
	{ "response_cacheable If-None-Match", test_if_none_match },
	{ "response_cacheable longest tag", test_longest_tag },
	{ "response_problem", test_response_problem },
	{ "response_invalid", test_response_invalid },
	{ "http_reason", test_reason },
	{ "response_problem cuts a detail at a character",
	    test_problem_detail_cut },
	{ "problem table", test_problem_table },
	CU_TEST_INFO_NULL,
};

int
add_http_suite(void)
{
	return add_suite_with_tests("http", NULL, NULL, http_tests);
}
