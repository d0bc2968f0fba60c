/*
 * The semantic audit: replays each environment's changes from the first,
 * in one ascending pass, and compares the replay with what the store
 * derived from them: each keyframe, at its version, and the current map.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "log.h"
#include "model.h"

#define FAULTS_REPORTED_MAX	10	/* per environment; the rest are counted */

/* The replay of one environment. */
struct replay {
	struct store		*store;
	const char		*environment;
	struct service_list	 services;	/* after the versions seen so far */
	struct service_list	 spare;		/* for an insertion */
	struct service_list	 stored;	/* what the store answers */
	uint64_t		*keyframes;	/* their versions, ascending */
	size_t			 keyframe_count;
	size_t			 next_keyframe;	/* the first not compared yet */
	uint64_t		 version;	/* the last version seen */
	uint64_t		 last;		/* the current version */
	uint64_t		 created_ms;	/* of the last version seen */
	uint64_t		 faults;
	FILE			*report;
};

/* Counts a fault of system_version and reports the first few. */
__attribute__((format(printf, 3, 4)))
static void
fault(struct replay *r, uint64_t system_version, const char *fmt, ...)
{
	va_list ap;

	if (++r->faults > FAULTS_REPORTED_MAX)
		return;
	fprintf(r->report, "%s: system version %" PRIu64 ": ", r->environment,
	    system_version);
	va_start(ap, fmt);
	vfprintf(r->report, fmt, ap);
	va_end(ap);
	fputc('\n', r->report);
}

/* Where name is, or would be inserted, in list; *found says which. */
static size_t
find_service(const struct service_list *list, const char *name, size_t len,
    bool *found)
{
	size_t low = 0, high = list->count;

	*found = false;
	while (low < high) {
		size_t mid = low + (high - low) / 2;
		int c = service_name_compare(service_list_name(list, mid),
		    list->items[mid].name_len, name, len);

		if (c == 0) {
			*found = true;
			return mid;
		}
		if (c < 0)
			low = mid + 1;
		else
			high = mid;
	}
	return low;
}

/*
 * Makes the replay's list again with the entry at index at removed
 * (remove) or change's service inserted there (otherwise). False when out
 * of memory.
 */
static bool
splice_service(struct replay *r, size_t at, bool remove,
    const struct change_record *change)
{
	struct service_list swap;

	service_list_clear(&r->spare);
	for (size_t i = 0; i <= r->services.count; i++) {
		bool ok = true;

		if (i == at && !remove)
			ok = service_list_append(&r->spare, change->name,
			    change->name_len, change->version);
		if (ok && i < r->services.count && !(i == at && remove))
			ok = service_list_append(&r->spare,
			    service_list_name(&r->services, i),
			    r->services.items[i].name_len,
			    r->services.items[i].version);
		if (!ok)
			return false;
	}
	swap = r->services;
	r->services = r->spare;
	r->spare = swap;
	return true;
}

/*
 * Applies change (a new version, or a removal) to the replay, reporting
 * a change whose previous version is not the replay's. False when out of
 * memory.
 */
static bool
apply_change(struct replay *r, const struct change_record *change)
{
	bool found;
	size_t at = find_service(&r->services, change->name, change->name_len,
	    &found);

	if (found) {
		uint64_t before = r->services.items[at].version;

		if (!change->has_previous || change->previous != before)
			fault(r, change->system_version, "the change of %.*s "
			    "says it was %s%" PRIu64 ", but it was %" PRIu64,
			    (int)change->name_len, change->name,
			    change->has_previous ? "" : "new, not ",
			    change->previous, before);
		if (change->removed)
			return splice_service(r, at, true, change);
		if (change->version == before)
			fault(r, change->system_version, "the change of %.*s "
			    "changes nothing", (int)change->name_len,
			    change->name);
		r->services.items[at].version = change->version;
		return true;
	}
	if (change->removed) {
		fault(r, change->system_version, "the change of %.*s removes "
		    "it, but it was absent", (int)change->name_len,
		    change->name);
		return true;
	}
	if (change->has_previous)
		fault(r, change->system_version, "the change of %.*s says it "
		    "was %" PRIu64 ", but it was absent", (int)change->name_len,
		    change->name, change->previous);
	return splice_service(r, at, false, change);
}

/* Reports where the store's services of a version differ from the replay. */
static void
compare_services(struct replay *r, uint64_t system_version,
    const struct service_list *stored)
{
	const struct service_list *want = &r->services;

	if (stored->count != want->count) {
		fault(r, system_version, "%zu services, where the changes "
		    "make %zu", stored->count, want->count);
		return;
	}
	for (size_t i = 0; i < want->count; i++) {
		if (service_name_compare(service_list_name(stored, i),
		    stored->items[i].name_len, service_list_name(want, i),
		    want->items[i].name_len) != 0 ||
		    stored->items[i].version != want->items[i].version) {
			fault(r, system_version, "service %zu is %.*s %" PRIu64
			    ", where the changes make %.*s %" PRIu64, i,
			    (int)stored->items[i].name_len,
			    service_list_name(stored, i),
			    stored->items[i].version,
			    (int)want->items[i].name_len,
			    service_list_name(want, i), want->items[i].version);
			return;
		}
	}
}

/*
 * Compares the replay with the store's services of system_version, read
 * as at (0: the current map). A version the store cannot answer is a
 * fault; a failure to read, the audit's end.
 */
static enum status
compare_stored(struct replay *r, uint64_t system_version, uint64_t at)
{
	enum status status = store_services(r->store, r->environment, at,
	    &r->stored);

	if (status == STATUS_NOT_FOUND) {
		fault(r, system_version, "its services cannot be read");
		return STATUS_OK;
	}
	if (status == STATUS_OK)
		compare_services(r, system_version, &r->stored);
	return status;
}

/*
 * Checks one change against the versions before it and applies it to the
 * replay; at the version of a keyframe below the current one, compares
 * the replay with the keyframe (change_fn).
 */
static enum status
replay_change(const struct change_record *change, void *arg)
{
	struct replay *r = arg;
	uint64_t v = ++r->version;
	enum status status = STATUS_OK;

	if (change->system_version != v)
		fault(r, v, "its change says %" PRIu64, change->system_version);
	if (change->created_ms < r->created_ms)
		fault(r, v, "created before the version before it");
	r->created_ms = change->created_ms;
	if (!apply_change(r, change)) {
		log_error("audit: out of memory");
		return STATUS_SYSTEM;
	}
	for (; status == STATUS_OK && r->next_keyframe < r->keyframe_count &&
	    r->keyframes[r->next_keyframe] <= v; r->next_keyframe++) {
		if (r->keyframes[r->next_keyframe] < v)
			fault(r, r->keyframes[r->next_keyframe],
			    "a keyframe where no change is");
		else if (v < r->last)
			status = compare_stored(r, v, v);
		/* the current version is read from the current map, at the end */
	}
	return status;
}

/* Audits one environment; STATUS_OK when it could be read through. */
static enum status
audit_environment(struct replay *r, const struct environment_summary *summary)
{
	uint64_t last = summary->state.system_version;
	enum status status;

	r->last = last;
	if ((status = store_keyframe_versions(r->store, r->environment,
	    &r->keyframes, &r->keyframe_count)) != STATUS_OK ||
	    (status = store_walk_changes(r->store, r->environment, last,
	    replay_change, r)) != STATUS_OK)
		return status;
	if (r->version != last)
		fault(r, last, "the environment's changes end at %" PRIu64,
		    r->version);
	for (; r->next_keyframe < r->keyframe_count; r->next_keyframe++)
		fault(r, r->keyframes[r->next_keyframe],
		    "a keyframe beyond the current version");
	if (last > 0 && summary->state.updated_ms != r->created_ms)
		fault(r, last, "the environment's time is not its last change's");
	return last > 0 ? compare_stored(r, last, 0) : STATUS_OK;
}

enum status
audit_store(struct store *store, FILE *report, struct audit_totals *totals)
{
	struct environment_summary *list = NULL;
	size_t count = 0;
	enum status status;

	memset(totals, 0, sizeof(*totals));
	if ((status = store_environments(store, &list, &count)) != STATUS_OK)
		return status;
	for (size_t i = 0; status == STATUS_OK && i < count; i++) {
		struct replay r;

		memset(&r, 0, sizeof(r));
		r.store = store;
		r.environment = list[i].name;
		r.report = report;
		service_list_init(&r.services);
		service_list_init(&r.spare);
		service_list_init(&r.stored);
		status = audit_environment(&r, &list[i]);
		if (r.faults > FAULTS_REPORTED_MAX)
			fprintf(report, "%s: %" PRIu64 " more faults\n",
			    r.environment, r.faults - FAULTS_REPORTED_MAX);
		totals->environments++;
		totals->system_versions += list[i].state.system_version;
		totals->faults += r.faults;
		service_list_free(&r.services);
		service_list_free(&r.spare);
		service_list_free(&r.stored);
		free(r.keyframes);
	}
	free(list);
	return status;
}
