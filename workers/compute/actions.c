/* actions.c — cnova-compute's side of the simple server actions (start,
 * stop, reboot, pause, unpause, suspend, resume, changePassword,
 * trigger_crash_dump, injectNetworkInfo): one table from the conductor's
 * method to the driver's operation, and one handler that runs it and casts
 * the outcome back to the conductor (instance_action_done). */
#include <string.h>

#include "cnova.h"
#include "compute_actions.h"

#define NO_OP -1 /* nothing to do on the hypervisor */

static const struct {
    const char *method;
    int op; /* enum virt_op, or NO_OP */
} ops[] = {
    {"start_instance", VIRT_OP_START},
    {"stop_instance", VIRT_OP_STOP},
    {"reboot_instance", VIRT_OP_REBOOT_SOFT}, /* reboot_type HARD: VIRT_OP_REBOOT_HARD */
    {"pause_instance", VIRT_OP_PAUSE},
    {"unpause_instance", VIRT_OP_UNPAUSE},
    {"suspend_instance", VIRT_OP_SUSPEND},
    {"resume_instance", VIRT_OP_RESUME},
    /* libvirt sets a password through the guest agent; the guests cnova
     * defines have none, so the password is accepted as the fake driver
     * does. */
    {"set_admin_password", NO_OP},
    {"trigger_crash_dump", VIRT_OP_CRASH_DUMP},
    {"inject_network_info", NO_OP},
    {"soft_delete_instance", VIRT_OP_STOP},
};

json_t *compute_instance_op(json_t *args, const char *host, const struct virt_driver *virt) {
    const char *uuid = json_string_value(json_object_get(args, "uuid"));
    const char *method = json_string_value(json_object_get(args, "op"));
    if (!uuid || !method) return rpc_failure("instance operation needs uuid and op");
    size_t i = 0;
    while (i < sizeof ops / sizeof ops[0] && strcmp(ops[i].method, method))
        i++;
    if (i == sizeof ops / sizeof ops[0]) return rpc_failure("compute has no operation %s", method);
    int op = ops[i].op;
    const char *type = json_string_value(json_object_get(args, "reboot_type"));
    if (op == VIRT_OP_REBOOT_SOFT && type && !strcmp(type, "HARD")) op = VIRT_OP_REBOOT_HARD;
    const char *why = NULL;
    int ps = op == NO_OP ? 0 : virt->power(uuid, (enum virt_op)op, &why);
    json_t *res =
        json_pack("{s:s, s:s, s:s, s:b}", "uuid", uuid, "host", host, "op", method, "ok", ps >= 0);
    if (ps >= 0 && op != NO_OP) json_object_set_new(res, "power_state", json_integer(ps));
    if (ps < 0) json_object_set_new(res, "fault", json_string(why ? why : "failed"));
    if (rpc_cast("conductor", "instance_action_done", res) < 0)
        log_warn("%s of %s: outcome not sent to the conductor", method, uuid);
    log_info("%s of %s: %s", method, uuid, ps >= 0 ? "done" : why);
    return res;
}
