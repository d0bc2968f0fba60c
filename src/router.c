/*
 * The route table.
 */
#include <stdbool.h>
#include <string.h>

#include "router.h"

#define METHOD(m)	(1u << (m))
#define READ_METHODS	(METHOD(HTTP_GET) | METHOD(HTTP_HEAD))

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
	handler_fn	*handler;
} routes[ROUTE_COUNT] = {
	[ROUTE_DEPLOY] = { "/deploy", METHOD(HTTP_POST), "POST", handle_deploy },
	[ROUTE_SERVICES] = { "/services", READ_METHODS, "GET, HEAD",
	    handle_services },
	[ROUTE_STATUS] = { "/status", READ_METHODS, "GET, HEAD", handle_status },
	[ROUTE_HEALTH] = { "/healthz", READ_METHODS, "GET, HEAD", handle_health },
	[ROUTE_HISTORY] = { "/systemversions", READ_METHODS, "GET, HEAD",
	    handle_history },
	[ROUTE_VERSION] = { "/systemversions/", READ_METHODS, "GET, HEAD",
	    handle_version },
	[ROUTE_ENVIRONMENTS] = { "/environments", READ_METHODS, "GET, HEAD",
	    handle_environments },
	[ROUTE_DIFF] = { "/diff", READ_METHODS, "GET, HEAD", handle_diff },
	[ROUTE_BADGE] = { "/badge.svg", READ_METHODS, "GET, HEAD", handle_badge },
};

/*
 * True when path is the route's: the same, or for a route ending in '/',
 * that prefix and a last segment with no further '/'.
 */
static bool
route_matches(const struct route_entry *route, const char *path)
{
	size_t len = strlen(route->path);

	if (route->path[len - 1] != '/')
		return strcmp(path, route->path) == 0;
	return strncmp(path, route->path, len) == 0 && path[len] != '\0' &&
	    strchr(path + len, '/') == NULL;
}

void
router_dispatch(struct app *app, const struct request *request,
    struct response *response)
{
	for (size_t i = 0; i < ROUTE_COUNT; i++) {
		const struct route_entry *route = &routes[i];

		if (!route_matches(route, request->path))
			continue;
		if (!(route->methods & METHOD(request->method))) {
			response_problem(response, PROBLEM_METHOD_NOT_ALLOWED,
			    NULL, "%s accepts only %s", request->path,
			    route->allow);
			response->allow = route->allow;
			return;
		}
		route->handler(app, request, response);
		return;
	}
	response_problem(response, PROBLEM_NOT_FOUND, NULL,
	    "there is no resource at this path");
}
