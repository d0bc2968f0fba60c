/*
 * The sites of a replication group: the address of one, a host (a name
 * or an IPv4 address) and a TCP port written HOST:PORT, and the group as
 * one site sees it. A leaf: configuration, the store, the handlers and
 * JSON all use it.
 */
#ifndef RELEASEMGR_SITE_H
#define RELEASEMGR_SITE_H

#include <stdbool.h>
#include <stddef.h>

#include "status.h"

#define SITE_HOST_MAX	253	/* bytes of a host name (RFC 1035) */
/* HOST:PORT, with its NUL */
#define SITE_TEXT_SIZE	(SITE_HOST_MAX + 1 + 5 + 1)
#define SITE_PEERS_MAX	16	/* other sites one configuration names */

struct site_address {
	char		host[SITE_HOST_MAX + 1];
	unsigned	port;		/* 1 to 65535 */
};

/* What a site of a replication group is now. */
enum site_role {
	SITE_ROLE_MASTER,	/* it takes the writes (a store of one site too) */
	SITE_ROLE_REPLICA,	/* it reads its copy and knows the master */
	SITE_ROLE_UNKNOWN	/* it knows no master: an election is under way */
};

#define CLUSTER_PEERS_MAX	32	/* other sites a view lists, at most */

/* Another site of the group, as this one sees it. */
struct cluster_peer {
	char	site[SITE_TEXT_SIZE];	/* its replication address */
	bool	connected;
};

/* The replication group, as one site sees it (GET /cluster). */
struct cluster_view {
	bool			replicated;	/* false: a store of one site */
	char			site[SITE_TEXT_SIZE];	/* this one; "" for one site */
	enum site_role		role;
	bool			has_master;
	char			master[SITE_TEXT_SIZE];
	size_t			peer_count;
	struct cluster_peer	peers[CLUSTER_PEERS_MAX];
};

/*
 * Parses exactly len bytes of HOST:PORT into *site: a host of letters,
 * digits, '.' and '-' (a name or an IPv4 address), a port from 1 to
 * 65535. Returns NULL, or a static phrase saying what is wrong.
 */
const char	*site_parse(const char *text, size_t len,
		    struct site_address *site);

/*
 * Parses a comma-separated list of HOST:PORT (blanks around each are
 * allowed; an empty text is an empty list) into sites, room for cap;
 * *count gets how many. Returns NULL, or a static phrase saying what is
 * wrong.
 */
const char	*site_parse_list(const char *text, struct site_address *sites,
		    size_t cap, size_t *count);

/*
 * Orders two addresses: by host text, then by port; negative, 0 or
 * positive as strcmp() does.
 */
int		 site_compare(const struct site_address *a,
		    const struct site_address *b);

/* Writes HOST:PORT into text. */
void		 site_format(const struct site_address *site,
		    char text[SITE_TEXT_SIZE]);

/*
 * True when a site connected to `connected` of the `others` other sites
 * it knows reaches a majority of the group, itself included.
 */
bool		site_majority(size_t connected, size_t others);

/*
 * Whether a site that sees its group as view can have a deploy recorded
 * now: STATUS_OK (a site alone, too); STATUS_NO_MASTER when it knows no
 * master, or as a replica is not connected to it; STATUS_NOT_REPLICATED
 * when it is the master and reaches fewer than a majority of the group.
 */
enum status	cluster_view_readiness(const struct cluster_view *view);

#endif
