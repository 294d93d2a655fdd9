/* test_keypairs_crypto.c — key pair material: fingerprints of OpenSSH keys
 * of every type Nova loads (expected values from ssh-keygen -l -E md5 and
 * Nova's api-samples), keys Nova rejects, X.509 SHA1 fingerprints (from
 * openssl x509 -fingerprint), and generated RSA and x509 key pairs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "crypto.h"

static const struct {
    const char *key, *fp;
} good[] = {
    /* Nova's api-samples: import request and show response */
    {"ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAAAgQDx8nkQv/zgGgB4rMYmIf+6A4l6Rr+o/6lHBQdW5aYd44bd8JttDCE/F/pNRr0lRE+PiqSPO8nDPHw0010JeMH9gYgnnFlyY3/OcJ02RhIPyyxYpv9FhY+2YiUkpwFOcLImyrxEsYXpD/0d3ac30bNH6Sw9JD9UZHYcpSxsIbECHw== Generated-by-Nova",
     "1e:2c:9b:56:79:4b:45:77:f9:ca:7a:98:2c:b0:d5:3c"},
    {"ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQC1HTrHCbb9NawNLSV8N6tSa8i637+EC2dA+lsdHHfQlT54t+N0nHhJPlKWDLhc579j87vp6RDFriFJ/smsTnDnf64O12z0kBaJpJPH2zXrBkZFK6q2rmxydURzX/z0yLSCP77SFJ0fdXWH2hMsAusflGyryHGX20n+mZK6mDrxVzGxEz228dwQ5G7Az5OoZDWygH2pqPvKjkifRw0jwUKf3BbkP0QvANACOk26cv16mNFpFJfI1N3OC5lUsZQtKGR01ptJoWijYKccqhkAKuo902tg/qup58J5kflNm7I61sy1mJon6SGqNUSfoQagqtBH6vd/tU1jnlwZ03uUroAL Generated-by-Nova\n",
     "44:fe:29:6e:23:14:b9:53:5b:65:82:58:1c:fe:5a:c3"},
    {"ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAAAgQCuIrirbqvUZYm2UpHCrySXLIBjqJs3/MWeOuXMdvHhubWiLIgubcExJ3uHlQmk4QcnnsDCe1T7P9ECnZJ0QnU4OMKkBl5F+FKLZ/5ure+Ubxir8W1sWD8fKSVQhlQHkvZBq/HZIur9WZ+vaWBqyXC4gnD+xBmbdjrd3yFC+Nz6+w== test@rsab1024",
     "41:0e:35:4c:14:86:f2:80:0c:37:57:48:c0:56:97:56"},
    {"ssh-dss AAAAB3NzaC1kc3MAAACBAMMs3zgCtNmT6G7qo5mecWurrpgP04h9L3hLcxQ1qQkHyoODjSXDBRnkUPC6eD1Fyuy8FK8o6QHiZ2vItd7nMgKMe64jEGjivDH0zCar7q4F9FfZdqESsBHvzpdUFwRHgDYr22HfY3m2FELnL3ecktnxUwmVodQSCqGgMyWIP4q1AAAAFQC+zUP+RWjlVEMKUdVPJsaCAJPuHQAAAIBO4WILo8yiVQSHPdoq+x7o3Km2AxEJYRv41/MzRZqBJtA9FVews4Biw41KD0eDJtF8UMSDdK0KNHcBVAE3uog+0qa3B1FegQhhmkpaayqke6vzuJSoT5/W0cZiIvh29ws7qVOAABHaA0N1Bdb0dszpNV8vBZaQ9qX3Ywsh/aZlxQAAAIEAr8TA+aJiK1AZ9gN9f9Io6LFaEBbMXX5TM0kdddmQ3KtrHrlTu750OHpZWkqurEjtKuZdFiNY8vwzM5zN3qm0paj/HWg3DDqXHYxOtZahBuC5F6/7THoCKVri2DN4jkZ0luV4FLpcunQ7rwnu+e1xHP3c8yTVj9XIuSa4njV+as0= test@dsa",
     "98:c1:76:40:36:4f:8b:88:bb:ec:26:d7:0c:51:2b:33"},
    {"ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBJSARcEBQUZXgA0JWA7lausUSY4CtzC+Qbjdp10RqHr9TIsgfOaTqYgx4C2Vh3p+5XSbwhRlkb2OhyyCESHigXU= test@ecdsab256",
     "32:89:88:8d:20:4f:9b:49:90:05:0f:8e:a4:ad:87:96"},
    {"ecdsa-sha2-nistp384 AAAAE2VjZHNhLXNoYTItbmlzdHAzODQAAAAIbmlzdHAzODQAAABhBKJCrJVf+npE9cDi8BLeMbH8k9KM8JfYbu8wZcuYUpWI/JTfI6X+B7eiB4texTMnGFA4Zt621WtcsQZr/HqZpEGHbFyBDFH3aPmIt/YRJNvMcuiuuhwBo2m8a+SJj6METg== test@ecdsab384",
     "cf:81:15:f1:d1:b3:fb:78:15:ab:a7:0d:14:2c:52:35"},
    {"ecdsa-sha2-nistp521 AAAAE2VjZHNhLXNoYTItbmlzdHA1MjEAAAAIbmlzdHA1MjEAAACFBAH9GQsO4R1s7D+7vRquBKLvKknpdzusEzDZClAGOPy42zbrXmU1XAznl1rCCOoOMeAs2TpkoG4Ni/PWSGmeEC259wExIBlr16HJ9gQ8bHSVwg6FeCM+qxB3iIgSzop/UZKcKGg0SI8nkJoCnd8/6flfB/ZQ9D864euV/teAvB1LJRRyDg== test@ecdsab521",
     "94:a1:34:80:11:f2:ef:36:c7:57:d7:6e:de:56:a7:28"},
    {"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFZv/0c4DD7YKj46ARlMZ1WKWw6xfF9gaNHYZiYtxh34 test@ed25519",
     "c4:1a:76:ef:d3:87:57:b3:b5:4a:e4:3d:0c:2f:2e:13"},
    /* an OpenSSH certificate: Nova hashes the whole certificate blob */
    {"ecdsa-sha2-nistp256-cert-v01@openssh.com AAAAKGVjZHNhLXNoYTItbmlzdHAyNTYtY2VydC12MDFAb3BlbnNzaC5jb20AAAAgnNb3Klp4gtkn7JMesKNOFz8eIKtxpR/lKshzARzi9IwAAAAIbmlzdHAyNTYAAABBBJSARcEBQUZXgA0JWA7lausUSY4CtzC+Qbjdp10RqHr9TIsgfOaTqYgx4C2Vh3p+5XSbwhRlkb2OhyyCESHigXUAAAAAAAAAAAAAAAEAAAAGY2VydGlkAAAACAAAAAR1c2VyAAAAAAAAAAD//////////wAAAAAAAACCAAAAFXBlcm1pdC1YMTEtZm9yd2FyZGluZwAAAAAAAAAXcGVybWl0LWFnZW50LWZvcndhcmRpbmcAAAAAAAAAFnBlcm1pdC1wb3J0LWZvcndhcmRpbmcAAAAAAAAACnBlcm1pdC1wdHkAAAAAAAAADnBlcm1pdC11c2VyLXJjAAAAAAAAAAAAAAAzAAAAC3NzaC1lZDI1NTE5AAAAIFZv/0c4DD7YKj46ARlMZ1WKWw6xfF9gaNHYZiYtxh34AAAAUwAAAAtzc2gtZWQyNTUxOQAAAEDW4qXpEl6UJMsIOzuVU7DeiaE0Gjb51YkLpI71RpWO5Ga97FctH2OR3o40Sh9kZOUYNd8PmaPlLPc9qoEq+X4F test@ecdsab256",
     "18:ff:bd:5d:fe:13:46:d1:23:7a:15:f2:c9:fa:c3:9c"},
    /* no comment at all */
    {"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFZv/0c4DD7YKj46ARlMZ1WKWw6xfF9gaNHYZiYtxh34",
     "c4:1a:76:ef:d3:87:57:b3:b5:4a:e4:3d:0c:2f:2e:13"},
};

static const char *bad[] = {
    "",
    "ssh-rsa",
    "ssh-rsa ",
    "not a key at all",
    " ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFZv/0c4DD7YKj46ARlMZ1WKWw6xfF9gaNHYZiYtxh34 test@ed25519",                                   /* leading space */
    "ssh-rsa AAAAC3NzaC1lZDI1NTE5AAAAIFZv/0c4DD7YKj46ARlMZ1WKWw6xfF9gaNHYZiYtxh34",                  /* type mismatch */
    "ssh-foo AAAAC3NzaC1lZDI1NTE5AAAAIFZv/0c4DD7YKj46ARlMZ1WKWw6xfF9gaNHYZiYtxh34",                  /* unknown type */
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFZv/0c4DD7YKj46", /* truncated */
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFZv/0c4DD7YKj46ARlMZ1WKWw6xfF9gaNHYZiYtxh34AAAAAA==",                 /* trailing data */
    "ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBJSARcEBQUZXgA0JWA7lausUSY4CtzC+Qbjdp10RqHr9TIsgfOaTqYgx4C2Vh3p+5XSbwhRlkb2OhyyCESHigXQ=",                      /* point off the curve */
    "ecdsa-sha2-nistp384 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBJSARcEBQUZXgA0JWA7lausUSY4CtzC+Qbjdp10RqHr9TIsgfOaTqYgx4C2Vh3p+5XSbwhRlkb2OhyyCESHigXU=",    /* curve mismatch */
    "ssh-rsa AAAAB3NzaC1yc2EAAAABAgAAAAEL",                         /* even exponent */
    "ssh-rsa AAAAB3NzaC1yc2EAAAA=",                                 /* incomplete */
    "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAAAgQ",                       /* partial quantum */
};

static void fingerprints_of_every_key_type(void **state) {
    (void)state;
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        char fp[CRYPTO_FP_LEN];
        assert_int_equal(crypto_ssh_fingerprint(good[i].key, fp), 0);
        assert_string_equal(fp, good[i].fp);
    }
}

static void invalid_keys_are_rejected(void **state) {
    (void)state;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char fp[CRYPTO_FP_LEN];
        if (crypto_ssh_fingerprint(bad[i], fp) != -1) fail_msg("accepted: %s", bad[i]);
    }
}

static const char CERT[] =
    "-----BEGIN CERTIFICATE-----\n"
    "MIIB+jCCAWOgAwIBAgIUeCYCyH3Y8z0jJlqQ7PH5xXnkrgwwDQYJKoZIhvcNAQEL\n"
    "BQAwDzENMAsGA1UEAwwEdGVzdDAeFw0yNjExMjUxNzE1NDZaFw0zNjExMjIxNzE1\n"
    "NDZaMA8xDTALBgNVBAMMBHRlc3QwgZ8wDQYJKoZIhvcNAQEBBQADgY0AMIGJAoGB\n"
    "ALU889SeUtGkA9l/2Lh5Dh30O9qDzW6e2cXhIOlxlSt5XZzWRMDFk/DtdP/1SJFq\n"
    "a5LjdLQOeM3RAI749zmy7qI60sA1QXznwvt1/WPsim/+GfjLh9TatkSg+jiWY+W5\n"
    "tRcQvKZE8aGppz6YBiw2dz8iWwZMSSczwEJVpHtld3fvAgMBAAGjUzBRMB0GA1Ud\n"
    "DgQWBBSUqF/G1/z6WJyu0d807SQdVQh30TAfBgNVHSMEGDAWgBSUqF/G1/z6WJyu\n"
    "0d807SQdVQh30TAPBgNVHRMBAf8EBTADAQH/MA0GCSqGSIb3DQEBCwUAA4GBAJvS\n"
    "HSra9St1XMCqQUGpY6yr28WGgVle23MpihDZKnnVT3E7+MkGQSHG3IBrep4ZZ4Hg\n"
    "YD8ovM9WZPI4xHGrF5HXfO76chtLKAxUnsOBERVj7BzxMzDtA0MCpFHDkvXjXJ1t\n"
    "ewpy2kMaqXHkjVdmfVPCZ1Z/J0Lqn87KoWdO/Jcq\n"
    "-----END CERTIFICATE-----\n";

static void x509_fingerprint(void **state) {
    (void)state;
    char fp[CRYPTO_FP_LEN], err[256];
    assert_int_equal(crypto_x509_fingerprint(CERT, fp, err, sizeof err), 0);
    assert_string_equal(fp, "5e:25:af:95:46:7e:04:6e:4a:5e:ed:12:6a:b4:cd:e1:fd:8e:d1:44");
    assert_int_equal(crypto_x509_fingerprint("garbage", fp, err, sizeof err), -1);
    assert_non_null(strstr(err, "MalformedFraming"));
    assert_int_equal(crypto_x509_fingerprint("-----BEGIN CERTIFICATE-----\nAAAA\n"
                                             "-----END CERTIFICATE-----\n",
                                             fp, err, sizeof err),
                     -1);
    assert_non_null(strstr(err, "asn1"));
}

static void generated_ssh_key(void **state) {
    (void)state;
    char *priv, *pub, fp[CRYPTO_FP_LEN], fp2[CRYPTO_FP_LEN];
    assert_int_equal(crypto_ssh_generate(&priv, &pub, fp), 0);
    assert_true(!strncmp(priv, "-----BEGIN RSA PRIVATE KEY-----\n", 32));
    assert_non_null(strstr(priv, "-----END RSA PRIVATE KEY-----\n"));
    assert_true(!strncmp(pub, "ssh-rsa AAAAB3NzaC1yc2E", 23));
    assert_non_null(strstr(pub, " Generated-by-Nova"));
    assert_int_equal(crypto_ssh_fingerprint(pub, fp2), 0);
    assert_string_equal(fp, fp2);
    assert_int_equal(strlen(fp), 47);
    free(priv);
    free(pub);
}

static void generated_x509_key(void **state) {
    (void)state;
    char *priv, *cert, fp[CRYPTO_FP_LEN], fp2[CRYPTO_FP_LEN], err[256];
    assert_int_equal(crypto_x509_generate("alice", &priv, &cert, fp), 0);
    assert_true(!strncmp(cert, "-----BEGIN CERTIFICATE-----\n", 28));
    assert_int_equal(crypto_x509_fingerprint(cert, fp2, err, sizeof err), 0);
    assert_string_equal(fp, fp2);
    assert_int_equal(strlen(fp), 59);
    assert_true(strlen(priv) > 100 && !strchr(priv, '\n'));
    free(priv);
    free(cert);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(fingerprints_of_every_key_type),
        cmocka_unit_test(invalid_keys_are_rejected),
        cmocka_unit_test(x509_fingerprint),
        cmocka_unit_test(generated_ssh_key),
        cmocka_unit_test(generated_x509_key),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
