/* volumes.c — cnova-compute's side of volume attach and detach: the
 * volume's disk is added to or removed from the guest through the driver,
 * and the outcome goes back to the conductor (volume_op_done). The built-in
 * block storage backs each volume with a file under [compute] volumes_path
 * named volume-<id>. */
#include <stdio.h>
#include <string.h>

#include "cnova.h"
#include "compute_volumes.h"
#include "blockstore.h"
#include "disks.h"

/* The guest's bus for a device name's prefix (Nova's libvirt
 * get_disk_bus_for_device_type, by name): sd -> scsi, hd -> ide,
 * xvd -> xen, anything else virtio. */
static const char *bus_of(const char *target) {
    if (!strncmp(target, "sd", 2)) return "scsi";
    if (!strncmp(target, "hd", 2)) return "ide";
    if (!strncmp(target, "xvd", 3)) return "xen";
    return "virtio";
}

json_t *compute_volume_op(json_t *args, const char *host, const struct virt_driver *virt,
                          bool files) {
    const char *uuid = json_string_value(json_object_get(args, "uuid"));
    const char *op = json_string_value(json_object_get(args, "op"));
    const char *volume = json_string_value(json_object_get(args, "volume_id"));
    const char *device = json_string_value(json_object_get(args, "device"));
    if (!uuid || !op || !volume) return rpc_failure("volume operation needs uuid, op, volume_id");
    bool attach = !strcmp(op, "attach_volume");
    const char *why = NULL;
    int rc;
    if (attach) {
        const char *target = device && !strncmp(device, "/dev/", 5) ? device + 5 : "vdb";
        char path[DISKS_PATH_MAX];
        struct virt_disk disk = {target, bus_of(target), volume, path};
        int size = (int)json_integer_value(json_object_get(args, "size"));
        if (!blockstore_path(volume, path, sizeof path))
            rc = -1, why = "not a volume id";
        else if (files && disks_volume(volume, size, NULL, NULL, &why) < 0)
            rc = -1; /* a volume's file is made when a host first needs it */
        else
            rc = virt->attach_disk(uuid, &disk, &why);
    } else {
        rc = virt->detach_disk(uuid, volume, &why);
    }
    json_t *res = json_pack("{s:s,s:s,s:s,s:s,s:b}", "uuid", uuid, "host", host, "op", op,
                            "volume_id", volume, "ok", rc == 0);
    if (rc) json_object_set_new(res, "fault", json_string(why ? why : "failed"));
    if (rpc_cast_later("conductor", "volume_op_done", res) < 0)
        log_warn("%s of %s: outcome not sent to the conductor", op, volume);
    log_info("%s of %s on %s: %s", op, volume, uuid, rc ? why : "done");
    return res;
}
