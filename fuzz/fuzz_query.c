/* fuzz_query.c — libFuzzer target: the query-string parser
 * (req_parse_query in fcgi-api/api.c) and what reads its map: req_query,
 * paging_limit, paging_link, and the query schemas (lib/validate.c,
 * VALIDATE_QUERY). Input: a byte choosing the query schema, then the raw
 * query string (what follows '?'). */
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    fuzz_init();
    if (size < 1) return 0;
    const json_t *schemas = fuzz_schemas("query");
    const json_t *schema = json_array_get(schemas, data[0] % json_array_size(schemas));
    struct req r;
    req_init(&r, "GET", "/servers", NULL);
    free(r.query);
    r.query = fuzz_str(data + 1, size - 1);
    snprintf(r.prefix, sizeof r.prefix, "/v2.1");
    req_parse_query(&r);
    if (!json_is_object(r.query_map)) abort();
    const char *key;
    json_t *vals;
    json_object_foreach(r.query_map, key, vals) {
        if (!json_is_array(vals)) abort();
        const char *last = req_query(&r, key);
        if (json_array_size(vals) && !last) abort();
    }
    long limit = paging_limit(&r);
    if (limit <= 0 || limit > 1000) abort();
    json_decref(paging_link(&r, "/servers", "00000000-0000-0000-0000-000000000000"));
    char msg[512];
    if (validate(schema, r.query_map, VALIDATE_QUERY, msg, sizeof msg) && strlen(msg) >= sizeof msg)
        abort();
    req_free(&r);
    return 0;
}
