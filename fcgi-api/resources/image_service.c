/* image_service.c — the read side of the Image service API (Glance v2:
 * GET /v2/images and /v2/images/{id}) over the built-in image registry, so
 * that clients which look images up in the image service before they boot
 * (`nova boot --image`, openstacksdk) work against a cnova without Glance.
 * Served at /image/v2/images (an image endpoint of its own) and under the
 * compute endpoint (/v2.1[/{project_id}]/v2/images), where a client given
 * only the compute URL sends its image requests. Images are Glance's JSON:
 * core fields plus the properties at the top level, newest first. */
#include <string.h>

#include "images.h"

/* One image as Glance writes it (properties first: core fields win). */
#define GLANCE_IMAGE_SQL                                                                           \
    "SELECT (COALESCE((SELECT jsonb_object_agg(p.key, p.value) FROM image_properties p"            \
    "  WHERE p.image_id = i.id), '{}') || jsonb_build_object('id', i.id, 'name', i.name,"          \
    " 'status', i.status, 'visibility', i.visibility, 'protected', i.protected,"                   \
    " 'os_hidden', false, 'checksum', NULL, 'os_hash_algo', NULL, 'os_hash_value', NULL,"          \
    " 'owner', i.owner, 'size', i.size, 'virtual_size', NULL, 'min_ram', i.min_ram,"               \
    " 'min_disk', i.min_disk, 'disk_format', i.disk_format,"                                       \
    " 'container_format', i.container_format, 'tags', '[]'::jsonb,"                                \
    " 'created_at', to_char(i.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'),"   \
    " 'updated_at', to_char(COALESCE(i.updated_at, i.created_at) AT TIME ZONE 'UTC',"              \
    "   'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'),"                                                        \
    " 'self', '/v2/images/' || i.id, 'file', '/v2/images/' || i.id || '/file',"                    \
    " 'schema', '/v2/schemas/image'))::text FROM images i WHERE NOT i.deleted"

const char *image_service_path(const char *path) {
    const char *p = NULL;
    if (!strncmp(path, "/image/v2/images", 16))
        p = path + 6;
    else if (!strncmp(path, "/v2.1/", 6)) {
        p = path + 5;
        if (strncmp(p, "/v2/images", 10)) p += 1 + strcspn(p + 1, "/"); /* a project id */
    }
    if (!p || strncmp(p, "/v2/images", 10) || (p[10] && p[10] != '/')) return NULL;
    return p + 3; /* "/images..." */
}

/* "in:a,b" (Glance's list operator) or a plain value -> a text[] literal
 * of its comma-separated items. */
static void in_list(const char *v, struct sbuf *out) {
    if (!strncmp(v, "in:", 3)) v += 3;
    sbuf_add(out, "{", 1);
    for (const char *p = v; *p;) {
        size_t n = strcspn(p, ",");
        if (out->len > 1) sbuf_add(out, ",", 1);
        sbuf_add(out, "\"", 1);
        for (size_t i = 0; i < n; i++) {
            if (p[i] == '"' || p[i] == '\\') sbuf_add(out, "\\", 1);
            sbuf_add(out, p + i, 1);
        }
        sbuf_add(out, "\"", 1);
        p += n + (p[n] == ',');
    }
    sbuf_add(out, "}", 1);
}

int image_service(struct req *r, const char *rest) {
    if (r->method != GET && r->method != HEAD) {
        api_header(r, "Allow", "GET");
        return api_error(r, 405, "The method is not allowed for the requested URL.");
    }
    const char *id = rest[7] == '/' ? rest + 8 : NULL; /* after "/images" */
    if (id && (!*id || strchr(id, '/')))
        return api_error(r, 404, "The resource could not be found.");
    struct db_sql q = {.text = ""};
    struct sbuf names = {0}, ids = {0};
    db_sql_add(&q, GLANCE_IMAGE_SQL, NULL);
    if (!r->ctx.is_admin)
        db_sql_add(&q, " AND (i.visibility IN ('public', 'community') OR i.owner = $?)",
                   r->ctx.project_id);
    if (id) {
        if (!uuid_valid(id)) return api_error(r, 404, "No image found with ID %s", id);
        db_sql_add(&q, " AND i.id = $?::uuid", id);
    } else {
        const char *v;
        if ((v = req_query(r, "name"))) {
            in_list(v, &names);
            db_sql_add(&q, " AND i.name = ANY($?::text[])", names.s);
        }
        if ((v = req_query(r, "id"))) {
            in_list(v, &ids);
            db_sql_add(&q, " AND i.id::text = ANY($?::text[])", ids.s);
        }
        if ((v = req_query(r, "status"))) db_sql_add(&q, " AND i.status = $?", v);
        if ((v = req_query(r, "visibility"))) db_sql_add(&q, " AND i.visibility = $?", v);
        db_sql_add(&q, " ORDER BY i.created_at DESC, i.id DESC", NULL);
    }
    PGresult *res;
    enum db_status st = db_query_sql(&res, &q);
    sbuf_free(&names);
    sbuf_free(&ids);
    if (st) return api_db_error(r, st);
    int rows = PQntuples(res);
    if (id && !rows) {
        PQclear(res);
        return api_error(r, 404, "No image found with ID %s", id);
    }
    json_t *list = json_array();
    for (int i = 0; i < rows; i++)
        json_array_append_new(list, json_loads(db_str(res, i, 0), 0, NULL));
    PQclear(res);
    if (id) {
        json_t *one = json_incref(json_array_get(list, 0));
        json_decref(list);
        return api_reply(r, 200, one);
    }
    return api_reply(r, 200,
                     json_pack("{s:o,s:s,s:s}", "images", list, "first", "/v2/images", "schema",
                               "/v2/schemas/images"));
}
