/* networks.c — the networks of the built-in IPAM (sql/017_networks.sql):
 * the nova-network era proxies os-networks and os-tenant-networks (read
 * only; creating networks is gone from Nova), os-floating-ip-pools (the
 * external networks), and the interfaces a new server or an attach asks
 * for, each a port with one fixed IP allocated in the caller's transaction. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "networks.h"
#include "servers.h"

const struct nic_codes NIC_CREATE = {400, 400, 400, 409};
const struct nic_codes NIC_ATTACH = {404, 404, 409, 409};

static const char *boolstr(bool b) {
    return b ? "true" : "false";
}

/* A text cell, "" for NULL. */
static const char *cell(PGresult *res, int i, int c) {
    return db_isnull(res, i, c) ? "" : db_str(res, i, c);
}

static int net_missing(struct req *r, const struct nic_codes *c, const char *id) {
    return api_error(r, c->net_missing, "Network %s could not be found.", id);
}

static int port_missing(struct req *r, const struct nic_codes *c, const char *id) {
    return api_error(r, c->port_missing, "Port id %s could not be found.", id);
}

static int bind_port(struct req *r, const struct nic_request *n, const char *inst,
                     const char *project, const struct nic_codes *c) {
    if (!uuid_valid(n->port)) return port_missing(r, c, n->port);
    const char *p[] = {n->port, inst, project, boolstr(r->ctx.is_admin), n->tag, boolstr(!inst)};
    PGresult *res;
    enum db_status st = db_query(&res,
                                 "SELECT error FROM ipam_port_bind($1::uuid, $2::uuid, $3,"
                                 " $4::bool, $5, $6::bool)",
                                 6, p);
    if (st) return api_db_error(r, st);
    char err[16];
    snprintf(err, sizeof err, "%s", cell(res, 0, 0));
    PQclear(res);
    if (!strcmp(err, "port")) return port_missing(r, c, n->port);
    if (!strcmp(err, "in_use"))
        return api_error(r, c->port_in_use, "Port %s is still in use.", n->port);
    return 0;
}

int networks_nic(struct req *r, const struct nic_request *n, const char *inst, const char *project,
                 const struct nic_codes *c, char port_out[37]) {
    if (n->port) {
        int rc = bind_port(r, n, inst, project, c);
        if (!rc && port_out) snprintf(port_out, 37, "%s", n->port);
        return rc;
    }
    if (!uuid_valid(n->net)) return net_missing(r, c, n->net);
    const char *p[] = {n->net, n->ip,         inst, project, boolstr(r->ctx.is_admin),
                       n->tag, boolstr(!inst)};
    PGresult *res;
    enum db_status st = db_query(&res,
                                 "SELECT port, error, holder FROM ipam_port_create($1::uuid,"
                                 " $2::inet, $3::uuid, $4, $5::bool, $6, $7::bool)",
                                 7, p);
    if (st) return api_db_error(r, st);
    char err[16], holder[40];
    snprintf(err, sizeof err, "%s", cell(res, 0, 1));
    snprintf(holder, sizeof holder, "%s", db_isnull(res, 0, 2) ? "None" : db_str(res, 0, 2));
    if (!err[0] && port_out) snprintf(port_out, 37, "%s", db_str(res, 0, 0));
    PQclear(res);
    if (!strcmp(err, "network")) return net_missing(r, c, n->net);
    if (!strcmp(err, "invalid"))
        return api_error(r, 400,
                         "Invalid input received: Fixed IP %s is not a valid ip address for"
                         " network %s.",
                         n->ip, n->net);
    if (!strcmp(err, "in_use"))
        return api_error(r, c->ip_in_use, "Fixed IP address %s is already in use on instance %s.",
                         n->ip, holder);
    if (!strcmp(err, "exhausted"))
        return api_error(r, 400, "No fixed IP addresses available for network: %s", n->net);
    return 0;
}

int networks_default(struct req *r, const char *project, char out[37]) {
    const char *p[] = {project};
    PGresult *res;
    enum db_status st = db_query(&res,
                                 "SELECT id FROM networks WHERE NOT external AND"
                                 " (project_id IS NULL OR project_id = $1)"
                                 " ORDER BY project_id IS NULL, created_at, id LIMIT 1",
                                 1, p);
    if (st) return api_db_error(r, st);
    int found = PQntuples(res);
    if (found) snprintf(out, 37, "%s", db_str(res, 0, 0));
    PQclear(res);
    return found ? 0 : 1;
}

/* The requested interfaces of a server create, as nic requests. */
static struct nic_request nic_of(json_t *entry) {
    return (struct nic_request){servers_str(entry, "uuid"), servers_str(entry, "port"),
                                servers_str(entry, "fixed_ip"), servers_str(entry, "tag")};
}

int networks_check(struct req *r, json_t *networks, long max_count) {
    size_t i;
    json_t *e;
    json_array_foreach(networks, i, e) {
        struct nic_request n = nic_of(e);
        if (n.port && max_count > 1)
            return api_error(r, 400,
                             "Failed to launch instances: Unable to launch multiple instances"
                             " with a single configured port"
                             " ID. Please launch your instance one by one with different ports.");
        if (!n.port && !uuid_valid(n.net))
            return api_error(
                r, 400, "Bad networks format: network uuid is not in proper format (%s)", n.net);
        int rc = networks_nic(r, &n, NULL, r->ctx.project_id, &NIC_CREATE, NULL);
        if (rc) return rc;
    }
    return 0;
}

enum db_status networks_allocate(struct req *r, const char *uuid, json_t *networks) {
    if (json_is_string(networks) && !strcmp(json_string_value(networks), "none")) return DB_OK;
    if (!json_is_array(networks)) { /* omitted or "auto": the default network */
        char net[37];
        int rc = networks_default(r, r->ctx.project_id, net);
        if (rc == 1) return DB_OK;
        struct nic_request n = {.net = net};
        if (!rc) rc = networks_nic(r, &n, uuid, r->ctx.project_id, &NIC_CREATE, NULL);
        return rc ? DB_ERROR : DB_OK;
    }
    size_t i;
    json_t *e;
    json_array_foreach(networks, i, e) {
        struct nic_request n = nic_of(e);
        if (networks_nic(r, &n, uuid, r->ctx.project_id, &NIC_CREATE, NULL)) return DB_ERROR;
    }
    return DB_OK;
}

/* ---- os-networks, os-tenant-networks ---- */

#define NETWORK_SQL                                                                                \
    "SELECT id, label, cidr::text, host(netmask(cidr)), host(gateway), host(broadcast(cidr)),"     \
    " host(dns1), host(dns2), project_id, mtu,"                                                    \
    " to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US'),"                     \
    " to_char(updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US'),"                     \
    " host(host(cidr)::inet + 2) FROM networks"
enum {
    N_ID,
    N_LABEL,
    N_CIDR,
    N_NETMASK,
    N_GATEWAY,
    N_BROADCAST,
    N_DNS1,
    N_DNS2,
    N_PROJECT,
    N_MTU,
    N_CREATED,
    N_UPDATED,
    N_DHCP_START
};
/* A project sees the shared networks and its own; an admin any by id. */
#define NETWORK_VISIBLE " NOT external AND (project_id IS NULL OR project_id = $1)"

static json_t *col(PGresult *res, int i, int c) {
    return db_isnull(res, i, c) ? json_null() : json_string(db_str(res, i, c));
}

/* Nova's network_dict: the fields anyone sees, then the admin's. */
static json_t *network_view(const struct req *r, PGresult *res, int i) {
    static const struct {
        const char *name;
        int c;
    } user[] = {{"id", N_ID},
                {"cidr", N_CIDR},
                {"netmask", N_NETMASK},
                {"gateway", N_GATEWAY},
                {"broadcast", N_BROADCAST},
                {"dns1", N_DNS1},
                {"dns2", N_DNS2},
                {"cidr_v6", -1},
                {"gateway_v6", -1},
                {"label", N_LABEL},
                {"netmask_v6", -1}},
      admin[] = {{"created_at", N_CREATED},
                 {"updated_at", N_UPDATED},
                 {"deleted_at", -1},
                 {"deleted", -1},
                 {"injected", -1},
                 {"bridge", -1},
                 {"vlan", -1},
                 {"vpn_public_address", -1},
                 {"vpn_public_port", -1},
                 {"vpn_private_address", -1},
                 {"dhcp_start", N_DHCP_START},
                 {"project_id", N_PROJECT},
                 {"host", -1},
                 {"bridge_interface", -1},
                 {"multi_host", -1},
                 {"priority", -1},
                 {"rxtx_base", -1},
                 {"dhcp_server", N_GATEWAY},
                 {"share_address", -1},
                 {"enable_dhcp", -1}};
    json_t *n = json_object();
    for (size_t k = 0; k < sizeof user / sizeof user[0]; k++)
        json_object_set_new(n, user[k].name, user[k].c < 0 ? json_null() : col(res, i, user[k].c));
    if (!r->ctx.is_admin) return n;
    for (size_t k = 0; k < sizeof admin / sizeof admin[0]; k++)
        json_object_set_new(n, admin[k].name,
                            admin[k].c < 0 ? json_null() : col(res, i, admin[k].c));
    json_object_set_new(n, "mtu",
                        db_isnull(res, i, N_MTU)
                            ? json_null()
                            : json_integer(strtol(db_str(res, i, N_MTU), NULL, 10)));
    return n;
}

/* os-tenant-networks' _format_network. */
static json_t *tenant_network_view(const struct req *r, PGresult *res, int i) {
    (void)r;
    return json_pack("{s:s,s:s,s:s}", "id", db_str(res, i, N_ID), "cidr", db_str(res, i, N_CIDR),
                     "label", db_str(res, i, N_LABEL));
}

typedef json_t *(*network_view_fn)(const struct req *, PGresult *, int);

static int list(struct req *r, network_view_fn view) {
    const char *p[] = {r->ctx.project_id};
    PGresult *res;
    enum db_status st =
        db_query(&res, NETWORK_SQL " WHERE" NETWORK_VISIBLE " ORDER BY created_at, id", 1, p);
    if (st) return api_db_error(r, st);
    json_t *out = json_array();
    for (int i = 0; i < PQntuples(res); i++)
        json_array_append_new(out, view(r, res, i));
    PQclear(res);
    return api_reply(r, 200, json_pack("{s:o}", "networks", out));
}

static int show(struct req *r, network_view_fn view) {
    const char *id = req_param(r, "id");
    if (!uuid_valid(id)) return api_error(r, 404, "Network not found");
    const char *p[] = {r->ctx.project_id, id, boolstr(r->ctx.is_admin)};
    PGresult *res;
    enum db_status st = db_query(&res,
                                 NETWORK_SQL " WHERE id = $2::uuid AND ($3::bool OR external OR"
                                             " project_id IS NULL OR project_id = $1)",
                                 3, p);
    if (st) return api_db_error(r, st);
    json_t *n = PQntuples(res) ? view(r, res, 0) : NULL;
    PQclear(res);
    return n ? api_reply(r, 200, json_pack("{s:o}", "network", n))
             : api_error(r, 404, "Network not found");
}

int networks_index(struct req *r) {
    return list(r, network_view);
}

int networks_show(struct req *r) {
    return show(r, network_view);
}

int tenant_networks_index(struct req *r) {
    return list(r, tenant_network_view);
}

int tenant_networks_show(struct req *r) {
    return show(r, tenant_network_view);
}

/* ---- os-floating-ip-pools: the external networks by name ---- */

int floating_ip_pools_index(struct req *r) {
    PGresult *res;
    enum db_status st =
        db_query(&res, "SELECT label FROM networks WHERE external ORDER BY label, id", 0, NULL);
    if (st) return api_db_error(r, st);
    json_t *out = json_array();
    for (int i = 0; i < PQntuples(res); i++)
        json_array_append_new(out, json_pack("{s:s}", "name", db_str(res, i, 0)));
    PQclear(res);
    return api_reply(r, 200, json_pack("{s:o}", "floating_ip_pools", out));
}
