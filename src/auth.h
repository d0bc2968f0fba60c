/*
 * The deploy token: who may POST /deploy.
 */
#ifndef RELEASEMGR_AUTH_H
#define RELEASEMGR_AUTH_H

#include <stdbool.h>
#include <stddef.h>

#include "status.h"

#define TOKEN_MAX	4096	/* bytes of a token file */

/* The configured token; an empty one (len 0) means deploys are open. */
struct auth {
	size_t	len;
	char	token[TOKEN_MAX + 1];
};

/*
 * Reads the token from path: the file's first line, without its line end.
 * The file must not be readable or writable by others. On failure, says
 * why in err (never quoting the token) and returns STATUS_INVALID.
 */
enum status	auth_load(struct auth *auth, const char *path, char *err,
		    size_t err_len);

/*
 * True when deploys are open or the Authorization header carries
 * "Bearer <token>", compared in time that does not depend on where the
 * header first differs from the token.
 */
bool		auth_permits(const struct auth *auth, const char *authorization);

#endif
