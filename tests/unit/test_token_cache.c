/* test_token_cache.c — the host's shared cache of validated tokens
 * (token_cache.c), the roles of a request context (auth.c) and Keystone's
 * time format (ks_client.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "api.h"
#include "ks_client.h"
#include "token_cache.h"

static void key_of(unsigned char k[TC_KEY], int n) {
    memset(k, 0, TC_KEY);
    memcpy(k + 8, &n, sizeof n); /* same first bytes: one bucket for all */
}

static void test_miss_wait_store_hit(void **state) {
    (void)state;
    unsigned char k[TC_KEY];
    key_of(k, 1);
    struct ctx c = {0}, got = {0};
    int st = -1;
    assert_int_equal(tc_lookup(k, &got, &st), TC_MISS);
    /* a second worker asking meanwhile waits for the first one's answer */
    assert_int_equal(tc_lookup(k, &got, &st), TC_WAIT);
    strcpy(c.user_id, "u1");
    strcpy(c.project_id, "p1");
    ctx_add_role(&c, "member");
    tc_store(k, &c, 0, time(NULL) + 60);
    assert_int_equal(tc_lookup(k, &got, &st), TC_HIT);
    assert_int_equal(st, 0);
    assert_string_equal(got.project_id, "p1");
    assert_true(got.is_member);
    /* a refused token is remembered as refused, with no context */
    key_of(k, 2);
    assert_int_equal(tc_lookup(k, &got, &st), TC_MISS);
    tc_store(k, NULL, 401, time(NULL) + 60);
    assert_int_equal(tc_lookup(k, &got, &st), TC_HIT);
    assert_int_equal(st, 401);
}

static void test_expiry_and_abandon(void **state) {
    (void)state;
    unsigned char k[TC_KEY];
    struct ctx c = {0}, got;
    int st;
    key_of(k, 3);
    assert_int_equal(tc_lookup(k, &got, &st), TC_MISS);
    tc_store(k, &c, 0, time(NULL) - 1); /* the token's own expiry is past */
    assert_int_equal(tc_lookup(k, &got, &st), TC_MISS);
    /* Keystone out of reach: the pending mark goes, the next one asks */
    tc_abandon(k);
    assert_int_equal(tc_lookup(k, &got, &st), TC_MISS);
    tc_abandon(k);
}

/* More keys than a bucket holds: the table stays bounded and the newest
 * keys are the ones kept. */
static void test_bounded(void **state) {
    (void)state;
    unsigned char k[TC_KEY];
    struct ctx c = {0}, got;
    int st;
    for (int i = 100; i < 164; i++) {
        key_of(k, i);
        tc_lookup(k, &got, &st);
        tc_store(k, &c, 0, time(NULL) + 60 + i);
    }
    size_t size, n = tc_count(&size);
    assert_true(n <= size);
    key_of(k, 163);
    assert_int_equal(tc_lookup(k, &got, &st), TC_HIT);
    key_of(k, 100);
    assert_int_equal(tc_lookup(k, &got, &st), TC_MISS);
    tc_abandon(k);
}

/* A token validated by one worker is known to its siblings. */
static void test_shared_across_fork(void **state) {
    (void)state;
    unsigned char k[TC_KEY];
    key_of(k, 7);
    pid_t pid = fork();
    if (pid == 0) {
        struct ctx c = {0}, got;
        int st;
        strcpy(c.user_id, "child");
        tc_lookup(k, &got, &st);
        tc_store(k, &c, 0, time(NULL) + 60);
        tc_service_put("svc-token", time(NULL) + 3600);
        _exit(0);
    }
    int ws;
    waitpid(pid, &ws, 0);
    struct ctx got;
    int st;
    assert_int_equal(tc_lookup(k, &got, &st), TC_HIT);
    assert_string_equal(got.user_id, "child");
    char tok[64];
    assert_int_equal(tc_service_get(tok, sizeof tok, 60), 0);
    assert_string_equal(tok, "svc-token");
    /* one that expires within the margin is not handed out */
    tc_service_put("old", time(NULL) + 30);
    assert_int_equal(tc_service_get(tok, sizeof tok, 60), -1);
}

static void test_roles(void **state) {
    (void)state;
    struct ctx c = {0};
    ctx_add_role(&c, "Reader");
    ctx_add_role(&c, "service");
    ctx_add_role(&c, "reader"); /* once */
    ctx_add_role(&c, "a,b");    /* not a role name */
    assert_string_equal(c.roles, ",reader,service,");
    assert_true(ctx_has_role(&c, "READER"));
    assert_true(ctx_has_role(&c, "service"));
    assert_false(ctx_has_role(&c, "read"));
    assert_false(ctx_has_role(&c, "admin"));
    assert_true(c.is_reader && c.is_service);
    assert_false(c.is_admin || c.is_member);
}

static void test_time(void **state) {
    (void)state;
    assert_int_equal(ks_parse_time("1970-01-01T00:01:40.000000Z"), 100);
    assert_int_equal(ks_parse_time("2026-12-04T06:00:00Z"), 1796364000);
    assert_int_equal(ks_parse_time("tomorrow"), 0);
}

int main(void) {
    if (tc_init(16)) return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_miss_wait_store_hit), cmocka_unit_test(test_expiry_and_abandon),
        cmocka_unit_test(test_bounded),             cmocka_unit_test(test_shared_across_fork),
        cmocka_unit_test(test_roles),               cmocka_unit_test(test_time),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
