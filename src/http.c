/*
 * Responses: bodies, problems and validators.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"
#include "json.h"
#include "validate.h"

void
response_init(struct response *response)
{
	memset(response, 0, sizeof(*response));
	response->status = 200;
	response->route = RESPONSE_NO_ROUTE;
}

void
response_free(struct response *response)
{
	free(response->body);
	response_init(response);
}

void
response_body(struct response *response, int status,
    const char *content_type, char *body, size_t body_len)
{
	free(response->body);
	response->status = status;
	response->content_type = content_type;
	response->body = body;
	response->body_len = body_len;
}

void
response_json(struct response *response, int status, char *body,
    size_t body_len)
{
	response_body(response, status, "application/json", body, body_len);
}

/*
 * Answers a problem whose detail is already formatted. Without memory for
 * the body, the status and headers still go out, with an empty body.
 */
static void
respond_problem(struct response *response, enum problem_kind kind,
    const char *name, const char *detail)
{
	const struct problem *problem = problem_of(kind);

	free(response->body);
	response->status = problem->status;
	response->content_type = "application/problem+json";
	response->body = json_render_problem(problem->status, problem->type,
	    problem->title, detail, problem->ext_key, name, &response->body_len);
	if (response->body == NULL)
		response->body_len = 0;
	if (kind == PROBLEM_UNAUTHORIZED)
		response->www_authenticate = "Bearer realm=\"releasemgr\"";
	response->retry_after = problem->retry_after;
}

/*
 * Cuts the len bytes of a detail that did not fit back to its last whole
 * UTF-8 character, so that a long service name cut short stays text.
 */
static void
cut_to_character(char *detail, size_t len)
{
	size_t end = 0, n;

	while (end < len && (n = utf8_sequence_length(detail + end,
	    len - end)) != 0)
		end += n;
	detail[end] = '\0';
}

void
response_problem(struct response *response, enum problem_kind kind,
    const char *name, const char *fmt, ...)
{
	char detail[256];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	if (n >= (int)sizeof(detail))
		cut_to_character(detail, sizeof(detail) - 1);
	respond_problem(response, kind, name, detail);
}

void
response_invalid(struct response *response, const struct invalid *invalid)
{
	respond_problem(response, invalid->kind, invalid->name, invalid->detail);
}

/* True for the blanks and commas between the entries of a list field. */
static bool
is_list_space(char c)
{
	return c == ' ' || c == '\t' || c == ',';
}

/*
 * True when the If-None-Match field value is "*" alone, or lists the
 * opaque tag (quotes included): RFC 9110 section 13.1.2, "*" /
 * 1#entity-tag, each [W/]"etagc*". A malformed entry ends the list with
 * no match, so the answer is a full one.
 */
static bool
if_none_match_lists(const char *field, const char *tag)
{
	size_t tag_len = strlen(tag);
	const char *p = field, *end;

	while (*p == ' ' || *p == '\t')
		p++;
	if (*p == '*') {
		for (p++; *p == ' ' || *p == '\t'; p++)
			continue;
		return *p == '\0';
	}
	while (*p != '\0') {
		while (is_list_space(*p))
			p++;
		if (*p == '\0')
			break;
		if (strncmp(p, "W/", 2) == 0)
			p += 2;
		if (*p != '"')
			return false;	/* malformed: no match, a full answer */
		if ((end = strchr(p + 1, '"')) == NULL)
			return false;
		if ((size_t)(end + 1 - p) == tag_len && memcmp(p, tag, tag_len) == 0)
			return true;
		p = end + 1;
	}
	return false;
}

void
response_cacheable(struct response *response, const struct request *request,
    const char *tag, const char *cache_control)
{
	snprintf(response->etag, sizeof(response->etag), "\"%s\"", tag);
	response->cache_control = cache_control;
	if (request->if_none_match != NULL &&
	    if_none_match_lists(request->if_none_match, response->etag)) {
		free(response->body);
		response->body = NULL;
		response->body_len = 0;
		response->status = 304;
	}
}

/* Every status the pool answers, with its reason phrase. */
static const struct {
	int		 code;
	const char	*reason;
} statuses[HTTP_STATUS_COUNT - 1] = {
	{ 200, "OK" },
	{ 304, "Not Modified" },
	{ 400, "Bad Request" },
	{ 401, "Unauthorized" },
	{ 404, "Not Found" },
	{ 405, "Method Not Allowed" },
	{ 409, "Conflict" },
	{ 413, "Content Too Large" },
	{ 500, "Internal Server Error" },
	{ 503, "Service Unavailable" },
};

size_t
http_status_index(int status)
{
	size_t i;

	for (i = 0; i < HTTP_STATUS_COUNT - 1; i++)
		if (statuses[i].code == status)
			break;
	return i;
}

int
http_status_code(size_t index)
{
	return index < HTTP_STATUS_COUNT - 1 ? statuses[index].code : 0;
}

const char *
http_reason(int status)
{
	size_t i = http_status_index(status);

	return i < HTTP_STATUS_COUNT - 1 ? statuses[i].reason : "Unknown";
}
