/*
 * The digest suite: digest_services over a table of lists whose digests
 * were computed independently, and the digest cache: what it keeps, that
 * it stays bounded, and that threads sharing it never read a digest
 * another key put.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "digest_cache.h"
#include "tests.h"

#define CACHE_THREADS	4
#define CACHE_ROUNDS	5000	/* puts and gets of each thread */
#define CACHE_KEYS	1000	/* more than the cache keeps */

/* One service of a list to digest. */
struct digest_service {
	const char	*name;
	uint64_t	 version;
};

/*
 * The expected digests were computed with Python's hashlib, apart from
 * this code:
 *   hashlib.sha256(b''.join(name.encode() + b'\0' + str(version).encode()
 *       + b'\n' for name, version in services)).hexdigest()
 * with the services in bytewise name order.
 */
static const struct digest_case {
	const char			*label;
	struct digest_service		 services[3];
	size_t				 count;
	const char			*digest;
} digest_cases[] = {
	{ "empty: the SHA-256 of nothing", { { NULL, 0 } }, 0,
	    "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b"
	    "7852b855" },
	{ "the seed example's version 1", { { "Service A", 1 } }, 1,
	    "sha256:7e8ccaa2cbd07891b54a0a6d6eac1d331880674fa95dbe546f07332c"
	    "6b7f9789" },
	{ "the seed example's version 3",
	    { { "Service A", 2 }, { "Service B", 1 } }, 2,
	    "sha256:e51089b9df757f14ad794ccb59fc8bda5bdf1d26ea036164ceb6a9dd"
	    "893e6354" },
	{ "version 0, UTF-8, the largest version, a slash and a space",
	    { { "a", 0 }, { "caf\xc3\xa9", UINT64_C(9007199254740991) },
	    { "svc/x y", 10 } }, 3,
	    "sha256:f73fa9049695b13577dafc2a91a93b559e8c631382d292a1d168f517"
	    "49292fcd" },
};

/* digest_services: each list of the table, built afresh. */
static void
test_digest_table(void)
{
	for (size_t i = 0; i < sizeof(digest_cases) / sizeof(digest_cases[0]);
	    i++) {
		const struct digest_case *c = &digest_cases[i];
		struct service_list list;
		char text[DIGEST_TEXT_SIZE];
		bool built = true;

		service_list_init(&list);
		for (size_t k = 0; k < c->count; k++)
			built = built && service_list_append(&list,
			    c->services[k].name, strlen(c->services[k].name),
			    c->services[k].version);
		if (CHECK(built, "%s: out of memory", c->label))
			CHECK(digest_services(&list, text) &&
			    strcmp(text, c->digest) == 0, "%s: got %s, "
			    "expected %s", c->label, text, c->digest);
		service_list_free(&list);
	}
}

/* Two lists with the same services have one digest; any change, another. */
static void
test_digest_follows_contents(void)
{
	struct service_list list;
	char first[DIGEST_TEXT_SIZE], again[DIGEST_TEXT_SIZE];
	char other[DIGEST_TEXT_SIZE];

	service_list_init(&list);
	if (!CHECK(service_list_append(&list, LIT("a"), 12) &&
	    digest_services(&list, first), "out of memory"))
		goto done;
	service_list_clear(&list);
	CHECK(service_list_append(&list, LIT("a"), 12) &&
	    digest_services(&list, again) && strcmp(first, again) == 0,
	    "the same list again: %s, then %s", first, again);
	/* the 0x00 after the name keeps "a" 12 apart from "a1" 2 */
	service_list_clear(&list);
	CHECK(service_list_append(&list, LIT("a1"), 2) &&
	    digest_services(&list, other) && strcmp(first, other) != 0,
	    "\"a\" 12 and \"a1\" 2 share %s", first);
done:
	service_list_free(&list);
}

/* The text of a made-up digest of key k: "sha256:" and k in hex. */
static void
fake_digest(unsigned k, char text[DIGEST_TEXT_SIZE])
{
	snprintf(text, DIGEST_TEXT_SIZE, "sha256:%064x", k);
}

/* The environment of key k, and its system version. */
static void
key_of(unsigned k, char environment[16], uint64_t *system_version)
{
	snprintf(environment, 16, "env-%u", k % 7);
	*system_version = k / 7;
}

/* What the cache keeps, what it gives back, and what a NULL one does. */
static void
test_cache_keeps(void)
{
	struct digest_cache *cache = digest_cache_new();
	char text[DIGEST_TEXT_SIZE], want[DIGEST_TEXT_SIZE];

	if (!CHECK(cache != NULL, "out of memory"))
		return;
	strcpy(text, "untouched");
	CHECK(!digest_cache_get(cache, "default", 0, text) &&
	    strcmp(text, "untouched") == 0, "an empty cache gave %s", text);
	fake_digest(1, want);
	digest_cache_put(cache, "default", 0, want);
	CHECK(digest_cache_get(cache, "default", 0, text) &&
	    strcmp(text, want) == 0, "default 0: got %s", text);
	CHECK(!digest_cache_get(cache, "default", 1, text), "default 1 is "
	    "not kept");
	CHECK(!digest_cache_get(cache, "prod", 0, text), "prod 0 is not kept");
	fake_digest(2, want);
	digest_cache_put(cache, "default", 0, want);
	CHECK(digest_cache_get(cache, "default", 0, text) &&
	    strcmp(text, want) == 0, "default 0 put again: got %s", text);
	digest_cache_free(cache);

	digest_cache_put(NULL, "default", 0, want);
	CHECK(!digest_cache_get(NULL, "default", 0, text), "a NULL cache "
	    "gave a digest");
	digest_cache_free(NULL);
}

/*
 * More keys than the cache keeps: a get answers the digest of its own key
 * or nothing, and the last key put is always there.
 */
static void
test_cache_bounded(void)
{
	struct digest_cache *cache = digest_cache_new();
	char environment[16], text[DIGEST_TEXT_SIZE], want[DIGEST_TEXT_SIZE];
	uint64_t system_version;
	unsigned kept = 0, wrong = 0;

	if (!CHECK(cache != NULL, "out of memory"))
		return;
	for (unsigned k = 0; k < CACHE_KEYS; k++) {
		key_of(k, environment, &system_version);
		fake_digest(k, want);
		digest_cache_put(cache, environment, system_version, want);
		CHECK(digest_cache_get(cache, environment, system_version, text)
		    && strcmp(text, want) == 0, "key %u just put: got %s", k,
		    text);
	}
	for (unsigned k = 0; k < CACHE_KEYS; k++) {
		key_of(k, environment, &system_version);
		fake_digest(k, want);
		if (!digest_cache_get(cache, environment, system_version, text))
			continue;
		kept++;
		wrong += strcmp(text, want) != 0;
	}
	CHECK(wrong == 0 && kept > 0 && kept < CACHE_KEYS, "of %u keys, %u "
	    "kept, %u with another key's digest", CACHE_KEYS, kept, wrong);
	digest_cache_free(cache);
}

/* What a thread of test_cache_threads does, and what it saw. */
struct cache_worker {
	pthread_t		 thread;
	struct digest_cache	*cache;
	unsigned		 first;	/* of the keys it uses */
	unsigned		 hits;
	unsigned		 wrong;	/* digests of another key */
};

/* Puts and gets keys that overlap the other threads' (a thread's body). */
static void *
cache_worker_run(void *arg)
{
	struct cache_worker *w = arg;
	char environment[16], text[DIGEST_TEXT_SIZE], want[DIGEST_TEXT_SIZE];
	uint64_t system_version;

	for (unsigned i = 0; i < CACHE_ROUNDS; i++) {
		unsigned k = (w->first + i * 7) % CACHE_KEYS;

		key_of(k, environment, &system_version);
		fake_digest(k, want);
		if (i % 2 == 0)
			digest_cache_put(w->cache, environment, system_version,
			    want);
		else if (digest_cache_get(w->cache, environment,
		    system_version, text)) {
			w->hits++;
			w->wrong += strcmp(text, want) != 0;
		}
	}
	return NULL;
}

/* Threads sharing one cache read no torn or foreign digest. */
static void
test_cache_threads(void)
{
	struct cache_worker workers[CACHE_THREADS];
	struct digest_cache *cache = digest_cache_new();
	unsigned hits = 0, wrong = 0;
	size_t started = 0;

	if (!CHECK(cache != NULL, "out of memory"))
		return;
	for (; started < CACHE_THREADS; started++) {
		struct cache_worker *w = &workers[started];

		memset(w, 0, sizeof(*w));
		w->cache = cache;
		w->first = (unsigned)started * 3;
		if (!CHECK(pthread_create(&w->thread, NULL, cache_worker_run,
		    w) == 0, "thread %zu not started", started))
			break;
	}
	for (size_t i = 0; i < started; i++) {
		pthread_join(workers[i].thread, NULL);
		hits += workers[i].hits;
		wrong += workers[i].wrong;
	}
	CHECK(wrong == 0, "%u of %u hits gave another key's digest", wrong,
	    hits);
	digest_cache_free(cache);
}

static const CU_TestInfo digest_tests[] = {
	{ "digest_services table", test_digest_table },
	{ "digest_services follows the contents",
	    test_digest_follows_contents },
	{ "digest cache keeps", test_cache_keeps },
	{ "digest cache bounded", test_cache_bounded },
	{ "digest cache shared by threads", test_cache_threads },
	CU_TEST_INFO_NULL,
};

int
add_digest_suite(void)
{
	return add_suite_with_tests("digest", NULL, NULL, digest_tests);
}
