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

/* The checks shared by names, metadata and event ids: bounded, UTF-8, no controls. */
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
check_event_id(const char *s, size_t len)
{
	if (len == 0)
		return "is empty";
	return check_text(s, len, EVENT_ID_MAX, "is longer than 128 bytes");
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

size_t
format_uint(uint64_t v, char out[UINT_DIGITS_MAX])
{
	char reversed[UINT_DIGITS_MAX];
	size_t n = 0;

	do {
		reversed[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	for (size_t i = 0; i < n; i++)
		out[i] = reversed[n - 1 - i];
	return n;
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

/* True when an optional metadata text is absent or acceptable. */
static bool
metadata_valid(const struct metadata_text *m)
{
	return !m->present || (m->len <= METADATA_MAX &&
	    check_metadata(m->text, m->len) == NULL);
}

bool
request_id_valid(const char *s, size_t len)
{
	if (len != REQUEST_ID_LEN)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

bool
deploy_valid(const struct deploy *deploy)
{
	const struct report_key *key = &deploy->key;

	return check_environment(deploy->environment,
	    strlen(deploy->environment)) == NULL &&
	    deploy->name_len <= SERVICE_NAME_MAX &&
	    check_service_name(deploy->name, deploy->name_len) == NULL &&
	    deploy->version <= SERVICE_VERSION_MAX &&
	    (!deploy->removal || deploy->version == 0) &&
	    metadata_valid(&deploy->deployed_by) &&
	    metadata_valid(&deploy->reason) &&
	    metadata_valid(&deploy->release_hash) &&
	    (!key->has_event_id || (key->event_id_len <= EVENT_ID_MAX &&
	    check_event_id(key->event_id, key->event_id_len) == NULL)) &&
	    (!key->has_sequence || key->sequence <= SEQUENCE_MAX) &&
	    (!key->has_deployed_at || key->deployed_at_ms <=
	    (uint64_t)INSTANT_SECONDS_MAX * 1000 + 999);
}
