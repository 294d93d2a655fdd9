/* services.c — os-services: the cnova processes that serve a topic, from
 * the services table (workers register and heartbeat their rows). A
 * service is "up" when its last heartbeat is younger than
 * [service] service_down_time and it is not forced down. */
#include <string.h>

#include "api.h"

int services_index(struct req *r) {
    char down[32];
    snprintf(down, sizeof down, "%ld", config_int("service", "service_down_time", 60));
    const char *params[] = {req_query(r, "host"), req_query(r, "binary"), down};
    PGresult *res;
    enum db_status st = db_query(
        &res,
        "SELECT id, uuid, host, \"binary\", disabled, disabled_reason, forced_down,"
        " to_char(COALESCE(updated_at, created_at) AT TIME ZONE 'UTC',"
        "         'YYYY-MM-DD\"T\"HH24:MI:SS.US'),"
        " (NOT forced_down AND last_seen_up > now() - make_interval(secs => $3::int)) AS up"
        " FROM services WHERE deleted = 0 AND ($1::text IS NULL OR host = $1)"
        " AND ($2::text IS NULL OR \"binary\" = $2) ORDER BY id",
        3, params);
    if (st) return api_db_error(r, st);
    json_t *list = json_array();
    for (int i = 0; i < PQntuples(res); i++) {
        const char *binary = db_str(res, i, 3);
        json_t *s = json_pack(
            "{s:s,s:s,s:s,s:s,s:s,s:s?,s:s}", "binary", binary, "host", db_str(res, i, 2),
            "state", db_bool(res, i, 8) ? "up" : "down", "status",
            db_bool(res, i, 4) ? "disabled" : "enabled", "zone",
            strcmp(binary, "nova-compute") ? "internal" : "nova", "disabled_reason",
            db_str(res, i, 5), "updated_at", db_str(res, i, 7));
        if (req_ver_ge(r, MV(2, 53)))
            json_object_set_new(s, "id", json_string(db_str(res, i, 1)));
        else
            json_object_set_new(s, "id", json_integer(db_int(res, i, 0)));
        if (req_ver_ge(r, MV(2, 11)))
            json_object_set_new(s, "forced_down", json_boolean(db_bool(res, i, 6)));
        json_array_append_new(list, s);
    }
    PQclear(res);
    return api_reply(r, 200, json_pack("{s:o}", "services", list));
}
