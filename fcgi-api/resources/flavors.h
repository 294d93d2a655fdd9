/* flavors.h — what the flavor resources share (flavors.c defines them):
 * finding a flavor the caller may see, by its API id, and reading values
 * the way Nova's Python does. */
#ifndef CNOVA_FLAVORS_H
#define CNOVA_FLAVORS_H

#include "api.h"

/* Looks up flavor `flavorid` among the flavors the caller may see (admins
 * all; others public ones and those shared with their project). Returns 0
 * and its row id (and is_public, if asked), or the 404 "Flavor X could not
 * be found." (or database) error already set on r. */
int flavors_find(struct req *r, const char *flavorid, char row_id[24], bool *is_public);

/* Python's str() of a JSON number: 10 -> "10", 1.5 -> "1.5", 2.0 -> "2.0". */
void flavors_number_text(const json_t *v, char *out, size_t len);

#endif
