/* blockstore.c — see blockstore.h. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "blockstore.h"
#include "config.h"
#include "log.h"
#include "util.h"

bool blockstore_path(const char *volume_id, char *out, size_t len) {
    return volume_id && uuid_valid(volume_id) &&
           (size_t)snprintf(out, len, "%s/volume-%s",
                            config_get("compute", "volumes_path", "/var/lib/cnova/volumes"),
                            volume_id) < len;
}

void blockstore_remove(const char *volume_id) {
    char path[1024];
    if (blockstore_path(volume_id, path, sizeof path) && unlink(path) < 0 && errno != ENOENT)
        log_warn("cannot remove %s: %s", path, strerror(errno));
}
