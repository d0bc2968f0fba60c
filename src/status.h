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
	STATUS_SYSTEM		/* an unexpected system or library failure */
};

/* A short constant English name for a status, for logs. */
const char *status_name(enum status status);

#endif
