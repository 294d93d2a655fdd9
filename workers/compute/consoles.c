/* consoles.c — cnova-compute's side of remote consoles (Nova's compute
 * manager get_vnc_console / get_spice_console / get_serial_console /
 * get_mks_console): is the protocol enabled on this host, is the type one
 * it serves, and where does the guest's console listen. The API makes the
 * console auth token from this answer (compute hosts write no database). */
#include <string.h>

#include "cnova.h"
#include "compute_actions.h"

/* One protocol: its config section and whether it is on by default, the
 * console types it serves with the option (and Nova's default) of each
 * type's proxy URL, the option naming the address proxies reach the guest
 * on (NULL: the driver's own), and the driver's console kind (NULL: the
 * libvirt driver has none, Nova's NotImplementedError). */
static const struct protocol {
    const char *name, *section;
    int enabled;
    struct {
        const char *type, *url_option, *url_default;
    } types[2];
    const char *proxyclient_option, *kind;
} protocols[] = {
    {"vnc",
     "vnc",
     1,
     {{"novnc", "novncproxy_base_url", "http://127.0.0.1:6080/vnc_auto.html"}},
     "server_proxyclient_address",
     "vnc"},
    {"spice",
     "spice",
     0,
     {{"spice-html5", "html5proxy_base_url", "http://127.0.0.1:6082/spice_auto.html"},
      {"spice-direct", "spice_direct_proxy_base_url", "http://127.0.0.1:13002/nova"}},
     "server_proxyclient_address",
     "spice"},
    {"serial",
     "serial_console",
     0,
     {{"serial", "base_url", "ws://127.0.0.1:6083/"}},
     NULL,
     "serial"},
    {"mks", "mks", 0, {{"webmks", "mksproxy_base_url", "http://127.0.0.1:6090/"}}, NULL, NULL},
};

static json_t *refuse(const char *error, const char *console_type) {
    return json_pack("{s:s, s:s}", "error", error, "console_type", console_type);
}

json_t *compute_remote_console(json_t *args, const struct virt_driver *virt) {
    const char *uuid = json_string_value(json_object_get(args, "uuid"));
    const char *proto = json_string_value(json_object_get(args, "protocol"));
    const char *type = json_string_value(json_object_get(args, "console_type"));
    if (!uuid || !proto || !type)
        return rpc_failure("get_remote_console needs uuid, protocol, console_type");
    const struct protocol *p = NULL;
    for (size_t i = 0; i < sizeof protocols / sizeof protocols[0]; i++)
        if (!strcmp(protocols[i].name, proto)) p = &protocols[i];
    if (!p) return refuse("ConsoleTypeInvalid", type);
    if (!config_bool(p->section, "enabled", p->enabled))
        return refuse("ConsoleTypeUnavailable", type);
    int t = -1;
    for (int i = 0; i < 2 && t < 0; i++)
        if (p->types[i].type && !strcmp(p->types[i].type, type)) t = i;
    if (t < 0) return refuse("ConsoleTypeInvalid", type);
    if (!p->kind || !virt->console) return json_pack("{s:s}", "error", "NotImplemented");

    struct virt_console vc;
    const char *why = NULL;
    int rc = virt->console(uuid, p->kind, &vc, &why);
    if (rc == 2) return json_pack("{s:s}", "error", "InstanceNotFound");
    /* the driver names the protocol, not the type, as Nova's does */
    if (rc == 1) return refuse("ConsoleTypeUnavailable", p->kind);
    if (rc < 0) return rpc_failure("%s", why ? why : "console lookup failed");
    const char *host = p->proxyclient_option
                           ? config_get(p->section, p->proxyclient_option, "127.0.0.1")
                           : vc.host;
    json_t *res =
        json_pack("{s:s, s:s, s:i, s:n, s:s}", "console_type", type, "host", host, "port", vc.port,
                  "internal_access_path", "access_url_base",
                  config_get(p->section, p->types[t].url_option, p->types[t].url_default));
    json_object_set_new(res, "tls_port", vc.tls_port > 0 ? json_integer(vc.tls_port) : json_null());
    return res;
}
