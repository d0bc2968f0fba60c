/*
 * The FastCGI edge. It turns FastCGI parameters and stdin into a struct
 * request, bounded before anything is allocated, and a struct response
 * into a CGI response (Status: line, headers, body).
 */
#include <errno.h>
#include <fcgiapp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "edge.h"
#include "log.h"
#include "router.h"
#include "validate.h"

/* Maps REQUEST_METHOD to the methods the router knows. */
static enum http_method
parse_method(const char *method)
{
	if (method == NULL)
		return HTTP_OTHER;
	if (strcmp(method, "GET") == 0)
		return HTTP_GET;
	if (strcmp(method, "HEAD") == 0)
		return HTTP_HEAD;
	if (strcmp(method, "POST") == 0)
		return HTTP_POST;
	return HTTP_OTHER;
}

/*
 * Reads the request body into a new buffer (*body, owned by the caller).
 * Returns false with a problem in response when the length is malformed,
 * too large, or the body ends early.
 */
static bool
read_body(FCGX_Request *fcgi, char **body, size_t *body_len,
    struct response *response)
{
	const char *length_text = FCGX_GetParam("CONTENT_LENGTH", fcgi->envp);
	uint64_t length = 0;
	size_t got = 0;
	char *buf;

	*body = NULL;
	*body_len = 0;
	if (length_text != NULL && *length_text != '\0' &&
	    !parse_decimal(length_text, strlen(length_text), 0, UINT64_MAX,
	    &length)) {
		response_problem(response, PROBLEM_INVALID_JSON, NULL,
		    "the Content-Length is not a number");
		return false;
	}
	if (length > REQUEST_BODY_MAX) {
		response_problem(response, PROBLEM_PAYLOAD_TOO_LARGE, NULL,
		    "the body is %llu bytes; at most %d are accepted",
		    (unsigned long long)length, REQUEST_BODY_MAX);
		return false;
	}
	if ((buf = malloc(length + 1)) == NULL) {
		response_problem(response, PROBLEM_UNAVAILABLE, NULL,
		    "the server is short of memory");
		return false;
	}
	while (got < length) {
		int n = FCGX_GetStr(buf + got, (int)(length - got), fcgi->in);

		if (n <= 0)
			break;
		got += (size_t)n;
	}
	if (got < length) {
		free(buf);
		response_problem(response, PROBLEM_INVALID_JSON, NULL,
		    "the body ended after %zu of %llu bytes", got,
		    (unsigned long long)length);
		return false;
	}
	buf[got] = '\0';
	*body = buf;
	*body_len = got;
	return true;
}

/*
 * Writes the response: a Status: line, the headers that apply, the body.
 * The headers are formatted here, not by libfcgi's own printf, which lacks
 * C99 conversions.
 */
static void
write_response(FCGX_Request *fcgi, const struct response *response)
{
	char head[512];
	int n;

	n = snprintf(head, sizeof(head),
	    "Status: %d %s\r\n"
	    "%s%s%s"
	    "Content-Length: %zu\r\n"
	    "%s%s%s"
	    "%s%s%s",
	    response->status, http_reason(response->status),
	    response->content_type != NULL ? "Content-Type: " : "",
	    response->content_type != NULL ? response->content_type : "",
	    response->content_type != NULL ? "\r\n" : "",
	    response->body_len,
	    response->allow != NULL ? "Allow: " : "",
	    response->allow != NULL ? response->allow : "",
	    response->allow != NULL ? "\r\n" : "",
	    response->www_authenticate != NULL ? "WWW-Authenticate: " : "",
	    response->www_authenticate != NULL ? response->www_authenticate : "",
	    response->www_authenticate != NULL ? "\r\n" : "");
	if (n < 0 || (size_t)n >= sizeof(head) - 32)
		return;
	if (response->retry_after != 0)
		n += snprintf(head + n, sizeof(head) - (size_t)n,
		    "Retry-After: %u\r\n", response->retry_after);
	n += snprintf(head + n, sizeof(head) - (size_t)n, "\r\n");
	FCGX_PutStr(head, n, fcgi->out);
	if (response->body_len > 0)
		FCGX_PutStr(response->body, (int)response->body_len, fcgi->out);
}

/* Answers one accepted request. */
static void
serve_one(FCGX_Request *fcgi, struct app *app)
{
	struct request request;
	struct response response;
	const char *value;
	char *body = NULL;

	response_init(&response);
	memset(&request, 0, sizeof(request));
	request.method = parse_method(FCGX_GetParam("REQUEST_METHOD",
	    fcgi->envp));
	value = FCGX_GetParam("DOCUMENT_URI", fcgi->envp);
	request.path = value != NULL ? value : "";
	value = FCGX_GetParam("QUERY_STRING", fcgi->envp);
	request.query = value != NULL ? value : "";
	request.authorization = FCGX_GetParam("HTTP_AUTHORIZATION", fcgi->envp);
	if (read_body(fcgi, &body, &request.body_len, &response)) {
		request.body = body;
		router_dispatch(app, &request, &response);
	}
	write_response(fcgi, &response);
	response_free(&response);
	free(body);
}

int
edge_serve(int listen_fd, struct app *app, volatile sig_atomic_t *stop)
{
	FCGX_Request fcgi;
	int code = WORKER_EXIT_OK;

	if (FCGX_Init() != 0 ||
	    FCGX_InitRequest(&fcgi, listen_fd, FCGI_FAIL_ACCEPT_ON_INTR) != 0) {
		log_error("edge: cannot initialise libfcgi");
		return WORKER_EXIT_FAILED;
	}
	while (!*stop) {
		if (FCGX_Accept_r(&fcgi) < 0) {
			if (*stop)
				break;
			if (errno == EINTR)
				continue;
			/* the supervisor shut the socket down: drain */
			break;
		}
		serve_one(&fcgi, app);
		FCGX_Finish_r(&fcgi);
		if (store_needs_recovery(app->store)) {
			code = WORKER_EXIT_RECOVER;
			break;
		}
	}
	FCGX_Free(&fcgi, 0);
	return code;
}
