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
#include <sys/types.h>

#include "store.h"

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
/* Writes a printable rendering of len bytes of s (\xNN escapes) into buf. */
const char *printable(const char *s, size_t len, char *buf, size_t cap);

/*
 * Options for a store in home, opened for role, as the store and admin
 * suites use it: durable, small cache, a keyframe every 3 versions so
 * that every test crosses some.
 */
struct store_options	test_store_options(const char *home,
			    enum store_role role);

/* test_validate.c */
int	add_validate_suite(void);

/* test_json.c */
int	add_json_suite(void);

/* test_store.c */
int	add_store_suite(void);

/* test_records.c */
int	add_records_suite(void);

/* test_config.c */
int	add_config_suite(void);

/* test_auth.c */
int	add_auth_suite(void);

/* test_admin.c */
int	add_admin_suite(void);

#endif
