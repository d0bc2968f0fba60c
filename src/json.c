/*
 * JSON out with json-c, the only module that uses it: the renderers of
 * the responses and of the export.
 */
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "json.h"
#include "json_string.h"
#include "validate.h"

#define INSTANT_MAX	96	/* room for any struct tm, though 25 bytes are used */

/* Serialises root (consuming the caller's reference) into a malloc'd copy. */
static char *
finish(struct json_object *root, size_t *len)
{
	const char *text;
	size_t text_len;
	char *copy = NULL;

	if (root == NULL)
		return NULL;
	text = json_object_to_json_string_length(root,
	    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &text_len);
	if (text != NULL && (copy = malloc(text_len + 1)) != NULL) {
		memcpy(copy, text, text_len + 1);
		*len = text_len;
	}
	json_object_put(root);
	return copy;
}

/*
 * Adds key: value to object, taking the reference to value; false (value
 * released) when either is missing or memory is short.
 */
static bool
add(struct json_object *object, const char *key, struct json_object *value)
{
	if (object == NULL || value == NULL) {
		json_object_put(value);
		return false;
	}
	if (json_object_object_add(object, key, value) != 0) {
		json_object_put(value);
		return false;
	}
	return true;
}

char *
json_render_uint(uint64_t value, size_t *len)
{
	return finish(json_object_new_uint64(value), len);
}

/*
 * The list is the hot path of every read, so it is written straight into
 * one buffer of the exact size, with no tree: for every name the
 * validators let in (UTF-8 without control characters, which passes
 * through unescaped) the output is the same as json-c's. (Only DEL,
 * which no name holds, would differ: escaped here, raw from json-c.)
 */
char *
json_render_services(const struct service_list *list, size_t *len)
{
	static const char open[] = "{\"name\":\"", middle[] = "\",\"version\":";
	char number[UINT_DIGITS_MAX], *body, *p;
	size_t total = 2;	/* [ and ] */

	for (size_t i = 0; i < list->count; i++)
		total += (i > 0) + sizeof(open) - 1 +
		    json_escaped_len(service_list_name(list, i),
		    list->items[i].name_len) + sizeof(middle) - 1 +
		    format_uint(list->items[i].version, number) + 1;
	if ((body = malloc(total + 1)) == NULL)
		return NULL;
	p = body;
	*p++ = '[';
	for (size_t i = 0; i < list->count; i++) {
		size_t n = format_uint(list->items[i].version, number);

		if (i > 0)
			*p++ = ',';
		memcpy(p, open, sizeof(open) - 1);
		p = json_put_escaped(p + sizeof(open) - 1,
		    service_list_name(list, i), list->items[i].name_len);
		memcpy(p, middle, sizeof(middle) - 1);
		p += sizeof(middle) - 1;
		memcpy(p, number, n);
		p += n;
		*p++ = '}';
	}
	*p++ = ']';
	*p = '\0';
	*len = (size_t)(p - body);
	return body;
}

/* Writes ms since the epoch as RFC 3339 UTC with milliseconds ("...T10:15:03.042Z"). */
static void
format_instant(uint64_t ms, char buf[INSTANT_MAX])
{
	time_t seconds = (time_t)(ms / 1000);
	struct tm tm;

	gmtime_r(&seconds, &tm);
	snprintf(buf, INSTANT_MAX, "%04d-%02d-%02dT%02d:%02d:%02d.%03uZ",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
	    tm.tm_min, tm.tm_sec, (unsigned)(ms % 1000));
}

/* Adds key: value, or key: null when !present; false when memory ran out. */
static bool
add_uint_or_null(struct json_object *object, const char *key, bool present,
    uint64_t value)
{
	if (present)
		return add(object, key, json_object_new_uint64(value));
	return object != NULL && json_object_object_add(object, key, NULL) == 0;
}

/*
 * Adds key: the instant ms, or key: null when !present; false when memory
 * ran out.
 */
static bool
add_instant_or_null(struct json_object *object, const char *key, bool present,
    uint64_t ms)
{
	char instant[INSTANT_MAX];

	if (!present)
		return object != NULL &&
		    json_object_object_add(object, key, NULL) == 0;
	format_instant(ms, instant);
	return add(object, key, json_object_new_string(instant));
}

char *
json_render_status(const char *environment,
    const struct environment_state *state, const char *digest, size_t *len)
{
	struct json_object *object = json_object_new_object();

	if (!add(object, "environment", json_object_new_string(environment)) ||
	    !add(object, "systemVersion",
	    json_object_new_uint64(state->system_version)) ||
	    !add_instant_or_null(object, "updatedAt",
	    state->system_version != 0, state->updated_ms) ||
	    !add(object, "digest", json_object_new_string(digest))) {
		json_object_put(object);
		return NULL;
	}
	return finish(object, len);
}

/* Adds key: text when the metadata text is present; false when memory ran out. */
static bool
add_metadata(struct json_object *object, const char *key,
    const struct metadata_text *text)
{
	return !text->present || add(object, key,
	    json_object_new_string_len(text->text, (int)text->len));
}

/* Adds the metadata sent with a report; false when memory ran out. */
static bool
add_report_metadata(struct json_object *object,
    const struct metadata_text *deployed_by, const struct metadata_text *reason,
    const struct metadata_text *release_hash)
{
	return add_metadata(object, "deployedBy", deployed_by) &&
	    add_metadata(object, "reason", reason) &&
	    add_metadata(object, "releaseHash", release_hash);
}

/*
 * Adds the members of a change to object: name, previousVersion (null for a
 * new service), version (null for a removal) and the metadata sent; false
 * when memory ran out.
 */
static bool
add_change_members(struct json_object *object,
    const struct change_record *record)
{
	return add(object, "name", json_object_new_string_len(record->name,
	    (int)record->name_len)) &&
	    add_uint_or_null(object, "previousVersion", record->has_previous,
	    record->previous) &&
	    add_uint_or_null(object, "version", !record->removed,
	    record->version) &&
	    add_report_metadata(object, &record->deployed_by, &record->reason,
	    &record->release_hash);
}

/*
 * Adds where the change stands to object: systemVersion and createdAt;
 * false when memory ran out.
 */
static bool
add_version_members(struct json_object *object,
    const struct change_record *record)
{
	return add(object, "systemVersion",
	    json_object_new_uint64(record->system_version)) &&
	    add_instant_or_null(object, "createdAt", true, record->created_ms);
}

/*
 * A new object for one system version: systemVersion, createdAt and
 * change (name, previousVersion, version and the metadata sent); NULL
 * when memory ran out.
 */
static struct json_object *
version_object(const struct change_record *record)
{
	struct json_object *object = json_object_new_object();
	struct json_object *change = json_object_new_object();

	if (change == NULL || !add_change_members(change, record) ||
	    !add_version_members(object, record)) {
		json_object_put(change);
		json_object_put(object);
		return NULL;
	}
	if (!add(object, "change", change)) {
		json_object_put(object);
		return NULL;
	}
	return object;
}

/* Makes item i of an array from ctx; NULL when memory ran out. */
typedef struct json_object *item_fn(const void *ctx, size_t i);

/* A new array of count items made by make_item; NULL when memory ran out. */
static struct json_object *
build_array(size_t count, item_fn *make_item, const void *ctx)
{
	struct json_object *array = json_object_new_array_ext((int)count);

	for (size_t i = 0; array != NULL && i < count; i++) {
		struct json_object *item = make_item(ctx, i);

		if (item == NULL || json_object_array_add(array, item) != 0) {
			json_object_put(item);
			json_object_put(array);
			return NULL;
		}
	}
	return array;
}

/* Item i of a history: records[i] (item_fn). */
static struct json_object *
history_item(const void *ctx, size_t i)
{
	return version_object((const struct change_record *)ctx + i);
}

char *
json_render_history(const struct change_record *records, size_t count,
    size_t *len)
{
	return finish(build_array(count, history_item, records), len);
}

/* Item i of a service list: {"name", "version"} (item_fn). */
static struct json_object *
service_item(const void *ctx, size_t i)
{
	const struct service_list *list = ctx;
	struct json_object *item = json_object_new_object();

	if (!add(item, "name", json_object_new_string_len(
	    service_list_name(list, i), (int)list->items[i].name_len)) ||
	    !add(item, "version", json_object_new_uint64(list->items[i].version))) {
		json_object_put(item);
		return NULL;
	}
	return item;
}

char *
json_render_version(const struct change_record *record,
    const struct service_list *services, const char *digest, size_t *len)
{
	struct json_object *object = version_object(record);

	if (!add(object, "digest", json_object_new_string(digest)) ||
	    !add(object, "services", build_array(services->count, service_item,
	    services))) {
		json_object_put(object);
		return NULL;
	}
	return finish(object, len);
}

/* Adds key: the version of entry index of list, or null when absent. */
static bool
add_optional_version(struct json_object *object, const char *key,
    const struct service_list *list, bool present, size_t index)
{
	return add_uint_or_null(object, key, present,
	    present ? list->items[index].version : 0);
}

/* What the items of a diff are made from. */
struct diff_context {
	const struct service_list	*from;
	const struct service_list	*to;
	const struct service_difference	*diff;
};

/* Item i of a diff: {"name", "from", "to"} (item_fn). */
static struct json_object *
diff_item(const void *ctx, size_t i)
{
	const struct diff_context *c = ctx;
	const struct service_difference *d = &c->diff[i];
	const struct service_list *named = d->has_from ? c->from : c->to;
	size_t index = d->has_from ? d->index_from : d->index_to;
	struct json_object *item = json_object_new_object();

	if (!add(item, "name", json_object_new_string_len(
	    service_list_name(named, index),
	    (int)named->items[index].name_len)) ||
	    !add_optional_version(item, "from", c->from, d->has_from,
	    d->index_from) ||
	    !add_optional_version(item, "to", c->to, d->has_to, d->index_to)) {
		json_object_put(item);
		return NULL;
	}
	return item;
}

char *
json_render_diff(const struct service_list *from, const struct service_list *to,
    const struct service_difference *diff, size_t count, size_t *len)
{
	struct diff_context ctx = { from, to, diff };

	return finish(build_array(count, diff_item, &ctx), len);
}

/* Item i of the environments: {"name", "systemVersion", "updatedAt"} (item_fn). */
static struct json_object *
environment_item(const void *ctx, size_t i)
{
	const struct environment_summary *e =
	    (const struct environment_summary *)ctx + i;
	struct json_object *item = json_object_new_object();

	if (!add(item, "name", json_object_new_string(e->name)) ||
	    !add(item, "systemVersion",
	    json_object_new_uint64(e->state.system_version)) ||
	    !add_instant_or_null(item, "updatedAt", true, e->state.updated_ms)) {
		json_object_put(item);
		return NULL;
	}
	return item;
}

char *
json_render_environments(const struct environment_summary *list,
    size_t count, size_t *len)
{
	return finish(build_array(count, environment_item, list), len);
}

/*
 * Item i of the audit log: id, receivedAt, outcome, name, version (null
 * for a removal), systemVersion, then the key and metadata sent (item_fn).
 */
static struct json_object *
event_item(const void *ctx, size_t i)
{
	const struct audit_entry *e = (const struct audit_entry *)ctx + i;
	const struct report_key *key = &e->key;
	struct json_object *item = json_object_new_object();

	if (!add(item, "id", json_object_new_uint64(e->id)) ||
	    !add_instant_or_null(item, "receivedAt", true, e->received_ms) ||
	    !add(item, "outcome",
	    json_object_new_string(deploy_outcome_name(e->outcome))) ||
	    !add(item, "name", json_object_new_string_len(e->name,
	    (int)e->name_len)) ||
	    !add_uint_or_null(item, "version", !e->removal, e->version) ||
	    !add(item, "systemVersion",
	    json_object_new_uint64(e->system_version)) ||
	    (key->has_event_id && !add(item, "eventId",
	    json_object_new_string_len(key->event_id,
	    (int)key->event_id_len))) ||
	    (key->has_sequence && !add(item, "sequence",
	    json_object_new_uint64(key->sequence))) ||
	    (key->has_deployed_at && !add_instant_or_null(item, "deployedAt",
	    true, key->deployed_at_ms)) ||
	    !add_report_metadata(item, &e->deployed_by, &e->reason,
	    &e->release_hash)) {
		json_object_put(item);
		return NULL;
	}
	return item;
}

char *
json_render_events(const struct audit_entry *entries, size_t count,
    size_t *len)
{
	return finish(build_array(count, event_item, entries), len);
}

/*
 * Item i of a service's history: version, fromSystemVersion,
 * toSystemVersion, from and to, the last two null while current
 * (item_fn).
 */
static struct json_object *
period_item(const void *ctx, size_t i)
{
	const struct service_period *p = (const struct service_period *)ctx + i;
	struct json_object *item = json_object_new_object();

	if (!add(item, "version", json_object_new_uint64(p->version)) ||
	    !add(item, "fromSystemVersion",
	    json_object_new_uint64(p->from_system_version)) ||
	    !add_uint_or_null(item, "toSystemVersion", p->has_to,
	    p->to_system_version) ||
	    !add_instant_or_null(item, "from", true, p->from_ms) ||
	    !add_instant_or_null(item, "to", p->has_to, p->to_ms)) {
		json_object_put(item);
		return NULL;
	}
	return item;
}

char *
json_render_periods(const struct service_period *periods, size_t count,
    size_t *len)
{
	return finish(build_array(count, period_item, periods), len);
}

char *
json_render_problem(int status, const char *type, const char *title,
    const char *detail, const char *ext_key, const char *ext_value,
    size_t *len)
{
	struct json_object *object = json_object_new_object();

	if (!add(object, "type", json_object_new_string(type)) ||
	    !add(object, "title", json_object_new_string(title)) ||
	    !add(object, "status", json_object_new_int(status)) ||
	    !add(object, "detail", json_object_new_string(detail)) ||
	    (ext_key != NULL && ext_value != NULL &&
	    !add(object, ext_key, json_object_new_string(ext_value)))) {
		json_object_put(object);
		return NULL;
	}
	return finish(object, len);
}

char *
json_render_export_header(const struct export_header *header, size_t *len)
{
	struct json_object *object = json_object_new_object();

	if (!add(object, "format", json_object_new_string(EXPORT_FORMAT)) ||
	    !add(object, "formatVersion",
	    json_object_new_int(EXPORT_FORMAT_VERSION)) ||
	    !add(object, "environments",
	    json_object_new_uint64(header->environments)) ||
	    !add(object, "systemVersions",
	    json_object_new_uint64(header->system_versions))) {
		json_object_put(object);
		return NULL;
	}
	return finish(object, len);
}

char *
json_render_export_change(const char *environment,
    const struct change_record *record, size_t *len)
{
	struct json_object *object = json_object_new_object();

	if (!add(object, "environment", json_object_new_string(environment)) ||
	    !add_version_members(object, record) ||
	    !add_change_members(object, record)) {
		json_object_put(object);
		return NULL;
	}
	return finish(object, len);
}

/* Item i of a cluster view's peers: {"site","connected"} (item_fn). */
static struct json_object *
peer_item(const void *ctx, size_t i)
{
	const struct cluster_peer *peer = (const struct cluster_peer *)ctx + i;
	struct json_object *object = json_object_new_object();

	if (!add(object, "site", json_object_new_string(peer->site)) ||
	    !add(object, "connected", json_object_new_boolean(peer->connected))) {
		json_object_put(object);
		return NULL;
	}
	return object;
}

/* A text, or null when absent; false when memory ran out. */
static bool
add_text_or_null(struct json_object *object, const char *key, bool present,
    const char *text)
{
	if (!present)
		return object != NULL &&
		    json_object_object_add(object, key, NULL) == 0;
	return add(object, key, json_object_new_string(text));
}

char *
json_render_cluster(const struct cluster_view *view, size_t *len)
{
	static const char *const roles[] = {
		[SITE_ROLE_MASTER] = "master",
		[SITE_ROLE_REPLICA] = "replica",
		[SITE_ROLE_UNKNOWN] = "unknown",
	};
	struct json_object *object = json_object_new_object();

	if (!add_text_or_null(object, "site", view->replicated, view->site) ||
	    !add(object, "role", json_object_new_string(roles[view->role])) ||
	    !add_text_or_null(object, "master", view->has_master,
	    view->master) ||
	    !add(object, "peers", build_array(view->peer_count, peer_item,
	    view->peers))) {
		json_object_put(object);
		return NULL;
	}
	return finish(object, len);
}
