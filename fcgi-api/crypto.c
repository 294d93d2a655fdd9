/* crypto.c — key pair material with OpenSSL libcrypto, checked the way Nova
 * checks it: an OpenSSH public key must parse as one of the key types
 * pyca/cryptography loads (rsa, dss, ed25519, ecdsa nistp256/384/521 and
 * their -cert-v01 forms) and its fingerprint is the MD5 of the base64 blob;
 * a certificate's fingerprint is the SHA1 of its DER form. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include "crypto.h"
#include "util.h"

static void hex_colons(const unsigned char *md, unsigned n, char fp[CRYPTO_FP_LEN]) {
    size_t o = 0;
    for (unsigned i = 0; i < n && o + 3 <= CRYPTO_FP_LEN; i++)
        o += (size_t)snprintf(fp + o, CRYPTO_FP_LEN - o, i ? ":%02x" : "%02x", md[i]);
}

static void digest(const EVP_MD *md, const void *data, size_t n, char fp[CRYPTO_FP_LEN]) {
    unsigned char buf[EVP_MAX_MD_SIZE];
    unsigned len = 0;
    EVP_Digest(data, n, buf, &len, md, NULL);
    hex_colons(buf, len, fp);
}

/* ---- base64, decoded as Python's binascii.a2b_base64 (non-strict):
 * characters outside the alphabet are skipped, decoding ends once the
 * padding of a quantum is complete, and a partial quantum is an error. */

static int b64val(unsigned char c) {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
}

/* Decodes s[0..n) into out (room for n bytes); returns the length or -1. */
static long b64_decode(const char *s, size_t n, unsigned char *out) {
    int quad = 0, pads = 0;
    unsigned left = 0;
    long o = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '=') {
            if (quad >= 2 && quad + ++pads >= 4) return o;
            continue;
        }
        int v = b64val(c);
        if (v < 0) continue;
        pads = 0;
        switch (quad) {
        case 0:
            left = (unsigned)v;
            quad = 1;
            break;
        case 1:
            out[o++] = (unsigned char)(left << 2 | (unsigned)v >> 4);
            left = (unsigned)v & 0xf;
            quad = 2;
            break;
        case 2:
            out[o++] = (unsigned char)(left << 4 | (unsigned)v >> 2);
            left = (unsigned)v & 0x3;
            quad = 3;
            break;
        default:
            out[o++] = (unsigned char)(left << 6 | (unsigned)v);
            quad = 0;
            break;
        }
    }
    return quad ? -1 : o;
}

/* ---- the SSH wire format (RFC 4251): u32, u64, string, mpint ---- */

struct rd {
    const unsigned char *p;
    size_t n;
};

static int rd_u32(struct rd *d, uint32_t *v) {
    if (d->n < 4) return -1;
    *v = (uint32_t)d->p[0] << 24 | (uint32_t)d->p[1] << 16 | (uint32_t)d->p[2] << 8 | d->p[3];
    d->p += 4, d->n -= 4;
    return 0;
}

static int rd_skip(struct rd *d, size_t n) {
    if (d->n < n) return -1;
    d->p += n, d->n -= n;
    return 0;
}

static int rd_str(struct rd *d, struct rd *s) {
    uint32_t len;
    if (rd_u32(d, &len) || len > d->n) return -1;
    s->p = d->p, s->n = len;
    return rd_skip(d, len);
}

/* A non-negative mpint (a set top bit is a negative number: invalid). */
static BIGNUM *rd_mpint(struct rd *d) {
    struct rd s;
    if (rd_str(d, &s) || (s.n && s.p[0] > 0x7f)) return NULL;
    return BN_bin2bn(s.p, (int)s.n, NULL);
}

static bool str_is(const struct rd *s, const char *want) {
    return s->n == strlen(want) && !memcmp(s->p, want, s->n);
}

/* RSA public numbers: e, n with 3 <= e < n and e odd. */
static int load_rsa(struct rd *d) {
    BIGNUM *e = rd_mpint(d), *n = e ? rd_mpint(d) : NULL;
    int ok = e && n && BN_num_bits(e) >= 2 && BN_is_odd(e) && BN_cmp(e, n) < 0;
    BN_free(e);
    BN_free(n);
    return ok ? 0 : -1;
}

/* DSA: SSH keys are 1024-bit p; q of 160/224/256 bits; 1 < g < p. */
static int load_dsa(struct rd *d) {
    BIGNUM *v[4] = {0};
    int ok = 1;
    for (int i = 0; i < 4 && ok; i++)
        ok = (v[i] = rd_mpint(d)) != NULL;
    if (ok) {
        int qbits = BN_num_bits(v[1]);
        ok = BN_num_bits(v[0]) == 1024 && (qbits == 160 || qbits == 224 || qbits == 256) &&
             BN_cmp(v[2], BN_value_one()) > 0 && BN_cmp(v[2], v[0]) < 0;
    }
    for (int i = 0; i < 4; i++)
        BN_free(v[i]);
    return ok ? 0 : -1;
}

/* ECDSA: the curve name again, then an uncompressed point on that curve. */
static int load_ecdsa(struct rd *d, const char *curve, int nid) {
    struct rd name, point;
    if (rd_str(d, &name) || rd_str(d, &point) || !str_is(&name, curve) || !point.n ||
        point.p[0] != 4)
        return -1;
    EC_GROUP *g = EC_GROUP_new_by_curve_name(nid);
    EC_POINT *pt = g ? EC_POINT_new(g) : NULL;
    int ok = pt && EC_POINT_oct2point(g, pt, point.p, point.n, NULL) == 1;
    EC_POINT_free(pt);
    EC_GROUP_free(g);
    return ok ? 0 : -1;
}

static int load_ed25519(struct rd *d) {
    struct rd point;
    return rd_str(d, &point) || point.n != 32 ? -1 : 0;
}

static int load_key(struct rd *d, const char *type) {
    if (!strcmp(type, "ssh-rsa")) return load_rsa(d);
    if (!strcmp(type, "ssh-dss")) return load_dsa(d);
    if (!strcmp(type, "ssh-ed25519")) return load_ed25519(d);
    if (!strcmp(type, "ecdsa-sha2-nistp256"))
        return load_ecdsa(d, "nistp256", NID_X9_62_prime256v1);
    if (!strcmp(type, "ecdsa-sha2-nistp384")) return load_ecdsa(d, "nistp384", NID_secp384r1);
    if (!strcmp(type, "ecdsa-sha2-nistp521")) return load_ecdsa(d, "nistp521", NID_secp521r1);
    return -1;
}

/* The fields of an OpenSSH certificate after the key: serial, type, key id,
 * principals, validity, options, extensions, reserved, CA key, signature. */
static int skip_cert_tail(struct rd *d) {
    struct rd s;
    uint32_t u;
    if (rd_skip(d, 8) || rd_u32(d, &u) || rd_str(d, &s) || rd_str(d, &s) || rd_skip(d, 16))
        return -1;
    for (int i = 0; i < 5; i++)
        if (rd_str(d, &s)) return -1;
    return 0;
}

static const char CERT_SUFFIX[] = "-cert-v01@openssh.com";

/* Loads "<type> <base64 blob>..." as pyca/cryptography's
 * load_ssh_public_key does: 0 when it is a well-formed key. */
static int ssh_check(const char *text) {
    const char *ws = " \t\n\r\f\v";
    size_t tlen = strcspn(text, ws);
    const char *sep = text + tlen;
    size_t slen = strspn(sep, " \t");
    const char *body = sep + slen;
    size_t blen = strcspn(body, ws);
    if (!tlen || !slen || !blen || tlen > 64) return -1;
    char type[65];
    memcpy(type, text, tlen);
    type[tlen] = 0;
    bool cert = tlen > sizeof CERT_SUFFIX - 1 &&
                !strcmp(type + tlen - (sizeof CERT_SUFFIX - 1), CERT_SUFFIX);
    unsigned char *blob = malloc(blen + 1);
    long n = b64_decode(body, blen, blob);
    struct rd d = {blob, n > 0 ? (size_t)n : 0}, inner, nonce;
    int rc = -1;
    if (n >= 0 && !rd_str(&d, &inner) && inner.n == tlen && !memcmp(inner.p, type, tlen) &&
        (!cert || !rd_str(&d, &nonce))) {
        if (cert) type[tlen - (sizeof CERT_SUFFIX - 1)] = 0;
        rc = load_key(&d, type);
        if (!rc && cert) rc = skip_cert_tail(&d);
        if (!rc && d.n) rc = -1; /* trailing data */
    }
    free(blob);
    return rc;
}

int crypto_ssh_fingerprint(const char *public_key, char fp[CRYPTO_FP_LEN]) {
    if (ssh_check(public_key)) return -1;
    /* Nova hashes the second field of the key split on single spaces */
    const char *f = strchr(public_key, ' ');
    if (!f) return -1;
    f++;
    size_t flen = strcspn(f, " ");
    unsigned char *blob = malloc(flen + 1);
    long n = b64_decode(f, flen, blob);
    if (n >= 0) digest(EVP_md5(), blob, (size_t)n, fp);
    free(blob);
    return n >= 0 ? 0 : -1;
}

int crypto_x509_fingerprint(const char *pem, char fp[CRYPTO_FP_LEN], char *err, size_t errlen) {
    BIO *b = BIO_new_mem_buf(pem, -1);
    X509 *x = b ? PEM_read_bio_X509(b, NULL, NULL, NULL) : NULL;
    BIO_free(b);
    ERR_clear_error();
    if (!x) {
        if (!strstr(pem, "-----BEGIN ") || !strstr(pem, "-----END "))
            snprintf(err, errlen,
                     "Unable to load PEM file. See https://cryptography.io/en/latest/faq/"
                     "#why-can-t-i-import-my-pem-file for more details. MalformedFraming");
        else
            snprintf(err, errlen, "error parsing asn1 value");
        return -1;
    }
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned len = 0;
    X509_digest(x, EVP_sha1(), md, &len);
    hex_colons(md, len, fp);
    X509_free(x);
    return 0;
}

/* ---- generating ---- */

static void put_u32(struct sbuf *b, uint32_t v) {
    unsigned char c[4] = {(unsigned char)(v >> 24), (unsigned char)(v >> 16),
                          (unsigned char)(v >> 8), (unsigned char)v};
    sbuf_add(b, (const char *)c, 4);
}

static void put_str(struct sbuf *b, const void *s, size_t n) {
    put_u32(b, (uint32_t)n);
    sbuf_add(b, s, n);
}

static void put_mpint(struct sbuf *b, const BIGNUM *bn) {
    int n = BN_num_bytes(bn);
    unsigned char *buf = calloc(1, (size_t)n + 1);
    BN_bn2bin(bn, buf + 1);
    bool pad = n && (buf[1] & 0x80);
    put_str(b, pad ? buf : buf + 1, (size_t)n + pad);
    free(buf);
}

static char *b64_encode(const void *data, size_t n) {
    char *out = malloc(4 * ((n + 2) / 3) + 1);
    EVP_EncodeBlock((unsigned char *)out, data, (int)n);
    return out;
}

/* The contents of a memory BIO as a NUL-terminated string. */
static char *bio_string(BIO *b) {
    char *data;
    long n = BIO_get_mem_data(b, &data);
    char *s = malloc((size_t)n + 1);
    memcpy(s, data, (size_t)n);
    s[n] = 0;
    return s;
}

int crypto_ssh_generate(char **private_pem, char **public_key, char fp[CRYPTO_FP_LEN]) {
    *private_pem = *public_key = NULL;
    EVP_PKEY *pk = EVP_RSA_gen(2048);
    BIGNUM *n = NULL, *e = NULL;
    BIO *b = BIO_new(BIO_s_mem());
    int rc = -1;
    if (pk && b && EVP_PKEY_get_bn_param(pk, OSSL_PKEY_PARAM_RSA_N, &n) &&
        EVP_PKEY_get_bn_param(pk, OSSL_PKEY_PARAM_RSA_E, &e) &&
        PEM_write_bio_PrivateKey_traditional(b, pk, NULL, NULL, 0, NULL, NULL)) {
        struct sbuf blob = {0}, line = {0};
        put_str(&blob, "ssh-rsa", 7);
        put_mpint(&blob, e);
        put_mpint(&blob, n);
        char *b64 = b64_encode(blob.s, blob.len);
        sbuf_addf(&line, "ssh-rsa %s Generated-by-Nova", b64);
        digest(EVP_md5(), blob.s, blob.len, fp);
        free(b64);
        sbuf_free(&blob);
        *public_key = line.s;
        *private_pem = bio_string(b);
        rc = 0;
    }
    BN_free(n);
    BN_free(e);
    BIO_free(b);
    EVP_PKEY_free(pk);
    return rc;
}

static int add_ext(X509 *x, int nid, const char *value) {
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, x, x, NULL, NULL, 0);
    X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
    int ok = ext && X509_add_ext(x, ext, -1);
    X509_EXTENSION_free(ext);
    return ok;
}

static X509 *self_signed(EVP_PKEY *pk, const char *user_id) {
    X509 *x = X509_new();
    unsigned char serial[8];
    char upn[600];
    snprintf(upn, sizeof upn, "otherName:1.3.6.1.4.1.311.20.2.3;UTF8:%s@localhost", user_id);
    BIGNUM *bn = RAND_bytes(serial, sizeof serial) == 1 ? BN_bin2bn(serial, 8, NULL) : NULL;
    X509_NAME *name = X509_get_subject_name(x);
    int ok = bn && X509_set_version(x, 2) && BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) &&
             X509_gmtime_adj(X509_getm_notBefore(x), 0) &&
             X509_gmtime_adj(X509_getm_notAfter(x), 3650L * 86400) && X509_set_pubkey(x, pk) &&
             X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, (const unsigned char *)user_id,
                                        -1, -1, 0) &&
             X509_set_issuer_name(x, name) && add_ext(x, NID_ext_key_usage, "clientAuth") &&
             add_ext(x, NID_subject_alt_name, upn) && X509_sign(x, pk, EVP_sha256());
    BN_free(bn);
    if (!ok) {
        X509_free(x);
        return NULL;
    }
    return x;
}

int crypto_x509_generate(const char *user_id, char **private_b64, char **cert_pem,
                         char fp[CRYPTO_FP_LEN]) {
    *private_b64 = *cert_pem = NULL;
    EVP_PKEY *pk = EVP_RSA_gen(2048);
    X509 *x = pk ? self_signed(pk, user_id) : NULL;
    PKCS12 *p12 = x ? PKCS12_create("", NULL, pk, x, NULL, 0, 0, 0, 0, 0) : NULL;
    BIO *b = BIO_new(BIO_s_mem());
    unsigned char *der = NULL;
    int len = p12 ? i2d_PKCS12(p12, &der) : -1;
    int rc = -1;
    if (len > 0 && b && PEM_write_bio_X509(b, x)) {
        unsigned char md[EVP_MAX_MD_SIZE];
        unsigned mdlen = 0;
        X509_digest(x, EVP_sha1(), md, &mdlen);
        hex_colons(md, mdlen, fp);
        *private_b64 = b64_encode(der, (size_t)len);
        *cert_pem = bio_string(b);
        rc = 0;
    }
    OPENSSL_free(der);
    BIO_free(b);
    PKCS12_free(p12);
    X509_free(x);
    EVP_PKEY_free(pk);
    ERR_clear_error();
    return rc;
}
