/*
 * The unit test runner: registers one suite per module, runs them all with
 * CUnit's basic interface in verbose mode (whose closing run summary CI
 * reads), and exits non-zero when a suite could not be registered or run,
 * or when any assertion failed.
 *
 * It also holds the helpers the suites share: formatted assertions,
 * temporary directories and files.
 */
#include <CUnit/Basic.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tests.h"

bool
check_at(bool ok, const char *condition, const char *file, unsigned line,
    const char *fmt, ...)
{
	char message[1024];
	va_list ap;
	int n;

	if (ok) {
		CU_assertImplementation(CU_TRUE, line, condition, file, "",
		    CU_FALSE);
		return true;
	}
	va_start(ap, fmt);
	n = vsnprintf(message, sizeof(message), fmt, ap);
	va_end(ap);
	if (n < 0)
		message[0] = '\0';
	if (strlen(message) + 4 < sizeof(message))
		snprintf(message + strlen(message),
		    sizeof(message) - strlen(message), " (%s)", condition);
	CU_assertImplementation(CU_FALSE, line, message, file, "", CU_FALSE);
	return false;
}

int
add_suite_with_tests(const char *name, CU_SetUpFunc setup,
    CU_TearDownFunc teardown, const CU_TestInfo *tests)
{
	CU_pSuite suite;

	suite = CU_add_suite_with_setup_and_teardown(name, NULL, NULL, setup,
	    teardown);
	if (suite == NULL)
		return (int)CU_get_error();
	for (const CU_TestInfo *t = tests; t->pName != NULL; t++)
		if (CU_add_test(suite, t->pName, t->pTestFunc) == NULL)
			return (int)CU_get_error();
	return 0;
}

void
invalid_reset(struct invalid *invalid)
{
	memset(invalid, 0, sizeof(*invalid));
	invalid->kind = PROBLEM_UNAVAILABLE;
	invalid->name = "(unset)";
}

struct store_options
test_store_options(const char *home, enum store_role role)
{
	struct store_options options;

	memset(&options, 0, sizeof(options));
	options.home = home;
	options.role = role;
	options.cache_mb = 4;
	options.lock_timeout_ms = 1000;
	options.durable = true;
	options.keyframe_interval = 3;
	options.commit_delay_us = 200;
	return options;
}

struct store *
test_store_create(char *dir, size_t cap)
{
	struct store_options options;
	struct store *store = NULL;
	enum status status;

	if (!temp_dir_create(dir, cap))
		return NULL;
	options = test_store_options(dir, STORE_RECOVER);
	status = store_open(&options, &store);
	CHECK(status == STATUS_OK && store != NULL, "store_open(%s): %s", dir,
	    status_name(status));
	return status == STATUS_OK ? store : NULL;
}

void
test_store_destroy(struct store *store, char *dir)
{
	store_close(store);
	temp_dir_remove(dir);
	dir[0] = '\0';
}

bool
test_list_fill(struct service_list *list, const struct test_service *services,
    size_t count)
{
	service_list_clear(list);
	for (size_t i = 0; i < count && services[i].name != NULL; i++)
		if (!service_list_append(list, services[i].name,
		    strlen(services[i].name), services[i].version))
			return false;
	return true;
}

bool
temp_dir_create(char *dir, size_t cap)
{
	static const char template[] = "/tmp/releasemgr-unit-XXXXXX";

	if (!CHECK(cap >= sizeof(template), "temporary directory buffer"))
		return false;
	memcpy(dir, template, sizeof(template));
	if (!CHECK(mkdtemp(dir) != NULL, "mkdtemp: %s", strerror(errno))) {
		dir[0] = '\0';
		return false;
	}
	return true;
}

void
temp_dir_remove(const char *dir)
{
	DIR *d;
	struct dirent *entry;
	char path[4096];

	if (dir == NULL || dir[0] == '\0')
		return;
	if ((d = opendir(dir)) != NULL) {
		while ((entry = readdir(d)) != NULL) {
			if (strcmp(entry->d_name, ".") == 0 ||
			    strcmp(entry->d_name, "..") == 0)
				continue;
			if (snprintf(path, sizeof(path), "%s/%s", dir,
			    entry->d_name) < (int)sizeof(path))
				unlink(path);
		}
		closedir(d);
	}
	CHECK(rmdir(dir) == 0, "removing %s: %s", dir, strerror(errno));
}

bool
write_file(const char *path, const void *data, size_t len, mode_t mode)
{
	const char *p = data;
	int fd;
	bool ok = true;

	if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
	    0600)) == -1)
		return false;
	while (ok && len > 0) {
		ssize_t n = write(fd, p, len);

		if (n <= 0)
			ok = false;
		else {
			p += n;
			len -= (size_t)n;
		}
	}
	if (fchmod(fd, mode) == -1)
		ok = false;
	if (close(fd) == -1)
		ok = false;
	return ok;
}

char *
copy_exact(const char *s, size_t len)
{
	char *copy = malloc(len != 0 ? len : 1);

	if (copy != NULL && len != 0)
		memcpy(copy, s, len);
	return copy;
}

const char *
printable(const char *s, size_t len, char *buf, size_t cap)
{
	size_t n = 0;

	if (cap == 0)
		return buf;
	for (size_t i = 0; i < len && n + 5 < cap; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c >= 0x20 && c < 0x7F && c != '\\')
			buf[n++] = (char)c;
		else
			n += (size_t)snprintf(buf + n, cap - n, "\\x%02X", c);
	}
	buf[n] = '\0';
	return buf;
}

struct json_object *
json_parse_exact(const char *text, size_t len)
{
	struct json_tokener *tok;
	struct json_object *root = NULL;

	if (text == NULL || len > INT32_MAX || (tok = json_tokener_new()) == NULL)
		return NULL;
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	root = json_tokener_parse_ex(tok, text, (int)len);
	if (root != NULL && json_tokener_get_parse_end(tok) != len) {
		json_object_put(root);
		root = NULL;
	}
	json_tokener_free(tok);
	return root;
}

bool
json_has_string(struct json_object *object, const char *key, const char *want)
{
	struct json_object *value;
	size_t len = strlen(want);

	return json_object_object_get_ex(object, key, &value) &&
	    json_object_is_type(value, json_type_string) &&
	    (size_t)json_object_get_string_len(value) == len &&
	    memcmp(json_object_get_string(value), want, len) == 0;
}

bool
json_has_uint(struct json_object *object, const char *key, uint64_t want)
{
	struct json_object *value;

	return json_object_object_get_ex(object, key, &value) &&
	    json_object_is_type(value, json_type_int) &&
	    json_object_get_uint64(value) == want &&
	    (want > INT64_MAX || json_object_get_int64(value) == (int64_t)want);
}

bool
json_has_null(struct json_object *object, const char *key)
{
	struct json_object *value;

	return json_object_object_get_ex(object, key, &value) && value == NULL;
}

bool
json_expect_members(const char *label, struct json_object *object,
    const struct json_member *want, size_t count, size_t nested)
{
	bool ok;

	if (!CHECK(json_object_is_type(object, json_type_object),
	    "%s: not an object", label))
		return false;
	ok = CHECK((size_t)json_object_object_length(object) == count + nested,
	    "%s: %d members, expected %zu: %s", label,
	    json_object_object_length(object), count + nested,
	    json_object_to_json_string(object));
	for (size_t i = 0; i < count; i++) {
		const struct json_member *m = &want[i];
		char expected[96];
		bool found;

		if (m->kind == MEMBER_STRING) {
			found = json_has_string(object, m->key, m->text);
			printable(m->text, strlen(m->text), expected,
			    sizeof(expected));
		} else if (m->kind == MEMBER_UINT) {
			found = json_has_uint(object, m->key, m->number);
			snprintf(expected, sizeof(expected), "%llu",
			    (unsigned long long)m->number);
		} else {
			found = json_has_null(object, m->key);
			snprintf(expected, sizeof(expected), "null");
		}
		ok = CHECK(found, "%s: member %s is not %s: %s", label, m->key,
		    expected, json_object_to_json_string(object)) && ok;
	}
	return ok;
}

int
main(void)
{
	static int (*const suites[])(void) = {
		add_validate_suite,
		add_query_suite,
		add_json_suite,
		add_config_suite,
		add_log_suite,
		add_auth_suite,
		add_store_suite,
		add_reports_suite,
		add_records_suite,
		add_admin_suite,
		add_http_suite,
		add_model_suite,
		add_badge_suite,
		add_render_suite,
		add_router_suite,
		add_digest_suite,
		add_site_suite,
		add_replication_suite,
		add_metrics_suite,
	};
	unsigned failures, tests_failed, suites_failed;
	CU_ErrorCode rc;

	if (CU_initialize_registry() != CUE_SUCCESS) {
		fprintf(stderr, "test_unit: cannot initialise CUnit: %s\n",
		    CU_get_error_msg());
		return 1;
	}
	for (size_t i = 0; i < sizeof(suites) / sizeof(suites[0]); i++)
		if (suites[i]() != 0) {
			fprintf(stderr, "test_unit: cannot register a suite: "
			    "%s\n", CU_get_error_msg());
			CU_cleanup_registry();
			return 1;
		}
	CU_basic_set_mode(CU_BRM_VERBOSE);
	rc = CU_basic_run_tests();
	failures = CU_get_number_of_failures();
	tests_failed = CU_get_number_of_tests_failed();
	suites_failed = CU_get_number_of_suites_failed();
	CU_cleanup_registry();
	if (rc != CUE_SUCCESS) {
		fprintf(stderr, "test_unit: the run failed: error %d\n", (int)rc);
		return 1;
	}
	return failures == 0 && tests_failed == 0 && suites_failed == 0 ? 0 : 1;
}
