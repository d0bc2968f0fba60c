/*
 * The query string of the read routes: its parameters, each with its
 * validator, decoded and checked into a struct query.
 */
#include <stddef.h>
#include <string.h>

#include "query.h"
#include "validate.h"

#define QUERY_VALUE_MAX	256	/* bytes of a decoded parameter value */

/* The value of one hexadecimal digit, or -1. */
static int
hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * Decodes len bytes of a form-encoded component into out (NUL-terminated,
 * at most cap - 1 bytes). Returns the decoded length, or -1 for a bad
 * escape, -2 when the result would not fit.
 */
static long
form_decode(const char *s, size_t len, char *out, size_t cap)
{
	size_t n = 0;

	for (size_t i = 0; i < len; i++) {
		char c = s[i];

		if (c == '%') {
			int hi, lo;

			if (len - i < 3 || (hi = hex_value(s[i + 1])) < 0 ||
			    (lo = hex_value(s[i + 2])) < 0)
				return -1;
			c = (char)(hi * 16 + lo);
			i += 2;
		} else if (c == '+')
			c = ' ';
		if (n + 1 >= cap)
			return -2;
		out[n++] = c;
	}
	out[n] = '\0';
	return (long)n;
}

/* Takes a parameter that must be a system version (1 .. SYSTEM_VERSION_MAX). */
static bool
take_version_parameter(const char *name, const char *value, size_t len,
    uint64_t *out, bool *has, struct invalid *invalid)
{
	if (!parse_decimal(value, len, 1, SYSTEM_VERSION_MAX, out)) {
		invalid_set(invalid, PROBLEM_INVALID_PARAMETER, name,
		    "%s must be a decimal integer from 1 to %llu", name,
		    (unsigned long long)SYSTEM_VERSION_MAX);
		return false;
	}
	*has = true;
	return true;
}

static bool
take_at(struct query *q, const char *value, size_t len,
    struct invalid *invalid)
{
	if (!parse_instant(value, len, &q->at_ms)) {
		invalid_set(invalid, PROBLEM_INVALID_PARAMETER, "at",
		    "at must be an RFC 3339 date and time, such as "
		    "2026-11-22T10:15:03Z, from 1970 to 9999");
		return false;
	}
	q->has_at = true;
	return true;
}

static bool
take_from(struct query *q, const char *value, size_t len,
    struct invalid *invalid)
{
	return take_version_parameter("from", value, len, &q->from,
	    &q->has_from, invalid);
}

static bool
take_to(struct query *q, const char *value, size_t len,
    struct invalid *invalid)
{
	return take_version_parameter("to", value, len, &q->to, &q->has_to,
	    invalid);
}

static bool
take_system_version(struct query *q, const char *value, size_t len,
    struct invalid *invalid)
{
	return take_version_parameter("systemVersion", value, len,
	    &q->system_version, &q->has_system_version, invalid);
}

/* Stores a validated environment; false fills invalid. */
static bool
take_environment(struct query *q, const char *value, size_t len,
    struct invalid *invalid)
{
	const char *why = check_environment(value, len);

	if (why != NULL) {
		invalid_set(invalid, PROBLEM_INVALID_PARAMETER, "environment",
		    "environment %s", why);
		return false;
	}
	memcpy(q->environment, value, len);
	q->environment[len] = '\0';
	q->has_environment = true;
	return true;
}

static bool
take_limit(struct query *q, const char *value, size_t len,
    struct invalid *invalid)
{
	if (!parse_decimal(value, len, 1, HISTORY_PAGE_MAX, &q->limit)) {
		invalid_set(invalid, PROBLEM_INVALID_PARAMETER, "limit",
		    "limit must be a decimal integer from 1 to %d",
		    HISTORY_PAGE_MAX);
		return false;
	}
	q->has_limit = true;
	return true;
}

static bool
take_before(struct query *q, const char *value, size_t len,
    struct invalid *invalid)
{
	return take_version_parameter("before", value, len, &q->before,
	    &q->has_before, invalid);
}

/* The parameters the read routes understand, with their validators. */
static const struct query_field {
	const char	*name;
	size_t		 seen_offset;	/* the bool that says it was given */
	bool		(*take)(struct query *, const char *, size_t,
			    struct invalid *);
} query_fields[] = {
	{ "systemVersion", offsetof(struct query, has_system_version),
	    take_system_version },
	{ "environment", offsetof(struct query, has_environment),
	    take_environment },
	{ "limit", offsetof(struct query, has_limit), take_limit },
	{ "before", offsetof(struct query, has_before), take_before },
	{ "at", offsetof(struct query, has_at), take_at },
	{ "from", offsetof(struct query, has_from), take_from },
	{ "to", offsetof(struct query, has_to), take_to },
};

bool
query_parse(const char *query, struct query *q, struct invalid *invalid)
{
	const char *p = query;

	memset(q, 0, sizeof(*q));
	memcpy(q->environment, DEFAULT_ENVIRONMENT, sizeof(DEFAULT_ENVIRONMENT));
	q->limit = HISTORY_PAGE_DEFAULT;

	while (*p != '\0') {
		const char *end = strchr(p, '&');
		const char *eq;
		size_t pair_len = end != NULL ? (size_t)(end - p) : strlen(p);
		char key[32], value[QUERY_VALUE_MAX + 1];
		long key_len, value_len;

		eq = memchr(p, '=', pair_len);
		key_len = form_decode(p, eq != NULL ? (size_t)(eq - p) : pair_len,
		    key, sizeof(key));
		for (size_t f = 0; key_len >= 0 &&
		    f < sizeof(query_fields) / sizeof(query_fields[0]); f++) {
			const struct query_field *field = &query_fields[f];
			bool *seen = (bool *)((char *)q + field->seen_offset);

			if ((size_t)key_len != strlen(field->name) ||
			    memcmp(key, field->name, (size_t)key_len) != 0)
				continue;
			if (*seen) {
				invalid_set(invalid, PROBLEM_INVALID_PARAMETER,
				    field->name, "%s is given more than once",
				    field->name);
				return false;
			}
			value_len = eq == NULL ? 0 : form_decode(eq + 1,
			    pair_len - (size_t)(eq + 1 - p), value, sizeof(value));
			if (value_len < 0) {
				invalid_set(invalid, PROBLEM_INVALID_PARAMETER,
				    field->name, value_len == -1 ?
				    "%s has a malformed percent-escape" :
				    "%s is too long", field->name);
				return false;
			}
			if (eq == NULL)
				value[0] = '\0';
			if (!field->take(q, value, (size_t)value_len, invalid))
				return false;
		}
		if (end == NULL)
			break;
		p = end + 1;
	}
	return true;
}
