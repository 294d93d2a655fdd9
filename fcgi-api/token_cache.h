/* token_cache.h — validated Keystone tokens, shared by the workers of one
 * API host: a fixed table in shared memory that the master maps before it
 * forks, so that a token is validated once per host, not once per worker.
 *
 * Keys are SHA-256 digests of the token (the tokens themselves are never
 * kept); an entry holds the request context the token gave, or the mark
 * that Keystone refused it (so a forged token reaches Keystone once per
 * cache period too), and the time it stops being trusted: at most
 * [keystone_authtoken] token_cache_time after validation, never past the
 * token's expiry. The table is bounded (token_cache_size entries, 8-way
 * buckets); a full bucket drops its entry closest to the end of its life.
 *
 * One worker at a time fetches a given token: the first to miss marks the
 * entry pending, the others wait for its answer (tc_lookup's TC_WAIT). A
 * worker killed while fetching leaves a pending mark that expires after a
 * few seconds; one killed inside the table's lock leaves a robust mutex
 * that the next taker makes consistent. */
#ifndef CNOVA_TOKEN_CACHE_H
#define CNOVA_TOKEN_CACHE_H

#include <stddef.h>
#include <time.h>

#include "api.h"

#define TC_KEY 32

/* Maps the table (before fork). 0, or -1 when the memory cannot be had. */
int tc_init(size_t entries);

enum tc_result {
    TC_HIT,  /* *status (0 = valid, ctx filled; 401 = refused) */
    TC_MISS, /* not known: the caller fetches it and stores or abandons */
    TC_WAIT  /* another worker is fetching it: wait a little, ask again */
};
enum tc_result tc_lookup(const unsigned char key[TC_KEY], struct ctx *ctx, int *status);
/* The answer for a key the caller fetched (status 0 with ctx, or 401),
 * trusted until `until`. */
void tc_store(const unsigned char key[TC_KEY], const struct ctx *ctx, int status, time_t until);
/* The fetch failed (Keystone unreachable): forget the pending mark. */
void tc_abandon(const unsigned char key[TC_KEY]);

/* The service user's token, shared by the workers: 0 and the token when
 * one is held that stays valid past now + margin, else -1. */
int tc_service_get(char *tok, size_t cap, time_t margin);
void tc_service_put(const char *tok, time_t expires);

/* Entries in use, and the table's size (for tests and metrics). */
size_t tc_count(size_t *size);

#endif
