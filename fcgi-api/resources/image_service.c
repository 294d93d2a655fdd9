/* image_service.c — the Image service API (Glance v2) over the built-in
 * image registry, so that a cnova needs no Glance: the version documents,
 * list and show, create, JSON-patch update and delete of images (their
 * data: image_data.c). Served at /image (an image endpoint of its own)
 * and under the compute endpoint (/v2.1[/{project_id}]/v2/images), where a
 * client given only the compute URL sends its image requests. Images are
 * Glance's JSON: core fields plus the properties at the top level, newest
 * first; answers use Glance's codes and wording in cnova's one error body.
 * The routes are data (image_routes below), matched here: this face of the
 * API has its own table, and the same auth and error path. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "images.h"
#include "json_pointer.h"

/* One image as Glance writes it (properties first: core fields win). */
#define GLANCE_IMAGE_SQL                                                                           \
    "SELECT (COALESCE((SELECT jsonb_object_agg(p.key, p.value) FROM image_properties p"            \
    "  WHERE p.image_id = i.id), '{}') || jsonb_build_object('id', i.id, 'name', i.name,"          \
    " 'status', i.status, 'visibility', i.visibility, 'protected', i.protected,"                   \
    " 'os_hidden', i.os_hidden, 'checksum', i.checksum, 'os_hash_algo', i.os_hash_algo,"           \
    " 'os_hash_value', i.os_hash_value, 'owner', i.owner, 'size', i.size,"                         \
    " 'virtual_size', i.virtual_size, 'min_ram', i.min_ram,"                                       \
    " 'min_disk', i.min_disk, 'disk_format', i.disk_format,"                                       \
    " 'container_format', i.container_format, 'tags', to_jsonb(i.tags),"                           \
    " 'created_at', to_char(i.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'),"   \
    " 'updated_at', to_char(COALESCE(i.updated_at, i.created_at) AT TIME ZONE 'UTC',"              \
    "   'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'),"                                                        \
    " 'self', '/v2/images/' || i.id, 'file', '/v2/images/' || i.id || '/file',"                    \
    " 'schema', '/v2/schemas/image'))::text FROM images i WHERE NOT i.deleted"

#define NOT_FOUND "No image found with ID %s"
#define PATCH_TYPE "application/openstack-images-v2.1-json-patch"

/* ---- where a path belongs ---- */

/* Does `p` start with the path segment(s) `seg` (whole segments)? */
static bool under(const char *p, const char *seg) {
    size_t n = strlen(seg);
    return !strncmp(p, seg, n) && (!p[n] || p[n] == '/');
}

/* the image service's own paths: images, their JSON schemas and the
 * (empty) metadata definitions catalog */
static bool is_image_path(const char *p) {
    return under(p, "/v2/images") || under(p, "/v2/schemas") || under(p, "/v2/metadefs");
}

const char *image_service_path(const char *path) {
    const char *p = NULL;
    if (!strncmp(path, "/image", 6) && (!path[6] || path[6] == '/')) {
        p = path + 6;
        /* the version documents: /image, /image/, /image/v2, /image/v2/ */
        if (!*p || !strcmp(p, "/") || !strcmp(p, "/v2") || !strcmp(p, "/v2/")) return "/";
    } else if (!strncmp(path, "/v2.1/", 6)) {
        p = path + 5;
        if (!is_image_path(p)) p += 1 + strcspn(p + 1, "/"); /* a project id */
    }
    if (!p || !is_image_path(p)) return NULL;
    return p + 3; /* "/images...", "/schemas..." or "/metadefs..." */
}

/* Glance's version document (300 Multiple Choices), at the image
 * endpoint's root, which keystoneauth reads before its first request. */
static int versions(struct req *r) {
    json_t *list = json_array();
    char href[400];
    snprintf(href, sizeof href, "%s/image/v2/", r->base_url);
    for (int minor = 16; minor >= 0; minor--) {
        char id[16];
        snprintf(id, sizeof id, "v2.%d", minor);
        json_array_append_new(list, json_pack("{s:s,s:s,s:[{s:s,s:s}]}", "id", id, "status",
                                              minor == 16 ? "CURRENT" : "SUPPORTED", "links", "rel",
                                              "self", "href", href));
    }
    return api_reply(r, 300, json_pack("{s:o}", "versions", list));
}

/* ---- the JSON schemas of an image and of a list of images ---- */

/* GET /v2/schemas/image: the JSON schema of one image as this registry
 * writes it (GLANCE_IMAGE_SQL: core fields, other properties as strings
 * at the top level). python-glanceclient reads it before it lists images
 * (its image model is built from it), and so does Horizon through it. */
#define NULL_OR(t) "[\"null\", \"" t "\"]"
static const char IMAGE_SCHEMA_PROPERTIES[] =
    "{\"id\": {\"type\": \"string\", \"description\": \"The image's UUID\","
    "  \"pattern\": \"^([0-9a-fA-F]){8}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-"
    "([0-9a-fA-F]){12}$\"},"
    " \"name\": {\"type\": " NULL_OR("string") ", \"maxLength\": 255},"
    " \"status\": {\"type\": \"string\", \"readOnly\": true, \"enum\": [\"queued\","
    "  \"saving\", \"active\", \"killed\", \"deleted\", \"uploading\", \"importing\","
    "  \"pending_delete\", \"deactivated\"]},"
    " \"visibility\": {\"type\": \"string\", \"enum\": [\"community\", \"public\","
    "  \"private\", \"shared\"]},"
    " \"protected\": {\"type\": \"boolean\"},"
    " \"os_hidden\": {\"type\": \"boolean\"},"
    " \"checksum\": {\"type\": " NULL_OR("string") ", \"readOnly\": true, \"maxLength\": 32},"
    " \"os_hash_algo\": {\"type\": " NULL_OR("string") ", \"readOnly\": true, \"maxLength\": 64},"
    " \"os_hash_value\": {\"type\": " NULL_OR("string") ", \"readOnly\": true, \"maxLength\": 128},"
    " \"owner\": {\"type\": " NULL_OR("string") ", \"maxLength\": 255},"
    " \"size\": {\"type\": " NULL_OR("integer") ", \"readOnly\": true},"
    " \"virtual_size\": {\"type\": " NULL_OR("integer") ", \"readOnly\": true},"
    " \"min_ram\": {\"type\": \"integer\"},"
    " \"min_disk\": {\"type\": \"integer\"},"
    " \"disk_format\": {\"type\": " NULL_OR("string") ", \"enum\": [null, \"ami\", \"ari\","
    "  \"aki\", \"vhd\", \"vhdx\", \"vmdk\", \"raw\", \"qcow2\", \"vdi\", \"iso\", \"ploop\"]},"
    " \"container_format\": {\"type\": " NULL_OR("string") ", \"enum\": [null, \"ami\", \"ari\","
    "  \"aki\", \"bare\", \"ovf\", \"ova\", \"docker\", \"compressed\"]},"
    " \"tags\": {\"type\": \"array\", \"items\": {\"type\": \"string\", \"maxLength\": 255}},"
    " \"created_at\": {\"type\": \"string\", \"readOnly\": true},"
    " \"updated_at\": {\"type\": \"string\", \"readOnly\": true},"
    " \"self\": {\"type\": \"string\", \"readOnly\": true},"
    " \"file\": {\"type\": \"string\", \"readOnly\": true},"
    " \"schema\": {\"type\": \"string\", \"readOnly\": true}}";

static json_t *image_schema(void) {
    json_t *props = json_loads(IMAGE_SCHEMA_PROPERTIES, 0, NULL);
    if (!props) return NULL;
    return json_pack("{s:s,s:o,s:{s:s},s:[{s:s,s:s},{s:s,s:s},{s:s,s:s}]}", "name", "image",
                     "properties", props, "additionalProperties", "type", "string", "links",
                     "rel", "self", "href", "{self}", "rel", "enclosure", "href", "{file}",
                     "rel", "describedby", "href", "{schema}");
}

static int schema_image(struct req *r) {
    json_t *s = image_schema();
    if (!s) return api_error(r, 500, "The image schema could not be built.");
    return api_reply(r, 200, s);
}

/* GET /v2/schemas/images: a page of images, as image_service_list answers */
static int schema_images(struct req *r) {
    json_t *img = image_schema();
    if (!img) return api_error(r, 500, "The image schema could not be built.");
    return api_reply(r, 200,
                     json_pack("{s:s,s:{s:{s:s,s:o},s:{s:s},s:{s:s},s:{s:s}},s:[{s:s,s:s},"
                               "{s:s,s:s},{s:s,s:s}]}",
                               "name", "images", "properties", "images", "type", "array",
                               "items", img, "schema", "type", "string", "first", "type",
                               "string", "next", "type", "string", "links", "rel", "first",
                               "href", "{first}", "rel", "next", "href", "{next}", "rel",
                               "describedby", "href", "{schema}"));
}

/* ---- the metadata definitions catalog: empty ---- */

/* Glance's metadefs describe the properties a dashboard may offer for
 * images, flavors and servers; this registry defines none. Horizon asks for
 * them in Launch Instance (the Metadata step) and in its "Update Metadata"
 * dialogs, through python-glanceclient, which reads the namespace schema
 * first: an empty catalog, and a schema that says what a namespace is. */
static int schema_namespace(struct req *r) {
    return api_reply(
        r, 200,
        json_pack("{s:s,s:{s:{s:s,s:i},s:{s:s,s:i},s:{s:s},s:{s:s,s:[s,s]},s:{s:s},"
                  "s:{s:s},s:{s:s},s:{s:s},s:{s:s},s:{s:s}},s:[s],s:b,s:[{s:s,s:s},{s:s,s:s}]}",
                  "name", "namespace", "properties", "namespace", "type", "string", "maxLength",
                  80, "display_name", "type", "string", "maxLength", 80, "description", "type",
                  "string", "visibility", "type", "string", "enum", "public", "private",
                  "protected", "type", "boolean", "owner", "type", "string", "created_at",
                  "type", "string", "updated_at", "type", "string", "self", "type", "string",
                  "schema", "type", "string", "required", "namespace", "additionalProperties",
                  0, "links", "rel", "self", "href", "{self}", "rel", "describedby", "href",
                  "{schema}"));
}

static int metadefs_namespaces(struct req *r) {
    return api_reply(r, 200,
                     json_pack("{s:[],s:s,s:s}", "namespaces", "first", "/v2/metadefs/namespaces",
                               "schema", "/v2/schemas/metadefs/namespaces"));
}

/* ---- the route table of this face ---- */

enum image_body { BODY_NONE, BODY_JSON, BODY_PATCH, BODY_DATA };

static const struct image_route {
    enum http_method method;
    const char *path;
    enum image_body body;
    handler_fn handler;
} image_routes[] = {
    {GET, "/images", BODY_NONE, image_service_list},
    {POST, "/images", BODY_JSON, image_service_create},
    {GET, "/images/{image_id}", BODY_NONE, image_service_show},
    {PATCH, "/images/{image_id}", BODY_PATCH, image_service_update},
    {DELETE, "/images/{image_id}", BODY_NONE, image_service_delete},
    {GET, "/images/{image_id}/file", BODY_NONE, image_data_download},
    {PUT, "/images/{image_id}/file", BODY_DATA, image_data_upload},
    {GET, "/schemas/image", BODY_NONE, schema_image},
    {GET, "/schemas/images", BODY_NONE, schema_images},
    {GET, "/schemas/metadefs/namespace", BODY_NONE, schema_namespace},
    {GET, "/metadefs/namespaces", BODY_NONE, metadefs_namespaces},
};
#define NIMAGE_ROUTES (sizeof image_routes / sizeof image_routes[0])

/* Does `path` fit template `tmpl`? Fills the {param} into *param. */
static bool fits(const char *tmpl, const char *path, const char **param, size_t *plen) {
    while (*tmpl && *path) {
        if (*tmpl == '{') {
            size_t n = strcspn(path, "/");
            if (!n) return false;
            *param = path;
            *plen = n;
            path += n;
            tmpl += strcspn(tmpl, "}") + 1;
        } else if (*tmpl++ != *path++)
            return false;
    }
    return !*tmpl && !*path;
}

static bool content_type_is(const char *ct, const char *want) {
    if (!ct) return false;
    size_t n = strcspn(ct, ";");
    while (n && ct[n - 1] == ' ')
        n--;
    return n == strlen(want) && !strncasecmp(ct, want, n);
}

/* The body step of this face: each route takes one kind of body. */
static int read_body(struct req *r, enum image_body kind) {
    switch (kind) {
    case BODY_NONE:
    case BODY_DATA:
        if (kind == BODY_DATA && !content_type_is(r->content_type, "application/octet-stream"))
            return api_error(r, 415, "Invalid content type %s",
                             r->content_type ? r->content_type : "");
        return 0;
    case BODY_JSON:
        if (r->content_type && *r->content_type &&
            !content_type_is(r->content_type, "application/json"))
            return api_error(r, 415, "Unsupported Content-Type");
        if (r->content_length <= 0 && !r->body_raw)
            return api_error(r, 400, "Body expected in request.");
        return api_read_json(r, "Malformed JSON in request body.");
    case BODY_PATCH:
        if (!content_type_is(r->content_type, PATCH_TYPE)) {
            api_header(r, "Accept-Patch", PATCH_TYPE);
            return api_error(r, 415, "Image PATCH expects Content-Type one of: " PATCH_TYPE);
        }
        if (r->content_length <= 0 && !r->body_raw)
            return api_error(r, 400, "Body expected in request.");
        return api_read_json(r, "Malformed JSON in request body.");
    }
    return 0;
}

int image_service(struct req *r, const char *rest) {
    if (!strcmp(rest, "/")) return versions(r);
    int st = auth_request(r);
    if (st) return st;
    const struct image_route *hit = NULL;
    char allow[64] = "";
    const char *param = NULL;
    size_t plen = 0;
    for (size_t i = 0; i < NIMAGE_ROUTES; i++) {
        const struct image_route *rt = &image_routes[i];
        if (!fits(rt->path, rest, &param, &plen)) continue;
        if (rt->method == r->method) hit = rt;
        size_t len = strlen(allow);
        snprintf(allow + len, sizeof allow - len, "%s%s", len ? ", " : "",
                 router_method_name(rt->method));
    }
    if (!allow[0]) return api_error(r, 404, "The resource could not be found.");
    if (!hit) {
        api_header(r, "Allow", allow);
        return api_error(r, 405, "The method is not allowed for the requested URL.");
    }
    if (param) {
        r->param_names[0] = "image_id";
        r->params[0] = strndup(param, plen);
        r->nparams = 1;
    }
    if ((st = read_body(r, hit->body))) return st;
    return hit->handler(r);
}

/* ---- reading ---- */

static int reply_image(struct req *r, const char *id, int status);

int image_service_find(struct req *r, struct image_ref *out) {
    return images_find_or(r, req_param(r, "image_id"), out, NOT_FOUND);
}

json_t *image_service_view(struct req *r, const char *id, int *rc) {
    const char *p[] = {id};
    json_t *img = api_query_json(r, rc, GLANCE_IMAGE_SQL " AND i.id = $1::uuid", 1, p);
    if (!img && !*rc) *rc = api_error(r, 404, NOT_FOUND, id);
    return img;
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

int image_service_list(struct req *r) {
    struct db_sql q = {.text = ""};
    struct sbuf names = {0}, ids = {0};
    db_sql_add(&q, GLANCE_IMAGE_SQL, NULL);
    if (!r->ctx.is_admin)
        db_sql_add(&q, " AND (i.visibility IN ('public', 'community') OR i.owner = $?)",
                   r->ctx.project_id);
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
    /* hidden images are listed only when asked for (Glance's os_hidden) */
    v = req_query(r, "os_hidden");
    bool hidden = false;
    if (v && !str_to_bool(v, &hidden))
        return api_error(r, 400,
                         "Invalid value '%s' for 'os_hidden' filter. Valid values are "
                         "'true' or 'false'.",
                         v);
    db_sql_add(&q, hidden ? " AND i.os_hidden" : " AND NOT i.os_hidden", NULL);
    db_sql_add(&q, " ORDER BY i.created_at DESC, i.id DESC", NULL);
    PGresult *res;
    enum db_status st = db_query_sql(&res, &q);
    sbuf_free(&names);
    sbuf_free(&ids);
    if (st) return api_db_error(r, st);
    json_t *list = json_array();
    for (int i = 0; i < PQntuples(res); i++)
        json_array_append_new(list, json_loads(db_str(res, i, 0), 0, NULL));
    PQclear(res);
    return api_reply(r, 200,
                     json_pack("{s:o,s:s,s:s}", "images", list, "first", "/v2/images", "schema",
                               "/v2/schemas/images"));
}

int image_service_show(struct req *r) {
    struct image_ref img;
    int st = image_service_find(r, &img);
    if (st) return st;
    return reply_image(r, img.id, 200);
}

/* ---- the fields, as data: Glance's image schema and its rules ---- */

enum field_kind { F_UUID, F_TEXT, F_VISIBILITY, F_BOOL, F_COUNT, F_DISK, F_CONTAINER, F_TAGS };

static const struct field {
    const char *name;
    enum field_kind kind;
} core_fields[] = {
    {"id", F_UUID},        {"name", F_TEXT},        {"visibility", F_VISIBILITY},
    {"protected", F_BOOL}, {"os_hidden", F_BOOL},   {"min_disk", F_COUNT},
    {"min_ram", F_COUNT},  {"disk_format", F_DISK}, {"container_format", F_CONTAINER},
    {"tags", F_TAGS},      {"owner", F_TEXT},
};

static const char *const disk_formats[] = {"ami", "ari",   "aki", "vhd", "vhdx",  "vmdk",
                                           "raw", "qcow2", "vdi", "iso", "ploop", NULL};
static const char *const container_formats[] = {"ami", "ari",    "aki",        "bare", "ovf",
                                                "ova", "docker", "compressed", NULL};
static const char *const visibilities[] = {"public", "private", "community", "shared", NULL};
/* Never written by a client (403 "read-only"), and never used (403 "reserved"). */
static const char *const read_only[] = {
    "created_at",   "updated_at",    "status", "checksum", "size",
    "virtual_size", "direct_url",    "self",   "file",     "schema",
    "os_hash_algo", "os_hash_value", "stores", NULL};
static const char *const reserved[] = {"location", "deleted", "deleted_at", NULL};

static bool in_set(const char *const *set, const char *s) {
    for (; s && *set; set++)
        if (!strcmp(*set, s)) return true;
    return false;
}

static const struct field *core_field(const char *name) {
    for (size_t i = 0; i < sizeof core_fields / sizeof core_fields[0]; i++)
        if (!strcmp(core_fields[i].name, name)) return &core_fields[i];
    return NULL;
}

/* A value as Python's repr shows it in jsonschema's messages. */
static void repr(const json_t *v, char *out, size_t n) {
    if (json_is_string(v)) {
        snprintf(out, n, "'%s'", json_string_value(v));
        return;
    }
    if (json_is_true(v) || json_is_false(v) || json_is_null(v)) {
        snprintf(out, n, "%s", json_is_true(v) ? "True" : json_is_false(v) ? "False" : "None");
        return;
    }
    char *s = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
    snprintf(out, n, "%s", s ? s : "?");
    free(s);
}

static void one_of(const char *const *set, const char *what, char *out, size_t n) {
    size_t len = strlen(out);
    snprintf(out + len, n - len, "%s is not one of [", what);
    for (const char *const *p = set; *p; p++) {
        len = strlen(out);
        snprintf(out + len, n - len, "%s'%s'", p == set ? "" : ", ", *p);
    }
    len = strlen(out);
    snprintf(out + len, n - len, "]");
}

/* Checks value v of a field (core field f, or a property when f is NULL)
 * against Glance's image schema; NULL, or jsonschema's reason. */
static const char *check_value(const struct field *f, const json_t *v, char *why, size_t n) {
    char rv[300];
    repr(v, rv, sizeof rv);
    why[0] = 0;
    enum field_kind kind = f ? f->kind : F_TEXT;
    bool nullable = f && (kind == F_TEXT || kind == F_DISK || kind == F_CONTAINER);
    if (json_is_null(v) && nullable) return NULL;
    switch (kind) {
    case F_UUID:
        if (!json_is_string(v)) break;
        if (!uuid_valid(json_string_value(v)))
            snprintf(why, n, "%s does not match the uuid pattern", rv);
        return why[0] ? why : NULL;
    case F_TEXT: /* core text fields have at most 255 characters; properties any */
        if (!json_is_string(v)) break;
        if (f && strlen(json_string_value(v)) > 255) snprintf(why, n, "%s is too long", rv);
        return why[0] ? why : NULL;
    case F_BOOL:
        if (json_is_boolean(v)) return NULL;
        snprintf(why, n, "%s is not of type 'boolean'", rv);
        return why;
    case F_COUNT:
        if (!json_is_integer(v)) {
            snprintf(why, n, "%s is not of type 'integer'", rv);
            return why;
        }
        if (json_integer_value(v) < 0) snprintf(why, n, "%s is less than the minimum of 0", rv);
        return why[0] ? why : NULL;
    case F_VISIBILITY:
    case F_DISK:
    case F_CONTAINER: {
        const char *const *set = kind == F_VISIBILITY ? visibilities
                                 : kind == F_DISK     ? disk_formats
                                                      : container_formats;
        if (in_set(set, json_string_value(v))) return NULL;
        one_of(set, rv, why, n);
        return why;
    }
    case F_TAGS:
        if (!json_is_array(v)) break;
        for (size_t i = 0; i < json_array_size(v); i++) {
            const json_t *t = json_array_get(v, i);
            repr(t, rv, sizeof rv);
            if (!json_is_string(t))
                snprintf(why, n, "%s is not of type 'string'", rv);
            else if (strlen(json_string_value(t)) > 255)
                snprintf(why, n, "%s is too long", rv);
            if (why[0]) return why;
        }
        return NULL;
    }
    snprintf(why, n, "%s is not of type '%s'", rv,
             kind == F_TAGS ? "array"
             : nullable     ? "null', 'string"
                            : "string");
    return why;
}

static int schema_error(struct req *r, const char *why) {
    return api_error(r, 400, "Provided object does not match schema 'image': %s", why);
}

/* The 403 for a field no client may write, or 0. */
static int forbidden_field(struct req *r, const char *name) {
    if (in_set(read_only, name)) return api_error(r, 403, "Attribute '%s' is read-only.", name);
    if (in_set(reserved, name) || !strncmp(name, "os_glance", 9))
        return api_error(r, 403, "Attribute '%s' is reserved.", name);
    return 0;
}

/* Tags as a set, in the order first given. */
static json_t *unique_tags(const json_t *tags) {
    json_t *out = json_array();
    for (size_t i = 0; i < json_array_size(tags); i++) {
        const char *t = json_string_value(json_array_get(tags, i));
        bool seen = false;
        for (size_t j = 0; j < json_array_size(out) && !seen; j++)
            seen = !strcmp(json_string_value(json_array_get(out, j)), t);
        if (!seen) json_array_append_new(out, json_string(t));
    }
    return out;
}

/* The rules across fields, checked on the image as it would be saved:
 * Glance's kernel/ramdisk/machine formats must match, and only an admin
 * publicizes an image. */
static int check_image(struct req *r, const json_t *core, bool visibility_set) {
    static const char *const amazon[] = {"aki", "ari", "ami", NULL};
    const char *disk = json_string_value(json_object_get(core, "disk_format"));
    const char *cont = json_string_value(json_object_get(core, "container_format"));
    if (disk && cont && (in_set(amazon, disk) || in_set(amazon, cont)) && strcmp(disk, cont))
        return api_error(r, 400,
                         "Invalid mix of disk and container formats. When setting a disk or "
                         "container format to one of 'aki', 'ari', or 'ami', the container and "
                         "disk formats must match.");
    const char *vis = json_string_value(json_object_get(core, "visibility"));
    if (visibility_set && !r->ctx.is_admin && vis && !strcmp(vis, "public"))
        return api_error(r, 403, "You are not authorized to complete publicize_image action.");
    return 0;
}

/* ---- writing ---- */

/* A core value as a statement parameter (NULL for null), in buf if needed. */
static const char *param_of(const json_t *v, char *buf, size_t n) {
    if (json_is_string(v)) return json_string_value(v);
    if (json_is_integer(v)) {
        snprintf(buf, n, "%lld", (long long)json_integer_value(v));
        return buf;
    }
    if (json_is_boolean(v)) return json_is_true(v) ? "t" : "f";
    return NULL;
}

/* Writes an image's core fields, tags and properties in one transaction:
 * a new row (insert), or the row of `status` (else DB_CONFLICT: it changed
 * meanwhile, e.g. an upload started). */
static enum db_status save_image(const char *id, const json_t *core, const json_t *props,
                                 bool insert, const char *status) {
    static const char *const cols[] = {"name",     "disk_format", "container_format",
                                       "min_disk", "min_ram",     "visibility",
                                       "owner",    "protected",   "os_hidden"};
    const char *p[13];
    char bufs[9][32];
    p[0] = id;
    for (int i = 0; i < 9; i++)
        p[1 + i] = param_of(json_object_get(core, cols[i]), bufs[i], sizeof bufs[i]);
    char *tags = json_dumps(json_object_get(core, "tags"), JSON_COMPACT | JSON_ENCODE_ANY);
    char *doc = json_dumps(props, JSON_COMPACT);
    p[10] = tags;
    p[11] = status;
    enum db_status st = db_begin();
    PGresult *res = NULL;
    if (!st && insert)
        st = db_exec("INSERT INTO images (id, name, status, size, disk_format, container_format,"
                     " min_disk, min_ram, visibility, owner, protected, os_hidden, tags,"
                     " created_at, updated_at) VALUES ($1::uuid, $2, 'queued', NULL, $3, $4,"
                     " $5::int, $6::int, $7, $8, $9::bool, $10::bool,"
                     " ARRAY(SELECT jsonb_array_elements_text($11::jsonb)), now(), now())",
                     11, p);
    else if (!st) {
        st = db_query(&res,
                      "UPDATE images SET name = $2, disk_format = $3, container_format = $4,"
                      " min_disk = $5::int, min_ram = $6::int, visibility = $7, owner = $8,"
                      " protected = $9::bool, os_hidden = $10::bool,"
                      " tags = ARRAY(SELECT jsonb_array_elements_text($11::jsonb)),"
                      " updated_at = now() WHERE id = $1::uuid AND NOT deleted AND status = $12"
                      " RETURNING id",
                      12, p);
        if (!st && !PQntuples(res)) st = DB_CONFLICT;
        PQclear(res);
    }
    const char *pp[] = {id, doc};
    if (!st && !insert)
        st = db_exec("DELETE FROM image_properties WHERE image_id = $1::uuid", 1, pp);
    if (!st)
        st = db_exec("INSERT INTO image_properties (image_id, key, value)"
                     " SELECT $1::uuid, key, value FROM jsonb_each_text($2::jsonb)",
                     2, pp);
    if (!st) st = db_commit();
    if (st) db_rollback();
    free(tags);
    free(doc);
    return st;
}

static int reply_image(struct req *r, const char *id, int status) {
    int rc = 0;
    json_t *img = image_service_view(r, id, &rc);
    if (!img) return rc;
    if (status == 201) {
        char loc[2400]; /* the collection's URL as the client wrote it, and the id */
        snprintf(loc, sizeof loc, "%s%s/%s", r->base_url, r->path, id);
        api_header(r, "Location", loc);
    }
    return api_reply(r, status, img);
}

int image_service_create(struct req *r) {
    if (!json_is_object(r->body)) {
        char rv[300], why[400];
        repr(r->body, rv, sizeof rv);
        snprintf(why, sizeof why, "%s is not of type 'object'", rv);
        return schema_error(r, why);
    }
    if (!r->ctx.is_member && !r->ctx.is_admin)
        return api_error(r, 403, "You are not authorized to complete add_image action.");
    const char *key;
    json_t *v;
    char why[1024];
    json_object_foreach(r->body, key, v) {
        if (in_set(read_only, key)) return forbidden_field(r, key);
    }
    json_object_foreach(r->body, key, v) {
        if (check_value(core_field(key), v, why, sizeof why)) return schema_error(r, why);
    }
    json_t *core = json_pack("{s:n,s:s,s:b,s:b,s:i,s:i,s:n,s:n,s:[],s:s}", "name", "visibility",
                             "shared", "protected", 0, "os_hidden", 0, "min_disk", 0, "min_ram", 0,
                             "disk_format", "container_format", "tags", "owner", r->ctx.project_id);
    json_t *props = json_object();
    int st = 0;
    json_object_foreach(r->body, key, v) {
        if (core_field(key)) {
            json_object_set(core, key, v);
            continue;
        }
        if (strlen(key) > 255) {
            st = api_error(r, 400, "Custom property should not be greater than 255 characters.");
            break;
        }
        if ((st = forbidden_field(r, key))) break;
        json_object_set(props, key, v);
    }
    const char *owner = json_string_value(json_object_get(core, "owner"));
    if (!st && !r->ctx.is_admin && (!owner || strcmp(owner, r->ctx.project_id)))
        st = api_error(r, 403, "You are not permitted to create images owned by '%s'.",
                       owner ? owner : "None");
    if (!st) st = check_image(r, core, true);
    json_object_set_new(core, "tags", unique_tags(json_object_get(core, "tags")));
    char id[37];
    const char *given = json_string_value(json_object_get(core, "id"));
    if (given)
        snprintf(id, sizeof id, "%s", given);
    else
        uuid_new(id);
    enum db_status dst = st ? DB_OK : save_image(id, core, props, true, NULL);
    json_decref(core);
    json_decref(props);
    if (st) return st;
    if (dst == DB_CONFLICT) return api_error(r, 409, "Image ID %s already exists!", id);
    if (dst) return api_db_error(r, dst);
    return reply_image(r, id, 201);
}

/* ---- PATCH: Glance's JSON patch (v2.1 media type: RFC 6902 ops) ---- */

struct image_state {
    const struct image_ref *img;
    json_t *core, *props;
    bool visibility_set;
};

/* One operation applied to the image as it will be saved. */
static int apply_op(struct req *r, struct image_state *s, const char *op, const char *name,
                    json_t *value) {
    const struct field *f = core_field(name);
    if (!strcmp(op, "remove")) {
        if (f) return api_error(r, 403, "Property %s may not be removed.", name);
        if (!json_object_get(s->props, name))
            return api_error(r, 409, "Property %s does not exist.", name);
        json_object_del(s->props, name);
        return 0;
    }
    char why[1024];
    if (check_value(f, value, why, sizeof why)) return schema_error(r, why);
    if (!f) {
        if (!strcmp(op, "replace") && !json_object_get(s->props, name))
            return api_error(r, 409, "Property %s does not exist.", name);
        json_object_set(s->props, name, value);
        return 0;
    }
    if ((!strcmp(name, "disk_format") || !strcmp(name, "container_format")) &&
        strcmp(s->img->status, "queued"))
        return api_error(r, 403, "Attribute %s can be only replaced for a queued image.", name);
    if (!strcmp(name, "owner") && !r->ctx.is_admin)
        return api_error(r, 403, "Owner can't be updated by non admin.");
    if (!strcmp(name, "visibility")) s->visibility_set = true;
    json_object_set_new(s->core, name,
                        !strcmp(name, "tags") ? unique_tags(value) : json_incref(value));
    return 0;
}

/* Checks one raw operation ({"op", "path", "value"}) and applies it. */
static int patch_one(struct req *r, struct image_state *s, json_t *raw) {
    if (!json_is_object(raw)) return api_error(r, 400, "Operations must be JSON objects.");
    const char *op = json_string_value(json_object_get(raw, "op"));
    if (!json_object_get(raw, "op"))
        return api_error(r, 400,
                         "Unable to find `op` in JSON Schema change. It must be one of "
                         "the following: add, remove, replace.");
    if (!op || (strcmp(op, "add") && strcmp(op, "remove") && strcmp(op, "replace"))) {
        char rv[300];
        repr(json_object_get(raw, "op"), rv, sizeof rv);
        return api_error(r, 400,
                         "Invalid operation: `%s`. It must be one of the following: "
                         "add, remove, replace.",
                         op ? op : rv);
    }
    const char *path = json_string_value(json_object_get(raw, "path"));
    if (!path) return api_error(r, 400, "Unable to find 'path' in JSON Schema change");
    struct json_pointer ptr;
    char err[1024];
    if (json_pointer_parse(path, &ptr, err, sizeof err)) return api_error(r, 400, "%s", err);
    int st = 0;
    json_t *value = json_object_get(raw, "value");
    if (ptr.n != 1)
        st = api_error(r, 400, "Invalid JSON pointer for this resource: '%s'", path);
    else if (strcmp(op, "remove") && !value)
        st = api_error(r, 400, "Operation \"%s\" requires a member named \"value\".", op);
    else if (!strcmp(ptr.tok[0], "id"))
        st = api_error(r, 403, "Attribute 'id' is read-only.");
    else if (!(st = forbidden_field(r, ptr.tok[0])))
        st = apply_op(r, s, op, ptr.tok[0], value);
    json_pointer_free(&ptr);
    return st;
}

/* The image's core fields as an object of the field names. */
static json_t *load_core(struct req *r, const char *id, int *rc) {
    const char *p[] = {id};
    return api_query_json(r, rc,
                          "SELECT jsonb_build_object('name', name, 'visibility', visibility,"
                          " 'protected', protected, 'os_hidden', os_hidden, 'min_disk', min_disk,"
                          " 'min_ram', min_ram, 'disk_format', disk_format, 'container_format',"
                          " container_format, 'tags', to_jsonb(tags), 'owner', owner)::text"
                          " FROM images WHERE id = $1::uuid",
                          1, p);
}

int image_service_update(struct req *r) {
    if (!json_is_array(r->body))
        return api_error(r, 400, "Request body must be a JSON array of operation objects.");
    struct image_ref img;
    int st = image_service_find(r, &img);
    if (st) return st;
    if (!images_may_modify(r, &img))
        return api_error(r, 403, "You are not authorized to complete modify_image action.");
    int rc = 0;
    enum db_status dst;
    struct image_state s = {.img = &img};
    s.core = load_core(r, img.id, &rc);
    if (!s.core) return rc ? rc : api_error(r, 404, NOT_FOUND, img.id);
    s.props = images_properties(img.id, &dst);
    if (!s.props) {
        json_decref(s.core);
        return api_db_error(r, dst);
    }
    size_t i;
    json_t *raw;
    json_array_foreach(r->body, i, raw) {
        if ((st = patch_one(r, &s, raw))) break;
    }
    if (!st) st = check_image(r, s.core, s.visibility_set);
    dst = st ? DB_OK : save_image(img.id, s.core, s.props, false, img.status);
    json_decref(s.core);
    json_decref(s.props);
    if (st) return st;
    if (dst == DB_CONFLICT)
        return api_error(r, 409, "Image %s changed while it was being updated.", img.id);
    if (dst) return api_db_error(r, dst);
    return reply_image(r, img.id, 200);
}

int image_service_delete(struct req *r) {
    struct image_ref img;
    int st = image_service_find(r, &img);
    if (st) return st;
    return images_delete_ref(r, &img, "Image %s is protected and cannot be deleted.",
                             "You are not authorized to complete delete_image action.",
                             "Failed to find image %s to delete");
}
