/*
 * The handlers of the routes that operators and their tools read: the
 * liveness and readiness probes, the replication group, the metrics.
 */
#include <stdlib.h>
#include <string.h>

#include "handlers.h"
#include "json.h"
#include "metrics_page.h"
#include "respond.h"

/* Answers 200 with the constant JSON body text, for no cache to keep. */
static void
respond_constant(struct response *response, const char *text)
{
	respond_rendered(response, strdup(text), strlen(text));
	response->cache_control = "no-store";
}

/*
 * Reads the group as this site sees it now into *view (malloc'd, the
 * caller frees it; NULL unless STATUS_OK).
 */
static enum status
read_cluster(struct app *app, struct cluster_view **view)
{
	enum status status;

	if ((*view = malloc(sizeof(**view))) == NULL)
		return STATUS_SYSTEM;
	if ((status = store_cluster(app->store, *view)) != STATUS_OK) {
		free(*view);
		*view = NULL;
	}
	return status;
}

void
handle_health(struct app *app, const struct request *request,
    const struct query *query, struct response *response)
{
	(void)app;
	(void)request;
	(void)query;
	respond_constant(response, "{\"status\":\"ok\"}");
}

/* Whether the store can take a deploy now: STATUS_OK, or why not. */
static enum status
store_readiness(struct app *app)
{
	struct cluster_view *view;
	struct change_record newest;
	size_t count;
	bool more;
	enum status status = read_cluster(app, &view);

	if (status == STATUS_OK)
		status = cluster_view_readiness(view);
	free(view);
	if (status != STATUS_OK)
		return status;
	if (!store_has_room(app->store, 0))
		return STATUS_NO_SPACE;
	/* a read of one record, which an empty store answers not found */
	status = store_history(app->store, DEFAULT_ENVIRONMENT, 0, 1, &newest,
	    &count, &more);
	return status == STATUS_NOT_FOUND ? STATUS_OK : status;
}

void
handle_ready(struct app *app, const struct request *request,
    const struct query *query, struct response *response)
{
	enum status status = store_readiness(app);

	(void)request;
	(void)query;
	if (status == STATUS_OK)
		respond_constant(response, "{\"status\":\"ready\"}");
	else {
		respond_status(response, status, DEFAULT_ENVIRONMENT, 0);
		response->cache_control = "no-store";
	}
}

/* Answers the group as this site sees it now (GET /cluster's answer). */
static void
respond_cluster(struct app *app, struct response *response)
{
	struct cluster_view *view;
	enum status status = read_cluster(app, &view);
	size_t len = 0;
	char *body;

	if (status != STATUS_OK)
		respond_status(response, status, DEFAULT_ENVIRONMENT, 0);
	else {
		body = json_render_cluster(view, &len);
		respond_rendered(response, body, len);
	}
	response->cache_control = "no-store";
	free(view);
}

void
handle_cluster(struct app *app, const struct request *request,
    const struct query *query, struct response *response)
{
	(void)request;
	(void)query;
	respond_cluster(app, response);
}

void
handle_remove_site(struct app *app, const struct request *request,
    const struct query *query, struct response *response)
{
	char site[SITE_TEXT_SIZE];
	enum status status = store_remove_site(app->store, &query->site);

	(void)request;
	site_format(&query->site, site);
	if (status == STATUS_OK)
		respond_cluster(app, response);
	else if (status == STATUS_NOT_FOUND)
		response_problem(response, PROBLEM_NOT_FOUND, NULL,
		    "the replication group has no site %s", site);
	else if (status == STATUS_INVALID)
		response_problem(response, PROBLEM_INVALID_PARAMETER, "site",
		    "site %s is this site or the master: stop it, and remove "
		    "it from another site once the group elected a master "
		    "without it", site);
	else
		respond_status(response, status, DEFAULT_ENVIRONMENT, 0);
}

void
handle_metrics(struct app *app, const struct request *request,
    const struct query *query, struct response *response)
{
	struct exposition out;
	enum status status;

	(void)request;
	(void)query;
	if (app->metrics == NULL) {
		response_problem(response, PROBLEM_NOT_FOUND, NULL,
		    "the metrics are off (metrics = no)");
		return;
	}
	exposition_init(&out);
	status = metrics_page(app->metrics, app->store, &out);
	if (status != STATUS_OK) {
		respond_status(response, status, "", 0);
		exposition_free(&out);
		return;
	}
	response_body(response, 200, EXPOSITION_CONTENT_TYPE, out.text,
	    out.len);
	response->cache_control = "no-store";
	response->not_for_proxy_cache = true;
}
