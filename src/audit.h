/*
 * The semantic checks of a store, beyond Berkeley DB's own: what the
 * release manager promises of its history.
 */
#ifndef RELEASEMGR_AUDIT_H
#define RELEASEMGR_AUDIT_H

#include <stdint.h>
#include <stdio.h>

#include "status.h"
#include "store.h"

/* What an audit saw. */
struct audit_totals {
	uint64_t	environments;
	uint64_t	system_versions;
	uint64_t	faults;
};

/*
 * Checks every environment of store: its system versions are gapless from
 * 1 to the current one, each has its change and a createdAt no earlier than
 * the one before, each change's previous version is the service's version
 * before it, each version's services are the previous version's plus
 * exactly its one change, and the environment's current version and time
 * are its last change's. Each fault found is reported on report (the first
 * few of each environment); totals says how many. STATUS_OK when the
 * store could be read through, faults or not.
 */
enum status	audit_store(struct store *store, FILE *report,
		    struct audit_totals *totals);

#endif
