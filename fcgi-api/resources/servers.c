/* servers.c — /servers: show, list (index and detail, with Nova's filters,
 * sorting and limit/marker paging), update and delete. Create lives in
 * servers_create.c, the views in servers_view.c; state changes go through
 * the one state table (lib/states.c). */
#include <string.h>

#include "servers.h"

int servers_show(struct req *r) {
    return servers_reply_one(r, req_param(r, "id"), 200, SERVERS_VIEW_SHOW);
}

/* ---- listing ---- */

/* Sort keys Nova accepts and the column each sorts on (keys it ignores,
 * and host/node for non-admins, are dropped). */
static const struct {
    const char *key, *column;
    bool admin;
    int min;
} sort_columns[] = {
    {"access_ip_v4", "i.access_ip_v4", false, 0},
    {"access_ip_v6", "i.access_ip_v6", false, 0},
    {"availability_zone", "i.availability_zone", false, 0},
    {"config_drive", "i.config_drive", false, 0},
    {"created_at", "i.created_at", false, 0},
    {"display_description", "i.display_description", false, 0},
    {"display_name", "i.display_name", false, 0},
    {"host", "i.host", true, 0},
    {"hostname", "i.hostname", false, 0},
    {"image_ref", "i.image_ref", false, 0},
    {"key_name", "i.key_name", false, 0},
    {"launch_index", "i.launch_index", false, 0},
    {"launched_at", "i.launched_at", false, 0},
    {"locked", "i.locked", false, MV(2, 73)},
    {"locked_by", "i.locked_by", false, 0},
    {"node", "i.node", true, 0},
    {"power_state", "i.power_state", false, 0},
    {"progress", "i.progress", false, 0},
    {"project_id", "i.project_id", false, 0},
    {"root_device_name", "i.root_device_name", false, 0},
    {"task_state", "i.task_state", false, 0},
    {"terminated_at", "i.terminated_at", false, 0},
    {"updated_at", "i.updated_at", false, 0},
    {"user_id", "i.user_id", false, 0},
    {"uuid", "i.uuid", false, 0},
    {"vm_state", "i.vm_state", false, 0},
};

static const char *sort_column(const struct req *r, const char *key) {
    for (size_t i = 0; i < sizeof sort_columns / sizeof sort_columns[0]; i++)
        if (!strcmp(sort_columns[i].key, key)) {
            if (sort_columns[i].admin && !r->ctx.is_admin) return NULL;
            if (sort_columns[i].min && !req_ver_ge(r, sort_columns[i].min)) return NULL;
            return sort_columns[i].column;
        }
    return NULL;
}

/* ORDER BY from the table above only (never request text): the keys asked
 * for, then created_at and id in the first direction, as Nova's
 * process_sort_params appends them. */
static int order_by(struct req *r, char *out, size_t len) {
    json_t *keys = json_object_get(r->query_map, "sort_key");
    json_t *dirs = json_object_get(r->query_map, "sort_dir");
    if (json_array_size(dirs) > json_array_size(keys) && json_array_size(keys))
        return api_error(r, 400, "Sort direction size exceeds sort key size");
    const char *first = json_string_value(json_array_get(dirs, 0));
    const char *dflt = first && !strcmp(first, "asc") ? "ASC" : "DESC";
    size_t n = 0;
    bool created = false;
    out[0] = 0;
    for (size_t i = 0; i < json_array_size(keys); i++) {
        const char *key = json_string_value(json_array_get(keys, i));
        const char *col = sort_column(r, key);
        if (!col || strstr(out, col)) continue;
        const char *d = json_string_value(json_array_get(dirs, i));
        const char *dir = d ? (!strcmp(d, "asc") ? "ASC" : "DESC") : dflt;
        n += (size_t)snprintf(out + n, len - n, "%s%s %s NULLS %s", n ? ", " : "", col, dir,
                              !strcmp(dir, "ASC") ? "FIRST" : "LAST");
        if (!strcmp(key, "created_at")) created = true;
        if (n >= len) return api_error(r, 400, "Too many sort keys");
    }
    if (!created) n += (size_t)snprintf(out + n, len - n, "%si.created_at %s", n ? ", " : "", dflt);
    snprintf(out + n, len - n, ", i.id %s", dflt);
    return 0;
}

/* status=X (repeatable) -> vm_state and task_state array literals. */
static int status_filter(struct req *r, char *vms, char *tasks, size_t len, bool *none) {
    json_t *list = json_object_get(r->query_map, "status");
    *none = false;
    vms[0] = tasks[0] = 0;
    if (!list) return 0;
    const char *v[64] = {NULL}, *t[64] = {NULL};
    bool any_task = false;
    size_t i, nv = 0;
    json_t *s;
    json_array_foreach(list, i, s) nv =
        states_from_status(json_string_value(s), v, t, 64, &any_task);
    if (!nv) {
        if (req_ver_ge(r, MV(2, 38))) return api_error(r, 400, "Invalid status value");
        *none = true;
        return 0;
    }
    if (nv == 1 && !strcmp(v[0], "deleted") && !r->ctx.is_admin)
        return api_error(r, 403, "Only administrators may list deleted instances");
    size_t n = (size_t)snprintf(vms, len, "{");
    for (i = 0; v[i]; i++)
        n += (size_t)snprintf(vms + n, len - n, "%s%s", i ? "," : "", v[i]);
    snprintf(vms + n, len - n, "}");
    if (!any_task && t[0]) {
        n = (size_t)snprintf(tasks, len, "{");
        for (i = 0; t[i]; i++)
            n += (size_t)snprintf(tasks + n, len - n, "%s%s", i ? "," : "", t[i]);
        snprintf(tasks + n, len - n, "}");
    }
    return 0;
}

static bool is_true(const char *s) {
    bool b = false;
    return s && str_to_bool(s, &b) && b;
}

static int list(struct req *r, bool detail) {
    bool admin = r->ctx.is_admin;
    static const char *const joined[] = {"block_device_mapping", "services",   "metadata",
                                         "system_metadata",      "info_cache", "security_groups",
                                         "pci_devices",          NULL};
    const char *key;
    json_t *vals;
    json_object_foreach(r->query_map, key, vals) {
        bool bad = key[0] == '_';
        for (const char *const *j = joined; *j && !bad; j++)
            bad = !strcmp(*j, key);
        if (bad && admin) return api_error(r, 400, "Invalid filter field: %s.", key);
    }
    /* all_tenants: present (any value oslo reads as true, or empty) */
    bool all_tenants = false;
    if (json_object_get(r->query_map, "all_tenants")) {
        const char *v = req_query(r, "all_tenants");
        bool b = true;
        if (v && *v && !str_to_bool(v, &b))
            return api_error(r, 400, "Invalid value '%s' for all_tenants", v);
        all_tenants = b;
    }
    if (all_tenants && !admin)
        return api_error(r, 403,
                         "Policy doesn't allow os_compute_api:servers:%s:get_all_tenants"
                         " to be performed.",
                         detail ? "detail" : "index");
    char vms[512], tasks[512];
    bool none;
    int rc = status_filter(r, vms, tasks, sizeof vms, &none);
    if (rc) return rc;
    const char *coll = detail ? "/servers/detail" : "/servers";
    if (none) return api_reply(r, 200, json_pack("{s:[]}", "servers"));
    const char *since = req_query(r, "changes-since");
    const char *before = req_ver_ge(r, MV(2, 66)) ? req_query(r, "changes-before") : NULL;
    if (since && before) {
        const char *p[] = {since, before};
        PGresult *res;
        enum db_status st = db_query(&res, "SELECT $1::timestamptz > $2::timestamptz", 2, p);
        if (st) return api_error(r, 400, "Invalid filter field: changes-since.");
        bool later = db_bool(res, 0, 0);
        PQclear(res);
        if (later)
            return api_error(r, 400,
                             "The value of changes-since must be less than or equal"
                             " to changes-before.");
    }
    const char *deleted = "no";
    const char *del_opt = admin ? req_query(r, "deleted") : NULL;
    if (del_opt)
        deleted = is_true(del_opt) ? "yes" : "no";
    else if (since || before)
        deleted = "any";
    if (vms[0] && !strcmp(vms, "{deleted}") && admin) deleted = "yes";
    const char *project = NULL;
    if (!all_tenants)
        project = r->ctx.project_id;
    else
        project = req_query(r, "project_id") ? req_query(r, "project_id") : req_query(r, "tenant_id");
    bool tags_ok = req_ver_ge(r, MV(2, 26));
    bool wide = admin || req_ver_ge(r, MV(2, 83)); /* filters non-admins got at 2.83 */
    const char *locked = req_ver_ge(r, MV(2, 73)) ? req_query(r, "locked") : NULL;
    const char *marker = req_query(r, "marker");
    long limit = paging_limit(r);
    char limit_s[24], down[16];
    snprintf(limit_s, sizeof limit_s, "%ld", limit);
    servers_down_time(down);
    if (marker) {
        const char *p[] = {uuid_valid(marker) ? marker : NULL, admin ? NULL : r->ctx.project_id};
        PGresult *res;
        enum db_status st = db_query(&res,
                                     "SELECT 1 FROM instances WHERE uuid = $1::uuid"
                                     " AND ($2::text IS NULL OR project_id = $2)",
                                     2, p);
        if (st) return api_db_error(r, st);
        int found = PQntuples(res);
        PQclear(res);
        if (!found) return api_error(r, 400, "marker [%s] not found", marker);
    }
    char order[1024];
    if ((rc = order_by(r, order, sizeof order))) return rc;
    /* Only the filters asked for are written (see db_sql): one statement
     * text per combination, each planned once by PostgreSQL. */
    const char *ip6 = req_ver_ge(r, MV(2, 5)) || admin ? req_query(r, "ip6") : NULL;
    const char *asked_uuid = admin ? req_query(r, "uuid") : NULL;
    const struct {
        const char *value, *frag;
    } filters[] = {
        {project, " AND i.project_id = $?"},
        {req_query(r, "name"), " AND i.display_name ~ $?"},
        {vms[0] ? vms : NULL, " AND i.vm_state = ANY($?::text[])"},
        {tasks[0] ? tasks : NULL, " AND i.task_state = ANY($?::text[])"},
        {req_query(r, "flavor"), " AND i.flavor->>'flavorid' = $?"},
        {req_query(r, "image"), " AND i.image_ref = $?"},
        {admin ? req_query(r, "host") : NULL, " AND i.host = $?"},
        {req_query(r, "ip"), " AND EXISTS (SELECT 1 FROM jsonb_each(i.addresses) n,"
                             " jsonb_array_elements(n.value) a WHERE a->>'version' = '4'"
                             " AND a->>'addr' ~ $?)"},
        {ip6, " AND EXISTS (SELECT 1 FROM jsonb_each(i.addresses) n,"
              " jsonb_array_elements(n.value) a WHERE a->>'version' = '6' AND a->>'addr' ~ $?)"},
        {since, " AND COALESCE(i.updated_at, i.created_at) >= $?::timestamptz"},
        {before, " AND COALESCE(i.updated_at, i.created_at) <= $?::timestamptz"},
        {tags_ok ? req_query(r, "tags") : NULL,
         " AND NOT EXISTS (SELECT 1 FROM unnest(string_to_array($?, ',')) w WHERE NOT EXISTS"
         " (SELECT 1 FROM tags t WHERE t.resource_id = i.uuid AND t.tag = w))"},
        {tags_ok ? req_query(r, "tags-any") : NULL,
         " AND EXISTS (SELECT 1 FROM tags t WHERE t.resource_id = i.uuid"
         " AND t.tag = ANY(string_to_array($?, ',')))"},
        {tags_ok ? req_query(r, "not-tags") : NULL,
         " AND EXISTS (SELECT 1 FROM unnest(string_to_array($?, ',')) w WHERE NOT EXISTS"
         " (SELECT 1 FROM tags t WHERE t.resource_id = i.uuid AND t.tag = w))"},
        {tags_ok ? req_query(r, "not-tags-any") : NULL,
         " AND NOT EXISTS (SELECT 1 FROM tags t WHERE t.resource_id = i.uuid"
         " AND t.tag = ANY(string_to_array($?, ',')))"},
        {locked ? (is_true(locked) ? "true" : "false") : NULL, " AND i.locked = $?::bool"},
        {req_query(r, "reservation_id"), " AND i.reservation_id = $?"},
        {admin ? req_query(r, "node") : NULL, " AND i.node = $?"},
        {wide ? req_query(r, "user_id") : NULL, " AND i.user_id = $?"},
        {wide ? req_query(r, "availability_zone") : NULL, " AND i.availability_zone = $?"},
        {wide ? req_query(r, "key_name") : NULL, " AND i.key_name = $?"},
        {asked_uuid && uuid_valid(asked_uuid) ? asked_uuid : NULL, " AND i.uuid = $?::uuid"},
    };
    struct db_sql q = {.text = ""};
    if (detail) db_sql_param(&q, down); /* $1 of SERVERS_ROW_SQL */
    char frag[1200];
    /* ORDER BY from sort_columns only */
    snprintf(frag, sizeof frag,
             "WITH q AS (SELECT i.uuid, row_number() OVER (ORDER BY %s) AS rn FROM instances i"
             " WHERE true",
             order);
    db_sql_add(&q, frag, NULL);
    for (size_t i = 0; i < sizeof filters / sizeof *filters; i++)
        if (filters[i].value) db_sql_add(&q, filters[i].frag, filters[i].value);
    if (strcmp(deleted, "any"))
        db_sql_add(&q, !strcmp(deleted, "no") ? " AND i.deleted = 0" : " AND i.deleted <> 0", NULL);
    db_sql_add(&q, "), page AS (SELECT uuid, rn FROM q", NULL);
    if (marker) db_sql_add(&q, " WHERE rn > COALESCE((SELECT rn FROM q WHERE uuid = $?::uuid), 0)",
                           uuid_valid(marker) ? marker : NULL);
    db_sql_add(&q, " ORDER BY rn LIMIT $?::int) ", limit_s);
    /* the index needs only id and name */
    db_sql_add(&q, detail ? SERVERS_ROW_SQL
                          : "SELECT i.uuid, i.display_name FROM instances i ",
               NULL);
    db_sql_add(&q, " JOIN page ON page.uuid = i.uuid ORDER BY page.rn", NULL);
    PGresult *res;
    enum db_status st = db_query_sql(&res, &q);
    if (st == DB_INVALID && (req_query(r, "name") || req_query(r, "ip") || req_query(r, "ip6")))
        return api_error(r, 400, "Invalid filter value: %s", db_errmsg());
    if (st) return api_db_error(r, st);
    json_t *servers = json_array();
    char last[37] = "";
    for (int i = 0; i < PQntuples(res); i++) {
        json_t *row = db_row_json(res, i);
        snprintf(last, sizeof last, "%s", json_string_value(json_object_get(row, "uuid")));
        if (detail) {
            json_array_append_new(servers, servers_view(r, row, SERVERS_VIEW_DETAIL));
        } else {
            char path[80];
            snprintf(path, sizeof path, "/servers/%s", last);
            json_array_append_new(servers, json_pack("{s:s,s:O,s:o}", "id", last, "name",
                                                     json_object_get(row, "display_name"), "links",
                                                     resource_links(r, path)));
        }
        json_decref(row);
    }
    int n = PQntuples(res);
    PQclear(res);
    json_t *body = json_pack("{s:o}", "servers", servers);
    if (n && n == limit) json_object_set_new(body, "servers_links", paging_link(r, coll, last));
    return api_reply(r, 200, body);
}

int servers_index(struct req *r) {
    return list(r, false);
}

int servers_detail(struct req *r) {
    return list(r, true);
}

/* ---- update ---- */

struct update_args {
    struct req *r;
    json_t *server;
    const char *uuid;
    int rc;
};

static const char *field(json_t *o, const char *k, bool *present) {
    json_t *v = json_object_get(o, k);
    *present = v != NULL;
    return json_string_value(v);
}

static enum db_status update_txn(void *arg) {
    struct update_args *a = arg;
    struct req *r = a->r;
    json_t *s = a->server;
    bool has_name, has_desc, has_v4, has_v6, has_host, has_dc;
    const char *name = field(s, "name", &has_name);
    const char *desc = field(s, "description", &has_desc);
    const char *v4 = field(s, "accessIPv4", &has_v4);
    const char *v6 = field(s, "accessIPv6", &has_v6);
    const char *host = field(s, "hostname", &has_host);
    const char *dc = field(s, "OS-DCF:diskConfig", &has_dc);
    const char *params[] = {a->uuid, has_name ? "t" : "f",
                            name,    has_desc && req_ver_ge(r, MV(2, 19)) ? "t" : "f",
                            desc,    has_v4 ? "t" : "f",
                            v4,      has_v6 ? "t" : "f",
                            v6,      has_host && req_ver_ge(r, MV(2, 90)) ? "t" : "f",
                            host,    dc ? (strcmp(dc, "AUTO") ? "False" : "True") : NULL};
    (void)has_dc;
    PGresult *res;
    enum db_status st =
        db_query(&res,
                 "UPDATE instances SET"
                 " display_name = CASE WHEN $2::bool THEN $3 ELSE display_name END,"
                 " display_description = CASE WHEN $4::bool THEN $5 ELSE display_description END,"
                 " access_ip_v4 = CASE WHEN $6::bool THEN NULLIF($7, '') ELSE access_ip_v4 END,"
                 " access_ip_v6 = CASE WHEN $8::bool THEN NULLIF($9, '') ELSE access_ip_v6 END,"
                 " hostname = CASE WHEN $10::bool THEN $11 ELSE hostname END,"
                 " system_metadata = CASE WHEN $12::text IS NULL THEN system_metadata"
                 "   ELSE system_metadata || jsonb_build_object('auto_disk_config', $12::text) END,"
                 " updated_at = now()"
                 " WHERE uuid = $1::uuid AND deleted = 0 RETURNING id",
                 12, params);
    if (st) return st;
    if (!PQntuples(res)) a->rc = api_error(r, 404, "Instance could not be found");
    PQclear(res);
    return a->rc ? DB_ERROR : DB_OK;
}

/* 2.104: pin to the current zone or unpin (Nova's rules and words). */
static int update_pinned_az(struct req *r, const char *uuid, json_t *server) {
    json_t *v = json_object_get(server, "pinned_availability_zone");
    if (!v || !req_ver_ge(r, MV(2, 104))) return 0;
    const char *want = json_string_value(v);
    const char *p[] = {uuid};
    PGresult *res;
    enum db_status st = db_query(&res,
                                 "SELECT pinned_availability_zone, availability_zone"
                                 " FROM instances WHERE uuid = $1::uuid AND deleted = 0",
                                 1, p);
    if (st) return api_db_error(r, st);
    if (!PQntuples(res)) {
        PQclear(res);
        return api_error(r, 404, "Instance could not be found");
    }
    const char *pinned = db_isnull(res, 0, 0) ? NULL : db_str(res, 0, 0);
    const char *az = db_isnull(res, 0, 1) ? "" : db_str(res, 0, 1);
    int rc = 0;
    if (want && pinned && strcmp(want, pinned))
        rc = api_error(r, 409,
                       "Cannot change pinned availability zone directly. Unpin first by"
                       " setting pinned_availability_zone to null.");
    else if (want && !pinned && strcmp(want, az))
        rc = api_error(r, 409,
                       "Server can only be pinned to its current availability zone"
                       " '%s', but '%s' was requested.",
                       az, want);
    PQclear(res);
    if (rc) return rc;
    const char *u[] = {uuid, want};
    st = db_exec("UPDATE instances SET pinned_availability_zone = $2,"
                 " request_spec = jsonb_set(request_spec, '{availability_zone}',"
                 "   COALESCE(to_jsonb($2::text), 'null'::jsonb)) WHERE uuid = $1::uuid",
                 2, u);
    return st ? api_db_error(r, st) : 0;
}

int servers_update(struct req *r) {
    struct instance_ref inst;
    int rc = instance_find(r, req_param(r, "id"), &inst);
    if (rc) return rc;
    json_t *server = json_object_get(r->body, "server");
    if ((rc = update_pinned_az(r, inst.uuid, server))) return rc;
    struct update_args a = {r, server, inst.uuid, 0};
    enum db_status st = db_txn(update_txn, &a);
    if (a.rc) return a.rc;
    if (st) return api_db_error(r, st);
    return servers_reply_one(r, inst.uuid, 200, SERVERS_VIEW_UPDATE);
}

/* ---- delete ---- */

struct delete_args {
    struct req *r;
    struct instance_ref *inst;
    int rc;
};

static enum db_status delete_txn(void *arg) {
    struct delete_args *a = arg;
    struct req *r = a->r;
    const char *uuid = a->inst->uuid;
    const char *p[] = {uuid};
    enum db_status st;
    /* Never scheduled and in ERROR: nothing runs anywhere, delete here. */
    PGresult *res;
    st = db_query(&res,
                  "UPDATE instances SET deleted = id, deleted_at = now(), terminated_at = now(),"
                  " vm_state = 'deleted', task_state = NULL, progress = 0, updated_at = now()"
                  " WHERE uuid = $1::uuid AND deleted = 0 AND host IS NULL"
                  " AND vm_state = 'error' RETURNING id",
                  1, p);
    if (st) return st;
    int local = PQntuples(res);
    PQclear(res);
    if (local) {
        st = db_exec("UPDATE server_group_members SET deleted = id, deleted_at = now()"
                     " WHERE instance_uuid = $1::uuid AND deleted = 0",
                     1, p);
        if (!st)
            st = db_exec("UPDATE block_device_mapping SET deleted = id"
                         " WHERE instance_uuid = $1::uuid AND deleted = 0",
                         1, p);
        if (!st && (a->rc = instance_action_start(r, uuid, "delete"))) return DB_ERROR;
        if (!st) { /* never scheduled: the API deletes it, as Nova's API does */
            char pub[300];
            notify_publisher(pub, sizeof pub, "nova-api", NULL);
            if (notify_instance(uuid, "instance.delete.start", NULL, "compute.instance.delete.start",
                                "INFO", pub, NULL) < 0 ||
                notify_instance(uuid, "instance.delete.end", NULL, "compute.instance.delete.end",
                                "INFO", pub, NULL) < 0)
                return DB_ERROR;
        }
        return st;
    }
    char msg[512];
    int dbst = 0;
    const char *method = "delete_instance";
    enum states_result sr = STATES_CONFLICT;
    if (config_int("DEFAULT", "reclaim_instance_interval", 0) > 0) {
        sr = states_apply(uuid, "soft_delete", NULL, msg, sizeof msg, &dbst);
        method = "soft_delete_instance";
    }
    if (sr == STATES_CONFLICT) {
        sr = states_apply(uuid, "delete", NULL, msg, sizeof msg, &dbst);
        method = "delete_instance";
    }
    if (sr == STATES_DB_ERROR) return (enum db_status)dbst;
    if (sr == STATES_NOT_FOUND) {
        a->rc = api_error(r, 404, "Instance could not be found");
        return DB_ERROR;
    }
    if (sr == STATES_CONFLICT) {
        a->rc = api_error(r, 409, "%s", msg);
        return DB_ERROR;
    }
    if ((a->rc = instance_action_start(r, uuid, "delete"))) return DB_ERROR;
    if (!strcmp(method, "delete_instance")) {
        char pub[300];
        if (a->inst->host[0])
            notify_publisher(pub, sizeof pub, "nova-compute", a->inst->host);
        else
            notify_publisher(pub, sizeof pub, "nova-api", NULL);
        if (notify_instance(uuid, "instance.delete.start", NULL, "compute.instance.delete.start",
                            "INFO", pub, NULL) < 0)
            return DB_ERROR;
    }
    json_t *args = json_pack("{s:s}", "instance_uuid", uuid);
    int out = outbox_add("conductor", method, args);
    json_decref(args);
    return out < 0 ? DB_ERROR : DB_OK;
}

int servers_delete(struct req *r) {
    struct instance_ref inst;
    int rc = instance_find(r, req_param(r, "id"), &inst);
    if (rc) return rc;
    if (inst.locked && !r->ctx.is_admin)
        return api_error(r, 409, "Instance %s is locked", inst.uuid);
    /* Nova ignores a delete of an instance already being deleted */
    if (!strcmp(inst.task_state, "deleting")) return api_reply(r, 204, NULL);
    struct delete_args a = {r, &inst, 0};
    enum db_status st = db_txn(delete_txn, &a);
    if (a.rc) return a.rc;
    if (st) return api_db_error(r, st);
    outbox_flush();
    return api_reply(r, 204, NULL);
}
