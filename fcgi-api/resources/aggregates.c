/* aggregates.c — os-aggregates: host aggregates, their hosts and metadata
 * (the availability_zone key puts the hosts in a zone). Every write takes
 * one transaction-scoped advisory lock, so name uniqueness and Nova's zone
 * rules (a host is in at most one zone; hosts with instances never change
 * zone) are checked against a stable picture. Aggregates are named by their
 * integer id; 2.41 shows the uuid too. */
#include <string.h>

#include "api.h"

/* Room for a name or zone (at most 255 characters by the schemas). */
#define TEXT_MAX 1024

/* The lock every aggregate write holds until its transaction ends. */
#define AGG_LOCK "SELECT pg_advisory_xact_lock(hashtext('cnova.aggregates'))"

/* One aggregate as Nova marshals it (uuid removed before 2.41). */
#define AGG_JSON                                                                                   \
    "SELECT json_build_object('id', a.id, 'uuid', a.uuid, 'name', a.name,"                        \
    " 'availability_zone', (SELECT m.value FROM aggregate_metadata m"                             \
    "   WHERE m.aggregate_id = a.id AND m.key = 'availability_zone'),"                             \
    " 'created_at', to_char(a.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US'),"     \
    " 'updated_at', to_char(a.updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US'),"     \
    " 'deleted_at', to_char(a.deleted_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US'),"     \
    " 'deleted', a.deleted <> 0,"                                                                  \
    " 'hosts', COALESCE((SELECT json_agg(h.host ORDER BY h.host) FROM aggregate_hosts h"          \
    "   WHERE h.aggregate_id = a.id), '[]'::json),"                                                \
    " 'metadata', COALESCE((SELECT json_object_agg(m.key, m.value ORDER BY m.key)"                \
    "   FROM aggregate_metadata m WHERE m.aggregate_id = a.id), '{}'::json))"                      \
    " FROM aggregates a"

/* Nova's reasons per action, "...%s. Reason: %s." around the check's own text. */
static const char *const ADD = "Cannot add host to aggregate";
static const char *const REMOVE = "Cannot remove host from aggregate";
static const char *const UPDATE = "Cannot update aggregate";
static const char *const UPDATE_META = "Cannot update metadata of aggregate";

static json_t *agg_json(const struct req *r, PGresult *res, int row) {
    json_t *a = json_loads(db_str(res, row, 0), 0, NULL);
    if (!req_ver_ge(r, MV(2, 41))) json_object_del(a, "uuid");
    return a;
}

int aggregates_index(struct req *r) {
    PGresult *res;
    enum db_status st = db_query(&res, AGG_JSON " WHERE a.deleted = 0 ORDER BY a.id", 0, NULL);
    if (st) return api_db_error(r, st);
    json_t *list = json_array();
    for (int i = 0; i < PQntuples(res); i++) json_array_append_new(list, agg_json(r, res, i));
    PQclear(res);
    return api_reply(r, 200, json_pack("{s:o}", "aggregates", list));
}

/* Nova's utils.validate_integer on the path id: 0 or 400. */
static int check_id(struct req *r, const char *id) {
    long long n;
    if (!str_to_int(id, &n)) return api_error(r, 400, "Invalid input received: id must be an integer");
    return 0;
}

/* The live aggregate `id` names, as text in `row_id` (locked FOR UPDATE
 * inside a transaction); with name and zone ("" when none) if asked.
 * 0 or 404 (or the database error). */
static int find(struct req *r, const char *id, char row_id[24], char name[TEXT_MAX], char zone[TEXT_MAX]) {
    long long n;
    str_to_int(id, &n);
    char num[24];
    snprintf(num, sizeof num, "%lld", n);
    const char *params[] = {num};
    PGresult *res;
    enum db_status st =
        n < 1 || n > 2147483647
            ? (res = NULL, DB_OK)
            : db_query(&res,
                       "SELECT a.id, a.name, COALESCE((SELECT m.value FROM aggregate_metadata m"
                       "  WHERE m.aggregate_id = a.id AND m.key = 'availability_zone'), '')"
                       " FROM aggregates a WHERE a.id = $1::int AND a.deleted = 0 FOR UPDATE",
                       1, params);
    if (st) return api_db_error(r, st);
    bool found = res && PQntuples(res) == 1;
    if (found) {
        snprintf(row_id, 24, "%s", db_str(res, 0, 0));
        if (name) snprintf(name, TEXT_MAX, "%s", db_str(res, 0, 1));
        if (zone) snprintf(zone, TEXT_MAX, "%s", db_str(res, 0, 2));
    }
    PQclear(res);
    return found ? 0 : api_error(r, 404, "Aggregate %s could not be found.", id);
}

/* Starts the write transaction and takes the aggregates lock. */
static int begin(struct req *r) {
    enum db_status st = db_begin();
    if (!st && (st = db_exec(AGG_LOCK, 0, NULL))) db_rollback();
    return st ? api_db_error(r, st) : 0;
}

/* Ends a failed write: rolls back and passes the answer on. */
static int fail(int code) {
    db_rollback();
    return code;
}

/* Commits and answers the aggregate (without hosts and metadata on create). */
static int finish(struct req *r, const char *row_id, bool created, const char *action) {
    const char *params[] = {row_id};
    PGresult *res;
    /* aggregate.<action>.start/.end in the same transaction (notify.h) */
    if (action && notify_aggregate(row_id, action) < 0) return fail(api_db_error(r, DB_ERROR));
    enum db_status st = db_query(&res, AGG_JSON " WHERE a.id = $1::int", 1, params);
    if (st) return fail(api_db_error(r, st));
    if ((st = db_commit())) {
        PQclear(res);
        return fail(api_db_error(r, st));
    }
    if (action) outbox_flush();
    json_t *a = agg_json(r, res, 0);
    PQclear(res);
    if (created) {
        json_object_del(a, "hosts");
        json_object_del(a, "metadata");
    }
    return api_reply(r, 200, json_pack("{s:o}", "aggregate", a));
}

/* Nova's common.normalize_name: the name without surrounding blanks. */
static const char *normalize(const char *s, char out[TEXT_MAX]) {
    while (*s == ' ' || (*s >= '\t' && *s <= '\r')) s++;
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || (s[n - 1] >= '\t' && s[n - 1] <= '\r'))) n--;
    snprintf(out, TEXT_MAX, "%.*s", (int)n, s);
    return out;
}

/* 409 when another live aggregate already has this name. */
static int check_name(struct req *r, const char *name, const char *row_id) {
    const char *params[] = {name, row_id};
    PGresult *res;
    enum db_status st = db_query(&res,
                                 "SELECT 1 FROM aggregates WHERE deleted = 0 AND name = $1"
                                 " AND ($2::int IS NULL OR id <> $2::int)",
                                 2, params);
    if (st) return api_db_error(r, st);
    int taken = PQntuples(res);
    PQclear(res);
    return taken ? api_error(r, 409, "Aggregate %s already exists.", name) : 0;
}

int aggregates_create(struct req *r) {
    const json_t *body = json_object_get(r->body, "aggregate");
    char name[TEXT_MAX], zone[TEXT_MAX], uuid[37];
    normalize(json_string_value(json_object_get(body, "name")), name);
    const char *az = json_string_value(json_object_get(body, "availability_zone"));
    if (az) normalize(az, zone);
    int code = begin(r);
    if (code) return code;
    if ((code = check_name(r, name, NULL))) return fail(code);
    uuid_new(uuid);
    const char *params[] = {uuid, name, az && zone[0] ? zone : NULL};
    PGresult *res;
    enum db_status st = db_query(
        &res,
        "WITH a AS (INSERT INTO aggregates (uuid, name) VALUES ($1::uuid, $2) RETURNING id),"
        " m AS (INSERT INTO aggregate_metadata (aggregate_id, key, value)"
        "  SELECT id, 'availability_zone', $3 FROM a WHERE $3::text IS NOT NULL)"
        " SELECT id FROM a",
        3, params);
    if (st) return fail(api_db_error(r, st));
    char row_id[24];
    snprintf(row_id, sizeof row_id, "%s", db_str(res, 0, 0));
    PQclear(res);
    return finish(r, row_id, true, "create");
}

int aggregates_show(struct req *r) {
    const char *id = req_param(r, "id");
    char row_id[24];
    int code = check_id(r, id);
    if (code) return code;
    enum db_status st = db_begin();
    if (st) return api_db_error(r, st);
    if ((code = find(r, id, row_id, NULL, NULL))) return fail(code);
    return finish(r, row_id, false, NULL);
}

/* Nova's is_safe_to_update_az: a zone set on an aggregate (`zone`, NULL
 * when the key is set to null) must not be empty, must not put a host of
 * `hosts_sql` (the aggregate's hosts, or the one being added) in two
 * zones, and (check_instances) must not move instances between zones. */
static int check_zone(struct req *r, int status, const char *verb, const char *row_id, const char *name,
                      const char *old_zone, const char *zone, const char *host,
                      bool check_instances) {
    if (!zone || !zone[0])
        return api_error(r, status,
                         "%s %s. Reason: Aggregate %s does not support empty named availability "
                         "zone.",
                         verb, row_id, name);
    const char *params[] = {row_id, zone, host};
    PGresult *res;
    enum db_status st = db_query(
        &res,
        "WITH hosts AS (SELECT $3::text AS host WHERE $3::text IS NOT NULL"
        "  UNION ALL SELECT h.host FROM aggregate_hosts h"
        "  WHERE $3::text IS NULL AND h.aggregate_id = $1::int)"
        " SELECT m.value FROM aggregates a JOIN aggregate_metadata m"
        "  ON m.aggregate_id = a.id AND m.key = 'availability_zone'"
        " WHERE a.deleted = 0 AND a.id <> $1::int AND m.value <> $2"
        "  AND EXISTS (SELECT 1 FROM aggregate_hosts h JOIN hosts USING (host)"
        "              WHERE h.aggregate_id = a.id)"
        " ORDER BY a.id",
        3, params);
    if (st) return api_db_error(r, st);
    if (PQntuples(res)) {
        /* Nova prints the Python list: ['az1', 'az2'] */
        struct sbuf list = {0};
        for (int i = 0; i < PQntuples(res); i++)
            sbuf_addf(&list, "%s'%s'", i ? ", " : "[", db_str(res, i, 0));
        PQclear(res);
        int code = api_error(r, status,
                             "%s %s. Reason: One or more hosts already in availability zone(s) "
                             "%s].",
                             verb, row_id, list.s);
        sbuf_free(&list);
        return code;
    }
    PQclear(res);
    if (!check_instances || !strcmp(old_zone, zone)) return 0;
    st = db_query(&res,
                  "SELECT 1 FROM instances i JOIN aggregate_hosts h ON h.host = i.host"
                  " WHERE h.aggregate_id = $1::int AND i.deleted = 0 LIMIT 1",
                  1, params);
    if (st) return api_db_error(r, st);
    int busy = PQntuples(res);
    PQclear(res);
    return busy ? api_error(r, status,
                            "%s %s. Reason: One or more hosts contain instances in this zone.",
                            verb, row_id)
                : 0;
}

/* Sets (value) or deletes (NULL) one metadata key. */
static enum db_status set_key(const char *row_id, const char *key, const char *value) {
    const char *params[] = {row_id, key, value};
    if (!value)
        return db_exec("DELETE FROM aggregate_metadata WHERE aggregate_id = $1::int AND key = $2",
                       2, params);
    return db_exec("INSERT INTO aggregate_metadata (aggregate_id, key, value)"
                   " VALUES ($1::int, $2, $3) ON CONFLICT (aggregate_id, key)"
                   " DO UPDATE SET value = EXCLUDED.value",
                   3, params);
}

static enum db_status touch(const char *row_id, const char *name) {
    const char *params[] = {row_id, name};
    return db_exec("UPDATE aggregates SET name = COALESCE($2, name), updated_at = now()"
                   " WHERE id = $1::int",
                   2, params);
}

int aggregates_update(struct req *r) {
    const char *id = req_param(r, "id");
    const json_t *body = json_object_get(r->body, "aggregate");
    const json_t *jname = json_object_get(body, "name");
    const json_t *jzone = json_object_get(body, "availability_zone");
    char row_id[24], name[TEXT_MAX], old_zone[TEXT_MAX], new_name[TEXT_MAX];
    int code = check_id(r, id);
    if (code || (code = begin(r))) return code;
    if ((code = find(r, id, row_id, name, old_zone))) return fail(code);
    if (jname) {
        normalize(json_string_value(jname), new_name);
        if ((code = check_name(r, new_name, row_id))) return fail(code);
        snprintf(name, sizeof name, "%s", new_name);
    }
    const char *zone = json_string_value(jzone);
    if (jzone && (code = check_zone(r, 400, UPDATE, row_id, name, old_zone, zone, NULL, true)))
        return fail(code);
    enum db_status st = touch(row_id, jname ? new_name : NULL);
    if (!st && jzone) st = set_key(row_id, "availability_zone", zone);
    if (st) return fail(api_db_error(r, st));
    return finish(r, row_id, false, "update_prop");
}

int aggregates_delete(struct req *r) {
    const char *id = req_param(r, "id");
    char row_id[24];
    int code = check_id(r, id);
    if (code || (code = begin(r))) return code;
    if ((code = find(r, id, row_id, NULL, NULL))) return fail(code);
    const char *params[] = {row_id};
    PGresult *res;
    enum db_status st =
        db_query(&res, "SELECT 1 FROM aggregate_hosts WHERE aggregate_id = $1::int", 1, params);
    if (st) return fail(api_db_error(r, st));
    int hosts = PQntuples(res);
    PQclear(res);
    if (hosts)
        return fail(api_error(r, 400, "%s %s. Reason: Host aggregate is not empty.", REMOVE,
                              row_id));
    if (notify_aggregate(row_id, "delete") < 0) return fail(api_db_error(r, DB_ERROR));
    st = db_exec("UPDATE aggregates SET deleted = id, deleted_at = now() WHERE id = $1::int", 1,
                 params);
    if (!st)
        st = db_exec("DELETE FROM aggregate_metadata WHERE aggregate_id = $1::int", 1, params);
    if (!st) st = db_commit();
    if (st) return fail(api_db_error(r, st));
    outbox_flush(); /* aggregate.delete.start/.end (notify.h) */
    return api_reply(r, 200, NULL);
}

/* Whether a live nova-compute service runs on `host` (*known); 0 or the
 * database error. */
static int compute_host(struct req *r, const char *host, bool *known) {
    const char *params[] = {host};
    PGresult *res;
    enum db_status st = db_query(&res,
                                 "SELECT 1 FROM services WHERE deleted = 0 AND host = $1"
                                 " AND \"binary\" = 'nova-compute'",
                                 1, params);
    if (st) return api_db_error(r, st);
    *known = PQntuples(res) > 0;
    PQclear(res);
    return 0;
}

/* The zone `host` is in through its aggregates other than `except_id`
 * ("" when none), and how many live instances it runs. */
static enum db_status host_zone(const char *host, const char *except_id, char zone[TEXT_MAX],
                                long long *instances) {
    const char *params[] = {host, except_id};
    PGresult *res;
    enum db_status st = db_query(
        &res,
        "SELECT COALESCE((SELECT min(m.value) FROM aggregate_hosts h"
        "   JOIN aggregates a ON a.id = h.aggregate_id AND a.deleted = 0"
        "   JOIN aggregate_metadata m ON m.aggregate_id = a.id AND m.key = 'availability_zone'"
        "   WHERE h.host = $1 AND ($2::int IS NULL OR a.id <> $2::int)), ''),"
        " (SELECT count(*) FROM instances WHERE host = $1 AND deleted = 0)",
        2, params);
    if (st) return st;
    snprintf(zone, TEXT_MAX, "%s", db_str(res, 0, 0));
    *instances = db_int(res, 0, 1);
    PQclear(res);
    return DB_OK;
}

/* Nova refuses a host move that would change the zone of its instances. */
static int check_instances_stay(struct req *r, const char *verb, const char *row_id,
                                const char *before, const char *after, long long instances) {
    if (!instances || !strcmp(before, after)) return 0;
    return api_error(r, 409,
                     "%s %s. Reason: The host cannot be %s the aggregate as the availability "
                     "zone of the host would change from '%s' to '%s' but the host already has "
                     "%lld instance(s). Changing the AZ of an existing instance is not supported "
                     "by this action. Move the instances away from this host then try again. If "
                     "you need to move the instances between AZs then you can use shelve_offload "
                     "and unshelve to achieve this..",
                     verb, row_id, verb == ADD ? "added to" : "removed from",
                     before[0] ? before : "None", after[0] ? after : "None", instances);
}

int aggregates_add_host(struct req *r) {
    const char *id = req_param(r, "id");
    const char *host = json_string_value(
        json_object_get(json_object_get(r->body, "add_host"), "host"));
    char row_id[24], name[TEXT_MAX], zone[TEXT_MAX], host_zone_now[TEXT_MAX];
    int code = check_id(r, id);
    if (code || (code = begin(r))) return code;
    bool known;
    if ((code = compute_host(r, host, &known))) return fail(code);
    if (!known) return fail(api_error(r, 404, "Compute host %s could not be found.", host));
    if ((code = find(r, id, row_id, name, zone))) return fail(code);
    if (zone[0] && (code = check_zone(r, 409, ADD, row_id, name, zone, zone, host, false)))
        return fail(code);
    long long instances;
    enum db_status st = host_zone(host, NULL, host_zone_now, &instances);
    if (st) return fail(api_db_error(r, st));
    if (zone[0] &&
        (code = check_instances_stay(r, ADD, row_id, host_zone_now, zone, instances)))
        return fail(code);
    const char *params[] = {row_id, host};
    PGresult *res;
    st = db_query(&res,
                  "INSERT INTO aggregate_hosts (aggregate_id, host) VALUES ($1::int, $2)"
                  " ON CONFLICT DO NOTHING RETURNING host",
                  2, params);
    if (st) return fail(api_db_error(r, st));
    int added = PQntuples(res);
    PQclear(res);
    if (!added) return fail(api_error(r, 409, "Aggregate %s already has host %s.", row_id, host));
    return finish(r, row_id, false, "add_host");
}

int aggregates_remove_host(struct req *r) {
    const char *id = req_param(r, "id");
    const char *host = json_string_value(
        json_object_get(json_object_get(r->body, "remove_host"), "host"));
    char row_id[24], zone[TEXT_MAX], other_zone[TEXT_MAX];
    int code = check_id(r, id);
    if (code || (code = begin(r))) return code;
    bool known;
    if ((code = compute_host(r, host, &known))) return fail(code);
    if (!known || find(r, id, row_id, NULL, zone))
        return fail(api_error(r, 404, "Cannot remove host %s in aggregate %s", host, id));
    long long instances;
    enum db_status st = host_zone(host, row_id, other_zone, &instances);
    if (st) return fail(api_db_error(r, st));
    if (zone[0] &&
        (code = check_instances_stay(r, REMOVE, row_id, zone, other_zone, instances)))
        return fail(code);
    const char *params[] = {row_id, host};
    PGresult *res;
    st = db_query(&res,
                  "DELETE FROM aggregate_hosts WHERE aggregate_id = $1::int AND host = $2"
                  " RETURNING host",
                  2, params);
    if (st) return fail(api_db_error(r, st));
    int removed = PQntuples(res);
    PQclear(res);
    if (!removed)
        return fail(api_error(r, 404, "Cannot remove host %s in aggregate %s", host, id));
    return finish(r, row_id, false, "remove_host");
}

int aggregates_set_metadata(struct req *r) {
    const char *id = req_param(r, "id");
    json_t *meta = json_object_get(json_object_get(r->body, "set_metadata"), "metadata");
    char row_id[24], name[TEXT_MAX], zone[TEXT_MAX];
    int code = check_id(r, id);
    if (code || (code = begin(r))) return code;
    if ((code = find(r, id, row_id, name, zone))) return fail(code);
    json_t *az = json_object_get(meta, "availability_zone");
    if (az && (code = check_zone(r, 400, UPDATE_META, row_id, name, zone, json_string_value(az), NULL,
                                 true)))
        return fail(code);
    const char *key;
    json_t *value;
    enum db_status st = touch(row_id, NULL);
    json_object_foreach(meta, key, value) {
        if (st) break;
        st = set_key(row_id, key, json_string_value(value));
    }
    if (st) return fail(api_db_error(r, st));
    return finish(r, row_id, false, "update_metadata");
}

int aggregates_images(struct req *r) {
    const char *id = req_param(r, "id");
    int code = check_id(r, id);
    if (code) return code;
    json_t *cache = json_object_get(r->body, "cache"), *item;
    size_t i, j;
    json_array_foreach(cache, i, item) {
        for (j = 0; j < i; j++)
            if (json_equal(json_object_get(item, "id"),
                           json_object_get(json_array_get(cache, j), "id")))
                return api_error(r, 400, "Duplicate images in request");
    }
    char row_id[24];
    enum db_status st = db_begin();
    if (st) return api_db_error(r, st);
    if ((code = find(r, id, row_id, NULL, NULL))) return fail(code);
    json_array_foreach(cache, i, item) {
        const char *params[] = {json_string_value(json_object_get(item, "id"))};
        PGresult *res;
        if ((st = db_query(&res, "SELECT 1 FROM images WHERE id = $1::uuid AND NOT deleted", 1,
                           params)))
            return fail(api_db_error(r, st));
        int found = PQntuples(res);
        PQclear(res);
        if (!found)
            return fail(api_error(r, 400, "Image %s could not be found.", params[0]));
    }
    /* the hosts have no image cache to fill yet: accepted, nothing to do */
    db_rollback();
    return api_reply(r, 202, NULL);
}
