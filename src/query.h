/*
 * The query string of the routes (application/x-www-form-urlencoded), and
 * the segment a route's path holds, decoded and validated into typed,
 * bounded values.
 */
#ifndef RELEASEMGR_QUERY_H
#define RELEASEMGR_QUERY_H

#include <stdbool.h>
#include <stdint.h>

#include "model.h"
#include "problem.h"
#include "site.h"

#define HISTORY_PAGE_DEFAULT	50	/* system versions per page of history */
#define HISTORY_PAGE_MAX	500

/* The parameters a route may declare (README lists which route reads which). */
enum query_param {
	QUERY_SYSTEM_VERSION,	/* systemVersion: 1 .. SYSTEM_VERSION_MAX */
	QUERY_ENVIRONMENT,	/* environment: a name of [A-Za-z0-9._-] */
	QUERY_LIMIT,		/* limit: 1 .. HISTORY_PAGE_MAX */
	QUERY_BEFORE,		/* before: a system version, or an event's id */
	QUERY_AT,		/* at: an RFC 3339 instant */
	QUERY_FROM,		/* from: a system version */
	QUERY_TO,		/* to: a system version */
	QUERY_NAME,		/* name: a service name (from the path only) */
	QUERY_EVENT_ID,		/* eventId: as a deploy body's */
	QUERY_SEQUENCE,		/* sequence: 0 .. SEQUENCE_MAX */
	QUERY_DEPLOYED_AT,	/* deployedAt: an RFC 3339 instant */
	QUERY_FROM_ENVIRONMENT,	/* fromEnvironment: an environment's name */
	QUERY_TO_ENVIRONMENT,	/* toEnvironment: an environment's name */
	QUERY_SITE,		/* site: HOST:PORT of a replication group (from the path only) */
	QUERY_PARAM_COUNT
};

/* The bit of a parameter in a mask of them. */
#define QUERY_PARAM(p)	(1u << (p))

/* The parameters of a request, after validation. */
struct query {
	unsigned	given;			/* QUERY_PARAM bit of each one given */
	uint64_t	system_version;		/* 1 .. SYSTEM_VERSION_MAX */
	char		environment[ENVIRONMENT_MAX + 1];	/* "default" unless given */
	uint64_t	limit;			/* 1 .. HISTORY_PAGE_MAX; 50 unless given */
	uint64_t	before;			/* 1 .. SYSTEM_VERSION_MAX */
	uint64_t	at_ms;			/* an instant, ms since the epoch */
	uint64_t	from;			/* 1 .. SYSTEM_VERSION_MAX */
	uint64_t	to;			/* 1 .. SYSTEM_VERSION_MAX */
	char		name[SERVICE_NAME_MAX + 1];	/* UTF-8, no NUL */
	char		event_id[EVENT_ID_MAX + 1];	/* UTF-8, no NUL */
	uint64_t	sequence;		/* 0 .. SEQUENCE_MAX */
	uint64_t	deployed_at_ms;		/* an instant, ms since the epoch */
	/* the environments of the ends of a diff, when given */
	char		from_environment[ENVIRONMENT_MAX + 1];
	char		to_environment[ENVIRONMENT_MAX + 1];
	struct site_address site;
};

/* True when the parameter was given (its value is then valid). */
static inline bool
query_given(const struct query *q, enum query_param param)
{
	return (q->given & QUERY_PARAM(param)) != 0;
}

/* Empties q: nothing given, the default environment and page size. */
void	query_init(struct query *q);

/*
 * Parses a QUERY_STRING (application/x-www-form-urlencoded) into q (made
 * by query_init), reading only the parameters in accepted (a mask of
 * QUERY_PARAM bits): any other is ignored, whatever it holds. An accepted
 * one given twice, empty, badly escaped or out of range fills invalid and
 * returns false.
 */
bool	query_parse(const char *query, unsigned accepted, struct query *q,
	    struct invalid *invalid);

/*
 * Validates len bytes of value as param and stores it in q, as query_parse
 * does for one parameter; where, when not NULL, follows its name in a
 * detail (a path segment's: " (the last segment of the path)"). False
 * with invalid filled when it is refused.
 */
bool	query_take(struct query *q, enum query_param param, const char *where,
	    const char *value, size_t len, struct invalid *invalid);

/*
 * Percent-decodes len bytes of a path segment exactly once (RFC 3986: a
 * '+' is itself) and takes the result as param, as query_take does. A
 * bad escape or a value too long fills invalid and returns false.
 */
bool	query_take_path(struct query *q, enum query_param param,
	    const char *value, size_t len, struct invalid *invalid);

/*
 * Fills key with the eventId, sequence and deployedAt given in q, each
 * present only when given.
 */
void	query_report_key(const struct query *q, struct report_key *key);

/* The name of a parameter, as a query string gives it. */
const char *query_param_name(enum query_param param);
#endif
