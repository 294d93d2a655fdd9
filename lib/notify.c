/* notify.c — see notify.h. */
#include "notify.h"

#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include "config.h"
#include "db.h"
#include "log.h"
#include "rpc.h"
#include "service.h"
#include "util.h"

/* The request whose work this process is doing: log.h's request context
 * (the API's per request, lib/rpc's per message served). */
#define ctx_request_id log_request_id()

static json_t *global_id(void) {
    return *log_global_request_id() ? json_string(log_global_request_id()) : json_null();
}

static const char *format(void) {
    return config_get("notifications", "notification_format", "both");
}
/* [oslo_messaging_notifications] driver = noop turns every notification
 * off, as in oslo.messaging (default messagingv2). */
static int noop(void) {
    return !strcmp(config_get("oslo_messaging_notifications", "driver", "messagingv2"), "noop");
}

int notify_versioned_enabled(void) {
    if (noop()) return 0;
    const char *f = format();
    return !strcmp(f, "both") || !strcmp(f, "versioned");
}
int notify_legacy_enabled(void) {
    if (noop()) return 0;
    const char *f = format();
    return !strcmp(f, "both") || !strcmp(f, "unversioned");
}

void notify_publisher(char *out, size_t n, const char *binary, const char *host) {
    if (!host || !*host) host = service_host();
    snprintf(out, n, "%s:%s", binary, host && *host ? host : "localhost");
}

const char *notify_power_state_name(int ps) {
    switch (ps) {
    case 1:
        return "running";
    case 3:
        return "paused";
    case 4:
        return "shutdown";
    case 6:
        return "crashed";
    case 7:
        return "suspended";
    default:
        return "pending";
    }
}

/* oslo's str(datetime.utcnow()): "2026-12-04 05:00:00.123456". */
static void py_timestamp(char out[32]) {
    struct timeval tv;
    gettimeofday(&tv, NULL);
    struct tm tm;
    gmtime_r(&tv.tv_sec, &tm);
    char s[24];
    strftime(s, sizeof s, "%Y-%m-%d %H:%M:%S", &tm);
    snprintf(out, 32, "%s.%06ld", s, (long)tv.tv_usec);
}

json_t *notify_object(const char *name, const char *version, json_t *data) {
    return json_pack("{s:s, s:s, s:s, s:o}", "nova_object.name", name, "nova_object.namespace",
                     "nova", "nova_object.version", version, "nova_object.data",
                     data ? data : json_object());
}

static json_t *get_or_null(json_t *o, const char *k) {
    json_t *v = json_object_get(o, k);
    return v ? json_incref(v) : json_null();
}
static json_t *str_or_empty(json_t *o, const char *k) {
    json_t *v = json_object_get(o, k);
    return json_is_string(v) ? json_incref(v) : json_string("");
}
static json_t *int_of(json_t *o, const char *k) {
    return json_integer(json_integer_value(json_object_get(o, k)));
}

json_t *notify_flavor_payload(json_t *f) {
    json_t *d = json_object();
    json_object_set_new(d, "flavorid", str_or_empty(f, "flavorid"));
    json_object_set_new(d, "name", str_or_empty(f, "name"));
    json_object_set_new(d, "memory_mb", int_of(f, "memory_mb"));
    json_object_set_new(d, "vcpus", int_of(f, "vcpus"));
    json_object_set_new(d, "root_gb", int_of(f, "root_gb"));
    json_object_set_new(d, "ephemeral_gb", int_of(f, "ephemeral_gb"));
    json_object_set_new(d, "swap", int_of(f, "swap"));
    json_t *rx = json_object_get(f, "rxtx_factor");
    json_object_set_new(d, "rxtx_factor", json_real(rx ? json_number_value(rx) : 1.0));
    json_t *pub = json_object_get(f, "is_public");
    json_object_set_new(d, "is_public", json_boolean(!pub || json_is_true(pub)));
    json_object_set_new(d, "disabled", json_boolean(json_is_true(json_object_get(f, "disabled"))));
    json_object_set_new(d, "vcpu_weight", int_of(f, "vcpu_weight"));
    json_t *es = json_object_get(f, "extra_specs");
    json_object_set_new(d, "extra_specs", json_is_object(es) ? json_incref(es) : json_object());
    json_object_set_new(d, "projects", get_or_null(f, "projects"));
    json_object_set_new(d, "description", get_or_null(f, "description"));
    return notify_object("FlavorPayload", "1.4", d);
}

/* The fields every InstancePayload has (nova/notifications/objects/instance.py,
 * version 1.9 in Nova's samples), filled from the row. */
static json_t *instance_data(json_t *row) {
    json_t *d = json_object();
    json_object_set_new(d, "uuid", get_or_null(row, "uuid"));
    json_object_set_new(d, "user_id", get_or_null(row, "user_id"));
    json_object_set_new(d, "tenant_id", get_or_null(row, "project_id"));
    json_object_set_new(d, "reservation_id", get_or_null(row, "reservation_id"));
    json_object_set_new(d, "display_name", get_or_null(row, "display_name"));
    json_object_set_new(d, "display_description", get_or_null(row, "display_description"));
    json_object_set_new(d, "host_name", get_or_null(row, "hostname"));
    json_object_set_new(d, "host", get_or_null(row, "host"));
    json_object_set_new(d, "node", get_or_null(row, "node"));
    json_object_set_new(d, "os_type", get_or_null(row, "os_type"));
    json_object_set_new(d, "architecture", get_or_null(row, "architecture"));
    json_object_set_new(d, "availability_zone", get_or_null(row, "availability_zone"));
    json_object_set_new(d, "flavor", notify_flavor_payload(json_object_get(row, "flavor")));
    const char *img = json_string_value(json_object_get(row, "image_ref"));
    json_object_set_new(d, "image_uuid", img && *img ? json_string(img) : json_null());
    json_object_set_new(d, "key_name", get_or_null(row, "key_name"));
    json_object_set_new(d, "kernel_id", str_or_empty(row, "kernel_id"));
    json_object_set_new(d, "ramdisk_id", str_or_empty(row, "ramdisk_id"));
    static const char *const times[] = {"created_at", "launched_at", "terminated_at", "deleted_at",
                                        "updated_at"};
    for (size_t i = 0; i < sizeof times / sizeof times[0]; i++)
        json_object_set_new(d, times[i], get_or_null(row, times[i]));
    json_object_set_new(d, "state", get_or_null(row, "vm_state"));
    json_object_set_new(d, "power_state",
                        json_string(notify_power_state_name(
                            (int)json_integer_value(json_object_get(row, "power_state")))));
    json_object_set_new(d, "task_state", get_or_null(row, "task_state"));
    json_object_set_new(d, "progress", int_of(row, "progress"));
    json_t *ips = json_array(), *rips = json_object_get(row, "ips");
    size_t i;
    json_t *ip;
    json_array_foreach(rips, i, ip) {
        const char *port = json_string_value(json_object_get(ip, "port_id"));
        char dev[16];
        snprintf(dev, sizeof dev, "tap%.11s", port ? port : "");
        json_t *ipd = json_object();
        json_object_set_new(ipd, "label", get_or_null(ip, "label"));
        json_object_set_new(ipd, "mac", get_or_null(ip, "mac"));
        json_object_set_new(ipd, "meta", json_object());
        json_object_set_new(ipd, "version", int_of(ip, "version"));
        json_object_set_new(ipd, "address", get_or_null(ip, "address"));
        json_object_set_new(ipd, "port_uuid", get_or_null(ip, "port_id"));
        json_object_set_new(ipd, "device_name", json_string(dev));
        json_array_append_new(ips, notify_object("IpPayload", "1.0", ipd));
    }
    json_object_set_new(d, "ip_addresses", ips);
    json_t *bds = json_array(), *bd;
    json_array_foreach(json_object_get(row, "bdms"), i, bd) {
        json_t *b = json_object();
        json_object_set_new(b, "boot_index", get_or_null(bd, "boot_index"));
        json_object_set_new(
            b, "delete_on_termination",
            json_boolean(json_is_true(json_object_get(bd, "delete_on_termination"))));
        json_object_set_new(b, "device_name", get_or_null(bd, "device_name"));
        json_object_set_new(b, "tag", get_or_null(bd, "tag"));
        json_object_set_new(b, "volume_id", get_or_null(bd, "volume_id"));
        json_array_append_new(bds, notify_object("BlockDevicePayload", "1.0", b));
    }
    json_object_set_new(d, "block_devices", bds);
    json_t *md = json_object_get(row, "metadata");
    json_object_set_new(d, "metadata", json_is_object(md) ? json_incref(md) : json_object());
    json_object_set_new(d, "locked", json_boolean(json_is_true(json_object_get(row, "locked"))));
    json_object_set_new(d, "locked_reason", get_or_null(row, "locked_reason"));
    json_object_set_new(d, "auto_disk_config", json_string("MANUAL"));
    json_object_set_new(d, "request_id", get_or_null(row, "request_id"));
    json_object_set_new(d, "action_initiator_user", get_or_null(row, "user_id"));
    json_object_set_new(d, "action_initiator_project", get_or_null(row, "project_id"));
    json_object_set_new(d, "shares", json_array());
    return d;
}

json_t *notify_instance_payload(json_t *row, const char *object, json_t *fault) {
    if (!object) object = "InstanceActionPayload";
    json_t *d = instance_data(row);
    const char *version = "1.9";
    if (strcmp(object, "InstancePayload") != 0 && strcmp(object, "InstanceExistsPayload") != 0) {
        json_t *f = json_null();
        if (fault) {
            json_t *fd = json_object();
            json_object_set_new(fd, "exception", get_or_null(fault, "exception"));
            json_object_set_new(fd, "exception_message", get_or_null(fault, "message"));
            json_object_set_new(fd, "function_name", get_or_null(fault, "function_name"));
            json_object_set_new(fd, "module_name", get_or_null(fault, "module_name"));
            json_object_set_new(fd, "traceback", json_string(""));
            f = notify_object("ExceptionPayload", "1.1", fd);
        }
        json_object_set_new(d, "fault", f);
    }
    if (!strcmp(object, "InstanceCreatePayload")) {
        version = "1.13";
        json_t *kps = json_array();
        const char *kn = json_string_value(json_object_get(row, "key_name"));
        if (kn) {
            json_t *k = json_object();
            json_object_set_new(k, "user_id", get_or_null(row, "user_id"));
            json_object_set_new(k, "name", json_string(kn));
            json_object_set_new(k, "fingerprint", get_or_null(row, "key_fingerprint"));
            json_object_set_new(k, "public_key", get_or_null(row, "key_data"));
            json_object_set_new(k, "type", get_or_null(row, "key_type"));
            json_array_append_new(kps, notify_object("KeypairPayload", "1.0", k));
        }
        json_object_set_new(d, "keypairs", kps);
        json_t *tags = json_object_get(row, "tags");
        json_object_set_new(d, "tags", json_is_array(tags) ? json_incref(tags) : json_array());
        json_t *tc = json_object_get(row, "trusted_certs");
        json_object_set_new(d, "trusted_image_certificates", tc ? json_incref(tc) : json_null());
        json_object_set_new(d, "instance_name", get_or_null(row, "instance_name"));
    } else if (!strcmp(object, "InstanceActionResizePrepPayload")) {
        version = "1.4"; /* the flavor the resize goes to */
        json_t *nf = json_object_get(row, "new_flavor");
        json_object_set_new(d, "new_flavor",
                            json_is_object(nf) ? notify_flavor_payload(nf) : json_null());
    } else if (!strcmp(object, "InstanceActionRebuildPayload")) {
        version = "1.10";
        json_t *tc = json_object_get(row, "trusted_certs");
        json_object_set_new(d, "trusted_image_certificates", tc ? json_incref(tc) : json_null());
    } else if (!strcmp(object, "InstanceExistsPayload")) {
        version = "2.1"; /* audit_period: the caller's extra field */
        json_object_set_new(d, "audit_period", json_null());
    } else if (!strcmp(object, "InstanceActionVolumePayload")) {
        version = "1.7"; /* volume_id: the caller's extra field */
        json_object_set_new(d, "volume_id", json_null());
    }
    return notify_object(object, version, d);
}

json_t *notify_legacy_instance_payload(json_t *row) {
    json_t *p = json_object(), *f = json_object_get(row, "flavor");
    json_object_set_new(p, "tenant_id", get_or_null(row, "project_id"));
    json_object_set_new(p, "user_id", get_or_null(row, "user_id"));
    json_object_set_new(p, "instance_id", get_or_null(row, "uuid"));
    json_object_set_new(p, "display_name", get_or_null(row, "display_name"));
    json_object_set_new(p, "reservation_id", get_or_null(row, "reservation_id"));
    json_object_set_new(p, "hostname", get_or_null(row, "hostname"));
    json_object_set_new(p, "instance_type", str_or_empty(f, "name"));
    json_object_set_new(p, "instance_type_id", get_or_null(f, "id"));
    json_object_set_new(p, "instance_flavor_id", str_or_empty(f, "flavorid"));
    json_object_set_new(p, "architecture", get_or_null(row, "architecture"));
    long long root = json_integer_value(json_object_get(f, "root_gb")),
              eph = json_integer_value(json_object_get(f, "ephemeral_gb"));
    json_object_set_new(p, "memory_mb", int_of(f, "memory_mb"));
    json_object_set_new(p, "disk_gb", json_integer(root + eph));
    json_object_set_new(p, "vcpus", int_of(f, "vcpus"));
    json_object_set_new(p, "root_gb", json_integer(root));
    json_object_set_new(p, "ephemeral_gb", json_integer(eph));
    json_object_set_new(p, "host", get_or_null(row, "host"));
    json_object_set_new(p, "node", get_or_null(row, "node"));
    json_object_set_new(p, "availability_zone", get_or_null(row, "availability_zone"));
    json_object_set_new(p, "cell_name", json_string(""));
    json_object_set_new(p, "created_at", get_or_null(row, "legacy_created_at"));
    static const char *const times[] = {"terminated_at", "deleted_at", "launched_at"};
    char k[32];
    for (size_t i = 0; i < 3; i++) {
        snprintf(k, sizeof k, "legacy_%s", times[i]);
        json_t *v = json_object_get(row, k);
        json_object_set_new(p, times[i], json_is_string(v) ? json_incref(v) : json_string(""));
    }
    json_object_set_new(p, "image_ref_url", get_or_null(row, "image_ref"));
    json_object_set_new(p, "os_type", get_or_null(row, "os_type"));
    json_object_set_new(p, "kernel_id", str_or_empty(row, "kernel_id"));
    json_object_set_new(p, "ramdisk_id", str_or_empty(row, "ramdisk_id"));
    json_object_set_new(p, "state", get_or_null(row, "vm_state"));
    json_object_set_new(p, "state_description", str_or_empty(row, "task_state"));
    long long prog = json_integer_value(json_object_get(row, "progress"));
    json_object_set_new(p, "progress", prog ? json_integer(prog) : json_string(""));
    json_object_set_new(p, "access_ip_v4", get_or_null(row, "access_ip_v4"));
    json_object_set_new(p, "access_ip_v6", get_or_null(row, "access_ip_v6"));
    json_t *fixed = json_array(), *ip;
    size_t i;
    json_array_foreach(json_object_get(row, "ips"), i, ip) {
        json_t *x = json_object();
        json_object_set_new(x, "address", get_or_null(ip, "address"));
        json_object_set_new(x, "version", int_of(ip, "version"));
        json_object_set_new(x, "type", json_string("fixed"));
        json_object_set_new(x, "floating_ips", json_array());
        json_object_set_new(x, "meta", json_object());
        json_object_set_new(x, "label", get_or_null(ip, "label"));
        json_object_set_new(x, "vif_mac", get_or_null(ip, "mac"));
        json_array_append_new(fixed, x);
    }
    json_object_set_new(p, "fixed_ips", fixed);
    json_t *im = json_object_get(row, "image_meta");
    json_object_set_new(p, "image_meta", json_is_object(im) ? json_incref(im) : json_object());
    json_t *md = json_object_get(row, "metadata");
    json_object_set_new(p, "metadata", json_is_object(md) ? json_incref(md) : json_object());
    return p;
}

json_t *notify_message(const char *event_type, const char *priority, const char *publisher,
                       json_t *payload, json_t *ctx) {
    char mid[37], ts[32];
    uuid_new(mid);
    py_timestamp(ts);
    json_t *m = json_object();
    json_object_set_new(m, "message_id", json_string(mid));
    json_object_set_new(m, "publisher_id", json_string(publisher));
    json_object_set_new(m, "event_type", json_string(event_type));
    json_object_set_new(m, "priority", json_string(priority));
    json_object_set_new(m, "payload", payload ? payload : json_object());
    json_object_set_new(m, "timestamp", json_string(ts));
    const char *k;
    json_t *v;
    char key[96];
    json_object_foreach(ctx, k, v) {
        snprintf(key, sizeof key, "_context_%s", k);
        json_object_set(m, key, v);
    }
    return m;
}

/* Writes one message to the outbox: topic "notify:<rkey>". */
static int queue(const char *rkey, json_t *msg) {
    char topic[96];
    snprintf(topic, sizeof topic, "%s%s", NOTIFY_TOPIC_PREFIX, rkey);
    int rc = outbox_add(topic, json_string_value(json_object_get(msg, "event_type")), msg);
    json_decref(msg);
    return rc;
}

static const char *level(const char *priority) {
    return !strcmp(priority, "ERROR") ? "error" : "info";
}

/* The request context as oslo.messaging packs Nova's RequestContext. */
static json_t *instance_ctx(json_t *row) {
    json_t *c = json_object();
    json_object_set_new(c, "request_id", get_or_null(row, "request_id"));
    json_object_set_new(c, "global_request_id", global_id());
    json_object_set_new(c, "project_id", get_or_null(row, "project_id"));
    json_object_set_new(c, "user_id", get_or_null(row, "user_id"));
    json_object_set_new(c, "tenant", get_or_null(row, "project_id"));
    json_object_set_new(c, "user", get_or_null(row, "user_id"));
    json_object_set_new(c, "project_name", json_null());
    json_object_set_new(c, "user_name", json_null());
    json_object_set_new(c, "is_admin", json_false());
    json_object_set_new(c, "read_deleted", json_string("no"));
    json_object_set_new(c, "roles", json_array());
    json_object_set_new(c, "remote_address", json_null());
    json_object_set_new(c, "quota_class", json_null());
    json_object_set_new(c, "service_catalog", json_array());
    char ts[21];
    iso8601_now(ts);
    json_object_set_new(c, "timestamp", json_string(ts));
    return c;
}

int notify_versioned(const char *event_type, const char *priority, const char *publisher,
                     json_t *payload, json_t *ctx) {
    if (!notify_versioned_enabled()) {
        json_decref(payload);
        return 0;
    }
    char rkey[64];
    snprintf(rkey, sizeof rkey, "versioned_notifications.%s", level(priority));
    return queue(rkey, notify_message(event_type, priority, publisher, payload, ctx));
}

#define TS(col) "to_char(" col " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"
#define LTS(col) "to_char(" col " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US')"
static const char INSTANCE_SQL[] =
    "SELECT json_build_object("
    "'uuid', i.uuid, 'user_id', i.user_id, 'project_id', i.project_id, "
    "'display_name', i.display_name, 'display_description', i.display_description, "
    "'hostname', i.hostname, 'image_ref', i.image_ref, 'flavor', i.flavor, "
    "'new_flavor', i.new_flavor, "
    "'key_name', i.key_name, 'key_data', i.key_data, 'vm_state', i.vm_state, "
    "'task_state', i.task_state, 'power_state', i.power_state, 'host', i.host, "
    "'node', i.node, 'availability_zone', i.availability_zone, 'locked', i.locked, "
    "'locked_reason', i.locked_reason, 'reservation_id', i.reservation_id, "
    "'progress', i.progress, 'access_ip_v4', i.access_ip_v4, 'access_ip_v6', i.access_ip_v6, "
    "'trusted_certs', i.trusted_certs, "
    "'instance_name', 'instance-' || lpad(to_hex(i.id), 8, '0'), "
    "'architecture', i.system_metadata->>'image_architecture', "
    "'os_type', i.system_metadata->>'image_os_type', "
    "'kernel_id', i.system_metadata->>'image_kernel_id', "
    "'ramdisk_id', i.system_metadata->>'image_ramdisk_id', "
    "'image_meta', (SELECT coalesce(jsonb_object_agg(substr(k, 7), v), '{}') "
    "  FROM jsonb_each_text(i.system_metadata) AS s(k, v) WHERE k LIKE 'image\\_%'), "
    "'created_at', " TS("i.created_at") ", 'launched_at', " TS(
        "i.launched_at") ", "
                         "'terminated_at', " TS("i.terminated_at") ", 'deleted_at', " TS(
                             "i.deleted_at") ", "
                                             "'updated_at', " TS(
                                                 "i.updated_at") ", "
                                                                 "'legacy_created_at', "
                                                                 "to_char(i.created_at AT TIME "
                                                                 "ZONE 'UTC', 'YYYY-MM-DD "
                                                                 "HH24:MI:SS') || '+00:00', "
                                                                 "'legacy_launched_at', " LTS(
                                                                     "i.launched_at") ", "
                                                                                      "'legacy_"
                                                                                      "terminated_"
                                                                                      "at', " LTS(
                                                                                          "i."
                                                                                          "terminat"
                                                                                          "ed_at") ", "
                                                                                                   "'legacy_deleted_at', " LTS(
                                                                                                       "i.deleted_at") ", "
                                                                                                                       /* the request of the instance's latest action (a conductor or host
                                                                                                                        * step has no request of its own): the context's request_id */
                                                                                                                       "'request_id', (SELECT a.request_id FROM instance_actions a "
                                                                                                                       "  WHERE a.instance_uuid = i.uuid ORDER BY a.id DESC LIMIT 1), "
                                                                                                                       "'metadata', (SELECT coalesce(json_object_agg(m.key, m.value), '{}') "
                                                                                                                       "  FROM instance_metadata m WHERE m.instance_uuid = i.uuid), "
                                                                                                                       "'ips', (SELECT coalesce(json_agg(json_build_object('address', host(f.address), "
                                                                                                                       "  'version', family(f.address), 'mac', p.mac_address, 'label', n.label, "
                                                                                                                       "  'port_id', p.id) ORDER BY p.created_at, f.address), '[]') "
                                                                                                                       "  FROM ports p JOIN fixed_ips f ON f.port_id = p.id JOIN networks n ON n.id = p.network_id "
                                                                                                                       "  WHERE p.instance_uuid = i.uuid), "
                                                                                                                       "'bdms', (SELECT coalesce(json_agg(json_build_object('boot_index', b.boot_index, "
                                                                                                                       "  'delete_on_termination', b.delete_on_termination, 'device_name', b.device_name, "
                                                                                                                       "  'tag', b.tag, 'volume_id', b.volume_id) ORDER BY b.id), '[]') "
                                                                                                                       "  FROM block_device_mapping b WHERE b.instance_uuid = i.uuid AND b.deleted = 0 "
                                                                                                                       "  AND b.destination_type = 'volume')"
                                                                                                                       ")::text FROM instances i WHERE i.uuid = $1::uuid ORDER BY i.deleted LIMIT 1";

static json_t *instance_row(const char *uuid) {
    const char *p[] = {uuid};
    PGresult *r = NULL;
    if (db_query(&r, INSTANCE_SQL, 1, p) != DB_OK) {
        log_error("notify: cannot read instance %s: %s", uuid, db_errmsg());
        return NULL;
    }
    json_t *row = PQntuples(r) ? json_loads(db_str(r, 0, 0), 0, NULL) : NULL;
    PQclear(r);
    return row;
}

int notify_instance(const char *uuid, const char *event_type, const char *object,
                    const char *legacy_event, const char *priority, const char *publisher,
                    json_t *fault) {
    return notify_instance_with(uuid, event_type, object, legacy_event, priority, publisher, fault,
                                NULL);
}

int notify_instance_with(const char *uuid, const char *event_type, const char *object,
                         const char *legacy_event, const char *priority, const char *publisher,
                         json_t *fault, json_t *extra) {
    int v = event_type && notify_versioned_enabled(), l = legacy_event && notify_legacy_enabled();
    if (!v && !l) return 0;
    json_t *row = instance_row(uuid);
    if (!row) return -1;
    if (ctx_request_id[0]) json_object_set_new(row, "request_id", json_string(ctx_request_id));
    int rc = 0;
    if (v) {
        json_t *ctx = instance_ctx(row);
        json_t *pl = notify_instance_payload(row, object, fault);
        if (json_is_object(extra))
            json_object_update(json_object_get(pl, "nova_object.data"), extra);
        rc |= notify_versioned(event_type, priority, publisher, pl, ctx);
        json_decref(ctx);
    }
    if (l) {
        char rkey[64];
        snprintf(rkey, sizeof rkey, "notifications.%s", level(priority));
        json_t *ctx = instance_ctx(row);
        json_t *payload = notify_legacy_instance_payload(row);
        if (fault) json_object_set_new(payload, "message", get_or_null(fault, "message"));
        if (json_is_object(extra)) json_object_update(payload, extra);
        rc |= queue(rkey, notify_message(legacy_event, priority, publisher, payload, ctx));
        json_decref(ctx);
    }
    json_decref(row);
    return rc ? -1 : 0;
}

int notify_state_change_enabled(void) {
    const char *mode = config_get("notifications", "notify_on_state_change", "");
    return !strcmp(mode, "vm_state") || !strcmp(mode, "vm_and_task_state");
}

int notify_instance_update(const char *uuid, const char *old_state, const char *old_task,
                           const char *publisher) {
    const char *mode = config_get("notifications", "notify_on_state_change", "");
    int with_task = !strcmp(mode, "vm_and_task_state");
    if (!with_task && strcmp(mode, "vm_state") != 0) return 0;
    json_t *row = instance_row(uuid);
    if (!row) return -1;
    if (ctx_request_id[0]) json_object_set_new(row, "request_id", json_string(ctx_request_id));
    const char *state = json_string_value(json_object_get(row, "vm_state"));
    const char *task = json_string_value(json_object_get(row, "task_state"));
    int changed = !old_state || !state || strcmp(old_state, state) != 0;
    if (with_task)
        changed |=
            (old_task == NULL) != (task == NULL) || (old_task && task && strcmp(old_task, task));
    int rc = 0;
    if (changed && notify_versioned_enabled()) {
        json_t *pl = notify_instance_payload(row, "InstancePayload", NULL);
        json_t *d = json_object_get(pl, "nova_object.data");
        json_t *su = json_object();
        json_object_set_new(su, "old_state", old_state ? json_string(old_state) : json_null());
        json_object_set_new(su, "state", state ? json_string(state) : json_null());
        /* vm_state mode: both task fields carry the current task_state */
        const char *ot = with_task ? old_task : task;
        json_object_set_new(su, "old_task_state", ot ? json_string(ot) : json_null());
        json_object_set_new(su, "new_task_state", task ? json_string(task) : json_null());
        json_object_set_new(d, "state_update",
                            notify_object("InstanceStateUpdatePayload", "1.0", su));
        json_t *ap = json_object();
        char now[21];
        iso8601_now(now);
        json_object_set_new(ap, "audit_period_beginning", json_string(now));
        json_object_set_new(ap, "audit_period_ending", json_string(now));
        json_object_set_new(d, "audit_period", notify_object("AuditPeriodPayload", "1.0", ap));
        json_object_set_new(d, "old_display_name", json_null());
        json_object_set_new(d, "tags", json_array());
        json_object_set_new(pl, "nova_object.name", json_string("InstanceUpdatePayload"));
        json_object_set_new(pl, "nova_object.version", json_string("2.1"));
        json_t *ctx = instance_ctx(row);
        rc |= notify_versioned("instance.update", "INFO", publisher, pl, ctx);
        json_decref(ctx);
    }
    if (changed && notify_legacy_enabled()) {
        json_t *p = notify_legacy_instance_payload(row);
        json_object_set_new(p, "old_state", old_state ? json_string(old_state) : json_null());
        json_object_set_new(p, "old_task_state", old_task ? json_string(old_task) : json_null());
        json_object_set_new(p, "new_task_state", task ? json_string(task) : json_null());
        json_object_set_new(p, "old_display_name", json_null());
        json_object_set_new(p, "bandwidth", json_object());
        json_object_set_new(p, "tags", json_array());
        json_t *ctx = instance_ctx(row);
        rc |= queue("notifications.info",
                    notify_message("compute.instance.update", "INFO", publisher, p, ctx));
        json_decref(ctx);
    }
    json_decref(row);
    return rc ? -1 : 0;
}

int notify_flavor(const char *flavorid, const char *event_type) {
    if (!notify_versioned_enabled()) return 0;
    const char *p[] = {flavorid};
    PGresult *r = NULL;
    if (db_query(&r,
                 "SELECT json_build_object('flavorid', f.flavorid, 'name', f.name, "
                 "'memory_mb', f.memory_mb, 'vcpus', f.vcpus, 'root_gb', f.root_gb, "
                 "'ephemeral_gb', f.ephemeral_gb, 'swap', f.swap, 'rxtx_factor', f.rxtx_factor, "
                 "'vcpu_weight', coalesce(f.vcpu_weight, 0), 'disabled', f.disabled, "
                 "'is_public', f.is_public, 'description', f.description, "
                 "'extra_specs', (SELECT coalesce(json_object_agg(e.key, e.value), '{}') "
                 "  FROM flavor_extra_specs e WHERE e.flavor_id = f.id), "
                 "'projects', (SELECT coalesce(json_agg(fp.project_id ORDER BY fp.id), '[]') "
                 "  FROM flavor_projects fp WHERE fp.flavor_id = f.id))::text "
                 "FROM flavors f WHERE f.flavorid = $1",
                 1, p) != DB_OK) {
        log_error("notify: cannot read flavor %s: %s", flavorid, db_errmsg());
        return -1;
    }
    json_t *f = PQntuples(r) ? json_loads(db_str(r, 0, 0), 0, NULL) : NULL;
    PQclear(r);
    if (!f) return -1;
    char pub[300];
    notify_publisher(pub, sizeof pub, "nova-api", NULL);
    json_t *ctx = json_object();
    json_object_set_new(ctx, "request_id",
                        ctx_request_id[0] ? json_string(ctx_request_id) : json_null());
    json_object_set_new(ctx, "global_request_id", global_id());
    int rc = notify_versioned(event_type, "INFO", pub, notify_flavor_payload(f), ctx);
    json_decref(ctx);
    json_decref(f);
    return rc;
}

static json_t *api_ctx(void) {
    json_t *ctx = json_object();
    json_object_set_new(ctx, "request_id",
                        ctx_request_id[0] ? json_string(ctx_request_id) : json_null());
    json_object_set_new(ctx, "global_request_id", global_id());
    return ctx;
}

json_t *notify_keypair_payload(const char *user_id, const char *name, const char *fingerprint,
                               const char *public_key, const char *type) {
    json_t *d = json_object();
    json_object_set_new(d, "user_id", user_id ? json_string(user_id) : json_null());
    json_object_set_new(d, "name", name ? json_string(name) : json_null());
    json_object_set_new(d, "fingerprint", fingerprint ? json_string(fingerprint) : json_null());
    json_object_set_new(d, "public_key", public_key ? json_string(public_key) : json_null());
    json_object_set_new(d, "type", type ? json_string(type) : json_string("ssh"));
    return notify_object("KeypairPayload", "1.0", d);
}

int notify_keypair(const char *action, const char *user_id, const char *name,
                   const char *fingerprint, const char *public_key, const char *type) {
    if (!notify_versioned_enabled()) return 0;
    char pub[300], ev[64];
    notify_publisher(pub, sizeof pub, "nova-api", NULL);
    json_t *ctx = api_ctx();
    int rc = 0;
    /* create's .start is sent before the key exists: no fingerprint nor key */
    int bare = !strcmp(action, "create");
    snprintf(ev, sizeof ev, "keypair.%s.start", action);
    rc |= notify_versioned(ev, "INFO", pub,
                           notify_keypair_payload(user_id, name, bare ? NULL : fingerprint,
                                                  bare ? NULL : public_key, type),
                           ctx);
    snprintf(ev, sizeof ev, "keypair.%s.end", action);
    rc |= notify_versioned(
        ev, "INFO", pub, notify_keypair_payload(user_id, name, fingerprint, public_key, type), ctx);
    json_decref(ctx);
    return rc ? -1 : 0;
}

int notify_server_group(const char *group_uuid, const char *event_type, const char *added) {
    if (!notify_versioned_enabled()) return 0;
    const char *p[] = {group_uuid};
    PGresult *r = NULL;
    if (db_query(
            &r,
            "SELECT json_build_object('uuid', g.uuid, 'name', g.name, "
            "'project_id', g.project_id, 'user_id', g.user_id, "
            "'policies', json_build_array(g.policy), 'policy', g.policy, "
            "'rules', coalesce(g.rules, '{}'), 'hosts', NULL, "
            "'members', (SELECT coalesce(json_agg(m.instance_uuid ORDER BY m.id), '[]') "
            "  FROM server_group_members m WHERE m.group_uuid = g.uuid AND m.deleted = 0))::text "
            "FROM server_groups g WHERE g.uuid = $1::uuid ORDER BY g.deleted LIMIT 1",
            1, p) != DB_OK) {
        log_error("notify: cannot read server group %s: %s", group_uuid, db_errmsg());
        return -1;
    }
    json_t *d = PQntuples(r) ? json_loads(db_str(r, 0, 0), 0, NULL) : NULL;
    PQclear(r);
    if (!d) return -1;
    /* add_member names the members added, as Nova's sample shows */
    if (added) json_object_set_new(d, "members", json_pack("[s]", added));
    char pub[300];
    notify_publisher(pub, sizeof pub, "nova-api", NULL);
    json_t *ctx = api_ctx();
    int rc = notify_versioned(event_type, "INFO", pub,
                              notify_object("ServerGroupPayload", "1.1", d), ctx);
    json_decref(ctx);
    return rc;
}

int notify_aggregate(const char *row_id, const char *action) {
    if (!notify_versioned_enabled()) return 0;
    const char *p[] = {row_id};
    PGresult *r = NULL;
    if (db_query(&r,
                 "SELECT json_build_object('id', a.id, 'uuid', a.uuid, 'name', a.name, "
                 "'hosts', (SELECT json_agg(h.host ORDER BY h.host) FROM aggregate_hosts h "
                 "  WHERE h.aggregate_id = a.id), "
                 "'metadata', (SELECT json_object_agg(m.key, m.value) FROM aggregate_metadata m "
                 "  WHERE m.aggregate_id = a.id))::text FROM aggregates a WHERE a.id = $1::int",
                 1, p) != DB_OK) {
        log_error("notify: cannot read aggregate %s: %s", row_id, db_errmsg());
        return -1;
    }
    json_t *d = PQntuples(r) ? json_loads(db_str(r, 0, 0), 0, NULL) : NULL;
    PQclear(r);
    if (!d) return -1;
    char pub[300], ev[64];
    notify_publisher(pub, sizeof pub, "nova-api", NULL);
    json_t *ctx = api_ctx();
    int rc = 0;
    snprintf(ev, sizeof ev, "aggregate.%s.start", action);
    rc |= notify_versioned(ev, "INFO", pub,
                           notify_object("AggregatePayload", "1.1", json_deep_copy(d)), ctx);
    snprintf(ev, sizeof ev, "aggregate.%s.end", action);
    rc |= notify_versioned(ev, "INFO", pub, notify_object("AggregatePayload", "1.1", d), ctx);
    json_decref(ctx);
    return rc ? -1 : 0;
}

int notify_service(const char *row_id) {
    if (!notify_versioned_enabled()) return 0;
    const char *p[] = {row_id};
    PGresult *r = NULL;
    if (db_query(
            &r,
            "SELECT json_build_object('host', s.host, 'binary', s.\"binary\", "
            "'topic', s.topic, 'report_count', s.report_count, 'disabled', s.disabled, "
            "'disabled_reason', s.disabled_reason, 'availability_zone', NULL, "
            "'last_seen_up', " TS(
                "s.last_seen_up") ", 'forced_down', s.forced_down, "
                                  "'version', s.version, 'uuid', s.uuid)::text FROM services s "
                                  "WHERE s.id = $1::int",
            1, p) != DB_OK) {
        log_error("notify: cannot read service %s: %s", row_id, db_errmsg());
        return -1;
    }
    json_t *d = PQntuples(r) ? json_loads(db_str(r, 0, 0), 0, NULL) : NULL;
    PQclear(r);
    if (!d) return -1;
    /* Nova's publisher is the service itself: "nova-compute:<host>" */
    char pub[300];
    notify_publisher(pub, sizeof pub, json_string_value(json_object_get(d, "binary")),
                     json_string_value(json_object_get(d, "host")));
    json_t *ctx = api_ctx();
    int rc = notify_versioned("service.update", "INFO", pub,
                              notify_object("ServiceStatusPayload", "1.1", d), ctx);
    json_decref(ctx);
    return rc;
}
