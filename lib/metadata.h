/* metadata.h — what a guest learns about itself: Nova's metadata tree
 * (the OpenStack `openstack/<version>/...` files and the EC2
 * `<version>/meta-data/...` tree), rendered from one JSON document of the
 * instance. The metadata service (fcgi-api/metadata_api.c) answers guests'
 * requests with metadata_lookup; the config drive (cnova-compute) holds the
 * same files, from metadata_files. Both read the document METADATA_DOC_SQL
 * writes, so the two can never disagree.
 *
 * The document: {uuid, id, name, hostname, project_id, launch_index,
 * availability_zone, reservation_id, key_name, key_data, key_type,
 * user_data (base64, or null), image_ref, kernel_id, ramdisk_id,
 * flavor_name, meta {}, security_groups [names], nics [{port_id, mac,
 * network_id, mtu, ip, cidr, gateway, dns [..], dhcp_ip, enable_dhcp}], floating_ip,
 * config_drive (asked for at boot)}. The conductor sends it with each
 * build, so the host knows the guest's addresses and drive. */
#ifndef CNOVA_METADATA_H
#define CNOVA_METADATA_H

#include <stddef.h>

#include <jansson.h>

/* The document of instance $1 (a uuid), as one JSON text column; no row
 * when the instance does not exist or is deleted. */
#define METADATA_DOC_SQL                                                                           \
    "SELECT jsonb_build_object('uuid', i.uuid, 'id', i.id, 'name', i.display_name,"                \
    " 'hostname', i.hostname, 'project_id', i.project_id, 'launch_index', i.launch_index,"         \
    " 'availability_zone', i.availability_zone, 'reservation_id', i.reservation_id,"               \
    " 'key_name', i.key_name, 'key_data', i.key_data, 'key_type', (SELECT k.type"                  \
    "  FROM key_pairs k WHERE k.user_id = i.user_id AND k.name = i.key_name AND k.deleted = 0),"   \
    " 'user_data', i.user_data, 'image_ref', i.image_ref,"                                         \
    " 'kernel_id', i.system_metadata->>'kernel_id', 'ramdisk_id',"                                 \
    " i.system_metadata->>'ramdisk_id', 'flavor_name', i.flavor->>'name',"                         \
    " 'meta', (SELECT COALESCE(jsonb_object_agg(m.key, m.value), '{}') FROM instance_metadata m"   \
    "  WHERE m.instance_uuid = i.uuid),"                                                           \
    " 'security_groups', (SELECT COALESCE(jsonb_agg(g->>'name'), '[]')"                            \
    "  FROM jsonb_array_elements(i.security_groups) g),"                                           \
    " 'nics', (SELECT COALESCE(jsonb_agg(jsonb_build_object('port_id', p.id, 'mac',"               \
    "  p.mac_address, 'network_id', p.network_id, 'mtu', n.mtu, 'ip', (SELECT host(f.address)"     \
    "  FROM fixed_ips f WHERE f.port_id = p.id ORDER BY f.address LIMIT 1), 'cidr', n.cidr::text," \
    "  'gateway', host(n.gateway), 'dns', to_jsonb(array_remove(ARRAY[host(n.dns1),"               \
    "  host(n.dns2)], NULL)), 'dhcp_ip', (SELECT host(f.address) FROM ports d JOIN fixed_ips f"    \
    "  ON f.port_id = d.id WHERE d.network_id = n.id AND d.device_owner = 'network:dhcp'),"        \
    "  'enable_dhcp', n.enable_dhcp) ORDER BY p.created_at, p.id), '[]')"                          \
    "  FROM ports p JOIN networks n ON n.id = p.network_id WHERE p.instance_uuid = i.uuid),"       \
    " 'floating_ip', (SELECT host(fl.address) FROM floating_ips fl JOIN ports p"                   \
    "  ON p.id = fl.port_id WHERE p.instance_uuid = i.uuid ORDER BY fl.address LIMIT 1),"          \
    " 'config_drive', i.config_drive <> '')::text"                                                 \
    " FROM instances i WHERE i.uuid = $1::uuid AND i.deleted = 0"

/* One answer: `data` (malloc'd, `len` bytes) of type `mime`. */
struct metadata_item {
    char *data;
    size_t len;
    const char *mime; /* "text/plain" or "application/json" */
};

enum metadata_result {
    METADATA_OK = 0,
    METADATA_NOT_FOUND, /* no such path or version: 404 */
    METADATA_PASSWORD   /* openstack/<version>/password: the caller's (GET and POST) */
};

/* Looks `path` ("/openstack/latest/meta_data.json", "/latest/meta-data/",
 * "/") up in the tree of `doc`, as Nova's metadata service does (paths
 * outside /openstack are the EC2 tree). `domain` is [api] dhcp_domain
 * ("" for none), appended to the hostname. On METADATA_OK *out holds the
 * answer, which the caller frees with metadata_item_free. */
enum metadata_result metadata_lookup(const json_t *doc, const char *path, const char *domain,
                                     struct metadata_item *out);
void metadata_item_free(struct metadata_item *it);

/* Every file of a config drive for `doc`, as Nova writes one: the EC2
 * meta-data.json / user-data of 2009-04-04 and latest (the older versions
 * are [api] config_drive_skip_versions in Nova), and the OpenStack files of
 * every version and latest. Calls fn(path, data, len, arg) for each, path
 * relative to the drive's root ("openstack/latest/meta_data.json").
 * Returns 0, or the first non-zero value fn returned. */
int metadata_files(const json_t *doc, const char *domain,
                   int (*fn)(const char *path, const char *data, size_t len, void *arg), void *arg);

/* HMAC-SHA256 of `id` with `secret`, as 64 hex digits + NUL in out: the
 * X-Instance-ID-Signature Neutron's metadata proxy sends. */
void metadata_sign(const char *secret, const char *id, char out[65]);

#endif
