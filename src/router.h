/*
 * Routing: one table of routes; anything not in it is answered here.
 */
#ifndef RELEASEMGR_ROUTER_H
#define RELEASEMGR_ROUTER_H

#include "handlers.h"
#include "http.h"

/*
 * Runs the handler of the request's route (its index in response->route), or answers 404 for an unknown
 * path, 405 (with Allow) for a method the route does not take, 401 for a
 * report without the deploy token, 400 for an input the route refuses.
 */
void	router_dispatch(struct app *app, const struct request *request,
	    struct response *response);

/* How many routes the table has; response->route is below it when set. */
size_t	router_route_count(void);
/* The path of route i (below router_route_count()), as the table has it. */
const char *router_route_path(size_t i);

#endif
