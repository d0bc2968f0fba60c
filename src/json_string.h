/*
 * JSON strings written straight into a buffer, with no library and no
 * allocation: the escaping that the renderers (json.c) and the log's JSON
 * lines (log.c) share.
 */
#ifndef RELEASEMGR_JSON_STRING_H
#define RELEASEMGR_JSON_STRING_H

#include <stdbool.h>
#include <stddef.h>

/* Bytes of s (len bytes) once escaped as the inside of a JSON string. */
size_t	json_escaped_len(const char *s, size_t len);

/*
 * Writes s (len bytes) escaped, json_escaped_len(s, len) bytes, at p and
 * returns the end: '"', '\\' and the control characters (DEL too)
 * escaped, every other byte, UTF-8 included, as it is.
 */
char	*json_put_escaped(char *p, const char *s, size_t len);

/*
 * Writes any text s (len bytes) as the inside of a JSON string, into at
 * most cap bytes at p, and returns how many it wrote (no NUL). Escaped as
 * json_put_escaped() does, but each byte that is not part of well-formed
 * UTF-8 becomes \ufffd, so the output is valid JSON whatever s holds (a
 * path, a library's message). Only whole characters are written: when
 * the rest does not fit, it is left out and *cut is set, else cleared.
 */
size_t	json_put_text(char *p, size_t cap, const char *s, size_t len,
	    bool *cut);

#endif
