/*
 * JSON in and out: the only module that uses json-c. Parsing turns a body
 * into validated domain values; rendering returns a malloc'd string that
 * the caller owns and frees.
 */
#ifndef RELEASEMGR_JSON_H
#define RELEASEMGR_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "problem.h"
#include "model.h"

#define JSON_DEPTH_MAX	32	/* nesting levels accepted in a body */

/*
 * Parses a POST /deploy body: exactly one RFC 8259 JSON object, whose
 * members are validated into out. On failure fills invalid (malformed JSON
 * or the first offending member) and returns false.
 */
bool	json_parse_deploy(const char *body, size_t len, struct deploy *out,
	    struct invalid *invalid);

/*
 * The renderers return a NUL-terminated string of *len bytes, owned by the
 * caller, or NULL when out of memory.
 */
char	*json_render_uint(uint64_t value, size_t *len);
/* [{"name":...,"version":...},...] in the list's order. */
char	*json_render_services(const struct service_list *list, size_t *len);
/*
 * {"environment":...,"systemVersion":N,"updatedAt":"RFC 3339"}; updatedAt
 * is null before the first system version.
 */
char	*json_render_status(const char *environment,
	    const struct environment_state *state, size_t *len);
/* [version object, ...] for GET /systemversions, in the records' order. */
char	*json_render_history(const struct change_record *records, size_t count,
	    size_t *len);
/* One version object with its "services" list, for GET /systemversions/N. */
char	*json_render_version(const struct change_record *record,
	    const struct service_list *services, size_t *len);
/* [{"name","from","to"}, ...] for GET /diff: null where a service is absent. */
char	*json_render_diff(const struct service_list *from,
	    const struct service_list *to, const struct service_difference *diff,
	    size_t count, size_t *len);
/* [{"name","systemVersion","updatedAt"}, ...] for GET /environments. */
char	*json_render_environments(const struct environment_summary *list,
	    size_t count, size_t *len);
/*
 * An RFC 9457 problem object; ext_key and ext_value, when not NULL, add one
 * extension member (such as "field": "version").
 */
char	*json_render_problem(int status, const char *type, const char *title,
	    const char *detail, const char *ext_key, const char *ext_value,
	    size_t *len);

/*
 * An export, as JSON lines: a header line, then one line per system
 * version of every environment, oldest first within each environment:
 * {"environment","systemVersion","createdAt","name","previousVersion",
 * "version", and the metadata sent}.
 */
struct export_header {
	uint64_t	environments;
	uint64_t	system_versions;	/* the lines that follow */
	uint64_t	format_version;		/* the only one read: 1 */
};

char	*json_render_export_header(const struct export_header *header,
	    size_t *len);
char	*json_render_export_change(const char *environment,
	    const struct change_record *record, size_t *len);
/*
 * Parse one line of an export (len bytes, without its newline), with the
 * validation of a deploy body; false with invalid filled otherwise. A
 * version's line is the deploy that made it and where it stands.
 */
bool	json_parse_export_header(const char *line, size_t len,
	    struct export_header *out, struct invalid *invalid);
bool	json_parse_export_change(const char *line, size_t len,
	    struct deploy *deploy, struct change_position *position,
	    struct invalid *invalid);

#endif
