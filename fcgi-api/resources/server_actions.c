/* server_actions.c — the simple server actions of POST /servers/{id}/action:
 * power (os-start, os-stop, reboot, pause, unpause, suspend, resume),
 * changePassword, trigger_crash_dump and injectNetworkInfo move the instance
 * into a task and hand the work to the conductor (one helper, driven by the
 * table below); lock, unlock and os-resetState are done here alone. */
#include <string.h>

#include "api.h"

/* One hypervisor action as data: Nova's decorators on compute.API (lock,
 * host, state), the instance action it records and the conductor method. */
struct hv_action {
    const char *rule;     /* states.c rule; NULL = no state check */
    const char *api_name; /* the action named in Nova's 409 message */
    const char *record;   /* instance action recorded; NULL = none */
    const char *method;   /* conductor method (outbox) */
    bool needs_host;      /* check_instance_host: 409 "is not ready" */
};

enum {
    A_START,
    A_STOP,
    A_REBOOT,
    A_REBOOT_HARD,
    A_PAUSE,
    A_UNPAUSE,
    A_SUSPEND,
    A_RESUME,
    A_PASSWORD,
    A_CRASH_DUMP,
    A_INJECT_NETWORK
};

static const struct hv_action hv_actions[] = {
    [A_START] = {"start", "start", "start", "start_instance", true},
    [A_STOP] = {"stop", "stop", "stop", "stop_instance", true},
    [A_REBOOT] = {"reboot", "reboot", "reboot", "reboot_instance", false},
    [A_REBOOT_HARD] = {"reboot_hard", "reboot", "reboot", "reboot_instance", false},
    [A_PAUSE] = {"pause", "pause", "pause", "pause_instance", false},
    [A_UNPAUSE] = {"unpause", "unpause", "unpause", "unpause_instance", false},
    [A_SUSPEND] = {"suspend", "suspend", "suspend", "suspend_instance", false},
    [A_RESUME] = {"resume", "resume", "resume", "resume_instance", false},
    [A_PASSWORD] = {"set_admin_password", "changePassword", "changePassword", "set_admin_password",
                    false},
    [A_CRASH_DUMP] = {"trigger_crash_dump", "trigger_crash_dump", "trigger_crash_dump",
                      "trigger_crash_dump", true},
    [A_INJECT_NETWORK] = {NULL, "injectNetworkInfo", NULL, "inject_network_info", false},
};

struct hv_args {
    struct req *r;
    const struct hv_action *a;
    const char *uuid;
    json_t *extra; /* more outbox args (borrowed), may be NULL */
    int rc;        /* the HTTP error decided inside the transaction */
};

static enum db_status hv_txn(void *arg) {
    struct hv_args *h = arg;
    struct req *r = h->r;
    enum db_status st;
    if (h->a->rule && (st = instance_apply_state(r, h->uuid, h->a->rule, h->a->api_name, &h->rc)))
        return st;
    if (h->a->record && (h->rc = instance_action_start(r, h->uuid, h->a->record))) return DB_ERROR;
    json_t *args = json_pack("{s:s}", "instance_uuid", h->uuid);
    if (h->extra) json_object_update(args, h->extra);
    int out = outbox_add("conductor", h->a->method, args);
    json_decref(args);
    return out < 0 ? DB_ERROR : DB_OK;
}

/* The one path of every hypervisor action: 404 unknown server, 409 locked
 * (unless admin), 409 not ready (no host), the state rule (409 with Nova's
 * message), instance action + outbox cast in one transaction, 202. */
static int hv_action(struct req *r, int which, json_t *extra) {
    const struct hv_action *a = &hv_actions[which];
    struct instance_ref inst;
    int rc = instance_find(r, req_param(r, "id"), &inst);
    if (rc) return rc;
    if (inst.locked && !r->ctx.is_admin)
        return api_error(r, 409, "Instance %s is locked", inst.uuid);
    if (a->needs_host && !inst.host[0])
        return api_error(r, 409, "Instance %s is not ready", inst.uuid);
    struct hv_args h = {r, a, inst.uuid, extra, 0};
    enum db_status st = db_txn(hv_txn, &h);
    if (h.rc) return h.rc;
    if (st) return api_db_error(r, st);
    outbox_flush();
    return api_reply(r, 202, NULL);
}

int server_start(struct req *r) {
    return hv_action(r, A_START, NULL);
}

int server_stop(struct req *r) {
    return hv_action(r, A_STOP, NULL);
}

int server_reboot(struct req *r) {
    const char *type =
        json_string_value(json_object_get(json_object_get(r->body, "reboot"), "type"));
    bool hard = type && (type[0] == 'H' || type[0] == 'h');
    json_t *extra = json_pack("{s:s}", "reboot_type", hard ? "HARD" : "SOFT");
    int rc = hv_action(r, hard ? A_REBOOT_HARD : A_REBOOT, extra);
    json_decref(extra);
    return rc;
}

int server_pause(struct req *r) {
    return hv_action(r, A_PAUSE, NULL);
}

int server_unpause(struct req *r) {
    return hv_action(r, A_UNPAUSE, NULL);
}

int server_suspend(struct req *r) {
    return hv_action(r, A_SUSPEND, NULL);
}

int server_resume(struct req *r) {
    return hv_action(r, A_RESUME, NULL);
}

int server_change_password(struct req *r) {
    json_t *pass = json_object_get(json_object_get(r->body, "changePassword"), "adminPass");
    json_t *extra = json_pack("{s:O}", "new_pass", pass);
    int rc = hv_action(r, A_PASSWORD, extra);
    json_decref(extra);
    return rc;
}

int server_trigger_crash_dump(struct req *r) {
    return hv_action(r, A_CRASH_DUMP, NULL);
}

int server_inject_network_info(struct req *r) {
    return hv_action(r, A_INJECT_NETWORK, NULL);
}

/* ---- done here alone: lock, unlock, os-resetState ---- */

/* An API-side action with its one event ("api_lock"), finished at once, as
 * Nova's wrap_instance_event(prefix='api') records it. */
static int record_done(struct req *r, const char *uuid, const char *action, const char *event) {
    int rc = instance_action_start(r, uuid, action);
    if (rc) return rc;
    const char *p[] = {uuid, r->request_id, event};
    enum db_status st = db_exec(
        "WITH a AS (UPDATE instance_actions SET finish_time = now(), updated_at = now()"
        " WHERE instance_uuid = $1::uuid AND request_id = $2 RETURNING id)"
        " INSERT INTO instance_actions_events (action_id, event, start_time, finish_time, result)"
        " SELECT id, $3, now(), now(), 'Success' FROM a WHERE $3::text IS NOT NULL",
        3, p);
    return st ? api_db_error(r, st) : 0;
}

struct local_args {
    struct req *r;
    const char *uuid, *action, *event;
    const char *sql; /* the instance's update: $1 uuid, then params[1..] */
    int n;
    const char *params[4];
    const char *notice; /* the notification, NULL = none */
    int rc;
};

static enum db_status local_txn(void *arg) {
    struct local_args *l = arg;
    l->params[0] = l->uuid;
    enum db_status st = db_exec(l->sql, l->n, l->params);
    if (st) return st;
    if ((l->rc = record_done(l->r, l->uuid, l->action, l->event))) return DB_ERROR;
    if (l->notice) { /* instance.lock / instance.unlock, sent by Nova's API */
        char pub[300];
        notify_publisher(pub, sizeof pub, "nova-api", NULL);
        if (notify_instance(l->uuid, l->notice, NULL, NULL, "INFO", pub, NULL) < 0) return DB_ERROR;
    }
    return DB_OK;
}

static int local_action(struct req *r, struct local_args *l) {
    enum db_status st = db_txn(local_txn, l);
    if (l->rc) return l->rc;
    if (st) return api_db_error(r, st);
    return api_reply(r, 202, NULL);
}

int server_lock(struct req *r) {
    struct instance_ref inst;
    int rc = instance_find(r, req_param(r, "id"), &inst);
    if (rc) return rc;
    bool owner = !strcmp(inst.project_id, r->ctx.project_id);
    /* Nova: only an admin (non-owner) updates an existing lock */
    if (inst.locked && owner) return api_reply(r, 202, NULL);
    const char *reason = NULL;
    if (req_ver_ge(r, MV(2, 73)))
        reason =
            json_string_value(json_object_get(json_object_get(r->body, "lock"), "locked_reason"));
    struct local_args l = {
        .r = r,
        .uuid = inst.uuid,
        .action = "lock",
        .event = "api_lock",
        .notice = "instance.lock",
        .sql = "UPDATE instances SET locked = true, locked_by = $2,"
               " locked_reason = COALESCE($3, locked_reason), updated_at = now()"
               " WHERE uuid = $1::uuid AND deleted = 0",
        .n = 3,
        .params = {NULL, owner ? "owner" : "admin", reason},
    };
    return local_action(r, &l);
}

int server_unlock(struct req *r) {
    struct instance_ref inst;
    int rc = instance_find(r, req_param(r, "id"), &inst);
    if (rc) return rc;
    /* is_expected_locked_by: a lock by the other side needs the override */
    const char *p[] = {inst.uuid};
    PGresult *res;
    enum db_status st = db_query(
        &res, "SELECT locked_by FROM instances WHERE uuid = $1::uuid AND deleted = 0", 1, p);
    if (st) return api_db_error(r, st);
    char locked_by[16] = "";
    if (PQntuples(res) && !db_isnull(res, 0, 0))
        snprintf(locked_by, sizeof locked_by, "%s", db_str(res, 0, 0));
    PQclear(res);
    const char *expect = !strcmp(inst.project_id, r->ctx.project_id) ? "owner" : "admin";
    if (locked_by[0] && strcmp(locked_by, expect) &&
        (rc = auth_policy(r, POLICY_ADMIN, "os_compute_api:os-lock-server:unlock:unlock_override")))
        return rc;
    struct local_args l = {
        .r = r,
        .uuid = inst.uuid,
        .action = "unlock",
        .event = "api_unlock",
        .notice = "instance.unlock",
        .sql = "UPDATE instances SET locked = false, locked_by = NULL, locked_reason = NULL,"
               " updated_at = now() WHERE uuid = $1::uuid AND deleted = 0",
        .n = 1,
    };
    return local_action(r, &l);
}

int server_reset_state(struct req *r) {
    struct instance_ref inst;
    int rc = instance_find(r, req_param(r, "id"), &inst);
    if (rc) return rc;
    const char *state =
        json_string_value(json_object_get(json_object_get(r->body, "os-resetState"), "state"));
    struct local_args l = {
        .r = r,
        .uuid = inst.uuid,
        .action = "resetState",
        .sql = "UPDATE instances SET vm_state = $2, task_state = NULL, updated_at = now()"
               " WHERE uuid = $1::uuid AND deleted = 0",
        .n = 2,
        .params = {NULL, !strcmp(state ? state : "", "error") ? "error" : "active"},
    };
    return local_action(r, &l);
}
