/* test_states.c — the server state table (lib/states.c) without a
 * database: Nova's status for vm_state/task_state pairs, the reverse map
 * ?status= filters use, and the check_instance_state rules as data. */
// clang-format off
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
// clang-format on
#include <string.h>

#include "cnova.h"

static void test_status(void **state) {
    (void)state;
    assert_string_equal(states_status("active", NULL), "ACTIVE");
    assert_string_equal(states_status("active", "rebooting"), "REBOOT");
    assert_string_equal(states_status("active", "rebooting_hard"), "HARD_REBOOT");
    assert_string_equal(states_status("active", "powering-off"), "ACTIVE");
    assert_string_equal(states_status("building", "scheduling"), "BUILD");
    assert_string_equal(states_status("stopped", NULL), "SHUTOFF");
    assert_string_equal(states_status("stopped", "resize_prep"), "RESIZE");
    assert_string_equal(states_status("resized", "resize_reverting"), "REVERT_RESIZE");
    assert_string_equal(states_status("error", "rebuilding"), "REBUILD");
    assert_string_equal(states_status("soft-delete", NULL), "SOFT_DELETED");
    assert_string_equal(states_status("shelved_offloaded", NULL), "SHELVED_OFFLOADED");
    assert_string_equal(states_status("nonsense", NULL), "UNKNOWN");
    assert_string_equal(states_status(NULL, NULL), "UNKNOWN");
}

static void test_from_status(void **state) {
    (void)state;
    const char *vm[16] = {NULL}, *task[16] = {NULL};
    bool any = false;
    assert_int_equal(states_from_status("shutoff", vm, task, 16, &any), 1);
    assert_string_equal(vm[0], "stopped");
    assert_true(any);
    assert_null(task[0]);

    const char *vm2[16] = {NULL}, *task2[16] = {NULL};
    any = false;
    assert_int_equal(states_from_status("RESIZE", vm2, task2, 16, &any), 2);
    assert_false(any);
    assert_string_equal(task2[0], "resize_prep");
    assert_int_equal(states_from_status("ACTIVE", vm2, task2, 16, &any), 2); /* union */
    assert_true(any);

    const char *vm3[16] = {NULL}, *task3[16] = {NULL};
    any = false;
    assert_int_equal(states_from_status("NOPE", vm3, task3, 16, &any), 0);
}

static void test_rules(void **state) {
    (void)state;
    const struct state_rule *stop = states_rule("stop");
    assert_non_null(stop);
    assert_string_equal(stop->next_task, "powering-off");
    assert_string_equal(stop->vm_states[0], "active");
    assert_string_equal(stop->vm_states[1], "error");
    assert_null(stop->vm_states[2]);
    assert_true(stop->must_have_launched);
    const struct state_rule *del = states_rule("delete");
    assert_null(del->vm_states);
    assert_null(del->task_states);
    assert_false(del->must_have_launched);
    assert_string_equal(states_rule("reboot_hard")->method, "reboot");
    assert_null(states_rule("no-such-action"));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_status),
        cmocka_unit_test(test_from_status),
        cmocka_unit_test(test_rules),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
