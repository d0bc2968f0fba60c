/*
 * The problems releasemgr answers with (RFC 9457), and the description of
 * an invalid input that becomes one. A leaf: it includes no other module
 * of releasemgr, so that parsing, validation and HTTP may all use it.
 */
#ifndef RELEASEMGR_PROBLEM_H
#define RELEASEMGR_PROBLEM_H

/*
 * Each kind has one status, one type URI and one title, kept in a single
 * table in problem.c.
 */
enum problem_kind {
	PROBLEM_INVALID_JSON,		/* 400: the body is not exactly one JSON object */
	PROBLEM_INVALID_FIELD,		/* 400: a body member failed validation */
	PROBLEM_INVALID_PARAMETER,	/* 400: a query parameter failed validation */
	PROBLEM_BAD_REQUEST,		/* 400: the request's framing is malformed */
	PROBLEM_UNAUTHORIZED,		/* 401: a deploy without the right bearer token */
	PROBLEM_NOT_FOUND,		/* 404: no such route, environment or version */
	PROBLEM_METHOD_NOT_ALLOWED,	/* 405: the route exists, the method does not */
	PROBLEM_EVENT_CONFLICT,		/* 409: an eventId reused by another report */
	PROBLEM_PAYLOAD_TOO_LARGE,	/* 413: a body over REQUEST_BODY_MAX */
	PROBLEM_UNAVAILABLE,		/* 503: the store cannot serve now */
	PROBLEM_STORAGE_FULL,		/* 503: the store's disk is full or below its reserve */
	PROBLEM_NO_MASTER,		/* 503: replicated, and no master is known now */
	PROBLEM_NOT_REPLICATED		/* 503: a quorum did not acknowledge the commit */
};

/* One row of the table: what a problem kind is answered with. */
struct problem {
	int		 status;
	const char	*type;		/* the type URI, relative to the server */
	const char	*title;
	const char	*ext_key;	/* the member naming the offending input, or NULL */
	unsigned	 retry_after;	/* Retry-After seconds; 0: none */
};

/* The row of kind; never NULL. */
const struct problem *problem_of(enum problem_kind kind);

/*
 * A validation failure, described before any response exists: the problem,
 * the offending member or parameter (a static string, or NULL) and a
 * sentence for the client.
 */
struct invalid {
	enum problem_kind	 kind;
	const char		*name;
	char			 detail[192];
};

/* Fills in an invalid description; the detail is formatted like printf. */
void	invalid_set(struct invalid *invalid, enum problem_kind kind,
	    const char *name, const char *fmt, ...)
	    __attribute__((format(printf, 4, 5)));

#endif
