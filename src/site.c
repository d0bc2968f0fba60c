/*
 * Addresses of the sites of a replication group: HOST:PORT, parsed,
 * compared and written back.
 */
#include <stdio.h>
#include <string.h>

#include "site.h"
#include "validate.h"

/* True for a byte a host name or an IPv4 address may hold. */
static bool
host_byte(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '.' || c == '-';
}

const char *
site_parse(const char *text, size_t len, struct site_address *site)
{
	const char *colon = NULL;
	uint64_t port;
	size_t host_len;

	for (size_t i = len; i-- > 0;)
		if (text[i] == ':') {
			colon = text + i;
			break;
		}
	if (colon == NULL)
		return "must be HOST:PORT";
	host_len = (size_t)(colon - text);
	if (host_len == 0)
		return "has no host before its ':'";
	if (host_len > SITE_HOST_MAX)
		return "has a host longer than 253 bytes";
	for (size_t i = 0; i < host_len; i++)
		if (!host_byte(text[i]))
			return "has a host that is not a name or an IPv4 address";
	if (!parse_decimal(colon + 1, len - host_len - 1, 1, 65535, &port))
		return "has a port that is not a number from 1 to 65535";
	memcpy(site->host, text, host_len);
	site->host[host_len] = '\0';
	site->port = (unsigned)port;
	return NULL;
}

const char *
site_parse_list(const char *text, struct site_address *sites, size_t cap,
    size_t *count)
{
	const char *why;

	*count = 0;
	while (*text != '\0') {
		const char *end = strchr(text, ','), *last;

		if (end == NULL)
			end = text + strlen(text);
		while (text < end && (*text == ' ' || *text == '\t'))
			text++;
		last = end;
		while (last > text && (last[-1] == ' ' || last[-1] == '\t'))
			last--;
		if (*count == cap)
			return "names more sites than a group may have";
		if ((why = site_parse(text, (size_t)(last - text),
		    &sites[*count])) != NULL)
			return why;
		(*count)++;
		text = *end == ',' ? end + 1 : end;
		if (*end == ',' && *text == '\0')
			return "ends with a ','";
	}
	return NULL;
}

int
site_compare(const struct site_address *a, const struct site_address *b)
{
	int by_host = strcmp(a->host, b->host);

	if (by_host != 0)
		return by_host;
	return (a->port > b->port) - (a->port < b->port);
}

void
site_format(const struct site_address *site, char text[SITE_TEXT_SIZE])
{
	snprintf(text, SITE_TEXT_SIZE, "%s:%u", site->host, site->port);
}

enum status
cluster_view_readiness(const struct cluster_view *view)
{
	size_t connected = 0;

	if (!view->replicated)
		return STATUS_OK;
	if (!view->has_master)
		return STATUS_NO_MASTER;
	for (size_t i = 0; i < view->peer_count; i++) {
		if (view->role == SITE_ROLE_REPLICA &&
		    strcmp(view->peers[i].site, view->master) == 0)
			return view->peers[i].connected ? STATUS_OK :
			    STATUS_NO_MASTER;
		connected += view->peers[i].connected;
	}
	if (view->role != SITE_ROLE_MASTER)
		return STATUS_NO_MASTER;	/* its master is no peer it lists */
	return site_majority(connected, view->peer_count) ? STATUS_OK :
	    STATUS_NOT_REPLICATED;
}

bool
site_majority(size_t connected, size_t others)
{
	/* more than half of others + 1 sites: this one and the connected */
	return connected + 1 > (others + 1) / 2;
}
