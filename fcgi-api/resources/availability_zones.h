/* availability_zones.h — the zone of every service, shared by
 * os-availability-zone and os-hosts. */
#ifndef CNOVA_AVAILABILITY_ZONES_H
#define CNOVA_AVAILABILITY_ZONES_H

#include "api.h"

/* SQL: the zone of the services row `s` (a table name or alias), with the
 * default and internal zone names in the parameters `dflt` and `internal`
 * ("$4", ...): the availability_zone metadata of its aggregates (joined
 * with ",") or the default for a compute service, the internal zone for
 * any other. */
#define AZ_OF_SERVICE(s, dflt, internal)                                                           \
    "CASE WHEN " s ".topic = 'compute' THEN"                                                       \
    " COALESCE((SELECT string_agg(DISTINCT m.value, ',' ORDER BY m.value)"                         \
    "  FROM aggregate_hosts h JOIN aggregates a ON a.id = h.aggregate_id AND a.deleted = 0"         \
    "  JOIN aggregate_metadata m ON m.aggregate_id = a.id AND m.key = 'availability_zone'"          \
    "  WHERE h.host = " s ".host), " dflt "::text) ELSE " internal "::text END"

/* The columns of az_services' rows. */
enum { COL_ZONE, COL_HOST, COL_BINARY, COL_DISABLED, COL_UPDATED, COL_UP, COL_TOPIC };

/* Every live service with its zone: a compute host is in the zones its
 * aggregates name (joined with ","), or in default_availability_zone;
 * other services in internal_service_availability_zone. Ordered by zone,
 * host and id, or (by_id) by id alone. */
enum db_status az_services(PGresult **res, bool by_id);

#endif
