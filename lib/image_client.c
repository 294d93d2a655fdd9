/* image_client.c — see image_client.h. libcurl, one easy handle a call. */
#include <curl/curl.h>
#include <stdbool.h>
#include <string.h>

#include "cnova.h"
#include "image_client.h"
#include "ks_client.h"

static size_t discard(char *p, size_t size, size_t n, void *ud) {
    (void)p, (void)ud;
    return size * n;
}

int image_call(const struct image_call *c) {
    static bool curl_ready;
    if (!curl_ready) {
        curl_global_init(CURL_GLOBAL_DEFAULT);
        curl_ready = true;
    }
    /* the first of a comma-separated list, as Nova takes one of them */
    const char *servers = config_get("glance", "api_servers", "");
    if (!*servers) servers = "http://127.0.0.1:8774/image";
    size_t n = strcspn(servers, ",");
    while (n && servers[n - 1] == '/')
        n--;
    struct sbuf url = {0}, hdr = {0}, ct = {0};
    sbuf_addf(&url, "%.*s/v2/images/%s%s", (int)n, servers, c->image_id, c->suffix);
    /* with a Keystone, the service user's own token; else noauth2's */
    char tok[2048];
    if (!ks_configured() || ks_service_token(tok, sizeof tok, false))
        snprintf(tok, sizeof tok, "%s", config_get("glance", "service_token", "admin:admin"));
    sbuf_addf(&hdr, "X-Auth-Token: %s", tok);
    CURL *h = curl_easy_init();
    struct curl_slist *headers = curl_slist_append(NULL, hdr.s);
    if (c->ctype) {
        sbuf_addf(&ct, "Content-Type: %s", c->ctype);
        headers = curl_slist_append(headers, ct.s);
    }
    curl_easy_setopt(h, CURLOPT_URL, url.s);
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, c->method);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
    if (c->out)
        curl_easy_setopt(h, CURLOPT_WRITEDATA, c->out);
    else
        curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, discard);
    if (c->body) curl_easy_setopt(h, CURLOPT_POSTFIELDS, c->body);
    if (c->in) {
        curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
        curl_easy_setopt(h, CURLOPT_READDATA, c->in);
        curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, (curl_off_t)c->in_len);
    }
    curl_easy_setopt(h, CURLOPT_FAILONERROR, 1L);
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 10L);
    /* a stalled transfer (under 1 KiB/s for 60 s) fails, a slow one not */
    curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1024L);
    curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, 60L);
    CURLcode cc = curl_easy_perform(h);
    if (cc != CURLE_OK)
        log_error("image %s: %s %s: %s", c->image_id, c->method, url.s, curl_easy_strerror(cc));
    curl_slist_free_all(headers);
    curl_easy_cleanup(h);
    sbuf_free(&url);
    sbuf_free(&hdr);
    sbuf_free(&ct);
    return cc == CURLE_OK ? 0 : -1;
}
