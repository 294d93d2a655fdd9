/* servers_view.c — Nova's server views (views/servers.py) built from one
 * instance row: which fields each microversion shows, which only admins
 * see (OS-EXT-SRV-ATTR:*, host_status, fault details of 500s), and the
 * reduced view PUT answered before 2.75. */
#include <stdlib.h>
#include <string.h>

#include "servers.h"

void servers_down_time(char out[16]) {
    snprintf(out, 16, "%ld", config_int("service", "service_down_time", 60));
}

int servers_host_up(struct req *r, const char *host, bool *up) {
    char down[16];
    servers_down_time(down);
    const char *p[] = {host, down};
    PGresult *res;
    enum db_status st = db_query(&res,
                                 "SELECT 1 FROM services WHERE host = $1 AND \"binary\" ="
                                 " 'nova-compute' AND deleted = 0 AND NOT forced_down"
                                 " AND last_seen_up > now() - make_interval(secs => $2::int)",
                                 2, p);
    if (st) return api_db_error(r, st);
    *up = PQntuples(res) > 0;
    PQclear(res);
    return 0;
}

static const char *str(json_t *row, const char *key) {
    return json_string_value(json_object_get(row, key));
}

/* A string field, or JSON null. */
static json_t *str_or_null(json_t *row, const char *key) {
    const char *s = str(row, key);
    return s ? json_string(s) : json_null();
}

static json_t *copy_or(json_t *v, json_t *dflt) {
    if (v && !json_is_null(v)) {
        json_decref(dflt);
        return json_deep_copy(v);
    }
    return dflt;
}

/* The image properties 2.98 shows: Nova's ImageMetaProps fields and their
 * legacy names (nova/objects/image_meta.py), sorted for bsearch. */
static const char *const image_props[] = {
    "architecture",
    "auto_disk_config",
    "bdm_v2",
    "bittorrent",
    "block_device_mapping",
    "cache_in_nova",
    "hw_architecture",
    "hw_auto_disk_config",
    "hw_boot_menu",
    "hw_cdrom_bus",
    "hw_cpu_cores",
    "hw_cpu_max_cores",
    "hw_cpu_max_sockets",
    "hw_cpu_max_threads",
    "hw_cpu_policy",
    "hw_cpu_realtime_mask",
    "hw_cpu_sockets",
    "hw_cpu_thread_policy",
    "hw_cpu_threads",
    "hw_device_id",
    "hw_disk_bus",
    "hw_disk_type",
    "hw_emulation_architecture",
    "hw_ephemeral_encryption",
    "hw_ephemeral_encryption_format",
    "hw_ephemeral_encryption_secret_uuid",
    "hw_firmware_stateless",
    "hw_firmware_type",
    "hw_floppy_bus",
    "hw_input_bus",
    "hw_ipxe_boot",
    "hw_locked_memory",
    "hw_machine_type",
    "hw_maxphysaddr_bits",
    "hw_maxphysaddr_mode",
    "hw_mem_encryption",
    "hw_mem_encryption_model",
    "hw_mem_page_size",
    "hw_numa_cpus",
    "hw_numa_mem",
    "hw_numa_nodes",
    "hw_pci_numa_affinity_policy",
    "hw_pmu",
    "hw_pointer_model",
    "hw_qemu_guest_agent",
    "hw_redirected_usb_ports",
    "hw_rescue_bus",
    "hw_rescue_device",
    "hw_rng_model",
    "hw_scsi_model",
    "hw_serial_port_count",
    "hw_sound_model",
    "hw_time_hpet",
    "hw_tpm_model",
    "hw_tpm_version",
    "hw_usb_model",
    "hw_video_model",
    "hw_video_ram",
    "hw_vif_model",
    "hw_vif_multiqueue_enabled",
    "hw_viommu_model",
    "hw_virtio_packed_ring",
    "hw_vm_mode",
    "hw_watchdog_action",
    "hypervisor_type",
    "hypervisor_version_requires",
    "img_bdm_v2",
    "img_bittorrent",
    "img_block_device_mapping",
    "img_cache_in_nova",
    "img_compression_level",
    "img_config_drive",
    "img_hide_hypervisor_id",
    "img_hv_requested_version",
    "img_hv_type",
    "img_linked_clone",
    "img_mappings",
    "img_owner_id",
    "img_root_device_name",
    "img_signature",
    "img_signature_certificate_uuid",
    "img_signature_hash_method",
    "img_signature_key_type",
    "img_use_agent",
    "img_version",
    "ipxe_boot",
    "mappings",
    "os_admin_user",
    "os_command_line",
    "os_distro",
    "os_require_quiesce",
    "os_secure_boot",
    "os_skip_agent_inject_files_at_boot",
    "os_skip_agent_inject_ssh",
    "os_type",
    "owner_id",
    "root_device_name",
    "traits_required",
    "vm_mode",
    "vmware_disktype",
    "vmware_image_version",
    "vmware_linked_clone",
    "vmware_ostype",
    "xenapi_device_id",
    "xenapi_image_compression_level",
    "xenapi_skip_agent_inject_files_at_boot",
    "xenapi_skip_agent_inject_ssh",
    "xenapi_use_agent",
};

static int cmp_name(const void *key, const void *elem) {
    return strcmp(key, *(const char *const *)elem);
}

static bool image_prop_shown(const char *k) {
    return bsearch(k, image_props, sizeof image_props / sizeof image_props[0],
                   sizeof image_props[0], cmp_name) != NULL;
}

static json_t *image_view(const struct req *r, json_t *row) {
    const char *ref = str(row, "image_ref");
    if (!ref || !*ref) return json_string("");
    char path[300];
    snprintf(path, sizeof path, "/images/%s", ref);
    json_t *links = resource_links(r, path);
    json_array_remove(links, 0); /* bookmark only */
    json_t *img = json_pack("{s:s,s:o}", "id", ref, "links", links);
    if (req_ver_ge(r, MV(2, 98))) {
        json_t *props = json_object();
        const char *k;
        json_t *v;
        json_object_foreach(json_object_get(row, "system_metadata"), k, v) {
            if (strncmp(k, "image_", 6) || !image_prop_shown(k + 6) || !json_is_string(v)) continue;
            json_object_set(props, k + 6, v);
        }
        json_object_set_new(img, "properties", props);
    }
    return img;
}

static json_t *flavor_view(const struct req *r, json_t *row) {
    json_t *f = json_object_get(row, "flavor");
    if (!req_ver_ge(r, MV(2, 47))) {
        const char *id = str(f, "flavorid");
        char path[300];
        snprintf(path, sizeof path, "/flavors/%s", id ? id : "");
        json_t *links = resource_links(r, path);
        json_array_remove(links, 0);
        return json_pack("{s:s,s:o}", "id", id ? id : "", "links", links);
    }
    json_t *specs = json_object_get(f, "extra_specs");
    return json_pack("{s:O,s:O,s:O,s:O,s:o,s:o,s:o}", "vcpus", json_object_get(row, "vcpus"), "ram",
                     json_object_get(row, "memory_mb"), "disk", json_object_get(row, "root_gb"),
                     "ephemeral", json_object_get(row, "ephemeral_gb"), "swap",
                     copy_or(json_object_get(f, "swap"), json_integer(0)), "original_name",
                     copy_or(json_object_get(f, "name"), json_string("")), "extra_specs",
                     copy_or(specs, json_object()));
}

/* addresses; without the OS-EXT-IPS keys when not extended (old PUT). */
static json_t *addresses_view(json_t *row, bool extended) {
    json_t *a = copy_or(json_object_get(row, "addresses"), json_object());
    if (extended) return a;
    const char *net;
    json_t *list;
    json_object_foreach(a, net, list) {
        size_t i;
        json_t *ip;
        json_array_foreach(list, i, ip) {
            json_object_del(ip, "OS-EXT-IPS:type");
            json_object_del(ip, "OS-EXT-IPS-MAC:mac_addr");
        }
    }
    return a;
}

static bool in(const char *s, const char *const *list) {
    for (; *list; list++)
        if (!strcmp(s, *list)) return true;
    return false;
}

static void admin_attrs(const struct req *r, json_t *s, json_t *row) {
    char name[32];
    snprintf(name, sizeof name, "instance-%08llx",
             (unsigned long long)json_integer_value(json_object_get(row, "id")));
    json_object_set_new(s, "OS-EXT-SRV-ATTR:host", str_or_null(row, "host"));
    json_object_set_new(s, "OS-EXT-SRV-ATTR:instance_name", json_string(name));
    json_object_set_new(s, "OS-EXT-SRV-ATTR:hypervisor_hostname", str_or_null(row, "node"));
    if (!req_ver_ge(r, MV(2, 3))) return;
    json_t *sys = json_object_get(row, "system_metadata");
    json_object_set_new(s, "OS-EXT-SRV-ATTR:hostname", str_or_null(row, "hostname"));
    json_object_set_new(s, "OS-EXT-SRV-ATTR:kernel_id",
                        json_string(json_string_value(json_object_get(sys, "kernel_id")) ?: ""));
    json_object_set_new(s, "OS-EXT-SRV-ATTR:ramdisk_id",
                        json_string(json_string_value(json_object_get(sys, "ramdisk_id")) ?: ""));
    json_object_set(s, "OS-EXT-SRV-ATTR:launch_index", json_object_get(row, "launch_index"));
    json_object_set_new(s, "OS-EXT-SRV-ATTR:reservation_id", str_or_null(row, "reservation_id"));
    json_object_set_new(s, "OS-EXT-SRV-ATTR:root_device_name",
                        str_or_null(row, "root_device_name"));
    json_object_set_new(s, "OS-EXT-SRV-ATTR:user_data", str_or_null(row, "user_data"));
}

json_t *servers_view(const struct req *r, json_t *row, enum servers_view kind) {
    static const char *const fault_statuses[] = {"ERROR", "DELETED", NULL};
    static const char *const progress_statuses[] = {
        "ACTIVE", "BUILD", "REBUILD", "RESIZE", "VERIFY_RESIZE", "MIGRATING", NULL};
    /* before 2.75 PUT answers a reduced view (Nova's update() flags) */
    bool all = kind != SERVERS_VIEW_UPDATE || req_ver_ge(r, MV(2, 75));
    bool admin = r->ctx.is_admin;
    const char *uuid = str(row, "uuid");
    const char *status = states_status(str(row, "vm_state"), str(row, "task_state"));
    char path[80];
    snprintf(path, sizeof path, "/servers/%s", uuid);
    const char *v4 = str(row, "access_ip_v4"), *v6 = str(row, "access_ip_v6");
    const char *adc = json_string_value(
        json_object_get(json_object_get(row, "system_metadata"), "auto_disk_config"));
    json_t *s = json_pack(
        "{s:s,s:s,s:o,s:s?,s:o,s:s,s:s,s:o,s:o,s:o,s:o,s:s,s:s,s:s,s:s?,s:s}", "accessIPv4",
        v4 ? v4 : "", "accessIPv6", v6 ? v6 : "", "addresses", addresses_view(row, all), "created",
        str(row, "created_iso"), "flavor", flavor_view(r, row), "hostId", str(row, "host_id"), "id",
        uuid, "image", image_view(r, row), "links", resource_links(r, path), "metadata",
        copy_or(json_object_get(row, "meta"), json_object()), "name",
        str_or_null(row, "display_name"), "status", status, "tenant_id", str(row, "project_id"),
        "user_id", str(row, "user_id"), "updated", str(row, "updated_iso"), "OS-DCF:diskConfig",
        adc && !strcmp(adc, "True") ? "AUTO" : "MANUAL");
    if (json_is_null(json_object_get(s, "name"))) json_object_set_new(s, "name", json_null());
    json_t *fault = json_object_get(row, "fault");
    if (in(status, fault_statuses) && json_is_object(fault)) {
        json_t *f = json_pack("{s:O,s:O,s:O}", "code", json_object_get(fault, "code"), "created",
                              json_object_get(fault, "created"), "message",
                              json_object_get(fault, "message"));
        const char *details = str(fault, "details");
        if (details && *details &&
            (admin || json_integer_value(json_object_get(fault, "code")) != 500))
            json_object_set_new(f, "details", json_string(details));
        json_object_set_new(s, "fault", f);
    }
    if (in(status, progress_statuses))
        json_object_set(s, "progress", json_object_get(row, "progress"));
    if (all) {
        json_object_set_new(s, "OS-EXT-AZ:availability_zone",
                            json_string(str(row, "availability_zone") ?: ""));
        json_object_set_new(s, "config_drive", json_string(str(row, "config_drive") ?: ""));
        json_object_set_new(s, "key_name", str_or_null(row, "key_name"));
        json_object_set_new(s, "OS-SRV-USG:launched_at", str_or_null(row, "launched_iso"));
        json_object_set_new(s, "OS-SRV-USG:terminated_at", str_or_null(row, "terminated_iso"));
        json_t *groups = json_object_get(row, "security_groups");
        if (json_array_size(groups)) json_object_set(s, "security_groups", groups);
        if (admin) admin_attrs(r, s, row);
        json_object_set_new(s, "OS-EXT-STS:task_state", str_or_null(row, "task_state"));
        json_object_set_new(s, "OS-EXT-STS:vm_state", str_or_null(row, "vm_state"));
        json_object_set(s, "OS-EXT-STS:power_state", json_object_get(row, "power_state"));
        json_t *vols = json_array(), *v;
        size_t i;
        json_array_foreach(json_object_get(row, "volumes"), i, v) {
            json_t *o = json_pack("{s:O}", "id", json_object_get(v, "id"));
            if (req_ver_ge(r, MV(2, 3)))
                json_object_set(o, "delete_on_termination",
                                json_object_get(v, "delete_on_termination"));
            json_array_append_new(vols, o);
        }
        json_object_set_new(s, "os-extended-volumes:volumes_attached", vols);
    }
    if (req_ver_ge(r, MV(2, 9)))
        json_object_set_new(s, "locked",
                            json_boolean(json_is_true(json_object_get(row, "locked"))));
    if (req_ver_ge(r, MV(2, 16)) && all && admin)
        json_object_set_new(s, "host_status", json_string(str(row, "host_status") ?: ""));
    if (req_ver_ge(r, MV(2, 19)))
        json_object_set_new(s, "description", str_or_null(row, "display_description"));
    if (req_ver_ge(r, MV(2, 26)))
        json_object_set_new(s, "tags", copy_or(json_object_get(row, "tag_list"), json_array()));
    if (req_ver_ge(r, MV(2, 63)))
        json_object_set_new(s, "trusted_image_certificates",
                            copy_or(json_object_get(row, "trusted_certs"), json_null()));
    if (req_ver_ge(r, MV(2, 71)) && kind != SERVERS_VIEW_DETAIL) {
        const char *g = str(row, "group_uuid");
        json_object_set_new(s, "server_groups", g ? json_pack("[s]", g) : json_array());
    }
    if (req_ver_ge(r, MV(2, 73)))
        json_object_set_new(s, "locked_reason", str_or_null(row, "locked_reason"));
    if (req_ver_ge(r, MV(2, 90)) && !(all && admin))
        json_object_set_new(s, "OS-EXT-SRV-ATTR:hostname", str_or_null(row, "hostname"));
    if (req_ver_ge(r, MV(2, 96)) && all)
        json_object_set_new(s, "pinned_availability_zone",
                            str_or_null(row, "pinned_availability_zone"));
    if (req_ver_ge(r, MV(2, 100))) {
        json_t *hints = json_object_get(json_object_get(row, "request_spec"), "scheduler_hints");
        json_object_set_new(s, "scheduler_hints", copy_or(hints, json_object()));
    }
    return s;
}

int servers_reply_one(struct req *r, const char *uuid, int status, enum servers_view kind) {
    if (!uuid || !uuid_valid(uuid))
        return api_error(r, 404, "Instance %s could not be found.", uuid ? uuid : "");
    char down[16];
    servers_down_time(down);
    const char *params[] = {down, uuid, r->ctx.is_admin ? NULL : r->ctx.project_id};
    PGresult *res;
    enum db_status st = db_query(&res,
                                 SERVERS_ROW_SQL "WHERE i.uuid = $2::uuid AND i.deleted = 0"
                                                 " AND ($3::text IS NULL OR i.project_id = $3)",
                                 3, params);
    if (st) return api_db_error(r, st);
    if (!PQntuples(res)) {
        PQclear(res);
        return api_error(r, 404, "Instance %s could not be found.", uuid);
    }
    json_t *row = db_row_json(res, 0);
    PQclear(res);
    json_t *view = servers_view(r, row, kind);
    json_decref(row);
    return api_reply(r, status, json_pack("{s:o}", "server", view));
}
