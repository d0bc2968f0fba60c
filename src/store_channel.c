/*
 * The message channel of a site of a replication group to its master
 * (repmgr_channel, DB_EID_MASTER): a replica's worker hands the master a
 * report to record, or asks it for an environment's current version,
 * and the master's replication process answers. Messages and replies
 * start with a format byte; statuses cross the wire by number.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "store.h"
#include "store_bytes.h"
#include "store_private.h"
#include "validate.h"

#define MESSAGE_FORMAT		1	/* the first byte of every message and reply */
#define REPLY_MAX		(1 + 1 + 8 + 8 + 1 + 1)

/* What a message asks of the master. */
enum message_kind {
	MESSAGE_REPORT = 1,	/* record this report: environment, then the report */
	MESSAGE_CURRENT = 2	/* the current system version of this environment */
};

/*
 * The statuses a reply may carry, by their number on the wire: a site of
 * another release reads the same numbers, whatever enum status becomes.
 */
static const enum status wire_statuses[] = {
	STATUS_OK, STATUS_NOT_FOUND, STATUS_CONFLICT, STATUS_BUSY,
	STATUS_NO_SPACE, STATUS_NOT_REPLICATED, STATUS_NO_MASTER,
	STATUS_UNAVAILABLE, STATUS_INVALID
};

#define WIRE_STATUS_COUNT	(sizeof(wire_statuses) / sizeof(wire_statuses[0]))

/* The number of status on the wire; what has none is unavailable. */
static unsigned char
wire_status(enum status status)
{
	size_t unavailable = 0;

	for (size_t i = 0; i < WIRE_STATUS_COUNT; i++) {
		if (wire_statuses[i] == status)
			return (unsigned char)i;
		if (wire_statuses[i] == STATUS_UNAVAILABLE)
			unavailable = i;
	}
	return (unsigned char)unavailable;	/* the sender retries */
}

/*
 * Lends the channel to the master to this thread, making it when there
 * is none: one channel serves every thread of the process, each request
 * with its own tag. DB_REP_UNAVAIL while a broken one is still in use.
 */
static int
take_channel(struct store *store, DB_CHANNEL **channel)
{
	int rc = 0;

	pthread_mutex_lock(&store->channel_lock);
	if (store->channel_broken)
		rc = DB_REP_UNAVAIL;
	else if (store->master_channel == NULL)
		rc = store->env->repmgr_channel(store->env, DB_EID_MASTER,
		    &store->master_channel, 0);
	if (rc == 0)
		store->channel_users++;
	*channel = store->master_channel;
	pthread_mutex_unlock(&store->channel_lock);
	return rc;
}

/*
 * Gives the channel back; a request on it that failed marks it broken,
 * and its last user closes it, so that the next request makes another.
 */
static void
give_channel(struct store *store, bool failed)
{
	pthread_mutex_lock(&store->channel_lock);
	store->channel_users--;
	if (failed)
		store->channel_broken = true;
	if (store->channel_broken && store->channel_users == 0) {
		store->master_channel->close(store->master_channel, 0);
		store->master_channel = NULL;
		store->channel_broken = false;
	}
	pthread_mutex_unlock(&store->channel_lock);
}

/*
 * Sends the request msg (len bytes) to the master and waits for its
 * reply, at most cap bytes, into reply (*reply_len). STATUS_NO_MASTER
 * when none is known or it did not answer in time.
 */
static enum status
ask_master(struct store *store, const unsigned char *msg, size_t len,
    unsigned char *reply, size_t cap, size_t *reply_len)
{
	DB_CHANNEL *channel = NULL;
	DBT request, response;
	int rc;

	*reply_len = 0;
	memset(&request, 0, sizeof(request));
	request.data = (void *)(uintptr_t)msg;
	request.size = (u_int32_t)len;
	response = dbt(reply, 0, cap);
	if ((rc = take_channel(store, &channel)) == 0) {
		rc = channel->send_request(channel, &request, 1, &response,
		    store->forward_timeout_us, 0);
		give_channel(store, rc != 0);
	}
	if (rc == DB_REP_UNAVAIL || rc == DB_TIMEOUT) {
		log_warn("replication: the master did not answer: %s",
		    db_strerror(rc));
		return STATUS_NO_MASTER;
	}
	if (rc != 0)
		return translate(store, rc, "ask the master");
	*reply_len = response.size;
	return STATUS_OK;
}

/*
 * Reads the status of a reply: its format, then its status on the wire;
 * STATUS_SYSTEM, logged, for a reply this release does not read.
 */
static enum status
reply_status(const unsigned char *reply, size_t len, size_t want)
{
	if (len != want || reply[0] != MESSAGE_FORMAT ||
	    reply[1] >= WIRE_STATUS_COUNT) {
		log_error("replication: the master's reply is not one this "
		    "release reads");
		return STATUS_SYSTEM;
	}
	return wire_statuses[reply[1]];
}

enum status
forward_report(struct store *store, const struct deploy *deploy,
    struct deploy_result *result)
{
	unsigned char msg[2 + FORWARD_VALUE_MAX], reply[REPLY_MAX];
	size_t len, reply_len;
	enum status status;

	msg[0] = MESSAGE_FORMAT;
	msg[1] = MESSAGE_REPORT;
	len = 2 + record_forward_encode(deploy, msg + 2);
	if ((status = ask_master(store, msg, len, reply, sizeof(reply),
	    &reply_len)) != STATUS_OK)
		return status;
	if ((status = reply_status(reply, reply_len, 2 + 8 + 1 + 1)) !=
	    STATUS_OK)
		return status;
	if (reply[11] > OUTCOME_REMOVED) {
		log_error("replication: the master answered an outcome this "
		    "release does not know");
		return STATUS_SYSTEM;
	}
	result->system_version = get_u64(reply + 2);
	result->changed = reply[10] != 0;
	result->outcome = (enum deploy_outcome)reply[11];
	return STATUS_OK;
}

/* Answers a forwarded report into reply; returns the reply's length. */
static size_t
answer_report(struct store *store, const unsigned char *msg, size_t len,
    unsigned char reply[REPLY_MAX])
{
	struct deploy_result result = { 0, false, OUTCOME_UNCHANGED };
	enum status status = STATUS_INVALID;
	struct deploy *deploy = malloc(sizeof(*deploy));

	if (deploy == NULL)
		status = STATUS_UNAVAILABLE;
	else if (record_forward_decode(msg, len, deploy) &&
	    deploy_valid(deploy))
		status = deploy_here(store, deploy, &result);
	else
		log_error("replication: a forwarded report is not one this "
		    "release reads");
	free(deploy);
	if (status == STATUS_NOT_MASTER)
		status = STATUS_NO_MASTER;	/* it stepped down meanwhile */
	reply[1] = wire_status(status);
	put_u64(reply + 2, result.system_version);
	reply[10] = result.changed;
	reply[11] = (unsigned char)result.outcome;
	return 2 + 8 + 1 + 1;
}

/* Answers a question for an environment's current version into reply. */
static size_t
answer_current(struct store *store, const unsigned char *msg, size_t len,
    unsigned char reply[REPLY_MAX])
{
	char environment[ENVIRONMENT_MAX + 1];
	struct environment_state state = { 0, 0 };
	enum status status = STATUS_INVALID;

	if (len <= ENVIRONMENT_MAX &&
	    check_environment((const char *)msg, len) == NULL) {
		memcpy(environment, msg, len);
		environment[len] = '\0';
		status = store_current(store, environment, &state);
	}
	reply[1] = wire_status(status);
	put_u64(reply + 2, state.system_version);
	put_u64(reply + 10, state.updated_ms);
	return 2 + 8 + 8;
}

/*
 * What the replication process does with a message of another site (a
 * repmgr_msg_dispatch callback, on one of its message threads): it
 * answers every request, with STATUS_UNAVAILABLE until its databases are
 * open.
 */
void
channel_dispatch(DB_ENV *env, DB_CHANNEL *channel, DBT *request, u_int32_t parts,
    u_int32_t flags)
{
	struct store *store = env->app_private;
	unsigned char reply[REPLY_MAX];
	const unsigned char *msg = request[0].data;
	size_t len = request[0].size, reply_len = 2;
	DBT response;

	if (!(flags & DB_REPMGR_NEED_RESPONSE))
		return;
	reply[0] = MESSAGE_FORMAT;
	reply[1] = wire_status(STATUS_UNAVAILABLE);
	if (parts != 1 || len < 2 || msg[0] != MESSAGE_FORMAT)
		reply[1] = wire_status(STATUS_INVALID);
	else if (!store->databases_open)
		;	/* not ready: the sender retries */
	else if (msg[1] == MESSAGE_REPORT)
		reply_len = answer_report(store, msg + 2, len - 2, reply);
	else if (msg[1] == MESSAGE_CURRENT)
		reply_len = answer_current(store, msg + 2, len - 2, reply);
	else
		reply[1] = wire_status(STATUS_INVALID);
	memset(&response, 0, sizeof(response));
	response.data = reply;
	response.size = (u_int32_t)reply_len;
	channel->send_msg(channel, &response, 1, 0);
}

/*
 * Asks the master for the current system version of environment:
 * STATUS_NOT_FOUND when it has never seen a deploy.
 */
static enum status
master_current(struct store *store, const char *environment,
    uint64_t *system_version)
{
	unsigned char msg[2 + ENVIRONMENT_MAX], reply[REPLY_MAX];
	size_t len = strlen(environment), reply_len;
	enum status status;

	msg[0] = MESSAGE_FORMAT;
	msg[1] = MESSAGE_CURRENT;
	memcpy(msg + 2, environment, len);
	if ((status = ask_master(store, msg, 2 + len, reply, sizeof(reply),
	    &reply_len)) != STATUS_OK)
		return status;
	if ((status = reply_status(reply, reply_len, 2 + 8 + 8)) != STATUS_OK)
		return status;
	*system_version = get_u64(reply + 2);
	return STATUS_OK;
}

enum status
store_catch_up(struct store *store, const char *environment,
    uint64_t system_version)
{
	struct timespec poll = { 0, POLL_NS };
	struct environment_state state;
	uint64_t wanted = system_version, deadline;
	enum status status;

	if (store->replication == NULL || replication_is_master(store))
		return STATUS_NOT_FOUND;
	if ((status = master_current(store, environment, &wanted)) !=
	    STATUS_OK)
		return status;
	if (wanted < system_version || wanted == 0)
		return STATUS_NOT_FOUND;
	if (system_version == 0)
		system_version = 1;	/* the environment: its first version */
	deadline = monotonic_ms() + store->replication->ack_timeout_ms;
	for (;;) {
		status = store_current(store, environment, &state);
		if (status == STATUS_OK && state.system_version >=
		    system_version)
			return STATUS_OK;
		if (status != STATUS_OK && status != STATUS_NOT_FOUND)
			return status;
		if (monotonic_ms() >= deadline)
			return STATUS_NOT_REPLICATED;
		nanosleep(&poll, NULL);
	}
}

/* Closes this process's channel to the master, when it has one. */
void
channel_close(struct store *store)
{
	if (store->master_channel != NULL)
		store->master_channel->close(store->master_channel, 0);
	store->master_channel = NULL;
}
