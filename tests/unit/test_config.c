/*
 * The config suite: defaults, config_set over a table of good and bad
 * values, config_load of temporary files, config_finish, and the shipped
 * conf/releasemgr.conf against the defaults.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "log.h"
#include "tests.h"

/* The temporary directory of the running test, for configuration files. */
static char config_dir[64];

static void
config_setup(void)
{
	temp_dir_create(config_dir, sizeof(config_dir));
}

static void
config_teardown(void)
{
	temp_dir_remove(config_dir);
	config_dir[0] = '\0';
}

/* The value of one setting as text, as a file would give it. */
static const char *
setting_text(const struct config *c, const char *name, char *buf, size_t cap)
{
	if (strcmp(name, "workers") == 0)
		snprintf(buf, cap, "%u", c->workers);
	else if (strcmp(name, "threads") == 0)
		snprintf(buf, cap, "%u", c->threads);
	else if (strcmp(name, "cache_mb") == 0)
		snprintf(buf, cap, "%u", c->cache_mb);
	else if (strcmp(name, "lock_timeout_ms") == 0)
		snprintf(buf, cap, "%u", c->lock_timeout_ms);
	else if (strcmp(name, "checkpoint_seconds") == 0)
		snprintf(buf, cap, "%u", c->checkpoint_seconds);
	else if (strcmp(name, "commit_delay_us") == 0)
		snprintf(buf, cap, "%u", c->commit_delay_us);
	else if (strcmp(name, "reserve_mb") == 0)
		snprintf(buf, cap, "%u", c->reserve_mb);
	else if (strcmp(name, "durable_commits") == 0)
		snprintf(buf, cap, "%s", c->durable_commits ? "yes" : "no");
	else if (strcmp(name, "data_dir") == 0)
		snprintf(buf, cap, "%s", c->data_dir);
	else if (strcmp(name, "socket") == 0)
		snprintf(buf, cap, "%s", c->socket_path);
	else if (strcmp(name, "token_file") == 0)
		snprintf(buf, cap, "%s", c->token_file);
	else if (strcmp(name, "deploy_rate") == 0)
		snprintf(buf, cap, "%u", c->deploy_rate);
	else if (strcmp(name, "deploy_burst") == 0)
		snprintf(buf, cap, "%u", c->deploy_burst);
	else if (strcmp(name, "event_retention_days") == 0 ||
	    strcmp(name, "audit_retention_days") == 0 ||
	    strcmp(name, "log_format") == 0)
		config_value(c, name, buf, cap);	/* test_value checks it */
	else
		snprintf(buf, cap, "(no such setting)");
	return buf;
}

static void
test_defaults(void)
{
	struct config c;

	memset(&c, 0x5A, sizeof(c));
	config_defaults(&c);
	CHECK(c.workers == 2, "workers %u", c.workers);
	CHECK(c.threads == 8, "threads %u", c.threads);
	CHECK(c.cache_mb == 4, "cache_mb %u", c.cache_mb);
	CHECK(c.lock_timeout_ms == 5000, "lock_timeout_ms %u", c.lock_timeout_ms);
	CHECK(c.checkpoint_seconds == 30, "checkpoint_seconds %u",
	    c.checkpoint_seconds);
	CHECK(c.durable_commits, "durable_commits");
	CHECK(c.commit_delay_us == 1000, "commit_delay_us %u", c.commit_delay_us);
	CHECK(c.reserve_mb == 64, "reserve_mb %u", c.reserve_mb);
	CHECK(strcmp(c.data_dir, "var") == 0, "data_dir '%.64s'", c.data_dir);
	CHECK(c.socket_path[0] == '\0', "socket_path '%.64s'", c.socket_path);
	CHECK(c.token_file[0] == '\0', "token_file '%.64s'", c.token_file);
	CHECK(c.deploy_rate == 0, "deploy_rate %u", c.deploy_rate);
	CHECK(c.deploy_burst == 100, "deploy_burst %u", c.deploy_burst);
	CHECK(c.log_format == LOG_FORMAT_TEXT, "log_format %u", c.log_format);
	CHECK(c.event_retention_ms == UINT64_C(7) * 86400000,
	    "event_retention_days: %llu ms",
	    (unsigned long long)c.event_retention_ms);
	CHECK(c.audit_retention_ms == UINT64_C(30) * 86400000,
	    "audit_retention_days: %llu ms",
	    (unsigned long long)c.audit_retention_ms);
}

struct set_case {
	const char	*name;
	const char	*value;
	bool		 ok;
	const char	*err_has;	/* a word the error must hold */
};

static const struct set_case set_cases[] = {
	{ "workers", "1", true, NULL },
	{ "workers", "3", true, NULL },
	{ "workers", "64", true, NULL },
	{ "threads", "1", true, NULL },
	{ "commit_delay_us", "0", true, NULL },
	{ "commit_delay_us", "100000", true, NULL },
	{ "commit_delay_us", "100001", false, "commit_delay_us" },
	{ "threads", "64", true, NULL },
	{ "threads", "0", false, "threads" },
	{ "threads", "65", false, "threads" },
	{ "workers", "0", false, "workers" },
	{ "workers", "65", false, "workers" },
	{ "workers", "", false, "workers" },
	{ "workers", "-1", false, "workers" },
	{ "workers", "+2", false, "workers" },
	{ "workers", " 2", false, "workers" },
	{ "workers", "2 ", false, "workers" },
	{ "workers", "02", false, "workers" },
	{ "workers", "two", false, "workers" },
	{ "workers", "2.0", false, "workers" },
	{ "workers", "0x2", false, "workers" },
	{ "workers", "4294967298", false, "workers" },	/* 2^32 + 2 */
	{ "workers", "18446744073709551618", false, "workers" },
	{ "cache_mb", "1", true, NULL },
	{ "cache_mb", "4096", true, NULL },
	{ "cache_mb", "0", false, "cache_mb" },
	{ "cache_mb", "4097", false, "cache_mb" },
	{ "lock_timeout_ms", "10", true, NULL },
	{ "lock_timeout_ms", "60000", true, NULL },
	{ "lock_timeout_ms", "9", false, "lock_timeout_ms" },
	{ "lock_timeout_ms", "60001", false, "lock_timeout_ms" },
	{ "checkpoint_seconds", "1", true, NULL },
	{ "checkpoint_seconds", "86400", true, NULL },
	{ "checkpoint_seconds", "0", false, "checkpoint_seconds" },
	{ "checkpoint_seconds", "86401", false, "checkpoint_seconds" },
	{ "reserve_mb", "0", true, NULL },
	{ "reserve_mb", "1048576", true, NULL },
	{ "reserve_mb", "1048577", false, "reserve_mb" },
	{ "reserve_mb", "-1", false, "reserve_mb" },
	{ "durable_commits", "no", true, NULL },
	{ "durable_commits", "yes", true, NULL },
	{ "durable_commits", "maybe", false, "durable_commits" },
	{ "durable_commits", "Yes", false, "durable_commits" },
	{ "durable_commits", "true", false, "durable_commits" },
	{ "durable_commits", "1", false, "durable_commits" },
	{ "durable_commits", "", false, "durable_commits" },
	{ "log_format", "text", true, NULL },
	{ "log_format", "json", true, NULL },
	{ "log_format", "JSON", false, "log_format must be text or json" },
	{ "log_format", "", false, "log_format must be text or json" },
	{ "log_format", "jsonl", false, "log_format must be text or json" },
	{ "log_format", "tex", false, "log_format must be text or json" },
	{ "log_format", "text|json", false, "log_format must be text or json" },
	{ "data_dir", "/srv/releasemgr", true, NULL },
	{ "data_dir", "relative/dir with space", true, NULL },
	{ "socket", "/run/releasemgr.sock", true, NULL },
	{ "token_file", "/etc/releasemgr/token", true, NULL },
	{ "deploy_rate", "0", true, NULL },
	{ "deploy_rate", "200", true, NULL },
	{ "deploy_rate", "100000", true, NULL },
	{ "deploy_rate", "100001", false, "deploy_rate" },
	{ "deploy_rate", "-1", false, "deploy_rate" },
	{ "deploy_rate", "10r/s", false, "deploy_rate" },
	{ "deploy_burst", "1", true, NULL },
	{ "deploy_burst", "0", false, "deploy_burst" },	/* nginx refuses it */
	{ "deploy_burst", "100000", true, NULL },
	{ "deploy_burst", "100001", false, "deploy_burst" },
	{ "deploy_burst", "", false, "deploy_burst" },
	{ "event_retention_days", "1", true, NULL },
	{ "event_retention_days", "3650", true, NULL },
	{ "event_retention_days", "1s", true, NULL },
	{ "event_retention_days", "5m", true, NULL },
	{ "event_retention_days", "0", false, "event_retention_days" },
	{ "event_retention_days", "0s", false, "event_retention_days" },
	{ "event_retention_days", "3651", false, "event_retention_days" },
	{ "event_retention_days", "315360001s", false, "event_retention_days" },
	{ "event_retention_days", "87601h", false, "event_retention_days" },
	{ "event_retention_days", "s", false, "event_retention_days" },
	{ "event_retention_days", "", false, "event_retention_days" },
	{ "event_retention_days", "7 d", false, "event_retention_days" },
	{ "event_retention_days", "7ms", false, "event_retention_days" },
	{ "event_retention_days", "1.5", false, "event_retention_days" },
	{ "audit_retention_days", "2w", false, "audit_retention_days" },
	{ "audit_retention_days", "-1", false, "audit_retention_days" },
	{ "audit_retention_days", "18446744073709551616s", false,
	    "audit_retention_days" },
	{ "nope", "1", false, "nope" },
	{ "Workers", "2", false, "Workers" },
	{ "", "2", false, "unknown" },
};

static void
test_set_table(void)
{
	char before[CONFIG_PATH_MAX], after[CONFIG_PATH_MAX];

	for (size_t i = 0; i < sizeof(set_cases) / sizeof(set_cases[0]); i++) {
		const struct set_case *c = &set_cases[i];
		struct config config;
		char err[512] = "";
		enum status status;

		config_defaults(&config);
		/* start away from the value, so that a set is visible */
		if (strcmp(c->name, "durable_commits") == 0)
			config.durable_commits = strcmp(c->value, "yes") != 0;
		if (strcmp(c->name, "log_format") == 0)
			config.log_format = strcmp(c->value, "text") == 0 ?
			    LOG_FORMAT_JSON : LOG_FORMAT_TEXT;
		setting_text(&config, c->name, before, sizeof(before));
		status = config_set(&config, c->name, c->value, err, sizeof(err));
		setting_text(&config, c->name, after, sizeof(after));
		if (c->ok) {
			CHECK(status == STATUS_OK && strcmp(after, c->value) == 0,
			    "set %s = '%s': %s, now '%s': %s", c->name, c->value,
			    status_name(status), after, err);
		} else {
			if (!CHECK(status == STATUS_INVALID, "set %s = '%s': %s",
			    c->name, c->value, status_name(status)))
				continue;
			CHECK(strcmp(before, after) == 0, "set %s = '%s': the "
			    "setting changed from '%s' to '%s'", c->name,
			    c->value, before, after);
			CHECK(strstr(err, c->err_has) != NULL, "set %s = '%s': "
			    "the error '%s' does not say '%s'", c->name, c->value,
			    err, c->err_has);
		}
	}
}

/* Paths: the longest that fits its buffer, and one byte more. */
static void
test_set_path_lengths(void)
{
	static const struct {
		const char	*name;
		size_t		 longest;
	} paths[] = {
		{ "data_dir", CONFIG_PATH_MAX - 1 },
		{ "token_file", CONFIG_PATH_MAX - 1 },
		{ "socket", SOCKET_PATH_MAX },
	};
	char *value = malloc(CONFIG_PATH_MAX + 1);
	char *text = malloc(CONFIG_PATH_MAX + 1);

	if (!CHECK(value != NULL && text != NULL, "out of memory")) {
		free(value);
		free(text);
		return;
	}
	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		struct config config;
		char err[512] = "";
		enum status status;

		config_defaults(&config);
		memset(value, 'p', paths[i].longest);
		value[paths[i].longest] = '\0';
		status = config_set(&config, paths[i].name, value, err,
		    sizeof(err));
		setting_text(&config, paths[i].name, text, CONFIG_PATH_MAX + 1);
		CHECK(status == STATUS_OK && strcmp(text, value) == 0,
		    "%s of %zu bytes: %s %s", paths[i].name, paths[i].longest,
		    status_name(status), err);

		config_defaults(&config);
		value[paths[i].longest] = 'p';
		value[paths[i].longest + 1] = '\0';
		status = config_set(&config, paths[i].name, value, err,
		    sizeof(err));
		setting_text(&config, paths[i].name, text, CONFIG_PATH_MAX + 1);
		CHECK(status == STATUS_INVALID && strlen(text) < 4 &&
		    strstr(err, paths[i].name) != NULL, "%s of %zu bytes: %s, "
		    "error '%s'", paths[i].name, paths[i].longest + 1,
		    status_name(status), err);
	}
	free(text);
	free(value);
}

/* Writes text to a file of the test's directory; path gets its path. */
static bool
config_file(const char *text, char *path, size_t cap)
{
	snprintf(path, cap, "%s/releasemgr.conf", config_dir);
	return CHECK(write_file(path, text, strlen(text), 0644),
	    "write %s", path);
}

static void
test_load(void)
{
	static const char text[] =
	    "# releasemgr configuration\n"
	    "\n"
	    "   \n"
	    "\t# an indented comment\n"
	    "workers = 8\n"
	    "  cache_mb=32   # a trailing comment\n"
	    "\tlock_timeout_ms\t=\t250\t\n"
	    "checkpoint_seconds = 5\n"
	    "durable_commits = no\n"
	    "data_dir = /srv/release mgr\n"
	    "token_file = /etc/releasemgr/token\n"
	    "socket = /run/rm.sock\n"
	    "workers = 9\n"		/* a later line wins */
	    "# the end";
	struct config c;
	char path[128], err[512] = "";
	enum status status;

	if (!config_file(text, path, sizeof(path)))
		return;
	config_defaults(&c);
	status = config_load(&c, path, err, sizeof(err));
	if (!CHECK(status == STATUS_OK, "load: %s: %s", status_name(status), err))
		return;
	CHECK(c.workers == 9, "workers %u", c.workers);
	CHECK(c.cache_mb == 32, "cache_mb %u", c.cache_mb);
	CHECK(c.lock_timeout_ms == 250, "lock_timeout_ms %u", c.lock_timeout_ms);
	CHECK(c.checkpoint_seconds == 5, "checkpoint_seconds %u",
	    c.checkpoint_seconds);
	CHECK(!c.durable_commits, "durable_commits");
	CHECK(strcmp(c.data_dir, "/srv/release mgr") == 0, "data_dir '%s'",
	    c.data_dir);
	CHECK(strcmp(c.token_file, "/etc/releasemgr/token") == 0,
	    "token_file '%s'", c.token_file);
	CHECK(strcmp(c.socket_path, "/run/rm.sock") == 0, "socket '%s'",
	    c.socket_path);
}

static void
test_load_crlf_and_empty(void)
{
	struct config c;
	char path[128], err[512] = "";
	enum status status;

	if (!config_file("workers = 3\r\ndurable_commits = no\r\n", path,
	    sizeof(path)))
		return;
	config_defaults(&c);
	status = config_load(&c, path, err, sizeof(err));
	CHECK(status == STATUS_OK && c.workers == 3 && !c.durable_commits,
	    "CRLF lines: %s: %s", status_name(status), err);

	/* an empty file changes nothing */
	if (!config_file("", path, sizeof(path)))
		return;
	config_defaults(&c);
	status = config_load(&c, path, err, sizeof(err));
	CHECK(status == STATUS_OK && c.workers == 2 && c.cache_mb == 4 &&
	    strcmp(c.data_dir, "var") == 0, "empty file: %s: %s",
	    status_name(status), err);
}

/* Each bad file, and the file:line and word its error must hold. */
static void
test_load_errors(void)
{
	static const struct {
		const char	*label;
		const char	*text;
		unsigned	 line;
		const char	*err_has;
	} cases[] = {
		{ "workers out of bounds", "workers = 2\n# c\nworkers = 0\n", 3,
		    "workers" },
		{ "no '='", "workers = 2\nworkers 4\n", 2, "=" },
		{ "unknown setting", "\n\n\nthread = 4\n", 4, "thread" },
		{ "bad boolean", "durable_commits = maybe\n", 1,
		    "durable_commits" },
		{ "empty value", "cache_mb =\n", 1, "cache_mb" },
		{ "empty name", " = 4\n", 1, "unknown" },
		{ "unknown log format", "log_format = yaml\n", 1,
		    "log_format must be text or json" },
		{ "comment hides '='", "workers # = 4\n", 1, "=" },
		{ "no line end on the bad line", "workers = 2\nworkers = x", 2,
		    "workers" },
	};
	char path[128], where[160];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct config c;
		char err[512] = "";
		enum status status;

		if (!config_file(cases[i].text, path, sizeof(path)))
			return;
		config_defaults(&c);
		status = config_load(&c, path, err, sizeof(err));
		snprintf(where, sizeof(where), "%s:%u:", path, cases[i].line);
		CHECK(status == STATUS_INVALID && strstr(err, where) != NULL &&
		    strstr(err, cases[i].err_has) != NULL, "file '%s': %s, "
		    "error '%s', expected '%s' and '%s'", cases[i].label,
		    status_name(status), err, where, cases[i].err_has);
	}
}

static void
test_load_missing_and_long_lines(void)
{
	struct config c;
	char path[128], err[512] = "";
	char *text;
	size_t n;
	enum status status;

	snprintf(path, sizeof(path), "%s/missing.conf", config_dir);
	config_defaults(&c);
	status = config_load(&c, path, err, sizeof(err));
	CHECK(status == STATUS_INVALID && strstr(err, path) != NULL,
	    "missing file: %s, error '%s'", status_name(status), err);

	/* a line longer than any setting can be */
	if (!CHECK((text = malloc(3 * CONFIG_PATH_MAX)) != NULL, "memory"))
		return;
	n = (size_t)snprintf(text, 3 * CONFIG_PATH_MAX, "workers = 2\ndata_dir = ");
	memset(text + n, 'd', 2 * CONFIG_PATH_MAX);
	n += 2 * CONFIG_PATH_MAX;
	snprintf(text + n, 3 * CONFIG_PATH_MAX - n, "\n");
	if (config_file(text, path, sizeof(path))) {
		char where[160];

		snprintf(where, sizeof(where), "%s:2:", path);
		config_defaults(&c);
		status = config_load(&c, path, err, sizeof(err));
		CHECK(status == STATUS_INVALID && strstr(err, where) != NULL &&
		    strcmp(c.data_dir, "var") == 0, "long line: %s, error '%s'",
		    status_name(status), err);
	}
	free(text);
}

static void
test_finish(void)
{
	struct config c;
	char err[512] = "", dir[CONFIG_PATH_MAX];
	enum status status;
	/* "/run/releasemgr.sock" is 20 bytes; a socket path holds 107 */
	size_t longest = SOCKET_PATH_MAX - strlen("/run/releasemgr.sock");

	config_defaults(&c);
	status = config_finish(&c, err, sizeof(err));
	CHECK(status == STATUS_OK &&
	    strcmp(c.socket_path, "var/run/releasemgr.sock") == 0,
	    "defaults: %s, socket '%s'", status_name(status), c.socket_path);

	config_defaults(&c);
	CHECK(config_set(&c, "data_dir", "/srv/rm", err, sizeof(err)) ==
	    STATUS_OK, "set data_dir");
	status = config_finish(&c, err, sizeof(err));
	CHECK(status == STATUS_OK &&
	    strcmp(c.socket_path, "/srv/rm/run/releasemgr.sock") == 0,
	    "data_dir /srv/rm: %s, socket '%s'", status_name(status),
	    c.socket_path);

	/* a socket given is kept */
	config_defaults(&c);
	CHECK(config_set(&c, "socket", "/run/x.sock", err, sizeof(err)) ==
	    STATUS_OK && config_set(&c, "data_dir", "/srv/rm", err,
	    sizeof(err)) == STATUS_OK, "set socket and data_dir");
	status = config_finish(&c, err, sizeof(err));
	CHECK(status == STATUS_OK && strcmp(c.socket_path, "/run/x.sock") == 0,
	    "socket given: %s, socket '%s'", status_name(status),
	    c.socket_path);

	/* the longest data_dir whose socket fits, and one byte more */
	config_defaults(&c);
	memset(dir, 'd', longest);
	dir[longest] = '\0';
	CHECK(config_set(&c, "data_dir", dir, err, sizeof(err)) == STATUS_OK,
	    "set data_dir");
	status = config_finish(&c, err, sizeof(err));
	CHECK(status == STATUS_OK && strlen(c.socket_path) == SOCKET_PATH_MAX &&
	    strncmp(c.socket_path, dir, longest) == 0,
	    "data_dir of %zu bytes: %s, socket of %zu bytes", longest,
	    status_name(status), strlen(c.socket_path));

	config_defaults(&c);
	dir[longest] = 'd';
	dir[longest + 1] = '\0';
	CHECK(config_set(&c, "data_dir", dir, err, sizeof(err)) == STATUS_OK,
	    "set data_dir");
	err[0] = '\0';
	status = config_finish(&c, err, sizeof(err));
	CHECK(status == STATUS_INVALID && err[0] != '\0',
	    "data_dir of %zu bytes: %s, error '%s'", longest + 1,
	    status_name(status), err);
}

/*
 * Sets count settings (name, value) on the defaults, then *status is what
 * config_finish answers, with err; false, failed, when one is refused.
 */
static bool
finish_with(const char *settings[][2], size_t count, char *err, size_t cap,
    enum status *status)
{
	struct config c;

	config_defaults(&c);
	err[0] = '\0';
	for (size_t i = 0; i < count; i++)
		if (!CHECK(config_set(&c, settings[i][0], settings[i][1], err,
		    cap) == STATUS_OK, "set %s = %s: %s", settings[i][0],
		    settings[i][1], err))
			return false;
	*status = config_finish(&c, err, cap);
	return true;
}

/*
 * An eventId expires through the audit log, so config_finish refuses an
 * event retention longer than the audit retention, naming both; equal
 * ones are accepted.
 */
static void
test_finish_retentions(void)
{
	static const struct {
		const char	*event;
		const char	*audit;
		bool		 ok;
	} cases[] = {
		{ "7", "30", true },		/* the defaults */
		{ "30", "30", true },
		{ "31", "30", false },
		{ "2s", "3s", true },
		{ "3s", "3s", true },
		{ "24h", "1", true },
		{ "86401s", "1", false },
		{ "7", "6", false },
		{ "3650", "3650", true },
	};
	char err[512];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *settings[][2] = {
			{ "event_retention_days", cases[i].event },
			{ "audit_retention_days", cases[i].audit },
		};
		enum status status;

		if (!finish_with(settings, 2, err, sizeof(err), &status))
			continue;
		if (cases[i].ok)
			CHECK(status == STATUS_OK, "event %s, audit %s: %s: %s",
			    cases[i].event, cases[i].audit, status_name(status),
			    err);
		else
			CHECK(status == STATUS_INVALID &&
			    strstr(err, "event_retention_days") != NULL &&
			    strstr(err, "audit_retention_days") != NULL,
			    "event %s, audit %s: %s, error '%s'",
			    cases[i].event, cases[i].audit, status_name(status),
			    err);
	}
}

/*
 * metrics_allow, nginx's allow directives of /metrics: addresses with or
 * without a prefix, or "all"; config_finish names the first entry it
 * refuses.
 */
static void
test_finish_metrics_allow(void)
{
	static const struct {
		const char	*value;
		const char	*refused;	/* NULL: accepted */
	} cases[] = {
		{ "127.0.0.1 ::1", NULL },	/* the default */
		{ "", NULL },
		{ "all", NULL },
		{ "10.0.0.0/8\t192.168.1.7  fd00::/8 ::ffff:10.1.2.3/128", NULL },
		{ "0.0.0.0/0 ::/0", NULL },
		{ "10.0.0.0/33", "10.0.0.0/33" },
		{ "fd00::/129", "fd00::/129" },
		{ "127.0.0.1 localhost", "localhost" },
		{ "10.0.0.0/", "10.0.0.0/" },
		{ "10.0.0.0/08", "10.0.0.0/08" },
		{ "10.0.0.256", "10.0.0.256" },
		{ "1.2.3.4;deny", "1.2.3.4;deny" },
		{ "allow", "allow" },
		{ "1.2.3.4/8/8", "1.2.3.4/8/8" },
	};
	char err[512];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *settings[][2] = { { "metrics_allow", cases[i].value } };
		enum status status;

		if (!finish_with(settings, 1, err, sizeof(err), &status))
			continue;
		if (cases[i].refused == NULL)
			CHECK(status == STATUS_OK, "'%s': %s: %s",
			    cases[i].value, status_name(status), err);
		else
			CHECK(status == STATUS_INVALID &&
			    strstr(err, "metrics_allow") != NULL &&
			    strstr(err, cases[i].refused) != NULL,
			    "'%s': %s, error '%s'", cases[i].value,
			    status_name(status), err);
	}
}

/* config_value gives each setting back as a file would hold it. */
static void
test_value(void)
{
	static const struct {
		const char	*name;
		const char	*text;	/* set first, unless NULL */
		const char	*value;
	} cases[] = {
		{ "deploy_rate", NULL, "0" },
		{ "deploy_burst", NULL, "100" },
		{ "deploy_rate", "250", "250" },
		{ "workers", "7", "7" },
		{ "durable_commits", "no", "no" },
		{ "durable_commits", NULL, "yes" },
		{ "log_format", NULL, "text" },
		{ "log_format", "json", "json" },
		{ "log_format", "text", "text" },
		{ "data_dir", "/srv/release mgr", "/srv/release mgr" },
		{ "token_file", NULL, "" },
		{ "event_retention_days", NULL, "7" },
		{ "audit_retention_days", NULL, "30" },
		{ "event_retention_days", "12h", "12h" },
		{ "event_retention_days", "48h", "2" },
		{ "audit_retention_days", "90s", "90s" },
		{ "audit_retention_days", "120m", "2h" },
		{ "audit_retention_days", "3650d", "3650" },
		{ "audit_retention_days", "87600h", "3650" },
		{ "audit_retention_days", "315360000s", "3650" },
		{ "audit_retention_days", "86399s", "86399s" },
	};
	char value[64], err[512] = "";
	struct config c;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		config_defaults(&c);
		if (cases[i].text != NULL && !CHECK(config_set(&c, cases[i].name,
		    cases[i].text, err, sizeof(err)) == STATUS_OK, "set %s: %s",
		    cases[i].name, err))
			continue;
		CHECK(config_value(&c, cases[i].name, value, sizeof(value)) ==
		    STATUS_OK && strcmp(value, cases[i].value) == 0,
		    "%s: '%s', expected '%s'", cases[i].name, value,
		    cases[i].value);
	}
	config_defaults(&c);
	strcpy(value, "x");
	CHECK(config_value(&c, "nope", value, sizeof(value)) == STATUS_INVALID &&
	    value[0] == '\0', "unknown setting: '%s'", value);
	CHECK(config_set(&c, "data_dir", "/a/long/directory", err, sizeof(err)) ==
	    STATUS_OK, "set data_dir");
	CHECK(config_value(&c, "data_dir", value, 8) == STATUS_INVALID &&
	    value[0] == '\0', "a value longer than the buffer: '%s'", value);
}

#define SHIPPED_CONF	"conf/releasemgr.conf"	/* from the repository's root */
#define SETTINGS_MAX	64

/*
 * The names of the settings table, as config_log writes them (standard
 * error is sent to a file of the test's directory meanwhile): the table
 * has no other way out. Returns how many, at most SETTINGS_MAX.
 */
static size_t
table_names(char names[][32])
{
	char path[128], line[512];
	struct config defaults;
	size_t count = 0;
	FILE *log;
	int saved, fd;

	config_defaults(&defaults);
	snprintf(path, sizeof(path), "%s/log", config_dir);
	fflush(stderr);
	if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)) ==
	    -1 || (saved = dup(STDERR_FILENO)) == -1) {
		if (fd != -1)
			close(fd);
		return 0;
	}
	dup2(fd, STDERR_FILENO);
	config_log(&defaults);
	dup2(saved, STDERR_FILENO);
	close(saved);
	close(fd);
	if ((log = fopen(path, "re")) == NULL)
		return 0;
	while (count < SETTINGS_MAX && fgets(line, sizeof(line), log) != NULL) {
		const char *start = strstr(line, "] config: ");
		size_t len;

		if (start == NULL)
			continue;
		start += strlen("] config: ");
		len = strcspn(start, " ");
		if (len == 0 || len >= 32 || strncmp(start + len, " = ", 3) != 0)
			continue;
		memcpy(names[count], start, len);
		names[count++][len] = '\0';
	}
	fclose(log);
	return count;
}

/*
 * The lines of the shipped file that set something ("name = value", with
 * comments and blank lines left out), each without its line end; returns
 * how many, at most SETTINGS_MAX.
 */
static size_t
file_settings(char lines[][512])
{
	char line[512];
	size_t count = 0;
	FILE *file;

	if ((file = fopen(SHIPPED_CONF, "re")) == NULL)
		return 0;
	while (count < SETTINGS_MAX && fgets(line, sizeof(line), file) != NULL) {
		line[strcspn(line, "\r\n")] = '\0';
		if (line[0] == '\0' || line[0] == '#')
			continue;
		snprintf(lines[count++], sizeof(lines[0]), "%s", line);
	}
	fclose(file);
	return count;
}

/*
 * conf/releasemgr.conf states exactly the defaults of the settings table:
 * every setting of the table, once, as "name = default", and nothing
 * else. Changing a default in src/config.c without the file, or the file
 * without the table, fails here.
 */
static void
test_shipped_file(void)
{
	/* settings that exist today; the table may have more */
	static const char *const known[] = {
		"workers", "threads", "cache_mb", "lock_timeout_ms",
		"checkpoint_seconds", "commit_delay_us", "reserve_mb",
		"durable_commits", "data_dir", "socket", "token_file", "user",
		"log_format",
		"deploy_rate", "deploy_burst", "event_retention_days",
		"audit_retention_days",
	};
	static char names[SETTINGS_MAX][32], lines[SETTINGS_MAX][512];
	char want[2 * CONFIG_PATH_MAX], loaded_text[CONFIG_PATH_MAX];
	char default_text[CONFIG_PATH_MAX], err[512] = "";
	struct config defaults, loaded;
	size_t name_count, line_count;
	enum status status;

	config_defaults(&defaults);
	config_defaults(&loaded);
	status = config_load(&loaded, SHIPPED_CONF, err, sizeof(err));
	if (!CHECK(status == STATUS_OK, "%s: %s: %s", SHIPPED_CONF,
	    status_name(status), err))
		return;
	name_count = table_names(names);
	line_count = file_settings(lines);
	/* the table's names were all read from the log */
	for (size_t k = 0; k < sizeof(known) / sizeof(known[0]); k++) {
		bool found = false;

		for (size_t i = 0; i < name_count && !found; i++)
			found = strcmp(names[i], known[k]) == 0;
		CHECK(found, "config_log does not name %s (%zu names read)",
		    known[k], name_count);
	}
	CHECK(line_count == name_count, "%s sets %zu settings, the table has "
	    "%zu", SHIPPED_CONF, line_count, name_count);
	for (size_t i = 0; i < name_count; i++) {
		size_t times = 0;

		if (!CHECK(config_value(&defaults, names[i], default_text,
		    sizeof(default_text)) == STATUS_OK &&
		    config_value(&loaded, names[i], loaded_text,
		    sizeof(loaded_text)) == STATUS_OK, "config_value(%s)",
		    names[i]))
			continue;
		CHECK(strcmp(loaded_text, default_text) == 0, "%s: the file says "
		    "'%s', the default is '%s'", names[i], loaded_text,
		    default_text);
		snprintf(want, sizeof(want), "%s =%s%s", names[i],
		    default_text[0] != '\0' ? " " : "", default_text);
		for (size_t k = 0; k < line_count; k++)
			times += strcmp(lines[k], want) == 0;
		CHECK(times == 1, "%s: the line '%s' appears %zu times in %s",
		    names[i], want, times, SHIPPED_CONF);
	}
	/* and every line of the file sets a setting of the table */
	for (size_t k = 0; k < line_count; k++) {
		char name[32];
		bool found = false;

		snprintf(name, sizeof(name), "%.*s",
		    (int)strcspn(lines[k], " ="), lines[k]);
		for (size_t i = 0; i < name_count && !found; i++)
			found = strcmp(names[i], name) == 0;
		CHECK(found && config_value(&defaults, name, default_text,
		    sizeof(default_text)) == STATUS_OK, "%s: '%s' sets no "
		    "setting of the table", SHIPPED_CONF, lines[k]);
	}
}

static const CU_TestInfo config_tests[] = {
	{ "defaults", test_defaults },
	{ "config_set table", test_set_table },
	{ "config_set path lengths", test_set_path_lengths },
	{ "config_load", test_load },
	{ "config_load CRLF and empty file", test_load_crlf_and_empty },
	{ "config_load errors name file:line", test_load_errors },
	{ "config_load missing file and long line",
	    test_load_missing_and_long_lines },
	{ "config_finish", test_finish },
	{ "config_finish refuses eventIds kept longer than the audit log",
	    test_finish_retentions },
	{ "config_finish checks metrics_allow", test_finish_metrics_allow },
	{ "config_value", test_value },
	{ "conf/releasemgr.conf states the defaults", test_shipped_file },
	CU_TEST_INFO_NULL,
};

int
add_config_suite(void)
{
	return add_suite_with_tests("config", config_setup, config_teardown,
	    config_tests);
}
