/* flavor_access.c — os-flavor-access: which projects may use a private
 * flavor (flavor_projects). Listing it, and the addTenantAccess /
 * removeTenantAccess actions on /flavors/{id}/action, which answer with the
 * flavor's whole access list. */
#include "resources/flavors.h"

static int reply_access(struct req *r, const char *flavorid, const char *row_id) {
    const char *params[] = {row_id};
    PGresult *res;
    enum db_status st = db_query(
        &res, "SELECT project_id FROM flavor_projects WHERE flavor_id = $1 ORDER BY id", 1, params);
    if (st) return api_db_error(r, st);
    json_t *list = json_array();
    for (int i = 0; i < PQntuples(res); i++)
        json_array_append_new(
            list, json_pack("{s:s,s:s}", "flavor_id", flavorid, "tenant_id", db_str(res, i, 0)));
    PQclear(res);
    return api_reply(r, 200, json_pack("{s:o}", "flavor_access", list));
}

int flavor_access_index(struct req *r) {
    const char *fid = req_param(r, "flavor_id");
    char row_id[24];
    bool is_public;
    int st = flavors_find(r, fid, row_id, &is_public);
    if (st) return st;
    if (is_public) return api_error(r, 404, "Access list not available for public flavors.");
    return reply_access(r, fid, row_id);
}

int flavor_access_add(struct req *r) {
    const char *fid = req_param(r, "id");
    const char *tenant =
        json_string_value(json_object_get(json_object_get(r->body, "addTenantAccess"), "tenant"));
    char row_id[24];
    bool is_public;
    int st = flavors_find(r, fid, row_id, &is_public);
    if (st) return st;
    if (is_public && req_ver_ge(r, MV(2, 7)))
        return api_error(r, 409, "Can not add access to a public flavor.");
    const char *params[] = {row_id, tenant};
    enum db_status dst =
        db_exec("INSERT INTO flavor_projects (flavor_id, project_id) VALUES ($1, $2)", 2, params);
    if (dst == DB_CONFLICT)
        return api_error(r, 409,
                         "Flavor access already exists for flavor %s and project %s combination.",
                         fid, tenant);
    if (dst) return api_db_error(r, dst);
    return reply_access(r, fid, row_id);
}

int flavor_access_remove(struct req *r) {
    const char *fid = req_param(r, "id");
    const char *tenant = json_string_value(
        json_object_get(json_object_get(r->body, "removeTenantAccess"), "tenant"));
    char row_id[24];
    int st = flavors_find(r, fid, row_id, NULL);
    if (st) return st;
    const char *params[] = {row_id, tenant};
    PGresult *res;
    enum db_status dst = db_query(
        &res, "DELETE FROM flavor_projects WHERE flavor_id = $1 AND project_id = $2 RETURNING id",
        2, params);
    if (dst) return api_db_error(r, dst);
    int n = PQntuples(res);
    PQclear(res);
    if (!n)
        return api_error(r, 404, "Flavor access not found for %s / %s combination.", fid, tenant);
    return reply_access(r, fid, row_id);
}
