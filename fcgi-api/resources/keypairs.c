/* keypairs.c — os-keypairs: a user's SSH (or, from 2.2, x509) key pairs,
 * named uniquely per user. Create generates a key (until 2.91) or imports a
 * public key; from 2.10 an admin may act for another user (?user_id= or the
 * body's user_id); the list pages by name with limit/marker from 2.35.
 * Deleting a key pair keeps its row with deleted = id. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "crypto.h"

#define KP_COLUMNS                                                                                 \
    "id, name, user_id, fingerprint, public_key, type,"                                            \
    " to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US'),"                     \
    " to_char(updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US')"

/* The user a request acts for: the one asked for (from 2.10), else the
 * caller. Nova's rule for every action: admin, or the key pair's own user. */
static int target_user(struct req *r, const char *asked, const char **user) {
    *user = asked && *asked && req_ver_ge(r, MV(2, 10)) ? asked : r->ctx.user_id;
    if (!strcmp(*user, r->ctx.user_id)) return 0;
    return auth_policy_target(r, r->route->policy, r->route->policy_name, NULL, *user);
}

/* One row of KP_COLUMNS as the list shows it; `full` adds what show adds. */
static json_t *keypair_json(const struct req *r, PGresult *res, int i, bool full) {
    json_t *kp = json_pack("{s:s,s:s,s:s}", "name", db_str(res, i, 1), "public_key",
                           db_str(res, i, 4), "fingerprint", db_str(res, i, 3));
    if (req_ver_ge(r, MV(2, 2))) json_object_set_new(kp, "type", json_string(db_str(res, i, 5)));
    if (full) {
        json_t *more = json_pack("{s:I,s:s,s:s,s:s?,s:b,s:n}", "id", (json_int_t)db_int(res, i, 0),
                                 "user_id", db_str(res, i, 2), "created_at", db_str(res, i, 6),
                                 "updated_at", db_str(res, i, 7), "deleted", 0, "deleted_at");
        json_object_update(kp, more);
        json_decref(more);
    }
    return kp;
}

int keypairs_index(struct req *r) {
    const char *user;
    int rc = target_user(r, req_query(r, "user_id"), &user);
    if (rc) return rc;
    bool paged = req_ver_ge(r, MV(2, 35));
    const char *marker = paged ? req_query(r, "marker") : NULL;
    const char *asked_limit = paged ? req_query(r, "limit") : NULL;
    enum db_status st;
    PGresult *res;
    if (marker) {
        const char *p[] = {user, marker};
        if ((st = db_query(&res,
                           "SELECT 1 FROM key_pairs WHERE user_id = $1 AND name = $2"
                           " AND deleted = 0",
                           2, p)))
            return api_db_error(r, st);
        int found = PQntuples(res);
        PQclear(res);
        if (!found) return api_error(r, 400, "Marker %s could not be found.", marker);
    }
    /* ?limit=0 is an empty page in Nova; no limit before 2.35 */
    char limit[32];
    long lim = asked_limit && strtol(asked_limit, NULL, 10) == 0 ? 0 : paging_limit(r);
    snprintf(limit, sizeof limit, "%ld", lim);
    const char *p[] = {user, marker, paged ? limit : NULL};
    if ((st = db_query(&res,
                       "SELECT " KP_COLUMNS " FROM key_pairs WHERE user_id = $1 AND deleted = 0"
                       " AND ($2::text IS NULL OR name > $2) ORDER BY name LIMIT $3::bigint",
                       3, p)))
        return api_db_error(r, st);
    json_t *list = json_array();
    int n = PQntuples(res);
    for (int i = 0; i < n; i++)
        json_array_append_new(list, json_pack("{s:o}", "keypair", keypair_json(r, res, i, false)));
    json_t *body = json_pack("{s:o}", "keypairs", list);
    /* Nova links the next page when the page has exactly the ?limit asked */
    if (asked_limit && n && strtol(asked_limit, NULL, 10) == n)
        json_object_set_new(body, "keypairs_links",
                            paging_link(r, "/os-keypairs", db_str(res, n - 1, 1)));
    PQclear(res);
    return api_reply(r, 200, body);
}

int keypairs_show(struct req *r) {
    const char *user, *name = req_param(r, "id");
    int rc = target_user(r, req_query(r, "user_id"), &user);
    if (rc) return rc;
    const char *p[] = {user, name};
    PGresult *res;
    enum db_status st = db_query(&res,
                                 "SELECT " KP_COLUMNS
                                 " FROM key_pairs WHERE user_id = $1 AND name = $2 AND deleted = 0",
                                 2, p);
    if (st) return api_db_error(r, st);
    if (!PQntuples(res)) {
        PQclear(res);
        return api_error(r, 404, "Keypair %s not found for user %s", name, user);
    }
    rc = api_reply(r, 200, json_pack("{s:o}", "keypair", keypair_json(r, res, 0, true)));
    PQclear(res);
    return rc;
}

int keypairs_delete(struct req *r) {
    const char *user, *name = req_param(r, "id");
    int rc = target_user(r, req_query(r, "user_id"), &user);
    if (rc) return rc;
    const char *p[] = {user, name};
    PGresult *res;
    enum db_status st = db_begin();
    if (st) return api_db_error(r, st);
    st = db_query(&res,
                  "UPDATE key_pairs SET deleted = id, deleted_at = now()"
                  " WHERE user_id = $1 AND name = $2 AND deleted = 0"
                  " RETURNING id, fingerprint, public_key, type",
                  2, p);
    if (st) {
        db_rollback();
        return api_db_error(r, st);
    }
    int found = PQntuples(res);
    if (found && (notify_keypair("delete", user, name, db_str(res, 0, 1), db_str(res, 0, 2),
                                 db_str(res, 0, 3)) < 0 ||
                  (st = db_commit()) != DB_OK)) {
        PQclear(res);
        db_rollback();
        return api_db_error(r, st ? st : DB_ERROR);
    }
    PQclear(res);
    if (!found) {
        db_rollback();
        return api_error(r, 404, "Keypair %s not found for user %s", name, user);
    }
    outbox_flush(); /* keypair.delete.start/.end (notify.h) */
    return api_reply(r, req_ver_ge(r, MV(2, 2)) ? 204 : 202, NULL);
}

/* What create stores: the key material, made or checked before the
 * transaction so that no lock is held while a key is generated. */
struct new_keypair {
    char name[1024];
    const char *user, *type, *public_key;
    char *made_public, *private_key;
    char fingerprint[CRYPTO_FP_LEN];
    char invalid[512]; /* why an imported key is invalid, "" if it is fine */
};

static int make_key(struct req *r, struct new_keypair *k, json_t *public_key) {
    bool x509 = !strcmp(k->type, "x509");
    if (public_key) {
        k->public_key = json_string_value(public_key);
        char why[400];
        if (x509 && crypto_x509_fingerprint(k->public_key, k->fingerprint, why, sizeof why))
            snprintf(k->invalid, sizeof k->invalid,
                     "failed to generate X509 fingerprint. Error message: %s", why);
        else if (!x509 && crypto_ssh_fingerprint(k->public_key, k->fingerprint))
            snprintf(k->invalid, sizeof k->invalid, "failed to generate fingerprint");
        return 0;
    }
    int rc = x509 ? crypto_x509_generate(k->user, &k->private_key, &k->made_public, k->fingerprint)
                  : crypto_ssh_generate(&k->private_key, &k->made_public, k->fingerprint);
    if (rc)
        return api_unexpected(r, "cnova.KeyGenerationError");
    k->public_key = k->made_public;
    return 0;
}

/* Quota, then the key's validity (Nova checks them in that order), then
 * the row; a live key pair of the same name is a unique violation. */
static int store(struct req *r, struct new_keypair *k) {
    const char *p[] = {k->name, k->user, r->ctx.project_id, k->fingerprint, k->public_key, k->type};
    for (int attempt = 0;; attempt++) {
        enum db_status st = db_begin();
        if (st) return api_db_error(r, st);
        int rc = quota_reserve(r, r->ctx.project_id, k->user, "key_pairs", 1);
        if (!rc && k->invalid[0]) rc = api_error(r, 400, "Keypair data is invalid: %s", k->invalid);
        if (rc) {
            db_rollback();
            return rc;
        }
        st = db_exec(
            "INSERT INTO key_pairs (name, user_id, project_id, fingerprint, public_key, type)"
            " VALUES ($1, $2, $3, $4, $5, $6)",
            6, p);
        if (!st && notify_keypair(k->made_public ? "create" : "import", k->user, k->name,
                                  k->fingerprint, k->public_key, k->type) < 0)
            st = DB_ERROR;
        if (st)
            db_rollback();
        else
            st = db_commit();
        if (st == DB_RETRY && attempt < 3) continue;
        if (st == DB_CONFLICT) return api_error(r, 409, "Key pair '%s' already exists.", k->name);
        if (!st) outbox_flush(); /* keypair.create|import.start/.end (notify.h) */
        return st ? api_db_error(r, st) : 0;
    }
}

int keypairs_create(struct req *r) {
    json_t *in = json_object_get(r->body, "keypair");
    struct new_keypair k = {.type = json_string_value(json_object_get(in, "type"))};
    int rc = target_user(r, json_string_value(json_object_get(in, "user_id")), &k.user);
    if (rc) return rc;
    if (!k.type) k.type = "ssh";
    /* Nova strips the name (only /v2 lets spaces through the schema) */
    const char *name = json_string_value(json_object_get(in, "name"));
    while (isspace((unsigned char)*name))
        name++;
    size_t len = strlen(name);
    while (len && isspace((unsigned char)name[len - 1]))
        len--;
    snprintf(k.name, sizeof k.name, "%.*s", (int)len, name);

    if (!(rc = make_key(r, &k, json_object_get(in, "public_key"))) && !(rc = store(r, &k))) {
        json_t *out = json_pack("{s:s,s:s,s:s,s:s}", "name", k.name, "public_key", k.public_key,
                                "fingerprint", k.fingerprint, "user_id", k.user);
        if (req_ver_ge(r, MV(2, 2))) json_object_set_new(out, "type", json_string(k.type));
        if (k.private_key) json_object_set_new(out, "private_key", json_string(k.private_key));
        rc = api_reply(r, req_ver_ge(r, MV(2, 2)) ? 201 : 200, json_pack("{s:o}", "keypair", out));
    }
    free(k.made_public);
    free(k.private_key);
    return rc;
}
