/* test_policy.c — the policy engine (fcgi-api/policy.c): the check-string
 * parser and evaluator, Nova's default rules, the policy file (YAML subset
 * and JSON) and its reload, and auth_policy's 403. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api.h"
#include "policy.h"

static struct ctx who(const char *user, const char *project, const char *roles) {
    struct ctx c = {0};
    snprintf(c.user_id, sizeof c.user_id, "%s", user);
    snprintf(c.project_id, sizeof c.project_id, "%s", project);
    char buf[256];
    snprintf(buf, sizeof buf, "%s", roles);
    for (char *save = NULL, *r = strtok_r(buf, ",", &save); r; r = strtok_r(NULL, ",", &save))
        ctx_add_role(&c, r);
    return c;
}

/* check evaluated for c on the caller's own project and user */
static bool allows(const char *check, const struct ctx *c) {
    char err[200];
    struct policy_expr *e = policy_parse(check, err, sizeof err);
    if (!e) fail_msg("'%s' did not parse: %s", check, err);
    const char *t[] = {"project_id", c->project_id, "user_id", c->user_id, NULL};
    bool ok = policy_eval(e, c, t);
    policy_expr_free(e);
    return ok;
}

static bool parses(const char *check) {
    char err[200];
    struct policy_expr *e = policy_parse(check, err, sizeof err);
    if (!e) assert_true(err[0] != 0);
    policy_expr_free(e);
    return e != NULL;
}

static int setup(void **state) {
    (void)state;
    policy_reset();
    return 0;
}

static void constants(void **state) {
    struct ctx c = who("u1", "p1", "member,reader");
    assert_true(allows("@", &c));
    assert_false(allows("!", &c));
    assert_true(allows("", &c));
    assert_true(allows("   ", &c));
    assert_false(allows("not @", &c));
    assert_true(allows("not !", &c));
}

static void precedence(void **state) {
    struct ctx c = who("u1", "p1", "member");
    /* and binds tighter than or: @ or (! and !) */
    assert_true(allows("@ or ! and !", &c));
    assert_false(allows("(@ or !) and !", &c));
    /* not binds tighter than and */
    assert_false(allows("not @ and @", &c));
    assert_true(allows("not (@ and !)", &c));
    assert_true(allows("not not @", &c));
    assert_true(allows("! or ! or @", &c));
    assert_false(allows("@ and @ and !", &c));
    /* keywords in any case, parentheses glued to words */
    assert_true(allows("(role:member AND (role:nope OR @))", &c));
    assert_true(allows("((role:member))", &c));
    assert_false(allows("Not role:member", &c));
}

static void roles_and_generic(void **state) {
    struct ctx c = who("u1", "p1", "member,reader");
    assert_true(allows("role:member", &c));
    assert_true(allows("role:MEMBER", &c));
    assert_false(allows("role:admin", &c));
    assert_true(allows("project_id:%(project_id)s", &c));
    assert_true(allows("user_id:%(user_id)s", &c));
    assert_false(allows("user_id:%(project_id)s", &c));
    assert_true(allows("project_id:p1", &c));
    assert_false(allows("is_admin:True", &c));
    assert_true(allows("is_admin:False", &c));
    assert_true(allows("roles:reader", &c));
    /* a literal on the left compares with the target's value */
    assert_true(allows("'p1':%(project_id)s", &c));
    assert_false(allows("'p2':%(project_id)s", &c));
    assert_true(allows("\"u1\":%(user_id)s", &c));
    assert_true(allows("True:True", &c));
    assert_true(allows("1:1", &c));
    /* a key missing from the target, an unknown credential: false */
    assert_false(allows("project_id:%(nothere)s", &c));
    assert_false(allows("color:blue", &c));
    /* %% is a percent sign */
    assert_false(allows("project_id:100%%", &c));
    /* an empty credential matches nothing (no domain here) */
    assert_false(allows("user_domain_id:", &c));
    struct ctx adm = who("admin", "admin", "admin,member,reader");
    assert_true(allows("is_admin:True", &adm));
    assert_true(allows("role:%(user_id)s", &adm)); /* role from the target */

    const char *other[] = {"project_id", "p2", "user_id", "u2", NULL};
    struct policy_expr *e = policy_parse("project_id:%(project_id)s or user_id:%(user_id)s", NULL, 0);
    assert_non_null(e);
    assert_false(policy_eval(e, &c, other));
    const char *mine[] = {"project_id", "p2", "user_id", "u1", NULL};
    assert_true(policy_eval(e, &c, mine));
    assert_false(policy_eval(e, &c, NULL));
    policy_expr_free(e);
}

static void bad_syntax(void **state) {
    assert_false(parses("role:member and"));
    assert_false(parses("and role:member"));
    assert_false(parses("role:member or or @"));
    assert_false(parses("(role:member"));
    assert_false(parses("role:member)"));
    assert_false(parses("()"));
    assert_false(parses("role:a role:b"));
    assert_false(parses("member"));
    assert_false(parses(":x"));
    assert_false(parses("not"));
    assert_false(parses("rule:"));
    assert_false(parses("project_id:%(project_id)d"));
    assert_false(parses("project_id:%(project_id"));
    assert_false(parses("http://example.com/check"));
    char deep[2000] = "";
    for (int i = 0; i < 300; i++) strcat(deep, "(");
    strcat(deep, "@");
    for (int i = 0; i < 300; i++) strcat(deep, ")");
    assert_false(parses(deep));
    assert_true(parses("role:a or role:b"));
    assert_true(parses("rule:x"));
    assert_true(parses("kind:with:colons"));
}

static void defaults(void **state) {
    struct ctx member = who("u1", "p1", "member,reader");
    struct ctx reader = who("r1", "p1", "reader");
    struct ctx admin = who("admin", "admin", "admin,member,reader");
    struct ctx service = who("nova", "service", "service");
    struct ctx manager = who("m1", "p1", "manager,member,reader");
    struct ctx none = who("x", "p1", "");
    const char *own[] = {"project_id", "p1", "user_id", "u1", NULL};

    assert_string_equal(policy_rule("context_is_admin"), "role:admin");
    assert_string_equal(policy_rule("project_member_api"), "role:member and project_id:%(project_id)s");
    assert_string_equal(policy_rule("os_compute_api:os-hypervisors:list"), "rule:context_is_admin");
    assert_string_equal(policy_rule("os_compute_api:os-volumes-attachments:swap"), "rule:service_or_admin");
    assert_null(policy_rule("no-such-rule"));

    /* hypervisors: admin only */
    const char *hv = "os_compute_api:os-hypervisors:list";
    assert_false(policy_enforce(hv, NULL, &member, own));
    assert_true(policy_enforce(hv, NULL, &admin, own));
    /* the member rule: members and admins, not readers */
    const char *mem = "rule:project_member_or_admin";
    assert_true(policy_enforce("x", mem, &member, own));
    assert_false(policy_enforce("x", mem, &reader, (const char *[]){"project_id", "p1", NULL}));
    assert_true(policy_enforce("x", mem, &admin, own));
    /* reader */
    const char *rd = "rule:project_reader_or_admin";
    assert_true(policy_enforce("x", rd, &reader, (const char *[]){"project_id", "p1", NULL}));
    assert_false(policy_enforce("x", rd, &none, (const char *[]){"project_id", "p1", NULL}));
    /* another project's object: a member may not, an admin may */
    const char *theirs[] = {"project_id", "p2", "user_id", "u2", NULL};
    assert_false(policy_enforce("x", mem, &member, theirs));
    assert_true(policy_enforce("x", mem, &admin, theirs));
    /* manager */
    const char *mg = policy_default_check(POLICY_MANAGER);
    assert_true(policy_enforce("x", mg, &manager, (const char *[]){"project_id", "p1", NULL}));
    assert_false(policy_enforce("x", mg, &member, own));
    /* service */
    const char *sv = policy_default_check(POLICY_SERVICE);
    assert_true(policy_enforce("x", sv, &service, (const char *[]){"project_id", "service", NULL}));
    assert_true(policy_enforce("x", sv, &admin, own));
    assert_false(policy_enforce("x", sv, &member, own));
    /* any */
    assert_true(policy_enforce("", policy_default_check(POLICY_ANY), &none, own));
    assert_true(policy_enforce("os_compute_api:extensions", NULL, &none, own));
    /* key pairs: the admin, or the key pair's user */
    const char *kp = "os_compute_api:os-keypairs:show";
    assert_true(policy_enforce(kp, NULL, &member, own));
    assert_false(policy_enforce(kp, NULL, &member, (const char *[]){"project_id", "p1", "user_id", "u2", NULL}));
    assert_true(policy_enforce(kp, NULL, &admin, (const char *[]){"project_id", "p1", "user_id", "u2", NULL}));
    /* no rule, no fallback: denied */
    assert_false(policy_enforce("no-such-rule", NULL, &admin, own));
    assert_true(policy_is_admin(&admin));
    assert_false(policy_is_admin(&member));
    /* a system-scoped admin token: Nova's rules are project-scoped */
    struct ctx sys = who("admin", "", "admin,member,reader");
    sys.system_scope = true;
    assert_false(policy_enforce(hv, NULL, &sys, own));
    assert_true(policy_enforce("context_is_admin", NULL, &sys, own));
    assert_true(policy_enforce("", "@", &sys, own));
}

/* Every route's policy name has a rule, and the same name never carries two
 * enum policies in the table. */
static const struct {
    const char *name;
    enum policy p;
} table[] = {
#define ROUTE(m, path, a, mn, mx, st, pol, pname, gone, h) {pname, pol},
#include "routes.h"
#undef ROUTE
};

static void every_route_has_a_rule(void **state) {
    for (size_t i = 0; i < sizeof table / sizeof *table; i++) {
        if (!*table[i].name) {
            assert_int_equal(table[i].p, POLICY_AUTHENTICATED);
            continue;
        }
        const char *check = policy_rule(table[i].name);
        if (!check) fail_msg("no rule for %s", table[i].name);
        if (strstr(table[i].name, ":os-keypairs:")) /* Nova's own rule: admin or the key's user */
            assert_string_equal(check, "(rule:context_is_admin) or user_id:%(user_id)s");
        else
            assert_string_equal(check, policy_default_check(table[i].p));
    }
}

static void rule_loops(void **state) {
    char err[300];
    const char *yaml = "a: rule:b\n"
                       "b: rule:a\n"
                       "self: rule:self or @\n"
                       "chain: rule:a or role:member\n"
                       "missing: rule:nowhere\n";
    assert_int_equal(policy_load_text(yaml, strlen(yaml), err, sizeof err), 0);
    struct ctx c = who("u1", "p1", "member");
    const char *own[] = {"project_id", "p1", NULL};
    assert_false(policy_enforce("a", NULL, &c, own));
    assert_true(policy_enforce("self", NULL, &c, own));
    assert_true(policy_enforce("chain", NULL, &c, own));
    assert_false(policy_enforce("missing", NULL, &c, own));
}

static void yaml_file(void **state) {
    char err[300];
    const char *yaml = "# a comment\n"
                       "---\n"
                       "\"os_compute_api:os-hypervisors:list\": \"role:member\"\n"
                       "os_compute_api:os-hypervisors:show: role:member or role:reader  # trailing\n"
                       "'single': 'role:it''s'\n"
                       "\"escaped\": \"role:a\\\"b\\u00e9\"\n"
                       "empty:\n"
                       "nulled: ~\n"
                       "\n"
                       "    # an indented comment\n"
                       "folded: role:a or\n"
                       "  role:b\n"
                       "\"long\": \"role:a or\n"
                       "    role:b\"\n"
                       "\"nobody\": \"!\"\n"
                       "context_is_admin: role:cloud_admin\n";
    json_t *obj = policy_file_parse(yaml, strlen(yaml), err, sizeof err);
    if (!obj) fail_msg("%s", err);
    assert_string_equal(json_string_value(json_object_get(obj, "os_compute_api:os-hypervisors:list")),
                        "role:member");
    assert_string_equal(json_string_value(json_object_get(obj, "os_compute_api:os-hypervisors:show")),
                        "role:member or role:reader");
    assert_string_equal(json_string_value(json_object_get(obj, "single")), "role:it's");
    assert_string_equal(json_string_value(json_object_get(obj, "escaped")), "role:a\"b\xc3\xa9");
    assert_string_equal(json_string_value(json_object_get(obj, "empty")), "");
    assert_string_equal(json_string_value(json_object_get(obj, "nulled")), "");
    assert_string_equal(json_string_value(json_object_get(obj, "folded")), "role:a or role:b");
    assert_string_equal(json_string_value(json_object_get(obj, "long")), "role:a or role:b");
    assert_string_equal(json_string_value(json_object_get(obj, "nobody")), "!");
    assert_int_equal(json_object_size(obj), 10);
    json_decref(obj);

    /* loaded: the file's rules override, the others keep their defaults */
    assert_int_equal(policy_load_text(yaml, strlen(yaml), err, sizeof err), 0);
    struct ctx member = who("u1", "p1", "member,reader");
    struct ctx admin = who("admin", "admin", "admin");
    const char *own[] = {"project_id", "p1", "user_id", "u1", NULL};
    assert_true(policy_enforce("os_compute_api:os-hypervisors:list", NULL, &member, own));
    assert_string_equal(policy_rule("os_compute_api:os-hypervisors:detail") ? "x" : "none", "none");
    assert_string_equal(policy_rule("os_compute_api:os-hypervisors:list-detail"), "rule:context_is_admin");
    /* context_is_admin overridden: the admin role alone is no longer admin */
    assert_false(policy_is_admin(&admin));
    struct ctx cloud = who("c", "p9", "cloud_admin");
    assert_true(policy_is_admin(&cloud));
    assert_true(policy_enforce("os_compute_api:os-hypervisors:list-detail", NULL, &cloud, own));
    assert_true(policy_enforce("empty", NULL, &member, own));
    assert_false(policy_enforce("nobody", NULL, &admin, own));

    /* a second text replaces the first one's rules */
    const char *two = "{\"os_compute_api:os-hypervisors:show\": \"@\"}";
    assert_int_equal(policy_load_text(two, strlen(two), err, sizeof err), 0);
    assert_string_equal(policy_rule("os_compute_api:os-hypervisors:list"), "rule:context_is_admin");
    assert_string_equal(policy_rule("os_compute_api:os-hypervisors:show"), "@");
    assert_string_equal(policy_rule("context_is_admin"), "role:admin");
    assert_null(policy_rule("single"));
}

static void bad_files_keep_rules(void **state) {
    char err[300];
    const char *good = "\"os_compute_api:os-hypervisors:list\": \"role:member\"\n";
    assert_int_equal(policy_load_text(good, strlen(good), err, sizeof err), 0);
    const char *bad[] = {
        "\"a\": \"role:member and\"\n",         /* a bad check string */
        "\"a\": \"role:x\n",                    /* no closing quote */
        "a: [1, 2]\n",                          /* not a string */
        "  a: role:x\n",                        /* indented */
        "- a\n",                                /* a list */
        "just words\n",                         /* no ':' */
        "\"a\": \"x\" trailing\n",              /* text after the quote */
        "{\"a\": 1}",                           /* JSON, not a string */
        "{\"a\": \"@\",}",                      /* bad JSON */
        "[\"a\"]",                              /* not a map */
        "a: |\n  role:x\n",                     /* block scalar */
        "\"a\": \"\\q\"\n",                     /* unknown escape */
        "\"a\": \"\\u0000\"\n",                 /* NUL */
        "a:role:x\n",                           /* a name ending at EOL? no ': ' */
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        err[0] = 0;
        if (!policy_load_text(bad[i], strlen(bad[i]), err, sizeof err))
            fail_msg("accepted: %s", bad[i]);
        assert_true(err[0] != 0);
        assert_string_equal(policy_rule("os_compute_api:os-hypervisors:list"), "role:member");
    }
    /* a byte-order mark and CRLF line ends */
    const char *bom = "\xef\xbb\xbf# policy\r\n\r\n\"os_compute_api:os-hypervisors:list\": \"role:x\"\r\n"
                      "os_compute_api:os-hypervisors:show: role:y\r\n";
    assert_int_equal(policy_load_text(bom, strlen(bom), err, sizeof err), 0);
    assert_string_equal(policy_rule("os_compute_api:os-hypervisors:list"), "role:x");
    assert_string_equal(policy_rule("os_compute_api:os-hypervisors:show"), "role:y");
    /* comments only, or nothing: no rules over the defaults */
    const char *empty = "# nothing\n\n";
    assert_int_equal(policy_load_text(empty, strlen(empty), err, sizeof err), 0);
    assert_string_equal(policy_rule("os_compute_api:os-hypervisors:list"), "rule:context_is_admin");
    assert_int_equal(policy_load_text("", 0, err, sizeof err), 0);
}

/* policy_init finds the file beside the config file; policy_reload reads
 * it again, keeps the rules when it turns bad, and falls back to the
 * defaults when it is gone. */
static void file_and_reload(void **state) {
    char dir[] = "/tmp/cnova-policy-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char conf[128], pol[128];
    snprintf(conf, sizeof conf, "%s/cnova.conf", dir);
    snprintf(pol, sizeof pol, "%s/policy.yaml", dir);
    config_free(); /* [oslo_policy] policy_file at its default */
    FILE *f = fopen(pol, "w");
    fputs("\"os_compute_api:os-hypervisors:list\": \"role:member\"\n", f);
    fclose(f);
    assert_int_equal(policy_init(conf), 0);
    assert_string_equal(policy_rule("os_compute_api:os-hypervisors:list"), "role:member");

    f = fopen(pol, "w");
    fputs("\"os_compute_api:os-hypervisors:list\": \"role:member and\"\n", f);
    fclose(f);
    assert_int_equal(policy_reload(), -1);
    assert_string_equal(policy_rule("os_compute_api:os-hypervisors:list"), "role:member");

    f = fopen(pol, "w");
    fputs("{\"os_compute_api:os-hypervisors:list\": \"role:reader\"}\n", f);
    fclose(f);
    assert_int_equal(policy_reload(), 0);
    assert_string_equal(policy_rule("os_compute_api:os-hypervisors:list"), "role:reader");

    unlink(pol);
    assert_int_equal(policy_reload(), 0);
    assert_string_equal(policy_rule("os_compute_api:os-hypervisors:list"), "rule:context_is_admin");

    /* an absolute path from the config */
    char other[160];
    snprintf(other, sizeof other, "%s/elsewhere.json", dir);
    f = fopen(other, "w");
    fputs("{\"context_is_admin\": \"role:root\"}", f);
    fclose(f);
    config_set("oslo_policy", "policy_file", other);
    assert_int_equal(policy_init(conf), 0);
    assert_string_equal(policy_rule("context_is_admin"), "role:root");
    unlink(other);
    rmdir(dir);
    config_free();
    policy_free();
}

/* auth_policy answers Nova's 403 and lets the file decide. */
static void auth_policy_403(void **state) {
    struct req r;
    req_init(&r, "GET", "/os-hypervisors", NULL);
    r.ctx = who("u1", "p1", "member,reader");
    const char *name = "os_compute_api:os-hypervisors:list";
    assert_int_equal(auth_policy(&r, POLICY_ADMIN, name), 403);
    json_t *msg = json_object_get(json_object_get(r.resp, "forbidden"), "message");
    assert_string_equal(json_string_value(msg),
                        "Policy doesn't allow os_compute_api:os-hypervisors:list to be performed.");
    req_free(&r);

    char err[200];
    const char *yaml = "\"os_compute_api:os-hypervisors:list\": \"role:member\"\n";
    assert_int_equal(policy_load_text(yaml, strlen(yaml), err, sizeof err), 0);
    req_init(&r, "GET", "/os-hypervisors", NULL);
    r.ctx = who("u1", "p1", "member,reader");
    assert_int_equal(auth_policy(&r, POLICY_ADMIN, name), 0);
    /* an unknown name: the enum's default */
    assert_int_equal(auth_policy(&r, POLICY_MEMBER, "os_compute_api:made-up"), 0);
    assert_int_equal(auth_policy_target(&r, POLICY_MEMBER, "os_compute_api:made-up", "p2", NULL), 403);
    req_free(&r);
}

int main(void) {
    log_init("test_policy", (enum log_level)(LOG_ERROR + 1));
    router_init();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(constants, setup),
        cmocka_unit_test_setup(precedence, setup),
        cmocka_unit_test_setup(roles_and_generic, setup),
        cmocka_unit_test_setup(bad_syntax, setup),
        cmocka_unit_test_setup(defaults, setup),
        cmocka_unit_test_setup(every_route_has_a_rule, setup),
        cmocka_unit_test_setup(rule_loops, setup),
        cmocka_unit_test_setup(yaml_file, setup),
        cmocka_unit_test_setup(bad_files_keep_rules, setup),
        cmocka_unit_test_setup(file_and_reload, setup),
        cmocka_unit_test_setup(auth_policy_403, setup),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    policy_free();
    return rc;
}
