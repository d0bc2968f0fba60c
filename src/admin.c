/*
 * releasemgr-admin: backup, restore, export, import and verification of a
 * release manager's store.
 *
 * Commands that change or recover the store (restore, import, verify, and
 * backup or export with no pool running) take the data directory's lock,
 * so no pool starts on the store meanwhile; with a pool running, backup
 * and export join its environment and work alongside it.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "audit.h"
#include "config.h"
#include "datadir.h"
#include "log.h"
#include "store.h"
#include "transfer.h"

#define EXIT_FAULT	1	/* the command failed, or found faults */
#define EXIT_USAGE	2

/* How a command needs the store. */
enum access {
	ACCESS_ALONE,		/* no pool may run: the command recovers or writes */
	ACCESS_SHARED		/* alongside a running pool, or alone */
};

/* What every command gets. */
struct admin {
	struct config	 config;
	const char	*argument;	/* the command's DIR, or NULL */
	struct store	*store;
	int		 lock_fd;	/* -1 unless the lock is ours */
};

typedef int command_fn(struct admin *);

static void
usage(FILE *out)
{
	fprintf(out,
	    "usage: releasemgr-admin [--data-dir DIR] [--config FILE] COMMAND\n"
	    "commands:\n"
	    "  backup DIR    an online backup of the store into DIR (new or empty)\n"
	    "  restore DIR   the backup in DIR into a data directory with no store\n"
	    "  export        every environment and system version, as JSON lines,\n"
	    "                on standard output\n"
	    "  import        an export, from standard input, into an empty store\n"
	    "  verify        Berkeley DB's verification and the history's checks;\n"
	    "                recovers a store left by a crash first\n"
	    "The data directory defaults to the one make run uses (var/ next to\n"
	    "cgi-bin/). Exit status: 0 done, 1 failed or faults found, 2 usage.\n");
}

/* The data directory make run uses: var/ beside this program's cgi-bin/. */
static void
default_data_dir(struct config *config)
{
	char exe[PATH_MAX], err[256];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	char *root;

	if (n <= 0)
		return;
	exe[n] = '\0';
	root = dirname(dirname(exe));
	if (strlen(root) + sizeof("/var") <= sizeof(config->data_dir)) {
		char dir[PATH_MAX + 8];

		snprintf(dir, sizeof(dir), "%s/var", root);
		config_set(config, "data_dir", dir, err, sizeof(err));
	}
}

/*
 * Run as root on a store that belongs to another user (the pool's), acts
 * as that user from now on, so that every file it writes there (logs,
 * regions, a backup) stays usable by the pool. Elsewhere, does nothing.
 */
static enum status
act_as_owner(const char *home)
{
	struct stat st;

	if (geteuid() != 0 || stat(home, &st) == -1 || st.st_uid == 0)
		return STATUS_OK;
	if (setegid(st.st_gid) == -1 || seteuid(st.st_uid) == -1) {
		log_error("cannot act as the owner of %s: %s", home,
		    strerror(errno));
		return STATUS_SYSTEM;
	}
	return STATUS_OK;
}

/*
 * Takes the data directory's lock: STATUS_BUSY while a pool (or another
 * releasemgr-admin) holds it, which a command that needs the store alone
 * reports.
 */
static enum status
take_lock(struct admin *admin, enum access access)
{
	enum status status = datadir_lock(admin->config.data_dir, 0,
	    &admin->lock_fd);

	if (status == STATUS_BUSY && access == ACCESS_ALONE)
		log_error("%s is in use by a running pool (or another "
		    "releasemgr-admin): stop it first", admin->config.data_dir);
	return status;
}

/*
 * Takes the data directory's lock when no pool holds it, and opens the
 * store: recovered when the lock is ours, joined when a pool runs and
 * access allows it.
 */
static enum status
open_store(struct admin *admin, enum access access)
{
	struct store_options options;
	char home[DATADIR_HOME_SIZE];
	enum status status;
	bool exists;

	status = take_lock(admin, access);
	if (status != STATUS_OK && (status != STATUS_BUSY ||
	    access == ACCESS_ALONE))
		return status;
	datadir_store_options(&admin->config, status == STATUS_OK ?
	    STORE_RECOVER : STORE_JOIN, home, &options);
	if (status == STATUS_OK) {
		/* recovery would create an empty store where there is none */
		if ((status = store_find(home, &exists)) != STATUS_OK)
			return status;
		if (!exists) {
			log_error("%s holds no store", admin->config.data_dir);
			return STATUS_NOT_FOUND;
		}
	}
	if ((status = act_as_owner(home)) != STATUS_OK)
		return status;
	return store_open(&options, &admin->store);
}

static int
command_backup(struct admin *admin)
{
	char home[DATADIR_HOME_SIZE];
	struct stat st;
	bool exists;

	datadir_home(&admin->config, home);
	if (store_find(admin->argument, &exists) != STATUS_OK)
		return EXIT_FAULT;
	if (exists) {
		log_error("backup: %s already holds a store or a backup; give a "
		    "new or empty directory", admin->argument);
		return EXIT_FAULT;
	}
	/* made now, so that the store's owner can write into it */
	if (mkdir(admin->argument, 0700) == 0 &&
	    stat(home, &st) == 0 && chown(admin->argument, st.st_uid,
	    st.st_gid) == -1) {
		log_error("backup: cannot give %s to the store's owner: %s",
		    admin->argument, strerror(errno));
		return EXIT_FAULT;
	}
	if (open_store(admin, ACCESS_SHARED) != STATUS_OK ||
	    store_backup(admin->store, admin->argument) != STATUS_OK)
		return EXIT_FAULT;
	log_info("backup: the store of %s is backed up in %s",
	    admin->config.data_dir, admin->argument);
	return 0;
}

static int
command_restore(struct admin *admin)
{
	struct store_options options;
	char home[DATADIR_HOME_SIZE];

	if (take_lock(admin, ACCESS_ALONE) != STATUS_OK)
		return EXIT_FAULT;
	datadir_store_options(&admin->config, STORE_RECOVER, home, &options);
	if (store_restore(&options, admin->argument) != STATUS_OK)
		return EXIT_FAULT;
	log_info("restore: the backup in %s is restored into %s",
	    admin->argument, admin->config.data_dir);
	return 0;
}

static int
command_export(struct admin *admin)
{
	uint64_t lines;

	if (open_store(admin, ACCESS_SHARED) != STATUS_OK ||
	    transfer_export(admin->store, stdout, &lines) != STATUS_OK)
		return EXIT_FAULT;
	log_info("export: %" PRIu64 " system versions", lines);
	return 0;
}

static int
command_import(struct admin *admin)
{
	struct store_options options;
	char home[DATADIR_HOME_SIZE];
	uint64_t lines;
	bool exists;

	if (take_lock(admin, ACCESS_ALONE) != STATUS_OK)
		return EXIT_FAULT;
	datadir_store_options(&admin->config, STORE_RECOVER, home, &options);
	if (store_find(home, &exists) != STATUS_OK)
		return EXIT_FAULT;
	if (exists) {
		log_error("import: %s already holds a store; import only into "
		    "an empty data directory", admin->config.data_dir);
		return EXIT_FAULT;
	}
	/* one flush at the end, by the checkpoint, rather than one a line */
	options.durable = false;
	if (store_open(&options, &admin->store) != STATUS_OK)
		return EXIT_FAULT;
	if (transfer_import(admin->store, stdin, isatty(STDERR_FILENO),
	    &lines) != STATUS_OK ||
	    store_checkpoint(admin->store) != STATUS_OK) {
		log_error("import: stopped; remove %s before trying again",
		    home);
		return EXIT_FAULT;
	}
	log_info("import: %" PRIu64 " system versions", lines);
	return 0;
}

static int
command_verify(struct admin *admin)
{
	struct audit_totals totals;
	enum status files;

	if (open_store(admin, ACCESS_ALONE) != STATUS_OK)
		return EXIT_FAULT;
	files = store_verify_files(admin->store);
	if (files != STATUS_OK && files != STATUS_INVALID)
		return EXIT_FAULT;
	if (audit_store(admin->store, stderr, &totals) != STATUS_OK)
		return EXIT_FAULT;
	printf("verify: database files %s; %" PRIu64 " environments, %"
	    PRIu64 " system versions, %" PRIu64 " faults\n",
	    files == STATUS_OK ? "sound" : "DAMAGED", totals.environments,
	    totals.system_versions, totals.faults);
	return files == STATUS_OK && totals.faults == 0 ? 0 : EXIT_FAULT;
}

int
main(int argc, char *argv[])
{
	static const struct option options[] = {
		{ "data-dir", required_argument, NULL, 'd' },
		{ "config", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	static const struct {
		const char	*name;
		command_fn	*run;
		bool		 takes_dir;
	} commands[] = {
		{ "backup", command_backup, true },
		{ "restore", command_restore, true },
		{ "export", command_export, false },
		{ "import", command_import, false },
		{ "verify", command_verify, false },
	};
	static struct admin admin;
	const char *data_dir = NULL, *config_file = NULL;
	char err[CONFIG_PATH_MAX + 256];
	int c, code = EXIT_USAGE;

	admin.lock_fd = -1;
	while ((c = getopt_long(argc, argv, "+d:c:h", options, NULL)) != -1) {
		if (c == 'd')
			data_dir = optarg;
		else if (c == 'c')
			config_file = optarg;
		else if (c == 'h') {
			usage(stdout);
			return 0;
		} else {
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	config_defaults(&admin.config);
	default_data_dir(&admin.config);
	if ((config_file != NULL && config_load(&admin.config, config_file,
	    err, sizeof(err)) != STATUS_OK) || (data_dir != NULL &&
	    config_set(&admin.config, "data_dir", data_dir, err,
	    sizeof(err)) != STATUS_OK)) {
		log_error("%s", err);
		return EXIT_USAGE;
	}
	for (size_t i = 0; optind < argc &&
	    i < sizeof(commands) / sizeof(*commands); i++) {
		if (strcmp(argv[optind], commands[i].name) != 0)
			continue;
		if (argc - optind != (commands[i].takes_dir ? 2 : 1))
			break;
		admin.argument = commands[i].takes_dir ? argv[optind + 1] : NULL;
		code = commands[i].run(&admin);
		store_close(admin.store);
		if (admin.lock_fd != -1)
			close(admin.lock_fd);
		return code;
	}
	usage(stderr);
	return code;
}
