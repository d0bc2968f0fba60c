/*
 * JSON in, without json-c: a POST /deploy body and the lines of an export
 * are read in one pass into validated domain values.
 */
#ifndef RELEASEMGR_JSON_PARSE_H
#define RELEASEMGR_JSON_PARSE_H

#include <stdbool.h>
#include <stddef.h>

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
 * Parse one line of an export (len bytes, without its newline), with the
 * validation of a deploy body; false with invalid filled otherwise. A
 * version's line is the deploy that made it and where it stands; a
 * version of null is a removal (deploy->removal).
 */
bool	json_parse_export_header(const char *line, size_t len,
	    struct export_header *out, struct invalid *invalid);
bool	json_parse_export_change(const char *line, size_t len,
	    struct deploy *deploy, struct change_position *position,
	    struct invalid *invalid);

#endif
