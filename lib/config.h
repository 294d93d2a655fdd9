/* config.h — the one ini file (oslo.config style: [section] key = value).
 * Every option has a default at its call site; etc/cnova.conf.sample lists
 * them all. Loaded once per process, before fork, read-only afterwards. */
#ifndef CNOVA_CONFIG_H
#define CNOVA_CONFIG_H

/* Loads `path`; returns 0, or -1 (errno set) when the file cannot be read.
 * Calling it again replaces the previous contents. */
int config_load(const char *path);
/* Sets one value (used by tests and by command-line overrides). */
void config_set(const char *section, const char *key, const char *value);
const char *config_get(const char *section, const char *key, const char *def);
long config_int(const char *section, const char *key, long def);
double config_double(const char *section, const char *key, double def);
int config_bool(const char *section, const char *key, int def);
void config_free(void);

#endif
