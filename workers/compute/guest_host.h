/* guest_host.h — what a real guest needs of its host besides the
 * hypervisor: its ports on the host's networks (hostnet.h: the network's
 * bridge and qdhcp namespace, a static DHCP lease, the metadata proxy
 * answering for its address) and its config drive (configdrive.h), both
 * from the metadata document the conductor sends with the build
 * (lib/metadata.h). Simulated hosts (libvirt's test driver) have neither.
 *
 * What a guest was given is recorded in <state_dir>/ports/<uuid> ("network
 * mac" lines), so that unplugging needs nothing but the uuid and survives a
 * compute restart; a network whose last port has gone is torn down. All the
 * compute hosts of a machine share one state_dir (and so one DHCP server per
 * network). */
#ifndef CNOVA_GUEST_HOST_H
#define CNOVA_GUEST_HOST_H

#include <stdbool.h>

#include <jansson.h>

struct firewall;

struct guest_host {
    const char *host;              /* [DEFAULT] host */
    const char *state_dir;         /* [compute] network_state_path */
    struct firewall *fw;           /* the host's security groups; NULL: none */
    const char *const *proxy_argv; /* cnova-metadata-proxy's first arguments; NULL: none */
    const char *domain;            /* [api] dhcp_domain */
    bool force_config_drive;       /* [DEFAULT] force_config_drive */
};

/* Plugs every port of `doc` that has an address on a DHCP network.
 * Returns 0, or -1 with *why (what is plugged already stays recorded, for
 * guest_host_unplug). */
int guest_host_plug(const struct guest_host *g, const json_t *doc, const char **why);
/* Loads the host's security group rules (firewall.h) as the conductor has
 * them now, but for the ports of instance `gone` (NULL: none) with MAC
 * `gone_mac` (NULL: all of its ports), which are being unplugged; plugging
 * and unplugging do it themselves. Failures are logged. */
void guest_host_firewall(const struct guest_host *g, const char *gone, const char *gone_mac);
/* Unplugs what guest_host_plug recorded for `uuid`; nothing recorded is
 * fine. Failures are logged. */
void guest_host_unplug(const struct guest_host *g, const char *uuid);
/* Unplugs the one port of `uuid` with MAC `mac` (an interface detached). */
void guest_host_unplug_port(const struct guest_host *g, const char *uuid, const char *mac);
/* Writes the config drive of `doc` to `path` when the server asked for one
 * (or force_config_drive). Returns 1 when written, 0 when none is wanted,
 * -1 with *why. */
int guest_host_config_drive(const struct guest_host *g, const json_t *doc, const char *path,
                            const char **why);
struct virt_spec;
/* All a real guest needs of this host before it is defined (a build, an
 * unshelve): its folder, its config drive (v->config_drive set when one is
 * written) and its ports plugged. Returns 0, or -1 with *why. */
int guest_host_prepare(const struct guest_host *g, const json_t *doc, struct virt_spec *v,
                       const char **why);

#endif
