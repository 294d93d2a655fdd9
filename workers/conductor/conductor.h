/* conductor.h — the parts of cnova-conductor: main.c (the method table,
 * the tick), build.c (build_instances and everything that follows from it,
 * the build timeout) and hosts.c (what compute hosts report and ask, and
 * deletes). Every handler takes the message's args and returns its reply. */
#ifndef CNOVA_CONDUCTOR_H
#define CNOVA_CONDUCTOR_H

#include <jansson.h>
#include <stdbool.h>

struct conductor {
    const char *host;
    double next_heartbeat, next_reap;
    int heartbeat_ms;
    int build_timeout;   /* [conductor] build_timeout, seconds */
    int action_timeout;  /* [conductor] action_timeout, seconds */
    int max_attempts;    /* [scheduler] max_attempts */
    int call_timeout_ms; /* [rpc] call_timeout */
};

/* build.c */
json_t *conductor_build_instances(json_t *args, struct conductor *c);
json_t *conductor_instance_built(json_t *args, struct conductor *c);
/* args {uuid, host}: the host has begun the build (a host builds one guest
 * at a time; a real one takes seconds each): the build timeout counts
 * from now. */
json_t *conductor_instance_spawning(json_t *args, struct conductor *c);
/* The build timeout: re-drives or fails instances stuck in BUILD, re-drives
 * deletes stuck in 'deleting'. Safe with several conductors. */
void conductor_reap(struct conductor *c);
PGresult *conductor_take_due(const char *sql, int timeout_s, const char *p2);

/* hosts.c */
json_t *conductor_compute_node_update(json_t *args, struct conductor *c);
json_t *conductor_instances_on_host(json_t *args, struct conductor *c);
/* firewall.c: a host's ports with their security group rules; a change of
 * the groups sends every compute host refresh_firewall. */
json_t *conductor_host_firewall(json_t *args, struct conductor *c);
json_t *conductor_security_groups_changed(json_t *args, struct conductor *c);
json_t *conductor_instance_power_sync(json_t *args, struct conductor *c);
json_t *conductor_delete_instance(json_t *args, struct conductor *c);
json_t *conductor_instance_terminated(json_t *args, struct conductor *c);
/* Is the nova-compute service of `host` up (fresh heartbeat, not forced
 * down)? */
int conductor_compute_up(const char *host);
/* Gives back the instance's claim (no-op when it holds none); with
 * node_id, only a claim on that node of an instance that has no host yet
 * (the scheduler's answer to us that we could not use). Runs inside the
 * caller's transaction, if any. */
int conductor_release_claim(const char *uuid, const char *node_id);

/* actions.c: the simple server actions (the API's casts, forwarded to the
 * instance's host) and their outcome from the host. */
json_t *conductor_start_instance(json_t *args, struct conductor *c);
json_t *conductor_stop_instance(json_t *args, struct conductor *c);
json_t *conductor_reboot_instance(json_t *args, struct conductor *c);
json_t *conductor_pause_instance(json_t *args, struct conductor *c);
json_t *conductor_unpause_instance(json_t *args, struct conductor *c);
json_t *conductor_suspend_instance(json_t *args, struct conductor *c);
json_t *conductor_resume_instance(json_t *args, struct conductor *c);
json_t *conductor_set_admin_password(json_t *args, struct conductor *c);
json_t *conductor_trigger_crash_dump(json_t *args, struct conductor *c);
json_t *conductor_inject_network_info(json_t *args, struct conductor *c);
json_t *conductor_soft_delete_instance(json_t *args, struct conductor *c);
json_t *conductor_instance_action_done(json_t *args, struct conductor *c);
/* Casts `method` {instance_uuid, ...} on to the instance's host (the
 * simple actions' path; an instance without a host fails the task). */
json_t *conductor_forward(const char *method, json_t *args);
json_t *conductor_restore_instance(json_t *args, struct conductor *c);
json_t *conductor_rescue_instance(json_t *args, struct conductor *c);
json_t *conductor_unrescue_instance(json_t *args, struct conductor *c);
json_t *conductor_shelve_instance(json_t *args, struct conductor *c);
json_t *conductor_shelve_offload_instance(json_t *args, struct conductor *c);
json_t *conductor_snapshot_instance(json_t *args, struct conductor *c);
json_t *conductor_backup_instance(json_t *args, struct conductor *c);

/* lifecycle.c: unshelve (through the scheduler when offloaded) and what
 * the lifecycle actions settle besides the instance's state, run inside
 * actions.c's transaction once the instance has left its task: the
 * snapshot image (active, or deleted on failure; backup rotation), the
 * shelved system metadata and the offload at shelved_offload_time = 0, the
 * host and claim of an offloaded instance. */
json_t *conductor_unshelve_instance(json_t *args, struct conductor *c);
/* Deletes the image `image_id` through the image service (its data with
 * it), else in the registry only (logged); an unknown or already deleted
 * one is fine. Returns 0 or -1 (logged). */
int conductor_image_delete(const char *image_id);
typedef void (*conductor_after_fn)(const char *uuid, const char *host, bool ok, json_t *args);
/* The after-hook of a simple action's method (args: the host's answer),
 * or NULL when it has none. */
conductor_after_fn conductor_after(const char *method);
/* Nova's _poll_shelved_instances: every [DEFAULT] shelved_poll_interval,
 * servers shelved longer than shelved_offload_time (> 0) are offloaded. */
void conductor_poll_shelved(void);

/* move.c: rebuild, resize / cold migration, confirm and revert (the API's
 * casts), the hosts' answers to each step, and what a delete closes. */
json_t *conductor_rebuild_instance(json_t *args, struct conductor *c);
json_t *conductor_resize_instance(json_t *args, struct conductor *c);
json_t *conductor_live_migrate_instance(json_t *args, struct conductor *c);
json_t *conductor_evacuate_instance(json_t *args, struct conductor *c);
json_t *conductor_evacuated_instances(json_t *args, struct conductor *c);
json_t *conductor_evacuation_cleaned(json_t *args, struct conductor *c);
json_t *conductor_live_migration_abort(json_t *args, struct conductor *c);
json_t *conductor_live_migration_force_complete(json_t *args, struct conductor *c);
json_t *conductor_confirm_resize(json_t *args, struct conductor *c);
json_t *conductor_revert_resize(json_t *args, struct conductor *c);
json_t *conductor_move_done(json_t *args, struct conductor *c);
/* Gives back the claims of the instance's migrations and ends them; inside
 * the caller's transaction. */
void conductor_moves_on_delete(const char *uuid);
/* Ends moves whose hosts did not answer within [conductor] build_timeout. */
void conductor_reap_moves(struct conductor *c);
/* audit.c: instance.exists for the last audit period, once per compute
 * host ([DEFAULT] instance_usage_audit). */
void conductor_usage_audit(void);
/* actions.c: server actions whose host never answered within
 * [conductor] action_timeout end as failed ones do (fault, Error event). */
void conductor_reap_actions(struct conductor *c);

/* volumes.c: volume attach and detach (the API's casts, forwarded to the
 * instance's host) and their outcome from the host. */
json_t *conductor_attach_volume(json_t *args, struct conductor *c);
json_t *conductor_detach_volume(json_t *args, struct conductor *c);
json_t *conductor_volume_op_done(json_t *args, struct conductor *c);
/* The instance action `op` the API recorded, and its event compute_<op>:
 * started on `host` (result NULL) or finished with `result` (an "Error"
 * marks the action too). */
void conductor_op_event(const char *uuid, const char *op, const char *host, const char *result);

/* interfaces.c: os-interface attach / detach and os-multinic on the host. */
json_t *conductor_attach_interface(json_t *args, struct conductor *c);
json_t *conductor_detach_interface(json_t *args, struct conductor *c);
json_t *conductor_interface_op_done(json_t *args, struct conductor *c);
/* The instance's ports as a guest definition's "nics" ([{port_id,
 * mac_address, network_id, mtu}], oldest first): CONDUCTOR_NICS_SQL(x) is
 * that JSON as an SQL expression for instance uuid x. */
#define CONDUCTOR_NICS_SQL(inst)                                                                   \
    "(SELECT COALESCE(jsonb_agg(jsonb_build_object('port_id', p.id, 'mac_address',"                \
    " p.mac_address, 'network_id', p.network_id, 'mtu', n.mtu) ORDER BY p.created_at, p.id),"      \
    " '[]') FROM ports p JOIN networks n ON n.id = p.network_id WHERE p.instance_uuid = " inst ")"
/* The JSON text the statement `sql` (of one parameter, the instance's
 * uuid) answers, parsed; NULL (logged as `what` not read) when it answers
 * nothing. */
json_t *conductor_instance_json(const char *sql, const char *what, const char *uuid);
json_t *conductor_nics(const char *uuid);
/* volumes.c: the volumes a build attaches (made first where its mappings
 * ask for new ones); NULL when the database cannot answer. */
json_t *conductor_build_volumes(const char *uuid);
/* The instance's metadata document (lib/metadata.h), which the host needs
 * for the guest's network and config drive; NULL when it cannot be read. */
json_t *conductor_metadata_doc(const char *uuid);

/* build.c: what a guest definition needs of its image ({disk_format,
 * kernel_id, ramdisk_id, os_command_line}, each when the image has it),
 * from the copies of the image's fields the API keeps in the instance's
 * system_metadata (image_<key>): CONDUCTOR_IMAGE_SQL(sm) is that JSON as
 * an SQL expression of the system_metadata column sm. */
#define CONDUCTOR_IMAGE_SQL(sm)                                                                    \
    "jsonb_strip_nulls(jsonb_build_object('disk_format', " sm "->>'image_disk_format',"            \
    " 'kernel_id', " sm "->>'image_kernel_id', 'ramdisk_id', " sm "->>'image_ramdisk_id',"         \
    " 'os_command_line', " sm "->>'image_os_command_line'))"
json_t *conductor_guest_image(const char *uuid);

#endif
