/* server_lifecycle.c — the server actions that change what a server is
 * rather than its power: restore / forceDelete (os-deferred-delete), shelve,
 * shelveOffload, unshelve, rescue, unrescue, createImage and createBackup.
 * Each checks Nova's lock and state rules, moves the instance into its task
 * (states.c), records the instance action, writes what it creates (the
 * snapshot image row) and casts the work to the conductor, all in one
 * transaction; the conductor and the host finish it. */
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "servers.h"

/* Image properties a snapshot never inherits from the base image (Nova's
 * NON_INHERITABLE_IMAGE_PROPERTIES plus [DEFAULT]
 * non_inheritable_image_properties' defaults). */
#define NON_INHERITABLE                                                                            \
    "{img_signature,img_signature_hash_method,img_signature_key_type,"                             \
    "img_signature_certificate_uuid,cinder_encryption_key_id,"                                     \
    "cinder_encryption_key_deletion_policy,cache_in_nova,bittorrent}"

/* One transition: the state rule, the names Nova uses, the conductor
 * method, and optional work inside the same transaction. */
struct lc {
    struct req *r;
    const struct instance_ref *inst;
    const char *rule;            /* states.c rule */
    const char *api_name;        /* the action named in Nova's 409 message */
    const char *record;          /* instance action recorded; NULL = none */
    const char *method;          /* conductor method; NULL = no cast */
    json_t *args;                /* outbox args (caller owns), instance_uuid added */
    int (*in_txn)(struct lc *l); /* 0 or the HTTP error already set */
    const void *ud;
    int rc;
};

static enum db_status lc_txn(void *arg) {
    struct lc *l = arg;
    struct req *r = l->r;
    const char *uuid = l->inst->uuid;
    enum db_status st = instance_apply_state(r, uuid, l->rule, l->api_name, &l->rc);
    if (st) return st;
    if (l->in_txn && (l->rc = l->in_txn(l))) return DB_ERROR;
    if (l->record && (l->rc = instance_action_start(r, uuid, l->record))) return DB_ERROR;
    if (!l->method) return DB_OK;
    json_object_set_new(l->args, "instance_uuid", json_string(uuid));
    return outbox_add("conductor", l->method, l->args) < 0 ? DB_ERROR : DB_OK;
}

/* Runs the transition; 0 or the HTTP error (already set on r). */
static int lc_run(struct lc *l) {
    json_t *own = NULL;
    if (!l->args) l->args = own = json_object();
    enum db_status st = db_txn(lc_txn, l);
    json_decref(own);
    if (l->rc) return l->rc;
    if (st) return api_db_error(l->r, st);
    outbox_flush();
    return 0;
}

/* The server of the request and Nova's check_instance_lock (admins pass).
 * lock_fmt: the 409 message for a locked server ("%s" = its uuid); NULL
 * when the action does not check the lock (snapshots and backups). */
static int lc_find(struct req *r, struct instance_ref *inst, const char *lock_fmt) {
    int rc = instance_find(r, req_param(r, "id"), inst);
    if (rc) return rc;
    if (lock_fmt && inst->locked && !r->ctx.is_admin)
        return api_error(r, 409, lock_fmt, inst->uuid);
    return 0;
}

#define LOCKED "Instance %s is locked"

/* Volume-backed: booted from a volume (no image_ref). -1 on a db error. */
static int volume_backed(struct req *r, const char *uuid) {
    const char *p[] = {uuid};
    PGresult *res;
    enum db_status st = db_query(
        &res, "SELECT COALESCE(image_ref, '') = '' FROM instances WHERE uuid = $1::uuid", 1, p);
    if (st) {
        api_db_error(r, st);
        return -1;
    }
    int bfv = PQntuples(res) && db_bool(res, 0, 0);
    PQclear(res);
    return bfv;
}

/* Nova's check_instance_state ahead of the checks an action makes after
 * it (zones, images, the root disk): the state rule's vm_state and task
 * against what instance_find read; 0 or the 409. lc_run checks again, in
 * the transaction, against a concurrent change. */
static int state_precheck(struct req *r, const struct instance_ref *inst, const char *rule,
                          const char *api_name) {
    const struct state_rule *sr = states_rule(rule);
    bool vm_ok = !sr || !sr->vm_states, task_ok = !sr || !sr->task_states;
    for (const char *const *v = vm_ok ? NULL : sr->vm_states; v && *v; v++)
        vm_ok = vm_ok || !strcmp(*v, inst->vm_state);
    for (const char *const *t = task_ok ? NULL : sr->task_states; t && *t; t++)
        task_ok = task_ok || !strcmp(*t, inst->task_state);
    if (vm_ok && task_ok) return 0;
    return api_error(r, 409, "Cannot '%s' instance %s while it is in %s %s", api_name, inst->uuid,
                     vm_ok ? "task_state" : "vm_state", vm_ok ? inst->task_state : inst->vm_state);
}

/* Nova's common.normalize_name: the name without surrounding blanks. */
static void normalize_name(const char *s, char *out, size_t len) {
    while (*s == ' ' || (*s >= '\t' && *s <= '\r'))
        s++;
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || (s[n - 1] >= '\t' && s[n - 1] <= '\r')))
        n--;
    snprintf(out, len, "%.*s", (int)n, s);
}

/* ---- the snapshot image (compute_utils.create_image) ---- */

struct image_new {
    char id[37];
    char name[300];   /* a shelved image: the server's name + "-shelved" */
    const char *type; /* "snapshot" or "backup" */
    json_t *props;    /* extra properties (strings), borrowed */
};

/* Inserts the image row ('queued': SAVING until the host has uploaded it),
 * owned by the caller's project (shared when that is not the server's).
 * As Nova's initialize_instance_snapshot_metadata, what the snapshot
 * inherits comes from the instance's system metadata (the image_* keys
 * recorded at boot, so a base image deleted since does not matter), not
 * from the live base image: its properties minus the non-inheritable ones,
 * base_image_ref being the server's own image; min_disk/min_ram as Nova
 * derives them; then instance_uuid, user_id, image_type and the caller's
 * extra properties, which win. Each key comes once, whatever the depth of
 * a snapshot chain. */
static int image_insert(struct lc *l, const struct image_new *im) {
    struct req *r = l->r;
    bool own = !strcmp(r->ctx.project_id, l->inst->project_id);
    json_t *props = json_pack("{s:s, s:s, s:s}", "instance_uuid", l->inst->uuid, "user_id",
                              r->ctx.user_id, "image_type", im->type);
    if (!own) json_object_set_new(props, "instance_owner", json_string(l->inst->project_id));
    if (im->props) json_object_update(props, im->props);
    char *pj = json_dumps(props, JSON_COMPACT);
    json_decref(props);
    const char *p[] = {
        im->id,   im->name, own ? "private" : "shared", r->ctx.project_id, l->inst->uuid,
        im->type, pj};
    enum db_status st = db_exec(
        "WITH i AS (SELECT root_gb, COALESCE(system_metadata, '{}') AS sm FROM instances"
        "  WHERE uuid = $5::uuid),"
        " n AS (INSERT INTO images (id, name, status, visibility, owner, min_disk, min_ram,"
        "  disk_format, container_format, created_at, updated_at)"
        "  SELECT $1::uuid, $2, 'queued', $3, $4,"
        "   GREATEST(CASE WHEN sm->>'image_min_disk' ~ '^[0-9]{1,9}$'"
        "    THEN (sm->>'image_min_disk')::int ELSE 0 END, root_gb),"
        "   CASE WHEN sm->>'image_min_ram' ~ '^[0-9]{1,9}$'"
        "    THEN (sm->>'image_min_ram')::int ELSE 0 END,"
        "   CASE WHEN $6 = 'backup' THEN sm->>'image_disk_format' END,"
        "   CASE WHEN $6 = 'backup' THEN sm->>'image_container_format' END, now(), now()"
        "  FROM i RETURNING id)"
        " INSERT INTO image_properties (image_id, key, value)"
        " SELECT n.id, kv.k, kv.v FROM n, (SELECT substr(e.key, 7) AS k, e.value AS v"
        "   FROM i, jsonb_each_text(i.sm) e WHERE e.key LIKE 'image\\_%' AND e.value IS NOT NULL"
        "   AND substr(e.key, 7) <> ALL ('{min_ram,min_disk,disk_format,container_format}'::text[]"
        "    || '" NON_INHERITABLE "'::text[])"
        "   AND substr(e.key, 7) NOT LIKE 'os\\_glance%'"
        "   AND NOT (e.key = 'image_base_image_ref' AND e.value = '')"
        "   AND NOT ($7::jsonb ? substr(e.key, 7))"
        "  UNION ALL SELECT key, value FROM jsonb_each_text($7::jsonb)) kv",
        7, p);
    free(pj);
    /* a duplicate key here is our bug, never the client's conflict */
    if (st == DB_CONFLICT) st = DB_ERROR;
    return st ? api_db_error(r, st) : 0;
}

static int snapshot_in_txn(struct lc *l) {
    return image_insert(l, l->ud);
}

/* The image's URL for the Location header (before 2.45). */
static void image_location(struct req *r, const char *id) {
    char path[80];
    snprintf(path, sizeof path, "/images/%s", id);
    json_t *links = resource_links(r, path);
    api_header(r, "Location", json_string_value(json_object_get(json_array_get(links, 0), "href")));
    json_decref(links);
}

/* Before 2.39 the image metadata counts against the metadata_items quota. */
static int check_image_metadata_quota(struct req *r, json_t *metadata) {
    if (req_ver_ge(r, MV(2, 39)) || !json_object_size(metadata)) return 0;
    long limits[QUOTA_MAX];
    enum db_status st = quota_limits(r->ctx.project_id, NULL, NULL, limits);
    if (st) return api_db_error(r, st);
    for (size_t i = 0; i < nquota_resources; i++)
        if (!strcmp(quota_resources[i].name, "metadata_items") && limits[i] >= 0 &&
            (long)json_object_size(metadata) > limits[i])
            return api_error(r, 403, "Image metadata limit exceeded");
    return 0;
}

/* 202 with {"image_id"} from 2.45, else the Location header (when asked). */
static int image_reply(struct req *r, const char *id, bool location) {
    if (req_ver_ge(r, MV(2, 45))) return api_reply(r, 202, json_pack("{s:s}", "image_id", id));
    if (location) image_location(r, id);
    return api_reply(r, 202, NULL);
}

/* ---- os-deferred-delete ---- */

/* No host to power it on: ACTIVE at once, as Nova does. */
static int restore_here(struct lc *l) {
    const char *p[] = {l->inst->uuid};
    enum db_status st = db_exec("UPDATE instances SET vm_state = 'active', task_state = NULL,"
                                " deleted_at = NULL WHERE uuid = $1::uuid",
                                1, p);
    return st ? api_db_error(l->r, st) : 0;
}

int server_restore(struct req *r) {
    struct instance_ref inst;
    /* a lock is an InstanceInvalidState without attr/state in Nova */
    int rc = lc_find(r, &inst, "Instance %s is in an invalid state for 'restore'");
    if (rc) return rc;
    bool here = !inst.host[0];
    struct lc l = {.r = r,
                   .inst = &inst,
                   .rule = "restore",
                   .api_name = "restore",
                   .record = "restore",
                   .method = here ? NULL : "restore_instance",
                   .in_txn = here ? restore_here : NULL};
    return (rc = lc_run(&l)) ? rc : api_reply(r, 202, NULL);
}

int server_force_delete(struct req *r) {
    struct instance_ref inst;
    int rc = lc_find(r, &inst, LOCKED);
    if (rc) return rc;
    /* any vm_state and task; Nova records it as a delete */
    struct lc l = {.r = r,
                   .inst = &inst,
                   .rule = "force_delete",
                   .api_name = "forceDelete",
                   .record = "delete",
                   .method = "delete_instance"};
    return (rc = lc_run(&l)) ? rc : api_reply(r, 202, NULL);
}

/* ---- os-shelve ---- */

static int shelve_in_txn(struct lc *l) {
    const char *p[] = {l->inst->uuid};
    enum db_status st =
        db_exec("UPDATE instances SET system_metadata = system_metadata ||"
                " jsonb_build_object('image_base_image_ref', COALESCE(image_ref, ''))"
                " WHERE uuid = $1::uuid",
                1, p);
    if (st) return api_db_error(l->r, st);
    return l->ud ? image_insert(l, l->ud) : 0;
}

int server_shelve(struct req *r) {
    struct instance_ref inst;
    int rc = lc_find(r, &inst, LOCKED);
    if (rc) return rc;
    int bfv = volume_backed(r, inst.uuid);
    if (bfv < 0) return r->status;
    /* volume-backed: nothing to snapshot, the host offloads at once */
    struct image_new im = {.type = "snapshot"};
    json_t *args = json_object();
    if (!bfv) {
        const char *p[] = {inst.uuid};
        PGresult *res;
        enum db_status st = db_query(
            &res, "SELECT COALESCE(display_name, '') FROM instances WHERE uuid = $1::uuid", 1, p);
        if (st) {
            json_decref(args);
            return api_db_error(r, st);
        }
        snprintf(im.name, sizeof im.name, "%s-shelved", PQntuples(res) ? db_str(res, 0, 0) : "");
        PQclear(res);
        uuid_new(im.id);
        json_object_set_new(args, "ctx", json_pack("{s:s}", "image_id", im.id));
    }
    struct lc l = {.r = r,
                   .inst = &inst,
                   .rule = "shelve",
                   .api_name = "shelve",
                   .record = "shelve",
                   .method = bfv ? "shelve_offload_instance" : "shelve_instance",
                   .args = args,
                   .in_txn = shelve_in_txn,
                   .ud = bfv ? NULL : &im};
    rc = lc_run(&l);
    json_decref(args);
    return rc ? rc : api_reply(r, 202, NULL);
}

int server_shelve_offload(struct req *r) {
    struct instance_ref inst;
    int rc = lc_find(r, &inst, LOCKED);
    if (rc) return rc;
    struct lc l = {.r = r,
                   .inst = &inst,
                   .rule = "shelve_offload",
                   .api_name = "shelveOffload",
                   .record = "shelveOffload",
                   .method = "shelve_offload_instance"};
    return (rc = lc_run(&l)) ? rc : api_reply(r, 202, NULL);
}

/* The zone a compute host is in (aggregate metadata, else the default);
 * "" when no live compute service has that host. */
static enum db_status host_zone(const char *host, char *zone, size_t len) {
    const char *p[] = {host, config_get("DEFAULT", "default_availability_zone", "nova")};
    PGresult *res;
    enum db_status st = db_query(
        &res,
        "SELECT COALESCE((SELECT string_agg(DISTINCT m.value, ',' ORDER BY m.value)"
        "  FROM aggregate_hosts h JOIN aggregates a ON a.id = h.aggregate_id AND a.deleted = 0"
        "  JOIN aggregate_metadata m ON m.aggregate_id = a.id AND m.key = 'availability_zone'"
        "  WHERE h.host = n.host), $2::text)"
        " FROM compute_nodes n WHERE n.host = $1 AND n.deleted = 0 LIMIT 1",
        2, p);
    if (st) return st;
    snprintf(zone, len, "%s", PQntuples(res) ? db_str(res, 0, 0) : "");
    PQclear(res);
    return DB_OK;
}

/* Is `az` a zone with an enabled compute service (Nova's available zones)? */
static enum db_status zone_available(const char *az, bool *yes) {
    const char *p[] = {az, config_get("DEFAULT", "default_availability_zone", "nova")};
    PGresult *res;
    enum db_status st = db_query(
        &res,
        "SELECT 1 FROM services s WHERE s.deleted = 0 AND NOT s.disabled AND s.topic = 'compute'"
        " AND $1 = ANY (string_to_array(COALESCE((SELECT string_agg(DISTINCT m.value, ',')"
        "  FROM aggregate_hosts h JOIN aggregates a ON a.id = h.aggregate_id AND a.deleted = 0"
        "  JOIN aggregate_metadata m ON m.aggregate_id = a.id AND m.key = 'availability_zone'"
        "  WHERE h.host = s.host), $2::text), ',')) LIMIT 1",
        2, p);
    if (st) return st;
    *yes = PQntuples(res) > 0;
    PQclear(res);
    return DB_OK;
}

struct unshelve_opts {
    bool az_passed;
    const char *az; /* NULL: unpin */
};

/* The request spec's zone after the unshelve (Nova saves it there). */
static int unshelve_in_txn(struct lc *l) {
    const struct unshelve_opts *o = l->ud;
    if (!o->az_passed) return 0;
    const char *p[] = {l->inst->uuid, o->az};
    enum db_status st =
        db_exec("UPDATE instances SET request_spec = jsonb_set(request_spec, '{availability_zone}',"
                " COALESCE(to_jsonb($2::text), 'null'::jsonb)), pinned_availability_zone = $2"
                " WHERE uuid = $1::uuid",
                2, p);
    return st ? api_db_error(l->r, st) : 0;
}

int server_unshelve(struct req *r) {
    struct instance_ref inst;
    int rc = lc_find(r, &inst, LOCKED);
    if (rc) return rc;
    /* Nova checks the state before the zone and host */
    if ((rc = state_precheck(r, &inst, "unshelve", "unshelve"))) return rc;
    json_t *body = json_object_get(r->body, "unshelve");
    struct unshelve_opts o = {0};
    const char *host = NULL;
    if (json_is_object(body) && req_ver_ge(r, MV(2, 77))) {
        json_t *az = json_object_get(body, "availability_zone");
        o.az_passed = az != NULL;
        o.az = json_string_value(az);
    }
    if (json_is_object(body) && req_ver_ge(r, MV(2, 91)))
        host = json_string_value(json_object_get(body, "host"));
    if ((o.az_passed || host) && strcmp(inst.vm_state, "shelved_offloaded"))
        return api_error(r, 409,
                         "Specifying an availability zone or a host when unshelving server \"%s\""
                         " with status \"%s\" is not supported. The server status must be"
                         " SHELVED_OFFLOADED.",
                         inst.uuid, inst.vm_state);
    enum db_status st;
    if (o.az_passed && o.az) {
        bool ok;
        if ((st = zone_available(o.az, &ok))) return api_db_error(r, st);
        if (!ok) return api_error(r, 400, "The requested availability zone is not available");
    }
    json_t *args = json_object();
    if (host) {
        if ((rc = auth_policy(r, POLICY_ADMIN, "os_compute_api:os-shelve:unshelve_to_host"))) {
            json_decref(args);
            return rc;
        }
        char zone[256];
        if ((st = host_zone(host, zone, sizeof zone))) {
            json_decref(args);
            return api_db_error(r, st);
        }
        if (!zone[0]) {
            json_decref(args);
            return api_error(r, 400, "Compute host %s could not be found.", host);
        }
        /* the zone it will be in: the one asked for, else the current pin */
        char pinned[256] = "";
        const char *want = o.az;
        if (!o.az_passed) {
            const char *p[] = {inst.uuid};
            PGresult *res;
            if ((st = db_query(&res,
                               "SELECT request_spec->>'availability_zone' FROM instances"
                               " WHERE uuid = $1::uuid",
                               1, p))) {
                json_decref(args);
                return api_db_error(r, st);
            }
            if (PQntuples(res) && !db_isnull(res, 0, 0))
                snprintf(pinned, sizeof pinned, "%s", db_str(res, 0, 0)), want = pinned;
            PQclear(res);
        }
        bool in = !want;
        for (char *z = zone, *save = NULL; !in && (z = strtok_r(z, ",", &save)); z = NULL)
            in = !strcmp(z, want);
        if (!in) {
            json_decref(args);
            return api_error(r, 409, "Host \"%s\" is not in the availability zone \"%s\".", host,
                             want);
        }
        json_object_set_new(args, "requested_host", json_string(host));
    }
    struct lc l = {.r = r,
                   .inst = &inst,
                   .rule = "unshelve",
                   .api_name = "unshelve",
                   .record = "unshelve",
                   .method = "unshelve_instance",
                   .args = args,
                   .in_txn = unshelve_in_txn,
                   .ud = &o};
    rc = lc_run(&l);
    json_decref(args);
    return rc ? rc : api_reply(r, 202, NULL);
}

/* ---- os-rescue ---- */

/* Does image `id` exist (visible to the caller) with both hw_rescue_bus and
 * hw_rescue_device? *found says whether it exists. */
static enum db_status rescue_image(struct req *r, const char *id, bool *found, bool *bfv_ok) {
    const char *p[] = {id, r->ctx.is_admin ? "t" : "f", r->ctx.project_id};
    PGresult *res;
    enum db_status st =
        db_query(&res,
                 "SELECT (SELECT count(*) FROM image_properties p WHERE p.image_id = i.id"
                 "  AND p.key IN ('hw_rescue_bus', 'hw_rescue_device')) = 2 FROM images i"
                 " WHERE i.id::text = $1 AND NOT i.deleted AND ($2::bool"
                 " OR i.visibility IN ('public', 'community') OR i.owner = $3)",
                 3, p);
    if (st) return st;
    *found = PQntuples(res) > 0;
    *bfv_ok = *found && db_bool(res, 0, 0);
    PQclear(res);
    return DB_OK;
}

int server_rescue(struct req *r) {
    json_t *body = json_object_get(r->body, "rescue");
    const char *given = json_string_value(json_object_get(body, "adminPass"));
    char generated[16] = "";
    if (!given) servers_generate_password(generated);
    const char *password = given ? given : generated;
    struct instance_ref inst;
    int rc = lc_find(r, &inst, LOCKED);
    if (rc || (rc = state_precheck(r, &inst, "rescue", "rescue"))) return rc;
    const char *image = json_string_value(json_object_get(body, "rescue_image_ref"));
    int bfv = volume_backed(r, inst.uuid);
    if (bfv < 0) return r->status;
    bool found = true, bfv_ok = false;
    enum db_status st;
    if (image && (st = rescue_image(r, image, &found, &bfv_ok))) return api_db_error(r, st);
    if (!found) return api_error(r, 400, "Requested rescue image '%s' is not supported", image);
    /* from 2.87 a volume-backed server may be rescued with an image that
     * says how to attach the rescue disk (the libvirt host can) */
    if (bfv && !(req_ver_ge(r, MV(2, 87)) && bfv_ok))
        return api_error(r, 400,
                         "Instance %s cannot be rescued: Cannot rescue a volume-backed"
                         " instance",
                         inst.uuid);
    json_t *args = json_pack("{s:s}", "rescue_password", password);
    if (image) json_object_set_new(args, "rescue_image_ref", json_string(image));
    struct lc l = {.r = r,
                   .inst = &inst,
                   .rule = "rescue",
                   .api_name = "rescue",
                   .record = "rescue",
                   .method = "rescue_instance",
                   .args = args};
    rc = lc_run(&l);
    json_decref(args);
    if (rc) return rc;
    const char *show = config_get("api", "enable_instance_password", NULL);
    bool enabled = true;
    if (show && *show) str_to_bool(show, &enabled);
    if (!enabled) return api_reply(r, 200, json_object());
    return api_reply(r, 200, json_pack("{s:s}", "adminPass", password));
}

int server_unrescue(struct req *r) {
    struct instance_ref inst;
    int rc = lc_find(r, &inst, LOCKED);
    if (rc) return rc;
    struct lc l = {.r = r,
                   .inst = &inst,
                   .rule = "unrescue",
                   .api_name = "unrescue",
                   .record = "unrescue",
                   .method = "unrescue_instance"};
    return (rc = lc_run(&l)) ? rc : api_reply(r, 202, NULL);
}

/* ---- createImage and createBackup ---- */

int server_create_image(struct req *r) {
    struct instance_ref inst;
    int rc = lc_find(r, &inst, NULL);
    if (rc) return rc;
    json_t *entity = json_object_get(r->body, "createImage");
    json_t *metadata = json_object_get(entity, "metadata");
    if ((rc = check_image_metadata_quota(r, metadata))) return rc;
    struct image_new im = {.type = "snapshot", .props = metadata};
    normalize_name(json_string_value(json_object_get(entity, "name")), im.name, sizeof im.name);
    uuid_new(im.id);
    json_t *args = json_pack("{s:{s:s}}", "ctx", "image_id", im.id);
    struct lc l = {.r = r,
                   .inst = &inst,
                   .rule = "snapshot",
                   .api_name = "createImage",
                   .record = "createImage",
                   .method = "snapshot_instance",
                   .args = args,
                   .in_txn = snapshot_in_txn,
                   .ud = &im};
    rc = lc_run(&l);
    json_decref(args);
    return rc ? rc : image_reply(r, im.id, true);
}

int server_create_backup(struct req *r) {
    struct instance_ref inst;
    int rc = lc_find(r, &inst, NULL);
    if (rc) return rc;
    json_t *entity = json_object_get(r->body, "createBackup");
    json_t *metadata = json_object_get(entity, "metadata");
    const char *type = json_string_value(json_object_get(entity, "backup_type"));
    json_t *jrot = json_object_get(entity, "rotation");
    long long rotation = json_is_integer(jrot)
                             ? json_integer_value(jrot)
                             : atoll(json_string_value(jrot) ? json_string_value(jrot) : "0");
    if ((rc = check_image_metadata_quota(r, metadata))) return rc;
    int bfv = volume_backed(r, inst.uuid);
    if (bfv < 0) return r->status;
    /* Nova checks the state before it looks at the root disk */
    if ((rc = state_precheck(r, &inst, "backup", "createBackup"))) return rc;
    if (bfv) return api_error(r, 400, "Backup is not supported for volume-backed instances.");
    struct image_new im = {.type = "backup"};
    normalize_name(json_string_value(json_object_get(entity, "name")), im.name, sizeof im.name);
    uuid_new(im.id);
    im.props = metadata ? json_deep_copy(metadata) : json_object();
    json_object_set_new(im.props, "backup_type", json_string(type ? type : ""));
    json_t *args = json_pack("{s:{s:s, s:s, s:I}}", "ctx", "image_id", im.id, "backup_type",
                             type ? type : "", "rotation", (json_int_t)rotation);
    struct lc l = {.r = r,
                   .inst = &inst,
                   .rule = "backup",
                   .api_name = "createBackup",
                   .record = "createBackup",
                   .method = "backup_instance",
                   .args = args,
                   .in_txn = snapshot_in_txn,
                   .ud = &im};
    rc = lc_run(&l);
    json_decref(args);
    json_decref(im.props);
    return rc ? rc : image_reply(r, im.id, rotation > 0);
}

/* ---- os-getConsoleOutput: asked of the instance's host, waited for ---- */

int server_console_output(struct req *r) {
    struct instance_ref inst;
    int rc = instance_find(r, req_param(r, "id"), &inst);
    if (rc) return rc;
    json_t *len = json_object_get(json_object_get(r->body, "os-getConsoleOutput"), "length");
    if (!inst.host[0]) return api_error(r, 409, "Instance %s is not ready", inst.uuid);
    json_t *args = json_pack("{s:s}", "uuid", inst.uuid);
    if (json_is_integer(len))
        json_object_set(args, "length", len);
    else if (json_is_string(len))
        json_object_set_new(args, "length", json_integer(atoll(json_string_value(len))));
    char topic[300];
    snprintf(topic, sizeof topic, "compute.%s", inst.host);
    const char *err = NULL;
    json_t *res = rpc_call(topic, "get_console_output", args,
                           (int)config_int("rpc", "call_timeout", 60) * 1000, &err);
    json_decref(args);
    if (!res)
        return api_error(r, 500,
                         "Console output could not be retrieved for instance %s."
                         " Reason: %s",
                         inst.uuid, err ? err : "no answer");
    json_t *out = json_object_get(res, "output");
    if (!json_is_string(out)) {
        json_decref(res);
        return api_error(r, 404, "Guest does not have a console available.");
    }
    json_t *body = json_pack("{s:O}", "output", out);
    json_decref(res);
    return api_reply(r, 200, body);
}
