/* build.c — the conductor's build workflow: ask the scheduler for a host
 * (the scheduler claims the resources), record the choice, hand the build to
 * that host, then take its answer: ACTIVE, or give the claim back and try
 * another host up to [scheduler] max_attempts, then ERROR with a fault. The
 * build timeout re-drives whatever a lost message or a dead process left. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cnova.h"
#include "conductor.h"

#define NO_VALID_HOST "No valid host was found. "
#define BUILD_EVENT "compute__do_build_and_run_instance"

enum {
    I_ID,
    I_PROJECT,
    I_USER,
    I_NAME,
    I_IMAGE,
    I_FLAVOR,
    I_VCPUS,
    I_MEM,
    I_ROOT,
    I_EPH,
    I_AZ,
    I_SPEC,
    I_VM,
    I_TASK,
    I_HOST,
    I_ATTEMPTS,
    I_TRIED,
    I_AGE
};

static PGresult *load(const char *uuid) {
    PGresult *r = NULL;
    const char *p[] = {uuid};
    if (db_query(&r,
                 "SELECT id, project_id, user_id, coalesce(display_name, ''), "
                 "coalesce(image_ref, ''), flavor::text, vcpus, memory_mb, root_gb, ephemeral_gb, "
                 "availability_zone, request_spec::text, vm_state, coalesce(task_state, ''), "
                 "host, build_attempts, to_jsonb(build_tried_hosts)::text, "
                 "extract(epoch FROM now() - created_at)::int "
                 "FROM instances WHERE uuid = $1 AND deleted = 0",
                 1, p) != DB_OK) {
        log_error("build %s: %s", uuid, db_errmsg());
        return NULL;
    }
    if (PQntuples(r) == 0) {
        PQclear(r);
        return NULL;
    }
    return r;
}

/* Records a build event of the instance's "create" action (when the API
 * made one): started now, or finished with `result`. */
static void event_start(const char *uuid, const char *event, const char *host) {
    const char *p[] = {uuid, event, host};
    db_exec("INSERT INTO instance_actions_events (action_id, event, start_time, host) "
            "SELECT id, $2, now(), $3 FROM instance_actions "
            "WHERE instance_uuid = $1 AND action = 'create' ORDER BY id DESC LIMIT 1",
            3, p);
}

static void event_finish(const char *uuid, const char *event, const char *result) {
    const char *p[] = {uuid, event, result};
    db_exec("UPDATE instance_actions_events SET finish_time = now(), result = $3 "
            "WHERE finish_time IS NULL AND event = $2 AND action_id = (SELECT id FROM "
            "instance_actions WHERE instance_uuid = $1 AND action = 'create' "
            "ORDER BY id DESC LIMIT 1)",
            3, p);
    if (!strcmp(result, "Error"))
        db_exec("UPDATE instance_actions SET message = 'Error', updated_at = now() "
                "WHERE instance_uuid = $1 AND action = 'create'",
                1, p);
}

static void add_fault(const char *uuid, const char *message, const char *details,
                      const char *host) {
    const char *p[] = {uuid, message, details, host};
    if (db_exec("INSERT INTO instance_faults (instance_uuid, code, message, details, host) "
                "VALUES ($1, 500, $2, $3, $4)",
                4, p) != DB_OK)
        log_error("fault of %s not recorded: %s", uuid, db_errmsg());
}

/* vm_state ERROR, task_state NULL, no host, claim given back, and a fault
 * (Nova's message, e.g. "No valid host was found. ..."). An instance that is
 * being deleted meanwhile is left to the delete. */
static void fail_build(const char *uuid, const char *message, const char *details) {
    const char *p[] = {uuid};
    for (int attempt = 0; attempt < 3; attempt++) {
        if (db_begin() != DB_OK) return;
        PGresult *r = NULL;
        if (db_query(&r,
                     "UPDATE instances SET vm_state = 'error', task_state = NULL, host = NULL, "
                     "node = NULL, updated_at = now() WHERE uuid = $1 AND deleted = 0 AND "
                     "vm_state = 'building' AND task_state IS DISTINCT FROM 'deleting' "
                     "RETURNING id",
                     1, p) != DB_OK) {
            db_rollback();
            continue;
        }
        int n = PQntuples(r);
        PQclear(r);
        if (n == 0) {
            db_rollback();
            return;
        }
        conductor_release_claim(uuid, NULL);
        add_fault(uuid, message, details, NULL);
        event_finish(uuid, BUILD_EVENT, "Error");
        char pub[300];
        notify_publisher(pub, sizeof pub, "nova-conductor", NULL);
        json_t *f = json_pack("{s:s, s:s}", "message", message, "exception", "NoValidHost");
        notify_instance(uuid, "instance.create.error", "InstanceCreatePayload",
                        "compute.instance.create.error", "ERROR", pub, f);
        json_decref(f);
        notify_instance_update(uuid, "building", NULL, pub);
        if (db_commit() == DB_OK) {
            log_warn("instance %s: ERROR: %s", uuid, message);
            return;
        }
    }
    log_error("instance %s: could not record its failure: %s", uuid, db_errmsg());
}

/* The server group of the request, if any (scheduler_hints.group). */
static const char *group_of(json_t *spec) {
    const char *g = json_string_value(json_object_get(spec, "group_uuid"));
    if (!g)
        g = json_string_value(json_object_get(json_object_get(spec, "scheduler_hints"), "group"));
    return g && uuid_valid(g) ? g : NULL;
}

/* Late check of the group's policy with the group row locked, so that two
 * members scheduled at once cannot both land against the policy (Nova does
 * this check on the compute host and reschedules). Returns 1 on conflict. */
static int group_conflict(const char *group, const char *uuid, const char *host) {
    PGresult *r = NULL;
    const char *p[] = {group};
    if (db_query(&r,
                 "SELECT policy, coalesce((rules->>'max_server_per_host')::int, 1) "
                 "FROM server_groups WHERE uuid = $1 AND deleted = 0 FOR UPDATE",
                 1, p) != DB_OK ||
        PQntuples(r) == 0) {
        PQclear(r);
        return 0;
    }
    char policy[32];
    snprintf(policy, sizeof policy, "%s", db_str(r, 0, 0));
    long long max = db_int(r, 0, 1);
    PQclear(r);
    int anti = !strcmp(policy, "anti-affinity"), aff = !strcmp(policy, "affinity");
    if (!anti && !aff) return 0;
    const char *q[] = {group, uuid, host};
    if (db_query(&r,
                 "SELECT count(*) FILTER (WHERE i.host = $3), "
                 "count(*) FILTER (WHERE i.host <> $3) FROM server_group_members m "
                 "JOIN instances i ON i.uuid = m.instance_uuid AND i.deleted = 0 "
                 "WHERE m.group_uuid = $1 AND m.deleted = 0 AND i.uuid <> $2",
                 3, q) != DB_OK) {
        PQclear(r);
        return 0;
    }
    long long same = db_int(r, 0, 0), other = db_int(r, 0, 1);
    PQclear(r);
    return anti ? same >= max : other > 0;
}

enum assign_result { ASSIGNED, ASSIGN_LOST, ASSIGN_GROUP, ASSIGN_DB };

/* Records the scheduler's choice in one transaction, on the condition that
 * the instance is still waiting for a host and still holds the claim the
 * scheduler made for us (another conductor may have scheduled it since). */
static enum assign_result assign(const char *uuid, json_t *dest, json_t *spec) {
    const char *host = json_string_value(json_object_get(dest, "host"));
    const char *node = json_string_value(json_object_get(dest, "nodename"));
    const char *az = json_string_value(json_object_get(dest, "availability_zone"));
    char node_id[24];
    snprintf(node_id, sizeof node_id, "%lld",
             json_integer_value(json_object_get(dest, "compute_node_id")));
    const char *group = group_of(spec);
    enum assign_result res = ASSIGN_DB;
    if (db_begin() != DB_OK) goto out;
    if (group && group_conflict(group, uuid, host)) {
        db_rollback();
        res = ASSIGN_GROUP;
        goto out;
    }
    const char *p[] = {uuid, host, node, az, node_id};
    PGresult *r = NULL;
    if (db_query(&r,
                 "UPDATE instances SET host = $2, node = $3, launched_on = $2, "
                 "availability_zone = coalesce(availability_zone, $4), task_state = 'spawning', "
                 "build_attempts = build_attempts + 1, "
                 "build_tried_hosts = array_append(build_tried_hosts, $2), updated_at = now() "
                 "WHERE uuid = $1 AND deleted = 0 AND vm_state = 'building' AND "
                 "task_state = 'scheduling' AND host IS NULL AND claim->>'node_id' = $5 "
                 "RETURNING id",
                 5, p) != DB_OK) {
        db_rollback();
        goto out;
    }
    int n = PQntuples(r);
    PQclear(r);
    if (n == 0) {
        db_rollback();
        res = ASSIGN_LOST;
        goto out;
    }
    event_start(uuid, "conductor_schedule_and_build_instances", NULL);
    event_finish(uuid, "conductor_schedule_and_build_instances", "Success");
    event_start(uuid, BUILD_EVENT, host);
    char pub[300];
    notify_publisher(pub, sizeof pub, "nova-compute", host);
    notify_instance(uuid, "instance.create.start", "InstanceCreatePayload",
                    "compute.instance.create.start", "INFO", pub, NULL);
    notify_instance_update(uuid, "building", "scheduling", pub);
    res = db_commit() == DB_OK ? ASSIGNED : ASSIGN_DB;
out:
    return res;
}

/* Gives back the claim the scheduler made for us when we could not use it
 * (and nobody else has taken it over). */
static void release_own_claim(const char *uuid, json_t *dest) {
    char node_id[24];
    snprintf(node_id, sizeof node_id, "%lld",
             json_integer_value(json_object_get(dest, "compute_node_id")));
    conductor_release_claim(uuid, node_id);
}

/* Counts a host that could not take the instance as a tried one. */
static void count_attempt(const char *uuid, const char *host) {
    const char *p[] = {uuid, host};
    db_exec("UPDATE instances SET build_attempts = build_attempts + 1, "
            "build_tried_hosts = array_append(build_tried_hosts, $2), updated_at = now() "
            "WHERE uuid = $1 AND deleted = 0 AND task_state = 'scheduling' AND host IS NULL",
            2, p);
}

static long long swap_mb(json_t *flavor) {
    json_t *s = json_object_get(flavor, "swap");
    return json_is_integer(s) ? json_integer_value(s)
                              : atoll(json_string_value(s) ? json_string_value(s) : "0");
}

/* What the scheduler needs: the resources to claim, the flavor (extra specs)
 * and the request spec, minus the hosts that already failed it. */
static json_t *select_args(const char *uuid, PGresult *r, json_t *flavor, json_t *spec) {
    int bfv = !*db_str(r, 0, I_IMAGE); /* volume-backed: the root disk is not local */
    long long disk =
        (bfv ? 0 : db_int(r, 0, I_ROOT)) + db_int(r, 0, I_EPH) + (swap_mb(flavor) + 1023) / 1024;
    json_t *tried = json_loads(db_str(r, 0, I_TRIED), 0, NULL);
    json_t *a =
        json_pack("{s:{s:s, s:s, s:I, s:I, s:I, s:O, s:s?}, s:O, s:o}", "instance", "uuid", uuid,
                  "project_id", db_str(r, 0, I_PROJECT), "vcpus", (json_int_t)db_int(r, 0, I_VCPUS),
                  "memory_mb", (json_int_t)db_int(r, 0, I_MEM), "disk_gb", (json_int_t)disk,
                  "flavor", flavor, "availability_zone", db_str(r, 0, I_AZ), "request_spec", spec,
                  "ignore_hosts", tried ? tried : json_array());
    return a;
}

json_t *conductor_guest_image(const char *uuid) {
    json_t *img = conductor_instance_json(
        "SELECT " CONDUCTOR_IMAGE_SQL("system_metadata") "::text FROM instances"
        " WHERE uuid = $1::uuid",
        "image", uuid);
    return img ? img : json_object();
}

/* The message a compute host needs to build the instance: the guest's
 * size, its image (a kernel to boot directly, the disk format), its ports
 * and its metadata document (addresses, config drive). */
static json_t *build_args(const char *uuid, PGresult *r, json_t *flavor) {
    char name[32];
    snprintf(name, sizeof name, "instance-%08llx", db_int(r, 0, I_ID));
    json_t *fname = json_object_get(flavor, "name");
    json_t *doc = conductor_metadata_doc(uuid), *vols = conductor_build_volumes(uuid);
    return json_pack("{s:s, s:I, s:s, s:s, s:s, s:s, s:o, s:I, s:I, s:I, s:I, s:I, s:o, s:o, s:o}",
                     "uuid", uuid,
                     "id", (json_int_t)db_int(r, 0, I_ID), "name", name, "display_name",
                     db_str(r, 0, I_NAME), "flavor_name",
                     json_is_string(fname) ? json_string_value(fname) : "", "image_ref",
                     db_str(r, 0, I_IMAGE), "image", conductor_guest_image(uuid), "vcpus",
                     (json_int_t)db_int(r, 0, I_VCPUS), "memory_mb",
                     (json_int_t)db_int(r, 0, I_MEM), "root_gb", (json_int_t)db_int(r, 0, I_ROOT),
                     "ephemeral_gb", (json_int_t)db_int(r, 0, I_EPH), "swap",
                     (json_int_t)swap_mb(flavor), "nics", conductor_nics(uuid), "metadata",
                     doc ? doc : json_object(), "volumes", vols ? vols : json_array());
}

/* Nova's MaxRetriesExceeded: every host tried has failed the build. */
static void fail_retries(const char *uuid) {
    char msg[256];
    snprintf(msg, sizeof msg,
             "Exceeded maximum number of retries. Exhausted all hosts available for retrying "
             "build failures for instance %s.",
             uuid);
    fail_build(uuid, msg, NULL);
}

static void cast_build(const char *uuid, PGresult *r, json_t *flavor, const char *host) {
    json_t *b = build_args(uuid, r, flavor);
    char topic[300];
    snprintf(topic, sizeof topic, "compute.%s", host);
    if (rpc_cast_later(topic, "build_and_run_instance", b) < 0)
        log_warn("build %s: cast to %s failed (the build timeout re-drives it)", uuid, topic);
    json_decref(b);
}

/* One instance waiting for a host (task_state 'scheduling'): schedule,
 * record, cast to the host. With `recast`, an instance already handed to a
 * host ('spawning': a redelivered message whose conductor died between the
 * commit and the cast) is cast to that host again; builds are idempotent
 * there. Anything else is someone else's business. */
static void process_build(struct conductor *c, const char *uuid, int recast) {
    for (int round = 0; round <= c->max_attempts; round++) {
        PGresult *r = load(uuid);
        if (!r) return;
        if (recast && !strcmp(db_str(r, 0, I_VM), "building") &&
            !strcmp(db_str(r, 0, I_TASK), "spawning") && !db_isnull(r, 0, I_HOST)) {
            json_t *flavor = json_loads(db_str(r, 0, I_FLAVOR), 0, NULL);
            log_info("build %s: already handed to %s, casting again", uuid, db_str(r, 0, I_HOST));
            cast_build(uuid, r, flavor, db_str(r, 0, I_HOST));
            json_decref(flavor);
            PQclear(r);
            return;
        }
        if (strcmp(db_str(r, 0, I_VM), "building") || strcmp(db_str(r, 0, I_TASK), "scheduling") ||
            !db_isnull(r, 0, I_HOST)) {
            PQclear(r);
            return;
        }
        if (db_int(r, 0, I_ATTEMPTS) >= c->max_attempts) {
            PQclear(r);
            fail_retries(uuid);
            return;
        }
        json_t *flavor = json_loads(db_str(r, 0, I_FLAVOR), 0, NULL);
        json_t *spec = json_loads(db_str(r, 0, I_SPEC), 0, NULL);
        if (!json_is_object(spec)) {
            json_decref(spec);
            spec = json_object();
        }
        json_t *args = select_args(uuid, r, flavor, spec);
        const char *err = NULL;
        json_t *dest = rpc_call("scheduler", "select_destinations", args, c->call_timeout_ms, &err);
        json_decref(args);
        const char *host = json_string_value(json_object_get(dest, "host"));
        if (!dest) {
            log_warn("build %s: scheduler: %s (the build timeout re-drives it)", uuid, err);
        } else if (!host && db_int(r, 0, I_ATTEMPTS) > 0) {
            fail_retries(uuid); /* Nova: the alternates are exhausted */
        } else if (!host) {
            const char *reason = json_string_value(json_object_get(dest, "reason"));
            char msg[512];
            snprintf(msg, sizeof msg, NO_VALID_HOST "%s", reason ? reason : "");
            fail_build(uuid, msg, NULL);
        } else {
            switch (assign(uuid, dest, spec)) {
            case ASSIGNED:
                cast_build(uuid, r, flavor, host);
                break;
            case ASSIGN_GROUP:
                log_info("build %s: %s breaks the server group's policy: rescheduling", uuid, host);
                release_own_claim(uuid, dest);
                count_attempt(uuid, host);
                json_decref(dest);
                json_decref(flavor);
                json_decref(spec);
                PQclear(r);
                continue;
            case ASSIGN_LOST: /* deleted or handled meanwhile */
                log_info("build %s: taken over or deleted meanwhile", uuid);
                release_own_claim(uuid, dest);
                break;
            case ASSIGN_DB:
                log_warn("build %s: choice not recorded: %s", uuid, db_errmsg());
                release_own_claim(uuid, dest);
                break;
            }
        }
        json_decref(dest);
        json_decref(flavor);
        json_decref(spec);
        PQclear(r);
        return;
    }
}

/* args {instance_uuids: [...]} from the API's outbox. */
json_t *conductor_build_instances(json_t *args, struct conductor *c) {
    json_t *uuids = json_object_get(args, "instance_uuids");
    if (!json_is_array(uuids)) return rpc_failure("build_instances needs instance_uuids");
    size_t i;
    json_t *u;
    json_array_foreach(uuids, i, u) {
        const char *uuid = json_string_value(u);
        if (uuid && uuid_valid(uuid)) process_build(c, uuid, 1);
    }
    return json_true();
}

json_t *conductor_instance_spawning(json_t *args, struct conductor *c) {
    const char *uuid = json_string_value(json_object_get(args, "uuid"));
    const char *host = json_string_value(json_object_get(args, "host"));
    if (!uuid || !uuid_valid(uuid) || !host)
        return rpc_failure("instance_spawning needs uuid, host");
    const char *p[] = {uuid, host};
    if (db_exec("UPDATE instances SET updated_at = now() WHERE uuid = $1 AND host = $2 AND "
                "deleted = 0 AND vm_state = 'building' AND task_state = 'spawning'",
                2, p) != DB_OK)
        return rpc_failure("database: %s", db_errmsg());
    return json_true();
}

/* args {uuid, host, ok, power_state | fault} from the compute host. */
json_t *conductor_instance_built(json_t *args, struct conductor *c) {
    const char *uuid = json_string_value(json_object_get(args, "uuid"));
    const char *host = json_string_value(json_object_get(args, "host"));
    if (!uuid || !uuid_valid(uuid) || !host) return rpc_failure("instance_built needs uuid, host");
    int ok = json_is_true(json_object_get(args, "ok"));
    char ps[12];
    snprintf(ps, sizeof ps, "%lld", json_integer_value(json_object_get(args, "power_state")));
    const char *p[] = {uuid, host, ps};
    if (db_begin() != DB_OK) return rpc_failure("database unavailable");
    PGresult *r = NULL;
    enum db_status st;
    if (ok)
        st = db_query(&r,
                      "UPDATE instances SET vm_state = 'active', task_state = NULL, "
                      "power_state = $3::int, launched_at = now(), updated_at = now(), "
                      "addresses = instance_addresses(uuid) " /* its ports (017_networks) */
                      "WHERE uuid = $1 AND host = $2 AND deleted = 0 AND "
                      "vm_state = 'building' AND task_state = 'spawning' RETURNING id",
                      3, p);
    else
        st = db_query(&r,
                      "UPDATE instances SET host = NULL, node = NULL, task_state = 'scheduling', "
                      "updated_at = now() WHERE uuid = $1 AND host = $2 AND deleted = 0 AND "
                      "vm_state = 'building' AND task_state = 'spawning' RETURNING id",
                      2, p);
    if (st != DB_OK) {
        db_rollback();
        return rpc_failure("database: %s", db_errmsg());
    }
    int n = PQntuples(r);
    PQclear(r);
    if (n == 1) {
        if (!ok) {
            conductor_release_claim(uuid, NULL);
            const char *fault = json_string_value(json_object_get(args, "fault"));
            add_fault(uuid, fault ? fault : "Build failed", NULL, host);
        }
        event_finish(uuid, BUILD_EVENT, ok ? "Success" : "Error");
        if (ok) {
            char pub[300];
            notify_publisher(pub, sizeof pub, "nova-compute", host);
            notify_instance_update(uuid, "building", "spawning", pub);
            notify_instance(uuid, "instance.create.end", "InstanceCreatePayload",
                            "compute.instance.create.end", "INFO", pub, NULL);
        }
    }
    if (db_commit() != DB_OK) return rpc_failure("database: %s", db_errmsg());
    if (n == 1) {
        if (!ok) {
            log_warn("build %s failed on %s: rescheduling", uuid, host);
            process_build(c, uuid, 0);
        }
        return json_true();
    }
    /* Not ours any more (rescheduled after a timeout, or deleted): make sure
     * the host does not keep a guest nobody knows about. */
    const char *q[] = {uuid};
    if (db_query(&r, "SELECT host FROM instances WHERE uuid = $1 AND deleted = 0", 1, q) == DB_OK) {
        const char *now_host = PQntuples(r) ? db_str(r, 0, 0) : NULL;
        if (!now_host || strcmp(now_host, host)) {
            char topic[300];
            snprintf(topic, sizeof topic, "compute.%s", host);
            json_t *a = json_pack("{s:s}", "uuid", uuid);
            rpc_cast(topic, "terminate_instance", a);
            json_decref(a);
        }
        PQclear(r);
    }
    return json_false();
}

/* An instance whose host did not answer within the build timeout: the
 * claim goes back and the build is tried elsewhere (or fails). */
static void build_timed_out(struct conductor *c, const char *uuid, const char *host) {
    const char *p[] = {uuid, host};
    if (db_begin() != DB_OK) return;
    PGresult *r = NULL;
    if (db_query(&r,
                 "UPDATE instances SET host = NULL, node = NULL, task_state = 'scheduling', "
                 "updated_at = now() WHERE uuid = $1 AND host = $2 AND deleted = 0 AND "
                 "vm_state = 'building' AND task_state = 'spawning' RETURNING id",
                 2, p) != DB_OK) {
        db_rollback();
        return;
    }
    int n = PQntuples(r);
    PQclear(r);
    if (n) {
        conductor_release_claim(uuid, NULL);
        char msg[300];
        snprintf(msg, sizeof msg, "Build of instance %s timed out on host %s", uuid, host);
        add_fault(uuid, msg, NULL, host);
        event_finish(uuid, BUILD_EVENT, "Error");
    }
    if (db_commit() == DB_OK && n) {
        log_warn("build %s: no answer from %s in %d s: rescheduling", uuid, host, c->build_timeout);
        process_build(c, uuid, 0);
    }
}

/* Runs `sql` (instances due for a reaper, $1 = the timeout in seconds, $2
 * = p2 when not NULL;
 * rows taken with SKIP LOCKED and their updated_at touched, so that each
 * goes to exactly one conductor per period) in its own transaction: the
 * rows, or NULL. */
PGresult *conductor_take_due(const char *sql, int timeout_s, const char *p2) {
    char secs[16];
    snprintf(secs, sizeof secs, "%d", timeout_s);
    const char *p[] = {secs, p2};
    if (db_begin() != DB_OK) return NULL;
    PGresult *r = NULL;
    if (db_query(&r, sql, p2 ? 2 : 1, p) != DB_OK || db_commit() != DB_OK) {
        PQclear(r);
        db_rollback();
        return NULL;
    }
    return r;
}

void conductor_reap(struct conductor *c) {
    PGresult *r = conductor_take_due(
        "WITH due AS (SELECT id FROM instances WHERE deleted = 0 AND "
        "(vm_state = 'building' OR task_state = 'deleting') AND "
        "coalesce(updated_at, created_at) < now() - make_interval(secs => $1::int) "
        "ORDER BY coalesce(updated_at, created_at) LIMIT 50 FOR UPDATE SKIP LOCKED) "
        "UPDATE instances i SET updated_at = now() FROM due WHERE i.id = due.id "
        "RETURNING i.uuid, i.host, coalesce(i.task_state, ''), "
        "extract(epoch FROM now() - i.created_at)::int",
        c->build_timeout, NULL);
    if (!r) return;
    for (int i = 0; i < PQntuples(r); i++) {
        const char *uuid = db_str(r, i, 0), *host = db_str(r, i, 1), *task = db_str(r, i, 2);
        long long age = db_int(r, i, 3);
        json_t *a = json_pack("{s:s}", "instance_uuid", uuid);
        if (!strcmp(task, "deleting")) {
            log_warn("delete of %s unfinished after %d s: re-driving", uuid, c->build_timeout);
            json_decref(conductor_delete_instance(a, c));
        } else if (host) {
            build_timed_out(c, uuid, host);
        } else if (age > (long long)c->build_timeout * (c->max_attempts + 1)) {
            fail_build(uuid, "Instance build timed out. Set to error state.", NULL);
        } else {
            log_warn("build %s unscheduled after %d s: re-driving", uuid, c->build_timeout);
            process_build(c, uuid, 0);
        }
        json_decref(a);
    }
    PQclear(r);
}
