/*
 * Configuration: one table of every setting, with its default and bounds,
 * read from a "name = value" file and overridden by command-line options.
 */
#ifndef RELEASEMGR_CONFIG_H
#define RELEASEMGR_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "site.h"
#include "status.h"

#define CONFIG_PATH_MAX	4096
#define SOCKET_PATH_MAX	107	/* what fits in sun_path */
#define USER_NAME_MAX	32	/* bytes of a user name */
#define PEERS_TEXT_MAX	(SITE_PEERS_MAX * (SITE_TEXT_SIZE + 1))	/* replication_peers */
#define METRICS_ALLOW_MAX	512	/* bytes of metrics_allow */

struct config {
	unsigned	workers;		/* FastCGI worker processes */
	unsigned	threads;		/* serving threads per worker */
	unsigned	cache_mb;		/* Berkeley DB buffer pool, MiB */
	unsigned	lock_timeout_ms;	/* longest wait for a lock */
	unsigned	checkpoint_seconds;	/* between checkpoints */
	unsigned	reserve_mb;		/* deploys need this much free disk; 0: no check */
	bool		durable_commits;	/* flush the log before answering */
	unsigned	commit_delay_us;	/* a deploy's wait for company before its flush */
	bool		metrics;		/* count requests and serve GET /metrics */
	uint64_t	event_retention_ms;	/* an eventId is recognised this long */
	uint64_t	audit_retention_ms;	/* an audit entry is kept this long */
	char		data_dir[CONFIG_PATH_MAX];
	char		socket_path[SOCKET_PATH_MAX + 1];	/* "" = data_dir/run/releasemgr.sock */
	char		token_file[CONFIG_PATH_MAX];	/* "" = deploys are open */
	char		user[USER_NAME_MAX + 1];	/* run as it when started as root; "" = stay */
	char		socket_group[USER_NAME_MAX + 1];	/* the socket's, when started as root: nginx's */
	unsigned	log_format;		/* enum log_format (log.h): text or json */
	/* replication: "" turns it off, and the rest is ignored */
	char		replication_site[SITE_TEXT_SIZE];	/* HOST:PORT this site listens on */
	char		replication_peers[PEERS_TEXT_MAX];	/* HOST:PORT, ... to join through */
	unsigned	replication_priority;	/* in elections; 0: never the master */
	unsigned	replication_ack_timeout_ms;	/* a deploy's wait for a quorum */
	unsigned	replication_heartbeat_ms;	/* the master's; 4 missed start an election */
	/* what config_finish() makes of them */
	bool		replicated;
	struct site_address site;
	struct site_address peers[SITE_PEERS_MAX];
	size_t		peer_count;
	/* read by releasemgr-run for nginx, ignored by the pool: */
	unsigned	deploy_rate;		/* POST /deploy a second per address; 0 = no limit */
	unsigned	deploy_burst;		/* deploys over the rate let through at once */
	char		metrics_allow[METRICS_ALLOW_MAX];	/* who may read /metrics */
};

/* Sets every setting to its default. */
void		config_defaults(struct config *config);

/*
 * Sets one setting from text. On failure says why in err and returns
 * STATUS_INVALID, leaving the setting as it was.
 */
enum status	config_set(struct config *config, const char *name,
		    const char *value, char *err, size_t err_len);

/*
 * Reads a configuration file of "name = value" lines ('#' starts a
 * comment). An error names the file and line.
 */
enum status	config_load(struct config *config, const char *path, char *err,
		    size_t err_len);

/*
 * Fills in the settings derived from others (the socket path, the
 * replication addresses), and refuses those that contradict one another
 * (an event retention longer than the audit retention, a site among its
 * own peers): err says why, naming them.
 */
enum status	config_finish(struct config *config, char *err, size_t err_len);

/* Writes every setting and its value to the log. */
void		config_log(const struct config *config);

/*
 * Formats the value of the setting called name as a configuration file
 * would give it, into buf (cap bytes). Returns STATUS_INVALID, with buf
 * empty, for an unknown name or a value longer than buf.
 */
enum status	config_value(const struct config *config, const char *name,
		    char *buf, size_t cap);

#endif
