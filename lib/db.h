/* db.h — one PostgreSQL connection per process (libpq).
 *
 * Every statement is parameterised and prepared once per connection: the SQL
 * text is the statement's identity (a string literal at the call site), so
 * callers write plain SQL and db_query prepares it on first use. When the
 * connection drops (database restart), the call in flight returns
 * DB_UNAVAILABLE (the API answers 503) and the next call reconnects. */
#ifndef CNOVA_DB_H
#define CNOVA_DB_H

#include <stdbool.h>

#include <jansson.h>
#include <libpq-fe.h>

enum db_status {
    DB_OK = 0,
    DB_UNAVAILABLE, /* no connection: 503 */
    DB_CONFLICT,    /* unique violation (SQLSTATE 23505): usually 409 */
    DB_RETRY,       /* serialization failure / deadlock: retry the transaction */
    DB_INVALID,     /* the data was refused (SQLSTATE class 22: bad regex, cast...): 400 */
    DB_ERROR        /* anything else: 500 */
};

/* Connects with [database] connection (a libpq conninfo string). Returns
 * DB_OK or DB_UNAVAILABLE; a failed connect is retried by the next call. */
enum db_status db_open(void);
void db_close(void);
/* Makes sure a usable connection exists (reconnecting if needed). */
enum db_status db_ensure(void);
/* True when the connection is gone (the server closed it): an error a
 * caller collapsed into DB_ERROR (e.g. outbox_add's -1) was the outage. */
bool db_lost(void);

/* Runs `sql` ($1..$n parameters, NULL = SQL NULL) as a prepared statement.
 * On DB_OK *out (if out) receives the result, which the caller PQclear()s;
 * on failure *out is NULL and db_errmsg() says why. */
enum db_status db_query(PGresult **out, const char *sql, int n, const char *const *params);
/* A statement put together from constant fragments of the caller's code
 * (never request text) and their parameters: only the conditions that
 * apply are written, so the plan PostgreSQL caches for the statement text
 * is as good as one made for the values (no "$1 IS NULL OR ..." that only a
 * re-plan for each call can fold away). */
#define DB_SQL_MAX_PARAMS 32
struct db_sql {
    char text[8192];
    const char *params[DB_SQL_MAX_PARAMS];
    int n;
    int overflow; /* text or parameters did not fit: db_query_sql fails */
};
/* Appends frag; each "$?" in it becomes the placeholder of one new
 * parameter bound to value (NULL = SQL NULL). */
void db_sql_add(struct db_sql *q, const char *frag, const char *value);
/* A new parameter bound to value, for a "$N" the caller wrote itself
 * (fragments shared with other statements); returns N. */
int db_sql_param(struct db_sql *q, const char *value);
/* db_query of the statement built so far. */
enum db_status db_query_sql(PGresult **out, const struct db_sql *q);
/* Same, for statements whose result is not needed. */
enum db_status db_exec(const char *sql, int n, const char *const *params);
/* Runs a script of ;-separated statements without parameters (migrations). */
enum db_status db_script(const char *sql);
const char *db_errmsg(void);
/* How many calls so far found the database unavailable (a growing count):
 * rpc_serve hands a message back for redelivery when its handler met an
 * outage, instead of dropping the work until a timeout re-drives it. */
unsigned long db_outages(void);
/* Connections this process made after its first (metrics). */
unsigned long db_reconnects(void);

/* Transactions: BEGIN / COMMIT / ROLLBACK. db_commit returns DB_RETRY on a
 * serialization failure, in which case the transaction was rolled back. */
enum db_status db_begin(void);
enum db_status db_commit(void);
void db_rollback(void);

/* Runs fn(arg) inside a transaction and commits; retries the whole thing up
 * to 5 times on DB_RETRY. fn returns a db_status; anything but DB_OK rolls
 * back and is returned. */
enum db_status db_txn(enum db_status (*fn)(void *arg), void *arg);

/* Row `row` of a result as a new JSON object, each column under its name,
 * by the column's type: booleans, integers, reals, json/jsonb parsed,
 * SQL NULL as null, anything else as its text. */
json_t *db_row_json(PGresult *r, int row);

/* Helpers for result cells: NULL-safe string, integer and bool. */
const char *db_str(PGresult *r, int row, int col);
long long db_int(PGresult *r, int row, int col);
int db_bool(PGresult *r, int row, int col);
int db_isnull(PGresult *r, int row, int col);

#endif
