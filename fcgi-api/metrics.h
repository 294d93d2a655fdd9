/* metrics.h — the API program's metrics face: Prometheus text at
 * GET /metrics on nginx's own listener (127.0.0.1:[CNOVA_METRICS_PORT],
 * 9774), never on the API's port.
 *
 * Counted by the workers in memory the master maps before it forks (so a
 * scrape sees the whole pool): requests by route template, method and
 * status; latency histograms by route; the pool's database and broker
 * reconnects; workers alive. Read from PostgreSQL and RabbitMQ at scrape
 * time: build durations by outcome, the outbox's depth and age, queue
 * depths, instances by state, services up by binary and host with the
 * reconnects each last reported. */
#ifndef CNOVA_METRICS_H
#define CNOVA_METRICS_H

#include "api.h"

/* Maps the counters (before fork). 0, or -1. */
int metrics_init(void);
/* One request answered (api_handle's end). */
void metrics_observe(const struct req *r, double seconds);
/* The master: workers configured and alive now. */
void metrics_workers(long configured, long alive);
/* The face (main.c's faces table). */
void metrics_serve(struct req *r, struct sbuf *out);

#endif
