/* cnova-metadata-proxy — what a guest reaches at http://169.254.169.254/,
 * as Neutron's metadata proxy: one per network, run inside the network's
 * qdhcp namespace (where the guests' DHCP route for 169.254.169.254
 * leads). It tells guests apart by their fixed address on this network (the
 * ports file the compute host keeps: "IP INSTANCE_UUID PROJECT_ID" lines),
 * adds X-Instance-ID, X-Tenant-ID and X-Instance-ID-Signature (HMAC-SHA256
 * of the instance id with [neutron] metadata_proxy_shared_secret), drops any
 * such header the guest wrote itself, and relays the request to the
 * metadata service over its unix socket: the namespace has no route to the
 * host's loopback, but the file system is shared.
 *
 *   cnova-metadata-proxy --config FILE --ports FILE --upstream SOCKET
 *                        [--listen 169.254.169.254] [--port 80] [--pid-file FILE]
 *
 * With --pid-file it runs as a daemon once it listens (the parent exits 0
 * then, or non-zero when it could not listen), as dnsmasq does.
 * Each connection is served by a child of its own, bounded in size and
 * time, so a slow guest holds up no other. */
#define _GNU_SOURCE /* strcasestr */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "cnova.h"
#include "metadata.h"

#define HEAD_MAX 16384
#define BODY_MAX 16384
#define IO_TIMEOUT_MS 10000

/* Reads into buf until `n` bytes or the end of the head ("\r\n\r\n"); the
 * number of bytes read, or -1 on a timeout or error. */
static ssize_t read_some(int fd, char *buf, size_t n, bool head_only) {
    size_t got = 0;
    while (got < n) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, IO_TIMEOUT_MS) <= 0) return -1;
        ssize_t k = read(fd, buf + got, n - got);
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0) break;
        got += (size_t)k;
        if (head_only) {
            buf[got] = 0;
            if (strstr(buf, "\r\n\r\n")) break;
        }
    }
    return (ssize_t)got;
}

static int write_all(int fd, const char *s, size_t n) {
    while (n) {
        ssize_t k = write(fd, s, n);
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0) return -1;
        s += k;
        n -= (size_t)k;
    }
    return 0;
}

static void plain(int fd, int status, const char *reason, const char *text) {
    char buf[512];
    int n = snprintf(buf, sizeof buf,
                     "HTTP/1.1 %d %s\r\nContent-Type: text/plain; charset=UTF-8\r\n"
                     "Content-Length: %zu\r\nConnection: close\r\n\r\n%s",
                     status, reason, strlen(text), text);
    write_all(fd, buf, (size_t)n);
}

/* The instance and project of the guest at `ip`, from the ports file. */
static int guest_of(const char *ports, const char *ip, char *uuid, char *project) {
    FILE *f = fopen(ports, "r");
    if (!f) return -1;
    char line[512], a[64], u[64], p[256];
    int found = -1;
    while (found && fgets(line, sizeof line, f))
        if (sscanf(line, "%63s %63s %255s", a, u, p) == 3 && !strcmp(a, ip)) {
            snprintf(uuid, 64, "%s", u);
            snprintf(project, 256, "%s", p);
            found = 0;
        }
    fclose(f);
    return found;
}

/* Guests must not speak for others: these headers are the proxy's own. */
static bool ours(const char *line) {
    static const char *const names[] = {"X-Instance-ID", "X-Tenant-ID", "X-Forwarded-For",
                                        "Connection", NULL};
    for (const char *const *n = names; *n; n++) {
        size_t k = strlen(*n);
        if (!strncasecmp(line, *n, k) && (line[k] == ':' || !strncasecmp(*n, "X-Instance-ID", k)))
            return true;
    }
    return false;
}

static void serve(int fd, const struct sockaddr_in *peer, const char *ports, const char *upstream,
                  const char *secret) {
    char head[HEAD_MAX + 1];
    ssize_t n = read_some(fd, head, HEAD_MAX, true);
    char *end = n > 0 ? strstr(head, "\r\n\r\n") : NULL;
    if (!end) return plain(fd, 400, "Bad Request", "400 Bad Request\n");
    char ip[INET_ADDRSTRLEN], uuid[64], project[256];
    inet_ntop(AF_INET, &peer->sin_addr, ip, sizeof ip);
    if (guest_of(ports, ip, uuid, project))
        return plain(fd, 404, "Not Found", "404 Not Found\n\nThe resource could not be found.\n");
    /* the request line and the guest's headers, minus ours */
    struct sbuf req = {0};
    char *line = head, *body = end + 4;
    *end = 0;
    for (char *nl; line && *line; line = nl) {
        nl = strstr(line, "\r\n");
        if (nl) *nl = 0, nl += 2;
        if (line != head && ours(line)) continue;
        sbuf_addf(&req, "%s\r\n", line);
    }
    char sig[65];
    metadata_sign(secret, uuid, sig);
    sbuf_addf(&req,
              "X-Forwarded-For: %s\r\nX-Instance-ID: %s\r\nX-Tenant-ID: %s\r\n"
              "X-Instance-ID-Signature: %s\r\nConnection: close\r\n\r\n",
              ip, uuid, project, sig);
    /* the body the guest sent (Content-Length, at most BODY_MAX) */
    size_t have = (size_t)n - (size_t)(body - head), want = have;
    const char *cl = strcasestr(head, "\r\nContent-Length:");
    if (cl) want = strtoul(cl + 17, NULL, 10);
    if (want > BODY_MAX) {
        sbuf_free(&req);
        return plain(fd, 413, "Request Entity Too Large", "413 Request Entity Too Large\n");
    }
    sbuf_add(&req, body, have < want ? have : want);
    if (want > have) {
        char rest[BODY_MAX];
        ssize_t k = read_some(fd, rest, want - have, false);
        if (k > 0) sbuf_add(&req, rest, (size_t)k);
    }
    int up = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    snprintf(sa.sun_path, sizeof sa.sun_path, "%s", upstream);
    if (up < 0 || connect(up, (struct sockaddr *)&sa, sizeof sa) || write_all(up, req.s, req.len)) {
        plain(fd, 503, "Service Unavailable", "503 Service Unavailable\n");
    } else {
        char buf[16384];
        ssize_t k;
        while ((k = read_some(up, buf, sizeof buf, false)) > 0)
            if (write_all(fd, buf, (size_t)k)) break;
    }
    if (up >= 0) close(up);
    sbuf_free(&req);
}

int main(int argc, char **argv) {
    const char *conf = NULL, *ports = NULL, *upstream = NULL, *listen_ip = "169.254.169.254";
    const char *pid_file = NULL;
    int port = 80;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--config"))
            conf = argv[i + 1];
        else if (!strcmp(argv[i], "--ports"))
            ports = argv[i + 1];
        else if (!strcmp(argv[i], "--upstream"))
            upstream = argv[i + 1];
        else if (!strcmp(argv[i], "--listen"))
            listen_ip = argv[i + 1];
        else if (!strcmp(argv[i], "--port"))
            port = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--pid-file"))
            pid_file = argv[i + 1];
    }
    if (!conf || !ports || !upstream || config_load(conf)) {
        fprintf(stderr,
                "usage: %s --config FILE --ports FILE --upstream SOCKET [--listen IP] "
                "[--port N] [--pid-file FILE]\n",
                argv[0]);
        return 2;
    }
    log_init("cnova-metadata-proxy", LOG_INFO);
    const char *secret = config_get("neutron", "metadata_proxy_shared_secret", "");
    int s = socket(AF_INET, SOCK_STREAM, 0), one = 1;
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (inet_pton(AF_INET, listen_ip, &sa.sin_addr) != 1 ||
        bind(s, (struct sockaddr *)&sa, sizeof sa) || listen(s, 64)) {
        log_error("cannot listen on %s:%d: %s", listen_ip, port, strerror(errno));
        return 1;
    }
    if (pid_file) {
        pid_t pid = fork();
        if (pid < 0) return 1;
        if (pid > 0) {
            FILE *f = fopen(pid_file, "w");
            if (!f || fprintf(f, "%d\n", (int)pid) < 0 || fclose(f)) {
                kill(pid, SIGTERM);
                return 1;
            }
            return 0;
        }
        setsid();
    }
    signal(SIGCHLD, SIG_IGN); /* children reaped by the kernel */
    signal(SIGPIPE, SIG_IGN);
    log_info("metadata proxy on %s:%d for the guests of %s", listen_ip, port, ports);
    for (;;) {
        struct sockaddr_in peer;
        socklen_t len = sizeof peer;
        int fd = accept(s, (struct sockaddr *)&peer, &len);
        if (fd < 0) continue;
        pid_t pid = fork();
        if (pid == 0) {
            close(s);
            serve(fd, &peer, ports, upstream, secret);
            close(fd);
            _exit(0);
        }
        close(fd);
    }
}
