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

struct query_field;

/*
 * A parameter's validator: reads exactly len bytes of value and stores
 * the result at out; a detail names the parameter, followed by where
 * ("" for the query string).
 */
typedef bool take_fn(const struct query_field *field, const char *where,
    const char *value, size_t len, void *out, struct invalid *invalid);

/* A parameter a route may declare: its name, validator and field. */
struct query_field {
	const char	*name;
	take_fn		*take;
	size_t		 offset;	/* of its value in struct query */
	uint64_t	 max;		/* of a decimal integer, from 1 */
};

/* Takes a decimal integer from 1 to the field's max. */
static bool
take_decimal(const struct query_field *field, const char *where,
    const char *value, size_t len, void *out, struct invalid *invalid)
{
	if (parse_decimal(value, len, 1, field->max, out))
		return true;
	invalid_set(invalid, PROBLEM_INVALID_PARAMETER, field->name,
	    "%s%s must be a decimal integer from 1 to %llu", field->name,
	    where, (unsigned long long)field->max);
	return false;
}

/* Takes an RFC 3339 instant, into milliseconds since the epoch. */
static bool
take_instant(const struct query_field *field, const char *where,
    const char *value, size_t len, void *out, struct invalid *invalid)
{
	if (parse_instant(value, len, out))
		return true;
	invalid_set(invalid, PROBLEM_INVALID_PARAMETER, field->name,
	    "%s%s must be an RFC 3339 date and time, such as "
	    "2026-11-22T10:15:03Z, from 1970 to 9999", field->name, where);
	return false;
}

/* Takes an environment name, NUL-terminated into out. */
static bool
take_environment(const struct query_field *field, const char *where,
    const char *value, size_t len, void *out, struct invalid *invalid)
{
	const char *why = check_environment(value, len);

	if (why != NULL) {
		invalid_set(invalid, PROBLEM_INVALID_PARAMETER, field->name,
		    "%s%s %s", field->name, where, why);
		return false;
	}
	memcpy(out, value, len);
	((char *)out)[len] = '\0';
	return true;
}

/* Every parameter, in the order of enum query_param. */
static const struct query_field query_fields[QUERY_PARAM_COUNT] = {
	[QUERY_SYSTEM_VERSION] = { "systemVersion", take_decimal,
	    offsetof(struct query, system_version), SYSTEM_VERSION_MAX },
	[QUERY_ENVIRONMENT] = { "environment", take_environment,
	    offsetof(struct query, environment), 0 },
	[QUERY_LIMIT] = { "limit", take_decimal, offsetof(struct query, limit),
	    HISTORY_PAGE_MAX },
	[QUERY_BEFORE] = { "before", take_decimal,
	    offsetof(struct query, before), SYSTEM_VERSION_MAX },
	[QUERY_AT] = { "at", take_instant, offsetof(struct query, at_ms), 0 },
	[QUERY_FROM] = { "from", take_decimal, offsetof(struct query, from),
	    SYSTEM_VERSION_MAX },
	[QUERY_TO] = { "to", take_decimal, offsetof(struct query, to),
	    SYSTEM_VERSION_MAX },
	[QUERY_FROM_ENVIRONMENT] = { "fromEnvironment", take_environment,
	    offsetof(struct query, from_environment), 0 },
	[QUERY_TO_ENVIRONMENT] = { "toEnvironment", take_environment,
	    offsetof(struct query, to_environment), 0 },
};

const char *
query_param_name(enum query_param param)
{
	return query_fields[param].name;
}

/* Finds the parameter called name (len bytes); false for an unknown name. */
static bool
query_param_find(const char *name, size_t len, enum query_param *param)
{
	for (size_t i = 0; i < QUERY_PARAM_COUNT; i++)
		if (strlen(query_fields[i].name) == len &&
		    memcmp(query_fields[i].name, name, len) == 0) {
			*param = (enum query_param)i;
			return true;
		}
	return false;
}

void
query_init(struct query *q)
{
	memset(q, 0, sizeof(*q));
	memcpy(q->environment, DEFAULT_ENVIRONMENT, sizeof(DEFAULT_ENVIRONMENT));
	q->limit = HISTORY_PAGE_DEFAULT;
}

bool
query_take(struct query *q, enum query_param param, const char *where,
    const char *value, size_t len, struct invalid *invalid)
{
	const struct query_field *field = &query_fields[param];

	if (!field->take(field, where != NULL ? where : "", value,
	    len, (char *)q + field->offset, invalid))
		return false;
	q->given |= QUERY_PARAM(param);
	return true;
}

bool
query_parse(const char *query, unsigned accepted, struct query *q,
    struct invalid *invalid)
{
	const char *p = query;

	while (*p != '\0') {
		const char *end = strchr(p, '&');
		const char *eq;
		size_t pair_len = end != NULL ? (size_t)(end - p) : strlen(p);
		char key[32], value[QUERY_VALUE_MAX + 1];
		long key_len, value_len;
		enum query_param param;

		eq = memchr(p, '=', pair_len);
		key_len = form_decode(p, eq != NULL ? (size_t)(eq - p) : pair_len,
		    key, sizeof(key));
		/* a parameter the route does not read is ignored, whatever it holds */
		if (key_len >= 0 && query_param_find(key, (size_t)key_len,
		    &param) && (accepted & QUERY_PARAM(param))) {
			if (query_given(q, param)) {
				invalid_set(invalid, PROBLEM_INVALID_PARAMETER,
				    query_param_name(param),
				    "%s is given more than once",
				    query_param_name(param));
				return false;
			}
			value_len = eq == NULL ? 0 : form_decode(eq + 1,
			    pair_len - (size_t)(eq + 1 - p), value,
			    sizeof(value));
			if (value_len < 0) {
				invalid_set(invalid, PROBLEM_INVALID_PARAMETER,
				    query_param_name(param), value_len == -1 ?
				    "%s has a malformed percent-escape" :
				    "%s is too long", query_param_name(param));
				return false;
			}
			if (eq == NULL)
				value[0] = '\0';
			if (!query_take(q, param, NULL, value, (size_t)value_len,
			    invalid))
				return false;
		}
		if (end == NULL)
			break;
		p = end + 1;
	}
	return true;
}
