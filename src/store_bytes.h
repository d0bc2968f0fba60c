/*
 * The bytes every record of the store is made of: big-endian integers, so
 * that byte order is numeric order, and texts of a 16-bit length and
 * their bytes. Shared by store_records.c and store_report_records.c, the
 * files that lay the records out; no other file includes it.
 */
#ifndef RELEASEMGR_STORE_BYTES_H
#define RELEASEMGR_STORE_BYTES_H

#include <endian.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define RECORD_FORMAT		1	/* the first byte of every value */
#define TEXT_LENGTH_SIZE	2
/* A removal, in the flags byte of a change, a period or an eventId's record. */
#define CHANGE_REMOVED		0x10

/*
 * Writes the low size bytes (2, 4 or 8) of v at p, which need not be
 * aligned, big-endian; get_be() reads them back.
 */
static inline void
put_be(unsigned char *p, uint64_t v, size_t size)
{
	v = htobe64(v);
	memcpy(p, (const unsigned char *)&v + sizeof(v) - size, size);
}

static inline uint64_t
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
static inline size_t
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
static inline bool
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
static inline bool
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

#endif
