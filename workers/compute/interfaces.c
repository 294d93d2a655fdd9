/* interfaces.c — cnova-compute's side of os-interface attach and detach
 * (and os-multinic): the port's interface is plugged into or unplugged
 * from the guest through the driver, and the outcome goes back to the
 * conductor (interface_op_done), which rolls the port back on failure.
 * get_guest_nics answers what the guest has (server diagnostics). */
#include <stdlib.h>
#include <string.h>

#include "cnova.h"
#include "compute_actions.h"
#include "compute_volumes.h"
#include "guest_host.h"

json_t *compute_interface_op(json_t *args, const char *host, const struct virt_driver *virt,
                             const struct guest_host *gh) {
    const char *uuid = json_string_value(json_object_get(args, "uuid"));
    const char *op = json_string_value(json_object_get(args, "op"));
    json_t *nic = json_object_get(args, "nic");
    struct virt_nic n;
    nic_of(nic, &n);
    if (!uuid || !op || !n.mac || !n.port_id)
        return rpc_failure("interface operation needs uuid, op and a nic");
    bool attach = !strcmp(op, "attach_interface");
    const char *why = NULL;
    /* a real guest's new port goes on the host's network first (plugging
     * the guest's ports is idempotent: the document lists them all) */
    json_t *doc = json_object_get(args, "metadata");
    int rc = gh && attach && doc ? guest_host_plug(gh, doc, &why) : 0;
    if (!rc) rc = attach ? virt->attach_nic(uuid, &n, &why) : virt->detach_nic(uuid, n.mac, &why);
    if (!rc && gh && !attach) guest_host_unplug_port(gh, uuid, n.mac);
    json_t *res = json_pack("{s:s,s:s,s:s,s:O,s:b}", "uuid", uuid, "host", host, "op", op, "nic",
                            nic, "ok", rc == 0);
    if (rc) json_object_set_new(res, "fault", json_string(why ? why : "failed"));
    if (rpc_cast_later("conductor", "interface_op_done", res) < 0)
        log_warn("%s of %s: outcome not sent to the conductor", op, n.port_id);
    log_info("%s of port %s on %s: %s", op, n.port_id, uuid, rc ? why : "done");
    return res;
}

json_t *compute_guest_nics(json_t *args, const struct virt_driver *virt) {
    const char *uuid = json_string_value(json_object_get(args, "uuid"));
    if (!uuid) return rpc_failure("get_guest_nics needs uuid");
    char *text = NULL;
    const char *why = NULL;
    int rc = virt->list_nics(uuid, &text, &why);
    if (rc == 2) return json_pack("{s:s}", "error", "InstanceNotFound");
    if (rc < 0) return rpc_failure("%s", why ? why : "cannot list the guest's interfaces");
    json_t *nics = json_loads(text, 0, NULL);
    free(text);
    if (!nics) return rpc_failure("the guest's interfaces could not be read");
    return json_pack("{s:o}", "nics", nics);
}
