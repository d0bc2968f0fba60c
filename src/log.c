/*
 * Logging to standard error. Each line is written with one write(2), so
 * the lines of the pool's processes do not interleave. JSON lines are
 * written without json-c and without allocation (json_string.h), so that
 * a line can say that memory ran out.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "json_string.h"
#include "log.h"
#include "validate.h"

#define TIME_MAX	96	/* room for any struct tm, though 25 bytes are used */
#define HEAD_MAX	(TIME_MAX + 96)	/* a line up to its message */

/* a JSON line's head, its members and its end leave room for a message */
_Static_assert(HEAD_MAX + LOG_LINE_MAX / 2 + 3 < LOG_LINE_MAX - 256,
    "LOG_LINE_MAX leaves no room for a message");

static const char *const level_names[] = {
	[LOG_LEVEL_INFO] = "info",
	[LOG_LEVEL_WARN] = "warning",
	[LOG_LEVEL_ERROR] = "error",
};

static enum log_format log_format = LOG_FORMAT_TEXT;
/* the id of the request this thread answers; "" when none */
static _Thread_local char request_id[REQUEST_ID_LEN + 1];

/*
 * A line being written into buf: at most cap bytes, of which len are
 * used; full once something did not fit whole.
 */
struct out {
	char	*buf;
	size_t	 cap;
	size_t	 len;
	bool	 full;
};

void
log_set_format(enum log_format format)
{
	log_format = format;
}

void
log_set_request_id(const char *id)
{
	size_t len = id != NULL ? strnlen(id, REQUEST_ID_LEN + 1) : 0;

	if (request_id_valid(id, len))
		memcpy(request_id, id, len + 1);
	else
		request_id[0] = '\0';
}

/* Appends the n bytes of s when they fit; otherwise marks out full. */
static void
put_raw(struct out *out, const char *s, size_t n)
{
	if (out->full || n > out->cap - out->len) {
		out->full = true;
		return;
	}
	memcpy(out->buf + out->len, s, n);
	out->len += n;
}

/* Appends as much of the n bytes of s as fits; a cut marks out full. */
static void
put_cut(struct out *out, const char *s, size_t n)
{
	size_t room = out->cap - out->len;

	if (out->full)
		return;
	if (n > room) {
		n = room;
		out->full = true;
	}
	memcpy(out->buf + out->len, s, n);
	out->len += n;
}

/*
 * Appends s as the inside of a JSON string, the whole characters that
 * fit (json_put_text); a cut marks out full.
 */
static void
put_text(struct out *out, const char *s)
{
	bool cut;

	if (out->full)
		return;
	out->len += json_put_text(out->buf + out->len, out->cap - out->len, s,
	    strlen(s), &cut);
	out->full = cut;
}

/*
 * Appends ,"key":"text" (text escaped), or ,"key":number when text is
 * NULL. A member that does not fit whole is left out, out as before.
 */
static void
put_member(struct out *out, const char *key, const char *text,
    uint64_t number)
{
	char digits[UINT_DIGITS_MAX];
	size_t start = out->len;

	put_raw(out, ",\"", 2);
	put_text(out, key);
	if (text != NULL) {
		put_raw(out, "\":\"", 3);
		put_text(out, text);
		put_raw(out, "\"", 1);
	} else {
		put_raw(out, "\":", 2);
		put_raw(out, digits, format_uint(number, digits));
	}
	if (out->full) {
		out->len = start;
		out->full = false;
	}
}

/*
 * Writes {"time":...,"level":...,"pid":...,"message":...} with the request
 * id and the fields as members after the message; the message is cut
 * to leave room for them.
 */
static void
json_line(struct out *out, const char *time, const char *level,
    const char *message, const struct log_field *fields, size_t count)
{
	char head[HEAD_MAX], members[LOG_LINE_MAX / 2];
	struct out tail = { members, sizeof(members), 0, false };
	int n;

	if (request_id[0] != '\0')
		put_member(&tail, "request_id", request_id, 0);
	for (size_t i = 0; i < count; i++)
		put_member(&tail, fields[i].key, fields[i].text,
		    fields[i].number);
	n = snprintf(head, sizeof(head), "{\"time\":\"%s\",\"level\":\"%s\","
	    "\"pid\":%ld,\"message\":\"", time, level, (long)getpid());
	if (n < 0 || (size_t)n >= sizeof(head))
		return;
	put_raw(out, head, (size_t)n);
	/* room after the message: its closing quote, the members, "}\n" */
	out->cap -= 1 + tail.len + 2;
	put_text(out, message);
	out->cap += 1 + tail.len + 2;
	out->full = false;
	put_raw(out, "\"", 1);
	put_raw(out, members, tail.len);
	put_raw(out, "}\n", 2);
}

/*
 * Writes "time level [pid] message request_id=ID", the last part only
 * with a request id; the message is cut to leave room for it.
 */
static void
text_line(struct out *out, const char *time, const char *level,
    const char *message)
{
	static const char id_key[] = " request_id=";
	size_t tail = request_id[0] != '\0' ?
	    sizeof(id_key) - 1 + REQUEST_ID_LEN : 0;
	char head[HEAD_MAX];
	int n;

	n = snprintf(head, sizeof(head), "%s %s [%ld] ", time, level,
	    (long)getpid());
	if (n < 0 || (size_t)n >= sizeof(head))
		return;
	put_raw(out, head, (size_t)n);
	out->cap -= tail + 1;
	put_cut(out, message, strlen(message));
	out->cap += tail + 1;
	out->full = false;
	if (tail > 0) {
		put_raw(out, id_key, sizeof(id_key) - 1);
		put_raw(out, request_id, REQUEST_ID_LEN);
	}
	put_raw(out, "\n", 1);
}

/* Writes now as RFC 3339 UTC with milliseconds: "2026-11-22T10:15:03.042Z". */
static void
format_time(char buf[TIME_MAX])
{
	struct timeval now;
	struct tm tm;

	gettimeofday(&now, NULL);
	gmtime_r(&now.tv_sec, &tm);
	snprintf(buf, TIME_MAX, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
	    tm.tm_min, tm.tm_sec, (long)(now.tv_usec / 1000));
}

/* Formats and writes one line, in the format set, with one write(2). */
static void
log_line(enum log_level level, const struct log_field *fields, size_t count,
    const char *fmt, va_list ap)
{
	char message[LOG_LINE_MAX], line[LOG_LINE_MAX], now[TIME_MAX];
	struct out out = { line, sizeof(line), 0, false };

	if (vsnprintf(message, sizeof(message), fmt, ap) < 0)
		return;
	format_time(now);
	if (log_format == LOG_FORMAT_JSON)
		json_line(&out, now, level_names[level], message, fields,
		    count);
	else
		text_line(&out, now, level_names[level], message);
	if (out.len > 0 && write(STDERR_FILENO, line, out.len) < 0) {
		/* nowhere left to report it */
	}
}

void
log_fields(enum log_level level, const struct log_field *fields,
    size_t count, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_line(level, fields, count, fmt, ap);
	va_end(ap);
}

void
log_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_line(LOG_LEVEL_INFO, NULL, 0, fmt, ap);
	va_end(ap);
}

void
log_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_line(LOG_LEVEL_WARN, NULL, 0, fmt, ap);
	va_end(ap);
}

void
log_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_line(LOG_LEVEL_ERROR, NULL, 0, fmt, ap);
	va_end(ap);
}
