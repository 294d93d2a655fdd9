/* migrations.c — os-migrations: the moves of instances between hosts, from
 * the migrations table, filtered as Nova filters them (host, status,
 * instance_uuid, migration_type, source_compute, hidden, user/project).
 * 2.23 adds migration_type and links for live migrations in progress; 2.59
 * the uuid, newest-first paging and changes-since; 2.66 changes-before;
 * 2.80 user_id and project_id. Hidden migrations are never shown. */
#include <string.h>

#include "api.h"

enum {
    M_ID,
    M_UUID,
    M_INSTANCE,
    M_SRC,
    M_DEST,
    M_SRC_NODE,
    M_DEST_NODE,
    M_DEST_HOST,
    M_OLD,
    M_NEW,
    M_STATUS,
    M_TYPE,
    M_USER,
    M_PROJECT,
    M_CREATED,
    M_UPDATED
};

#define STAMP(col) "to_char(" col " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US')"

/* The columns (M_*); migrations_index adds the filters asked for, the
 * marker and the order. */
#define MIGRATIONS_SQL                                                                             \
    "SELECT id, uuid, instance_uuid, source_compute, dest_compute, source_node, dest_node,"        \
    " dest_host, old_instance_type_id, new_instance_type_id, status, migration_type, user_id,"     \
    " project_id, " STAMP("created_at") ", " STAMP(                                                \
        "updated_at") ", hidden"                                                                   \
                      " FROM migrations WHERE deleted = 0"

static json_t *str_or_null(PGresult *res, int i, int col) {
    return db_isnull(res, i, col) ? json_null() : json_string(db_str(res, i, col));
}

static json_t *int_or_null(PGresult *res, int i, int col) {
    return db_isnull(res, i, col) ? json_null() : json_integer(db_int(res, i, col));
}

static json_t *migration_json(const struct req *r, PGresult *res, int i) {
    static const struct {
        const char *name;
        int col;
    } strings[] = {
        {"instance_uuid", M_INSTANCE}, {"source_compute", M_SRC},  {"dest_compute", M_DEST},
        {"source_node", M_SRC_NODE},   {"dest_node", M_DEST_NODE}, {"dest_host", M_DEST_HOST},
        {"status", M_STATUS},          {"created_at", M_CREATED},  {"updated_at", M_UPDATED},
    };
    json_t *m = json_object();
    json_object_set_new(m, "id", json_integer(db_int(res, i, M_ID)));
    for (size_t k = 0; k < sizeof strings / sizeof strings[0]; k++)
        json_object_set_new(m, strings[k].name, str_or_null(res, i, strings[k].col));
    json_object_set_new(m, "old_instance_type_id", int_or_null(res, i, M_OLD));
    json_object_set_new(m, "new_instance_type_id", int_or_null(res, i, M_NEW));
    if (req_ver_ge(r, MV(2, 23))) {
        const char *type = db_str(res, i, M_TYPE), *status = db_str(res, i, M_STATUS);
        json_object_set_new(m, "migration_type", json_string(type));
        /* links only for a live migration still in progress */
        static const char *const live[] = {"queued", "preparing", "running", "post-migrating"};
        bool in_progress = false;
        for (size_t k = 0; k < sizeof live / sizeof live[0]; k++)
            in_progress = in_progress || !strcmp(status, live[k]);
        if (!strcmp(type, "live-migration") && in_progress) {
            char path[128];
            snprintf(path, sizeof path, "/servers/%s/migrations/%s", db_str(res, i, M_INSTANCE),
                     db_str(res, i, M_ID));
            json_object_set_new(m, "links", resource_links(r, path));
        }
    }
    if (req_ver_ge(r, MV(2, 59)))
        json_object_set_new(m, "uuid", json_string(db_str(res, i, M_UUID)));
    if (req_ver_ge(r, MV(2, 80))) {
        json_object_set_new(m, "user_id", str_or_null(res, i, M_USER));
        json_object_set_new(m, "project_id", str_or_null(res, i, M_PROJECT));
    }
    return m;
}

int migrations_index(struct req *r) {
    bool paged = req_ver_ge(r, MV(2, 59));
    const char *since = paged ? req_query(r, "changes-since") : NULL;
    const char *before = req_ver_ge(r, MV(2, 66)) ? req_query(r, "changes-before") : NULL;
    const char *marker = paged ? req_query(r, "marker") : NULL;
    const char *host = req_query(r, "host");
    const char *hidden_q = req_query(r, "hidden");
    bool hidden;
    const char *hidden_v = hidden_q && str_to_bool(hidden_q, &hidden) ? (hidden ? "t" : "f") : NULL;
    PGresult *res;
    enum db_status st;
    if (since && before) {
        const char *params[] = {since, before};
        if ((st = db_query(&res, "SELECT $2::timestamptz < $1::timestamptz", 2, params)))
            return api_db_error(r, st);
        bool wrong = db_bool(res, 0, 0);
        PQclear(res);
        if (wrong)
            return api_error(r, 400,
                             "The value of changes-since must be less than or equal to "
                             "changes-before.");
    }
    char mcreated[64] = "", mid[24] = "";
    if (marker) {
        const char *params[] = {marker};
        if ((st = db_query(&res,
                           "SELECT created_at::text, id FROM migrations WHERE deleted = 0"
                           " AND uuid::text = lower($1)",
                           1, params)))
            return api_db_error(r, st);
        if (PQntuples(res)) {
            snprintf(mcreated, sizeof mcreated, "%s", db_str(res, 0, 0));
            snprintf(mid, sizeof mid, "%s", db_str(res, 0, 1));
        }
        PQclear(res);
        if (!mid[0]) return api_error(r, 400, "Marker %s could not be found.", marker);
    }
    long limit = paged ? paging_limit(r) : 1L << 40;
    char lim[24];
    snprintf(lim, sizeof lim, "%ld", limit);
    const struct {
        const char *value, *frag;
    } filters[] = {
        {req_query(r, "status"), " AND status = $?"},
        {host, " AND (source_compute = $? OR dest_compute = $?)"},
        {host ? NULL : req_query(r, "source_compute"), " AND source_compute = $?"},
        {req_query(r, "migration_type"), " AND migration_type = $?"},
        {hidden_v, " AND hidden = $?::boolean"},
        {req_query(r, "instance_uuid"), " AND instance_uuid::text = $?"},
        {req_query(r, "user_id"), " AND user_id = $?"},
        {req_query(r, "project_id"), " AND project_id = $?"},
        {since, " AND updated_at >= $?::timestamptz"},
        {before, " AND updated_at <= $?::timestamptz"},
        {mid[0] ? mcreated : NULL, " AND (created_at, id) < ($?::timestamptz,"},
    };
    struct db_sql q = {.text = ""};
    db_sql_add(&q, MIGRATIONS_SQL, NULL);
    for (size_t i = 0; i < sizeof filters / sizeof *filters; i++)
        if (filters[i].value) db_sql_add(&q, filters[i].frag, filters[i].value);
    if (mid[0]) db_sql_add(&q, " $?::bigint)", mid);
    db_sql_add(&q, paged ? " ORDER BY created_at DESC, id DESC" : " ORDER BY id", NULL);
    db_sql_add(&q, " LIMIT $?::bigint", lim);
    if ((st = db_query_sql(&res, &q))) return api_db_error(r, st);
    int n = PQntuples(res), shown = 0;
    json_t *list = json_array();
    const char *last = NULL;
    for (int i = 0; i < n; i++) {
        if (db_bool(res, i, M_UPDATED + 1)) continue; /* hidden: never shown */
        json_array_append_new(list, migration_json(r, res, i));
        last = db_str(res, i, M_UUID);
        shown++;
    }
    json_t *body = json_pack("{s:o}", "migrations", list);
    if (paged && shown && shown == limit)
        json_object_set_new(body, "migrations_links", paging_link(r, "/os-migrations", last));
    PQclear(res);
    return api_reply(r, 200, body);
}
