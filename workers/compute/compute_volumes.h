/* compute_volumes.h — volumes.c and interfaces.c: volume disks and port
 * interfaces on this host's guests. */
#ifndef CNOVA_COMPUTE_VOLUMES_H
#define CNOVA_COMPUTE_VOLUMES_H

#include <stdbool.h>

#include <jansson.h>

#include "virt.h"

/* args {uuid, op ("attach_volume" or "detach_volume"), volume_id,
 * device?, size?}: adds or removes the volume's disk and casts
 * volume_op_done {uuid, host, op, volume_id, ok, fault?} to the conductor.
 * Returns that outcome. With `files` (a real hypervisor) the volume's file
 * is made first when it is not there yet (disks.h). */
json_t *compute_volume_op(json_t *args, const char *host, const struct virt_driver *virt,
                          bool files);

/* interfaces.c: args {uuid, op ("attach_interface" or
 * "detach_interface"), nic {port_id, mac_address, network_id, mtu, ...}}:
 * plugs or unplugs the port's interface and casts interface_op_done {uuid,
 * host, op, nic, ok, fault?} to the conductor. Returns that outcome. */
struct guest_host;
json_t *compute_interface_op(json_t *args, const char *host, const struct virt_driver *virt,
                             const struct guest_host *gh);

/* interfaces.c: args {uuid}: the guest's interfaces, as the reply
 * {"nics": [{mac_address, target}]} or {"error": "InstanceNotFound"}. */
json_t *compute_guest_nics(json_t *args, const struct virt_driver *virt);

#endif
