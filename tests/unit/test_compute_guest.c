/* test_compute_guest.c — the pure parts of a compute host's guests: the
 * image cache's names and an instance folder's layout (disks.c), the domain
 * XML for libvirt's test driver and for QEMU (domxml.c), and the console
 * log's tail (lifecycle.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

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
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
