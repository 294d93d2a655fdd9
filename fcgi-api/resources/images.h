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
};

/* Loads live image `id` when the caller may see it (admins: all; others:
 * public and community images and their project's own). Returns 0, or the
 * 404 "Image not found." (or database) error already set on r. */
int images_find(struct req *r, const char *id, struct image_ref *out);
/* True when the caller may change or delete the image: admin or owner. */
bool images_may_modify(const struct req *r, const struct image_ref *img);
/* The image's properties as a new JSON object of strings; NULL on a
 * database error (then *st says which). */
json_t *images_properties(const char *id, enum db_status *st);

#endif
