/*
 * Logging to standard error, one line per event, with time, level and pid.
 */
#ifndef RELEASEMGR_LOG_H
#define RELEASEMGR_LOG_H

#include "status.h"

void	log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void	log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void	log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
