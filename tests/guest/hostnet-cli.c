/* hostnet-cli.c — drives workers/compute/hostnet.c from the command line,
 * for tests/guest (a black-box test of the module and the guest image):
 *   hostnet-cli ensure STATE NET_ID CIDR GATEWAY|- DHCP_IP MTU
 *   hostnet-cli port-add STATE NET_ID MAC IP HOSTNAME|-
 *   hostnet-cli port-remove STATE NET_ID MAC
 *   hostnet-cli teardown STATE NET_ID
 *   hostnet-cli names NET_ID          (prints "bridge netns")
 * Exit 0 on success; 1 with the module's message on stderr; 2 on usage. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compute/hostnet.h"
#include "log.h"

static const char *opt(const char *s) {
    return strcmp(s, "-") ? s : NULL;
}

int main(int argc, char **argv) {
    log_init("hostnet-cli", LOG_WARNING);
    const char *cmd = argc > 1 ? argv[1] : "", *why = NULL;
    int rc;
    if (!strcmp(cmd, "ensure") && argc == 8) {
        struct hostnet_net n = {.id = argv[3],
                                .cidr = argv[4],
                                .gateway = opt(argv[5]),
                                .dhcp_ip = argv[6],
                                .mtu = atoi(argv[7])};
        rc = hostnet_net_ensure(argv[2], &n, &why);
    } else if (!strcmp(cmd, "port-add") && argc == 7) {
        rc = hostnet_port_add(argv[2], argv[3], argv[4], argv[5], opt(argv[6]), NULL, &why);
    } else if (!strcmp(cmd, "port-remove") && argc == 5) {
        rc = hostnet_port_remove(argv[2], argv[3], argv[4], &why);
    } else if (!strcmp(cmd, "teardown") && argc == 4) {
        rc = hostnet_net_teardown(argv[2], argv[3], &why);
    } else if (!strcmp(cmd, "names") && argc == 3) {
        char br[HOSTNET_NAME_LEN], ns[HOSTNET_NETNS_LEN];
        hostnet_bridge_name(argv[2], br, sizeof br);
        hostnet_netns_name(argv[2], ns, sizeof ns);
        printf("%s %s\n", br, ns);
        return 0;
    } else {
        fprintf(stderr, "usage: see the head of tests/guest/hostnet-cli.c\n");
        return 2;
    }
    if (rc < 0) fprintf(stderr, "hostnet-cli %s: %s\n", cmd, why);
    return rc < 0 ? 1 : 0;
}
