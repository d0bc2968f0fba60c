/*
 * A store-level micro-benchmark, through store.h only:
 *
 *   S1  deploy latency in an environment of 10 services against one of
 *       10,000, without flushing the log (the CPU cost of the data layout)
 *       and with durable commits (the cost of fsync);
 *   S3  store_services() for an old system version against the newest, in
 *       an environment of 100 services and --versions system versions;
 *   S4  bytes on disk per system version after S3's seeding (reports
 *       without a key, each also an entry of the audit log), each
 *       database file, all of them, and the history's own without the
 *       databases of reports (audit.db, events.db);
 *   S5  the same on a store of its own whose every report carries an
 *       eventId and a sequence, so that every database is written: bytes
 *       per system version, and per report those of the audit log and of
 *       the eventIds;
 *   H1  a page of history, from the newest version and from the middle.
 *
 * Every figure is one line on standard output, "KEY VALUE UNIT", for
 * scripts; the commentary goes to standard error. Each configuration gets
 * a fresh store of its own, DIR/<configuration>/db, under one temporary
 * directory DIR (made with mkdtemp under $TMPDIR or /tmp), so that no
 * figure depends on what another part wrote. DIR is removed at the end
 * unless --keep is given.
 *
 *   store_bench [--versions N] [--quick] [--keep]
 *
 * Exits 0 when every store call succeeded, 1 when one failed (after saying
 * which), 2 on a usage error. The figures are measurements, not verdicts:
 * a figure above its target does not change the exit status.
 */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "model.h"
#include "status.h"
#include "store.h"

#define BENCH_ENVIRONMENT	"bench"
#define LOCK_TIMEOUT_MS		5000
#define S1_CACHE_MB		16	/* the configuration's default cache_mb */
#define S1_FEW_SERVICES		10
#define S1_MANY_SERVICES	10000
#define S1_RATIO_TARGET		1.2	/* median with many / median with few */
#define S1_BLOCKS		20	/* alternations of the few and the many */
#define S3_CACHE_MB		64
#define S3_SERVICES		100
/*
 * The "old" versions S3 reads. Seeding deploys the 100 services in order
 * first, so every version from S3_SERVICES on holds all of them and old and
 * new snapshots are lists of the same length.
 */
#define S3_OLD_FIRST		S3_SERVICES
#define S3_OLD_LAST		1000
#define S3_RATIO_TARGET		1.5	/* median old / median new */
#define HISTORY_PAGE		50	/* versions a page of history, as the API's default */
#define S3_RECENT_SPAN		1000	/* "recent": N among the versions just below the newest */
#define S3_PROGRESS_EVERY	100000	/* seeding deploys between reports */
#define S4_BYTES_TARGET		200.0	/* bytes on disk per system version */
#define S5_SERVICES		S3_SERVICES
#define S5_REPORTS_MIN		1000	/* S5: a tenth of S3's versions, at least this */
#define EVENT_ID_LEN		36	/* a UUID's text, as watchers commonly send */
#define VERSIONS_DEFAULT	1000000
#define VERSIONS_QUICK		20000
#define VERSIONS_MAX		100000000
#define RANDOM_SEED		UINT64_C(0x5eed0f5eed0f5eed)

/* What to run, from the command line. */
struct settings {
	uint64_t	versions;	/* S3's system versions */
	uint64_t	keyed_reports;	/* S5's reports, each with a key */
	size_t		fast_deploys;	/* S1's timed deploys without flushing */
	size_t		durable_deploys;	/* S1's timed durable deploys */
	size_t		reads;		/* S3's timed reads of each kind */
	bool		keep;		/* leave the temporary directory behind */
};

/* The durations of many operations, in nanoseconds. */
struct samples {
	uint64_t	*ns;
	size_t		 count;
	size_t		 capacity;
};

/* One S1 configuration and its own store. */
struct deploy_bench {
	const char	*label;		/* "nosync" or "durable", in the keys */
	bool		 durable;
	size_t		 services;	/* distinct services seeded */
	char		 home[PATH_MAX];
	struct store	*store;
	uint64_t	 version;	/* the last version deployed */
	struct samples	 samples;
};

/* The summary of a set of samples, in microseconds. */
struct summary {
	double	median_us;
	double	p99_us;
};

/*
 * A database file of the environment, its name in the keys, and which of
 * the figures of S4 and S5 it counts in.
 */
struct database_file {
	const char	*file;
	const char	*key;
	enum {
		FILE_HISTORY,	/* the history's own: versions, snapshots, keys */
		FILE_AUDIT,	/* the audit log: an entry a report */
		FILE_EVENTS	/* the eventIds: a record a keyed report */
	}		 kind;
};

static const struct database_file DATABASE_FILES[] = {
	{ "meta.db", "meta", FILE_HISTORY },
	{ "environments.db", "environments", FILE_HISTORY },
	{ "current.db", "current", FILE_HISTORY },
	{ "keyframes.db", "keyframes", FILE_HISTORY },
	{ "changes.db", "changes", FILE_HISTORY },
	{ "periods.db", "periods", FILE_HISTORY },
	{ "keys.db", "keys", FILE_HISTORY },
	{ "events.db", "events", FILE_EVENTS },
	{ "audit.db", "audit", FILE_AUDIT },
};
#define DATABASE_FILE_COUNT	(sizeof(DATABASE_FILES) / sizeof(DATABASE_FILES[0]))

static void	figure(double value, const char *unit, const char *key_format,
		    ...) __attribute__((format(printf, 3, 4)));
static void	figure_count(uint64_t value, const char *unit,
		    const char *key_format, ...) __attribute__((format(printf, 3, 4)));

/* Prints the usage line on standard error. */
static void
usage(void)
{
	fprintf(stderr, "usage: store_bench [--versions N] [--quick] [--keep]\n"
	    "  --versions N  S3's system versions, %d to %d (default %d;"
	    " %d with --quick)\n"
	    "  --quick       fewer operations everywhere: a smoke test\n"
	    "  --keep        leave the temporary directory behind\n",
	    S3_OLD_LAST, VERSIONS_MAX, VERSIONS_DEFAULT, VERSIONS_QUICK);
}

/* Parses a decimal count in [min, max]; false on anything else. */
static bool
parse_count(const char *text, uint64_t min, uint64_t max, uint64_t *out)
{
	unsigned long long value;
	char *end;

	if (text == NULL || *text < '0' || *text > '9')
		return false;
	errno = 0;
	value = strtoull(text, &end, 10);
	if (errno != 0 || *end != '\0' || value < min || value > max)
		return false;
	*out = value;
	return true;
}

/* Fills settings from the command line; false (after the usage) on an error. */
static bool
parse_arguments(int argc, char **argv, struct settings *settings)
{
	bool quick = false, versions_given = false;

	memset(settings, 0, sizeof(*settings));
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--versions") == 0) {
			if (!parse_count(argv[++i], S3_OLD_LAST, VERSIONS_MAX,
			    &settings->versions)) {
				usage();
				return false;
			}
			versions_given = true;
		} else if (strcmp(argv[i], "--quick") == 0)
			quick = true;
		else if (strcmp(argv[i], "--keep") == 0)
			settings->keep = true;
		else {
			usage();
			return false;
		}
	}
	if (!versions_given)
		settings->versions = quick ? VERSIONS_QUICK : VERSIONS_DEFAULT;
	settings->fast_deploys = quick ? 2000 : 20000;
	settings->durable_deploys = quick ? 50 : 500;
	settings->reads = quick ? 200 : 2000;
	settings->keyed_reports = settings->versions / 10 > S5_REPORTS_MIN ?
	    settings->versions / 10 : S5_REPORTS_MIN;
	return true;
}

/* The monotonic clock, in nanoseconds. */
static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000 + (uint64_t)ts.tv_nsec;
}

/* Seconds elapsed since start_ns. */
static double
seconds_since(uint64_t start_ns)
{
	return (double)(now_ns() - start_ns) / 1e9;
}

/* The next number of a splitmix64 sequence: reproducible runs. */
static uint64_t
next_random(uint64_t *state)
{
	uint64_t z = (*state += UINT64_C(0x9e3779b97f4a7c15));

	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

/* A random number in [0, bound); bound is far below 2^64, so the bias is nil. */
static uint64_t
random_below(uint64_t *state, uint64_t bound)
{
	return next_random(state) % bound;
}

/* Builds the key from key_format and prints "KEY VALUE UNIT" on stdout. */
static void
print_figure(const char *value, const char *unit, const char *key_format,
    va_list ap) __attribute__((format(printf, 3, 0)));

static void
print_figure(const char *value, const char *unit, const char *key_format,
    va_list ap)
{
	char key[128];

	vsnprintf(key, sizeof(key), key_format, ap);
	printf("%s %s %s\n", key, value, unit);
}

/* Prints a measured figure with two decimals. */
static void
figure(double value, const char *unit, const char *key_format, ...)
{
	char text[64];
	va_list ap;

	snprintf(text, sizeof(text), "%.2f", value);
	va_start(ap, key_format);
	print_figure(text, unit, key_format, ap);
	va_end(ap);
}

/* Prints a counted figure (bytes, versions) as an integer. */
static void
figure_count(uint64_t value, const char *unit, const char *key_format, ...)
{
	char text[32];
	va_list ap;

	snprintf(text, sizeof(text), "%" PRIu64, value);
	va_start(ap, key_format);
	print_figure(text, unit, key_format, ap);
	va_end(ap);
}

/* Makes room for capacity samples; STATUS_SYSTEM when out of memory. */
static enum status
samples_init(struct samples *samples, size_t capacity)
{
	memset(samples, 0, sizeof(*samples));
	if ((samples->ns = calloc(capacity, sizeof(*samples->ns))) == NULL) {
		fprintf(stderr, "out of memory for %zu samples\n", capacity);
		return STATUS_SYSTEM;
	}
	samples->capacity = capacity;
	return STATUS_OK;
}

/* Records one duration; the caller never exceeds the capacity it asked for. */
static void
samples_add(struct samples *samples, uint64_t ns)
{
	if (samples->count < samples->capacity)
		samples->ns[samples->count++] = ns;
}

/* Releases the samples; a zeroed struct is accepted. */
static void
samples_free(struct samples *samples)
{
	free(samples->ns);
	memset(samples, 0, sizeof(*samples));
}

/* qsort's order for uint64_t: ascending. */
static int
compare_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

/*
 * The median and the 99th percentile (nearest rank) of at least one
 * sample. Sorts the samples in place.
 */
static struct summary
summarize(struct samples *samples)
{
	struct summary summary;
	size_t n = samples->count, rank;

	qsort(samples->ns, n, sizeof(*samples->ns), compare_u64);
	if (n % 2 == 1)
		summary.median_us = (double)samples->ns[n / 2] / 1e3;
	else
		summary.median_us = ((double)samples->ns[n / 2 - 1] +
		    (double)samples->ns[n / 2]) / 2e3;
	rank = (n * 99 + 99) / 100;	/* ceil(0.99 n), at least 1 */
	summary.p99_us = (double)samples->ns[rank - 1] / 1e3;
	return summary;
}

/* Joins parent and name into out; STATUS_SYSTEM when it does not fit. */
static enum status
join_path(char *out, size_t size, const char *parent, const char *name)
{
	int n = snprintf(out, size, "%s/%s", parent, name);

	if (n < 0 || (size_t)n >= size) {
		fprintf(stderr, "path too long: %s/%s\n", parent, name);
		return STATUS_SYSTEM;
	}
	return STATUS_OK;
}

/* Makes the directory path (mode 0700); STATUS_SYSTEM after saying why not. */
static enum status
make_directory(const char *path)
{
	if (mkdir(path, 0700) != 0) {
		fprintf(stderr, "mkdir %s: %s\n", path, strerror(errno));
		return STATUS_SYSTEM;
	}
	return STATUS_OK;
}

/* Makes the fresh temporary directory of this run into root. */
static enum status
make_root(char *root, size_t size)
{
	const char *tmp = getenv("TMPDIR");
	enum status status;

	if (tmp == NULL || *tmp == '\0')
		tmp = "/tmp";
	if ((status = join_path(root, size, tmp, "store_bench.XXXXXX")) !=
	    STATUS_OK)
		return status;
	if (mkdtemp(root) == NULL) {
		fprintf(stderr, "mkdtemp %s: %s\n", root, strerror(errno));
		root[0] = '\0';
		return STATUS_SYSTEM;
	}
	return STATUS_OK;
}

/* Makes root/name and root/name/db, whose path goes to home. */
static enum status
make_home(const char *root, const char *name, char *home, size_t size)
{
	char part[PATH_MAX];
	enum status status;

	if ((status = join_path(part, sizeof(part), root, name)) != STATUS_OK ||
	    (status = make_directory(part)) != STATUS_OK ||
	    (status = join_path(home, size, part, "db")) != STATUS_OK)
		return status;
	return make_directory(home);
}

/* Removes path and everything under it; STATUS_SYSTEM after the first failure. */
static enum status
remove_tree(const char *path)
{
	struct stat st;
	struct dirent *entry;
	DIR *dir = NULL;
	char child[PATH_MAX];
	enum status status = STATUS_OK;

	if (lstat(path, &st) != 0) {
		fprintf(stderr, "lstat %s: %s\n", path, strerror(errno));
		return STATUS_SYSTEM;
	}
	if (!S_ISDIR(st.st_mode)) {
		if (unlink(path) != 0) {
			fprintf(stderr, "unlink %s: %s\n", path, strerror(errno));
			return STATUS_SYSTEM;
		}
		return STATUS_OK;
	}
	if ((dir = opendir(path)) == NULL) {
		fprintf(stderr, "opendir %s: %s\n", path, strerror(errno));
		return STATUS_SYSTEM;
	}
	while (status == STATUS_OK && (entry = readdir(dir)) != NULL) {
		if (strcmp(entry->d_name, ".") == 0 ||
		    strcmp(entry->d_name, "..") == 0)
			continue;
		if ((status = join_path(child, sizeof(child), path,
		    entry->d_name)) == STATUS_OK)
			status = remove_tree(child);
	}
	closedir(dir);
	if (status == STATUS_OK && rmdir(path) != 0) {
		fprintf(stderr, "rmdir %s: %s\n", path, strerror(errno));
		status = STATUS_SYSTEM;
	}
	return status;
}

/* Opens the store in home as the only process (STORE_RECOVER). */
static enum status
open_store(const char *home, unsigned cache_mb, bool durable,
    struct store **out)
{
	struct store_options options;
	enum status status;

	memset(&options, 0, sizeof(options));
	options.home = home;
	options.role = STORE_RECOVER;
	options.cache_mb = cache_mb;
	options.lock_timeout_ms = LOCK_TIMEOUT_MS;
	options.durable = durable;
	if ((status = store_open(&options, out)) != STATUS_OK)
		fprintf(stderr, "store_open(%s, cache %u MiB, %s): %s\n", home,
		    cache_mb, durable ? "durable" : "nosync", status_name(status));
	return status;
}

/* Writes "service-NNNNN" into name; returns its length. */
static size_t
service_name(char *name, size_t size, size_t service)
{
	int n = snprintf(name, size, "service-%05zu", service);

	return n < 0 ? 0 : (size_t)n < size ? (size_t)n : size - 1;
}

/*
 * Fills key as a careful watcher's report of version: an eventId of
 * EVENT_ID_LEN bytes shaped like a random UUID, unique because its last
 * field is the version, and the version as its sequence (versions only
 * grow in this benchmark, so no report is stale).
 */
static void
report_key(struct report_key *key, uint64_t version, uint64_t *rng)
{
	uint64_t a = next_random(rng), b = next_random(rng);

	memset(key, 0, sizeof(*key));
	snprintf(key->event_id, sizeof(key->event_id), "%08" PRIx64 "-%04"
	    PRIx64 "-4%03" PRIx64 "-%" PRIx64 "%03" PRIx64 "-%012" PRIx64,
	    a >> 32, (a >> 16) & 0xffff, a & 0xfff, 8 + (b >> 62),
	    b & 0xfff, version & UINT64_C(0xffffffffffff));
	key->event_id_len = strlen(key->event_id);
	key->has_event_id = true;
	key->sequence = version;
	key->has_sequence = true;
}

/*
 * Deploys version of service number `service` to the bench environment,
 * with key (NULL: a report without one), and checks that it made a new
 * system version: every deploy of this benchmark is a change. *elapsed_ns
 * (unless NULL) gets the time store_deploy() took, and nothing else is
 * inside the timed span. On failure, says what failed.
 */
static enum status
deploy_change(struct store *store, size_t service, uint64_t version,
    const struct report_key *key, uint64_t *elapsed_ns)
{
	struct deploy deploy;
	struct deploy_result result;
	uint64_t start;
	enum status status;

	memset(&deploy, 0, sizeof(deploy));
	snprintf(deploy.environment, sizeof(deploy.environment), "%s",
	    BENCH_ENVIRONMENT);
	deploy.name_len = service_name(deploy.name, sizeof(deploy.name),
	    service);
	deploy.version = version;
	if (key != NULL)
		deploy.key = *key;
	start = now_ns();
	status = store_deploy(store, &deploy, &result);
	if (elapsed_ns != NULL)
		*elapsed_ns = now_ns() - start;
	if (status != STATUS_OK) {
		fprintf(stderr, "store_deploy(%s, %s, version %" PRIu64 "): %s\n",
		    deploy.environment, deploy.name, version,
		    status_name(status));
		return status;
	}
	if (!result.changed || result.outcome != OUTCOME_APPLIED) {
		fprintf(stderr, "store_deploy(%s, %s, version %" PRIu64 "): "
		    "not applied (outcome %d), though the version is new\n",
		    deploy.environment, deploy.name, version,
		    (int)result.outcome);
		return STATUS_SYSTEM;
	}
	return STATUS_OK;
}

/* Deploys version 1 of services 0 to count - 1, each a new system version. */
static enum status
seed_services(struct store *store, size_t count)
{
	enum status status = STATUS_OK;

	for (size_t i = 0; i < count && status == STATUS_OK; i++)
		status = deploy_change(store, i, 1, NULL, NULL);
	return status;
}

/*
 * Deploys count changes, each a new version (after *version, which it
 * advances) of a random one of services; records their times in samples
 * when samples is not NULL.
 */
static enum status
deploy_random_changes(struct store *store, size_t services, size_t count,
    uint64_t *version, uint64_t *rng, struct samples *samples)
{
	enum status status = STATUS_OK;
	uint64_t elapsed;

	for (size_t i = 0; i < count && status == STATUS_OK; i++) {
		status = deploy_change(store, (size_t)random_below(rng, services),
		    ++*version, NULL, &elapsed);
		if (status == STATUS_OK && samples != NULL)
			samples_add(samples, elapsed);
	}
	return status;
}

/*
 * S1, one configuration, in a fresh store DIR/s1-<label>-<services>/db:
 * seeds bench->services services without flushing, reopens the store with
 * the durability of the run (so both runs start from a reopened store),
 * warms it up with a tenth of `deploys` untimed changes, and makes room
 * for `deploys` samples. On failure bench_close() still releases it all.
 */
static enum status
bench_prepare(const char *root, struct deploy_bench *bench, size_t deploys,
    uint64_t *rng)
{
	char name[64];
	enum status status;

	snprintf(name, sizeof(name), "s1-%s-%zu", bench->label, bench->services);
	if ((status = make_home(root, name, bench->home,
	    sizeof(bench->home))) != STATUS_OK ||
	    (status = open_store(bench->home, S1_CACHE_MB, false,
	    &bench->store)) != STATUS_OK ||
	    (status = seed_services(bench->store, bench->services)) != STATUS_OK)
		return status;
	store_close(bench->store);
	bench->store = NULL;
	bench->version = 1;
	if ((status = open_store(bench->home, S1_CACHE_MB, bench->durable,
	    &bench->store)) != STATUS_OK ||
	    (status = deploy_random_changes(bench->store, bench->services,
	    deploys / 10, &bench->version, rng, NULL)) != STATUS_OK)
		return status;
	return samples_init(&bench->samples, deploys);
}

/* Times count more deploys of the configuration, each changing a random service. */
static enum status
bench_deploy(struct deploy_bench *bench, size_t count, uint64_t *rng)
{
	return deploy_random_changes(bench->store, bench->services, count,
	    &bench->version, rng, &bench->samples);
}

/* Prints the median and p99 of the configuration; returns the median. */
static double
bench_report(struct deploy_bench *bench)
{
	struct summary summary = summarize(&bench->samples);

	figure(summary.median_us, "us", "s1_%s_deploy_median_us_%zu",
	    bench->label, bench->services);
	figure(summary.p99_us, "us", "s1_%s_deploy_p99_us_%zu", bench->label,
	    bench->services);
	fprintf(stderr, "S1 %-7s %5zu services: median %8.1f us, p99 %8.1f us "
	    "over %zu deploys\n", bench->label, bench->services,
	    summary.median_us, summary.p99_us, bench->samples.count);
	return summary.median_us;
}

/* Closes the configuration's store and frees its samples; idempotent. */
static void
bench_close(struct deploy_bench *bench)
{
	store_close(bench->store);
	bench->store = NULL;
	samples_free(&bench->samples);
}

/*
 * S1, one durability: deploy latency with S1_FEW_SERVICES services against
 * S1_MANY_SERVICES, each in its own store. The two are timed in
 * alternating blocks of a twentieth of `deploys`: long enough for each to
 * run on its own warm caches, short enough that a burst of outside load
 * hits both rather than one. Prints the ratio of the medians.
 */
static enum status
run_deploy_latency(const char *root, const char *label, bool durable,
    size_t deploys, uint64_t *rng)
{
	struct deploy_bench benches[2];
	size_t block = deploys / S1_BLOCKS > 0 ? deploys / S1_BLOCKS : 1, count;
	uint64_t start = now_ns();
	double few_us, many_us;
	enum status status = STATUS_OK;

	memset(benches, 0, sizeof(benches));
	for (size_t b = 0; b < 2; b++) {
		benches[b].label = label;
		benches[b].durable = durable;
		benches[b].services = b == 0 ? S1_FEW_SERVICES : S1_MANY_SERVICES;
	}
	for (size_t b = 0; b < 2 && status == STATUS_OK; b++)
		status = bench_prepare(root, &benches[b], deploys, rng);
	for (size_t done = 0; done < deploys && status == STATUS_OK;
	    done += count) {
		count = deploys - done < block ? deploys - done : block;
		for (size_t b = 0; b < 2 && status == STATUS_OK; b++)
			status = bench_deploy(&benches[b], count, rng);
	}
	if (status != STATUS_OK)
		goto done;
	few_us = bench_report(&benches[0]);
	many_us = bench_report(&benches[1]);
	figure(many_us / few_us, "x", "s1_%s_deploy_ratio_%d_over_%d", label,
	    S1_MANY_SERVICES, S1_FEW_SERVICES);
	fprintf(stderr, "S1 %-7s ratio of medians %d/%d: %.2f (target, for "
	    "nosync: at most %.1f); %.1f s with seeding\n", label,
	    S1_MANY_SERVICES, S1_FEW_SERVICES, many_us / few_us,
	    S1_RATIO_TARGET, seconds_since(start));
done:
	for (size_t b = 0; b < 2; b++)
		bench_close(&benches[b]);
	return status;
}

/*
 * S1: deploy latency without flushing (the data layout's CPU cost, the
 * figure the target is about), then durable (fsync at every commit, fewer
 * deploys).
 */
static enum status
run_s1(const char *root, const struct settings *settings, uint64_t *rng)
{
	enum status status;

	fprintf(stderr, "S1: store_deploy() latency, every call a change, "
	    "cache %d MiB; %d services against %d, in alternating blocks\n",
	    S1_CACHE_MB, S1_FEW_SERVICES, S1_MANY_SERVICES);
	if ((status = run_deploy_latency(root, "nosync", false,
	    settings->fast_deploys, rng)) != STATUS_OK)
		return status;
	return run_deploy_latency(root, "durable", true,
	    settings->durable_deploys, rng);
}

/*
 * S3's seeding: the S3_SERVICES services in order, then random changes
 * until the environment has `versions` system versions; each service's
 * current version goes to current_versions. Reports progress, and
 * checkpoints (removing the logs no longer needed, as the maintainer
 * does) every S3_PROGRESS_EVERY deploys.
 */
static enum status
seed_history(struct store *store, uint64_t versions, uint64_t *rng,
    uint64_t current_versions[S3_SERVICES])
{
	uint64_t start = now_ns(), version;
	size_t service;
	enum status status;

	if ((status = seed_services(store, S3_SERVICES)) != STATUS_OK)
		return status;
	for (size_t i = 0; i < S3_SERVICES; i++)
		current_versions[i] = 1;
	for (version = S3_SERVICES + 1; version <= versions; version++) {
		service = (size_t)random_below(rng, S3_SERVICES);
		if ((status = deploy_change(store, service, version, NULL,
		    NULL)) != STATUS_OK)
			return status;
		current_versions[service] = version;
		if (version % S3_PROGRESS_EVERY != 0)
			continue;
		if ((status = store_checkpoint(store)) != STATUS_OK) {
			fprintf(stderr, "store_checkpoint: %s\n",
			    status_name(status));
			return status;
		}
		fprintf(stderr, "S3 seeding: %" PRIu64 " versions, %.1f s, "
		    "%.0f deploys/s\n", version, seconds_since(start),
		    (double)version / seconds_since(start));
	}
	return STATUS_OK;
}

/*
 * Reads the snapshot of system_version into list, checking that it holds
 * every service; *elapsed_ns gets the time store_services() took.
 */
static enum status
read_snapshot(struct store *store, uint64_t system_version,
    struct service_list *list, uint64_t *elapsed_ns)
{
	uint64_t start = now_ns();
	enum status status;

	status = store_services(store, BENCH_ENVIRONMENT, system_version, list);
	*elapsed_ns = now_ns() - start;
	if (status != STATUS_OK) {
		fprintf(stderr, "store_services(%s, %" PRIu64 "): %s\n",
		    BENCH_ENVIRONMENT, system_version, status_name(status));
		return status;
	}
	if (list->count != S3_SERVICES) {
		fprintf(stderr, "store_services(%s, %" PRIu64 "): %zu services, "
		    "expected %d\n", BENCH_ENVIRONMENT, system_version,
		    list->count, S3_SERVICES);
		return STATUS_SYSTEM;
	}
	return STATUS_OK;
}

/*
 * H1: a page of history (HISTORY_PAGE versions, newest first) from the
 * newest version and from the middle of the history: store_history(),
 * median and p99 over reads pages of each, checked to be whole pages.
 */
static enum status
time_history_pages(struct store *store, uint64_t current, size_t reads)
{
	struct change_record *page = calloc(HISTORY_PAGE, sizeof(*page));
	struct samples newest = { NULL, 0, 0 }, deep = { NULL, 0, 0 };
	struct summary newest_summary, deep_summary;
	enum status status;
	size_t count;
	bool more;

	if (page == NULL)
		return STATUS_SYSTEM;
	if ((status = samples_init(&newest, reads)) != STATUS_OK ||
	    (status = samples_init(&deep, reads)) != STATUS_OK)
		goto done;
	for (size_t i = 0; i < reads; i++) {
		for (int which = 0; which < 2; which++) {
			uint64_t before = which == 0 ? 0 : current / 2;
			uint64_t start = now_ns();

			status = store_history(store, BENCH_ENVIRONMENT, before,
			    HISTORY_PAGE, page, &count, &more);
			samples_add(which == 0 ? &newest : &deep, now_ns() - start);
			if (status == STATUS_OK && (count != HISTORY_PAGE || !more ||
			    page[0].system_version != (which == 0 ? current :
			    before - 1)))
				status = STATUS_SYSTEM;
			if (status != STATUS_OK) {
				fprintf(stderr, "store_history(before %" PRIu64
				    "): %s, %zu versions\n", before,
				    status_name(status), count);
				goto done;
			}
		}
	}
	newest_summary = summarize(&newest);
	deep_summary = summarize(&deep);
	figure(newest_summary.median_us, "us", "h1_history_newest_page_median_us");
	figure(newest_summary.p99_us, "us", "h1_history_newest_page_p99_us");
	figure(deep_summary.median_us, "us", "h1_history_deep_page_median_us");
	figure(deep_summary.p99_us, "us", "h1_history_deep_page_p99_us");
	fprintf(stderr, "H1 store_history(), %d versions a page, %zu reads "
	    "each: newest page median %.1f us; page below %" PRIu64 " median "
	    "%.1f us\n", HISTORY_PAGE, reads, newest_summary.median_us,
	    current / 2, deep_summary.median_us);
done:
	samples_free(&newest);
	samples_free(&deep);
	free(page);
	return status;
}

/*
 * Checks that the newest snapshot holds, for every service, the version
 * seeding last gave it: the reads S3 times read the right thing.
 */
static enum status
check_newest(struct store *store, uint64_t current,
    const uint64_t current_versions[S3_SERVICES])
{
	struct service_list list;
	char name[32];
	uint64_t elapsed;
	size_t len;
	enum status status;

	service_list_init(&list);
	if ((status = read_snapshot(store, current, &list, &elapsed)) !=
	    STATUS_OK)
		goto done;
	for (size_t i = 0; i < S3_SERVICES; i++) {
		len = service_name(name, sizeof(name), i);
		if (list.items[i].name_len != len ||
		    memcmp(service_list_name(&list, i), name, len) != 0 ||
		    list.items[i].version != current_versions[i]) {
			fprintf(stderr, "store_services(%s, %" PRIu64 "): entry "
			    "%zu is not %s at version %" PRIu64 "\n",
			    BENCH_ENVIRONMENT, current, i, name,
			    current_versions[i]);
			status = STATUS_SYSTEM;
			break;
		}
	}
done:
	service_list_free(&list);
	return status;
}

/*
 * S3's timing: `reads` rounds of store_services() calls, interleaved so
 * that all see the same cache and the same drift, after a tenth as many
 * untimed rounds: a random old version in [S3_OLD_FIRST, S3_OLD_LAST], the
 * newest and a recent one (among the S3_RECENT_SPAN below the newest).
 * Then as many rounds of a deep version (anywhere from S3_OLD_FIRST up to
 * the recent ones: in a long history each under a keyframe that no read
 * before it used, so none is in the process's keyframe cache) and the
 * newest, apart, so that the deep reads' cold pages do not weigh on the
 * first figures. Prints the medians, p99s and their ratios.
 */
static enum status
time_snapshots(struct store *store, uint64_t current, size_t reads,
    uint64_t *rng)
{
	struct service_list list;
	struct samples old_samples = { NULL, 0, 0 }, new_samples = { NULL, 0, 0 };
	struct samples recent_samples = { NULL, 0, 0 };
	struct samples deep_samples = { NULL, 0, 0 };
	struct samples deep_new_samples = { NULL, 0, 0 };
	struct summary old_summary, new_summary, recent_summary, deep_summary;
	struct summary deep_new_summary;
	uint64_t old_version, old_ns, new_ns, recent_ns, deep_ns;
	size_t warmup = reads / 10;
	enum status status;

	service_list_init(&list);
	if ((status = samples_init(&old_samples, reads)) != STATUS_OK ||
	    (status = samples_init(&new_samples, reads)) != STATUS_OK ||
	    (status = samples_init(&recent_samples, reads)) != STATUS_OK ||
	    (status = samples_init(&deep_samples, reads)) != STATUS_OK ||
	    (status = samples_init(&deep_new_samples, reads)) != STATUS_OK)
		goto done;
	for (size_t i = 0; i < warmup + reads; i++) {
		old_version = S3_OLD_FIRST +
		    random_below(rng, S3_OLD_LAST - S3_OLD_FIRST + 1);
		if ((status = read_snapshot(store, old_version, &list,
		    &old_ns)) != STATUS_OK ||
		    (status = read_snapshot(store, current, &list, &new_ns)) !=
		    STATUS_OK ||
		    (status = read_snapshot(store, current - 1 -
		    random_below(rng, S3_RECENT_SPAN), &list, &recent_ns)) !=
		    STATUS_OK)
			goto done;
		if (i >= warmup) {
			samples_add(&old_samples, old_ns);
			samples_add(&new_samples, new_ns);
			samples_add(&recent_samples, recent_ns);
		}
	}
	for (size_t i = 0; i < warmup + reads; i++) {
		if ((status = read_snapshot(store, S3_OLD_FIRST +
		    random_below(rng, current - S3_RECENT_SPAN - S3_OLD_FIRST),
		    &list, &deep_ns)) != STATUS_OK ||
		    (status = read_snapshot(store, current, &list, &new_ns)) !=
		    STATUS_OK)
			goto done;
		if (i >= warmup) {
			samples_add(&deep_samples, deep_ns);
			samples_add(&deep_new_samples, new_ns);
		}
	}
	old_summary = summarize(&old_samples);
	new_summary = summarize(&new_samples);
	recent_summary = summarize(&recent_samples);
	deep_summary = summarize(&deep_samples);
	deep_new_summary = summarize(&deep_new_samples);
	figure(old_summary.median_us, "us", "s3_services_old_median_us");
	figure(old_summary.p99_us, "us", "s3_services_old_p99_us");
	figure(new_summary.median_us, "us", "s3_services_new_median_us");
	figure(new_summary.p99_us, "us", "s3_services_new_p99_us");
	figure(recent_summary.median_us, "us", "s3_services_recent_median_us");
	figure(recent_summary.p99_us, "us", "s3_services_recent_p99_us");
	figure(old_summary.median_us / new_summary.median_us, "x",
	    "s3_services_ratio_old_over_new");
	figure(old_summary.median_us / recent_summary.median_us, "x",
	    "s3_services_ratio_old_over_recent");
	figure(deep_summary.median_us, "us", "s3_services_deep_median_us");
	figure(deep_summary.p99_us, "us", "s3_services_deep_p99_us");
	figure(deep_new_summary.median_us, "us",
	    "s3_services_new_beside_deep_median_us");
	figure(deep_summary.median_us / deep_new_summary.median_us, "x",
	    "s3_services_ratio_deep_over_new");
	fprintf(stderr, "S3 store_services(), %zu reads each: old (N in "
	    "%d..%d) median %.1f us, p99 %.1f us; newest (N = %" PRIu64 ", "
	    "the current map) median %.1f us, p99 %.1f us; recent (N in the "
	    "%d below the newest) median %.1f us; deep (N anywhere below "
	    "those) median %.1f us; ratio old/newest %.2f (target: at most "
	    "%.1f), old/recent %.2f, deep/newest %.2f\n", reads, S3_OLD_FIRST,
	    S3_OLD_LAST, old_summary.median_us, old_summary.p99_us, current,
	    new_summary.median_us, new_summary.p99_us, S3_RECENT_SPAN,
	    recent_summary.median_us, deep_summary.median_us,
	    old_summary.median_us / new_summary.median_us, S3_RATIO_TARGET,
	    old_summary.median_us / recent_summary.median_us,
	    deep_summary.median_us / deep_new_summary.median_us);
done:
	service_list_free(&list);
	samples_free(&old_samples);
	samples_free(&new_samples);
	samples_free(&recent_samples);
	samples_free(&deep_samples);
	samples_free(&deep_new_samples);
	return status;
}

/*
 * S4 and S5 (prefix "s4" or "s5" in the keys, label in the commentary):
 * the size of each database file in home (not the __db.* regions nor the
 * log.* files), both as st_size (the file's length) and as st_blocks *
 * 512 (what is allocated on disk); their total per system version, with
 * every file and with the history's own (without the audit log and the
 * eventIds); and per report, the audit log's and, when the reports were
 * keyed, the eventIds'. The caller checkpoints first, so that every page
 * is in the files.
 */
static enum status
report_disk_usage(const char *home, const char *prefix, const char *label,
    uint64_t versions, uint64_t reports, bool keyed)
{
	char path[PATH_MAX];
	struct stat st;
	uint64_t size[3] = { 0, 0, 0 }, allocated[3] = { 0, 0, 0 };
	uint64_t total_size, total_allocated, file_allocated;
	enum status status;

	fprintf(stderr, "%s: database files after a checkpoint; size = "
	    "st_size, allocated = st_blocks * 512\n", label);
	for (size_t i = 0; i < DATABASE_FILE_COUNT; i++) {
		if ((status = join_path(path, sizeof(path), home,
		    DATABASE_FILES[i].file)) != STATUS_OK)
			return status;
		if (stat(path, &st) != 0) {
			fprintf(stderr, "stat %s: %s\n", path, strerror(errno));
			return STATUS_SYSTEM;
		}
		file_allocated = (uint64_t)st.st_blocks * 512;
		size[DATABASE_FILES[i].kind] += (uint64_t)st.st_size;
		allocated[DATABASE_FILES[i].kind] += file_allocated;
		figure_count((uint64_t)st.st_size, "bytes", "%s_%s_db_size",
		    prefix, DATABASE_FILES[i].key);
		figure_count(file_allocated, "bytes", "%s_%s_db_allocated",
		    prefix, DATABASE_FILES[i].key);
		fprintf(stderr, "%s %-16s size %12jd bytes, allocated %12"
		    PRIu64 " bytes, %6.1f bytes per version, %6.1f per report\n",
		    label, DATABASE_FILES[i].file, (intmax_t)st.st_size,
		    file_allocated, (double)st.st_size / (double)versions,
		    (double)st.st_size / (double)reports);
	}
	total_size = size[FILE_HISTORY] + size[FILE_AUDIT] + size[FILE_EVENTS];
	total_allocated = allocated[FILE_HISTORY] + allocated[FILE_AUDIT] +
	    allocated[FILE_EVENTS];
	figure_count(versions, "versions", "%s_system_versions", prefix);
	figure_count(reports, "reports", "%s_reports", prefix);
	figure_count(total_size, "bytes", "%s_total_size", prefix);
	figure_count(total_allocated, "bytes", "%s_total_allocated", prefix);
	figure((double)total_size / (double)versions, "bytes",
	    "%s_size_per_version", prefix);
	figure((double)total_allocated / (double)versions, "bytes",
	    "%s_allocated_per_version", prefix);
	figure_count(size[FILE_HISTORY], "bytes", "%s_history_size", prefix);
	figure((double)size[FILE_HISTORY] / (double)versions, "bytes",
	    "%s_history_size_per_version", prefix);
	figure((double)allocated[FILE_HISTORY] / (double)versions, "bytes",
	    "%s_history_allocated_per_version", prefix);
	figure((double)size[FILE_AUDIT] / (double)reports, "bytes",
	    "%s_audit_size_per_report", prefix);
	figure((double)allocated[FILE_AUDIT] / (double)reports, "bytes",
	    "%s_audit_allocated_per_report", prefix);
	fprintf(stderr, "%s per system version: %.1f bytes (size), %.1f bytes "
	    "(allocated) with every file; the history's own, without "
	    "audit.db and events.db: %.1f bytes (size), %.1f (allocated); "
	    "target: at most %.0f\n", label,
	    (double)total_size / (double)versions,
	    (double)total_allocated / (double)versions,
	    (double)size[FILE_HISTORY] / (double)versions,
	    (double)allocated[FILE_HISTORY] / (double)versions,
	    S4_BYTES_TARGET);
	fprintf(stderr, "%s per report: audit.db %.1f bytes (size), %.1f "
	    "(allocated)\n", label, (double)size[FILE_AUDIT] / (double)reports,
	    (double)allocated[FILE_AUDIT] / (double)reports);
	if (!keyed)
		return STATUS_OK;
	figure((double)size[FILE_EVENTS] / (double)reports, "bytes",
	    "%s_events_size_per_report", prefix);
	figure((double)allocated[FILE_EVENTS] / (double)reports, "bytes",
	    "%s_events_allocated_per_report", prefix);
	fprintf(stderr, "%s per report: events.db %.1f bytes (size), %.1f "
	    "(allocated)\n", label,
	    (double)size[FILE_EVENTS] / (double)reports,
	    (double)allocated[FILE_EVENTS] / (double)reports);
	return STATUS_OK;
}

/*
 * S3 and S4 on one fresh store, DIR/s3/db, with a cache of S3_CACHE_MB:
 * seeds settings->versions system versions without flushing, checks the
 * newest snapshot, checkpoints, times the snapshot reads and reports the
 * bytes on disk.
 */
static enum status
run_s3_s4(const char *root, const struct settings *settings, uint64_t *rng)
{
	char home[PATH_MAX];
	struct store *store = NULL;
	struct environment_state state;
	uint64_t current_versions[S3_SERVICES], current, start = now_ns();
	double seconds;
	enum status status;

	fprintf(stderr, "S3: %d services, %" PRIu64 " system versions, "
	    "cache %d MiB; seeding without flushing\n", S3_SERVICES,
	    settings->versions, S3_CACHE_MB);
	if ((status = make_home(root, "s3", home, sizeof(home))) != STATUS_OK ||
	    (status = open_store(home, S3_CACHE_MB, false, &store)) !=
	    STATUS_OK ||
	    (status = seed_history(store, settings->versions, rng,
	    current_versions)) != STATUS_OK)
		goto done;
	seconds = seconds_since(start);
	figure_count(settings->versions, "versions", "s3_system_versions");
	figure(seconds, "s", "s3_seed_seconds");
	figure((double)settings->versions / seconds, "deploys/s",
	    "s3_seed_rate");
	fprintf(stderr, "S3 seeded %" PRIu64 " versions in %.1f s (%.0f "
	    "deploys/s)\n", settings->versions, seconds,
	    (double)settings->versions / seconds);

	if ((status = store_current(store, BENCH_ENVIRONMENT, &state)) !=
	    STATUS_OK) {
		fprintf(stderr, "store_current(%s): %s\n", BENCH_ENVIRONMENT,
		    status_name(status));
		goto done;
	}
	current = state.system_version;
	if (current != settings->versions) {
		fprintf(stderr, "store_current(%s): %" PRIu64 ", expected %"
		    PRIu64 "\n", BENCH_ENVIRONMENT, current, settings->versions);
		status = STATUS_SYSTEM;
		goto done;
	}
	if ((status = check_newest(store, current, current_versions)) !=
	    STATUS_OK)
		goto done;
	if ((status = store_checkpoint(store)) != STATUS_OK) {
		fprintf(stderr, "store_checkpoint: %s\n", status_name(status));
		goto done;
	}
	if ((status = time_history_pages(store, current, settings->reads)) !=
	    STATUS_OK)
		goto done;
	if ((status = time_snapshots(store, current, settings->reads, rng)) !=
	    STATUS_OK)
		goto done;
	fprintf(stderr, "S4: S3's store; its %" PRIu64 " reports were sent "
	    "with a name and a version, no key nor metadata, each a change "
	    "and an entry of the audit log\n", current);
	status = report_disk_usage(home, "s4", "S4", current, current, false);
done:
	store_close(store);
	return status;
}

/*
 * S5 on one fresh store, DIR/s5/db, with a cache of S3_CACHE_MB: the
 * S5_SERVICES services in order, then random changes, settings->
 * keyed_reports reports in all, each with an eventId and a sequence
 * (report_key()) and each a change, without flushing; then a checkpoint
 * and the bytes on disk, so that every database of reports is measured.
 */
static enum status
run_s5(const char *root, const struct settings *settings, uint64_t *rng)
{
	char home[PATH_MAX];
	struct store *store = NULL;
	struct environment_state state;
	struct report_key key;
	uint64_t reports = settings->keyed_reports, start = now_ns();
	size_t service;
	enum status status;

	fprintf(stderr, "S5: %d services, %" PRIu64 " reports, each a change "
	    "with a name, a version, an eventId of %d bytes (a UUID's shape) "
	    "and a sequence, no metadata; cache %d MiB, without flushing\n",
	    S5_SERVICES, reports, EVENT_ID_LEN, S3_CACHE_MB);
	if ((status = make_home(root, "s5", home, sizeof(home))) != STATUS_OK ||
	    (status = open_store(home, S3_CACHE_MB, false, &store)) != STATUS_OK)
		goto done;
	for (uint64_t version = 1; version <= reports; version++) {
		service = version <= S5_SERVICES ? (size_t)(version - 1) :
		    (size_t)random_below(rng, S5_SERVICES);
		report_key(&key, version, rng);
		if ((status = deploy_change(store, service, version, &key,
		    NULL)) != STATUS_OK)
			goto done;
	}
	fprintf(stderr, "S5 seeded %" PRIu64 " reports in %.1f s\n", reports,
	    seconds_since(start));
	if ((status = store_current(store, BENCH_ENVIRONMENT, &state)) !=
	    STATUS_OK) {
		fprintf(stderr, "store_current(%s): %s\n", BENCH_ENVIRONMENT,
		    status_name(status));
		goto done;
	}
	if (state.system_version != reports) {
		fprintf(stderr, "store_current(%s): %" PRIu64 ", expected %"
		    PRIu64 "\n", BENCH_ENVIRONMENT, state.system_version, reports);
		status = STATUS_SYSTEM;
		goto done;
	}
	if ((status = store_checkpoint(store)) != STATUS_OK) {
		fprintf(stderr, "store_checkpoint: %s\n", status_name(status));
		goto done;
	}
	status = report_disk_usage(home, "s5", "S5", state.system_version,
	    reports, true);
done:
	store_close(store);
	return status;
}

int
main(int argc, char **argv)
{
	struct settings settings;
	char root[PATH_MAX] = "";
	uint64_t rng = RANDOM_SEED, start = now_ns();
	enum status status;

	if (!parse_arguments(argc, argv, &settings))
		return 2;
	if ((status = make_root(root, sizeof(root))) != STATUS_OK)
		goto done;
	fprintf(stderr, "store_bench in %s\n", root);
	if ((status = run_s1(root, &settings, &rng)) == STATUS_OK &&
	    (status = run_s3_s4(root, &settings, &rng)) == STATUS_OK)
		status = run_s5(root, &settings, &rng);
	figure(seconds_since(start), "s", "total_seconds");
done:
	if (root[0] != '\0' && settings.keep)
		fprintf(stderr, "kept %s\n", root);
	else if (root[0] != '\0' && remove_tree(root) != STATUS_OK)
		status = STATUS_SYSTEM;
	if (fflush(stdout) != 0) {
		fprintf(stderr, "stdout: %s\n", strerror(errno));
		status = STATUS_SYSTEM;
	}
	if (status != STATUS_OK)
		fprintf(stderr, "store_bench failed: %s\n", status_name(status));
	return status == STATUS_OK ? 0 : 1;
}
