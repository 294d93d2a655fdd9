/* instance_actions.c — /servers/{server_id}/os-instance-actions[/{id}]:
 * the actions recorded for a server (instance_actions) and their events,
 * newest first, with Nova's microversion rules: deleted servers from 2.21,
 * events for non-admins (no traceback) from 2.51, paging and changes-since
 * with updated_at from 2.58, changes-before from 2.66, host and hostId from
 * 2.62, event details (admin) from 2.84. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"

/* Nova prints these times as naive UTC with microseconds. */
#define ISO(col) "to_char(" col " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US')"
/* A query time: with an offset as given, without one as UTC (parse_isotime). */
#define QTIME(p)                                                                                   \
    "(CASE WHEN " p "::text IS NULL THEN NULL"                                                     \
    " WHEN " p "::text ~ '([zZ]|[+-][0-9]{2}:?[0-9]{2})$' THEN " p "::text::timestamptz"           \
    " ELSE " p "::text::timestamp AT TIME ZONE 'UTC' END)"

/* The server, deleted ones included from 2.21; its project into project. */
static int find_server(struct req *r, const char *uuid, char project[256]) {
    if (!uuid_valid(uuid)) return api_error(r, 404, "Instance %s could not be found.", uuid);
    const char *params[] = {uuid, req_ver_ge(r, MV(2, 21)) ? "t" : "f",
                            r->ctx.is_admin ? NULL : r->ctx.project_id};
    PGresult *res;
    enum db_status st = db_query(&res,
                                 "SELECT project_id FROM instances WHERE uuid = $1::uuid"
                                 " AND ($2::bool OR deleted = 0)"
                                 " AND ($3::text IS NULL OR project_id = $3)",
                                 3, params);
    if (st) return api_db_error(r, st);
    if (!PQntuples(res)) {
        PQclear(res);
        return api_error(r, 404, "Instance %s could not be found.", uuid);
    }
    snprintf(project, 256, "%s", db_str(res, 0, 0));
    PQclear(res);
    return 0;
}

enum { A_ID, A_ACTION, A_UUID, A_REQUEST, A_USER, A_PROJECT, A_START, A_MESSAGE, A_UPDATED };
#define ACTION_COLS                                                                                \
    "a.id, a.action, a.instance_uuid, a.request_id, a.user_id, a.project_id, " ISO(                \
        "a.start_time") ", a.message, " ISO("COALESCE(a.updated_at, a.start_time)")

static json_t *nullable(PGresult *res, int row, int col) {
    return db_isnull(res, row, col) ? json_null() : json_string(db_str(res, row, col));
}

static json_t *action_view(const struct req *r, PGresult *res, int i) {
    json_t *a =
        json_pack("{s:s,s:s,s:s,s:o,s:o,s:s,s:o}", "action", db_str(res, i, A_ACTION),
                  "instance_uuid", db_str(res, i, A_UUID), "request_id", db_str(res, i, A_REQUEST),
                  "user_id", nullable(res, i, A_USER), "project_id", nullable(res, i, A_PROJECT),
                  "start_time", db_str(res, i, A_START), "message", nullable(res, i, A_MESSAGE));
    if (req_ver_ge(r, MV(2, 58)))
        json_object_set_new(a, "updated_at", json_string(db_str(res, i, A_UPDATED)));
    return a;
}

int instance_actions_index(struct req *r) {
    const char *uuid = req_param(r, "server_id");
    char project[256];
    int err = find_server(r, uuid, project);
    if (err) return err;
    bool paged = req_ver_ge(r, MV(2, 58));
    const char *since = paged ? req_query(r, "changes-since") : NULL;
    const char *before = paged ? req_query(r, "changes-before") : NULL;
    const char *marker = paged ? req_query(r, "marker") : NULL;
    const char *asked = paged ? req_query(r, "limit") : NULL;
    PGresult *res;
    enum db_status st;
    if (since && before) {
        const char *p[] = {since, before};
        st = db_query(&res, "SELECT " QTIME("$2") " < " QTIME("$1"), 2, p);
        if (st) return api_db_error(r, st);
        bool bad = db_bool(res, 0, 0);
        PQclear(res);
        if (bad)
            return api_error(r, 400,
                             "The value of changes-since must be less than or equal to "
                             "changes-before.");
    }
    char marker_id[24] = "";
    if (marker) {
        const char *p[] = {uuid, marker};
        st = db_query(&res,
                      "SELECT id FROM instance_actions WHERE instance_uuid = $1::uuid"
                      " AND request_id = $2 ORDER BY start_time DESC, id DESC LIMIT 1",
                      2, p);
        if (st) return api_db_error(r, st);
        if (PQntuples(res)) snprintf(marker_id, sizeof marker_id, "%s", db_str(res, 0, 0));
        PQclear(res);
        /* Nova's message names the marker it failed to load: None */
        if (!marker_id[0]) return api_error(r, 400, "Marker None could not be found.");
    }
    /* before 2.58 every action (no limit); limit=0 is an empty page */
    long n = asked && strtol(asked, NULL, 10) == 0 ? 0 : paging_limit(r);
    char limit[24];
    snprintf(limit, sizeof limit, "%ld", n);
    const char *params[] = {uuid, since, before, marker_id[0] ? marker_id : NULL,
                            paged ? limit : NULL};
    st = db_query(
        &res,
        "SELECT " ACTION_COLS " FROM instance_actions a WHERE a.instance_uuid = $1::uuid"
        " AND ($2::text IS NULL OR COALESCE(a.updated_at, a.start_time) >= " QTIME(
            "$2") ")"
                  " AND ($3::text IS NULL OR COALESCE(a.updated_at, a.start_time) <= " QTIME(
                      "$3") ")"
                            " AND ($4::bigint IS NULL OR (a.start_time, a.id) <"
                            "   (SELECT m.start_time, m.id FROM instance_actions m WHERE m.id = "
                            "$4::bigint))"
                            " ORDER BY a.start_time DESC, a.id DESC LIMIT $5::int",
        5, params);
    if (st) return api_db_error(r, st);
    json_t *list = json_array();
    int rows = PQntuples(res);
    for (int i = 0; i < rows; i++)
        json_array_append_new(list, action_view(r, res, i));
    json_t *body = json_pack("{s:o}", "instanceActions", list);
    if (rows && asked && rows == n) {
        char path[128];
        snprintf(path, sizeof path, "/servers/%s/os-instance-actions", uuid);
        json_object_set_new(body, "links", paging_link(r, path, db_str(res, rows - 1, A_REQUEST)));
    }
    PQclear(res);
    return api_reply(r, 200, body);
}

/* The action's events, as much of them as the caller may see. */
static int add_events(struct req *r, json_t *action, const char *action_id, const char *project) {
    bool admin = r->ctx.is_admin; /* os-instance-actions:events (and :details) are admin-only */
    if (!admin && !req_ver_ge(r, MV(2, 51))) return 0;
    bool v262 = req_ver_ge(r, MV(2, 62)), details = admin && req_ver_ge(r, MV(2, 84));
    const char *params[] = {action_id, project};
    PGresult *res;
    enum db_status st = db_query(
        &res,
        "SELECT e.event, " ISO("e.start_time") ", " ISO(
            "e.finish_time") ", e.result,"
                             " e.traceback, e.host, e.details,"
                             " CASE WHEN COALESCE(e.host, '') = '' THEN '' ELSE"
                             "   encode(sha224(convert_to($2 || e.host, 'UTF8')), 'hex') END"
                             " FROM instance_actions_events e WHERE e.action_id = $1::bigint"
                             " ORDER BY e.start_time DESC, e.id DESC",
        2, params);
    if (st) return api_db_error(r, st);
    json_t *events = json_array();
    for (int i = 0; i < PQntuples(res); i++) {
        json_t *e = json_pack("{s:s,s:s,s:o,s:o}", "event", db_str(res, i, 0), "start_time",
                              db_str(res, i, 1), "finish_time", nullable(res, i, 2), "result",
                              nullable(res, i, 3));
        if (admin) json_object_set_new(e, "traceback", nullable(res, i, 4));
        if (admin && v262) json_object_set_new(e, "host", nullable(res, i, 5));
        if (v262) json_object_set_new(e, "hostId", json_string(db_str(res, i, 7)));
        if (details) json_object_set_new(e, "details", nullable(res, i, 6));
        json_array_append_new(events, e);
    }
    PQclear(res);
    json_object_set_new(action, "events", events);
    return 0;
}

int instance_actions_show(struct req *r) {
    const char *uuid = req_param(r, "server_id"), *request_id = req_param(r, "id");
    char project[256];
    int err = find_server(r, uuid, project);
    if (err) return err;
    const char *params[] = {uuid, request_id};
    PGresult *res;
    enum db_status st = db_query(&res,
                                 "SELECT " ACTION_COLS " FROM instance_actions a"
                                 " WHERE a.instance_uuid = $1::uuid AND a.request_id = $2"
                                 " ORDER BY a.start_time DESC, a.id DESC LIMIT 1",
                                 2, params);
    if (st) return api_db_error(r, st);
    if (!PQntuples(res)) {
        PQclear(res);
        return api_error(r, 404, "Action %s not found", request_id);
    }
    json_t *action = action_view(r, res, 0);
    char action_id[24];
    snprintf(action_id, sizeof action_id, "%s", db_str(res, 0, A_ID));
    /* hostId hashes the action's project, or the server's when unset */
    if (!db_isnull(res, 0, A_PROJECT) && *db_str(res, 0, A_PROJECT))
        snprintf(project, sizeof project, "%s", db_str(res, 0, A_PROJECT));
    PQclear(res);
    if ((err = add_events(r, action, action_id, project))) {
        json_decref(action);
        return err;
    }
    return api_reply(r, 200, json_pack("{s:o}", "instanceAction", action));
}
