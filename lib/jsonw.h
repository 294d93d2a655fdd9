/* jsonw.h — writes a jansson value as compact JSON text into an sbuf.
 *
 * The API's response bodies go through here rather than json_dumps: one
 * pass, no format strings, no per-character UTF-8 decoding (jansson checked
 * the text when the value was made), and reals in Python's shortest
 * round-trip form (0.1, not 0.10000000000000001), as Nova's json.dumps
 * writes them. Object members keep their insertion order. */
#ifndef CNOVA_JSONW_H
#define CNOVA_JSONW_H

#include <jansson.h>

#include "util.h"

/* Appends v to out; returns 0, or -1 for a value nested too deep (then out
 * holds a partial text). */
int jsonw_render(const json_t *v, struct sbuf *out);

#endif
