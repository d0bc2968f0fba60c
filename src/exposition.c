/*
 * Prometheus's text exposition format, 0.0.4: "name{label="value",...}
 * value" lines, each family after its # HELP and # TYPE lines. In a label
 * value a backslash, a double quote and a line feed are escaped; in a
 * HELP text a backslash and a line feed.
 */
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exposition.h"

void
exposition_init(struct exposition *out)
{
	memset(out, 0, sizeof(*out));
}

void
exposition_free(struct exposition *out)
{
	free(out->text);
	exposition_init(out);
}

/* Makes room for n more bytes and the NUL; false (remembered) when it cannot. */
static bool
reserve(struct exposition *out, size_t n)
{
	size_t cap;
	char *text;

	if (out->failed)
		return false;
	if (out->len + n + 1 <= out->cap)
		return true;
	for (cap = out->cap > 0 ? out->cap : 4096; cap < out->len + n + 1;)
		cap *= 2;
	if ((text = realloc(out->text, cap)) == NULL) {
		out->failed = true;
		return false;
	}
	out->text = text;
	out->cap = cap;
	return true;
}

/* Appends n bytes of s. */
static void
put(struct exposition *out, const char *s, size_t n)
{
	if (!reserve(out, n))
		return;
	memcpy(out->text + out->len, s, n);
	out->len += n;
	out->text[out->len] = '\0';
}

/* Appends s, escaping a backslash, a line feed, and with quote a '"'. */
static void
put_escaped(struct exposition *out, const char *s, bool quote)
{
	for (; *s != '\0'; s++) {
		if (*s == '\\')
			put(out, "\\\\", 2);
		else if (*s == '\n')
			put(out, "\\n", 2);
		else if (*s == '"' && quote)
			put(out, "\\\"", 2);
		else
			put(out, s, 1);
	}
}

/* Appends text formatted like printf. */
static void __attribute__((format(printf, 2, 3)))
put_format(struct exposition *out, const char *fmt, ...)
{
	char buf[64];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n > 0 && (size_t)n < sizeof(buf))
		put(out, buf, (size_t)n);
}

void
exposition_family(struct exposition *out, const char *name, const char *type,
    const char *help)
{
	put(out, "# HELP ", 7);
	put(out, name, strlen(name));
	put(out, " ", 1);
	put_escaped(out, help, false);
	put(out, "\n# TYPE ", 8);
	put(out, name, strlen(name));
	put(out, " ", 1);
	put(out, type, strlen(type));
	put(out, "\n", 1);
}

/* Appends "name{labels} " of a sample. */
static void
put_name(struct exposition *out, const char *name, const struct label *labels,
    size_t count)
{
	put(out, name, strlen(name));
	for (size_t i = 0; i < count; i++) {
		put(out, i == 0 ? "{" : ",", 1);
		put(out, labels[i].name, strlen(labels[i].name));
		put(out, "=\"", 2);
		put_escaped(out, labels[i].value, true);
		put(out, "\"", 1);
	}
	put(out, count > 0 ? "} " : " ", count > 0 ? 2 : 1);
}

void
exposition_u64(struct exposition *out, const char *name,
    const struct label *labels, size_t count, uint64_t value)
{
	put_name(out, name, labels, count);
	put_format(out, "%" PRIu64 "\n", value);
}

void
exposition_double(struct exposition *out, const char *name,
    const struct label *labels, size_t count, double value)
{
	put_name(out, name, labels, count);
	if (isnan(value))
		put(out, "NaN\n", 4);
	else if (isinf(value))
		put(out, value > 0 ? "+Inf\n" : "-Inf\n", 5);
	else
		put_format(out, "%.15g\n", value);
}
