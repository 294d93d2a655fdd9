/* Unit tests of lib/validate.c: the official JSON Schema Test Suite for the
 * supported keywords (read at run time from Debian's json-schema-test-suite
 * package) and Nova's own messages. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "validate.h"

#define SUITE_DIR "/usr/share/json-schema-test-suite/tests/draft7"

/* ------------------------------------------------------------------ */
/* JSON Schema Test Suite                                               */

static const char *const suite_files[] = {
    "type",
    "properties",
    "additionalProperties",
    "required",
    "items",
    "enum",
    "const",
    "pattern",
    "patternProperties",
    "minLength",
    "maxLength",
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "minItems",
    "maxItems",
    "uniqueItems",
    "minProperties",
    "maxProperties",
    "oneOf",
    "anyOf",
    "allOf",
    "not",
    "optional/format/ipv4",
    "optional/format/ipv6",
    "optional/format/date-time",
    "optional/format/regex",
    "optional/format/uri",
};

/* Cases that rely on what the validator deliberately does not do. A NULL
 * test description skips the whole group. */
static const struct skip {
    const char *file, *group, *test, *why;
} skips[] = {
    /* Nova applies minimum/maximum to int(x) first (its string-number
     * twist), and int() truncates a float: 1.1 counts as 1, 3.5 as 3. */
    {"minimum", "minimum validation", "boundary point is valid",
     "Nova truncates floats (int(1.1) == 1) before minimum"},
    {"maximum", "maximum validation", "above the maximum is invalid",
     "Nova truncates floats (int(3.5) == 3) before maximum"},
    /* Nova's format checkers differ from the spec's on purpose */
    {"optional/format/date-time", "validation of date-time strings", "case-insensitive T and Z",
     "Nova parses with the iso8601 package: upper-case T and Z only"},
    {"optional/format/uri", "validation of URIs", "a valid mailto URI",
     "Nova's uri requires a scheme and a host"},
    {"optional/format/uri", "validation of URIs", "a valid newsgroup URI",
     "Nova's uri requires a scheme and a host"},
    {"optional/format/uri", "validation of URIs", "a valid tel URI",
     "Nova's uri requires a scheme and a host"},
    {"optional/format/uri", "validation of URIs", "a valid URN",
     "Nova's uri requires a scheme and a host"},
    {NULL, NULL, NULL, NULL},
};

static int skipped(const char *file, const char *group, const char *test, const char **why) {
    for (const struct skip *s = skips; s->file; s++) {
        if (strcmp(s->file, file) || strcmp(s->group, group)) continue;
        if (!s->test || !strcmp(s->test, test)) {
            *why = s->why;
            return 1;
        }
    }
    return 0;
}

static void test_suite(void **state) {
    (void)state;
    struct stat st;
    if (stat(SUITE_DIR, &st) != 0) {
        print_message("json-schema-test-suite not installed (%s): suite skipped\n", SUITE_DIR);
        skip();
        return;
    }
    int passed = 0, nskipped = 0, failed = 0;
    char msg[2048];
    for (size_t f = 0; f < sizeof suite_files / sizeof suite_files[0]; f++) {
        char path[512];
        snprintf(path, sizeof path, "%s/%s.json", SUITE_DIR, suite_files[f]);
        json_error_t jerr;
        json_t *groups = json_load_file(path, JSON_DECODE_ANY, &jerr);
        if (!groups) {
            print_message("note: %s not loaded (%s): skipped\n", path, jerr.text);
            continue;
        }
        size_t gi;
        json_t *g;
        json_array_foreach(groups, gi, g) {
            const char *gdesc = json_string_value(json_object_get(g, "description"));
            json_t *schema = json_object_get(g, "schema");
            size_t ti;
            json_t *t;
            json_array_foreach(json_object_get(g, "tests"), ti, t) {
                const char *tdesc = json_string_value(json_object_get(t, "description"));
                const char *why;
                if (skipped(suite_files[f], gdesc, tdesc, &why)) {
                    print_message("skip %s: %s: %s (%s)\n", suite_files[f], gdesc, tdesc, why);
                    nskipped++;
                    continue;
                }
                int want = json_is_true(json_object_get(t, "valid"));
                int got = validate(schema, json_object_get(t, "data"), VALIDATE_BODY, msg,
                                   sizeof msg) == 0;
                if (got == want)
                    passed++;
                else {
                    failed++;
                    print_message("FAIL %s: %s: %s (expected %s; %s)\n", suite_files[f], gdesc,
                                  tdesc, want ? "valid" : "invalid", got ? "valid" : msg);
                }
            }
        }
        json_decref(groups);
    }
    print_message("JSON Schema Test Suite: %d passed, %d failed, %d skipped\n", passed, failed,
                  nskipped);
    assert_int_equal(failed, 0);
}

/* ------------------------------------------------------------------ */
/* Nova's messages                                                      */

/* Nova's own schemas, copied from shared/api/schemas.json: keypair create
 * (2.92+ and 2.0), flavor create (2.1-2.54), keypair list query (2.75+),
 * server create (2.90-2.93). */
#define NOVA_SCHEMAS_FILE "nova_schemas.json"

static json_t *nova_schemas;

static int load_nova_schemas(void **state) {
    (void)state;
    /* next to this source file: tests/unit/data/ */
    char path[1024];
    const char *src = __FILE__;
    const char *slash = strrchr(src, '/');
    int dirlen = slash ? (int)(slash - src) : 0;
    snprintf(path, sizeof path, "%.*s%sdata/" NOVA_SCHEMAS_FILE, dirlen, src, slash ? "/" : "");
    json_error_t err;
    nova_schemas = json_load_file(path, 0, &err);
    if (!nova_schemas) {
        /* run from elsewhere: the binary is <repo>/<build>/tests/test_validate */
        char exe[900];
        ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
        if (n > 0) {
            exe[n] = '\0';
            for (int up = 0; up < 3; up++) {
                char *s = strrchr(exe, '/');
                if (s) *s = '\0';
            }
            snprintf(path, sizeof path, "%s/tests/unit/data/" NOVA_SCHEMAS_FILE, exe);
            nova_schemas = json_load_file(path, 0, &err);
        }
    }
    if (!nova_schemas) {
        print_message("cannot load %s: %s\n", path, err.text);
        return -1;
    }
    return 0;
}

static int free_nova_schemas(void **state) {
    (void)state;
    json_decref(nova_schemas);
    return 0;
}

/* Expected messages were produced by Nova's own validator code path
 * (python-jsonschema 4.26 Draft202012Validator with Nova's minimum/maximum
 * and format checkers) on the same schemas and bodies. */
static const struct ncase {
    const char *name;
    const char *schema; /* JSON, or "@name" of a schema in nova_schemas.json */
    const char *instance;
    enum validate_mode mode;
    const char *expect; /* NULL: valid */
} ncases[] = {
    {"keypair ok", "@keypair",
     "{\"keypair\": {\"name\": \"kp-1\", \"public_key\": \"ssh-rsa AAA\"}}", VALIDATE_BODY, NULL},
    {"keypair ok dots", "@keypair",
     "{\"keypair\": {\"name\": \"a.b@c\", \"public_key\": \"x\", \"type\": \"x509\"}}",
     VALIDATE_BODY, NULL},
    {"keypair body missing", "@keypair", "{}", VALIDATE_BODY, "'keypair' is a required property"},
    {"keypair body not object", "@keypair", "[]", VALIDATE_BODY, "[] is not of type 'object'"},
    {"keypair required name", "@keypair", "{\"keypair\": {\"public_key\": \"x\"}}", VALIDATE_BODY,
     "Invalid input for field/attribute keypair. Value: {'public_key': 'x'}. 'name' is a required "
     "property"},
    {"keypair additional", "@keypair",
     "{\"keypair\": {\"name\": \"kp\", \"public_key\": \"x\", \"foo\": 1}}", VALIDATE_BODY,
     "Invalid input for field/attribute keypair. Value: {'name': 'kp', 'public_key': 'x', 'foo': "
     "1}. Additional properties are not allowed ('foo' was unexpected)"},
    {"keypair additional two", "@keypair",
     "{\"keypair\": {\"name\": \"kp\", \"public_key\": \"x\"}, \"zz\": 1, \"aa\": null}",
     VALIDATE_BODY, "Additional properties are not allowed ('aa', 'zz' were unexpected)"},
    {"keypair empty name", "@keypair", "{\"keypair\": {\"name\": \"\", \"public_key\": \"x\"}}",
     VALIDATE_BODY, "Invalid input for field/attribute name. Value: . '' should be non-empty"},
    {"keypair name leading space", "@keypair",
     "{\"keypair\": {\"name\": \" kp\", \"public_key\": \"x\"}}", VALIDATE_BODY,
     "An invalid 'name' value was provided. The name must be: printable characters. Can not start "
     "or end with whitespace."},
    {"keypair name bad char", "@keypair",
     "{\"keypair\": {\"name\": \"kp!\", \"public_key\": \"x\"}}", VALIDATE_BODY,
     "Invalid input for field/attribute name. Value: kp!. 'kp!' does not match '^[_\\\\-\\\\@\\\\. "
     "a-zA-Z0-9]+$'"},
    {"keypair name not string", "@keypair", "{\"keypair\": {\"name\": 12, \"public_key\": \"x\"}}",
     VALIDATE_BODY,
     "Invalid input for field/attribute name. Value: 12. 12 is not of type 'string'"},
    {"keypair name null", "@keypair", "{\"keypair\": {\"name\": null, \"public_key\": \"x\"}}",
     VALIDATE_BODY,
     "Invalid input for field/attribute name. Value: None. None is not of type 'string'"},
    {"keypair type enum", "@keypair",
     "{\"keypair\": {\"name\": \"kp\", \"public_key\": \"x\", \"type\": \"rsa\"}}", VALIDATE_BODY,
     "Invalid input for field/attribute type. Value: rsa. 'rsa' is not one of ['ssh', 'x509']"},
    {"keypair name too long", "@keypair",
     "{\"keypair\": {\"name\": "
     "\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\", \"public_key\": "
     "\"x\"}}",
     VALIDATE_BODY,
     "Invalid input for field/attribute name. Value: "
     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa. "
     "'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa' is too long"},
    {"keypair public_key type", "@keypair",
     "{\"keypair\": {\"name\": \"kp\", \"public_key\": true}}", VALIDATE_BODY,
     "Invalid input for field/attribute public_key. Value: True. True is not of type 'string'"},
    {"keypair 2.0 spaces ok", "@keypair20", "{\"keypair\": {\"name\": \"  kp  \"}}", VALIDATE_BODY,
     NULL},
    {"keypair 2.0 only spaces", "@keypair20", "{\"keypair\": {\"name\": \"   \"}}", VALIDATE_BODY,
     "An invalid 'name' value was provided. The name must be: printable characters with at least "
     "one non space character"},
    {"keypair 2.0 control char", "@keypair20", "{\"keypair\": {\"name\": \"k\\u0001p\"}}",
     VALIDATE_BODY,
     "An invalid 'name' value was provided. The name must be: printable characters with at least "
     "one non space character"},
    {"keypair 2.0 empty", "@keypair20", "{\"keypair\": {\"name\": \"\"}}", VALIDATE_BODY,
     "An invalid 'name' value was provided. The name must be: printable characters with at least "
     "one non space character"},
    {"flavor ok", "@flavor",
     "{\"flavor\": {\"name\": \"f\", \"ram\": 1, \"vcpus\": 1, \"disk\": 0}}", VALIDATE_BODY, NULL},
    {"flavor ok strings", "@flavor",
     "{\"flavor\": {\"name\": \"f\", \"ram\": \"512\", \"vcpus\": \"2\", \"disk\": \"10\", "
     "\"rxtx_factor\": 1.5, \"id\": \"my flavor\"}}",
     VALIDATE_BODY, NULL},
    {"flavor ram string zero", "@flavor",
     "{\"flavor\": {\"name\": \"f\", \"ram\": \"0\", \"vcpus\": 1, \"disk\": 0}}", VALIDATE_BODY,
     "Invalid input for field/attribute ram. Value: 0. 0 is less than the minimum of 1"},
    {"flavor ram zero", "@flavor",
     "{\"flavor\": {\"name\": \"f\", \"ram\": 0, \"vcpus\": 1, \"disk\": 0}}", VALIDATE_BODY,
     "Invalid input for field/attribute ram. Value: 0. 0 is less than the minimum of 1"},
    {"flavor ram too big", "@flavor",
     "{\"flavor\": {\"name\": \"f\", \"ram\": 2147483648, \"vcpus\": 1, \"disk\": 0}}",
     VALIDATE_BODY,
     "Invalid input for field/attribute ram. Value: 2147483648. 2147483648 is greater than the "
     "maximum of 2147483647"},
    {"flavor ram string too big", "@flavor",
     "{\"flavor\": {\"name\": \"f\", \"ram\": \"99999999999999999999\", \"vcpus\": 1, \"disk\": "
     "0}}",
     VALIDATE_BODY,
     "Invalid input for field/attribute ram. Value: 99999999999999999999. 99999999999999999999 is "
     "greater than the maximum of 2147483647"},
    {"flavor ram not digits", "@flavor",
     "{\"flavor\": {\"name\": \"f\", \"ram\": \"abc\", \"vcpus\": 1, \"disk\": 0}}", VALIDATE_BODY,
     "Invalid input for field/attribute ram. Value: abc. 'abc' does not match '^[0-9]+$'"},
    {"flavor ram float", "@flavor",
     "{\"flavor\": {\"name\": \"f\", \"ram\": 1.5, \"vcpus\": 1, \"disk\": 0}}", VALIDATE_BODY,
     "Invalid input for field/attribute ram. Value: 1.5. 1.5 is not of type 'integer', 'string'"},
    {"flavor ram integral float", "@flavor",
     "{\"flavor\": {\"name\": \"f\", \"ram\": 2.0, \"vcpus\": 1, \"disk\": 0}}", VALIDATE_BODY,
     NULL},
    {"flavor ram bool", "@flavor",
     "{\"flavor\": {\"name\": \"f\", \"ram\": true, \"vcpus\": 1, \"disk\": 0}}", VALIDATE_BODY,
     "Invalid input for field/attribute ram. Value: True. True is not of type 'integer', 'string'"},
    {"flavor vcpus negative", "@flavor",
     "{\"flavor\": {\"name\": \"f\", \"ram\": 1, \"vcpus\": -1, \"disk\": 0}}", VALIDATE_BODY,
     "Invalid input for field/attribute vcpus. Value: -1. -1 is less than the minimum of 1"},
    {"flavor rxtx zero", "@flavor",
     "{\"flavor\": {\"name\": \"f\", \"ram\": 1, \"vcpus\": 1, \"disk\": 0, \"rxtx_factor\": 0}}",
     VALIDATE_BODY,
     "Invalid input for field/attribute rxtx_factor. Value: 0. 0 is less than or equal to the "
     "minimum of 0"},
    {"flavor rxtx string zero", "@flavor",
     "{\"flavor\": {\"name\": \"f\", \"ram\": 1, \"vcpus\": 1, \"disk\": 0, \"rxtx_factor\": "
     "\"0\"}}",
     VALIDATE_BODY, NULL},
    {"flavor rxtx huge", "@flavor",
     "{\"flavor\": {\"name\": \"f\", \"ram\": 1, \"vcpus\": 1, \"disk\": 0, \"rxtx_factor\": "
     "1e+39}}",
     VALIDATE_BODY,
     "Invalid input for field/attribute rxtx_factor. Value: 1e+39. "
     "999999999999999939709166371603178586112 is greater than the maximum of 3.40282e+38"},
    {"flavor id leading space", "@flavor",
     "{\"flavor\": {\"name\": \"f\", \"ram\": 1, \"vcpus\": 1, \"disk\": 0, \"id\": \" x\"}}",
     VALIDATE_BODY,
     "Invalid input for field/attribute id. Value:  x. ' x' does not match '^(?! )[a-zA-Z0-9. "
     "_-]+(?<! )$'"},
    {"flavor id number", "@flavor",
     "{\"flavor\": {\"name\": \"f\", \"ram\": 1, \"vcpus\": 1, \"disk\": 0, \"id\": 12}}",
     VALIDATE_BODY, NULL},
    {"flavor is_public", "@flavor",
     "{\"flavor\": {\"name\": \"f\", \"ram\": 1, \"vcpus\": 1, \"disk\": 0, "
     "\"os-flavor-access:is_public\": \"maybe\"}}",
     VALIDATE_BODY,
     "Invalid input for field/attribute os-flavor-access:is_public. Value: maybe. 'maybe' is not "
     "one of [True, 'True', 'TRUE', 'true', '1', 'ON', 'On', 'on', 'YES', 'Yes', 'yes', False, "
     "'False', 'FALSE', 'false', '0', 'OFF', 'Off', 'off', 'NO', 'No', 'no']"},
    {"flavor name trailing space", "@flavor",
     "{\"flavor\": {\"name\": \"f \", \"ram\": 1, \"vcpus\": 1, \"disk\": 0}}", VALIDATE_BODY,
     "An invalid 'name' value was provided. The name must be: printable characters. Can not start "
     "or end with whitespace."},
    {"flavor name emoji", "@flavor",
     "{\"flavor\": {\"name\": \"f\360\237\230\200\", \"ram\": 1, \"vcpus\": 1, \"disk\": 0}}",
     VALIDATE_BODY,
     "An invalid 'name' value was provided. The name must be: printable characters. Can not start "
     "or end with whitespace."},
    {"flavor name newline end", "@flavor",
     "{\"flavor\": {\"name\": \"f\\n\", \"ram\": 1, \"vcpus\": 1, \"disk\": 0}}", VALIDATE_BODY,
     NULL},
    {"flavor missing ram", "@flavor", "{\"flavor\": {\"name\": \"f\", \"vcpus\": 1, \"disk\": 0}}",
     VALIDATE_BODY,
     "Invalid input for field/attribute flavor. Value: {'name': 'f', 'vcpus': 1, 'disk': 0}. 'ram' "
     "is a required property"},
    {"query ok", "@keypairs_query", "{\"limit\": [\"10\"], \"marker\": [\"kp\"]}", VALIDATE_QUERY,
     NULL},
    {"query limit not digits", "@keypairs_query", "{\"limit\": [\"abc\"]}", VALIDATE_QUERY,
     "Invalid input for query parameters limit. Value: abc. 'abc' does not match '^[0-9]*$'"},
    {"query limit empty", "@keypairs_query", "{\"limit\": [\"\"]}", VALIDATE_QUERY,
     "Invalid input for query parameters limit. Value: . '' should be non-empty"},
    {"query limit second value", "@keypairs_query", "{\"limit\": [\"1\", \"x\"]}", VALIDATE_QUERY,
     "Invalid input for query parameters limit. Value: x. 'x' does not match '^[0-9]*$'"},
    {"query unknown param", "@keypairs_query", "{\"foo\": [\"1\"]}", VALIDATE_QUERY,
     "Additional properties are not allowed ('foo' was unexpected)"},
    {"query list expected", "@keypairs_query", "{\"limit\": \"1\"}", VALIDATE_QUERY,
     "Invalid input for query parameters limit. Value: 1. '1' is not of type 'array'"},
    {"server ok", "@server_create",
     "{\"server\": {\"name\": \"vm\", \"imageRef\": \"70a599e0-31e7-49b7-b260-868f441e862b\", "
     "\"flavorRef\": \"1\", \"networks\": \"auto\"}}",
     VALIDATE_BODY, NULL},
    {"server ok description", "@server_create",
     "{\"server\": {\"name\": \"vm\", \"imageRef\": \"70a599e0-31e7-49b7-b260-868f441e862b\", "
     "\"flavorRef\": \"1\", \"networks\": \"auto\", \"description\": \"caf\303\251 ok\"}}",
     VALIDATE_BODY, NULL},
    {"server nested network uuid", "@server_create",
     "{\"server\": {\"name\": \"vm\", \"imageRef\": \"70a599e0-31e7-49b7-b260-868f441e862b\", "
     "\"flavorRef\": \"1\", \"networks\": [{\"uuid\": \"not-a-uuid\"}]}}",
     VALIDATE_BODY,
     "Invalid input for field/attribute networks. Value: [{'uuid': 'not-a-uuid'}]. [{'uuid': "
     "'not-a-uuid'}] is not valid under any of the given schemas"},
    {"server networks item type", "@server_create",
     "{\"server\": {\"name\": \"vm\", \"imageRef\": \"70a599e0-31e7-49b7-b260-868f441e862b\", "
     "\"flavorRef\": \"1\", \"networks\": [{\"uuid\": \"70a599e0-31e7-49b7-b260-868f441e862b\"}, "
     "5]}}",
     VALIDATE_BODY,
     "Invalid input for field/attribute networks. Value: [{'uuid': "
     "'70a599e0-31e7-49b7-b260-868f441e862b'}, 5]. [{'uuid': "
     "'70a599e0-31e7-49b7-b260-868f441e862b'}, 5] is not valid under any of the given schemas"},
    {"server networks enum", "@server_create",
     "{\"server\": {\"name\": \"vm\", \"imageRef\": \"70a599e0-31e7-49b7-b260-868f441e862b\", "
     "\"flavorRef\": \"1\", \"networks\": \"all\"}}",
     VALIDATE_BODY,
     "Invalid input for field/attribute networks. Value: all. 'all' is not valid under any of the "
     "given schemas"},
    {"server fixed ip", "@server_create",
     "{\"server\": {\"name\": \"vm\", \"imageRef\": \"70a599e0-31e7-49b7-b260-868f441e862b\", "
     "\"flavorRef\": \"1\", \"networks\": [{\"uuid\": \"70a599e0-31e7-49b7-b260-868f441e862b\", "
     "\"fixed_ip\": \"10.0.0.256\"}]}}",
     VALIDATE_BODY,
     "Invalid input for field/attribute networks. Value: [{'uuid': "
     "'70a599e0-31e7-49b7-b260-868f441e862b', 'fixed_ip': '10.0.0.256'}]. [{'uuid': "
     "'70a599e0-31e7-49b7-b260-868f441e862b', 'fixed_ip': '10.0.0.256'}] is not valid under any of "
     "the given schemas"},
    {"server fixed ip v6", "@server_create",
     "{\"server\": {\"name\": \"vm\", \"imageRef\": \"70a599e0-31e7-49b7-b260-868f441e862b\", "
     "\"flavorRef\": \"1\", \"networks\": [{\"uuid\": \"70a599e0-31e7-49b7-b260-868f441e862b\", "
     "\"fixed_ip\": \"fe80::1\"}]}}",
     VALIDATE_BODY, NULL},
    {"server description control", "@server_create",
     "{\"server\": {\"name\": \"vm\", \"imageRef\": \"70a599e0-31e7-49b7-b260-868f441e862b\", "
     "\"flavorRef\": \"1\", \"networks\": \"auto\", \"description\": \"a\\u0007b\"}}",
     VALIDATE_BODY,
     "Invalid input for field/attribute description. Value: a\007b. 'a\\x07b' does not match "
     "'^[\\\\ "
     "-\\\\~\\xa0-\302\254\302\256-\315\267\315\272-\315\277\316\204-\316\212\316\214\316\216-"
     "\316\241\316\243-\324\257\324\261-\325\226\325\231-\326\212\326\215-\326\217\326\221-"
     "\327\207\327\220-\327\252\327\257-\327\264\330\206-\330\233\330\235-\333\234\333\236-"
     "\334\215\334\220-\335\212\335\215-\336\261\337\200-\337\272\337\275-\340\240\255\340\240\260-"
     "\340\240\276\340\241\200-\340\241\233\340\241\236\340\241\240-\340\241\252\340\241\260-"
     "\340\242\216\340\242\230-\340\243\241\340\243\243-\340\246\203\340\246\205-"
     "\340\246\214\340\246\217-\340\246\220\340\246\223-\340\246\250\340\246\252-"
     "\340\246\260\340\246\262\340\246\266-\340\246\271\340\246\274-\340\247\204\340\247\207-"
     "\340\247\210\340\247\213-\340\247\216\340\247\227\340\247\234-\340\247\235\340\247\237-"
     "\340\247\243\340\247\246-\340\247\276\340\250\201-\340\250\203\340\250\205-"
     "\340\250\212\340\250\217-\340\250\220\340\250\223-\340\250\250\340\250\252-"
     "\340\250\260\340\250\262-\340\250\263\340\250\265-\340\250\266\340\250\270-"
     "\340\250\271\340\250\274\340\250\276-\340\251\202\340\251\207-\340\251\210\340\251\213-"
     "\340\251\215\340\251\221\340\251\231-\340\251\234\340\251\236\340\251\246-"
     "\340\251\266\340\252\201-\340\252\203\340\252\205-\340\252\215\340\252\217-"
     "\340\252\221\340\252\223-\340\252\250\340\252\252-\340\252\260\340\252\262-"
     "\340\252\263\340\252\265-\340\252\271\340\252\274-\340\253\205\340\253\207-"
     "\340\253\211\340\253\213-\340\253\215\340\253\220\340\253\240-\340\253\243\340\253\246-"
     "\340\253\261\340\253\271-\340\253\277\340\254\201-\340\254\203\340\254\205-"
     "\340\254\214\340\254\217-\340\254\220\340\254\223-\340\254\250\340\254\252-"
     "\340\254\260\340\254\262-\340\254\263\340\254\265-\340\254\271\340\254\274-"
     "\340\255\204\340\255\207-\340\255\210\340\255\213-\340\255\215\340\255\225-"
     "\340\255\227\340\255\234-\340\255\235\340\255\237-\340\255\243\340\255\246-"
     "\340\255\267\340\256\202-\340\256\203\340\256\205-\340\256\212\340\256\216-"
     "\340\256\220\340\256\222-\340\256\225\340\256\231-\340\256\232\340\256\234\340\256\236-"
     "\340\256\237\340\256\243-\340\256\244\340\256\250-\340\256\252\340\256\256-"
     "\340\256\271\340\256\276-\340\257\202\340\257\206-\340\257\210\340\257\212-"
     "\340\257\215\340\257\220\340\257\227\340\257\246-\340\257\272\340\260\200-"
     "\340\260\214\340\260\216-\340\260\220\340\260\222-\340\260\250\340\260\252-"
     "\340\260\271\340\260\274-\340\261\204\340\261\206-\340\261\210\340\261\212-"
     "\340\261\215\340\261\225-\340\261\226\340\261\230-\340\261\232\340\261\235\340\261\240-"
     "\340\261\243\340\261\246-\340\261\257\340\261\267-\340\262\214\340\262\216-"
     "\340\262\220\340\262\222-\340\262\250\340\262\252-\340\262\263\340\262\265-"
     "\340\262\271\340\262\274-\340\263\204\340\263\206-\340\263\210\340\263\212-"
     "\340\263\215\340\263\225-\340\263\226\340\263\235-\340\263\236\340\263\240-"
     "\340\263\243\340\263\246-\340\263\257\340\263\261-\340\263\262\340\264\200-"
     "\340\264\214\340\264\216-\340\264\220\340\264\222-\340\265\204\340\265\206-"
     "\340\265\210\340\265\212-\340\265\217\340\265\224-\340\265\243\340\265\246-"
     "\340\265\277\340\266\201-\340\266\203\340\266\205-\340\266\226\340\266\232-"
     "\340\266\261\340\266\263-\340\266\273\340\266\275\340\267\200-"
     "\340\267\206\340\267\212\340\267\217-\340\267\224\340\267\226\340\267\230-"
     "\340\267\237\340\267\246-\340\267\257\340\267\262-\340\267\264\340\270\201-"
     "\340\270\272\340\270\277-\340\271\233\340\272\201-\340\272\202\340\272\204\340\272\206-"
     "\340\272\212\340\272\214-\340\272\243\340\272\245\340\272\247-\340\272\275\340\273\200-"
     "\340\273\204\340\273\206\340\273\210-\340\273\215\340\273\220-\340\273\231\340\273\234-"
     "\340\273\237\340\274\200-\340\275\207\340\275\211-\340\275\254\340\275\261-"
     "\340\276\227\340\276\231-\340\276\274\340\276\276-\340\277\214\340\277\216-"
     "\340\277\232\341\200\200-\341\203\205\341\203\207\341\203\215\341\203\220-"
     "\341\211\210\341\211\212-\341\211\215\341\211\220-\341\211\226\341\211\230\341\211\232-"
     "\341\211\235\341\211\240-\341\212\210\341\212\212-\341\212\215\341\212\220-"
     "\341\212\260\341\212\262-\341\212\265\341\212\270-\341\212\276\341\213\200\341\213\202-"
     "\341\213\205\341\213\210-\341\213\226\341\213\230-\341\214\220\341\214\222-"
     "\341\214\225\341\214\230-\341\215\232\341\215\235-\341\215\274\341\216\200-"
     "\341\216\231\341\216\240-\341\217\265\341\217\270-\341\217\275\341\220\200-"
     "\341\232\234\341\232\240-\341\233\270\341\234\200-\341\234\225\341\234\237-"
     "\341\234\266\341\235\200-\341\235\223\341\235\240-\341\235\254\341\235\256-"
     "\341\235\260\341\235\262-\341\235\263\341\236\200-\341\237\235\341\237\240-"
     "\341\237\251\341\237\260-\341\237\271\341\240\200-\341\240\215\341\240\217-"
     "\341\240\231\341\240\240-\341\241\270\341\242\200-\341\242\252\341\242\260-"
     "\341\243\265\341\244\200-\341\244\236\341\244\240-\341\244\253\341\244\260-"
     "\341\244\273\341\245\200\341\245\204-\341\245\255\341\245\260-\341\245\264\341\246\200-"
     "\341\246\253\341\246\260-\341\247\211\341\247\220-\341\247\232\341\247\236-"
     "\341\250\233\341\250\236-\341\251\236\341\251\240-\341\251\274\341\251\277-"
     "\341\252\211\341\252\220-\341\252\231\341\252\240-\341\252\255\341\252\260-"
     "\341\253\216\341\254\200-\341\255\214\341\255\220-\341\255\276\341\256\200-"
     "\341\257\263\341\257\274-\341\260\267\341\260\273-\341\261\211\341\261\215-"
     "\341\262\210\341\262\220-\341\262\272\341\262\275-\341\263\207\341\263\220-"
     "\341\263\272\341\264\200-\341\274\225\341\274\230-\341\274\235\341\274\240-"
     "\341\275\205\341\275\210-\341\275\215\341\275\220-"
     "\341\275\227\341\275\231\341\275\233\341\275\235\341\275\237-\341\275\275\341\276\200-"
     "\341\276\264\341\276\266-\341\277\204\341\277\206-\341\277\223\341\277\226-"
     "\341\277\233\341\277\235-\341\277\257\341\277\262-\341\277\264\341\277\266-"
     "\341\277\276\\u2000-\\u200a\342\200\220-\342\200\247\\u202f-\\u205f\342\201\260-"
     "\342\201\261\342\201\264-\342\202\216\342\202\220-\342\202\234\342\202\240-"
     "\342\203\200\342\203\220-\342\203\260\342\204\200-\342\206\213\342\206\220-"
     "\342\220\246\342\221\200-\342\221\212\342\221\240-\342\255\263\342\255\266-"
     "\342\256\225\342\256\227-\342\263\263\342\263\271-"
     "\342\264\245\342\264\247\342\264\255\342\264\260-\342\265\247\342\265\257-"
     "\342\265\260\342\265\277-\342\266\226\342\266\240-\342\266\246\342\266\250-"
     "\342\266\256\342\266\260-\342\266\266\342\266\270-\342\266\276\342\267\200-"
     "\342\267\206\342\267\210-\342\267\216\342\267\220-\342\267\226\342\267\230-"
     "\342\267\236\342\267\240-\342\271\235\342\272\200-\342\272\231\342\272\233-"
     "\342\273\263\342\274\200-\342\277\225\342\277\260-\342\277\273\\u3000-"
     "\343\200\277\343\201\201-\343\202\226\343\202\231-\343\203\277\343\204\205-"
     "\343\204\257\343\204\261-\343\206\216\343\206\220-\343\207\243\343\207\260-"
     "\343\210\236\343\210\240-\352\222\214\352\222\220-\352\223\206\352\223\220-"
     "\352\230\253\352\231\200-\352\233\267\352\234\200-\352\237\212\352\237\220-"
     "\352\237\221\352\237\223\352\237\225-\352\237\231\352\237\262-\352\240\254\352\240\260-"
     "\352\240\271\352\241\200-\352\241\267\352\242\200-\352\243\205\352\243\216-"
     "\352\243\231\352\243\240-\352\245\223\352\245\237-\352\245\274\352\246\200-"
     "\352\247\215\352\247\217-\352\247\231\352\247\236-\352\247\276\352\250\200-"
     "\352\250\266\352\251\200-\352\251\215\352\251\220-\352\251\231\352\251\234-"
     "\352\253\202\352\253\233-\352\253\266\352\254\201-\352\254\206\352\254\211-"
     "\352\254\216\352\254\221-\352\254\226\352\254\240-\352\254\246\352\254\250-"
     "\352\254\256\352\254\260-\352\255\253\352\255\260-\352\257\255\352\257\260-"
     "\352\257\271\352\260\200-\355\236\243\355\236\260-\355\237\206\355\237\213-"
     "\355\237\273\357\244\200-\357\251\255\357\251\260-\357\253\231\357\254\200-"
     "\357\254\206\357\254\223-\357\254\227\357\254\235-\357\254\266\357\254\270-"
     "\357\254\274\357\254\276\357\255\200-\357\255\201\357\255\203-\357\255\204\357\255\206-"
     "\357\257\202\357\257\223-\357\266\217\357\266\222-\357\267\207\357\267\217\357\267\260-"
     "\357\270\231\357\270\240-\357\271\222\357\271\224-\357\271\246\357\271\250-"
     "\357\271\253\357\271\260-\357\271\264\357\271\266-\357\273\274\357\274\201-"
     "\357\276\276\357\277\202-\357\277\207\357\277\212-\357\277\217\357\277\222-"
     "\357\277\227\357\277\232-\357\277\234\357\277\240-\357\277\246\357\277\250-"
     "\357\277\256\357\277\274-\357\277\275]*$'"},
    {"server metadata long key", "@server_create",
     "{\"server\": {\"name\": \"vm\", \"imageRef\": \"70a599e0-31e7-49b7-b260-868f441e862b\", "
     "\"flavorRef\": \"1\", \"networks\": \"auto\", \"metadata\": "
     "{\"kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk"
     "kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk"
     "kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk\": \"v\"}}}",
     VALIDATE_BODY,
     "Invalid input for field/attribute metadata. Value: "
     "{'"
     "kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk"
     "kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk"
     "kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk': 'v'}. "
     "'kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk"
     "kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk"
     "kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk' does not match any "
     "of the regexes: '^[a-zA-Z0-9-_:. ]{1,255}$'"},
    {"server metadata value type", "@server_create",
     "{\"server\": {\"name\": \"vm\", \"imageRef\": \"70a599e0-31e7-49b7-b260-868f441e862b\", "
     "\"flavorRef\": \"1\", \"networks\": \"auto\", \"metadata\": {\"k\": 1}}}",
     VALIDATE_BODY, "Invalid input for field/attribute k. Value: 1. 1 is not of type 'string'"},
    {"server imageRef bad", "@server_create",
     "{\"server\": {\"name\": \"vm\", \"imageRef\": \"xyz\", \"flavorRef\": \"1\", \"networks\": "
     "\"auto\"}}",
     VALIDATE_BODY,
     "Invalid input for field/attribute imageRef. Value: xyz. 'xyz' is not valid under any of the "
     "given schemas"},
    {"server accessIPv4", "@server_create",
     "{\"server\": {\"name\": \"vm\", \"imageRef\": \"70a599e0-31e7-49b7-b260-868f441e862b\", "
     "\"flavorRef\": \"1\", \"networks\": \"auto\", \"accessIPv4\": \"1.2.3\"}}",
     VALIDATE_BODY,
     "Invalid input for field/attribute accessIPv4. Value: 1.2.3. '1.2.3' is not a 'ipv4'"},
    {"server accessIPv6", "@server_create",
     "{\"server\": {\"name\": \"vm\", \"imageRef\": \"70a599e0-31e7-49b7-b260-868f441e862b\", "
     "\"flavorRef\": \"1\", \"networks\": \"auto\", \"accessIPv6\": \"1::2::3\"}}",
     VALIDATE_BODY,
     "Invalid input for field/attribute accessIPv6. Value: 1::2::3. '1::2::3' is not a 'ipv6'"},
    {"server user_data b64", "@server_create",
     "{\"server\": {\"name\": \"vm\", \"imageRef\": \"70a599e0-31e7-49b7-b260-868f441e862b\", "
     "\"flavorRef\": \"1\", \"networks\": \"auto\", \"user_data\": \"abc\"}}",
     VALIDATE_BODY,
     "Invalid input for field/attribute user_data. Value: abc. 'abc' is not a 'base64'"},
    {"server user_data b64 ok", "@server_create",
     "{\"server\": {\"name\": \"vm\", \"imageRef\": \"70a599e0-31e7-49b7-b260-868f441e862b\", "
     "\"flavorRef\": \"1\", \"networks\": \"auto\", \"user_data\": \"YWJj\"}}",
     VALIDATE_BODY, NULL},
    {"server min_count zero", "@server_create",
     "{\"server\": {\"name\": \"vm\", \"imageRef\": \"70a599e0-31e7-49b7-b260-868f441e862b\", "
     "\"flavorRef\": \"1\", \"networks\": \"auto\", \"min_count\": \"0\"}}",
     VALIDATE_BODY,
     "Invalid input for field/attribute min_count. Value: 0. 0 is less than the minimum of 1"},
    {"server hints", "@server_create",
     "{\"server\": {\"name\": \"vm\", \"imageRef\": \"70a599e0-31e7-49b7-b260-868f441e862b\", "
     "\"flavorRef\": \"1\", \"networks\": \"auto\"}, \"os:scheduler_hints\": {\"same_host\": "
     "\"bad\"}}",
     VALIDATE_BODY, NULL},
    {"server bdm", "@server_create",
     "{\"server\": {\"name\": \"vm\", \"imageRef\": \"70a599e0-31e7-49b7-b260-868f441e862b\", "
     "\"flavorRef\": \"1\", \"networks\": \"auto\", \"block_device_mapping_v2\": [{\"boot_index\": "
     "\"x\", \"uuid\": \"70a599e0-31e7-49b7-b260-868f441e862b\"}]}}",
     VALIDATE_BODY,
     "Invalid input for field/attribute boot_index. Value: x. 'x' does not match '^-?[0-9]+$'"},
    {"server tags dup", "@server_create",
     "{\"server\": {\"name\": \"vm\", \"imageRef\": \"70a599e0-31e7-49b7-b260-868f441e862b\", "
     "\"flavorRef\": \"1\", \"networks\": \"auto\", \"tags\": [\"a\", \"a\"]}}",
     VALIDATE_BODY, NULL},
    {"server tags comma", "@server_create",
     "{\"server\": {\"name\": \"vm\", \"imageRef\": \"70a599e0-31e7-49b7-b260-868f441e862b\", "
     "\"flavorRef\": \"1\", \"networks\": \"auto\", \"tags\": [\"a,b\"]}}",
     VALIDATE_BODY,
     "Invalid input for field/attribute 0. Value: a,b. 'a,b' does not match '^[^,/]*$'"},
    {"unicode maxLength ok",
     "{\"type\": \"object\", \"properties\": {\"s\": {\"type\": \"string\", \"maxLength\": 3}}}",
     "{\"s\": \"\303\244\303\266\303\274\"}", VALIDATE_BODY, NULL},
    {"unicode maxLength bad",
     "{\"type\": \"object\", \"properties\": {\"s\": {\"type\": \"string\", \"maxLength\": 3}}}",
     "{\"s\": \"\303\244\303\266\303\274\303\237\"}", VALIDATE_BODY,
     "Invalid input for field/attribute s. Value: \303\244\303\266\303\274\303\237. "
     "'\303\244\303\266\303\274\303\237' is too long"},
    {"unicode minLength",
     "{\"type\": \"object\", \"properties\": {\"s\": {\"type\": \"string\", \"minLength\": 2}}}",
     "{\"s\": \"\342\202\254\"}", VALIDATE_BODY,
     "Invalid input for field/attribute s. Value: \342\202\254. '\342\202\254' is too short"},
    {"array index path",
     "{\"type\": \"object\", \"properties\": {\"tags\": {\"type\": \"array\", \"items\": "
     "{\"type\": \"string\"}}}}",
     "{\"tags\": [\"a\", 1]}", VALIDATE_BODY,
     "Invalid input for field/attribute 1. Value: 1. 1 is not of type 'string'"},
    {"repr quotes", "{\"type\": \"object\", \"properties\": {\"s\": {\"enum\": [\"a\"]}}}",
     "{\"s\": \"it's\"}", VALIDATE_BODY,
     "Invalid input for field/attribute s. Value: it's. \"it's\" is not one of ['a']"},
    {"repr both quotes", "{\"type\": \"object\", \"properties\": {\"s\": {\"enum\": [\"a\"]}}}",
     "{\"s\": \"it's \\\"x\\\"\\\\\"}", VALIDATE_BODY,
     "Invalid input for field/attribute s. Value: it's \"x\"\\. 'it\\'s \"x\"\\\\' is not one of "
     "['a']"},
    {"repr floats", "{\"type\": \"object\", \"properties\": {\"s\": {\"type\": \"string\"}}}",
     "{\"s\": [1e+16, 1000000000000000.0, 0.0001, 1e-05, 0.1, 2.5, -0.0, 123456789.123]}",
     VALIDATE_BODY,
     "Invalid input for field/attribute s. Value: [1e+16, 1000000000000000.0, 0.0001, 1e-05, 0.1, "
     "2.5, -0.0, 123456789.123]. [1e+16, 1000000000000000.0, 0.0001, 1e-05, 0.1, 2.5, -0.0, "
     "123456789.123] is not of type 'string'"},
    {"repr nested", "{\"type\": \"object\", \"properties\": {\"s\": {\"type\": \"string\"}}}",
     "{\"s\": {\"a\": null, \"b\": [true, false], \"c\": {\"d\": 1.0}}}", VALIDATE_BODY,
     "Invalid input for field/attribute s. Value: {'a': None, 'b': [True, False], 'c': {'d': "
     "1.0}}. {'a': None, 'b': [True, False], 'c': {'d': 1.0}} is not of type 'string'"},
    {"repr nonprintable",
     "{\"type\": \"object\", \"properties\": {\"s\": {\"type\": \"integer\"}}}",
     "{\"s\": \"\\t\302\240\342\200\213\303\251\360\237\230\200\177\"}", VALIDATE_BODY,
     "Invalid input for field/attribute s. Value: "
     "\011\302\240\342\200\213\303\251\360\237\230\200\177. "
     "'\\t\\xa0\\u200b\303\251\360\237\230\200\\x7f' is not of type 'integer'"},
    {"type union",
     "{\"type\": \"object\", \"properties\": {\"s\": {\"type\": [\"string\", \"null\"]}}}",
     "{\"s\": 1}", VALIDATE_BODY,
     "Invalid input for field/attribute s. Value: 1. 1 is not of type 'string', 'null'"},
    {"integer accepts 3.0",
     "{\"type\": \"object\", \"properties\": {\"s\": {\"type\": \"integer\"}}}", "{\"s\": 3.0}",
     VALIDATE_BODY, NULL},
    {"integer refuses 3.5",
     "{\"type\": \"object\", \"properties\": {\"s\": {\"type\": \"integer\"}}}", "{\"s\": 3.5}",
     VALIDATE_BODY,
     "Invalid input for field/attribute s. Value: 3.5. 3.5 is not of type 'integer'"},
    {"const", "{\"type\": \"object\", \"properties\": {\"s\": {\"const\": \"x\"}}}",
     "{\"s\": \"y\"}", VALIDATE_BODY,
     "Invalid input for field/attribute s. Value: y. 'x' was expected"},
    {"oneOf none",
     "{\"type\": \"object\", \"properties\": {\"s\": {\"oneOf\": [{\"type\": \"string\"}, "
     "{\"type\": \"null\"}]}}}",
     "{\"s\": 1}", VALIDATE_BODY,
     "Invalid input for field/attribute s. Value: 1. 1 is not valid under any of the given "
     "schemas"},
    {"oneOf two",
     "{\"type\": \"object\", \"properties\": {\"s\": {\"oneOf\": [{\"type\": \"integer\"}, "
     "{\"minimum\": 0}]}}}",
     "{\"s\": 1}", VALIDATE_BODY,
     "Invalid input for field/attribute s. Value: 1. 1 is valid under each of {'minimum': 0}, "
     "{'type': 'integer'}"},
    {"anyOf none",
     "{\"type\": \"object\", \"properties\": {\"s\": {\"anyOf\": [{\"type\": \"string\"}, "
     "{\"type\": \"null\"}]}}}",
     "{\"s\": 1}", VALIDATE_BODY,
     "Invalid input for field/attribute s. Value: 1. 1 is not valid under any of the given "
     "schemas"},
    {"not", "{\"type\": \"object\", \"properties\": {\"s\": {\"not\": {\"type\": \"integer\"}}}}",
     "{\"s\": 1}", VALIDATE_BODY,
     "Invalid input for field/attribute s. Value: 1. 1 should not be valid under {'type': "
     "'integer'}"},
    {"minItems 1",
     "{\"type\": \"object\", \"properties\": {\"s\": {\"type\": \"array\", \"minItems\": 1}}}",
     "{\"s\": []}", VALIDATE_BODY,
     "Invalid input for field/attribute s. Value: []. [] should be non-empty"},
    {"minItems 2",
     "{\"type\": \"object\", \"properties\": {\"s\": {\"type\": \"array\", \"minItems\": 2}}}",
     "{\"s\": [1]}", VALIDATE_BODY,
     "Invalid input for field/attribute s. Value: [1]. [1] is too short"},
    {"maxItems 0",
     "{\"type\": \"object\", \"properties\": {\"s\": {\"type\": \"array\", \"maxItems\": 0}}}",
     "{\"s\": [1]}", VALIDATE_BODY,
     "Invalid input for field/attribute s. Value: [1]. [1] is expected to be empty"},
    {"maxItems 1",
     "{\"type\": \"object\", \"properties\": {\"s\": {\"type\": \"array\", \"maxItems\": 1}}}",
     "{\"s\": [1, 2]}", VALIDATE_BODY,
     "Invalid input for field/attribute s. Value: [1, 2]. [1, 2] is too long"},
    {"minProperties 1",
     "{\"type\": \"object\", \"properties\": {\"s\": {\"type\": \"object\", \"minProperties\": "
     "1}}}",
     "{\"s\": {}}", VALIDATE_BODY,
     "Invalid input for field/attribute s. Value: {}. {} should be non-empty"},
    {"minProperties 2",
     "{\"type\": \"object\", \"properties\": {\"s\": {\"type\": \"object\", \"minProperties\": "
     "2}}}",
     "{\"s\": {\"a\": 1}}", VALIDATE_BODY,
     "Invalid input for field/attribute s. Value: {'a': 1}. {'a': 1} does not have enough "
     "properties"},
    {"maxProperties 0",
     "{\"type\": \"object\", \"properties\": {\"s\": {\"type\": \"object\", \"maxProperties\": "
     "0}}}",
     "{\"s\": {\"a\": 1}}", VALIDATE_BODY,
     "Invalid input for field/attribute s. Value: {'a': 1}. {'a': 1} is expected to be empty"},
    {"maxProperties 1",
     "{\"type\": \"object\", \"properties\": {\"s\": {\"type\": \"object\", \"maxProperties\": "
     "1}}}",
     "{\"s\": {\"a\": 1, \"b\": 2}}", VALIDATE_BODY,
     "Invalid input for field/attribute s. Value: {'a': 1, 'b': 2}. {'a': 1, 'b': 2} has too many "
     "properties"},
    {"maxLength 0",
     "{\"type\": \"object\", \"properties\": {\"s\": {\"type\": \"string\", \"maxLength\": 0}}}",
     "{\"s\": \"a\"}", VALIDATE_BODY,
     "Invalid input for field/attribute s. Value: a. 'a' is expected to be empty"},
    {"uniqueItems",
     "{\"type\": \"object\", \"properties\": {\"s\": {\"type\": \"array\", \"uniqueItems\": "
     "true}}}",
     "{\"s\": [1, true, 1.0]}", VALIDATE_BODY,
     "Invalid input for field/attribute s. Value: [1, True, 1.0]. [1, True, 1.0] has non-unique "
     "elements"},
    {"patternProperties mismatch",
     "{\"type\": \"object\", \"patternProperties\": {\"^_\": {\"type\": \"string\"}}, "
     "\"additionalProperties\": false}",
     "{\"_a\": \"x\", \"b\": 1, \"a\": 2}", VALIDATE_BODY,
     "'a', 'b' do not match any of the regexes: '^_'"},
    {"patternProperties value",
     "{\"type\": \"object\", \"patternProperties\": {\"^_\": {\"type\": \"string\"}}, "
     "\"additionalProperties\": false}",
     "{\"_a\": 1}", VALIDATE_BODY,
     "Invalid input for field/attribute _a. Value: 1. 1 is not of type 'string'"},
    {"additionalProperties schema",
     "{\"type\": \"object\", \"properties\": {\"a\": {}}, \"additionalProperties\": {\"type\": "
     "\"string\"}}",
     "{\"a\": 1, \"b\": 2}", VALIDATE_BODY,
     "Invalid input for field/attribute b. Value: 2. 2 is not of type 'string'"},
    {"prefixItems",
     "{\"type\": \"object\", \"properties\": {\"s\": {\"type\": \"array\", \"prefixItems\": "
     "[{\"type\": \"string\"}], \"items\": false}}}",
     "{\"s\": [\"a\", 1, 2]}", VALIDATE_BODY,
     "Invalid input for field/attribute s. Value: ['a', 1, 2]. Expected at most 1 item but found 2 "
     "extra: [1, 2]"},
    {"false schema", "{\"type\": \"object\", \"properties\": {\"s\": false}}", "{\"s\": 1}",
     VALIDATE_BODY, "False schema does not allow 1"},
    {"exclusiveMaximum",
     "{\"type\": \"object\", \"properties\": {\"s\": {\"exclusiveMaximum\": 10}}}", "{\"s\": 10}",
     VALIDATE_BODY,
     "Invalid input for field/attribute s. Value: 10. 10 is greater than or equal to the maximum "
     "of 10"},
    {"maximum float limit", "{\"type\": \"object\", \"properties\": {\"s\": {\"maximum\": 10.5}}}",
     "{\"s\": \"11.25\"}", VALIDATE_BODY,
     "Invalid input for field/attribute s. Value: 11.25. 11.25 is greater than the maximum of "
     "10.5"},
    {"minimum string with spaces",
     "{\"type\": \"object\", \"properties\": {\"s\": {\"minimum\": 5}}}", "{\"s\": \" 1_0 \"}",
     VALIDATE_BODY, NULL},
    {"minimum string float", "{\"type\": \"object\", \"properties\": {\"s\": {\"minimum\": 5}}}",
     "{\"s\": \"1e0\"}", VALIDATE_BODY,
     "Invalid input for field/attribute s. Value: 1e0. 1.0 is less than the minimum of 5"},
    {"minimum non-numeric", "{\"type\": \"object\", \"properties\": {\"s\": {\"minimum\": 5}}}",
     "{\"s\": \"x\"}", VALIDATE_BODY, NULL},
    {"minimum float truncated", "{\"type\": \"object\", \"properties\": {\"s\": {\"minimum\": 1}}}",
     "{\"s\": 0.5}", VALIDATE_BODY,
     "Invalid input for field/attribute s. Value: 0.5. 0 is less than the minimum of 1"},
    {"maximum inf string", "{\"type\": \"object\", \"properties\": {\"s\": {\"maximum\": 1}}}",
     "{\"s\": \"inf\"}", VALIDATE_BODY,
     "Invalid input for field/attribute s. Value: inf. inf is greater than the maximum of 1"},
    {"maximum nan string", "{\"type\": \"object\", \"properties\": {\"s\": {\"maximum\": 1}}}",
     "{\"s\": \"nan\"}", VALIDATE_BODY, NULL},
    {"format uuid ok '{70A599E0-31E7-49B7-B260-868F441E862B}'",
     "{\"type\": \"object\", \"properties\": {\"v\": {\"type\": \"string\", \"format\": "
     "\"uuid\"}}}",
     "{\"v\": \"{70A599E0-31E7-49B7-B260-868F441E862B}\"}", VALIDATE_BODY, NULL},
    {"format uuid bad '70a599e0-31e7-49b7-b260-868f441e862'",
     "{\"type\": \"object\", \"properties\": {\"v\": {\"type\": \"string\", \"format\": "
     "\"uuid\"}}}",
     "{\"v\": \"70a599e0-31e7-49b7-b260-868f441e862\"}", VALIDATE_BODY,
     "Invalid input for field/attribute v. Value: 70a599e0-31e7-49b7-b260-868f441e862. "
     "'70a599e0-31e7-49b7-b260-868f441e862' is not a 'uuid'"},
    {"format uuid ok 'urn:uuid:70a599e031e749b7b260868f441e862b'",
     "{\"type\": \"object\", \"properties\": {\"v\": {\"type\": \"string\", \"format\": "
     "\"uuid\"}}}",
     "{\"v\": \"urn:uuid:70a599e031e749b7b260868f441e862b\"}", VALIDATE_BODY, NULL},
    {"format uuid bad '70a599e0-31e7-49b7-b260-868f441e862g'",
     "{\"type\": \"object\", \"properties\": {\"v\": {\"type\": \"string\", \"format\": "
     "\"uuid\"}}}",
     "{\"v\": \"70a599e0-31e7-49b7-b260-868f441e862g\"}", VALIDATE_BODY,
     "Invalid input for field/attribute v. Value: 70a599e0-31e7-49b7-b260-868f441e862g. "
     "'70a599e0-31e7-49b7-b260-868f441e862g' is not a 'uuid'"},
    {"format ipv4 ok '192.168.0.1'",
     "{\"type\": \"object\", \"properties\": {\"v\": {\"type\": \"string\", \"format\": "
     "\"ipv4\"}}}",
     "{\"v\": \"192.168.0.1\"}", VALIDATE_BODY, NULL},
    {"format ipv4 bad '01.2.3.4'",
     "{\"type\": \"object\", \"properties\": {\"v\": {\"type\": \"string\", \"format\": "
     "\"ipv4\"}}}",
     "{\"v\": \"01.2.3.4\"}", VALIDATE_BODY,
     "Invalid input for field/attribute v. Value: 01.2.3.4. '01.2.3.4' is not a 'ipv4'"},
    {"format ipv6 ok '::ffff:1.2.3.4'",
     "{\"type\": \"object\", \"properties\": {\"v\": {\"type\": \"string\", \"format\": "
     "\"ipv6\"}}}",
     "{\"v\": \"::ffff:1.2.3.4\"}", VALIDATE_BODY, NULL},
    {"format ipv6 bad 'fe80::1%eth0'",
     "{\"type\": \"object\", \"properties\": {\"v\": {\"type\": \"string\", \"format\": "
     "\"ipv6\"}}}",
     "{\"v\": \"fe80::1%eth0\"}", VALIDATE_BODY,
     "Invalid input for field/attribute v. Value: fe80::1%eth0. 'fe80::1%eth0' is not a 'ipv6'"},
    {"format cidr ok '10.0.0.0/8'",
     "{\"type\": \"object\", \"properties\": {\"v\": {\"type\": \"string\", \"format\": "
     "\"cidr\"}}}",
     "{\"v\": \"10.0.0.0/8\"}", VALIDATE_BODY, NULL},
    {"format cidr bad '10.0.0.0'",
     "{\"type\": \"object\", \"properties\": {\"v\": {\"type\": \"string\", \"format\": "
     "\"cidr\"}}}",
     "{\"v\": \"10.0.0.0\"}", VALIDATE_BODY,
     "Invalid input for field/attribute v. Value: 10.0.0.0. '10.0.0.0' is not a 'cidr'"},
    {"format cidr ok '10.0.0.0/255.0.0.0'",
     "{\"type\": \"object\", \"properties\": {\"v\": {\"type\": \"string\", \"format\": "
     "\"cidr\"}}}",
     "{\"v\": \"10.0.0.0/255.0.0.0\"}", VALIDATE_BODY, NULL},
    {"format cidr bad '10.0.0.0/33'",
     "{\"type\": \"object\", \"properties\": {\"v\": {\"type\": \"string\", \"format\": "
     "\"cidr\"}}}",
     "{\"v\": \"10.0.0.0/33\"}", VALIDATE_BODY,
     "Invalid input for field/attribute v. Value: 10.0.0.0/33. '10.0.0.0/33' is not a 'cidr'"},
    {"format cidr ok 'fe80::/64'",
     "{\"type\": \"object\", \"properties\": {\"v\": {\"type\": \"string\", \"format\": "
     "\"cidr\"}}}",
     "{\"v\": \"fe80::/64\"}", VALIDATE_BODY, NULL},
    {"format cidr bad '10.0.0.0/ 8'",
     "{\"type\": \"object\", \"properties\": {\"v\": {\"type\": \"string\", \"format\": "
     "\"cidr\"}}}",
     "{\"v\": \"10.0.0.0/ 8\"}", VALIDATE_BODY,
     "Invalid input for field/attribute v. Value: 10.0.0.0/ 8. '10.0.0.0/ 8' is not a 'cidr'"},
    {"format base64 ok 'YWJj\\n'",
     "{\"type\": \"object\", \"properties\": {\"v\": {\"type\": \"string\", \"format\": "
     "\"base64\"}}}",
     "{\"v\": \"YWJj\\n\"}", VALIDATE_BODY, NULL},
    {"format base64 bad 'YWJjZ'",
     "{\"type\": \"object\", \"properties\": {\"v\": {\"type\": \"string\", \"format\": "
     "\"base64\"}}}",
     "{\"v\": \"YWJjZ\"}", VALIDATE_BODY,
     "Invalid input for field/attribute v. Value: YWJjZ. 'YWJjZ' is not a 'base64'"},
    {"format regex ok '^a(b|c)+$'",
     "{\"type\": \"object\", \"properties\": {\"v\": {\"type\": \"string\", \"format\": "
     "\"regex\"}}}",
     "{\"v\": \"^a(b|c)+$\"}", VALIDATE_BODY, NULL},
    {"format regex bad 'a(b'",
     "{\"type\": \"object\", \"properties\": {\"v\": {\"type\": \"string\", \"format\": "
     "\"regex\"}}}",
     "{\"v\": \"a(b\"}", VALIDATE_BODY,
     "Invalid input for field/attribute v. Value: a(b. 'a(b' is not a 'regex'"},
    {"format regex ok '[a-z]{2,3}'",
     "{\"type\": \"object\", \"properties\": {\"v\": {\"type\": \"string\", \"format\": "
     "\"regex\"}}}",
     "{\"v\": \"[a-z]{2,3}\"}", VALIDATE_BODY, NULL},
    {"format regex bad '*a'",
     "{\"type\": \"object\", \"properties\": {\"v\": {\"type\": \"string\", \"format\": "
     "\"regex\"}}}",
     "{\"v\": \"*a\"}", VALIDATE_BODY,
     "Invalid input for field/attribute v. Value: *a. '*a' is not a 'regex'"},
    {"format regex ok '(?<! )x'",
     "{\"type\": \"object\", \"properties\": {\"v\": {\"type\": \"string\", \"format\": "
     "\"regex\"}}}",
     "{\"v\": \"(?<! )x\"}", VALIDATE_BODY, NULL},
    {"format regex bad '[z-a]'",
     "{\"type\": \"object\", \"properties\": {\"v\": {\"type\": \"string\", \"format\": "
     "\"regex\"}}}",
     "{\"v\": \"[z-a]\"}", VALIDATE_BODY,
     "Invalid input for field/attribute v. Value: [z-a]. '[z-a]' is not a 'regex'"},
    {"format regex ok '\\\\d\\\\w\\\\s'",
     "{\"type\": \"object\", \"properties\": {\"v\": {\"type\": \"string\", \"format\": "
     "\"regex\"}}}",
     "{\"v\": \"\\\\d\\\\w\\\\s\"}", VALIDATE_BODY, NULL},
    {"format regex bad '\\\\q'",
     "{\"type\": \"object\", \"properties\": {\"v\": {\"type\": \"string\", \"format\": "
     "\"regex\"}}}",
     "{\"v\": \"\\\\q\"}", VALIDATE_BODY,
     "Invalid input for field/attribute v. Value: \\q. '\\\\q' is not a 'regex'"},
    {"format date-time ok '2024-01-31T12:30:00Z'",
     "{\"type\": \"object\", \"properties\": {\"v\": {\"type\": \"string\", \"format\": "
     "\"date-time\"}}}",
     "{\"v\": \"2024-01-31T12:30:00Z\"}", VALIDATE_BODY, NULL},
    {"format date-time bad '2024-02-30T00:00:00Z'",
     "{\"type\": \"object\", \"properties\": {\"v\": {\"type\": \"string\", \"format\": "
     "\"date-time\"}}}",
     "{\"v\": \"2024-02-30T00:00:00Z\"}", VALIDATE_BODY,
     "Invalid input for field/attribute v. Value: 2024-02-30T00:00:00Z. '2024-02-30T00:00:00Z' is "
     "not a 'date-time'"},
    {"format date-time ok '2024-01-31'",
     "{\"type\": \"object\", \"properties\": {\"v\": {\"type\": \"string\", \"format\": "
     "\"date-time\"}}}",
     "{\"v\": \"2024-01-31\"}", VALIDATE_BODY, NULL},
    {"format date-time bad '2024-1-31T25:00'",
     "{\"type\": \"object\", \"properties\": {\"v\": {\"type\": \"string\", \"format\": "
     "\"date-time\"}}}",
     "{\"v\": \"2024-1-31T25:00\"}", VALIDATE_BODY,
     "Invalid input for field/attribute v. Value: 2024-1-31T25:00. '2024-1-31T25:00' is not a "
     "'date-time'"},
    {"format date-time ok '2024-01-31 12:30:00.123+05:30'",
     "{\"type\": \"object\", \"properties\": {\"v\": {\"type\": \"string\", \"format\": "
     "\"date-time\"}}}",
     "{\"v\": \"2024-01-31 12:30:00.123+05:30\"}", VALIDATE_BODY, NULL},
    {"format date-time bad '20240131T'",
     "{\"type\": \"object\", \"properties\": {\"v\": {\"type\": \"string\", \"format\": "
     "\"date-time\"}}}",
     "{\"v\": \"20240131T\"}", VALIDATE_BODY,
     "Invalid input for field/attribute v. Value: 20240131T. '20240131T' is not a 'date-time'"},
    {"format date-time ok '2024'",
     "{\"type\": \"object\", \"properties\": {\"v\": {\"type\": \"string\", \"format\": "
     "\"date-time\"}}}",
     "{\"v\": \"2024\"}", VALIDATE_BODY, NULL},
    {"format date-time bad '2024-01-31T12:30:00+24:00'",
     "{\"type\": \"object\", \"properties\": {\"v\": {\"type\": \"string\", \"format\": "
     "\"date-time\"}}}",
     "{\"v\": \"2024-01-31T12:30:00+24:00\"}", VALIDATE_BODY,
     "Invalid input for field/attribute v. Value: 2024-01-31T12:30:00+24:00. "
     "'2024-01-31T12:30:00+24:00' is not a 'date-time'"},
    {"format uri ok 'http://example.com/x?y#z'",
     "{\"type\": \"object\", \"properties\": {\"v\": {\"type\": \"string\", \"format\": \"uri\"}}}",
     "{\"v\": \"http://example.com/x?y#z\"}", VALIDATE_BODY, NULL},
    {"format uri bad 'example.com'",
     "{\"type\": \"object\", \"properties\": {\"v\": {\"type\": \"string\", \"format\": \"uri\"}}}",
     "{\"v\": \"example.com\"}", VALIDATE_BODY,
     "Invalid input for field/attribute v. Value: example.com. 'example.com' is not a 'uri'"},
    {"format az_name ok 'zone-1'",
     "{\"type\": \"object\", \"properties\": {\"v\": {\"type\": \"string\", \"format\": "
     "\"az_name\"}}}",
     "{\"v\": \"zone-1\"}", VALIDATE_BODY, NULL},
    {"format az_name bad 'zone:1'",
     "{\"type\": \"object\", \"properties\": {\"v\": {\"type\": \"string\", \"format\": "
     "\"az_name\"}}}",
     "{\"v\": \"zone:1\"}", VALIDATE_BODY,
     "An invalid 'name' value was provided. The name must be: printable characters except :.Can "
     "not start or end with whitespace."},
    {"format az_name_with_leading_trailing_spaces ok ' zone '",
     "{\"type\": \"object\", \"properties\": {\"v\": {\"type\": \"string\", \"format\": "
     "\"az_name_with_leading_trailing_spaces\"}}}",
     "{\"v\": \" zone \"}", VALIDATE_BODY, NULL},
    {"format az_name_with_leading_trailing_spaces bad 'a:b'",
     "{\"type\": \"object\", \"properties\": {\"v\": {\"type\": \"string\", \"format\": "
     "\"az_name_with_leading_trailing_spaces\"}}}",
     "{\"v\": \"a:b\"}", VALIDATE_BODY,
     "An invalid 'name' value was provided. The name must be: printable characters except :, with "
     "at least one non space character"},
    {"format name ok 'f\303\251e'",
     "{\"type\": \"object\", \"properties\": {\"v\": {\"type\": \"string\", \"format\": "
     "\"name\"}}}",
     "{\"v\": \"f\303\251e\"}", VALIDATE_BODY, NULL},
    {"format name bad '\\u3000x'",
     "{\"type\": \"object\", \"properties\": {\"v\": {\"type\": \"string\", \"format\": "
     "\"name\"}}}",
     "{\"v\": \"\343\200\200x\"}", VALIDATE_BODY,
     "An invalid 'name' value was provided. The name must be: printable characters. Can not start "
     "or end with whitespace."},
};

static void test_nova_messages(void **state) {
    (void)state;
    int bad = 0;
    for (size_t i = 0; i < sizeof ncases / sizeof ncases[0]; i++) {
        const struct ncase *c = &ncases[i];
        json_error_t err;
        json_t *owned = NULL;
        const json_t *schema;
        if (c->schema[0] == '@')
            schema = json_object_get(nova_schemas, c->schema + 1);
        else
            schema = owned = json_loads(c->schema, 0, &err);
        assert_non_null(schema);
        json_t *inst = json_loads(c->instance, JSON_DECODE_ANY, &err);
        assert_non_null(inst);
        char msg[4096];
        memset(msg, 'x', sizeof msg);
        int r = validate(schema, inst, c->mode, msg, sizeof msg);
        if (!c->expect) {
            if (r != 0 || msg[0] != '\0') {
                print_message("FAIL %s: expected valid, got: %s\n", c->name, msg);
                bad++;
            }
        } else if (r != -1 || strcmp(msg, c->expect) != 0) {
            print_message("FAIL %s:\n  expected: %s\n  got:      %s\n", c->name, c->expect,
                          r == 0 ? "(valid)" : msg);
            bad++;
        }
        json_decref(inst);
        json_decref(owned);
    }
    print_message("Nova message cases: %d passed, %d failed\n",
                  (int)(sizeof ncases / sizeof ncases[0]) - bad, bad);
    assert_int_equal(bad, 0);
}

/* The message is cut to msglen, on a UTF-8 boundary, and NUL-terminated. */
static void test_truncation(void **state) {
    (void)state;
    json_t *schema = json_loads("{\"properties\": {\"s\": {\"maxLength\": 1}}}", 0, NULL);
    json_t *inst = json_loads("{\"s\": \"\\u00e9\\u00e9\"}", 0, NULL);
    char full[256], small[34];
    assert_int_equal(validate(schema, inst, VALIDATE_BODY, full, sizeof full), -1);
    assert_string_equal(full, "Invalid input for field/attribute s. Value: \xc3\xa9\xc3\xa9. "
                              "'\xc3\xa9\xc3\xa9' is too long");
    assert_int_equal(validate(schema, inst, VALIDATE_BODY, small, sizeof small), -1);
    /* 33 bytes would end inside the first é (bytes 32-33 of the message) */
    assert_string_equal(small, "Invalid input for field/attribute");
    assert_int_equal(validate(schema, inst, VALIDATE_BODY, NULL, 0), -1);
    char one[1] = {'x'};
    assert_int_equal(validate(schema, inst, VALIDATE_BODY, one, 1), -1);
    assert_int_equal(one[0], '\0');
    json_decref(schema);
    json_decref(inst);
}

/* Patterns are compiled once and reused; a long input does not recurse
 * per character. */
static void test_regex_cache_and_long_input(void **state) {
    (void)state;
    json_t *schema = json_loads("{\"properties\": {\"s\": {\"pattern\": \"^[a-z ]*$\"}}}", 0, NULL);
    size_t n = 200000;
    char *big = malloc(n + 1);
    assert_non_null(big);
    memset(big, 'a', n);
    big[n] = '\0';
    json_t *inst = json_pack("{s:s}", "s", big);
    char msg[64];
    for (int i = 0; i < 3; i++)
        assert_int_equal(validate(schema, inst, VALIDATE_BODY, msg, sizeof msg), 0);
    big[n - 1] = '!';
    json_object_set_new(inst, "s", json_string(big));
    assert_int_equal(validate(schema, inst, VALIDATE_BODY, msg, sizeof msg), -1);
    free(big);
    json_decref(schema);
    json_decref(inst);
}

/* format "regex" compiles what the user sent: groups nested 20000 deep
 * overflowed the stack (found by fuzzing); past REGEX_MAX_DEPTH (400) a
 * pattern is invalid, as Python cannot compile it either. */
static void test_regex_nesting(void **state) {
    (void)state;
    json_t *schema = json_loads("{\"properties\": {\"s\": {\"format\": \"regex\"}}}", 0, NULL);
    char msg[64];
    size_t depths[] = {300, 400, 401, 20000};
    int want[] = {0, 0, -1, -1};
    for (size_t k = 0; k < sizeof depths / sizeof *depths; k++) {
        size_t n = depths[k];
        char *re = malloc(2 * n + 2);
        assert_non_null(re);
        memset(re, '(', n);
        re[n] = 'a';
        memset(re + n + 1, ')', n);
        re[2 * n + 1] = '\0';
        json_t *inst = json_pack("{s:s}", "s", re);
        assert_int_equal(validate(schema, inst, VALIDATE_BODY, msg, sizeof msg), want[k]);
        json_decref(inst);
        free(re);
    }
    json_decref(schema);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_suite),
        cmocka_unit_test(test_nova_messages),
        cmocka_unit_test(test_truncation),
        cmocka_unit_test(test_regex_cache_and_long_input),
        cmocka_unit_test(test_regex_nesting),
    };
    return cmocka_run_group_tests(tests, load_nova_schemas, free_nova_schemas);
}
