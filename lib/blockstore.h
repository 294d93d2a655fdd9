/* blockstore.h — where the built-in block storage (the os-volumes a single
 * cnova serves instead of Cinder) keeps a volume's bytes: one raw file per
 * volume, [compute] volumes_path/volume-<id>. The compute hosts make it
 * when a guest first needs it (workers/compute/disks.c); whoever deletes
 * the volume removes it. */
#ifndef CNOVA_BLOCKSTORE_H
#define CNOVA_BLOCKSTORE_H

#include <stdbool.h>
#include <stddef.h>

/* The volume's file into out[len]; false when volume_id is not a uuid (or
 * the path does not fit). */
bool blockstore_path(const char *volume_id, char *out, size_t len);

/* Removes the volume's file; a missing one is fine (failures are logged). */
void blockstore_remove(const char *volume_id);

#endif
