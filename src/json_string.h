/*
 * JSON strings written straight into a buffer, with no library and no
 * allocation: the escaping that the renderers (json.c) use.
 */
#ifndef RELEASEMGR_JSON_STRING_H
#define RELEASEMGR_JSON_STRING_H

#include <stddef.h>

/* Bytes of s (len bytes) once escaped as the inside of a JSON string. */
size_t	json_escaped_len(const char *s, size_t len);

/*
 * Writes s (len bytes) escaped, json_escaped_len(s, len) bytes, at p and
 * returns the end: '"', '\\' and the control characters (DEL too)
 * escaped, every other byte, UTF-8 included, as it is.
 */
char	*json_put_escaped(char *p, const char *s, size_t len);

#endif
