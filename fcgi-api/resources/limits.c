/* limits.c — GET /limits: the project's quota limits and usage under
 * Nova's absolute-limit names ("rate" is always empty). Admins may ask for
 * another project with ?tenant_id. */
#include <string.h>

#include "api.h"

/* Nova's names per resource; `until` is the microversion that stops
 * showing it (0 = always). */
static const struct {
    const char *name, *resource;
    int until;
} absolute[] =
    {
        {"maxTotalRAMSize", "ram", 0},
        {"maxTotalInstances", "instances", 0},
        {"maxTotalCores", "cores", 0},
        {"maxTotalKeypairs", "key_pairs", 0},
        {"maxTotalFloatingIps", "floating_ips", MV(2, 36)},
        {"maxServerMeta", "metadata_items", 0},
        {"maxImageMeta", "metadata_items", MV(2, 39)},
        {"maxPersonality", "injected_files", MV(2, 57)},
        {"maxPersonalitySize", "injected_file_content_bytes", MV(2, 57)},
        {"maxSecurityGroups", "security_groups", MV(2, 36)},
        {"maxSecurityGroupRules", "security_group_rules", MV(2, 36)},
        {"maxServerGroups", "server_groups", 0},
        {"maxServerGroupMembers", "server_group_members", 0},
},
  used[] = {
      {"totalRAMUsed", "ram", 0},
      {"totalCoresUsed", "cores", 0},
      {"totalInstancesUsed", "instances", 0},
      {"totalFloatingIpsUsed", "floating_ips", MV(2, 36)},
      {"totalSecurityGroupsUsed", "security_groups", MV(2, 36)},
      {"totalServerGroupsUsed", "server_groups", 0},
};

int limits_index(struct req *r) {
    const char *project = r->ctx.project_id;
    json_t *tenant = json_object_get(r->query_map, "tenant_id");
    if (tenant) {
        int rc = auth_policy(r, POLICY_ADMIN, "os_compute_api:limits:other_project");
        if (rc) return rc;
        /* webob's GET.get: the last value */
        project = json_string_value(json_array_get(tenant, json_array_size(tenant) - 1));
    }
    long limits[QUOTA_MAX], in_use[QUOTA_MAX];
    enum db_status st = quota_limits(project, NULL, NULL, limits);
    if (!st) st = quota_usage(project, NULL, in_use);
    if (st) return api_db_error(r, st);
    json_t *abs = json_object();
    for (size_t i = 0; i < sizeof absolute / sizeof absolute[0]; i++) {
        if (absolute[i].until && req_ver_ge(r, absolute[i].until)) continue;
        size_t q = (size_t)(quota_find(absolute[i].resource) - quota_resources);
        json_object_set_new(abs, absolute[i].name, json_integer(limits[q]));
    }
    for (size_t i = 0; i < sizeof used / sizeof used[0]; i++) {
        if (used[i].until && req_ver_ge(r, used[i].until)) continue;
        size_t q = (size_t)(quota_find(used[i].resource) - quota_resources);
        json_object_set_new(abs, used[i].name, json_integer(in_use[q]));
    }
    return api_reply(r, 200, json_pack("{s:{s:[],s:o}}", "limits", "rate", "absolute", abs));
}
