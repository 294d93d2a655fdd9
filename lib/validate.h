/* validate.h — the one JSON-schema validator (jansson), written once.
 *
 * Schemas are Nova's own (api/schemas.json), JSON Schema with the keywords
 * Nova uses; failures are reported in Nova's words so that the API can answer
 * 400 with the same message Nova gives, e.g.
 *   Invalid input for field/attribute name. Value: . '' should be non-empty
 * Query strings are validated as a map of parameter -> list of values. */
#ifndef CNOVA_VALIDATE_H
#define CNOVA_VALIDATE_H

#include <jansson.h>
#include <stddef.h>

enum validate_mode {
    VALIDATE_BODY, /* "Invalid input for field/attribute <f>. Value: <v>. <why>" */
    VALIDATE_QUERY, /* "Invalid input for query parameters <p>. Value: <v>. <why>" */
    VALIDATE_BODY_LEGACY /* as BODY, but additionalProperties is not enforced: Nova's
                          * legacy /v2 API tolerates (and ignores) unknown keys */
};

/* Returns 0 when `instance` satisfies `schema`; otherwise -1 and writes
 * Nova's 400 message into msg (always NUL-terminated). */
int validate(const json_t *schema, const json_t *instance, enum validate_mode mode, char *msg,
             size_t msglen);

#endif
