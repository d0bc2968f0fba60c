/*
 * JSON strings written straight into a buffer: escaping without json-c,
 * for the hot paths that build their output in one buffer of the exact
 * size.
 */
#include <string.h>

#include "json_string.h"

size_t
json_escaped_len(const char *s, size_t len)
{
	size_t n = len;

	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '"' || c == '\\' || c == '\n' || c == '\r' ||
		    c == '\t' || c == '\b' || c == '\f')
			n += 1;
		else if (c < 0x20 || c == 0x7f)
			n += 5;
	}
	return n;
}

char *
json_put_escaped(char *p, const char *s, size_t len)
{
	static const char hex[] = "0123456789abcdef";

	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		const char *short_form = NULL;

		switch (c) {
		case '"': short_form = "\\\""; break;
		case '\\': short_form = "\\\\"; break;
		case '\n': short_form = "\\n"; break;
		case '\r': short_form = "\\r"; break;
		case '\t': short_form = "\\t"; break;
		case '\b': short_form = "\\b"; break;
		case '\f': short_form = "\\f"; break;
		default: break;
		}
		if (short_form != NULL) {
			memcpy(p, short_form, 2);
			p += 2;
		} else if (c < 0x20 || c == 0x7f) {
			memcpy(p, "\\u00", 4);
			p[4] = hex[c >> 4];
			p[5] = hex[c & 0xf];
			p += 6;
		} else
			*p++ = (char)c;
	}
	return p;
}
