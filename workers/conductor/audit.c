/* audit.c — Nova's instance usage audit, behind [DEFAULT]
 * instance_usage_audit (off by default, as in Nova): once per compute
 * host and completed audit period ([DEFAULT] instance_usage_audit_period:
 * hour, day, month (the default) or year), instance.exists and the legacy
 * compute.instance.exists for every instance that was on the host during
 * the period (deleted ones included: not terminated before its beginning,
 * launched before its end), published as that host. The task_log row
 * that os-instance_usage_audit_log reads is claimed (unique per host,
 * task and period, so one conductor does each host) and completed in the
 * same transaction as the notifications. */
#include <stdio.h>
#include <string.h>

#include "cnova.h"
#include "conductor.h"

#define TASK "instance_usage_audit"

/* The last completed period, as "YYYY-MM-DD HH:MM:SS" (UTC). */
static int last_period(char begin[32], char end[32]) {
    const char *unit = config_get("DEFAULT", "instance_usage_audit_period", "month");
    if (strcmp(unit, "hour") && strcmp(unit, "day") && strcmp(unit, "month") &&
        strcmp(unit, "year"))
        unit = "month";
    const char *p[] = {unit};
    PGresult *r = NULL;
    if (db_query(&r,
                 "WITH t AS (SELECT now() AT TIME ZONE 'UTC' AS t), e AS (SELECT CASE WHEN "
                 "date_trunc($1, t) >= t THEN date_trunc($1, t) - ('1 ' || $1)::interval "
                 "ELSE date_trunc($1, t) END AS e FROM t) "
                 "SELECT to_char(e - ('1 ' || $1)::interval, 'YYYY-MM-DD HH24:MI:SS'), "
                 "to_char(e, 'YYYY-MM-DD HH24:MI:SS') FROM e",
                 1, p) != DB_OK)
        return -1;
    snprintf(begin, 32, "%s", db_str(r, 0, 0));
    snprintf(end, 32, "%s", db_str(r, 0, 1));
    PQclear(r);
    return 0;
}

/* One host's audit in one transaction; the number of instances, or -1
 * when another conductor has done (or is doing) it, or on error. */
static int audit_host(const char *host, const char *begin, const char *end) {
    if (db_begin() != DB_OK) return -1;
    const char *p[] = {host, begin, end};
    PGresult *r = NULL;
    if (db_query(&r,
                 "INSERT INTO task_log (task_name, state, host, period_beginning, period_ending,"
                 " message) VALUES ('" TASK "', 'RUNNING', $1, $2::timestamp, $3::timestamp,"
                 " 'Instance usage audit started...') ON CONFLICT DO NOTHING RETURNING id",
                 3, p) != DB_OK ||
        !PQntuples(r)) {
        PQclear(r);
        db_rollback();
        return -1;
    }
    char id[24];
    snprintf(id, sizeof id, "%s", db_str(r, 0, 0));
    PQclear(r);
    r = NULL;
    if (db_query(&r,
                 "SELECT uuid::text FROM instances WHERE host = $1 AND (terminated_at IS NULL OR"
                 " terminated_at >= $2::timestamp AT TIME ZONE 'UTC') AND (launched_at IS NULL OR"
                 " launched_at <= $3::timestamp AT TIME ZONE 'UTC') ORDER BY id",
                 3, p) != DB_OK) {
        db_rollback();
        return -1;
    }
    char pub[300], b_iso[40], e_iso[40];
    notify_publisher(pub, sizeof pub, "nova-compute", host);
    /* versioned: ISO 8601 as Nova's DateTimeField; legacy: str(datetime) */
    snprintf(b_iso, sizeof b_iso, "%.10sT%sZ", begin, begin + 11);
    snprintf(e_iso, sizeof e_iso, "%.10sT%sZ", end, end + 11);
    json_t *ap = notify_object(
        "AuditPeriodPayload", "1.0",
        json_pack("{s:s, s:s}", "audit_period_beginning", b_iso, "audit_period_ending", e_iso));
    int n = PQntuples(r), errors = 0;
    for (int i = 0; i < n; i++) {
        json_t *extra = json_pack("{s:O}", "audit_period", ap);
        if (notify_instance_with(db_str(r, i, 0), "instance.exists", "InstanceExistsPayload", NULL,
                                 "INFO", pub, NULL, extra) < 0)
            errors++;
        json_decref(extra);
        json_t *legacy = json_pack("{s:s, s:s, s:{}, s:{}}", "audit_period_beginning", begin,
                                   "audit_period_ending", end, "bandwidth", "image_meta");
        if (notify_legacy_enabled() &&
            notify_instance_with(db_str(r, i, 0), NULL, NULL, "compute.instance.exists", "INFO",
                                 pub, NULL, legacy) < 0)
            errors++;
        json_decref(legacy);
    }
    json_decref(ap);
    PQclear(r);
    char items[16], errs[16], msg[300];
    snprintf(items, sizeof items, "%d", n);
    snprintf(errs, sizeof errs, "%d", errors);
    snprintf(msg, sizeof msg, "Instance usage audit ran for host %s, %d instances.", host, n);
    const char *u[] = {id, items, errs, msg};
    if (db_exec("UPDATE task_log SET state = 'DONE', task_items = $2::int, errors = $3::int,"
                " message = $4, updated_at = now() WHERE id = $1::bigint",
                4, u) != DB_OK ||
        db_commit() != DB_OK) {
        db_rollback();
        return -1;
    }
    log_info("instance usage audit of %s for %s - %s: %d instances", host, begin, end, n);
    return n;
}

void conductor_usage_audit(void) {
    bool on = false;
    if (!str_to_bool(config_get("DEFAULT", "instance_usage_audit", "false"), &on) || !on) return;
    char begin[32], end[32];
    if (last_period(begin, end) < 0) return;
    const char *p[] = {begin, end};
    PGresult *r = NULL;
    /* the hosts whose audit of this period is not recorded yet */
    if (db_query(&r,
                 "SELECT s.host FROM services s WHERE s.\"binary\" = 'nova-compute' AND"
                 " s.deleted = 0 AND NOT EXISTS (SELECT 1 FROM task_log t WHERE t.host = s.host"
                 " AND t.task_name = '" TASK "' AND t.period_beginning = $1::timestamp AND"
                 " t.period_ending = $2::timestamp) ORDER BY s.host",
                 2, p) != DB_OK)
        return;
    for (int i = 0; i < PQntuples(r); i++)
        audit_host(db_str(r, i, 0), begin, end);
    PQclear(r);
}
