/*
 * Routing: one table of routes; anything not in it is answered here.
 */
#ifndef RELEASEMGR_ROUTER_H
#define RELEASEMGR_ROUTER_H

#include "handlers.h"
#include "http.h"

/*
 * Runs the handler of the request's route, or answers 404 for an unknown
 * path and 405 (with Allow) for a method the route does not take.
 */
void	router_dispatch(struct app *app, const struct request *request,
	    struct response *response);

#endif
