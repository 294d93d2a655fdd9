/* availability_zones.c — os-availability-zone: the zones computed from the
 * services table, as Nova does. A compute host is in the zones named by the
 * availability_zone metadata of its aggregates (joined with ","), or in
 * [DEFAULT] default_availability_zone; every other service is in
 * [DEFAULT] internal_service_availability_zone. A zone with an enabled
 * service is available; one with only disabled services is not. */
#include <string.h>

#include "resources/availability_zones.h"

/* Every live service with its zone (and its topic), ordered by zone (byte
 * order, as Python sorts), host and id; or by id alone (os-hosts). */
#define ZONE_SERVICES_SQL                                                                          \
    "SELECT " AZ_OF_SERVICE("s", "$1", "$2") ", s.host, s.\"binary\", s.disabled,"                  \
    " to_char(s.updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US'),"                    \
    " (NOT s.forced_down AND s.last_seen_up > now() - make_interval(secs => $3::int)), s.topic"    \
    " FROM services s WHERE s.deleted = 0"

enum db_status az_services(PGresult **res, bool by_id) {
    char down[32];
    snprintf(down, sizeof down, "%ld", config_int("service", "service_down_time", 60));
    const char *params[] = {config_get("DEFAULT", "default_availability_zone", "nova"),
                            config_get("DEFAULT", "internal_service_availability_zone", "internal"),
                            down};
    return db_query(res,
                    by_id ? ZONE_SERVICES_SQL " ORDER BY s.id"
                          : ZONE_SERVICES_SQL
                    " ORDER BY (" AZ_OF_SERVICE("s", "$1", "$2") ") COLLATE \"C\","
                    " s.host COLLATE \"C\", s.id",
                    3, params);
}

/* The rows [first, end) of the zone that starts at row `first`; *available
 * says whether one of its services is enabled. */
static int zone_end(PGresult *res, int first, bool *available) {
    int end = first;
    *available = false;
    while (end < PQntuples(res) &&
           !strcmp(db_str(res, end, COL_ZONE), db_str(res, first, COL_ZONE))) {
        if (!db_bool(res, end, COL_DISABLED)) *available = true;
        end++;
    }
    return end;
}

/* hosts -> binary -> {available, active, updated_at} for the enabled
 * services of one zone; API services are not listed, as in Nova. */
static json_t *zone_hosts(PGresult *res, int first, int end) {
    json_t *hosts = json_object();
    for (int i = first; i < end; i++) {
        const char *binary = db_str(res, i, COL_BINARY);
        if (db_bool(res, i, COL_DISABLED) || !strcmp(binary, "nova-osapi_compute") ||
            !strcmp(binary, "nova-metadata"))
            continue;
        const char *host = db_str(res, i, COL_HOST);
        json_t *h = json_object_get(hosts, host);
        if (!h) json_object_set_new(hosts, host, h = json_object());
        json_object_set_new(
            h, binary,
            json_pack("{s:b,s:b,s:s?}", "available", db_bool(res, i, COL_UP), "active", 1,
                      "updated_at",
                      db_isnull(res, i, COL_UPDATED) ? NULL : db_str(res, i, COL_UPDATED)));
    }
    return hosts;
}

/* Available zones first, then the others, each in name order. The summary
 * hides the internal zone and never lists hosts. */
static int describe(struct req *r, bool detail) {
    PGresult *res;
    enum db_status st = az_services(&res, false);
    if (st) return api_db_error(r, st);
    const char *internal = config_get("DEFAULT", "internal_service_availability_zone", "internal");
    json_t *list = json_array();
    for (int pass = 0; pass < 2; pass++) {
        bool want = pass == 0, available;
        for (int i = 0, end; i < PQntuples(res); i = end) {
            end = zone_end(res, i, &available);
            const char *zone = db_str(res, i, COL_ZONE);
            if (available != want || (!detail && !strcmp(zone, internal))) continue;
            json_t *hosts = detail && available ? zone_hosts(res, i, end) : json_null();
            json_array_append_new(list,
                                  json_pack("{s:s,s:{s:b},s:o}", "zoneName", zone, "zoneState",
                                            "available", available, "hosts", hosts));
        }
    }
    PQclear(res);
    return api_reply(r, 200, json_pack("{s:o}", "availabilityZoneInfo", list));
}

int availability_zones_index(struct req *r) {
    return describe(r, false);
}

int availability_zones_detail(struct req *r) {
    return describe(r, true);
}
