/* volumes.h — what volumes.c (os-volumes, os-snapshots: the built-in block
 * storage) shares with volume_attachments.c. */
#ifndef CNOVA_VOLUMES_H
#define CNOVA_VOLUMES_H

#include "api.h"

/* One live volume as the attachment code needs it. */
struct volume_ref {
    char id[37];
    char status[32];
    char project_id[256];
};

/* Loads live volume `id` when the caller may see it (admins: any project;
 * others: their own) and answers 404 "Volume <id> could not be found."
 * otherwise, as Nova's VolumeNotFound does; status is the code to answer
 * (400 where Nova treats a volume named in a body as bad input). */
int volume_find(struct req *r, const char *id, int status, struct volume_ref *out);

/* Nova's InvalidInput wrapping of a Cinder 400: "Invalid input received:
 * <cinder's message> (HTTP 400) (Request-ID: <ours>)", prefixed with
 * `prefix` (Nova re-wraps some as InvalidVolume: "Invalid volume: "). */
int volume_cinder_400(struct req *r, const char *prefix, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Boot from volume (servers_create.c): every mapping of a volume must
 * name a volume the caller sees, available (400 as Nova's _validate_bdm
 * answers), one server only; snapshots must exist. */
int volumes_check_bdms(struct req *r, json_t *rows, long count);
/* Inside the create transaction, after the mappings of `instance_uuid`
 * are in: their volumes become in-use (DB_CONFLICT when one was taken
 * meanwhile). */
enum db_status volumes_reserve_bdms(const char *instance_uuid);

#endif
