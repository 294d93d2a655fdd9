/* schemas.c — Nova's request and query schemas as data.
 *
 * [api] schemas (api/request-schemas.json, generated from the API contract)
 * lists {method, path, action, kind, min, max, schema}. At start-up each is
 * attached to its row of the route table, so a request finds the schema for
 * its route and microversion with one short scan. Loaded in the master
 * before fork: the workers share the parsed tree. */
#include <string.h>

#include "api.h"

static json_t *doc;
static json_t **by_route; /* by_route[i]: array of entries for routes[i] */

static int version_of(const json_t *v, int open) {
    return json_is_string(v) ? mv_parse(json_string_value(v)) : open;
}

int schemas_load(const char *path) {
    json_error_t err;
    doc = json_load_file(path, 0, &err);
    if (!doc) {
        log_error("cannot load schemas %s: %s (line %d)", path, err.text, err.line);
        return -1;
    }
    by_route = calloc(nroutes, sizeof *by_route);
    size_t i;
    json_t *e;
    json_array_foreach(json_object_get(doc, "schemas"), i, e) {
        const char *m = json_string_value(json_object_get(e, "method"));
        const char *p = json_string_value(json_object_get(e, "path"));
        const char *a = json_string_value(json_object_get(e, "action"));
        for (size_t k = 0; k < nroutes; k++) {
            const struct route *rt = &routes[k];
            if (strcmp(router_method_name(rt->method), m) || strcmp(rt->path, p)) continue;
            if ((a == NULL) != (rt->action == NULL) || (a && strcmp(a, rt->action))) continue;
            if (!by_route[k]) by_route[k] = json_array();
            json_array_append(by_route[k], e);
        }
    }
    return 0;
}

const json_t *schemas_find(const struct route *rt, const char *kind, int version) {
    if (!by_route) return NULL;
    const json_t *list = by_route[rt - routes];
    size_t i;
    const json_t *e;
    json_array_foreach(list, i, e) {
        if (strcmp(json_string_value(json_object_get(e, "kind")), kind)) continue;
        int lo = version_of(json_object_get(e, "min"), MV_LEGACY);
        int hi = version_of(json_object_get(e, "max"), 1 << 30);
        if (version >= lo && version <= hi) return json_object_get(e, "schema");
    }
    return NULL;
}
