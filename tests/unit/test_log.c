/*
 * The log suite: lines as text and as JSON, read back from a file that
 * standard error is sent to meanwhile; their request id, set per thread
 * and only when it is nginx's; escaping, and lines cut to LOG_LINE_MAX
 * that stay valid JSON with their fields.
 */
#include <fcntl.h>
#include <json-c/json.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "tests.h"
#include "validate.h"

#define ID	"0123456789abcdef0123456789abcdef"
#define ID2	"fedcba9876543210fedcba9876543210"
#define CAPTURE_MAX	(8 * LOG_LINE_MAX)

/* The temporary directory of the running test, for the captured lines. */
static char log_dir[64];
static int saved_stderr = -1;

static void
log_setup(void)
{
	temp_dir_create(log_dir, sizeof(log_dir));
}

/* Back to what every other suite expects: text, no request id. */
static void
log_teardown(void)
{
	log_set_format(LOG_FORMAT_TEXT);
	log_set_request_id(NULL);
	temp_dir_remove(log_dir);
	log_dir[0] = '\0';
}

/* Sends standard error to the file "log" of the test's directory. */
static bool
capture_start(void)
{
	char path[128];
	int fd;

	snprintf(path, sizeof(path), "%s/log", log_dir);
	fflush(stderr);
	if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
	    0600)) == -1)
		return CHECK(false, "cannot create %s", path);
	if ((saved_stderr = dup(STDERR_FILENO)) == -1 ||
	    dup2(fd, STDERR_FILENO) == -1) {
		close(fd);
		return CHECK(false, "cannot send standard error to %s", path);
	}
	close(fd);
	return true;
}

/*
 * Gives standard error back, and reads what was written meanwhile into
 * buf (cap bytes, NUL-terminated); returns its length.
 */
static size_t
capture_end(char *buf, size_t cap)
{
	char path[128];
	size_t len = 0;
	ssize_t n;
	int fd;

	dup2(saved_stderr, STDERR_FILENO);
	close(saved_stderr);
	saved_stderr = -1;
	snprintf(path, sizeof(path), "%s/log", log_dir);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return 0;
	while (len + 1 < cap && (n = read(fd, buf + len, cap - len - 1)) > 0)
		len += (size_t)n;
	close(fd);
	buf[len] = '\0';
	return len;
}

/* True when s starts with an instant as "2026-11-22T10:15:03.042Z". */
static bool
is_time(const char *s, size_t len)
{
	static const char shape[] = "dddd-dd-ddTdd:dd:dd.dddZ";

	if (len != sizeof(shape) - 1)
		return false;
	for (size_t i = 0; i < len; i++)
		if (shape[i] == 'd' ? s[i] < '0' || s[i] > '9' : s[i] != shape[i])
			return false;
	return true;
}

/*
 * Checks that the text line (without its newline) reads "TIME level [pid]
 * message" and then " request_id=ID" when id is not NULL.
 */
static void
check_text_line(const char *label, const char *line, size_t len,
    const char *level, const char *message, const char *id)
{
	char want[LOG_LINE_MAX], shown[256];

	snprintf(want, sizeof(want), " %s [%ld] %s%s%s", level,
	    (long)getpid(), message, id != NULL ? " request_id=" : "",
	    id != NULL ? id : "");
	CHECK(len > 24 && is_time(line, 24) && len - 24 == strlen(want) &&
	    memcmp(line + 24, want, len - 24) == 0, "%s: '%s'", label,
	    printable(line, len, shown, sizeof(shown)));
}

static void
test_text_lines(void)
{
	char buf[CAPTURE_MAX], *line, *end;

	if (!capture_start())
		return;
	log_info("deploy: %s is now version %d", "prod", 3);
	log_warn("a warning");
	log_set_request_id(ID);
	log_error("an error about a request");
	log_set_request_id(NULL);
	log_info("after the request");
	capture_end(buf, sizeof(buf));
	line = buf;
	{
		static const struct {
			const char	*level;
			const char	*message;
			const char	*id;
		} want[] = {
			{ "info", "deploy: prod is now version 3", NULL },
			{ "warning", "a warning", NULL },
			{ "error", "an error about a request", ID },
			{ "info", "after the request", NULL },
		};

		for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
			if (!CHECK((end = strchr(line, '\n')) != NULL,
			    "line %zu is missing", i + 1))
				return;
			check_text_line(want[i].message, line,
			    (size_t)(end - line), want[i].level,
			    want[i].message, want[i].id);
			line = end + 1;
		}
	}
	CHECK(*line == '\0', "more lines than written: '%.80s'", line);
}

/* Only an id as nginx makes it is taken; anything else clears the last. */
static void
test_request_ids(void)
{
	static const struct {
		const char	*label;
		const char	*id;
		bool		 taken;
	} cases[] = {
		{ "nginx's", ID, true },
		{ "another of nginx's", ID2, true },
		{ "NULL", NULL, false },
		{ "empty", "", false },
		{ "upper case", "0123456789ABCDEF0123456789ABCDEF", false },
		{ "one digit short", "0123456789abcdef0123456789abcde", false },
		{ "one digit long", ID "0", false },
		{ "not hex", "0123456789abcdef0123456789abcdeg", false },
		{ "a quote", "0123456789abcdef0123456789abcde\"", false },
		{ "a space", "0123456789abcdef 123456789abcdef", false },
		{ "a newline", "0123456789abcdef0123456789abcde\n", false },
	};
	char buf[CAPTURE_MAX], *line = buf, *end;

	if (!capture_start())
		return;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		log_set_request_id(ID);	/* a previous id, which must not stay */
		log_set_request_id(cases[i].id);
		log_info("case %zu", i);
	}
	capture_end(buf, sizeof(buf));
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char message[32];

		if (!CHECK((end = strchr(line, '\n')) != NULL,
		    "%s: no line", cases[i].label))
			return;
		snprintf(message, sizeof(message), "case %zu", i);
		check_text_line(cases[i].label, line, (size_t)(end - line),
		    "info", message, cases[i].taken ? cases[i].id : NULL);
		line = end + 1;
	}
}

/*
 * The JSON object that the line ending at end is; NULL, with a failed
 * check, when it is none.
 */
static struct json_object *
parse_line(const char *label, const char *line, const char *end)
{
	struct json_object *root = json_parse_exact(line, (size_t)(end - line));
	char shown[256];

	CHECK(root != NULL && json_object_is_type(root, json_type_object) &&
	    utf8_valid(line, (size_t)(end - line)),
	    "%s: not a JSON object of UTF-8: '%s'", label,
	    printable(line, (size_t)(end - line), shown, sizeof(shown)));
	return root;
}

/*
 * Checks the members every JSON line has: time (a string, as
 * "2026-11-22T10:15:03.042Z"), level, pid (this process's) and, when
 * message is not NULL, the message; and that it has extra members more.
 */
static void
check_json_head(const char *label, struct json_object *root,
    const char *level, const char *message, size_t extra)
{
	struct json_object *time;

	CHECK(json_object_object_get_ex(root, "time", &time) &&
	    json_object_is_type(time, json_type_string) &&
	    is_time(json_object_get_string(time),
	    (size_t)json_object_get_string_len(time)), "%s: time: %s", label,
	    json_object_to_json_string(root));
	CHECK(json_has_string(root, "level", level), "%s: level: %s", label,
	    json_object_to_json_string(root));
	CHECK(json_has_uint(root, "pid", (uint64_t)getpid()), "%s: pid: %s",
	    label, json_object_to_json_string(root));
	if (message != NULL)
		CHECK(json_has_string(root, "message", message),
		    "%s: message: %s", label,
		    json_object_to_json_string(root));
	CHECK((size_t)json_object_object_length(root) == 4 + extra,
	    "%s: %d members, expected %zu: %s", label,
	    json_object_object_length(root), 4 + extra,
	    json_object_to_json_string(root));
}

/* Each level, with and without a request id and fields. */
static void
test_json_lines(void)
{
	const struct log_field deploy[] = {
		LOG_FIELD_TEXT("environment", "prod"),
		LOG_FIELD_TEXT("service", "Service A"),
		LOG_FIELD_UINT("version", 3),
		LOG_FIELD_UINT("system_version", UINT64_C(9007199254740991)),
	};
	char buf[CAPTURE_MAX], *line = buf, *end;
	struct json_object *root;

	if (!capture_start())
		return;
	log_set_format(LOG_FORMAT_JSON);
	log_info("pool: serving on %s", "/run/releasemgr.sock");
	log_warn("a warning");
	log_error("an error");
	log_set_request_id(ID);
	log_fields(LOG_LEVEL_INFO, deploy, sizeof(deploy) / sizeof(deploy[0]),
	    "deploy: %s: \"%s\" is now version %d", "prod", "Service A", 3);
	log_set_format(LOG_FORMAT_TEXT);
	capture_end(buf, sizeof(buf));

	{
		static const char *const levels[] = { "info", "warning", "error" };
		static const char *const messages[] = {
			"pool: serving on /run/releasemgr.sock", "a warning",
			"an error",
		};

		for (size_t i = 0; i < 3; i++) {
			if (!CHECK((end = strchr(line, '\n')) != NULL,
			    "line %zu is missing", i + 1))
				return;
			if ((root = parse_line(messages[i], line, end)) != NULL)
				check_json_head(messages[i], root, levels[i],
				    messages[i], 0);
			json_object_put(root);
			line = end + 1;
		}
	}
	if (!CHECK((end = strchr(line, '\n')) != NULL, "the deploy line is "
	    "missing"))
		return;
	if ((root = parse_line("deploy", line, end)) != NULL) {
		check_json_head("deploy", root, "info",
		    "deploy: prod: \"Service A\" is now version 3", 5);
		CHECK(json_has_string(root, "request_id", ID) &&
		    json_has_string(root, "environment", "prod") &&
		    json_has_string(root, "service", "Service A") &&
		    json_has_uint(root, "version", 3) &&
		    json_has_uint(root, "system_version",
		    UINT64_C(9007199254740991)), "deploy: members: %s",
		    json_object_to_json_string(root));
	}
	json_object_put(root);
	/* the members in the order written, the message before the rest */
	CHECK(strncmp(line, "{\"time\":\"", 9) == 0 &&
	    strstr(line, "\",\"level\":\"info\",\"pid\":") != NULL &&
	    strstr(line, ",\"message\":\"deploy: prod: \\\"Service A\\\" is now "
	    "version 3\",\"request_id\":\"" ID "\",\"environment\":\"prod\","
	    "\"service\":\"Service A\",\"version\":3,\"system_version\":"
	    "9007199254740991}\n") != NULL, "deploy: the line's shape: '%.*s'",
	    (int)(end - line), line);
	CHECK(end[1] == '\0', "more lines than written: '%.80s'", end + 1);
}

/*
 * Quotes, backslashes, control characters, UTF-8 and bytes that are not
 * UTF-8, in the message and in a field: escaped, or U+FFFD, and read
 * back as they were.
 */
static void
test_json_escaping(void)
{
	static const char hostile[] = "\"quoted\" back\\slash\nnew\tline\x01"
	    "\x7f r\xc3\xa9sum\xc3\xa9 \xe2\x82\xac\xf0\x9f\x98\x80 \xff\xc3";
	static const char decoded[] = "\"quoted\" back\\slash\nnew\tline\x01"
	    "\x7f r\xc3\xa9sum\xc3\xa9 \xe2\x82\xac\xf0\x9f\x98\x80 "
	    "\xef\xbf\xbd\xef\xbf\xbd";
	const struct log_field fields[] = {
		LOG_FIELD_TEXT("service", hostile),
		LOG_FIELD_TEXT("key \"quoted\"", "v"),
	};
	char buf[CAPTURE_MAX], *end;
	struct json_object *root;

	if (!capture_start())
		return;
	log_set_format(LOG_FORMAT_JSON);
	log_fields(LOG_LEVEL_WARN, fields, 2, "name %s", hostile);
	log_set_format(LOG_FORMAT_TEXT);
	capture_end(buf, sizeof(buf));
	if (!CHECK((end = strchr(buf, '\n')) != NULL && end[1] == '\0',
	    "one line: '%.200s'", buf))
		return;
	if ((root = parse_line("escaping", buf, end)) != NULL) {
		char message[sizeof(decoded) + 8];

		snprintf(message, sizeof(message), "name %s", decoded);
		check_json_head("escaping", root, "warning", message, 2);
		CHECK(json_has_string(root, "service", decoded) &&
		    json_has_string(root, "key \"quoted\"", "v"),
		    "escaping: fields: %s", json_object_to_json_string(root));
	}
	json_object_put(root);
	CHECK(memchr(buf, '\x01', (size_t)(end - buf)) == NULL &&
	    strstr(buf, "\\u0001\\u007f") != NULL &&
	    strstr(buf, "\\ufffd\\ufffd") != NULL, "escaping: '%.300s'", buf);
}

/*
 * A message longer than a line: cut at a character, in both formats, the
 * line at most LOG_LINE_MAX bytes with its request id and fields whole.
 */
static void
test_long_lines(void)
{
	static char message[3 * LOG_LINE_MAX];
	const struct log_field fields[] = {
		LOG_FIELD_TEXT("environment", "prod"),
		LOG_FIELD_UINT("system_version", 7),
	};
	char buf[CAPTURE_MAX], *line, *end;
	struct json_object *root;
	size_t len = 0;

	/* "é" and '"' take 2 bytes in JSON: no cut falls on a byte edge */
	while (len + 3 < sizeof(message)) {
		memcpy(message + len, (len / 3) % 2 ? "\xc3\xa9" "a" : "\"bc",
		    3);
		len += 3;
	}
	message[len] = '\0';
	if (!capture_start())
		return;
	log_set_request_id(ID);
	log_set_format(LOG_FORMAT_JSON);
	log_fields(LOG_LEVEL_INFO, fields, 2, "%s", message);
	log_fields(LOG_LEVEL_INFO, fields, 2, "x%s", message);
	log_set_format(LOG_FORMAT_TEXT);
	log_info("%s", message);
	capture_end(buf, sizeof(buf));

	line = buf;
	for (int shift = 0; shift < 2; shift++) {
		struct json_object *text;
		const char *got;

		if (!CHECK((end = strchr(line, '\n')) != NULL, "JSON line %d",
		    shift))
			return;
		CHECK((size_t)(end + 1 - line) <= LOG_LINE_MAX &&
		    (size_t)(end + 1 - line) > LOG_LINE_MAX - 8,
		    "JSON line %d: %zu bytes, at most %d", shift,
		    (size_t)(end + 1 - line), LOG_LINE_MAX);
		if ((root = parse_line("long JSON line", line, end)) != NULL) {
			check_json_head("long JSON line", root, "info", NULL,
			    3);
			CHECK(json_has_string(root, "request_id", ID) &&
			    json_has_string(root, "environment", "prod") &&
			    json_has_uint(root, "system_version", 7),
			    "long JSON line %d: the fields", shift);
			if (json_object_object_get_ex(root, "message", &text)) {
				got = json_object_get_string(text);
				CHECK(json_object_get_string_len(text) > 1000 &&
				    strncmp(got, shift ? "x" : "", shift) == 0 &&
				    strncmp(got + shift, message,
				    strlen(got) - (size_t)shift) == 0,
				    "long JSON line %d: the message is not the "
				    "start of the one written", shift);
			}
		}
		json_object_put(root);
		line = end + 1;
	}
	if (!CHECK((end = strchr(line, '\n')) != NULL, "the text line"))
		return;
	CHECK((size_t)(end + 1 - line) == LOG_LINE_MAX &&
	    strncmp(end - strlen(" request_id=" ID), " request_id=" ID,
	    strlen(" request_id=" ID)) == 0, "text line: %zu bytes, "
	    "ending '%.60s'", (size_t)(end + 1 - line), end - 60);
}

/* What a thread of the test writes while the main thread has a request. */
static void *
other_thread(void *arg)
{
	(void)arg;
	log_info("another thread");
	log_set_request_id(ID2);
	log_info("its own request");
	return NULL;
}

/* The request id is the thread's own. */
static void
test_request_id_per_thread(void)
{
	char buf[CAPTURE_MAX], *line = buf, *end;
	pthread_t thread;

	if (!capture_start())
		return;
	log_set_request_id(ID);
	if (pthread_create(&thread, NULL, other_thread, NULL) == 0)
		pthread_join(thread, NULL);
	log_info("the main thread");
	capture_end(buf, sizeof(buf));
	{
		static const struct {
			const char	*message;
			const char	*id;
		} want[] = {
			{ "another thread", NULL },
			{ "its own request", ID2 },
			{ "the main thread", ID },
		};

		for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
			if (!CHECK((end = strchr(line, '\n')) != NULL,
			    "%s: no line", want[i].message))
				return;
			check_text_line(want[i].message, line,
			    (size_t)(end - line), "info", want[i].message,
			    want[i].id);
			line = end + 1;
		}
	}
}

static const CU_TestInfo log_tests[] = {
	{ "text lines", test_text_lines },
	{ "only nginx's request ids", test_request_ids },
	{ "JSON lines", test_json_lines },
	{ "JSON escaping", test_json_escaping },
	{ "long lines are cut, JSON stays valid", test_long_lines },
	{ "a request id per thread", test_request_id_per_thread },
	CU_TEST_INFO_NULL,
};

int
add_log_suite(void)
{
	return add_suite_with_tests("log", log_setup, log_teardown, log_tests);
}
