/* cnova-conductor — consumes the "conductor" queue: the build and delete
 * workflows (build.c, hosts.c) and the database work of compute hosts, which
 * never touch PostgreSQL themselves (Nova's "no-DB compute"). Every tick it
 * publishes what API workers left in the outbox, heartbeats its own services
 * row and runs the build timeout. `--ping TOPIC` is a small client for tests
 * and operators. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cnova.h"
#include "conductor.h"
#include "service.h"

#define PROGRAM "cnova-conductor"
#define TICK_MS 1000

static json_t *do_ping(json_t *args, struct conductor *c) {
    return json_pack("{s:s, s:s}", "pong", "conductor", "host", c->host);
}

/* args {host, binary, topic}: one heartbeat of a (DB-less) service. */
static json_t *do_service_heartbeat(json_t *args, struct conductor *c) {
    const char *host = json_string_value(json_object_get(args, "host"));
    const char *binary = json_string_value(json_object_get(args, "binary"));
    const char *topic = json_string_value(json_object_get(args, "topic"));
    if (!host || !binary || !topic)
        return rpc_failure("service_heartbeat needs host, binary and topic");
    if (service_report(host, binary, topic,
                       (long)json_integer_value(json_object_get(args, "db_reconnects")),
                       (long)json_integer_value(json_object_get(args, "rpc_reconnects"))) < 0)
        return rpc_failure("database unavailable");
    return json_true();
}

static const struct {
    const char *method;
    json_t *(*fn)(json_t *args, struct conductor *c);
} methods[] = {
    {"ping", do_ping},
    {"service_heartbeat", do_service_heartbeat},
    {"build_instances", conductor_build_instances},
    {"instance_spawning", conductor_instance_spawning},
    {"instance_built", conductor_instance_built},
    {"delete_instance", conductor_delete_instance},
    {"instance_terminated", conductor_instance_terminated},
    {"compute_node_update", conductor_compute_node_update},
    {"instances_on_host", conductor_instances_on_host},
    {"host_firewall", conductor_host_firewall},
    {"security_groups_changed", conductor_security_groups_changed},
    {"instance_power_sync", conductor_instance_power_sync},
    {"start_instance", conductor_start_instance},
    {"stop_instance", conductor_stop_instance},
    {"reboot_instance", conductor_reboot_instance},
    {"pause_instance", conductor_pause_instance},
    {"unpause_instance", conductor_unpause_instance},
    {"suspend_instance", conductor_suspend_instance},
    {"resume_instance", conductor_resume_instance},
    {"set_admin_password", conductor_set_admin_password},
    {"trigger_crash_dump", conductor_trigger_crash_dump},
    {"inject_network_info", conductor_inject_network_info},
    {"soft_delete_instance", conductor_soft_delete_instance},
    {"instance_action_done", conductor_instance_action_done},
    {"attach_volume", conductor_attach_volume},
    {"detach_volume", conductor_detach_volume},
    {"volume_op_done", conductor_volume_op_done},
    {"attach_interface", conductor_attach_interface},
    {"detach_interface", conductor_detach_interface},
    {"interface_op_done", conductor_interface_op_done},
    {"restore_instance", conductor_restore_instance},
    {"rescue_instance", conductor_rescue_instance},
    {"unrescue_instance", conductor_unrescue_instance},
    {"shelve_instance", conductor_shelve_instance},
    {"shelve_offload_instance", conductor_shelve_offload_instance},
    {"unshelve_instance", conductor_unshelve_instance},
    {"snapshot_instance", conductor_snapshot_instance},
    {"backup_instance", conductor_backup_instance},
    {"rebuild_instance", conductor_rebuild_instance},
    {"resize_instance", conductor_resize_instance},
    {"live_migrate_instance", conductor_live_migrate_instance},
    {"evacuate_instance", conductor_evacuate_instance},
    {"evacuated_instances", conductor_evacuated_instances},
    {"evacuation_cleaned", conductor_evacuation_cleaned},
    {"live_migration_abort", conductor_live_migration_abort},
    {"live_migration_force_complete", conductor_live_migration_force_complete},
    {"confirm_resize", conductor_confirm_resize},
    {"revert_resize", conductor_revert_resize},
    {"move_done", conductor_move_done},
};

static json_t *dispatch(const char *method, json_t *args, void *ud) {
    for (size_t i = 0; i < sizeof methods / sizeof methods[0]; i++)
        if (!strcmp(methods[i].method, method)) return methods[i].fn(args, ud);
    return rpc_failure("conductor has no method %s", method);
}

static void tick(void *ud) {
    struct conductor *c = ud;
    double now = now_ms();
    if (now >= c->next_heartbeat) {
        service_report_own(c->host, "nova-conductor", "conductor");
        c->next_heartbeat = now + c->heartbeat_ms;
    }
    outbox_flush();
    if (now >= c->next_reap) {
        conductor_reap(c);
        conductor_reap_moves(c);
        conductor_reap_actions(c);
        conductor_usage_audit();
        c->next_reap = now_ms() + 5000;
    }
    conductor_poll_shelved();
}

/* --ping TOPIC: prints the reply and returns the exit status. */
static int ping(const char *topic) {
    const char *err = NULL;
    json_t *res =
        rpc_call(topic, "ping", NULL, (int)config_int("rpc", "call_timeout", 60) * 1000, &err);
    rpc_close();
    if (!res) {
        fprintf(stderr, "%s: ping %s failed: %s\n", PROGRAM, topic, err ? err : "?");
        return 1;
    }
    char *s = json_dumps(res, JSON_COMPACT | JSON_ENCODE_ANY);
    printf("%s\n", s);
    free(s);
    json_decref(res);
    return 0;
}

int main(int argc, char **argv) {
    struct service_args a;
    int rc = service_parse_args(argc, argv, PROGRAM, 1, &a);
    if (rc) return rc > 0 ? 0 : 2;
    if (service_start(PROGRAM, a.config) < 0) return 1;
    if (a.ping) {
        rc = ping(a.ping);
        config_free();
        return rc;
    }

    struct conductor c = {
        .host = service_host(),
        .heartbeat_ms = (int)config_int("compute", "heartbeat_interval", 10) * 1000,
        .build_timeout = (int)config_int("conductor", "build_timeout", 120),
        .action_timeout = (int)config_int("conductor", "action_timeout", 600),
        .max_attempts = (int)config_int("scheduler", "max_attempts", 3),
        .call_timeout_ms = (int)config_int("rpc", "call_timeout", 60) * 1000,
    };
    if (c.max_attempts < 1) c.max_attempts = 1;
    int workers = (int)config_int("conductor", "workers", 0);
    if (workers <= 0) workers = 2 * (int)sysconf(_SC_NPROCESSORS_ONLN);
    rc = service_workers(workers);
    if (rc != 0) {
        config_free();
        return rc > 0 ? 0 : 1;
    }
    log_info("starting on host %s", c.host);
    if (db_open() != DB_OK) log_warn("database unavailable (will retry): %s", db_errmsg());
    rpc_serve("conductor", dispatch, &c, tick, TICK_MS, &service_stop);
    log_info("stopping");
    rpc_close();
    db_close();
    config_free();
    return 0;
}
