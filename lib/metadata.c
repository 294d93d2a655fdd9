/* metadata.c — Nova's metadata tree of one instance (see metadata.h). The
 * versions are data; each file is built from the document when asked. */
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metadata.h"
#include "util.h"

static const char *const ec2_versions[] = {"1.0",        "2007-01-19", "2007-03-01", "2007-08-29",
                                           "2007-10-10", "2007-12-15", "2008-02-01", "2008-09-01",
                                           "2009-04-04", NULL};

/* The OpenStack versions, oldest first; the features that came with them. */
enum os_version {
    FOLSOM,
    GRIZZLY,    /* random_seed, password */
    HAVANA,     /* vendor_data.json */
    LIBERTY,    /* project_id, network_data.json */
    NEWTON_ONE, /* devices */
    NEWTON_TWO, /* vendor_data2.json */
    OCATA,
    ROCKY,
    VICTORIA, /* dedicated_cpus */
    EPOXY,
    OS_VERSIONS
};
static const char *const os_versions[OS_VERSIONS] = {
    "2012-08-10", "2013-04-04", "2013-10-17", "2015-10-15", "2016-06-30",
    "2016-10-06", "2017-02-22", "2018-08-27", "2020-10-14", "2025-04-04"};

static const char *str(const json_t *doc, const char *key) {
    return json_string_value(json_object_get(doc, key));
}

static void item_set(struct metadata_item *out, char *data, size_t len, const char *mime) {
    out->data = data;
    out->len = len;
    out->mime = mime;
}

/* JSON text as Python's json.dumps writes it (", " and ": "), in order. */
static void item_json(struct metadata_item *out, json_t *v) {
    char *s = json_dumps(v, JSON_PRESERVE_ORDER | JSON_ENCODE_ANY);
    json_decref(v);
    item_set(out, s, strlen(s), "application/json");
}

void metadata_item_free(struct metadata_item *it) {
    free(it->data);
    it->data = NULL;
}

static void hostname(const json_t *doc, const char *domain, char *out, size_t len) {
    const char *h = str(doc, "hostname");
    snprintf(out, len, "%s%s%s", h ? h : "", domain && *domain ? "." : "",
             domain && *domain ? domain : "");
}

/* user_data decoded from base64 (NULL when the server has none). */
static char *user_data(const json_t *doc, size_t *len) {
    const char *b64 = str(doc, "user_data");
    if (!b64) return NULL;
    size_t n = strlen(b64);
    unsigned char *out = malloc(n / 4 * 3 + 4);
    int got = EVP_DecodeBlock(out, (const unsigned char *)b64, (int)n);
    if (got < 0) got = 0;
    /* EVP_DecodeBlock counts the padding's zero bytes */
    for (size_t i = n; i > 0 && b64[i - 1] == '=' && got > 0; i--)
        got--;
    out[got] = 0;
    *len = (size_t)got;
    return (char *)out;
}

/* "ami-0a1b2c3d": EC2's id of an image (the first 8 hex digits of its uuid). */
static json_t *ec2_id(const char *prefix, const char *uuid) {
    char buf[32];
    snprintf(buf, sizeof buf, "%s-%.8s", prefix, uuid ? uuid : "00000000");
    return json_string(buf);
}

static const char *first_ip(const json_t *doc) {
    return json_string_value(
        json_object_get(json_array_get(json_object_get(doc, "nics"), 0), "ip"));
}

/* ---- the EC2 tree ---- */

static int ec2_index(const char *v) {
    if (!strcmp(v, "latest")) return 8;
    for (int i = 0; ec2_versions[i]; i++)
        if (!strcmp(ec2_versions[i], v)) return i;
    return -1;
}

/* {"meta-data": {...}, "user-data": "..."} of version index `v`; the
 * public key's listing name under "_name" as Nova keeps it. */
static json_t *ec2_tree(const json_t *doc, int v, const char *domain) {
    char host[512], iid[32];
    hostname(doc, domain, host, sizeof host);
    snprintf(iid, sizeof iid, "i-%08llx",
             (long long)json_integer_value(json_object_get(doc, "id")));
    const char *ip = first_ip(doc), *fip = str(doc, "floating_ip");
    json_t *groups = json_object_get(doc, "security_groups");
    json_t *md =
        json_pack("{s:o, s:I, s:s, s:s, s:s, s:s, s:s, s:o}", "ami-id",
                  ec2_id("ami", str(doc, "image_ref")), "ami-launch-index",
                  json_integer_value(json_object_get(doc, "launch_index")), "ami-manifest-path",
                  "FIXME", "instance-id", iid, "hostname", host, "local-ipv4", ip ? ip : "",
                  "reservation-id", str(doc, "reservation_id") ? str(doc, "reservation_id") : "",
                  "security-groups", json_is_array(groups) ? json_incref(groups) : json_array());
    if (str(doc, "key_name")) {
        char name[300];
        snprintf(name, sizeof name, "0=%s", str(doc, "key_name"));
        json_object_set_new(md, "public-keys",
                            json_pack("{s:{s:s, s:s}}", "0", "_name", name, "openssh-key",
                                      str(doc, "key_data") ? str(doc, "key_data") : ""));
    }
    if (v >= 1) {
        json_object_set_new(md, "local-hostname", json_string(host));
        json_object_set_new(md, "public-hostname", json_string(host));
        json_object_set_new(md, "public-ipv4", json_string(fip ? fip : ""));
    }
    if (v >= 3) {
        const char *f = str(doc, "flavor_name");
        json_object_set_new(md, "instance-type", json_string(f ? f : ""));
    }
    if (v >= 5) {
        json_object_set_new(md, "block-device-mapping",
                            json_pack("{s:s, s:s}", "ami", "vda", "root", "/dev/vda"));
        if (str(doc, "kernel_id"))
            json_object_set_new(md, "kernel-id", ec2_id("aki", str(doc, "kernel_id")));
        if (str(doc, "ramdisk_id"))
            json_object_set_new(md, "ramdisk-id", ec2_id("ari", str(doc, "ramdisk_id")));
    }
    if (v >= 6) {
        const char *az = str(doc, "availability_zone");
        json_object_set_new(md, "placement", json_pack("{s:s?}", "availability-zone", az));
    }
    if (v >= 7) json_object_set_new(md, "instance-action", json_string("none"));
    json_t *tree = json_pack("{s:o}", "meta-data", md);
    size_t n;
    char *ud = user_data(doc, &n);
    if (ud) json_object_set_new(tree, "user-data", json_stringn(ud, n));
    free(ud);
    return tree;
}

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* A node of the EC2 tree as text, as Nova prints it: an object lists its
 * keys sorted (a sub-object as "key/", or as its "_name"), a list its
 * items one per line, a scalar itself. */
static void ec2_print(const json_t *v, struct sbuf *out) {
    if (json_is_object(v)) {
        size_t n = json_object_size(v), i = 0;
        const char **keys = malloc((n ? n : 1) * sizeof *keys);
        const char *k;
        json_t *x;
        json_object_foreach((json_t *)v, k, x) {
            if (strcmp(k, "_name")) keys[i++] = k;
        }
        qsort(keys, i, sizeof *keys, cmp_str);
        for (size_t j = 0; j < i; j++) {
            json_t *c = json_object_get(v, keys[j]);
            if (j) sbuf_add(out, "\n", 1);
            if (json_is_object(c) && json_object_get(c, "_name"))
                sbuf_addf(out, "%s", json_string_value(json_object_get(c, "_name")));
            else
                sbuf_addf(out, "%s%s", keys[j], json_is_object(c) ? "/" : "");
        }
        free(keys);
    } else if (json_is_array(v)) {
        size_t i;
        json_t *x;
        json_array_foreach(v, i, x) {
            if (i) sbuf_add(out, "\n", 1);
            ec2_print(x, out);
        }
    } else if (json_is_string(v)) {
        sbuf_add(out, json_string_value(v), json_string_length(v));
    } else if (json_is_integer(v)) {
        sbuf_addf(out, "%lld", (long long)json_integer_value(v));
    }
}

static void item_lines(struct metadata_item *out, const char *const *lines, size_t n) {
    struct sbuf b = {0};
    for (size_t i = 0; i < n; i++)
        sbuf_addf(&b, "%s%s", i ? "\n" : "", lines[i]);
    sbuf_add(&b, "", 0);
    item_set(out, b.s ? b.s : strdup(""), b.len, "text/plain");
}

static enum metadata_result ec2_lookup(const json_t *doc, char **tok, int ntok, const char *domain,
                                       struct metadata_item *out) {
    if (ntok == 0) {
        const char *all[10];
        for (int i = 0; i < 9; i++)
            all[i] = ec2_versions[i];
        all[9] = "latest";
        item_lines(out, all, 10);
        return METADATA_OK;
    }
    int v = ec2_index(tok[0]);
    if (v < 0) return METADATA_NOT_FOUND;
    json_t *tree = ec2_tree(doc, v, domain), *node = tree;
    for (int i = 1; i < ntok && node; i++)
        node = json_is_object(node) ? json_object_get(node, tok[i]) : NULL;
    enum metadata_result res = METADATA_NOT_FOUND;
    if (node) {
        struct sbuf b = {0};
        ec2_print(node, &b);
        sbuf_add(&b, "", 0);
        item_set(out, b.s ? b.s : strdup(""), b.len, "text/plain");
        res = METADATA_OK;
    }
    json_decref(tree);
    return res;
}

/* ---- the OpenStack tree ---- */

static json_t *meta_data_json(const json_t *doc, int v, const char *domain) {
    char host[512];
    hostname(doc, domain, host, sizeof host);
    json_t *md = json_pack("{s:O}", "uuid", json_object_get(doc, "uuid"));
    if (json_object_size(json_object_get(doc, "meta")))
        json_object_set(md, "meta", json_object_get(doc, "meta"));
    const char *kn = str(doc, "key_name"), *kd = str(doc, "key_data");
    if (kn && kd) {
        json_object_set_new(md, "public_keys", json_pack("{s:s}", kn, kd));
        const char *kt = str(doc, "key_type");
        json_object_set_new(
            md, "keys",
            json_pack("[{s:s, s:s, s:s}]", "name", kn, "type", kt ? kt : "ssh", "data", kd));
    }
    json_object_set_new(md, "hostname", json_string(host));
    json_object_set(md, "name", json_object_get(doc, "name"));
    json_object_set(md, "launch_index", json_object_get(doc, "launch_index"));
    json_object_set(md, "availability_zone", json_object_get(doc, "availability_zone"));
    if (v >= GRIZZLY) {
        unsigned char seed[512];
        char b64[700];
        if (RAND_bytes(seed, sizeof seed) != 1) memset(seed, 0, sizeof seed);
        EVP_EncodeBlock((unsigned char *)b64, seed, sizeof seed);
        json_object_set_new(md, "random_seed", json_string(b64));
    }
    if (v >= LIBERTY) json_object_set(md, "project_id", json_object_get(doc, "project_id"));
    if (v >= NEWTON_ONE) json_object_set_new(md, "devices", json_array());
    if (v >= VICTORIA) json_object_set_new(md, "dedicated_cpus", json_array());
    return md;
}

/* network_data.json: each port a bridged link, each network served by
 * DHCP (Nova writes "ipv4_dhcp" networks and no MTU when the subnet has a
 * DHCP server), the DNS servers as services. */
static json_t *network_data_json(const json_t *doc) {
    json_t *links = json_array(), *nets = json_array(), *services = json_array();
    size_t i;
    json_t *nic;
    json_array_foreach(json_object_get(doc, "nics"), i, nic) {
        const char *port = json_string_value(json_object_get(nic, "port_id"));
        char tap[32];
        snprintf(tap, sizeof tap, "tap%.11s", port ? port : "");
        json_array_append_new(
            links, json_pack("{s:s, s:s?, s:s, s:n, s:O}", "id", tap, "vif_id", port, "type",
                             "bridge", "mtu", "ethernet_mac_address", json_object_get(nic, "mac")));
        if (!json_object_get(nic, "ip") || json_is_null(json_object_get(nic, "ip"))) continue;
        char id[32];
        snprintf(id, sizeof id, "network%zu", json_array_size(nets));
        json_array_append_new(nets, json_pack("{s:s, s:s, s:s, s:O}", "id", id, "type", "ipv4_dhcp",
                                              "link", tap, "network_id",
                                              json_object_get(nic, "network_id")));
        size_t j;
        json_t *dns;
        json_array_foreach(json_object_get(nic, "dns"), j, dns) {
            json_t *svc = json_pack("{s:s, s:O}", "type", "dns", "address", dns);
            bool seen = false;
            size_t k;
            json_t *s;
            json_array_foreach(services, k, s) seen |= json_equal(s, svc);
            if (seen)
                json_decref(svc);
            else
                json_array_append_new(services, svc);
        }
    }
    return json_pack("{s:o, s:o, s:o}", "links", links, "networks", nets, "services", services);
}

/* The files of OpenStack version `v` in Nova's listing order. */
enum os_file { OS_META, OS_USER, OS_PASSWORD, OS_VENDOR, OS_NETWORK, OS_VENDOR2, OS_FILES };
static const struct {
    const char *name;
    enum os_version since; /* listed (and, but for network_data, served) from */
} os_files[OS_FILES] = {{"meta_data.json", FOLSOM},     {"user_data", FOLSOM},
                        {"password", GRIZZLY},          {"vendor_data.json", HAVANA},
                        {"network_data.json", LIBERTY}, {"vendor_data2.json", NEWTON_TWO}};

/* File `f` of version `v`: METADATA_OK with *out, or why not. */
static enum metadata_result os_file(const json_t *doc, int v, enum os_file f, const char *domain,
                                    struct metadata_item *out) {
    /* Nova serves network_data.json at every version, lists it from Liberty */
    if (f != OS_NETWORK && v < (int)os_files[f].since) return METADATA_NOT_FOUND;
    switch (f) {
    case OS_META:
        item_json(out, meta_data_json(doc, v, domain));
        return METADATA_OK;
    case OS_USER: {
        size_t n;
        char *ud = user_data(doc, &n);
        if (!ud) return METADATA_NOT_FOUND;
        item_set(out, ud, n, "text/plain");
        return METADATA_OK;
    }
    case OS_PASSWORD:
        return METADATA_PASSWORD;
    case OS_VENDOR: /* the StaticJSON provider with no vendordata file */
        item_json(out, json_object());
        return METADATA_OK;
    case OS_NETWORK:
        item_json(out, network_data_json(doc));
        return METADATA_OK;
    case OS_VENDOR2:
        item_json(out, json_pack("{s:{}}", "static"));
        return METADATA_OK;
    default:
        return METADATA_NOT_FOUND;
    }
}

static int os_index(const char *v) {
    if (!strcmp(v, "latest")) return OS_VERSIONS - 1;
    for (int i = 0; i < OS_VERSIONS; i++)
        if (!strcmp(os_versions[i], v)) return i;
    return -1;
}

static enum metadata_result os_lookup(const json_t *doc, char **tok, int ntok, const char *domain,
                                      struct metadata_item *out) {
    if (ntok == 0) { /* every version, then latest (none is in the future) */
        const char *all[OS_VERSIONS + 1];
        for (int i = 0; i < OS_VERSIONS; i++)
            all[i] = os_versions[i];
        all[OS_VERSIONS] = "latest";
        item_lines(out, all, OS_VERSIONS + 1);
        return METADATA_OK;
    }
    int v = os_index(tok[0]);
    if (v < 0) return METADATA_NOT_FOUND;
    if (ntok == 1) { /* the version's listing */
        const char *names[OS_FILES];
        size_t n = 0;
        for (int f = 0; f < OS_FILES; f++) {
            if (v < (int)os_files[f].since) continue;
            if (f == OS_USER && !str(doc, "user_data")) continue;
            names[n++] = os_files[f].name;
        }
        item_lines(out, names, n);
        return METADATA_OK;
    }
    if (ntok != 2) return METADATA_NOT_FOUND;
    for (int f = 0; f < OS_FILES; f++)
        if (!strcmp(os_files[f].name, tok[1])) return os_file(doc, v, f, domain, out);
    return METADATA_NOT_FOUND;
}

enum metadata_result metadata_lookup(const json_t *doc, const char *path, const char *domain,
                                     struct metadata_item *out) {
    /* tokens of the normalised path ("." dropped, ".." climbs) */
    char *copy = strdup(path ? path : "/"), *tok[16], *save = NULL;
    int n = 0;
    for (char *t = strtok_r(copy, "/", &save); t; t = strtok_r(NULL, "/", &save)) {
        if (!strcmp(t, ".")) continue;
        if (!strcmp(t, "..")) {
            if (n) n--;
            continue;
        }
        if (n == 16) {
            free(copy);
            return METADATA_NOT_FOUND;
        }
        tok[n++] = t;
    }
    enum metadata_result res;
    if (n && !strcmp(tok[0], "openstack"))
        res = os_lookup(doc, tok + 1, n - 1, domain, out);
    else if (n && !strcmp(tok[0], "ec2"))
        res = ec2_lookup(doc, tok + 1, n - 1, domain, out);
    else
        res = ec2_lookup(doc, tok, n, domain, out);
    free(copy);
    return res;
}

int metadata_files(const json_t *doc, const char *domain,
                   int (*fn)(const char *path, const char *data, size_t len, void *arg),
                   void *arg) {
    char path[128];
    int rc = 0;
    static const char *const ec2_kept[] = {"2009-04-04", "latest"};
    for (size_t i = 0; i < 2 && !rc; i++) {
        json_t *tree = ec2_tree(doc, ec2_index(ec2_kept[i]), domain);
        json_t *ud = json_object_get(tree, "user-data");
        if (ud) {
            snprintf(path, sizeof path, "ec2/%s/user-data", ec2_kept[i]);
            rc = fn(path, json_string_value(ud), json_string_length(ud), arg);
        }
        json_t *md = json_object_get(tree, "meta-data");
        json_object_del(json_object_get(json_object_get(md, "public-keys"), "0"), "_name");
        char *s = json_dumps(md, JSON_PRESERVE_ORDER);
        snprintf(path, sizeof path, "ec2/%s/meta-data.json", ec2_kept[i]);
        if (!rc) rc = fn(path, s, strlen(s), arg);
        free(s);
        json_decref(tree);
    }
    for (int v = 0; v <= OS_VERSIONS && !rc; v++) {
        const char *name = v < OS_VERSIONS ? os_versions[v] : "latest";
        int vi = v < OS_VERSIONS ? v : OS_VERSIONS - 1;
        for (int f = 0; f < OS_FILES && !rc; f++) {
            struct metadata_item it;
            if (f == OS_PASSWORD || vi < (int)os_files[f].since) continue;
            if (os_file(doc, vi, f, domain, &it) != METADATA_OK) continue;
            snprintf(path, sizeof path, "openstack/%s/%s", name, os_files[f].name);
            rc = fn(path, it.data, it.len, arg);
            metadata_item_free(&it);
        }
    }
    return rc;
}

void metadata_sign(const char *secret, const char *id, char out[65]) {
    unsigned char mac[32];
    unsigned int n = sizeof mac;
    HMAC(EVP_sha256(), secret, (int)strlen(secret), (const unsigned char *)id, strlen(id), mac, &n);
    for (unsigned int i = 0; i < 32; i++)
        snprintf(out + 2 * i, 3, "%02x", mac[i]);
}
