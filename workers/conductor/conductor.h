/* conductor.h — the parts of cnova-conductor: main.c (the method table,
 * the tick), build.c (build_instances and everything that follows from it,
 * the build timeout) and hosts.c (what compute hosts report and ask, and
 * deletes). Every handler takes the message's args and returns its reply. */
#ifndef CNOVA_CONDUCTOR_H
#define CNOVA_CONDUCTOR_H

#include <jansson.h>

struct conductor {
    const char *host;
    double next_heartbeat, next_reap;
    int heartbeat_ms;
    int build_timeout;   /* [conductor] build_timeout, seconds */
    int max_attempts;    /* [scheduler] max_attempts */
    int call_timeout_ms; /* [rpc] call_timeout */
};

/* build.c */
json_t *conductor_build_instances(json_t *args, struct conductor *c);
json_t *conductor_instance_built(json_t *args, struct conductor *c);
/* The build timeout: re-drives or fails instances stuck in BUILD, re-drives
 * deletes stuck in 'deleting'. Safe with several conductors. */
void conductor_reap(struct conductor *c);

/* hosts.c */
json_t *conductor_compute_node_update(json_t *args, struct conductor *c);
json_t *conductor_instances_on_host(json_t *args, struct conductor *c);
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

#endif
