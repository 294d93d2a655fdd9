/* server_external_events.c — POST /os-server-external-events: other
 * services (Neutron, Cinder, Cyborg, Ironic) tell Nova about a server's
 * ports, volumes, power or accelerators. Each event is answered on its
 * own: 200 accepted, 404 unknown server, 400 a tag it needs is missing,
 * 422 the server has no host yet; the whole answer is 200 when all were
 * accepted, else 207. As Nova, volume-extended and power-update record an
 * instance action (extend_volume, start/stop); nothing more is needed for
 * the built-in network and volumes, so nothing is sent to the hosts. */
#include <string.h>

#include "api.h"

/* Events that mean nothing without a tag. */
static const char *const tag_required[] = {"volume-extended", "power-update",
                                           "accelerator-request-bound", NULL};

static bool needs_tag(const char *name) {
    for (const char *const *t = tag_required; *t; t++)
        if (!strcmp(*t, name)) return true;
    return false;
}

/* The instance action an accepted event records, or NULL. */
static const char *action_for(const char *name, const char *tag) {
    if (!strcmp(name, "volume-extended")) return "extend_volume";
    if (strcmp(name, "power-update") || !tag) return NULL;
    if (!strcmp(tag, "POWER_ON")) return "start";
    if (!strcmp(tag, "POWER_OFF")) return "stop";
    return NULL;
}

static void set_result(json_t *ev, const char *status, int code) {
    json_object_set_new(ev, "status", json_string(status));
    json_object_set_new(ev, "code", json_integer(code));
}

int server_external_events_create(struct req *r) {
    json_t *events = json_deep_copy(json_object_get(r->body, "events"));
    int result = 200;
    enum db_status st = db_begin();
    size_t i;
    json_t *ev;
    json_array_foreach(events, i, ev) {
        if (st) break;
        const char *uuid = json_string_value(json_object_get(ev, "server_uuid"));
        const char *name = json_string_value(json_object_get(ev, "name"));
        const char *tag = json_string_value(json_object_get(ev, "tag"));
        const char *params[] = {uuid};
        PGresult *res;
        st = db_query(&res,
                      "SELECT COALESCE(host, '') FROM instances"
                      " WHERE uuid = $1::uuid AND deleted = 0",
                      1, params);
        if (st) break;
        bool found = PQntuples(res) > 0, hosted = found && *db_str(res, 0, 0);
        PQclear(res);
        if (!found) {
            set_result(ev, "failed", 404);
            result = 207;
        } else if (needs_tag(name) && !tag) {
            set_result(ev, "failed", 400);
            result = 207;
        } else if (!hosted) {
            set_result(ev, "failed", 422);
            result = 207;
        } else {
            set_result(ev, "completed", 200);
            const char *action = action_for(name, tag);
            int rc = action ? instance_action_start(r, uuid, action) : 0;
            if (rc) {
                db_rollback();
                json_decref(events);
                return rc;
            }
        }
    }
    if (!st) st = db_commit();
    if (st) {
        db_rollback();
        json_decref(events);
        return api_db_error(r, st);
    }
    return api_reply(r, result, json_pack("{s:o}", "events", events));
}
