/* test_compute_guest.c — the pure parts of a compute host's guests: the
 * image cache's names and an instance folder's layout (disks.c), the domain
 * XML for libvirt's test driver and for QEMU (domxml.c), and the console
 * log's tail (lifecycle.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cnova.h"
#include "compute/compute_actions.h"
#include "compute/disks.h"
#include "compute/domxml.h"

#define UUID "5f0b6c1e-2d3a-4b7c-8e9f-0a1b2c3d4e5f"
#define INST "/srv/inst"

static struct virt_spec spec(void) {
    struct virt_spec v = {
        .uuid = UUID,
        .name = "instance-0000002a",
        .display_name = "web <1> & 'two'",
        .flavor_name = "m1.tiny",
        .image_ref = "80292edd-18c0-4446-9fa4-994b39a2dc15",
        .vcpus = 1,
        .memory_mb = 512,
        .root_gb = 1,
    };
    return v;
}

static void contains(const char *hay, const char *needle) {
    if (!strstr(hay, needle)) fail_msg("%s\n  has no %s", hay, needle);
}

static void lacks(const char *hay, const char *needle) {
    if (strstr(hay, needle)) fail_msg("%s\n  has %s", hay, needle);
}

static void base_name_is_the_sha1_of_the_image_id(void **state) {
    (void)state;
    char name[41];
    disks_base_name("80292edd-18c0-4446-9fa4-994b39a2dc15", name);
    assert_string_equal(name, "0dc560b911f1693af9bb448b5b341e5e1f00af80");
}

static void layout_follows_flavor_and_image(void **state) {
    (void)state;
    struct virt_spec v = spec();
    struct disks_layout l;
    assert_int_equal(disks_layout_of(INST, &v, &l), 0);
    assert_string_equal(l.dir, INST "/" UUID);
    assert_string_equal(l.root, INST "/" UUID "/disk");
    assert_string_equal(l.console, INST "/" UUID "/console.log");
    assert_string_equal(l.eph, "");
    assert_string_equal(l.swap, "");
    assert_string_equal(l.kernel, "");
    v.ephemeral_gb = 2;
    v.swap_mb = 256;
    v.kernel_id = "k";
    v.ramdisk_id = "";
    assert_int_equal(disks_layout_of(INST, &v, &l), 0);
    assert_string_equal(l.eph, INST "/" UUID "/disk.eph0");
    assert_string_equal(l.swap, INST "/" UUID "/disk.swap");
    assert_string_equal(l.kernel, INST "/" UUID "/kernel");
    assert_string_equal(l.ramdisk, "");
    v.image_ref = ""; /* volume-backed: no local root disk */
    assert_int_equal(disks_layout_of(INST, &v, &l), 0);
    assert_string_equal(l.root, "");
}

static void layout_refuses_what_is_not_a_uuid(void **state) {
    (void)state;
    struct virt_spec v = spec();
    struct disks_layout l;
    v.uuid = "../../etc";
    assert_int_equal(disks_layout_of(INST, &v, &l), -1);
    v.uuid = NULL;
    assert_int_equal(disks_layout_of(INST, &v, &l), -1);
    assert_int_equal(disks_remove(INST, "../../etc"), -1);
}

static void test_driver_domain_has_no_files(void **state) {
    (void)state;
    struct virt_spec v = spec();
    struct domxml_opts o = {.type = "test"};
    char *xml = domxml_domain(&v, &o);
    contains(xml, "<domain type='test'><name>instance-0000002a</name><uuid>" UUID "</uuid>");
    contains(xml, "<memory unit='MiB'>512</memory><vcpu>1</vcpu>");
    contains(xml, "<nova:name>web &lt;1&gt; &amp; &apos;two&apos;</nova:name>");
    contains(xml, "<os><type>hvm</type></os>");
    /* VNC on a port fixed from the instance id: 5900 + 2 * 0x2a */
    contains(xml, "<graphics type='vnc' port='5984' autoport='no' listen='127.0.0.1'>");
    lacks(xml, "<disk");
    lacks(xml, "<serial");
    lacks(xml, "<kernel>");
    free(xml);
}

static void qemu_domain_boots_the_kernel_with_its_disks_and_console(void **state) {
    (void)state;
    struct virt_spec v = spec();
    v.kernel_id = "k";
    v.ramdisk_id = "r";
    v.ephemeral_gb = 1;
    v.swap_mb = 128;
    struct disks_layout l;
    assert_int_equal(disks_layout_of(INST, &v, &l), 0);
    struct domxml_opts o = {.type = "qemu", .files = &l};
    char *xml = domxml_domain(&v, &o);
    contains(xml, "<domain type='qemu'>");
    contains(xml, ">hvm</type><kernel>" INST "/" UUID "/kernel</kernel><initrd>" INST "/" UUID
                  "/ramdisk</initrd><cmdline>root=/dev/vda console=tty0 console=ttyS0</cmdline>");
    contains(xml, "<features><acpi/><apic/></features>");
    lacks(xml, "<cpu");
    contains(xml, "<driver name='qemu' type='qcow2'/><source file='" INST "/" UUID
                  "/disk'/><target dev='vda' bus='virtio'/>");
    contains(xml, "/disk.eph0'/><target dev='vdb' bus='virtio'/>");
    contains(xml, "/disk.swap'/><target dev='vdc' bus='virtio'/>");
    contains(xml, "<serial type='file'><source path='" INST "/" UUID
                  "/console.log' append='on'/><target port='0'/></serial>");
    contains(xml, "<console type='file'><source path='" INST "/" UUID "/console.log'");
    contains(xml, "<graphics type='vnc' autoport='yes'");
    free(xml);

    /* the image's own command line, escaped; KVM gets the host's CPU */
    v.os_command_line = "console=ttyS0 x=<&>";
    o.type = "kvm";
    xml = domxml_domain(&v, &o);
    contains(xml, "<domain type='kvm'>");
    contains(xml, "<cmdline>console=ttyS0 x=&lt;&amp;&gt;</cmdline>");
    contains(xml, "<cpu mode='host-model'/>");
    free(xml);

    /* no kernel: boot from the root disk */
    v.kernel_id = NULL;
    assert_int_equal(disks_layout_of(INST, &v, &l), 0);
    xml = domxml_domain(&v, &o);
    contains(xml, "<boot dev='hd'/></os>");
    lacks(xml, "<kernel>");
    free(xml);
}

/* Nova's rescue: the rescue image's disk and kernel (*.rescue), the
 * guest's own root disk second, no ephemeral or swap disk. */
static void rescue_boots_the_rescue_disk_with_the_guests_own_second(void **state) {
    (void)state;
    struct virt_spec v = spec();
    v.kernel_id = "k";
    v.ephemeral_gb = 1;
    v.swap_mb = 128;
    v.rescue = 1;
    struct disks_layout l;
    assert_int_equal(disks_layout_of(INST, &v, &l), 0);
    assert_string_equal(l.root, INST "/" UUID "/disk.rescue");
    assert_string_equal(l.rescued, INST "/" UUID "/disk");
    assert_string_equal(l.kernel, INST "/" UUID "/kernel.rescue");
    assert_string_equal(l.eph, "");
    assert_string_equal(l.swap, "");
    struct domxml_opts o = {.type = "qemu", .files = &l};
    char *xml = domxml_domain(&v, &o);
    contains(xml, "/disk.rescue'/><target dev='vda' bus='virtio'/>");
    contains(xml, "/disk'/><target dev='vdb' bus='virtio'/>");
    contains(xml, "<kernel>" INST "/" UUID "/kernel.rescue</kernel>");
    lacks(xml, "disk.eph0");
    free(xml);
}

static void interfaces_plug_into_the_bridge_or_are_left_out(void **state) {
    (void)state;
    struct virt_spec v = spec();
    v.nics[0] = (struct virt_nic){.port_id = "0123456789abcdef",
                                  .mac = "fa:16:3e:00:00:01",
                                  .network_id = "feedbeef-0000-4000-8000-00000000cafe",
                                  .mtu = 1450};
    v.n_nics = 1;
    /* a port joins its network's bridge (hostnet's brq<id[:11]>) */
    char br[64];
    assert_string_equal(domxml_bridge(&v.nics[0], br, sizeof br), "brqfeedbeef-00");
    struct domxml_opts o = {.type = "test"};
    char *xml = domxml_domain(&v, &o);
    contains(xml, "<interface type='bridge'><mac address='fa:16:3e:00:00:01'/>"
                  "<source bridge='brqfeedbeef-00'/><target dev='tap0123456789a'/>"
                  "<model type='virtio'/><mtu size='1450'/></interface>");
    free(xml);
    /* one without a network: [compute] bridge */
    config_set("compute", "bridge", "cnova-no-such-bridge");
    v.nics[0].network_id = NULL;
    assert_string_equal(domxml_bridge(&v.nics[0], br, sizeof br), "cnova-no-such-bridge");
    /* a QEMU host without that bridge still boots the guest, unplugged */
    o.skip_missing_bridges = true;
    xml = domxml_domain(&v, &o);
    lacks(xml, "<interface");
    free(xml);
    config_free();
}

/* The config drive: a read-only cdrom, the last device of the IDE bus. */
static void config_drive_is_the_last_ide_cdrom(void **state) {
    (void)state;
    struct virt_spec v = spec();
    v.config_drive = 1;
    struct disks_layout l;
    assert_int_equal(disks_layout_of(INST, &v, &l), 0);
    assert_non_null(strstr(l.config, "/disk.config"));
    struct domxml_opts o = {.type = "qemu", .files = &l};
    char *xml = domxml_domain(&v, &o);
    contains(xml, "<disk type='file' device='cdrom'><driver name='qemu' type='raw'/>");
    contains(xml, "disk.config'/><target dev='hdd' bus='ide'/><readonly/></disk>");
    free(xml);
    v.config_drive = 0;
    assert_int_equal(disks_layout_of(INST, &v, &l), 0);
    assert_string_equal(l.config, "");
}

static void tail_is_novas(void **state) {
    (void)state;
    const char *log = "a\nb\nc\n";
    assert_string_equal(compute_tail_lines(log, 0), "");
    assert_string_equal(compute_tail_lines(log, 1), ""); /* after the last newline */
    assert_string_equal(compute_tail_lines(log, 2), "c\n");
    assert_string_equal(compute_tail_lines(log, 3), "b\nc\n");
    assert_string_equal(compute_tail_lines(log, 99), log);
    assert_string_equal(compute_tail_lines(log, -1), "b\nc\n");
    assert_string_equal(compute_tail_lines(log, -9), "");
    assert_string_equal(compute_tail_lines("no newline", 1), "no newline");
    assert_string_equal(compute_tail_lines("", 5), "");
}

/* ---- the image cache manager ---- */

static void put(const char *dir, const char *name, const void *data, size_t n, time_t age) {
    char path[600];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, n, f), n);
    fclose(f);
    struct timespec t[2] = {{time(NULL) - age, 0}, {time(NULL) - age, 0}};
    assert_int_equal(utimensat(AT_FDCWD, path, t, 0), 0);
}

/* A qcow2 header naming `backing` (what qemu-img create -b writes). */
static void put_overlay(const char *dir, const char *name, const char *backing) {
    unsigned char h[512] = {'Q', 'F', 'I', 0xfb, 0, 0, 0, 3};
    h[15] = 104; /* backing_file_offset */
    h[19] = (unsigned char)strlen(backing);
    memcpy(h + 104, backing, strlen(backing));
    put(dir, name, h, sizeof h, 0);
}

static long age_of(const char *dir, const char *name) {
    char path[600];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    struct stat st;
    return stat(path, &st) == 0 ? (long)(time(NULL) - st.st_mtime) : -1;
}

static void cache_manager_removes_only_old_images_no_guest_uses(void **state) {
    (void)state;
    char top[] = "/tmp/cnova-cache-XXXXXX", base[256], guest[256], kept[256], path[600];
    assert_non_null(mkdtemp(top));
    snprintf(base, sizeof base, "%s/_base", top);
    snprintf(guest, sizeof guest, "%s/" UUID, top);
    snprintf(kept, sizeof kept, "%s/" UUID "_resize", top);
    assert_int_equal(mkdir(base, 0755), 0);
    assert_int_equal(mkdir(guest, 0755), 0);
    assert_int_equal(mkdir(kept, 0755), 0);
    const char *root = "1111111111111111111111111111111111111111";   /* a guest's overlay */
    const char *old = "2222222222222222222222222222222222222222";    /* a resize's kept disk */
    const char *kernel = "3333333333333333333333333333333333333333"; /* hard-linked */
    const char *unused = "4444444444444444444444444444444444444444"; /* two days unused */
    const char *fresh = "5555555555555555555555555555555555555555";  /* unused an hour */
    const time_t day = 86400;
    put(base, root, "r", 1, 2 * day);
    put(base, old, "o", 1, 2 * day);
    put(base, kernel, "k", 1, 2 * day);
    put(base, unused, "u", 1, 2 * day);
    put(base, fresh, "f", 1, 3600);
    put(base, "4444444444444444444444444444444444444444.part", "p", 1, 2 * day);
    snprintf(path, sizeof path, "%s/%s", base, root);
    put_overlay(guest, "disk", path);
    snprintf(path, sizeof path, "%s/%s", base, old);
    put_overlay(kept, "disk", path);
    put(guest, "console.log", "QFI", 3, 0); /* no qcow2: too short */
    char from[600], to[600];
    snprintf(from, sizeof from, "%s/%s", base, kernel);
    snprintf(to, sizeof to, "%s/kernel", guest);
    assert_int_equal(link(from, to), 0);

    assert_int_equal(disks_prune_cache(top, day), 1);
    assert_int_equal(age_of(base, unused), -1);
    assert_true(age_of(base, fresh) >= 3600); /* unused, but not long enough */
    assert_true(age_of(base, "4444444444444444444444444444444444444444.part") >= 0);
    /* in use: kept, and their age starts again */
    assert_true(age_of(base, root) >= 0 && age_of(base, root) < 60);
    assert_true(age_of(base, old) >= 0 && age_of(base, old) < 60);
    assert_true(age_of(base, kernel) >= 0 && age_of(base, kernel) < 60);
    /* the guest gone, its images are unused from now on: not yet old */
    assert_int_equal(disks_remove(top, UUID), 0);
    assert_int_equal(disks_prune_cache(top, day), 0);
    assert_int_equal(disks_prune_cache(top, 0), 3); /* root, kernel, fresh */
    assert_true(age_of(base, old) >= 0);            /* the resize's kept disk still uses it */
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf %s", top);
    assert_int_equal(system(cmd), 0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(base_name_is_the_sha1_of_the_image_id),
        cmocka_unit_test(layout_follows_flavor_and_image),
        cmocka_unit_test(layout_refuses_what_is_not_a_uuid),
        cmocka_unit_test(test_driver_domain_has_no_files),
        cmocka_unit_test(qemu_domain_boots_the_kernel_with_its_disks_and_console),
        cmocka_unit_test(rescue_boots_the_rescue_disk_with_the_guests_own_second),
        cmocka_unit_test(interfaces_plug_into_the_bridge_or_are_left_out),
        cmocka_unit_test(config_drive_is_the_last_ide_cdrom),
        cmocka_unit_test(tail_is_novas),
        cmocka_unit_test(cache_manager_removes_only_old_images_no_guest_uses),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
