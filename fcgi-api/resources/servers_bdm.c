/* servers_bdm.c — block device mappings on create, as Nova checks them:
 * each block_device_mapping_v2 entry (BlockDeviceDict.from_api) or legacy
 * v1 entry becomes a row for the block_device_mapping table, the image
 * itself becomes the root disk when no mapping boots, and the whole set is
 * checked against the flavor (boot sequence, sizes, swap, local disks). */
#include <string.h>

#include "servers.h"

static long fint(json_t *o, const char *k) {
    return (long)json_integer_value(json_object_get(o, k));
}

/* An integer that the schema allowed as a number or a digit string. */
bool servers_int(json_t *v, long *out) {
    long long x;
    if (json_is_integer(v)) {
        *out = (long)json_integer_value(v);
        return true;
    }
    if (json_is_string(v) && str_to_int(json_string_value(v), &x)) {
        *out = (long)x;
        return true;
    }
    return false;
}

/* A boolean the schema allowed as true/false or one of oslo's strings. */
bool servers_bool(json_t *v) {
    bool b = false;
    if (json_is_boolean(v)) return json_is_true(v);
    return json_is_string(v) && str_to_bool(json_string_value(v), &b) && b;
}

#define BDM_INVALID "Block Device Mapping is Invalid: "

const char *servers_str(json_t *o, const char *k) {
    return json_string_value(json_object_get(o, k));
}

/* One block_device_mapping_v2 entry -> a row (BlockDeviceDict.from_api). */
static int bdm_v2(struct req *r, struct servers_bdms *b, json_t *in, bool image_given) {
    if (servers_bool(json_object_get(in, "no_device"))) return 0;
    const char *src = servers_str(in, "source_type");
    const char *dst = servers_str(in, "destination_type");
    const char *uuid = servers_str(in, "uuid");
    const char *vtype = servers_str(in, "volume_type");
    long boot = -1, size = 0;
    json_t *bi = json_object_get(in, "boot_index");
    if (bi && !json_is_null(bi) && !servers_int(bi, &boot))
        return api_error(r, 400, BDM_INVALID "Boot index is invalid.");
    bool has_size = servers_int(json_object_get(in, "volume_size"), &size);
    if (src && !strcmp(src, "blank") && uuid)
        return api_error(r, 400, BDM_INVALID "Invalid device UUID.");
    if ((!src || strcmp(src, "blank")) && !uuid)
        return api_error(r, 400, BDM_INVALID "Missing device UUID.");
    if (!src) return api_error(r, 400, BDM_INVALID "Some required fields are missing");
    if (!dst) dst = !strcmp(src, "volume") || !strcmp(src, "snapshot") ? "volume" : "local";
    if (!strcmp(src, "image") && !strcmp(dst, "local") && !(image_given && boot == 0))
        return api_error(r, 400, BDM_INVALID "Mapping image to local is not supported.");
    if (!strcmp(dst, "local") && vtype)
        return api_error(r, 400,
                         BDM_INVALID "Specifying a volume_type with destination_type="
                                     "local is not supported.");
    if (!strcmp(src, "volume") && vtype)
        return api_error(r, 400,
                         BDM_INVALID "Specifying volume type to existing volume is not"
                                     " supported.");
    json_t *row = json_pack("{s:s,s:s,s:b}", "source_type", src, "destination_type", dst,
                            "delete_on_termination",
                            servers_bool(json_object_get(in, "delete_on_termination")));
    if (boot >= 0) json_object_set_new(row, "boot_index", json_integer(boot));
    if (has_size) json_object_set_new(row, "volume_size", json_integer(size));
    static const char *const copy[] = {"device_name", "guest_format", "disk_bus", "device_type",
                                       "volume_type", "tag",          NULL};
    for (const char *const *k = copy; *k; k++)
        if (servers_str(in, *k)) json_object_set(row, *k, json_object_get(in, *k));
    if (uuid) {
        char key[32];
        snprintf(key, sizeof key, "%s_id", src);
        json_object_set_new(row, key, json_string(uuid));
    }
    json_array_append_new(b->rows, row);
    return 0;
}

/* Legacy block_device_mapping (v1): volumes and snapshots. */
static void bdm_v1(struct servers_bdms *b, json_t *in, bool first) {
    if (servers_bool(json_object_get(in, "no_device"))) return;
    const char *snap = servers_str(in, "snapshot_id"), *vol = servers_str(in, "volume_id");
    json_t *row = json_pack("{s:s,s:s,s:b}", "source_type",
                            snap  ? "snapshot"
                            : vol ? "volume"
                                  : "blank",
                            "destination_type", "volume", "delete_on_termination",
                            servers_bool(json_object_get(in, "delete_on_termination")));
    if (snap) json_object_set_new(row, "snapshot_id", json_string(snap));
    if (vol) json_object_set_new(row, "volume_id", json_string(vol));
    if (servers_str(in, "device_name"))
        json_object_set(row, "device_name", json_object_get(in, "device_name"));
    long size;
    if (servers_int(json_object_get(in, "volume_size"), &size))
        json_object_set_new(row, "volume_size", json_integer(size));
    if (first && !b->image_ref[0]) json_object_set_new(row, "boot_index", json_integer(0));
    json_array_append_new(b->rows, row);
}

int servers_bdm_parse(struct req *r, json_t *server, struct servers_bdms *b) {
    json_t *v1 = json_object_get(server, "block_device_mapping");
    json_t *v2 = json_object_get(server, "block_device_mapping_v2");
    const char *image = servers_str(server, "imageRef");
    b->image_ref = image ? image : "";
    if (json_array_size(v1) && json_array_size(v2))
        return api_error(r, 400,
                         "Using different block_device_mapping syntaxes is not allowed"
                         " in the same request.");
    size_t i;
    json_t *m;
    json_array_foreach(v1, i, m) bdm_v1(b, m, i == 0);
    json_array_foreach(v2, i, m) {
        int rc = bdm_v2(r, b, m, *b->image_ref != 0);
        if (rc) return rc;
    }
    if (!*b->image_ref && !json_array_size(b->rows))
        return api_error(r, 400, "Missing imageRef attribute");
    /* the root disk: a bdm with boot_index 0, else the image itself */
    bool boot0 = false;
    json_array_foreach(b->rows, i, m) {
        if (json_integer_value(json_object_get(m, "boot_index")) == 0 &&
            json_object_get(m, "boot_index")) {
            boot0 = true;
            b->volume_backed = !strcmp(servers_str(m, "destination_type"), "volume");
        }
    }
    if (!boot0 && *b->image_ref)
        json_array_insert_new(b->rows, 0,
                              json_pack("{s:s,s:s,s:i,s:s,s:b}", "source_type", "image",
                                        "destination_type", "local", "boot_index", 0, "image_id",
                                        b->image_ref, "delete_on_termination", 1));
    return 0;
}

/* Boot sequence, sizes, swap, ephemeral and local disks (_validate_bdm). */
int servers_bdm_check(struct req *r, const struct servers_bdms *bd, json_t *flavor) {
    size_t i, nboot = 0, nlocal = 0, nswap = 0;
    long boots[64], ephemeral = 0, swap = 0;
    json_t *b;
    json_array_foreach(bd->rows, i, b) {
        const char *src = servers_str(b, "source_type"), *dst = servers_str(b, "destination_type");
        json_t *bi = json_object_get(b, "boot_index");
        if (bi && nboot < 64) boots[nboot++] = (long)json_integer_value(bi);
        long size = fint(b, "volume_size");
        if (!strcmp(src, "image") && !strcmp(dst, "volume") && !size)
            return api_error(r, 400,
                             "Images with destination_type 'volume' need to have a"
                             " non-zero size specified");
        if (!strcmp(src, "blank") && !strcmp(dst, "volume") && !size)
            return api_error(r, 400,
                             "Blank volumes (source: 'blank', dest: 'volume') need to"
                             " have non-zero size");
        if (!strcmp(dst, "local")) nlocal++;
        if (!strcmp(src, "blank") && !strcmp(dst, "local")) {
            const char *gf = servers_str(b, "guest_format");
            if (gf && !strcmp(gf, "swap")) {
                nswap++;
                swap = size;
            } else {
                ephemeral += size ? size : fint(flavor, "ephemeral_gb");
            }
        }
    }
    /* boot indexes sorted must be 0, 1, 2, ... */
    for (size_t a = 0; a < nboot; a++)
        for (size_t z = a + 1; z < nboot; z++)
            if (boots[z] < boots[a]) {
                long t = boots[a];
                boots[a] = boots[z];
                boots[z] = t;
            }
    bool seq = nboot > 0;
    for (size_t a = 0; a < nboot; a++)
        seq = seq && boots[a] == (long)a;
    if (!seq)
        return api_error(r, 400,
                         BDM_INVALID "Boot sequence for the instance and image/block"
                                     " device mapping combination is not valid.");
    if (ephemeral > fint(flavor, "ephemeral_gb"))
        return api_error(r, 400,
                         "Ephemeral disks requested are larger than the instance type"
                         " allows. If no size is given in one block device mapping,"
                         " flavor ephemeral size will be used.");
    if (nswap > 1) return api_error(r, 400, BDM_INVALID "More than one swap drive requested.");
    if (swap > fint(flavor, "swap"))
        return api_error(r, 400, "Swap drive requested is larger than instance type allows.");
    long max_local = config_int("DEFAULT", "max_local_block_devices", 3);
    if (max_local >= 0 && (long)nlocal > max_local)
        return api_error(r, 400,
                         BDM_INVALID "You specified more local devices than the limit"
                                     " allows");
    return 0;
}
