/* volumes.c — the conductor's side of volume attach and detach: takes the
 * API's cast (the volume already attaching / detaching, the mapping
 * recorded), records the compute event and hands the disk to the
 * instance's host; then takes the host's answer and settles the volume
 * (in-use, or available with its mapping gone) and the event. A failed
 * attach gives the volume back and drops the mapping; a failed detach
 * leaves it in-use, as Nova's compute manager does. */
#include <stdio.h>
#include <string.h>

#include "cnova.h"
#include "conductor.h"

/* The instance action `op` the API recorded, and its event compute_<op>:
 * started on `host` (result NULL) or finished with `result`. */
void conductor_op_event(const char *uuid, const char *op, const char *host, const char *result) {
    char ev[64];
    snprintf(ev, sizeof ev, "compute_%s", op);
    const char *p[] = {uuid, op, ev, result ? result : host};
    enum db_status st;
    if (!result)
        st = db_exec("INSERT INTO instance_actions_events (action_id, event, start_time, host)"
                     " SELECT id, $3, now(), $4 FROM instance_actions WHERE instance_uuid = $1"
                     " AND action = $2 ORDER BY id DESC LIMIT 1",
                     4, p);
    else
        st = db_exec("WITH a AS (UPDATE instance_actions SET updated_at = now(), message ="
                     " CASE WHEN $4 = 'Error' THEN 'Error' ELSE message END WHERE id = (SELECT id"
                     " FROM instance_actions WHERE instance_uuid = $1 AND action = $2 ORDER BY id"
                     " DESC LIMIT 1) RETURNING id) UPDATE instance_actions_events e SET"
                     " finish_time = now(), result = $4 FROM a WHERE e.action_id = a.id"
                     " AND e.event = $3 AND e.finish_time IS NULL",
                     4, p);
    if (st != DB_OK) log_warn("%s of %s: event not recorded: %s", op, uuid, db_errmsg());
}

/* instance.volume_attach.start / .end / .error and volume_detach.* (with
 * the legacy compute.instance.volume.attach / .detach on success), in the
 * open transaction, published as the instance's host. */
static void volume_notice(const char *op, const char *uuid, const char *volume, const char *host,
                          const char *phase, const char *fault) {
    bool attach = !strcmp(op, "attach_volume");
    char ev[64], pub[300];
    snprintf(ev, sizeof ev, "instance.volume_%s.%s", attach ? "attach" : "detach", phase);
    notify_publisher(pub, sizeof pub, "nova-compute", host);
    json_t *extra = json_pack("{s:s}", "volume_id", volume);
    json_t *f = fault ? json_pack("{s:s}", "message", fault) : NULL;
    const char *legacy = NULL;
    if (!strcmp(phase, "end"))
        legacy = attach ? "compute.instance.volume.attach" : "compute.instance.volume.detach";
    notify_instance_with(uuid, ev, "InstanceActionVolumePayload", legacy, f ? "ERROR" : "INFO", pub,
                         f, extra);
    json_decref(f);
    json_decref(extra);
}

/* Settles the volume after the host's answer, only from the state the API
 * left it in (a late or repeated answer changes nothing). */
static int settle(const char *op, const char *uuid, const char *volume, bool ok, const char *host,
                  const char *fault) {
    bool attach = !strcmp(op, "attach_volume");
    const char *p[] = {uuid, volume}, *v[] = {volume};
    for (int attempt = 0; attempt < 3; attempt++) {
        if (db_begin() != DB_OK) return -1;
        PGresult *r = NULL;
        enum db_status st =
            db_query(&r,
                     attach ? (ok ? "UPDATE volumes SET status = 'in-use', updated_at = now()"
                                    " WHERE id = $1::uuid AND status = 'attaching' RETURNING id"
                                  : "UPDATE volumes SET status = 'available', updated_at = now()"
                                    " WHERE id = $1::uuid AND status = 'attaching' RETURNING id")
                            : (ok ? "UPDATE volumes SET status = 'available', updated_at = now()"
                                    " WHERE id = $1::uuid AND status = 'detaching' RETURNING id"
                                  : "UPDATE volumes SET status = 'in-use', updated_at = now()"
                                    " WHERE id = $1::uuid AND status = 'detaching' RETURNING id"),
                     1, v);
        if (st != DB_OK) {
            db_rollback();
            continue;
        }
        int n = PQntuples(r);
        PQclear(r);
        /* the mapping goes with a failed attach or a done detach */
        if (n && attach != ok)
            st = db_exec("UPDATE block_device_mapping SET deleted = id WHERE instance_uuid ="
                         " $1::uuid AND volume_id = $2 AND deleted = 0",
                         2, p);
        if (n && !ok && st == DB_OK) {
            const char *f[] = {uuid, fault ? fault : "failed", host};
            st = db_exec("INSERT INTO instance_faults (instance_uuid, code, message, host)"
                         " VALUES ($1::uuid, 500, $2, $3)",
                         3, f);
        }
        if (n && st == DB_OK) conductor_op_event(uuid, op, host, ok ? "Success" : "Error");
        if (n && st == DB_OK && host && (ok || attach))
            volume_notice(op, uuid, volume, host, ok ? "end" : "error",
                          ok ? NULL : (fault ? fault : "failed"));
        if (st == DB_OK && db_commit() == DB_OK) {
            if (n) log_info("%s of %s to %s: %s", op, volume, uuid, ok ? "done" : fault);
            return n;
        }
        db_rollback();
    }
    log_error("%s of %s: outcome not recorded: %s", op, volume, db_errmsg());
    return -1;
}

/* args {instance_uuid, volume_id, device?} from the API's outbox. */
static json_t *forward(const char *op, json_t *args) {
    const char *uuid = json_string_value(json_object_get(args, "instance_uuid"));
    const char *volume = json_string_value(json_object_get(args, "volume_id"));
    if (!uuid || !uuid_valid(uuid) || !volume)
        return rpc_failure("%s needs instance_uuid and volume_id", op);
    const char *p[] = {uuid};
    PGresult *r = NULL;
    if (db_query(&r, "SELECT host FROM instances WHERE uuid = $1 AND deleted = 0", 1, p) != DB_OK)
        return rpc_failure("database: %s", db_errmsg());
    char host[256] = "";
    int found = PQntuples(r);
    if (found && !db_isnull(r, 0, 0)) snprintf(host, sizeof host, "%s", db_str(r, 0, 0));
    PQclear(r);
    if (!found) return json_false(); /* deleted meanwhile: the delete released the volume */
    if (!host[0]) {                  /* nothing runs anywhere: the disk is only recorded */
        settle(op, uuid, volume, true, NULL, NULL);
        return json_true();
    }
    if (db_begin() == DB_OK) {
        conductor_op_event(uuid, op, host, NULL);
        volume_notice(op, uuid, volume, host, "start", NULL);
        if (db_commit() != DB_OK) db_rollback();
    }
    json_t *a = json_pack("{s:s,s:s,s:s}", "uuid", uuid, "volume_id", volume, "op", op);
    /* its size: a volume's file is made when a host first needs it */
    const char *v[] = {volume};
    if (uuid_valid(volume) &&
        db_query(&r, "SELECT size FROM volumes WHERE id = $1::uuid", 1, v) == DB_OK) {
        if (PQntuples(r)) json_object_set_new(a, "size", json_integer(db_int(r, 0, 0)));
        PQclear(r);
    }
    json_t *dev = json_object_get(args, "device");
    if (dev) json_object_set(a, "device", dev);
    char topic[300];
    snprintf(topic, sizeof topic, "compute.%s", host);
    if (rpc_cast_later(topic, op, a) < 0) log_warn("%s of %s: cast to %s failed", op, uuid, topic);
    json_decref(a);
    return json_true();
}

json_t *conductor_attach_volume(json_t *args, struct conductor *c) {
    (void)c;
    return forward("attach_volume", args);
}

json_t *conductor_detach_volume(json_t *args, struct conductor *c) {
    (void)c;
    return forward("detach_volume", args);
}

/* args {uuid, host, op, volume_id, ok, fault?} from the compute host. */
json_t *conductor_volume_op_done(json_t *args, struct conductor *c) {
    (void)c;
    const char *uuid = json_string_value(json_object_get(args, "uuid"));
    const char *host = json_string_value(json_object_get(args, "host"));
    const char *op = json_string_value(json_object_get(args, "op"));
    const char *volume = json_string_value(json_object_get(args, "volume_id"));
    if (!uuid || !uuid_valid(uuid) || !host || !volume || !uuid_valid(volume) || !op ||
        (strcmp(op, "attach_volume") && strcmp(op, "detach_volume")))
        return rpc_failure("volume_op_done needs uuid, host, volume_id and a volume op");
    int n = settle(op, uuid, volume, json_is_true(json_object_get(args, "ok")), host,
                   json_string_value(json_object_get(args, "fault")));
    return n < 0 ? rpc_failure("database unavailable") : json_boolean(n > 0);
}

/* A build's volumes: those its block device mappings ask the build to make
 * (an image or a blank one, destination volume), made now, as Nova's
 * compute has Cinder make them (idempotent: a mapping that has its volume
 * keeps it); then every volume of the server as the host attaches it:
 * [{volume_id, device, boot_index, size, image_id, disk_format}], the boot
 * volume first. NULL when the database cannot answer. */
json_t *conductor_build_volumes(const char *uuid) {
    const char *p[] = {uuid};
    if (db_exec("WITH b AS (UPDATE block_device_mapping SET volume_id = gen_random_uuid()::text,"
                " attachment_id = gen_random_uuid() WHERE instance_uuid = $1::uuid"
                " AND deleted = 0 AND destination_type = 'volume' AND volume_id IS NULL"
                " RETURNING volume_id, volume_size, source_type)"
                " INSERT INTO volumes (id, project_id, user_id, display_name, size,"
                " availability_zone, status) SELECT b.volume_id::uuid, i.project_id, i.user_id,"
                " CASE WHEN b.source_type = 'blank' THEN i.uuid || '-blank-vol' ELSE '' END,"
                " GREATEST(COALESCE(b.volume_size, 1), 1), COALESCE(i.availability_zone, 'nova'),"
                " 'in-use' FROM b JOIN instances i ON i.uuid = $1::uuid",
                1, p) != DB_OK) {
        log_error("build %s: volumes not made: %s", uuid, db_errmsg());
        return NULL;
    }
    return conductor_instance_json(
        "SELECT COALESCE(jsonb_agg(jsonb_build_object('volume_id', v.id, 'device',"
        " b.device_name, 'boot_index', b.boot_index, 'size', v.size, 'image_id',"
        " CASE WHEN b.source_type = 'image' THEN b.image_id END, 'disk_format', m.disk_format)"
        " ORDER BY b.boot_index NULLS LAST, b.id), '[]')::text FROM block_device_mapping b"
        " JOIN volumes v ON v.id::text = lower(b.volume_id) AND NOT v.deleted"
        " LEFT JOIN images m ON m.id::text = b.image_id AND b.source_type = 'image'"
        " WHERE b.instance_uuid = $1::uuid AND b.deleted = 0 AND b.destination_type = 'volume'",
        "volumes", uuid);
}
