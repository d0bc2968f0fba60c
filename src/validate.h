/*
 * Validation of everything that arrives from the network: UTF-8, names,
 * integers and query strings. Pure functions with no allocation.
 */
#ifndef RELEASEMGR_VALIDATE_H
#define RELEASEMGR_VALIDATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "problem.h"
#include "model.h"

/*
 * True when s holds exactly len bytes of well-formed UTF-8 (RFC 3629): no
 * overlong forms, no surrogates, nothing above U+10FFFF.
 */
bool	utf8_valid(const char *s, size_t len);

/*
 * The length (1 to 4) of the well-formed UTF-8 sequence that starts s, of
 * at most len bytes, or 0 when none does.
 */
size_t	utf8_sequence_length(const char *s, size_t len);

/*
 * The check_* functions return NULL when the value is acceptable, or a
 * static phrase saying what is wrong with it ("is not valid UTF-8"), to
 * follow the value's name in a problem detail.
 */
const char *check_service_name(const char *s, size_t len);
const char *check_environment(const char *s, size_t len);
const char *check_metadata(const char *s, size_t len);

/*
 * Parses exactly len bytes of plain decimal digits (no sign, no space, no
 * leading zero unless the value is 0) into a value in [min, max].
 * Returns false on anything else, overflow included.
 */
bool	parse_decimal(const char *s, size_t len, uint64_t min, uint64_t max,
	    uint64_t *out);

#define HISTORY_PAGE_DEFAULT	50	/* system versions per page of history */
#define HISTORY_PAGE_MAX	500

/*
 * Parses exactly len bytes of an RFC 3339 date-time (YYYY-MM-DDTHH:MM:SS,
 * an optional fraction, then Z or an offset +HH:MM / -HH:MM; T and Z in
 * either case) into milliseconds since the epoch, the fraction cut to
 * whole milliseconds. Returns false on anything else, on dates that do
 * not exist (February 30), and outside 1970 to 9999 once in UTC.
 */
bool	parse_instant(const char *s, size_t len, uint64_t *ms);

/* The query parameters of the read routes, after validation. */
struct query {
	bool		has_system_version;
	uint64_t	system_version;		/* 1 .. SYSTEM_VERSION_MAX */
	bool		has_environment;
	char		environment[ENVIRONMENT_MAX + 1];	/* "default" unless given */
	bool		has_limit;
	uint64_t	limit;			/* 1 .. HISTORY_PAGE_MAX */
	bool		has_before;
	uint64_t	before;			/* 1 .. SYSTEM_VERSION_MAX */
	bool		has_at;
	uint64_t	at_ms;			/* an instant, ms since the epoch */
	bool		has_from;
	uint64_t	from;			/* 1 .. SYSTEM_VERSION_MAX */
	bool		has_to;
	uint64_t	to;			/* 1 .. SYSTEM_VERSION_MAX */
};

/*
 * Parses a QUERY_STRING (application/x-www-form-urlencoded) into q. Unknown
 * parameters are ignored; a known one given twice, empty, badly escaped or
 * out of range fills invalid and returns false.
 */
bool	query_parse(const char *query, struct query *q, struct invalid *invalid);

#endif
