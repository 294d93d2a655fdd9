/* log.h — oslo.log-like lines on stderr:
 *   2026-11-25 16:52:05.123 1234 INFO cnova-api [req-...] message
 * One line per request (fcgi-api) and one per RPC message (lib/rpc). */
#ifndef CNOVA_LOG_H
#define CNOVA_LOG_H

enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARNING, LOG_ERROR };

void log_init(const char *program, enum log_level min);
void log_msg(enum log_level lvl, const char *request_id, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define log_debug(...) log_msg(LOG_DEBUG, NULL, __VA_ARGS__)
#define log_info(...) log_msg(LOG_INFO, NULL, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_WARNING, NULL, __VA_ARGS__)
#define log_error(...) log_msg(LOG_ERROR, NULL, __VA_ARGS__)

#endif
