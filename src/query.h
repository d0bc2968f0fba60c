/*
 * The query string of the read routes (application/x-www-form-urlencoded),
 * decoded and validated into typed, bounded values.
 */
#ifndef RELEASEMGR_QUERY_H
#define RELEASEMGR_QUERY_H

#include <stdbool.h>
#include <stdint.h>

#include "model.h"
#include "problem.h"

#define HISTORY_PAGE_DEFAULT	50	/* system versions per page of history */
#define HISTORY_PAGE_MAX	500

/* The query parameters of the read routes, after validation. */
struct query {
	bool		has_system_version;
	uint64_t	system_version;		/* 1 .. SYSTEM_VERSION_MAX */
	bool		has_environment;
	char		environment[ENVIRONMENT_MAX + 1];	/* "default" unless given */
	bool		has_limit;
	uint64_t	limit;			/* 1 .. HISTORY_PAGE_MAX */
	bool		has_before;
	uint64_t	before;			/* 1 .. SYSTEM_VERSION_MAX */
	bool		has_at;
	uint64_t	at_ms;			/* an instant, ms since the epoch */
	bool		has_from;
	uint64_t	from;			/* 1 .. SYSTEM_VERSION_MAX */
	bool		has_to;
	uint64_t	to;			/* 1 .. SYSTEM_VERSION_MAX */
};

/*
 * Parses a QUERY_STRING (application/x-www-form-urlencoded) into q. Unknown
 * parameters are ignored; a known one given twice, empty, badly escaped or
 * out of range fills invalid and returns false.
 */
bool	query_parse(const char *query, struct query *q, struct invalid *invalid);

#endif
