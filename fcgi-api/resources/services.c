/* services.c — os-services: the cnova processes that serve a topic, from
 * the services table (workers register and heartbeat their rows). A
 * service is "up" when its last heartbeat is younger than
 * [service] service_down_time and it is not forced down. Before 2.53
 * services are named by integer id (and updated by host + binary through
 * the action in the URL); from 2.53 by uuid. */
#include <string.h>

#include "resources/availability_zones.h"

#define SERVICE_COLUMNS                                                                            \
    "id, uuid, host, \"binary\", disabled, disabled_reason, forced_down,"                          \
    " to_char(COALESCE(updated_at, created_at) AT TIME ZONE 'UTC',"                                \
    "         'YYYY-MM-DD\"T\"HH24:MI:SS.US'),"                                                   \
    " (NOT forced_down AND last_seen_up > now() - make_interval(secs => $1::int)) AS up,"          \
    " " AZ_OF_SERVICE("services", "$2", "$3")

/* SERVICE_COLUMNS' parameters $1-$3: the down time and the zone names. */
#define SERVICE_PARAMS(down)                                                                       \
    down_time(down), config_get("DEFAULT", "default_availability_zone", "nova"),                   \
        config_get("DEFAULT", "internal_service_availability_zone", "internal")

static const char *down_time(char buf[32]) {
    snprintf(buf, 32, "%ld", config_int("service", "service_down_time", 60));
    return buf;
}

static json_t *service_json(const struct req *r, PGresult *res, int i) {
    const char *binary = db_str(res, i, 3);
    json_t *s = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s?,s:s}", "binary", binary, "host",
                          db_str(res, i, 2), "state", db_bool(res, i, 8) ? "up" : "down", "status",
                          db_bool(res, i, 4) ? "disabled" : "enabled", "zone",
                          db_str(res, i, 9), "disabled_reason",
                          db_str(res, i, 5), "updated_at", db_str(res, i, 7));
    if (req_ver_ge(r, MV(2, 53)))
        json_object_set_new(s, "id", json_string(db_str(res, i, 1)));
    else
        json_object_set_new(s, "id", json_integer(db_int(res, i, 0)));
    if (req_ver_ge(r, MV(2, 11)))
        json_object_set_new(s, "forced_down", json_boolean(db_bool(res, i, 6)));
    return s;
}

int services_index(struct req *r) {
    char down[32];
    const char *fixed[] = {SERVICE_PARAMS(down)}; /* $1 .. $3 of SERVICE_COLUMNS */
    struct db_sql q = {.text = ""};
    for (size_t i = 0; i < sizeof fixed / sizeof *fixed; i++) db_sql_param(&q, fixed[i]);
    db_sql_add(&q, "SELECT " SERVICE_COLUMNS " FROM services WHERE deleted = 0", NULL);
    if (req_query(r, "host")) db_sql_add(&q, " AND host = $?", req_query(r, "host"));
    if (req_query(r, "binary")) db_sql_add(&q, " AND \"binary\" = $?", req_query(r, "binary"));
    db_sql_add(&q, " ORDER BY id", NULL);
    PGresult *res;
    enum db_status st = db_query_sql(&res, &q);
    if (st) return api_db_error(r, st);
    json_t *list = json_array();
    for (int i = 0; i < PQntuples(res); i++) json_array_append_new(list, service_json(r, res, i));
    PQclear(res);
    return api_reply(r, 200, json_pack("{s:o}", "services", list));
}

/* The live service a path id names: an integer id before 2.53, a uuid
 * from 2.53. Writes its row id into row_id; 0, 400 or 404. */
static int find_service(struct req *r, const char *id, char row_id[24], char binary[64]) {
    bool by_uuid = req_ver_ge(r, MV(2, 53));
    if (by_uuid && !uuid_valid(id)) return api_error(r, 400, "Invalid uuid %s", id);
    long long n;
    if (!by_uuid && !str_to_int(id, &n))
        return api_error(r, 400, "Invalid input received: id must be an integer");
    char num[24]; /* the parsed id: one past 64 bits is not found, not refused */
    snprintf(num, sizeof num, "%lld", by_uuid ? 0 : n);
    const char *params[] = {by_uuid ? id : NULL, by_uuid ? NULL : num};
    PGresult *res;
    enum db_status st = db_query(&res,
                                 "SELECT id, \"binary\" FROM services WHERE deleted = 0 AND"
                                 " ($1::uuid IS NULL OR uuid = $1::uuid) AND"
                                 " ($2::bigint IS NULL OR id = $2::bigint)",
                                 2, params);
    if (st) return api_db_error(r, st);
    int found = PQntuples(res) == 1;
    if (found) {
        snprintf(row_id, 24, "%s", db_str(res, 0, 0));
        snprintf(binary, 64, "%s", db_str(res, 0, 1));
    }
    PQclear(res);
    return found ? 0 : api_error(r, 404, "Service %s could not be found.", id);
}

/* Sets disabled / disabled_reason / forced_down (NULL = unchanged) on one
 * row and answers the requested view of it. */
static int set_service(struct req *r, const char *row_id, const char *disabled,
                       const char *reason, bool set_reason, const char *forced) {
    char down[32];
    const char *params[] = {SERVICE_PARAMS(down), row_id, disabled, set_reason ? "t" : "f",
                            reason, forced};
    PGresult *res;
    enum db_status st = db_begin();
    if (st) return api_db_error(r, st);
    st = db_query(
        &res,
        "UPDATE services SET disabled = COALESCE($5::boolean, disabled),"
        " disabled_reason = CASE WHEN $6::boolean THEN $7 ELSE disabled_reason END,"
        " forced_down = COALESCE($8::boolean, forced_down), updated_at = now()"
        " WHERE id = $4::int AND deleted = 0 RETURNING " SERVICE_COLUMNS,
        8, params);
    /* service.update in the same transaction (notify.h) */
    if (!st && ((PQntuples(res) && notify_service(row_id) < 0) || (st = db_commit()) != DB_OK)) {
        PQclear(res);
        if (!st) st = DB_ERROR;
    }
    if (st) {
        db_rollback();
        return api_db_error(r, st);
    }
    outbox_flush();
    json_t *full = service_json(r, res, 0);
    PQclear(res);
    if (req_ver_ge(r, MV(2, 53))) return api_reply(r, 200, json_pack("{s:o}", "service", full));
    /* before 2.53 the answer echoes only what the action is about */
    json_t *s = json_pack("{s:O,s:O}", "host", json_object_get(full, "host"), "binary",
                          json_object_get(full, "binary"));
    if (forced)
        json_object_set(s, "forced_down", json_object_get(full, "forced_down"));
    else {
        json_object_set(s, "status", json_object_get(full, "status"));
        if (reason) json_object_set(s, "disabled_reason", json_object_get(full, "disabled_reason"));
    }
    json_decref(full);
    return api_reply(r, 200, json_pack("{s:o}", "service", s));
}

static const char *bool_text(const json_t *v) {
    bool b = json_is_true(v);
    if (json_is_string(v)) str_to_bool(json_string_value(v), &b);
    return b ? "t" : "f";
}

/* PUT /os-services/{enable|disable|disable-log-reason|force-down}, body
 * {host, binary, ...}: the API before 2.53. */
static int update_by_action(struct req *r, const char *action) {
    const char *host = json_string_value(json_object_get(r->body, "host"));
    const char *binary = json_string_value(json_object_get(r->body, "binary"));
    const char *reason = json_string_value(json_object_get(r->body, "disabled_reason"));
    const char *disabled = NULL, *forced = NULL;
    bool set_reason = false;
    if (!strcmp(action, "enable"))
        disabled = "f", set_reason = true, reason = NULL;
    else if (!strcmp(action, "disable"))
        disabled = "t";
    else if (!strcmp(action, "disable-log-reason")) {
        if (!reason) return api_error(r, 400, "Missing disabled reason field");
        disabled = "t", set_reason = true;
    } else if (!strcmp(action, "force-down") && req_ver_ge(r, MV(2, 11))) {
        json_t *f = json_object_get(r->body, "forced_down");
        if (!f) return api_error(r, 400, "Missing forced_down field");
        forced = bool_text(f);
    } else
        return api_error(r, 404, "Unknown action");
    if (!host || !binary) return api_error(r, 400, "Invalid input: host and binary are required.");
    const char *params[] = {host, binary};
    PGresult *res;
    enum db_status st = db_query(&res,
                                 "SELECT id FROM services WHERE deleted = 0 AND host = $1"
                                 " AND \"binary\" = $2",
                                 2, params);
    if (st) return api_db_error(r, st);
    char row_id[24] = "";
    if (PQntuples(res)) snprintf(row_id, sizeof row_id, "%s", db_str(res, 0, 0));
    PQclear(res);
    if (!row_id[0])
        return api_error(r, 404, "Could not find binary %s on host %s.", binary, host);
    return set_service(r, row_id, disabled, reason, set_reason, forced);
}

int services_update(struct req *r) {
    const char *id = req_param(r, "id");
    if (!req_ver_ge(r, MV(2, 53))) return update_by_action(r, id);
    json_t *status = json_object_get(r->body, "status");
    json_t *reason = json_object_get(r->body, "disabled_reason");
    json_t *forced = json_object_get(r->body, "forced_down");
    if (!status && !forced)
        return api_error(r, 400, "At least one of 'status' or 'forced_down' must be specified "
                                 "in the request body.");
    bool disable = status && !strcmp(json_string_value(status), "disabled");
    if (reason && !disable)
        return api_error(r, 400, "Specifying 'disabled_reason' with status 'enabled' is invalid.");
    char row_id[24], binary[64];
    int err = find_service(r, id, row_id, binary);
    if (err) return err;
    if (strcmp(binary, "nova-compute"))
        return api_error(r, 400,
                         "Updating a %s service is not supported. Only nova-compute services can "
                         "be updated.",
                         binary);
    return set_service(r, row_id, status ? (disable ? "t" : "f") : NULL,
                       json_string_value(reason), status != NULL, forced ? bool_text(forced) : NULL);
}

int services_delete(struct req *r) {
    char row_id[24], binary[64];
    int err = find_service(r, req_param(r, "id"), row_id, binary);
    if (err) return err;
    const char *params[] = {row_id};
    PGresult *res;
    enum db_status st = db_query(
        &res,
        "UPDATE services s SET deleted = s.id, deleted_at = now() WHERE s.id = $1::int"
        " AND s.deleted = 0 AND NOT (s.\"binary\" = 'nova-compute' AND EXISTS ("
        "   SELECT 1 FROM instances i WHERE i.host = s.host AND i.deleted = 0))"
        " RETURNING s.id",
        1, params);
    if (st) return api_db_error(r, st);
    int deleted = PQntuples(res);
    PQclear(res);
    if (!deleted)
        return api_error(r, 409, "Unable to delete compute service that is hosting instances. "
                                 "Migrate or delete the instances first.");
    return api_reply(r, 204, NULL);
}
