/*
 * The supervisor of the worker pool.
 */
#ifndef RELEASEMGR_POOL_H
#define RELEASEMGR_POOL_H

#include "auth.h"
#include "config.h"

/*
 * Runs the pool in the foreground: takes the data directory's lock,
 * recovers the store, listens on the unix socket, forks config->workers
 * workers and keeps them running (replacing any that die, running failure
 * checks and, when needed, recovery), checkpoints periodically, and drains
 * on SIGTERM or SIGINT. Returns the process exit code.
 */
int	pool_run(const struct config *config, const struct auth *auth);

#endif
