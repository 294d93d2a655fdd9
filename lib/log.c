/* log.c — oslo.log-like lines on stderr, one write(2) per line so that the
 * lines of several processes sharing a log file never interleave. */
#include "log.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
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

void log_init(const char *program, enum log_level min) {
    static int atfork_set;
    prog = program;
    minlvl = min;
    refresh_pid();
    if (!atfork_set++) pthread_atfork(NULL, NULL, refresh_pid);
}

void log_msg(enum log_level lvl, const char *request_id, const char *fmt, ...) {
    if (lvl < minlvl) return;
    char line[2048];
    struct timeval tv;
    gettimeofday(&tv, NULL);
    struct tm tm;
    gmtime_r(&tv.tv_sec, &tm);
    int n = snprintf(line, sizeof line, "%04d-%02d-%02d %02d:%02d:%02d.%03d %d %s %s [%s] ",
                     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
                     tm.tm_sec, (int)(tv.tv_usec / 1000), pid ? pid : (int)getpid(), names[lvl], prog,
                     request_id ? request_id : "-");
    va_list ap;
    va_start(ap, fmt);
    if (n < (int)sizeof line) n += vsnprintf(line + n, sizeof line - n, fmt, ap);
    va_end(ap);
    if (n > (int)sizeof line - 2) n = sizeof line - 2;
    line[n++] = '\n';
    ssize_t w = write(STDERR_FILENO, line, n);
    (void)w;
}
