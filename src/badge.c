/*
 * The SVG badge of an environment's system version ("system version | 42"),
 * for status pages and READMEs: a self-contained image with no scripts.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "badge.h"

#define CHAR_WIDTH	7	/* px per character of 11px Verdana, roughly */
#define PADDING		10	/* px around each text */
#define BADGE_MAX	2048	/* bytes of the whole SVG */

/* Writes text escaped for XML character data and attributes into out. */
static void
xml_escape(const char *text, char *out, size_t cap)
{
	size_t n = 0;

	for (; *text != '\0'; text++) {
		const char *entity = NULL;
		char one[2] = { *text, '\0' };

		switch (*text) {
		case '&': entity = "&amp;"; break;
		case '<': entity = "&lt;"; break;
		case '>': entity = "&gt;"; break;
		case '"': entity = "&quot;"; break;
		case '\'': entity = "&apos;"; break;
		default: entity = one; break;
		}
		if (n + strlen(entity) >= cap)
			break;
		memcpy(out + n, entity, strlen(entity));
		n += strlen(entity);
	}
	out[n] = '\0';
}

char *
badge_render(const char *environment, uint64_t system_version, size_t *len)
{
	static const char label[] = "system version";
	/* an entity is at most 6 bytes for each byte of the title */
	char value[24], title[64 + ENVIRONMENT_MAX], escaped[6 * sizeof(title)];
	char *svg;
	int label_width, value_width, n;

	if (system_version == 0)
		snprintf(value, sizeof(value), "none");
	else
		snprintf(value, sizeof(value), "%llu",
		    (unsigned long long)system_version);
	snprintf(title, sizeof(title), "%s of %s: %s", label, environment, value);
	xml_escape(title, escaped, sizeof(escaped));
	label_width = (int)(sizeof(label) - 1) * CHAR_WIDTH + 2 * PADDING;
	value_width = (int)strlen(value) * CHAR_WIDTH + 2 * PADDING;
	if ((svg = malloc(BADGE_MAX)) == NULL)
		return NULL;
	n = snprintf(svg, BADGE_MAX,
	    "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" "
	    "height=\"20\" role=\"img\" aria-label=\"%s\">"
	    "<title>%s</title>"
	    "<rect width=\"%d\" height=\"20\" rx=\"3\" fill=\"#555\"/>"
	    "<rect x=\"%d\" width=\"%d\" height=\"20\" rx=\"3\" fill=\"#2a7ab0\"/>"
	    "<g fill=\"#fff\" font-family=\"Verdana,DejaVu Sans,sans-serif\" "
	    "font-size=\"11\" text-anchor=\"middle\">"
	    "<text x=\"%d\" y=\"14\">%s</text>"
	    "<text x=\"%d\" y=\"14\">%s</text></g></svg>\n",
	    label_width + value_width, escaped, escaped,
	    label_width + value_width, label_width, value_width,
	    label_width / 2, label, label_width + value_width / 2, value);
	if (n < 0 || n >= BADGE_MAX) {
		free(svg);
		return NULL;
	}
	*len = (size_t)n;
	return svg;
}
