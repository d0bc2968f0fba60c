/*
 * The pool's request metrics: how many requests each route answered with
 * each status, and how long they took, counted by every worker in memory
 * all the pool's processes share, so that one answer gives the sum.
 */
#ifndef RELEASEMGR_METRICS_H
#define RELEASEMGR_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "exposition.h"

/*
 * The most routes counted: a route table's, and one more for the requests
 * of none (their route label is "none").
 */
#define METRICS_ROUTES_MAX	32

/* The name of route i, for its route label (a static string). */
typedef const char	*route_name_fn(size_t i);

struct metrics;		/* shared by the pool's processes */
struct metrics_slot;	/* one worker's counts */

/*
 * Maps counts for slots workers, shared with every process forked after
 * it, for route_count routes (below METRICS_ROUTES_MAX) that route_name
 * names. NULL, logged, when it cannot. Released by metrics_destroy() in
 * the process that made it.
 */
struct metrics	*metrics_create(size_t slots, route_name_fn *route_name,
		    size_t route_count);
void		 metrics_destroy(struct metrics *metrics);

/*
 * The counts of worker slot i (below the slots created): a worker that
 * replaces another takes its slot and adds to its counts, so that a
 * worker's restart starts no count again.
 */
struct metrics_slot *metrics_slot(struct metrics *metrics, size_t i);

/*
 * Counts one answer of route with status, which took duration_ns; a
 * route at or past the route count is counted as none.
 */
void		 metrics_observe(struct metrics_slot *slot, size_t route,
		    int status, uint64_t duration_ns);

/* Counts a worker started in the place of another. */
void		 metrics_worker_restarted(struct metrics *metrics);

/*
 * Writes every worker's counts added up: releasemgr_http_requests_total
 * {route, code}, the histogram releasemgr_http_request_duration_seconds
 * {route}, and releasemgr_worker_restarts_total.
 */
void		 metrics_write(const struct metrics *metrics,
		    struct exposition *out);

#endif
