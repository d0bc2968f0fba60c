/*
 * JSON strings written straight into a buffer: escaping without json-c,
 * for the hot paths that build their output in one buffer of the exact
 * size, and for the log, which writes into a buffer of a fixed size.
 */
#include <string.h>

#include "json_string.h"
#include "validate.h"

/* U+FFFD, the replacement character, for a byte that is not UTF-8. */
#define REPLACEMENT	"\\ufffd"

/* True for a byte written as it is: most of them. */
static bool
plain(unsigned char c)
{
	return c >= 0x20 && c != '"' && c != '\\' && c != 0x7f;
}

/* Bytes of c once escaped: 2 for a short escape, 6 for \u00XX, else 1. */
static size_t
byte_len(unsigned char c)
{
	if (c == '"' || c == '\\' || c == '\n' || c == '\r' || c == '\t' ||
	    c == '\b' || c == '\f')
		return 2;
	return c < 0x20 || c == 0x7f ? 6 : 1;
}

/* Writes c escaped, byte_len(c) bytes, at p; returns the end. */
static char *
put_byte(char *p, unsigned char c)
{
	static const char hex[] = "0123456789abcdef";
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
		return p + 2;
	}
	if (c < 0x20 || c == 0x7f) {
		memcpy(p, "\\u00", 4);
		p[4] = hex[c >> 4];
		p[5] = hex[c & 0xf];
		return p + 6;
	}
	*p = (char)c;
	return p + 1;
}

size_t
json_escaped_len(const char *s, size_t len)
{
	size_t n = len;

	for (size_t i = 0; i < len; i++)
		if (!plain((unsigned char)s[i]))
			n += byte_len((unsigned char)s[i]) - 1;
	return n;
}

char *
json_put_escaped(char *p, const char *s, size_t len)
{
	size_t i = 0;

	/* the plain bytes a run at a time, then the one that ends it */
	while (i < len) {
		size_t run = i;

		while (run < len && plain((unsigned char)s[run]))
			run++;
		memcpy(p, s + i, run - i);
		p += run - i;
		if (run < len)
			p = put_byte(p, (unsigned char)s[run++]);
		i = run;
	}
	return p;
}

size_t
json_put_text(char *p, size_t cap, const char *s, size_t len, bool *cut)
{
	size_t used = 0, i = 0;

	while (i < len) {
		size_t n = utf8_sequence_length(s + i, len - i), need;

		if (n == 0)
			need = sizeof(REPLACEMENT) - 1;
		else if (n == 1)
			need = byte_len((unsigned char)s[i]);
		else
			need = n;
		if (need > cap - used)
			break;
		if (n == 0)
			memcpy(p + used, REPLACEMENT, need);
		else if (n == 1)
			put_byte(p + used, (unsigned char)s[i]);
		else
			memcpy(p + used, s + i, n);
		used += need;
		i += n == 0 ? 1 : n;
	}
	*cut = i < len;
	return used;
}
