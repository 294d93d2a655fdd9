/* lifecycle.c — the conductor's side of shelve, unshelve and snapshots
 * beyond the simple forward-and-settle of actions.c: unshelving an
 * offloaded instance goes through the scheduler again (a new host and
 * claim), and the after-hooks settle what the actions leave besides the
 * instance's state — the snapshot image in the registry, the shelved
 * system metadata, the immediate offload when [DEFAULT]
 * shelved_offload_time = 0, the host and claim an offloaded instance gives
 * up — inside the transaction that settles the instance. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cnova.h"
#include "conductor.h"
#include "image_client.h"

static const char *ctx_str(json_t *args, const char *key) {
    return json_string_value(json_object_get(json_object_get(args, "ctx"), key));
}

/* The image deleted in the registry only (its data, if any, stays). */
static int registry_delete(const char *image_id) {
    const char *p[] = {image_id};
    if (db_exec("UPDATE images SET status = 'deleted', deleted = true, deleted_at = now(),"
                " updated_at = now() WHERE id = $1::uuid AND NOT deleted",
                1, p) == DB_OK)
        return 0;
    log_error("image %s not deleted: %s", image_id, db_errmsg());
    return -1;
}

int conductor_image_delete(const char *image_id) {
    if (!image_id || !uuid_valid(image_id)) return 0;
    /* through the image service, as Nova asks Glance: its data goes too */
    struct image_call c = {.method = "DELETE", .image_id = image_id, .suffix = ""};
    if (image_call(&c) == 0) return 0;
    log_warn("image %s: deleted in the registry only (any data it had stays)", image_id);
    return registry_delete(image_id);
}

/* The snapshot image after the upload: active (a real host has uploaded
 * its data, size and format; a simulated one none: then sized as the disk
 * it was taken from, qcow2/bare), or deleted as Nova deletes the image of a
 * failed snapshot. */
static void image_settle(const char *image_id, bool ok) {
    if (!image_id || !uuid_valid(image_id)) return;
    if (!ok) { /* the failed snapshot's data never came: the registry only */
        registry_delete(image_id);
        return;
    }
    const char *p[] = {image_id};
    if (db_exec("UPDATE images i SET status = 'active', updated_at = now(),"
                " disk_format = COALESCE(i.disk_format, 'qcow2'),"
                " container_format = COALESCE(i.container_format, 'bare'),"
                " size = COALESCE(i.size, (SELECT b.size FROM image_properties p JOIN images b"
                "  ON b.id::text = p.value WHERE p.image_id = i.id"
                "  AND p.key = 'base_image_ref'), 0)"
                " WHERE i.id = $1::uuid AND NOT i.deleted",
                1, p) != DB_OK)
        log_error("image %s not settled: %s", image_id, db_errmsg());
}

static void after_snapshot(const char *uuid, const char *host, bool ok, json_t *args) {
    (void)host;
    const char *image_id = ctx_str(args, "image_id");
    image_settle(image_id, ok);
    const char *type = ctx_str(args, "backup_type");
    json_t *rot = json_object_get(json_object_get(args, "ctx"), "rotation");
    if (!ok || !type || !json_is_integer(rot)) return;
    /* Nova's _rotate_backups: keep the newest `rotation` backups of this
     * type of this instance, delete the rest (rotation 0: all of them) */
    char rotation[24];
    snprintf(rotation, sizeof rotation, "%lld", json_integer_value(rot));
    const char *p[] = {uuid, type, rotation};
    PGresult *r = NULL;
    if (db_query(&r,
                 "SELECT i.id FROM images i"
                 " JOIN image_properties a ON a.image_id = i.id AND a.key = 'instance_uuid'"
                 "  AND a.value = $1"
                 " JOIN image_properties b ON b.image_id = i.id AND b.key = 'backup_type'"
                 "  AND b.value = $2"
                 " JOIN image_properties t ON t.image_id = i.id AND t.key = 'image_type'"
                 "  AND t.value = 'backup'"
                 " WHERE NOT i.deleted ORDER BY i.created_at DESC, i.id DESC OFFSET $3::int",
                 3, p) != DB_OK) {
        log_error("backups of %s not rotated: %s", uuid, db_errmsg());
        return;
    }
    for (int i = 0; i < PQntuples(r); i++) {
        const char *id = db_str(r, i, 0);
        /* the new backup's row is this transaction's (image_settle): the
         * image service would wait for it, so it goes in the registry */
        if (image_id && !strcmp(id, image_id))
            image_settle(id, false);
        else
            conductor_image_delete(id);
    }
    PQclear(r);
}

static void after_shelve(const char *uuid, const char *host, bool ok, json_t *args) {
    const char *image_id = ctx_str(args, "image_id");
    image_settle(image_id, ok);
    if (!ok) return;
    bool offload = config_int("DEFAULT", "shelved_offload_time", 0) == 0;
    const char *p[] = {uuid, image_id ? image_id : "", host, offload ? "true" : "false"};
    if (db_exec("UPDATE instances SET system_metadata = system_metadata || jsonb_build_object("
                " 'shelved_at', to_char(now() AT TIME ZONE 'UTC',"
                "  'YYYY-MM-DD\"T\"HH24:MI:SS.US'), 'shelved_image_id', $2::text,"
                " 'shelved_host', $3::text),"
                " task_state = CASE WHEN $4::bool THEN 'shelving_offloading' END"
                " WHERE uuid = $1::uuid AND deleted = 0",
                4, p) != DB_OK) {
        log_error("shelve of %s: metadata not recorded: %s", uuid, db_errmsg());
        return;
    }
    if (!offload) return;
    /* shelved_offload_time = 0: offload at once (the host is still ours) */
    char topic[300];
    snprintf(topic, sizeof topic, "compute.%s", host);
    json_t *a = json_pack("{s:s, s:s}", "uuid", uuid, "op", "shelve_offload_instance");
    if (outbox_add(topic, "shelve_offload_instance", a) < 0)
        log_error("shelve of %s: offload not queued", uuid);
    json_decref(a);
}

/* The instance leaves its host: no host or node, the claim given back. */
static void leave_host(const char *uuid) {
    const char *p[] = {uuid};
    if (db_exec("UPDATE instances SET host = NULL, node = NULL, updated_at = now()"
                " WHERE uuid = $1::uuid AND deleted = 0",
                1, p) != DB_OK)
        log_error("instance %s: host not cleared: %s", uuid, db_errmsg());
    conductor_release_claim(uuid, NULL);
}

static void after_shelve_offload(const char *uuid, const char *host, bool ok, json_t *args) {
    (void)host, (void)args;
    if (ok) leave_host(uuid);
}

static void after_unshelve(const char *uuid, const char *host, bool ok, json_t *args) {
    (void)host, (void)args;
    const char *p[] = {uuid};
    if (!ok) {
        /* a failed spawn on the host the scheduler gave: offloaded again */
        PGresult *r = NULL;
        if (db_query(&r,
                     "SELECT 1 FROM instances WHERE uuid = $1::uuid AND deleted = 0"
                     " AND vm_state = 'shelved_offloaded'",
                     1, p) == DB_OK &&
            PQntuples(r))
            leave_host(uuid);
        PQclear(r);
        return;
    }
    /* Nova deletes the shelved snapshot once the server runs again */
    PGresult *r = NULL;
    if (db_query(&r,
                 "WITH o AS (SELECT id, system_metadata->>'shelved_image_id' AS image_id"
                 "  FROM instances WHERE uuid = $1::uuid AND deleted = 0 FOR UPDATE)"
                 " UPDATE instances i SET system_metadata = i.system_metadata - 'shelved_at'"
                 " - 'shelved_image_id' - 'shelved_host' FROM o WHERE i.id = o.id"
                 " RETURNING o.image_id",
                 1, p) != DB_OK) {
        log_error("unshelve of %s: shelved metadata not cleared: %s", uuid, db_errmsg());
        return;
    }
    if (PQntuples(r) && !db_isnull(r, 0, 0)) conductor_image_delete(db_str(r, 0, 0));
    PQclear(r);
}

conductor_after_fn conductor_after(const char *method) {
    static const struct {
        const char *method;
        conductor_after_fn fn;
    } hooks[] = {
        {"shelve_instance", after_shelve},     {"shelve_offload_instance", after_shelve_offload},
        {"unshelve_instance", after_unshelve}, {"snapshot_instance", after_snapshot},
        {"backup_instance", after_snapshot},
    };
    for (size_t i = 0; method && i < sizeof hooks / sizeof hooks[0]; i++)
        if (!strcmp(hooks[i].method, method)) return hooks[i].fn;
    return NULL;
}

enum {
    U_ID,
    U_HOST,
    U_NAME,
    U_FLAVOR,
    U_IMAGE, /* the shelved snapshot when there is one (Nova boots from it) */
    U_VCPUS,
    U_MEM,
    U_ROOT,
    U_EPH,
    U_SPEC,
    U_PROJECT,
    U_FORMAT /* that snapshot's disk format, "" when none */
};

/* Not placed: the task is given up and the instance stays offloaded
 * (Nova: "No valid host found for unshelve instance"). */
static json_t *unshelve_no_host(const char *uuid, const char *why) {
    const char *p[] = {uuid};
    db_exec("UPDATE instances SET task_state = NULL, updated_at = now() WHERE uuid = $1::uuid"
            " AND deleted = 0 AND task_state = 'unshelving' AND host IS NULL",
            1, p);
    log_warn("unshelve of %s: %s", uuid, why);
    return json_false();
}

/* Asks the scheduler for a host (it claims the resources) and records it
 * while the instance still waits, unplaced, with our claim. */
static int place(struct conductor *c, const char *uuid, PGresult *r, json_t *flavor,
                 const char *requested_host) {
    json_t *spec = json_loads(db_str(r, 0, U_SPEC), 0, NULL);
    if (!json_is_object(spec)) {
        json_decref(spec);
        spec = json_object();
    }
    json_object_del(spec, "force_host");
    json_object_del(spec, "force_node");
    if (requested_host) json_object_set_new(spec, "requested_host", json_string(requested_host));
    bool bfv = !*db_str(r, 0, U_IMAGE);
    json_t *s = json_object_get(flavor, "swap");
    long long swap = json_is_integer(s) ? json_integer_value(s)
                                        : atoll(json_string_value(s) ? json_string_value(s) : "0");
    long long disk = (bfv ? 0 : db_int(r, 0, U_ROOT)) + db_int(r, 0, U_EPH) + (swap + 1023) / 1024;
    json_t *a =
        json_pack("{s:{s:s, s:s, s:I, s:I, s:I, s:O}, s:o, s:[]}", "instance", "uuid", uuid,
                  "project_id", db_str(r, 0, U_PROJECT), "vcpus", (json_int_t)db_int(r, 0, U_VCPUS),
                  "memory_mb", (json_int_t)db_int(r, 0, U_MEM), "disk_gb", (json_int_t)disk,
                  "flavor", flavor, "request_spec", spec, "ignore_hosts");
    const char *err = NULL;
    json_t *dest = rpc_call("scheduler", "select_destinations", a, c->call_timeout_ms, &err);
    json_decref(a);
    const char *host = json_string_value(json_object_get(dest, "host"));
    if (!host) {
        unshelve_no_host(uuid, dest ? "No valid host was found." : err ? err : "scheduler");
        json_decref(dest);
        return -1;
    }
    char node_id[24];
    snprintf(node_id, sizeof node_id, "%lld",
             json_integer_value(json_object_get(dest, "compute_node_id")));
    const char *p[] = {uuid, host, json_string_value(json_object_get(dest, "nodename")),
                       json_string_value(json_object_get(dest, "availability_zone")), node_id};
    PGresult *u = NULL;
    int n = 0;
    if (db_query(&u,
                 "UPDATE instances SET host = $2, node = $3, availability_zone = $4,"
                 " updated_at = now() WHERE uuid = $1::uuid AND deleted = 0"
                 " AND vm_state = 'shelved_offloaded' AND task_state = 'unshelving'"
                 " AND host IS NULL AND claim->>'node_id' = $5 RETURNING id",
                 5, p) == DB_OK)
        n = PQntuples(u);
    PQclear(u);
    if (!n)
        conductor_release_claim(uuid, node_id);
    else
        log_info("unshelve of %s: placed on %s", uuid, host);
    json_decref(dest);
    return n ? 0 : -1;
}

/* args {instance_uuid, requested_host?} from the API (task 'unshelving'). */
json_t *conductor_unshelve_instance(json_t *args, struct conductor *c) {
    const char *uuid = json_string_value(json_object_get(args, "instance_uuid"));
    if (!uuid || !uuid_valid(uuid)) return rpc_failure("unshelve_instance needs instance_uuid");
    const char *p[] = {uuid};
    PGresult *r = NULL;
    if (db_query(&r,
                 "SELECT id, host, COALESCE(display_name, ''), flavor::text,"
                 " COALESCE(NULLIF(system_metadata->>'shelved_image_id', ''), image_ref, ''),"
                 " vcpus, memory_mb, root_gb, ephemeral_gb, request_spec::text, project_id,"
                 " COALESCE((SELECT m.disk_format FROM images m"
                 "  WHERE m.id::text = system_metadata->>'shelved_image_id'), '') FROM instances"
                 " WHERE uuid = $1::uuid AND deleted = 0 AND task_state = 'unshelving'",
                 1, p) != DB_OK)
        return rpc_failure("database: %s", db_errmsg());
    if (!PQntuples(r)) {
        PQclear(r);
        return json_false();
    }
    json_t *flavor = json_loads(db_str(r, 0, U_FLAVOR), 0, NULL);
    if (!json_is_object(flavor)) {
        json_decref(flavor);
        flavor = json_object();
    }
    json_t *res = NULL;
    if (db_isnull(r, 0, U_HOST) &&
        place(c, uuid, r, flavor, json_string_value(json_object_get(args, "requested_host"))) < 0)
        res = json_false();
    if (!res) {
        /* what the host needs to define the guest again (as a build) */
        char name[32];
        snprintf(name, sizeof name, "instance-%08llx", db_int(r, 0, U_ID));
        json_t *fname = json_object_get(flavor, "name");
        json_t *s = json_object_get(flavor, "swap");
        json_t *a =
            json_pack("{s:s, s:s, s:s, s:s, s:s, s:o, s:I, s:I, s:I, s:I, s:I, s:o}",
                      "instance_uuid", uuid, "name", name, "display_name", db_str(r, 0, U_NAME),
                      "flavor_name", json_is_string(fname) ? json_string_value(fname) : "",
                      "image_ref", db_str(r, 0, U_IMAGE), "image", conductor_guest_image(uuid),
                      "vcpus", (json_int_t)db_int(r, 0, U_VCPUS), "memory_mb",
                      (json_int_t)db_int(r, 0, U_MEM), "root_gb", (json_int_t)db_int(r, 0, U_ROOT),
                      "ephemeral_gb", (json_int_t)db_int(r, 0, U_EPH), "swap",
                      (json_int_t)(json_is_integer(s)
                                       ? json_integer_value(s)
                                       : atoll(json_string_value(s) ? json_string_value(s) : "0")),
                      "nics", conductor_nics(uuid));
        if (*db_str(r, 0, U_FORMAT)) /* the snapshot's bytes are its own format */
            json_object_set_new(json_object_get(a, "image"), "disk_format",
                                json_string(db_str(r, 0, U_FORMAT)));
        res = conductor_forward("unshelve_instance", a);
        json_decref(a);
    }
    json_decref(flavor);
    PQclear(r);
    return res;
}

void conductor_poll_shelved(void) {
    static double next;
    long offload = config_int("DEFAULT", "shelved_offload_time", 0);
    double now = now_ms();
    if (offload <= 0 || now < next) return;
    next = now + (double)config_int("DEFAULT", "shelved_poll_interval", 3600) * 1000;
    char secs[24];
    snprintf(secs, sizeof secs, "%ld", offload);
    const char *p[] = {secs};
    if (db_begin() != DB_OK) return;
    PGresult *r = NULL;
    /* claimed by the conditional UPDATE: several conductors never both
     * offload one instance */
    if (db_query(&r,
                 "UPDATE instances SET task_state = 'shelving_offloading', updated_at = now()"
                 " WHERE deleted = 0 AND vm_state = 'shelved' AND task_state IS NULL"
                 " AND host IS NOT NULL AND (system_metadata->>'shelved_at')::timestamp"
                 "  < (now() AT TIME ZONE 'UTC') - make_interval(secs => $1::int)"
                 " RETURNING uuid, host",
                 1, p) != DB_OK) {
        db_rollback();
        return;
    }
    int ok = 1;
    for (int i = 0; ok && i < PQntuples(r); i++) {
        char topic[300];
        snprintf(topic, sizeof topic, "compute.%s", db_str(r, i, 1));
        json_t *a =
            json_pack("{s:s, s:s}", "uuid", db_str(r, i, 0), "op", "shelve_offload_instance");
        ok = outbox_add(topic, "shelve_offload_instance", a) >= 0;
        json_decref(a);
        if (ok) log_info("offloading %s: shelved longer than %s s", db_str(r, i, 0), secs);
    }
    PQclear(r);
    if (!ok || db_commit() != DB_OK) db_rollback();
}
