/*
 * The text of GET /metrics: the pool's request counts, the store's
 * reports by environment and outcome, Berkeley DB's statistics, the disk
 * and replication, in Prometheus's text format.
 */
#ifndef RELEASEMGR_METRICS_PAGE_H
#define RELEASEMGR_METRICS_PAGE_H

#include "exposition.h"
#include "metrics.h"
#include "status.h"
#include "store.h"

/*
 * Writes every family into out (initialised by the caller, who frees
 * it). A status other than STATUS_OK when the store could not be read,
 * STATUS_SYSTEM when memory ran out; out is then incomplete.
 */
enum status	metrics_page(const struct metrics *metrics, struct store *store,
		    struct exposition *out);

#endif
