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

/*
 * Accepts and answers requests on the listening socket listen_fd, one at a
 * time, until *stop is set or the socket is shut down. A request that is
 * being answered is always finished. Returns a WORKER_EXIT_* code.
 */
int	edge_serve(int listen_fd, struct app *app, volatile sig_atomic_t *stop);

#endif
