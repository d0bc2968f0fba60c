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
 * that logic errors are found too.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "json.h"
#include "validate.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Reports a broken promise with the input that broke it, then aborts. */
#define REQUIRE(cond) \
	((cond) ? (void)0 : broken(#cond, __LINE__))

static void
broken(const char *condition, int line)
{
	fprintf(stderr, "fuzz_request.c:%d: broken promise: %s\n", line,
	    condition);
	abort();
}

/* True when name is one of the NULL-terminated names. */
static int
is_one_of(const char *name, const char *const *names)
{
	for (; name != NULL && *names != NULL; names++)
		if (strcmp(name, *names) == 0)
			return 1;
	return 0;
}

/* A failure description as the parsers leave it when they fill nothing. */
static void
invalid_unfilled(struct invalid *invalid)
{
	memset(invalid, 0, sizeof(*invalid));
	invalid->kind = PROBLEM_UNAVAILABLE;	/* no parser reports this one */
	invalid->name = "unfilled";
}

/* Checks that a rejection was described as kind, naming one of names. */
static void
require_described(const struct invalid *invalid, enum problem_kind kind,
    const char *const *names)
{
	REQUIRE(invalid->detail[0] != '\0');
	REQUIRE(memchr(invalid->detail, '\0', sizeof(invalid->detail)) != NULL);
	REQUIRE(invalid->kind == kind);
	REQUIRE(is_one_of(invalid->name, names));
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

/*
 * A body: when accepted, every value is bounded, validated and terminated;
 * when refused, the problem is malformed JSON (naming nothing) or a field
 * (naming a known member), never a shortage of memory, which here would
 * mean that the RFC 8259 scanner let through what json-c then refused.
 */
static void
fuzz_body(const char *body, size_t len)
{
	static const char *const members[] = { "name", "serviceName",
	    "version", "serviceVersionNumber", "environment", "deployedBy",
	    "reason", "releaseHash", NULL };
	struct deploy deploy;
	struct invalid invalid;

	invalid_unfilled(&invalid);
	if (!json_parse_deploy(body, len, &deploy, &invalid)) {
		if (invalid.kind == PROBLEM_INVALID_JSON) {
			REQUIRE(invalid.name == NULL);
			REQUIRE(invalid.detail[0] != '\0');
		} else
			require_described(&invalid, PROBLEM_INVALID_FIELD,
			    members);
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

/*
 * A query string (NUL-terminated, so cut at its first NUL): when accepted,
 * every value is in its range and defaults stand for what was left out;
 * when refused, the problem names a known parameter.
 */
static void
fuzz_query(const char *data, size_t len)
{
	static const char *const parameters[] = { "systemVersion",
	    "environment", "limit", "before", "at", "from", "to", NULL };
	char *query = malloc(len + 1);
	struct query q;
	struct invalid invalid;

	REQUIRE(query != NULL);
	memcpy(query, data, len);
	query[len] = '\0';
	invalid_unfilled(&invalid);
	if (!query_parse(query, &q, &invalid))
		require_described(&invalid, PROBLEM_INVALID_PARAMETER,
		    parameters);
	else {
		REQUIRE(memchr(q.environment, '\0', sizeof(q.environment)));
		REQUIRE(check_environment(q.environment,
		    strlen(q.environment)) == NULL);
		REQUIRE(q.has_environment ||
		    strcmp(q.environment, DEFAULT_ENVIRONMENT) == 0);
		REQUIRE(!q.has_system_version || (q.system_version >= 1 &&
		    q.system_version <= SYSTEM_VERSION_MAX));
		REQUIRE(q.limit >= 1 && q.limit <= HISTORY_PAGE_MAX);
		REQUIRE(q.has_limit || q.limit == HISTORY_PAGE_DEFAULT);
		REQUIRE(!q.has_before || (q.before >= 1 &&
		    q.before <= SYSTEM_VERSION_MAX));
		REQUIRE(!q.has_from || (q.from >= 1 &&
		    q.from <= SYSTEM_VERSION_MAX));
		REQUIRE(!q.has_to || (q.to >= 1 && q.to <= SYSTEM_VERSION_MAX));
	}
	free(query);
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
 * calendar.
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
