/* keystone.h — auth_strategy = keystone: the user's token validated as
 * keystonemiddleware's auth_token does it.
 *
 * GET /v3/auth/tokens with X-Subject-Token (the user's token) and
 * X-Auth-Token (the service user's own token, shared by the workers and
 * renewed before it expires); the answer gives user, project, domains and
 * roles, kept in the host's token cache (token_cache.h). A missing, refused
 * or expired token is 401 with WWW-Authenticate: Keystone
 * uri="<www_authenticate_uri>"; Keystone out of reach is 503 (never 401).
 * An X-Service-Token that holds one of [keystone_authtoken]
 * service_token_roles lets a user's token that has just expired through
 * (allow_expired), as Nova lets its services finish a long operation. */
#ifndef CNOVA_KEYSTONE_H
#define CNOVA_KEYSTONE_H

#include "api.h"

/* Reads [keystone_authtoken] and maps the token cache (before fork). */
int keystone_init(void);
/* Fills r->ctx from the request's tokens: 0, or the error answered. */
int keystone_authenticate(struct req *r);
/* The longest token looked at; longer ones are refused without asking. */
#define KEYSTONE_TOKEN_MAX 8192

#endif
