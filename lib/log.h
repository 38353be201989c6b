/* SPDX-License-Identifier: Apache-2.0 */
/*
 * log: one JSON object per line per event, e.g.
 *   {"ts":"2026-11-23T05:40:00.123Z","level":"info","prog":"execd","msg":"listening","request_id":"..","port":"44772"}
 * Lines below the configured level are dropped before any formatting.
 * Each line is written with one write(2), so lines from several processes
 * sharing the fd do not interleave.
 */
#ifndef LIB_LOG_H
#define LIB_LOG_H

enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR };

/* Sets the program name, minimum level and output fd (default: "-", INFO, 2). */
void log_init(const char *program, enum log_level min, int fd);
/* "debug"/"info"/"warn"/"error" (or the numbers 0-3); -1 if unknown. */
int log_level_parse(const char *s);
int log_enabled(enum log_level level);

/*
 * Logs msg with optional extra string fields given as key, value pairs ending
 * with NULL. request_id may be NULL.
 */
void log_msg(enum log_level level, const char *request_id, const char *msg, ...)
	__attribute__((sentinel));

#endif
