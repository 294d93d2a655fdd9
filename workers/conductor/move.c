/* move.c — the conductor's move workflows, as Nova runs them: rebuild (same
 * host, new image), resize and cold migration (the scheduler picks and
 * claims a target while the migration keeps the source's claim; the source
 * powers the guest off, the target defines it with the new flavor; the
 * instance waits in VERIFY_RESIZE), confirm / revert of a resize, and live
 * migration (the target defines and starts a copy, the source drops its
 * own, the source's claim goes back). The
 * API has already moved the instance into its task and written the
 * migration row; every step here is a conditional UPDATE on the task (and
 * the migration's status), so a late or repeated answer changes nothing.
 * Compute hosts answer each step with move_done {uuid, host, op, ok,
 * power_state | fault}. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cnova.h"
#include "conductor.h"

#define NO_VALID_HOST "No valid host was found. "

/* ---- small helpers ---- */

/* One row as a JSON object (to_jsonb of the row), or NULL. */
static json_t *load_row(const char *sql, const char *key) {
    const char *p[] = {key};
    PGresult *r = NULL;
    if (db_query(&r, sql, 1, p) != DB_OK) {
        log_error("move: %s", db_errmsg());
        return NULL;
    }
    json_t *row = PQntuples(r) ? json_loads(db_str(r, 0, 0), 0, NULL) : NULL;
    PQclear(r);
    return row;
}

static json_t *load_instance(const char *uuid) {
    return load_row("SELECT to_jsonb(i) FROM instances i WHERE uuid = $1::uuid AND deleted = 0",
                    uuid);
}

static json_t *load_migration(const char *id) {
    return load_row("SELECT to_jsonb(m) FROM migrations m WHERE id = $1::bigint AND deleted = 0",
                    id);
}

static const char *jstr(json_t *o, const char *k) {
    return json_string_value(json_object_get(o, k));
}

static long long jint(json_t *o, const char *k) {
    json_t *v = json_object_get(o, k);
    return json_is_integer(v) ? json_integer_value(v) : atoll(json_string_value(v) ?: "0");
}

/* The message a compute host needs to define the guest with `flavor`
 * (the same fields as a build: its ports, its volumes and its metadata
 * document for the config drive included), plus the step's name. */
static json_t *guest_args(json_t *inst, json_t *flavor, const char *op, bool power_on) {
    char name[32];
    snprintf(name, sizeof name, "instance-%08llx", jint(inst, "id"));
    const char *uuid = jstr(inst, "uuid") ?: "";
    json_t *doc = conductor_metadata_doc(uuid), *vols = conductor_build_volumes(uuid);
    return json_pack(
        "{s:s, s:s, s:s, s:s, s:s, s:s, s:o, s:I, s:I, s:I, s:I, s:I, s:b, s:o, s:o, s:o}", "uuid",
        jstr(inst, "uuid"), "op", op, "name", name, "display_name",
        jstr(inst, "display_name") ?: "", "flavor_name", jstr(flavor, "name") ?: "", "image_ref",
        jstr(inst, "image_ref") ?: "", "image", conductor_guest_image(jstr(inst, "uuid") ?: ""),
        "vcpus", (json_int_t)jint(flavor, "vcpus"), "memory_mb",
        (json_int_t)jint(flavor, "memory_mb"), "root_gb", (json_int_t)jint(flavor, "root_gb"),
        "ephemeral_gb", (json_int_t)jint(flavor, "ephemeral_gb"), "swap",
        (json_int_t)jint(flavor, "swap"), "power_on", power_on, "nics", conductor_nics(uuid),
        "metadata", doc ? doc : json_object(), "volumes", vols ? vols : json_array());
}

static void cast_host(const char *host, const char *op, json_t *args) {
    char topic[300];
    snprintf(topic, sizeof topic, "compute.%s", host);
    if (rpc_cast_later(topic, op, args) < 0)
        log_warn("%s of %s: cast to %s failed", op, jstr(args, "uuid"), topic);
    json_decref(args);
}

/* Events of the instance's latest action among `actions` (text[]): the
 * names Nova's compute records ("compute_resize_instance", ...). */
static void event_start(const char *uuid, const char *actions, const char *event,
                        const char *host) {
    const char *p[] = {uuid, actions, event, host};
    db_exec("INSERT INTO instance_actions_events (action_id, event, start_time, host) "
            "SELECT id, $3, now(), $4 FROM instance_actions WHERE instance_uuid = $1::uuid "
            "AND action = ANY($2::text[]) ORDER BY id DESC LIMIT 1",
            4, p);
}

static void event_finish(const char *uuid, const char *actions, const char *event, bool ok) {
    const char *p[] = {uuid, actions, event, ok ? "Success" : "Error"};
    db_exec("WITH a AS (UPDATE instance_actions SET updated_at = now(), message = CASE WHEN "
            "$4 = 'Error' THEN 'Error' ELSE message END WHERE id = (SELECT id FROM "
            "instance_actions WHERE instance_uuid = $1::uuid AND action = ANY($2::text[]) "
            "ORDER BY id DESC LIMIT 1) RETURNING id) UPDATE instance_actions_events e SET "
            "finish_time = now(), result = $4 FROM a WHERE e.action_id = a.id AND e.event = $3 "
            "AND e.finish_time IS NULL",
            4, p);
}

#define MOVE_ACTIONS "{resize,migrate,live-migration,evacuate}"

static void add_fault(const char *uuid, const char *message, const char *host) {
    const char *p[] = {uuid, message, host};
    db_exec("INSERT INTO instance_faults (instance_uuid, code, message, host) "
            "VALUES ($1::uuid, 500, $2, $3)",
            3, p);
}

/* Runs `sql` ($1 uuid, then params) as the guard of a step: the number of
 * rows it changed, or -1. */
static int guard(const char *sql, int n, const char *const *params) {
    PGresult *r = NULL;
    if (db_query(&r, sql, n, params) != DB_OK) return -1;
    int rows = PQntuples(r);
    PQclear(r);
    return rows;
}

static void rollback_on_source(const char *uuid, json_t *inst, json_t *mig, const char *mid);

/* Nova's notification of a step (inside the step's transaction), published
 * as `binary` on `host` (NULL: this conductor); object NULL =
 * InstanceActionPayload; legacy NULL = none; fault: an error event. */
static void notice_as(const char *binary, const char *host, const char *uuid, const char *event,
                      const char *object, const char *legacy, const char *fault) {
    char pub[300], where[256] = "";
    if (!host && !strcmp(binary, "nova-compute")) { /* the host the instance is on now */
        const char *p[] = {uuid};
        PGresult *r = NULL;
        if (db_query(&r, "SELECT host FROM instances WHERE uuid = $1::uuid", 1, p) == DB_OK) {
            if (PQntuples(r) && !db_isnull(r, 0, 0))
                snprintf(where, sizeof where, "%s", db_str(r, 0, 0));
            PQclear(r);
        }
        host = where[0] ? where : NULL;
    }
    notify_publisher(pub, sizeof pub, binary, host);
    json_t *f = fault ? json_pack("{s:s}", "message", fault) : NULL;
    notify_instance(uuid, event, object, legacy, f ? "ERROR" : "INFO", pub, f);
    json_decref(f);
}

static void notice(const char *host, const char *uuid, const char *event, const char *object,
                   const char *legacy) {
    notice_as("nova-compute", host, uuid, event, object, legacy, NULL);
}

#define REBUILD_PAYLOAD "InstanceActionRebuildPayload"
#define PREP_PAYLOAD "InstanceActionResizePrepPayload"

/* ---- rebuild ---- */

/* args {instance_uuid, preserve_ephemeral, new_pass?} from the API (task
 * 'rebuilding', image and fields already updated). */
json_t *conductor_rebuild_instance(json_t *args, struct conductor *c) {
    (void)c;
    const char *uuid = jstr(args, "instance_uuid");
    if (!uuid || !uuid_valid(uuid)) return rpc_failure("rebuild_instance needs instance_uuid");
    json_t *inst = load_instance(uuid);
    if (!inst) return json_false();
    const char *host = jstr(inst, "host");
    const char *p[] = {uuid};
    /* the notifications show the instance as Nova's do: still 'rebuilding' */
    int n = -1;
    if (db_begin() == DB_OK) {
        if (host) {
            notice_as("nova-conductor", NULL, uuid, "instance.rebuild_scheduled", REBUILD_PAYLOAD,
                      NULL, NULL);
            notice(host, uuid, "instance.rebuild.start", REBUILD_PAYLOAD,
                   "compute.instance.rebuild.start");
        }
        n = guard("UPDATE instances SET task_state = 'rebuild_spawning', updated_at = now() "
                  "WHERE uuid = $1::uuid AND deleted = 0 AND task_state = 'rebuilding' "
                  "AND host IS NOT NULL RETURNING id",
                  1, p);
        if (n > 0) event_start(uuid, "{rebuild}", "compute_rebuild_instance", host);
        if (n <= 0 || db_commit() != DB_OK) {
            db_rollback();
            if (n > 0) n = -1;
        }
    }
    if (n <= 0) {
        if (n == 0 && !host && !strcmp(jstr(inst, "task_state") ?: "", "rebuilding")) {
            const char *q[] = {uuid};
            db_exec("UPDATE instances SET task_state = NULL, vm_state = 'error' "
                    "WHERE uuid = $1::uuid AND task_state = 'rebuilding'",
                    1, q);
            add_fault(uuid, "Instance has no host", NULL);
        }
        json_decref(inst);
        return json_false();
    }
    json_t *a = guest_args(inst, json_object_get(inst, "flavor"), "rebuild_instance",
                           strcmp(jstr(inst, "vm_state"), "stopped") != 0);
    json_object_set(a, "preserve_ephemeral", json_object_get(args, "preserve_ephemeral"));
    cast_host(host, "rebuild_instance", a);
    json_decref(inst);
    return json_true();
}

/* ---- resize and cold migration ---- */

/* The move failed before the instance reached its target: the target's
 * claim goes back and the source's returns to the instance, the migration
 * is in error, and the instance keeps its vm_state (NoValidHost, as Nova)
 * or goes to ERROR (a host failed it). */
static void fail_move(const char *uuid, const char *mid, const char *tasks, const char *vm_state,
                      const char *fault, const char *host, const char *event) {
    const char *p[] = {uuid, tasks, vm_state};
    for (int attempt = 0; attempt < 3; attempt++) {
        if (db_begin() != DB_OK) return;
        int n = guard(
            "UPDATE instances SET task_state = NULL, vm_state = COALESCE($3::text, vm_state), "
            "new_flavor = NULL, updated_at = now() WHERE uuid = $1::uuid AND "
            "deleted = 0 AND task_state = ANY($2::text[]) RETURNING id",
            3, p);
        const char *m[] = {mid};
        if (n < 0 || claims_revert_move(uuid, mid) != DB_OK ||
            db_exec("UPDATE migrations SET status = 'error', updated_at = now() "
                    "WHERE id = $1::bigint",
                    1, m) != DB_OK) {
            db_rollback();
            continue;
        }
        if (n) add_fault(uuid, fault, host);
        if (event) event_finish(uuid, MOVE_ACTIONS, event, false);
        if (n > 0 && event && host &&
            (!strcmp(event, "compute_resize_instance") || !strcmp(event, "compute_finish_resize")))
            notice_as("nova-compute", host, uuid, "instance.resize.error", NULL,
                      "compute.instance.resize.error", fault);
        if (db_commit() == DB_OK) {
            log_warn("move of %s failed: %s", uuid, fault);
            return;
        }
    }
    log_error("move of %s: failure not recorded: %s", uuid, db_errmsg());
}

/* The two ways a move picks its target, as data: the instance's task and
 * the migration's status before and after the choice, the conductor's
 * event and the first step on a host. */
struct move_kind {
    const char *task, *next_task, *status, *next_status;
    const char *event;            /* the conductor's event */
    const char *prep_event;       /* the target's preparation, done by the claim; NULL = none */
    const char *first_op;         /* the first step's compute method (and event) */
    bool first_on_target;         /* the first step runs on the target (else the source) */
    const char *no_host_vm_state; /* NoValidHost: the instance's vm_state (NULL: kept) */
};

static const struct move_kind cold = {"resize_prep",
                                      "resize_migrating",
                                      "pre-migrating",
                                      "migrating",
                                      "conductor_migrate_server",
                                      "compute_prep_resize",
                                      "resize_instance",
                                      false,
                                      NULL};
static const struct move_kind live = {
    "migrating", "migrating",          "accepted", "preparing", "conductor_live_migrate_instance",
    NULL,        "pre_live_migration", true,       NULL};
/* evacuate: the target rebuilds the guest (the source's host is down);
 * Nova leaves an instance it could not place in ERROR */
static const struct move_kind evac = {
    "rebuilding", "rebuild_spawning", "accepted", "pre-migrating", "conductor_rebuild_instance",
    NULL,         "rebuild_instance", true,       "error"};

/* What the scheduler needs for the target: the flavor's resources, the
 * request spec (a requested host; forced: no filters), the hosts to leave
 * out, and the migration that keeps the source's claim. */
static json_t *select_args(json_t *inst, json_t *mig, json_t *flavor, const char *host, bool force,
                           bool same_host_ok) {
    json_t *spec = json_deep_copy(json_object_get(inst, "request_spec"));
    if (!json_is_object(spec)) {
        json_decref(spec);
        spec = json_object();
    }
    static const char *const drop[] = {"force_host", "force_node", "requested_host",
                                       "requested_hypervisor_hostname"};
    for (size_t i = 0; i < sizeof drop / sizeof drop[0]; i++)
        json_object_del(spec, drop[i]);
    if (host) json_object_set_new(spec, force ? "force_host" : "requested_host", json_string(host));
    json_object_set(spec, "flavor", flavor);
    bool bfv = !*(jstr(inst, "image_ref") ?: "");
    long long disk = (bfv ? 0 : jint(flavor, "root_gb")) + jint(flavor, "ephemeral_gb") +
                     (jint(flavor, "swap") + 1023) / 1024;
    json_t *ignore = same_host_ok ? json_array() : json_pack("[s]", jstr(inst, "host"));
    char mid[24];
    snprintf(mid, sizeof mid, "%lld", jint(mig, "id"));
    return json_pack("{s:{s:s, s:s, s:I, s:I, s:I, s:O, s:s?}, s:o, s:o, s:s}", "instance", "uuid",
                     jstr(inst, "uuid"), "project_id", jstr(inst, "project_id"), "vcpus",
                     (json_int_t)jint(flavor, "vcpus"), "memory_mb",
                     (json_int_t)jint(flavor, "memory_mb"), "disk_gb", (json_int_t)disk, "flavor",
                     flavor, "availability_zone", jstr(inst, "pinned_availability_zone"),
                     "request_spec", spec, "ignore_hosts", ignore, "migration_id", mid);
}

/* Records the scheduler's choice on the migration and the instance; 1 when
 * still ours, 0 when taken over or deleted meanwhile, -1 on error. */
static int record_target(const struct move_kind *k, const char *uuid, const char *mid, json_t *dest,
                         const char *first_host) {
    char node_id[24];
    snprintf(node_id, sizeof node_id, "%lld", jint(dest, "compute_node_id"));
    const char *p[] = {uuid, k->task, k->next_task};
    const char *m[] = {mid,     jstr(dest, "host"), jstr(dest, "nodename"),
                       node_id, k->status,          k->next_status};
    if (db_begin() != DB_OK) return -1;
    const char *dh = jstr(dest, "host");
    /* the target's steps, with the instance as it is before them */
    if (k == &cold) {
        notice(dh, uuid, "instance.resize_prep.start", PREP_PAYLOAD,
               "compute.instance.resize.prep.start");
        notice(dh, uuid, "instance.resize_prep.end", PREP_PAYLOAD,
               "compute.instance.resize.prep.end");
    } else if (k == &live) {
        notice(dh, uuid, "instance.live_migration_pre.start", NULL,
               "compute.instance.live_migration.pre.start");
    } else {
        notice(dh, uuid, "instance.rebuild.start", REBUILD_PAYLOAD,
               "compute.instance.rebuild.start");
    }
    int n = guard("UPDATE instances SET task_state = $3, updated_at = now() "
                  "WHERE uuid = $1::uuid AND deleted = 0 AND task_state = $2 RETURNING id",
                  3, p);
    if (n > 0)
        n = guard("UPDATE migrations SET dest_compute = $2, dest_node = $3, "
                  "dest_host = (SELECT host_ip FROM compute_nodes WHERE id = $4::int), "
                  "dest_compute_id = $4::bigint, status = $6, updated_at = now() "
                  "WHERE id = $1::bigint AND status = $5 RETURNING id",
                  6, m);
    if (n <= 0) {
        db_rollback();
        return n;
    }
    event_start(uuid, MOVE_ACTIONS, k->event, NULL);
    event_finish(uuid, MOVE_ACTIONS, k->event, true);
    if (k->prep_event) { /* the target's preparation is the scheduler's claim: done */
        event_start(uuid, MOVE_ACTIONS, k->prep_event, jstr(dest, "host"));
        event_finish(uuid, MOVE_ACTIONS, k->prep_event, true);
    }
    char ev[64];
    snprintf(ev, sizeof ev, "compute_%s", k->first_op);
    event_start(uuid, MOVE_ACTIONS, ev, first_host);
    if (k == &cold) /* the source's step starts */
        notice(first_host, uuid, "instance.resize.start", NULL, "compute.instance.resize.start");
    return db_commit() == DB_OK ? 1 : -1;
}

/* Picks and claims the target (scheduler), records it, and starts the
 * first step on its host; NoValidHost ends the move with the instance as
 * it was. args {instance_uuid, migration_id, host?, force?}. */
static json_t *schedule_move(const struct move_kind *k, json_t *args, struct conductor *c) {
    const char *uuid = jstr(args, "instance_uuid"), *mid = jstr(args, "migration_id");
    if (!uuid || !uuid_valid(uuid) || !mid)
        return rpc_failure("a move needs instance_uuid, migration_id");
    json_t *inst = load_instance(uuid), *mig = load_migration(mid);
    json_t *res = json_false();
    if (!inst || !mig || strcmp(jstr(inst, "task_state") ?: "", k->task) ||
        strcmp(jstr(mig, "status"), k->status))
        goto out;
    bool same_ok = false;
    if (!strcmp(jstr(mig, "migration_type"), "resize"))
        str_to_bool(config_get("DEFAULT", "allow_resize_to_same_host", "false"), &same_ok);
    json_t *flavor = json_object_get(inst, k == &cold ? "new_flavor" : "flavor");
    json_t *sa = select_args(inst, mig, flavor, jstr(args, "host"),
                             json_is_true(json_object_get(args, "force")), same_ok);
    const char *err = NULL;
    json_t *dest = rpc_call("scheduler", "select_destinations", sa, c->call_timeout_ms, &err);
    json_decref(sa);
    const char *host = jstr(dest, "host");
    if (!dest && err && !strcmp(err, "unreachable")) {
        /* the broker went away: the message comes again once it is back */
        log_warn("move of %s: scheduler unreachable: left for redelivery", uuid);
    } else if (!host) {
        const char *reason = dest ? jstr(dest, "reason") : err;
        char msg[512], tasks[64];
        snprintf(msg, sizeof msg, NO_VALID_HOST "%s", reason ?: "");
        snprintf(tasks, sizeof tasks, "{%s}", k->task);
        event_start(uuid, MOVE_ACTIONS, k->event, NULL);
        fail_move(uuid, mid, tasks, k->no_host_vm_state, msg, NULL, k->event);
    } else {
        const char *on = k->first_on_target ? host : jstr(inst, "host");
        if (record_target(k, uuid, mid, dest, on) > 0) {
            json_t *on_arg = json_object_get(args, "power_on"); /* evacuate: the API's */
            bool power_on = on_arg ? json_is_true(on_arg) : jint(inst, "power_state") == 1;
            json_t *a = k->first_on_target
                            ? guest_args(inst, flavor, k->first_op, power_on)
                            : json_pack("{s:s, s:s}", "uuid", uuid, "op", k->first_op);
            json_object_set_new(a, "migration_id", json_string(mid));
            cast_host(on, k->first_op, a);
            res = json_true();
        } else {
            log_info("move of %s: taken over or deleted meanwhile", uuid);
        }
    }
    json_decref(dest);
out:
    json_decref(inst);
    json_decref(mig);
    return res;
}

/* args {instance_uuid, migration_id, host?} from the API (task
 * 'resize_prep', new_flavor set, migration 'pre-migrating'). */
json_t *conductor_resize_instance(json_t *args, struct conductor *c) {
    return schedule_move(&cold, args, c);
}

/* args {instance_uuid, migration_id, host?, force?} from the API (task
 * 'migrating', migration 'accepted'). */
json_t *conductor_live_migrate_instance(json_t *args, struct conductor *c) {
    return schedule_move(&live, args, c);
}

/* args {instance_uuid, migration_id, host?, force?, power_on} from the API
 * (task 'rebuilding', migration 'accepted', the source's compute down). */
json_t *conductor_evacuate_instance(json_t *args, struct conductor *c) {
    return schedule_move(&evac, args, c);
}

/* The target runs the evacuated guest: the instance is there, the source's
 * claim (held by the migration since the scheduler claimed the target)
 * goes back, the migration is done. */
static void evacuated(const char *uuid, const char *mid, const char *ps) {
    const char *p[] = {uuid, mid, ps};
    const char *m[] = {mid};
    for (int attempt = 0; attempt < 3; attempt++) {
        if (db_begin() != DB_OK) return;
        int n = guard("UPDATE instances i SET host = m.dest_compute, node = m.dest_node, "
                      "task_state = NULL, power_state = COALESCE($3::int, i.power_state), "
                      "vm_state = CASE WHEN COALESCE($3::int, i.power_state) = 1 THEN 'active' "
                      "ELSE 'stopped' END, launched_at = now(), updated_at = now() "
                      "FROM migrations m WHERE m.id = $2::bigint AND m.status = 'pre-migrating' "
                      "AND i.uuid = $1::uuid AND i.deleted = 0 AND "
                      "i.task_state = 'rebuild_spawning' RETURNING i.id",
                      3, p);
        if (n == 0) {
            db_rollback();
            return;
        }
        if (n < 0 || claims_release_migration(mid, NULL) != DB_OK ||
            db_exec("UPDATE migrations SET status = 'done', updated_at = now() "
                    "WHERE id = $1::bigint",
                    1, m) != DB_OK) {
            db_rollback();
            continue;
        }
        event_finish(uuid, MOVE_ACTIONS, "compute_rebuild_instance", true);
        notice(NULL, uuid, "instance.rebuild.end", REBUILD_PAYLOAD, "compute.instance.rebuild.end");
        if (db_commit() == DB_OK) {
            log_info("evacuation of %s: done", uuid);
            return;
        }
    }
}

/* An evacuation still in progress (a rebuild step carrying its migration). */
static bool evacuating(const char *mid) {
    const char *m[] = {mid};
    return mid && guard("SELECT id FROM migrations WHERE id = $1::bigint AND "
                        "migration_type = 'evacuation' AND status IN ('accepted', "
                        "'pre-migrating')",
                        1, m) > 0;
}

/* args {host}: the evacuations from `host` (accepted, in progress or
 * done), asked by its cnova-compute at start: [{uuid, migration_id,
 * destroy}], destroy false when the instance is on `host` again. */
json_t *conductor_evacuated_instances(json_t *args, struct conductor *c) {
    (void)c;
    const char *host = jstr(args, "host");
    if (!host) return rpc_failure("evacuated_instances needs host");
    const char *p[] = {host};
    PGresult *r = NULL;
    if (db_query(&r,
                 "SELECT m.instance_uuid::text, m.id::text, i.host IS DISTINCT FROM $1 "
                 "FROM migrations m LEFT JOIN instances i ON i.uuid = m.instance_uuid "
                 "AND i.deleted = 0 WHERE m.source_compute = $1 AND m.deleted = 0 AND "
                 "m.migration_type = 'evacuation' AND m.status IN ('accepted', "
                 "'pre-migrating', 'done') ORDER BY m.id",
                 1, p) != DB_OK)
        return rpc_failure("database unavailable");
    json_t *list = json_array();
    for (int i = 0; i < PQntuples(r); i++)
        json_array_append_new(list,
                              json_pack("{s:s, s:s, s:b}", "uuid", db_str(r, i, 0), "migration_id",
                                        db_str(r, i, 1), "destroy", db_bool(r, i, 2)));
    PQclear(r);
    return list;
}

/* args {host, migration_ids}: the source has dropped those guests; its
 * finished evacuations are completed (Nova), the ones still in progress
 * end as done on their target as usual. */
json_t *conductor_evacuation_cleaned(json_t *args, struct conductor *c) {
    (void)c;
    size_t i;
    json_t *id;
    json_array_foreach(json_object_get(args, "migration_ids"), i, id) {
        const char *m[] = {jstr(args, "host"), json_string_value(id)};
        if (m[0] && m[1])
            db_exec("UPDATE migrations SET status = 'completed', updated_at = now() "
                    "WHERE id = $2::bigint AND source_compute = $1 AND "
                    "migration_type = 'evacuation' AND status = 'done'",
                    2, m);
    }
    return json_true();
}

/* The target runs a copy of the guest: the source drops its own. */
static void live_prepared(const char *uuid, json_t *mig, const char *mid) {
    const char *p[] = {uuid};
    const char *m[] = {mid};
    if (db_begin() != DB_OK) return;
    int n = guard("SELECT id FROM instances WHERE uuid = $1::uuid AND deleted = 0 AND "
                  "task_state = 'migrating' FOR UPDATE",
                  1, p);
    if (n > 0)
        n = guard("UPDATE migrations SET status = 'running', updated_at = now() "
                  "WHERE id = $1::bigint AND status = 'preparing' RETURNING id",
                  1, m);
    if (n <= 0) {
        db_rollback();
        return;
    }
    event_finish(uuid, MOVE_ACTIONS, "compute_pre_live_migration", true);
    event_start(uuid, MOVE_ACTIONS, "compute_live_migration", jstr(mig, "source_compute"));
    notice(jstr(mig, "dest_compute"), uuid, "instance.live_migration_pre.end", NULL,
           "compute.instance.live_migration.pre.end");
    if (db_commit() != DB_OK) return;
    cast_host(
        jstr(mig, "source_compute"), "live_migration",
        json_pack("{s:s, s:s, s:s}", "uuid", uuid, "op", "live_migration", "migration_id", mid));
}

/* The guest runs on the target only: the instance is there, the source's
 * claim (the migration's) goes back. */
static void live_done(const char *uuid, json_t *mig, const char *mid) {
    const char *p[] = {uuid, mid};
    const char *m[] = {mid};
    for (int attempt = 0; attempt < 3; attempt++) {
        if (db_begin() != DB_OK) return;
        const char *src = jstr(mig, "source_compute"), *dst = jstr(mig, "dest_compute");
        notice(src, uuid, "instance.live_migration_post.start", NULL,
               "compute.instance.live_migration._post.start");
        notice(dst, uuid, "instance.live_migration_post_dest.start", NULL,
               "compute.instance.live_migration.post.dest.start");
        int n = guard("UPDATE instances i SET host = m.dest_compute, node = m.dest_node, "
                      "task_state = NULL, updated_at = now() FROM migrations m WHERE "
                      "m.id = $2::bigint AND m.status = 'running' AND i.uuid = $1::uuid AND "
                      "i.deleted = 0 AND i.task_state = 'migrating' RETURNING i.id",
                      2, p);
        if (n == 0) {
            db_rollback();
            return;
        }
        if (n < 0 || claims_release_migration(mid, NULL) != DB_OK ||
            db_exec("UPDATE migrations SET status = 'completed', updated_at = now() "
                    "WHERE id = $1::bigint",
                    1, m) != DB_OK) {
            db_rollback();
            continue;
        }
        event_finish(uuid, MOVE_ACTIONS, "compute_live_migration", true);
        event_start(uuid, MOVE_ACTIONS, "compute_post_live_migration_at_destination",
                    jstr(mig, "dest_compute"));
        event_finish(uuid, MOVE_ACTIONS, "compute_post_live_migration_at_destination", true);
        notice(dst, uuid, "instance.live_migration_post_dest.end", NULL,
               "compute.instance.live_migration.post.dest.end");
        notice(src, uuid, "instance.live_migration_post.end", NULL,
               "compute.instance.live_migration._post.end");
        if (db_commit() == DB_OK) {
            log_info("live migration of %s: on %s", uuid, jstr(mig, "dest_compute"));
            return;
        }
    }
}

/* The source has powered the guest off: the target defines it. */
static void resized_on_source(const char *uuid, json_t *inst, json_t *mig, const char *mid) {
    const char *p[] = {uuid};
    const char *m[] = {mid};
    if (db_begin() != DB_OK) return;
    int n = guard("UPDATE instances SET task_state = 'resize_migrated', updated_at = now() "
                  "WHERE uuid = $1::uuid AND deleted = 0 AND task_state = 'resize_migrating' "
                  "RETURNING id",
                  1, p);
    if (n > 0)
        n = guard("UPDATE migrations SET status = 'post-migrating', updated_at = now() "
                  "WHERE id = $1::bigint AND status = 'migrating' RETURNING id",
                  1, m);
    if (n <= 0) {
        db_rollback();
        return;
    }
    event_finish(uuid, MOVE_ACTIONS, "compute_resize_instance", true);
    event_start(uuid, MOVE_ACTIONS, "compute_finish_resize", jstr(mig, "dest_compute"));
    notice(jstr(mig, "source_compute"), uuid, "instance.resize.end", NULL,
           "compute.instance.resize.end");
    notice(jstr(mig, "dest_compute"), uuid, "instance.resize_finish.start", NULL,
           "compute.instance.finish_resize.start");
    if (db_commit() != DB_OK) return;
    const char *old = jstr(json_object_get(inst, "system_metadata"), "old_vm_state");
    json_t *a = guest_args(inst, json_object_get(inst, "new_flavor"), "finish_resize",
                           !old || strcmp(old, "stopped"));
    json_object_set_new(a, "migration_id", json_string(mid));
    cast_host(jstr(mig, "dest_compute"), "finish_resize", a);
}

/* The target runs the guest: the instance is there with its new flavor,
 * waiting for confirm or revert (VERIFY_RESIZE). */
static void resize_finished(const char *uuid, const char *mid, const char *ps) {
    const char *p[] = {uuid, mid, ps};
    const char *m[] = {mid};
    if (db_begin() != DB_OK) return;
    int n = guard("UPDATE instances i SET host = m.dest_compute, node = m.dest_node, "
                  "old_flavor = i.flavor, flavor = i.new_flavor, "
                  "vcpus = (i.new_flavor->>'vcpus')::int, "
                  "memory_mb = (i.new_flavor->>'memory_mb')::int, "
                  "root_gb = (i.new_flavor->>'root_gb')::int, "
                  "ephemeral_gb = (i.new_flavor->>'ephemeral_gb')::int, vm_state = 'resized', "
                  "task_state = NULL, power_state = COALESCE($3::int, i.power_state), "
                  "updated_at = now() FROM migrations m WHERE m.id = $2::bigint AND "
                  "i.uuid = $1::uuid AND i.deleted = 0 AND i.task_state = 'resize_migrated' "
                  "RETURNING i.id",
                  3, p);
    if (n > 0)
        n = guard("UPDATE migrations SET status = 'finished', updated_at = now() "
                  "WHERE id = $1::bigint AND status = 'post-migrating' RETURNING id",
                  1, m);
    if (n <= 0) {
        db_rollback();
        return;
    }
    event_finish(uuid, MOVE_ACTIONS, "compute_finish_resize", true);
    notice(NULL, uuid, "instance.resize_finish.end", NULL, "compute.instance.finish_resize.end");
    if (db_commit() == DB_OK) log_info("move of %s: VERIFY_RESIZE", uuid);
}

/* ---- confirm and revert ---- */

/* The source's guest is gone (or there was none to remove: same host):
 * the migration's claim goes back, the instance is ACTIVE (or SHUTOFF). */
static void confirm_done(const char *uuid, const char *mid) {
    const char *p[] = {uuid};
    const char *m[] = {mid};
    for (int attempt = 0; attempt < 3; attempt++) {
        if (db_begin() != DB_OK) return;
        int n = guard("UPDATE migrations SET status = 'confirmed', updated_at = now() "
                      "WHERE id = $1::bigint AND status = 'confirming' RETURNING id",
                      1, m);
        if (n == 0) {
            db_rollback();
            return;
        }
        if (n < 0 || claims_release_migration(mid, NULL) != DB_OK ||
            guard("UPDATE instances SET vm_state = CASE WHEN power_state = 4 THEN 'stopped' "
                  "ELSE 'active' END, old_flavor = NULL, new_flavor = NULL, updated_at = now() "
                  "WHERE uuid = $1::uuid AND deleted = 0 AND vm_state = 'resized' RETURNING id",
                  1, p) < 0) {
            db_rollback();
            continue;
        }
        event_finish(uuid, "{confirmResize}", "compute_confirm_resize", true);
        notice(NULL, uuid, "instance.resize_confirm.end", NULL,
               "compute.instance.resize.confirm.end");
        if (db_commit() == DB_OK) {
            log_info("resize of %s confirmed", uuid);
            return;
        }
    }
}

/* args {instance_uuid, migration_id} from the API (migration 'confirming'). */
json_t *conductor_confirm_resize(json_t *args, struct conductor *c) {
    (void)c;
    const char *uuid = jstr(args, "instance_uuid"), *mid = jstr(args, "migration_id");
    if (!uuid || !uuid_valid(uuid) || !mid)
        return rpc_failure("confirm_resize needs instance_uuid, migration_id");
    json_t *mig = load_migration(mid);
    if (!mig || strcmp(jstr(mig, "status"), "confirming")) {
        json_decref(mig);
        return json_false();
    }
    const char *src = jstr(mig, "source_compute"), *dst = jstr(mig, "dest_compute");
    bool same = !src || (dst && !strcmp(src, dst));
    if (db_begin() == DB_OK) {
        notice(src, uuid, "instance.resize_confirm.start", NULL,
               "compute.instance.resize.confirm.start");
        if (!same) event_start(uuid, "{confirmResize}", "compute_confirm_resize", src);
        if (db_commit() != DB_OK) db_rollback();
    }
    if (same) {
        confirm_done(uuid, mid); /* same host: the guest there is the resized one */
    } else {
        cast_host(src, "confirm_resize",
                  json_pack("{s:s, s:s, s:s}", "uuid", uuid, "op", "confirm_resize", "migration_id",
                            mid));
    }
    json_decref(mig);
    return json_true();
}

/* args {instance_uuid, migration_id} from the API (task 'resize_reverting',
 * migration 'reverting'): the target drops its guest first. */
json_t *conductor_revert_resize(json_t *args, struct conductor *c) {
    (void)c;
    const char *uuid = jstr(args, "instance_uuid"), *mid = jstr(args, "migration_id");
    if (!uuid || !uuid_valid(uuid) || !mid)
        return rpc_failure("revert_resize needs instance_uuid, migration_id");
    json_t *mig = load_migration(mid);
    if (!mig || strcmp(jstr(mig, "status"), "reverting")) {
        json_decref(mig);
        return json_false();
    }
    if (db_begin() == DB_OK) {
        notice(jstr(mig, "dest_compute"), uuid, "instance.resize_revert.start", NULL,
               "compute.instance.resize.revert.start");
        event_start(uuid, "{revertResize}", "compute_revert_resize", jstr(mig, "dest_compute"));
        if (db_commit() != DB_OK) db_rollback();
    }
    cast_host(
        jstr(mig, "dest_compute"), "revert_resize",
        json_pack("{s:s, s:s, s:s}", "uuid", uuid, "op", "revert_resize", "migration_id", mid));
    json_decref(mig);
    return json_true();
}

/* The target's guest is gone: the source defines it again with the old
 * flavor. */
static void reverted_on_dest(const char *uuid, json_t *inst, json_t *mig, const char *mid) {
    event_finish(uuid, "{revertResize}", "compute_revert_resize", true);
    event_start(uuid, "{revertResize}", "compute_finish_revert_resize",
                jstr(mig, "source_compute"));
    const char *old = jstr(json_object_get(inst, "system_metadata"), "old_vm_state");
    json_t *a = guest_args(inst, json_object_get(inst, "old_flavor"), "finish_revert_resize",
                           !old || strcmp(old, "stopped"));
    json_object_set_new(a, "migration_id", json_string(mid));
    cast_host(jstr(mig, "source_compute"), "finish_revert_resize", a);
}

/* Back on the source with the old flavor and the source's claim. */
static void revert_done(const char *uuid, const char *mid, const char *ps) {
    const char *p[] = {uuid, mid, ps};
    const char *m[] = {mid};
    for (int attempt = 0; attempt < 3; attempt++) {
        if (db_begin() != DB_OK) return;
        int n = guard("UPDATE instances i SET host = m.source_compute, node = m.source_node, "
                      "flavor = i.old_flavor, vcpus = (i.old_flavor->>'vcpus')::int, "
                      "memory_mb = (i.old_flavor->>'memory_mb')::int, "
                      "root_gb = (i.old_flavor->>'root_gb')::int, "
                      "ephemeral_gb = (i.old_flavor->>'ephemeral_gb')::int, "
                      "old_flavor = NULL, new_flavor = NULL, task_state = NULL, "
                      "power_state = COALESCE($3::int, i.power_state), vm_state = CASE WHEN "
                      "COALESCE($3::int, i.power_state) = 4 THEN 'stopped' ELSE 'active' END, "
                      "updated_at = now() FROM migrations m WHERE m.id = $2::bigint AND "
                      "i.uuid = $1::uuid AND i.deleted = 0 AND i.task_state = 'resize_reverting' "
                      "AND i.old_flavor IS NOT NULL RETURNING i.id",
                      3, p);
        if (n == 0) {
            db_rollback();
            return;
        }
        if (n < 0 || claims_revert_move(uuid, mid) != DB_OK ||
            db_exec("UPDATE migrations SET status = 'reverted', updated_at = now() "
                    "WHERE id = $1::bigint",
                    1, m) != DB_OK) {
            db_rollback();
            continue;
        }
        event_finish(uuid, "{revertResize}", "compute_finish_revert_resize", true);
        notice(NULL, uuid, "instance.resize_revert.end", NULL,
               "compute.instance.resize.revert.end");
        if (db_commit() == DB_OK) {
            log_info("resize of %s reverted", uuid);
            return;
        }
    }
}

/* ---- aborting and forcing a live migration ---- */

#define CANCEL_ACTION "{live_migration_cancel}"

/* args {instance_uuid, migration_id} from the API: the migration is
 * cancelled at once (so the steps still in flight change nothing), then
 * the target drops its copy and the source runs the guest again; each
 * host takes its messages in order, so whatever step was in flight there
 * runs first. */
json_t *conductor_live_migration_abort(json_t *args, struct conductor *c) {
    (void)c;
    const char *uuid = jstr(args, "instance_uuid"), *mid = jstr(args, "migration_id");
    if (!uuid || !uuid_valid(uuid) || !mid)
        return rpc_failure("live_migration_abort needs instance_uuid, migration_id");
    json_t *inst = load_instance(uuid), *mig = load_migration(mid);
    json_t *res = json_false();
    const char *m[] = {mid};
    if (!inst || !mig || db_begin() != DB_OK) goto out;
    int n = guard("UPDATE migrations SET status = 'cancelled', updated_at = now() WHERE "
                  "id = $1::bigint AND status IN ('queued', 'preparing', 'running') RETURNING id",
                  1, m);
    if (n <= 0) { /* completed (or failed) meanwhile: nothing to abort */
        db_rollback();
        goto out;
    }
    event_start(uuid, CANCEL_ACTION, "compute_live_migration_abort", jstr(mig, "source_compute"));
    notice(jstr(mig, "source_compute"), uuid, "instance.live_migration_abort.start", NULL,
           "compute.instance.live.migration.abort.start");
    notice(jstr(mig, "source_compute"), uuid, "instance.live_migration_abort.end", NULL,
           "compute.instance.live.migration.abort.end");
    notice(jstr(mig, "source_compute"), uuid, "instance.live_migration_rollback.start", NULL,
           "compute.instance.live_migration._rollback.start");
    if (db_commit() != DB_OK) goto out;
    if (jstr(mig, "dest_compute"))
        cast_host(jstr(mig, "dest_compute"), "rollback_live_migration_at_destination",
                  json_pack("{s:s, s:s, s:s}", "uuid", uuid, "op",
                            "rollback_live_migration_at_destination", "migration_id", mid));
    else
        rollback_on_source(uuid, inst, mig, mid);
    res = json_true();
out:
    json_decref(inst);
    json_decref(mig);
    return res;
}

/* The target's copy is gone: the source runs the guest (again). */
static void rollback_on_source(const char *uuid, json_t *inst, json_t *mig, const char *mid) {
    json_t *a = guest_args(inst, json_object_get(inst, "flavor"), "rollback_live_migration",
                           jint(inst, "power_state") == 1);
    json_object_set_new(a, "migration_id", json_string(mid));
    cast_host(jstr(mig, "source_compute"), "rollback_live_migration", a);
}

/* Back where it was: the target's claim goes back, the source's returns
 * to the instance. */
static void abort_done(const char *uuid, const char *mid) {
    const char *p[] = {uuid};
    for (int attempt = 0; attempt < 3; attempt++) {
        if (db_begin() != DB_OK) return;
        int n = guard("UPDATE instances SET task_state = NULL, updated_at = now() WHERE "
                      "uuid = $1::uuid AND deleted = 0 AND task_state = 'migrating' RETURNING id",
                      1, p);
        if (n == 0) {
            db_rollback();
            return;
        }
        if (n < 0 || claims_revert_move(uuid, mid) != DB_OK) {
            db_rollback();
            continue;
        }
        event_finish(uuid, CANCEL_ACTION, "compute_live_migration_abort", true);
        notice(NULL, uuid, "instance.live_migration_rollback.end", NULL,
               "compute.instance.live_migration._rollback.end");
        if (db_commit() == DB_OK) {
            log_info("live migration of %s aborted", uuid);
            return;
        }
    }
}

/* args {instance_uuid, migration_id}: a live migration here needs no
 * forcing (the guest switches over as soon as the target runs it); the
 * request is recorded as done. */
json_t *conductor_live_migration_force_complete(json_t *args, struct conductor *c) {
    (void)c;
    const char *uuid = jstr(args, "instance_uuid"), *mid = jstr(args, "migration_id");
    if (!uuid || !uuid_valid(uuid) || !mid)
        return rpc_failure("live_migration_force_complete needs instance_uuid, migration_id");
    json_t *mig = load_migration(mid);
    const char *actions = "{live_migration_force_complete}";
    const char *src = mig ? jstr(mig, "source_compute") : NULL;
    if (db_begin() == DB_OK) {
        event_start(uuid, actions, "compute_live_migration_force_complete", src);
        event_finish(uuid, actions, "compute_live_migration_force_complete", true);
        notice(src, uuid, "instance.live_migration_force_complete.start", NULL,
               "compute.instance.live.migration.force.complete.start");
        notice(src, uuid, "instance.live_migration_force_complete.end", NULL,
               "compute.instance.live.migration.force.complete.end");
        if (db_commit() != DB_OK) db_rollback();
    }
    json_decref(mig);
    return json_true();
}

/* ---- the hosts' answers ---- */

/* A step failed on a host: the instance goes to ERROR with a fault and the
 * migration to error (Nova's behaviour for failures on the hosts). */
static void step_failed(const char *uuid, const char *mid, const char *op, const char *host,
                        const char *fault) {
    char msg[512];
    snprintf(msg, sizeof msg, "%s failed on %s: %s", op, host, fault ?: "failed");
    char ev[64];
    snprintf(ev, sizeof ev, "compute_%s", op);
    if (!strcmp(op, "resize_instance") || !strcmp(op, "finish_resize")) {
        fail_move(uuid, mid, "{resize_migrating,resize_migrated}", "error", msg, host, ev);
        return;
    }
    if (!strcmp(op, "rebuild_instance") && evacuating(mid)) {
        /* Nova: the instance in ERROR on its source, the migration failed */
        fail_move(uuid, mid, "{rebuilding,rebuild_spawning}", "error", msg, host, ev);
        const char *m[] = {mid};
        db_exec("UPDATE migrations SET status = 'failed', updated_at = now() "
                "WHERE id = $1::bigint AND status = 'error'",
                1, m);
        return;
    }
    if (!strcmp(op, "pre_live_migration") || !strcmp(op, "live_migration")) {
        /* Nova rolls a failed live migration back: the guest stays where it was */
        fail_move(uuid, mid, "{migrating}", NULL, msg, host, ev);
        return;
    }
    /* the instance's state the failed step ran under */
    bool confirm = !strcmp(op, "confirm_resize"), rebuild = !strcmp(op, "rebuild_instance");
    bool abort = !strncmp(op, "rollback_live_migration", 23);
    const char *tasks = rebuild   ? "{rebuilding,rebuild_spawning}"
                        : confirm ? "{}"
                        : abort   ? "{migrating}"
                                  : "{resize_reverting}";
    const char *p[] = {uuid, tasks, confirm ? "resized" : NULL};
    const char *m[] = {mid};
    if (db_begin() != DB_OK) return;
    int n = guard("UPDATE instances SET vm_state = 'error', task_state = NULL, updated_at = now() "
                  "WHERE uuid = $1::uuid AND deleted = 0 AND (task_state = ANY($2::text[]) OR "
                  "(task_state IS NULL AND vm_state = $3::text)) RETURNING id",
                  3, p);
    if (n > 0) {
        if (mid)
            db_exec("UPDATE migrations SET status = 'error', updated_at = now() "
                    "WHERE id = $1::bigint AND status IN ('confirming', 'reverting')",
                    1, m);
        add_fault(uuid, msg, host);
        if (rebuild)
            notice_as("nova-compute", host, uuid, "instance.rebuild.error", REBUILD_PAYLOAD,
                      "compute.instance.rebuild.error", msg);
    }
    event_finish(uuid, "{rebuild,confirmResize,revertResize,live_migration_cancel}",
                 abort ? "compute_live_migration_abort" : ev, false);
    if (db_commit() == DB_OK) log_warn("%s", msg);
}

static void rebuilt(const char *uuid, const char *host, const char *ps) {
    const char *p[] = {uuid, host, ps};
    if (db_begin() != DB_OK) return;
    int n = guard("UPDATE instances SET task_state = NULL, power_state = $3::int, "
                  "vm_state = CASE WHEN $3::int = 1 THEN 'active' ELSE 'stopped' END, "
                  "launched_at = now(), updated_at = now() WHERE uuid = $1::uuid AND "
                  "deleted = 0 AND host = $2 AND task_state = 'rebuild_spawning' RETURNING id",
                  3, p);
    if (n <= 0) {
        db_rollback();
        return;
    }
    event_finish(uuid, "{rebuild}", "compute_rebuild_instance", true);
    notice(host, uuid, "instance.rebuild.end", REBUILD_PAYLOAD, "compute.instance.rebuild.end");
    if (db_commit() == DB_OK) log_info("rebuild of %s: done", uuid);
}

/* args {uuid, host, op, ok, migration_id?, power_state | fault}. */
json_t *conductor_move_done(json_t *args, struct conductor *c) {
    (void)c;
    const char *uuid = jstr(args, "uuid"), *host = jstr(args, "host"), *op = jstr(args, "op");
    const char *mid = jstr(args, "migration_id");
    if (!uuid || !uuid_valid(uuid) || !host || !op)
        return rpc_failure("move_done needs uuid, host and op");
    if (strcmp(op, "rebuild_instance") && !mid) return rpc_failure("%s needs migration_id", op);
    char ps[12] = "";
    if (json_is_integer(json_object_get(args, "power_state")))
        snprintf(ps, sizeof ps, "%lld", jint(args, "power_state"));
    if (!json_is_true(json_object_get(args, "ok"))) {
        step_failed(uuid, mid, op, host, jstr(args, "fault"));
        return json_true();
    }
    json_t *inst = load_instance(uuid), *mig = mid ? load_migration(mid) : NULL;
    if (!inst) {
        json_decref(mig);
        return json_false();
    }
    if (!strcmp(op, "rebuild_instance") && !mid)
        rebuilt(uuid, host, ps[0] ? ps : "1");
    else if (!mig)
        log_warn("%s of %s: migration %s is gone", op, uuid, mid);
    else if (!strcmp(op, "rebuild_instance"))
        evacuated(uuid, mid, ps[0] ? ps : NULL);
    else if (!strcmp(op, "resize_instance"))
        resized_on_source(uuid, inst, mig, mid);
    else if (!strcmp(op, "finish_resize"))
        resize_finished(uuid, mid, ps[0] ? ps : NULL);
    else if (!strcmp(op, "confirm_resize"))
        confirm_done(uuid, mid);
    else if (!strcmp(op, "revert_resize"))
        reverted_on_dest(uuid, inst, mig, mid);
    else if (!strcmp(op, "finish_revert_resize"))
        revert_done(uuid, mid, ps[0] ? ps : NULL);
    else if (!strcmp(op, "pre_live_migration"))
        live_prepared(uuid, mig, mid);
    else if (!strcmp(op, "live_migration"))
        live_done(uuid, mig, mid);
    else if (!strcmp(op, "rollback_live_migration_at_destination"))
        rollback_on_source(uuid, inst, mig, mid);
    else if (!strcmp(op, "rollback_live_migration"))
        abort_done(uuid, mid);
    json_decref(inst);
    json_decref(mig);
    return json_true();
}

/* An instance being deleted: the claims its migrations hold go back, and
 * its unfinished migrations end (a resize awaiting confirmation is
 * confirmed, as Nova does on delete). Inside the caller's transaction. */
void conductor_moves_on_delete(const char *uuid) {
    const char *p[] = {uuid};
    if (claims_release_migration(NULL, uuid) != DB_OK ||
        db_exec("UPDATE migrations SET status = CASE WHEN status IN ('finished', 'confirming') "
                "THEN 'confirmed' ELSE 'error' END, updated_at = now() "
                "WHERE instance_uuid = $1::uuid AND deleted = 0 AND status NOT IN "
                "('confirmed', 'reverted', 'error', 'failed', 'completed', 'done', 'cancelled')",
                1, p) != DB_OK)
        log_error("migrations of %s not closed: %s", uuid, db_errmsg());
}

/* Moves whose hosts never answered within [conductor] build_timeout (a
 * lost message, a dead host): the instance leaves its task, in ERROR once
 * a host may have changed the guest, else as it was; the migration ends in
 * error and the claims go back to where the instance is. Each row goes to
 * one conductor (SKIP LOCKED, updated_at touched). */
void conductor_reap_moves(struct conductor *c) {
    PGresult *r = conductor_take_due(
        "WITH due AS (SELECT id FROM instances WHERE deleted = 0 AND task_state = ANY("
        "'{resize_prep,resize_migrating,resize_migrated,resize_reverting,migrating,"
        "rebuilding,rebuild_spawning}') AND coalesce(updated_at, created_at) < now() - "
        "make_interval(secs => $1::int) LIMIT 50 FOR UPDATE SKIP LOCKED) "
        "UPDATE instances i SET updated_at = now() FROM due WHERE i.id = due.id "
        "RETURNING i.uuid, i.task_state, coalesce(i.host, ''), (SELECT m.id FROM "
        "migrations m WHERE m.instance_uuid = i.uuid AND m.deleted = 0 "
        "ORDER BY m.id DESC LIMIT 1)",
        c->build_timeout, NULL);
    if (!r) return;
    for (int i = 0; i < PQntuples(r); i++) {
        const char *uuid = db_str(r, i, 0), *task = db_str(r, i, 1), *host = db_str(r, i, 2);
        const char *mid = db_str(r, i, 3);
        char msg[300], tasks[64];
        snprintf(msg, sizeof msg, "No answer in %d s while in task_state %s", c->build_timeout,
                 task);
        snprintf(tasks, sizeof tasks, "{%s}", task);
        log_warn("move of %s: %s", uuid, msg);
        bool untouched = !strcmp(task, "resize_prep") || !strcmp(task, "migrating");
        if (mid && (untouched || !strncmp(task, "resize_migr", 11)))
            fail_move(uuid, mid, tasks, untouched ? NULL : "error", msg, host, NULL);
        else
            step_failed(uuid, mid,
                        strncmp(task, "rebuild", 7) ? "revert_resize" : "rebuild_instance", host,
                        "timed out");
    }
    PQclear(r);
}
