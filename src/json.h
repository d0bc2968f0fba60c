/*
 * JSON out: the only module that uses json-c. Rendering returns a malloc'd
 * string that the caller owns and frees (json_parse.h reads JSON).
 */
#ifndef RELEASEMGR_JSON_H
#define RELEASEMGR_JSON_H

#include <stddef.h>
#include <stdint.h>

#include "model.h"
#include "site.h"

/*
 * The renderers return a NUL-terminated string of *len bytes, owned by the
 * caller, or NULL when out of memory.
 */
char	*json_render_uint(uint64_t value, size_t *len);
/* [{"name":...,"version":...},...] in the list's order. */
char	*json_render_services(const struct service_list *list, size_t *len);
/*
 * {"environment":...,"systemVersion":N,"updatedAt":"RFC 3339","digest":...};
 * updatedAt is null before the first system version; digest is that
 * version's (digest.h).
 */
char	*json_render_status(const char *environment,
	    const struct environment_state *state, const char *digest,
	    size_t *len);
/* [version object, ...] for GET /systemversions, in the records' order. */
char	*json_render_history(const struct change_record *records, size_t count,
	    size_t *len);
/*
 * One version object with its "digest" and its "services" list, for GET
 * /systemversions/N; a removal's change has "version": null.
 */
char	*json_render_version(const struct change_record *record,
	    const struct service_list *services, const char *digest,
	    size_t *len);
/* [{"name","from","to"}, ...] for GET /diff: null where a service is absent. */
char	*json_render_diff(const struct service_list *from,
	    const struct service_list *to, const struct service_difference *diff,
	    size_t count, size_t *len);
/* [{"name","systemVersion","updatedAt"}, ...] for GET /environments. */
char	*json_render_environments(const struct environment_summary *list,
	    size_t count, size_t *len);
/*
 * [{"id","receivedAt","outcome","name","version","systemVersion", and the
 * eventId, sequence, deployedAt and metadata sent}, ...] for GET /events;
 * version is null for a removal.
 */
char	*json_render_events(const struct audit_entry *entries, size_t count,
	    size_t *len);
/*
 * [{"version","fromSystemVersion","toSystemVersion","from","to"}, ...]
 * for GET /services/{name}/history; toSystemVersion and to are null
 * while the period lasts.
 */
char	*json_render_periods(const struct service_period *periods,
	    size_t count, size_t *len);
/*
 * {"site","role","master","peers":[{"site","connected"}, ...]} for GET
 * /cluster; site and master are null when absent (a store of one site
 * has no replication address).
 */
char	*json_render_cluster(const struct cluster_view *view, size_t *len);
/*
 * An RFC 9457 problem object; ext_key and ext_value, when not NULL, add one
 * extension member (such as "field": "version").
 */
char	*json_render_problem(int status, const char *type, const char *title,
	    const char *detail, const char *ext_key, const char *ext_value,
	    size_t *len);

/*
 * An export, as JSON lines: a header line, then one line per system
 * version of every environment, oldest first within each environment:
 * {"environment","systemVersion","createdAt","name","previousVersion",
 * "version" (null for a removal), and the metadata sent}.
 */
char	*json_render_export_header(const struct export_header *header,
	    size_t *len);
char	*json_render_export_change(const char *environment,
	    const struct change_record *record, size_t *len);

#endif
