/* jsonw.c — compact JSON text of a jansson value (see jsonw.h). */
#include "jsonw.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define JSONW_MAX_DEPTH 256

static void put_string(struct sbuf *out, const char *s, size_t n) {
    static const char hex[] = "0123456789abcdef";
    sbuf_add(out, "\"", 1);
    size_t run = 0; /* bytes since the last escape, copied in one go */
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c != '"' && c != '\\') continue;
        sbuf_add(out, s + run, i - run);
        run = i + 1;
        /* the short escapes JSON has, else \u00XX */
        char esc[6] = {'\\', 0};
        size_t len = 2;
        const char *shorts = "\"\"\\\\\bb\ff\nn\rr\tt", *hit = NULL;
        for (const char *e = shorts; *e && !hit; e += 2)
            if ((unsigned char)*e == c) hit = e;
        if (hit)
            esc[1] = hit[1];
        else {
            memcpy(esc, "\\u00", 4);
            esc[4] = hex[c >> 4];
            esc[5] = hex[c & 15];
            len = 6;
        }
        sbuf_add(out, esc, len);
    }
    sbuf_add(out, s + run, n - run);
    sbuf_add(out, "\"", 1);
}

/* Python's repr of a float: the fewest digits that read back as the same
 * double, in positional form while the exponent is in [-4, 16), and
 * always with a '.' or an exponent. */
static void put_real(struct sbuf *out, double d) {
    char buf[40];
    if (!isfinite(d)) {
        sbuf_add(out, "null", 4); /* JSON has no inf / nan (jansson makes none) */
        return;
    }
    int p = 1;
    for (; p < 17; p++) {
        snprintf(buf, sizeof buf, "%.*g", p, d);
        if (strtod(buf, NULL) == d) break;
    }
    int exp10 = d == 0 ? 0 : (int)floor(log10(fabs(d)));
    if (exp10 >= p && exp10 < 16) p = exp10 + 1; /* %g would switch to an exponent */
    int n = snprintf(buf, sizeof buf, "%.*g", p, d);
    if (!strpbrk(buf, ".e")) {
        memcpy(buf + n, ".0", 3);
        n += 2;
    }
    sbuf_add(out, buf, (size_t)n);
}

static void put_integer(struct sbuf *out, json_int_t v) {
    char buf[24], *p = buf + sizeof buf;
    unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;
    do
        *--p = (char)('0' + u % 10);
    while (u /= 10);
    if (v < 0) *--p = '-';
    sbuf_add(out, p, (size_t)(buf + sizeof buf - p));
}

static int put(const json_t *v, struct sbuf *out, int depth) {
    if (depth > JSONW_MAX_DEPTH) return -1;
    switch (json_typeof(v)) {
    case JSON_OBJECT: {
        const char *key;
        json_t *item;
        bool first = true;
        sbuf_add(out, "{", 1);
        /* jansson's own loop macro takes a non-const object */
        json_object_foreach((json_t *)v, key, item) {
            if (!first) sbuf_add(out, ",", 1);
            first = false;
            put_string(out, key, strlen(key));
            sbuf_add(out, ":", 1);
            if (put(item, out, depth + 1)) return -1;
        }
        sbuf_add(out, "}", 1);
        return 0;
    }
    case JSON_ARRAY:
        sbuf_add(out, "[", 1);
        for (size_t i = 0; i < json_array_size(v); i++) {
            if (i) sbuf_add(out, ",", 1);
            if (put(json_array_get(v, i), out, depth + 1)) return -1;
        }
        sbuf_add(out, "]", 1);
        return 0;
    case JSON_STRING:
        put_string(out, json_string_value(v), json_string_length(v));
        return 0;
    case JSON_INTEGER:
        put_integer(out, json_integer_value(v));
        return 0;
    case JSON_REAL:
        put_real(out, json_real_value(v));
        return 0;
    case JSON_TRUE:
        sbuf_add(out, "true", 4);
        return 0;
    case JSON_FALSE:
        sbuf_add(out, "false", 5);
        return 0;
    default:
        sbuf_add(out, "null", 4);
        return 0;
    }
}

int jsonw_render(const json_t *v, struct sbuf *out) {
    return put(v, out, 0);
}
