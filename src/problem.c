/*
 * The table of problems releasemgr answers with.
 */
#include <stdarg.h>
#include <stdio.h>

#include "problem.h"

/* One row per enum problem_kind, in the same order. */
static const struct problem problems[] = {
	[PROBLEM_INVALID_JSON] = { 400, "/problems/invalid-json",
	    "The body is not one valid JSON object", NULL, 0 },
	[PROBLEM_INVALID_FIELD] = { 400, "/problems/invalid-field",
	    "A field of the body is invalid", "field", 0 },
	[PROBLEM_INVALID_PARAMETER] = { 400, "/problems/invalid-parameter",
	    "A query parameter is invalid", "parameter", 0 },
	/* the same type and title as nginx's own answer (conf/nginx.conf) */
	[PROBLEM_BAD_REQUEST] = { 400, "/problems/bad-request",
	    "Malformed HTTP request", NULL, 0 },
	[PROBLEM_UNAUTHORIZED] = { 401, "/problems/unauthorized",
	    "A valid deploy token is required", NULL, 0 },
	[PROBLEM_NOT_FOUND] = { 404, "/problems/not-found",
	    "Not found", NULL, 0 },
	[PROBLEM_METHOD_NOT_ALLOWED] = { 405, "/problems/method-not-allowed",
	    "Method not allowed", NULL, 0 },
	/* names the member: the report is not the one its eventId was */
	[PROBLEM_EVENT_CONFLICT] = { 409, "/problems/event-conflict",
	    "The eventId belongs to another report", "field", 0 },
	[PROBLEM_PAYLOAD_TOO_LARGE] = { 413, "/problems/payload-too-large",
	    "The body is too large", NULL, 0 },
	/* a busy store or a restarting pool is back within seconds */
	[PROBLEM_UNAVAILABLE] = { 503, "/problems/unavailable",
	    "The service is unavailable; try again later", NULL, 2 },
	/* a full disk waits for someone to free space: ask for less traffic */
	[PROBLEM_STORAGE_FULL] = { 503, "/problems/storage-full",
	    "The store's disk is full; try again later", NULL, 30 },
	/* an election takes a few seconds */
	[PROBLEM_NO_MASTER] = { 503, "/problems/no-master",
	    "No master is known now (an election is under way); try again "
	    "shortly", NULL, 2 },
	/* committed, maybe undone: a resend is answered as the first time */
	[PROBLEM_NOT_REPLICATED] = { 503, "/problems/not-replicated",
	    "The deploy was not acknowledged by a quorum of the group; "
	    "resending it is safe", NULL, 1 },
};

const struct problem *
problem_of(enum problem_kind kind)
{
	return &problems[kind];
}

void
invalid_set(struct invalid *invalid, enum problem_kind kind, const char *name,
    const char *fmt, ...)
{
	va_list ap;

	invalid->kind = kind;
	invalid->name = name;
	va_start(ap, fmt);
	vsnprintf(invalid->detail, sizeof(invalid->detail), fmt, ap);
	va_end(ap);
}
