/*
 * The records of the store: how each key and value is laid out.
 *
 * Five B-tree databases (README, "Data layout", says why each exists):
 *   meta.db          "next-environment-id" -> u32
 *   environments.db  environment name -> id, current system version,
 *                    updated-at, number of services, last keyframe
 *   current.db       env id . service name -> version, since system version
 *   changes.db       env id . system version -> the change and its metadata
 *   keyframes.db     env id . system version -> that version's whole list
 * Integers are stored big-endian so that byte order is numeric order, and
 * every value starts with a format byte so records can evolve.
 */
#include <errno.h>
#include <string.h>

#include "store_private.h"

/* Bits of a change record's flags byte. */
#define CHANGE_HAS_PREVIOUS	0x01
#define CHANGE_HAS_DEPLOYED_BY	0x02
#define CHANGE_HAS_REASON	0x04
#define CHANGE_HAS_RELEASE_HASH	0x08

void
put_u32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
}

uint32_t
get_u32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

void
put_u64(unsigned char *p, uint64_t v)
{
	put_u32(p, (uint32_t)(v >> 32));
	put_u32(p + 4, (uint32_t)v);
}

uint64_t
get_u64(const unsigned char *p)
{
	return (uint64_t)get_u32(p) << 32 | get_u32(p + 4);
}

/* Reads an environment's record; DB_NOTFOUND when it never had a deploy. */
int
get_environment(struct store *store, DB_TXN *txn, const char *name,
    u_int32_t flags, struct environment_record *record)
{
	unsigned char value[ENVIRONMENT_VALUE_SIZE];
	DBT key = dbt((void *)name, strlen(name), strlen(name));
	DBT data = dbt(value, 0, sizeof(value));
	int rc;

	if ((rc = store->environments->get(store->environments, txn, &key,
	    &data, flags)) != 0)
		return rc;
	if (data.size != sizeof(value) || value[0] != RECORD_FORMAT)
		return DB_VERIFY_BAD;
	record->id = get_u32(value + 1);
	record->current = get_u64(value + 5);
	record->updated_ms = get_u64(value + 13);
	record->services = get_u32(value + 21);
	record->keyframe = get_u64(value + 25);
	return 0;
}

int
put_environment(struct store *store, DB_TXN *txn, const char *name,
    const struct environment_record *record)
{
	unsigned char value[ENVIRONMENT_VALUE_SIZE];
	DBT key = dbt((void *)name, strlen(name), strlen(name));
	DBT data = dbt(value, sizeof(value), sizeof(value));

	value[0] = RECORD_FORMAT;
	put_u32(value + 1, record->id);
	put_u64(value + 5, record->current);
	put_u64(value + 13, record->updated_ms);
	put_u32(value + 21, record->services);
	put_u64(value + 25, record->keyframe);
	return store->environments->put(store->environments, txn, &key, &data, 0);
}

/* Takes the next environment id from meta.db. */
int
allocate_environment_id(struct store *store, DB_TXN *txn, uint32_t *id)
{
	static const char name[] = "next-environment-id";
	unsigned char value[1 + 4];
	DBT key = dbt((void *)name, sizeof(name) - 1, sizeof(name) - 1);
	DBT data = dbt(value, 0, sizeof(value));
	uint32_t next = 1;
	int rc;

	rc = store->meta->get(store->meta, txn, &key, &data, DB_RMW);
	if (rc == 0 && (data.size != sizeof(value) || value[0] != RECORD_FORMAT))
		return DB_VERIFY_BAD;
	if (rc == 0)
		next = get_u32(value + 1);
	else if (rc != DB_NOTFOUND)
		return rc;
	if (next == UINT32_MAX)
		return EOVERFLOW;
	*id = next;
	value[0] = RECORD_FORMAT;
	put_u32(value + 1, next + 1);
	data = dbt(value, sizeof(value), sizeof(value));
	return store->meta->put(store->meta, txn, &key, &data, 0);
}

/* Builds env id . name (the current.db key); returns its length. */
size_t
service_key(unsigned char *buf, uint32_t env_id, const char *name,
    size_t name_len)
{
	put_u32(buf, env_id);
	memcpy(buf + ENV_ID_SIZE, name, name_len);
	return ENV_ID_SIZE + name_len;
}

/* Builds env id . system version (the changes.db and keyframes.db key). */
void
versioned_key(unsigned char buf[VERSIONED_KEY_SIZE], uint32_t env_id,
    uint64_t system_version)
{
	put_u32(buf, env_id);
	put_u64(buf + ENV_ID_SIZE, system_version);
}

/* Appends a 16-bit length and the bytes of an optional text. */
size_t
put_text(unsigned char *p, const char *text, size_t len)
{
	p[0] = (unsigned char)(len >> 8);
	p[1] = (unsigned char)len;
	memcpy(p + 2, text, len);
	return 2 + len;
}

/* Writes the changes.db record of a new system version. */
int
put_change(struct store *store, DB_TXN *txn, uint32_t env_id,
    uint64_t system_version, uint64_t created_ms, const struct deploy *deploy,
    bool has_previous, uint64_t previous)
{
	unsigned char key_buf[VERSIONED_KEY_SIZE];
	unsigned char value[CHANGE_VALUE_MAX];
	unsigned char flags = 0;
	size_t n = 0;
	DBT key, data;

	versioned_key(key_buf, env_id, system_version);
	flags |= has_previous ? CHANGE_HAS_PREVIOUS : 0;
	flags |= deploy->deployed_by.present ? CHANGE_HAS_DEPLOYED_BY : 0;
	flags |= deploy->reason.present ? CHANGE_HAS_REASON : 0;
	flags |= deploy->release_hash.present ? CHANGE_HAS_RELEASE_HASH : 0;
	value[n++] = RECORD_FORMAT;
	put_u64(value + n, created_ms);
	n += 8;
	put_u64(value + n, deploy->version);
	n += 8;
	value[n++] = flags;
	put_u64(value + n, has_previous ? previous : 0);
	n += 8;
	n += put_text(value + n, deploy->name, deploy->name_len);
	n += put_text(value + n, deploy->deployed_by.text, deploy->deployed_by.len);
	n += put_text(value + n, deploy->reason.text, deploy->reason.len);
	n += put_text(value + n, deploy->release_hash.text,
	    deploy->release_hash.len);
	key = dbt(key_buf, sizeof(key_buf), sizeof(key_buf));
	data = dbt(value, n, sizeof(value));
	return store->changes->put(store->changes, txn, &key, &data,
	    DB_NOOVERWRITE);
}

/* Reads the length-prefixed text at *p into text; false when it does not fit. */
static bool
take_text(const unsigned char **p, const unsigned char *end, char *text,
    size_t cap, size_t *len)
{
	if (end - *p < 2)
		return false;
	*len = (size_t)(*p)[0] << 8 | (*p)[1];
	if (*len >= cap || (size_t)(end - *p - 2) < *len)
		return false;
	memcpy(text, *p + 2, *len);
	text[*len] = '\0';
	*p += 2 + *len;
	return true;
}

/* Reads an optional metadata text: present when flag is set in flags. */
static bool
take_metadata(const unsigned char **p, const unsigned char *end,
    unsigned flags, unsigned flag, struct metadata_text *out)
{
	out->present = (flags & flag) != 0;
	return take_text(p, end, out->text, sizeof(out->text), &out->len);
}

/* Decodes a changes.db record (written by put_change); false when malformed. */
bool
parse_change(const unsigned char *value, size_t size, uint64_t system_version,
    struct change_record *out)
{
	const unsigned char *p = value + CHANGE_NAME_OFFSET, *end = value + size;
	unsigned flags;

	if (size < CHANGE_NAME_OFFSET || value[0] != RECORD_FORMAT)
		return false;
	out->system_version = system_version;
	out->created_ms = get_u64(value + 1);
	out->version = get_u64(value + 9);
	flags = value[17];
	out->has_previous = (flags & CHANGE_HAS_PREVIOUS) != 0;
	out->previous = get_u64(value + 18);
	return take_text(&p, end, out->name, sizeof(out->name),
	    &out->name_len) &&
	    take_metadata(&p, end, flags, CHANGE_HAS_DEPLOYED_BY,
	    &out->deployed_by) &&
	    take_metadata(&p, end, flags, CHANGE_HAS_REASON, &out->reason) &&
	    take_metadata(&p, end, flags, CHANGE_HAS_RELEASE_HASH,
	    &out->release_hash) && p == end;
}

/* Reads the change of one system version with a point lookup; a Berkeley DB code. */
int
get_change(struct store *store, DB_TXN *txn, uint32_t env_id,
    uint64_t system_version, struct change_record *out)
{
	unsigned char key_buf[VERSIONED_KEY_SIZE], value[CHANGE_VALUE_MAX];
	DBT key, data;
	int rc;

	versioned_key(key_buf, env_id, system_version);
	key = dbt(key_buf, sizeof(key_buf), sizeof(key_buf));
	data = dbt(value, 0, sizeof(value));
	if ((rc = store->changes->get(store->changes, txn, &key, &data,
	    DB_READ_COMMITTED)) != 0)
		return rc;
	return parse_change(value, data.size, system_version, out) ? 0 :
	    DB_VERIFY_BAD;
}
