/*
 * The query string of the routes and the segment a path holds: the
 * parameters, each with its validator, decoded and checked into a struct
 * query.
 */
#include <stddef.h>
#include <string.h>

#include "query.h"
#include "validate.h"

#define QUERY_VALUE_MAX	(SITE_TEXT_SIZE - 1)	/* bytes of a decoded parameter value */

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
 * Decodes len bytes of a percent-encoded component into out
 * (NUL-terminated, at most cap - 1 bytes); a '+' is a space when
 * plus_is_space (a form's), itself otherwise (a path's). Returns the
 * decoded length, or -1 for a bad escape, -2 when the result would not
 * fit.
 */
static long
percent_decode(const char *s, size_t len, bool plus_is_space, char *out,
    size_t cap)
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
		} else if (c == '+' && plus_is_space)
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
	uint64_t	 min, max;	/* of a decimal integer */
	const char	*(*check)(const char *, size_t);	/* of a text */
};

/* Takes a decimal integer from the field's min to its max. */
static bool
take_decimal(const struct query_field *field, const char *where,
    const char *value, size_t len, void *out, struct invalid *invalid)
{
	if (parse_decimal(value, len, field->min, field->max, out))
		return true;
	invalid_set(invalid, PROBLEM_INVALID_PARAMETER, field->name,
	    "%s%s must be a decimal integer from %llu to %llu", field->name,
	    where, (unsigned long long)field->min,
	    (unsigned long long)field->max);
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

/*
 * Takes a text the field's check accepts, NUL-terminated into out: every
 * check refuses a NUL and a text longer than its field.
 */
static bool
take_text(const struct query_field *field, const char *where,
    const char *value, size_t len, void *out, struct invalid *invalid)
{
	const char *why = field->check(value, len);

	if (why != NULL) {
		invalid_set(invalid, PROBLEM_INVALID_PARAMETER, field->name,
		    "%s%s %s", field->name, where, why);
		return false;
	}
	memcpy(out, value, len);
	((char *)out)[len] = '\0';
	return true;
}

/* Takes a site's HOST:PORT. */
static bool
take_site(const struct query_field *field, const char *where,
    const char *value, size_t len, void *out, struct invalid *invalid)
{
	const char *why = site_parse(value, len, out);

	if (why == NULL)
		return true;
	invalid_set(invalid, PROBLEM_INVALID_PARAMETER, field->name, "%s%s %s",
	    field->name, where, why);
	return false;
}

#define IN_QUERY(m)	offsetof(struct query, m)

/* Every parameter, in the order of enum query_param. */
static const struct query_field query_fields[QUERY_PARAM_COUNT] = {
	[QUERY_SYSTEM_VERSION] = { "systemVersion", take_decimal,
	    IN_QUERY(system_version), 1, SYSTEM_VERSION_MAX, NULL },
	[QUERY_ENVIRONMENT] = { "environment", take_text,
	    IN_QUERY(environment), 0, 0, check_environment },
	[QUERY_LIMIT] = { "limit", take_decimal, IN_QUERY(limit), 1,
	    HISTORY_PAGE_MAX, NULL },
	[QUERY_BEFORE] = { "before", take_decimal, IN_QUERY(before), 1,
	    SYSTEM_VERSION_MAX, NULL },
	[QUERY_AT] = { "at", take_instant, IN_QUERY(at_ms), 0, 0, NULL },
	[QUERY_FROM] = { "from", take_decimal, IN_QUERY(from), 1,
	    SYSTEM_VERSION_MAX, NULL },
	[QUERY_TO] = { "to", take_decimal, IN_QUERY(to), 1,
	    SYSTEM_VERSION_MAX, NULL },
	[QUERY_NAME] = { "name", take_text, IN_QUERY(name), 0, 0,
	    check_service_name },
	[QUERY_EVENT_ID] = { "eventId", take_text, IN_QUERY(event_id), 0, 0,
	    check_event_id },
	[QUERY_SEQUENCE] = { "sequence", take_decimal, IN_QUERY(sequence), 0,
	    SEQUENCE_MAX, NULL },
	[QUERY_DEPLOYED_AT] = { "deployedAt", take_instant,
	    IN_QUERY(deployed_at_ms), 0, 0, NULL },
	[QUERY_FROM_ENVIRONMENT] = { "fromEnvironment", take_text,
	    IN_QUERY(from_environment), 0, 0, check_environment },
	[QUERY_TO_ENVIRONMENT] = { "toEnvironment", take_text,
	    IN_QUERY(to_environment), 0, 0, check_environment },
	[QUERY_SITE] = { "site", take_site, IN_QUERY(site), 0, 0, NULL },
};

_Static_assert(QUERY_VALUE_MAX >= SERVICE_NAME_MAX &&
    QUERY_VALUE_MAX >= EVENT_ID_MAX && QUERY_VALUE_MAX >= ENVIRONMENT_MAX,
    "a text's check refuses it before it is cut");

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

/*
 * Fills invalid with why decoding param failed (percent_decode's code)
 * and returns false.
 */
static bool
decode_failed(enum query_param param, const char *where, long code,
    struct invalid *invalid)
{
	invalid_set(invalid, PROBLEM_INVALID_PARAMETER, query_param_name(param),
	    code == -1 ? "%s%s has a malformed percent-escape" :
	    "%s%s is too long", query_param_name(param), where);
	return false;
}

bool
query_take_path(struct query *q, enum query_param param, const char *value,
    size_t len, struct invalid *invalid)
{
	static const char where[] = " (in the path)";
	char decoded[QUERY_VALUE_MAX + 1];
	long n = percent_decode(value, len, false, decoded, sizeof(decoded));

	if (n < 0)
		return decode_failed(param, where, n, invalid);
	return query_take(q, param, where, decoded, (size_t)n, invalid);
}

void
query_report_key(const struct query *q, struct report_key *key)
{
	memset(key, 0, sizeof(*key));
	key->has_event_id = query_given(q, QUERY_EVENT_ID);
	if (key->has_event_id) {
		key->event_id_len = strlen(q->event_id);
		memcpy(key->event_id, q->event_id, key->event_id_len + 1);
	}
	key->has_sequence = query_given(q, QUERY_SEQUENCE);
	key->sequence = q->sequence;
	key->has_deployed_at = query_given(q, QUERY_DEPLOYED_AT);
	key->deployed_at_ms = q->deployed_at_ms;
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
		key_len = percent_decode(p, eq != NULL ? (size_t)(eq - p) :
		    pair_len, true, key, sizeof(key));
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
			value_len = eq == NULL ? 0 : percent_decode(eq + 1,
			    pair_len - (size_t)(eq + 1 - p), true, value,
			    sizeof(value));
			if (value_len < 0)
				return decode_failed(param, "", value_len,
				    invalid);
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
