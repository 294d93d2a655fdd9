/* policy.c — the policy engine (see policy.h): Nova's default rules as
 * data, a parser and evaluator for oslo.policy's check strings, and the
 * policy file (a flat YAML map or a JSON object) that overrides them. */
#include "policy.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

/* ------------------------------------------------------------ defaults */

/* Nova's base rules (nova/policies/base.py, current release). */
static const struct {
    const char *name, *check;
} base_rules[] = {
    {"context_is_admin", "role:admin"},
    {"admin_or_owner", "is_admin:True or project_id:%(project_id)s"},
    {"admin_api", "is_admin:True"},
    {"project_manager_api", "role:manager and project_id:%(project_id)s"},
    {"project_member_api", "role:member and project_id:%(project_id)s"},
    {"project_reader_api", "role:reader and project_id:%(project_id)s"},
    {"service_api", "role:service"},
    {"project_manager_or_admin", "rule:project_manager_api or rule:context_is_admin"},
    {"project_member_or_admin", "rule:project_member_api or rule:context_is_admin"},
    {"project_reader_or_admin", "rule:project_reader_api or rule:context_is_admin"},
    {"service_or_admin", "rule:service_api or rule:context_is_admin"},
    {"network:attach_external_network", "is_admin:True"},
};

/* Nova's rules whose default is not their route's enum policy's check:
 * a key pair is its user's (the route checks the caller's own user; the
 * handler checks the user asked for). */
static const struct {
    const char *name, *check;
} nova_rules[] = {
    {"os_compute_api:os-keypairs:index", "(rule:context_is_admin) or user_id:%(user_id)s"},
    {"os_compute_api:os-keypairs:create", "(rule:context_is_admin) or user_id:%(user_id)s"},
    {"os_compute_api:os-keypairs:show", "(rule:context_is_admin) or user_id:%(user_id)s"},
    {"os_compute_api:os-keypairs:delete", "(rule:context_is_admin) or user_id:%(user_id)s"},
};

/* Every policy name of the route table, with the route's enum policy. */
static const struct {
    const char *name;
    enum policy p;
} route_rules[] = {
#define ROUTE(m, path, a, mn, mx, st, pol, pname, gone, h) {pname, pol},
#include "routes.h"
#undef ROUTE
};

/* The names the handlers check themselves (besides their route's). */
static const struct {
    const char *name;
    enum policy p;
} handler_rules[] = {
    {"os_compute_api:os-migrate-server:migrate:host", POLICY_ADMIN},
    {"os_compute_api:os-migrate-server:migrate_live:host", POLICY_ADMIN},
    {"os_compute_api:os-shelve:unshelve_to_host", POLICY_ADMIN},
    {"os_compute_api:os-lock-server:unlock:unlock_override", POLICY_ADMIN},
    {"os_compute_api:limits:other_project", POLICY_ADMIN},
    {"os_compute_api:os-volumes-attachments:swap", POLICY_SERVICE},
};

const char *policy_default_check(enum policy p) {
    switch (p) {
    case POLICY_ANY:
    case POLICY_AUTHENTICATED: return "@";
    case POLICY_READER: return "rule:project_reader_or_admin";
    case POLICY_MEMBER: return "rule:project_member_or_admin";
    case POLICY_MANAGER: return "rule:project_manager_or_admin";
    case POLICY_SERVICE: return "rule:service_or_admin";
    case POLICY_ADMIN: return "rule:context_is_admin";
    }
    return "!";
}

/* ------------------------------------------------------ check strings */

enum kind { K_TRUE, K_FALSE, K_NOT, K_AND, K_OR, K_ROLE, K_RULE, K_GENERIC };

struct policy_expr {
    enum kind kind;
    struct policy_expr *a, *b; /* operands of not / and / or */
    char *left;                /* role or rule name; a generic check's key */
    char *right;               /* a generic check's match (may hold %(x)s) */
    bool left_literal;         /* left is a literal ('x', True, 1) given as text */
};

void policy_expr_free(struct policy_expr *e) {
    if (!e) return;
    policy_expr_free(e->a);
    policy_expr_free(e->b);
    free(e->left);
    free(e->right);
    free(e);
}

enum tok { T_END, T_LP, T_RP, T_AND, T_OR, T_NOT, T_CHECK };

struct parser {
    const char *s;  /* the rest of the check string */
    const char *w;  /* the current word's core (a check), w_len bytes */
    size_t w_len;
    int pending_rp; /* ')' peeled off the end of the current word */
    enum tok tok;
    char *err;
    size_t errlen;
    bool failed;
    int depth;
};

static void perr(struct parser *p, const char *fmt, ...) {
    if (p->failed) return;
    p->failed = true;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(p->err, p->errlen, fmt, ap);
    va_end(ap);
}

/* Tokens as oslo.policy makes them: words split at white space; each
 * word's leading '(' and trailing ')' are parentheses of their own. */
static void next(struct parser *p) {
    if (p->pending_rp) {
        p->pending_rp--;
        p->tok = T_RP;
        return;
    }
    while (*p->s && isspace((unsigned char)*p->s)) p->s++;
    if (!*p->s) {
        p->tok = T_END;
        return;
    }
    if (*p->s == '(') {
        p->s++;
        p->tok = T_LP;
        return;
    }
    const char *start = p->s;
    while (*p->s && !isspace((unsigned char)*p->s)) p->s++;
    const char *end = p->s;
    while (end > start && end[-1] == ')') {
        end--;
        p->pending_rp++;
    }
    if (end == start) { /* only ')' */
        p->pending_rp--;
        p->tok = T_RP;
        return;
    }
    p->w = start;
    p->w_len = (size_t)(end - start);
    if (p->w_len == 3 && !strncasecmp(start, "and", 3)) p->tok = T_AND;
    else if (p->w_len == 2 && !strncasecmp(start, "or", 2)) p->tok = T_OR;
    else if (p->w_len == 3 && !strncasecmp(start, "not", 3)) p->tok = T_NOT;
    else p->tok = T_CHECK;
}

static struct policy_expr *node(enum kind k, struct policy_expr *a, struct policy_expr *b) {
    struct policy_expr *e = calloc(1, sizeof *e);
    if (!e) abort();
    e->kind = k;
    e->a = a;
    e->b = b;
    return e;
}

static char *dup_n(const char *s, size_t n) {
    char *d = strndup(s, n);
    if (!d) abort();
    return d;
}

/* A Python literal on the left of a generic check: 'x', "x", True,
 * False, None or an integer. Its text as Python's str() gives it, or NULL
 * when left is a credential's name. */
static char *literal(const char *s, size_t n) {
    if (n >= 2 && (s[0] == '\'' || s[0] == '"') && s[n - 1] == s[0]) {
        if (memchr(s + 1, s[0], n - 2) || memchr(s + 1, '\\', n - 2)) return NULL;
        return dup_n(s + 1, n - 2);
    }
    if ((n == 4 && !memcmp(s, "True", 4)) || (n == 5 && !memcmp(s, "False", 5)) ||
        (n == 4 && !memcmp(s, "None", 4)))
        return dup_n(s, n);
    size_t i = (n && (s[0] == '-' || s[0] == '+')) ? 1 : 0;
    if (i == n) return NULL;
    for (size_t j = i; j < n; j++)
        if (!isdigit((unsigned char)s[j])) return NULL;
    return dup_n(s + (s[0] == '+'), n - (s[0] == '+'));
}

static bool valid_match(const char *m) {
    for (const char *s = m; *s; s++) {
        if (*s != '%') continue;
        if (s[1] == '%') {
            s++;
            continue;
        }
        if (s[1] != '(') return false;
        const char *close = strchr(s + 2, ')');
        if (!close || close == s + 2 || close[1] != 's') return false;
        s = close + 1;
    }
    return true;
}

static struct policy_expr *check(struct parser *p) {
    const char *w = p->w;
    size_t n = p->w_len;
    next(p);
    if (n == 1 && *w == '@') return node(K_TRUE, NULL, NULL);
    if (n == 1 && *w == '!') return node(K_FALSE, NULL, NULL);
    const char *colon = memchr(w, ':', n);
    if (!colon) {
        perr(p, "'%.*s' is not a check (kind:match, @ or !)", (int)(n > 64 ? 64 : n), w);
        return NULL;
    }
    size_t kn = (size_t)(colon - w);
    const char *m = colon + 1;
    size_t mn = n - kn - 1;
    if (!kn) {
        perr(p, "a check without a kind before ':'");
        return NULL;
    }
    if ((kn == 4 && !memcmp(w, "http", 4)) || (kn == 5 && !memcmp(w, "https", 5))) {
        perr(p, "%.*s checks are not supported", (int)kn, w);
        return NULL;
    }
    enum kind k = K_GENERIC;
    if (kn == 4 && !memcmp(w, "role", 4)) k = K_ROLE;
    else if (kn == 4 && !memcmp(w, "rule", 4)) k = K_RULE;
    struct policy_expr *e = node(k, NULL, NULL);
    if (k == K_GENERIC) {
        e->left = literal(w, kn);
        e->left_literal = e->left != NULL;
        if (!e->left) e->left = dup_n(w, kn);
        e->right = dup_n(m, mn);
    } else {
        e->left = dup_n(m, mn);
    }
    const char *sub = k == K_GENERIC ? e->right : e->left;
    if (!valid_match(sub)) {
        perr(p, "bad substitution in '%.*s' (only %%(name)s)", (int)(n > 64 ? 64 : n), w);
        policy_expr_free(e);
        return NULL;
    }
    if (k == K_RULE && (!*e->left || strchr(e->left, '%'))) {
        perr(p, "rule: needs a rule name");
        policy_expr_free(e);
        return NULL;
    }
    return e;
}

static struct policy_expr *or_expr(struct parser *p);

static struct policy_expr *not_expr(struct parser *p) {
    if (p->failed) return NULL;
    if (++p->depth > 100) {
        perr(p, "nested too deep");
        return NULL;
    }
    struct policy_expr *e = NULL;
    switch (p->tok) {
    case T_NOT:
        next(p);
        e = not_expr(p);
        if (e) e = node(K_NOT, e, NULL);
        break;
    case T_LP:
        next(p);
        e = or_expr(p);
        if (e && p->tok != T_RP) {
            perr(p, "'(' without its ')'");
            policy_expr_free(e);
            e = NULL;
        } else if (e) {
            next(p);
        }
        break;
    case T_CHECK: e = check(p); break;
    case T_RP: perr(p, "')' without its '(' or an empty ()"); break;
    case T_END: perr(p, "a check is missing at the end"); break;
    default: perr(p, "'and' or 'or' where a check was expected"); break;
    }
    p->depth--;
    return e;
}

static struct policy_expr *and_expr(struct parser *p) {
    struct policy_expr *e = not_expr(p);
    while (e && p->tok == T_AND) {
        next(p);
        struct policy_expr *b = not_expr(p);
        if (!b) {
            policy_expr_free(e);
            return NULL;
        }
        e = node(K_AND, e, b);
    }
    return e;
}

static struct policy_expr *or_expr(struct parser *p) {
    struct policy_expr *e = and_expr(p);
    while (e && p->tok == T_OR) {
        next(p);
        struct policy_expr *b = and_expr(p);
        if (!b) {
            policy_expr_free(e);
            return NULL;
        }
        e = node(K_OR, e, b);
    }
    return e;
}

struct policy_expr *policy_parse(const char *s, char *err, size_t errlen) {
    char dummy[8];
    struct parser p = {.s = s, .err = err ? err : dummy, .errlen = err ? errlen : sizeof dummy};
    if (p.errlen) p.err[0] = 0;
    next(&p);
    if (p.tok == T_END) return node(K_TRUE, NULL, NULL); /* "" allows all */
    struct policy_expr *e = or_expr(&p);
    if (e && p.tok != T_END) {
        perr(&p, p.tok == T_RP ? "')' without its '('" : "two checks without 'and' or 'or'");
        policy_expr_free(e);
        e = NULL;
    }
    if (!e && !p.failed) perr(&p, "not a check string");
    return e;
}

/* ----------------------------------------------------------- rule sets */

struct rule {
    char *name, *check;
    struct policy_expr *expr;
    size_t order; /* when it was added: the first of a name wins */
};
struct ruleset {
    struct rule *v;
    size_t n, cap;
};

static struct ruleset active;
static bool have_active;
static char *file_path; /* policy_init's file, NULL when none */
static bool enforce_scope = true; /* [oslo_policy] enforce_scope */
static bool file_seen; /* the file was there at the last reload */

static void ruleset_free(struct ruleset *rs) {
    for (size_t i = 0; i < rs->n; i++) {
        free(rs->v[i].name);
        free(rs->v[i].check);
        policy_expr_free(rs->v[i].expr);
    }
    free(rs->v);
    *rs = (struct ruleset){0};
}

static int rule_cmp(const void *a, const void *b) {
    return strcmp(((const struct rule *)a)->name, ((const struct rule *)b)->name);
}

static struct rule *ruleset_find(const struct ruleset *rs, const char *name) {
    struct rule key = {.name = (char *)name};
    return bsearch(&key, rs->v, rs->n, sizeof *rs->v, rule_cmp);
}

/* Adds name = check at the end of rs (unsorted until ruleset_sort). */
static int ruleset_add(struct ruleset *rs, const char *name, const char *check, char *err,
                       size_t errlen) {
    char why[200];
    struct policy_expr *e = policy_parse(check, why, sizeof why);
    if (!e) {
        snprintf(err, errlen, "rule \"%.100s\": %s", name, why);
        return -1;
    }
    if (rs->n == rs->cap) {
        rs->cap = rs->cap ? 2 * rs->cap : 512;
        struct rule *v = realloc(rs->v, rs->cap * sizeof *v);
        if (!v) abort();
        rs->v = v;
    }
    struct rule *r = &rs->v[rs->n];
    *r = (struct rule){strdup(name), strdup(check), e, rs->n};
    rs->n++;
    if (!r->name || !r->check) abort();
    return 0;
}

static int rule_order_cmp(const void *a, const void *b) {
    const struct rule *x = a, *y = b;
    int c = strcmp(x->name, y->name);
    return c ? c : (x->order > y->order) - (x->order < y->order);
}

/* Sorts rs by name, keeping the first rule added of each name. */
static void ruleset_sort(struct ruleset *rs) {
    if (!rs->n) return;
    qsort(rs->v, rs->n, sizeof *rs->v, rule_order_cmp);
    size_t o = 0;
    for (size_t i = 0; i < rs->n; i++) {
        if (o && !strcmp(rs->v[o - 1].name, rs->v[i].name)) {
            free(rs->v[i].name);
            free(rs->v[i].check);
            policy_expr_free(rs->v[i].expr);
            continue;
        }
        rs->v[o++] = rs->v[i];
    }
    rs->n = o;
    for (size_t i = 0; i < rs->n; i++) rs->v[i].order = i;
}

/* Nova's base rules and its rules above, then one per policy name of the
 * routes and of the handlers (the route table holds a name once per route; the same name
 * never carries two enum policies, see tests/unit/test_policy.c). */
static void defaults(struct ruleset *rs) {
    char err[256];
    for (size_t i = 0; i < sizeof base_rules / sizeof *base_rules; i++)
        if (ruleset_add(rs, base_rules[i].name, base_rules[i].check, err, sizeof err)) abort();
    for (size_t i = 0; i < sizeof nova_rules / sizeof *nova_rules; i++)
        if (ruleset_add(rs, nova_rules[i].name, nova_rules[i].check, err, sizeof err)) abort();
    for (size_t i = 0; i < sizeof route_rules / sizeof *route_rules; i++)
        if (*route_rules[i].name &&
            ruleset_add(rs, route_rules[i].name, policy_default_check(route_rules[i].p), err,
                        sizeof err))
            abort();
    for (size_t i = 0; i < sizeof handler_rules / sizeof *handler_rules; i++)
        if (ruleset_add(rs, handler_rules[i].name, policy_default_check(handler_rules[i].p), err,
                        sizeof err))
            abort();
    ruleset_sort(rs);
}

static void ensure_active(void) {
    if (have_active) return;
    defaults(&active);
    have_active = true;
}

void policy_reset(void) {
    ruleset_free(&active);
    have_active = false;
    ensure_active();
}

void policy_free(void) {
    ruleset_free(&active);
    have_active = false;
    free(file_path);
    file_path = NULL;
    file_seen = false;
}

const char *policy_rule(const char *name) {
    ensure_active();
    const struct rule *r = ruleset_find(&active, name);
    return r ? r->check : NULL;
}

/* ---------------------------------------------------------- evaluation */

#define MAX_RULE_DEPTH 32

struct eval {
    const struct ctx *c;
    const char *const *target;
    bool is_admin;
};

static const char *target_get(const char *const *t, const char *key, size_t n) {
    for (; t && t[0]; t += 2)
        if (strlen(t[0]) == n && !memcmp(t[0], key, n)) return t[1] ? t[1] : "";
    return NULL;
}

/* match with every %(key)s replaced from the target into out; false when
 * a key is missing from the target or out is too small. */
static bool substitute(const char *m, const char *const *target, char *out, size_t cap) {
    size_t o = 0;
    for (const char *s = m; *s; s++) {
        const char *piece = s;
        size_t pn = 1;
        if (*s == '%' && s[1] == '%') {
            s++;
        } else if (*s == '%') {
            const char *close = strchr(s + 2, ')');
            piece = target_get(target, s + 2, (size_t)(close - s - 2));
            if (!piece) return false;
            pn = strlen(piece);
            s = close + 1;
        }
        if (o + pn >= cap) return false;
        memcpy(out + o, piece, pn);
        o += pn;
    }
    out[o] = 0;
    return true;
}

/* A credential as text (Python's str of the value); NULL when unknown.
 * roles is answered by the caller. */
static const char *cred(const struct eval *ev, const char *key) {
    const struct ctx *c = ev->c;
    if (!strcmp(key, "user_id")) return c->user_id;
    if (!strcmp(key, "project_id")) return c->project_id;
    if (!strcmp(key, "user_domain_id")) return c->user_domain_id;
    if (!strcmp(key, "project_domain_id")) return c->project_domain_id;
    if (!strcmp(key, "system_scope")) return c->system_scope ? "all" : "";
    if (!strcmp(key, "is_admin")) return ev->is_admin ? "True" : "False";
    if (!strcmp(key, "is_admin_project")) return "True"; /* keystonemiddleware's default */
    return NULL;
}

static bool eval(const struct policy_expr *e, const struct eval *ev, int depth);

static bool eval_rule(const char *name, const struct eval *ev, int depth) {
    if (depth >= MAX_RULE_DEPTH) {
        log_warn("policy: rule:%s nested %d deep (a loop?): denied", name, depth);
        return false;
    }
    const struct rule *r = ruleset_find(&active, name);
    return r && eval(r->expr, ev, depth + 1);
}

static bool eval(const struct policy_expr *e, const struct eval *ev, int depth) {
    char m[1024];
    switch (e->kind) {
    case K_TRUE: return true;
    case K_FALSE: return false;
    case K_NOT: return !eval(e->a, ev, depth);
    case K_AND: return eval(e->a, ev, depth) && eval(e->b, ev, depth);
    case K_OR: return eval(e->a, ev, depth) || eval(e->b, ev, depth);
    case K_RULE: return eval_rule(e->left, ev, depth);
    case K_ROLE:
        return substitute(e->left, ev->target, m, sizeof m) && *m && ctx_has_role(ev->c, m);
    case K_GENERIC:
        if (!substitute(e->right, ev->target, m, sizeof m)) return false;
        if (e->left_literal) return !strcmp(e->left, m);
        if (!strcmp(e->left, "roles")) return *m && ctx_has_role(ev->c, m);
        {
            const char *v = cred(ev, e->left);
            /* an empty credential (no project, no domain) matches nothing */
            return v && *v && !strcmp(v, m);
        }
    }
    return false;
}

bool policy_eval(const struct policy_expr *e, const struct ctx *c, const char *const *target) {
    ensure_active();
    struct eval ev = {c, target, c->is_admin};
    return e && eval(e, &ev, 0);
}

bool policy_is_admin(const struct ctx *c) {
    ensure_active();
    /* is_admin:True inside context_is_admin means the admin role */
    struct eval ev = {c, NULL, ctx_has_role(c, "admin")};
    const char *t[] = {"project_id", c->project_id, "user_id", c->user_id, NULL};
    ev.target = t;
    return eval_rule("context_is_admin", &ev, 0);
}

/* Nova's own rules (the routes' and the handlers') are scoped to projects
 * (scope_types=['project']); the base rules and a file's new names have no
 * scope. */
static bool project_scoped(const char *name) {
    for (size_t i = 0; i < sizeof route_rules / sizeof *route_rules; i++)
        if (!strcmp(route_rules[i].name, name)) return true;
    for (size_t i = 0; i < sizeof handler_rules / sizeof *handler_rules; i++)
        if (!strcmp(handler_rules[i].name, name)) return true;
    return false;
}

bool policy_enforce(const char *name, const char *fallback, const struct ctx *c,
                    const char *const *target) {
    ensure_active();
    /* oslo.policy's scope check: a token scoped to the system is refused
     * by a project-scoped rule before the rule is read */
    if (c->system_scope && enforce_scope && name && *name && project_scoped(name)) return false;
    struct eval ev = {c, target, c->is_admin};
    const struct rule *r = name && *name ? ruleset_find(&active, name) : NULL;
    if (r) return eval(r->expr, &ev, 0);
    if (!fallback) return false;
    struct policy_expr *e = policy_parse(fallback, NULL, 0);
    bool ok = e && eval(e, &ev, 0);
    policy_expr_free(e);
    return ok;
}

/* --------------------------------------------------------- policy file */

struct yp {
    const char *s, *end;
    int line;
    char *err;
    size_t errlen;
};

static int yerr(struct yp *y, const char *fmt, ...) {
    char msg[200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    snprintf(y->err, y->errlen, "line %d: %s", y->line, msg);
    return -1;
}

static void sb_putc(struct sbuf *b, char c) {
    sbuf_add(b, &c, 1);
}

/* UTF-8 of code point u. */
static void sb_utf8(struct sbuf *b, unsigned u) {
    if (u < 0x80) {
        sb_putc(b, (char)u);
    } else if (u < 0x800) {
        sb_putc(b, (char)(0xc0 | u >> 6));
        sb_putc(b, (char)(0x80 | (u & 0x3f)));
    } else {
        sb_putc(b, (char)(0xe0 | u >> 12));
        sb_putc(b, (char)(0x80 | ((u >> 6) & 0x3f)));
        sb_putc(b, (char)(0x80 | (u & 0x3f)));
    }
}

/* A quoted scalar at y->s (its quote); may span lines (a line break and
 * the white space around it fold into one space). y->s after the closing
 * quote. */
static int quoted(struct yp *y, struct sbuf *out) {
    char q = *y->s++;
    while (y->s < y->end) {
        char c = *y->s;
        if (c == '\n') {
            while (out->len && (out->s[out->len - 1] == ' ' || out->s[out->len - 1] == '\t'))
                out->s[--out->len] = 0;
            y->line++;
            y->s++;
            int breaks = 0;
            while (y->s < y->end && (*y->s == ' ' || *y->s == '\t' || *y->s == '\n' || *y->s == '\r')) {
                if (*y->s == '\n') y->line++, breaks++;
                y->s++;
            }
            sb_putc(out, breaks ? '\n' : ' ');
            continue;
        }
        y->s++;
        if (c == q) {
            if (q == '\'' && y->s < y->end && *y->s == '\'') {
                y->s++;
                sb_putc(out, '\'');
                continue;
            }
            return 0;
        }
        if (c == '\\' && q == '"') {
            if (y->s >= y->end) break;
            char e = *y->s++;
            switch (e) {
            case '\\': sb_putc(out, '\\'); break;
            case '"': sb_putc(out, '"'); break;
            case '/': sb_putc(out, '/'); break;
            case 'n': sb_putc(out, '\n'); break;
            case 't': sb_putc(out, '\t'); break;
            case 'r': sb_putc(out, '\r'); break;
            case ' ': sb_putc(out, ' '); break;
            case 'x':
            case 'u': {
                int n = e == 'x' ? 2 : 4;
                unsigned u = 0;
                for (int i = 0; i < n; i++) {
                    if (y->s >= y->end || !isxdigit((unsigned char)*y->s))
                        return yerr(y, "bad \\%c escape", e);
                    char h = *y->s++;
                    u = u * 16 + (unsigned)(isdigit((unsigned char)h) ? h - '0' : (tolower(h) - 'a' + 10));
                }
                if (!u || (u >= 0xd800 && u < 0xe000)) return yerr(y, "bad \\%c escape", e);
                sb_utf8(out, u);
                break;
            }
            default: return yerr(y, "unknown escape \\%c", e);
            }
            continue;
        }
        if (!c) return yerr(y, "a NUL byte");
        sb_putc(out, c);
    }
    return yerr(y, "a %s-quoted value without its closing quote", q == '"' ? "double" : "single");
}

/* After a value: only white space and a comment to the end of the line. */
static int line_end(struct yp *y) {
    while (y->s < y->end && (*y->s == ' ' || *y->s == '\t' || *y->s == '\r')) y->s++;
    if (y->s < y->end && *y->s == '#')
        while (y->s < y->end && *y->s != '\n') y->s++;
    if (y->s < y->end && *y->s != '\n') return yerr(y, "text after a quoted value");
    if (y->s < y->end) y->s++, y->line++;
    return 0;
}

/* One line of plain text at y->s to its end or " #": trimmed. */
static void plain_line(struct yp *y, struct sbuf *out) {
    while (y->s < y->end && (*y->s == ' ' || *y->s == '\t')) y->s++;
    const char *start = y->s, *stop = NULL;
    while (y->s < y->end && *y->s != '\n') {
        if (*y->s == '#' && (y->s == start || y->s[-1] == ' ' || y->s[-1] == '\t') && !stop)
            stop = y->s;
        y->s++;
    }
    const char *e = stop ? stop : y->s;
    while (e > start && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r')) e--;
    if (out->len && e > start) sb_putc(out, ' ');
    sbuf_add(out, start, (size_t)(e - start));
    if (y->s < y->end) y->s++, y->line++;
}

/* The next line is a continuation: indented, not blank, not a comment. */
static bool continues(const struct yp *y) {
    const char *s = y->s;
    if (s >= y->end || (*s != ' ' && *s != '\t')) return false;
    while (s < y->end && (*s == ' ' || *s == '\t')) s++;
    return s < y->end && *s != '\n' && *s != '\r' && *s != '#';
}

static bool has_nul(const char *s, size_t n) {
    return memchr(s, 0, n) != NULL;
}

static json_t *yaml_map(struct yp *y) {
    json_t *obj = json_object();
    struct sbuf key = {0}, val = {0};
    while (y->s < y->end) {
        const char *ls = y->s;
        while (y->s < y->end && (*y->s == ' ' || *y->s == '\t' || *y->s == '\r')) y->s++;
        if (y->s >= y->end) break;
        if (*y->s == '\n' || *y->s == '#') { /* blank or comment */
            while (y->s < y->end && *y->s != '\n') y->s++;
            if (y->s < y->end) y->s++, y->line++;
            continue;
        }
        if (y->s != ls) {
            yerr(y, "unexpected indentation (a flat map of \"name\": \"check\" is expected)");
            goto fail;
        }
        if (y->end - y->s >= 3 && (!memcmp(y->s, "---", 3) || !memcmp(y->s, "...", 3)) &&
            (y->end - y->s == 3 || isspace((unsigned char)y->s[3]))) {
            y->s += 3;
            if (line_end(y)) goto fail;
            continue;
        }
        key.len = 0;
        if (key.s) key.s[0] = 0;
        val.len = 0;
        if (val.s) val.s[0] = 0;
        if (*y->s == '"' || *y->s == '\'') {
            if (quoted(y, &key)) goto fail;
            if (y->s >= y->end || *y->s != ':') {
                yerr(y, "':' expected after a quoted name");
                goto fail;
            }
            y->s++;
        } else {
            if (strchr("-?[]{}&*!|>%@`,", *y->s)) {
                yerr(y, "'%c': only a flat map of \"name\": \"check\" is understood", *y->s);
                goto fail;
            }
            const char *ks = y->s;
            while (y->s < y->end && *y->s != '\n' &&
                   !(*y->s == ':' && (y->s + 1 == y->end || y->s[1] == ' ' || y->s[1] == '\t' ||
                                      y->s[1] == '\n' || y->s[1] == '\r')))
                y->s++;
            if (y->s >= y->end || *y->s != ':') {
                yerr(y, "a line without \"name\": \"check\"");
                goto fail;
            }
            const char *ke = y->s;
            while (ke > ks && (ke[-1] == ' ' || ke[-1] == '\t')) ke--;
            sbuf_add(&key, ks, (size_t)(ke - ks));
            y->s++;
        }
        if (y->s < y->end && *y->s != ' ' && *y->s != '\t' && *y->s != '\n' && *y->s != '\r') {
            yerr(y, "a space is expected after ':'");
            goto fail;
        }
        while (y->s < y->end && (*y->s == ' ' || *y->s == '\t')) y->s++;
        if (y->s < y->end && (*y->s == '"' || *y->s == '\'')) {
            if (quoted(y, &val) || line_end(y)) goto fail;
        } else {
            if (y->s < y->end && strchr("[{&*|>%@`", *y->s)) {
                yerr(y, "'%c' at the start of a value: quote the check string", *y->s);
                goto fail;
            }
            plain_line(y, &val);
            while (continues(y)) plain_line(y, &val);
            /* YAML's null: an empty check, which allows all (as oslo.policy) */
            const char *v = val.s ? val.s : "";
            if (!strcmp(v, "~") || !strcmp(v, "null") || !strcmp(v, "Null") || !strcmp(v, "NULL")) {
                val.len = 0;
                val.s[0] = 0;
            }
        }
        const char *k = key.s ? key.s : "";
        if (!*k || has_nul(key.s ? key.s : "", key.len) || (val.s && has_nul(val.s, val.len))) {
            yerr(y, "an empty name or a NUL byte");
            goto fail;
        }
        json_object_set_new(obj, k, json_string(val.s ? val.s : ""));
        if (!json_object_get(obj, k)) { /* not UTF-8 */
            yerr(y, "text that is not UTF-8");
            goto fail;
        }
    }
    sbuf_free(&key);
    sbuf_free(&val);
    return obj;
fail:
    sbuf_free(&key);
    sbuf_free(&val);
    json_decref(obj);
    return NULL;
}

json_t *policy_file_parse(const char *text, size_t len, char *err, size_t errlen) {
    if (len >= 3 && !memcmp(text, "\xef\xbb\xbf", 3)) text += 3, len -= 3; /* a UTF-8 BOM */
    struct yp y = {text, text + len, 1, err, errlen};
    if (errlen) err[0] = 0;
    const char *s = text;
    /* JSON when the first thing that is not blank or a comment is '{' */
    while (s < y.end) {
        while (s < y.end && isspace((unsigned char)*s)) s++;
        if (s < y.end && *s == '#') {
            while (s < y.end && *s != '\n') s++;
            continue;
        }
        break;
    }
    if (s < y.end && *s == '{') {
        json_error_t je;
        json_t *obj = json_loadb(s, (size_t)(y.end - s), JSON_REJECT_DUPLICATES, &je);
        if (!obj) {
            snprintf(err, errlen, "JSON line %d: %s", je.line, je.text);
            return NULL;
        }
        const char *k;
        json_t *v;
        json_object_foreach(obj, k, v) {
            if (!json_is_string(v) || !*k) {
                snprintf(err, errlen, "rule \"%.100s\": the check must be a string", k);
                json_decref(obj);
                return NULL;
            }
        }
        return obj;
    }
    return yaml_map(&y);
}

static json_t *read_file(const char *path, char *err, size_t errlen) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "%s", strerror(errno));
        return NULL;
    }
    struct sbuf b = {0};
    char buf[8192];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0) {
        if (b.len + n > 16 * 1024 * 1024) {
            snprintf(err, errlen, "larger than 16 MiB");
            fclose(f);
            sbuf_free(&b);
            return NULL;
        }
        if (memchr(buf, 0, n)) {
            snprintf(err, errlen, "a NUL byte");
            fclose(f);
            sbuf_free(&b);
            return NULL;
        }
        sbuf_add(&b, buf, n);
    }
    bool bad = ferror(f);
    fclose(f);
    if (bad) {
        snprintf(err, errlen, "read error");
        sbuf_free(&b);
        return NULL;
    }
    json_t *obj = policy_file_parse(b.s ? b.s : "", b.len, err, errlen);
    sbuf_free(&b);
    return obj;
}

/* The rules of obj over the defaults, in force when all parse. */
static int apply(json_t *obj, char *err, size_t errlen) {
    /* the file's rules first, then the defaults: the first of a name wins */
    struct ruleset rs = {0};
    const char *k;
    json_t *v;
    json_object_foreach(obj, k, v) {
        if (ruleset_add(&rs, k, json_string_value(v), err, errlen)) {
            ruleset_free(&rs);
            return -1;
        }
    }
    defaults(&rs);
    ruleset_free(&active);
    active = rs;
    have_active = true;
    return 0;
}

int policy_load_text(const char *text, size_t len, char *err, size_t errlen) {
    ensure_active();
    json_t *obj = policy_file_parse(text, len, err, errlen);
    if (!obj) return -1;
    int rc = apply(obj, err, errlen);
    json_decref(obj);
    return rc;
}

int policy_reload(void) {
    ensure_active();
    if (!file_path) return 0;
    struct stat st;
    if (stat(file_path, &st)) {
        if (errno != ENOENT) {
            log_error("policy file %s: %s; the rules in force are kept", file_path, strerror(errno));
            return -1;
        }
        if (file_seen) log_info("policy file %s is gone: the default rules", file_path);
        file_seen = false;
        policy_reset();
        return 0;
    }
    char err[300];
    json_t *obj = read_file(file_path, err, sizeof err);
    if (!obj || apply(obj, err, sizeof err)) {
        json_decref(obj);
        log_error("policy file %s: %s; the rules in force are kept", file_path, err);
        return -1;
    }
    log_info("policy file %s: %zu rules over the defaults", file_path, json_object_size(obj));
    json_decref(obj);
    file_seen = true;
    return 0;
}

int policy_init(const char *conf_path) {
    policy_free();
    ensure_active();
    enforce_scope = config_bool("oslo_policy", "enforce_scope", 1);
    const char *f = config_get("oslo_policy", "policy_file", "policy.yaml");
    if (!*f) return 0;
    struct sbuf p = {0};
    const char *slash = conf_path ? strrchr(conf_path, '/') : NULL;
    if (*f == '/' || !slash) sbuf_addf(&p, "%s", f);
    else sbuf_addf(&p, "%.*s/%s", (int)(slash - conf_path), conf_path, f);
    file_path = p.s;
    return policy_reload();
}
