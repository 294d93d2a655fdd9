/* hostnet.h — the host side of guest networks, laid out as Neutron's
 * linuxbridge agent and DHCP agent do, for cnova-compute (run as root).
 *
 * Per network (id = the network's uuid, its first 11 characters name things):
 *   brq<id11>            a Linux bridge in the root namespace, no address;
 *                        guests' taps join it (libvirt <interface type='bridge'>)
 *   qdhcp-<id>           a network namespace holding the DHCP server
 *   tap<id11> / ns-<id11> a veth pair: tap on the bridge, ns- in the namespace,
 *                        with the subnet's DHCP address and 169.254.169.254/32,
 *                        where cnova-metadata-proxy answers (when asked for)
 *   dnsmasq              in the namespace, static leases only: one line
 *                        "MAC,IP[,hostname]" per port in a hosts file it
 *                        rereads on SIGHUP; it offers the gateway (if any) as
 *                        the default route, a route to 169.254.169.254 via
 *                        the DHCP address (options 121 and 249), the MTU and
 *                        the DNS servers (if any). It serves no DNS.
 * Files live in <state_dir>/dhcp/<id>/: hosts, opts, leases, pid, log, and
 * the metadata proxy's metadata-ports ("IP INSTANCE PROJECT" lines),
 * metadata-proxy.pid and .log.
 * dnsmasq drops root for "nobody", which must be able to reach those files
 * (every folder above state_dir searchable by others).
 *
 * Commands run as fork+exec of `ip`, `dnsmasq` and `dhcp_release` with
 * argument vectors (never a shell); every call is idempotent and finds what
 * an earlier process left (a compute restart keeps its networks). Nothing
 * is touched but the names above. IPv4 only.
 *
 * Every int function returns 0 on success, -1 on failure with *why set to a
 * message that lives until the next call of this module in the same thread. */
#ifndef CNOVA_HOSTNET_H
#define CNOVA_HOSTNET_H

#include <stddef.h>

/* A network as the DHCP server needs it (the networks row of sql/017). */
struct hostnet_net {
    const char *id;      /* the network's uuid */
    const char *cidr;    /* its subnet, "10.0.0.0/24" */
    const char *gateway; /* the subnet's router; NULL or "": none offered */
    const char *dhcp_ip; /* the DHCP server's address in cidr, which the
                          * IPAM must never give to a port */
    const char *dns1;    /* DNS servers offered; NULL or "": none */
    const char *dns2;
    int mtu; /* 0: 1500 */
    /* The metadata proxy to run in the namespace on 169.254.169.254:80:
     * the argument vector of cnova-metadata-proxy up to (not including)
     * its --ports and --pid-file, which this module adds (its files in the
     * network's folder). NULL: none. */
    const char *const *metadata_proxy;
};

/* Interface names are at most 14 characters: 16 bytes hold any of them. */
#define HOSTNET_NAME_LEN 16
/* Namespace names: "qdhcp-" + the network id. */
#define HOSTNET_NETNS_LEN 64

/* Creates what is missing of the layout above and brings what is there in
 * line with n (addresses, MTU, DHCP options; dnsmasq restarted only when
 * its command line changes, else sent SIGHUP). */
int hostnet_net_ensure(const char *state_dir, const struct hostnet_net *n, const char **why);

/* "brq<id11>": the bridge a guest's interface of this network joins. */
void hostnet_bridge_name(const char *network_id, char *out, size_t len);
/* "qdhcp-<id>": the namespace from which the network's guests are reached. */
void hostnet_netns_name(const char *network_id, char *out, size_t len);

/* Gives mac the static lease ip (hostname: NULL, or a name whose first
 * label is offered as option 12), replacing any entry of the same MAC or IP,
 * and tells dnsmasq; `owner` ("<instance uuid> <project id>", or NULL) is
 * whom the metadata proxy answers for at ip. The network must have been
 * ensured. */
int hostnet_port_add(const char *state_dir, const char *network_id, const char *mac, const char *ip,
                     const char *hostname, const char *owner, const char **why);
/* Drops mac's lease (a missing one is fine) and releases it in dnsmasq, so
 * that its address can go to another port at once; the metadata proxy no
 * longer answers for that address. */
int hostnet_port_remove(const char *state_dir, const char *network_id, const char *mac,
                        const char **why);

/* How many ports have a lease on the network here (0 when it is not set up):
 * the compute tears a network down when its last port has gone. */
int hostnet_port_count(const char *state_dir, const char *network_id);

/* Stops the network's dnsmasq (by its pid file, checked to be ours), removes
 * the namespace, the veth pair, the bridge and the state files. Missing
 * pieces are fine. */
int hostnet_net_teardown(const char *state_dir, const char *network_id, const char **why);

#endif
