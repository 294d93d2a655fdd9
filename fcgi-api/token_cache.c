/* token_cache.c — see token_cache.h. */
#include "token_cache.h"

#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <sys/mman.h>

#define WAYS 8
#define PENDING_SECONDS 5 /* a fetch's mark outlives a dead fetcher this long */

enum state { FREE, PENDING, READY };

struct entry {
    unsigned char key[TC_KEY];
    enum state state;
    int status;
    time_t until; /* READY: trusted until; PENDING: mark given up at */
    struct ctx ctx;
};

struct table {
    pthread_mutex_t lock;
    size_t nbuckets;
    char service[2048];
    time_t service_until;
    struct entry e[]; /* nbuckets * WAYS */
};

static struct table *t;

int tc_init(size_t entries) {
    if (t) return 0;
    size_t nb = (entries + WAYS - 1) / WAYS;
    if (!nb) nb = 1;
    size_t size = sizeof *t + nb * WAYS * sizeof(struct entry);
    void *m = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED) {
        log_error("token cache: mmap of %zu bytes: %s", size, strerror(errno));
        return -1;
    }
    t = m; /* zeroed by the kernel: every entry FREE */
    t->nbuckets = nb;
    pthread_mutexattr_t a;
    pthread_mutexattr_init(&a);
    pthread_mutexattr_setpshared(&a, PTHREAD_PROCESS_SHARED);
    pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST);
    pthread_mutex_init(&t->lock, &a);
    pthread_mutexattr_destroy(&a);
    return 0;
}

static void lock(void) {
    if (pthread_mutex_lock(&t->lock) == EOWNERDEAD) pthread_mutex_consistent(&t->lock);
}

static void unlock(void) {
    pthread_mutex_unlock(&t->lock);
}

static struct entry *bucket(const unsigned char key[TC_KEY]) {
    size_t h;
    memcpy(&h, key, sizeof h);
    return &t->e[(h % t->nbuckets) * WAYS];
}

static struct entry *find(struct entry *b, const unsigned char key[TC_KEY]) {
    for (int i = 0; i < WAYS; i++)
        if (b[i].state != FREE && !memcmp(b[i].key, key, TC_KEY)) return &b[i];
    return NULL;
}

/* The way to give a new key: a free or dead one, else the one whose trust
 * ends first (a pending fetch is taken last). */
static struct entry *victim(struct entry *b, time_t now) {
    struct entry *v = NULL;
    for (int i = 0; i < WAYS; i++) {
        struct entry *e = &b[i];
        if (e->state == FREE || e->until <= now) return e;
        if (!v || (v->state == PENDING && e->state == READY) ||
            (v->state == e->state && e->until < v->until))
            v = e;
    }
    return v;
}

enum tc_result tc_lookup(const unsigned char key[TC_KEY], struct ctx *ctx, int *status) {
    time_t now = time(NULL);
    enum tc_result r = TC_MISS;
    lock();
    struct entry *b = bucket(key), *e = find(b, key);
    if (e && e->until > now) {
        if (e->state == PENDING) {
            r = TC_WAIT;
        } else {
            r = TC_HIT;
            *status = e->status;
            if (!e->status) *ctx = e->ctx;
        }
    } else {
        if (!e) e = victim(b, now);
        memcpy(e->key, key, TC_KEY);
        e->state = PENDING;
        e->until = now + PENDING_SECONDS;
    }
    unlock();
    return r;
}

void tc_store(const unsigned char key[TC_KEY], const struct ctx *ctx, int status, time_t until) {
    lock();
    struct entry *b = bucket(key), *e = find(b, key);
    if (!e) e = victim(b, time(NULL));
    memcpy(e->key, key, TC_KEY);
    e->state = READY;
    e->status = status;
    e->until = until;
    if (!status) e->ctx = *ctx;
    unlock();
}

void tc_abandon(const unsigned char key[TC_KEY]) {
    lock();
    struct entry *e = find(bucket(key), key);
    if (e && e->state == PENDING) e->state = FREE;
    unlock();
}

int tc_service_get(char *tok, size_t cap, time_t margin) {
    int rc = -1;
    lock();
    if (t->service[0] && t->service_until > time(NULL) + margin && strlen(t->service) < cap) {
        strcpy(tok, t->service);
        rc = 0;
    }
    unlock();
    return rc;
}

void tc_service_put(const char *tok, time_t expires) {
    lock();
    if (strlen(tok) < sizeof t->service) {
        strcpy(t->service, tok);
        t->service_until = expires;
    } else {
        t->service[0] = 0;
    }
    unlock();
}

size_t tc_count(size_t *size) {
    size_t n = 0, all = t ? t->nbuckets * WAYS : 0;
    time_t now = time(NULL);
    if (size) *size = all;
    if (!t) return 0;
    lock();
    for (size_t i = 0; i < all; i++)
        if (t->e[i].state != FREE && t->e[i].until > now) n++;
    unlock();
    return n;
}
