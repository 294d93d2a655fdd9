/* libvirt.c — the virt_driver of cnova-compute on libvirt.
 *
 * One connection per process, opened with [compute] libvirt_uri and
 * reopened when libvirt reports it dead (libvirtd restarted). Our domains
 * are told apart from foreign ones by the instance metadata element in
 * Nova's libvirt namespace, which cnova writes when it defines a guest.
 * On QEMU/KVM a guest has files (disks.c) made before it is defined and
 * removed with it; power operations wait for the guest as Nova's driver
 * does (a clean shutdown, then destroy). The XML is domxml.c's. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#include "config.h"
#include "disks.h"
#include "domxml.h"
#include "log.h"
#include "util.h"
#include "virt.h"

static virConnectPtr conn;
static char *conn_uri;

/* libvirt prints every error to stderr by default; we log what matters. */
static void quiet(void *ud, virErrorPtr err) {
    (void)ud;
    (void)err;
}

static const char *lasterr(void) {
    virErrorPtr e = virGetLastError();
    return e && e->message ? e->message : "unknown libvirt error";
}

static int lv_open(const char *uri) {
    virSetErrorFunc(NULL, quiet);
    if (uri != conn_uri) {
        free(conn_uri);
        conn_uri = strdup(uri);
    }
    if (conn) virConnectClose(conn);
    conn = virConnectOpen(conn_uri);
    if (!conn) {
        log_error("libvirt: cannot open %s: %s", conn_uri, lasterr());
        return -1;
    }
    log_info("libvirt: connected to %s", conn_uri);
    return 0;
}

static void lv_close(void) {
    if (conn) virConnectClose(conn);
    conn = NULL;
    free(conn_uri);
    conn_uri = NULL;
}

static int ensure(void) {
    if (conn && virConnectIsAlive(conn) == 1) return 0;
    if (!conn_uri) return -1;
    return lv_open(conn_uri);
}

static int lv_host_info(struct virt_host_info *out) {
    memset(out, 0, sizeof *out);
    if (ensure() < 0) return -1;
    virNodeInfo ni;
    if (virNodeGetInfo(conn, &ni) < 0) {
        log_error("libvirt: node info: %s", lasterr());
        return -1;
    }
    out->vcpus = (int)ni.cpus;
    out->cpu_mhz = (int)ni.mhz;
    out->memory_mb = (long)(ni.memory / 1024);
    snprintf(out->cpu_model, sizeof out->cpu_model, "%s", ni.model);
    const char *type = virConnectGetType(conn);
    snprintf(out->hypervisor_type, sizeof out->hypervisor_type, "%s", type ? type : "");
    unsigned long v = 0;
    if (virConnectGetVersion(conn, &v) == 0) out->hypervisor_version = v;
    char *h = virConnectGetHostname(conn);
    snprintf(out->hypervisor_hostname, sizeof out->hypervisor_hostname, "%s", h ? h : "");
    free(h);
    int n = virConnectNumOfDomains(conn);
    out->running_domains = n > 0 ? n : 0;
    return 0;
}

static int power_state(int st) {
    switch (st) {
    case VIR_DOMAIN_RUNNING:
    case VIR_DOMAIN_BLOCKED:
        return VIRT_RUNNING;
    case VIR_DOMAIN_PAUSED:
        return VIRT_PAUSED;
    case VIR_DOMAIN_SHUTDOWN:
    case VIR_DOMAIN_SHUTOFF:
        return VIRT_SHUTDOWN;
    case VIR_DOMAIN_CRASHED:
        return VIRT_CRASHED;
    case VIR_DOMAIN_PMSUSPENDED:
        return VIRT_SUSPENDED;
    default:
        return VIRT_NOSTATE;
    }
}

static int lv_list_instances(struct virt_instance **out, size_t *n) {
    *out = NULL;
    *n = 0;
    if (ensure() < 0) return -1;
    virDomainPtr *doms = NULL;
    int nd = virConnectListAllDomains(conn, &doms, 0);
    if (nd < 0) {
        log_error("libvirt: list domains: %s", lasterr());
        return -1;
    }
    struct virt_instance *v = calloc(nd ? (size_t)nd : 1, sizeof *v);
    size_t k = 0;
    for (int i = 0; i < nd; i++) {
        char *meta = virDomainGetMetadata(doms[i], VIR_DOMAIN_METADATA_ELEMENT, DOMXML_NOVA_NS, 0);
        if (meta) {
            struct virt_instance *x = &v[k++];
            snprintf(x->name, sizeof x->name, "%s", virDomainGetName(doms[i]));
            virDomainGetUUIDString(doms[i], x->uuid);
            virDomainInfo di;
            if (virDomainGetInfo(doms[i], &di) == 0) {
                x->power_state = power_state(di.state);
                x->vcpus = di.nrVirtCpu;
                x->memory_mb = (long)(di.maxMem / 1024);
            }
            free(meta);
        }
        virDomainFree(doms[i]);
    }
    free(doms);
    *out = v;
    *n = k;
    return 0;
}

/* A real hypervisor (QEMU/KVM), not libvirt's test driver: its guests
 * have files (disks.c) and take time to shut down. */
static bool real_hypervisor(void) {
    const char *type = virConnectGetType(conn);
    return !type || strcmp(type, "TEST");
}

static int lv_spawn(const struct virt_spec *v, int start, const char **why) {
    *why = NULL;
    if (ensure() < 0) {
        *why = "hypervisor unreachable";
        return -1;
    }
    struct disks_layout files;
    bool real = real_hypervisor();
    if (real) {
        /* the files first (kept when they are there: a guest defined
         * again keeps its disks), so that a defined guest can boot */
        if (disks_layout_of(disks_instances_path(), v, &files) < 0) {
            *why = "no instance folder can be named after this uuid";
            return -1;
        }
        if (disks_prepare(v, &files, why) < 0) return -1;
    }
    virDomainPtr d = virDomainLookupByUUIDString(conn, v->uuid);
    if (!d) {
        /* [libvirt] virt_type, Nova's option: kvm, or qemu (TCG) */
        struct domxml_opts o = {.type = real ? config_get("libvirt", "virt_type", "kvm") : "test",
                                .files = real ? &files : NULL,
                                .skip_missing_bridges = real};
        char *xml = domxml_domain(v, &o);
        d = virDomainDefineXML(conn, xml);
        free(xml);
        if (!d) {
            log_error("libvirt: define %s: %s", v->uuid, lasterr());
            *why = "could not define the guest";
            return -1;
        }
    }
    int rc = -1;
    virDomainInfo di;
    if (virDomainGetInfo(d, &di) < 0) {
        *why = "could not read the guest's state";
    } else if (start && di.state != VIR_DOMAIN_RUNNING && virDomainCreate(d) < 0) {
        log_error("libvirt: start %s: %s", v->uuid, lasterr());
        *why = "could not start the guest";
    } else {
        rc = start ? VIRT_RUNNING : power_state(di.state);
    }
    virDomainFree(d);
    return rc;
}

/* Powers off and undefines the guest, then (on a real hypervisor) removes
 * its folder: disks, kernel, console log. The image cache stays. */
static int lv_destroy(const char *uuid) {
    if (ensure() < 0) return -1;
    int rc = 0;
    virDomainPtr d = virDomainLookupByUUIDString(conn, uuid);
    if (d) {
        if (virDomainIsActive(d) == 1 && virDomainDestroy(d) < 0)
            log_warn("libvirt: destroy %s: %s", uuid, lasterr());
        if (virDomainUndefineFlags(d, VIR_DOMAIN_UNDEFINE_MANAGED_SAVE |
                                          VIR_DOMAIN_UNDEFINE_NVRAM) < 0 &&
            virDomainUndefine(d) < 0) {
            log_error("libvirt: undefine %s: %s", uuid, lasterr());
            rc = -1;
        }
        virDomainFree(d);
    }
    if (rc == 0 && real_hypervisor() && disks_remove(disks_instances_path(), uuid) < 0) {
        log_error("files of %s not removed", uuid);
        rc = -1;
    }
    return rc;
}

static int dom_power_state(virDomainPtr d) {
    virDomainInfo di;
    return virDomainGetInfo(d, &di) == 0 ? power_state(di.state) : VIRT_NOSTATE;
}

/* Boots a defined guest unless it runs (a paused one is resumed). */
static int boot(virDomainPtr d) {
    virDomainInfo di;
    if (virDomainGetInfo(d, &di) < 0) return -1;
    if (di.state == VIR_DOMAIN_RUNNING || di.state == VIR_DOMAIN_BLOCKED) return 0;
    if (di.state == VIR_DOMAIN_PAUSED) return virDomainResume(d);
    return virDomainCreate(d);
}

static void (*wait_hook)(void *ud);
static void *wait_ud;

void virt_set_wait_hook(void (*fn)(void *ud), void *ud) {
    wait_hook = fn;
    wait_ud = ud;
}

/* Nova's clean shutdown: asks the guest to power off (ACPI), again every
 * [compute] shutdown_retry_interval seconds, and waits up to `secs` for it
 * to be off. False when it is still running then: a guest that ignores
 * ACPI is the caller's to destroy. (The test driver stops at once.) */
static bool clean_shutdown(virDomainPtr d, long secs) {
    long retry = config_int("compute", "shutdown_retry_interval", 10);
    double start = now_ms(), ask = start;
    while (virDomainIsActive(d) == 1) {
        double now = now_ms();
        if (now - start >= secs * 1000.0) return false;
        if (now >= ask) {
            virDomainShutdown(d);
            ask = now + (retry > 0 ? retry : 10) * 1000.0;
        }
        if (wait_hook) wait_hook(wait_ud);
        usleep(200 * 1000);
    }
    return true;
}

/* Clean shutdown within [DEFAULT] shutdown_timeout, then destroy. */
static int power_off(virDomainPtr d) {
    if (clean_shutdown(d, config_int("DEFAULT", "shutdown_timeout", 60))) return 0;
    log_warn("libvirt: %s ignored the shutdown request: destroying it", virDomainGetName(d));
    return virDomainDestroy(d);
}

/* Nova's soft reboot: a clean shutdown within [libvirt]
 * wait_soft_reboot_seconds, then boot again; a guest that does not go
 * down in time is rebooted hard (destroyed and booted). */
static int reboot(virDomainPtr d, bool soft) {
    if (soft && virDomainIsActive(d) == 1 &&
        !clean_shutdown(d, config_int("libvirt", "wait_soft_reboot_seconds", 120)))
        log_warn("libvirt: %s did not shut down for a soft reboot: rebooting it hard",
                 virDomainGetName(d));
    if (virDomainIsActive(d) == 1 && virDomainDestroy(d) < 0) return -1;
    return boot(d);
}

static int lv_power(const char *uuid, enum virt_op op, const char **why) {
    static const char *const names[] = {"start",   "stop",    "reboot", "reboot",    "pause",
                                        "unpause", "suspend", "resume", "crash dump"};
    *why = NULL;
    if (ensure() < 0) {
        *why = "hypervisor unreachable";
        return -1;
    }
    virDomainPtr d = virDomainLookupByUUIDString(conn, uuid);
    if (!d) {
        *why = "the guest is not defined on this host";
        return -1;
    }
    int rc = 0;
    switch (op) {
    case VIRT_OP_START:
    case VIRT_OP_RESUME:
        rc = boot(d);
        break;
    case VIRT_OP_STOP:
        rc = power_off(d);
        break;
    case VIRT_OP_REBOOT_SOFT:
    case VIRT_OP_REBOOT_HARD:
        rc = reboot(d, op == VIRT_OP_REBOOT_SOFT);
        break;
    case VIRT_OP_PAUSE:
        rc = virDomainSuspend(d);
        break;
    case VIRT_OP_UNPAUSE:
        rc = virDomainResume(d);
        break;
    case VIRT_OP_SUSPEND:
        rc = virDomainManagedSave(d, 0);
        break;
    case VIRT_OP_CRASH_DUMP:
        rc = virDomainInjectNMI(d, 0);
        break;
    }
    int ps = -1;
    if (rc < 0) {
        log_error("libvirt: %s %s: %s", names[op], uuid, lasterr());
        *why = op == VIRT_OP_CRASH_DUMP ? "Triggering crash dump is not supported"
                                        : "the hypervisor refused the operation";
    } else {
        ps = dom_power_state(d);
    }
    virDomainFree(d);
    return ps;
}

/* ---- devices: a disk per attached volume, an interface per port ----
 * Hot-plug first (live and persistent); where the hypervisor cannot (the
 * test driver), the persistent definition is rewritten with the device
 * added or removed, which the guest sees from its next boot. */

/* A kind of device: its element, and the child that names one of them. */
struct dev_kind {
    const char *tag;     /* "disk" */
    const char *key_fmt; /* "<serial>%s</serial>" */
};

static const struct dev_kind DISK = {"disk", "<serial>%s</serial>"};
static const struct dev_kind NIC = {"interface", "<mac address='%s'/>"};

/* The persistent definition's element of `kind` named `key`: its start in
 * *from and its end in *to, or 0 when there is none. */
static int find_dev(const char *xml, const struct dev_kind *kind, const char *key,
                    const char **from, const char **to) {
    char name[160], open[32], close[32];
    snprintf(name, sizeof name, kind->key_fmt, key);
    snprintf(open, sizeof open, "<%s ", kind->tag);
    snprintf(close, sizeof close, "</%s>", kind->tag);
    const char *at = strstr(xml, name);
    if (!at) return 0;
    const char *start = NULL;
    for (const char *p = strstr(xml, open); p && p < at; p = strstr(p + 1, open))
        start = p;
    const char *end = strstr(at, close);
    if (!start || !end) return 0;
    *from = start;
    *to = end + strlen(close);
    return 1;
}

/* Rewrites d's persistent definition: `add` (an element of `kind`)
 * inserted, or the one named `key` cut out. Returns 0 or -1. */
static int redefine(virDomainPtr d, const struct dev_kind *kind, const char *add, const char *key) {
    char *xml = virDomainGetXMLDesc(d, VIR_DOMAIN_XML_INACTIVE | VIR_DOMAIN_XML_SECURE);
    if (!xml) return -1;
    struct sbuf b = {0};
    const char *from, *to;
    int rc = 0;
    if (find_dev(xml, kind, key, &from, &to)) {
        if (add) goto done; /* already there */
        sbuf_add(&b, xml, (size_t)(from - xml));
        sbuf_addf(&b, "%s", to);
    } else if (!add) {
        goto done; /* already gone */
    } else {
        const char *at = strstr(xml, "</devices>");
        const char *tail = at ? at : strstr(xml, "</domain>");
        if (!tail) {
            rc = -1;
            goto done;
        }
        sbuf_add(&b, xml, (size_t)(tail - xml));
        sbuf_addf(&b, "%s%s%s%s", at ? "" : "<devices>", add, at ? "" : "</devices>", tail);
    }
    virDomainPtr nd = virDomainDefineXML(conn, b.s);
    if (nd) virDomainFree(nd);
    rc = nd ? 0 : -1;
done:
    sbuf_free(&b);
    free(xml);
    return rc;
}

static unsigned int affect(virDomainPtr d) {
    return VIR_DOMAIN_AFFECT_CONFIG | (virDomainIsActive(d) == 1 ? VIR_DOMAIN_AFFECT_LIVE : 0);
}

static bool unsupported(void) {
    virErrorPtr e = virGetLastError();
    return e && e->code == VIR_ERR_NO_SUPPORT;
}

/* Adds `add` (owned, freed here), or with add NULL removes the element
 * of `kind` named `key`, on the guest of `uuid`. Returns 0 or -1. */
static int lv_device(const char *uuid, const struct dev_kind *kind, const char *key, char *add,
                     const char **why) {
    *why = NULL;
    if (ensure() < 0) {
        free(add);
        *why = "hypervisor unreachable";
        return -1;
    }
    virDomainPtr d = virDomainLookupByUUIDString(conn, uuid);
    if (!d) {
        free(add);
        *why = "the guest is not defined on this host";
        return -1;
    }
    char *xml = NULL;
    int rc = 0;
    char *cur = virDomainGetXMLDesc(d, VIR_DOMAIN_XML_INACTIVE);
    const char *from, *to;
    bool present = cur && find_dev(cur, kind, key, &from, &to);
    if (add && !present)
        rc = virDomainAttachDeviceFlags(d, add, affect(d));
    else if (!add && present)
        rc = virDomainDetachDeviceFlags(d, xml = strndup(from, (size_t)(to - from)), affect(d));
    free(cur);
    if (rc < 0 && unsupported()) rc = redefine(d, kind, add, key);
    if (rc < 0) {
        log_error("libvirt: %s %s %s of %s: %s", add ? "attach" : "detach", kind->tag, key, uuid,
                  lasterr());
        *why = add ? (kind == &NIC ? "the hypervisor refused to attach the network adapter"
                                   : "the hypervisor refused to attach the disk")
                   : (kind == &NIC ? "the hypervisor refused to detach the network adapter"
                                   : "the hypervisor refused to detach the disk");
    }
    free(xml);
    free(add);
    virDomainFree(d);
    return rc < 0 ? -1 : 0;
}

static int lv_attach_disk(const char *uuid, const struct virt_disk *disk, const char **why) {
    return lv_device(uuid, &DISK, disk->serial, domxml_volume(disk), why);
}

static int lv_detach_disk(const char *uuid, const char *serial, const char **why) {
    return lv_device(uuid, &DISK, serial, NULL, why);
}

static int lv_attach_nic(const char *uuid, const struct virt_nic *nic, const char **why) {
    struct sbuf b = {0};
    domxml_nic(&b, nic);
    return lv_device(uuid, &NIC, nic->mac, b.s, why);
}

static int lv_detach_nic(const char *uuid, const char *mac, const char **why) {
    return lv_device(uuid, &NIC, mac, NULL, why);
}

/* The value of attribute `name` of the element starting at `tag` (before
 * `end`) into out; false when absent. */
static bool xml_attr(const char *tag, const char *end, const char *name, char *out, size_t len) {
    const char *close = strchr(tag, '>');
    if (!close || close > end) close = end;
    size_t n = strlen(name);
    for (const char *p = tag; (p = strstr(p, name)) && p < close; p += n) {
        if (p[-1] != ' ' || p[n] != '=' || (p[n + 1] != '\'' && p[n + 1] != '"')) continue;
        const char *v = p + n + 2, *q = strchr(v, p[n + 1]);
        if (!q || q > close) return false;
        snprintf(out, len, "%.*s", (int)(q - v), v);
        return true;
    }
    return false;
}

/* Nova's get_console_output: the log of the guest's first file, tcp or pty
 * console (its last 100 KiB; "" while the file does not exist yet). */
static int lv_console_output(const char *uuid, char **out, const char **why) {
    *out = NULL;
    *why = NULL;
    if (ensure() < 0) {
        *why = "hypervisor unreachable";
        return -1;
    }
    virDomainPtr d = virDomainLookupByUUIDString(conn, uuid);
    if (!d) {
        *why = "the guest is not defined on this host";
        return -1;
    }
    char *xml = virDomainGetXMLDesc(d, 0);
    virDomainFree(d);
    if (!xml) {
        *why = "the hypervisor did not describe the guest";
        return -1;
    }
    static const char *const sources[][3] = {
        {"file", "<source ", "path"}, {"tcp", "<log ", "file"}, {"pty", "<source ", "path"}};
    char path[1024] = "", type[16];
    for (size_t i = 0; i < 3 && !path[0]; i++)
        for (const char *c = xml; !path[0] && (c = strstr(c, "<console ")); c++) {
            const char *end = strstr(c, "</console>");
            if (!end) end = c + strlen(c);
            if (!xml_attr(c, end, "type", type, sizeof type) || strcmp(type, sources[i][0]))
                continue;
            const char *e = strstr(c, sources[i][1]);
            if (e && e < end) xml_attr(e, end, sources[i][2], path, sizeof path);
        }
    free(xml);
    if (!path[0]) return 1; /* ConsoleNotAvailable */
    struct sbuf b = {0};
    sbuf_add(&b, "", 0);
    FILE *f = fopen(path, "rb");
    if (f) {
        if (fseek(f, -100 * 1024, SEEK_END) != 0) rewind(f);
        char buf[4096];
        size_t n;
        while ((n = fread(buf, 1, sizeof buf, f)) > 0)
            for (size_t i = 0; i < n; i++) /* text: Nova drops NULs anyway */
                if (buf[i]) sbuf_add(&b, &buf[i], 1);
        fclose(f);
    }
    *out = b.s;
    return 0;
}

/* The element `<tag ` at or after `from` whose `type` attribute is `type`,
 * and the end of that element (its closing tag, or the end of the text). */
static const char *find_typed(const char *from, const char *tag, const char *type,
                              const char **end) {
    char open[32], close[32], t[32];
    snprintf(open, sizeof open, "<%s ", tag);
    snprintf(close, sizeof close, "</%s>", tag);
    for (const char *c = from; (c = strstr(c, open)); c++) {
        const char *e = strstr(c, close);
        const char *gt = strchr(c, '>');
        if (gt && gt[-1] == '/' && (!e || gt < e)) e = gt; /* <tag .../> */
        if (!e) e = c + strlen(c);
        if (xml_attr(c, e, "type", t, sizeof t) && !strcmp(t, type)) {
            *end = e;
            return c;
        }
    }
    return NULL;
}

static int lv_console(const char *uuid, const char *kind, struct virt_console *out,
                      const char **why) {
    memset(out, 0, sizeof *out);
    out->tls_port = -1;
    *why = NULL;
    if (ensure() < 0) {
        *why = "hypervisor unreachable";
        return -1;
    }
    virDomainPtr d = virDomainLookupByUUIDString(conn, uuid);
    if (!d) return 2;
    char *xml = virDomainGetXMLDesc(d, 0);
    virDomainFree(d);
    if (!xml) {
        *why = "the hypervisor did not describe the guest";
        return -1;
    }
    char port[16] = "", tls[16] = "";
    const char *el = NULL, *end = NULL;
    if (strcmp(kind, "serial")) {
        el = find_typed(xml, "graphics", kind, &end);
        if (el) {
            xml_attr(el, end, "port", port, sizeof port);
            xml_attr(el, end, "tlsPort", tls, sizeof tls);
            xml_attr(el, end, "listen", out->host, sizeof out->host);
        }
    } else {
        /* tcp serial ports first, then tcp consoles; the source in bind mode */
        static const char *const tags[] = {"serial", "console"};
        for (int i = 0; i < 2 && !port[0]; i++)
            for (const char *c = xml; !port[0] && (c = find_typed(c, tags[i], "tcp", &end)); c++) {
                const char *src = strstr(c, "<source ");
                char mode[16];
                if (src && src < end && xml_attr(src, end, "mode", mode, sizeof mode) &&
                    !strcmp(mode, "bind")) {
                    xml_attr(src, end, "host", out->host, sizeof out->host);
                    xml_attr(src, end, "service", port, sizeof port);
                }
            }
    }
    free(xml);
    /* An autoport guest that is not running has port -1: nothing listens. */
    out->port = atoi(port);
    if (out->port <= 0) return 1;
    if (tls[0] && atoi(tls) > 0) out->tls_port = atoi(tls);
    return 0;
}

/* The interfaces of the guest's persistent definition: what it has from
 * its next boot on, and all it has on hosts that hot-plug (the live and
 * the persistent definitions change together there). */
static int lv_list_nics(const char *uuid, char **out, const char **why) {
    *out = NULL;
    *why = NULL;
    if (ensure() < 0) {
        *why = "hypervisor unreachable";
        return -1;
    }
    virDomainPtr d = virDomainLookupByUUIDString(conn, uuid);
    if (!d) return 2;
    char *xml = virDomainGetXMLDesc(d, VIR_DOMAIN_XML_INACTIVE);
    virDomainFree(d);
    if (!xml) {
        *why = "the hypervisor did not describe the guest";
        return -1;
    }
    struct sbuf b = {0};
    sbuf_addf(&b, "%s", "[");
    int n = 0;
    for (const char *c = xml; (c = strstr(c, "<interface ")); c++) {
        const char *end = strstr(c, "</interface>");
        if (!end) break;
        char mac[64] = "", dev[64] = "";
        const char *m = strstr(c, "<mac "), *t = strstr(c, "<target ");
        if (m && m < end) xml_attr(m, end, "address", mac, sizeof mac);
        if (t && t < end) xml_attr(t, end, "dev", dev, sizeof dev);
        sbuf_addf(&b, "%s{\"mac_address\":\"", n++ ? "," : "");
        domxml_text(&b, mac); /* no quote or backslash can be in either */
        sbuf_addf(&b, "%s", "\",\"target\":\"");
        domxml_text(&b, dev);
        sbuf_addf(&b, "%s", "\"}");
    }
    sbuf_addf(&b, "%s", "]");
    free(xml);
    *out = b.s;
    return 0;
}

/* ---- rescue ---- */

/* <the guest's folder>/name into out. */
static bool guest_file(const char *uuid, const char *name, char out[DISKS_PATH_MAX]) {
    return uuid_valid(uuid) &&
           (size_t)snprintf(out, DISKS_PATH_MAX, "%s/%s/%s", disks_instances_path(), uuid, name) <
               DISKS_PATH_MAX;
}

/* Replaces the guest's definition with `xml` and boots it (the files it
 * names must be there). Returns the power state or -1 with *why. */
static int redefine_and_boot(virDomainPtr d, const char *xml, const char **why) {
    if (virDomainIsActive(d) == 1 && virDomainDestroy(d) < 0) {
        *why = "could not power the guest off";
        return -1;
    }
    if (virDomainUndefineFlags(d, VIR_DOMAIN_UNDEFINE_MANAGED_SAVE) < 0) {
        *why = "could not undefine the guest";
        return -1;
    }
    virDomainPtr n = virDomainDefineXML(conn, xml);
    if (!n) {
        log_error("libvirt: define: %s", lasterr());
        *why = "could not define the guest";
        return -1;
    }
    int rc = boot(n) < 0 ? -1 : VIRT_RUNNING;
    if (rc < 0) {
        log_error("libvirt: start %s: %s", virDomainGetName(n), lasterr());
        *why = "could not start the guest";
    }
    virDomainFree(n);
    return rc;
}

static int lv_rescue(const struct virt_spec *v, const char **why) {
    *why = NULL;
    if (ensure() < 0) {
        *why = "hypervisor unreachable";
        return -1;
    }
    if (!real_hypervisor() || !v->rescue) return lv_power(v->uuid, VIRT_OP_REBOOT_HARD, why);
    virDomainPtr d = virDomainLookupByUUIDString(conn, v->uuid);
    if (!d) {
        *why = "the guest is not defined on this host";
        return -1;
    }
    char kept[DISKS_PATH_MAX];
    struct disks_layout files;
    int rc = -1;
    char *xml = NULL;
    if (!guest_file(v->uuid, "unrescue.xml", kept) ||
        disks_layout_of(disks_instances_path(), v, &files) < 0) {
        *why = "no instance folder can be named after this uuid";
    } else if (access(kept, F_OK) && !(xml = virDomainGetXMLDesc(d, VIR_DOMAIN_XML_INACTIVE))) {
        *why = "could not read the guest's definition";
    } else if (xml && file_write(kept, xml, strlen(xml)) < 0) {
        *why = "could not keep the guest's definition";
    } else if (disks_prepare(v, &files, why) == 0) {
        /* a message delivered again finds its own definition kept already */
        struct domxml_opts o = {.type = config_get("libvirt", "virt_type", "kvm"),
                                .files = &files,
                                .skip_missing_bridges = true};
        char *rx = domxml_domain(v, &o);
        rc = redefine_and_boot(d, rx, why);
        free(rx);
    }
    free(xml);
    virDomainFree(d);
    return rc;
}

static int lv_unrescue(const char *uuid, const char **why) {
    *why = NULL;
    if (ensure() < 0) {
        *why = "hypervisor unreachable";
        return -1;
    }
    char kept[DISKS_PATH_MAX];
    size_t len = 0;
    char *xml = real_hypervisor() && guest_file(uuid, "unrescue.xml", kept)
                    ? file_read(kept, 1 << 20, &len)
                    : NULL;
    if (!xml) return lv_power(uuid, VIRT_OP_REBOOT_HARD, why); /* not in rescue here */
    virDomainPtr d = virDomainLookupByUUIDString(conn, uuid);
    int rc = -1;
    if (!d) {
        *why = "the guest is not defined on this host";
    } else if ((rc = redefine_and_boot(d, xml, why)) >= 0) {
        static const char *const gone[] = {"disk.rescue", "kernel.rescue", "ramdisk.rescue",
                                           "unrescue.xml"};
        char path[DISKS_PATH_MAX];
        for (size_t i = 0; i < sizeof gone / sizeof gone[0]; i++)
            if (guest_file(uuid, gone[i], path)) unlink(path);
    }
    if (d) virDomainFree(d);
    free(xml);
    return rc;
}

const struct virt_driver virt_libvirt = {
    .name = "libvirt",
    .open = lv_open,
    .close = lv_close,
    .host_info = lv_host_info,
    .list_instances = lv_list_instances,
    .spawn = lv_spawn,
    .destroy = lv_destroy,
    .power = lv_power,
    .rescue = lv_rescue,
    .unrescue = lv_unrescue,
    .attach_disk = lv_attach_disk,
    .detach_disk = lv_detach_disk,
    .attach_nic = lv_attach_nic,
    .detach_nic = lv_detach_nic,
    .list_nics = lv_list_nics,
    .console_output = lv_console_output,
    .console = lv_console,
};
