/*
 * Logging to standard error, one line per event, with time, level and pid:
 * as text, or as one JSON object a line. A line about a request carries
 * the request id nginx gave it.
 */
#ifndef RELEASEMGR_LOG_H
#define RELEASEMGR_LOG_H

#include <stddef.h>
#include <stdint.h>

#include "status.h"

/*
 * The longest line, its newline included. Under PIPE_BUF (4096), so that
 * a line written to a pipe arrives whole whoever else writes to it; a
 * longer message is cut (in JSON at a character, the line still valid).
 */
#define LOG_LINE_MAX	2048

enum log_format {
	LOG_FORMAT_TEXT,	/* 2026-11-22T10:15:03.042Z info [pid] message */
	LOG_FORMAT_JSON		/* {"time","level","pid","message", fields...} */
};

enum log_level {
	LOG_LEVEL_INFO,		/* "info" */
	LOG_LEVEL_WARN,		/* "warning" */
	LOG_LEVEL_ERROR		/* "error" */
};

/*
 * A member that a JSON line has beside its message: a text, or an
 * integer. Its key is none of time, level, pid, message and request_id.
 */
struct log_field {
	const char	*key;
	const char	*text;		/* NULL: the value is number */
	uint64_t	 number;
};

#define LOG_FIELD_TEXT(key, text)	{ (key), (text), 0 }
#define LOG_FIELD_UINT(key, number)	{ (key), NULL, (number) }

/*
 * Sets the format of the lines written from now on, by this process and
 * those it forks; text until then. Called at start, before any thread.
 */
void	log_set_format(enum log_format format);

/*
 * Makes id the request id of the lines this thread writes from now on,
 * when it is one that nginx makes (validate.h: request_id_valid());
 * anything else, NULL included, leaves them with none. The edge sets it
 * when a request arrives and clears it once the request is answered.
 */
void	log_set_request_id(const char *id);

/*
 * Writes one line at level: the message, formatted like printf, and the
 * thread's request id when it has one (text: " request_id=ID" after the
 * message; JSON: a member). A JSON line also has a member for each of
 * the count fields, when it fits whole; a text line has the message
 * alone, which should say what they say.
 */
void	log_fields(enum log_level level, const struct log_field *fields,
	    size_t count, const char *fmt, ...)
	    __attribute__((format(printf, 4, 5)));

/* A line with no fields, at each level. */
void	log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void	log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void	log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
