/*
 * The names of the outcomes, for logs and test reports.
 */
#include "status.h"

const char *
status_name(enum status status)
{
	switch (status) {
	case STATUS_OK: return "ok";
	case STATUS_NOT_FOUND: return "not found";
	case STATUS_INVALID: return "invalid";
	case STATUS_CONFLICT: return "conflict";
	case STATUS_BUSY: return "busy";
	case STATUS_DEADLOCK: return "deadlock";
	case STATUS_EXISTS: return "exists";
	case STATUS_UNAVAILABLE: return "unavailable";
	case STATUS_NO_SPACE: return "no space";
	case STATUS_NO_MASTER: return "no master";
	case STATUS_NOT_REPLICATED: return "not replicated";
	case STATUS_NOT_MASTER: return "not the master";
	case STATUS_SYSTEM: return "system error";
	}
	return "unknown";
}
