/*
 * JSON in and out with json-c.
 *
 * json-c is lenient where RFC 8259 is not (single quotes, NaN, raw control
 * characters, lone surrogate escapes turned silently into U+FFFD), so a
 * body is first checked against the RFC grammar by a small scanner here,
 * and only then handed to json-c to build the tree the members are read
 * from.
 */
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "json.h"
#include "validate.h"

#define UINT_DIGITS_MAX	20	/* digits of the largest uint64_t */
#define INSTANT_MAX	96	/* room for any struct tm, though 25 bytes are used */

/* The members of a deploy body, in the order they are reported missing. */
enum member {
	MEMBER_NAME,
	MEMBER_SERVICE_NAME,
	MEMBER_VERSION,
	MEMBER_SERVICE_VERSION_NUMBER,
	MEMBER_ENVIRONMENT,
	MEMBER_DEPLOYED_BY,
	MEMBER_REASON,
	MEMBER_RELEASE_HASH,
	MEMBER_SYSTEM_VERSION,		/* the members an export adds */
	MEMBER_CREATED_AT,
	MEMBER_PREVIOUS_VERSION,
	MEMBER_COUNT
};

static const char *const member_names[MEMBER_COUNT] = {
	"name", "serviceName", "version", "serviceVersionNumber",
	"environment", "deployedBy", "reason", "releaseHash",
	"systemVersion", "createdAt", "previousVersion"
};

#define EXPORT_FORMAT		"releasemgr-export"
#define EXPORT_FORMAT_VERSION	1

/*
 * The state of the RFC 8259 scanner over one body. A problem of a known
 * member (a bad text, a second occurrence) is kept in invalid while the
 * scan goes on: it is the answer only for a body that is JSON to the end,
 * since a malformed body is first of all not JSON.
 */
struct scan {
	const char	*start;
	const char	*p;
	const char	*end;
	int		 depth;
	const char	*member;	/* the known top-level member being read, or NULL */
	unsigned	 seen;		/* bit per enum member found at the top level */
	bool		 member_failed;	/* invalid holds a member's problem */
	struct invalid	*invalid;
};

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
 * the scan goes on after one). *ascii is the character it stands for when
 * that is ASCII, or -1.
 */
static bool
scan_unicode_escape(struct scan *sc, int *ascii)
{
	unsigned unit, low;

	*ascii = -1;
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
	}
	if (unit < 0x80)
		*ascii = (int)unit;
	return true;
}

/*
 * Scans a string starting at its opening quote. When key is not NULL, the
 * decoded text of a short ASCII key is copied there (empty when the key is
 * long or not ASCII), so that known members are recognised however they
 * are escaped.
 */
static bool
scan_string(struct scan *sc, char *key, size_t key_cap)
{
	size_t key_len = 0;
	bool key_plain = key != NULL;

	sc->p++;	/* the opening quote */
	for (;;) {
		unsigned char c;
		int decoded;

		if (sc->p >= sc->end)
			return syntax_error(sc, "unterminated string");
		c = (unsigned char)*sc->p;
		if (c == '"') {
			sc->p++;
			break;
		}
		if (c < 0x20)
			return syntax_error(sc, "raw control character in a string");
		if (c == '\\') {
			if (++sc->p >= sc->end)
				return syntax_error(sc, "unterminated string");
			c = (unsigned char)*sc->p++;
			if (c == 'u') {
				if (!scan_unicode_escape(sc, &decoded))
					return false;
			} else if ((decoded = simple_escape((char)c)) == 0)
				return syntax_error(sc, "bad escape in a string");
		} else if (c >= 0x80) {
			size_t n = utf8_sequence_length(sc->p,
			    (size_t)(sc->end - sc->p));

			if (n == 0) {
				if (!text_error(sc, "is not valid UTF-8"))
					return false;
				n = 1;	/* scan on from the next byte */
			}
			sc->p += n;
			decoded = -1;
		} else {
			decoded = c;
			sc->p++;
		}
		/* json-c would cut a member name at a NUL: refuse it */
		if (key != NULL && decoded == 0)
			return syntax_error(sc, "a member name holds \\u0000");
		if (key_plain && decoded > 0 && key_len + 1 < key_cap)
			key[key_len++] = (char)decoded;
		else
			key_plain = false;
	}
	if (key != NULL)
		key[key_plain ? key_len : 0] = '\0';
	return true;
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
			char key[32];

			if (sc->p >= sc->end || *sc->p != '"')
				return syntax_error(sc, "expected a member name");
			sc->member = NULL;	/* a key is never a member's value */
			if (!scan_string(sc, key, sizeof(key)))
				return false;
			for (int m = 0; sc->depth == 1 && m < MEMBER_COUNT; m++) {
				if (strcmp(key, member_names[m]) != 0)
					continue;
				if (sc->seen & (1u << m))
					member_error(sc, member_names[m],
					    "is given more than once");
				sc->seen |= 1u << m;
				sc->member = member_names[m];
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

static bool
scan_value(struct scan *sc)
{
	skip_space(sc);
	if (sc->p >= sc->end)
		return syntax_error(sc, "unexpected end");
	switch (*sc->p) {
	case '{':
	case '[':
		return scan_container(sc);
	case '"':
		return scan_string(sc, NULL, 0);
	case 't':
		return scan_literal(sc, "true");
	case 'f':
		return scan_literal(sc, "false");
	case 'n':
		return scan_literal(sc, "null");
	default:
		return scan_number(sc);
	}
}

/*
 * Checks that body is exactly one JSON object per RFC 8259, with no known
 * member given twice at its top level and no known member's text refused.
 * A body that is not JSON is refused as such, whatever its members.
 */
static bool
scan_body(const char *body, size_t len, struct invalid *invalid)
{
	struct scan sc = { body, body, body + len, 0, NULL, 0, false, invalid };

	skip_space(&sc);
	if (sc.p >= sc.end || *sc.p != '{') {
		invalid_set(invalid, PROBLEM_INVALID_JSON, NULL,
		    "the body must be one JSON object");
		return false;
	}
	if (!scan_container(&sc))
		return false;
	skip_space(&sc);
	if (sc.p != sc.end)
		return syntax_error(&sc, "trailing data after the object");
	return !sc.member_failed;
}

/*
 * Finds a member that may be given under its name or its alias; giving
 * both is ambiguous. Sets *value to NULL when neither is present.
 */
static bool
get_member(struct json_object *object, enum member name, enum member alias,
    struct json_object **value, const char **used, struct invalid *invalid)
{
	struct json_object *by_name = NULL, *by_alias = NULL;
	bool has_name, has_alias;

	has_name = json_object_object_get_ex(object, member_names[name], &by_name);
	has_alias = alias != MEMBER_COUNT &&
	    json_object_object_get_ex(object, member_names[alias], &by_alias);
	if (has_name && has_alias) {
		invalid_set(invalid, PROBLEM_INVALID_FIELD, member_names[alias],
		    "give either %s or %s, not both", member_names[name],
		    member_names[alias]);
		return false;
	}
	*used = member_names[has_alias ? alias : name];
	*value = has_alias ? by_alias : by_name;
	if ((has_name || has_alias) && *value == NULL) {
		/* json-c stores null members as NULL values */
		invalid_set(invalid, PROBLEM_INVALID_FIELD, *used,
		    "%s must not be null", *used);
		return false;
	}
	return true;
}

/*
 * Copies a string member, checked by check, into buf (cap bytes). A missing
 * optional member leaves *present false.
 */
static bool
take_string(struct json_object *object, enum member name, enum member alias,
    bool required, const char *(*check)(const char *, size_t),
    char *buf, size_t cap, size_t *len, bool *present, struct invalid *invalid)
{
	struct json_object *value;
	const char *used, *text, *why;
	size_t text_len;

	if (!get_member(object, name, alias, &value, &used, invalid))
		return false;
	*present = value != NULL;
	if (value == NULL) {
		if (!required)
			return true;
		invalid_set(invalid, PROBLEM_INVALID_FIELD, used,
		    "%s is required", used);
		return false;
	}
	if (!json_object_is_type(value, json_type_string)) {
		invalid_set(invalid, PROBLEM_INVALID_FIELD, used,
		    "%s must be a string", used);
		return false;
	}
	text = json_object_get_string(value);
	text_len = (size_t)json_object_get_string_len(value);
	if ((why = check(text, text_len)) != NULL) {
		invalid_set(invalid, PROBLEM_INVALID_FIELD, used, "%s %s",
		    used, why);
		return false;
	}
	if (text_len >= cap) {
		/* the checks bound every member below its buffer */
		invalid_set(invalid, PROBLEM_INVALID_FIELD, used,
		    "%s is too long", used);
		return false;
	}
	memcpy(buf, text, text_len);
	buf[text_len] = '\0';
	*len = text_len;
	return true;
}

/*
 * Reads a required integer member, given under its name or its alias, in
 * min .. max (at most 2^53 - 1).
 */
static bool
take_integer(struct json_object *object, enum member name, enum member alias,
    uint64_t min, uint64_t max, uint64_t *out, struct invalid *invalid)
{
	struct json_object *value;
	const char *used;
	int64_t number;

	if (!get_member(object, name, alias, &value, &used, invalid))
		return false;
	if (value == NULL) {
		invalid_set(invalid, PROBLEM_INVALID_FIELD, used,
		    "%s is required", used);
		return false;
	}
	/* json-c reads fractions and exponents as doubles, and clamps huge integers */
	number = json_object_get_int64(value);
	if (!json_object_is_type(value, json_type_int) || number < 0 ||
	    (uint64_t)number < min || (uint64_t)number > max) {
		invalid_set(invalid, PROBLEM_INVALID_FIELD, used,
		    "%s must be an integer from %llu to %llu", used,
		    (unsigned long long)min, (unsigned long long)max);
		return false;
	}
	*out = (uint64_t)number;
	return true;
}

/* Reads an optional metadata member into text. */
static bool
take_metadata(struct json_object *object, enum member name,
    struct metadata_text *text, struct invalid *invalid)
{
	return take_string(object, name, MEMBER_COUNT, false, check_metadata,
	    text->text, sizeof(text->text), &text->len, &text->present, invalid);
}

/*
 * Parses text that must be exactly one RFC 8259 JSON object, with no known
 * member twice, into a new object the caller releases; NULL with invalid
 * filled otherwise.
 */
static struct json_object *
parse_object(const char *text, size_t len, struct invalid *invalid)
{
	struct json_tokener *tokener;
	struct json_object *object = NULL;

	if (!scan_body(text, len, invalid))
		return NULL;
	if ((tokener = json_tokener_new_ex(JSON_DEPTH_MAX + 1)) != NULL) {
		object = json_tokener_parse_ex(tokener, text, (int)len);
		json_tokener_free(tokener);
	}
	if (object == NULL || !json_object_is_type(object, json_type_object)) {
		/* the scanner accepted it, so only memory can be short */
		json_object_put(object);
		invalid_set(invalid, PROBLEM_UNAVAILABLE, NULL,
		    "the server is short of memory");
		return NULL;
	}
	return object;
}

/* Reads the members of a deploy from a parsed object into out. */
static bool
take_deploy(struct json_object *object, struct deploy *out,
    struct invalid *invalid)
{
	size_t environment_len;
	bool present;

	memset(out, 0, sizeof(*out));
	if (!take_string(object, MEMBER_NAME, MEMBER_SERVICE_NAME, true,
	    check_service_name, out->name, sizeof(out->name), &out->name_len,
	    &present, invalid) ||
	    !take_integer(object, MEMBER_VERSION, MEMBER_SERVICE_VERSION_NUMBER,
	    0, SERVICE_VERSION_MAX, &out->version, invalid) ||
	    !take_string(object, MEMBER_ENVIRONMENT, MEMBER_COUNT, false,
	    check_environment, out->environment, sizeof(out->environment),
	    &environment_len, &present, invalid))
		return false;
	if (!present)
		memcpy(out->environment, DEFAULT_ENVIRONMENT,
		    sizeof(DEFAULT_ENVIRONMENT));
	return take_metadata(object, MEMBER_DEPLOYED_BY, &out->deployed_by,
	    invalid) &&
	    take_metadata(object, MEMBER_REASON, &out->reason, invalid) &&
	    take_metadata(object, MEMBER_RELEASE_HASH, &out->release_hash,
	    invalid);
}

bool
json_parse_deploy(const char *body, size_t len, struct deploy *out,
    struct invalid *invalid)
{
	struct json_object *object;
	bool ok;

	memset(out, 0, sizeof(*out));
	if ((object = parse_object(body, len, invalid)) == NULL)
		return false;
	ok = take_deploy(object, out, invalid);
	json_object_put(object);
	return ok;
}

/* Serialises root (consuming the caller's reference) into a malloc'd copy. */
static char *
finish(struct json_object *root, size_t *len)
{
	const char *text;
	size_t text_len;
	char *copy = NULL;

	if (root == NULL)
		return NULL;
	text = json_object_to_json_string_length(root,
	    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &text_len);
	if (text != NULL && (copy = malloc(text_len + 1)) != NULL) {
		memcpy(copy, text, text_len + 1);
		*len = text_len;
	}
	json_object_put(root);
	return copy;
}

/*
 * Adds key: value to object, taking the reference to value; false (value
 * released) when either is missing or memory is short.
 */
static bool
add(struct json_object *object, const char *key, struct json_object *value)
{
	if (object == NULL || value == NULL) {
		json_object_put(value);
		return false;
	}
	if (json_object_object_add(object, key, value) != 0) {
		json_object_put(value);
		return false;
	}
	return true;
}

char *
json_render_uint(uint64_t value, size_t *len)
{
	return finish(json_object_new_uint64(value), len);
}

/* Bytes of name once escaped as the inside of a JSON string. */
static size_t
escaped_len(const char *name, size_t len)
{
	size_t n = len;

	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)name[i];

		if (c == '"' || c == '\\' || c == '\n' || c == '\r' ||
		    c == '\t' || c == '\b' || c == '\f')
			n += 1;
		else if (c < 0x20 || c == 0x7f)
			n += 5;
	}
	return n;
}

/* Writes name escaped (escaped_len bytes); UTF-8 passes through as is. */
static char *
put_escaped(char *p, const char *name, size_t len)
{
	static const char hex[] = "0123456789abcdef";

	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)name[i];
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

/* Writes v in decimal into out (no NUL); returns the number of digits. */
static size_t
format_uint(uint64_t v, char out[UINT_DIGITS_MAX])
{
	char reversed[UINT_DIGITS_MAX];
	size_t n = 0;

	do {
		reversed[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	for (size_t i = 0; i < n; i++)
		out[i] = reversed[n - 1 - i];
	return n;
}

/*
 * The list is the hot path of every read, so it is written straight into
 * one buffer of the exact size, with no tree: the output is the same as
 * json-c's (names are validated UTF-8, which passes through unescaped).
 */
char *
json_render_services(const struct service_list *list, size_t *len)
{
	static const char open[] = "{\"name\":\"", middle[] = "\",\"version\":";
	char number[UINT_DIGITS_MAX], *body, *p;
	size_t total = 2;	/* [ and ] */

	for (size_t i = 0; i < list->count; i++)
		total += (i > 0) + sizeof(open) - 1 +
		    escaped_len(service_list_name(list, i),
		    list->items[i].name_len) + sizeof(middle) - 1 +
		    format_uint(list->items[i].version, number) + 1;
	if ((body = malloc(total + 1)) == NULL)
		return NULL;
	p = body;
	*p++ = '[';
	for (size_t i = 0; i < list->count; i++) {
		size_t n = format_uint(list->items[i].version, number);

		if (i > 0)
			*p++ = ',';
		memcpy(p, open, sizeof(open) - 1);
		p = put_escaped(p + sizeof(open) - 1,
		    service_list_name(list, i), list->items[i].name_len);
		memcpy(p, middle, sizeof(middle) - 1);
		p += sizeof(middle) - 1;
		memcpy(p, number, n);
		p += n;
		*p++ = '}';
	}
	*p++ = ']';
	*p = '\0';
	*len = (size_t)(p - body);
	return body;
}

/* Writes ms since the epoch as RFC 3339 UTC with milliseconds ("...T10:15:03.042Z"). */
static void
format_instant(uint64_t ms, char buf[INSTANT_MAX])
{
	time_t seconds = (time_t)(ms / 1000);
	struct tm tm;

	gmtime_r(&seconds, &tm);
	snprintf(buf, INSTANT_MAX, "%04d-%02d-%02dT%02d:%02d:%02d.%03uZ",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
	    tm.tm_min, tm.tm_sec, (unsigned)(ms % 1000));
}

char *
json_render_status(const char *environment,
    const struct environment_state *state, size_t *len)
{
	struct json_object *object = json_object_new_object();
	char instant[INSTANT_MAX];

	format_instant(state->updated_ms, instant);
	if (!add(object, "environment", json_object_new_string(environment)) ||
	    !add(object, "systemVersion",
	    json_object_new_uint64(state->system_version)) ||
	    (state->system_version == 0 ?
	    json_object_object_add(object, "updatedAt", NULL) != 0 :
	    !add(object, "updatedAt", json_object_new_string(instant)))) {
		json_object_put(object);
		return NULL;
	}
	return finish(object, len);
}

/* Adds key: text when the metadata text is present; false when memory ran out. */
static bool
add_metadata(struct json_object *object, const char *key,
    const struct metadata_text *text)
{
	return !text->present || add(object, key,
	    json_object_new_string_len(text->text, (int)text->len));
}

/*
 * Adds the members of a change to object: name, previousVersion (null for a
 * new service), version and the metadata sent; false when memory ran out.
 */
static bool
add_change_members(struct json_object *object,
    const struct change_record *record)
{
	return add(object, "name", json_object_new_string_len(record->name,
	    (int)record->name_len)) &&
	    (record->has_previous ? add(object, "previousVersion",
	    json_object_new_uint64(record->previous)) :
	    json_object_object_add(object, "previousVersion", NULL) == 0) &&
	    add(object, "version", json_object_new_uint64(record->version)) &&
	    add_metadata(object, "deployedBy", &record->deployed_by) &&
	    add_metadata(object, "reason", &record->reason) &&
	    add_metadata(object, "releaseHash", &record->release_hash);
}

/*
 * Adds where the change stands to object: systemVersion and createdAt;
 * false when memory ran out.
 */
static bool
add_version_members(struct json_object *object,
    const struct change_record *record)
{
	char instant[INSTANT_MAX];

	format_instant(record->created_ms, instant);
	return add(object, "systemVersion",
	    json_object_new_uint64(record->system_version)) &&
	    add(object, "createdAt", json_object_new_string(instant));
}

/*
 * A new object for one system version: systemVersion, createdAt and
 * change (name, previousVersion, version and the metadata sent); NULL
 * when memory ran out.
 */
static struct json_object *
version_object(const struct change_record *record)
{
	struct json_object *object = json_object_new_object();
	struct json_object *change = json_object_new_object();

	if (change == NULL || !add_change_members(change, record) ||
	    !add_version_members(object, record)) {
		json_object_put(change);
		json_object_put(object);
		return NULL;
	}
	if (!add(object, "change", change)) {
		json_object_put(object);
		return NULL;
	}
	return object;
}

/* Makes item i of an array from ctx; NULL when memory ran out. */
typedef struct json_object *item_fn(const void *ctx, size_t i);

/* A new array of count items made by make_item; NULL when memory ran out. */
static struct json_object *
build_array(size_t count, item_fn *make_item, const void *ctx)
{
	struct json_object *array = json_object_new_array_ext((int)count);

	for (size_t i = 0; array != NULL && i < count; i++) {
		struct json_object *item = make_item(ctx, i);

		if (item == NULL || json_object_array_add(array, item) != 0) {
			json_object_put(item);
			json_object_put(array);
			return NULL;
		}
	}
	return array;
}

/* Item i of a history: records[i] (item_fn). */
static struct json_object *
history_item(const void *ctx, size_t i)
{
	return version_object((const struct change_record *)ctx + i);
}

char *
json_render_history(const struct change_record *records, size_t count,
    size_t *len)
{
	return finish(build_array(count, history_item, records), len);
}

/* Item i of a service list: {"name", "version"} (item_fn). */
static struct json_object *
service_item(const void *ctx, size_t i)
{
	const struct service_list *list = ctx;
	struct json_object *item = json_object_new_object();

	if (!add(item, "name", json_object_new_string_len(
	    service_list_name(list, i), (int)list->items[i].name_len)) ||
	    !add(item, "version", json_object_new_uint64(list->items[i].version))) {
		json_object_put(item);
		return NULL;
	}
	return item;
}

char *
json_render_version(const struct change_record *record,
    const struct service_list *services, size_t *len)
{
	struct json_object *object = version_object(record);

	if (!add(object, "services", build_array(services->count, service_item,
	    services))) {
		json_object_put(object);
		return NULL;
	}
	return finish(object, len);
}

/* Adds key: the version of entry index of list, or null when absent. */
static bool
add_optional_version(struct json_object *object, const char *key,
    const struct service_list *list, bool present, size_t index)
{
	if (!present)
		return json_object_object_add(object, key, NULL) == 0;
	return add(object, key, json_object_new_uint64(list->items[index].version));
}

/* What the items of a diff are made from. */
struct diff_context {
	const struct service_list	*from;
	const struct service_list	*to;
	const struct service_difference	*diff;
};

/* Item i of a diff: {"name", "from", "to"} (item_fn). */
static struct json_object *
diff_item(const void *ctx, size_t i)
{
	const struct diff_context *c = ctx;
	const struct service_difference *d = &c->diff[i];
	const struct service_list *named = d->has_from ? c->from : c->to;
	size_t index = d->has_from ? d->index_from : d->index_to;
	struct json_object *item = json_object_new_object();

	if (!add(item, "name", json_object_new_string_len(
	    service_list_name(named, index),
	    (int)named->items[index].name_len)) ||
	    !add_optional_version(item, "from", c->from, d->has_from,
	    d->index_from) ||
	    !add_optional_version(item, "to", c->to, d->has_to, d->index_to)) {
		json_object_put(item);
		return NULL;
	}
	return item;
}

char *
json_render_diff(const struct service_list *from, const struct service_list *to,
    const struct service_difference *diff, size_t count, size_t *len)
{
	struct diff_context ctx = { from, to, diff };

	return finish(build_array(count, diff_item, &ctx), len);
}

/* Item i of the environments: {"name", "systemVersion", "updatedAt"} (item_fn). */
static struct json_object *
environment_item(const void *ctx, size_t i)
{
	const struct environment_summary *e =
	    (const struct environment_summary *)ctx + i;
	struct json_object *item = json_object_new_object();
	char instant[INSTANT_MAX];

	format_instant(e->state.updated_ms, instant);
	if (!add(item, "name", json_object_new_string(e->name)) ||
	    !add(item, "systemVersion",
	    json_object_new_uint64(e->state.system_version)) ||
	    !add(item, "updatedAt", json_object_new_string(instant))) {
		json_object_put(item);
		return NULL;
	}
	return item;
}

char *
json_render_environments(const struct environment_summary *list,
    size_t count, size_t *len)
{
	return finish(build_array(count, environment_item, list), len);
}

char *
json_render_problem(int status, const char *type, const char *title,
    const char *detail, const char *ext_key, const char *ext_value,
    size_t *len)
{
	struct json_object *object = json_object_new_object();

	if (!add(object, "type", json_object_new_string(type)) ||
	    !add(object, "title", json_object_new_string(title)) ||
	    !add(object, "status", json_object_new_int(status)) ||
	    !add(object, "detail", json_object_new_string(detail)) ||
	    (ext_key != NULL && ext_value != NULL &&
	    !add(object, ext_key, json_object_new_string(ext_value)))) {
		json_object_put(object);
		return NULL;
	}
	return finish(object, len);
}

char *
json_render_export_header(const struct export_header *header, size_t *len)
{
	struct json_object *object = json_object_new_object();

	if (!add(object, "format", json_object_new_string(EXPORT_FORMAT)) ||
	    !add(object, "formatVersion",
	    json_object_new_int(EXPORT_FORMAT_VERSION)) ||
	    !add(object, "environments",
	    json_object_new_uint64(header->environments)) ||
	    !add(object, "systemVersions",
	    json_object_new_uint64(header->system_versions))) {
		json_object_put(object);
		return NULL;
	}
	return finish(object, len);
}

char *
json_render_export_change(const char *environment,
    const struct change_record *record, size_t *len)
{
	struct json_object *object = json_object_new_object();

	if (!add(object, "environment", json_object_new_string(environment)) ||
	    !add_version_members(object, record) ||
	    !add_change_members(object, record)) {
		json_object_put(object);
		return NULL;
	}
	return finish(object, len);
}

bool
json_parse_export_header(const char *line, size_t len,
    struct export_header *out, struct invalid *invalid)
{
	struct json_object *object, *format, *version, *environments, *total;
	bool ok = false;

	memset(out, 0, sizeof(*out));
	if ((object = parse_object(line, len, invalid)) == NULL)
		return false;
	if (!json_object_object_get_ex(object, "format", &format) ||
	    !json_object_is_type(format, json_type_string) ||
	    strcmp(json_object_get_string(format), EXPORT_FORMAT) != 0)
		invalid_set(invalid, PROBLEM_INVALID_FIELD, "format",
		    "the first line is not the header of a releasemgr export");
	else if (!json_object_object_get_ex(object, "formatVersion", &version) ||
	    !json_object_is_type(version, json_type_int) ||
	    json_object_get_int64(version) != EXPORT_FORMAT_VERSION)
		invalid_set(invalid, PROBLEM_INVALID_FIELD, "formatVersion",
		    "formatVersion must be %d", EXPORT_FORMAT_VERSION);
	else if (!json_object_object_get_ex(object, "environments",
	    &environments) || !json_object_is_type(environments, json_type_int) ||
	    json_object_get_int64(environments) < 0 ||
	    !json_object_object_get_ex(object, "systemVersions", &total) ||
	    !json_object_is_type(total, json_type_int) ||
	    json_object_get_int64(total) < 0)
		invalid_set(invalid, PROBLEM_INVALID_FIELD, "systemVersions",
		    "environments and systemVersions must be counts");
	else {
		out->environments = (uint64_t)json_object_get_int64(environments);
		out->system_versions = (uint64_t)json_object_get_int64(total);
		ok = true;
	}
	json_object_put(object);
	return ok;
}

/* Reads the createdAt member: an RFC 3339 instant, into milliseconds. */
static bool
take_instant(struct json_object *object, uint64_t *ms, struct invalid *invalid)
{
	struct json_object *value;
	const char *used;

	if (!get_member(object, MEMBER_CREATED_AT, MEMBER_COUNT, &value, &used,
	    invalid))
		return false;
	if (value == NULL || !json_object_is_type(value, json_type_string) ||
	    !parse_instant(json_object_get_string(value),
	    (size_t)json_object_get_string_len(value), ms)) {
		invalid_set(invalid, PROBLEM_INVALID_FIELD, used,
		    "%s must be an RFC 3339 date-time", used);
		return false;
	}
	return true;
}

bool
json_parse_export_change(const char *line, size_t len, struct deploy *deploy,
    struct change_position *position, struct invalid *invalid)
{
	struct json_object *object, *previous;
	bool ok = false;

	memset(deploy, 0, sizeof(*deploy));
	memset(position, 0, sizeof(*position));
	if ((object = parse_object(line, len, invalid)) == NULL)
		return false;
	if (!json_object_object_get_ex(object, "environment", NULL)) {
		invalid_set(invalid, PROBLEM_INVALID_FIELD, "environment",
		    "environment is required");
		goto done;
	}
	if (!take_deploy(object, deploy, invalid) ||
	    !take_integer(object, MEMBER_SYSTEM_VERSION, MEMBER_COUNT, 1,
	    SYSTEM_VERSION_MAX, &position->system_version, invalid) ||
	    !take_instant(object, &position->created_ms, invalid))
		goto done;
	/* previousVersion is required, and null for a new service */
	if (!json_object_object_get_ex(object, "previousVersion", &previous)) {
		invalid_set(invalid, PROBLEM_INVALID_FIELD, "previousVersion",
		    "previousVersion is required (null for a new service)");
		goto done;
	}
	position->has_previous = previous != NULL;
	ok = !position->has_previous || take_integer(object,
	    MEMBER_PREVIOUS_VERSION, MEMBER_COUNT, 0, SERVICE_VERSION_MAX,
	    &position->previous, invalid);
done:
	json_object_put(object);
	return ok;
}
