/* test_db_sql.c — statements put together from fragments: "$?" numbering,
 * parameters written by hand (db_sql_param), and the overflow guard that
 * makes db_query_sql refuse a statement that did not fit. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "cnova.h"

static void placeholders_are_numbered_in_order(void **state) {
    (void)state;
    struct db_sql q = {.text = ""};
    assert_int_equal(db_sql_param(&q, "60"), 1); /* a "$1" the caller wrote */
    db_sql_add(&q, "SELECT $1::int FROM t WHERE true", NULL);
    db_sql_add(&q, " AND a = $?", "x");
    db_sql_add(&q, " AND (b = $? OR c = $?)", "y"); /* one parameter, used twice */
    db_sql_add(&q, " LIMIT $?::int", NULL);
    assert_string_equal(q.text,
                        "SELECT $1::int FROM t WHERE true AND a = $2 AND (b = $3 OR c = $3)"
                        " LIMIT $4::int");
    assert_int_equal(q.n, 4);
    assert_string_equal(q.params[0], "60");
    assert_string_equal(q.params[1], "x");
    assert_string_equal(q.params[2], "y");
    assert_null(q.params[3]);
    assert_false(q.overflow);
}

static void too_much_is_refused(void **state) {
    (void)state;
    struct db_sql q = {.text = ""};
    for (int i = 0; i < DB_SQL_MAX_PARAMS + 1; i++) db_sql_add(&q, " AND a = $?", "v");
    assert_true(q.overflow);
    PGresult *res = (PGresult *)&q; /* must be reset to NULL */
    assert_int_equal(db_query_sql(&res, &q), DB_ERROR);
    assert_null(res);

    struct db_sql big = {.text = ""};
    char frag[1000];
    memset(frag, 'x', sizeof frag - 1);
    frag[sizeof frag - 1] = 0;
    for (int i = 0; i < 10; i++) db_sql_add(&big, frag, NULL);
    assert_true(big.overflow);
    assert_true(strlen(big.text) < sizeof big.text);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(placeholders_are_numbered_in_order),
        cmocka_unit_test(too_much_is_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
