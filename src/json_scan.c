/*
 * The RFC 8259 scanner of JSON in: it checks a whole text against the
 * grammar and, while it reads the value of a known top-level member,
 * decodes it and stores it where the member's row says.
 *
 * json-c is lenient where RFC 8259 is not (single quotes, NaN, raw control
 * characters, lone surrogate escapes turned silently into U+FFFD, member
 * names cut at \u0000, duplicate members), so it reads nothing.
 */
#include <stddef.h>
#include <string.h>

#include "json_parse.h"
#include "json_parse_private.h"
#include "validate.h"

static bool scan_value(struct scan *);

static void
skip_space(struct scan *sc)
{
	while (sc->p < sc->end && (*sc->p == ' ' || *sc->p == '\t' ||
	    *sc->p == '\n' || *sc->p == '\r'))
		sc->p++;
}

/* Reports malformed JSON at the scanner's position; always false. */
static bool
syntax_error(struct scan *sc, const char *what)
{
	invalid_set(sc->invalid, PROBLEM_INVALID_JSON, NULL,
	    "the body is not valid JSON: %s at byte %zu", what,
	    (size_t)(sc->p - sc->start));
	return false;
}

/*
 * Keeps the first problem of a known member ("name" "is given more than
 * once"); always true, for the scan to go on.
 */
static bool
member_error(struct scan *sc, const char *member, const char *what)
{
	if (!sc->member_failed)
		invalid_set(sc->invalid, PROBLEM_INVALID_FIELD, member,
		    "%s %s", member, what);
	sc->member_failed = true;
	return true;
}

/*
 * Reports a string that is well-formed JSON but not acceptable text. In
 * the value of a known top-level member it is that member's problem, kept
 * while the scan goes on past the bad text (true); elsewhere the body is
 * refused as JSON (false).
 */
static bool
text_error(struct scan *sc, const char *what)
{
	if (sc->member != NULL && sc->depth == 1)
		return member_error(sc, sc->member, what);
	invalid_set(sc->invalid, PROBLEM_INVALID_JSON, NULL,
	    "the body is not valid JSON: a string %s", what);
	return false;
}

/* Appends n bytes to out, keeping what fits. */
static void
text_put(struct text *out, const char *s, size_t n)
{
	if (out->len < out->cap)
		memcpy(out->buf + out->len, s,
		    n < out->cap - out->len ? n : out->cap - out->len);
	out->len += n;
}

/* Appends a code point (at most U+10FFFF, no surrogate) in UTF-8. */
static void
text_put_point(struct text *out, unsigned point)
{
	char utf8[4];
	size_t n;

	if (point < 0x80) {
		utf8[0] = (char)point;
		n = 1;
	} else if (point < 0x800) {
		utf8[0] = (char)(0xC0 | point >> 6);
		utf8[1] = (char)(0x80 | (point & 0x3F));
		n = 2;
	} else if (point < 0x10000) {
		utf8[0] = (char)(0xE0 | point >> 12);
		utf8[1] = (char)(0x80 | (point >> 6 & 0x3F));
		utf8[2] = (char)(0x80 | (point & 0x3F));
		n = 3;
	} else {
		utf8[0] = (char)(0xF0 | point >> 18);
		utf8[1] = (char)(0x80 | (point >> 12 & 0x3F));
		utf8[2] = (char)(0x80 | (point >> 6 & 0x3F));
		utf8[3] = (char)(0x80 | (point & 0x3F));
		n = 4;
	}
	text_put(out, utf8, n);
}

/* Reads four hex digits at sc->p into *out. */
static bool
scan_hex4(struct scan *sc, unsigned *out)
{
	unsigned value = 0;

	if (sc->end - sc->p < 4)
		return false;
	for (int i = 0; i < 4; i++) {
		char c = *sc->p++;

		value <<= 4;
		if (c >= '0' && c <= '9')
			value |= (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f')
			value |= (unsigned)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			value |= (unsigned)(c - 'A' + 10);
		else
			return false;
	}
	*out = value;
	return true;
}

/* What a one-character escape such as \n stands for, or 0 for a bad one. */
static char
simple_escape(char c)
{
	switch (c) {
	case '"': return '"';
	case '\\': return '\\';
	case '/': return '/';
	case 'b': return '\b';
	case 'f': return '\f';
	case 'n': return '\n';
	case 'r': return '\r';
	case 't': return '\t';
	default: return 0;
	}
}

/*
 * Scans a \u escape (the backslash and u already read), which must not
 * leave half of a UTF-16 surrogate pair alone (text_error decides whether
 * the scan goes on after one). *point is the code point it stands for, a
 * surrogate pair joined, or -1 after a lone surrogate.
 */
static bool
scan_unicode_escape(struct scan *sc, long *point)
{
	unsigned unit, low;

	*point = -1;
	if (!scan_hex4(sc, &unit))
		return syntax_error(sc, "bad \\u escape");
	if (unit >= 0xDC00 && unit <= 0xDFFF)
		return text_error(sc, "holds a lone UTF-16 surrogate escape");
	if (unit >= 0xD800 && unit <= 0xDBFF) {
		if (sc->end - sc->p < 6 || sc->p[0] != '\\' || sc->p[1] != 'u')
			return text_error(sc, "holds a lone UTF-16 surrogate escape");
		sc->p += 2;
		if (!scan_hex4(sc, &low))
			return syntax_error(sc, "bad \\u escape");
		if (low < 0xDC00 || low > 0xDFFF)
			return text_error(sc, "holds a lone UTF-16 surrogate escape");
		unit = 0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00);
	}
	*point = (long)unit;
	return true;
}

/*
 * Scans a string starting at its opening quote, decoding it into out when
 * out is not NULL. A member name (key) must not hold \u0000, where json-c
 * would cut it.
 */
static bool
scan_string(struct scan *sc, struct text *out, bool key)
{
	sc->p++;	/* the opening quote */
	for (;;) {
		const char *run = sc->p;
		unsigned char c;
		long point;
		size_t n;

		/* the plain ASCII characters, at once */
		while (sc->p < sc->end && (c = (unsigned char)*sc->p) >= 0x20 &&
		    c < 0x80 && c != '"' && c != '\\')
			sc->p++;
		if (out != NULL)
			text_put(out, run, (size_t)(sc->p - run));
		if (sc->p >= sc->end)
			return syntax_error(sc, "unterminated string");
		c = (unsigned char)*sc->p;
		if (c == '"') {
			sc->p++;
			return true;
		}
		if (c < 0x20)
			return syntax_error(sc, "raw control character in a string");
		if (c >= 0x80) {
			n = utf8_sequence_length(sc->p,
			    (size_t)(sc->end - sc->p));
			if (n == 0) {
				if (!text_error(sc, "is not valid UTF-8"))
					return false;
				n = 1;	/* scan on from the next byte */
			}
			if (out != NULL)
				text_put(out, sc->p, n);
			sc->p += n;
			continue;
		}
		if (++sc->p >= sc->end)
			return syntax_error(sc, "unterminated string");
		c = (unsigned char)*sc->p++;
		if (c == 'u') {
			if (!scan_unicode_escape(sc, &point))
				return false;
		} else if ((point = simple_escape((char)c)) == 0)
			return syntax_error(sc, "bad escape in a string");
		if (key && point == 0)
			return syntax_error(sc, "a member name holds \\u0000");
		if (out != NULL && point >= 0)
			text_put_point(out, (unsigned)point);
	}
}

/* Scans a number per the RFC 8259 grammar. */
static bool
scan_number(struct scan *sc)
{
	const char *p = sc->p;

	if (p < sc->end && *p == '-')
		p++;
	if (p >= sc->end || *p < '0' || *p > '9')
		return syntax_error(sc, "bad number");
	if (*p == '0')
		p++;
	else
		while (p < sc->end && *p >= '0' && *p <= '9')
			p++;
	if (p < sc->end && *p == '.') {
		p++;
		if (p >= sc->end || *p < '0' || *p > '9')
			return syntax_error(sc, "bad number");
		while (p < sc->end && *p >= '0' && *p <= '9')
			p++;
	}
	if (p < sc->end && (*p == 'e' || *p == 'E')) {
		p++;
		if (p < sc->end && (*p == '+' || *p == '-'))
			p++;
		if (p >= sc->end || *p < '0' || *p > '9')
			return syntax_error(sc, "bad number");
		while (p < sc->end && *p >= '0' && *p <= '9')
			p++;
	}
	sc->p = p;
	return true;
}

/*
 * Makes the member named key (len bytes, NUL-terminated) the one whose
 * value is read next, when a row of the parts names it; a second
 * occurrence is its problem.
 */
static void
find_member(struct scan *sc, const char *key, size_t len)
{
	struct found *found = sc->all_found;

	sc->member = NULL;
	if (len >= KEY_MAX)
		return;
	for (size_t i = 0; i < sc->nparts; i++) {
		const struct part *part = &sc->parts[i];

		for (size_t r = 0; r < part->count; r++, found++) {
			const struct member *row = &part->rows[r];
			unsigned given;

			if (strcmp(key, row->name) == 0)
				given = GIVEN_NAME;
			else if (row->alias != NULL &&
			    strcmp(key, row->alias) == 0)
				given = GIVEN_ALIAS;
			else
				continue;
			sc->member = given == GIVEN_NAME ? row->name :
			    row->alias;
			if (found->given & given)
				member_error(sc, sc->member,
				    "is given more than once");
			found->given |= given;
			sc->row = row;
			sc->dest = part->dest;
			sc->found = found;
			return;
		}
	}
}

/* Scans an object or an array, whose opening bracket is at sc->p. */
static bool
scan_container(struct scan *sc)
{
	bool object = *sc->p == '{';
	char close = object ? '}' : ']';
	const char *outer_member = sc->member;

	if (++sc->depth > JSON_DEPTH_MAX)
		return syntax_error(sc, "nesting too deep");
	sc->p++;
	skip_space(sc);
	if (sc->p < sc->end && *sc->p == close) {
		sc->p++;
		sc->depth--;
		return true;
	}
	for (;;) {
		skip_space(sc);
		if (object) {
			char key[KEY_MAX];
			struct text name = { key, sizeof(key) - 1, 0 };

			if (sc->p >= sc->end || *sc->p != '"')
				return syntax_error(sc, "expected a member name");
			sc->member = NULL;	/* a key is never a member's value */
			if (!scan_string(sc, sc->depth == 1 ? &name : NULL,
			    true))
				return false;
			if (sc->depth == 1) {
				key[name.len < name.cap ? name.len : name.cap] =
				    '\0';
				find_member(sc, key, name.len);
			}
			skip_space(sc);
			if (sc->p >= sc->end || *sc->p != ':')
				return syntax_error(sc, "expected ':'");
			sc->p++;
		}
		if (!scan_value(sc))
			return false;
		skip_space(sc);
		if (sc->p < sc->end && *sc->p == ',') {
			sc->p++;
			continue;
		}
		if (sc->p < sc->end && *sc->p == close) {
			sc->p++;
			break;
		}
		return syntax_error(sc, object ? "expected ',' or '}'" :
		    "expected ',' or ']'");
	}
	sc->member = outer_member;
	sc->depth--;
	return true;
}

/* Scans a literal such as true at sc->p. */
static bool
scan_literal(struct scan *sc, const char *word)
{
	size_t n = strlen(word);

	if ((size_t)(sc->end - sc->p) < n || memcmp(sc->p, word, n) != 0)
		return syntax_error(sc, "unexpected character");
	sc->p += n;
	return true;
}

/*
 * Reads a JSON number (its text from s to e, valid per RFC 8259) that
 * must be an integer from min to max: no fraction, no exponent, and no
 * minus sign but that of -0.
 */
static bool
integer_value(const char *s, const char *e, uint64_t min, uint64_t max,
    uint64_t *out)
{
	if (*s == '-') {
		if (e - s != 2 || s[1] != '0')
			return false;
		s++;
	}
	return parse_decimal(s, (size_t)(e - s), min, max, out);
}

/*
 * Stores the value of the known member being read, scanned from start to
 * sc->p (its decoded text in sc->text when a string), or notes why not.
 */
static void
take_value(struct scan *sc, const char *start)
{
	const struct member *row = sc->row;
	struct found *found = sc->found;
	char *at = sc->dest + row->at;
	size_t kept = sc->text.len < sc->text.cap ? sc->text.len : sc->text.cap;
	uint64_t number;
	bool present = true;

	found->outcome = OUTCOME_WRONG;
	if (*start == 'n') {
		found->outcome = OUTCOME_NULL;
		if (row->null_at != 0)
			memcpy(sc->dest + row->null_at, &present, sizeof(present));
		return;
	}
	switch (row->kind) {
	case VALUE_TEXT:
		if (*start != '"')
			return;
		/*
		 * A text longer than TEXT_MAX is checked by its first TEXT_MAX
		 * bytes, which no member allows: every check refuses a text
		 * too long for its member by its length, before its bytes.
		 */
		found->why = row->check(sc->value, kept);
		if (found->why == NULL && sc->text.len >= row->cap)
			found->why = "is too long";
		if (found->why != NULL) {
			found->outcome = OUTCOME_CHECKED;
			return;
		}
		memcpy(at, sc->value, kept);
		at[kept] = '\0';
		if (row->len_at != 0)
			memcpy(sc->dest + row->len_at, &kept, sizeof(kept));
		break;
	case VALUE_INTEGER:
		if ((*start != '-' && (*start < '0' || *start > '9')) ||
		    !integer_value(start, sc->p, row->min, row->max, &number))
			return;
		memcpy(at, &number, sizeof(number));
		break;
	case VALUE_INSTANT:
		/* an instant of TEXT_MAX bytes or more is none */
		if (*start != '"' || sc->text.len >= sc->text.cap ||
		    !parse_instant(sc->value, kept, &number))
			return;
		memcpy(at, &number, sizeof(number));
		break;
	case VALUE_FIXED:
		if (*start != '"' || sc->text.len != strlen(row->fixed) ||
		    memcmp(sc->value, row->fixed, sc->text.len) != 0)
			return;
		break;
	}
	if (row->present_at != 0)
		memcpy(sc->dest + row->present_at, &present, sizeof(present));
	found->outcome = OUTCOME_TAKEN;
}

static bool
scan_value(struct scan *sc)
{
	bool known = sc->member != NULL && sc->depth == 1;
	const char *start;
	bool ok;

	skip_space(sc);
	if (sc->p >= sc->end)
		return syntax_error(sc, "unexpected end");
	start = sc->p;
	switch (*sc->p) {
	case '{':
	case '[':
		ok = scan_container(sc);
		break;
	case '"':
		sc->text.len = 0;
		ok = scan_string(sc, known ? &sc->text : NULL, false);
		break;
	case 't':
		ok = scan_literal(sc, "true");
		break;
	case 'f':
		ok = scan_literal(sc, "false");
		break;
	case 'n':
		ok = scan_literal(sc, "null");
		break;
	default:
		ok = scan_number(sc);
		break;
	}
	if (ok && known)
		take_value(sc, start);
	return ok;
}

/*
 * Scans text, which must be exactly one JSON object per RFC 8259, storing
 * the values of the parts' members into their structs as it goes. False
 * with invalid filled when the text is not JSON (whatever its members), or
 * when a known member is given twice or holds a bad text; the rest of the
 * members' problems are for take_members.
 */
bool
scan_object(struct scan *sc, const char *text, size_t len,
    const struct part *parts, size_t nparts, struct invalid *invalid)
{
	sc->start = sc->p = text;
	sc->end = text + len;
	sc->depth = 0;
	sc->member = NULL;
	sc->member_failed = false;
	sc->invalid = invalid;
	sc->parts = parts;
	sc->nparts = nparts;
	memset(sc->all_found, 0, sizeof(sc->all_found));
	sc->text.buf = sc->value;
	sc->text.cap = sizeof(sc->value);
	skip_space(sc);
	if (sc->p >= sc->end || *sc->p != '{') {
		invalid_set(invalid, PROBLEM_INVALID_JSON, NULL,
		    "the body must be one JSON object");
		return false;
	}
	if (!scan_container(sc))
		return false;
	skip_space(sc);
	if (sc->p != sc->end)
		return syntax_error(sc, "trailing data after the object");
	return !sc->member_failed;
}
