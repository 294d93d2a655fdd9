/* configdrive.c — see configdrive.h. The files are written to a folder
 * beside the ISO, genisoimage makes the volume (with Nova's options), and
 * the folder goes. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cnova.h"
#include "configdrive.h"
#include "metadata.h"

/* Writes one file under the folder `arg`, making its parent folders. */
static int put(const char *path, const char *data, size_t len, void *arg) {
    char full[4096];
    int n = snprintf(full, sizeof full, "%s/%s", (const char *)arg, path);
    if (n < 0 || (size_t)n >= sizeof full || strstr(path, "..")) return -1;
    for (char *s = full + strlen(arg) + 1; (s = strchr(s, '/')); s++) {
        *s = 0;
        int rc = mkdir(full, 0755);
        *s = '/';
        if (rc && errno != EEXIST) return -1;
    }
    FILE *f = fopen(full, "wb");
    if (!f) return -1;
    size_t w = fwrite(data, 1, len, f);
    return (fclose(f) || w != len) ? -1 : 0;
}

int configdrive_build(const json_t *doc, const char *domain, const char *iso, const char **why) {
    char dir[4096], tmp[4096];
    snprintf(dir, sizeof dir, "%s.d", iso);
    snprintf(tmp, sizeof tmp, "%s.tmp", iso);
    rm_tree(dir);
    if (mkdir(dir, 0700) || metadata_files(doc, domain, put, dir)) {
        log_error("config drive %s: files not written: %s", iso, strerror(errno));
        rm_tree(dir);
        *why = "the config drive's files could not be written";
        return -1;
    }
    const char *argv[] = {"genisoimage",
                          "-o",
                          tmp,
                          "-ldots",
                          "-allow-lowercase",
                          "-allow-multidot",
                          "-l",
                          "-publisher",
                          "OpenStack Compute (cnova)",
                          "-quiet",
                          "-J",
                          "-r",
                          "-V",
                          "config-2",
                          dir,
                          NULL};
    char err[512];
    int rc = run_argv(argv, 60, err, sizeof err);
    rm_tree(dir);
    if (rc || rename(tmp, iso)) {
        log_error("config drive %s: %s", iso, rc ? err : strerror(errno));
        unlink(tmp);
        *why = "the config drive could not be made (genisoimage)";
        return -1;
    }
    return 0;
}
