/* networks.h — the built-in IPAM (sql/017_networks.sql) as the API files
 * use it: networks.c (os-networks, os-tenant-networks, floating IP pools,
 * the networks of a new server), floating_ips.c and interfaces.c
 * (os-interface, os-multinic). */
#ifndef CNOVA_NETWORKS_H
#define CNOVA_NETWORKS_H

#include "api.h"

/* One interface asked for: an existing port, or a network (and maybe a
 * fixed IP on it). tag may be NULL. */
struct nic_request {
    const char *net, *port, *ip, *tag;
};

/* The HTTP codes of the same failures, which differ by caller (server
 * create answers 400 where os-interface answers 404 or 409). */
struct nic_codes {
    int net_missing, port_missing, ip_in_use, port_in_use;
};
extern const struct nic_codes NIC_CREATE, NIC_ATTACH;

/* Checks (inst NULL: nothing written) or makes the interface of instance
 * `inst` in project `project`, inside the caller's transaction; port_out
 * (may be NULL) receives the port id. 0, or the error set on r. */
int networks_nic(struct req *r, const struct nic_request *n, const char *inst, const char *project,
                 const struct nic_codes *codes, char port_out[37]);
/* The network an interface goes to when none is named (the project's own,
 * then the shared one): 0 with its id in out, 1 when there is none, or the
 * HTTP error of a failed query. */
int networks_default(struct req *r, const char *project, char out[37]);

/* POST /servers: the "networks" value (NULL/"auto"/"none"/list) checked
 * before the transaction, then the ports made for each new instance. */
int networks_check(struct req *r, json_t *networks, long max_count);
enum db_status networks_allocate(struct req *r, const char *uuid, json_t *networks);

#endif
