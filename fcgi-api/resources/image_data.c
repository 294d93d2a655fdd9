/* image_data.c — an image's bytes in the image service (Glance v2
 * PUT/GET /v2/images/{id}/file). An upload is streamed from the request
 * body to a file (image_store.c), never held whole in memory, hashed on
 * the way (md5 checksum, sha512 os_hash_value) and checked against its
 * declared disk_format before the image becomes active: queued -> saving
 * -> active, and back to queued with no file left when anything fails; one
 * upload per image at a time (an advisory lock, which also lets an upload
 * left in saving by a dead worker be started over). A download streams
 * the file back (main.c copies it after the headers). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "image_store.h"
#include "images.h"

/* Glance's limit on one image's data (its image_size_cap default: 1 TiB). */
static long long size_cap(void) {
    return config_int("image", "image_size_cap", 1099511627776L);
}

/* An upload holds a session advisory lock on its image for as long as it
 * runs (the two-key form, class 'IMG', apart from the one-key locks of
 * quotas). An image left in 'saving' by an upload whose worker died (its
 * connection, and so its lock, went with it) can then be uploaded again,
 * while a second upload of an image that is really being saved is still
 * Glance's 409. */
#define UPLOAD_LOCK "4803911, hashtext($1)"

static bool upload_lock(const char *id) {
    const char *p[] = {id};
    PGresult *res;
    if (db_query(&res, "SELECT pg_try_advisory_lock(" UPLOAD_LOCK ")", 1, p)) return false;
    bool got = db_bool(res, 0, 0);
    PQclear(res);
    return got;
}

static void upload_unlock(const char *id) {
    const char *p[] = {id};
    db_exec("SELECT pg_advisory_unlock(" UPLOAD_LOCK ")", 1, p);
}

/* queued (or saving, abandoned) -> saving, under the upload's lock: 0, or
 * Glance's 409 naming the status the image really had. */
static int start_saving(struct req *r, const char *id) {
    if (!upload_lock(id))
        return api_error(r, 409, "Image status transition from saving to saving is not allowed");
    const char *p[] = {id};
    PGresult *res;
    enum db_status st = db_query(
        &res,
        "WITH old AS (SELECT status FROM images WHERE id = $1::uuid AND NOT deleted FOR UPDATE),"
        " upd AS (UPDATE images SET status = 'saving', updated_at = now()"
        "  WHERE id = $1::uuid AND NOT deleted AND status IN ('queued', 'saving') RETURNING 1)"
        " SELECT COALESCE((SELECT status FROM old), 'deleted'), EXISTS (SELECT 1 FROM upd)",
        1, p);
    if (st) {
        upload_unlock(id);
        return api_db_error(r, st);
    }
    char status[32];
    snprintf(status, sizeof status, "%s", db_str(res, 0, 0));
    bool moved = db_bool(res, 0, 1);
    PQclear(res);
    if (!moved) {
        upload_unlock(id);
        return api_error(r, 409, "Image status transition from %s to saving is not allowed",
                         status);
    }
    return 0;
}

/* Back to queued after a failed upload (Glance's _restore). */
static void restore_queued(struct req *r, const char *id) {
    const char *p[] = {id};
    enum db_status st = db_exec("UPDATE images SET status = 'queued', updated_at = now()"
                                " WHERE id = $1::uuid AND status = 'saving'",
                                1, p);
    if (st) log_msg(LOG_ERROR, r->request_id, "image %s left in saving: %s", id, db_errmsg());
}

/* Streams the body into u. 0, or the error answered. */
static int receive(struct req *r, struct image_upload *u) {
    long long cap = size_cap(), want = r->content_length;
    size_t bufsize = 1 << 16;
    char *buf = malloc(bufsize);
    int st = 0;
    for (;;) {
        long n = req_body_read(r, buf, bufsize);
        if (n < 0) {
            st = api_error(r, 400, "The image upload was interrupted after %lld bytes.", u->size);
            break;
        }
        if (n == 0) break;
        if (u->size + n > cap) {
            st = api_error(r, 413,
                           "The incoming image is too large: The provided image is too large.");
            break;
        }
        if (image_upload_write(u, buf, (size_t)n)) {
            log_msg(LOG_ERROR, r->request_id, "writing image %s: %m", u->id);
            st = api_error(r, 503, "Insufficient permissions on image storage media: %s",
                           "the data could not be written");
            break;
        }
    }
    free(buf);
    r->body_len = (size_t)u->size; /* for the request's log line */
    if (!st && want >= 0 && u->size != want)
        st = api_error(r, 400,
                       "The image data has %lld bytes but the request declared %lld"
                       " (Content-Length).",
                       u->size, want);
    return st;
}

/* Records what the data turned out to be; the image becomes active. 0, or
 * Glance's 410 when the image was deleted during the upload. */
static int activate(struct req *r, const struct image_upload *u, const char *md5,
                    const char *sha512, long long virtual_size) {
    char size[24], vsize[24];
    snprintf(size, sizeof size, "%lld", u->size);
    snprintf(vsize, sizeof vsize, "%lld", virtual_size);
    const char *p[] = {u->id, size, md5, sha512, vsize};
    PGresult *res;
    enum db_status st =
        db_query(&res,
                 "UPDATE images SET status = 'active', size = $2::bigint, checksum = $3,"
                 " os_hash_algo = 'sha512', os_hash_value = $4, virtual_size = $5::bigint,"
                 " updated_at = now() WHERE id = $1::uuid AND NOT deleted AND status = 'saving'"
                 " RETURNING id",
                 5, p);
    if (st) return api_db_error(r, st);
    int n = PQntuples(res);
    PQclear(res);
    if (!n)
        return api_error(r, 410,
                         "Image %s could not be found after upload. The image may have been "
                         "deleted during the upload, cleaning up the chunks uploaded.",
                         u->id);
    return 0;
}

int image_data_upload(struct req *r) {
    struct image_ref img;
    int st = image_service_find(r, &img);
    if (st) return st;
    if (!images_may_modify(r, &img))
        return api_error(r, 403, "Not allowed to upload image data for image %s", img.id);
    if (strcmp(img.status, "queued") && strcmp(img.status, "saving"))
        return api_error(r, 409, "Image status transition from %s to saving is not allowed",
                         img.status);
    if (!img.disk_format[0] || !img.container_format[0]) {
        bool both = !img.disk_format[0] && !img.container_format[0];
        return api_error(r, 400, "%s %s%s%s must be set prior to saving data.",
                         both ? "Properties" : "Property", img.disk_format[0] ? "" : "disk_format",
                         both ? ", " : "", img.container_format[0] ? "" : "container_format");
    }
    if (r->content_length > size_cap())
        return api_error(r, 413,
                         "The incoming image is too large: The provided image is too large.");
    if ((st = start_saving(r, img.id))) return st;
    struct image_upload u;
    char md5[33], sha512[129], why[512];
    long long virtual_size = 0;
    if (image_upload_begin(&u, img.id)) {
        log_msg(LOG_ERROR, r->request_id, "cannot create the data file of image %s: %m", img.id);
        st = api_error(r, 503, "Insufficient permissions on image storage media: %s",
                       "the data file could not be created");
    }
    if (!st) st = receive(r, &u);
    if (!st && image_upload_finish(&u, md5, sha512))
        st = api_error(r, 503, "Insufficient permissions on image storage media: %s",
                       "the data could not be written");
    if (!st) {
        int bad = image_upload_inspect(&u, img.disk_format, &virtual_size, why, sizeof why);
        if (bad > 0)
            st = api_error(r, 400, "Image data is not acceptable or does not match parameters: %s",
                           why);
        else if (bad < 0) {
            log_msg(LOG_ERROR, r->request_id, "checking image %s: %s", img.id, why);
            st = api_unexpected(r, "oslo_concurrency.processutils.ProcessExecutionError");
        }
    }
    if (!st && image_upload_commit(&u))
        st = api_error(r, 503, "Insufficient permissions on image storage media: %s",
                       "the data file could not be renamed");
    if (!st && (st = activate(r, &u, md5, sha512, virtual_size))) image_store_remove(img.id);
    image_upload_abort(&u); /* removes the partial file, if any is left */
    if (st) restore_queued(r, img.id);
    upload_unlock(img.id);
    if (st) return st;
    return api_reply(r, 204, NULL);
}

int image_data_download(struct req *r) {
    struct image_ref img;
    int st = image_service_find(r, &img);
    if (st) return st;
    long long size = 0;
    int fd = strcmp(img.status, "active") ? -1 : image_store_open(img.id, &size);
    if (fd < 0) return api_reply(r, 204, NULL); /* the image has no data */
    r->resp_fd = fd;
    r->resp_len = size;
    api_header(r, "Content-Type", "application/octet-stream");
    if (img.checksum[0]) api_header(r, "Content-MD5", img.checksum);
    return api_reply(r, 200, NULL);
}
