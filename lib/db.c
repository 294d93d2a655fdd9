/* db.c — the process's one PostgreSQL connection.
 *
 * Statements are prepared lazily: the first db_query of a SQL text prepares
 * it under a generated name and remembers it in a small open-addressing
 * table; later calls only execute. A lost connection clears the table,
 * reports DB_UNAVAILABLE for the call in flight, and the next call
 * reconnects (PQreset), so a database restart costs one 503, not a restart. */
#include "db.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "config.h"
#include "log.h"

#define NSTMT 1024

static PGconn *conn;
static char errbuf[512];
static struct {
    char *sql;
    char name[16];
} stmts[NSTMT];
static int nprepared;
static int in_txn;
static unsigned long outages; /* calls that found the database unavailable */
static unsigned long connects; /* connections made (the first, then reconnects) */

/* Counts an outage seen by a caller (db_outages). */
static enum db_status seen(enum db_status st) {
    if (st == DB_UNAVAILABLE) outages++;
    return st;
}

unsigned long db_outages(void) {
    return outages;
}

unsigned long db_reconnects(void) {
    return connects > 1 ? connects - 1 : 0;
}

static uint64_t hash(const char *s) {
    uint64_t h = 1469598103934665603ULL;
    while (*s) h = (h ^ (unsigned char)*s++) * 1099511628211ULL;
    return h;
}

static void forget_statements(void) {
    for (int i = 0; i < NSTMT; i++) {
        free(stmts[i].sql);
        stmts[i].sql = NULL;
    }
    nprepared = 0;
}

static void seterr(const char *msg) {
    snprintf(errbuf, sizeof errbuf, "%s", msg ? msg : "");
    size_t n = strlen(errbuf);
    while (n && errbuf[n - 1] == '\n') errbuf[--n] = 0;
}

const char *db_errmsg(void) {
    return errbuf;
}

enum db_status db_open(void) {
    if (conn && PQstatus(conn) == CONNECTION_OK) return DB_OK;
    const char *ci =
        config_get("database", "connection", "host=127.0.0.1 port=15432 user=cnova dbname=cnova");
    forget_statements();
    in_txn = 0;
    if (conn) {
        PQreset(conn);
    } else {
        conn = PQconnectdb(ci);
    }
    if (PQstatus(conn) != CONNECTION_OK) {
        seterr(PQerrorMessage(conn));
        return DB_UNAVAILABLE;
    }
    connects++;
    PGresult *r = PQexec(conn, "SET TIME ZONE 'UTC'");
    PQclear(r);
    /* [database] synchronous_commit: only PostgreSQL's own words pass */
    static const char *const modes[] = {"on", "off", "local", "remote_write", "remote_apply"};
    const char *sc = config_get("database", "synchronous_commit", NULL);
    for (size_t i = 0; sc && i < sizeof modes / sizeof *modes; i++)
        if (!strcmp(sc, modes[i])) {
            char sql[64];
            snprintf(sql, sizeof sql, "SET synchronous_commit TO %s", modes[i]);
            PQclear(PQexec(conn, sql));
        }
    return DB_OK;
}

void db_close(void) {
    if (conn) PQfinish(conn);
    conn = NULL;
    forget_statements();
}

enum db_status db_ensure(void) {
    return db_open();
}

bool db_lost(void) {
    return !conn || PQstatus(conn) != CONNECTION_OK;
}

static enum db_status classify(PGresult *r) {
    if (PQstatus(conn) != CONNECTION_OK) {
        seterr(PQerrorMessage(conn));
        forget_statements();
        return DB_UNAVAILABLE;
    }
    ExecStatusType st = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
    if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) return DB_OK;
    const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
    seterr(r ? PQresultErrorMessage(r) : PQerrorMessage(conn));
    if (!state) return DB_ERROR;
    if (!strcmp(state, "23505")) return DB_CONFLICT;
    if (!strcmp(state, "40001") || !strcmp(state, "40P01")) return DB_RETRY;
    if (!strncmp(state, "08", 2) || !strncmp(state, "57P", 3)) return DB_UNAVAILABLE;
    if (!strncmp(state, "22", 2)) return DB_INVALID;
    return DB_ERROR;
}

/* Finds or prepares the statement for `sql`; returns its name, or NULL
 * with *st = DB_OK when it is to run unprepared, or NULL and the error. */
static const char *prepared(const char *sql, int n, enum db_status *st) {
    uint64_t h = hash(sql);
    for (unsigned i = 0; i < NSTMT; i++) {
        unsigned slot = (unsigned)((h + i) % NSTMT);
        if (stmts[slot].sql && !strcmp(stmts[slot].sql, sql)) return stmts[slot].name;
        if (!stmts[slot].sql) {
            snprintf(stmts[slot].name, sizeof stmts[slot].name, "s%d", nprepared++);
            PGresult *r = PQprepare(conn, stmts[slot].name, sql, n, NULL);
            *st = classify(r);
            PQclear(r);
            if (*st != DB_OK) return NULL;
            stmts[slot].sql = strdup(sql);
            return stmts[slot].name;
        }
    }
    /* The table is full (statement texts built from whitelisted parts,
     * e.g. ORDER BY variants, can be many): run this one unprepared. */
    *st = DB_OK;
    return NULL;
}

/* A statement that only reads: safe to send again when the first attempt
 * found the connection dead (the server never ran it, or ran it to no
 * effect). */
static bool only_reads(const char *sql) {
    while (*sql == ' ' || *sql == '\n') sql++;
    return !strncasecmp(sql, "SELECT", 6);
}

static enum db_status run(PGresult **out, const char *sql, int n, const char *const *params) {
    enum db_status st = DB_OK;
    if (!conn || PQstatus(conn) != CONNECTION_OK) {
        /* Inside a transaction a reconnect would silently drop its earlier
         * statements: fail the call instead. */
        if (in_txn) {
            seterr("connection lost inside a transaction");
            return DB_UNAVAILABLE;
        }
        if ((st = db_open()) != DB_OK) return st;
    }
    const char *name = prepared(sql, n, &st);
    if (!name && st != DB_OK) return st;
    PGresult *r = name ? PQexecPrepared(conn, name, n, params, NULL, NULL, 0)
                       : PQexecParams(conn, sql, n, NULL, params, NULL, NULL, 0);
    st = classify(r);
    if (st == DB_OK && out)
        *out = r;
    else
        PQclear(r);
    return st;
}

enum db_status db_query(PGresult **out, const char *sql, int n, const char *const *params) {
    if (out) *out = NULL;
    /* A connection the server closed while we were idle (a restart) shows
     * only when used: a read outside a transaction then goes once more to
     * a fresh connection; anything else fails with DB_UNAVAILABLE and the
     * next call reconnects. (No probe before every statement: that would
     * cost a system call on every request.) */
    bool reused = conn && PQstatus(conn) == CONNECTION_OK;
    enum db_status st = run(out, sql, n, params);
    if (st == DB_UNAVAILABLE && reused && !in_txn && only_reads(sql)) st = run(out, sql, n, params);
    if (st == DB_UNAVAILABLE) log_warn("database unavailable: %s", errbuf);
    return seen(st);
}

int db_sql_param(struct db_sql *q, const char *value) {
    if (q->n >= DB_SQL_MAX_PARAMS) {
        q->overflow = 1;
        return q->n;
    }
    q->params[q->n] = value;
    return ++q->n;
}

void db_sql_add(struct db_sql *q, const char *frag, const char *value) {
    size_t len = strlen(q->text);
    int num = strstr(frag, "$?") ? db_sql_param(q, value) : 0;
    for (const char *p = frag; *p && len + 8 < sizeof q->text;) {
        if (p[0] == '$' && p[1] == '?') {
            len += (size_t)snprintf(q->text + len, sizeof q->text - len, "$%d", num);
            p += 2;
        } else
            q->text[len++] = *p++;
    }
    q->text[len] = 0;
    if (len + 8 >= sizeof q->text) q->overflow = 1;
}

enum db_status db_query_sql(PGresult **out, const struct db_sql *q) {
    if (q->overflow) {
        if (out) *out = NULL;
        seterr("statement too long");
        return DB_ERROR;
    }
    return db_query(out, q->text, q->n, q->params);
}

enum db_status db_exec(const char *sql, int n, const char *const *params) {
    return db_query(NULL, sql, n, params);
}

enum db_status db_script(const char *sql) {
    enum db_status st = db_ensure();
    if (st != DB_OK) return st;
    PGresult *r = PQexec(conn, sql);
    st = classify(r);
    PQclear(r);
    return st;
}

enum db_status db_begin(void) {
    enum db_status st = db_ensure();
    if (st != DB_OK) return seen(st);
    PGresult *r = PQexec(conn, "BEGIN");
    st = classify(r);
    PQclear(r);
    if (st == DB_OK) in_txn = 1;
    return seen(st);
}

enum db_status db_commit(void) {
    PGresult *r = PQexec(conn, "COMMIT");
    enum db_status st = classify(r);
    PQclear(r);
    in_txn = 0;
    return seen(st);
}

void db_rollback(void) {
    in_txn = 0;
    if (!conn || PQstatus(conn) != CONNECTION_OK) return;
    PGresult *r = PQexec(conn, "ROLLBACK");
    PQclear(r);
}

enum db_status db_txn(enum db_status (*fn)(void *arg), void *arg) {
    enum db_status st = DB_RETRY;
    for (int attempt = 0; attempt < 5 && st == DB_RETRY; attempt++) {
        if (attempt) usleep(1000 << attempt);
        if ((st = db_begin()) != DB_OK) return st;
        st = fn(arg);
        if (st != DB_OK) {
            db_rollback();
            continue;
        }
        st = db_commit();
    }
    return st;
}

/* PostgreSQL's type oids (pg_type.dat), for db_row_json */
enum {
    OID_BOOL = 16,
    OID_INT8 = 20,
    OID_INT2 = 21,
    OID_INT4 = 23,
    OID_JSON = 114,
    OID_FLOAT4 = 700,
    OID_FLOAT8 = 701,
    OID_NUMERIC = 1700,
    OID_JSONB = 3802
};

json_t *db_row_json(PGresult *r, int row) {
    json_t *o = json_object();
    for (int c = 0; c < PQnfields(r); c++) {
        const char *v = PQgetvalue(r, row, c);
        json_t *j;
        if (PQgetisnull(r, row, c)) {
            j = json_null();
        } else {
            switch (PQftype(r, c)) {
            case OID_BOOL: j = json_boolean(v[0] == 't'); break;
            case OID_INT2:
            case OID_INT4:
            case OID_INT8: j = json_integer(strtoll(v, NULL, 10)); break;
            case OID_FLOAT4:
            case OID_FLOAT8:
            case OID_NUMERIC: j = json_real(strtod(v, NULL)); break;
            case OID_JSON:
            case OID_JSONB:
                j = json_loadb(v, (size_t)PQgetlength(r, row, c), JSON_DECODE_ANY, NULL);
                break;
            default: j = json_stringn(v, (size_t)PQgetlength(r, row, c));
            }
        }
        json_object_set_new(o, PQfname(r, c), j ? j : json_null());
    }
    return o;
}

const char *db_str(PGresult *r, int row, int col) {
    return PQgetisnull(r, row, col) ? NULL : PQgetvalue(r, row, col);
}

long long db_int(PGresult *r, int row, int col) {
    return PQgetisnull(r, row, col) ? 0 : strtoll(PQgetvalue(r, row, col), NULL, 10);
}

int db_bool(PGresult *r, int row, int col) {
    return !PQgetisnull(r, row, col) && PQgetvalue(r, row, col)[0] == 't';
}

int db_isnull(PGresult *r, int row, int col) {
    return PQgetisnull(r, row, col);
}
