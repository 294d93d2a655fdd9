/* remote_consoles.c — POST /servers/{server_id}/remote-consoles (2.6+) and
 * the older actions os-getVNCConsole, os-getSPICEConsole and
 * os-getSerialConsole (2.1-2.5). The instance's compute host is asked over
 * an RPC call where the guest's console listens (and whether that protocol
 * and type are enabled there); the API then stores a console auth token
 * (console_auth_tokens, hashed) and answers the proxy URL carrying it, as
 * Nova's compute manager and ConsoleAuthToken.access_url do. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"

/* The old actions: body key, protocol, and Nova's compute API method (the
 * name its 409 for a rejected task state quotes). */
static const struct {
    const char *action, *protocol, *method;
} actions[] = {
    {"os-getVNCConsole", "vnc", "get_vnc_console"},
    {"os-getSPICEConsole", "spice", "get_spice_console"},
    {"os-getSerialConsole", "serial", "get_serial_console"},
};

static const char *method_of(const char *protocol) {
    for (size_t i = 0; i < sizeof actions / sizeof actions[0]; i++)
        if (!strcmp(actions[i].protocol, protocol)) return actions[i].method;
    return "get_mks_console";
}

/* Python's urllib.parse.quote_plus. */
static void quote_plus(struct sbuf *b, const char *s) {
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (isalnum(*p) || strchr("_.-~", *p))
            sbuf_add(b, (const char *)p, 1);
        else if (*p == ' ')
            sbuf_add(b, "+", 1);
        else
            sbuf_addf(b, "%%%02X", *p);
    }
}

static int hexval(int c) {
    return isdigit(c) ? c - '0' : isxdigit(c) ? (tolower(c) - 'a' + 10) : -1;
}

/* Appends the form-decoded s[0..n) (Python's unquote_plus). */
static void unquote_plus(struct sbuf *b, const char *s, size_t n) {
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '%' && i + 2 < n && hexval(s[i + 1]) >= 0 && hexval(s[i + 2]) >= 0) {
            char c = (char)(hexval(s[i + 1]) * 16 + hexval(s[i + 2]));
            sbuf_add(b, &c, 1);
            i += 2;
        } else {
            sbuf_add(b, s[i] == '+' ? " " : &s[i], 1);
        }
    }
}

/* ConsoleAuthToken.access_url: noVNC (1.1 and later) takes the token inside
 * its "path" query parameter ("path=<old path>?token=<token>", form
 * encoded); every other console gets "?token=<token>" after the base. */
static char *access_url(const char *base, const char *console_type, const char *token) {
    struct sbuf b = {0};
    if (strcmp(console_type, "novnc")) {
        sbuf_addf(&b, "%s?token=%s", base, token);
        return b.s;
    }
    size_t hash = strcspn(base, "#");
    const char *q = memchr(base, '?', hash);
    size_t qstart = q ? (size_t)(q - base) + 1 : hash;
    sbuf_add(&b, base, q ? qstart - 1 : hash);
    sbuf_add(&b, "?", 1);
    bool have_path = false, first = true;
    for (size_t i = qstart; q && i < hash;) {
        size_t n = strcspn(base + i, "&#");
        if (n > hash - i) n = hash - i;
        const char *kv = base + i;
        if (n) {
            if (!first) sbuf_add(&b, "&", 1);
            first = false;
            if (n >= 5 && !strncmp(kv, "path=", 5)) {
                /* the old path, then our token, encoded again */
                struct sbuf v = {0};
                sbuf_add(&v, "", 0);
                unquote_plus(&v, kv + 5, n - 5);
                sbuf_addf(&v, "?token=%s", token);
                sbuf_add(&b, "path=", 5);
                quote_plus(&b, v.s);
                sbuf_free(&v);
                have_path = true;
            } else {
                sbuf_add(&b, kv, n);
            }
        }
        i += n + (i + n < hash);
    }
    if (!have_path) {
        char v[64];
        snprintf(v, sizeof v, "?token=%s", token);
        if (!first) sbuf_add(&b, "&", 1);
        sbuf_add(&b, "path=", 5);
        quote_plus(&b, v);
    }
    sbuf_addf(&b, "%s", base + hash);
    return b.s;
}

/* Stores the token for the console `c` (the compute host's answer) and
 * writes its URL into *url (malloc'd). 0 or the error's status. */
static int authorize(struct req *r, const char *uuid, json_t *c, char **url) {
    char token[37], port[16], tls[16], ttl[24];
    uuid_new(token);
    json_t *jtls = json_object_get(c, "tls_port");
    snprintf(port, sizeof port, "%lld", json_integer_value(json_object_get(c, "port")));
    snprintf(tls, sizeof tls, "%lld", json_integer_value(jtls));
    snprintf(ttl, sizeof ttl, "%ld", config_int("consoleauth", "token_ttl", 600));
    const char *type = json_string_value(json_object_get(c, "console_type"));
    const char *base = json_string_value(json_object_get(c, "access_url_base"));
    const char *p[] = {token,
                       type,
                       json_string_value(json_object_get(c, "host")),
                       port,
                       json_is_integer(jtls) ? tls : NULL,
                       json_string_value(json_object_get(c, "internal_access_path")),
                       uuid,
                       base,
                       ttl};
    if (!type || !p[2] || !base) return api_unexpected(r, "nova.exception.ConsoleTypeInvalid");
    /* Tokens past their time are swept as new ones are made. */
    enum db_status st = db_exec("DELETE FROM console_auth_tokens"
                                " WHERE expires < extract(epoch FROM now())::bigint",
                                0, NULL);
    if (!st)
        st = db_exec("INSERT INTO console_auth_tokens (token_hash, console_type, host, port,"
                     " tls_port, internal_access_path, instance_uuid, access_url_base, expires)"
                     " VALUES (encode(sha256(convert_to($1, 'UTF8')), 'hex'), $2, $3, $4::int,"
                     " $5::int, $6, $7::uuid, $8,"
                     " extract(epoch FROM now())::bigint + $9::bigint)",
                     9, p);
    if (st) return api_db_error(r, st);
    *url = access_url(base, type, token);
    return 0;
}

/* Nova's compute API get_<protocol>_console and its controller's mapping of
 * the exceptions. 0 with *url set, or the error's status. */
static int console_url(struct req *r, const struct instance_ref *inst, const char *protocol,
                       const char *type, char **url) {
    if (!inst->host[0]) return api_error(r, 409, "Instance %s is not ready", inst->uuid);
    if (!strcmp(inst->task_state, "deleting") || !strcmp(inst->task_state, "migrating"))
        return api_error(r, 409, "Cannot '%s' instance %s while it is in task_state %s",
                         method_of(protocol), inst->uuid, inst->task_state);
    char topic[300];
    snprintf(topic, sizeof topic, "compute.%s", inst->host);
    json_t *args = json_pack("{s:s, s:s, s:s}", "uuid", inst->uuid, "protocol", protocol,
                             "console_type", type);
    const char *err = NULL;
    json_t *res = rpc_call(topic, "get_remote_console", args,
                           (int)config_int("rpc", "call_timeout", 60) * 1000, &err);
    json_decref(args);
    if (!res) {
        log_msg(LOG_WARNING, r->request_id, "get_remote_console on %s: %s", topic,
                err ? err : "no answer");
        if (err && !strcmp(err, "timeout"))
            return api_unexpected(r, "oslo_messaging.exceptions.MessagingTimeout");
        if (err && !strcmp(err, "unreachable"))
            return api_unexpected(r, "oslo_messaging.exceptions.MessageDeliveryFailure");
        return api_unexpected(r, "oslo_messaging.rpc.client.RemoteError");
    }
    const char *e = json_string_value(json_object_get(res, "error"));
    const char *ct = json_string_value(json_object_get(res, "console_type"));
    int rc = 0;
    if (!e)
        rc = authorize(r, inst->uuid, res, url);
    else if (!strcmp(e, "ConsoleTypeUnavailable"))
        rc = api_error(r, 400, "Unavailable console type %s.", ct ? ct : type);
    else if (!strcmp(e, "ConsoleTypeInvalid"))
        rc = api_error(r, 400, "Invalid console type %s", ct ? ct : type);
    else if (!strcmp(e, "InstanceNotFound") && !strcmp(inst->vm_state, "building"))
        rc = api_error(r, 409, "Instance %s is not ready", inst->uuid);
    else if (!strcmp(e, "InstanceNotFound"))
        rc = api_error(r, 404, "Instance %s could not be found.", inst->uuid);
    else
        rc = api_error(r, 501, "The requested functionality is not supported.");
    json_decref(res);
    return rc;
}

int remote_consoles_create(struct req *r) {
    struct instance_ref inst;
    int rc = instance_find(r, req_param(r, "server_id"), &inst);
    if (rc) return rc;
    json_t *rcon = json_object_get(r->body, "remote_console");
    const char *protocol = json_string_value(json_object_get(rcon, "protocol"));
    const char *type = json_string_value(json_object_get(rcon, "type"));
    /* RDP went with the Hyper-V driver */
    if (!strcmp(protocol, "rdp"))
        return api_error(r, 400, "Unavailable console type %s.", protocol);
    char *url = NULL;
    if ((rc = console_url(r, &inst, protocol, type, &url))) return rc;
    json_t *body = json_pack("{s:{s:s, s:s, s:s}}", "remote_console", "protocol", protocol, "type",
                             type, "url", url);
    free(url);
    return api_reply(r, 200, body);
}

int remote_consoles_action(struct req *r) {
    const char *protocol = NULL;
    for (size_t i = 0; i < sizeof actions / sizeof actions[0]; i++)
        if (!strcmp(actions[i].action, r->route->action)) protocol = actions[i].protocol;
    if (!protocol) return api_error(r, 501, "The requested functionality is not supported.");
    const char *type =
        json_string_value(json_object_get(json_object_get(r->body, r->route->action), "type"));
    struct instance_ref inst;
    int rc = instance_find(r, req_param(r, "id"), &inst);
    if (rc) return rc;
    char *url = NULL;
    if ((rc = console_url(r, &inst, protocol, type, &url))) return rc;
    json_t *body = json_pack("{s:{s:s, s:s}}", "console", "type", type, "url", url);
    free(url);
    return api_reply(r, 200, body);
}
