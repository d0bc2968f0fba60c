/*
 * The deploy token.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "auth.h"

enum status
auth_load(struct auth *auth, const char *path, char *err, size_t err_len)
{
	struct stat st;
	ssize_t n;
	size_t len;
	int fd = -1;
	enum status status = STATUS_INVALID;

	memset(auth, 0, sizeof(*auth));
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) == -1) {
		snprintf(err, err_len, "cannot open the token file %s: %s",
		    path, strerror(errno));
		goto done;
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		snprintf(err, err_len, "the token file %s is not a regular file",
		    path);
		goto done;
	}
	if (st.st_mode & (S_IRWXG | S_IRWXO)) {
		snprintf(err, err_len, "the token file %s must not be readable "
		    "or writable by group or others (chmod 600 %s)", path, path);
		goto done;
	}
	n = read(fd, auth->token, TOKEN_MAX + 1);
	if (n < 0 || n > TOKEN_MAX) {
		snprintf(err, err_len, "cannot read the token file %s: %s", path,
		    n < 0 ? strerror(errno) : "longer than 4096 bytes");
		goto done;
	}
	if (memchr(auth->token, '\0', (size_t)n) != NULL) {
		snprintf(err, err_len, "the token file %s holds a NUL byte", path);
		goto done;
	}
	len = strcspn(auth->token, "\r\n");	/* the first line */
	if (len == 0) {
		snprintf(err, err_len, "the token file %s holds no usable token",
		    path);
		goto done;
	}
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)auth->token[i];

		if (c <= 0x20 || c >= 0x7F) {
			snprintf(err, err_len, "the token in %s must be printable "
			    "ASCII without spaces", path);
			goto done;
		}
	}
	auth->len = len;
	status = STATUS_OK;
done:
	if (status != STATUS_OK)
		memset(auth, 0, sizeof(*auth));
	else
		memset(auth->token + auth->len, 0, sizeof(auth->token) - auth->len);
	if (fd != -1)
		close(fd);
	return status;
}

bool
auth_permits(const struct auth *auth, const char *authorization)
{
	static const char scheme[] = "Bearer ";
	const char *given;
	size_t given_len;
	unsigned char diff;

	if (auth->len == 0)
		return true;
	if (authorization == NULL ||
	    strncasecmp(authorization, scheme, sizeof(scheme) - 1) != 0)
		return false;
	given = authorization + sizeof(scheme) - 1;
	given_len = strnlen(given, TOKEN_MAX + 1);
	/* every byte of the token is compared, whatever the given length */
	diff = given_len != auth->len;
	for (size_t i = 0; i < auth->len; i++)
		diff |= (unsigned char)(auth->token[i] ^
		    (i < given_len ? given[i] : 0));
	return diff == 0;
}
