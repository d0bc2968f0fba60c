/*
 * The FastCGI edge. It turns FastCGI parameters and stdin into a struct
 * request, bounded before anything is allocated, and a struct response
 * into a CGI response (Status: line, headers, body).
 */
#include <errno.h>
#include <fcgiapp.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "edge.h"
#include "log.h"
#include "router.h"
#include "validate.h"

#define THREAD_STACK_SIZE	(512 * 1024)
#define STOP_POLL_NS		(100 * 1000 * 1000L)

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
	if (strcmp(method, "DELETE") == 0)
		return HTTP_DELETE;
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
		response_problem(response, PROBLEM_BAD_REQUEST, NULL,
		    "the Content-Length is not a decimal number");
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
		response_problem(response, PROBLEM_BAD_REQUEST, NULL,
		    "the body ended after %zu of %llu bytes", got,
		    (unsigned long long)length);
		return false;
	}
	buf[got] = '\0';
	*body = buf;
	*body_len = got;
	return true;
}

/* Appends "name: value\r\n" to the header block when value is set. */
static void
add_header(char *head, size_t size, size_t *len, const char *name,
    const char *value)
{
	int n;

	if (value == NULL || *value == '\0' || *len >= size)
		return;
	n = snprintf(head + *len, size - *len, "%s: %s\r\n", name, value);
	if (n > 0)
		*len += (size_t)n;
}

/*
 * Writes the response: a Status: line, the headers that apply, the body.
 * The headers are formatted here, not by libfcgi's own printf, which lacks
 * C99 conversions. A 304 carries no body, and no length.
 */
static void
write_response(FCGX_Request *fcgi, const struct response *response)
{
	char head[1024], number[32];
	size_t len = 0;

	snprintf(number, sizeof(number), "%d %s", response->status,
	    http_reason(response->status));
	add_header(head, sizeof(head), &len, "Status", number);
	add_header(head, sizeof(head), &len, "Content-Type",
	    response->content_type);
	if (response->status != 304) {
		snprintf(number, sizeof(number), "%zu", response->body_len);
		add_header(head, sizeof(head), &len, "Content-Length", number);
	}
	add_header(head, sizeof(head), &len, "ETag", response->etag);
	add_header(head, sizeof(head), &len, "Cache-Control",
	    response->cache_control);
	add_header(head, sizeof(head), &len, "Link", response->link);
	add_header(head, sizeof(head), &len, "Deploy-Outcome",
	    response->deploy_outcome);
	add_header(head, sizeof(head), &len, "Allow", response->allow);
	add_header(head, sizeof(head), &len, "WWW-Authenticate",
	    response->www_authenticate);
	/* read by nginx, never passed on: it must not cache this answer */
	if (response->not_for_proxy_cache)
		add_header(head, sizeof(head), &len, "X-Accel-Expires", "0");
	if (response->retry_after != 0) {
		snprintf(number, sizeof(number), "%u", response->retry_after);
		add_header(head, sizeof(head), &len, "Retry-After", number);
	}
	if (len + 2 >= sizeof(head))
		return;		/* cannot happen: the values are bounded */
	head[len++] = '\r';
	head[len++] = '\n';
	FCGX_PutStr(head, (int)len, fcgi->out);
	if (response->body_len > 0)
		FCGX_PutStr(response->body, (int)response->body_len, fcgi->out);
}

/* The monotonic clock, in ns. */
static uint64_t
monotonic_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Answers one accepted request, and counts it in the worker's metrics. */
static void
serve_one(FCGX_Request *fcgi, struct app *app)
{
	struct request request;
	struct response response;
	const char *value;
	char *body = NULL;
	uint64_t start = app->requests != NULL ? monotonic_ns() : 0;

	response_init(&response);
	memset(&request, 0, sizeof(request));
	/* nginx's id of the request, also in its access log, on our lines */
	log_set_request_id(FCGX_GetParam("REQUEST_ID", fcgi->envp));
	request.method = parse_method(FCGX_GetParam("REQUEST_METHOD",
	    fcgi->envp));
	value = FCGX_GetParam("DOCUMENT_URI", fcgi->envp);
	request.path = value != NULL ? value : "";
	value = FCGX_GetParam("REQUEST_URI", fcgi->envp);
	request.raw_path = value != NULL ? value : "";
	request.raw_path_len = strcspn(request.raw_path, "?");
	value = FCGX_GetParam("QUERY_STRING", fcgi->envp);
	request.query = value != NULL ? value : "";
	request.authorization = FCGX_GetParam("HTTP_AUTHORIZATION", fcgi->envp);
	request.if_none_match = FCGX_GetParam("HTTP_IF_NONE_MATCH", fcgi->envp);
	if (read_body(fcgi, &body, &request.body_len, &response)) {
		request.body = body;
		router_dispatch(app, &request, &response);
	}
	write_response(fcgi, &response);
	if (app->requests != NULL)
		metrics_observe(app->requests, response.route, response.status,
		    monotonic_ns() - start);
	response_free(&response);
	free(body);
	log_set_request_id(NULL);
}

/* What the serving threads of one worker share. */
struct edge {
	int		 listen_fd;
	struct app	*app;
	pthread_mutex_t	 lock;
	pthread_cond_t	 changed;	/* a thread ended, or asked for recovery */
	bool		 stopping;	/* no new request is taken once set */
	bool		 recover;	/* the store needs recovery */
	unsigned	 busy;		/* threads answering a request */
	unsigned	 running;	/* threads not yet ended */
};

/* Marks the end of one request; true when the thread should go on. */
static bool
request_done(struct edge *edge)
{
	bool go_on;

	pthread_mutex_lock(&edge->lock);
	edge->busy--;
	if (store_needs_recovery(edge->app->store) && !edge->recover) {
		edge->recover = true;
		pthread_cond_signal(&edge->changed);
	}
	go_on = !edge->stopping && !edge->recover;
	pthread_mutex_unlock(&edge->lock);
	return go_on;
}

/*
 * One serving thread: accepts and answers requests one at a time until the
 * worker stops or the socket is shut down.
 */
static void *
serve_thread(void *arg)
{
	struct edge *edge = arg;
	FCGX_Request fcgi;
	bool go_on = true;

	if (FCGX_InitRequest(&fcgi, edge->listen_fd, FCGI_FAIL_ACCEPT_ON_INTR) != 0)
		go_on = false;
	while (go_on) {
		if (FCGX_Accept_r(&fcgi) < 0) {
			if (errno == EINTR)
				continue;
			break;	/* the supervisor shut the socket down: drain */
		}
		pthread_mutex_lock(&edge->lock);
		go_on = !edge->stopping;
		if (go_on)
			edge->busy++;
		pthread_mutex_unlock(&edge->lock);
		if (!go_on)
			break;	/* the worker is closing the store: not this one */
		serve_one(&fcgi, edge->app);
		FCGX_Finish_r(&fcgi);
		go_on = request_done(edge);
	}
	FCGX_Free(&fcgi, 1);
	pthread_mutex_lock(&edge->lock);
	edge->running--;
	pthread_cond_signal(&edge->changed);
	pthread_mutex_unlock(&edge->lock);
	return NULL;
}

/* Starts the serving threads with the stop signals blocked; returns how many started. */
static unsigned
start_threads(struct edge *edge, unsigned threads)
{
	pthread_attr_t attr;
	pthread_t thread;
	sigset_t blocked, saved;
	unsigned started = 0;

	sigemptyset(&blocked);
	sigaddset(&blocked, SIGTERM);
	sigaddset(&blocked, SIGINT);
	pthread_sigmask(SIG_BLOCK, &blocked, &saved);
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&attr, THREAD_STACK_SIZE);
	for (; started < threads; started++) {
		pthread_mutex_lock(&edge->lock);
		edge->running++;
		pthread_mutex_unlock(&edge->lock);
		if ((errno = pthread_create(&thread, &attr, serve_thread, edge)) != 0) {
			log_error("edge: cannot start a thread: %s", strerror(errno));
			pthread_mutex_lock(&edge->lock);
			edge->running--;
			pthread_mutex_unlock(&edge->lock);
			break;
		}
	}
	pthread_attr_destroy(&attr);
	pthread_sigmask(SIG_SETMASK, &saved, NULL);
	return started;
}

int
edge_serve(int listen_fd, struct app *app, unsigned threads,
    volatile sig_atomic_t *stop)
{
	/* static: threads still in accept may touch it after this returns */
	static struct edge edge;
	struct timespec until;
	int code = WORKER_EXIT_OK;

	if (FCGX_Init() != 0) {
		log_error("edge: cannot initialise libfcgi");
		return WORKER_EXIT_FAILED;
	}
	edge.listen_fd = listen_fd;
	edge.app = app;
	pthread_mutex_init(&edge.lock, NULL);
	pthread_cond_init(&edge.changed, NULL);
	if (start_threads(&edge, threads) == 0)
		code = WORKER_EXIT_FAILED;

	/* the signal handler sets *stop: look at it a few times a second */
	pthread_mutex_lock(&edge.lock);
	while (!*stop && !edge.recover && edge.running > 0) {
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_nsec += STOP_POLL_NS;
		if (until.tv_nsec >= 1000000000L) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&edge.changed, &edge.lock, &until);
	}
	/* requests being answered are finished; threads waiting in accept are not waited for */
	edge.stopping = true;
	while (edge.busy > 0)
		pthread_cond_wait(&edge.changed, &edge.lock);
	if (edge.recover)
		code = WORKER_EXIT_RECOVER;
	pthread_mutex_unlock(&edge.lock);
	/* the threads still in accept end with the process, which follows */
	return code;
}
