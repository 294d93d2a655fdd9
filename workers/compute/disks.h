/* disks.h — a guest's files on a QEMU host, laid out as Nova's libvirt
 * driver lays them out under [DEFAULT] instances_path:
 *
 *   _base/<sha1 of image id>   each image once per host (raw), read over
 *                              HTTP from the image service
 *   <uuid>/disk                root disk: a qcow2 overlay backed by _base
 *   <uuid>/disk.eph0           ephemeral disk (flavor ephemeral_gb)
 *   <uuid>/disk.swap           swap disk (flavor swap)
 *   <uuid>/kernel, ramdisk     the image's kernel_id / ramdisk_id
 *   <uuid>/console.log         the serial console
 *   <uuid>/disk.rescue, kernel.rescue, ramdisk.rescue
 *                              a guest in rescue: the rescue image's disk
 *                              and kernel (unrescue.xml: its own definition)
 *
 * libvirt's test driver has no files: only QEMU hosts call disks_prepare. */
#ifndef CNOVA_DISKS_H
#define CNOVA_DISKS_H

#include <stdbool.h>
#include <stddef.h>

#include "virt.h"

#define DISKS_PATH_MAX 1024

/* Where the files of one guest are (the domain XML names them). */
struct disks_layout {
    char dir[DISKS_PATH_MAX];
    char root[DISKS_PATH_MAX]; /* "" when the guest has no root image */
    char eph[DISKS_PATH_MAX];  /* "" when the flavor has none */
    char swap[DISKS_PATH_MAX]; /* "" when the flavor has none */
    char kernel[DISKS_PATH_MAX];
    char ramdisk[DISKS_PATH_MAX];
    char console[DISKS_PATH_MAX];
    char config[DISKS_PATH_MAX];  /* the config drive; "" when the guest has none */
    char rescued[DISKS_PATH_MAX]; /* in rescue: the guest's own root disk, second */
};

/* The name of an image in the cache: the SHA-1 of its id, in hex, as
 * Nova's imagecache names it (out[41]). */
void disks_base_name(const char *image_id, char out[41]);

/* The layout of `spec`'s guest under `instances_path` (nothing is
 * touched): which files it has follows from the flavor and the image.
 * Returns 0, or -1 when the uuid is not one (a path is built from it). */
int disks_layout_of(const char *instances_path, const struct virt_spec *spec,
                    struct disks_layout *out);

/* Creates what the layout names and is missing (files already there are
 * kept: a guest defined again keeps its disks): the images fetched into the
 * cache, the overlay, the ephemeral and swap disks, kernel and ramdisk.
 * Returns 0, or -1 with *why (static text) set. */
int disks_prepare(const struct virt_spec *spec, const struct disks_layout *l, const char **why);

/* The image cache manager (Nova's [image_cache]): removes from
 * <instances_path>/_base every image no guest uses (no qcow2 file in a
 * folder under instances_path is backed by it, no kernel or ramdisk is a
 * hard link to it) that has not been used for min_age seconds; an image in
 * use has its age started again. Returns how many it removed, or -1. */
int disks_prune_cache(const char *instances_path, long min_age);

/* Removes the guest's folder and everything in it; a missing one is fine.
 * Returns 0 or -1. */
int disks_remove(const char *instances_path, const char *uuid);

/* Uploads the guest's root disk (flattened into one qcow2) as the data of
 * the image `image_id` (queued in the image service: its formats set to
 * qcow2/bare first, as Nova's libvirt driver does). Returns 0, 1 when the
 * guest has no local root disk here (nothing to upload: volume-backed, or a
 * simulated host), or -1 with *why (static text). */
int disks_snapshot(const char *instances_path, const char *uuid, const char *image_id,
                   const char **why);

/* A resize keeps the guest's files aside as Nova's libvirt driver does:
 * <uuid>_resize, the folder as it was when the guest stopped.
 *   disks_resize_keep:    <uuid> -> <uuid>_resize (source, guest off)
 *   disks_resize_take:    <uuid>_resize's disks copied into a new <uuid>
 *                         and the root disk grown to spec->root_gb (the
 *                         target, when it is the same host); sets
 *                         spec->config_drive when the guest had one
 *   disks_resize_restore: <uuid>_resize -> <uuid> (revert, on the source);
 *                         sets spec->config_drive as take does
 *   disks_resize_drop:    <uuid>_resize removed (confirmed, deleted)
 * A step that finds nothing to do (no folder kept here: another host, or
 * done before) succeeds. Returns 0, or -1 with *why (static text). */
int disks_resize_keep(const char *uuid, const char **why);
int disks_resize_take(struct virt_spec *spec, const char **why);
int disks_resize_restore(struct virt_spec *spec, const char **why);
int disks_resize_drop(const char *uuid);

/* Makes the volume's file (lib/blockstore.h) unless it is there: raw, size_gb GiB, sparse;
 * with image_id, the image's bytes first (a volume made from an image, as
 * Cinder makes one for boot from volume). Returns 0, or -1 with *why. */
int disks_volume(const char *volume_id, int size_gb, const char *image_id, const char *disk_format,
                 const char **why);

/* [DEFAULT] instances_path. */
const char *disks_instances_path(void);

#endif
