/* compute_volumes.h — volumes.c: volume disks on this host's guests. */
#ifndef CNOVA_COMPUTE_VOLUMES_H
#define CNOVA_COMPUTE_VOLUMES_H

#include <jansson.h>

#include "virt.h"

/* args {uuid, op ("attach_volume" or "detach_volume"), volume_id,
 * device?}: adds or removes the volume's disk and casts volume_op_done
 * {uuid, host, op, volume_id, ok, fault?} to the conductor. Returns that
 * outcome. */
json_t *compute_volume_op(json_t *args, const char *host, const struct virt_driver *virt);

#endif
