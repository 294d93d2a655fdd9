/* log.h — oslo.log-like lines on stderr:
 *   2026-11-25 16:52:05.123 1234 INFO cnova-api [req-...] message
 *   2026-11-25 16:52:05.123 1234 INFO cnova-api [req-global req-local] message
 * or, with [DEFAULT] log_format = json, one JSON object a line
 *   {"timestamp": ..., "process": 1234, "levelname": "INFO", "name":
 *    "cnova-api", "request_id": ..., "global_request_id": ..., "message": ...}
 * One line per request (fcgi-api) and one per RPC message (lib/rpc).
 *
 * The request context: the id of the API request whose work a process is
 * doing now (and the caller's global id, X-OpenStack-Request-ID), set by the
 * API for each request and by lib/rpc for each message it serves (the
 * messages carry it as oslo.messaging's _context_request_id), so that every
 * line a request causes, in every process, names it. log_msg's request_id
 * NULL means the context's. */
#ifndef CNOVA_LOG_H
#define CNOVA_LOG_H

enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARNING, LOG_ERROR };

void log_init(const char *program, enum log_level min);
void log_msg(enum log_level lvl, const char *request_id, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Sets (NULL or "" clears) the current request context; both copied. */
void log_set_context(const char *request_id, const char *global_request_id);
/* The current context's ids ("" when none). */
const char *log_request_id(void);
const char *log_global_request_id(void);
/* A copy of the current context: to put back after working in another
 * one, or to keep with work that is sent later. */
struct log_context {
    char request_id[64], global_request_id[64];
};
void log_context_save(struct log_context *c);
void log_context_restore(const struct log_context *c);

#define log_debug(...) log_msg(LOG_DEBUG, NULL, __VA_ARGS__)
#define log_info(...) log_msg(LOG_INFO, NULL, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_WARNING, NULL, __VA_ARGS__)
#define log_error(...) log_msg(LOG_ERROR, NULL, __VA_ARGS__)

#endif
