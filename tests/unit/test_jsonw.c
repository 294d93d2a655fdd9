/* test_jsonw.c — the response writer: member order, string escapes,
 * integers, reals in Python's repr form, the depth limit, and agreement
 * with jansson's parser on what was written. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "cnova.h"

/* Renders v (taking it) and checks the text. */
static void renders(json_t *v, const char *want) {
    struct sbuf out = {0};
    assert_int_equal(jsonw_render(v, &out), 0);
    assert_string_equal(out.s, want);
    json_error_t err;
    json_t *back = json_loadb(out.s, out.len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &err);
    assert_non_null(back);
    assert_true(json_equal(back, v));
    json_decref(back);
    json_decref(v);
    sbuf_free(&out);
}

static void objects_keep_insertion_order(void **state) {
    (void)state;
    renders(json_pack("{s:i,s:s,s:n,s:b,s:[i,{}],s:{}}", "z", 1, "a", "x", "m", "t", 1, "l", 2,
                      "e"),
            "{\"z\":1,\"a\":\"x\",\"m\":null,\"t\":true,\"l\":[2,{}],\"e\":{}}");
    renders(json_array(), "[]");
    renders(json_false(), "false");
}

static void strings_are_escaped(void **state) {
    (void)state;
    renders(json_string("a\"b\\c/d\n\t\r\b\f\x01\x1f"),
            "\"a\\\"b\\\\c/d\\n\\t\\r\\b\\f\\u0001\\u001f\"");
    renders(json_stringn("nul\0x", 5), "\"nul\\u0000x\"");
    renders(json_string("caf\xc3\xa9 \xe2\x82\xac"), "\"caf\xc3\xa9 \xe2\x82\xac\""); /* UTF-8 as is */
    renders(json_pack("{s:s}", "k\"ey", "v"), "{\"k\\\"ey\":\"v\"}");
}

static void integers(void **state) {
    (void)state;
    renders(json_integer(0), "0");
    renders(json_integer(-42), "-42");
    renders(json_integer(INT64_MAX), "9223372036854775807");
    renders(json_integer(INT64_MIN), "-9223372036854775808");
}

static void reals_as_python_writes_them(void **state) {
    (void)state;
    renders(json_real(1.0), "1.0");
    renders(json_real(0.1), "0.1");
    renders(json_real(-2.5), "-2.5");
    renders(json_real(0.0), "0.0");
    renders(json_real(100000.0), "100000.0");
    renders(json_real(123456789.125), "123456789.125");
    renders(json_real(1e16), "1e+16");
    renders(json_real(0.0001), "0.0001");
    renders(json_real(1.5e-05), "1.5e-05");
    renders(json_real(1.0 / 3), "0.3333333333333333");
}

static void too_deep_is_refused(void **state) {
    (void)state;
    json_t *v = json_integer(1);
    for (int i = 0; i < 300; i++) v = json_pack("[o]", v);
    struct sbuf out = {0};
    assert_int_equal(jsonw_render(v, &out), -1);
    sbuf_free(&out);
    json_decref(v);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(objects_keep_insertion_order),
        cmocka_unit_test(strings_are_escaped),
        cmocka_unit_test(integers),
        cmocka_unit_test(reals_as_python_writes_them),
        cmocka_unit_test(too_deep_is_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
