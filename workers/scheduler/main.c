/* cnova-scheduler — consumes the "scheduler" queue and picks hosts for the
 * conductor: `select_destinations` loads the compute nodes with their
 * service state and aggregates, runs the filters (filters.c), orders the
 * survivors (weighers.c) and claims the resources on the best one that
 * still fits (claim.c). It heartbeats its own services row directly. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cnova.h"
#include "sched.h"
#include "service.h"

#define PROGRAM "cnova-scheduler"
#define TICK_MS 1000
#define NOT_ENOUGH "There are not enough hosts available."

struct scheduler {
    const char *host;
    double next_heartbeat;
    int heartbeat_ms;
};

static json_t *do_ping(json_t *args, struct scheduler *s) {
    return json_pack("{s:s, s:s}", "pong", "scheduler", "host", s->host);
}

static void free_hosts(struct sched_host *h, int n) {
    for (int i = 0; i < n; i++)
        json_decref(h[i].aggregate_meta);
    free(h);
}

/* Every live compute node, with its nova-compute service's state and the
 * metadata of its aggregates. Returns the count, or -1. */
static int load_hosts(struct sched_host **out) {
    *out = NULL;
    char secs[16];
    snprintf(secs, sizeof secs, "%ld", config_int("service", "service_down_time", 60));
    const char *p[] = {secs};
    PGresult *r = NULL;
    if (db_query(&r,
                 "SELECT cn.id, cn.host, cn.hypervisor_hostname, cn.hypervisor_type, "
                 "cn.cpu_info, cn.vcpus, cn.vcpus_used, cn.memory_mb, cn.memory_mb_used, "
                 "cn.local_gb, cn.local_gb_used, cn.reserved_host_memory_mb, cn.running_vms, "
                 "cn.cpu_allocation_ratio, cn.ram_allocation_ratio, cn.disk_allocation_ratio, "
                 "coalesce(NOT s.forced_down AND "
                 "s.last_seen_up > now() - make_interval(secs => $1::int), false), "
                 "coalesce(s.disabled, false) OR cn.status_disabled, "
                 "(SELECT jsonb_object_agg(key, vals) FROM (SELECT am.key, "
                 "jsonb_agg(DISTINCT am.value) AS vals FROM aggregate_hosts ah "
                 "JOIN aggregates a ON a.id = ah.aggregate_id AND a.deleted = 0 "
                 "JOIN aggregate_metadata am ON am.aggregate_id = a.id "
                 "WHERE ah.host = cn.host GROUP BY am.key) x)::text "
                 "FROM compute_nodes cn LEFT JOIN services s ON s.host = cn.host AND "
                 "s.\"binary\" = 'nova-compute' AND s.deleted = 0 "
                 "WHERE cn.deleted = 0 ORDER BY cn.id",
                 1, p) != DB_OK) {
        log_error("select_destinations: %s", db_errmsg());
        return -1;
    }
    int n = PQntuples(r);
    struct sched_host *h = calloc(n ? (size_t)n : 1, sizeof *h);
    const char *def_az = config_get("DEFAULT", "default_availability_zone", "nova");
    for (int i = 0; i < n; i++) {
        struct sched_host *x = &h[i];
        x->id = db_int(r, i, 0);
        snprintf(x->host, sizeof x->host, "%s", db_str(r, i, 1));
        snprintf(x->node, sizeof x->node, "%s", db_str(r, i, 2));
        snprintf(x->hypervisor_type, sizeof x->hypervisor_type, "%s", db_str(r, i, 3));
        json_t *cpu = json_loads(db_str(r, i, 4), 0, NULL);
        const char *arch = json_string_value(json_object_get(cpu, "arch"));
        snprintf(x->arch, sizeof x->arch, "%s", arch ? arch : "x86_64");
        json_decref(cpu);
        x->vcpus = db_int(r, i, 5);
        x->vcpus_used = db_int(r, i, 6);
        x->memory_mb = db_int(r, i, 7);
        x->memory_mb_used = db_int(r, i, 8);
        x->local_gb = db_int(r, i, 9);
        x->local_gb_used = db_int(r, i, 10);
        x->reserved_mb = db_int(r, i, 11);
        x->running_vms = db_int(r, i, 12);
        x->cpu_ratio = atof(db_str(r, i, 13));
        x->ram_ratio = atof(db_str(r, i, 14));
        x->disk_ratio = atof(db_str(r, i, 15));
        x->service_up = db_bool(r, i, 16);
        x->service_disabled = db_bool(r, i, 17);
        x->aggregate_meta =
            db_isnull(r, i, 18) ? json_object() : json_loads(db_str(r, i, 18), 0, NULL);
        if (!x->aggregate_meta) x->aggregate_meta = json_object();
        /* Nova joins the zones of a host's aggregates with ",". */
        json_t *azs = json_object_get(x->aggregate_meta, "availability_zone");
        struct sbuf az = {0};
        size_t k;
        json_t *v;
        json_array_foreach(azs, k, v) {
            sbuf_addf(&az, "%s%s", k ? "," : "", json_string_value(v));
        }
        snprintf(x->az, sizeof x->az, "%s", az.len ? az.s : def_az);
        sbuf_free(&az);
    }
    PQclear(r);
    *out = h;
    return n;
}

/* A scheduler hint that names instances (a uuid or a list of them) as the
 * list of hosts they run on. NULL when the hint is absent. */
static json_t *hosts_of_hint(json_t *hint) {
    if (!hint) return NULL;
    struct sbuf arr = {0};
    sbuf_add(&arr, "{", 1);
    int k = 0;
    json_t *list = json_is_array(hint) ? json_incref(hint) : json_pack("[O]", hint);
    size_t i;
    json_t *v;
    json_array_foreach(list, i, v) {
        const char *u = json_string_value(v);
        if (u && uuid_valid(u)) sbuf_addf(&arr, "%s%s", k++ ? "," : "", u);
    }
    sbuf_add(&arr, "}", 1);
    json_decref(list);
    json_t *out = json_array();
    PGresult *r = NULL;
    const char *p[] = {arr.s};
    if (k && db_query(&r,
                      "SELECT DISTINCT host FROM instances WHERE uuid = ANY($1::uuid[]) AND "
                      "deleted = 0 AND host IS NOT NULL",
                      1, p) == DB_OK) {
        for (int j = 0; j < PQntuples(r); j++)
            json_array_append_new(out, json_string(db_str(r, j, 0)));
        PQclear(r);
    }
    sbuf_free(&arr);
    return out;
}

/* The server group's policy and where its other members run. */
static void load_group(struct sched_request *q, const char *group, char *policy, size_t plen) {
    const char *p[] = {group, q->uuid};
    PGresult *r = NULL;
    if (db_query(&r,
                 "SELECT policy, coalesce((rules->>'max_server_per_host')::int, 1) "
                 "FROM server_groups WHERE uuid = $1 AND deleted = 0",
                 1, p) != DB_OK ||
        PQntuples(r) == 0) {
        PQclear(r);
        return;
    }
    snprintf(policy, plen, "%s", db_str(r, 0, 0));
    q->group_policy = policy;
    q->max_per_host = db_int(r, 0, 1);
    PQclear(r);
    if (db_query(&r,
                 "SELECT i.host, count(*) FROM server_group_members m JOIN instances i ON "
                 "i.uuid = m.instance_uuid AND i.deleted = 0 WHERE m.group_uuid = $1 AND "
                 "m.deleted = 0 AND i.host IS NOT NULL AND i.uuid <> $2 GROUP BY i.host",
                 2, p) != DB_OK)
        return;
    for (int i = 0; i < PQntuples(r); i++)
        json_object_set_new(q->group_hosts, db_str(r, i, 0), json_integer(db_int(r, i, 1)));
    PQclear(r);
}

/* Keeps only hosts[] entries named by the request (force_host and friends)
 * and drops the ones to ignore (hosts that already failed this build). */
static int restrict_hosts(struct sched_host *h, int n, const char *host, const char *node,
                          json_t *ignore) {
    int k = 0;
    for (int i = 0; i < n; i++) {
        int keep = (!host || !strcmp(host, h[i].host)) && (!node || !strcmp(node, h[i].node));
        size_t j;
        json_t *v;
        json_array_foreach(ignore, j, v) {
            if (json_string_value(v) && !strcmp(json_string_value(v), h[i].host)) keep = 0;
        }
        if (keep)
            h[k++] = h[i];
        else
            json_decref(h[i].aggregate_meta);
    }
    return k;
}

/* args {instance: {uuid, vcpus, memory_mb, disk_gb, flavor, availability_zone},
 * request_spec, ignore_hosts, migration_id (moves)}. Replies {host, nodename,
 * compute_node_id, availability_zone, claim} or {error: "NoValidHost", reason}. */
static json_t *do_select_destinations(json_t *args, struct scheduler *s) {
    json_t *inst = json_object_get(args, "instance");
    json_t *spec = json_object_get(args, "request_spec");
    json_t *hints = json_object_get(spec, "scheduler_hints");
    struct sched_request q = {
        .uuid = json_string_value(json_object_get(inst, "uuid")),
        .vcpus = json_integer_value(json_object_get(inst, "vcpus")),
        .memory_mb = json_integer_value(json_object_get(inst, "memory_mb")),
        .disk_gb = json_integer_value(json_object_get(inst, "disk_gb")),
        .az = json_string_value(json_object_get(spec, "availability_zone")),
        .extra_specs = json_object_get(json_object_get(inst, "flavor"), "extra_specs"),
        .image_props = json_object_get(json_object_get(spec, "image"), "properties"),
        .group_hosts = json_object(),
        .migration_id = json_string_value(json_object_get(args, "migration_id")),
    };
    if (!q.uuid) {
        json_decref(q.group_hosts);
        return rpc_failure("select_destinations needs instance.uuid");
    }
    if (!q.az) q.az = json_string_value(json_object_get(inst, "availability_zone"));
    char policy[32];
    const char *group = json_string_value(json_object_get(spec, "group_uuid"));
    if (!group) group = json_string_value(json_object_get(hints, "group"));
    if (group && uuid_valid(group)) load_group(&q, group, policy, sizeof policy);
    q.same_hosts = hosts_of_hint(json_object_get(hints, "same_host"));
    q.different_hosts = hosts_of_hint(json_object_get(hints, "different_host"));

    struct sched_host *hosts;
    int n = load_hosts(&hosts);
    json_t *res = NULL;
    if (n < 0) {
        res = rpc_failure("database unavailable");
        goto out;
    }
    const char *force_host = json_string_value(json_object_get(spec, "force_host"));
    const char *force_node = json_string_value(json_object_get(spec, "force_node"));
    const char *req_host = json_string_value(json_object_get(spec, "requested_host"));
    const char *req_node =
        json_string_value(json_object_get(spec, "requested_hypervisor_hostname"));
    json_t *ignore = json_object_get(args, "ignore_hosts");
    if (force_host || force_node) {
        /* Nova: a forced host skips the filters (the claim still applies). */
        n = restrict_hosts(hosts, n, force_host, force_node, ignore);
    } else {
        n = restrict_hosts(hosts, n, req_host, req_node, ignore);
        n = sched_filter(hosts, n, &q);
    }
    sched_weigh(hosts, n, &q);
    for (int i = 0; i < n && !res; i++) {
        int c = sched_claim(&hosts[i], &q);
        if (c == -2) {
            res = rpc_failure("instance deleted meanwhile");
        } else if (c < 0) {
            res = rpc_failure("database unavailable");
        } else if (c > 0) {
            res = json_pack("{s:s, s:s, s:I, s:s, s:{s:I, s:I, s:I, s:I}}", "host", hosts[i].host,
                            "nodename", hosts[i].node, "compute_node_id", (json_int_t)hosts[i].id,
                            "availability_zone", hosts[i].az, "claim", "node_id",
                            (json_int_t)hosts[i].id, "vcpus", (json_int_t)q.vcpus, "memory_mb",
                            (json_int_t)q.memory_mb, "disk_gb", (json_int_t)q.disk_gb);
            log_info("instance %s: %s (%d candidates)", q.uuid, hosts[i].host, n);
        }
    }
    if (!res) {
        log_info("instance %s: no valid host (%d candidates)", q.uuid, n);
        res = json_pack("{s:s, s:s}", "error", "NoValidHost", "reason", NOT_ENOUGH);
    }
    free_hosts(hosts, n);
out:
    json_decref(q.group_hosts);
    json_decref(q.same_hosts);
    json_decref(q.different_hosts);
    return res;
}

static const struct {
    const char *method;
    json_t *(*fn)(json_t *args, struct scheduler *s);
} methods[] = {
    {"ping", do_ping},
    {"select_destinations", do_select_destinations},
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
        service_report_own(s->host, "nova-scheduler", "scheduler");
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
    rc = service_workers((int)config_int("scheduler", "workers", 2));
    if (rc != 0) {
        config_free();
        return rc > 0 ? 0 : 1;
    }
    log_info("starting on host %s", s.host);
    if (db_open() != DB_OK) log_warn("database unavailable (will retry): %s", db_errmsg());
    rpc_serve("scheduler", dispatch, &s, tick, TICK_MS, &service_stop);
    log_info("stopping");
    rpc_close();
    db_close();
    config_free();
    return 0;
}
