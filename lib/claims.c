/* claims.c — the one statement that gives an instance's claim back (see
 * claims.h); shared by the scheduler and the conductor. */
#include "claims.h"

enum db_status claims_release(const char *uuid, const char *unplaced_node_id) {
    const char *p[] = {uuid, unplaced_node_id};
    return db_exec(
        "WITH old AS (SELECT id, claim FROM instances WHERE uuid = $1 AND claim IS NOT NULL "
        "AND ($2::text IS NULL OR (claim->>'node_id' = $2 AND host IS NULL)) FOR UPDATE), clr AS "
        "(UPDATE instances i SET claim = NULL FROM old WHERE i.id = old.id "
        "RETURNING old.claim AS c) "
        "UPDATE compute_nodes cn SET "
        "vcpus_used = GREATEST(cn.vcpus_used - (clr.c->>'vcpus')::int, 0), "
        "memory_mb_used = GREATEST(cn.memory_mb_used - (clr.c->>'memory_mb')::int, 0), "
        "local_gb_used = GREATEST(cn.local_gb_used - (clr.c->>'disk_gb')::int, 0), "
        "running_vms = GREATEST(cn.running_vms - 1, 0), updated_at = now() "
        "FROM clr WHERE cn.id = (clr.c->>'node_id')::int",
        2, p);
}
