/* interfaces.c — a server's ports (sql/017_networks.sql) as
 * /servers/{server_id}/os-interface (list, show, attach, detach; the tag of
 * 2.49, shown from 2.70) and the os-multinic actions addFixedIp /
 * removeFixedIp (a port on a network more or less). Attach and detach keep
 * Nova's lock and state rules (lib/states.c) and record the instance
 * action; they change the IPAM, then (outbox, same transaction) cast to the
 * conductor, which has the instance's host plug or unplug the interface
 * and rolls the port back when the hypervisor refuses. A cast, not Nova's
 * RPC call: the answer does not wait for the host (as every hypervisor
 * write in cnova), so a failed hot plug shows as the action's Error event,
 * an instance fault and the port gone again, not as a 500. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "networks.h"

#define PORT_SQL                                                                                   \
    "SELECT p.id, p.network_id, p.mac_address, p.tag, p.instance_uuid,"                            \
    " COALESCE((SELECT jsonb_agg(jsonb_build_object('ip_address', host(f.address),"                \
    "   'subnet_id', n.subnet_id) ORDER BY f.address) FROM fixed_ips f"                            \
    "   JOIN networks n ON n.id = f.network_id WHERE f.port_id = p.id), '[]')"                     \
    " FROM ports p"
enum { P_ID, P_NET, P_MAC, P_TAG, P_INSTANCE, P_FIXED };

/* Nova's _translate_interface_attachment_view. */
static json_t *port_view(const struct req *r, PGresult *res, int i) {
    json_t *v = json_pack("{s:s,s:s,s:s,s:s,s:o}", "net_id", db_str(res, i, P_NET), "port_id",
                          db_str(res, i, P_ID), "mac_addr", db_str(res, i, P_MAC), "port_state",
                          "ACTIVE", "fixed_ips", json_loads(db_str(res, i, P_FIXED), 0, NULL));
    if (req_ver_ge(r, MV(2, 70)))
        json_object_set_new(
            v, "tag", db_isnull(res, i, P_TAG) ? json_null() : json_string(db_str(res, i, P_TAG)));
    return v;
}

int interfaces_index(struct req *r) {
    struct instance_ref inst;
    int rc = instance_find(r, req_param(r, "server_id"), &inst);
    if (rc) return rc;
    const char *p[] = {inst.uuid};
    PGresult *res;
    enum db_status st = db_query(
        &res, PORT_SQL " WHERE p.instance_uuid = $1::uuid ORDER BY p.created_at, p.id", 1, p);
    if (st) return api_db_error(r, st);
    json_t *out = json_array();
    for (int i = 0; i < PQntuples(res); i++)
        json_array_append_new(out, port_view(r, res, i));
    PQclear(res);
    return api_reply(r, 200, json_pack("{s:o}", "interfaceAttachments", out));
}

/* The port `port` of server `server` as the answer (200). Another
 * project's port is as unknown as a missing one (Neutron shows a user no
 * other project's port), not "does not have a port", which would tell the
 * caller it exists. */
static int port_reply(struct req *r, const char *server, const char *port) {
    if (!uuid_valid(port)) return api_error(r, 404, "Port id %s could not be found.", port);
    const char *p[] = {port, r->ctx.is_admin ? NULL : r->ctx.project_id};
    PGresult *res;
    enum db_status st = db_query(
        &res, PORT_SQL " WHERE p.id = $1::uuid AND ($2::text IS NULL OR p.project_id = $2)", 2, p);
    if (st) return api_db_error(r, st);
    if (!PQntuples(res)) {
        PQclear(res);
        return api_error(r, 404, "Port id %s could not be found.", port);
    }
    if (db_isnull(res, 0, P_INSTANCE) || strcmp(db_str(res, 0, P_INSTANCE), server)) {
        PQclear(res);
        return api_error(r, 404, "Instance %s does not have a port with id %s", server, port);
    }
    json_t *body = json_pack("{s:o}", "interfaceAttachment", port_view(r, res, 0));
    PQclear(res);
    return api_reply(r, 200, body);
}

int interfaces_show(struct req *r) {
    struct instance_ref inst;
    int rc = instance_find(r, req_param(r, "server_id"), &inst);
    return rc ? rc : port_reply(r, inst.uuid, req_param(r, "id"));
}

/* One change to a server's ports, in one transaction: the state rule (when
 * `rule`), the instance action (when `action`), then the IPAM step. */
struct nic_change {
    struct req *r;
    const struct instance_ref *inst;
    const char *rule, *action;
    struct nic_request nic; /* attach / addFixedIp */
    const struct nic_codes *codes;
    const char *port;    /* detach: the port; removeFixedIp: NULL */
    const char *address; /* removeFixedIp: the fixed IP */
    char made[37];
    int rc;
};

static enum db_status state_check(struct nic_change *c) {
    return c->rule ? instance_apply_state(c->r, c->inst->uuid, c->rule, NULL, &c->rc) : DB_OK;
}

/* Queues the hot plug of `port` (attach) or of the port described by
 * `nic` (detach, read before its release) for the instance's host. A
 * server that runs nowhere (shelved offloaded) has only its IPAM. */
static enum db_status port_nic(const char *port, char **nic) {
    const char *p[] = {port};
    PGresult *res;
    enum db_status st = db_query(
        &res,
        "SELECT jsonb_build_object('port_id', p.id, 'mac_address', p.mac_address, 'network_id',"
        " p.network_id, 'mtu', n.mtu, 'project_id', p.project_id, 'tag', p.tag, 'preexisting',"
        " p.preexisting, 'fixed_ips', (SELECT COALESCE(jsonb_agg(host(f.address)), '[]')"
        " FROM fixed_ips f WHERE f.port_id = p.id))::text"
        " FROM ports p JOIN networks n ON n.id = p.network_id WHERE p.id = $1::uuid",
        1, p);
    if (st) return st;
    *nic = PQntuples(res) ? strdup(db_str(res, 0, 0)) : NULL;
    PQclear(res);
    return *nic ? DB_OK : DB_ERROR;
}

static enum db_status hot_plug(const struct nic_change *c, const char *method, char *nic) {
    enum db_status st = DB_OK;
    if (c->inst->host[0]) {
        json_t *args =
            json_pack("{s:s,s:o}", "instance_uuid", c->inst->uuid, "nic", json_loads(nic, 0, NULL));
        st = outbox_add("conductor", method, args) < 0 ? DB_ERROR : DB_OK;
        json_decref(args);
    }
    free(nic);
    return st;
}

/* Detach / removeFixedIp: the server's port named by id or fixed IP. */
static enum db_status release(struct nic_change *c) {
    const char *p[] = {c->inst->uuid, c->port, c->address};
    PGresult *res;
    enum db_status st = db_query(&res,
                                 "SELECT p.id FROM ports p WHERE p.instance_uuid = $1::uuid AND"
                                 " ($2::uuid IS NULL OR p.id = $2::uuid) AND ($3::inet IS NULL OR"
                                 " EXISTS (SELECT 1 FROM fixed_ips f WHERE f.port_id = p.id AND"
                                 " f.address = $3::inet)) LIMIT 1",
                                 3, p);
    if (st) return st;
    char port[37] = "";
    if (PQntuples(res)) snprintf(port, sizeof port, "%s", db_str(res, 0, 0));
    PQclear(res);
    if (!port[0]) {
        c->rc = c->port ? api_error(c->r, 404, "Port %s is not attached", c->port)
                        : api_error(c->r, 400, "Instance %s does not have fixed IP '%s'.",
                                    c->inst->uuid, c->address);
        return DB_ERROR;
    }
    char *nic = NULL;
    if ((st = port_nic(port, &nic))) return st;
    const char *q[] = {port};
    if ((st = db_exec("SELECT ipam_port_release($1::uuid)", 1, q))) {
        free(nic);
        return st;
    }
    return hot_plug(c, "detach_interface", nic);
}

static enum db_status change_txn(void *arg) {
    struct nic_change *c = arg;
    c->rc = 0;
    enum db_status st = state_check(c);
    if (!st && c->action && (c->rc = instance_action_start(c->r, c->inst->uuid, c->action)))
        return DB_ERROR;
    if (st) return st;
    if (c->port || c->address) return release(c);
    struct nic_request nic = c->nic;
    char net[37];
    if (!nic.net && !nic.port) { /* Nova picks the one network the project has */
        int rc = networks_default(c->r, c->inst->project_id, net);
        if (rc == 1)
            rc = api_error(c->r, 400,
                           "No specific network was requested and none are available for"
                           " project '%s'.",
                           c->inst->project_id);
        if (rc) return c->rc = rc, DB_ERROR;
        nic.net = net;
    }
    if ((c->rc = networks_nic(c->r, &nic, c->inst->uuid, c->inst->project_id, c->codes, c->made)))
        return DB_ERROR;
    char *snap = NULL;
    return (st = port_nic(c->made, &snap)) ? st : hot_plug(c, "attach_interface", snap);
}

/* Runs the change on the server of the URL (`param`), locked servers
 * refused as Nova's check_instance_lock does. */
static int change(struct req *r, const char *param, struct nic_change *c) {
    struct instance_ref inst;
    int rc = instance_find(r, req_param(r, param), &inst);
    if (rc) return rc;
    if (inst.locked && !r->ctx.is_admin)
        return api_error(r, 409, "Instance %s is locked", inst.uuid);
    c->r = r;
    c->inst = &inst;
    enum db_status st = db_txn(change_txn, c);
    c->inst = NULL; /* the caller's struct outlives this frame */
    if (c->rc) return c->rc;
    if (st) return api_db_error(r, st);
    outbox_flush();
    /* an attach answers with the port; multinic and detach with 202 */
    return c->made[0] && c->action ? port_reply(r, inst.uuid, c->made) : api_reply(r, 202, NULL);
}

int interfaces_create(struct req *r) {
    json_t *a = json_object_get(r->body, "interfaceAttachment");
    struct nic_change c = {
        .rule = "attach_interface", .action = "attach_interface", .codes = &NIC_ATTACH};
    c.nic.net = json_string_value(json_object_get(a, "net_id"));
    c.nic.port = json_string_value(json_object_get(a, "port_id"));
    c.nic.tag = json_string_value(json_object_get(a, "tag"));
    c.nic.ip = json_string_value(
        json_object_get(json_array_get(json_object_get(a, "fixed_ips"), 0), "ip_address"));
    if (c.nic.net && c.nic.port)
        return api_error(r, 400, "Must not input both network_id and port_id");
    if (c.nic.ip && !c.nic.net)
        return api_error(r, 400, "Must input network_id when request IP address");
    return change(r, "server_id", &c);
}

int interfaces_delete(struct req *r) {
    const char *port = req_param(r, "id");
    struct nic_change c = {.rule = "detach_interface", .action = "detach_interface", .port = port};
    if (!uuid_valid(port)) {
        struct instance_ref inst;
        int rc = instance_find(r, req_param(r, "server_id"), &inst);
        return rc ? rc : api_error(r, 404, "Port %s is not attached", port);
    }
    return change(r, "server_id", &c);
}

/* ---- os-multinic (up to 2.43) ---- */

int server_add_fixed_ip(struct req *r) {
    json_t *id = json_object_get(json_object_get(r->body, "addFixedIp"), "networkId");
    char num[64] = "";
    if (json_is_integer(id))
        snprintf(num, sizeof num, "%" JSON_INTEGER_FORMAT, json_integer_value(id));
    else if (json_is_real(id))
        snprintf(num, sizeof num, "%g", json_real_value(id));
    struct nic_change c = {.codes = &NIC_CREATE};
    c.nic.net = json_is_string(id) ? json_string_value(id) : num;
    return change(r, "id", &c);
}

int server_remove_fixed_ip(struct req *r) {
    struct nic_change c = {.address = json_string_value(json_object_get(
                               json_object_get(r->body, "removeFixedIp"), "address"))};
    return change(r, "id", &c);
}
