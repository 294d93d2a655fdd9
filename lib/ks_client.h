/* ks_client.h — a client of Keystone's v3 API for the programs that talk
 * to it: the API validates users' tokens with it (fcgi-api/keystone.c), the
 * workers get a token of their own for the image service. The service
 * user is [keystone_authtoken] (keystonemiddleware's names): auth_url,
 * username, password, project_name, user_domain_name, project_domain_name.
 * Every call is one libcurl easy handle, bounded by
 * [keystone_authtoken] http_connect_timeout / http_request_timeout. */
#ifndef CNOVA_KS_CLIENT_H
#define CNOVA_KS_CLIENT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <time.h>

/* True when [keystone_authtoken] names a Keystone (auth_url is set). */
bool ks_configured(void);

/* One request to <auth_url><path> ("/v3/auth/tokens?nocatalog"):
 * X-Auth-Token `token` and X-Subject-Token `subject` when not NULL, a JSON
 * `body` when not NULL. Returns the HTTP status, or 0 when Keystone could
 * not be reached (connection refused, timeout). *out: the parsed body
 * when it is JSON (else NULL), owned by the caller; subject_out: the
 * answer's X-Subject-Token when asked (cap bytes, "" when none). */
int ks_request(const char *method, const char *path, const char *token, const char *subject,
               const char *body, json_t **out, char *subject_out, size_t cap);

/* A new token of the service user (password, project scope): the HTTP
 * status (201 on success, 0 when unreachable), the token into tok (cap
 * bytes) and its expiry into *expires. */
int ks_password_token(char *tok, size_t cap, time_t *expires);

/* This process's service token, renewed when less than a tenth of its life
 * (at most 5 minutes) is left, or when `stale` (Keystone refused it). 0 and
 * the token into tok, or the status of the failed renewal (0 when
 * unreachable). */
int ks_service_token(char *tok, size_t cap, bool stale);

/* Keystone's time ("2026-12-04T06:00:00.000000Z") as seconds since the
 * epoch; 0 when it does not parse. */
time_t ks_parse_time(const char *s);

#endif
