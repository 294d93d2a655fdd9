/* compute_actions.h — actions.c: the simple server actions on this host. */
#ifndef CNOVA_COMPUTE_ACTIONS_H
#define CNOVA_COMPUTE_ACTIONS_H

#include <stdbool.h>

#include <jansson.h>

#include "virt.h"

struct guest_host;
/* args {uuid, op (the conductor's method), reboot_type?, new_pass?,
 * metadata (the instance's document)}: runs the operation on the guest and
 * casts instance_action_done {uuid, host, op, ok, power_state?, fault?} to
 * the conductor. Returns that outcome. `gh` (NULL on simulated hosts): an
 * operation that boots the guest plugs its ports first (again: the host's
 * networks may have gone with a restart of the stack). */
json_t *compute_instance_op(json_t *args, const char *host, const struct virt_driver *virt,
                            const struct guest_host *gh);

/* move.c: args {uuid, op, migration_id?, power_on?, and a build's guest
 * fields for the steps that define the guest}: runs one step of a
 * rebuild, resize or cold migration, confirm or revert on this host and
 * casts move_done {uuid, host, op, ok, migration_id?, power_state | fault}
 * to the conductor. Returns that outcome. `gh` (NULL on libvirt's test
 * driver): the host has the guests' files, which a resize keeps aside and
 * a same-host resize carries over (disks.h), and a step that defines the
 * guest gives it what a build does first: its config drive, made anew
 * from the message's metadata document, and its ports plugged here. */
json_t *compute_move_op(json_t *args, const char *host, const struct virt_driver *virt,
                        const struct guest_host *gh);

/* move.c: at start, drops the guests of instances evacuated from this host
 * and reports them to the conductor (evacuation_cleaned). */
void compute_destroy_evacuated(const char *host, const struct virt_driver *virt);

/* main.c: a build's guest fields of a message into *v (borrowed strings),
 * its "nics" ({port_id, mac_address, network_id, mtu}) included; nic_of
 * reads one of them. */
void spec_of(json_t *a, struct virt_spec *v);
void nic_of(json_t *n, struct virt_nic *out);

/* lifecycle.c: args {uuid, length?}: the guest's console log, as the
 * reply {"output": "..."} or {"error": "ConsoleNotAvailable"}. */
/* Nova's _tail_log: where the last `length` pieces of s split at newlines
 * begin (0: none, the end of s; Python's negative slice start for a
 * negative length: all but the first -length pieces). */
const char *compute_tail_lines(const char *s, long long length);
json_t *compute_console_output(json_t *args, const struct virt_driver *virt);

/* consoles.c: args {uuid, protocol, console_type}: where the guest's remote
 * console listens, as the reply {console_type, host, port, tls_port,
 * internal_access_path, access_url_base}, or {error: "ConsoleTypeUnavailable"
 * | "ConsoleTypeInvalid", console_type} | {error: "InstanceNotFound" |
 * "NotImplemented"} (Nova's exceptions, which the API turns into faults). */
json_t *compute_remote_console(json_t *args, const struct virt_driver *virt);

#endif
