/*
 * releasemgr: the release manager's FastCGI pool. Reads the configuration,
 * loads the deploy token, and hands over to the supervisor.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "config.h"
#include "log.h"
#include "pool.h"

#define PRINT_MAX	16	/* --print-setting options in one command */

static void
usage(FILE *out)
{
	fprintf(out,
	    "usage: releasemgr [--config FILE] [--data-dir DIR] [--socket PATH]\n"
	    "                  [--workers N] [--token-file FILE]\n"
	    "                  [--print-setting NAME]\n"
	    "The environment variable RELEASEMGR_TOKEN_FILE names the deploy\n"
	    "token file too; the command line wins over it, and it over FILE.\n"
	    "--print-setting prints the validated value of a setting, one line\n"
	    "each, in the order given (it may be repeated), and exits, starting\n"
	    "nothing: that is how releasemgr-run reads deploy_rate and user.\n");
}

int
main(int argc, char *argv[])
{
	static const struct option options[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "data-dir", required_argument, NULL, 'd' },
		{ "socket", required_argument, NULL, 's' },
		{ "workers", required_argument, NULL, 'w' },
		{ "token-file", required_argument, NULL, 't' },
		{ "print-setting", required_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	static struct config config;
	static struct auth auth;
	const char *config_file = NULL, *token_env, *print[PRINT_MAX];
	size_t prints = 0;
	char err[CONFIG_PATH_MAX + 256], value[CONFIG_PATH_MAX];
	int c;

	config_defaults(&config);
	/* the file first, so that options given on the command line win */
	while ((c = getopt_long(argc, argv, "c:d:s:w:t:p:h", options, NULL)) != -1) {
		if (c == 'c')
			config_file = optarg;
		else if (c == 'p' && prints < PRINT_MAX)
			print[prints++] = optarg;
		else if (c == 'p') {
			fprintf(stderr, "at most %d --print-setting\n", PRINT_MAX);
			return 2;
		}
		else if (c == 'h') {
			usage(stdout);
			return 0;
		} else if (c == '?') {
			usage(stderr);
			return 2;
		}
	}
	if (config_file != NULL &&
	    config_load(&config, config_file, err, sizeof(err)) != STATUS_OK)
		goto fail;
	if ((token_env = getenv("RELEASEMGR_TOKEN_FILE")) != NULL &&
	    config_set(&config, "token_file", token_env, err, sizeof(err)) != STATUS_OK)
		goto fail;
	optind = 1;
	while ((c = getopt_long(argc, argv, "c:d:s:w:t:p:h", options, NULL)) != -1) {
		const char *name = c == 'd' ? "data_dir" : c == 's' ? "socket" :
		    c == 'w' ? "workers" : c == 't' ? "token_file" : NULL;

		if (name != NULL &&
		    config_set(&config, name, optarg, err, sizeof(err)) != STATUS_OK)
			goto fail;
	}
	if (config_finish(&config, err, sizeof(err)) != STATUS_OK)
		goto fail;
	log_set_format((enum log_format)config.log_format);
	for (size_t i = 0; i < prints; i++) {
		if (config_value(&config, print[i], value, sizeof(value)) !=
		    STATUS_OK) {
			snprintf(err, sizeof(err), "unknown setting '%s'",
			    print[i]);
			goto fail;
		}
		printf("%s\n", value);
	}
	if (prints > 0)
		return fflush(stdout) == 0 ? 0 : 1;
	config_log(&config);
	if (config.token_file[0] != '\0') {
		if (auth_load(&auth, config.token_file, err, sizeof(err)) != STATUS_OK)
			goto fail;
		log_info("auth: POST /deploy requires the token from %s",
		    config.token_file);
	} else
		log_warn("auth: no deploy token is configured: anyone who can "
		    "reach the server may POST /deploy (set token_file or "
		    "RELEASEMGR_TOKEN_FILE)");
	if (!config.durable_commits)
		log_warn("config: durable_commits = no: an acknowledged deploy "
		    "can be lost in a crash; use only for benchmarks");
	return pool_run(&config, &auth);
fail:
	log_error("%s", err);
	return 1;
}
