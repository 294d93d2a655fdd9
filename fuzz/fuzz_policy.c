/* fuzz_policy.c — libFuzzer target: the policy engine (fcgi-api/policy.c):
 * the check-string parser and evaluator and the policy-file parser (YAML
 * subset and JSON). Input: the bytes are tried both as one check string
 * (up to the first NUL) and as a whole policy file. Checks: a check
 * string that does not parse has a reason; a file that parses is a map of
 * strings; a file that loads is enforced, rule by rule, for a member, an
 * admin and a caller without roles (rule: loops end), then the defaults
 * come back; a file that does not load leaves the defaults in force. */
#include "fuzz.h"
#include "policy.h"

static struct ctx who(const char *user, const char *project, const char *roles) {
    struct ctx c = {0};
    snprintf(c.user_id, sizeof c.user_id, "%s", user);
    snprintf(c.project_id, sizeof c.project_id, "%s", project);
    char buf[128];
    snprintf(buf, sizeof buf, "%s", roles);
    for (char *save = NULL, *r = strtok_r(buf, ",", &save); r; r = strtok_r(NULL, ",", &save))
        ctx_add_role(&c, r);
    return c;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    fuzz_init();
    static struct ctx people[3];
    static int ready;
    if (!ready++) {
        people[0] = who("u1", "p1", "member,reader");
        people[1] = who("admin", "admin", "admin,member,reader");
        people[2] = who("x", "p2", "");
    }
    const char *target[] = {"project_id", "p1", "user_id", "u1", NULL};

    char *s = fuzz_str(data, size);
    char err[256];
    struct policy_expr *e = policy_parse(s, err, sizeof err);
    if (!e && !err[0]) abort();
    for (int i = 0; e && i < 3; i++) policy_eval(e, &people[i], target);
    policy_expr_free(e);
    free(s);

    json_t *obj = policy_file_parse((const char *)data, size, err, sizeof err);
    if (!obj && !err[0]) abort();
    const char *k;
    json_t *v;
    json_object_foreach(obj, k, v) {
        if (!json_is_string(v) || !*k) abort();
    }
    if (policy_load_text((const char *)data, size, err, sizeof err) == 0) {
        if (!obj) abort();
        json_object_foreach(obj, k, v) {
            for (int i = 0; i < 3; i++) policy_enforce(k, NULL, &people[i], target);
            if (strcmp(policy_rule(k), json_string_value(v))) abort();
        }
        policy_is_admin(&people[1]);
        policy_reset();
    } else if (strcmp(policy_rule("context_is_admin"), "role:admin")) {
        abort(); /* a bad file changed the rules in force */
    }
    json_decref(obj);
    return 0;
}
