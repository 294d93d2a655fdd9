/* cnova-compute — one per hypervisor host ([DEFAULT] host). Consumes
 * "compute.<host>", drives the hypervisor through virt.h, and never opens a
 * database connection: its service heartbeat goes to the conductor as a
 * `service_heartbeat` cast every [compute] heartbeat_interval seconds. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cnova.h"
#include "service.h"
#include "virt.h"

#define PROGRAM "cnova-compute"
#define TICK_MS 1000

struct compute {
    const char *host;
    const struct virt_driver *virt;
    double next_heartbeat;
    int heartbeat_ms;
};

static json_t *do_ping(json_t *args, struct compute *c) {
    json_t *r = json_pack("{s:s, s:s}", "pong", "compute", "host", c->host);
    struct virt_host_info hi;
    if (c->virt->host_info(&hi) == 0) {
        struct virt_instance *inst = NULL;
        size_t n = 0;
        c->virt->list_instances(&inst, &n);
        free(inst);
        json_object_set_new(r, "hypervisor",
                            json_pack("{s:s, s:s, s:I, s:s, s:s, s:i, s:I, s:I}", "driver",
                                      c->virt->name, "hypervisor_type", hi.hypervisor_type,
                                      "hypervisor_version", (json_int_t)hi.hypervisor_version,
                                      "hypervisor_hostname", hi.hypervisor_hostname, "cpu_model",
                                      hi.cpu_model, "vcpus", hi.vcpus, "memory_mb",
                                      (json_int_t)hi.memory_mb, "instances", (json_int_t)n));
    } else {
        json_object_set_new(r, "hypervisor", json_null());
    }
    return r;
}

static const struct {
    const char *method;
    json_t *(*fn)(json_t *args, struct compute *c);
} methods[] = {
    {"ping", do_ping},
};

static json_t *dispatch(const char *method, json_t *args, void *ud) {
    for (size_t i = 0; i < sizeof methods / sizeof methods[0]; i++)
        if (!strcmp(methods[i].method, method)) return methods[i].fn(args, ud);
    return rpc_failure("compute has no method %s", method);
}

static void tick(void *ud) {
    struct compute *c = ud;
    double now = now_ms();
    if (now < c->next_heartbeat) return;
    json_t *args =
        json_pack("{s:s, s:s, s:s}", "host", c->host, "binary", "nova-compute", "topic", "compute");
    /* A heartbeat lost while the broker is down is simply the next one. */
    if (rpc_cast("conductor", "service_heartbeat", args) < 0)
        log_debug("service heartbeat not sent: broker unreachable");
    json_decref(args);
    c->next_heartbeat = now + c->heartbeat_ms;
}

int main(int argc, char **argv) {
    struct service_args a;
    int rc = service_parse_args(argc, argv, PROGRAM, 0, &a);
    if (rc) return rc > 0 ? 0 : 2;
    if (service_start(PROGRAM, a.config) < 0) return 1;

    struct compute c = {
        .host = service_host(),
        .virt = &virt_libvirt,
        .heartbeat_ms = (int)config_int("compute", "heartbeat_interval", 10) * 1000,
    };
    const char *uri = config_get("compute", "libvirt_uri", "test:///default");
    if (c.virt->open(uri) < 0) {
        config_free();
        return 1;
    }
    char queue[300];
    snprintf(queue, sizeof queue, "compute.%s", c.host);
    log_info("starting on host %s (%s)", c.host, uri);
    rpc_serve(queue, dispatch, &c, tick, TICK_MS, &service_stop);
    log_info("stopping");
    rpc_close();
    c.virt->close();
    config_free();
    return 0;
}
