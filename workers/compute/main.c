/* cnova-compute — one per hypervisor host ([DEFAULT] host). Consumes
 * "compute.<host>", drives the hypervisor through virt.h, and never opens a
 * database connection (Nova's "no-DB compute"): its service heartbeat, its
 * node's resources, the outcome of builds and deletes and the power-state
 * sync all go to the conductor as casts. */
#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "blockstore.h"
#include "cnova.h"
#include "compute_actions.h"
#include "compute_volumes.h"
#include "disks.h"
#include "firewall.h"
#include "guest_host.h"
#include "service.h"
#include "virt.h"

#define PROGRAM "cnova-compute"
#define TICK_MS 1000

struct compute {
    const char *host;
    const struct virt_driver *virt;
    int test_driver;      /* libvirt's test:/// hypervisor: the node is named after the host */
    struct guest_host gh; /* a real guest's networks and config drive (not on test:///) */
    struct firewall fw;   /* its security groups (gh.fw: NULL where nft cannot run) */
    const char *proxy_argv[8];
    double next_heartbeat, next_update, next_sync, next_prune;
    int heartbeat_ms, update_ms, sync_ms;
    long prune_ms, prune_age; /* [image_cache]: 0 ms = off */
    int synced;               /* a sync has run since this process started */
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

/* The node name the scheduler and the API show (hypervisor_hostname). Every
 * test:/// host of a machine answers the same hostname, so there the node
 * is named after the compute host, as Nova's fake driver does. */
static const char *nodename(struct compute *c, struct virt_host_info *hi) {
    return c->test_driver || !hi->hypervisor_hostname[0] ? c->host : hi->hypervisor_hostname;
}

/* The CPU architecture: libvirt's CPU model when it names one (the test
 * driver's default host says "i686": a simulated host has ours), else ours. */
static void arch_of(const char *model, int test_driver, char out[72]) {
    static const char *arches[] = {"x86_64", "i686", "aarch64", "ppc64le", "s390x", "armv7l"};
    for (size_t i = 0; i < sizeof arches / sizeof arches[0] && !test_driver; i++)
        if (!strcmp(model, arches[i])) {
            snprintf(out, 72, "%s", model);
            return;
        }
    struct utsname u;
    snprintf(out, 72, "%s", uname(&u) == 0 ? u.machine : "x86_64");
}

/* Nova's allocation ratio of `kind` ("cpu", "ram", "disk"): [DEFAULT]
 * <kind>_allocation_ratio when set (above 0), else [DEFAULT]
 * initial_<kind>_allocation_ratio (Nova's defaults: 16.0, 1.5, 1.0). The
 * host reports it with its resources; the scheduler's filters and claims
 * read it from compute_nodes, so this is the one place it is decided. */
static double allocation_ratio(const char *kind, double initial) {
    char key[64];
    snprintf(key, sizeof key, "%s_allocation_ratio", kind);
    double r = config_double("DEFAULT", key, 0.0);
    if (r > 0) return r;
    snprintf(key, sizeof key, "initial_%s_allocation_ratio", kind);
    r = config_double("DEFAULT", key, initial);
    return r > 0 ? r : initial;
}

/* The disk the host offers, in GiB: [compute] local_gb when set, else the
 * size of the file system of the instances folder on a real hypervisor
 * (where the guests' disks go) or of / on a simulated one. */
static long local_gb_of(const struct compute *c) {
    long gb = config_int("compute", "local_gb", 0);
    if (gb > 0) return gb;
    struct statvfs fs;
    const char *path = c->test_driver ? "/" : disks_instances_path();
    if (statvfs(path, &fs) != 0 && statvfs("/", &fs) != 0) return 0;
    return (long)((double)fs.f_blocks * fs.f_frsize / (1024.0 * 1024 * 1024));
}

/* Casts compute_node_update: what this host offers and how far it may be
 * over-committed. */
static void report_node(struct compute *c) {
    struct virt_host_info hi;
    if (c->virt->host_info(&hi) < 0) return;
    char arch[72];
    arch_of(hi.cpu_model, c->test_driver, arch);
    json_t *cpu = json_pack("{s:s, s:s, s:s, s:{s:i}, s:i}", "arch", arch, "model", hi.cpu_model,
                            "vendor", "", "topology", "cells", 1, "mhz", hi.cpu_mhz);
    char *cpu_info = json_dumps(cpu, JSON_COMPACT);
    json_decref(cpu);
    json_t *args = json_pack(
        "{s:s, s:s, s:s, s:I, s:i, s:I, s:I, s:s, s:s, s:f, s:f, s:f, s:I}", "host", c->host,
        "hypervisor_hostname", nodename(c, &hi), "hypervisor_type",
        c->test_driver ? "QEMU" : hi.hypervisor_type, "hypervisor_version",
        (json_int_t)hi.hypervisor_version, "vcpus", hi.vcpus, "memory_mb", (json_int_t)hi.memory_mb,
        "local_gb", (json_int_t)local_gb_of(c), "cpu_info", cpu_info, "host_ip",
        config_get("compute", "my_ip", "127.0.0.1"), "cpu_allocation_ratio",
        allocation_ratio("cpu", 16.0), "ram_allocation_ratio", allocation_ratio("ram", 1.5),
        "disk_allocation_ratio", allocation_ratio("disk", 1.0), "reserved_host_memory_mb",
        (json_int_t)config_int("DEFAULT", "reserved_host_memory_mb", 512));
    free(cpu_info);
    if (rpc_cast("conductor", "compute_node_update", args) < 0)
        log_debug("compute node update not sent: broker unreachable");
    json_decref(args);
}

void nic_of(json_t *n, struct virt_nic *out) {
    out->port_id = json_string_value(json_object_get(n, "port_id"));
    out->mac = json_string_value(json_object_get(n, "mac_address"));
    out->network_id = json_string_value(json_object_get(n, "network_id"));
    out->mtu = (int)json_integer_value(json_object_get(n, "mtu"));
}

void spec_of(json_t *a, struct virt_spec *v) {
    memset(v, 0, sizeof *v);
    v->uuid = json_string_value(json_object_get(a, "uuid"));
    v->name = json_string_value(json_object_get(a, "name"));
    v->display_name = json_string_value(json_object_get(a, "display_name"));
    v->flavor_name = json_string_value(json_object_get(a, "flavor_name"));
    v->image_ref = json_string_value(json_object_get(a, "image_ref"));
    json_t *img = json_object_get(a, "image");
    v->disk_format = json_string_value(json_object_get(img, "disk_format"));
    v->kernel_id = json_string_value(json_object_get(img, "kernel_id"));
    v->ramdisk_id = json_string_value(json_object_get(img, "ramdisk_id"));
    v->os_command_line = json_string_value(json_object_get(img, "os_command_line"));
    v->vcpus = (int)json_integer_value(json_object_get(a, "vcpus"));
    v->memory_mb = (long)json_integer_value(json_object_get(a, "memory_mb"));
    v->root_gb = (int)json_integer_value(json_object_get(a, "root_gb"));
    v->ephemeral_gb = (int)json_integer_value(json_object_get(a, "ephemeral_gb"));
    v->swap_mb = (int)json_integer_value(json_object_get(a, "swap"));
    size_t i;
    json_t *n;
    json_array_foreach(json_object_get(a, "nics"), i, n) {
        if (v->n_nics == VIRT_MAX_NICS) break;
        nic_of(n, &v->nics[v->n_nics]);
        if (v->nics[v->n_nics].mac) v->n_nics++;
    }
    json_array_foreach(json_object_get(a, "volumes"), i, n) {
        struct virt_volume *vol = &v->volumes[v->n_volumes];
        if (v->n_volumes == VIRT_MAX_VOLUMES) break;
        vol->id = json_string_value(json_object_get(n, "volume_id"));
        vol->device = json_string_value(json_object_get(n, "device"));
        if (vol->device && !strncmp(vol->device, "/dev/", 5)) vol->device += 5;
        if (blockstore_path(vol->id, vol->path, sizeof vol->path)) v->n_volumes++;
    }
}

/* Destroys the guest and, on a real hypervisor, takes its ports off the
 * host's networks. Returns virt's destroy. */
static int destroy_guest(struct compute *c, const char *uuid) {
    int rc = c->virt->destroy(uuid);
    if (!c->test_driver) guest_host_unplug(&c->gh, uuid);
    if (!c->test_driver && disks_resize_drop(uuid) < 0) rc = -1; /* deleted mid-resize */
    return rc;
}

/* args {uuid, name, display_name, flavor_name, image_ref, image {disk_format,
 * kernel_id, ramdisk_id, os_command_line}, vcpus, memory_mb, root_gb,
 * ephemeral_gb, swap, nics, metadata (lib/metadata.h's document)}: defines
 * and boots the guest, then tells the conductor (instance_built {uuid, host,
 * ok, power_state | fault}). A redelivered message finds the domain already
 * there and reports it again. */
static json_t *do_build_and_run_instance(json_t *args, struct compute *c) {
    struct virt_spec v;
    spec_of(args, &v);
    if (!v.uuid || !v.name) return rpc_failure("build_and_run_instance needs uuid and name");
    /* builds queue up here while earlier ones run, seconds each on a real
     * hypervisor: the conductor's build timeout is to count from this
     * one's start (the test driver's take a millisecond: no message) */
    if (!c->test_driver) {
        json_t *started = json_pack("{s:s, s:s}", "uuid", v.uuid, "host", c->host);
        rpc_cast("conductor", "instance_spawning", started);
        json_decref(started);
    }
    const char *why = NULL;
    int ps = c->test_driver
                 ? 0
                 : guest_host_prepare(&c->gh, json_object_get(args, "metadata"), &v, &why);
    size_t i;
    json_t *vol;
    json_array_foreach(json_object_get(args, "volumes"), i, vol) {
        if (ps < 0 || c->test_driver) break; /* the test driver keeps no files */
        ps = disks_volume(json_string_value(json_object_get(vol, "volume_id")),
                          (int)json_integer_value(json_object_get(vol, "size")),
                          json_string_value(json_object_get(vol, "image_id")),
                          json_string_value(json_object_get(vol, "disk_format")), &why);
    }
    if (ps >= 0) ps = c->virt->spawn(&v, 1, &why);
    json_t *res = json_pack("{s:s, s:s, s:b}", "uuid", v.uuid, "host", c->host, "ok", ps >= 0);
    if (ps >= 0) {
        json_object_set_new(res, "power_state", json_integer(ps));
    } else {
        destroy_guest(c, v.uuid); /* leave nothing half-built behind */
        char msg[256];
        snprintf(msg, sizeof msg, "Build of instance %s aborted: %s", v.uuid, why);
        json_object_set_new(res, "fault", json_string(msg));
    }
    if (rpc_cast_later("conductor", "instance_built", res) < 0)
        log_warn("instance_built for %s not sent (the conductor's build timeout re-drives it)",
                 v.uuid);
    log_info("build of %s: %s", v.uuid, ps >= 0 ? "running" : why);
    return res;
}

/* args {uuid, delete_volumes?}: powers off and undefines the guest (the
 * files of the volumes named go with it), then tells the conductor
 * (instance_terminated {uuid, host}), which marks the instance deleted. */
static json_t *do_terminate_instance(json_t *args, struct compute *c) {
    const char *uuid = json_string_value(json_object_get(args, "uuid"));
    if (!uuid) return rpc_failure("terminate_instance needs uuid");
    if (destroy_guest(c, uuid) < 0) return rpc_failure("could not destroy %s", uuid);
    size_t i;
    json_t *vol;
    json_array_foreach(json_object_get(args, "delete_volumes"), i, vol) {
        if (!c->test_driver) blockstore_remove(json_string_value(vol));
    }
    json_t *res = json_pack("{s:s, s:s}", "uuid", uuid, "host", c->host);
    if (rpc_cast_later("conductor", "instance_terminated", res) < 0)
        log_warn("instance_terminated for %s not sent", uuid);
    return res;
}

static json_t *do_instance_op(json_t *args, struct compute *c) {
    return compute_instance_op(args, c->host, c->virt, c->test_driver ? NULL : &c->gh);
}

static json_t *do_move_op(json_t *args, struct compute *c) {
    return compute_move_op(args, c->host, c->virt, c->test_driver ? NULL : &c->gh);
}

static json_t *do_volume_op(json_t *args, struct compute *c) {
    return compute_volume_op(args, c->host, c->virt, !c->test_driver);
}

static json_t *do_interface_op(json_t *args, struct compute *c) {
    return compute_interface_op(args, c->host, c->virt, c->test_driver ? NULL : &c->gh);
}

/* args {}: the security groups changed (the conductor's
 * security_groups_changed): load this host's rules again. */
static json_t *do_refresh_firewall(json_t *args, struct compute *c) {
    if (!c->test_driver) guest_host_firewall(&c->gh, NULL, NULL);
    return json_true();
}

static json_t *do_guest_nics(json_t *args, struct compute *c) {
    return compute_guest_nics(args, c->virt);
}

static json_t *do_console_output(json_t *args, struct compute *c) {
    return compute_console_output(args, c->virt);
}

static json_t *do_remote_console(json_t *args, struct compute *c) {
    return compute_remote_console(args, c->virt);
}

static const struct {
    const char *method;
    json_t *(*fn)(json_t *args, struct compute *c);
} methods[] = {
    {"ping", do_ping},
    {"build_and_run_instance", do_build_and_run_instance},
    {"terminate_instance", do_terminate_instance},
    {"start_instance", do_instance_op},
    {"stop_instance", do_instance_op},
    {"reboot_instance", do_instance_op},
    {"pause_instance", do_instance_op},
    {"unpause_instance", do_instance_op},
    {"suspend_instance", do_instance_op},
    {"resume_instance", do_instance_op},
    {"set_admin_password", do_instance_op},
    {"trigger_crash_dump", do_instance_op},
    {"inject_network_info", do_instance_op},
    {"soft_delete_instance", do_instance_op},
    {"attach_volume", do_volume_op},
    {"detach_volume", do_volume_op},
    {"attach_interface", do_interface_op},
    {"detach_interface", do_interface_op},
    {"get_guest_nics", do_guest_nics},
    {"refresh_firewall", do_refresh_firewall},
    {"restore_instance", do_instance_op},
    {"rescue_instance", do_instance_op},
    {"unrescue_instance", do_instance_op},
    {"shelve_instance", do_instance_op},
    {"shelve_offload_instance", do_instance_op},
    {"unshelve_instance", do_instance_op},
    {"snapshot_instance", do_instance_op},
    {"backup_instance", do_instance_op},
    {"get_console_output", do_console_output},
    {"get_remote_console", do_remote_console},
    {"rebuild_instance", do_move_op},
    {"resize_instance", do_move_op},
    {"finish_resize", do_move_op},
    {"confirm_resize", do_move_op},
    {"revert_resize", do_move_op},
    {"finish_revert_resize", do_move_op},
    {"pre_live_migration", do_move_op},
    {"live_migration", do_move_op},
    {"rollback_live_migration_at_destination", do_move_op},
    {"rollback_live_migration", do_move_op},
};

static json_t *dispatch(const char *method, json_t *args, void *ud) {
    for (size_t i = 0; i < sizeof methods / sizeof methods[0]; i++)
        if (!strcmp(methods[i].method, method)) return methods[i].fn(args, ud);
    return rpc_failure("compute has no method %s", method);
}

static const struct virt_instance *find_domain(const struct virt_instance *v, size_t n,
                                               const char *uuid) {
    for (size_t i = 0; i < n; i++)
        if (!strcasecmp(v[i].uuid, uuid)) return &v[i];
    return NULL;
}

/* Nova's power-state sync: the database's instances of this host (asked of
 * the conductor) against the hypervisor's domains. A settled instance whose
 * domain is missing (a test:/// host forgets everything when its process
 * restarts, as a rebooted host forgets running guests) is defined again,
 * shut off, and reported SHUTDOWN: the conductor then stops an ACTIVE one
 * as Nova does ("Instance shutdown by itself"); a STOPPED one stays so.
 * With [DEFAULT] resume_guests_state_on_host_boot, the first sync after
 * this process starts boots again the missing guest of an ACTIVE, running
 * instance instead. Our domains of instances the database no longer has on
 * this host are reaped (running_deleted_instance_action). Returns 0, or -1
 * when the conductor did not answer (tried again at the next tick). */
static int sync_power_states(struct compute *c) {
    const char *err = NULL;
    json_t *q = json_pack("{s:s}", "host", c->host);
    json_t *list = rpc_call("conductor", "instances_on_host", q, 10000, &err);
    json_decref(q);
    if (!json_is_array(list)) {
        log_warn("power-state sync skipped: instances_on_host: %s", err ? err : "bad reply");
        json_decref(list);
        return -1;
    }
    struct virt_instance *doms = NULL;
    size_t nd = 0;
    if (c->virt->list_instances(&doms, &nd) < 0) {
        json_decref(list);
        return -1;
    }
    int resume = !c->synced && config_bool("DEFAULT", "resume_guests_state_on_host_boot", 0);
    size_t i;
    json_t *inst;
    json_array_foreach(list, i, inst) {
        const char *uuid = json_string_value(json_object_get(inst, "uuid"));
        const char *vm = json_string_value(json_object_get(inst, "vm_state"));
        int in_task = !json_is_null(json_object_get(inst, "task_state"));
        if (!uuid || !vm || (in_task && !resume)) continue;
        /* a resize onto this same host confirmed: the old files go (the
         * conductor asks no host to confirm it) */
        if (!c->test_driver && !in_task && strcmp(vm, "resized")) disks_resize_drop(uuid);
        int db_ps = (int)json_integer_value(json_object_get(inst, "power_state"));
        const struct virt_instance *d = find_domain(doms, nd, uuid);
        int ps = d ? d->power_state : VIRT_NOSTATE;
        /* resuming, a guest whose server is in a task (a resize, a stop)
         * comes back as it was too: the task's next step needs it */
        if (!d && (!strcmp(vm, "active") || !strcmp(vm, "stopped") ||
                   (resume && strcmp(vm, "building") && strcmp(vm, "deleted")))) {
            struct virt_spec v;
            spec_of(inst, &v);
            const char *why;
            int start = resume && db_ps == VIRT_RUNNING;
            ps = c->virt->spawn(&v, start, &why);
            if (ps < 0) ps = VIRT_NOSTATE;
            log_warn("instance %s is %s but its domain was missing: defined it again, %s", uuid, vm,
                     start ? "started (resume_guests_state_on_host_boot)" : "shut off");
        }
        if (ps == db_ps || in_task) continue;
        json_t *a = json_pack("{s:s, s:s, s:i}", "uuid", uuid, "host", c->host, "power_state", ps);
        rpc_cast("conductor", "instance_power_sync", a);
        json_decref(a);
    }
    for (size_t k = 0; k < nd; k++) {
        int known = 0;
        json_array_foreach(list, i, inst) {
            const char *uuid = json_string_value(json_object_get(inst, "uuid"));
            if (uuid && !strcasecmp(uuid, doms[k].uuid)) known = 1;
        }
        if (!known) {
            log_warn("reaping domain %s (%s): no instance of this host has it", doms[k].name,
                     doms[k].uuid);
            destroy_guest(c, doms[k].uuid);
        }
    }
    free(doms);
    json_decref(list);
    c->synced = 1;
    return 0;
}

/* The service heartbeat, when it is due. A heartbeat lost while the
 * broker is down is simply the next one. */
static void heartbeat(void *ud) {
    struct compute *c = ud;
    double now = now_ms();
    if (now < c->next_heartbeat) return;
    /* the broker reconnects since the last heartbeat that went out */
    static unsigned long told;
    unsigned long rc = rpc_reconnects();
    json_t *args = json_pack("{s:s, s:s, s:s, s:I}", "host", c->host, "binary", "nova-compute",
                             "topic", "compute", "rpc_reconnects", (json_int_t)(rc - told));
    if (rpc_cast("conductor", "service_heartbeat", args) < 0)
        log_debug("service heartbeat not sent: broker unreachable");
    else
        told = rc;
    json_decref(args);
    c->next_heartbeat = now + c->heartbeat_ms;
}

static void tick(void *ud) {
    struct compute *c = ud;
    heartbeat(c);
    double now = now_ms();
    if (now >= c->next_update) {
        report_node(c);
        c->next_update = now + c->update_ms;
    }
    if (now >= c->next_sync) {
        int rc = sync_power_states(c);
        if (!c->test_driver) guest_host_firewall(&c->gh, NULL, NULL); /* and at start */
        c->next_sync = now_ms() + (rc < 0 && !c->synced ? 1000 : c->sync_ms);
    }
    if (c->prune_ms && now >= c->next_prune) {
        disks_prune_cache(disks_instances_path(), c->prune_age);
        c->next_prune = now_ms() + c->prune_ms;
    }
}

/* [compute] vcpus / memory_mb on test:///default: a node file of that size
 * next to the config file, so that libvirt itself has that size. Returns the
 * URI to open (static or malloc'd into *own). */
static const char *sized_uri(const char *uri, const char *config, const char *host, char **own) {
    long vcpus = config_int("compute", "vcpus", 0), mem = config_int("compute", "memory_mb", 0);
    *own = NULL;
    if (strcmp(uri, "test:///default") || (vcpus <= 0 && mem <= 0)) return uri;
    if (vcpus <= 0) vcpus = 16;
    if (mem <= 0) mem = 8192;
    char *dup = strdup(config ? config : "/tmp/x");
    char *dir = realpath(dirname(dup), NULL);
    struct sbuf path = {0};
    sbuf_addf(&path, "test://%s/node-%s.xml", dir ? dir : "/tmp", host);
    free(dir);
    free(dup);
    FILE *f = fopen(path.s + 7, "w");
    if (!f) {
        log_error("cannot write %s: %m; using %s", path.s + 7, uri);
        sbuf_free(&path);
        return uri;
    }
    fprintf(f,
            "<node><cpu><mhz>2000</mhz><model>x86_64</model><nodes>1</nodes><sockets>1</sockets>"
            "<cores>%ld</cores><threads>1</threads></cpu><memory>%ld</memory></node>\n",
            vcpus, mem * 1024);
    fclose(f);
    *own = path.s;
    return *own;
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
        .update_ms = (int)config_int("compute", "update_resources_interval", 30) * 1000,
        .sync_ms = (int)config_int("compute", "sync_power_state_interval", 60) * 1000,
    };
    char *own_uri;
    const char *uri = sized_uri(config_get("compute", "libvirt_uri", "test:///default"), a.config,
                                c.host, &own_uri);
    c.test_driver = !strncmp(uri, "test://", 7);
    /* Nova's image cache manager: every manager_interval seconds (0: its
     * default rate, a minute; -1: never), unused images older than
     * remove_unused_original_minimum_age_seconds leave _base */
    long every = config_int("image_cache", "manager_interval", 2400);
    if (!c.test_driver && every >= 0 && config_bool("image_cache", "remove_unused_base_images", 1))
        c.prune_ms = (every ? every : 60) * 1000;
    c.prune_age = config_int("image_cache", "remove_unused_original_minimum_age_seconds", 86400);
    /* the metadata proxy is this program's sibling, given our config (the
     * shared secret) and the metadata service's socket */
    char exe[4096], proxy[4200];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    exe[n > 0 ? n : 0] = 0;
    snprintf(proxy, sizeof proxy, "%s/cnova-metadata-proxy", dirname(exe));
    const char *upstream = config_get("neutron", "metadata_proxy_socket", "");
    const char *pv[] = {proxy, "--config", a.config, "--upstream", upstream, NULL};
    memcpy(c.proxy_argv, pv, sizeof pv);
    c.gh = (struct guest_host){
        .host = c.host,
        .state_dir = config_get("compute", "network_state_path", "/var/lib/cnova/net"),
        .proxy_argv = *upstream ? c.proxy_argv : NULL,
        .domain = config_get("api", "dhcp_domain", "novalocal"),
        .force_config_drive = config_bool("DEFAULT", "force_config_drive", 0)};
    const char *fw_why = NULL;
    if (!c.test_driver) {
        if (firewall_init(&c.fw, c.host, c.gh.state_dir, &fw_why) == 0) {
            c.gh.fw = &c.fw;
            log_info("security groups: nftables table %s (%s)", c.fw.table,
                     c.fw.stateful ? "connection tracking" : "stateless: no bridge conntrack");
        } else {
            log_error("security groups not enforced: nft cannot run: %s", fw_why);
        }
    }
    if (c.virt->open(uri) < 0) {
        free(own_uri);
        config_free();
        return 1;
    }
    char queue[300];
    snprintf(queue, sizeof queue, "compute.%s", c.host);
    log_info("starting on host %s (%s)", c.host, uri);
    /* a minute-long clean shutdown must not make this host look down */
    virt_set_wait_hook(heartbeat, &c);
    compute_destroy_evacuated(c.host, c.virt);
    rpc_serve(queue, dispatch, &c, tick, TICK_MS, &service_stop);
    log_info("stopping");
    rpc_close();
    c.virt->close();
    free(own_uri);
    config_free();
    return 0;
}
