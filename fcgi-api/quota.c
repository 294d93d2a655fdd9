/* quota.c — the quota engine: each resource's limit (per-user row, then
 * per-project row, then quota class "default", then [quota] config; -1 =
 * unlimited) and its usage, counted from the rows themselves. quota_reserve
 * checks a create inside the caller's transaction under an advisory lock, so
 * concurrent creates of the same project (or user) and resource serialise. */
#include <stdio.h>
#include <string.h>

#include "api.h"

/* The resources, as data. count_project ($1 = project_id) counts a
 * project's usage, count_user ($1 = project_id, $2 = user_id) one user's;
 * NULL = nothing counted: metadata_items and injected_* limit one
 * request, not a count. Key pairs belong to a user (any project)
 * and, as in Nova, are checked but shown as 0 in use; server group members
 * are counted per group by quota_reserve_members. */
const struct quota_resource quota_resources[] = {
    {"cores", "cores", 20, QUOTA_CURRENT,
     "SELECT COALESCE(sum(vcpus), 0) FROM instances WHERE project_id = $1 AND deleted = 0",
     "SELECT COALESCE(sum(vcpus), 0) FROM instances WHERE project_id = $1 AND user_id = $2"
     " AND deleted = 0",
     false, NULL},
    {"fixed_ips", NULL, -1, QUOTA_NETWORK, NULL, NULL, false, NULL},
    {"floating_ips", NULL, -1, QUOTA_NETWORK,
     "SELECT count(*) FROM floating_ips WHERE project_id = $1", NULL, false, NULL},
    {"injected_file_content_bytes", "injected_file_content_bytes", 10240, QUOTA_INJECTED, NULL,
     NULL, false, NULL},
    {"injected_file_path_bytes", "injected_file_path_length", 255, QUOTA_INJECTED, NULL, NULL,
     false, NULL},
    {"injected_files", "injected_files", 5, QUOTA_INJECTED, NULL, NULL, false, NULL},
    {"instances", "instances", 10, QUOTA_CURRENT,
     "SELECT count(*) FROM instances WHERE project_id = $1 AND deleted = 0",
     "SELECT count(*) FROM instances WHERE project_id = $1 AND user_id = $2 AND deleted = 0",
     false, NULL},
    {"key_pairs", "key_pairs", 100, QUOTA_CURRENT, NULL,
     "SELECT count(*) FROM key_pairs WHERE $1::text IS NOT NULL AND user_id = $2"
     " AND deleted = 0",
     true, "Quota exceeded, too many key pairs."},
    {"metadata_items", "metadata_items", 128, QUOTA_CURRENT, NULL, NULL, false, NULL},
    {"ram", "ram", 51200, QUOTA_CURRENT,
     "SELECT COALESCE(sum(memory_mb), 0) FROM instances WHERE project_id = $1 AND deleted = 0",
     "SELECT COALESCE(sum(memory_mb), 0) FROM instances WHERE project_id = $1 AND user_id = $2"
     " AND deleted = 0",
     false, NULL},
    {"security_group_rules", NULL, -1, QUOTA_NETWORK, NULL, NULL, true,
     "Quota exceeded, too many security group rules."},
    {"security_groups", NULL, -1, QUOTA_NETWORK,
     "SELECT count(*) FROM security_groups WHERE project_id = $1",
     "SELECT count(*) FROM security_groups WHERE project_id = $1 AND user_id = $2", false,
     "Quota exceeded, too many security groups."},
    {"server_group_members", "server_group_members", 10, QUOTA_CURRENT, NULL, NULL, true,
     "Quota exceeded, too many servers in group"},
    {"server_groups", "server_groups", 10, QUOTA_CURRENT,
     "SELECT count(*) FROM server_groups WHERE project_id = $1 AND deleted = 0",
     "SELECT count(*) FROM server_groups WHERE project_id = $1 AND user_id = $2"
     " AND deleted = 0",
     false, "Quota exceeded, too many server groups."},
};
const size_t nquota_resources = sizeof quota_resources / sizeof quota_resources[0];
_Static_assert(sizeof quota_resources / sizeof quota_resources[0] <= QUOTA_MAX, "QUOTA_MAX");

const struct quota_resource *quota_find(const char *name) {
    for (size_t i = 0; i < nquota_resources; i++)
        if (!strcmp(quota_resources[i].name, name)) return &quota_resources[i];
    return NULL;
}

long quota_default(const struct quota_resource *q) {
    return q->option ? config_int("quota", q->option, q->def) : q->def;
}

enum db_status quota_limits(const char *project, const char *user, const char *klass,
                            long *limits) {
    const char *params[] = {project ? project : "", user ? user : "", klass ? klass : ""};
    PGresult *res;
    /* rank orders the sources; a class asked for by name has no fallback
     * to "default" (as Nova), a project has. */
    enum db_status st = db_query(
        &res,
        "SELECT DISTINCT ON (resource) resource, hard_limit FROM ("
        " SELECT resource, hard_limit, 1 AS rank FROM project_user_quotas"
        "  WHERE project_id = $1 AND user_id = $2"
        " UNION ALL SELECT resource, hard_limit, 2 FROM quotas WHERE project_id = $1"
        " UNION ALL SELECT resource, hard_limit, 3 FROM quota_classes WHERE class_name = $3"
        " UNION ALL SELECT resource, hard_limit, 4 FROM quota_classes"
        "  WHERE class_name = 'default' AND $3 = '') q ORDER BY resource, rank",
        3, params);
    if (st) return st;
    for (size_t i = 0; i < nquota_resources; i++)
        limits[i] = quota_default(&quota_resources[i]);
    for (int row = 0; row < PQntuples(res); row++) {
        const struct quota_resource *q = quota_find(db_str(res, row, 0));
        if (q) limits[q - quota_resources] = db_int(res, row, 1);
    }
    PQclear(res);
    return DB_OK;
}

/* One count query ($1 project, $2 user); *used = 0 when sql is NULL. */
static enum db_status count(const char *sql, const char *project, const char *user, long *used) {
    *used = 0;
    if (!sql) return DB_OK;
    const char *params[] = {project, user};
    PGresult *res;
    enum db_status st = db_query(&res, sql, user ? 2 : 1, params);
    if (st) return st;
    *used = db_int(res, 0, 0);
    PQclear(res);
    return DB_OK;
}

/* Every count of the table in one statement ($1 project, $2 user when
 * per_user): one round trip instead of one per resource. Built once per
 * process from the table's own SQL. */
static const char *usage_sql(bool per_user) {
    static char text[2][4096];
    char *sql = text[per_user];
    if (sql[0]) return sql;
    size_t n = (size_t)snprintf(sql, sizeof text[0], "SELECT");
    for (size_t i = 0; i < nquota_resources; i++) {
        const struct quota_resource *q = &quota_resources[i];
        const char *count = q->per_user ? NULL : per_user ? q->count_user : q->count_project;
        n += (size_t)snprintf(sql + n, sizeof text[0] - n, "%s (%s)", i ? "," : "",
                              count ? count : "SELECT 0");
    }
    return sql;
}

enum db_status quota_usage(const char *project, const char *user, long *in_use) {
    const char *params[] = {project, user};
    PGresult *res;
    enum db_status st = db_query(&res, usage_sql(user != NULL), user ? 2 : 1, params);
    if (st) return st;
    for (size_t i = 0; i < nquota_resources; i++) in_use[i] = db_int(res, 0, (int)i);
    PQclear(res);
    return DB_OK;
}

/* Takes the transaction's advisory lock for `key` (released at commit). */
static enum db_status lock(const char *key) {
    const char *params[] = {key};
    return db_exec("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", 1, params);
}

static int over(struct req *r, const struct quota_resource *q, long delta, long used, long limit) {
    if (q->over) return api_error(r, 403, "%s", q->over);
    return api_error(r, 403, "Quota exceeded for %s: Requested %ld, but already used %ld of %ld %s",
                     q->name, delta, used, limit, q->name);
}

static bool fits(long used, long delta, long limit) {
    return limit < 0 || used + delta <= limit;
}

/* Checks `delta` more of q against the project's and the user's limits,
 * counting with count_project / count_user (or `group_sql` per group). */
static int check(struct req *r, const struct quota_resource *q, const char *lock_key,
                 const char *project_id, const char *user_id, long delta) {
    long plimits[QUOTA_MAX];
    long ulimits[QUOTA_MAX];
    size_t i = (size_t)(q - quota_resources);
    long pused = 0, uused = 0;
    enum db_status st = lock(lock_key);
    if (!st) st = quota_limits(project_id, NULL, NULL, plimits);
    if (!st) st = quota_limits(project_id, user_id, NULL, ulimits);
    if (!st && q->count_project) st = count(q->count_project, project_id, NULL, &pused);
    if (!st && q->count_user) st = count(q->count_user, project_id, user_id, &uused);
    if (st) return api_db_error(r, st);
    if (q->count_project && !fits(pused, delta, plimits[i]))
        return over(r, q, delta, pused, plimits[i]);
    if (!q->count_project && !q->count_user && !fits(0, delta, plimits[i]))
        return over(r, q, delta, 0, plimits[i]);
    if (!fits(uused, delta, ulimits[i])) return over(r, q, delta, uused, ulimits[i]);
    return 0;
}

int quota_reserve(struct req *r, const char *project_id, const char *user_id, const char *resource,
                  long delta) {
    const struct quota_resource *q = quota_find(resource);
    if (!q) return api_error(r, 500, "Unknown quota resource %s.", resource);
    char key[600];
    if (q->per_user)
        snprintf(key, sizeof key, "quota:user:%s:%s", user_id, resource);
    else
        snprintf(key, sizeof key, "quota:project:%s:%s", project_id, resource);
    return check(r, q, key, project_id, user_id, delta);
}

/* The resources counted per parent object ($1 = its uuid). */
static const struct {
    const char *resource, *count;
} per_parent[] = {
    {"server_group_members",
     "SELECT count(*) FROM server_group_members WHERE group_uuid = $1::uuid AND deleted = 0"},
    {"security_group_rules",
     "SELECT count(*) FROM security_group_rules WHERE parent_group_id = $1::uuid"},
};

int quota_reserve_members(struct req *r, const char *project_id, const char *user_id,
                          const char *group_uuid, long delta) {
    return quota_reserve_in(r, project_id, user_id, "server_group_members", group_uuid, delta);
}

int quota_reserve_in(struct req *r, const char *project_id, const char *user_id,
                     const char *resource, const char *parent_uuid, long delta) {
    const struct quota_resource *q = quota_find(resource);
    const char *sql = NULL;
    for (size_t i = 0; i < sizeof per_parent / sizeof per_parent[0]; i++)
        if (!strcmp(per_parent[i].resource, resource)) sql = per_parent[i].count;
    if (!q || !sql) return api_error(r, 500, "Unknown quota resource %s.", resource);
    char key[600];
    snprintf(key, sizeof key, "quota:%s:%s", resource, parent_uuid);
    long limits[QUOTA_MAX], used = 0;
    const char *params[] = {parent_uuid};
    PGresult *res;
    enum db_status st = lock(key);
    if (!st) st = quota_limits(project_id, user_id, NULL, limits);
    if (!st) st = db_query(&res, sql, 1, params);
    if (st) return api_db_error(r, st);
    used = db_int(res, 0, 0);
    PQclear(res);
    long limit = limits[q - quota_resources];
    return fits(used, delta, limit) ? 0 : over(r, q, delta, used, limit);
}
