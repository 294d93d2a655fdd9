/* log.c — oslo.log-like lines on stderr, one write(2) per line so that the
 * lines of several processes sharing a log file never interleave. */
#include "log.h"

#include "config.h"

#include <jansson.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static const char *prog = "cnova";
static int pid; /* cached: getpid(2) on every line showed in profiles */

static void refresh_pid(void) {
    pid = (int)getpid();
}
static enum log_level minlvl = LOG_INFO;
static const char *names[] = {"DEBUG", "INFO", "WARNING", "ERROR"};

static int json_lines;
static char cur_rid[64], cur_global[64];

void log_set_context(const char *request_id, const char *global_request_id) {
    snprintf(cur_rid, sizeof cur_rid, "%s", request_id ? request_id : "");
    snprintf(cur_global, sizeof cur_global, "%s", global_request_id ? global_request_id : "");
}

const char *log_request_id(void) {
    return cur_rid;
}

const char *log_global_request_id(void) {
    return cur_global;
}

void log_context_save(struct log_context *c) {
    snprintf(c->request_id, sizeof c->request_id, "%s", cur_rid);
    snprintf(c->global_request_id, sizeof c->global_request_id, "%s", cur_global);
}

void log_context_restore(const struct log_context *c) {
    log_set_context(c->request_id, c->global_request_id);
}

void log_init(const char *program, enum log_level min) {
    static int atfork_set;
    prog = program;
    minlvl = min;
    json_lines = !strcmp(config_get("DEFAULT", "log_format", "text"), "json");
    refresh_pid();
    if (!atfork_set++) pthread_atfork(NULL, NULL, refresh_pid);
}

/* One JSON line: the fields oslo.log's JSON formatter names. */
static int json_line(char *line, size_t cap, const char *when, enum log_level lvl,
                     const char *rid, const char *msg) {
    json_t *o = json_pack("{ss si ss ss ss ss ss}", "timestamp", when, "process",
                          pid ? pid : (int)getpid(), "levelname", names[lvl], "name", prog,
                          "request_id", rid, "global_request_id", cur_global, "message", msg);
    size_t n = o ? json_dumpb(o, line, cap - 2, JSON_COMPACT | JSON_ENSURE_ASCII) : 0;
    json_decref(o);
    if (n > cap - 2) n = 0; /* too long for one line: said so instead */
    if (!n) n = (size_t)snprintf(line, cap - 2, "{\"message\": \"(a log line too long)\"}");
    return (int)n;
}

void log_msg(enum log_level lvl, const char *request_id, const char *fmt, ...) {
    if (lvl < minlvl) return;
    char line[2048], when[64], ids[140];
    struct timeval tv;
    gettimeofday(&tv, NULL);
    struct tm tm;
    gmtime_r(&tv.tv_sec, &tm);
    snprintf(when, sizeof when, "%04d-%02d-%02d %02d:%02d:%02d.%03d", tm.tm_year + 1900,
             tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(tv.tv_usec / 1000));
    if (!request_id) request_id = cur_rid;
    if (!*request_id) request_id = "-";
    va_list ap;
    va_start(ap, fmt);
    int n;
    if (json_lines) {
        char msg[1536];
        vsnprintf(msg, sizeof msg, fmt, ap);
        n = json_line(line, sizeof line, when, lvl, request_id, msg);
    } else {
        if (*cur_global && strcmp(cur_global, request_id))
            snprintf(ids, sizeof ids, "%s %s", cur_global, request_id);
        else
            snprintf(ids, sizeof ids, "%s", request_id);
        n = snprintf(line, sizeof line, "%s %d %s %s [%s] ", when, pid ? pid : (int)getpid(),
                     names[lvl], prog, ids);
        if (n < (int)sizeof line) n += vsnprintf(line + n, sizeof line - n, fmt, ap);
    }
    va_end(ap);
    if (n > (int)sizeof line - 2) n = sizeof line - 2;
    line[n++] = '\n';
    ssize_t w = write(STDERR_FILENO, line, n);
    (void)w;
}
