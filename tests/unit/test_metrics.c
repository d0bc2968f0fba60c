/*
 * The metrics suite: Prometheus's text format as exposition.c writes it
 * (escaping, numbers), and the pool's request counts (metrics.c): added
 * up over the workers' slots, by route and status, in cumulative
 * buckets, with the requests of no route apart.
 */
#include <stdlib.h>
#include <string.h>

#include "exposition.h"
#include "metrics.h"
#include "tests.h"

/* A label value and a HELP text are escaped; numbers exact. */
static void
test_exposition_format(void)
{
	struct exposition out;
	struct label labels[2] = {
		{ "environment", "a\"b\\c\nd \xc3\xa9" },
		{ "outcome", "applied" },
	};
	const char *want =
	    "# HELP x_total Help with \\\\ and \\n, and \"quotes\".\n"
	    "# TYPE x_total counter\n"
	    "x_total{environment=\"a\\\"b\\\\c\\nd \xc3\xa9\",outcome=\"applied\"} "
	    "18446744073709551615\n"
	    "x_total 0\n"
	    "y{outcome=\"applied\"} 0.25\n"
	    "y 5.39\n"
	    "y NaN\n"
	    "y +Inf\n";

	exposition_init(&out);
	exposition_family(&out, "x_total", "counter",
	    "Help with \\ and \n, and \"quotes\".");
	exposition_u64(&out, "x_total", labels, 2, UINT64_MAX);
	exposition_u64(&out, "x_total", NULL, 0, 0);
	exposition_double(&out, "y", &labels[1], 1, 0.25);
	exposition_double(&out, "y", NULL, 0, 5.39);
	exposition_double(&out, "y", NULL, 0, 0.0 / 0.0);
	exposition_double(&out, "y", NULL, 0, 1.0 / 0.0);
	CHECK(!out.failed && out.text != NULL && strcmp(out.text, want) == 0 &&
	    out.len == strlen(want), "the text:\n%s", out.text);
	exposition_free(&out);
	CHECK(out.text == NULL && out.len == 0, "freed");
}

/* The names of a route table of two routes. */
static const char *
two_routes(size_t i)
{
	return i == 0 ? "/a" : "/b/{n}";
}

/* True when text holds line (a whole line). */
static bool
has_line(const char *text, const char *line)
{
	size_t len = strlen(line);

	for (const char *p = text; (p = strstr(p, line)) != NULL; p++)
		if ((p == text || p[-1] == '\n') && p[len] == '\n')
			return true;
	return false;
}

/* Counts of two workers add up; buckets are cumulative; no route apart. */
static void
test_counts_added_up(void)
{
	struct metrics *metrics = metrics_create(2, two_routes, 2);
	struct exposition out;
	static const char *const lines[] = {
		"releasemgr_http_requests_total{route=\"/a\",code=\"200\"} 2",
		"releasemgr_http_requests_total{route=\"/a\",code=\"503\"} 1",
		"releasemgr_http_requests_total{route=\"/b/{n}\",code=\"other\"} 1",
		"releasemgr_http_requests_total{route=\"none\",code=\"404\"} 1",
		"releasemgr_http_request_duration_seconds_bucket{route=\"/a\","
		    "le=\"0.0005\"} 1",
		"releasemgr_http_request_duration_seconds_bucket{route=\"/a\","
		    "le=\"0.001\"} 2",
		"releasemgr_http_request_duration_seconds_bucket{route=\"/a\","
		    "le=\"10\"} 2",
		"releasemgr_http_request_duration_seconds_bucket{route=\"/a\","
		    "le=\"+Inf\"} 3",
		"releasemgr_http_request_duration_seconds_sum{route=\"/a\"} "
		    "11.0015",
		"releasemgr_http_request_duration_seconds_count{route=\"/a\"} 3",
		"releasemgr_http_request_duration_seconds_count{route=\"none\"} 1",
		"releasemgr_worker_restarts_total 1",
	};

	if (!CHECK(metrics != NULL, "created"))
		return;
	/* a bound holds the durations equal to it */
	metrics_observe(metrics_slot(metrics, 0), 0, 200, 500000);
	metrics_observe(metrics_slot(metrics, 1), 0, 200, 1000000);
	metrics_observe(metrics_slot(metrics, 1), 0, 503, 11000000000u);
	metrics_observe(metrics_slot(metrics, 0), 1, 418, 1);
	metrics_observe(metrics_slot(metrics, 0), (size_t)-1,
	    404, 1);
	metrics_worker_restarted(metrics);
	CHECK(metrics_slot(metrics, 2) == NULL, "no third slot");

	exposition_init(&out);
	metrics_write(metrics, &out);
	CHECK(!out.failed, "written");
	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++)
		CHECK(out.text != NULL && has_line(out.text, lines[i]),
		    "the line %s in:\n%s", lines[i], out.text);
	CHECK(out.text != NULL && strstr(out.text, "code=\"304\"") == NULL,
	    "no line of a status never answered");
	exposition_free(&out);
	metrics_destroy(metrics);
}

/* More routes than the counts have room for are refused. */
static void
test_too_many_routes(void)
{
	CHECK(metrics_create(1, two_routes, METRICS_ROUTES_MAX) == NULL,
	    "a table as large as the rows");
	CHECK(metrics_create(0, two_routes, 2) == NULL, "no slot");
}

static const CU_TestInfo metrics_tests[] = {
	{ "exposition format", test_exposition_format },
	{ "counts of the workers added up", test_counts_added_up },
	{ "too many routes", test_too_many_routes },
	CU_TEST_INFO_NULL
};

int
add_metrics_suite(void)
{
	return add_suite_with_tests("metrics", NULL, NULL, metrics_tests);
}
