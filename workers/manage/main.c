/* cnova-manage — administration commands.
 *   cnova-manage --config FILE db sync      apply sql/NNN_*.sql not yet applied
 *   cnova-manage --config FILE db version   print the last applied migration
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
    int rc = 2;
    if (argc - i == 2 && !strcmp(argv[i], "db") && !strcmp(argv[i + 1], "sync"))
        rc = db_sync();
    else if (argc - i == 2 && !strcmp(argv[i], "db") && !strcmp(argv[i + 1], "version"))
        rc = db_version();
    else
        fprintf(stderr, "usage: cnova-manage [--config FILE] db sync|version\n");
    db_close();
    config_free();
    return rc;
}
