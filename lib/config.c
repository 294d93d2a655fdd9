/* config.c — the ini file: "[section]" headers, "key = value" lines, '#' or
 * ';' comments. Values are kept in one flat array; lookups are linear, which
 * is fine for the few dozen options read at start-up. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct opt {
    char *section, *key, *value;
};
static struct opt *opts;
static size_t nopts, capopts;

static char *trim(char *s) {
    while (*s == ' ' || *s == '\t') s++;
    char *e = s + strlen(s);
    while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\n' || e[-1] == '\r')) *--e = 0;
    return s;
}

void config_set(const char *section, const char *key, const char *value) {
    for (size_t i = 0; i < nopts; i++)
        if (!strcmp(opts[i].section, section) && !strcmp(opts[i].key, key)) {
            free(opts[i].value);
            opts[i].value = strdup(value);
            return;
        }
    if (nopts == capopts) {
        size_t cap = capopts ? capopts * 2 : 32;
        struct opt *grown = realloc(opts, cap * sizeof *opts);
        if (!grown) abort(); /* at start-up, out of memory: nothing sensible left to do */
        opts = grown;
        capopts = cap;
    }
    opts[nopts++] = (struct opt){strdup(section), strdup(key), strdup(value)};
}

void config_free(void) {
    for (size_t i = 0; i < nopts; i++) {
        free(opts[i].section);
        free(opts[i].key);
        free(opts[i].value);
    }
    free(opts);
    opts = NULL;
    nopts = capopts = 0;
}

int config_load(const char *path) {
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    config_free();
    char line[4096], section[128] = "DEFAULT";
    while (fgets(line, sizeof line, f)) {
        char *s = trim(line);
        if (!*s || *s == '#' || *s == ';') continue;
        if (*s == '[') {
            char *e = strchr(s, ']');
            if (e) {
                *e = 0;
                snprintf(section, sizeof section, "%s", trim(s + 1));
            }
            continue;
        }
        char *eq = strchr(s, '=');
        if (!eq) continue;
        *eq = 0;
        config_set(section, trim(s), trim(eq + 1));
    }
    fclose(f);
    return 0;
}

const char *config_get(const char *section, const char *key, const char *def) {
    for (size_t i = 0; i < nopts; i++)
        if (!strcmp(opts[i].section, section) && !strcmp(opts[i].key, key))
            return *opts[i].value ? opts[i].value : def;
    return def;
}

long config_int(const char *section, const char *key, long def) {
    const char *v = config_get(section, key, NULL);
    if (!v) return def;
    char *end;
    errno = 0;
    long n = strtol(v, &end, 10);
    return (errno || *end) ? def : n;
}

double config_double(const char *section, const char *key, double def) {
    const char *v = config_get(section, key, NULL);
    if (!v) return def;
    char *end;
    double d = strtod(v, &end);
    return *end ? def : d;
}

int config_bool(const char *section, const char *key, int def) {
    const char *v = config_get(section, key, NULL);
    if (!v) return def;
    if (!strcasecmp(v, "true") || !strcasecmp(v, "yes") || !strcmp(v, "1") || !strcasecmp(v, "on"))
        return 1;
    if (!strcasecmp(v, "false") || !strcasecmp(v, "no") || !strcmp(v, "0") || !strcasecmp(v, "off"))
        return 0;
    return def;
}
