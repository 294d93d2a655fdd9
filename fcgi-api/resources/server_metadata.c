/* server_metadata.c — /servers/{server_id}/metadata[/{id}]: a server's
 * user metadata (instance_metadata rows). Changes follow Nova's
 * compute API: the instance row is locked (FOR UPDATE), then the lock,
 * the state rule "update_metadata" of lib/states.c and the metadata_items
 * quota are checked, in Nova's order, and the rows written in the same
 * transaction. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "states.h"

static json_t *load_metadata(const char *uuid, enum db_status *st) {
    const char *params[] = {uuid};
    PGresult *res;
    *st = db_query(&res, "SELECT key, value FROM instance_metadata WHERE instance_uuid = $1::uuid",
                   1, params);
    if (*st) return NULL;
    json_t *meta = json_object();
    for (int i = 0; i < PQntuples(res); i++)
        json_object_set_new(meta, db_str(res, i, 0), json_string(db_str(res, i, 1)));
    PQclear(res);
    return meta;
}

static bool listed(const char *const *list, const char *s) {
    if (!list) return true; /* STATES_ANY */
    for (; *list; list++)
        if (!strcmp(*list, s)) return true;
    return false;
}

/* Inside the caller's transaction: locks the live instance row and answers
 * 409 as Nova's check_instance_lock / check_instance_state do. `action`
 * is the name in Nova's message ("update metadata", "delete metadata"). */
static int check_writable(struct req *r, const char *uuid, const char *action) {
    const char *params[] = {uuid};
    PGresult *res;
    enum db_status st = db_query(&res,
                                 "SELECT vm_state, COALESCE(task_state, ''), locked,"
                                 " launched_at IS NOT NULL FROM instances"
                                 " WHERE uuid = $1::uuid AND deleted = 0 FOR UPDATE",
                                 1, params);
    if (st) return api_db_error(r, st);
    if (!PQntuples(res)) {
        PQclear(res);
        return api_error(r, 404, "Instance %s could not be found.", uuid);
    }
    char vm[32], task[32];
    snprintf(vm, sizeof vm, "%s", db_str(res, 0, 0));
    snprintf(task, sizeof task, "%s", db_str(res, 0, 1));
    bool locked = db_bool(res, 0, 2), launched = db_bool(res, 0, 3);
    PQclear(res);
    const struct state_rule *rule = states_rule("update_metadata");
    if (locked && !r->ctx.is_admin) return api_error(r, 409, "Instance %s is locked", uuid);
    if (rule && !listed(rule->vm_states, vm))
        return api_error(r, 409, "Cannot '%s' instance %s while it is in vm_state %s", action, uuid,
                         vm);
    if (rule && !listed(rule->task_states, task))
        return api_error(r, 409, "Cannot '%s' instance %s while it is in task_state %s", action,
                         uuid, task[0] ? task : "None");
    if (rule && rule->must_have_launched && !launched)
        return api_error(r, 409, "Instance %s is in an invalid state for '%s'", uuid, action);
    return 0;
}

/* Nova's _check_metadata_properties_quota on the resulting set. */
static int check_quota(struct req *r, const struct instance_ref *inst, size_t count) {
    long limits[QUOTA_MAX];
    enum db_status st = quota_limits(inst->project_id, inst->user_id, NULL, limits);
    if (st) return api_db_error(r, st);
    long limit = limits[quota_find("metadata_items") - quota_resources];
    if (count && limit >= 0 && (long)count > limit)
        return api_error(r, 403, "Maximum number of metadata items exceeds %ld", limit);
    return 0;
}

static int apply(struct req *r, const struct instance_ref *inst, json_t *changes, bool purge,
                 json_t **result) {
    enum db_status st;
    int err = check_writable(r, inst->uuid, "update metadata");
    if (err) return err;
    json_t *meta = load_metadata(inst->uuid, &st);
    if (!meta) return api_db_error(r, st);
    if (purge) json_object_clear(meta);
    json_object_update(meta, changes);
    if ((err = check_quota(r, inst, json_object_size(meta)))) {
        json_decref(meta);
        return err;
    }
    char *doc = json_dumps(meta, JSON_COMPACT);
    const char *params[] = {inst->uuid, doc};
    st = db_exec("DELETE FROM instance_metadata WHERE instance_uuid = $1::uuid"
                 " AND NOT (key = ANY (ARRAY(SELECT jsonb_object_keys($2::jsonb))))",
                 2, params);
    if (!st)
        st = db_exec("INSERT INTO instance_metadata (instance_uuid, key, value)"
                     " SELECT $1::uuid, key, value FROM jsonb_each_text($2::jsonb)"
                     " ON CONFLICT (instance_uuid, key) DO UPDATE SET value = EXCLUDED.value",
                     2, params);
    if (!st)
        st = db_exec("UPDATE instances SET updated_at = now() WHERE uuid = $1::uuid", 1, params);
    free(doc);
    if (st) {
        json_decref(meta);
        return api_db_error(r, st);
    }
    *result = meta;
    return 0;
}

/* create / update_all / update: one transaction around apply(). */
static int change(struct req *r, json_t *changes, bool purge, const char *key) {
    struct instance_ref inst;
    int err = instance_find(r, req_param(r, "server_id"), &inst);
    if (err) return err;
    if (key && !json_object_get(changes, key))
        return api_error(r, 400, "Request body and URI mismatch");
    enum db_status st = db_begin();
    if (st) return api_db_error(r, st);
    json_t *meta = NULL;
    if ((err = apply(r, &inst, changes, purge, &meta))) {
        db_rollback();
        return err;
    }
    if ((st = db_commit())) {
        db_rollback();
        json_decref(meta);
        return api_db_error(r, st);
    }
    if (key) {
        json_decref(meta);
        return api_reply(r, 200, json_pack("{s:O}", "meta", changes));
    }
    return api_reply(r, 200, json_pack("{s:o}", "metadata", meta));
}

int server_metadata_create(struct req *r) {
    return change(r, json_object_get(r->body, "metadata"), false, NULL);
}

int server_metadata_update_all(struct req *r) {
    return change(r, json_object_get(r->body, "metadata"), true, NULL);
}

int server_metadata_update(struct req *r) {
    return change(r, json_object_get(r->body, "meta"), false, req_param(r, "id"));
}

int server_metadata_index(struct req *r) {
    struct instance_ref inst;
    int err = instance_find(r, req_param(r, "server_id"), &inst);
    if (err) return err;
    enum db_status st;
    json_t *meta = load_metadata(inst.uuid, &st);
    return meta ? api_reply(r, 200, json_pack("{s:o}", "metadata", meta)) : api_db_error(r, st);
}

int server_metadata_show(struct req *r) {
    struct instance_ref inst;
    int err = instance_find(r, req_param(r, "server_id"), &inst);
    if (err) return err;
    enum db_status st;
    json_t *meta = load_metadata(inst.uuid, &st);
    if (!meta) return api_db_error(r, st);
    const char *key = req_param(r, "id");
    json_t *v = json_object_get(meta, key);
    json_t *body = v ? json_pack("{s:{s:O}}", "meta", key, v) : NULL;
    json_decref(meta);
    return body ? api_reply(r, 200, body) : api_error(r, 404, "Metadata item was not found");
}

int server_metadata_delete(struct req *r) {
    struct instance_ref inst;
    int err = instance_find(r, req_param(r, "server_id"), &inst);
    if (err) return err;
    const char *params[] = {inst.uuid, req_param(r, "id")};
    PGresult *res;
    enum db_status st = db_query(&res,
                                 "SELECT 1 FROM instance_metadata"
                                 " WHERE instance_uuid = $1::uuid AND key = $2",
                                 2, params);
    if (st) return api_db_error(r, st);
    int found = PQntuples(res);
    PQclear(res);
    if (!found) return api_error(r, 404, "Metadata item was not found");
    if ((st = db_begin())) return api_db_error(r, st);
    if ((err = check_writable(r, inst.uuid, "delete metadata"))) {
        db_rollback();
        return err;
    }
    st = db_exec("DELETE FROM instance_metadata WHERE instance_uuid = $1::uuid AND key = $2", 2,
                 params);
    if (!st)
        st = db_exec("UPDATE instances SET updated_at = now() WHERE uuid = $1::uuid", 1, params);
    if (!st) st = db_commit();
    if (st) {
        db_rollback();
        return api_db_error(r, st);
    }
    return api_reply(r, 204, NULL);
}
