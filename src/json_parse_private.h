/*
 * What the two files of JSON in share, and no other file sees: the member
 * tables' rows, the parts they fill and the state of the RFC 8259 scanner
 * over one text, with the functions one file calls in the other, grouped
 * by the file that defines them. Only src/json_parse.c and src/json_scan.c
 * include it; the rest of releasemgr sees json_parse.h.
 */
#ifndef RELEASEMGR_JSON_PARSE_PRIVATE_H
#define RELEASEMGR_JSON_PARSE_PRIVATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "problem.h"

#define KEY_MAX		32	/* bytes of a name that may be known */
#define TEXT_MAX	512	/* bytes kept of a known member's string */
#define MEMBERS_MAX	16	/* rows of the tables of one text */

/* What the value of a known member must be, and how it is stored. */
enum value_kind {
	VALUE_TEXT,	/* a string that check accepts: char[cap] at .at */
	VALUE_INTEGER,	/* an integer from min to max: uint64_t at .at */
	VALUE_INSTANT,	/* an RFC 3339 date-time: uint64_t ms at .at */
	VALUE_FIXED	/* exactly the string .fixed; nothing is stored */
};

/*
 * One row of a member table: a top-level member, where its value goes in
 * the struct the table fills (offsets from its start), and how it is
 * refused. Once the whole text is known to be JSON, the rows are checked
 * in the table's order: that order is the order of their problems.
 */
struct member {
	const char	*name;
	const char	*alias;		/* another name of it, or NULL */
	enum value_kind	 kind;
	bool		 required;
	bool		 nullable;	/* null: no value (present_at false) */
	const char	*(*check)(const char *, size_t);  /* VALUE_TEXT */
	uint64_t	 min, max;	/* VALUE_INTEGER */
	const char	*fixed;		/* VALUE_FIXED */
	const char	*fallback;	/* VALUE_TEXT: the text when absent */
	/* where the value goes; offsets of 0 in len_at, present_at, null_at: none */
	size_t		 at;
	size_t		 cap;		/* VALUE_TEXT: bytes of the char[] */
	size_t		 len_at;	/* its length, a size_t */
	size_t		 present_at;	/* a bool, true once it is stored */
	size_t		 null_at;	/* a bool, true when null (nullable) */
	/* the problems: NULL for the kind's own */
	const char	*field;		/* the member they name, if not it */
	const char	*missing;	/* the detail when required, absent */
	const char	*refusal;	/* the detail of every problem */
};

/* A member table and the struct it fills. */
struct part {
	const struct member	*rows;
	size_t			 count;
	void			*dest;
	size_t			 size;	/* of the struct at dest */
};

#define GIVEN_NAME	0x1
#define GIVEN_ALIAS	0x2

/* What became of a known member's value. */
enum outcome {
	OUTCOME_TAKEN,		/* stored */
	OUTCOME_NULL,		/* null */
	OUTCOME_WRONG,		/* not of its kind, or out of its range */
	OUTCOME_CHECKED		/* a string that its check refused */
};

/* What the scan found of one row. */
struct found {
	unsigned	 given;		/* GIVEN_NAME, GIVEN_ALIAS */
	enum outcome	 outcome;
	const char	*why;		/* OUTCOME_CHECKED: the check's */
};

/* A decoded string, kept up to cap bytes; len counts them all. */
struct text {
	char	*buf;
	size_t	 cap;
	size_t	 len;
};

/*
 * The state of the RFC 8259 scanner over one text. A problem of a known
 * member (a bad text, a second occurrence) is kept in invalid while the
 * scan goes on: it is the answer only for a text that is JSON to the end,
 * since a malformed text is first of all not JSON.
 */
struct scan {
	const char		*start;
	const char		*p;
	const char		*end;
	int			 depth;
	/* the known top-level member being read (or NULL), its row... */
	const char		*member;
	const struct member	*row;
	char			*dest;		/* ...the struct it fills... */
	struct found		*found;		/* ...and what is known of it */
	bool			 member_failed;	/* invalid holds its problem */
	struct invalid		*invalid;
	const struct part	*parts;
	size_t			 nparts;
	struct found		 all_found[MEMBERS_MAX]; /* the parts' rows */
	char			 value[TEXT_MAX];	/* a known string... */
	struct text		 text;			/* ...decoded */
};

/* json_scan.c */
bool	scan_object(struct scan *, const char *, size_t, const struct part *,
	    size_t, struct invalid *);

#endif
