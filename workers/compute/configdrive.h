/* configdrive.h — the config drive of a guest, as Nova's libvirt driver
 * makes one: an ISO 9660 volume labelled "config-2" (Joliet and Rock Ridge)
 * holding the metadata tree of the instance (lib/metadata.h: the
 * openstack/ and ec2/ files), which the guest reads before any network. */
#ifndef CNOVA_CONFIGDRIVE_H
#define CNOVA_CONFIGDRIVE_H

#include <jansson.h>

/* Writes the drive of the instance document `doc` to `iso` (replaced
 * whole: written beside it, then renamed). `domain` as metadata_files.
 * Returns 0, or -1 with *why (static text) and the details logged. */
int configdrive_build(const json_t *doc, const char *domain, const char *iso, const char **why);

#endif
