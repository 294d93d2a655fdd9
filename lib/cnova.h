/* cnova.h — the map of cnova. Read this first.
 *
 * cnova serves the OpenStack Compute API v2.1 from a pre-forked FastCGI pool
 * (fcgi-api/), with PostgreSQL as the one source of truth (lib/db) and
 * RabbitMQ carrying work to the conductor, scheduler and compute workers
 * (lib/rpc, workers/). This header names the shared vocabulary: versions,
 * the request context, routes, the one error path, and the module headers. */
#ifndef CNOVA_H
#define CNOVA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

/* ---- microversions ------------------------------------------------------
 * A microversion X.Y is held as X*1000+Y so that ranges compare as ints.
 * 2.0 is the legacy /v2 API. */
#define MV(x, y) ((x) * 1000 + (y))
#define MV_MIN MV(2, 1)
#define MV_MAX MV(2, 104)
#define MV_LEGACY MV(2, 0)
#define MV_OPEN 0 /* "no upper bound" in a route's max_version */

/* Parses "2.53" (or "latest" -> MV_MAX). Returns 0 on a malformed string. */
int mv_parse(const char *s);

/* ---- module headers -------------------------------------------------------- */
#include "config.h"   /* ini file: config_get / config_int */
#include "log.h"      /* log_info / log_warn / log_error */
#include "db.h"       /* one PostgreSQL connection per process, prepared statements */
#include "validate.h" /* the one JSON-schema validator */
#include "rpc.h"      /* AMQP cast / call, outbox publishing */
#include "notify.h"   /* Nova's notifications, through the outbox */
#include "util.h"     /* uuid, timestamps, string buffers */
#include "jsonw.h"    /* compact JSON text of a response body */
#include "states.h"   /* the server state table: vm_state x task_state x action */
#include "claims.h"   /* giving back an instance's resources on its compute node */

#endif
