/*
 * The records of the store: how each key and value is laid out, in pure
 * functions that encode and decode them. With store_report_records.c
 * (the records of reports: periods.db to audit.db) and store_bytes.h
 * (integers and texts), the only files that know the bytes; none calls
 * a Berkeley DB function.
 *
 * Nine B-tree databases (README, "Data layout", says why each exists):
 *   meta.db          "next-environment-id" -> u32
 *   environments.db  environment name -> id, current system version,
 *                    updated-at, number of services, last keyframe,
 *                    next audit id, reports answered by outcome
 *   current.db       env id . service name -> version, since system version,
 *                    and the service's keys when it has any
 *   changes.db       env id . system version -> the change and its metadata
 *   keyframes.db     env id . system version -> that version's whole list
 *   periods.db       env id . name length . service name . system version
 *                    -> the service's version then (or its removal)
 *   keys.db          env id . service name -> highest sequence and
 *                    deployedAt of its reports, while it does not run
 *   events.db        env id . eventId -> the report and its answer;
 *                    env id alone -> the audit id its expiry walks from
 *   audit.db         env id . audit id -> a report and its outcome
 * Integers are stored big-endian so that byte order is numeric order, and
 * every value starts with a format byte so records can evolve. A text is
 * a 16-bit length and its bytes.
 */
#include <string.h>

#include "store_bytes.h"
#include "store_private.h"

#define CHANGE_NAME_OFFSET	(1 + 8 + 8 + 1 + 8)	/* where the name's length starts */
#define KEYFRAME_FORMAT		2	/* a keyframe's names front-coded */
#define KEYFRAME_HEADER_SIZE	(1 + 4)		/* format, number of entries */

/* Bits of a change record's flags byte. */
#define CHANGE_HAS_PREVIOUS	0x01
#define CHANGE_HAS_DEPLOYED_BY	0x02
#define CHANGE_HAS_REASON	0x04
#define CHANGE_HAS_RELEASE_HASH	0x08

/* The format of a current.db value that holds its service's keys. */
#define CURRENT_FORMAT_KEYS	2

/* The format of an environments.db value with its reports' counts. */
#define ENVIRONMENT_FORMAT	3
#define ENVIRONMENT_VALUE_SIZE_1	(1 + 4 + 8 + 8 + 4 + 8)	/* format 1 */
#define ENVIRONMENT_VALUE_SIZE_2	(ENVIRONMENT_VALUE_SIZE_1 + 8)	/* format 2 */
#define ENVIRONMENT_FORMAT_2	2	/* with its next audit id */


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
	for (size_t i = 0; i < OUTCOME_COUNT; i++)
		put_u64(value + ENVIRONMENT_VALUE_SIZE_2 + 8 * i,
		    record->reports[i]);
}

/*
 * Decodes what record_environment_encode() wrote, or the formats of
 * earlier stores: 2, before the reports' counts (they are then 0), and
 * 1, before the audit log (its next audit id is then 1); false when
 * malformed.
 */
bool
record_environment_decode(const void *data, size_t size,
    struct environment_record *record)
{
	const unsigned char *value = data;

	if (!(size == ENVIRONMENT_VALUE_SIZE &&
	    value[0] == ENVIRONMENT_FORMAT) &&
	    !(size == ENVIRONMENT_VALUE_SIZE_2 &&
	    value[0] == ENVIRONMENT_FORMAT_2) &&
	    !(size == ENVIRONMENT_VALUE_SIZE_1 && value[0] == RECORD_FORMAT))
		return false;
	record->id = get_u32(value + 1);
	record->current = get_u64(value + 5);
	record->updated_ms = get_u64(value + 13);
	record->services = get_u32(value + 21);
	record->keyframe = get_u64(value + 25);
	record->next_audit_id = value[0] != RECORD_FORMAT ?
	    get_u64(value + 33) : 1;
	for (size_t i = 0; i < OUTCOME_COUNT; i++)
		record->reports[i] = value[0] == ENVIRONMENT_FORMAT ?
		    get_u64(value + ENVIRONMENT_VALUE_SIZE_2 + 8 * i) : 0;
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
 * A current.db value: the service's version, the system version that
 * set it, and its keys when it has any (format CURRENT_FORMAT_KEYS);
 * returns its length.
 */
size_t
record_current_encode(const struct current_record *record,
    unsigned char value[CURRENT_VALUE_MAX])
{
	bool keys = service_keys_any(&record->keys);

	value[0] = keys ? CURRENT_FORMAT_KEYS : RECORD_FORMAT;
	put_u64(value + 1, record->version);
	put_u64(value + 9, record->since);
	if (!keys)
		return CURRENT_VALUE_SIZE;
	record_keys_put(value + CURRENT_VALUE_SIZE, &record->keys);
	return CURRENT_VALUE_MAX;
}

/* Decodes what record_current_encode() wrote; false when malformed. */
bool
record_current_decode(const void *data, size_t size,
    struct current_record *record)
{
	const unsigned char *value = data;

	memset(&record->keys, 0, sizeof(record->keys));
	if (size == CURRENT_VALUE_MAX && value[0] == CURRENT_FORMAT_KEYS) {
		if (!record_keys_get(value + CURRENT_VALUE_SIZE, &record->keys))
			return false;
	} else if (size != CURRENT_VALUE_SIZE || value[0] != RECORD_FORMAT)
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
