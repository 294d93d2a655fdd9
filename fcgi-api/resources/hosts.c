/* hosts.c — os-hosts (up to 2.42; os-services and os-hypervisors replace
 * it): the hosts of the enabled services with their zones, one compute
 * host's resources (total, used now, used by its instances, per project),
 * and the host operations.
 *
 * status enable/disable does what Nova's compute does for it: the host's
 * compute node stops (or starts again) taking new instances — Nova sets a
 * COMPUTE_STATUS_DISABLED trait, we set compute_nodes.status_disabled and
 * the scheduler skips the node — while the service itself stays enabled.
 * Maintenance mode and host power actions belong to the hypervisor driver;
 * the libvirt driver (Nova's and ours) implements neither, which Nova
 * answers with 501. */
#include <string.h>
#include <strings.h>

#include "resources/availability_zones.h"

static bool api_service(const char *binary) {
    return !strcmp(binary, "nova-osapi_compute") || !strcmp(binary, "nova-metadata");
}

int hosts_index(struct req *r) {
    PGresult *res;
    enum db_status st = az_services(&res, true);
    if (st) return api_db_error(r, st);
    const char *zone = req_query(r, "zone");
    json_t *hosts = json_array();
    for (int i = 0; i < PQntuples(res); i++) {
        if (db_bool(res, i, COL_DISABLED) || api_service(db_str(res, i, COL_BINARY))) continue;
        if (zone && *zone && strcmp(zone, db_str(res, i, COL_ZONE))) continue;
        json_array_append_new(hosts, json_pack("{s:s,s:s,s:s}", "host_name",
                                               db_str(res, i, COL_HOST), "service",
                                               db_str(res, i, COL_TOPIC), "zone",
                                               db_str(res, i, COL_ZONE)));
    }
    PQclear(res);
    return api_reply(r, 200, json_pack("{s:o}", "hosts", hosts));
}

/* The host a path names must run a compute service (Nova: a host mapping,
 * made for compute hosts only). 0 or the 404 answered. */
static int find_compute_host(struct req *r, const char *host) {
    const char *params[] = {host};
    PGresult *res;
    enum db_status st = db_query(&res,
                                 "SELECT 1 FROM services WHERE host = $1 AND topic = 'compute'"
                                 " AND deleted = 0",
                                 1, params);
    if (st) return api_db_error(r, st);
    int found = PQntuples(res);
    PQclear(res);
    return found ? 0 : api_error(r, 404, "Host '%s' is not mapped to any cell", host);
}

static json_t *resource(const char *host, const char *project, long long cpu, long long mem,
                        long long disk) {
    return json_pack("{s:{s:s,s:s,s:I,s:I,s:I}}", "resource", "host", host, "project", project,
                     "cpu", cpu, "memory_mb", mem, "disk_gb", disk);
}

int hosts_show(struct req *r) {
    const char *host = req_param(r, "id");
    int err = find_compute_host(r, host);
    if (err) return err;
    const char *params[] = {host};
    PGresult *node, *use;
    enum db_status st = db_query(&node,
                                 "SELECT vcpus, memory_mb, local_gb, vcpus_used, memory_mb_used,"
                                 " local_gb_used FROM compute_nodes WHERE host = $1 AND deleted = 0"
                                 " ORDER BY id LIMIT 1",
                                 1, params);
    if (st) return api_db_error(r, st);
    if (!PQntuples(node)) {
        PQclear(node);
        return api_error(r, 404, "Compute host %s could not be found.", host);
    }
    /* the host's instances by project, in the order of their first
     * instance, and the sum over all of them first */
    st = db_query(&use,
                  "SELECT project_id, sum(vcpus), sum(memory_mb), sum(root_gb + ephemeral_gb)"
                  " FROM instances WHERE host = $1 AND deleted = 0"
                  " GROUP BY ROLLUP (project_id) ORDER BY project_id IS NOT NULL, min(id)",
                  1, params);
    if (st) {
        PQclear(node);
        return api_db_error(r, st);
    }
    json_t *list = json_array();
    json_array_append_new(list, resource(host, "(total)", db_int(node, 0, 0), db_int(node, 0, 1),
                                         db_int(node, 0, 2)));
    json_array_append_new(list, resource(host, "(used_now)", db_int(node, 0, 3),
                                         db_int(node, 0, 4), db_int(node, 0, 5)));
    /* ROLLUP gives the total row even for a host without instances */
    for (int i = 0; i < PQntuples(use); i++)
        json_array_append_new(list, resource(host, PQgetisnull(use, i, 0) ? "(used_max)"
                                                                          : db_str(use, i, 0),
                                             db_int(use, i, 1), db_int(use, i, 2),
                                             db_int(use, i, 3)));
    PQclear(node);
    PQclear(use);
    return api_reply(r, 200, json_pack("{s:o}", "host", list));
}

static int not_supported(struct req *r) {
    return api_error(r, 501, "The requested functionality is not supported.");
}

int hosts_update(struct req *r) {
    const char *host = req_param(r, "id");
    int err = find_compute_host(r, host);
    if (err) return err;
    /* the schema allows only enable/disable in three spellings */
    const char *status = json_string_value(json_object_get(r->body, "status"));
    const char *maint = json_string_value(json_object_get(r->body, "maintenance_mode"));
    json_t *out = json_pack("{s:s}", "host", host);
    if (status) {
        bool enable = !strcasecmp(status, "enable");
        const char *params[] = {host, enable ? "false" : "true"};
        enum db_status st = db_exec("UPDATE compute_nodes SET status_disabled = $2::bool,"
                                    " updated_at = now() WHERE host = $1 AND deleted = 0",
                                    2, params);
        if (st) {
            json_decref(out);
            return api_db_error(r, st);
        }
        json_object_set_new(out, "status", json_string(enable ? "enabled" : "disabled"));
    }
    if (maint) {
        json_decref(out);
        return not_supported(r);
    }
    return api_reply(r, 200, out);
}

static int power_action(struct req *r) {
    int err = find_compute_host(r, req_param(r, "id"));
    return err ? err : not_supported(r);
}

int hosts_reboot(struct req *r) {
    return power_action(r);
}

int hosts_shutdown(struct req *r) {
    return power_action(r);
}

int hosts_startup(struct req *r) {
    return power_action(r);
}
