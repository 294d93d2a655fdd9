/* images.c — Nova's image proxy API (/images, up to 2.35) served from the
 * built-in image registry (images, image_properties): list and detail with
 * Nova's filters (name, status, changes-since, server, type, minRam,
 * minDisk, property-*) and limit/marker paging, show, and delete. Images
 * are ordered as Glance orders them: newest first. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "image_store.h"
#include "images.h"

int images_find_or(struct req *r, const char *id, struct image_ref *out, const char *not_found) {
    if (!id || !uuid_valid(id)) return api_error(r, 404, not_found, id ? id : "");
    const char *params[] = {id, r->ctx.is_admin ? "t" : "f", r->ctx.project_id};
    PGresult *res;
    enum db_status st =
        db_query(&res,
                 "SELECT id, COALESCE(owner, ''), protected, status, COALESCE(disk_format, ''),"
                 " COALESCE(container_format, ''), COALESCE(checksum, '') FROM images"
                 " WHERE id = $1::uuid AND NOT deleted AND ($2::bool"
                 " OR visibility IN ('public', 'community') OR owner = $3)",
                 3, params);
    if (st) return api_db_error(r, st);
    if (!PQntuples(res)) {
        PQclear(res);
        return api_error(r, 404, not_found, id);
    }
    snprintf(out->id, sizeof out->id, "%s", db_str(res, 0, 0));
    snprintf(out->owner, sizeof out->owner, "%s", db_str(res, 0, 1));
    out->protected_ = db_bool(res, 0, 2);
    snprintf(out->status, sizeof out->status, "%s", db_str(res, 0, 3));
    snprintf(out->disk_format, sizeof out->disk_format, "%s", db_str(res, 0, 4));
    snprintf(out->container_format, sizeof out->container_format, "%s", db_str(res, 0, 5));
    snprintf(out->checksum, sizeof out->checksum, "%s", db_str(res, 0, 6));
    PQclear(res);
    return 0;
}

int images_find(struct req *r, const char *id, struct image_ref *out) {
    return images_find_or(r, id, out, "Image not found.");
}
bool images_may_modify(const struct req *r, const struct image_ref *img) {
    return r->ctx.is_admin || (img->owner[0] && !strcmp(img->owner, r->ctx.project_id));
}

json_t *images_properties(const char *id, enum db_status *st) {
    const char *params[] = {id};
    PGresult *res;
    *st = db_query(&res, "SELECT key, value FROM image_properties WHERE image_id = $1::uuid", 1,
                   params);
    if (*st) return NULL;
    json_t *props = json_object();
    for (int i = 0; i < PQntuples(res); i++)
        json_object_set_new(props, db_str(res, i, 0), json_string(db_str(res, i, 1)));
    PQclear(res);
    return props;
}

/* ---- the view (nova/api/openstack/compute/views/images.py) ---- */

enum { C_ID, C_NAME, C_STATUS, C_SIZE, C_MIN_DISK, C_MIN_RAM, C_CREATED, C_UPDATED, C_PROPS };
#define IMAGE_COLS                                                                                 \
    "i.id, i.name, i.status, i.size, i.min_disk, i.min_ram,"                                       \
    " to_char(i.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'),"                 \
    " to_char(COALESCE(i.updated_at, i.created_at) AT TIME ZONE 'UTC',"                            \
    "         'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'),"                                                  \
    " COALESCE((SELECT json_object_agg(p.key, p.value ORDER BY p.key) FROM image_properties p"     \
    "           WHERE p.image_id = i.id), '{}')"

/* The Glance endpoint for the "alternate" link: [glance] api_servers (the
 * first one), else the API's own host on Glance's port 9292. */
static void glance_url(const struct req *r, char *out, size_t len) {
    const char *servers = config_get("glance", "api_servers", NULL);
    if (servers && *servers) {
        snprintf(out, len, "%.*s", (int)strcspn(servers, ", "), servers);
        return;
    }
    const char *host = strstr(r->base_url, "://");
    host = host ? host + 3 : r->base_url;
    size_t scheme = (size_t)(host - r->base_url), n = strcspn(host, ":/");
    snprintf(out, len, "%.*s%.*s:9292", (int)scheme, r->base_url, (int)n, host);
}

static json_t *image_links(const struct req *r, const char *id) {
    char path[64], glance[256], alt[400];
    snprintf(path, sizeof path, "/images/%s", id);
    glance_url(r, glance, sizeof glance);
    snprintf(alt, sizeof alt, "%s/images/%s", glance, id);
    json_t *links = resource_links(r, path);
    json_array_append_new(links, json_pack("{s:s,s:s,s:s}", "rel", "alternate", "type",
                                           "application/vnd.openstack.image", "href", alt));
    return links;
}

static const char *api_status(const char *s) {
    static const char *map[][2] = {{"active", "ACTIVE"},          {"queued", "SAVING"},
                                   {"saving", "SAVING"},          {"deleted", "DELETED"},
                                   {"pending_delete", "DELETED"}, {"killed", "ERROR"}};
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if (!strcmp(map[i][0], s)) return map[i][1];
    return "UNKNOWN";
}

static int progress(const char *s) {
    return !strcmp(s, "active") ? 100 : !strcmp(s, "saving") ? 50 : !strcmp(s, "queued") ? 25 : 0;
}

/* oslo's lenient bool_from_string: only these spellings are true. */
static bool truthy(const char *s) {
    static const char *yes[] = {"1", "t", "true", "on", "y", "yes"};
    for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++)
        if (!strcasecmp(s, yes[i])) return true;
    return false;
}

static json_t *image_view(const struct req *r, PGresult *res, int i, bool detail) {
    const char *id = db_str(res, i, C_ID);
    json_t *img =
        json_pack("{s:s,s:o,s:o}", "id", id, "name",
                  db_isnull(res, i, C_NAME) ? json_null() : json_string(db_str(res, i, C_NAME)),
                  "links", image_links(r, id));
    if (!detail) return img;
    const char *status = db_str(res, i, C_STATUS);
    json_t *props = json_loads(db_str(res, i, C_PROPS), 0, NULL);
    if (!props) props = json_object();
    json_object_set_new(img, "minRam", json_integer(db_int(res, i, C_MIN_RAM)));
    json_object_set_new(img, "minDisk", json_integer(db_int(res, i, C_MIN_DISK)));
    json_object_set_new(img, "created", json_string(db_str(res, i, C_CREATED)));
    json_object_set_new(img, "updated", json_string(db_str(res, i, C_UPDATED)));
    json_object_set_new(img, "status", json_string(api_status(status)));
    json_object_set_new(img, "progress", json_integer(progress(status)));
    json_object_set_new(img, "OS-EXT-IMG-SIZE:size", json_integer(db_int(res, i, C_SIZE)));
    const char *server = json_string_value(json_object_get(props, "instance_uuid"));
    if (server) {
        char path[300];
        snprintf(path, sizeof path, "/servers/%s", server);
        json_object_set_new(img, "server",
                            json_pack("{s:s,s:o}", "id", server, "links", resource_links(r, path)));
    }
    const char *adc = json_string_value(json_object_get(props, "auto_disk_config"));
    if (adc)
        json_object_set_new(img, "OS-DCF:diskConfig", json_string(truthy(adc) ? "AUTO" : "MANUAL"));
    json_object_set_new(img, "metadata", props);
    return img;
}

/* ---- list and detail ---- */

/* Glance takes only whole non-negative numbers for min_ram / min_disk. */
static bool whole_number(const char *s) {
    if (!*s) return false;
    for (; *s; s++)
        if (!isdigit((unsigned char)*s)) return false;
    return true;
}

/* An ISO 8601 date or date-time, as Glance parses changes-since. */
static bool iso_time(const char *s) {
    int y, mo, d, h, mi, se;
    char c;
    return sscanf(s, "%4d-%2d-%2d%c", &y, &mo, &d, &c) >= 3 &&
           (strlen(s) == 10 ||
            sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d", &y, &mo, &d, &h, &mi, &se) == 6) &&
           mo >= 1 && mo <= 12 && d >= 1 && d <= 31;
}

/* property-* filters (and server / type, which Nova maps to the
 * instance_uuid / image_type properties) as one JSON object. */
static char *property_filters(const struct req *r) {
    json_t *f = json_object();
    const char *key;
    json_t *vals;
    json_object_foreach(r->query_map, key, vals) {
        if (!strncmp(key, "property-", 9))
            json_object_set_new(f, key + 9, json_string(req_query(r, key)));
    }
    const char *v = req_query(r, "server");
    if (v) {
        const char *slash = strrchr(v, '/');
        json_object_set_new(f, "instance_uuid", json_string(slash ? slash + 1 : v));
    }
    if ((v = req_query(r, "type"))) json_object_set_new(f, "image_type", json_string(v));
    char *s = json_dumps(f, JSON_COMPACT);
    json_decref(f);
    return s;
}

#define IMAGE_VISIBLE "NOT i.deleted AND ($1::bool OR i.visibility = 'public' OR i.owner = $2)"

static int images_list(struct req *r, bool detail) {
    const char *min_ram = req_query(r, "minRam"), *min_disk = req_query(r, "minDisk");
    const char *since = req_query(r, "changes-since"), *marker = req_query(r, "marker");
    if (min_ram && !whole_number(min_ram))
        return api_error(r, 400, "Invalid min_ram filter value %s.", min_ram);
    if (min_disk && !whole_number(min_disk))
        return api_error(r, 400, "Invalid min_disk filter value %s.", min_disk);
    if (since && !iso_time(since))
        return api_error(r, 400, "Invalid changes-since value %s.", since);
    const char *admin = r->ctx.is_admin ? "t" : "f";
    PGresult *res;
    enum db_status st;
    if (marker) {
        const char *mp[] = {admin, r->ctx.project_id, uuid_valid(marker) ? marker : NULL};
        st = db_query(&res, "SELECT 1 FROM images i WHERE i.id = $3::uuid AND " IMAGE_VISIBLE, 3,
                      mp);
        if (st) return api_db_error(r, st);
        int found = PQntuples(res);
        PQclear(res);
        if (!found) return api_error(r, 400, "Marker %s could not be found.", marker);
    }
    char limit[24], *props = property_filters(r);
    long n = paging_limit(r);
    snprintf(limit, sizeof limit, "%ld", n);
    char status[64] = "";
    const char *s = req_query(r, "status");
    if (s) {
        snprintf(status, sizeof status, "%s", s);
        for (char *p = status; *p; p++)
            *p = (char)tolower((unsigned char)*p);
    }
    const char *params[] = {admin,
                            r->ctx.project_id,
                            req_query(r, "name"),
                            s ? status : NULL,
                            since,
                            min_ram,
                            min_disk,
                            props,
                            marker,
                            limit};
    st = db_query(
        &res,
        "SELECT " IMAGE_COLS " FROM images i WHERE " IMAGE_VISIBLE
        " AND ($3::text IS NULL OR i.name = $3) AND ($4::text IS NULL OR i.status = $4)"
        " AND ($5::timestamptz IS NULL OR COALESCE(i.updated_at, i.created_at) >= $5)"
        " AND ($6::numeric IS NULL OR i.min_ram >= $6) AND ($7::numeric IS NULL OR i.min_disk >= $7)"
        " AND NOT EXISTS (SELECT 1 FROM jsonb_each_text($8::jsonb) f WHERE NOT EXISTS"
        "   (SELECT 1 FROM image_properties p WHERE p.image_id = i.id"
        "    AND p.key = f.key AND p.value = f.value))"
        " AND ($9::uuid IS NULL OR (i.created_at, i.id) <"
        "   (SELECT m.created_at, m.id FROM images m WHERE m.id = $9::uuid))"
        " ORDER BY i.created_at DESC, i.id DESC LIMIT $10::int",
        10, params);
    free(props);
    if (st) return api_db_error(r, st);
    json_t *list = json_array();
    int rows = PQntuples(res);
    for (int i = 0; i < rows; i++)
        json_array_append_new(list, image_view(r, res, i, detail));
    json_t *body = json_pack("{s:o}", "images", list);
    /* Nova links the next page only when the caller asked for a limit */
    if (rows && req_query(r, "limit") && rows == n)
        json_object_set_new(
            body, "images_links",
            paging_link(r, detail ? "/images/detail" : "/images", db_str(res, rows - 1, C_ID)));
    PQclear(res);
    return api_reply(r, 200, body);
}

int images_index(struct req *r) {
    return images_list(r, false);
}

int images_detail(struct req *r) {
    return images_list(r, true);
}

int images_show(struct req *r) {
    struct image_ref img;
    int st = images_find(r, req_param(r, "id"), &img);
    if (st) return st;
    const char *params[] = {img.id};
    PGresult *res;
    enum db_status dst =
        db_query(&res, "SELECT " IMAGE_COLS " FROM images i WHERE i.id = $1::uuid", 1, params);
    if (dst) return api_db_error(r, dst);
    if (!PQntuples(res)) {
        PQclear(res);
        return api_error(r, 404, "Image not found.");
    }
    json_t *body = json_pack("{s:o}", "image", image_view(r, res, 0, true));
    PQclear(res);
    return api_reply(r, 200, body);
}

int images_delete_ref(struct req *r, const struct image_ref *img, const char *protected_msg,
                      const char *not_allowed, const char *not_found) {
    if (!images_may_modify(r, img)) return api_error(r, 403, not_allowed, img->id);
    if (img->protected_) return api_error(r, 403, protected_msg, img->id);
    const char *params[] = {img->id};
    PGresult *res;
    enum db_status dst = db_query(&res,
                                  "UPDATE images SET deleted = true, status = 'deleted',"
                                  " deleted_at = now(), updated_at = now()"
                                  " WHERE id = $1::uuid AND NOT deleted RETURNING id",
                                  1, params);
    if (dst) return api_db_error(r, dst);
    int n = PQntuples(res);
    PQclear(res);
    if (!n) return api_error(r, 404, not_found, img->id);
    image_store_remove(img->id);
    return api_reply(r, 204, NULL);
}

int images_delete(struct req *r) {
    struct image_ref img;
    int st = images_find(r, req_param(r, "id"), &img);
    if (st) return st;
    return images_delete_ref(r, &img, "You are not allowed to delete the image.",
                             "You are not allowed to delete the image.", "Image not found.");
}
