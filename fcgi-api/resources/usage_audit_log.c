/* usage_audit_log.c — os-instance_usage_audit_log: how far the compute
 * hosts got with the instance usage audit of the last completed audit
 * period ([DEFAULT] instance_usage_audit_period: hour, day, month (the
 * default) or year), before now or before the date in the path. Read from
 * task_log; every compute service (disabled ones too) is expected to
 * report. With [DEFAULT] instance_usage_audit off (the default, as in
 * Nova) no host runs the audit, and every host shows as not run. */
#define _XOPEN_SOURCE 700
#include <ctype.h>
#include <string.h>
#include <time.h>

#include "api.h"

/* Nova's accepted forms: "%Y-%m-%d %H:%M:%S" or "%Y-%m-%d %H:%M:%S.%f". */
static bool valid_date(const char *s) {
    struct tm tm = {0};
    const char *end = strptime(s, "%Y-%m-%d %H:%M:%S", &tm);
    if (!end) return false;
    if (!strchr(s, '.')) return !*end;
    if (*end++ != '.') return false;
    size_t n = 0;
    while (isdigit((unsigned char)end[n])) n++;
    return n >= 1 && n <= 6 && !end[n];
}

/* The last audit period completed before `before` (NULL: now): it ends at
 * the start of the unit that holds `before` (one unit earlier when
 * `before` is exactly that start). */
static enum db_status audit_period(const char *before, char begin[32], char end[32]) {
    const char *unit = config_get("DEFAULT", "instance_usage_audit_period", "month");
    if (strcmp(unit, "hour") && strcmp(unit, "day") && strcmp(unit, "month") &&
        strcmp(unit, "year"))
        unit = "month";
    const char *params[] = {before, unit};
    PGresult *res;
    enum db_status st = db_query(
        &res,
        "WITH t AS (SELECT COALESCE($1::timestamp, now() AT TIME ZONE 'UTC') AS t),"
        " e AS (SELECT CASE WHEN date_trunc($2, t) >= t"
        "   THEN date_trunc($2, t) - ('1 ' || $2)::interval ELSE date_trunc($2, t) END AS e FROM t)"
        " SELECT to_char(e - ('1 ' || $2)::interval, 'YYYY-MM-DD HH24:MI:SS'),"
        "  to_char(e, 'YYYY-MM-DD HH24:MI:SS') FROM e",
        2, params);
    if (st) return st;
    snprintf(begin, 32, "%s", db_str(res, 0, 0));
    snprintf(end, 32, "%s", db_str(res, 0, 1));
    PQclear(res);
    return DB_OK;
}

static int audit_log(struct req *r, const char *before, const char *key) {
    char begin[32], end[32];
    enum db_status st = audit_period(before, begin, end);
    if (st) return api_db_error(r, st);
    /* one row per compute host, with its task_log row of the period */
    const char *params[] = {begin, end};
    PGresult *res;
    st = db_query(&res,
                  "SELECT h.host, t.state, t.task_items, t.errors, t.message"
                  " FROM (SELECT DISTINCT host FROM services WHERE topic = 'compute'"
                  "  AND deleted = 0) h"
                  " LEFT JOIN task_log t ON t.host = h.host"
                  "  AND t.task_name = 'instance_usage_audit' AND t.deleted = 0"
                  "  AND t.period_beginning = $1::timestamp AND t.period_ending = $2::timestamp"
                  " ORDER BY h.host",
                  2, params);
    if (st) return api_db_error(r, st);
    int hosts = PQntuples(res), done = 0, running = 0, not_run = 0;
    long long items = 0, errors = 0;
    json_t *log = json_object(), *missing = json_array();
    for (int i = 0; i < hosts; i++) {
        const char *host = db_str(res, i, 0);
        if (PQgetisnull(res, i, 1)) {
            not_run++;
            json_array_append_new(missing, json_string(host));
            continue;
        }
        const char *state = db_str(res, i, 1);
        done += !strcmp(state, "DONE");
        running += !strcmp(state, "RUNNING");
        items += db_int(res, i, 2);
        errors += db_int(res, i, 3);
        json_object_set_new(log, host,
                            json_pack("{s:s,s:I,s:I,s:s}", "state", state, "instances",
                                      db_int(res, i, 2), "errors", db_int(res, i, 3), "message",
                                      db_str(res, i, 4)));
    }
    PQclear(res);
    char overall[128], of[64];
    snprintf(of, sizeof of, "%d of %d", done, hosts);
    snprintf(overall, sizeof overall, "%s hosts done. %lld errors.", done == hosts ? "ALL" : of,
             errors);
    json_t *body = json_pack(
        "{s:s,s:s,s:i,s:i,s:i,s:i,s:o,s:I,s:I,s:s,s:o}", "period_beginning", begin,
        "period_ending", end, "num_hosts", hosts, "num_hosts_done", done, "num_hosts_running",
        running, "num_hosts_not_run", not_run, "hosts_not_run", missing, "total_instances", items,
        "total_errors", errors, "overall_status", overall, "log", log);
    return api_reply(r, 200, json_pack("{s:o}", key, body));
}

int usage_audit_log_index(struct req *r) {
    return audit_log(r, NULL, "instance_usage_audit_logs");
}

int usage_audit_log_show(struct req *r) {
    const char *id = req_param(r, "id");
    if (!valid_date(id)) return api_error(r, 400, "Invalid timestamp for date %s", id);
    return audit_log(r, id, "instance_usage_audit_log");
}
