/* flavors.c — /flavors: list (brief and detail, with Nova's filters,
 * sorting and limit/marker paging), show, create, update (2.55) and
 * delete. Who sees a private flavor: admins, and the projects it is shared
 * with (flavor_projects). The view changes with the microversion:
 * description from 2.55, extra_specs from 2.61, swap 0 instead of "" from
 * 2.75, no rxtx_factor / OS-FLV-DISABLED:disabled from 2.102. */
#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "resources/flavors.h"

/* The columns every flavor view reads, in this order, from alias f. */
#define FLAVOR_BASE_COLS                                                                           \
    "f.flavorid, f.name, f.memory_mb, f.vcpus, f.root_gb, f.ephemeral_gb, f.swap,"                 \
    " f.rxtx_factor, f.disabled, f.is_public, f.description"
#define FLAVOR_SPECS                                                                               \
    "COALESCE((SELECT json_object_agg(s.key, s.value ORDER BY s.key)"                              \
    " FROM flavor_extra_specs s WHERE s.flavor_id = f.id), '{}')"
#define FLAVOR_COLS FLAVOR_BASE_COLS ", " FLAVOR_SPECS
enum {
    C_FLAVORID,
    C_NAME,
    C_RAM,
    C_VCPUS,
    C_DISK,
    C_EPHEMERAL,
    C_SWAP,
    C_RXTX,
    C_DISABLED,
    C_PUBLIC,
    C_DESCRIPTION,
    C_SPECS
};

/* A caller sees a flavor when admin ($2), when it is public, or when it is
 * shared with the caller's project ($3). */
#define FLAVOR_VISIBLE                                                                             \
    "($2::bool OR f.is_public OR EXISTS (SELECT 1 FROM flavor_projects p"                          \
    " WHERE p.flavor_id = f.id AND p.project_id = $3))"

/* Public, or shared with the project of the "$?" (a db_sql fragment). */
#define FLAVOR_SHARED                                                                              \
    "(f.is_public OR EXISTS (SELECT 1 FROM flavor_projects p"                                      \
    " WHERE p.flavor_id = f.id AND p.project_id = $?))"

/* sort_key (the schema's enum: flavor columns) -> column; flavorid else. */
static const char *const sort_columns[] = {
    "created_at", "description", "disabled",    "ephemeral_gb", "flavorid",
    "id",         "is_public",   "memory_mb",   "name",         "root_gb",
    "rxtx_factor", "swap",       "updated_at",  "vcpu_weight",  "vcpus",
};

static const char *sort_column(const char *key) {
    for (size_t i = 0; key && i < sizeof sort_columns / sizeof *sort_columns; i++)
        if (!strcmp(key, sort_columns[i])) return sort_columns[i];
    return "flavorid";
}

/* extra_specs appear from 2.61 to those the extra-specs index policy lets
 * read them (project reader or admin). */
static bool show_extra_specs(const struct req *r) {
    return req_ver_ge(r, MV(2, 61)) && (r->ctx.is_admin || r->ctx.is_reader);
}

/* One flavor as Nova's view builder draws it: brief (id, name, links) or
 * detail (every field of the microversion). */
static json_t *flavor_view(struct req *r, PGresult *res, int i, bool detail) {
    const char *fid = db_str(res, i, C_FLAVORID);
    char path[600];
    snprintf(path, sizeof path, "/flavors/%s", fid);
    json_t *f = json_pack("{s:s,s:s,s:o}", "id", fid, "name", db_str(res, i, C_NAME), "links",
                          resource_links(r, path));
    if (detail) {
        long long swap = db_int(res, i, C_SWAP);
        json_object_set_new(f, "ram", json_integer(db_int(res, i, C_RAM)));
        json_object_set_new(f, "disk", json_integer(db_int(res, i, C_DISK)));
        json_object_set_new(
            f, "swap", swap || req_ver_ge(r, MV(2, 75)) ? json_integer(swap) : json_string(""));
        json_object_set_new(f, "OS-FLV-EXT-DATA:ephemeral",
                            json_integer(db_int(res, i, C_EPHEMERAL)));
        json_object_set_new(f, "vcpus", json_integer(db_int(res, i, C_VCPUS)));
        json_object_set_new(f, "os-flavor-access:is_public",
                            json_boolean(db_bool(res, i, C_PUBLIC)));
        if (!req_ver_ge(r, MV(2, 102))) {
            json_object_set_new(f, "OS-FLV-DISABLED:disabled",
                                json_boolean(db_bool(res, i, C_DISABLED)));
            json_object_set_new(f, "rxtx_factor", json_real(strtod(db_str(res, i, C_RXTX), NULL)));
        }
    }
    if (req_ver_ge(r, MV(2, 55)))
        json_object_set_new(f, "description",
                            db_isnull(res, i, C_DESCRIPTION)
                                ? json_null()
                                : json_string(db_str(res, i, C_DESCRIPTION)));
    if (detail && show_extra_specs(r))
        json_object_set_new(f, "extra_specs", json_loads(db_str(res, i, C_SPECS), 0, NULL));
    return f;
}

static int reply_flavor(struct req *r, int status, PGresult *res) {
    json_t *f = flavor_view(r, res, 0, true);
    PQclear(res);
    return api_reply(r, status, json_pack("{s:o}", "flavor", f));
}

int flavors_find(struct req *r, const char *flavorid, char row_id[24], bool *is_public) {
    const char *params[] = {flavorid, r->ctx.is_admin ? "t" : "f", r->ctx.project_id};
    PGresult *res;
    enum db_status st = db_query(&res,
                                 "SELECT f.id, f.is_public FROM flavors f"
                                 " WHERE f.flavorid = $1 AND " FLAVOR_VISIBLE,
                                 3, params);
    if (st) return api_db_error(r, st);
    int found = PQntuples(res);
    if (found) {
        snprintf(row_id, 24, "%s", db_str(res, 0, 0));
        if (is_public) *is_public = db_bool(res, 0, 1);
    }
    PQclear(res);
    return found ? 0 : api_error(r, 404, "Flavor %s could not be found.", flavorid);
}

/* ---- list ---- */

/* A query filter given as a Python int, as text for SQL. */
static bool int_filter(const char *s, char out[24]) {
    long long v;
    if (!str_to_int(s, &v)) return false;
    snprintf(out, 24, "%lld", v);
    return true;
}

static int flavors_list(struct req *r, bool detail) {
    const char *is_public = "t", *disabled = NULL;
    char min_ram[24], min_disk[24], limit[24];
    const char *v;
    bool b;
    if (r->ctx.is_admin) {
        if ((v = req_query(r, "is_public"))) {
            if (!strcasecmp(v, "none"))
                is_public = NULL;
            else if (!str_to_bool(v, &b))
                return api_error(r, 400, "Invalid is_public filter [%s]", v);
            else
                is_public = b ? "t" : "f";
        }
    } else
        disabled = "f";
    if ((v = req_query(r, "minRam")) && !int_filter(v, min_ram))
        return api_error(r, 400, "Invalid minRam filter [%s]", v);
    if ((v = req_query(r, "minDisk")) && !int_filter(v, min_disk))
        return api_error(r, 400, "Invalid minDisk filter [%s]", v);
    /* unlike other lists, limit=0 asks for an empty page (Nova's paginate_query) */
    long max = config_int("api", "max_limit", 1000), n = max;
    if ((v = req_query(r, "limit")) && strtol(v, NULL, 10) < max) n = strtol(v, NULL, 10);
    snprintf(limit, sizeof limit, "%ld", n);
    const char *marker = req_query(r, "marker");
    const char *sort_key = req_query(r, "sort_key"), *sort_dir = req_query(r, "sort_dir");
    const char *admin = r->ctx.is_admin ? "t" : "f";

    PGresult *res;
    enum db_status st;
    if (marker) {
        const char *mp[] = {marker, admin, r->ctx.project_id};
        st = db_query(&res, "SELECT 1 FROM flavors f WHERE f.flavorid = $1 AND " FLAVOR_VISIBLE, 3,
                      mp);
        if (st) return api_db_error(r, st);
        int found = PQntuples(res);
        PQclear(res);
        if (!found) return api_error(r, 400, "marker [%s] not found", marker);
    }
    /* Only the conditions that apply; order and extra specs column from
     * the tables above. With a marker, the order is over every flavor the
     * caller sees, so a marker that the filters exclude still has its
     * place. */
    const char *col = sort_column(sort_key);
    const char *dir = sort_dir && !strcmp(sort_dir, "desc") ? "DESC" : "ASC";
    const char *specs = detail && show_extra_specs(r) ? FLAVOR_SPECS : "NULL";
    char frag[1024];
    struct db_sql q = {.text = ""};
    if (marker)
        snprintf(frag, sizeof frag,
                 "WITH f AS (SELECT f.*, row_number() OVER (ORDER BY f.%s %s, f.id %s) AS rn"
                 " FROM flavors f WHERE true",
                 col, dir, dir);
    else
        snprintf(frag, sizeof frag, "SELECT " FLAVOR_BASE_COLS ", %s FROM flavors f WHERE true",
                 specs);
    db_sql_add(&q, frag, NULL);
    if (!r->ctx.is_admin) db_sql_add(&q, " AND " FLAVOR_SHARED, r->ctx.project_id);
    if (marker) {
        snprintf(frag, sizeof frag, ") SELECT " FLAVOR_BASE_COLS ", %s FROM f WHERE", specs);
        db_sql_add(&q, frag, NULL);
        db_sql_add(&q, " f.rn > (SELECT m.rn FROM f m WHERE m.flavorid = $?)", marker);
    }
    /* is_public: true = public or shared with the caller; NULL = all */
    if (is_public && *is_public == 't')
        db_sql_add(&q, " AND " FLAVOR_SHARED, r->ctx.project_id);
    else if (is_public)
        db_sql_add(&q, " AND NOT f.is_public", NULL);
    if (disabled) db_sql_add(&q, " AND NOT f.disabled", NULL);
    if (req_query(r, "minRam")) db_sql_add(&q, " AND f.memory_mb >= $?::bigint", min_ram);
    if (req_query(r, "minDisk")) db_sql_add(&q, " AND f.root_gb >= $?::bigint", min_disk);
    if (req_query(r, "name")) db_sql_add(&q, " AND f.name ~ $?", req_query(r, "name"));
    if (marker)
        db_sql_add(&q, " ORDER BY f.rn", NULL);
    else {
        snprintf(frag, sizeof frag, " ORDER BY f.%s %s, f.id %s", col, dir, dir);
        db_sql_add(&q, frag, NULL);
    }
    db_sql_add(&q, " LIMIT $?::int", limit);
    st = db_query_sql(&res, &q);
    if (st) return api_db_error(r, st);
    json_t *list = json_array();
    int rows = PQntuples(res);
    for (int i = 0; i < rows; i++)
        json_array_append_new(list, flavor_view(r, res, i, detail));
    json_t *body = json_pack("{s:o}", "flavors", list);
    if (rows && rows == n)
        json_object_set_new(body, "flavors_links",
                            paging_link(r, detail ? "/flavors/detail" : "/flavors",
                                        db_str(res, rows - 1, C_FLAVORID)));
    PQclear(res);
    return api_reply(r, 200, body);
}

int flavors_index(struct req *r) {
    return flavors_list(r, false);
}

int flavors_detail(struct req *r) {
    return flavors_list(r, true);
}

int flavors_show(struct req *r) {
    const char *id = req_param(r, "id");
    const char *params[] = {id, r->ctx.is_admin ? "t" : "f", r->ctx.project_id};
    PGresult *res;
    enum db_status st = db_query(
        &res, "SELECT " FLAVOR_COLS " FROM flavors f WHERE f.flavorid = $1 AND " FLAVOR_VISIBLE, 3,
        params);
    if (st) return api_db_error(r, st);
    if (!PQntuples(res)) {
        PQclear(res);
        return api_error(r, 404, "Flavor %s could not be found.", id);
    }
    return reply_flavor(r, 200, res);
}

/* ---- create, update, delete ---- */

/* An integer field that the schema let through as a number or a string of
 * digits, as text for SQL. */
static void int_text(json_t *v, long long dflt, char out[24]) {
    if (json_is_string(v))
        snprintf(out, 24, "%lld", strtoll(json_string_value(v), NULL, 10));
    else
        snprintf(out, 24, "%lld", v ? (long long)json_number_value(v) : dflt);
}

void flavors_number_text(const json_t *v, char *out, size_t len) {
    if (json_is_integer(v)) {
        snprintf(out, len, "%lld", (long long)json_integer_value(v));
        return;
    }
    double d = json_real_value(v);
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(out, len, "%.*g", prec, d);
        if (strtod(out, NULL) == d) break;
    }
    if (!strpbrk(out, ".en")) strncat(out, ".0", len - strlen(out) - 1);
}

int flavors_create(struct req *r) {
    json_t *f = json_object_get(r->body, "flavor");
    json_t *jid = json_object_get(f, "id");
    char flavorid[300], ram[24], vcpus[24], disk[24], eph[24], swap[24], rxtx[64];
    if (json_is_string(jid))
        snprintf(flavorid, sizeof flavorid, "%s", json_string_value(jid));
    else if (json_is_number(jid) && json_number_value(jid) != 0)
        flavors_number_text(jid, flavorid, sizeof flavorid);
    else
        uuid_new(flavorid);
    /* Nova strips the name (only /v2 lets blanks reach this far) */
    const char *raw = json_string_value(json_object_get(f, "name"));
    while (isspace((unsigned char)*raw))
        raw++;
    char *name = strdup(raw);
    for (size_t n = strlen(name); n && isspace((unsigned char)name[n - 1]);)
        name[--n] = 0;
    int_text(json_object_get(f, "ram"), 0, ram);
    int_text(json_object_get(f, "vcpus"), 0, vcpus);
    int_text(json_object_get(f, "disk"), 0, disk);
    int_text(json_object_get(f, "OS-FLV-EXT-DATA:ephemeral"), 0, eph);
    int_text(json_object_get(f, "swap"), 0, swap);
    json_t *jr = json_object_get(f, "rxtx_factor");
    snprintf(rxtx, sizeof rxtx, "%.17g",
             json_is_string(jr) ? strtod(json_string_value(jr), NULL)
             : jr               ? json_number_value(jr)
                                : 1.0);
    json_t *jp = json_object_get(f, "os-flavor-access:is_public");
    const char *is_public = "t";
    bool pub;
    if (json_is_boolean(jp))
        is_public = json_is_true(jp) ? "t" : "f";
    else if (json_is_string(jp) && str_to_bool(json_string_value(jp), &pub))
        is_public = pub ? "t" : "f";
    json_t *jd = req_ver_ge(r, MV(2, 55)) ? json_object_get(f, "description") : NULL;

    const char *params[] = {flavorid, name, ram,  vcpus,     disk,
                            eph,      swap, rxtx, is_public, json_string_value(jd)};
    PGresult *res;
    if (db_begin() != DB_OK) {
        free(name);
        return api_db_error(r, DB_ERROR);
    }
    enum db_status st =
        db_query(&res,
                 "WITH f AS (INSERT INTO flavors (flavorid, name, memory_mb, vcpus, root_gb,"
                 " ephemeral_gb, swap, rxtx_factor, is_public, description)"
                 " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING *)"
                 " SELECT " FLAVOR_COLS " FROM f",
                 10, params);
    if (st == DB_OK && (notify_flavor(flavorid, "flavor.create") < 0 || db_commit() != DB_OK)) {
        PQclear(res);
        st = DB_ERROR;
    }
    if (st) db_rollback();
    if (st == DB_CONFLICT) {
        const char *p1[] = {flavorid};
        st = db_query(&res, "SELECT 1 FROM flavors WHERE flavorid = $1", 1, p1);
        int id_taken = st == DB_OK && PQntuples(res);
        if (st == DB_OK) PQclear(res);
        if (id_taken)
            st = api_error(r, 409, "Flavor with ID %s already exists.", flavorid);
        else
            st = api_error(r, 409, "Flavor with name %s already exists.", name);
        free(name);
        return st;
    }
    free(name);
    if (st) return api_db_error(r, st);
    outbox_flush(); /* flavor.create / flavor.update (notify.h) */
    return reply_flavor(r, 200, res);
}

int flavors_update(struct req *r) {
    const char *id = req_param(r, "id");
    json_t *d = json_object_get(json_object_get(r->body, "flavor"), "description");
    const char *params[] = {id, json_string_value(d)};
    PGresult *res;
    if (db_begin() != DB_OK) return api_db_error(r, DB_ERROR);
    enum db_status st = db_query(&res,
                                 "WITH f AS (UPDATE flavors SET description = $2,"
                                 " updated_at = now() WHERE flavorid = $1 RETURNING *)"
                                 " SELECT " FLAVOR_COLS " FROM f",
                                 2, params);
    if (st == DB_OK && !PQntuples(res)) {
        PQclear(res);
        db_rollback();
        return api_error(r, 404, "Flavor %s could not be found.", id);
    }
    if (st == DB_OK && (notify_flavor(id, "flavor.update") < 0 || db_commit() != DB_OK)) {
        PQclear(res);
        st = DB_ERROR;
    }
    if (st) {
        db_rollback();
        return api_db_error(r, st);
    }
    outbox_flush(); /* flavor.create / flavor.update (notify.h) */
    return reply_flavor(r, 200, res);
}

int flavors_delete(struct req *r) {
    const char *id = req_param(r, "id");
    const char *params[] = {id};
    PGresult *res;
    if (db_begin() != DB_OK) return api_db_error(r, DB_ERROR);
    /* the event carries the flavor as it was: read before the delete */
    int nf = notify_flavor(id, "flavor.delete");
    enum db_status st =
        db_query(&res, "DELETE FROM flavors WHERE flavorid = $1 RETURNING id", 1, params);
    if (st) {
        db_rollback();
        return api_db_error(r, st);
    }
    int n = PQntuples(res);
    PQclear(res);
    if (!n) {
        db_rollback();
        return api_error(r, 404, "Flavor %s could not be found.", id);
    }
    if ((nf < 0 && notify_versioned_enabled()) || db_commit() != DB_OK) {
        db_rollback();
        return api_db_error(r, DB_ERROR);
    }
    outbox_flush();
    return api_reply(r, 202, NULL);
}
