/* service.h — what every cnova worker does around its work: read the
 * command line and the config file, log, stop cleanly on SIGTERM/SIGINT,
 * and keep its row in the services table (Nova's service heartbeat). */
#ifndef CNOVA_SERVICE_H
#define CNOVA_SERVICE_H

/* Set to 1 by SIGTERM / SIGINT; rpc_serve returns when it sees it. */
extern volatile int service_stop;

struct service_args {
    const char *config; /* --config FILE (NULL: /etc/cnova/cnova.conf if present) */
    const char *ping;   /* --ping TOPIC, when the program accepts it */
};

/* Parses `argv`: --config FILE, -h/--help and, when allow_ping, --ping
 * TOPIC. Returns 0 to go on, 1 when help was printed (exit 0), -1 on a usage
 * error (printed; exit 2). */
int service_parse_args(int argc, char **argv, const char *program, int allow_ping,
                       struct service_args *out);

/* Loads the config, starts logging as `program` at [DEFAULT] log_level and
 * installs the signal handlers. Returns 0, or -1 when the file is unreadable. */
int service_start(const char *program, const char *config);

/* Runs `n` copies of the caller's work loop (Nova's `workers` options).
 * With n <= 1 returns 0 at once. Otherwise the calling process becomes a
 * supervisor: it forks n workers, forks a new one when one dies, passes
 * SIGTERM / SIGINT on, and returns 1 once they have all stopped (the caller
 * exits); each worker returns 0 and goes on to its loop, and stops when
 * the supervisor dies (PR_SET_PDEATHSIG). Call it before opening the
 * database or the broker. Returns -1 when no worker can be forked. */
int service_workers(int n);

/* [DEFAULT] host: this process's host name. */
const char *service_host(void);

/* Records one heartbeat of (host, binary) in the services table, creating
 * the row on first sight, adding the reconnects (database, broker) its
 * process saw since its last heartbeat. Returns 0 or -1 (database
 * unavailable). */
int service_report(const char *host, const char *binary, const char *topic, long db_reconnects,
                   long rpc_reconnects);
/* service_report for this process's own service, with its own reconnects. */
int service_report_own(const char *host, const char *binary, const char *topic);

#endif
