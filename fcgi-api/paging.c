/* paging.c — limit/marker pagination and resource links, as Nova builds
 * them: a page that came back full gets a "next" link carrying the same
 * query with marker = the last item, under the same version and project
 * prefix the request used. */
#include <ctype.h>
#include <string.h>

#include "api.h"

long paging_limit(const struct req *r) {
    long max = config_int("api", "max_limit", 1000);
    const char *v = req_query(r, "limit");
    long n = v ? strtol(v, NULL, 10) : max;
    return n > 0 && n < max ? n : max;
}

static void url_encode(struct sbuf *b, const char *s) {
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (isalnum(c) || strchr("-_.~", c))
            sbuf_add(b, (const char *)&c, 1);
        else
            sbuf_addf(b, "%%%02X", c);
    }
}

json_t *paging_link(const struct req *r, const char *collection, const char *last_marker) {
    struct sbuf b = {0};
    sbuf_addf(&b, "%s%s%s", r->base_url, r->prefix, collection);
    char sep = '?';
    const char *key;
    json_t *vals;
    json_object_foreach(r->query_map, key, vals) {
        if (!strcmp(key, "marker")) continue;
        size_t i;
        json_t *v;
        json_array_foreach(vals, i, v) {
            sbuf_add(&b, &sep, 1);
            url_encode(&b, key);
            sbuf_add(&b, "=", 1);
            url_encode(&b, json_string_value(v));
            sep = '&';
        }
    }
    sbuf_add(&b, &sep, 1);
    sbuf_add(&b, "marker=", 7);
    url_encode(&b, last_marker);
    json_t *links = json_pack("[{s:s,s:s}]", "href", b.s, "rel", "next");
    sbuf_free(&b);
    return links;
}

json_t *resource_links(const struct req *r, const char *path) {
    /* bookmark: the same resource without the version segment */
    const char *project = r->url_project[0] ? "/" : "";
    char self[1024], bookmark[1024];
    snprintf(self, sizeof self, "%s%s%s", r->base_url, r->prefix, path);
    snprintf(bookmark, sizeof bookmark, "%s%s%s%s", r->base_url, project, r->url_project, path);
    return json_pack("[{s:s,s:s},{s:s,s:s}]", "href", self, "rel", "self", "href", bookmark, "rel",
                     "bookmark");
}
