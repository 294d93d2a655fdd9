/* server_ips.c — /servers/{server_id}/ips[/{id}]: a server's addresses by
 * network, from instances.addresses ({"<network>": [{"addr", "version",
 * ...}]}), reduced to the addr and version that Nova's ips view shows. */
#include <string.h>

#include "api.h"

/* The addresses of the server the request names, as stored; NULL with the
 * error set on r. */
static json_t *load_addresses(struct req *r) {
    struct instance_ref inst;
    if (instance_find(r, req_param(r, "server_id"), &inst)) return NULL;
    const char *params[] = {inst.uuid};
    PGresult *res;
    enum db_status st =
        db_query(&res, "SELECT addresses FROM instances WHERE uuid = $1::uuid", 1, params);
    if (st) {
        api_db_error(r, st);
        return NULL;
    }
    json_t *addrs = PQntuples(res) ? json_loads(db_str(res, 0, 0), 0, NULL) : NULL;
    PQclear(res);
    return json_is_object(addrs) ? addrs : (json_decref(addrs), json_object());
}

static json_t *network_view(const json_t *ips) {
    json_t *out = json_array();
    size_t i;
    json_t *ip;
    json_array_foreach(ips, i, ip) {
        json_array_append_new(out,
                              json_pack("{s:O?,s:O?}", "version", json_object_get(ip, "version"),
                                        "addr", json_object_get(ip, "addr")));
    }
    return out;
}

int server_ips_index(struct req *r) {
    json_t *addrs = load_addresses(r);
    if (!addrs) return r->status;
    json_t *out = json_object();
    const char *net;
    json_t *ips;
    json_object_foreach(addrs, net, ips) json_object_set_new(out, net, network_view(ips));
    json_decref(addrs);
    return api_reply(r, 200, json_pack("{s:o}", "addresses", out));
}

int server_ips_show(struct req *r) {
    json_t *addrs = load_addresses(r);
    if (!addrs) return r->status;
    const char *net = req_param(r, "id");
    json_t *ips = json_object_get(addrs, net);
    json_t *body = ips ? json_pack("{s:o}", net, network_view(ips)) : NULL;
    json_decref(addrs);
    return body ? api_reply(r, 200, body)
                : api_error(r, 404, "Instance is not a member of specified network");
}
