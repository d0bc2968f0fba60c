/*
 * The route handlers: call the store, render, answer. The router has
 * validated every input they read; nothing here parses raw input or
 * knows how records are stored.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "badge.h"
#include "digest.h"
#include "handlers.h"
#include "json.h"
#include "json_parse.h"
#include "log.h"
#include "respond.h"

/* Cache-Control of the answers that can never change: an explicit system version's list. */
#define CACHE_FOREVER	"public, max-age=31536000, immutable"
/* Cache-Control of answers that change with the next deploy. */
#define CACHE_REVALIDATE	"no-cache"
/* Cache-Control of /status and the badge: status pages poll them. */
#define CACHE_STATUS	"public, max-age=5"
/* How old a worker's view of the disk reserve a read may use. */
#define ROOM_MAX_AGE_MS	1000

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
 * Of a read that found no system_version of environment (0: the
 * environment itself) on this site, which may be a replica that has not
 * received it yet: true when the site now holds it, so that the caller
 * reads again; otherwise *status becomes the answer (still not found
 * when the master does not have it either).
 */
static bool
caught_up(struct app *app, const char *environment, uint64_t system_version,
    enum status *status)
{
	if (*status != STATUS_NOT_FOUND)
		return false;
	*status = store_catch_up(app->store, environment, system_version);
	return *status == STATUS_OK;
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

/*
 * Logs a report that changed the environment: a line at info, whose JSON
 * form has the environment, service, version (not for a removal) and
 * system version as members too.
 */
static void
log_report(const struct deploy *deploy, uint64_t system_version)
{
	/* the version last: a removal has the others only */
	const struct log_field fields[] = {
		LOG_FIELD_TEXT("environment", deploy->environment),
		LOG_FIELD_TEXT("service", deploy->name),
		LOG_FIELD_UINT("system_version", system_version),
		LOG_FIELD_UINT("version", deploy->version),
	};

	if (deploy->removal)
		log_fields(LOG_LEVEL_INFO, fields, 3, "removal: %s: \"%s\" is "
		    "removed: system version %llu", deploy->environment,
		    deploy->name, (unsigned long long)system_version);
	else
		log_fields(LOG_LEVEL_INFO, fields, 4, "deploy: %s: \"%s\" is "
		    "now version %llu: system version %llu",
		    deploy->environment, deploy->name,
		    (unsigned long long)deploy->version,
		    (unsigned long long)system_version);
}

/*
 * Records a report (a deploy, or a removal) and answers it: the bare
 * system version it is answered with and its Deploy-Outcome, or the
 * problem: 404 for the removal of a service the environment does not
 * run, 409 for an eventId that another report holds, 503 when the store
 * cannot.
 */
static void
respond_report(struct app *app, const struct deploy *deploy,
    struct response *response)
{
	struct deploy_result result = { 0, false, OUTCOME_UNCHANGED };
	enum status status;
	size_t len = 0;
	char *body;

	status = store_deploy(app->store, deploy, &result);
	if (status == STATUS_CONFLICT) {
		response_problem(response, PROBLEM_EVENT_CONFLICT, "eventId",
		    "eventId was first reported with another name, version "
		    "or removal; that first report stands");
		return;
	}
	if (status == STATUS_NOT_FOUND && deploy->removal) {
		response_problem(response, PROBLEM_NOT_FOUND, NULL,
		    "service %s is not deployed in environment %s",
		    deploy->name, deploy->environment);
		return;
	}
	if (status != STATUS_OK) {
		respond_status(response, status, deploy->environment, 0);
		return;
	}
	if (result.changed)
		log_report(deploy, result.system_version);
	body = json_render_uint(result.system_version, &len);
	respond_rendered(response, body, len);
	if (response->status == 200)
		response->deploy_outcome = deploy_outcome_name(result.outcome);
}

/*
 * Reads into list the services of system_version of environment, or with
 * 0 its current ones (none for the default environment before its first
 * deploy).
 */
static enum status
read_services(struct app *app, const char *environment,
    uint64_t system_version, struct service_list *list)
{
	enum status status = store_services(app->store, environment,
	    system_version, list);

	if (caught_up(app, environment, system_version, &status))
		status = store_services(app->store, environment,
		    system_version, list);
	return system_version == 0 ? default_exists(status, environment) :
	    status;
}

/*
 * Writes into text the digest of system_version of environment (0: the
 * empty list of the default environment before its first deploy): the
 * copy this process keeps, or else that of list, which holds the
 * version's services, or with read its services read into it first
 * (list is then empty). Keeps what it computed: a version never changes.
 */
static enum status
version_digest(struct app *app, const char *environment,
    uint64_t system_version, struct service_list *list, bool read,
    char text[DIGEST_TEXT_SIZE])
{
	enum status status = STATUS_OK;

	if (digest_cache_get(app->digests, environment, system_version, text))
		return STATUS_OK;
	if (read && system_version != 0)
		status = store_services(app->store, environment,
		    system_version, list);
	if (status != STATUS_OK)
		return status;
	if (!digest_services(list, text))
		return STATUS_UNAVAILABLE;	/* memory ran out */
	digest_cache_put(app->digests, environment, system_version, text);
	return STATUS_OK;
}

void
handle_deploy(struct app *app, const struct request *request,
    const struct query *query, struct response *response)
{
	struct deploy deploy;
	struct invalid invalid = { 0 };

	(void)query;
	if (!json_parse_deploy(request->body, request->body_len, &deploy,
	    &invalid)) {
		response_invalid(response, &invalid);
		return;
	}
	respond_report(app, &deploy, response);
}

void
handle_remove(struct app *app, const struct request *request,
    const struct query *query, struct response *response)
{
	struct deploy deploy;

	(void)request;
	memset(&deploy, 0, sizeof(deploy));
	memcpy(deploy.environment, query->environment,
	    strlen(query->environment) + 1);
	deploy.name_len = strlen(query->name);
	memcpy(deploy.name, query->name, deploy.name_len + 1);
	deploy.removal = true;
	query_report_key(query, &deploy.key);
	respond_report(app, &deploy, response);
}

/*
 * Renders what is answered about where an environment stands, with the
 * digest of its current version: a malloc'd body of *len bytes, or NULL
 * when memory ran out.
 */
typedef char *current_render_fn(const char *environment,
    const struct environment_state *state, const char *digest, size_t *len);

/* One way of answering where an environment stands. */
struct current_form {
	current_render_fn	*render;
	const char		*content_type;
	bool			 digest;	/* false: render is given "" */
};

/* The badge of an environment's current version (current_render_fn). */
static char *
render_badge(const char *environment, const struct environment_state *state,
    const char *digest, size_t *len)
{
	(void)digest;
	return badge_render(environment, state->system_version, len);
}

static const struct current_form status_form = {
	.render = json_render_status,
	.content_type = "application/json",
	.digest = true,
};
static const struct current_form badge_form = {
	.render = render_badge,
	.content_type = "image/svg+xml",
	.digest = false,
};

/*
 * Answers where the query's environment stands (the default one, before
 * its first deploy, at system version 0), in form, with the validators
 * of a status page's answer. Its digest is read from this process's
 * cache, so that a status page polling costs no list once it is kept.
 */
static void
respond_current(struct app *app, const struct request *request,
    const struct query *query, struct response *response,
    const struct current_form *form)
{
	struct environment_state state = { 0, 0 };
	struct service_list list;
	char digest[DIGEST_TEXT_SIZE] = "";
	enum status status;
	size_t len = 0;
	char *body;

	service_list_init(&list);
	status = store_current(app->store, query->environment, &state);
	if (caught_up(app, query->environment, 0, &status))
		status = store_current(app->store, query->environment, &state);
	status = default_exists(status, query->environment);
	if (status == STATUS_OK && form->digest)
		status = version_digest(app, query->environment,
		    state.system_version, &list, true, digest);
	if (status != STATUS_OK) {
		respond_status(response, status, query->environment, 0);
		goto done;
	}
	if ((body = form->render(query->environment, &state, digest,
	    &len)) == NULL) {
		respond_rendered(response, NULL, 0);
		goto done;
	}
	response_body(response, 200, form->content_type, body, len);
	tag_version(response, request, state.system_version,
	    query->environment, CACHE_STATUS);
done:
	service_list_free(&list);
}

void
handle_status(struct app *app, const struct request *request,
    const struct query *query, struct response *response)
{
	respond_current(app, request, query, response, &status_form);
}

void
handle_badge(struct app *app, const struct request *request,
    const struct query *query, struct response *response)
{
	respond_current(app, request, query, response, &badge_form);
}

void
handle_services(struct app *app, const struct request *request,
    const struct query *query, struct response *response)
{
	bool explicit = query_given(query, QUERY_SYSTEM_VERSION);
	uint64_t asked = explicit ? query->system_version : 0;
	struct service_list list;
	enum status status;
	size_t len = 0;
	char *body;

	service_list_init(&list);
	status = read_services(app, query->environment, asked, &list);
	if (status != STATUS_OK) {
		respond_status(response, status, query->environment, asked);
		goto done;
	}
	body = json_render_services(&list, &len);
	respond_rendered(response, body, len);
	/* the list of a given system version never changes */
	if (explicit)
		tag_version(response, request, asked, query->environment,
		    CACHE_FOREVER);
	else if (response->status == 200)
		response->cache_control = CACHE_REVALIDATE;
	/*
	 * nginx keeps those lists in the data directory, and drops the
	 * connection when it cannot write its copy: near a full disk, it is
	 * told to keep none. A read need not ask the filesystem each time:
	 * what this worker saw within a second will do.
	 */
	if (explicit && !store_has_room(app->store, ROOM_MAX_AGE_MS))
		response->not_for_proxy_cache = true;
done:
	service_list_free(&list);
}

/*
 * A page of the query's limit of items of size bytes (calloc'd, the
 * caller frees it), or NULL with a 503 answered when memory ran out.
 */
static void *
page_alloc(const struct query *query, size_t size, struct response *response)
{
	void *items = calloc(query->limit, size);

	if (items == NULL)
		respond_status(response, STATUS_SYSTEM, query->environment, 0);
	return items;
}

/*
 * Answers a page of path rendered as body (len bytes; NULL when memory
 * ran out), which changes with the next deploy; when more items follow
 * it, with a Link to the next page: the same environment and limit,
 * before the cursor of its last item.
 */
static void
respond_page(struct response *response, char *body, size_t len,
    const char *path, const struct query *query, bool more, uint64_t last)
{
	respond_rendered(response, body, len);
	if (response->status != 200)
		return;
	response->cache_control = CACHE_REVALIDATE;
	if (more)
		snprintf(response->link, sizeof(response->link),
		    "<%s?environment=%s&limit=%llu&before=%llu>; rel=\"next\"",
		    path, query->environment, (unsigned long long)query->limit,
		    (unsigned long long)last);
}

/*
 * Reads the page of system versions the query asks for into records
 * (room for its limit): *count of them, *more when older ones remain.
 */
static enum status
read_history(struct app *app, const struct query *query,
    struct change_record *records, size_t *count, bool *more)
{
	enum status status;
	bool found = false;

	if (!query_given(query, QUERY_AT))
		return store_history(app->store, query->environment,
		    query_given(query, QUERY_BEFORE) ? query->before : 0,
		    query->limit, records, count, more);
	/* the version in force at an instant: one item, or none */
	status = store_version_at(app->store, query->environment,
	    query->at_ms, records, &found);
	*count = found ? 1 : 0;
	*more = false;
	return status;
}

void
handle_history(struct app *app, const struct request *request,
    const struct query *query, struct response *response)
{
	struct change_record *records;
	enum status status;
	size_t count = 0, len = 0;
	bool more = false;
	char *body;

	(void)request;
	if ((records = page_alloc(query, sizeof(*records), response)) == NULL)
		return;
	status = read_history(app, query, records, &count, &more);
	if (caught_up(app, query->environment, 0, &status))
		status = read_history(app, query, records, &count, &more);
	status = default_exists(status, query->environment);
	if (status != STATUS_OK) {
		respond_status(response, status, query->environment, 0);
		goto done;
	}
	body = json_render_history(records, count, &len);
	respond_page(response, body, len, "/systemversions", query,
	    more && count > 0, count > 0 ? records[count - 1].system_version : 0);
done:
	free(records);
}

void
handle_events(struct app *app, const struct request *request,
    const struct query *query, struct response *response)
{
	struct audit_entry *entries;
	enum status status;
	size_t count = 0, len = 0;
	bool more = false;
	char *body;

	(void)request;
	if ((entries = page_alloc(query, sizeof(*entries), response)) == NULL)
		return;
	status = store_events(app->store, query->environment,
	    query_given(query, QUERY_BEFORE) ? query->before : 0, query->limit,
	    entries, &count, &more);
	if (caught_up(app, query->environment, 0, &status))
		status = store_events(app->store, query->environment,
		    query_given(query, QUERY_BEFORE) ? query->before : 0,
		    query->limit, entries, &count, &more);
	status = default_exists(status, query->environment);
	if (status != STATUS_OK) {
		respond_status(response, status, query->environment, 0);
		goto done;
	}
	body = json_render_events(entries, count, &len);
	respond_page(response, body, len, "/events", query, more && count > 0,
	    count > 0 ? entries[count - 1].id : 0);
done:
	free(entries);
}

void
handle_service_history(struct app *app, const struct request *request,
    const struct query *query, struct response *response)
{
	struct service_period *periods = NULL;
	enum status status;
	size_t count = 0, len = 0;
	char *body;

	(void)request;
	status = store_service_history(app->store, query->environment,
	    query->name, strlen(query->name), &periods, &count);
	if (caught_up(app, query->environment, 0, &status)) {
		free(periods);
		periods = NULL;
		status = store_service_history(app->store, query->environment,
		    query->name, strlen(query->name), &periods, &count);
	}
	if (status == STATUS_NOT_FOUND)
		response_problem(response, PROBLEM_NOT_FOUND, NULL,
		    "service %s was never deployed in environment %s",
		    query->name, query->environment);
	else if (status != STATUS_OK)
		respond_status(response, status, query->environment, 0);
	else {
		body = json_render_periods(periods, count, &len);
		respond_rendered(response, body, len);
		/* a deploy or a removal of the service changes it */
		if (response->status == 200)
			response->cache_control = CACHE_REVALIDATE;
	}
	free(periods);
}

void
handle_version(struct app *app, const struct request *request,
    const struct query *query, struct response *response)
{
	struct change_record record = { 0 };
	struct service_list list;
	char digest[DIGEST_TEXT_SIZE];
	enum status status;
	size_t len = 0;
	char *body;

	service_list_init(&list);
	status = store_change(app->store, query->environment,
	    query->system_version, &record);
	if (caught_up(app, query->environment, query->system_version, &status))
		status = store_change(app->store, query->environment,
		    query->system_version, &record);
	if (status == STATUS_OK)
		status = store_services(app->store, query->environment,
		    query->system_version, &list);
	if (status == STATUS_OK)
		status = version_digest(app, query->environment,
		    query->system_version, &list, false, digest);
	if (status != STATUS_OK) {
		respond_status(response, status, query->environment,
		    query->system_version);
		goto done;
	}
	body = json_render_version(&record, &list, digest, &len);
	respond_rendered(response, body, len);
	/* a system version never changes */
	tag_version(response, request, query->system_version,
	    query->environment, CACHE_FOREVER);
done:
	service_list_free(&list);
}

void
handle_environments(struct app *app, const struct request *request,
    const struct query *query, struct response *response)
{
	struct environment_summary *list = NULL;
	enum status status;
	size_t count = 0, len = 0;
	char *body;

	(void)request;
	if ((status = store_environments(app->store, &list, &count)) !=
	    STATUS_OK) {
		respond_status(response, status, query->environment, 0);
		return;
	}
	body = json_render_environments(list, count, &len);
	respond_rendered(response, body, len);
	response->cache_control = CACHE_REVALIDATE;
	free(list);
}

/*
 * Reads the snapshot of one end of a diff: system version of environment,
 * or with 0 its current one. On failure answers the problem (naming the
 * version that does not exist) and returns false.
 */
static bool
read_diff_end(struct app *app, const char *environment, uint64_t version,
    struct service_list *list, struct response *response)
{
	enum status status = read_services(app, environment, version, list);

	if (status != STATUS_OK)
		respond_status(response, status, environment, version);
	return status == STATUS_OK;
}

void
handle_diff(struct app *app, const struct request *request,
    const struct query *query, struct response *response)
{
	const char *from_environment = query_given(query,
	    QUERY_FROM_ENVIRONMENT) ? query->from_environment :
	    query->environment;
	const char *to_environment = query_given(query, QUERY_TO_ENVIRONMENT) ?
	    query->to_environment : query->environment;
	uint64_t from_version = query_given(query, QUERY_FROM) ?
	    query->from : 0;
	uint64_t to_version = query_given(query, QUERY_TO) ? query->to : 0;
	struct service_list from, to;
	struct service_difference *diff = NULL;
	size_t count = 0, len = 0;
	char *body;

	(void)request;
	service_list_init(&from);
	service_list_init(&to);
	if (!read_diff_end(app, from_environment, from_version, &from,
	    response) ||
	    !read_diff_end(app, to_environment, to_version, &to, response))
		goto done;
	if (!service_list_diff(&from, &to, &diff, &count)) {
		respond_status(response, STATUS_SYSTEM, from_environment, 0);
		goto done;
	}
	body = json_render_diff(&from, &to, diff, count, &len);
	respond_rendered(response, body, len);
	/* two given versions never change; a current one does */
	if (response->status == 200)
		response->cache_control = from_version != 0 &&
		    to_version != 0 ? CACHE_FOREVER : CACHE_REVALIDATE;
done:
	free(diff);
	service_list_free(&from);
	service_list_free(&to);
}
