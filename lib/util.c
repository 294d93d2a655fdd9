/* util.c — uuids (random v4 from /dev/urandom via libuuid), timestamps and
 * the growable string buffer used to build headers and SQL parameters. */
#define _GNU_SOURCE /* pipe2, nftw */
#include "util.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cnova.h"

/* Random bytes for uuids come from a per-process pool filled by one
 * getrandom(2) per 256 uuids: libuuid's generator costs six system calls a
 * uuid (it checks for fork every time), a measurable share of a request.
 * A forked child drops the pool it inherited, so no two processes ever
 * hand out the same bytes. */
static unsigned char pool[4096];
static size_t pool_used = sizeof pool;
static bool atfork_set;

static void pool_drop(void) {
    pool_used = sizeof pool;
}

static void random_bytes(unsigned char *out, size_t n) {
    if (!atfork_set) {
        pthread_atfork(NULL, NULL, pool_drop);
        atfork_set = true;
    }
    if (pool_used + n > sizeof pool) {
        size_t got = 0;
        while (got < sizeof pool) {
            ssize_t r = getrandom(pool + got, sizeof pool - got, 0);
            if (r > 0) got += (size_t)r;
        }
        pool_used = 0;
    }
    memcpy(out, pool + pool_used, n);
    pool_used += n;
}

void uuid_new(char out[37]) {
    static const char hex[] = "0123456789abcdef";
    unsigned char b[16];
    random_bytes(b, sizeof b);
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x40); /* version 4 */
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80); /* RFC 4122 variant */
    char *o = out;
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10) *o++ = '-';
        *o++ = hex[b[i] >> 4];
        *o++ = hex[b[i] & 15];
    }
    *o = 0;
}

bool uuid_valid(const char *s) {
    static const int dash[] = {8, 13, 18, 23};
    if (strlen(s) != 36) return false;
    for (int i = 0, d = 0; i < 36; i++) {
        if (d < 4 && i == dash[d]) {
            if (s[i] != '-') return false;
            d++;
        } else if (!isxdigit((unsigned char)s[i]))
            return false;
    }
    return true;
}

void request_id_new(char out[41]) {
    memcpy(out, "req-", 4);
    uuid_new(out + 4);
}

void iso8601_now(char out[21]) {
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, 21, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

int mv_parse(const char *s) {
    if (!strcmp(s, "latest")) return MV_MAX;
    char *end;
    if (!isdigit((unsigned char)*s)) return 0;
    long major = strtol(s, &end, 10);
    if (*end != '.' || !isdigit((unsigned char)end[1])) return 0;
    long minor = strtol(end + 1, &end, 10);
    if (*end || major > 1000 || minor > 999) return 0;
    return (int)MV(major, minor);
}

static void sbuf_grow(struct sbuf *b, size_t n) {
    if (b->len + n + 1 <= b->cap) return;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + n + 1)
        cap *= 2;
    b->s = realloc(b->s, cap);
    b->cap = cap;
}

void sbuf_add(struct sbuf *b, const char *s, size_t n) {
    sbuf_grow(b, n);
    memcpy(b->s + b->len, s, n);
    b->len += n;
    b->s[b->len] = 0;
}

void sbuf_addf(struct sbuf *b, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    sbuf_grow(b, n);
    va_start(ap, fmt);
    vsnprintf(b->s + b->len, n + 1, fmt, ap);
    va_end(ap);
    b->len += n;
}

void sbuf_free(struct sbuf *b) {
    free(b->s);
    *b = (struct sbuf){0};
}

uint64_t load_be(const unsigned char *p, int bytes) {
    uint64_t v = 0;
    for (int i = 0; i < bytes; i++)
        v = v << 8 | p[i];
    return v;
}

bool str_to_int(const char *s, long long *out) {
    while (isspace((unsigned char)*s))
        s++;
    char *end;
    *out = strtoll(s, &end, 10);
    if (end == s || !isdigit((unsigned char)end[-1])) return false;
    while (isspace((unsigned char)*end))
        end++;
    return !*end;
}

bool str_to_bool(const char *s, bool *out) {
    static const char *yes[] = {"1", "t", "true", "on", "y", "yes"};
    static const char *no[] = {"0", "f", "false", "off", "n", "no"};
    char buf[16];
    while (isspace((unsigned char)*s))
        s++;
    snprintf(buf, sizeof buf, "%s", s);
    for (size_t n = strlen(buf); n && isspace((unsigned char)buf[n - 1]);)
        buf[--n] = 0;
    for (size_t i = 0; i < 6; i++) {
        if (!strcasecmp(buf, yes[i])) return *out = true, true;
        if (!strcasecmp(buf, no[i])) return *out = false, true;
    }
    return false;
}

/* ---- UTF-8 ---- */

static bool utf8_cont(unsigned char c) {
    return c >= 0x80 && c <= 0xBF;
}

/* The length of the valid UTF-8 sequence at s (RFC 3629: no overlong
 * form, no surrogate, nothing past U+10FFFF), 0 when there is none. Reads
 * no further than a NUL. */
static size_t utf8_seq(const unsigned char *s) {
    unsigned char c = s[0];
    if (c < 0x80) return 1;
    if (c < 0xC2) return 0;
    if (c < 0xE0) return utf8_cont(s[1]) ? 2 : 0;
    if (c < 0xF0) {
        unsigned char lo = c == 0xE0 ? 0xA0 : 0x80, hi = c == 0xED ? 0x9F : 0xBF;
        return s[1] >= lo && s[1] <= hi && utf8_cont(s[2]) ? 3 : 0;
    }
    if (c < 0xF5) {
        unsigned char lo = c == 0xF0 ? 0x90 : 0x80, hi = c == 0xF4 ? 0x8F : 0xBF;
        return s[1] >= lo && s[1] <= hi && utf8_cont(s[2]) && utf8_cont(s[3]) ? 4 : 0;
    }
    return 0;
}

size_t utf8_sanitize(char *out, size_t cap, const char *s) {
    size_t o = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p;) {
        size_t n = utf8_seq(p);
        const char *from = n ? (const char *)p : "\xEF\xBF\xBD";
        size_t len = n ? n : 3;
        if (o + len >= cap) break;
        memcpy(out + o, from, len);
        o += len;
        p += n ? n : 1;
    }
    out[o] = 0;
    return o;
}

char *utf8_dup(const char *s) {
    size_t cap = 3 * strlen(s) + 1;
    char *out = malloc(cap);
    utf8_sanitize(out, cap, s);
    return out;
}

/* ---- running a program ---- */

int run_argv(const char *const argv[], int timeout_s, char *err, size_t errlen) {
    struct run_opts o = {.timeout_s = timeout_s};
    return run_cmd(argv, &o, err, errlen);
}

int run_cmd(const char *const argv[], const struct run_opts *o, char *err, size_t errlen) {
    int pipefd[2];
    int timeout_s = o->timeout_s;
    if (errlen) err[0] = 0;
    if (pipe2(pipefd, O_CLOEXEC)) {
        snprintf(err, errlen, "pipe: %s", strerror(errno));
        return -1;
    }
    pid_t pid = fork();
    if (pid < 0) {
        snprintf(err, errlen, "fork: %s", strerror(errno));
        close(pipefd[0]);
        close(pipefd[1]);
        return -1;
    }
    if (pid == 0) {
        if (o->limit_as) setrlimit(RLIMIT_AS, &(struct rlimit){o->limit_as, o->limit_as});
        if (o->limit_cpu) setrlimit(RLIMIT_CPU, &(struct rlimit){o->limit_cpu, o->limit_cpu});
        int devnull = open("/dev/null", O_RDWR);
        if (devnull >= 0) dup2(devnull, 0);
        dup2(pipefd[1], 1);
        dup2(o->out && devnull >= 0 ? devnull : pipefd[1], 2);
        execvp(argv[0], (char *const *)argv);
        dprintf(2, "cannot run %s: %s", argv[0], strerror(errno));
        _exit(127);
    }
    close(pipefd[1]);
    /* keep the last errlen - 1 bytes of the output */
    char buf[4096];
    size_t kept = 0;
    double deadline = now_ms() + timeout_s * 1000.0;
    bool killed = false;
    for (;;) {
        int left = (int)(deadline - now_ms());
        if (left <= 0) {
            kill(pid, SIGKILL);
            killed = true;
            break;
        }
        struct pollfd p = {.fd = pipefd[0], .events = POLLIN};
        int r = poll(&p, 1, left);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) continue;
        ssize_t n = read(pipefd[0], buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        if (o->out) {
            if (o->out->len < 65536) sbuf_add(o->out, buf, (size_t)n);
            continue;
        }
        for (ssize_t i = 0; i < n && errlen > 1; i++) {
            if (kept == errlen - 1) {
                memmove(err, err + 1, errlen - 2);
                kept--;
            }
            err[kept++] = buf[i];
        }
        if (errlen) err[kept] = 0;
    }
    close(pipefd[0]);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    if (killed) {
        snprintf(err, errlen, "%s: killed after %d s", argv[0], timeout_s);
        return -1;
    }
    /* no trailing newline in the message */
    while (kept && (err[kept - 1] == '\n' || err[kept - 1] == '\r'))
        err[--kept] = 0;
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return 0;
    if (!kept) snprintf(err, errlen, "%s: exit status %d", argv[0], status);
    return -1;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
    (void)st, (void)ftw;
    return flag == FTW_DP ? rmdir(path) : unlink(path);
}

char *file_read(const char *path, size_t max, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    struct sbuf b = {0};
    char chunk[8192];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0 && b.len + n <= max)
        sbuf_add(&b, chunk, n);
    bool ok = !ferror(f) && feof(f) && b.len <= max;
    fclose(f);
    if (!ok) {
        sbuf_free(&b);
        return NULL;
    }
    if (!b.s) sbuf_add(&b, "", 0);
    *len = b.len;
    return b.s;
}

int file_write(const char *path, const void *data, size_t len) {
    struct sbuf tmp = {0};
    sbuf_addf(&tmp, "%s.tmp%ld", path, (long)getpid());
    FILE *f = fopen(tmp.s, "wb");
    int rc = f && fwrite(data, 1, len, f) == len ? 0 : -1;
    if (f && fclose(f)) rc = -1;
    if (rc == 0) rc = rename(tmp.s, path);
    if (rc) {
        int e = errno;
        unlink(tmp.s);
        errno = e;
    }
    sbuf_free(&tmp);
    return rc;
}

int rm_tree(const char *path) {
    int rc = nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
    if (rc && errno == ENOENT) return 0;
    return rc ? -1 : 0;
}
