/* router.c — path templates -> route rows.
 *
 * The table in routes.h is compiled once into templates (a path split into
 * segments, literal or {param}); a request path matches the template with
 * the most literal segments (so /servers/detail beats /servers/{id}), then
 * the row for its method. A template that matches with no row for the
 * method gives 405 and the template's methods for the Allow header. */
#include <string.h>
#include <strings.h>

#include "api.h"

#define MAX_SEGS 8

#define ROUTE(m, p, a, mn, mx, st, pol, pname, gone, h) int h(struct req *r);
#include "routes.h"
#undef ROUTE

const struct route routes[] = {
#define ROUTE(m, p, a, mn, mx, st, pol, pname, gone, h) {m, p, a, mn, mx, st, pol, pname, gone, h, #h},
#include "routes.h"
#undef ROUTE
};
const size_t nroutes = sizeof routes / sizeof routes[0];

struct tmpl {
    const char *path;
    int nseg;
    char seg[MAX_SEGS][48]; /* literal text, or the param name */
    bool param[MAX_SEGS];
    unsigned literal_mask; /* bit i set: segment i is literal (earlier = more significant) */
    size_t first, count;   /* its rows in routes[] (rows of a template are contiguous) */
};
static struct tmpl tmpls[sizeof routes / sizeof routes[0]];
static size_t ntmpls;

static const char *method_names[] = {"GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"};

enum http_method router_method(const char *name) {
    for (int i = 0; i < METHOD_OTHER; i++)
        if (!strcmp(name, method_names[i])) return (enum http_method)i;
    return METHOD_OTHER;
}

const char *router_method_name(enum http_method m) {
    return m < METHOD_OTHER ? method_names[m] : "OTHER";
}

void router_init(void) {
    if (ntmpls) return;
    for (size_t i = 0; i < nroutes; i++) {
        struct tmpl *t = ntmpls ? &tmpls[ntmpls - 1] : NULL;
        if (t && !strcmp(t->path, routes[i].path)) {
            t->count++;
            continue;
        }
        t = &tmpls[ntmpls++];
        *t = (struct tmpl){.path = routes[i].path, .first = i, .count = 1};
        const char *p = routes[i].path;
        while (*p == '/') {
            p++;
            size_t n = strcspn(p, "/");
            if (!n) break;
            bool param = p[0] == '{';
            snprintf(t->seg[t->nseg], sizeof t->seg[0], "%.*s", (int)(param ? n - 2 : n),
                     param ? p + 1 : p);
            t->param[t->nseg] = param;
            if (!param) t->literal_mask |= 1u << (MAX_SEGS - 1 - t->nseg);
            t->nseg++;
            p += n;
        }
    }
}

bool router_is_collection(const char *seg, size_t len) {
    for (size_t i = 0; i < ntmpls; i++)
        if (tmpls[i].nseg && !tmpls[i].param[0] && strlen(tmpls[i].seg[0]) == len &&
            !memcmp(tmpls[i].seg[0], seg, len))
            return true;
    return false;
}

/* Splits r->path in place into segments; returns their count or -1. */
static int split(char *path, char *segs[MAX_SEGS]) {
    int n = 0;
    for (char *p = path; *p;) {
        if (*p == '/') {
            *p++ = 0;
            continue;
        }
        if (n == MAX_SEGS) return -1;
        segs[n++] = p;
        p += strcspn(p, "/");
    }
    return n;
}

int router_match(struct req *r, char *allow, size_t allowlen) {
    char copy[2048];
    if (strlen(r->path) >= sizeof copy) return 404;
    strcpy(copy, r->path);
    char *segs[MAX_SEGS];
    int n = split(copy, segs);
    if (n < 0) return 404;
    const struct tmpl *best = NULL;
    for (size_t i = 0; i < ntmpls; i++) {
        const struct tmpl *t = &tmpls[i];
        if (t->nseg != n) continue;
        int k = 0;
        while (k < n && (t->param[k] || !strcmp(t->seg[k], segs[k]))) k++;
        if (k == n && (!best || t->literal_mask > best->literal_mask)) best = t;
    }
    if (!best) return 404;
    const struct route *row = NULL;
    allow[0] = 0;
    for (size_t i = best->first; i < best->first + best->count; i++) {
        if (routes[i].method == r->method && !row) row = &routes[i];
        const char *m = router_method_name(routes[i].method);
        if (!strstr(allow, m)) {
            size_t len = strlen(allow);
            snprintf(allow + len, allowlen - len, "%s%s", len ? ", " : "", m);
        }
    }
    if (!row) return 405;
    r->route = row;
    r->nparams = 0;
    for (int k = 0; k < n && r->nparams < MAX_PARAMS; k++)
        if (best->param[k]) {
            r->param_names[r->nparams] = best->seg[k];
            r->params[r->nparams++] = strdup(segs[k]);
        }
    return 0;
}

int router_action(struct req *r) {
    const struct route *rt = r->route;
    if (!rt->action) return 0;
    const char *key = NULL;
    if (json_is_object(r->body) && json_object_size(r->body) > 0)
        key = json_object_iter_key(json_object_iter(r->body));
    /* The rows of one path are contiguous: scan the neighbours of the
     * first action row. */
    const struct route *first = rt;
    while (first > routes && first[-1].action && !strcmp(first[-1].path, rt->path)) first--;
    for (const struct route *a = first; a < routes + nroutes && a->action && !strcmp(a->path, rt->path);
         a++) {
        if (!key || strcmp(a->action, key)) continue;
        int v = r->legacy ? MV_MIN : r->version;
        if (v < a->min || (a->max != MV_OPEN && v > a->max))
            return api_error(r, 404, "The resource could not be found.");
        r->route = a;
        return 0;
    }
    return api_error(r, 400, "There is no such action: %s", key ? key : "");
}

const char *req_param(const struct req *r, const char *name) {
    for (int i = 0; i < r->nparams; i++)
        if (!strcmp(r->param_names[i], name)) return r->params[i];
    return NULL;
}
