/* filters.c — the scheduler's filters, one function each, in a table of
 * {name, function} named as Nova names them. [filter_scheduler]
 * enabled_filters (comma-separated; default: all) picks which run. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cnova.h"
#include "sched.h"

#define AGG_SCOPE "aggregate_instance_extra_specs"

static int compute_filter(const struct sched_host *h, const struct sched_request *r) {
    return h->service_up && !h->service_disabled;
}

static int az_filter(const struct sched_host *h, const struct sched_request *r) {
    return !r->az || !*r->az || !strcmp(r->az, h->az);
}

static int ram_filter(const struct sched_host *h, const struct sched_request *r) {
    return h->memory_mb_used + r->memory_mb <= h->memory_mb * h->ram_ratio - h->reserved_mb;
}

static int core_filter(const struct sched_host *h, const struct sched_request *r) {
    return h->vcpus_used + r->vcpus <= h->vcpus * h->cpu_ratio;
}

static int disk_filter(const struct sched_host *h, const struct sched_request *r) {
    return h->local_gb_used + r->disk_gb <= h->local_gb * h->disk_ratio;
}

static const char *prop(json_t *props, const char *a, const char *b) {
    const char *v = json_string_value(json_object_get(props, a));
    return v ? v : json_string_value(json_object_get(props, b));
}

/* Image properties the host must support: the hypervisor type (a QEMU host
 * runs "qemu" and "kvm" guests) and the architecture. */
static int image_props_filter(const struct sched_host *h, const struct sched_request *r) {
    const char *hv = prop(r->image_props, "img_hv_type", "hypervisor_type");
    const char *arch = prop(r->image_props, "hw_architecture", "architecture");
    if (hv && strcasecmp(hv, h->hypervisor_type) &&
        !(!strcasecmp(hv, "kvm") && !strcasecmp(h->hypervisor_type, "QEMU")))
        return 0;
    return !arch || !strcasecmp(arch, h->arch);
}

static int group_affinity_filter(const struct sched_host *h, const struct sched_request *r) {
    if (!r->group_policy || strcmp(r->group_policy, "affinity")) return 1;
    return json_object_size(r->group_hosts) == 0 || json_object_get(r->group_hosts, h->host);
}

static int group_anti_affinity_filter(const struct sched_host *h, const struct sched_request *r) {
    if (!r->group_policy || strcmp(r->group_policy, "anti-affinity")) return 1;
    return json_integer_value(json_object_get(r->group_hosts, h->host)) < r->max_per_host;
}

static int in_list(json_t *list, const char *host) {
    size_t i;
    json_t *v;
    json_array_foreach(list, i, v) {
        if (json_string_value(v) && !strcmp(json_string_value(v), host)) return 1;
    }
    return 0;
}

static int same_host_filter(const struct sched_host *h, const struct sched_request *r) {
    return !r->same_hosts || in_list(r->same_hosts, h->host);
}

static int different_host_filter(const struct sched_host *h, const struct sched_request *r) {
    return !r->different_hosts || !in_list(r->different_hosts, h->host);
}

/* Nova's extra-spec operators: "= n" (at least), "== n", "!= n", ">= n",
 * "<= n", "s== s", "s!= s", "s>= s", "s> s", "s<= s", "s< s", "<in> s",
 * "<or> a <or> b"; anything else is plain string equality. */
static int spec_match(const char *value, const char *req) {
    static const char *ops[] = {"s==",  "s!=", "s>=", "s<=", "s>", "s<", "<in>",
                                "<or>", "==",  "!=",  ">=",  "<=", "="};
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++) {
        size_t n = strlen(ops[i]);
        if (strncmp(req, ops[i], n) || req[n] != ' ') continue;
        const char *arg = req + n + 1;
        double a = atof(value), b = atof(arg);
        int c = strcmp(value, arg);
        switch (i) {
        case 0:
            return c == 0;
        case 1:
            return c != 0;
        case 2:
            return c >= 0;
        case 3:
            return c <= 0;
        case 4:
            return c > 0;
        case 5:
            return c < 0;
        case 6:
            return strstr(value, arg) != NULL;
        case 7: { /* "<or> a <or> b" */
            char *copy = strdup(req);
            int hit = 0;
            for (char *save = NULL, *t = strtok_r(copy, " ", &save); t && !hit;
                 t = strtok_r(NULL, " ", &save))
                hit = strcmp(t, "<or>") && !strcmp(t, value);
            free(copy);
            return hit;
        }
        case 8:
            return a == b;
        case 9:
            return a != b;
        case 10:
            return a >= b;
        case 11:
            return a <= b;
        case 12:
            return a >= b;
        }
    }
    return !strcmp(value, req);
}

/* Flavor extra specs scoped "aggregate_instance_extra_specs:" (or not
 * scoped at all) must match the metadata of one of the host's aggregates. */
static int aggregate_extra_specs_filter(const struct sched_host *h, const struct sched_request *r) {
    const char *spec; /* the iterator's own key: never reassigned */
    json_t *want;
    json_object_foreach(r->extra_specs, spec, want) {
        const char *key = spec, *colon = strchr(spec, ':');
        if (colon) {
            if ((size_t)(colon - spec) != strlen(AGG_SCOPE) ||
                strncmp(spec, AGG_SCOPE, strlen(AGG_SCOPE)))
                continue;
            key = colon + 1;
        }
        const char *req = json_string_value(want);
        json_t *vals = json_object_get(h->aggregate_meta, key);
        if (!req || json_array_size(vals) == 0) return 0;
        int hit = 0;
        size_t i;
        json_t *v;
        json_array_foreach(vals, i, v) {
            if (!hit && json_string_value(v)) hit = spec_match(json_string_value(v), req);
        }
        if (!hit) return 0;
    }
    return 1;
}

static const struct sched_filter filters[] = {
    {"ComputeFilter", compute_filter},
    {"AvailabilityZoneFilter", az_filter},
    {"RamFilter", ram_filter},
    {"CoreFilter", core_filter},
    {"DiskFilter", disk_filter},
    {"ImagePropertiesFilter", image_props_filter},
    {"ServerGroupAffinityFilter", group_affinity_filter},
    {"ServerGroupAntiAffinityFilter", group_anti_affinity_filter},
    {"SameHostFilter", same_host_filter},
    {"DifferentHostFilter", different_host_filter},
    {"AggregateInstanceExtraSpecsFilter", aggregate_extra_specs_filter},
};

/* Is `name` in the comma-separated list (whitespace allowed)? */
static int enabled(const char *list, const char *name) {
    if (!list || !*list) return 1;
    size_t n = strlen(name);
    for (const char *p = list; *p;) {
        while (*p == ' ' || *p == ',')
            p++;
        const char *e = p;
        while (*e && *e != ',' && *e != ' ')
            e++;
        if ((size_t)(e - p) == n && !strncmp(p, name, n)) return 1;
        p = e;
    }
    return 0;
}

int sched_filter(struct sched_host *hosts, int n, const struct sched_request *r) {
    const char *list = config_get("filter_scheduler", "enabled_filters", "");
    for (size_t f = 0; f < sizeof filters / sizeof filters[0]; f++) {
        if (!enabled(list, filters[f].name)) continue;
        int k = 0;
        for (int i = 0; i < n; i++) {
            if (filters[f].passes(&hosts[i], r))
                hosts[k++] = hosts[i];
            else
                json_decref(hosts[i].aggregate_meta);
        }
        if (k < n) log_debug("%s: %d of %d hosts left for %s", filters[f].name, k, n, r->uuid);
        n = k;
    }
    return n;
}
