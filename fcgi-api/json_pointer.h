/* json_pointer.h — the JSON pointers of Glance's image PATCH
 * ("/name", "/a~1b"): checked with Glance's rules and messages, and split
 * into their decoded tokens (json_pointer.c). Pure: no I/O. */
#ifndef CNOVA_JSON_POINTER_H
#define CNOVA_JSON_POINTER_H

#include <stddef.h>

#define JSON_POINTER_MAX 4 /* tokens kept; deeper pointers count but are not kept */

struct json_pointer {
    int n;                       /* tokens in the pointer */
    char *tok[JSON_POINTER_MAX]; /* decoded ("~1" -> "/", "~0" -> "~"), trimmed */
};

/* Decodes `pointer` into p (free with json_pointer_free). Returns 0, or -1
 * with Glance's message in err (p is then empty). */
int json_pointer_parse(const char *pointer, struct json_pointer *p, char *err, size_t errlen);
void json_pointer_free(struct json_pointer *p);

#endif
