/*
 * Validation of untrusted input. Every function here is pure and bounded:
 * it reads at most the bytes it is given and allocates nothing.
 */
#include <stddef.h>
#include <string.h>

#include "validate.h"

size_t
utf8_sequence_length(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	unsigned char c, lo = 0x80, hi = 0xBF;	/* range of the second byte */
	size_t need;

	if (len == 0)
		return 0;
	c = p[0];
	if (c < 0x80)
		return 1;
	if (c >= 0xC2 && c <= 0xDF)
		need = 1;
	else if (c >= 0xE0 && c <= 0xEF) {
		need = 2;
		if (c == 0xE0)
			lo = 0xA0;	/* overlong */
		else if (c == 0xED)
			hi = 0x9F;	/* UTF-16 surrogates */
	} else if (c >= 0xF0 && c <= 0xF4) {
		need = 3;
		if (c == 0xF0)
			lo = 0x90;	/* overlong */
		else if (c == 0xF4)
			hi = 0x8F;	/* above U+10FFFF */
	} else
		return 0;	/* C0, C1, F5..FF, or a stray continuation byte */
	if (len <= need || p[1] < lo || p[1] > hi)
		return 0;
	for (size_t k = 2; k <= need; k++)
		if ((p[k] & 0xC0) != 0x80)
			return 0;
	return need + 1;
}

bool
utf8_valid(const char *s, size_t len)
{
	size_t i = 0;

	while (i < len) {
		size_t n;

		if ((unsigned char)s[i] < 0x80) {
			i++;	/* ASCII, the most of every text, without a call */
			continue;
		}
		if ((n = utf8_sequence_length(s + i, len - i)) == 0)
			return false;
		i += n;
	}
	return true;
}

/* True when any byte is a C0 control character or DEL. */
static bool
has_control(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c < 0x20 || c == 0x7F)
			return true;
	}
	return false;
}

/* The checks shared by service names and metadata: bounded, UTF-8, no controls. */
static const char *
check_text(const char *s, size_t len, size_t max, const char *too_long)
{
	if (len > max)
		return too_long;
	if (!utf8_valid(s, len))
		return "is not valid UTF-8";
	if (has_control(s, len))
		return "contains a control character";
	return NULL;
}

const char *
check_service_name(const char *s, size_t len)
{
	if (len == 0)
		return "is empty";
	return check_text(s, len, SERVICE_NAME_MAX,
	    "is longer than 256 bytes");
}

const char *
check_metadata(const char *s, size_t len)
{
	return check_text(s, len, METADATA_MAX, "is longer than 256 bytes");
}

const char *
check_environment(const char *s, size_t len)
{
	if (len == 0)
		return "is empty";
	if (len > ENVIRONMENT_MAX)
		return "is longer than 64 characters";
	for (size_t i = 0; i < len; i++) {
		char c = s[i];

		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-'))
			return "may hold only A-Z, a-z, 0-9, '.', '_' and '-'";
	}
	return NULL;
}

bool
parse_decimal(const char *s, size_t len, uint64_t min, uint64_t max,
    uint64_t *out)
{
	uint64_t value = 0;

	if (len == 0 || (len > 1 && s[0] == '0'))
		return false;
	for (size_t i = 0; i < len; i++) {
		unsigned digit;

		if (s[i] < '0' || s[i] > '9')
			return false;
		digit = (unsigned)(s[i] - '0');
		if (value > (UINT64_MAX - digit) / 10)
			return false;
		value = value * 10 + digit;
	}
	if (value < min || value > max)
		return false;
	*out = value;
	return true;
}

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

/* Parses exactly n digits at s into *out. */
static bool
fixed_digits(const char *s, size_t n, unsigned *out)
{
	*out = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		*out = *out * 10 + (unsigned)(s[i] - '0');
	}
	return true;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (valid, year >= 1970). */
static uint64_t
days_since_epoch(unsigned year, unsigned month, unsigned day)
{
	/* shift the year to start in March, so February's day is last */
	unsigned y = month <= 2 ? year - 1 : year;
	unsigned m = month <= 2 ? month + 9 : month - 3;
	uint64_t era_days = (uint64_t)y * 365 + y / 4 - y / 100 + y / 400;

	return era_days + (153 * m + 2) / 5 + day - 1 - 719468;
}

/* 9999-12-31T23:59:59Z: past it, an instant has no four-digit year in UTC. */
#define INSTANT_SECONDS_MAX	INT64_C(253402300799)

/* Days in a month of a year. */
static unsigned
month_days(unsigned year, unsigned month)
{
	static const unsigned days[12] = { 31, 28, 31, 30, 31, 30, 31, 31,
	    30, 31, 30, 31 };
	bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;

	return month == 2 && leap ? 29 : days[month - 1];
}

bool
parse_instant(const char *s, size_t len, uint64_t *ms)
{
	unsigned year, month, day, hour, minute, second, millis = 0;
	unsigned offset_hours = 0, offset_minutes = 0;
	int64_t offset = 0, total;
	size_t i = 19, digits = 0;

	if (len < 20 || !fixed_digits(s, 4, &year) || s[4] != '-' ||
	    !fixed_digits(s + 5, 2, &month) || s[7] != '-' ||
	    !fixed_digits(s + 8, 2, &day) || (s[10] != 'T' && s[10] != 't') ||
	    !fixed_digits(s + 11, 2, &hour) || s[13] != ':' ||
	    !fixed_digits(s + 14, 2, &minute) || s[16] != ':' ||
	    !fixed_digits(s + 17, 2, &second))
		return false;
	if (year < 1970 || month < 1 || month > 12 || day < 1 ||
	    day > month_days(year, month) || hour > 23 || minute > 59 ||
	    second > 60)
		return false;
	if (s[i] == '.') {
		for (i++; i < len && s[i] >= '0' && s[i] <= '9'; i++, digits++)
			if (digits < 3)
				millis = millis * 10 + (unsigned)(s[i] - '0');
		if (digits == 0)
			return false;
		for (; digits < 3; digits++)
			millis *= 10;
	}
	if (i + 1 == len && (s[i] == 'Z' || s[i] == 'z'))
		offset = 0;
	else if (i + 6 == len && (s[i] == '+' || s[i] == '-') &&
	    fixed_digits(s + i + 1, 2, &offset_hours) && s[i + 3] == ':' &&
	    fixed_digits(s + i + 4, 2, &offset_minutes) &&
	    offset_hours <= 23 && offset_minutes <= 59)
		offset = (s[i] == '+' ? 1 : -1) *
		    (int64_t)(offset_hours * 60 + offset_minutes) * 60;
	else
		return false;
	/* a leap second counts as the last second of its minute */
	total = (int64_t)days_since_epoch(year, month, day) * 86400 +
	    hour * 3600 + minute * 60 + (second == 60 ? 59 : second) - offset;
	if (total < 0 || total > INSTANT_SECONDS_MAX)
		return false;
	*ms = (uint64_t)total * 1000 + millis;
	return true;
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
