/* actions.c — cnova-compute's side of the simple server actions (start,
 * stop, reboot, pause, unpause, suspend, resume, changePassword,
 * trigger_crash_dump, injectNetworkInfo): one table from the conductor's
 * method to the driver's operation, and one handler that runs it and casts
 * the outcome back to the conductor (instance_action_done). */
#include <string.h>

#include "cnova.h"
#include "compute_actions.h"
#include "disks.h"
#include "guest_host.h"

#define NO_OP -1      /* nothing to do on the hypervisor */
#define OP_OFFLOAD -2 /* power off, note the power state, undefine (shelve offload) */
#define OP_SPAWN -3   /* define the guest from the message again and boot it (unshelve) */
#define OP_RESCUE -4  /* boot the message's "rescue" definition, the guest's own kept */
#define OP_UNRESCUE -5

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
    {"restore_instance", VIRT_OP_START},
    /* virt.h's rescue: a real guest boots the rescue image with its own
     * disk second; a simulated one is restarted */
    {"rescue_instance", OP_RESCUE},
    {"unrescue_instance", OP_UNRESCUE},
    /* these three upload the guest's disk to their image (ctx.image_id) */
    {"shelve_instance", VIRT_OP_STOP},
    {"shelve_offload_instance", OP_OFFLOAD},
    {"unshelve_instance", OP_SPAWN},
    {"snapshot_instance", NO_OP},
    {"backup_instance", NO_OP},
};

json_t *compute_instance_op(json_t *args, const char *host, const struct virt_driver *virt,
                            const struct guest_host *gh) {
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
    int ps = 0;
    bool boots = op == VIRT_OP_START || op == VIRT_OP_REBOOT_HARD || op == VIRT_OP_REBOOT_SOFT ||
                 op == VIRT_OP_RESUME || op == OP_RESCUE || op == OP_UNRESCUE;
    json_t *doc = json_object_get(args, "metadata");
    if (gh && boots && doc && guest_host_plug(gh, doc, &why) < 0) {
        ps = -1;
    } else if (op == OP_OFFLOAD) {
        ps = virt->power(uuid, VIRT_OP_STOP, &why); /* a guest already gone is fine */
        if (ps < 0) ps = VIRT_NOSTATE;
        if (virt->destroy(uuid) < 0) ps = -1, why = "could not undefine the guest";
        if (gh) guest_host_unplug(gh, uuid); /* its ports leave this host too */
    } else if (op == OP_SPAWN) {
        struct virt_spec v;
        spec_of(args, &v);
        if (!v.name)
            ps = -1, why = "no guest definition";
        else if (gh && doc && guest_host_prepare(gh, doc, &v, &why))
            ps = -1; /* its drive and ports, as a build has them */
        else
            ps = virt->spawn(&v, 1, &why);
    } else if (op == OP_RESCUE) {
        struct virt_spec v;
        spec_of(json_object_get(args, "rescue"), &v);
        v.uuid = uuid; /* no definition (volume-backed): restarted */
        v.rescue = v.name != NULL;
        ps = virt->rescue(&v, &why);
    } else if (op == OP_UNRESCUE) {
        ps = virt->unrescue(uuid, &why);
    } else if (op != NO_OP) {
        ps = virt->power(uuid, (enum virt_op)op, &why);
    }
    const char *image_id =
        json_string_value(json_object_get(json_object_get(args, "ctx"), "image_id"));
    if (ps >= 0 && image_id && disks_snapshot(disks_instances_path(), uuid, image_id, &why) < 0)
        ps = -1;
    json_t *res =
        json_pack("{s:s, s:s, s:s, s:b}", "uuid", uuid, "host", host, "op", method, "ok", ps >= 0);
    if (ps >= 0 && op != NO_OP) json_object_set_new(res, "power_state", json_integer(ps));
    if (ps < 0) json_object_set_new(res, "fault", json_string(why ? why : "failed"));
    /* what the conductor asked to have back (the snapshot's image id) */
    json_t *ctx = json_object_get(args, "ctx");
    if (ctx) json_object_set(res, "ctx", ctx);
    if (rpc_cast_later("conductor", "instance_action_done", res) < 0)
        log_warn("%s of %s: outcome not sent to the conductor", method, uuid);
    log_info("%s of %s: %s", method, uuid, ps >= 0 ? "done" : why);
    return res;
}
