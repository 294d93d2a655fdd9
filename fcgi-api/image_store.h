/* image_store.h — where the image service keeps image data: one file per
 * image under [image] data_path, named by its id (image_store.c). An
 * upload is written to "<id>.part" while md5 and sha512 are computed on
 * the way, checked (image_format.c, then `qemu-img info` on that file
 * only, with resource limits and a timeout) and renamed to "<id>" once
 * accepted; a rejected or broken upload leaves no file behind. */
#ifndef CNOVA_IMAGE_STORE_H
#define CNOVA_IMAGE_STORE_H

#include <stdbool.h>
#include <stddef.h>

struct image_upload {
    char id[37];
    int fd;
    long long size;
    void *md5, *sha512; /* EVP_MD_CTX */
};

/* Starts writing the data of image `id` (replacing a stale partial file).
 * 0, or -1 with errno. */
int image_upload_begin(struct image_upload *u, const char *id);
/* Appends n bytes (and hashes them). 0, or -1 with errno. */
int image_upload_write(struct image_upload *u, const char *buf, size_t n);
/* Closes the partial file and writes the hex digests. 0, or -1 with errno. */
int image_upload_finish(struct image_upload *u, char md5[33], char sha512[129]);
/* Checks the finished partial file: its format (image_format.c) must be
 * the declared disk_format and no refused kind, and `qemu-img info` with
 * that format must read it (raw data, whose virtual size is its size, as
 * Glance counts it, needs no qemu-img). 0 with *virtual_size set; 1 when
 * the data is refused (why in err); -1 when it could not be checked. */
int image_upload_inspect(struct image_upload *u, const char *declared, long long *virtual_size,
                         char *err, size_t errlen);
/* Renames the partial file to the image's data file. 0, or -1 with errno. */
int image_upload_commit(struct image_upload *u);
/* Drops the upload: closes and removes the partial file. Safe to call
 * after any step, and more than once. */
void image_upload_abort(struct image_upload *u);

/* Opens image `id`'s data for reading: the fd and its size, or -1 when it
 * has none. */
int image_store_open(const char *id, long long *size);
/* Removes image `id`'s data and any partial upload of it. */
void image_store_remove(const char *id);

#endif
