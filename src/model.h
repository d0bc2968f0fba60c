/*
 * The domain values that travel between the JSON layer, the handlers and
 * the store: validated, typed and bounded. Nothing here points into a
 * network buffer.
 */
#ifndef RELEASEMGR_MODEL_H
#define RELEASEMGR_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define SERVICE_NAME_MAX	256	/* bytes of UTF-8 in a service name */
#define ENVIRONMENT_MAX		64	/* characters of [A-Za-z0-9._-] */
#define METADATA_MAX		256	/* bytes of UTF-8 in each metadata string */
#define SERVICE_VERSION_MAX	UINT64_C(9007199254740991)	/* 2^53 - 1 */
#define SYSTEM_VERSION_MAX	UINT64_C(9007199254740991)
#define DEFAULT_ENVIRONMENT	"default"
#define EVENT_ID_MAX		128	/* bytes of UTF-8 in a report's eventId */
#define SEQUENCE_MAX		UINT64_C(9007199254740991)

/* An optional, bounded metadata string sent with a deploy. */
struct metadata_text {
	bool	present;
	size_t	len;
	char	text[METADATA_MAX + 1];
};

/*
 * What a reporter says of a report, to recognise it again and to order it
 * among the reports of its service (all optional).
 */
struct report_key {
	bool		has_event_id;
	size_t		event_id_len;
	char		event_id[EVENT_ID_MAX + 1];
	bool		has_sequence;
	uint64_t	sequence;	/* 0 .. SEQUENCE_MAX */
	bool		has_deployed_at;
	uint64_t	deployed_at_ms;	/* ms since the epoch */
};

/* One report of the deployment watcher, after validation. */
struct deploy {
	char			environment[ENVIRONMENT_MAX + 1];
	char			name[SERVICE_NAME_MAX + 1];
	size_t			name_len;
	bool			removal;	/* the service is gone; version is 0 */
	uint64_t		version;
	struct metadata_text	deployed_by;
	struct metadata_text	reason;
	struct metadata_text	release_hash;
	struct report_key	key;
};

/* What became of a report (the Deploy-Outcome header says it). */
enum deploy_outcome {
	OUTCOME_APPLIED,	/* a new version of the service: a new system version */
	OUTCOME_UNCHANGED,	/* the version it already had: nothing new */
	OUTCOME_DUPLICATE,	/* its eventId was seen: answered as the first time */
	OUTCOME_STALE,		/* older than what was recorded: nothing new */
	OUTCOME_REMOVED		/* the service removed: a new system version */
};
#define OUTCOME_COUNT	5

/* What a deploy did: the system version it is answered with, and how. */
struct deploy_result {
	uint64_t		system_version;
	bool			changed;	/* it made system_version */
	enum deploy_outcome	outcome;
};

/* Where an environment stands: its current system version and since when. */
struct environment_state {
	uint64_t	system_version;	/* 0 before the first change */
	uint64_t	updated_ms;	/* commit time of system_version, ms since the epoch */
};

/* One system version's change, as the history shows it. */
struct change_record {
	uint64_t		system_version;
	uint64_t		created_ms;	/* commit time, ms since the epoch */
	char			name[SERVICE_NAME_MAX + 1];
	size_t			name_len;
	bool			removed;	/* the service was removed; version is 0 */
	uint64_t		version;
	bool			has_previous;	/* false for a new service */
	uint64_t		previous;
	struct metadata_text	deployed_by;
	struct metadata_text	reason;
	struct metadata_text	release_hash;
};

/*
 * Where a change stands in its environment's history: what an export
 * keeps of a system version beside the deploy that made it.
 */
struct change_position {
	uint64_t	system_version;
	uint64_t	created_ms;	/* commit time, ms since the epoch */
	bool		has_previous;	/* false for a new service */
	uint64_t	previous;
};

#define EXPORT_FORMAT		"releasemgr-export"
#define EXPORT_FORMAT_VERSION	1

/* The first line of an export (json.h has the format). */
struct export_header {
	uint64_t	environments;
	uint64_t	system_versions;	/* the lines that follow */
	uint64_t	format_version;		/* the only one read: 1 */
};

/* One report, as the audit log keeps it (GET /events). */
struct audit_entry {
	uint64_t		id;		/* 1, 2, ... within its environment */
	uint64_t		received_ms;	/* ms since the epoch */
	enum deploy_outcome	outcome;
	uint64_t		system_version;	/* what the report was answered */
	char			name[SERVICE_NAME_MAX + 1];
	size_t			name_len;
	bool			removal;	/* version is then 0 */
	uint64_t		version;
	struct report_key	key;
	struct metadata_text	deployed_by;
	struct metadata_text	reason;
	struct metadata_text	release_hash;
};

/*
 * One period during which a service ran in an environment, from the
 * system version that set its version to the one that changed or
 * removed it (none while it is current).
 */
struct service_period {
	uint64_t	version;
	uint64_t	from_system_version;
	uint64_t	from_ms;	/* createdAt of from_system_version */
	bool		has_to;		/* false while current */
	uint64_t	to_system_version;
	uint64_t	to_ms;
};

/* The name of an outcome, as the Deploy-Outcome header and /events give it. */
const char *deploy_outcome_name(enum deploy_outcome outcome);

/* One environment, as GET /environments lists it. */
struct environment_summary {
	char			name[ENVIRONMENT_MAX + 1];
	struct environment_state state;
	/* the reports it answered 200, by outcome, since it was created */
	uint64_t		reports[OUTCOME_COUNT];
};

/* One service of a snapshot: its name lives in the owning list's arena. */
struct service_entry {
	size_t		name_offset;
	size_t		name_len;
	uint64_t	version;
};

/*
 * The services of one system version, in bytewise name order. The list owns
 * its arrays; service_list_free() releases them, and service_list_clear()
 * empties the list for reuse.
 */
struct service_list {
	struct service_entry	*items;
	size_t			 count;
	size_t			 capacity;
	char			*names;
	size_t			 names_len;
	size_t			 names_capacity;
};

/*
 * Orders names as the store's B-trees order their keys, and as every list
 * is sorted: bytewise, a prefix before the longer names it starts.
 */
static inline int
service_name_compare(const char *a, size_t a_len, const char *b, size_t b_len)
{
	int c = memcmp(a, b, a_len < b_len ? a_len : b_len);

	if (c != 0)
		return c;
	return a_len < b_len ? -1 : a_len > b_len;
}

/* One service whose version differs between two snapshots. */
struct service_difference {
	size_t		index_from;	/* in the from list, when has_from */
	size_t		index_to;	/* in the to list, when has_to */
	bool		has_from;	/* false: absent from the from list */
	bool		has_to;		/* false: absent from the to list */
};

/*
 * Appends to *out (malloc'd, the caller frees it) the services whose
 * version differs between two sorted lists, in name order; *count says how
 * many. False when out of memory.
 */
bool	service_list_diff(const struct service_list *from,
	    const struct service_list *to, struct service_difference **out,
	    size_t *count);

/*
 * Makes room in the array that the pointer at array points to (count
 * items of size bytes, *capacity allocated) for one more: twice the room,
 * or first initial items. False, the array unchanged, when memory ran
 * out.
 */
bool	grow_array(void *array, size_t count, size_t *capacity, size_t size,
	    size_t initial);

void	service_list_init(struct service_list *list);
void	service_list_clear(struct service_list *list);
void	service_list_free(struct service_list *list);
/* Appends a copy of name; returns false (list unchanged) when out of memory. */
bool	service_list_append(struct service_list *list, const char *name,
	    size_t name_len, uint64_t version);
/* The name of entry i (not NUL-terminated; see name_len). */
const char *service_list_name(const struct service_list *list, size_t i);

#endif
