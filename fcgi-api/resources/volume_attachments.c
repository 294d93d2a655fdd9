/* volume_attachments.c — /servers/{server_id}/os-volume_attachments: a
 * volume attached to a server is a block_device_mapping row (volume to
 * volume) naming it. Attach reserves the volume (available -> attaching),
 * records the mapping with its device name and casts attach_volume to the
 * conductor, which has the host add the disk to the guest; the volume is
 * in-use when the host answers. Detach is the reverse (in-use -> detaching
 * -> available). The fields shown follow 2.70 (tag), 2.79
 * (delete_on_termination), 2.89 (attachment_id, bdm_uuid, no id); 2.101
 * answers the attach with 202 and no body. PUT updates
 * delete_on_termination (2.85); swapping to another volume is Cinder's
 * migration callback, and the built-in volumes never migrate. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "servers.h"
#include "volumes.h"

#define BDM_SQL                                                                                    \
    "SELECT volume_id, instance_uuid, device_name, tag, delete_on_termination, attachment_id,"     \
    " uuid, boot_index FROM block_device_mapping"
enum { B_VOLUME, B_SERVER, B_DEVICE, B_TAG, B_DOT, B_ATTACHMENT, B_UUID, B_BOOT };

static json_t *nullable(PGresult *res, int i, int col) {
    return db_isnull(res, i, col) ? json_null() : json_string(db_str(res, i, col));
}

/* Nova's _translate_attachment_detail_view at r's microversion. */
static json_t *attachment_view(const struct req *r, PGresult *res, int i) {
    bool v289 = req_ver_ge(r, MV(2, 89));
    json_t *a = json_object();
    if (!v289) json_object_set_new(a, "id", json_string(db_str(res, i, B_VOLUME)));
    json_object_set_new(a, "volumeId", json_string(db_str(res, i, B_VOLUME)));
    json_object_set_new(a, "serverId", json_string(db_str(res, i, B_SERVER)));
    const char *dev = db_str(res, i, B_DEVICE);
    if (dev && *dev) json_object_set_new(a, "device", json_string(dev));
    if (req_ver_ge(r, MV(2, 70))) json_object_set_new(a, "tag", nullable(res, i, B_TAG));
    if (req_ver_ge(r, MV(2, 79)))
        json_object_set_new(a, "delete_on_termination", json_boolean(db_bool(res, i, B_DOT)));
    if (v289) {
        json_object_set_new(a, "attachment_id", nullable(res, i, B_ATTACHMENT));
        json_object_set_new(a, "bdm_uuid", json_string(db_str(res, i, B_UUID)));
    }
    return a;
}

/* The live mapping of volume `volume` on server `server` (*out, caller
 * clears), or 404 with Nova's message. */
static int find_bdm(struct req *r, const char *server, const char *volume, PGresult **out) {
    const char *p[] = {server, volume};
    enum db_status st = db_query(out,
                                 BDM_SQL " WHERE instance_uuid = $1::uuid AND volume_id = $2"
                                         " AND deleted = 0 ORDER BY id LIMIT 1",
                                 2, p);
    if (st) return api_db_error(r, st);
    if (PQntuples(*out)) return 0;
    PQclear(*out);
    *out = NULL;
    return api_error(r, 404, "Instance %s is not attached to volume %s", server, volume);
}

/* Before 2.20 a shelved server takes no attach or detach (409). */
static int shelved_check(struct req *r, const struct instance_ref *inst, const char *method) {
    if (req_ver_ge(r, MV(2, 20)) ||
        (strcmp(inst->vm_state, "shelved") && strcmp(inst->vm_state, "shelved_offloaded")))
        return 0;
    return api_error(r, 409, "Cannot '%s' instance %s while it is in vm_state %s", method,
                     inst->uuid, inst->vm_state);
}

int volume_attachments_index(struct req *r) {
    struct instance_ref inst;
    int rc = instance_find(r, req_param(r, "server_id"), &inst);
    if (rc) return rc;
    char limit[32], offset[32];
    snprintf(limit, sizeof limit, "%ld", paging_limit(r));
    const char *given = req_query(r, "offset");
    snprintf(offset, sizeof offset, "%lld", given ? strtoll(given, NULL, 10) : 0LL);
    /* Nova pages over every mapping, then keeps the volumes (and, from
     * 2.89, those with an attachment) */
    const char *p[] = {inst.uuid, limit, offset};
    PGresult *res;
    enum db_status st = db_query(&res,
                                 "SELECT * FROM (" BDM_SQL " WHERE instance_uuid = $1::uuid"
                                 " AND deleted = 0 ORDER BY id LIMIT $2::bigint"
                                 " OFFSET $3::bigint) b WHERE volume_id IS NOT NULL",
                                 3, p);
    if (st) return api_db_error(r, st);
    json_t *list = json_array();
    for (int i = 0; i < PQntuples(res); i++) {
        if (req_ver_ge(r, MV(2, 89)) && db_isnull(res, i, B_ATTACHMENT)) continue;
        json_array_append_new(list, attachment_view(r, res, i));
    }
    PQclear(res);
    return api_reply(r, 200, json_pack("{s:o}", "volumeAttachments", list));
}

int volume_attachments_show(struct req *r) {
    struct instance_ref inst;
    const char *server = req_param(r, "server_id"), *volume = req_param(r, "id");
    int rc = instance_find(r, server, &inst);
    if (rc) return rc;
    PGresult *res;
    if ((rc = find_bdm(r, inst.uuid, volume, &res))) return rc;
    if (req_ver_ge(r, MV(2, 89)) && db_isnull(res, 0, B_ATTACHMENT)) {
        PQclear(res);
        return api_error(r, 404, "Instance %s is not attached to volume %s", server, volume);
    }
    json_t *a = attachment_view(r, res, 0);
    PQclear(res);
    return api_reply(r, 200, json_pack("{s:o}", "volumeAttachment", a));
}

/* ---- attach ---- */

struct attach_args {
    struct req *r;
    const struct instance_ref *inst;
    const char *volume, *device, *tag;
    bool dot;
    char chosen[64]; /* the device name given or picked */
    int rc;
};

/* The device name for a new disk: the one asked for unless in use (409),
 * else the next free letter after the root disk's prefix (/dev/vdb, ...). */
static int pick_device(struct attach_args *a) {
    const char *p[] = {a->inst->uuid};
    PGresult *res;
    enum db_status st = db_query(&res,
                                 "SELECT COALESCE(root_device_name, '/dev/vda'), ARRAY(SELECT"
                                 " device_name FROM block_device_mapping WHERE instance_uuid ="
                                 " $1::uuid AND deleted = 0 AND device_name IS NOT NULL)::text"
                                 " FROM instances WHERE uuid = $1::uuid",
                                 1, p);
    if (st) return api_db_error(a->r, st);
    char root[64], used[4096];
    snprintf(root, sizeof root, "%s", PQntuples(res) ? db_str(res, 0, 0) : "/dev/vda");
    snprintf(used, sizeof used, ",%s,", PQntuples(res) ? db_str(res, 0, 1) : "");
    PQclear(res);
    for (char *c = used; *c; c++)
        if (*c == '{' || *c == '}') *c = ',';
    char probe[80];
    if (a->device) {
        snprintf(probe, sizeof probe, ",%s,", a->device);
        if (strstr(used, probe) || !strcmp(a->device, root))
            return api_error(a->r, 409, "The supplied device path (%s) is in use.", a->device);
        snprintf(a->chosen, sizeof a->chosen, "%s", a->device);
        return 0;
    }
    /* the prefix: the root name up to its first 'd' after /dev/ (vd, sd, xvd) */
    const char *d = strncmp(root, "/dev/", 5) ? NULL : strchr(root + 5, 'd');
    int n = d && d - root < 20 ? (int)(d - root + 1) : 7;
    if (!d) snprintf(root, sizeof root, "/dev/vda");
    for (char letter = 'b'; letter <= 'z'; letter++) {
        snprintf(a->chosen, sizeof a->chosen, "%.*s%c", n, root, letter);
        snprintf(probe, sizeof probe, ",%s,", a->chosen);
        if (!strstr(used, probe) && strcmp(a->chosen, root)) return 0;
    }
    return api_error(a->r, 403,
                     "The maximum allowed number of disk devices (26) to attach to a single"
                     " instance has been exceeded.");
}

static enum db_status attach_txn(void *arg) {
    struct attach_args *a = arg;
    struct req *r = a->r;
    const char *uuid = a->inst->uuid;
    enum db_status st = instance_apply_state(r, uuid, "attach_volume", NULL, &a->rc);
    if (st) return st;
    /* a volume (not multiattach) is attached to one server only */
    const char *v[] = {a->volume};
    PGresult *res;
    st = db_query(&res,
                  "SELECT string_agg(instance_uuid::text, ' ' ORDER BY id) FROM"
                  " block_device_mapping WHERE volume_id = $1 AND deleted = 0",
                  1, v);
    if (st) return st;
    if (!db_isnull(res, 0, 0)) {
        a->rc = api_error(r, 400, "Invalid volume: volume %s is already attached to instances: %s",
                          a->volume, db_str(res, 0, 0));
        PQclear(res);
        return DB_ERROR;
    }
    PQclear(res);
    st = db_query(&res,
                  "WITH u AS (UPDATE volumes SET status = 'attaching', updated_at = now()"
                  " WHERE id = $1::uuid AND NOT deleted AND status = 'available' RETURNING id)"
                  " SELECT (SELECT count(*) FROM u), status FROM volumes WHERE id = $1::uuid",
                  1, v);
    if (st) return st;
    if (!db_int(res, 0, 0)) {
        a->rc = volume_cinder_400(r, "",
                                  "Invalid volume: Volume %s status must be available or"
                                  " downloading to reserve, but the current status is %s.",
                                  a->volume, db_str(res, 0, 1));
        PQclear(res);
        return DB_ERROR;
    }
    PQclear(res);
    if ((a->rc = pick_device(a))) return DB_ERROR;
    bool offloaded = !a->inst->host[0];
    const char *b[] = {uuid, a->chosen, a->dot ? "true" : "false", a->volume, a->tag};
    st = db_exec("INSERT INTO block_device_mapping (instance_uuid, source_type, destination_type,"
                 " device_name, delete_on_termination, volume_id, tag, attachment_id)"
                 " VALUES ($1::uuid, 'volume', 'volume', $2, $3::boolean, $4, $5,"
                 " gen_random_uuid())",
                 5, b);
    if (st) return st;
    if ((a->rc = instance_action_start(r, uuid, "attach_volume"))) return DB_ERROR;
    if (offloaded) /* nothing runs: the volume is simply reserved for it */
        return db_exec("UPDATE volumes SET status = 'in-use' WHERE id = $1::uuid", 1, v);
    json_t *args = json_pack("{s:s,s:s,s:s}", "instance_uuid", uuid, "volume_id", a->volume,
                             "device", a->chosen);
    int out = outbox_add("conductor", "attach_volume", args);
    json_decref(args);
    return out < 0 ? DB_ERROR : DB_OK;
}

static bool body_bool(json_t *v) {
    bool b = false;
    if (json_is_boolean(v)) return json_is_true(v);
    return json_is_string(v) && str_to_bool(json_string_value(v), &b) && b;
}

int volume_attachments_create(struct req *r) {
    json_t *in = json_object_get(r->body, "volumeAttachment");
    struct instance_ref inst;
    int rc = instance_find(r, req_param(r, "server_id"), &inst);
    if (rc) return rc;
    if ((rc = shelved_check(r, &inst, "attach_volume"))) return rc;
    if (inst.locked && !r->ctx.is_admin)
        return api_error(r, 409, "Instance %s is locked", inst.uuid);
    struct volume_ref vol;
    const char *volume = json_string_value(json_object_get(in, "volumeId"));
    if ((rc = volume_find(r, volume, 404, &vol))) return rc;
    struct attach_args a = {
        .r = r,
        .inst = &inst,
        .volume = vol.id,
        .device = json_string_value(json_object_get(in, "device")),
        .tag = json_string_value(json_object_get(in, "tag")),
        .dot = body_bool(json_object_get(in, "delete_on_termination")),
    };
    if (a.tag && !strcmp(inst.vm_state, "shelved_offloaded"))
        return api_error(r, 400,
                         "Tagged volume attachment is not supported for shelved-offloaded"
                         " instances.");
    enum db_status st = db_txn(attach_txn, &a);
    if (a.rc) return a.rc;
    if (st) return api_db_error(r, st);
    outbox_flush();
    if (req_ver_ge(r, MV(2, 101))) return api_reply(r, 202, NULL);
    json_t *out = json_pack("{s:s,s:s,s:s,s:s}", "id", vol.id, "serverId", inst.uuid, "volumeId",
                            vol.id, "device", a.chosen);
    if (req_ver_ge(r, MV(2, 70)))
        json_object_set_new(out, "tag", a.tag ? json_string(a.tag) : json_null());
    if (req_ver_ge(r, MV(2, 79)))
        json_object_set_new(out, "delete_on_termination", json_boolean(a.dot));
    return api_reply(r, 200, json_pack("{s:o}", "volumeAttachment", out));
}

/* ---- update ---- */

/* 2.85+: the mapping's delete_on_termination; the other fields must be
 * what they are. */
static int update_regular(struct req *r, const struct instance_ref *inst, const char *volume) {
    json_t *att = json_object_get(r->body, "volumeAttachment");
    PGresult *res;
    const char *p[] = {inst->uuid, volume};
    enum db_status st = db_query(&res,
                                 BDM_SQL " WHERE instance_uuid = $1::uuid AND volume_id = $2"
                                         " AND deleted = 0 ORDER BY id LIMIT 1",
                                 2, p);
    if (st) return api_db_error(r, st);
    if (!PQntuples(res)) {
        PQclear(res);
        return api_error(r, 404, "No volume Block Device Mapping with id %s.", volume);
    }
    static const struct {
        const char *field;
        int col;
    } fixed[] = {{"id", B_VOLUME}, {"serverId", B_SERVER}, {"device", B_DEVICE}, {"tag", B_TAG}};
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++) {
        json_t *v = json_object_get(att, fixed[i].field);
        if (!v) continue;
        const char *given = json_string_value(v);
        const char *have = db_isnull(res, 0, fixed[i].col) ? NULL : db_str(res, 0, fixed[i].col);
        if ((!given) != (!have) || (given && strcmp(given, have))) {
            PQclear(res);
            return api_error(r, 400, "The %s property is not mutable", fixed[i].field);
        }
    }
    json_t *dot = json_object_get(att, "delete_on_termination");
    const char *u[] = {db_str(res, 0, B_UUID), dot ? (body_bool(dot) ? "true" : "false") : NULL};
    st = dot ? db_exec("UPDATE block_device_mapping SET delete_on_termination = $2::boolean"
                       " WHERE uuid = $1::uuid AND deleted = 0",
                       2, u)
             : DB_OK;
    PQclear(res);
    return st ? api_db_error(r, st) : 0;
}

/* Swap: Cinder calls it while migrating the old volume to the new one. */
static int update_swap(struct req *r, const char *old) {
    struct volume_ref v;
    int rc = volume_find(r, old, 404, &v);
    if (rc) return rc;
    return api_error(r, 409, "volume %s is not migrating; this API should only be called by Cinder",
                     old);
}

int volume_attachments_update(struct req *r) {
    struct instance_ref inst;
    const char *id = req_param(r, "id");
    int rc = instance_find(r, req_param(r, "server_id"), &inst);
    if (rc) return rc;
    const char *volume = json_string_value(
        json_object_get(json_object_get(r->body, "volumeAttachment"), "volumeId"));
    bool only_swap = !req_ver_ge(r, MV(2, 85));
    bool swap = only_swap || strcmp(id, volume);
    if (swap && (rc = auth_policy(r, POLICY_SERVICE, "os_compute_api:os-volumes-attachments:swap")))
        return rc;
    if (!only_swap && (rc = update_regular(r, &inst, id))) return rc;
    if (swap && (rc = update_swap(r, id))) return rc;
    return api_reply(r, 202, NULL);
}

/* ---- detach ---- */

/* check_instance_host(check_is_up=True): the host's nova-compute must be
 * up for a detach it has to perform (409 otherwise, as Nova answers
 * ServiceUnavailable). */
static int host_up(struct req *r, const char *host) {
    bool up;
    int rc = servers_host_up(r, host, &up);
    if (rc) return rc;
    return up ? 0 : api_error(r, 409, "Service is unavailable at this time.");
}

struct detach_args {
    struct req *r;
    const struct instance_ref *inst;
    const char *volume;
    int rc;
};

static enum db_status detach_txn(void *arg) {
    struct detach_args *d = arg;
    struct req *r = d->r;
    const char *uuid = d->inst->uuid;
    enum db_status st = instance_apply_state(r, uuid, "detach_volume", NULL, &d->rc);
    if (st) return st;
    /* Cinder's begin_detaching: in-use -> detaching */
    const char *v[] = {d->volume};
    PGresult *res;
    st = db_query(&res,
                  "UPDATE volumes SET status = 'detaching', updated_at = now()"
                  " WHERE id = $1::uuid AND NOT deleted AND status = 'in-use' RETURNING id",
                  1, v);
    if (st) return st;
    int n = PQntuples(res);
    PQclear(res);
    if (!n) {
        d->rc = volume_cinder_400(r, "Invalid volume: ",
                                  "Invalid volume: Unable to detach volume. Volume status must be"
                                  " 'in-use' and attach_status must be 'attached' to detach.");
        return DB_ERROR;
    }
    if ((d->rc = instance_action_start(r, uuid, "detach_volume"))) return DB_ERROR;
    if (!d->inst->host[0]) { /* nothing runs: just let it go */
        const char *b[] = {uuid, d->volume};
        st = db_exec("UPDATE block_device_mapping SET deleted = id WHERE instance_uuid = $1::uuid"
                     " AND volume_id = $2 AND deleted = 0",
                     2, b);
        return st ? st
                  : db_exec("UPDATE volumes SET status = 'available' WHERE id = $1::uuid", 1, v);
    }
    json_t *args = json_pack("{s:s,s:s}", "instance_uuid", uuid, "volume_id", d->volume);
    int out = outbox_add("conductor", "detach_volume", args);
    json_decref(args);
    return out < 0 ? DB_ERROR : DB_OK;
}

int volume_attachments_delete(struct req *r) {
    struct instance_ref inst;
    const char *server = req_param(r, "server_id");
    int rc = instance_find(r, server, &inst);
    if (rc) return rc;
    if ((rc = shelved_check(r, &inst, "detach_volume"))) return rc;
    struct volume_ref vol;
    if ((rc = volume_find(r, req_param(r, "id"), 404, &vol))) return rc;
    PGresult *res;
    if ((rc = find_bdm(r, inst.uuid, vol.id, &res))) return rc;
    bool root = !db_isnull(res, 0, B_BOOT) && db_int(res, 0, B_BOOT) == 0;
    PQclear(res);
    if (root) return api_error(r, 400, "Cannot detach a root device volume");
    if (inst.locked && !r->ctx.is_admin)
        return api_error(r, 409, "Instance %s is locked", inst.uuid);
    if (inst.host[0] && (rc = host_up(r, inst.host))) return rc;
    struct detach_args d = {r, &inst, vol.id, 0};
    enum db_status st = db_txn(detach_txn, &d);
    if (d.rc) return d.rc;
    if (st) return api_db_error(r, st);
    outbox_flush();
    return api_reply(r, 202, NULL);
}
