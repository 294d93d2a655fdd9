/* image_format.c — the disk format of image data from its magic numbers,
 * as Glance's format inspector and qemu's probes read them, and the
 * images refused because they point at other files. Used by the image
 * upload (resources/image_data.c) before qemu-img ever opens the data. */
#include <stdint.h>
#include <string.h>

#include "image_format.h"
#include "util.h"

static bool at(const unsigned char *head, size_t n, size_t off, const char *magic, size_t len) {
    return n >= off + len && !memcmp(head + off, magic, len);
}

/* qcow2: header version 2 or 3; backing_file_offset at 8; version 3 has
 * incompatible_features at 72, whose bit 2 is an external data file. */
static struct image_format qcow2(const unsigned char *h, size_t n) {
    struct image_format f = {"qcow2", "qcow2", NULL};
    uint64_t version = n >= 8 ? load_be(h + 4, 4) : 0;
    if (version != 2 && version != 3) {
        f.refusal = "unsupported qcow version";
        return f;
    }
    if (n < 16 || load_be(h + 8, 8))
        f.refusal = "a qcow2 image with a backing file";
    else if (version == 3 && (n < 80 || (load_be(h + 72, 8) & 4)))
        f.refusal = "a qcow2 image with an external data file";
    return f;
}

struct image_format image_format_detect(const unsigned char *head, size_t n) {
    static const struct {
        size_t off;
        const char *magic;
        size_t len;
        struct image_format format;
    } magics[] = {
        {0, "vhdxfile", 8, {"vhdx", "vhdx", NULL}},
        {0, "KDMV", 4, {"vmdk", "vmdk", NULL}},
        {0, "COWD", 4, {"vmdk", "vmdk", "a VMDK3 image"}},
        {0, "# Disk DescriptorFile", 21, {"vmdk", "vmdk", "a VMDK descriptor file"}},
        {0, "conectix", 8, {"vhd", "vpc", NULL}},
        {0x40, "\x7f\x10\xda\xbe", 4, {"vdi", "vdi", NULL}},
        {0, "WithoutFreeSpace", 16, {"ploop", "parallels", NULL}},
        {0, "WithouFreSpacExt", 16, {"ploop", "parallels", NULL}},
        {0x8001, "CD001", 5, {"iso", "raw", NULL}},
    };
    if (at(head, n, 0, "QFI\xfb", 4)) return qcow2(head, n);
    for (size_t i = 0; i < sizeof magics / sizeof magics[0]; i++)
        if (at(head, n, magics[i].off, magics[i].magic, magics[i].len)) return magics[i].format;
    return (struct image_format){"raw", "raw", NULL};
}

bool image_format_matches(const char *declared, const char *detected) {
    static const char *plain[] = {"raw", "ami", "ari", "aki"};
    for (size_t i = 0; i < sizeof plain / sizeof plain[0]; i++)
        if (!strcmp(declared, plain[i]))
            return !strcmp(detected, "raw") || !strcmp(detected, "iso");
    return !strcmp(declared, detected);
}
