/* test_notify.c — the notification builders of lib/notify.c without a
 * database or a broker: the versioned payloads' objects and keys against
 * the key lists taken from Nova's samples (tests/clients/data/
 * notification_keys.json, also used by the consumer test), the legacy
 * payload's keys, oslo.messaging's message fields and the format switch. */
// clang-format off
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
// clang-format on
#include <regex.h>
#include <string.h>
#include <unistd.h>

#include "cnova.h"

static json_t *keys;

static int load_keys(void **state) {
    (void)state;
    char path[1024];
    const char *src = __FILE__;
    const char *slash = strrchr(src, '/');
    int dirlen = slash ? (int)(slash - src) : 0;
    snprintf(path, sizeof path, "%.*s%s../clients/data/notification_keys.json", dirlen, src,
             slash ? "/" : "");
    keys = json_load_file(path, 0, NULL);
    if (!keys) {
        char exe[900];
        ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
        if (n > 0) {
            exe[n] = '\0';
            for (int up = 0; up < 3; up++) {
                char *s = strrchr(exe, '/');
                if (s) *s = '\0';
            }
            snprintf(path, sizeof path, "%s/tests/clients/data/notification_keys.json", exe);
            keys = json_load_file(path, 0, NULL);
        }
    }
    if (!keys) print_message("cannot load %s\n", path);
    return keys ? 0 : -1;
}

static int free_keys(void **state) {
    (void)state;
    json_decref(keys);
    config_free();
    return 0;
}

/* An instance as notify.c's SQL returns it. */
static json_t *row(void) {
    return json_pack(
        "{s:s, s:s, s:s, s:s, s:n, s:s, s:s, s:{s:s, s:s, s:i, s:i, s:i, s:i, s:i, s:f, s:b, "
        "s:{}}, s:s, s:s, s:n, s:i, s:s, s:s, s:s, s:b, s:n, s:s, s:i, s:s, s:s, s:n, s:n, s:s, "
        "s:[{s:s, s:i, s:s, s:s, s:s}], s:[{s:i, s:b, s:s, s:n, s:s}], s:{s:s}, s:{s:s}, s:s, "
        "s:s}",
        "uuid", "178b0921-8f85-4257-88b6-2e743b5a975c", "user_id", "fake", "project_id",
        "6f70656e737461636b20342065766572", "display_name", "some-server", "display_description",
        "hostname", "some-server", "image_ref", "155d900f-4e14-4e4c-a73d-069cbf4541e6", "flavor",
        "flavorid", "1", "name", "m1.tiny", "vcpus", 1, "memory_mb", 512, "root_gb", 1,
        "ephemeral_gb", 0, "swap", 0, "rxtx_factor", 1.0, "is_public", 1, "extra_specs", "key_name",
        "my-key", "vm_state", "active", "task_state", "power_state", 1, "host", "compute", "node",
        "fake-mini", "availability_zone", "nova", "locked", 0, "locked_reason", "reservation_id",
        "r-npxv0e40", "progress", 0, "created_at", "2012-10-29T13:42:11Z", "launched_at",
        "2012-10-29T13:42:11Z", "terminated_at", "deleted_at", "updated_at", "2012-10-29T13:42:11Z",
        "ips", "address", "192.168.1.3", "version", 4, "mac", "fa:16:3e:4c:2c:30", "label",
        "private", "port_id", "ce531f90-199f-48c0-816c-13e38010b442", "bdms", "boot_index", 0,
        "delete_on_termination", 0, "device_name", "/dev/vdb", "tag", "volume_id",
        "a07f71dc-8151-4e7d-a0cc-cd24a3f11113", "metadata", "k", "v", "image_meta", "min_ram", "0",
        "instance_name", "instance-00000001", "legacy_created_at", "2012-10-29 13:42:11+00:00");
}

/* Whether obj's keys are exactly the object's key list (plus its base's). */
static void assert_object_keys(json_t *obj, const char *name) {
    json_t *o = json_object_get(json_object_get(keys, "objects"), name);
    assert_non_null(o);
    assert_string_equal(json_string_value(json_object_get(obj, "nova_object.name")), name);
    assert_string_equal(json_string_value(json_object_get(obj, "nova_object.namespace")), "nova");
    assert_string_equal(json_string_value(json_object_get(obj, "nova_object.version")),
                        json_string_value(json_object_get(o, "version")));
    json_t *data = json_object_get(obj, "nova_object.data");
    assert_true(json_is_object(data));
    size_t want = json_array_size(json_object_get(o, "keys"));
    const char *base = json_string_value(json_object_get(o, "extends"));
    json_t *lists[2] = {
        json_object_get(o, "keys"),
        base ? json_object_get(json_object_get(json_object_get(keys, "objects"), base), "keys")
             : NULL};
    if (lists[1]) want += json_array_size(lists[1]);
    json_t *without = json_object_get(o, "without"); /* base keys it does not have */
    want -= json_array_size(without);
    for (int l = 0; l < 2; l++) {
        size_t i, j;
        json_t *k, *w;
        json_array_foreach(lists[l], i, k) {
            bool skip = false;
            json_array_foreach(without, j, w) skip |= json_equal(w, k);
            if (skip) {
                assert_null(json_object_get(data, json_string_value(k)));
                continue;
            }
            if (!json_object_get(data, json_string_value(k)))
                print_message("%s lacks %s\n", name, json_string_value(k));
            assert_non_null(json_object_get(data, json_string_value(k)));
        }
    }
    assert_int_equal(json_object_size(data), want);
}

static void test_instance_action_payload(void **state) {
    (void)state;
    json_t *r = row();
    assert_non_null(r);
    json_t *p = notify_instance_payload(r, NULL, NULL);
    assert_object_keys(p, "InstanceActionPayload");
    json_t *d = json_object_get(p, "nova_object.data");
    assert_object_keys(json_object_get(d, "flavor"), "FlavorPayload");
    assert_int_equal(json_array_size(json_object_get(d, "ip_addresses")), 1);
    json_t *ip = json_array_get(json_object_get(d, "ip_addresses"), 0);
    assert_object_keys(ip, "IpPayload");
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(ip, "nova_object.data"), "device_name")),
        "tapce531f90-19");
    assert_string_equal(json_string_value(json_object_get(d, "power_state")), "running");
    assert_string_equal(json_string_value(json_object_get(d, "tenant_id")),
                        "6f70656e737461636b20342065766572");
    assert_true(json_is_null(json_object_get(d, "fault")));
    assert_true(json_is_null(json_object_get(d, "task_state")));
    assert_int_equal(json_array_size(json_object_get(d, "block_devices")), 1);
    json_decref(p);
    /* with a fault: an ExceptionPayload */
    json_t *f = json_pack("{s:s}", "message", "boom");
    p = notify_instance_payload(r, NULL, f);
    json_t *fo = json_object_get(json_object_get(p, "nova_object.data"), "fault");
    assert_string_equal(json_string_value(json_object_get(fo, "nova_object.name")),
                        "ExceptionPayload");
    assert_string_equal(json_string_value(json_object_get(json_object_get(fo, "nova_object.data"),
                                                          "exception_message")),
                        "boom");
    json_decref(f);
    json_decref(p);
    json_decref(r);
}

static void test_instance_create_payload(void **state) {
    (void)state;
    json_t *r = row();
    json_t *p = notify_instance_payload(r, "InstanceCreatePayload", NULL);
    assert_object_keys(p, "InstanceCreatePayload");
    json_t *kp =
        json_array_get(json_object_get(json_object_get(p, "nova_object.data"), "keypairs"), 0);
    assert_string_equal(json_string_value(json_object_get(kp, "nova_object.name")),
                        "KeypairPayload");
    json_decref(p);
    json_decref(r);
}

/* The payloads of the move, rebuild, volume and audit events. */
static void test_other_instance_payloads(void **state) {
    (void)state;
    json_t *r = row();
    json_object_set_new(r, "new_flavor",
                        json_pack("{s:s, s:s, s:i, s:i, s:i}", "flavorid", "2", "name", "m1.small",
                                  "vcpus", 1, "memory_mb", 2048, "root_gb", 20));
    json_t *p = notify_instance_payload(r, "InstanceActionResizePrepPayload", NULL);
    assert_object_keys(p, "InstanceActionResizePrepPayload");
    json_t *nf = json_object_get(json_object_get(p, "nova_object.data"), "new_flavor");
    assert_object_keys(nf, "FlavorPayload");
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(nf, "nova_object.data"), "flavorid")),
        "2");
    json_decref(p);
    p = notify_instance_payload(r, "InstanceActionRebuildPayload", NULL);
    assert_object_keys(p, "InstanceActionRebuildPayload");
    json_decref(p);
    p = notify_instance_payload(r, "InstanceActionVolumePayload", NULL);
    assert_object_keys(p, "InstanceActionVolumePayload");
    json_decref(p);
    p = notify_instance_payload(r, "InstanceExistsPayload", NULL);
    assert_object_keys(p, "InstanceExistsPayload");
    json_decref(p);
    json_decref(r);
}

static void test_legacy_payload(void **state) {
    (void)state;
    json_t *r = row();
    json_t *p = notify_legacy_instance_payload(r);
    size_t i;
    json_t *k;
    json_array_foreach(json_object_get(keys, "legacy_instance_keys"), i, k)
        assert_non_null(json_object_get(p, json_string_value(k)));
    assert_int_equal(json_integer_value(json_object_get(p, "disk_gb")), 1);
    assert_string_equal(json_string_value(json_object_get(p, "instance_type")), "m1.tiny");
    /* progress 0 is "" in Nova's legacy payload; deleted_at unset is "" */
    assert_string_equal(json_string_value(json_object_get(p, "progress")), "");
    assert_string_equal(json_string_value(json_object_get(p, "deleted_at")), "");
    json_t *ip = json_array_get(json_object_get(p, "fixed_ips"), 0);
    assert_string_equal(json_string_value(json_object_get(ip, "vif_mac")), "fa:16:3e:4c:2c:30");
    json_decref(p);
    json_decref(r);
}

static void test_message(void **state) {
    (void)state;
    json_t *ctx =
        json_pack("{s:s, s:s, s:s}", "request_id", "req-1", "project_id", "p", "user_id", "u");
    json_t *m =
        notify_message("instance.create.end", "INFO", "nova-compute:compute", json_object(), ctx);
    size_t i;
    json_t *k;
    json_array_foreach(json_object_get(keys, "envelope_message"), i, k)
        assert_non_null(json_object_get(m, json_string_value(k)));
    json_array_foreach(json_object_get(keys, "context"), i, k)
        assert_non_null(json_object_get(m, json_string_value(k)));
    assert_true(uuid_valid(json_string_value(json_object_get(m, "message_id"))));
    regex_t re;
    assert_int_equal(regcomp(&re,
                             "^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{6}$",
                             REG_EXTENDED | REG_NOSUB),
                     0);
    assert_int_equal(regexec(&re, json_string_value(json_object_get(m, "timestamp")), 0, NULL, 0),
                     0);
    regfree(&re);
    json_decref(m);
    json_decref(ctx);
    char pub[64];
    notify_publisher(pub, sizeof pub, "nova-compute", "host1");
    assert_string_equal(pub, "nova-compute:host1");
}

static void test_format_and_states(void **state) {
    (void)state;
    assert_true(notify_versioned_enabled() && notify_legacy_enabled()); /* both by default */
    config_set("notifications", "notification_format", "versioned");
    assert_true(notify_versioned_enabled() && !notify_legacy_enabled());
    config_set("notifications", "notification_format", "unversioned");
    assert_true(!notify_versioned_enabled() && notify_legacy_enabled());
    config_set("notifications", "notification_format", "both");
    config_set("oslo_messaging_notifications", "driver", "noop");
    assert_true(!notify_versioned_enabled() && !notify_legacy_enabled());
    config_set("oslo_messaging_notifications", "driver", "messagingv2");
    assert_true(notify_versioned_enabled() && notify_legacy_enabled());
    assert_string_equal(notify_power_state_name(0), "pending");
    assert_string_equal(notify_power_state_name(4), "shutdown");
    assert_string_equal(notify_power_state_name(7), "suspended");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_instance_action_payload),
        cmocka_unit_test(test_instance_create_payload),
        cmocka_unit_test(test_other_instance_payloads),
        cmocka_unit_test(test_legacy_payload),
        cmocka_unit_test(test_message),
        cmocka_unit_test(test_format_and_states),
    };
    return cmocka_run_group_tests(tests, load_keys, free_keys);
}
