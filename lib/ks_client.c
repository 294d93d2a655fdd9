/* ks_client.c — see ks_client.h. */
#define _GNU_SOURCE
#include "ks_client.h"

#include <curl/curl.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "cnova.h"

static const char *opt(const char *key, const char *def) {
    return config_get("keystone_authtoken", key, def);
}

bool ks_configured(void) {
    return *opt("auth_url", "") || *opt("www_authenticate_uri", "");
}

/* auth_url without a trailing "/" or "/v3": the paths given carry it */
static void base_url(struct sbuf *b) {
    const char *u = opt("auth_url", "");
    if (!*u) u = opt("www_authenticate_uri", "");
    size_t n = strlen(u);
    while (n && u[n - 1] == '/')
        n--;
    if (n >= 3 && !strncmp(u + n - 3, "/v3", 3)) n -= 3;
    sbuf_add(b, u, n);
}

struct answer {
    struct sbuf body;
    char *subject;
    size_t cap;
};

static size_t on_body(char *p, size_t size, size_t n, void *ud) {
    struct answer *a = ud;
    /* Keystone's answers are small; a runaway one is cut, never held */
    if (a->body.len + size * n > (1u << 22)) return 0;
    sbuf_add(&a->body, p, size * n);
    return size * n;
}

static size_t on_header(char *p, size_t size, size_t n, void *ud) {
    struct answer *a = ud;
    size_t len = size * n;
    static const char name[] = "x-subject-token:";
    if (a->subject && len > sizeof name - 1 && !strncasecmp(p, name, sizeof name - 1)) {
        const char *v = p + sizeof name - 1;
        size_t vn = len - (sizeof name - 1);
        while (vn && (*v == ' ' || *v == '\t'))
            v++, vn--;
        while (vn && (v[vn - 1] == '\r' || v[vn - 1] == '\n' || v[vn - 1] == ' '))
            vn--;
        if (vn < a->cap) {
            memcpy(a->subject, v, vn);
            a->subject[vn] = 0;
        }
    }
    return len;
}

int ks_request(const char *method, const char *path, const char *token, const char *subject,
               const char *body, json_t **out, char *subject_out, size_t cap) {
    static bool ready;
    if (!ready) {
        curl_global_init(CURL_GLOBAL_DEFAULT);
        ready = true;
    }
    if (out) *out = NULL;
    if (subject_out && cap) *subject_out = 0;
    struct sbuf url = {0}, h1 = {0}, h2 = {0};
    base_url(&url);
    sbuf_addf(&url, "%s", path);
    struct curl_slist *hs = curl_slist_append(NULL, "Accept: application/json");
    if (token) {
        sbuf_addf(&h1, "X-Auth-Token: %s", token);
        hs = curl_slist_append(hs, h1.s);
    }
    if (subject) {
        sbuf_addf(&h2, "X-Subject-Token: %s", subject);
        hs = curl_slist_append(hs, h2.s);
    }
    if (body) hs = curl_slist_append(hs, "Content-Type: application/json");
    struct answer a = {.subject = subject_out, .cap = cap};
    CURL *h = curl_easy_init();
    curl_easy_setopt(h, CURLOPT_URL, url.s);
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hs);
    if (body) curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &a);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, &a);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT,
                     (long)config_int("keystone_authtoken", "http_connect_timeout", 3));
    curl_easy_setopt(h, CURLOPT_TIMEOUT,
                     (long)config_int("keystone_authtoken", "http_request_timeout", 10));
    long status = 0;
    CURLcode cc = curl_easy_perform(h);
    if (cc == CURLE_OK)
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    else
        log_warn("keystone: %s %s: %s", method, url.s, curl_easy_strerror(cc));
    if (cc == CURLE_OK && out && a.body.len) *out = json_loadb(a.body.s, a.body.len, 0, NULL);
    curl_slist_free_all(hs);
    curl_easy_cleanup(h);
    sbuf_free(&url);
    sbuf_free(&h1);
    sbuf_free(&h2);
    sbuf_free(&a.body);
    return (int)status;
}

/* {"name": ..., "domain": {"name"|"id": ...}} from the options
 * <what>_name and <what>_domain_{name,id} */
static json_t *named(const char *name, const char *domain_id_key, const char *domain_name_key) {
    const char *did = opt(domain_id_key, "");
    json_t *domain = *did ? json_pack("{ss}", "id", did)
                          : json_pack("{ss}", "name", opt(domain_name_key, "Default"));
    return json_pack("{ssso}", "name", name, "domain", domain);
}

int ks_password_token(char *tok, size_t cap, time_t *expires) {
    json_t *user = named(opt("username", ""), "user_domain_id", "user_domain_name");
    json_object_set_new(user, "password", json_string(opt("password", "")));
    json_t *req = json_pack(
        "{s{s{s[s]s{so}}s{so}}}", "auth", "identity", "methods", "password", "password", "user",
        user, "scope", "project",
        named(opt("project_name", "service"), "project_domain_id", "project_domain_name"));
    char *body = json_dumps(req, JSON_COMPACT);
    json_decref(req);
    json_t *ans = NULL;
    int st = ks_request("POST", "/v3/auth/tokens?nocatalog", NULL, NULL, body, &ans, tok, cap);
    free(body);
    const char *exp = json_string_value(json_object_get(json_object_get(ans, "token"), "expires_at"));
    *expires = exp ? ks_parse_time(exp) : 0;
    if (st == 201 && (!*tok || !*expires)) st = 502; /* an answer we cannot use */
    if (st != 201) log_error("keystone: the service user %s got no token (%d)", opt("username", ""), st);
    json_decref(ans);
    return st;
}

int ks_service_token(char *tok, size_t cap, bool stale) {
    static char mine[2048];
    static time_t got, until;
    time_t now = time(NULL);
    time_t margin = (until - got) / 10;
    if (margin > 300) margin = 300;
    if (stale || !*mine || now + margin >= until) {
        time_t exp;
        int st = ks_password_token(mine, sizeof mine, &exp);
        if (st != 201) {
            *mine = 0;
            return st;
        }
        got = now;
        until = exp;
    }
    if (strlen(mine) >= cap) return 502;
    strcpy(tok, mine);
    return 0;
}

time_t ks_parse_time(const char *s) {
    struct tm tm = {0};
    const char *end = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
    if (!end) return 0;
    return timegm(&tm);
}
