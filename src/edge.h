/*
 * The FastCGI edge: the only module that speaks FastCGI (libfcgi).
 */
#ifndef RELEASEMGR_EDGE_H
#define RELEASEMGR_EDGE_H

#include <signal.h>

#include "handlers.h"

/* Exit codes of a worker process, read by the supervisor. */
#define WORKER_EXIT_OK		0	/* stopped as asked */
#define WORKER_EXIT_FAILED	1	/* could not start serving */
#define WORKER_EXIT_RECOVER	75	/* the store needs recovery */
/* the replication process found no group to join (and may not create one) */
#define WORKER_EXIT_NO_GROUP	76

/*
 * Accepts and answers requests on the listening socket listen_fd with
 * threads serving threads, each one request at a time, until *stop is set
 * (by a signal handler of the calling thread: the serving threads block
 * SIGTERM and SIGINT), the socket is shut down, or the store needs
 * recovery. Requests being answered are always finished. Called once per
 * process; the caller exits soon after it returns. Returns a
 * WORKER_EXIT_* code.
 */
int	edge_serve(int listen_fd, struct app *app, unsigned threads,
	    volatile sig_atomic_t *stop);

#endif
