/* test_util.c — uuids (format, uniqueness, no shared bytes across fork),
 * request ids, microversion parsing and the Python-like parsers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cnova.h"

static int by_str(const void *a, const void *b) {
    return strcmp(a, b);
}

static void uuids_are_v4_and_unique(void **state) {
    (void)state;
    enum { N = 2000 };
    static char ids[N][37];
    for (int i = 0; i < N; i++) {
        uuid_new(ids[i]);
        assert_true(uuid_valid(ids[i]));
        assert_int_equal(ids[i][14], '4');
        assert_non_null(strchr("89ab", ids[i][19]));
    }
    qsort(ids, N, sizeof ids[0], by_str);
    for (int i = 1; i < N; i++) assert_string_not_equal(ids[i - 1], ids[i]);
}

static void a_forked_child_draws_other_bytes(void **state) {
    (void)state;
    char before[37], parent[37];
    uuid_new(before); /* the pool is filled and partly used */
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    pid_t pid = fork();
    if (pid == 0) {
        char child[37];
        uuid_new(child);
        ssize_t w = write(fds[1], child, sizeof child);
        _exit(w == sizeof child ? 0 : 1);
    }
    uuid_new(parent);
    char child[37] = "";
    assert_int_equal(read(fds[0], child, sizeof child), (ssize_t)sizeof child);
    int status;
    waitpid(pid, &status, 0);
    assert_string_not_equal(child, parent);
    close(fds[0]);
    close(fds[1]);
}

static void request_ids(void **state) {
    (void)state;
    char id[41];
    request_id_new(id);
    assert_memory_equal(id, "req-", 4);
    assert_true(uuid_valid(id + 4));
    assert_false(uuid_valid("9f2b4c1e-5d6a-4b7c-8e9f-0a1b2c3d4e5"));
    assert_false(uuid_valid("9f2b4c1e55d6a-4b7c-8e9f-0a1b2c3d4e5f"));
}

static void python_like_parsers(void **state) {
    (void)state;
    long long n;
    bool b;
    assert_true(str_to_int(" 42 ", &n));
    assert_int_equal(n, 42);
    assert_true(str_to_int("-3", &n));
    assert_false(str_to_int("4x", &n));
    assert_false(str_to_int("", &n));
    assert_true(str_to_bool("YES", &b) && b);
    assert_true(str_to_bool(" off ", &b) && !b);
    assert_false(str_to_bool("maybe", &b));
}

/* utf8_sanitize: what jansson accepts (RFC 3629) passes as it is; any
 * other byte becomes U+FFFD; a character never straddles the end. */
static void utf8_sanitize_replaces_and_never_cuts(void **state) {
    (void)state;
    char out[64];
    assert_int_equal(utf8_sanitize(out, sizeof out, "caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80"),
                     14);
    assert_string_equal(out, "caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80");
    const char *bad[] = {"\xC0\x80",         /* overlong NUL */
                         "\xED\xA0\x80",     /* a surrogate */
                         "\xF4\x90\x80\x80", /* past U+10FFFF */
                         "\xE2\x82",         /* cut short */
                         "\xFF",
                         "\x80"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        utf8_sanitize(out, sizeof out, bad[i]);
        for (const char *p = out; *p; p += 3)
            assert_memory_equal(p, "\xEF\xBF\xBD", 3);
        assert_int_equal(strlen(out), 3 * strlen(bad[i]));
        json_t *j = json_string(out);
        assert_non_null(j);
        json_decref(j);
    }
    assert_int_equal(utf8_sanitize(out, 5, "ab\xC3\xA9"), 4);
    assert_int_equal(utf8_sanitize(out, 4, "ab\xC3\xA9"), 2);
    assert_string_equal(out, "ab");
    assert_int_equal(utf8_sanitize(out, 4, "ab\xFF"), 2);
    char *dup = utf8_dup("\xFF\xFE");
    assert_string_equal(dup, "\xEF\xBF\xBD\xEF\xBF\xBD");
    free(dup);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(uuids_are_v4_and_unique),
        cmocka_unit_test(a_forked_child_draws_other_bytes),
        cmocka_unit_test(request_ids),
        cmocka_unit_test(python_like_parsers),
        cmocka_unit_test(utf8_sanitize_replaces_and_never_cuts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
