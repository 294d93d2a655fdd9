/* api.c — one request, start to end: prefix and project id, router,
 * auth, microversion, body, schema, policy, handler; then the response with
 * Nova's headers. Everything here is I/O-free: main.c feeds a struct req
 * in and writes the rendered response out, so unit tests drive api_handle
 * directly. */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "api.h"

static const struct {
    int code;
    const char *name, *reason;
} statuses[] = {
    {200, NULL, "OK"},
    {201, NULL, "Created"},
    {202, NULL, "Accepted"},
    {204, NULL, "No Content"},
    {207, NULL, "Multi-Status"},
    {300, NULL, "Multiple Choices"},
    {400, "badRequest", "Bad Request"},
    {401, "unauthorized", "Unauthorized"},
    {403, "forbidden", "Forbidden"},
    {404, "itemNotFound", "Not Found"},
    {405, "badMethod", "Method Not Allowed"},
    {406, "computeFault", "Not Acceptable"},
    {409, "conflictingRequest", "Conflict"},
    {410, "computeFault", "Gone"},
    {413, "overLimit", "Request Entity Too Large"},
    {415, "badMediaType", "Unsupported Media Type"},
    {429, "overLimit", "Too Many Requests"},
    {500, "computeFault", "Internal Server Error"},
    {501, "notImplemented", "Not Implemented"},
    {503, "serviceUnavailable", "Service Unavailable"},
};

static int status_index(int code) {
    for (size_t i = 0; i < sizeof statuses / sizeof statuses[0]; i++)
        if (statuses[i].code == code) return (int)i;
    return -1;
}

const char *api_status_reason(int code) {
    int i = status_index(code);
    return i >= 0 ? statuses[i].reason : "Unknown";
}

int api_error(struct req *r, int status, const char *fmt, ...) {
    char text[1024], msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    /* what it echoes (a header, a path) may not be UTF-8, and vsnprintf may
     * have cut a character: jansson takes neither */
    utf8_sanitize(msg, sizeof msg, text);
    int i = status_index(status);
    const char *name = i >= 0 && statuses[i].name ? statuses[i].name : "computeFault";
    json_decref(r->resp);
    r->resp = json_pack("{s:{s:i,s:s}}", name, "code", status, "message", msg);
    r->status = status;
    if (status >= 500 && status != 501)
        log_msg(LOG_ERROR, r->request_id, "%s %s: %s", r->method_name, r->path, msg);
    return status;
}

int api_db_error(struct req *r, enum db_status st) {
    if (st == DB_UNAVAILABLE || (st == DB_ERROR && db_lost())) {
        /* the database is restarting: the next request reconnects */
        api_header(r, "Retry-After", "1");
        return api_error(r, 503,
                         "The server is currently unavailable. Please try again at a later time.");
    }
    if (st == DB_CONFLICT) {
        /* a race the handler did not name: logged, so that one of ours shows */
        log_msg(LOG_WARNING, r->request_id, "database conflict: %s", db_errmsg());
        return api_error(r, 409, "There was a conflict when trying to complete your request.");
    }
    if (st == DB_INVALID) return api_error(r, 400, "Invalid input: %s", db_errmsg());
    log_msg(LOG_ERROR, r->request_id, "database error: %s", db_errmsg());
    return api_unexpected(r, "cnova.DBError");
}

int api_unexpected(struct req *r, const char *klass) {
    return api_error(r, 500,
                     "Unexpected API Error. Please report this at "
                     "http://bugs.launchpad.net/nova/ and attach the Nova API log if "
                     "possible.\n<class '%s'>",
                     klass);
}

int api_reply(struct req *r, int status, json_t *body) {
    json_decref(r->resp);
    r->resp = body;
    r->status = status;
    return status;
}

void api_header(struct req *r, const char *name, const char *value) {
    sbuf_addf(&r->headers, "%s: %s\r\n", name, value);
}

const char *req_header(const struct req *r, const char *name) {
    char key[128] = "HTTP_";
    size_t n = 5;
    for (const char *p = name; *p && n < sizeof key - 1; p++)
        key[n++] = *p == '-' ? '_' : (char)toupper((unsigned char)*p);
    key[n] = 0;
    for (char **e = r->envp; e && *e; e++)
        if (!strncmp(*e, key, n) && (*e)[n] == '=') return *e + n + 1;
    return NULL;
}

const char *req_query(const struct req *r, const char *name) {
    /* webob's GET.get, which Nova uses, answers the last of repeated values */
    json_t *v = json_object_get(r->query_map, name);
    return json_string_value(json_array_get(v, json_array_size(v) - 1));
}

/* ---- decoding the URL ---- */

static int hexval(int c) {
    if (c >= '0' && c <= '9') return c - '0';
    c = tolower(c);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Percent-decodes s in place ('+' too when form is set). */
static void url_decode(char *s, bool form) {
    char *o = s;
    for (; *s; s++) {
        if (*s == '%' && hexval(s[1]) >= 0 && hexval(s[2]) >= 0) {
            *o++ = (char)(hexval(s[1]) * 16 + hexval(s[2]));
            s += 2;
        } else
            *o++ = (form && *s == '+') ? ' ' : *s;
    }
    *o = 0;
}

void req_init(struct req *r, const char *method, const char *uri, char **envp) {
    memset(r, 0, sizeof *r);
    r->method = router_method(method);
    r->method_name = method;
    r->envp = envp;
    const char *q = strchr(uri, '?');
    size_t n = q ? (size_t)(q - uri) : strlen(uri);
    char *raw = strndup(uri, n);
    url_decode(raw, false);
    r->path = utf8_dup(raw); /* ids that are not UTF-8: not found */
    free(raw);
    r->query = strdup(q ? q + 1 : "");
    r->version = MV_MIN;
    r->content_length = -1;
    r->resp_fd = -1;
}

/* A FastCGI parameter by name (what FCGX_GetParam answers), or NULL. */
static const char *param(char **envp, const char *name) {
    size_t n = strlen(name);
    for (char **e = envp; e && *e; e++)
        if (!strncmp(*e, name, n) && (*e)[n] == '=') return *e + n + 1;
    return NULL;
}

/* "http://host:port" for links: [api] public_endpoint, else the request's. */
static void base_url(struct req *r) {
    const char *pub = config_get("api", "public_endpoint", NULL);
    if (pub) {
        snprintf(r->base_url, sizeof r->base_url, "%s", pub);
        size_t n = strlen(r->base_url);
        if (n && r->base_url[n - 1] == '/') r->base_url[n - 1] = 0;
        return;
    }
    const char *host = param(r->envp, "HTTP_HOST");
    const char *proto = param(r->envp, "HTTP_X_FORWARDED_PROTO");
    const char *https = param(r->envp, "HTTPS");
    if (!proto) proto = https && *https ? "https" : "http";
    snprintf(r->base_url, sizeof r->base_url, "%s://%s", proto, host ? host : "localhost");
}

void req_from_params(struct req *r, char **envp) {
    const char *method = param(envp, "REQUEST_METHOD");
    const char *uri = param(envp, "REQUEST_URI");
    req_init(r, method ? method : "GET", uri ? uri : "/", envp);
    base_url(r);
    r->content_type = param(envp, "CONTENT_TYPE");
    const char *cl = param(envp, "CONTENT_LENGTH");
    r->content_length = cl && *cl ? strtoll(cl, NULL, 10) : -1;
}

void req_parse_query(struct req *r) {
    r->query_map = json_object();
    char *copy = strdup(r->query), *save = NULL;
    for (char *kv = strtok_r(copy, "&", &save); kv; kv = strtok_r(NULL, "&", &save)) {
        char *eq = strchr(kv, '=');
        if (eq) *eq = 0;
        char *val = eq ? eq + 1 : kv + strlen(kv); /* "" in writable memory */
        url_decode(kv, true);
        url_decode(val, true);
        /* as webob reads them: UTF-8, a byte that is not as U+FFFD */
        char *key = utf8_dup(kv), *text = utf8_dup(val);
        json_t *list = json_object_get(r->query_map, key);
        if (!list) json_object_set_new(r->query_map, key, list = json_array());
        json_array_append_new(list, json_string(text));
        free(key);
        free(text);
    }
    free(copy);
}

/* Strips "/v2.1" or "/v2" and an optional "/{project_id}" from r->path.
 * Returns 0, or 1 for the root document, or 404. */
static int strip_prefix(struct req *r) {
    char *p = r->path;
    if (!strcmp(p, "/") || !*p) return 1;
    size_t skip;
    if (!strncmp(p, "/v2.1", 5) && (p[5] == '/' || !p[5]))
        skip = 5;
    else if (!strncmp(p, "/v2", 3) && (p[3] == '/' || !p[3])) {
        skip = 3;
        r->legacy = true;
        r->version = MV_LEGACY;
    } else
        return 404;
    /* an optional project id: a first segment that no route starts with,
     * followed by more path */
    char *seg = p + skip + (p[skip] == '/');
    size_t len = strcspn(seg, "/");
    if (len && seg[len] == '/' && !router_is_collection(seg, len)) {
        snprintf(r->url_project, sizeof r->url_project, "%.*s", (int)len, seg);
        skip = (size_t)(seg + len - p);
    }
    snprintf(r->prefix, sizeof r->prefix, "%.*s", (int)skip, p);
    memmove(p, p + skip, strlen(p + skip) + 1);
    size_t n = strlen(p);
    while (n > 1 && p[n - 1] == '/') p[--n] = 0; /* "/servers/" is "/servers" */
    if (!*p) strcpy(p, "/");
    return 0;
}

/* ---- microversions ---- */

int req_parse_version(struct req *r) {
    r->version = MV_MIN;
    if (r->legacy) {
        r->version = MV_LEGACY;
        return 0;
    }
    char buf[128] = "";
    const char *h = req_header(r, "OpenStack-API-Version");
    if (h) {
        /* "compute 2.5" possibly among other services: "placement 1.1, compute 2.5" */
        char *copy = strdup(h), *save = NULL;
        for (char *item = strtok_r(copy, ",", &save); item; item = strtok_r(NULL, ",", &save)) {
            while (isspace((unsigned char)*item)) item++;
            if (!strncasecmp(item, "compute", 7) && isspace((unsigned char)item[7])) {
                char *v = item + 8;
                while (isspace((unsigned char)*v)) v++;
                snprintf(buf, sizeof buf, "%s", v);
            }
        }
        free(copy);
    }
    if (!buf[0] && (h = req_header(r, "X-OpenStack-Nova-API-Version"))) snprintf(buf, sizeof buf, "%s", h);
    size_t n = strlen(buf);
    while (n && isspace((unsigned char)buf[n - 1])) buf[--n] = 0;
    if (!buf[0]) return 0;
    int v = mv_parse(buf);
    if (!v)
        return api_error(r, 400,
                         "API Version String %s is of invalid format. Must be of format "
                         "MajorNum.MinorNum.",
                         buf);
    if (v < MV_MIN || v > MV_MAX) {
        r->version = MV_MIN; /* the error itself is answered at the minimum */
        return api_error(r, 406,
                         "Version %s is not supported by the API. Minimum is 2.1 and maximum "
                         "is 2.%d.",
                         buf, MV_MAX - MV(2, 0));
    }
    r->version = v;
    return 0;
}

/* ---- the body ---- */

static bool is_json_type(const char *ct) {
    if (!ct || !*ct) return true; /* Nova reads a body without a type as JSON */
    size_t n = strcspn(ct, ";");
    while (n && isspace((unsigned char)ct[n - 1])) n--;
    return (n == 16 && !strncasecmp(ct, "application/json", 16)) ||
           (n == 39 && !strncasecmp(ct, "application/vnd.openstack.compute+json", 38));
}

long req_body_read(struct req *r, char *buf, size_t n) {
    return r->body_read ? r->body_read(r->body_arg, buf, n) : 0;
}

/* The body's length: what was given, else what CONTENT_LENGTH announces. */
static size_t body_length(const struct req *r) {
    if (r->body_raw) return r->body_len;
    return r->content_length > 0 ? (size_t)r->content_length : 0;
}

int api_read_json(struct req *r, const char *malformed) {
    size_t len = body_length(r);
    long max = config_int("api", "max_body_size", 1048576);
    if (len > (size_t)max) return api_error(r, 413, "Request is too large.");
    if (!r->body_raw && len) {
        r->body_raw = malloc(len + 1);
        r->body_owned = true;
        size_t got = 0;
        long n = 1;
        while (got < len && (n = req_body_read(r, r->body_raw + got, len - got)) > 0)
            got += (size_t)n;
        r->body_len = got;
        r->body_raw[got] = 0;
        if (got < len) return api_error(r, 400, "%s", malformed);
    }
    json_error_t err;
    r->body = len ? json_loadb(r->body_raw, len, JSON_DECODE_ANY, &err) : NULL;
    if (!r->body) return api_error(r, 400, "%s", malformed);
    return 0;
}

static int parse_body(struct req *r) {
    if (!body_length(r)) return 0;
    if (r->method == GET || r->method == DELETE || r->method == HEAD) return 0;
    if (!is_json_type(r->content_type)) return api_error(r, 415, "Unsupported Content-Type");
    int st = api_read_json(r, "Malformed request body");
    if (st) return st;
    if (!json_is_object(r->body))
        return api_error(r, 400, "The request body must be a JSON object.");
    return 0;
}

static int check_schemas(struct req *r) {
    char msg[1024];
    const json_t *s = schemas_find(r->route, "query", r->version);
    if (s && validate(s, r->query_map, VALIDATE_QUERY, msg, sizeof msg))
        return api_error(r, 400, "%s", msg);
    if (r->method != POST && r->method != PUT && r->method != PATCH) return 0;
    s = schemas_find(r->route, "request", r->version);
    if (s && validate(s, r->body ? r->body : json_null(),
                      r->legacy ? VALIDATE_BODY_LEGACY : VALIDATE_BODY, msg, sizeof msg))
        return api_error(r, 400, "%s", msg);
    return 0;
}

static bool in_range(const struct route *rt, int v) {
    if (v < MV_MIN) v = MV_MIN; /* legacy /v2 serves what 2.1 serves */
    return v >= rt->min && (rt->max == MV_OPEN || v <= rt->max);
}

static bool needs_token(const struct route *rt) {
    return rt->handler != versions_show;
}

int api_route(struct req *r) {
    int st = strip_prefix(r);
    if (st == 1) return versions_root(r);
    if (st) return api_error(r, 404, "The resource could not be found.");
    char allow[128];
    st = router_match(r, allow, sizeof allow);
    if (st == 404) return api_error(r, 404, "The resource could not be found.");
    if (st == 405) {
        api_header(r, "Allow", allow);
        return api_error(r, 405, "The method is not allowed for the requested URL.");
    }
    if (needs_token(r->route) && (st = auth_request(r))) return st;
    if ((st = req_parse_version(r))) return st;
    if (!in_range(r->route, r->version)) return api_error(r, 404, "The resource could not be found.");
    if ((st = parse_body(r))) return st;
    if ((st = router_action(r))) return st;
    if (r->route->handler == gone) return gone(r); /* Nova checks neither schema nor policy */
    if ((st = check_schemas(r))) return st;
    return auth_policy(r, r->route->policy, r->route->policy_name);
}

static int dispatch(struct req *r) {
    req_parse_query(r);
    const char *images = image_service_path(r->path);
    if (images) {
        r->legacy = true; /* no compute microversion headers */
        return image_service(r, images);
    }
    int st = api_route(r);
    return st ? st : r->route->handler(r);
}

void api_handle(struct req *r) {
    double t0 = now_ms();
    if (!r->request_id[0]) request_id_new(r->request_id);
    if (!r->version) r->version = MV_MIN;
    notify_context_set(r->request_id); /* notifications' _context_request_id */
    r->status = dispatch(r);
    notify_context_set(NULL);
    const char *ver = "";
    char vbuf[16];
    if (!r->legacy) {
        snprintf(vbuf, sizeof vbuf, "2.%d", r->version - MV(2, 0));
        ver = vbuf;
    }
    log_msg(r->status >= 500 && r->status != 501 ? LOG_ERROR : LOG_INFO, r->request_id,
            "%s %s%s%s status: %d len: %zu microversion: %s time: %.3f", r->method_name,
            r->path, r->query[0] ? "?" : "", r->query, r->status, r->body_len, ver,
            (now_ms() - t0) / 1e3);
}

void api_render(struct req *r, struct sbuf *out) {
    struct sbuf text = {0};
    if (r->resp && jsonw_render(r->resp, &text)) {
        log_msg(LOG_ERROR, r->request_id, "response body nested too deep");
        sbuf_free(&text);
        json_decref(r->resp);
        r->resp = NULL;
        api_unexpected(r, "ValueError");
        jsonw_render(r->resp, &text);
    }
    const char *body = text.s;
    size_t blen = text.len;
    /* one formatting call for the fixed headers (this runs for every request) */
    char head[512], ver[200] = "";
    if (!r->legacy) {
        int minor = r->version - MV(2, 0);
        snprintf(ver, sizeof ver,
                 "OpenStack-API-Version: compute 2.%d\r\nX-OpenStack-Nova-API-Version: 2.%d\r\n"
                 "Vary: OpenStack-API-Version, X-OpenStack-Nova-API-Version\r\n",
                 minor, minor);
    }
    if (r->resp_fd >= 0) blen = (size_t)r->resp_len; /* main.c streams the file */
    int n = snprintf(head, sizeof head,
                     "Status: %d %s\r\n%sContent-Length: %zu\r\n"
                     "x-openstack-request-id: %s\r\nx-compute-request-id: %s\r\n%s",
                     r->status, api_status_reason(r->status),
                     body ? "Content-Type: application/json\r\n" : "", blen, r->request_id,
                     r->request_id, ver);
    sbuf_add(out, head, (size_t)n < sizeof head ? (size_t)n : sizeof head - 1);
    if (r->headers.len) sbuf_add(out, r->headers.s, r->headers.len);
    sbuf_add(out, "\r\n", 2);
    if (body) sbuf_add(out, body, blen);
    sbuf_free(&text);
}

void req_free(struct req *r) {
    free(r->path);
    free(r->query);
    json_decref(r->body);
    json_decref(r->query_map);
    json_decref(r->resp);
    for (int i = 0; i < r->nparams; i++) free(r->params[i]);
    sbuf_free(&r->headers);
    if (r->body_owned) free(r->body_raw);
    if (r->resp_fd >= 0) close(r->resp_fd);
}

json_t *api_query_json(struct req *r, int *rc, const char *sql, int n, const char *const *params) {
    PGresult *res;
    enum db_status st = db_query(&res, sql, n, params);
    if (st) {
        *rc = api_db_error(r, st);
        return NULL;
    }
    json_t *out =
        PQntuples(res) && !db_isnull(res, 0, 0) ? json_loads(db_str(res, 0, 0), 0, NULL) : NULL;
    PQclear(res);
    return out;
}

/* The routes Nova has removed (gone_since: the release): every request that
 * reaches one gets the 410 its removed controllers raise. */
int gone(struct req *r) {
    return api_error(r, 410, "This resource is no longer available.  No forwarding address is given.");
}

int not_built(struct req *r) {
    const struct route *rt = r->route;
    return api_error(r, 501, "%s %s%s%s is not implemented by cnova yet.", r->method_name, rt->path,
                     rt->action ? " action " : "", rt->action ? rt->action : "");
}
