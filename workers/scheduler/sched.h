/* sched.h — the filter scheduler's vocabulary: a candidate host (one
 * compute node as the database has it), the request being placed, and the
 * three steps: filters.c drops hosts that cannot take the request,
 * weighers.c orders the rest, claim.c reserves the resources atomically. */
#ifndef CNOVA_SCHED_H
#define CNOVA_SCHED_H

#include <jansson.h>

struct sched_host {
    long long id;
    char host[256], node[256];
    char hypervisor_type[32], arch[32];
    char az[256];
    long long vcpus, vcpus_used, memory_mb, memory_mb_used, local_gb, local_gb_used;
    long long reserved_mb, running_vms;
    double cpu_ratio, ram_ratio, disk_ratio;
    int service_up, service_disabled;
    json_t *aggregate_meta; /* {key: [values of every aggregate of the host]} */
    double weight;
};

struct sched_request {
    const char *uuid;
    long long vcpus, memory_mb, disk_gb;
    const char *az;                       /* requested zone or NULL */
    json_t *extra_specs;                  /* flavor extra specs (object) */
    json_t *image_props;                  /* request_spec.image.properties (object) */
    const char *group_policy;             /* affinity, anti-affinity, soft-... or NULL */
    long long max_per_host;               /* anti-affinity rule max_server_per_host */
    json_t *group_hosts;                  /* {host: members there} */
    json_t *same_hosts, *different_hosts; /* arrays of host names, or NULL */
    const char *migration_id;             /* a move: the source's claim goes to it */
};

/* A filter says whether the host can take the request. */
struct sched_filter {
    const char *name;
    int (*passes)(const struct sched_host *h, const struct sched_request *r);
};
/* Keeps the hosts that pass every filter of [filter_scheduler]
 * enabled_filters (default: all), compacting hosts[]; returns how many. */
int sched_filter(struct sched_host *hosts, int n, const struct sched_request *r);

/* A weigher gives a raw value; values are normalised to 0..1 over the hosts
 * and multiplied by the weigher's [filter_scheduler] multiplier. */
struct sched_weigher {
    const char *name;
    const char *multiplier_option;
    double (*value)(const struct sched_host *h, const struct sched_request *r);
};
/* Sorts hosts[] best first. */
void sched_weigh(struct sched_host *hosts, int n, const struct sched_request *r);

/* Adds the request to the node's usage if it still fits (one conditional
 * UPDATE), holding the instance's row meanwhile. Returns 1 when claimed, 0
 * when it no longer fits, -2 when the instance is deleted, -1 on a
 * database error. */
int sched_claim(const struct sched_host *h, const struct sched_request *r);

#endif
