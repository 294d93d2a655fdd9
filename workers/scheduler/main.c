/* cnova-scheduler — consumes the "scheduler" queue and picks hosts for the
 * conductor. The filter scheduler (filters.c: drop unfit hosts; weighers.c:
 * order the rest; a claim in PostgreSQL) plugs in as methods of the table
 * below. It heartbeats its own services row directly in the database. */
#include <string.h>

#include "cnova.h"
#include "service.h"

#define PROGRAM "cnova-scheduler"
#define TICK_MS 1000

struct scheduler {
    const char *host;
    double next_heartbeat;
    int heartbeat_ms;
};

static json_t *do_ping(json_t *args, struct scheduler *s) {
    return json_pack("{s:s, s:s}", "pong", "scheduler", "host", s->host);
}

static const struct {
    const char *method;
    json_t *(*fn)(json_t *args, struct scheduler *s);
} methods[] = {
    {"ping", do_ping},
};

static json_t *dispatch(const char *method, json_t *args, void *ud) {
    for (size_t i = 0; i < sizeof methods / sizeof methods[0]; i++)
        if (!strcmp(methods[i].method, method)) return methods[i].fn(args, ud);
    return rpc_failure("scheduler has no method %s", method);
}

static void tick(void *ud) {
    struct scheduler *s = ud;
    double now = now_ms();
    if (now >= s->next_heartbeat) {
        service_report(s->host, "nova-scheduler", "scheduler");
        s->next_heartbeat = now + s->heartbeat_ms;
    }
}

int main(int argc, char **argv) {
    struct service_args a;
    int rc = service_parse_args(argc, argv, PROGRAM, 0, &a);
    if (rc) return rc > 0 ? 0 : 2;
    if (service_start(PROGRAM, a.config) < 0) return 1;

    struct scheduler s = {
        .host = service_host(),
        .heartbeat_ms = (int)config_int("compute", "heartbeat_interval", 10) * 1000,
    };
    log_info("starting on host %s", s.host);
    if (db_open() != DB_OK) log_warn("database unavailable (will retry): %s", db_errmsg());
    rpc_serve("scheduler", dispatch, &s, tick, TICK_MS, &service_stop);
    log_info("stopping");
    rpc_close();
    db_close();
    config_free();
    return 0;
}
