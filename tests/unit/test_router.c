/*
 * The router suite: router_dispatch, with the handlers behind it, against
 * a real store in a temporary directory (made by the setup, removed by
 * the teardown) and an auth that permits every deploy. A table of
 * requests checks what the router refuses (unknown paths, wrong methods,
 * each route's own parameters, a name in a path) and what it ignores
 * (other routes' parameters); then the seed example is deployed through
 * the router and read back, body by body. The reports' own tests need no
 * store semantics: a Deploy-Outcome is there, a decoded name reaches the
 * handler, the token comes before the input, the raw path is matched.
 * Last, two environments are compared.
 */
#include <json-c/json.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "digest_cache.h"
#include "router.h"
#include "tests.h"

#define CACHE_FOREVER	"public, max-age=31536000, immutable"
/* The SHA-256 of nothing, and of the seed's version 3 (test_digest.c). */
#define DIGEST_EMPTY	"sha256:e3b0c44298fc1c149afbf4c8996fb924" \
			"27ae41e4649b934ca495991b7852b855"
#define DIGEST_SEED_3	"sha256:e51089b9df757f14ad794ccb59fc8bda" \
			"5bdf1d26ea036164ceb6a9dd893e6354"
/* GET /status of the default environment before its first deploy. */
#define STATUS_EMPTY	"{\"environment\":\"default\",\"systemVersion\":0," \
			"\"updatedAt\":null,\"digest\":\"" DIGEST_EMPTY "\"}"

/* The store and app of the running test. */
static struct {
	char		 dir[64];
	struct store	*store;
	struct auth	 auth;		/* len 0: deploys are open */
	struct app	 app;
} fx;

static void
router_setup(void)
{
	memset(&fx.auth, 0, sizeof(fx.auth));
	fx.store = test_store_create(fx.dir, sizeof(fx.dir));
	fx.app.store = fx.store;
	fx.app.auth = &fx.auth;
	fx.app.digests = digest_cache_new();
}

static void
router_teardown(void)
{
	test_store_destroy(fx.store, fx.dir);
	fx.store = NULL;
	digest_cache_free(fx.app.digests);
	fx.app.digests = NULL;
}

/*
 * Dispatches one request (body a C string, or NULL for none) into
 * response, which the caller frees with response_free().
 */
static void
dispatch(enum http_method method, const char *path, const char *query,
    const char *body, const char *if_none_match, struct response *response)
{
	/* as sent: the raw path is the path, which no proxy rewrote */
	struct request request = {
		.method = method,
		.path = path,
		.raw_path = path,
		.raw_path_len = strlen(path),
		.query = query != NULL ? query : "",
		.if_none_match = if_none_match,
		.body = body,
		.body_len = body != NULL ? strlen(body) : 0,
	};

	response_init(response);
	router_dispatch(&fx.app, &request, response);
}

/* What a request is answered with: a status, and for a problem its members. */
static const struct route_case {
	const char		*label;
	enum http_method	 method;
	const char		*path;
	const char		*query;
	int			 status;
	const char		*type;		/* the problem; NULL for a 200 */
	const char		*ext_key;	/* "parameter", or NULL */
	const char		*ext_value;
	const char		*allow;		/* the Allow of a 405 */
	const char		*body;		/* a 200's exact body; NULL: any */
	const char		*content_type;	/* of a 200 */
} route_cases[] = {
	/* unknown paths */
	{ .label = "unknown path", .method = HTTP_GET, .path = "/nope",
	    .status = 404, .type = "/problems/not-found" },
	{ .label = "root", .method = HTTP_GET, .path = "/", .status = 404,
	    .type = "/problems/not-found" },
	{ .label = "case differs", .method = HTTP_GET, .path = "/Status",
	    .status = 404, .type = "/problems/not-found" },
	{ .label = "trailing slash", .method = HTTP_GET, .path = "/services/",
	    .status = 404, .type = "/problems/not-found" },
	{ .label = "segment after /deploy", .method = HTTP_POST,
	    .path = "/deploy/x", .status = 404, .type = "/problems/not-found" },
	{ .label = "segment after /healthz", .method = HTTP_GET,
	    .path = "/healthz/x", .status = 404, .type = "/problems/not-found" },
	{ .label = "two segments after /systemversions", .method = HTTP_GET,
	    .path = "/systemversions/1/x", .status = 404,
	    .type = "/problems/not-found" },
	{ .label = "empty segment after /systemversions/",
	    .method = HTTP_GET, .path = "/systemversions/", .status = 404,
	    .type = "/problems/not-found" },
	{ .label = "unknown path, wrong method", .method = HTTP_POST,
	    .path = "/nope", .status = 404, .type = "/problems/not-found" },

	/* wrong methods */
	{ .label = "GET /deploy", .method = HTTP_GET, .path = "/deploy",
	    .status = 405, .type = "/problems/method-not-allowed",
	    .allow = "POST" },
	{ .label = "HEAD /deploy", .method = HTTP_HEAD, .path = "/deploy",
	    .status = 405, .type = "/problems/method-not-allowed",
	    .allow = "POST" },
	{ .label = "other method /deploy", .method = HTTP_OTHER,
	    .path = "/deploy", .status = 405,
	    .type = "/problems/method-not-allowed", .allow = "POST" },
	{ .label = "POST /services", .method = HTTP_POST, .path = "/services",
	    .status = 405, .type = "/problems/method-not-allowed",
	    .allow = "GET, HEAD" },
	{ .label = "POST /status", .method = HTTP_POST, .path = "/status",
	    .status = 405, .type = "/problems/method-not-allowed",
	    .allow = "GET, HEAD" },
	{ .label = "other method /healthz", .method = HTTP_OTHER,
	    .path = "/healthz", .status = 405,
	    .type = "/problems/method-not-allowed", .allow = "GET, HEAD" },
	{ .label = "POST /readyz", .method = HTTP_POST,
	    .path = "/readyz", .status = 405,
	    .type = "/problems/method-not-allowed", .allow = "GET, HEAD" },
	{ .label = "GET /readyz of an empty store", .method = HTTP_GET,
	    .path = "/readyz", .status = 200, .body = "{\"status\":\"ready\"}",
	    .content_type = "application/json" },
	{ .label = "POST /systemversions", .method = HTTP_POST,
	    .path = "/systemversions", .status = 405,
	    .type = "/problems/method-not-allowed", .allow = "GET, HEAD" },
	{ .label = "POST /systemversions/1", .method = HTTP_POST,
	    .path = "/systemversions/1", .status = 405,
	    .type = "/problems/method-not-allowed", .allow = "GET, HEAD" },
	{ .label = "POST /environments", .method = HTTP_POST,
	    .path = "/environments", .status = 405,
	    .type = "/problems/method-not-allowed", .allow = "GET, HEAD" },
	{ .label = "POST /diff", .method = HTTP_POST, .path = "/diff",
	    .query = "from=1&to=2", .status = 405,
	    .type = "/problems/method-not-allowed", .allow = "GET, HEAD" },
	{ .label = "POST /badge.svg", .method = HTTP_POST, .path = "/badge.svg",
	    .status = 405, .type = "/problems/method-not-allowed",
	    .allow = "GET, HEAD" },
	{ .label = "DELETE /deploy", .method = HTTP_DELETE, .path = "/deploy",
	    .status = 405, .type = "/problems/method-not-allowed",
	    .allow = "POST" },
	{ .label = "DELETE /services", .method = HTTP_DELETE,
	    .path = "/services", .status = 405,
	    .type = "/problems/method-not-allowed", .allow = "GET, HEAD" },
	{ .label = "DELETE /status", .method = HTTP_DELETE, .path = "/status",
	    .status = 405, .type = "/problems/method-not-allowed",
	    .allow = "GET, HEAD" },
	{ .label = "DELETE /systemversions/1", .method = HTTP_DELETE,
	    .path = "/systemversions/1", .status = 405,
	    .type = "/problems/method-not-allowed", .allow = "GET, HEAD" },
	{ .label = "GET /services/{name}", .method = HTTP_GET,
	    .path = "/services/a", .status = 405,
	    .type = "/problems/method-not-allowed", .allow = "DELETE" },
	{ .label = "HEAD /services/{name}", .method = HTTP_HEAD,
	    .path = "/services/a", .status = 405,
	    .type = "/problems/method-not-allowed", .allow = "DELETE" },
	{ .label = "POST /services/{name}", .method = HTTP_POST,
	    .path = "/services/a%2Fb", .status = 405,
	    .type = "/problems/method-not-allowed", .allow = "DELETE" },
	{ .label = "other method /services/{name}", .method = HTTP_OTHER,
	    .path = "/services/a", .status = 405,
	    .type = "/problems/method-not-allowed", .allow = "DELETE" },
	{ .label = "GET /services/history is a service's, not a history",
	    .method = HTTP_GET, .path = "/services/history", .status = 405,
	    .type = "/problems/method-not-allowed", .allow = "DELETE" },
	{ .label = "GET /services/a%2Fhistory is a service's",
	    .method = HTTP_GET, .path = "/services/a%2Fhistory", .status = 405,
	    .type = "/problems/method-not-allowed", .allow = "DELETE" },
	{ .label = "DELETE /services/{name}/history", .method = HTTP_DELETE,
	    .path = "/services/a/history", .status = 405,
	    .type = "/problems/method-not-allowed", .allow = "GET, HEAD" },
	{ .label = "POST /services/{name}/history", .method = HTTP_POST,
	    .path = "/services/a/history", .status = 405,
	    .type = "/problems/method-not-allowed", .allow = "GET, HEAD" },
	{ .label = "POST /events", .method = HTTP_POST, .path = "/events",
	    .status = 405, .type = "/problems/method-not-allowed",
	    .allow = "GET, HEAD" },
	{ .label = "DELETE /events", .method = HTTP_DELETE, .path = "/events",
	    .status = 405, .type = "/problems/method-not-allowed",
	    .allow = "GET, HEAD" },

	/* paths of a service that are none */
	{ .label = "DELETE /services/", .method = HTTP_DELETE,
	    .path = "/services/", .status = 404, .type = "/problems/not-found" },
	{ .label = "two segments after /services/", .method = HTTP_DELETE,
	    .path = "/services/a/b", .status = 404,
	    .type = "/problems/not-found" },
	{ .label = "a dot segment after /services/", .method = HTTP_DELETE,
	    .path = "/services/a/../b", .status = 404,
	    .type = "/problems/not-found" },
	{ .label = "an empty name before /history", .method = HTTP_GET,
	    .path = "/services//history", .status = 404,
	    .type = "/problems/not-found" },
	{ .label = "a segment after /history", .method = HTTP_GET,
	    .path = "/services/a/history/x", .status = 404,
	    .type = "/problems/not-found" },
	{ .label = "/history with a trailing slash", .method = HTTP_GET,
	    .path = "/services/a/history/", .status = 404,
	    .type = "/problems/not-found" },
	{ .label = "/events/1", .method = HTTP_GET, .path = "/events/1",
	    .status = 404, .type = "/problems/not-found" },

	/* each route's own parameters, refused */
	{ .label = "systemVersion=0 on /services", .method = HTTP_GET,
	    .path = "/services", .query = "systemVersion=0", .status = 400,
	    .type = "/problems/invalid-parameter", .ext_key = "parameter",
	    .ext_value = "systemVersion" },
	{ .label = "systemVersion twice on /services", .method = HTTP_GET,
	    .path = "/services", .query = "systemVersion=1&systemVersion=1",
	    .status = 400, .type = "/problems/invalid-parameter",
	    .ext_key = "parameter", .ext_value = "systemVersion" },
	{ .label = "environment=a%20b on /services", .method = HTTP_GET,
	    .path = "/services", .query = "environment=a%20b", .status = 400,
	    .type = "/problems/invalid-parameter", .ext_key = "parameter",
	    .ext_value = "environment" },
	{ .label = "limit=0 on /systemversions", .method = HTTP_GET,
	    .path = "/systemversions", .query = "limit=0", .status = 400,
	    .type = "/problems/invalid-parameter", .ext_key = "parameter",
	    .ext_value = "limit" },
	{ .label = "limit=501 on /systemversions", .method = HTTP_GET,
	    .path = "/systemversions", .query = "limit=501", .status = 400,
	    .type = "/problems/invalid-parameter", .ext_key = "parameter",
	    .ext_value = "limit" },
	{ .label = "at=nope on /systemversions", .method = HTTP_GET,
	    .path = "/systemversions", .query = "at=nope", .status = 400,
	    .type = "/problems/invalid-parameter", .ext_key = "parameter",
	    .ext_value = "at" },
	{ .label = "before=0 on /systemversions", .method = HTTP_GET,
	    .path = "/systemversions", .query = "before=0", .status = 400,
	    .type = "/problems/invalid-parameter", .ext_key = "parameter",
	    .ext_value = "before" },
	{ .label = "/systemversions/0", .method = HTTP_GET,
	    .path = "/systemversions/0", .status = 400,
	    .type = "/problems/invalid-parameter", .ext_key = "parameter",
	    .ext_value = "systemVersion" },
	{ .label = "/systemversions/abc", .method = HTTP_GET,
	    .path = "/systemversions/abc", .status = 400,
	    .type = "/problems/invalid-parameter", .ext_key = "parameter",
	    .ext_value = "systemVersion" },
	{ .label = "/systemversions/1 with environment=a%20b",
	    .method = HTTP_GET, .path = "/systemversions/1",
	    .query = "environment=a%20b", .status = 400,
	    .type = "/problems/invalid-parameter", .ext_key = "parameter",
	    .ext_value = "environment" },
	{ .label = "/diff with to=0", .method = HTTP_GET, .path = "/diff",
	    .query = "from=1&to=0", .status = 400,
	    .type = "/problems/invalid-parameter", .ext_key = "parameter",
	    .ext_value = "to" },
	{ .label = "/diff with fromEnvironment=a%20b", .method = HTTP_GET,
	    .path = "/diff", .query = "fromEnvironment=a%20b", .status = 400,
	    .type = "/problems/invalid-parameter", .ext_key = "parameter",
	    .ext_value = "fromEnvironment" },
	{ .label = "/diff with an empty toEnvironment", .method = HTTP_GET,
	    .path = "/diff", .query = "toEnvironment=", .status = 400,
	    .type = "/problems/invalid-parameter", .ext_key = "parameter",
	    .ext_value = "toEnvironment" },
	{ .label = "/diff with toEnvironment twice", .method = HTTP_GET,
	    .path = "/diff", .query = "toEnvironment=a&toEnvironment=a",
	    .status = 400, .type = "/problems/invalid-parameter",
	    .ext_key = "parameter", .ext_value = "toEnvironment" },
	{ .label = "/diff with fromEnvironment of 65 characters",
	    .method = HTTP_GET, .path = "/diff", .query = "fromEnvironment="
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
	    .status = 400, .type = "/problems/invalid-parameter",
	    .ext_key = "parameter", .ext_value = "fromEnvironment" },

	/* /diff on an empty store: default is there, empty; nothing else */
	{ .label = "/diff with nothing: default now against itself",
	    .method = HTTP_GET, .path = "/diff", .status = 200, .body = "[]",
	    .content_type = "application/json" },
	{ .label = "/diff from=1 of default", .method = HTTP_GET,
	    .path = "/diff", .query = "from=1", .status = 404,
	    .type = "/problems/not-found" },
	{ .label = "/diff toEnvironment=prod", .method = HTTP_GET,
	    .path = "/diff", .query = "toEnvironment=prod", .status = 404,
	    .type = "/problems/not-found" },
	{ .label = "/diff environment=prod&fromEnvironment=default",
	    .method = HTTP_GET, .path = "/diff",
	    .query = "environment=prod&fromEnvironment=default", .status = 404,
	    .type = "/problems/not-found" },
	{ .label = "environment=a%20b on /status", .method = HTTP_GET,
	    .path = "/status", .query = "environment=a%20b", .status = 400,
	    .type = "/problems/invalid-parameter", .ext_key = "parameter",
	    .ext_value = "environment" },
	{ .label = "environment=%zz on /badge.svg", .method = HTTP_GET,
	    .path = "/badge.svg", .query = "environment=%zz", .status = 400,
	    .type = "/problems/invalid-parameter", .ext_key = "parameter",
	    .ext_value = "environment" },

	/* a name in a path, refused */
	{ .label = "a bad escape in a name", .method = HTTP_DELETE,
	    .path = "/services/a%zz", .status = 400,
	    .type = "/problems/invalid-parameter", .ext_key = "parameter",
	    .ext_value = "name" },
	{ .label = "a lone '%' in a name", .method = HTTP_DELETE,
	    .path = "/services/a%", .status = 400,
	    .type = "/problems/invalid-parameter", .ext_key = "parameter",
	    .ext_value = "name" },
	{ .label = "an escaped NUL in a name", .method = HTTP_DELETE,
	    .path = "/services/a%00", .status = 400,
	    .type = "/problems/invalid-parameter", .ext_key = "parameter",
	    .ext_value = "name" },
	{ .label = "an escaped newline in a name", .method = HTTP_DELETE,
	    .path = "/services/%0A", .status = 400,
	    .type = "/problems/invalid-parameter", .ext_key = "parameter",
	    .ext_value = "name" },
	{ .label = "a name not UTF-8 once decoded", .method = HTTP_DELETE,
	    .path = "/services/caf%C3", .status = 400,
	    .type = "/problems/invalid-parameter", .ext_key = "parameter",
	    .ext_value = "name" },
	{ .label = "an overlong '/' in a name", .method = HTTP_DELETE,
	    .path = "/services/%C0%AF", .status = 400,
	    .type = "/problems/invalid-parameter", .ext_key = "parameter",
	    .ext_value = "name" },
	{ .label = "a name not UTF-8 in a history", .method = HTTP_GET,
	    .path = "/services/%FF/history", .status = 400,
	    .type = "/problems/invalid-parameter", .ext_key = "parameter",
	    .ext_value = "name" },
	{ .label = "a name refused before the query", .method = HTTP_DELETE,
	    .path = "/services/%zz", .query = "sequence=-1", .status = 400,
	    .type = "/problems/invalid-parameter", .ext_key = "parameter",
	    .ext_value = "name" },

	/* a removal's parameters, refused */
	{ .label = "a removal with sequence=-1", .method = HTTP_DELETE,
	    .path = "/services/a", .query = "sequence=-1", .status = 400,
	    .type = "/problems/invalid-parameter", .ext_key = "parameter",
	    .ext_value = "sequence" },
	{ .label = "a removal with sequence=2^53", .method = HTTP_DELETE,
	    .path = "/services/a", .query = "sequence=9007199254740992",
	    .status = 400, .type = "/problems/invalid-parameter",
	    .ext_key = "parameter", .ext_value = "sequence" },
	{ .label = "a removal with an empty eventId", .method = HTTP_DELETE,
	    .path = "/services/a", .query = "eventId=", .status = 400,
	    .type = "/problems/invalid-parameter", .ext_key = "parameter",
	    .ext_value = "eventId" },
	{ .label = "a removal with an eventId of a tab", .method = HTTP_DELETE,
	    .path = "/services/a", .query = "eventId=%09", .status = 400,
	    .type = "/problems/invalid-parameter", .ext_key = "parameter",
	    .ext_value = "eventId" },
	{ .label = "a removal with deployedAt=nope", .method = HTTP_DELETE,
	    .path = "/services/a", .query = "deployedAt=nope", .status = 400,
	    .type = "/problems/invalid-parameter", .ext_key = "parameter",
	    .ext_value = "deployedAt" },
	{ .label = "a removal with environment=a%20b", .method = HTTP_DELETE,
	    .path = "/services/a", .query = "environment=a%20b", .status = 400,
	    .type = "/problems/invalid-parameter", .ext_key = "parameter",
	    .ext_value = "environment" },
	{ .label = "a history with environment=%zz", .method = HTTP_GET,
	    .path = "/services/a/history", .query = "environment=%zz",
	    .status = 400, .type = "/problems/invalid-parameter",
	    .ext_key = "parameter", .ext_value = "environment" },
	{ .label = "/events with limit=0", .method = HTTP_GET,
	    .path = "/events", .query = "limit=0", .status = 400,
	    .type = "/problems/invalid-parameter", .ext_key = "parameter",
	    .ext_value = "limit" },
	{ .label = "/events with limit=501", .method = HTTP_GET,
	    .path = "/events", .query = "limit=501", .status = 400,
	    .type = "/problems/invalid-parameter", .ext_key = "parameter",
	    .ext_value = "limit" },
	{ .label = "/events with before=0", .method = HTTP_GET,
	    .path = "/events", .query = "before=0", .status = 400,
	    .type = "/problems/invalid-parameter", .ext_key = "parameter",
	    .ext_value = "before" },
	{ .label = "/events with environment=a/b", .method = HTTP_GET,
	    .path = "/events", .query = "environment=a/b", .status = 400,
	    .type = "/problems/invalid-parameter", .ext_key = "parameter",
	    .ext_value = "environment" },

	/* other routes' parameters, ignored */
	{ .label = "/status?limit=0", .method = HTTP_GET, .path = "/status",
	    .query = "limit=0", .status = 200, .body = STATUS_EMPTY,
	    .content_type = "application/json" },
	{ .label = "/badge.svg?at=nope", .method = HTTP_GET,
	    .path = "/badge.svg", .query = "at=nope", .status = 200,
	    .content_type = "image/svg+xml" },
	{ .label = "/environments?limit=abc", .method = HTTP_GET,
	    .path = "/environments", .query = "limit=abc", .status = 200,
	    .body = "[]", .content_type = "application/json" },
	{ .label = "/healthz?anything", .method = HTTP_GET, .path = "/healthz",
	    .query = "anything", .status = 200, .body = "{\"status\":\"ok\"}",
	    .content_type = "application/json" },
	{ .label = "/healthz?environment=a%20b&limit=0", .method = HTTP_GET,
	    .path = "/healthz", .query = "environment=a%20b&limit=0",
	    .status = 200, .body = "{\"status\":\"ok\"}",
	    .content_type = "application/json" },
	{ .label = "/services?at=nope&limit=0", .method = HTTP_GET,
	    .path = "/services", .query = "at=nope&limit=0", .status = 200,
	    .body = "[]", .content_type = "application/json" },
	{ .label = "HEAD /status?from=0", .method = HTTP_HEAD,
	    .path = "/status", .query = "from=0", .status = 200,
	    .body = STATUS_EMPTY, .content_type = "application/json" },
};

/* Checks a problem answer: content type, type and the named input. */
static void
expect_problem_body(const char *label, const struct response *response,
    const char *type, const char *ext_key, const char *ext_value)
{
	struct json_object *root;

	CHECK(response->content_type != NULL && strcmp(response->content_type,
	    "application/problem+json") == 0, "%s: content type %s", label,
	    response->content_type != NULL ? response->content_type : "(none)");
	root = json_parse_exact(response->body, response->body_len);
	if (!CHECK(root != NULL, "%s: the body is not JSON", label))
		return;
	CHECK(json_has_string(root, "type", type), "%s: type: %s", label,
	    response->body);
	if (ext_key != NULL)
		CHECK(json_has_string(root, ext_key, ext_value) &&
		    json_object_object_length(root) == 5, "%s: %s %s: %s",
		    label, ext_key, ext_value, response->body);
	else
		CHECK(json_object_object_length(root) == 4,
		    "%s: an extension member: %s", label, response->body);
	json_object_put(root);
}

/* The table, on an empty store. */
static void
test_route_table(void)
{
	REQUIRE_STORE(fx.store);
	for (size_t i = 0; i < sizeof(route_cases) / sizeof(route_cases[0]);
	    i++) {
		const struct route_case *c = &route_cases[i];
		struct response response;

		dispatch(c->method, c->path, c->query, NULL, NULL, &response);
		CHECK(response.status == c->status, "%s: status %d, expected %d: "
		    "%.*s", c->label, response.status, c->status,
		    (int)response.body_len, response.body != NULL ?
		    response.body : "");
		if (c->allow != NULL)
			CHECK(response.allow != NULL &&
			    strcmp(response.allow, c->allow) == 0,
			    "%s: Allow %s, expected %s", c->label,
			    response.allow != NULL ? response.allow : "(none)",
			    c->allow);
		else
			CHECK(response.allow == NULL, "%s: Allow %s", c->label,
			    response.allow);
		if (c->type != NULL)
			expect_problem_body(c->label, &response, c->type,
			    c->ext_key, c->ext_value);
		else
			CHECK(response.content_type != NULL &&
			    strcmp(response.content_type, c->content_type) == 0,
			    "%s: content type %s", c->label,
			    response.content_type != NULL ?
			    response.content_type : "(none)");
		if (c->body != NULL)
			CHECK(response.body_len == strlen(c->body) &&
			    memcmp(response.body, c->body, response.body_len) == 0,
			    "%s: body %.*s, expected %s", c->label,
			    (int)response.body_len, response.body != NULL ?
			    response.body : "", c->body);
		response_free(&response);
	}
}

/*
 * Sends one request and checks its status, its exact body (when body is
 * not NULL), its ETag and its Cache-Control (when not NULL).
 */
static void
expect_answer(enum http_method method, const char *path, const char *query,
    const char *request_body, const char *if_none_match, int status,
    const char *body, const char *etag, const char *cache_control)
{
	struct response response;

	dispatch(method, path, query, request_body, if_none_match, &response);
	CHECK(response.status == status, "%s?%s: status %d, expected %d: %.*s",
	    path, query, response.status, status, (int)response.body_len,
	    response.body != NULL ? response.body : "");
	if (body != NULL)
		CHECK(response.body_len == strlen(body) && response.body != NULL &&
		    memcmp(response.body, body, response.body_len) == 0,
		    "%s?%s: body %.*s, expected %s", path, query,
		    (int)response.body_len, response.body != NULL ?
		    response.body : "", body);
	if (etag != NULL)
		CHECK(strcmp(response.etag, etag) == 0, "%s?%s: ETag %s, "
		    "expected %s", path, query, response.etag, etag);
	if (cache_control != NULL)
		CHECK(response.cache_control != NULL &&
		    strcmp(response.cache_control, cache_control) == 0,
		    "%s?%s: Cache-Control %s, expected %s", path, query,
		    response.cache_control != NULL ? response.cache_control :
		    "(none)", cache_control);
	response_free(&response);
}

/* True when s is an instant as rendered: 2026-11-22T10:15:03.042Z. */
static bool
is_instant(const char *s)
{
	static const char shape[] = "dddd-dd-ddTdd:dd:dd.dddZ";

	if (strlen(s) != sizeof(shape) - 1)
		return false;
	for (size_t i = 0; shape[i] != '\0'; i++)
		if (shape[i] == 'd' ? s[i] < '0' || s[i] > '9' : s[i] != shape[i])
			return false;
	return true;
}

/* Checks that member key of object is an instant. */
static void
expect_instant(const char *label, struct json_object *object, const char *key)
{
	struct json_object *value;

	CHECK(json_object_object_get_ex(object, key, &value) &&
	    json_object_is_type(value, json_type_string) &&
	    is_instant(json_object_get_string(value)), "%s: %s is not an "
	    "instant: %s", label, key, json_object_to_json_string(object));
}

/* GET /systemversions/3 after the seed: the change that made it, its services. */
static void
expect_version_3(void)
{
	static const struct json_member where[] = {
		JUINT("systemVersion", 3), JSTR("digest", DIGEST_SEED_3),
	};
	static const struct json_member change[] = {
		JSTR("name", "Service A"), JUINT("previousVersion", 1),
		JUINT("version", 2),
	};
	struct json_object *root, *member;
	struct response response;

	dispatch(HTTP_GET, "/systemversions/3", "", NULL, NULL, &response);
	CHECK(response.status == 200 && strcmp(response.etag,
	    "\"3.default\"") == 0 && response.cache_control != NULL &&
	    strcmp(response.cache_control, CACHE_FOREVER) == 0,
	    "/systemversions/3: status %d, ETag %s", response.status,
	    response.etag);
	root = json_parse_exact(response.body, response.body_len);
	if (CHECK(root != NULL, "/systemversions/3: not JSON")) {
		json_expect_members("/systemversions/3", root, where, 2, 3);
		expect_instant("/systemversions/3", root, "createdAt");
		if (CHECK(json_object_object_get_ex(root, "change", &member),
		    "/systemversions/3: no change"))
			json_expect_members("/systemversions/3 change", member,
			    change, 3, 0);
		CHECK(json_object_object_get_ex(root, "services", &member) &&
		    strcmp(json_object_to_json_string_ext(member,
		    JSON_C_TO_STRING_PLAIN), "[{\"name\":\"Service A\","
		    "\"version\":2},{\"name\":\"Service B\",\"version\":1}]") == 0,
		    "/systemversions/3: services: %.*s", (int)response.body_len,
		    response.body);
	}
	json_object_put(root);
	response_free(&response);
}

/* GET /status after the seed: version 3, since an instant; If-None-Match. */
static void
expect_status_3(void)
{
	static const struct json_member want[] = {
		JSTR("environment", "default"), JUINT("systemVersion", 3),
		JSTR("digest", DIGEST_SEED_3),
	};
	struct json_object *root;
	struct response response;

	dispatch(HTTP_GET, "/status", "", NULL, NULL, &response);
	CHECK(response.status == 200 && strcmp(response.etag,
	    "\"3.default\"") == 0 && response.cache_control != NULL &&
	    strcmp(response.cache_control, "public, max-age=5") == 0,
	    "/status: status %d, ETag %s", response.status, response.etag);
	root = json_parse_exact(response.body, response.body_len);
	if (CHECK(root != NULL, "/status: not JSON")) {
		json_expect_members("/status", root, want, 3, 1);
		expect_instant("/status", root, "updatedAt");
	}
	json_object_put(root);
	response_free(&response);

	/* the tag it gave: a 304 with the same validators, no body */
	dispatch(HTTP_GET, "/status", "", NULL, "\"3.default\"", &response);
	CHECK(response.status == 304 && response.body == NULL &&
	    response.body_len == 0 && strcmp(response.etag, "\"3.default\"") == 0,
	    "/status with its tag: status %d, %zu bytes, ETag %s",
	    response.status, response.body_len, response.etag);
	response_free(&response);
	expect_answer(HTTP_GET, "/status", "", NULL, "W/\"3.default\"", 304,
	    NULL, "\"3.default\"", "public, max-age=5");
	/* an older tag, or another environment's: the full answer */
	expect_answer(HTTP_GET, "/status", "", NULL, "\"2.default\"", 200, NULL,
	    "\"3.default\"", "public, max-age=5");
	expect_answer(HTTP_GET, "/status", "environment=prod", NULL,
	    "\"3.default\"", 404, NULL, "", NULL);
}

/*
 * The seed example through the router: A 1, B 1, A 2, B 1 again answer
 * 1, 2, 3, 3; then every read route answers what the store holds.
 */
static void
test_seed_through_router(void)
{
	static const struct {
		const char	*body;
		const char	*answer;
	} deploys[] = {
		{ "{\"name\": \"Service A\", \"version\": 1}", "1" },
		{ "{\"name\": \"Service B\", \"version\": 1}", "2" },
		{ "{\"name\": \"Service A\", \"version\": 2}", "3" },
		{ "{\"name\": \"Service B\", \"version\": 1}", "3" },
	};

	REQUIRE_STORE(fx.store);
	for (size_t i = 0; i < sizeof(deploys) / sizeof(deploys[0]); i++)
		expect_answer(HTTP_POST, "/deploy", "", deploys[i].body, NULL,
		    200, deploys[i].answer, "", NULL);
	/* a body without a version is refused, and changes nothing */
	expect_answer(HTTP_POST, "/deploy", "", "{\"name\": \"A\"}", NULL, 400,
	    NULL, "", NULL);

	expect_answer(HTTP_GET, "/services", "systemVersion=1", NULL, NULL,
	    200, "[{\"name\":\"Service A\",\"version\":1}]", "\"1.default\"",
	    CACHE_FOREVER);
	expect_answer(HTTP_GET, "/services", "systemVersion=2", NULL, NULL,
	    200, "[{\"name\":\"Service A\",\"version\":1},"
	    "{\"name\":\"Service B\",\"version\":1}]", "\"2.default\"",
	    CACHE_FOREVER);
	expect_answer(HTTP_GET, "/services", "systemVersion=3", NULL, NULL,
	    200, "[{\"name\":\"Service A\",\"version\":2},"
	    "{\"name\":\"Service B\",\"version\":1}]", "\"3.default\"",
	    CACHE_FOREVER);
	expect_answer(HTTP_GET, "/services", "systemVersion=4", NULL, NULL,
	    404, NULL, "", NULL);
	/* limit is not /services' parameter: ignored, whatever it holds */
	expect_answer(HTTP_GET, "/services", "limit=0&systemVersion=1", NULL,
	    NULL, 200, "[{\"name\":\"Service A\",\"version\":1}]",
	    "\"1.default\"", CACHE_FOREVER);
	expect_answer(HTTP_GET, "/services", "", NULL, NULL, 200,
	    "[{\"name\":\"Service A\",\"version\":2},"
	    "{\"name\":\"Service B\",\"version\":1}]", "", "no-cache");

	expect_answer(HTTP_GET, "/diff", "from=2&to=3", NULL, NULL, 200,
	    "[{\"name\":\"Service A\",\"from\":1,\"to\":2}]", NULL,
	    CACHE_FOREVER);
	expect_answer(HTTP_GET, "/diff", "to=1&from=3", NULL, NULL, 200,
	    "[{\"name\":\"Service A\",\"from\":2,\"to\":1},"
	    "{\"name\":\"Service B\",\"from\":1,\"to\":null}]", NULL,
	    CACHE_FOREVER);
	expect_answer(HTTP_GET, "/diff", "from=3&to=3", NULL, NULL, 200, "[]",
	    NULL, NULL);
	expect_answer(HTTP_GET, "/diff", "from=3&to=4", NULL, NULL, 404, NULL,
	    NULL, NULL);
	/* a left-out end is the current version, which the next deploy moves */
	expect_answer(HTTP_GET, "/diff", "from=1", NULL, NULL, 200,
	    "[{\"name\":\"Service A\",\"from\":1,\"to\":2},"
	    "{\"name\":\"Service B\",\"from\":null,\"to\":1}]", "",
	    "no-cache");
	expect_answer(HTTP_GET, "/diff", "to=2", NULL, NULL, 200,
	    "[{\"name\":\"Service A\",\"from\":2,\"to\":1}]", "",
	    "no-cache");

	expect_version_3();
	expect_answer(HTTP_GET, "/systemversions/4", "", NULL, NULL, 404,
	    NULL, "", NULL);
	expect_status_3();
}

/* True when outcome is the name of one of the outcomes of a report. */
static bool
is_outcome(const char *outcome)
{
	static const char *const names[] = { "applied", "unchanged",
	    "duplicate", "stale", "removed" };

	for (size_t i = 0; outcome != NULL && i < 5; i++)
		if (strcmp(outcome, names[i]) == 0)
			return true;
	return false;
}

/*
 * A report answered carries its Deploy-Outcome beside the bare integer;
 * a refused one carries none.
 */
static void
test_report_outcome(void)
{
	struct response response;

	REQUIRE_STORE(fx.store);
	dispatch(HTTP_POST, "/deploy", "", "{\"name\":\"a\",\"version\":1,"
	    "\"eventId\":\"e-1\",\"sequence\":1}", NULL, &response);
	CHECK(response.status == 200 && is_outcome(response.deploy_outcome),
	    "a deploy: status %d, Deploy-Outcome %s", response.status,
	    response.deploy_outcome != NULL ? response.deploy_outcome :
	    "(none)");
	response_free(&response);
	dispatch(HTTP_POST, "/deploy", "", "{\"name\":\"a\",\"version\":1,"
	    "\"sequence\":-1}", NULL, &response);
	CHECK(response.status == 400 && response.deploy_outcome == NULL,
	    "a refused deploy: status %d, Deploy-Outcome %s", response.status,
	    response.deploy_outcome != NULL ? response.deploy_outcome :
	    "(none)");
	response_free(&response);
}

/*
 * Copies into text (DIGEST_TEXT_SIZE bytes) the digest GET path?query
 * answers; "" when there is none.
 */
static void
digest_answered(const char *path, const char *query, char *text)
{
	struct json_object *root, *member;
	struct response response;

	text[0] = '\0';
	dispatch(HTTP_GET, path, query, NULL, NULL, &response);
	root = json_parse_exact(response.body, response.body_len);
	if (CHECK(root != NULL && json_object_object_get_ex(root, "digest",
	    &member) && json_object_get_string_len(member) ==
	    DIGEST_TEXT_SIZE - 1, "%s?%s: no digest: %.*s", path, query,
	    (int)response.body_len, response.body != NULL ? response.body : ""))
		memcpy(text, json_object_get_string(member), DIGEST_TEXT_SIZE);
	json_object_put(root);
	response_free(&response);
}

/*
 * Names the router lets through to the store, decoded: whatever the
 * store then answers, it is none of the router's problems.
 */
static void
test_names_pass(void)
{
	static const struct {
		enum http_method	 method;
		const char		*path;
		const char		*query;
	} cases[] = {
		{ HTTP_DELETE, "/services/svc", "" },
		{ HTTP_DELETE, "/services/team%2Fapi%20%C3%A9",
		    "environment=prod&eventId=e%2F1&sequence=0&"
		    "deployedAt=2026-12-06T10:15:03Z" },
		{ HTTP_DELETE, "/services/a+b%25%3F%23", "sequence=17" },
		{ HTTP_DELETE, "/services/%2E%2E", "" },
		{ HTTP_DELETE, "/services/caf\xc3\xa9", "" },
		{ HTTP_GET, "/services/team%2Fapi%20%C3%A9/history",
		    "environment=prod" },
		{ HTTP_HEAD, "/services/history/history", "" },
	};

	REQUIRE_STORE(fx.store);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct response response;
		struct json_object *root;
		bool routed;

		dispatch(cases[i].method, cases[i].path, cases[i].query, NULL,
		    NULL, &response);
		root = response.status == 404 ? json_parse_exact(response.body,
		    response.body_len) : NULL;
		routed = response.status != 400 && response.status != 401 &&
		    response.status != 405 && (root == NULL ||
		    !json_has_string(root, "detail",
		    "there is no resource at this path"));
		CHECK(routed, "%s?%s: status %d: %.*s", cases[i].path,
		    cases[i].query, response.status, (int)response.body_len,
		    response.body != NULL ? response.body : "");
		json_object_put(root);
		response_free(&response);
	}
}

/*
 * With a deploy token, a report without it is a 401 before its input is
 * read (a bad name included); with it, the input is read.
 */
static void
test_report_token(void)
{
	static const char token[] = "s3cret";
	static const struct {
		enum http_method	 method;
		const char		*path;
		const char		*authorization;
		int			 status;
	} cases[] = {
		{ HTTP_POST, "/deploy", NULL, 401 },
		{ HTTP_POST, "/deploy", "Bearer nope", 401 },
		{ HTTP_DELETE, "/services/a", NULL, 401 },
		{ HTTP_DELETE, "/services/%zz", NULL, 401 },
		{ HTTP_DELETE, "/services/a", "Bearer s3cretx", 401 },
		{ HTTP_DELETE, "/services/%zz", "Bearer s3cret", 400 },
		{ HTTP_POST, "/deploy", "Bearer s3cret", 400 },
		/* reads need no token */
		{ HTTP_GET, "/services/%zz/history", NULL, 400 },
	};

	REQUIRE_STORE(fx.store);
	fx.auth.len = sizeof(token) - 1;
	memcpy(fx.auth.token, token, sizeof(token));
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct request request = {
			.method = cases[i].method,
			.path = cases[i].path,
			.raw_path = cases[i].path,
			.raw_path_len = strlen(cases[i].path),
			.query = "",
			.authorization = cases[i].authorization,
			.body = "{}",
			.body_len = 2,
		};
		struct response response;

		response_init(&response);
		router_dispatch(&fx.app, &request, &response);
		CHECK(response.status == cases[i].status &&
		    (response.status != 401 || response.www_authenticate != NULL),
		    "%s with %s: status %d, expected %d", cases[i].path,
		    cases[i].authorization != NULL ? cases[i].authorization :
		    "no token", response.status, cases[i].status);
		response_free(&response);
	}
	memset(&fx.auth, 0, sizeof(fx.auth));
}

/*
 * The router matches a name route on the raw path, not on the path the
 * proxy rewrote (nginx passes every /services/... as /services/).
 */
static void
test_raw_path(void)
{
	struct request request = {
		.method = HTTP_DELETE,
		.path = "/services/",
		.raw_path = "/services/a%2Fb?environment=x",
		.raw_path_len = strlen("/services/a%2Fb"),
		.query = "environment=a%20b",
	};
	struct response response;

	REQUIRE_STORE(fx.store);
	response_init(&response);
	router_dispatch(&fx.app, &request, &response);
	expect_problem_body("the raw path", &response,
	    "/problems/invalid-parameter", "parameter", "environment");
	response_free(&response);

	/* without a raw path, as from a server that sends no REQUEST_URI */
	request.raw_path = "";
	request.raw_path_len = 0;
	response_init(&response);
	router_dispatch(&fx.app, &request, &response);
	CHECK(response.status == 404, "no raw path: status %d",
	    response.status);
	response_free(&response);
}

/*
 * Drift between two environments: default gets A 1, B 1, A 2; prod gets
 * B 1, A 2, C 1. Each end of /diff is its own environment's, at a given
 * version or its current one; the same contents have the same digest,
 * whatever history made them.
 */
static void
test_drift_through_router(void)
{
	static const struct {
		const char	*body;
		const char	*answer;
	} deploys[] = {
		{ "{\"name\": \"Service A\", \"version\": 1}", "1" },
		{ "{\"name\": \"Service B\", \"version\": 1}", "2" },
		{ "{\"name\": \"Service A\", \"version\": 2}", "3" },
		{ "{\"name\": \"Service B\", \"version\": 1, "
		    "\"environment\": \"prod\"}", "1" },
		{ "{\"name\": \"Service A\", \"version\": 2, "
		    "\"environment\": \"prod\"}", "2" },
		{ "{\"name\": \"Service C\", \"version\": 1, "
		    "\"environment\": \"prod\"}", "3" },
	};
	char left[DIGEST_TEXT_SIZE], right[DIGEST_TEXT_SIZE];

	REQUIRE_STORE(fx.store);
	/* before any deploy, default's digest is that of nothing */
	digest_answered("/status", "", left);
	CHECK(strcmp(left, DIGEST_EMPTY) == 0, "default at 0: %s", left);
	for (size_t i = 0; i < sizeof(deploys) / sizeof(deploys[0]); i++)
		expect_answer(HTTP_POST, "/deploy", "", deploys[i].body, NULL,
		    200, deploys[i].answer, "", NULL);

	expect_answer(HTTP_GET, "/diff", "fromEnvironment=default&"
	    "toEnvironment=prod", NULL, NULL, 200, "[{\"name\":\"Service C\","
	    "\"from\":null,\"to\":1}]", "", "no-cache");
	expect_answer(HTTP_GET, "/diff", "fromEnvironment=prod&from=2&to=3",
	    NULL, NULL, 200, "[]", "", CACHE_FOREVER);
	expect_answer(HTTP_GET, "/diff", "environment=prod&"
	    "fromEnvironment=default&from=1", NULL, NULL, 200,
	    "[{\"name\":\"Service A\",\"from\":1,\"to\":2},"
	    "{\"name\":\"Service B\",\"from\":null,\"to\":1},"
	    "{\"name\":\"Service C\",\"from\":null,\"to\":1}]", "",
	    "no-cache");
	expect_answer(HTTP_GET, "/diff", "toEnvironment=prod&to=1", NULL, NULL,
	    200, "[{\"name\":\"Service A\",\"from\":2,\"to\":null}]", "",
	    "no-cache");
	expect_answer(HTTP_GET, "/diff", "toEnvironment=prod&to=4", NULL, NULL,
	    404, NULL, "", NULL);
	expect_answer(HTTP_GET, "/diff", "fromEnvironment=staging", NULL, NULL,
	    404, NULL, "", NULL);

	/* default's 3 and prod's 2 hold A 2 and B 1, reached differently */
	digest_answered("/systemversions/3", "", left);
	digest_answered("/systemversions/2", "environment=prod", right);
	CHECK(strcmp(left, DIGEST_SEED_3) == 0 && strcmp(right, left) == 0,
	    "default 3: %s; prod 2: %s", left, right);
	digest_answered("/status", "environment=prod", left);
	digest_answered("/systemversions/3", "environment=prod", right);
	CHECK(strcmp(left, right) == 0 && strcmp(left, DIGEST_SEED_3) != 0,
	    "prod now: %s; prod 3: %s", left, right);
}

/*
 * GET /readyz of a store whose disk is below its reserve: the 503 that a
 * deploy gets, and not cached; then of the fixture's store: ready.
 */
static void
test_ready(void)
{
	struct store_options options;
	struct store *full = NULL;
	struct json_object *root;
	struct response response;
	char dir[64];

	REQUIRE_STORE(fx.store);
	expect_answer(HTTP_GET, "/readyz", NULL, NULL, NULL, 200,
	    "{\"status\":\"ready\"}", NULL, "no-store");
	if (!temp_dir_create(dir, sizeof(dir)))
		return;
	options = test_store_options(dir, STORE_RECOVER);
	options.reserve_bytes = UINT64_MAX / 2;	/* more than any disk has */
	if (CHECK(store_open(&options, &full) == STATUS_OK, "store_open(%s)",
	    dir)) {
		fx.app.store = full;
		dispatch(HTTP_GET, "/readyz", NULL, NULL, NULL, &response);
		fx.app.store = fx.store;
		CHECK(response.status == 503, "below the reserve: status %d",
		    response.status);
		root = json_parse_exact(response.body, response.body_len);
		CHECK(root != NULL && json_has_string(root, "type",
		    "/problems/storage-full"), "below the reserve: %.*s",
		    (int)response.body_len, response.body != NULL ?
		    response.body : "");
		json_object_put(root);
		CHECK(response.cache_control != NULL &&
		    strcmp(response.cache_control, "no-store") == 0,
		    "below the reserve: Cache-Control %s",
		    response.cache_control != NULL ? response.cache_control :
		    "(none)");
		response_free(&response);
		store_close(full);
	}
	temp_dir_remove(dir);
}

static const CU_TestInfo router_tests[] = {
	{ "router_dispatch table", test_route_table },
	{ "GET /readyz", test_ready },
	{ "the seed example through the router", test_seed_through_router },
	{ "a report's Deploy-Outcome", test_report_outcome },
	{ "names in a path reach the handler", test_names_pass },
	{ "a report's token comes first", test_report_token },
	{ "name routes match the raw path", test_raw_path },
	{ "drift between two environments", test_drift_through_router },
	CU_TEST_INFO_NULL,
};

int
add_router_suite(void)
{
	return add_suite_with_tests("router", router_setup, router_teardown,
	    router_tests);
}
