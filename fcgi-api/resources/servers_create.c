/* servers_create.c — POST /servers: Nova's create semantics on a body the
 * schema already checked (image, flavor, key pair, zone and forced host,
 * block device mappings, networks, server group, quotas), then one
 * transaction that writes the instances and everything hung on them and
 * hands the build to the conductor through the outbox. The answer (202)
 * never waits for the build. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "networks.h"
#include "servers.h"
#include "volumes.h"

struct create {
    struct req *r;
    json_t *body, *server;
    const char *name, *description, *hostname;
    long min, max, count;
    const char *az, *force_host, *force_node, *req_host, *req_node;
    char az_buf[256];
    struct servers_bdms bd; /* block device mappings, imageRef, volume-backed */
    json_t *image;          /* {id, status, size, min_ram, min_disk, properties} */
    json_t *flavor;         /* the snapshot stored in instances.flavor */
    const char *key_name;
    char *key_data;
    json_t *hints, *networks, *security_groups;
    const char *group;
    const char *config_drive, *auto_disk;
    char password[16], reservation[16];
    json_t *uuids;
};

/* ---- small helpers ---- */

static void random_chars(char *out, size_t n, const char *set) {
    unsigned char buf[64];
    size_t len = strlen(set);
    if (getrandom(buf, n, 0) != (ssize_t)n)
        for (size_t i = 0; i < n; i++)
            buf[i] = (unsigned char)(i * 131 + 7);
    for (size_t i = 0; i < n; i++)
        out[i] = set[buf[i] % len];
    out[n] = 0;
}

/* Nova's generate_password: 12 characters, at least one of each group. */
void servers_generate_password(char out[16]) {
    static const char *const groups[] = {"23456789", "ABCDEFGHJKLMNPQRSTUVWXYZ",
                                         "abcdefghijkmnopqrstuvwxyz"};
    char all[80];
    snprintf(all, sizeof all, "%s%s%s", groups[0], groups[1], groups[2]);
    random_chars(out, 12, all);
    for (int g = 0; g < 3; g++) {
        char c[2];
        random_chars(c, 1, groups[g]);
        out[g * 4] = c[0];
    }
}

/* Nova's sanitize_hostname (ASCII): truncate to 63, [ _.] -> '-', drop
 * anything but [a-z0-9_.-], lower case, strip leading/trailing '.' '-'. */
static void sanitize_hostname(const char *name, char *out, size_t len) {
    size_t n = 0;
    for (size_t i = 0; name[i] && i < 63 && n + 1 < len; i++) {
        unsigned char c = (unsigned char)name[i];
        if (c == ' ' || c == '_' || c == '.')
            out[n++] = '-';
        else if (isalnum(c) || c == '-')
            out[n++] = (char)tolower(c);
    }
    out[n] = 0;
    while (n && (out[n - 1] == '-' || out[n - 1] == '.'))
        out[--n] = 0;
    size_t s = strspn(out, "-.");
    memmove(out, out + s, n - s + 1);
}

/* ---- steps, in Nova's order ---- */

static int counts(struct create *c) {
    c->min = 1;
    json_t *mn = json_object_get(c->server, "min_count"),
           *mx = json_object_get(c->server, "max_count");
    if (mn) servers_int(mn, &c->min);
    c->max = c->min;
    if (mx) servers_int(mx, &c->max);
    if (c->min > c->max) return api_error(c->r, 400, "min_count must be <= max_count");
    return 0;
}

/* "zone", "zone:host", "zone::node" or "zone:host:node" (admins). */
static int zone(struct create *c) {
    const char *az = json_string_value(json_object_get(c->server, "availability_zone"));
    if (!az) {
        const char *dflt = config_get("DEFAULT", "default_schedule_zone", NULL);
        c->az = dflt && *dflt ? dflt : NULL;
        return 0;
    }
    snprintf(c->az_buf, sizeof c->az_buf, "%s", az);
    int colons = 0;
    for (const char *p = az; *p; p++)
        colons += *p == ':';
    char *first = strchr(c->az_buf, ':');
    if (colons > 2) return api_error(c->r, 400, "Unable to parse availability_zone");
    if (first) {
        *first = 0;
        char *rest = first + 1;
        if (colons == 1) {
            c->force_host = rest;
        } else if (rest[0] == ':') {
            c->force_node = rest + 1;
        } else {
            char *second = strchr(rest, ':');
            *second = 0;
            c->force_host = rest;
            c->force_node = second + 1;
        }
        if (c->force_host && !*c->force_host) c->force_host = NULL;
        if (c->force_node && !*c->force_node) c->force_node = NULL;
    }
    c->az = c->az_buf[0] ? c->az_buf : NULL;
    if (!c->az) {
        const char *dflt = config_get("DEFAULT", "default_schedule_zone", NULL);
        c->az = dflt && *dflt ? dflt : NULL;
    }
    if ((c->force_host || c->force_node) && !c->r->ctx.is_admin)
        return api_error(c->r, 403,
                         "Policy doesn't allow os_compute_api:servers:create:forced_host"
                         " to be performed.");
    return 0;
}

/* 2.74: host / hypervisor_hostname (admins), which must exist. */
static int requested_destination(struct create *c) {
    if (!req_ver_ge(c->r, MV(2, 74))) return 0;
    c->req_host = json_string_value(json_object_get(c->server, "host"));
    c->req_node = json_string_value(json_object_get(c->server, "hypervisor_hostname"));
    if (!c->req_host && !c->req_node) return 0;
    if (!c->r->ctx.is_admin)
        return api_error(c->r, 403,
                         "Policy doesn't allow compute:servers:create:requested_destination"
                         " to be performed.");
    if (c->force_host || c->force_node)
        return api_error(c->r, 400,
                         "One mechanism with host and/or hypervisor_hostname and another"
                         " mechanism with zone:host:node are mutually exclusive.");
    const char *p[] = {c->req_host, c->req_node};
    PGresult *res;
    enum db_status st = db_query(&res,
                                 "SELECT 1 FROM compute_nodes WHERE deleted = 0"
                                 " AND ($1::text IS NULL OR host = $1)"
                                 " AND ($2::text IS NULL OR hypervisor_hostname = $2)",
                                 2, p);
    if (st) return api_db_error(c->r, st);
    int found = PQntuples(res);
    PQclear(res);
    if (!found)
        return api_error(c->r, 400, "Compute host %s could not be found.",
                         c->req_host ? c->req_host : c->req_node);
    return 0;
}

/* The image, as the caller may see it, with its properties. */
static json_t *image_load(struct create *c, const char *id, int *rc) {
    const char *p[] = {id, c->r->ctx.is_admin ? "t" : "f", c->r->ctx.project_id};
    return api_query_json(c->r, rc,
                      "SELECT jsonb_build_object('id', g.id, 'status', g.status, 'size', g.size,"
                      " 'min_ram', g.min_ram, 'min_disk', g.min_disk, 'disk_format', g.disk_format,"
                      " 'container_format', g.container_format, 'properties',"
                      " COALESCE((SELECT jsonb_object_agg(key, value) FROM image_properties"
                      "  WHERE image_id = g.id), '{}'::jsonb))"
                      " FROM images g WHERE g.id = $1::uuid AND NOT g.deleted"
                      " AND ($2::bool OR g.visibility IN ('public', 'community')"
                      "      OR g.owner = $3)",
                      3, p);
}

json_t *servers_image_load(struct req *r, const char *id, int *rc) {
    struct create tmp = {.r = r};
    return image_load(&tmp, id, rc);
}

static int image(struct create *c) {
    int rc = 0;
    if (*c->bd.image_ref) {
        c->image = image_load(c, c->bd.image_ref, &rc);
        if (rc) return rc;
        if (!c->image) return api_error(c->r, 400, "Can not find requested image");
        if (strcmp(servers_str(c->image, "status"), "active"))
            return api_error(c->r, 400, "Image %s is not active.", c->bd.image_ref);
    }
    /* images named by block device mappings must exist too */
    size_t i;
    json_t *b;
    json_array_foreach(c->bd.rows, i, b) {
        const char *id = servers_str(b, "image_id");
        if (!id || !strcmp(id, c->bd.image_ref)) continue;
        json_t *img = uuid_valid(id) ? image_load(c, id, &rc) : NULL;
        if (rc) return rc;
        if (!img) return api_error(c->r, 400, BDM_INVALID "failed to get image %s.", id);
        if (!c->image)
            c->image = img;
        else
            json_decref(img);
    }
    return 0;
}

static int networks(struct create *c) {
    json_t *n = json_object_get(c->server, "networks");
    if (!n || json_is_string(n)) {
        c->networks = n ? json_incref(n) : json_null();
        return 0;
    }
    c->networks = json_array();
    size_t i;
    json_t *net;
    json_array_foreach(n, i, net) {
        const char *port = servers_str(net, "port"), *uuid = servers_str(net, "uuid");
        const char *ip = servers_str(net, "fixed_ip");
        if (port) {
            size_t j;
            json_t *prev;
            json_array_foreach(
                c->networks, j,
                prev) if (servers_str(prev, "port") &&
                          !strcmp(servers_str(prev, "port"),
                                  port)) return api_error(c->r, 400,
                                                          "Port ID '%s' was specified twice: you "
                                                          "cannot attach"
                                                          " a port multiple times.",
                                                          port);
            if (ip)
                return api_error(c->r, 400,
                                 "Specified Fixed IP '%s' cannot be used with port '%s':"
                                 " the two cannot be specified together.",
                                 ip, port);
        } else if (!uuid) {
            return api_error(c->r, 400, "Bad network format: missing 'uuid'");
        }
        if (ip && c->max > 1)
            return api_error(c->r, 400,
                             "Failed to launch instances: max_count cannot be greater"
                             " than 1 if an fixed_ip is specified.");
        json_array_append(c->networks, net);
    }
    return networks_check(c->r, c->networks, c->max);
}

/* flavorRef: an id or a link whose last segment is the id. */
static int flavor(struct create *c) {
    json_t *ref = json_object_get(c->server, "flavorRef");
    char id[256];
    if (json_is_integer(ref))
        snprintf(id, sizeof id, "%lld", (long long)json_integer_value(ref));
    else {
        const char *s = json_string_value(ref);
        const char *slash = strrchr(s, '/');
        snprintf(id, sizeof id, "%s", slash ? slash + 1 : s);
    }
    const char *p[] = {id, c->r->ctx.is_admin ? "t" : "f", c->r->ctx.project_id};
    int rc = 0;
    c->flavor = api_query_json(
        c->r, &rc,
        "SELECT jsonb_build_object('flavorid', f.flavorid, 'name', f.name, 'vcpus', f.vcpus,"
        " 'memory_mb', f.memory_mb, 'root_gb', f.root_gb, 'ephemeral_gb', f.ephemeral_gb,"
        " 'swap', f.swap, 'rxtx_factor', f.rxtx_factor, 'is_public', f.is_public,"
        " 'description', f.description, 'extra_specs', COALESCE((SELECT"
        "  jsonb_object_agg(e.key, e.value) FROM flavor_extra_specs e WHERE e.flavor_id = f.id),"
        "  '{}'::jsonb)) FROM flavors f WHERE f.flavorid = $1 AND NOT f.disabled"
        " AND ($2::bool OR f.is_public OR EXISTS (SELECT 1 FROM flavor_projects fp"
        "  WHERE fp.flavor_id = f.id AND fp.project_id = $3))",
        3, p);
    if (rc) return rc;
    if (!c->flavor) return api_error(c->r, 400, "Flavor %s could not be found.", id);
    return 0;
}

static long fint(json_t *o, const char *k) {
    return (long)json_integer_value(json_object_get(o, k));
}

/* Image against flavor (Nova's _validate_flavor_image_nostatus). */
static int image_fits_flavor(struct create *c) {
    long root_gb = fint(c->flavor, "root_gb");
    if (!c->bd.volume_backed && root_gb == 0 && !c->r->ctx.is_admin)
        return api_error(c->r, 403,
                         "Only volume-backed servers are allowed for flavors with zero"
                         " disk.");
    return servers_check_image_flavor(c->r, c->image, c->flavor, c->bd.volume_backed);
}

int servers_check_image_flavor(struct req *r, json_t *image, json_t *flavor, bool volume_backed) {
    long root_gb = fint(flavor, "root_gb");
    if (!image) return 0;
    if (fint(image, "min_ram") > fint(flavor, "memory_mb"))
        return api_error(r, 400, "Flavor's memory is too small for requested image.");
    if (volume_backed || !root_gb) return 0;
    long long gib = 1024LL * 1024 * 1024, flavor_size = root_gb * gib;
    long long size = (long long)json_integer_value(json_object_get(image, "size"));
    if (size > flavor_size)
        return api_error(r, 400,
                         "Flavor's disk is too small for requested image. Flavor disk is"
                         " %lld bytes, image is %lld bytes.",
                         flavor_size, size);
    long long min_disk = fint(image, "min_disk") * gib;
    if (min_disk > flavor_size)
        return api_error(r, 400,
                         "Flavor's disk is smaller than the minimum size specified in"
                         " image metadata. Flavor disk is %lld bytes, minimum size is"
                         " %lld bytes.",
                         flavor_size, min_disk);
    return 0;
}

static int key_pair(struct create *c) {
    c->key_name = servers_str(c->server, "key_name");
    if (!c->key_name) return 0;
    const char *p[] = {c->r->ctx.user_id, c->key_name};
    PGresult *res;
    enum db_status st = db_query(&res,
                                 "SELECT public_key FROM key_pairs WHERE user_id = $1"
                                 " AND name = $2 AND deleted = 0",
                                 2, p);
    if (st) return api_db_error(c->r, st);
    if (PQntuples(res)) c->key_data = strdup(db_str(res, 0, 0));
    PQclear(res);
    return c->key_data ? 0 : api_error(c->r, 400, "Invalid key_name provided.");
}

/* metadata_items and the injected file limits (personality, until 2.57). */
static int limits(struct create *c) {
    return servers_check_limits(c->r, c->server);
}

int servers_check_limits(struct req *r, json_t *server) {
    long lim[QUOTA_MAX];
    enum db_status st = quota_limits(r->ctx.project_id, r->ctx.user_id, NULL, lim);
    if (st) return api_db_error(r, st);
    const struct quota_resource *q = quota_find("metadata_items");
    long l = lim[q - quota_resources];
    size_t n = json_object_size(json_object_get(server, "metadata"));
    if (l >= 0 && (long)n > l)
        return api_error(r, 403, "Maximum number of metadata items exceeds %ld", l);
    json_t *files = json_object_get(server, "personality");
    if (!files || req_ver_ge(r, MV(2, 57))) return 0;
    long max_files = lim[quota_find("injected_files") - quota_resources];
    long max_path = lim[quota_find("injected_file_path_bytes") - quota_resources];
    long max_bytes = lim[quota_find("injected_file_content_bytes") - quota_resources];
    if (max_files >= 0 && (long)json_array_size(files) > max_files)
        return api_error(r, 403, "Personality file limit exceeded");
    size_t i;
    json_t *f;
    json_array_foreach(files, i, f) {
        const char *path = servers_str(f, "path"), *content = servers_str(f, "contents");
        if (max_path >= 0 && path && (long)strlen(path) > max_path)
            return api_error(r, 403, "Personality file path exceeds maximum %ld", max_path);
        size_t len = content ? strlen(content) : 0;
        size_t decoded =
            len / 4 * 3 - (len && content[len - 1] == '=') - (len > 1 && content[len - 2] == '=');
        if (max_bytes >= 0 && (long)decoded > max_bytes)
            return api_error(r, 403, "Personality file content exceeds maximum %ld", max_bytes);
    }
    return 0;
}

/* Scheduler hints; a group hint names an existing server group of the
 * caller's project (any project for an admin, as Nova's group query): another
 * project's group is as unknown as a missing one. */
static int hints(struct create *c) {
    json_t *h = json_object_get(c->body, "os:scheduler_hints");
    if (!h) h = json_object_get(c->body, "OS-SCH-HNT:scheduler_hints");
    c->hints = h ? json_deep_copy(h) : json_object();
    json_t *g = json_object_get(c->hints, "group");
    if (json_is_array(g)) g = json_array_get(g, 0);
    c->group = json_string_value(g);
    if (!c->group) return 0;
    const char *p[] = {c->group, c->r->ctx.is_admin ? NULL : c->r->ctx.project_id};
    PGresult *res;
    enum db_status st = db_query(&res,
                                 "SELECT 1 FROM server_groups WHERE uuid = $1::uuid AND deleted = 0"
                                 " AND ($2::text IS NULL OR project_id = $2)",
                                 2, p);
    if (st) return api_db_error(c->r, st);
    int found = PQntuples(res);
    PQclear(res);
    return found ? 0 : api_error(c->r, 400, "Instance group %s could not be found.", c->group);
}

/* A requested zone must be one with enabled compute hosts. */
static int zone_available(struct create *c) {
    if (!c->az || c->force_host || c->force_node) return 0;
    const char *dflt = config_get("DEFAULT", "default_availability_zone", "nova");
    const char *p[] = {c->az, dflt && *dflt ? dflt : "nova"};
    PGresult *res;
    enum db_status st = db_query(
        &res,
        "SELECT 1 FROM services s WHERE s.\"binary\" = 'nova-compute' AND s.deleted = 0"
        " AND NOT s.disabled AND COALESCE((SELECT am.value FROM aggregate_hosts ah"
        "  JOIN aggregates a ON a.id = ah.aggregate_id AND a.deleted = 0"
        "  JOIN aggregate_metadata am ON am.aggregate_id = a.id AND am.key = 'availability_zone'"
        "  WHERE ah.host = s.host LIMIT 1), $2) = $1 LIMIT 1",
        2, p);
    if (st) return api_db_error(c->r, st);
    int found = PQntuples(res);
    PQclear(res);
    return found ? 0 : api_error(c->r, 400, "The requested availability zone is not available");
}

static int misc(struct create *c) {
    json_t *s = c->server;
    c->name = servers_str(s, "name");
    c->description = req_ver_ge(c->r, MV(2, 19)) ? servers_str(s, "description") : c->name;
    c->hostname = req_ver_ge(c->r, MV(2, 90)) ? servers_str(s, "hostname") : NULL;
    if (c->hostname && c->max > 1)
        return api_error(c->r, 400, "Unable to allocate a single hostname to multiple instances");
    json_t *cd = json_object_get(s, "config_drive");
    c->config_drive = cd && servers_bool(cd) ? "True" : "";
    const char *dc = servers_str(s, "OS-DCF:diskConfig");
    const char *img_adc =
        c->image ? json_string_value(
                       json_object_get(json_object_get(c->image, "properties"), "auto_disk_config"))
                 : NULL;
    bool img_disabled = img_adc && !strcmp(img_adc, "disabled");
    if (dc && !strcmp(dc, "AUTO") && img_disabled)
        return api_error(c->r, 400, "Requested image %s has automatic disk resize disabled.",
                         c->bd.image_ref);
    bool adc_img = false;
    if (img_adc) str_to_bool(img_adc, &adc_img);
    c->auto_disk = dc ? (!strcmp(dc, "AUTO") ? "True" : "False") : (adc_img ? "True" : "False");
    json_t *sg = json_object_get(s, "security_groups");
    c->security_groups = json_array();
    size_t i;
    json_t *g;
    json_array_foreach(sg, i, g) {
        const char *n = servers_str(g, "name");
        bool dup = false;
        size_t j;
        json_t *prev;
        json_array_foreach(c->security_groups, j, prev) dup =
            dup || !strcmp(servers_str(prev, "name"), n);
        if (n && !dup) json_array_append_new(c->security_groups, json_pack("{s:s}", "name", n));
    }
    if (!sg) json_array_append_new(c->security_groups, json_pack("{s:s}", "name", "default"));
    json_t *pw = json_object_get(s, "adminPass");
    if (json_is_string(pw))
        snprintf(c->password, sizeof c->password, "%.15s", json_string_value(pw));
    else
        servers_generate_password(c->password);
    char rid[9];
    random_chars(rid, 8, "abcdefghijklmnopqrstuvwxyz0123456789");
    snprintf(c->reservation, sizeof c->reservation, "r-%s", rid);
    return 0;
}

/* ---- the transaction ---- */

/* instances, cores and ram for n instances (quota.c counts the rows). */
static int quota_fits(struct create *c, long n) {
    struct req *r = c->r;
    int rc = quota_reserve(r, r->ctx.project_id, r->ctx.user_id, "instances", n);
    if (!rc)
        rc = quota_reserve(r, r->ctx.project_id, r->ctx.user_id, "cores",
                           n * fint(c->flavor, "vcpus"));
    if (!rc)
        rc = quota_reserve(r, r->ctx.project_id, r->ctx.user_id, "ram",
                           n * fint(c->flavor, "memory_mb"));
    return rc;
}

/* As many as fit between min and max (Nova's check_num_instances_quota). */
static int quota_count(struct create *c) {
    if (!quota_fits(c, c->max)) {
        c->count = c->max;
        return 0;
    }
    if (c->r->status >= 500) return c->r->status;
    long lo = c->min, hi = c->max - 1;
    int rc = quota_fits(c, lo);
    if (rc) return rc;
    while (lo < hi) { /* lo fits; find the largest that does */
        long mid = lo + (hi - lo + 1) / 2;
        if (!quota_fits(c, mid))
            lo = mid;
        else
            hi = mid - 1;
    }
    c->count = lo;
    json_decref(c->r->resp); /* drop the error bodies of the probes */
    c->r->resp = NULL;
    c->r->status = 0;
    return 0;
}

static json_t *request_spec(struct create *c) {
    json_t *img = c->image ? json_pack("{s:O,s:O,s:O,s:O}", "id", json_object_get(c->image, "id"),
                                       "min_disk", json_object_get(c->image, "min_disk"), "min_ram",
                                       json_object_get(c->image, "min_ram"), "properties",
                                       json_object_get(c->image, "properties"))
                           : json_object();
    json_t *spec =
        json_pack("{s:O,s:s?,s:s?,s:s?,s:s?,s:s?,s:o,s:O,s:O,s:I,s:s?,s:O,s:b}", "scheduler_hints",
                  c->hints, "availability_zone", c->az, "force_host", c->force_host, "force_node",
                  c->force_node, "requested_host", c->req_host, "requested_hypervisor_hostname",
                  c->req_node, "image", img, "networks", c->networks, "security_groups",
                  c->security_groups, "num_instances", (json_int_t)c->count, "group_uuid", c->group,
                  "flavor", c->flavor, "is_bfv", c->bd.volume_backed);
    json_t *files = json_object_get(c->server, "personality");
    if (files && !req_ver_ge(c->r, MV(2, 57))) json_object_set(spec, "personality", files);
    if (!c->az) json_object_set_new(spec, "availability_zone", json_null());
    return spec;
}

static json_t *system_metadata(struct create *c) {
    json_t *sys = json_pack("{s:s}", "auto_disk_config", c->auto_disk);
    if (c->image) json_object_update_new(sys, servers_image_sysmeta(c->image));
    return sys;
}

json_t *servers_image_sysmeta(json_t *image) {
    json_t *sys = json_object();
    const char *k;
    json_t *v;
    json_object_foreach(json_object_get(image, "properties"), k, v) {
        char key[300];
        snprintf(key, sizeof key, "image_%s", k);
        json_object_set(sys, key, v);
        if (!strcmp(k, "kernel_id") || !strcmp(k, "ramdisk_id")) json_object_set(sys, k, v);
    }
    static const char *const meta[] = {"min_ram", "min_disk", "disk_format", "container_format",
                                       NULL};
    for (const char *const *m = meta; *m; m++) {
        json_t *x = json_object_get(image, *m);
        char key[64];
        snprintf(key, sizeof key, "image_%s", *m);
        if (json_is_integer(x)) {
            char num[32];
            snprintf(num, sizeof num, "%lld", (long long)json_integer_value(x));
            json_object_set_new(sys, key, json_string(num));
        } else if (json_is_string(x)) {
            json_object_set(sys, key, x);
        }
    }
    json_object_set(sys, "image_base_image_ref", json_object_get(image, "id"));
    return sys;
}

static char *dump(json_t *v) {
    return json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
}

static enum db_status insert_one(struct create *c, long index, const char *spec, const char *sys,
                                 const char *flavor_s, const char *groups, const char *certs) {
    char uuid[37], idx[24], name[300], host[300];
    uuid_new(uuid);
    snprintf(idx, sizeof idx, "%ld", index);
    if (c->count > 1)
        snprintf(name, sizeof name, "%s-%ld", c->name, index + 1);
    else
        snprintf(name, sizeof name, "%s", c->name);
    if (c->hostname) {
        snprintf(host, sizeof host, "%s", c->hostname);
    } else {
        char base[64];
        sanitize_hostname(c->name, base, sizeof base);
        if (!base[0])
            snprintf(host, sizeof host, "Server-%s", uuid);
        else if (c->count > 1)
            snprintf(host, sizeof host, "%s-%ld", base, index + 1);
        else
            snprintf(host, sizeof host, "%s", base);
    }
    struct req *r = c->r;
    const char *v4 = servers_str(c->server, "accessIPv4"),
               *v6 = servers_str(c->server, "accessIPv6");
    const char *p[] = {uuid,
                       r->ctx.project_id,
                       r->ctx.user_id,
                       name,
                       c->description,
                       host,
                       c->bd.image_ref,
                       flavor_s,
                       c->key_name,
                       c->key_data,
                       servers_str(c->server, "user_data"),
                       c->config_drive,
                       v4 && *v4 ? v4 : NULL,
                       v6 && *v6 ? v6 : NULL,
                       c->az,
                       c->reservation,
                       idx,
                       spec,
                       groups,
                       certs,
                       sys};
    enum db_status st = db_exec(
        "INSERT INTO instances (uuid, project_id, user_id, display_name, display_description,"
        " hostname, image_ref, flavor, vcpus, memory_mb, root_gb, ephemeral_gb, key_name,"
        " key_data, user_data, config_drive, access_ip_v4, access_ip_v6, availability_zone,"
        " pinned_availability_zone, reservation_id, launch_index, request_spec, security_groups,"
        " trusted_certs, system_metadata, vm_state, task_state, power_state)"
        " VALUES ($1::uuid, $2, $3, $4, $5, $6, $7, $8::jsonb, ($8::jsonb->>'vcpus')::int,"
        " ($8::jsonb->>'memory_mb')::int, ($8::jsonb->>'root_gb')::int,"
        " ($8::jsonb->>'ephemeral_gb')::int, $9, $10, $11, $12, $13, $14, $15, $15, $16,"
        " $17::int, $18::jsonb, $19::jsonb, $20::jsonb, $21::jsonb, 'building', 'scheduling', 0)",
        21, p);
    if (st) return st;
    json_t *m_in = json_object_get(c->server, "metadata");
    json_t *t_in = req_ver_ge(r, MV(2, 52)) ? json_object_get(c->server, "tags") : NULL;
    char *meta = m_in ? dump(m_in) : strdup("{}");
    char *tags = t_in ? dump(t_in) : strdup("[]");
    char *bdms = dump(c->bd.rows);
    const char *m[] = {uuid, meta}, *t[] = {uuid, tags}, *b[] = {uuid, bdms};
    st = db_exec("INSERT INTO instance_metadata (instance_uuid, key, value)"
                 " SELECT $1::uuid, key, value FROM jsonb_each_text($2::jsonb)",
                 2, m);
    if (!st)
        st = db_exec("INSERT INTO tags (resource_id, tag) SELECT DISTINCT $1::uuid, tag"
                     " FROM jsonb_array_elements_text($2::jsonb) AS tag",
                     2, t);
    if (!st)
        st = db_exec("INSERT INTO block_device_mapping (instance_uuid, source_type,"
                     " destination_type, boot_index, device_name, delete_on_termination,"
                     " volume_size, guest_format, disk_bus, device_type, image_id, volume_id,"
                     " snapshot_id, volume_type, tag)"
                     " SELECT $1::uuid, x.source_type, x.destination_type, x.boot_index,"
                     " x.device_name, COALESCE(x.delete_on_termination, false), x.volume_size,"
                     " x.guest_format, x.disk_bus, x.device_type, x.image_id, x.volume_id,"
                     " x.snapshot_id, x.volume_type, x.tag FROM jsonb_to_recordset($2::jsonb) AS"
                     " x(source_type text, destination_type text, boot_index int,"
                     " device_name text, delete_on_termination bool, volume_size int,"
                     " guest_format text, disk_bus text, device_type text, image_id text,"
                     " volume_id text, snapshot_id text, volume_type text, tag text)",
                     2, b);
    if (!st) st = volumes_reserve_bdms(uuid);
    free(meta);
    free(tags);
    free(bdms);
    if (!st && c->group) {
        const char *g[] = {c->group, uuid};
        st = db_exec("INSERT INTO server_group_members (group_uuid, instance_uuid)"
                     " VALUES ($1::uuid, $2::uuid)",
                     2, g);
        if (!st && notify_server_group(c->group, "server_group.add_member", uuid) < 0)
            st = DB_ERROR;
    }
    if (!st) st = security_groups_attach(r, uuid, c->security_groups);
    if (!st) st = networks_allocate(r, uuid, c->networks);
    if (st) return st;
    if (instance_action_start(r, uuid, "create")) return DB_ERROR;
    json_array_append_new(c->uuids, json_string(uuid));
    return DB_OK;
}

struct txn_args {
    struct create *c;
    int rc;
};

static enum db_status create_txn(void *arg) {
    struct txn_args *a = arg;
    struct create *c = a->c;
    json_array_clear(c->uuids);
    if ((a->rc = security_groups_check(c->r, c->security_groups))) return DB_ERROR;
    if ((a->rc = quota_count(c))) return DB_ERROR;
    if (c->group && (a->rc = quota_reserve_members(c->r, c->r->ctx.project_id, c->r->ctx.user_id,
                                                   c->group, c->count)))
        return DB_ERROR;
    json_t *spec = request_spec(c), *sys = system_metadata(c);
    json_t *certs = req_ver_ge(c->r, MV(2, 63))
                        ? json_object_get(c->server, "trusted_image_certificates")
                        : NULL;
    char *spec_s = dump(spec), *sys_s = dump(sys), *flavor_s = dump(c->flavor),
         *groups_s = dump(c->security_groups),
         *certs_s = certs && !json_is_null(certs) ? dump(certs) : NULL;
    enum db_status st = DB_OK;
    for (long i = 0; i < c->count && !st; i++)
        st = insert_one(c, i, spec_s, sys_s, flavor_s, groups_s, certs_s);
    json_decref(spec);
    json_decref(sys);
    free(spec_s);
    free(sys_s);
    free(flavor_s);
    free(groups_s);
    free(certs_s);
    if (st) {
        if (c->r->status >= 400) a->rc = c->r->status;
        return st;
    }
    json_t *args = json_pack("{s:O}", "instance_uuids", c->uuids);
    int out = outbox_add("conductor", "build_instances", args);
    json_decref(args);
    return out < 0 ? DB_ERROR : DB_OK;
}

static int validate_all(struct create *c) {
    int rc;
    if ((rc = counts(c)) || (rc = zone(c)) || (rc = requested_destination(c)) ||
        (rc = servers_bdm_parse(c->r, c->server, &c->bd)) || (rc = image(c)) ||
        (rc = networks(c)) || (rc = flavor(c)) || (rc = image_fits_flavor(c)) ||
        (rc = servers_bdm_check(c->r, &c->bd, c->flavor)) ||
        (rc = volumes_check_bdms(c->r, c->bd.rows, c->max)) || (rc = key_pair(c)) ||
        (rc = limits(c)) || (rc = hints(c)) || (rc = zone_available(c)) || (rc = misc(c)))
        return rc;
    if (req_ver_ge(c->r, MV(2, 63)) && c->bd.volume_backed &&
        json_array_size(json_object_get(c->server, "trusted_image_certificates")))
        return api_error(c->r, 400,
                         "Image certificate validation is not supported for"
                         " volume-backed servers.");
    return 0;
}

static int reply(struct create *c) {
    struct req *r = c->r;
    if (servers_bool(json_object_get(c->server, "return_reservation_id")))
        return api_reply(r, 202, json_pack("{s:s}", "reservation_id", c->reservation));
    const char *uuid = json_string_value(json_array_get(c->uuids, 0));
    char path[80];
    snprintf(path, sizeof path, "/servers/%s", uuid);
    json_t *links = resource_links(r, path);
    api_header(r, "Location", json_string_value(json_object_get(json_array_get(links, 0), "href")));
    json_t *sg = json_object_get(c->server, "security_groups");
    json_t *s = json_pack("{s:s,s:o,s:s,s:o}", "id", uuid, "links", links, "OS-DCF:diskConfig",
                          strcmp(c->auto_disk, "True") ? "MANUAL" : "AUTO", "security_groups",
                          sg ? json_deep_copy(sg) : json_pack("[{s:s}]", "name", "default"));
    const char *show = config_get("api", "enable_instance_password", NULL);
    bool enabled = true;
    if (show && *show) str_to_bool(show, &enabled);
    if (enabled) json_object_set_new(s, "adminPass", json_string(c->password));
    return api_reply(r, 202, json_pack("{s:o}", "server", s));
}

int servers_create(struct req *r) {
    struct create c = {.r = r, .body = r->body, .server = json_object_get(r->body, "server")};
    c.bd.rows = json_array();
    c.uuids = json_array();
    int rc = validate_all(&c);
    if (!rc) {
        struct txn_args a = {&c, 0};
        enum db_status st = db_txn(create_txn, &a);
        if (a.rc)
            rc = a.rc;
        else if (st)
            rc = api_db_error(r, st);
        else {
            outbox_flush(); /* leftovers are republished by the conductor */
            rc = reply(&c);
        }
    }
    json_decref(c.bd.rows);
    json_decref(c.uuids);
    json_decref(c.image);
    json_decref(c.flavor);
    json_decref(c.hints);
    json_decref(c.networks);
    json_decref(c.security_groups);
    free(c.key_data);
    return rc;
}
