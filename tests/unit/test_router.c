/* test_router.c — the front door without a network: the route table, the
 * router's 404/405/Allow, prefixes, microversion parsing and the order of
 * checks in api_handle (run from the repo root: it loads api/). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "api.h"

/* Runs one request through api_handle; the caller req_free()s. */
static void run(struct req *r, const char *method, const char *uri, const char *ctype,
                const char *body, char **envp) {
    req_init(r, method, uri, envp);
    r->content_type = ctype;
    r->body_raw = (char *)body;
    r->body_len = body ? strlen(body) : 0;
    api_handle(r);
}

static char *admin_env[] = {"HTTP_X_AUTH_TOKEN=admin:admin", NULL};

static const char *fault_name(struct req *r) {
    return json_object_iter_key(json_object_iter(r->resp));
}

static void fill(const char *tpl, char *out, size_t n) {
    size_t o = 0;
    for (const char *p = tpl; *p && o + 40 < n;) {
        if (*p == '{') {
            o += (size_t)snprintf(out + o, n - o, "abc");
            p = strchr(p, '}') + 1;
        } else
            out[o++] = *p++;
    }
    out[o] = 0;
}

static void every_row_is_reachable(void **state) {
    (void)state;
    for (size_t i = 0; i < nroutes; i++) {
        char path[512];
        fill(routes[i].path, path, sizeof path);
        struct req r;
        req_init(&r, router_method_name(routes[i].method), path, NULL);
        char allow[128];
        assert_int_equal(router_match(&r, allow, sizeof allow), 0);
        assert_string_equal(r.route->path, routes[i].path);
        assert_int_equal(r.route->method, routes[i].method);
        req_free(&r);
    }
}

static void rows_of_a_template_are_contiguous(void **state) {
    (void)state;
    for (size_t i = 0; i < nroutes; i++)
        for (size_t j = i + 2; j < nroutes; j++)
            if (!strcmp(routes[i].path, routes[j].path))
                assert_string_equal(routes[j - 1].path, routes[i].path);
}

static void wrong_method_is_405_with_allow(void **state) {
    (void)state;
    struct req r;
    run(&r, "DELETE", "/v2.1/servers", NULL, NULL, admin_env);
    assert_int_equal(r.status, 405);
    assert_string_equal(fault_name(&r), "badMethod");
    assert_non_null(strstr(r.headers.s, "Allow: GET, POST\r\n"));
    req_free(&r);
}

static void literal_beats_parameter(void **state) {
    (void)state;
    struct req r;
    req_init(&r, "GET", "/servers/detail", NULL);
    char allow[128];
    assert_int_equal(router_match(&r, allow, sizeof allow), 0);
    assert_string_equal(r.route->path, "/servers/detail");
    req_free(&r);
    req_init(&r, "GET", "/servers/0c6d3b0e-1111-4222-8333-444455556666/ips/net%201", NULL);
    assert_int_equal(router_match(&r, allow, sizeof allow), 0);
    assert_string_equal(req_param(&r, "server_id"), "0c6d3b0e-1111-4222-8333-444455556666");
    assert_string_equal(req_param(&r, "id"), "net 1");
    req_free(&r);
}

static void unknown_path_is_404(void **state) {
    (void)state;
    const char *paths[] = {"/v2.1/nope", "/v3/servers", "/v2.1/servers/a/b/c/d/e/f/g/h/i", "/x"};
    for (size_t i = 0; i < sizeof paths / sizeof *paths; i++) {
        struct req r;
        run(&r, "GET", paths[i], NULL, NULL, admin_env);
        assert_int_equal(r.status, 404);
        assert_string_equal(fault_name(&r), "itemNotFound");
        req_free(&r);
    }
}

/* Bytes that are not UTF-8 in a header or the query string: a fault with a
 * body (jansson holds only UTF-8; the message quotes them as U+FFFD), and
 * query keys and values kept the same way. */
static void text_that_is_not_utf8(void **state) {
    (void)state;
    struct req r;
    char *env[] = {"HTTP_X_AUTH_TOKEN=admin:admin", "HTTP_OPENSTACK_API_VERSION=compute 2.\xff\xc0",
                   NULL};
    run(&r, "GET", "/v2.1/flavors", NULL, NULL, env);
    assert_int_equal(r.status, 400);
    assert_string_equal(fault_name(&r), "badRequest");
    const char *msg =
        json_string_value(json_object_get(json_object_get(r.resp, "badRequest"), "message"));
    assert_non_null(strstr(msg, "2.\xef\xbf\xbd\xef\xbf\xbd is of invalid format"));
    req_free(&r);
    run(&r, "GET", "/v2.1/nope?%FF%FE=%C0&%FF%FE=x%ED%A0%80", NULL, NULL, admin_env);
    assert_int_equal(r.status, 404);
    assert_string_equal(req_query(&r, "\xef\xbf\xbd\xef\xbf\xbd"),
                        "x\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");
    req_free(&r);
}

static void project_prefix_and_legacy(void **state) {
    (void)state;
    struct req r;
    run(&r, "POST", "/v2.1/proj1/servers", "text/plain", "x", admin_env);
    assert_int_equal(r.status, 415);
    assert_string_equal(r.url_project, "proj1");
    assert_string_equal(r.path, "/servers");
    req_free(&r);
    run(&r, "GET", "/v2/proj1/flavors/detail", NULL, NULL, admin_env);
    assert_true(r.legacy);
    assert_int_equal(r.version, MV_LEGACY);
    struct sbuf out = {0};
    api_render(&r, &out);
    assert_null(strstr(out.s, "OpenStack-API-Version"));
    sbuf_free(&out);
    req_free(&r);
}

static void microversions(void **state) {
    (void)state;
    assert_int_equal(mv_parse("2.1"), MV(2, 1));
    assert_int_equal(mv_parse("2.104"), MV(2, 104));
    assert_int_equal(mv_parse("latest"), MV_MAX);
    assert_int_equal(mv_parse("2"), 0);
    assert_int_equal(mv_parse("2."), 0);
    assert_int_equal(mv_parse("a.b"), 0);
    assert_int_equal(mv_parse("2.1x"), 0);
    char *env406[] = {"HTTP_X_AUTH_TOKEN=admin:admin", "HTTP_OPENSTACK_API_VERSION=compute 2.105", NULL};
    struct req r;
    run(&r, "GET", "/v2.1/flavors", NULL, NULL, env406);
    assert_int_equal(r.status, 406);
    req_free(&r);
    char *env400[] = {"HTTP_X_AUTH_TOKEN=admin:admin", "HTTP_X_OPENSTACK_NOVA_API_VERSION=two", NULL};
    run(&r, "GET", "/v2.1/flavors", NULL, NULL, env400);
    assert_int_equal(r.status, 400);
    req_free(&r);
    char *env_old[] = {"HTTP_X_AUTH_TOKEN=admin:admin", "HTTP_OPENSTACK_API_VERSION=compute 2.25", NULL};
    run(&r, "GET", "/v2.1/servers/abc/tags", NULL, NULL, env_old);
    assert_int_equal(r.status, 404);
    req_free(&r);
}

static void order_of_checks(void **state) {
    (void)state;
    struct req r;
    /* no token: 401 before anything about the body */
    run(&r, "POST", "/v2.1/servers", "text/plain", "x", NULL);
    assert_int_equal(r.status, 401);
    req_free(&r);
    run(&r, "POST", "/v2.1/servers", "application/json", "{\"oops\": ", admin_env);
    assert_int_equal(r.status, 400);
    req_free(&r);
    run(&r, "POST", "/v2.1/servers/abc/action", "application/json", "{\"fly\": {}}", admin_env);
    assert_int_equal(r.status, 400);
    assert_non_null(strstr(json_string_value(json_object_get(json_object_get(r.resp, "badRequest"),
                                                             "message")),
                           "There is no such action: fly"));
    req_free(&r);
    char *member[] = {"HTTP_X_AUTH_TOKEN=alice:demo", NULL};
    run(&r, "GET", "/v2.1/os-hypervisors", NULL, NULL, member);
    assert_int_equal(r.status, 403);
    req_free(&r);
    /* a route not built yet (any GET row without parameters) answers 501 */
    for (size_t i = 0; i < nroutes; i++) {
        if (routes[i].handler != not_built || routes[i].method != GET || strchr(routes[i].path, '{'))
            continue;
        char uri[256], env_ver[64];
        snprintf(uri, sizeof uri, "/v2.1%s", routes[i].path);
        snprintf(env_ver, sizeof env_ver, "HTTP_X_OPENSTACK_NOVA_API_VERSION=2.%d",
                 (routes[i].min > MV_MIN ? routes[i].min : MV_MIN) - MV(2, 0));
        char *env[] = {"HTTP_X_AUTH_TOKEN=admin:admin", env_ver, NULL};
        run(&r, "GET", uri, NULL, NULL, env);
        assert_int_equal(r.status, 501);
        assert_string_equal(fault_name(&r), "notImplemented");
        req_free(&r);
        break;
    }
}

/* Found by fuzz/fuzz_query.c: a parameter without '=' had its value
 * decoded in place in a string literal (a write to read-only memory). */
static void query_parameter_without_value(void **state) {
    (void)state;
    struct req r;
    req_init(&r, "GET", "/servers?all_tenants&limit=2&=x&&deleted", NULL);
    req_parse_query(&r);
    assert_string_equal(req_query(&r, "all_tenants"), "");
    assert_string_equal(req_query(&r, "limit"), "2");
    assert_string_equal(req_query(&r, ""), "x");
    assert_string_equal(req_query(&r, "deleted"), "");
    assert_int_equal(json_object_size(r.query_map), 4);
    req_free(&r);
}

/* Found by fuzz/fuzz_query.c: a key that is not UTF-8 once decoded made
 * jansson free the new list, which was then appended to (use after free);
 * such a value was dropped. Both read as Python decodes them now, each
 * invalid byte U+FFFD. */
static void query_not_utf8(void **state) {
    (void)state;
    struct req r;
    req_init(&r, "GET", "/servers?%FF=1&name=%FEA&ok=%C3%A9&name=%C3", NULL);
    req_parse_query(&r);
    assert_string_equal(req_query(&r, "\xEF\xBF\xBD"), "1");
    json_t *names = json_object_get(r.query_map, "name");
    assert_int_equal(json_array_size(names), 2);
    assert_string_equal(json_string_value(json_array_get(names, 0)), "\xEF\xBF\xBD\x41");
    assert_string_equal(json_string_value(json_array_get(names, 1)), "\xEF\xBF\xBD");
    assert_string_equal(req_query(&r, "ok"), "\xC3\xA9");
    req_free(&r);
}

/* Found by fuzz/fuzz_microversion.c: an error message echoing bytes that
 * are not UTF-8 (a header, a path) made json_pack fail, so the error went
 * out with no body; so did a message cut inside a character. */
static void error_message_not_utf8(void **state) {
    (void)state;
    char *env[] = {"HTTP_X_AUTH_TOKEN=admin:admin", "HTTP_X_OPENSTACK_NOVA_API_VERSION=\xdd", NULL};
    struct req r;
    run(&r, "GET", "/v2.1/flavors", NULL, NULL, env);
    assert_int_equal(r.status, 400);
    assert_string_equal(fault_name(&r), "badRequest");
    const char *msg =
        json_string_value(json_object_get(json_object_get(r.resp, "badRequest"), "message"));
    assert_non_null(strstr(msg, "API Version String \xEF\xBF\xBD is of invalid format."));
    req_free(&r);
    char long_text[2001];
    for (int i = 0; i < 1000; i++)
        memcpy(long_text + 2 * i, "\xC3\xA9", 2);
    long_text[2000] = 0;
    req_init(&r, "GET", "/", NULL);
    assert_int_equal(api_error(&r, 404, "x%s", long_text), 404);
    msg = json_string_value(json_object_get(json_object_get(r.resp, "itemNotFound"), "message"));
    assert_non_null(msg);
    assert_true(strlen(msg) > 1000);
    req_free(&r);
}

static void render_has_nova_headers(void **state) {
    (void)state;
    struct req r;
    run(&r, "GET", "/v2.1/", NULL, NULL, NULL);
    assert_int_equal(r.status, 200);
    struct sbuf out = {0};
    api_render(&r, &out);
    assert_non_null(strstr(out.s, "Status: 200 OK\r\n"));
    assert_non_null(strstr(out.s, "x-openstack-request-id: req-"));
    assert_non_null(strstr(out.s, "x-compute-request-id: req-"));
    assert_non_null(strstr(out.s, "OpenStack-API-Version: compute 2.1\r\n"));
    assert_non_null(strstr(out.s, "Vary: OpenStack-API-Version, X-OpenStack-Nova-API-Version\r\n"));
    sbuf_free(&out);
    req_free(&r);
}

static void config_file(void **state) {
    (void)state;
    char path[] = "/tmp/cnova-test-conf-XXXXXX";
    int fd = mkstemp(path);
    FILE *f = fdopen(fd, "w");
    fputs("# comment\n[api]\nworkers = 7\n  auth_strategy=noauth2  \n[x]\nflag = yes\n", f);
    fclose(f);
    assert_int_equal(config_load(path), 0);
    assert_int_equal(config_int("api", "workers", 0), 7);
    assert_string_equal(config_get("api", "auth_strategy", ""), "noauth2");
    assert_true(config_bool("x", "flag", 0));
    assert_string_equal(config_get("x", "missing", "dflt"), "dflt");
    remove(path);
    config_free();
}

static int setup(void **state) {
    (void)state;
    log_init("test", LOG_ERROR);
    /* no database here, on purpose: never reach a stack that happens to run */
    config_set("database", "connection", "host=127.0.0.1 port=1 connect_timeout=1");
    router_init();
    return schemas_load("api/request-schemas.json") || auth_init();
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_row_is_reachable),
        cmocka_unit_test(rows_of_a_template_are_contiguous),
        cmocka_unit_test(wrong_method_is_405_with_allow),
        cmocka_unit_test(literal_beats_parameter),
        cmocka_unit_test(unknown_path_is_404),
        cmocka_unit_test(text_that_is_not_utf8),
        cmocka_unit_test(project_prefix_and_legacy),
        cmocka_unit_test(microversions),
        cmocka_unit_test(order_of_checks),
        cmocka_unit_test(query_parameter_without_value),
        cmocka_unit_test(query_not_utf8),
        cmocka_unit_test(error_message_not_utf8),
        cmocka_unit_test(render_has_nova_headers),
        cmocka_unit_test(config_file),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
