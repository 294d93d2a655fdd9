/* simple_tenant_usage.c — os-simple-tenant-usage: per project, the hours,
 * vCPU-, RAM- and disk-hours its instances (deleted ones too) ran inside a
 * [start, end) period clipped to now, and per instance when detailed (always
 * for one project). Instances are paged by (project_id, uuid) from 2.40 with
 * the last instance's uuid as marker, as Nova does. */
#include <ctype.h>
#include <string.h>

#include "api.h"

/* The first value of a query parameter, as Nova reads these (parse_qs drops
 * blank values, so "" counts as absent). */
static const char *first_query(const struct req *r, const char *name) {
    const char *v = json_string_value(json_array_get(json_object_get(r->query_map, name), 0));
    return v && v[0] ? v : NULL;
}

/* Reads 1..max digits into *out; returns the characters used (0 = none). */
static int digits(const char *s, int max, int *out) {
    int n = 0, v = 0;
    while (n < max && isdigit((unsigned char)s[n]))
        v = v * 10 + (s[n++] - '0');
    *out = v;
    return n;
}

/* Nova accepts "%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M:%S.%f" and
 * "%Y-%m-%d %H:%M:%S.%f" (naive, UTC). Writes the canonical text for
 * PostgreSQL into out; false when the string fits none of them. */
static bool parse_time(const char *s, char out[96]) {
    int f[6], us = 0, n;
    static const int width[6] = {4, 2, 2, 2, 2, 2};
    static const char sep[6] = {'-', '-', 0, ':', ':', 0};
    const char *p = s;
    char middle = 0;
    for (int k = 0; k < 6; k++) {
        if (!(n = digits(p, width[k], &f[k]))) return false;
        p += n;
        if (k == 2) {
            middle = *p;
            if (middle != 'T' && middle != ' ') return false;
            p++;
        } else if (sep[k] && *p++ != sep[k])
            return false;
    }
    if (*p == '.') {
        int len = digits(++p, 6, &us);
        if (!len) return false;
        for (int k = len; k < 6; k++)
            us *= 10;
        p += len;
    } else if (middle == ' ')
        return false; /* the space form needs the fraction */
    if (*p) return false;
    static const int mdays[12] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (f[0] % 4 == 0 && f[0] % 100 != 0) || f[0] % 400 == 0;
    if (f[0] < 1 || f[1] < 1 || f[1] > 12 || f[2] < 1 || f[2] > mdays[f[1] - 1] ||
        (f[1] == 2 && f[2] == 29 && !leap) || f[3] > 23 || f[4] > 59 || f[5] > 61)
        return false;
    if (f[5] > 59) return false; /* strptime takes 60/61; datetime refuses them */
    snprintf(out, 96, "%04d-%02d-%02d %02d:%02d:%02d.%06d", f[0], f[1], f[2], f[3], f[4], f[5], us);
    return true;
}

/* The period: start (default now) and stop = min(end (default now), now),
 * both as "YYYY-MM-DD HH:MM:SS.ffffff" UTC. 0 or the error status. */
static int period(struct req *r, char start[48], char stop[48]) {
    const char *in[2] = {first_query(r, "start"), first_query(r, "end")};
    char text[2][96];
    const char *params[2] = {NULL, NULL};
    for (int k = 0; k < 2; k++) {
        if (!in[k]) continue;
        if (!parse_time(in[k], text[k]))
            return api_error(r, 400, "Invalid datetime string: Datetime is in invalid format");
        params[k] = text[k];
    }
    /* an absent end is read after the start, as Nova's utcnow() calls are */
    PGresult *res;
    enum db_status st = db_query(
        &res,
        "WITH p AS (SELECT COALESCE($1::timestamp, now() AT TIME ZONE 'UTC') AS s,"
        "  COALESCE($2::timestamp, clock_timestamp() AT TIME ZONE 'UTC') AS e)"
        " SELECT to_char(s, 'YYYY-MM-DD HH24:MI:SS.US'),"
        "  to_char(LEAST(e, clock_timestamp() AT TIME ZONE 'UTC'), 'YYYY-MM-DD HH24:MI:SS.US'),"
        "  s < e FROM p",
        2, params);
    if (st) return api_db_error(r, st);
    bool ok = db_bool(res, 0, 2);
    snprintf(start, 48, "%s", db_str(res, 0, 0));
    snprintf(stop, 48, "%s", db_str(res, 0, 1));
    PQclear(res);
    if (!ok)
        return api_error(r, 400,
                         "Invalid start time. The start time cannot occur after the end "
                         "time.");
    return 0;
}

enum {
    U_UUID,
    U_PROJECT,
    U_NAME,
    U_FLAVOR,
    U_MEM,
    U_VCPUS,
    U_DISK,
    U_STATE,
    U_STARTED,
    U_ENDED,
    U_HOURS,
    U_UPTIME
};

/* $1 start, $2 stop (UTC text); usages() adds the project, the marker
 * and the order. Nova's get_active_by_window_joined: not terminated
 * before the start, launched before the stop. */
#define USAGE_SQL                                                                                  \
    "WITH p AS (SELECT ($1::timestamp AT TIME ZONE 'UTC') AS s,"                                   \
    "  ($2::timestamp AT TIME ZONE 'UTC') AS e)"                                                   \
    " SELECT i.uuid, i.project_id, i.display_name, COALESCE(i.flavor->>'name', ''),"               \
    "  COALESCE((i.flavor->>'memory_mb')::int, i.memory_mb),"                                      \
    "  COALESCE((i.flavor->>'vcpus')::int, i.vcpus),"                                              \
    "  COALESCE((i.flavor->>'root_gb')::int, i.root_gb)"                                           \
    "   + COALESCE((i.flavor->>'ephemeral_gb')::int, i.ephemeral_gb),"                             \
    "  CASE WHEN i.terminated_at IS NULL THEN i.vm_state ELSE 'terminated' END,"                   \
    "  to_char(i.launched_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US'),"                 \
    "  to_char(i.terminated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US'),"               \
    "  CASE WHEN i.launched_at > p.e THEN 0::float8 ELSE extract(epoch FROM"                       \
    "   LEAST(p.e, COALESCE(i.terminated_at, p.e)) - GREATEST(i.launched_at, p.s))::float8"        \
    "   / 3600 END,"                                                                               \
    "  trunc(extract(epoch FROM COALESCE(i.terminated_at, clock_timestamp()) - i.launched_at))"    \
    "   ::bigint"                                                                                  \
    " FROM instances i, p"                                                                         \
    " WHERE (i.terminated_at IS NULL OR i.terminated_at > p.s) AND i.launched_at < p.e"

static json_t *server_usage(PGresult *res, int i) {
    json_t *u =
        json_pack("{s:s,s:s,s:s?,s:s,s:I,s:I,s:I,s:s,s:s,s:s?,s:f,s:I}", "instance_id",
                  db_str(res, i, U_UUID), "tenant_id", db_str(res, i, U_PROJECT), "name",
                  db_str(res, i, U_NAME), "flavor", db_str(res, i, U_FLAVOR), "memory_mb",
                  db_int(res, i, U_MEM), "vcpus", db_int(res, i, U_VCPUS), "local_gb",
                  db_int(res, i, U_DISK), "state", db_str(res, i, U_STATE), "started_at",
                  db_str(res, i, U_STARTED), "ended_at", db_str(res, i, U_ENDED), "hours",
                  strtod(db_str(res, i, U_HOURS), NULL), "uptime", db_int(res, i, U_UPTIME));
    if (db_isnull(res, i, U_NAME)) json_object_set_new(u, "name", json_null());
    if (db_isnull(res, i, U_ENDED)) json_object_set_new(u, "ended_at", json_null());
    return u;
}

/* One project's summary, started empty; server usages added by add(). */
static json_t *summary(const char *project, const char *start, const char *stop, bool detailed) {
    char s[48], e[48];
    snprintf(s, sizeof s, "%.10sT%s", start, start + 11);
    snprintf(e, sizeof e, "%.10sT%s", stop, stop + 11);
    json_t *t = json_pack("{s:s,s:s,s:s,s:i,s:i,s:i,s:i}", "tenant_id", project, "start", s, "stop",
                          e, "total_hours", 0, "total_local_gb_usage", 0, "total_memory_mb_usage",
                          0, "total_vcpus_usage", 0);
    if (detailed) json_object_set_new(t, "server_usages", json_array());
    return t;
}

static void add(json_t *t, const char *key, double v) {
    json_t *cur = json_object_get(t, key);
    json_object_set_new(t, key, json_real(json_number_value(cur) + v));
}

/* The usages of all projects (tenant NULL) or one, and the instances' page. */
static int usages(struct req *r, const char *tenant, bool detailed, const char *collection,
                  const char *links_key, json_t **out, json_t **links) {
    char start[48], stop[48];
    int err = period(r, start, stop);
    if (err) return err;
    bool paged = req_ver_ge(r, MV(2, 40));
    long limit = paged ? paging_limit(r) : config_int("api", "max_limit", 1000);
    const char *marker = paged ? first_query(r, "marker") : NULL;
    char mproject[256] = "", muuid[48] = "";
    PGresult *res;
    enum db_status st;
    if (marker) {
        const char *params[] = {marker};
        if ((st = db_query(&res,
                           "SELECT project_id, uuid::text FROM instances WHERE uuid::text = $1", 1,
                           params)))
            return api_db_error(r, st);
        if (PQntuples(res)) {
            snprintf(mproject, sizeof mproject, "%s", db_str(res, 0, 0));
            snprintf(muuid, sizeof muuid, "%s", db_str(res, 0, 1));
        }
        PQclear(res);
        if (!muuid[0]) return api_error(r, 400, "Marker %s could not be found.", marker);
    }
    char lim[24];
    snprintf(lim, sizeof lim, "%ld", limit);
    struct db_sql q = {.text = ""};
    db_sql_param(&q, start);
    db_sql_param(&q, stop);
    db_sql_add(&q, USAGE_SQL, NULL);
    if (tenant) db_sql_add(&q, " AND i.project_id = $?", tenant);
    if (muuid[0]) {
        db_sql_add(&q, " AND (i.project_id COLLATE \"C\", i.uuid::text COLLATE \"C\")"
                       " > ($?::text COLLATE \"C\",", mproject);
        db_sql_add(&q, " $?::text COLLATE \"C\")", muuid);
    }
    db_sql_add(&q, " ORDER BY i.project_id COLLATE \"C\", i.uuid::text COLLATE \"C\"", NULL);
    db_sql_add(&q, " LIMIT $?::bigint", lim);
    if ((st = db_query_sql(&res, &q))) return api_db_error(r, st);
    int n = PQntuples(res);
    json_t *list = json_array(), *cur = NULL;
    for (int i = 0; i < n; i++) {
        const char *project = db_str(res, i, U_PROJECT);
        if (!cur || strcmp(json_string_value(json_object_get(cur, "tenant_id")), project)) {
            cur = summary(project, start, stop, detailed);
            json_array_append_new(list, cur);
        }
        double hours = strtod(db_str(res, i, U_HOURS), NULL);
        add(cur, "total_hours", hours);
        add(cur, "total_local_gb_usage", (double)db_int(res, i, U_DISK) * hours);
        add(cur, "total_memory_mb_usage", (double)db_int(res, i, U_MEM) * hours);
        add(cur, "total_vcpus_usage", (double)db_int(res, i, U_VCPUS) * hours);
        if (detailed)
            json_array_append_new(json_object_get(cur, "server_usages"), server_usage(res, i));
    }
    *links = NULL;
    if (paged && n && n == limit) {
        *links =
            json_pack("{s:o}", links_key, paging_link(r, collection, db_str(res, n - 1, U_UUID)));
    }
    PQclear(res);
    *out = list;
    return 0;
}

int simple_tenant_usage_index(struct req *r) {
    const char *d = first_query(r, "detailed");
    json_t *list, *links;
    int err = usages(r, NULL, d && !strcmp(d, "1"), "/os-simple-tenant-usage",
                     "tenant_usages_links", &list, &links);
    if (err) return err;
    json_t *body = json_pack("{s:o}", "tenant_usages", list);
    if (links) json_object_update(body, links), json_decref(links);
    return api_reply(r, 200, body);
}

int simple_tenant_usage_show(struct req *r) {
    const char *tenant = req_param(r, "id");
    /* the rule's target is the project asked about */
    if (!r->ctx.is_admin && strcmp(tenant, r->ctx.project_id))
        return api_error(r, 403, "Policy doesn't allow %s to be performed.", r->route->policy_name);
    char collection[600];
    snprintf(collection, sizeof collection, "/os-simple-tenant-usage/%s", tenant);
    json_t *list, *links;
    int err = usages(r, tenant, true, collection, "tenant_usage_links", &list, &links);
    if (err) return err;
    json_t *usage = json_array_size(list) ? json_incref(json_array_get(list, 0)) : json_object();
    json_decref(list);
    json_t *body = json_pack("{s:o}", "tenant_usage", usage);
    if (links) json_object_update(body, links), json_decref(links);
    return api_reply(r, 200, body);
}
