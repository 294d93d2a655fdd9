/* test_hostnet.c — the parts of workers/compute/hostnet.c that need no root:
 * names, input checks (nothing runs when an argument is wrong), and the
 * static-lease hosts file that port_add / port_remove edit (a network whose
 * state folder exists but whose dnsmasq does not run). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "compute/hostnet.h"
#include "log.h"

#define NET "cafe0000-1111-4222-8333-444455556666"

static char state[64];

static char *slurp(const char *path) {
    static char buf[4096];
    FILE *f = fopen(path, "r");
    if (!f) return NULL;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = 0;
    fclose(f);
    return buf;
}

static void names(void **s) {
    (void)s;
    char br[HOSTNET_NAME_LEN], ns[HOSTNET_NETNS_LEN];
    hostnet_bridge_name(NET, br, sizeof br);
    hostnet_netns_name(NET, ns, sizeof ns);
    assert_string_equal(br, "brqcafe0000-11");
    assert_string_equal(ns, "qdhcp-" NET);
}

static void bad_input_runs_nothing(void **s) {
    (void)s;
    const char *why = NULL;
    struct hostnet_net n = {
        .id = NET, .cidr = "10.0.0.0/24", .gateway = "10.0.0.1", .dhcp_ip = "10.0.0.2"};
    struct {
        const char *field, *value, *message;
    } cases[] = {
        {"id", "../../etc", "want a uuid"},
        {"id", "cafe", "want a uuid"},
        {"cidr", "10.0.0.0", "not an IPv4 subnet"},
        {"cidr", "10.0.0.0/31", "not an IPv4 subnet"},
        {"cidr", "fd00::/64", "not an IPv4 subnet"},
        {"dhcp_ip", "10.0.1.2", "not a host of"},
        {"dhcp_ip", "10.0.0.255", "not a host of"},
        {"dhcp_ip", "10.0.0.0", "not a host of"},
        {"gateway", "10.9.9.9", "gateway 10.9.9.9 is not a host"},
        {"dns1", "dns.example", "DNS server"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        struct hostnet_net m = n;
        const char **f = !strcmp(cases[i].field, "id")        ? &m.id
                         : !strcmp(cases[i].field, "cidr")    ? &m.cidr
                         : !strcmp(cases[i].field, "dhcp_ip") ? &m.dhcp_ip
                         : !strcmp(cases[i].field, "gateway") ? &m.gateway
                                                              : &m.dns1;
        *f = cases[i].value;
        assert_int_equal(hostnet_net_ensure(state, &m, &why), -1);
        if (!strstr(why, cases[i].message))
            fail_msg("%s=%s: %s", cases[i].field, cases[i].value, why);
    }
    n.mtu = 100;
    assert_int_equal(hostnet_net_ensure(state, &n, &why), -1);
    assert_non_null(strstr(why, "MTU 100"));
    assert_int_equal(hostnet_port_add(state, NET, "fa:16:3e:00:00", "10.0.0.5", NULL, NULL, &why),
                     -1);
    assert_int_equal(hostnet_port_add(state, NET, "fa:16:3e:00:00:01", "10.0.0", NULL, NULL, &why),
                     -1);
    assert_int_equal(
        hostnet_port_add(state, NET, "fa:16:3e:00:00:01", "10.0.0.5", "a,b\nc", NULL, &why), -1);
    assert_non_null(strstr(why, "not a DNS name"));
    assert_int_equal(hostnet_port_remove(state, "x/y", "fa:16:3e:00:00:01", &why), -1);
    /* a network not set up here: nothing to add to, nothing to remove */
    assert_int_equal(
        hostnet_port_add(state, NET, "fa:16:3e:00:00:01", "10.0.0.5", NULL, NULL, &why), -1);
    assert_non_null(strstr(why, "not set up"));
    assert_int_equal(hostnet_port_remove(state, NET, "fa:16:3e:00:00:01", &why), 0);
}

static void hosts_file(void **s) {
    (void)s;
    const char *why = NULL;
    char dir[256], hosts[300];
    snprintf(dir, sizeof dir, "%s/dhcp", state);
    mkdir(dir, 0755);
    snprintf(dir, sizeof dir, "%s/dhcp/%s", state, NET);
    assert_int_equal(mkdir(dir, 0755), 0);
    snprintf(hosts, sizeof hosts, "%s/hosts", dir);

    assert_int_equal(
        hostnet_port_add(state, NET, "fa:16:3e:00:00:01", "10.0.0.5", "vm-1.novalocal", NULL, &why),
        0);
    assert_int_equal(
        hostnet_port_add(state, NET, "fa:16:3e:00:00:02", "10.0.0.6", NULL, NULL, &why), 0);
    assert_string_equal(slurp(hosts),
                        "fa:16:3e:00:00:01,10.0.0.5,vm-1\nfa:16:3e:00:00:02,10.0.0.6\n");
    assert_int_equal(hostnet_port_count(state, NET), 2);
    /* the same MAC again: its line replaced, not doubled (any case) */
    assert_int_equal(
        hostnet_port_add(state, NET, "FA:16:3E:00:00:01", "10.0.0.7", "vm-1", NULL, &why), 0);
    assert_string_equal(slurp(hosts),
                        "fa:16:3e:00:00:02,10.0.0.6\nFA:16:3E:00:00:01,10.0.0.7,vm-1\n");
    /* an address moving to another port leaves its old holder */
    assert_int_equal(
        hostnet_port_add(state, NET, "fa:16:3e:00:00:03", "10.0.0.6", NULL, NULL, &why), 0);
    assert_string_equal(slurp(hosts),
                        "FA:16:3E:00:00:01,10.0.0.7,vm-1\nfa:16:3e:00:00:03,10.0.0.6\n");
    assert_int_equal(hostnet_port_remove(state, NET, "fa:16:3e:00:00:01", &why), 0);
    assert_int_equal(hostnet_port_remove(state, NET, "fa:16:3e:00:00:09", &why), 0);
    assert_string_equal(slurp(hosts), "fa:16:3e:00:00:03,10.0.0.6\n");
    assert_int_equal(hostnet_port_remove(state, NET, "fa:16:3e:00:00:03", &why), 0);
    assert_string_equal(slurp(hosts), "");
    assert_int_equal(hostnet_port_count(state, NET), 0);

    unlink(hosts);
    rmdir(dir);
}

int main(void) {
    log_init("test_hostnet", LOG_ERROR);
    snprintf(state, sizeof state, "/tmp/test_hostnet.XXXXXX");
    if (!mkdtemp(state)) return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(names),
        cmocka_unit_test(bad_input_runs_nothing),
        cmocka_unit_test(hosts_file),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    char path[128];
    snprintf(path, sizeof path, "%s/dhcp/.lock", state);
    unlink(path);
    snprintf(path, sizeof path, "%s/dhcp", state);
    rmdir(path);
    rmdir(state);
    return rc;
}
