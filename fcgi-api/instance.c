/* instance.c — looking up the instance a request names, with Nova's
 * visibility rule (another project's server is 404, not 403), and recording
 * the instance actions that os-instance-actions lists. Shared by servers.c
 * and every server sub-resource. */
#include <string.h>

#include "api.h"

static void copy(char *dst, size_t n, const char *src) {
    snprintf(dst, n, "%s", src ? src : "");
}

int instance_find(struct req *r, const char *uuid, struct instance_ref *out) {
    if (!uuid || !uuid_valid(uuid)) return api_error(r, 404, "Instance %s could not be found.", uuid ? uuid : "");
    const char *params[] = {uuid, r->ctx.is_admin ? NULL : r->ctx.project_id};
    PGresult *res;
    enum db_status st = db_query(&res,
                                 "SELECT uuid, project_id, user_id, vm_state, task_state, host,"
                                 " power_state, locked FROM instances"
                                 " WHERE uuid = $1::uuid AND deleted = 0"
                                 " AND ($2::text IS NULL OR project_id = $2)",
                                 2, params);
    if (st) return api_db_error(r, st);
    if (PQntuples(res) == 0) {
        PQclear(res);
        return api_error(r, 404, "Instance %s could not be found.", uuid);
    }
    memset(out, 0, sizeof *out);
    copy(out->uuid, sizeof out->uuid, db_str(res, 0, 0));
    copy(out->project_id, sizeof out->project_id, db_str(res, 0, 1));
    copy(out->user_id, sizeof out->user_id, db_str(res, 0, 2));
    copy(out->vm_state, sizeof out->vm_state, db_str(res, 0, 3));
    copy(out->task_state, sizeof out->task_state, db_str(res, 0, 4));
    copy(out->host, sizeof out->host, db_str(res, 0, 5));
    out->power_state = (int)db_int(res, 0, 6);
    out->locked = db_bool(res, 0, 7);
    PQclear(res);
    return 0;
}

int instance_action_start(struct req *r, const char *uuid, const char *action) {
    const char *params[] = {action, uuid, r->request_id, r->ctx.user_id, r->ctx.project_id};
    enum db_status st = db_exec("INSERT INTO instance_actions (action, instance_uuid, request_id,"
                                " user_id, project_id) VALUES ($1, $2::uuid, $3, $4, $5)",
                                5, params);
    return st ? api_db_error(r, st) : 0;
}

enum db_status instance_apply_state(struct req *r, const char *uuid, const char *rule,
                                    const char *api_name, int *rc) {
    char msg[512];
    int dbst = 0;
    switch (states_apply(uuid, rule, NULL, msg, sizeof msg, &dbst)) {
    case STATES_OK:
        return DB_OK;
    case STATES_NOT_FOUND:
        *rc = api_error(r, 404, "Instance %s could not be found.", uuid);
        return DB_ERROR;
    case STATES_CONFLICT: {
        /* states.c names compute.API's method; the API names its action */
        const char *rest = api_name ? strstr(msg, "' instance ") : NULL;
        *rc = rest ? api_error(r, 409, "Cannot '%s%s", api_name, rest)
                   : api_error(r, 409, "%s", msg);
        return DB_ERROR;
    }
    default:
        return dbst ? (enum db_status)dbst : DB_ERROR;
    }
}
