/* metrics.c — see metrics.h. */
#include "metrics.h"

#include <string.h>
#include <sys/mman.h>

/* the statuses counted one by one; any other is counted as "other" */
static const int statuses[] = {200, 201, 202, 204, 300, 302, 400, 401, 403, 404, 405,
                               406, 409, 410, 413, 415, 429, 500, 501, 502, 503, 504};
#define NSTATUS (sizeof statuses / sizeof *statuses)
/* latency histogram bounds, seconds (+Inf after them) */
static const double bounds[] = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                                0.25,  0.5,    1,     2.5,  5,     10};
#define NBOUND (sizeof bounds / sizeof *bounds)
/* build durations, seconds */
static const char build_bounds[] = "{0.5,1,2,5,10,30,60,120,300,600}";

struct route_stats {
    unsigned long long by_status[NSTATUS + 1];
    unsigned long long le[NBOUND + 1]; /* non-cumulative here, summed when shown */
    unsigned long long micros;         /* sum of latencies */
};

struct shared {
    long workers, alive;
    unsigned long long db_reconnects, rpc_reconnects;
    struct route_stats r[]; /* one per route, then one for requests no route took */
};

static struct shared *m;

int metrics_init(void) {
    if (m) return 0;
    size_t size = sizeof *m + (nroutes + 1) * sizeof(struct route_stats);
    void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) return -1;
    m = p;
    return 0;
}

static void add(unsigned long long *c, unsigned long long n) {
    __atomic_fetch_add(c, n, __ATOMIC_RELAXED);
}

static unsigned long long get(const unsigned long long *c) {
    return __atomic_load_n(c, __ATOMIC_RELAXED);
}

void metrics_observe(const struct req *r, double seconds) {
    if (!m) return;
    size_t i = r->route ? (size_t)(r->route - routes) : nroutes;
    if (i > nroutes) i = nroutes;
    struct route_stats *s = &m->r[i];
    size_t k = 0;
    while (k < NSTATUS && statuses[k] != r->status)
        k++;
    add(&s->by_status[k], 1);
    size_t b = 0;
    while (b < NBOUND && seconds > bounds[b])
        b++;
    add(&s->le[b], 1);
    add(&s->micros, (unsigned long long)(seconds * 1e6));
    /* this worker's reconnects since its last request */
    static unsigned long db_seen, rpc_seen;
    unsigned long db = db_reconnects(), rpc = rpc_reconnects();
    if (db != db_seen) add(&m->db_reconnects, db - db_seen);
    if (rpc != rpc_seen) add(&m->rpc_reconnects, rpc - rpc_seen);
    db_seen = db;
    rpc_seen = rpc;
}

void metrics_workers(long configured, long alive) {
    if (!m) return;
    __atomic_store_n(&m->workers, configured, __ATOMIC_RELAXED);
    __atomic_store_n(&m->alive, alive, __ATOMIC_RELAXED);
}

static const char *method_name(enum http_method meth) {
    static const char *const names[] = {"GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"};
    return meth < METHOD_OTHER ? names[meth] : "OTHER";
}

/* the route's labels: route="<template>",method="<M>"[,action="<a>"] */
static void labels(struct sbuf *o, size_t i) {
    if (i == nroutes) {
        sbuf_addf(o, "route=\"none\",method=\"any\"");
        return;
    }
    sbuf_addf(o, "route=\"%s\",method=\"%s\"", routes[i].path, method_name(routes[i].method));
    if (routes[i].action) sbuf_addf(o, ",action=\"%s\"", routes[i].action);
}

static void help(struct sbuf *o, const char *name, const char *type, const char *text) {
    sbuf_addf(o, "# HELP %s %s\n# TYPE %s %s\n", name, text, name, type);
}

static void requests(struct sbuf *o) {
    help(o, "cnova_api_requests_total", "counter", "API requests answered, by route and status.");
    for (size_t i = 0; i <= nroutes; i++)
        for (size_t k = 0; k <= NSTATUS; k++) {
            unsigned long long n = get(&m->r[i].by_status[k]);
            if (!n) continue;
            sbuf_addf(o, "cnova_api_requests_total{");
            labels(o, i);
            if (k < NSTATUS)
                sbuf_addf(o, ",status=\"%d\"} %llu\n", statuses[k], n);
            else
                sbuf_addf(o, ",status=\"other\"} %llu\n", n);
        }
    help(o, "cnova_api_request_duration_seconds", "histogram",
         "Time to answer an API request, by route.");
    for (size_t i = 0; i <= nroutes; i++) {
        const struct route_stats *s = &m->r[i];
        unsigned long long cum = 0;
        for (size_t b = 0; b <= NBOUND; b++)
            cum += get(&s->le[b]);
        if (!cum) continue;
        cum = 0;
        for (size_t b = 0; b <= NBOUND; b++) {
            cum += get(&s->le[b]);
            sbuf_addf(o, "cnova_api_request_duration_seconds_bucket{");
            labels(o, i);
            if (b < NBOUND)
                sbuf_addf(o, ",le=\"%g\"} %llu\n", bounds[b], cum);
            else
                sbuf_addf(o, ",le=\"+Inf\"} %llu\n", cum);
        }
        sbuf_addf(o, "cnova_api_request_duration_seconds_sum{");
        labels(o, i);
        sbuf_addf(o, "} %.6f\ncnova_api_request_duration_seconds_count{", get(&s->micros) / 1e6);
        labels(o, i);
        sbuf_addf(o, "} %llu\n", cum);
    }
}

static void pool(struct sbuf *o) {
    help(o, "cnova_api_workers", "gauge", "API workers: configured and alive.");
    sbuf_addf(o, "cnova_api_workers{state=\"configured\"} %ld\n",
              __atomic_load_n(&m->workers, __ATOMIC_RELAXED));
    sbuf_addf(o, "cnova_api_workers{state=\"alive\"} %ld\n",
              __atomic_load_n(&m->alive, __ATOMIC_RELAXED));
    help(o, "cnova_api_reconnects_total", "counter",
         "Reconnects of the API workers to the database and the broker.");
    sbuf_addf(o, "cnova_api_reconnects_total{to=\"database\"} %llu\n", get(&m->db_reconnects));
    sbuf_addf(o, "cnova_api_reconnects_total{to=\"broker\"} %llu\n", get(&m->rpc_reconnects));
}

/* What the database knows now; nothing when it cannot be read. */
static void from_database(struct sbuf *o) {
    PGresult *r;
    if (db_query(&r,
                 "SELECT count(*), coalesce(extract(epoch FROM now() - min(created_at)), 0) "
                 "FROM outbox",
                 0, NULL) == DB_OK) {
        help(o, "cnova_outbox_depth", "gauge", "Outbox rows not yet published.");
        sbuf_addf(o, "cnova_outbox_depth %s\n", db_str(r, 0, 0));
        help(o, "cnova_outbox_oldest_seconds", "gauge", "Age of the oldest outbox row.");
        sbuf_addf(o, "cnova_outbox_oldest_seconds %s\n", db_str(r, 0, 1));
        PQclear(r);
    }
    if (db_query(&r,
                 "SELECT vm_state, count(*) FROM instances WHERE deleted = 0 GROUP BY vm_state "
                 "ORDER BY vm_state",
                 0, NULL) == DB_OK) {
        help(o, "cnova_instances", "gauge", "Servers by vm_state.");
        for (int i = 0; i < PQntuples(r); i++)
            sbuf_addf(o, "cnova_instances{vm_state=\"%s\"} %s\n", db_str(r, i, 0), db_str(r, i, 1));
        PQclear(r);
    }
    /* builds: created -> ACTIVE (launched), or -> ERROR */
    const char *p[] = {build_bounds};
    if (db_query(&r,
                 "WITH d AS (SELECT CASE WHEN vm_state = 'error' THEN 'error' ELSE 'active' END o, "
                 "extract(epoch FROM coalesce(launched_at, updated_at) - created_at)::float8 s "
                 "FROM instances WHERE launched_at IS NOT NULL OR vm_state = 'error') "
                 "SELECT o, b::text AS le, (SELECT count(*) FROM d d2 WHERE d2.o = d.o AND d2.s <= b), "
                 "count(*), sum(s) FROM d, unnest($1::float8[]) b GROUP BY o, b ORDER BY o, b",
                 1, p) == DB_OK) {
        help(o, "cnova_build_duration_seconds", "histogram",
             "Time from a server's create to ACTIVE (outcome active) or ERROR.");
        int n = PQntuples(r);
        for (int i = 0; i < n; i++) {
            const char *out = db_str(r, i, 0);
            sbuf_addf(o, "cnova_build_duration_seconds_bucket{outcome=\"%s\",le=\"%s\"} %s\n", out,
                      db_str(r, i, 1), db_str(r, i, 2));
            if (i + 1 == n || strcmp(out, db_str(r, i + 1, 0)))
                sbuf_addf(o,
                          "cnova_build_duration_seconds_bucket{outcome=\"%s\",le=\"+Inf\"} %s\n"
                          "cnova_build_duration_seconds_sum{outcome=\"%s\"} %s\n"
                          "cnova_build_duration_seconds_count{outcome=\"%s\"} %s\n",
                          out, db_str(r, i, 3), out, db_str(r, i, 4), out, db_str(r, i, 3));
        }
        PQclear(r);
    }
    const char *down[] = {config_get("DEFAULT", "service_down_time", "60")};
    if (db_query(&r,
                 "SELECT \"binary\", host, (last_seen_up > now() - make_interval(secs => "
                 "$1::float8))::int, db_reconnects, rpc_reconnects FROM services "
                 "WHERE deleted = 0 ORDER BY 1, 2",
                 1, down) == DB_OK) {
        int n = PQntuples(r);
        help(o, "cnova_service_up", "gauge", "1 when the service's heartbeat is recent.");
        for (int i = 0; i < n; i++)
            sbuf_addf(o, "cnova_service_up{binary=\"%s\",host=\"%s\"} %s\n", db_str(r, i, 0),
                      db_str(r, i, 1), db_str(r, i, 2));
        help(o, "cnova_service_reconnects_total", "counter",
             "Reconnects the service's processes reported with their heartbeats.");
        for (int i = 0; i < n; i++)
            sbuf_addf(o,
                      "cnova_service_reconnects_total{binary=\"%s\",host=\"%s\",to=\"database\"} %s\n"
                      "cnova_service_reconnects_total{binary=\"%s\",host=\"%s\",to=\"broker\"} %s\n",
                      db_str(r, i, 0), db_str(r, i, 1), db_str(r, i, 3), db_str(r, i, 0),
                      db_str(r, i, 1), db_str(r, i, 4));
        /* the queues of the workers: conductor, scheduler, one per compute */
        help(o, "cnova_queue_depth", "gauge", "Messages waiting in a work queue.");
        help(o, "cnova_queue_consumers", "gauge", "Consumers of a work queue.");
        char q[300];
        const char *fixed[] = {"conductor", "scheduler"};
        for (int i = -2; i < n; i++) {
            if (i < 0)
                snprintf(q, sizeof q, "%s", fixed[i + 2]);
            else if (!strcmp(db_str(r, i, 0), "nova-compute"))
                snprintf(q, sizeof q, "compute.%s", db_str(r, i, 1));
            else
                continue;
            long consumers = 0, depth = rpc_queue_depth(q, &consumers);
            if (depth < 0) break; /* the broker is away: no queue figures */
            sbuf_addf(o, "cnova_queue_depth{queue=\"%s\"} %ld\n", q, depth);
            sbuf_addf(o, "cnova_queue_consumers{queue=\"%s\"} %ld\n", q, consumers);
        }
        PQclear(r);
    }
}

void metrics_serve(struct req *r, struct sbuf *out) {
    if (!r->request_id[0]) request_id_new(r->request_id);
    struct sbuf body = {0};
    if (strcmp(r->path, "/metrics") || (r->method != GET && r->method != HEAD) || !m) {
        r->status = 404;
        sbuf_addf(&body, "404 Not Found: GET /metrics\n");
    } else {
        r->status = 200;
        requests(&body);
        pool(&body);
        from_database(&body);
    }
    sbuf_addf(out,
              "Status: %d %s\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\n"
              "Content-Length: %zu\r\n\r\n",
              r->status, api_status_reason(r->status), body.len);
    if (r->method != HEAD) sbuf_add(out, body.s ? body.s : "", body.len);
    sbuf_free(&body);
}
