/*
 * The route table. Each route declares the query parameters it reads, and
 * the typed last segment of its path; the router validates exactly those
 * before the handler runs, and ignores every other parameter.
 */
#include <stdbool.h>
#include <string.h>

#include "router.h"

#define METHOD(m)	(1u << (m))
#define READ_METHODS	(METHOD(HTTP_GET) | METHOD(HTTP_HEAD))
#define P(p)		QUERY_PARAM(QUERY_##p)

enum route {
	ROUTE_DEPLOY,
	ROUTE_SERVICES,
	ROUTE_STATUS,
	ROUTE_HEALTH,
	ROUTE_HISTORY,
	ROUTE_VERSION,
	ROUTE_ENVIRONMENTS,
	ROUTE_DIFF,
	ROUTE_BADGE,
	ROUTE_COUNT
};

static const struct route_entry {
	const char	*path;		/* ends with '/' for a path with a last segment */
	unsigned	 methods;	/* bit per enum http_method */
	const char	*allow;		/* the same, for an Allow header */
	unsigned	 segment;	/* the QUERY_PARAM bit the last segment gives; 0: none */
	unsigned	 params;	/* QUERY_PARAM bit of each parameter it reads */
	unsigned	 required;	/* those of them it cannot do without */
	handler_fn	*handler;
} routes[ROUTE_COUNT] = {
	[ROUTE_DEPLOY] = { "/deploy", METHOD(HTTP_POST), "POST", 0, 0, 0,
	    handle_deploy },
	[ROUTE_SERVICES] = { "/services", READ_METHODS, "GET, HEAD", 0,
	    P(SYSTEM_VERSION) | P(ENVIRONMENT), 0, handle_services },
	[ROUTE_STATUS] = { "/status", READ_METHODS, "GET, HEAD", 0,
	    P(ENVIRONMENT), 0, handle_status },
	[ROUTE_HEALTH] = { "/healthz", READ_METHODS, "GET, HEAD", 0, 0, 0,
	    handle_health },
	[ROUTE_HISTORY] = { "/systemversions", READ_METHODS, "GET, HEAD", 0,
	    P(ENVIRONMENT) | P(LIMIT) | P(BEFORE) | P(AT), 0, handle_history },
	[ROUTE_VERSION] = { "/systemversions/", READ_METHODS, "GET, HEAD",
	    P(SYSTEM_VERSION), P(ENVIRONMENT), 0, handle_version },
	[ROUTE_ENVIRONMENTS] = { "/environments", READ_METHODS, "GET, HEAD",
	    0, 0, 0, handle_environments },
	[ROUTE_DIFF] = { "/diff", READ_METHODS, "GET, HEAD", 0,
	    P(FROM) | P(TO) | P(ENVIRONMENT) | P(FROM_ENVIRONMENT) |
	    P(TO_ENVIRONMENT), 0, handle_diff },
	[ROUTE_BADGE] = { "/badge.svg", READ_METHODS, "GET, HEAD", 0,
	    P(ENVIRONMENT), 0, handle_badge },
};

/*
 * True when path is the route's: the same, or for a route ending in '/',
 * that prefix and a last segment with no further '/', which *segment then
 * points to (NULL otherwise).
 */
static bool
route_matches(const struct route_entry *route, const char *path,
    const char **segment)
{
	size_t len = strlen(route->path);

	*segment = NULL;
	if (route->path[len - 1] != '/')
		return strcmp(path, route->path) == 0;
	if (strncmp(path, route->path, len) != 0 || path[len] == '\0' ||
	    strchr(path + len, '/') != NULL)
		return false;
	*segment = path + len;
	return true;
}

/*
 * Validates what the route reads of the request into query: its path
 * segment, then its query parameters in the order given; false with
 * invalid filled when one is refused or a required one is missing.
 */
static bool
route_input(const struct route_entry *route, const struct request *request,
    const char *segment, struct query *query, struct invalid *invalid)
{
	query_init(query);
	for (unsigned p = 0; segment != NULL && p < QUERY_PARAM_COUNT; p++) {
		if (!(route->segment & QUERY_PARAM(p)))
			continue;
		if (!query_take(query, (enum query_param)p,
		    " (the last segment of the path)", segment, strlen(segment),
		    invalid))
			return false;
	}
	if (!query_parse(request->query, route->params, query, invalid))
		return false;
	for (unsigned p = 0; p < QUERY_PARAM_COUNT; p++) {
		if (!(route->required & QUERY_PARAM(p)) ||
		    query_given(query, (enum query_param)p))
			continue;
		invalid_set(invalid, PROBLEM_INVALID_PARAMETER,
		    query_param_name((enum query_param)p),
		    "%s is required by %s", query_param_name((enum query_param)p),
		    route->path);
		return false;
	}
	return true;
}

void
router_dispatch(struct app *app, const struct request *request,
    struct response *response)
{
	for (size_t i = 0; i < ROUTE_COUNT; i++) {
		const struct route_entry *route = &routes[i];
		struct invalid invalid = { 0 };
		struct query query;
		const char *segment;

		if (!route_matches(route, request->path, &segment))
			continue;
		if (!(route->methods & METHOD(request->method))) {
			response_problem(response, PROBLEM_METHOD_NOT_ALLOWED,
			    NULL, "%s accepts only %s", request->path,
			    route->allow);
			response->allow = route->allow;
			return;
		}
		if (!route_input(route, request, segment, &query, &invalid)) {
			response_invalid(response, &invalid);
			return;
		}
		route->handler(app, request, &query, response);
		return;
	}
	response_problem(response, PROBLEM_NOT_FOUND, NULL,
	    "there is no resource at this path");
}
