/*
 * JSON in: bodies and export lines are read in one pass, without json-c,
 * by the RFC 8259 scanner of json_scan.c. Here are the tables of their
 * members (what each value must be, where it goes, how it is refused) and
 * the parsers that scan a text with them, then report its first problem
 * in the tables' order.
 */
#include <stddef.h>
#include <string.h>

#include "json_parse.h"
#include "json_parse_private.h"
#include "validate.h"

#define nitems(a)	(sizeof(a) / sizeof((a)[0]))
#define STRINGIFY(x)	#x
#define DECIMAL(x)	STRINGIFY(x)

#define IN_DEPLOY(m)	offsetof(struct deploy, m)

/* An optional metadata string of a deploy. */
#define METADATA_MEMBER(key, m) {					\
	.name = key, .kind = VALUE_TEXT, .check = check_metadata,	\
	.at = IN_DEPLOY(m.text), .cap = METADATA_MAX + 1,		\
	.len_at = IN_DEPLOY(m.len), .present_at = IN_DEPLOY(m.present) }

/*
 * The members a POST /deploy body and an export's line share: the
 * service, its version and environment, the metadata. Where version may
 * be null, null is a removal (an export's line of one).
 */
#define REPORT_MEMBERS(version_nullable)				\
	{ .name = "name", .alias = "serviceName", .kind = VALUE_TEXT,	\
	  .required = true, .check = check_service_name,		\
	  .at = IN_DEPLOY(name), .cap = SERVICE_NAME_MAX + 1,		\
	  .len_at = IN_DEPLOY(name_len) },				\
	{ .name = "version", .alias = "serviceVersionNumber",		\
	  .kind = VALUE_INTEGER, .required = true,			\
	  .nullable = version_nullable, .max = SERVICE_VERSION_MAX,	\
	  .at = IN_DEPLOY(version),					\
	  .null_at = (version_nullable) ? IN_DEPLOY(removal) : 0 },	\
	{ .name = "environment", .kind = VALUE_TEXT,			\
	  .check = check_environment, .fallback = DEFAULT_ENVIRONMENT,	\
	  .at = IN_DEPLOY(environment), .cap = ENVIRONMENT_MAX + 1 },	\
	METADATA_MEMBER("deployedBy", deployed_by),			\
	METADATA_MEMBER("reason", reason),				\
	METADATA_MEMBER("releaseHash", release_hash)

/*
 * A POST /deploy body: a report, and what recognises and orders it
 * (optional; an export does not carry them).
 */
static const struct member deploy_members[] = {
	REPORT_MEMBERS(false),
	{ .name = "eventId", .kind = VALUE_TEXT, .check = check_event_id,
	  .at = IN_DEPLOY(key.event_id), .cap = EVENT_ID_MAX + 1,
	  .len_at = IN_DEPLOY(key.event_id_len),
	  .present_at = IN_DEPLOY(key.has_event_id) },
	{ .name = "sequence", .kind = VALUE_INTEGER, .max = SEQUENCE_MAX,
	  .at = IN_DEPLOY(key.sequence),
	  .present_at = IN_DEPLOY(key.has_sequence) },
	{ .name = "deployedAt", .kind = VALUE_INSTANT,
	  .at = IN_DEPLOY(key.deployed_at_ms),
	  .present_at = IN_DEPLOY(key.has_deployed_at) },
};

/* The first members of an export's line: its change, or removal. */
static const struct member change_members[] = {
	REPORT_MEMBERS(true),
};

#define IN_POSITION(m)	offsetof(struct change_position, m)

/* What a line of an export adds to a deploy: where it stands. */
static const struct member position_members[] = {
	{ .name = "systemVersion", .kind = VALUE_INTEGER, .required = true,
	  .min = 1, .max = SYSTEM_VERSION_MAX,
	  .at = IN_POSITION(system_version) },
	{ .name = "createdAt", .kind = VALUE_INSTANT, .required = true,
	  .at = IN_POSITION(created_ms),
	  .missing = "createdAt must be an RFC 3339 date-time" },
	/* required, and null for a new service */
	{ .name = "previousVersion", .kind = VALUE_INTEGER, .required = true,
	  .nullable = true, .max = SERVICE_VERSION_MAX,
	  .at = IN_POSITION(previous), .present_at = IN_POSITION(has_previous),
	  .missing = "previousVersion is required (null for a new service)" },
};

_Static_assert(nitems(deploy_members) <= MEMBERS_MAX,
    "a body's rows fit in struct scan");
_Static_assert(nitems(change_members) + nitems(position_members) <=
    MEMBERS_MAX, "an export line's rows fit in struct scan");

#define IN_HEADER(m)	offsetof(struct export_header, m)

/* The first line of an export. */
static const struct member header_members[] = {
	{ .name = "format", .kind = VALUE_FIXED, .required = true,
	  .fixed = EXPORT_FORMAT,
	  .refusal =
	    "the first line is not the header of a releasemgr export" },
	{ .name = "formatVersion", .kind = VALUE_INTEGER, .required = true,
	  .min = EXPORT_FORMAT_VERSION, .max = EXPORT_FORMAT_VERSION,
	  .at = IN_HEADER(format_version),
	  .refusal = "formatVersion must be " DECIMAL(EXPORT_FORMAT_VERSION) },
	{ .name = "environments", .kind = VALUE_INTEGER, .required = true,
	  .max = INT64_MAX, .at = IN_HEADER(environments),
	  .field = "systemVersions",
	  .refusal = "environments and systemVersions must be counts" },
	{ .name = "systemVersions", .kind = VALUE_INTEGER, .required = true,
	  .max = INT64_MAX, .at = IN_HEADER(system_versions),
	  .refusal = "environments and systemVersions must be counts" },
};

/* Fills invalid with the problem of row, found as found; always false. */
static bool
member_problem(const struct member *row, const struct found *found,
    struct invalid *invalid)
{
	const char *used = found->given & GIVEN_ALIAS ? row->alias : row->name;
	const char *field = row->field != NULL ? row->field : used;

	if (found->given == (GIVEN_NAME | GIVEN_ALIAS))
		invalid_set(invalid, PROBLEM_INVALID_FIELD, row->alias,
		    "give either %s or %s, not both", row->name, row->alias);
	else if (row->refusal != NULL)
		invalid_set(invalid, PROBLEM_INVALID_FIELD, field, "%s",
		    row->refusal);
	else if (found->given == 0 && row->missing != NULL)
		invalid_set(invalid, PROBLEM_INVALID_FIELD, field, "%s",
		    row->missing);
	else if (found->given == 0)
		invalid_set(invalid, PROBLEM_INVALID_FIELD, field,
		    "%s is required", used);
	else if (found->outcome == OUTCOME_NULL)
		invalid_set(invalid, PROBLEM_INVALID_FIELD, field,
		    "%s must not be null", used);
	else if (found->outcome == OUTCOME_CHECKED)
		invalid_set(invalid, PROBLEM_INVALID_FIELD, field, "%s %s",
		    used, found->why);
	else if (row->kind == VALUE_TEXT)
		invalid_set(invalid, PROBLEM_INVALID_FIELD, field,
		    "%s must be a string", used);
	else if (row->kind == VALUE_INTEGER)
		invalid_set(invalid, PROBLEM_INVALID_FIELD, field,
		    "%s must be an integer from %llu to %llu", used,
		    (unsigned long long)row->min, (unsigned long long)row->max);
	else if (row->kind == VALUE_INSTANT)
		invalid_set(invalid, PROBLEM_INVALID_FIELD, field,
		    "%s must be an RFC 3339 date-time", used);
	else
		invalid_set(invalid, PROBLEM_INVALID_FIELD, field,
		    "%s must be \"%s\"", used, row->fixed);
	return false;
}

/*
 * After a scan that found the text JSON, checks the members row by row, in
 * the tables' order, and reports the first problem: both names given, a
 * required member absent, null or a refused value. A member left out gets
 * its fallback.
 */
static bool
take_members(const struct scan *sc)
{
	const struct found *found = sc->all_found;

	for (size_t i = 0; i < sc->nparts; i++) {
		const struct part *part = &sc->parts[i];

		for (size_t r = 0; r < part->count; r++, found++) {
			const struct member *row = &part->rows[r];

			if (found->given == 0 && !row->required) {
				if (row->fallback != NULL)
					memcpy((char *)part->dest + row->at,
					    row->fallback,
					    strlen(row->fallback) + 1);
				continue;
			}
			if (found->given == (GIVEN_NAME | GIVEN_ALIAS) ||
			    found->given == 0 ||
			    (found->outcome == OUTCOME_NULL ? !row->nullable :
			    found->outcome != OUTCOME_TAKEN))
				return member_problem(row, found, sc->invalid);
		}
	}
	return true;
}

/* True when the scan found the member name among its parts' rows. */
static bool
member_given(const struct scan *sc, const char *name)
{
	const struct found *found = sc->all_found;

	for (size_t i = 0; i < sc->nparts; i++)
		for (size_t r = 0; r < sc->parts[i].count; r++, found++)
			if (strcmp(sc->parts[i].rows[r].name, name) == 0)
				return found->given != 0;
	return false;
}

/*
 * Clears the parts' structs and fills them from text. A member named
 * first (NULL: none) must be given: its absence is reported before any
 * other member's problem. False with invalid filled on a problem.
 */
static bool
parse_parts(const char *text, size_t len, const struct part *parts,
    size_t nparts, const char *first, struct invalid *invalid)
{
	struct scan sc;

	for (size_t i = 0; i < nparts; i++)
		memset(parts[i].dest, 0, parts[i].size);
	if (!scan_object(&sc, text, len, parts, nparts, invalid))
		return false;
	if (first != NULL && !member_given(&sc, first)) {
		invalid_set(invalid, PROBLEM_INVALID_FIELD, first,
		    "%s is required", first);
		return false;
	}
	return take_members(&sc);
}

/* The part that fills the struct *d from the table rows. */
#define PART(table, d) {						\
	.rows = table, .count = nitems(table), .dest = d, .size = sizeof(*(d)) }

bool
json_parse_deploy(const char *body, size_t len, struct deploy *out,
    struct invalid *invalid)
{
	const struct part parts[] = { PART(deploy_members, out) };

	return parse_parts(body, len, parts, nitems(parts), NULL, invalid);
}

bool
json_parse_export_header(const char *line, size_t len,
    struct export_header *out, struct invalid *invalid)
{
	const struct part parts[] = { PART(header_members, out) };

	return parse_parts(line, len, parts, nitems(parts), NULL, invalid);
}

/* A line names its environment: it has no fallback, and comes first. */
bool
json_parse_export_change(const char *line, size_t len, struct deploy *deploy,
    struct change_position *position, struct invalid *invalid)
{
	const struct part parts[] = {
		PART(change_members, deploy),
		PART(position_members, position),
	};

	return parse_parts(line, len, parts, nitems(parts), "environment",
	    invalid);
}
