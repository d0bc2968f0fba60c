/*
 * Export and import, streaming a line at a time.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "json.h"
#include "json_parse.h"
#include "log.h"
#include "transfer.h"

#define EXPORT_LINE_MAX	(16 * 1024)	/* far above the longest line written */
#define PROGRESS_WIDTH	40		/* characters of the bar */

/* Writes len bytes of text and a newline; false when out fails. */
static bool
write_line(FILE *out, const char *text, size_t len)
{
	return fwrite(text, 1, len, out) == len && fputc('\n', out) != EOF;
}

/* Where export writes, and how many lines so far. */
struct export_output {
	FILE		*out;
	const char	*environment;
	uint64_t	*lines;
};

/* Writes one change as a line (change_fn). */
static enum status
export_change(const struct change_record *change, void *arg)
{
	struct export_output *o = arg;
	size_t len;
	char *text;
	enum status status = STATUS_OK;

	if ((text = json_render_export_change(o->environment, change,
	    &len)) == NULL || !write_line(o->out, text, len))
		status = STATUS_SYSTEM;
	free(text);
	if (status == STATUS_OK)
		(*o->lines)++;
	return status;
}

enum status
transfer_export(struct store *store, FILE *out, uint64_t *lines)
{
	struct environment_summary *list = NULL;
	struct export_header header = { .system_versions = 0 };
	struct export_output output = { out, NULL, lines };
	size_t count = 0, len;
	char *text;
	enum status status;

	*lines = 0;
	if ((status = store_environments(store, &list, &count)) != STATUS_OK)
		return status;
	header.environments = count;
	for (size_t i = 0; i < count; i++)
		header.system_versions += list[i].state.system_version;
	if ((text = json_render_export_header(&header, &len)) == NULL ||
	    !write_line(out, text, len))
		status = STATUS_SYSTEM;
	free(text);
	/* each environment up to the version it had when the export began */
	for (size_t i = 0; status == STATUS_OK && i < count; i++) {
		output.environment = list[i].name;
		status = store_walk_changes(store, list[i].name,
		    list[i].state.system_version, export_change, &output);
	}
	if (fflush(out) == EOF || ferror(out)) {
		log_error("export: cannot write the output");
		status = STATUS_SYSTEM;
	}
	free(list);
	return status;
}

/* Redraws the progress bar: done of total lines. */
static void
show_progress(uint64_t done, uint64_t total)
{
	unsigned filled = total == 0 ? PROGRESS_WIDTH :
	    (unsigned)(done * PROGRESS_WIDTH / total);
	char bar[PROGRESS_WIDTH + 1];

	memset(bar, '#', filled);
	memset(bar + filled, '.', PROGRESS_WIDTH - filled);
	bar[PROGRESS_WIDTH] = '\0';
	fprintf(stderr, "\rimport [%s] %3u%% %" PRIu64 "/%" PRIu64,
	    bar, total == 0 ? 100 : (unsigned)(done * 100 / total), done, total);
}

/*
 * Reads the next line of in into *line (getline's buffer) without its
 * newline; 0 at the end, -1 on a read error or a line too long.
 */
static int
read_line(FILE *in, char **line, size_t *cap, size_t *len)
{
	ssize_t n = getline(line, cap, in);

	if (n == -1)
		return ferror(in) ? -1 : 0;
	*len = (size_t)n;
	if (*len > 0 && (*line)[*len - 1] == '\n')
		(*line)[--*len] = '\0';
	return *len > EXPORT_LINE_MAX ? -1 : 1;
}

enum status
transfer_import(struct store *store, FILE *in, bool progress, uint64_t *lines)
{
	struct export_header header = { .system_versions = 0 };
	struct deploy deploy;
	struct change_position position;
	struct invalid invalid;
	char *line = NULL;
	size_t cap = 0, len = 0;
	uint64_t number = 1;	/* of the line being read */
	time_t drawn = 0;
	int got;
	enum status status = STATUS_INVALID;

	*lines = 0;
	if ((got = read_line(in, &line, &cap, &len)) != 1) {
		log_error("import: line 1: %s", got == 0 ? "the input is empty" :
		    "cannot be read, or too long");
		goto done;
	}
	if (!json_parse_export_header(line, len, &header, &invalid)) {
		log_error("import: line 1: %s", invalid.detail);
		goto done;
	}
	for (;;) {
		number++;
		if ((got = read_line(in, &line, &cap, &len)) == 0)
			break;
		if (got == -1) {
			log_error("import: line %" PRIu64 ": cannot be read, or "
			    "longer than %d bytes", number, EXPORT_LINE_MAX);
			goto done;
		}
		if (!json_parse_export_change(line, len, &deploy, &position,
		    &invalid)) {
			log_error("import: line %" PRIu64 ": %s", number,
			    invalid.detail);
			goto done;
		}
		if ((status = store_import(store, &deploy, &position)) !=
		    STATUS_OK) {
			log_error("import: line %" PRIu64 ": %s system version "
			    "%" PRIu64 " %s", number, deploy.environment,
			    position.system_version, status == STATUS_INVALID ?
			    "does not follow the versions before it" :
			    "cannot be stored");
			goto done;
		}
		status = STATUS_INVALID;
		(*lines)++;
		if (progress && time(NULL) != drawn) {
			drawn = time(NULL);
			show_progress(*lines, header.system_versions);
		}
	}
	if (*lines != header.system_versions) {
		log_error("import: the header announces %" PRIu64 " system "
		    "versions, the input holds %" PRIu64, header.system_versions,
		    *lines);
		goto done;
	}
	status = STATUS_OK;
done:
	if (progress) {
		show_progress(*lines, header.system_versions);
		fputc('\n', stderr);
	}
	free(line);
	return status;
}
