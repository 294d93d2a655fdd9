/* versions.c — the version documents: GET / (300, both versions),
 * GET /v2.1/ and GET /v2/ (one version each), GET /v2.1/versions/{id}.
 * The two versions are data; links are built from the request's base URL. */
#include <string.h>

#include "api.h"

static const struct version {
    const char *id, *status, *version, *min_version, *updated, *path, *media;
} versions[] = {
    {"v2.0", "DEPRECATED", "", "", "2025-07-04T12:00:00Z", "/v2/",
     "application/vnd.openstack.compute+json;version=2"},
    {"v2.1", "CURRENT", "2.104", "2.1", "2013-07-23T11:33:21Z", "/v2.1/",
     "application/vnd.openstack.compute+json;version=2.1"},
};

static json_t *version_json(const struct req *r, const struct version *v, bool full) {
    char href[512];
    snprintf(href, sizeof href, "%s%s", r->base_url, v->path);
    json_t *links = json_pack("[{s:s,s:s}]", "href", href, "rel", "self");
    json_t *o = json_pack("{s:s,s:o,s:s,s:s,s:s,s:s}", "id", v->id, "links", links, "status",
                          v->status, "version", v->version, "min_version", v->min_version,
                          "updated", v->updated);
    if (full) {
        json_array_append_new(links, json_pack("{s:s,s:s,s:s}", "href", "http://docs.openstack.org/",
                                               "rel", "describedby", "type", "text/html"));
        json_object_set_new(o, "media-types",
                            json_pack("[{s:s,s:s}]", "base", "application/json", "type", v->media));
    }
    return o;
}

int versions_root(struct req *r) {
    if (r->method != GET) {
        api_header(r, "Allow", "GET");
        return api_error(r, 405, "The method is not allowed for the requested URL.");
    }
    json_t *list = json_array();
    for (size_t i = 0; i < sizeof versions / sizeof versions[0]; i++)
        json_array_append_new(list, version_json(r, &versions[i], false));
    return api_reply(r, 300, json_pack("{s:o}", "versions", list));
}

int versions_show(struct req *r) {
    const char *id = req_param(r, "id");
    const struct version *v = &versions[r->legacy ? 0 : 1];
    if (id) {
        v = NULL;
        for (size_t i = 0; i < sizeof versions / sizeof versions[0]; i++)
            if (!strcmp(versions[i].id, id)) v = &versions[i];
        if (!v) return api_error(r, 404, "Version %s could not be found.", id);
    }
    return api_reply(r, 200, json_pack("{s:o}", "version", version_json(r, v, true)));
}
