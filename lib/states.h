/* states.h — the one state table for servers: which vm_state x task_state
 * an action may start from, and the task_state it moves the instance to
 * (Nova's check_instance_state decorators in nova/compute/api.py, as data),
 * the status the API shows for a vm_state/task_state pair, and the
 * conditional UPDATE that makes a lost race a 409 instead of a corruption. */
#ifndef CNOVA_STATES_H
#define CNOVA_STATES_H

#include <stdbool.h>
#include <stddef.h>

#define STATES_ANY NULL /* vm_states / task_states: no restriction */
#define STATES_NONE ""  /* in task_states: the instance has no task (Python None) */

struct state_rule {
    const char *action;             /* key, e.g. "stop", "reboot_hard" */
    const char *method;             /* the name in Nova's message ("reboot") */
    const char *const *vm_states;   /* allowed vm_states, NULL-terminated; STATES_ANY */
    const char *const *task_states; /* allowed task_states, NULL-terminated; STATES_ANY */
    bool must_have_launched;        /* launched_at must be set */
    const char *next_task;          /* task_state to set; NULL = leave it */
};

const struct state_rule *states_rule(const char *action);

enum states_result {
    STATES_OK = 0,
    STATES_CONFLICT,  /* wrong state: msg holds Nova's 409 message */
    STATES_NOT_FOUND, /* no live instance with that uuid */
    STATES_DB_ERROR   /* *db_status says which */
};

/* Moves instance `uuid` for `action` with one conditional UPDATE (vm_state,
 * task_state and launched_at checked in its WHERE clause, task_state set to
 * the rule's next_task, plus vm_state = set_vm_state when not NULL), inside
 * the caller's transaction. On a lost race msg receives
 * "Cannot '<method>' instance <uuid> while it is in <attr> <state>".
 * *db_status (may be NULL) receives the db_status of a failed call. */
enum states_result states_apply(const char *uuid, const char *action, const char *set_vm_state,
                                char *msg, size_t msglen, int *db_status);

/* The API's status for a vm_state and task_state ("" or NULL = none):
 * ACTIVE, BUILD, REBOOT, SHUTOFF, ... ; "UNKNOWN" for an unknown vm_state. */
const char *states_status(const char *vm_state, const char *task_state);

/* For ?status=X: appends to vm_states / task_states (NULL-terminated arrays
 * with room for `room` entries each) every vm_state and task_state whose
 * pair maps to status X (case-insensitive); *any_task is set when a
 * vm_state's default (any task) maps to it. Returns the number of vm_states. */
size_t states_from_status(const char *status, const char **vm_states, const char **task_states,
                          size_t room, bool *any_task);

#endif
