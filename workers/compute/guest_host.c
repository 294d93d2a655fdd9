/* guest_host.c — see guest_host.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cnova.h"
#include "configdrive.h"
#include "disks.h"
#include "firewall.h"
#include "guest_host.h"
#include "hostnet.h"

static const char *str(const json_t *o, const char *key) {
    return json_string_value(json_object_get(o, key));
}

static void record_path(const struct guest_host *g, const char *uuid, char *out, size_t len) {
    snprintf(out, len, "%s/ports/%s", g->state_dir, uuid);
}

static int record(const struct guest_host *g, const char *uuid, const char *net, const char *mac) {
    char dir[600], path[700];
    snprintf(dir, sizeof dir, "%s/ports", g->state_dir);
    if (mkdir(dir, 0755) && errno != EEXIST) return -1;
    record_path(g, uuid, path, sizeof path);
    char line[256], want[256];
    snprintf(want, sizeof want, "%s %s\n", net, mac);
    FILE *f = fopen(path, "a+"); /* plugged again (a restart): recorded once */
    if (!f) return -1;
    rewind(f);
    while (fgets(line, sizeof line, f))
        if (!strcmp(line, want)) return fclose(f) ? -1 : 0;
    fputs(want, f);
    return fclose(f) ? -1 : 0;
}

int guest_host_plug(const struct guest_host *g, const json_t *doc, const char **why) {
    const char *uuid = str(doc, "uuid"), *project = str(doc, "project_id");
    if (!uuid || !uuid_valid(uuid)) return 0; /* no document: nothing to plug */
    char owner[400], hostname[300];
    snprintf(owner, sizeof owner, "%s %s", uuid, project ? project : "");
    snprintf(hostname, sizeof hostname, "%s", str(doc, "hostname") ? str(doc, "hostname") : "");
    size_t i;
    json_t *nic;
    json_array_foreach(json_object_get(doc, "nics"), i, nic) {
        const char *ip = str(nic, "ip"), *dhcp = str(nic, "dhcp_ip");
        if (!ip || !dhcp || !json_is_true(json_object_get(nic, "enable_dhcp"))) continue;
        json_t *dns = json_object_get(nic, "dns");
        struct hostnet_net n = {.id = str(nic, "network_id"),
                                .cidr = str(nic, "cidr"),
                                .gateway = str(nic, "gateway"),
                                .dhcp_ip = dhcp,
                                .dns1 = json_string_value(json_array_get(dns, 0)),
                                .dns2 = json_string_value(json_array_get(dns, 1)),
                                .mtu = (int)json_integer_value(json_object_get(nic, "mtu")),
                                .metadata_proxy = g->proxy_argv};
        const char *mac = str(nic, "mac");
        if (hostnet_net_ensure(g->state_dir, &n, why) ||
            hostnet_port_add(g->state_dir, n.id, mac, ip, hostname, owner, why))
            return -1;
        if (record(g, uuid, n.id, mac)) {
            *why = "the guest's ports could not be recorded";
            return -1;
        }
    }
    guest_host_firewall(g, NULL, NULL); /* before the guest runs: never a moment unfiltered */
    return 0;
}

void guest_host_firewall(const struct guest_host *g, const char *gone, const char *gone_mac) {
    if (!g->fw) return;
    const char *err = NULL;
    json_t *q = json_pack("{s:s}", "host", g->host);
    json_t *ports = rpc_call("conductor", "host_firewall", q, 10000, &err);
    json_decref(q);
    for (size_t i = json_array_size(ports); gone && i-- > 0;) {
        json_t *p = json_array_get(ports, i);
        const char *owner = str(p, "instance_uuid"), *mac = str(p, "mac");
        if (owner && !strcasecmp(owner, gone) && (!gone_mac || (mac && !strcasecmp(mac, gone_mac))))
            json_array_remove(ports, i);
    }
    if (!json_is_array(ports)) {
        log_warn("firewall not loaded: host_firewall: %s", err ? err : "bad reply");
    } else if (firewall_apply(g->fw, ports, &err)) {
        log_error("firewall not loaded: %s", err);
    }
    json_decref(ports);
}

/* One port off its network; the network down with its last port. */
static void unplug_one(const struct guest_host *g, const char *uuid, const char *net,
                       const char *mac) {
    const char *why = NULL;
    if (hostnet_port_remove(g->state_dir, net, mac, &why))
        log_warn("guest %s: port %s not unplugged: %s", uuid, mac, why);
    if (hostnet_port_count(g->state_dir, net) == 0 && hostnet_net_teardown(g->state_dir, net, &why))
        log_warn("network %s not torn down: %s", net, why);
}

/* Unplugs the recorded ports of `uuid` with MAC `only` (NULL: all of
 * them), keeping the record of the others. */
static void unplug(const struct guest_host *g, const char *uuid, const char *only) {
    char path[700], line[256], net[128], mac[64];
    record_path(g, uuid, path, sizeof path);
    FILE *f = fopen(path, "r");
    if (!f) return;
    struct sbuf kept = {0};
    while (fgets(line, sizeof line, f)) {
        if (sscanf(line, "%127s %63s", net, mac) != 2) continue;
        if (only && strcasecmp(only, mac)) {
            sbuf_addf(&kept, "%s", line);
            continue;
        }
        unplug_one(g, uuid, net, mac);
    }
    fclose(f);
    FILE *w = kept.len ? fopen(path, "w") : NULL;
    if (w) {
        fputs(kept.s, w);
        fclose(w);
    } else {
        unlink(path);
    }
    sbuf_free(&kept);
    guest_host_firewall(g, uuid, only);
}

void guest_host_unplug(const struct guest_host *g, const char *uuid) {
    unplug(g, uuid, NULL);
}

void guest_host_unplug_port(const struct guest_host *g, const char *uuid, const char *mac) {
    unplug(g, uuid, mac);
}

int guest_host_config_drive(const struct guest_host *g, const json_t *doc, const char *path,
                            const char **why) {
    if (!g->force_config_drive && !json_is_true(json_object_get(doc, "config_drive"))) return 0;
    return configdrive_build(doc, g->domain, path, why) ? -1 : 1;
}

int guest_host_prepare(const struct guest_host *g, const json_t *doc, struct virt_spec *v,
                       const char **why) {
    struct disks_layout files;
    v->config_drive = 1; /* where it would go */
    if (disks_layout_of(disks_instances_path(), v, &files) < 0 ||
        (mkdir(files.dir, 0755) && errno != EEXIST)) {
        *why = "no instance folder can be made for this uuid";
        return -1;
    }
    int drive = guest_host_config_drive(g, doc, files.config, why);
    v->config_drive = drive == 1;
    return drive < 0 ? -1 : guest_host_plug(g, doc, why);
}
