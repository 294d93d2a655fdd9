/* server_groups.c — os-server-groups: named (anti-)affinity groups of
 * servers, owned by a project. Until 2.63 the policy is shown as a
 * one-item "policies" list with an empty "metadata"; from 2.64 as "policy"
 * plus "rules" (max_server_per_host, anti-affinity only). Admins see every
 * project's groups; anyone else's group is 404 to a non-admin. */
#include <stdlib.h>
#include <string.h>

#include "api.h"

/* The columns every query below selects, in this order. */
#define GROUP_COLUMNS                                                                              \
    "g.uuid, g.name, g.policy, g.rules::text, g.project_id, g.user_id,"                            \
    " COALESCE((SELECT json_agg(m.instance_uuid ORDER BY m.id)::text"                              \
    "           FROM server_group_members m WHERE m.group_uuid = g.uuid AND m.deleted = 0),"       \
    " '[]')"

enum { COL_UUID, COL_NAME, COL_POLICY, COL_RULES, COL_PROJECT, COL_USER, COL_MEMBERS };

static json_t *group_json(const struct req *r, PGresult *res, int row) {
    json_t *g = json_pack("{s:s,s:s?}", "id", db_str(res, row, COL_UUID), "name",
                          db_isnull(res, row, COL_NAME) ? NULL : db_str(res, row, COL_NAME));
    const char *policy = db_str(res, row, COL_POLICY);
    if (req_ver_ge(r, MV(2, 64))) {
        json_object_set_new(g, "policy", json_string(policy));
        json_t *rules = json_loads(db_str(res, row, COL_RULES), 0, NULL);
        json_object_set_new(g, "rules", rules ? rules : json_object());
    } else {
        json_object_set_new(g, "policies", json_pack("[s]", policy));
        json_object_set_new(g, "metadata", json_object());
    }
    json_t *members = json_loads(db_str(res, row, COL_MEMBERS), 0, NULL);
    json_object_set_new(g, "members", members ? members : json_array());
    if (req_ver_ge(r, MV(2, 13))) {
        json_object_set_new(g, "project_id", json_string(db_str(res, row, COL_PROJECT)));
        json_object_set_new(g, "user_id", json_string(db_str(res, row, COL_USER)));
    }
    return g;
}

static int not_found(struct req *r, const char *id) {
    return api_error(r, 404, "Instance group %s could not be found.", id);
}

/* The project a caller's lookups are limited to: NULL (every project) for
 * an admin, as Nova's database layer does. */
static const char *scope(const struct req *r) {
    return r->ctx.is_admin ? NULL : r->ctx.project_id;
}

int server_groups_index(struct req *r) {
    /* Nova lists every project's groups when an admin passes all_projects,
     * whatever its value; anyone else gets their own project's. */
    bool all = r->ctx.is_admin && json_object_get(r->query_map, "all_projects");
    char limit[32];
    snprintf(limit, sizeof limit, "%ld", paging_limit(r));
    char offset[32]; /* digits only (the query schema says so); huge ones saturate */
    const char *given = req_query(r, "offset");
    snprintf(offset, sizeof offset, "%lld", given ? strtoll(given, NULL, 10) : 0LL);
    const char *params[] = {all ? NULL : r->ctx.project_id, limit, offset};
    PGresult *res;
    enum db_status st = db_query(&res,
                                 "SELECT " GROUP_COLUMNS " FROM server_groups g WHERE g.deleted = 0"
                                 " AND ($1::text IS NULL OR g.project_id = $1) ORDER BY g.id"
                                 " LIMIT $2::bigint OFFSET $3::bigint",
                                 3, params);
    if (st) return api_db_error(r, st);
    json_t *list = json_array();
    for (int i = 0; i < PQntuples(res); i++)
        json_array_append_new(list, group_json(r, res, i));
    PQclear(res);
    return api_reply(r, 200, json_pack("{s:o}", "server_groups", list));
}

int server_groups_show(struct req *r) {
    const char *id = req_param(r, "id");
    if (!uuid_valid(id)) return not_found(r, id);
    const char *params[] = {id, scope(r)};
    PGresult *res;
    enum db_status st = db_query(&res,
                                 "SELECT " GROUP_COLUMNS " FROM server_groups g"
                                 " WHERE g.uuid = $1::uuid AND g.deleted = 0"
                                 " AND ($2::text IS NULL OR g.project_id = $2)",
                                 2, params);
    if (st) return api_db_error(r, st);
    int code = PQntuples(res)
                   ? api_reply(r, 200, json_pack("{s:o}", "server_group", group_json(r, res, 0)))
                   : not_found(r, id);
    PQclear(res);
    return code;
}

/* The policy and rules (as JSON text) of a create request, or a 400. */
static int read_policy(struct req *r, const json_t *body, const char **policy, char *rules,
                       size_t rules_len) {
    snprintf(rules, rules_len, "{}");
    if (!req_ver_ge(r, MV(2, 64))) {
        *policy = json_string_value(json_array_get(json_object_get(body, "policies"), 0));
        return 0;
    }
    *policy = json_string_value(json_object_get(body, "policy"));
    json_t *given = json_object_get(body, "rules");
    if (json_object_size(given) && strcmp(*policy, "anti-affinity"))
        return api_error(r, 400, "Only anti-affinity policy supports rules.");
    /* max_server_per_host may come as "3": it is kept, and shown, as 3 */
    json_t *max = json_object_get(given, "max_server_per_host");
    if (max)
        snprintf(rules, rules_len, "{\"max_server_per_host\": %lld}",
                 json_is_integer(max) ? (long long)json_integer_value(max)
                                      : strtoll(json_string_value(max), NULL, 10));
    return 0;
}

int server_groups_create(struct req *r) {
    const json_t *body = json_object_get(r->body, "server_group");
    const char *policy;
    char rules[64], uuid[37];
    enum db_status st = db_begin();
    if (st) return api_db_error(r, st);
    /* Nova checks the quota before it looks at the rules */
    int code = quota_reserve(r, r->ctx.project_id, r->ctx.user_id, "server_groups", 1);
    if (!code) code = read_policy(r, body, &policy, rules, sizeof rules);
    if (code) {
        db_rollback();
        return code;
    }
    uuid_new(uuid);
    const char *params[] = {uuid,
                            json_string_value(json_object_get(body, "name")),
                            r->ctx.project_id,
                            r->ctx.user_id,
                            policy,
                            rules};
    PGresult *res;
    st = db_query(&res,
                  "WITH g AS (INSERT INTO server_groups (uuid, name, project_id, user_id, policy,"
                  " rules) VALUES ($1, $2, $3, $4, $5, $6::jsonb) RETURNING *)"
                  " SELECT " GROUP_COLUMNS " FROM g",
                  6, params);
    if (st == DB_OK && notify_server_group(uuid, "server_group.create", NULL) < 0) {
        PQclear(res);
        st = DB_ERROR;
    }
    if (st == DB_OK && (st = db_commit()) != DB_OK) PQclear(res);
    if (st) {
        db_rollback();
        return api_db_error(r, st);
    }
    outbox_flush(); /* server_group.create (notify.h) */
    code = api_reply(r, 200, json_pack("{s:o}", "server_group", group_json(r, res, 0)));
    PQclear(res);
    return code;
}

struct deletion {
    const char *params[2]; /* uuid, project scope */
    bool found;
};

/* Soft-deletes the group and its member rows, in one transaction. */
static enum db_status delete_group(void *arg) {
    struct deletion *d = arg;
    PGresult *res;
    /* the event shows the group as it was (a group that is not there, or
     * not the caller's, makes no row and the update below finds nothing) */
    enum db_status st = db_query(&res,
                                 "SELECT 1 FROM server_groups WHERE uuid = $1::uuid AND deleted = 0"
                                 " AND ($2::text IS NULL OR project_id = $2)",
                                 2, d->params);
    if (st) return st;
    int there = PQntuples(res);
    PQclear(res);
    if (there && notify_server_group(d->params[0], "server_group.delete", NULL) < 0)
        return DB_ERROR;
    st = db_query(&res,
                                 "UPDATE server_groups SET deleted = id, deleted_at = now()"
                                 " WHERE uuid = $1::uuid AND deleted = 0"
                                 " AND ($2::text IS NULL OR project_id = $2) RETURNING id",
                                 2, d->params);
    if (st) return st;
    d->found = PQntuples(res) > 0;
    PQclear(res);
    if (!d->found) return DB_OK;
    return db_exec("UPDATE server_group_members SET deleted = id, deleted_at = now()"
                   " WHERE group_uuid = $1::uuid AND deleted = 0",
                   1, d->params);
}

int server_groups_delete(struct req *r) {
    const char *id = req_param(r, "id");
    if (!uuid_valid(id)) return not_found(r, id);
    struct deletion d = {{id, scope(r)}, false};
    enum db_status st = db_txn(delete_group, &d);
    if (st) return api_db_error(r, st);
    if (d.found) outbox_flush(); /* server_group.delete (notify.h) */
    return d.found ? api_reply(r, 204, NULL) : not_found(r, id);
}
