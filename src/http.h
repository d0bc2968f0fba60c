/*
 * A request as the FastCGI edge hands it to the router, and the response a
 * handler fills in. Both are free of any FastCGI or JSON library type.
 */
#ifndef RELEASEMGR_HTTP_H
#define RELEASEMGR_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "problem.h"

#define REQUEST_BODY_MAX	65536	/* bytes; larger bodies are a 413 */
#define ETAG_MAX		96	/* bytes of an ETag, quotes and NUL included */
#define LINK_MAX		256	/* bytes of a Link header value */

enum http_method {
	HTTP_GET,
	HTTP_HEAD,
	HTTP_POST,
	HTTP_DELETE,
	HTTP_OTHER		/* any method no route accepts */
};

/* The request: every pointer is owned by the edge and valid until it answers. */
struct request {
	enum http_method	 method;
	const char		*path;		/* DOCUMENT_URI, never NULL */
	/*
	 * The path as the client sent it, still percent-encoded: the
	 * raw_path_len bytes of REQUEST_URI before its '?' (not
	 * NUL-terminated), which no proxy has decoded or normalised.
	 */
	const char		*raw_path;
	size_t			 raw_path_len;
	const char		*query;		/* QUERY_STRING, "" when absent */
	const char		*authorization;	/* NULL when absent */
	const char		*if_none_match;	/* NULL when absent */
	const char		*body;		/* body_len bytes, not NUL-terminated */
	size_t			 body_len;
};

/*
 * The response. The body is owned by the response (malloc'd) and released
 * by response_free(); header values are static strings.
 */
struct response {
	int		 status;
	const char	*content_type;
	char		*body;
	size_t		 body_len;
	const char	*allow;			/* Allow, for a 405 */
	const char	*www_authenticate;	/* WWW-Authenticate, for a 401 */
	unsigned	 retry_after;		/* Retry-After seconds; 0 for none */
	const char	*cache_control;		/* Cache-Control, or NULL */
	const char	*deploy_outcome;	/* Deploy-Outcome, of a report answered */
	char		 etag[ETAG_MAX];	/* ETag, quoted; "" for none */
	char		 link[LINK_MAX];	/* Link, for a next page; "" for none */
	bool		 not_for_proxy_cache;	/* X-Accel-Expires: 0, nginx keeps no copy */
	size_t		 route;		/* the router's, for the metrics; RESPONSE_NO_ROUTE */
};

/* The route of a response that matched none (or was not routed). */
#define RESPONSE_NO_ROUTE	SIZE_MAX

void	response_init(struct response *response);
void	response_free(struct response *response);

/*
 * Answers status with a body of content_type (a static string), taking
 * ownership of body (malloc'd).
 */
void	response_body(struct response *response, int status,
	    const char *content_type, char *body, size_t body_len);

/* Answers status with a JSON body, taking ownership of body (malloc'd). */
void	response_json(struct response *response, int status, char *body,
	    size_t body_len);

/* Answers the problem kind with a detail formatted like printf. */
void	response_problem(struct response *response, enum problem_kind kind,
	    const char *name, const char *fmt, ...)
	    __attribute__((format(printf, 4, 5)));

/* Answers the problem an invalid input was found to be. */
void	response_invalid(struct response *response, const struct invalid *invalid);

/*
 * Gives a 200 answer validators: the entity tag "tag" (at most ETAG_MAX - 3
 * bytes of etagc) and the Cache-Control value (a static string). When the
 * request's If-None-Match names that tag (weak comparison, as RFC 9110
 * asks, so W/ from a gzip filter still matches) or is "*", the answer
 * becomes a 304 with the same validators and no body.
 */
void	response_cacheable(struct response *response,
	    const struct request *request, const char *tag,
	    const char *cache_control);

/* The reason phrase of an HTTP status code, for the Status: line. */
const char *http_reason(int status);

/* The statuses the pool answers, and one more for any other. */
#define HTTP_STATUS_COUNT	11

/* The index of status among them: HTTP_STATUS_COUNT - 1 for another. */
size_t	http_status_index(int status);
/* The status of index, from 0 to HTTP_STATUS_COUNT - 1; 0 for another. */
int	http_status_code(size_t index);

#endif
