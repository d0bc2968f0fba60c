/*
 * The route handlers: validate, call the store, render. Nothing here
 * parses raw input itself or knows how records are stored.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "badge.h"
#include "handlers.h"
#include "json.h"
#include "json_parse.h"
#include "log.h"
#include "validate.h"

/* Answers a store failure other than not-found: the client may retry. */
static void
respond_store_failure(struct response *response, enum status status)
{
	if (status == STATUS_NO_SPACE)
		response_problem(response, PROBLEM_STORAGE_FULL, NULL,
		    "the disk of the store is full (or below its reserve): "
		    "nothing new can be recorded until space is freed; retry "
		    "later");
	else
		response_problem(response, PROBLEM_UNAVAILABLE, NULL,
		    status == STATUS_BUSY ? "the store is busy; retry shortly" :
		    "the store cannot serve now; retry shortly");
}

/* Answers 200 with a rendered JSON body, or 503 when memory ran out. */
static void
respond_rendered(struct response *response, char *body, size_t len)
{
	if (body == NULL)
		response_problem(response, PROBLEM_UNAVAILABLE, NULL,
		    "the server is short of memory");
	else
		response_json(response, 200, body, len);
}

void
handle_deploy(struct app *app, const struct request *request,
    struct response *response)
{
	struct deploy deploy;
	struct deploy_result result;
	struct invalid invalid = { 0 };
	enum status status;
	size_t len = 0;
	char *body;

	if (!auth_permits(app->auth, request->authorization)) {
		response_problem(response, PROBLEM_UNAUTHORIZED, NULL,
		    "POST /deploy needs the header Authorization: Bearer <token>");
		return;
	}
	if (!json_parse_deploy(request->body, request->body_len, &deploy,
	    &invalid)) {
		response_invalid(response, &invalid);
		return;
	}
	if ((status = store_deploy(app->store, &deploy, &result)) != STATUS_OK) {
		respond_store_failure(response, status);
		return;
	}
	if (result.changed)
		log_info("deploy: %s: \"%s\" is now version %llu: system "
		    "version %llu", deploy.environment, deploy.name,
		    (unsigned long long)deploy.version,
		    (unsigned long long)result.system_version);
	body = json_render_uint(result.system_version, &len);
	respond_rendered(response, body, len);
}

/* Cache-Control of the answers that can never change: an explicit system version's list. */
#define CACHE_FOREVER	"public, max-age=31536000, immutable"
/* Cache-Control of answers that change with the next deploy. */
#define CACHE_REVALIDATE	"no-cache"
/* Cache-Control of /status: status pages poll it. */
#define CACHE_STATUS	"public, max-age=5"
/* How old a worker's view of the disk reserve a read may use. */
#define ROOM_MAX_AGE_MS	1000

/* Parses the query string; on failure answers its problem and returns false. */
static bool
parse_query(const struct request *request, struct response *response,
    struct query *query)
{
	struct invalid invalid = { 0 };

	if (query_parse(request->query, query, &invalid))
		return true;
	response_invalid(response, &invalid);
	return false;
}

/*
 * The default environment exists before its first deploy: for it, the
 * store's not-found means an empty answer.
 */
static enum status
default_exists(enum status status, const char *environment)
{
	return status == STATUS_NOT_FOUND &&
	    strcmp(environment, DEFAULT_ENVIRONMENT) == 0 ? STATUS_OK : status;
}

/*
 * Gives a 200 answer about system_version of environment its validators:
 * the ETag "system_version.environment" and cache_control.
 */
static void
tag_version(struct response *response, const struct request *request,
    uint64_t system_version, const char *environment,
    const char *cache_control)
{
	char tag[ETAG_MAX];

	if (response->status != 200)
		return;
	snprintf(tag, sizeof(tag), "%llu.%s",
	    (unsigned long long)system_version, environment);
	response_cacheable(response, request, tag, cache_control);
}

/* Answers the problem of an environment never seen (404). */
static void
respond_unknown_environment(struct response *response, const char *environment)
{
	response_problem(response, PROBLEM_NOT_FOUND, NULL,
	    "environment %s has never had a deploy", environment);
}

void
handle_health(struct app *app, const struct request *request,
    struct response *response)
{
	static const char ok[] = "{\"status\":\"ok\"}";
	char *body = strdup(ok);

	(void)app;
	(void)request;
	respond_rendered(response, body, sizeof(ok) - 1);
	response->cache_control = "no-store";
}

void
handle_status(struct app *app, const struct request *request,
    struct response *response)
{
	struct query query;
	struct environment_state state = { 0, 0 };
	enum status status;
	size_t len = 0;
	char *body;

	if (!parse_query(request, response, &query))
		return;
	status = default_exists(store_current(app->store, query.environment,
	    &state), query.environment);
	if (status == STATUS_NOT_FOUND) {
		respond_unknown_environment(response, query.environment);
		return;
	}
	if (status != STATUS_OK) {
		respond_store_failure(response, status);
		return;
	}
	body = json_render_status(query.environment, &state, &len);
	respond_rendered(response, body, len);
	tag_version(response, request, state.system_version, query.environment,
	    CACHE_STATUS);
}

void
handle_services(struct app *app, const struct request *request,
    struct response *response)
{
	struct query query;
	struct service_list list;
	enum status status;
	size_t len = 0;
	char *body;

	if (!parse_query(request, response, &query))
		return;
	service_list_init(&list);
	status = store_services(app->store, query.environment,
	    query.has_system_version ? query.system_version : 0, &list);
	if (!query.has_system_version)
		status = default_exists(status, query.environment);
	if (status == STATUS_NOT_FOUND) {
		if (query.has_system_version)
			response_problem(response, PROBLEM_NOT_FOUND, NULL,
			    "environment %s has no system version %llu",
			    query.environment,
			    (unsigned long long)query.system_version);
		else
			respond_unknown_environment(response,
			    query.environment);
	} else if (status != STATUS_OK)
		respond_store_failure(response, status);
	else {
		body = json_render_services(&list, &len);
		respond_rendered(response, body, len);
		/* the list of a given system version never changes */
		if (query.has_system_version)
			tag_version(response, request, query.system_version,
			    query.environment, CACHE_FOREVER);
		else if (response->status == 200)
			response->cache_control = CACHE_REVALIDATE;
		/*
		 * nginx keeps those lists in the data directory, and drops
		 * the connection when it cannot write its copy: near a full
		 * disk, it is told to keep none. A read need not ask the
		 * filesystem each time: what this worker saw within a
		 * second will do.
		 */
		if (query.has_system_version &&
		    !store_has_room(app->store, ROOM_MAX_AGE_MS))
			response->not_for_proxy_cache = true;
	}
	service_list_free(&list);
}

void
handle_history(struct app *app, const struct request *request,
    struct response *response)
{
	struct query query;
	struct change_record *records;
	enum status status;
	size_t count = 0, len = 0;
	bool more = false;
	char *body;

	if (!parse_query(request, response, &query))
		return;
	if ((records = calloc(query.limit, sizeof(*records))) == NULL) {
		respond_store_failure(response, STATUS_SYSTEM);
		return;
	}
	if (query.has_at) {
		/* the version in force at an instant: one item, or none */
		status = store_version_at(app->store, query.environment,
		    query.at_ms, records, &more);
		count = more ? 1 : 0;
		more = false;
	} else
		status = store_history(app->store, query.environment,
		    query.has_before ? query.before : 0, query.limit, records,
		    &count, &more);
	status = default_exists(status, query.environment);
	if (status == STATUS_NOT_FOUND)
		respond_unknown_environment(response, query.environment);
	else if (status != STATUS_OK)
		respond_store_failure(response, status);
	else {
		body = json_render_history(records, count, &len);
		respond_rendered(response, body, len);
		response->cache_control = CACHE_REVALIDATE;
		if (more && count > 0)
			snprintf(response->link, sizeof(response->link),
			    "</systemversions?environment=%s&limit=%llu&"
			    "before=%llu>; rel=\"next\"", query.environment,
			    (unsigned long long)query.limit, (unsigned long long)
			    records[count - 1].system_version);
	}
	free(records);
}

void
handle_version(struct app *app, const struct request *request,
    struct response *response)
{
	const char *segment = strrchr(request->path, '/') + 1;
	struct query query;
	struct change_record record;
	struct service_list list;
	uint64_t system_version;
	enum status status;
	size_t len = 0;
	char *body;

	if (!parse_query(request, response, &query))
		return;
	if (!parse_decimal(segment, strlen(segment), 1, SYSTEM_VERSION_MAX,
	    &system_version)) {
		response_problem(response, PROBLEM_INVALID_PARAMETER,
		    "systemVersion", "systemVersion (the last segment of the "
		    "path) must be a decimal integer from 1 to %llu",
		    (unsigned long long)SYSTEM_VERSION_MAX);
		return;
	}
	service_list_init(&list);
	status = store_change(app->store, query.environment, system_version,
	    &record);
	if (status == STATUS_OK)
		status = store_services(app->store, query.environment,
		    system_version, &list);
	if (status == STATUS_NOT_FOUND)
		response_problem(response, PROBLEM_NOT_FOUND, NULL,
		    "environment %s has no system version %llu",
		    query.environment, (unsigned long long)system_version);
	else if (status != STATUS_OK)
		respond_store_failure(response, status);
	else {
		body = json_render_version(&record, &list, &len);
		respond_rendered(response, body, len);
		/* a system version never changes */
		tag_version(response, request, system_version,
		    query.environment, CACHE_FOREVER);
	}
	service_list_free(&list);
}

void
handle_environments(struct app *app, const struct request *request,
    struct response *response)
{
	struct environment_summary *list = NULL;
	enum status status;
	size_t count = 0, len = 0;
	char *body;

	(void)request;
	if ((status = store_environments(app->store, &list, &count)) !=
	    STATUS_OK) {
		respond_store_failure(response, status);
		return;
	}
	body = json_render_environments(list, count, &len);
	respond_rendered(response, body, len);
	response->cache_control = CACHE_REVALIDATE;
	free(list);
}

/*
 * Reads the snapshot of one end of a diff; on failure answers the problem
 * (naming the parameter of a version that does not exist) and returns false.
 */
static bool
read_diff_end(struct app *app, const struct query *query, uint64_t version,
    struct service_list *list, struct response *response)
{
	enum status status = store_services(app->store, query->environment,
	    version, list);

	if (status == STATUS_NOT_FOUND)
		response_problem(response, PROBLEM_NOT_FOUND, NULL,
		    "environment %s has no system version %llu",
		    query->environment, (unsigned long long)version);
	else if (status != STATUS_OK)
		respond_store_failure(response, status);
	return status == STATUS_OK;
}

void
handle_diff(struct app *app, const struct request *request,
    struct response *response)
{
	struct query query;
	struct service_list from, to;
	struct service_difference *diff = NULL;
	size_t count = 0, len = 0;
	char *body;

	if (!parse_query(request, response, &query))
		return;
	if (!query.has_from || !query.has_to) {
		response_problem(response, PROBLEM_INVALID_PARAMETER,
		    query.has_from ? "to" : "from", "%s is required: GET "
		    "/diff?from=A&to=B", query.has_from ? "to" : "from");
		return;
	}
	service_list_init(&from);
	service_list_init(&to);
	if (read_diff_end(app, &query, query.from, &from, response) &&
	    read_diff_end(app, &query, query.to, &to, response)) {
		if (!service_list_diff(&from, &to, &diff, &count))
			respond_store_failure(response, STATUS_SYSTEM);
		else {
			body = json_render_diff(&from, &to, diff, count, &len);
			respond_rendered(response, body, len);
			/* two versions that never change */
			if (response->status == 200)
				response->cache_control = CACHE_FOREVER;
		}
	}
	free(diff);
	service_list_free(&from);
	service_list_free(&to);
}

void
handle_badge(struct app *app, const struct request *request,
    struct response *response)
{
	struct query query;
	struct environment_state state = { 0, 0 };
	enum status status;
	size_t len = 0;
	char *svg;

	if (!parse_query(request, response, &query))
		return;
	status = default_exists(store_current(app->store, query.environment,
	    &state), query.environment);
	if (status == STATUS_NOT_FOUND) {
		respond_unknown_environment(response, query.environment);
		return;
	}
	if (status != STATUS_OK) {
		respond_store_failure(response, status);
		return;
	}
	if ((svg = badge_render(query.environment, state.system_version,
	    &len)) == NULL) {
		respond_store_failure(response, STATUS_SYSTEM);
		return;
	}
	response_body(response, 200, "image/svg+xml", svg, len);
	tag_version(response, request, state.system_version, query.environment,
	    CACHE_STATUS);
}
