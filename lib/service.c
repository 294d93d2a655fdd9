/* service.c — the frame shared by cnova-conductor, cnova-scheduler and
 * cnova-compute: command line, config, logging, signals, and the services
 * row upsert that makes `openstack compute service list` show them. */
#include "service.h"
#include "rpc.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "config.h"
#include "db.h"
#include "log.h"
#include "util.h"

#define DEFAULT_CONFIG "/etc/cnova/cnova.conf"

volatile int service_stop;

static void on_signal(int sig) {
    (void)sig;
    service_stop = 1;
}

static void usage(FILE *f, const char *program, int allow_ping) {
    fprintf(f, "usage: %s [--config FILE]%s\n", program, allow_ping ? " [--ping TOPIC]" : "");
    fprintf(f, "  --config FILE   cnova.conf (default %s, else built-in defaults)\n",
            DEFAULT_CONFIG);
    if (allow_ping)
        fprintf(f, "  --ping TOPIC    call `ping` on TOPIC (conductor, scheduler, compute.HOST),\n"
                   "                  print the reply as JSON and exit 0, or 1 on failure\n");
}

int service_parse_args(int argc, char **argv, const char *program, int allow_ping,
                       struct service_args *out) {
    memset(out, 0, sizeof *out);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout, program, allow_ping);
            return 1;
        }
        const char **dst = NULL;
        if (!strcmp(a, "--config") || !strcmp(a, "--config-file"))
            dst = &out->config;
        else if (allow_ping && !strcmp(a, "--ping"))
            dst = &out->ping;
        if (!dst || i + 1 >= argc) {
            fprintf(stderr, "%s: %s '%s'\n", program, dst ? "missing value for" : "unknown option",
                    a);
            usage(stderr, program, allow_ping);
            return -1;
        }
        *dst = argv[++i];
    }
    return 0;
}

int service_start(const char *program, const char *config) {
    if (config) {
        if (config_load(config) < 0) {
            fprintf(stderr, "%s: cannot read %s: %m\n", program, config);
            return -1;
        }
    } else if (access(DEFAULT_CONFIG, R_OK) == 0) {
        config_load(DEFAULT_CONFIG);
    }
    /* [database] worker_synchronous_commit (on): a worker's commit is
     * durable before its effect leaves the process (a cast to a host, a
     * reply), so a database crash loses nothing a host acted on; off trades
     * that for a WAL flush per commit (lost writes wait for build_timeout). */
    if (!config_get("database", "worker_synchronous_commit", NULL))
        config_set("database", "worker_synchronous_commit", "on");
    config_set("database", "synchronous_commit",
               config_get("database", "worker_synchronous_commit", "on"));
    static const char *levels[] = {"DEBUG", "INFO", "WARNING", "ERROR"};
    const char *lvl = config_get("DEFAULT", "log_level", "INFO");
    enum log_level min = LOG_INFO;
    for (int i = 0; i < 4; i++)
        if (!strcasecmp(lvl, levels[i])) min = (enum log_level)i;
    log_init(program, min);

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal; /* no SA_RESTART: blocking waits return early */
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    return 0;
}

/* Forks one worker; returns its pid in the parent, 0 in the worker. */
static pid_t fork_worker(pid_t parent) {
    pid_t pid = fork();
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGTERM);
        if (getppid() != parent) _exit(0); /* the supervisor died before prctl */
    }
    return pid;
}

int service_workers(int n) {
    if (n <= 1) return 0;
    pid_t self = getpid();
    pid_t *kids = calloc((size_t)n, sizeof *kids);
    for (int i = 0; i < n; i++) {
        kids[i] = fork_worker(self);
        if (kids[i] == 0) {
            free(kids);
            return 0;
        }
        if (kids[i] < 0) log_error("fork: %s", strerror(errno));
    }
    log_info("supervising %d workers", n);
    while (!service_stop) {
        int status;
        pid_t dead = waitpid(-1, &status, 0);
        if (dead < 0) {
            if (errno == EINTR) continue;
            sleep(1); /* no child at all: fork failures, try again below */
        }
        for (int i = 0; i < n && !service_stop; i++) {
            if (kids[i] > 0 && kids[i] != dead) continue;
            if (kids[i] > 0)
                log_warn("worker %d exited (status %d): starting another", dead, status);
            kids[i] = fork_worker(self);
            if (kids[i] == 0) {
                free(kids);
                return 0;
            }
        }
    }
    for (int i = 0; i < n; i++)
        if (kids[i] > 0) kill(kids[i], SIGTERM);
    while (waitpid(-1, NULL, 0) > 0 || errno == EINTR)
        ;
    free(kids);
    return 1;
}

const char *service_host(void) {
    return config_get("DEFAULT", "host", "compute1");
}

int service_report(const char *host, const char *binary, const char *topic, long db_reconnects,
                   long rpc_reconnects) {
    char uuid[37], dbr[24], rpcr[24];
    uuid_new(uuid);
    snprintf(dbr, sizeof dbr, "%ld", db_reconnects > 0 ? db_reconnects : 0);
    snprintf(rpcr, sizeof rpcr, "%ld", rpc_reconnects > 0 ? rpc_reconnects : 0);
    const char *p[] = {uuid, host, binary, topic, dbr, rpcr};
    enum db_status st = db_exec(
        "INSERT INTO services (uuid, host, \"binary\", topic, report_count, last_seen_up, "
        "updated_at, db_reconnects, rpc_reconnects) VALUES ($1, $2, $3, $4, 1, now(), now(), "
        "$5, $6) ON CONFLICT (host, \"binary\", deleted) DO UPDATE SET "
        "report_count = services.report_count + 1, last_seen_up = now(), updated_at = now(), "
        "db_reconnects = services.db_reconnects + $5, "
        "rpc_reconnects = services.rpc_reconnects + $6",
        6, p);
    if (st != DB_OK) {
        log_warn("service heartbeat of %s on %s not recorded: %s", binary, host, db_errmsg());
        return -1;
    }
    return 0;
}

int service_report_own(const char *host, const char *binary, const char *topic) {
    static unsigned long db_told, rpc_told;
    unsigned long db = db_reconnects(), rpc = rpc_reconnects();
    if (service_report(host, binary, topic, (long)(db - db_told), (long)(rpc - rpc_told))) return -1;
    db_told = db;
    rpc_told = rpc;
    return 0;
}
