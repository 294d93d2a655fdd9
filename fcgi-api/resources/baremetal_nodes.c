/* baremetal_nodes.c — os-baremetal-nodes (up to 2.35), Nova's proxy to
 * Ironic. Creating or deleting nodes and their interfaces was never
 * proxied: Nova answers 400 and names the Ironic command to use instead.
 * Listing and showing nodes need an Ironic to ask; cnova has none, so
 * those two routes stay not built (501). */
#include "api.h"

static int use_ironic(struct req *r, const char *cmd) {
    return api_error(r, 400,
                     "Command not supported. Please use Ironic command %s to perform this action.",
                     cmd);
}

int baremetal_nodes_create(struct req *r) {
    return use_ironic(r, "node-create");
}

int baremetal_nodes_delete(struct req *r) {
    return use_ironic(r, "node-delete");
}

int baremetal_nodes_add_interface(struct req *r) {
    return use_ironic(r, "port-create");
}

int baremetal_nodes_remove_interface(struct req *r) {
    return use_ironic(r, "port-delete");
}
