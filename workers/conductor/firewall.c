/* firewall.c — the conductor's side of the guests' firewalls: a compute
 * host asks for the security group rules of every port it has
 * (host_firewall), and a change of the groups' rules or of a live server's
 * groups (sql/021's trigger, through the outbox) makes every compute host
 * ask again (security_groups_changed). Rules from another group are
 * expanded here to the fixed addresses of that group's members. */
#include <stdio.h>

#include "cnova.h"
#include "conductor.h"

/* One row per port of the host's live instances: {instance_uuid, port_id, mac, ip,
 * dhcp_ip, rules [{protocol, from_port, to_port, cidr}]}, as one array. */
#define HOST_FIREWALL_SQL                                                                          \
    "SELECT COALESCE(jsonb_agg(jsonb_build_object('instance_uuid', i.uuid, 'port_id', p.id,"       \
    " 'mac', p.mac_address,"                                                                       \
    " 'ip', (SELECT host(f.address) FROM fixed_ips f WHERE f.port_id = p.id"                       \
    "  ORDER BY f.address LIMIT 1),"                                                               \
    " 'dhcp_ip', (SELECT host(f.address) FROM ports d JOIN fixed_ips f ON f.port_id = d.id"        \
    "  WHERE d.network_id = p.network_id AND d.device_owner = 'network:dhcp' LIMIT 1),"            \
    " 'rules', (SELECT COALESCE(jsonb_agg(jsonb_build_object('protocol', x.protocol,"              \
    "  'from_port', x.from_port, 'to_port', x.to_port, 'cidr', x.cidr)"                            \
    "  ORDER BY x.protocol, x.from_port, x.to_port, x.cidr), '[]') FROM ("                         \
    "   SELECT r.protocol, r.from_port, r.to_port, r.cidr"                                         \
    "   FROM security_group_instance_association a JOIN security_group_rules r"                    \
    "   ON r.parent_group_id = a.security_group_id"                                                \
    "   WHERE a.instance_uuid = i.uuid AND r.group_id IS NULL"                                     \
    "   UNION SELECT r.protocol, r.from_port, r.to_port, host(mf.address) || '/32'"                \
    "   FROM security_group_instance_association a JOIN security_group_rules r"                    \
    "   ON r.parent_group_id = a.security_group_id"                                                \
    "   JOIN security_group_instance_association m ON m.security_group_id = r.group_id"            \
    "   JOIN instances mi ON mi.uuid = m.instance_uuid AND mi.deleted = 0"                         \
    "   JOIN ports mp ON mp.instance_uuid = mi.uuid JOIN fixed_ips mf ON mf.port_id = mp.id"       \
    "   WHERE a.instance_uuid = i.uuid AND r.group_id IS NOT NULL) x))"                            \
    " ORDER BY p.id), '[]')::text"                                                                 \
    " FROM instances i JOIN ports p ON p.instance_uuid = i.uuid"                                   \
    " WHERE i.host = $1 AND i.deleted = 0"

/* args {host}: the host's ports and the rules that let traffic in. */
json_t *conductor_host_firewall(json_t *args, struct conductor *c) {
    const char *host = json_string_value(json_object_get(args, "host"));
    if (!host) return rpc_failure("host_firewall needs host");
    json_t *ports = conductor_instance_json(HOST_FIREWALL_SQL, "firewall", host);
    return ports ? ports : rpc_failure("database: %s", db_errmsg());
}

/* args {}: every compute host loads its firewall again (hosts without
 * real guests answer nothing). */
json_t *conductor_security_groups_changed(json_t *args, struct conductor *c) {
    PGresult *r = NULL;
    if (db_query(&r,
                 "SELECT DISTINCT host FROM services WHERE \"binary\" = 'nova-compute'"
                 " AND deleted = 0 ORDER BY host",
                 0, NULL) != DB_OK)
        return rpc_failure("database: %s", db_errmsg());
    json_t *none = json_object();
    for (int i = 0; i < PQntuples(r); i++) {
        char topic[300];
        snprintf(topic, sizeof topic, "compute.%s", db_str(r, i, 0));
        if (rpc_cast(topic, "refresh_firewall", none) < 0)
            log_warn("refresh_firewall not sent to %s (its next sync loads the rules)", topic);
    }
    json_decref(none);
    PQclear(r);
    return json_true();
}
