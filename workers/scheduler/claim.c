/* claim.c — the scheduler's claim: one conditional UPDATE of the chosen
 * compute node that adds the request to its usage only while used + request
 * stays within total x allocation ratio, so concurrent schedulers (and
 * stale host views) can never over-commit a node. The claim is recorded on
 * the instance (instances.claim) in the same transaction, replacing any
 * earlier one, so a claim whose conductor died before using it is given
 * back by the next scheduling of that instance instead of leaking (the
 * instance's row is locked first, so two schedulings of one instance take
 * turns rather than both claiming and one overwriting the other). For a
 * move (resize, cold migration) the instance's claim on the source is
 * handed to the migration first instead of given back. */
#include <stdio.h>

#include "claims.h"
#include "cnova.h"
#include "sched.h"

int sched_claim(const struct sched_host *h, const struct sched_request *r) {
    char id[24], v[24], m[24], d[24];
    snprintf(id, sizeof id, "%lld", h->id);
    snprintf(v, sizeof v, "%lld", r->vcpus);
    snprintf(m, sizeof m, "%lld", r->memory_mb);
    snprintf(d, sizeof d, "%lld", r->disk_gb);
    const char *p[] = {id, v, m, d};
    const char *u[] = {r->uuid, id, v, m, d};
    if (db_begin() != DB_OK) return -1;
    /* The instance's row first, whatever its claim: two schedulings of one
     * instance (a build delivered twice) then take turns, and the second
     * gives the first's claim back instead of overwriting it. */
    PGresult *res = NULL;
    if (db_query(&res, "SELECT 1 FROM instances WHERE uuid = $1 AND deleted = 0 FOR UPDATE", 1,
                 u) != DB_OK) {
        log_error("claim for %s: %s", r->uuid, db_errmsg());
        db_rollback();
        return -1;
    }
    int live = PQntuples(res);
    PQclear(res);
    if (!live) { /* deleted meanwhile: nothing to claim for */
        db_rollback();
        return -2;
    }
    enum db_status st = r->migration_id ? claims_hold_for_move(r->uuid, r->migration_id)
                                        : claims_release(r->uuid, NULL);
    if (st != DB_OK) {
        log_error("claim for %s: %s", r->uuid, db_errmsg());
        db_rollback();
        return -1;
    }
    if (db_query(&res,
                 "UPDATE compute_nodes SET vcpus_used = vcpus_used + $2::int, "
                 "memory_mb_used = memory_mb_used + $3::int, "
                 "local_gb_used = local_gb_used + $4::int, running_vms = running_vms + 1, "
                 "updated_at = now() WHERE id = $1::int AND deleted = 0 AND "
                 "vcpus_used + $2::int <= vcpus * cpu_allocation_ratio AND "
                 "memory_mb_used + $3::int <= memory_mb * ram_allocation_ratio - "
                 "reserved_host_memory_mb AND "
                 "local_gb_used + $4::int <= local_gb * disk_allocation_ratio RETURNING id",
                 4, p) != DB_OK) {
        log_error("claim on %s: %s", h->host, db_errmsg());
        db_rollback();
        return -1;
    }
    int n = PQntuples(res);
    PQclear(res);
    if (n && db_exec("UPDATE instances SET claim = jsonb_build_object('node_id', $2::int, "
                     "'vcpus', $3::int, 'memory_mb', $4::int, 'disk_gb', $5::int) "
                     "WHERE uuid = $1",
                     5, u) != DB_OK) {
        log_error("claim for %s: %s", r->uuid, db_errmsg());
        db_rollback();
        return -1;
    }
    if (db_commit() != DB_OK) return -1;
    return n > 0;
}
