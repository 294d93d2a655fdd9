/* hypervisors.c — os-hypervisors: the compute nodes the cnova-compute
 * workers report, each with its nova-compute service (state up/down,
 * status enabled/disabled) and, when asked, the servers it runs. Integer
 * ids before 2.53, uuids from 2.53; paging from 2.33; 2.88 drops the
 * resource counters from the detail view. Nodes whose service is gone are
 * skipped, as in Nova. */
#include <string.h>

#include "api.h"

enum {
    C_ID, C_UUID, C_NAME, C_TYPE, C_VERSION, C_IP, C_CPU, C_VCPUS, C_MEM, C_DISK, C_VCPUS_USED,
    C_MEM_USED, C_DISK_USED, C_RUNNING, C_HOST, C_SVC_ID, C_SVC_UUID, C_DISABLED, C_REASON, C_UP,
    C_WORKLOAD, C_SERVERS
};

/* $1 down time; nodes() adds the conditions asked for and the order. */
#define NODES_SQL                                                                                  \
    "SELECT cn.id, cn.uuid, cn.hypervisor_hostname, cn.hypervisor_type, cn.hypervisor_version,"   \
    " cn.host_ip, cn.cpu_info, cn.vcpus, cn.memory_mb, cn.local_gb, cn.vcpus_used,"               \
    " cn.memory_mb_used, cn.local_gb_used, cn.running_vms, cn.host, s.id, s.uuid, s.disabled,"    \
    " s.disabled_reason,"                                                                          \
    " (NOT s.forced_down AND s.last_seen_up > now() - make_interval(secs => $1::int)),"            \
    " (SELECT count(*) FROM instances i WHERE i.host = cn.host AND i.deleted = 0"                  \
    "   AND i.task_state IS NOT NULL),"                                                            \
    " (SELECT json_agg(json_build_object('name', 'instance-' || lpad(to_hex(i.id), 8, '0'),"       \
    "   'uuid', i.uuid) ORDER BY i.id) FROM instances i WHERE i.host = cn.host"                    \
    "   AND i.deleted = 0)"                                                                         \
    " FROM compute_nodes cn JOIN services s ON s.host = cn.host AND s.deleted = 0"                \
    "  AND s.\"binary\" = 'nova-compute'"                                                          \
    " WHERE cn.deleted = 0"

/* One hypervisor: the summary, or the detail view of its microversion;
 * servers: the list of its servers (JSON NULL = no servers), or NULL. */
static json_t *node_json(const struct req *r, PGresult *res, int i, bool detail, bool servers) {
    bool uuids = req_ver_ge(r, MV(2, 53));
    json_t *h = json_pack("{s:s,s:s,s:s}", "hypervisor_hostname", db_str(res, i, C_NAME), "state",
                          db_bool(res, i, C_UP) ? "up" : "down", "status",
                          db_bool(res, i, C_DISABLED) ? "disabled" : "enabled");
    json_object_set_new(h, "id", uuids ? json_string(db_str(res, i, C_UUID))
                                       : json_integer(db_int(res, i, C_ID)));
    if (detail) {
        json_object_set_new(h, "hypervisor_type", json_string(db_str(res, i, C_TYPE)));
        json_object_set_new(h, "hypervisor_version", json_integer(db_int(res, i, C_VERSION)));
        const char *ip = db_str(res, i, C_IP);
        json_object_set_new(h, "host_ip", ip ? json_string(ip) : json_null());
        json_object_set_new(
            h, "service",
            json_pack("{s:o,s:s,s:s?}", "id",
                      uuids ? json_string(db_str(res, i, C_SVC_UUID))
                            : json_integer(db_int(res, i, C_SVC_ID)),
                      "host", db_str(res, i, C_HOST), "disabled_reason", db_str(res, i, C_REASON)));
    }
    if (detail && !req_ver_ge(r, MV(2, 88))) {
        static const struct { const char *name; int col; } counters[] = {
            {"vcpus", C_VCPUS},           {"memory_mb", C_MEM},
            {"local_gb", C_DISK},         {"vcpus_used", C_VCPUS_USED},
            {"memory_mb_used", C_MEM_USED}, {"local_gb_used", C_DISK_USED},
            {"current_workload", C_WORKLOAD}, {"running_vms", C_RUNNING},
        };
        for (size_t k = 0; k < sizeof counters / sizeof counters[0]; k++)
            json_object_set_new(h, counters[k].name, json_integer(db_int(res, i, counters[k].col)));
        long long free_disk = db_int(res, i, C_DISK) - db_int(res, i, C_DISK_USED);
        json_object_set_new(h, "free_ram_mb",
                            json_integer(db_int(res, i, C_MEM) - db_int(res, i, C_MEM_USED)));
        json_object_set_new(h, "free_disk_gb", json_integer(free_disk));
        json_object_set_new(h, "disk_available_least", json_integer(free_disk));
        const char *cpu = db_str(res, i, C_CPU);
        if (req_ver_ge(r, MV(2, 28))) {
            json_t *info = cpu && cpu[0] ? json_loads(cpu, 0, NULL) : NULL;
            json_object_set_new(h, "cpu_info", info ? info : json_object());
        } else
            json_object_set_new(h, "cpu_info", json_string(cpu ? cpu : ""));
    }
    if (detail && req_ver_ge(r, MV(2, 88))) json_object_set_new(h, "uptime", json_null());
    if (servers && !db_isnull(res, i, C_SERVERS))
        json_object_set_new(h, "servers", json_loads(db_str(res, i, C_SERVERS), 0, NULL));
    else if (servers && req_ver_ge(r, MV(2, 75)))
        json_object_set_new(h, "servers", json_array());
    return h;
}

static const char *down_time(char buf[32]) {
    snprintf(buf, 32, "%ld", config_int("service", "service_down_time", 60));
    return buf;
}

/* Runs NODES_SQL for the hostname pattern, the node (id before 2.53, else
 * uuid), the marker's row id (NULL = none of each) and the limit. */
static enum db_status nodes(PGresult **res, const char *pattern, const char *node,
                            const char *marker_id, long limit) {
    char down[32], lim[24];
    snprintf(lim, sizeof lim, "%ld", limit);
    struct db_sql q = {.text = ""};
    db_sql_param(&q, down_time(down));
    db_sql_add(&q, NODES_SQL, NULL);
    if (pattern) db_sql_add(&q, " AND cn.hypervisor_hostname LIKE '%' || $? || '%'", pattern);
    if (node) db_sql_add(&q, " AND (cn.id::text = $? OR cn.uuid::text = lower($?))", node);
    if (marker_id) db_sql_add(&q, " AND cn.id > $?::int", marker_id);
    db_sql_add(&q, " ORDER BY cn.id LIMIT $?::bigint", lim);
    return db_query_sql(res, &q);
}

/* index and detail: paging (2.33) or a hostname pattern (2.53), with
 * servers when asked (2.53). */
static int list(struct req *r, bool detail) {
    const char *pattern = NULL, *marker = NULL;
    bool with_servers = false, paged = req_ver_ge(r, MV(2, 33));
    if (req_ver_ge(r, MV(2, 53))) {
        pattern = req_query(r, "hypervisor_hostname_pattern");
        const char *ws = req_query(r, "with_servers");
        if (ws && !str_to_bool(ws, &with_servers))
            return api_error(r, 400, "Invalid input for query parameters with_servers.");
    }
    if (paged) marker = req_query(r, "marker");
    if (pattern && (req_query(r, "limit") || marker))
        return api_error(r, 400, "Paging over hypervisors with the hypervisor_hostname_pattern "
                                 "query parameter is not supported.");
    long limit = paged && !pattern ? paging_limit(r) : 1L << 40;
    char marker_id[24] = "";
    PGresult *res;
    enum db_status st;
    if (marker) {
        const char *params[] = {marker};
        st = db_query(&res,
                      "SELECT id FROM compute_nodes WHERE deleted = 0 AND"
                      " (id::text = $1 OR uuid::text = lower($1))",
                      1, params);
        if (st) return api_db_error(r, st);
        if (PQntuples(res)) snprintf(marker_id, sizeof marker_id, "%s", db_str(res, 0, 0));
        PQclear(res);
        if (!marker_id[0]) return api_error(r, 400, "marker [%s] not found", marker);
    }
    if ((st = nodes(&res, pattern, NULL, marker_id[0] ? marker_id : NULL, limit)))
        return api_db_error(r, st);
    int n = PQntuples(res);
    if (pattern && !n) {
        PQclear(res);
        return api_error(r, 404, "No hypervisor matching '%s' could be found.", pattern);
    }
    json_t *out = json_array();
    for (int i = 0; i < n; i++) json_array_append_new(out, node_json(r, res, i, detail, with_servers));
    json_t *body = json_pack("{s:o}", "hypervisors", out);
    if (paged && !pattern && n && n == limit) {
        json_t *last = json_object_get(json_array_get(out, n - 1), "id");
        char id[48];
        if (json_is_integer(last))
            snprintf(id, sizeof id, "%lld", (long long)json_integer_value(last));
        else
            snprintf(id, sizeof id, "%s", json_string_value(last));
        json_object_set_new(body, "hypervisors_links",
                            paging_link(r, detail ? "/os-hypervisors/detail" : "/os-hypervisors", id));
    }
    PQclear(res);
    return api_reply(r, 200, body);
}

int hypervisors_index(struct req *r) {
    return list(r, false);
}

int hypervisors_detail(struct req *r) {
    return list(r, true);
}

/* The node a path id names (an integer id before 2.53, a uuid from 2.53):
 * 0 with its row in *res, or the 400 / 404 answered. */
static int find_node(struct req *r, const char *id, PGresult **res) {
    long long n;
    char node[48];
    if (req_ver_ge(r, MV(2, 53))) {
        if (!uuid_valid(id)) return api_error(r, 400, "Invalid uuid %s", id);
    } else if (!str_to_int(id, &n))
        return api_error(r, 404, "Hypervisor with ID '%s' could not be found.", id);
    else
        snprintf(node, sizeof node, "%lld", n);
    enum db_status st = nodes(res, NULL, req_ver_ge(r, MV(2, 53)) ? id : node, NULL, 1);
    if (st) return api_db_error(r, st);
    if (!PQntuples(*res)) {
        PQclear(*res);
        return api_error(r, 404, "Hypervisor with ID '%s' could not be found.", id);
    }
    return 0;
}

int hypervisors_show(struct req *r) {
    bool with_servers = false;
    if (req_ver_ge(r, MV(2, 53))) {
        const char *ws = req_query(r, "with_servers");
        if (ws && !str_to_bool(ws, &with_servers))
            return api_error(r, 400, "Invalid input for query parameters with_servers.");
    }
    PGresult *res;
    int rc = find_node(r, req_param(r, "id"), &res);
    if (rc) return rc;
    json_t *h = node_json(r, res, 0, true, with_servers);
    PQclear(res);
    return api_reply(r, 200, json_pack("{s:o}", "hypervisor", h));
}

/* search and servers (before 2.53): the nodes whose hostname contains the
 * path's pattern. */
static int search(struct req *r, bool servers) {
    const char *pattern = req_param(r, "id");
    PGresult *res;
    enum db_status st = nodes(&res, pattern, NULL, NULL, 1L << 40);
    if (st) return api_db_error(r, st);
    int n = PQntuples(res);
    if (!n) {
        PQclear(res);
        return api_error(r, 404, "No hypervisor matching '%s' could be found.", pattern);
    }
    json_t *out = json_array();
    for (int i = 0; i < n; i++) {
        json_t *h = node_json(r, res, i, false, false);
        if (servers && !db_isnull(res, i, C_SERVERS))
            json_object_set_new(h, "servers", json_loads(db_str(res, i, C_SERVERS), 0, NULL));
        json_array_append_new(out, h);
    }
    PQclear(res);
    return api_reply(r, 200, json_pack("{s:o}", "hypervisors", out));
}

int hypervisors_search(struct req *r) {
    return search(r, false);
}

int hypervisors_servers(struct req *r) {
    return search(r, true);
}

/* Sums over the nodes of enabled, live nova-compute services, as Nova. */
int hypervisors_statistics(struct req *r) {
    PGresult *res;
    enum db_status st = db_query(
        &res,
        "SELECT count(*), COALESCE(sum(cn.vcpus), 0), COALESCE(sum(cn.memory_mb), 0),"
        " COALESCE(sum(cn.local_gb), 0), COALESCE(sum(cn.vcpus_used), 0),"
        " COALESCE(sum(cn.memory_mb_used), 0), COALESCE(sum(cn.local_gb_used), 0),"
        " COALESCE(sum(cn.memory_mb - cn.memory_mb_used), 0),"
        " COALESCE(sum(cn.local_gb - cn.local_gb_used), 0),"
        " COALESCE(sum((SELECT count(*) FROM instances i WHERE i.host = cn.host"
        "   AND i.deleted = 0 AND i.task_state IS NOT NULL)), 0),"
        " COALESCE(sum(cn.running_vms), 0), COALESCE(sum(cn.local_gb - cn.local_gb_used), 0)"
        " FROM compute_nodes cn JOIN services s ON s.host = cn.host AND s.deleted = 0"
        "  AND s.\"binary\" = 'nova-compute' AND NOT s.disabled"
        " WHERE cn.deleted = 0",
        0, NULL);
    if (st) return api_db_error(r, st);
    static const char *const names[] = {
        "count",          "vcpus",         "memory_mb",   "local_gb",
        "vcpus_used",     "memory_mb_used", "local_gb_used", "free_ram_mb",
        "free_disk_gb",   "current_workload", "running_vms", "disk_available_least"};
    json_t *s = json_object();
    for (size_t k = 0; k < sizeof names / sizeof names[0]; k++)
        json_object_set_new(s, names[k], json_integer(db_int(res, 0, (int)k)));
    PQclear(res);
    return api_reply(r, 200, json_pack("{s:o}", "hypervisor_statistics", s));
}

/* uptime (before 2.88): Nova asks the node's compute service for the
 * host's `uptime` line, and answers 400 when that service is down. cnova's
 * API cannot call a compute worker synchronously yet, so for a live service
 * it answers the same shape from the database: the time now (UTC), how long
 * the service has been registered, no users and no load. */
int hypervisors_uptime(struct req *r) {
    PGresult *res;
    int rc = find_node(r, req_param(r, "id"), &res);
    if (rc) return rc;
    if (!db_bool(res, 0, C_UP)) {
        int err = api_error(r, 400, "Compute service of %s is unavailable at this time.",
                            db_str(res, 0, C_HOST));
        PQclear(res);
        return err;
    }
    json_t *h = node_json(r, res, 0, false, false);
    const char *params[] = {db_str(res, 0, C_SVC_ID)};
    PGresult *up;
    enum db_status st = db_query(
        &up,
        "SELECT to_char(now() AT TIME ZONE 'UTC', 'HH24:MI:SS'),"
        " extract(epoch FROM now() - created_at)::bigint FROM services WHERE id = $1::int",
        1, params);
    PQclear(res);
    if (st) {
        json_decref(h);
        return api_db_error(r, st);
    }
    long long secs = PQntuples(up) ? db_int(up, 0, 1) : 0, mins = secs / 60;
    long long days = mins / 1440, hours = mins / 60 % 24, minutes = mins % 60;
    char text[160], span[64] = "";
    if (days) snprintf(span, sizeof span, "%lld day%s, ", days, days == 1 ? "" : "s");
    size_t len = strlen(span);
    if (hours)
        snprintf(span + len, sizeof span - len, "%2lld:%02lld, ", hours, minutes);
    else
        snprintf(span + len, sizeof span - len, "%lld min, ", minutes);
    snprintf(text, sizeof text, " %s up %s 0 users,  load average: 0.00, 0.00, 0.00",
             PQntuples(up) ? db_str(up, 0, 0) : "00:00:00", span);
    PQclear(up);
    json_object_set_new(h, "uptime", json_string(text));
    return api_reply(r, 200, json_pack("{s:o}", "hypervisor", h));
}
