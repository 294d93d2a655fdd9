/* keystone.c — see keystone.h. */
#include "keystone.h"

#include <openssl/evp.h>
#include <string.h>
#include <unistd.h>

#include "ks_client.h"
#include "token_cache.h"

static long cache_time;         /* token_cache_time */
static char www_authenticate[512]; /* the header's value */
static char service_roles[512]; /* ",service," */
static bool service_roles_required;

static const char *opt(const char *key, const char *def) {
    return config_get("keystone_authtoken", key, def);
}

int keystone_init(void) {
    if (!ks_configured()) {
        log_error("auth_strategy = keystone needs [keystone_authtoken] auth_url");
        return -1;
    }
    cache_time = config_int("keystone_authtoken", "token_cache_time", 300);
    if (cache_time < 0) cache_time = 0;
    const char *uri = opt("www_authenticate_uri", "");
    if (!*uri) uri = opt("auth_uri", "");
    if (!*uri) uri = opt("auth_url", "");
    snprintf(www_authenticate, sizeof www_authenticate, "Keystone uri=\"%s\"", uri);
    /* "service, admin" -> ",service,admin," (ctx_has_role's shape) */
    const char *roles = opt("service_token_roles", "service");
    size_t o = 0;
    service_roles[o++] = ',';
    for (const char *p = roles; *p && o + 2 < sizeof service_roles; p++)
        if (*p != ' ') service_roles[o++] = *p;
    if (service_roles[o - 1] != ',') service_roles[o++] = ',';
    service_roles[o] = 0;
    service_roles_required = config_bool("keystone_authtoken", "service_token_roles_required", 0);
    return tc_init((size_t)config_int("keystone_authtoken", "token_cache_size", 4096));
}

static int unauthorized(struct req *r) {
    api_header(r, "WWW-Authenticate", www_authenticate);
    return api_error(r, 401, "The request you have made requires authentication.");
}

static int unavailable(struct req *r) {
    api_header(r, "Retry-After", "5");
    return api_error(r, 503, "The Keystone service is temporarily unavailable.");
}

/* A token worth asking about: printable ASCII, not too long. Anything else
 * is refused here, never sent to Keystone (nor into its log). */
static bool plausible(const char *tok) {
    size_t n = 0;
    for (const unsigned char *p = (const unsigned char *)tok; *p; p++, n++)
        if (*p <= ' ' || *p >= 0x7f || n >= KEYSTONE_TOKEN_MAX) return false;
    return n > 0;
}

static void copy(char *dst, size_t cap, const char *src) {
    snprintf(dst, cap, "%s", src ? src : "");
}

/* The context a validation answer describes; false when it is not one. */
static bool answer_ctx(json_t *ans, struct ctx *c, time_t *expires) {
    json_t *tok = json_object_get(ans, "token");
    json_t *user = json_object_get(tok, "user"), *project = json_object_get(tok, "project");
    const char *uid = json_string_value(json_object_get(user, "id"));
    const char *exp = json_string_value(json_object_get(tok, "expires_at"));
    if (!uid || !exp || !(*expires = ks_parse_time(exp))) return false;
    memset(c, 0, sizeof *c);
    copy(c->user_id, sizeof c->user_id, uid);
    copy(c->user_domain_id, sizeof c->user_domain_id,
         json_string_value(json_object_get(json_object_get(user, "domain"), "id")));
    copy(c->project_id, sizeof c->project_id, json_string_value(json_object_get(project, "id")));
    copy(c->project_domain_id, sizeof c->project_domain_id,
         json_string_value(json_object_get(json_object_get(project, "domain"), "id")));
    c->system_scope = json_is_true(json_object_get(json_object_get(tok, "system"), "all"));
    size_t i;
    json_t *role;
    json_array_foreach(json_object_get(tok, "roles"), i, role) {
        const char *name = json_string_value(json_object_get(role, "name"));
        if (name) ctx_add_role(c, name);
    }
    return true;
}

/* The service user's token, shared by the host's workers. */
static int service_token(char *tok, size_t cap, bool stale) {
    if (!stale && !tc_service_get(tok, cap, 60)) return 0;
    time_t exp;
    int st = ks_password_token(tok, cap, &exp);
    if (st != 201) return st ? st : -1;
    tc_service_put(tok, exp);
    return 0;
}

/* Asks Keystone about `token`: 0 (ctx and expiry filled), 401 (refused),
 * 503 (Keystone out of reach or failing). */
static int fetch(const char *token, bool allow_expired, struct ctx *c, time_t *expires,
                 const char *rid) {
    const char *path = allow_expired ? "/v3/auth/tokens?nocatalog&allow_expired=1"
                                     : "/v3/auth/tokens?nocatalog";
    char mine[2048];
    for (int attempt = 0; attempt < 2; attempt++) {
        if (service_token(mine, sizeof mine, attempt > 0)) return 503;
        json_t *ans = NULL;
        int st = ks_request("GET", path, mine, token, NULL, &ans, NULL, 0);
        bool ok = st == 200 && answer_ctx(ans, c, expires);
        json_decref(ans);
        if (ok) return 0;
        if (st == 404 || (st == 200 && !ok)) return 401;
        if (st == 401 && attempt == 0) continue; /* our own token went stale */
        log_msg(LOG_ERROR, rid, "keystone: token validation answered %d", st);
        return 503;
    }
    return 503;
}

/* 0 with ctx, 401 or 503: from the cache, or from Keystone once per host. */
static int check_token(const char *token, bool allow_expired, struct ctx *c, const char *rid) {
    unsigned char key[TC_KEY];
    EVP_MD_CTX *s = EVP_MD_CTX_new();
    EVP_DigestInit_ex(s, EVP_sha256(), NULL);
    EVP_DigestUpdate(s, allow_expired ? "E" : "V", 1);
    EVP_DigestUpdate(s, token, strlen(token));
    EVP_DigestFinal_ex(s, key, NULL);
    EVP_MD_CTX_free(s);
    int status;
    enum tc_result r;
    while ((r = tc_lookup(key, c, &status)) == TC_WAIT)
        usleep(5000);
    if (r == TC_HIT) return status;
    time_t now = time(NULL), expires = 0;
    int st = fetch(token, allow_expired, c, &expires, rid);
    if (st == 503) {
        tc_abandon(key);
        return st;
    }
    time_t until = now + cache_time;
    if (!st && !allow_expired && expires < until) until = expires;
    tc_store(key, c, st, until);
    return st;
}

int keystone_authenticate(struct req *r) {
    const char *token = req_header(r, "X-Auth-Token");
    const char *service = req_header(r, "X-Service-Token");
    if (!token || !plausible(token)) return unauthorized(r);
    bool allow_expired = false;
    if (service && *service) {
        struct ctx sc;
        if (!plausible(service)) return unauthorized(r);
        int st = check_token(service, false, &sc, r->request_id);
        if (st == 503) return unavailable(r);
        if (st) return unauthorized(r);
        bool has = false;
        char role[130];
        for (const char *p = service_roles + 1; *p; p += strcspn(p, ",") + 1) {
            snprintf(role, sizeof role, "%.*s", (int)strcspn(p, ","), p);
            if (*role && ctx_has_role(&sc, role)) has = true;
        }
        if (!has && service_roles_required) return unauthorized(r);
        allow_expired = has;
    }
    int st = check_token(token, allow_expired, &r->ctx, r->request_id);
    if (st == 503) return unavailable(r);
    return st ? unauthorized(r) : 0;
}
