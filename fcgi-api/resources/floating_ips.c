/* floating_ips.c — os-floating-ips (a project takes addresses from a pool,
 * an external network of sql/017_networks.sql, within its floating_ips
 * quota) and the server actions addFloatingIp / removeFloatingIp, which
 * point a floating IP at one of the server's fixed IPs (taking it from
 * another server if it was there). The servers' addresses follow through
 * 017's triggers. */
#include <stdio.h>
#include <string.h>

#include "networks.h"

#define FIP_SQL                                                                                    \
    "SELECT f.id, host(f.address), n.label, host(f.fixed_address), p.instance_uuid, f.port_id"     \
    " FROM floating_ips f JOIN networks n ON n.id = f.network_id"                                  \
    " LEFT JOIN ports p ON p.id = f.port_id"
enum { F_ID, F_IP, F_POOL, F_FIXED, F_INSTANCE, F_PORT };

static json_t *nullable(PGresult *res, int i, int c) {
    return db_isnull(res, i, c) ? json_null() : json_string(db_str(res, i, c));
}

static json_t *fip_view(PGresult *res, int i) {
    return json_pack("{s:s,s:s,s:s,s:o,s:o}", "id", db_str(res, i, F_ID), "ip",
                     db_str(res, i, F_IP), "pool", db_str(res, i, F_POOL), "fixed_ip",
                     nullable(res, i, F_FIXED), "instance_id", nullable(res, i, F_INSTANCE));
}

/* The floating IP the request may see by id ($1) or address ($2): its row
 * in *out (caller clears), or 1 when there is none, or the HTTP error. */
static int fip_find(struct req *r, const char *id, const char *address, PGresult **out) {
    if (id && !uuid_valid(id)) return 1;
    const char *p[] = {id, address, r->ctx.project_id, r->ctx.is_admin ? "true" : "false"};
    enum db_status st = db_query(out,
                                 FIP_SQL " WHERE ($1::uuid IS NULL OR f.id = $1::uuid)"
                                         " AND ($2::inet IS NULL OR f.address = $2::inet)"
                                         " AND ($4::bool OR f.project_id = $3)"
                                         " ORDER BY f.created_at LIMIT 1 FOR UPDATE OF f",
                                 4, p);
    if (st) return api_db_error(r, st);
    if (PQntuples(*out)) return 0;
    PQclear(*out);
    *out = NULL;
    return 1;
}

static int fip_reply(struct req *r, const char *id) {
    PGresult *res;
    int rc = fip_find(r, id, NULL, &res);
    if (rc == 1) return api_error(r, 404, "Floating IP not found for ID %s", id);
    if (rc) return rc;
    json_t *body = json_pack("{s:o}", "floating_ip", fip_view(res, 0));
    PQclear(res);
    return api_reply(r, 200, body);
}

int floating_ips_index(struct req *r) {
    const char *p[] = {r->ctx.project_id};
    PGresult *res;
    enum db_status st =
        db_query(&res, FIP_SQL " WHERE f.project_id = $1 ORDER BY f.created_at, f.id", 1, p);
    if (st) return api_db_error(r, st);
    json_t *out = json_array();
    for (int i = 0; i < PQntuples(res); i++)
        json_array_append_new(out, fip_view(res, i));
    PQclear(res);
    return api_reply(r, 200, json_pack("{s:o}", "floating_ips", out));
}

int floating_ips_show(struct req *r) {
    return fip_reply(r, req_param(r, "id"));
}

struct allocate {
    struct req *r;
    const char *pool;
    char id[37];
    int rc;
};

static enum db_status allocate_txn(void *arg) {
    struct allocate *a = arg;
    struct req *r = a->r;
    a->rc = 0;
    /* the pool by name or id, locked: allocations in it are serialised */
    const char *p[] = {a->pool};
    PGresult *res;
    enum db_status st = db_query(&res,
                                 "SELECT id FROM networks WHERE external AND (label = $1 OR"
                                 " id::text = lower($1)) ORDER BY label = $1 DESC LIMIT 1"
                                 " FOR UPDATE",
                                 1, p);
    if (st) return st;
    char net[37] = "";
    if (PQntuples(res)) snprintf(net, sizeof net, "%s", db_str(res, 0, 0));
    PQclear(res);
    if (!net[0]) {
        a->rc = api_error(r, 404, "Floating IP pool not found.");
        return DB_ERROR;
    }
    if ((a->rc = quota_reserve(r, r->ctx.project_id, r->ctx.user_id, "floating_ips", 1))) {
        if (a->rc == 403)
            a->rc = api_error(r, 403, "IP allocation over quota in pool %s.", a->pool);
        return DB_ERROR;
    }
    const char *q[] = {net, r->ctx.project_id};
    st = db_query(&res,
                  "INSERT INTO floating_ips (network_id, address, project_id)"
                  " SELECT $1::uuid, a, $2 FROM ipam_free_address($1::uuid) a"
                  " WHERE a IS NOT NULL RETURNING id",
                  2, q);
    if (st) return st;
    if (PQntuples(res)) snprintf(a->id, sizeof a->id, "%s", db_str(res, 0, 0));
    PQclear(res);
    if (!a->id[0]) {
        a->rc = api_error(r, 404, "No more floating IPs in pool %s.", a->pool);
        return DB_ERROR;
    }
    return DB_OK;
}

int floating_ips_create(struct req *r) {
    const char *pool = r->body ? json_string_value(json_object_get(r->body, "pool")) : NULL;
    /* Nova's [neutron] default_floating_pool; ours is the seeded pool */
    struct allocate a = {
        .r = r, .pool = pool ? pool : config_get("network", "default_floating_pool", "public")};
    enum db_status st = db_txn(allocate_txn, &a);
    if (a.rc) return a.rc;
    if (st) return api_db_error(r, st);
    return fip_reply(r, a.id);
}

int floating_ips_delete(struct req *r) {
    const char *id = req_param(r, "id");
    if (!uuid_valid(id)) return api_error(r, 404, "Floating IP not found for ID %s", id);
    const char *p[] = {id, r->ctx.project_id, r->ctx.is_admin ? "true" : "false"};
    PGresult *res;
    enum db_status st = db_query(&res,
                                 "DELETE FROM floating_ips WHERE id = $1::uuid AND"
                                 " ($3::bool OR project_id = $2) RETURNING id",
                                 3, p);
    if (st) return api_db_error(r, st);
    int n = PQntuples(res);
    PQclear(res);
    return n ? api_reply(r, 202, NULL) : api_error(r, 404, "Floating IP not found for ID %s", id);
}

/* ---- addFloatingIp / removeFloatingIp (up to 2.43) ---- */

struct associate {
    struct req *r;
    const char *server, *address, *fixed;
    int rc;
};

static enum db_status fail(struct associate *a, int rc) {
    a->rc = rc;
    return DB_ERROR;
}

static enum db_status associate_txn(void *arg) {
    struct associate *a = arg;
    struct req *r = a->r;
    a->rc = 0;
    const char *p[] = {a->server};
    PGresult *ports;
    enum db_status st = db_query(&ports,
                                 "SELECT p.id, host(f.address), family(f.address) FROM ports p"
                                 " JOIN fixed_ips f ON f.port_id = p.id"
                                 " WHERE p.instance_uuid = $1::uuid ORDER BY p.created_at, p.id",
                                 1, p);
    if (st) return st;
    int n = PQntuples(ports), pick = -1;
    for (int i = 0; i < n && pick < 0; i++)
        if (a->fixed ? !strcmp(db_str(ports, i, 1), a->fixed) : db_int(ports, i, 2) == 4) pick = i;
    char port[37] = "", fixed[64] = "";
    if (pick >= 0) {
        snprintf(port, sizeof port, "%s", db_str(ports, pick, 0));
        snprintf(fixed, sizeof fixed, "%s", db_str(ports, pick, 1));
    }
    PQclear(ports);
    if (!n) return fail(a, api_error(r, 400, "Instance network is not ready yet"));
    if (pick < 0 && a->fixed)
        return fail(a, api_error(r, 400, "Specified fixed address not assigned to instance"));
    if (pick < 0)
        return fail(a, api_error(r, 400,
                                 "Unable to associate floating IP %s to any fixed IPs for"
                                 " instance %s. Instance has no fixed IPv4 addresses to"
                                 " associate.",
                                 a->address, a->server));
    PGresult *fip;
    int rc = fip_find(r, NULL, a->address, &fip);
    if (rc == 1) return fail(a, api_error(r, 404, "floating IP not found"));
    if (rc) return fail(a, rc);
    /* associated elsewhere: it moves here, as Neutron lets Nova do */
    char id[37];
    snprintf(id, sizeof id, "%s", db_str(fip, 0, F_ID));
    PQclear(fip);
    const char *u[] = {id, port, fixed};
    return db_exec("UPDATE floating_ips SET port_id = $2::uuid, fixed_address = $3::inet"
                   " WHERE id = $1::uuid",
                   3, u);
}

int server_add_floating_ip(struct req *r) {
    struct instance_ref inst;
    int rc = instance_find(r, req_param(r, "id"), &inst);
    if (rc) return rc;
    json_t *b = json_object_get(r->body, "addFloatingIp");
    struct associate a = {r, inst.uuid, json_string_value(json_object_get(b, "address")),
                          json_string_value(json_object_get(b, "fixed_address")), 0};
    enum db_status st = db_txn(associate_txn, &a);
    if (a.rc) return a.rc;
    return st ? api_db_error(r, st) : api_reply(r, 202, NULL);
}

/* As Nova: the server is known through the floating IP, not the URL. */
int server_remove_floating_ip(struct req *r) {
    const char *server = req_param(r, "id");
    const char *address =
        json_string_value(json_object_get(json_object_get(r->body, "removeFloatingIp"), "address"));
    PGresult *fip;
    int rc = fip_find(r, NULL, address, &fip);
    if (rc == 1) return api_error(r, 404, "Floating IP not found for address %s.", address);
    if (rc) return rc;
    bool ours = !db_isnull(fip, 0, F_INSTANCE) && !strcmp(db_str(fip, 0, F_INSTANCE), server);
    const char *p[] = {db_str(fip, 0, F_ID)};
    enum db_status st = ours ? db_exec("UPDATE floating_ips SET port_id = NULL,"
                                       " fixed_address = NULL WHERE id = $1::uuid",
                                       1, p)
                             : DB_OK;
    PQclear(fip);
    if (!ours)
        return api_error(r, 409, "Floating IP %s is not associated with instance %s.", address,
                         server);
    return st ? api_db_error(r, st) : api_reply(r, 202, NULL);
}
