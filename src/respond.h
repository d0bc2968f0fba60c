/*
 * The answers the handlers share: a store status other than STATUS_OK as
 * its problem, and a rendered JSON body.
 */
#ifndef RELEASEMGR_RESPOND_H
#define RELEASEMGR_RESPOND_H

#include <stddef.h>
#include <stdint.h>

#include "http.h"
#include "status.h"

/*
 * Answers the problem of a store status other than STATUS_OK, for a
 * request about environment and, when system_version is not 0, that
 * system version of it: a 404 that names what does not exist, a 503
 * /problems/storage-full for a full disk, a 503 /problems/unavailable
 * for everything else (the client may retry).
 */
void	respond_status(struct response *response, enum status status,
	    const char *environment, uint64_t system_version);

/*
 * Answers 200 with a rendered JSON body (taking ownership of it), or 503
 * when it is NULL: memory ran out.
 */
void	respond_rendered(struct response *response, char *body, size_t len);

#endif
