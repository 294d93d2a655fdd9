/* disks.c — a guest's files on a QEMU host (see disks.h for the layout).
 *
 * Image bytes come over HTTP from the image service ([glance] api_servers,
 * GET /v2/images/{id}/file with a service token), as Nova's compute reads
 * them from Glance, never from the database. Each image is fetched once
 * per host into _base (to a temporary name, renamed when complete, under
 * an flock so that concurrent builds of one image wait for one download)
 * and kept raw, as Nova does with force_raw_images. qemu-img runs by
 * fork+exec with an argument vector: no shell sees any of our data. */
#define _GNU_SOURCE /* nftw */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/sha.h>

#include "blockstore.h"
#include "config.h"
#include "disks.h"
#include "image_client.h"
#include "log.h"
#include "util.h"

const char *disks_instances_path(void) {
    return config_get("DEFAULT", "instances_path", "/var/lib/cnova/instances");
}

void disks_base_name(const char *image_id, char out[41]) {
    unsigned char md[SHA_DIGEST_LENGTH];
    SHA1((const unsigned char *)image_id, strlen(image_id), md);
    for (int i = 0; i < SHA_DIGEST_LENGTH; i++)
        snprintf(out + 2 * i, 3, "%02x", md[i]);
}

/* out = dir/name; false when it does not fit. */
static bool join(char out[DISKS_PATH_MAX], const char *dir, const char *name) {
    return (size_t)snprintf(out, DISKS_PATH_MAX, "%s/%s", dir, name) < DISKS_PATH_MAX;
}

static bool set(const char *s) {
    return s && *s;
}

int disks_layout_of(const char *instances_path, const struct virt_spec *v,
                    struct disks_layout *out) {
    memset(out, 0, sizeof *out);
    if (!v->uuid || !uuid_valid(v->uuid) || !join(out->dir, instances_path, v->uuid)) return -1;
    bool ok = join(out->console, out->dir, "console.log");
    bool r = v->rescue; /* Nova's rescue: the rescue disk, then the guest's own */
    if (set(v->image_ref)) ok = ok && join(out->root, out->dir, r ? "disk.rescue" : "disk");
    if (r) ok = ok && join(out->rescued, out->dir, "disk");
    if (v->ephemeral_gb > 0 && !r) ok = ok && join(out->eph, out->dir, "disk.eph0");
    if (v->swap_mb > 0 && !r) ok = ok && join(out->swap, out->dir, "disk.swap");
    if (set(v->kernel_id)) ok = ok && join(out->kernel, out->dir, r ? "kernel.rescue" : "kernel");
    if (set(v->ramdisk_id))
        ok = ok && join(out->ramdisk, out->dir, r ? "ramdisk.rescue" : "ramdisk");
    if (v->config_drive) ok = ok && join(out->config, out->dir, "disk.config");
    return ok ? 0 : -1;
}

/* Runs argv (qemu-img) with lib's run_argv: its output logged on failure.
 * Returns 0 when it exited 0. */
static int run(char *const argv[]) {
    char err[512];
    if (run_argv((const char *const *)argv, 3600, err, sizeof err) == 0) return 0;
    log_error("%s: %s", argv[0], err);
    return -1;
}

static bool exists(const char *path) {
    struct stat st;
    return stat(path, &st) == 0;
}

/* GET <api_servers>/v2/images/<id>/file into `dest`. Returns 0 or -1. */
static int download(const char *image_id, const char *dest) {
    FILE *f = fopen(dest, "wb");
    if (!f) {
        log_error("image %s: cannot write %s: %s", image_id, dest, strerror(errno));
        return -1;
    }
    struct image_call c = {.method = "GET", .image_id = image_id, .suffix = "/file", .out = f};
    int rc = image_call(&c);
    if (fclose(f) != 0) rc = -1;
    if (rc) unlink(dest);
    return rc;
}

int disks_snapshot(const char *instances_path, const char *uuid, const char *image_id,
                   const char **why) {
    char dir[DISKS_PATH_MAX], disk[DISKS_PATH_MAX], snap[DISKS_PATH_MAX];
    if (!uuid || !uuid_valid(uuid) || !image_id || !uuid_valid(image_id) ||
        !join(dir, instances_path, uuid) || !join(disk, dir, "disk"))
        return 1;
    if (!exists(disk)) return 1; /* no local root disk (volume-backed, simulated) */
    char name[64];
    snprintf(name, sizeof name, "snapshot-%s.qcow2", image_id);
    if (!join(snap, dir, name)) return 1;
    /* the root disk flattened (overlay and base) into one qcow2; -U reads
     * a disk a running guest holds, as a crash-consistent copy */
    const char *argv[] = {"qemu-img", "convert", "-U", "-f", "qcow2",
                          "-O",       "qcow2",   disk, snap, NULL};
    char err[512];
    struct stat st;
    if (run_argv(argv, 3600, err, sizeof err) || stat(snap, &st)) {
        log_error("snapshot of %s: %s", uuid, err);
        unlink(snap);
        *why = "the guest's disk could not be copied";
        return -1;
    }
    /* Glance wants the formats before the data: qcow2/bare, as Nova's
     * libvirt driver uploads a snapshot */
    struct image_call patch = {
        .method = "PATCH",
        .image_id = image_id,
        .suffix = "",
        .ctype = "application/openstack-images-v2.1-json-patch",
        .body = "[{\"op\": \"replace\", \"path\": \"/disk_format\", \"value\": \"qcow2\"},"
                " {\"op\": \"replace\", \"path\": \"/container_format\", \"value\": \"bare\"}]"};
    FILE *in = fopen(snap, "rb");
    struct image_call put = {.method = "PUT",
                             .image_id = image_id,
                             .suffix = "/file",
                             .ctype = "application/octet-stream",
                             .in = in,
                             .in_len = st.st_size};
    int rc = in && !image_call(&patch) && !image_call(&put) ? 0 : -1;
    if (in) fclose(in);
    unlink(snap);
    if (rc) *why = "the snapshot could not be uploaded to the image service";
    return rc;
}

/* The image in the cache (raw) into out: fetched unless it is there
 * already. Concurrent callers (other builds, other compute processes on
 * this instances_path) wait on the lock and find it done. */
static int cached(const char *image_id, const char *disk_format, char out[DISKS_PATH_MAX],
                  const char **why) {
    char dir[DISKS_PATH_MAX], name[41], lock[DISKS_PATH_MAX + 8], part[DISKS_PATH_MAX + 8];
    disks_base_name(image_id, name);
    if (!join(dir, disks_instances_path(), "_base") || !join(out, dir, name)) {
        *why = "instances_path is too long";
        return -1;
    }
    if (mkdir(dir, 0755) < 0 && errno != EEXIST) {
        log_error("cannot create %s: %s", dir, strerror(errno));
        *why = "cannot create the image cache";
        return -1;
    }
    snprintf(lock, sizeof lock, "%s.lock", out);
    int fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0 || flock(fd, LOCK_EX) < 0) {
        if (fd >= 0) close(fd);
        *why = "cannot lock the image cache";
        return -1;
    }
    int rc = 0;
    if (exists(out)) {
        /* used now: the cache manager's age starts again (under the lock,
         * which it takes to remove a file) */
        utimensat(AT_FDCWD, out, NULL, 0);
    } else {
        snprintf(part, sizeof part, "%s.part", out);
        double t0 = now_ms();
        rc = download(image_id, part);
        if (rc == 0 && disk_format && !strcmp(disk_format, "qcow2")) {
            /* raw in the cache, as force_raw_images: no guest-supplied
             * qcow2 header (or backing file) is ever opened again */
            char conv[DISKS_PATH_MAX + 8];
            snprintf(conv, sizeof conv, "%s.raw", out);
            char *argv[] = {"qemu-img", "convert", "-f", "qcow2", "-O", "raw", part, conv, NULL};
            rc = run(argv);
            unlink(part);
            if (rc == 0)
                rc = rename(conv, part);
            else
                unlink(conv);
        }
        if (rc == 0) rc = rename(part, out);
        if (rc == 0)
            log_info("image %s cached as %s in %.0f ms", image_id, out, now_ms() - t0);
        else
            *why = "could not fetch the image from the image service";
    }
    flock(fd, LOCK_UN);
    close(fd);
    return rc;
}

/* dst as a hard link to src (the cache and the instance folder share a
 * file system by construction), else a copy. */
static int link_or_copy(const char *src, const char *dst) {
    if (link(src, dst) == 0 || errno == EEXIST) return 0;
    char *argv[] = {"cp", "--", (char *)src, (char *)dst, NULL};
    return run(argv);
}

/* A blank qcow2 image of `size` ("10G", "512M") unless it exists. */
static int blank(const char *path, const char *size) {
    if (exists(path)) return 0;
    char *argv[] = {"qemu-img", "create", "-q", "-f", "qcow2", (char *)path, (char *)size, NULL};
    return run(argv);
}

/* The root disk: a qcow2 overlay on the cached image, grown to the
 * flavor's root_gb (never shrunk below the image: root_gb 0 or an image
 * larger than the flavor keeps the image's size). */
static int overlay(const char *base, const char *path, int root_gb) {
    if (exists(path)) return 0;
    struct stat st;
    char size[32] = "";
    if (root_gb > 0 && stat(base, &st) == 0 && (long long)root_gb << 30 >= (long long)st.st_size)
        snprintf(size, sizeof size, "%dG", root_gb);
    char *argv[] = {"qemu-img",
                    "create",
                    "-q",
                    "-f",
                    "qcow2",
                    "-F",
                    "raw",
                    "-b",
                    (char *)base,
                    (char *)path,
                    size[0] ? size : NULL,
                    NULL};
    return run(argv);
}

int disks_prepare(const struct virt_spec *v, const struct disks_layout *l, const char **why) {
    *why = NULL;
    if (mkdir(disks_instances_path(), 0755) < 0 && errno != EEXIST) {
        log_error("cannot create %s: %s", disks_instances_path(), strerror(errno));
        *why = "cannot create the instances folder";
        return -1;
    }
    if (mkdir(l->dir, 0755) < 0 && errno != EEXIST) {
        log_error("cannot create %s: %s", l->dir, strerror(errno));
        *why = "cannot create the instance's folder";
        return -1;
    }
    char base[DISKS_PATH_MAX];
    if (l->root[0]) {
        if (cached(v->image_ref, v->disk_format, base, why) < 0) return -1;
        if (overlay(base, l->root, v->root_gb) < 0) {
            *why = "could not create the root disk";
            return -1;
        }
    }
    char size[32];
    snprintf(size, sizeof size, "%dG", v->ephemeral_gb);
    if (l->eph[0] && blank(l->eph, size) < 0) {
        *why = "could not create the ephemeral disk";
        return -1;
    }
    snprintf(size, sizeof size, "%dM", v->swap_mb);
    if (l->swap[0] && blank(l->swap, size) < 0) {
        *why = "could not create the swap disk";
        return -1;
    }
    const struct {
        const char *id, *path;
    } boot[] = {{v->kernel_id, l->kernel}, {v->ramdisk_id, l->ramdisk}};
    for (size_t i = 0; i < 2; i++) {
        if (!boot[i].path[0] || exists(boot[i].path)) continue;
        if (cached(boot[i].id, NULL, base, why) < 0) return -1;
        if (link_or_copy(base, boot[i].path) < 0) {
            *why = "could not place the kernel or ramdisk";
            return -1;
        }
    }
    return 0;
}

static int unlink_one(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
    (void)st;
    (void)ftw;
    int rc = flag == FTW_DP ? rmdir(path) : unlink(path);
    if (rc < 0 && errno != ENOENT) log_warn("cannot remove %s: %s", path, strerror(errno));
    return 0;
}

int disks_remove(const char *instances_path, const char *uuid) {
    char dir[DISKS_PATH_MAX];
    /* a uuid, never a path of its own: nothing outside instances_path */
    if (!uuid || !uuid_valid(uuid) || !join(dir, instances_path, uuid)) return -1;
    if (!exists(dir)) return 0;
    nftw(dir, unlink_one, 16, FTW_DEPTH | FTW_PHYS);
    return exists(dir) ? -1 : 0;
}

/* ---- the image cache manager ---- */

/* The backing file the qcow2 image at `path` names, into out; "" when it
 * names none (or is no qcow2). Only the header is read. */
static void backing_of(const char *path, char out[DISKS_PATH_MAX]) {
    out[0] = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) return;
    unsigned char h[20];
    if (pread(fd, h, sizeof h, 0) == (ssize_t)sizeof h && !memcmp(h, "QFI\xfb", 4)) {
        uint64_t off = load_be(h + 8, 8), len = load_be(h + 16, 4);
        if (off && len && len < DISKS_PATH_MAX && off < (uint64_t)1 << 40 &&
            pread(fd, out, (size_t)len, (off_t)off) == (ssize_t)len)
            out[len] = 0;
        else
            out[0] = 0;
    }
    close(fd);
}

/* The cache files the guests' disks are backed by, as a NUL-separated
 * list in *used: every qcow2 file of every folder under instances_path
 * (guests, rescue disks, folders kept for a resize). */
static void backing_files(const char *instances_path, struct sbuf *used) {
    DIR *top = opendir(instances_path);
    if (!top) return;
    struct dirent *e;
    while ((e = readdir(top))) {
        char dir[DISKS_PATH_MAX], file[DISKS_PATH_MAX], back[DISKS_PATH_MAX];
        if (e->d_name[0] == '.' || !strcmp(e->d_name, "_base") ||
            !join(dir, instances_path, e->d_name))
            continue;
        DIR *d = opendir(dir);
        if (!d) continue;
        struct dirent *f;
        while ((f = readdir(d))) {
            if (f->d_name[0] == '.' || !join(file, dir, f->d_name)) continue;
            backing_of(file, back);
            if (back[0]) sbuf_add(used, back, strlen(back) + 1);
        }
        closedir(d);
    }
    closedir(top);
}

static bool listed(const struct sbuf *list, const char *s) {
    for (size_t i = 0; i < list->len; i += strlen(list->s + i) + 1)
        if (!strcmp(list->s + i, s)) return true;
    return false;
}

int disks_prune_cache(const char *instances_path, long min_age) {
    char base[DISKS_PATH_MAX];
    if (!join(base, instances_path, "_base")) return -1;
    DIR *d = opendir(base);
    if (!d) return 0; /* nothing cached yet */
    struct sbuf used = {0};
    backing_files(instances_path, &used);
    int removed = 0;
    time_t now = time(NULL);
    struct dirent *e;
    while ((e = readdir(d))) {
        char path[DISKS_PATH_MAX], lock[DISKS_PATH_MAX + 8];
        struct stat st;
        /* the images are named by 40 hex digits; .lock, .part, .raw are not */
        if (strlen(e->d_name) != 40 || strspn(e->d_name, "0123456789abcdef") != 40 ||
            !join(path, base, e->d_name) || lstat(path, &st) < 0 || !S_ISREG(st.st_mode))
            continue;
        /* in use: a guest's overlay is backed by it, or a guest's kernel or
         * ramdisk is a hard link to it; its age starts again */
        if (st.st_nlink > 1 || listed(&used, path)) {
            utimensat(AT_FDCWD, path, NULL, 0);
            continue;
        }
        if (now - st.st_mtime < min_age) continue;
        /* the lock cached() holds while it finds or fetches the file: a
         * build that wants it now keeps it (and gives it a new age) */
        snprintf(lock, sizeof lock, "%s.lock", path);
        int fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
        if (fd < 0) continue;
        if (flock(fd, LOCK_EX | LOCK_NB) == 0) {
            if (stat(path, &st) == 0 && now - st.st_mtime >= min_age && unlink(path) == 0) {
                log_info("image cache: removed %s (unused for %ld s)", path,
                         (long)(now - st.st_mtime));
                removed++;
            }
            flock(fd, LOCK_UN);
        }
        close(fd); /* the lock file stays: a waiter may hold it open */
    }
    closedir(d);
    sbuf_free(&used);
    return removed;
}

/* ---- resize: the folder kept aside ---- */

/* <instances_path>/<uuid><suffix> into out; false when uuid is not one. */
static bool folder(const char *uuid, const char *suffix, char out[DISKS_PATH_MAX]) {
    return uuid && uuid_valid(uuid) &&
           (size_t)snprintf(out, DISKS_PATH_MAX, "%s/%s%s", disks_instances_path(), uuid, suffix) <
               DISKS_PATH_MAX;
}

int disks_resize_keep(const char *uuid, const char **why) {
    char dir[DISKS_PATH_MAX], kept[DISKS_PATH_MAX];
    if (!folder(uuid, "", dir) || !folder(uuid, "_resize", kept)) return 0;
    if (!exists(dir) || exists(kept)) return 0; /* nothing here, or kept already */
    if (rename(dir, kept) == 0) return 0;
    log_error("cannot keep %s as %s: %s", dir, kept, strerror(errno));
    *why = "could not keep the guest's disks for the resize";
    return -1;
}

/* The virtual size of a disk image in bytes, from qemu-img; -1 when unknown. */
static long long virtual_size(const char *path) {
    struct sbuf out = {0};
    const char *argv[] = {"qemu-img", "info", "-U", "--output=json", path, NULL};
    struct run_opts o = {.timeout_s = 60, .out = &out};
    char err[256];
    long long size = -1;
    if (run_cmd(argv, &o, err, sizeof err) == 0) {
        json_t *info = json_loads(out.s ? out.s : "", 0, NULL);
        json_t *v = json_object_get(info, "virtual-size");
        if (json_is_integer(v)) size = json_integer_value(v);
        json_decref(info);
    }
    sbuf_free(&out);
    return size;
}

int disks_resize_take(struct virt_spec *v, const char **why) {
    char dir[DISKS_PATH_MAX], kept[DISKS_PATH_MAX];
    if (!folder(v->uuid, "", dir) || !folder(v->uuid, "_resize", kept) || !exists(kept)) return 0;
    if (mkdir(dir, 0755) < 0 && errno != EEXIST) {
        *why = "cannot create the instance's folder";
        return -1;
    }
    /* the disks with what the guest wrote, its config drive and console;
     * the kernel, ramdisk and a swap disk of the new size come from
     * disks_prepare as for a build (qcow2 overlays keep their base in
     * _base: a copy on this host is as good as the original) */
    static const char *const files[] = {"disk", "disk.eph0", "disk.config", "console.log"};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        char from[DISKS_PATH_MAX], to[DISKS_PATH_MAX];
        if (!join(from, kept, files[i]) || !join(to, dir, files[i]) || !exists(from) || exists(to))
            continue;
        char *argv[] = {"cp", "--sparse=always", "--", from, to, NULL};
        if (run(argv) < 0) {
            *why = "could not copy the guest's disks";
            return -1;
        }
    }
    char disk[DISKS_PATH_MAX], config[DISKS_PATH_MAX], size[32];
    v->config_drive = join(config, dir, "disk.config") && exists(config);
    if (!join(disk, dir, "disk") || !exists(disk) || v->root_gb <= 0) return 0;
    long long now = virtual_size(disk);
    if (now < 0 || now >= (long long)v->root_gb << 30) return 0; /* never shrunk */
    snprintf(size, sizeof size, "%dG", v->root_gb);
    char *argv[] = {"qemu-img", "resize", "-q", "-f", "qcow2", disk, size, NULL};
    if (run(argv) < 0) {
        *why = "could not grow the root disk";
        return -1;
    }
    log_info("root disk of %s grown to %s", v->uuid, size);
    return 0;
}

int disks_resize_restore(struct virt_spec *v, const char **why) {
    char dir[DISKS_PATH_MAX], kept[DISKS_PATH_MAX], config[DISKS_PATH_MAX];
    if (!folder(v->uuid, "", dir) || !folder(v->uuid, "_resize", kept)) return 0;
    v->config_drive = join(config, exists(kept) ? kept : dir, "disk.config") && exists(config);
    if (!exists(kept)) return 0;
    if (exists(dir) && disks_remove(disks_instances_path(), v->uuid) < 0) {
        *why = "could not remove the resized guest's files";
        return -1;
    }
    if (rename(kept, dir) == 0) return 0;
    log_error("cannot restore %s: %s", kept, strerror(errno));
    *why = "could not restore the guest's disks";
    return -1;
}

int disks_resize_drop(const char *uuid) {
    char kept[DISKS_PATH_MAX];
    if (!folder(uuid, "_resize", kept) || !exists(kept)) return 0;
    nftw(kept, unlink_one, 16, FTW_DEPTH | FTW_PHYS);
    return exists(kept) ? -1 : 0;
}

/* ---- the built-in block storage's files ---- */

int disks_volume(const char *volume_id, int size_gb, const char *image_id, const char *disk_format,
                 const char **why) {
    char path[DISKS_PATH_MAX], part[DISKS_PATH_MAX + 8], base[DISKS_PATH_MAX], size[32];
    *why = NULL;
    if (!blockstore_path(volume_id, path, sizeof path)) {
        *why = "not a volume id";
        return -1;
    }
    if (exists(path)) return 0;
    char *dir = strdup(path);
    *strrchr(dir, '/') = 0;
    int rc = mkdir(dir, 0755) < 0 && errno != EEXIST ? -1 : 0;
    free(dir);
    snprintf(part, sizeof part, "%s.part", path);
    snprintf(size, sizeof size, "%dG", size_gb > 0 ? size_gb : 1);
    if (rc == 0 && image_id && *image_id) {
        /* the cached image is raw already: copied, then grown to the
         * volume's size (never cut below the image's) */
        struct stat st;
        char *cp[] = {"cp", "--sparse=always", "--", base, part, NULL};
        char *grow[] = {"qemu-img", "resize", "-q", "-f", "raw", part, size, NULL};
        rc = cached(image_id, disk_format, base, why) < 0 || run(cp) < 0 ? -1 : 0;
        if (rc == 0 && stat(part, &st) == 0 && (long long)size_gb << 30 > (long long)st.st_size)
            rc = run(grow);
    } else if (rc == 0) {
        char *argv[] = {"qemu-img", "create", "-q", "-f", "raw", part, size, NULL};
        rc = run(argv);
    }
    if (rc == 0) rc = rename(part, path);
    if (rc < 0) {
        unlink(part);
        if (!*why) *why = "could not make the volume's file";
        return -1;
    }
    log_info("volume %s: %s made (%s%s)", volume_id, path, size,
             image_id && *image_id ? ", from its image" : "");
    return 0;
}
