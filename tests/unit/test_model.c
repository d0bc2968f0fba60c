/*
 * The model suite: the service list of model.c (append, name, clear,
 * free, growth past its first capacities) and service_list_diff over a
 * table of pairs of sorted lists, checking each difference and its
 * indexes.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "model.h"
#include "tests.h"

/* The service list: append, name, clear, free. */
static void
test_service_list(void)
{
	struct service_list list;
	char name[32], shown[64];
	bool ok = true;

	service_list_init(&list);
	CHECK(list.count == 0 && list.items == NULL && list.names == NULL,
	    "init");
	CHECK(service_list_append(&list, "Service A", 9, 1) &&
	    service_list_append(&list, "x\xc3\xa9y", 4, 2), "append");
	CHECK(list.count == 2 && list.items[0].name_len == 9 &&
	    memcmp(service_list_name(&list, 0), "Service A", 9) == 0 &&
	    list.items[0].version == 1 && list.items[1].name_len == 4 &&
	    memcmp(service_list_name(&list, 1), "x\xc3\xa9y", 4) == 0 &&
	    list.items[1].version == 2, "two entries: %s",
	    printable(service_list_name(&list, 1), 4, shown, sizeof(shown)));

	service_list_clear(&list);
	CHECK(list.count == 0, "clear empties");
	CHECK(service_list_append(&list, "b", 1, 3) && list.count == 1 &&
	    list.items[0].name_len == 1 &&
	    memcmp(service_list_name(&list, 0), "b", 1) == 0 &&
	    list.items[0].version == 3, "reuse after clear");

	/* past the first capacities (16 entries, 512 bytes of names) */
	service_list_clear(&list);
	for (unsigned i = 0; i < 1000; i++) {
		int n = snprintf(name, sizeof(name), "service-%04u", i);

		ok = ok && service_list_append(&list, name, (size_t)n, i);
	}
	CHECK(ok && list.count == 1000, "1000 appends: %zu", list.count);
	for (unsigned i = 0; ok && i < 1000; i++) {
		int n = snprintf(name, sizeof(name), "service-%04u", i);

		if (!CHECK(list.items[i].name_len == (size_t)n &&
		    memcmp(service_list_name(&list, i), name, (size_t)n) == 0 &&
		    list.items[i].version == i, "entry %u after growth", i))
			break;
	}
	service_list_free(&list);
	CHECK(list.count == 0 && list.items == NULL && list.names == NULL &&
	    list.capacity == 0 && list.names_capacity == 0, "free resets");
	service_list_free(&list);	/* twice is harmless */
}

/*
 * An empty name is a name of 0 bytes, even as the first entry of a new
 * list. Run in a child process: under UndefinedBehaviorSanitizer, undefined
 * behaviour aborts the process, and the rest of the run (and its summary)
 * must survive that.
 */
static void
test_service_list_empty_name(void)
{
	int wstatus = 0;
	pid_t pid;

	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid == 0) {
		struct service_list list;
		bool ok;

		service_list_init(&list);
		ok = service_list_append(&list, "", 0, 7) && list.count == 1 &&
		    list.items[0].name_len == 0 && list.items[0].version == 7 &&
		    service_list_append(&list, "a", 1, 8) && list.count == 2 &&
		    list.items[1].name_len == 1 &&
		    memcmp(service_list_name(&list, 1), "a", 1) == 0;
		service_list_free(&list);
		_exit(ok ? 0 : 1);
	}
	if (!CHECK(pid > 0, "fork: %s", strerror(errno)))
		return;
	if (!CHECK(waitpid(pid, &wstatus, 0) == pid, "waitpid: %s",
	    strerror(errno)))
		return;
	CHECK(WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == 0,
	    "appending an empty name to a new list: the child %s %d (a "
	    "sanitizer's report, if any, is on standard error)",
	    WIFEXITED(wstatus) ? "exited with" : "was killed by signal",
	    WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : WTERMSIG(wstatus));
}

#define LIST_MAX	5	/* entries of a list in a case */
#define DIFF_MAX	(2 * LIST_MAX)

/* Where a difference is expected: -1 for the side it is absent from. */
struct where {
	int	from;
	int	to;
};

static const struct diff_case {
	const char	*label;
	struct test_service from[LIST_MAX + 1];	/* a NULL name ends each */
	struct test_service to[LIST_MAX + 1];
	size_t		 count;
	struct where	 want[DIFF_MAX];
} diff_cases[] = {
	{ .label = "both empty", .count = 0 },
	{ .label = "from empty", .to = { { "a", 1 }, { "b", 2 } }, .count = 2,
	    .want = { { -1, 0 }, { -1, 1 } } },
	{ .label = "to empty", .from = { { "a", 1 }, { "b", 2 } }, .count = 2,
	    .want = { { 0, -1 }, { 1, -1 } } },
	{ .label = "identical",
	    .from = { { "a", 1 }, { "b", 2 }, { "c", 3 } },
	    .to = { { "a", 1 }, { "b", 2 }, { "c", 3 } }, .count = 0 },
	{ .label = "a changed version",
	    .from = { { "a", 1 }, { "b", 2 }, { "c", 3 } },
	    .to = { { "a", 1 }, { "b", 5 }, { "c", 3 } }, .count = 1,
	    .want = { { 1, 1 } } },
	{ .label = "a version back to 0",
	    .from = { { "a", 1 } }, .to = { { "a", 0 } }, .count = 1,
	    .want = { { 0, 0 } } },
	{ .label = "every version changed",
	    .from = { { "a", 1 }, { "b", 1 } },
	    .to = { { "a", 2 }, { "b", UINT64_C(9007199254740991) } },
	    .count = 2, .want = { { 0, 0 }, { 1, 1 } } },
	{ .label = "new at the start", .from = { { "b", 1 }, { "c", 1 } },
	    .to = { { "a", 1 }, { "b", 1 }, { "c", 1 } }, .count = 1,
	    .want = { { -1, 0 } } },
	{ .label = "gone at the start",
	    .from = { { "a", 1 }, { "b", 1 }, { "c", 1 } },
	    .to = { { "b", 1 }, { "c", 1 } }, .count = 1,
	    .want = { { 0, -1 } } },
	{ .label = "new in the middle", .from = { { "a", 1 }, { "c", 1 } },
	    .to = { { "a", 1 }, { "b", 1 }, { "c", 1 } }, .count = 1,
	    .want = { { -1, 1 } } },
	{ .label = "gone in the middle",
	    .from = { { "a", 1 }, { "b", 1 }, { "c", 1 } },
	    .to = { { "a", 1 }, { "c", 1 } }, .count = 1,
	    .want = { { 1, -1 } } },
	{ .label = "new at the end", .from = { { "a", 1 }, { "b", 1 } },
	    .to = { { "a", 1 }, { "b", 1 }, { "c", 1 } }, .count = 1,
	    .want = { { -1, 2 } } },
	{ .label = "gone at the end",
	    .from = { { "a", 1 }, { "b", 1 }, { "c", 1 } },
	    .to = { { "a", 1 }, { "b", 1 } }, .count = 1,
	    .want = { { 2, -1 } } },
	{ .label = "no name in common", .from = { { "a", 1 }, { "b", 1 } },
	    .to = { { "c", 1 }, { "d", 1 } }, .count = 4,
	    .want = { { 0, -1 }, { 1, -1 }, { -1, 0 }, { -1, 1 } } },
	{ .label = "interleaved",
	    .from = { { "a", 1 }, { "c", 1 }, { "e", 1 } },
	    .to = { { "b", 1 }, { "c", 2 }, { "d", 1 }, { "e", 1 } },
	    .count = 4,
	    .want = { { 0, -1 }, { -1, 0 }, { 1, 1 }, { -1, 2 } } },
	{ .label = "a prefix replaced by its longer name",
	    .from = { { "a", 1 } }, .to = { { "ab", 1 } }, .count = 2,
	    .want = { { 0, -1 }, { -1, 0 } } },
	{ .label = "a prefix added before its longer name",
	    .from = { { "ab", 1 } }, .to = { { "a", 1 }, { "ab", 1 } },
	    .count = 1, .want = { { -1, 0 } } },
	{ .label = "prefixes, '-' before 'b'",
	    .from = { { "svc", 1 }, { "svc-a", 1 } },
	    .to = { { "svc", 1 }, { "svc-a", 2 }, { "svcb", 1 } },
	    .count = 2, .want = { { 1, 1 }, { -1, 2 } } },
	{ .label = "bytewise: upper case, lower case, then UTF-8",
	    .from = { { "Z", 1 }, { "a", 1 }, { "\xc3\xa9", 1 } },
	    .to = { { "a", 1 }, { "\xc3\xa9", 2 }, { "\xf0\x9f\x98\x80", 1 } },
	    .count = 3, .want = { { 0, -1 }, { 2, 1 }, { -1, 2 } } },
	{ .label = "bytewise: 'e' before U+00E9",
	    .from = { { "cafe", 1 } }, .to = { { "caf\xc3\xa9", 1 } },
	    .count = 2, .want = { { 0, -1 }, { -1, 0 } } },
	{ .label = "bytewise: 0x7F before 0x80",
	    .from = { { "x\x7f", 1 }, { "x\xc2\x80", 1 } },
	    .to = { { "x\xc2\x80", 2 } }, .count = 2,
	    .want = { { 0, -1 }, { 1, 0 } } },
};

/* service_list_diff: each difference, in name order, with its indexes. */
static void
test_diff_table(void)
{
	struct service_list from, to;

	service_list_init(&from);
	service_list_init(&to);
	for (size_t i = 0; i < sizeof(diff_cases) / sizeof(diff_cases[0]);
	    i++) {
		const struct diff_case *c = &diff_cases[i];
		struct service_difference *diff = NULL;
		size_t count = 99;

		if (!CHECK(test_list_fill(&from, c->from, LIST_MAX) &&
		    test_list_fill(&to, c->to, LIST_MAX),
		    "'%s': append", c->label))
			continue;
		if (!CHECK(service_list_diff(&from, &to, &diff, &count) &&
		    diff != NULL, "'%s': out of memory", c->label))
			continue;
		if (CHECK(count == c->count, "'%s': %zu differences, expected "
		    "%zu", c->label, count, c->count)) {
			for (size_t k = 0; k < count; k++) {
				const struct where *w = &c->want[k];
				const struct service_difference *d = &diff[k];

				CHECK(d->has_from == (w->from >= 0) &&
				    d->has_to == (w->to >= 0) &&
				    (w->from < 0 ||
				    d->index_from == (size_t)w->from) &&
				    (w->to < 0 || d->index_to == (size_t)w->to),
				    "'%s': difference %zu is (%s%zu, %s%zu), "
				    "expected (%d, %d)", c->label, k,
				    d->has_from ? "" : "absent ", d->index_from,
				    d->has_to ? "" : "absent ", d->index_to,
				    w->from, w->to);
			}
		}
		free(diff);
	}
	service_list_free(&from);
	service_list_free(&to);
}

static const CU_TestInfo model_tests[] = {
	{ "service list", test_service_list },
	{ "service list empty name", test_service_list_empty_name },
	{ "service_list_diff table", test_diff_table },
	CU_TEST_INFO_NULL,
};

int
add_model_suite(void)
{
	return add_suite_with_tests("model", NULL, NULL, model_tests);
}
