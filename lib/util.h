/* util.h — small shared helpers: uuids, timestamps, growable strings. */
#ifndef CNOVA_UTIL_H
#define CNOVA_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Writes a random (v4) uuid, 36 chars + NUL, into out[37]. */
void uuid_new(char out[37]);
/* True when s is a canonical 8-4-4-4-12 hex uuid (either case). */
bool uuid_valid(const char *s);
/* Nova's request ids: "req-" + uuid, into out[41]. */
void request_id_new(char out[41]);
/* ISO 8601 UTC "2026-11-25T16:52:05Z" of now, into out[21]. */
void iso8601_now(char out[21]);
/* Monotonic milliseconds, for durations. */
double now_ms(void);
/* The big-endian unsigned number of `bytes` (at most 8) bytes at p, as
 * file formats store their header fields (qcow2, VMDK, ...). */
uint64_t load_be(const unsigned char *p, int bytes);

/* Python's int() of a string: optional blanks and sign, then digits. */
bool str_to_int(const char *s, long long *out);
/* oslo's strict bool_from_string ("1", "t", "true", "on", "y", "yes" and
 * their opposites, any case, blanks around allowed). */
bool str_to_bool(const char *s, bool *out);

/* Copies s into out[cap] (cap > 0, NUL-terminated, never cutting a
 * character) as valid UTF-8 for jansson: each byte that starts no valid
 * sequence becomes U+FFFD, as Python decodes with errors="replace".
 * Returns the length written. */
size_t utf8_sanitize(char *out, size_t cap, const char *s);
/* The same into a new string (the caller frees it). */
char *utf8_dup(const char *s);

struct sbuf;
/* How run_cmd runs a program: at most timeout_s seconds (then killed);
 * its stdout into *out (at most 64 KiB; its stderr then goes nowhere) or,
 * with out NULL, stdout and stderr into the message; the child's address
 * space and CPU seconds limited when limit_as / limit_cpu are not 0. */
struct run_opts {
    int timeout_s;
    struct sbuf *out;
    long limit_as, limit_cpu;
};
/* Runs the program argv[0] (looked up in PATH) with argv, never through a
 * shell, its stdin /dev/null. Returns 0 when it exited 0; else -1 with the
 * end of what it printed (or why it did not run, or was killed) in
 * err[errlen]. */
int run_cmd(const char *const argv[], const struct run_opts *o, char *err, size_t errlen);
/* run_cmd with its output into the message and a time limit only. */
int run_argv(const char *const argv[], int timeout_s, char *err, size_t errlen);
/* Removes `path` and, when it is a folder, everything under it (no
 * symbolic link is followed). Returns 0, or -1 with errno set. */
int rm_tree(const char *path);
/* The whole file at `path` (malloc'd, NUL added; its length in *len), or
 * NULL when it cannot be read or is longer than max bytes. */
char *file_read(const char *path, size_t max, size_t *len);
/* Writes data to `path` whole or not at all (a temporary file renamed
 * over it). Returns 0, or -1 with errno set. */
int file_write(const char *path, const void *data, size_t len);

/* A growable NUL-terminated byte buffer. */
struct sbuf {
    char *s;
    size_t len, cap;
};
void sbuf_add(struct sbuf *b, const char *s, size_t n);
void sbuf_addf(struct sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void sbuf_free(struct sbuf *b);

#endif
