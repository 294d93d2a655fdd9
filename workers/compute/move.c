/* move.c — cnova-compute's side of rebuild, resize / cold migration and
 * their confirm and revert: each step is data (power the guest off, drop
 * it, define it with the flavor the conductor sends and boot it when it
 * ran before), and one handler runs the step and casts its outcome back to
 * the conductor (move_done). On libvirt's test driver every host has its
 * own connection, so a guest moves by being defined on the target's and
 * undefined on the source's. */
#include <string.h>

#include "cnova.h"
#include "compute_actions.h"
#include "disks.h"
#include "guest_host.h"

/* What a step does with a real guest's files (disks.h's resize folder). */
enum move_files { FILES_NONE, FILES_KEEP, FILES_TAKE, FILES_RESTORE, FILES_DROP };

static const struct move_step {
    const char *op;
    bool stop;             /* power the guest off */
    bool destroy;          /* drop its definition */
    bool define;           /* define it from the message (and boot it if power_on) */
    enum move_files files; /* after stop / destroy, before define */
} steps[] = {
    {"rebuild_instance", false, true, true, FILES_NONE},        /* same host, new image */
    {"resize_instance", true, false, false, FILES_KEEP},        /* source: off, kept */
    {"finish_resize", false, true, true, FILES_TAKE},           /* target: the new flavor */
    {"confirm_resize", false, true, false, FILES_DROP},         /* source: the old guest goes */
    {"revert_resize", false, true, false, FILES_NONE},          /* target: the new guest goes */
    {"finish_revert_resize", false, true, true, FILES_RESTORE}, /* source: the old flavor */
    {"pre_live_migration", false, false, true, FILES_NONE},     /* target: a running copy */
    {"live_migration", false, true, false, FILES_NONE},         /* source: its copy goes */
    {"rollback_live_migration_at_destination", false, true, false, FILES_NONE}, /* abort: target */
    {"rollback_live_migration", false, false, true, FILES_NONE}, /* abort: source runs it */
};

json_t *compute_move_op(json_t *args, const char *host, const struct virt_driver *virt,
                        const struct guest_host *gh) {
    const char *uuid = json_string_value(json_object_get(args, "uuid"));
    const char *op = json_string_value(json_object_get(args, "op"));
    if (!uuid || !op) return rpc_failure("move step needs uuid and op");
    const struct move_step *s = NULL;
    for (size_t i = 0; i < sizeof steps / sizeof steps[0] && !s; i++)
        if (!strcmp(steps[i].op, op)) s = &steps[i];
    if (!s) return rpc_failure("compute has no move step %s", op);
    const char *why = NULL;
    int ps = 0;
    struct virt_spec v;
    spec_of(args, &v);
    v.uuid = uuid;
    if (s->stop) ps = virt->power(uuid, VIRT_OP_STOP, &why);
    if (ps >= 0 && s->destroy && virt->destroy(uuid) < 0) {
        ps = -1;
        why = "could not remove the guest";
    }
    if (ps >= 0 && gh) {
        int rc = s->files == FILES_KEEP      ? disks_resize_keep(uuid, &why)
                 : s->files == FILES_TAKE    ? disks_resize_take(&v, &why)
                 : s->files == FILES_RESTORE ? disks_resize_restore(&v, &why)
                 : s->files == FILES_DROP    ? disks_resize_drop(uuid)
                                             : 0;
        if (rc < 0) ps = -1, why = why ? why : "could not remove the kept disks";
    }
    json_t *doc = json_object_get(args, "metadata");
    if (ps >= 0 && s->define && gh && doc && guest_host_prepare(gh, doc, &v, &why))
        ps = -1; /* its config drive and ports, as a build has them */
    if (ps >= 0 && s->define) {
        ps = v.name ? virt->spawn(&v, json_is_true(json_object_get(args, "power_on")), &why) : -1;
        if (ps < 0) virt->destroy(uuid); /* nothing half-defined left behind */
    }
    json_t *res =
        json_pack("{s:s, s:s, s:s, s:b}", "uuid", uuid, "host", host, "op", op, "ok", ps >= 0);
    json_t *mid = json_object_get(args, "migration_id");
    if (mid) json_object_set(res, "migration_id", mid);
    if (ps >= 0 && (s->stop || s->define))
        json_object_set_new(res, "power_state", json_integer(ps));
    if (ps < 0) json_object_set_new(res, "fault", json_string(why ? why : "failed"));
    if (rpc_cast_later("conductor", "move_done", res) < 0)
        log_warn("%s of %s: outcome not sent to the conductor", op, uuid);
    log_info("%s of %s: %s", op, uuid, ps >= 0 ? "done" : why);
    return res;
}

/* At start: the guests this host still has of instances evacuated from it
 * while it was down go (Nova's _destroy_evacuated_instances). The
 * conductor names the evacuations ({uuid, migration_id, destroy}: destroy
 * is false when the instance has come back here since) and, told which
 * were handled, marks the finished ones completed. */
void compute_destroy_evacuated(const char *host, const struct virt_driver *virt) {
    const char *err = NULL;
    json_t *q = json_pack("{s:s}", "host", host);
    json_t *list = rpc_call("conductor", "evacuated_instances", q, 10000, &err);
    json_decref(q);
    if (!json_is_array(list)) {
        log_warn("evacuated guests not checked: %s", err ? err : "bad reply");
        json_decref(list);
        return;
    }
    json_t *handled = json_array();
    size_t i;
    json_t *m;
    json_array_foreach(list, i, m) {
        const char *uuid = json_string_value(json_object_get(m, "uuid"));
        if (!uuid) continue;
        if (json_is_true(json_object_get(m, "destroy"))) {
            if (virt->destroy(uuid) < 0) continue;
            log_info("instance %s was evacuated from this host: its guest here is gone", uuid);
        }
        json_array_append(handled, json_object_get(m, "migration_id"));
    }
    if (json_array_size(handled)) {
        json_t *a = json_pack("{s:s, s:O}", "host", host, "migration_ids", handled);
        if (rpc_cast_later("conductor", "evacuation_cleaned", a) < 0)
            log_warn("evacuations from %s: cleanup not reported", host);
        json_decref(a);
    }
    json_decref(handled);
    json_decref(list);
}
