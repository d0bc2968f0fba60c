/*
 * The handlers of the HTTP routes. Each takes a request the router has
 * matched, with the parameters its route declares already validated (and
 * for a report, its token checked), and fills in the response.
 */
#ifndef RELEASEMGR_HANDLERS_H
#define RELEASEMGR_HANDLERS_H

#include "auth.h"
#include "digest_cache.h"
#include "http.h"
#include "metrics.h"
#include "query.h"
#include "store.h"

/* What every handler may use; owned by the worker that serves. */
struct app {
	struct store		*store;
	const struct auth	*auth;
	struct digest_cache	*digests;	/* NULL: every digest computed */
	const struct metrics	*metrics;	/* NULL: the metrics are off */
	struct metrics_slot	*requests;	/* this worker's counts, or NULL */
};

/*
 * A handler: query holds what the router validated (the route's path
 * segment and query parameters); the handler reads nothing else of the
 * request's query string or path.
 */
typedef void	handler_fn(struct app *, const struct request *,
		    const struct query *, struct response *);

/*
 * POST /deploy: records a report of a deploy, answers the system version
 * it is answered with and its Deploy-Outcome.
 */
handler_fn	handle_deploy;
/* GET /services: the services of a system version, sorted by name. */
handler_fn	handle_services;
/* DELETE /services/{name}: records a report of a removal, as POST /deploy. */
handler_fn	handle_remove;
/* GET /services/{name}/history: the periods the service ran, newest first. */
handler_fn	handle_service_history;
/* GET /events: an environment's audit log, newest first, paged. */
handler_fn	handle_events;
/* GET /status: an environment's current system version, its time and digest. */
handler_fn	handle_status;
/* GET /healthz: the worker answers; no storage work (a liveness probe). */
handler_fn	handle_health;
/*
 * GET /readyz: 200 when the store can take a deploy now (it answers a
 * read, its disk is above the reserve, a master is known when
 * replicated); otherwise the 503 problem a deploy would get.
 */
handler_fn	handle_ready;
/* GET /systemversions: an environment's system versions, newest first, paged. */
handler_fn	handle_history;
/* GET /systemversions/N: one system version: change, digest, services. */
handler_fn	handle_version;
/*
 * GET /diff: the services whose version differs between two system
 * versions, of one environment or two: each end is fromEnvironment's
 * (toEnvironment's) or else environment's, at from (to) or else at its
 * current version.
 */
handler_fn	handle_diff;
/* GET /badge.svg: an SVG badge of an environment's current version. */
handler_fn	handle_badge;
/* GET /environments: every environment with its current version. */
handler_fn	handle_environments;
/* GET /cluster: the replication group as this site sees it. */
handler_fn	handle_cluster;
/* DELETE /cluster/sites/{site}: removes a site from the group; answers as GET /cluster. */
handler_fn	handle_remove_site;
/*
 * GET /metrics: the pool's and the store's metrics in Prometheus's text
 * format; 404 when they are off.
 */
handler_fn	handle_metrics;

#endif
