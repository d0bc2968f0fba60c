/*
 * The text of GET /metrics. The reports' counts are the store's own,
 * counted in each report's transaction (exact, and kept across restarts);
 * Berkeley DB's counters are its regions', which recovery starts again;
 * the request counts are the pool's (metrics.c).
 */
#include <stdlib.h>
#include <time.h>

#include "metrics_page.h"
#include "model.h"

/* Writes each environment's reports by outcome and its system version. */
static enum status
write_environments(struct store *store, struct exposition *out)
{
	struct environment_summary *list = NULL;
	size_t count = 0;
	enum status status = store_environments(store, &list, &count);

	if (status != STATUS_OK)
		return status;
	exposition_family(out, "releasemgr_deploy_reports_total", "counter",
	    "Reports answered 200, by environment and outcome (the "
	    "Deploy-Outcome header).");
	for (size_t i = 0; i < count; i++)
		for (int o = 0; o < OUTCOME_COUNT; o++) {
			struct label labels[2] = {
				{ "environment", list[i].name },
				{ "outcome", deploy_outcome_name(o) },
			};

			exposition_u64(out, "releasemgr_deploy_reports_total",
			    labels, 2, list[i].reports[o]);
		}
	exposition_family(out, "releasemgr_system_version", "gauge",
	    "The current system version of each environment.");
	for (size_t i = 0; i < count; i++) {
		struct label label = { "environment", list[i].name };

		exposition_u64(out, "releasemgr_system_version", &label, 1,
		    list[i].state.system_version);
	}
	free(list);
	return STATUS_OK;
}

/* Writes a family of one sample without labels. */
static void
write_single(struct exposition *out, const char *name, const char *type,
    const char *help, uint64_t value)
{
	exposition_family(out, name, type, help);
	exposition_u64(out, name, NULL, 0, value);
}

/* Writes Berkeley DB's counters, the disk's free space and replication. */
static enum status
write_statistics(struct store *store, struct exposition *out)
{
	struct store_statistics s;
	time_t now = time(NULL);
	enum status status = store_statistics(store, &s);

	if (status != STATUS_OK)
		return status;
	write_single(out, "releasemgr_db_transactions_committed_total",
	    "counter", "Transactions committed (a batch's reports each count "
	    "as one, and the batch once more).", s.commits);
	write_single(out, "releasemgr_db_transactions_aborted_total",
	    "counter", "Transactions aborted.", s.aborts);
	write_single(out, "releasemgr_db_deadlocks_total", "counter",
	    "Deadlocks Berkeley DB broke (the transaction is tried again).",
	    s.deadlocks);
	write_single(out, "releasemgr_db_lock_waits_total", "counter",
	    "Lock requests that had to wait.", s.lock_waits);
	write_single(out, "releasemgr_db_log_written_bytes_total", "counter",
	    "Bytes written to the log.", s.log_bytes);
	write_single(out, "releasemgr_db_log_flushes_total", "counter",
	    "Flushes of the log to disk.", s.log_flushes);
	exposition_family(out, "releasemgr_db_commits_per_flush", "gauge",
	    "Transactions committed per log flush, since the counters "
	    "started.");
	exposition_double(out, "releasemgr_db_commits_per_flush", NULL, 0,
	    s.log_flushes > 0 ? (double)s.commits / (double)s.log_flushes : 0);
	write_single(out, "releasemgr_db_cache_hits_total", "counter",
	    "Pages found in Berkeley DB's buffer pool.", s.cache_hits);
	write_single(out, "releasemgr_db_cache_misses_total", "counter",
	    "Pages read into the buffer pool from disk.", s.cache_misses);
	if (s.checkpoint_time > 0)
		write_single(out, "releasemgr_db_checkpoint_age_seconds",
		    "gauge", "Seconds since the last checkpoint.",
		    now > s.checkpoint_time ?
		    (uint64_t)(now - s.checkpoint_time) : 0);
	if (s.has_free_bytes)
		write_single(out, "releasemgr_storage_free_bytes", "gauge",
		    "Bytes free for the store on its filesystem.",
		    s.free_bytes);
	if (!s.replicated)
		return STATUS_OK;
	exposition_family(out, "releasemgr_replication_role", "gauge",
	    "This site's role in the replication group: 1 for the one it "
	    "has.");
	for (int master = 1; master >= 0; master--) {
		struct label label = { "role", master ? "master" : "replica" };

		exposition_u64(out, "releasemgr_replication_role", &label, 1,
		    s.master == (master == 1));
	}
	write_single(out, "releasemgr_replication_behind_bytes", "gauge",
	    "Log bytes this replica knows it lacks from the master (0 on the "
	    "master).", s.behind_bytes);
	return STATUS_OK;
}

enum status
metrics_page(const struct metrics *metrics, struct store *store,
    struct exposition *out)
{
	enum status status;

	metrics_write(metrics, out);
	if ((status = write_environments(store, out)) != STATUS_OK ||
	    (status = write_statistics(store, out)) != STATUS_OK)
		return status;
	return out->failed ? STATUS_SYSTEM : STATUS_OK;
}
