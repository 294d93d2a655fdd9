/* server_tags.c — /servers/{server_id}/tags[/{id}] (2.26+): a server's
 * tags (tags rows), at most 50, each 1-60 characters without '/' or ','.
 * As in Nova, the server is found through its mapping (any project, even
 * deleted): an unknown one is 404 "not mapped", and writes need vm_state
 * active, paused, suspended or stopped. Another project's server answers
 * exactly as an unknown one (Nova says 403 there, which tells the caller
 * the server exists; cnova never does: issue #15). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"

#define MAX_TAG_COUNT 50

static const char *const writable_states[] = {"active", "paused", "suspended", "stopped", NULL};

/* Finds the server for a tag request. `action` (NULL for reads) is the
 * name in Nova's 409 message for a server in the wrong vm_state. */
static int find_server(struct req *r, const char *uuid, const char *action) {
    PGresult *res = NULL;
    if (uuid_valid(uuid)) {
        const char *params[] = {uuid};
        enum db_status st = db_query(&res,
                                     "SELECT project_id, deleted <> 0, vm_state FROM instances"
                                     " WHERE uuid = $1::uuid",
                                     1, params);
        if (st) return api_db_error(r, st);
    }
    if (!res || !PQntuples(res)) {
        PQclear(res);
        return api_error(r, 404, "Instance %s has not been mapped to a cell.", uuid);
    }
    bool other = !r->ctx.is_admin && strcmp(db_str(res, 0, 0), r->ctx.project_id);
    if (other) {
        PQclear(res);
        return api_error(r, 404, "Instance %s has not been mapped to a cell.", uuid);
    }
    bool deleted = db_bool(res, 0, 1);
    char vm_state[32];
    snprintf(vm_state, sizeof vm_state, "%s", db_str(res, 0, 2));
    PQclear(res);
    if (deleted) return api_error(r, 404, "Instance %s could not be found.", uuid);
    if (!action) return 0;
    for (const char *const *s = writable_states; *s; s++)
        if (!strcmp(*s, vm_state)) return 0;
    return api_error(r, 409, "Cannot '%s' instance %s while it is in vm_state %s", action, uuid,
                     vm_state);
}

static json_t *load_tags(const char *uuid, enum db_status *st) {
    const char *params[] = {uuid};
    PGresult *res;
    *st =
        db_query(&res, "SELECT tag FROM tags WHERE resource_id = $1::uuid ORDER BY tag", 1, params);
    if (*st) return NULL;
    json_t *tags = json_array();
    for (int i = 0; i < PQntuples(res); i++)
        json_array_append_new(tags, json_string(db_str(res, i, 0)));
    PQclear(res);
    return tags;
}

static int reply_tags(struct req *r, const char *uuid) {
    enum db_status st;
    json_t *tags = load_tags(uuid, &st);
    return tags ? api_reply(r, 200, json_pack("{s:o}", "tags", tags)) : api_db_error(r, st);
}

int server_tags_index(struct req *r) {
    const char *uuid = req_param(r, "server_id");
    int err = find_server(r, uuid, NULL);
    return err ? err : reply_tags(r, uuid);
}

int server_tags_show(struct req *r) {
    const char *uuid = req_param(r, "server_id"), *tag = req_param(r, "id");
    int err = find_server(r, uuid, NULL);
    if (err) return err;
    const char *params[] = {uuid, tag};
    PGresult *res;
    enum db_status st =
        db_query(&res, "SELECT 1 FROM tags WHERE resource_id = $1::uuid AND tag = $2", 2, params);
    if (st) return api_db_error(r, st);
    int found = PQntuples(res);
    PQclear(res);
    if (!found) return api_error(r, 404, "Server %s has no tag '%s'", uuid, tag);
    return api_reply(r, 204, NULL);
}

int server_tags_update_all(struct req *r) {
    const char *uuid = req_param(r, "server_id");
    int err = find_server(r, uuid, "update tags");
    if (err) return err;
    char *doc = json_dumps(json_object_get(r->body, "tags"), JSON_COMPACT);
    const char *params[] = {uuid, doc};
    enum db_status st = db_begin();
    if (!st)
        st = db_exec("DELETE FROM tags WHERE resource_id = $1::uuid"
                     " AND NOT (tag = ANY (ARRAY(SELECT jsonb_array_elements_text($2::jsonb))))",
                     2, params);
    if (!st)
        st = db_exec("INSERT INTO tags (resource_id, tag)"
                     " SELECT DISTINCT $1::uuid, t FROM jsonb_array_elements_text($2::jsonb) t"
                     " ON CONFLICT DO NOTHING",
                     2, params);
    if (!st) st = db_commit();
    free(doc);
    if (st) {
        db_rollback();
        return api_db_error(r, st);
    }
    return reply_tags(r, uuid);
}

int server_tags_update(struct req *r) {
    const char *uuid = req_param(r, "server_id"), *tag = req_param(r, "id");
    int err = find_server(r, uuid, "update tag");
    if (err) return err;
    /* Nova validates the tag in the URL with its tag schema and quotes
     * the schema's own complaint */
    json_t *schema = json_pack("{s:s,s:s,s:i,s:i}", "type", "string", "pattern", "^[^,/]*$",
                               "minLength", 1, "maxLength", 60);
    json_t *value = json_string(tag);
    char why[512];
    int bad = validate(schema, value, VALIDATE_BODY, why, sizeof why);
    json_decref(schema);
    json_decref(value);
    if (bad)
        return api_error(r, 400,
                         "Tag '%s' is invalid. It must be a non empty string without characters "
                         "'/' and ','. Validation error message: %s",
                         tag, why);
    const char *params[] = {uuid, tag};
    PGresult *res;
    enum db_status st = db_begin();
    /* the instance row serialises concurrent tag writes (the 50 limit) */
    if (!st) st = db_exec("SELECT 1 FROM instances WHERE uuid = $1::uuid FOR UPDATE", 1, params);
    if (!st)
        st = db_query(&res,
                      "SELECT count(*), count(*) FILTER (WHERE tag = $2) FROM tags"
                      " WHERE resource_id = $1::uuid",
                      2, params);
    if (st) {
        db_rollback();
        return api_db_error(r, st);
    }
    long count = db_int(res, 0, 0), exists = db_int(res, 0, 1);
    PQclear(res);
    if (count >= MAX_TAG_COUNT) {
        db_rollback();
        return api_error(r, 400, "The number of tags exceeded the per-server limit %d",
                         MAX_TAG_COUNT);
    }
    if (exists) {
        db_rollback();
        return api_reply(r, 204, NULL);
    }
    st = db_exec("INSERT INTO tags (resource_id, tag) VALUES ($1::uuid, $2) ON CONFLICT DO NOTHING",
                 2, params);
    if (!st) st = db_commit();
    if (st) {
        db_rollback();
        return api_db_error(r, st);
    }
    struct sbuf loc = {0};
    sbuf_addf(&loc, "%s%s/servers/%s/tags/", r->base_url, r->prefix, uuid);
    for (const unsigned char *p = (const unsigned char *)tag; *p; p++) {
        /* urllib.parse.quote: letters, digits, "_.-~" and "/" stay */
        if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
            strchr("_.-~/", *p))
            sbuf_add(&loc, (const char *)p, 1);
        else
            sbuf_addf(&loc, "%%%02X", *p);
    }
    api_header(r, "Location", loc.s);
    sbuf_free(&loc);
    return api_reply(r, 201, NULL);
}

int server_tags_delete(struct req *r) {
    const char *uuid = req_param(r, "server_id"), *tag = req_param(r, "id");
    int err = find_server(r, uuid, "delete tag");
    if (err) return err;
    const char *params[] = {uuid, tag};
    PGresult *res;
    enum db_status st =
        db_query(&res, "DELETE FROM tags WHERE resource_id = $1::uuid AND tag = $2 RETURNING tag",
                 2, params);
    if (st) return api_db_error(r, st);
    int n = PQntuples(res);
    PQclear(res);
    if (!n) return api_error(r, 404, "Instance %s has no tag '%s'", uuid, tag);
    return api_reply(r, 204, NULL);
}

int server_tags_delete_all(struct req *r) {
    const char *uuid = req_param(r, "server_id");
    int err = find_server(r, uuid, "delete tags");
    if (err) return err;
    const char *params[] = {uuid};
    enum db_status st = db_exec("DELETE FROM tags WHERE resource_id = $1::uuid", 1, params);
    return st ? api_db_error(r, st) : api_reply(r, 204, NULL);
}
