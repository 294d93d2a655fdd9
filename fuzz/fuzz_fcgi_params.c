/* fuzz_fcgi_params.c — libFuzzer target: our layer over the FastCGI
 * parameters (libfcgi decodes the records; req_from_params in
 * fcgi-api/api.c reads REQUEST_METHOD, REQUEST_URI, CONTENT_TYPE,
 * CONTENT_LENGTH, the host and the HTTP_* headers), then the front door of
 * a compute request (api_route: prefix, router, auth, microversion, body,
 * action, schema, policy) and the rendered response. Input: "NAME=value"
 * lines, an empty line, then the body as it arrives on stdin (its length
 * need not match CONTENT_LENGTH). Handlers that need the database are not
 * called; the pure ones (version documents, 410, 501) are. */
#include "fuzz.h"

#define MAX_PARAMS_IN 64

struct stream {
    const uint8_t *p;
    size_t left;
};

/* struct req's body_read over the input, at most 4 KiB a call (as
 * FastCGI stdin records arrive). */
static long read_mem(void *arg, char *buf, size_t n) {
    struct stream *s = arg;
    if (!s->left) return 0;
    if (n > s->left) n = s->left;
    if (n > 4096) n = 4096;
    memcpy(buf, s->p, n);
    s->p += n;
    s->left -= n;
    return (long)n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    fuzz_init();
    char *env[MAX_PARAMS_IN + 1];
    int n = 0;
    while (size && n < MAX_PARAMS_IN) {
        size_t len = fuzz_line(data, size);
        bool last = len == size;
        if (!len) { /* the empty line: the body follows */
            data++, size--;
            break;
        }
        env[n++] = fuzz_str(data, len);
        data += len + !last, size -= len + !last;
    }
    env[n] = NULL;
    struct stream in = {data, size};
    struct req r;
    req_from_params(&r, env);
    r.body_read = read_mem;
    r.body_arg = &in;
    req_parse_query(&r);
    if (!image_service_path(r.path)) { /* the image service reads its registry */
        int st = api_route(&r);
        if (st == 0) {
            if (!r.route) abort();
            handler_fn h = r.route->handler;
            st = h == versions_show || h == not_built || h == gone ? h(&r) : 200;
        }
        r.status = st;
        if (st < 200 || st > 599) abort();
        struct sbuf out = {0};
        api_render(&r, &out);
        if (strncmp(out.s, "Status: ", 8)) abort();
        sbuf_free(&out);
    }
    req_free(&r);
    for (int i = 0; i < n; i++)
        free(env[i]);
    return 0;
}
