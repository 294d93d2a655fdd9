/* volumes.c — os-volumes and os-snapshots (2.1-2.35): Nova's volume proxy
 * answered by cnova's built-in block storage (volumes and volume_snapshots
 * rows) instead of Cinder. Errors read as Nova relays Cinder's: a refused
 * request is 400 "Invalid input received: <Cinder's reason> (HTTP 400)",
 * an unknown volume 404, a quota overrun 403 with Cinder's message.
 * Quotas are Cinder's defaults, per project: [volume] quota_volumes (10),
 * quota_snapshots (10) and quota_gigabytes (1000, volumes plus snapshots). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "blockstore.h"
#include "volumes.h"

int volume_cinder_400(struct req *r, const char *prefix, const char *fmt, ...) {
    char why[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    return api_error(r, 400, "%sInvalid input received: %s (HTTP 400) (Request-ID: %s)", prefix,
                     why, r->request_id);
}

/* The caller's scope for lookups by id: NULL (any project) for admins. */
static const char *scope(const struct req *r) {
    return r->ctx.is_admin ? NULL : r->ctx.project_id;
}

int volume_find(struct req *r, const char *id, int status, struct volume_ref *out) {
    PGresult *res = NULL;
    if (id && uuid_valid(id)) {
        const char *p[] = {id, scope(r)};
        enum db_status st = db_query(&res,
                                     "SELECT id, status, project_id FROM volumes"
                                     " WHERE id = $1::uuid AND NOT deleted"
                                     " AND ($2::text IS NULL OR project_id = $2)",
                                     2, p);
        if (st) return api_db_error(r, st);
    }
    if (!res || !PQntuples(res)) {
        PQclear(res);
        return api_error(r, status, "Volume %s could not be found.", id ? id : "");
    }
    snprintf(out->id, sizeof out->id, "%s", db_str(res, 0, 0));
    snprintf(out->status, sizeof out->status, "%s", db_str(res, 0, 1));
    snprintf(out->project_id, sizeof out->project_id, "%s", db_str(res, 0, 2));
    PQclear(res);
    return 0;
}

/* ---- views ---- */

#define TIME_FMT "'YYYY-MM-DD\"T\"HH24:MI:SS.US'"

/* A volume row, with its attachment while Cinder would call it attached
 * (in-use or detaching): the live mapping that holds it. */
#define VOLUME_SQL                                                                                 \
    "SELECT v.id, v.status, v.size, v.availability_zone,"                                          \
    " to_char(v.created_at AT TIME ZONE 'UTC', " TIME_FMT "), v.display_name,"                     \
    " v.display_description, v.volume_type, v.snapshot_id, v.metadata::text, b.instance_uuid,"     \
    " b.device_name FROM volumes v LEFT JOIN LATERAL (SELECT instance_uuid, device_name"           \
    " FROM block_device_mapping WHERE volume_id = v.id::text AND deleted = 0"                      \
    " AND v.status IN ('in-use', 'detaching') ORDER BY id LIMIT 1) b ON true"
enum {
    V_ID,
    V_STATUS,
    V_SIZE,
    V_AZ,
    V_CREATED,
    V_NAME,
    V_DESC,
    V_TYPE,
    V_SNAPSHOT,
    V_META,
    V_SERVER,
    V_DEVICE
};

static json_t *nullable(PGresult *res, int i, int col) {
    return db_isnull(res, i, col) ? json_null() : json_string(db_str(res, i, col));
}

/* Nova's _translate_volume_summary_view (the detail view is the same). */
static json_t *volume_view(PGresult *res, int i) {
    json_t *att = json_object();
    if (!db_isnull(res, i, V_SERVER)) {
        json_object_set_new(att, "id", json_string(db_str(res, i, V_ID)));
        json_object_set_new(att, "volumeId", json_string(db_str(res, i, V_ID)));
        json_object_set_new(att, "serverId", json_string(db_str(res, i, V_SERVER)));
        const char *dev = db_str(res, i, V_DEVICE);
        if (dev && *dev) json_object_set_new(att, "device", json_string(dev));
    }
    json_t *meta = json_loads(db_str(res, i, V_META), 0, NULL);
    return json_pack("{s:s,s:s,s:I,s:o,s:s,s:[o],s:o,s:o,s:o,s:o,s:o}", "id", db_str(res, i, V_ID),
                     "status", db_str(res, i, V_STATUS), "size", (json_int_t)db_int(res, i, V_SIZE),
                     "availabilityZone", nullable(res, i, V_AZ), "createdAt",
                     db_str(res, i, V_CREATED), "attachments", att, "displayName",
                     nullable(res, i, V_NAME), "displayDescription", nullable(res, i, V_DESC),
                     "volumeType", nullable(res, i, V_TYPE), "snapshotId",
                     nullable(res, i, V_SNAPSHOT), "metadata", meta ? meta : json_object());
}

#define SNAPSHOT_SQL                                                                               \
    "SELECT s.id, s.volume_id, s.status, s.size,"                                                  \
    " to_char(s.created_at AT TIME ZONE 'UTC', " TIME_FMT "), s.display_name,"                     \
    " s.display_description FROM volume_snapshots s"

static json_t *snapshot_view(PGresult *res, int i) {
    return json_pack("{s:s,s:s,s:s,s:I,s:s,s:o,s:o}", "id", db_str(res, i, 0), "volumeId",
                     db_str(res, i, 1), "status", db_str(res, i, 2), "size",
                     (json_int_t)db_int(res, i, 3), "createdAt", db_str(res, i, 4), "displayName",
                     nullable(res, i, 5), "displayDescription", nullable(res, i, 6));
}

/* ---- shared list/show/delete plumbing, driven by one table ---- */

struct kind {
    const char *list_sql; /* $1 project, $2 limit, $3 offset */
    const char *show_sql; /* $1 id, $2 project or NULL */
    json_t *(*view)(PGresult *res, int i);
    const char *one, *many; /* "volume", "volumes" */
    const char *missing;    /* Nova's not-found message, %s = id */
};

static const struct kind volume_kind = {
    VOLUME_SQL " WHERE v.project_id = $1 AND NOT v.deleted ORDER BY v.created_at, v.id"
               " LIMIT $2::bigint OFFSET $3::bigint",
    VOLUME_SQL
    " WHERE v.id = $1::uuid AND NOT v.deleted AND ($2::text IS NULL OR v.project_id = $2)",
    volume_view,
    "volume",
    "volumes",
    "Volume %s could not be found.",
};

static const struct kind snapshot_kind = {
    SNAPSHOT_SQL " WHERE s.project_id = $1 AND NOT s.deleted ORDER BY s.created_at, s.id"
                 " LIMIT $2::bigint OFFSET $3::bigint",
    SNAPSHOT_SQL
    " WHERE s.id = $1::uuid AND NOT s.deleted AND ($2::text IS NULL OR s.project_id = $2)",
    snapshot_view,
    "snapshot",
    "snapshots",
    "Snapshot %s could not be found.",
};

/* Nova's common.limited: ?offset and ?limit (capped by max_limit). The
 * proxy lists the caller's project, as Cinder does without all_tenants. */
static int list(struct req *r, const struct kind *k) {
    char limit[32], offset[32];
    snprintf(limit, sizeof limit, "%ld", paging_limit(r));
    const char *given = req_query(r, "offset");
    snprintf(offset, sizeof offset, "%lld", given ? strtoll(given, NULL, 10) : 0LL);
    const char *p[] = {r->ctx.project_id, limit, offset};
    PGresult *res;
    enum db_status st = db_query(&res, k->list_sql, 3, p);
    if (st) return api_db_error(r, st);
    json_t *items = json_array();
    for (int i = 0; i < PQntuples(res); i++)
        json_array_append_new(items, k->view(res, i));
    PQclear(res);
    return api_reply(r, 200, json_pack("{s:o}", k->many, items));
}

/* Replies `status` with {"<one>": view} of `id`; 404 when not visible. */
static int reply_one(struct req *r, const struct kind *k, const char *id, int status) {
    PGresult *res = NULL;
    if (uuid_valid(id)) {
        const char *p[] = {id, scope(r)};
        enum db_status st = db_query(&res, k->show_sql, 2, p);
        if (st) return api_db_error(r, st);
    }
    if (!res || !PQntuples(res)) {
        PQclear(res);
        return api_error(r, 404, k->missing, id);
    }
    json_t *v = k->view(res, 0);
    PQclear(res);
    return api_reply(r, status, json_pack("{s:o}", k->one, v));
}

int volumes_index(struct req *r) {
    return list(r, &volume_kind);
}

int volumes_detail(struct req *r) {
    return list(r, &volume_kind);
}

int volumes_show(struct req *r) {
    return reply_one(r, &volume_kind, req_param(r, "id"), 200);
}

int snapshots_index(struct req *r) {
    return list(r, &snapshot_kind);
}

int snapshots_detail(struct req *r) {
    return list(r, &snapshot_kind);
}

int snapshots_show(struct req *r) {
    return reply_one(r, &snapshot_kind, req_param(r, "id"), 200);
}

/* ---- quota (Cinder's, kept simple: counted per project) ---- */

/* Checks that `volumes` more volumes, `snapshots` more snapshots and `gb`
 * more gigabytes fit the project's quota, inside the caller's transaction
 * (an advisory lock per project serialises concurrent creates). Answers 0
 * or 403 with Cinder's message, as Nova relays OverQuota. */
static int quota_check(struct req *r, int volumes, int snapshots, long gb) {
    const char *p[] = {r->ctx.project_id};
    PGresult *res;
    enum db_status st = db_exec("SELECT pg_advisory_xact_lock(hashtext('volumes:' || $1))", 1, p);
    if (!st)
        st = db_query(&res,
                      "SELECT (SELECT count(*) FROM volumes WHERE project_id = $1 AND NOT deleted),"
                      " (SELECT count(*) FROM volume_snapshots WHERE project_id = $1"
                      "  AND NOT deleted),"
                      " (SELECT COALESCE(sum(size), 0) FROM volumes WHERE project_id = $1"
                      "  AND NOT deleted) + (SELECT COALESCE(sum(size), 0) FROM volume_snapshots"
                      "  WHERE project_id = $1 AND NOT deleted)",
                      1, p);
    if (st) return api_db_error(r, st);
    long nvol = (long)db_int(res, 0, 0), nsnap = (long)db_int(res, 0, 1);
    long used = (long)db_int(res, 0, 2);
    PQclear(res);
    long qv = config_int("volume", "quota_volumes", 10);
    long qs = config_int("volume", "quota_snapshots", 10);
    long qg = config_int("volume", "quota_gigabytes", 1000);
    if (snapshots && qs >= 0 && nsnap + snapshots > qs)
        return api_error(r, 403, "Quota exceeded for resources: snapshots");
    if (volumes && qv >= 0 && nvol + volumes > qv)
        return api_error(r, 403,
                         "VolumeLimitExceeded: Maximum number of volumes allowed (%ld) exceeded"
                         " for quota 'volumes'.",
                         qv);
    if (qg >= 0 && used + gb > qg) {
        if (snapshots) return api_error(r, 403, "Quota exceeded for resources: snapshots");
        return api_error(r, 403,
                         "VolumeSizeExceedsAvailableQuota: Requested volume or snapshot exceeds"
                         " allowed gigabytes quota. Requested %ldG, quota is %ldG and %ldG has"
                         " been consumed.",
                         gb, qg, used);
    }
    return 0;
}

/* ---- POST /os-volumes ---- */

/* Cinder's zones: the default one and every aggregate's. */
static int zone_known(struct req *r, const char *az, bool *known) {
    const char *p[] = {az, config_get("DEFAULT", "default_availability_zone", "nova"),
                       config_get("volume", "storage_availability_zone", "nova")};
    PGresult *res;
    enum db_status st = db_query(&res,
                                 "SELECT $1 IN ($2, $3) OR EXISTS (SELECT 1 FROM"
                                 " aggregate_metadata WHERE key = 'availability_zone'"
                                 " AND value = $1)",
                                 3, p);
    if (st) return api_db_error(r, st);
    *known = db_bool(res, 0, 0);
    PQclear(res);
    return 0;
}

struct create_args {
    struct req *r;
    const char *id, *name, *desc, *az, *type, *snapshot, *meta;
    long size;
    int rc;
};

static enum db_status create_txn(void *arg) {
    struct create_args *c = arg;
    if ((c->rc = quota_check(c->r, 1, 0, c->size))) return DB_ERROR;
    char size[24];
    snprintf(size, sizeof size, "%ld", c->size);
    const char *p[] = {c->id,
                       c->r->ctx.project_id,
                       c->r->ctx.user_id,
                       c->name,
                       c->desc,
                       size,
                       c->az,
                       c->type,
                       c->snapshot,
                       c->meta};
    return db_exec("INSERT INTO volumes (id, project_id, user_id, display_name,"
                   " display_description, size, availability_zone, volume_type, snapshot_id,"
                   " metadata) VALUES ($1::uuid, $2, $3, $4, $5, $6::int, $7, $8, $9::uuid,"
                   " $10::jsonb)",
                   10, p);
}

int volumes_create(struct req *r) {
    json_t *in = json_object_get(r->body, "volume");
    const char *snap = json_string_value(json_object_get(in, "snapshot_id"));
    long size = 0, snap_size = 0;
    json_t *jsize = json_object_get(in, "size");
    long long ll = 0;
    if (json_is_integer(jsize))
        size = (long)json_integer_value(jsize);
    else if (json_is_string(jsize) && str_to_int(json_string_value(jsize), &ll))
        size = ll > 1000000000LL ? 1000000000L : (long)ll;
    if (snap) {
        PGresult *res = NULL;
        if (uuid_valid(snap)) {
            const char *p[] = {snap, r->ctx.project_id};
            enum db_status st = db_query(&res,
                                         "SELECT size FROM volume_snapshots WHERE id = $1::uuid"
                                         " AND NOT deleted AND project_id = $2",
                                         2, p);
            if (st) return api_db_error(r, st);
        }
        if (!res || !PQntuples(res)) {
            PQclear(res);
            return api_error(r, 404, "Snapshot %s could not be found.", snap);
        }
        snap_size = (long)db_int(res, 0, 0);
        PQclear(res);
    }
    if (size <= 0)
        return volume_cinder_400(r, "", "Volume size '%s' must be an integer and greater than 0",
                                 json_is_string(jsize) ? json_string_value(jsize) : "0");
    if (snap && size < snap_size)
        return volume_cinder_400(r, "",
                                 "Volume size '%ld'GB cannot be smaller than the snapshot size"
                                 " %ldGB. They must be >= original snapshot size.",
                                 size, snap_size);
    json_t *meta = json_object_get(in, "metadata");
    const char *key;
    json_t *value;
    json_object_foreach(meta, key, value) {
        if (!json_is_string(value) || !*key || strlen(key) > 255 ||
            strlen(json_string_value(value)) > 255)
            return volume_cinder_400(r, "",
                                     "Invalid metadata: metadata keys and values must be strings"
                                     " of 1 to 255 characters");
    }
    const char *az = json_string_value(json_object_get(in, "availability_zone"));
    if (!az) az = config_get("volume", "storage_availability_zone", "nova");
    bool known = false;
    int rc = zone_known(r, az, &known);
    if (rc) return rc;
    if (!known) return volume_cinder_400(r, "", "Availability zone '%s' is invalid.", az);
    char id[37];
    uuid_new(id);
    char *metadoc = meta ? json_dumps(meta, JSON_COMPACT) : NULL;
    struct create_args c = {
        .r = r,
        .id = id,
        .name = json_string_value(json_object_get(in, "display_name")),
        .desc = json_string_value(json_object_get(in, "display_description")),
        .az = az,
        .type = json_string_value(json_object_get(in, "volume_type")),
        .snapshot = snap,
        .meta = metadoc ? metadoc : "{}",
        .size = size,
    };
    enum db_status st = db_txn(create_txn, &c);
    free(metadoc);
    if (c.rc) return c.rc;
    if (st) return api_db_error(r, st);
    char loc[700];
    snprintf(loc, sizeof loc, "%s%s/os-volumes/%s", r->base_url, r->prefix, id);
    api_header(r, "Location", loc);
    return reply_one(r, &volume_kind, id, 200);
}

/* ---- DELETE /os-volumes/{id} ---- */

int volumes_delete(struct req *r) {
    const char *id = req_param(r, "id");
    struct volume_ref v;
    int rc = volume_find(r, id, 404, &v);
    if (rc) return rc;
    /* Cinder deletes only an available (or failed) volume that holds no
     * attachment and no snapshot */
    const char *p[] = {v.id};
    PGresult *res;
    enum db_status st = db_query(
        &res,
        "UPDATE volumes SET deleted = true, deleted_at = now(), updated_at = now(),"
        " status = 'deleted' WHERE id = $1::uuid AND NOT deleted"
        " AND status IN ('available', 'error')"
        " AND NOT EXISTS (SELECT 1 FROM volume_snapshots s WHERE s.volume_id = $1::uuid"
        "  AND NOT s.deleted)"
        " AND NOT EXISTS (SELECT 1 FROM block_device_mapping b WHERE b.volume_id = $1::text"
        "  AND b.deleted = 0) RETURNING id",
        1, p);
    if (st) return api_db_error(r, st);
    int done = PQntuples(res);
    PQclear(res);
    if (!done)
        return volume_cinder_400(
            r, "",
            "Invalid volume: Volume status must be available or error or error_restoring or"
            " error_extending or error_managing and must not be migrating, attached, belong to"
            " a group, have snapshots, awaiting a transfer, or be disassociated from snapshots"
            " after volume transfer.");
    blockstore_remove(v.id); /* its bytes, where a host made them */
    return api_reply(r, 202, NULL);
}

/* ---- POST /os-snapshots ---- */

struct snap_args {
    struct req *r;
    const char *id, *volume, *name, *desc;
    bool force;
    int rc;
};

static enum db_status snap_txn(void *arg) {
    struct snap_args *s = arg;
    struct req *r = s->r;
    const char *p[] = {s->volume};
    PGresult *res;
    /* the volume's row lock keeps its status still while we read it */
    enum db_status st = db_query(
        &res, "SELECT status, size FROM volumes WHERE id = $1::uuid AND NOT deleted FOR UPDATE", 1,
        p);
    if (st) return st;
    if (!PQntuples(res)) { /* deleted meanwhile */
        PQclear(res);
        s->rc = api_error(r, 400, "Volume %s could not be found.", s->volume);
        return DB_ERROR;
    }
    char status[32];
    snprintf(status, sizeof status, "%s", db_str(res, 0, 0));
    long size = (long)db_int(res, 0, 1);
    PQclear(res);
    if (!s->force && strcmp(status, "available")) {
        s->rc = volume_cinder_400(r, "",
                                  "Invalid volume: Volume %s status must be available, but current"
                                  " status is: %s.",
                                  s->volume, status);
        return DB_ERROR;
    }
    if (s->force && strcmp(status, "available") && strcmp(status, "in-use")) {
        s->rc = volume_cinder_400(r, "",
                                  "Invalid volume: Volume %s status must be available or in-use,"
                                  " but current status is: %s.",
                                  s->volume, status);
        return DB_ERROR;
    }
    if ((s->rc = quota_check(r, 0, 1, size))) return DB_ERROR;
    char sz[24];
    snprintf(sz, sizeof sz, "%ld", size);
    const char *q[] = {s->id, s->volume, r->ctx.project_id, r->ctx.user_id, s->name, s->desc, sz};
    return db_exec("INSERT INTO volume_snapshots (id, volume_id, project_id, user_id,"
                   " display_name, display_description, size)"
                   " VALUES ($1::uuid, $2::uuid, $3, $4, $5, $6, $7::int)",
                   7, q);
}

int snapshots_create(struct req *r) {
    json_t *in = json_object_get(r->body, "snapshot");
    struct volume_ref v;
    /* the volume is named in the body: unknown is bad input (Nova would
     * fail with a 500 here, as it expects no VolumeNotFound) */
    int rc = volume_find(r, json_string_value(json_object_get(in, "volume_id")), 400, &v);
    if (rc) return rc;
    json_t *force = json_object_get(in, "force");
    bool f = false;
    if (json_is_boolean(force))
        f = json_is_true(force);
    else if (json_is_string(force))
        str_to_bool(json_string_value(force), &f);
    char id[37];
    uuid_new(id);
    struct snap_args s = {
        .r = r,
        .id = id,
        .volume = v.id,
        .name = json_string_value(json_object_get(in, "display_name")),
        .desc = json_string_value(json_object_get(in, "display_description")),
        .force = f,
    };
    enum db_status st = db_txn(snap_txn, &s);
    if (s.rc) return s.rc;
    if (st) return api_db_error(r, st);
    return reply_one(r, &snapshot_kind, id, 200);
}

int snapshots_delete(struct req *r) {
    const char *id = req_param(r, "id");
    PGresult *res = NULL;
    if (uuid_valid(id)) {
        const char *p[] = {id, scope(r)};
        enum db_status st = db_query(&res,
                                     "UPDATE volume_snapshots SET deleted = true,"
                                     " deleted_at = now(), updated_at = now(), status = 'deleted'"
                                     " WHERE id = $1::uuid AND NOT deleted"
                                     " AND ($2::text IS NULL OR project_id = $2) RETURNING id",
                                     2, p);
        if (st) return api_db_error(r, st);
    }
    int done = res ? PQntuples(res) : 0;
    PQclear(res);
    if (!done) return api_error(r, 404, "Snapshot %s could not be found.", id);
    return api_reply(r, 202, NULL);
}

/* ---- boot from volume (servers_create.c) ---- */

int volumes_check_bdms(struct req *r, json_t *rows, long count) {
    size_t i;
    json_t *b;
    json_array_foreach(rows, i, b) {
        const char *vol = json_string_value(json_object_get(b, "volume_id"));
        const char *snap = json_string_value(json_object_get(b, "snapshot_id"));
        const char *src = json_string_value(json_object_get(b, "source_type"));
        if (snap && src && !strcmp(src, "snapshot")) {
            PGresult *res = NULL;
            if (uuid_valid(snap)) {
                const char *p[] = {snap, scope(r)};
                enum db_status st = db_query(&res,
                                             "SELECT 1 FROM volume_snapshots WHERE id = $1::uuid"
                                             " AND NOT deleted AND ($2::text IS NULL OR"
                                             " project_id = $2)",
                                             2, p);
                if (st) return api_db_error(r, st);
            }
            int found = res ? PQntuples(res) : 0;
            PQclear(res);
            if (!found)
                return api_error(
                    r, 400, "Block Device Mapping is Invalid: failed to get snapshot %s.", snap);
        }
        if (!vol || !src || strcmp(src, "volume")) continue;
        if (count > 1)
            return api_error(r, 400, "Cannot attach one or more volumes to multiple instances");
        char status[32];
        PGresult *res = NULL;
        if (uuid_valid(vol)) {
            const char *p[] = {vol, scope(r)};
            enum db_status st = db_query(&res,
                                         "SELECT status FROM volumes WHERE id = $1::uuid AND NOT"
                                         " deleted AND ($2::text IS NULL OR project_id = $2)",
                                         2, p);
            if (st) return api_db_error(r, st);
        }
        if (!res || !PQntuples(res)) {
            PQclear(res);
            return api_error(r, 400, "Block Device Mapping is Invalid: failed to get volume %s.",
                             vol);
        }
        snprintf(status, sizeof status, "%s", db_str(res, 0, 0));
        PQclear(res);
        if (strcmp(status, "available"))
            return volume_cinder_400(r, "Invalid volume: ",
                                     "Invalid volume: Volume %s status must be available or"
                                     " downloading to reserve, but the current status is %s.",
                                     vol, status);
    }
    return 0;
}

enum db_status volumes_reserve_bdms(const char *instance_uuid) {
    const char *p[] = {instance_uuid};
    PGresult *res;
    enum db_status st = db_query(
        &res,
        "WITH b AS (UPDATE block_device_mapping SET attachment_id = gen_random_uuid()"
        " WHERE instance_uuid = $1::uuid AND deleted = 0 AND source_type = 'volume'"
        " AND volume_id IS NOT NULL RETURNING volume_id),"
        " v AS (UPDATE volumes SET status = 'in-use', updated_at = now() WHERE NOT deleted"
        " AND status = 'available' AND id::text IN (SELECT lower(volume_id) FROM b) RETURNING id)"
        " SELECT (SELECT count(*) FROM b), (SELECT count(*) FROM v)",
        1, p);
    if (st) return st;
    bool all = db_int(res, 0, 0) == db_int(res, 0, 1);
    PQclear(res);
    return all ? DB_OK : DB_CONFLICT; /* one was taken meanwhile */
}
