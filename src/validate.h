/*
 * Validation of everything that arrives from the network: UTF-8, names,
 * integers and instants; and the writer of the decimal integers that
 * parse_decimal() reads. Pure functions with no allocation.
 */
#ifndef RELEASEMGR_VALIDATE_H
#define RELEASEMGR_VALIDATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

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
const char *check_event_id(const char *s, size_t len);

/*
 * True when every member of deploy is one that a POST /deploy body or a
 * removal may give: what a site of the group checks of a report another
 * site hands it.
 */
bool	deploy_valid(const struct deploy *deploy);

#define REQUEST_ID_LEN	32	/* characters of nginx's $request_id */

/*
 * True when s (len bytes) is a request id as nginx makes it
 * ($request_id: 16 random bytes in hexadecimal): exactly REQUEST_ID_LEN
 * digits 0-9 and a-f.
 */
bool	request_id_valid(const char *s, size_t len);

/*
 * Parses exactly len bytes of plain decimal digits (no sign, no space, no
 * leading zero unless the value is 0) into a value in [min, max].
 * Returns false on anything else, overflow included.
 */
bool	parse_decimal(const char *s, size_t len, uint64_t min, uint64_t max,
	    uint64_t *out);

#define UINT_DIGITS_MAX	20	/* digits of the largest uint64_t */

/*
 * Writes v in plain decimal into out, with no NUL, as parse_decimal()
 * reads it back; returns the number of digits.
 */
size_t	format_uint(uint64_t v, char out[UINT_DIGITS_MAX]);

/*
 * Parses exactly len bytes of an RFC 3339 date-time (YYYY-MM-DDTHH:MM:SS,
 * an optional fraction, then Z or an offset +HH:MM / -HH:MM; T and Z in
 * either case) into milliseconds since the epoch, the fraction cut to
 * whole milliseconds. Returns false on anything else, on dates that do
 * not exist (February 30), and outside 1970 to 9999 once in UTC.
 */
bool	parse_instant(const char *s, size_t len, uint64_t *ms);

#endif
