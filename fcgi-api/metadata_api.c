/* metadata_api.c — the metadata service face of cnova-api: what guests
 * read at http://169.254.169.254/ (Nova's nova-metadata-api). nginx's
 * metadata server block (its own port, and a unix socket the proxies in the
 * qdhcp namespaces reach) marks its requests CNOVA_FACE=metadata.
 *
 * Guests are identified as Neutron's metadata proxy identifies them (Nova's
 * [neutron] service_metadata_proxy): X-Instance-ID and X-Tenant-ID, signed
 * with X-Instance-ID-Signature = HMAC-SHA256([neutron]
 * metadata_proxy_shared_secret, instance id), so no guest reads another's
 * data. Answers are text or JSON, errors webob's plain text, as Nova's. */
#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "metadata.h"
#include "resources/servers.h"

static void answer(struct req *r, struct sbuf *out, int status, const char *mime, const char *body,
                   size_t len) {
    r->status = status;
    sbuf_addf(out,
              "Status: %d %s\r\nContent-Type: %s; charset=UTF-8\r\nContent-Length: %zu\r\n"
              "x-openstack-request-id: %s\r\n\r\n",
              status, api_status_reason(status), mime, len, r->request_id);
    sbuf_add(out, body, len);
}

/* webob's plain-text error page, which Nova's metadata service answers. */
static void fail(struct req *r, struct sbuf *out, int status, const char *explanation) {
    char body[512];
    int n = snprintf(body, sizeof body, "%d %s\n\n%s\n\n   ", status, api_status_reason(status),
                     explanation     ? explanation
                     : status == 404 ? "The resource could not be found."
                                     : "");
    answer(r, out, status, "text/plain", body, (size_t)n < sizeof body ? (size_t)n : 0);
}

/* The guest's document, or NULL with the error answered. */
static json_t *guest_doc(struct req *r, struct sbuf *out) {
    const char *id = req_header(r, "X-Instance-ID");
    const char *tenant = req_header(r, "X-Tenant-ID");
    const char *sig = req_header(r, "X-Instance-ID-Signature");
    const char *missing = !id       ? "X-Instance-ID header is missing from request."
                          : !sig    ? "X-Instance-ID-Signature header is missing from request."
                          : !tenant ? "X-Tenant-ID header is missing from request."
                                    : NULL;
    if (missing) {
        fail(r, out, 400, missing);
        return NULL;
    }
    char want[65];
    metadata_sign(config_get("neutron", "metadata_proxy_shared_secret", ""), id, want);
    if (strlen(sig) != 64 || CRYPTO_memcmp(want, sig, 64)) {
        log_msg(LOG_WARNING, r->request_id,
                "X-Instance-ID-Signature %s does not match the expected signature for id %s", sig,
                id);
        fail(r, out, 403, "Invalid proxy request signature.");
        return NULL;
    }
    if (!uuid_valid(id)) {
        fail(r, out, 404, NULL);
        return NULL;
    }
    const char *p[] = {id};
    PGresult *res;
    enum db_status st = db_query(&res, METADATA_DOC_SQL, 1, p);
    if (st) {
        fail(r, out, st == DB_UNAVAILABLE ? 503 : 500,
             "An unknown error has occurred. Please try your request again.");
        return NULL;
    }
    json_t *doc = PQntuples(res) ? json_loads(db_str(res, 0, 0), 0, NULL) : NULL;
    PQclear(res);
    /* another project's instance is not found, as in Nova */
    if (doc && strcmp(json_string_value(json_object_get(doc, "project_id")), tenant)) {
        log_msg(LOG_WARNING, r->request_id, "tenant_id %s does not match instance %s", tenant, id);
        json_decref(doc);
        doc = NULL;
    }
    if (!doc) fail(r, out, 404, NULL);
    return doc;
}

/* openstack/<version>/password: GET reads it, POST sets it once (at most
 * 256 bytes, kept as Nova keeps it: password_0..3 of 255 characters). */
static void password(struct req *r, struct sbuf *out, const char *id) {
    /* the body as it arrives: at most 257 bytes are worth reading */
    char body[258];
    size_t len = 0;
    long n = 1;
    while (r->method == POST && len < sizeof body - 1 &&
           (n = req_body_read(r, body + len, sizeof body - 1 - len)) > 0)
        len += (size_t)n;
    body[len] = 0;
    const char *p[] = {id, body};
    PGresult *res;
    if (r->method == GET) {
        enum db_status st = db_query(&res,
                                     "SELECT " SERVER_PASSWORD_SQL " FROM instances"
                                     " WHERE uuid = $1::uuid AND deleted = 0",
                                     1, p);
        if (st) {
            fail(r, out, 500, NULL);
        } else {
            const char *pw = PQntuples(res) ? db_str(res, 0, 0) : "";
            answer(r, out, 200, "text/plain", pw, strlen(pw));
            PQclear(res);
        }
    } else if (r->method != POST) {
        fail(r, out, 400, "GET and POST only are supported.");
    } else if (len > 256 || r->content_length > 256 || strlen(body) != len) {
        fail(r, out, 400, "Request is too large.");
    } else if (db_query(&res,
                        "UPDATE instances SET system_metadata = system_metadata ||"
                        " jsonb_build_object('password_0', substr($2, 1, 255),"
                        " 'password_1', substr($2, 256, 255), 'password_2', substr($2, 511, 255),"
                        " 'password_3', substr($2, 766, 255)), updated_at = now()"
                        " WHERE uuid = $1::uuid AND deleted = 0"
                        " AND " SERVER_PASSWORD_SQL " = '' RETURNING 1",
                        2, p)) {
        fail(r, out, 500, NULL);
    } else {
        /* set once: Nova's conflict when the guest has set it already */
        int set = PQntuples(res);
        PQclear(res);
        if (set)
            answer(r, out, 200, "text/plain", "", 0);
        else
            fail(r, out, 409, "There was a conflict when trying to complete your request.");
    }
}

void metadata_serve(struct req *r, struct sbuf *out) {
    if (!r->request_id[0]) request_id_new(r->request_id);
    const char *domain = config_get("api", "dhcp_domain", "novalocal");
    struct metadata_item it = {0};
    /* "/" lists the EC2 versions to anyone, as Nova does */
    bool root = strspn(r->path, "/") == strlen(r->path);
    json_t *doc = root ? json_object() : guest_doc(r, out);
    if (doc) {
        switch (metadata_lookup(doc, r->path, domain, &it)) {
        case METADATA_OK:
            answer(r, out, 200, it.mime, it.data, it.len);
            break;
        case METADATA_PASSWORD:
            password(r, out, json_string_value(json_object_get(doc, "uuid")));
            break;
        default:
            fail(r, out, 404, NULL);
        }
    }
    metadata_item_free(&it);
    json_decref(doc);
    log_msg(r->status >= 500 ? LOG_ERROR : LOG_INFO, r->request_id, "metadata %s %s status: %d",
            r->method_name, r->path, r->status);
}
