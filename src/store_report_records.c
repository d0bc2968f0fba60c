/*
 * The records of reports as they arrive: a service's changes indexed
 * (periods.db), the keys that find a report stale (keys.db), the eventIds
 * answered and where their expiry stands (events.db), and the audit log
 * (audit.db). Pure functions that encode and decode them, as
 * store_records.c does for the history's records.
 */
#include <stdlib.h>
#include <string.h>

#include "store_bytes.h"
#include "store_private.h"

/* Bits of the flags byte of a service's keys. */
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
 * A periods.db value, one of the sorted duplicates under its service's
 * key (record_service_key()): the system version of the change first, so
 * that byte order is the order of the changes, then the version it set
 * (or a removal) and its time.
 */
void
record_period_encode(const struct period_record *period,
    unsigned char value[PERIOD_VALUE_SIZE])
{
	value[0] = RECORD_FORMAT;
	put_u64(value + 1, period->system_version);
	value[9] = period->removed ? CHANGE_REMOVED : 0;
	put_u64(value + 10, period->removed ? 0 : period->version);
	put_u64(value + 18, period->created_ms);
}

/* Decodes what record_period_encode() wrote; false when malformed. */
bool
record_period_decode(const void *data, size_t size,
    struct period_record *period)
{
	const unsigned char *value = data;

	if (size != PERIOD_VALUE_SIZE || value[0] != RECORD_FORMAT ||
	    (value[9] & ~CHANGE_REMOVED) != 0)
		return false;
	period->system_version = get_u64(value + 1);
	period->removed = value[9] != 0;
	period->version = get_u64(value + 10);
	period->created_ms = get_u64(value + 18);
	return true;
}

/* True when keys holds a sequence or a deployedAt. */
bool
service_keys_any(const struct service_keys *keys)
{
	return keys->has_sequence || keys->has_deployed_at;
}

/*
 * Lays out keys (in a keys.db value and in a current.db value of format
 * CURRENT_FORMAT_KEYS): flags, sequence, deployedAt.
 */
void
record_keys_put(unsigned char p[KEYS_SIZE], const struct service_keys *keys)
{
	p[0] = (keys->has_sequence ? KEY_HAS_SEQUENCE : 0) |
	    (keys->has_deployed_at ? KEY_HAS_DEPLOYED_AT : 0);
	put_u64(p + 1, keys->has_sequence ? keys->sequence : 0);
	put_u64(p + 9, keys->has_deployed_at ? keys->deployed_at_ms : 0);
}

/* Reads what record_keys_put() laid out; false when malformed. */
bool
record_keys_get(const unsigned char p[KEYS_SIZE], struct service_keys *keys)
{
	if ((p[0] & ~(KEY_HAS_SEQUENCE | KEY_HAS_DEPLOYED_AT)) != 0)
		return false;
	keys->has_sequence = (p[0] & KEY_HAS_SEQUENCE) != 0;
	keys->sequence = get_u64(p + 1);
	keys->has_deployed_at = (p[0] & KEY_HAS_DEPLOYED_AT) != 0;
	keys->deployed_at_ms = get_u64(p + 9);
	return true;
}

/* A keys.db value: the highest keys of a service that does not run. */
void
record_keys_encode(const struct service_keys *keys,
    unsigned char value[KEYS_VALUE_SIZE])
{
	value[0] = RECORD_FORMAT;
	record_keys_put(value + 1, keys);
}

/* Decodes what record_keys_encode() wrote; false when malformed. */
bool
record_keys_decode(const void *data, size_t size, struct service_keys *keys)
{
	const unsigned char *value = data;

	return size == KEYS_VALUE_SIZE && value[0] == RECORD_FORMAT &&
	    record_keys_get(value + 1, keys);
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

/*
 * The value of an environment's mark in events.db, under its id alone
 * (record_event_key() of an empty eventId, which no eventId's key can
 * be): the id of the first audit entry that the expiry of the
 * environment's eventIds has not looked at yet.
 */
void
record_event_mark_encode(uint64_t next_id,
    unsigned char value[EVENT_MARK_VALUE_SIZE])
{
	value[0] = RECORD_FORMAT;
	put_u64(value + 1, next_id);
}

/* Decodes what record_event_mark_encode() wrote; false when malformed. */
bool
record_event_mark_decode(const void *data, size_t size, uint64_t *next_id)
{
	const unsigned char *value = data;

	if (size != EVENT_MARK_VALUE_SIZE || value[0] != RECORD_FORMAT)
		return false;
	*next_id = get_u64(value + 1);
	return true;
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

/* Fills entry with what deploy reports; the rest of it is zero. */
void
audit_entry_of(struct audit_entry *entry, const struct deploy *deploy)
{
	memset(entry, 0, sizeof(*entry));
	memcpy(entry->name, deploy->name, deploy->name_len);
	entry->name_len = deploy->name_len;
	entry->removal = deploy->removal;
	entry->version = deploy->removal ? 0 : deploy->version;
	entry->key = deploy->key;
	entry->deployed_by = deploy->deployed_by;
	entry->reason = deploy->reason;
	entry->release_hash = deploy->release_hash;
}

/*
 * A report a replica hands to the master: its environment, then the
 * report as its audit entry lays it out. Returns the length.
 */
size_t
record_forward_encode(const struct deploy *deploy,
    unsigned char value[FORWARD_VALUE_MAX])
{
	struct audit_entry *entry = malloc(sizeof(*entry));
	size_t n = put_text(value, deploy->environment,
	    strlen(deploy->environment));

	if (entry == NULL)
		return 0;
	audit_entry_of(entry, deploy);
	n += record_audit_encode(entry, value + n);
	free(entry);
	return n;
}

/* Decodes what record_forward_encode() wrote into deploy. */
bool
record_forward_decode(const void *data, size_t size, struct deploy *deploy)
{
	const unsigned char *p = data, *end = p + size;
	struct audit_entry *entry;
	size_t environment_len;
	bool ok;

	memset(deploy, 0, sizeof(*deploy));
	if (!copy_text(&p, end, deploy->environment,
	    sizeof(deploy->environment), &environment_len) ||
	    (entry = malloc(sizeof(*entry))) == NULL)
		return false;
	ok = record_audit_decode(p, (size_t)(end - p), 0, entry);
	if (ok) {
		memcpy(deploy->name, entry->name, entry->name_len + 1);
		deploy->name_len = entry->name_len;
		deploy->removal = entry->removal;
		deploy->version = entry->version;
		deploy->key = entry->key;
		deploy->deployed_by = entry->deployed_by;
		deploy->reason = entry->reason;
		deploy->release_hash = entry->release_hash;
	}
	free(entry);
	return ok;
}
