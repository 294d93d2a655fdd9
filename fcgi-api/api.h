/* api.h — the API program's vocabulary: one request, the route table's row
 * type, the handler signature and the one error path.
 *
 * A request flows: router (404/405) -> auth (401) -> microversion (400/406,
 * route range 404) -> body (415/400/413) -> schema (400) -> policy (403) ->
 * handler. Handlers receive a validated body and answer by setting r->resp
 * and returning the status, or by returning api_error(...). */
#ifndef CNOVA_API_H
#define CNOVA_API_H

#include "cnova.h"

enum http_method { GET, POST, PUT, DELETE, PATCH, HEAD, OPTIONS, METHOD_OTHER };

enum policy {
    POLICY_ANY,           /* anyone, even without a project role */
    POLICY_AUTHENTICATED, /* any authenticated user (routes without a rule) */
    POLICY_READER,        /* project reader, or admin */
    POLICY_MEMBER,        /* project member, or admin */
    POLICY_MANAGER,       /* project manager, or admin */
    POLICY_ADMIN,         /* admin only */
    POLICY_SERVICE        /* the service role (or admin) */
};

struct req;
typedef int (*handler_fn)(struct req *r);

struct route {
    enum http_method method;
    const char *path; /* template, e.g. "/servers/{server_id}/tags/{id}" */
    const char *action; /* body key for POST .../action rows, else NULL */
    int min, max;       /* microversion range; max MV_OPEN = none */
    int status;         /* normal status */
    enum policy policy;
    const char *policy_name;
    int gone_since; /* Nova release that removed it (410), 0 = still served */
    handler_fn handler;
    const char *handler_name;
};

/* The request context: who is asking (see auth.c). Filled by the auth
 * strategy (noauth2 or Keystone's token answer); read by the policy
 * engine (policy.c) and the handlers. roles: the role names, each
 * followed by ',' (",admin,member,reader,"), lower case, so that a check
 * is a strstr of ",name,". */
struct ctx {
    char user_id[256], project_id[256];
    char user_domain_id[256], project_domain_id[256];
    char roles[1024];
    bool system_scope;  /* a token scoped to the system, not a project */
    bool is_admin, is_reader, is_member, is_manager, is_service;
};
/* True when ctx holds the role (case-insensitive). */
bool ctx_has_role(const struct ctx *c, const char *role);
/* Adds a role to ctx (and sets the is_* flag it implies). */
void ctx_add_role(struct ctx *c, const char *role);

#define MAX_PARAMS 4

struct req {
    /* input */
    enum http_method method;
    const char *method_name;
    char *path;  /* without version prefix, /{project_id} and query */
    char *query; /* raw query string ("" when none) */
    const char *content_type;
    char *body_raw;  /* the whole body, when read (api_read_json) or given */
    size_t body_len;
    bool body_owned; /* body_raw was read here and is freed by req_free */
    /* The body as it arrives (main.c: FastCGI stdin), read on demand so
     * that an upload is streamed and never held whole in memory:
     * body_read gives up to n bytes, 0 at the end, -1 when the connection
     * broke. content_length: CONTENT_LENGTH, -1 when not given. */
    long long content_length;
    long (*body_read)(void *arg, char *buf, size_t n);
    void *body_arg;
    json_t *body;  /* parsed, validated body (NULL when none) */
    json_t *query_map; /* {"param": ["v1", "v2"], ...} */
    char **envp;   /* FastCGI environment (HTTP_* headers) */
    char base_url[256]; /* "http://host:port" for links */
    int version;   /* microversion, MV_LEGACY on /v2 */
    bool legacy;   /* served under /v2 */
    char url_project[256]; /* project id given in the URL, "" if none */
    char prefix[300];      /* "/v2.1" or "/v2", plus "/{project_id}" when given */
    char request_id[41];
    struct ctx ctx;
    const struct route *route;
    const char *param_names[MAX_PARAMS];
    char *params[MAX_PARAMS];
    int nparams;
    /* output */
    int status;
    json_t *resp;        /* response body (NULL = empty) */
    struct sbuf headers; /* extra "Name: value\r\n" lines */
    /* A body streamed from a file instead (image data): main.c copies
     * resp_len bytes of resp_fd after the headers; req_free closes it.
     * -1 = none. The handler sets its Content-Type with api_header. */
    int resp_fd;
    long long resp_len;
};

/* The route table (routes.h), and its size. */
extern const struct route routes[];
extern const size_t nroutes;

/* ---- the one error path ----
 * Sets r->resp to Nova's fault body {"<name>": {"code": N, "message": "..."}},
 * logs a line for 5xx, and returns status, so handlers write
 *   return api_error(r, 404, "Flavor %s could not be found.", id); */
int api_error(struct req *r, int status, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* The error for a failed database call: 503 when the database is down,
 * 409 on a conflict, 500 otherwise. */
int api_db_error(struct req *r, enum db_status st);
/* Sets the JSON body (stealing `body`) and returns status. */
int api_reply(struct req *r, int status, json_t *body);
/* Nova's 500 for an exception its API did not expect, naming its class
 * ("oslo_messaging.exceptions.MessagingTimeout", ...). */
int api_unexpected(struct req *r, const char *klass);
/* The first column of a query's first row, parsed as JSON; NULL when there
 * is no row or it is NULL, and NULL with *rc = the error answered when the
 * database fails. */
json_t *api_query_json(struct req *r, int *rc, const char *sql, int n, const char *const *params);
void api_header(struct req *r, const char *name, const char *value);
/* HTTP's reason phrase of a status code ("Not Found"; "Unknown"). */
const char *api_status_reason(int code);
/* Reads up to n bytes of the request body as it arrives (see struct req):
 * the count, 0 at its end, -1 when the connection broke. */
long req_body_read(struct req *r, char *buf, size_t n);
/* Reads the whole body (at most [api] max_body_size, else 413) and parses
 * it as any JSON value into r->body; 0, or the error answered (400 with
 * `malformed` as its message). */
int api_read_json(struct req *r, const char *malformed);

/* Path parameter by template name ("server_id", "id"); NULL if absent. */
const char *req_param(const struct req *r, const char *name);
/* A query parameter (the last value when repeated, as Nova reads it), or NULL. */
const char *req_query(const struct req *r, const char *name);
/* A request header by HTTP name ("X-Auth-Token"), or NULL. */
const char *req_header(const struct req *r, const char *name);
/* True when the request's microversion is >= X.Y (never on /v2). */
static inline bool req_ver_ge(const struct req *r, int mv) {
    return r->version >= mv;
}

/* ---- pieces of the flow, each in its own file ---- */
/* router.c */
void router_init(void);
enum http_method router_method(const char *name);
const char *router_method_name(enum http_method m);
/* Finds the route for method+path (actions resolved later). Returns
 * 0 and the first matching row; 404 when no template matches; 405 and the
 * template's methods in allow (comma separated) when the method is wrong. */
int router_match(struct req *r, char *allow, size_t allowlen);
/* Resolves POST .../action by the body's key: 0, 400 (unknown action) or
 * 404 (outside its version range). */
int router_action(struct req *r);
/* True when `seg` is the first segment of some route (so it is not a
 * project id). */
bool router_is_collection(const char *seg, size_t len);

/* auth.c: fills r->ctx from the token; 0 or 401. */
int auth_init(void);
int auth_request(struct req *r);
/* policy check (policy.c): the rule called name, or when no rule has that
 * name the default check of p; the target is the caller's own project and
 * user. 0 or 403. */
int auth_policy(struct req *r, enum policy p, const char *name);
/* The same on an object owned by project_id / user_id (NULL: the
 * caller's own). */
int auth_policy_target(struct req *r, enum policy p, const char *name, const char *project_id,
                       const char *user_id);

/* schemas.c: request/query schemas per route, from [api] schemas. */
int schemas_load(const char *path);
const json_t *schemas_find(const struct route *rt, const char *kind, int version);

/* api.c: the whole flow for one request, and writing it out. */
/* Prepares r from the method, the raw request URI (path?query) and the
 * FastCGI environment (kept by reference). The body is set by the caller. */
void req_init(struct req *r, const char *method, const char *uri, char **envp);
/* req_init from the FastCGI parameters alone (REQUEST_METHOD, REQUEST_URI,
 * CONTENT_TYPE, CONTENT_LENGTH, the host for links); the caller sets
 * body_read. */
void req_from_params(struct req *r, char **envp);
/* Parses r->query into r->query_map (dispatch does it first). */
void req_parse_query(struct req *r);
/* Reads the microversion headers into r->version: 0, or 400/406 answered. */
int req_parse_version(struct req *r);
/* The front door of a compute request, after req_parse_query: prefix,
 * router, auth, microversion, body, action, schema, policy. 0 when
 * r->route's handler is to answer, else the status answered. */
int api_route(struct req *r);
void req_free(struct req *r);
void api_handle(struct req *r);
/* Appends the FastCGI response (Status, headers, blank line, body) to out. */
void api_render(struct req *r, struct sbuf *out);

/* metadata_api.c: the metadata service face (what guests read at
 * 169.254.169.254): the whole FastCGI response for r appended to out. */
void metadata_serve(struct req *r, struct sbuf *out);

/* paging.c: limit/marker pagination as Nova does it.
 * paging_limit reads ?limit (default and cap [api] max_limit = 1000);
 * paging_link returns the collection's "next" link list
 * [{"href": ".../<collection>?limit=N&marker=<last>", "rel": "next"}]
 * for a page that came back full, with the request's other query
 * parameters kept. */
long paging_limit(const struct req *r);
json_t *paging_link(const struct req *r, const char *collection, const char *last_marker);
/* The URL of a resource for "links": base + prefix + path (e.g. "/flavors/1"),
 * self (versioned) or bookmark (unversioned). */
json_t *resource_links(const struct req *r, const char *path);

/* quota.c: limits per project (and user), enforced inside the caller's
 * transaction so that concurrent creates never exceed them.
 * quota_reserve serialises concurrent checks of the same project and
 * resource (transaction advisory lock), counts the rows in use and answers
 * 0 when `delta` more fit, else 403 with Nova's quota message (or the
 * database error). Call it between db_begin and the INSERT. */
int quota_reserve(struct req *r, const char *project_id, const char *user_id,
                  const char *resource, long delta);
/* The same for one more member of a server group (counted per group). */
int quota_reserve_members(struct req *r, const char *project_id, const char *user_id,
                          const char *group_uuid, long delta);
/* The same for a resource counted per parent object: server group members
 * per group, security group rules per security group. */
int quota_reserve_in(struct req *r, const char *project_id, const char *user_id,
                     const char *resource, const char *parent_uuid, long delta);
/* The resources, as data (quota.c): the API name, the [quota] option and
 * Nova's default (no option: nova-network era, -1 unless set), the era that
 * decides which microversions show it, the usage counts and Nova's message
 * when over. per_user: counted per user (key pairs) or per group (members),
 * shown as 0 in use as Nova does. */
enum quota_era { QUOTA_CURRENT, QUOTA_NETWORK, QUOTA_INJECTED };
struct quota_resource {
    const char *name, *option;
    long def;
    enum quota_era era;
    const char *count_project, *count_user;
    bool per_user;
    const char *over;
};
#define QUOTA_MAX 32 /* room for every resource in limits[] arrays */
extern const struct quota_resource quota_resources[];
extern const size_t nquota_resources;
const struct quota_resource *quota_find(const char *name);
long quota_default(const struct quota_resource *q);
/* Every resource's limit into limits[nquota_resources] (table order): for
 * quota class `klass`, its rows then config; else the user's rows (user
 * not NULL), the project's, class "default"'s, then config. */
enum db_status quota_limits(const char *project, const char *user, const char *klass,
                            long *limits);
/* Every resource's usage in a project (or by one user in it), as the API
 * shows it. */
enum db_status quota_usage(const char *project, const char *user, long *in_use);

/* instance.c: the instance a request names, as the request may see it.
 * instance_find loads the live row of `uuid` when the caller may see it
 * (admins: any project; others: their own project) and answers 404
 * "Instance <uuid> could not be found." otherwise. instance_action_start
 * records an instance action (os-instance-actions) for this request; call
 * it inside the transaction that changes the instance. */
struct instance_ref {
    char uuid[37];
    char project_id[256], user_id[256];
    char vm_state[32], task_state[32]; /* task_state "" when none */
    char host[256];                    /* "" when not scheduled */
    int power_state;
    bool locked;
};
int instance_find(struct req *r, const char *uuid, struct instance_ref *out);
int instance_action_start(struct req *r, const char *uuid, const char *action);
/* Moves instance `uuid` into the task of states.c rule `rule` (a
 * conditional UPDATE; call it inside the request's transaction). DB_OK;
 * DB_ERROR with *rc = the 404 or Nova's 409 answered (naming `api_name`,
 * the API's action, when given; else compute.API's method); or the
 * database's status (DB_RETRY lets db_txn run the transaction again). */
enum db_status instance_apply_state(struct req *r, const char *uuid, const char *rule,
                                    const char *api_name, int *rc);

/* resources: every handler is named in routes.h (router.c declares them);
 * these few are called by api.c directly. */
int not_built(struct req *r);
int gone(struct req *r); /* 410: a route Nova has removed (routes.h gone_since) */
int versions_root(struct req *r);
/* The Image service API (Glance v2) over the built-in registry
 * (resources/image_service.c, its own route table): image_service_path
 * gives the "/images..." part of a path that is an image service path ("/"
 * for its version documents), else NULL; image_service answers it (auth
 * included). */
const char *image_service_path(const char *path);
int image_service(struct req *r, const char *rest);
int versions_show(struct req *r);

#endif
