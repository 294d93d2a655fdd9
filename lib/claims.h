/* claims.h — giving back the resources an instance holds on a compute node.
 * A claim is written by the scheduler (compute_nodes.*_used += request, and
 * instances.claim = what was added) and given back here, by the scheduler
 * (replacing an old claim) and by the conductor (failed build, delete). */
#ifndef CNOVA_CLAIMS_H
#define CNOVA_CLAIMS_H

#include "db.h"

/* Clears instance `uuid`'s claim and subtracts it from its node, in one
 * statement, so that a claim goes back exactly once however often this
 * runs. With `unplaced_node_id`, only a claim on that node of an instance
 * not yet placed on a host (host IS NULL) is given back. */
enum db_status claims_release(const char *uuid, const char *unplaced_node_id);

/* Moves (resize, cold migration): the source's claim goes to migration
 * `migration_id` (Nova's migration-held allocation) before the scheduler
 * claims the target for the instance. claims_hold_for_move hands the
 * instance's claim to the migration when the migration holds none yet
 * (else gives back the target claim of an earlier try);
 * claims_release_migration gives back the claim of one migration (or of
 * every migration of `instance_uuid`, one of the two NULL): confirm,
 * delete; claims_revert_move gives back the instance's (target) claim and
 * hands the migration's back to the instance: revert, failure (a no-op
 * when nothing was handed over). An instance without a claim hands over
 * an empty one ({}), which gives nothing back. Each runs inside the
 * caller's transaction, if any. */
enum db_status claims_hold_for_move(const char *uuid, const char *migration_id);
enum db_status claims_release_migration(const char *migration_id, const char *instance_uuid);
enum db_status claims_revert_move(const char *uuid, const char *migration_id);

#endif
