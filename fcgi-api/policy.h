/* policy.h — the policy engine: Nova's default rules as data, oslo.policy's
 * check-string language, and the policy file that overrides the defaults.
 *
 * Rules are "name" -> check string. The defaults are Nova's base rules
 * (context_is_admin, project_member_or_admin, ...) and one rule for every
 * policy name of the route table and of the handlers, derived from the
 * route's enum policy (policy_default_check). A policy file ([oslo_policy]
 * policy_file: YAML "name": "check" lines, or a JSON object) replaces the
 * rules it names; the others keep their defaults. policy_reload() reads the
 * file again; a file that cannot be read or parsed is logged and the rules
 * in force stay as they were.
 *
 * Check strings (oslo.policy): "@" (always), "!" (never), "" (always),
 * role:NAME, rule:NAME, is_admin:True, KEY:%(target_key)s,
 * KEY:'literal', 'literal':%(target_key)s, combined with not / and / or
 * (that precedence, tightest first) and parentheses. KEY names a
 * credential: user_id, project_id, user_domain_id, project_domain_id,
 * domain_id, system_scope ("all" or ""), is_admin ("True"/"False"),
 * roles. */
#ifndef CNOVA_POLICY_H
#define CNOVA_POLICY_H

#include <stdbool.h>
#include <stddef.h>

#include "api.h"

/* A parsed check string. */
struct policy_expr;

/* Parses a check string. NULL when it is not valid, with a reason in err
 * (errlen bytes). */
struct policy_expr *policy_parse(const char *check, char *err, size_t errlen);
void policy_expr_free(struct policy_expr *e);
/* Evaluates e with the caller's credentials and a target given as a
 * NULL-terminated list of key, value, key, value, ... (NULL for none).
 * rule:NAME reads the rules in force. */
bool policy_eval(const struct policy_expr *e, const struct ctx *c, const char *const *target);

/* The default check string of a route's enum policy (READER ->
 * "rule:project_reader_or_admin", ...). */
const char *policy_default_check(enum policy p);

/* Loads the defaults, then the policy file of [oslo_policy] policy_file
 * (relative to the folder of conf_path, the config file's path; missing =
 * defaults only). 0, or -1 when the file is there but bad (logged; the
 * defaults are in force). */
int policy_init(const char *conf_path);
/* Reads the policy file again (policy_init's path). 0, or -1 when it is
 * bad: logged, the rules in force are kept. */
int policy_reload(void);
/* The rules from text (YAML subset or JSON, as in a policy file) over the
 * defaults, replacing any earlier file's rules. 0, or -1 with the reason
 * in err (the rules in force are kept). */
int policy_load_text(const char *text, size_t len, char *err, size_t errlen);
/* Only the defaults in force again. */
void policy_reset(void);
void policy_free(void);

/* The check string in force for name, or NULL when no rule has it. */
const char *policy_rule(const char *name);
/* True when the rule name allows the caller on target. A name without a
 * rule is checked with fallback (a check string; NULL = deny). A token
 * scoped to the system is refused by Nova's own (project-scoped) rules
 * when [oslo_policy] enforce_scope (default true). */
bool policy_enforce(const char *name, const char *fallback, const struct ctx *c,
                    const char *const *target);
/* Whether the caller is an admin: the rule context_is_admin (as Nova's
 * request context decides is_admin). */
bool policy_is_admin(const struct ctx *c);

/* Parses a policy file's text (YAML subset or JSON) into a JSON object
 * {"name": "check", ...}. NULL with the reason in err when it is bad.
 * Exposed for the tests and the fuzz target. */
json_t *policy_file_parse(const char *text, size_t len, char *err, size_t errlen);

#endif
