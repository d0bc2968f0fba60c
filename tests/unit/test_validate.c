/*
 * The validate suite: UTF-8, names, environments, metadata, decimal
 * integers (read and written) and instants, each driven by a table of
 * good and bad inputs. Every input is copied into a buffer of exactly
 * its length, so a read past it is caught under AddressSanitizer and
 * valgrind.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tests.h"
#include "validate.h"

/* One UTF-8 input: whether it is valid, and the length of its first sequence. */
struct utf8_case {
	const char	*label;
	const char	*bytes;
	size_t		 len;
	bool		 valid;
	size_t		 first;
};

#define UTF8(label, lit, valid, first)	{ label, LIT(lit), valid, first }

static const struct utf8_case utf8_cases[] = {
	UTF8("empty", "", true, 0),
	UTF8("ASCII letter", "A", true, 1),
	UTF8("ASCII text", "Service A", true, 1),
	UTF8("NUL alone", "\0", true, 1),
	UTF8("embedded NUL", "a\0b", true, 1),
	UTF8("DEL", "\x7f", true, 1),
	UTF8("U+0080, lowest 2-byte", "\xc2\x80", true, 2),
	UTF8("U+00E9", "\xc3\xa9", true, 2),
	UTF8("U+07FF, highest 2-byte", "\xdf\xbf", true, 2),
	UTF8("U+0800, lowest 3-byte", "\xe0\xa0\x80", true, 3),
	UTF8("U+20AC", "\xe2\x82\xac", true, 3),
	UTF8("U+D7FF, below the surrogates", "\xed\x9f\xbf", true, 3),
	UTF8("U+E000, above the surrogates", "\xee\x80\x80", true, 3),
	UTF8("U+FFFF, highest 3-byte", "\xef\xbf\xbf", true, 3),
	UTF8("U+10000, lowest 4-byte", "\xf0\x90\x80\x80", true, 4),
	UTF8("U+1F600", "\xf0\x9f\x98\x80", true, 4),
	UTF8("U+10FFFF, highest", "\xf4\x8f\xbf\xbf", true, 4),
	UTF8("mixed widths", "A\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80z", true, 1),
	UTF8("overlong NUL C0 80", "\xc0\x80", false, 0),
	UTF8("overlong C1 BF", "\xc1\xbf", false, 0),
	UTF8("overlong E0 80 80", "\xe0\x80\x80", false, 0),
	UTF8("overlong E0 9F BF", "\xe0\x9f\xbf", false, 0),
	UTF8("overlong F0 80 80 80", "\xf0\x80\x80\x80", false, 0),
	UTF8("overlong F0 8F BF BF", "\xf0\x8f\xbf\xbf", false, 0),
	UTF8("surrogate ED A0 80", "\xed\xa0\x80", false, 0),
	UTF8("surrogate ED AD BF", "\xed\xad\xbf", false, 0),
	UTF8("surrogate ED B0 80", "\xed\xb0\x80", false, 0),
	UTF8("surrogate ED BF BF", "\xed\xbf\xbf", false, 0),
	UTF8("surrogate pair in UTF-8", "\xed\xa0\xbd\xed\xb8\x80", false, 0),
	UTF8("F4 90 80 80, above U+10FFFF", "\xf4\x90\x80\x80", false, 0),
	UTF8("F4 BF BF BF", "\xf4\xbf\xbf\xbf", false, 0),
	UTF8("F5 lead byte", "\xf5\x80\x80\x80", false, 0),
	UTF8("F7 lead byte", "\xf7\xbf\xbf\xbf", false, 0),
	UTF8("F8 5-byte form", "\xf8\x88\x80\x80\x80", false, 0),
	UTF8("FC 6-byte form", "\xfc\x84\x80\x80\x80\x80", false, 0),
	UTF8("FE", "\xfe", false, 0),
	UTF8("FF", "\xff", false, 0),
	UTF8("truncated 2-byte", "\xc3", false, 0),
	UTF8("truncated 3-byte after 1", "\xe2", false, 0),
	UTF8("truncated 3-byte after 2", "\xe2\x82", false, 0),
	UTF8("truncated 4-byte after 3", "\xf0\x9f\x98", false, 0),
	UTF8("truncated then ASCII", "\xe2\x82" "A", false, 0),
	UTF8("truncated at the end", "ab\xc3", false, 1),
	UTF8("stray continuation 80", "\x80", false, 0),
	UTF8("stray continuation BF", "\xbf", false, 0),
	UTF8("stray continuation after ASCII", "A\x80", false, 1),
	UTF8("extra continuation", "\xc3\xa9\xa9", false, 2),
	UTF8("bad 2nd byte of 2", "\xc3\x41", false, 0),
	UTF8("bad 3rd byte of 3", "\xe2\x82\x41", false, 0),
	UTF8("bad 4th byte of 4", "\xf0\x9f\x98\x41", false, 0),
	UTF8("lead byte as 2nd", "\xe2\xc3\xa9", false, 0),
};

static void
test_utf8_table(void)
{
	char shown[128];

	for (size_t i = 0; i < sizeof(utf8_cases) / sizeof(utf8_cases[0]); i++) {
		const struct utf8_case *c = &utf8_cases[i];
		char *s = copy_exact(c->bytes, c->len);
		size_t first;

		if (!CHECK(s != NULL, "out of memory"))
			return;
		printable(c->bytes, c->len, shown, sizeof(shown));
		CHECK(utf8_valid(s, c->len) == c->valid,
		    "utf8_valid, case '%s' [%s]: expected %s", c->label, shown,
		    c->valid ? "valid" : "invalid");
		first = utf8_sequence_length(s, c->len);
		CHECK(first == c->first, "utf8_sequence_length, case '%s' [%s]: "
		    "got %zu, expected %zu", c->label, shown, first, c->first);
		free(s);
	}
}

/* A well-formed sequence cut short by len is not a sequence. */
static void
test_utf8_respects_len(void)
{
	static const struct {
		const char	*bytes;
		size_t		 full;
	} seqs[] = {
		{ "\xc3\xa9", 2 },
		{ "\xe2\x82\xac", 3 },
		{ "\xf0\x9f\x98\x80", 4 },
	};

	for (size_t i = 0; i < sizeof(seqs) / sizeof(seqs[0]); i++)
		for (size_t len = 1; len < seqs[i].full; len++) {
			char *s = copy_exact(seqs[i].bytes, len);

			if (!CHECK(s != NULL, "out of memory"))
				return;
			CHECK(utf8_sequence_length(s, len) == 0,
			    "%zu-byte sequence given %zu bytes", seqs[i].full, len);
			CHECK(!utf8_valid(s, len),
			    "%zu-byte sequence given %zu bytes", seqs[i].full, len);
			free(s);
		}
	/* and len 0 reads nothing at all */
	CHECK(utf8_sequence_length("A", 0) == 0, "len 0");
	CHECK(utf8_valid("\xff", 0), "len 0 is the empty string");
}

/* Every code point, encoded by the test, is valid; every surrogate is not. */
static void
test_utf8_every_code_point(void)
{
	unsigned bad_valid = 0, bad_invalid = 0;
	uint32_t first_bad = 0;

	for (uint32_t cp = 0; cp <= 0x10FFFF; cp++) {
		unsigned char b[4];
		size_t n;
		bool surrogate = cp >= 0xD800 && cp <= 0xDFFF;

		if (cp < 0x80) {
			b[0] = (unsigned char)cp;
			n = 1;
		} else if (cp < 0x800) {
			b[0] = (unsigned char)(0xC0 | cp >> 6);
			b[1] = (unsigned char)(0x80 | (cp & 0x3F));
			n = 2;
		} else if (cp < 0x10000) {
			b[0] = (unsigned char)(0xE0 | cp >> 12);
			b[1] = (unsigned char)(0x80 | (cp >> 6 & 0x3F));
			b[2] = (unsigned char)(0x80 | (cp & 0x3F));
			n = 3;
		} else {
			b[0] = (unsigned char)(0xF0 | cp >> 18);
			b[1] = (unsigned char)(0x80 | (cp >> 12 & 0x3F));
			b[2] = (unsigned char)(0x80 | (cp >> 6 & 0x3F));
			b[3] = (unsigned char)(0x80 | (cp & 0x3F));
			n = 4;
		}
		if (surrogate ? utf8_sequence_length((const char *)b, n) != 0 :
		    utf8_sequence_length((const char *)b, n) != n) {
			if (bad_valid + bad_invalid == 0)
				first_bad = cp;
			if (surrogate)
				bad_invalid++;
			else
				bad_valid++;
		}
	}
	CHECK(bad_valid == 0 && bad_invalid == 0, "%u code points rejected, "
	    "%u surrogates accepted; first wrong: U+%04X", bad_valid,
	    bad_invalid, (unsigned)first_bad);
}

/* One input of a check_* function; why_has is a word the refusal must hold. */
struct text_case {
	const char	*label;
	const char	*bytes;
	size_t		 len;
	bool		 ok;
	const char	*why_has;
};

#define TEXT(label, lit, ok, why)	{ label, LIT(lit), ok, why }

/* Runs a table of cases through check, which is named fn in messages. */
static void
run_text_cases(const char *fn, const char *(*check)(const char *, size_t),
    const struct text_case *cases, size_t count)
{
	char shown[128];

	for (size_t i = 0; i < count; i++) {
		const struct text_case *c = &cases[i];
		char *s = copy_exact(c->bytes, c->len);
		const char *why;

		if (!CHECK(s != NULL, "out of memory"))
			return;
		printable(c->bytes, c->len > 40 ? 40 : c->len, shown,
		    sizeof(shown));
		why = check(s, c->len);
		if (c->ok)
			CHECK(why == NULL, "%s, case '%s' [%s] (%zu bytes): "
			    "refused: %s", fn, c->label, shown, c->len,
			    why != NULL ? why : "");
		else if (CHECK(why != NULL, "%s, case '%s' [%s] (%zu bytes): "
		    "accepted", fn, c->label, shown, c->len))
			CHECK(c->why_has == NULL || strstr(why, c->why_has) != NULL,
			    "%s, case '%s': the reason '%s' does not say '%s'",
			    fn, c->label, why, c->why_has);
		free(s);
	}
}

/* Fills buf with count copies of unit (unit_len bytes); returns the length. */
static size_t
repeat(char *buf, const char *unit, size_t unit_len, size_t count)
{
	for (size_t i = 0; i < count; i++)
		memcpy(buf + i * unit_len, unit, unit_len);
	return count * unit_len;
}

static void
test_check_service_name(void)
{
	static const struct text_case cases[] = {
		TEXT("empty", "", false, "empty"),
		TEXT("plain", "Service A", true, NULL),
		TEXT("one byte", "x", true, NULL),
		TEXT("punctuation", "svc/api:v1 (eu-west) #2 \"q\" \\", true, NULL),
		TEXT("non-ASCII", "Dienst \xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80",
		    true, NULL),
		TEXT("SOH", "\x01", false, "control"),
		TEXT("US inside", "a\x1f" "b", false, "control"),
		TEXT("DEL", "a\x7f", false, "control"),
		TEXT("tab", "a\tb", false, "control"),
		TEXT("newline", "a\n", false, "control"),
		TEXT("carriage return", "\ra", false, "control"),
		TEXT("embedded NUL", "a\0b", false, "control"),
		TEXT("invalid UTF-8 FF", "a\xff", false, "UTF-8"),
		TEXT("overlong C0 80", "\xc0\x80", false, "UTF-8"),
		TEXT("surrogate", "\xed\xa0\x80", false, "UTF-8"),
		TEXT("truncated", "ab\xe2\x82", false, "UTF-8"),
	};
	static char a256[256], a257[257], e256[256], e258[258], eu256[256],
	    emoji256[256], emoji260[260], mixed257[257];
	struct text_case sized[] = {
		{ "256 ASCII bytes", a256, repeat(a256, "a", 1, 256), true, NULL },
		{ "257 ASCII bytes", a257, repeat(a257, "a", 1, 257), false, "256" },
		{ "128 x U+00E9 = 256 bytes", e256,
		    repeat(e256, "\xc3\xa9", 2, 128), true, NULL },
		{ "129 x U+00E9 = 258 bytes", e258,
		    repeat(e258, "\xc3\xa9", 2, 129), false, "256" },
		{ "85 x U+20AC + 'a' = 256 bytes", eu256,
		    repeat(eu256, "\xe2\x82\xac", 3, 85) + 1, true, NULL },
		{ "64 x U+1F600 = 256 bytes", emoji256,
		    repeat(emoji256, "\xf0\x9f\x98\x80", 4, 64), true, NULL },
		{ "65 x U+1F600 = 260 bytes", emoji260,
		    repeat(emoji260, "\xf0\x9f\x98\x80", 4, 65), false, "256" },
		{ "255 ASCII + U+00E9 = 257 bytes", mixed257,
		    repeat(mixed257, "a", 1, 255) + 2, false, "256" },
	};

	eu256[255] = 'a';
	memcpy(mixed257 + 255, "\xc3\xa9", 2);
	run_text_cases("check_service_name", check_service_name, cases,
	    sizeof(cases) / sizeof(cases[0]));
	run_text_cases("check_service_name", check_service_name, sized,
	    sizeof(sized) / sizeof(sized[0]));
}

static void
test_check_environment(void)
{
	static const struct text_case cases[] = {
		TEXT("default", "default", true, NULL),
		TEXT("prod", "prod", true, NULL),
		TEXT("every class", "Az09._-", true, NULL),
		TEXT("dot", ".", true, NULL),
		TEXT("dot dot", "..", true, NULL),
		TEXT("dash", "-", true, NULL),
		TEXT("underscore", "_", true, NULL),
		TEXT("64 characters",
		    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-",
		    true, NULL),
		TEXT("65 characters",
		    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_",
		    false, "64"),
		TEXT("empty", "", false, "empty"),
		TEXT("space", "a b", false, NULL),
		TEXT("slash", "a/b", false, NULL),
		TEXT("backslash", "a\\b", false, NULL),
		TEXT("plus", "a+b", false, NULL),
		TEXT("colon", "a:b", false, NULL),
		TEXT("percent", "a%20", false, NULL),
		TEXT("tab", "a\tb", false, NULL),
		TEXT("embedded NUL", "a\0b", false, NULL),
		TEXT("U+00E9", "\xc3\xa9", false, NULL),
		TEXT("prod + U+00E9", "prod\xc3\xa9", false, NULL),
		TEXT("byte FF", "\xff", false, NULL),
	};

	run_text_cases("check_environment", check_environment, cases,
	    sizeof(cases) / sizeof(cases[0]));
}

static void
test_check_metadata(void)
{
	static const struct text_case cases[] = {
		TEXT("empty", "", true, NULL),
		TEXT("plain", "ci-bot", true, NULL),
		TEXT("sentence", "fix: the \"login\" bug, see #42 / \\o/", true, NULL),
		TEXT("non-ASCII", "J\xc3\xbcrgen \xf0\x9f\x9a\x80", true, NULL),
		TEXT("SOH", "\x01", false, "control"),
		TEXT("tab", "a\tb", false, "control"),
		TEXT("newline", "line 1\nline 2", false, "control"),
		TEXT("DEL", "\x7f", false, "control"),
		TEXT("embedded NUL", "a\0", false, "control"),
		TEXT("invalid UTF-8", "\xc3(", false, "UTF-8"),
		TEXT("surrogate", "\xed\xbf\xbf", false, "UTF-8"),
	};
	static char m256[256], m257[257], e256[256], e258[258];
	struct text_case sized[] = {
		{ "256 bytes", m256, repeat(m256, "m", 1, 256), true, NULL },
		{ "257 bytes", m257, repeat(m257, "m", 1, 257), false, "256" },
		{ "128 x U+00E9 = 256 bytes", e256,
		    repeat(e256, "\xc3\xa9", 2, 128), true, NULL },
		{ "129 x U+00E9 = 258 bytes", e258,
		    repeat(e258, "\xc3\xa9", 2, 129), false, "256" },
	};

	run_text_cases("check_metadata", check_metadata, cases,
	    sizeof(cases) / sizeof(cases[0]));
	run_text_cases("check_metadata", check_metadata, sized,
	    sizeof(sized) / sizeof(sized[0]));
}

static void
test_check_event_id(void)
{
	static const struct text_case cases[] = {
		TEXT("empty", "", false, "empty"),
		TEXT("one byte", "x", true, NULL),
		TEXT("uuid", "3f2b8c1e-7d4a-4b9e-9c1f-0a2b3c4d5e6f", true, NULL),
		TEXT("punctuation", "k8s/prod:deploy/api#17 \"q\" %2F", true, NULL),
		TEXT("non-ASCII", "\xc3\xa9v\xc3\xa9nement \xf0\x9f\x9a\x80", true,
		    NULL),
		TEXT("tab", "a\tb", false, "control"),
		TEXT("newline", "a\n", false, "control"),
		TEXT("DEL", "\x7f", false, "control"),
		TEXT("embedded NUL", "a\0b", false, "control"),
		TEXT("invalid UTF-8", "\xc3(", false, "UTF-8"),
		TEXT("surrogate", "\xed\xa0\x80", false, "UTF-8"),
	};
	static char a128[128], a129[129], e128[128], e130[130];
	struct text_case sized[] = {
		{ "128 bytes", a128, repeat(a128, "a", 1, 128), true, NULL },
		{ "129 bytes", a129, repeat(a129, "a", 1, 129), false, "128" },
		{ "64 x U+00E9 = 128 bytes", e128,
		    repeat(e128, "\xc3\xa9", 2, 64), true, NULL },
		{ "65 x U+00E9 = 130 bytes", e130,
		    repeat(e130, "\xc3\xa9", 2, 65), false, "128" },
	};

	run_text_cases("check_event_id", check_event_id, cases,
	    sizeof(cases) / sizeof(cases[0]));
	run_text_cases("check_event_id", check_event_id, sized,
	    sizeof(sized) / sizeof(sized[0]));
}

/* One parse_decimal input with its bounds and outcome. */
struct decimal_case {
	const char	*text;
	uint64_t	 min, max;
	bool		 ok;
	uint64_t	 value;
};

static void
test_parse_decimal(void)
{
	static const struct decimal_case cases[] = {
		{ "0", 0, UINT64_MAX, true, 0 },
		{ "1", 0, UINT64_MAX, true, 1 },
		{ "7", 0, 9, true, 7 },
		{ "10", 0, UINT64_MAX, true, 10 },
		{ "1234567890", 0, UINT64_MAX, true, 1234567890 },
		{ "9007199254740991", 1, UINT64_C(9007199254740991), true,
		    UINT64_C(9007199254740991) },
		{ "9007199254740992", 1, UINT64_C(9007199254740991), false, 0 },
		{ "18446744073709551615", 0, UINT64_MAX, true, UINT64_MAX },
		{ "18446744073709551616", 0, UINT64_MAX, false, 0 },
		{ "18446744073709551620", 0, UINT64_MAX, false, 0 },
		{ "99999999999999999999", 0, UINT64_MAX, false, 0 },
		{ "184467440737095516150", 0, UINT64_MAX, false, 0 },
		{ "01", 0, UINT64_MAX, false, 0 },
		{ "00", 0, UINT64_MAX, false, 0 },
		{ "007", 0, UINT64_MAX, false, 0 },
		{ "", 0, UINT64_MAX, false, 0 },
		{ "+1", 0, UINT64_MAX, false, 0 },
		{ "-1", 0, UINT64_MAX, false, 0 },
		{ "-0", 0, UINT64_MAX, false, 0 },
		{ " 1", 0, UINT64_MAX, false, 0 },
		{ "1 ", 0, UINT64_MAX, false, 0 },
		{ "1\n", 0, UINT64_MAX, false, 0 },
		{ "1.5", 0, UINT64_MAX, false, 0 },
		{ "1.0", 0, UINT64_MAX, false, 0 },
		{ "1e1", 0, UINT64_MAX, false, 0 },
		{ "0x1", 0, UINT64_MAX, false, 0 },
		{ "1a", 0, UINT64_MAX, false, 0 },
		{ "a", 0, UINT64_MAX, false, 0 },
		{ "1,000", 0, UINT64_MAX, false, 0 },
		{ "\xd9\xa1", 0, UINT64_MAX, false, 0 },	/* ARABIC-INDIC ONE */
		/* bounds */
		{ "0", 1, 10, false, 0 },
		{ "1", 1, 10, true, 1 },
		{ "10", 1, 10, true, 10 },
		{ "11", 1, 10, false, 0 },
		{ "5", 5, 5, true, 5 },
		{ "4", 5, 5, false, 0 },
		{ "6", 5, 5, false, 0 },
		{ "65", 1, 64, false, 0 },
		{ "64", 1, 64, true, 64 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct decimal_case *c = &cases[i];
		size_t len = strlen(c->text);
		char *s = copy_exact(c->text, len);
		uint64_t out = UINT64_C(0xDEADBEEF);
		bool ok;

		if (!CHECK(s != NULL, "out of memory"))
			return;
		ok = parse_decimal(s, len, c->min, c->max, &out);
		if (c->ok)
			CHECK(ok && out == c->value, "parse_decimal(\"%s\", %llu, "
			    "%llu): got %s %llu, expected %llu", c->text,
			    (unsigned long long)c->min, (unsigned long long)c->max,
			    ok ? "true" : "false", (unsigned long long)out,
			    (unsigned long long)c->value);
		else
			CHECK(!ok && out == UINT64_C(0xDEADBEEF),
			    "parse_decimal(\"%s\", %llu, %llu): got %s %llu, "
			    "expected false and *out untouched", c->text,
			    (unsigned long long)c->min, (unsigned long long)c->max,
			    ok ? "true" : "false", (unsigned long long)out);
		free(s);
	}
}

/* parse_decimal reads exactly len bytes, whatever follows them. */
static void
test_parse_decimal_respects_len(void)
{
	uint64_t out = 0;

	CHECK(parse_decimal("123abc", 3, 0, UINT64_MAX, &out) && out == 123,
	    "the first 3 bytes of \"123abc\": got %llu", (unsigned long long)out);
	CHECK(parse_decimal("42", 1, 0, UINT64_MAX, &out) && out == 4,
	    "the first byte of \"42\": got %llu", (unsigned long long)out);
	CHECK(!parse_decimal("5", 0, 0, UINT64_MAX, &out), "zero bytes");
}

/* format_uint: numbers of every width, as parse_decimal reads them back. */
static void
test_format_uint(void)
{
	static const struct {
		uint64_t	 value;
		const char	*text;
	} cases[] = {
		{ 0, "0" },
		{ 9, "9" },
		{ 10, "10" },
		{ 100, "100" },
		{ 1234567890, "1234567890" },
		{ UINT64_C(9007199254740991), "9007199254740991" },
		{ UINT64_MAX, "18446744073709551615" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char out[UINT_DIGITS_MAX];
		size_t n = format_uint(cases[i].value, out);
		uint64_t back = 0;

		CHECK(n == strlen(cases[i].text) &&
		    memcmp(out, cases[i].text, n) == 0 &&
		    parse_decimal(out, n, 0, UINT64_MAX, &back) &&
		    back == cases[i].value, "format_uint(%s): got %.*s",
		    cases[i].text, (int)n, out);
	}
}

/* One parse_instant case: the text, and the milliseconds when it is valid. */
struct instant_case {
	const char	*text;
	bool		 ok;
	uint64_t	 ms;
};

static void
test_parse_instant(void)
{
	static const struct instant_case cases[] = {
		{ "1970-01-01T00:00:00Z", true, 0 },
		{ "2026-11-22T10:15:03.042Z", true, UINT64_C(1795342503042) },
		{ "2026-11-22t10:15:03.042z", true, UINT64_C(1795342503042) },
		{ "2026-11-22T12:15:03+02:00", true, UINT64_C(1795342503000) },
		{ "2026-11-22T05:15:03.5-05:00", true, UINT64_C(1795342503500) },
		/* digits past the millisecond are cut, never rounded up */
		{ "2026-11-22T10:15:03.042999999Z", true, UINT64_C(1795342503042) },
		{ "2024-02-29T23:59:59.999Z", true, UINT64_C(1709251199999) },
		{ "2000-03-01T00:00:00Z", true, UINT64_C(951868800000) },
		{ "2100-12-31T23:59:59Z", true, UINT64_C(4133980799000) },
		{ "1970-01-01T01:00:00+01:00", true, 0 },
		/* a leap second is the last second of its minute */
		{ "2016-12-31T23:59:60Z", true, UINT64_C(1483228799000) },
		{ "1969-12-31T23:59:59Z", false, 0 },
		{ "1970-01-01T00:00:00+00:01", false, 0 },
		/* the last instant with a four-digit year in UTC, and past it */
		{ "9999-12-31T23:59:59.999Z", true, UINT64_C(253402300799999) },
		{ "9999-12-31T23:59:59-00:01", false, 0 },
		{ "9999-12-31T22:59:60-23:59", false, 0 },
		{ "2023-02-29T00:00:00Z", false, 0 },
		{ "2100-02-29T00:00:00Z", false, 0 },
		{ "2026-04-31T00:00:00Z", false, 0 },
		{ "2026-13-01T00:00:00Z", false, 0 },
		{ "2026-00-01T00:00:00Z", false, 0 },
		{ "2026-11-00T00:00:00Z", false, 0 },
		{ "2026-11-22T24:00:00Z", false, 0 },
		{ "2026-11-22T10:60:00Z", false, 0 },
		{ "2026-11-22T10:15:61Z", false, 0 },
		{ "2026-11-22T10:15:03", false, 0 },
		{ "2026-11-22T10:15:03.Z", false, 0 },
		{ "2026-11-22T10:15:03.042", false, 0 },
		{ "2026-11-22 10:15:03Z", false, 0 },
		{ "2026-11-22", false, 0 },
		{ "2026-11-22T10:15Z", false, 0 },
		{ "2026-11-22T10:15:03+0200", false, 0 },
		{ "2026-11-22T10:15:03+02", false, 0 },
		{ "2026-11-22T10:15:03+24:00", false, 0 },
		{ "2026-11-22T10:15:03Z ", false, 0 },
		{ " 2026-11-22T10:15:03Z", false, 0 },
		{ "+2026-11-22T10:15:03Z", false, 0 },
		{ "2026-1-22T10:15:03Z", false, 0 },
		{ "2026-11-22T10:15:03ZZ", false, 0 },
		{ "", false, 0 },
		{ "now", false, 0 },
		{ "1795342503042", false, 0 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint64_t ms = UINT64_C(0xDEAD);
		bool ok = parse_instant(cases[i].text, strlen(cases[i].text),
		    &ms);

		CHECK(ok == cases[i].ok && (!ok || ms == cases[i].ms),
		    "parse_instant(\"%s\"): %s %llu, expected %s %llu",
		    cases[i].text, ok ? "ok" : "refused",
		    (unsigned long long)ms, cases[i].ok ? "ok" : "refused",
		    (unsigned long long)cases[i].ms);
	}
	/* only len bytes are read */
	CHECK(!parse_instant("2026-11-22T10:15:03Z", 19, &(uint64_t){ 0 }),
	    "the first 19 bytes are no instant");
}

/* A deploy that every check accepts, to spoil one member at a time. */
static void
good_deploy(struct deploy *deploy)
{
	memset(deploy, 0, sizeof(*deploy));
	memcpy(deploy->environment, "prod", 5);
	memcpy(deploy->name, "api", 4);
	deploy->name_len = 3;
	deploy->version = 7;
	deploy->key.has_event_id = true;
	deploy->key.event_id_len = 2;
	memcpy(deploy->key.event_id, "e1", 3);
	deploy->key.has_sequence = true;
	deploy->key.sequence = SEQUENCE_MAX;
	deploy->deployed_by.present = true;
	deploy->deployed_by.len = 2;
	memcpy(deploy->deployed_by.text, "ci", 3);
}

/* deploy_valid: what another site hands over is checked member by member. */
static void
test_deploy_valid(void)
{
	struct deploy d;

	good_deploy(&d);
	CHECK(deploy_valid(&d), "a good deploy");
	good_deploy(&d);
	d.version = SERVICE_VERSION_MAX + 1;
	CHECK(!deploy_valid(&d), "a version too large");
	good_deploy(&d);
	d.removal = true;
	CHECK(!deploy_valid(&d), "a removal with a version");
	d.version = 0;
	CHECK(deploy_valid(&d), "a removal");
	good_deploy(&d);
	d.name_len = 0;
	CHECK(!deploy_valid(&d), "an empty name");
	good_deploy(&d);
	d.name[1] = '\xff';
	CHECK(!deploy_valid(&d), "a name that is not UTF-8");
	good_deploy(&d);
	d.environment[0] = ' ';
	CHECK(!deploy_valid(&d), "a bad environment");
	good_deploy(&d);
	d.key.event_id_len = 0;
	CHECK(!deploy_valid(&d), "an empty eventId");
	good_deploy(&d);
	d.key.sequence = SEQUENCE_MAX + 1;
	CHECK(!deploy_valid(&d), "a sequence too large");
	good_deploy(&d);
	d.key.has_deployed_at = true;
	d.key.deployed_at_ms = UINT64_C(253402300800000);
	CHECK(!deploy_valid(&d), "an instant past 9999");
	good_deploy(&d);
	d.deployed_by.len = METADATA_MAX + 1;
	CHECK(!deploy_valid(&d), "metadata too long");
}

/* request_id_valid: exactly nginx's 32 lowercase hexadecimal digits. */
static void
test_request_id(void)
{
	static const struct {
		const char	*label;
		const char	*s;
		size_t		 len;
		bool		 ok;
	} cases[] = {
		{ "nginx's", LIT("0123456789abcdef0123456789abcdef"), true },
		{ "all f", LIT("ffffffffffffffffffffffffffffffff"), true },
		{ "empty", LIT(""), false },
		{ "31 digits", LIT("0123456789abcdef0123456789abcde"), false },
		{ "33 digits", LIT("0123456789abcdef0123456789abcdef0"), false },
		{ "upper case", LIT("0123456789ABCDEF0123456789abcdef"), false },
		{ "g", LIT("0123456789abcdef0123456789abcdeg"), false },
		{ "a UUID", LIT("3f2b8c1e-7d4a-4b9e-9c1f-0a2b3c4d"), false },
		{ "a NUL", LIT("0123456789abcdef\0" "123456789abcdef"), false },
		{ "a space", LIT("0123456789abcdef0123456789abcde "), false },
		{ "a quote", LIT("0123456789abcdef0123456789abcde\""), false },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *copy = copy_exact(cases[i].s, cases[i].len);

		CHECK(request_id_valid(copy, cases[i].len) == cases[i].ok,
		    "%s: %s", cases[i].label, cases[i].ok ? "refused" :
		    "accepted");
		free(copy);
	}
}

static const CU_TestInfo validate_tests[] = {
	{ "utf8 table", test_utf8_table },
	{ "utf8 respects len", test_utf8_respects_len },
	{ "utf8 every code point", test_utf8_every_code_point },
	{ "check_service_name", test_check_service_name },
	{ "check_environment", test_check_environment },
	{ "check_metadata", test_check_metadata },
	{ "check_event_id", test_check_event_id },
	{ "parse_decimal", test_parse_decimal },
	{ "parse_decimal respects len", test_parse_decimal_respects_len },
	{ "format_uint", test_format_uint },
	{ "parse_instant", test_parse_instant },
	{ "deploy_valid", test_deploy_valid },
	{ "request_id_valid", test_request_id },
	CU_TEST_INFO_NULL,
};

int
add_validate_suite(void)
{
	return add_suite_with_tests("validate", NULL, NULL, validate_tests);
}
