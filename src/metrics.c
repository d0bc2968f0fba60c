/*
 * The pool's request metrics, in one anonymous shared mapping made by the
 * supervisor before it forks: a slot of counters per worker, each added
 * to with relaxed atomic operations (a worker's threads, and a retiring
 * worker beside the one replacing it, share a slot), and read by
 * whichever worker answers GET /metrics. The route names stay in the
 * supervisor's memory, which every child inherits.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "http.h"
#include "log.h"
#include "metrics.h"

/* The duration histogram's upper bounds, in ns and as its le labels. */
static const struct {
	uint64_t	 ns;
	const char	*le;
} buckets[] = {
	{ 500000, "0.0005" }, { 1000000, "0.001" }, { 2500000, "0.0025" },
	{ 5000000, "0.005" }, { 10000000, "0.01" }, { 25000000, "0.025" },
	{ 50000000, "0.05" }, { 100000000, "0.1" }, { 250000000, "0.25" },
	{ 500000000, "0.5" }, { 1000000000, "1" }, { 2500000000, "2.5" },
	{ 5000000000, "5" }, { 10000000000, "10" },
};
#define BUCKET_COUNT	(sizeof(buckets) / sizeof(buckets[0]) + 1)	/* and +Inf */

/* One route's counts in one slot. */
struct route_counts {
	_Atomic uint64_t	by_status[HTTP_STATUS_COUNT];
	_Atomic uint64_t	by_bucket[BUCKET_COUNT];	/* not cumulative */
	_Atomic uint64_t	duration_ns;	/* the sum */
};

struct metrics_slot {
	struct route_counts	routes[METRICS_ROUTES_MAX];
};

/* The shared mapping. */
struct shared {
	_Atomic uint64_t	worker_restarts;
	struct metrics_slot	slots[];
};

struct metrics {
	struct shared		*shared;
	size_t			 size;		/* of the mapping */
	size_t			 slot_count;
	route_name_fn		*route_name;
	size_t			 route_count;
};

/* Where the requests of no route are counted. */
#define NO_ROUTE	(METRICS_ROUTES_MAX - 1)

struct metrics *
metrics_create(size_t slots, route_name_fn *route_name, size_t route_count)
{
	struct metrics *metrics;
	void *map;

	if (route_count >= METRICS_ROUTES_MAX || slots == 0) {
		log_error("metrics: %zu routes, %zu slots", route_count, slots);
		return NULL;
	}
	if ((metrics = calloc(1, sizeof(*metrics))) == NULL) {
		log_error("metrics: no memory");
		return NULL;
	}
	metrics->size = sizeof(struct shared) +
	    slots * sizeof(struct metrics_slot);
	map = mmap(NULL, metrics->size, PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (map == MAP_FAILED) {
		log_error("metrics: mmap: %s", strerror(errno));
		free(metrics);
		return NULL;
	}
	metrics->shared = map;	/* zero-filled, as atomics at 0 are */
	metrics->slot_count = slots;
	metrics->route_name = route_name;
	metrics->route_count = route_count;
	return metrics;
}

void
metrics_destroy(struct metrics *metrics)
{
	if (metrics == NULL)
		return;
	munmap(metrics->shared, metrics->size);
	free(metrics);
}

struct metrics_slot *
metrics_slot(struct metrics *metrics, size_t i)
{
	return i < metrics->slot_count ? &metrics->shared->slots[i] : NULL;
}

/* The histogram bucket of duration_ns: the first bound at or above it. */
static size_t
bucket_of(uint64_t duration_ns)
{
	size_t i = 0;

	while (i < BUCKET_COUNT - 1 && duration_ns > buckets[i].ns)
		i++;
	return i;
}

void
metrics_observe(struct metrics_slot *slot, size_t route, int status,
    uint64_t duration_ns)
{
	struct route_counts *counts;

	if (slot == NULL)
		return;
	counts = &slot->routes[route < NO_ROUTE ? route : NO_ROUTE];
	atomic_fetch_add_explicit(&counts->by_status[http_status_index(status)],
	    1, memory_order_relaxed);
	atomic_fetch_add_explicit(&counts->by_bucket[bucket_of(duration_ns)],
	    1, memory_order_relaxed);
	atomic_fetch_add_explicit(&counts->duration_ns, duration_ns,
	    memory_order_relaxed);
}

void
metrics_worker_restarted(struct metrics *metrics)
{
	atomic_fetch_add_explicit(&metrics->shared->worker_restarts, 1,
	    memory_order_relaxed);
}

/* One route's counts, added up over every slot. */
struct route_sum {
	uint64_t	by_status[HTTP_STATUS_COUNT];
	uint64_t	by_bucket[BUCKET_COUNT];
	uint64_t	duration_ns;
	uint64_t	count;
};

/* Adds up route's counts of every slot into sum. */
static void
sum_route(const struct metrics *metrics, size_t route, struct route_sum *sum)
{
	memset(sum, 0, sizeof(*sum));
	for (size_t s = 0; s < metrics->slot_count; s++) {
		struct route_counts *c = &metrics->shared->slots[s].routes[route];

		for (size_t i = 0; i < HTTP_STATUS_COUNT; i++)
			sum->by_status[i] += atomic_load_explicit(
			    &c->by_status[i], memory_order_relaxed);
		for (size_t i = 0; i < BUCKET_COUNT; i++)
			sum->by_bucket[i] += atomic_load_explicit(
			    &c->by_bucket[i], memory_order_relaxed);
		sum->duration_ns += atomic_load_explicit(&c->duration_ns,
		    memory_order_relaxed);
	}
	/* the count is the buckets': the status counts are read apart */
	for (size_t i = 0; i < BUCKET_COUNT; i++)
		sum->count += sum->by_bucket[i];
}

/* Writes the requests of route by status code. */
static void
write_requests(struct exposition *out, const char *route,
    const struct route_sum *sum)
{
	char code[16];
	struct label labels[2] = { { "route", route }, { "code", code } };

	for (size_t i = 0; i < HTTP_STATUS_COUNT; i++) {
		int status = http_status_code(i);

		if (sum->by_status[i] == 0)
			continue;
		if (status != 0)
			snprintf(code, sizeof(code), "%d", status);
		else
			snprintf(code, sizeof(code), "other");
		exposition_u64(out, "releasemgr_http_requests_total", labels, 2,
		    sum->by_status[i]);
	}
}

/* Writes the duration histogram of route. */
static void
write_durations(struct exposition *out, const char *route,
    const struct route_sum *sum)
{
	struct label labels[2] = { { "route", route }, { "le", NULL } };
	uint64_t cumulative = 0;

	for (size_t i = 0; i < BUCKET_COUNT; i++) {
		cumulative += sum->by_bucket[i];
		labels[1].value = i < BUCKET_COUNT - 1 ? buckets[i].le : "+Inf";
		exposition_u64(out,
		    "releasemgr_http_request_duration_seconds_bucket", labels, 2,
		    cumulative);
	}
	exposition_double(out, "releasemgr_http_request_duration_seconds_sum",
	    labels, 1, (double)sum->duration_ns / 1e9);
	exposition_u64(out, "releasemgr_http_request_duration_seconds_count",
	    labels, 1, cumulative);
}

/* The label of the routes' row r: a route's path, or "none". */
static const char *
route_label(const struct metrics *metrics, size_t r)
{
	return r < metrics->route_count ? metrics->route_name(r) : "none";
}

void
metrics_write(const struct metrics *metrics, struct exposition *out)
{
	struct route_sum *sums = calloc(METRICS_ROUTES_MAX, sizeof(*sums));
	size_t r;

	if (sums == NULL) {
		out->failed = true;
		return;
	}
	/* the rows of the routes, then the row of none */
	for (r = 0; r < METRICS_ROUTES_MAX; r++)
		sum_route(metrics, r, &sums[r]);
	exposition_family(out, "releasemgr_http_requests_total", "counter",
	    "Requests answered by the pool, by route and status code.");
	for (r = 0; r < METRICS_ROUTES_MAX; r++)
		if (r < metrics->route_count || r == NO_ROUTE)
			write_requests(out, route_label(metrics, r), &sums[r]);
	exposition_family(out, "releasemgr_http_request_duration_seconds",
	    "histogram", "Time the pool took to answer a request, by route.");
	for (r = 0; r < METRICS_ROUTES_MAX; r++)
		if ((r < metrics->route_count || r == NO_ROUTE) &&
		    sums[r].count > 0)
			write_durations(out, route_label(metrics, r), &sums[r]);
	exposition_family(out, "releasemgr_worker_restarts_total", "counter",
	    "Workers started in the place of another since the pool started.");
	exposition_u64(out, "releasemgr_worker_restarts_total", NULL, 0,
	    atomic_load_explicit(&metrics->shared->worker_restarts,
	    memory_order_relaxed));
	free(sums);
}
