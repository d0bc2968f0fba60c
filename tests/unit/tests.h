/*
 * The unit tests of releasemgr: one CUnit suite per module, registered by
 * test_main.c. Every test file exports one add_*_suite() function; the
 * helpers shared by the suites live in test_main.c.
 */
#ifndef RELEASEMGR_TESTS_H
#define RELEASEMGR_TESTS_H

#include <CUnit/CUnit.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "problem.h"
#include "store.h"

struct json_object;

/*
 * CHECK(condition, fmt, ...) records one CUnit assertion whose failure
 * message is the printf-formatted fmt (naming the table case) followed by
 * the condition's text. It evaluates to the condition, so a test may stop
 * early when what follows depends on it.
 */
#define CHECK(cond, ...) \
	check_at((cond), #cond, __FILE__, (unsigned)__LINE__, __VA_ARGS__)

/* Bytes of a string literal, without its terminating NUL. */
#define LIT(s)	(s), (sizeof(s) - 1)

/* test_main.c */
bool	check_at(bool ok, const char *condition, const char *file,
	    unsigned line, const char *fmt, ...)
	    __attribute__((format(printf, 5, 6)));
/*
 * Adds a suite named name with the tests of the CU_TEST_INFO_NULL
 * terminated table, and setup and teardown run around every test (either
 * may be NULL). Returns 0, or the CUnit error code.
 */
int	add_suite_with_tests(const char *name, CU_SetUpFunc setup,
	    CU_TearDownFunc teardown, const CU_TestInfo *tests);
/*
 * Creates a new empty directory under /tmp, its path written to dir (cap
 * bytes). Returns false (and records a failed assertion) on failure.
 */
bool	temp_dir_create(char *dir, size_t cap);
/* Removes the files directly in dir, then dir itself. */
void	temp_dir_remove(const char *dir);
/*
 * Writes exactly len bytes of data to path (created or truncated) and sets
 * its mode to mode, whatever the umask. Returns false on failure.
 */
bool	write_file(const char *path, const void *data, size_t len, mode_t mode);
/*
 * A malloc'd copy of exactly len bytes (no terminator), so that AddressSanitizer
 * and valgrind catch any read past len. The caller frees it.
 */
char	*copy_exact(const char *s, size_t len);
/*
 * Fills invalid with a kind no parser reports (PROBLEM_UNAVAILABLE) and the
 * name "(unset)", so that a test sees what a parser wrote into it.
 */
void	invalid_reset(struct invalid *invalid);
/* Writes a printable rendering of len bytes of s (\xNN escapes) into buf. */
const char *printable(const char *s, size_t len, char *buf, size_t cap);

/*
 * Options for a store in home, opened for role, as the store and admin
 * suites use it: durable, small cache, a keyframe every 3 versions so
 * that every test crosses some.
 */
struct store_options	test_store_options(const char *home,
			    enum store_role role);
/*
 * A fresh store in a new temporary directory (its path written to dir, cap
 * bytes), opened as the supervisor opens it (STORE_RECOVER); NULL, with a
 * failed assertion, when either fails.
 */
struct store	*test_store_create(char *dir, size_t cap);
/* Closes store (NULL accepted) and removes its directory dir. */
void		 test_store_destroy(struct store *store, char *dir);

/* Stops the test when the setup could not open its store. */
#define REQUIRE_STORE(store) \
	do { \
		if ((store) == NULL) { \
			CU_FAIL_FATAL("no store: the setup failed"); \
		} \
	} while (0)

/* One service of a list a test builds; a NULL name ends the list early. */
struct test_service {
	const char	*name;
	uint64_t	 version;
};

/*
 * Empties list, then appends the services, up to count of them or the
 * first NULL name; false when memory ran out.
 */
bool	test_list_fill(struct service_list *list,
	    const struct test_service *services, size_t count);

/*
 * The one JSON value that is the whole of len bytes of text, parsed
 * strictly by json-c, or NULL; the caller releases it (json_object_put).
 */
struct json_object	*json_parse_exact(const char *text, size_t len);
/* True when object's member key is the string want, byte for byte. */
bool	json_has_string(struct json_object *object, const char *key,
	    const char *want);
/* True when object's member key is the integer want. */
bool	json_has_uint(struct json_object *object, const char *key,
	    uint64_t want);
/* True when object has the member key, and it is null. */
bool	json_has_null(struct json_object *object, const char *key);

/* One member an object is expected to have: a string, an integer or null. */
struct json_member {
	const char	*key;
	enum { MEMBER_STRING, MEMBER_UINT, MEMBER_NULL } kind;
	const char	*text;		/* MEMBER_STRING */
	uint64_t	 number;	/* MEMBER_UINT */
};

#define JSTR(key, text)		{ (key), MEMBER_STRING, (text), 0 }
#define JUINT(key, number)	{ (key), MEMBER_UINT, NULL, (number) }
#define JNULL(key)		{ (key), MEMBER_NULL, NULL, 0 }

/*
 * Checks (one assertion each, naming label) that object is an object with
 * exactly the count members of want plus nested others (arrays or objects
 * the caller checks), and each member of want as given. Returns true when
 * every check passed.
 */
bool	json_expect_members(const char *label, struct json_object *object,
	    const struct json_member *want, size_t count, size_t nested);

/* test_validate.c */
int	add_validate_suite(void);

/* test_query.c */
int	add_query_suite(void);

/* test_json.c */
int	add_json_suite(void);

/* test_store.c */
int	add_store_suite(void);
/* test_reports.c */
int	add_reports_suite(void);

/* test_records.c */
int	add_records_suite(void);

/* test_config.c */
int	add_config_suite(void);

/* test_log.c */
int	add_log_suite(void);

/* test_auth.c */
int	add_auth_suite(void);

/* test_admin.c */
int	add_admin_suite(void);

/* test_http.c */
int	add_http_suite(void);

/* test_model.c */
int	add_model_suite(void);

/* test_badge.c */
int	add_badge_suite(void);

/* test_render.c */
int	add_render_suite(void);

/* test_router.c */
int	add_router_suite(void);

/* test_digest.c */
int	add_digest_suite(void);
int	add_site_suite(void);
int	add_replication_suite(void);

/* test_metrics.c */
int	add_metrics_suite(void);

#endif
