/*
 * The records of the store: how each key and value is laid out, in pure
 * functions that encode and decode them. The one file that knows the
 * bytes; it calls no Berkeley DB function.
 *
 * Ten B-tree databases (README, "Data layout", says why each exists):
 *   meta.db          "next-environment-id" -> u32
 *   environments.db  environment name -> id, current system version,
 *                    updated-at, number of services, last keyframe,
 *                    next audit id
 *   current.db       env id . service name -> version, since system version
 *   changes.db       env id . system version -> the change and its metadata
 *   keyframes.db     env id . system version -> that version's whole list
 *   periods.db       env id . name length . service name . system version
 *                    -> the service's version then (or its removal)
 *   keys.db          env id . service name -> highest sequence and
 *                    deployedAt of its reports
 *   events.db        env id . eventId -> the report and its answer
 *   event-times.db   env id . received-at . eventId -> nothing (expiry order)
 *   audit.db         env id . audit id -> a report and its outcome
 * Integers are stored big-endian so that byte order is numeric order, and
 * every value starts with a format byte so records can evolve. A text is
 * a 16-bit length and its bytes.
 */
#include <endian.h>
#include <string.h>

#include "store_private.h"

#define RECORD_FORMAT		1	/* the first byte of every value */
#define TEXT_LENGTH_SIZE	2
#define CHANGE_NAME_OFFSET	(1 + 8 + 8 + 1 + 8)	/* where the name's length starts */
#define KEYFRAME_FORMAT		2	/* a keyframe's names front-coded */
#define KEYFRAME_HEADER_SIZE	(1 + 4)		/* format, number of entries */

/* Bits of a change record's flags byte. */
#define CHANGE_HAS_PREVIOUS	0x01
#define CHANGE_HAS_DEPLOYED_BY	0x02
#define CHANGE_HAS_REASON	0x04
#define CHANGE_HAS_RELEASE_HASH	0x08
#define CHANGE_REMOVED		0x10

/* The format of an environments.db value with its next audit id. */
#define ENVIRONMENT_FORMAT	2
#define ENVIRONMENT_VALUE_SIZE_1	(1 + 4 + 8 + 8 + 4 + 8)	/* format 1 */

/* Bits of a keys.db value's flags byte. */
#define KEY_HAS_SEQUENCE	0x01
#define KEY_HAS_DEPLOYED_AT	0x02

/* Bits of an audit.db value's flags byte. */
#define AUDIT_REMOVAL		0x01
#define AUDIT_HAS_EVENT_ID	0x02
#define AUDIT_HAS_SEQUENCE	0x04
#define AUDIT_HAS_DEPLOYED_AT	0x08
#define AUDIT_HAS_DEPLOYED_BY	0x10
#define AUDIT_HAS_REASON	0x20
#define AUDIT_HAS_RELEASE_HASH	0x40

/*
 * Writes the low size bytes (2, 4 or 8) of v at p, which need not be
 * aligned, big-endian; get_be() reads them back.
 */
static void
put_be(unsigned char *p, uint64_t v, size_t size)
{
	v = htobe64(v);
	memcpy(p, (const unsigned char *)&v + sizeof(v) - size, size);
}

static uint64_t
get_be(const unsigned char *p, size_t size)
{
	uint64_t v = 0;

	memcpy((unsigned char *)&v + sizeof(v) - size, p, size);
	return be64toh(v);
}

/* The integers of the records, by width. */
#define put_u16(p, v)	put_be((p), (v), 2)
#define put_u32(p, v)	put_be((p), (v), 4)
#define put_u64(p, v)	put_be((p), (v), 8)
#define get_u16(p)	((uint16_t)get_be((p), 2))
#define get_u32(p)	((uint32_t)get_be((p), 4))
#define get_u64(p)	get_be((p), 8)

/* Appends a 16-bit length and the bytes of a text; returns what it wrote. */
static size_t
put_text(unsigned char *p, const char *text, size_t len)
{
	put_u16(p, (uint16_t)len);
	memcpy(p + TEXT_LENGTH_SIZE, text, len);
	return TEXT_LENGTH_SIZE + len;
}

/*
 * Points *text at the length-prefixed text at *p and moves *p past it;
 * false when it runs past end or is longer than max.
 */
static bool
take_text(const unsigned char **p, const unsigned char *end, size_t max,
    const char **text, size_t *len)
{
	if (end - *p < TEXT_LENGTH_SIZE)
		return false;
	*len = get_u16(*p);
	if (*len > max || (size_t)(end - *p - TEXT_LENGTH_SIZE) < *len)
		return false;
	*text = (const char *)*p + TEXT_LENGTH_SIZE;
	*p += TEXT_LENGTH_SIZE + *len;
	return true;
}

/* Copies the length-prefixed text at *p into text (room for cap, NUL included). */
static bool
copy_text(const unsigned char **p, const unsigned char *end, char *text,
    size_t cap, size_t *len)
{
	const char *from;

	if (!take_text(p, end, cap - 1, &from, len))
		return false;
	memcpy(text, from, *len);
	text[*len] = '\0';
	return true;
}

/* Reads an optional metadata text: present when flag is set in flags. */
static bool
copy_metadata(const unsigned char **p, const unsigned char *end,
    unsigned flags, unsigned flag, struct metadata_text *out)
{
	out->present = (flags & flag) != 0;
	return copy_text(p, end, out->text, sizeof(out->text), &out->len);
}

/*
 * meta.db's next-environment-id value: the id the next new environment takes.
 */
void
record_next_id_encode(uint32_t next, unsigned char value[NEXT_ID_VALUE_SIZE])
{
	value[0] = RECORD_FORMAT;
	put_u32(value + 1, next);
}

/* Decodes what record_next_id_encode() wrote; false when malformed. */
bool
record_next_id_decode(const void *data, size_t size, uint32_t *next)
{
	const unsigned char *value = data;

	if (size != NEXT_ID_VALUE_SIZE || value[0] != RECORD_FORMAT)
		return false;
	*next = get_u32(value + 1);
	return true;
}

/* An environments.db value: the whole struct environment_record. */
void
record_environment_encode(const struct environment_record *record,
    unsigned char value[ENVIRONMENT_VALUE_SIZE])
{
	value[0] = ENVIRONMENT_FORMAT;
	put_u32(value + 1, record->id);
	put_u64(value + 5, record->current);
	put_u64(value + 13, record->updated_ms);
	put_u32(value + 21, record->services);
	put_u64(value + 25, record->keyframe);
	put_u64(value + 33, record->next_audit_id);
}

/*
 * Decodes what record_environment_encode() wrote, or the format 1 of
 * stores made before the audit log (its next audit id is then 1); false
 * when malformed.
 */
bool
record_environment_decode(const void *data, size_t size,
    struct environment_record *record)
{
	const unsigned char *value = data;

	if (!(size == ENVIRONMENT_VALUE_SIZE &&
	    value[0] == ENVIRONMENT_FORMAT) &&
	    !(size == ENVIRONMENT_VALUE_SIZE_1 && value[0] == RECORD_FORMAT))
		return false;
	record->id = get_u32(value + 1);
	record->current = get_u64(value + 5);
	record->updated_ms = get_u64(value + 13);
	record->services = get_u32(value + 21);
	record->keyframe = get_u64(value + 25);
	record->next_audit_id = value[0] == ENVIRONMENT_FORMAT ?
	    get_u64(value + 33) : 1;
	return record->next_audit_id != 0;
}

/*
 * The current.db key of a service, env id . name; returns its length.
 * With an empty name, the prefix that all the environment's keys share.
 */
size_t
record_service_key(unsigned char key[SERVICE_KEY_MAX], uint32_t env_id,
    const char *name, size_t name_len)
{
	put_u32(key, env_id);
	memcpy(key + ENV_ID_SIZE, name, name_len);
	return ENV_ID_SIZE + name_len;
}

/*
 * Decodes what record_service_key() wrote, *name pointing into data;
 * false when malformed.
 */
bool
record_service_key_decode(const void *data, size_t size, uint32_t *env_id,
    const char **name, size_t *name_len)
{
	if (size < ENV_ID_SIZE)
		return false;
	*env_id = get_u32(data);
	*name = (const char *)data + ENV_ID_SIZE;
	*name_len = size - ENV_ID_SIZE;
	return true;
}

/*
 * A current.db value: the service's version, and the system version that
 * set it.
 */
void
record_current_encode(const struct current_record *record,
    unsigned char value[CURRENT_VALUE_SIZE])
{
	value[0] = RECORD_FORMAT;
	put_u64(value + 1, record->version);
	put_u64(value + 9, record->since);
}

/* Decodes what record_current_encode() wrote; false when malformed. */
bool
record_current_decode(const void *data, size_t size,
    struct current_record *record)
{
	const unsigned char *value = data;

	if (size != CURRENT_VALUE_SIZE || value[0] != RECORD_FORMAT)
		return false;
	record->version = get_u64(value + 1);
	record->since = get_u64(value + 9);
	return true;
}

/* The changes.db and keyframes.db key, env id . system version. */
void
record_versioned_key(unsigned char key[VERSIONED_KEY_SIZE], uint32_t env_id,
    uint64_t system_version)
{
	put_u32(key, env_id);
	put_u64(key + ENV_ID_SIZE, system_version);
}

/* Decodes what record_versioned_key() wrote; false when malformed. */
bool
record_versioned_key_decode(const void *data, size_t size, uint32_t *env_id,
    uint64_t *system_version)
{
	if (size != VERSIONED_KEY_SIZE)
		return false;
	*env_id = get_u32(data);
	*system_version = get_u64((const unsigned char *)data + ENV_ID_SIZE);
	return true;
}

/*
 * The changes.db value of a deploy, standing where position says (its
 * system_version is in the key, not here); returns its length.
 */
size_t
record_change_encode(const struct deploy *deploy,
    const struct change_position *position,
    unsigned char value[CHANGE_VALUE_MAX])
{
	unsigned char flags = 0;
	size_t n = 0;

	flags |= position->has_previous ? CHANGE_HAS_PREVIOUS : 0;
	flags |= deploy->deployed_by.present ? CHANGE_HAS_DEPLOYED_BY : 0;
	flags |= deploy->reason.present ? CHANGE_HAS_REASON : 0;
	flags |= deploy->release_hash.present ? CHANGE_HAS_RELEASE_HASH : 0;
	flags |= deploy->removal ? CHANGE_REMOVED : 0;
	value[n++] = RECORD_FORMAT;
	put_u64(value + n, position->created_ms);
	n += 8;
	put_u64(value + n, deploy->removal ? 0 : deploy->version);
	n += 8;
	value[n++] = flags;
	put_u64(value + n, position->has_previous ? position->previous : 0);
	n += 8;
	n += put_text(value + n, deploy->name, deploy->name_len);
	n += put_text(value + n, deploy->deployed_by.text, deploy->deployed_by.len);
	n += put_text(value + n, deploy->reason.text, deploy->reason.len);
	n += put_text(value + n, deploy->release_hash.text,
	    deploy->release_hash.len);
	return n;
}

/*
 * Decodes a whole changes.db value into out, with the system_version of its
 * key.
 */
bool
record_change_decode(const void *data, size_t size, uint64_t system_version,
    struct change_record *out)
{
	const unsigned char *value = data;
	const unsigned char *p = value + CHANGE_NAME_OFFSET, *end = value + size;
	unsigned flags;

	if (size < CHANGE_NAME_OFFSET || value[0] != RECORD_FORMAT)
		return false;
	out->system_version = system_version;
	out->created_ms = get_u64(value + 1);
	out->version = get_u64(value + 9);
	flags = value[17];
	out->removed = (flags & CHANGE_REMOVED) != 0;
	out->has_previous = (flags & CHANGE_HAS_PREVIOUS) != 0;
	out->previous = get_u64(value + 18);
	return copy_text(&p, end, out->name, sizeof(out->name),
	    &out->name_len) &&
	    copy_metadata(&p, end, flags, CHANGE_HAS_DEPLOYED_BY,
	    &out->deployed_by) &&
	    copy_metadata(&p, end, flags, CHANGE_HAS_REASON, &out->reason) &&
	    copy_metadata(&p, end, flags, CHANGE_HAS_RELEASE_HASH,
	    &out->release_hash) && p == end;
}

/*
 * Decodes only the service of a changes.db value, for a snapshot: *name
 * points into data, and *version is REMOVED_VERSION for a removal.
 */
bool
record_change_service(const void *data, size_t size, const char **name,
    size_t *name_len, uint64_t *version)
{
	const unsigned char *value = data;
	const unsigned char *p = value + CHANGE_NAME_OFFSET, *end = value + size;

	if (size < CHANGE_NAME_OFFSET || value[0] != RECORD_FORMAT ||
	    !take_text(&p, end, SERVICE_NAME_MAX, name, name_len))
		return false;
	*version = value[17] & CHANGE_REMOVED ? REMOVED_VERSION :
	    get_u64(value + 9);
	return true;
}

/*
 * The periods.db key of a service's change, env id . name length . name
 * . system version; returns its length. With system_version 0 and
 * without it (prefix), the start of the service's keys.
 */
size_t
record_period_key(unsigned char key[PERIOD_KEY_MAX], uint32_t env_id,
    const char *name, size_t name_len, uint64_t system_version)
{
	size_t n = ENV_ID_SIZE;

	put_u32(key, env_id);
	n += put_text(key + n, name, name_len);
	put_u64(key + n, system_version);
	return n + VERSION_SIZE;
}

/*
 * Decodes the system version of a periods.db key, when it is one of the
 * service whose key prefix (record_period_key() less the version) is
 * prefix_len bytes of prefix; false otherwise.
 */
bool
record_period_key_version(const void *data, size_t size,
    const unsigned char *prefix, size_t prefix_len, uint64_t *system_version)
{
	if (size != prefix_len + VERSION_SIZE ||
	    memcmp(data, prefix, prefix_len) != 0)
		return false;
	*system_version = get_u64((const unsigned char *)data + prefix_len);
	return true;
}

/* A periods.db value: the version the change set (or a removal) and its time. */
void
record_period_encode(bool removed, uint64_t version, uint64_t created_ms,
    unsigned char value[PERIOD_VALUE_SIZE])
{
	value[0] = RECORD_FORMAT;
	value[1] = removed ? CHANGE_REMOVED : 0;
	put_u64(value + 2, removed ? 0 : version);
	put_u64(value + 10, created_ms);
}

/* Decodes what record_period_encode() wrote; false when malformed. */
bool
record_period_decode(const void *data, size_t size, bool *removed,
    uint64_t *version, uint64_t *created_ms)
{
	const unsigned char *value = data;

	if (size != PERIOD_VALUE_SIZE || value[0] != RECORD_FORMAT ||
	    (value[1] & ~CHANGE_REMOVED) != 0)
		return false;
	*removed = value[1] != 0;
	*version = get_u64(value + 2);
	*created_ms = get_u64(value + 10);
	return true;
}

/* A keys.db value: the highest keys of a service's reports. */
void
record_keys_encode(const struct service_keys *keys,
    unsigned char value[KEYS_VALUE_SIZE])
{
	value[0] = RECORD_FORMAT;
	value[1] = (keys->has_sequence ? KEY_HAS_SEQUENCE : 0) |
	    (keys->has_deployed_at ? KEY_HAS_DEPLOYED_AT : 0);
	put_u64(value + 2, keys->has_sequence ? keys->sequence : 0);
	put_u64(value + 10, keys->has_deployed_at ? keys->deployed_at_ms : 0);
}

/* Decodes what record_keys_encode() wrote; false when malformed. */
bool
record_keys_decode(const void *data, size_t size, struct service_keys *keys)
{
	const unsigned char *value = data;

	if (size != KEYS_VALUE_SIZE || value[0] != RECORD_FORMAT ||
	    (value[1] & ~(KEY_HAS_SEQUENCE | KEY_HAS_DEPLOYED_AT)) != 0)
		return false;
	keys->has_sequence = (value[1] & KEY_HAS_SEQUENCE) != 0;
	keys->sequence = get_u64(value + 2);
	keys->has_deployed_at = (value[1] & KEY_HAS_DEPLOYED_AT) != 0;
	keys->deployed_at_ms = get_u64(value + 10);
	return true;
}

/* The events.db key of an eventId, env id . eventId; returns its length. */
size_t
record_event_key(unsigned char key[EVENT_KEY_MAX], uint32_t env_id,
    const char *event_id, size_t event_id_len)
{
	put_u32(key, env_id);
	memcpy(key + ENV_ID_SIZE, event_id, event_id_len);
	return ENV_ID_SIZE + event_id_len;
}

/*
 * The event-times.db key of an eventId received at received_ms, env id .
 * received-at . eventId; returns its length. With an empty eventId, the
 * start of those received at or after received_ms.
 */
size_t
record_event_time_key(unsigned char key[EVENT_TIME_KEY_MAX], uint32_t env_id,
    uint64_t received_ms, const char *event_id, size_t event_id_len)
{
	put_u32(key, env_id);
	put_u64(key + ENV_ID_SIZE, received_ms);
	memcpy(key + ENV_ID_SIZE + 8, event_id, event_id_len);
	return ENV_ID_SIZE + 8 + event_id_len;
}

/*
 * Decodes an event-times.db key: *event_id points into data; false when
 * malformed.
 */
bool
record_event_time_key_decode(const void *data, size_t size, uint32_t *env_id,
    uint64_t *received_ms, const char **event_id, size_t *event_id_len)
{
	const unsigned char *key = data;

	if (size <= ENV_ID_SIZE + 8 || size > EVENT_TIME_KEY_MAX)
		return false;
	*env_id = get_u32(key);
	*received_ms = get_u64(key + ENV_ID_SIZE);
	*event_id = (const char *)key + ENV_ID_SIZE + 8;
	*event_id_len = size - ENV_ID_SIZE - 8;
	return true;
}

/*
 * The value of a record whose key says everything (event-times.db): its
 * format byte alone; returns its length.
 */
size_t
record_marker_encode(unsigned char value[MARKER_VALUE_SIZE])
{
	value[0] = RECORD_FORMAT;
	return MARKER_VALUE_SIZE;
}

/* An events.db value: what the first report of an eventId was, and its answer. */
size_t
record_event_encode(const struct event_record *event,
    unsigned char value[EVENT_VALUE_MAX])
{
	size_t n = 0;

	value[n++] = RECORD_FORMAT;
	put_u64(value + n, event->received_ms);
	n += 8;
	put_u64(value + n, event->system_version);
	n += 8;
	value[n++] = event->removal ? CHANGE_REMOVED : 0;
	put_u64(value + n, event->removal ? 0 : event->version);
	n += 8;
	return n + put_text(value + n, event->name, event->name_len);
}

/* Decodes what record_event_encode() wrote, its name pointing into data. */
bool
record_event_decode(const void *data, size_t size, struct event_record *event)
{
	const unsigned char *value = data, *p = value + 26, *end = value + size;

	if (size < 26 || value[0] != RECORD_FORMAT ||
	    (value[17] & ~CHANGE_REMOVED) != 0)
		return false;
	event->received_ms = get_u64(value + 1);
	event->system_version = get_u64(value + 9);
	event->removal = value[17] != 0;
	event->version = get_u64(value + 18);
	return take_text(&p, end, SERVICE_NAME_MAX, &event->name,
	    &event->name_len) && p == end;
}

/* Appends the 8 bytes of v when flag is in flags; returns what it wrote. */
static size_t
put_optional_u64(unsigned char *p, unsigned flags, unsigned flag, uint64_t v)
{
	if (!(flags & flag))
		return 0;
	put_u64(p, v);
	return 8;
}

/* Reads the 8 bytes at *p when flag is in flags (0 otherwise); false when cut short. */
static bool
take_optional_u64(const unsigned char **p, const unsigned char *end,
    unsigned flags, unsigned flag, uint64_t *v)
{
	*v = 0;
	if (!(flags & flag))
		return true;
	if (end - *p < 8)
		return false;
	*v = get_u64(*p);
	*p += 8;
	return true;
}

/* Appends an optional text when flag is in flags; returns what it wrote. */
static size_t
put_optional_text(unsigned char *p, unsigned flags, unsigned flag,
    const char *text, size_t len)
{
	return flags & flag ? put_text(p, text, len) : 0;
}

/* Reads an optional metadata text of an audit entry. */
static bool
take_optional_metadata(const unsigned char **p, const unsigned char *end,
    unsigned flags, unsigned flag, struct metadata_text *out)
{
	out->present = (flags & flag) != 0;
	out->len = 0;
	out->text[0] = '\0';
	return !out->present ||
	    copy_text(p, end, out->text, sizeof(out->text), &out->len);
}

/*
 * An audit.db value: a report and its outcome (the id is in the key).
 * Only what the report carried is written; returns the length.
 */
size_t
record_audit_encode(const struct audit_entry *entry,
    unsigned char value[AUDIT_VALUE_MAX])
{
	const struct report_key *key = &entry->key;
	unsigned flags = 0;
	size_t n = 0;

	flags |= entry->removal ? AUDIT_REMOVAL : 0;
	flags |= key->has_event_id ? AUDIT_HAS_EVENT_ID : 0;
	flags |= key->has_sequence ? AUDIT_HAS_SEQUENCE : 0;
	flags |= key->has_deployed_at ? AUDIT_HAS_DEPLOYED_AT : 0;
	flags |= entry->deployed_by.present ? AUDIT_HAS_DEPLOYED_BY : 0;
	flags |= entry->reason.present ? AUDIT_HAS_REASON : 0;
	flags |= entry->release_hash.present ? AUDIT_HAS_RELEASE_HASH : 0;
	value[n++] = RECORD_FORMAT;
	put_u64(value + n, entry->received_ms);
	n += 8;
	value[n++] = (unsigned char)entry->outcome;
	value[n++] = (unsigned char)flags;
	put_u64(value + n, entry->system_version);
	n += 8;
	n += put_optional_u64(value + n, ~flags, AUDIT_REMOVAL, entry->version);
	n += put_optional_u64(value + n, flags, AUDIT_HAS_SEQUENCE,
	    key->sequence);
	n += put_optional_u64(value + n, flags, AUDIT_HAS_DEPLOYED_AT,
	    key->deployed_at_ms);
	n += put_text(value + n, entry->name, entry->name_len);
	n += put_optional_text(value + n, flags, AUDIT_HAS_EVENT_ID,
	    key->event_id, key->event_id_len);
	n += put_optional_text(value + n, flags, AUDIT_HAS_DEPLOYED_BY,
	    entry->deployed_by.text, entry->deployed_by.len);
	n += put_optional_text(value + n, flags, AUDIT_HAS_REASON,
	    entry->reason.text, entry->reason.len);
	n += put_optional_text(value + n, flags, AUDIT_HAS_RELEASE_HASH,
	    entry->release_hash.text, entry->release_hash.len);
	return n;
}

/* Decodes what record_audit_encode() wrote into out, with the id of its key. */
bool
record_audit_decode(const void *data, size_t size, uint64_t id,
    struct audit_entry *out)
{
	const unsigned char *value = data, *p = value + 19, *end = value + size;
	struct report_key *key = &out->key;
	unsigned flags;

	if (size < 19 || value[0] != RECORD_FORMAT ||
	    value[9] > OUTCOME_REMOVED || (value[10] & 0x80) != 0)
		return false;
	out->id = id;
	out->received_ms = get_u64(value + 1);
	out->outcome = (enum deploy_outcome)value[9];
	flags = value[10];
	out->system_version = get_u64(value + 11);
	out->removal = (flags & AUDIT_REMOVAL) != 0;
	key->has_event_id = (flags & AUDIT_HAS_EVENT_ID) != 0;
	key->has_sequence = (flags & AUDIT_HAS_SEQUENCE) != 0;
	key->has_deployed_at = (flags & AUDIT_HAS_DEPLOYED_AT) != 0;
	key->event_id_len = 0;
	key->event_id[0] = '\0';
	return take_optional_u64(&p, end, ~flags, AUDIT_REMOVAL,
	    &out->version) &&
	    take_optional_u64(&p, end, flags, AUDIT_HAS_SEQUENCE,
	    &key->sequence) &&
	    take_optional_u64(&p, end, flags, AUDIT_HAS_DEPLOYED_AT,
	    &key->deployed_at_ms) &&
	    copy_text(&p, end, out->name, sizeof(out->name), &out->name_len) &&
	    (!key->has_event_id || copy_text(&p, end, key->event_id,
	    sizeof(key->event_id), &key->event_id_len)) &&
	    take_optional_metadata(&p, end, flags, AUDIT_HAS_DEPLOYED_BY,
	    &out->deployed_by) &&
	    take_optional_metadata(&p, end, flags, AUDIT_HAS_REASON,
	    &out->reason) &&
	    take_optional_metadata(&p, end, flags, AUDIT_HAS_RELEASE_HASH,
	    &out->release_hash) && p == end;
}

/* Bytes of v as an unsigned LEB128 varint: 7 bits a byte, low first. */
static size_t
varint_size(uint64_t v)
{
	size_t n = 1;

	while (v >= 0x80) {
		v >>= 7;
		n++;
	}
	return n;
}

/* Writes v as a varint at p; returns its size. */
static size_t
put_varint(unsigned char *p, uint64_t v)
{
	size_t n = 0;

	while (v >= 0x80) {
		p[n++] = (unsigned char)(v | 0x80);
		v >>= 7;
	}
	p[n++] = (unsigned char)v;
	return n;
}

/*
 * Reads a varint at *p, before end, into *v and moves *p past it; false
 * when it is cut short or does not fit 64 bits. Inline: a keyframe reads
 * three a service, most of them one byte.
 */
static inline bool
take_varint(const unsigned char **p, const unsigned char *end, uint64_t *v)
{
	uint64_t value = 0;

	if (*p < end && **p < 0x80) {
		*v = *(*p)++;
		return true;
	}
	for (unsigned shift = 0; *p < end && shift < 64; shift += 7) {
		unsigned char byte = *(*p)++;

		if (shift == 63 && byte > 1)
			return false;
		value |= (uint64_t)(byte & 0x7F) << shift;
		if (!(byte & 0x80)) {
			*v = value;
			return true;
		}
	}
	return false;
}

/* Bytes the name at i shares with the one before it in list (0 for the first). */
static size_t
shared_prefix(const struct service_list *list, size_t i)
{
	const char *name, *before;
	size_t n = 0, len, before_len;

	if (i == 0)
		return 0;
	name = service_list_name(list, i);
	len = list->items[i].name_len;
	before = service_list_name(list, i - 1);
	before_len = list->items[i - 1].name_len;
	while (n < len && n < before_len && name[n] == before[n])
		n++;
	return n;
}

/*
 * Sets *size to the bytes of the keyframe of list; false when list is
 * too large for one.
 */
bool
record_keyframe_size(const struct service_list *list, size_t *size)
{
	*size = KEYFRAME_HEADER_SIZE;
	for (size_t i = 0; i < list->count; i++) {
		size_t shared = shared_prefix(list, i);
		size_t suffix = list->items[i].name_len - shared;

		*size += varint_size(shared) + varint_size(suffix) + suffix +
		    varint_size(list->items[i].version);
	}
	return list->count <= UINT32_MAX && *size <= UINT32_MAX;
}

/*
 * Writes the keyframe of list, sorted by name, into value, which has room
 * for the size record_keyframe_size() gave: format 2, the count, then for
 * each service in order, as varints, the bytes its name shares with the
 * name before it, the length of the rest, the rest itself, and its
 * version. Sorted names share long prefixes ("payments-api",
 * "payments-worker"), so a keyframe is a fraction of the names' bytes.
 */
void
record_keyframe_encode(const struct service_list *list, unsigned char *value)
{
	unsigned char *p = value + KEYFRAME_HEADER_SIZE;

	value[0] = KEYFRAME_FORMAT;
	put_u32(value + 1, (uint32_t)list->count);
	for (size_t i = 0; i < list->count; i++) {
		size_t shared = shared_prefix(list, i);
		size_t suffix = list->items[i].name_len - shared;

		p += put_varint(p, shared);
		p += put_varint(p, suffix);
		memcpy(p, service_list_name(list, i) + shared, suffix);
		p += suffix;
		p += put_varint(p, list->items[i].version);
	}
}

/*
 * Starts reading the entries of a keyframe value, of either format: 2 as
 * record_keyframe_encode() writes it, or 1, from stores made before it
 * (each name a text, each version a u64). False when its header is
 * malformed.
 */
bool
record_keyframe_open(struct keyframe_reader *reader, const void *data,
    size_t size)
{
	const unsigned char *value = data;

	memset(reader, 0, sizeof(*reader));
	reader->last = NULL;
	if (size < KEYFRAME_HEADER_SIZE || (value[0] != RECORD_FORMAT &&
	    value[0] != KEYFRAME_FORMAT))
		return false;
	reader->format = value[0];
	reader->left = get_u32(value + 1);
	reader->next = value + KEYFRAME_HEADER_SIZE;
	reader->end = value + size;
	return true;
}

/* Bytes a and b have in common at their start. */
static size_t
common_prefix(const char *a, size_t a_len, const char *b, size_t b_len)
{
	size_t n = 0;

	while (n < a_len && n < b_len && a[n] == b[n])
		n++;
	return n;
}

/*
 * The next entry, while reader->left > 0: *name points into the value or
 * into the reader, valid until the next call, and reader->shared says how
 * many bytes it shares with the name before it. False when the entry is
 * malformed or there is none.
 */
bool
record_keyframe_next(struct keyframe_reader *reader, const char **name,
    size_t *name_len, uint64_t *version)
{
	const char *suffix;
	uint64_t shared, suffix_len;

	if (reader->left == 0)
		return false;
	if (reader->format == RECORD_FORMAT) {
		if (!take_text(&reader->next, reader->end, SIZE_MAX, name,
		    name_len) || reader->end - reader->next < VERSION_SIZE)
			return false;
		*version = get_u64(reader->next);
		reader->next += VERSION_SIZE;
		reader->shared = reader->last == NULL ? 0 : common_prefix(*name,
		    *name_len, reader->last, reader->last_len);
	} else {
		if (!take_varint(&reader->next, reader->end, &shared) ||
		    !take_varint(&reader->next, reader->end, &suffix_len) ||
		    shared > reader->last_len ||
		    suffix_len > SERVICE_NAME_MAX - shared ||
		    (uint64_t)(reader->end - reader->next) < suffix_len)
			return false;
		suffix = (const char *)reader->next;
		reader->next += suffix_len;
		if (!take_varint(&reader->next, reader->end, version))
			return false;
		/* the shared prefix is in place already: the last name is here */
		for (size_t i = 0; i < suffix_len; i++)
			reader->name[shared + i] = suffix[i];
		*name = reader->name;
		*name_len = (size_t)(shared + suffix_len);
		reader->shared = (size_t)shared;
	}
	reader->last = *name;
	reader->last_len = *name_len;
	reader->left--;
	return true;
}
