/*
 * Reports of a site of a replication group, recorded a batch to a
 * transaction. The master answers a report once a quorum of the group
 * has its commit, and Berkeley DB waits for those acknowledgements inside
 * the commit, while the transaction still holds its locks: reports of one
 * environment, which all write its record, would follow one another one
 * round trip to the replicas at a time. So the threads of a process that
 * record reports at once take turns: one (the leader) records every
 * report waiting, each in a child transaction of one transaction (a
 * report refused is undone alone), commits that once, waits for its
 * acknowledgements and its flush once, and answers them all; reports
 * arriving meanwhile make the next batch.
 */
#include <stdlib.h>

#include "log.h"
#include "store.h"
#include "store_private.h"

#define BATCH_MAX	64	/* reports in one transaction, at most */

/* A report waiting in a batch, on the stack of the thread that sent it. */
struct batch_entry {
	const struct deploy	*deploy;
	struct deploy_result	*result;
	enum status		 status;	/* its answer, once done */
	bool			 recorded;	/* committed into the batch's transaction */
	bool			 done;
	struct batch_entry	*next;
};

/* The reports a process is recording: those waiting, and its leader. */
struct batch_queue {
	pthread_mutex_t		 lock;
	pthread_cond_t		 done;		/* a batch was answered */
	struct batch_entry	*first;		/* waiting, in arrival order */
	struct batch_entry	*last;
	bool			 leading;	/* a thread records a batch */
};

struct batch_queue *
batch_queue_new(void)
{
	struct batch_queue *queue = calloc(1, sizeof(*queue));

	if (queue == NULL)
		return NULL;
	pthread_mutex_init(&queue->lock, NULL);
	pthread_cond_init(&queue->done, NULL);
	return queue;
}

void
batch_queue_free(struct batch_queue *queue)
{
	if (queue == NULL)
		return;
	pthread_cond_destroy(&queue->done);
	pthread_mutex_destroy(&queue->lock);
	free(queue);
}

/*
 * Commits the batch's transaction (txn, which recorded the reports of
 * list that are marked recorded), waits for its acknowledgements and
 * its flush, and gives each of those the outcome. The others keep the
 * answer they were given.
 */
static void
commit_batch(struct store *store, DB_TXN *txn, struct batch_entry *list,
    struct batch_entry *end)
{
	enum status status = commit_early(store, txn);

	if (status == STATUS_OK)
		status = wait_durable(store);
	for (struct batch_entry *e = list; e != end; e = e->next)
		if (e->recorded && status != STATUS_OK)
			e->status = status;
}

/* Begins a batch's transaction; on failure every report of list gets why. */
static enum status
begin_batch(struct store *store, DB_TXN **txn, struct batch_entry *list)
{
	enum status status = translate(store, store->env->txn_begin(store->env,
	    NULL, txn, 0), "begin a transaction");

	for (struct batch_entry *e = list; status != STATUS_OK && e != NULL;
	    e = e->next)
		e->status = status;
	return status;
}

/*
 * Records the reports of list, in order, in as few transactions as it
 * can: one, unless a report meets a deadlock after others were recorded
 * (the batch's locks may be what the other side waits for): what was
 * recorded is then committed, and that report starts the next
 * transaction, with the usual retries.
 */
static void
record_batch(struct store *store, struct batch_entry *list)
{
	struct batch_entry *start = list, *e = list;
	DB_TXN *txn = NULL;
	bool any = false;
	enum status status;

	if (begin_batch(store, &txn, list) != STATUS_OK)
		return;
	while (e != NULL) {
		status = deploy_retrying(store, txn, e->deploy, NULL,
		    any ? 0 : DEADLOCK_RETRIES, e->result);
		if (status == STATUS_DEADLOCK && any) {
			commit_batch(store, txn, start, e);
			start = e;
			any = false;
			if (begin_batch(store, &txn, e) != STATUS_OK)
				return;
			continue;
		}
		/* a removal of nothing with a key records the key */
		e->recorded = status == STATUS_OK || status == STATUS_NOT_FOUND;
		e->status = busy_if_deadlock(status, "deploy");
		any = any || e->recorded;
		e = e->next;
	}
	commit_batch(store, txn, start, NULL);
}

enum status
deploy_batched(struct store *store, const struct deploy *deploy,
    struct deploy_result *result)
{
	struct batch_queue *queue = store->batch;
	struct batch_entry mine = { deploy, result, STATUS_OK, false, false,
	    NULL };
	struct batch_entry *batch, *cut;
	size_t taken;

	pthread_mutex_lock(&queue->lock);
	if (queue->last != NULL)
		queue->last->next = &mine;
	else
		queue->first = &mine;
	queue->last = &mine;
	while (!mine.done) {
		if (queue->leading) {
			pthread_cond_wait(&queue->done, &queue->lock);
			continue;
		}
		/* lead: take the first BATCH_MAX waiting, this one among them */
		queue->leading = true;
		batch = queue->first;
		for (cut = batch, taken = 1; cut->next != NULL &&
		    taken < BATCH_MAX; taken++)
			cut = cut->next;
		queue->first = cut->next;
		if (queue->first == NULL)
			queue->last = NULL;
		cut->next = NULL;
		pthread_mutex_unlock(&queue->lock);
		record_batch(store, batch);
		pthread_mutex_lock(&queue->lock);
		for (struct batch_entry *e = batch, *next; e != NULL; e = next) {
			next = e->next;
			e->done = true;
		}
		queue->leading = false;
		pthread_cond_broadcast(&queue->done);
	}
	pthread_mutex_unlock(&queue->lock);
	return mine.status;
}
