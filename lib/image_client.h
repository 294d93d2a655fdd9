/* image_client.h — the workers' client of the image service, as Nova's
 * compute and conductor call Glance: the compute hosts fetch image bytes
 * and upload snapshots, the conductor deletes the images a workflow drops
 * (so that their data goes with them). The service is [glance]
 * api_servers (the first of the list), the token the service user's
 * ([keystone_authtoken], ks_client.h) when a Keystone is configured, else
 * [glance] service_token (noauth2). */
#ifndef CNOVA_IMAGE_CLIENT_H
#define CNOVA_IMAGE_CLIENT_H

#include <stdio.h>

/* One request: METHOD <api_servers>/v2/images/<image_id><suffix>, with
 * the service token; the body `body` (a string, of type ctype) or the
 * file `in` (in_len bytes); the answer's body into `out` when given. */
struct image_call {
    const char *method, *image_id, *suffix, *ctype, *body;
    FILE *in, *out;
    long long in_len;
};
/* Returns 0 on a 2xx answer, else -1 (logged). */
int image_call(const struct image_call *c);

#endif
