/*
 * Prometheus's text exposition format, version 0.0.4: families of samples
 * written into a growing buffer, label values escaped.
 */
#ifndef RELEASEMGR_EXPOSITION_H
#define RELEASEMGR_EXPOSITION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Its media type, for Content-Type. */
#define EXPOSITION_CONTENT_TYPE	"text/plain; version=0.0.4; charset=utf-8"

/* A text being written; a failed allocation is remembered, not fatal. */
struct exposition {
	char	*text;		/* malloc'd, NUL-terminated; NULL while empty */
	size_t	 len;
	size_t	 cap;
	bool	 failed;	/* out of memory: the text is incomplete */
};

/* One label of a sample: its name (a valid label name) and any value. */
struct label {
	const char	*name;
	const char	*value;
};

void	exposition_init(struct exposition *out);
/* Frees the text; out may be written again after exposition_init(). */
void	exposition_free(struct exposition *out);

/*
 * Starts the family name: its HELP (escaped) and TYPE (counter, gauge or
 * histogram) lines. Its samples follow.
 */
void	exposition_family(struct exposition *out, const char *name,
	    const char *type, const char *help);

/* A sample name{labels} value, with count labels (may be 0). */
void	exposition_u64(struct exposition *out, const char *name,
	    const struct label *labels, size_t count, uint64_t value);
void	exposition_double(struct exposition *out, const char *name,
	    const struct label *labels, size_t count, double value);

#endif
