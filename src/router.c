/*
 * The route table. Each route declares the query parameters it reads, and
 * the typed segment of its path; the router validates exactly those
 * before the handler runs, and ignores every other parameter.
 */
#include <stdbool.h>
#include <string.h>

#include "metrics.h"
#include "router.h"

#define METHOD(m)	(1u << (m))
#define READ_METHODS	(METHOD(HTTP_GET) | METHOD(HTTP_HEAD))
#define P(p)		QUERY_PARAM(QUERY_##p)
#define KEY_PARAMS	(P(EVENT_ID) | P(SEQUENCE) | P(DEPLOYED_AT))

enum route {
	ROUTE_DEPLOY,
	ROUTE_SERVICES,
	ROUTE_SERVICE,
	ROUTE_SERVICE_HISTORY,
	ROUTE_STATUS,
	ROUTE_HEALTH,
	ROUTE_READY,
	ROUTE_HISTORY,
	ROUTE_VERSION,
	ROUTE_EVENTS,
	ROUTE_ENVIRONMENTS,
	ROUTE_DIFF,
	ROUTE_BADGE,
	ROUTE_CLUSTER,
	ROUTE_CLUSTER_SITE,
	ROUTE_METRICS,
	ROUTE_COUNT
};
_Static_assert(ROUTE_COUNT < METRICS_ROUTES_MAX,
    "the metrics count every route and the requests of none");

static const struct route_entry {
	/*
	 * The path; a {placeholder} stands for one whole segment, the
	 * parameter of .segment.
	 */
	const char	*path;
	/*
	 * Matched against the path as the client sent it, not the one the
	 * proxy decoded and normalised: its segment is percent-decoded here,
	 * exactly once, so that it may hold any byte ('/' as %2F).
	 */
	bool		 raw;
	bool		 token;		/* a report: the deploy token, before its input */
	unsigned	 methods;	/* bit per enum http_method */
	const char	*allow;		/* the same, for an Allow header */
	unsigned	 segment;	/* the QUERY_PARAM bit of the placeholder */
	unsigned	 params;	/* QUERY_PARAM bit of each parameter it reads */
	unsigned	 required;	/* those of them it cannot do without */
	handler_fn	*handler;
} routes[ROUTE_COUNT] = {
	[ROUTE_DEPLOY] = { .path = "/deploy", .token = true,
	    .methods = METHOD(HTTP_POST), .allow = "POST",
	    .handler = handle_deploy },
	[ROUTE_SERVICES] = { .path = "/services", .methods = READ_METHODS,
	    .allow = "GET, HEAD", .params = P(SYSTEM_VERSION) | P(ENVIRONMENT),
	    .handler = handle_services },
	[ROUTE_SERVICE] = { .path = "/services/{name}", .raw = true,
	    .token = true, .methods = METHOD(HTTP_DELETE), .allow = "DELETE",
	    .segment = P(NAME), .params = P(ENVIRONMENT) | KEY_PARAMS,
	    .handler = handle_remove },
	[ROUTE_SERVICE_HISTORY] = { .path = "/services/{name}/history",
	    .raw = true, .methods = READ_METHODS, .allow = "GET, HEAD",
	    .segment = P(NAME), .params = P(ENVIRONMENT),
	    .handler = handle_service_history },
	[ROUTE_STATUS] = { .path = "/status", .methods = READ_METHODS,
	    .allow = "GET, HEAD", .params = P(ENVIRONMENT),
	    .handler = handle_status },
	[ROUTE_HEALTH] = { .path = "/healthz", .methods = READ_METHODS,
	    .allow = "GET, HEAD", .handler = handle_health },
	[ROUTE_READY] = { .path = "/readyz", .methods = READ_METHODS,
	    .allow = "GET, HEAD", .handler = handle_ready },
	[ROUTE_HISTORY] = { .path = "/systemversions", .methods = READ_METHODS,
	    .allow = "GET, HEAD",
	    .params = P(ENVIRONMENT) | P(LIMIT) | P(BEFORE) | P(AT),
	    .handler = handle_history },
	[ROUTE_VERSION] = { .path = "/systemversions/{systemVersion}",
	    .methods = READ_METHODS, .allow = "GET, HEAD",
	    .segment = P(SYSTEM_VERSION), .params = P(ENVIRONMENT),
	    .handler = handle_version },
	[ROUTE_EVENTS] = { .path = "/events", .methods = READ_METHODS,
	    .allow = "GET, HEAD", .params = P(ENVIRONMENT) | P(LIMIT) | P(BEFORE),
	    .handler = handle_events },
	[ROUTE_ENVIRONMENTS] = { .path = "/environments",
	    .methods = READ_METHODS, .allow = "GET, HEAD",
	    .handler = handle_environments },
	[ROUTE_DIFF] = { .path = "/diff", .methods = READ_METHODS,
	    .allow = "GET, HEAD", .params = P(FROM) | P(TO) | P(ENVIRONMENT) |
	    P(FROM_ENVIRONMENT) | P(TO_ENVIRONMENT), .handler = handle_diff },
	[ROUTE_BADGE] = { .path = "/badge.svg", .methods = READ_METHODS,
	    .allow = "GET, HEAD", .params = P(ENVIRONMENT),
	    .handler = handle_badge },
	[ROUTE_CLUSTER] = { .path = "/cluster", .methods = READ_METHODS,
	    .allow = "GET, HEAD", .handler = handle_cluster },
	/* changes the group: the deploy token, as a report */
	[ROUTE_CLUSTER_SITE] = { .path = "/cluster/sites/{site}", .raw = true,
	    .token = true, .methods = METHOD(HTTP_DELETE), .allow = "DELETE",
	    .segment = P(SITE), .handler = handle_remove_site },
	[ROUTE_METRICS] = { .path = "/metrics", .methods = READ_METHODS,
	    .allow = "GET, HEAD", .handler = handle_metrics },
};

/*
 * True when the request's path (its raw path for a raw route) is the
 * route's: the same, or for a route with a placeholder, the same around
 * a non-empty segment with no '/', which *segment (*segment_len bytes)
 * then points to (NULL otherwise).
 */
static bool
route_matches(const struct route_entry *route, const struct request *request,
    const char **segment, size_t *segment_len)
{
	const char *path = route->raw ? request->raw_path : request->path;
	size_t len = route->raw ? request->raw_path_len : strlen(path);
	const char *open = strchr(route->path, '{'), *rest;
	size_t prefix, suffix;

	*segment = NULL;
	*segment_len = 0;
	if (open == NULL)
		return len == strlen(route->path) &&
		    memcmp(path, route->path, len) == 0;
	prefix = (size_t)(open - route->path);
	rest = strchr(open, '}') + 1;
	suffix = strlen(rest);
	if (len <= prefix + suffix || memcmp(path, route->path, prefix) != 0 ||
	    memcmp(path + len - suffix, rest, suffix) != 0 ||
	    memchr(path + prefix, '/', len - prefix - suffix) != NULL)
		return false;
	*segment = path + prefix;
	*segment_len = len - prefix - suffix;
	return true;
}

/*
 * Validates what the route reads of the request into query: its path
 * segment (segment_len bytes), then its query parameters in the order
 * given; false with
 * invalid filled when one is refused or a required one is missing.
 */
static bool
route_input(const struct route_entry *route, const struct request *request,
    const char *segment, size_t segment_len, struct query *query,
    struct invalid *invalid)
{
	query_init(query);
	for (unsigned p = 0; segment != NULL && p < QUERY_PARAM_COUNT; p++) {
		if (!(route->segment & QUERY_PARAM(p)))
			continue;
		if (!(route->raw ? query_take_path(query, (enum query_param)p,
		    segment, segment_len, invalid) : query_take(query,
		    (enum query_param)p, " (the last segment of the path)",
		    segment, segment_len, invalid)))
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
		size_t segment_len;

		if (!route_matches(route, request, &segment, &segment_len))
			continue;
		response->route = i;
		if (!(route->methods & METHOD(request->method))) {
			response_problem(response, PROBLEM_METHOD_NOT_ALLOWED,
			    NULL, "%s accepts only %s", route->path,
			    route->allow);
			response->allow = route->allow;
			return;
		}
		if (route->token && !auth_permits(app->auth,
		    request->authorization)) {
			response_problem(response, PROBLEM_UNAUTHORIZED, NULL,
			    "%s %s needs the header Authorization: Bearer "
			    "<token>", route->allow, route->path);
			return;
		}
		if (!route_input(route, request, segment, segment_len, &query,
		    &invalid)) {
			response_invalid(response, &invalid);
			return;
		}
		route->handler(app, request, &query, response);
		return;
	}
	response_problem(response, PROBLEM_NOT_FOUND, NULL,
	    "there is no resource at this path");
}

size_t
router_route_count(void)
{
	return ROUTE_COUNT;
}

const char *
router_route_path(size_t i)
{
	return i < ROUTE_COUNT ? routes[i].path : NULL;
}
