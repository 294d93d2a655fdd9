/* quota_sets.c — os-quota-sets (a project's or one user's limits, usage,
 * defaults; admins set and revert them) and os-quota-class-sets (the limits
 * of a quota class; "default" is what every project starts from). The
 * engine, the resource table and the counting are in quota.c. */
#include <stdlib.h>
#include <string.h>

#include "api.h"

enum quota_api { QUOTA_SETS, QUOTA_CLASS_SETS };

/* Which resources a microversion shows: quota sets drop the nova-network
 * ones at 2.36, class sets at 2.50 (where they start showing server groups);
 * both drop the injected-file ones at 2.57. */
static bool shown(const struct req *r, enum quota_api api, const struct quota_resource *q) {
    bool v250 = req_ver_ge(r, MV(2, 50));
    if (q->era == QUOTA_INJECTED) return !req_ver_ge(r, MV(2, 57));
    if (q->era == QUOTA_NETWORK) return api == QUOTA_SETS ? !req_ver_ge(r, MV(2, 36)) : !v250;
    if (api == QUOTA_CLASS_SETS && !strncmp(q->name, "server_group", 12)) return v250;
    return true;
}

/* {"<key>": {"id": id?, resource: limit or {in_use, limit, reserved}}} */
static json_t *format(const struct req *r, enum quota_api api, const char *id, const long *limits,
                      const long *in_use) {
    json_t *set = json_object();
    if (id) json_object_set_new(set, "id", json_string(id));
    for (size_t i = 0; i < nquota_resources; i++) {
        if (!shown(r, api, &quota_resources[i])) continue;
        json_t *v = in_use ? json_pack("{s:I,s:I,s:i}", "in_use", (json_int_t)in_use[i], "limit",
                                       (json_int_t)limits[i], "reserved", 0)
                           : json_integer(limits[i]);
        json_object_set_new(set, quota_resources[i].name, v);
    }
    return json_pack("{s:o}", api == QUOTA_SETS ? "quota_set" : "quota_class_set", set);
}

/* ?user_id= as Nova reads it: the first non-blank value, or NULL. */
static const char *user_param(const struct req *r) {
    json_t *v = json_object_get(r->query_map, "user_id");
    for (size_t i = 0; i < json_array_size(v); i++) {
        const char *s = json_string_value(json_array_get(v, i));
        if (s && *s) return s;
    }
    return NULL;
}

/* PROJECT_READER_OR_ADMIN with the project as target: a member may only
 * look at their own project. */
static int own_project(struct req *r, const char *id) {
    if (!strcmp(id, r->ctx.project_id)) return 0;
    return auth_policy_target(r, r->route->policy, r->route->policy_name, id, NULL);
}

static int show(struct req *r, bool detail) {
    const char *id = req_param(r, "id"), *user = user_param(r);
    int rc = own_project(r, id);
    if (rc) return rc;
    long limits[QUOTA_MAX], in_use[QUOTA_MAX];
    enum db_status st = quota_limits(id, user, NULL, limits);
    if (!st && detail) st = quota_usage(id, user, in_use);
    if (st) return api_db_error(r, st);
    return api_reply(r, 200, format(r, QUOTA_SETS, id, limits, detail ? in_use : NULL));
}

int quota_sets_show(struct req *r) {
    return show(r, false);
}

int quota_sets_detail(struct req *r) {
    return show(r, true);
}

int quota_sets_defaults(struct req *r) {
    long limits[QUOTA_MAX];
    enum db_status st = quota_limits(NULL, NULL, NULL, limits);
    if (st) return api_db_error(r, st);
    return api_reply(r, 200, format(r, QUOTA_SETS, req_param(r, "id"), limits, NULL));
}

/* A limit from the body: an integer or a string of digits (the schema
 * checked which). */
static long body_value(json_t *v) {
    return json_is_integer(v) ? (long)json_integer_value(v)
                              : strtol(json_string_value(v), NULL, 10);
}

static bool truthy(json_t *v) {
    static const char *const yes[] = {"True", "TRUE", "true", "1",   "ON",
                                      "On",   "on",   "YES",  "Yes", "yes"};
    if (json_is_boolean(v)) return json_is_true(v);
    for (size_t i = 0; json_is_string(v) && i < sizeof yes / sizeof yes[0]; i++)
        if (!strcmp(json_string_value(v), yes[i])) return true;
    return false;
}

/* What a limit may be set to without force, as Nova's settable quotas: a
 * project's limit at least its usage and the sum of its users' limits; a
 * user's at least the user's usage and at most what the project's limit
 * leaves after the other users' limits. -1 is unlimited throughout. */
struct settable {
    long min[QUOTA_MAX], max[QUOTA_MAX];
};

static enum db_status settable(const char *project, const char *user, struct settable *s) {
    long limits[QUOTA_MAX], in_use[QUOTA_MAX], users_sum[QUOTA_MAX] = {0}, own[QUOTA_MAX] = {0};
    enum db_status st = quota_limits(project, NULL, NULL, limits);
    if (!st) st = quota_usage(project, user, in_use);
    if (st) return st;
    const char *params[] = {project, user ? user : ""};
    PGresult *res;
    st = db_query(&res,
                  "SELECT resource, sum(hard_limit),"
                  " COALESCE(max(hard_limit) FILTER (WHERE user_id = $2), 0)"
                  " FROM project_user_quotas WHERE project_id = $1 GROUP BY resource",
                  2, params);
    if (st) return st;
    for (int row = 0; row < PQntuples(res); row++) {
        const struct quota_resource *q = quota_find(db_str(res, row, 0));
        if (!q) continue;
        users_sum[q - quota_resources] = db_int(res, row, 1);
        own[q - quota_resources] = db_int(res, row, 2);
    }
    PQclear(res);
    for (size_t i = 0; i < nquota_resources; i++) {
        long remains = limits[i] - users_sum[i];
        bool unlimited = limits[i] <= -1 || remains <= -1;
        if (user) {
            s->min[i] = in_use[i];
            s->max[i] = unlimited || own[i] <= -1 ? -1 : remains + own[i];
        } else {
            long min = unlimited ? -1 : limits[i] - remains;
            s->min[i] = min > in_use[i] ? min : in_use[i];
            s->max[i] = -1;
        }
    }
    return DB_OK;
}

/* -1 compares as infinity. */
static bool below(long a, long b) {
    return a != -1 && (b == -1 || a < b);
}

static enum db_status store(const char *project, const char *user, const char *resource,
                            long value) {
    char v[32];
    snprintf(v, sizeof v, "%ld", value);
    /* fixed and floating IPs were always per project in Nova */
    if (user && strcmp(resource, "fixed_ips") && strcmp(resource, "floating_ips")) {
        const char *params[] = {project, user, resource, v};
        return db_exec("INSERT INTO project_user_quotas (project_id, user_id, resource,"
                       " hard_limit) VALUES ($1, $2, $3, $4::bigint)"
                       " ON CONFLICT (project_id, user_id, resource)"
                       " DO UPDATE SET hard_limit = EXCLUDED.hard_limit, updated_at = now()",
                       4, params);
    }
    const char *params[] = {project, resource, v};
    return db_exec("INSERT INTO quotas (project_id, resource, hard_limit)"
                   " VALUES ($1, $2, $3::bigint) ON CONFLICT (project_id, resource)"
                   " DO UPDATE SET hard_limit = EXCLUDED.hard_limit, updated_at = now()",
                   3, params);
}

int quota_sets_update(struct req *r) {
    const char *id = req_param(r, "id"), *user = user_param(r);
    json_t *set = json_object_get(r->body, "quota_set"), *v;
    const char *key;
    bool force = truthy(json_object_get(set, "force"));
    struct settable s;
    enum db_status st = force ? DB_OK : settable(id, user, &s);
    if (st) return api_db_error(r, st);
    json_object_foreach(set, key, v) {
        const struct quota_resource *q = quota_find(key);
        if (!q || force) continue;
        long value = body_value(v);
        size_t i = (size_t)(q - quota_resources);
        if (below(value, s.min[i]))
            return api_error(r, 400,
                             "Quota limit %ld for %s must be greater than or equal to already "
                             "used and reserved %ld.",
                             value, key, s.min[i]);
        if (below(s.max[i], value))
            return api_error(r, 400, "Quota limit %ld for %s must be less than or equal to %ld.",
                             value, key, s.max[i]);
    }
    if ((st = db_begin())) return api_db_error(r, st);
    json_object_foreach(set, key, v) {
        if (quota_find(key) && (st = store(id, user, key, body_value(v)))) break;
    }
    if (st || (st = db_commit())) {
        if (st != DB_RETRY) db_rollback();
        return api_db_error(r, st);
    }
    long limits[QUOTA_MAX];
    if ((st = quota_limits(id, user, NULL, limits))) return api_db_error(r, st);
    return api_reply(r, 200, format(r, QUOTA_SETS, NULL, limits, NULL));
}

int quota_sets_delete(struct req *r) {
    const char *id = req_param(r, "id"), *user = user_param(r);
    const char *params[] = {id, user};
    enum db_status st;
    if (user)
        st = db_exec("DELETE FROM project_user_quotas WHERE project_id = $1 AND user_id = $2", 2,
                     params);
    else if (!(st = db_begin())) {
        st = db_exec("DELETE FROM project_user_quotas WHERE project_id = $1", 1, params);
        if (!st) st = db_exec("DELETE FROM quotas WHERE project_id = $1", 1, params);
        if (!st) st = db_commit();
        if (st && st != DB_RETRY) db_rollback();
    }
    if (st) return api_db_error(r, st);
    return api_reply(r, 202, NULL);
}

int quota_class_sets_show(struct req *r) {
    const char *id = req_param(r, "id");
    long limits[QUOTA_MAX];
    enum db_status st = quota_limits(NULL, NULL, id, limits);
    if (st) return api_db_error(r, st);
    return api_reply(r, 200, format(r, QUOTA_CLASS_SETS, id, limits, NULL));
}

static size_t utf8_chars(const char *s) {
    size_t n = 0;
    for (; *s; s++)
        n += ((unsigned char)*s & 0xC0) != 0x80;
    return n;
}

int quota_class_sets_update(struct req *r) {
    const char *id = req_param(r, "id");
    size_t len = utf8_chars(id);
    if (len > 255)
        return api_error(r, 400, "quota_class_name has %zu characters, more than 255.", len);
    json_t *set = json_object_get(r->body, "quota_class_set"), *v;
    const char *key;
    enum db_status st = db_begin();
    if (st) return api_db_error(r, st);
    json_object_foreach(set, key, v) {
        char value[32];
        snprintf(value, sizeof value, "%ld", body_value(v));
        const char *params[] = {id, key, value};
        st = db_exec("INSERT INTO quota_classes (class_name, resource, hard_limit)"
                     " VALUES ($1, $2, $3::bigint) ON CONFLICT (class_name, resource)"
                     " DO UPDATE SET hard_limit = EXCLUDED.hard_limit, updated_at = now()",
                     3, params);
        if (st) break;
    }
    if (st || (st = db_commit())) {
        if (st != DB_RETRY) db_rollback();
        return api_db_error(r, st);
    }
    long limits[QUOTA_MAX];
    if ((st = quota_limits(NULL, NULL, id, limits))) return api_db_error(r, st);
    return api_reply(r, 200, format(r, QUOTA_CLASS_SETS, NULL, limits, NULL));
}
