/*
 * Export and import: every environment, every system version with its
 * change and metadata, as JSON lines (the format is in json.h).
 */
#ifndef RELEASEMGR_TRANSFER_H
#define RELEASEMGR_TRANSFER_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "status.h"
#include "store.h"

/*
 * Writes the export of store to out: each environment up to the version it
 * had when the export began. *lines says how many system versions were
 * written.
 */
enum status	transfer_export(struct store *store, FILE *out, uint64_t *lines);

/*
 * Reads an export from in into store, which must be empty; errors name
 * the line. With progress, a progress bar goes to standard error. *lines
 * says how many system versions were imported.
 */
enum status	transfer_import(struct store *store, FILE *in, bool progress,
		    uint64_t *lines);

#endif
