/* weighers.c — the scheduler's weighers, as a table of {name, multiplier
 * option, function}. Each raw value is normalised to 0..1 over the
 * candidate hosts and multiplied by its [filter_scheduler] multiplier (1.0:
 * spread onto the emptiest host; negative: stack). */
#include <stdlib.h>

#include "cnova.h"
#include "sched.h"

static double free_ram(const struct sched_host *h, const struct sched_request *r) {
    return (double)(h->memory_mb - h->reserved_mb - h->memory_mb_used);
}

static double free_vcpus(const struct sched_host *h, const struct sched_request *r) {
    return h->vcpus * h->cpu_ratio - (double)h->vcpus_used;
}

static double free_disk(const struct sched_host *h, const struct sched_request *r) {
    return (double)(h->local_gb - h->local_gb_used);
}

static const struct sched_weigher weighers[] = {
    {"RAMWeigher", "ram_weight_multiplier", free_ram},
    {"CPUWeigher", "cpu_weight_multiplier", free_vcpus},
    {"DiskWeigher", "disk_weight_multiplier", free_disk},
};

static int by_weight(const void *a, const void *b) {
    const struct sched_host *x = a, *y = b;
    if (x->weight != y->weight) return x->weight < y->weight ? 1 : -1;
    return x->id < y->id ? -1 : x->id > y->id;
}

void sched_weigh(struct sched_host *hosts, int n, const struct sched_request *r) {
    if (n < 1) return;
    double *raw = calloc((size_t)n, sizeof *raw);
    for (int i = 0; i < n; i++)
        hosts[i].weight = 0;
    for (size_t w = 0; w < sizeof weighers / sizeof weighers[0]; w++) {
        double mult = config_double("filter_scheduler", weighers[w].multiplier_option, 1.0);
        if (mult == 0) continue;
        double lo = 0, hi = 0;
        for (int i = 0; i < n; i++) {
            raw[i] = weighers[w].value(&hosts[i], r);
            if (i == 0 || raw[i] < lo) lo = raw[i];
            if (i == 0 || raw[i] > hi) hi = raw[i];
        }
        for (int i = 0; i < n; i++)
            hosts[i].weight += hi > lo ? mult * (raw[i] - lo) / (hi - lo) : 0;
    }
    free(raw);
    qsort(hosts, (size_t)n, sizeof *hosts, by_weight);
}
