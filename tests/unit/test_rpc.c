/* test_rpc.c — the RPC wire format: oslo.messaging envelopes of requests
 * and replies, and handler failures. No broker needed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cnova.h"

/* The outer object: exactly oslo.version 2.0 and oslo.message as a string. */
static json_t *outer_of(const char *s) {
    json_t *o = json_loads(s, 0, NULL);
    assert_non_null(o);
    assert_int_equal(json_object_size(o), 2);
    assert_string_equal(json_string_value(json_object_get(o, "oslo.version")), "2.0");
    assert_true(json_is_string(json_object_get(o, "oslo.message")));
    return o;
}

static void test_cast_envelope(void **state) {
    json_t *args = json_pack("{s:s, s:i}", "host", "c1", "n", 3);
    char *s = rpc_envelope_encode("service_heartbeat", args, NULL, NULL, 0);
    assert_non_null(s);
    json_decref(outer_of(s));
    json_t *m = rpc_envelope_decode(s, strlen(s));
    assert_non_null(m);
    assert_string_equal(json_string_value(json_object_get(m, "method")), "service_heartbeat");
    assert_true(json_equal(json_object_get(m, "args"), args));
    const char *uid = json_string_value(json_object_get(m, "_unique_id"));
    assert_non_null(uid);
    assert_true(uuid_valid(uid));
    /* A cast asks for no reply. */
    assert_null(json_object_get(m, "_msg_id"));
    assert_null(json_object_get(m, "_reply_q"));
    assert_null(json_object_get(m, "_timeout"));
    json_decref(m);
    free(s);
    json_decref(args);
}

static void test_call_envelope(void **state) {
    char *s =
        rpc_envelope_encode("ping", NULL, "1b4e28ba-2fa1-11d2-883f-0016d3cca427", "reply_x", 2500);
    json_t *m = rpc_envelope_decode(s, strlen(s));
    assert_non_null(m);
    assert_string_equal(json_string_value(json_object_get(m, "_msg_id")),
                        "1b4e28ba-2fa1-11d2-883f-0016d3cca427");
    assert_string_equal(json_string_value(json_object_get(m, "_reply_q")), "reply_x");
    assert_true(json_real_value(json_object_get(m, "_timeout")) == 2.5);
    /* No args is an empty object, never null. */
    assert_true(json_is_object(json_object_get(m, "args")));
    assert_int_equal(json_object_size(json_object_get(m, "args")), 0);
    json_decref(m);
    free(s);
}

static void test_unique_ids_differ(void **state) {
    char *a = rpc_envelope_encode("ping", NULL, NULL, NULL, 0);
    char *b = rpc_envelope_encode("ping", NULL, NULL, NULL, 0);
    json_t *ma = rpc_envelope_decode(a, strlen(a)), *mb = rpc_envelope_decode(b, strlen(b));
    assert_string_not_equal(json_string_value(json_object_get(ma, "_unique_id")),
                            json_string_value(json_object_get(mb, "_unique_id")));
    json_decref(ma);
    json_decref(mb);
    free(a);
    free(b);
}

static void test_reply_result(void **state) {
    json_t *res = json_pack("{s:s}", "pong", "conductor");
    char *s = rpc_reply_encode(res, NULL, "m1");
    json_decref(outer_of(s));
    json_t *m = rpc_envelope_decode(s, strlen(s));
    assert_true(json_equal(json_object_get(m, "result"), res));
    assert_true(json_is_null(json_object_get(m, "failure")));
    assert_true(json_is_true(json_object_get(m, "ending")));
    assert_string_equal(json_string_value(json_object_get(m, "_msg_id")), "m1");
    json_decref(m);
    free(s);
    json_decref(res);
}

static void test_reply_null_and_failure(void **state) {
    char *s = rpc_reply_encode(NULL, NULL, "m2");
    json_t *m = rpc_envelope_decode(s, strlen(s));
    assert_true(json_is_null(json_object_get(m, "result")));
    assert_true(json_is_null(json_object_get(m, "failure")));
    json_decref(m);
    free(s);

    json_t *f = rpc_failure("no method %s", "frob");
    s = rpc_reply_encode(f, "no method frob", "m3");
    m = rpc_envelope_decode(s, strlen(s));
    assert_string_equal(json_string_value(json_object_get(m, "failure")), "no method frob");
    /* The failure marker never leaks into the result. */
    assert_true(json_is_null(json_object_get(m, "result")));
    json_decref(m);
    free(s);
    json_decref(f);
}

static void test_decode_bare_and_malformed(void **state) {
    const char *bare = "{\"method\": \"ping\", \"args\": {}}";
    json_t *m = rpc_envelope_decode(bare, strlen(bare));
    assert_non_null(m);
    assert_string_equal(json_string_value(json_object_get(m, "method")), "ping");
    json_decref(m);

    const char *bad[] = {
        "",
        "not json",
        "[1, 2]",
        "{\"oslo.version\": \"2.0\", \"oslo.message\": 5}",
        "{\"oslo.version\": \"2.0\", \"oslo.message\": \"{broken\"}",
        "{\"oslo.version\": \"2.0\", \"oslo.message\": \"[1]\"}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_null(rpc_envelope_decode(bad[i], strlen(bad[i])));
}

static void test_decode_respects_length(void **state) {
    /* Bodies off the wire are not NUL-terminated. */
    const char *s = "{\"method\": \"ping\"}GARBAGE";
    json_t *m = rpc_envelope_decode(s, strlen("{\"method\": \"ping\"}"));
    assert_non_null(m);
    json_decref(m);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cast_envelope),
        cmocka_unit_test(test_call_envelope),
        cmocka_unit_test(test_unique_ids_differ),
        cmocka_unit_test(test_reply_result),
        cmocka_unit_test(test_reply_null_and_failure),
        cmocka_unit_test(test_decode_bare_and_malformed),
        cmocka_unit_test(test_decode_respects_length),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
