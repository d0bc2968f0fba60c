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
 * Checks every environment of store, replaying its changes in one
 * ascending pass (store_walk_changes()):
 *  - its changes are gapless from 1 to its current version, and none is
 *    stored beyond it (the store answers a system error, logged, when
 *    either fails: the audit stops there);
 *  - each change's createdAt is no earlier than the one before;
 *  - each change's previous version is the service's version before it
 *    (absent for a new service), and a change changes the version;
 *  - the environment's time is its last change's createdAt;
 *  - at the version of each keyframe below the current one, the services
 *    the store answers for that version, read from the keyframe alone,
 *    are the replay's; a keyframe beyond the current version is a fault;
 *  - the current map, as the store answers the current version, is the
 *    replay of every change (a keyframe at the current version is not
 *    read: the store answers that version from the current map);
 *  - for each service any change named, its periods as the store answers
 *    them (store_service_history()) are those its changes make, newest
 *    first: each version from its change to the service's next change,
 *    a removal ending one and starting none, with the times of those
 *    changes; a service the store does not know is a fault.
 * The snapshots of other versions are not read: the store makes each
 * from a keyframe and the changes after it, all of which are checked.
 * Besides the replay, the audit holds a small record of each change.
 * Each fault found is reported on report (the first few of each
 * environment); totals says how many. STATUS_OK when the store could be
 * read through, faults or not.
 */
enum status	audit_store(struct store *store, FILE *report,
		    struct audit_totals *totals);

#endif
