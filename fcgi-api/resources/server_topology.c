/* server_topology.c — GET /servers/{server_id}/topology (2.78+): the
 * server's NUMA cells (vCPUs, siblings, memory, and for admins the host
 * node and CPU pinning). cnova places no server on NUMA cells, so every
 * server answers as Nova does for one without a NUMA topology. */
#include "api.h"

int server_topology_index(struct req *r) {
    struct instance_ref inst;
    int rc = instance_find(r, req_param(r, "server_id"), &inst);
    if (rc) return rc;
    return api_reply(r, 200, json_pack("{s:[],s:n}", "nodes", "pagesize_kb"));
}
