/* test_metadata.c — the metadata tree of one instance document: path
 * normalisation, the EC2 listing rules, user_data decoding, the config
 * drive's file list, and the proxy signature (RFC 4231 test case 2). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "cnova.h"
#include "metadata.h"

static json_t *doc(void) {
    return json_pack(
        "{s:s, s:i, s:s, s:s, s:s, s:i, s:s, s:s, s:s, s:s, s:s, s:s, s:s,"
        " s:{s:s}, s:[s], s:[{s:s, s:s, s:s, s:s}], s:n}",
        "uuid", "8e9f0a1b-2c3d-4e5f-8a9b-0c1d2e3f4a5b", "id", 42, "name", "vm 1", "hostname",
        "vm-1", "project_id", "p", "launch_index", 0, "availability_zone", "nova", "reservation_id",
        "r-1", "key_name", "k", "key_data", "ssh-ed25519 AAA", "user_data", "aGk=", "image_ref",
        "70a599e0-31e7-49b7-b260-868f441e862b", "flavor_name", "m1.tiny", "meta", "a", "b",
        "security_groups", "default", "nics", "port_id", "0123456789abcdef", "mac",
        "fa:16:3e:00:00:01", "ip", "10.0.0.5", "network_id", "n1", "floating_ip");
}

static void lookup_is(json_t *d, const char *path, const char *want) {
    struct metadata_item it = {0};
    assert_int_equal(metadata_lookup(d, path, "novalocal", &it), METADATA_OK);
    assert_int_equal(it.len, strlen(want));
    assert_memory_equal(it.data, want, it.len);
    metadata_item_free(&it);
}

static void paths_are_normalised(void **state) {
    (void)state;
    json_t *d = doc();
    lookup_is(d, "/latest/meta-data/instance-id", "i-0000002a");
    lookup_is(d, "//latest/./meta-data//local-ipv4/", "10.0.0.5");
    lookup_is(d, "/latest/meta-data/x/../hostname", "vm-1.novalocal");
    lookup_is(d, "/ec2/2009-04-04/meta-data/placement/availability-zone", "nova");
    lookup_is(d, "/latest", "meta-data/\nuser-data");
    struct metadata_item it = {0};
    assert_int_equal(metadata_lookup(d, "/latest/meta-data/nope", "", &it), METADATA_NOT_FOUND);
    assert_int_equal(metadata_lookup(d, "/openstack/2013-04-04/password", "", &it),
                     METADATA_PASSWORD);
    assert_int_equal(metadata_lookup(d, "/openstack/2012-08-10/password", "", &it),
                     METADATA_NOT_FOUND);
    json_decref(d);
}

static void ec2_listing_and_keys(void **state) {
    (void)state;
    json_t *d = doc();
    lookup_is(d, "/latest/meta-data/public-keys", "0=k");
    lookup_is(d, "/latest/meta-data/public-keys/0", "openssh-key");
    lookup_is(d, "/latest/meta-data/public-keys/0/openssh-key", "ssh-ed25519 AAA");
    lookup_is(d, "/latest/meta-data/security-groups", "default");
    lookup_is(d, "/1.0/meta-data/ami-id", "ami-70a599e0");
    lookup_is(d, "/latest/user-data", "hi");
    lookup_is(d, "/openstack/latest/user_data", "hi");
    json_decref(d);
}

struct files {
    int n, has_md, has_ud, has_net_old;
};

static int count(const char *path, const char *data, size_t len, void *arg) {
    struct files *f = arg;
    f->n++;
    if (!strcmp(path, "openstack/latest/meta_data.json")) {
        json_t *m = json_loadb(data, len, 0, NULL);
        assert_non_null(m);
        assert_string_equal(json_string_value(json_object_get(m, "hostname")), "vm-1.novalocal");
        json_decref(m);
        f->has_md = 1;
    }
    if (!strcmp(path, "ec2/latest/user-data")) f->has_ud = len == 2 && !memcmp(data, "hi", 2);
    if (!strcmp(path, "openstack/2013-04-04/network_data.json")) f->has_net_old = 1;
    assert_null(strstr(path, "password"));
    return 0;
}

static void config_drive_files(void **state) {
    (void)state;
    json_t *d = doc();
    struct files f = {0};
    assert_int_equal(metadata_files(d, "novalocal", count, &f), 0);
    assert_true(f.has_md);
    assert_true(f.has_ud);
    assert_false(f.has_net_old); /* network_data.json only from 2015-10-15 */
    /* ec2: 2 versions x 2 files; openstack (10 versions + latest): meta_data
     * and user_data in all 11, vendor_data in 9, network_data in 8,
     * vendor_data2 in 6 */
    assert_int_equal(f.n, 4 + 11 * 2 + 9 + 8 + 6);
    json_decref(d);
}

static void signature_is_hmac_sha256(void **state) {
    (void)state;
    char sig[65];
    metadata_sign("Jefe", "what do ya want for nothing?", sig);
    assert_string_equal(sig, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(paths_are_normalised),
        cmocka_unit_test(ec2_listing_and_keys),
        cmocka_unit_test(config_drive_files),
        cmocka_unit_test(signature_is_hmac_sha256),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
