/*
 * The query suite: query strings and path segments decoded and validated
 * into a struct query, driven by tables of good and bad inputs.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "query.h"
#include "tests.h"

/* Every parameter, as a route that read them all would accept them. */
#define ALL	((1u << QUERY_PARAM_COUNT) - 1)
#define P(p)	QUERY_PARAM(QUERY_##p)

/* One query string, the parameters read, and what query_parse must make of it. */
struct query_case {
	const char	*label;
	const char	*query;
	unsigned	 accepted;
	bool		 ok;
	/* when ok */
	bool		 has_system_version;
	uint64_t	 system_version;
	const char	*environment;
	bool		 has_environment;
	/* when not ok: the offending parameter */
	const char	*parameter;
};

#define QUERY_OK(label, query, has_sv, sv, env, has_env) \
	{ label, query, ALL, true, has_sv, sv, env, has_env, NULL }
#define QUERY_BAD(label, query, parameter) \
	{ label, query, ALL, false, false, 0, NULL, false, parameter }
/* The same, for a route that reads only the parameters in accepted. */
#define ROUTE_OK(label, query, accepted, has_sv, sv, env, has_env) \
	{ label, query, accepted, true, has_sv, sv, env, has_env, NULL }
#define ROUTE_BAD(label, query, accepted, parameter) \
	{ label, query, accepted, false, false, 0, NULL, false, parameter }

static const struct query_case query_cases[] = {
	QUERY_OK("empty", "", false, 0, "default", false),
	QUERY_OK("systemVersion=3", "systemVersion=3", true, 3, "default", false),
	QUERY_OK("systemVersion=1", "systemVersion=1", true, 1, "default", false),
	QUERY_OK("environment=prod", "environment=prod", false, 0, "prod", true),
	QUERY_OK("both", "systemVersion=12&environment=staging-2", true, 12,
	    "staging-2", true),
	QUERY_OK("both, reversed", "environment=a.b_c&systemVersion=7", true, 7,
	    "a.b_c", true),
	QUERY_OK("explicit default", "environment=default", false, 0, "default",
	    true),
	QUERY_OK("unknown parameters ignored", "foo=bar&systemVersion=2&x=%zz&y",
	    true, 2, "default", false),
	QUERY_OK("unknown only", "page=2&sort=name", false, 0, "default", false),
	QUERY_OK("unknown given twice", "a=1&a=2", false, 0, "default", false),
	QUERY_OK("case matters in names", "SystemVersion=abc&ENVIRONMENT=a b",
	    false, 0, "default", false),
	QUERY_OK("empty pairs", "&&systemVersion=5&&", true, 5, "default", false),
	QUERY_OK("an unknown key without '='", "verbose&environment=prod", false, 0,
	    "prod", true),
	QUERY_OK("9007199254740991", "systemVersion=9007199254740991", true,
	    UINT64_C(9007199254740991), "default", false),
	QUERY_OK("percent-decoded value", "environment=pr%6Fd", false, 0, "prod",
	    true),
	QUERY_OK("upper-case escape", "environment=pr%6fd%2D1", false, 0,
	    "prod-1", true),
	QUERY_OK("percent-decoded key", "%73ystemVersion=4", true, 4, "default",
	    false),
	QUERY_OK("percent-decoded digits", "systemVersion=%31%30", true, 10,
	    "default", false),
	QUERY_OK("64-character environment", "environment="
	    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._",
	    false, 0,
	    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._",
	    true),
	/*
	 * "systemVersion%00x" decodes to a key that is not systemVersion: an
	 * unknown parameter, to be ignored.
	 */
	QUERY_OK("key with an escaped NUL is unknown", "systemVersion%00x=7",
	    false, 0, "default", false),
	QUERY_OK("key with an escaped NUL is unknown (environment)",
	    "environment%00=prod", false, 0, "default", false),

	QUERY_BAD("systemVersion twice", "systemVersion=1&systemVersion=1",
	    "systemVersion"),
	QUERY_BAD("systemVersion twice, apart",
	    "systemVersion=1&environment=prod&systemVersion=2", "systemVersion"),
	QUERY_BAD("environment twice", "environment=a&environment=a",
	    "environment"),
	QUERY_BAD("systemVersion=0", "systemVersion=0", "systemVersion"),
	QUERY_BAD("systemVersion=-1", "systemVersion=-1", "systemVersion"),
	QUERY_BAD("systemVersion=abc", "systemVersion=abc", "systemVersion"),
	QUERY_BAD("systemVersion=1.5", "systemVersion=1.5", "systemVersion"),
	QUERY_BAD("systemVersion=1e1", "systemVersion=1e1", "systemVersion"),
	QUERY_BAD("systemVersion=0x1", "systemVersion=0x1", "systemVersion"),
	QUERY_BAD("systemVersion=01", "systemVersion=01", "systemVersion"),
	QUERY_BAD("systemVersion=+1 (a space)", "systemVersion=+1", "systemVersion"),
	QUERY_BAD("systemVersion=%2B1", "systemVersion=%2B1", "systemVersion"),
	QUERY_BAD("systemVersion=%201", "systemVersion=%201", "systemVersion"),
	QUERY_BAD("systemVersion empty", "systemVersion=", "systemVersion"),
	QUERY_BAD("systemVersion without '='", "systemVersion", "systemVersion"),
	QUERY_BAD("systemVersion=9007199254740992",
	    "systemVersion=9007199254740992", "systemVersion"),
	QUERY_BAD("systemVersion=18446744073709551616",
	    "systemVersion=18446744073709551616", "systemVersion"),
	QUERY_BAD("systemVersion with an escaped NUL", "systemVersion=1%00",
	    "systemVersion"),
	QUERY_BAD("environment empty", "environment=", "environment"),
	QUERY_BAD("environment without '='", "environment", "environment"),
	QUERY_BAD("environment with a space", "environment=a+b", "environment"),
	QUERY_BAD("environment with an escaped space", "environment=a%20b",
	    "environment"),
	QUERY_BAD("environment with a slash", "environment=a%2Fb", "environment"),
	QUERY_BAD("environment U+00E9", "environment=%C3%A9", "environment"),
	QUERY_BAD("environment with an escaped NUL", "environment=prod%00",
	    "environment"),
	QUERY_BAD("65-character environment", "environment="
	    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-",
	    "environment"),
	QUERY_BAD("bad escape %zz", "environment=%zz", "environment"),
	QUERY_BAD("short escape %4", "environment=pr%4", "environment"),
	QUERY_BAD("lone %", "environment=prod%", "environment"),
	QUERY_BAD("bad escape in systemVersion", "systemVersion=%3", "systemVersion"),
	QUERY_BAD("error after a good parameter",
	    "environment=prod&systemVersion=x", "systemVersion"),
	QUERY_BAD("limit=0", "limit=0", "limit"),
	QUERY_BAD("limit=501", "limit=501", "limit"),
	QUERY_BAD("before=0", "before=0", "before"),
	QUERY_BAD("at=nope", "at=nope", "at"),
	QUERY_BAD("from=1.5", "from=1.5", "from"),
	QUERY_BAD("to=-1", "to=-1", "to"),
	QUERY_BAD("eventId empty", "eventId=", "eventId"),
	QUERY_BAD("eventId without '='", "eventId", "eventId"),
	QUERY_BAD("eventId with an escaped tab", "eventId=a%09b", "eventId"),
	QUERY_BAD("eventId with an escaped NUL", "eventId=a%00", "eventId"),
	QUERY_BAD("eventId not UTF-8", "eventId=%C3%28", "eventId"),
	QUERY_BAD("eventId with a bad escape", "eventId=%G0", "eventId"),
	QUERY_BAD("eventId twice", "eventId=a&eventId=a", "eventId"),
	QUERY_BAD("sequence=-1", "sequence=-1", "sequence"),
	QUERY_BAD("sequence=9007199254740992", "sequence=9007199254740992",
	    "sequence"),
	QUERY_BAD("sequence=01", "sequence=01", "sequence"),
	QUERY_BAD("sequence=1.0", "sequence=1.0", "sequence"),
	QUERY_BAD("sequence empty", "sequence=", "sequence"),
	QUERY_BAD("sequence twice", "sequence=1&sequence=2", "sequence"),
	QUERY_BAD("deployedAt=nope", "deployedAt=nope", "deployedAt"),
	QUERY_BAD("deployedAt on February 30",
	    "deployedAt=2026-02-30T00:00:00Z", "deployedAt"),
	QUERY_BAD("deployedAt with a space for its '+' offset",
	    "deployedAt=2026-12-06T11:15:03+01:00", "deployedAt"),
	QUERY_BAD("deployedAt before 1970", "deployedAt=1969-12-31T23:59:59Z",
	    "deployedAt"),
	QUERY_BAD("deployedAt twice", "deployedAt=2026-12-06T10:15:03Z&"
	    "deployedAt=2026-12-06T10:15:03Z", "deployedAt"),
	QUERY_BAD("fromEnvironment empty", "fromEnvironment=",
	    "fromEnvironment"),
	QUERY_BAD("fromEnvironment with a space", "fromEnvironment=a%20b",
	    "fromEnvironment"),
	QUERY_BAD("fromEnvironment twice",
	    "fromEnvironment=a&toEnvironment=b&fromEnvironment=a",
	    "fromEnvironment"),
	QUERY_BAD("toEnvironment without '='", "toEnvironment", "toEnvironment"),
	QUERY_BAD("toEnvironment U+00E9", "toEnvironment=%C3%A9",
	    "toEnvironment"),
	QUERY_BAD("65-character toEnvironment", "toEnvironment="
	    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-",
	    "toEnvironment"),

	/* a parameter the route does not read is ignored, whatever it holds */
	ROUTE_OK("limit=0 where limit is not read", "limit=0&environment=prod",
	    P(ENVIRONMENT), false, 0, "prod", true),
	ROUTE_OK("at=nope where at is not read", "at=nope", P(ENVIRONMENT),
	    false, 0, "default", false),
	ROUTE_OK("a bad escape where the parameter is not read",
	    "environment=%zz&systemVersion=3", P(SYSTEM_VERSION), true, 3,
	    "default", false),
	ROUTE_OK("systemVersion twice where it is not read",
	    "systemVersion=0&systemVersion=x", P(ENVIRONMENT), false, 0,
	    "default", false),
	ROUTE_OK("nothing read", "systemVersion=0&environment=a b&limit=abc",
	    0, false, 0, "default", false),
	ROUTE_OK("fromEnvironment and toEnvironment where they are not read",
	    "fromEnvironment=a%20b&toEnvironment=&environment=prod",
	    P(ENVIRONMENT), false, 0, "prod", true),
	ROUTE_BAD("limit=0 where limit is read", "limit=0", P(LIMIT) |
	    P(ENVIRONMENT), "limit"),
	ROUTE_BAD("environment still checked", "limit=0&environment=a%20b",
	    P(ENVIRONMENT), "environment"),
};

static void
test_query_table(void)
{
	for (size_t i = 0; i < sizeof(query_cases) / sizeof(query_cases[0]); i++) {
		const struct query_case *c = &query_cases[i];
		struct query q;
		struct invalid invalid;
		bool ok;

		query_init(&q);
		invalid_reset(&invalid);
		ok = query_parse(c->query, c->accepted, &q, &invalid);
		if (c->ok) {
			if (!CHECK(ok, "query '%s' (%s): refused: %s", c->label,
			    c->query, invalid.detail))
				continue;
			CHECK(query_given(&q, QUERY_SYSTEM_VERSION) == c->has_system_version &&
			    (!c->has_system_version ||
			    q.system_version == c->system_version),
			    "query '%s' (%s): systemVersion %s %llu, expected "
			    "%s %llu", c->label, c->query,
			    query_given(&q, QUERY_SYSTEM_VERSION) ? "given" : "absent",
			    (unsigned long long)q.system_version,
			    c->has_system_version ? "given" : "absent",
			    (unsigned long long)c->system_version);
			CHECK(memchr(q.environment, '\0',
			    sizeof(q.environment)) != NULL &&
			    strcmp(q.environment, c->environment) == 0 &&
			    query_given(&q, QUERY_ENVIRONMENT) == c->has_environment,
			    "query '%s' (%s): environment '%.64s' (%s), expected "
			    "'%s' (%s)", c->label, c->query, q.environment,
			    query_given(&q, QUERY_ENVIRONMENT) ? "given" : "absent",
			    c->environment, c->has_environment ? "given" :
			    "absent");
		} else {
			if (!CHECK(!ok, "query '%s' (%s): accepted", c->label,
			    c->query))
				continue;
			CHECK(invalid.kind == PROBLEM_INVALID_PARAMETER &&
			    invalid.name != NULL &&
			    strcmp(invalid.name, c->parameter) == 0 &&
			    invalid.detail[0] != '\0',
			    "query '%s' (%s): got kind %d name %s detail '%s', "
			    "expected an invalid parameter %s", c->label,
			    c->query, (int)invalid.kind,
			    invalid.name != NULL ? invalid.name : "NULL",
			    invalid.detail, c->parameter);
		}
	}
}

/* True when query, read with every parameter, is refused naming parameter. */
static bool
refused_as(const char *query, const char *parameter)
{
	struct query q;
	struct invalid invalid;

	query_init(&q);
	invalid_reset(&invalid);
	return !query_parse(query, ALL, &q, &invalid) &&
	    invalid.kind == PROBLEM_INVALID_PARAMETER && invalid.name != NULL &&
	    strcmp(invalid.name, parameter) == 0;
}

/* Values longer than a parameter may be are refused, not truncated. */
static void
test_query_long_values(void)
{
	char query[2048];
	struct query q;
	struct invalid invalid;
	size_t n;

	/* an environment value of 300 bytes */
	n = (size_t)snprintf(query, sizeof(query), "environment=");
	memset(query + n, 'a', 300);
	query[n + 300] = '\0';
	CHECK(refused_as(query, "environment"), "a 300-byte environment");

	/* decoded values of 256 and 257 bytes: at and past the value buffer */
	for (size_t len = 256; len <= 257; len++) {
		n = (size_t)snprintf(query, sizeof(query), "environment=");
		memset(query + n, 'b', len);
		query[n + len] = '\0';
		CHECK(refused_as(query, "environment"),
		    "an environment of %zu bytes", len);
		n = (size_t)snprintf(query, sizeof(query), "systemVersion=");
		for (size_t k = 0; k < len / 3; k++)
			n += (size_t)snprintf(query + n, sizeof(query) - n, "%%31");
		memset(query + n, '1', len - len / 3);
		query[n + len - len / 3] = '\0';
		CHECK(refused_as(query, "systemVersion"),
		    "a systemVersion of %zu escaped and plain digits", len);
	}

	/* a systemVersion of 1000 digits */
	n = (size_t)snprintf(query, sizeof(query), "systemVersion=");
	memset(query + n, '1', 1000);
	query[n + 1000] = '\0';
	CHECK(refused_as(query, "systemVersion"), "a 1000-digit systemVersion");

	/* a long value of an unknown parameter is ignored */
	n = (size_t)snprintf(query, sizeof(query), "comment=");
	memset(query + n, 'c', 1500);
	n += 1500;
	snprintf(query + n, sizeof(query) - n, "&systemVersion=9");
	query_init(&q);
	invalid_reset(&invalid);
	CHECK(query_parse(query, ALL, &q, &invalid) &&
	    query_given(&q, QUERY_SYSTEM_VERSION) && q.system_version == 9,
	    "a 1500-byte unknown parameter: %s", invalid.detail);

	/* and a long unknown key too */
	memset(query, 'k', 100);
	snprintf(query + 100, sizeof(query) - 100, "=1&environment=e");
	query_init(&q);
	invalid_reset(&invalid);
	CHECK(query_parse(query, ALL, &q, &invalid) &&
	    query_given(&q, QUERY_ENVIRONMENT) && strcmp(q.environment, "e") == 0,
	    "a 100-byte unknown key: %s", invalid.detail);
}

/*
 * The key of a report (DELETE /services/{name}): each parameter decoded
 * and validated as a deploy body's member, present only when given.
 */
static void
test_query_report_key(void)
{
	static const struct {
		const char	*label;
		const char	*query;
		const char	*event_id;	/* NULL: absent */
		bool		 has_sequence;
		uint64_t	 sequence;
		bool		 has_deployed_at;
		uint64_t	 deployed_at_ms;
	} cases[] = {
		{ "none", "environment=prod", NULL, false, 0, false, 0 },
		{ "all three", "eventId=evt%2F1+x&sequence=17&deployedAt="
		    "2026-12-06T10%3A15%3A03.042Z", "evt/1 x", true, 17, true,
		    UINT64_C(1796552103042) },
		{ "sequence 0", "sequence=0", NULL, true, 0, false, 0 },
		{ "sequence 2^53 - 1", "sequence=9007199254740991", NULL, true,
		    UINT64_C(9007199254740991), false, 0 },
		{ "an offset, its '+' escaped",
		    "deployedAt=2026-12-06T11:15:03%2B01:00", NULL, false, 0,
		    true, UINT64_C(1796552103000) },
		{ "UTF-8 and punctuation in eventId",
		    "eventId=%C3%A9v%C3%A9nement%20%2317%3F%25", "\xc3\xa9v\xc3\xa9"
		    "nement #17?%", false, 0, false, 0 },
	};
	char query[512];
	size_t n;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct query q;
		struct report_key key;
		struct invalid invalid;
		const char *want = cases[i].event_id;

		query_init(&q);
		invalid_reset(&invalid);
		if (!CHECK(query_parse(cases[i].query, ALL, &q, &invalid),
		    "query '%s': refused: %s", cases[i].label, invalid.detail))
			continue;
		memset(&key, 0xA5, sizeof(key));
		query_report_key(&q, &key);
		CHECK(key.has_event_id == (want != NULL) && (want == NULL ||
		    (key.event_id_len == strlen(want) &&
		    strcmp(key.event_id, want) == 0)), "query '%s': eventId",
		    cases[i].label);
		CHECK(key.has_sequence == cases[i].has_sequence &&
		    (!key.has_sequence || key.sequence == cases[i].sequence),
		    "query '%s': sequence %llu", cases[i].label,
		    (unsigned long long)key.sequence);
		CHECK(key.has_deployed_at == cases[i].has_deployed_at &&
		    (!key.has_deployed_at ||
		    key.deployed_at_ms == cases[i].deployed_at_ms),
		    "query '%s': deployedAt %llu", cases[i].label,
		    (unsigned long long)key.deployed_at_ms);
	}

	/* an eventId of 128 bytes, and of 129 */
	n = (size_t)snprintf(query, sizeof(query), "eventId=");
	memset(query + n, 'e', 128);
	query[n + 128] = '\0';
	CHECK(!refused_as(query, "eventId"), "an eventId of 128 bytes");
	query[n + 128] = 'e';
	query[n + 129] = '\0';
	CHECK(refused_as(query, "eventId"), "an eventId of 129 bytes");
}

/*
 * A service name in a path: percent-decoded exactly once ('+' is
 * itself), then checked as a deploy body's name.
 */
static void
test_query_take_path(void)
{
	static const struct {
		const char	*label;
		const char	*segment;
		const char	*name;		/* NULL: refused */
	} cases[] = {
		{ "plain", "svc", "svc" },
		{ "an escaped space", "Service%20A", "Service A" },
		{ "'+' is a plus", "a+b", "a+b" },
		{ "'/' and UTF-8", "team%2Fapi%20%C3%A9", "team/api \xc3\xa9" },
		{ "lower-case escapes", "team%2fapi%20%c3%a9", "team/api \xc3\xa9" },
		{ "'%', '?' and '#'", "100%25%3F%23", "100%?#" },
		{ "dot segments are names", "%2E%2E", ".." },
		{ "a dot segment inside", "a%2F..%2Fb", "a/../b" },
		{ "decoded once", "a%252Fb", "a%2Fb" },
		{ "raw UTF-8", "caf\xc3\xa9", "caf\xc3\xa9" },
		{ "an escaped quote and backslash", "%22%5C", "\"\\" },
		{ "empty", "", NULL },
		{ "bad escape", "a%zz", NULL },
		{ "short escape", "a%2", NULL },
		{ "lone '%'", "a%", NULL },
		{ "escaped NUL", "a%00b", NULL },
		{ "escaped newline", "a%0A", NULL },
		{ "escaped DEL", "%7F", NULL },
		{ "a lone continuation byte", "%80", NULL },
		{ "a cut sequence", "caf%C3", NULL },
		{ "overlong '/'", "%C0%AF", NULL },
		{ "a surrogate", "%ED%A0%80", NULL },
		{ "raw invalid UTF-8", "a\xff", NULL },
	};
	char segment[1024];
	struct query q;
	struct invalid invalid;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *want = cases[i].name;
		bool ok;

		query_init(&q);
		invalid_reset(&invalid);
		ok = query_take_path(&q, QUERY_NAME, cases[i].segment,
		    strlen(cases[i].segment), &invalid);
		if (want != NULL)
			CHECK(ok && query_given(&q, QUERY_NAME) &&
			    strcmp(q.name, want) == 0, "segment '%s': %s",
			    cases[i].label, ok ? q.name : invalid.detail);
		else
			CHECK(!ok && invalid.kind == PROBLEM_INVALID_PARAMETER &&
			    invalid.name != NULL &&
			    strcmp(invalid.name, "name") == 0 &&
			    strstr(invalid.detail, "name") != NULL,
			    "segment '%s': %s", cases[i].label,
			    ok ? "accepted" : invalid.detail);
	}

	/* 256 bytes once decoded, from 768 escaped: a name; 257: none */
	for (size_t len = 256; len <= 257; len++) {
		for (size_t k = 0; k < len; k++)
			memcpy(segment + 3 * k, "%41", 3);
		query_init(&q);
		invalid_reset(&invalid);
		CHECK(query_take_path(&q, QUERY_NAME, segment, 3 * len,
		    &invalid) == (len == 256) && (len == 256 ||
		    strcmp(invalid.name, "name") == 0), "a name of %zu escaped "
		    "bytes: %s", len, invalid.detail);
	}
}

/* A site in a path (DELETE /cluster/sites/{site}): HOST:PORT, decoded once. */
static void
test_query_site(void)
{
	static const struct {
		const char	*segment;
		const char	*host;		/* NULL: refused */
		unsigned	 port;
	} cases[] = {
		{ "10.0.0.3:7000", "10.0.0.3", 7000 },
		{ "db-3.example.org%3A7000", "db-3.example.org", 7000 },
		{ "10.0.0.3", NULL, 0 },
		{ "10.0.0.3:70000", NULL, 0 },
		{ "%00:1", NULL, 0 },
		{ "", NULL, 0 },
	};
	struct query q;
	struct invalid invalid;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		bool ok;

		query_init(&q);
		invalid_reset(&invalid);
		ok = query_take_path(&q, QUERY_SITE, cases[i].segment,
		    strlen(cases[i].segment), &invalid);
		if (cases[i].host != NULL)
			CHECK(ok && strcmp(q.site.host, cases[i].host) == 0 &&
			    q.site.port == cases[i].port, "site '%s': %s",
			    cases[i].segment, ok ? q.site.host : invalid.detail);
		else
			CHECK(!ok && invalid.kind == PROBLEM_INVALID_PARAMETER &&
			    strcmp(invalid.name, "site") == 0, "site '%s': %s",
			    cases[i].segment, ok ? "accepted" : invalid.detail);
	}
}

/*
 * The parameters of /diff: each end's environment and version, each
 * given or not, apart from environment.
 */
static void
test_query_diff_ends(void)
{
	static const struct {
		const char	*query;
		const char	*from_environment;	/* NULL: not given */
		const char	*to_environment;
		uint64_t	 from, to;		/* 0: not given */
		const char	*environment;
	} cases[] = {
		{ "fromEnvironment=staging&toEnvironment=prod", "staging",
		    "prod", 0, 0, "default" },
		{ "toEnvironment=prod&from=3&fromEnvironment=staging&to=5",
		    "staging", "prod", 3, 5, "default" },
		{ "environment=prod&fromEnvironment=staging", "staging", NULL,
		    0, 0, "prod" },
		{ "to=2&toEnvironment=default", NULL, "default", 0, 2,
		    "default" },
		{ "environment=e&from=1&to=9", NULL, NULL, 1, 9, "e" },
		{ "", NULL, NULL, 0, 0, "default" },
	};
	const unsigned diff = P(FROM) | P(TO) | P(ENVIRONMENT) |
	    P(FROM_ENVIRONMENT) | P(TO_ENVIRONMENT);

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *from_environment = cases[i].from_environment;
		const char *to_environment = cases[i].to_environment;
		struct invalid invalid;
		struct query q;

		query_init(&q);
		invalid_reset(&invalid);
		if (!CHECK(query_parse(cases[i].query, diff, &q, &invalid),
		    "'%s': refused: %s", cases[i].query, invalid.detail))
			continue;
		CHECK(query_given(&q, QUERY_FROM_ENVIRONMENT) ==
		    (from_environment != NULL) && (from_environment == NULL ||
		    strcmp(q.from_environment, from_environment) == 0) &&
		    query_given(&q, QUERY_TO_ENVIRONMENT) ==
		    (to_environment != NULL) && (to_environment == NULL ||
		    strcmp(q.to_environment, to_environment) == 0),
		    "'%s': fromEnvironment '%.64s', toEnvironment '%.64s'",
		    cases[i].query, q.from_environment, q.to_environment);
		CHECK(query_given(&q, QUERY_FROM) == (cases[i].from != 0) &&
		    (cases[i].from == 0 || q.from == cases[i].from) &&
		    query_given(&q, QUERY_TO) == (cases[i].to != 0) &&
		    (cases[i].to == 0 || q.to == cases[i].to) &&
		    strcmp(q.environment, cases[i].environment) == 0,
		    "'%s': from %llu, to %llu, environment '%.64s'",
		    cases[i].query, (unsigned long long)q.from,
		    (unsigned long long)q.to, q.environment);
	}
}

static const CU_TestInfo query_tests[] = {
	{ "query_parse table", test_query_table },
	{ "query_parse long values", test_query_long_values },
	{ "query_report_key", test_query_report_key },
	{ "query_take_path", test_query_take_path },
	{ "a site in a path", test_query_site },
	{ "query_parse the ends of a diff", test_query_diff_ends },
	CU_TEST_INFO_NULL,
};

int
add_query_suite(void)
{
	return add_suite_with_tests("query", NULL, NULL, query_tests);
}
