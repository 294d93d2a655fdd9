/* fuzz_router.c — libFuzzer target: the router (fcgi-api/router.c).
 * Input: a method byte, a version byte, then a path (percent-encoded as a
 * request URI, without prefix), '\n', and the key of an action body. Checks
 * that a match is 0/404/405, that 405 lists methods other than the one
 * asked, and that a matched row has the method and its parameters. */
#include "fuzz.h"

/* True when `m` is one of the comma-separated names in `allow`. */
static bool listed(const char *allow, const char *m) {
    size_t n = strlen(m);
    for (const char *p = allow; *p;) {
        size_t len = strcspn(p, ",");
        if (len == n && !strncmp(p, m, n)) return true;
        p += len;
        while (*p == ',' || *p == ' ')
            p++;
    }
    return false;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    fuzz_init();
    if (size < 2) return 0;
    enum http_method m = (enum http_method)(data[0] % (METHOD_OTHER + 1));
    int version = MV(2, data[1] % 110);
    data += 2, size -= 2;
    size_t plen = fuzz_line(data, size);
    char *path = fuzz_str(data, plen);
    char *key = plen < size ? fuzz_str(data + plen + 1, size - plen - 1) : NULL;
    router_is_collection(path, strcspn(path, "/"));

    struct req r;
    req_init(&r, m == METHOD_OTHER ? "BREW" : router_method_name(m), path, NULL);
    r.version = version < MV_MIN ? MV_LEGACY : version;
    r.legacy = version < MV_MIN;
    char allow[128];
    int st = router_match(&r, allow, sizeof allow);
    if (st == 405) {
        if (!allow[0] || listed(allow, router_method_name(m))) abort();
    } else if (st == 0) {
        if (r.route->method != m) abort();
        int want = 0;
        for (const char *p = r.route->path; (p = strchr(p, '{')); p++)
            want++;
        if (r.nparams != (want < MAX_PARAMS ? want : MAX_PARAMS)) abort();
        for (int i = 0; i < r.nparams; i++)
            if (req_param(&r, r.param_names[i]) == NULL) abort();
        if (key) {
            r.body = json_object();
            json_object_set_new(r.body, key, json_object());
            st = router_action(&r);
            if (st != 0 && st != 400 && st != 404) abort();
            if (st == 0 && r.route->action && strcmp(r.route->action, key)) abort();
        }
    } else if (st != 404)
        abort();
    req_free(&r);
    free(path);
    free(key);
    return 0;
}
