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

#endif
