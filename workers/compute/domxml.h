/* domxml.h — the libvirt domain XML of a guest, and the XML helpers the
 * driver shares (escaping, device elements). Pure: built from the spec,
 * the layout of its files and the config; nothing here talks to libvirt. */
#ifndef CNOVA_DOMXML_H
#define CNOVA_DOMXML_H

#include <stdbool.h>
#include <stddef.h>

#include "disks.h"
#include "util.h"
#include "virt.h"

#define DOMXML_NOVA_NS "http://openstack.org/xmlns/libvirt/nova/1.1"

/* How to write the domain: the domain type ("test", "qemu", "kvm") and,
 * for a real hypervisor, where its files are. */
struct domxml_opts {
    const char *type;
    const struct disks_layout *files; /* NULL: no disks, kernel or console (test driver) */
    bool skip_missing_bridges;        /* leave out an interface whose bridge is not there */
};

/* The whole domain definition (malloc'd). */
char *domxml_domain(const struct virt_spec *v, const struct domxml_opts *o);

/* The bridge a port's interface is plugged into: its network's
 * (hostnet.h: brq<network id[:11]>), [compute] bridge for a port without
 * a network. Returns out. */
const char *domxml_bridge(const struct virt_nic *n, char *out, size_t len);

/* A port's <interface> element (Nova's bridged VIF), appended to b. */
void domxml_nic(struct sbuf *b, const struct virt_nic *n);
/* A volume's <disk> element (malloc'd). */
char *domxml_volume(const struct virt_disk *k);
/* Appends s with XML's five special characters escaped. */
void domxml_text(struct sbuf *b, const char *s);

#endif
