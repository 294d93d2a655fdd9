/* test_firewall.c — the nft script workers/compute/firewall.c loads for a
 * host's ports: the rules of each group as nft rules, the namespace and
 * replies let in, spoofing kept out, and values that are not what they
 * claim left out of the script. As root with nft installed, the script is
 * also checked by nft itself (`nft -c`: nothing is loaded). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cnova.h"
#include "compute/firewall.h"

#define PORT_JSON(rules)                                                                           \
    "[{\"instance_uuid\": \"0b3f4c4e-8d3c-4f5e-9a0b-1c2d3e4f5a6b\","                               \
    " \"port_id\": \"5e0a1b2c-3d4e-4f50-8a1b-2c3d4e5f6a7b\", \"mac\": \"fa:16:3e:11:22:33\","      \
    " \"ip\": \"10.0.0.5\", \"dhcp_ip\": \"10.0.0.2\", \"rules\": " rules "}]"

static char *script_of(const char *json, bool stateful) {
    json_t *ports = json_loads(json, 0, NULL);
    assert_non_null(ports);
    struct sbuf s = {0};
    firewall_script("cnova_t_0", stateful, ports, &s);
    json_decref(ports);
    return s.s;
}

/* nft's own check of the script, where it can run (root, nft installed). */
static void nft_accepts(const char *script) {
    if (geteuid() != 0 || system("command -v nft >/dev/null 2>&1") != 0) return;
    char path[] = "/tmp/test_firewall.XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, script, strlen(script)), (ssize_t)strlen(script));
    close(fd);
    char err[512] = "";
    const char *argv[] = {"nft", "-c", "-f", path, NULL};
    int rc = run_argv(argv, 30, err, sizeof err);
    unlink(path);
    if (rc) fprintf(stderr, "nft: %s\n%s", err, script);
    assert_int_equal(rc, 0);
}

static void rules_become_nft_rules(void **state) {
    char *s = script_of(PORT_JSON("[{\"protocol\": \"tcp\", \"from_port\": 22, \"to_port\": 22,"
                                  " \"cidr\": \"0.0.0.0/0\"},"
                                  " {\"protocol\": \"udp\", \"from_port\": 1000, \"to_port\": 2000,"
                                  " \"cidr\": \"192.168.0.0/16\"},"
                                  " {\"protocol\": \"icmp\", \"from_port\": -1, \"to_port\": -1,"
                                  " \"cidr\": \"10.0.0.7/32\"},"
                                  " {\"protocol\": \"icmp\", \"from_port\": 8, \"to_port\": -1,"
                                  " \"cidr\": \"10.0.0.8/32\"},"
                                  " {\"protocol\": null, \"from_port\": null, \"to_port\": null,"
                                  " \"cidr\": \"10.0.0.9/32\"}]"),
                        false);
    assert_non_null(strstr(s, "oifname vmap { \"tap5e0a1b2c-3d\" : jump to-tap5e0a1b2c-3d }"));
    assert_non_null(strstr(s, "iifname vmap { \"tap5e0a1b2c-3d\" : jump from-tap5e0a1b2c-3d }"));
    assert_non_null(strstr(s, "    tcp dport 22 accept\n"));
    assert_non_null(strstr(s, "    ip saddr 192.168.0.0/16 udp dport 1000-2000 accept\n"));
    assert_non_null(strstr(s, "    ip saddr 10.0.0.7/32 ip protocol icmp accept\n"));
    assert_non_null(strstr(s, "    ip saddr 10.0.0.8/32 icmp type 8 accept\n"));
    assert_non_null(strstr(s, "    ip saddr 10.0.0.9/32 accept\n"));
    /* the namespace, replies (stateless), then the end of the chain */
    assert_non_null(strstr(s, "ip saddr { 10.0.0.2, 169.254.169.254 } accept"));
    assert_non_null(strstr(s, "tcp flags & (syn | ack) != syn accept"));
    assert_non_null(strstr(s, "    drop\n  }\n  chain from-tap5e0a1b2c-3d {\n"));
    /* out of the guest: its own MAC and address only */
    assert_non_null(strstr(s, "ether saddr != fa:16:3e:11:22:33 drop"));
    assert_non_null(strstr(s, "ip saddr != 10.0.0.5 drop"));
    assert_null(strstr(s, "ct state"));
    nft_accepts(s);
    free(s);
    s = script_of(PORT_JSON("[]"), true);
    assert_non_null(strstr(s, "ct state established,related accept"));
    assert_null(strstr(s, "tcp flags"));
    /* only a kernel that tracks connections on bridges takes it: ask
     * firewall_init, as the compute does */
    char dir[] = "/tmp/test_firewall.XXXXXX", sub[64];
    assert_non_null(mkdtemp(dir));
    struct firewall fw;
    const char *why = NULL;
    if (geteuid() == 0 && firewall_init(&fw, "host.1", dir, &why) == 0) {
        assert_non_null(strstr(fw.table, "cnova_host_1_"));
        if (fw.stateful) nft_accepts(s);
    }
    snprintf(sub, sizeof sub, "%s/firewall", dir);
    rmdir(sub);
    rmdir(dir);
    free(s);
}

static void bad_values_left_out(void **state) {
    char *s = script_of(PORT_JSON("[{\"protocol\": \"tcp\", \"from_port\": 1, \"to_port\": 2,"
                                  " \"cidr\": \"1.2.3.4/32 accept; flush ruleset\"},"
                                  " {\"protocol\": \"tcp\", \"from_port\": 1, \"to_port\": 2,"
                                  " \"cidr\": \"::/0\"},"
                                  " {\"protocol\": \"gre\", \"from_port\": null, \"to_port\": null,"
                                  " \"cidr\": \"0.0.0.0/0\"}]"),
                        false);
    assert_null(strstr(s, "flush"));
    assert_null(strstr(s, "::"));
    assert_null(strstr(s, "gre"));
    assert_null(strstr(s, "dport 1-2"));
    free(s);
    /* a port id that is not one: no chain at all; a MAC that is not one: no MAC rule */
    s = script_of(
        "[{\"port_id\": \"x\\\"; flush ruleset\", \"mac\": \"fa:16:3e:00:00:01\"},"
        " {\"port_id\": \"5e0a1b2c-3d4e\", \"mac\": \"zz; drop\", \"ip\": \"1.2.3.4 x\"}]",
        false);
    assert_null(strstr(s, "flush"));
    assert_null(strstr(s, "zz"));
    assert_null(strstr(s, "1.2.3.4 x"));
    assert_non_null(strstr(s, "chain to-tap5e0a1b2c-3d"));
    nft_accepts(s);
    free(s);
    /* no port: the table and its empty forward chain */
    s = script_of("[]", false);
    assert_null(strstr(s, "vmap"));
    nft_accepts(s);
    free(s);
}

int main(void) {
    log_init("test_firewall", LOG_ERROR);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(rules_become_nft_rules),
        cmocka_unit_test(bad_values_left_out),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
