/*
 * The auth suite: auth_load over a table of token files (content and
 * mode), and auth_permits over a table of Authorization headers.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "auth.h"
#include "tests.h"

/* The temporary directory of the running test, for token files. */
static char auth_dir[64];

static void
auth_setup(void)
{
	temp_dir_create(auth_dir, sizeof(auth_dir));
}

static void
auth_teardown(void)
{
	temp_dir_remove(auth_dir);
	auth_dir[0] = '\0';
}

struct load_case {
	const char	*label;
	const char	*content;
	size_t		 len;
	mode_t		 mode;
	const char	*token;		/* NULL: the file is refused */
	const char	*secret;	/* text an error must never quote */
};

#define LOADS(label, lit, mode, token) \
	{ label, LIT(lit), mode, token, NULL }
#define REFUSED(label, lit, mode, secret) \
	{ label, LIT(lit), mode, NULL, secret }

static const struct load_case load_cases[] = {
	LOADS("token and newline", "Zq9-s3cret\n", 0600, "Zq9-s3cret"),
	LOADS("no newline", "Zq9-s3cret", 0600, "Zq9-s3cret"),
	LOADS("CRLF", "Zq9-s3cret\r\n", 0600, "Zq9-s3cret"),
	LOADS("CR", "Zq9-s3cret\r", 0600, "Zq9-s3cret"),
	LOADS("first line taken", "Zq9-first\nZq9-second\n", 0600, "Zq9-first"),
	LOADS("first of CRLF lines", "Zq9-first\r\nZq9-second\r\n", 0600,
	    "Zq9-first"),
	LOADS("printable punctuation", "a~!@#$%^&*()_+{}|:\"<>?`-=[]\\;',./\n",
	    0600, "a~!@#$%^&*()_+{}|:\"<>?`-=[]\\;',./"),
	LOADS("one character", "x\n", 0600, "x"),
	LOADS("mode 0400", "Zq9-s3cret\n", 0400, "Zq9-s3cret"),
	LOADS("mode 0700", "Zq9-s3cret\n", 0700, "Zq9-s3cret"),
	REFUSED("mode 0644", "Zq9-s3cret\n", 0644, "Zq9-s3cret"),
	REFUSED("mode 0640", "Zq9-s3cret\n", 0640, "Zq9-s3cret"),
	REFUSED("mode 0604", "Zq9-s3cret\n", 0604, "Zq9-s3cret"),
	REFUSED("mode 0620", "Zq9-s3cret\n", 0620, "Zq9-s3cret"),
	REFUSED("mode 0602", "Zq9-s3cret\n", 0602, "Zq9-s3cret"),
	REFUSED("mode 0610", "Zq9-s3cret\n", 0610, "Zq9-s3cret"),
	REFUSED("mode 0601", "Zq9-s3cret\n", 0601, "Zq9-s3cret"),
	REFUSED("empty file", "", 0600, NULL),
	REFUSED("newline only", "\n", 0600, NULL),
	REFUSED("CRLF only", "\r\n", 0600, NULL),
	REFUSED("empty first line", "\nZq9-s3cret\n", 0600, "Zq9-s3cret"),
	REFUSED("space in the token", "Zq9 s3cret\n", 0600, "s3cret"),
	REFUSED("leading space", " Zq9-s3cret\n", 0600, "Zq9-s3cret"),
	REFUSED("trailing space", "Zq9-s3cret \n", 0600, "Zq9-s3cret"),
	REFUSED("tab in the token", "Zq9\ts3cret\n", 0600, "s3cret"),
	REFUSED("control character", "Zq9\x01s3cret\n", 0600, "s3cret"),
	REFUSED("DEL", "Zq9-s3cret\x7f\n", 0600, "Zq9-s3cret"),
	REFUSED("non-ASCII", "Zq9-s3cr\xc3\xa9t\n", 0600, "Zq9-s3cr"),
	/* the first line is "Zq9\0-s3cret": not a token of 3 characters */
	REFUSED("NUL in the token", "Zq9\0-s3cret\n", 0600, NULL),
};

/* Writes a token file of the test's directory; path gets its path. */
static bool
token_file(const void *content, size_t len, mode_t mode, char *path,
    size_t cap)
{
	snprintf(path, cap, "%s/token", auth_dir);
	return CHECK(write_file(path, content, len, mode), "write %s", path);
}

static void
test_load_table(void)
{
	char path[128];

	for (size_t i = 0; i < sizeof(load_cases) / sizeof(load_cases[0]); i++) {
		const struct load_case *c = &load_cases[i];
		struct auth auth;
		char err[512] = "";
		enum status status;

		if (!token_file(c->content, c->len, c->mode, path, sizeof(path)))
			return;
		memset(&auth, 0x5A, sizeof(auth));
		status = auth_load(&auth, path, err, sizeof(err));
		if (c->token != NULL) {
			CHECK(status == STATUS_OK && auth.len == strlen(c->token) &&
			    memcmp(auth.token, c->token, auth.len) == 0 &&
			    auth.token[auth.len] == '\0', "token file '%s': %s, "
			    "%zu bytes: %s", c->label, status_name(status),
			    auth.len, err);
			continue;
		}
		if (!CHECK(status == STATUS_INVALID, "token file '%s': %s, "
		    "token of %zu bytes", c->label, status_name(status),
		    auth.len))
			continue;
		CHECK(err[0] != '\0', "token file '%s': no reason", c->label);
		CHECK(c->secret == NULL || strstr(err, c->secret) == NULL,
		    "token file '%s': the error quotes the token: %s", c->label,
		    err);
	}
}

static void
test_load_missing_and_special(void)
{
	char path[160], target[160], err[512];
	struct auth auth;

	snprintf(path, sizeof(path), "%s/missing", auth_dir);
	err[0] = '\0';
	CHECK(auth_load(&auth, path, err, sizeof(err)) == STATUS_INVALID &&
	    err[0] != '\0', "missing file: '%s'", err);

	/* a directory is not a token file */
	CHECK(auth_load(&auth, auth_dir, err, sizeof(err)) == STATUS_INVALID,
	    "a directory");

	/* nor a symbolic link, even to a good file */
	if (!token_file(LIT("Zq9-s3cret\n"), 0600, target, sizeof(target)))
		return;
	snprintf(path, sizeof(path), "%s/link", auth_dir);
	if (CHECK(symlink(target, path) == 0, "symlink"))
		CHECK(auth_load(&auth, path, err, sizeof(err)) == STATUS_INVALID,
		    "a symbolic link");
}

/* The longest token: the file holds at most TOKEN_MAX bytes. */
static void
test_load_longest(void)
{
	char path[128], err[512] = "", *content, *header;
	struct auth auth;
	enum status status;

	content = malloc(TOKEN_MAX + 2);
	header = malloc(TOKEN_MAX + 16);
	if (!CHECK(content != NULL && header != NULL, "out of memory"))
		goto done;
	memset(content, 'T', TOKEN_MAX + 1);
	if (!token_file(content, TOKEN_MAX, 0600, path, sizeof(path)))
		goto done;
	status = auth_load(&auth, path, err, sizeof(err));
	if (CHECK(status == STATUS_OK && auth.len == TOKEN_MAX,
	    "a token of %d bytes: %s %s", TOKEN_MAX, status_name(status), err)) {
		memcpy(header, "Bearer ", 7);
		memset(header + 7, 'T', TOKEN_MAX);
		header[7 + TOKEN_MAX] = '\0';
		CHECK(auth_permits(&auth, header), "the longest token");
		header[7 + TOKEN_MAX] = 'T';
		header[8 + TOKEN_MAX] = '\0';
		CHECK(!auth_permits(&auth, header), "the longest token plus one");
		header[6 + TOKEN_MAX] = '\0';
		CHECK(!auth_permits(&auth, header), "the longest token minus one");
	}
	if (!token_file(content, TOKEN_MAX + 1, 0600, path, sizeof(path)))
		goto done;
	CHECK(auth_load(&auth, path, err, sizeof(err)) == STATUS_INVALID,
	    "a file of %d bytes", TOKEN_MAX + 1);
done:
	free(header);
	free(content);
}

struct permit_case {
	const char	*label;
	const char	*header;	/* NULL: no Authorization header */
	bool		 permitted;
};

static const struct permit_case permit_cases[] = {
	{ "Bearer and the token", "Bearer s3cr3t-T0ken", true },
	{ "lower-case scheme", "bearer s3cr3t-T0ken", true },
	{ "upper-case scheme", "BEARER s3cr3t-T0ken", true },
	{ "mixed-case scheme", "bEaReR s3cr3t-T0ken", true },
	{ "no header", NULL, false },
	{ "empty header", "", false },
	{ "wrong token", "Bearer wrong", false },
	{ "token plus one character", "Bearer s3cr3t-T0kenX", false },
	{ "token minus one character", "Bearer s3cr3t-T0ke", false },
	{ "first character differs", "Bearer x3cr3t-T0ken", false },
	{ "last character differs", "Bearer s3cr3t-T0keN", false },
	{ "token in another case", "Bearer S3CR3T-T0KEN", false },
	{ "token alone", "s3cr3t-T0ken", false },
	{ "Basic scheme", "Basic czNjcjN0LVQwa2Vu", false },
	{ "Basic with the token", "Basic s3cr3t-T0ken", false },
	{ "Bearer alone", "Bearer", false },
	{ "Bearer and a space", "Bearer ", false },
	{ "no space", "Bearers3cr3t-T0ken", false },
	{ "tab for space", "Bearer\ts3cr3t-T0ken", false },
	{ "trailing space", "Bearer s3cr3t-T0ken ", false },
	{ "token twice", "Bearer s3cr3t-T0kens3cr3t-T0ken", false },
	{ "another scheme before", "Token Bearer s3cr3t-T0ken", false },
};

static void
test_permits_table(void)
{
	struct auth auth;

	memset(&auth, 0, sizeof(auth));
	auth.len = strlen("s3cr3t-T0ken");
	memcpy(auth.token, "s3cr3t-T0ken", auth.len);
	for (size_t i = 0; i < sizeof(permit_cases) / sizeof(permit_cases[0]); i++) {
		const struct permit_case *c = &permit_cases[i];
		char *header = NULL;

		/* an exact copy, so that a read past its end is caught */
		if (c->header != NULL && !CHECK((header = copy_exact(c->header,
		    strlen(c->header) + 1)) != NULL, "out of memory"))
			return;
		CHECK(auth_permits(&auth, header) == c->permitted,
		    "header '%s' (%s): expected %s", c->label,
		    c->header != NULL ? c->header : "none",
		    c->permitted ? "permitted" : "refused");
		free(header);
	}
}

/* A token loaded from a file is the one auth_permits compares with. */
static void
test_permits_loaded(void)
{
	char path[128], err[512] = "";
	struct auth auth;

	if (!token_file(LIT("Zq9-s3cret\r\n"), 0600, path, sizeof(path)))
		return;
	if (!CHECK(auth_load(&auth, path, err, sizeof(err)) == STATUS_OK,
	    "load: %s", err))
		return;
	CHECK(auth_permits(&auth, "Bearer Zq9-s3cret"), "the loaded token");
	CHECK(!auth_permits(&auth, "Bearer Zq9-s3cret\r"), "with its CR");
	CHECK(!auth_permits(&auth, NULL), "no header");
}

/* Without a token, deploys are open. */
static void
test_permits_open(void)
{
	static const char *const headers[] = {
		NULL, "", "Bearer", "Bearer anything", "Basic eDp5",
	};
	struct auth auth;

	memset(&auth, 0, sizeof(auth));
	for (size_t i = 0; i < sizeof(headers) / sizeof(headers[0]); i++)
		CHECK(auth_permits(&auth, headers[i]), "open, header '%s'",
		    headers[i] != NULL ? headers[i] : "none");
}

static const CU_TestInfo auth_tests[] = {
	{ "auth_load table", test_load_table },
	{ "auth_load missing file, directory, symlink",
	    test_load_missing_and_special },
	{ "auth_load longest token", test_load_longest },
	{ "auth_permits table", test_permits_table },
	{ "auth_permits with a loaded token", test_permits_loaded },
	{ "auth_permits open", test_permits_open },
	CU_TEST_INFO_NULL,
};

int
add_auth_suite(void)
{
	return add_suite_with_tests("auth", auth_setup, auth_teardown,
	    auth_tests);
}
