/* images.h — what the image resources share (images.c defines them): the
 * built-in image registry's lookup with Glance's visibility rules, who may
 * change an image, and an image's properties (Nova's "metadata"). */
#ifndef CNOVA_IMAGES_H
#define CNOVA_IMAGES_H

#include "api.h"

struct image_ref {
    char id[37];
    char owner[256]; /* "" when the image has no owner */
    bool protected_;
    char status[16];
    char disk_format[16], container_format[16]; /* "" when not set */
    char checksum[33];                          /* "" when no data */
};

/* Loads live image `id` when the caller may see it (admins: all; others:
 * public and community images and their project's own). Returns 0, or the
 * 404 "Image not found." (or database) error already set on r. */
int images_find(struct req *r, const char *id, struct image_ref *out);
/* The same lookup with the caller's 404 message, a format with one %s for
 * the id (the image service answers in Glance's words). */
int images_find_or(struct req *r, const char *id, struct image_ref *out, const char *not_found);
/* True when the caller may change or delete the image: admin or owner. */
bool images_may_modify(const struct req *r, const struct image_ref *img);
/* The image's properties as a new JSON object of strings; NULL on a
 * database error (then *st says which). */
json_t *images_properties(const char *id, enum db_status *st);
/* Deletes image `img` (the row is kept as deleted, as Glance keeps it) and
 * its data: 204, or 403 when protected (`protected_msg`, a format with one
 * %s for the id) or not the caller's, or 404 when already gone. */
int images_delete_ref(struct req *r, const struct image_ref *img, const char *protected_msg,
                      const char *not_allowed, const char *not_found);

/* The image service (image_service.c, image_data.c): its handlers, which
 * answer Glance v2, and what they share. */
int image_service_list(struct req *r);
int image_service_show(struct req *r);
int image_service_create(struct req *r);
int image_service_update(struct req *r);
int image_service_delete(struct req *r);
int image_data_upload(struct req *r);
int image_data_download(struct req *r);
/* The image of the path's {image_id} as the caller may see it, or Glance's
 * 404 "No image found with ID ..." answered. */
int image_service_find(struct req *r, struct image_ref *out);
/* Image `id` as Glance shows it (a new object), or NULL with *rc set. */
json_t *image_service_view(struct req *r, const char *id, int *rc);

#endif
