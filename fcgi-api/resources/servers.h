/* servers.h — what the server files share: servers_view.c turns instance
 * rows into Nova's server views, servers.c serves show/list/update/delete,
 * servers_create.c serves POST /servers. */
#ifndef CNOVA_SERVERS_H
#define CNOVA_SERVERS_H

#include "api.h"

/* One instance as one result row: the columns of the instances row that
 * the views read (servers_view.c), and what they need besides (metadata,
 * tags, last fault, volumes, server group, host status, formatted times,
 * hostId), each column named as the views name it, so that db_row_json
 * turns a row into the object servers_view reads. $1 is [service] service_down_time; the caller
 * appends its WHERE clause (the table is aliased i). */
#define SERVERS_ROW_SQL                                                                            \
    "SELECT i.id, i.uuid, i.project_id, i.user_id, i.display_name, i.display_description,"         \
    " i.hostname, i.image_ref, i.flavor, i.vcpus, i.memory_mb, i.root_gb, i.ephemeral_gb,"         \
    " i.key_name, i.user_data, i.config_drive, i.access_ip_v4, i.access_ip_v6, i.vm_state,"        \
    " i.task_state, i.power_state, i.host, i.node, i.availability_zone,"                           \
    " i.pinned_availability_zone, i.locked, i.locked_reason, i.reservation_id, i.launch_index,"    \
    " i.progress, i.root_device_name, i.addresses, i.trusted_certs, i.system_metadata,"            \
    " json_build_object('scheduler_hints', i.request_spec->'scheduler_hints') AS request_spec,"    \
    " to_char(i.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') AS created_iso,"  \
    " to_char(COALESCE(i.updated_at, i.created_at) AT TIME ZONE 'UTC',"                            \
    "   'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') AS updated_iso,"                                          \
    " to_char(i.launched_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US') AS launched_iso,"  \
    " to_char(i.terminated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US')"                 \
    "   AS terminated_iso,"                                                                        \
    " CASE WHEN i.host IS NULL OR i.host = '' THEN '' ELSE"                                        \
    "   encode(sha224(convert_to(i.project_id || i.host, 'UTF8')), 'hex') END AS host_id,"         \
    " COALESCE((SELECT json_object_agg(m.key, m.value) FROM instance_metadata m"                   \
    "   WHERE m.instance_uuid = i.uuid), '{}'::json) AS meta,"                                     \
    " COALESCE((SELECT json_agg(t.tag ORDER BY t.tag) FROM tags t"                                 \
    "   WHERE t.resource_id = i.uuid), '[]'::json) AS tag_list,"                                   \
    " (SELECT json_build_object('code', f.code, 'message', f.message,"                             \
    "   'details', f.details, 'created', to_char(f.created_at AT TIME ZONE 'UTC',"                 \
    "   'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')) FROM instance_faults f"                                 \
    "   WHERE f.instance_uuid = i.uuid ORDER BY f.id DESC LIMIT 1) AS fault,"                      \
    " COALESCE((SELECT json_agg(json_build_object('id', b.volume_id,"                              \
    "   'delete_on_termination', b.delete_on_termination) ORDER BY b.id)"                          \
    "   FROM block_device_mapping b WHERE b.instance_uuid = i.uuid AND b.deleted = 0"              \
    "   AND b.volume_id IS NOT NULL), '[]'::json) AS volumes,"                                     \
    " (SELECT COALESCE(json_agg(json_build_object('name', sg.name)"                                \
    "   ORDER BY sg.name), '[]'::json) FROM security_group_instance_association sa"                \
    "   JOIN security_groups sg ON sg.id = sa.security_group_id"                                   \
    "   WHERE sa.instance_uuid = i.uuid) AS security_groups,"                                      \
    " (SELECT g.group_uuid FROM server_group_members g"                                            \
    "   WHERE g.instance_uuid = i.uuid AND g.deleted = 0 LIMIT 1) AS group_uuid,"                  \
    " CASE WHEN i.host IS NULL OR i.host = '' THEN '' ELSE COALESCE(("                             \
    "   SELECT CASE WHEN s.forced_down THEN 'DOWN' WHEN s.disabled THEN 'MAINTENANCE'"             \
    "   WHEN s.last_seen_up > now() - make_interval(secs => $1::int) THEN 'UP'"                    \
    "   ELSE 'UNKNOWN' END FROM services s WHERE s.host = i.host"                                  \
    "   AND s.\"binary\" = 'nova-compute' AND s.deleted = 0 LIMIT 1), '') END AS host_status"      \
    " FROM instances i "

/* [service] service_down_time as text, for $1 of SERVERS_ROW_SQL. */
void servers_down_time(char out[16]);
/* Whether the nova-compute service of `host` is up (heartbeat within
 * service_down_time, not forced down): 0 and *up, or the error answered. */
int servers_host_up(struct req *r, const char *host, bool *up);

enum servers_view {
    SERVERS_VIEW_SHOW,   /* GET /servers/{id}: everything for the version */
    SERVERS_VIEW_DETAIL, /* GET /servers/detail: as show, without server_groups */
    SERVERS_VIEW_UPDATE  /* PUT /servers/{id}: the reduced view before 2.75 */
};

/* Nova's server view of one row (from SERVERS_ROW_SQL) at r's microversion
 * and for r's caller. Returns a new object (the inner "server"). */
json_t *servers_view(const struct req *r, json_t *row, enum servers_view kind);

/* Loads instance `uuid` (visible to the caller, live) and replies `status`
 * with {"server": view}; 404 when gone. */
int servers_reply_one(struct req *r, const char *uuid, int status, enum servers_view kind);

/* The password a guest posted to the metadata service, as SQL of the
 * instances row ("" when none): the "password" key, or Nova's 255-character
 * chunks password_0..3 (os-server-password and the metadata service). */
#define SERVER_PASSWORD_SQL                                                                        \
    "COALESCE(NULLIF(system_metadata->>'password', ''),"                                           \
    " concat(system_metadata->>'password_0', system_metadata->>'password_1',"                      \
    "        system_metadata->>'password_2', system_metadata->>'password_3'))"

/* Nova's generate_password (servers_create.c): 12 characters with a digit,
 * an upper and a lower case letter; used for adminPass and rescue. */
void servers_generate_password(char out[16]);

/* ---- security_groups.c: the groups a new server asks for ---- */
/* Checks that every requested group ({"name": ...} items) exists in the
 * caller's project ("default" is made when needed): 0 or Nova's 400. */
int security_groups_check(struct req *r, json_t *names);
/* Puts server `uuid` in the requested groups ("default" when none), inside
 * the create transaction. */
enum db_status security_groups_attach(const struct req *r, const char *uuid, json_t *names);

/* ---- servers_create.c: checks create and rebuild share ---- */
/* The image `id` as the caller may see it ({id, status, size, min_ram,
 * min_disk, disk_format, container_format, properties}), or NULL (then
 * *rc holds the error when the database failed). */
json_t *servers_image_load(struct req *r, const char *id, int *rc);
/* The image against the flavor snapshot (memory, disk, min_disk): 0 or
 * Nova's 400. */
int servers_check_image_flavor(struct req *r, json_t *image, json_t *flavor, bool volume_backed);
/* metadata_items and, before 2.57, the personality file limits of a create
 * or rebuild body: 0 or Nova's 403. */
int servers_check_limits(struct req *r, json_t *server);
/* The image's copies in system_metadata ("image_<property>",
 * image_min_ram, ..., image_base_image_ref), as Nova keeps them. */
json_t *servers_image_sysmeta(json_t *image);

/* ---- servers_bdm.c: block device mappings on create ---- */
#define BDM_INVALID "Block Device Mapping is Invalid: "

struct servers_bdms {
    json_t *rows;          /* rows for the block_device_mapping table */
    const char *image_ref; /* imageRef, "" when none */
    bool volume_backed;    /* the boot device is a volume */
};

/* Reads imageRef and block_device_mapping(_v2) of the create body into b
 * (b->rows an empty array the caller owns); 0 or Nova's 400. */
int servers_bdm_parse(struct req *r, json_t *server, struct servers_bdms *b);
/* Checks the rows against the flavor snapshot; 0 or Nova's 400. */
int servers_bdm_check(struct req *r, const struct servers_bdms *b, json_t *flavor);

/* Values the schema allowed in two types: an integer as a number or a
 * digit string, a boolean as true/false or one of oslo's strings; and a
 * string member (NULL when absent or not a string). */
bool servers_int(json_t *v, long *out);
bool servers_bool(json_t *v);
const char *servers_str(json_t *o, const char *k);

#endif
