/* firewall.h — security groups on a real guest's taps, with nftables:
 * one table per compute host ("bridge" family, in the root namespace where
 * the taps join their network's bridge), rewritten whole and atomically
 * from what the conductor answers to host_firewall (every port of the
 * host's instances with the ingress rules of its groups) whenever a guest
 * is plugged or unplugged, the groups change (refresh_firewall) or the
 * power-state sync runs.
 *
 * Into a guest: ARP; what comes from its network's namespace (the DHCP
 * server, the metadata proxy, the operator's `ip netns exec qdhcp-...`);
 * replies to what the guest opened; and what a rule of one of its groups
 * lets in (protocol, ports or ICMP type/code, from a CIDR or from the
 * addresses of another group's members). Everything else is dropped, as
 * nova-network's firewall did for a group without rules. Out of a guest:
 * anything, from its own MAC and address only (DHCP's 0.0.0.0 aside).
 * Replies are recognised by connection tracking where the kernel has it
 * for bridges (nf_conntrack_bridge); where it does not, statelessly: TCP
 * segments that do not open a connection, ICMP errors and echo replies,
 * UDP from DNS, DHCP and NTP ports. IPv4 only, as the guest networks. */
#ifndef CNOVA_FIREWALL_H
#define CNOVA_FIREWALL_H

#include <stdbool.h>

#include <jansson.h>

struct sbuf;

struct firewall {
    char table[96]; /* "cnova_<host>_<hash of the state folder>" */
    char path[720]; /* the last script loaded: <state_dir>/firewall/<table>.nft */
    bool stateful;  /* the kernel tracks connections through bridges */
};

/* Names the host's table and finds out whether the kernel can track
 * connections on bridges. Returns 0, or -1 with *why when nft cannot run. */
int firewall_init(struct firewall *fw, const char *host, const char *state_dir, const char **why);

/* The nft script that replaces `table` with the rules of `ports` (the
 * host_firewall answer). Values that are not what they claim (a MAC, an
 * address, a CIDR) are left out, never written into the script. */
void firewall_script(const char *table, bool stateful, const json_t *ports, struct sbuf *out);

/* Loads the script of `ports`. Returns 0, or -1 with *why. */
int firewall_apply(const struct firewall *fw, const json_t *ports, const char **why);

#endif
