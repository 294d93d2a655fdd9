/* test_image_parsing.c — the pure parsing of the image service: Glance's
 * JSON pointers for image PATCH (json_pointer.c) and the disk format of
 * uploaded data from its header, with the images refused because they
 * name other files (image_format.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "image_format.h"
#include "json_pointer.h"

static void pointers_decode(void **state) {
    (void)state;
    struct json_pointer p;
    char err[256];
    assert_int_equal(json_pointer_parse("/name", &p, err, sizeof err), 0);
    assert_int_equal(p.n, 1);
    assert_string_equal(p.tok[0], "name");
    json_pointer_free(&p);
    assert_int_equal(json_pointer_parse("/a~1b~0c", &p, err, sizeof err), 0);
    assert_string_equal(p.tok[0], "a/b~c");
    json_pointer_free(&p);
    assert_int_equal(json_pointer_parse("/ spaced ", &p, err, sizeof err), 0);
    assert_string_equal(p.tok[0], "spaced");
    json_pointer_free(&p);
    assert_int_equal(json_pointer_parse("/locations/0", &p, err, sizeof err), 0);
    assert_int_equal(p.n, 2);
    assert_string_equal(p.tok[1], "0");
    json_pointer_free(&p);
    /* deeper than kept: counted, not kept */
    assert_int_equal(json_pointer_parse("/a/b/c/d/e/f", &p, err, sizeof err), 0);
    assert_int_equal(p.n, 6);
    json_pointer_free(&p);
}

static void pointers_refused_with_glance_messages(void **state) {
    (void)state;
    static const struct {
        const char *pointer, *message;
    } bad[] = {
        {"name", "Pointer `name` does not start with \"/\"."},
        {"", "Pointer `` does not start with \"/\"."},
        {"/a//b", "Pointer `/a//b` contains adjacent \"/\"."},
        {"/a/ /b", "Pointer `/a/ /b` contains adjacent \"/\"."},
        {"/a/", "Pointer `/a/` end with \"/\"."},
        {"/a~2", "Pointer `/a~2` contains \"~\" not part of a recognized escape sequence."},
        {"/a~", "Pointer `/a~` contains \"~\" not part of a recognized escape sequence."},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct json_pointer p;
        char err[256] = "";
        assert_int_equal(json_pointer_parse(bad[i].pointer, &p, err, sizeof err), -1);
        assert_string_equal(err, bad[i].message);
        assert_int_equal(p.n, 0);
    }
}

/* A header buffer with `magic` at `off`. */
static unsigned char *header(size_t off, const void *magic, size_t len) {
    unsigned char *h = calloc(1, IMAGE_FORMAT_HEAD);
    memcpy(h + off, magic, len);
    return h;
}

static void put_be(unsigned char *p, uint64_t v, int bytes) {
    for (int i = bytes - 1; i >= 0; i--, v >>= 8)
        p[i] = (unsigned char)(v & 0xff);
}

static void formats_detected(void **state) {
    (void)state;
    static const struct {
        size_t off;
        const char *magic;
        const char *name, *driver;
    } cases[] = {
        {0, "vhdxfile", "vhdx", "vhdx"},
        {0, "KDMV", "vmdk", "vmdk"},
        {0, "conectix", "vhd", "vpc"},
        {0x40, "\x7f\x10\xda\xbe", "vdi", "vdi"},
        {0, "WithoutFreeSpace", "ploop", "parallels"},
        {0x8001, "CD001", "iso", "raw"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        unsigned char *h = header(cases[i].off, cases[i].magic, strlen(cases[i].magic));
        struct image_format f = image_format_detect(h, IMAGE_FORMAT_HEAD);
        assert_string_equal(f.name, cases[i].name);
        assert_string_equal(f.qemu_driver, cases[i].driver);
        assert_null(f.refusal);
        free(h);
    }
    /* zeros, text, and a file shorter than the ISO magic's offset are raw */
    unsigned char *h = calloc(1, IMAGE_FORMAT_HEAD);
    assert_string_equal(image_format_detect(h, IMAGE_FORMAT_HEAD).name, "raw");
    assert_string_equal(image_format_detect((const unsigned char *)"hello", 5).name, "raw");
    assert_string_equal(image_format_detect(h, 0).name, "raw");
    free(h);
    h = header(0x8001, "CD001", 5);
    assert_string_equal(image_format_detect(h, 0x8003).name, "raw");
    free(h);
}

static void qcow2_headers(void **state) {
    (void)state;
    unsigned char *h = header(0, "QFI\xfb", 4);
    put_be(h + 4, 3, 4);
    struct image_format f = image_format_detect(h, IMAGE_FORMAT_HEAD);
    assert_string_equal(f.name, "qcow2");
    assert_null(f.refusal);
    put_be(h + 4, 2, 4);
    assert_null(image_format_detect(h, IMAGE_FORMAT_HEAD).refusal);
    put_be(h + 8, 0x10000, 8); /* a backing file name at offset 64 KiB */
    assert_non_null(strstr(image_format_detect(h, IMAGE_FORMAT_HEAD).refusal, "backing file"));
    put_be(h + 8, 0, 8);
    put_be(h + 4, 3, 4);
    put_be(h + 72, 4, 8); /* incompatible feature: external data file */
    assert_non_null(strstr(image_format_detect(h, IMAGE_FORMAT_HEAD).refusal, "data file"));
    put_be(h + 4, 1, 4); /* qcow version 1 */
    assert_non_null(image_format_detect(h, IMAGE_FORMAT_HEAD).refusal);
    /* a header cut short is refused, never read past its end */
    put_be(h + 4, 3, 4);
    put_be(h + 72, 0, 8);
    assert_non_null(image_format_detect(h, 40).refusal);
    free(h);
}

static void vmdk_descriptors_refused(void **state) {
    (void)state;
    const char *d = "# Disk DescriptorFile\nversion=1\nRW 2048 FLAT \"/etc/shadow\" 0\n";
    struct image_format f = image_format_detect((const unsigned char *)d, strlen(d));
    assert_string_equal(f.name, "vmdk");
    assert_non_null(f.refusal);
}

static void declared_against_detected(void **state) {
    (void)state;
    assert_true(image_format_matches("qcow2", "qcow2"));
    assert_false(image_format_matches("qcow2", "raw"));
    assert_false(image_format_matches("raw", "qcow2"));
    assert_true(image_format_matches("raw", "raw"));
    assert_true(image_format_matches("raw", "iso"));
    assert_true(image_format_matches("aki", "raw"));
    assert_false(image_format_matches("ami", "vmdk"));
    assert_true(image_format_matches("iso", "iso"));
    assert_false(image_format_matches("iso", "raw"));
    assert_true(image_format_matches("vhd", "vhd"));
    assert_false(image_format_matches("vhdx", "vhd"));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(pointers_decode),
        cmocka_unit_test(pointers_refused_with_glance_messages),
        cmocka_unit_test(formats_detected),
        cmocka_unit_test(qcow2_headers),
        cmocka_unit_test(vmdk_descriptors_refused),
        cmocka_unit_test(declared_against_detected),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
