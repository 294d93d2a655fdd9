/* states.c — the server state table as data (Nova's check_instance_state
 * rules and its vm_state/task_state -> status map) and the one conditional
 * UPDATE that moves an instance into a task, so that two racing requests
 * never both win: the loser gets Nova's InstanceInvalidState 409. */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "cnova.h"
#include "states.h"

#define L(...) ((const char *const[]){__VA_ARGS__, NULL})
#define NO_TASK L(STATES_NONE)

static const struct state_rule rules[] = {
    {"delete", "delete", STATES_ANY, STATES_ANY, false, "deleting"},
    {"soft_delete", "soft_delete", STATES_ANY, STATES_ANY, true, "soft-deleting"},
    /* Nova: "in any vm_state/task_state" (task_state=None: no check) */
    {"force_delete", "force_delete", STATES_ANY, STATES_ANY, false, "deleting"},
    {"restore", "restore", L("soft-delete"), NO_TASK, true, "restoring"},
    {"stop", "stop", L("active", "error"), NO_TASK, true, "powering-off"},
    {"start", "start", L("stopped"), NO_TASK, true, "powering-on"},
    {"reboot", "reboot", L("active"), NO_TASK, true, "rebooting"},
    {"reboot_hard", "reboot", L("active", "stopped", "paused", "suspended", "error"),
     L(STATES_NONE, "rebooting", "reboot_pending", "reboot_started", "resuming", "rebooting_hard",
       "unpausing", "pausing", "suspending"),
     true, "rebooting_hard"},
    {"rebuild", "rebuild", L("active", "stopped", "error"), NO_TASK, true, "rebuilding"},
    {"evacuate", "evacuate", L("active", "stopped", "error"), NO_TASK, true, "rebuilding"},
    {"resize", "resize", L("active", "stopped"), NO_TASK, true, "resize_prep"},
    {"confirm_resize", "confirm_resize", L("resized"), NO_TASK, true, NULL},
    {"revert_resize", "revert_resize", L("resized"), NO_TASK, true, "resize_reverting"},
    {"pause", "pause", L("active"), NO_TASK, true, "pausing"},
    {"unpause", "unpause", L("paused"), NO_TASK, true, "unpausing"},
    {"suspend", "suspend", L("active"), NO_TASK, true, "suspending"},
    {"resume", "resume", L("suspended"), NO_TASK, true, "resuming"},
    {"rescue", "rescue", L("active", "stopped", "error"), NO_TASK, true, "rescuing"},
    {"unrescue", "unrescue", L("rescued"), NO_TASK, true, "unrescuing"},
    {"shelve", "shelve", L("active", "stopped", "paused", "suspended"), NO_TASK, true, "shelving"},
    {"shelve_offload", "shelve_offload", L("shelved"), NO_TASK, true, "shelving_offloading"},
    {"unshelve", "unshelve", L("shelved", "shelved_offloaded"), NO_TASK, true, "unshelving"},
    {"snapshot", "snapshot", L("active", "stopped", "paused", "suspended"), NO_TASK, true,
     "image_snapshot_pending"},
    {"backup", "backup", L("active", "stopped", "paused", "suspended"), NO_TASK, true,
     "image_backup"},
    {"set_admin_password", "set_admin_password", L("active"), NO_TASK, true, "updating_password"},
    {"live_migrate", "live_migrate", L("active", "paused"), NO_TASK, true, "migrating"},
    {"live_migrate_abort", "live_migrate_abort", STATES_ANY, L("migrating"), true, NULL},
    {"live_migrate_force_complete", "live_migrate_force_complete", L("active"), L("migrating"),
     true, NULL},
    {"trigger_crash_dump", "trigger_crash_dump",
     L("active", "paused", "rescued", "resized", "error"), NO_TASK, true, NULL},
    {"update_metadata", "update_instance_metadata", L("active", "paused", "suspended", "stopped"),
     NO_TASK, true, NULL},
    {"attach_volume", "attach_volume",
     L("active", "paused", "stopped", "resized", "soft-delete", "shelved", "shelved_offloaded"),
     NO_TASK, true, NULL},
    {"detach_volume", "detach_volume",
     L("active", "paused", "stopped", "resized", "soft-delete", "shelved", "shelved_offloaded"),
     NO_TASK, true, NULL},
    {"attach_interface", "attach_interface", L("active", "paused", "stopped"), NO_TASK, true, NULL},
    {"detach_interface", "detach_interface", L("active", "paused", "stopped"), NO_TASK, true, NULL},
};

const struct state_rule *states_rule(const char *action) {
    for (size_t i = 0; i < sizeof rules / sizeof rules[0]; i++)
        if (!strcmp(rules[i].action, action)) return &rules[i];
    return NULL;
}

/* A PostgreSQL text[] literal of the list, leaving out "" (None). */
static void array_literal(const char *const *list, char *out, size_t len, bool *has_none) {
    size_t n = (size_t)snprintf(out, len, "{");
    *has_none = false;
    for (; *list; list++) {
        if (!**list) {
            *has_none = true;
            continue;
        }
        n += (size_t)snprintf(out + n, n < len ? len - n : 0, "%s%s", n > 1 ? "," : "", *list);
    }
    snprintf(out + (n < len ? n : len - 1), n < len ? len - n : 1, "}");
}

static bool in_list(const char *const *list, const char *s) {
    if (!list) return true;
    for (; *list; list++)
        if (!strcmp(*list, s ? s : "")) return true;
    return false;
}

enum states_result states_apply(const char *uuid, const char *action, const char *set_vm_state,
                                char *msg, size_t msglen, int *db_status) {
    const struct state_rule *rule = states_rule(action);
    if (msglen) msg[0] = 0;
    if (db_status) *db_status = DB_OK;
    if (!rule) {
        snprintf(msg, msglen, "unknown action %s", action);
        if (db_status) *db_status = DB_ERROR;
        return STATES_DB_ERROR;
    }
    char vms[512] = "", tasks[512] = "";
    bool vm_none = false, task_none = true;
    if (rule->vm_states) array_literal(rule->vm_states, vms, sizeof vms, &vm_none);
    if (rule->task_states) array_literal(rule->task_states, tasks, sizeof tasks, &task_none);
    const char *params[] = {uuid,
                            rule->vm_states ? vms : NULL,
                            rule->task_states ? tasks : NULL,
                            task_none ? "true" : "false",
                            rule->must_have_launched ? "true" : "false",
                            rule->next_task,
                            set_vm_state};
    PGresult *res;
    enum db_status st = db_query(&res,
                                 "UPDATE instances SET task_state = COALESCE($6::text, task_state),"
                                 " vm_state = COALESCE($7::text, vm_state), updated_at = now()"
                                 " WHERE uuid = $1::uuid AND deleted = 0"
                                 " AND ($2::text[] IS NULL OR vm_state = ANY($2::text[]))"
                                 " AND ($3::text[] IS NULL OR task_state = ANY($3::text[])"
                                 "      OR ($4::bool AND task_state IS NULL))"
                                 " AND (NOT $5::bool OR launched_at IS NOT NULL) RETURNING id",
                                 7, params);
    if (st) {
        if (db_status) *db_status = st;
        return STATES_DB_ERROR;
    }
    int n = PQntuples(res);
    PQclear(res);
    if (n) return STATES_OK;
    /* Lost: say which check failed, in the order Nova checks them. */
    st = db_query(&res,
                  "SELECT vm_state, task_state, launched_at IS NOT NULL FROM instances"
                  " WHERE uuid = $1::uuid AND deleted = 0",
                  1, params);
    if (st) {
        if (db_status) *db_status = st;
        return STATES_DB_ERROR;
    }
    if (!PQntuples(res)) {
        PQclear(res);
        return STATES_NOT_FOUND;
    }
    const char *vm = db_str(res, 0, 0);
    const char *task = db_isnull(res, 0, 1) ? NULL : db_str(res, 0, 1);
    const char *attr = "launched_at", *state = "None";
    if (!in_list(rule->vm_states, vm))
        attr = "vm_state", state = vm;
    else if (!in_list(rule->task_states, task))
        attr = "task_state", state = task ? task : "None";
    snprintf(msg, msglen, "Cannot '%s' instance %s while it is in %s %s", rule->method, uuid, attr,
             state);
    PQclear(res);
    return STATES_CONFLICT;
}

/* Nova's _STATE_MAP: vm_state -> (task_state -> status), "" = default. */
static const struct {
    const char *vm, *task, *status;
} status_map[] = {
    {"active", "", "ACTIVE"},
    {"active", "rebooting", "REBOOT"},
    {"active", "reboot_pending", "REBOOT"},
    {"active", "reboot_started", "REBOOT"},
    {"active", "rebooting_hard", "HARD_REBOOT"},
    {"active", "reboot_pending_hard", "HARD_REBOOT"},
    {"active", "reboot_started_hard", "HARD_REBOOT"},
    {"active", "updating_password", "PASSWORD"},
    {"active", "rebuilding", "REBUILD"},
    {"active", "rebuild_block_device_mapping", "REBUILD"},
    {"active", "rebuild_spawning", "REBUILD"},
    {"active", "migrating", "MIGRATING"},
    {"active", "resize_prep", "RESIZE"},
    {"active", "resize_migrating", "RESIZE"},
    {"active", "resize_migrated", "RESIZE"},
    {"active", "resize_finish", "RESIZE"},
    {"building", "", "BUILD"},
    {"stopped", "", "SHUTOFF"},
    {"stopped", "resize_prep", "RESIZE"},
    {"stopped", "resize_migrating", "RESIZE"},
    {"stopped", "resize_migrated", "RESIZE"},
    {"stopped", "resize_finish", "RESIZE"},
    {"stopped", "rebuilding", "REBUILD"},
    {"stopped", "rebuild_block_device_mapping", "REBUILD"},
    {"stopped", "rebuild_spawning", "REBUILD"},
    {"resized", "", "VERIFY_RESIZE"},
    {"resized", "resize_reverting", "REVERT_RESIZE"},
    {"paused", "", "PAUSED"},
    {"paused", "migrating", "MIGRATING"},
    {"suspended", "", "SUSPENDED"},
    {"rescued", "", "RESCUE"},
    {"error", "", "ERROR"},
    {"error", "rebuilding", "REBUILD"},
    {"error", "rebuild_block_device_mapping", "REBUILD"},
    {"error", "rebuild_spawning", "REBUILD"},
    {"deleted", "", "DELETED"},
    {"soft-delete", "", "SOFT_DELETED"},
    {"shelved", "", "SHELVED"},
    {"shelved_offloaded", "", "SHELVED_OFFLOADED"},
};
#define NSTATUS (sizeof status_map / sizeof status_map[0])

const char *states_status(const char *vm_state, const char *task_state) {
    const char *def = "UNKNOWN";
    for (size_t i = 0; i < NSTATUS; i++) {
        if (!vm_state || strcmp(status_map[i].vm, vm_state)) continue;
        if (!status_map[i].task[0])
            def = status_map[i].status;
        else if (task_state && !strcmp(status_map[i].task, task_state))
            return status_map[i].status;
    }
    return def;
}

static size_t add_unique(const char **list, size_t n, size_t room, const char *s) {
    for (size_t i = 0; i < n; i++)
        if (!strcmp(list[i], s)) return n;
    if (n + 1 < room) {
        list[n++] = s;
        list[n] = NULL;
    }
    return n;
}

size_t states_from_status(const char *status, const char **vm_states, const char **task_states,
                          size_t room, bool *any_task) {
    size_t nv = 0, nt = 0;
    while (nv < room && vm_states[nv])
        nv++;
    while (nt < room && task_states[nt])
        nt++;
    for (size_t i = 0; i < NSTATUS; i++) {
        if (strcasecmp(status_map[i].status, status)) continue;
        nv = add_unique(vm_states, nv, room, status_map[i].vm);
        if (!status_map[i].task[0])
            *any_task = true;
        else
            nt = add_unique(task_states, nt, room, status_map[i].task);
    }
    return nv;
}
