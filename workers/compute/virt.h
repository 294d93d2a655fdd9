/* virt.h — the hypervisor driver interface of cnova-compute.
 *
 * cnova-compute talks to its hypervisor only through a struct virt_driver,
 * so that another driver (or a fake in tests) can stand in for libvirt.
 * libvirt.c implements it, for QEMU/KVM through a libvirtd (real guests,
 * their files in disks.c) and for libvirt's in-process test hypervisor
 * (test:///default: records, no guests). Power states use Nova's numbers, which the
 * API shows as OS-EXT-STS:power_state. */
#ifndef CNOVA_VIRT_H
#define CNOVA_VIRT_H

#include <stddef.h>

enum virt_power_state {
    VIRT_NOSTATE = 0,
    VIRT_RUNNING = 1,
    VIRT_PAUSED = 3,
    VIRT_SHUTDOWN = 4,
    VIRT_CRASHED = 6,
    VIRT_SUSPENDED = 7,
};

/* What the host offers (the compute node's resources). */
struct virt_host_info {
    char hypervisor_type[32];         /* "QEMU", "Test", ... */
    unsigned long hypervisor_version; /* major*1000000 + minor*1000 + release */
    char hypervisor_hostname[256];
    char cpu_model[64];
    int vcpus;
    int cpu_mhz;
    long memory_mb;
    int running_domains; /* every domain on the host, ours or not */
};

/* One of our instances as the hypervisor sees it. */
struct virt_instance {
    char name[64];
    char uuid[37];
    int power_state; /* enum virt_power_state */
    int vcpus;
    long memory_mb;
};

/* One of the guest's network interfaces: a port of the built-in IPAM,
 * plugged as Nova's libvirt driver plugs a bridged VIF (MAC, bridge, target
 * "tap" + the port id's first 11 characters, virtio, the network's MTU). */
struct virt_nic {
    const char *port_id;
    const char *mac;
    const char *network_id;
    int mtu; /* 0: the bridge's */
};

#define VIRT_MAX_NICS 32

/* A volume the guest is defined with (boot from volume): raw, its file
 * [compute] volumes_path/volume-<id>, at `device` ("vda"; NULL: the next
 * free virtio name), the boot volume (boot_index 0) first. */
struct virt_volume {
    const char *id;
    const char *device;
    char path[1024];
};

#define VIRT_MAX_VOLUMES 8

/* What the hypervisor needs to define one guest. */
struct virt_spec {
    const char *uuid;
    const char *name;         /* domain name: instance-%08x */
    const char *display_name; /* the server's name (metadata only) */
    const char *flavor_name;
    const char *image_ref;
    /* the image's disk_format and the properties that boot a kernel
     * directly (NULL or "": none) */
    const char *disk_format, *kernel_id, *ramdisk_id, *os_command_line;
    int vcpus;
    long memory_mb;
    int root_gb, ephemeral_gb, swap_mb;
    int config_drive; /* its config drive is written (disk.config in its folder) */
    /* the guest in rescue: image_ref and the boot properties are the
     * rescue image's, its files are named *.rescue and the guest's own
     * root disk follows the rescue disk (disks.h) */
    int rescue;
    struct virt_nic nics[VIRT_MAX_NICS]; /* the server's ports, in order */
    int n_nics;
    struct virt_volume volumes[VIRT_MAX_VOLUMES];
    int n_volumes;
};

/* The power operations on an existing guest (Nova's driver calls). */
enum virt_op {
    VIRT_OP_START,       /* power_on: boots it (restoring a managed save) */
    VIRT_OP_STOP,        /* power_off: clean shutdown, then destroy */
    VIRT_OP_REBOOT_SOFT, /* guest reboot; a hard one when that fails */
    VIRT_OP_REBOOT_HARD, /* destroy and boot again */
    VIRT_OP_PAUSE,       /* vCPUs stopped (libvirt "suspend") */
    VIRT_OP_UNPAUSE,     /* libvirt "resume" */
    VIRT_OP_SUSPEND,     /* managed save: memory to disk, guest off */
    VIRT_OP_RESUME,      /* boot from the managed save */
    VIRT_OP_CRASH_DUMP   /* inject an NMI */
};

/* A volume's disk as the guest sees it. */
struct virt_disk {
    const char *target; /* "vdb" */
    const char *bus;    /* "virtio", "scsi", "ide", "xen" */
    const char *serial; /* the volume id */
    const char *path;   /* the backing file */
};

/* Where a guest's console listens (remote consoles): host, port and, for
 * SPICE, the TLS port (-1 when none). */
struct virt_console {
    char host[256];
    int port, tls_port;
};

struct virt_driver {
    const char *name;
    /* Connects to the hypervisor at `uri`. Returns 0 or -1. */
    int (*open)(const char *uri);
    void (*close)(void);
    /* Fills *out. Returns 0 or -1 (reconnects on the next call). */
    int (*host_info)(struct virt_host_info *out);
    /* The instances cnova manages on this host: domains carrying Nova's
     * instance metadata. Foreign domains (the test driver's "test") are left
     * out. *out is a malloc'd array the caller frees. Returns 0 or -1. */
    int (*list_instances)(struct virt_instance **out, size_t *n);
    /* Defines the guest (idempotent: an existing domain of that uuid is
     * reused) and, when `start`, boots it. Returns its power state, or -1
     * with *why (static text) set. */
    int (*spawn)(const struct virt_spec *spec, int start, const char **why);
    /* Powers off and undefines the guest of `uuid`; a missing one is fine.
     * Returns 0 or -1. */
    int (*destroy)(const char *uuid);
    /* Runs `op` on the guest of `uuid`. Returns its power state afterwards,
     * or -1 with *why (static text) set. */
    int (*power)(const char *uuid, enum virt_op op, const char **why);
    /* Rescue (Nova's driver.rescue): the guest's definition is kept
     * aside (unrescue.xml in its folder) and it boots `rescue` (a spec with
     * .rescue set), its own root disk attached second. Unrescue boots the
     * kept definition again and removes the rescue files. A guest without
     * local files (libvirt's test driver) is rebooted hard, either way.
     * Both return the power state, or -1 with *why (static text). */
    int (*rescue)(const struct virt_spec *rescue, const char **why);
    int (*unrescue)(const char *uuid, const char **why);
    /* Adds a volume's disk to the guest of `uuid` (live and persistent;
     * persistent only where the hypervisor cannot hot-plug, as libvirt's
     * test driver): target "vdb", bus "virtio", serial = the volume id,
     * backed by `path`. A disk already there with that serial is fine.
     * Returns 0, or -1 with *why (static text) set. */
    int (*attach_disk)(const char *uuid, const struct virt_disk *disk, const char **why);
    /* Removes the disk with serial `serial`; a missing one is fine. */
    int (*detach_disk)(const char *uuid, const char *serial, const char **why);
    /* Plugs `nic` into the guest of `uuid` (live and persistent, as
     * attach_disk); one with that MAC already there is fine. Returns 0, or
     * -1 with *why (static text) set. */
    int (*attach_nic)(const char *uuid, const struct virt_nic *nic, const char **why);
    /* Unplugs the interface with MAC `mac`; a missing one is fine. */
    int (*detach_nic)(const char *uuid, const char *mac, const char **why);
    /* The guest's interfaces from its definition, as a JSON text array of
     * {mac_address, target} in the order of the XML (malloc'd into *out).
     * Returns 0, 2 when no guest of `uuid` is defined here, or -1 with *why. */
    int (*list_nics)(const char *uuid, char **out, const char **why);
    /* The guest's console log into *out (malloc'd, the caller frees).
     * Returns 0, 1 when the guest has no console to read (Nova's
     * ConsoleNotAvailable), or -1 with *why (static text) set. */
    int (*console_output)(const char *uuid, char **out, const char **why);
    /* Where the guest's console of `kind` listens, from its live
     * definition (Nova's get_vnc_console / get_spice_console /
     * get_serial_console): "vnc" and "spice" read the graphics element of
     * that type, "serial" the first tcp serial or console in bind mode.
     * Returns 0 with *out filled, 1 when the guest has no such console
     * (Nova's ConsoleTypeUnavailable), 2 when no guest of `uuid` is
     * defined here (InstanceNotFound), or -1 with *why (static text). */
    int (*console)(const char *uuid, const char *kind, struct virt_console *out, const char **why);
};

extern const struct virt_driver virt_libvirt;

/* Calls fn(ud) about five times a second while a driver call waits on a
 * guest (a clean shutdown may take a minute), so that the host keeps
 * sending its heartbeat meanwhile. */
void virt_set_wait_hook(void (*fn)(void *ud), void *ud);

#endif
