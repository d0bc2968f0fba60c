/*
 * The badge suite: badge_render over a table of environments and system
 * versions. Environment names are [A-Za-z0-9._-], so nothing in a badge
 * needs escaping: each SVG must be printable ASCII, balanced tag by tag,
 * and hold its texts and widths.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "badge.h"
#include "tests.h"

#define SVG_OPEN	"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\""
#define ENV_64 \
	"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._"

static const struct badge_case {
	const char	*environment;
	uint64_t	 system_version;
	const char	*value;		/* the text on the right */
	int		 width;		/* 118 px of label, 20 + 7 a character */
} badge_cases[] = {
	{ "default", 42, "42", 152 },
	{ "default", 1, "1", 145 },
	{ "default", 0, "none", 166 },
	{ "prod-eu_1.x", UINT64_C(9007199254740991), "9007199254740991", 250 },
	{ ENV_64, 7, "7", 145 },
	{ "a", 1000, "1000", 166 },
};

/*
 * True when the tags of svg (len bytes) nest: each <name ...> closed by
 * its </name> in order, or closing itself with />; no '<' or '>' outside
 * a tag.
 */
static bool
tags_balanced(const char *svg, size_t len)
{
	char open[8][16];
	size_t depth = 0, i = 0;

	while (i < len) {
		const char *end;
		size_t name_len;
		bool closing, empty;

		if (svg[i] == '>')
			return false;
		if (svg[i] != '<') {
			i++;
			continue;
		}
		if ((end = memchr(svg + i, '>', len - i)) == NULL ||
		    memchr(svg + i + 1, '<', (size_t)(end - svg) - i - 1) != NULL)
			return false;
		closing = svg[i + 1] == '/';
		empty = end[-1] == '/';
		name_len = strcspn(svg + i + 1 + closing, " />");
		if (name_len == 0 || name_len >= sizeof(open[0]))
			return false;
		if (closing) {
			if (depth == 0 || strlen(open[depth - 1]) != name_len ||
			    memcmp(open[depth - 1], svg + i + 2, name_len) != 0)
				return false;
			depth--;
		} else if (!empty) {
			if (depth == sizeof(open) / sizeof(open[0]))
				return false;
			memcpy(open[depth], svg + i + 1, name_len);
			open[depth++][name_len] = '\0';
		}
		i = (size_t)(end - svg) + 1;
	}
	return depth == 0;
}

/* True when len bytes of svg hold the text want. */
static bool
holds(const char *svg, size_t len, const char *want)
{
	size_t want_len = strlen(want);

	for (size_t i = 0; i + want_len <= len; i++)
		if (memcmp(svg + i, want, want_len) == 0)
			return true;
	return false;
}

/* Every case: printable, an <svg> document, its texts and its width. */
static void
test_render(void)
{
	char want[256], shown[64];

	for (size_t i = 0; i < sizeof(badge_cases) / sizeof(badge_cases[0]);
	    i++) {
		const struct badge_case *c = &badge_cases[i];
		size_t len = 0, bad = 0;
		char *svg = badge_render(c->environment, c->system_version,
		    &len);
		bool printable_only = true;

		if (!CHECK(svg != NULL, "%s %s: NULL", c->environment, c->value))
			continue;
		CHECK(len == strlen(svg), "%s %s: len %zu for %zu bytes",
		    c->environment, c->value, len, strlen(svg));
		for (size_t k = 0; k < len && printable_only; k++)
			if ((svg[k] < 0x20 || svg[k] > 0x7e) && svg[k] != '\n') {
				printable_only = false;
				bad = k;
			}
		CHECK(printable_only, "%s %s: byte %zu is %s", c->environment,
		    c->value, bad, printable(svg + bad, 1, shown, sizeof(shown)));
		snprintf(want, sizeof(want), SVG_OPEN "%d\"", c->width);
		CHECK(len > strlen(want) && memcmp(svg, want, strlen(want)) == 0,
		    "%s %s: does not start with %s: %.80s", c->environment,
		    c->value, want, svg);
		CHECK((len >= 7 && memcmp(svg + len - 7, "</svg>\n", 7) == 0) ||
		    (len >= 6 && memcmp(svg + len - 6, "</svg>", 6) == 0),
		    "%s %s: does not end with </svg>", c->environment, c->value);
		CHECK(len - 1 == strcspn(svg, "\n") || len == strcspn(svg, "\n"),
		    "%s %s: a line end before the last byte", c->environment,
		    c->value);
		CHECK(tags_balanced(svg, len), "%s %s: tags do not nest: %s",
		    c->environment, c->value, svg);
		snprintf(want, sizeof(want), "<title>system version of %s: %s"
		    "</title>", c->environment, c->value);
		CHECK(holds(svg, len, want), "%s %s: no %s", c->environment,
		    c->value, want);
		snprintf(want, sizeof(want), "aria-label=\"system version of "
		    "%s: %s\"", c->environment, c->value);
		CHECK(holds(svg, len, want), "%s %s: no %s", c->environment,
		    c->value, want);
		CHECK(holds(svg, len, ">system version</text>"),
		    "%s %s: no label text", c->environment, c->value);
		snprintf(want, sizeof(want), ">%s</text>", c->value);
		CHECK(holds(svg, len, want), "%s %s: no %s", c->environment,
		    c->value, want);
		CHECK(!holds(svg, len, "<script") && !holds(svg, len, "href"),
		    "%s %s: a script or a link", c->environment, c->value);
		free(svg);
	}
}

/* The nesting check itself refuses what is not balanced. */
static void
test_tags_balanced(void)
{
	static const struct {
		const char	*text;
		bool		 ok;
	} cases[] = {
		{ "<svg><g><text>1</text></g></svg>", true },
		{ "<svg a=\"b\"><rect x=\"1\"/></svg>\n", true },
		{ "<svg><g></svg></g>", false },
		{ "<svg><text>1</svg>", false },
		{ "<svg>", false },
		{ "</svg>", false },
		{ "<svg>a > b</svg>", false },
		{ "<svg><</svg>", false },
		{ "<svg", false },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		CHECK(tags_balanced(cases[i].text, strlen(cases[i].text)) ==
		    cases[i].ok, "'%s': expected %s", cases[i].text,
		    cases[i].ok ? "balanced" : "refused");
}

static const CU_TestInfo badge_tests[] = {
	{ "badge_render table", test_render },
	{ "the suite's tag check", test_tags_balanced },
	CU_TEST_INFO_NULL,
};

int
add_badge_suite(void)
{
	return add_suite_with_tests("badge", NULL, NULL, badge_tests);
}
