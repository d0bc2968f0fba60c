/*
 * The one outcome convention of releasemgr: every function that can fail
 * returns an enum status, and only the storage layer knows the Berkeley DB
 * codes behind it.
 */
#ifndef RELEASEMGR_STATUS_H
#define RELEASEMGR_STATUS_H

enum status {
	STATUS_OK = 0,		/* done as asked */
	STATUS_NOT_FOUND,	/* what was asked for does not exist */
	STATUS_INVALID,		/* the input failed validation; nothing changed */
	STATUS_CONFLICT,	/* a report reuses an eventId for another report; nothing changed */
	STATUS_BUSY,		/* lock conflicts outlasted the bounded retries; try later */
	/*
	 * chosen as a deadlock's victim: the store aborts and retries the
	 * transaction; a store_* function never returns it
	 */
	STATUS_DEADLOCK,
	/*
	 * a record written only if new was there already: the store looks
	 * at it and tries again; a store_* function never returns it
	 */
	STATUS_EXISTS,
	STATUS_UNAVAILABLE,	/* the store cannot serve now (needs recovery, out of memory) */
	STATUS_NO_SPACE,	/* the disk is full (or below the reserve); retry once space is freed */
	/*
	 * replicated: no master is known (an election is under way), or it
	 * could not be reached; retry shortly
	 */
	STATUS_NO_MASTER,
	/*
	 * replicated: committed on the master, but a quorum of the group
	 * did not acknowledge it in time (or the wait for it ended): it may
	 * be undone by an election; resending the report is safe
	 */
	STATUS_NOT_REPLICATED,
	/*
	 * replicated: a write reached a site that is not the master; the
	 * store hands the report to the master, and a store_* function
	 * never returns it
	 */
	STATUS_NOT_MASTER,
	STATUS_SYSTEM		/* an unexpected system or library failure */
};

/* A short constant English name for a status, for logs. */
const char *status_name(enum status status);

#endif
