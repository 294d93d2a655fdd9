/* availability_zones.h — the zone of every service, shared by
 * os-availability-zone and os-hosts. */
#ifndef CNOVA_AVAILABILITY_ZONES_H
#define CNOVA_AVAILABILITY_ZONES_H

#include "api.h"

/* The columns of az_services' rows. */
enum { COL_ZONE, COL_HOST, COL_BINARY, COL_DISABLED, COL_UPDATED, COL_UP, COL_TOPIC };

/* Every live service with its zone: a compute host is in the zones its
 * aggregates name (joined with ","), or in default_availability_zone;
 * other services in internal_service_availability_zone. Ordered by zone,
 * host and id, or (by_id) by id alone. */
enum db_status az_services(PGresult **res, bool by_id);

#endif
