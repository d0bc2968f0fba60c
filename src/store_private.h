/*
 * What the files of the store share, and no other file sees: the handle,
 * the sizes of its records, and the functions one file of the store
 * calls in another, grouped by the file that defines them. Only
 * src/store*.c include it; the rest of releasemgr sees store.h.
 */
#ifndef RELEASEMGR_STORE_PRIVATE_H
#define RELEASEMGR_STORE_PRIVATE_H

#include <db.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "model.h"
#include "status.h"

#define RECORD_FORMAT		1	/* the first byte of every value */
#define ENV_ID_SIZE		4
#define VERSION_SIZE		8
#define VERSIONED_KEY_SIZE	(ENV_ID_SIZE + VERSION_SIZE)
#define ENVIRONMENT_VALUE_SIZE	(1 + 4 + 8 + 8 + 4 + 8)
#define CURRENT_VALUE_SIZE	(1 + 8 + 8)
#define CHANGE_VALUE_MAX	(1 + 8 + 8 + 1 + 8 + 2 + SERVICE_NAME_MAX + \
				 3 * (2 + METADATA_MAX))
#define CHANGE_NAME_OFFSET	(1 + 8 + 8 + 1 + 8)	/* where the name's length starts */
#define KEYFRAME_HEADER_SIZE	(1 + 4)		/* format, number of entries */
#define KEYFRAME_ENTRY_MAX	(2 + SERVICE_NAME_MAX + 8)
#define KEYFRAME_INTERVAL	128	/* fewest system versions between keyframes */

struct store {
	DB_ENV	*env;
	DB	*meta;
	DB	*environments;
	DB	*current;
	DB	*changes;
	DB	*keyframes;
	bool	 durable;	/* nothing is answered before it is on disk */
	unsigned keyframe_interval;	/* fewest system versions between keyframes */
	atomic_bool panicked;	/* set by any thread, read by all */
	unsigned commit_delay_us;	/* the flush leader's wait for company */
	int	 home_fd;	/* the environment's directory, for fstatvfs() */
	uint64_t reserve_bytes;	/* a change needs this much free; 0: no check */
	atomic_bool below_reserve;	/* as last seen, so that changes are logged once */
	_Atomic uint64_t room_checked_ms;	/* when, on the monotonic clock; 0: never */
	/* group commit among this process's threads (see wait_durable) */
	pthread_mutex_t	flush_lock;
	pthread_cond_t	flushed;
	uint64_t	commits;	/* changing commits made so far */
	uint64_t	commits_flushed;	/* how many of them are on disk */
	bool		flushing;	/* a thread is flushing for the others */
	unsigned	waiting;	/* threads waiting for their commit's flush */
};

/* An environments.db record. */
struct environment_record {
	uint32_t	id;
	uint64_t	current;	/* 0 before the first change */
	uint64_t	updated_ms;	/* commit time of the current version */
	uint32_t	services;	/* in current.db */
	uint64_t	keyframe;	/* system version of the last keyframe; 0: none */
};

/* What a read does inside its transaction; returns a Berkeley DB code. */
typedef int read_fn(struct store *, DB_TXN *, void *);

/* store.c */
DBT		 dbt(void *, size_t, size_t);
enum status	 translate(struct store *, int, const char *);
int		 run_read(struct store *, read_fn *, void *);

/* store_records.c */
void		 put_u32(unsigned char *, uint32_t);
uint32_t	 get_u32(const unsigned char *);
void		 put_u64(unsigned char *, uint64_t);
uint64_t	 get_u64(const unsigned char *);
int		 get_environment(struct store *, DB_TXN *, const char *,
		    u_int32_t, struct environment_record *);
int		 put_environment(struct store *, DB_TXN *, const char *,
		    const struct environment_record *);
int		 allocate_environment_id(struct store *, DB_TXN *, uint32_t *);
size_t		 service_key(unsigned char *, uint32_t, const char *, size_t);
void		 versioned_key(unsigned char [VERSIONED_KEY_SIZE], uint32_t,
		    uint64_t);
size_t		 put_text(unsigned char *, const char *, size_t);
int		 put_change(struct store *, DB_TXN *, uint32_t, uint64_t,
		    uint64_t, const struct deploy *, bool, uint64_t);
bool		 parse_change(const unsigned char *, size_t, uint64_t,
		    struct change_record *);
int		 get_change(struct store *, DB_TXN *, uint32_t, uint64_t,
		    struct change_record *);

/* store_snapshot.c */
int		 scan_current(DBC *, uint32_t, uint32_t, uint64_t,
		    struct service_list *, bool *);
uint64_t	 keyframe_interval(const struct store *,
		    const struct environment_record *);
int		 put_keyframe(struct store *, DB_TXN *, uint32_t, uint32_t,
		    uint64_t);
int		 scan_keyframe(DBC *, DBC *, uint32_t, uint64_t,
		    struct service_list *);

/* store_durability.c */
void		 reserve_regions(const char *);
int		 commit_early(struct store *, DB_TXN *);
int		 flush_committed(struct store *);
int		 wait_durable(struct store *);

#endif
