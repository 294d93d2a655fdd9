/* crypto.h — key pair material as Nova makes and checks it (OpenSSL
 * libcrypto): OpenSSH public keys and their MD5 fingerprints, X.509
 * certificates and their SHA1 fingerprints, and generated key pairs. */
#ifndef CNOVA_CRYPTO_H
#define CNOVA_CRYPTO_H

#include <stddef.h>

/* "aa:bb:...": 16 bytes (MD5) = 47 chars, 20 bytes (SHA1) = 59 chars. */
#define CRYPTO_FP_LEN 60

/* Checks an OpenSSH one-line public key ("ssh-rsa AAAA... comment") as
 * Nova's loader does (type, blob, key material) and writes the MD5
 * fingerprint of the decoded blob. 0, or -1 when the key is invalid. */
int crypto_ssh_fingerprint(const char *public_key, char fp[CRYPTO_FP_LEN]);

/* Reads a PEM certificate and writes the SHA1 fingerprint of its DER form.
 * 0, or -1 with the reason in err. */
int crypto_x509_fingerprint(const char *pem, char fp[CRYPTO_FP_LEN], char *err, size_t errlen);

/* A new RSA 2048 key pair: *private_pem ("-----BEGIN RSA PRIVATE KEY-----"),
 * *public_key ("ssh-rsa AAAA... Generated-by-Nova") and its fingerprint.
 * The caller frees both strings. 0 or -1. */
int crypto_ssh_generate(char **private_pem, char **public_key, char fp[CRYPTO_FP_LEN]);

/* A new self-signed client certificate for user_id (CN=user_id, UPN
 * user_id@localhost, 10 years), as Nova's x509 key pairs: *private_b64 is the
 * base64 of a PKCS#12 bundle with an empty password, *cert_pem the
 * certificate. The caller frees both strings. 0 or -1. */
int crypto_x509_generate(const char *user_id, char **private_b64, char **cert_pem,
                         char fp[CRYPTO_FP_LEN]);

#endif
