/* domxml.c — the domain XML of a guest, as Nova's libvirt driver writes
 * it: the flavor's size, Nova's instance metadata (how list_instances
 * tells our guests from foreign ones), on a real hypervisor the root,
 * ephemeral and swap disks (virtio, vda, vdb, ...), a kernel booted
 * directly when the image names one, and the serial console into a file;
 * an interface per port and the graphical consoles everywhere. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "config.h"
#include "domxml.h"
#include "hostnet.h"

void domxml_text(struct sbuf *b, const char *s) {
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

/* Appends fmt's text with every %s argument escaped: `<x a='%s'>` reads
 * as the element it makes. Only %s and %% are understood. */
static void xmlf(struct sbuf *b, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    for (const char *p = fmt; *p; p++) {
        const char *pct = strchr(p, '%');
        if (!pct) {
            sbuf_add(b, p, strlen(p));
            break;
        }
        sbuf_add(b, p, (size_t)(pct - p));
        if (pct[1] == 's')
            domxml_text(b, va_arg(ap, const char *));
        else if (pct[1] == '%')
            sbuf_add(b, "%", 1);
        p = pct + 1;
    }
    va_end(ap);
}

const char *domxml_bridge(const struct virt_nic *n, char *out, size_t len) {
    if (n->network_id && *n->network_id)
        hostnet_bridge_name(n->network_id, out, len);
    else
        snprintf(out, len, "%s", config_get("compute", "bridge", "br-int"));
    return out;
}

/* Nova's bridged VIF (designer.set_vif_host_backend_bridge_config and
 * set_vif_mtu_config): the port's MAC, the bridge, the tap device "tap" +
 * the port id's first 11 characters, virtio. */
void domxml_nic(struct sbuf *b, const struct virt_nic *n) {
    char br[64], tap[16];
    snprintf(tap, sizeof tap, "tap%.11s", n->port_id ? n->port_id : "");
    xmlf(b,
         "<interface type='bridge'><mac address='%s'/><source bridge='%s'/>"
         "<target dev='%s'/><model type='virtio'/>",
         n->mac, domxml_bridge(n, br, sizeof br), tap);
    if (n->mtu > 0) sbuf_addf(b, "<mtu size='%d'/>", n->mtu);
    sbuf_addf(b, "%s", "</interface>");
}

char *domxml_volume(const struct virt_disk *k) {
    struct sbuf b = {0};
    xmlf(&b,
         "<disk type='file' device='disk'><driver name='qemu' type='raw'/>"
         "<source file='%s'/><target dev='%s' bus='%s'/><serial>%s</serial></disk>",
         k->path, k->target, k->bus, k->serial);
    return b.s;
}

/* The guest's graphical consoles, as Nova's libvirt driver adds them: VNC
 * when [vnc] enabled, SPICE when [spice] enabled, each listening on its
 * server_listen address. On a real hypervisor the port is left to libvirt
 * (autoport: QEMU takes the first free one from 5900 when the guest
 * starts, and the live XML says which). libvirt's test driver runs no
 * guest and keeps the element as defined, so there the port is fixed
 * from the instance id in the domain name (instance-%08x): VNC
 * 5900 + 2 * (id mod 29000), SPICE the one after it, stable across
 * restarts of the host. */
static void graphics(struct sbuf *b, const char *name, bool test) {
    static const char *const kinds[] = {"vnc", "spice"};
    unsigned long id = name && !strncmp(name, "instance-", 9) ? strtoul(name + 9, NULL, 16) : 0;
    for (int i = 0; i < 2; i++) {
        if (!config_bool(kinds[i], "enabled", i == 0)) continue;
        const char *listen = config_get(kinds[i], "server_listen", "127.0.0.1");
        sbuf_addf(b, "<graphics type='%s'", kinds[i]);
        if (test)
            sbuf_addf(b, " port='%lu' autoport='no'", 5900 + 2 * (id % 29000) + (unsigned long)i);
        else
            sbuf_addf(b, "%s", " autoport='yes'");
        xmlf(b, " listen='%s'><listen type='address' address='%s'/></graphics>", listen, listen);
    }
}

/* A local qcow2 disk of the guest on the next virtio target. */
static void local_disk(struct sbuf *b, const char *path, int *next) {
    char dev[8];
    snprintf(dev, sizeof dev, "vd%c", 'a' + (*next)++);
    xmlf(b,
         "<disk type='file' device='disk'><driver name='qemu' type='qcow2'/>"
         "<source file='%s'/><target dev='%s' bus='virtio'/></disk>",
         path, dev);
}

/* The <os> element: a kernel (and ramdisk) booted directly with the
 * image's os_command_line or Nova's default one, else the first disk. */
static void os_element(struct sbuf *b, const struct virt_spec *v, const struct domxml_opts *o) {
    sbuf_addf(b, "%s", "<os><type");
    struct utsname u;
    if (o->files && uname(&u) == 0) xmlf(b, " arch='%s'", u.machine);
    sbuf_addf(b, "%s", ">hvm</type>");
    const struct disks_layout *f = o->files;
    if (f && f->kernel[0]) {
        const char *cmdline = v->os_command_line && *v->os_command_line
                                  ? v->os_command_line
                                  : "root=/dev/vda console=tty0 console=ttyS0";
        xmlf(b, "<kernel>%s</kernel>", f->kernel);
        if (f->ramdisk[0]) xmlf(b, "<initrd>%s</initrd>", f->ramdisk);
        xmlf(b, "<cmdline>%s</cmdline>", cmdline);
    } else if (f) {
        sbuf_addf(b, "%s", "<boot dev='hd'/>");
    }
    sbuf_addf(b, "%s", "</os>");
}

/* True when the bridge of the port's interface exists on this host. */
static bool bridge_exists(const struct virt_nic *n) {
    char br[64], path[128];
    snprintf(path, sizeof path, "/sys/class/net/%s/bridge", domxml_bridge(n, br, sizeof br));
    return access(path, F_OK) == 0;
}

char *domxml_domain(const struct virt_spec *v, const struct domxml_opts *o) {
    struct sbuf b = {0};
    char num[96];
    xmlf(&b, "<domain type='%s'><name>%s</name><uuid>%s</uuid>", o->type, v->name, v->uuid);
    snprintf(num, sizeof num, "<memory unit='MiB'>%ld</memory><vcpu>%d</vcpu>", v->memory_mb,
             v->vcpus);
    sbuf_addf(&b, "%s", num);
    xmlf(&b,
         "<metadata><nova:instance xmlns:nova='%s'><nova:package version='cnova'/>"
         "<nova:name>%s</nova:name><nova:flavor name=\"%s\">",
         DOMXML_NOVA_NS, v->display_name, v->flavor_name);
    sbuf_addf(&b,
              "<nova:memory>%ld</nova:memory><nova:disk>%d</nova:disk>"
              "<nova:swap>%d</nova:swap><nova:ephemeral>%d</nova:ephemeral>"
              "<nova:vcpus>%d</nova:vcpus></nova:flavor>",
              v->memory_mb, v->root_gb, v->swap_mb, v->ephemeral_gb, v->vcpus);
    xmlf(&b, "<nova:root type='image' uuid=\"%s\"/></nova:instance></metadata>", v->image_ref);
    os_element(&b, v, o);
    if (o->files) {
        /* ACPI so that a shutdown or soft reboot reaches the guest; the
         * host's CPU model where KVM runs it, QEMU's own under TCG */
        sbuf_addf(&b, "%s", "<features><acpi/><apic/></features>");
        if (!strcmp(o->type, "kvm")) sbuf_addf(&b, "%s", "<cpu mode='host-model'/>");
        sbuf_addf(&b, "%s", "<clock offset='utc'/>");
    }
    sbuf_addf(&b, "%s",
              "<on_poweroff>destroy</on_poweroff><on_reboot>restart</on_reboot>"
              "<on_crash>destroy</on_crash><devices>");
    const struct disks_layout *f = o->files;
    if (f) {
        int next = 0;
        if (f->root[0]) local_disk(&b, f->root, &next);
        if (f->rescued[0]) local_disk(&b, f->rescued, &next);
        /* volumes (boot from volume: the boot volume is vda) at the
         * device asked for when it is still free, else the next one */
        for (int i = 0; i < v->n_volumes; i++) {
            const struct virt_volume *vol = &v->volumes[i];
            const char *d = vol->device;
            char dev[8];
            if (d && strlen(d) == 3 && !strncmp(d, "vd", 2) && d[2] >= 'a' + next && d[2] <= 'z')
                next = d[2] - 'a';
            snprintf(dev, sizeof dev, "vd%c", 'a' + next++);
            struct virt_disk k = {dev, "virtio", vol->id, vol->path};
            char *el = domxml_volume(&k);
            sbuf_addf(&b, "%s", el);
            free(el);
        }
        if (f->eph[0]) local_disk(&b, f->eph, &next);
        if (f->swap[0]) local_disk(&b, f->swap, &next);
        /* the config drive as Nova's libvirt driver attaches it on a pc
         * machine: a read-only cdrom, the last device of the IDE bus */
        if (f->config[0])
            xmlf(&b,
                 "<disk type='file' device='cdrom'><driver name='qemu' type='raw'/>"
                 "<source file='%s'/><target dev='hdd' bus='ide'/><readonly/></disk>",
                 f->config);
    }
    for (int i = 0; i < v->n_nics; i++)
        if (!o->skip_missing_bridges || bridge_exists(&v->nics[i])) domxml_nic(&b, &v->nics[i]);
    if (f) {
        /* the serial console into a file (appended to across boots), the
         * log os-getConsoleOutput reads */
        xmlf(&b,
             "<serial type='file'><source path='%s' append='on'/><target port='0'/></serial>"
             "<console type='file'><source path='%s' append='on'/>"
             "<target type='serial' port='0'/></console>",
             f->console, f->console);
    }
    graphics(&b, v->name, !strcmp(o->type, "test"));
    sbuf_addf(&b, "%s", "</devices></domain>");
    return b.s;
}
