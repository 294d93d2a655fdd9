/* console_auth_tokens.c — GET /os-console-auth-tokens/{id} (admin): what a
 * console proxy asks to learn where a token's console is. The token is
 * looked up by its SHA-256 (only the hash is stored, remote_consoles.c)
 * and must not have expired. Before 2.31 the route served RDP consoles
 * only, which went with the Hyper-V driver: Nova answers a bare 400 there. */
#include <string.h>

#include "api.h"

int console_auth_tokens_show(struct req *r) {
    if (!req_ver_ge(r, MV(2, 31)))
        return api_error(r, 400,
                         "The server could not comply with the request since it is "
                         "either malformed or otherwise incorrect.");
    const char *p[] = {req_param(r, "id")};
    PGresult *res;
    enum db_status st = db_query(&res,
                                 "SELECT instance_uuid, host, port, internal_access_path,"
                                 " tls_port, console_type FROM console_auth_tokens"
                                 " WHERE token_hash = encode(sha256(convert_to($1, 'UTF8')), 'hex')"
                                 " AND expires > extract(epoch FROM now())::bigint",
                                 1, p);
    if (st) return api_db_error(r, st);
    if (PQntuples(res) == 0) {
        PQclear(res);
        return api_error(r, 404, "Token not found");
    }
    json_t *c =
        json_pack("{s:s, s:s, s:I, s:o}", "instance_uuid", db_str(res, 0, 0), "host",
                  db_str(res, 0, 1), "port", (json_int_t)db_int(res, 0, 2), "internal_access_path",
                  db_isnull(res, 0, 3) ? json_null() : json_string(db_str(res, 0, 3)));
    /* 2.99: the TLS port of a spice-direct console */
    if (req_ver_ge(r, MV(2, 99)) && !strcmp(db_str(res, 0, 5), "spice-direct"))
        json_object_set_new(c, "tls_port",
                            db_isnull(res, 0, 4) ? json_null() : json_integer(db_int(res, 0, 4)));
    PQclear(res);
    return api_reply(r, 200, json_pack("{s:o}", "console", c));
}
