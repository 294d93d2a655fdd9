/* claims.c — the statements that give claims back (see claims.h): an
 * instance's, a migration's, and the hand-overs of a move; shared by the
 * scheduler and the conductor. */
#include "claims.h"

/* What a claim `c` (a row of the CTE "clr") gives back to its node. */
#define GIVE_BACK                                                                                  \
    "UPDATE compute_nodes cn SET "                                                                 \
    "vcpus_used = GREATEST(cn.vcpus_used - (clr.c->>'vcpus')::int, 0), "                           \
    "memory_mb_used = GREATEST(cn.memory_mb_used - (clr.c->>'memory_mb')::int, 0), "               \
    "local_gb_used = GREATEST(cn.local_gb_used - (clr.c->>'disk_gb')::int, 0), "                   \
    "running_vms = GREATEST(cn.running_vms - 1, 0), updated_at = now() "                           \
    "FROM clr WHERE cn.id = (clr.c->>'node_id')::int"

enum db_status claims_release(const char *uuid, const char *unplaced_node_id) {
    const char *p[] = {uuid, unplaced_node_id};
    return db_exec(
        "WITH old AS (SELECT id, claim FROM instances WHERE uuid = $1 AND claim IS NOT NULL "
        "AND ($2::text IS NULL OR (claim->>'node_id' = $2 AND host IS NULL)) FOR UPDATE), clr AS "
        "(UPDATE instances i SET claim = NULL FROM old WHERE i.id = old.id "
        "RETURNING old.claim AS c) " GIVE_BACK,
        2, p);
}

enum db_status claims_hold_for_move(const char *uuid, const char *migration_id) {
    const char *p[] = {uuid, migration_id};
    enum db_status st = db_exec(
        "WITH m AS (UPDATE migrations mg SET claim = COALESCE(i.claim, '{}'::jsonb) "
        "FROM instances i WHERE mg.id = $2::bigint AND mg.claim IS NULL "
        "AND i.uuid = $1::uuid RETURNING mg.id) "
        "UPDATE instances SET claim = NULL WHERE uuid = $1::uuid AND EXISTS (SELECT 1 FROM m)",
        2, p);
    /* moved: nothing left to release; else a target claim of an earlier try */
    return st ? st : claims_release(uuid, NULL);
}

enum db_status claims_release_migration(const char *migration_id, const char *instance_uuid) {
    const char *p[] = {migration_id, instance_uuid};
    return db_exec("WITH old AS (SELECT id, claim FROM migrations WHERE claim IS NOT NULL "
                   "AND ($1::bigint IS NULL OR id = $1::bigint) "
                   "AND ($2::uuid IS NULL OR instance_uuid = $2::uuid) FOR UPDATE), "
                   "clr AS (UPDATE migrations m SET claim = NULL FROM old WHERE m.id = old.id "
                   "RETURNING old.claim AS c) " GIVE_BACK,
                   2, p);
}

enum db_status claims_revert_move(const char *uuid, const char *migration_id) {
    /* nothing was handed over (no target was ever claimed): nothing to undo */
    const char *p[] = {uuid, migration_id};
    PGresult *r = NULL;
    enum db_status st = db_query(&r,
                                 "SELECT 1 FROM migrations WHERE id = $1::bigint AND "
                                 "claim IS NOT NULL FOR UPDATE",
                                 1, p + 1);
    if (st) return st;
    int held = PQntuples(r);
    PQclear(r);
    if (!held) return DB_OK;
    if ((st = claims_release(uuid, NULL))) return st;
    return db_exec("WITH old AS (SELECT id, claim FROM migrations WHERE id = $2::bigint "
                   "AND claim IS NOT NULL FOR UPDATE), "
                   "clr AS (UPDATE migrations m SET claim = NULL FROM old WHERE m.id = old.id "
                   "RETURNING old.claim AS c) "
                   "UPDATE instances i SET claim = NULLIF(clr.c, '{}'::jsonb) FROM clr "
                   "WHERE i.uuid = $1::uuid",
                   2, p);
}
