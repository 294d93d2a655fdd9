/* image_metadata.c — /images/{image_id}/metadata (up to 2.38): an image's
 * properties as Nova's image proxy shows and changes them. Writes are
 * checked against the metadata_items quota first and then against the
 * image's owner, in Nova's order, and replace the properties in one
 * transaction. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "images.h"

static int reply_metadata(struct req *r, const char *id, const char *key) {
    enum db_status st;
    json_t *props = images_properties(id, &st);
    if (!props) return api_db_error(r, st);
    if (!key) return api_reply(r, 200, json_pack("{s:o}", "metadata", props));
    json_t *v = json_object_get(props, key);
    if (!v) {
        json_decref(props);
        return api_error(r, 404, "The resource could not be found.");
    }
    json_t *body = json_pack("{s:{s:O}}", "meta", key, v);
    json_decref(props);
    return api_reply(r, 200, body);
}

int image_metadata_index(struct req *r) {
    struct image_ref img;
    int st = images_find(r, req_param(r, "image_id"), &img);
    return st ? st : reply_metadata(r, img.id, NULL);
}

int image_metadata_show(struct req *r) {
    struct image_ref img;
    int st = images_find(r, req_param(r, "image_id"), &img);
    return st ? st : reply_metadata(r, img.id, req_param(r, "id"));
}

/* Nova's check_img_metadata_properties_quota: the whole set must fit. */
static int check_quota(struct req *r, size_t count) {
    long limits[QUOTA_MAX];
    enum db_status st = quota_limits(r->ctx.project_id, r->ctx.user_id, NULL, limits);
    if (st) return api_db_error(r, st);
    long limit = limits[quota_find("metadata_items") - quota_resources];
    if (count && limit >= 0 && (long)count > limit)
        return api_error(r, 403, "Image metadata limit exceeded");
    return 0;
}

/* Writes `props` as the image's properties: merged into the current ones,
 * or replacing them all (purge). */
static int write_props(struct req *r, const struct image_ref *img, json_t *props, bool purge) {
    char *doc = json_dumps(props, JSON_COMPACT);
    const char *params[] = {img->id, doc};
    enum db_status st = db_begin();
    if (!st && purge)
        st = db_exec("DELETE FROM image_properties WHERE image_id = $1::uuid", 1, params);
    if (!st)
        st = db_exec("INSERT INTO image_properties (image_id, key, value)"
                     " SELECT $1::uuid, key, value FROM jsonb_each_text($2::jsonb)"
                     " ON CONFLICT (image_id, key) DO UPDATE SET value = EXCLUDED.value",
                     2, params);
    if (!st) st = db_exec("UPDATE images SET updated_at = now() WHERE id = $1::uuid", 1, params);
    if (!st) st = db_commit();
    free(doc);
    if (st) {
        db_rollback();
        return api_db_error(r, st);
    }
    return 0;
}

/* The common path of create / update / update_all: the new set is
 * `changes` merged into the current properties (or `changes` alone). */
static int change(struct req *r, json_t *changes, bool purge, const char *key) {
    struct image_ref img;
    int st = images_find(r, req_param(r, "image_id"), &img);
    if (st) return st;
    enum db_status dst;
    json_t *props = images_properties(img.id, &dst);
    if (!props) return api_db_error(r, dst);
    if (purge) json_object_clear(props);
    json_object_update(props, changes);
    st = check_quota(r, json_object_size(props));
    if (!st && !images_may_modify(r, &img))
        st = api_error(r, 403, "Not authorized for image %s.", img.id);
    if (!st) st = write_props(r, &img, props, purge);
    json_decref(props);
    if (st) return st;
    if (key) return api_reply(r, 200, json_pack("{s:O}", "meta", changes));
    return reply_metadata(r, img.id, NULL);
}

int image_metadata_create(struct req *r) {
    return change(r, json_object_get(r->body, "metadata"), false, NULL);
}

int image_metadata_update_all(struct req *r) {
    return change(r, json_object_get(r->body, "metadata"), true, NULL);
}

int image_metadata_update(struct req *r) {
    const char *key = req_param(r, "id");
    json_t *meta = json_object_get(r->body, "meta");
    if (!json_object_get(meta, key)) return api_error(r, 400, "Request body and URI mismatch");
    return change(r, meta, false, key);
}

int image_metadata_delete(struct req *r) {
    struct image_ref img;
    int st = images_find(r, req_param(r, "image_id"), &img);
    if (st) return st;
    const char *key = req_param(r, "id");
    enum db_status dst;
    json_t *props = images_properties(img.id, &dst);
    if (!props) return api_db_error(r, dst);
    bool has = json_object_get(props, key) != NULL;
    json_decref(props);
    if (!has) return api_error(r, 404, "Invalid metadata key");
    if (!images_may_modify(r, &img))
        return api_error(r, 403, "Not authorized for image %s.", img.id);
    const char *params[] = {img.id, key};
    dst = db_exec("DELETE FROM image_properties WHERE image_id = $1::uuid AND key = $2", 2, params);
    if (!dst) dst = db_exec("UPDATE images SET updated_at = now() WHERE id = $1::uuid", 1, params);
    return dst ? api_db_error(r, dst) : api_reply(r, 204, NULL);
}
