/* fuzz_microversion.c — libFuzzer target: the microversion headers
 * (req_parse_version in fcgi-api/api.c, mv_parse in lib/util.c).
 * Input: a flags byte (bit 0: legacy /v2), then the OpenStack-API-Version
 * value, '\n', the X-OpenStack-Nova-API-Version value; an empty value is
 * sent as a header that is absent. Checks: 0 leaves a version in
 * [2.1, max] (2.0 on /v2), else 400 or 406 with a fault body. */
#define _GNU_SOURCE /* asprintf */
#include <stdio.h>

#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    fuzz_init();
    if (size < 1) return 0;
    bool legacy = data[0] & 1;
    data++, size--;
    size_t n1 = fuzz_line(data, size);
    char *h1 = fuzz_str(data, n1);
    char *h2 = n1 < size ? fuzz_str(data + n1 + 1, size - n1 - 1) : strdup("");

    int v = mv_parse(h1);
    if (v && (v < MV(0, 0) || v > MV(1000, 999))) abort();

    char *env[3] = {NULL, NULL, NULL};
    int k = 0;
    if (*h1 && asprintf(&env[k], "HTTP_OPENSTACK_API_VERSION=%s", h1) > 0) k++;
    if (*h2 && asprintf(&env[k], "HTTP_X_OPENSTACK_NOVA_API_VERSION=%s", h2) > 0) k++;
    struct req r;
    req_init(&r, "GET", "/servers", env);
    r.legacy = legacy;
    int st = req_parse_version(&r);
    if (st == 0) {
        if (legacy ? r.version != MV_LEGACY : (r.version < MV_MIN || r.version > MV_MAX)) abort();
    } else if ((st != 400 && st != 406) || !r.resp || r.status != st)
        abort();
    req_free(&r);
    for (int i = 0; i < k; i++)
        free(env[i]);
    free(h1);
    free(h2);
    return 0;
}
