/*
 * Configuration, as one table: name, type, default and bounds of every
 * setting. The file parser, the command line and the log all read it.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "log.h"
#include "validate.h"

enum setting_type {
	SETTING_UINT,
	SETTING_BOOL,
	SETTING_TEXT,
	SETTING_DAYS,	/* a uint64_t of ms, given in days or with a unit */
	SETTING_CHOICE	/* an unsigned: which of its words ("a|b") was given */
};

/* The units a duration may be given in, largest first. */
static const struct unit {
	char		 suffix;
	uint64_t	 ms;
} units[] = {
	{ 'd', UINT64_C(86400000) },
	{ 'h', UINT64_C(3600000) },
	{ 'm', UINT64_C(60000) },
	{ 's', UINT64_C(1000) },
};

#define UNIT_COUNT	(sizeof(units) / sizeof(units[0]))
#define DAYS_MAX	3650u	/* the longest duration, in days */

static int	format_duration(uint64_t, char *, size_t);

static const struct setting {
	const char		*name;
	enum setting_type	 type;
	size_t			 offset;
	size_t			 size;		/* of a path buffer */
	unsigned		 min, max;	/* of an integer */
	unsigned		 default_uint;	/* and of a bool, a choice */
	const char		*text;		/* a text's default; a choice's words */
} settings[] = {
	{ "workers", SETTING_UINT, offsetof(struct config, workers), 0,
	    1, 64, 2, NULL },
	{ "threads", SETTING_UINT, offsetof(struct config, threads), 0,
	    1, 64, 8, NULL },
	{ "cache_mb", SETTING_UINT, offsetof(struct config, cache_mb), 0,
	    1, 4096, 4, NULL },
	{ "lock_timeout_ms", SETTING_UINT,
	    offsetof(struct config, lock_timeout_ms), 0, 10, 60000, 5000, NULL },
	{ "checkpoint_seconds", SETTING_UINT,
	    offsetof(struct config, checkpoint_seconds), 0, 1, 86400, 30, NULL },
	{ "commit_delay_us", SETTING_UINT,
	    offsetof(struct config, commit_delay_us), 0, 0, 100000, 1000, NULL },
	{ "reserve_mb", SETTING_UINT, offsetof(struct config, reserve_mb), 0,
	    0, 1048576, 64, NULL },
	{ "durable_commits", SETTING_BOOL,
	    offsetof(struct config, durable_commits), 0, 0, 1, 1, NULL },
	{ "data_dir", SETTING_TEXT, offsetof(struct config, data_dir),
	    CONFIG_PATH_MAX, 0, 0, 0, "var" },
	{ "socket", SETTING_TEXT, offsetof(struct config, socket_path),
	    SOCKET_PATH_MAX + 1, 0, 0, 0, "" },
	{ "token_file", SETTING_TEXT, offsetof(struct config, token_file),
	    CONFIG_PATH_MAX, 0, 0, 0, "" },
	{ "user", SETTING_TEXT, offsetof(struct config, user),
	    USER_NAME_MAX + 1, 0, 0, 0, "releasemgr" },
	{ "socket_group", SETTING_TEXT, offsetof(struct config, socket_group),
	    USER_NAME_MAX + 1, 0, 0, 0, "www-data" },
	/* the words in the order of enum log_format */
	{ "log_format", SETTING_CHOICE, offsetof(struct config, log_format), 0,
	    0, 0, LOG_FORMAT_TEXT, "text|json" },
	{ "deploy_rate", SETTING_UINT, offsetof(struct config, deploy_rate), 0,
	    0, 100000, 0, NULL },
	/* nginx refuses a burst of 0: 1 is the least */
	{ "deploy_burst", SETTING_UINT, offsetof(struct config, deploy_burst),
	    0, 1, 100000, 100, NULL },
	{ "metrics", SETTING_BOOL, offsetof(struct config, metrics), 0, 0, 1,
	    1, NULL },
	{ "metrics_allow", SETTING_TEXT, offsetof(struct config, metrics_allow),
	    METRICS_ALLOW_MAX, 0, 0, 0, "127.0.0.1 ::1" },
	{ "replication_site", SETTING_TEXT,
	    offsetof(struct config, replication_site), SITE_TEXT_SIZE, 0, 0, 0,
	    "" },
	{ "replication_peers", SETTING_TEXT,
	    offsetof(struct config, replication_peers), PEERS_TEXT_MAX, 0, 0, 0,
	    "" },
	{ "replication_priority", SETTING_UINT,
	    offsetof(struct config, replication_priority), 0, 0, 1000000, 100,
	    NULL },
	{ "replication_ack_timeout_ms", SETTING_UINT,
	    offsetof(struct config, replication_ack_timeout_ms), 0, 10, 60000,
	    1000, NULL },
	{ "replication_heartbeat_ms", SETTING_UINT,
	    offsetof(struct config, replication_heartbeat_ms), 0, 50, 60000,
	    500, NULL },
	{ "event_retention_days", SETTING_DAYS,
	    offsetof(struct config, event_retention_ms), 0, 0, 0, 7, NULL },
	{ "audit_retention_days", SETTING_DAYS,
	    offsetof(struct config, audit_retention_ms), 0, 0, 0, 30, NULL },
};

#define SETTING_COUNT	(sizeof(settings) / sizeof(settings[0]))

void
config_defaults(struct config *config)
{
	memset(config, 0, sizeof(*config));
	for (size_t i = 0; i < SETTING_COUNT; i++) {
		const struct setting *s = &settings[i];
		char *field = (char *)config + s->offset;

		if (s->type == SETTING_UINT || s->type == SETTING_CHOICE)
			*(unsigned *)field = s->default_uint;
		else if (s->type == SETTING_DAYS)
			*(uint64_t *)field = s->default_uint * units[0].ms;
		else if (s->type == SETTING_BOOL)
			*(bool *)field = s->default_uint != 0;
		else
			snprintf(field, s->size, "%s", s->text);
	}
}

/*
 * Parses a duration: a number of days, or of a unit when it ends with d,
 * h, m or s ("7", "12h", "30s"), from 1 second to DAYS_MAX days, into ms.
 */
static bool
parse_duration(const char *value, uint64_t *ms)
{
	size_t len = strlen(value);
	uint64_t unit_ms = units[0].ms, number;

	for (size_t u = 0; len > 0 && u < UNIT_COUNT; u++)
		if (value[len - 1] == units[u].suffix) {
			unit_ms = units[u].ms;
			len--;
			break;
		}
	if (!parse_decimal(value, len, 1, DAYS_MAX * units[0].ms / unit_ms,
	    &number))
		return false;
	*ms = number * unit_ms;
	return true;
}

/*
 * The index of value among the words of a choice ("a|b|c"), or -1 when it
 * is none of them.
 */
static int
choice_index(const char *words, const char *value)
{
	size_t len = strlen(value);
	int index = 0;

	for (;;) {
		size_t n = strcspn(words, "|");

		if (n == len && strncmp(words, value, n) == 0)
			return index;
		if (words[n] == '\0')
			return -1;
		words += n + 1;
		index++;
	}
}

/* Writes the words of a choice as "a or b", "a, b or c", into buf. */
static void
choice_phrase(const char *words, char *buf, size_t cap)
{
	size_t len = 0;

	buf[0] = '\0';
	for (const char *w = words; len < cap;) {
		size_t n = strcspn(w, "|");
		const char *next = w[n] == '\0' ? NULL : w + n + 1;
		int m = snprintf(buf + len, cap - len, "%s%.*s", w == words ? "" :
		    next == NULL ? " or " : ", ", (int)n, w);

		if (m < 0 || next == NULL)
			break;
		len += (size_t)m;
		w = next;
	}
}

enum status
config_set(struct config *config, const char *name, const char *value,
    char *err, size_t err_len)
{
	for (size_t i = 0; i < SETTING_COUNT; i++) {
		const struct setting *s = &settings[i];
		char *field = (char *)config + s->offset;
		uint64_t number;
		char words[128];
		int index;

		if (strcmp(name, s->name) != 0)
			continue;
		switch (s->type) {
		case SETTING_UINT:
			if (!parse_decimal(value, strlen(value), s->min, s->max,
			    &number)) {
				snprintf(err, err_len, "%s must be an integer "
				    "from %u to %u", name, s->min, s->max);
				return STATUS_INVALID;
			}
			*(unsigned *)field = (unsigned)number;
			return STATUS_OK;
		case SETTING_DAYS:
			if (!parse_duration(value, &number)) {
				snprintf(err, err_len, "%s must be a number of "
				    "days from 1 to %u, or of hours, minutes "
				    "or seconds with h, m or s after it", name,
				    DAYS_MAX);
				return STATUS_INVALID;
			}
			*(uint64_t *)field = number;
			return STATUS_OK;
		case SETTING_BOOL:
			if (strcmp(value, "yes") != 0 && strcmp(value, "no") != 0) {
				snprintf(err, err_len, "%s must be yes or no", name);
				return STATUS_INVALID;
			}
			*(bool *)field = strcmp(value, "yes") == 0;
			return STATUS_OK;
		case SETTING_TEXT:
			if (strlen(value) >= s->size) {
				snprintf(err, err_len, "%s is longer than %zu bytes",
				    name, s->size - 1);
				return STATUS_INVALID;
			}
			memcpy(field, value, strlen(value) + 1);
			return STATUS_OK;
		case SETTING_CHOICE:
			if ((index = choice_index(s->text, value)) < 0) {
				choice_phrase(s->text, words, sizeof(words));
				snprintf(err, err_len, "%s must be %s", name,
				    words);
				return STATUS_INVALID;
			}
			*(unsigned *)field = (unsigned)index;
			return STATUS_OK;
		}
	}
	snprintf(err, err_len, "unknown setting '%s'", name);
	return STATUS_INVALID;
}

/* Strips leading and trailing blanks in place; returns the start. */
static char *
trim(char *s)
{
	char *end;

	while (*s == ' ' || *s == '\t')
		s++;
	end = s + strlen(s);
	while (end > s && (end[-1] == ' ' || end[-1] == '\t' ||
	    end[-1] == '\n' || end[-1] == '\r'))
		*--end = '\0';
	return s;
}

enum status
config_load(struct config *config, const char *path, char *err,
    size_t err_len)
{
	char line[CONFIG_PATH_MAX + 64], why[256];
	FILE *file;
	unsigned number = 0;
	enum status status = STATUS_OK;

	if ((file = fopen(path, "re")) == NULL) {
		snprintf(err, err_len, "cannot open %s: %s", path,
		    strerror(errno));
		return STATUS_INVALID;
	}
	while (status == STATUS_OK && fgets(line, sizeof(line), file) != NULL) {
		char *name, *value, *eq, *hash;

		number++;
		if (strchr(line, '\n') == NULL && !feof(file)) {
			snprintf(err, err_len, "%s:%u: line too long", path, number);
			status = STATUS_INVALID;
			break;
		}
		if ((hash = strchr(line, '#')) != NULL)
			*hash = '\0';
		name = trim(line);
		if (*name == '\0')
			continue;
		if ((eq = strchr(name, '=')) == NULL) {
			snprintf(err, err_len, "%s:%u: expected 'name = value'",
			    path, number);
			status = STATUS_INVALID;
			break;
		}
		*eq = '\0';
		value = trim(eq + 1);
		name = trim(name);
		if ((status = config_set(config, name, value, why,
		    sizeof(why))) != STATUS_OK)
			snprintf(err, err_len, "%s:%u: %s", path, number, why);
	}
	fclose(file);
	return status;
}

/*
 * Reads replication_site and replication_peers into addresses; a site
 * named among its own peers, or a peer named twice, is refused.
 */
static enum status
finish_replication(struct config *config, char *err, size_t err_len)
{
	const char *why;

	config->replicated = config->replication_site[0] != '\0';
	config->peer_count = 0;
	if (!config->replicated)
		return STATUS_OK;
	if ((why = site_parse(config->replication_site,
	    strlen(config->replication_site), &config->site)) != NULL) {
		snprintf(err, err_len, "replication_site %s", why);
		return STATUS_INVALID;
	}
	if ((why = site_parse_list(config->replication_peers, config->peers,
	    SITE_PEERS_MAX, &config->peer_count)) != NULL) {
		snprintf(err, err_len, "replication_peers %s", why);
		return STATUS_INVALID;
	}
	for (size_t i = 0; i < config->peer_count; i++) {
		if (site_compare(&config->peers[i], &config->site) == 0) {
			snprintf(err, err_len, "replication_peers names this "
			    "site's own replication_site");
			return STATUS_INVALID;
		}
		for (size_t j = 0; j < i; j++)
			if (site_compare(&config->peers[i],
			    &config->peers[j]) == 0) {
				snprintf(err, err_len, "replication_peers "
				    "names a site twice");
				return STATUS_INVALID;
			}
	}
	return STATUS_OK;
}

/*
 * Checks metrics_allow, what nginx's allow directives of /metrics are
 * made of: addresses, IPv4 or IPv6, each with an optional /prefix, or
 * "all", separated by blanks; empty: no one.
 */
static enum status
check_metrics_allow(const char *list, char *err, size_t err_len)
{
	char entry[INET6_ADDRSTRLEN + 8];
	unsigned char bytes[sizeof(struct in6_addr)];

	for (const char *p = list; *(p += strspn(p, " \t")) != '\0';) {
		size_t len = strcspn(p, " \t");
		char *prefix_text = NULL;
		uint64_t prefix = 0;
		int family = AF_INET;
		bool ok = len < sizeof(entry);

		if (ok) {
			/* entry: the address, prefix_text what follows a '/' */
			memcpy(entry, p, len);
			entry[len] = '\0';
			if ((prefix_text = strchr(entry, '/')) != NULL)
				*prefix_text++ = '\0';
			if (strchr(entry, ':') != NULL)
				family = AF_INET6;
			ok = (strcmp(entry, "all") == 0 && prefix_text == NULL) ||
			    (inet_pton(family, entry, bytes) == 1 &&
			    (prefix_text == NULL || parse_decimal(prefix_text,
			    strlen(prefix_text), 0, family == AF_INET ? 32 : 128,
			    &prefix)));
		}
		if (!ok) {
			snprintf(err, err_len, "metrics_allow: \"%.*s\" is not "
			    "an IPv4 or IPv6 address, with or without a "
			    "/prefix, nor \"all\"", (int)(len > 64 ? 64 : len),
			    p);
			return STATUS_INVALID;
		}
		p += len;
	}
	return STATUS_OK;
}

enum status
config_finish(struct config *config, char *err, size_t err_len)
{
	char event[32], audit[32];
	int n;

	/* eventIds expire as the maintainer walks the audit log */
	if (config->event_retention_ms > config->audit_retention_ms) {
		format_duration(config->event_retention_ms, event,
		    sizeof(event));
		format_duration(config->audit_retention_ms, audit,
		    sizeof(audit));
		snprintf(err, err_len, "event_retention_days (%s) is longer "
		    "than audit_retention_days (%s): eventIds expire through "
		    "the audit log, which must keep a report at least as long "
		    "as its eventId", event, audit);
		return STATUS_INVALID;
	}
	if (finish_replication(config, err, err_len) != STATUS_OK ||
	    check_metrics_allow(config->metrics_allow, err, err_len) !=
	    STATUS_OK)
		return STATUS_INVALID;
	if (config->socket_path[0] != '\0')
		return STATUS_OK;
	n = snprintf(config->socket_path, sizeof(config->socket_path),
	    "%s/run/releasemgr.sock", config->data_dir);
	if (n < 0 || (size_t)n >= sizeof(config->socket_path)) {
		config->socket_path[0] = '\0';	/* not a cut-off path */
		snprintf(err, err_len, "the socket path under %s is too long "
		    "for a unix socket; set socket", config->data_dir);
		return STATUS_INVALID;
	}
	return STATUS_OK;
}

/*
 * Formats a duration as parse_duration() reads it: in days when whole,
 * otherwise in the largest unit that divides it. Returns what snprintf does.
 */
static int
format_duration(uint64_t ms, char *buf, size_t cap)
{
	size_t u = 0;

	while (u + 1 < UNIT_COUNT && ms % units[u].ms != 0)
		u++;
	if (u == 0)
		return snprintf(buf, cap, "%llu",
		    (unsigned long long)(ms / units[0].ms));
	return snprintf(buf, cap, "%llu%c",
	    (unsigned long long)(ms / units[u].ms), units[u].suffix);
}

/*
 * Writes word number index of a choice's words into buf (cap bytes);
 * returns what snprintf does.
 */
static int
choice_word(const char *words, unsigned index, char *buf, size_t cap)
{
	for (; index > 0 && words[strcspn(words, "|")] != '\0'; index--)
		words += strcspn(words, "|") + 1;
	return snprintf(buf, cap, "%.*s", (int)strcspn(words, "|"), words);
}

/* Formats the value of setting s into buf; false when it does not fit. */
static bool
format_setting(const struct config *config, const struct setting *s,
    char *buf, size_t cap)
{
	const char *field = (const char *)config + s->offset;
	int n;

	if (s->type == SETTING_UINT)
		n = snprintf(buf, cap, "%u", *(const unsigned *)field);
	else if (s->type == SETTING_DAYS)
		n = format_duration(*(const uint64_t *)field, buf, cap);
	else if (s->type == SETTING_BOOL)
		n = snprintf(buf, cap, "%s", *(const bool *)field ? "yes" : "no");
	else if (s->type == SETTING_CHOICE)
		n = choice_word(s->text, *(const unsigned *)field, buf, cap);
	else
		n = snprintf(buf, cap, "%s", field);
	return n >= 0 && (size_t)n < cap;
}

void
config_log(const struct config *config)
{
	char value[CONFIG_PATH_MAX];

	for (size_t i = 0; i < SETTING_COUNT; i++) {
		format_setting(config, &settings[i], value, sizeof(value));
		log_info("config: %s = %s", settings[i].name, value);
	}
}

enum status
config_value(const struct config *config, const char *name, char *buf,
    size_t cap)
{
	for (size_t i = 0; i < SETTING_COUNT; i++) {
		if (strcmp(name, settings[i].name) != 0)
			continue;
		if (format_setting(config, &settings[i], buf, cap))
			return STATUS_OK;
		break;
	}
	if (cap > 0)
		buf[0] = '\0';
	return STATUS_INVALID;
}
