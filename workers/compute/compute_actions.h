/* compute_actions.h — actions.c: the simple server actions on this host. */
#ifndef CNOVA_COMPUTE_ACTIONS_H
#define CNOVA_COMPUTE_ACTIONS_H

#include <jansson.h>

#include "virt.h"

/* args {uuid, op (the conductor's method), reboot_type?, new_pass?}: runs
 * the operation on the guest and casts instance_action_done {uuid, host,
 * op, ok, power_state?, fault?} to the conductor. Returns that outcome. */
json_t *compute_instance_op(json_t *args, const char *host, const struct virt_driver *virt);

#endif
