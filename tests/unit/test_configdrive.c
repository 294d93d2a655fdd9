/* test_configdrive.c — the config drive (an ISO 9660 "config-2" volume
 * read back with isoinfo) and the helpers it runs on: run_argv (exit
 * status, captured output, the time limit) and rm_tree. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cnova.h"
#include "compute/configdrive.h"

static void run_argv_reports(void **state) {
    (void)state;
    char err[64];
    const char *ok[] = {"true", NULL};
    assert_int_equal(run_argv(ok, 5, err, sizeof err), 0);
    const char *fails[] = {"sh", "-c", "echo first; echo the-end >&2; exit 3", NULL};
    assert_int_equal(run_argv(fails, 5, err, sizeof err), -1);
    assert_non_null(strstr(err, "the-end"));
    const char *missing[] = {"/nonexistent/program", NULL};
    assert_int_equal(run_argv(missing, 5, err, sizeof err), -1);
    assert_non_null(strstr(err, "cannot run"));
    const char *slow[] = {"sleep", "30", NULL};
    assert_int_equal(run_argv(slow, 1, err, sizeof err), -1);
    assert_non_null(strstr(err, "killed"));
    /* a long output keeps its end */
    const char *loud[] = {"sh", "-c",
                          "i=0; while [ $i -lt 500 ]; do echo line$i; i=$((i+1)); done; "
                          "echo LAST; exit 1",
                          NULL};
    assert_int_equal(run_argv(loud, 5, err, sizeof err), -1);
    assert_non_null(strstr(err, "LAST"));
}

static void rm_tree_removes_all(void **state) {
    (void)state;
    char dir[] = "/tmp/cnova-rmtree-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char p[256];
    snprintf(p, sizeof p, "%s/a", dir);
    assert_int_equal(mkdir(p, 0700), 0);
    snprintf(p, sizeof p, "%s/a/f", dir);
    fclose(fopen(p, "w"));
    assert_int_equal(rm_tree(dir), 0);
    assert_int_not_equal(access(dir, F_OK), 0);
    assert_int_equal(rm_tree(dir), 0); /* gone already: fine */
}

/* isoinfo's view of one file of the drive (malloc'd). */
static char *iso_file(const char *iso, const char *path) {
    char cmd[512];
    snprintf(cmd, sizeof cmd, "isoinfo -R -i '%s' -x '%s'", iso, path);
    FILE *f = popen(cmd, "r");
    char *buf = calloc(1, 65536);
    size_t n = fread(buf, 1, 65535, f);
    buf[n] = 0;
    pclose(f);
    return buf;
}

static void drive_holds_the_tree(void **state) {
    (void)state;
    if (system("command -v genisoimage >/dev/null && command -v isoinfo >/dev/null")) {
        skip();
    }
    char dir[] = "/tmp/cnova-cd-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char iso[256];
    snprintf(iso, sizeof iso, "%s/disk.config", dir);
    json_t *doc =
        json_pack("{s:s, s:i, s:s, s:s, s:s, s:i, s:s, s:s, s:s, s:[], s:[], s:{}}", "uuid",
                  "8e9f0a1b-2c3d-4e5f-8a9b-0c1d2e3f4a5b", "id", 7, "name", "vm", "hostname", "vm",
                  "project_id", "p", "launch_index", 0, "availability_zone", "nova", "key_name",
                  "k", "key_data", "ssh-ed25519 AAA k", "security_groups", "nics", "meta");
    json_object_set_new(doc, "user_data", json_string("IyEvYmluL3NoCmVjaG8gaGkK"));
    const char *why = NULL;
    assert_int_equal(configdrive_build(doc, "novalocal", iso, &why), 0);
    char cmd[512];
    snprintf(cmd, sizeof cmd, "isoinfo -d -i '%s' | grep -q '^Volume id: config-2$'", iso);
    assert_int_equal(system(cmd), 0);
    char *md = iso_file(iso, "/openstack/latest/meta_data.json");
    json_t *m = json_loads(md, 0, NULL);
    assert_non_null(m);
    assert_string_equal(json_string_value(json_object_get(m, "hostname")), "vm.novalocal");
    assert_string_equal(json_string_value(json_object_get(json_object_get(m, "public_keys"), "k")),
                        "ssh-ed25519 AAA k");
    json_decref(m);
    free(md);
    char *ud = iso_file(iso, "/openstack/latest/user_data");
    assert_string_equal(ud, "#!/bin/sh\necho hi\n");
    free(ud);
    char *ec2 = iso_file(iso, "/ec2/latest/meta-data.json");
    assert_non_null(strstr(ec2, "\"instance-id\": \"i-00000007\""));
    free(ec2);
    /* only the ISO is left beside it */
    char left[512];
    snprintf(left, sizeof left, "%s.d", iso);
    assert_int_not_equal(access(left, F_OK), 0);
    json_decref(doc);
    assert_int_equal(rm_tree(dir), 0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(run_argv_reports),
        cmocka_unit_test(rm_tree_removes_all),
        cmocka_unit_test(drive_holds_the_tree),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
