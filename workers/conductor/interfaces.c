/* interfaces.c — the conductor's side of os-interface attach and detach
 * and os-multinic: takes the API's cast (the port already bound or
 * released in the IPAM, the action recorded), records the compute event
 * and hands the interface to the instance's host; then takes the host's
 * answer and settles the event. A failed hot plug rolls the port back (an
 * attached one is released, a detached one bound again with its MAC and
 * fixed IPs), as Nova's compute manager does. Also the ports every guest
 * definition carries (conductor_nics). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cnova.h"
#include "conductor.h"
#include "metadata.h"

json_t *conductor_instance_json(const char *sql, const char *what, const char *uuid) {
    const char *p[] = {uuid};
    PGresult *r = NULL;
    json_t *v = NULL;
    if (db_query(&r, sql, 1, p) == DB_OK && PQntuples(r) && !db_isnull(r, 0, 0))
        v = json_loads(db_str(r, 0, 0), 0, NULL);
    else
        log_error("%s of %s not read: %s", what, uuid, db_errmsg());
    PQclear(r);
    return v;
}

json_t *conductor_nics(const char *uuid) {
    json_t *nics =
        conductor_instance_json("SELECT " CONDUCTOR_NICS_SQL("$1::uuid") "::text", "ports", uuid);
    return nics ? nics : json_array();
}

json_t *conductor_metadata_doc(const char *uuid) {
    return conductor_instance_json(METADATA_DOC_SQL, "metadata", uuid);
}

/* instance.interface_attach.start / .end / .error, interface_detach.*
 * (InstanceActionPayload; Nova has no legacy event for them), in the open
 * transaction, published as the instance's host. */
static void interface_notice(const char *op, const char *uuid, const char *host, const char *phase,
                             const char *fault) {
    char ev[64], pub[300];
    snprintf(ev, sizeof ev, "instance.interface_%s.%s",
             strcmp(op, "attach_interface") ? "detach" : "attach", phase);
    notify_publisher(pub, sizeof pub, "nova-compute", host);
    json_t *f = fault ? json_pack("{s:s}", "message", fault) : NULL;
    notify_instance(uuid, ev, NULL, NULL, f ? "ERROR" : "INFO", pub, f);
    json_decref(f);
}

/* args {instance_uuid, nic {port_id, mac_address, network_id, mtu,
 * fixed_ips, project_id, tag, preexisting}} from the API's outbox. */
static json_t *forward(const char *op, json_t *args) {
    const char *uuid = json_string_value(json_object_get(args, "instance_uuid"));
    json_t *nic = json_object_get(args, "nic");
    if (!uuid || !uuid_valid(uuid) || !json_is_object(nic))
        return rpc_failure("%s needs instance_uuid and nic", op);
    const char *p[] = {uuid};
    PGresult *r = NULL;
    /* a server still building gets its ports with the build (os-multinic
     * has no state rule); one gone or offloaded has only its IPAM */
    if (db_query(&r,
                 "SELECT host FROM instances WHERE uuid = $1 AND deleted = 0 AND"
                 " vm_state <> 'building'",
                 1, p) != DB_OK)
        return rpc_failure("database: %s", db_errmsg());
    char host[256] = "";
    int found = PQntuples(r);
    if (found && !db_isnull(r, 0, 0)) snprintf(host, sizeof host, "%s", db_str(r, 0, 0));
    PQclear(r);
    if (!found || !host[0]) return json_false();
    if (db_begin() == DB_OK) {
        conductor_op_event(uuid, op, host, NULL);
        interface_notice(op, uuid, host, "start", NULL);
        if (db_commit() != DB_OK) db_rollback();
    }
    json_t *a = json_pack("{s:s,s:s,s:O}", "uuid", uuid, "op", op, "nic", nic);
    /* what a real host needs to put the port on its network */
    json_t *doc = conductor_metadata_doc(uuid);
    if (doc) json_object_set_new(a, "metadata", doc);
    char topic[300];
    snprintf(topic, sizeof topic, "compute.%s", host);
    if (rpc_cast_later(topic, op, a) < 0) log_warn("%s of %s: cast to %s failed", op, uuid, topic);
    json_decref(a);
    return json_true();
}

json_t *conductor_attach_interface(json_t *args, struct conductor *c) {
    (void)c;
    return forward("attach_interface", args);
}

json_t *conductor_detach_interface(json_t *args, struct conductor *c) {
    (void)c;
    return forward("detach_interface", args);
}

/* Undoes the IPAM change of a failed hot plug (only while the port is
 * still as the API left it, so a repeated answer changes nothing). */
static enum db_status roll_back(const char *uuid, bool attach, json_t *nic) {
    char *fixed = json_dumps(json_object_get(nic, "fixed_ips") ?: json_array(), JSON_COMPACT);
    const char *p[] = {uuid,
                       json_string_value(json_object_get(nic, "port_id")),
                       json_string_value(json_object_get(nic, "network_id")),
                       json_string_value(json_object_get(nic, "mac_address")),
                       json_string_value(json_object_get(nic, "project_id")),
                       json_string_value(json_object_get(nic, "tag")),
                       json_is_true(json_object_get(nic, "preexisting")) ? "true" : "false",
                       fixed};
    enum db_status st;
    if (attach)
        st = db_exec("SELECT ipam_port_release(id) FROM ports WHERE id = $2::uuid AND"
                     " instance_uuid = $1::uuid",
                     2, p);
    else
        st = db_exec("WITH i AS (SELECT uuid FROM instances WHERE uuid = $1::uuid AND"
                     " deleted = 0), p AS (INSERT INTO ports (id, network_id, mac_address,"
                     " project_id, instance_uuid, tag, preexisting) SELECT $2::uuid, $3::uuid, $4,"
                     " $5, i.uuid, $6, $7::boolean FROM i ON CONFLICT (id) DO UPDATE SET"
                     " instance_uuid = EXCLUDED.instance_uuid, tag = EXCLUDED.tag"
                     " WHERE ports.instance_uuid IS NULL RETURNING id)"
                     " INSERT INTO fixed_ips (network_id, address, port_id) SELECT $3::uuid,"
                     " a::inet, p.id FROM p, jsonb_array_elements_text($8::jsonb) a"
                     " ON CONFLICT DO NOTHING",
                     8, p);
    free(fixed);
    return st;
}

/* args {uuid, host, op, nic, ok, fault?} from the compute host. */
json_t *conductor_interface_op_done(json_t *args, struct conductor *c) {
    (void)c;
    const char *uuid = json_string_value(json_object_get(args, "uuid"));
    const char *host = json_string_value(json_object_get(args, "host"));
    const char *op = json_string_value(json_object_get(args, "op"));
    json_t *nic = json_object_get(args, "nic");
    const char *port = json_string_value(json_object_get(nic, "port_id"));
    if (!uuid || !uuid_valid(uuid) || !host || !port || !uuid_valid(port) || !op ||
        (strcmp(op, "attach_interface") && strcmp(op, "detach_interface")))
        return rpc_failure("interface_op_done needs uuid, host, nic and an interface op");
    bool ok = json_is_true(json_object_get(args, "ok"));
    bool attach = !strcmp(op, "attach_interface");
    for (int attempt = 0; attempt < 3; attempt++) {
        if (db_begin() != DB_OK) break;
        enum db_status st = DB_OK;
        if (!ok) {
            /* Nova's messages for a failed hot plug */
            char msg[160];
            snprintf(msg, sizeof msg, "Failed to %s network adapter device %s %s",
                     attach ? "attach" : "detach", attach ? "to" : "from", uuid);
            const char *f[] = {uuid, msg, json_string_value(json_object_get(args, "fault")), host};
            st = roll_back(uuid, attach, nic);
            if (st == DB_OK)
                st = db_exec("INSERT INTO instance_faults (instance_uuid, code, message, details,"
                             " host) SELECT uuid, 500, $2, $3, $4 FROM instances WHERE"
                             " uuid = $1::uuid AND deleted = 0",
                             4, f);
        }
        if (st == DB_OK) conductor_op_event(uuid, op, host, ok ? "Success" : "Error");
        if (st == DB_OK && (ok || attach))
            interface_notice(op, uuid, host, ok ? "end" : "error",
                             ok ? NULL
                                : (json_string_value(json_object_get(args, "fault")) ?: "failed"));
        if (st == DB_OK && db_commit() == DB_OK) {
            log_info("%s of port %s on %s: %s", op, port, uuid, ok ? "done" : "rolled back");
            return json_true();
        }
        db_rollback();
    }
    log_error("%s of port %s: outcome not recorded: %s", op, port, db_errmsg());
    return rpc_failure("database unavailable");
}
