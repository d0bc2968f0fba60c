/*
 * The site suite: HOST:PORT addresses parsed over a table of good and bad
 * texts, lists of them, their order, what config_finish() makes of
 * replication_site and replication_peers, and when a view of the group
 * can take a deploy.
 */
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "site.h"
#include "tests.h"

static const struct {
	const char	*text;
	const char	*host;		/* NULL: refused */
	unsigned	 port;
	const char	*why_has;	/* what the refusal says */
} parse_cases[] = {
	{ "127.0.0.1:7001", "127.0.0.1", 7001, NULL },
	{ "db-1.example.org:1", "db-1.example.org", 1, NULL },
	{ "h:65535", "h", 65535, NULL },
	{ "h:65536", NULL, 0, "port" },
	{ "h:0", NULL, 0, "port" },
	{ "h:07001", NULL, 0, "port" },
	{ "h:", NULL, 0, "port" },
	{ "h:+80", NULL, 0, "port" },
	{ ":80", NULL, 0, "no host" },
	{ "host", NULL, 0, "HOST:PORT" },
	{ "", NULL, 0, "HOST:PORT" },
	{ "[::1]:80", NULL, 0, "IPv4" },
	{ "a b:80", NULL, 0, "IPv4" },
	{ "h\xc3\xa9:80", NULL, 0, "IPv4" },
	{ "h:80:81", NULL, 0, "IPv4" },
};

static void
test_parse_table(void)
{
	for (size_t i = 0; i < sizeof(parse_cases) / sizeof(parse_cases[0]);
	    i++) {
		struct site_address site = { "unset", 9 };
		const char *why = site_parse(parse_cases[i].text,
		    strlen(parse_cases[i].text), &site);

		if (parse_cases[i].host != NULL)
			CHECK(why == NULL && strcmp(site.host,
			    parse_cases[i].host) == 0 &&
			    site.port == parse_cases[i].port,
			    "'%s': %s, %s:%u", parse_cases[i].text,
			    why ? why : "ok", site.host, site.port);
		else
			CHECK(why != NULL && strstr(why,
			    parse_cases[i].why_has) != NULL &&
			    strcmp(site.host, "unset") == 0,
			    "'%s': %s (wanted a refusal saying %s)",
			    parse_cases[i].text, why ? why : "accepted",
			    parse_cases[i].why_has);
	}
}

/* The longest host, and one byte more. */
static void
test_parse_host_length(void)
{
	char text[SITE_HOST_MAX + 16];
	struct site_address site;

	memset(text, 'h', SITE_HOST_MAX);
	snprintf(text + SITE_HOST_MAX, sizeof(text) - SITE_HOST_MAX, ":80");
	CHECK(site_parse(text, strlen(text), &site) == NULL &&
	    strlen(site.host) == SITE_HOST_MAX, "a host of %d bytes",
	    SITE_HOST_MAX);
	memset(text, 'h', SITE_HOST_MAX + 1);
	snprintf(text + SITE_HOST_MAX + 1, sizeof(text) - SITE_HOST_MAX - 1,
	    ":80");
	CHECK(site_parse(text, strlen(text), &site) != NULL,
	    "a host of %d bytes is refused", SITE_HOST_MAX + 1);
}

static void
test_parse_list(void)
{
	struct site_address sites[SITE_PEERS_MAX];
	char text[SITE_PEERS_MAX * 24 + 32] = "";
	size_t count = 99;

	CHECK(site_parse_list("", sites, SITE_PEERS_MAX, &count) == NULL &&
	    count == 0, "an empty list: %zu sites", count);
	CHECK(site_parse_list(" a:1 ,b:2,\tc:3 ", sites, SITE_PEERS_MAX,
	    &count) == NULL && count == 3 && strcmp(sites[0].host, "a") == 0 &&
	    sites[2].port == 3, "three sites with blanks: %zu", count);
	CHECK(site_parse_list("a:1,", sites, SITE_PEERS_MAX, &count) != NULL,
	    "a list ending with ','");
	CHECK(site_parse_list("a:1,,b:2", sites, SITE_PEERS_MAX, &count) !=
	    NULL, "an empty item");
	CHECK(site_parse_list("a:1,b", sites, SITE_PEERS_MAX, &count) != NULL,
	    "an item without a port");
	for (size_t i = 0; i <= SITE_PEERS_MAX; i++)
		snprintf(text + strlen(text), sizeof(text) - strlen(text),
		    "%sh:%zu", i > 0 ? "," : "", i + 1);
	CHECK(site_parse_list(text, sites, SITE_PEERS_MAX, &count) != NULL,
	    "%d sites are too many", SITE_PEERS_MAX + 1);
}

static void
test_compare_and_format(void)
{
	struct site_address a = { "127.0.0.1", 7001 }, b = { "127.0.0.1", 7002 },
	    c = { "127.0.0.2", 1 };
	char text[SITE_TEXT_SIZE];

	CHECK(site_compare(&a, &b) < 0 && site_compare(&b, &a) > 0 &&
	    site_compare(&a, &a) == 0 && site_compare(&b, &c) < 0,
	    "order by host, then port");
	site_format(&b, text);
	CHECK(strcmp(text, "127.0.0.1:7002") == 0, "format: %s", text);
}

/* config_finish() with the two replication settings given as text. */
static enum status
finish_with(struct config *c, const char *site, const char *peers,
    char *err, size_t cap)
{
	config_defaults(c);
	if (config_set(c, "replication_site", site, err, cap) != STATUS_OK ||
	    config_set(c, "replication_peers", peers, err, cap) != STATUS_OK)
		return STATUS_SYSTEM;
	return config_finish(c, err, cap);
}

static void
test_config_replication(void)
{
	struct config c;
	char err[512] = "";
	enum status status;

	status = finish_with(&c, "", "10.0.0.2:7000", err, sizeof(err));
	CHECK(status == STATUS_OK && !c.replicated && c.peer_count == 0,
	    "no site: replication off (%s)", status_name(status));
	status = finish_with(&c, "10.0.0.1:7000", "10.0.0.2:7000, 10.0.0.3:7000",
	    err, sizeof(err));
	CHECK(status == STATUS_OK && c.replicated && c.peer_count == 2 &&
	    c.site.port == 7000 && strcmp(c.peers[1].host, "10.0.0.3") == 0,
	    "a site and two peers: %s %s", status_name(status), err);
	status = finish_with(&c, "10.0.0.1", "", err, sizeof(err));
	CHECK(status == STATUS_INVALID && strstr(err, "replication_site") !=
	    NULL, "a site without a port: %s '%s'", status_name(status), err);
	status = finish_with(&c, "10.0.0.1:7000", "10.0.0.2:x", err,
	    sizeof(err));
	CHECK(status == STATUS_INVALID && strstr(err, "replication_peers") !=
	    NULL, "a bad peer: %s '%s'", status_name(status), err);
	status = finish_with(&c, "10.0.0.1:7000", "10.0.0.2:7000,10.0.0.1:7000",
	    err, sizeof(err));
	CHECK(status == STATUS_INVALID && strstr(err, "own") != NULL,
	    "the site among its peers: %s '%s'", status_name(status), err);
	status = finish_with(&c, "10.0.0.1:7000", "10.0.0.2:7000,10.0.0.2:7000",
	    err, sizeof(err));
	CHECK(status == STATUS_INVALID && strstr(err, "twice") != NULL,
	    "a peer twice: %s '%s'", status_name(status), err);
}

/*
 * A view of a group: this site (role, master: "" for none) and peers
 * "A", "B", ... connected as the string says ('1' or '0').
 */
static void
make_view(struct cluster_view *view, enum site_role role, const char *master,
    const char *connected)
{
	memset(view, 0, sizeof(*view));
	view->replicated = true;
	snprintf(view->site, sizeof(view->site), "S");
	view->role = role;
	view->has_master = master[0] != '\0';
	snprintf(view->master, sizeof(view->master), "%s", master);
	for (size_t i = 0; connected[i] != '\0'; i++) {
		snprintf(view->peers[i].site, sizeof(view->peers[i].site), "%c",
		    (char)('A' + i));
		view->peers[i].connected = connected[i] == '1';
		view->peer_count++;
	}
}

static void
test_readiness(void)
{
	static const struct {
		enum site_role	 role;
		const char	*master;
		const char	*connected;
		enum status	 want;
	} cases[] = {
		{ SITE_ROLE_MASTER, "S", "11", STATUS_OK },
		{ SITE_ROLE_MASTER, "S", "10", STATUS_OK },	/* 2 of 3 */
		{ SITE_ROLE_MASTER, "S", "00", STATUS_NOT_REPLICATED },
		{ SITE_ROLE_MASTER, "S", "100", STATUS_NOT_REPLICATED }, /* 2 of 4 */
		{ SITE_ROLE_MASTER, "S", "110", STATUS_OK },	/* 3 of 4 */
		{ SITE_ROLE_MASTER, "S", "1100", STATUS_OK },	/* 3 of 5 */
		{ SITE_ROLE_MASTER, "S", "1000", STATUS_NOT_REPLICATED },
		{ SITE_ROLE_REPLICA, "A", "10", STATUS_OK },
		{ SITE_ROLE_REPLICA, "A", "01", STATUS_NO_MASTER }, /* cut off */
		{ SITE_ROLE_REPLICA, "B", "01", STATUS_OK },
		{ SITE_ROLE_REPLICA, "Z", "11", STATUS_NO_MASTER }, /* unlisted */
		{ SITE_ROLE_UNKNOWN, "", "11", STATUS_NO_MASTER },
	};
	struct cluster_view view;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		enum status got;

		make_view(&view, cases[i].role, cases[i].master,
		    cases[i].connected);
		got = cluster_view_readiness(&view);
		CHECK(got == cases[i].want, "case %zu (master %s, peers %s): "
		    "%s, expected %s", i, cases[i].master, cases[i].connected,
		    status_name(got), status_name(cases[i].want));
	}
	memset(&view, 0, sizeof(view));		/* a site alone */
	CHECK(cluster_view_readiness(&view) == STATUS_OK, "a site alone");
}

static const CU_TestInfo site_tests[] = {
	{ "site_parse table", test_parse_table },
	{ "site_parse host length", test_parse_host_length },
	{ "site_parse_list", test_parse_list },
	{ "site_compare and site_format", test_compare_and_format },
	{ "config_finish reads the replication settings",
	    test_config_replication },
	{ "cluster_view_readiness", test_readiness },
	CU_TEST_INFO_NULL,
};

int
add_site_suite(void)
{
	return add_suite_with_tests("site", NULL, NULL, site_tests);
}
