/* image_store.c — image data as files under [image] data_path: the
 * streamed upload with its digests, the check of what was uploaded
 * (magic numbers first, then qemu-img in a child with limits and a
 * timeout), reading and removing. See image_store.h. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "cnova.h"
#include "image_format.h"
#include "image_store.h"

static void data_path(const char *id, bool partial, char *out, size_t n) {
    snprintf(out, n, "%s/%s%s", config_get("image", "data_path", "run/images"), id,
             partial ? ".part" : "");
}

int image_upload_begin(struct image_upload *u, const char *id) {
    memset(u, 0, sizeof *u);
    u->fd = -1;
    snprintf(u->id, sizeof u->id, "%s", id);
    char path[4096];
    data_path(id, true, path, sizeof path);
    mkdir(config_get("image", "data_path", "run/images"), 0750);
    unlink(path);
    u->fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
    if (u->fd < 0) return -1;
    u->md5 = EVP_MD_CTX_new();
    u->sha512 = EVP_MD_CTX_new();
    EVP_DigestInit_ex(u->md5, EVP_md5(), NULL);
    EVP_DigestInit_ex(u->sha512, EVP_sha512(), NULL);
    return 0;
}

int image_upload_write(struct image_upload *u, const char *buf, size_t n) {
    EVP_DigestUpdate(u->md5, buf, n);
    EVP_DigestUpdate(u->sha512, buf, n);
    u->size += (long long)n;
    while (n) {
        ssize_t w = write(u->fd, buf, n);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return -1;
        buf += w;
        n -= (size_t)w;
    }
    return 0;
}

static void hex_digest(void *ctx, char *out) {
    unsigned char d[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    EVP_DigestFinal_ex(ctx, d, &n);
    for (unsigned int i = 0; i < n; i++)
        sprintf(out + 2 * i, "%02x", d[i]);
    out[2 * n] = 0;
}

int image_upload_finish(struct image_upload *u, char md5[33], char sha512[129]) {
    hex_digest(u->md5, md5);
    hex_digest(u->sha512, sha512);
    int rc = close(u->fd);
    u->fd = -1;
    return rc;
}

/* Runs `qemu-img info --output=json -f driver path` with its output into
 * out: never probing the format, in a child limited to 1 GiB of address
 * space and 30 s of CPU (as Nova runs it) and killed after [image]
 * qemu_img_timeout seconds. 0, or -1 with the reason in err. */
static int qemu_img_info(const char *driver, const char *path, struct sbuf *out, char *err,
                         size_t errlen) {
    const char *argv[] = {"qemu-img", "info", "--output=json", "-f", driver, path, NULL};
    struct run_opts o = {.timeout_s = (int)config_int("image", "qemu_img_timeout", 30),
                         .out = out,
                         .limit_as = 1L << 30,
                         .limit_cpu = 30};
    return run_cmd(argv, &o, err, errlen);
}

int image_upload_inspect(struct image_upload *u, const char *declared, long long *virtual_size,
                         char *err, size_t errlen) {
    char path[4096];
    data_path(u->id, true, path, sizeof path);
    unsigned char *head = malloc(IMAGE_FORMAT_HEAD);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    ssize_t n = fd >= 0 ? pread(fd, head, IMAGE_FORMAT_HEAD, 0) : -1;
    if (fd >= 0) close(fd);
    if (n < 0) {
        free(head);
        snprintf(err, errlen, "cannot read the uploaded data: %s", strerror(errno));
        return -1;
    }
    struct image_format f = image_format_detect(head, (size_t)n);
    free(head);
    if (f.refusal) {
        snprintf(err, errlen, "%s is not allowed", f.refusal);
        return 1;
    }
    if (!image_format_matches(declared, f.name)) {
        snprintf(err, errlen, "disk_format is %s but the data is %s", declared, f.name);
        return 1;
    }
    if (!strcmp(f.qemu_driver, "raw")) {
        *virtual_size = u->size; /* as Glance: raw data is its own disk */
        return 0;
    }
    struct sbuf out = {0};
    char why[256];
    if (qemu_img_info(f.qemu_driver, path, &out, why, sizeof why)) {
        sbuf_free(&out);
        snprintf(err, errlen, "the data is not a valid %s image (%s)", f.name, why);
        return 1;
    }
    json_t *info = out.s ? json_loadb(out.s, out.len, 0, NULL) : NULL;
    sbuf_free(&out);
    json_t *vsize = json_object_get(info, "virtual-size");
    json_t *data = json_object_get(json_object_get(info, "format-specific"), "data");
    int rc = 0;
    if (!json_is_integer(vsize)) {
        snprintf(err, errlen, "qemu-img info gave no virtual size");
        rc = -1;
    } else if (json_object_get(info, "backing-filename") || json_object_get(data, "data-file")) {
        snprintf(err, errlen, "an image that names another file is not allowed");
        rc = 1;
    } else
        *virtual_size = json_integer_value(vsize);
    json_decref(info);
    return rc;
}

int image_upload_commit(struct image_upload *u) {
    char from[4096], to[4096];
    data_path(u->id, true, from, sizeof from);
    data_path(u->id, false, to, sizeof to);
    return rename(from, to);
}

void image_upload_abort(struct image_upload *u) {
    if (u->fd >= 0) close(u->fd);
    u->fd = -1;
    if (u->id[0]) {
        char path[4096];
        data_path(u->id, true, path, sizeof path);
        unlink(path);
    }
    EVP_MD_CTX_free(u->md5);
    EVP_MD_CTX_free(u->sha512);
    u->md5 = u->sha512 = NULL;
}

int image_store_open(const char *id, long long *size) {
    char path[4096];
    data_path(id, false, path, sizeof path);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd >= 0 && fstat(fd, &st)) {
        close(fd);
        fd = -1;
    }
    if (fd >= 0) *size = st.st_size;
    return fd;
}

void image_store_remove(const char *id) {
    char path[4096];
    data_path(id, false, path, sizeof path);
    unlink(path);
    data_path(id, true, path, sizeof path);
    unlink(path);
}
