/* server_move.c — the server actions that move or remake a server:
 * rebuild (new image, same host), resize and cold migrate (a migration row
 * and the conductor's move workflow, the target chosen and claimed by the
 * scheduler), confirmResize and revertResize, live migration and evacuate
 * (rebuilt on another host, the source's compute being down). Each checks what Nova's
 * compute API checks, in its order (lock, state, then the request), moves
 * the instance into its task with one conditional UPDATE, records the
 * instance action and hands the work to the conductor through the outbox,
 * all in one transaction. */
#include <stdlib.h>
#include <string.h>

#include "servers.h"

/* ---- shared steps ---- */

/* check_instance_state alone (evacuate has no lock check in Nova). */
static int precheck_state(struct req *r, const struct instance_ref *inst, const char *rule_name,
                          const char *api_name) {
    const struct state_rule *rule = states_rule(rule_name);
    const char *const *l;
    bool vm_ok = !rule->vm_states, task_ok = !rule->task_states;
    for (l = rule->vm_states; l && *l && !vm_ok; l++)
        vm_ok = !strcmp(*l, inst->vm_state);
    for (l = rule->task_states; l && *l && !task_ok; l++)
        task_ok = !strcmp(*l, inst->task_state);
    if (!vm_ok)
        return api_error(r, 409, "Cannot '%s' instance %s while it is in vm_state %s", api_name,
                         inst->uuid, inst->vm_state);
    if (!task_ok)
        return api_error(r, 409, "Cannot '%s' instance %s while it is in task_state %s", api_name,
                         inst->uuid, inst->task_state[0] ? inst->task_state : "None");
    return 0;
}

/* Nova's check_instance_lock and check_instance_state, before anything
 * else is looked at (the conditional UPDATE repeats the state check). */
static int precheck(struct req *r, const char *id, const char *rule_name, const char *api_name,
                    struct instance_ref *inst) {
    int rc = instance_find(r, id, inst);
    if (rc) return rc;
    if (inst->locked && !r->ctx.is_admin)
        return api_error(r, 409, "Instance %s is locked", inst->uuid);
    return precheck_state(r, inst, rule_name, api_name);
}

/* [api] enable_instance_password (default true). */
static bool password_shown(void) {
    const char *show = config_get("api", "enable_instance_password", NULL);
    bool enabled = true;
    if (show && *show) str_to_bool(show, &enabled);
    return enabled;
}

static long fint(json_t *o, const char *k) {
    json_t *v = json_object_get(o, k);
    return json_is_integer(v) ? (long)json_integer_value(v) : atol(json_string_value(v) ?: "0");
}

static char *dump(json_t *v) {
    return v ? json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
}

/* The instance's flavor snapshot, image and boot image (volume-backed). */
static json_t *instance_row(struct req *r, const char *uuid, int *rc) {
    const char *p[] = {uuid};
    return api_query_json(r, rc,
                      "SELECT jsonb_build_object('flavor', flavor, 'old_flavor', old_flavor,"
                      " 'image_ref', COALESCE(image_ref, ''), 'host', host, 'adc_disabled',"
                      " system_metadata->>'image_auto_disk_config' = 'disabled', 'boot_image',"
                      " (SELECT b.image_id FROM block_device_mapping b WHERE b.instance_uuid ="
                      "  i.uuid AND b.deleted = 0 AND b.boot_index = 0 LIMIT 1))"
                      " FROM instances i WHERE uuid = $1::uuid AND deleted = 0",
                      1, p);
}

/* ---- rebuild ---- */

struct rebuild {
    struct req *r;
    struct instance_ref *inst;
    json_t *rb, *image;
    const char *image_ref;
    bool volume_backed;
    char *key_data;
    char password[16];
    int rc;
};

static bool has(json_t *o, const char *k) {
    return json_object_get(o, k) != NULL;
}

/* The request's checks after lock and state, in Nova's order. */
static int rebuild_checks(struct rebuild *b, json_t *row) {
    struct req *r = b->r;
    json_t *rb = b->rb;
    int rc = 0;
    const char *key = json_string_value(json_object_get(rb, "key_name"));
    if (req_ver_ge(r, MV(2, 54)) && key) {
        const char *p[] = {r->ctx.user_id, key};
        PGresult *res;
        enum db_status st = db_query(&res,
                                     "SELECT public_key FROM key_pairs WHERE user_id = $1"
                                     " AND name = $2 AND deleted = 0",
                                     2, p);
        if (st) return api_db_error(r, st);
        if (PQntuples(res)) b->key_data = strdup(db_str(res, 0, 0));
        PQclear(res);
        if (!b->key_data) return api_error(r, 400, "Invalid key_name provided.");
    }
    b->volume_backed = !*json_string_value(json_object_get(row, "image_ref"));
    if (req_ver_ge(r, MV(2, 63)) && b->volume_backed &&
        json_array_size(json_object_get(rb, "trusted_image_certificates")))
        return api_error(r, 400,
                         "Image certificate validation is not supported for volume-backed"
                         " servers.");
    b->image = servers_image_load(r, b->image_ref, &rc);
    if (rc) return rc;
    if (!b->image) return api_error(r, 400, "Cannot find image for rebuild");
    const char *adc = json_string_value(
        json_object_get(json_object_get(b->image, "properties"), "auto_disk_config"));
    const char *dc = json_string_value(json_object_get(rb, "OS-DCF:diskConfig"));
    if (dc && !strcmp(dc, "AUTO") && adc && !strcmp(adc, "disabled"))
        return api_error(r, 400, "Requested image %s has automatic disk resize disabled.",
                         b->image_ref);
    const char *boot = json_string_value(json_object_get(row, "boot_image"));
    if (b->volume_backed && !req_ver_ge(r, MV(2, 93)) && (!boot || strcmp(boot, b->image_ref)))
        return api_error(r, 400,
                         "Image %s is unacceptable: Unable to rebuild with a different image"
                         " for a volume-backed server.",
                         b->image_ref);
    if ((rc = servers_check_limits(r, rb))) return rc;
    if (strcmp(json_string_value(json_object_get(b->image, "status")) ?: "", "active"))
        return api_error(r, 400, "Image %s is not active.", b->image_ref);
    return servers_check_image_flavor(r, b->image, json_object_get(row, "flavor"),
                                      b->volume_backed);
}

static enum db_status rebuild_txn(void *arg) {
    struct rebuild *b = arg;
    struct req *r = b->r;
    json_t *rb = b->rb;
    const char *uuid = b->inst->uuid;
    enum db_status st = instance_apply_state(r, uuid, "rebuild", "rebuild", &b->rc);
    if (st) return st;
    json_t *sys = servers_image_sysmeta(b->image);
    const char *dc = json_string_value(json_object_get(rb, "OS-DCF:diskConfig"));
    if (dc)
        json_object_set_new(sys, "auto_disk_config",
                            json_string(strcmp(dc, "AUTO") ? "False" : "True"));
    char *sys_s = dump(sys);
    json_decref(sys);
    bool v254 = req_ver_ge(r, MV(2, 54)), v257 = req_ver_ge(r, MV(2, 57));
    bool v263 = req_ver_ge(r, MV(2, 63)), v290 = req_ver_ge(r, MV(2, 90));
    bool v219 = req_ver_ge(r, MV(2, 19));
    json_t *certs = json_object_get(rb, "trusted_image_certificates");
    char *certs_s = certs && !json_is_null(certs) ? dump(certs) : NULL;
    const char *v4 = json_string_value(json_object_get(rb, "accessIPv4"));
    const char *v6 = json_string_value(json_object_get(rb, "accessIPv6"));
    const char *p[] = {uuid,
                       b->volume_backed ? NULL : b->image_ref,
                       json_string_value(json_object_get(rb, "name")),
                       v219 && has(rb, "description") ? "t" : "f",
                       json_string_value(json_object_get(rb, "description")),
                       has(rb, "accessIPv4") ? "t" : "f",
                       v4,
                       has(rb, "accessIPv6") ? "t" : "f",
                       v6,
                       v254 && has(rb, "key_name") ? "t" : "f",
                       json_string_value(json_object_get(rb, "key_name")),
                       b->key_data,
                       v257 && has(rb, "user_data") ? "t" : "f",
                       json_string_value(json_object_get(rb, "user_data")),
                       v263 && has(rb, "trusted_image_certificates") ? "t" : "f",
                       certs_s,
                       v290 ? json_string_value(json_object_get(rb, "hostname")) : NULL,
                       sys_s};
    st = db_exec(
        "UPDATE instances SET image_ref = COALESCE($2, image_ref),"
        " display_name = COALESCE($3, display_name),"
        " display_description = CASE WHEN $4::bool THEN $5 ELSE display_description END,"
        " access_ip_v4 = CASE WHEN $6::bool THEN NULLIF($7, '') ELSE access_ip_v4 END,"
        " access_ip_v6 = CASE WHEN $8::bool THEN NULLIF($9, '') ELSE access_ip_v6 END,"
        " key_name = CASE WHEN $10::bool THEN $11 ELSE key_name END,"
        " key_data = CASE WHEN $10::bool THEN $12 ELSE key_data END,"
        " user_data = CASE WHEN $13::bool THEN $14 ELSE user_data END,"
        " trusted_certs = CASE WHEN $15::bool THEN $16::jsonb ELSE trusted_certs END,"
        " hostname = COALESCE($17, hostname), progress = 0,"
        " system_metadata = COALESCE((SELECT jsonb_object_agg(key, value) FROM"
        "  jsonb_each(system_metadata) WHERE key NOT LIKE 'image\\_%'), '{}'::jsonb) || $18::jsonb,"
        " request_spec = CASE WHEN $2::text IS NULL THEN request_spec"
        "  ELSE jsonb_set(request_spec, '{image,id}', to_jsonb($2::text)) END"
        " WHERE uuid = $1::uuid AND deleted = 0",
        18, p);
    free(sys_s);
    free(certs_s);
    json_t *meta = json_object_get(rb, "metadata");
    if (!st && meta) {
        char *m = dump(meta);
        const char *mp[] = {uuid, m};
        st = db_exec("DELETE FROM instance_metadata WHERE instance_uuid = $1::uuid", 1, mp);
        if (!st)
            st = db_exec("INSERT INTO instance_metadata (instance_uuid, key, value)"
                         " SELECT $1::uuid, key, value FROM jsonb_each_text($2::jsonb)",
                         2, mp);
        free(m);
    }
    if (st) return st;
    if ((b->rc = instance_action_start(r, uuid, "rebuild"))) return DB_ERROR;
    json_t *args = json_pack("{s:s, s:b}", "instance_uuid", uuid, "preserve_ephemeral",
                             servers_bool(json_object_get(rb, "preserve_ephemeral")));
    int out = outbox_add("conductor", "rebuild_instance", args);
    json_decref(args);
    return out < 0 ? DB_ERROR : DB_OK;
}

/* Nova's rebuild answer: the PUT view of the microversion plus key_name
 * (2.54), user_data (2.57, instead of OS-EXT-SRV-ATTR:user_data) and the
 * password. */
static int rebuild_reply(struct rebuild *b) {
    struct req *r = b->r;
    int rc = servers_reply_one(r, b->inst->uuid, 202, SERVERS_VIEW_UPDATE);
    if (rc != 202) return rc;
    json_t *s = json_object_get(r->resp, "server");
    const char *p[] = {b->inst->uuid};
    PGresult *res;
    enum db_status st =
        db_query(&res, "SELECT key_name, user_data FROM instances WHERE uuid = $1::uuid", 1, p);
    if (st) return api_db_error(r, st);
    if (PQntuples(res)) {
        if (req_ver_ge(r, MV(2, 54)))
            json_object_set_new(
                s, "key_name", db_isnull(res, 0, 0) ? json_null() : json_string(db_str(res, 0, 0)));
        if (req_ver_ge(r, MV(2, 57))) {
            json_object_del(s, "OS-EXT-SRV-ATTR:user_data");
            json_object_set_new(s, "user_data",
                                db_isnull(res, 0, 1) ? json_null()
                                                     : json_string(db_str(res, 0, 1)));
        }
    }
    PQclear(res);
    if (password_shown()) json_object_set_new(s, "adminPass", json_string(b->password));
    return 202;
}

int server_rebuild(struct req *r) {
    struct instance_ref inst;
    int rc = precheck(r, req_param(r, "id"), "rebuild", "rebuild", &inst);
    if (rc) return rc;
    struct rebuild b = {.r = r, .inst = &inst, .rb = json_object_get(r->body, "rebuild")};
    b.image_ref = json_string_value(json_object_get(b.rb, "imageRef"));
    const char *pw = json_string_value(json_object_get(b.rb, "adminPass"));
    if (pw)
        snprintf(b.password, sizeof b.password, "%.15s", pw);
    else
        servers_generate_password(b.password);
    json_t *row = instance_row(r, inst.uuid, &rc);
    if (!rc && !row) rc = api_error(r, 404, "Instance %s could not be found.", inst.uuid);
    if (!rc) rc = rebuild_checks(&b, row);
    if (!rc) {
        enum db_status st = db_txn(rebuild_txn, &b);
        rc = b.rc ? b.rc : st ? api_db_error(r, st) : 0;
    }
    if (!rc) {
        outbox_flush();
        rc = rebuild_reply(&b);
    }
    json_decref(row);
    json_decref(b.image);
    free(b.key_data);
    return rc;
}

/* ---- resize and cold migration ---- */

static int host_exists(struct req *r, const char *host);

struct move {
    struct req *r;
    struct instance_ref *inst;
    json_t *flavor;     /* the target flavor's snapshot */
    json_t *old;        /* the instance's flavor */
    const char *type;   /* migration_type: resize or migration */
    const char *action; /* instance action: resize or migrate */
    const char *host;   /* 2.56 migrate, os-migrateLive: the requested host */
    const char *disk_config;
    bool force; /* os-migrateLive 2.30-2.67: past the scheduler's filters */
    int rc;
};

/* A flavor as the caller may see it (Nova's get_flavor_by_flavor_id),
 * with `disabled`, as the snapshot instances.flavor keeps. */
static json_t *flavor_load(struct req *r, const char *id, int *rc) {
    const char *p[] = {id, r->ctx.is_admin ? "t" : "f", r->ctx.project_id};
    return api_query_json(
        r, rc,
        "SELECT jsonb_build_object('flavorid', f.flavorid, 'name', f.name, 'vcpus', f.vcpus,"
        " 'memory_mb', f.memory_mb, 'root_gb', f.root_gb, 'ephemeral_gb', f.ephemeral_gb,"
        " 'swap', f.swap, 'rxtx_factor', f.rxtx_factor, 'is_public', f.is_public,"
        " 'description', f.description, 'disabled', f.disabled, 'extra_specs', COALESCE((SELECT"
        "  jsonb_object_agg(e.key, e.value) FROM flavor_extra_specs e WHERE e.flavor_id = f.id),"
        "  '{}'::jsonb)) FROM flavors f WHERE f.flavorid = $1"
        " AND ($2::bool OR f.is_public OR EXISTS (SELECT 1 FROM flavor_projects fp"
        "  WHERE fp.flavor_id = f.id AND fp.project_id = $3))",
        3, p);
}

/* Quota for the growth of cores and ram from flavor `from` to `to`
 * (Nova's upsize_quota_delta): 0 or 403. */
static int quota_upsize(struct req *r, const struct instance_ref *inst, json_t *from, json_t *to) {
    static const struct {
        const char *resource, *field;
    } res[] = {{"cores", "vcpus"}, {"ram", "memory_mb"}};
    for (size_t i = 0; i < sizeof res / sizeof res[0]; i++) {
        long delta = fint(to, res[i].field) - fint(from, res[i].field);
        int rc = delta > 0
                     ? quota_reserve(r, inst->project_id, inst->user_id, res[i].resource, delta)
                     : 0;
        if (rc) return rc;
    }
    return 0;
}

static enum db_status move_txn(void *arg) {
    struct move *m = arg;
    struct req *r = m->r;
    const char *uuid = m->inst->uuid;
    bool resize = !strcmp(m->type, "resize"), live = !strcmp(m->type, "live-migration");
    enum db_status st0 =
        instance_apply_state(r, uuid, live ? "live_migrate" : "resize", m->action, &m->rc);
    if (st0) return st0;
    if (resize && (m->rc = quota_upsize(r, m->inst, m->old, m->flavor))) return DB_ERROR;
    char *f = dump(m->flavor);
    const char *dc = m->disk_config ? (strcmp(m->disk_config, "AUTO") ? "False" : "True") : NULL;
    const char *p[] = {uuid, f, dc};
    enum db_status st =
        live ? DB_OK
             : db_exec("UPDATE instances SET new_flavor = $2::jsonb, progress = 0,"
                       " system_metadata = system_metadata || jsonb_build_object('old_vm_state',"
                       "  vm_state) || CASE WHEN $3::text IS NULL THEN '{}'::jsonb"
                       "  ELSE jsonb_build_object('auto_disk_config', $3::text) END"
                       " WHERE uuid = $1::uuid AND deleted = 0",
                       3, p);
    char mig_uuid[37];
    uuid_new(mig_uuid);
    const char *q[] = {mig_uuid,
                       uuid,
                       m->type,
                       r->ctx.user_id,
                       r->ctx.project_id,
                       f,
                       live ? "accepted" : "pre-migrating"};
    PGresult *res = NULL;
    if (!st)
        st = db_query(&res,
                      "INSERT INTO migrations (uuid, instance_uuid, source_compute, source_node,"
                      " old_instance_type_id, new_instance_type_id, status, migration_type,"
                      " user_id, project_id, updated_at)"
                      " SELECT $1::uuid, i.uuid, i.host, i.node,"
                      " (SELECT id FROM flavors WHERE flavorid = i.flavor->>'flavorid'),"
                      " (SELECT id FROM flavors WHERE flavorid = $6::jsonb->>'flavorid'),"
                      " $7, $3, $4, $5, now()"
                      " FROM instances i WHERE i.uuid = $2::uuid AND i.deleted = 0 RETURNING id",
                      7, q);
    free(f);
    if (st) return st;
    char mid[24];
    snprintf(mid, sizeof mid, "%s", PQntuples(res) ? db_str(res, 0, 0) : "0");
    PQclear(res);
    if ((m->rc = instance_action_start(r, uuid, m->action))) return DB_ERROR;
    json_t *args = json_pack("{s:s, s:s, s:s?, s:b}", "instance_uuid", uuid, "migration_id", mid,
                             "host", m->host, "force", m->force);
    int out = outbox_add("conductor", live ? "live_migrate_instance" : "resize_instance", args);
    json_decref(args);
    return out < 0 ? DB_ERROR : DB_OK;
}

/* Nova's resize() checks on the target flavor (after lock and state). */
static int resize_checks(struct move *m, json_t *row, const char *flavor_id) {
    struct req *r = m->r;
    int rc = 0;
    bool bfv = !*json_string_value(json_object_get(row, "image_ref"));
    json_t *f = m->flavor;
    if (!f) return api_error(r, 400, "Flavor %s could not be found.", flavor_id);
    if (fint(f, "root_gb") == 0 && fint(m->old, "root_gb") != 0 && !bfv)
        return api_error(r, 400,
                         "Server disk was unable to be resized because: Resize to zero disk"
                         " flavor is not allowed.");
    bool same = !strcmp(json_string_value(json_object_get(f, "flavorid")) ?: "",
                        json_string_value(json_object_get(m->old, "flavorid")) ?: "");
    if (!same && json_is_true(json_object_get(f, "disabled")))
        return api_error(r, 400, "Flavor %s could not be found.", flavor_id);
    if (same) return api_error(r, 400, "When resizing, instances must change flavor!");
    json_object_del(f, "disabled");
    if (bfv) return 0;
    json_t *image =
        servers_image_load(r, json_string_value(json_object_get(row, "image_ref")), &rc);
    if (!rc) rc = servers_check_image_flavor(r, image, f, false);
    json_decref(image);
    return rc;
}

static int move(struct req *r, struct move *m, const char *rule_api_name, const char *flavor_id) {
    struct instance_ref inst;
    int rc = precheck(r, req_param(r, "id"),
                      strcmp(m->type, "live-migration") ? "resize" : "live_migrate", rule_api_name,
                      &inst);
    if (rc) return rc;
    m->inst = &inst;
    json_t *row = instance_row(r, inst.uuid, &rc);
    if (!rc && !row) rc = api_error(r, 404, "Instance %s could not be found.", inst.uuid);
    if (!rc && m->disk_config && !strcmp(m->disk_config, "AUTO") &&
        json_is_true(json_object_get(row, "adc_disabled")))
        rc = api_error(r, 400, "Requested image %s has automatic disk resize disabled.",
                       json_string_value(json_object_get(row, "image_ref")));
    if (!rc) {
        m->old = json_object_get(row, "flavor");
        if (flavor_id) {
            m->flavor = flavor_load(r, flavor_id, &rc);
            if (!rc) rc = resize_checks(m, row, flavor_id);
        } else {
            m->flavor = json_incref(m->old);
        }
    }
    if (!rc) {
        enum db_status st = db_txn(move_txn, m);
        rc = m->rc ? m->rc : st ? api_db_error(r, st) : 0;
    }
    m->inst = NULL; /* the caller's struct outlives this frame */
    json_decref(m->flavor);
    json_decref(row);
    if (rc) return rc;
    outbox_flush();
    return api_reply(r, 202, NULL);
}

int server_resize(struct req *r) {
    json_t *rs = json_object_get(r->body, "resize");
    json_t *ref = json_object_get(rs, "flavorRef");
    char id[256];
    if (json_is_integer(ref))
        snprintf(id, sizeof id, "%lld", (long long)json_integer_value(ref));
    else
        snprintf(id, sizeof id, "%s", json_string_value(ref) ?: "");
    struct move m = {.r = r,
                     .type = "resize",
                     .action = "resize",
                     .disk_config = json_string_value(json_object_get(rs, "OS-DCF:diskConfig"))};
    return move(r, &m, "resize", id);
}

int server_migrate(struct req *r) {
    struct move m = {.r = r, .type = "migration", .action = "migrate"};
    if (req_ver_ge(r, MV(2, 56)))
        m.host = json_string_value(json_object_get(json_object_get(r->body, "migrate"), "host"));
    if (m.host) {
        int rc = auth_policy(r, POLICY_ADMIN, "os_compute_api:os-migrate-server:migrate:host");
        if (rc) return rc;
        struct instance_ref inst;
        if ((rc = precheck(r, req_param(r, "id"), "resize", "migrate", &inst))) return rc;
        if (!strcmp(m.host, inst.host))
            return api_error(r, 400, "Cannot migrate to the host where the server exists.");
        if ((rc = host_exists(r, m.host))) return rc;
    }
    return move(r, &m, "migrate", NULL);
}

/* A compute host by its service name: 0, or Nova's 400. */
static int host_exists(struct req *r, const char *host) {
    const char *p[] = {host};
    PGresult *res;
    enum db_status st =
        db_query(&res, "SELECT 1 FROM compute_nodes WHERE host = $1 AND deleted = 0 LIMIT 1", 1, p);
    if (st) return api_db_error(r, st);
    int found = PQntuples(res);
    PQclear(res);
    return found ? 0 : api_error(r, 400, "Compute host %s could not be found.", host);
}

/* os-migrateLive: the same pipeline as a cold migration, with Nova's
 * live-migration statuses (accepted, preparing, running, completed). Since
 * 2.34 the checks on the target are asynchronous: a refused target ends
 * the migration in error with the server where it was. */
int server_live_migrate(struct req *r) {
    json_t *lm = json_object_get(r->body, "os-migrateLive");
    struct move m = {.r = r, .type = "live-migration", .action = "live-migration"};
    m.host = json_string_value(json_object_get(lm, "host"));
    int rc;
    if (m.host &&
        (rc = auth_policy(r, POLICY_ADMIN, "os_compute_api:os-migrate-server:migrate_live:host")))
        return rc;
    if (req_ver_ge(r, MV(2, 30)) && !req_ver_ge(r, MV(2, 68)))
        m.force = servers_bool(json_object_get(lm, "force"));
    if (m.force && !m.host) return api_error(r, 400, "Can't force to a non-provided destination");
    struct instance_ref inst;
    if ((rc = precheck(r, req_param(r, "id"), "live_migrate", "os-migrateLive", &inst))) return rc;
    if (m.host && (rc = host_exists(r, m.host))) return rc;
    if (m.host && !strcmp(m.host, inst.host) && !req_ver_ge(r, MV(2, 34)))
        return api_error(r, 400, "Unable to migrate instance (%s) to current host (%s).", inst.uuid,
                         inst.host);
    return move(r, &m, "os-migrateLive", NULL);
}

/* ---- evacuate ---- */

struct evacuate {
    struct req *r;
    struct instance_ref *inst;
    const char *host;
    bool force; /* past the scheduler: a host before 2.29, or force=true */
    bool stop;  /* the guest ends stopped: 2.95, or it was stopped */
    int rc;
};

/* Nova's evacuate() after the state check: the source's compute service
 * must be down (forced down or no heartbeat within service_down_time). */
static int source_down(struct req *r, const char *host) {
    bool up;
    int rc = servers_host_up(r, host, &up);
    if (rc) return rc;
    return up ? api_error(r, 400, "Compute service of %s is still in use.", host) : 0;
}

/* The instance into REBUILDING, the migration (Nova's tombstone the
 * source finds when it comes back), the action and the conductor's cast. */
static enum db_status evacuate_txn(void *arg) {
    struct evacuate *e = arg;
    struct req *r = e->r;
    const char *uuid = e->inst->uuid;
    enum db_status st = instance_apply_state(r, uuid, "evacuate", "evacuate", &e->rc);
    if (st) return st;
    char mig_uuid[37];
    uuid_new(mig_uuid);
    const char *q[] = {mig_uuid, uuid, e->host, r->ctx.user_id, r->ctx.project_id};
    PGresult *res = NULL;
    st = db_query(&res,
                  "INSERT INTO migrations (uuid, instance_uuid, source_compute, source_node,"
                  " dest_compute, old_instance_type_id, new_instance_type_id, status,"
                  " migration_type, user_id, project_id, updated_at)"
                  " SELECT $1::uuid, i.uuid, i.host, i.node, $3,"
                  " (SELECT id FROM flavors WHERE flavorid = i.flavor->>'flavorid'),"
                  " (SELECT id FROM flavors WHERE flavorid = i.flavor->>'flavorid'),"
                  " 'accepted', 'evacuation', $4, $5, now()"
                  " FROM instances i WHERE i.uuid = $2::uuid AND i.deleted = 0 RETURNING id",
                  5, q);
    if (st) return st;
    char mid[24];
    snprintf(mid, sizeof mid, "%s", PQntuples(res) ? db_str(res, 0, 0) : "0");
    PQclear(res);
    if ((e->rc = instance_action_start(r, uuid, "evacuate"))) return DB_ERROR;
    char pub[300]; /* Nova's instance.evacuate, sent by its API */
    notify_publisher(pub, sizeof pub, "nova-api", NULL);
    if (notify_instance(uuid, "instance.evacuate", NULL, NULL, "INFO", pub, NULL) < 0)
        return DB_ERROR;
    json_t *args = json_pack("{s:s, s:s, s:s?, s:b, s:b}", "instance_uuid", uuid, "migration_id",
                             mid, "host", e->host, "force", e->force, "power_on", !e->stop);
    int out = outbox_add("conductor", "evacuate_instance", args);
    json_decref(args);
    return out < 0 ? DB_ERROR : DB_OK;
}

/* POST /servers/{id}/action {"evacuate": {host?, adminPass?,
 * onSharedStorage (until 2.13), force (2.29-2.67)}}: Nova's checks in its
 * order, then the conductor rebuilds the server on the target (the given
 * host, or the scheduler's choice without the source). */
int server_evacuate(struct req *r) {
    json_t *ev = json_object_get(r->body, "evacuate");
    struct evacuate e = {.r = r, .host = json_string_value(json_object_get(ev, "host"))};
    struct instance_ref inst;
    int rc = instance_find(r, req_param(r, "id"), &inst);
    if (rc) return rc;
    e.inst = &inst;
    bool v214 = req_ver_ge(r, MV(2, 14)), v229 = req_ver_ge(r, MV(2, 29));
    bool shared = !v214 && servers_bool(json_object_get(ev, "onSharedStorage"));
    if (v229) {
        e.force = servers_bool(json_object_get(ev, "force"));
        if (e.force && !e.host)
            return api_error(r, 400, "Can't force to a non-provided destination");
    } else {
        e.force = e.host != NULL; /* Nova's evacuate without force skips the scheduler */
    }
    const char *given = json_string_value(json_object_get(ev, "adminPass"));
    char generated[16] = "";
    if (given && shared)
        return api_error(r, 400, "admin password can't be changed on existing disk");
    if (!given && !shared) servers_generate_password(generated);
    const char *password = given ? given : shared ? NULL : generated;
    if (e.host) {
        const char *p[] = {e.host};
        PGresult *res;
        enum db_status st = db_query(&res,
                                     "SELECT 1 FROM services WHERE host = $1 AND \"binary\" ="
                                     " 'nova-compute' AND deleted = 0",
                                     1, p);
        if (st) return api_db_error(r, st);
        int found = PQntuples(res);
        PQclear(res);
        if (!found) return api_error(r, 404, "Compute host %s not found.", e.host);
    }
    if (!strcmp(e.host ? e.host : "", inst.host))
        return api_error(r, 400, "The target host can't be the same one.");
    if ((rc = precheck_state(r, &inst, "evacuate", "evacuate"))) return rc;
    if ((rc = source_down(r, inst.host))) return rc;
    e.stop = req_ver_ge(r, MV(2, 95)) || !strcmp(inst.vm_state, "stopped");
    enum db_status st = db_txn(evacuate_txn, &e);
    if (e.rc) return e.rc;
    if (st) return api_db_error(r, st);
    outbox_flush();
    if (v214) return api_reply(r, 200, NULL);
    if (!password_shown()) return api_reply(r, 200, json_object());
    return api_reply(
        r, 200, json_pack("{s:o}", "adminPass", password ? json_string(password) : json_null()));
}

/* ---- confirm and revert ---- */

struct finish {
    struct req *r;
    struct instance_ref *inst;
    bool revert;
    int rc;
};

static enum db_status finish_txn(void *arg) {
    struct finish *f = arg;
    struct req *r = f->r;
    const char *uuid = f->inst->uuid;
    const char *api_name = f->revert ? "revertResize" : "confirmResize";
    const char *p[] = {uuid, f->revert ? "reverting" : "confirming"};
    PGresult *res;
    enum db_status st = db_query(&res,
                                 "UPDATE migrations SET status = $2, updated_at = now()"
                                 " WHERE id = (SELECT id FROM migrations WHERE instance_uuid ="
                                 " $1::uuid AND status = 'finished' AND deleted = 0"
                                 " ORDER BY id DESC LIMIT 1) RETURNING id",
                                 2, p);
    if (st) return st;
    char mid[24] = "";
    if (PQntuples(res)) snprintf(mid, sizeof mid, "%s", db_str(res, 0, 0));
    PQclear(res);
    if (!mid[0]) {
        f->rc = api_error(r, 400, "Instance has not been resized.");
        return DB_ERROR;
    }
    if (f->revert) {
        /* going back to a bigger flavor needs its quota again */
        int rc = 0;
        json_t *row = instance_row(r, uuid, &rc);
        if (!rc && row)
            rc = quota_upsize(r, f->inst, json_object_get(row, "flavor"),
                              json_object_get(row, "old_flavor"));
        json_decref(row);
        if ((f->rc = rc)) return DB_ERROR;
    }
    st = instance_apply_state(r, uuid, f->revert ? "revert_resize" : "confirm_resize", api_name,
                              &f->rc);
    if (st) return st;
    if ((f->rc = instance_action_start(r, uuid, api_name))) return DB_ERROR;
    json_t *args = json_pack("{s:s, s:s}", "instance_uuid", uuid, "migration_id", mid);
    int out = outbox_add("conductor", f->revert ? "revert_resize" : "confirm_resize", args);
    json_decref(args);
    return out < 0 ? DB_ERROR : DB_OK;
}

static int finish(struct req *r, bool revert) {
    struct instance_ref inst;
    int rc = precheck(r, req_param(r, "id"), revert ? "revert_resize" : "confirm_resize",
                      revert ? "revertResize" : "confirmResize", &inst);
    if (rc) return rc;
    struct finish f = {r, &inst, revert, 0};
    enum db_status st = db_txn(finish_txn, &f);
    if (f.rc) return f.rc;
    if (st) return api_db_error(r, st);
    outbox_flush();
    return api_reply(r, revert ? 202 : 204, NULL);
}

int server_confirm_resize(struct req *r) {
    return finish(r, false);
}

int server_revert_resize(struct req *r) {
    return finish(r, true);
}

/* ---- the live migrations of a server (2.23) ---- */

#define STAMP(col) "to_char(" col " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US')"

enum {
    S_ID,
    S_UUID,
    S_INSTANCE,
    S_STATUS,
    S_TYPE,
    S_USER,
    S_PROJECT,
    S_CREATED,
    S_UPDATED,
    S_INTS
};

/* Nova's server_migrations output(): the host fields only when allowed
 * (null otherwise), uuid from 2.59, user and project from 2.80. */
static json_t *server_migration_json(const struct req *r, PGresult *res, int i, bool hosts) {
    static const char *const host_fields[] = {"source_compute", "dest_compute", "source_node",
                                              "dest_node", "dest_host"};
    static const char *const ints[] = {"memory_total_bytes",     "memory_processed_bytes",
                                       "memory_remaining_bytes", "disk_total_bytes",
                                       "disk_processed_bytes",   "disk_remaining_bytes"};
    json_t *m = json_pack("{s:I, s:s, s:s, s:s}", "id", (json_int_t)db_int(res, i, S_ID),
                          "server_uuid", db_str(res, i, S_INSTANCE), "status",
                          db_str(res, i, S_STATUS), "created_at", db_str(res, i, S_CREATED));
    json_object_set_new(m, "updated_at",
                        db_isnull(res, i, S_UPDATED) ? json_null()
                                                     : json_string(db_str(res, i, S_UPDATED)));
    for (int k = 0; k < 6; k++)
        json_object_set_new(
            m, ints[k],
            db_isnull(res, i, S_INTS + k) ? json_null() : json_integer(db_int(res, i, S_INTS + k)));
    for (int k = 0; k < 5; k++) {
        int col = S_INTS + 6 + k;
        json_object_set_new(m, host_fields[k],
                            hosts && !db_isnull(res, i, col) ? json_string(db_str(res, i, col))
                                                             : json_null());
    }
    if (req_ver_ge(r, MV(2, 59)))
        json_object_set_new(m, "uuid", json_string(db_str(res, i, S_UUID)));
    if (req_ver_ge(r, MV(2, 80))) {
        json_object_set_new(m, "user_id",
                            db_isnull(res, i, S_USER) ? json_null()
                                                      : json_string(db_str(res, i, S_USER)));
        json_object_set_new(m, "project_id",
                            db_isnull(res, i, S_PROJECT) ? json_null()
                                                         : json_string(db_str(res, i, S_PROJECT)));
    }
    return m;
}

#define SERVER_MIGRATIONS_SQL                                                                      \
    "SELECT id, uuid, instance_uuid, status, migration_type, user_id, project_id, " STAMP(         \
        "created_at") ", " STAMP("updated_at") ", memory_total, memory_processed, "                \
                                               "memory_remaining, disk_total, disk_processed, "    \
                                               "disk_remaining, source_compute, "                  \
                                               "dest_compute, source_node, dest_node, dest_host "  \
                                               "FROM migrations "                                  \
                                               "WHERE instance_uuid = $1::uuid AND deleted = 0 "

/* The statuses of a live migration in progress (Nova's show). */
static bool live_in_progress(const char *status) {
    static const char *const st[] = {"queued", "preparing", "running", "post-migrating"};
    for (size_t i = 0; i < sizeof st / sizeof st[0]; i++)
        if (!strcmp(st[i], status)) return true;
    return false;
}

int server_migrations_index(struct req *r) {
    struct instance_ref inst;
    int rc = instance_find(r, req_param(r, "server_id"), &inst);
    if (rc) return rc;
    const char *p[] = {inst.uuid};
    PGresult *res;
    enum db_status st = db_query(&res,
                                 SERVER_MIGRATIONS_SQL "AND migration_type = 'live-migration' "
                                                       "AND status NOT IN ('accepted', "
                                                       "'confirmed', 'reverted', 'error', "
                                                       "'failed', 'completed', 'cancelled', "
                                                       "'done') ORDER BY id",
                                 1, p);
    if (st) return api_db_error(r, st);
    /* os_compute_api:servers:migrations:index:host (admin) shows the hosts */
    json_t *list = json_array();
    for (int i = 0; i < PQntuples(res); i++)
        json_array_append_new(list, server_migration_json(r, res, i, r->ctx.is_admin));
    PQclear(res);
    return api_reply(r, 200, json_pack("{s:o}", "migrations", list));
}

int server_migrations_show(struct req *r) {
    struct instance_ref inst;
    int rc = instance_find(r, req_param(r, "server_id"), &inst);
    if (rc) return rc;
    const char *id = req_param(r, "id");
    long long n;
    char num[24] = ""; /* the parsed id: one past 64 bits is not found */
    const char *p[] = {inst.uuid, num};
    PGresult *res = NULL;
    if (str_to_int(id, &n)) {
        snprintf(num, sizeof num, "%lld", n);
        enum db_status st = db_query(&res, SERVER_MIGRATIONS_SQL "AND id = $2::bigint", 2, p);
        if (st) return api_db_error(r, st);
    }
    if (!res || !PQntuples(res)) {
        PQclear(res);
        return api_error(r, 404, "In-progress live migration %s is not found for server %s.", id,
                         inst.uuid);
    }
    if (strcmp(db_str(res, 0, S_TYPE), "live-migration"))
        rc = api_error(r, 404, "Migration %s for server %s is not live-migration.", id, inst.uuid);
    else if (!live_in_progress(db_str(res, 0, S_STATUS)))
        rc =
            api_error(r, 404, "Live migration %s for server %s is not in progress.", id, inst.uuid);
    else
        rc = api_reply(r, 200,
                       json_pack("{s:o}", "migration", server_migration_json(r, res, 0, true)));
    PQclear(res);
    return rc;
}

/* ---- aborting and forcing a live migration in progress ---- */

struct live_step {
    struct req *r;
    struct instance_ref *inst;
    const char *mid, *rule, *api_name, *record, *method, *allowed;
    int rc;
};

static enum db_status live_step_txn(void *arg) {
    struct live_step *l = arg;
    const char *p[] = {l->mid, l->inst->uuid, l->allowed};
    PGresult *res;
    enum db_status st = db_query(&res,
                                 "UPDATE migrations SET updated_at = now() WHERE id = $1::bigint"
                                 " AND instance_uuid = $2::uuid AND deleted = 0"
                                 " AND status = ANY($3::text[]) RETURNING id",
                                 3, p);
    if (st) return st;
    int n = PQntuples(res);
    PQclear(res);
    if (!n) { /* it moved on meanwhile */
        l->rc = api_error(l->r, 409, "There was a conflict when trying to complete your request.");
        return DB_ERROR;
    }
    if ((st = instance_apply_state(l->r, l->inst->uuid, l->rule, l->api_name, &l->rc))) return st;
    if ((l->rc = instance_action_start(l->r, l->inst->uuid, l->record))) return DB_ERROR;
    json_t *args = json_pack("{s:s, s:s}", "instance_uuid", l->inst->uuid, "migration_id", l->mid);
    int out = outbox_add("conductor", l->method, args);
    json_decref(args);
    return out < 0 ? DB_ERROR : DB_OK;
}

/* Nova's checks of both (lock, instance state, the migration of this
 * server and its status), then the action and the conductor's cast. */
static int live_step(struct req *r, struct live_step *l, int not_found_status,
                     const char *method_name) {
    struct instance_ref inst;
    int rc = precheck(r, req_param(r, "server_id"), l->rule, l->api_name, &inst);
    if (rc) return rc;
    l->r = r;
    l->inst = &inst;
    l->mid = req_param(r, "id");
    long long id;
    const char *p[] = {l->mid, inst.uuid};
    PGresult *res = NULL;
    if (str_to_int(l->mid, &id)) {
        enum db_status st = db_query(&res,
                                     "SELECT status FROM migrations WHERE id = $1::bigint"
                                     " AND instance_uuid = $2::uuid AND deleted = 0",
                                     2, p);
        if (st) return api_db_error(r, st);
    }
    if (!res || !PQntuples(res)) {
        PQclear(res);
        return api_error(r, not_found_status, "Migration %s not found for instance %s", l->mid,
                         inst.uuid);
    }
    char status[32];
    snprintf(status, sizeof status, "%s", db_str(res, 0, 0));
    PQclear(res);
    char quoted[40];
    snprintf(quoted, sizeof quoted, ",%s,", status);
    char allowed[64];
    snprintf(allowed, sizeof allowed, ",%.*s,", (int)strlen(l->allowed) - 2, l->allowed + 1);
    if (!strstr(allowed, quoted))
        return api_error(r, 400,
                         "Migration %s state of instance %s is %s. Cannot %s while the migration"
                         " is in this state.",
                         l->mid, inst.uuid, status, method_name);
    enum db_status st = db_txn(live_step_txn, l);
    if (l->rc) return l->rc;
    if (st) return api_db_error(r, st);
    outbox_flush();
    return api_reply(r, 202, NULL);
}

/* DELETE /servers/{server_id}/migrations/{id} (2.24): the conductor rolls
 * the move back (the target's copy goes, the source runs the guest). */
int server_migrations_delete(struct req *r) {
    struct live_step l = {.rule = "live_migrate_abort",
                          .api_name = "abort live migration",
                          .record = "live_migration_cancel",
                          .method = "live_migration_abort",
                          .allowed = req_ver_ge(r, MV(2, 65)) ? "{running,queued,preparing}"
                                                              : "{running}"};
    return live_step(r, &l, 404, "abort live migration");
}

/* force_complete (2.22): a cnova live migration has no convergence phase
 * to cut short (the guest is switched over as soon as the target runs it),
 * so the conductor records the request as done. */
int server_migrations_force_complete(struct req *r) {
    struct live_step l = {.rule = "live_migrate_force_complete",
                          .api_name = "force_complete",
                          .record = "live_migration_force_complete",
                          .method = "live_migration_force_complete",
                          .allowed = "{running}"};
    return live_step(r, &l, 400, "force complete");
}
