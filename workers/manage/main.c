/* cnova-manage — administration commands, as operators use nova-manage.
 *   cnova-manage --config FILE db sync      apply sql/NNN_*.sql not yet applied
 *   cnova-manage --config FILE db version   print the last applied migration
 *   ... db archive_deleted_rows [--max_rows N] [--before DATE] [--verbose] [--until-complete]
 *                                           move soft-deleted rows to shadow_*
 *   ... service list                        services, enabled/disabled, up/down
 *   ... service delete ID                   refused while a compute hosts instances
 *   ... cell_v2 list_hosts                  the compute hosts (one cell: cell1)
 * Each migration runs in its own transaction together with its row in
 * schema_migrations; an advisory lock keeps two syncs from racing. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cnova.h"

static int by_name(const struct dirent **a, const struct dirent **b) {
    return strcmp((*a)->d_name, (*b)->d_name);
}

static int is_migration(const struct dirent *d) {
    size_t n = strlen(d->d_name);
    return n > 8 && d->d_name[0] >= '0' && d->d_name[0] <= '9' && !strcmp(d->d_name + n - 4, ".sql");
}

static char *slurp(const char *path) {
    FILE *f = fopen(path, "r");
    if (!f) return NULL;
    struct sbuf b = {0};
    char chunk[8192];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) sbuf_add(&b, chunk, n);
    fclose(f);
    return b.s ? b.s : strdup("");
}

static int fail(const char *what) {
    fprintf(stderr, "cnova-manage: %s: %s\n", what, db_errmsg());
    return 1;
}

static int db_sync(void) {
    const char *dir = config_get("database", "migrations", "sql");
    if (db_open() != DB_OK) return fail("cannot connect to the database");
    if (db_script("CREATE TABLE IF NOT EXISTS schema_migrations ("
                  " name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now());"
                  "SELECT pg_advisory_lock(7357)"))
        return fail("schema_migrations");
    struct dirent **list;
    int n = scandir(dir, &list, is_migration, by_name);
    if (n < 0) {
        fprintf(stderr, "cnova-manage: cannot read %s: %s\n", dir, strerror(errno));
        return 1;
    }
    int rc = 0, applied = 0;
    for (int i = 0; i < n; i++) {
        const char *name = list[i]->d_name;
        const char *p[] = {name};
        PGresult *r;
        if (rc || db_query(&r, "SELECT 1 FROM schema_migrations WHERE name = $1", 1, p)) {
            rc = rc ? rc : fail("schema_migrations");
            free(list[i]);
            continue;
        }
        int done = PQntuples(r) > 0;
        PQclear(r);
        if (!done) {
            char path[4096];
            snprintf(path, sizeof path, "%s/%s", dir, name);
            char *sql = slurp(path);
            if (!sql || db_begin() || db_script(sql) ||
                db_exec("INSERT INTO schema_migrations (name) VALUES ($1)", 1, p) || db_commit()) {
                db_rollback();
                fprintf(stderr, "cnova-manage: migration %s failed: %s\n", name, db_errmsg());
                rc = 1;
            } else {
                printf("applied %s\n", name);
                applied++;
            }
            free(sql);
        }
        free(list[i]);
    }
    free(list);
    if (!rc) printf("database is up to date (%d migration%s applied)\n", applied, applied == 1 ? "" : "s");
    return rc;
}

static int db_version(void) {
    PGresult *r;
    if (db_open() != DB_OK ||
        db_query(&r, "SELECT max(name) FROM schema_migrations", 0, NULL) != DB_OK)
        return fail("schema_migrations");
    printf("%s\n", db_isnull(r, 0, 0) ? "none" : db_str(r, 0, 0));
    PQclear(r);
    return 0;
}

/* A table like nova-manage prints (prettytable): rule, header, rule, rows, rule. */
static void table_rule(const int *w, int nc) {
    for (int c = 0; c < nc; c++) {
        putchar('+');
        for (int k = 0; k < w[c] + 2; k++) putchar('-');
    }
    printf("+\n");
}

static void table_print(PGresult *r, const char *const *heads) {
    int nc = PQnfields(r), nr = PQntuples(r), w[16] = {0};
    if (nc > 16) nc = 16;
    for (int c = 0; c < nc; c++) {
        w[c] = (int)strlen(heads[c]);
        for (int i = 0; i < nr; i++)
            if ((int)strlen(db_str(r, i, c)) > w[c]) w[c] = (int)strlen(db_str(r, i, c));
    }
    table_rule(w, nc);
    for (int line = -1; line < nr; line++) {
        for (int c = 0; c < nc; c++) printf("| %-*s ", w[c], line < 0 ? heads[c] : db_str(r, line, c));
        printf("|\n");
        if (line < 0) table_rule(w, nc);
    }
    table_rule(w, nc);
}

static int service_list(void) {
    static const char *const heads[] = {"Id", "Binary", "Host", "Status", "State", "Forced Down", "Updated At"};
    char secs[32];
    snprintf(secs, sizeof secs, "%ld", config_int("service", "service_down_time", 60));
    const char *p[] = {secs};
    PGresult *r;
    if (db_open() != DB_OK ||
        db_query(&r,
                 "SELECT id::text, \"binary\", host,"
                 " CASE WHEN disabled THEN 'disabled' ELSE 'enabled' END,"
                 " CASE WHEN NOT forced_down AND last_seen_up > now() - make_interval(secs => $1::int)"
                 "  THEN 'up' ELSE 'down' END,"
                 " CASE WHEN forced_down THEN 'True' ELSE 'False' END,"
                 " coalesce(to_char(coalesce(updated_at, created_at) AT TIME ZONE 'UTC',"
                 "  'YYYY-MM-DD\"T\"HH24:MI:SS'), '')"
                 " FROM services WHERE deleted = 0 ORDER BY id",
                 1, p) != DB_OK)
        return fail("services");
    table_print(r, heads);
    PQclear(r);
    return 0;
}

/* Soft-deletes a service as DELETE /os-services/{id} does, with its compute
 * nodes; a compute service that still hosts instances is refused. */
static int service_delete(const char *id) {
    char *end;
    long n = strtol(id, &end, 10);
    if (*id == '\0' || *end || n <= 0 || n > 2147483647) {
        fprintf(stderr, "cnova-manage: service id must be an integer: %s\n", id);
        return 1;
    }
    const char *p[] = {id};
    PGresult *r;
    if (db_open() != DB_OK || db_begin() ||
        db_query(&r,
                 "SELECT s.host, s.\"binary\", (SELECT count(*) FROM instances i"
                 "  WHERE i.host = s.host AND i.deleted = 0 AND s.\"binary\" = 'nova-compute')"
                 " FROM services s WHERE s.id = $1::int AND s.deleted = 0 FOR UPDATE",
                 1, p) != DB_OK) {
        db_rollback();
        return fail("services");
    }
    if (PQntuples(r) == 0) {
        PQclear(r);
        db_rollback();
        fprintf(stderr, "Service id %s not found.\n", id);
        return 1;
    }
    long long hosted = db_int(r, 0, 2);
    char host[256];
    snprintf(host, sizeof host, "%s", db_str(r, 0, 0));
    int compute = !strcmp(db_str(r, 0, 1), "nova-compute");
    PQclear(r);
    if (hosted > 0) {
        db_rollback();
        fprintf(stderr, "Unable to delete compute service %s on host %s: it is hosting %lld instance%s. "
                        "Migrate or delete the instances first.\n",
                id, host, hosted, hosted == 1 ? "" : "s");
        return 1;
    }
    const char *hp[] = {host};
    if (db_exec("UPDATE services SET deleted = id, deleted_at = now() WHERE id = $1::int", 1, p) ||
        (compute && db_exec("UPDATE compute_nodes SET deleted = id, deleted_at = now()"
                            " WHERE host = $1 AND deleted = 0", 1, hp)) ||
        db_commit()) {
        db_rollback();
        return fail("services");
    }
    printf("Deleted service %s (%s on %s).\n", id, compute ? "nova-compute" : "service", host);
    return 0;
}

static int list_hosts(void) {
    static const char *const heads[] = {"Cell Name", "Cell UUID", "Hostname"};
    PGresult *r;
    if (db_open() != DB_OK ||
        db_query(&r,
                 "SELECT 'cell1', '-', host FROM (SELECT host FROM services"
                 "  WHERE deleted = 0 AND \"binary\" = 'nova-compute'"
                 " UNION SELECT host FROM compute_nodes WHERE deleted = 0) h ORDER BY host",
                 0, NULL) != DB_OK)
        return fail("services");
    table_print(r, heads);
    PQclear(r);
    return 0;
}

/* The archive: soft-deleted rows move to shadow_<table> in one transaction
 * per round. Deleted instances go with every row that belongs to them
 * (their children first: the live tables' ON DELETE CASCADE would otherwise
 * drop them unarchived); the other tables' own deleted rows follow. Table
 * names are this fixed list; column lists come from the catalog. */
struct archive_step {
    const char *table, *where;
};
/* --before DATE (a transaction-local setting, empty = no limit): only rows
 * deleted before it; tables without deleted_at are left alone then. */
#define NO_BEFORE "coalesce(current_setting('cnova.archive_before', true), '') = ''"
#define BEFORE_OK                                                                                  \
    "(" NO_BEFORE " OR deleted_at < current_setting('cnova.archive_before', true)::timestamptz)"
static const struct archive_step ARCHIVE[] = {
    {"instance_actions_events",
     "action_id IN (SELECT id FROM instance_actions WHERE instance_uuid IN (SELECT uuid FROM archive_batch))"},
    {"instance_actions", "instance_uuid IN (SELECT uuid FROM archive_batch)"},
    {"instance_faults", "instance_uuid IN (SELECT uuid FROM archive_batch)"},
    {"instance_metadata", "instance_uuid IN (SELECT uuid FROM archive_batch)"},
    {"tags", "resource_id IN (SELECT uuid FROM archive_batch)"},
    {"block_device_mapping", "instance_uuid IN (SELECT uuid FROM archive_batch) OR (deleted <> 0 AND " NO_BEFORE ")"},
    {"instances", "uuid IN (SELECT uuid FROM archive_batch)"},
    {"migrations", "deleted <> 0 AND " BEFORE_OK},
    {"key_pairs", "deleted <> 0 AND " BEFORE_OK},
    {"server_group_members", "deleted <> 0 AND " BEFORE_OK},
    {"services", "deleted <> 0 AND " BEFORE_OK},
    {"compute_nodes", "deleted <> 0 AND " BEFORE_OK},
    {"task_log", "deleted <> 0 AND " NO_BEFORE},
};
#define N_ARCHIVE (sizeof ARCHIVE / sizeof ARCHIVE[0])

/* Adds to shadow_<table> the columns a later migration gave <table>. */
static int shadow_columns(const char *table) {
    const char *p[] = {table};
    PGresult *r;
    if (db_query(&r,
                 "SELECT format('ALTER TABLE %I ADD COLUMN %I %s', 'shadow_' || $1, a.attname,"
                 "  format_type(a.atttypid, a.atttypmod))"
                 " FROM pg_attribute a WHERE a.attrelid = $1::regclass AND a.attnum > 0"
                 " AND NOT a.attisdropped AND NOT EXISTS (SELECT 1 FROM pg_attribute b"
                 "  WHERE b.attrelid = ('shadow_' || $1)::regclass AND b.attname = a.attname"
                 "  AND NOT b.attisdropped) ORDER BY a.attnum",
                 1, p) != DB_OK)
        return -1;
    int rc = 0;
    for (int i = 0; i < PQntuples(r) && !rc; i++) rc = db_script(db_str(r, i, 0)) != DB_OK;
    PQclear(r);
    return rc;
}

/* Moves the rows of one step; returns how many, -1 on error. */
static long long archive_step(const struct archive_step *st, const char *max_rows) {
    const char *p[] = {st->table};
    PGresult *r;
    if (shadow_columns(st->table) ||
        db_query(&r,
                 "SELECT string_agg(quote_ident(attname), ', ' ORDER BY attnum) FROM pg_attribute"
                 " WHERE attrelid = $1::regclass AND attnum > 0 AND NOT attisdropped",
                 1, p) != DB_OK)
        return -1;
    char cols[4096], sql[8192];
    snprintf(cols, sizeof cols, "%s", db_str(r, 0, 0));
    PQclear(r);
    int batch = !strstr(st->where, "archive_batch") || strstr(st->where, " OR ");
    int len = snprintf(sql, sizeof sql,
                       "WITH moved AS (DELETE FROM %s WHERE ctid IN (SELECT ctid FROM %s WHERE %s%s)"
                       " RETURNING %s), ins AS (INSERT INTO shadow_%s (%s) SELECT %s FROM moved"
                       " RETURNING 1) SELECT count(*) FROM ins",
                       st->table, st->table, st->where, batch ? " LIMIT $1::int" : "", cols, st->table,
                       cols, cols);
    if (len < 0 || (size_t)len >= sizeof sql) return -1;
    const char *mp[] = {max_rows};
    if (db_query(&r, sql, batch ? 1 : 0, batch ? mp : NULL) != DB_OK) return -1;
    long long n = db_int(r, 0, 0);
    PQclear(r);
    return n;
}

static int archive_deleted_rows(long max_rows, const char *before, int verbose, int until_complete) {
    char max[32];
    snprintf(max, sizeof max, "%ld", max_rows);
    const char *p[] = {max};
    long long total[N_ARCHIVE] = {0}, all = 0;
    if (db_open() != DB_OK) return fail("cannot connect to the database");
    const char *bp[] = {before ? before : ""};
    if (before) {
        PGresult *r;
        if (db_query(&r, "SELECT $1::timestamptz", 1, bp) != DB_OK) {
            fprintf(stderr, "Invalid input received: --before %s is not a date\n", before);
            return 3;
        }
        PQclear(r);
    }
    for (;;) {
        long long round = 0;
        if (db_begin() ||
            db_script("CREATE TEMP TABLE IF NOT EXISTS archive_batch (uuid uuid PRIMARY KEY) ON COMMIT DELETE ROWS") ||
            db_exec("SELECT set_config('cnova.archive_before', $1, true)", 1, bp) ||
            db_exec("INSERT INTO archive_batch SELECT uuid FROM instances WHERE deleted <> 0 AND " BEFORE_OK
                    " ORDER BY id LIMIT $1::int",
                    1, p)) {
            db_rollback();
            return fail("archive");
        }
        for (size_t i = 0; i < N_ARCHIVE; i++) {
            long long n = archive_step(&ARCHIVE[i], max);
            if (n < 0) {
                fprintf(stderr, "cnova-manage: archiving %s failed: %s\n", ARCHIVE[i].table, db_errmsg());
                db_rollback();
                return 255;
            }
            total[i] += n;
            round += n;
        }
        if (db_commit()) {
            db_rollback();
            return fail("archive");
        }
        all += round;
        if (until_complete && verbose && round) printf("Archiving.....%lld rows\n", all);
        if (!until_complete || round == 0) break;
    }
    if (verbose) {
        if (all == 0) {
            printf("Nothing was archived.\n");
        } else {
            int w = (int)strlen("Table");
            for (size_t i = 0; i < N_ARCHIVE; i++)
                if (total[i] && (int)strlen(ARCHIVE[i].table) + 7 > w) w = (int)strlen(ARCHIVE[i].table) + 7;
            const char *dash = "--------------------------------------------------";
            printf("+%.*s+%.*s+\n| %-*s | Number of Rows Archived |\n+%.*s+%.*s+\n", w + 2, dash, 25, dash, w,
                   "Table", w + 2, dash, 25, dash);
            for (size_t i = 0; i < N_ARCHIVE; i++)
                if (total[i]) printf("| shadow_%-*s | %-23lld |\n", w - 7, ARCHIVE[i].table, total[i]);
            printf("+%.*s+%.*s+\n", w + 2, dash, 25, dash);
        }
    }
    /* nova-manage's exit codes: 1 when rows were archived, 0 when nothing was */
    return all ? 1 : 0;
}

static const char USAGE[] =
    "usage: cnova-manage [--config FILE] COMMAND\n"
    "  db sync | db version\n"
    "  db archive_deleted_rows [--max_rows N] [--before DATE] [--verbose] [--until-complete]\n"
    "  service list | service delete ID\n"
    "  cell_v2 list_hosts\n";

int main(int argc, char **argv) {
    const char *conf = "etc/cnova.conf";
    int i = 1;
    if (argc > 2 && !strcmp(argv[1], "--config")) {
        conf = argv[2];
        i = 3;
    }
    if (config_load(conf)) {
        fprintf(stderr, "cnova-manage: cannot read %s: %s\n", conf, strerror(errno));
        return 1;
    }
    log_init("cnova-manage", LOG_WARNING);
    int rc = 2, n = argc - i;
    const char *a = n > 0 ? argv[i] : "", *b = n > 1 ? argv[i + 1] : "";
    if (n == 2 && !strcmp(a, "db") && !strcmp(b, "sync"))
        rc = db_sync();
    else if (n == 2 && !strcmp(a, "db") && !strcmp(b, "version"))
        rc = db_version();
    else if (n >= 2 && !strcmp(a, "db") && !strcmp(b, "archive_deleted_rows")) {
        long max_rows = 1000;
        const char *before = NULL;
        int verbose = 0, until = 0, bad = 0;
        for (int k = i + 2; k < argc && !bad; k++) {
            const char *o = argv[k], *v = NULL;
            if (!strncmp(o, "--max_rows=", 11) || !strncmp(o, "--max-rows=", 11))
                v = o + 11;
            else if ((!strcmp(o, "--max_rows") || !strcmp(o, "--max-rows")) && k + 1 < argc)
                v = argv[++k];
            else if (!strncmp(o, "--before=", 9))
                before = o + 9;
            else if (!strcmp(o, "--before") && k + 1 < argc)
                before = argv[++k];
            else if (!strcmp(o, "--verbose"))
                verbose = 1;
            else if (!strcmp(o, "--until-complete") || !strcmp(o, "--until_complete"))
                until = 1;
            else
                bad = 1;
            if (v) {
                char *end;
                max_rows = strtol(v, &end, 10);
                if (!*v || *end || max_rows < 1 || max_rows > 2147483647) {
                    fprintf(stderr, "Invalid input received: max_rows must be >= 1\n");
                    bad = 3;
                }
            }
        }
        if (bad == 1) fputs(USAGE, stderr);
        rc = bad ? (bad == 3 ? 3 : 2) : archive_deleted_rows(max_rows, before, verbose, until);
    } else if (n == 2 && !strcmp(a, "service") && !strcmp(b, "list"))
        rc = service_list();
    else if (n == 3 && !strcmp(a, "service") && !strcmp(b, "delete"))
        rc = service_delete(argv[i + 2]);
    else if (n == 2 && !strcmp(a, "cell_v2") && !strcmp(b, "list_hosts"))
        rc = list_hosts();
    else
        fputs(USAGE, stderr);
    db_close();
    config_free();
    return rc;
}
