/*
 * The semantic audit: replays each environment's changes from the first,
 * in one ascending pass, and compares the replay with what the store
 * derived from them: each keyframe, at its version, the current map, and
 * each service's periods. For the periods it keeps a small record of
 * each change, linked to its service's change before it, so that once
 * the pass is over each service's changes are read back newest first,
 * as the store answers its periods.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "log.h"
#include "model.h"

#define FAULTS_REPORTED_MAX	10	/* per environment; the rest are counted */
#define NAME_SLOTS_FIRST	64	/* a power of two */
#define CHANGES_FIRST		1024	/* kept changes allocated first */
#define NAMES_FIRST		64	/* names' last changes allocated first */
#define PERIOD_TEXT_MAX		160	/* a period as a fault describes it */

/*
 * Every name the changes of an environment named, each once: its index
 * in list is its id. slots (a power of two of them, at least twice the
 * names) hash each name to its id + 1; 0 is an empty slot.
 */
struct name_table {
	struct service_list	 list;
	uint32_t		*slots;
	size_t			 slot_count;
};

#define KEPT_REMOVAL	UINT64_MAX	/* the version of a kept removal */

/* What a service's periods need of one change. */
struct kept_change {
	uint64_t	system_version;
	uint64_t	created_ms;
	uint64_t	version;	/* KEPT_REMOVAL: none, a removal */
	uint64_t	before;		/* its service's change before: index + 1, or 0 */
};

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
	struct name_table	 names;
	struct kept_change	*changes;	/* every change seen, in order */
	size_t			 change_count;
	size_t			 change_capacity;
	uint64_t		*latest;	/* by name id: its last change's index + 1 */
	size_t			 latest_capacity;
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

/* FNV-1a of a name: the slot a name table tries first. */
static uint64_t
name_hash(const char *name, size_t len)
{
	uint64_t h = UINT64_C(14695981039346656037);

	for (size_t i = 0; i < len; i++) {
		h ^= (unsigned char)name[i];
		h *= UINT64_C(1099511628211);
	}
	return h;
}

/* The slot of t that holds name, or the empty one where it would go. */
static size_t
name_slot(const struct name_table *t, const char *name, size_t len)
{
	size_t mask = t->slot_count - 1;
	size_t at = (size_t)name_hash(name, len) & mask;

	for (; t->slots[at] != 0; at = (at + 1) & mask) {
		uint32_t id = t->slots[at] - 1;

		if (service_name_compare(service_list_name(&t->list, id),
		    t->list.items[id].name_len, name, len) == 0)
			break;
	}
	return at;
}

/*
 * Doubles the slots of t (or makes its first) and hashes its names into
 * them again. False, t unchanged, when out of memory.
 */
static bool
name_table_grow(struct name_table *t)
{
	size_t count = t->slot_count != 0 ? 2 * t->slot_count :
	    NAME_SLOTS_FIRST;
	uint32_t *slots = calloc(count, sizeof(*slots));

	if (slots == NULL)
		return false;
	free(t->slots);
	t->slots = slots;
	t->slot_count = count;
	for (size_t id = 0; id < t->list.count; id++)
		slots[name_slot(t, service_list_name(&t->list, id),
		    t->list.items[id].name_len)] = (uint32_t)id + 1;
	return true;
}

/* Sets *id to name's id in t, adding it when new; false when out of memory. */
static bool
intern_name(struct name_table *t, const char *name, size_t len, uint32_t *id)
{
	size_t at;

	if (2 * (t->list.count + 1) > t->slot_count && !name_table_grow(t))
		return false;
	at = name_slot(t, name, len);
	if (t->slots[at] == 0) {
		if (t->list.count >= UINT32_MAX - 1 ||
		    !service_list_append(&t->list, name, len, 0))
			return false;
		t->slots[at] = (uint32_t)t->list.count;
	}
	*id = t->slots[at] - 1;
	return true;
}

/* Releases what t holds and empties it; t may be empty already. */
static void
name_table_free(struct name_table *t)
{
	service_list_free(&t->list);
	free(t->slots);
	t->slots = NULL;
	t->slot_count = 0;
}

/* Keeps what its service's periods need of change; false when out of memory. */
static bool
keep_change(struct replay *r, const struct change_record *change)
{
	struct kept_change *kept;
	size_t names = r->names.list.count;
	uint32_t id;

	if (!intern_name(&r->names, change->name, change->name_len, &id) ||
	    !grow_array(&r->changes, r->change_count, &r->change_capacity,
	    sizeof(*r->changes), CHANGES_FIRST) ||
	    !grow_array(&r->latest, names, &r->latest_capacity,
	    sizeof(*r->latest), NAMES_FIRST))
		return false;
	if (id == names)
		r->latest[id] = 0;	/* a new name */
	kept = &r->changes[r->change_count++];
	kept->system_version = change->system_version;
	kept->created_ms = change->created_ms;
	kept->version = change->removed ? KEPT_REMOVAL : change->version;
	kept->before = r->latest[id];
	r->latest[id] = r->change_count;
	return true;
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

/* True when a and b are the same period (the end of neither, or both's). */
static bool
same_period(const struct service_period *a, const struct service_period *b)
{
	return a->version == b->version &&
	    a->from_system_version == b->from_system_version &&
	    a->from_ms == b->from_ms && a->has_to == b->has_to &&
	    (!a->has_to || (a->to_system_version == b->to_system_version &&
	    a->to_ms == b->to_ms));
}

/* Writes period into text as a fault describes it. */
static void
describe_period(char text[PERIOD_TEXT_MAX], const struct service_period *period)
{
	int n = snprintf(text, PERIOD_TEXT_MAX, "version %" PRIu64 " from %"
	    PRIu64 " (%" PRIu64 " ms)", period->version,
	    period->from_system_version, period->from_ms);

	if (n <= 0 || n >= PERIOD_TEXT_MAX)
		return;
	if (period->has_to)
		snprintf(text + n, PERIOD_TEXT_MAX - (size_t)n, " to %" PRIu64
		    " (%" PRIu64 " ms)", period->to_system_version,
		    period->to_ms);
	else
		snprintf(text + n, PERIOD_TEXT_MAX - (size_t)n, " to now");
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
 * Compares the periods the store answers for the service with name id
 * id with those its kept changes make, read newest first: a version runs
 * from its change to the service's next change, a removal ends a period
 * and starts none. A service the store does not know is a fault; a
 * failure to read, the audit's end.
 */
static enum status
compare_service_periods(struct replay *r, uint32_t id)
{
	const struct service_list *names = &r->names.list;
	const char *name = service_list_name(names, id);
	int len = (int)names->items[id].name_len;
	const struct kept_change *newer = NULL;
	struct service_period *stored = NULL, want;
	char got_text[PERIOD_TEXT_MAX], want_text[PERIOD_TEXT_MAX];
	size_t stored_count = 0, periods = 0;
	uint64_t last = r->changes[r->latest[id] - 1].system_version;
	uint64_t differs_at = 0;	/* the first period that differs starts here */
	enum status status;

	status = store_service_history(r->store, r->environment, name,
	    (size_t)len, &stored, &stored_count);
	if (status == STATUS_NOT_FOUND) {
		fault(r, last, "the store knows no periods of %.*s", len, name);
		return STATUS_OK;
	}
	if (status != STATUS_OK)
		return status;
	for (uint64_t at = r->latest[id]; at != 0; at = newer->before) {
		const struct kept_change *change = &r->changes[at - 1];

		if (change->version != KEPT_REMOVAL) {
			memset(&want, 0, sizeof(want));
			want.version = change->version;
			want.from_system_version = change->system_version;
			want.from_ms = change->created_ms;
			if (newer != NULL) {
				want.has_to = true;
				want.to_system_version = newer->system_version;
				want.to_ms = newer->created_ms;
			}
			if (differs_at == 0 && periods < stored_count &&
			    !same_period(&stored[periods], &want)) {
				differs_at = want.from_system_version;
				describe_period(got_text, &stored[periods]);
				describe_period(want_text, &want);
			}
			periods++;
		}
		newer = change;
	}
	if (stored_count != periods)
		fault(r, last, "%.*s has %zu periods, where the changes make %zu",
		    len, name, stored_count, periods);
	else if (differs_at != 0)
		fault(r, differs_at, "a period of %.*s is %s, "
		    "where the changes make %s", len, name, got_text,
		    want_text);
	free(stored);
	return STATUS_OK;
}

/* Compares the periods of every service named by a change with the store's. */
static enum status
compare_periods(struct replay *r)
{
	enum status status = STATUS_OK;

	for (size_t id = 0; status == STATUS_OK && id < r->names.list.count;
	    id++)
		status = compare_service_periods(r, (uint32_t)id);
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
	if (!apply_change(r, change) || !keep_change(r, change)) {
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
	if (last > 0 && (status = compare_stored(r, last, 0)) != STATUS_OK)
		return status;
	return compare_periods(r);
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
		service_list_init(&r.names.list);
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
		name_table_free(&r.names);
		free(r.changes);
		free(r.latest);
		free(r.keyframes);
	}
	free(list);
	return status;
}
