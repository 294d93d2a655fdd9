/* extensions.c — /extensions: the fixed list of v2-era extension names that
 * Nova still serves for old clients (the list itself is data, in
 * extensions.h). Under /v2 the "v2.1 compatible" list adds the legacy-only
 * rows. Every extension has the same fake namespace, date and no links. */
#include <string.h>

#include "api.h"

static const struct extension {
    const char *alias, *name, *description;
    bool legacy_only;
} extensions[] = {
#define EXTENSION(alias, name, description, legacy) {alias, name, description, legacy},
#include "extensions.h"
#undef EXTENSION
};

static json_t *extension_json(const struct extension *e) {
    return json_pack("{s:s,s:s,s:[],s:s,s:s,s:s}", "alias", e->alias, "description", e->description,
                     "links", "name", e->name, "namespace",
                     "http://docs.openstack.org/compute/ext/fake_xml", "updated",
                     "2014-12-03T00:00:00Z");
}

static bool served(const struct req *r, const struct extension *e) {
    return r->legacy || !e->legacy_only;
}

int extensions_index(struct req *r) {
    json_t *list = json_array();
    for (size_t i = 0; i < sizeof extensions / sizeof extensions[0]; i++)
        if (served(r, &extensions[i])) json_array_append_new(list, extension_json(&extensions[i]));
    return api_reply(r, 200, json_pack("{s:o}", "extensions", list));
}

int extensions_show(struct req *r) {
    const char *alias = req_param(r, "id");
    for (size_t i = 0; i < sizeof extensions / sizeof extensions[0]; i++)
        if (served(r, &extensions[i]) && !strcmp(extensions[i].alias, alias))
            return api_reply(r, 200,
                             json_pack("{s:o}", "extension", extension_json(&extensions[i])));
    return api_error(r, 404, "The resource could not be found.");
}
