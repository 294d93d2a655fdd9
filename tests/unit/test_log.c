/* test_log.c — log lines in text and JSON ([DEFAULT] log_format), and the
 * request context that names them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <jansson.h>
#include <string.h>
#include <unistd.h>

#include "cnova.h"

/* One log line written by fn, as read back from stderr. */
static void capture(void (*fn)(void), char *out, size_t cap) {
    int p[2], saved = dup(STDERR_FILENO);
    assert_int_equal(pipe(p), 0);
    dup2(p[1], STDERR_FILENO);
    fn();
    dup2(saved, STDERR_FILENO);
    close(saved);
    close(p[1]);
    ssize_t n = read(p[0], out, cap - 1);
    close(p[0]);
    out[n > 0 ? n : 0] = 0;
}

static void one_line(void) {
    log_info("built \"%s\"", "x\ny");
}

static void test_text(void **state) {
    (void)state;
    char line[4096];
    config_set("DEFAULT", "log_format", "text");
    log_init("cnova-test", LOG_INFO);
    log_set_context("req-local", NULL);
    capture(one_line, line, sizeof line);
    assert_non_null(strstr(line, " INFO cnova-test [req-local] built \"x\ny\""));
    log_set_context("req-local", "req-global");
    capture(one_line, line, sizeof line);
    assert_non_null(strstr(line, "[req-global req-local] built"));
    log_set_context(NULL, NULL);
    capture(one_line, line, sizeof line);
    assert_non_null(strstr(line, "[-] built"));
    assert_string_equal(log_request_id(), "");
}

static void test_json(void **state) {
    (void)state;
    char line[4096];
    config_set("DEFAULT", "log_format", "json");
    log_init("cnova-test", LOG_INFO);
    log_set_context("req-local", "req-global");
    capture(one_line, line, sizeof line);
    log_set_context(NULL, NULL);
    assert_int_equal(strchr(line, '\n') - line, (long)strlen(line) - 1); /* one line */
    json_t *o = json_loads(line, 0, NULL);
    assert_non_null(o);
    assert_string_equal(json_string_value(json_object_get(o, "levelname")), "INFO");
    assert_string_equal(json_string_value(json_object_get(o, "name")), "cnova-test");
    assert_string_equal(json_string_value(json_object_get(o, "request_id")), "req-local");
    assert_string_equal(json_string_value(json_object_get(o, "global_request_id")), "req-global");
    assert_string_equal(json_string_value(json_object_get(o, "message")), "built \"x\ny\"");
    assert_int_equal(json_integer_value(json_object_get(o, "process")), getpid());
    json_decref(o);
    config_set("DEFAULT", "log_format", "text");
    log_init("cnova-test", LOG_INFO);
}

/* A saved context comes back whole after work in another one. */
static void test_context_save_restore(void **state) {
    (void)state;
    struct log_context saved, empty;
    log_set_context("req-1", "req-g");
    log_context_save(&saved);
    log_set_context(NULL, NULL);
    log_context_save(&empty);
    assert_string_equal(empty.request_id, "");
    log_set_context("req-2", NULL);
    assert_string_equal(log_request_id(), "req-2");
    assert_string_equal(log_global_request_id(), "");
    log_context_restore(&saved);
    assert_string_equal(log_request_id(), "req-1");
    assert_string_equal(log_global_request_id(), "req-g");
    log_context_restore(&empty);
    assert_string_equal(log_request_id(), "");
}

int main(void) {
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_text), cmocka_unit_test(test_json),
                                       cmocka_unit_test(test_context_save_restore)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
