/* fuzz_validate.c — libFuzzer target: the JSON-schema validator
 * (lib/validate.c) against Nova's request and query schemas. Input: two
 * bytes choosing the schema (api/request-schemas.json, in file order), a byte
 * choosing the mode and the size of the message buffer, then a JSON body
 * (any value). The message buffer is exactly its size, so ASan sees any
 * write past it; a failure must leave it NUL-terminated. */
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    fuzz_init();
    if (size < 3) return 0;
    const json_t *schemas = fuzz_schemas("");
    const json_t *schema =
        json_array_get(schemas, (size_t)(data[0] << 8 | data[1]) % json_array_size(schemas));
    static const enum validate_mode modes[] = {VALIDATE_BODY, VALIDATE_BODY_LEGACY, VALIDATE_QUERY};
    enum validate_mode mode = modes[data[2] % 3];
    size_t msglen = data[2] < 192 ? 1024 : (size_t)(data[2] - 191); /* 1..64 sometimes */
    json_t *body = json_loadb((const char *)data + 3, size - 3, JSON_DECODE_ANY, NULL);
    if (!body) return 0;
    char *msg = malloc(msglen);
    if (validate(schema, body, mode, msg, msglen) && strnlen(msg, msglen) == msglen) abort();
    free(msg);
    json_decref(body);
    return 0;
}
