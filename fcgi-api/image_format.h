/* image_format.h — what an uploaded image's bytes are, read from their
 * header before any tool opens them (image_format.c): the disk format the
 * data really has, the qemu driver that reads it, and the images refused
 * outright because they name other files (a qcow2 backing file or external
 * data file, a VMDK descriptor), so that no later `qemu-img` or hypervisor
 * ever follows a path a user wrote. Pure functions: no I/O. */
#ifndef CNOVA_IMAGE_FORMAT_H
#define CNOVA_IMAGE_FORMAT_H

#include <stdbool.h>
#include <stddef.h>

/* Bytes of the file's start that image_format_detect needs (an ISO 9660
 * volume descriptor sits at 32769). */
#define IMAGE_FORMAT_HEAD 34816

struct image_format {
    const char *name;        /* Glance's disk_format name: "qcow2", "raw", ... */
    const char *qemu_driver; /* qemu-img's -f for it: "qcow2", "vpc", "raw", ... */
    const char *refusal;     /* why such data is never accepted, or NULL */
};

/* The format of data whose first n bytes are head (n may be shorter than
 * IMAGE_FORMAT_HEAD for a short file). Data of no known format is raw. */
struct image_format image_format_detect(const unsigned char *head, size_t n);
/* True when data detected as `detected` may be stored under the declared
 * disk_format `declared` (raw, iso and the Amazon formats all hold data
 * of no container format; iso must really be an ISO 9660 image). */
bool image_format_matches(const char *declared, const char *detected);

#endif
