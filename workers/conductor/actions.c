/* actions.c — the conductor's side of the simple server actions: takes the
 * API's cast (task_state already set), records the compute event and hands
 * the work to the instance's host; then takes the host's answer and settles
 * the instance (vm_state, power_state, task_state cleared), or on failure
 * clears the task and records a fault and an Error event, as Nova's
 * reverts_task_state / wrap_instance_fault / wrap_instance_event do. */
#include <stdio.h>
#include <string.h>

#include "cnova.h"
#include "conductor.h"

static const struct instance_op {
    const char *method; /* the API's cast, and the compute method */
    const char *action; /* the instance action the API recorded; NULL = none */
    const char *tasks;  /* task_states the operation runs under (text[]); NULL = none */
    const char *vm_ok;  /* vm_state when done; NULL = unchanged */
    bool error_on_fail; /* a failure puts the instance in ERROR (reboot) */
    const char *notice; /* "instance.<notice>.start/.end" (notify.h); NULL = none */
} instance_ops[] = {
    {"start_instance", "start", "{powering-on}", "active", false, "power_on"},
    {"stop_instance", "stop", "{powering-off}", "stopped", false, "power_off"},
    {"reboot_instance", "reboot", "{rebooting,rebooting_hard}", "active", true, "reboot"},
    {"pause_instance", "pause", "{pausing}", "paused", false, "pause"},
    {"unpause_instance", "unpause", "{unpausing}", "active", false, "unpause"},
    {"suspend_instance", "suspend", "{suspending}", "suspended", false, "suspend"},
    {"resume_instance", "resume", "{resuming}", "active", false, "resume"},
    {"set_admin_password", "changePassword", "{updating_password}", NULL, false, NULL},
    {"trigger_crash_dump", "trigger_crash_dump", NULL, NULL, false, "trigger_crash_dump"},
    {"inject_network_info", NULL, NULL, NULL, false, NULL},
    /* [DEFAULT] reclaim_instance_interval > 0: delete powers off and keeps */
    {"soft_delete_instance", "delete", "{soft-deleting}", "soft-delete", false, "soft_delete"},
    /* lifecycle.c: os-deferred-delete, shelve, rescue, snapshots */
    {"restore_instance", "restore", "{restoring}", "active", false, "restore"},
    {"rescue_instance", "rescue", "{rescuing}", "rescued", false, "rescue"},
    {"unrescue_instance", "unrescue", "{unrescuing}", "active", false, "unrescue"},
    {"shelve_instance", "shelve", "{shelving}", "shelved", false, "shelve"},
    {"shelve_offload_instance", "shelveOffload", "{shelving,shelving_offloading}",
     "shelved_offloaded", false, "shelve_offload"},
    {"unshelve_instance", "unshelve", "{unshelving}", "active", false, "unshelve"},
    {"snapshot_instance", "createImage",
     "{image_snapshot_pending,image_snapshot,image_pending_upload,image_uploading}", NULL, false, "snapshot"},
    {"backup_instance", "createBackup", "{image_backup}", NULL, false, NULL},
};

static const struct instance_op *op_find(const char *method) {
    for (size_t i = 0; method && i < sizeof instance_ops / sizeof instance_ops[0]; i++)
        if (!strcmp(instance_ops[i].method, method)) return &instance_ops[i];
    return NULL;
}

/* The event Nova's compute records: "compute_<method>". */
static void event_name(const struct instance_op *o, char *out, size_t len) {
    snprintf(out, len, "compute_%s", o->method);
}

static void event_start(const struct instance_op *o, const char *uuid, const char *host) {
    if (!o->action) return;
    char ev[64];
    event_name(o, ev, sizeof ev);
    const char *p[] = {uuid, o->action, ev, host};
    if (db_exec("INSERT INTO instance_actions_events (action_id, event, start_time, host) "
                "SELECT id, $3, now(), $4 FROM instance_actions "
                "WHERE instance_uuid = $1 AND action = $2 ORDER BY id DESC LIMIT 1",
                4, p) != DB_OK)
        log_error("%s of %s: event not recorded: %s", o->method, uuid, db_errmsg());
}

static void event_finish(const struct instance_op *o, const char *uuid, const char *result) {
    if (!o->action) return;
    char ev[64];
    event_name(o, ev, sizeof ev);
    const char *p[] = {uuid, o->action, ev, result};
    db_exec("WITH a AS (UPDATE instance_actions SET updated_at = now(), message = CASE WHEN "
            "$4 = 'Error' THEN 'Error' ELSE message END WHERE id = (SELECT id FROM "
            "instance_actions WHERE instance_uuid = $1 AND action = $2 ORDER BY id DESC LIMIT 1) "
            "RETURNING id) UPDATE instance_actions_events e SET finish_time = now(), result = $4 "
            "FROM a WHERE e.action_id = a.id AND e.event = $3 AND e.finish_time IS NULL",
            4, p);
}

/* Settles the instance after the operation: success moves it to vm_ok with
 * the hypervisor's power state; failure only clears the task (ERROR for a
 * failed reboot) and records a fault. Only while the instance is still in
 * the operation's task: a late or repeated answer changes nothing. */
static int settle(const struct instance_op *o, const char *uuid, const char *host, bool ok,
                  const char *power_state, const char *fault, json_t *args) {
    if (!o->tasks) {
        if (!ok) log_warn("%s of %s on %s failed: %s", o->method, uuid, host, fault);
        event_finish(o, uuid, ok ? "Success" : "Error");
        return 0;
    }
    const char *vm = ok ? o->vm_ok : (o->error_on_fail ? "error" : NULL);
    const char *p[] = {uuid, o->tasks, vm, power_state, host};
    for (int attempt = 0; attempt < 3; attempt++) {
        if (db_begin() != DB_OK) return -1;
        PGresult *r = NULL;
        /* the states before, for instance.update (notify_on_state_change) */
        char old_vm[64] = "", old_task[64] = "";
        if (notify_state_change_enabled() &&
            db_query(&r, "SELECT vm_state, task_state FROM instances WHERE uuid = $1 AND "
                         "deleted = 0 FOR UPDATE", 1, p) == DB_OK) {
            if (PQntuples(r)) {
                snprintf(old_vm, sizeof old_vm, "%s", db_str(r, 0, 0));
                snprintf(old_task, sizeof old_task, "%s", db_str(r, 0, 1));
            }
            PQclear(r);
            r = NULL;
        }
        if (db_query(&r,
                     "UPDATE instances SET task_state = NULL, vm_state = COALESCE($3, vm_state), "
                     "power_state = COALESCE($4::int, power_state), updated_at = now() "
                     "WHERE uuid = $1 AND deleted = 0 AND task_state = ANY($2::text[]) "
                     "AND ($5::text IS NULL OR host = $5) RETURNING vm_state",
                     5, p) != DB_OK) {
            db_rollback();
            continue;
        }
        int n = PQntuples(r);
        PQclear(r);
        if (n && !ok) {
            const char *f[] = {uuid, fault ? fault : "failed", host};
            db_exec("INSERT INTO instance_faults (instance_uuid, code, message, host) "
                    "VALUES ($1, 500, $2, $3)",
                    3, f);
        }
        if (n) event_finish(o, uuid, ok ? "Success" : "Error");
        if (n && old_vm[0]) {
            char pub[300];
            notify_publisher(pub, sizeof pub, "nova-compute", host);
            notify_instance_update(uuid, old_vm, old_task[0] ? old_task : NULL, pub);
        }
        if (n && o->notice && (ok || o->error_on_fail)) {
            char ev[64], pub[300];
            snprintf(ev, sizeof ev, "instance.%s.%s", o->notice, ok ? "end" : "error");
            notify_publisher(pub, sizeof pub, "nova-compute", host);
            json_t *f = ok ? NULL : json_pack("{s:s}", "message", fault ? fault : "failed");
            notify_instance(uuid, ev, NULL, NULL, ok ? "INFO" : "ERROR", pub, f);
            json_decref(f);
        }
        /* what else the operation settles (lifecycle.c: images, offload) */
        conductor_after_fn after = n ? conductor_after(o->method) : NULL;
        if (after) after(uuid, host, ok, args);
        if (db_commit() == DB_OK) {
            if (n) log_info("%s of %s: %s", o->method, uuid, ok ? "done" : fault);
            return n;
        }
    }
    log_error("%s of %s: outcome not recorded: %s", o->method, uuid, db_errmsg());
    return -1;
}

/* Whether `task` is one of an operation's task_states ("{a,b}"). */
static bool runs_under(const struct instance_op *o, const char *task) {
    if (!o->tasks) return false;
    size_t n = strlen(task);
    for (const char *t = o->tasks + 1; *t; t += strcspn(t, ",}") + 1)
        if (!strncmp(t, task, n) && (t[n] == ',' || t[n] == '}')) return true;
    return false;
}

void conductor_reap_actions(struct conductor *c) {
    /* every task an operation of the table runs under, as one text[] */
    char tasks[1024] = "{";
    for (size_t i = 0; i < sizeof instance_ops / sizeof instance_ops[0]; i++)
        if (instance_ops[i].tasks)
            snprintf(tasks + strlen(tasks), sizeof tasks - strlen(tasks), "%s%.*s",
                     tasks[1] ? "," : "", (int)strlen(instance_ops[i].tasks) - 2,
                     instance_ops[i].tasks + 1);
    snprintf(tasks + strlen(tasks), sizeof tasks - strlen(tasks), "}");
    PGresult *r = conductor_take_due(
        "WITH due AS (SELECT id FROM instances WHERE deleted = 0 AND task_state = ANY($2::text[])"
        " AND coalesce(updated_at, created_at) < now() - make_interval(secs => $1::int)"
        " LIMIT 50 FOR UPDATE SKIP LOCKED)"
        " UPDATE instances i SET updated_at = now() FROM due WHERE i.id = due.id"
        " RETURNING i.uuid, i.task_state",
        c->action_timeout, tasks);
    if (!r) return;
    for (int i = 0; i < PQntuples(r); i++) {
        const char *uuid = db_str(r, i, 0), *task = db_str(r, i, 1);
        const struct instance_op *o = NULL;
        for (size_t k = 0; !o && k < sizeof instance_ops / sizeof instance_ops[0]; k++)
            if (runs_under(&instance_ops[k], task)) o = &instance_ops[k];
        if (!o) continue;
        char msg[300];
        snprintf(msg, sizeof msg, "No answer in %d s while in task_state %s", c->action_timeout,
                 task);
        log_warn("%s of %s: %s", o->method, uuid, msg);
        json_t *none = json_object();
        settle(o, uuid, NULL, false, NULL, msg, none);
        json_decref(none);
    }
    PQclear(r);
}

/* args {instance_uuid, reboot_type?, new_pass?} from the API's outbox. */
json_t *conductor_forward(const char *method, json_t *args) {
    const struct instance_op *o = op_find(method);
    const char *uuid = json_string_value(json_object_get(args, "instance_uuid"));
    if (!o || !uuid || !uuid_valid(uuid)) return rpc_failure("%s needs instance_uuid", method);
    const char *p[] = {uuid};
    PGresult *r = NULL;
    if (db_query(&r, "SELECT host FROM instances WHERE uuid = $1 AND deleted = 0", 1, p) != DB_OK)
        return rpc_failure("database: %s", db_errmsg());
    char host[256] = "";
    if (PQntuples(r) && !db_isnull(r, 0, 0)) snprintf(host, sizeof host, "%s", db_str(r, 0, 0));
    int found = PQntuples(r);
    PQclear(r);
    if (!found) return json_false();
    if (!host[0]) {
        settle(o, uuid, NULL, false, NULL, "Instance has no host", args);
        return json_false();
    }
    if (o->notice && db_begin() == DB_OK) {
        char ev[64], pub[300];
        snprintf(ev, sizeof ev, "instance.%s.start", o->notice);
        notify_publisher(pub, sizeof pub, "nova-compute", host);
        event_start(o, uuid, host);
        if (notify_instance(uuid, ev, NULL, NULL, "INFO", pub, NULL) < 0 || db_commit() != DB_OK)
            db_rollback();
    } else {
        event_start(o, uuid, host);
    }
    json_t *a = json_deep_copy(args);
    json_object_del(a, "instance_uuid");
    json_object_set_new(a, "uuid", json_string(uuid));
    json_object_set_new(a, "op", json_string(method));
    /* what the host needs to plug the guest again before booting it */
    json_t *doc = conductor_metadata_doc(uuid);
    if (doc) json_object_set_new(a, "metadata", doc);
    char topic[300];
    snprintf(topic, sizeof topic, "compute.%s", host);
    if (rpc_cast_later(topic, method, a) < 0)
        log_warn("%s of %s: cast to %s failed", method, uuid, topic);
    json_decref(a);
    return json_true();
}

#define FORWARD(name)                                                                              \
    json_t *conductor_##name(json_t *args, struct conductor *c) {                                  \
        (void)c;                                                                                   \
        return conductor_forward(#name, args);                                                     \
    }
FORWARD(start_instance)
FORWARD(stop_instance)
FORWARD(reboot_instance)
FORWARD(pause_instance)
FORWARD(unpause_instance)
FORWARD(suspend_instance)
FORWARD(resume_instance)
FORWARD(set_admin_password)
FORWARD(trigger_crash_dump)
FORWARD(inject_network_info)
FORWARD(soft_delete_instance)
FORWARD(restore_instance)
FORWARD(unrescue_instance)
FORWARD(shelve_instance)
FORWARD(shelve_offload_instance)
FORWARD(snapshot_instance)
FORWARD(backup_instance)

/* args {uuid, host, op, ok, power_state?, fault?} from the compute host. */
json_t *conductor_instance_action_done(json_t *args, struct conductor *c) {
    (void)c;
    const char *uuid = json_string_value(json_object_get(args, "uuid"));
    const char *host = json_string_value(json_object_get(args, "host"));
    const struct instance_op *o = op_find(json_string_value(json_object_get(args, "op")));
    if (!o || !uuid || !uuid_valid(uuid) || !host)
        return rpc_failure("instance_action_done needs uuid, host and a known op");
    json_t *ps = json_object_get(args, "power_state");
    char psbuf[12];
    snprintf(psbuf, sizeof psbuf, "%lld", json_integer_value(ps));
    int n = settle(o, uuid, host, json_is_true(json_object_get(args, "ok")),
                   json_is_integer(ps) ? psbuf : NULL,
                   json_string_value(json_object_get(args, "fault")), args);
    return n < 0 ? rpc_failure("database unavailable") : json_boolean(n > 0);
}
