/* hosts.c — the conductor's side of the compute hosts, which never touch the
 * database: the node resources they report, the instance list their
 * power-state sync asks for and the states it finds, and the delete
 * workflow (terminate on the host, then mark the instance deleted and give
 * its claim back; a host that is down gets Nova's "local delete"). */
#include <stdio.h>
#include <string.h>

#include "claims.h"
#include "cnova.h"
#include "conductor.h"

int conductor_release_claim(const char *uuid, const char *node_id) {
    enum db_status st = claims_release(uuid, node_id);
    if (st != DB_OK) log_error("claim of %s not released: %s", uuid, db_errmsg());
    return st == DB_OK ? 0 : -1;
}

int conductor_compute_up(const char *host) {
    char secs[16];
    snprintf(secs, sizeof secs, "%ld", config_int("service", "service_down_time", 60));
    const char *p[] = {host, secs};
    PGresult *r = NULL;
    if (db_query(&r,
                 "SELECT 1 FROM services WHERE host = $1 AND \"binary\" = 'nova-compute' AND "
                 "deleted = 0 AND NOT forced_down AND "
                 "last_seen_up > now() - make_interval(secs => $2::int)",
                 2, p) != DB_OK)
        return 1; /* unknown: assume up, the delete is re-driven if it is not */
    int up = PQntuples(r) > 0;
    PQclear(r);
    return up;
}

/* args {host, hypervisor_hostname, hypervisor_type, hypervisor_version,
 * vcpus, memory_mb, local_gb, cpu_info, host_ip, cpu_allocation_ratio,
 * ram_allocation_ratio, disk_allocation_ratio, reserved_host_memory_mb}:
 * upserts the node. The ratios and the reserved memory are the host's
 * (its config, decided in cnova-compute's allocation_ratio), as in Nova.
 * The *_used columns belong to claims and are left alone. */
json_t *conductor_compute_node_update(json_t *args, struct conductor *c) {
    const char *host = json_string_value(json_object_get(args, "host"));
    const char *node = json_string_value(json_object_get(args, "hypervisor_hostname"));
    if (!host || !node) return rpc_failure("compute_node_update needs host, hypervisor_hostname");
    char uuid[37], ver[24], vcpus[24], mem[24], disk[24], ratio[3][32], reserved[24];
    uuid_new(uuid);
    snprintf(ver, sizeof ver, "%lld",
             json_integer_value(json_object_get(args, "hypervisor_version")));
    snprintf(vcpus, sizeof vcpus, "%lld", json_integer_value(json_object_get(args, "vcpus")));
    snprintf(mem, sizeof mem, "%lld", json_integer_value(json_object_get(args, "memory_mb")));
    snprintf(disk, sizeof disk, "%lld", json_integer_value(json_object_get(args, "local_gb")));
    static const char *const ratios[] = {"cpu_allocation_ratio", "ram_allocation_ratio",
                                         "disk_allocation_ratio"};
    const char *rp[3];
    for (int i = 0; i < 3; i++) {
        json_t *v = json_object_get(args, ratios[i]);
        snprintf(ratio[i], sizeof ratio[i], "%.17g", json_number_value(v));
        rp[i] = json_is_number(v) && json_number_value(v) > 0 ? ratio[i] : NULL;
    }
    json_t *res = json_object_get(args, "reserved_host_memory_mb");
    snprintf(reserved, sizeof reserved, "%lld", json_integer_value(res));
    const char *type = json_string_value(json_object_get(args, "hypervisor_type"));
    const char *cpu = json_string_value(json_object_get(args, "cpu_info"));
    const char *ip = json_string_value(json_object_get(args, "host_ip"));
    const char *p[] = {uuid,
                       host,
                       node,
                       type ? type : "QEMU",
                       ver,
                       ip,
                       cpu ? cpu : "{}",
                       vcpus,
                       mem,
                       disk,
                       rp[0],
                       rp[1],
                       rp[2],
                       json_is_integer(res) ? reserved : NULL};
    if (db_exec("INSERT INTO compute_nodes (uuid, host, hypervisor_hostname, hypervisor_type, "
                "hypervisor_version, host_ip, cpu_info, vcpus, memory_mb, local_gb, "
                "cpu_allocation_ratio, ram_allocation_ratio, disk_allocation_ratio, "
                "reserved_host_memory_mb, updated_at) "
                "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, now()) "
                "ON CONFLICT (host, hypervisor_hostname, deleted) DO UPDATE SET "
                "hypervisor_type = EXCLUDED.hypervisor_type, "
                "hypervisor_version = EXCLUDED.hypervisor_version, host_ip = EXCLUDED.host_ip, "
                "cpu_info = EXCLUDED.cpu_info, vcpus = EXCLUDED.vcpus, "
                "memory_mb = EXCLUDED.memory_mb, local_gb = EXCLUDED.local_gb, "
                "cpu_allocation_ratio = coalesce($11::float8, compute_nodes.cpu_allocation_ratio), "
                "ram_allocation_ratio = coalesce($12::float8, compute_nodes.ram_allocation_ratio), "
                "disk_allocation_ratio = "
                "coalesce($13::float8, compute_nodes.disk_allocation_ratio), "
                "reserved_host_memory_mb = "
                "coalesce($14::int, compute_nodes.reserved_host_memory_mb), updated_at = now()",
                14, p) != DB_OK)
        return rpc_failure("database: %s", db_errmsg());
    return json_true();
}

/* The guests the rows of instances that `where` (an SQL condition on
 * instances with one parameter, $1) selects, as a host defines them:
 * {uuid, name, vm_state, task_state, power_state, display_name,
 * flavor_name, image_ref, vcpus, memory_mb, root_gb, ephemeral_gb, swap,
 * nics, image}. NULL (logged) when the database cannot answer. */
static json_t *guest_specs(const char *where, const char *param) {
    const char *p[] = {param};
    PGresult *r = NULL;
    struct sbuf sql = {0};
    /* the ports, from a macro inside the string: laid out by hand */
    // clang-format off
    sbuf_addf(&sql, "%s%s ORDER BY id",
                 "SELECT uuid, id, vm_state, task_state, power_state, "
                 "coalesce(display_name, ''), coalesce(flavor->>'name', ''), "
                 "coalesce(image_ref, ''), vcpus, memory_mb, root_gb, ephemeral_gb, "
                 "coalesce(nullif(flavor->>'swap', '')::int, 0), "
                 CONDUCTOR_NICS_SQL("instances.uuid") "::text, "
                 CONDUCTOR_IMAGE_SQL("system_metadata") "::text "
                 "FROM instances WHERE deleted = 0 AND ", where);
    // clang-format on
    enum db_status st = db_query(&r, sql.s, 1, p);
    sbuf_free(&sql);
    if (st != DB_OK) {
        log_error("guests not read: %s", db_errmsg());
        return NULL;
    }
    json_t *out = json_array();
    for (int i = 0; i < PQntuples(r); i++) {
        char name[32];
        snprintf(name, sizeof name, "instance-%08llx", db_int(r, i, 1));
        json_array_append_new(
            out,
            json_pack(
                "{s:s, s:s, s:s, s:s?, s:I, s:s, s:s, s:s, s:I, s:I, s:I, s:I, s:I, s:o?, s:o?}",
                "uuid", db_str(r, i, 0), "name", name, "vm_state", db_str(r, i, 2), "task_state",
                db_str(r, i, 3), "power_state", (json_int_t)db_int(r, i, 4), "display_name",
                db_str(r, i, 5), "flavor_name", db_str(r, i, 6), "image_ref", db_str(r, i, 7),
                "vcpus", (json_int_t)db_int(r, i, 8), "memory_mb", (json_int_t)db_int(r, i, 9),
                "root_gb", (json_int_t)db_int(r, i, 10), "ephemeral_gb",
                (json_int_t)db_int(r, i, 11), "swap", (json_int_t)db_int(r, i, 12), "nics",
                json_loads(db_str(r, i, 13), 0, NULL), "image",
                json_loads(db_str(r, i, 14), 0, NULL)));
    }
    PQclear(r);
    return out;
}

/* args {host}: the instances the database has on that host, with what the
 * host needs to define one again. */
json_t *conductor_instances_on_host(json_t *args, struct conductor *c) {
    const char *host = json_string_value(json_object_get(args, "host"));
    if (!host) return rpc_failure("instances_on_host needs host");
    json_t *out = guest_specs("host = $1", host);
    return out ? out : rpc_failure("database: %s", db_errmsg());
}

/* The image `id` as a guest boots it: {disk_format, kernel_id, ramdisk_id,
 * os_command_line} (those it has). */
#define IMAGE_BOOT_SQL                                                                             \
    "SELECT jsonb_strip_nulls(jsonb_build_object('disk_format', i.disk_format,"                    \
    " 'kernel_id', (SELECT value FROM image_properties WHERE image_id = i.id"                      \
    "  AND key = 'kernel_id'), 'ramdisk_id', (SELECT value FROM image_properties"                  \
    "  WHERE image_id = i.id AND key = 'ramdisk_id'), 'os_command_line', (SELECT value"            \
    "  FROM image_properties WHERE image_id = i.id AND key = 'os_command_line')))::text"           \
    " FROM images i WHERE i.id = $1::uuid"

/* args {instance_uuid, rescue_password, rescue_image_ref?} from the API:
 * the host gets the guest's definition with the rescue image in place of
 * its own (rescue_image_ref, else [libvirt] rescue_image_id, else the
 * server's image, as Nova's libvirt driver picks it) under "rescue". */
json_t *conductor_rescue_instance(json_t *args, struct conductor *c) {
    (void)c;
    const char *uuid = json_string_value(json_object_get(args, "instance_uuid"));
    if (!uuid || !uuid_valid(uuid)) return conductor_forward("rescue_instance", args);
    json_t *specs = guest_specs("uuid = $1::uuid", uuid), *a = json_deep_copy(args);
    json_t *spec = json_array_get(specs, 0);
    const char *image = json_string_value(json_object_get(args, "rescue_image_ref"));
    if (!image || !*image) image = config_get("libvirt", "rescue_image_id", "");
    if (!*image && spec) image = json_string_value(json_object_get(spec, "image_ref"));
    json_t *boot = image && uuid_valid(image)
                       ? conductor_instance_json(IMAGE_BOOT_SQL, "rescue image", image)
                       : NULL;
    if (spec && boot) {
        json_object_set_new(spec, "image_ref", json_string(image));
        json_object_set_new(spec, "image", boot);
        json_object_set(a, "rescue", spec);
    } else {
        json_decref(boot); /* volume-backed: no local root disk to keep, rebooted */
    }
    json_t *res = conductor_forward("rescue_instance", a);
    json_decref(a);
    json_decref(specs);
    return res;
}

/* args {uuid, host, power_state}: what the hypervisor says. Nova's sync:
 * record the power state; an ACTIVE instance found SHUTDOWN or CRASHED
 * "shut down by itself" and is stopped. Instances with a task in flight
 * are left alone. */
json_t *conductor_instance_power_sync(json_t *args, struct conductor *c) {
    const char *uuid = json_string_value(json_object_get(args, "uuid"));
    const char *host = json_string_value(json_object_get(args, "host"));
    if (!uuid || !uuid_valid(uuid) || !host)
        return rpc_failure("instance_power_sync needs uuid, host");
    char ps[12];
    snprintf(ps, sizeof ps, "%lld", json_integer_value(json_object_get(args, "power_state")));
    const char *p[] = {uuid, host, ps};
    PGresult *r = NULL;
    if (db_query(&r,
                 "UPDATE instances SET power_state = $3::int, vm_state = CASE WHEN "
                 "vm_state = 'active' AND $3::int IN (4, 6) THEN 'stopped' ELSE vm_state END, "
                 "updated_at = now() WHERE uuid = $1 AND host = $2 AND deleted = 0 AND "
                 "task_state IS NULL RETURNING vm_state",
                 3, p) != DB_OK)
        return rpc_failure("database: %s", db_errmsg());
    if (PQntuples(r))
        log_info("power-state sync: %s on %s now power_state %s, %s", uuid, host, ps,
                 db_str(r, 0, 0));
    PQclear(r);
    return json_true();
}

/* Marks the instance deleted (on `host`, when given) and gives back its
 * claim and its server group membership, in one transaction; a shelved
 * server's snapshot goes with it, as Nova's delete removes the
 * shelved_image_id image. */
static int mark_deleted(const char *uuid, const char *host) {
    const char *p[] = {uuid, host};
    for (int attempt = 0; attempt < 3; attempt++) {
        if (db_begin() != DB_OK) return -1;
        PGresult *r = NULL;
        if (db_query(&r,
                     "UPDATE instances SET deleted = id, deleted_at = now(), vm_state = 'deleted', "
                     "task_state = NULL, power_state = 0, terminated_at = now(), "
                     "updated_at = now() WHERE uuid = $1 AND deleted = 0 AND "
                     "($2::text IS NULL OR host = $2) "
                     "RETURNING system_metadata->>'shelved_image_id'",
                     2, p) != DB_OK) {
            db_rollback();
            continue;
        }
        int n = PQntuples(r);
        if (n && !db_isnull(r, 0, 0)) conductor_image_delete(db_str(r, 0, 0));
        PQclear(r);
        if (n) {
            conductor_release_claim(uuid, NULL);
            conductor_moves_on_delete(uuid);
            db_exec("UPDATE server_group_members SET deleted = id, deleted_at = now() "
                    "WHERE instance_uuid = $1 AND deleted = 0",
                    1, p);
            /* its remote console tokens (Nova's clean_console_auths_for_instance) */
            db_exec("DELETE FROM console_auth_tokens WHERE instance_uuid = $1::uuid", 1, p);
            char pub[300];
            if (host)
                notify_publisher(pub, sizeof pub, "nova-compute", host);
            else
                notify_publisher(pub, sizeof pub, "nova-conductor", NULL);
            /* the host shut the guest down on its way out, as Nova's
             * compute says between delete.start and delete.end */
            if (host) {
                notify_instance(uuid, "instance.shutdown.start", NULL,
                                "compute.instance.shutdown.start", "INFO", pub, NULL);
                notify_instance(uuid, "instance.shutdown.end", NULL,
                                "compute.instance.shutdown.end", "INFO", pub, NULL);
            }
            notify_instance(uuid, "instance.delete.end", NULL, "compute.instance.delete.end",
                            "INFO", pub, NULL);
        }
        if (db_commit() == DB_OK) {
            if (n) log_info("instance %s deleted", uuid);
            return n;
        }
    }
    log_error("instance %s: delete not recorded: %s", uuid, db_errmsg());
    return -1;
}

/* args {instance_uuid} from the API (task_state 'deleting'). */
json_t *conductor_delete_instance(json_t *args, struct conductor *c) {
    const char *uuid = json_string_value(json_object_get(args, "instance_uuid"));
    if (!uuid || !uuid_valid(uuid)) return rpc_failure("delete_instance needs instance_uuid");
    const char *p[] = {uuid};
    PGresult *r = NULL;
    if (db_query(&r, "SELECT host FROM instances WHERE uuid = $1 AND deleted = 0", 1, p) != DB_OK)
        return rpc_failure("database: %s", db_errmsg());
    if (PQntuples(r) == 0) {
        PQclear(r);
        return json_false();
    }
    char host[256] = "";
    if (!db_isnull(r, 0, 0)) snprintf(host, sizeof host, "%s", db_str(r, 0, 0));
    PQclear(r);
    if (!host[0] || !conductor_compute_up(host)) {
        if (host[0]) log_warn("delete %s: nova-compute on %s is down: local delete", uuid, host);
        mark_deleted(uuid, NULL);
        return json_true();
    }
    char topic[300];
    snprintf(topic, sizeof topic, "compute.%s", host);
    json_t *a = json_pack("{s:s}", "uuid", uuid);
    /* the volumes that go with it (delete_on_termination, no snapshot of
     * theirs left): their files go from the host (sql/014's trigger drops
     * the rows when the instance is marked deleted) */
    json_t *gone = conductor_instance_json(
        "SELECT COALESCE(jsonb_agg(b.volume_id), '[]')::text FROM block_device_mapping b"
        " WHERE b.instance_uuid = $1::uuid AND b.deleted = 0 AND b.delete_on_termination"
        " AND b.volume_id ~* '^[0-9a-f-]{36}$' AND NOT EXISTS (SELECT 1 FROM volume_snapshots s"
        "  WHERE s.volume_id = b.volume_id::uuid AND NOT s.deleted)",
        "volumes", uuid);
    if (gone) json_object_set_new(a, "delete_volumes", gone);
    if (rpc_cast_later(topic, "terminate_instance", a) < 0)
        log_warn("delete %s: cast to %s failed (re-driven by the build timeout)", uuid, topic);
    json_decref(a);
    return json_true();
}

/* args {uuid, host}: the host destroyed the guest. */
json_t *conductor_instance_terminated(json_t *args, struct conductor *c) {
    const char *uuid = json_string_value(json_object_get(args, "uuid"));
    const char *host = json_string_value(json_object_get(args, "host"));
    if (!uuid || !uuid_valid(uuid) || !host)
        return rpc_failure("instance_terminated needs uuid, host");
    /* Only an instance being deleted: a guest destroyed as an orphan of a
     * rescheduled build must not delete the instance. */
    const char *p[] = {uuid};
    PGresult *r = NULL;
    if (db_query(&r,
                 "SELECT 1 FROM instances WHERE uuid = $1 AND deleted = 0 AND "
                 "task_state = 'deleting'",
                 1, p) != DB_OK)
        return rpc_failure("database: %s", db_errmsg());
    int deleting = PQntuples(r) > 0;
    PQclear(r);
    if (!deleting) return json_false();
    return mark_deleted(uuid, host) < 0 ? rpc_failure("database unavailable") : json_true();
}
