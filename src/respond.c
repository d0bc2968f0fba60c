/*
 * The answers the handlers share: a store status other than STATUS_OK as
 * its problem, and a rendered JSON body.
 */
#include "respond.h"

void
respond_status(struct response *response, enum status status,
    const char *environment, uint64_t system_version)
{
	switch (status) {
	case STATUS_NOT_FOUND:
		if (system_version != 0)
			response_problem(response, PROBLEM_NOT_FOUND, NULL,
			    "environment %s has no system version %llu",
			    environment, (unsigned long long)system_version);
		else
			response_problem(response, PROBLEM_NOT_FOUND, NULL,
			    "environment %s has never had a deploy",
			    environment);
		break;
	case STATUS_NO_SPACE:
		response_problem(response, PROBLEM_STORAGE_FULL, NULL,
		    "the disk of the store is full (or below its reserve): "
		    "nothing new can be recorded until space is freed; retry "
		    "later");
		break;
	case STATUS_BUSY:
		response_problem(response, PROBLEM_UNAVAILABLE, NULL,
		    "the store is busy; retry shortly");
		break;
	case STATUS_NO_MASTER:
		response_problem(response, PROBLEM_NO_MASTER, NULL,
		    "no master of the replication group is known now (an "
		    "election is under way, or this site is cut off from the "
		    "others); retry shortly");
		break;
	case STATUS_NOT_REPLICATED:
		if (system_version != 0)
			response_problem(response, PROBLEM_NOT_REPLICATED, NULL,
			    "system version %llu of environment %s is on the "
			    "master but has not reached this site yet; retry "
			    "shortly", (unsigned long long)system_version,
			    environment);
		else
			response_problem(response, PROBLEM_NOT_REPLICATED, NULL,
			    "a quorum of the replication group did not "
			    "acknowledge the report in time: the master may "
			    "hold it, and an election may undo it; resending "
			    "it is safe");
		break;
	default:
		response_problem(response, PROBLEM_UNAVAILABLE, NULL,
		    "the store cannot serve now; retry shortly");
		break;
	}
}

void
respond_rendered(struct response *response, char *body, size_t len)
{
	if (body == NULL)
		response_problem(response, PROBLEM_UNAVAILABLE, NULL,
		    "the server is short of memory");
	else
		response_json(response, 200, body, len);
}
