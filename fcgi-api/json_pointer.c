/* json_pointer.c — Glance's limited JSON pointers for image PATCH: they
 * start with "/", have no empty token, do not end with "/", and use "~"
 * only in the escapes "~0" and "~1"; tokens are decoded and trimmed of
 * blanks, as Glance does. */
#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json_pointer.h"

/* A "/" followed (after blanks only) by another "/". */
static bool adjacent_slashes(const char *s) {
    for (; *s; s++) {
        if (*s != '/') continue;
        const char *q = s + 1;
        while (*q && isspace((unsigned char)*q))
            q++;
        if (*q == '/') return true;
    }
    return false;
}

static bool bad_escape(const char *s) {
    for (; *s; s++)
        if (*s == '~' && s[1] != '0' && s[1] != '1') return true;
    return false;
}

static char *decode(const char *s, size_t n) {
    while (n && isspace((unsigned char)*s))
        s++, n--;
    while (n && isspace((unsigned char)s[n - 1]))
        n--;
    char *out = malloc(n + 1), *o = out;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '~' && i + 1 < n && (s[i + 1] == '0' || s[i + 1] == '1')) {
            *o++ = s[++i] == '1' ? '/' : '~';
        } else
            *o++ = s[i];
    }
    *o = 0;
    return out;
}

int json_pointer_parse(const char *pointer, struct json_pointer *p, char *err, size_t errlen) {
    memset(p, 0, sizeof *p);
    size_t len = strlen(pointer);
    const char *why = NULL;
    if (pointer[0] != '/')
        why = "does not start with \"/\".";
    else if (adjacent_slashes(pointer + 1))
        why = "contains adjacent \"/\".";
    else if (len > 1 && pointer[len - 1] == '/')
        why = "end with \"/\".";
    else if (bad_escape(pointer))
        why = "contains \"~\" not part of a recognized escape sequence.";
    if (why) {
        snprintf(err, errlen, "Pointer `%s` %s", pointer, why);
        return -1;
    }
    for (const char *s = pointer + 1;;) {
        size_t n = strcspn(s, "/");
        if (p->n < JSON_POINTER_MAX) p->tok[p->n] = decode(s, n);
        p->n++;
        if (!s[n]) break;
        s += n + 1;
    }
    return 0;
}

void json_pointer_free(struct json_pointer *p) {
    for (int i = 0; i < p->n && i < JSON_POINTER_MAX; i++)
        free(p->tok[i]);
    p->n = 0;
}
