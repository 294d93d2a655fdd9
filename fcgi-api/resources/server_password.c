/* server_password.c — /servers/{server_id}/os-server-password: the
 * encrypted admin password a guest posted to the metadata service, kept in
 * instances.system_metadata ("password", or Nova's 255-character chunks
 * "password_0".."password_3"). GET shows it ("" when none), DELETE clears it. */
#include "api.h"
#include "servers.h"

int server_password_index(struct req *r) {
    struct instance_ref inst;
    int err = instance_find(r, req_param(r, "server_id"), &inst);
    if (err) return err;
    const char *params[] = {inst.uuid};
    PGresult *res;
    enum db_status st = db_query(
        &res, "SELECT " SERVER_PASSWORD_SQL " FROM instances WHERE uuid = $1::uuid", 1, params);
    if (st) return api_db_error(r, st);
    json_t *body = json_pack("{s:s}", "password", PQntuples(res) ? db_str(res, 0, 0) : "");
    PQclear(res);
    return api_reply(r, 200, body);
}

int server_password_clear(struct req *r) {
    struct instance_ref inst;
    int err = instance_find(r, req_param(r, "server_id"), &inst);
    if (err) return err;
    const char *params[] = {inst.uuid};
    enum db_status st = db_exec("UPDATE instances SET system_metadata = system_metadata"
                                " - 'password' - 'password_0' - 'password_1' - 'password_2'"
                                " - 'password_3', updated_at = now() WHERE uuid = $1::uuid",
                                1, params);
    return st ? api_db_error(r, st) : api_reply(r, 204, NULL);
}
