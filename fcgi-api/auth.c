/* auth.c — who is asking, and may they.
 *
 * auth_strategy = noauth2 (default): the token is "user:project" (a token
 * without a colon names both); user "admin" has the admin role, everyone
 * else is a member and reader of their project. auth_strategy = keystone:
 * keystone.c validates the token with Keystone (and its cache). */
#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "api.h"
#include "keystone.h"
#include "policy.h"

enum strategy { NOAUTH2, KEYSTONE };
static enum strategy strategy = NOAUTH2;

int auth_init(void) {
    const char *s = config_get("api", "auth_strategy", "noauth2");
    if (!strcmp(s, "noauth2")) {
        strategy = NOAUTH2;
        return 0;
    }
    if (!strcmp(s, "keystone")) {
        strategy = KEYSTONE;
        return keystone_init();
    }
    log_error("auth_strategy = %s: unknown (noauth2 or keystone)", s);
    return -1;
}

static int unauthorized(struct req *r) {
    api_header(r, "WWW-Authenticate", "Keystone uri=\"\"");
    return api_error(r, 401, "The request you have made requires authentication.");
}

/* n bytes of a header as text in out (cap bytes): Latin-1, as WSGI hands
 * Nova its headers, so any byte is a character (past 0x7f, two bytes of
 * UTF-8). False when it does not fit. */
static bool latin1_text(const char *in, size_t n, char *out, size_t cap) {
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)in[i];
        if (o + (c < 0x80 ? 1 : 2) >= cap) return false;
        if (c < 0x80) {
            out[o++] = (char)c;
        } else {
            out[o++] = (char)(0xc0 | c >> 6);
            out[o++] = (char)(0x80 | (c & 0x3f));
        }
    }
    out[o] = 0;
    return true;
}

int auth_request(struct req *r) {
    if (strategy == KEYSTONE) return keystone_authenticate(r);
    const char *token = req_header(r, "X-Auth-Token");
    if (!token || !*token) return unauthorized(r);
    const char *colon = strchr(token, ':');
    size_t ulen = colon ? (size_t)(colon - token) : strlen(token);
    const char *project = colon ? colon + 1 : token;
    if (!ulen || !*project || !latin1_text(token, ulen, r->ctx.user_id, sizeof r->ctx.user_id) ||
        !latin1_text(project, strlen(project), r->ctx.project_id, sizeof r->ctx.project_id))
        return unauthorized(r);
    if (!strcmp(r->ctx.user_id, "admin")) ctx_add_role(&r->ctx, "admin");
    ctx_add_role(&r->ctx, "member");
    ctx_add_role(&r->ctx, "reader");
    return 0;
}

bool ctx_has_role(const struct ctx *c, const char *role) {
    char want[130];
    size_t n = strlen(role);
    if (!n || n + 3 > sizeof want) return false;
    want[0] = ',';
    for (size_t i = 0; i < n; i++) want[i + 1] = (char)tolower((unsigned char)role[i]);
    want[n + 1] = ',';
    want[n + 2] = 0;
    return strstr(c->roles, want) != NULL;
}

void ctx_add_role(struct ctx *c, const char *role) {
    size_t have = strlen(c->roles), n = strlen(role);
    if (!n || n > 127 || strchr(role, ',') || ctx_has_role(c, role)) return;
    if (have + n + 2 + (have == 0) > sizeof c->roles) return;
    char *o = c->roles + have;
    if (!have) *o++ = ',';
    for (size_t i = 0; i < n; i++) *o++ = (char)tolower((unsigned char)role[i]);
    *o++ = ',';
    *o = 0;
    if (!strcasecmp(role, "admin")) c->is_admin = true;
    else if (!strcasecmp(role, "member")) c->is_member = true;
    else if (!strcasecmp(role, "reader")) c->is_reader = true;
    else if (!strcasecmp(role, "manager")) c->is_manager = true;
    else if (!strcasecmp(role, "service")) c->is_service = true;
}

/* The rule name (or, when no rule has that name, the enum's default check
 * string) with ctx's credentials, on a target owned by project_id and
 * user_id. is_admin follows the rule context_is_admin first, as Nova's
 * request context does. */
static int enforce(struct req *r, enum policy p, const char *name, const char *project_id,
                   const char *user_id) {
    r->ctx.is_admin = policy_is_admin(&r->ctx);
    const char *target[] = {"project_id", project_id, "user_id", user_id, NULL};
    if (policy_enforce(name, policy_default_check(p), &r->ctx, target)) return 0;
    return api_error(r, 403, "Policy doesn't allow %s to be performed.", name);
}

int auth_policy(struct req *r, enum policy p, const char *name) {
    return enforce(r, p, name, r->ctx.project_id, r->ctx.user_id);
}

int auth_policy_target(struct req *r, enum policy p, const char *name, const char *project_id,
                       const char *user_id) {
    return enforce(r, p, name, project_id ? project_id : r->ctx.project_id,
                   user_id ? user_id : r->ctx.user_id);
}
