/* fuzz.h — what the libFuzzer targets share (built by scripts/fuzz.sh only,
 * never by `make all`): quiet logs, the route table, the request schemas
 * (api/request-schemas.json from the repo root, or $CNOVA_SCHEMAS), and a
 * NUL-terminated copy of an input's slice. */
#ifndef CNOVA_FUZZ_H
#define CNOVA_FUZZ_H

#include <stdlib.h>
#include <string.h>

#include "api.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static inline const char *fuzz_schemas_path(void) {
    const char *p = getenv("CNOVA_SCHEMAS");
    return p ? p : "api/request-schemas.json";
}

/* Once per process: no log lines, routes compiled, schemas attached. */
static inline void fuzz_init(void) {
    static int done;
    if (done++) return;
    log_init("cnova-fuzz", (enum log_level)(LOG_ERROR + 1));
    router_init();
    if (schemas_load(fuzz_schemas_path())) abort();
}

/* The schemas of api/request-schemas.json of one kind ("request",
 * "query"; "" for all), in file order, as a borrowed array kept for the
 * process. */
static inline const json_t *fuzz_schemas(const char *kind) {
    static json_t *doc, *lists;
    if (!doc) {
        doc = json_load_file(fuzz_schemas_path(), 0, NULL);
        if (!doc) abort();
        lists = json_object();
    }
    json_t *list = json_object_get(lists, kind);
    if (list) return list;
    json_object_set_new(lists, kind, list = json_array());
    size_t i;
    json_t *e;
    json_array_foreach(json_object_get(doc, "schemas"), i, e) {
        if (!*kind || !strcmp(json_string_value(json_object_get(e, "kind")), kind))
            json_array_append(list, json_object_get(e, "schema"));
    }
    if (!json_array_size(list)) abort();
    return list;
}

/* data[0..n) as a C string (an inner NUL ends it early, as in C callers). */
static inline char *fuzz_str(const uint8_t *data, size_t n) {
    char *s = malloc(n + 1);
    memcpy(s, data, n);
    s[n] = 0;
    return s;
}

/* The length of the input's next line (up to '\n' or the end). */
static inline size_t fuzz_line(const uint8_t *data, size_t size) {
    const uint8_t *nl = memchr(data, '\n', size);
    return nl ? (size_t)(nl - data) : size;
}

#endif
