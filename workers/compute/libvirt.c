/* libvirt.c — the virt_driver of cnova-compute on libvirt.
 *
 * One connection per process, opened with [compute] libvirt_uri and
 * reopened when libvirt reports it dead (libvirtd restarted). Our domains
 * are told apart from foreign ones by the instance metadata element in
 * Nova's libvirt namespace, which cnova writes when it defines a guest. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#include "log.h"
#include "util.h"
#include "virt.h"

#define NOVA_NS "http://openstack.org/xmlns/libvirt/nova/1.1"

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
        char *meta = virDomainGetMetadata(doms[i], VIR_DOMAIN_METADATA_ELEMENT, NOVA_NS, 0);
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

/* Appends s with XML's five special characters escaped. */
static void xml_text(struct sbuf *b, const char *s) {
    for (; s && *s; s++) {
        switch (*s) {
        case '<':
            sbuf_add(b, "&lt;", 4);
            break;
        case '>':
            sbuf_add(b, "&gt;", 4);
            break;
        case '&':
            sbuf_add(b, "&amp;", 5);
            break;
        case '"':
            sbuf_add(b, "&quot;", 6);
            break;
        case '\'':
            sbuf_add(b, "&apos;", 6);
            break;
        default:
            sbuf_add(b, s, 1);
        }
    }
}

/* The domain XML: the flavor's size plus Nova's instance metadata, which is
 * how list_instances tells our guests from foreign ones. */
static char *domain_xml(const struct virt_spec *v, const char *type) {
    struct sbuf b = {0};
    sbuf_addf(&b, "<domain type='%s'><name>", type);
    xml_text(&b, v->name);
    sbuf_addf(&b, "</name><uuid>%s</uuid><memory unit='MiB'>%ld</memory><vcpu>%d</vcpu>", v->uuid,
              v->memory_mb, v->vcpus);
    sbuf_addf(&b,
              "<metadata><nova:instance xmlns:nova='%s'><nova:package version='cnova'/>"
              "<nova:name>",
              NOVA_NS);
    xml_text(&b, v->display_name);
    sbuf_addf(&b, "%s", "</nova:name><nova:flavor name=\"");
    xml_text(&b, v->flavor_name);
    sbuf_addf(&b,
              "\"><nova:memory>%ld</nova:memory><nova:disk>%d</nova:disk>"
              "<nova:swap>%d</nova:swap><nova:ephemeral>%d</nova:ephemeral>"
              "<nova:vcpus>%d</nova:vcpus></nova:flavor><nova:root type='image' uuid=\"",
              v->memory_mb, v->root_gb, v->swap_mb, v->ephemeral_gb, v->vcpus);
    xml_text(&b, v->image_ref);
    sbuf_addf(&b, "%s",
              "\"/></nova:instance></metadata><os><type>hvm</type></os>"
              "<on_poweroff>destroy</on_poweroff><on_reboot>restart</on_reboot>"
              "<on_crash>destroy</on_crash></domain>");
    return b.s;
}

static int lv_spawn(const struct virt_spec *v, int start, const char **why) {
    *why = NULL;
    if (ensure() < 0) {
        *why = "hypervisor unreachable";
        return -1;
    }
    virDomainPtr d = virDomainLookupByUUIDString(conn, v->uuid);
    if (!d) {
        const char *type = virConnectGetType(conn);
        char *xml = domain_xml(v, type && !strcmp(type, "TEST") ? "test" : "qemu");
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

static int lv_destroy(const char *uuid) {
    if (ensure() < 0) return -1;
    virDomainPtr d = virDomainLookupByUUIDString(conn, uuid);
    if (!d) return 0;
    if (virDomainIsActive(d) == 1 && virDomainDestroy(d) < 0)
        log_warn("libvirt: destroy %s: %s", uuid, lasterr());
    int rc = 0;
    if (virDomainUndefineFlags(d, VIR_DOMAIN_UNDEFINE_MANAGED_SAVE | VIR_DOMAIN_UNDEFINE_NVRAM) <
            0 &&
        virDomainUndefine(d) < 0) {
        log_error("libvirt: undefine %s: %s", uuid, lasterr());
        rc = -1;
    }
    virDomainFree(d);
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

static int power_off(virDomainPtr d) {
    if (virDomainIsActive(d) != 1) return 0;
    virDomainShutdown(d); /* clean first; the test driver stops at once */
    if (virDomainIsActive(d) != 1) return 0;
    return virDomainDestroy(d);
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
        /* Nova hard-reboots when the soft one fails */
        if (op == VIRT_OP_REBOOT_SOFT && virDomainIsActive(d) == 1 && virDomainReboot(d, 0) == 0)
            break;
        rc = power_off(d);
        if (rc == 0) rc = boot(d);
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

const struct virt_driver virt_libvirt = {
    .name = "libvirt",
    .open = lv_open,
    .close = lv_close,
    .host_info = lv_host_info,
    .list_instances = lv_list_instances,
    .spawn = lv_spawn,
    .destroy = lv_destroy,
    .power = lv_power,
};
