/* server_diagnostics.c — /servers/{server_id}/diagnostics (admin): Nova's
 * libvirt-style free-form dict before 2.48, the standard shape from 2.48.
 * The guest's interfaces are asked of its host (get_guest_nics: the
 * domain's <interface> elements, MAC and tap device); the rest is built
 * from the instance row (state, flavor, config drive, launch time):
 * counters the hypervisor alone knows are 0 (null in 2.48 where Nova
 * allows it). Nova's 409s are kept: no host yet, or not running. */
#include <stdio.h>
#include <string.h>

#include "api.h"

static const char *power_state_name(int s) {
    static const char *names[] = {"pending",  "running", NULL,      "paused",
                                  "shutdown", NULL,      "crashed", "suspended"};
    return s >= 0 && s < 8 && names[s] ? names[s] : "pending";
}

enum { C_VCPUS, C_MEMORY, C_ROOT, C_CONFIG_DRIVE, C_UPTIME, C_ADDRESSES, C_HYPERVISOR };

/* The MAC addresses of the server's ports (instances.addresses), each once,
 * as [{mac_address}]. */
static json_t *port_nics(const char *addresses) {
    json_t *addrs = json_loads(addresses, 0, NULL), *nics = json_array();
    const char *net;
    json_t *ips;
    json_object_foreach(addrs, net, ips) {
        size_t i, j;
        json_t *ip, *seen;
        json_array_foreach(ips, i, ip) {
            const char *mac = json_string_value(json_object_get(ip, "OS-EXT-IPS-MAC:mac_addr"));
            bool dup = false;
            json_array_foreach(nics, j, seen) dup |=
                mac && !strcmp(json_string_value(json_object_get(seen, "mac_address")), mac);
            if (mac && !dup) json_array_append_new(nics, json_pack("{s:s}", "mac_address", mac));
        }
    }
    json_decref(addrs);
    return nics;
}

/* The guest's interfaces ({mac_address, target}), asked of its host as
 * Nova's get_diagnostics asks the compute (an RPC call): 0 with *out set,
 * or the error answered. A guest its host does not have (yet: the power
 * sync defines a missing one again, with these ports) has its ports. */
static int guest_nics(struct req *r, const struct instance_ref *inst, const char *addresses,
                      json_t **out) {
    char topic[300];
    snprintf(topic, sizeof topic, "compute.%s", inst->host);
    json_t *args = json_pack("{s:s}", "uuid", inst->uuid);
    const char *err = NULL;
    json_t *res = rpc_call(topic, "get_guest_nics", args,
                           (int)config_int("rpc", "call_timeout", 60) * 1000, &err);
    json_decref(args);
    json_t *nics = json_object_get(res, "nics");
    const char *e = json_string_value(json_object_get(res, "error"));
    if (e && !strcmp(e, "InstanceNotFound")) {
        json_decref(res);
        *out = port_nics(addresses);
        return 0;
    }
    if (!json_is_array(nics)) {
        log_msg(LOG_WARNING, r->request_id, "get_guest_nics on %s: %s", topic,
                err ? err
                : e ? e
                    : "bad reply");
        json_decref(res);
        return api_unexpected(r, err && !strcmp(err, "timeout")
                                     ? "oslo_messaging.exceptions.MessagingTimeout"
                                     : "oslo_messaging.rpc.client.RemoteError");
    }
    *out = json_incref(nics);
    json_decref(res);
    return 0;
}

/* Before 2.48: libvirt's own keys (cpuN_time, memory in KiB, vda_*, and
 * per interface <target dev>_rx...), named as the libvirt driver names them. */
static json_t *legacy_view(PGresult *res, json_t *nics) {
    json_t *d = json_object();
    char key[64];
    for (long i = 0; i < db_int(res, 0, C_VCPUS); i++) {
        snprintf(key, sizeof key, "cpu%ld_time", i);
        json_object_set_new(d, key, json_integer(0));
    }
    json_object_set_new(d, "memory", json_integer(db_int(res, 0, C_MEMORY) * 1024));
    static const char *disk[] = {"vda_read", "vda_read_req", "vda_write", "vda_write_req"};
    for (size_t i = 0; i < sizeof disk / sizeof disk[0]; i++)
        json_object_set_new(d, disk[i], json_integer(0));
    json_object_set_new(d, "vda_errors", json_integer(-1));
    static const char *nic[] = {"rx", "rx_drop", "rx_errors", "rx_packets",
                                "tx", "tx_drop", "tx_errors", "tx_packets"};
    for (size_t n = 0; n < json_array_size(nics); n++) {
        const char *dev = json_string_value(json_object_get(json_array_get(nics, n), "target"));
        for (size_t i = 0; i < sizeof nic / sizeof nic[0]; i++) {
            if (dev && *dev)
                snprintf(key, sizeof key, "%.40s_%s", dev, nic[i]);
            else
                snprintf(key, sizeof key, "vnet%zu_%s", n, nic[i]);
            json_object_set_new(d, key, json_integer(0));
        }
    }
    return d;
}

static json_t *standard_view(PGresult *res, int power_state, json_t *guest) {
    long vcpus = db_int(res, 0, C_VCPUS);
    json_t *cpus = json_array(), *disks = json_array(), *nics = json_array();
    for (long i = 0; i < vcpus; i++)
        json_array_append_new(
            cpus, json_pack("{s:I,s:n,s:n}", "id", (json_int_t)i, "time", "utilisation"));
    if (db_int(res, 0, C_ROOT) > 0)
        json_array_append_new(disks,
                              json_pack("{s:n,s:n,s:n,s:n,s:n}", "read_bytes", "read_requests",
                                        "write_bytes", "write_requests", "errors_count"));
    size_t i;
    json_t *g;
    json_array_foreach(guest, i, g) {
        json_array_append_new(
            nics, json_pack("{s:s,s:n,s:n,s:n,s:n,s:n,s:n,s:n,s:n,s:n,s:n}", "mac_address",
                            json_string_value(json_object_get(g, "mac_address")) ?: "", "rx_octets",
                            "rx_errors", "rx_drop", "rx_packets", "rx_rate", "tx_octets",
                            "tx_errors", "tx_drop", "tx_packets", "tx_rate"));
    }
    const char *hv = db_str(res, 0, C_HYPERVISOR);
    return json_pack("{s:s,s:s,s:s?,s:s,s:o,s:b,s:I,s:I,s:I,s:o,s:o,s:o,s:{s:I,s:n}}", "state",
                     power_state_name(power_state), "driver", "libvirt", "hypervisor",
                     *hv ? hv : NULL, "hypervisor_os", "linux", "uptime",
                     db_isnull(res, 0, C_UPTIME) ? json_null()
                                                 : json_integer(db_int(res, 0, C_UPTIME)),
                     "config_drive", *db_str(res, 0, C_CONFIG_DRIVE) != 0, "num_cpus",
                     (json_int_t)vcpus, "num_disks", (json_int_t)json_array_size(disks), "num_nics",
                     (json_int_t)json_array_size(nics), "cpu_details", cpus, "disk_details", disks,
                     "nic_details", nics, "memory_details", "maximum",
                     (json_int_t)db_int(res, 0, C_MEMORY), "used");
}

int server_diagnostics_index(struct req *r) {
    struct instance_ref inst;
    int err = instance_find(r, req_param(r, "server_id"), &inst);
    if (err) return err;
    if (!inst.host[0]) return api_error(r, 409, "Instance %s is not ready", inst.uuid);
    if (inst.power_state != 1)
        return api_error(r, 409,
                         "Cannot 'get_diagnostics' instance %s while it is in power state %s",
                         inst.uuid, power_state_name(inst.power_state));
    const char *params[] = {inst.uuid};
    PGresult *res;
    enum db_status st =
        db_query(&res,
                 "SELECT i.vcpus, i.memory_mb, i.root_gb, i.config_drive,"
                 " extract(epoch FROM now() - i.launched_at)::bigint, i.addresses,"
                 " COALESCE((SELECT lower(c.hypervisor_type) FROM compute_nodes c"
                 "           WHERE c.host = i.host AND c.deleted = 0 ORDER BY c.id LIMIT 1), '')"
                 " FROM instances i WHERE i.uuid = $1::uuid",
                 1, params);
    if (st) return api_db_error(r, st);
    if (!PQntuples(res)) {
        PQclear(res);
        return api_error(r, 404, "Instance %s could not be found.", inst.uuid);
    }
    json_t *nics = NULL;
    if ((err = guest_nics(r, &inst, db_str(res, 0, C_ADDRESSES), &nics))) {
        PQclear(res);
        return err;
    }
    json_t *body = req_ver_ge(r, MV(2, 48)) ? standard_view(res, inst.power_state, nics)
                                            : legacy_view(res, nics);
    json_decref(nics);
    PQclear(res);
    return api_reply(r, 200, body);
}
