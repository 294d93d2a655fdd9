/* security_groups.c — the built-in security groups (up to 2.35:
 * os-security-groups, os-security-group-rules; any version: a server's
 * os-security-groups and the addSecurityGroup / removeSecurityGroup
 * actions), kept in PostgreSQL the way nova-network kept them: every
 * project gets a "default" group on first use, which cannot be renamed or
 * deleted; a group in use by a live server cannot be deleted; rules let a
 * protocol and port range in from a CIDR or from another group's members.
 * Ids are uuids, as the request schemas of today's Nova require. Server
 * create resolves its requested names here too (security_groups_resolve). */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "servers.h"

/* One group as Nova formats it, as JSON text; the caller appends WHERE. */
#define GROUP_SQL                                                                                  \
    "SELECT jsonb_build_object('id', g.id, 'name', g.name, 'description', g.description,"          \
    " 'tenant_id', g.project_id, 'rules', COALESCE((SELECT jsonb_agg(jsonb_build_object("          \
    "  'id', x.id, 'parent_group_id', x.parent_group_id, 'ip_protocol', x.protocol,"               \
    "  'from_port', x.from_port, 'to_port', x.to_port,"                                            \
    "  'group', CASE WHEN x.group_id IS NULL THEN '{}'::jsonb"                                     \
    "   ELSE jsonb_build_object('name', s.name, 'tenant_id', s.project_id) END,"                   \
    "  'ip_range', CASE WHEN x.group_id IS NULL THEN jsonb_build_object('cidr', x.cidr)"           \
    "   ELSE '{}'::jsonb END) ORDER BY x.created_at, x.id)"                                        \
    "  FROM security_group_rules x LEFT JOIN security_groups s ON s.id = x.group_id"               \
    "  WHERE x.parent_group_id = g.id), '[]'::jsonb))::text, g.id, g.name, g.project_id"           \
    " FROM security_groups g "

static const char *scope(const struct req *r) {
    return r->ctx.is_admin ? NULL : r->ctx.project_id;
}

/* The caller's project gets its "default" group the first time it looks. */
static enum db_status ensure_default(const struct req *r) {
    char id[37];
    uuid_new(id);
    const char *params[] = {id, r->ctx.project_id, r->ctx.user_id};
    return db_exec("INSERT INTO security_groups (id, name, description, project_id, user_id)"
                   " SELECT $1::uuid, 'default', 'default', $2, $3 WHERE NOT EXISTS ("
                   " SELECT 1 FROM security_groups WHERE project_id = $2 AND name = 'default')"
                   " ON CONFLICT DO NOTHING",
                   3, params);
}

/* A loaded group: its formatted JSON and the columns the handlers need. */
struct group {
    json_t *json;
    char id[37], name[256], project_id[256];
};

static void group_fill(PGresult *res, int row, struct group *g) {
    g->json = json_loads(db_str(res, row, 0), 0, NULL);
    snprintf(g->id, sizeof g->id, "%s", db_str(res, row, 1));
    snprintf(g->name, sizeof g->name, "%s", db_str(res, row, 2));
    snprintf(g->project_id, sizeof g->project_id, "%s", db_str(res, row, 3));
}

/* Nova's security_group_api.get by id: 400 unless a uuid, 404 when absent
 * or another project's (admins see every project). */
static int group_get(struct req *r, const char *id, struct group *g) {
    g->json = NULL;
    if (!id || !uuid_valid(id)) return api_error(r, 400, "Security group id should be uuid");
    enum db_status st = ensure_default(r);
    const char *params[] = {id, scope(r)};
    PGresult *res = NULL;
    if (!st)
        st = db_query(&res,
                      GROUP_SQL "WHERE g.id = $1::uuid AND ($2::text IS NULL OR g.project_id = $2)",
                      2, params);
    if (st) return api_db_error(r, st);
    int found = PQntuples(res);
    if (found) group_fill(res, 0, g);
    PQclear(res);
    return found ? 0 : api_error(r, 404, "Security group %s not found.", id);
}

/* A group of the caller's project by name (404 as nova-network said). */
static int group_by_name(struct req *r, const char *name, struct group *g) {
    g->json = NULL;
    const char *params[] = {r->ctx.project_id, name};
    PGresult *res;
    enum db_status st =
        db_query(&res, GROUP_SQL "WHERE g.project_id = $1 AND g.name = $2", 2, params);
    if (st) return api_db_error(r, st);
    int found = PQntuples(res);
    if (found) group_fill(res, 0, g);
    PQclear(res);
    return found ? 0
                 : api_error(r, 404, "Security group %s not found for project %s.", name,
                             r->ctx.project_id);
}

static int reply_group(struct req *r, struct group *g) {
    return api_reply(r, 200, json_pack("{s:o}", "security_group", g->json));
}

/* Groups sorted as Nova sorts its answer: by tenant, then name. */
static int reply_groups(struct req *r, PGresult *res) {
    json_t *list = json_array();
    for (int i = 0; i < PQntuples(res); i++)
        json_array_append_new(list, json_loads(db_str(res, i, 0), 0, NULL));
    PQclear(res);
    return api_reply(r, 200, json_pack("{s:o}", "security_groups", list));
}

int security_groups_index(struct req *r) {
    /* all_tenants (any value) widens an admin's list to every project */
    bool all = r->ctx.is_admin && json_object_get(r->query_map, "all_tenants");
    char limit[32], offset[32];
    snprintf(limit, sizeof limit, "%ld", paging_limit(r));
    const char *given = req_query(r, "offset");
    snprintf(offset, sizeof offset, "%lld", given ? strtoll(given, NULL, 10) : 0LL);
    const char *params[] = {all ? NULL : r->ctx.project_id, limit, offset};
    PGresult *res;
    enum db_status st = ensure_default(r);
    if (!st)
        st = db_query(
            &res,
            "SELECT j FROM (" GROUP_SQL "WHERE ($1::text IS NULL OR g.project_id = $1)"
            " ORDER BY g.created_at, g.id LIMIT $2::bigint OFFSET $3::bigint) p"
            " (j, id, name, project_id) ORDER BY project_id COLLATE \"C\", name COLLATE \"C\"",
            3, params);
    return st ? api_db_error(r, st) : reply_groups(r, res);
}

int security_groups_show(struct req *r) {
    struct group g;
    int rc = group_get(r, req_param(r, "id"), &g);
    return rc ? rc : reply_group(r, &g);
}

/* nova-network's validate_property: a name or description that is blank
 * once stripped is refused (the schema already capped the length). */
static int check_property(struct req *r, const char *what) {
    const char *v =
        json_string_value(json_object_get(json_object_get(r->body, "security_group"), what));
    while (v && *v && isspace((unsigned char)*v))
        v++;
    if (v && *v) return 0;
    return api_error(r, 400, "%s has 0 characters, less than 1.", what);
}

static const char *body_field(struct req *r, const char *what) {
    return json_string_value(json_object_get(json_object_get(r->body, "security_group"), what));
}

int security_groups_create(struct req *r) {
    int rc;
    if ((rc = check_property(r, "name")) || (rc = check_property(r, "description"))) return rc;
    const char *name = body_field(r, "name"), *desc = body_field(r, "description");
    char id[37];
    uuid_new(id);
    const char *params[] = {id, name, desc, r->ctx.project_id, r->ctx.user_id};
    enum db_status st = db_begin();
    if (st) return api_db_error(r, st);
    if ((rc = quota_reserve(r, r->ctx.project_id, r->ctx.user_id, "security_groups", 1))) {
        db_rollback();
        return rc;
    }
    st = ensure_default(r);
    if (!st)
        st = db_exec("INSERT INTO security_groups (id, name, description, project_id, user_id)"
                     " VALUES ($1::uuid, $2, $3, $4, $5)",
                     5, params);
    if (!st) st = db_commit();
    if (st) {
        db_rollback();
        return st == DB_CONFLICT ? api_error(r, 400, "Security group %s already exists", name)
                                 : api_db_error(r, st);
    }
    struct group g;
    rc = group_get(r, id, &g);
    return rc ? rc : reply_group(r, &g);
}

int security_groups_update(struct req *r) {
    struct group g;
    int rc = group_get(r, req_param(r, "id"), &g);
    if (rc) return rc;
    json_decref(g.json);
    if ((rc = check_property(r, "name")) || (rc = check_property(r, "description"))) return rc;
    if (!strcmp(g.name, "default"))
        return api_error(r, 400, "Unable to update system group '%s'", g.name);
    const char *name = body_field(r, "name");
    const char *params[] = {g.id, name, body_field(r, "description")};
    enum db_status st = db_exec("UPDATE security_groups SET name = $2, description = $3,"
                                " updated_at = now() WHERE id = $1::uuid",
                                3, params);
    if (st == DB_CONFLICT)
        return api_error(r, 400, "Security group %s already exists for project %s.", name,
                         g.project_id);
    if (st) return api_db_error(r, st);
    rc = group_get(r, g.id, &g);
    return rc ? rc : reply_group(r, &g);
}

int security_groups_delete(struct req *r) {
    struct group g;
    int rc = group_get(r, req_param(r, "id"), &g);
    if (rc) return rc;
    json_decref(g.json);
    if (!strcmp(g.name, "default"))
        return api_error(r, 400, "Unable to delete system group '%s'", g.name);
    const char *params[] = {g.id};
    PGresult *res;
    /* refused while a live server is in it, in the same statement */
    enum db_status st = db_query(
        &res,
        "WITH used AS (SELECT 1 FROM security_group_instance_association a"
        " JOIN instances i ON i.uuid = a.instance_uuid AND i.deleted = 0"
        " WHERE a.security_group_id = $1::uuid LIMIT 1)"
        " DELETE FROM security_groups WHERE id = $1::uuid AND NOT EXISTS (SELECT 1 FROM used)"
        " RETURNING id",
        1, params);
    if (st) return api_db_error(r, st);
    int deleted = PQntuples(res);
    PQclear(res);
    if (!deleted) return api_error(r, 400, "Security group is still in use");
    outbox_flush(); /* sql/021: the hosts load their rules again */
    return api_reply(r, 202, NULL);
}

/* ---- rules ---- */

/* The rule a create body asks for, as nova's _new_ingress_rule builds it. */
struct rule {
    const char *group_id; /* source group, or NULL */
    char cidr[128];       /* "" when from a group */
    char protocol[64];    /* "" = none */
    bool has_ports;
    long long from, to;
};

/* Python's int() of a port value: false when it cannot be one. */
static bool port_value(json_t *v, long long *out) {
    if (json_is_integer(v))
        *out = json_integer_value(v);
    else if (json_is_real(v))
        *out = (long long)json_real_value(v);
    else if (json_is_boolean(v))
        *out = json_is_true(v);
    else if (json_is_string(v))
        return str_to_int(json_string_value(v), out);
    else
        return false;
    return true;
}

/* A JSON value as Python's str() would print it (for messages). */
static void value_text(json_t *v, char *out, size_t n) {
    if (json_is_string(v)) {
        snprintf(out, n, "%s", json_string_value(v));
        return;
    }
    char *s = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
    snprintf(out, n, "%s", s ? s : "");
    free(s);
}

/* urllib's unquote then oslo's is_valid_cidr: an address and a /prefix. */
static bool parse_cidr(const char *in, char *out, size_t n, bool *any_net, bool *zero_prefix) {
    size_t k = 0;
    for (const char *p = in; *p && k + 1 < n; p++) {
        if (p[0] == '%' && isxdigit((unsigned char)p[1]) && isxdigit((unsigned char)p[2])) {
            char hex[3] = {p[1], p[2], 0};
            out[k++] = (char)strtol(hex, NULL, 16);
            p += 2;
        } else
            out[k++] = *p;
    }
    out[k] = 0;
    const char *slash = strchr(out, '/');
    if (!slash || !slash[1] || strlen(slash + 1) > 3) return false;
    for (const char *p = slash + 1; *p; p++)
        if (!isdigit((unsigned char)*p)) return false;
    char addr[64];
    size_t alen = (size_t)(slash - out);
    if (alen >= sizeof addr) return false;
    memcpy(addr, out, alen);
    addr[alen] = 0;
    unsigned char buf[16];
    int prefix = atoi(slash + 1);
    char norm[64];
    if (inet_pton(AF_INET, addr, buf) == 1) {
        if (prefix > 32) return false;
        inet_ntop(AF_INET, buf, norm, sizeof norm);
    } else if (inet_pton(AF_INET6, addr, buf) == 1) {
        if (prefix > 128) return false;
        inet_ntop(AF_INET6, buf, norm, sizeof norm);
    } else
        return false;
    *any_net = !strcmp(norm, "0.0.0.0") || !strcmp(norm, "::");
    *zero_prefix = prefix == 0;
    return true;
}

static int ports_error(struct req *r, const struct rule *x, const char *why) {
    return api_error(r, 400, "Invalid port range %lld:%lld. %s", x->from, x->to, why);
}

/* Python's truth of a JSON value. */
static bool truthy(json_t *v) {
    if (!v || json_is_null(v) || json_is_false(v)) return false;
    if (json_is_string(v)) return *json_string_value(v) != 0;
    if (json_is_integer(v)) return json_integer_value(v) != 0;
    if (json_is_real(v)) return json_real_value(v) != 0;
    if (json_is_array(v)) return json_array_size(v) > 0;
    if (json_is_object(v)) return json_object_size(v) > 0;
    return true;
}

/* Reads and checks the body's rule into x as nova's _new_ingress_rule
 * does: 0 or Nova's 400. A rule from a CIDR (0.0.0.0/0 when none) needs a
 * protocol and both ports; a rule from a group without ports opens the
 * protocol's whole range, and without a protocol lets everything in. */
static int rule_parse(struct req *r, json_t *in, struct rule *x) {
    memset(x, 0, sizeof *x);
    json_t *proto = json_object_get(in, "ip_protocol"), *cidr = json_object_get(in, "cidr");
    json_t *from = json_object_get(in, "from_port"), *to = json_object_get(in, "to_port");
    bool has_proto = truthy(proto);
    bool has_from = from && !json_is_null(from), has_to = to && !json_is_null(to);
    bool any_net = true, zero = false;
    if (has_proto) value_text(proto, x->protocol, sizeof x->protocol);
    x->group_id = json_string_value(json_object_get(in, "group_id"));
    if (!x->group_id) {
        char text[128];
        value_text(cidr, text, sizeof text);
        if (!truthy(cidr))
            snprintf(x->cidr, sizeof x->cidr, "0.0.0.0/0");
        else if (!json_is_string(cidr) ||
                 !parse_cidr(text, x->cidr, sizeof x->cidr, &any_net, &zero))
            return api_error(r, 400, "%s is not a valid IP network.",
                             json_is_string(cidr) ? x->cidr : text);
    } else if (has_proto && !has_from && !has_to) {
        bool icmp = !strcasecmp(x->protocol, "icmp");
        if (icmp || !strcasecmp(x->protocol, "tcp") || !strcasecmp(x->protocol, "udp")) {
            x->from = icmp ? -1 : 1;
            x->to = icmp ? -1 : 65535;
            x->has_ports = true;
        }
    }
    if (!(has_proto && (x->has_ports || (has_from && has_to)))) {
        if (!x->group_id) return api_error(r, 400, "Not enough parameters to build a valid rule.");
        x->protocol[0] = 0;
        x->has_ports = false;
        return 0;
    }
    bool icmp = !strcasecmp(x->protocol, "icmp");
    if (!x->has_ports && (!port_value(from, &x->from) || !port_value(to, &x->to)))
        return api_error(r, 400, "Invalid input received: %s",
                         icmp ? "Type and Code must be integers for ICMP protocol type"
                              : "To and From ports must be integers");
    x->has_ports = true;
    bool tcp = !strcasecmp(x->protocol, "tcp"), udp = !strcasecmp(x->protocol, "udp");
    if (!tcp && !udp && !icmp) return api_error(r, 400, "Invalid IP protocol %s.", x->protocol);
    if ((tcp || udp) && x->from > x->to)
        return ports_error(r, x, "Former value cannot be greater than the later");
    if ((tcp || udp) && (x->from < 1 || x->to > 65535))
        return ports_error(r, x,
                           tcp ? "Valid TCP ports should be between 1-65535"
                               : "Valid UDP ports should be between 1-65535");
    if (icmp && (x->from < -1 || x->from > 255 || x->to < -1 || x->to > 255))
        return ports_error(r, x, "For ICMP, the type:code must be valid");
    if (!x->group_id && !any_net && zero)
        return api_error(r, 400, "Bad prefix for network in cidr %s", x->cidr);
    return 0;
}

int security_group_rules_create(struct req *r) {
    json_t *in = json_object_get(r->body, "security_group_rule");
    struct group parent, source = {0};
    int rc = group_get(r, json_string_value(json_object_get(in, "parent_group_id")), &parent);
    if (rc) return rc;
    json_decref(parent.json);
    const char *gid = json_string_value(json_object_get(in, "group_id"));
    if (gid) {
        if ((rc = group_get(r, gid, &source))) return rc;
        json_decref(source.json);
    }
    struct rule x;
    if ((rc = rule_parse(r, in, &x))) return rc;
    char id[37], from[24], to[24];
    uuid_new(id);
    snprintf(from, sizeof from, "%lld", x.from);
    snprintf(to, sizeof to, "%lld", x.to);
    const char *params[] = {id,
                            parent.id,
                            x.protocol[0] ? x.protocol : NULL,
                            x.has_ports ? from : NULL,
                            x.has_ports ? to : NULL,
                            x.group_id ? NULL : x.cidr,
                            x.group_id};
    enum db_status st = db_begin();
    if (st) return api_db_error(r, st);
    if ((rc = quota_reserve_in(r, r->ctx.project_id, r->ctx.user_id, "security_group_rules",
                               parent.id, 1))) {
        db_rollback();
        return rc;
    }
    PGresult *res;
    /* the same five fields as an existing rule of the group: refused */
    st = db_query(&res,
                  "INSERT INTO security_group_rules (id, parent_group_id, protocol, from_port,"
                  " to_port, cidr, group_id) SELECT $1::uuid, $2::uuid, $3, $4::int, $5::int, $6,"
                  " $7::uuid WHERE NOT EXISTS (SELECT 1 FROM security_group_rules"
                  " WHERE parent_group_id = $2::uuid AND protocol IS NOT DISTINCT FROM $3"
                  " AND from_port IS NOT DISTINCT FROM $4::int"
                  " AND to_port IS NOT DISTINCT FROM $5::int AND cidr IS NOT DISTINCT FROM $6"
                  " AND group_id IS NOT DISTINCT FROM $7::uuid) RETURNING id",
                  7, params);
    int inserted = st ? 0 : PQntuples(res);
    if (!st) PQclear(res);
    if (!st && inserted) st = db_commit();
    if (st || !inserted) {
        db_rollback();
        return st ? api_db_error(r, st)
                  : api_error(r, 400, "This rule already exists in group %s", parent.id);
    }
    json_t *rule = json_pack(
        "{s:s,s:s,s:o,s:o,s:o,s:o,s:o}", "id", id, "parent_group_id", parent.id, "ip_protocol",
        x.protocol[0] ? json_string(x.protocol) : json_null(), "from_port",
        x.has_ports ? json_integer(x.from) : json_null(), "to_port",
        x.has_ports ? json_integer(x.to) : json_null(), "group",
        x.group_id ? json_pack("{s:s,s:s}", "name", source.name, "tenant_id", source.project_id)
                   : json_object(),
        "ip_range", x.group_id ? json_object() : json_pack("{s:s}", "cidr", x.cidr));
    outbox_flush(); /* sql/021: the hosts load their rules again */
    return api_reply(r, 200, json_pack("{s:o}", "security_group_rule", rule));
}

int security_group_rules_delete(struct req *r) {
    const char *id = req_param(r, "id");
    if (!uuid_valid(id)) return api_error(r, 400, "Security group id should be uuid");
    enum db_status st = ensure_default(r);
    /* another project's rule is as unknown as a missing one (its parent
     * group's id is not named to the caller) */
    const char *params[] = {id, scope(r)};
    PGresult *res = NULL;
    if (!st)
        st = db_query(&res,
                      "SELECT r.parent_group_id FROM security_group_rules r"
                      " JOIN security_groups g ON g.id = r.parent_group_id"
                      " WHERE r.id = $1::uuid AND ($2::text IS NULL OR g.project_id = $2)",
                      2, params);
    if (st) return api_db_error(r, st);
    if (!PQntuples(res)) {
        PQclear(res);
        return api_error(r, 404, "Rule (%s) not found", id);
    }
    char parent[37];
    snprintf(parent, sizeof parent, "%s", db_str(res, 0, 0));
    PQclear(res);
    struct group g;
    int rc = group_get(r, parent, &g);
    if (rc) return rc;
    json_decref(g.json);
    st = db_query(&res, "DELETE FROM security_group_rules WHERE id = $1::uuid RETURNING id", 1,
                  params);  /* $1 only: the group's project was checked above */
    if (st) return api_db_error(r, st);
    int n = PQntuples(res);
    PQclear(res);
    if (n) outbox_flush(); /* sql/021: the hosts load their rules again */
    return n ? api_reply(r, 202, NULL) : api_error(r, 404, "Rule (%s) not found", id);
}

/* ---- a server's groups ---- */

int server_security_groups_index(struct req *r) {
    struct instance_ref inst;
    int rc = instance_find(r, req_param(r, "server_id"), &inst);
    if (rc) return rc;
    const char *params[] = {inst.uuid};
    PGresult *res;
    enum db_status st = db_query(
        &res,
        "SELECT j FROM (" GROUP_SQL "JOIN security_group_instance_association a"
        " ON a.security_group_id = g.id WHERE a.instance_uuid = $1::uuid)"
        " p (j, id, name, project_id) ORDER BY project_id COLLATE \"C\", name COLLATE \"C\"",
        1, params);
    return st ? api_db_error(r, st) : reply_groups(r, res);
}

/* The group an add/remove action names: 0, or a 400 for a blank name. */
static int action_name(struct req *r, const char *action, const char **name) {
    *name = json_string_value(json_object_get(json_object_get(r->body, action), "name"));
    const char *p = *name;
    while (p && *p && isspace((unsigned char)*p))
        p++;
    return p && *p ? 0 : api_error(r, 400, "Security group name cannot be empty");
}

static int change_membership(struct req *r, const char *action, bool add) {
    struct instance_ref inst;
    int rc = instance_find(r, req_param(r, "id"), &inst);
    if (rc) return rc;
    const char *name;
    struct group g;
    if ((rc = action_name(r, action, &name)) || (rc = group_by_name(r, name, &g))) return rc;
    json_decref(g.json);
    const char *params[] = {g.id, inst.uuid};
    PGresult *res;
    enum db_status st =
        add ? db_query(&res,
                       "INSERT INTO security_group_instance_association (security_group_id,"
                       " instance_uuid) VALUES ($1::uuid, $2::uuid) ON CONFLICT DO NOTHING"
                       " RETURNING 1",
                       2, params)
            : db_query(&res,
                       "DELETE FROM security_group_instance_association"
                       " WHERE security_group_id = $1::uuid AND instance_uuid = $2::uuid"
                       " RETURNING 1",
                       2, params);
    if (st) return api_db_error(r, st);
    int changed = PQntuples(res);
    PQclear(res);
    if (!changed)
        return api_error(r, 400,
                         add ? "Security group %s is already associated with the instance %s"
                             : "Security group %s is not associated with the instance %s",
                         g.id, inst.uuid);
    outbox_flush(); /* sql/021: the hosts load their rules again */
    return api_reply(r, 202, NULL);
}

int server_add_security_group(struct req *r) {
    return change_membership(r, "addSecurityGroup", true);
}

int server_remove_security_group(struct req *r) {
    return change_membership(r, "removeSecurityGroup", false);
}

/* ---- server create ---- */

int security_groups_check(struct req *r, json_t *names) {
    size_t i;
    json_t *n;
    json_array_foreach(names, i, n) {
        const char *name = servers_str(n, "name");
        if (!name || !strcmp(name, "default")) continue; /* created when needed */
        const char *params[] = {r->ctx.project_id, name};
        PGresult *res;
        enum db_status st = db_query(
            &res, "SELECT 1 FROM security_groups WHERE project_id = $1 AND name = $2", 2, params);
        if (st) return api_db_error(r, st);
        int found = PQntuples(res);
        PQclear(res);
        if (!found)
            return api_error(r, 400, "Security group %s not found for project %s.", name,
                             r->ctx.project_id);
    }
    return 0;
}

enum db_status security_groups_attach(const struct req *r, const char *uuid, json_t *names) {
    char *doc = json_dumps(names, JSON_COMPACT);
    const char *params[] = {uuid, r->ctx.project_id, doc};
    enum db_status st = DB_OK;
    bool dflt = !json_array_size(names);
    size_t i;
    json_t *n;
    json_array_foreach(names, i, n) dflt = dflt || !strcmp(servers_str(n, "name") ?: "", "default");
    if (dflt) st = ensure_default(r);
    /* no names at all: the server is in "default", as Nova does */
    if (!st)
        st = db_exec("INSERT INTO security_group_instance_association (security_group_id,"
                     " instance_uuid) SELECT g.id, $1::uuid FROM security_groups g"
                     " WHERE g.project_id = $2 AND g.name IN (SELECT x->>'name' FROM"
                     " jsonb_array_elements(CASE WHEN jsonb_array_length($3::jsonb) = 0"
                     " THEN '[{\"name\": \"default\"}]'::jsonb ELSE $3::jsonb END) x)"
                     " ON CONFLICT DO NOTHING",
                     3, params);
    free(doc);
    return st;
}
